/*
 * os/mrd: sending Multicast Router Discovery advertisements (core/mrd) on
 * one interface: a raw IGMP socket, TTL 1, the Router Alert option, to
 * 224.0.0.106, out of the interface by index.
 */
#ifndef ARPHA_OS_MRD_H
#define ARPHA_OS_MRD_H

#include <stddef.h>
#include <stdint.h>

/* The socket (close-on-exec), or -1 with errno. */
int mrd_open(uint32_t ifindex);
/* Send msg (an IGMP message) to 224.0.0.106: 0, or -1 with errno. */
int mrd_send(int fd, const uint8_t *msg, size_t len);

#endif
