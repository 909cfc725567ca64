/*
 * Property tests of VIP failover over many seeds of the simulator: every
 * node runs core/cluster + core/vip + core/takeover, the adverts riding
 * the heartbeats and pushes as in arphad, over lossy, reordering networks
 * with crashes, restarts, partitions, sync links going down, and graceful
 * stops.
 *
 * Properties:
 *  (g) two nodes are master of one group at once only as long as core/vip
 *      allows it (vip.h: the lower rank withdraws as soon as it hears the
 *      other's claim): after a claim, two one-way delays (the claim's push
 *      one way, the REASSERT push back); after a partition heals or a
 *      sync link comes back, one heartbeat interval more; with loss, four
 *      more intervals (four adverts lost in a row). After each disturbance
 *      settles there is exactly one master per group, of the highest
 *      priority among the live nodes (Preempt=yes);
 *      after every take, the announcement rounds and lease renewals fall
 *      exactly on the configured count, intervals and refresh (virtual
 *      ms), with flush requests in the first round only, until the address
 *      is given back; each group's notifications run one at a time, in the
 *      order of its state changes;
 *  (h) a graceful stop hands over without a gap under no loss: every
 *      address the stopping node gives back is already held by another
 *      node, and the hand-over ends "done", not "timeout".
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

#include "core/takeover.h"
#include "sim.h"
#include "simtest.h"

#define BIT(i) (1u << (i))
#define ALL(n) ((1u << (n)) - 1)
#define IVL    100 /* HeartbeatInterval */
#define NG     2   /* groups: "g1" and "g2" */

/* ---- a run: its configuration and what the test did ---- */

#define MAX_VIPS     4
#define MAX_CONNECTS 32

struct run {
	uint64_t seed;
	struct sim_params p;
	struct conf_vip vips[MAX_VIPS];
	size_t n_vips;
	uint64_t connects[MAX_CONNECTS]; /* when a partition healed or a link came back */
	size_t n_connects;
	struct sim *s;
};

static void add_vip(struct run *r, uint64_t *st, const char *name, const char *group, uint32_t addr)
{
	struct conf_vip *c = &r->vips[r->n_vips++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->group, sizeof(c->group), "%s", group);
	snprintf(c->iface, sizeof(c->iface), "lan");
	c->addr = (struct ip4_prefix){.addr = addr, .len = 24};
	c->priority = 100;
	c->preempt = true;
	c->announce = (uint8_t)(1 + pick(st, 15)); /* some of garp, vmac, targeted, flush */
	c->announce_count = 1 + pick(st, 5);
	c->announce_interval_ms = 20 + pick(st, 181);
	c->refresh_interval_ms = pick(st, 2) ? 0 : 300 + pick(st, 601);
	if (pick(st, 2))
		snprintf(c->notify, sizeof(c->notify), "/usr/local/sbin/vip-notify");
	c->line = 1 + (int)r->n_vips;
}

static void run_start(struct run *r, uint64_t seed, unsigned nodes, double loss, uint32_t delay,
		      uint32_t jitter, uint64_t *st)
{
	memset(r, 0, sizeof(*r));
	r->seed = seed;
	add_vip(r, st, "web", "g1", 0xc6120064u);
	add_vip(r, st, "mail", "g2", 0xc6120065u);
	if (pick(st, 2))
		add_vip(r, st, "dns", "g1", 0xc6120066u);
	r->p = (struct sim_params){
	    .seed = seed,
	    .nodes = nodes,
	    .interval_ms = IVL,
	    .dead_count = 3,
	    .encrypt = seed & 1,
	    .loss = loss,
	    .delay_ms = delay,
	    .jitter_ms = jitter,
	    .vips = r->vips,
	    .n_vips = r->n_vips,
	    .flush = pick(st, 2),
	    .script_ms = seed % 5 ? 5 + pick(st, 60) : 12000, /* one seed in 5: they hang */
	};
	for (unsigned i = 0; i < nodes; i++)
		r->p.priority[i] = (uint8_t)(50 + 25 * pick(st, 4)); /* ties happen */
	r->s = sim_new(&r->p);
	assert_non_null(r->s);
}

