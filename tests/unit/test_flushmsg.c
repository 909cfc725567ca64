/*
 * Unit tests for core/flushmsg: the request layout (with a known answer
 * computed independently), every reason for refusal, the window edges, and
 * the replay guard (exact replays, distinct nonces, a full guard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "core/flushmsg.h"

#define SEC    1000000000ull
#define NOW    (1700000000ull * SEC) /* the receiver's clock in most tests */
#define WINDOW (30 * SEC)

static const struct wire_key KEY = {{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
				     0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
				     0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}};
static const struct wire_key OTHER_KEY = {{0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
					   0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
					   0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}};

/* The guard is large: keep it off the stack. */
static struct flush_guard guard, before;

static void nonce_of(uint8_t nonce[16], uint32_t i)
{
	memset(nonce, 0x5a, 16);
	nonce[0] = (uint8_t)(i >> 24);
	nonce[1] = (uint8_t)(i >> 16);
	nonce[2] = (uint8_t)(i >> 8);
	nonce[3] = (uint8_t)i;
}

/* A request at ts with nonce number i for n addresses 198.18.0.100 + j. */
static size_t build(const struct wire_key *k, uint64_t ts, uint32_t i, size_t n, uint8_t *buf)
{
	uint8_t nonce[16];
	uint32_t addrs[FLUSHMSG_MAX_ADDRS] = {0};
	nonce_of(nonce, i);
	for (size_t j = 0; j < n; j++)
		addrs[j] = htonl(0xc6120064u + (uint32_t)j);
	int len = flushmsg_build(k, ts, nonce, addrs, n, buf, FLUSHMSG_MAX_LEN);
	assert_int_equal(len, FLUSHMSG_HDR_LEN + 4 * n + FLUSHMSG_TAG_LEN);
	return (size_t)len;
}

static enum flush_reason open_at(const uint8_t *buf, size_t len, uint64_t now)
{
	struct flushmsg m;
	return flushmsg_open(&KEY, &guard, buf, len, now, &m);
}

/* Re-sign a changed request so that it gets past the tag. */
static void resign(uint8_t *buf, size_t len)
{
	crypto_auth_hmacsha256(buf + len - FLUSHMSG_TAG_LEN, buf, len - FLUSHMSG_TAG_LEN, KEY.k);
}

static int setup(void **state)
{
	flush_guard_init(&guard, WINDOW);
	return 0;
}

static void test_reason_names(void **state)
{
	const char *want[FR__COUNT] = {"ok",	    "truncated",      "bad_magic",  "bad_version",
				       "bad_flags", "too_many_addrs", "bad_length", "bad_auth",
				       "stale",	    "future",	      "replay"};
	for (int r = 0; r < FR__COUNT; r++)
		assert_string_equal(flush_reason_name((enum flush_reason)r), want[r]);
	assert_string_equal(flush_reason_name(FR__COUNT), "unknown");
	assert_string_equal(flush_reason_name((enum flush_reason) - 1), "unknown");
}

static void test_known_answer(void **state)
{
	/* computed with Python's hmac/hashlib from the layout in flushmsg.h */
	static const uint8_t tag[32] = {0x39, 0x67, 0xd0, 0x94, 0x2e, 0xc5, 0x1b, 0x49,
					0xc7, 0xec, 0x88, 0x7a, 0xee, 0x48, 0x4b, 0x76,
					0xc6, 0x0b, 0xd7, 0xb5, 0xf9, 0x4c, 0xd3, 0x18,
					0x2d, 0xf8, 0x81, 0x80, 0x5f, 0x2d, 0x04, 0xa6};
	static const uint8_t head[16] = {'A',  'R',  'F',  'L',	 1,    0,    0,	   2,
					 0x17, 0xf0, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6};
	uint8_t nonce[16], buf[FLUSHMSG_MAX_LEN];
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	uint32_t addrs[2] = {htonl(0xc6120064u), htonl(0xc6120065u)};

	int len = flushmsg_build(&KEY, 0x17f0a1b2c3d4e5f6ull, nonce, addrs, 2, buf, sizeof(buf));
	assert_int_equal(len, 32 + 8 + 32);
	assert_memory_equal(buf, head, sizeof(head));
	assert_memory_equal(buf + 16, nonce, 16);
	const uint8_t ips[8] = {198, 18, 0, 100, 198, 18, 0, 101};
	assert_memory_equal(buf + 32, ips, sizeof(ips));
	assert_memory_equal(buf + 40, tag, sizeof(tag));
}

