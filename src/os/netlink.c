#include "os/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nl {
	struct mnl_socket *cmd;
	struct mnl_socket *ev;
	uint32_t seq;
	uint32_t portid;
	char buf[65536];
};

struct nl *nl_open(bool events)
{
	struct nl *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->cmd = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->cmd || mnl_socket_bind(n->cmd, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	n->portid = mnl_socket_get_portid(n->cmd);
	n->seq = (uint32_t)time(NULL);
	if (events) {
		n->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (!n->ev ||
		    mnl_socket_bind(n->ev, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_NEIGH,
				    MNL_SOCKET_AUTOPID) < 0)
			goto fail;
		int sz = 1 << 20;
		setsockopt(mnl_socket_get_fd(n->ev), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	return n;
fail:;
	int e = errno;
	nl_close(n);
	errno = e;
	return NULL;
}

void nl_close(struct nl *n)
{
	if (!n)
		return;
	if (n->cmd)
		mnl_socket_close(n->cmd);
	if (n->ev)
		mnl_socket_close(n->ev);
	free(n);
}

int nl_events_fd(const struct nl *n)
{
	return n->ev ? mnl_socket_get_fd(n->ev) : -1;
}

/* Send nlh and run cb over every answer until the ack or the end of a dump. */
/* A request of type in buf, with NLM_F_REQUEST and flags. */
static struct nlmsghdr *request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return nlh;
}

static int nl_talk(struct nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	nlh->nlmsg_seq = ++n->seq;
	if (mnl_socket_sendto(n->cmd, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(n->cmd, n->buf, sizeof(n->buf));
		if (r < 0)
			return -1;
		int ret = mnl_cb_run(n->buf, (size_t)r, nlh->nlmsg_seq, n->portid, cb, arg);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -1 : 0;
	}
}

/* ---- links ---- */

struct link_parse {
	struct nl_link *out;
	int found;
	const char *want_name;
};

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct nl_link *l = data;
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		l->vlan = strcmp(mnl_attr_get_str(a), "vlan") == 0;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_link *l = data;
	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) >= 0) {
			strncpy(l->name, mnl_attr_get_str(a), sizeof(l->name) - 1);
			l->name[sizeof(l->name) - 1] = '\0';
		}
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == MAC_LEN) {
			memcpy(l->mac.a, mnl_attr_get_payload(a), MAC_LEN);
			l->has_mac = true;
		}
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, linkinfo_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static void parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	memset(l, 0, sizeof(*l));
	l->ifindex = (uint32_t)ifi->ifi_index;
	l->up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_LOWER_UP);
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, l);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_parse *p = data;
	parse_link(nlh, p->out);
	p->found = 1;
	return MNL_CB_OK;
}

