/*
 * sim: many arpha nodes (struct cluster each) in one process, under a
 * virtual clock and over a virtual network that loses, duplicates, delays
 * and reorders datagrams, cuts links and crashes nodes.
 *
 * Deterministic: everything random comes from the seed (splitmix64 into
 * xorshift64*); there is no real clock and no rand(). The same seed and
 * the same calls give the same run.
 *
 * Nodes are numbered 0..n-1 (indexes); node i has NodeID i + 1. A
 * restart gives node i a new struct cluster with a larger epoch and the
 * same key.
 *
 * Time only moves in sim_run_until: it pops datagram arrivals and node
 * deadlines in time order (ties in the order they were scheduled), and
 * feeds them to the nodes. Calls between two sim_run_until happen at
 * sim_now().
 *
 * With VIPs (sim_params.n_vips) every node also runs core/takeover (and
 * the core/vip inside it) the way arphad's failover does: its advert rides
 * the heartbeats (cluster_set_state) and pushes (cluster_push_state), the
 * others' arrive as CA_STATE, the sync link as CA_OWN_UP/DOWN; its
 * deadline is the earlier of the two cores'. The sim carries out the
 * takeover actions: takes and gives always work, a NotifyScript runs
 * script_ms (or until killed); everything is recorded (sim_fo_records).
 *
 * With ranges (sim_params.buckets) every node also runs core/ranges the
 * way the ranges service will: incarnation = the cluster's epoch, its
 * state on CLUSTER_CHAN_RANGES (set, and pushed when it asks), the
 * others' as CA_STATE, CA_NODE_UP/DOWN and CA_OWN_UP/DOWN fed in, its
 * deadline among the node's. Claims and releases are what the test reads
 * (sim_ranges, ranges_claims); a crashed node claims nothing.
 *
 * Paths (sim_params.n_paths > 1): the nodes are linked by several
 * networks, each a switch every node has one port on (see cluster.h).
 * Every node's cluster gets n_paths; a datagram goes out on the path its
 * action names, and arrives (cluster_input_path) on that path; loss,
 * duplication and delay apply to each copy. A path fails at one node in
 * two ways: its own link goes down (sim_set_path_link: the node is told),
 * or the path is cut between the node and the switch (sim_cut_path: a
 * cable or a switch port elsewhere; the node is not told). Either way
 * nothing passes on that path to or from the node, datagrams already on
 * the way to it included. sim_partition cuts every path.
 */
#ifndef ARPHA_TESTS_SIM_H
#define ARPHA_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cluster.h"
#include "core/ranges.h"
#include "core/takeover.h"

#define SIM_MAX_NODES 32
#define SIM_REC_DATA  32 /* bytes of a delivered message kept in its record */

struct sim_params {
	uint64_t seed;
	unsigned nodes;	      /* 1..SIM_MAX_NODES */
	uint32_t interval_ms; /* HeartbeatInterval; 0: 100 */
	uint32_t dead_count;  /* DeadInterval; 0: 3 */
	uint32_t send_buffer; /* SendBuffer; 0: 256 */
	bool encrypt;
	double loss;	    /* probability a datagram is lost on a link */
	double dup;	    /* probability it arrives twice */
	uint32_t delay_ms;  /* base one-way delay */
	uint32_t jitter_ms; /* plus 0..jitter_ms, uniform: reorders */
	/* failover (n_vips 0: the cluster alone) */
	const struct conf_vip *vips; /* every node's [VIP] sections, copied */
	size_t n_vips;
	uint8_t priority[SIM_MAX_NODES]; /* node i's Priority= for all its VIPs; 0: as in vips */
	bool flush;			 /* [Flush] is set up (takeover_params.flush) */
	uint32_t script_ms;		 /* how long a NotifyScript runs */
	/* active-active (buckets 0: none) */
	uint32_t buckets;		/* Buckets= */
	uint16_t weight[SIM_MAX_NODES]; /* node i's Weight=; 0: 1 */
	/* paths: 0 or 1: one network, as before paths; up to CLUSTER_MAX_PATHS */
	unsigned n_paths;
};

/* One thing a node reported (a cluster action other than a send). */
struct sim_rec {
	uint64_t t;		    /* virtual ms */
	unsigned node;		    /* the index of the node that reported it */
	uint8_t type;		    /* enum cluster_action_type: never CA_SEND_* */
	uint32_t peer;		    /* the action's node ID (the origin of a DELIVER) */
	uint8_t chan;		    /* STATE: the channel */
	uint8_t path;		    /* PATH_*, OWN_PATH_*: the path; 0 otherwise */
	uint16_t len;		    /* DELIVER, STATE: the message's or state's length */
	uint8_t data[SIM_REC_DATA]; /* DELIVER, STATE: its first bytes */
};

