/*
 * core/ctsync: the filter, the codec, coalescing, malformed input, the
 * resync triggers as unit cases, and simulations: three nodes, each with
 * a kernel table driven by random events, exchange messages over a
 * virtual network with loss and restarts, the way arphad carries them in
 * reliable broadcasts; in the end every node's copy of every other
 * node's table must be that node's table, entry by entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/ctsync.h"

#define IVL 100 /* CheckInterval in most cases */
#define T0  1000

static const struct ip4_prefix nets[] = {{0xc6120100, 24}, {0xc6130000, 16}};

static struct ctsync *mk(uint32_t id, uint32_t max, uint32_t check)
{
	struct ctsync_params p = {.self_id = id,
				  .protocols = CTSYNC_TCP | CTSYNC_UDP | CTSYNC_ICMP,
				  .networks = nets,
				  .n_networks = 2,
				  .check_interval_ms = check,
				  .max_entries = max,
				  .generation = id * 100};
	struct ctsync *c = ctsync_new(&p, T0);
	assert_non_null(c);
	return c;
}

/* A TCP connection from 198.18.1.<host>:<port> to 198.19.0.1:80. */
static struct ct_entry conn(uint32_t host, uint16_t port)
{
	struct ct_entry e;
	memset(&e, 0, sizeof(e));
	e.orig = (struct ct_tuple){0xc6120100 | host, 0xc6130001, port, 80, 6};
	e.reply = (struct ct_tuple){0xc6130001, 0xc6120100 | host, 80, port, 6};
	e.tcp_state = 3;
	e.tcp_flags[0] = 0x22;
	e.tcp_wscale[0] = 7;
	e.status = 0x18e;
	e.timeout = 120;
	return e;
}

/* Every record c has queued, decoded, in order (c's queue is empty afterwards). */
static size_t collect(struct ctsync *c, struct ct_rec *out, size_t cap, size_t msg_cap)
{
	uint8_t buf[1500];
	size_t n = 0, len;
	enum ct_malformed why;
	while ((len = ctsync_next_message(c, buf, msg_cap, T0)) > 0) {
		assert_true(len <= msg_cap);
		assert_int_equal(ctsync_msg_check(buf, len, &why), 0);
		size_t off = 0;
		struct ct_rec r;
		while (ctsync_msg_next(buf, len, &off, &r) > 0) {
			assert_true(n < cap);
			out[n++] = r;
		}
	}
	assert_int_equal(ctsync_queued(c), 0);
	return n;
}

/* Carry everything from queued to the others (all of them get every message). */
static size_t carry(struct ctsync *from, uint32_t from_id, struct ctsync **to, size_t nto,
		    uint64_t now)
{
	uint8_t buf[1400];
	size_t len, msgs = 0;
	while ((len = ctsync_next_message(from, buf, sizeof(buf), now)) > 0) {
		msgs++;
		for (size_t i = 0; i < nto; i++)
			assert_int_equal(ctsync_on_message(to[i], from_id, buf, len, now), 0);
	}
	return msgs;
}

/* b's copy of a's table is a's table. */
static bool same(const struct ctsync *a, uint32_t a_id, const struct ctsync *b)
{
	if (ctsync_count(a, a_id) != ctsync_count(b, a_id))
		return false;
	size_t cur = 0;
	const struct ct_entry *x;
	while ((x = ctsync_origin_next(a, a_id, &cur)) != NULL) {
		const struct ct_entry *y = ctsync_find(b, a_id, &x->orig, x->zone);
		if (y == NULL || !ctsync_entry_eq(x, y))
			return false;
	}
	return true;
}

static uint64_t malformed_sum(const struct ctsync *c)
{
	uint64_t n = 0;
	for (int i = 0; i < CTM__COUNT; i++)
		n += ctsync_stats(c)->malformed[i];
	return n;
}

/* ---- unit cases ---- */

static void test_filter(void **st)
{
	(void)st;
	struct ctsync *c = mk(1, 100, IVL);
	struct ct_entry e = conn(5, 1000);
	assert_true(ctsync_wanted(c, &e));
	e.orig.src = 0x0a000001; /* dst 198.19.0.1 is still in */
	assert_true(ctsync_wanted(c, &e));
	e.orig.dst = 0x0a000002;
	assert_false(ctsync_wanted(c, &e));
	e.reply.src = 0xc6120105; /* the reply tuple does not count */
	assert_false(ctsync_wanted(c, &e));
	e = conn(5, 1000);
	e.orig.dst = 0xc6120200; /* 198.18.2.0: outside 198.18.1.0/24; src still in */
	assert_true(ctsync_wanted(c, &e));
	e = conn(5, 1000);
	e.reply.proto = e.orig.proto = 47; /* GRE */
	assert_false(ctsync_wanted(c, &e));
	e = conn(5, 1000);
	e.reply.proto = 17; /* orig and reply disagree */
	assert_false(ctsync_wanted(c, &e));
	ctsync_free(c);

	/* Protocols= tcp only; no networks: every address */
	struct ctsync_params p = {
	    .self_id = 1, .protocols = CTSYNC_TCP, .check_interval_ms = IVL, .max_entries = 10};
	c = ctsync_new(&p, T0);
	assert_non_null(c);
	e = conn(5, 1000);
	e.orig.src = 0x0a000001;
	e.orig.dst = 0x0a000002;
	assert_true(ctsync_wanted(c, &e));
	e.orig.proto = e.reply.proto = 17;
	assert_false(ctsync_wanted(c, &e));
	e.orig.proto = e.reply.proto = 1;
	assert_false(ctsync_wanted(c, &e));
	/* unwanted events are ignored and counted */
	assert_int_equal(ctsync_local(c, CT_EV_NEW, &e, T0), 0);
	assert_int_equal(ctsync_count(c, 1), 0);
	assert_int_equal(ctsync_stats(c)->local_filtered, 1);
	assert_int_equal(ctsync_queued(c), 0);
	ctsync_free(c);
}

/* A reload's filter: wanted from now on; the table keeps what it holds. */
static void test_set_filter(void **st)
{
	(void)st;
	struct ctsync *c = mk(1, 100, IVL);
	struct ct_entry e = conn(5, 1000);
	assert_int_equal(ctsync_local(c, CT_EV_UPDATE, &e, T0), 0);
	assert_int_equal(ctsync_count(c, 1), 1);
	struct ct_entry u = conn(6, 1001);
	u.orig.proto = u.reply.proto = 17;
	u.orig.src = u.reply.dst = 0x0a000001;
	u.orig.dst = u.reply.src = 0x0a000002;
	assert_false(ctsync_wanted(c, &u));
	const struct ip4_prefix ten = {0x0a000000, 8};
	struct ctsync_params p = {.protocols = CTSYNC_UDP,
				  .networks = &ten,
				  .n_networks = 1,
				  .check_interval_ms = 0,
				  .max_entries = 50};
	assert_int_equal(ctsync_set_filter(c, &p, T0 + 1), 0);
	assert_true(ctsync_wanted(c, &u));
	assert_false(ctsync_wanted(c, &e)); /* TCP, 198.18/198.19: not any more */
	assert_int_equal(ctsync_count(c, 1), 1);
	assert_int_equal(ctsync_next_deadline(c) == UINT64_MAX || ctsync_next_deadline(c) > T0, 1);
	struct ip4_prefix bad = {0x0a000000, 33};
	p.networks = &bad;
	assert_int_equal(ctsync_set_filter(c, &p, T0 + 2), -1);
	assert_true(ctsync_wanted(c, &u)); /* unchanged */
	ctsync_free(c);
}

