/*
 * Property tests of the responsible ranges over many seeds of the
 * simulator: every node runs core/cluster + core/ranges, the claims
 * riding the heartbeat state and pushes as the ranges service will, over
 * lossy (0-5 %), reordering networks, with 2..16 nodes, late joins,
 * crashes, restarts (new incarnations), partitions and heals.
 *
 * Properties:
 *  (a) complete: after a crash or partition, every bucket is claimed by a
 *      live node of each side that can talk (a partition's sides each on
 *      their own) within DeadInterval x HeartbeatInterval + 2 intervals;
 *      after a join or heal (whose newcomers must first be heard up, and
 *      whose hand-over is break before make) within 2 intervals more;
 *  (b) never two takers of one bucket among nodes that hear each other
 *      (each one's cluster has the other up), checked at every virtual ms;
 *  (c) equal: once settled, every node claims exactly what the aim gives
 *      it, within one bucket of Buckets x its weight / the side's weights;
 *  (e) one heir: after a crash, every bucket has exactly one live node
 *      that inherited the dead node's connections there (whatever it
 *      claims, and although the nodes noticed the death at different
 *      times over a lossy network);
 *  (d) a join or a leave, from a settled whole cluster, moves the
 *      buckets the newcomer gets or the leaver had and at most 1 % of the
 *      buckets more (the 1/N + 1 %; the aim follows what the
 *      members hold, so it is 0 but for the quotas' rounding).
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

#include "core/member.h"
#include "core/ranges.h"
#include "sim.h"
#include "simtest.h"

#define IVL	       100 /* HeartbeatInterval */
#define DEAD	       3   /* DeadInterval */
#define BUCKETS	       1024
#define WORDS	       (BUCKETS / 64)
#define SEEDS	       9 /* RANGES_SEEDS=n runs more (30: about a minute under ASan) */
#define COMPLETE_IN    (DEAD * IVL + 2 * IVL)
#define REJOIN_IN      (COMPLETE_IN + 2 * IVL)
#define SETTLE	       ((DEAD + 1) * IVL + 4 * IVL)
#define MOVE_BOUND_PCT 1.0 /* the excess over the minimum a join or leave may move: the 1 % */

/* What the runs measured. */
struct seen {
	uint64_t complete_ms[2]; /* the longest time to complete after a crash, [lossy] */
	uint64_t rejoin_ms[2];	 /* after a join or a heal */
	double excess_pct;	 /* the largest excess movement of a join or leave */
	unsigned excess_n;	 /* at how many nodes */
	double excess_sum;
	unsigned moves;
	unsigned ms_checked;
	unsigned events[4]; /* crash, join, partition, heal */
	unsigned max_dev;   /* the largest |claimed - ideal| once settled, in buckets x W */
	unsigned heirs_checked; /* crashes whose every bucket had one heir */
};

struct run {
	uint64_t seed;
	struct sim_params p;
	struct sim *s;
	unsigned n;
	uint32_t side[SIM_MAX_NODES]; /* node i's side: a bitmask of who it can talk to */
	struct seen *sn;
};

/* Node i's claims as words, in buf; NULL when it is down. */
static const uint64_t *claims64(struct run *r, unsigned i, uint64_t *buf)
{
	struct ranges *rg = sim_ranges(r->s, i);
	if (!rg)
		return NULL;
	memcpy(buf, ranges_claims(rg)->bit, BUCKETS / 8);
	return buf;
}

static bool up_at(struct run *r, unsigned i, unsigned j)
{
	struct cluster *c = sim_cluster(r->s, i);
	return c && member_is_up(cluster_member(c), sim_node_id(j));
}

