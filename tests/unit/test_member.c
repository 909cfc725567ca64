/*
 * Unit tests for core/member: the handshake (HEARD until a heartbeat lists
 * us), timeouts exactly at the deadline, the own link, restarts, the
 * heartbeat rhythm, next_deadline and the peer table limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/member.h"

#define SELF 1u

static struct member *new_member(uint32_t self, uint32_t interval, uint32_t dead)
{
	struct member_params p = {.self_id = self, .interval_ms = interval, .dead_count = dead};
	struct member *m = member_new(&p);
	assert_non_null(m);
	return m;
}

/* A heartbeat advertising interval and listing the n nodes of known. */
static struct wire_heartbeat hb_of(uint32_t interval, size_t n, const uint32_t *known)
{
	struct wire_heartbeat hb;

	memset(&hb, 0, sizeof(hb));
	hb.interval_ms = interval;
	hb.n_known = (uint16_t)n;
	for (size_t i = 0; i < n; i++)
		hb.known[i] = known[i];
	return hb;
}

/* A heartbeat from node to m at now, listing us or not; returns the events. */
static struct member_events hear(struct member *m, uint32_t node, uint32_t interval,
				 bool lists_self, uint64_t now)
{
	uint32_t self = SELF;
	struct wire_heartbeat hb = hb_of(interval, lists_self ? 1 : 0, &self);
	struct member_events ev;

	ev.n = 99;
	assert_int_equal(member_on_heartbeat(m, node, 0, &hb, now, &ev), 0);
	return ev;
}

static void assert_one_event(const struct member_events *ev, enum member_ev_type t, uint32_t node)
{
	assert_int_equal(ev->n, 1);
	assert_int_equal(ev->v[0].type, t);
	assert_int_equal(ev->v[0].node, node);
}

static uint8_t state_of(const struct member *m, uint32_t node)
{
	struct member_peer p[WIRE_MAX_PEERS];
	size_t n = member_peers(m, p, WIRE_MAX_PEERS);

	for (size_t i = 0; i < n; i++)
		if (p[i].node == node)
			return p[i].state;
	return 0;
}

static void test_new_invalid(void **state)
{
	struct member_params p = {.self_id = 1, .interval_ms = 0, .dead_count = 3};
	struct member *m;

	(void)state;
	errno = 0;
	assert_null(member_new(&p));
	assert_int_equal(errno, EINVAL);
	p.interval_ms = 100;
	p.dead_count = 0;
	errno = 0;
	assert_null(member_new(&p));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(member_new(NULL));
	assert_int_equal(errno, EINVAL);

	p.dead_count = 3;
	m = member_new(&p);
	assert_non_null(m);
	assert_true(member_link_up(m));
	assert_int_equal(member_peers(m, NULL, 0), 0);
	assert_false(member_is_up(m, 2));
	/* The first heartbeat is due at once. */
	assert_int_equal(member_next_deadline(m), 0);
	member_free(m);
	member_free(NULL);
}

static void test_heard_then_up(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	ev = hear(m, 2, 100, false, 1000);
	assert_int_equal(ev.n, 0);
	assert_int_equal(state_of(m, 2), MS_HEARD);
	assert_false(member_is_up(m, 2));

	ev = hear(m, 2, 100, false, 1100);
	assert_int_equal(ev.n, 0);
	assert_int_equal(state_of(m, 2), MS_HEARD);

	ev = hear(m, 2, 100, true, 1200);
	assert_one_event(&ev, ME_NODE_UP, 2);
	assert_true(member_is_up(m, 2));
	assert_int_equal(state_of(m, 2), MS_UP);

	for (uint64_t t = 1300; t < 3000; t += 100) {
		ev = hear(m, 2, 100, true, t);
		assert_int_equal(ev.n, 0);
		assert_true(member_is_up(m, 2));
	}
	member_free(m);
}

static void test_first_heartbeat_lists_us(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	uint32_t known[3] = {7, SELF, 9};
	struct wire_heartbeat hb = hb_of(100, 3, known);
	struct member_events ev;

	(void)state;
	assert_int_equal(member_on_heartbeat(m, 5, 0, &hb, 10, &ev), 0);
	assert_one_event(&ev, ME_NODE_UP, 5);
	assert_true(member_is_up(m, 5));
	member_free(m);
}

