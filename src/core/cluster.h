/*
 * cluster: one node's cluster messaging, the layers of DESIGN.md stacked:
 * wire (authentication, replay) under member (availability) and rbcast
 * (reliable broadcast). Datagrams in, datagrams out, events up.
 *
 * The same struct runs in arphad (the shell moves the datagrams over UDP)
 * and in the simulator (a virtual network moves them under a virtual
 * clock). Pure: no I/O, no clock, no globals; the caller runs
 * sodium_init() once.
 *
 * What it sends:
 *  - every HeartbeatInterval, to all, on every path: a datagram with
 *    TLV_HEARTBEAT, a TLV_STATE for each channel of soft state set
 *    (cluster_set_state), and (on one path) any NAKs due;
 *  - for cluster_broadcast and resends: datagrams with TLV_RB_DATA, to all;
 *  - NAKs to the origin, GONEs to the node that NAKed.
 * Several TLVs may share a datagram when they go to the same place.
 * A datagram with a heartbeat or a state is marked urgent: the shell keeps
 * it clear of the reliable broadcast's queue (os/udp.h), so a burst of
 * bulk never delays or refuses a heartbeat. It may then overtake data
 * sent before it, so its rb_next (how far our broadcasts went, which
 * reveals a lost tail) is 0, not said, when broadcasts went out since
 * the previous heartbeat: the receivers would ask for data still on its
 * way. A lost tail is found one heartbeat later; a hole in a stream at
 * once, by the data after it.
 *
 * Paths: with n_paths > 1 the nodes are linked by several networks (see
 * member.h). Every heartbeat goes out on every path, each copy sealed on
 * its own (one replay window per sender covers them all). Everything else
 * goes on one path: the lowest that reaches every peer that is up
 * (member_best_path), or on every path while none does; to one node, the
 * lowest path it is heard on. When a path fails, what was sent on it
 * before that is known is recovered by rbcast's NAKs on the next
 * (heartbeats on every path say how far each sender went), and duplicates
 * are dropped by sequence number: FIFO per sender holds across paths.
 */
#ifndef ARPHA_CORE_CLUSTER_H
#define ARPHA_CORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "member.h"
#include "rbcast.h"
#include "srcwatch.h"
#include "wire.h"

struct cluster_params {
	uint32_t node_id;      /* NodeID, != 0 */
	uint64_t epoch;	       /* new and larger at every start (the shell: wall clock, ns) */
	struct wire_key key;   /* KeyFile: sealed with, opened with */
	struct wire_key next_key; /* with has_next_key: KeyFile's second key, opened with too */
	bool has_next_key;
	bool encrypt;	       /* Encrypt= */
	uint32_t interval_ms;  /* HeartbeatInterval */
	uint32_t dead_count;   /* DeadInterval */
	uint32_t send_buffer;  /* SendBuffer */
	const uint32_t *peers; /* Peers= (host order), watched for silence; NULL with Group= */
	size_t n_peers;	       /* copied by cluster_new */
	uint8_t n_paths;       /* links to the other nodes, 1..CLUSTER_MAX_PATHS; 0 counts as 1 */
};

#define CLUSTER_MAX_PATHS MEMBER_MAX_PATHS

enum cluster_action_type {
	CA_SEND_ALL,	  /* datagram to every peer (multicast group or Peers=), on path */
	CA_SEND_TO,	  /* datagram to node, on path */
	CA_NODE_UP,	  /* node is up */
	CA_NODE_DOWN,	  /* node is down */
	CA_OWN_UP,	  /* one of our sync links came back after all were down */
	CA_OWN_DOWN,	  /* every sync link of ours is down */
	CA_PATH_DOWN,	  /* node is alive but silent on path: degraded (several paths only) */
	CA_PATH_UP,	  /* node is heard on path again */
	CA_OWN_PATH_DOWN, /* our link of path went down (several paths only) */
	CA_OWN_PATH_UP,	  /* it came back */
	CA_DELIVER,	  /* a reliable-broadcast message from node, in its order */
	CA_OUT_OF_SYNC,	  /* messages from node were lost for good: resync with it */
	CA_STATE,	  /* node's soft state on chan (cluster_set_state there) arrived */
	CA_LOG,		  /* write data (a NUL-terminated line) at level */
};