static void test_codec_round_trip(void **st)
{
	(void)st;
	struct ct_rec recs[CT_REC__COUNT - 1];
	memset(recs, 0, sizeof(recs));
	struct ct_entry e = conn(9, 4242);
	e.zone = 0x1234;
	e.tcp_flags[1] = 0x33;
	e.tcp_wscale[1] = 14;
	e.mark = 0xdeadbeef;
	e.timeout = 432000;
	recs[0] = (struct ct_rec){.type = CT_REC_NEW, .e = e};
	recs[1] = (struct ct_rec){.type = CT_REC_NEW_RESYNC, .gen = 0x01020304, .e = e};
	struct ct_entry state = e;
	memset(&state.orig, 0, sizeof(state.orig));
	memset(&state.reply, 0, sizeof(state.reply));
	state.zone = 0;
	recs[2] = (struct ct_rec){.type = CT_REC_UPDATE, .digest = 0x0102030405060708, .e = state};
	recs[3] = (struct ct_rec){.type = CT_REC_DELETE, .digest = 0xfffefdfcfbfaf9f8};
	recs[4] = (struct ct_rec){.type = CT_REC_DIGEST, .count = 77, .sum = 0x8877665544332211};
	recs[5] = (struct ct_rec){.type = CT_REC_RESYNC_REQ, .node = 3};
	recs[6] = (struct ct_rec){.type = CT_REC_RESYNC_END, .node = 2, .gen = 9};
	uint8_t buf[512], again[512];
	size_t len = ctsync_msg_begin(buf, sizeof(buf));
	assert_int_equal(len, 2);
	for (size_t i = 0; i < CT_REC__COUNT - 1; i++) {
		size_t n = ctsync_rec_encode(&recs[i], buf + len, sizeof(buf) - len);
		assert_int_equal(n, ctsync_rec_size(recs[i].type));
		len += n;
	}
	assert_int_equal(len, 2 + 46 + 50 + 26 + 9 + 13 + 5 + 9);
	assert_int_equal(buf[0], 'C');
	assert_int_equal(buf[1], 1);
	enum ct_malformed why;
	assert_int_equal(ctsync_msg_check(buf, len, &why), 0);
	size_t off = 0, o = ctsync_msg_begin(again, sizeof(again));
	struct ct_rec r;
	for (size_t i = 0; i < CT_REC__COUNT - 1; i++) {
		assert_int_equal(ctsync_msg_next(buf, len, &off, &r), 1);
		assert_int_equal(r.type, recs[i].type);
		assert_int_equal(r.gen, recs[i].gen);
		assert_int_equal(r.node, recs[i].node);
		assert_true(r.digest == recs[i].digest);
		assert_int_equal(r.count, recs[i].count);
		assert_true(r.sum == recs[i].sum);
		assert_true(ctsync_entry_eq(&r.e, &recs[i].e));
		o += ctsync_rec_encode(&r, again + o, sizeof(again) - o);
	}
	assert_int_equal(ctsync_msg_next(buf, len, &off, &r), 0);
	assert_int_equal(o, len);
	assert_memory_equal(again, buf, len);
	/* big-endian on the wire: the DELETE's digest */
	size_t del = 2 + 46 + 50 + 26;
	assert_int_equal(buf[del], CT_REC_DELETE);
	assert_int_equal(buf[del + 1], 0xff);
	assert_int_equal(buf[del + 8], 0xf8);
	/* the encoder refuses what does not fit, and unknown types */
	assert_int_equal(ctsync_rec_encode(&recs[1], buf, 49), 0);
	assert_int_equal(ctsync_rec_encode(&recs[1], buf, 50), 50);
	r.type = 0;
	assert_int_equal(ctsync_rec_encode(&r, buf, sizeof(buf)), 0);
	assert_int_equal(ctsync_rec_size(8), 0);
	assert_int_equal(ctsync_msg_begin(buf, 1), 0);
	/* the digest is of orig + zone only */
	struct ct_entry f = e;
	f.reply.src = 1;
	f.status = 0;
	assert_true(ctsync_digest(&e.orig, e.zone) == ctsync_digest(&f.orig, f.zone));
	assert_true(ctsync_digest(&e.orig, e.zone) != ctsync_digest(&e.orig, 0));
	assert_string_equal(ctsync_record_name(CT_REC_NEW_RESYNC), "new_resync");
	assert_string_equal(ctsync_malformed_name(CTM_TRUNCATED), "truncated");
	assert_string_equal(ctsync_check_name(CT_CHECK_DISAGREE), "disagree");
	assert_string_equal(ctsync_record_name(99), "?");
}

static void test_coalescing(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0);
	struct ct_rec r[64];
	struct ct_entry e = conn(1, 1000), e1 = e, e2 = e;
	e1.tcp_state = 4;
	e2.tcp_state = 5;
	e2.status |= 0x4;

	/* NEW + UPDATE + UPDATE: one NEW with the last state */
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e1, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e2, T0), 0);
	assert_int_equal(ctsync_queued(a), 1);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_NEW);
	assert_true(ctsync_entry_eq(&r[0].e, &e2));

	/* UPDATE + UPDATE: one UPDATE with the last state */
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e1, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_UPDATE);
	assert_true(r[0].digest == ctsync_digest(&e.orig, e.zone));
	assert_int_equal(r[0].e.tcp_state, e.tcp_state);
	assert_int_equal(r[0].e.status, e.status);

	/* an event that changes nothing sends nothing; the timeout alone does */
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	assert_int_equal(ctsync_queued(a), 0);
	assert_int_equal(ctsync_stats(a)->local_unchanged, 2);
	e.timeout = 60;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_UPDATE);
	assert_int_equal(r[0].e.timeout, 60);

	/* UPDATE + DELETE: DELETE */
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e1, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e1, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_DELETE);
	assert_true(r[0].digest == ctsync_digest(&e.orig, e.zone));
	assert_int_equal(ctsync_count(a, 1), 0);

	/* NEW + UPDATE + DELETE: nothing at all */
	struct ct_entry g = conn(2, 2000);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &g, T0), 0);
	g.tcp_state = 8;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &g, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &g, T0), 0);
	assert_int_equal(ctsync_queued(a), 0);
	uint8_t buf[1400];
	assert_int_equal(ctsync_next_message(a, buf, sizeof(buf), T0), 0);
	/* DESTROY of an unknown entry: counted, nothing sent */
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &g, T0), 0);
	assert_int_equal(ctsync_stats(a)->local_unknown, 1);
	assert_int_equal(ctsync_queued(a), 0);

	/* UPDATE of an unknown entry: a NEW */
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &g, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_NEW);

	/* a changed reply tuple (NAT) can only travel in a NEW */
	struct ct_entry nat = g;
	nat.reply.src = 0xc6130063;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &nat, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_NEW);
	assert_true(ctsync_entry_eq(&r[0].e, &nat));
	ctsync_free(a);
}

/* A connection closed and opened again while its DELETE is queued: receivers follow. */
static void test_delete_then_new(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0), *b = mk(2, 100, 0);
	struct ct_rec r[16];
	struct ct_entry e = conn(1, 1000), e2 = conn(1, 1000);
	e2.tcp_state = 1;
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 1);

	/* DELETE + NEW: a NEW that overwrites */
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e2, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_true(same(a, 1, b));

	/* DELETE + NEW + DELETE: a DELETE (b holds a copy), not nothing */
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e2, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	assert_int_equal(collect(a, r, 16, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_DELETE);

	/*
	 * Opened again after a resync began, its DELETE queued before it: the
	 * NEW must go behind the RESYNC_END, which would drop it otherwise.
	 */
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	ctsync_resync_all(a, T0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e2, T0), 0);
	assert_int_equal(collect(a, r, 16, 1400), 2);
	assert_int_equal(r[0].type, CT_REC_RESYNC_END);
	assert_int_equal(r[1].type, CT_REC_NEW);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e2, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	ctsync_resync_all(a, T0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e2, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 1);
	assert_true(same(a, 1, b));
	ctsync_free(a);
	ctsync_free(b);
}

