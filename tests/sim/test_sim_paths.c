/*
 * Property tests of the cluster over several paths (cluster.h, member.h):
 * two networks link the nodes, and a path fails at one node either by its
 * own link going down (the node is told: sim_set_path_link) or by a cut
 * between it and the switch (it is not told: sim_cut_path, a cable or a
 * switch port failing elsewhere).
 *
 * (a) Random path failures under 2 % loss, 1 % duplication and jitter,
 *     2 and 3 nodes, reliable-broadcast traffic throughout. Between nodes
 *     r and o, path p is "connected" at t when both ends of p are neither
 *     cut nor link-down. With W = DeadInterval + one interval + the
 *     delays + 10 ms:
 *      - no NODE_DOWN at r about o while some path between them was
 *        connected throughout the last W ms (down only when silent on all);
 *      - when no path is connected for more than W ms (and r has its own
 *        links up, unchanged), o is reported down within W ms, and up
 *        again within W ms of a path being back for W ms;
 *      - when path p alone is disconnected for more than W ms while
 *        another path stays connected and r's own link of p stays up, r
 *        reports PATH_DOWN about o on p once, within W ms, and PATH_UP
 *        once within W ms of p coming back; never a PATH_DOWN while p was
 *        connected throughout the last W ms;
 *      - OWN_PATH_DOWN/UP on every own link change, OWN_DOWN/UP when the
 *        last goes and the first comes back;
 *      - every node delivers every other node's messages intact, in
 *        order, once each; a gap only after a NODE_DOWN about the origin
 *        (the j-th gap not before the j-th report), no OUT_OF_SYNC at
 *        all; after the final heal everything sent is delivered.
 *     Phases of random length (some shorter, some longer than W) have one
 *     path kept intact everywhere while the other fails at random nodes
 *     and times, or one node cut off on every path, or random failures
 *     everywhere, or one path failing at one node between two stretches
 *     with nothing failing, or none. A path fails by a cut, its link going
 *     down, or both. The checks read the faults in force at every ms.
 *
 * (b) The control: with one path, the same cut (no link change) gives
 *     NODE_DOWN on both sides and no path events; with two paths, cutting
 *     one gives PATH_DOWN/UP on both sides and no NODE_DOWN.
 *
 * Every seed is a fixed number, so a failure is reproducible: the message
 * names the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "sim.h"
#include "simtest.h"

#define ID(i)  sim_node_id(i)
#define ALL(n) ((1u << (n)) - 1)
#define NP     2   /* paths */
#define IVL    100 /* HeartbeatInterval */
#define DEAD   6   /* DeadInterval: 5 losses in a row at 2 % (3e-9) to time out a live path */
#define JIT    10  /* jitter, ms */
#define DELAY  1
#define W      (DEAD * IVL + IVL + DELAY + JIT + 10)
#define MAXMSG 4096
#define TMAX   60000 /* ms of history */

/* ---- helpers over the records ---- */

/* Count node r's records of type about peer (0: any) on path (-1: any) in [t0, t1]. */
static size_t count_recs(struct sim *s, unsigned r, uint8_t type, uint32_t peer, int path,
			 uint64_t t0, uint64_t t1)
{
	size_t n, k = 0;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].node == r && v[i].type == type && (!peer || v[i].peer == peer) &&
		    (path < 0 || v[i].path == path) && v[i].t >= t0 && v[i].t <= t1)
			k++;
	return k;
}

/* Whether r has o up at t, as its NODE_UP/NODE_DOWN reports say (records at t count). */
static bool reported_up(struct sim *s, unsigned r, unsigned o, uint64_t t)
{
	size_t n;
	const struct sim_rec *v = sim_records(s, &n);
	bool up = false;
	for (size_t i = 0; i < n && v[i].t <= t; i++)
		if (v[i].node == r && v[i].peer == ID(o) &&
		    (v[i].type == CA_NODE_UP || v[i].type == CA_NODE_DOWN))
			up = v[i].type == CA_NODE_UP;
	return up;
}

/* ---- the run: faults wanted, applied, remembered per ms ---- */

struct run {
	struct sim *s;
	uint64_t seed;
	unsigned n;
	struct sim_traffic tr;
	/* hist[i][t]: bit p path p cut at node i, bit 4+p its link down, at ms t */
	uint8_t *hist[SIM_MAX_NODES];
	/* tallies for the summary */
	unsigned cuts, links_down;
};