static void dump(struct run *r, unsigned i, uint32_t b)
{
	struct ranges *rg = sim_ranges(r->s, i);
	if (!rg)
		return;
	struct ranges_view v;
	ranges_view(rg, &v);
	fprintf(
	    stderr,
	    "node %u: members %zu view %u digest %llx agreed %d claimed %u aimed %u owner(%u)=%u "
	    "has %d\n",
	    i + 1, v.members, v.view, (unsigned long long)v.digest, v.agreed, v.claimed, v.aimed, b,
	    ranges_aimed_owner(rg, b), ranges_has(ranges_claims(rg), b));
	const struct cluster_stats *cs = cluster_stats(sim_cluster(r->s, i));
	fprintf(stderr, "   drops:");
	for (int k = 0; k < WR__COUNT; k++)
		fprintf(stderr, " %llu", (unsigned long long)cs->drops[k]);
	fprintf(stderr, " malformed %llu statedrops %llu %llu %llu\n",
		(unsigned long long)cs->malformed_payload, (unsigned long long)cs->state_drops[0],
		(unsigned long long)cs->state_drops[1], (unsigned long long)cs->state_drops[2]);
	struct member_peer mp[SIM_MAX_NODES];
	size_t np = member_peers(cluster_member(sim_cluster(r->s, i)), mp, SIM_MAX_NODES);
	for (size_t k = 0; k < np && k < SIM_MAX_NODES; k++)
		fprintf(stderr, "   member %u state %u heard %llu since %llu hbs %llu\n",
			mp[k].node, mp[k].state, (unsigned long long)mp[k].last_heard,
			(unsigned long long)mp[k].since, (unsigned long long)mp[k].heartbeats);
	for (size_t k = 1; k < ranges_nodes(rg); k++) {
		struct ranges_node_view nv;
		ranges_node(rg, k, &nv);
		fprintf(
		    stderr,
		    "   peer %u up %d member %d agrees %d view %u claims %u has %d heard %llu\n",
		    nv.id.node, nv.up, nv.member, nv.agrees, nv.view, nv.n_claims,
		    ranges_has(nv.claims, b), (unsigned long long)nv.heard);
	}
}

/* (b): two nodes that hear each other never claim one bucket. */
static void check_takers(struct run *r)
{
	const uint64_t *c[SIM_MAX_NODES];
	uint64_t buf[SIM_MAX_NODES][WORDS];
	for (unsigned i = 0; i < r->n; i++)
		c[i] = claims64(r, i, buf[i]);
	for (unsigned i = 0; i < r->n; i++) {
		if (!c[i])
			continue;
		for (unsigned j = i + 1; j < r->n; j++) {
			if (!c[j])
				continue;
			uint64_t both = 0;
			unsigned w = 0;
			for (; w < WORDS && !both; w++)
				both = c[i][w] & c[j][w];
			if (!both || !up_at(r, i, j) || !up_at(r, j, i))
				continue;
			if (getenv("RANGES_VERBOSE"))
				for (unsigned k = 0; k < r->n; k++)
					dump(r, k, (w - 1) * 64 + (unsigned)__builtin_ctzll(both));
			check(false, r->seed,
			      "nodes %u and %u hear each other and both claim bucket %u", i + 1,
			      j + 1, (w - 1) * 64 + (unsigned)__builtin_ctzll(both));
		}
	}
	r->sn->ms_checked++;
}

static void advance(struct run *r, uint64_t until)
{
	for (uint64_t t = sim_now(r->s) + 1; t <= until; t++) {
		sim_run_until(r->s, t);
		check_takers(r);
	}
}

/* Live nodes, by sides: every side claims every bucket. Returns true when complete. */
static bool complete(struct run *r, char *why, size_t cap)
{
	for (unsigned i = 0; i < r->n; i++) {
		if (!sim_ranges(r->s, i))
			continue;
		uint64_t u[WORDS] = {0}, buf[WORDS];
		for (unsigned j = 0; j < r->n; j++) {
			const uint64_t *c = claims64(r, j, buf);
			if (c && (r->side[i] >> j & 1))
				for (unsigned w = 0; w < WORDS; w++)
					u[w] |= c[w];
		}
		for (unsigned w = 0; w < WORDS; w++)
			if (~u[w]) {
				snprintf(why, cap, "bucket %u unclaimed on node %u's side",
					 w * 64 + (unsigned)__builtin_ctzll(~u[w]), i + 1);
				return false;
			}
	}
	return true;
}

/*
 * (c): on each side, every node claims its aim, within one bucket of its
 * weighted share. With fail false, only says whether it holds.
 */