static void test_batching(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 1000, 0), *b = mk(2, 1000, 0);
	for (uint16_t i = 0; i < 300; i++) {
		struct ct_entry e = conn(1 + i % 200, (uint16_t)(1000 + i));
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	uint8_t buf[1400];
	size_t len, msgs = 0;
	while ((len = ctsync_next_message(a, buf, 300, T0)) > 0) {
		assert_true(len <= 300);
		assert_true(len > 300 - 46); /* as many as fit */
		assert_int_equal(ctsync_on_message(b, 1, buf, len, T0), 0);
		msgs++;
	}
	assert_int_equal(msgs, (300 + 5) / 6); /* 6 NEWs in 300 bytes */
	assert_true(same(a, 1, b));
	/* a full resync in 1400-byte messages */
	ctsync_resync_all(a, T0);
	assert_int_equal(ctsync_queued(a), 301);
	msgs = 0;
	while ((len = ctsync_next_message(a, buf, sizeof(buf), T0)) > 0) {
		assert_int_equal(ctsync_on_message(b, 1, buf, len, T0), 0);
		msgs++;
	}
	assert_int_equal(msgs, 12); /* 27 NEW_RESYNCs in 1400 bytes; the END fits the last */
	assert_int_equal(ctsync_stats(a)->rec_out[CT_REC_NEW_RESYNC], 300);
	assert_int_equal(ctsync_stats(b)->resyncs_received, 1);
	assert_true(same(a, 1, b));
	/* a cap below the largest record sends nothing, and keeps it */
	struct ct_entry e = conn(250, 1);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	assert_int_equal(ctsync_next_message(a, buf, 40, T0), 0);
	assert_int_equal(ctsync_queued(a), 1);
	ctsync_free(a);
	ctsync_free(b);
}

/* A message with every record type, as node 2 would send it to node 1. */
static size_t every_record(uint8_t *buf, size_t cap)
{
	struct ct_entry e = conn(3, 3333), f = conn(4, 4444);
	struct ct_rec recs[] = {
	    {.type = CT_REC_NEW, .e = e},
	    {.type = CT_REC_NEW_RESYNC, .gen = 5, .e = f},
	    {.type = CT_REC_UPDATE, .digest = ctsync_digest(&e.orig, 0), .e = f},
	    {.type = CT_REC_DELETE, .digest = ctsync_digest(&e.orig, 0)},
	    {.type = CT_REC_DIGEST, .count = 1, .sum = 0},
	    {.type = CT_REC_RESYNC_REQ, .node = 1},
	    {.type = CT_REC_RESYNC_END, .node = 2, .gen = 5},
	};
	size_t len = ctsync_msg_begin(buf, cap);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		len += ctsync_rec_encode(&recs[i], buf + len, cap - len);
	return len;
}

static void test_malformed(void **st)
{
	(void)st;
	uint8_t msg[256], bad[256];
	size_t len = every_record(msg, sizeof(msg));
	assert_int_equal(len, 160);
	static const size_t bounds[] = {48, 98, 124, 133, 146, 151, 160};

	/* every truncation: a record boundary is a shorter message, anything else malformed */
	struct ctsync *c = mk(1, 100, IVL);
	uint64_t refused = 0;
	for (size_t cut = 0; cut < len; cut++) {
		bool boundary = false;
		for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++)
			boundary |= cut == bounds[k];
		int rc = ctsync_on_message(c, 2, msg, cut, T0);
		assert_int_equal(rc, boundary ? 0 : -1);
		refused += rc != 0;
	}
	assert_int_equal(malformed_sum(c), refused);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_SHORT], 2);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_EMPTY], 1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_TRUNCATED], refused - 3);
	assert_int_equal(ctsync_on_message(c, 2, msg, len, T0), 0);
	ctsync_free(c);

	/* every bit flipped: never a crash, every refusal counted */
	c = mk(1, 100, IVL);
	refused = 0;
	for (size_t bit = 0; bit < 8 * len; bit++) {
		memcpy(bad, msg, len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		refused += ctsync_on_message(c, 2, bad, len, T0) != 0;
		uint8_t out[1400];
		while (ctsync_next_message(c, out, sizeof(out), T0) > 0)
			;
	}
	assert_true(refused > 0);
	assert_int_equal(malformed_sum(c), refused);
	ctsync_free(c);

	/* each reason; nothing changes before the whole message is checked */
	c = mk(1, 100, IVL);
	size_t n_before = ctsync_count(c, 2);
	memcpy(bad, msg, len);
	bad[0] = 'X';
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_TYPE], 1);
	memcpy(bad, msg, len);
	bad[1] = 2;
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_VERSION], 1);
	memcpy(bad, msg, len);
	bad[bounds[5]] = 8; /* the RESYNC_END's type */
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_RECORD], 1);
	memcpy(bad, msg, len);
	bad[2 + 1 + 12] = 47; /* NEW: orig proto GRE */
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	memcpy(bad, msg, len);
	bad[48 + 1 + 4 + 13 + 12] = 17; /* NEW_RESYNC: reply proto differs */
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_ENTRY], 2);
	memcpy(bad, msg, len);
	memset(bad + 48 + 1, 0, 4); /* NEW_RESYNC generation 0 */
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	memcpy(bad, msg, len);
	memset(bad + 146 + 1, 0, 4); /* RESYNC_REQ to node 0 */
	assert_int_equal(ctsync_on_message(c, 2, bad, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_FIELD], 2);
	assert_int_equal(ctsync_on_message(c, 3, msg, len, T0), -1); /* END for origin 2 */
	assert_int_equal(ctsync_on_message(c, 1, msg, len, T0), -1); /* from ourselves */
	assert_int_equal(ctsync_on_message(c, 0, msg, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->malformed[CTM_ORIGIN], 3);
	assert_int_equal(ctsync_count(c, 2), n_before);
	assert_int_equal(ctsync_count(c, 3), 0);
	assert_int_equal(ctsync_queued(c), 0); /* the RESYNC_REQ in them did nothing */
	assert_int_equal(ctsync_stats(c)->msgs_in, 0);
	for (int i = 0; i < CT_REC__COUNT; i++)
		assert_int_equal(ctsync_stats(c)->rec_in[i], 0);
	ctsync_free(c);
}

