/*
 * ranges: the responsible ranges of an active-active cluster (DESIGN.md,
 * the distribution layer; issue 13; research/active-active-2026-12.md
 * section 3.3). Which node takes the NEW connections of which bucket.
 *
 * Buckets 0..Buckets-1 (a new connection's original tuple hashes into
 * one; the data path's business). Each node claims a set of buckets: it
 * takes the new connections of those. The rule:
 *
 *  - The AIMED assignment is a function of the members (NodeID and
 *    Weight=; not the incarnation) and of what they hold, that every
 *    node computes alike (ranges_assign_held): a bucket stays with the
 *    member that holds it (held by two, a healed partition: the higher
 *    ranked) as long as that member is within its quota, Buckets x w /
 *    sum(w) rounded by largest remainder (ties: the lower NodeID gets the
 *    extra bucket); a member over its quota keeps the ones it ranks
 *    highest. The rest are dealt out by weighted rendezvous hashing
 *    (score w / -ln(u), u a hash of NodeID and bucket; computed as
 *    w / -log2(u) in integer fixed point, no libm, the same order; with
 *    equal weights simply the larger u): the pairs (member with room,
 *    free bucket) in order of score, best first, each bucket to the
 *    first member that still has room. So it is complete, pairwise
 *    disjoint, equal within one bucket (by weight), and from a settled
 *    cluster a join moves exactly the newcomer's quota and a leave
 *    exactly the leaver's buckets (a function of the members alone,
 *    ranges_assign, moves up to 3 % more; test_ranges.c,
 *    tests/sim/test_sim_ranges.c). A claim or release that the aim asks
 *    for leaves the aim as it was, so the hand-over does not change it
 *    under anyone's feet.
 *  - The members are this node and every peer the cluster says is up
 *    and whose state (channel 'R') arrived, unless it says it listens
 *    (a new node is not counted, so nothing waits for it, until it is
 *    ready to claim) or stops.
 *    Each member's state carries its VIEW: a counter it bumps whenever
 *    its member set changes, and a digest of the members as it knows
 *    them, their counters included, and of the aim it computed. Members
 *    that agree on the digest have the same aim.
 *  - BREAK BEFORE MAKE. A node releases a bucket the aim no longer
 *    gives it as soon as the view is agreed (below; its state, pushed at
 *    once, says so): until then it keeps taking the bucket's
 *    connections, so a change of members leaves no gap but the one-way
 *    delay of that push. It claims a bucket the aim gives it only when
 *    (a) it is not listening (the first DeadInterval + 1 heartbeat
 *    intervals after the start, while it learns who is there), (b) its
 *    sync link is up, (c) every member's latest state carries the same
 *    digest as its own (they agree on the members, and each has heard
 *    every other's current counter: no decision on a stale view) and no
 *    peer that is up still listens (nodes started together must find
 *    each other before anyone claims), and (d) no peer that may still be
 *    alive claims it: a peer counts until the cluster declares it down
 *    (CA_NODE_DOWN), or, never declared up, until DeadInterval heartbeat
 *    intervals after its last state. Two nodes that hear each other
 *    never claim one bucket at once: under one agreed view the aim gives
 *    a bucket to one node, and the taker needs the giver's state in that
 *    view, which shows the bucket released. A bucket two members hold (a
 *    healed partition) the lower ranked releases as soon as it hears the
 *    other; the higher ranked keeps it until then, even when the aim
 *    takes it from it (or it would be the other's alone, and the other's
 *    to keep: the aim would change).
 *  - INCARNATIONS. A node's identity is its NodeID plus its incarnation
 *    (the cluster's epoch at its start, larger at every start). A state
 *    with a newer incarnation retires the old one: the old life's claims
 *    are gone with it, and the new life claims only by the rule above,
 *    after its listening time; a state of an older incarnation is refused
 *    (RGR_STALE), as is an older serial of the current one (reordered).
 *    When this node claims a bucket that a retired or down claimant held
 *    last (no live node claimed it since), that claimant's connections
 *    in the bucket become this node's (RG_INHERIT): the data path accepts
 *    their old marks (ranges_inherited lists them per bucket). A claimant
 *    that comes back with the same incarnation (a partition healed) takes
 *    its own back: the entries of its id are dropped (RG_DISOWN).
 *  - PARTITION. Each side declares the other down and claims everything
 *    the aim of its side gives it: duplicates, never loss. On heal, the
 *    same rule as VIP groups (vip.h: two claims, the lower rank withdraws
 *    at once), with the rank of a node for bucket b its weighted
 *    rendezvous score for b, NodeID breaking ties: a number every node
 *    computes alike whatever its view, so the two claimants agree on who
 *    withdraws even before their views agree. A node releases a bucket
 *    as soon as a peer that is up claims it and outranks it there; the
 *    best-ranked claimant keeps it, so the bucket is never unclaimed.
 *    Once the views agree, the aim of the healed view moves what it must,
 *    break before make: exactly one owner per bucket, the aimed one.
 *
 * State (channel CLUSTER_CHAN_RANGES, in every heartbeat; all integers
 * big-endian): version (1) = 1, flags (1: bit 0 listening, bit 1
 * stopping), weight (2, >= 1), buckets (2), incarnation (8, != 0), serial
 * (4: bumped at every change of the claims), view (4: the member-set
 * counter), digest (8), claimed buckets (bitmap, ceil(buckets / 8) bytes,
 * bucket b is bit (b % 8) of byte b / 8, the bits past buckets zero):
 * 158 bytes for 1024 buckets. Soft state is enough: it is repeated in
 * every heartbeat and pushed on every change (twice, RANGES_REPUSH_MS
 * apart, so one lost push costs milliseconds); only the latest counts, the
 * serial orders them, and a lost one costs a heartbeat interval of delay,
 * never safety (a claim needs the taker to have heard the release).
 * Reliable broadcast is not used.
 *
 * Output: every call that can produce actions takes `append`, a list it
 * only appends to (never resets); the caller carries the actions out in
 * order and resets the list (ranges_actions_reset) when it likes.
 *
 * Pure: no I/O, no clock, no globals.
 */
