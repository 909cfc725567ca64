/*
 * host_fake: host.h for the services, without a daemon and without root.
 * It runs a service table under a clock the test sets, records in order
 * what the services ask of the host (addresses, state pushes, broadcasts,
 * frames, the barrier), and delivers published events after each call,
 * in table order, as the daemon does.
 */
#ifndef ARPHA_TESTS_HOST_FAKE_H
#define ARPHA_TESTS_HOST_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "daemon/host.h"
#include "daemon/svc.h"

#define FAKE_MAX_RECORDS 512
#define FAKE_REC_LEN	 96

struct fake_iface {
	struct host_iface pub;
};

/* The fake host's whole state (the test may read every field). */
struct host {
	uint64_t now;
	struct arp_engine *eng;
	struct loop *loop;
	struct nl *nl;
	struct config cfg;
	struct fake_iface ifs[4];
	size_t n_ifs;
	const struct svc_ops *const *table;
	void *self[8];
	size_t n_svc;
	struct {
		struct dev_ev ev;
		uint8_t data[1500];
	} q[64];
	size_t q_len;
	char rec[FAKE_MAX_RECORDS][FAKE_REC_LEN];
	size_t n_rec;
	uint64_t frames;
	uint8_t state[1500]; /* the last heartbeat state set */
	size_t state_len;
	uint16_t owner_id; /* host_owner_id */
	const struct nbtable *nbcache; /* host_nbcache */
	/* each broadcast, as sent (NULL: recorded only) */
	void (*on_broadcast)(void *arg, const uint8_t *msg, size_t len);
	void *broadcast_arg;
};

/* Parse cfg_text, make the engine and the interfaces (name, ifindex). 0 or -1. */
int fake_host_init(struct host *h, const char *cfg_text);
/* Start the table's services; 0, or -1 with the first error printed. */
int fake_host_start(struct host *h, const struct svc_ops *const *table, size_t n);
void fake_host_free(struct host *h);

/* Time passes to now: tick every service (and deliver what they published). */
void fake_host_tick(struct host *h, uint64_t now);
/* An event from outside (a node's heartbeat state, a link change). */
void fake_host_event(struct host *h, const struct dev_ev *ev);
/* Graceful stop: true while a service still hands over. */
bool fake_host_stop(struct host *h, bool first);

/* Append a record (the fake service rows use it too). */
void fake_record(struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The index of the first record starting with prefix, or -1. */
int fake_find(const struct host *h, const char *prefix);

#endif
