/*
 * Unit tests for core/wire: the datagram layout, its authentication in
 * both modes, the replay window, the peers table and the payload TLVs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "core/wire.h"

#define NODE_A 0x0a0b0c0du
#define NODE_B 0x00000002u
#define EPOCH  0x0102030405060708ull

static const struct wire_key KEY = {{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
				     0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
				     0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}};
static const struct wire_key OTHER_KEY = {{0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
					   0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
					   0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}};

static const uint8_t PAYLOAD[20] = "arpha wire payload!";

static uint8_t plain[WIRE_MAX_PAYLOAD];

static struct wire_receiver *recv_new(uint32_t self)
{
	struct wire_receiver *r = wire_receiver_new(self, &KEY);
	assert_non_null(r);
	return r;
}

static enum wire_reason open_dg(struct wire_receiver *r, const uint8_t *buf, size_t n)
{
	struct wire_msg m;
	return wire_open(r, buf, n, &m, plain, sizeof(plain));
}

/* Seal PAYLOAD from sender with the given seq. */
static size_t seal_seq(uint32_t sender, uint64_t epoch, uint64_t seq, bool enc, uint8_t *buf)
{
	struct wire_sender s;
	wire_sender_init(&s, sender, epoch, &KEY, enc);
	s.next_seq = seq;
	size_t n = wire_seal(&s, PAYLOAD, sizeof(PAYLOAD), buf, WIRE_MAX_DATAGRAM);
	assert_int_equal(n, WIRE_HDR_LEN + sizeof(PAYLOAD) + WIRE_TAG_LEN);
	return n;
}

static enum wire_reason send_seq(struct wire_receiver *r, uint32_t sender, uint64_t epoch,
				 uint64_t seq)
{
	uint8_t buf[WIRE_MAX_DATAGRAM];
	size_t n = seal_seq(sender, epoch, seq, true, buf);
	return open_dg(r, buf, n);
}

static void be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * An independent build of a datagram straight from the layout in wire.h,
 * with libsodium: any header (seq 0, bad reserved bits) can be made with
 * a valid tag.
 */
static size_t forge(const struct wire_key *k, uint8_t flags, uint16_t reserved, uint32_t sender,
		    uint64_t epoch, uint64_t seq, const uint8_t *p, size_t len, uint8_t *buf)
{
	uint8_t nonce[24] = {0}, dummy = 0;

	buf[0] = 'A';
	buf[1] = 'H';
	buf[2] = WIRE_VERSION;
	buf[3] = flags;
	be(buf + 4, sender, 4);
	be(buf + 8, epoch, 8);
	be(buf + 16, seq, 8);
	be(buf + 24, len, 2);
	be(buf + 26, reserved, 2);
	be(nonce, sender, 4);
	be(nonce + 4, epoch, 8);
	be(nonce + 12, seq, 8);
	if (flags & WIRE_F_ENCRYPTED) {
		crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		    buf + 28, buf + 28 + len, NULL, p, len, buf, 28, NULL, nonce, k->k);
	} else {
		memcpy(buf + 28, p, len);
		crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		    &dummy, buf + 28 + len, NULL, &dummy, 0, buf, 28 + len, NULL, nonce, k->k);
	}
	return 28 + len + 16;
}

/* ---- names ---- */

static void test_reason_names(void **state)
{
	static const char *const want[WR__COUNT] = {
	    "ok",	"truncated", "bad_magic", "bad_version", "bad_flags", "oversized",
	    "trailing", "bad_auth",  "own",	  "old_epoch",	 "replay",    "too_many_peers",
	};
	for (int i = 0; i < WR__COUNT; i++)
		assert_string_equal(wire_reason_name((enum wire_reason)i), want[i]);
	assert_string_equal(wire_reason_name(WR__COUNT), "unknown");
	assert_string_equal(wire_reason_name((enum wire_reason) - 1), "unknown");
}

/* ---- round trips ---- */

static void check_header_bytes(const uint8_t *buf, uint8_t flags, uint64_t seq, size_t len)
{
	uint8_t want[WIRE_HDR_LEN] = {
	    'A',  'H',	2,    flags, 0x0a, 0x0b, 0x0c, 0x0d, /* magic version flags sender */
	    0x01, 0x02, 0x03, 0x04,  0x05, 0x06, 0x07, 0x08, /* epoch */
	    0,	  0,	0,    0,     0,	   0,	 0,    0,    /* seq */
	    0,	  0,	0,    0,			     /* length, reserved */
	};
	be(want + 16, seq, 8);
	be(want + 24, len, 2);
	assert_memory_equal(buf, want, WIRE_HDR_LEN);
}

static void roundtrip(bool enc)
{
	struct wire_sender s;
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	struct wire_msg m;

	wire_sender_init(&s, NODE_A, EPOCH, &KEY, enc);
	assert_int_equal(s.next_seq, 1);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		size_t n = wire_seal(&s, PAYLOAD, sizeof(PAYLOAD), buf, sizeof(buf));
		assert_int_equal(n, 28 + sizeof(PAYLOAD) + 16);
		assert_int_equal(s.next_seq, seq + 1);
		check_header_bytes(buf, enc ? 0x01 : 0x00, seq, sizeof(PAYLOAD));
		if (enc)
			assert_memory_not_equal(buf + 28, PAYLOAD, sizeof(PAYLOAD));
		else
			assert_memory_equal(buf + 28, PAYLOAD, sizeof(PAYLOAD));

		memset(&m, 0xee, sizeof(m));
		memset(plain, 0, sizeof(plain));
		assert_int_equal(wire_open(r, buf, n, &m, plain, sizeof(plain)), WR_OK);
		assert_int_equal(m.sender, NODE_A);
		assert_true(m.epoch == EPOCH);
		assert_int_equal(m.seq, seq);
		assert_int_equal(m.encrypted, enc);
		assert_int_equal(m.len, sizeof(PAYLOAD));
		assert_memory_equal(plain, PAYLOAD, sizeof(PAYLOAD));
	}

	/* an empty payload: header and tag only */
	size_t n = wire_seal(&s, NULL, 0, buf, sizeof(buf));
	assert_int_equal(n, WIRE_HDR_LEN + WIRE_TAG_LEN);
	check_header_bytes(buf, enc ? 0x01 : 0x00, 4, 0);
	assert_int_equal(wire_open(r, buf, n, &m, plain, sizeof(plain)), WR_OK);
	assert_int_equal(m.len, 0);
	assert_int_equal(m.seq, 4);
	wire_receiver_free(r);
}

