/*
 * Unit tests for core/rbcast: sending and resending, in-order delivery,
 * holding, NAK timing, GONE and out-of-sync, epochs, peer down; then three
 * nodes over a lossy, duplicating, reordering in-memory network under many
 * seeds.
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

#include "core/rbcast.h"

#define SELF 1
#define PEER 2
#define EP   1

/* ---- helpers ---- */

static struct rbcast *new_rb(uint32_t id, uint32_t sb, uint32_t nak_ms)
{
	struct rbcast_params p = {.self_id = id, .send_buffer = sb, .nak_interval_ms = nak_ms};
	struct rbcast *rb = rbcast_new(&p);
	assert_non_null(rb);
	return rb;
}

/* A payload that names its origin and seq, with a length that varies. */
static size_t payload(uint32_t origin, uint64_t seq, uint8_t *buf)
{
	size_t len = 12 + (size_t)(seq * 7 % 50);
	memcpy(buf, &origin, 4);
	memcpy(buf + 4, &seq, 8);
	for (size_t i = 12; i < len; i++)
		buf[i] = (uint8_t)(seq + i * origin);
	return len;
}

static void check_payload(uint32_t origin, uint64_t seq, const uint8_t *data, size_t len)
{
	uint8_t want[64];
	size_t n = payload(origin, seq, want);
	assert_int_equal(len, n);
	assert_memory_equal(data, want, n);
}

static void data_in(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t seq, uint64_t now,
		    struct rb_actions *out)
{
	uint8_t buf[64];
	size_t len = payload(origin, seq, buf);
	rb_actions_reset(out);
	rbcast_on_data(rb, origin, epoch, seq, buf, len, now, out);
	memset(buf, 0xee, sizeof(buf)); /* delivered data must be rbcast's copy */
}

static size_t count(const struct rb_actions *a, enum rb_action_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->v[i].type == t;
	return n;
}

/* The actions must be exactly DELIVERs of origin's seqs first..last, in order. */
static void assert_delivers(const struct rb_actions *a, uint32_t origin, uint64_t first,
			    uint64_t last)
{
	assert_int_equal(a->n, last - first + 1);
	for (uint64_t s = first; s <= last; s++) {
		const struct rb_action *x = &a->v[s - first];
		assert_int_equal(x->type, RBA_DELIVER);
		assert_int_equal(x->node, origin);
		assert_int_equal(x->seq, s);
		check_payload(origin, s, x->data, x->len);
	}
}

static void assert_one_nak(const struct rb_actions *a, uint32_t origin, uint64_t first,
			   uint64_t last)
{
	assert_int_equal(count(a, RBA_SEND_NAK), 1);
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type != RBA_SEND_NAK)
			continue;
		assert_int_equal(a->v[i].node, origin);
		assert_int_equal(a->v[i].first, first);
		assert_int_equal(a->v[i].last, last);
	}
}

/* ---- sending ---- */

static void test_new_invalid(void **state)
{
	(void)state;
	struct rbcast_params p = {.self_id = 1, .send_buffer = 0, .nak_interval_ms = 10};
	errno = 0;
	assert_null(rbcast_new(&p));
	assert_int_equal(errno, EINVAL);
	p.send_buffer = 4;
	p.nak_interval_ms = 0;
	assert_null(rbcast_new(&p));
	assert_null(rbcast_new(NULL));
	rbcast_free(NULL);
}

static void test_send(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	assert_int_equal(rbcast_next_seq(rb), 1);
	for (uint64_t s = 1; s <= 3; s++) {
		uint8_t buf[64];
		size_t len = payload(SELF, s, buf);
		rb_actions_reset(&out);
		assert_int_equal(rbcast_send(rb, buf, len, 0, &out), 0);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(out.n, 1);
		assert_int_equal(out.v[0].type, RBA_SEND_DATA);
		assert_false(out.v[0].resent);
		assert_int_equal(out.v[0].seq, s);
		assert_int_equal(out.v[0].node, SELF);
		check_payload(SELF, s, out.v[0].data, out.v[0].len);
	}
	assert_int_equal(rbcast_next_seq(rb), 4);

	static uint8_t big[WIRE_RB_MAX_DATA + 1];
	rb_actions_reset(&out);
	errno = 0;
	assert_int_equal(rbcast_send(rb, big, sizeof(big), 0, &out), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_next_seq(rb), 4);
	assert_int_equal(rbcast_send(rb, big, WIRE_RB_MAX_DATA, 0, &out), 0);
	assert_int_equal(out.v[0].len, WIRE_RB_MAX_DATA);
	assert_int_equal(rbcast_send(rb, NULL, 0, 0, &out), 0);
	assert_int_equal(out.v[1].len, 0);
	assert_int_equal(rbcast_stats(rb)->sent, 5);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);

	rb_actions_free(&out);
	rbcast_free(rb);
}