/* Totals over every cluster the sim ran (crashed ones included). */
struct sim_counts {
	uint64_t heartbeats;	   /* TLVs sent */
	uint64_t data;		   /* new RB_DATA TLVs sent */
	uint64_t resent;	   /* RB_DATA TLVs sent again */
	uint64_t naks;		   /* RB_NAK TLVs sent */
	uint64_t gones;		   /* RB_GONE TLVs sent */
	uint64_t datagrams;	   /* sealed by nodes */
	uint64_t transmitted;	   /* node-to-node copies put on the network */
	uint64_t lost;		   /* copies lost at random */
	uint64_t cut;		   /* copies dropped by a partition, a link down or a crash */
	uint64_t duplicated;	   /* extra copies */
	uint64_t injected;	   /* sim_inject */
	uint64_t to_crashed;	   /* CA_SEND_TO a node that is crashed */
	uint64_t drops[WR__COUNT]; /* refused by the receivers' wire layer */
	uint64_t malformed;
	uint64_t states;	  /* STATE actions */
	uint64_t state_drops;	  /* state TLVs refused, every reason */
	uint64_t delivered;	  /* DELIVER actions */
	uint64_t out_of_sync;	  /* OUT_OF_SYNC actions */
	uint64_t stuck;		  /* a deadline still due right after its tick (a core bug) */
	uint64_t dropped_actions; /* cluster_actions.dropped, takeover_actions.dropped (ENOMEM) */
	uint64_t state_errors;	  /* cluster_set_state refused an advert */
	uint64_t path_transmitted[CLUSTER_MAX_PATHS]; /* of transmitted: on each path */
	uint64_t path_downs[CLUSTER_MAX_PATHS];	      /* PATH_DOWN reports, by path */
};

struct sim;

/* NULL on ENOMEM or bad params. Runs sodium_init(). All nodes start at 0. */
struct sim *sim_new(const struct sim_params *p);
void sim_free(struct sim *s);

uint64_t sim_now(const struct sim *s);
unsigned sim_nodes(const struct sim *s);
uint32_t sim_node_id(unsigned idx);
/* The node's cluster; NULL while it is crashed. */
struct cluster *sim_cluster(struct sim *s, unsigned idx);
/* How many times the node was (re)started: 1 at first. */
unsigned sim_generation(const struct sim *s, unsigned idx);
/* When the node last sent a heartbeat; UINT64_MAX if never. */
uint64_t sim_last_heartbeat(const struct sim *s, unsigned idx);

/* Process everything due up to and including t; then sim_now() == t. */
void sim_run_until(struct sim *s, uint64_t t);

/* Node idx broadcasts len bytes at sim_now(). -1 if crashed or refused. */
int sim_broadcast(struct sim *s, unsigned idx, const void *data, size_t len);

/* The network; takes effect for datagrams sent from now on. */
void sim_set_loss(struct sim *s, double loss);
void sim_set_dup(struct sim *s, double dup);
void sim_set_delay(struct sim *s, uint32_t delay_ms, uint32_t jitter_ms);

/*
 * Cut every link between a node in set a and a node in set b (bitmasks
 * of indexes), both ways; sim_heal removes every cut. Datagrams already
 * on the way still arrive.
 */
void sim_partition(struct sim *s, uint32_t a, uint32_t b);
void sim_heal(struct sim *s);
/* Whether from reaches to on path; on any path. */
bool sim_path_linked(const struct sim *s, unsigned from, unsigned to, unsigned path);
bool sim_linked(const struct sim *s, unsigned from, unsigned to);

/*
 * The node's own link of path: cluster_set_path_link, and its traffic on
 * that path is dropped while down. sim_set_link is path 0's (with one
 * path: the node's only link; with several, the others stay as they are).
 * A (re)start brings every link of the node up; a path >= n_paths is
 * ignored.
 */
void sim_set_link(struct sim *s, unsigned idx, bool up);
void sim_set_path_link(struct sim *s, unsigned idx, unsigned path, bool up);

/*
 * Cut (or mend) path between node idx and the switch, the node not told:
 * its link stays up, nothing passes to or from it on that path. A restart
 * does not mend it. A path >= n_paths is ignored.
 */
void sim_cut_path(struct sim *s, unsigned idx, unsigned path, bool cut);

unsigned sim_paths(const struct sim *s); /* n_paths, 1 when 0 was asked */
bool sim_path_link_up(const struct sim *s, unsigned idx, unsigned path);
bool sim_path_cut(const struct sim *s, unsigned idx, unsigned path);

/*
 * Stop the node (its cluster freed; datagrams to it dropped). Its takeover
 * is freed without giving anything back: a killed arphad's addresses stay
 * until their lease runs out.
 */
void sim_crash(struct sim *s, unsigned idx);
/* Start it again: a new cluster, a larger epoch, the same key and NodeID. */
void sim_restart(struct sim *s, unsigned idx);