static void connected(struct run *r)
{
	assert_true(r->n_connects < MAX_CONNECTS);
	r->connects[r->n_connects++] = sim_now(r->s);
}

/* The latest connect at or before t; 0 if none. */
static uint64_t last_connect(const struct run *r, uint64_t t)
{
	uint64_t c = 0;
	for (size_t i = 0; i < r->n_connects; i++)
		if (r->connects[i] <= t && r->connects[i] > c)
			c = r->connects[i];
	return c;
}

/* ---- the state now ---- */

static uint8_t state_of(struct run *r, unsigned i, size_t g)
{
	struct takeover *t = sim_takeover(r->s, i);
	struct vip_group_view gv;
	if (!t || sim_stopping(r->s, i) ||
	    vip_group(takeover_vip_core(t), g, sim_now(r->s), &gv) < 0)
		return VIP_INIT;
	return gv.state;
}

/* Exactly one master per group, of the highest priority among the live nodes. */
static bool one_master(struct run *r, char *why, size_t cap)
{
	for (size_t g = 0; g < NG; g++) {
		unsigned masters = 0, who = 0;
		uint8_t best = 0;
		for (unsigned i = 0; i < r->p.nodes; i++) {
			if (!sim_takeover(r->s, i) || sim_stopping(r->s, i))
				continue;
			if (r->p.priority[i] > best)
				best = r->p.priority[i];
			if (state_of(r, i, g) == VIP_MASTER) {
				masters++;
				who = i;
			}
		}
		if (best == 0)
			continue; /* nobody left */
		if (masters != 1) {
			snprintf(why, cap, "group %zu has %u masters at %llu", g, masters,
				 (unsigned long long)sim_now(r->s));
			return false;
		}
		if (r->p.priority[who] != best) {
			snprintf(why, cap, "group %zu: master %u has priority %u, best live %u", g,
				 who, r->p.priority[who], best);
			return false;
		}
	}
	return true;
}

/* Run ms, then (within one more second, by 10 ms) there must be one master per group. */
static void settle(struct run *r, uint64_t ms)
{
	sim_run_until(r->s, sim_now(r->s) + ms);
	char why[160] = "";
	uint64_t end = sim_now(r->s) + 1000;
	while (!one_master(r, why, sizeof(why)) && sim_now(r->s) < end)
		sim_run_until(r->s, sim_now(r->s) + 10);
	check(one_master(r, why, sizeof(why)), r->seed, "not settled: %s", why);
}

/* A live master of group g, or -1. */
static int master_of(struct run *r, size_t g)
{
	for (unsigned i = 0; i < r->p.nodes; i++)
		if (state_of(r, i, g) == VIP_MASTER)
			return (int)i;
	return -1;
}

/* ---- properties over the records ---- */

/* What the checks saw, over the runs. */
struct seen {
	/* the longest time two nodes were master of one group at once, [loss > 0]: */
	uint64_t after_claim[2];   /* after the later claim, with no heal or link-up since */
	uint64_t after_connect[2]; /* after a heal or link-up */
	uint64_t takes, rounds, renewals, notifications, kills;
};

/*
 * Two masters of a group at once: from both claiming until one of them
 * withdraws, crashes or stops. Allowed: 2 one-way delays after the later
 * claim, or 1 interval + 2 delays after a heal or link-up in the episode;
 * with loss, 4 intervals more.
 */
