/*
 * conntrack: the kernel's connection-tracking table, IPv4 only, through
 * libnetfilter_conntrack (nfct_nlmsg_build / nfct_nlmsg_parse, the
 * nfct_filter BPF) on two libmnl sockets:
 *
 *  - an event socket subscribed to the NEW, UPDATE and DESTROY groups,
 *    non-blocking, with a kernel-side filter: IPv4 only and the chosen
 *    protocols (default tcp, udp, icmp); a message the filter refuses
 *    never reaches the socket buffer;
 *  - a request socket for dumps, creates, updates and deletes.
 *
 * struct ct_entry is the ctsync contract's entry (host byte order; ICMP:
 * sport = id, dport = type << 8 | code). timeout is in seconds, as the
 * kernel counts it (what is left, when read; what to set, when written).
 * On writes the TCP flags the kernel takes are only CTK_TCP_FLAGS_COMMITTED
 * (the others describe window-tracking progress the new kernel has not
 * made); status bits the kernel does not let userspace change (confirmed,
 * NAT done, dying, ...) are ignored by it.
 *
 * Not thread-safe. Callbacks of ctk_read_events may call any ctk function;
 * callbacks of ctk_dump must not (the dump holds the request socket).
 */
#ifndef ARPHA_OS_CONNTRACK_H
#define ARPHA_OS_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctsync.h" /* struct ct_entry, enum ct_event */

struct ctk;

/* The ev argument of the event callback: the values of core/ctsync's enum ct_event. */
enum {
	CTK_EV_NEW = CT_EV_NEW,
	CTK_EV_UPDATE = CT_EV_UPDATE,
	CTK_EV_DESTROY = CT_EV_DESTROY,
	CTK_EV_UPDATE_PARTIAL = 3 /* see ctk_set_refetch */
};
_Static_assert(CT_EV_NEW == 0 && CT_EV_UPDATE == 1 && CT_EV_DESTROY == 2, "event numbers");

/*
 * TCP flags written to the kernel: IP_CT_TCP_FLAG_WINDOW_SCALE, _SACK_PERM,
 * _CLOSE_INIT and _BE_LIBERAL. Read back, the kernel reports all its flags.
 */
#define CTK_TCP_FLAGS_COMMITTED 0x0f

struct ctk_stats {
	uint64_t ev_msgs; /* netlink messages read on the event socket */
	uint64_t ev_new;  /* events handed to the callback, by kind */
	uint64_t ev_update;
	uint64_t ev_destroy;
	uint64_t ev_skipped; /* read but not handed on (not IPv4, protocol not
				wanted, unparsable, gone before a re-read) */
	uint64_t ev_own;     /* caused by our own requests: skipped (ctk_set_skip_own) */
	uint64_t ev_refetch; /* TCP updates without TCP state, completed by a GET */
	uint64_t enobufs;    /* times the kernel said it dropped events */
	uint64_t dumps;	     /* dumps completed */
	uint64_t dumped;     /* entries handed on by dumps */
	uint64_t committed;  /* entries created or updated by ctk_commit */
	uint64_t commit_failed;
	uint64_t commit_sends; /* send() calls of ctk_commit */
	uint64_t updates;      /* ctk_update calls that succeeded */
	uint64_t deletes;      /* entries ctk_delete and ctk_remove removed (or found gone) */
	int last_error;	       /* errno of the last entry the kernel refused, 0 if none */
};

/*
 * Open both sockets. rcvbuf_bytes: the event socket's receive buffer
 * (SO_RCVBUFFORCE, else SO_RCVBUF capped by net.core.rmem_max; <= 0 keeps
 * the default). Events: UPDATE and DESTROY, and NEW when new_events; tcp,
 * udp and icmp until ctk_set_protocols. NULL on failure, with errno and a
 * message for a person in err.
 *
 * Without NEW: while nothing on the machine listens for NEW events (the
 * kernel keeps one flag for every network namespace) the kernel builds
 * none, neither for each SYN that passes nor for the entries ctk_commit
 * creates, which makes a create about twice as cheap; a TCP connection
 * still shows up with its first UPDATE (ESTABLISHED is one), UDP and ICMP
 * once answered. (The groups are bound when the socket opens: a NEW
 * membership dropped later with setsockopt still has the kernel build
 * them.)
 */
struct ctk *ctk_open(int rcvbuf_bytes, bool new_events, char *err, size_t errlen);
void ctk_close(struct ctk *k);

/*
 * The protocols (IPPROTO_* numbers, 1..255, at most 32) of the entries the
 * event filter lets through and ctk_dump hands on; replaces the kernel
 * filter at once. 0, or -1/errno (EINVAL: n == 0, too many or 0 in the list).
 */
