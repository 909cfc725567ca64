/*
 * core/vip: the ownership rule, as unit cases on single adverts and as
 * simulations: several nodes exchange adverts over a virtual network
 * (delay, loss, partitions, crashes) under a virtual clock, the way
 * arphad carries them in heartbeats and pushes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/vip.h"

/* ---- the virtual network ---- */

#define NMAX	 4
#define QMAX	 4096
#define IVL	 20 /* HeartbeatInterval in most cases */
#define DELAY_US 300

struct msg {
	uint64_t at_us;
	int from, to;
	size_t len;
	uint8_t buf[256];
};

struct node {
	struct vip *v;
	uint32_t id;
	bool alive;
	uint64_t next_hb; /* ms */
	struct vip_group_conf g[2];
	size_t ng;
};

struct net {
	struct node n[NMAX];
	int nn;
	uint32_t interval;
	uint64_t now_us;
	struct msg q[QMAX];
	size_t nq;
	bool cut[NMAX][NMAX];
	double loss;
	uint64_t rng;
	/* observations */
	unsigned changes[NMAX];	  /* state changes seen per node */
	unsigned to_master[NMAX]; /* times it became master */
	uint64_t no_master_us;	  /* time with no master among the live nodes */
	uint64_t dual_master_us;  /* time with two masters on one side */
	uint64_t last_check_us;
};

static uint64_t now_ms(const struct net *w)
{
	return w->now_us / 1000;
}

static double rnd(struct net *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (double)(w->rng >> 11) / (double)(1ULL << 53);
}

static void send_all(struct net *w, int from)
{
	uint8_t buf[256];
	size_t len = vip_advert(w->n[from].v, buf, sizeof(buf));
	assert_true(len > 0);
	for (int to = 0; to < w->nn; to++) {
		if (to == from || w->cut[from][to] || rnd(w) < w->loss)
			continue;
		assert_true(w->nq < QMAX);
		struct msg *m = &w->q[w->nq++];
		m->at_us = w->now_us + DELAY_US + (uint64_t)(rnd(w) * 200);
		m->from = from;
		m->to = to;
		m->len = len;
		memcpy(m->buf, buf, len);
	}
}

static void handle(struct net *w, int i, const struct vip_out *o)
{
	for (size_t k = 0; k < o->n; k++) {
		if (o->v[k].type != VE_STATE)
			continue;
		w->changes[i]++;
		if (o->v[k].state == VIP_MASTER)
			w->to_master[i]++;
	}
	if (o->push)
		send_all(w, i);
}

static void node_start(struct net *w, int i)
{
	struct node *n = &w->n[i];
	struct vip_params p = {.self_id = n->id, .interval_ms = w->interval};
	n->v = vip_new(&p, n->g, n->ng, now_ms(w));
	assert_non_null(n->v);
	n->alive = true;
	n->next_hb = now_ms(w);
}

static void net_init(struct net *w, int nn, uint32_t interval, const uint8_t *prio, bool preempt,
		     uint32_t delay)
{
	memset(w, 0, sizeof(*w));
	w->nn = nn;
	w->interval = interval;
	w->rng = 88172645463325252ULL;
	w->now_us = 1000000;
	for (int i = 0; i < nn; i++) {
		struct node *n = &w->n[i];
		n->id = (uint32_t)(i + 1);
		n->ng = 1;
		snprintf(n->g[0].name, sizeof(n->g[0].name), "fw");
		n->g[0].priority = prio[i];
		n->g[0].preempt = preempt;
		n->g[0].preempt_delay_ms = delay;
		node_start(w, i);
	}
}

static void net_free(struct net *w)
{
	for (int i = 0; i < w->nn; i++)
		vip_free(w->n[i].v);
}

static int state_of(struct net *w, int i)
{
	struct vip_group_view gv;
	assert_int_equal(vip_group(w->n[i].v, 0, now_ms(w), &gv), 0);
	return gv.state;
}

/* Masters among live nodes that can hear each other (per side of a cut: counted all together). */
static int masters(struct net *w)
{
	int m = 0;
	for (int i = 0; i < w->nn; i++)
		if (w->n[i].alive && state_of(w, i) == VIP_MASTER)
			m++;
	return m;
}