static void test_own_heartbeat_ignored(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	ev = hear(m, SELF, 100, true, 10);
	assert_int_equal(ev.n, 0);
	assert_int_equal(member_peers(m, NULL, 0), 0);
	member_free(m);
}

/*
 * n real members exchange the heartbeats they fill, in rounds, with no
 * loss; each must see every other one UP exactly once and nothing else.
 */
static void run_handshake(size_t n)
{
	struct member *m[4];
	size_t ups[4][4];
	uint64_t now = 5000;

	memset(ups, 0, sizeof(ups));
	for (size_t i = 0; i < n; i++)
		m[i] = new_member((uint32_t)(i + 1), 100, 3);

	for (int round = 0; round < 5; round++, now += 100) {
		for (size_t s = 0; s < n; s++) {
			struct wire_heartbeat hb;

			assert_true(member_heartbeat_due(m[s], now));
			memset(&hb, 0, sizeof(hb));
			hb.rb_next = 0x1234;
			member_fill_heartbeat(m[s], &hb);
			assert_int_equal(hb.rb_next, 0x1234);
			assert_int_equal(hb.interval_ms, 100);
			for (size_t r = 0; r < n; r++) {
				struct member_events ev;

				if (r == s)
					continue;
				assert_int_equal(
				    member_on_heartbeat(m[r], (uint32_t)(s + 1), 0, &hb, now, &ev),
				    0);
				for (size_t k = 0; k < ev.n; k++) {
					assert_int_equal(ev.v[k].type, ME_NODE_UP);
					assert_int_equal(ev.v[k].node, s + 1);
					ups[r][s]++;
				}
			}
		}
		for (size_t r = 0; r < n; r++) {
			struct member_events ev;

			member_tick(m[r], now, &ev);
			assert_int_equal(ev.n, 0);
		}
	}
	for (size_t r = 0; r < n; r++) {
		for (size_t s = 0; s < n; s++) {
			if (r == s)
				continue;
			assert_int_equal(ups[r][s], 1);
			assert_true(member_is_up(m[r], (uint32_t)(s + 1)));
		}
		assert_int_equal(member_peers(m[r], NULL, 0), n - 1);
	}
	for (size_t i = 0; i < n; i++)
		member_free(m[i]);
}

static void test_two_node_handshake(void **state)
{
	struct member *a = new_member(1, 100, 3), *b = new_member(2, 100, 3);
	struct wire_heartbeat hb;
	struct member_events ev;

	(void)state;
	/* a speaks first: b hears a, but a does not list b yet. */
	member_fill_heartbeat(a, &hb);
	assert_int_equal(hb.n_known, 0);
	assert_int_equal(member_on_heartbeat(b, 1, 0, &hb, 0, &ev), 0);
	assert_int_equal(ev.n, 0);
	assert_int_equal(state_of(b, 1), MS_HEARD);
	/* b lists a: a sees b UP at once. */
	member_fill_heartbeat(b, &hb);
	assert_int_equal(hb.n_known, 1);
	assert_int_equal(hb.known[0], 1);
	assert_int_equal(member_on_heartbeat(a, 2, 0, &hb, 50, &ev), 0);
	assert_one_event(&ev, ME_NODE_UP, 2);
	/* b is still HEARD for a until a's next heartbeat, which lists b. */
	assert_false(member_is_up(b, 1));
	member_fill_heartbeat(a, &hb);
	assert_int_equal(member_on_heartbeat(b, 1, 0, &hb, 100, &ev), 0);
	assert_one_event(&ev, ME_NODE_UP, 1);
	assert_true(member_is_up(a, 2));
	assert_true(member_is_up(b, 1));
	member_free(a);
	member_free(b);

	run_handshake(2);
}

static void test_three_node_handshake(void **state)
{
	(void)state;
	run_handshake(3);
	run_handshake(4);
}

struct timing {
	uint32_t interval;
	uint32_t dead;
};

static const struct timing timings[] = {
    {20, 1}, {20, 3}, {100, 3}, {100, 1}, {1000, 2}, {1000, 5}, {1, 1}, {7, 13},
};

