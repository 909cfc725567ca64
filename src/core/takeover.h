/*
 * takeover: what a node does with the VIPs core/vip gives it (DESIGN.md,
 * the ownership layer). core/vip decides which node owns each group; this
 * core owns that struct vip (every input goes through here, so nothing
 * core/vip decides can be left unapplied, and there is one deadline) and
 * turns its decisions into a schedule:
 *
 *  - a group's state changes (TK_STATE, then what follows for its VIPs);
 *  - a group becomes ours: the connections first (TK_PREPARE), then per
 *    VIP the address (TK_TAKE, on a lease), at once the first round of
 *    announcements (the VIP's Announce= methods; flush requests only in
 *    this round, and only with [Flush]), then AnnounceCount-1 more rounds
 *    AnnounceInterval apart, and a round every RefreshInterval while it
 *    stays ours (0: none). Each later round is due AnnounceInterval (or
 *    RefreshInterval) after the tick that sent the one before;
 *  - while an address is ours its lease is renewed every
 *    TAKEOVER_LEASE_RENEW_MS (TK_RENEW);
 *  - another node claimed a group we still own (core/vip's VE_REASSERT):
 *    one extra round for each of its VIPs;
 *  - a group stops being ours: each address goes back (TK_GIVE) and its
 *    schedule stops;
 *  - every state change of a group queues the NotifyScript of each of its
 *    VIPs that has one (TK_NOTIFY_RUN). Per group one runs at a time, in
 *    the order of the changes; up to TAKEOVER_NOTIFY_QUEUE wait behind it,
 *    and when that many wait the oldest waiting one is dropped (logged and
 *    counted). One that runs longer than TAKEOVER_NOTIFY_TIMEOUT_MS is
 *    killed, once (TK_NOTIFY_KILL); when the shell reports its end
 *    (takeover_script_done) the next one waiting starts;
 *  - a graceful stop (takeover_stop) releases every group (core/vip's
 *    shutdown) and says so at once; when some address was ours the
 *    addresses stay until another node holds each group or the hand-over
 *    deadline, max(3 x HeartbeatInterval, 100 ms), passes
 *    (takeover_stopped), our advert going out 2 ms after the stop and
 *    then every 5 ms; then takeover_release gives them back;
 *  - our advert (core/vip's, for cluster_set_state) is handed on whenever
 *    it changed, and pushed to every node at once when core/vip asks.
 *
 * Output: every call that can produce actions takes `append`, a list it
 * only appends to (never resets); the caller carries the actions out in
 * order and resets the list (takeover_actions_reset) when it likes.
 *
 * The shell knows the interfaces, the processes and the clock; this core
 * knows none of them: no I/O, no clock, no globals. It never learns a
 * script's pid: the shell maps "the notification of group g that runs"
 * to its process.
 *
 * Log lines: the core appends (TK_LOG) the lines that need nothing but
 * its own state, as arphad has always written them: event=vip_<state>,
 * event=vip_reassert, event=notify_dropped (reason=queue_full and
 * reason=stopping), event=handover action=start|done|timeout. The lines
 * that carry what only the shell knows stay the shell's: event=notify_start,
 * notify_done, notify_failed (a pid, an exit status), notify_timeout (the
 * pid: written when it carries out TK_NOTIFY_KILL), and the failures of
 * netlink and sockets (vip_take_failed, vip_add_failed, ...).
 */
#ifndef ARPHA_CORE_TAKEOVER_H
#define ARPHA_CORE_TAKEOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "config.h"
#include "vip.h"

/*
 * A VIP is held on a lease the kernel enforces: renewed every
 * TAKEOVER_LEASE_RENEW_MS, it expires TAKEOVER_LEASE_S seconds after the
 * renewals stopped (arphad killed or hung), so a dead daemon does not keep
 * answering for it. The lifetime is the shell's business (TK_TAKE,
 * TK_RENEW); the renewals are the core's.
 */
