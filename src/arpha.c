/*
 * arpha: the command-line tool. Talks to arphad over its unix socket
 * (tables for people, -j JSON for scripts); `arpha vendor` works offline.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arpha_build.h"
#include "core/config.h"
#include "daemon/ctl_cmds.h"
#include "os/control.h"
#include "os/flushreq.h"
#include "os/keyfile.h"
#include "os/util.h"
#include "os/vendor.h"

/* The commands that need no arphad (arpha runs them itself). */
static const struct {
	const char *usage, *help;
} offline[] = {
    {"vendor MAC", "the vendor registered for MAC (offline, from ieee-data)"},
    {"keygen [FILE]", "a new cluster key, to FILE or standard output (mode 0600)"},
    {"flush-request [-k KEY] [-p PORT] [-n N] [-i MS] [-a ADDR]... HOST...",
     "ask arpha-flushd on HOSTs to flush their ARP cache"},
};

/* One command of the usage: its help after it, or under it when it is long. */
static void usage_line(FILE *f, const char *usage, const char *help)
{
	if (strlen(usage) > 17) /* two spaces at least between usage and help */
		fprintf(f, "  %s\n  %-18s %s\n", usage, "", help);
	else
		fprintf(f, "  %-18s %s\n", usage, help);
}

static void usage(FILE *f)
{
	char u[128];
	fprintf(f, "usage: arpha [-j] [-s SOCKET] COMMAND\n");
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++)
		if (c->help)
			usage_line(f, ctl_usage(c, u, sizeof(u)), c->help);
	for (size_t i = 0; i < sizeof(offline) / sizeof(offline[0]); i++)
		usage_line(f, offline[i].usage, offline[i].help);
	fprintf(f,
		"options:\n"
		"  -j             JSON output for scripts\n"
		"  -s SOCKET      arphad's control socket (default %s)\n"
		"  -V, --version  print the version\n"
		"  -h, --help     print this help\n",
		CONF_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	const char *sock = CONF_DEFAULT_SOCKET;
	bool json = false;
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	int c;
	/* '+': the options end at the command (neighbors -names is the command's) */
	while ((c = getopt_long(argc, argv, "+js:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("arpha %s\n", ARPHA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	signal(SIGPIPE, SIG_IGN); /* a daemon that hangs up is an error, not a silent exit */
	if (argc >= 1 && strcmp(argv[0], "vendor") == 0)
		return vendor_main(argc, argv, json);
	if (argc >= 1 && strcmp(argv[0], "flush-request") == 0)
		return flushreq_cli(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "keygen") == 0) {
		struct stat st;
		if (argc > 2) {
			fprintf(stderr, "arpha: too many arguments to keygen (expected: keygen "
					"[FILE])\n");
			return 2;
		}
		if (argc == 2 && stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
			fprintf(stderr,
				"arpha: keygen: %s is a directory; name a new file for the "
				"key\n",
				argv[1]);
			return 1;
		}
		return keyfile_generate(argc == 2 ? argv[1] : NULL);
	}
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	char why[256];
	struct ctl_req rq;
	if (ctl_check(argc, argv, &rq, why, sizeof(why)) != CTL_OK) {
		fprintf(stderr, "arpha: %s\n(arpha -h lists the commands)\n", why);
		return 2;
	}

	struct sbuf req;
	sbuf_init(&req);
	sbuf_printf(&req, "%s", json ? "j" : "t");
	for (int i = 0; i < argc; i++) {
		if (strpbrk(argv[i], " \t\n")) {
			fprintf(stderr, "arpha: \"%s\": names have no spaces\n", argv[i]);
			sbuf_free(&req);
			return 2;
		}
		sbuf_printf(&req, " %s", argv[i]);
	}
	sbuf_printf(&req, "\n");
	struct sbuf ans;
	sbuf_init(&ans);
	/*
	 * arphad, busy, may answer "try again" and close before it reads the
	 * request: the reset that follows is no failure to reach it
	 */
	if (req.oom || (control_call(sock, req.s, &ans) < 0 && !(errno == ECONNRESET && ans.len))) {
		int e = errno;
		fprintf(stderr, "arpha: cannot reach arphad at %s: %s%s\n", sock, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is arphad running?)"
			: e == ECONNRESET || e == EPIPE	 ? " (arphad busy? try again)"
							 : "");
		sbuf_free(&req);
		sbuf_free(&ans);
		return 1;
	}
	sbuf_free(&req);
	int rc = 0;
	if (ans.len >= 3 && strncmp(ans.s, "ok\n", 3) == 0) {
		fwrite(ans.s + 3, 1, ans.len - 3, stdout);
	} else if (ans.len > 7 && strncmp(ans.s, "error: ", 7) == 0) {
		fprintf(stderr, "arpha: %s", ans.s + 7);
		rc = 1;
	} else {
		fprintf(stderr, "arpha: arphad gave no answer\n");
		rc = 1;
	}
	sbuf_free(&ans);
	return rc;
}
