/*
 * Property tests of the cluster layers (wire, member, rbcast under
 * cluster) over many seeds of the simulator: lossy, duplicating,
 * reordering networks, partitions, link failures, crashes, restarts,
 * forgeries and replays.
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
#define BIT(i) (1u << (i))
#define ALL(n) ((1u << (n)) - 1)
#define MAXMSG 4096

/* ---- helpers over the records ---- */

/* Count node r's records of type about peer (0: any) in [t0, t1]. */
static size_t count_recs(struct sim *s, unsigned r, uint8_t type, uint32_t peer, uint64_t t0,
			 uint64_t t1)
{
	size_t n, k = 0;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].node == r && v[i].type == type && (!peer || v[i].peer == peer) &&
		    v[i].t >= t0 && v[i].t <= t1)
			k++;
	return k;
}

/* The time of node r's first record of type about peer at or after t0; UINT64_MAX if none. */
static uint64_t first_rec(struct sim *s, unsigned r, uint8_t type, uint32_t peer, uint64_t t0)
{
	size_t n;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i].node == r && v[i].type == type && v[i].peer == peer && v[i].t >= t0)
			return v[i].t;
	return UINT64_MAX;
}

/*
 * Every DELIVER is an intact message, from the origin it names, never a
 * node's own.
 */
static void check_intact(struct sim *s, uint64_t seed)
{
	size_t n;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != CA_DELIVER)
			continue;
		unsigned o, g;
		uint64_t c;
		check(sim_msg_decode(&v[i], &o, &g, &c), seed, "record %zu: damaged message", i);
		check(v[i].peer == ID(o), seed, "record %zu: from %u but says origin %u", i,
		      v[i].peer, ID(o));
		check(v[i].node != o, seed, "node %u delivered its own message", o);
	}
}

/* The counters node r delivered of origin o in generation g, in order (at most cap). */
static size_t stream(struct sim *s, unsigned r, unsigned o, unsigned g, uint64_t *out, size_t cap,
		     uint64_t *times)
{
	size_t n, k = 0;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned ro, rg;
		uint64_t c;
		if (v[i].node != r || v[i].type != CA_DELIVER ||
		    !sim_msg_decode(&v[i], &ro, &rg, &c))
			continue;
		if (ro != o || rg != g || k == cap)
			continue;
		if (times)
			times[k] = v[i].t;
		out[k++] = c;
	}
	return k;
}

/* Node r delivered exactly first..last of o's generation g, in order, once each. */
static void check_exact(struct sim *s, uint64_t seed, unsigned r, unsigned o, unsigned g,
			uint64_t first, uint64_t last)
{
	static uint64_t v[MAXMSG];
	size_t n = stream(s, r, o, g, v, MAXMSG, NULL);
	size_t want = last >= first ? (size_t)(last - first + 1) : 0;
	for (size_t i = 0; i < n && i < want; i++)
		check(v[i] == first + i, seed, "node %u, origin %u: #%zu is %llu, want %llu", r, o,
		      i, (unsigned long long)v[i], (unsigned long long)(first + i));
	check(n == want, seed, "node %u, origin %u gen %u: delivered %zu, want %zu", r, o, g, n,
	      want);
}

/* Run until every live node has every other live node UP; fail after limit ms. */
static void warm_up(struct sim *s, uint64_t seed, uint64_t limit)
{
	uint64_t end = sim_now(s) + limit;
	unsigned n = sim_nodes(s);
	for (;;) {
		bool all = true;
		for (unsigned r = 0; r < n && all; r++) {
			struct cluster *c = sim_cluster(s, r);
			for (unsigned o = 0; c && o < n && all; o++)
				if (o != r && sim_cluster(s, o) &&
				    !member_is_up(cluster_member(c), ID(o)))
					all = false;
		}
		if (all)
			return;
		check(sim_now(s) < end, seed, "nodes not all up after %llu ms",
		      (unsigned long long)limit);
		sim_run_until(s, sim_now(s) + 10);
	}
}

static void check_sane(struct sim *s, uint64_t seed)
{
	struct sim_counts k;
	sim_counts(s, &k);
	check(k.stuck == 0, seed, "a core left its deadline due after its tick (%llu times)",
	      (unsigned long long)k.stuck);
	check(k.dropped_actions == 0, seed, "actions lost to ENOMEM");
	check(k.malformed == 0, seed, "%llu malformed payloads", (unsigned long long)k.malformed);
	check(k.state_drops == 0, seed, "%llu state TLVs refused",
	      (unsigned long long)k.state_drops);
	check_intact(s, seed);
}

/*
 * (a) FIFO per sender, no duplicates, every message to every node.
 *
 * 3-5 nodes, each broadcasting every 100 ms for 10 s, loss 0-20 %,
 * duplication 0-10 %, delay 1 ms + 0-30 ms jitter (reordering). The
 * sender buffer (256) holds far more than any gap here, so nothing may be
 * lost: every node delivers exactly 1..sent of every other node, in
 * order, and nobody is reported down or out of sync. DeadInterval is 20
 * here, not 3: at 20 % loss two or three lost heartbeats in a row on one
 * of 20 links happen every few seconds, and a (correct) NODE_DOWN makes
 * rbcast forget the gap, which is another test's subject. With 10 it did
 * happen once in the first 400 seeds (seed 33, 20 % loss: ten heartbeats in
 * a row lost on one link, an unlucky draw); with 20 it needs 19 losses in
 * a row (5e-14 per heartbeat and link).
 */