#ifndef ARPHA_CORE_RANGES_H
#define ARPHA_CORE_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"

#define RANGES_MAX_BUCKETS 4096
#define RANGES_MIN_BUCKETS 1
#define RANGES_DEFAULT	   1024
#define RANGES_MAX_NODES   64 /* members: this node and up to 63 peers (WIRE_MAX_PEERS) */
#define RANGES_INHERIT_MAX 4  /* retired ids kept per bucket */
#define RANGES_HDR_LEN	   30
#define RANGES_SET_BYTES   (RANGES_MAX_BUCKETS / 8)
#define RANGES_STATE_MAX   (RANGES_HDR_LEN + RANGES_SET_BYTES)
#define RANGES_F_LISTENING 0x01
#define RANGES_F_STOPPING  0x02
#define RANGES_VERSION	   1
#define RANGES_REPUSH_MS   10 /* a changed state is pushed at once and again this much later */

/* A set of buckets: bit (b % 8) of byte b / 8. */
struct ranges_set {
	uint8_t bit[RANGES_SET_BYTES];
};

static inline bool ranges_has(const struct ranges_set *s, uint32_t b)
{
	return (s->bit[b >> 3] >> (b & 7)) & 1;
}

static inline void ranges_add(struct ranges_set *s, uint32_t b)
{
	s->bit[b >> 3] = (uint8_t)(s->bit[b >> 3] | 1u << (b & 7));
}

static inline void ranges_del(struct ranges_set *s, uint32_t b)
{
	s->bit[b >> 3] = (uint8_t)(s->bit[b >> 3] & ~(1u << (b & 7)));
}

/* How many of buckets 0..buckets-1 are in s. */
uint32_t ranges_count(const struct ranges_set *s, uint32_t buckets);