static void test_roundtrip_encrypted(void **state)
{
	roundtrip(true);
}

static void test_roundtrip_clear(void **state)
{
	roundtrip(false);
}

/* wire_seal builds exactly what the layout in wire.h describes. */
static void test_seal_matches_layout(void **state)
{
	uint8_t a[WIRE_MAX_DATAGRAM], b[WIRE_MAX_DATAGRAM];

	for (int enc = 0; enc <= 1; enc++) {
		size_t n = seal_seq(NODE_A, EPOCH, 77, enc, a);
		size_t m = forge(&KEY, enc ? WIRE_F_ENCRYPTED : 0, 0, NODE_A, EPOCH, 77, PAYLOAD,
				 sizeof(PAYLOAD), b);
		assert_int_equal(n, m);
		assert_memory_equal(a, b, n);
	}
}

/* A fixed vector: the format must not drift. */
static void test_known_answer(void **state)
{
	static const uint8_t want[] = {
	    0x41,
	    0x48,
	    0x02,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0x07,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x2a,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    0x01,
	    0x00,
	    0x03,
	    0x00,
	    0x00,
	    /* "abc" encrypted, then the tag (computed apart, with libsodium alone) */
	    0x26,
	    0xd5,
	    0x59,
	    0x57,
	    0x79,
	    0xae,
	    0x9b,
	    0xc5,
	    0xe1,
	    0xea,
	    0xf7,
	    0x5f,
	    0xe5,
	    0xe2,
	    0x07,
	    0x0d,
	    0x05,
	    0x9c,
	    0xc4,
	};
	struct wire_sender s;
	uint8_t buf[64];

	wire_sender_init(&s, 7, 42, &KEY, true);
	assert_int_equal(wire_seal(&s, (const uint8_t *)"abc", 3, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_seal_refuses(void **state)
{
	struct wire_sender s;
	uint8_t buf[WIRE_MAX_DATAGRAM + 8], big[WIRE_MAX_PAYLOAD + 1] = {0};

	wire_sender_init(&s, NODE_A, EPOCH, &KEY, true);
	assert_int_equal(wire_seal(&s, big, sizeof(big), buf, sizeof(buf)), 0);
	assert_int_equal(s.next_seq, 1);
	size_t need = 28 + sizeof(PAYLOAD) + 16;
	assert_int_equal(wire_seal(&s, PAYLOAD, sizeof(PAYLOAD), buf, need - 1), 0);
	assert_int_equal(s.next_seq, 1);
	assert_int_equal(wire_seal(&s, PAYLOAD, sizeof(PAYLOAD), buf, need), need);
	assert_int_equal(s.next_seq, 2);
	/* sequence numbers spent: the nonce would repeat */
	s.next_seq = 0;
	assert_int_equal(wire_seal(&s, PAYLOAD, sizeof(PAYLOAD), buf, sizeof(buf)), 0);
	assert_int_equal(s.next_seq, 0);
}

/* ---- sizes ---- */

static void test_max_datagram(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	struct wire_sender s;
	static uint8_t big[WIRE_MAX_PAYLOAD], buf[WIRE_MAX_DATAGRAM + 1];
	struct wire_msg m;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	for (int enc = 0; enc <= 1; enc++) {
		wire_sender_init(&s, NODE_A, EPOCH + enc, &KEY, enc);
		size_t n = wire_seal(&s, big, sizeof(big), buf, sizeof(buf));
		assert_int_equal(n, WIRE_MAX_DATAGRAM);
		/* one byte more: too long for any datagram */
		buf[n] = 0;
		assert_int_equal(open_dg(r, buf, n + 1), WR_OVERSIZED);
		assert_int_equal(wire_open(r, buf, n, &m, plain, sizeof(plain)), WR_OK);
		assert_int_equal(m.len, WIRE_MAX_PAYLOAD);
		assert_memory_equal(plain, big, sizeof(big));
	}

	/* a length field past WIRE_MAX_PAYLOAD, in a datagram of fitting size */
	size_t n = forge(&KEY, 0, 0, NODE_A, EPOCH + 5, 1, big, 10, buf);
	be(buf + 24, WIRE_MAX_PAYLOAD + 1, 2);
	assert_int_equal(open_dg(r, buf, n), WR_OVERSIZED);
	be(buf + 24, 0xffff, 2);
	assert_int_equal(open_dg(r, buf, n), WR_OVERSIZED);
	wire_receiver_free(r);
}

static void test_truncated_and_trailing(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM];

	assert_int_equal(open_dg(r, buf, 0), WR_TRUNCATED);
	size_t n = seal_seq(NODE_A, EPOCH, 1, true, buf);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(open_dg(r, buf, cut), WR_TRUNCATED);
	buf[n] = 0;
	assert_int_equal(open_dg(r, buf, n + 1), WR_TRAILING);
	assert_int_equal(open_dg(r, buf, n), WR_OK);
	wire_receiver_free(r);
}

static void test_header_field_reasons(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM], c[WIRE_MAX_DATAGRAM];
	size_t n = seal_seq(NODE_A, EPOCH, 1, false, buf);

	memcpy(c, buf, n);
	c[0] = 'X';
	assert_int_equal(open_dg(r, c, n), WR_BAD_MAGIC);
	memcpy(c, buf, n);
	c[2] = WIRE_VERSION + 1;
	assert_int_equal(open_dg(r, c, n), WR_BAD_VERSION);
	memcpy(c, buf, n);
	c[2] = 1; /* version 1: one state blob, without channels */
	assert_int_equal(open_dg(r, c, n), WR_BAD_VERSION);
	memcpy(c, buf, n);
	c[3] = 0x02;
	assert_int_equal(open_dg(r, c, n), WR_BAD_FLAGS);
	memcpy(c, buf, n);
	c[27] = 1;
	assert_int_equal(open_dg(r, c, n), WR_BAD_FLAGS);

	/* even with a valid tag, unknown flags and reserved bits are refused */
	n = forge(&KEY, 0x80, 0, NODE_A, EPOCH, 2, PAYLOAD, sizeof(PAYLOAD), c);
	assert_int_equal(open_dg(r, c, n), WR_BAD_FLAGS);
	n = forge(&KEY, WIRE_F_ENCRYPTED, 0x0100, NODE_A, EPOCH, 2, PAYLOAD, sizeof(PAYLOAD), c);
	assert_int_equal(open_dg(r, c, n), WR_BAD_FLAGS);

	n = forge(&KEY, WIRE_F_ENCRYPTED, 0, NODE_A, EPOCH, 2, PAYLOAD, sizeof(PAYLOAD), c);
	assert_int_equal(open_dg(r, c, n), WR_OK);
	wire_receiver_free(r);
}

/* The reason a flipped header byte must give. */
static enum wire_reason expect_flip(const uint8_t *c, size_t n, size_t i)
{
	size_t plen = (size_t)c[24] << 8 | c[25];

	switch (i) {
	case 0:
	case 1:
		return WR_BAD_MAGIC;
	case 2:
		return WR_BAD_VERSION;
	case 3:
		return (c[3] & ~WIRE_F_ENCRYPTED) ? WR_BAD_FLAGS : WR_BAD_AUTH;
	case 24:
	case 25:
		if (plen > WIRE_MAX_PAYLOAD)
			return WR_OVERSIZED;
		return 28 + plen + 16 > n ? WR_TRUNCATED : WR_TRAILING;
	case 26:
	case 27:
		return WR_BAD_FLAGS;
	default:
		return WR_BAD_AUTH;
	}
}

/* Every header, payload and tag byte is authenticated, in both modes. */
static void test_every_byte_authenticated(void **state)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};

	for (int enc = 0; enc <= 1; enc++) {
		struct wire_receiver *r = recv_new(NODE_B);
		uint8_t buf[WIRE_MAX_DATAGRAM], c[WIRE_MAX_DATAGRAM];
		size_t n = seal_seq(NODE_A, EPOCH, 9, enc, buf);

		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k < sizeof(masks); k++) {
				memcpy(c, buf, n);
				c[i] ^= masks[k];
				enum wire_reason got = open_dg(r, c, n);
				assert_int_not_equal(got, WR_OK);
				assert_int_equal(got, expect_flip(c, n, i));
			}
		}
		/* none of that moved anything: the genuine one is accepted, once */
		assert_int_equal(open_dg(r, buf, n), WR_OK);
		assert_int_equal(open_dg(r, buf, n), WR_REPLAY);
		wire_receiver_free(r);
	}
}