#define A_SEEDS 1000
static void test_fifo_complete(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= A_SEEDS; seed++) {
		uint64_t st = seed * 1000003;
		unsigned n = 3 + pick(&st, 3);
		struct sim_params p = {
		    .seed = seed,
		    .nodes = n,
		    .interval_ms = 100,
		    .dead_count = 20,
		    .send_buffer = 256,
		    .encrypt = seed & 1,
		    .loss = pick(&st, 21) / 100.0,
		    .dup = pick(&st, 11) / 100.0,
		    .delay_ms = 1,
		    .jitter_ms = pick(&st, 31),
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		warm_up(s, seed, 3000);
		uint64_t t0 = sim_now(s);
		struct sim_traffic tr;
		memset(&tr, 0, sizeof(tr));
		sim_traffic_run(s, &tr, ALL(n), 100, t0 + 10000);
		sim_run_until(s, sim_now(s) + 3000);
		check_sane(s, seed);
		for (unsigned r = 0; r < n; r++) {
			check(count_recs(s, r, CA_NODE_DOWN, 0, 0, UINT64_MAX) == 0, seed,
			      "node %u saw a node down (loss %.2f)", r, p.loss);
			check(count_recs(s, r, CA_OUT_OF_SYNC, 0, 0, UINT64_MAX) == 0, seed,
			      "node %u saw out of sync (loss %.2f)", r, p.loss);
			for (unsigned o = 0; o < n; o++)
				if (o != r)
					check_exact(s, seed, r, o, 1, 1, tr.sent[o]);
		}
		sim_free(s);
	}
	printf("(a) fifo/complete: %d seeds, 3-5 nodes, loss 0-20%%, dup 0-10%%, jitter 0-30 ms\n",
	       A_SEEDS);
}

/*
 * (b) A partition longer than the sender buffer: out of sync, then
 * delivery resumes.
 *
 * 3 nodes, SendBuffer 16, everyone broadcasting every 100 ms; node 2 is
 * cut from {0, 1} for 2-3 s (20-30 messages from each side, more than
 * 16), shorter than DeadInterval (40 x 100 ms) so nobody is declared
 * down. After healing, each side reports the other side's nodes out of
 * sync, and delivers their messages in order without duplicates:
 * contiguous from 1 to the cut, then gaps, each after an out-of-sync
 * report (the j-th gap not before the j-th report), then contiguous to
 * the last message sent. Inside {0, 1} nothing is lost.
 *
 * Usually there is one report per origin, but not always: right after
 * the heal the oldest messages the origin still holds are at the edge of
 * its buffer, and if the resend of one of them is lost, the origin's next
 * broadcast pushes it out before the NAK retry arrives: a second GONE, a
 * second report, correctly (seed 32 does this at 5 % loss).
 */
#define B_SEEDS 300
static void check_resync(struct sim *s, uint64_t seed, unsigned r, unsigned o, uint64_t sent,
			 uint64_t heal)
{
	static uint64_t v[MAXMSG], t[MAXMSG];
	size_t n = stream(s, r, o, 1, v, MAXMSG, t);
	size_t nrec, k = 0;
	const struct sim_rec *rec = sim_records(s, &nrec);
	uint64_t oos[16];
	for (size_t i = 0; i < nrec; i++)
		if (rec[i].node == r && rec[i].type == CA_OUT_OF_SYNC && rec[i].peer == ID(o)) {
			check(rec[i].t >= heal, seed,
			      "node %u: out of sync about %u before the heal", r, o);
			check(k < 16, seed, "node %u: more than 16 out-of-sync reports about %u", r,
			      o);
			oos[k++] = rec[i].t;
		}
	check(k >= 1, seed, "node %u: no out-of-sync report about %u", r, o);
	check(oos[0] <= heal + 1000, seed, "node %u: out of sync about %u only at %llu", r, o,
	      (unsigned long long)oos[0]);
	check(n > 0 && v[0] == 1, seed, "node %u: origin %u's stream does not start at 1", r, o);
	size_t gaps = 0;
	for (size_t i = 1; i < n; i++) {
		check(v[i] > v[i - 1], seed, "node %u: origin %u: %llu after %llu", r, o,
		      (unsigned long long)v[i], (unsigned long long)v[i - 1]);
		if (v[i] != v[i - 1] + 1) {
			check(gaps < k && t[i] >= oos[gaps], seed,
			      "node %u: origin %u: gap %zu without an out-of-sync report", r, o,
			      gaps + 1);
			gaps++;
		}
	}
	check(gaps >= 1, seed, "node %u: origin %u: no gap", r, o);
	check(v[n - 1] == sent, seed, "node %u: origin %u: last %llu, want %llu", r, o,
	      (unsigned long long)v[n - 1], (unsigned long long)sent);
}

