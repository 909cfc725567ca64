/*
 * show: the engine's state as people read it (aligned tables) or as
 * scripts read it (JSON).
 */
#ifndef ARPHA_OS_SHOW_H
#define ARPHA_OS_SHOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arp_engine.h"
#include "core/cluster.h"
#include "os/util.h"

/* `arpha arp show [IFACE]`; iface NULL for every interface. */
void show_arp(struct sbuf *b, struct arp_engine *e, const char *iface, bool json, uint64_t now);
/* Where a node was last heard from (its datagrams' source). */
struct node_addr {
	uint32_t node;
	uint32_t addr; /* host order IPv4 */
};

/* `arpha cluster`: this node and every member, with the counters. */
void show_cluster(struct sbuf *b, const struct cluster *c, const struct node_addr *addrs,
		  size_t n_addrs, bool json, uint64_t now);

/*
 * `arpha stats`: every interface, also one whose device is absent (its
 * counters are kept), with its state.
 */
void show_stats(struct sbuf *b, struct arp_engine *e, bool json);

/*
 * SIGUSR1: the counters as log lines at notice, event=counters, one per
 * interface and one for the cluster (c may be NULL).
 */
void show_log_counters(struct arp_engine *e, const struct cluster *c);

#endif
