/*
 * libFuzzer target for core/ctsync.
 *
 * 1. The input as one message: what ctsync_msg_check accepts must encode
 *    back, record by record, to the same bytes (the format has one
 *    encoding); then it goes to ctsync_on_message of a node holding a few
 *    entries, whose malformed counters must add up to the refusals.
 * 2. The input as a script of operations on a sender c (id 1) with a
 *    receiver r (id 9): messages from other origins to c, local events,
 *    ticks, resets with a dump, cluster events, and exchanges of what c
 *    and r queue. Every message they produce must check and fit its cap;
 *    at the end, after a few check intervals of exchanges, r's copy of
 *    c's table must equal c's table.
 *
 * The seeds in tests/fuzz/corpus/ctsync/ are messages (step 1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctsync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define C_ID 1
#define R_ID 9
#define MAXE 16
#define IVL  100

static struct ctsync *node(uint32_t id, uint32_t max)
{
	static const struct ip4_prefix nets[] = {{0xc6120000, 15}};
	struct ctsync_params p = {.self_id = id,
				  .protocols = CTSYNC_TCP | CTSYNC_UDP | CTSYNC_ICMP,
				  .networks = nets,
				  .n_networks = 1,
				  .check_interval_ms = IVL,
				  .max_entries = max,
				  .generation = id * 1000,
				  .journal = true};
	return ctsync_new(&p, 1000);
}

static struct ct_entry entry(const uint8_t *b)
{
	static const uint8_t protos[4] = {6, 17, 1, 6};
	struct ct_entry e;
	memset(&e, 0, sizeof(e));
	e.orig.src = (b[0] & 0x80 ? 0x0a000000 : 0xc6120100) | (b[0] & 7);
	e.orig.dst = 0xc6120201;
	e.orig.sport = b[1] & 3;
	e.orig.dport = 80;
	e.orig.proto = protos[(b[0] >> 3) & 3];
	e.reply =
	    (struct ct_tuple){e.orig.dst, e.orig.src, e.orig.dport, e.orig.sport, e.orig.proto};
	e.tcp_state = b[2] & 7;
	e.status = b[3];
	e.timeout = b[2];
	return e;
}

static uint64_t malformed_sum(const struct ctsync *c)
{
	uint64_t n = ctsync_stats(c)->origins_full;
	for (int i = 0; i < CTM__COUNT; i++)
		n += ctsync_stats(c)->malformed[i];
	return n;
}

/* Everything from queued, into to: every message must check and be taken. */
static void pass(struct ctsync *from, uint32_t from_id, struct ctsync *to, size_t cap, uint64_t now)
{
	uint8_t buf[1500];
	enum ct_malformed why;
	size_t len;
	if (cap < CTSYNC_MIN_MSG)
		cap = CTSYNC_MIN_MSG;
	if (cap > sizeof(buf))
		cap = sizeof(buf);
	while ((len = ctsync_next_message(from, buf, cap, now)) > 0) {
		if (len > cap || ctsync_msg_check(buf, len, &why) != 0)
			__builtin_trap();
		if (ctsync_on_message(to, from_id, buf, len, now) != 0)
			__builtin_trap();
	}
}

