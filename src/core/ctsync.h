/*
 * ctsync: connection-tracking sync (DESIGN.md, core/ctsync; the contract
 * is notes/ctsync-spec.md).
 *
 * Every node sends the conntrack events of its own kernel, filtered, as
 * records in reliable-broadcast messages (cluster_broadcast). Every node
 * keeps what each other node (an "origin") sent in memory, one table per
 * origin. With params.journal the shell keeps its kernel in step: every
 * change to an origin's table is journalled (ctsync_changes) for the shell
 * to carry out at once, so that a takeover finds the connections in the
 * kernel already and commits only what the kernel lost or refused
 * (ctsync_peer_next_missing). Without it nothing goes in the kernel until
 * a takeover, which then commits every held entry.
 *
 * Records (message format at the top of ctsync.c): NEW, NEW_RESYNC (a
 * NEW that is part of a full resync of generation g), UPDATE (state of a
 * known entry), DELETE, DIGEST (count and order-independent sum of the
 * sender's table), RESYNC_REQ (target: resend your table), RESYNC_END
 * (origin, g: drop what this resync did not refresh).
 *
 * What is queued coalesces per entry until it is sent: NEW+UPDATE* = NEW
 * with the latest state, UPDATE+UPDATE = UPDATE, NEW+DELETE = nothing,
 * UPDATE+DELETE = DELETE. Records carry the state at the time they are
 * sent, so a queue holds at most one record per entry.
 *
 * Full resyncs of our table (NEW_RESYNC for every entry, then
 * RESYNC_END) go out when a node comes up, when a node asks (RESYNC_REQ)
 * and after the shell rebuilt the table (kernel event loss). We ask an
 * origin (RESYNC_REQ) when the reliable layer reports it out of sync,
 * and when its periodic DIGEST disagrees with our copy of its table.
 *
 * How the shell drives it: after every call that may queue something
 * (ctsync_local, ctsync_resync_all, ctsync_on_message, ctsync_out_of_sync,
 * ctsync_node_up, ctsync_tick), call ctsync_next_message until it returns
 * 0 and hand each message to cluster_broadcast. Call ctsync_tick at
 * ctsync_next_deadline.
 *
 * Pure: no I/O, no clock (times are ms on the caller's monotonic clock),
 * no globals. Memory: at most max_entries entries per origin (ourselves
 * included); what does not fit is refused and counted. The caller runs
 * sodium_init() once (digests are SipHash, crypto_shorthash).
 */
#ifndef ARPHA_CORE_CTSYNC_H
#define ARPHA_CORE_CTSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define CTSYNC_TYPE	    'C' /* first byte of every message */
#define CTSYNC_VERSION	    1
#define CTSYNC_MAX_PEERS    64 /* origins held besides ourselves */
#define CTSYNC_MAX_NETWORKS 64
#define CTSYNC_MAX_ENTRIES  (1u << 28) /* the largest max_entries accepted */
#define CTSYNC_KEY_LEN	    16
#define CTSYNC_ENTRY_LEN    45			       /* an entry on the wire */
#define CTSYNC_MIN_MSG	    (2 + 5 + CTSYNC_ENTRY_LEN) /* the largest record fits */

/* Protocols (the bits of config.h's CT_PROTO_*). */
enum { CTSYNC_TCP = 1, CTSYNC_UDP = 2, CTSYNC_ICMP = 4 };

/* Host byte order, IPv4 only. ICMP: sport = id, dport = type << 8 | code. */
struct ct_tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto; /* IPPROTO_TCP, _UDP or _ICMP */
};

struct ct_entry {
	struct ct_tuple orig, reply;
	uint16_t zone;
	uint8_t tcp_state;
	uint8_t tcp_flags[2], tcp_wscale[2]; /* [0] original, [1] reply direction */
	uint32_t status;		     /* IPS_* bits */
	uint32_t mark;
	uint32_t timeout; /* s, as of the event */
};

/* Identity of an entry: SipHash-2-4 (all-zero key) of orig tuple + zone, canonical bytes. */
uint64_t ctsync_digest(const struct ct_tuple *orig, uint16_t zone);

/* Every field equal (what the sync promises to carry). */
bool ctsync_entry_eq(const struct ct_entry *a, const struct ct_entry *b);