static void test_out_of_sync(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= B_SEEDS; seed++) {
		uint64_t st = seed * 7919;
		struct sim_params p = {
		    .seed = seed,
		    .nodes = 3,
		    .interval_ms = 100,
		    .dead_count = 40,
		    .send_buffer = 16,
		    .encrypt = seed & 1,
		    .loss = pick(&st, 6) / 100.0,
		    .dup = pick(&st, 6) / 100.0,
		    .delay_ms = 1,
		    .jitter_ms = pick(&st, 11),
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		warm_up(s, seed, 3000);
		struct sim_traffic tr;
		memset(&tr, 0, sizeof(tr));
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 2000);
		sim_partition(s, BIT(0) | BIT(1), BIT(2));
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 2000 + pick(&st, 1001));
		sim_heal(s);
		uint64_t heal = sim_now(s);
		sim_traffic_run(s, &tr, ALL(3), 100, heal + 3000);
		sim_run_until(s, sim_now(s) + 3000);
		check_sane(s, seed);
		for (unsigned r = 0; r < 3; r++)
			check(count_recs(s, r, CA_NODE_DOWN, 0, 0, UINT64_MAX) == 0, seed,
			      "node %u saw a node down", r);
		check_exact(s, seed, 0, 1, 1, 1, tr.sent[1]);
		check_exact(s, seed, 1, 0, 1, 1, tr.sent[0]);
		check(count_recs(s, 0, CA_OUT_OF_SYNC, ID(1), 0, UINT64_MAX) == 0, seed,
		      "0 and 1 were never cut");
		check_resync(s, seed, 2, 0, tr.sent[0], heal);
		check_resync(s, seed, 2, 1, tr.sent[1], heal);
		check_resync(s, seed, 0, 2, tr.sent[2], heal);
		check_resync(s, seed, 1, 2, tr.sent[2], heal);
		sim_free(s);
	}
	printf("(b) out of sync: %d seeds, SendBuffer 16, cut 2-3 s, loss 0-5%%\n", B_SEEDS);
}

/*
 * (c1) A crash is detected in time.
 *
 * HeartbeatInterval I = 100 ms, DeadInterval D = 3, no loss, delay 1 ms
 * + 0..J jitter. Member declares a peer down D*I after the last heartbeat
 * it heard. The crashed node's last heartbeat left at h (the sim records
 * it) and arrived at h + delay, delay in [1, 1 + J]; nothing later
 * arrives. So the report must come in [h + D*I + 1, h + D*I + 1 + J + 1]
 * (the last +1 allows "more than" instead of "at least" in the timeout
 * comparison). Since h is within one interval before the crash at T,
 * that is also within (T + (D-1)*I, T + D*I + J + 2]: the "DeadInterval
 * minus at most one heartbeat" of the brief, exactly.
 *
 * (c2) With 5 % loss the last heartbeats that reached a peer may be older
 * than h, which makes the report earlier by whole intervals; it can never
 * be later, so only the upper bound is asserted.
 */
#define C_SEEDS 300
static void crash_case(uint64_t seed, double loss)
{
	uint64_t st = seed * 104729;
	unsigned n = 3 + pick(&st, 3);
	struct sim_params p = {
	    .seed = seed,
	    .nodes = n,
	    .interval_ms = 100,
	    .dead_count = 3,
	    .encrypt = seed & 1,
	    .loss = loss,
	    .delay_ms = 1,
	    .jitter_ms = pick(&st, 21),
	};
	struct sim *s = sim_new(&p);
	assert_non_null(s);
	warm_up(s, seed, 5000);
	struct sim_traffic tr;
	memset(&tr, 0, sizeof(tr));
	sim_traffic_run(s, &tr, ALL(n), 100, sim_now(s) + 1000 + pick(&st, 1000));
	unsigned k = pick(&st, n);
	uint64_t crash = sim_now(s);
	bool was_up[SIM_MAX_NODES];
	for (unsigned r = 0; r < n; r++)
		was_up[r] = r != k && member_is_up(cluster_member(sim_cluster(s, r)), ID(k));
	uint64_t h = sim_last_heartbeat(s, k);
	check(h <= crash && h + 100 > crash, seed, "last heartbeat %llu, crash at %llu",
	      (unsigned long long)h, (unsigned long long)crash);
	/*
	 * Its last two messages: the first cut from everyone, the second
	 * not, so the others hold a gap they NAK until they see it down.
	 */
	uint8_t msg[SIM_MSG_MIN];
	sim_partition(s, BIT(k), ALL(n) & ~BIT(k));
	sim_broadcast(s, k, msg, sim_msg_encode(msg, sizeof(msg), k, 1, ++tr.sent[k], 0));
	sim_heal(s);
	sim_broadcast(s, k, msg, sim_msg_encode(msg, sizeof(msg), k, 1, ++tr.sent[k], 0));
	sim_crash(s, k);
	uint64_t lo = h + 300 + p.delay_ms, hi = h + 300 + p.delay_ms + p.jitter_ms + 1;
	sim_traffic_run(s, &tr, ALL(n), 100, hi + 100);
	struct sim_counts k1, k2;
	sim_counts(s, &k1);
	sim_traffic_run(s, &tr, ALL(n), 100, crash + 2000);
	sim_counts(s, &k2);
	/* NAKs to k until it is down (those riding on heartbeats are not counted), none after */
	check(k1.to_crashed > 0 || loss > 0, seed, "nobody NAKed the crashed node's gap");
	check(k2.to_crashed == k1.to_crashed, seed, "%llu NAKs to node %u after it was down",
	      (unsigned long long)(k2.to_crashed - k1.to_crashed), k);
	for (unsigned r = 0; r < n; r++) {
		if (r == k)
			continue;
		/* with loss, k may have been (falsely) down already: nothing to report then */
		check(loss > 0 || was_up[r], seed, "node %u did not have %u up", r, k);
		if (!was_up[r])
			continue;
		uint64_t t = first_rec(s, r, CA_NODE_DOWN, ID(k), crash);
		check(t != UINT64_MAX, seed, "node %u never saw crashed %u down", r, k);
		check(t <= hi, seed, "node %u saw %u down at %llu, last heartbeat %llu: late", r, k,
		      (unsigned long long)t, (unsigned long long)h);
		if (loss == 0)
			check(t >= lo, seed,
			      "node %u saw %u down at %llu, last heartbeat %llu: early", r, k,
			      (unsigned long long)t, (unsigned long long)h);
		check(count_recs(s, r, CA_NODE_DOWN, ID(k), crash, UINT64_MAX) == 1, seed,
		      "node %u: %u reported down more than once", r, k);
		/*
		 * At 0 % loss nobody else goes down. At 5 % loss with D = 3 a
		 * false down of a live node needs 3 losses in a row (1.25e-4 per
		 * heartbeat and link): possible in these runs, so not asserted.
		 */
		if (loss == 0)
			check(count_recs(s, r, CA_NODE_DOWN, 0, 0, UINT64_MAX) == 1, seed,
			      "node %u: a live node went down", r);
	}
	check_sane(s, seed);
	sim_free(s);
}

