#include "os/mrd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mrd.h"

int mrd_open(uint32_t ifindex)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_IGMP);
	if (fd < 0)
		return -1;
	/* RFC 4286: TTL 1 and the Router Alert option (RFC 2113) */
	static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
	int ttl = 1, loop = 0;
	struct ip_mreqn mr = {.imr_ifindex = (int)ifindex};
	/* the socket sends only: a filter that takes nothing, or every IGMP
	   message the host receives would queue on it */
	struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = {.len = 1, .filter = &none};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ra, sizeof(ra)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int mrd_send(int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(MRD_ALL_SNOOPERS)};
	ssize_t n = sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to));
	return n == (ssize_t)len ? 0 : -1;
}