static void observe(struct net *w, uint64_t until_us)
{
	int m = masters(w);
	uint64_t dt = until_us - w->now_us;
	if (m == 0)
		w->no_master_us += dt;
	bool partitioned = false;
	for (int a = 0; a < w->nn; a++)
		for (int b = 0; b < w->nn; b++)
			partitioned |= w->cut[a][b];
	if (m > 1 && !partitioned)
		w->dual_master_us += dt;
}

/* Run the network until t_ms. */
static void run_until(struct net *w, uint64_t t_ms)
{
	uint64_t end = t_ms * 1000;
	for (;;) {
		uint64_t next = end;
		size_t qi = SIZE_MAX;
		for (size_t k = 0; k < w->nq; k++)
			if (w->q[k].at_us < next) {
				next = w->q[k].at_us;
				qi = k;
			}
		int who = -1;
		bool hb = false;
		for (int i = 0; i < w->nn; i++) {
			if (!w->n[i].alive)
				continue;
			uint64_t h = w->n[i].next_hb * 1000;
			if (h < next) {
				next = h, who = i, hb = true, qi = SIZE_MAX;
			}
			uint64_t d = vip_next_deadline(w->n[i].v);
			if (d != UINT64_MAX && d * 1000 < next) {
				next = d * 1000, who = i, hb = false, qi = SIZE_MAX;
			}
		}
		if (next < w->now_us)
			next = w->now_us;
		observe(w, next);
		w->now_us = next;
		if (next >= end && qi == SIZE_MAX && who < 0)
			return;
		struct vip_out o;
		if (qi != SIZE_MAX) {
			struct msg m = w->q[qi];
			w->q[qi] = w->q[--w->nq];
			if (!w->n[m.to].alive || w->cut[m.from][m.to])
				continue;
			assert_int_equal(vip_on_advert(w->n[m.to].v, w->n[m.from].id, m.buf, m.len,
						       now_ms(w), &o),
					 0);
			handle(w, m.to, &o);
		} else if (hb) {
			w->n[who].next_hb += w->interval;
			send_all(w, who);
		} else if (who >= 0) {
			vip_tick(w->n[who].v, now_ms(w), &o);
			handle(w, who, &o);
			/* the deadline must move on after its tick */
			assert_true(vip_next_deadline(w->n[who].v) > now_ms(w));
		}
	}
}

static void crash(struct net *w, int i)
{
	w->n[i].alive = false;
	vip_free(w->n[i].v);
	w->n[i].v = NULL;
}

static void restart(struct net *w, int i)
{
	node_start(w, i);
}

static int the_master(struct net *w)
{
	int m = -1;
	for (int i = 0; i < w->nn; i++)
		if (w->n[i].alive && state_of(w, i) == VIP_MASTER) {
			assert_int_equal(m, -1);
			m = i;
		}
	return m;
}

/* The first moment after now at which a live node is master: its index. */
static int run_until_master(struct net *w, uint64_t limit_ms, uint64_t *at_ms)
{
	while (now_ms(w) < limit_ms) {
		run_until(w, now_ms(w) + 1);
		for (int i = 0; i < w->nn; i++)
			if (w->n[i].alive && state_of(w, i) == VIP_MASTER) {
				*at_ms = now_ms(w);
				return i;
			}
	}
	return -1;
}

/* ---- cases ---- */

static void test_startup_best_wins(void **st)
{
	(void)st;
	static const uint8_t prio[] = {100, 200, 50};
	struct net w;
	net_init(&w, 3, IVL, prio, true, 0);
	run_until(&w, now_ms(&w) + 500);
	assert_int_equal(the_master(&w), 1);
	assert_int_equal(state_of(&w, 0), VIP_BACKUP);
	assert_int_equal(state_of(&w, 2), VIP_BACKUP);
	/* nobody claimed before the best one: one transition to master in all */
	assert_int_equal(w.to_master[0] + w.to_master[1] + w.to_master[2], 1);
	struct vip_group_view gv;
	vip_group(w.n[0].v, 0, now_ms(&w), &gv);
	assert_int_equal(gv.owner, 2);
	net_free(&w);
}

