/*
 * packet: the AF_PACKET sockets of one managed interface.
 *
 *  - the send socket (packet_open): arphad sends on it and joins group
 *    MACs with it; it receives nothing (the host's own requests come from
 *    os/nflog, which costs nothing for the frames that are not ARP);
 *  - the receive ring (packet_ring_open): every incoming ARP frame, in a
 *    PACKET_MMAP TPACKET_V3 ring the kernel fills without a system call;
 *    it wakes the reader once per block (full, or after the block timeout),
 *    not once per frame;
 *  - beside the ring, the answer socket: the holders' answers that checks
 *    wait for (packet_ring_divert) come there as they arrive, and the ring
 *    has the rest.
 */
#ifndef ARPHA_OS_PACKET_H
#define ARPHA_OS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/*
 * The send socket: non-blocking, for every interface (each send names its
 * ifindex), bound to no protocol, so it receives nothing and the kernel
 * copies no frame to it. -1 with errno.
 */
int packet_open(void);

/*
 * Make ifindex receive frames sent to the group MAC mac (PACKET_MR_MULTICAST
 * on fd, a packet socket): the kernel adds it to the device's filter, and
 * removes it when fd is closed, also when the process dies. 0, or -1 with
 * errno.
 */
int packet_join_mac(int fd, uint32_t ifindex, const struct mac *mac);

/* Send a whole frame (buf starts at the Ethernet destination). 0 or -1. */
int packet_send(int fd, uint32_t ifindex, const uint8_t *buf, size_t len);

/* ---- the receive ring ---- */

struct packet_ring;

/*
 * The longest a frame waits in a block that is not full before the kernel
 * hands the block over (tp_retire_blk_tov): what the ring adds, at most, to
 * answering and learning.
 */
#define PACKET_RING_TIMEOUT_MS 1

/*
 * A TPACKET_V3 receive ring on ifindex that gets every incoming ARP frame
 * (untagged or behind one 802.1Q tag), nothing the host sends. NULL with
 * errno.
 */
struct packet_ring *packet_ring_open(uint32_t ifindex);
void packet_ring_close(struct packet_ring *r);

/* The descriptor to wait on: readable when a block is ready. */
int packet_ring_fd(const struct packet_ring *r);
/* Answer socket which's (0): readable when an answer came (only while diverted). */
int packet_ring_answers_fd(const struct packet_ring *r, int which);

/*
 * An answer a check (Verify) waits for: an ARP reply to the device's own
 * MAC from mac for ip (host order).
 */
struct packet_answer {
	uint32_t ip;
	struct mac mac;
};
#define PACKET_ANSWERS_MAX    64
#define PACKET_ANSWER_SOCKETS 1 /* the holders' answers */

/*
 * Divert the answers of the holders in holders[0..nh) (untagged replies to
 * the device's own MAC, from the holder's MAC for its address) from the
 * ring, which hands frames over a block later (up to one jiffy, 4 ms at
 * HZ=250, more behind a flood), to the answer socket, which hands each
 * over as it arrives. Only those: a flood of replies from anyone else
 * stays with the ring and cannot fill the socket a holder's answer comes
 * on (and a frame from the holder for its address is its answer, whoever
 * sent it). The claimants' answers stay with the ring too: a late one
 * only makes a move wait, never lets a claim through. Every frame reaches
 * one socket, and around a switch maybe two, never none. 0, or -1 with
 * errno (E2BIG: more than PACKET_ANSWERS_MAX; the filters may be half
 * switched: frames may reach two sockets, never none).
 */
int packet_ring_divert(struct packet_ring *r, const struct packet_answer *holders, size_t nh);

/*
 * Called for each frame: buf (len bytes) starts at the Ethernet
 * destination, with a VLAN tag the kernel took off put back; otherhost when
 * it was unicast to another MAC; arrived: when it reached the socket, in
 * CLOCK_MONOTONIC ms (os/util's now_ms). buf is valid during the call only.
 */
typedef void packet_frame_fn(void *arg, const uint8_t *buf, size_t len, bool otherhost,
			     uint64_t arrived);

/*
 * Hand every frame of the blocks the kernel has handed over to fn, oldest
 * first, and give the blocks back; at most max_blocks blocks (0: no limit).
 * Returns the number of frames.
 */
size_t packet_ring_read(struct packet_ring *r, size_t max_blocks, packet_frame_fn *fn, void *arg);
/* Hand the answers waiting on answer socket which to fn, at most max (0: all). */
size_t packet_ring_read_answers(struct packet_ring *r, int which, size_t max, packet_frame_fn *fn,
				void *arg);

/*
 * Frames to send, gathered while reading and sent together (one sendmmsg
 * for up to PACKET_TXQ_MAX): answers to a block of requests cost one system
 * call, not one each. Queue a frame (at most 128 bytes) for fd/ifindex; a
 * full queue is sent first. Returns the frames that could not be sent.
 */
#define PACKET_TXQ_MAX 64
size_t packet_ring_queue(struct packet_ring *r, int fd, uint32_t ifindex, const uint8_t *buf,
			 size_t len);
/* Send what is queued. Returns the frames that could not be sent. */
size_t packet_ring_flush(struct packet_ring *r, int fd, uint32_t ifindex);

/* Frames the kernel dropped because the ring (or the answer socket) was full, since the last call.
 */
uint64_t packet_ring_drops(struct packet_ring *r);

#endif
