/*
 * packet: one AF_PACKET socket per managed interface that sees every ARP
 * frame in and out (the kernel's own requests arrive as PACKET_OUTGOING).
 */
#ifndef ARPHA_OS_PACKET_H
#define ARPHA_OS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/* A non-blocking socket bound to ifindex, filtered to ARP. -1 with errno. */
int packet_open(uint32_t ifindex);

/*
 * Receive one frame. Returns its length, 0 when nothing is queued, -1 with
 * errno on error. *outgoing and *otherhost from the frame's packet type. A
 * VLAN tag the kernel took off is put back in the frame (so cap must leave
 * 4 bytes of room beyond the largest frame wanted).
 */
long packet_recv(int fd, uint8_t *buf, size_t cap, bool *outgoing, bool *otherhost);

/*
 * Frames the kernel dropped because the socket's buffer was full, since the
 * last call (the kernel resets its count when read). 0 on error.
 */
uint64_t packet_drops(int fd);

/* Send a whole frame (buf starts at the Ethernet destination). 0 or -1. */
int packet_send(int fd, uint32_t ifindex, const uint8_t *buf, size_t len);

#endif