static void test_wrong_key(void **state)
{
	struct wire_receiver *r = wire_receiver_new(NODE_B, &OTHER_KEY);
	uint8_t buf[WIRE_MAX_DATAGRAM];

	assert_non_null(r);
	for (int enc = 0; enc <= 1; enc++) {
		size_t n = seal_seq(NODE_A, EPOCH, 1, enc, buf);
		assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	}
	wire_receiver_free(r);
}

/* A rotation: the next key opens too, counted; without it, refused; swapped, both still open. */
static void test_next_key(void **state)
{
	struct wire_receiver *r = wire_receiver_new(NODE_B, &OTHER_KEY);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	assert_non_null(r);
	size_t n = seal_seq(NODE_A, EPOCH, 1, true, buf); /* sealed with KEY */
	assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	wire_receiver_set_keys(r, &OTHER_KEY, &KEY);
	assert_int_equal(open_dg(r, buf, n), WR_OK);
	assert_int_equal(wire_receiver_next_key_opens(r), 1);
	wire_receiver_set_keys(r, &KEY, &OTHER_KEY);
	n = seal_seq(NODE_A, EPOCH, 2, false, buf);
	assert_int_equal(open_dg(r, buf, n), WR_OK);
	assert_int_equal(wire_receiver_next_key_opens(r), 1); /* opened with the first key */
	wire_receiver_set_keys(r, &OTHER_KEY, NULL);
	n = seal_seq(NODE_A, EPOCH, 3, true, buf);
	assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	wire_receiver_free(r);
}

static void test_own(void **state)
{
	struct wire_receiver *r = recv_new(NODE_A);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	size_t n = seal_seq(NODE_A, EPOCH, 1, true, buf);

	assert_int_equal(open_dg(r, buf, n), WR_OWN);
	/* a forged one with our ID and a bad tag is a forgery, not our own */
	buf[n - 1] ^= 1;
	assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	wire_receiver_free(r);
}

static void test_open_cap(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM], small[sizeof(PAYLOAD)];
	struct wire_msg m;
	size_t n = seal_seq(NODE_A, EPOCH, 1, true, buf);

	assert_int_equal(wire_open(r, buf, n, &m, small, sizeof(small) - 1), WR_OVERSIZED);
	assert_int_equal(wire_open(r, buf, n, &m, small, sizeof(small)), WR_OK);
	assert_memory_equal(small, PAYLOAD, sizeof(PAYLOAD));
	wire_receiver_free(r);
}

/* ---- replay ---- */

static void test_replay_same_twice(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM];

	for (int enc = 0; enc <= 1; enc++) {
		size_t n = seal_seq(NODE_A, EPOCH, 1 + enc, enc, buf);
		assert_int_equal(open_dg(r, buf, n), WR_OK);
		memset(plain, 0xaa, sizeof(PAYLOAD));
		assert_int_equal(open_dg(r, buf, n), WR_REPLAY);
		/* a refused datagram leaves no plaintext behind */
		assert_memory_not_equal(plain, PAYLOAD, sizeof(PAYLOAD));
	}
	wire_receiver_free(r);
}