static uint8_t node_bad(struct sim *s, unsigned i)
{
	uint8_t b = 0;
	for (unsigned p = 0; p < sim_paths(s); p++) {
		if (sim_path_cut(s, i, p))
			b |= (uint8_t)(1u << p);
		if (!sim_path_link_up(s, i, p))
			b |= (uint8_t)(1u << (4 + p));
	}
	return b;
}

static bool conn(const struct run *r, unsigned a, unsigned b, unsigned p, uint64_t t)
{
	uint8_t m = (uint8_t)(0x11u << p);
	return !((r->hist[a][t] | r->hist[b][t]) & m);
}

/* Path p between a and b connected at every ms of [t0, t1]. */
static bool conn_throughout(const struct run *r, unsigned a, unsigned b, unsigned p, uint64_t t0,
			    uint64_t t1)
{
	for (uint64_t t = t0; t <= t1; t++)
		if (!conn(r, a, b, p, t))
			return false;
	return true;
}

static bool any_conn(const struct run *r, unsigned a, unsigned b, uint64_t t)
{
	for (unsigned p = 0; p < NP; p++)
		if (conn(r, a, b, p, t))
			return true;
	return false;
}

/* Node a's own link of p up at every ms of [t0, t1]. */
static bool link_throughout(const struct run *r, unsigned a, unsigned p, uint64_t t0, uint64_t t1)
{
	for (uint64_t t = t0; t <= t1; t++)
		if (r->hist[a][t] & (1u << (4 + p)))
			return false;
	return true;
}

/* Node a's own links the same set, and not empty, at every ms of [t0, t1]. */
static bool links_steady(const struct run *r, unsigned a, uint64_t t0, uint64_t t1)
{
	uint8_t l = r->hist[a][t0] & 0xf0;
	if (l == (((1u << NP) - 1) << 4))
		return false; /* every link down */
	for (uint64_t t = t0; t <= t1; t++)
		if ((r->hist[a][t] & 0xf0) != l)
			return false;
	return true;
}

/* Note the faults in force at sim_now() (after the calls of this ms). */
static void remember(struct run *r)
{
	uint64_t t = sim_now(r->s);
	check(t < TMAX, r->seed, "run longer than %d ms", TMAX);
	for (unsigned i = 0; i < r->n; i++)
		r->hist[i][t] = node_bad(r->s, i);
}

/*
 * Bring node i's path p to the wanted state (cut, link up), checking the
 * own-link reports of each change.
 */
static void set_fault(struct run *r, unsigned i, unsigned p, bool cut, bool link)
{
	struct sim *s = r->s;
	uint64_t now = sim_now(s);
	if (sim_path_cut(s, i, p) != cut) {
		sim_cut_path(s, i, p, cut);
		r->cuts += cut;
	}
	if (sim_path_link_up(s, i, p) == link)
		return;
	bool any_before = false;
	for (unsigned q = 0; q < NP; q++)
		any_before |= sim_path_link_up(s, i, q);
	size_t pd = count_recs(s, i, CA_OWN_PATH_DOWN, 0, (int)p, now, now);
	size_t pu = count_recs(s, i, CA_OWN_PATH_UP, 0, (int)p, now, now);
	size_t od = count_recs(s, i, CA_OWN_DOWN, 0, -1, now, now);
	size_t ou = count_recs(s, i, CA_OWN_UP, 0, -1, now, now);
	sim_set_path_link(s, i, p, link);
	bool any_after = false;
	for (unsigned q = 0; q < NP; q++)
		any_after |= sim_path_link_up(s, i, q);
	r->links_down += !link;
	check(count_recs(s, i, CA_OWN_PATH_DOWN, 0, (int)p, now, now) == pd + !link, r->seed,
	      "node %u: link of path %u %s: OWN_PATH_DOWN reports wrong", i, p,
	      link ? "up" : "down");
	check(count_recs(s, i, CA_OWN_PATH_UP, 0, (int)p, now, now) == pu + link, r->seed,
	      "node %u: link of path %u %s: OWN_PATH_UP reports wrong", i, p, link ? "up" : "down");
	check(count_recs(s, i, CA_OWN_DOWN, 0, -1, now, now) == od + (any_before && !any_after),
	      r->seed, "node %u: link of path %u down: OWN_DOWN reports wrong", i, p);
	check(count_recs(s, i, CA_OWN_UP, 0, -1, now, now) == ou + (!any_before && any_after),
	      r->seed, "node %u: link of path %u up: OWN_UP reports wrong", i, p);
}

