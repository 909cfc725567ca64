/*
 * arpha: the command-line tool. Talks to arphad over its unix socket
 * (tables for people, -j JSON for scripts); `arpha vendor` works offline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool valid(int argc, char **argv)
{
	if (argc < 1)
		return false;
	if (strcmp(argv[0], "arp") == 0)
		return argc >= 2 && argc <= 3 &&
		       (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "flush") == 0);
	if (strcmp(argv[0], "announce") == 0)
		return argc == 2;
	if (strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "vip") == 0 ||
	    strcmp(argv[0], "conns") == 0)
		return argc == 1;
	if (strcmp(argv[0], "cluster") == 0)
		return argc == 1 || (argc == 4 && strcmp(argv[1], "test-traffic") == 0);
	return false;
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
	if (argc >= 1 && strcmp(argv[0], "vendor") == 0)
		return vendor_main(argc, argv, json);
	if (argc >= 1 && strcmp(argv[0], "flush-request") == 0)
		return flushreq_cli(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "keygen") == 0) {
		if (argc > 2) {
			usage(stderr);
			return 2;
		}
		return keyfile_generate(argc == 2 ? argv[1] : NULL);
	}
	if (!valid(argc, argv)) {
		if (argc >= 1)
			fprintf(stderr, "arpha: unknown command \"%s%s%s\"\n", argv[0],
				argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		usage(stderr);
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
	if (req.oom || control_call(sock, req.s, &ans) < 0) {
		int e = errno;
		fprintf(stderr, "arpha: cannot reach arphad at %s: %s%s\n", sock, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is arphad running?)" : "");
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