/*
 * s as ranges for people: "0-3,7,9-12" ("-" when empty). Returns what
 * snprintf would (the length it needs); buf is always terminated.
 */
int ranges_format(const struct ranges_set *s, uint32_t buckets, char *buf, size_t cap);

/* ---- the aimed assignment ---- */

/* A node's identity: who it is in this life. */
struct ranges_id {
	uint32_t node;	      /* NodeID */
	uint64_t incarnation; /* != 0 */
};

/*
 * id's owner id in the data path's connection marks (os/nft_buckets: a
 * mark is owner << 16 | bucket): the NodeID in the high byte (so it must
 * be 1..255 in an active-active cluster, config.h), the incarnation
 * folded into 1..255 in the low byte; every node computes it alike. Two
 * lives of one node get the same id once in 255 starts: a survivor that
 * inherited the old life's connections then shares them with the new life
 * (each forwards them) until they end. 0 when the NodeID is not 1..255.
 */
uint16_t ranges_owner_id(const struct ranges_id *id);

struct ranges_member {
	uint32_t node;	 /* NodeID, != 0, each once */
	uint16_t weight; /* >= 1 */
};

/*
 * The aim for members m[0..n-1] (any order): owner[b] = the index in m of
 * bucket b's owner. 0, or -1 with errno EINVAL (n 0 or > RANGES_MAX_NODES,
 * buckets out of range, a weight 0 or a NodeID 0 or twice) or ENOMEM.
 */
int ranges_assign(const struct ranges_member *m, size_t n, uint32_t buckets, uint16_t *owner);

/*
 * The same, from what the members hold now: held[i] (NULL: nothing) is
 * m[i]'s claims. A bucket stays with its holder (held twice: the one that
 * ranks higher) while the holder is within its quota; a holder over its
 * quota keeps the ones it ranks highest; the rest go as above, to the
 * members with room. So from a settled assignment a join moves exactly
 * the newcomer's quota and a leave exactly the leaver's buckets.
 * ranges_assign is this with nothing held.
 */
int ranges_assign_held(const struct ranges_member *m, size_t n, uint32_t buckets,
		       const struct ranges_set *const *held, uint16_t *owner);

/* ---- the codec of the state ---- */

/* Why a state was refused; each is counted (ranges_stats.refused). */
enum ranges_refusal {
	RGR_OK = 0,
	RGR_SHORT,	 /* shorter than the header */
	RGR_VERSION,	 /* version is not RANGES_VERSION */
	RGR_BUCKETS,	 /* its bucket count is not ours (Buckets= differs) */
	RGR_LENGTH,	 /* the length is not header + the bitmap of its buckets */
	RGR_WEIGHT,	 /* weight 0 */
	RGR_INCARNATION, /* incarnation 0 */
	RGR_PADDING,	 /* a bit past the last bucket is set */
	RGR_NODE,	 /* from NodeID 0 or our own */
	RGR_STALE,	 /* an older incarnation, or an older serial of the current one */
	RGR__COUNT,
};

const char *ranges_refusal_name(enum ranges_refusal r);

struct ranges_state {
	uint8_t flags; /* RANGES_F_* */
	uint16_t weight;
	uint16_t buckets;
	uint64_t incarnation;
	uint32_t serial, view;
	uint64_t digest;
	struct ranges_set claims;
};

/* Encode st; its length (RANGES_HDR_LEN + the bitmap), or 0 when cap is too small. */
size_t ranges_encode(const struct ranges_state *st, uint8_t *buf, size_t cap);
/*
 * Decode a state of a cluster of `buckets` buckets into st. RGR_OK, or the
 * first reason it is refused (st is then undefined). Knows nothing of the
 * sender: RGR_NODE and RGR_STALE are ranges_on_state's.
 */
enum ranges_refusal ranges_decode(const uint8_t *buf, size_t len, uint32_t buckets,
				  struct ranges_state *st);

/* ---- the protocol ---- */