static void test_digest_check(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, IVL), *b = mk(2, 100, IVL);
	uint64_t now = T0;
	for (uint16_t i = 0; i < 20; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, now), 0);
	}
	carry(a, 1, &b, 1, now);
	assert_int_equal(ctsync_next_deadline(a), T0 + IVL);
	ctsync_tick(a, now + IVL - 1);
	assert_int_equal(ctsync_queued(a), 0);
	now += IVL;
	ctsync_tick(a, now);
	assert_int_equal(ctsync_queued(a), 1);
	assert_int_equal(ctsync_next_deadline(a), now + IVL);
	carry(a, 1, &b, 1, now);
	assert_int_equal(ctsync_stats(b)->checks_agree, 1);
	assert_int_equal(ctsync_stats(b)->last_check_result, CT_CHECK_AGREE);
	assert_int_equal(ctsync_stats(b)->last_check, now);
	assert_int_equal(ctsync_queued(b), 0);
	struct ctsync_origin_view v;
	assert_int_equal(ctsync_origins(b), 1);
	assert_int_equal(ctsync_origin(b, 0, &v), 0);
	assert_int_equal(v.node, 1);
	assert_int_equal(v.entries, 20);
	assert_int_equal(v.check, CT_CHECK_AGREE);
	assert_int_equal(v.last_msg, now);

	/* an UPDATE lost without a word from the layer below: the next DIGEST finds it */
	struct ct_entry e = conn(7, 1000);
	e.tcp_state = 7;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, now), 0);
	struct ct_rec r[8];
	assert_int_equal(collect(a, r, 8, 1400), 1); /* lost */
	now += IVL;
	ctsync_tick(a, now);
	carry(a, 1, &b, 1, now);
	assert_int_equal(ctsync_stats(b)->checks_disagree, 1);
	assert_int_equal(ctsync_stats(b)->last_check_result, CT_CHECK_DISAGREE);
	assert_int_equal(ctsync_stats(b)->resync_reqs_sent, 1);
	/* b asks a (RESYNC_REQ 1); a second DIGEST before the answer asks nothing more */
	assert_int_equal(collect(b, r, 8, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_RESYNC_REQ);
	assert_int_equal(r[0].node, 1);
	now += 10;
	ctsync_tick(a, now + IVL);
	carry(a, 1, &b, 1, now);
	assert_int_equal(ctsync_stats(b)->checks_disagree, 2);
	assert_int_equal(ctsync_stats(b)->resync_reqs_sent, 1);
	assert_int_equal(ctsync_queued(b), 0);
	uint8_t buf[64];
	size_t len = ctsync_msg_begin(buf, sizeof(buf));
	len += ctsync_rec_encode(&r[0], buf + len, sizeof(buf) - len);
	assert_int_equal(ctsync_on_message(a, 2, buf, len, now), 0);
	assert_int_equal(ctsync_stats(a)->resync_reqs_received, 1);
	assert_int_equal(ctsync_queued(a), 21); /* 20 NEW_RESYNC + RESYNC_END */
	carry(a, 1, &b, 1, now);
	assert_true(same(a, 1, b));
	now += IVL;
	ctsync_tick(a, now + IVL);
	carry(a, 1, &b, 1, now);
	assert_int_equal(ctsync_stats(b)->checks_agree, 2);
	assert_int_equal(ctsync_queued(b), 0);
	ctsync_free(a);
	ctsync_free(b);
}

static void test_resync_req(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0);
	for (uint16_t i = 0; i < 5; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	struct ct_rec r[32];
	assert_int_equal(collect(a, r, 32, 1400), 5);
	uint8_t buf[64];
	struct ct_rec req = {.type = CT_REC_RESYNC_REQ, .node = 3};
	size_t len = ctsync_msg_begin(buf, sizeof(buf));
	len += ctsync_rec_encode(&req, buf + len, sizeof(buf) - len);
	assert_int_equal(ctsync_on_message(a, 2, buf, len, T0), 0); /* for node 3 */
	assert_int_equal(ctsync_queued(a), 0);
	req.node = 1;
	len = ctsync_msg_begin(buf, sizeof(buf));
	len += ctsync_rec_encode(&req, buf + len, sizeof(buf) - len);
	assert_int_equal(ctsync_on_message(a, 2, buf, len, T0), 0);
	assert_int_equal(ctsync_on_message(a, 3, buf, len, T0), 0); /* a second asks too */
	ctsync_node_up(a, 4, T0);				    /* and a node comes up */
	assert_int_equal(ctsync_stats(a)->resync_reqs_received, 2);
	assert_int_equal(ctsync_stats(a)->resyncs_sent, 1); /* one resync serves them all */
	assert_int_equal(collect(a, r, 32, 1400), 6);
	uint32_t gen = r[5].gen;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r[i].type, CT_REC_NEW_RESYNC);
		assert_int_equal(r[i].gen, gen);
	}
	assert_int_equal(r[5].type, CT_REC_RESYNC_END);
	assert_int_equal(r[5].node, 1);
	assert_int_equal(gen, 100); /* params.generation */

	/* a resync asked for while one is half out supersedes it: one RESYNC_END */
	ctsync_resync_all(a, T0);
	assert_true(ctsync_next_message(a, buf, sizeof(buf), T0) > 0); /* one NEW_RESYNC out */
	struct ct_entry e = conn(1, 1000);
	e.tcp_state = 9;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, T0), 0); /* already sent: at the tail */
	ctsync_resync_all(a, T0);
	size_t n = collect(a, r, 32, 1400);
	assert_int_equal(n, 6);
	for (size_t i = 0; i + 1 < n; i++) {
		assert_int_equal(r[i].type, CT_REC_NEW_RESYNC);
		assert_int_equal(r[i].gen, 102);
	}
	assert_int_equal(r[n - 1].type, CT_REC_RESYNC_END);
	assert_int_equal(r[n - 1].gen, 102);
	ctsync_free(a);
}

static void test_resync_end_drops_stale(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0), *b = mk(2, 100, 0);
	struct ct_rec r[64];
	for (uint16_t i = 0; i < 10; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	carry(a, 1, &b, 1, T0);
	/* half of them closed, the DELETEs lost */
	for (uint16_t i = 0; i < 5; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	}
	assert_int_equal(collect(a, r, 64, 1400), 5);
	assert_int_equal(ctsync_count(b, 1), 10);
	ctsync_out_of_sync(b, 1, T0);
	ctsync_out_of_sync(b, 1, T0);
	assert_int_equal(collect(b, r, 64, 1400), 1); /* one RESYNC_REQ */
	ctsync_resync_all(a, T0);
	/* while it is queued, one more goes and one comes (after the resync began) */
	struct ct_entry x = conn(6, 1000), y = conn(99, 1);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &x, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &y, T0), 0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 5);
	assert_true(same(a, 1, b));
	assert_int_equal(ctsync_stats(b)->resyncs_received, 1);

	/* kernel events lost: a rebuilds its table from a dump and resyncs */
	ctsync_local_reset(a);
	assert_int_equal(ctsync_count(a, 1), 0);
	for (uint16_t i = 7; i < 9; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	ctsync_resync_all(a, T0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 2);
	assert_true(same(a, 1, b));
	assert_int_equal(ctsync_stats(a)->local_resets, 1);

	/* a resync of an empty table empties the copy */
	struct ct_entry e = conn(8, 1000);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	e = conn(9, 1000);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e, T0), 0);
	assert_int_equal(collect(a, r, 64, 1400), 2); /* lost */
	ctsync_resync_all(a, T0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 0);
	ctsync_free(a);
	ctsync_free(b);
}

/* A node that restarts resyncs with a generation of its own run: old copies go. */
static void test_restart_generation(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0), *b = mk(2, 100, 0);
	for (uint16_t i = 0; i < 4; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	ctsync_resync_all(a, T0);
	carry(a, 1, &b, 1, T0);
	ctsync_node_down(b, 1);
	assert_int_equal(ctsync_count(b, 1), 4); /* kept */
	ctsync_free(a);
	struct ctsync_params p = {.self_id = 1,
				  .protocols = CTSYNC_TCP,
				  .networks = nets,
				  .n_networks = 2,
				  .max_entries = 100,
				  .generation = 777};
	a = ctsync_new(&p, T0);
	assert_non_null(a);
	struct ct_entry e = conn(3, 1000);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	ctsync_node_up(a, 2, T0);
	ctsync_node_up(b, 1, T0);
	carry(a, 1, &b, 1, T0);
	assert_int_equal(ctsync_count(b, 1), 1);
	assert_true(same(a, 1, b));
	ctsync_free(a);
	ctsync_free(b);
}