static void send_n(struct rbcast *rb, uint32_t self, int n, struct rb_actions *out)
{
	for (int i = 0; i < n; i++) {
		uint8_t buf[64];
		uint64_t seq = rbcast_next_seq(rb);
		rb_actions_reset(out);
		assert_int_equal(rbcast_send(rb, buf, payload(self, seq, buf), 0, out), 0);
	}
	rb_actions_reset(out);
}

static void test_resend_on_nak(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	send_n(rb, SELF, 5, &out);

	rbcast_on_nak(rb, PEER, 2, 4, 10, &out);
	assert_int_equal(out.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(out.v[i].type, RBA_SEND_DATA);
		assert_true(out.v[i].resent);
		assert_int_equal(out.v[i].seq, 2 + i);
		check_payload(SELF, 2 + i, out.v[i].data, out.v[i].len);
	}

	/* Seqs never sent are ignored, not answered GONE. */
	rb_actions_reset(&out);
	rbcast_on_nak(rb, PEER, 4, 100, 10, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[0].seq, 4);
	assert_int_equal(out.v[1].seq, 5);
	rb_actions_reset(&out);
	rbcast_on_nak(rb, PEER, 6, 9, 10, &out);
	rbcast_on_nak(rb, PEER, 3, 2, 10, &out);
	assert_int_equal(out.n, 0);

	const struct rb_stats *st = rbcast_stats(rb);
	assert_int_equal(st->resent, 5);
	assert_int_equal(st->naks_received, 4);
	assert_int_equal(st->gones_sent, 0);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_sender_buffer_drops_oldest(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 3, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	send_n(rb, SELF, 5, &out); /* holds 3, 4, 5 */

	rbcast_on_nak(rb, PEER, 1, 4, 10, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[0].type, RBA_SEND_GONE);
	assert_int_equal(out.v[0].node, PEER);
	assert_int_equal(out.v[0].oldest, 3);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(out.v[i].type, RBA_SEND_DATA);
		assert_int_equal(out.v[i].seq, 2 + i);
		check_payload(SELF, 2 + i, out.v[i].data, out.v[i].len);
	}
	/* Wholly older than the buffer: only GONE. */
	rb_actions_reset(&out);
	rbcast_on_nak(rb, PEER, 1, 2, 10, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].type, RBA_SEND_GONE);
	assert_int_equal(out.v[0].oldest, 3);
	assert_int_equal(rbcast_stats(rb)->gones_sent, 2);
	rb_actions_free(&out);
	rbcast_free(rb);
}

/* ---- receiving ---- */

