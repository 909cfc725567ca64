/*
 * bench/arp_engine: how fast the ARP engine is, measured, not asserted.
 *
 *  1. frames per second through parse + policy + cache on a realistic mix
 *     of the frames a busy LAN puts on a firewall's interface;
 *  2. cache lookup cost at 1K, 64K and 1M entries (random keys, so the big
 *     table is measured out of cache, as it would be in production);
 *  3. bytes of memory per cache entry at 1M entries.
 *
 * Prints one line per figure and the ratios the targets are stated in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/arp_engine.h"

#define NET 0xc6120000u /* 198.18.0.0/16 */
#define US (NET | 1)
#define NFRAMES 8192

struct fr {
	uint8_t buf[FRAME_MAX_LEN];
	uint8_t len;
	uint8_t outgoing;
};

static void host_mac(struct mac *m, uint32_t ip)
{
	m->a[0] = 0x02;
	m->a[1] = 0x10;
	m->a[2] = (uint8_t)(ip >> 24);
	m->a[3] = (uint8_t)(ip >> 16);
	m->a[4] = (uint8_t)(ip >> 8);
	m->a[5] = (uint8_t)ip;
}

/*
 * The mix: 55% requests between other hosts (broadcast, not for us),
 * 15% requests for our address, 10% our kernel's requests and 10% the
 * solicited replies to them, 5% gratuitous ARP (a host refreshing), 3%
 * spoofed unsolicited replies, 2% malformed.
 */
static void make_mix(struct fr *v, size_t n, const struct mac *us)
{
	for (size_t i = 0; i < n; i++) {
		struct arp_frame f;
		uint32_t a = NET | (2 + rnd() % 4000), b = NET | (2 + rnd() % 4000);
		struct mac ma;
		host_mac(&ma, a);
		uint32_t r = rnd() % 100;
		v[i].outgoing = 0;
		if (r < 55) {
			frame_request(&f, &ma, a, b);
		} else if (r < 70) {
			frame_request(&f, &ma, a, US);
		} else if (r < 80) {
			frame_request(&f, us, US, a);
			v[i].outgoing = 1;
			v[i].len = (uint8_t)frame_build(&f, v[i].buf, sizeof(v[i].buf));
			/* the answer follows its question */
			if (++i == n)
				break;
			frame_reply(&f, &ma, &ma, a, us, US);
			v[i].outgoing = 0;
		} else if (r < 85) {
			frame_garp_request(&f, &ma, a);
		} else if (r < 98) {
			struct mac evil = {{0x02, 0x66, 0x66, 0x66, 0x66, 0x66}};
			frame_reply(&f, &evil, &evil, a, us, US);
		} else {
			frame_request(&f, &ma, a, US);
			v[i].len = (uint8_t)frame_build(&f, v[i].buf, sizeof(v[i].buf));
			v[i].buf[15] = 9; /* bad htype */
			continue;
		}
		v[i].len = (uint8_t)frame_build(&f, v[i].buf, sizeof(v[i].buf));
	}
}

static void bench_frames(double *mfps)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.unsolicited_replies = AV_DROP; /* a firewall that logs would be measuring syslog */
	p.changes = AV_ACCEPT;
	struct arp_engine *e = arp_engine_new(&p);
	struct mac us = {{0x02, 0, 0, 0, 0, 1}};
	arp_engine_iface_add(e, 1, "bench", &us, false);
	struct ip4_prefix a = {US, 16};
	arp_engine_iface_set_addrs(e, 1, &a, 1);
	struct fr *v = calloc(NFRAMES, sizeof(*v));
	make_mix(v, NFRAMES, &us);
	struct actions out;
	actions_init(&out);
	uint64_t now = 1000;
	size_t rounds = 0, frames = 0;
	double t0 = secs(), t;
	do {
		for (size_t i = 0; i < NFRAMES; i++) {
			arp_engine_input(e, 1, v[i].buf, v[i].len,
					 v[i].outgoing ? ARP_RX_OUT : ARP_RX_IN, now, &out);
			actions_reset(&out);
		}
		now += 1;
		frames += NFRAMES;
		rounds++;
		t = secs() - t0;
	} while (t < 2.0);
	*mfps = (double)frames / t / 1e6;
	struct arp_iface_view view;
	arp_engine_iface_get(e, 1, &view);
	printf("frames:  %.2f M frames/s on one core (%zu frames of a %d-frame mix; "
	       "answered %llu, learned %llu, dropped unsolicited %llu)\n",
	       *mfps, frames, NFRAMES, (unsigned long long)view.counters->v[AC_ANSWERED],
	       (unsigned long long)view.counters->v[AC_LEARNED] +
		       view.counters->v[AC_REFRESHED],
	       (unsigned long long)view.counters->v[AC_DROP_UNSOLICITED]);
	actions_free(&out);
	free(v);
	arp_engine_free(e);
}

