/*
 * srcwatch: the misconfigurations a cluster node can see on its own, made
 * loud. Who sends us datagrams we refuse (a wrong key, a second node with
 * our NodeID), and which configured peers (Peers=) we never heard. Each
 * becomes a log line naming the address and the likely cause, and a row
 * `arpha cluster` shows.
 *
 * Log lines (as actions, ACT_LOG):
 *  - bad_auth from an address: event=cluster_auth_failed (warning);
 *  - our NodeID, authentic, from another node (another epoch):
 *    event=cluster_duplicate_node (err);
 *  - a peer of Peers= never heard SRCWATCH_NEVER_AFTER x the dead time
 *    (at least SRCWATCH_NEVER_MIN_MS) after the start:
 *    event=peer_never_heard (warning), again every SRCWATCH_NEVER_REPEAT_MS
 *    while it stays silent.
 * Other refusals (replays, truncated datagrams, ...) are counted per
 * address but not logged: a network can produce them without anybody's
 * mistake.
 *
 * Rate limit, per source address: the first line at once; then at most one
 * per SRCWATCH_HOLDOFF_MS, carrying how many refusals it stood for
 * (suppressed=N). The line for refusals held back is written by
 * srcwatch_tick when the holdoff ends, not only with the next refusal. A
 * new reason from an address is news: logged at once. Over all sources at
 * most SRCWATCH_BURST lines per holdoff; one line then says how many more
 * were held back.
 *
 * The table keeps SRCWATCH_MAX sources; a new one takes the slot of the
 * one refused longest ago.
 *
 * Pure: times are ms on the caller's monotonic clock; no I/O, no globals.
 */
#ifndef ARPHA_CORE_SRCWATCH_H
#define ARPHA_CORE_SRCWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "wire.h"

#define SRCWATCH_MAX		 64
#define SRCWATCH_PEERS_MAX	 64
#define SRCWATCH_HOLDOFF_MS	 10000
#define SRCWATCH_BURST		 16
#define SRCWATCH_NEVER_AFTER	 10   /* dead times (HeartbeatInterval x DeadInterval) */
#define SRCWATCH_NEVER_MIN_MS	 5000 /* but not before: nodes are not started at once */
#define SRCWATCH_NEVER_REPEAT_MS 300000

struct srcwatch_params {
	uint32_t dead_ms;      /* HeartbeatInterval x DeadInterval */
	const uint32_t *peers; /* Peers= (host order IPv4); NULL with a group */
	size_t n_peers;	       /* at most SRCWATCH_PEERS_MAX are watched */
};

struct srcwatch;

/* NULL on ENOMEM. */
struct srcwatch *srcwatch_new(const struct srcwatch_params *p);
void srcwatch_free(struct srcwatch *w);

/*
 * A datagram from addr was refused for reason r (not WR_OK). For WR_OWN
 * the caller has told our own datagrams (looped back) from another node's:
 * only the latter come here, with node the NodeID they claim.
 */
void srcwatch_refused(struct srcwatch *w, uint32_t addr, enum wire_reason r, uint32_t node,
		      uint64_t now, struct actions *out);

/* An authentic datagram of another node arrived from addr. */
void srcwatch_heard(struct srcwatch *w, uint32_t addr, uint64_t now);

/* Our own datagram came back from addr: addr is ours (a Peers= entry naming us). */
void srcwatch_self(struct srcwatch *w, uint32_t addr);

/* Lines held back whose holdoff ended; peers never heard whose time came. */
void srcwatch_tick(struct srcwatch *w, uint64_t now, struct actions *out);

/* When srcwatch_tick has something to do; UINT64_MAX: nothing pending. */
uint64_t srcwatch_next_deadline(const struct srcwatch *w);

struct srcwatch_source {
	uint32_t addr;
	uint32_t node;	      /* the NodeID of its last WR_OWN datagram, or 0 */
	uint8_t last_reason;  /* enum wire_reason of the last refusal */
	uint64_t first, last; /* ms of the first and the last refusal */
	uint64_t total;
	uint64_t counts[WR__COUNT]; /* by reason */
};

/* Copy up to cap sources, in the order first refused; returns how many there are. */
size_t srcwatch_sources(const struct srcwatch *w, struct srcwatch_source *out, size_t cap);

/* Peers= entries never heard (ours excluded), in configured order; up to cap. */
size_t srcwatch_never_heard(const struct srcwatch *w, uint32_t *out, size_t cap);

/*
 * The name of a refusal reason as srcwatch reports it: wire_reason_name,
 * but WR_OWN (which reaches srcwatch only from another node) is
 * "own_node_id".
 */
const char *srcwatch_reason_name(enum wire_reason r);

#endif