static void test_in_order(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	for (uint64_t s = 1; s <= 5; s++) {
		data_in(rb, PEER, EP, s, 0, &out);
		assert_delivers(&out, PEER, s, s);
	}
	/* Another origin, first seen mid-stream: delivery starts there. */
	data_in(rb, 3, EP, 40, 0, &out);
	assert_delivers(&out, 3, 40, 40);
	data_in(rb, 3, EP, 41, 0, &out);
	assert_delivers(&out, 3, 41, 41);
	assert_int_equal(rbcast_stats(rb)->delivered, 7);
	assert_int_equal(rbcast_stats(rb)->naks_sent, 0);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	/* Our own messages looped back are not ours to deliver. */
	data_in(rb, SELF, EP, 1, 0, &out);
	assert_int_equal(out.n, 0);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_reorder_and_duplicates(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	rbcast_on_next_seq(rb, PEER, EP, 1, 0, &out);
	assert_int_equal(out.n, 0);

	data_in(rb, PEER, EP, 3, 0, &out);
	assert_int_equal(out.n, 1);
	assert_one_nak(&out, PEER, 1, 2);
	data_in(rb, PEER, EP, 2, 1, &out);
	assert_int_equal(out.n, 0); /* held; 1 already NAKed */
	data_in(rb, PEER, EP, 3, 2, &out);
	assert_int_equal(out.n, 0); /* held already: duplicate */
	data_in(rb, PEER, EP, 1, 3, &out);
	assert_delivers(&out, PEER, 1, 3);
	/* The held copies stay readable until the next call. */
	check_payload(PEER, 2, out.v[1].data, out.v[1].len);
	check_payload(PEER, 3, out.v[2].data, out.v[2].len);

	for (uint64_t s = 1; s <= 3; s++) {
		data_in(rb, PEER, EP, s, 4, &out);
		assert_int_equal(out.n, 0);
	}
	data_in(rb, PEER, EP, 4, 5, &out);
	assert_delivers(&out, PEER, 4, 4);

	const struct rb_stats *st = rbcast_stats(rb);
	assert_int_equal(st->delivered, 4);
	assert_int_equal(st->duplicates, 4);
	assert_int_equal(st->naks_sent, 1);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_nak_timing(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 16, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	data_in(rb, PEER, EP, 1, 1000, &out);
	data_in(rb, PEER, EP, 4, 1000, &out);
	assert_one_nak(&out, PEER, 2, 3);
	assert_int_equal(rbcast_next_deadline(rb), 1050);

	/* Arrivals inside or right after the gap ask for nothing new. */
	data_in(rb, PEER, EP, 3, 1010, &out);
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, EP, 5, 1010, &out);
	assert_int_equal(out.n, 0);
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, EP, 6, 1010, &out);
	assert_int_equal(out.n, 0);
	/* A further gap is NAKed at once, only its new part. */
	data_in(rb, PEER, EP, 8, 1020, &out);
	assert_one_nak(&out, PEER, 6, 7);
	assert_int_equal(rbcast_next_deadline(rb), 1050);

	rb_actions_reset(&out);
	rbcast_tick(rb, 1049, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 1050, &out);
	assert_one_nak(&out, PEER, 2, 7);
	assert_int_equal(rbcast_next_deadline(rb), 1100);
	rb_actions_reset(&out);
	rbcast_tick(rb, 1060, &out);
	assert_int_equal(out.n, 0);

	/*
	 * Filling the first hole: 2..5 delivered; 6..7 was NAKed already, and
	 * is NAKed again only after nak_interval without progress.
	 */
	data_in(rb, PEER, EP, 2, 1070, &out);
	assert_delivers(&out, PEER, 2, 5);
	assert_int_equal(rbcast_next_deadline(rb), 1120);
	rb_actions_reset(&out);
	rbcast_tick(rb, 1100, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 1120, &out);
	assert_one_nak(&out, PEER, 6, 7);
	data_in(rb, PEER, EP, 6, 1130, &out);
	assert_delivers(&out, PEER, 6, 6);
	data_in(rb, PEER, EP, 7, 1130, &out);
	assert_delivers(&out, PEER, 7, 8);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	rb_actions_reset(&out);
	rbcast_tick(rb, 5000, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_stats(rb)->naks_sent, 4);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_tail_loss(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 16, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	data_in(rb, PEER, EP, 1, 0, &out);
	data_in(rb, PEER, EP, 2, 0, &out);
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, EP, 3, 10, &out);
	assert_int_equal(out.n, 0);
	rbcast_on_next_seq(rb, PEER, EP, 2, 10, &out); /* stale */
	assert_int_equal(out.n, 0);
	/*
	 * A tail only a heartbeat reveals is not NAKed at once (the heartbeat
	 * may have overtaken the data), but after nak_interval without progress.
	 */
	rbcast_on_next_seq(rb, PEER, EP, 5, 10, &out);
	assert_int_equal(out.n, 0);
	rbcast_on_next_seq(rb, PEER, EP, 5, 20, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_next_deadline(rb), 60);
	rbcast_tick(rb, 59, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 60, &out);
	assert_one_nak(&out, PEER, 3, 4);
	data_in(rb, PEER, EP, 4, 70, &out);
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, EP, 3, 70, &out);
	assert_delivers(&out, PEER, 3, 4);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);

	/* A NAK asks for send_buffer seqs at most. */
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, EP, 100, 80, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 130, &out);
	assert_one_nak(&out, PEER, 5, 20);
	rbcast_free(rb);

	/* Overtaken data arriving in order is not asked for: no NAK at all. */
	rb = new_rb(SELF, 16, 50);
	rb_actions_reset(&out);
	data_in(rb, PEER, EP, 1, 0, &out);
	rbcast_on_next_seq(rb, PEER, EP, 11, 5, &out);
	for (uint64_t seq = 2; seq <= 10; seq++) {
		rb_actions_reset(&out);
		rbcast_tick(rb, 5 + 10 * seq, &out); /* one every 10 ms: progress each time */
		assert_int_equal(out.n, 0);
		data_in(rb, PEER, EP, seq, 5 + 10 * seq, &out);
		assert_delivers(&out, PEER, seq, seq);
	}
	assert_int_equal(rbcast_stats(rb)->naks_sent, 0);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_gone_out_of_sync(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 4, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	data_in(rb, PEER, EP, 1, 0, &out);
	data_in(rb, PEER, EP, 6, 0, &out);
	assert_one_nak(&out, PEER, 2, 5); /* clipped to send_buffer seqs */
	data_in(rb, PEER, EP, 9, 0, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_stats(rb)->early_dropped, 1); /* 9 - 2 > 4: not held */
	data_in(rb, PEER, EP, 5, 0, &out);
	assert_int_equal(out.n, 0);

	/* The origin holds 6.. only: jump, report once, deliver from there. */
	rb_actions_reset(&out);
	rbcast_on_gone(rb, PEER, EP + 1, 6, 5, &out); /* another epoch: not ours */
	assert_int_equal(out.n, 0);
	rbcast_on_gone(rb, PEER, EP, 6, 5, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[0].type, RBA_OUT_OF_SYNC);
	assert_int_equal(out.v[0].node, PEER);
	assert_int_equal(out.v[1].type, RBA_DELIVER);
	assert_int_equal(out.v[1].seq, 6);
	check_payload(PEER, 6, out.v[1].data, out.v[1].len);
	assert_int_equal(out.v[2].type, RBA_SEND_NAK); /* 7..9 were never asked for */
	assert_int_equal(out.v[2].first, 7);
	assert_int_equal(out.v[2].last, 9);
	rb_actions_reset(&out);
	rbcast_on_gone(rb, PEER, EP, 6, 6, &out);
	rbcast_on_gone(rb, PEER, EP, 3, 6, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_stats(rb)->out_of_sync, 1);

	data_in(rb, PEER, EP, 5, 7, &out); /* skipped: now old */
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, EP, 8, 7, &out);
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, EP, 7, 7, &out);
	assert_delivers(&out, PEER, 7, 8);
	data_in(rb, PEER, EP, 9, 7, &out);
	assert_delivers(&out, PEER, 9, 9);

	/* GONE landing on held messages delivers them in the same call. */
	data_in(rb, PEER, EP, 12, 10, &out);
	assert_one_nak(&out, PEER, 10, 11);
	data_in(rb, PEER, EP, 13, 10, &out);
	rb_actions_reset(&out);
	rbcast_on_gone(rb, PEER, EP, 12, 20, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[0].type, RBA_OUT_OF_SYNC);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(out.v[i].type, RBA_DELIVER);
		assert_int_equal(out.v[i].seq, 11 + i);
		check_payload(PEER, 11 + i, out.v[i].data, out.v[i].len);
	}
	assert_int_equal(rbcast_stats(rb)->out_of_sync, 2);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_epochs(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	data_in(rb, PEER, 5, 1, 0, &out);
	data_in(rb, PEER, 5, 4, 0, &out); /* holds 4, NAKs 2..3 */
	assert_one_nak(&out, PEER, 2, 3);

	/* The origin restarted: start at its first message, forget the old. */
	data_in(rb, PEER, 6, 9, 10, &out);
	assert_delivers(&out, PEER, 9, 9);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	data_in(rb, PEER, 5, 2, 10, &out);
	assert_int_equal(out.n, 0);
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, 5, 40, 10, &out);
	rbcast_on_gone(rb, PEER, 5, 40, 10, &out);
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, 6, 10, 10, &out);
	assert_delivers(&out, PEER, 10, 10);

	/* A heartbeat of a new epoch: start at its next, deliver and NAK nothing. */
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, 7, 20, 20, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	data_in(rb, PEER, 6, 11, 20, &out);
	assert_int_equal(out.n, 0);
	data_in(rb, PEER, 7, 20, 20, &out);
	assert_delivers(&out, PEER, 20, 20);
	assert_int_equal(rbcast_stats(rb)->out_of_sync, 0);
	rb_actions_free(&out);
	rbcast_free(rb);
}