static int link_get(struct nl *n, uint32_t ifindex, const char *name, struct nl_link *out)
{
	char buf[8192];
	/* the ack ends the exchange after the one answer */
	struct nlmsghdr *nlh = request(buf, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	struct link_parse p = {.out = out};
	if (nl_talk(n, nlh, link_cb, &p) < 0)
		return -1;
	if (!p.found) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

int nl_link_by_name(struct nl *n, const char *name, struct nl_link *out)
{
	return link_get(n, 0, name, out);
}

int nl_link_by_index(struct nl *n, uint32_t ifindex, struct nl_link *out)
{
	return link_get(n, ifindex, NULL, out);
}

/* ---- addresses ---- */

struct addr_walk {
	uint32_t ifindex;
	struct ip4_prefix *out;
	size_t cap, count;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);
	if (t == IFA_LOCAL || t == IFA_ADDRESS) {
		if (mnl_attr_get_payload_len(a) == 4)
			tb[t] = a;
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_walk *w = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET || ifa->ifa_index != w->ifindex)
		return MNL_CB_OK;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return MNL_CB_OK;
	uint32_t be;
	memcpy(&be, mnl_attr_get_payload(a), 4);
	if (w->count < w->cap) {
		w->out[w->count].addr = ntohl(be);
		w->out[w->count].len = ifa->ifa_prefixlen;
	}
	w->count++;
	return MNL_CB_OK;
}

int nl_addrs(struct nl *n, uint32_t ifindex, struct ip4_prefix *out, size_t cap, size_t *count)
{
	char buf[8192];
	struct nlmsghdr *nlh = request(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	struct addr_walk w = {.ifindex = ifindex, .out = out, .cap = cap};
	if (nl_talk(n, nlh, addr_cb, &w) < 0)
		return -1;
	*count = w.count;
	return 0;
}

int nl_addrs_all(struct nl *n, uint32_t ifindex, struct ip4_prefix **out, size_t *count)
{
	size_t cap = 64;
	for (int tries = 0; tries < 8; tries++) {
		struct ip4_prefix *v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		size_t have = 0;
		if (nl_addrs(n, ifindex, v, cap, &have) < 0) {
			int e = errno;
			free(v);
			errno = e;
			return -1;
		}
		if (have <= cap) {
			*out = v;
			*count = have;
			return 0;
		}
		free(v);
		cap = have + 64; /* more came meanwhile: room for some more */
	}
	errno = EAGAIN;
	return -1;
}

/* ---- routes ---- */

static int route_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
		*(uint32_t *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr_cb, data);
	return MNL_CB_OK;
}

int nl_route_dev(struct nl *n, uint32_t ip, uint32_t *ifindex)
{
	char buf[512];
	/* the ack ends the exchange after the one answer */
	struct nlmsghdr *nlh = request(buf, RTM_GETROUTE, NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(ip));
	uint32_t oif = 0;
	if (nl_talk(n, nlh, route_cb, &oif) < 0)
		return -1;
	if (!oif) {
		errno = ENETUNREACH;
		return -1;
	}
	*ifindex = oif;
	return 0;
}

/* ---- neighbours ---- */

/* ---- changing addresses and links ---- */

static int addr_msg(struct nl *n, uint16_t type, uint16_t flags, uint32_t ifindex, uint32_t ip,
		    uint8_t len, uint32_t ifa_flags, uint32_t lifetime_s)
{
	char buf[512];
	struct nlmsghdr *nlh = request(buf, type, NLM_F_ACK | flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = len;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	uint32_t be = htonl(ip);
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(be), &be);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(be), &be);
	if (type == RTM_NEWADDR && len < 31) {
		uint32_t bc = htonl(ip | ~ip4_mask(len));
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(bc), &bc);
	}
	if (ifa_flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, ifa_flags);
	if (lifetime_s) {
		struct ifa_cacheinfo ci = {.ifa_prefered = lifetime_s, .ifa_valid = lifetime_s};
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return nl_talk(n, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute)
{
	if (addr_msg(n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, ip, len,
		     noprefixroute ? IFA_F_NOPREFIXROUTE : 0, 0) < 0 &&
	    errno != EEXIST)
		return -1;
	return 0;
}

int nl_addr_lease(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute,
		  uint32_t lifetime_s)
{
	return addr_msg(n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip, len,
			noprefixroute ? IFA_F_NOPREFIXROUTE : 0, lifetime_s);
}

int nl_addr_del(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len)
{
	if (addr_msg(n, RTM_DELADDR, 0, ifindex, ip, len, 0, 0) < 0 && errno != EADDRNOTAVAIL &&
	    errno != ENOENT && errno != ENODEV)
		return -1;
	return 0;
}

int nl_macvlan_add(struct nl *n, const char *name, uint32_t parent, const struct mac *mac)
{
	char buf[1024];
	struct nlmsghdr *nlh = request(buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, parent);
	mnl_attr_put(nlh, IFLA_ADDRESS, MAC_LEN, mac->a);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_talk(n, nlh, NULL, NULL);
}

static int link_msg(struct nl *n, uint16_t type, uint32_t ifindex, unsigned flags, unsigned change)
{
	char buf[256];
	struct nlmsghdr *nlh = request(buf, type, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	return nl_talk(n, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl *n, uint32_t ifindex, bool up)
{
	return link_msg(n, RTM_NEWLINK, ifindex, up ? IFF_UP : 0, IFF_UP);
}

int nl_link_del(struct nl *n, uint32_t ifindex)
{
	if (link_msg(n, RTM_DELLINK, ifindex, 0, 0) < 0 && errno != ENODEV)
		return -1;
	return 0;
}

static int neigh_msg(struct nl *n, uint16_t type, uint16_t flags, uint32_t ifindex, uint32_t ip,
		     const struct mac *mac, uint16_t state)
{
	char buf[8192];
	struct nlmsghdr *nlh = request(buf, type, NLM_F_ACK | flags);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)ifindex;
	nd->ndm_state = state;
	uint32_t be = htonl(ip);
	mnl_attr_put(nlh, NDA_DST, sizeof(be), &be);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, MAC_LEN, mac->a);
	return nl_talk(n, nlh, NULL, NULL);
}

int nl_neigh_set(struct nl *n, uint32_t ifindex, uint32_t ip, const struct mac *mac, bool permanent)
{
	return neigh_msg(n, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip, mac,
			 permanent ? NUD_PERMANENT : NUD_REACHABLE);
}

int nl_neigh_del(struct nl *n, uint32_t ifindex, uint32_t ip)
{
	if (neigh_msg(n, RTM_DELNEIGH, 0, ifindex, ip, NULL, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

struct neigh_walk {
	uint32_t ifindex;
	uint32_t *ips;
	size_t n, cap;
	int oom;
};

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **dst = data;
	if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
		*dst = a;
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_walk *w = data;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	if (nd->ndm_family != AF_INET || (uint32_t)nd->ndm_ifindex != w->ifindex ||
	    (nd->ndm_state & (NUD_PERMANENT | NUD_NOARP)))
		return MNL_CB_OK;
	const struct nlattr *dst = NULL;
	mnl_attr_parse(nlh, sizeof(*nd), neigh_attr_cb, &dst);
	if (!dst)
		return MNL_CB_OK;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		uint32_t *v = realloc(w->ips, cap * sizeof(*v));
		if (!v) {
			w->oom = 1;
			return MNL_CB_OK;
		}
		w->ips = v;
		w->cap = cap;
	}
	uint32_t be;
	memcpy(&be, mnl_attr_get_payload(dst), 4);
	w->ips[w->n++] = ntohl(be);
	return MNL_CB_OK;
}

int nl_neigh_flush_learned(struct nl *n, uint32_t ifindex)
{
	char buf[8192];
	struct nlmsghdr *nlh = request(buf, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	struct neigh_walk w = {.ifindex = ifindex};
	int ret = nl_talk(n, nlh, neigh_cb, &w);
	int removed = 0;
	for (size_t i = 0; ret == 0 && i < w.n; i++)
		if (nl_neigh_del(n, ifindex, w.ips[i]) == 0)
			removed++;
	free(w.ips);
	if (ret < 0)
		return -1;
	if (w.oom) {
		errno = ENOMEM;
		return -1;
	}
	return removed;
}

/* ---- events ---- */

static int neigh_ev_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **at = data; /* [0] NDA_DST, [1] NDA_LLADDR */
	if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
		at[0] = a;
	if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6)
		at[1] = a;
	return MNL_CB_OK;
}

/*
 * A neighbour the kernel confirmed: an IPv4 entry turned or refreshed
 * NUD_REACHABLE, with its MAC. Other states say nothing new about the
 * device (STALE is a timer running out). 0: not such an event.
 */
static int parse_neigh(const struct nlmsghdr *nlh, struct nl_event *ev)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_INET ||
	    !(nd->ndm_state & NUD_REACHABLE))
		return 0;
	const struct nlattr *at[2] = {NULL, NULL};
	mnl_attr_parse(nlh, sizeof(*nd), neigh_ev_attr_cb, at);
	if (!at[0] || !at[1])
		return 0;
	uint32_t be;
	memcpy(&be, mnl_attr_get_payload(at[0]), 4);
	ev->type = NLE_NEIGH;
	ev->ifindex = (uint32_t)nd->ndm_ifindex;
	ev->ip = ntohl(be);
	memcpy(ev->mac.a, mnl_attr_get_payload(at[1]), MAC_LEN);
	return 1;
}