static void test_max_entries(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 3, IVL), *b = mk(2, 2, IVL);
	for (uint16_t i = 0; i < 3; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	struct ct_entry e = conn(4, 1000);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), -1);
	assert_int_equal(ctsync_stats(a)->refused_full, 1);
	assert_int_equal(ctsync_count(a, 1), 3);
	/* changes to the entries held still go */
	e = conn(1, 1000);
	e.mark = 5;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e, T0), 0);
	ctsync_tick(a, T0 + IVL);
	carry(a, 1, &b, 1, T0 + IVL);
	assert_int_equal(ctsync_count(b, 1), 2);
	struct ctsync_origin_view v;
	assert_int_equal(ctsync_origin(b, 0, &v), 0);
	assert_int_equal(v.refused_full, 1);
	assert_int_equal(ctsync_stats(b)->refused_full, 1);
	/* the DIGEST disagrees, but asking again would not help */
	assert_int_equal(ctsync_stats(b)->checks_disagree, 1);
	assert_int_equal(ctsync_queued(b), 0);

	/* origins: CTSYNC_MAX_PEERS, then refused */
	struct ctsync *c = mk(1000, 10, 0);
	uint8_t buf[64];
	struct ct_rec dg = {.type = CT_REC_DIGEST};
	size_t len = ctsync_msg_begin(buf, sizeof(buf));
	len += ctsync_rec_encode(&dg, buf + len, sizeof(buf) - len);
	for (uint32_t n = 1; n <= CTSYNC_MAX_PEERS; n++) {
		assert_int_equal(ctsync_on_message(c, n, buf, len, T0), 0);
		ctsync_node_up(c, n, T0);
	}
	assert_int_equal(ctsync_on_message(c, 65, buf, len, T0), -1);
	assert_int_equal(ctsync_stats(c)->origins_full, 1);
	ctsync_node_down(c, 7); /* down and empty: its slot may be reused */
	assert_int_equal(ctsync_on_message(c, 65, buf, len, T0), 0);
	ctsync_forget(c, 8);
	assert_int_equal(ctsync_on_message(c, 66, buf, len, T0), 0);
	assert_int_equal(ctsync_origins(c), CTSYNC_MAX_PEERS);
	ctsync_free(c);
	ctsync_free(a);
	ctsync_free(b);
}

static void test_cluster_events_and_takeover(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0), *b = mk(2, 100, 0), *c = mk(3, 100, 0);
	struct ctsync *to_c = c;
	for (uint16_t i = 0; i < 4; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	for (uint16_t i = 0; i < 3; i++) {
		struct ct_entry e = conn(i + 100, 2000);
		assert_int_equal(ctsync_local(b, CT_EV_NEW, &e, T0), 0);
	}
	carry(a, 1, &to_c, 1, T0);
	carry(b, 2, &to_c, 1, T0);
	assert_int_equal(ctsync_count(c, 1), 4);
	assert_int_equal(ctsync_count(c, 2), 3);
	assert_int_equal(ctsync_count(c, 3), 0);
	assert_int_equal(ctsync_count(c, 9), 0);

	/* out of sync: one RESYNC_REQ per node, however often */
	ctsync_out_of_sync(c, 1, T0);
	ctsync_out_of_sync(c, 1, T0);
	ctsync_out_of_sync(c, 2, T0);
	ctsync_out_of_sync(c, 3, T0); /* ourselves: nothing */
	struct ct_rec r[16];
	assert_int_equal(collect(c, r, 16, 1400), 2);
	assert_int_equal(r[0].type, CT_REC_RESYNC_REQ);
	assert_int_equal(r[0].node, 1);
	assert_int_equal(r[1].node, 2);
	assert_int_equal(ctsync_stats(c)->resync_reqs_sent, 2);

	/* node down: its table stays; the takeover sees every entry held from peers */
	ctsync_node_down(c, 1);
	struct ctsync_origin_view v;
	assert_int_equal(ctsync_origin(c, 0, &v), 0);
	assert_false(v.up);
	assert_int_equal(v.entries, 4);
	size_t cur = 0, n = 0;
	const struct ct_entry *e;
	while ((e = ctsync_peer_next(c, &cur)) != NULL) {
		bool from_a = ctsync_find(a, 1, &e->orig, e->zone) != NULL;
		bool from_b = ctsync_find(b, 2, &e->orig, e->zone) != NULL;
		assert_true(from_a != from_b);
		n++;
	}
	assert_int_equal(n, 7);
	struct ct_entry own = conn(200, 1);
	assert_int_equal(ctsync_local(c, CT_EV_NEW, &own, T0), 0);
	cur = n = 0;
	while (ctsync_peer_next(c, &cur) != NULL)
		n++;
	assert_int_equal(n, 7); /* not our own */
	ctsync_forget(c, 1);
	cur = n = 0;
	while (ctsync_peer_next(c, &cur) != NULL)
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(ctsync_origin(c, 0, &v), -1);
	assert_int_equal(ctsync_origin(c, 1, &v), 0);
	assert_int_equal(v.node, 2);
	ctsync_free(a);
	ctsync_free(b);
	ctsync_free(c);
}

static void test_params_and_deadline(void **st)
{
	(void)st;
	struct ctsync_params p = {.self_id = 1, .protocols = CTSYNC_TCP, .max_entries = 10};
	struct ctsync *c = ctsync_new(&p, T0);
	assert_non_null(c);
	assert_true(ctsync_next_deadline(c) == UINT64_MAX); /* CheckInterval=0 */
	ctsync_tick(c, T0 + 1000000);
	assert_int_equal(ctsync_queued(c), 0);
	ctsync_free(c);
	ctsync_free(NULL);
	struct ctsync_params bad = p;
	bad.self_id = 0;
	assert_null(ctsync_new(&bad, T0));
	bad = p;
	bad.protocols = 0;
	assert_null(ctsync_new(&bad, T0));
	bad.protocols = 8;
	assert_null(ctsync_new(&bad, T0));
	bad = p;
	bad.max_entries = 0;
	assert_null(ctsync_new(&bad, T0));
	bad.max_entries = CTSYNC_MAX_ENTRIES + 1;
	assert_null(ctsync_new(&bad, T0));
	bad = p;
	bad.n_networks = 1; /* and no list */
	assert_null(ctsync_new(&bad, T0));
	struct ip4_prefix wide = {0, 33};
	bad.networks = &wide;
	assert_null(ctsync_new(&bad, T0));
	bad.n_networks = CTSYNC_MAX_NETWORKS + 1;
	assert_null(ctsync_new(&bad, T0));
}