static void check_overlaps(struct run *r, struct seen *sn)
{
	size_t n;
	const struct sim_fo_rec *v = sim_fo_records(r->s, &n);
	uint64_t d = (uint64_t)r->p.delay_ms + r->p.jitter_ms;
	uint64_t extra = r->p.loss > 0 ? 4 * IVL : 0;
	bool master[SIM_MAX_NODES][NG];
	uint64_t since[SIM_MAX_NODES][SIM_MAX_NODES][NG]; /* 0: no episode; else start + 1 */
	memset(master, 0, sizeof(master));
	memset(since, 0, sizeof(since));
	bool lossy = r->p.loss > 0;
	for (size_t k = 0; k <= n; k++) {
		uint64_t t = k < n ? v[k].t : sim_now(r->s);
		unsigned who = k < n ? v[k].node : 0;
		if (k < n) {
			if (v[k].kind == SF_STATE && v[k].group < NG)
				master[who][v[k].group] = v[k].state == VIP_MASTER;
			else if (v[k].kind == SF_CRASH || v[k].kind == SF_STOP ||
				 v[k].kind == SF_START)
				memset(master[who], 0, sizeof(master[who]));
			else
				continue;
		}
		for (unsigned i = 0; i < r->p.nodes; i++)
			for (unsigned j = i + 1; j < r->p.nodes; j++)
				for (size_t g = 0; g < NG; g++) {
					bool both = master[i][g] && master[j][g];
					uint64_t *e = &since[i][j][g];
					if (both && !*e && k < n) {
						*e = t + 1;
						continue;
					}
					if (!*e || (both && k < n))
						continue;
					uint64_t a = *e - 1, c = last_connect(r, t);
					uint64_t from = c > a ? c : a;
					uint64_t allowed = (c > a ? IVL : 0) + 2 * d + 1 + extra;
					check(t - from <= allowed, r->seed,
					      "nodes %u and %u both master of group %zu from %llu "
					      "to %llu (connect at %llu): %llu ms, allowed %llu",
					      i, j, g, (unsigned long long)a, (unsigned long long)t,
					      (unsigned long long)c, (unsigned long long)(t - from),
					      (unsigned long long)allowed);
					uint64_t *w = c > a ? &sn->after_connect[lossy]
							    : &sn->after_claim[lossy];
					if (t - from > *w)
						*w = t - from;
					*e = 0;
				}
	}
}

/* Whether t is in the expected schedule t0 + k * every (1 <= k <= last). */
static bool on_grid(uint64_t t, uint64_t t0, uint64_t every, uint64_t last)
{
	return every && t > t0 && (t - t0) % every == 0 && (t - t0) / every <= last;
}

/* How many grid points fall in (t0, t1) (strictly before t1). */
static uint64_t grid_before(uint64_t t0, uint64_t t1, uint64_t every, uint64_t last)
{
	if (!every || t1 <= t0)
		return 0;
	uint64_t k = (t1 - t0 - 1) / every;
	return k < last ? k : last;
}

/*
 * After every take of a VIP by a node, until it gives it back (or the
 * node crashes, or the run ends): the takeover round at once, then the
 * repeats on t0 + k*AnnounceInterval (k < AnnounceCount), the refreshes
 * on t0 + k*RefreshInterval, the renewals on t0 + k*500, nothing else
 * but reassert rounds. A round due at the very ms of the end may or may
 * not come (the order of two events of one ms).
 */
