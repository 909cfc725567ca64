/*
 * Unit tests for core/cluster's soft state: one slot per channel, carried
 * by every heartbeat and by a push, arriving as one CA_STATE per channel;
 * the limits cluster_set_state checks; state TLVs refused by reason; paths:
 * a heartbeat on each, the rest on the best one.
 * (Membership and reliable broadcast over many nodes: tests/sim.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "core/cluster.h"

#define NODE_A 1u
#define NODE_B 2u

static const struct wire_key KEY = {{1,	 2,  3,	 4,  5,	 6,  7,	 8,  9,	 10, 11,
				     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				     23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};

/* Node id on n_paths paths (0: one). */
static struct cluster *node_paths(uint32_t id, uint8_t n_paths)
{
	struct cluster_params p = {.node_id = id,
				   .epoch = 100 + id,
				   .key = KEY,
				   .encrypt = true,
				   .interval_ms = 100,
				   .dead_count = 3,
				   .send_buffer = 16,
				   .n_paths = n_paths};
	struct cluster *c = cluster_new(&p);
	assert_non_null(c);
	return c;
}

static struct cluster *node(uint32_t id)
{
	return node_paths(id, 0);
}

static size_t count(const struct cluster_actions *a, enum cluster_action_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].type == type;
	return n;
}

/* Hand every datagram in from to c at now; c's actions go to out (reset first). */
static void carry(const struct cluster_actions *from, struct cluster *c, uint64_t now,
		  struct cluster_actions *out)
{
	cluster_actions_reset(out);
	for (size_t i = 0; i < from->n; i++) {
		const struct cluster_action *a = &from->v[i];
		if (a->type == CA_SEND_ALL || a->type == CA_SEND_TO)
			cluster_input(c, a->data, a->len, now, out);
	}
}

/* The CA_STATE of chan in a, or NULL; fails on a second one. */
static const struct cluster_action *state_of(const struct cluster_actions *a, uint8_t chan)
{
	const struct cluster_action *found = NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type != CA_STATE || a->v[i].chan != chan)
			continue;
		assert_null(found);
		found = &a->v[i];
	}
	return found;
}

static void assert_state(const struct cluster_actions *a, uint8_t chan, uint32_t node,
			 const void *data, size_t len)
{
	const struct cluster_action *s = state_of(a, chan);
	assert_non_null(s);
	assert_int_equal(s->node, node);
	assert_int_equal(s->len, len);
	assert_memory_equal(s->data, data, len);
}

/* A heartbeat from a (due at once at time now), carried to b. */
static void heartbeat(struct cluster *a, struct cluster *b, uint64_t now,
		      struct cluster_actions *tx, struct cluster_actions *rx)
{
	cluster_actions_reset(tx);
	cluster_tick(a, now, tx);
	assert_int_equal(count(tx, CA_SEND_ALL), 1); /* heartbeat and states: one datagram */
	carry(tx, b, now, rx);
}

/* ---- the tests the brief of per-channel state asks for ---- */