/* The journal: what a shell that keeps its kernel in step is told. */
static void test_journal(void **st)
{
	(void)st;
	struct ctsync *a = mk(1, 100, 0);
	struct ctsync_params p = {.self_id = 2,
				  .protocols = CTSYNC_TCP | CTSYNC_UDP | CTSYNC_ICMP,
				  .max_entries = 100,
				  .generation = 200,
				  .journal = true};
	struct ctsync *b = ctsync_new(&p, T0);
	assert_non_null(b);
	size_t n, cur;
	bool lost;
	const struct ct_change *v;
	for (uint16_t i = 0; i < 4; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	carry(a, 1, &b, 1, T0);
	v = ctsync_changes(b, &n, &lost);
	assert_int_equal(n, 4);
	assert_false(lost);
	for (size_t i = 0; i < n; i++) {
		struct ct_entry e = conn((uint32_t)i + 1, 1000);
		assert_int_equal(v[i].op, CT_CHG_SET);
		assert_int_equal(v[i].origin, 1);
		assert_true(ctsync_entry_eq(&v[i].e, &e));
	}
	ctsync_changes_clear(b);
	/* a full resync that changes nothing: nothing for the kernel */
	ctsync_resync_all(a, T0);
	carry(a, 1, &b, 1, T0);
	(void)ctsync_changes(b, &n, NULL);
	assert_int_equal(n, 0);
	/* an update: the whole entry in its new state; a delete: the entry that goes */
	struct ct_entry e2 = conn(2, 1000), e3 = conn(3, 1000);
	e2.tcp_state = 4;
	e2.timeout = 60;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e2, T0), 0);
	assert_int_equal(ctsync_local(a, CT_EV_DESTROY, &e3, T0), 0);
	carry(a, 1, &b, 1, T0);
	v = ctsync_changes(b, &n, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].op, CT_CHG_SET);
	assert_true(ctsync_entry_eq(&v[0].e, &e2));
	assert_int_equal(v[1].op, CT_CHG_DEL);
	assert_true(ctsync_entry_eq(&v[1].e, &e3));
	ctsync_changes_clear(b);
	/* missing from the kernel: only what the shell says; a SET puts it back */
	cur = 0;
	assert_null(ctsync_peer_next_missing(b, &cur));
	struct ct_entry e4 = conn(4, 1000), nobody = conn(77, 7);
	assert_int_equal(ctsync_peer_set_missing(b, &e4.orig, e4.zone, true), 1);
	assert_int_equal(ctsync_peer_set_missing(b, &nobody.orig, nobody.zone, true), 0);
	cur = 0;
	const struct ct_entry *m = ctsync_peer_next_missing(b, &cur);
	assert_non_null(m);
	assert_true(ctsync_entry_eq(m, &e4));
	assert_null(ctsync_peer_next_missing(b, &cur));
	e4.tcp_state = 5;
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &e4, T0), 0);
	carry(a, 1, &b, 1, T0);
	ctsync_changes_clear(b);
	cur = 0;
	assert_null(ctsync_peer_next_missing(b, &cur));
	/* a resync without some entries: they go from the kernel too */
	ctsync_local_reset(a);
	struct ct_entry e1 = conn(1, 1000);
	assert_int_equal(ctsync_local(a, CT_EV_NEW, &e1, T0), 0);
	ctsync_resync_all(a, T0);
	carry(a, 1, &b, 1, T0);
	v = ctsync_changes(b, &n, NULL);
	assert_int_equal(n, 2); /* conn 2 and conn 4 */
	assert_int_equal(v[0].op, CT_CHG_DEL);
	assert_int_equal(v[1].op, CT_CHG_DEL);
	ctsync_changes_clear(b);
	assert_int_equal(ctsync_count(b, 1), 1);
	/* the takeover: what we held from peers becomes ours, sent as ours */
	assert_int_equal(ctsync_adopt(b, T0), 1);
	assert_non_null(ctsync_find(b, 2, &e1.orig, e1.zone));
	struct ct_rec r[8];
	assert_int_equal(collect(b, r, 8, 1400), 1);
	assert_int_equal(r[0].type, CT_REC_NEW);
	assert_int_equal(ctsync_adopt(b, T0), 1); /* again: nothing new to send */
	assert_int_equal(ctsync_queued(b), 0);
	/* forgetting a node: its entries go */
	ctsync_forget(b, 1);
	v = ctsync_changes(b, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].op, CT_CHG_DEL);
	ctsync_free(b);

	/* without the journal every peer entry counts as missing, and nothing is kept */
	struct ctsync *c = mk(3, 100, 0);
	ctsync_resync_all(a, T0);
	carry(a, 1, &c, 1, T0);
	(void)ctsync_changes(c, &n, NULL);
	assert_int_equal(n, 0);
	cur = 0;
	assert_non_null(ctsync_peer_next_missing(c, &cur));
	assert_null(ctsync_peer_next_missing(c, &cur));
	ctsync_free(c);
	ctsync_free(a);
}

/* ---- simulation ---- */

#define NN	 3
#define KMAX	 150
#define MAXE	 400
#define SIM_IVL	 100
#define DELAY_MS 1

struct knode {
	struct ctsync *c;
	uint32_t id;
	bool alive;
	uint64_t back_at; /* down until */
	uint32_t runs;
	struct ct_entry k[KMAX]; /* the kernel's table */
	size_t nk;
	/* the peers' entries the shell put in its kernel, from the journal */
	struct ct_change held[NN * MAXE];
	size_t nheld;
};

struct smsg {
	uint64_t at;
	int from, to;
	bool lost;
	size_t len;
	uint8_t buf[1400];
};

struct sim {
	struct knode n[NN];
	struct smsg *q;
	size_t nq, capq, headq;
	uint64_t now;
	uint64_t rng;
	double loss;
	bool silent; /* loss goes unreported (only the DIGEST finds it) */
	bool events; /* the kernels change */
	bool churn;  /* nodes restart */
	uint64_t lost, delivered, restarts, resets;
};

static uint64_t rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static double rndf(struct sim *s)
{
	return (double)(rnd(s) >> 11) / (double)(1ULL << 53);
}

static void sim_start(struct sim *s, int i)
{
	struct knode *n = &s->n[i];
	struct ctsync_params p = {.self_id = n->id,
				  .protocols = CTSYNC_TCP | CTSYNC_UDP | CTSYNC_ICMP,
				  .networks = nets,
				  .n_networks = 2,
				  .check_interval_ms = SIM_IVL,
				  .max_entries = MAXE,
				  .generation = (uint32_t)(n->id * 100000 + ++n->runs * 1000),
				  .journal = true};
	n->c = ctsync_new(&p, s->now);
	n->nheld = 0; /* a daemon that stops takes them out of its kernel */
	assert_non_null(n->c);
	n->alive = true;
	/* the dump of the kernel, then our table to all */
	for (size_t k = 0; k < n->nk; k++)
		assert_int_equal(ctsync_local(n->c, CT_EV_NEW, &n->k[k], s->now), 0);
	ctsync_resync_all(n->c, s->now);
	for (int j = 0; j < NN; j++)
		if (j != i && s->n[j].alive) {
			ctsync_node_up(n->c, s->n[j].id, s->now);
			ctsync_node_up(s->n[j].c, n->id, s->now);
		}
}

static void sim_init(struct sim *s, uint64_t seed, double loss, bool silent)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
	s->loss = loss;
	s->silent = silent;
	s->now = T0;
	s->events = s->churn = true;
	for (int i = 0; i < NN; i++)
		s->n[i].id = (uint32_t)(10 + i);
	for (int i = 0; i < NN; i++)
		sim_start(s, i);
}

static void sim_free(struct sim *s)
{
	for (int i = 0; i < NN; i++)
		ctsync_free(s->n[i].c);
	free(s->q);
}

/* A random connection: mostly wanted (198.18.1.0/24 to 198.19.0.1), some not. */
static struct ct_entry sim_conn(struct sim *s)
{
	static const uint8_t protos[] = {6, 6, 17, 1};
	struct ct_entry e;
	memset(&e, 0, sizeof(e));
	uint8_t proto = protos[rnd(s) % 4];
	uint32_t src = 0xc6120100 | (uint32_t)(1 + rnd(s) % 60);
	if (rnd(s) % 10 == 0)
		src = 0x0a000001; /* and dst below: filtered */
	uint32_t dst = src == 0x0a000001 ? 0x0a000002 : 0xc6130001;
	uint16_t sport = (uint16_t)(1024 + rnd(s) % 64);
	uint16_t dport = proto == 1 ? 8 << 8 : 443;
	e.orig = (struct ct_tuple){src, dst, sport, dport, proto};
	e.reply =
	    (struct ct_tuple){dst, src, proto == 1 ? sport : dport, proto == 1 ? 0 : sport, proto};
	e.zone = (uint16_t)(rnd(s) % 2);
	e.tcp_state = proto == 6 ? 1 : 0;
	e.status = 0x8;
	e.timeout = 120;
	return e;
}

