#include "os/nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter_arp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* An ARP frame with one 802.1Q tag fits with room to spare. */
#define COPY_RANGE 256

struct nflog {
	struct mnl_socket *nl;
	uint16_t group;
	uint32_t next_seq; /* the sequence number the next message should have */
	bool overrun;	   /* one drop counted at ENOBUFS, its gap not seen yet */
	uint64_t drops;
	uint8_t buf[16384];
};

/* The group's configuration, in the one request that binds it. */
static struct nlmsghdr *config_msg(char *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_ARP;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {
	    .copy_range = htonl(COPY_RANGE),
	    .copy_mode = NFULNL_COPY_PACKET,
	};
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	/* every message sent at once, not after 100 of them or a second */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	return nlh;
}

/* Whether /proc lists group as bound (by a socket of this network namespace). */
static bool group_listed(uint16_t group)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_log", "re");
	if (!f)
		return false;
	unsigned g;
	char line[128];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%u", &g) == 1 && g == group;
	fclose(f);
	return found;
}

/*
 * Bind the group (no PF_BIND: a log rule that names its group reaches
 * nfnetlink_log whichever logger the family has). 0, or -1 with errno.
 */
static int bind_group(struct nflog *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh = config_msg(buf, n->group, seq);
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	ssize_t r = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
	if (r < 0)
		return -1;
	if (mnl_cb_run(buf, (size_t)r, seq, mnl_socket_get_portid(n->nl), NULL, NULL) >= 0)
		return 0;
	/* another socket has the group: the kernel says EPERM */
	if ((errno == EPERM || errno == EBUSY) && group_listed(n->group))
		errno = EBUSY;
	return -1;
}

struct nflog *nflog_open(uint16_t group)
{
	struct nflog *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->group = group;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	int fd = mnl_socket_get_fd(n->nl);
	/* room for a burst while the loop is busy; FORCE passes rmem_max (CAP_NET_ADMIN) */
	int rcvbuf = 1 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind_group(n) < 0)
		goto fail;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	return n;
fail:;
	int e = errno;
	nflog_close(n);
	errno = e;
	return NULL;
}

void nflog_close(struct nflog *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
}

int nflog_fd(const struct nflog *n)
{
	return mnl_socket_get_fd(n->nl);
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);
	if (mnl_attr_type_valid(a, NFULA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

/*
 * A gap in the sequence numbers: messages the kernel could not queue. The
 * one counted at ENOBUFS (so that a loss shows before the next message
 * does) is part of the gap.
 */
static void count_seq(struct nflog *n, const struct nlattr *seq)
{
	if (!seq || mnl_attr_get_payload_len(seq) < sizeof(uint32_t))
		return;
	uint32_t s = ntohl(mnl_attr_get_u32(seq));
	uint32_t gap = s - n->next_seq;
	if (n->overrun && gap) {
		/* the messages queued before the loss come first, then the gap */
		gap--;
		n->overrun = false;
	}
	n->drops += gap;
	n->next_seq = s + 1;
}

/* One message: a frame of the ARP output hook, to fn. 1 when it was one. */
static int packet_msg(struct nflog *n, const struct nlmsghdr *nlh, nflog_frame_fn *fn, void *arg)
{
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return 0;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	if (ntohs(g->res_id) != n->group)
		return 0;
	const struct nlattr *tb[NFULA_MAX + 1] = {0};
	if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0)
		return 0;
	count_seq(n, tb[NFULA_SEQ]);
	const struct nlattr *hdr = tb[NFULA_PACKET_HDR], *out = tb[NFULA_IFINDEX_OUTDEV],
			    *pl = tb[NFULA_PAYLOAD];
	if (!hdr || !out || !pl ||
	    mnl_attr_get_payload_len(hdr) < sizeof(struct nfulnl_msg_packet_hdr) ||
	    mnl_attr_get_payload_len(out) < sizeof(uint32_t))
		return 0;
	const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(hdr);
	if (ph->hook != NF_ARP_OUT || ntohs(ph->hw_protocol) != ETH_P_ARP)
		return 0;
	fn(arg, ntohl(mnl_attr_get_u32(out)), mnl_attr_get_payload(pl),
	   mnl_attr_get_payload_len(pl));
	return 1;
}

long nflog_read(struct nflog *n, size_t max, nflog_frame_fn *fn, void *arg)
{
	int fd = mnl_socket_get_fd(n->nl);
	long frames = 0;
	while (!max || (size_t)frames < max) {
		ssize_t r = recv(fd, n->buf, sizeof(n->buf), 0);
		if (r < 0 && errno == ENOBUFS && !n->overrun) {
			/* the rest of the loss shows as a gap in the sequence */
			n->drops++;
			n->overrun = true;
		}
		if (r < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return -1;
		int len = (int)r;
		for (const struct nlmsghdr *nlh = (const void *)n->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len))
			frames += packet_msg(n, nlh, fn, arg);
	}
	return frames;
}

uint64_t nflog_drops(struct nflog *n)
{
	uint64_t d = n->drops;
	n->drops = 0;
	return d;
}