static void test_down_exactly_at_deadline(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(timings) / sizeof(timings[0]); k++) {
		uint32_t iv = timings[k].interval, dc = timings[k].dead;
		uint64_t last = 1000, dl = last + (uint64_t)iv * dc;
		struct member *m = new_member(SELF, iv, dc);
		struct member_events ev;

		ev = hear(m, 2, iv, true, 500);
		assert_one_event(&ev, ME_NODE_UP, 2);
		ev = hear(m, 2, iv, true, last);
		assert_int_equal(ev.n, 0);
		/* A HEARD peer with the same timing times out silently. */
		ev = hear(m, 3, iv, false, last);
		assert_int_equal(ev.n, 0);

		assert_int_equal(member_next_deadline(m), 0); /* heartbeat not yet sent */
		member_tick(m, last, &ev);
		assert_int_equal(ev.n, 0);
		member_tick(m, dl - 1, &ev);
		assert_int_equal(ev.n, 0);
		assert_true(member_is_up(m, 2));
		assert_int_equal(state_of(m, 3), MS_HEARD);

		member_tick(m, dl, &ev);
		assert_one_event(&ev, ME_NODE_DOWN, 2);
		assert_false(member_is_up(m, 2));
		assert_int_equal(state_of(m, 2), MS_DOWN);
		assert_int_equal(state_of(m, 3), MS_DOWN);

		/* Down once: later ticks report nothing more. */
		member_tick(m, dl + 10ull * iv * dc, &ev);
		assert_int_equal(ev.n, 0);
		member_free(m);
	}
}

static void test_late_tick_reports_once(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	ev = hear(m, 2, 100, true, 0);
	ev = hear(m, 3, 100, true, 10);
	ev = hear(m, 4, 100, true, 500);
	member_tick(m, 450, &ev);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.v[0].type, ME_NODE_DOWN);
	assert_int_equal(ev.v[0].node, 2);
	assert_int_equal(ev.v[1].type, ME_NODE_DOWN);
	assert_int_equal(ev.v[1].node, 3);
	assert_true(member_is_up(m, 4));
	member_tick(m, 460, &ev);
	assert_int_equal(ev.n, 0);
	member_free(m);
}