static void test_replay_out_of_order(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	static const uint64_t order[] = {5, 3, 1, 4, 2, 70, 6, 69, 7, 200, 8};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(send_seq(r, NODE_A, EPOCH, order[i]), WR_OK);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(send_seq(r, NODE_A, EPOCH, order[i]), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 9), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 199), WR_OK);
	wire_receiver_free(r);
}

static void test_replay_window_edge(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint64_t hi = 5000;

	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi), WR_OK);
	/* highest - WIRE_REPLAY_WINDOW + 1 is the oldest still in the window */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi - WIRE_REPLAY_WINDOW), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi - WIRE_REPLAY_WINDOW + 1), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi - WIRE_REPLAY_WINDOW + 1), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 1), WR_REPLAY);

	/* slide by exactly 64 (a word) and by the window minus one */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + 64), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + 1), WR_OK);
	hi += 64;
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + WIRE_REPLAY_WINDOW - 1), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi), WR_REPLAY);	 /* bit 1023, still set */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi - 1), WR_REPLAY); /* behind */
	hi += WIRE_REPLAY_WINDOW - 1;
	/* a jump beyond the window forgets everything behind it */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + WIRE_REPLAY_WINDOW), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + 1), WR_OK);
	/* seq near the top of the range does not wrap */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, UINT64_MAX), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, UINT64_MAX), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, UINT64_MAX - 1), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi + 2), WR_REPLAY);
	wire_receiver_free(r);
}

/* Against a model: accepted iff not seen and not behind the window. */
static void test_replay_model(void **state)
{
	enum { RANGE = 400000 };
	static bool seen[RANGE];
	struct wire_receiver *r = recv_new(NODE_B);
	uint64_t x = 0x9e3779b97f4a7c15ull, hi = 5000;
	int n_ok = 0, n_seen = 0, n_behind = 0;

	memset(seen, 0, sizeof(seen));
	assert_int_equal(send_seq(r, NODE_A, EPOCH, hi), WR_OK);
	seen[hi] = true;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* mostly around the window's lower edge and inside it, sometimes a jump */
		uint64_t seq;
		if ((x >> 48) % 256 == 0)
			seq = hi + 1 + (x % 1500);
		else
			seq = hi + 60 - (x % 1160);
		assert_true(seq >= 1 && seq < RANGE);
		bool ok = !seen[seq] && seq + WIRE_REPLAY_WINDOW > hi;
		assert_int_equal(send_seq(r, NODE_A, EPOCH, seq), ok ? WR_OK : WR_REPLAY);
		n_ok += ok;
		n_seen += !ok && seen[seq];
		n_behind += !ok && !seen[seq];
		if (ok) {
			seen[seq] = true;
			if (seq > hi)
				hi = seq;
		}
	}
	/* the walk met every case many times */
	assert_true(n_ok > 1000 && n_seen > 1000 && n_behind > 500);
	wire_receiver_free(r);
}

static void test_seq_zero(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM];

	/* an authentic seq 0: no sender makes one; it is behind every window */
	size_t n = forge(&KEY, WIRE_F_ENCRYPTED, 0, NODE_A, EPOCH, 0, PAYLOAD, 4, buf);
	assert_int_equal(open_dg(r, buf, n), WR_REPLAY);
	/* and it took no peer slot: the sender's first real one starts its window */
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 1), WR_OK);
	n = forge(&KEY, 0, 0, NODE_A, EPOCH, 0, PAYLOAD, 4, buf);
	assert_int_equal(open_dg(r, buf, n), WR_REPLAY);
	wire_receiver_free(r);
}

static void test_epochs(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);

	for (uint64_t seq = 1; seq <= 10; seq++)
		assert_int_equal(send_seq(r, NODE_A, 5, seq), WR_OK);
	/* restarted: a new window from seq 1 */
	assert_int_equal(send_seq(r, NODE_A, 6, 1), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, 6, 1), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, 6, 2), WR_OK);
	/* the old incarnation is gone */
	assert_int_equal(send_seq(r, NODE_A, 5, 11), WR_OLD_EPOCH);
	assert_int_equal(send_seq(r, NODE_A, 5, 3), WR_OLD_EPOCH);
	/* a restart into a high seq, then back to the window */
	assert_int_equal(send_seq(r, NODE_A, 7, 3000), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, 7, 2999), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, 7, 1), WR_REPLAY);
	assert_int_equal(send_seq(r, NODE_A, 6, 3), WR_OLD_EPOCH);
	/* other senders keep their own epochs */
	assert_int_equal(send_seq(r, 99, 1, 1), WR_OK);
	wire_receiver_free(r);
}

static void test_too_many_peers(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);

	for (uint32_t id = 100; id < 100 + WIRE_MAX_PEERS; id++)
		assert_int_equal(send_seq(r, id, EPOCH, 1), WR_OK);
	assert_int_equal(send_seq(r, 1000, EPOCH, 1), WR_TOO_MANY_PEERS);
	assert_int_equal(send_seq(r, 1000, EPOCH, 2), WR_TOO_MANY_PEERS);
	/* the refusal took no slot and the known ones go on */
	for (uint32_t id = 100; id < 100 + WIRE_MAX_PEERS; id++) {
		assert_int_equal(send_seq(r, id, EPOCH, 1), WR_REPLAY);
		assert_int_equal(send_seq(r, id, EPOCH, 2), WR_OK);
	}
	assert_int_equal(send_seq(r, 1001, EPOCH + 1, 1), WR_TOO_MANY_PEERS);
	wire_receiver_free(r);
}