struct ranges_params {
	uint32_t self_id;     /* NodeID, != 0 */
	uint64_t incarnation; /* != 0, larger at every start (the cluster's epoch) */
	uint32_t buckets;     /* Buckets=, 1..RANGES_MAX_BUCKETS */
	uint16_t weight;      /* Weight=, >= 1 */
	uint32_t interval_ms; /* HeartbeatInterval, >= 1 */
	uint32_t dead_count;  /* DeadInterval, >= 1 */
	/*
	 * Listen at least this long at the start (ms; 0: DeadInterval + 1
	 * intervals alone): while it listens a node claims nothing, but its
	 * data path already marks what it sees of the others' connections as
	 * theirs, so a flow that sends within this time is never taken by it.
	 */
	uint32_t listen_ms;
};

enum ranges_action_type {
	/*
	 * The retired id `from` held the buckets in `set` last: its
	 * connections there are ours now (accept its old marks for them), in
	 * the same update as the RG_CLAIM that follows.
	 */
	RG_INHERIT,
	RG_CLAIM,   /* take the new connections of the buckets in set */
	RG_RELEASE, /* stop taking new connections in set (already taken ones stay) */
	RG_DISOWN,  /* `from` is alive again: its connections are its own again */
	/*
	 * Our state changed: cluster_set_state(CLUSTER_CHAN_RANGES,
	 * ranges_state_blob()). With push, also send it now (cluster_push_state).
	 */
	RG_STATE,
	RG_LOG, /* write text at level */
};

struct ranges_action {
	uint8_t type;		   /* enum ranges_action_type */
	uint8_t level;		   /* LOG: enum log_level */
	bool push;		   /* STATE */
	uint32_t n;		   /* INHERIT, CLAIM, RELEASE: buckets in set */
	struct ranges_id from;	   /* INHERIT, DISOWN */
	struct ranges_set set;	   /* INHERIT, CLAIM, RELEASE */
	char text[ACTION_LOG_MAX]; /* LOG */
};

/* A growing list: the core appends, the caller carries out and resets. */
struct ranges_actions {
	struct ranges_action *v;
	size_t n, cap;
	size_t dropped; /* actions lost to ENOMEM */
};

void ranges_actions_init(struct ranges_actions *a);
void ranges_actions_free(struct ranges_actions *a);
/* Forget every action, keep the memory. */
void ranges_actions_reset(struct ranges_actions *a);

struct ranges;

/*
 * A node that claims nothing yet and listens until now + (dead_count + 1)
 * x interval_ms, or listen_ms if longer. NULL with errno EINVAL (bad params) or ENOMEM. Call
 * ranges_tick at once: its first call hands the state on (RG_STATE).
 */
struct ranges *ranges_new(const struct ranges_params *p, uint64_t now);
void ranges_free(struct ranges *r);

/*
 * Inputs; each appends what follows from it to append.
 * ranges_on_state: node's state (CA_STATE on CLUSTER_CHAN_RANGES). 0, or
 * -1 and the reason counted (nothing else changes) when refused.
 */
int ranges_on_state(struct ranges *r, uint32_t node, const uint8_t *blob, size_t len, uint64_t now,
		    struct ranges_actions *append);
/* The cluster says node is up (CA_NODE_UP) or down (CA_NODE_DOWN). */
void ranges_node_up(struct ranges *r, uint32_t node, uint64_t now, struct ranges_actions *append);
void ranges_node_down(struct ranges *r, uint32_t node, uint64_t now, struct ranges_actions *append);
/* Our sync link (CA_OWN_UP/DOWN): while it is down nothing new is claimed. */
void ranges_set_link(struct ranges *r, bool up, uint64_t now, struct ranges_actions *append);
/*
 * Graceful stop: we leave the members (our state says stopping), release
 * everything at once and claim nothing again. The others take over after
 * hearing it, without waiting for our death.
 */
void ranges_stop(struct ranges *r, uint64_t now, struct ranges_actions *append);
/*
 * The data path has re-marked id's connections (or they are gone): forget
 * it in every bucket. 0, or -1 (ENOENT) when nothing was inherited from it.
 */