struct cluster_action {
	uint8_t type;  /* enum cluster_action_type */
	uint8_t level; /* CA_LOG: enum log_level */
	uint8_t chan;  /* CA_STATE: the channel (CLUSTER_CHAN_*); 0 otherwise */
	uint8_t path;  /* SEND_*, *PATH_*: the path (0 .. n_paths-1) */
	/*
	 * SEND_*: the datagram carries a heartbeat or soft state: the shell
	 * sends it where no reliable broadcast queued before it can hold it
	 * back or crowd it out (os/udp.h, the urgent socket).
	 */
	bool urgent;
	uint32_t node;
	uint16_t len;
	/* SEND_*: the datagram; DELIVER: the message; STATE: the state; LOG: the line */
	uint8_t data[WIRE_MAX_DATAGRAM];
};

struct cluster_actions {
	struct cluster_action *v;
	size_t n, cap;
	size_t dropped; /* lost to ENOMEM */
};

void cluster_actions_init(struct cluster_actions *a);
void cluster_actions_free(struct cluster_actions *a);
void cluster_actions_reset(struct cluster_actions *a);

struct cluster;

/* NULL on ENOMEM or invalid params (node_id 0, zero intervals or buffer). */
struct cluster *cluster_new(const struct cluster_params *p);
void cluster_free(struct cluster *c);

/* A datagram arrived (from anyone: it is authenticated here). */
void cluster_input(struct cluster *c, const uint8_t *buf, size_t len, uint64_t now,
		   struct cluster_actions *out);

/*
 * The same, from the source address from (host order IPv4; 0: unknown).
 * Refusals are then kept per address and the telling ones logged (CA_LOG,
 * rate-limited: see srcwatch.h); an authentic datagram marks a Peers=
 * address heard.
 */
void cluster_input_from(struct cluster *c, const uint8_t *buf, size_t len, uint32_t from,
			uint64_t now, struct cluster_actions *out);

/* The same, come in on path (< n_paths; another counts as 0). cluster_input_from is path 0. */
void cluster_input_path(struct cluster *c, const uint8_t *buf, size_t len, uint32_t from,
			unsigned path, uint64_t now, struct cluster_actions *out);

/*
 * New keys (KeyFile= read again): seal with key from now on, open with
 * key and next (NULL: none). The rotation: every node key=old next=new,
 * then every node key=new next=old, then key=new alone: at no step does a
 * node refuse another's datagrams.
 */
void cluster_set_keys(struct cluster *c, const struct wire_key *key, const struct wire_key *next);

/* Reliably broadcast len bytes (<= WIRE_RB_MAX_DATA). -1/EMSGSIZE, -1/ENOMEM. */
int cluster_broadcast(struct cluster *c, const uint8_t *data, size_t len, uint64_t now,
		      struct cluster_actions *out);

/* Heartbeats, timeouts, NAK retries due at now. */
void cluster_tick(struct cluster *c, uint64_t now, struct cluster_actions *out);
uint64_t cluster_next_deadline(const struct cluster *c);

/*
 * Soft state: what a node repeats in every heartbeat, one slot per
 * channel, so that each layer above owns its own (the latest counts; it is
 * not reliable). A channel is a byte != 0.
 */
#define CLUSTER_CHAN_VIP    'V'		     /* core/vip's advert (failover) */
#define CLUSTER_CHAN_RANGES 'R'		     /* the responsible ranges (active-active) */
#define CLUSTER_STATE_SLOTS WIRE_STATE_SLOTS /* channels set at once */