int ctk_set_protocols(struct ctk *k, const uint8_t *protos, size_t n);

/*
 * Only the events of entries whose mark & mask is mark & mask reach the
 * socket (the kernel filter; mask 0: every mark, the default); replaces
 * the filter at once. The events of an entry whose mark is 0 carry no
 * mark, and the filter refuses them (so mark & mask should not be 0). An
 * entry whose mark changes to one refused sends no event more, not even
 * its DESTROY. Dumps are not filtered. 0, or -1/errno.
 */
int ctk_set_mark(struct ctk *k, uint32_t mark, uint32_t mask);

/*
 * Force IP_CT_TCP_FLAG_BE_LIBERAL (no TCP window checks) on every TCP entry
 * ctk_commit and ctk_update write, as conntrackd does. Default off.
 */
void ctk_set_tcp_liberal(struct ctk *k, bool on);

/*
 * Skip the events that our own requests (ctk_commit, ctk_remove, ...)
 * caused: the kernel names the requesting socket in each event, so they
 * are told apart from everything else (counted in ev_own). Default off.
 */
void ctk_set_skip_own(struct ctk *k, bool on);

/*
 * A TCP UPDATE event without TCP state (a change of status or mark only):
 * with refetch on (the default) it is completed with a GET of the entry
 * and handed on as CTK_EV_UPDATE; with it off it is handed on at once as
 * CTK_EV_UPDATE_PARTIAL, its TCP state, flags and window scales zero, for
 * a caller that knows the entry to merge (one netlink round trip less per
 * connection).
 */
void ctk_set_refetch(struct ctk *k, bool on);

/* The event socket's fd: readable when ctk_read_events has work. */
int ctk_event_fd(const struct ctk *k);

/*
 * Read pending events without blocking and call cb for each (ev is one of
 * CTK_EV_*; the entry is valid during the call only). With
 * ctk_set_skip_own, events our own requests caused are not handed on. Reads at most a few
 * thousand messages per call; the fd stays readable if more wait.
 * Returns the number of events handed to cb, or -1/errno. ENOBUFS: the
 * kernel dropped events (the socket buffer was full); the table the caller
 * holds is stale and must be rebuilt with ctk_dump. Later calls go on
 * reading newer events.
 * A TCP UPDATE without TCP state (a change of status or mark only) is
 * completed with a GET of the entry before it is handed on.
 */
int ctk_read_events(struct ctk *k, void (*cb)(void *arg, int ev, const struct ct_entry *e),
		    void *arg);

/*
 * Dump the IPv4 table (entries whose protocol is in the ctk_set_protocols
 * list), calling cb for each entry. 0, or -1/errno (EINTR: the kernel
 * interrupted the dump; try again).
 */
int ctk_dump(struct ctk *k, void (*cb)(void *arg, const struct ct_entry *e), void *arg);

/*
 * ctk_dump of the entries whose mark & mask is mark & mask alone (the
 * kernel filters). 0, or -1/errno.
 */
int ctk_dump_mark(struct ctk *k, uint32_t mark, uint32_t mask,
		  void (*cb)(void *arg, const struct ct_entry *e), void *arg);

/*
 * Set the mark of n entries (found by orig tuple and zone) to each one's
 * mark field; nothing else of them changes, and none is created. Many
 * per send(). *failed as for ctk_commit (an entry gone meanwhile fails
 * with ENOENT). 0, or -1/errno.
 */
int ctk_set_marks(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *failed);

/*
 * Put n entries in the kernel: create each one, or update it if the kernel
 * has it already (NLM_F_CREATE without NLM_F_EXCL). Many messages per
 * send(); the kernel reports only the failures. *created (entries created
 * or updated) and *failed (refused: clash with another entry's tuple, a
 * status bit that can only be set, full table, ...; see last_error in
 * ctk_stats) are set when not NULL. 0 once every entry has an answer, or
 * -1/errno when the exchange itself failed (then the counts cover what
 * was answered).
 */
int ctk_commit(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *created,
	       size_t *failed);

/*
 * Delete n entries (by orig tuple and zone), many per send(); one already
 * gone is not a failure. *failed as for ctk_commit. 0, or -1/errno.
 */
int ctk_remove(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *failed);

/* Update the entry with e's orig tuple and zone to e's state. 0, or -1/errno (ENOENT). */
int ctk_update(struct ctk *k, const struct ct_entry *e);

/* Delete the entry with e's orig tuple and zone; a missing one is not an error. 0 or -1/errno. */
int ctk_delete(struct ctk *k, const struct ct_entry *e);

void ctk_get_stats(const struct ctk *k, struct ctk_stats *out);

#endif