static void test_two_channels_one_heartbeat(void **state)
{
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);

	assert_int_equal(cluster_set_state(a, CLUSTER_CHAN_VIP, (const uint8_t *)"vip-advert", 10),
			 0);
	assert_int_equal(cluster_set_state(a, CLUSTER_CHAN_RANGES, (const uint8_t *)"RR", 2), 0);
	heartbeat(a, b, 0, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_state(&rx, CLUSTER_CHAN_VIP, NODE_A, "vip-advert", 10);
	assert_state(&rx, CLUSTER_CHAN_RANGES, NODE_A, "RR", 2);
	assert_int_equal(cluster_stats(a)->states_sent, 2);
	assert_int_equal(cluster_stats(b)->states_received, 2);

	/* a new value on one channel leaves the other as it was */
	assert_int_equal(cluster_set_state(a, CLUSTER_CHAN_RANGES, (const uint8_t *)"R2R2", 4), 0);
	heartbeat(a, b, 100, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_state(&rx, CLUSTER_CHAN_VIP, NODE_A, "vip-advert", 10);
	assert_state(&rx, CLUSTER_CHAN_RANGES, NODE_A, "R2R2", 4);
	/* the other actions of a STATE-free kind carry no channel */
	for (size_t i = 0; i < rx.n; i++)
		if (rx.v[i].type != CA_STATE)
			assert_int_equal(rx.v[i].chan, 0);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

static void test_clear_slot(void **state)
{
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);

	assert_int_equal(cluster_set_state(a, 'V', (const uint8_t *)"v", 1), 0);
	assert_int_equal(cluster_set_state(a, 'R', (const uint8_t *)"r", 1), 0);
	assert_int_equal(cluster_set_state(a, 'R', NULL, 0), 0);
	heartbeat(a, b, 0, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 1);
	assert_state(&rx, 'V', NODE_A, "v", 1);
	assert_null(state_of(&rx, 'R'));

	/* clearing a channel never set, or twice, is no error */
	assert_int_equal(cluster_set_state(a, 'X', NULL, 0), 0);
	assert_int_equal(cluster_set_state(a, 'R', NULL, 0), 0);
	/* all cleared: a heartbeat alone, and a push sends nothing */
	assert_int_equal(cluster_set_state(a, 'V', NULL, 0), 0);
	heartbeat(a, b, 100, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 0);
	cluster_actions_reset(&tx);
	uint64_t sent = cluster_stats(a)->states_sent;
	cluster_push_state(a, 0, &tx);
	assert_int_equal(tx.n, 0);
	assert_int_equal(cluster_stats(a)->states_sent, sent);

	/* a cleared slot is free again: four other channels fit */
	for (uint8_t ch = 'a'; ch < 'a' + CLUSTER_STATE_SLOTS; ch++)
		assert_int_equal(cluster_set_state(a, ch, &ch, 1), 0);
	heartbeat(a, b, 200, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), CLUSTER_STATE_SLOTS);
	for (uint8_t ch = 'a'; ch < 'a' + CLUSTER_STATE_SLOTS; ch++)
		assert_state(&rx, ch, NODE_A, &ch, 1);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

static void test_set_refused(void **state)
{
	static uint8_t big[WIRE_STATE_MAX + 1];
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);
	memset(big, 'b', sizeof(big));

	/* one channel past WIRE_STATE_MAX */
	errno = 0;
	assert_int_equal(cluster_set_state(a, 'V', big, WIRE_STATE_MAX + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* channel 0 */
	errno = 0;
	assert_int_equal(cluster_set_state(a, 0, big, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cluster_set_state(a, 0, NULL, 0), -1);

	/* the largest one channel may have */
	assert_int_equal(cluster_set_state(a, 'V', big, WIRE_STATE_MAX), 0);
	/* the total too large: refused, and nothing changed */
	size_t left = WIRE_STATE_ROOM - WIRE_STATE_TLV_LEN(WIRE_STATE_MAX);
	errno = 0;
	assert_int_equal(cluster_set_state(a, 'R', big, left - 4 + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	heartbeat(a, b, 0, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 1);
	assert_state(&rx, 'V', NODE_A, big, WIRE_STATE_MAX);
	/* exactly the room is taken */
	assert_int_equal(cluster_set_state(a, 'R', big, left - 4), 0);
	/* growing a channel counts the others, not its own old length */
	assert_int_equal(cluster_set_state(a, 'R', big, left - 4), 0);
	assert_int_equal(cluster_set_state(a, 'V', big, WIRE_STATE_MAX), 0);
	heartbeat(a, b, 100, &tx, &rx);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_state(&rx, 'R', NODE_A, big, left - 4);
	/* shrink V, and R may then grow */
	assert_int_equal(cluster_set_state(a, 'V', big, 10), 0);
	assert_int_equal(cluster_set_state(a, 'R', big, WIRE_STATE_MAX), 0);

	/* more channels than slots */
	assert_int_equal(cluster_set_state(a, 'V', NULL, 0), 0);
	assert_int_equal(cluster_set_state(a, 'R', NULL, 0), 0);
	for (uint8_t ch = 1; ch <= CLUSTER_STATE_SLOTS; ch++)
		assert_int_equal(cluster_set_state(a, ch, &ch, 1), 0);
	errno = 0;
	assert_int_equal(cluster_set_state(a, 'Z', big, 1), -1);
	assert_int_equal(errno, ENOSPC);
	/* a channel already set still takes a new value */
	assert_int_equal(cluster_set_state(a, 1, big, 2), 0);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

/* The slots full to WIRE_STATE_ROOM and the largest heartbeat: one datagram. */
static void test_full_slots_largest_heartbeat(void **state)
{
	static uint8_t fill[WIRE_STATE_MAX];
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);
	memset(fill, 'f', sizeof(fill));

	/* WIRE_MAX_PEERS nodes heard, so a's heartbeat lists every one */
	for (uint32_t id = 10; id < 10 + WIRE_MAX_PEERS; id++) {
		uint8_t payload[WIRE_MAX_PAYLOAD], dg[WIRE_MAX_DATAGRAM];
		struct tlv_writer w;
		struct wire_sender s;
		struct wire_heartbeat hb = {.interval_ms = 100, .n_known = 0};
		tlv_writer_init(&w, payload, sizeof(payload));
		assert_int_equal(wire_put_heartbeat(&w, &hb), 0);
		wire_sender_init(&s, id, 1, &KEY, true);
		size_t n = wire_seal(&s, payload, w.len, dg, sizeof(dg));
		cluster_input(a, dg, n, 0, &tx);
	}
	cluster_actions_reset(&tx);

	/* four slots, together exactly WIRE_STATE_ROOM */
	size_t each = WIRE_STATE_ROOM / CLUSTER_STATE_SLOTS - WIRE_STATE_TLV_LEN(0);
	size_t last = WIRE_STATE_ROOM - (CLUSTER_STATE_SLOTS - 1) * WIRE_STATE_TLV_LEN(each) -
		      WIRE_STATE_TLV_LEN(0);
	for (uint8_t ch = 1; ch < CLUSTER_STATE_SLOTS; ch++)
		assert_int_equal(cluster_set_state(a, ch, fill, each), 0);
	assert_int_equal(cluster_set_state(a, CLUSTER_STATE_SLOTS, fill, last), 0);
	assert_int_equal(cluster_set_state(a, CLUSTER_STATE_SLOTS, fill, last + 1), -1);
	assert_int_equal(errno, EMSGSIZE);

	heartbeat(a, b, 0, &tx, &rx);
	/* a heartbeat listing WIRE_MAX_PEERS and WIRE_STATE_ROOM of states: the largest datagram */
	assert_int_equal(tx.v[0].len, WIRE_MAX_DATAGRAM);
	assert_int_equal(count(&rx, CA_STATE), CLUSTER_STATE_SLOTS);
	assert_state(&rx, CLUSTER_STATE_SLOTS, NODE_A, fill, last);
	assert_int_equal(cluster_stats(b)->heartbeats_received, 1);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

static void test_push(void **state)
{
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);

	assert_int_equal(cluster_set_state(a, 'V', (const uint8_t *)"vv", 2), 0);
	assert_int_equal(cluster_set_state(a, 'R', (const uint8_t *)"rrr", 3), 0);
	/* to all */
	cluster_push_state(a, 0, &tx);
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.v[0].type, CA_SEND_ALL);
	carry(&tx, b, 0, &rx);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_int_equal(count(&rx, CA_NODE_UP), 0); /* no heartbeat in it */
	assert_state(&rx, 'V', NODE_A, "vv", 2);
	assert_state(&rx, 'R', NODE_A, "rrr", 3);
	/* to one node */
	cluster_actions_reset(&tx);
	cluster_push_state(a, NODE_B, &tx);
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.v[0].type, CA_SEND_TO);
	assert_int_equal(tx.v[0].node, NODE_B);
	carry(&tx, b, 1, &rx);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_int_equal(cluster_stats(a)->states_sent, 4);
	assert_int_equal(cluster_stats(b)->states_received, 4);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

/*
 * Heartbeats and states are urgent (the shell's own socket), broadcasts
 * not; a heartbeat says how far the broadcasts went only when none went
 * out since the previous one, and the tail it reveals is NAKed after the
 * NAK interval (50 ms here), not at once.
 */
static void test_urgent_and_rb_next(void **state)
{
	struct cluster *a = node(NODE_A), *b = node(NODE_B);
	struct cluster_actions tx, rx;
	cluster_actions_init(&tx);
	cluster_actions_init(&rx);

	heartbeat(a, b, 0, &tx, &rx);
	assert_true(tx.v[0].urgent);
	cluster_actions_reset(&tx);
	assert_int_equal(cluster_broadcast(a, (const uint8_t *)"m1", 2, 10, &tx), 0);
	assert_int_equal(count(&tx, CA_SEND_ALL), 1);
	assert_false(tx.v[0].urgent); /* and lost: not carried */
	cluster_actions_reset(&tx);
	assert_int_equal(cluster_set_state(a, 'V', (const uint8_t *)"vv", 2), 0);
	cluster_push_state(a, 0, &tx);
	assert_true(tx.v[0].urgent);

	/* a broadcast went out since the last heartbeat: this one does not tell */
	heartbeat(a, b, 100, &tx, &rx);
	assert_true(tx.v[0].urgent);
	cluster_actions_reset(&rx);
	cluster_tick(b, 160, &rx);
	assert_int_equal(cluster_stats(b)->naks_sent, 0);
	/* none since: this one tells, and the lost tail is NAKed 50 ms later */
	heartbeat(a, b, 200, &tx, &rx);
	cluster_actions_reset(&rx);
	cluster_tick(b, 249, &rx);
	assert_int_equal(cluster_stats(b)->naks_sent, 0);
	cluster_tick(b, 250, &rx);
	assert_int_equal(cluster_stats(b)->naks_sent, 1);

	cluster_actions_free(&tx);
	cluster_actions_free(&rx);
	cluster_free(a);
	cluster_free(b);
}

/* ---- state TLVs that do not follow the rules ---- */

/* Seal payload as node NODE_A's datagram number seq and give it to b. */
static void inject(struct cluster *b, uint64_t seq, const uint8_t *payload, size_t len,
		   struct cluster_actions *rx)
{
	uint8_t dg[WIRE_MAX_DATAGRAM];
	struct wire_sender s;
	wire_sender_init(&s, NODE_A, 1, &KEY, seq % 2);
	s.next_seq = seq;
	size_t n = wire_seal(&s, payload, len, dg, sizeof(dg));
	assert_int_not_equal(n, 0);
	cluster_actions_reset(rx);
	cluster_input(b, dg, n, 0, rx);
}

/* Append a raw TLV_STATE with a value of len bytes: chan, then fill. */
static size_t raw_state(uint8_t *p, size_t off, size_t len, uint8_t chan, uint8_t fill)
{
	p[off] = TLV_STATE;
	p[off + 1] = (uint8_t)(len >> 8);
	p[off + 2] = (uint8_t)len;
	if (len) {
		p[off + 3] = chan;
		memset(p + off + 4, fill, len - 1);
	}
	return off + 3 + len;
}

static void test_malformed_counted(void **state)
{
	static uint8_t p[WIRE_MAX_PAYLOAD];
	struct cluster *b = node(NODE_B);
	struct cluster_actions rx;
	const struct cluster_stats *st = cluster_stats(b);
	cluster_actions_init(&rx);
	uint64_t seq = 1;
	size_t off;

	/* no channel byte, between two good ones that still arrive */
	off = raw_state(p, 0, 2, 'V', 'v');
	off = raw_state(p, off, 0, 0, 0);
	off = raw_state(p, off, 3, 'R', 'r');
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_NO_CHANNEL], 1);
	assert_int_equal(count(&rx, CA_STATE), 2);
	assert_state(&rx, 'V', NODE_A, "v", 1);
	assert_state(&rx, 'R', NODE_A, "rr", 2);

	/* channel 0 */
	off = raw_state(p, 0, 5, 0, 'x');
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_BAD_CHANNEL], 1);
	assert_int_equal(count(&rx, CA_STATE), 0);

	/* data past WIRE_STATE_MAX */
	off = raw_state(p, 0, 1 + WIRE_STATE_MAX + 1, 'V', 'x');
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_OVERSIZED], 1);
	assert_int_equal(count(&rx, CA_STATE), 0);

	/* a channel twice: the first counts */
	off = raw_state(p, 0, 2, 'V', '1');
	off = raw_state(p, off, 2, 'V', '2');
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_DUPLICATE], 1);
	assert_int_equal(count(&rx, CA_STATE), 1);
	assert_state(&rx, 'V', NODE_A, "1", 1);

	/* more than WIRE_STATE_SLOTS channels */
	off = 0;
	for (uint8_t ch = 1; ch <= WIRE_STATE_SLOTS + 2; ch++)
		off = raw_state(p, off, 2, ch, ch);
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_TOO_MANY], 2);
	assert_int_equal(count(&rx, CA_STATE), WIRE_STATE_SLOTS);

	/* a payload full of empty state TLVs: counted, bounded, no crash */
	off = 0;
	while (off + 3 <= sizeof(p))
		off = raw_state(p, off, 0, 0, 0);
	inject(b, seq++, p, off, &rx);
	assert_int_equal(st->state_drops[WS_NO_CHANNEL], 1 + sizeof(p) / 3);
	assert_int_equal(count(&rx, CA_STATE), 0);
	/* and one full of channel 'V' */
	off = 0;
	while (off + 4 <= sizeof(p))
		off = raw_state(p, off, 1, 'V', 0);
	inject(b, seq++, p, off, &rx);
	assert_int_equal(count(&rx, CA_STATE), 1);
	assert_int_equal(st->state_drops[WS_DUPLICATE], 1 + sizeof(p) / 4 - 1);

	/* a state TLV whose length runs past the payload: the payload's fault */
	uint64_t malformed = st->malformed_payload;
	off = raw_state(p, 0, 2, 'V', 'v');
	p[off] = TLV_STATE;
	p[off + 1] = 0;
	p[off + 2] = 9;
	p[off + 3] = 'R';
	inject(b, seq++, p, off + 4, &rx);
	assert_int_equal(st->malformed_payload, malformed + 1);
	assert_int_equal(count(&rx, CA_STATE), 1);

	/* the receive counter counts what was passed up, nothing refused */
	assert_int_equal(st->states_received, 2 + 1 + WIRE_STATE_SLOTS + 1 + 1);
	assert_int_equal(st->drops[WR_BAD_AUTH], 0);
	assert_int_equal(st->malformed_payload, malformed + 1);

	cluster_actions_free(&rx);
	cluster_free(b);
}