/* Forgeries and refusals leave the receiver as it was. */
static void test_failure_changes_nothing(void **state)
{
	struct wire_receiver *r = recv_new(NODE_B);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	size_t n;

	assert_int_equal(send_seq(r, NODE_A, EPOCH, 1), WR_OK);
	for (int enc = 0; enc <= 1; enc++) {
		/* a huge seq with a bad tag must not slide the window */
		n = seal_seq(NODE_A, EPOCH, 1ull << 40, enc, buf);
		buf[n - 3] ^= 0x40;
		assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
		/* a newer epoch with a bad tag must not reset it */
		n = seal_seq(NODE_A, EPOCH + 1, 1, enc, buf);
		buf[30] ^= 0x01;
		assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
		/* nor a new sender take a slot */
		n = seal_seq(NODE_A + 1, EPOCH, 1, enc, buf);
		buf[n - 1] ^= 0x80;
		assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	}
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 2), WR_OK);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 1), WR_REPLAY);

	/* a refused old epoch or replay does not mark anything */
	assert_int_equal(send_seq(r, NODE_A, EPOCH - 1, 3), WR_OLD_EPOCH);
	assert_int_equal(send_seq(r, NODE_A, EPOCH, 3), WR_OK);

	/* fill the table with forgeries: none takes a slot */
	for (uint32_t id = 200; id < 200 + 2 * WIRE_MAX_PEERS; id++) {
		n = seal_seq(id, EPOCH, 1, true, buf);
		buf[5] ^= 0x01; /* sender byte: tag no longer matches */
		assert_int_equal(open_dg(r, buf, n), WR_BAD_AUTH);
	}
	for (uint32_t id = 300; id < 300 + WIRE_MAX_PEERS - 1; id++)
		assert_int_equal(send_seq(r, id, EPOCH, 1), WR_OK);
	assert_int_equal(send_seq(r, 999, EPOCH, 1), WR_TOO_MANY_PEERS);
	wire_receiver_free(r);
}

static void test_free_null(void **state)
{
	wire_receiver_free(NULL);
}

/* ---- TLVs ---- */

static void test_tlv_writer_bytes(void **state)
{
	uint8_t buf[256];
	struct tlv_writer w;
	struct wire_heartbeat hb = {.interval_ms = 0x01020304,
				    .rb_next = 0x1112131415161718ull,
				    .n_known = 2,
				    .known = {0xa1a2a3a4, 0xb1b2b3b4}};
	struct wire_rb_data d = {
	    .seq = 0x2122232425262728ull, .data = (const uint8_t *)"xy", .len = 2};
	struct wire_rb_nak nk = {
	    .origin = 0x31323334, .first = 0x4142434445464748ull, .last = 0x5152535455565758ull};
	struct wire_rb_gone g = {.origin = 0x61626364, .oldest = 0x7172737475767778ull};
	static const uint8_t want[] = {
	    /* heartbeat: 14 + 2 * 4 = 22 */
	    0x01,
	    0x00,
	    0x16,
	    0x01,
	    0x02,
	    0x03,
	    0x04,
	    0x11,
	    0x12,
	    0x13,
	    0x14,
	    0x15,
	    0x16,
	    0x17,
	    0x18,
	    0x00,
	    0x02,
	    0xa1,
	    0xa2,
	    0xa3,
	    0xa4,
	    0xb1,
	    0xb2,
	    0xb3,
	    0xb4,
	    /* data: 8 + 2 */
	    0x02,
	    0x00,
	    0x0a,
	    0x21,
	    0x22,
	    0x23,
	    0x24,
	    0x25,
	    0x26,
	    0x27,
	    0x28,
	    'x',
	    'y',
	    /* nak: 20 */
	    0x03,
	    0x00,
	    0x14,
	    0x31,
	    0x32,
	    0x33,
	    0x34,
	    0x41,
	    0x42,
	    0x43,
	    0x44,
	    0x45,
	    0x46,
	    0x47,
	    0x48,
	    0x51,
	    0x52,
	    0x53,
	    0x54,
	    0x55,
	    0x56,
	    0x57,
	    0x58,
	    /* gone: 12 */
	    0x04,
	    0x00,
	    0x0c,
	    0x61,
	    0x62,
	    0x63,
	    0x64,
	    0x71,
	    0x72,
	    0x73,
	    0x74,
	    0x75,
	    0x76,
	    0x77,
	    0x78,
	};

	tlv_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(w.len, 0);
	assert_false(w.overflow);
	assert_int_equal(wire_put_heartbeat(&w, &hb), 0);
	assert_int_equal(wire_put_rb_data(&w, &d), 0);
	assert_int_equal(wire_put_rb_nak(&w, &nk), 0);
	assert_int_equal(wire_put_rb_gone(&w, &g), 0);
	assert_false(w.overflow);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* and back */
	struct tlv t;
	size_t off = 0;
	struct wire_heartbeat hb2;
	struct wire_rb_data d2;
	struct wire_rb_nak nk2;
	struct wire_rb_gone g2;

	assert_int_equal(tlv_next(buf, w.len, &off, &t), 1);
	assert_int_equal(t.type, TLV_HEARTBEAT);
	assert_int_equal(wire_get_heartbeat(&t, &hb2), 0);
	assert_int_equal(hb2.interval_ms, hb.interval_ms);
	assert_true(hb2.rb_next == hb.rb_next);
	assert_int_equal(hb2.n_known, 2);
	assert_int_equal(hb2.known[0], 0xa1a2a3a4);
	assert_int_equal(hb2.known[1], 0xb1b2b3b4);
	assert_int_equal(hb2.known[2], 0);

	assert_int_equal(tlv_next(buf, w.len, &off, &t), 1);
	assert_int_equal(wire_get_rb_data(&t, &d2), 0);
	assert_true(d2.seq == d.seq);
	assert_int_equal(d2.len, 2);
	assert_memory_equal(d2.data, "xy", 2);
	assert_ptr_equal(d2.data, buf + 25 + 3 + 8);

	assert_int_equal(tlv_next(buf, w.len, &off, &t), 1);
	assert_int_equal(wire_get_rb_nak(&t, &nk2), 0);
	assert_int_equal(nk2.origin, nk.origin);
	assert_true(nk2.first == nk.first && nk2.last == nk.last);

	assert_int_equal(tlv_next(buf, w.len, &off, &t), 1);
	assert_int_equal(wire_get_rb_gone(&t, &g2), 0);
	assert_int_equal(g2.origin, g.origin);
	assert_true(g2.oldest == g.oldest);

	assert_int_equal(tlv_next(buf, w.len, &off, &t), 0);
	assert_int_equal(off, w.len);
}