static void test_equal_priority_node_id_decides(void **st)
{
	(void)st;
	static const uint8_t prio[] = {100, 100};
	struct net w;
	net_init(&w, 2, IVL, prio, true, 0);
	run_until(&w, now_ms(&w) + 500);
	assert_int_equal(the_master(&w), 1); /* node ID 2 > 1 */
	assert_int_equal(w.dual_master_us, 0);
	net_free(&w);
}

/* A crash at every point of the heartbeat cycle: taken over within 1.25 I + window + delay. */
static void test_crash_takeover_bound(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100, 50};
	for (uint32_t ivl = 20; ivl <= 1000; ivl *= 50) {
		for (uint64_t phase = 0; phase < ivl; phase += ivl / 10) {
			struct net w;
			net_init(&w, 3, ivl, prio, true, 0);
			run_until(&w, now_ms(&w) + 10 * ivl + phase);
			assert_int_equal(the_master(&w), 0);
			uint64_t t0 = now_ms(&w), at = 0;
			crash(&w, 0);
			int m = run_until_master(&w, t0 + 10 * ivl, &at);
			assert_int_equal(m, 1); /* the best backup, not node 3 */
			uint64_t window = ivl / 4 < 5 ? 5 : ivl / 4;
			assert_true(at - t0 <= ivl + ivl / 4 + window + 2);
			run_until(&w, now_ms(&w) + 5 * ivl);
			assert_int_equal(the_master(&w), 1);
			assert_int_equal(w.to_master[2], 0);
			net_free(&w);
		}
	}
}

static void test_graceful_stop_hands_over_at_once(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, 1000, prio, true, 0);
	run_until(&w, now_ms(&w) + 5000 + 317);
	assert_int_equal(the_master(&w), 0);
	struct vip_out o;
	vip_shutdown(w.n[0].v, now_ms(&w), &o);
	assert_true(o.push);
	assert_false(vip_handed_over(w.n[0].v, now_ms(&w), NULL));
	uint64_t t0 = now_ms(&w), at = 0;
	handle(&w, 0, &o);
	/* the stopping node stays master in its own view until it leaves; look at node 2 */
	while (now_ms(&w) < t0 + 1000 && state_of(&w, 1) != VIP_MASTER)
		run_until(&w, now_ms(&w) + 1);
	at = now_ms(&w);
	assert_int_equal(state_of(&w, 1), VIP_MASTER);
	assert_true(at - t0 <= 2); /* one network delay, no timer */
	assert_true(vip_handed_over(w.n[0].v, now_ms(&w), NULL));
	net_free(&w);
}

static void test_preempt_and_no_preempt(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	for (int preempt = 0; preempt <= 1; preempt++) {
		struct net w;
		net_init(&w, 2, IVL, prio, preempt, 300);
		run_until(&w, now_ms(&w) + 500);
		assert_int_equal(the_master(&w), 0);
		crash(&w, 0);
		run_until(&w, now_ms(&w) + 200);
		assert_int_equal(the_master(&w), 1);
		restart(&w, 0);
		uint64_t back = now_ms(&w);
		run_until(&w, back + 250); /* init + less than PreemptDelay */
		assert_int_equal(the_master(&w), 1);
		run_until(&w, back + 1000);
		assert_int_equal(the_master(&w), preempt ? 0 : 1);
		assert_int_equal(w.dual_master_us > 5000, false);
		net_free(&w);
	}
}

static void test_tracked_link_loss(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, 1000, prio, true, 2000);
	run_until(&w, now_ms(&w) + 5000 + 123);
	assert_int_equal(the_master(&w), 0);
	struct vip_out o;
	uint64_t t0 = now_ms(&w);
	vip_set_fault(w.n[0].v, 0, true, now_ms(&w), &o);
	handle(&w, 0, &o);
	assert_int_equal(state_of(&w, 0), VIP_FAULT);
	run_until(&w, t0 + 2);
	assert_int_equal(the_master(&w), 1); /* no timer: the fault is advertised at once */
	vip_set_fault(w.n[0].v, 0, false, now_ms(&w), &o);
	handle(&w, 0, &o);
	run_until(&w, now_ms(&w) + 1500);
	assert_int_equal(the_master(&w), 1); /* PreemptDelay not over */
	run_until(&w, now_ms(&w) + 1000);
	assert_int_equal(the_master(&w), 0);
	net_free(&w);
}