int ranges_forget(struct ranges *r, const struct ranges_id *id);

/* What is due at now (the end of listening, a silent peer ceasing to count). */
void ranges_tick(struct ranges *r, uint64_t now, struct ranges_actions *append);
/* The earliest time something is due; UINT64_MAX: nothing. */
uint64_t ranges_next_deadline(const struct ranges *r);

/* Our state, for the heartbeat. Its length, or 0 when cap is too small. */
size_t ranges_state_blob(const struct ranges *r, uint8_t *buf, size_t cap);

/* ---- read-only views (`arpha ranges`) ---- */

struct ranges_view {
	struct ranges_id self;
	uint32_t buckets;
	uint16_t weight;
	bool listening, link_up, stopping;
	bool agreed;	     /* every member's latest state carries our digest */
	bool complete;	     /* as far as we know: every bucket claimed by us or a live peer */
	size_t members;	     /* in our view, us included */
	uint32_t view;	     /* our member-set counter */
	uint64_t digest;     /* of our view */
	uint32_t serial;     /* of our claims */
	uint32_t claimed;    /* buckets we claim */
	uint32_t aimed;	     /* buckets the aim gives us */
	uint32_t unclaimed;  /* buckets nobody we know of claims */
	uint32_t duplicated; /* buckets claimed by two or more (us and live peers) */
	uint64_t changed_at; /* ms of the last claim or release */
};

void ranges_view(const struct ranges *r, struct ranges_view *out);

/* One node as we know it: index 0 is us, then the peers we have a state of. */
struct ranges_node_view {
	struct ranges_id id;
	uint16_t weight;
	bool self;
	bool up;	/* the cluster says so (us: always) */
	bool member;	/* in our view */
	bool agrees;	/* its latest state carries our digest */
	bool listening; /* it says so */
	bool stopping;	/* it says so */
	uint32_t view;
	uint64_t heard;			 /* ms of its last state */
	const struct ranges_set *claims; /* its latest claims (valid until the next call on r) */
	const struct ranges_set *aimed;	 /* what our aim gives it (members only) */
	uint32_t n_claims, n_aimed;
};

/* How many nodes ranges_node can show. */
size_t ranges_nodes(const struct ranges *r);
/* -1 (EINVAL) when i is out of range. */
int ranges_node(const struct ranges *r, size_t i, struct ranges_node_view *out);

/*
 * Has this node made its first ownership decision? False while it listens;
 * then true, for good, once it claims every bucket its aim gives it (when
 * the aim gives it none: once the view is agreed and every bucket is
 * claimed by it or a peer that counts), or once it claims nothing for a
 * reason of its own (its sync link is down, it stops). arphad tells
 * systemd it is ready only after this.
 */
bool ranges_decided(const struct ranges *r);

/* Our claims (the buckets whose new connections we take). */
const struct ranges_set *ranges_claims(const struct ranges *r);
/* Bucket b's aimed owner (NodeID) in our view; 0 when b is out of range. */
uint32_t ranges_aimed_owner(const struct ranges *r, uint32_t b);
/*
 * The retired ids whose connections in bucket b are ours (RG_INHERIT):
 * up to cap copied to out; returns how many there are.
 */
size_t ranges_inherited(const struct ranges *r, uint32_t b, struct ranges_id *out, size_t cap);

struct ranges_stats {
	uint64_t states;	      /* accepted */
	uint64_t refused[RGR__COUNT]; /* by reason */
	uint64_t claims, releases;    /* RG_CLAIM and RG_RELEASE actions */
	uint64_t claimed, released;   /* buckets in them */
	uint64_t inherited;	      /* buckets in RG_INHERIT */
	uint64_t view_changes;	      /* our member set changed */
	uint64_t retired;	      /* incarnations retired by a newer one */
	uint64_t waits;		      /* claims held back: no agreement or a live claimant */
};
const struct ranges_stats *ranges_stats(const struct ranges *r);

#endif
