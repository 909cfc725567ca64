#include "os/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * Accept ARP, untagged or behind one 802.1Q tag; nothing else. (Most
 * drivers hand the tag over out of band: the filter then sees ARP at 12,
 * and packet_recv puts the tag back from PACKET_AUXDATA.)
 */
static struct sock_filter arp_filter[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 0, 3),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 16),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

int packet_open(uint32_t ifindex)
{
	/* protocol 0 first: nothing is queued before the filter is in place */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sock_fprog prog = {
	    .len = sizeof(arp_filter) / sizeof(arp_filter[0]),
	    .filter = arp_filter,
	};
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL),
	    .sll_ifindex = (int)ifindex,
	};
	/* room for a burst while the loop is busy; FORCE passes rmem_max (CAP_NET_ADMIN) */
	int one = 1, rcvbuf = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

long packet_recv(int fd, uint8_t *buf, size_t cap, bool *outgoing, bool *otherhost)
{
	struct sockaddr_ll sll;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	/* room for a VLAN tag the kernel took off the frame and kept aside */
	struct iovec iov = {.iov_base = buf + 4, .iov_len = cap - 4};
	struct msghdr msg = {
	    .msg_name = &sll,
	    .msg_namelen = sizeof(sll),
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.b,
	    .msg_controllen = sizeof(ctl.b),
	};
	ssize_t n;
	for (;;) {
		n = recvmsg(fd, &msg, MSG_TRUNC);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	*outgoing = sll.sll_pkttype == PACKET_OUTGOING;
	*otherhost = sll.sll_pkttype == PACKET_OTHERHOST;
	size_t len = (size_t)n > cap - 4 ? cap - 4 : (size_t)n;
	uint16_t tci = 0;
	bool tagged = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		struct tpacket_auxdata aux;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (aux.tp_status & TP_STATUS_VLAN_VALID) {
			tagged = true;
			tci = aux.tp_vlan_tci;
		}
	}
	if (!tagged || len < 2 * ETH_ALEN) {
		memmove(buf, buf + 4, len);
		return (long)len;
	}
	/* put the tag back where it was, so the codec sees the frame as sent */
	memmove(buf, buf + 4, 2 * ETH_ALEN);
	buf[12] = ETH_P_8021Q >> 8;
	buf[13] = ETH_P_8021Q & 0xff;
	buf[14] = (uint8_t)(tci >> 8);
	buf[15] = (uint8_t)tci;
	return (long)(len + 4);
}

uint64_t packet_drops(int fd)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_drops;
}

int packet_send(int fd, uint32_t ifindex, const uint8_t *buf, size_t len)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = (int)ifindex,
	    .sll_halen = ETH_ALEN,
	};
	memcpy(sll.sll_addr, buf, ETH_ALEN);
	ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	return n == (ssize_t)len ? 0 : -1;
}
