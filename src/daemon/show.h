/*
 * show: the daemon's own `arpha` views (arp show, stats, cluster) built
 * as data for the one writer (os/view.h), and the counters SIGUSR1 logs.
 * The services build theirs (vip, conns) in their own files.
 *
 *   show_arp.c      the ARP engine: arp show, stats, its counters logged
 *   show_cluster.c  the cluster: its members, refused sources, counters
 */
#ifndef ARPHA_DAEMON_SHOW_H
#define ARPHA_DAEMON_SHOW_H

#include <stddef.h>
#include <stdint.h>

struct arp_engine;
struct cluster;
struct view;

/* Where a node was last heard from (its datagrams' source). */
struct node_addr {
	uint32_t node;
	uint32_t addr; /* host order IPv4 */
	uint8_t path;  /* the path it was heard on */
};

/* `arpha arp show [IFACE]`: the entries of iface (NULL: every interface). */
void show_arp(struct view *v, const struct arp_engine *e, const char *iface, uint64_t now);

/* What the kernel refused arphad: failures, counted since the start. */
struct show_kernel {
	uint64_t neigh_errors; /* a neighbour entry not installed or not removed */
	uint64_t send_errors;  /* a frame not sent, on any interface */
};

/*
 * `arpha stats`: every interface, also one whose device is absent (its
 * counters are kept), with its state; then k's counters (NULL: none).
 */
void show_stats(struct view *v, const struct arp_engine *e, const struct show_kernel *k);

/*
 * `arpha cluster`: this node and every member, with the counters; with
 * several paths each member on each (devices: the paths' devices).
 */
void show_cluster(struct view *v, const struct cluster *c, const char *const *devices,
		  const struct node_addr *addrs, size_t n_addrs, uint64_t now);

/*
 * SIGUSR1: the counters as log lines at notice, event=counters, one per
 * interface (show_log_arp) and one for the cluster (show_log_cluster).
 */
void show_log_arp(const struct arp_engine *e);
void show_log_cluster(const struct cluster *c);

/* Log v as one key=value line (notice): the SIGUSR1 counters. */
void show_log(const struct view *v);

#endif