/*
 * Stop the node gracefully, as arphad on SIGTERM: takeover_stop, then,
 * while a hand-over is under way, takeover_stopped after each of its
 * ticks; once it is over, takeover_release and the node is gone (as
 * crashed, without SF_CRASH). Without VIPs: sim_crash.
 */
void sim_stop(struct sim *s, unsigned idx);
/* Whether a graceful stop of the node is under way. */
bool sim_stopping(const struct sim *s, unsigned idx);
/* The node's takeover; NULL without VIPs or while it is down. */
struct takeover *sim_takeover(struct sim *s, unsigned idx);
/* The node's ranges; NULL without buckets or while it is down. */
struct ranges *sim_ranges(struct sim *s, unsigned idx);

/* Hand len bytes to node idx at time at (>= sim_now()), as if from the network (path 0). */
void sim_inject(struct sim *s, unsigned idx, const void *buf, size_t len, uint64_t at);

/*
 * The tap sees every datagram a node sends, before the network decides
 * its fate: from (an index), to (an index, or -1 for a CA_SEND_ALL); with
 * several paths, each path's copy (the path is not passed).
 */
typedef void sim_tap_fn(void *arg, uint64_t t, unsigned from, int to, const uint8_t *buf,
			size_t len);
void sim_set_tap(struct sim *s, sim_tap_fn *fn, void *arg);

/* What the failover of a node did (struct sim_fo_rec.kind). */
enum sim_fo_kind {
	SF_START,	/* the node (re)started */
	SF_CRASH,	/* it crashed: addresses it held stay until their lease runs out */
	SF_STATE,	/* a group's state changed on it: group, state, prev */
	SF_PREPARE,	/* TK_PREPARE: groups */
	SF_TAKE,	/* TK_TAKE: vip, group */
	SF_GIVE,	/* TK_GIVE: vip, group */
	SF_ANNOUNCE,	/* TK_ANNOUNCE: vip, group, round, methods */
	SF_RENEW,	/* TK_RENEW: vip, group */
	SF_NOTIFY_RUN,	/* TK_NOTIFY_RUN: vip, group, state */
	SF_NOTIFY_KILL, /* TK_NOTIFY_KILL: vip, group, state */
	SF_NOTIFY_END,	/* the running notification of group ended: state 1 ok, 0 failed */
	SF_STOP,	/* sim_stop: state 1 when a hand-over began */
	SF_STOPPED,	/* the stop is over, the node gone: state 1 "done", 0 "timeout" or none */
};

struct sim_fo_rec {
	uint64_t t;
	unsigned node;
	uint8_t kind; /* enum sim_fo_kind */
	uint8_t state, prev;
	uint8_t round, methods;
	uint16_t group;
	uint32_t vip;
	uint64_t groups;
};

/* Every failover record so far, in order; valid until the next call on s. */
const struct sim_fo_rec *sim_fo_records(const struct sim *s, size_t *n);

/* Every record so far, in order; valid until the next call on s. */
const struct sim_rec *sim_records(const struct sim *s, size_t *n);
/* Forget the records (the counts stay). */
void sim_clear_records(struct sim *s);

void sim_counts(const struct sim *s, struct sim_counts *out);

/*
 * Test traffic. A message is: 'M', origin index (1), generation (2),
 * counter (8, big-endian, from 1 per generation), then filler bytes
 * derived from the counter, so a record shows whether its bytes arrived
 * intact.
 */
#define SIM_MSG_MIN 12
size_t sim_msg_encode(uint8_t *buf, size_t cap, unsigned origin, unsigned gen, uint64_t counter,
		      size_t len);
/* Decode a DELIVER record; false if it is not an intact message. */
bool sim_msg_decode(const struct sim_rec *r, unsigned *origin, unsigned *gen, uint64_t *counter);

struct sim_traffic {
	uint64_t sent[SIM_MAX_NODES]; /* the last counter each node sent, in gen[i] */
	unsigned gen[SIM_MAX_NODES];
	size_t min_len, max_len; /* message lengths: uniform; 0, 0: SIM_MSG_MIN..200 */
};

/*
 * Run until `until`, the nodes in mask (bit i: index i) each broadcasting
 * one message every period_ms, evenly staggered. A restarted node's
 * counter starts again at 1. Crashed nodes skip their turn.
 */
void sim_traffic_run(struct sim *s, struct sim_traffic *tr, uint32_t mask, uint32_t period_ms,
		     uint64_t until);

/* The key every node uses. */
const struct wire_key *sim_key(void);

/* The sim's PRNG, for tests that want randomness tied to the seed. */
uint64_t sim_rand(struct sim *s);
/* Uniform in [0, n); 0 if n == 0. */
uint64_t sim_rand_below(struct sim *s, uint64_t n);

#endif