struct ctsync_params {
	uint32_t self_id;		   /* NodeID, != 0 */
	uint8_t protocols;		   /* CTSYNC_TCP | ..., != 0 */
	const struct ip4_prefix *networks; /* Networks= (copied); none: every address */
	size_t n_networks;		   /* <= CTSYNC_MAX_NETWORKS */
	uint32_t check_interval_ms;	   /* CheckInterval=: our DIGEST; 0 off */
	uint32_t max_entries;		   /* MaxEntries= per origin, 1..CTSYNC_MAX_ENTRIES */
	/*
	 * The first resync generation: make it new at every start (the shell:
	 * low bits of the cluster epoch), so that a RESYNC_END of this run is
	 * never taken for one of a run before. 0 is taken as 1.
	 */
	uint32_t generation;
	/* Secret for the in-memory tables' bucket choice (randombytes_buf); not on the wire. */
	uint8_t table_key[CTSYNC_KEY_LEN];
	/*
	 * Journal every change to the peers' tables (ctsync_changes): the shell
	 * keeps its kernel in step. Off: every peer entry counts as missing.
	 */
	bool journal;
};

/* A change to a peer's table: the entry as it is now (SET) or as it was (DEL). */
enum ct_change_op { CT_CHG_SET = 1, CT_CHG_DEL };
struct ct_change {
	uint8_t op;	 /* enum ct_change_op */
	uint32_t origin; /* whose table */
	struct ct_entry e;
};

enum ct_event { CT_EV_NEW, CT_EV_UPDATE, CT_EV_DESTROY };

enum ct_record {
	CT_REC_NEW = 1,
	CT_REC_NEW_RESYNC,
	CT_REC_UPDATE,
	CT_REC_DELETE,
	CT_REC_DIGEST,
	CT_REC_RESYNC_REQ,
	CT_REC_RESYNC_END,
	CT_REC__COUNT
};

/* Why a message was refused. */
enum ct_malformed {
	CTM_SHORT,     /* no room for the header */
	CTM_TYPE,      /* not 'C' */
	CTM_VERSION,   /* not version 1 */
	CTM_EMPTY,     /* no records */
	CTM_RECORD,    /* unknown record type */
	CTM_TRUNCATED, /* a record cut short */
	CTM_ENTRY,     /* an entry we cannot hold (protocol, orig/reply protocols differ) */
	CTM_FIELD,     /* generation, node or origin 0 */
	CTM_ORIGIN,    /* sender 0 or ourselves, or a RESYNC_END for another origin */
	CTM__COUNT
};

enum ct_check { CT_CHECK_NONE, CT_CHECK_AGREE, CT_CHECK_DISAGREE };

const char *ctsync_record_name(unsigned type);	 /* "new", "new_resync", ... */
const char *ctsync_malformed_name(unsigned why); /* "short", "type", ... */
const char *ctsync_check_name(unsigned check);	 /* "none", "agree", "disagree" */

/* ---- the codec (what ctsync_on_message and ctsync_next_message use) ---- */

/* One record, decoded. */
struct ct_rec {
	uint8_t type;	   /* enum ct_record */
	uint32_t gen;	   /* NEW_RESYNC, RESYNC_END: != 0 */
	uint32_t node;	   /* RESYNC_REQ: the target; RESYNC_END: the origin; != 0 */
	uint64_t digest;   /* UPDATE, DELETE */
	uint32_t count;	   /* DIGEST */
	uint64_t sum;	   /* DIGEST */
	struct ct_entry e; /* NEW, NEW_RESYNC: all of it; UPDATE: the state (tuples 0) */
};

/* Size of a record of type on the wire (type byte included); 0 for an unknown type. */
size_t ctsync_rec_size(unsigned type);

/* The message header into buf: 2, or 0 when cap < 2. */
size_t ctsync_msg_begin(uint8_t *buf, size_t cap);

/* Append one record: its size, or 0 if it does not fit cap or the type is unknown. */
size_t ctsync_rec_encode(const struct ct_rec *r, uint8_t *buf, size_t cap);

/* Check a whole message: 0, or -1 and *why. Nothing else is read from it before this. */
int ctsync_msg_check(const uint8_t *buf, size_t len, enum ct_malformed *why);

/*
 * The record at *off (start with *off = 0) into r: 1 and *off past it, 0
 * at the end, -1 when it does not decode (a message not checked first).
 */
int ctsync_msg_next(const uint8_t *buf, size_t len, size_t *off, struct ct_rec *r);

/* ---- the protocol ---- */

struct ctsync;

/* NULL with errno EINVAL (bad params) or ENOMEM. The first DIGEST is due one interval after now. */
struct ctsync *ctsync_new(const struct ctsync_params *p, uint64_t now);
void ctsync_free(struct ctsync *c);
/*
 * A reload: p's protocols, networks, check interval and max_entries
 * replace ours (the rest of p is ignored); the tables stay as they are.
 * Entries the filter no longer wants stay until they end; the caller
 * resyncs to send those it now wants. 0, or -1/EINVAL (as ctsync_new).
 */
int ctsync_set_filter(struct ctsync *c, const struct ctsync_params *p, uint64_t now);

/*
 * The filter: the protocol is TCP, UDP or ICMP, in Protocols=, the same in
 * both tuples, and the orig source or destination lies in one of the
 * networks (any address when there are none). Expectations never reach
 * this module.
 */