static void kernel_event(struct sim *s, int i, bool feed)
{
	struct knode *n = &s->n[i];
	uint64_t r = rnd(s) % 100;
	if ((r < 40 && n->nk < KMAX) || n->nk == 0) {
		struct ct_entry e = sim_conn(s);
		uint64_t d = ctsync_digest(&e.orig, e.zone);
		for (size_t k = 0; k < n->nk; k++)
			if (ctsync_digest(&n->k[k].orig, n->k[k].zone) == d)
				return; /* it exists */
		n->k[n->nk++] = e;
		if (feed)
			assert_int_equal(ctsync_local(n->c, CT_EV_NEW, &e, s->now), 0);
	} else if (r < 80) {
		struct ct_entry *e = &n->k[rnd(s) % n->nk];
		switch (rnd(s) % 4) {
		case 0:
			e->tcp_state = (uint8_t)(rnd(s) % 10);
			break;
		case 1:
			e->status ^= 1u << (rnd(s) % 12);
			break;
		case 2:
			e->mark = (uint32_t)rnd(s);
			break;
		default:
			e->timeout = (uint32_t)(rnd(s) % 432000);
		}
		if (feed)
			assert_int_equal(ctsync_local(n->c, CT_EV_UPDATE, e, s->now), 0);
	} else {
		size_t k = rnd(s) % n->nk;
		struct ct_entry e = n->k[k];
		n->k[k] = n->k[--n->nk];
		if (feed)
			assert_int_equal(ctsync_local(n->c, CT_EV_DESTROY, &e, s->now), 0);
	}
}

static void sim_send(struct sim *s, int from)
{
	uint8_t buf[1400];
	size_t len;
	size_t cap = 200 + rnd(s) % 1200;
	while ((len = ctsync_next_message(s->n[from].c, buf, cap, s->now)) > 0) {
		for (int to = 0; to < NN; to++) {
			if (to == from || !s->n[to].alive)
				continue;
			if (s->nq == s->capq) {
				s->capq = s->capq ? 2 * s->capq : 256;
				s->q = realloc(s->q, s->capq * sizeof(*s->q));
				assert_non_null(s->q);
			}
			struct smsg *m = &s->q[s->nq++];
			m->at = s->now + DELAY_MS; /* one delay: FIFO per sender, as rbcast */
			m->from = from;
			m->to = to;
			m->lost = rndf(s) < s->loss;
			m->len = len;
			memcpy(m->buf, buf, len);
		}
	}
}

/* What the shell does with the journal: the same changes to its kernel. */
static void replay_journal(struct knode *n)
{
	size_t nc;
	bool lost;
	const struct ct_change *v = ctsync_changes(n->c, &nc, &lost);
	assert_false(lost);
	for (size_t i = 0; i < nc; i++) {
		uint64_t d = ctsync_digest(&v[i].e.orig, v[i].e.zone);
		size_t k = 0;
		while (k < n->nheld && !(n->held[k].origin == v[i].origin &&
					 ctsync_digest(&n->held[k].e.orig, n->held[k].e.zone) == d))
			k++;
		if (v[i].op == CT_CHG_SET) {
			if (k == n->nheld) {
				assert_true(n->nheld < NN * MAXE);
				n->nheld++;
			}
			n->held[k] = v[i];
		} else {
			assert_int_equal(v[i].op, CT_CHG_DEL);
			assert_true(k < n->nheld); /* only what was set goes */
			assert_true(ctsync_entry_eq(&n->held[k].e, &v[i].e));
			n->held[k] = n->held[--n->nheld];
		}
	}
	ctsync_changes_clear(n->c);
	(void)ctsync_changes(n->c, &nc, NULL);
	assert_int_equal(nc, 0);
}

static void sim_deliver(struct sim *s)
{
	size_t k = s->headq;
	for (; k < s->nq && s->q[k].at <= s->now; k++) {
		struct smsg *m = &s->q[k];
		struct knode *to = &s->n[m->to];
		if (!to->alive)
			continue;
		if (m->lost) {
			s->lost++;
			if (!s->silent)
				ctsync_out_of_sync(to->c, s->n[m->from].id, s->now);
			continue;
		}
		s->delivered++;
		assert_int_equal(ctsync_on_message(to->c, s->n[m->from].id, m->buf, m->len, s->now),
				 0);
		replay_journal(to);
	}
	s->headq = k;
	if (s->headq == s->nq)
		s->headq = s->nq = 0;
}

static void sim_step(struct sim *s)
{
	s->now++;
	for (int i = 0; i < NN; i++) {
		struct knode *n = &s->n[i];
		if (s->events && rnd(s) % 4 == 0)
			kernel_event(s, i, n->alive); /* a dead daemon misses them */
		if (!n->alive) {
			if (s->now >= n->back_at) {
				if (rnd(s) % 3 == 0)
					n->nk = 0; /* a reboot: the kernel forgot too */
				sim_start(s, i);
				s->restarts++;
			}
			continue;
		}
		if (s->churn && rnd(s) % 2000 == 0) {
			/* the daemon dies: the others see it go */
			ctsync_free(n->c);
			n->c = NULL;
			n->alive = false;
			n->back_at = s->now + 20 + rnd(s) % 300;
			for (int j = 0; j < NN; j++)
				if (j != i && s->n[j].alive)
					ctsync_node_down(s->n[j].c, n->id);
			continue;
		}
		if (s->events && rnd(s) % 1500 == 0) {
			/* ENOBUFS: some events lost, then dump and resync */
			for (int m = 0; m < 5; m++)
				kernel_event(s, i, false);
			ctsync_local_reset(n->c);
			for (size_t k = 0; k < n->nk; k++)
				assert_int_equal(ctsync_local(n->c, CT_EV_NEW, &n->k[k], s->now),
						 0);
			ctsync_resync_all(n->c, s->now);
			s->resets++;
		}
		if (s->now >= ctsync_next_deadline(n->c)) {
			ctsync_tick(n->c, s->now);
			assert_true(ctsync_next_deadline(n->c) > s->now);
		}
	}
	sim_deliver(s);
	for (int i = 0; i < NN; i++)
		if (s->n[i].alive)
			sim_send(s, i);
}

/* Every node's table is its kernel's (wanted part), and every other node's copy is it. */
static void sim_check(struct sim *s)
{
	for (int i = 0; i < NN; i++) {
		struct knode *n = &s->n[i];
		assert_true(n->alive);
		size_t wanted = 0;
		for (size_t k = 0; k < n->nk; k++) {
			if (!ctsync_wanted(n->c, &n->k[k]))
				continue;
			wanted++;
			const struct ct_entry *e =
			    ctsync_find(n->c, n->id, &n->k[k].orig, n->k[k].zone);
			assert_non_null(e);
			assert_true(ctsync_entry_eq(e, &n->k[k]));
		}
		assert_int_equal(ctsync_count(n->c, n->id), wanted);
		for (int j = 0; j < NN; j++)
			if (j != i)
				assert_true(same(n->c, n->id, s->n[j].c));
		/* the kernel the journal kept holds exactly the peers' tables */
		size_t peers = 0, cur = 0, missing = 0;
		while (ctsync_peer_next(n->c, &cur) != NULL)
			peers++;
		assert_int_equal(n->nheld, peers);
		for (size_t k = 0; k < n->nheld; k++) {
			const struct ct_entry *e = ctsync_find(
			    n->c, n->held[k].origin, &n->held[k].e.orig, n->held[k].e.zone);
			assert_non_null(e);
			assert_true(ctsync_entry_eq(e, &n->held[k].e));
		}
		cur = 0;
		while (ctsync_peer_next_missing(n->c, &cur) != NULL)
			missing++;
		assert_int_equal(missing, 0);
	}
}

