/*
 * actions: what a core asks the shell to do. Cores append to a list the
 * caller owns; the shell carries the actions out in order and resets it.
 */
#ifndef ARPHA_CORE_ACTIONS_H
#define ARPHA_CORE_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "frame.h"

enum action_type {
	ACT_SEND,      /* transmit frame on ifindex */
	ACT_NEIGH_SET, /* install ip -> mac in the kernel neighbour table */
	ACT_NEIGH_DEL, /* remove ip from the kernel neighbour table */
	ACT_LOG,       /* write one log line */
	ACT_CHECKS,    /* the checks Verify runs on ifindex changed */
};

/*
 * ACT_CHECKS: the checks (Verify) running on ifindex changed (one started:
 * checks true; one ended: false). The engine decides them by deadlines a
 * few ms away, so their answers must reach it as they arrive, not a batch
 * later: the shell reads the checks again (arp_engine_checks) before it
 * sends the frames that follow the action (a new check's requests).
 */

/*
 * Why a neighbour is set, and so how the kernel holds it. The ARP engine
 * (core/arp_engine) is the only core that sets or deletes neighbours, and
 * the shell may rely on this:
 * - ACT_NEIGH_SET, NEIGH_REACHABLE: the engine accepted ip -> mac from the
 *   wire on ifindex, by its policy: a new mapping, a changed MAC, or the
 *   same MAC confirmed (a refresh is a fresh sighting too). These, and
 *   only these, are the mappings the machine learned: what the daemon
 *   passes on as "a neighbour was seen" (shared with the cluster).
 * - ACT_NEIGH_SET, NEIGH_PERMANENT: a configured Static entry is installed
 *   (arp_engine_add_entry); nothing was seen on the wire.
 * - ACT_NEIGH_DEL (kind NEIGH_REACHABLE): a learned mapping left the cache
 *   (expired, evicted, flushed). Static entries are never deleted.
 */
enum neigh_kind {
	NEIGH_REACHABLE, /* learned from the wire: kernel may age and re-probe it */
	NEIGH_PERMANENT, /* configured Static entry */
};

/* Same numbers as syslog(3) priorities. */
enum log_level {
	LOGL_ERR = 3,
	LOGL_WARNING = 4,
	LOGL_NOTICE = 5,
	LOGL_INFO = 6,
	LOGL_DEBUG = 7,
};

#define ACTION_LOG_MAX 480

struct action {
	uint8_t type; /* enum action_type */
	uint32_t ifindex;
	union {
		struct {
			uint16_t len;
			uint8_t buf[FRAME_MAX_LEN];
		} frame;
		struct {
			uint32_t ip;
			struct mac mac;
			uint8_t kind; /* enum neigh_kind */
		} neigh;
		struct {
			uint8_t level; /* enum log_level */
			char text[ACTION_LOG_MAX];
		} log;
		bool checks; /* ACT_CHECKS: a check started (true) or ended */
	} u;
};

struct actions {
	struct action *v;
	size_t n, cap;
	size_t dropped; /* actions lost to ENOMEM */
};

void actions_init(struct actions *a);
void actions_free(struct actions *a);
/* Forget every action, keep the memory. */
void actions_reset(struct actions *a);
/*
 * A new zeroed action at the end of the list, or NULL on ENOMEM (counted in
 * a->dropped).
 */
struct action *actions_push(struct actions *a, enum action_type type, uint32_t ifindex);
/* Append a log line (printf format). */
void actions_log(struct actions *a, uint32_t ifindex, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Build f and append it as ACT_SEND. */
void actions_send(struct actions *a, uint32_t ifindex, const struct arp_frame *f);

#endif