/* A demotion below the backup's priority moves the group; undone, it comes back. */
static void test_demote(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, 1000, prio, true, 0);
	run_until(&w, now_ms(&w) + 5000 + 123);
	assert_int_equal(the_master(&w), 0);
	struct vip_out o;
	struct vip_group_view gv;
	/* still above the backup: nothing moves */
	vip_set_demote(w.n[0].v, 0, 50, now_ms(&w), &o);
	handle(&w, 0, &o);
	run_until(&w, now_ms(&w) + 2000);
	assert_int_equal(the_master(&w), 0);
	vip_group(w.n[0].v, 0, now_ms(&w), &gv);
	assert_int_equal(gv.priority, 150);
	assert_int_equal(gv.configured, 200);
	assert_int_equal(gv.demote, 50);
	/* below it: the backup preempts */
	vip_set_demote(w.n[0].v, 0, 150, now_ms(&w), &o);
	handle(&w, 0, &o);
	run_until(&w, now_ms(&w) + 2000);
	assert_int_equal(the_master(&w), 1);
	/* never below 1: still a candidate, not in fault */
	vip_set_demote(w.n[0].v, 0, 254, now_ms(&w), &o);
	handle(&w, 0, &o);
	vip_group(w.n[0].v, 0, now_ms(&w), &gv);
	assert_int_equal(gv.priority, 1);
	assert_int_equal(state_of(&w, 0), VIP_BACKUP);
	vip_set_demote(w.n[0].v, 0, 0, now_ms(&w), &o);
	handle(&w, 0, &o);
	run_until(&w, now_ms(&w) + 2000);
	assert_int_equal(the_master(&w), 0);
	net_free(&w);
}

static void test_flapping_link_no_ping_pong(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, IVL, prio, true, 1000);
	run_until(&w, now_ms(&w) + 500);
	assert_int_equal(the_master(&w), 0);
	struct vip_out o;
	/* the tracked link flaps every 30-170 ms for 5 s */
	uint64_t end = now_ms(&w) + 5000;
	bool fault = false;
	while (now_ms(&w) < end) {
		fault = !fault;
		vip_set_fault(w.n[0].v, 0, fault, now_ms(&w), &o);
		handle(&w, 0, &o);
		run_until(&w, now_ms(&w) + 30 + (uint64_t)(rnd(&w) * 140));
	}
	if (fault) {
		vip_set_fault(w.n[0].v, 0, false, now_ms(&w), &o);
		handle(&w, 0, &o);
	}
	/* node 2 took over once and kept it while the link flapped */
	assert_int_equal(w.to_master[1], 1);
	assert_int_equal(w.to_master[0], 1); /* at startup only */
	run_until(&w, now_ms(&w) + 1500);
	assert_int_equal(the_master(&w), 0); /* back after a stable PreemptDelay */
	assert_int_equal(w.to_master[0], 2);
	net_free(&w);
}

