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
#include "os/control.h"
#include "os/flushreq.h"
#include "os/keyfile.h"
#include "os/util.h"
#include "os/vendor.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: arpha [-j] [-s SOCKET] COMMAND\n"
	    "  arp show [IFACE]   the ARP cache (type, address, MAC, seconds to expiry)\n"
	    "  arp flush [IFACE]  remove dynamic entries (all interfaces without IFACE)\n"
	    "  announce IFACE     send gratuitous ARP for IFACE's addresses and published entries\n"
	    "  stats              counters by interface and reason\n"
	    "  cluster            the cluster's members and counters\n"
	    "  vip                each VIP: address, state, owner, priority, last change\n"
	    "  conns              connection sync: entries held locally and from each peer\n"
	    "  vendor MAC         the vendor registered for MAC (offline, from ieee-data)\n"
	    "  keygen [FILE]      a new cluster key, to FILE or standard output (mode 0600)\n"
	    "  flush-request [-k KEY] [-p PORT] [-n N] [-i MS] [-a ADDR]... HOST...\n"
	    "                     ask arpha-flushd on HOSTs to flush their ARP cache\n"
	    "options:\n"
	    "  -j         JSON output for scripts\n"
	    "  -s SOCKET  arphad's control socket (default %s)\n"
	    "  -V         print the version\n",
	    CONF_DEFAULT_SOCKET);
}

/* A whole number in lo..hi, and nothing else. */
static bool number_in(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	return !*end && !errno && v >= lo && v <= hi;
}

/*
 * NULL when argv is a command arphad serves; else what is wrong with it,
 * in msg (a usage error).
 */
static const char *check_command(int argc, char **argv, char *msg, size_t len)
{
	const char *cmd = argv[0];
	if (strcmp(cmd, "arp") == 0) {
		if (argc < 2)
			return "arp needs a verb: arp show [IFACE] or arp flush [IFACE]";
		if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "flush") != 0) {
			snprintf(msg, len, "arp: unknown verb \"%s\" (expected show or flush)",
				 argv[1]);
			return msg;
		}
		if (argc > 3) {
			snprintf(msg, len,
				 "too many arguments to arp %s (expected: arp %s [IFACE])", argv[1],
				 argv[1]);
			return msg;
		}
		return NULL;
	}
	if (strcmp(cmd, "announce") == 0) {
		if (argc < 2)
			return "announce needs an interface: announce IFACE";
		return argc > 2 ? "too many arguments to announce (expected: announce IFACE)"
				: NULL;
	}
	if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "vip") == 0 || strcmp(cmd, "conns") == 0) {
		if (argc == 1)
			return NULL;
		snprintf(msg, len, "too many arguments to %s (it takes none)", cmd);
		return msg;
	}
	if (strcmp(cmd, "cluster") == 0) {
		if (argc == 1)
			return NULL;
		if (strcmp(argv[1], "test-traffic") != 0) {
			snprintf(msg, len,
				 "cluster: unknown verb \"%s\" (expected: cluster, or cluster "
				 "test-traffic PERIOD_MS COUNT)",
				 argv[1]);
			return msg;
		}
		if (argc != 4)
			return "cluster test-traffic needs PERIOD_MS and COUNT";
		if (!number_in(argv[2], 1, 60000) || !number_in(argv[3], 1, 10000000))
			return "cluster test-traffic PERIOD_MS COUNT: expected PERIOD_MS 1..60000 "
			       "and "
			       "COUNT 1..10000000";
		return NULL;
	}
	snprintf(msg, len, "unknown command \"%s\"", cmd);
	return msg;
}

int main(int argc, char **argv)
{
	const char *sock = CONF_DEFAULT_SOCKET;
	bool json = false;
	int c;
	while ((c = getopt(argc, argv, "+js:Vh")) != -1) {
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
	char why[160];
	const char *bad = check_command(argc, argv, why, sizeof(why));
	if (bad) {
		fprintf(stderr, "arpha: %s\n(arpha -h lists the commands)\n", bad);
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
