/*
 * track: the state of one health check ([Track NAME]) from its results,
 * as keepalived counts them: Fall= failures in a row make a healthy check
 * failing, Rise= successes in a row make a failing one healthy. A check
 * starts healthy (one that has not run yet takes nothing off a group).
 * Pure: the results come from the caller (os/healthcheck runs the check).
 */
#ifndef ARPHA_CORE_TRACK_H
#define ARPHA_CORE_TRACK_H

#include <stdbool.h>
#include <stdint.h>

struct track_state {
	bool failing;
	uint8_t in_row;	 /* results in a row against the state (toward turning it) */
	uint64_t runs;	 /* results so far */
	uint64_t failed; /* failed results so far */
	uint64_t turns;	 /* times it turned */
};

/* A result: true when it turned the check (healthy <-> failing). fall, rise >= 1. */
bool track_result(struct track_state *s, bool ok, uint8_t fall, uint8_t rise);

#endif