static bool equal(struct run *r, bool fail)
{
	for (unsigned i = 0; i < r->n; i++) {
		struct ranges *rg = sim_ranges(r->s, i);
		if (!rg)
			continue;
		uint64_t wsum = 0;
		for (unsigned j = 0; j < r->n; j++)
			if (sim_ranges(r->s, j) && (r->side[i] >> j & 1))
				wsum += r->p.weight[j];
		struct ranges_node_view nv;
		assert_int_equal(ranges_node(rg, 0, &nv), 0);
		bool same = memcmp(nv.claims->bit, nv.aimed->bit, BUCKETS / 8) == 0;
		int64_t dev =
		    (int64_t)nv.n_claims * (int64_t)wsum - (int64_t)BUCKETS * r->p.weight[i];
		if (dev < 0)
			dev = -dev;
		if (!fail && (!same || dev >= (int64_t)wsum))
			return false;
		if (!same && getenv("RANGES_VERBOSE"))
			for (uint32_t b = 0; b < BUCKETS; b++)
				if (ranges_has(nv.claims, b) != ranges_has(nv.aimed, b)) {
					for (unsigned k = 0; k < r->n; k++)
						dump(r, k, b);
					break;
				}
		check(same, r->seed, "node %u claims %u buckets, its aim %u", i + 1, nv.n_claims,
		      nv.n_aimed);
		check(dev < (int64_t)wsum, r->seed, "node %u: %u buckets, weight %u of %llu", i + 1,
		      nv.n_claims, r->p.weight[i], (unsigned long long)wsum);
		if ((unsigned)dev > r->sn->max_dev)
			r->sn->max_dev = (unsigned)dev;
	}
	return true;
}

/*
 * Settled: every node claims its aim. Under loss a node can be declared
 * dead by mistake (DeadInterval heartbeats lost in a row) and come back:
 * wait out such an episode, then check.
 */
static void check_equal(struct run *r)
{
	uint64_t end = sim_now(r->s) + (r->p.loss > 0 ? 10 : 1) * IVL;
	while (!equal(r, false) && sim_now(r->s) < end)
		advance(r, sim_now(r->s) + 10);
	(void)equal(r, true);
}

/* The owner of every bucket now (a settled, whole cluster: one each). */
static void owners(struct run *r, uint8_t *own)
{
	memset(own, 0xff, BUCKETS);
	for (unsigned i = 0; i < r->n; i++) {
		struct ranges *rg = sim_ranges(r->s, i);
		if (!rg)
			continue;
		for (uint32_t b = 0; b < BUCKETS; b++)
			if (ranges_has(ranges_claims(rg), b))
				own[b] = (uint8_t)i;
	}
}

static unsigned live(struct run *r)
{
	unsigned k = 0;
	for (unsigned i = 0; i < r->n; i++)
		k += sim_ranges(r->s, i) != NULL;
	return k;
}

static void whole(struct run *r)
{
	for (unsigned i = 0; i < r->n; i++)
		r->side[i] = (1u << r->n) - 1;
}

/* After a change at sim_now(): complete within COMPLETE_IN, then settled and equal. */
static void after_change(struct run *r, bool crash, uint64_t allow)
{
	uint64_t t0 = sim_now(r->s), done = 0, end = t0 + allow + SETTLE - COMPLETE_IN;
	char why[160] = "";
	while (sim_now(r->s) < end) {
		advance(r, sim_now(r->s) + 1);
		bool ok = complete(r, why, sizeof(why));
		if (ok && !done)
			done = sim_now(r->s);
		if (!ok)
			done = 0;
		if (sim_now(r->s) == t0 + allow && !ok && getenv("RANGES_VERBOSE"))
			for (unsigned k = 0; k < r->n; k++)
				dump(r, k, 604);
		if (sim_now(r->s) == t0 + allow && !getenv("RANGES_NO_BOUND"))
			check(ok, r->seed, "not complete %llu ms after a change: %s",
			      (unsigned long long)allow, why);
	}
	check(done, r->seed, "not complete when settled: %s", why);
	if (crash && done - t0 > r->sn->complete_ms[r->p.loss > 0])
		r->sn->complete_ms[r->p.loss > 0] = done - t0;
	if (!crash && done - t0 > r->sn->rejoin_ms[r->p.loss > 0])
		r->sn->rejoin_ms[r->p.loss > 0] = done - t0;
	check_equal(r);
}