/* ---- paths ---- */

/* Hand from's datagrams on path (or on every path: -1) to c, each on the path it was sent on. */
static void carry_on(const struct cluster_actions *from, int path, struct cluster *c, uint64_t now,
		     struct cluster_actions *out)
{
	cluster_actions_reset(out);
	for (size_t i = 0; i < from->n; i++) {
		const struct cluster_action *a = &from->v[i];
		if ((a->type == CA_SEND_ALL || a->type == CA_SEND_TO) &&
		    (path < 0 || a->path == path))
			cluster_input_path(c, a->data, a->len, 0, a->path, now, out);
	}
}

static size_t sends_on(const struct cluster_actions *a, unsigned path)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += (a->v[i].type == CA_SEND_ALL || a->v[i].type == CA_SEND_TO) &&
		     a->v[i].path == path;
	return n;
}

/*
 * Two paths: a heartbeat on each, each copy accepted (its own sequence
 * number); a broadcast on path 0 while it reaches everyone, on path 1 once
 * path 0 is reported down, and back on path 0 when it is heard again.
 */
static void test_paths_routing(void **state)
{
	(void)state;
	struct cluster *a = node_paths(NODE_A, 2), *b = node_paths(NODE_B, 2);
	struct cluster_actions out, in;
	cluster_actions_init(&out);
	cluster_actions_init(&in);
	uint64_t t = 0;
	/* a few rounds both ways on both paths: up */
	for (int i = 0; i < 3; i++, t += 100) {
		cluster_actions_reset(&out);
		cluster_tick(a, t, &out);
		assert_int_equal(sends_on(&out, 0), 1);
		assert_int_equal(sends_on(&out, 1), 1);
		carry_on(&out, -1, b, t, &in);
		cluster_actions_reset(&out);
		cluster_tick(b, t, &out);
		carry_on(&out, -1, a, t, &in);
	}
	assert_int_equal(cluster_stats(b)->drops[WR_REPLAY], 0);
	assert_int_equal(cluster_stats(b)->path_rx[0], 3);
	assert_int_equal(cluster_stats(b)->path_rx[1], 3);
	cluster_actions_reset(&out);
	assert_int_equal(cluster_broadcast(a, (const uint8_t *)"m1", 2, t, &out), 0);
	assert_int_equal(sends_on(&out, 0), 1);
	assert_int_equal(sends_on(&out, 1), 0);
	/* path 0 fails: only path 1 carries a's heartbeats to b and b's to a */
	bool down = false;
	for (int i = 0; i < 5; i++, t += 100) {
		cluster_actions_reset(&out);
		cluster_tick(a, t, &out);
		carry_on(&out, 1, b, t, &in);
		cluster_actions_reset(&out);
		cluster_tick(b, t, &out);
		carry_on(&out, 1, a, t, &in);
		for (size_t k = 0; k < out.n; k++)
			down |= out.v[k].type == CA_PATH_DOWN && out.v[k].node == NODE_A &&
				out.v[k].path == 0;
		assert_int_equal(count(&out, CA_NODE_DOWN), 0);
	}
	assert_true(down);
	assert_true(member_is_up(cluster_member(b), NODE_A));
	assert_int_equal(cluster_stats(b)->path_downs[0], 1);
	cluster_actions_reset(&out);
	assert_int_equal(cluster_broadcast(a, (const uint8_t *)"m2", 2, t, &out), 0);
	assert_int_equal(sends_on(&out, 0), 0);
	assert_int_equal(sends_on(&out, 1), 1);
	/* path 0 back: a heartbeat of each on it, and path 0 again */
	cluster_actions_reset(&out);
	cluster_tick(b, t, &out);
	carry_on(&out, -1, a, t, &in);
	assert_int_equal(count(&in, CA_PATH_UP), 1);
	cluster_actions_reset(&out);
	assert_int_equal(cluster_broadcast(a, (const uint8_t *)"m3", 2, t, &out), 0);
	assert_int_equal(sends_on(&out, 0), 1);
	assert_int_equal(sends_on(&out, 1), 0);
	/* a datagram that says it came on a path past the last counts as path 0 */
	cluster_actions_reset(&out);
	cluster_tick(a, t + 100, &out);
	cluster_actions_reset(&in);
	cluster_input_path(b, out.v[0].data, out.v[0].len, 0, 7, t + 100, &in);
	cluster_actions_free(&out);
	cluster_actions_free(&in);
	cluster_free(a);
	cluster_free(b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_channels_one_heartbeat),
	    cmocka_unit_test(test_clear_slot),
	    cmocka_unit_test(test_set_refused),
	    cmocka_unit_test(test_full_slots_largest_heartbeat),
	    cmocka_unit_test(test_push),
	    cmocka_unit_test(test_urgent_and_rb_next),
	    cmocka_unit_test(test_malformed_counted),
	    cmocka_unit_test(test_paths_routing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