#define TAKEOVER_LEASE_S	   2
#define TAKEOVER_LEASE_RENEW_MS	   500
#define TAKEOVER_NOTIFY_TIMEOUT_MS 10000
#define TAKEOVER_NOTIFY_QUEUE	   16  /* of one group, waiting behind the one that runs */
#define TAKEOVER_HANDOVER_MIN_MS   100 /* the hand-over's deadline: 3 heartbeats, at least this */
#define TAKEOVER_PUSH_FIRST_MS	   2   /* while handing over: the first push after the stop */
/*
 * Handed over, the addresses stay this long before they go: a neighbour
 * that checks the new holder's claim before it follows (Verify, up to 50
 * ms by default) still reaches them here meanwhile.
 */
#define TAKEOVER_DRAIN_MS 100
#define TAKEOVER_PUSH_EVERY_MS	   5   /* then one every this */

struct takeover_params {
	uint32_t self_id;     /* NodeID, != 0 (core/vip) */
	uint32_t interval_ms; /* HeartbeatInterval, >= 1: core/vip's timing, the hand-over's */
	bool flush;	      /* [Flush] is set up: Announce=flush can be carried out */
};

enum takeover_action_type {
	/*
	 * Group's state changed (state, prev, owner), before what that
	 * means for its VIPs: nothing to carry out, for whoever follows
	 * ownership (DEV_OWNER, the sim).
	 */
	TK_STATE,
	/*
	 * The groups in `groups` (bit g) become ours in this list: before the
	 * first TK_TAKE after it, put in place what must precede an address
	 * (the connections: connsync_commit). At most one per list.
	 */
	TK_PREPARE,
	/*
	 * Take vip's address on a lease of TAKEOVER_LEASE_S (its macvlan up
	 * first with VirtualMAC=yes) and answer for it. If that fails, say so
	 * (takeover_take_failed) and skip the TR_TAKEOVER round after it.
	 */
	TK_TAKE,
	TK_GIVE,     /* remove vip's address (and take its macvlan down) */
	TK_ANNOUNCE, /* one round for vip: the ANN_* in methods; round says which */
	TK_RENEW,    /* renew vip's lease: TAKEOVER_LEASE_S from now */
	/*
	 * Run vip's NotifyScript with (VIP name, state, priority) as group's
	 * running notification. If it cannot be started, say so:
	 * takeover_script_done(TK_SCRIPT_NOT_STARTED).
	 */
	TK_NOTIFY_RUN,
	/*
	 * Group's running notification (vip, state) passed its deadline: kill
	 * it and what it started, and log event=notify_timeout with its pid.
	 * Its end is still to be reported (takeover_script_done).
	 */
	TK_NOTIFY_KILL,
	/*
	 * Our advert changed: cluster_set_state(takeover_advert()). With push,
	 * also send it to every node now (cluster_push_state(c, 0)).
	 */
	TK_ADVERT,
	TK_LOG, /* write text at level */
};

enum takeover_round {
	TR_TAKEOVER, /* the first, right after the VIP's TK_TAKE; the only one with ANN_FLUSH */
	TR_REPEAT,   /* one of the AnnounceCount-1 after it */
	TR_REFRESH,  /* every RefreshInterval */
	TR_REASSERT, /* another node claimed the group too */
};

struct takeover_action {
	uint8_t type;	  /* enum takeover_action_type */
	uint8_t round;	  /* ANNOUNCE: enum takeover_round */
	uint8_t methods;  /* ANNOUNCE: ANN_* to use in this round */
	uint8_t state;	  /* STATE: the new one; NOTIFY_*: the one the notification tells */
	uint8_t prev;	  /* STATE: the one before */
	uint8_t priority; /* NOTIFY_RUN: the group's effective priority */
	bool push;	  /* ADVERT */
	uint8_t level;	  /* LOG: enum log_level */
	uint16_t group;	  /* all but PREPARE, ADVERT, LOG: the group (index in core/vip) */
	uint32_t vip;	  /* TAKE, GIVE, ANNOUNCE, RENEW, NOTIFY_*: index in the VIPs given */
	uint32_t owner;	  /* STATE: the owner as core/vip knows it now; 0: none */
	uint64_t groups;  /* PREPARE: bit g for group g */
	char text[ACTION_LOG_MAX]; /* LOG */
};