static void test_crash_detected(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= C_SEEDS; seed++)
		crash_case(seed, 0);
	for (uint64_t seed = 1; seed <= C_SEEDS; seed++)
		crash_case(seed + 5000, 0.05);
	printf("(c) crash detected: %d seeds at 0%% loss (exact window h+301..h+302+jitter), "
	       "%d at 5%% (upper bound)\n",
	       C_SEEDS, C_SEEDS);
}

/*
 * (c3) No false down while heartbeats flow.
 *
 * Member declares a peer down when nothing arrived for D*I. With delay
 * jitter, D-1 heartbeats lost in a row suffice when the next one arrives
 * later (relative to its sending) than the last one heard, since then the
 * silence is D*I plus the difference. At 0 % loss with D = 3 and jitter at
 * most 10 ms a false down cannot happen: the gap between arrivals is at
 * most I + 10 ms < D*I. At 5 % loss with D = 6 it needs at least 5 losses
 * in a row on one link: at most p^5 = 3.1e-7 per heartbeat and link; over
 * these runs (C3_SEEDS x 6 links x 1200 heartbeats, 10 seeds: 72000) the
 * expected number is below 0.03. That is improbable, not impossible; the
 * seeds are fixed, so the outcome is too. Both counts are asserted zero.
 *
 * For contrast, 20 % loss with D = 3 is measured and printed, not
 * asserted: two losses in a row (4 %) and a later arrival (about half the
 * time) already time a peer out, about 2 % of heartbeats per link, and
 * each such timeout also makes the peer on the other end report a
 * NODE_DOWN ("it lost us", see member.c). The default DeadInterval suits
 * a LAN, not a link that loses one datagram in five.
 */
#define C3_SEEDS 10
static size_t false_downs(uint64_t seed, double loss, uint32_t dead, uint64_t ms)
{
	struct sim_params p = {
	    .seed = seed,
	    .nodes = 3,
	    .interval_ms = 100,
	    .dead_count = dead,
	    .loss = loss,
	    .delay_ms = 1,
	    .jitter_ms = 10,
	};
	struct sim *s = sim_new(&p);
	assert_non_null(s);
	warm_up(s, seed, 5000);
	struct sim_traffic tr;
	memset(&tr, 0, sizeof(tr));
	sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + ms);
	check_sane(s, seed);
	size_t downs = 0;
	for (unsigned r = 0; r < 3; r++)
		downs += count_recs(s, r, CA_NODE_DOWN, 0, 0, UINT64_MAX);
	sim_free(s);
	return downs;
}

static void test_no_false_down(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= C3_SEEDS; seed++) {
		size_t d0 = false_downs(seed, 0, 3, 120000);
		check(d0 == 0, seed, "%zu false downs at 0%% loss, DeadInterval 3", d0);
		size_t d5 = false_downs(seed, 0.05, 6, 120000);
		check(d5 == 0, seed, "%zu false downs at 5%% loss, DeadInterval 6", d5);
	}
	size_t d20 = false_downs(1, 0.20, 3, 120000);
	printf("(c3) no false down: %d seeds x 120 s at 0%% (D=3) and 5%% (D=6): none; "
	       "for contrast, 20%% loss with D=3: %zu NODE_DOWN reports of live nodes in "
	       "120 s, 3 nodes\n",
	       C3_SEEDS, d20);
}

