/*
 * flushmsg: the flush request codec and its replay guard (see flushmsg.h
 * for the layout). Integers are read and written big-endian with explicit
 * shifts; nothing is cast onto the buffers.
 *
 * Choices the header leaves open:
 * - The window is inclusive: a timestamp exactly window_ns behind or
 *   ahead of now is accepted; one nanosecond more is not.
 * - The floor is checked with the seen requests, after the window: a
 *   request at or below it is refused as FR_REPLAY (it may be one the
 *   guard had to forget).
 * - flushmsg_open accepts at most FLUSHMSG_MAX_LEN bytes; anything longer
 *   is FR_BAD_LENGTH (or FR_TOO_MANY_ADDRS when n_addrs says so).
 */
#include "core/flushmsg.h"

#include "be.h"

#include <sodium.h>
#include <string.h>

_Static_assert(crypto_auth_hmacsha256_BYTES == FLUSHMSG_TAG_LEN, "tag length");
_Static_assert(crypto_auth_hmacsha256_KEYBYTES == WIRE_KEY_LEN, "key length");

int flushmsg_build(const struct wire_key *k, uint64_t ts_ns, const uint8_t nonce[16],
		   const uint32_t *addrs, size_t n, uint8_t *buf, size_t cap)
{
	if (n > FLUSHMSG_MAX_ADDRS)
		return -1;
	size_t body = FLUSHMSG_HDR_LEN + 4 * n, total = body + FLUSHMSG_TAG_LEN;
	if (cap < total)
		return -1;

	memcpy(buf, "ARFL", 4);
	buf[4] = FLUSHMSG_VERSION;
	buf[5] = 0;
	put16(buf + 6, (uint16_t)n);
	put64(buf + 8, ts_ns);
	memcpy(buf + 16, nonce, FLUSHMSG_NONCE_LEN);
	/* network order already: the bytes as they are in memory */
	for (size_t i = 0; i < n; i++)
		memcpy(buf + FLUSHMSG_HDR_LEN + 4 * i, &addrs[i], 4);
	crypto_auth_hmacsha256(buf + body, buf, body, k->k);
	return (int)total;
}

static const char *const reason_names[FR__COUNT] = {
    [FR_OK] = "ok",
    [FR_TRUNCATED] = "truncated",
    [FR_BAD_MAGIC] = "bad_magic",
    [FR_BAD_VERSION] = "bad_version",
    [FR_BAD_FLAGS] = "bad_flags",
    [FR_TOO_MANY_ADDRS] = "too_many_addrs",
    [FR_BAD_LENGTH] = "bad_length",
    [FR_BAD_AUTH] = "bad_auth",
    [FR_STALE] = "stale",
    [FR_FUTURE] = "future",
    [FR_REPLAY] = "replay",
};

const char *flush_reason_name(enum flush_reason r)
{
	if ((unsigned)r >= FR__COUNT)
		return "unknown";
	return reason_names[r];
}

void flush_guard_init(struct flush_guard *g, uint64_t window_ns)
{
	memset(g, 0, sizeof(*g));
	g->window_ns = window_ns ? window_ns : FLUSHMSG_DEFAULT_WINDOW_NS;
}

/* Layout checks, before any cryptography. */
static enum flush_reason check_layout(const uint8_t *buf, size_t len)
{
	if (len < FLUSHMSG_HDR_LEN + FLUSHMSG_TAG_LEN)
		return FR_TRUNCATED;
	if (memcmp(buf, "ARFL", 4) != 0)
		return FR_BAD_MAGIC;
	if (buf[4] != FLUSHMSG_VERSION)
		return FR_BAD_VERSION;
	if (buf[5] != 0)
		return FR_BAD_FLAGS;
	size_t n = get16(buf + 6);
	if (n > FLUSHMSG_MAX_ADDRS)
		return FR_TOO_MANY_ADDRS;
	if (len != FLUSHMSG_HDR_LEN + 4 * n + FLUSHMSG_TAG_LEN)
		return FR_BAD_LENGTH;
	return FR_OK;
}

static enum flush_reason check_window(const struct flush_guard *g, uint64_t ts, uint64_t now)
{
	if (ts < now && now - ts > g->window_ns)
		return FR_STALE;
	if (ts > now && ts - now > g->window_ns)
		return FR_FUTURE;
	return FR_OK;
}

/* Remember (ts, nonce); when full, forget the oldest and raise the floor. */
static void guard_add(struct flush_guard *g, uint64_t ts, const uint8_t *nonce)
{
	size_t slot = g->n;
	if (g->n == FLUSHMSG_GUARD_SIZE) {
		slot = 0;
		for (size_t i = 1; i < g->n; i++)
			if (g->seen[i].ts_ns < g->seen[slot].ts_ns)
				slot = i;
		if (!g->has_floor || g->seen[slot].ts_ns > g->floor_ns)
			g->floor_ns = g->seen[slot].ts_ns;
		g->has_floor = 1;
	} else {
		g->n++;
	}
	g->seen[slot].ts_ns = ts;
	memcpy(g->seen[slot].nonce, nonce, FLUSHMSG_NONCE_LEN);
}

enum flush_reason flushmsg_open(const struct wire_key *k, struct flush_guard *g, const uint8_t *buf,
				size_t len, uint64_t now_ns, struct flushmsg *out)
{
	enum flush_reason why = check_layout(buf, len);
	if (why != FR_OK)
		return why;

	size_t body = len - FLUSHMSG_TAG_LEN;
	if (crypto_auth_hmacsha256_verify(buf + body, buf, body, k->k) != 0)
		return FR_BAD_AUTH;

	uint64_t ts = get64(buf + 8);
	const uint8_t *nonce = buf + 16;
	why = check_window(g, ts, now_ns);
	if (why != FR_OK)
		return why;
	if (g->has_floor && ts <= g->floor_ns)
		return FR_REPLAY;
	for (size_t i = 0; i < g->n; i++)
		if (g->seen[i].ts_ns == ts &&
		    memcmp(g->seen[i].nonce, nonce, FLUSHMSG_NONCE_LEN) == 0)
			return FR_REPLAY;

	guard_add(g, ts, nonce);
	memset(out, 0, sizeof(*out));
	out->flags = buf[5];
	out->ts_ns = ts;
	memcpy(out->nonce, nonce, FLUSHMSG_NONCE_LEN);
	out->n_addrs = get16(buf + 6);
	for (size_t i = 0; i < out->n_addrs; i++)
		memcpy(&out->addrs[i], buf + FLUSHMSG_HDR_LEN + 4 * i, 4);
	return FR_OK;
}
