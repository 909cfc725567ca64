#include "os/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Accept ARP, untagged or behind one 802.1Q tag; nothing else. */
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
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
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
	socklen_t sl = sizeof(sll);
	for (;;) {
		ssize_t n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&sll, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		*outgoing = sll.sll_pkttype == PACKET_OUTGOING;
		*otherhost = sll.sll_pkttype == PACKET_OTHERHOST;
		/* MSG_TRUNC gives the real length: a frame larger than buf is cut to cap */
		return n > (ssize_t)cap ? (long)cap : (long)n;
	}
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