static void test_tlv_writer_overflow(void **state)
{
	uint8_t buf[64];
	struct tlv_writer w;
	struct wire_rb_nak nk = {1, 2, 3};
	struct wire_rb_gone g = {1, 2};

	/* a nak is 23 bytes: two fit in 46, a third does not */
	tlv_writer_init(&w, buf, 46 + 14);
	assert_int_equal(wire_put_rb_nak(&w, &nk), 0);
	assert_int_equal(wire_put_rb_nak(&w, &nk), 0);
	assert_int_equal(w.len, 46);
	memset(buf + 46, 0xaa, sizeof(buf) - 46);
	assert_int_equal(wire_put_rb_nak(&w, &nk), -1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 46);
	assert_int_equal(buf[46], 0xaa); /* nothing written */
	/* nor a gone (15): 46 + 15 > 60 */
	assert_int_equal(wire_put_rb_gone(&w, &g), -1);
	assert_int_equal(w.len, 46);
	/* exactly the capacity fits */
	tlv_writer_init(&w, buf, 15);
	assert_int_equal(wire_put_rb_gone(&w, &g), 0);
	assert_int_equal(w.len, 15);
	assert_false(w.overflow);
	assert_int_equal(wire_put_rb_gone(&w, &g), -1);
	assert_true(w.overflow);

	/* zero capacity */
	struct wire_heartbeat hb = {.n_known = 0};
	struct wire_rb_data d = {.seq = 1, .data = NULL, .len = 0};
	tlv_writer_init(&w, buf, 0);
	assert_int_equal(wire_put_heartbeat(&w, &hb), -1);
	assert_true(w.overflow);
	w.overflow = false;
	assert_int_equal(wire_put_rb_data(&w, &d), -1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
	tlv_writer_init(&w, buf, 11);
	assert_int_equal(wire_put_rb_data(&w, &d), 0); /* empty data: 3 + 8 */
	assert_int_equal(w.len, 11);
}

static void test_tlv_put_invalid(void **state)
{
	static uint8_t buf[2 * WIRE_MAX_DATAGRAM], data[WIRE_RB_MAX_DATA + 1];
	struct tlv_writer w;
	struct wire_heartbeat hb = {.n_known = WIRE_MAX_PEERS + 1};

	/* never encodable: refused, and not reported as "start a new datagram" */
	tlv_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(wire_put_heartbeat(&w, &hb), -1);
	assert_false(w.overflow);
	assert_int_equal(w.len, 0);
	struct wire_rb_data d = {.seq = 1, .data = data, .len = WIRE_RB_MAX_DATA + 1};
	assert_int_equal(wire_put_rb_data(&w, &d), -1);
	assert_false(w.overflow);
	assert_int_equal(w.len, 0);

	/* the largest heartbeat and the largest data fit one payload */
	hb.n_known = WIRE_MAX_PEERS;
	assert_int_equal(wire_put_heartbeat(&w, &hb), 0);
	assert_int_equal(w.len, 3 + 14 + 4 * WIRE_MAX_PEERS);
	tlv_writer_init(&w, buf, WIRE_MAX_PAYLOAD);
	d.len = WIRE_RB_MAX_DATA;
	assert_int_equal(wire_put_rb_data(&w, &d), 0);
	assert_int_equal(w.len, WIRE_MAX_PAYLOAD);
}

static void test_tlv_next_malformed(void **state)
{
	struct tlv t;
	size_t off;
	/* unknown type 9 with 2 bytes, an empty type 7, then a heartbeat claiming 5 of 4 */
	static const uint8_t p[] = {9, 0, 2, 0xaa, 0xbb, 7, 0, 0, 1, 0, 5, 1, 2, 3, 4};

	off = 0;
	assert_int_equal(tlv_next(p, 0, &off, &t), 0);
	assert_int_equal(tlv_next(NULL, 0, &off, &t), 0);

	off = 0;
	assert_int_equal(tlv_next(p, sizeof(p), &off, &t), 1);
	assert_int_equal(t.type, 9);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.v, p + 3);
	assert_int_equal(off, 5);
	assert_int_equal(tlv_next(p, sizeof(p), &off, &t), 1);
	assert_int_equal(t.type, 7);
	assert_int_equal(t.len, 0);
	assert_int_equal(off, 8);
	assert_int_equal(tlv_next(p, sizeof(p), &off, &t), -1);
	assert_int_equal(off, 8); /* unchanged */
	/* the length one byte shorter: it ends exactly at the end */
	uint8_t q[sizeof(p)];
	memcpy(q, p, sizeof(p));
	q[10] = 4;
	assert_int_equal(tlv_next(q, sizeof(q), &off, &t), 1);
	assert_int_equal(off, sizeof(q));
	assert_int_equal(tlv_next(q, sizeof(q), &off, &t), 0);

	/* a header cut short: 1 or 2 bytes left */
	off = 5;
	assert_int_equal(tlv_next(p, 6, &off, &t), -1);
	assert_int_equal(tlv_next(p, 7, &off, &t), -1);
	assert_int_equal(off, 5);
	/* an offset past the end */
	off = sizeof(p) + 1;
	assert_int_equal(tlv_next(p, sizeof(p), &off, &t), -1);
	/* the largest length, far past the end */
	static const uint8_t big[] = {2, 0xff, 0xff, 0};
	off = 0;
	assert_int_equal(tlv_next(big, sizeof(big), &off, &t), -1);
	assert_int_equal(off, 0);
}

static struct tlv mk(uint8_t type, const uint8_t *v, uint16_t len)
{
	struct tlv t = {.type = type, .len = len, .v = v};
	return t;
}

