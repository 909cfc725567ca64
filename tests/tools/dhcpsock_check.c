/*
 * dhcpsock_check: os/dhcpsock on the real kernel, alone (the C side of
 * tests/netns/test_dhcpsock.py). Run as root in a network namespace:
 *
 *     dhcpsock_check IFACE [SECONDS [HOLD]]     (default 5 and 0)
 *
 * Opens the socket on IFACE, prints "ready", then one line per frame it
 * hands over, for SECONDS (the first HOLD of them it reads nothing, so
 * that frames queue up and come in full batches):
 *     frame LEN VERDICT [v4|v6 MSGTYPE SRCMAC]
 * VERDICT is dhcp_reason_name of dhcpsnoop_parse ("ok", "truncated", ...).
 * After each read that handed frames over: "batch N".
 * Last: "done FRAMES drops DROPS". Exit 1 when the socket cannot be opened
 * or read (the reason on stderr).
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dhcpsnoop.h"
#include "os/dhcpsock.h"

static void frame(void *arg, const uint8_t *buf, size_t len)
{
	size_t *n = arg;
	struct dhcp_info info;
	enum dhcp_reason r = dhcpsnoop_parse(buf, len, &info);
	(*n)++;
	if (r != DR_OK) {
		printf("frame %zu %s\n", len, dhcp_reason_name(r));
		return;
	}
	const uint8_t *m = info.eth_src.a;
	printf("frame %zu ok v%u %u %02x:%02x:%02x:%02x:%02x:%02x\n", len, info.family,
	       info.msg_type, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: dhcpsock_check IFACE [SECONDS [HOLD]]\n");
		return 2;
	}
	unsigned ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "dhcpsock_check: interface %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	double secs = argc >= 3 ? atof(argv[2]) : 5.0;
	double hold = argc >= 4 ? atof(argv[3]) : 0.0;
	char err[256];
	struct dhcpsock *s = dhcpsock_open(ifindex, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "dhcpsock_check: %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	size_t n = 0;
	int rc = 0;
	double end = now_s() + secs;
	struct timespec ts = {.tv_sec = (time_t)hold,
			      .tv_nsec = (long)((hold - (double)(time_t)hold) * 1e9)};
	if (hold > 0)
		nanosleep(&ts, NULL);
	for (double left; (left = end - now_s()) > 0;) {
		struct pollfd p[DHCPSOCK_FDS] = {{.fd = dhcpsock_fd(s, 0), .events = POLLIN},
						  {.fd = dhcpsock_fd(s, 1), .events = POLLIN}};
		int k = poll(p, DHCPSOCK_FDS, (int)(left * 1000) + 1);
		if (k < 0 && errno != EINTR) {
			fprintf(stderr, "dhcpsock_check: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		int got = k > 0 ? dhcpsock_read(s, DHCPSOCK_BATCH, frame, &n) : 0;
		if (got < 0) {
			fprintf(stderr, "dhcpsock_check: read: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (got > 0)
			printf("batch %d\n", got);
		fflush(stdout);
	}
	printf("done %zu drops %llu\n", n, (unsigned long long)dhcpsock_drops(s));
	dhcpsock_close(s);
	return rc;
}