bool ctsync_wanted(const struct ctsync *c, const struct ct_entry *e);

/*
 * A conntrack event of our kernel. Unwanted entries are ignored (0, counted).
 * NEW of a known entry and UPDATE of an unknown one are taken as what
 * they should have been; DESTROY of an unknown one is counted. An event
 * that changes nothing queues nothing. -1 when a new entry is refused:
 * our table holds max_entries (counted in refused_full).
 */
int ctsync_local(struct ctsync *c, enum ct_event ev, const struct ct_entry *e, uint64_t now);

/*
 * Kernel events were lost: forget our table and what is queued for it
 * (not our RESYNC_REQs, not a due DIGEST). Then ctsync_local(CT_EV_NEW)
 * for every entry of a kernel dump, then ctsync_resync_all.
 */
void ctsync_local_reset(struct ctsync *c);

/*
 * Queue a full resync of our table: NEW_RESYNC for every entry, then
 * RESYNC_END; it supersedes one still queued. Nothing new when one queued
 * has not begun to go out.
 */
void ctsync_resync_all(struct ctsync *c, uint64_t now);

/* Records queued (a due DIGEST and our RESYNC_REQs included). */
size_t ctsync_queued(const struct ctsync *c);

/*
 * The next message to broadcast into buf: its length, 0 when nothing is
 * queued (or cap < CTSYNC_MIN_MSG and the next record does not fit).
 * Batches as many records as fit cap: our RESYNC_REQs, then records in
 * the order queued, then a due DIGEST once nothing else is queued (it
 * describes the table as the records before it leave it).
 */
size_t ctsync_next_message(struct ctsync *c, uint8_t *buf, size_t cap, uint64_t now);

/*
 * A message from origin (CA_DELIVER). Checked whole before anything
 * changes: -1 and malformed[why] counted when it does not parse; -1 and
 * origins_full counted when there is no room for another origin. Then
 * every record is applied to origin's table, in order; a RESYNC_REQ naming
 * us queues a full resync, a DIGEST that disagrees with our copy queues a
 * RESYNC_REQ to origin (not again while one is answered within a check
 * interval; not when origin holds more than max_entries). 0.
 */
int ctsync_on_message(struct ctsync *c, uint32_t origin, const uint8_t *buf, size_t len,
		      uint64_t now);

/* The reliable layer lost messages of node for good (CA_OUT_OF_SYNC): queue RESYNC_REQ to it. */
void ctsync_out_of_sync(struct ctsync *c, uint32_t node, uint64_t now);

/* node is up (CA_NODE_UP): queue a full resync of our table for it. */
void ctsync_node_up(struct ctsync *c, uint32_t node, uint64_t now);

/* node is down (CA_NODE_DOWN): its table is kept (we may take its connections over). */
void ctsync_node_down(struct ctsync *c, uint32_t node);

/* Drop what we hold of node (it left the cluster for good). */
void ctsync_forget(struct ctsync *c, uint32_t node);

/* Queues our DIGEST when the check interval is over. */
void ctsync_tick(struct ctsync *c, uint64_t now);
/* When ctsync_tick is next due; UINT64_MAX: never (CheckInterval=0). */
uint64_t ctsync_next_deadline(const struct ctsync *c);

/* ---- tables ---- */

/* Entries held for origin (self_id: our own table); 0 for an origin we hold nothing of. */
size_t ctsync_count(const struct ctsync *c, uint32_t origin);

/* origin's entry with this identity, or NULL. Valid until the next call that changes c. */
const struct ct_entry *ctsync_find(const struct ctsync *c, uint32_t origin,
				   const struct ct_tuple *orig, uint16_t zone);

/*
 * Iterate over origin's table (self_id: ours): start with *cursor = 0;
 * NULL at the end. Over every entry held from peers, all origins
 * (the takeover commit): ctsync_peer_next. Entries and cursors are
 * valid while nothing changes c.
 */
const struct ct_entry *ctsync_origin_next(const struct ctsync *c, uint32_t origin, size_t *cursor);
const struct ct_entry *ctsync_peer_next(const struct ctsync *c, size_t *cursor);

/*
 * With params.journal: the changes to the peers' tables since the last
 * ctsync_changes_clear, in order (*n of them; NULL when none). A SET of an
 * entry that did not change is not journalled. *lost (if not NULL): a
 * change could not be kept (ENOMEM); the shell's kernel is no longer known
 * to be in step. Valid until the next call that changes c.
 */
const struct ct_change *ctsync_changes(const struct ctsync *c, size_t *n, bool *lost);
void ctsync_changes_clear(struct ctsync *c);

/*
 * Mark the peers' entries with this identity as missing from the shell's
 * kernel (it refused them, or dropped them: a timeout) or as held. A SET
 * clears the mark. Returns how many entries were marked (0: no peer holds it).
 */