/* A growing list: the core appends, the caller carries out and resets. */
struct takeover_actions {
	struct takeover_action *v;
	size_t n, cap;
	size_t dropped; /* actions lost to ENOMEM */
};

void takeover_actions_init(struct takeover_actions *a);
void takeover_actions_free(struct takeover_actions *a);
/* Forget every action, keep the memory. */
void takeover_actions_reset(struct takeover_actions *a);

struct takeover;

/*
 * The VIPs in configuration order (their index is the one actions carry);
 * VIPs with the same Group= form a group, numbered in order of first
 * appearance, with the first one's Priority=, Preempt= and PreemptDelay=
 * (config.c makes them agree). vips is copied. NULL with errno: EINVAL
 * (bad params, a bad name or priority, more than VIP_MAX_GROUPS groups:
 * then err, when not NULL, gets "LINE: more than 64 VIP groups" with the
 * line of the VIP that opens group 65) or ENOMEM.
 */
struct takeover *takeover_new(const struct takeover_params *p, const struct conf_vip *vips,
			      size_t n, uint64_t now, char *err, size_t errlen);
void takeover_free(struct takeover *t);

/*
 * A reload: the VIPs become vips[0..n-1] (p must keep NodeID and the
 * interval). A VIP of the same name, group, address, interface and
 * VirtualMAC= stays in place: its address, schedule and counters are
 * kept, with its new settings (Announce=, RefreshInterval=, NotifyScript=
 * ...). Every other VIP is a new one, and every old one not kept gives
 * its address back: those TK_GIVE (old indices) and their log lines go
 * to gone, to be carried out before the new list is used. The groups
 * follow vip_reconf (a kept group keeps its state; a new one listens
 * first). What follows goes to append in the new indices: a new VIP of a
 * group that is ours is taken (TK_PREPARE, TK_TAKE and its rounds), then
 * whatever the new priorities decide. vmap (the old VIP count) and gmap
 * (VIP_MAX_GROUPS) get each old VIP's and group's new index, or -1 when
 * gone. A running notification whose VIP is gone keeps running; its
 * takeover_notify view then has vip TAKEOVER_NO_VIP. 0, or -1 with
 * nothing changed: EINVAL (NodeID or the interval changed, more than
 * VIP_MAX_GROUPS groups: then err as takeover_new), EBUSY (stopping),
 * ENOMEM.
 */
#define TAKEOVER_NO_VIP UINT32_MAX
int takeover_reconf(struct takeover *t, const struct takeover_params *p,
		    const struct conf_vip *vips, size_t n, uint64_t now,
		    struct takeover_actions *gone, struct takeover_actions *append, int *vmap,
		    int *gmap, char *err, size_t errlen);

/*
 * Inputs. Each runs core/vip, then carries out its decisions; all append
 * to append. takeover_on_advert: a node's advert (CA_STATE) arrived; -1
 * (counted by core/vip, nothing appended) when it does not parse.
 */
int takeover_on_advert(struct takeover *t, uint32_t node, const uint8_t *buf, size_t len,
		       uint64_t now, struct takeover_actions *append);
/* A tracked interface of group went down (fault) or they are all up again. */
void takeover_set_fault(struct takeover *t, size_t group, bool fault, uint64_t now,
			struct takeover_actions *append);
/* Take demote off a group's priority (vip_set_demote). */
void takeover_set_demote(struct takeover *t, size_t group, uint8_t demote, uint64_t now,
			 struct takeover_actions *append);
/* Our sync link went down or came back (CA_OWN_DOWN, CA_OWN_UP). */
void takeover_set_link(struct takeover *t, bool up, uint64_t now, struct takeover_actions *append);

/* Everything due at now: core/vip's timers, rounds, renewals, script deadlines, pushes. */
void takeover_tick(struct takeover *t, uint64_t now, struct takeover_actions *append);
/* The earliest time something is due (it may be <= now: tick now); UINT64_MAX: none. */
uint64_t takeover_next_deadline(const struct takeover *t);

