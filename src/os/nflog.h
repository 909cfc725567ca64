/*
 * nflog: the ARP requests the host's kernel sends, as the nftables guard's
 * output chain logs them to an NFLOG group (nfnetlink_log).
 *
 * A packet socket for every protocol would see them too, but the kernel
 * would then copy every frame the device sends, forwarded traffic included,
 * to that socket and run its filter on every frame it receives. The log
 * statement runs in the ARP output hook alone, on ARP the host itself
 * sends: nothing else costs anything.
 *
 * The message is queued on this socket inside the output hook, before the
 * frame leaves the host (the rule's queue-threshold 1 and the group's own
 * threshold of 1 turn off the kernel's batching): a reply to the request
 * can only come after it, so reading this socket before the receive rings
 * keeps every reply behind the request it answers.
 *
 * What is logged is the frame as the kernel built it, from the Ethernet
 * destination on (at the ARP output hook the hardware header is already
 * in front of the ARP header): a unicast re-probe keeps its destination.
 * The frames arphad sends on its packet sockets never pass that hook.
 */
#ifndef ARPHA_OS_NFLOG_H
#define ARPHA_OS_NFLOG_H

#include <stddef.h>
#include <stdint.h>

/*
 * The NFLOG group of the host's ARP requests (arphad's own, in every
 * network namespace it runs in; one process per namespace can bind it).
 */
#define NFLOG_ARP_GROUP 16722

struct nflog;

/*
 * Bind NFLOG group, copying whole frames, delivering each at once (no
 * batching), with sequence numbers (so lost messages are counted);
 * non-blocking, close-on-exec. NULL with errno; EBUSY when the group is
 * bound already by another socket of this network namespace (the kernel
 * says EPERM or EBUSY: nflog_open turns both into EBUSY when the group is
 * listed as taken in /proc/net/netfilter/nfnetlink_log).
 */
struct nflog *nflog_open(uint16_t group);
/* Unbind (the kernel also does when the socket closes) and free. */
void nflog_close(struct nflog *n);

/* The descriptor to wait on. */
int nflog_fd(const struct nflog *n);

/*
 * Called for each logged frame: buf (len bytes) starts at the Ethernet
 * destination; ifindex is the device it is sent on. buf is valid during
 * the call only.
 */
typedef void nflog_frame_fn(void *arg, uint32_t ifindex, const uint8_t *buf, size_t len);

/*
 * Hand what is queued to fn, oldest first, at most max frames (0: until
 * nothing is left). Returns the number of frames, or -1 with errno on an
 * error other than a lost message (ENOBUFS is counted, see nflog_drops).
 */
long nflog_read(struct nflog *n, size_t max, nflog_frame_fn *fn, void *arg);

/*
 * Messages the kernel could not queue because the socket's buffer was
 * full, since the last call: gaps in the group's sequence numbers, and one
 * as soon as the kernel says it dropped some (ENOBUFS), before the next
 * message shows the gap.
 */
uint64_t nflog_drops(struct nflog *n);

#endif