size_t ctsync_peer_set_missing(struct ctsync *c, const struct ct_tuple *orig, uint16_t zone,
			       bool missing);
/* As ctsync_peer_next, over the peers' entries marked missing only (all of them without journal).
 */
const struct ct_entry *ctsync_peer_next_missing(const struct ctsync *c, size_t *cursor);

/*
 * After a takeover the connections held from the peers run through us:
 * each one becomes ours (as ctsync_local(CT_EV_NEW)), to be sent as ours.
 * Returns how many were taken (refused ones: refused_full).
 */
size_t ctsync_adopt(struct ctsync *c, uint64_t now);

/*
 * ---- active-active: whose a connection is ----
 *
 * In active-active mode every node's kernel holds every connection (the
 * owner's entry and the others' shadows), and the ct mark names the owner
 * (os/nft_buckets: owner << 16 | bucket; owner = core/ranges'
 * ranges_owner_id; mark 0: not decided yet). Only the owner sends it.
 */

/* The owner id in a data-path mark: mark >> 16 (0: undecided). */
uint16_t ctsync_mark_owner(uint32_t mark);

/*
 * Whether an entry of our kernel with this mark is ours to send. Not
 * active_active: every one. Active-active: only those whose mark names
 * owner, our owner id; none while owner is 0 (not known yet), none
 * undecided, none of another owner.
 */
bool ctsync_ours_to_send(bool active_active, uint16_t owner, uint32_t mark);

/*
 * A peer sends an entry we send as ours (ours: our table's copy): whether
 * it names another owner while ours names us (owner, != 0). Two nodes
 * then both claim the connection (a partition healed): we keep ours and
 * the caller counts it; the peer's is not put in our kernel.
 */
bool ctsync_mark_conflict(uint16_t owner, const struct ct_entry *ours, const struct ct_entry *peer);

/* How many of an origin's entries carry one owner id in their marks. */
struct ctsync_owner_count {
	uint16_t owner; /* ctsync_mark_owner (0: undecided or no mark) */
	size_t entries;
};

/*
 * origin's entries (self_id: ours) by the owner id of their marks, at most
 * cap owners in out, in the order first met; the entries of the owners
 * past cap are summed in *others (if not NULL). Returns the number of
 * owners in out. Walks the whole table: for the CLI, not the fast path.
 */
size_t ctsync_owner_counts(const struct ctsync *c, uint32_t origin, struct ctsync_owner_count *out,
			   size_t cap, size_t *others);

/* ---- views for the CLI ---- */

struct ctsync_origin_view {
	uint32_t node;
	bool up;		   /* as the cluster last told */
	size_t entries;		   /* held */
	uint64_t last_msg;	   /* ms of its last message; 0: none */
	uint64_t messages;	   /* messages from it */
	uint64_t refused_full;	   /* its entries refused: its table was full */
	uint64_t last_check;	   /* ms of its last DIGEST; 0: none */
	uint8_t check;		   /* enum ct_check: how it compared */
	uint64_t resyncs_received; /* its RESYNC_ENDs */
	uint64_t resync_reqs_sent; /* RESYNC_REQs we queued to it */
	uint64_t updates_unknown;  /* UPDATE/DELETE of entries we do not hold */
};

/* Slots of origins: 0..n-1 for ctsync_origin, which is -1 for a slot freed (ctsync_forget). */
size_t ctsync_origins(const struct ctsync *c);
int ctsync_origin(const struct ctsync *c, size_t i, struct ctsync_origin_view *out);

struct ctsync_stats {
	uint64_t msgs_in, msgs_out;
	uint64_t rec_in[CT_REC__COUNT], rec_out[CT_REC__COUNT]; /* by enum ct_record */
	uint64_t malformed[CTM__COUNT];
	uint64_t origins_full; /* messages from one origin too many */
	/* our kernel's events */
	uint64_t local_events, local_filtered, local_unchanged, local_unknown, local_resets;
	uint64_t refused_full; /* entries refused: ours and every origin's */
	uint64_t updates_unknown;
	uint64_t resyncs_sent;				 /* full resyncs of our table queued */
	uint64_t resyncs_received;			 /* RESYNC_ENDs applied */
	uint64_t resync_reqs_sent, resync_reqs_received; /* received: those naming us */
	uint64_t checks_agree, checks_disagree;
	uint64_t last_check;	   /* ms of the last DIGEST checked; 0: none */
	uint8_t last_check_result; /* enum ct_check */
	uint64_t queue_overflows;  /* deletions piled up past max_entries: resync instead */
	uint64_t nomem;		   /* records or entries lost to ENOMEM */
};
const struct ctsync_stats *ctsync_stats(const struct ctsync *c);

#endif