static void test_peer_down(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 8, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	data_in(rb, PEER, EP, 1, 0, &out);
	data_in(rb, PEER, EP, 3, 0, &out);
	data_in(rb, PEER, EP, 4, 0, &out);
	assert_int_not_equal(rbcast_next_deadline(rb), UINT64_MAX);

	/* Down: no more NAKs, held messages freed, position kept. */
	rbcast_peer_down(rb, PEER);
	rbcast_peer_down(rb, 99);
	assert_int_equal(rbcast_next_deadline(rb), UINT64_MAX);
	rb_actions_reset(&out);
	rbcast_tick(rb, 1000, &out);
	assert_int_equal(out.n, 0);

	/* Back in the same epoch: the gap is repaired as any other. */
	data_in(rb, PEER, EP, 6, 1000, &out);
	assert_one_nak(&out, PEER, 2, 5);
	assert_int_equal(out.n, 1);
	data_in(rb, PEER, EP, 1, 1000, &out);
	assert_int_equal(out.n, 0); /* still delivered once only */
	for (uint64_t s = 2; s <= 4; s++) {
		data_in(rb, PEER, EP, s, 1001, &out);
		assert_delivers(&out, PEER, s, s);
	}
	data_in(rb, PEER, EP, 5, 1001, &out);
	assert_delivers(&out, PEER, 5, 6);

	/* Down again, back with a gap the origin no longer holds: out of sync. */
	rbcast_peer_down(rb, PEER);
	rb_actions_reset(&out);
	rbcast_on_next_seq(rb, PEER, EP, 30, 2000, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 2000, &out);
	assert_int_equal(out.n, 0);
	rbcast_tick(rb, 2050, &out);
	assert_one_nak(&out, PEER, 7, 14);
	rb_actions_reset(&out);
	rbcast_on_gone(rb, PEER, EP, 22, 2001, &out);
	assert_int_equal(out.v[0].type, RBA_OUT_OF_SYNC);
	assert_int_equal(rbcast_stats(rb)->out_of_sync, 1);
	data_in(rb, PEER, EP, 22, 2002, &out);
	assert_delivers(&out, PEER, 22, 22);

	/* Down with messages held, then a new epoch: starts afresh. */
	data_in(rb, PEER, EP, 25, 2003, &out);
	rbcast_peer_down(rb, PEER);
	data_in(rb, PEER, EP + 1, 3, 3000, &out);
	assert_delivers(&out, PEER, 3, 3);
	data_in(rb, PEER, EP, 23, 3000, &out);
	assert_int_equal(out.n, 0);
	rb_actions_free(&out);
	rbcast_free(rb); /* ASan checks that nothing held leaks */
}

