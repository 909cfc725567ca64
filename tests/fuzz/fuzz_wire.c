/*
 * libFuzzer target for core/wire.
 *
 * 1. The input as a datagram: wire_open with a fixed key on a fresh
 *    receiver; on WR_OK the same datagram again must be WR_REPLAY, and
 *    the payload is walked as TLVs.
 * 2. The input as a payload: walk and decode its TLVs (each one that
 *    decodes must encode to the same bytes), then seal it in both modes
 *    and check it opens to the same bytes, and that a flipped byte never
 *    opens.
 * 3. The input as a payload from another node, into a cluster: every
 *    state TLV is passed up as a CA_STATE with its own bytes or counted
 *    by reason, never both; at most WIRE_STATE_SLOTS per datagram, each
 *    channel once.
 *
 * The seeds in tests/fuzz/corpus/wire/ are datagrams sealed with FUZZ_KEY
 * (bytes 0..31), so step 1 reaches past the tag.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELF 0xfffffff0u

static struct wire_key fuzz_key(void)
{
	struct wire_key k;
	for (int i = 0; i < WIRE_KEY_LEN; i++)
		k.k[i] = (uint8_t)i;
	return k;
}

/* Re-encode a decoded TLV: it must give back the bytes it came from. */
static void reencode(const struct tlv *t, int (*put)(struct tlv_writer *, const void *),
		     const void *val)
{
	uint8_t buf[3 + UINT16_MAX];
	struct tlv_writer w;

	tlv_writer_init(&w, buf, sizeof(buf));
	if (put(&w, val) != 0) {
		/* only data longer than one datagram's worth is refused */
		if (t->type != TLV_RB_DATA || (size_t)t->len - 8 <= WIRE_RB_MAX_DATA)
			abort();
		return;
	}
	if (w.len != 3 + (size_t)t->len || buf[0] != t->type || memcmp(buf + 3, t->v, t->len) != 0)
		abort();
}

static int put_hb(struct tlv_writer *w, const void *v)
{
	return wire_put_heartbeat(w, v);
}

static int put_data(struct tlv_writer *w, const void *v)
{
	return wire_put_rb_data(w, v);
}

static int put_nak(struct tlv_writer *w, const void *v)
{
	return wire_put_rb_nak(w, v);
}

static int put_gone(struct tlv_writer *w, const void *v)
{
	return wire_put_rb_gone(w, v);
}

static int put_state(struct tlv_writer *w, const void *v)
{
	return wire_put_state(w, v);
}

static void walk(const uint8_t *p, size_t len)
{
	size_t off = 0, prev = 0;
	struct tlv t;
	int rc;

	while ((rc = tlv_next(p, len, &off, &t)) == 1) {
		struct wire_heartbeat hb;
		struct wire_rb_data d;
		struct wire_rb_nak n;
		struct wire_rb_gone g;
		struct wire_state st;
		int ok = 0;

		if (off != prev + 3 + t.len || t.v != p + prev + 3 || off > len)
			abort();
		prev = off;
		if (wire_get_heartbeat(&t, &hb) == 0) {
			if (t.type != TLV_HEARTBEAT || hb.n_known > WIRE_MAX_PEERS)
				abort();
			reencode(&t, put_hb, &hb);
			ok++;
		}
		if (wire_get_rb_data(&t, &d) == 0) {
			if (t.type != TLV_RB_DATA || d.len + 8 != t.len || d.data != t.v + 8)
				abort();
			reencode(&t, put_data, &d);
			ok++;
		}
		if (wire_get_rb_nak(&t, &n) == 0) {
			if (t.type != TLV_RB_NAK || t.len != 20)
				abort();
			reencode(&t, put_nak, &n);
			ok++;
		}
		if (wire_get_rb_gone(&t, &g) == 0) {
			if (t.type != TLV_RB_GONE || t.len != 12)
				abort();
			reencode(&t, put_gone, &g);
			ok++;
		}
		enum wire_state_reason why = wire_get_state(&t, &st);
		if (why == WS_OK) {
			if (t.type != TLV_STATE || st.chan == 0 || st.len + 1 != t.len ||
			    st.len > WIRE_STATE_MAX || st.data != t.v + 1)
				abort();
			reencode(&t, put_state, &st);
			ok++;
		} else if (t.type != TLV_STATE ? why != WS__COUNT
					       : why != WS_NO_CHANNEL && why != WS_BAD_CHANNEL &&
						     why != WS_OVERSIZED) {
			abort();
		}
		if (ok > 1)
			abort();
	}
	if (rc == 0 && off != len)
		abort();
	if (rc == -1 && off != prev)
		abort();
}