static void check_rounds(struct run *r)
{
	size_t n;
	const struct sim_fo_rec *v = sim_fo_records(r->s, &n);
	uint64_t takes = 0;
	for (size_t k = 0; k < n; k++) {
		if (v[k].kind != SF_TAKE)
			continue;
		takes++;
		unsigned node = v[k].node;
		uint32_t x = v[k].vip;
		const struct conf_vip *c = &r->vips[x];
		uint64_t t0 = v[k].t, t1 = sim_now(r->s) + 1;
		size_t end = n;
		for (size_t j = k + 1; j < n; j++)
			if (v[j].node == node &&
			    ((v[j].kind == SF_GIVE && v[j].vip == x) || v[j].kind == SF_CRASH)) {
				t1 = v[j].t;
				end = j;
				break;
			}
		uint64_t reps = c->announce_count > 0 ? c->announce_count - 1 : 0;
		uint64_t ai = c->announce_interval_ms, ri = c->refresh_interval_ms;
		uint8_t later = c->announce & (uint8_t)~ANN_FLUSH;
		uint8_t first = r->p.flush ? c->announce : later;
		uint64_t n_t = 0, n_r = 0, n_f = 0, n_renew = 0;
		for (size_t j = k + 1; j < end; j++) {
			if (v[j].node != node || v[j].vip != x)
				continue;
			if (v[j].kind == SF_RENEW) {
				check(on_grid(v[j].t, t0, TAKEOVER_LEASE_RENEW_MS, UINT64_MAX),
				      r->seed, "node %u vip %u taken at %llu: renewal at %llu",
				      node, x, (unsigned long long)t0, (unsigned long long)v[j].t);
				n_renew++;
				continue;
			}
			if (v[j].kind != SF_ANNOUNCE || v[j].round == TR_REASSERT)
				continue;
			uint64_t t = v[j].t;
			switch (v[j].round) {
			case TR_TAKEOVER:
				check(t == t0 && n_t == 0 && v[j].methods == first, r->seed,
				      "node %u vip %u taken at %llu: takeover round at %llu, "
				      "methods %u (want %u)",
				      node, x, (unsigned long long)t0, (unsigned long long)t,
				      v[j].methods, first);
				n_t++;
				break;
			case TR_REPEAT:
				check(on_grid(t, t0, ai, reps) && v[j].methods == later, r->seed,
				      "node %u vip %u taken at %llu: repeat at %llu (every %llu, "
				      "%llu of them)",
				      node, x, (unsigned long long)t0, (unsigned long long)t,
				      (unsigned long long)ai, (unsigned long long)reps);
				n_r++;
				break;
			case TR_REFRESH:
				check(on_grid(t, t0, ri, UINT64_MAX) && v[j].methods == later,
				      r->seed, "node %u vip %u taken at %llu: refresh at %llu",
				      node, x, (unsigned long long)t0, (unsigned long long)t);
				n_f++;
				break;
			}
		}
		check(n_t == 1, r->seed, "node %u vip %u taken at %llu: %llu takeover rounds", node,
		      x, (unsigned long long)t0, (unsigned long long)n_t);
		uint64_t want_r = grid_before(t0, t1, ai, reps);
		uint64_t want_f = grid_before(t0, t1, ri, UINT64_MAX);
		uint64_t want_n = grid_before(t0, t1, TAKEOVER_LEASE_RENEW_MS, UINT64_MAX);
		check(n_r >= want_r && n_r <= want_r + 1, r->seed,
		      "node %u vip %u held %llu..%llu: %llu repeats, want %llu", node, x,
		      (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)n_r,
		      (unsigned long long)want_r);
		check(n_f >= want_f && n_f <= want_f + 1, r->seed,
		      "node %u vip %u held %llu..%llu: %llu refreshes, want %llu", node, x,
		      (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)n_f,
		      (unsigned long long)want_f);
		check(n_renew >= want_n && n_renew <= want_n + 1, r->seed,
		      "node %u vip %u held %llu..%llu: %llu renewals, want %llu", node, x,
		      (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)n_renew,
		      (unsigned long long)want_n);
	}
	check(takes > 0, r->seed, "nothing was ever taken");
}

/*
 * Per node life (start to crash or stop) and group: one notification
 * runs at a time, and each VIP's tell its group's state changes in order:
 * all of them while the scripts are short, a subsequence when they hang
 * (the queue drops the oldest). A script that hangs is killed exactly
 * TAKEOVER_NOTIFY_TIMEOUT_MS after it started, once, and the next starts
 * when it has ended.
 */