static void test_many_origins(void **state)
{
	(void)state;
	struct rbcast *rb = new_rb(SELF, 4, 50);
	struct rb_actions out;
	rb_actions_init(&out);
	for (uint32_t id = 100; id < 100 + WIRE_MAX_PEERS; id++) {
		data_in(rb, id, EP, 1, 0, &out);
		assert_delivers(&out, id, 1, 1);
		data_in(rb, id, EP, 3, 0, &out); /* held */
	}
	data_in(rb, 999, EP, 1, 0, &out); /* no room: ignored */
	assert_int_equal(out.n, 0);
	rb_actions_reset(&out);
	rbcast_tick(rb, 50, &out);
	assert_int_equal(count(&out, RBA_SEND_NAK), WIRE_MAX_PEERS);
	/* A down origin's place goes to a newcomer; it comes back afresh. */
	rbcast_peer_down(rb, 100);
	data_in(rb, 999, EP, 1, 0, &out);
	assert_delivers(&out, 999, 1, 1);
	data_in(rb, 100, EP, 9, 0, &out);
	assert_int_equal(out.n, 0); /* no room again */
	rbcast_peer_down(rb, 999);
	data_in(rb, 100, EP, 9, 0, &out);
	assert_delivers(&out, 100, 9, 9);
	rb_actions_free(&out);
	rbcast_free(rb);
}