/*
 * (d) While its own link is down, a node declares nobody down.
 *
 * Node 0's link goes down for 1-3 s (many DeadIntervals): it reports
 * OWN_DOWN, then OWN_UP, and no NODE_DOWN while the link is down. The
 * others, who cannot hear it, rightly declare it down.
 *
 * After the link returns, node 0 may report NODE_DOWN once per peer, and
 * that is member's design, not a false alarm: the peers timed node 0 out,
 * so their first heartbeats no longer list it ("it lost us": whatever was
 * shared with it is stale, the layers above must resync). So the test
 * asserts no NODE_DOWN in [link down, link up) only, then that everyone
 * is up again within 3 s, and that every message sent after that is
 * delivered everywhere exactly once, in order.
 */
#define D_SEEDS 200

/* Node r delivered exactly first..last of o (gen 1), ignoring counters below first. */
static void check_tail(struct sim *s, uint64_t seed, unsigned r, unsigned o, uint64_t first,
		       uint64_t last)
{
	static uint64_t v[MAXMSG];
	size_t n = stream(s, r, o, 1, v, MAXMSG, NULL), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < first)
			continue;
		check(v[i] == first + k, seed, "node %u, origin %u: %llu, want %llu", r, o,
		      (unsigned long long)v[i], (unsigned long long)(first + k));
		k++;
	}
	check(first + k == last + 1, seed, "node %u, origin %u: %llu..%llu, want ..%llu", r, o,
	      (unsigned long long)first, (unsigned long long)(first + k - 1),
	      (unsigned long long)last);
}

static void test_own_link_down(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= D_SEEDS; seed++) {
		uint64_t st = seed * 15485863;
		struct sim_params p = {
		    .seed = seed,
		    .nodes = 3,
		    .interval_ms = 100,
		    .dead_count = 3,
		    .encrypt = seed & 1,
		    .loss = pick(&st, 3) / 100.0,
		    .delay_ms = 1,
		    .jitter_ms = pick(&st, 11),
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		warm_up(s, seed, 3000);
		struct sim_traffic tr;
		memset(&tr, 0, sizeof(tr));
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 1000);
		uint64_t down = sim_now(s);
		sim_set_link(s, 0, false);
		sim_traffic_run(s, &tr, ALL(3), 100, down + 1000 + pick(&st, 2001));
		uint64_t up = sim_now(s);
		sim_set_link(s, 0, true);
		warm_up(s, seed, 3000);
		uint64_t mark[3];
		for (unsigned i = 0; i < 3; i++)
			mark[i] = tr.sent[i];
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 2000);
		sim_run_until(s, sim_now(s) + 2000);
		check_sane(s, seed);
		check(count_recs(s, 0, CA_OWN_DOWN, 0, down, down) == 1, seed, "no OWN_DOWN");
		check(count_recs(s, 0, CA_OWN_UP, 0, up, up) == 1, seed, "no OWN_UP");
		check(count_recs(s, 0, CA_NODE_DOWN, 0, down, up - 1) == 0, seed,
		      "the isolated node declared someone down");
		for (unsigned r = 1; r < 3; r++)
			check(count_recs(s, r, CA_NODE_DOWN, ID(0), down, up) == 1, seed,
			      "node %u did not see the isolated node down", r);
		for (unsigned r = 0; r < 3; r++)
			for (unsigned o = 0; o < 3; o++)
				if (o != r)
					check_tail(s, seed, r, o, mark[o] + 1, tr.sent[o]);
		sim_free(s);
	}
	printf("(d) own link down: %d seeds, outage 1-3 s, loss 0-2%%\n", D_SEEDS);
}
/*
 * (e) Forged and replayed datagrams change nothing.
 *
 * After a quiet second (no loss, no duplication: every datagram was
 * received exactly once), the network carries: datagrams made by a node
 * with the wrong key, both impersonating node 0 with a newer epoch and as
 * a stranger; real datagrams with one bit flipped; and real datagrams of
 * node 0 captured earlier, replayed. Nothing is delivered, no node goes
 * up or down, and each is counted under its wire reason: bad_auth for
 * the forged and altered ones, replay for the replayed ones, own for a
 * node's own datagram sent back to it. Afterwards node 0's next message
 * still arrives (the forged newer epoch did not poison its replay state).
 */
#define E_SEEDS 100
#define CAP_MAX 64

struct capture {
	unsigned n;
	unsigned from[CAP_MAX];
	size_t len[CAP_MAX];
	uint8_t buf[CAP_MAX][WIRE_MAX_DATAGRAM];
};

static void tap_capture(void *arg, uint64_t t, unsigned from, int to, const uint8_t *buf,
			size_t len)
{
	struct capture *c = arg;
	(void)t;
	if (to != -1 || c->n == CAP_MAX)
		return;
	c->from[c->n] = from;
	c->len[c->n] = len;
	memcpy(c->buf[c->n], buf, len);
	c->n++;
}

static unsigned inject_actions(struct sim *s, const struct cluster_actions *a, unsigned to)
{
	unsigned k = 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == CA_SEND_ALL || a->v[i].type == CA_SEND_TO) {
			sim_inject(s, to, a->v[i].data, a->v[i].len, sim_now(s) + 1);
			k++;
		}
	return k;
}

