#include "os/dhcpsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/dhcpsnoop.h"
#include "os/util.h"

/*
 * The filter. Offsets from the Ethernet destination of an untagged frame:
 * IPv4 header at 14 (protocol at 23, flags and fragment offset at 20, the
 * UDP header at 14 + 4 * IHL), IPv6 header at 14 (next header at 20, UDP
 * at 54). A jump counts the statements it skips.
 */
#define DROP_AT	     23 /* the index of the drop statement */
#define TO_DROP(i)   (DROP_AT - 1 - (i))
#define TO_ACCEPT(i) (DROP_AT - (i))
static struct sock_filter dhcp_filter[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, TO_DROP(1), 0),
    /*
     * 2: for another host: a unicast seen in promiscuous mode, or a frame
     * tagged for a VLAN no device of ours has (the kernel took its tag off
     * before a socket bound to one protocol sees it)
     */
    /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, TO_DROP(2), 0),
    /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, TO_DROP(4)),
    /* 5 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0),
    /* 7, jt to 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 9, TO_DROP(7)),
    /* 8, IPv4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
    /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, TO_DROP(9)),
    /* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
    /* 11, MF or offset */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, TO_DROP(11), 0),
    /* 12, X = 4 * IHL */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
    /* 13 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14),
    /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_PORT_V4_CLIENT, 0, TO_DROP(14)),
    /* 15 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
    /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_PORT_V4_SERVER, TO_ACCEPT(16), TO_DROP(16)),
    /* 17, IPv6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
    /* 18 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, TO_DROP(18)),
    /* 19 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 54),
    /* 20 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_PORT_V6_CLIENT, 0, TO_DROP(20)),
    /* 21 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 56),
    /* 22 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_PORT_V6_SERVER, TO_ACCEPT(22), TO_DROP(22)),
    /* 23 */ BPF_STMT(BPF_RET | BPF_K, 0),
    /* 24 */ BPF_STMT(BPF_RET | BPF_K, DHCPSOCK_FRAME_MAX),
};

struct dhcpsock {
	int fd[DHCPSOCK_FDS]; /* bound to IPv4, to IPv6 */
	uint64_t drops; /* PACKET_STATISTICS resets on read: the sum */
	struct mmsghdr msg[DHCPSOCK_BATCH];
	struct iovec iov[DHCPSOCK_BATCH];
	uint8_t buf[DHCPSOCK_BATCH][DHCPSOCK_FRAME_MAX];
};

struct dhcpsock *dhcpsock_open(uint32_t ifindex, char *err, size_t errlen)
{
	/* the filter's jumps land where the comments say */
	_Static_assert(sizeof(dhcp_filter) / sizeof(dhcp_filter[0]) == DROP_AT + 2,
		       "dhcp_filter: the drop and the accept close it");
	if (ifindex == 0 || ifindex > INT32_MAX) {
		err_printf(err, errlen, "dhcpsock: interface index %u is not an interface",
			   ifindex);
		errno = EINVAL;
		return NULL;
	}
	struct dhcpsock *s = calloc(1, sizeof(*s));
	if (!s) {
		err_printf(err, errlen, "dhcpsock on ifindex %u: out of memory", ifindex);
		errno = ENOMEM;
		return NULL;
	}
	s->fd[0] = s->fd[1] = -1;
	/*
	 * One socket per protocol, not one for every frame (ETH_P_ALL): an ARP
	 * flood then never reaches these filters, nor any other protocol that
	 * carries no DHCP. Each takes the frames of its own protocol only.
	 */
	static const uint16_t protos[DHCPSOCK_FDS] = {ETH_P_IP, ETH_P_IPV6};
	const char *what = "socket(AF_PACKET)";
	for (unsigned k = 0; k < DHCPSOCK_FDS; k++) {
		/* protocol 0: the socket takes nothing until bound, after the filter is in place */
		what = "socket(AF_PACKET)";
		s->fd[k] = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd[k] < 0)
			goto fail;
		struct sock_fprog prog = {
		    .len = sizeof(dhcp_filter) / sizeof(dhcp_filter[0]),
		    .filter = dhcp_filter,
		};
		what = "SO_ATTACH_FILTER";
		if (setsockopt(s->fd[k], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
			goto fail;
		int rcvbuf = DHCPSOCK_RCVBUF;
		what = "SO_RCVBUF";
		if (setsockopt(s->fd[k], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
			goto fail;
		/* optional: the filter refuses outgoing frames where the kernel lacks it (< 4.20) */
		int one = 1;
		setsockopt(s->fd[k], SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
		struct sockaddr_ll sll = {
		    .sll_family = AF_PACKET,
		    .sll_protocol = htons(protos[k]),
		    .sll_ifindex = (int)ifindex,
		};
		what = "bind";
		if (bind(s->fd[k], (struct sockaddr *)&sll, sizeof(sll)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < DHCPSOCK_BATCH; i++)
		s->iov[i] = (struct iovec){.iov_base = s->buf[i], .iov_len = sizeof(s->buf[i])};
	return s;
fail:;
	int e = errno;
	err_printf(err, errlen, "dhcpsock on ifindex %u: %s: %s%s", ifindex, what, strerror(e),
		   e == EPERM ? " (a packet socket needs CAP_NET_RAW)" : "");
	dhcpsock_close(s);
	errno = e;
	return NULL;
}

int dhcpsock_fd(const struct dhcpsock *s, unsigned i)
{
	return i < DHCPSOCK_FDS ? s->fd[i] : -1;
}

int dhcpsock_read(struct dhcpsock *s, unsigned max,
		  void (*fn)(void *arg, const uint8_t *frame, size_t len), void *arg)
{
	unsigned cap = max < DHCPSOCK_BATCH ? max : DHCPSOCK_BATCH;
	int got = 0;
	for (unsigned f = 0; f < DHCPSOCK_FDS && (unsigned)got < cap; f++) {
		unsigned n = cap - (unsigned)got;
		for (size_t i = 0; i < n; i++)
			s->msg[i] =
			    (struct mmsghdr){.msg_hdr = {.msg_iov = &s->iov[i], .msg_iovlen = 1}};
		int k;
		do
			k = recvmmsg(s->fd[f], s->msg, n, MSG_DONTWAIT, NULL);
		while (k < 0 && errno == EINTR);
		if (k < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return got ? got : -1;
		}
		for (int i = 0; i < k; i++) {
			/* the bytes copied: at most the filter's snap length, the buffer's */
			fn(arg, s->buf[i], s->msg[i].msg_len);
		}
		got += k;
	}
	return got;
}

uint64_t dhcpsock_drops(struct dhcpsock *s)
{
	for (unsigned f = 0; f < DHCPSOCK_FDS; f++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);
		if (getsockopt(s->fd[f], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			s->drops += st.tp_drops;
	}
	return s->drops;
}

void dhcpsock_close(struct dhcpsock *s)
{
	if (!s)
		return;
	for (unsigned f = 0; f < DHCPSOCK_FDS; f++)
		if (s->fd[f] >= 0)
			close(s->fd[f]);
	free(s);
}