static void test_partition_and_heal(void **st)
{
	(void)st;
	static const uint8_t prio[] = {100, 150, 100};
	for (int preempt = 0; preempt <= 1; preempt++) {
		struct net w;
		net_init(&w, 3, IVL, prio, preempt, 0);
		run_until(&w, now_ms(&w) + 500);
		assert_int_equal(the_master(&w), 1);
		/* node 3 cut off from both */
		for (int i = 0; i < 2; i++)
			w.cut[i][2] = w.cut[2][i] = true;
		run_until(&w, now_ms(&w) + 500);
		assert_int_equal(masters(&w), 2); /* each side has one */
		assert_int_equal(state_of(&w, 2), VIP_MASTER);
		memset(w.cut, 0, sizeof(w.cut));
		run_until(&w, now_ms(&w) + 3 * IVL);
		assert_int_equal(masters(&w), 1);
		assert_int_equal(the_master(&w), 1); /* priority decides */
		/* and the other way round: the master's side is the small one */
		w.cut[1][0] = w.cut[0][1] = w.cut[1][2] = w.cut[2][1] = true;
		run_until(&w, now_ms(&w) + 500);
		assert_int_equal(masters(&w), 2);
		assert_int_equal(state_of(&w, 2), VIP_MASTER); /* node 3 outranks node 1 by ID */
		memset(w.cut, 0, sizeof(w.cut));
		run_until(&w, now_ms(&w) + 3 * IVL);
		assert_int_equal(masters(&w), 1);
		assert_int_equal(the_master(&w), 1);
		net_free(&w);
	}
}

/* A lost heartbeat costs a probe, not a takeover. */
static void test_loss_no_false_takeover(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, IVL, prio, true, 0);
	run_until(&w, now_ms(&w) + 500);
	assert_int_equal(the_master(&w), 0);
	w.loss = 0.01;
	run_until(&w, now_ms(&w) + 600000); /* ten minutes at 20 ms */
	assert_int_equal(w.to_master[1], 0);
	assert_true(vip_stats(w.n[1].v)->probes_sent > 0);
	assert_true(vip_stats(w.n[1].v)->probes_answered > 0);
	assert_int_equal(vip_stats(w.n[1].v)->masters_lost, 0);
	net_free(&w);
}

/* Without the probe, a lost heartbeat would be enough: a silent master is lost once probed. */
static void test_own_link_down_no_takeover(void **st)
{
	(void)st;
	static const uint8_t prio[] = {200, 100};
	struct net w;
	net_init(&w, 2, IVL, prio, true, 0);
	run_until(&w, now_ms(&w) + 500);
	struct vip_out o;
	vip_set_link(w.n[1].v, false, now_ms(&w), &o);
	w.cut[0][1] = w.cut[1][0] = true;
	run_until(&w, now_ms(&w) + 1000);
	assert_int_equal(state_of(&w, 1), VIP_BACKUP);
	memset(w.cut, 0, sizeof(w.cut));
	vip_set_link(w.n[1].v, true, now_ms(&w), &o);
	handle(&w, 1, &o);
	run_until(&w, now_ms(&w) + 1000);
	assert_int_equal(w.to_master[1], 0);
	net_free(&w);
}

/* ---- adverts ---- */

static void test_advert_round_trip_and_garbage(void **st)
{
	(void)st;
	struct vip_group_conf g[2] = {{.name = "outside", .priority = 10},
				      {.name = "inside", .priority = 20}};
	struct vip_params p = {.self_id = 1, .interval_ms = 100};
	struct vip *a = vip_new(&p, g, 2, 1000);
	p.self_id = 2;
	struct vip *b = vip_new(&p, g, 2, 1000);
	assert_non_null(a);
	assert_non_null(b);
	uint8_t buf[256];
	size_t len = vip_advert(a, buf, sizeof(buf));
	assert_int_equal(len, 7 + 1 + 7 + 2 + 1 + 6 + 2);
	assert_int_equal(vip_advert(a, buf, len - 1), 0);
	struct vip_out o;
	assert_int_equal(vip_on_advert(b, 1, buf, len, 1001, &o), 0);
	assert_int_equal(vip_stats(b)->adverts, 1);
	/* every truncation and every single-byte change parses or is refused, never more */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(vip_on_advert(b, 1, buf, cut, 1002, &o), -1);
	for (size_t i = 0; i < len; i++)
		for (unsigned x = 1; x < 256; x <<= 1) {
			uint8_t m[256];
			memcpy(m, buf, len);
			m[i] ^= (uint8_t)x;
			(void)vip_on_advert(b, 1, m, len, 1003, &o);
		}
	/* from ourselves or node 0: refused */
	assert_int_equal(vip_on_advert(b, 2, buf, len, 1004, &o), -1);
	assert_int_equal(vip_on_advert(b, 0, buf, len, 1004, &o), -1);
	vip_free(a);
	vip_free(b);
}