static unsigned forge(struct sim *s, uint32_t id, bool encrypt, const struct wire_key *key)
{
	struct cluster_params fp = {
	    .node_id = id,
	    .epoch = 1000,
	    .key = *key,
	    .encrypt = encrypt,
	    .interval_ms = 100,
	    .dead_count = 3,
	    .send_buffer = 16,
	};
	struct cluster *f = cluster_new(&fp);
	assert_non_null(f);
	struct cluster_actions a;
	cluster_actions_init(&a);
	cluster_tick(f, sim_now(s), &a); /* a heartbeat */
	uint8_t msg[64];
	size_t len = sim_msg_encode(msg, sizeof(msg), id - 1, 1, 999, sizeof(msg));
	assert_int_equal(cluster_broadcast(f, msg, len, sim_now(s), &a), 0);
	unsigned k = 0;
	for (unsigned to = 1; to < 3; to++)
		k += inject_actions(s, &a, to);
	cluster_actions_free(&a);
	cluster_free(f);
	return k;
}

static void test_forged_replayed(void **state)
{
	(void)state;
	static struct capture cap;
	for (uint64_t seed = 1; seed <= E_SEEDS; seed++) {
		bool enc = seed & 1;
		struct sim_params p = {
		    .seed = seed,
		    .nodes = 3,
		    .interval_ms = 100,
		    .dead_count = 3,
		    .encrypt = enc,
		    .delay_ms = 1,
		    .jitter_ms = 5,
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		warm_up(s, seed, 3000);
		struct sim_traffic tr;
		memset(&tr, 0, sizeof(tr));
		memset(&cap, 0, sizeof(cap));
		sim_set_tap(s, tap_capture, &cap);
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 1000);
		sim_set_tap(s, NULL, NULL);
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 1000);
		sim_run_until(s, sim_now(s) + 1000);
		check_sane(s, seed);

		struct sim_counts before, after;
		sim_counts(s, &before);
		size_t nrec;
		(void)sim_records(s, &nrec);
		size_t delivered = (size_t)before.delivered;
		uint64_t t0 = sim_now(s) + 1;

		struct wire_key wrong = *sim_key();
		wrong.k[seed % WIRE_KEY_LEN] ^= 0x40;
		unsigned bad_auth = forge(s, ID(0), enc, &wrong) + forge(s, 9, enc, &wrong);
		unsigned replay = 0, own = 0;
		for (unsigned i = 0; i < cap.n; i++) {
			unsigned from = cap.from[i];
			for (unsigned to = 0; to < 3; to++) {
				if (to == from) {
					sim_inject(s, to, cap.buf[i], cap.len[i], t0);
					own++;
					continue;
				}
				sim_inject(s, to, cap.buf[i], cap.len[i], t0);
				replay++;
				/*
				 * One bit flipped in the epoch, the sequence number,
				 * the payload or the tag: only the tag can tell. (The
				 * other header fields have their own reasons.)
				 */
				uint8_t alt[WIRE_MAX_DATAGRAM];
				memcpy(alt, cap.buf[i], cap.len[i]);
				size_t r =
				    (size_t)(mix(seed * 64 + i * 3 + to) % (16 + cap.len[i] - 28));
				size_t at = r < 16 ? 8 + r : 28 + (r - 16);
				alt[at] ^= (uint8_t)(1u << (r % 8));
				sim_inject(s, to, alt, cap.len[i], t0);
				bad_auth++;
			}
		}
		sim_run_until(s, t0 + 1000);
		sim_counts(s, &after);
		check(cap.n > 10, seed, "captured only %u datagrams", cap.n);
		check(after.delivered == delivered, seed, "forged or replayed data delivered");
		for (unsigned r = 0; r < 3; r++) {
			check(count_recs(s, r, CA_NODE_DOWN, 0, t0, UINT64_MAX) == 0, seed,
			      "node down after injection");
			check(count_recs(s, r, CA_NODE_UP, 0, t0, UINT64_MAX) == 0, seed,
			      "node up after injection");
			check(count_recs(s, r, CA_OUT_OF_SYNC, 0, t0, UINT64_MAX) == 0, seed,
			      "out of sync after injection");
		}
		check(after.drops[WR_BAD_AUTH] - before.drops[WR_BAD_AUTH] == bad_auth, seed,
		      "bad_auth %llu, injected %u",
		      (unsigned long long)(after.drops[WR_BAD_AUTH] - before.drops[WR_BAD_AUTH]),
		      bad_auth);
		check(after.drops[WR_REPLAY] - before.drops[WR_REPLAY] == replay, seed,
		      "replay %llu, injected %u",
		      (unsigned long long)(after.drops[WR_REPLAY] - before.drops[WR_REPLAY]),
		      replay);
		check(after.drops[WR_OWN] - before.drops[WR_OWN] == own, seed,
		      "own %llu, injected %u",
		      (unsigned long long)(after.drops[WR_OWN] - before.drops[WR_OWN]), own);

		/* node 0 still gets through */
		uint8_t msg[32];
		size_t len = sim_msg_encode(msg, sizeof(msg), 0, 1, tr.sent[0] + 1, sizeof(msg));
		assert_int_equal(sim_broadcast(s, 0, msg, len), 0);
		tr.sent[0]++;
		sim_run_until(s, sim_now(s) + 500);
		check_exact(s, seed, 1, 0, 1, 1, tr.sent[0]);
		check_exact(s, seed, 2, 0, 1, 1, tr.sent[0]);
		check_sane(s, seed);
		sim_free(s);
	}
	printf("(e) forged/replayed: %d seeds\n", E_SEEDS);
}

