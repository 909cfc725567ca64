/*
 * flushmsg: the authenticated "flush your ARP cache" request that a node
 * taking over an address sends to the hosts around the cluster (the
 * ArpFlush idea of seeds/002, with a key instead of a password, and a
 * timestamp and nonce against replay). Pure: time and nonces are passed
 * in, the caller owns every buffer and the replay guard; the only library
 * is libsodium's HMAC-SHA-256 (the caller runs sodium_init() once first).
 *
 * A request (all integers big-endian):
 *
 *    0  'A' 'R' 'F' 'L'   magic
 *    4  version (1)       FLUSHMSG_VERSION
 *    5  flags (1)         zero (no flags are defined in version 1)
 *    6  n_addrs (2)       0..FLUSHMSG_MAX_ADDRS; 0 = the whole neighbour table
 *    8  timestamp (8)     ns since the epoch, the sender's CLOCK_REALTIME
 *   16  nonce (16)        random, new for every request
 *   32  n_addrs x IPv4 (4 each)
 *   32+4n  tag (32)       HMAC-SHA-256 of every byte before it
 *
 * A receiver accepts a request once: authentic, its timestamp within the
 * window of its own clock (either way), and its (timestamp, nonce) not
 * seen before.
 */
#ifndef ARPHA_CORE_FLUSHMSG_H
#define ARPHA_CORE_FLUSHMSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"

#define FLUSHMSG_VERSION   1
#define FLUSHMSG_HDR_LEN   32
#define FLUSHMSG_TAG_LEN   32
#define FLUSHMSG_NONCE_LEN 16
/*
 * The nonce's first FLUSHMSG_REQUEST_ID_LEN bytes name the request: the
 * same in each of a sender's repeats of it, so a receiver can flush once
 * per request and still flush at once for the next one (a new takeover).
 */
#define FLUSHMSG_REQUEST_ID_LEN 8
#define FLUSHMSG_MAX_ADDRS	64
#define FLUSHMSG_MAX_LEN	(FLUSHMSG_HDR_LEN + 4 * FLUSHMSG_MAX_ADDRS + FLUSHMSG_TAG_LEN)
#define FLUSHMSG_PORT		7411
/* How far a timestamp may be from the receiver's clock, either way. */
#define FLUSHMSG_DEFAULT_WINDOW_NS (30ull * 1000000000ull)
/* Accepted requests a guard remembers. */
#define FLUSHMSG_GUARD_SIZE 1024

/*
 * Build a request into buf (cap bytes). addrs: n IPv4 addresses in network
 * byte order (n = 0: the whole table; addrs may then be NULL). Returns its
 * length (FLUSHMSG_HDR_LEN + 4 n + FLUSHMSG_TAG_LEN), or -1 when n is
 * past FLUSHMSG_MAX_ADDRS or cap is too small (buf untouched).
 */
int flushmsg_build(const struct wire_key *k, uint64_t ts_ns, const uint8_t nonce[16],
		   const uint32_t *addrs, size_t n, uint8_t *buf, size_t cap);

enum flush_reason {
	FR_OK = 0,
	FR_TRUNCATED,	   /* shorter than a request without addresses */
	FR_BAD_MAGIC,	   /* not "ARFL" */
	FR_BAD_VERSION,	   /* a version other than FLUSHMSG_VERSION */
	FR_BAD_FLAGS,	   /* a flag bit set (none are defined) */
	FR_TOO_MANY_ADDRS, /* n_addrs past FLUSHMSG_MAX_ADDRS */
	FR_BAD_LENGTH,	   /* the length is not the one n_addrs gives */
	FR_BAD_AUTH,	   /* wrong key, or altered on the way */
	FR_STALE,	   /* timestamp more than the window behind the receiver's clock */
	FR_FUTURE,	   /* timestamp more than the window ahead of it */
	FR_REPLAY,	   /* (timestamp, nonce) seen before, or not newer than one forgotten */
	FR__COUNT
};

/* Stable lower_snake name ("bad_auth", "replay", ...); "unknown" past FR__COUNT. */
const char *flush_reason_name(enum flush_reason r);

/*
 * The replay guard of a receiver: the (timestamp, nonce) of the last
 * FLUSHMSG_GUARD_SIZE accepted requests. When it is full the entry with
 * the oldest timestamp makes room, and from then on nothing with a
 * timestamp at or before that one is accepted (floor), so a forgotten
 * request can never come back. The caller owns it; no allocation.
 */
struct flush_seen {
	uint64_t ts_ns;
	uint8_t nonce[FLUSHMSG_NONCE_LEN];
};

struct flush_guard {
	uint64_t window_ns;
	uint64_t floor_ns; /* refuse ts <= floor_ns once set (has_floor) */
	int has_floor;
	size_t n;
	struct flush_seen seen[FLUSHMSG_GUARD_SIZE];
};

/* An empty guard; window_ns 0 means FLUSHMSG_DEFAULT_WINDOW_NS. */
void flush_guard_init(struct flush_guard *g, uint64_t window_ns);

struct flushmsg {
	uint8_t flags;
	uint64_t ts_ns;
	uint8_t nonce[FLUSHMSG_NONCE_LEN];
	size_t n_addrs;			    /* 0: the whole neighbour table */
	uint32_t addrs[FLUSHMSG_MAX_ADDRS]; /* network byte order */
};

/*
 * Check a received request against now_ns (the receiver's CLOCK_REALTIME):
 * layout, then the tag (constant time), then the window, then the guard.
 * The guard changes only when it returns FR_OK (the request is then
 * remembered), and *out is filled only then.
 */
enum flush_reason flushmsg_open(const struct wire_key *k, struct flush_guard *g, const uint8_t *buf,
				size_t len, uint64_t now_ns, struct flushmsg *out);

#endif