/* A random fault for node i's path p: 0 none, 1 cut, 2 link down, 3 both. */
static void random_fault(struct run *r, uint64_t *st, unsigned i, unsigned p)
{
	unsigned f = 1 + pick(st, 3);
	set_fault(r, i, p, f & 1, !(f & 2));
}

/* Node i's path p fails at random (must: for sure), or is mended. */
static void maybe_fail(struct run *r, uint64_t *st, unsigned i, unsigned p, bool must)
{
	if (must || pick(st, 2))
		random_fault(r, st, i, p);
	else
		set_fault(r, i, p, false, true);
}

/* Run ms milliseconds, the nodes in mask sending, remembering the faults of each ms. */
static void run_mask(struct run *r, uint64_t ms, uint32_t mask)
{
	uint64_t end = sim_now(r->s) + ms;
	while (sim_now(r->s) < end) {
		sim_traffic_run(r->s, &r->tr, mask, IVL, sim_now(r->s) + 1);
		remember(r);
	}
}

/* The same, every node sending. */
static void run_ms(struct run *r, uint64_t ms)
{
	run_mask(r, ms, ALL(r->n));
}

enum phase { PH_HEAL, PH_KEEP_ONE, PH_ISOLATE, PH_RANDOM, PH_FLAP, PH__COUNT };

/* Set every fault of every node to none. */
static void heal_all(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++)
		for (unsigned p = 0; p < NP; p++)
			set_fault(r, i, p, false, true);
}

/*
 * One path fails at one node for more than W, everything else intact
 * for 2 W before and W after: a PATH_DOWN and a PATH_UP are due.
 */
static void flap(struct run *r, uint64_t *st)
{
	unsigned x = pick(st, r->n), p = pick(st, NP);
	heal_all(r);
	remember(r);
	run_ms(r, 2 * W + 100 + pick(st, 500));
	random_fault(r, st, x, p);
	remember(r);
	run_ms(r, W + 100 + pick(st, 1000));
	set_fault(r, x, p, false, true);
	remember(r);
	run_ms(r, W + 100 + pick(st, 500));
}

/*
 * One phase: set the faults of its kind, run a short (< W) or long (> W)
 * while, changing some faults at random times within it.
 */
static void phase(struct run *r, uint64_t *st, unsigned kind, unsigned counts[PH__COUNT])
{
	if (kind == PH_FLAP) {
		counts[kind]++;
		flap(r, st);
		return;
	}
	unsigned keep = pick(st, NP), x = pick(st, r->n);
	uint64_t len = pick(st, 3) ? W + 200 + pick(st, 1300) : 50 + pick(st, 500);
	unsigned changes = kind == PH_HEAL ? 0 : pick(st, 3);
	counts[kind]++;
	for (unsigned step = 0; step <= changes; step++) {
		for (unsigned i = 0; i < r->n; i++)
			for (unsigned p = 0; p < NP; p++) {
				switch (kind) {
				case PH_HEAL:
					set_fault(r, i, p, false, true);
					break;
				case PH_KEEP_ONE:
					if (p == keep)
						set_fault(r, i, p, false, true);
					else if (step == 0 || pick(st, 2))
						maybe_fail(r, st, i, p, i == x);
					break;
				case PH_ISOLATE:
					if (i == x)
						random_fault(r, st, i, p);
					else if (step == 0)
						set_fault(r, i, p, false, true);
					break;
				default:
					if (step == 0 || pick(st, 2))
						maybe_fail(r, st, i, p, false);
					break;
				}
			}
		remember(r);
		run_ms(r, len / (changes + 1));
	}
}

/* ---- the checks, after the run ---- */

struct tally {
	size_t node_downs, node_downs_due, node_ups_due, path_downs, path_downs_due, path_ups_due,
	    delivered, gaps;
};