static void sim_run(uint64_t seed, double loss, bool silent)
{
	struct sim *s = malloc(sizeof(*s));
	assert_non_null(s);
	sim_init(s, seed, loss, silent);
	/* events, loss and restarts */
	while (s->now < T0 + 6000)
		sim_step(s);
	/* the restarts stop; events and loss go on */
	s->churn = false;
	while (s->now < T0 + 7000 || !s->n[0].alive || !s->n[1].alive || !s->n[2].alive)
		sim_step(s);
	/* quiet: no events, no loss; a few check intervals */
	s->events = false;
	s->loss = 0;
	uint64_t end = s->now + 4 * SIM_IVL;
	while (s->now < end)
		sim_step(s);
	sim_check(s);
	uint64_t sent = 0, resyncs = 0, reqs = 0, agree = 0, disagree = 0;
	for (int i = 0; i < NN; i++) {
		const struct ctsync_stats *x = ctsync_stats(s->n[i].c);
		sent += x->msgs_out;
		resyncs += x->resyncs_sent;
		reqs += x->resync_reqs_sent;
		agree += x->checks_agree;
		disagree += x->checks_disagree;
		assert_int_equal(malformed_sum(s->n[i].c), 0);
		for (int j = 0; j < NN; j++) {
			if (j == i)
				continue;
			/* the last check of every origin agreed */
			for (size_t o = 0; o < ctsync_origins(s->n[i].c); o++) {
				struct ctsync_origin_view v;
				if (ctsync_origin(s->n[i].c, o, &v) == 0 && v.node == s->n[j].id)
					assert_int_equal(v.check, CT_CHECK_AGREE);
			}
		}
	}
	print_message("sim seed %llu loss %.0f%% %s: %llu restarts, %llu resets, %llu lost, "
		      "%llu delivered; last run: %llu msgs, %llu resyncs, %llu reqs, "
		      "checks %llu agree %llu disagree\n",
		      (unsigned long long)seed, loss * 100, silent ? "silent" : "reported",
		      (unsigned long long)s->restarts, (unsigned long long)s->resets,
		      (unsigned long long)s->lost, (unsigned long long)s->delivered,
		      (unsigned long long)sent, (unsigned long long)resyncs,
		      (unsigned long long)reqs, (unsigned long long)agree,
		      (unsigned long long)disagree);
	assert_true(s->restarts > 0);
	assert_true(s->lost > 0);
	sim_free(s);
	free(s);
}

static void test_sim_loss_reported(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= 4; seed++)
		sim_run(seed * 0x9e3779b97f4a7c15ULL, 0.05, false);
}

/* The layer below says nothing about the loss: the DIGEST check alone repairs it. */
static void test_sim_loss_silent(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= 4; seed++)
		sim_run(seed * 0xbf58476d1ce4e5b9ULL, 0.05, true);
}

/* Active-active: only the owner sends, marks travel, owners are counted. */
static void test_active_active_marks(void **st)
{
	(void)st;
	const uint16_t me = 0x0107, other = 0x0233;
	/* who sends what */
	assert_int_equal(ctsync_mark_owner(0x01070005), me);
	assert_int_equal(ctsync_mark_owner(0), 0);
	assert_true(ctsync_ours_to_send(false, 0, 0));
	assert_true(ctsync_ours_to_send(false, me, (uint32_t)other << 16));
	assert_true(ctsync_ours_to_send(true, me, (uint32_t)me << 16 | 5));
	assert_false(ctsync_ours_to_send(true, me, 0)); /* undecided */
	assert_false(ctsync_ours_to_send(true, me, 5)); /* bucket, no owner */
	assert_false(ctsync_ours_to_send(true, me, (uint32_t)other << 16 | 5)); /* another's */
	assert_false(ctsync_ours_to_send(true, 0, 0)); /* our id not known yet */
	assert_false(ctsync_ours_to_send(true, 0, (uint32_t)me << 16));
	/* conflicts: ours names us, the peer's names another */
	struct ct_entry ours = conn(1, 1000), peer = conn(1, 1000);
	ours.mark = (uint32_t)me << 16 | 5;
	peer.mark = (uint32_t)other << 16 | 5;
	assert_true(ctsync_mark_conflict(me, &ours, &peer));
	assert_false(ctsync_mark_conflict(me, &ours, &ours));
	assert_false(ctsync_mark_conflict(0, &ours, &peer));
	assert_false(ctsync_mark_conflict(me, &peer, &ours)); /* ours is not ours: no claim */
	/* the marks travel with NEW and UPDATE, and are counted by owner */
	struct ctsync *a = mk(1, 100, 0), *b = mk(2, 100, 0);
	for (uint16_t i = 0; i < 5; i++) {
		struct ct_entry e = conn(i + 1, 1000);
		e.mark = (uint32_t)(i < 3 ? me : other) << 16 | i;
		assert_int_equal(ctsync_local(a, CT_EV_NEW, &e, T0), 0);
	}
	struct ct_entry u = conn(5, 1000);
	u.mark = (uint32_t)me << 16 | 4; /* re-marked: now me's */
	assert_int_equal(ctsync_local(a, CT_EV_UPDATE, &u, T0), 0);
	carry(a, 1, &b, 1, T0);
	const struct ct_entry *got = ctsync_find(b, 1, &u.orig, u.zone);
	assert_non_null(got);
	assert_int_equal(got->mark, u.mark);
	struct ctsync_owner_count oc[4];
	size_t others = 99;
	size_t n = ctsync_owner_counts(b, 1, oc, 4, &others);
	assert_int_equal(n, 2);
	assert_int_equal(others, 0);
	assert_int_equal(oc[0].owner, me);
	assert_int_equal(oc[0].entries, 4);
	assert_int_equal(oc[1].owner, other);
	assert_int_equal(oc[1].entries, 1);
	/* past cap: summed */
	n = ctsync_owner_counts(b, 1, oc, 1, &others);
	assert_int_equal(n, 1);
	assert_int_equal(oc[0].entries + others, 5);
	/* ours, and an origin we hold nothing of */
	n = ctsync_owner_counts(a, 1, oc, 4, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(ctsync_owner_counts(b, 7, oc, 4, &others), 0);
	assert_int_equal(others, 0);
	ctsync_free(a);
	ctsync_free(b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_codec_round_trip),
	    cmocka_unit_test(test_coalescing),
	    cmocka_unit_test(test_delete_then_new),
	    cmocka_unit_test(test_batching),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_digest_check),
	    cmocka_unit_test(test_resync_req),
	    cmocka_unit_test(test_resync_end_drops_stale),
	    cmocka_unit_test(test_restart_generation),
	    cmocka_unit_test(test_max_entries),
	    cmocka_unit_test(test_cluster_events_and_takeover),
	    cmocka_unit_test(test_params_and_deadline),
	    cmocka_unit_test(test_journal),
	    cmocka_unit_test(test_sim_loss_reported),
	    cmocka_unit_test(test_sim_loss_silent),
	    cmocka_unit_test(test_active_active_marks),
	    cmocka_unit_test(test_set_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