static void test_advertised_interval(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	struct member_peer p[2];

	(void)state;
	/* Peer 2 beats every second: 3 s of silence, not 300 ms. */
	ev = hear(m, 2, 1000, true, 0);
	assert_one_event(&ev, ME_NODE_UP, 2);
	/* Peer 3 advertises 0: ours is used. */
	ev = hear(m, 3, 0, true, 0);
	assert_one_event(&ev, ME_NODE_UP, 3);
	assert_int_equal(member_peers(m, p, 2), 2);
	assert_int_equal(p[0].interval_ms, 1000);
	assert_int_equal(p[1].interval_ms, 0);

	member_tick(m, 299, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 300, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 3);
	member_tick(m, 2999, &ev);
	assert_int_equal(ev.n, 0);
	assert_true(member_is_up(m, 2));
	member_tick(m, 3000, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);

	/* The interval follows what the peer advertises now. */
	ev = hear(m, 2, 50, true, 4000);
	assert_one_event(&ev, ME_NODE_UP, 2);
	member_tick(m, 4149, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 4150, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	member_free(m);
}

static void test_own_link(void **state)
{
	const uint64_t dead = 300; /* 3 x 100 */
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	struct member_peer p[3];
	uint64_t t;

	(void)state;
	assert_true(member_heartbeat_due(m, 1000));
	ev = hear(m, 2, 100, true, 1000);  /* UP */
	ev = hear(m, 3, 100, false, 1000); /* HEARD */
	ev = hear(m, 4, 100, true, 900);   /* UP, then DOWN */
	member_tick(m, 1200, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 4);

	member_set_link(m, 0, false, 1050, &ev);
	assert_one_event(&ev, ME_OWN_DOWN, SELF);
	assert_false(member_link_up(m));
	member_set_link(m, 0, false, 1060, &ev);
	assert_int_equal(ev.n, 0);

	/* Ten dead intervals of silence: nobody dies. */
	for (t = 1050; t <= 1050 + 10 * dead; t += 7) {
		member_tick(m, t, &ev);
		assert_int_equal(ev.n, 0);
		assert_true(member_is_up(m, 2));
		assert_int_equal(state_of(m, 3), MS_HEARD);
		/* Heartbeats keep being due; only they count for the next deadline. */
		(void)member_heartbeat_due(m, t);
		assert_true(member_next_deadline(m) > t);
		assert_true(member_next_deadline(m) <= t + 100);
	}

	/* Back up at T: a fresh DeadInterval from T for HEARD and UP peers. */
	const uint64_t T = 1050 + 10 * dead;
	member_set_link(m, 0, true, T, &ev);
	assert_one_event(&ev, ME_OWN_UP, SELF);
	assert_true(member_link_up(m));
	member_set_link(m, 0, true, T + 1, &ev);
	assert_int_equal(ev.n, 0);

	assert_int_equal(member_peers(m, p, 3), 3);
	assert_int_equal(p[0].last_heard, 1000); /* the truth, not T */

	member_tick(m, T, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, T + dead - 1, &ev);
	assert_int_equal(ev.n, 0);
	assert_true(member_is_up(m, 2));
	assert_int_equal(state_of(m, 4), MS_DOWN);
	member_tick(m, T + dead, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	assert_int_equal(state_of(m, 3), MS_DOWN);
	assert_int_equal(state_of(m, 4), MS_DOWN);
	member_free(m);
}

static void test_link_up_with_heartbeats_in_between(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	ev = hear(m, 2, 100, true, 0);
	member_set_link(m, 0, false, 10, &ev);
	/* A heartbeat that does get through while the link is said down counts. */
	ev = hear(m, 2, 100, true, 500);
	assert_int_equal(ev.n, 0);
	member_tick(m, 900, &ev);
	assert_int_equal(ev.n, 0);
	member_set_link(m, 0, true, 1000, &ev);
	assert_one_event(&ev, ME_OWN_UP, SELF);
	member_tick(m, 1299, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 1300, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	member_free(m);
}

static void test_restart(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	struct member_peer p;

	(void)state;
	ev = hear(m, 2, 100, true, 0);
	assert_one_event(&ev, ME_NODE_UP, 2);
	ev = hear(m, 2, 100, true, 100);
	assert_int_equal(ev.n, 0);

	/* Peer 2 restarted: its first heartbeat does not know us. */
	ev = hear(m, 2, 100, false, 150);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	assert_int_equal(state_of(m, 2), MS_HEARD);
	assert_false(member_is_up(m, 2));
	ev = hear(m, 2, 100, false, 250);
	assert_int_equal(ev.n, 0);
	/* Still heard, so not timed out meanwhile (and HEARD would be silent). */
	member_tick(m, 549, &ev);
	assert_int_equal(ev.n, 0);
	assert_int_equal(state_of(m, 2), MS_HEARD);
	ev = hear(m, 2, 100, true, 549);
	assert_one_event(&ev, ME_NODE_UP, 2);
	assert_true(member_is_up(m, 2));

	assert_int_equal(member_peers(m, &p, 1), 1);
	assert_int_equal(p.node, 2);
	assert_int_equal(p.state, MS_UP);
	assert_int_equal(p.heartbeats, 5);
	assert_int_equal(p.last_heard, 549);
	assert_int_equal(p.since, 549);
	member_free(m);
}

static void test_down_comes_back(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	ev = hear(m, 2, 100, true, 0);
	ev = hear(m, 3, 100, true, 0);
	member_tick(m, 300, &ev);
	assert_int_equal(ev.n, 2);
	/* 2 comes back not knowing us: HEARD, not reported. */
	ev = hear(m, 2, 100, false, 400);
	assert_int_equal(ev.n, 0);
	assert_int_equal(state_of(m, 2), MS_HEARD);
	ev = hear(m, 2, 100, true, 500);
	assert_one_event(&ev, ME_NODE_UP, 2);
	/* 3 comes back knowing us: UP at once. */
	ev = hear(m, 3, 100, true, 400);
	assert_one_event(&ev, ME_NODE_UP, 3);
	assert_true(member_is_up(m, 3));
	member_free(m);
}

static void test_rhythm(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	uint64_t t, start = 7, count = 0;

	(void)state;
	/* Polled every ms: due exactly at start + k * 100. */
	for (t = start; t <= start + 1000 * 100; t++) {
		if (member_heartbeat_due(m, t)) {
			assert_int_equal((t - start) % 100, 0);
			count++;
		}
	}
	assert_int_equal(count, 1001);
	assert_int_equal(member_next_deadline(m), start + 1001 * 100);
	member_free(m);

	/* Polled late by a varying amount under an interval: no drift. */
	m = new_member(SELF, 100, 3);
	assert_true(member_heartbeat_due(m, start));
	for (uint64_t k = 1; k <= 1000; k++) {
		uint64_t due = start + k * 100, late = (k * 37) % 100;

		assert_int_equal(member_next_deadline(m), due);
		assert_false(member_heartbeat_due(m, due - 1));
		assert_true(member_heartbeat_due(m, due + late));
		assert_false(member_heartbeat_due(m, due + late));
	}
	assert_int_equal(member_next_deadline(m), start + 1001 * 100);

	/* Late by more than an interval: a new rhythm from now, no burst. */
	assert_true(member_heartbeat_due(m, start + 1001 * 100 + 250));
	t = start + 1001 * 100 + 250;
	assert_int_equal(member_next_deadline(m), t + 100);
	assert_false(member_heartbeat_due(m, t + 1));
	assert_false(member_heartbeat_due(m, t + 99));
	assert_true(member_heartbeat_due(m, t + 100));
	assert_true(member_heartbeat_due(m, t + 200));
	/* Late by exactly one interval: from now as well. */
	assert_true(member_heartbeat_due(m, t + 400));
	assert_int_equal(member_next_deadline(m), t + 500);
	assert_false(member_heartbeat_due(m, t + 400));
	member_free(m);
}

static void test_next_deadline(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;

	(void)state;
	/* Before the first heartbeat: due now. */
	assert_int_equal(member_next_deadline(m), 0);
	assert_true(member_heartbeat_due(m, 1000));
	assert_int_equal(member_next_deadline(m), 1100);

	/* A HEARD peer with a short interval times out before our heartbeat. */
	ev = hear(m, 2, 20, false, 1010);
	assert_int_equal(member_next_deadline(m), 1070);
	/* An UP peer with a later deadline does not change that. */
	ev = hear(m, 3, 100, true, 1010);
	assert_int_equal(member_next_deadline(m), 1070);
	member_tick(m, 1070, &ev);
	assert_int_equal(ev.n, 0); /* 2 was only HEARD */
	/* DOWN peers have no deadline: next is our heartbeat. */
	assert_int_equal(member_next_deadline(m), 1100);
	assert_true(member_heartbeat_due(m, 1100));
	/* The UP peer's deadline is 1310: after the heartbeats at 1200 and 1300. */
	assert_int_equal(member_next_deadline(m), 1200);
	assert_true(member_heartbeat_due(m, 1200));
	assert_int_equal(member_next_deadline(m), 1300);
	assert_true(member_heartbeat_due(m, 1300));
	assert_int_equal(member_next_deadline(m), 1310);

	/* Link down: only the heartbeat. */
	member_set_link(m, 0, false, 1301, &ev);
	assert_int_equal(member_next_deadline(m), 1400);
	member_set_link(m, 0, true, 1350, &ev);
	assert_int_equal(member_next_deadline(m), 1400);
	assert_true(member_heartbeat_due(m, 1400));
	assert_int_equal(member_next_deadline(m), 1500);
	assert_true(member_heartbeat_due(m, 1500));
	assert_int_equal(member_next_deadline(m), 1600);
	assert_true(member_heartbeat_due(m, 1600));
	assert_int_equal(member_next_deadline(m), 1650); /* 1350 + 300 */
	member_tick(m, 1650, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 3);
	assert_int_equal(member_next_deadline(m), 1700);
	member_free(m);
}

static void test_table_full(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	struct member_peer p[WIRE_MAX_PEERS + 1];
	uint32_t self = SELF;
	struct wire_heartbeat hb = hb_of(100, 1, &self);

	(void)state;
	for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++) {
		assert_int_equal(member_on_heartbeat(m, 100 + i, 0, &hb, i, &ev), 0);
		assert_one_event(&ev, ME_NODE_UP, 100 + i);
	}
	errno = 0;
	ev.n = 5;
	assert_int_equal(member_on_heartbeat(m, 99, 0, &hb, 100, &ev), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(ev.n, 0);
	assert_false(member_is_up(m, 99));
	/* Known peers still get through. */
	assert_int_equal(member_on_heartbeat(m, 100, 0, &hb, 100, &ev), 0);
	assert_int_equal(member_on_heartbeat(m, 100 + WIRE_MAX_PEERS - 1, 0, &hb, 100, &ev), 0);

	assert_int_equal(member_peers(m, p, WIRE_MAX_PEERS + 1), WIRE_MAX_PEERS);
	for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++)
		assert_int_equal(p[i].node, 100 + i);
	/* A short copy still says how many there are. */
	memset(p, 0, sizeof(p));
	assert_int_equal(member_peers(m, p, 3), WIRE_MAX_PEERS);
	assert_int_equal(p[2].node, 102);
	assert_int_equal(p[3].node, 0);

	/* Everyone times out at once: every UP one reported, and it fits. */
	member_tick(m, 1000000, &ev);
	assert_int_equal(ev.n, WIRE_MAX_PEERS);
	for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++)
		assert_int_equal(ev.v[i].type, ME_NODE_DOWN);

	/* A full table of heartbeats fills in full. */
	for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++)
		(void)member_on_heartbeat(m, 100 + i, 0, &hb, 2000000, &ev);
	memset(&hb, 0, sizeof(hb));
	member_fill_heartbeat(m, &hb);
	assert_int_equal(hb.n_known, WIRE_MAX_PEERS);
	member_free(m);
}