/* No NODE_DOWN, no PATH_DOWN while a path was connected throughout the last W ms. */
static void check_false_downs(struct run *r, struct tally *k)
{
	size_t n;
	const struct sim_rec *v = sim_records(r->s, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != CA_NODE_DOWN && v[i].type != CA_PATH_DOWN)
			continue;
		unsigned a = v[i].node, b = v[i].peer - 1;
		check(b < r->n && b != a, r->seed, "record %zu: a report about node ID %u", i,
		      v[i].peer);
		uint64_t t = v[i].t, t0 = t >= W ? t - W : 0;
		if (v[i].type == CA_PATH_DOWN) {
			k->path_downs++;
			check(v[i].path < NP, r->seed, "PATH_DOWN on path %u", v[i].path);
			check(!conn_throughout(r, a, b, v[i].path, t0, t), r->seed,
			      "node %u reported path %u of node %u down at %llu, connected since "
			      "%llu",
			      a, v[i].path, b, (unsigned long long)t, (unsigned long long)t0);
			continue;
		}
		k->node_downs++;
		for (unsigned p = 0; p < NP; p++)
			check(!conn_throughout(r, a, b, p, t0, t), r->seed,
			      "node %u reported node %u down at %llu, path %u connected since %llu",
			      a, b, (unsigned long long)t, p, (unsigned long long)t0);
	}
}

/* Every stretch of [t0, end) where no path joins a and b. */
static void check_node_episodes(struct run *r, unsigned a, unsigned b, uint64_t t0, uint64_t end,
				struct tally *k)
{
	for (uint64_t t = t0; t < end;) {
		if (any_conn(r, a, b, t)) {
			t++;
			continue;
		}
		uint64_t s0 = t;
		while (t < end && !any_conn(r, a, b, t))
			t++;
		uint64_t s1 = t; /* [s0, s1): silent */
		if (s1 - s0 <= W || !links_steady(r, a, s0, s1 - 1))
			continue;
		if (reported_up(r->s, a, b, s0)) {
			k->node_downs_due++;
			check(count_recs(r->s, a, CA_NODE_DOWN, ID(b), -1, s0, s0 + W) >= 1,
			      r->seed,
			      "node %u: node %u cut off on every path from %llu to %llu, never "
			      "reported down",
			      a, b, (unsigned long long)s0, (unsigned long long)s1);
		}
		check(!reported_up(r->s, a, b, s1 - 1), r->seed,
		      "node %u: node %u cut off from %llu to %llu, still up at the end", a, b,
		      (unsigned long long)s0, (unsigned long long)s1);
		/* back: some path connected for W from s1 */
		bool back = false;
		for (unsigned p = 0; p < NP && s1 + W < end; p++)
			back |= conn_throughout(r, a, b, p, s1, s1 + W);
		if (back) {
			k->node_ups_due++;
			check(reported_up(r->s, a, b, s1 + W), r->seed,
			      "node %u: node %u back at %llu, not up %d ms later", a, b,
			      (unsigned long long)s1, W);
		}
	}
}

/* Every stretch where path p alone fails between a and b, both alive. */
static void check_path_episodes(struct run *r, unsigned a, unsigned b, unsigned p, uint64_t t0,
				uint64_t end, struct tally *k)
{
	unsigned q = (p + 1) % NP;
	for (uint64_t t = t0; t < end;) {
		if (conn(r, a, b, p, t)) {
			t++;
			continue;
		}
		uint64_t s0 = t;
		while (t < end && !conn(r, a, b, p, t))
			t++;
		uint64_t s1 = t;
		if (s1 - s0 <= W || s0 < t0 + 2 * W || s1 + W >= end)
			continue;
		if (!link_throughout(r, a, p, s0 - W, s1 + W) ||
		    !conn_throughout(r, a, b, q, s0 - 2 * W, s1 + W) ||
		    !conn_throughout(r, a, b, p, s0 - W, s0 - 1) ||
		    !conn_throughout(r, a, b, p, s1, s1 + W))
			continue;
		k->path_downs_due++;
		k->path_ups_due++;
		size_t d = count_recs(r->s, a, CA_PATH_DOWN, ID(b), (int)p, s0, s1 - 1);
		check(d == 1, r->seed,
		      "node %u: path %u to node %u failed from %llu to %llu: %zu PATH_DOWN", a, p,
		      b, (unsigned long long)s0, (unsigned long long)s1, d);
		check(count_recs(r->s, a, CA_PATH_DOWN, ID(b), (int)p, s0, s0 + W) == 1, r->seed,
		      "node %u: path %u to node %u failed at %llu: PATH_DOWN late", a, p, b,
		      (unsigned long long)s0);
		check(count_recs(r->s, a, CA_PATH_UP, ID(b), (int)p, s0, s1 - 1) == 0, r->seed,
		      "node %u: path %u to node %u failed from %llu to %llu: PATH_UP within", a, p,
		      b, (unsigned long long)s0, (unsigned long long)s1);
		size_t u = count_recs(r->s, a, CA_PATH_UP, ID(b), (int)p, s1, s1 + W);
		check(u == 1, r->seed,
		      "node %u: path %u to node %u back at %llu: %zu PATH_UP within %d ms", a, p, b,
		      (unsigned long long)s1, u, W);
		check(count_recs(r->s, a, CA_NODE_DOWN, ID(b), -1, s0, s1 + W) == 0, r->seed,
		      "node %u: node %u down while path %u stayed up", a, b, q);
	}
}