static void test_roundtrip(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t sizes[] = {0, 1, 2, 17, FLUSHMSG_MAX_ADDRS};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		size_t len = build(&KEY, NOW - SEC, (uint32_t)s, n, buf);
		struct flushmsg m;
		memset(&m, 0xee, sizeof(m));
		assert_int_equal(flushmsg_open(&KEY, &guard, buf, len, NOW, &m), FR_OK);
		assert_int_equal(m.n_addrs, n);
		assert_int_equal(m.ts_ns, NOW - SEC);
		assert_int_equal(m.flags, 0);
		uint8_t nonce[16];
		nonce_of(nonce, (uint32_t)s);
		assert_memory_equal(m.nonce, nonce, 16);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(ntohl(m.addrs[j]), 0xc6120064u + j);
		for (size_t j = n; j < FLUSHMSG_MAX_ADDRS; j++)
			assert_int_equal(m.addrs[j], 0);
	}
	assert_int_equal(guard.n, 5);
}

static void test_build_refuses(void **state)
{
	uint8_t nonce[16] = {0}, buf[FLUSHMSG_MAX_LEN + 8];
	uint32_t addrs[FLUSHMSG_MAX_ADDRS + 1] = {0};
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(
	    flushmsg_build(&KEY, NOW, nonce, addrs, FLUSHMSG_MAX_ADDRS + 1, buf, sizeof(buf)), -1);
	assert_int_equal(flushmsg_build(&KEY, NOW, nonce, addrs, 3, buf, 32 + 12 + 31), -1);
	assert_int_equal(flushmsg_build(&KEY, NOW, nonce, NULL, 0, buf, 63), -1);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xcc);
	assert_int_equal(flushmsg_build(&KEY, NOW, nonce, addrs, 3, buf, 32 + 12 + 32), 76);
	assert_int_equal(flushmsg_build(&KEY, NOW, nonce, NULL, 0, buf, 64), 64);
	assert_int_equal(
	    flushmsg_build(&KEY, NOW, nonce, addrs, FLUSHMSG_MAX_ADDRS, buf, FLUSHMSG_MAX_LEN),
	    FLUSHMSG_MAX_LEN);
}

static void test_layout_reasons(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN + 8], orig[FLUSHMSG_MAX_LEN + 8];
	size_t len = build(&KEY, NOW, 1, 2, orig);

	/* truncated: shorter than an empty request, whatever the bytes say */
	assert_int_equal(open_at(orig, 0, NOW), FR_TRUNCATED);
	assert_int_equal(open_at(orig, 63, NOW), FR_TRUNCATED);

	memcpy(buf, orig, len);
	buf[3] = 'X';
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_MAGIC);

	memcpy(buf, orig, len);
	buf[4] = 2;
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_VERSION);
	buf[4] = 0;
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_VERSION);

	memcpy(buf, orig, len);
	buf[5] = 0x80;
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_FLAGS);

	/* n_addrs 65, with a matching length and a valid tag */
	uint8_t big[32 + 4 * 65 + 32];
	memset(big, 0, sizeof(big));
	memcpy(big, orig, 32);
	big[6] = 0;
	big[7] = 65;
	resign(big, sizeof(big));
	assert_int_equal(open_at(big, sizeof(big), NOW), FR_TOO_MANY_ADDRS);
	big[6] = 0xff;
	big[7] = 0xff;
	assert_int_equal(open_at(big, sizeof(big), NOW), FR_TOO_MANY_ADDRS);

	/* length against n_addrs: one byte short, one long, a whole address each way */
	assert_int_equal(open_at(orig, len - 1, NOW), FR_BAD_LENGTH);
	memcpy(buf, orig, len);
	buf[len] = 0;
	assert_int_equal(open_at(buf, len + 1, NOW), FR_BAD_LENGTH);
	memcpy(buf, orig, len);
	buf[7] = 1;
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_LENGTH);
	buf[7] = 3;
	resign(buf, len);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_LENGTH);

	/* none of that touched the guard, and the original still opens */
	assert_int_equal(guard.n, 0);
	assert_int_equal(open_at(orig, len, NOW), FR_OK);
}

static void test_wrong_key(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len = build(&OTHER_KEY, NOW, 1, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_AUTH);
	len = build(&OTHER_KEY, NOW, 2, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_AUTH);
	assert_int_equal(guard.n, 0);
}

