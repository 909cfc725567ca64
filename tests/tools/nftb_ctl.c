/*
 * nftb_ctl: os/nft_buckets alone, for tests/netns/test_nftb.py. Run as root
 * in a firewall's network namespace:
 *
 *     nftb_ctl [-n BUCKETS] [-s SEED] -o OWNER -i IFACE [-i IFACE...]
 *
 * Installs the tables (nftb_open) and prints "ready", or "err MESSAGE" and
 * exits 1. Then holds the owner socket and reads commands on stdin, one a
 * line, answering each with one line ("ok CMD us=MICROSECONDS ..." or "err
 * MESSAGE"); the time is that of the nftb_* call alone:
 *
 *     map O0 O1 ... O(BUCKETS-1)        nftb_set_map: bucket b -> owner Ob
 *     take DEAD B1 B2 ...               nftb_take
 *     update DEAD K B1..BK O0..O(BUCKETS-1)   nftb_update: both in one
 *     forget DEAD                       nftb_forget
 *     stats                             nftb_counters: "ok stats owned=N ..."
 *     quit                              nftb_close, exit 0
 *
 * End of input: as quit. SIGKILL: the kernel removes the tables with the
 * socket. Numbers in C notation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/nft_buckets.h"
#include "os/util.h"

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: nftb_ctl [-n BUCKETS] [-s SEED] -o OWNER -i IFACE [-i IFACE...]\n");
	exit(2);
}

static int num(char **s, unsigned long *v)
{
	char *end;
	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (!**s || **s == '\n')
		return -1;
	*v = strtoul(*s, &end, 0);
	if (end == *s)
		return -1;
	*s = end;
	return 0;
}

static int owners(char **s, uint16_t *map, uint32_t buckets)
{
	unsigned long v;
	for (uint32_t i = 0; i < buckets; i++) {
		if (num(s, &v) < 0 || v > 0xffff)
			return -1;
		map[i] = (uint16_t)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nftb_params p = {.balance = {.buckets = 1024, .seed = 0x5eed}};
	const char *ifaces[NFTB_MAX_IFACES];
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(argv[i - 1], "-n"))
			p.balance.buckets = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i - 1], "-s"))
			p.balance.seed = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i - 1], "-o"))
			p.owner = (uint16_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i - 1], "-i") && p.n_ifaces < NFTB_MAX_IFACES)
			ifaces[p.n_ifaces++] = v;
		else
			usage();
	}
	p.ifaces = ifaces;
	char err[512];
	struct nftb *t = nftb_open(&p, err, sizeof(err));
	if (!t) {
		printf("err %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	uint32_t nb = p.balance.buckets;
	uint16_t *map = calloc(nb, sizeof(*map));
	uint32_t *adds = calloc(nb, sizeof(*adds));
	size_t cap = 16 * (size_t)nb + 256;
	char *line = malloc(cap);
	if (!map || !adds || !line) {
		printf("err out of memory\n");
		return 1;
	}
	while (fgets(line, (int)cap, stdin)) {
		char *s = line;
		char cmd[16];
		int used = 0;
		if (sscanf(s, "%15s%n", cmd, &used) != 1)
			continue;
		s += used;
		unsigned long dead = 0, k = 0, v = 0;
		int r = -1, bad = 0;
		uint64_t t0 = 0, t1 = 0;
		snprintf(err, sizeof(err), "bad command");
		if (!strcmp(cmd, "quit")) {
			nftb_close(t);
			t = NULL;
			printf("ok quit\n");
			break;
		} else if (!strcmp(cmd, "map")) {
			if (!(bad = owners(&s, map, nb) < 0)) {
				t0 = now_us();
				r = nftb_set_map(t, map, nb, err, sizeof(err));
				t1 = now_us();
			}
		} else if (!strcmp(cmd, "take") || !strcmp(cmd, "update")) {
			int upd = !strcmp(cmd, "update");
			bad = num(&s, &dead) < 0 || dead > 0xffff;
			if (!bad && upd) {
				bad = num(&s, &k) < 0 || k > nb;
				for (size_t i = 0; !bad && i < k; i++) {
					bad = num(&s, &v) < 0 || v >= nb;
					adds[i] = (uint32_t)v;
				}
				if (!bad)
					bad = owners(&s, map, nb) < 0;
			} else if (!bad) {
				for (k = 0; !bad && num(&s, &v) == 0; k++) {
					bad = k >= nb || v >= nb;
					if (!bad)
						adds[k] = (uint32_t)v;
				}
			}
			if (!bad) {
				t0 = now_us();
				r = upd ? nftb_update(t, map, nb, (uint16_t)dead, adds, k, err,
						      sizeof(err))
					: nftb_take(t, (uint16_t)dead, adds, k, err, sizeof(err));
				t1 = now_us();
			}
		} else if (!strcmp(cmd, "forget")) {
			if (!(bad = num(&s, &dead) < 0 || dead > 0xffff)) {
				t0 = now_us();
				r = nftb_forget(t, (uint16_t)dead, err, sizeof(err));
				t1 = now_us();
			}
		} else if (!strcmp(cmd, "stats")) {
			struct nftb_stats st;
			if ((r = nftb_counters(t, &st, err, sizeof(err))) == 0) {
				printf("ok stats owned=%" PRIu64 " taken=%" PRIu64 " other=%" PRIu64
				       " undecided=%" PRIu64 " shadowed=%" PRIu64
				       " shadow_dropped=%" PRIu64 " local=%" PRIu64
				       " invalid=%" PRIu64 " icmp_other=%" PRIu64 "\n",
				       st.owned, st.taken, st.other, st.undecided, st.shadowed,
				       st.shadow_dropped, st.local, st.invalid, st.icmp_other);
				fflush(stdout);
				continue;
			}
		}
		if (r == 0)
			printf("ok %s us=%" PRIu64 "\n", cmd, t1 - t0);
		else
			printf("err %s: %s\n", cmd, err);
		fflush(stdout);
	}
	nftb_close(t); /* end of input: as quit */
	free(map);
	free(adds);
	free(line);
	return 0;
}