/*
 * Node a delivered b's messages intact, in order, each once; the j-th gap
 * not before a's j-th NODE_DOWN about b; the last is the last b sent.
 */
static void check_stream(struct run *r, unsigned a, unsigned b, struct tally *k)
{
	static uint64_t c[MAXMSG], tm[MAXMSG], downs[MAXMSG];
	size_t n, m = 0, nd = 0;
	const struct sim_rec *v = sim_records(r->s, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i].node != a || v[i].peer != ID(b))
			continue;
		if (v[i].type == CA_NODE_DOWN && nd < MAXMSG)
			downs[nd++] = v[i].t;
		if (v[i].type != CA_DELIVER)
			continue;
		unsigned o, g;
		uint64_t x;
		check(sim_msg_decode(&v[i], &o, &g, &x), r->seed, "record %zu: damaged message", i);
		check(o == b && g == 1, r->seed, "record %zu: from %u says origin %u gen %u", i, b,
		      o, g);
		check(m < MAXMSG, r->seed, "too many messages");
		tm[m] = v[i].t;
		c[m++] = x;
	}
	k->delivered += m;
	size_t gaps = 0;
	for (size_t i = 0; i < m; i++) {
		uint64_t prev = i ? c[i - 1] : 0;
		check(c[i] > prev, r->seed, "node %u, origin %u: %llu after %llu", a, b,
		      (unsigned long long)c[i], (unsigned long long)prev);
		if (c[i] == prev + 1)
			continue;
		check(gaps < nd && tm[i] >= downs[gaps], r->seed,
		      "node %u, origin %u: gap %llu..%llu at %llu without a NODE_DOWN before", a, b,
		      (unsigned long long)prev + 1, (unsigned long long)c[i] - 1,
		      (unsigned long long)tm[i]);
		gaps++;
	}
	k->gaps += gaps;
	check(m > 0 && c[m - 1] == r->tr.sent[b], r->seed,
	      "node %u, origin %u: last delivered %llu, sent %llu", a, b,
	      m ? (unsigned long long)c[m - 1] : 0ull, (unsigned long long)r->tr.sent[b]);
}

/* Run until every node has every other up; fail after limit ms. */
static void warm_up(struct run *r, uint64_t limit)
{
	uint64_t end = sim_now(r->s) + limit;
	for (;;) {
		bool all = true;
		for (unsigned a = 0; a < r->n && all; a++)
			for (unsigned b = 0; b < r->n && all; b++)
				if (a != b &&
				    !member_is_up(cluster_member(sim_cluster(r->s, a)), ID(b)))
					all = false;
		if (all)
			return;
		check(sim_now(r->s) < end, r->seed, "nodes not all up after %llu ms",
		      (unsigned long long)limit);
		run_mask(r, 10, 0); /* quiet: a message sent before a peer is up may be missed */
	}
}