/*
 * Query keys: uniformly random over the n present keys (every lookup a
 * likely cache miss once the table outgrows the CPU caches), or Zipf with
 * exponent 1 over a random ranking of them (a LAN where a few hosts, the
 * gateway and the busy servers, carry most of the traffic).
 */
static void make_queries(uint32_t *q, size_t nq, const uint32_t *keys, uint32_t n, int zipf)
{
	if (!zipf) {
		for (size_t i = 0; i < nq; i++)
			q[i] = keys[rnd() % n];
		return;
	}
	double *cdf = malloc(n * sizeof(*cdf));
	uint32_t *rank = malloc(n * sizeof(*rank));
	double sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / (double)(i + 1);
		cdf[i] = sum;
		rank[i] = i;
	}
	for (uint32_t i = n - 1; i > 0; i--) { /* hot keys scattered over the table */
		uint32_t j = rnd() % (i + 1), t = rank[i];
		rank[i] = rank[j];
		rank[j] = t;
	}
	for (size_t i = 0; i < nq; i++) {
		double u = (double)rnd() / 2097152.0 / 1048576.0 * sum; /* rnd() is 53 bits */
		uint32_t lo = 0, hi = n - 1;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		q[i] = keys[rank[lo]];
	}
	free(cdf);
	free(rank);
}

/* ns per lookup of a present key in a cache of n entries. */
static double bench_lookup(uint32_t n, int zipf, double *bytes_per_entry)
{
	struct arp_cache_params cp = {.max_entries = n, .hash_size = 512};
	struct arp_cache *c = arp_cache_new(&cp);
	uint32_t *keys = malloc(n * sizeof(*keys));
	struct mac m = {{0x02, 1, 2, 3, 4, 5}};
	struct arp_entry ev;
	bool evicted;
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = 0x0a000000u + i * 7u; /* distinct; not sent anywhere */
		arp_cache_insert(c, keys[i], ARP_DYNAMIC, &m, 1000 + i, &ev, &evicted);
	}
	*bytes_per_entry = (double)arp_cache_bytes(c) / n;
	enum { Q = 1 << 16 };
	uint32_t *q = malloc(Q * sizeof(*q));
	make_queries(q, Q, keys, n, zipf);
	size_t lookups = 0;
	uint64_t sink = 0;
	double t0 = secs(), t;
	do {
		for (size_t i = 0; i < Q; i++)
			sink += arp_cache_lookup(c, q[i])->mac.a[5];
		lookups += Q;
		t = secs() - t0;
	} while (t < 1.0);
	if (sink == 42)
		printf("%llu\n", (unsigned long long)sink);
	free(q);
	free(keys);
	arp_cache_free(c);
	return t / (double)lookups * 1e9;
}

int main(void)
{
	double mfps;
	bench_frames(&mfps);
	double bpe1k, bpe64k, bpe1m;
	static const char *const pattern[2] = {"uniform random keys", "Zipf(1) keys"};
	for (int z = 0; z < 2; z++) {
		double l1k = bench_lookup(1000, z, &bpe1k);
		double l64k = bench_lookup(64000, z, &bpe64k);
		double l1m = bench_lookup(1000000, z, &bpe1m);
		printf("lookup:  %.1f ns at 1K entries, %.1f ns at 64K, %.1f ns at 1M (%s)\n",
		       l1k, l64k, l1m, pattern[z]);
		printf("ratio:   lookup 1M / 1K = %.2fx with %s (target <= 1.5x)\n", l1m / l1k,
		       pattern[z]);
	}
	printf("memory:  %.1f bytes per entry at 1M entries (target <= 64); %.1f at 64K\n", bpe1m,
	       bpe64k);
	printf("target:  frames %.2f M/s (target >= 10 M/s per core)\n", mfps);
	return 0;
}