static void check_notify(struct run *r)
{
	size_t n;
	const struct sim_fo_rec *v = sim_fo_records(r->s, &n);
	bool hangs = r->p.script_ms > TAKEOVER_NOTIFY_TIMEOUT_MS;
	for (unsigned node = 0; node < r->p.nodes; node++) {
		uint8_t changes[NG][256];
		size_t nch[NG] = {0}, next[MAX_VIPS] = {0};
		bool running[NG] = {false}, killed[NG] = {false};
		uint64_t started[NG] = {0};
		for (size_t k = 0; k < n; k++) {
			const struct sim_fo_rec *x = &v[k];
			if (x->node != node)
				continue;
			if (x->kind == SF_START) {
				memset(nch, 0, sizeof(nch));
				memset(next, 0, sizeof(next));
				memset(running, 0, sizeof(running));
				memset(killed, 0, sizeof(killed));
			} else if (x->kind == SF_STATE && x->group < NG && nch[x->group] < 256) {
				changes[x->group][nch[x->group]++] = x->state;
			} else if (x->kind == SF_NOTIFY_RUN) {
				size_t g = x->group;
				check(!running[g], r->seed,
				      "node %u group %zu: a notification started at %llu while one "
				      "ran",
				      node, g, (unsigned long long)x->t);
				running[g] = true;
				killed[g] = false;
				started[g] = x->t;
				check(r->vips[x->vip].notify[0], r->seed, "vip %u has no script",
				      x->vip);
				size_t i = next[x->vip];
				while (hangs && i < nch[g] && changes[g][i] != x->state)
					i++;
				check(i < nch[g] && changes[g][i] == x->state, r->seed,
				      "node %u vip %u: notification tells %s, the group's change "
				      "%zu was %s",
				      node, x->vip, vip_state_name(x->state), i,
				      i < nch[g] ? vip_state_name(changes[g][i]) : "-");
				next[x->vip] = i + 1;
			} else if (x->kind == SF_NOTIFY_KILL) {
				size_t g = x->group;
				check(hangs && running[g] && !killed[g] &&
					  x->t == started[g] + TAKEOVER_NOTIFY_TIMEOUT_MS,
				      r->seed, "node %u group %zu: killed at %llu, started at %llu",
				      node, g, (unsigned long long)x->t,
				      (unsigned long long)started[g]);
				killed[g] = true;
			} else if (x->kind == SF_NOTIFY_END) {
				size_t g = x->group;
				check(running[g] && x->state == !hangs, r->seed,
				      "node %u group %zu: a notification ended (%s) at %llu", node,
				      g, x->state ? "ok" : "failed", (unsigned long long)x->t);
				running[g] = false;
			}
		}
	}
}

/* The checks every run ends with. */
static void check_all(struct run *r, struct seen *sn)
{
	struct sim_counts k;
	sim_counts(r->s, &k);
	check(k.stuck == 0, r->seed, "a core left its deadline due after its tick (%llu times)",
	      (unsigned long long)k.stuck);
	check(k.dropped_actions == 0, r->seed, "actions lost to ENOMEM");
	check(k.state_errors == 0, r->seed, "an advert did not fit the heartbeat");
	check_overlaps(r, sn);
	check_rounds(r);
	check_notify(r);
	size_t n;
	const struct sim_fo_rec *v = sim_fo_records(r->s, &n);
	for (size_t i = 0; i < n; i++) {
		sn->takes += v[i].kind == SF_TAKE;
		sn->rounds += v[i].kind == SF_ANNOUNCE;
		sn->renewals += v[i].kind == SF_RENEW;
		sn->notifications += v[i].kind == SF_NOTIFY_RUN;
		sn->kills += v[i].kind == SF_NOTIFY_KILL;
	}
}

/* ---- (g) ownership under faults ---- */

#define G_SEEDS 150
static void test_one_master(void **state)
{
	(void)state;
	struct seen sn = {0};
	for (uint64_t seed = 1; seed <= G_SEEDS; seed++) {
		uint64_t st = seed * 2654435761u;
		unsigned n = 3 + pick(&st, 6);
		double loss = seed % 2 ? 0 : pick(&st, 6) / 100.0;
		struct run r;
		run_start(&r, seed, n, loss, 1, pick(&st, 11), &st);
		settle(&r, 1500);
		for (int round = 0; round < 4; round++) {
			unsigned k = pick(&st, n);
			uint32_t side;
			int m;
			switch (pick(&st, 4)) {
			case 0: /* the master of a group crashes, comes back later */
				m = master_of(&r, pick(&st, NG));
				k = m >= 0 ? (unsigned)m : k;
				sim_crash(r.s, k);
				settle(&r, 1000 + pick(&st, 1000));
				sim_restart(r.s, k);
				settle(&r, 1500);
				break;
			case 1: /* a partition, healed */
				side = 1 + pick(&st, ALL(n) - 1);
				sim_partition(r.s, side, ALL(n) & ~side);
				sim_run_until(r.s, sim_now(r.s) + 1000 + pick(&st, 1000));
				sim_heal(r.s);
				connected(&r);
				settle(&r, 1500);
				break;
			case 2: /* a node's sync link goes down and comes back */
				sim_set_link(r.s, k, false);
				sim_run_until(r.s, sim_now(r.s) + 500 + pick(&st, 1000));
				sim_set_link(r.s, k, true);
				connected(&r);
				settle(&r, 1500);
				break;
			default: /* a quick restart */
				sim_crash(r.s, k);
				sim_run_until(r.s, sim_now(r.s) + 1 + pick(&st, 50));
				sim_restart(r.s, k);
				settle(&r, 1500);
				break;
			}
		}
		check_all(&r, &sn);
		sim_free(r.s);
	}
	printf("(g) one master: %d seeds, 3-8 nodes, 2 groups, loss 0-5%%, crashes, partitions, "
	       "links down, restarts: %llu takes, %llu rounds and %llu renewals on schedule, "
	       "%llu notifications (%llu killed); two masters of a group at most %llu ms after "
	       "a claim, %llu ms after a heal or link-up (with loss: %llu, %llu)\n",
	       G_SEEDS, (unsigned long long)sn.takes, (unsigned long long)sn.rounds,
	       (unsigned long long)sn.renewals, (unsigned long long)sn.notifications,
	       (unsigned long long)sn.kills, (unsigned long long)sn.after_claim[0],
	       (unsigned long long)sn.after_connect[0], (unsigned long long)sn.after_claim[1],
	       (unsigned long long)sn.after_connect[1]);
}

