/*
 * udp: the cluster's transport on one sync link (a path). Two UDP sockets
 * bound to the link's device, both sending to a multicast group (Group=)
 * or to each of a list of unicast peers (those of Peers= on this path),
 * and to one node once its address is known (learned from its
 * authenticated datagrams), all on Port=:
 *
 *  - the bulk socket, bound to Port=, receives everything and sends the
 *    reliable broadcast (a 4 MiB send buffer for a takeover's burst);
 *  - the urgent socket sends the heartbeats and the soft state, from a
 *    port the kernel picks, with SO_PRIORITY TC_PRIO_CONTROL. Its send
 *    buffer holds nothing else, so however much bulk is queued, a
 *    heartbeat is never refused (EAGAIN); and a queueing discipline that
 *    knows priorities (pfifo_fast, the kernel's default; prio) sends it
 *    ahead of the queued bulk, one that separates flows (fq_codel) beside
 *    it. Receivers learn a node's address from the source address alone,
 *    so the other source port changes nothing for them.
 */
#ifndef ARPHA_OS_UDP_H
#define ARPHA_OS_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct udp;

/*
 * Open and bind on device (ifindex) per cfg (port, group); without a group,
 * send to peers (n_peers of them). NULL with err.
 */
struct udp *udp_open(const struct conf_cluster *cfg, const char *device, uint32_t ifindex,
		     const uint32_t *peers, size_t n_peers, char *err, size_t errlen);
void udp_close(struct udp *u);
int udp_fd(const struct udp *u);

/*
 * To everyone: the group, or every peer; on the urgent socket when urgent.
 * 0, or -1 with errno (the last failure).
 */
int udp_send_all(struct udp *u, bool urgent, const uint8_t *buf, size_t len);
/* To one address (host order IPv4). 0 or -1. */
int udp_send_to(struct udp *u, bool urgent, uint32_t addr, const uint8_t *buf, size_t len);

/*
 * Receive one datagram: its length, 0 when none is queued, -1 on error.
 * *from: the source IPv4 address (host order).
 */
long udp_recv(struct udp *u, uint8_t *buf, size_t cap, uint32_t *from);

#endif
