/*
 * connsync: arphad's side of connection-tracking sync ([ConnSync]): our
 * kernel's conntrack events out to the cluster through core/ctsync, the
 * other nodes' tables in, and committed to the kernel when this node
 * takes a VIP over, before the address comes up.
 */
#ifndef ARPHA_CONNSYNC_H
#define ARPHA_CONNSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/util.h"

struct daemon;

/* After the cluster; -1 with a message. */
int connsync_start(struct daemon *d, char *err, size_t errlen);
void connsync_free(struct daemon *d);

void connsync_tick(struct daemon *d, uint64_t now);
uint64_t connsync_next_deadline(const struct daemon *d);

/* A reliable-broadcast message (ours start with 'C'). */
void connsync_on_deliver(struct daemon *d, uint32_t node, const uint8_t *data, size_t len);
/* CA_NODE_UP, CA_NODE_DOWN or CA_OUT_OF_SYNC for node. */
void connsync_on_node(struct daemon *d, uint32_t node, int what);

/* Put every connection held from the other nodes into the kernel (takeover). */
void connsync_commit(struct daemon *d);

/* `arpha conns`. */
void connsync_show(struct daemon *d, struct sbuf *b, bool json, uint64_t now);

#endif