/* ---- (h) graceful stop ---- */

struct handover {
	uint64_t took; /* from the stop to the end of the hand-over */
	bool done;     /* it ended "done", not "timeout" */
	unsigned gaps; /* times a VIP of the stopping node was held by nobody */
	uint64_t gap_ms;
};

/*
 * Node k stopped at or after from, with a hand-over. From the stop until
 * now, follow who holds each VIP k held: a gap is a moment nobody does.
 */
static struct handover handover_of(struct run *r, unsigned k, uint64_t from)
{
	size_t n;
	const struct sim_fo_rec *v = sim_fo_records(r->s, &n);
	struct handover h = {0};
	uint64_t stop = UINT64_MAX, stopped = UINT64_MAX;
	size_t at = n;
	for (size_t i = 0; i < n; i++) {
		if (v[i].node != k || v[i].t < from)
			continue;
		if (v[i].kind == SF_STOP && stop == UINT64_MAX) {
			check(v[i].state == 1, r->seed, "node %u held VIPs, no hand-over", k);
			stop = v[i].t;
			at = i;
		} else if (v[i].kind == SF_STOPPED && stop != UINT64_MAX && stopped == UINT64_MAX) {
			stopped = v[i].t;
			h.done = v[i].state;
		}
	}
	check(stop != UINT64_MAX && stopped != UINT64_MAX, r->seed, "node %u did not stop", k);
	h.took = stopped - stop;
	for (size_t x = 0; x < r->n_vips; x++) {
		bool held = false; /* by k at its stop */
		for (size_t i = 0; i < at; i++)
			if (v[i].node == k && v[i].vip == x &&
			    (v[i].kind == SF_TAKE || v[i].kind == SF_GIVE || v[i].kind == SF_START))
				held = v[i].kind == SF_TAKE;
		if (!held)
			continue;
		uint32_t holders = BIT(k);
		uint64_t empty_since = 0;
		for (size_t i = at; i < n; i++) {
			if (v[i].vip != x || (v[i].kind != SF_TAKE && v[i].kind != SF_GIVE))
				continue;
			if (v[i].kind == SF_TAKE) {
				if (!holders)
					h.gap_ms += v[i].t - empty_since;
				holders |= BIT(v[i].node);
			} else {
				holders &= ~BIT(v[i].node);
				if (!holders) {
					h.gaps++;
					empty_since = v[i].t;
				}
			}
		}
		check(holders, r->seed, "after node %u stopped, nobody holds vip %zu", k, x);
	}
	return h;
}