static void test_get_heartbeat(void **state)
{
	uint8_t v[14 + 4 * (WIRE_MAX_PEERS + 1)];
	struct wire_heartbeat hb;
	struct tlv t;

	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)i;
	/* n = 0 */
	v[12] = 0;
	v[13] = 0;
	t = mk(TLV_HEARTBEAT, v, 14);
	assert_int_equal(wire_get_heartbeat(&t, &hb), 0);
	assert_int_equal(hb.interval_ms, 0x00010203);
	assert_true(hb.rb_next == 0x0405060708090a0bull);
	assert_int_equal(hb.n_known, 0);
	/* n = 3 */
	v[13] = 3;
	t = mk(TLV_HEARTBEAT, v, 14 + 12);
	assert_int_equal(wire_get_heartbeat(&t, &hb), 0);
	assert_int_equal(hb.n_known, 3);
	assert_int_equal(hb.known[0], 0x0e0f1011);
	assert_int_equal(hb.known[2], 0x16171819);
	/* length and n disagree */
	t = mk(TLV_HEARTBEAT, v, 14 + 11);
	assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
	t = mk(TLV_HEARTBEAT, v, 14 + 13);
	assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
	t = mk(TLV_HEARTBEAT, v, 14 + 16);
	assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
	/* shorter than the fixed part */
	for (uint16_t l = 0; l < 14; l++) {
		t = mk(TLV_HEARTBEAT, v, l);
		assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
	}
	/* wrong type */
	t = mk(TLV_RB_DATA, v, 14 + 12);
	assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
	/* n = WIRE_MAX_PEERS is the most; one more is refused even when the length agrees */
	v[12] = 0;
	v[13] = WIRE_MAX_PEERS;
	t = mk(TLV_HEARTBEAT, v, 14 + 4 * WIRE_MAX_PEERS);
	assert_int_equal(wire_get_heartbeat(&t, &hb), 0);
	assert_int_equal(hb.n_known, WIRE_MAX_PEERS);
	v[13] = WIRE_MAX_PEERS + 1;
	t = mk(TLV_HEARTBEAT, v, 14 + 4 * (WIRE_MAX_PEERS + 1));
	assert_int_equal(wire_get_heartbeat(&t, &hb), -1);
}

static void test_get_rb_data(void **state)
{
	uint8_t v[16] = {0, 0, 0, 0, 0, 0, 1, 2, 'h', 'e', 'l', 'l', 'o', '!', '!', '!'};
	struct wire_rb_data d;
	struct tlv t;

	t = mk(TLV_RB_DATA, v, 8);
	assert_int_equal(wire_get_rb_data(&t, &d), 0);
	assert_int_equal(d.seq, 0x0102);
	assert_int_equal(d.len, 0);
	t = mk(TLV_RB_DATA, v, 16);
	assert_int_equal(wire_get_rb_data(&t, &d), 0);
	assert_int_equal(d.len, 8);
	assert_ptr_equal(d.data, v + 8);
	t = mk(TLV_RB_DATA, v, 7);
	assert_int_equal(wire_get_rb_data(&t, &d), -1);
	t = mk(TLV_RB_DATA, v, 0);
	assert_int_equal(wire_get_rb_data(&t, &d), -1);
	t = mk(TLV_RB_NAK, v, 16);
	assert_int_equal(wire_get_rb_data(&t, &d), -1);
}

static void test_get_rb_nak_gone(void **state)
{
	uint8_t v[21];
	struct wire_rb_nak n;
	struct wire_rb_gone g;
	struct tlv t;

	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i + 1);
	t = mk(TLV_RB_NAK, v, 20);
	assert_int_equal(wire_get_rb_nak(&t, &n), 0);
	assert_int_equal(n.origin, 0x01020304);
	assert_true(n.first == 0x05060708090a0b0cull);
	assert_true(n.last == 0x0d0e0f1011121314ull);
	t = mk(TLV_RB_NAK, v, 19);
	assert_int_equal(wire_get_rb_nak(&t, &n), -1);
	t = mk(TLV_RB_NAK, v, 21);
	assert_int_equal(wire_get_rb_nak(&t, &n), -1);
	t = mk(TLV_RB_GONE, v, 20);
	assert_int_equal(wire_get_rb_nak(&t, &n), -1);

	t = mk(TLV_RB_GONE, v, 12);
	assert_int_equal(wire_get_rb_gone(&t, &g), 0);
	assert_int_equal(g.origin, 0x01020304);
	assert_true(g.oldest == 0x05060708090a0b0cull);
	t = mk(TLV_RB_GONE, v, 11);
	assert_int_equal(wire_get_rb_gone(&t, &g), -1);
	t = mk(TLV_RB_GONE, v, 13);
	assert_int_equal(wire_get_rb_gone(&t, &g), -1);
	t = mk(TLV_RB_NAK, v, 12);
	assert_int_equal(wire_get_rb_gone(&t, &g), -1);
	t = mk(TLV_HEARTBEAT, v, 12);
	assert_int_equal(wire_get_rb_gone(&t, &g), -1);
}

/* ---- state ---- */

static void test_state_reason_names(void **state)
{
	static const char *const want[WS__COUNT] = {
	    "ok", "no_channel", "bad_channel", "oversized", "duplicate", "too_many",
	};
	for (int i = 0; i < WS__COUNT; i++)
		assert_string_equal(wire_state_reason_name((enum wire_state_reason)i), want[i]);
	assert_string_equal(wire_state_reason_name(WS__COUNT), "unknown");
}

