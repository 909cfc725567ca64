/*
 * libFuzzer target for core/flushmsg.
 *
 * 1. The input as a request: flushmsg_open with a fixed key and a fresh
 *    guard at the request's own timestamp (so a well-signed input reaches
 *    past the window); a refusal must leave the guard as it was; on FR_OK
 *    the fields must be the input's, and the same bytes again must be
 *    FR_REPLAY.
 * 2. The input as material for a request: a timestamp, a nonce and
 *    addresses taken from it are built, must open to the same values, must
 *    not open with one bit flipped (at a place the input picks) and must
 *    not open twice.
 *
 * The seeds in tests/fuzz/corpus/flushmsg/ are requests signed with
 * FUZZ_KEY (bytes 0..31), so step 1 reaches past the tag.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/flushmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct flush_guard guard, before;

static struct wire_key fuzz_key(void)
{
	struct wire_key k;
	for (int i = 0; i < WIRE_KEY_LEN; i++)
		k.k[i] = (uint8_t)i;
	return k;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void open_as_request(const struct wire_key *key, const uint8_t *data, size_t size)
{
	struct flushmsg m;
	uint64_t now = size >= 16 ? be64(data + 8) : 0;

	flush_guard_init(&guard, 0);
	/* a guard with something in it, to compare against after a refusal */
	static const uint8_t nonce0[16] = {1};
	uint8_t tmp[FLUSHMSG_MAX_LEN];
	int tl = flushmsg_build(key, now, nonce0, NULL, 0, tmp, sizeof(tmp));
	if (tl < 0 || flushmsg_open(key, &guard, tmp, (size_t)tl, now, &m) != FR_OK)
		abort();
	memcpy(&before, &guard, sizeof(guard));

	enum flush_reason why = flushmsg_open(key, &guard, data, size, now, &m);
	if ((unsigned)why >= FR__COUNT || flush_reason_name(why) == NULL)
		abort();
	if (why != FR_OK) {
		if (memcmp(&guard, &before, sizeof(guard)) != 0)
			abort();
		return;
	}
	if (m.n_addrs > FLUSHMSG_MAX_ADDRS ||
	    size != FLUSHMSG_HDR_LEN + 4 * m.n_addrs + FLUSHMSG_TAG_LEN || m.ts_ns != now ||
	    memcmp(m.nonce, data + 16, 16) != 0 || m.flags != 0)
		abort();
	for (size_t i = 0; i < m.n_addrs; i++)
		if (memcmp(&m.addrs[i], data + FLUSHMSG_HDR_LEN + 4 * i, 4) != 0)
			abort();
	if (guard.n != before.n + 1)
		abort();
	if (flushmsg_open(key, &guard, data, size, now, &m) != FR_REPLAY)
		abort();
}

static void build_and_open(const struct wire_key *key, const uint8_t *data, size_t size)
{
	uint8_t nonce[16] = {0}, buf[FLUSHMSG_MAX_LEN];
	uint32_t addrs[FLUSHMSG_MAX_ADDRS];
	uint64_t ts = 0;
	struct flushmsg m;

	if (size >= 8)
		ts = be64(data);
	if (size >= 24)
		memcpy(nonce, data + 8, 16);
	size_t rest = size > 24 ? size - 24 : 0, n = rest / 4;
	if (n > FLUSHMSG_MAX_ADDRS)
		n = FLUSHMSG_MAX_ADDRS;
	for (size_t i = 0; i < n; i++)
		memcpy(&addrs[i], data + 24 + 4 * i, 4);

	int len = flushmsg_build(key, ts, nonce, addrs, n, buf, sizeof(buf));
	if (len != (int)(FLUSHMSG_HDR_LEN + 4 * n + FLUSHMSG_TAG_LEN))
		abort();
	flush_guard_init(&guard, 1);
	if (size > 0) {
		size_t i = data[0] * 131u % (size_t)len;
		uint8_t bit = (uint8_t)(1u << (data[size - 1] % 8));
		buf[i] ^= bit;
		if (flushmsg_open(key, &guard, buf, (size_t)len, ts, &m) == FR_OK)
			abort();
		buf[i] ^= bit;
		if (guard.n != 0)
			abort();
	}
	if (flushmsg_open(key, &guard, buf, (size_t)len, ts, &m) != FR_OK)
		abort();
	if (m.ts_ns != ts || m.n_addrs != n || memcmp(m.nonce, nonce, 16) != 0 ||
	    (n && memcmp(m.addrs, addrs, 4 * n) != 0))
		abort();
	if (flushmsg_open(key, &guard, buf, (size_t)len, ts, &m) != FR_REPLAY)
		abort();
	/* one nanosecond past the window either way */
	if (ts >= 2 && flushmsg_open(key, &guard, buf, (size_t)len, ts - 2, &m) != FR_FUTURE)
		abort();
	if (ts <= UINT64_MAX - 2 &&
	    flushmsg_open(key, &guard, buf, (size_t)len, ts + 2, &m) != FR_STALE)
		abort();
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
	open_as_request(&key, data, size);
	build_and_open(&key, data, size);
	return 0;
}