/* Node IDs come and go: a new node takes the slot of the one down the longest. */
static void test_table_full_reuses_down_slot(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	uint32_t self = SELF;
	struct wire_heartbeat hb = hb_of(100, 1, &self);

	(void)state;
	for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++)
		assert_int_equal(member_on_heartbeat(m, 100 + i, 0, &hb, 1000, &ev), 0);
	/* node 105 stops first, the others keep going a while longer */
	for (uint64_t t = 1100; t <= 1500; t += 100)
		for (uint32_t i = 0; i < WIRE_MAX_PEERS; i++)
			if (i != 5)
				assert_int_equal(member_on_heartbeat(m, 100 + i, 0, &hb, t, &ev),
						 0);
	member_tick(m, 1300, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 105);
	member_tick(m, 1800, &ev); /* now everyone is down; 105 the longest */
	assert_int_equal(ev.n, WIRE_MAX_PEERS - 1);

	assert_int_equal(member_on_heartbeat(m, 999, 0, &hb, 2000, &ev), 0);
	assert_one_event(&ev, ME_NODE_UP, 999);
	assert_true(member_is_up(m, 999));
	assert_false(member_is_up(m, 105));
	struct member_peer p[WIRE_MAX_PEERS];
	assert_int_equal(member_peers(m, p, WIRE_MAX_PEERS), WIRE_MAX_PEERS);
	assert_int_equal(p[5].node, 999); /* 105's slot */
	assert_int_equal(p[5].heartbeats, 1);
	member_free(m);
}

