/*
 * flushreq: the sender of authenticated ARP-flush requests (core/flushmsg)
 * to the hosts around the cluster that run arpha-flushd(8). arphad sends
 * them when it takes an address over; `arpha flush-request` sends them by
 * hand. Every send is a new request: a new random nonce and the current
 * CLOCK_REALTIME, so the receiver's replay guard accepts each once and its
 * hold-off turns the repeats (sent because UDP may lose some) into one
 * flush.
 */
#ifndef ARPHA_OS_FLUSHREQ_H
#define ARPHA_OS_FLUSHREQ_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"

struct event_base;

struct flushreq_params {
	struct wire_key key; /* the flush key (not the cluster's) */
	uint16_t port;	     /* the receivers' UDP port, FLUSHMSG_PORT by default */
	unsigned count;	     /* sends to each host */
	unsigned interval_ms;
};

/* Send a fresh flush request (new nonce and timestamp each send) for addrs (naddrs may be 0 = whole
   table) to every host, count times interval_ms apart, the first at once; runs on base and frees
   itself after the last send. 0, or -1 with errno. */
int flushreq_start(struct event_base *base, const struct flushreq_params *p, const uint32_t *hosts,
		   size_t nhosts, const uint32_t *addrs, size_t naddrs);
/*
 * Details of flushreq_start: hosts and addrs are IPv4 in network byte
 * order and are copied (the caller's arrays may go at once). The first
 * round is sent before it returns. Errors: EINVAL for naddrs past
 * FLUSHMSG_MAX_ADDRS, ENOMEM, or the socket's errno. count 0 or nhosts 0
 * sends nothing and returns 0. A host may be a broadcast address. A
 * failed sendto is logged at warning (log.h) and the other sends go on.
 * sodium_init() must have run.
 */

/*
 * Free every request still sending on base (its remaining sends are
 * dropped). Optional: call it before event_base_free() so that a request
 * cut short by a stop is not left allocated (leak checkers).
 */
void flushreq_cancel_all(struct event_base *base);

/*
 * `arpha flush-request [-k KEYFILE] [-p PORT] [-n COUNT] [-i INTERVAL_MS]
 * [-a ADDR]... HOST...`; argv[0] is "flush-request". Returns the exit
 * status: 0 when every send went out, 1 when the key could not be loaded
 * or a send failed, 2 for a usage error.
 */
int flushreq_cli(int argc, char **argv);

#endif
