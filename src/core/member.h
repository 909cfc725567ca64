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
 * Paths: the heartbeats may come over several links (paths 0 ..
 * n_paths-1, each its own sync link). A peer is alive while it is heard
 * on any path: it is down only once it has been silent for DeadInterval
 * on every path whose link is up here. A path of an alive peer that falls
 * silent for DeadInterval is reported down (ME_PATH_DOWN: degraded, not
 * dead) and up again at its next heartbeat (ME_PATH_UP). With one path
 * there are no path events: a silent path is a silent peer.
 *
 * While this node's own link of a path is down, that path's silence says
 * nothing; while every own link is down, nobody is declared dead (we
 * cannot hear them, which says nothing about them). When a link comes
 * back, every peer gets a fresh DeadInterval on that path.
 *
 * Pure: times are ms on the caller's monotonic clock.
 */
#ifndef ARPHA_CORE_MEMBER_H
#define ARPHA_CORE_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define MEMBER_MAX_PATHS 4

struct member_params {
	uint32_t self_id;
	uint32_t interval_ms; /* HeartbeatInterval, >= 1 */
	uint32_t dead_count;  /* DeadInterval: heartbeats missed before a peer is down, >= 1 */
	uint8_t n_paths;      /* 1..MEMBER_MAX_PATHS; 0 counts as 1 */
};

enum member_state { MS_HEARD = 1, MS_UP, MS_DOWN };

enum member_ev_type {
	ME_NODE_UP,	  /* node is up */
	ME_NODE_DOWN,	  /* node is down (timeout) */
	ME_OWN_DOWN,	  /* every sync link of ours is down (node: our own ID) */
	ME_OWN_UP,	  /* one came back (node: our own ID) */
	ME_PATH_DOWN,	  /* node, alive, has been silent on path for DeadInterval */
	ME_PATH_UP,	  /* node is heard on path again */
	ME_OWN_PATH_DOWN, /* our link of path went down (several paths only; node: our own ID) */
	ME_OWN_PATH_UP,	  /* it came back */
};

struct member_ev {
	uint8_t type; /* enum member_ev_type */
	uint8_t path; /* PATH and OWN_PATH events */
	uint32_t node;
};

/* Events of one call; a call changes each peer and each of its paths at most once. */
struct member_events {
	size_t n;
	struct member_ev v[WIRE_MAX_PEERS * (MEMBER_MAX_PATHS + 1) + 2];
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
 * A heartbeat from node at now, on path. Our own ID (looped back) is
 * ignored. When WIRE_MAX_PEERS peers are known, a new node takes the slot
 * of the one down the longest; if none is down it is ignored
 * (-1/ENOSPC); a path >= n_paths is -1/EINVAL. 0 otherwise. out->n is
 * reset first.
 */
int member_on_heartbeat(struct member *m, uint32_t node, unsigned path,
			const struct wire_heartbeat *hb, uint64_t now, struct member_events *out);

/* Declare peers down whose time ran out. out->n is reset first. */
void member_tick(struct member *m, uint64_t now, struct member_events *out);

/*
 * Our own link of path went down or up (rtnetlink); a path >= n_paths is
 * ignored. out->n is reset first.
 */
void member_set_link(struct member *m, unsigned path, bool up, uint64_t now,
		     struct member_events *out);

/* The next heartbeat (0 before the first) or timeout: there is always one. */
uint64_t member_next_deadline(const struct member *m);

/* Any own link up (with one path: that one). */
bool member_link_up(const struct member *m);
bool member_path_link_up(const struct member *m, unsigned path);
unsigned member_n_paths(const struct member *m);
bool member_is_up(const struct member *m, uint32_t node);

/* node is alive and heard on path lately, and our link of path is up. */
bool member_path_ok(const struct member *m, uint32_t node, unsigned path);
/*
 * The path to send what every peer must get on: the lowest that is ok
 * (member_path_ok) for every peer that is up; -1 when none is (send on
 * every path). With no peer up: the lowest path whose link is up, else 0.
 */
int member_best_path(const struct member *m);
/* The lowest path ok for node; -1 when none is. */
int member_path_to(const struct member *m, uint32_t node);

struct member_peer {
	uint32_t node;
	uint8_t state;        /* enum member_state */
	uint32_t interval_ms; /* the peer's advertised interval */
	uint64_t last_heard;  /* ms */
	uint64_t heartbeats;  /* received */
	uint64_t since;       /* ms of the last state change */
	uint8_t paths_up;     /* bit p: heard on path p within DeadInterval (as last judged) */
	uint64_t path_heard[MEMBER_MAX_PATHS]; /* ms of the last heartbeat on each path; 0: never */
	uint64_t path_downs[MEMBER_MAX_PATHS]; /* times each path was reported down */
};

/* Copy up to cap peers (in the order first heard); returns how many there are. */
size_t member_peers(const struct member *m, struct member_peer *out, size_t cap);

#endif