/* (e): every bucket of the dead life's has exactly one heir among the live nodes. */
static void check_heirs(struct run *r, const struct ranges_id *dead)
{
	for (uint32_t b = 0; b < BUCKETS; b++) {
		unsigned heirs = 0;
		for (unsigned j = 0; j < r->n; j++) {
			struct ranges *rg = sim_ranges(r->s, j);
			struct ranges_id ids[RANGES_INHERIT_MAX];
			size_t k = rg ? ranges_inherited(rg, b, ids, RANGES_INHERIT_MAX) : 0;
			for (size_t q = 0; q < k && q < RANGES_INHERIT_MAX; q++)
				heirs += ids[q].node == dead->node &&
					 ids[q].incarnation == dead->incarnation;
		}
		if (heirs != 1 && getenv("RANGES_VERBOSE"))
			for (unsigned j = 0; j < r->n; j++) {
				struct ranges *rg = sim_ranges(r->s, j);
				struct ranges_id ids[RANGES_INHERIT_MAX];
				size_t k = rg ? ranges_inherited(rg, b, ids, RANGES_INHERIT_MAX) : 0;
				for (size_t q = 0; q < k && q < RANGES_INHERIT_MAX; q++)
					fprintf(stderr, "node %u lists %u/%llu\n", j + 1, ids[q].node,
						(unsigned long long)ids[q].incarnation);
			}
		check(heirs == 1, r->seed, "bucket %u of node %u (incarnation %llu): %u heirs", b,
		      dead->node, (unsigned long long)dead->incarnation, heirs);
	}
	r->sn->heirs_checked++;
}

/* (d): a join or leave from a settled whole cluster. */
static void measure_move(struct run *r, const uint8_t *before, unsigned n_before, int who,
			 bool join)
{
	uint8_t after[BUCKETS];
	owners(r, after);
	unsigned moved = 0, minimum = 0;
	for (uint32_t b = 0; b < BUCKETS; b++) {
		moved += before[b] != after[b];
		minimum += join ? after[b] == who : before[b] == who;
	}
	double excess = 100.0 * (moved - minimum) / BUCKETS;
	unsigned n = join ? n_before + 1 : n_before;
	check(excess <= MOVE_BOUND_PCT, r->seed, "%s at %u nodes moved %u buckets, minimum %u",
	      join ? "a join" : "a leave", n, moved, minimum);
	if (excess > r->sn->excess_pct) {
		r->sn->excess_pct = excess;
		r->sn->excess_n = n;
	}
	r->sn->excess_sum += excess;
	r->sn->moves++;
}

