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
 *
 * The seeds in tests/fuzz/corpus/wire/ are datagrams sealed with FUZZ_KEY
 * (bytes 0..31), so step 1 reaches past the tag.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	return 0;
}