static void round_trip(const uint8_t *data, size_t size)
{
	enum ct_malformed why;
	if (ctsync_msg_check(data, size, &why) != 0)
		return;
	uint8_t *out = malloc(size);
	if (out == NULL)
		return;
	size_t off = 0, o = ctsync_msg_begin(out, size);
	struct ct_rec r;
	int k;
	while ((k = ctsync_msg_next(data, size, &off, &r)) > 0) {
		size_t n = ctsync_rec_encode(&r, out + o, size - o);
		if (n == 0)
			__builtin_trap();
		o += n;
	}
	if (k < 0 || o != size || memcmp(out, data, size) != 0)
		__builtin_trap(); /* what checks must encode back the same */
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size);

	struct ctsync *c = node(C_ID, MAXE), *r = node(R_ID, 2 * MAXE);
	if (c == NULL || r == NULL) {
		ctsync_free(c);
		ctsync_free(r);
		return 0;
	}
	uint64_t now = 1000;
	for (uint8_t i = 0; i < 4; i++) {
		uint8_t b[4] = {i, i, 3, 8};
		struct ct_entry e = entry(b);
		(void)ctsync_local(c, CT_EV_NEW, &e, now);
	}
	uint64_t before = malformed_sum(c);
	if (ctsync_on_message(c, 2, data, size, now) != 0 && malformed_sum(c) != before + 1)
		__builtin_trap();

	size_t off = 0, cap = 1400;
	while (off < size) {
		uint8_t op = data[off++];
		if ((op & 7) == 0) { /* a message from another origin to c */
			size_t len = off < size ? data[off++] : 0;
			if (len > size - off)
				len = size - off;
			before = malformed_sum(c);
			if (ctsync_on_message(c, 2 + (op >> 3) % 4, data + off, len, now) != 0 &&
			    malformed_sum(c) != before + 1)
				__builtin_trap();
			off += len;
			continue;
		}
		uint8_t b[4] = {0};
		for (int i = 0; i < 4 && off < size; i++)
			b[i] = data[off++];
		struct ct_entry e = entry(b);
		switch (op & 7) {
		case 1:
		case 2:
		case 3:
			(void)ctsync_local(c, (enum ct_event)((op & 7) - 1), &e, now);
			break;
		case 4:
			now += b[0];
			ctsync_tick(c, now);
			ctsync_tick(r, now);
			break;
		case 5: { /* event loss: the kernel is dumped again */
			ctsync_local_reset(c);
			for (uint8_t i = 0; i < (b[1] & 15); i++) {
				uint8_t d[4] = {(uint8_t)(b[0] + i), (uint8_t)(b[2] + i), b[3], i};
				struct ct_entry x = entry(d);
				(void)ctsync_local(c, CT_EV_NEW, &x, now);
			}
			ctsync_resync_all(c, now);
			break;
		}
		case 6:
			if (b[0] & 1)
				ctsync_out_of_sync(c, R_ID, now);
			else if (b[0] & 2)
				ctsync_node_up(c, R_ID, now);
			else if (b[0] & 4)
				ctsync_node_down(c, 2 + b[1] % 4);
			else
				ctsync_forget(c, 2 + b[1] % 4);
			break;
		case 7:
			cap = CTSYNC_MIN_MSG + (size_t)b[0] * 8;
			pass(c, C_ID, r, cap, now);
			pass(r, R_ID, c, cap, now);
			break;
		}
		size_t cur = 0, nch;
		while (ctsync_peer_next(c, &cur) != NULL)
			;
		/* the journal: every SET names an entry its origin holds as it is now */
		const struct ct_change *ch = ctsync_changes(c, &nch, NULL);
		for (size_t i = 0; i < nch; i++)
			if (ch[i].op != CT_CHG_SET && ch[i].op != CT_CHG_DEL)
				__builtin_trap();
		if (nch && ch[nch - 1].op == CT_CHG_SET) {
			const struct ct_entry *h = ctsync_find(
			    c, ch[nch - 1].origin, &ch[nch - 1].e.orig, ch[nch - 1].e.zone);
			if (!h || !ctsync_entry_eq(h, &ch[nch - 1].e))
				__builtin_trap();
		}
		ctsync_changes_clear(c);
		(void)ctsync_peer_set_missing(c, &e.orig, e.zone, op & 8);
		cur = 0;
		while (ctsync_peer_next_missing(c, &cur) != NULL)
			;
		if ((op & 0xf0) == 0xf0)
			(void)ctsync_adopt(c, now);
	}
	/* a few check intervals of exchanges: r must hold what c holds */
	for (int i = 0; i < 4; i++) {
		pass(c, C_ID, r, cap, now);
		pass(r, R_ID, c, cap, now);
		now += IVL;
		ctsync_tick(c, now);
		ctsync_tick(r, now);
	}
	pass(c, C_ID, r, cap, now);
	pass(r, R_ID, c, cap, now);
	pass(c, C_ID, r, cap, now);
	if (ctsync_count(r, C_ID) != ctsync_count(c, C_ID))
		__builtin_trap();
	size_t cur = 0;
	const struct ct_entry *x;
	while ((x = ctsync_origin_next(c, C_ID, &cur)) != NULL) {
		const struct ct_entry *y = ctsync_find(r, C_ID, &x->orig, x->zone);
		if (y == NULL || !ctsync_entry_eq(x, y))
			__builtin_trap();
	}
	ctsync_free(c);
	ctsync_free(r);
	return 0;
}