/* ---- three nodes over a lossy network ---- */

#define N_NODES 3

struct prng {
	uint64_t s;
};

static uint64_t prng_next(struct prng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t prng_below(struct prng *r, uint32_t n)
{
	return (uint32_t)(prng_next(r) % n);
}

enum pkt_type { PK_DATA, PK_NAK, PK_GONE, PK_HB };

struct pkt {
	uint64_t at; /* due */
	uint8_t type;
	uint32_t from, to;
	uint64_t seq, first, last, oldest, next;
	size_t len;
	uint8_t data[64];
};

struct view {		  /* what node r saw of origin o */
	uint64_t last;	  /* last seq delivered */
	bool oos_pending; /* OUT_OF_SYNC reported, no delivery since */
	uint64_t skipped; /* seqs jumped over after OUT_OF_SYNC */
	uint64_t oos;
};

struct net {
	struct prng rng;
	uint64_t now;
	uint32_t sb;
	unsigned loss_pct, dup_pct;
	struct rbcast *rb[N_NODES];
	struct pkt *q;
	size_t nq, capq;
	uint64_t sent[N_NODES];
	struct view view[N_NODES][N_NODES];
	struct rb_actions out;
};

static uint32_t id_of(int i)
{
	return (uint32_t)(i + 1);
}

static void enqueue(struct net *n, const struct pkt *p)
{
	int copies = 1;
	if (prng_below(&n->rng, 100) < n->loss_pct)
		copies = 0;
	else if (prng_below(&n->rng, 100) < n->dup_pct)
		copies = 2;
	for (int c = 0; c < copies; c++) {
		if (n->nq == n->capq) {
			n->capq = n->capq ? n->capq * 2 : 256;
			n->q = realloc(n->q, n->capq * sizeof(*n->q));
			assert_non_null(n->q);
		}
		/* 1..5 ms, one in ten up to 30 ms later: reordering */
		struct pkt *q = &n->q[n->nq++];
		*q = *p;
		q->at = n->now + 1 + prng_below(&n->rng, 5);
		if (prng_below(&n->rng, 10) == 0)
			q->at += prng_below(&n->rng, 30);
	}
}

static void to_all(struct net *n, int from, struct pkt *p)
{
	for (int j = 0; j < N_NODES; j++) {
		if (j == from)
			continue;
		p->to = id_of(j);
		enqueue(n, p);
	}
}

/* Carry out node i's actions; check every delivery as it happens. */
static void run_actions(struct net *n, int i)
{
	for (size_t k = 0; k < n->out.n; k++) {
		const struct rb_action *a = &n->out.v[k];
		struct pkt p = {.from = id_of(i)};
		switch (a->type) {
		case RBA_SEND_DATA:
			assert_int_equal(a->node, id_of(i));
			assert_true(a->len <= sizeof(p.data));
			check_payload(id_of(i), a->seq, a->data, a->len);
			p.type = PK_DATA;
			p.seq = a->seq;
			p.len = a->len;
			memcpy(p.data, a->data, a->len);
			to_all(n, i, &p);
			break;
		case RBA_SEND_NAK:
			assert_true(a->first <= a->last);
			assert_true(a->last - a->first < 1000);
			p.type = PK_NAK;
			p.to = a->node;
			p.first = a->first;
			p.last = a->last;
			enqueue(n, &p);
			break;
		case RBA_SEND_GONE:
			p.type = PK_GONE;
			p.to = a->node;
			p.oldest = a->oldest;
			enqueue(n, &p);
			break;
		case RBA_DELIVER: {
			int o = (int)a->node - 1;
			assert_true(o >= 0 && o < N_NODES && o != i);
			struct view *v = &n->view[i][o];
			check_payload(a->node, a->seq, a->data, a->len);
			assert_true(a->seq > v->last); /* FIFO, exactly once */
			if (a->seq != v->last + 1) {
				assert_true(v->oos_pending); /* a jump only after OUT_OF_SYNC */
				/* and only over what the origin no longer holds */
				assert_true(n->sent[o] > n->sb);
				assert_true(a->seq - 1 < n->sent[o] - n->sb + 1);
				v->skipped += a->seq - v->last - 1;
			}
			v->oos_pending = false;
			v->last = a->seq;
			break;
		}
		case RBA_OUT_OF_SYNC: {
			int o = (int)a->node - 1;
			assert_true(o >= 0 && o < N_NODES && o != i);
			n->view[i][o].oos++;
			n->view[i][o].oos_pending = true;
			break;
		}
		default:
			fail();
		}
	}
	rb_actions_reset(&n->out);
}

static void heartbeats(struct net *n, uint64_t now)
{
	(void)now;
	for (int i = 0; i < N_NODES; i++) {
		struct pkt p = {.type = PK_HB, .from = id_of(i), .next = rbcast_next_seq(n->rb[i])};
		to_all(n, i, &p);
	}
}

/* Deliver the packets due by now, in random order. */
static void deliver_due(struct net *n)
{
	for (;;) {
		uint32_t due = 0;
		for (size_t k = 0; k < n->nq; k++)
			due += n->q[k].at <= n->now;
		if (due == 0)
			return;
		uint32_t pick = prng_below(&n->rng, due);
		size_t k = 0;
		for (;; k++)
			if (n->q[k].at <= n->now && pick-- == 0)
				break;
		struct pkt p = n->q[k];
		n->q[k] = n->q[--n->nq];
		int i = (int)p.to - 1;
		struct rbcast *rb = n->rb[i];
		switch (p.type) {
		case PK_DATA:
			rbcast_on_data(rb, p.from, EP, p.seq, p.data, p.len, n->now, &n->out);
			break;
		case PK_NAK:
			rbcast_on_nak(rb, p.from, p.first, p.last, n->now, &n->out);
			break;
		case PK_GONE:
			rbcast_on_gone(rb, p.from, EP, p.oldest, n->now, &n->out);
			break;
		case PK_HB:
			rbcast_on_next_seq(rb, p.from, EP, p.next, n->now, &n->out);
			break;
		}
		run_actions(n, i);
	}
}

static void tick_due(struct net *n, uint64_t now)
{
	for (int i = 0; i < N_NODES; i++) {
		if (rbcast_next_deadline(n->rb[i]) > now)
			continue;
		rbcast_tick(n->rb[i], now, &n->out);
		run_actions(n, i);
		assert_true(rbcast_next_deadline(n->rb[i]) > now);
	}
}

static void tick_and_beat(struct net *n, uint64_t *next_hb)
{
	deliver_due(n);
	tick_due(n, n->now);
	if (next_hb && n->now >= *next_hb) {
		heartbeats(n, n->now);
		*next_hb = n->now + 100;
	}
}

/*
 * One run: every node sends msgs messages while the network loses, doubles
 * and reorders; then the network heals and everything must converge.
 * Returns the number of OUT_OF_SYNC reports.
 */
static uint64_t run(uint64_t seed, uint32_t sb, int msgs)
{
	struct net *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	n->rng.s = seed;
	n->sb = sb;
	rb_actions_init(&n->out);
	for (int i = 0; i < N_NODES; i++)
		n->rb[i] = new_rb(id_of(i), sb, 20);

	/* Everyone hears everyone's start, so delivery starts at seq 1. */
	n->now = 1000;
	heartbeats(n, n->now);
	n->now += 100;
	deliver_due(n);
	assert_int_equal(n->nq, 0);

	n->loss_pct = prng_below(&n->rng, 31);
	n->dup_pct = prng_below(&n->rng, 11);
	uint64_t next_hb = n->now;
	int total = msgs * N_NODES;
	while (total > 0) {
		n->now++;
		for (unsigned k = prng_below(&n->rng, 3); k > 0; k--) {
			int i = (int)prng_below(&n->rng, N_NODES);
			if (n->sent[i] == (uint64_t)msgs)
				continue;
			uint8_t buf[64];
			uint64_t seq = rbcast_next_seq(n->rb[i]);
			assert_int_equal(seq, n->sent[i] + 1);
			assert_int_equal(rbcast_send(n->rb[i], buf, payload(id_of(i), seq, buf),
						     n->now, &n->out),
					 0);
			n->sent[i]++;
			total--;
			run_actions(n, i);
		}
		tick_and_beat(n, &next_hb);
	}

	/* Heal: heartbeats reveal the tails, NAKs and GONEs close every gap. */
	n->loss_pct = n->dup_pct = 0;
	for (int ms = 0; ms < 300; ms++) {
		n->now++;
		tick_and_beat(n, &next_hb);
	}
	for (int ms = 0; ms < 1000 && n->nq > 0; ms++) {
		n->now++;
		tick_and_beat(n, NULL);
	}
	assert_int_equal(n->nq, 0);

	uint64_t oos = 0;
	for (int i = 0; i < N_NODES; i++) {
		assert_int_equal(rbcast_next_deadline(n->rb[i]), UINT64_MAX);
		for (int o = 0; o < N_NODES; o++) {
			if (o == i)
				continue;
			const struct view *v = &n->view[i][o];
			/* Everything delivered, or jumped over after OUT_OF_SYNC. */
			assert_int_equal(v->last, n->sent[o]);
			assert_false(v->oos_pending);
			if (v->oos == 0)
				assert_int_equal(v->skipped, 0);
			else
				assert_true(v->skipped > 0);
			oos += v->oos;
		}
		const struct rb_stats *st = rbcast_stats(n->rb[i]);
		assert_int_equal(st->out_of_sync, n->view[i][(i + 1) % N_NODES].oos +
						      n->view[i][(i + 2) % N_NODES].oos);
		rbcast_free(n->rb[i]);
	}
	rb_actions_free(&n->out);
	free(n->q);
	free(n);
	return oos;
}

static void test_property_big_buffer(void **state)
{
	(void)state;
	/* The buffer outlasts every gap: nothing may be lost for good. */
	for (uint64_t seed = 1; seed <= 300; seed++)
		assert_int_equal(run(seed, 512, 300), 0);
}

static void test_property_mid_buffer(void **state)
{
	(void)state;
	uint64_t oos = 0;
	for (uint64_t seed = 2001; seed <= 2300; seed++)
		oos += run(seed, 32, 300);
	assert_true(oos > 0);
}

static void test_property_small_buffer(void **state)
{
	(void)state;
	/* Gaps outgrow the buffer all the time: OUT_OF_SYNC, and delivery goes on. */
	uint64_t oos = 0;
	for (uint64_t seed = 1001; seed <= 1300; seed++)
		oos += run(seed, 4, 300);
	assert_true(oos > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_invalid),
	    cmocka_unit_test(test_send),
	    cmocka_unit_test(test_resend_on_nak),
	    cmocka_unit_test(test_sender_buffer_drops_oldest),
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_reorder_and_duplicates),
	    cmocka_unit_test(test_nak_timing),
	    cmocka_unit_test(test_tail_loss),
	    cmocka_unit_test(test_gone_out_of_sync),
	    cmocka_unit_test(test_epochs),
	    cmocka_unit_test(test_peer_down),
	    cmocka_unit_test(test_many_origins),
	    cmocka_unit_test(test_property_big_buffer),
	    cmocka_unit_test(test_property_mid_buffer),
	    cmocka_unit_test(test_property_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
