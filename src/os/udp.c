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
	int fd;	       /* bound to Port=: receives; sends the bulk */
	int urgent_fd; /* sends heartbeats and soft state (udp.h) */
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

/*
 * A socket on device, bound to port (0: one the kernel picks), sending to
 * the group through ifindex when there is one. The receiving socket
 * (port != 0) joins the group; the other takes no multicast at all.
 * The fd, or -1 with *what the step that failed.
 */
static int open_sock(const struct conf_cluster *cfg, const char *device, uint32_t ifindex,
		     uint16_t port, const char **what)
{
	*what = "socket";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0, ttl = 1;
	*what = "SO_BINDTODEVICE";
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device)) < 0)
		goto fail;
	if (port)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in any = sin_of(INADDR_ANY, port);
	*what = "bind";
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		goto fail;
	if (cfg->has_group) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof(mr));
		mr.imr_multiaddr.s_addr = htonl(cfg->group);
		mr.imr_ifindex = (int)ifindex;
		*what = "joining the multicast group";
		if (port && setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			goto fail;
		*what = "IP_MULTICAST_IF";
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			goto fail;
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero));
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	}
	if (!port) /* a sender only: the group's datagrams go to the other socket alone */
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
	return fd;
fail : {
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
}

struct udp *udp_open(const struct conf_cluster *cfg, const char *device, uint32_t ifindex,
		     const uint32_t *peers, size_t n_peers, char *err, size_t errlen)
{
	struct udp *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->fd = u->urgent_fd = -1;
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
	const char *what;
	const char *which = "";
	if ((u->fd = open_sock(cfg, device, ifindex, cfg->port, &what)) < 0)
		goto fail;
	which = " (heartbeat socket)";
	if ((u->urgent_fd = open_sock(cfg, device, ifindex, 0, &what)) < 0)
		goto fail;
	int buf = 1 << 20;
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/*
	 * Room for a burst of reliable broadcast (a takeover's connection
	 * updates), so less of it is lost to EAGAIN and asked for again.
	 * FORCE passes wmem_max (CAP_NET_ADMIN). The heartbeats do not
	 * depend on it: they have a socket of their own.
	 */
	int sbuf = 4 << 20;
	if (setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sbuf, sizeof(sbuf)) < 0)
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sbuf, sizeof(sbuf));
	/* TC_PRIO_CONTROL (7) needs CAP_NET_ADMIN; TC_PRIO_INTERACTIVE (6) does not */
	int prio = 7;
	if (setsockopt(u->urgent_fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) < 0) {
		prio = 6;
		setsockopt(u->urgent_fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
	}
	return u;
fail:
	snprintf(err, errlen, "cluster transport on %s port %u%s: %s: %s", device,
		 (unsigned)cfg->port, which, what, strerror(errno));
	udp_close(u);
	return NULL;
}

void udp_close(struct udp *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->urgent_fd >= 0)
		close(u->urgent_fd);
	free(u);
}

int udp_fd(const struct udp *u)
{
	return u->fd;
}

int udp_send_to(struct udp *u, bool urgent, uint32_t addr, const uint8_t *buf, size_t len)
{
	struct sockaddr_in sin = sin_of(addr, u->port);
	ssize_t n = sendto(urgent ? u->urgent_fd : u->fd, buf, len, 0, (struct sockaddr *)&sin,
			   sizeof(sin));
	return n == (ssize_t)len ? 0 : -1;
}

int udp_send_all(struct udp *u, bool urgent, const uint8_t *buf, size_t len)
{
	int rc = 0;
	for (size_t i = 0; i < u->n_dests; i++)
		if (udp_send_to(u, urgent, u->dests[i], buf, len) < 0)
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