/* Every single bit flipped anywhere: never FR_OK, and the guard is unchanged. */
static void test_every_bit_authenticated(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len = build(&KEY, NOW, 7, 3, buf);
	memcpy(&before, &guard, sizeof(guard));
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			buf[i] ^= (uint8_t)(1u << b);
			enum flush_reason r = open_at(buf, len, NOW);
			assert_int_not_equal(r, FR_OK);
			/* past the layout fields only the tag can tell */
			if (i >= 8)
				assert_int_equal(r, FR_BAD_AUTH);
			buf[i] ^= (uint8_t)(1u << b);
		}
	}
	assert_memory_equal(&guard, &before, sizeof(guard));
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
}

static void test_replay_exact_bytes(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len = build(&KEY, NOW, 1, 2, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	assert_int_equal(open_at(buf, len, NOW), FR_REPLAY);
	assert_int_equal(open_at(buf, len, NOW + 10 * SEC), FR_REPLAY);
	/* once out of the window it is stale, not replay */
	assert_int_equal(open_at(buf, len, NOW + WINDOW + 1), FR_STALE);
	assert_int_equal(guard.n, 1);
}

static void test_distinct_nonces_accepted(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	for (uint32_t i = 0; i < 10; i++) {
		size_t len = build(&KEY, NOW, i, 1, buf);
		assert_int_equal(open_at(buf, len, NOW), FR_OK);
	}
	/* the same nonce at another time is another request */
	size_t len = build(&KEY, NOW + 1, 0, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	len = build(&KEY, NOW - 1, 0, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	/* the same (ts, nonce) with other addresses is a replay all the same */
	len = build(&KEY, NOW, 3, 5, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_REPLAY);
	assert_int_equal(guard.n, 12);
}

/* A forged copy of a remembered request is bad_auth, not replay. */
static void test_auth_before_replay(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len = build(&KEY, NOW, 1, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	buf[len - 1] ^= 1;
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_AUTH);
	/* and a forged stale one is bad_auth, not stale */
	len = build(&OTHER_KEY, NOW - 10 * WINDOW, 1, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_BAD_AUTH);
}

static void test_window_edges(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len;

	len = build(&KEY, NOW - WINDOW, 1, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	len = build(&KEY, NOW - WINDOW - 1, 2, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_STALE);
	len = build(&KEY, NOW + WINDOW, 3, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	len = build(&KEY, NOW + WINDOW + 1, 4, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_FUTURE);
	len = build(&KEY, NOW, 5, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);

	/* the far ends of the clock: no wrap-around */
	len = build(&KEY, 0, 6, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_STALE);
	assert_int_equal(open_at(buf, len, 5 * SEC), FR_OK);
	len = build(&KEY, UINT64_MAX, 7, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_FUTURE);
	assert_int_equal(open_at(buf, len, UINT64_MAX - WINDOW), FR_OK);
	len = build(&KEY, UINT64_MAX - WINDOW - 1, 8, 0, buf);
	assert_int_equal(open_at(buf, len, UINT64_MAX), FR_STALE);
	len = build(&KEY, WINDOW + 1, 9, 0, buf);
	assert_int_equal(open_at(buf, len, 0), FR_FUTURE);
	len = build(&KEY, WINDOW, 10, 0, buf);
	assert_int_equal(open_at(buf, len, 0), FR_OK);
}

static void test_default_window(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	flush_guard_init(&guard, 0);
	assert_int_equal(guard.window_ns, FLUSHMSG_DEFAULT_WINDOW_NS);
	size_t len = build(&KEY, NOW - FLUSHMSG_DEFAULT_WINDOW_NS, 1, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	len = build(&KEY, NOW - FLUSHMSG_DEFAULT_WINDOW_NS - 1, 2, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_STALE);

	flush_guard_init(&guard, 2 * SEC);
	len = build(&KEY, NOW - 3 * SEC, 3, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_STALE);
}

/* Refusals of every kind leave the guard as it was. */
static void test_failure_changes_nothing(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	size_t len = build(&KEY, NOW, 1, 1, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	memcpy(&before, &guard, sizeof(guard));

	struct flushmsg m;
	memset(&m, 0xab, sizeof(m));
	struct flushmsg m0 = m;
	assert_int_equal(flushmsg_open(&KEY, &guard, buf, len, NOW, &m), FR_REPLAY);
	len = build(&KEY, NOW - WINDOW - 1, 2, 1, buf);
	assert_int_equal(flushmsg_open(&KEY, &guard, buf, len, NOW, &m), FR_STALE);
	len = build(&KEY, NOW + WINDOW + 1, 3, 1, buf);
	assert_int_equal(flushmsg_open(&KEY, &guard, buf, len, NOW, &m), FR_FUTURE);
	len = build(&OTHER_KEY, NOW, 4, 1, buf);
	assert_int_equal(flushmsg_open(&OTHER_KEY, &guard, buf, len - 1, NOW, &m), FR_BAD_LENGTH);
	assert_int_equal(flushmsg_open(&KEY, &guard, buf, len, NOW, &m), FR_BAD_AUTH);
	assert_memory_equal(&guard, &before, sizeof(guard));
	assert_memory_equal(&m, &m0, sizeof(m));
}

/*
 * A full guard forgets the oldest request and refuses everything at or
 * before it from then on; the ones it still holds stay refused too.
 */
static void test_guard_full(void **state)
{
	uint8_t buf[FLUSHMSG_MAX_LEN];
	static uint8_t first[FLUSHMSG_MAX_LEN], middle[FLUSHMSG_MAX_LEN];
	size_t first_len = 0, middle_len = 0;
	uint64_t t0 = NOW - WINDOW / 2;

	for (uint32_t i = 0; i < FLUSHMSG_GUARD_SIZE; i++) {
		size_t len = build(&KEY, t0 + i, i, 0, buf);
		assert_int_equal(open_at(buf, len, NOW), FR_OK);
		if (i == 0) {
			memcpy(first, buf, len);
			first_len = len;
		} else if (i == FLUSHMSG_GUARD_SIZE / 2) {
			memcpy(middle, buf, len);
			middle_len = len;
		}
	}
	assert_int_equal(guard.n, FLUSHMSG_GUARD_SIZE);
	assert_false(guard.has_floor);
	assert_int_equal(open_at(first, first_len, NOW), FR_REPLAY);

	/* one more: the first is forgotten, but the floor refuses it still */
	size_t len = build(&KEY, NOW, 99999, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	assert_true(guard.has_floor);
	assert_int_equal(guard.floor_ns, t0);
	assert_int_equal(guard.n, FLUSHMSG_GUARD_SIZE);
	assert_int_equal(open_at(first, first_len, NOW), FR_REPLAY);
	assert_int_equal(open_at(middle, middle_len, NOW), FR_REPLAY);

	/* a fresh nonce at the floor is refused; just above it is accepted */
	len = build(&KEY, t0, 123456, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_REPLAY);
	len = build(&KEY, t0 - 1, 123457, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_REPLAY);
	len = build(&KEY, t0 + 1, 123458, 0, buf);
	assert_int_equal(open_at(buf, len, NOW), FR_OK);
	assert_int_equal(guard.floor_ns, t0 + 1);

	/* many more: the floor only rises, and every accepted one stays refused */
	for (uint32_t i = 0; i < 3 * FLUSHMSG_GUARD_SIZE; i++) {
		len = build(&KEY, NOW + i, 200000 + i, 0, buf);
		assert_int_equal(open_at(buf, len, NOW), FR_OK);
		assert_int_equal(open_at(buf, len, NOW), FR_REPLAY);
	}
	assert_int_equal(guard.floor_ns, NOW + 2 * FLUSHMSG_GUARD_SIZE - 1);
	assert_int_equal(open_at(middle, middle_len, NOW), FR_REPLAY);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_known_answer),
	    cmocka_unit_test_setup(test_roundtrip, setup),
	    cmocka_unit_test(test_build_refuses),
	    cmocka_unit_test_setup(test_layout_reasons, setup),
	    cmocka_unit_test_setup(test_wrong_key, setup),
	    cmocka_unit_test_setup(test_every_bit_authenticated, setup),
	    cmocka_unit_test_setup(test_replay_exact_bytes, setup),
	    cmocka_unit_test_setup(test_distinct_nonces_accepted, setup),
	    cmocka_unit_test_setup(test_auth_before_replay, setup),
	    cmocka_unit_test_setup(test_window_edges, setup),
	    cmocka_unit_test_setup(test_default_window, setup),
	    cmocka_unit_test_setup(test_failure_changes_nothing, setup),
	    cmocka_unit_test_setup(test_guard_full, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