static void one_seed(uint64_t seed, struct seen *sn)
{
	struct run run, *r = &run;
	memset(r, 0, sizeof(*r));
	uint64_t st = seed * 7919;
	r->seed = seed;
	r->sn = sn;
	static const unsigned sizes[] = {2, 16, 3, 12, 4, 9, 5, 14, 6, 8, 7, 10, 11, 13, 15};
	r->n = sizes[(seed - 1) % 15];		  /* 2..16 */
	double loss = (double)pick(&st, 6) / 100; /* 0..5 % */
	r->p = (struct sim_params){
	    .seed = seed,
	    .nodes = r->n,
	    .interval_ms = IVL,
	    .dead_count = DEAD,
	    .encrypt = seed % 4 == 0,
	    .loss = loss,
	    .delay_ms = 1,
	    .jitter_ms = pick(&st, 3),
	    .buckets = BUCKETS,
	};
	bool weighted = seed % 5 == 0;
	for (unsigned i = 0; i < r->n; i++)
		r->p.weight[i] = (uint16_t)(weighted ? 1 + pick(&st, 4) : 1);
	r->s = sim_new(&r->p);
	assert_non_null(r->s);
	whole(r);
	/* some start later: they join */
	unsigned late = r->n > 2 ? pick(&st, r->n / 2) : 0;
	for (unsigned i = r->n - late; i < r->n; i++)
		sim_crash(r->s, i);
	after_change(r, false, (DEAD + 1) * IVL + COMPLETE_IN); /* a cold start listens first */
	for (int ev = 0; ev < 6; ev++) {
		unsigned what = pick(&st, 4), n_live = live(r);
		uint8_t before[BUCKETS];
		owners(r, before);
		if (what == 0 && n_live > 1) {
			/* a crash */
			unsigned i;
			do
				i = pick(&st, r->n);
			while (!sim_ranges(r->s, i));
			struct ranges_view dv;
			ranges_view(sim_ranges(r->s, i), &dv);
			sim_crash(r->s, i);
			if (getenv("RANGES_VERBOSE"))
				fprintf(stderr, "%llu crash %u\n",
					(unsigned long long)sim_now(r->s), i + 1);
			sn->events[0]++;
			after_change(r, true, COMPLETE_IN);
			check_heirs(r, &dv.self);
			measure_move(r, before, n_live, (int)i, false);
		} else if (what <= 1 && n_live < r->n) {
			/* a (re)start: a join with a new incarnation */
			unsigned i;
			do
				i = pick(&st, r->n);
			while (sim_ranges(r->s, i));
			sim_restart(r->s, i);
			if (getenv("RANGES_VERBOSE"))
				fprintf(stderr, "%llu join %u\n", (unsigned long long)sim_now(r->s),
					i + 1);
			sn->events[1]++;
			after_change(r, false, REJOIN_IN);
			measure_move(r, before, n_live, (int)i, true);
		} else if (n_live > 1) {
			/* a partition, held for a while, then healed */
			uint32_t a = 0;
			while (a == 0 || a == (1u << r->n) - 1)
				a = (uint32_t)pick(&st, 1u << r->n);
			uint32_t b = ((1u << r->n) - 1) & ~a;
			sim_partition(r->s, a, b);
			if (getenv("RANGES_VERBOSE"))
				fprintf(stderr, "%llu partition %x | %x\n",
					(unsigned long long)sim_now(r->s), a, b);
			for (unsigned i = 0; i < r->n; i++)
				r->side[i] = a >> i & 1 ? a : b;
			sn->events[2]++;
			after_change(r, true, COMPLETE_IN);
			advance(r, sim_now(r->s) + pick(&st, 500));
			sim_heal(r->s);
			if (getenv("RANGES_VERBOSE"))
				fprintf(stderr, "%llu heal\n", (unsigned long long)sim_now(r->s));
			whole(r);
			sn->events[3]++;
			after_change(r, false, REJOIN_IN);
		}
	}
	sim_free(r->s);
}

static void test_ranges_properties(void **state)
{
	(void)state;
	struct seen sn;
	memset(&sn, 0, sizeof(sn));
	const char *env = getenv("RANGES_SEEDS"); /* a shorter run while working on it */
	uint64_t seeds = env ? strtoull(env, NULL, 10) : SEEDS;
	const char *from = getenv("RANGES_SEED"); /* that seed alone */
	for (uint64_t seed = from ? strtoull(from, NULL, 10) : 1;
	     seed <= (from ? strtoull(from, NULL, 10) : seeds); seed++) {
		if (getenv("RANGES_VERBOSE"))
			fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
		one_seed(seed, &sn);
	}
	printf("ranges: %llu seeds, 2-16 nodes, %d buckets, loss 0-5%%: %u crashes, %u joins, "
	       "%u partitions, %u heals; %u virtual ms checked\n",
	       (unsigned long long)seeds, BUCKETS, sn.events[0], sn.events[1], sn.events[2],
	       sn.events[3], sn.ms_checked);
	printf("(a) complete after a crash or partition within %llu ms (no loss), %llu ms (loss); "
	       "bound %d ms\n",
	       (unsigned long long)sn.complete_ms[0], (unsigned long long)sn.complete_ms[1],
	       COMPLETE_IN);
	printf("    and after a join or heal within %llu ms (no loss), %llu ms (loss); bound %d ms\n",
	       (unsigned long long)sn.rejoin_ms[0], (unsigned long long)sn.rejoin_ms[1], REJOIN_IN);
	printf("(b) never two takers among nodes that hear each other (every ms)\n");
	printf("(c) equal: every node claims its aim, within one bucket of its weighted share\n");
	printf("(e) one heir of every bucket after each of %u crashes\n", sn.heirs_checked);
	printf("(d) %u joins/leaves: moved over the minimum: mean %.2f %%, worst %.2f %% of the "
	       "buckets (at %u nodes); bound %.1f %%\n",
	       sn.moves, sn.moves ? sn.excess_sum / sn.moves : 0, sn.excess_pct, sn.excess_n,
	       MOVE_BOUND_PCT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges_properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