static void test_fill_heartbeat(void **state)
{
	struct member *m = new_member(SELF, 250, 3);
	struct member_events ev;
	struct wire_heartbeat hb;

	(void)state;
	ev = hear(m, 4, 250, true, 0);	  /* UP, will go DOWN */
	ev = hear(m, 2, 250, true, 500);  /* UP */
	ev = hear(m, 3, 250, false, 500); /* HEARD */
	member_tick(m, 750, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 4);
	ev = hear(m, 5, 250, true, 760);
	assert_one_event(&ev, ME_NODE_UP, 5);

	memset(&hb, 0xa5, sizeof(hb));
	hb.rb_next = 42;
	member_fill_heartbeat(m, &hb);
	assert_int_equal(hb.interval_ms, 250);
	assert_int_equal(hb.rb_next, 42);
	assert_int_equal(hb.n_known, 3);
	assert_int_equal(hb.known[0], 2);
	assert_int_equal(hb.known[1], 3);
	assert_int_equal(hb.known[2], 5);

	/* All down: an empty list. */
	member_tick(m, 10000, &ev);
	assert_int_equal(ev.n, 2);
	member_fill_heartbeat(m, &hb);
	assert_int_equal(hb.n_known, 0);
	member_free(m);
}

static void test_oversized_known_list(void **state)
{
	struct member *m = new_member(SELF, 100, 3);
	struct member_events ev;
	struct wire_heartbeat hb;

	(void)state;
	memset(&hb, 0, sizeof(hb));
	hb.interval_ms = 100;
	hb.n_known = 1000; /* the codec should never let this through; stay in bounds */
	for (size_t i = 0; i < WIRE_MAX_PEERS; i++)
		hb.known[i] = (uint32_t)(1000 + i);
	hb.known[WIRE_MAX_PEERS - 1] = SELF;
	assert_int_equal(member_on_heartbeat(m, 2, 0, &hb, 0, &ev), 0);
	assert_one_event(&ev, ME_NODE_UP, 2);
	member_free(m);
}