/*
 * (f) A restart with a new epoch.
 *
 * Slow: node 2 crashes, stays away longer than DeadInterval (peers report
 * it down), comes back with a larger epoch: peers report it up again and
 * deliver its new messages 1..n in order; a datagram captured from its
 * previous life is refused as old_epoch. Quick: it restarts within one
 * heartbeat interval, before anyone can notice; the peers need not report
 * anything, but they must deliver its new epoch's messages from 1.
 * Either way the messages of the old life were all delivered.
 */
#define F_SEEDS 200
static void test_restart(void **state)
{
	(void)state;
	static struct capture cap;
	for (uint64_t seed = 1; seed <= F_SEEDS; seed++) {
		uint64_t st = seed * 32452843;
		bool quick = seed & 2;
		struct sim_params p = {
		    .seed = seed,
		    .nodes = 3,
		    .interval_ms = 100,
		    .dead_count = 3,
		    .encrypt = seed & 1,
		    .loss = quick ? 0 : pick(&st, 3) / 100.0,
		    .delay_ms = 1,
		    .jitter_ms = pick(&st, 6),
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		warm_up(s, seed, 3000);
		struct sim_traffic tr;
		memset(&tr, 0, sizeof(tr));
		memset(&cap, 0, sizeof(cap));
		sim_set_tap(s, tap_capture, &cap);
		sim_traffic_run(s, &tr, ALL(3), 100, sim_now(s) + 2000);
		sim_set_tap(s, NULL, NULL);
		/* let the last messages of the old life arrive */
		sim_traffic_run(s, &tr, BIT(0) | BIT(1), 100, sim_now(s) + 1000);
		uint64_t old_sent = tr.sent[2];
		uint64_t crash = sim_now(s);
		sim_crash(s, 2);
		uint64_t away = quick ? 1 + pick(&st, 99) : 1000 + pick(&st, 1000);
		sim_traffic_run(s, &tr, BIT(0) | BIT(1), 100, crash + away);
		uint64_t back = sim_now(s);
		sim_restart(s, 2);
		assert_int_equal(sim_generation(s, 2), 2);
		/* the new life keeps quiet for half a second, then talks */
		sim_traffic_run(s, &tr, BIT(0) | BIT(1), 100, back + 500);
		sim_traffic_run(s, &tr, ALL(3), 100, back + 3500);
		sim_run_until(s, sim_now(s) + 2000);
		check_sane(s, seed);
		check(tr.gen[2] == 2 && tr.sent[2] > 20, seed, "the new life sent %llu",
		      (unsigned long long)tr.sent[2]);

		unsigned old_cap = 0;
		for (unsigned i = 0; i < cap.n; i++)
			if (cap.from[i] == 2 && !old_cap)
				old_cap = i + 1;
		check(old_cap, seed, "nothing captured from node 2");
		struct sim_counts before, after;
		sim_counts(s, &before);
		sim_inject(s, 0, cap.buf[old_cap - 1], cap.len[old_cap - 1], sim_now(s));
		sim_run_until(s, sim_now(s) + 10);
		sim_counts(s, &after);
		check(after.drops[WR_OLD_EPOCH] == before.drops[WR_OLD_EPOCH] + 1, seed,
		      "an old life's datagram was not refused as old_epoch");
		check(after.delivered == before.delivered, seed,
		      "an old life's datagram delivered");

		for (unsigned r = 0; r < 2; r++) {
			check_exact(s, seed, r, 2, 1, 1, old_sent);
			check_exact(s, seed, r, 2, 2, 1, tr.sent[2]);
			check_exact(s, seed, r, 1 - r, 1, 1, tr.sent[1 - r]);
			if (quick)
				continue;
			uint64_t down = first_rec(s, r, CA_NODE_DOWN, ID(2), crash);
			check(down != UINT64_MAX && down < back, seed,
			      "node %u did not see the crashed node down", r);
			check(first_rec(s, r, CA_NODE_UP, ID(2), back) != UINT64_MAX, seed,
			      "node %u did not see the restarted node up", r);
		}
		for (unsigned o = 0; o < 2; o++) {
			/* the new life delivers from the first message it saw */
			static uint64_t v[MAXMSG], t[MAXMSG];
			size_t n = stream(s, 2, o, 1, v, MAXMSG, t), i = 0;
			while (i < n && t[i] < back)
				i++; /* the previous life's */
			check(i < n, seed, "the restarted node delivered nothing from %u", o);
			for (i++; i < n; i++)
				check(v[i] == v[i - 1] + 1, seed, "restarted node: gap from %u", o);
			check(v[n - 1] == tr.sent[o], seed, "restarted node: not all from %u", o);
		}
		sim_free(s);
	}
	printf("(f) restart: %d seeds, half slow (down, then up), half quick\n", F_SEEDS);
}

/*
 * (g) Soft state, one slot per channel, over a lossy, duplicating,
 * reordering network. Node 0 sets 'V' and 'R', node 1 only 'V', node 2
 * nothing. Every node hears every channel another node set, with its own
 * bytes, and no channel nobody set. Then node 0 clears 'R' and changes
 * 'V': once the datagrams on the way (delay + jitter) have arrived, nobody
 * hears node 0's 'R' again, and its 'V' is the new one.
 */
#define G_SEEDS 40

/* Node r's last STATE of chan from node ID peer in [t0, t1]; NULL if none. */
static const struct sim_rec *last_state(struct sim *s, unsigned r, uint32_t peer, uint8_t chan,
					uint64_t t0, uint64_t t1)
{
	size_t n;
	const struct sim_rec *v = sim_records(s, &n), *last = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].node == r && v[i].type == CA_STATE && v[i].peer == peer &&
		    v[i].chan == chan && v[i].t >= t0 && v[i].t <= t1)
			last = &v[i];
	return last;
}

