#include "os/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct udp {
	int fd;
	uint16_t port;
	bool group;
	uint32_t dests[CONF_MAX_PEERS]; /* the group, or the peers */
	size_t n_dests;
};

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	return sin;
}

struct udp *udp_open(const struct conf_cluster *cfg, const char *device, uint32_t ifindex,
		     const uint32_t *peers, size_t n_peers, char *err, size_t errlen)
{
	struct udp *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->port = cfg->port;
	u->group = cfg->has_group;
	if (cfg->has_group) {
		u->dests[0] = cfg->group;
		u->n_dests = 1;
	} else {
		if (n_peers > CONF_MAX_PEERS)
			n_peers = CONF_MAX_PEERS;
		if (n_peers)
			memcpy(u->dests, peers, n_peers * sizeof(peers[0]));
		u->n_dests = n_peers;
	}
	const char *what = "socket";
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		goto fail;
	int one = 1, zero = 0, ttl = 1;
	what = "SO_BINDTODEVICE";
	if (setsockopt(u->fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device)) < 0)
		goto fail;
	setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in any = sin_of(INADDR_ANY, cfg->port);
	what = "bind";
	if (bind(u->fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		goto fail;
	if (cfg->has_group) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof(mr));
		mr.imr_multiaddr.s_addr = htonl(cfg->group);
		mr.imr_ifindex = (int)ifindex;
		what = "joining the multicast group";
		if (setsockopt(u->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			goto fail;
		what = "IP_MULTICAST_IF";
		if (setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			goto fail;
		setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero));
		setsockopt(u->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	}
	int buf = 1 << 20;
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/*
	 * Room for a burst of reliable broadcast (a takeover's connection
	 * updates) without EAGAIN for the heartbeats that follow it: with the
	 * default 208 KiB a burst of thousands of connection records filled it,
	 * heartbeats were not sent, and the peers wrote each other off.
	 * FORCE passes wmem_max (CAP_NET_ADMIN).
	 */
	int sbuf = 4 << 20;
	if (setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sbuf, sizeof(sbuf)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sbuf, sizeof(sbuf));
	return u;
fail:
	snprintf(err, errlen, "cluster transport on %s port %u: %s: %s", device,
		 (unsigned)cfg->port, what, strerror(errno));
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return NULL;
}

void udp_close(struct udp *u)
{
	if (!u)
		return;
	close(u->fd);
	free(u);
}

int udp_fd(const struct udp *u)
{
	return u->fd;
}

int udp_send_to(struct udp *u, uint32_t addr, const uint8_t *buf, size_t len)
{
	struct sockaddr_in sin = sin_of(addr, u->port);
	ssize_t n = sendto(u->fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	return n == (ssize_t)len ? 0 : -1;
}

int udp_send_all(struct udp *u, const uint8_t *buf, size_t len)
{
	int rc = 0;
	for (size_t i = 0; i < u->n_dests; i++)
		if (udp_send_to(u, u->dests[i], buf, len) < 0)
			rc = -1;
	return rc;
}

long udp_recv(struct udp *u, uint8_t *buf, size_t cap, uint32_t *from)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	for (;;) {
		ssize_t n = recvfrom(u->fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&sin, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		*from = ntohl(sin.sin_addr.s_addr);
		/* a datagram larger than cap is cut: the codec refuses it as truncated */
		return n > (ssize_t)cap ? (long)cap : (long)n;
	}
}