#define A_SEEDS	 500
#define A_PHASES 14
static void random_paths(uint64_t seed, unsigned nodes, struct tally *k, unsigned counts[PH__COUNT],
			 unsigned *cuts, unsigned *links_down)
{
	uint64_t st = seed * 2654435761u + nodes;
	struct sim_params p = {
	    .seed = seed * 10 + nodes,
	    .nodes = nodes,
	    .interval_ms = IVL,
	    .dead_count = DEAD,
	    .send_buffer = 256,
	    .encrypt = seed & 1,
	    .loss = 0.02,
	    .dup = 0.01,
	    .delay_ms = DELAY,
	    .jitter_ms = JIT,
	    .n_paths = NP,
	};
	struct run r = {.s = sim_new(&p), .seed = seed, .n = nodes};
	assert_non_null(r.s);
	for (unsigned i = 0; i < nodes; i++) {
		r.hist[i] = calloc(TMAX, 1);
		assert_non_null(r.hist[i]);
	}
	remember(&r);
	warm_up(&r, 3000);
	run_ms(&r, 2 * W);
	uint64_t t0 = sim_now(r.s);
	static const unsigned kinds[] = {PH_KEEP_ONE, PH_KEEP_ONE, PH_KEEP_ONE, PH_ISOLATE,
					 PH_ISOLATE,  PH_RANDOM,   PH_HEAL,	PH_FLAP};
	for (unsigned i = 0; i < A_PHASES; i++)
		phase(&r, &st, kinds[pick(&st, sizeof(kinds) / sizeof(kinds[0]))], counts);
	phase(&r, &st, PH_HEAL, counts);
	/* the final heal: a while of traffic, then quiet */
	run_ms(&r, 3000);
	run_mask(&r, 3000, 0);
	uint64_t end = sim_now(r.s);

	struct sim_counts sc;
	sim_counts(r.s, &sc);
	check(sc.stuck == 0, seed, "a core left its deadline due after its tick");
	check(sc.dropped_actions == 0, seed, "actions lost to ENOMEM");
	check(sc.malformed == 0, seed, "%llu malformed payloads", (unsigned long long)sc.malformed);
	check(sc.out_of_sync == 0, seed, "%llu OUT_OF_SYNC", (unsigned long long)sc.out_of_sync);
	uint64_t pdowns = 0;
	for (unsigned q = 0; q < NP; q++) {
		pdowns += sc.path_downs[q];
		check(sc.path_transmitted[q] > 0, seed, "nothing sent on path %u", q);
	}
	check(pdowns == count_recs(r.s, 0, CA_PATH_DOWN, 0, -1, 0, UINT64_MAX) +
			    count_recs(r.s, 1, CA_PATH_DOWN, 0, -1, 0, UINT64_MAX) +
			    count_recs(r.s, 2, CA_PATH_DOWN, 0, -1, 0, UINT64_MAX),
	      seed, "cluster_stats.path_downs (%llu) is not the PATH_DOWN reports",
	      (unsigned long long)pdowns);
	check_false_downs(&r, k);
	for (unsigned a = 0; a < nodes; a++)
		for (unsigned b = 0; b < nodes; b++) {
			if (a == b)
				continue;
			check_node_episodes(&r, a, b, t0, end, k);
			for (unsigned q = 0; q < NP; q++)
				check_path_episodes(&r, a, b, q, t0, end, k);
			check_stream(&r, a, b, k);
			check(member_is_up(cluster_member(sim_cluster(r.s, a)), ID(b)), seed,
			      "node %u: node %u not up at the end", a, b);
		}
	*cuts += r.cuts;
	*links_down += r.links_down;
	for (unsigned i = 0; i < nodes; i++)
		free(r.hist[i]);
	sim_free(r.s);
}

static void test_random_paths(void **state)
{
	(void)state;
	for (unsigned nodes = 2; nodes <= 3; nodes++) {
		struct tally k;
		memset(&k, 0, sizeof(k));
		unsigned counts[PH__COUNT] = {0}, cuts = 0, links = 0;
		for (uint64_t seed = 1; seed <= A_SEEDS; seed++)
			random_paths(seed, nodes, &k, counts, &cuts, &links);
		printf(
		    "(a) random paths, %u nodes: %d seeds x %d phases (%u one path kept, %u "
		    "one node cut off, %u random, %u one path down and up, %u healed), loss 2%%, "
		    "dup 1%%, jitter %d ms: %u cuts, %u links down; %zu NODE_DOWN (%zu due, all "
		    "came; %zu NODE_UP due, all came), %zu PATH_DOWN (%zu due, all came, and "
		    "PATH_UP), %zu messages delivered, %zu gaps after a NODE_DOWN, no "
		    "OUT_OF_SYNC\n",
		    nodes, A_SEEDS, A_PHASES + 1, counts[PH_KEEP_ONE], counts[PH_ISOLATE],
		    counts[PH_RANDOM], counts[PH_FLAP], counts[PH_HEAL], JIT, cuts, links,
		    k.node_downs, k.node_downs_due, k.node_ups_due, k.path_downs, k.path_downs_due,
		    k.delivered, k.gaps);
	}
}

