/*
 * rbcast: reliable broadcast, NAK-based, FIFO per sender.
 *
 * Every message a node broadcasts gets the next sequence number of that
 * node (its "origin" seq, from 1 per epoch) and stays in the node's sender
 * buffer (SendBuffer messages) for retransmission. Receivers deliver each
 * origin's messages in order, exactly once; they hold early arrivals, and
 * on a gap they send a NAK to the origin: at once when a later seq
 * arrived, after nak_interval_ms when only a heartbeat's rb_next says more
 * was sent (a heartbeat may overtake the data: it travels apart), and
 * again after every nak_interval_ms without progress until the gap is
 * filled. The origin resends what it still holds (to everyone:
 * others probably lost it too) and answers GONE for what it no longer
 * holds; the receiver then skips to the oldest held message and reports
 * the origin OUT_OF_SYNC, so the layer above does a full resync. No ACKs:
 * in the steady state only data and heartbeats flow.
 *
 * The first message (or heartbeat) seen from an origin or from a new epoch
 * of it is where delivery starts; history before that is the layer above's
 * (a new node triggers a resync there).
 *
 * Pure: times are ms on the caller's monotonic clock; data pointers in
 * actions point into rbcast's own buffers and are valid until the next
 * call on the same struct rbcast.
 */
#ifndef ARPHA_CORE_RBCAST_H
#define ARPHA_CORE_RBCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct rbcast_params {
	uint32_t self_id;
	uint32_t send_buffer;     /* SendBuffer: messages kept for resending, >= 1 */
	uint32_t nak_interval_ms; /* NAK again after this long without progress, >= 1 */
};

enum rb_action_type {
	RBA_SEND_DATA, /* to all: seq, data (new, or resent: resent = true) */
	RBA_SEND_NAK,  /* to node (the origin): origin, first..last */
	RBA_SEND_GONE, /* to node (who NAKed): oldest */
	RBA_DELIVER,   /* up: node (the origin), data */
	RBA_OUT_OF_SYNC, /* up: node (the origin): messages were lost for good */
};

struct rb_action {
	uint8_t type; /* enum rb_action_type */
	bool resent;
	uint32_t node;
	uint64_t seq;         /* DATA, DELIVER */
	uint64_t first, last; /* NAK */
	uint64_t oldest;      /* GONE */
	const uint8_t *data;  /* DATA, DELIVER */
	size_t len;
};

struct rb_actions {
	struct rb_action *v;
	size_t n, cap;
	size_t dropped; /* lost to ENOMEM */
};

void rb_actions_init(struct rb_actions *a);
void rb_actions_free(struct rb_actions *a);
void rb_actions_reset(struct rb_actions *a);

struct rb_stats {
	uint64_t sent;        /* messages broadcast (new) */
	uint64_t resent;      /* messages sent again on NAKs */
	uint64_t delivered;   /* messages delivered up */
	uint64_t duplicates;  /* received again, dropped */
	uint64_t naks_sent;
	uint64_t naks_received;
	uint64_t gones_sent;
	uint64_t out_of_sync; /* times an origin was reported out of sync */
	uint64_t early_dropped; /* too far ahead to hold, dropped (NAKed later) */
};

struct rbcast;

/* NULL on ENOMEM or invalid params. */
struct rbcast *rbcast_new(const struct rbcast_params *p);
void rbcast_free(struct rbcast *rb);

/*
 * Broadcast len bytes (<= WIRE_RB_MAX_DATA): stored in the sender buffer
 * (the oldest falls out when full) and RBA_SEND_DATA appended. -1 with
 * errno EMSGSIZE or ENOMEM.
 */
int rbcast_send(struct rbcast *rb, const uint8_t *data, size_t len, uint64_t now,
		struct rb_actions *out);

/* The seq the next rbcast_send will use (for heartbeats' rb_next). */
uint64_t rbcast_next_seq(const struct rbcast *rb);

/* Data from origin (in origin's epoch). */
void rbcast_on_data(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t seq,
		    const uint8_t *data, size_t len, uint64_t now, struct rb_actions *out);

/*
 * A heartbeat of origin said its next seq is next: a gap if we have less,
 * NAKed by rbcast_tick after nak_interval_ms without progress (never at
 * once: out stays as it is).
 */
void rbcast_on_next_seq(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t next,
			uint64_t now, struct rb_actions *out);

/* Node from NAKed our messages first..last. */
void rbcast_on_nak(struct rbcast *rb, uint32_t from, uint64_t first, uint64_t last, uint64_t now,
		   struct rb_actions *out);

/* Origin holds nothing older than oldest. */
void rbcast_on_gone(struct rbcast *rb, uint32_t origin, uint64_t epoch, uint64_t oldest,
		    uint64_t now, struct rb_actions *out);

/*
 * Origin is down: stop NAKing it and free what we hold of it, but keep its
 * position, so that if it comes back in the same epoch (a false alarm, a
 * healed partition) the gap is repaired, or reported out of sync, as any
 * other. A new epoch starts afresh.
 */
void rbcast_peer_down(struct rbcast *rb, uint32_t origin);

/* NAK where a gap outlived nak_interval_ms without a NAK or a delivery. */
void rbcast_tick(struct rbcast *rb, uint64_t now, struct rb_actions *out);
uint64_t rbcast_next_deadline(const struct rbcast *rb);

const struct rb_stats *rbcast_stats(const struct rbcast *rb);

#endif