static void test_large_times(void **state)
{
	struct member *m = new_member(SELF, 1000, 5);
	struct member_events ev;
	uint64_t t = UINT64_MAX - 2000;

	(void)state;
	ev = hear(m, 2, UINT32_MAX, true, t);
	assert_one_event(&ev, ME_NODE_UP, 2);
	assert_true(member_heartbeat_due(m, t));
	assert_int_equal(member_next_deadline(m), t + 1000);
	assert_true(member_heartbeat_due(m, t + 1000));
	assert_int_equal(member_next_deadline(m), UINT64_MAX);
	member_tick(m, UINT64_MAX - 1, &ev);
	assert_int_equal(ev.n, 0);
	member_free(m);
}

/* ---- paths ---- */

static struct member *new_paths(uint8_t n_paths)
{
	struct member_params p = {
	    .self_id = SELF, .interval_ms = 100, .dead_count = 3, .n_paths = n_paths};
	struct member *m = member_new(&p);
	assert_non_null(m);
	return m;
}

/* A heartbeat listing us from node on path at now. */
static struct member_events hear_on(struct member *m, uint32_t node, unsigned path, uint64_t now)
{
	uint32_t self = SELF;
	struct wire_heartbeat hb = hb_of(100, 1, &self);
	struct member_events ev;
	assert_int_equal(member_on_heartbeat(m, node, path, &hb, now, &ev), 0);
	return ev;
}

static bool has_event(const struct member_events *ev, enum member_ev_type t, uint32_t node,
		      unsigned path)
{
	for (size_t i = 0; i < ev->n; i++)
		if (ev->v[i].type == t && ev->v[i].node == node && ev->v[i].path == path)
			return true;
	return false;
}

/*
 * Two paths: a peer silent on one but heard on the other is not down; the
 * silent path is reported down after DeadInterval, up at its next
 * heartbeat; silent on both, the peer is down.
 */
static void test_paths_one_silent(void **state)
{
	(void)state;
	struct member *m = new_paths(2);
	struct member_events ev;
	assert_int_equal(member_n_paths(m), 2);
	hear_on(m, 2, 0, 0);
	hear_on(m, 2, 1, 0);
	assert_true(member_is_up(m, 2));
	assert_int_equal(member_best_path(m), 0);
	/* path 0 goes silent: path 1 carries on */
	for (uint64_t t = 100; t <= 1000; t += 100) {
		hear_on(m, 2, 1, t);
		member_tick(m, t, &ev);
		assert_true(member_is_up(m, 2));
		if (t == 300) {
			assert_true(has_event(&ev, ME_PATH_DOWN, 2, 0));
			assert_int_equal(ev.n, 1);
		} else {
			assert_int_equal(ev.n, 0);
		}
	}
	assert_false(member_path_ok(m, 2, 0));
	assert_true(member_path_ok(m, 2, 1));
	assert_int_equal(member_best_path(m), 1);
	assert_int_equal(member_path_to(m, 2), 1);
	struct member_peer p[1];
	assert_int_equal(member_peers(m, p, 1), 1);
	assert_int_equal(p[0].paths_up, 2);
	assert_int_equal(p[0].path_downs[0], 1);
	assert_int_equal(p[0].path_heard[0], 0);
	assert_int_equal(p[0].path_heard[1], 1000);
	/* path 0 back */
	ev = hear_on(m, 2, 0, 1050);
	assert_true(has_event(&ev, ME_PATH_UP, 2, 0));
	assert_int_equal(member_best_path(m), 0);
	/* both silent: down at the later path deadline, with no path events */
	member_tick(m, 1299, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 1300, &ev); /* path 1 last heard at 1000 */
	assert_true(has_event(&ev, ME_PATH_DOWN, 2, 1));
	assert_true(member_is_up(m, 2));
	member_tick(m, 1350, &ev); /* path 0 last heard at 1050 */
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	member_free(m);
}

/* A path never heard on is reported down after DeadInterval (a misconfigured path). */
static void test_paths_never_heard(void **state)
{
	(void)state;
	struct member *m = new_paths(2);
	struct member_events ev;
	hear_on(m, 2, 0, 0);
	hear_on(m, 2, 0, 200);
	member_tick(m, 299, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 300, &ev);
	assert_true(has_event(&ev, ME_PATH_DOWN, 2, 1));
	assert_true(member_is_up(m, 2));
	assert_int_equal(member_next_deadline(m) <= 500, true);
	member_free(m);
}