static void test_put_state(void **state)
{
	static uint8_t buf[2 * WIRE_MAX_DATAGRAM], data[WIRE_STATE_MAX + 1];
	struct tlv_writer w;
	struct wire_state st = {.chan = 'V', .data = (const uint8_t *)"xyz", .len = 3};
	static const uint8_t want[] = {TLV_STATE, 0, 4, 'V', 'x', 'y', 'z', TLV_STATE, 0, 1, 'R'};

	tlv_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(wire_put_state(&w, &st), 0);
	assert_int_equal(w.len, WIRE_STATE_TLV_LEN(3));
	/* an empty slot is only the channel */
	struct wire_state empty = {.chan = 'R', .data = NULL, .len = 0};
	assert_int_equal(wire_put_state(&w, &empty), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* never encodable: channel 0, or data past WIRE_STATE_MAX; overflow not set */
	tlv_writer_init(&w, buf, sizeof(buf));
	st.chan = 0;
	assert_int_equal(wire_put_state(&w, &st), -1);
	assert_false(w.overflow);
	st.chan = 'V';
	st.data = data;
	st.len = WIRE_STATE_MAX + 1;
	assert_int_equal(wire_put_state(&w, &st), -1);
	assert_false(w.overflow);
	assert_int_equal(w.len, 0);
	/* the largest fits beside the largest heartbeat */
	struct wire_heartbeat hb = {.n_known = WIRE_MAX_PEERS};
	tlv_writer_init(&w, buf, WIRE_MAX_PAYLOAD);
	assert_int_equal(wire_put_heartbeat(&w, &hb), 0);
	assert_int_equal(w.len, WIRE_HEARTBEAT_MAX_TLV);
	st.len = WIRE_STATE_MAX;
	assert_int_equal(wire_put_state(&w, &st), 0);
	assert_true(w.len <= WIRE_MAX_PAYLOAD);
	/* one byte short of room: overflow, nothing written */
	tlv_writer_init(&w, buf, WIRE_STATE_TLV_LEN(WIRE_STATE_MAX) - 1);
	assert_int_equal(wire_put_state(&w, &st), -1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
}

static void test_get_state(void **state)
{
	static uint8_t v[1 + WIRE_STATE_MAX + 1];
	struct wire_state st;
	struct tlv t;

	memset(v, 0x5a, sizeof(v));
	v[0] = 'R';
	t = mk(TLV_STATE, v, 4);
	assert_int_equal(wire_get_state(&t, &st), WS_OK);
	assert_int_equal(st.chan, 'R');
	assert_int_equal(st.len, 3);
	assert_ptr_equal(st.data, v + 1);
	t = mk(TLV_STATE, v, 1);
	assert_int_equal(wire_get_state(&t, &st), WS_OK);
	assert_int_equal(st.len, 0);
	t = mk(TLV_STATE, v, 1 + WIRE_STATE_MAX);
	assert_int_equal(wire_get_state(&t, &st), WS_OK);
	assert_int_equal(st.len, WIRE_STATE_MAX);

	/* malformed, each by its reason */
	t = mk(TLV_STATE, v, 0);
	assert_int_equal(wire_get_state(&t, &st), WS_NO_CHANNEL);
	t = mk(TLV_STATE, v, 2 + WIRE_STATE_MAX);
	assert_int_equal(wire_get_state(&t, &st), WS_OVERSIZED);
	v[0] = 0;
	t = mk(TLV_STATE, v, 4);
	assert_int_equal(wire_get_state(&t, &st), WS_BAD_CHANNEL);
	/* not a state at all */
	v[0] = 'R';
	t = mk(TLV_RB_DATA, v, 4);
	assert_int_equal(wire_get_state(&t, &st), WS__COUNT);
	/* and a state is nothing else */
	struct wire_rb_data d;
	t = mk(TLV_STATE, v, 8);
	assert_int_equal(wire_get_rb_data(&t, &d), -1);
}

/* TLVs built, sealed, opened and read back, as the cluster will use them. */
static void test_end_to_end(void **state)
{
	uint8_t payload[WIRE_MAX_PAYLOAD], buf[WIRE_MAX_DATAGRAM];
	struct tlv_writer w;
	struct wire_sender s;
	struct wire_receiver *r = recv_new(NODE_B);
	struct wire_heartbeat hb = {.interval_ms = 1000, .rb_next = 17, .n_known = 1, .known = {3}};
	struct wire_rb_nak nk = {.origin = 3, .first = 10, .last = 12};
	struct wire_msg m;

	tlv_writer_init(&w, payload, sizeof(payload));
	assert_int_equal(wire_put_heartbeat(&w, &hb), 0);
	assert_int_equal(wire_put_rb_nak(&w, &nk), 0);
	wire_sender_init(&s, NODE_A, EPOCH, &KEY, true);
	size_t n = wire_seal(&s, payload, w.len, buf, sizeof(buf));
	assert_int_equal(wire_open(r, buf, n, &m, plain, sizeof(plain)), WR_OK);

	struct tlv t;
	size_t off = 0;
	int types = 0;
	while (tlv_next(plain, m.len, &off, &t) == 1) {
		struct wire_heartbeat hb2;
		struct wire_rb_nak nk2;
		if (t.type == TLV_HEARTBEAT) {
			assert_int_equal(wire_get_heartbeat(&t, &hb2), 0);
			assert_int_equal(hb2.known[0], 3);
			types |= 1;
		} else if (t.type == TLV_RB_NAK) {
			assert_int_equal(wire_get_rb_nak(&t, &nk2), 0);
			assert_int_equal(nk2.last, 12);
			types |= 2;
		}
	}
	assert_int_equal(types, 3);
	assert_int_equal(off, m.len);
	wire_receiver_free(r);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_roundtrip_encrypted),
	    cmocka_unit_test(test_roundtrip_clear),
	    cmocka_unit_test(test_seal_matches_layout),
	    cmocka_unit_test(test_known_answer),
	    cmocka_unit_test(test_seal_refuses),
	    cmocka_unit_test(test_max_datagram),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_header_field_reasons),
	    cmocka_unit_test(test_every_byte_authenticated),
	    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_next_key),
	    cmocka_unit_test(test_own),
	    cmocka_unit_test(test_open_cap),
	    cmocka_unit_test(test_replay_same_twice),
	    cmocka_unit_test(test_replay_out_of_order),
	    cmocka_unit_test(test_replay_window_edge),
	    cmocka_unit_test(test_replay_model),
	    cmocka_unit_test(test_seq_zero),
	    cmocka_unit_test(test_epochs),
	    cmocka_unit_test(test_too_many_peers),
	    cmocka_unit_test(test_failure_changes_nothing),
	    cmocka_unit_test(test_free_null),
	    cmocka_unit_test(test_tlv_writer_bytes),
	    cmocka_unit_test(test_tlv_writer_overflow),
	    cmocka_unit_test(test_tlv_put_invalid),
	    cmocka_unit_test(test_tlv_next_malformed),
	    cmocka_unit_test(test_get_heartbeat),
	    cmocka_unit_test(test_get_rb_data),
	    cmocka_unit_test(test_get_rb_nak_gone),
	    cmocka_unit_test(test_state_reason_names),
	    cmocka_unit_test(test_put_state),
	    cmocka_unit_test(test_get_state),
	    cmocka_unit_test(test_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