/*
 * (b) The control: node 1's path 0 is cut (no link change) for 2 s.
 * With one path that is the only path: both sides report the other down,
 * and up after the mend; no path or own-link events. With two paths: no
 * NODE_DOWN; each side reports path 0 of the other down, then up.
 */
#define B_SEEDS 20
static void control(uint64_t seed, unsigned n_paths, size_t *downs, size_t *path_downs)
{
	struct sim_params p = {
	    .seed = seed,
	    .nodes = 2,
	    .interval_ms = IVL,
	    .dead_count = DEAD,
	    .loss = 0.02,
	    .delay_ms = DELAY,
	    .jitter_ms = JIT,
	    .n_paths = n_paths,
	};
	struct sim *s = sim_new(&p);
	assert_non_null(s);
	struct sim_traffic tr;
	memset(&tr, 0, sizeof(tr));
	sim_traffic_run(s, &tr, ALL(2), IVL, 2000);
	for (unsigned a = 0; a < 2; a++)
		check(member_is_up(cluster_member(sim_cluster(s, a)), ID(1 - a)), seed,
		      "%u paths: node %u does not have the other up", n_paths, a);
	uint64_t cut = sim_now(s);
	sim_cut_path(s, 1, 0, true);
	sim_traffic_run(s, &tr, ALL(2), IVL, cut + 2000);
	uint64_t mend = sim_now(s);
	sim_cut_path(s, 1, 0, false);
	sim_traffic_run(s, &tr, ALL(2), IVL, mend + 2000);
	sim_run_until(s, sim_now(s) + 1000);
	for (unsigned a = 0; a < 2; a++) {
		unsigned b = 1 - a;
		size_t nd = count_recs(s, a, CA_NODE_DOWN, ID(b), -1, cut, mend);
		size_t pd = count_recs(s, a, CA_PATH_DOWN, ID(b), 0, cut, mend);
		check(count_recs(s, a, CA_OWN_DOWN, 0, -1, 0, UINT64_MAX) == 0 &&
			  count_recs(s, a, CA_OWN_PATH_DOWN, 0, -1, 0, UINT64_MAX) == 0,
		      seed, "%u paths: node %u reported its own link down", n_paths, a);
		*downs += nd;
		*path_downs += pd;
		if (n_paths == 1) {
			check(nd == 1, seed, "1 path: node %u: %zu NODE_DOWN while cut", a, nd);
			check(count_recs(s, a, CA_PATH_DOWN, 0, -1, 0, UINT64_MAX) == 0, seed,
			      "1 path: a PATH_DOWN");
		} else {
			check(nd == 0, seed, "%u paths: node %u: %zu NODE_DOWN while cut", n_paths,
			      a, nd);
			check(pd == 1, seed, "%u paths: node %u: %zu PATH_DOWN while cut", n_paths,
			      a, pd);
			check(count_recs(s, a, CA_PATH_UP, ID(b), 0, mend, mend + W) == 1, seed,
			      "%u paths: node %u: no PATH_UP", n_paths, a);
		}
		check(count_recs(s, a, CA_OUT_OF_SYNC, 0, -1, 0, UINT64_MAX) == 0, seed,
		      "%u paths: OUT_OF_SYNC", n_paths);
		check(member_is_up(cluster_member(sim_cluster(s, a)), ID(b)), seed,
		      "%u paths: node %u: the other not up after the mend", n_paths, a);
	}
	sim_free(s);
}

static void test_control(void **state)
{
	(void)state;
	size_t d1 = 0, p1 = 0, d2 = 0, p2 = 0;
	for (uint64_t seed = 1; seed <= B_SEEDS; seed++) {
		control(seed, 1, &d1, &p1);
		control(seed, 2, &d2, &p2);
	}
	printf("(b) control: %d seeds, 2 nodes, path 0 of one cut for 2 s (no link change): "
	       "1 path: %zu NODE_DOWN, %zu PATH_DOWN; 2 paths: %zu NODE_DOWN, %zu PATH_DOWN\n",
	       B_SEEDS, d1, p1, d2, p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_control),
	    cmocka_unit_test(test_random_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