/* An advert of node as master of group "g" at prio (crafted: see vip.c). */
static size_t master_advert(uint8_t *buf, uint8_t prio)
{
	const uint8_t a[] = {1, 0, 0, 0, 0, 0, 1, 1, 'g', prio, VIP_MASTER};
	memcpy(buf, a, sizeof(a));
	return sizeof(a);
}

/*
 * While a silent master (node 2) is probed, a second one (node 3) claims
 * and goes silent too: its probe is due 1.25 intervals after its claim,
 * not whenever another deadline happens to come.
 */
static void test_second_claimant_probed_on_time(void **st)
{
	(void)st;
	struct vip_group_conf g = {.name = "g", .priority = 100, .preempt = true};
	struct vip_params p = {.self_id = 5, .interval_ms = 100};
	struct vip *v = vip_new(&p, &g, 1, 0);
	assert_non_null(v);
	struct vip_out o;
	uint8_t buf[32];
	size_t len = master_advert(buf, 150);
	assert_int_equal(vip_on_advert(v, 2, buf, len, 400, &o), 0);
	vip_tick(v, 530, &o); /* node 2 silent since 400: probed */
	uint64_t sent = vip_stats(v)->probes_sent;
	assert_true(sent >= 1);
	len = master_advert(buf, 200);
	assert_int_equal(vip_on_advert(v, 3, buf, len, 535, &o), 0);
	len = master_advert(buf, 150);
	assert_int_equal(vip_on_advert(v, 2, buf, len, 540, &o), 0);
	uint64_t d;
	while ((d = vip_next_deadline(v)) < 660)
		vip_tick(v, d, &o);
	assert_int_equal(d, 660); /* node 3's probe: 535 + 125 */
	vip_tick(v, d, &o);
	assert_true(vip_stats(v)->probes_sent > sent);
	vip_free(v);
}

/*
 * Another master's probe falls due while we are master (we probe only
 * when we are not): when we leave master (a fault), it is probed at once,
 * not whenever some other deadline comes.
 */
static void test_probe_due_as_master_served_on_leaving(void **st)
{
	(void)st;
	struct vip_group_conf g = {.name = "g", .priority = 100, .preempt = true};
	struct vip_params p = {.self_id = 5, .interval_ms = 100};
	struct vip *v = vip_new(&p, &g, 1, 0);
	assert_non_null(v);
	struct vip_out o;
	uint8_t buf[32];
	uint64_t t = 0;
	struct vip_group_view gv;
	for (; t < 400; t += 10)
		vip_tick(v, t, &o);
	vip_group(v, 0, t, &gv);
	assert_int_equal(gv.state, VIP_MASTER); /* alone */
	size_t len = master_advert(buf, 50);	/* a lower one claims too, then goes silent */
	assert_int_equal(vip_on_advert(v, 2, buf, len, 400, &o), 0);
	vip_tick(v, 530, &o); /* its probe was due at 525: not ours to send as master */
	uint64_t sent = vip_stats(v)->probes_sent;
	vip_set_fault(v, 0, true, 600, &o);
	assert_true(vip_stats(v)->probes_sent > sent);
	vip_free(v);
}

static void test_bad_params(void **st)
{
	(void)st;
	struct vip_params p = {.self_id = 1, .interval_ms = 100};
	struct vip_group_conf g[2] = {{.name = "a", .priority = 10}, {.name = "a", .priority = 20}};
	assert_null(vip_new(&p, g, 2, 0)); /* duplicate names */
	g[1].priority = 0;
	snprintf(g[1].name, sizeof(g[1].name), "b");
	assert_null(vip_new(&p, g, 2, 0)); /* priority 0 */
	g[1].priority = 255;
	assert_null(vip_new(&p, g, 2, 0));
	p.self_id = 0;
	g[1].priority = 5;
	assert_null(vip_new(&p, g, 2, 0));
	p.self_id = 1;
	struct vip *v = vip_new(&p, g, 2, 0);
	assert_non_null(v);
	assert_string_equal(vip_state_name(VIP_MASTER), "master");
	vip_free(v);
}

