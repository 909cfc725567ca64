/*
 * dhcpsock: the DHCP client messages of one managed interface, for the
 * neighbour cache's snooping (core/dhcpsnoop parses them). arphad only
 * reads: it is no DHCP server and sends nothing on this socket.
 *
 * Two AF_PACKET sockets bound to the interface, one for IPv4 and one for
 * IPv6 frames (so ARP and other protocols never reach them), whose cBPF filter (in place
 * before the bind, so nothing else is ever queued) takes only incoming,
 * untagged frames carrying
 *   - IPv4, protocol UDP, not a fragment, UDP 68 -> 67 (DHCPv4 client), or
 *   - IPv6, next header UDP (no extension header), UDP 546 -> 547 (DHCPv6
 *     client).
 * IPv4 fragments stay in the kernel: core/dhcpsnoop refuses them anyway
 * (DR_IP_FRAGMENT), and a client sends none in practice. Frames behind an
 * 802.1Q tag are not taken (a VLAN is managed as its own interface). What
 * the host sends is not taken either (PACKET_IGNORE_OUTGOING, and the
 * filter refuses it where the kernel predates that option), nor what the
 * kernel marks for another host (a unicast seen in promiscuous mode, or a
 * frame tagged for a VLAN no device of ours has: the kernel takes such a
 * tag off before a socket bound to one protocol sees the frame).
 */
#ifndef ARPHA_OS_DHCPSOCK_H
#define ARPHA_OS_DHCPSOCK_H

#include <stddef.h>
#include <stdint.h>

/* Frames dhcpsock_read hands over at most per call: a flood cannot hold the loop. */
#define DHCPSOCK_BATCH 64
/* Bytes kept of a frame; a longer one arrives cut (core/dhcpsnoop: truncated). */
#define DHCPSOCK_FRAME_MAX 2048
/* SO_RCVBUF asked for (the kernel doubles it): some hundred messages. */
#define DHCPSOCK_RCVBUF (256 * 1024)

struct dhcpsock;

/*
 * The socket of ifindex: non-blocking, close-on-exec. NULL with errno, and
 * err (errlen bytes, may be NULL when errlen is 0) saying which step
 * failed and why ("dhcpsock on ifindex 3: bind: No such device"). Needs
 * CAP_NET_RAW. ifindex 0 is EINVAL (that would be every interface).
 */
struct dhcpsock *dhcpsock_open(uint32_t ifindex, char *err, size_t errlen);

/* Its descriptors (i < DHCPSOCK_FDS: IPv4, IPv6): wait on each; readable when a frame is queued. */
#define DHCPSOCK_FDS 2
int dhcpsock_fd(const struct dhcpsock *s, unsigned i);

/*
 * Hand the frames queued on both (at most max, and at most DHCPSOCK_BATCH) to fn,
 * oldest first: frame starts at the Ethernet destination (as
 * dhcpsnoop_parse wants), len bytes, valid during the call only. Returns
 * the number of frames (0: none queued), or -1 with errno from recvmmsg
 * (ENETDOWN once after the link went down: the socket stays usable).
 */
int dhcpsock_read(struct dhcpsock *s, unsigned max,
		  void (*fn)(void *arg, const uint8_t *frame, size_t len), void *arg);

uint64_t dhcpsock_drops(struct dhcpsock *s);

/* Close and free; NULL is nothing. */
void dhcpsock_close(struct dhcpsock *s);

#endif