struct ev_ctx {
	void (*cb)(const struct nl_event *ev, void *arg);
	void *arg;
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *c = data;
	struct nl_event ev;
	memset(&ev, 0, sizeof(ev));
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		parse_link(nlh, &ev.link);
		ev.type = nlh->nlmsg_type == RTM_NEWLINK ? NLE_LINK : NLE_LINK_DEL;
		ev.ifindex = ev.link.ifindex;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		if (ifa->ifa_family != AF_INET)
			return MNL_CB_OK;
		ev.type = NLE_ADDR;
		ev.ifindex = ifa->ifa_index;
		ev.del = nlh->nlmsg_type == RTM_DELADDR;
		ev.addr.len = ifa->ifa_prefixlen;
		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, sizeof(*ifa))
		{
			if (mnl_attr_get_type(a) == IFA_LOCAL &&
			    mnl_attr_get_payload_len(a) == sizeof(uint32_t))
				ev.addr.addr = ntohl(mnl_attr_get_u32(a));
		}
		break;
	}
	case RTM_NEWNEIGH:
		if (!parse_neigh(nlh, &ev))
			return MNL_CB_OK;
		break;
	default:
		return MNL_CB_OK;
	}
	c->cb(&ev, c->arg);
	return MNL_CB_OK;
}

int nl_events_read(struct nl *n, void (*cb)(const struct nl_event *ev, void *arg), void *arg)
{
	struct ev_ctx c = {cb, arg};
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(n->ev, n->buf, sizeof(n->buf));
		if (r < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
		if (mnl_cb_run(n->buf, (size_t)r, 0, 0, event_cb, &c) < 0 && errno != ENOENT)
			return -1;
	}
}

int nl_events_wait(struct nl *n, int timeout_ms)
{
	if (!n->ev) {
		errno = EINVAL;
		return -1;
	}
	struct pollfd p = {.fd = mnl_socket_get_fd(n->ev), .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	if (r <= 0)
		return r < 0 && errno != EINTR ? -1 : 0;
	while (mnl_socket_recvfrom(n->ev, n->buf, sizeof(n->buf)) >= 0)
		; /* until EAGAIN (or ENOBUFS: some were lost, as good as read) */
	return 1;
}

int nl_ipv6_off(const char *name)
{
	char path[96];
	if (snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	FILE *fp = fopen(path, "we");
	if (!fp)
		return errno == ENOENT ? 0 : -1; /* no IPv6 in this kernel: nothing to turn off */
	int rc = fputs("1\n", fp) < 0 ? -1 : 0;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}