/*
 * The TK_TAKE of vip failed: the address is not ours. Its schedule stops
 * (no rounds, no renewals) and leaving the group gives nothing back. The
 * TR_TAKEOVER round that follows the TK_TAKE is to be skipped.
 */
void takeover_take_failed(struct takeover *t, size_t vip);

enum takeover_script_result {
	TK_SCRIPT_OK,	       /* it ran and exited 0 */
	TK_SCRIPT_FAILED,      /* it ran and failed: an exit status, a signal (killed) */
	TK_SCRIPT_NOT_STARTED, /* it could not be started (unsafe, exec failed) */
};

/*
 * Group's running notification ended (or never started): counted; the
 * next one waiting starts (a TK_NOTIFY_RUN appended). May be called
 * while carrying out append: new actions go to its end. -1 (EINVAL) when
 * none of group runs.
 */
int takeover_script_done(struct takeover *t, size_t group, enum takeover_script_result r,
			 uint64_t now, struct takeover_actions *append);

/*
 * Graceful stop: every group released (core/vip's shutdown) and our advert
 * pushed. True when some address is ours: a hand-over is under way, call
 * takeover_stopped after each tick until it says it is over. False: none
 * is needed (a second call returns what the first did, appends nothing).
 */
bool takeover_stop(struct takeover *t, uint64_t now, struct takeover_actions *append);

/*
 * True when no hand-over is under way any more: every group we held has
 * another live master (logged "done"), or the deadline passed (logged
 * "timeout"), or none was needed. The addresses are still ours: give them
 * back with takeover_release.
 */
bool takeover_stopped(struct takeover *t, uint64_t now, struct takeover_actions *append);

/*
 * The end: every address still ours goes back (TK_GIVE) and every
 * notification still waiting is dropped (logged reason=stopping). The one
 * that runs is left to the shell.
 */
void takeover_release(struct takeover *t, struct takeover_actions *append);

/* Our advert, for the heartbeat (cluster_set_state). Length, or 0 when cap is too small. */
size_t takeover_advert(const struct takeover *t, uint8_t *buf, size_t cap);

/* ---- read-only views (`arpha vip`) ---- */

/* The ownership core inside: vip_groups, vip_group, vip_stats. */
const struct vip *takeover_vip_core(const struct takeover *t);
/* How many VIPs (as given to takeover_new). */
size_t takeover_vips(const struct takeover *t);

struct takeover_vip_view {
	size_t group;		/* index in core/vip */
	bool holding;		/* the address is ours */
	uint8_t methods;	/* ANN_* of the last TR_TAKEOVER round; 0: none yet */
	uint32_t announce_left; /* TR_REPEAT rounds still to go */
	uint64_t announce_next; /* when the next TR_REPEAT round is due (with announce_left) */
	uint64_t refresh_next;	/* when the next TR_REFRESH round is due; 0: none */
	uint64_t renew_next;	/* when the lease is renewed next (while holding) */
	uint64_t takeovers;	/* TK_TAKE asked */
	uint64_t rounds;	/* TK_ANNOUNCE asked, of every kind */
	uint64_t notify_runs, notify_failed, notify_dropped;
};

/* -1 (EINVAL) if vip is out of range. */
int takeover_vip(const struct takeover *t, size_t vip, struct takeover_vip_view *out);

struct takeover_notify_view {
	bool running;	   /* a notification of the group runs (or is being started) */
	bool killed;	   /* TK_NOTIFY_KILL was asked for it */
	uint32_t vip;	   /* running: whose */
	uint8_t state;	   /* running: the state it tells */
	uint8_t priority;  /* running: the priority it tells */
	uint64_t deadline; /* running and not killed: when it is killed */
	size_t waiting;	   /* queued behind it */
};

/* The notifications of group. -1 (EINVAL) if group is out of range. */
int takeover_notify(const struct takeover *t, size_t group, struct takeover_notify_view *out);

/* The hand-over: under way (takeover_stop said so, takeover_stopped did not yet). */
bool takeover_handing_over(const struct takeover *t);

#endif
