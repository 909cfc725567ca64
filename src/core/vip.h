/*
 * vip: active-passive ownership of virtual addresses (DESIGN.md, core/vip).
 *
 * Ownership is decided per group: VIPs that must stay together share a
 * group and so an owner. Every node repeats its advert in each heartbeat
 * (cluster_set_state): per group, its effective priority (0 in fault or
 * when stopping) and its state. The rule that decides:
 *
 *  - rank = (priority, node ID); the master is the node that claims it;
 *  - two claims (a partition healed): the lower rank withdraws at once;
 *  - no live master: the best-ranked live candidate claims at once;
 *  - a backup with a higher priority takes over a live master only with
 *    Preempt=yes, after PreemptDelay without a change of its own priority
 *    (so a flapping link cannot ping-pong ownership faster than that);
 *  - a master silent for 1.25 heartbeat intervals is probed directly; if
 *    it does not answer within a quarter interval (at least 5 ms), it is
 *    dead. A single lost heartbeat costs a probe, never a takeover;
 *  - a stopping node releases (priority 0): the best backup claims at once.
 *
 * Pure: no I/O, no clock, no globals. The caller sends the advert
 * (vip_advert) with every heartbeat, and at once when vip_out.push says so.
 */
#ifndef ARPHA_CORE_VIP_H
#define ARPHA_CORE_VIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIP_NAME_MAX   32 /* group names: up to 31 bytes */
#define VIP_MAX_GROUPS 64
#define VIP_MAX_PEERS  64

struct vip_group_conf {
	char name[VIP_NAME_MAX];
	uint8_t priority; /* 1..254 */
	bool preempt;
	uint32_t preempt_delay_ms;
};

struct vip_params {
	uint32_t self_id;     /* != 0 */
	uint32_t interval_ms; /* HeartbeatInterval, >= 1 */
};

enum vip_state { VIP_INIT = 0, VIP_BACKUP, VIP_MASTER, VIP_FAULT, VIP__COUNT };

const char *vip_state_name(enum vip_state s);

enum vip_ev_type {
	VE_STATE,    /* group's state changed (state, prev, owner) */
	VE_REASSERT, /* still master, but another node claimed too: announce again */
};

struct vip_ev {
	uint8_t type; /* enum vip_ev_type */
	uint8_t state, prev;
	uint16_t group;
	uint32_t owner; /* the owner as known now; 0: none */
};

struct vip_out {
	size_t n;
	struct vip_ev v[2 * VIP_MAX_GROUPS];
	bool push; /* send our advert to all now */
};

struct vip;

/* NULL with errno EINVAL (bad params, duplicate names, bad priority) or ENOMEM. */
struct vip *vip_new(const struct vip_params *p, const struct vip_group_conf *g, size_t n,
		    uint64_t now);
void vip_free(struct vip *v);

/* An advert from node arrived. -1 (and a counter) when it does not parse. out->n reset first. */
int vip_on_advert(struct vip *v, uint32_t node, const uint8_t *buf, size_t len, uint64_t now,
		  struct vip_out *out);

/* Timers: init, probes, preempt delay. out->n is reset first. */
void vip_tick(struct vip *v, uint64_t now, struct vip_out *out);
uint64_t vip_next_deadline(const struct vip *v);

/* A tracked interface of the group went down (fault) or all are up again. */
void vip_set_fault(struct vip *v, size_t group, bool fault, uint64_t now, struct vip_out *out);

/*
 * Take demote off the group's priority (health checks that fail, `arpha
 * vip demote`): the effective priority is the configured one less demote,
 * at least 1 (still a candidate: fault is vip_set_fault). A change is
 * pushed, and counts as a change of priority for PreemptDelay.
 */
void vip_set_demote(struct vip *v, size_t group, uint8_t demote, uint64_t now, struct vip_out *out);

/*
 * The groups become g[0..n-1] (a reload). A group of the same name keeps
 * its state, what the peers advertised for it, its fault and its
 * demotion, and takes the new priority and preemption (a change of its
 * priority is pushed and restarts PreemptDelay). A new group starts in
 * init: it listens three intervals before claiming. A gone group is
 * forgotten without an event (its addresses are the caller's to give
 * back). map (VIP_MAX_GROUPS entries) gets, for each old group, its new
 * index or -1 when it is gone. Then decides as vip_tick does; events
 * carry the new indices. 0, or -1/EINVAL (as vip_new) with nothing
 * changed.
 */
int vip_reconf(struct vip *v, const struct vip_group_conf *g, size_t n, uint64_t now, int *map,
	       struct vip_out *out);

/*
 * Our sync link: while it is down nobody is declared dead (we could not
 * hear them); when it comes back everyone gets a fresh interval.
 */
void vip_set_link(struct vip *v, bool up, uint64_t now, struct vip_out *out);

/*
 * Graceful stop: every group is released (priority 0, no claim); no
 * events. The caller keeps its addresses until vip_handed_over.
 */
void vip_shutdown(struct vip *v, uint64_t now, struct vip_out *out);

/*
 * After vip_shutdown: every group we held has another live master, or nobody
 * is left. *taken (may be NULL): a live master took at least one.
 */
bool vip_handed_over(const struct vip *v, uint64_t now, bool *taken);

/* Our advert, for the heartbeat or a push. Length, or 0 if cap is too small. */
size_t vip_advert(const struct vip *v, uint8_t *buf, size_t cap);

struct vip_group_view {
	const char *name;
	uint8_t state;	     /* enum vip_state */
	uint8_t priority;    /* effective: 0 in fault, else configured - demote (at least 1) */
	uint8_t configured;  /* Priority= */
	uint8_t demote;	     /* vip_set_demote */
	uint32_t owner;	     /* 0: none known */
	uint64_t changed_at; /* ms of the last state change */
	uint32_t changes;    /* state changes so far */
};

size_t vip_groups(const struct vip *v);
int vip_group(const struct vip *v, size_t group, uint64_t now, struct vip_group_view *out);

struct vip_stats {
	uint64_t adverts, malformed, unknown_groups, probes_sent, probes_answered, masters_lost;
};
const struct vip_stats *vip_stats(const struct vip *v);

#endif
