/*
 * member: the availability layer. Who is up, by heartbeats and timeouts.
 *
 * A peer goes through: unknown -> HEARD (its heartbeats arrive, but they do
 * not list us yet: it does not know the cluster) -> UP (a heartbeat lists
 * our node ID) -> DOWN (no heartbeat for DeadInterval of its heartbeat
 * intervals) -> HEARD/UP again when it comes back. Only UP and DOWN are
 * reported to the layers above: a new node is not up until it has shown it
 * knows us.
 *
 * While this node's own sync link is down, nobody is declared dead (we
 * cannot hear them, which says nothing about them); when it comes back,
 * every peer gets a fresh DeadInterval.
 *
 * Pure: times are ms on the caller's monotonic clock.
 */
#ifndef ARPHA_CORE_MEMBER_H
#define ARPHA_CORE_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct member_params {
	uint32_t self_id;
	uint32_t interval_ms; /* HeartbeatInterval, >= 1 */
	uint32_t dead_count;  /* DeadInterval: heartbeats missed before a peer is down, >= 1 */
};

enum member_state { MS_HEARD = 1, MS_UP, MS_DOWN };

enum member_ev_type {
	ME_NODE_UP,   /* node is up */
	ME_NODE_DOWN, /* node is down (timeout) */
	ME_OWN_DOWN,  /* our sync link went down (node: our own ID) */
	ME_OWN_UP,    /* our sync link came back (node: our own ID) */
};

struct member_ev {
	uint8_t type; /* enum member_ev_type */
	uint32_t node;
};

/* Events of one call; a call changes each peer at most once. */
struct member_events {
	size_t n;
	struct member_ev v[WIRE_MAX_PEERS + 2];
};

struct member;

/* NULL with errno ENOMEM, or EINVAL for invalid params. The link starts up. */
struct member *member_new(const struct member_params *p);
void member_free(struct member *m);

/*
 * Is a heartbeat due at now? If so returns true and schedules the next
 * one interval_ms later. The first is due at once.
 */
bool member_heartbeat_due(struct member *m, uint64_t now);

/* Fill hb's interval and known list (the peers in HEARD or UP); rb_next is the caller's. */
void member_fill_heartbeat(const struct member *m, struct wire_heartbeat *hb);

/*
 * A heartbeat from node at now. Our own ID (looped back) is ignored. When
 * WIRE_MAX_PEERS peers are known, a new node takes the slot of the one
 * down the longest; if none is down it is ignored (-1/ENOSPC). 0
 * otherwise. out->n is reset first.
 */
int member_on_heartbeat(struct member *m, uint32_t node, const struct wire_heartbeat *hb,
			uint64_t now, struct member_events *out);

/* Declare peers down whose time ran out. out->n is reset first. */
void member_tick(struct member *m, uint64_t now, struct member_events *out);

/* Our own sync link went down or up (rtnetlink). out->n is reset first. */
void member_set_link(struct member *m, bool up, uint64_t now, struct member_events *out);

/* The next heartbeat (0 before the first) or timeout: there is always one. */
uint64_t member_next_deadline(const struct member *m);

bool member_link_up(const struct member *m);
bool member_is_up(const struct member *m, uint32_t node);

struct member_peer {
	uint32_t node;
	uint8_t state;        /* enum member_state */
	uint32_t interval_ms; /* the peer's advertised interval */
	uint64_t last_heard;  /* ms */
	uint64_t heartbeats;  /* received */
	uint64_t since;       /* ms of the last state change */
};

/* Copy up to cap peers (in the order first heard); returns how many there are. */
size_t member_peers(const struct member *m, struct member_peer *out, size_t cap);

#endif