static size_t count_states(struct sim *s, unsigned r, uint32_t peer, uint8_t chan, uint64_t t0,
			   uint64_t t1)
{
	size_t n, k = 0;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++)
		k += v[i].node == r && v[i].type == CA_STATE && v[i].peer == peer &&
		     v[i].chan == chan && v[i].t >= t0 && v[i].t <= t1;
	return k;
}

static void check_state(struct sim *s, uint64_t seed, unsigned r, unsigned o, uint8_t chan,
			const char *want, uint64_t t0, uint64_t t1)
{
	const struct sim_rec *x = last_state(s, r, ID(o), chan, t0, t1);
	check(x != NULL, seed, "node %u heard no '%c' from node %u", r, chan, o);
	check(x->len == strlen(want) && memcmp(x->data, want, x->len) == 0, seed,
	      "node %u: '%c' of node %u is %.*s, want %s", r, chan, o, (int)x->len, x->data, want);
}

static void test_state_channels(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= G_SEEDS; seed++) {
		struct sim_params p = {
		    .seed = seed,
		    .nodes = 3,
		    .interval_ms = 100,
		    .dead_count = 20,
		    .loss = 0.1,
		    .dup = 0.05,
		    .delay_ms = 1,
		    .jitter_ms = 30,
		};
		struct sim *s = sim_new(&p);
		assert_non_null(s);
		struct cluster *c0 = sim_cluster(s, 0), *c1 = sim_cluster(s, 1);
		assert_int_equal(cluster_set_state(c0, CLUSTER_CHAN_VIP, (const uint8_t *)"v0", 2),
				 0);
		assert_int_equal(
		    cluster_set_state(c0, CLUSTER_CHAN_RANGES, (const uint8_t *)"r0", 2), 0);
		assert_int_equal(cluster_set_state(c1, CLUSTER_CHAN_VIP, (const uint8_t *)"v1", 2),
				 0);
		sim_run_until(s, 2000);
		for (unsigned r = 1; r < 3; r++) {
			check_state(s, seed, r, 0, CLUSTER_CHAN_VIP, "v0", 0, 2000);
			check_state(s, seed, r, 0, CLUSTER_CHAN_RANGES, "r0", 0, 2000);
		}
		check_state(s, seed, 0, 1, CLUSTER_CHAN_VIP, "v1", 0, 2000);
		check_state(s, seed, 2, 1, CLUSTER_CHAN_VIP, "v1", 0, 2000);
		for (unsigned r = 0; r < 3; r++) {
			check(count_states(s, r, ID(1), CLUSTER_CHAN_RANGES, 0, 2000) == 0, seed,
			      "node %u heard an 'R' node 1 never set", r);
			check(count_states(s, r, ID(2), CLUSTER_CHAN_VIP, 0, 2000) == 0 &&
				  count_states(s, r, ID(2), CLUSTER_CHAN_RANGES, 0, 2000) == 0,
			      seed, "node %u heard state from node 2, which set none", r);
		}

		assert_int_equal(cluster_set_state(c0, CLUSTER_CHAN_RANGES, NULL, 0), 0);
		assert_int_equal(
		    cluster_set_state(c0, CLUSTER_CHAN_VIP, (const uint8_t *)"v0-new", 6), 0);
		uint64_t settled = 2000 + p.delay_ms + p.jitter_ms + 1;
		sim_run_until(s, 4000);
		for (unsigned r = 1; r < 3; r++) {
			check(count_states(s, r, ID(0), CLUSTER_CHAN_RANGES, settled, 4000) == 0,
			      seed, "node %u still hears node 0's cleared 'R'", r);
			check_state(s, seed, r, 0, CLUSTER_CHAN_VIP, "v0-new", settled, 4000);
			check(count_states(s, r, ID(0), CLUSTER_CHAN_VIP, settled, 4000) >= 10,
			      seed, "node %u heard node 0's 'V' only %zu times in 2 s", r,
			      count_states(s, r, ID(0), CLUSTER_CHAN_VIP, settled, 4000));
		}
		check_sane(s, seed);
		sim_free(s);
	}
	printf("(g) state channels: %d seeds, 10%% loss, 5%% duplicates, 30 ms jitter\n", G_SEEDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_complete),  cmocka_unit_test(test_out_of_sync),
	    cmocka_unit_test(test_crash_detected), cmocka_unit_test(test_no_false_down),
	    cmocka_unit_test(test_own_link_down),  cmocka_unit_test(test_forged_replayed),
	    cmocka_unit_test(test_restart),	   cmocka_unit_test(test_state_channels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