/*
 * Our own link of a path: its silence says nothing (no path event while
 * it is down, no death from it); with every own link down nobody dies;
 * a path back gets a fresh DeadInterval.
 */
static void test_paths_own_link(void **state)
{
	(void)state;
	struct member *m = new_paths(2);
	struct member_events ev;
	hear_on(m, 2, 0, 0);
	hear_on(m, 2, 1, 0);
	member_set_link(m, 0, false, 10, &ev);
	assert_true(has_event(&ev, ME_OWN_PATH_DOWN, SELF, 0));
	assert_int_equal(ev.n, 1);
	assert_true(member_link_up(m));
	assert_int_equal(member_best_path(m), 1);
	/* heard on path 1 only: no path-0 event, no death */
	for (uint64_t t = 100; t <= 600; t += 100) {
		hear_on(m, 2, 1, t);
		member_tick(m, t, &ev);
		assert_int_equal(ev.n, 0);
	}
	/* silent on path 1 too: down (path 0 does not count while our link is down) */
	member_tick(m, 900, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	/* every own link down: nobody dies, one OWN_DOWN */
	hear_on(m, 3, 1, 1000);
	member_set_link(m, 1, false, 1010, &ev);
	assert_true(has_event(&ev, ME_OWN_PATH_DOWN, SELF, 1));
	assert_true(has_event(&ev, ME_OWN_DOWN, SELF, 0));
	assert_false(member_link_up(m));
	member_tick(m, 5000, &ev);
	assert_int_equal(ev.n, 0);
	assert_true(member_is_up(m, 3));
	/* path 1 back: OWN_UP, node 3 gets a fresh DeadInterval on it */
	member_set_link(m, 1, true, 5000, &ev);
	assert_true(has_event(&ev, ME_OWN_UP, SELF, 0));
	assert_true(has_event(&ev, ME_OWN_PATH_UP, SELF, 1));
	member_tick(m, 5299, &ev);
	assert_int_equal(ev.n, 0);
	member_tick(m, 5300, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 3);
	/* a path out of range is refused */
	struct wire_heartbeat hb = hb_of(100, 0, NULL);
	assert_int_equal(member_on_heartbeat(m, 2, 2, &hb, 6000, &ev), -1);
	assert_int_equal(errno, EINVAL);
	member_free(m);
}

/* With one path there are no path events: a silent path is a silent peer. */
static void test_paths_one_path_no_events(void **state)
{
	(void)state;
	struct member *m = new_paths(1);
	struct member_events ev;
	hear_on(m, 2, 0, 0);
	member_tick(m, 300, &ev);
	assert_one_event(&ev, ME_NODE_DOWN, 2);
	member_set_link(m, 0, false, 400, &ev);
	assert_one_event(&ev, ME_OWN_DOWN, SELF);
	struct member_params p = {.self_id = 1, .interval_ms = 100, .dead_count = 3, .n_paths = 5};
	errno = 0;
	assert_null(member_new(&p));
	assert_int_equal(errno, EINVAL);
	member_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_invalid),
	    cmocka_unit_test(test_heard_then_up),
	    cmocka_unit_test(test_first_heartbeat_lists_us),
	    cmocka_unit_test(test_own_heartbeat_ignored),
	    cmocka_unit_test(test_two_node_handshake),
	    cmocka_unit_test(test_three_node_handshake),
	    cmocka_unit_test(test_down_exactly_at_deadline),
	    cmocka_unit_test(test_late_tick_reports_once),
	    cmocka_unit_test(test_advertised_interval),
	    cmocka_unit_test(test_own_link),
	    cmocka_unit_test(test_link_up_with_heartbeats_in_between),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_down_comes_back),
	    cmocka_unit_test(test_rhythm),
	    cmocka_unit_test(test_next_deadline),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_table_full_reuses_down_slot),
	    cmocka_unit_test(test_fill_heartbeat),
	    cmocka_unit_test(test_oversized_known_list),
	    cmocka_unit_test(test_large_times),
	    cmocka_unit_test(test_paths_one_silent),
	    cmocka_unit_test(test_paths_never_heard),
	    cmocka_unit_test(test_paths_own_link),
	    cmocka_unit_test(test_paths_one_path_no_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