/*
 * Set this node's state on chan to len bytes of data (copied); len 0
 * clears the slot. From now on every heartbeat carries every slot set,
 * and the receivers get one CA_STATE per channel, with chan set.
 * 0, or -1 with nothing changed and errno:
 *   EINVAL    chan is 0;
 *   EMSGSIZE  len > WIRE_STATE_MAX, or the slots together would take more
 *             than WIRE_STATE_ROOM bytes of TLVs (WIRE_STATE_TLV_LEN(len)
 *             each): they would not fit one datagram beside a heartbeat;
 *   ENOSPC    CLUSTER_STATE_SLOTS other channels are set.
 */
int cluster_set_state(struct cluster *c, uint8_t chan, const uint8_t *data, size_t len);

/*
 * Send every slot set now, in one datagram, without a heartbeat: to node,
 * or to all (node 0). Nothing when no slot is set.
 */
void cluster_push_state(struct cluster *c, uint32_t node, struct cluster_actions *out);

/* Our own sync link state (rtnetlink): of path 0, and of path. */
void cluster_set_link(struct cluster *c, bool up, uint64_t now, struct cluster_actions *out);
void cluster_set_path_link(struct cluster *c, unsigned path, bool up, uint64_t now,
			   struct cluster_actions *out);

struct cluster_stats {
	uint64_t rx_datagrams, tx_datagrams;
	uint64_t drops[WR__COUNT];  /* refused datagrams, by wire reason */
	uint64_t own_node_id;	    /* of drops[WR_OWN]: another node's (not our own looped back) */
	uint64_t malformed_payload; /* authenticated, but TLVs that do not parse (states: below) */
	uint64_t heartbeats_sent, heartbeats_received;
	uint64_t naks_sent, naks_received, gones_sent;
	uint64_t data_sent, data_resent;       /* TLV_RB_DATA: new and resent */
	uint64_t states_sent, states_received; /* TLV_STATE, one per channel: sent, passed up */
	uint64_t state_drops[WS__COUNT];       /* TLV_STATE refused, by wire_state_reason */
	uint64_t path_rx[CLUSTER_MAX_PATHS]; /* authenticated datagrams, by the path they came on */
	uint64_t path_tx[CLUSTER_MAX_PATHS]; /* datagrams sent, by path */
	uint64_t path_downs[CLUSTER_MAX_PATHS]; /* a member reported silent on it (CA_PATH_DOWN) */
};

/*
 * The sender of the last datagram cluster_input authenticated, or 0 when
 * the last one was refused (the shell learns nodes' addresses from it).
 */
uint32_t cluster_last_sender(const struct cluster *c);

const struct cluster_stats *cluster_stats(const struct cluster *c);

/*
 * Counters per member, for what can be told apart by node: only
 * authenticated datagrams count (a refused one cannot be pinned on anyone;
 * refusals are in cluster_stats, by reason).
 */
struct cluster_peer_stats {
	uint32_t node;
	uint64_t datagrams;   /* authenticated datagrams from it */
	uint64_t messages;    /* reliable-broadcast messages from it, resends included */
	uint64_t delivered;   /* its messages delivered here, in order */
	uint64_t naks_to;     /* NAKs we sent it */
	uint64_t naks_from;   /* NAKs it sent us */
	uint64_t resent_for;  /* our messages sent again because it asked */
	uint64_t out_of_sync; /* times its messages were lost for good here */
};

/* Copy up to cap members' counters; returns how many members have counters. */
size_t cluster_peer_stats(const struct cluster *c, struct cluster_peer_stats *out, size_t cap);
const struct rb_stats *cluster_rb_stats(const struct cluster *c);
const struct member *cluster_member(const struct cluster *c);
uint32_t cluster_node_id(const struct cluster *c);
/* Refusals by source address and Peers= never heard. */
const struct srcwatch *cluster_srcwatch(const struct cluster *c);

#endif