static void open_as_datagram(const struct wire_key *key, const uint8_t *data, size_t size)
{
	static uint8_t plain[WIRE_MAX_PAYLOAD];
	struct wire_receiver *r = wire_receiver_new(SELF, key);
	struct wire_msg m;

	if (r == NULL)
		abort();
	enum wire_reason why = wire_open(r, data, size, &m, plain, sizeof(plain));
	if ((unsigned)why >= WR__COUNT || wire_reason_name(why) == NULL)
		abort();
	if (why == WR_OK) {
		if (m.len > WIRE_MAX_PAYLOAD || size != WIRE_HDR_LEN + m.len + WIRE_TAG_LEN ||
		    m.seq == 0 || m.sender == SELF)
			abort();
		walk(plain, m.len);
		if (wire_open(r, data, size, &m, plain, sizeof(plain)) != WR_REPLAY)
			abort();
	}
	wire_receiver_free(r);
}

static void seal_and_open(const struct wire_key *key, const uint8_t *data, size_t size)
{
	static uint8_t buf[WIRE_MAX_DATAGRAM], plain[WIRE_MAX_PAYLOAD];
	struct wire_receiver *r = wire_receiver_new(SELF, key);
	struct wire_sender s;
	struct wire_msg m;
	size_t len = size > WIRE_MAX_PAYLOAD ? WIRE_MAX_PAYLOAD : size;

	if (r == NULL)
		abort();
	for (int enc = 0; enc <= 1; enc++) {
		wire_sender_init(&s, 7, 100 + (uint64_t)enc, key, enc);
		s.next_seq = size + 1;
		size_t n = wire_seal(&s, data, len, buf, sizeof(buf));
		if (n != WIRE_HDR_LEN + len + WIRE_TAG_LEN)
			abort();
		if (size > 0) {
			/* any one flipped byte must not open, and must not count */
			size_t i = data[0] * 131u % n;
			buf[i] ^= (uint8_t)(1u << (data[size - 1] % 8));
			if (wire_open(r, buf, n, &m, plain, sizeof(plain)) == WR_OK)
				abort();
			buf[i] ^= (uint8_t)(1u << (data[size - 1] % 8));
		}
		if (wire_open(r, buf, n, &m, plain, sizeof(plain)) != WR_OK)
			abort();
		if (m.len != len || m.seq != size + 1 || m.sender != 7 || m.encrypted != enc ||
		    (len && memcmp(plain, data, len) != 0))
			abort();
		if (wire_open(r, buf, n, &m, plain, sizeof(plain)) != WR_REPLAY)
			abort();
	}
	wire_receiver_free(r);
}

/* The first state TLV on chan that decodes, in payload p, into *out. */
static bool first_state(const uint8_t *p, size_t len, uint8_t chan, struct wire_state *out)
{
	size_t off = 0;
	struct tlv t;
	while (tlv_next(p, len, &off, &t) == 1)
		if (t.type == TLV_STATE && wire_get_state(&t, out) == WS_OK && out->chan == chan)
			return true;
	return false;
}

static void into_cluster(const struct wire_key *key, const uint8_t *data, size_t size)
{
	static uint8_t buf[WIRE_MAX_DATAGRAM];
	size_t len = size > WIRE_MAX_PAYLOAD ? WIRE_MAX_PAYLOAD : size;
	struct cluster_params p = {.node_id = SELF,
				   .epoch = 1,
				   .key = *key,
				   .interval_ms = 100,
				   .dead_count = 3,
				   .send_buffer = 16};
	struct cluster *c = cluster_new(&p);
	struct cluster_actions out;
	struct wire_sender s;

	if (c == NULL)
		abort();
	cluster_actions_init(&out);
	wire_sender_init(&s, 7, 1, key, size % 2);
	size_t n = wire_seal(&s, data, len, buf, sizeof(buf));
	cluster_input(c, buf, n, 0, &out);

	/* the state TLVs the iterator reaches */
	size_t off = 0, tlvs = 0;
	struct tlv t;
	while (tlv_next(data, len, &off, &t) == 1)
		tlvs += t.type == TLV_STATE;
	const struct cluster_stats *st = cluster_stats(c);
	uint64_t refused = 0;
	for (int r = 0; r < WS__COUNT; r++)
		refused += st->state_drops[r];
	if (st->state_drops[WS_OK] != 0 || st->states_received + refused != tlvs ||
	    st->states_received > WIRE_STATE_SLOTS)
		abort();

	uint8_t seen[WIRE_STATE_SLOTS];
	size_t nseen = 0;
	for (size_t i = 0; i < out.n; i++) {
		const struct cluster_action *a = &out.v[i];
		struct wire_state want;
		if (a->type != CA_STATE) {
			if (a->chan != 0)
				abort();
			continue;
		}
		if (a->node != 7 || a->chan == 0 || a->len > WIRE_STATE_MAX ||
		    nseen == WIRE_STATE_SLOTS || memchr(seen, a->chan, nseen) != NULL)
			abort();
		seen[nseen++] = a->chan;
		if (!first_state(data, len, a->chan, &want) || want.len != a->len ||
		    memcmp(want.data, a->data, a->len) != 0)
			abort();
	}
	if (out.dropped == 0 && nseen != st->states_received)
		abort();
	cluster_actions_free(&out);
	cluster_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct wire_key key = fuzz_key();

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	open_as_datagram(&key, data, size);
	walk(data, size);
	seal_and_open(&key, data, size);
	into_cluster(&key, data, size);
	return 0;
}