/*
 * A reload adds a group before ours: ours keeps its state and what the
 * peers said of it (no claim while the master lives), the new group
 * listens first, a gone group is forgotten, and an invalid set changes
 * nothing.
 */
static void test_reconf(void **st)
{
	(void)st;
	struct vip_group_conf g = {.name = "g", .priority = 100, .preempt = true};
	struct vip_params p = {.self_id = 5, .interval_ms = 100};
	struct vip *v = vip_new(&p, &g, 1, 0);
	assert_non_null(v);
	struct vip_out o;
	uint8_t buf[32];
	size_t len = master_advert(buf, 150);
	assert_int_equal(vip_on_advert(v, 2, buf, len, 350, &o), 0);
	vip_tick(v, 350, &o);
	struct vip_group_view gv;
	assert_int_equal(vip_group(v, 0, 350, &gv), 0);
	assert_int_equal(gv.state, VIP_BACKUP);
	struct vip_group_conf ng[2] = {{.name = "new", .priority = 200, .preempt = true}, g};
	int map[VIP_MAX_GROUPS];
	assert_int_equal(vip_reconf(v, ng, 2, 360, map, &o), 0);
	assert_int_equal(map[0], 1);
	assert_int_equal(o.n, 0); /* nothing changed state */
	assert_true(o.push);	  /* our advert names the new group */
	assert_int_equal(vip_group(v, 1, 360, &gv), 0);
	assert_int_equal(gv.state, VIP_BACKUP);
	assert_int_equal(gv.owner, 2); /* node 2's claim is remembered */
	assert_int_equal(vip_group(v, 0, 360, &gv), 0);
	assert_int_equal(gv.state, VIP_INIT);
	for (uint64_t t = 400; t <= 600; t += 100)
		assert_int_equal(vip_on_advert(v, 2, buf, len, t, &o), 0);
	vip_tick(v, 659, &o);
	assert_int_equal(vip_group(v, 0, 659, &gv), 0);
	assert_int_equal(gv.state, VIP_INIT);
	vip_tick(v, 660, &o); /* three intervals after the reload: "new" is ours */
	assert_int_equal(vip_group(v, 0, 660, &gv), 0);
	assert_int_equal(gv.state, VIP_MASTER);
	/* a duplicate name: refused, nothing changed */
	struct vip_group_conf dup[2] = {g, g};
	assert_int_equal(vip_reconf(v, dup, 2, 670, map, &o), -1);
	assert_int_equal(vip_groups(v), 2);
	/* "new" removed: g keeps index 0 now, still backup of node 2 */
	assert_int_equal(vip_on_advert(v, 2, buf, len, 675, &o), 0);
	assert_int_equal(vip_reconf(v, &g, 1, 680, map, &o), 0);
	assert_int_equal(map[0], -1);
	assert_int_equal(map[1], 0);
	assert_int_equal(vip_groups(v), 1);
	assert_int_equal(vip_group(v, 0, 680, &gv), 0);
	assert_int_equal(gv.state, VIP_BACKUP);
	vip_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_startup_best_wins),
	    cmocka_unit_test(test_equal_priority_node_id_decides),
	    cmocka_unit_test(test_crash_takeover_bound),
	    cmocka_unit_test(test_graceful_stop_hands_over_at_once),
	    cmocka_unit_test(test_preempt_and_no_preempt),
	    cmocka_unit_test(test_tracked_link_loss),
	    cmocka_unit_test(test_demote),
	    cmocka_unit_test(test_flapping_link_no_ping_pong),
	    cmocka_unit_test(test_partition_and_heal),
	    cmocka_unit_test(test_loss_no_false_takeover),
	    cmocka_unit_test(test_own_link_down_no_takeover),
	    cmocka_unit_test(test_advert_round_trip_and_garbage),
	    cmocka_unit_test(test_second_claimant_probed_on_time),
	    cmocka_unit_test(test_probe_due_as_master_served_on_leaving),
	    cmocka_unit_test(test_reconf),
	    cmocka_unit_test(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
