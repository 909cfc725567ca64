/*
 * failover: arphad's side of the VIPs. core/vip decides who owns each
 * group; this carries it out: addresses on and off the interface (or on a
 * macvlan with the virtual MAC), the announcements of every method
 * (gratuitous ARP, unicast ARP to every neighbour the cluster knows, flush
 * requests), the NotifyScript, and the neighbours shared over reliable
 * broadcast so that a new master knows whom to tell.
 */
#ifndef ARPHA_FAILOVER_H
#define ARPHA_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "os/util.h"

struct daemon;
struct config;
struct nl;
struct nl_event;

/*
 * Whether every NotifyScript= is safe to run as root (os/spawn's
 * spawn_check): each problem is a line "PATH:LINE: NotifyScript: ..." on
 * out. Returns the number of problems. For `arphad -n` and the start.
 */
int failover_check_scripts(const struct config *cfg, const char *path, FILE *out);

/* After the interfaces and the cluster are up. -1 with a message. */
int failover_start(struct daemon *d, char *err, size_t errlen);
void failover_free(struct daemon *d); /* gives every address back */

void failover_tick(struct daemon *d, uint64_t now);
uint64_t failover_next_deadline(const struct daemon *d);

/* From the cluster: a node's advert, a message, a node up, our sync link. */
void failover_on_state(struct daemon *d, uint32_t node, const uint8_t *data, size_t len);
void failover_on_deliver(struct daemon *d, uint32_t node, const uint8_t *data, size_t len);
void failover_on_node_up(struct daemon *d, uint32_t node);
void failover_on_sync_link(struct daemon *d, bool up);

/* A link changed or went away (tracked interfaces). */
void failover_on_link(struct daemon *d);

/* The engine installed a learned mapping on ifindex (shared with the cluster). */
void failover_on_neigh(struct daemon *d, uint32_t ifindex, uint32_t ip, const struct mac *mac);

/*
 * Graceful stop: release every group. True while the hand-over is under
 * way (call failover_stopped from the timer until it says done).
 */
bool failover_stop(struct daemon *d);
bool failover_stopped(struct daemon *d, uint64_t now);

/* `arpha vip`. */
void failover_show(struct daemon *d, struct sbuf *b, bool json, uint64_t now);

/* `arphad -r`: remove what a killed arphad left: VIP addresses and macvlans. */
int failover_release_leftovers(const struct config *cfg, struct nl *nl);

#endif