/* Stop the master of g1 (usually of g2 too). */
static struct handover stop_master(struct run *r)
{
	int m = master_of(r, 0);
	check(m >= 0, r->seed, "no master of g1");
	uint64_t from = sim_now(r->s);
	sim_stop(r->s, (unsigned)m);
	check(sim_stopping(r->s, (unsigned)m), r->seed, "master %d: no hand-over", m);
	settle(r, 1000);
	struct handover h = handover_of(r, (unsigned)m, from);
	sim_restart(r->s, (unsigned)m);
	settle(r, 1500);
	return h;
}

/* A backup holding nothing stops: at once, no hand-over, nothing else moves. */
static void stop_backup(struct run *r)
{
	for (unsigned b = 0; b < r->p.nodes; b++) {
		if (state_of(r, b, 0) == VIP_MASTER || state_of(r, b, 1) == VIP_MASTER)
			continue;
		uint64_t t = sim_now(r->s);
		size_t before, nrec;
		(void)sim_fo_records(r->s, &before);
		sim_stop(r->s, b);
		const struct sim_fo_rec *v = sim_fo_records(r->s, &nrec);
		check(!sim_stopping(r->s, b) && sim_takeover(r->s, b) == NULL, r->seed,
		      "backup %u did not stop at once", b);
		for (size_t i = before; i < nrec; i++)
			check(v[i].node == b && v[i].t == t, r->seed, "a backup's stop moved %u",
			      v[i].node);
		settle(r, 500);
		sim_restart(r->s, b);
		settle(r, 1000);
		return;
	}
}

/*
 * No loss, no reordering (a fixed delay of 1-5 ms per run): no gap, and
 * "done" within a few delays. Then, for the record, the same with 1-10
 * ms of jitter: a heartbeat the stopping node sent just before its stop
 * can arrive after its stop push, and core/vip has no way to tell it is
 * older (adverts carry no sequence): the new master withdraws for a
 * moment. Counted and printed, not asserted: core/vip's matter.
 */
#define H_SEEDS 60
static void test_graceful_stop(void **state)
{
	(void)state;
	uint64_t longest = 0;
	unsigned stops = 0;
	struct seen sn = {0};
	for (uint64_t seed = 1; seed <= H_SEEDS; seed++) {
		uint64_t st = seed * 40503u;
		struct run r;
		run_start(&r, seed, 2 + pick(&st, 5), 0, 1 + pick(&st, 5), 0, &st);
		settle(&r, 1500);
		stop_backup(&r);
		for (int twice = 0; twice < 2; twice++) {
			struct handover h = stop_master(&r);
			check(h.gaps == 0, seed, "%u gaps (%llu ms) in a hand-over", h.gaps,
			      (unsigned long long)h.gap_ms);
			check(h.done, seed, "the hand-over timed out (%llu ms)",
			      (unsigned long long)h.took);
			check(h.took <= TAKEOVER_DRAIN_MS + 4 * ((uint64_t)r.p.delay_ms + 5), seed,
			      "the hand-over took %llu ms, delay %u", (unsigned long long)h.took,
			      r.p.delay_ms);
			if (h.took > longest)
				longest = h.took;
			stops++;
		}
		check_all(&r, &sn);
		sim_free(r.s);
	}
	unsigned jstops = 0, jgaps = 0, jtimeouts = 0;
	uint64_t jgap_ms = 0;
	for (uint64_t seed = 1; seed <= H_SEEDS; seed++) {
		uint64_t st = seed * 7777u;
		struct run r;
		run_start(&r, seed, 2 + pick(&st, 5), 0, 1, 1 + pick(&st, 10), &st);
		settle(&r, 1500);
		for (int twice = 0; twice < 2; twice++) {
			struct handover h = stop_master(&r);
			jstops++;
			jgaps += h.gaps > 0;
			jgap_ms += h.gap_ms;
			jtimeouts += !h.done;
		}
		check_all(&r, &sn);
		sim_free(r.s);
	}
	printf("(h) graceful stop: %u hand-overs, 2-6 nodes, no loss, fixed delay 1-5 ms: no gap, "
	       "done in at most %llu ms; with 1-10 ms jitter: %u of %u with a gap (%llu ms in "
	       "all), %u timeouts\n",
	       stops, (unsigned long long)longest, jgaps, jstops, (unsigned long long)jgap_ms,
	       jtimeouts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_master),
	    cmocka_unit_test(test_graceful_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
