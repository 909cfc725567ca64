#include "os/conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "os/util.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define EV_BATCH    64		/* messages per recvmmsg() */
#define EV_BUF	    8192	/* room for one event message */
#define EV_BUDGET   4096	/* messages per ctk_read_events call */
#define Q_BUF	    (64 * 1024) /* answers; >= the kernel's dump skb (32 KiB) */
#define Q_RCVBUF    (1 << 20)	/* room for a batch's error messages */
#define BATCH_BYTES (96 * 1024) /* bytes per send() of ctk_commit (< the send buffer) */
#define BATCH_MAX   256		/* messages per send() */
#define MSG_ROOM    1024	/* more than one entry's message needs */
#define MAX_PROTOS  32

struct ctk {
	struct mnl_socket *ev; /* events, non-blocking */
	struct mnl_socket *q;  /* requests */
	uint32_t q_portid;
	uint32_t seq;
	bool q_dirty; /* an exchange stopped half-way: stale answers may wait */
	bool liberal;
	bool skip_own;	 /* events our requests caused are not handed on */
	int rcvbuf;	 /* the event socket's buffer (<= 0: the default) */
	bool no_refetch; /* hand partial TCP updates on as CTK_EV_UPDATE_PARTIAL */
	bool want[256];
	uint8_t protos[MAX_PROTOS];
	size_t n_protos;
	uint32_t mark, mark_mask; /* the event filter's mark (mask 0: any) */
	struct ctk_stats st;
	char *evbuf; /* EV_BATCH x EV_BUF */
	char qbuf[Q_BUF];
	char out[BATCH_BYTES + MSG_ROOM];
};

static const uint8_t default_protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};

static void set_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* ---- the kernel filter on the event socket ---- */

static int attach_filter(struct ctk *k, struct mnl_socket *sock)
{
	struct nfct_filter *f = nfct_filter_create();
	if (!f) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < k->n_protos; i++)
		nfct_filter_add_attr_u32(f, NFCT_FILTER_L4PROTO, k->protos[i]);
	/* IPv4 only: every IPv6 source (::/0) is refused; an IPv4 entry has
	   no IPv6 address and passes */
	static const struct nfct_filter_ipv6 any6;
	nfct_filter_add_attr(f, NFCT_FILTER_SRC_IPV6, &any6);
	nfct_filter_set_logic(f, NFCT_FILTER_SRC_IPV6, NFCT_FILTER_LOGIC_NEGATIVE);
	if (k->mark_mask) {
		struct nfct_filter_dump_mark m = {.val = k->mark, .mask = k->mark_mask};
		nfct_filter_add_attr(f, NFCT_FILTER_MARK, &m);
		nfct_filter_set_logic(f, NFCT_FILTER_MARK, NFCT_FILTER_LOGIC_POSITIVE);
	}
	int r = nfct_filter_attach(mnl_socket_get_fd(sock), f);
	int e = errno;
	nfct_filter_destroy(f);
	errno = e;
	return r;
}

static void set_want(struct ctk *k, const uint8_t *protos, size_t n)
{
	memset(k->want, 0, sizeof(k->want));
	for (size_t i = 0; i < n; i++) {
		k->protos[i] = protos[i];
		k->want[protos[i]] = true;
	}
	k->n_protos = n;
}

int ctk_set_protocols(struct ctk *k, const uint8_t *protos, size_t n)
{
	if (n == 0 || n > MAX_PROTOS) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (protos[i] == 0) {
			errno = EINVAL;
			return -1;
		}
	uint8_t old[MAX_PROTOS];
	size_t n_old = k->n_protos;
	memcpy(old, k->protos, n_old);
	set_want(k, protos, n);
	if (attach_filter(k, k->ev) < 0) {
		int e = errno;
		set_want(k, old, n_old);
		errno = e;
		return -1;
	}
	return 0;
}

int ctk_set_mark(struct ctk *k, uint32_t mark, uint32_t mask)
{
	uint32_t old = k->mark, old_mask = k->mark_mask;
	k->mark = mark & mask;
	k->mark_mask = mask;
	if (attach_filter(k, k->ev) < 0) {
		int e = errno;
		k->mark = old;
		k->mark_mask = old_mask;
		errno = e;
		return -1;
	}
	return 0;
}

void ctk_set_refetch(struct ctk *k, bool on)
{
	k->no_refetch = !on;
}

/*
 * An event socket subscribed to UPDATE and DESTROY, and NEW if new, with
 * the filter.
 */
static struct mnl_socket *open_events(struct ctk *k, bool new, const char **what)
{
	*what = "open the event socket";
	struct mnl_socket *sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!sock)
		return NULL;
	*what = "subscribe to conntrack events";
	unsigned groups = NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY |
			  (new ? NF_NETLINK_CONNTRACK_NEW : 0);
	if (mnl_socket_bind(sock, groups, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	if (k->rcvbuf > 0)
		set_rcvbuf(mnl_socket_get_fd(sock), k->rcvbuf);
	*what = "attach the event filter";
	if (attach_filter(k, sock) < 0)
		goto fail;
	return sock;
fail:;
	int e = errno;
	mnl_socket_close(sock);
	errno = e;
	return NULL;
}

void ctk_set_skip_own(struct ctk *k, bool on)
{
	k->skip_own = on;
}

void ctk_set_tcp_liberal(struct ctk *k, bool on)
{
	k->liberal = on;
}

/* ---- open, close ---- */

struct ctk *ctk_open(int rcvbuf_bytes, bool new_events, char *err, size_t errlen)
{
	struct ctk *k = calloc(1, sizeof(*k));
	if (!k || !(k->evbuf = malloc((size_t)EV_BATCH * EV_BUF))) {
		err_printf(err, errlen, "conntrack: out of memory");
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	const char *what;
	k->rcvbuf = rcvbuf_bytes;
	set_want(k, default_protos, sizeof(default_protos));
	if (!(k->ev = open_events(k, new_events, &what)))
		goto fail;

	what = "open the request socket";
	k->q = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!k->q || mnl_socket_bind(k->q, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	k->q_portid = mnl_socket_get_portid(k->q);
	int fd = mnl_socket_get_fd(k->q), one = 1;
	/* errors without a copy of the request: small, so a batch's fit */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	set_rcvbuf(fd, Q_RCVBUF);
	/* the kernel always answers; never hang if it does not */
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	k->seq = (uint32_t)time(NULL);
	return k;
fail:;
	int e = errno;
	err_printf(err, errlen, "conntrack: cannot %s: %s", what, strerror(e));
	ctk_close(k);
	errno = e;
	return NULL;
}

void ctk_close(struct ctk *k)
{
	if (!k)
		return;
	if (k->ev)
		mnl_socket_close(k->ev);
	if (k->q)
		mnl_socket_close(k->q);
	free(k->evbuf);
	free(k);
}

int ctk_event_fd(const struct ctk *k)
{
	return mnl_socket_get_fd(k->ev);
}

void ctk_get_stats(const struct ctk *k, struct ctk_stats *out)
{
	*out = k->st;
}

/* ---- ct_entry <-> nf_conntrack ---- */

/* What of an entry a message carries. */
enum { PUT_WHOLE = 0, PUT_KEY = 1, PUT_KEY_MARK = 2 };

/*
 * key_only (PUT_KEY): the orig tuple and the zone (what finds an entry);
 * PUT_KEY_MARK: those and the mark; PUT_WHOLE: the whole entry.
 */
static void entry_to_nfct(const struct ctk *k, struct nf_conntrack *ct, const struct ct_entry *e,
			  int key_only)
{
	const struct ct_tuple *o = &e->orig, *r = &e->reply;
	nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET); /* first: the ICMP setters look at it */
	nfct_set_attr_u32(ct, ATTR_IPV4_SRC, htonl(o->src));
	nfct_set_attr_u32(ct, ATTR_IPV4_DST, htonl(o->dst));
	nfct_set_attr_u8(ct, ATTR_L4PROTO, o->proto);
	if (o->proto == IPPROTO_ICMP) {
		nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, (uint8_t)(o->dport >> 8));
		nfct_set_attr_u8(ct, ATTR_ICMP_CODE, (uint8_t)o->dport);
		nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(o->sport));
	} else {
		nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(o->sport));
		nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(o->dport));
	}
	if (e->zone)
		nfct_set_attr_u16(ct, ATTR_ZONE, e->zone);
	if (key_only == PUT_KEY_MARK)
		nfct_set_attr_u32(ct, ATTR_MARK, e->mark);
	if (key_only)
		return;

	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, htonl(r->src));
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, htonl(r->dst));
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, o->proto);
	if (o->proto == IPPROTO_ICMP) {
		/* the reply's id and type/code as given (the ICMP setters above
		   guessed them from the original): the port attributes share
		   their storage */
		uint8_t tc[2] = {(uint8_t)(r->dport >> 8), (uint8_t)r->dport};
		uint16_t v;
		memcpy(&v, tc, sizeof(v));
		nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(r->sport));
		nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, v);
	} else {
		nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(r->sport));
		nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(r->dport));
	}
	nfct_set_attr_u32(ct, ATTR_STATUS, e->status);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, e->timeout);
	nfct_set_attr_u32(ct, ATTR_MARK, e->mark);
	if (o->proto == IPPROTO_TCP) {
		uint8_t mask = CTK_TCP_FLAGS_COMMITTED;
		uint8_t f0 = e->tcp_flags[0] & mask, f1 = e->tcp_flags[1] & mask;
		if (k->liberal) {
			f0 |= IP_CT_TCP_FLAG_BE_LIBERAL;
			f1 |= IP_CT_TCP_FLAG_BE_LIBERAL;
		}
		nfct_set_attr_u8(ct, ATTR_TCP_STATE, e->tcp_state);
		nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_ORIG, f0);
		nfct_set_attr_u8(ct, ATTR_TCP_MASK_ORIG, mask);
		nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_REPL, f1);
		nfct_set_attr_u8(ct, ATTR_TCP_MASK_REPL, mask);
		nfct_set_attr_u8(ct, ATTR_TCP_WSCALE_ORIG, e->tcp_wscale[0]);
		nfct_set_attr_u8(ct, ATTR_TCP_WSCALE_REPL, e->tcp_wscale[1]);
	}
}

struct attr_tab {
	const struct nlattr *tb[16];
};

static int tab_cb(const struct nlattr *a, void *data)
{
	struct attr_tab *t = data;
	uint16_t type = mnl_attr_get_type(a);
	if (type < 16)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/*
 * The ICMP id, type and code of the reply tuple, read from the message:
 * libnetfilter_conntrack parses them but has no attribute to get them.
 */
static bool icmp_reply(const struct nlmsghdr *nlh, uint16_t *id, uint16_t *tc)
{
	struct attr_tab top = {0}, tup = {0}, pro = {0};
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), tab_cb, &top) < 0 ||
	    !top.tb[CTA_TUPLE_REPLY] ||
	    mnl_attr_parse_nested(top.tb[CTA_TUPLE_REPLY], tab_cb, &tup) < 0 ||
	    !tup.tb[CTA_TUPLE_PROTO] ||
	    mnl_attr_parse_nested(tup.tb[CTA_TUPLE_PROTO], tab_cb, &pro) < 0)
		return false;
	const struct nlattr *a_id = pro.tb[CTA_PROTO_ICMP_ID], *a_t = pro.tb[CTA_PROTO_ICMP_TYPE],
			    *a_c = pro.tb[CTA_PROTO_ICMP_CODE];
	if (!a_id || !a_t || !a_c || mnl_attr_validate(a_id, MNL_TYPE_U16) < 0 ||
	    mnl_attr_validate(a_t, MNL_TYPE_U8) < 0 || mnl_attr_validate(a_c, MNL_TYPE_U8) < 0)
		return false;
	*id = ntohs(mnl_attr_get_u16(a_id));
	*tc = (uint16_t)(mnl_attr_get_u8(a_t) << 8 | mnl_attr_get_u8(a_c));
	return true;
}

/* 0, or -1 when it is not a usable IPv4 entry. */
static int nfct_to_entry(const struct nf_conntrack *ct, const struct nlmsghdr *nlh,
			 struct ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!nfct_attr_is_set(ct, ATTR_L3PROTO) || nfct_get_attr_u8(ct, ATTR_L3PROTO) != AF_INET ||
	    !nfct_attr_is_set(ct, ATTR_IPV4_SRC) || !nfct_attr_is_set(ct, ATTR_IPV4_DST) ||
	    !nfct_attr_is_set(ct, ATTR_L4PROTO))
		return -1;
	struct ct_tuple *o = &e->orig, *r = &e->reply;
	o->src = ntohl(nfct_get_attr_u32(ct, ATTR_IPV4_SRC));
	o->dst = ntohl(nfct_get_attr_u32(ct, ATTR_IPV4_DST));
	o->proto = nfct_get_attr_u8(ct, ATTR_L4PROTO);
	r->proto = o->proto;
	if (nfct_attr_is_set(ct, ATTR_REPL_IPV4_SRC)) {
		r->src = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC));
		r->dst = ntohl(nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST));
	}
	if (o->proto == IPPROTO_ICMP) {
		o->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
		o->dport = (uint16_t)(nfct_get_attr_u8(ct, ATTR_ICMP_TYPE) << 8 |
				      nfct_get_attr_u8(ct, ATTR_ICMP_CODE));
		if (!icmp_reply(nlh, &r->sport, &r->dport))
			r->sport = o->sport; /* no reply tuple: dport stays 0 */
	} else {
		o->sport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_SRC));
		o->dport = ntohs(nfct_get_attr_u16(ct, ATTR_PORT_DST));
		r->sport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
		r->dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
	}
	e->zone = nfct_get_attr_u16(ct, ATTR_ZONE); /* 0 when absent */
	if (o->proto == IPPROTO_TCP) {
		e->tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
		e->tcp_flags[0] = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_ORIG);
		e->tcp_flags[1] = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_REPL);
		e->tcp_wscale[0] = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_ORIG);
		e->tcp_wscale[1] = nfct_get_attr_u8(ct, ATTR_TCP_WSCALE_REPL);
	}
	e->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	e->mark = nfct_get_attr_u32(ct, ATTR_MARK);
	e->timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
	return 0;
}

/* ---- requests ---- */

static uint32_t next_seq(struct ctk *k)
{
	if (++k->seq == 0)
		k->seq = 1;
	return k->seq;
}

static struct nlmsghdr *put_ct_header(char *buf, uint8_t msg, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | msg);
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Throw away answers an exchange that stopped half-way left behind. */
static void drain(struct ctk *k)
{
	if (!k->q_dirty)
		return;
	while (recv(mnl_socket_get_fd(k->q), k->qbuf, sizeof(k->qbuf), MSG_DONTWAIT) >= 0 ||
	       errno == ENOBUFS || errno == EINTR)
		;
	k->q_dirty = false;
}

/* Send nlh and run cb over the answers until the ack or the end of a dump. */
static int talk(struct ctk *k, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	drain(k);
	uint32_t seq = nlh->nlmsg_seq;
	if (mnl_socket_sendto(k->q, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(k->q, k->qbuf, sizeof(k->qbuf));
		if (r < 0) {
			k->q_dirty = true;
			return -1;
		}
		int ret = mnl_cb_run(k->qbuf, (size_t)r, seq, k->q_portid, cb, arg);
		if (ret <= MNL_CB_STOP) {
			if (ret < 0) {
				int e = errno;
				k->q_dirty = true;
				errno = e;
				return -1;
			}
			return 0;
		}
	}
}

/* One message for e (CT_NEW or CT_DELETE) into buf; NULL/errno if it cannot be built. */
static struct nlmsghdr *build(struct ctk *k, char *buf, uint8_t msg, uint16_t flags,
			      const struct ct_entry *e, int key_only)
{
	struct nf_conntrack *ct = nfct_new();
	if (!ct) {
		errno = ENOMEM;
		return NULL;
	}
	struct nlmsghdr *nlh = put_ct_header(buf, msg, flags, next_seq(k));
	entry_to_nfct(k, ct, e, key_only);
	int r = nfct_nlmsg_build(nlh, ct);
	nfct_destroy(ct);
	if (r < 0) {
		errno = EINVAL; /* a protocol libnetfilter_conntrack cannot express */
		return NULL;
	}
	return nlh;
}

static int request_one(struct ctk *k, uint8_t msg, uint16_t flags, const struct ct_entry *e,
		       int key_only)
{
	struct nlmsghdr *nlh = build(k, k->out, msg, (uint16_t)(flags | NLM_F_ACK), e, key_only);
	if (!nlh)
		return -1;
	return talk(k, nlh, NULL, NULL);
}

int ctk_update(struct ctk *k, const struct ct_entry *e)
{
	if (request_one(k, IPCTNL_MSG_CT_NEW, 0, e, false) < 0) {
		k->st.last_error = errno;
		return -1;
	}
	k->st.updates++;
	return 0;
}

int ctk_delete(struct ctk *k, const struct ct_entry *e)
{
	if (request_one(k, IPCTNL_MSG_CT_DELETE, 0, e, true) < 0) {
		if (errno == ENOENT)
			return 0;
		k->st.last_error = errno;
		return -1;
	}
	k->st.deletes++;
	return 0;
}

struct get_one {
	struct ct_entry *out;
	bool found;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_one *g = data;
	struct nf_conntrack *ct = nfct_new();
	if (!ct)
		return MNL_CB_OK;
	if (nfct_nlmsg_parse(nlh, ct) >= 0 && nfct_to_entry(ct, nlh, g->out) == 0)
		g->found = true;
	nfct_destroy(ct);
	return MNL_CB_OK;
}

/* The kernel's current state of the entry with key's orig tuple and zone. 0 or -1/errno. */
static int get_entry(struct ctk *k, const struct ct_entry *key, struct ct_entry *out)
{
	struct nlmsghdr *nlh = build(k, k->out, IPCTNL_MSG_CT_GET, NLM_F_ACK, key, true);
	if (!nlh)
		return -1;
	struct get_one g = {.out = out};
	if (talk(k, nlh, get_cb, &g) < 0)
		return -1;
	if (!g.found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* ---- dump ---- */

struct dump_ctx {
	struct ctk *k;
	void (*cb)(void *arg, const struct ct_entry *e);
	void *arg;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*nfg) || nfg->nfgen_family != AF_INET)
		return MNL_CB_OK;
	struct nf_conntrack *ct = nfct_new();
	if (!ct) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	struct ct_entry e;
	if (nfct_nlmsg_parse(nlh, ct) >= 0 && nfct_to_entry(ct, nlh, &e) == 0 &&
	    d->k->want[e.orig.proto]) {
		d->k->st.dumped++;
		d->cb(d->arg, &e);
	}
	nfct_destroy(ct);
	return MNL_CB_OK;
}

int ctk_dump(struct ctk *k, void (*cb)(void *arg, const struct ct_entry *e), void *arg)
{
	char buf[256];
	struct nlmsghdr *nlh =
	    put_ct_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, next_seq(k)); /* family AF_INET */
	struct dump_ctx d = {.k = k, .cb = cb, .arg = arg};
	if (talk(k, nlh, dump_cb, &d) < 0)
		return -1;
	k->st.dumps++;
	return 0;
}

/* ---- commit ---- */

/*
 * Read the answers to the batch of sequence numbers first..last (only
 * failures are answered, and the last message, which asked for an ack).
 * ENOENT answers count as failures unless enoent_ok.
 */
static int collect(struct ctk *k, uint32_t first, uint32_t last, bool enoent_ok, size_t *nerr)
{
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(k->q, k->qbuf, sizeof(k->qbuf));
		if (r < 0) {
			k->q_dirty = true;
			return -1;
		}
		int len = (int)r;
		for (const struct nlmsghdr *h = (const void *)k->qbuf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != k->q_portid ||
			    h->nlmsg_seq - first > last - first ||
			    h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (e->error && !(enoent_ok && e->error == -ENOENT)) {
				(*nerr)++;
				k->st.last_error = -e->error;
			}
			if (h->nlmsg_seq == last)
				return 0;
		}
	}
}

/*
 * n requests of one kind (msg, flags; key_only: the tuple alone), many
 * per send(): ctk_commit and ctk_remove. *ok and *bad as ctk_commit says.
 */
static int batch(struct ctk *k, uint8_t msg, uint16_t flags, int key_only,
		 const struct ct_entry *const *v, size_t n, size_t *okp, size_t *badp)
{
	bool enoent_ok = msg == IPCTNL_MSG_CT_DELETE;
	size_t ok = 0, bad = 0, i = 0;
	int ret = 0;
	drain(k);
	while (i < n) {
		size_t start = i, off = 0, cnt = 0, bfail = 0, nerr = 0;
		uint32_t first = 0, last = 0;
		struct nlmsghdr *lastnlh = NULL;
		if (k->seq > UINT32_MAX - BATCH_MAX - 2)
			k->seq = 0; /* keep first..last from wrapping */
		while (i < n && cnt < BATCH_MAX && off + MSG_ROOM <= BATCH_BYTES) {
			struct nlmsghdr *nlh = build(k, k->out + off, msg, flags, v[i], key_only);
			i++;
			if (!nlh) {
				bfail++;
				k->st.last_error = errno;
				continue;
			}
			if (!cnt)
				first = nlh->nlmsg_seq;
			last = nlh->nlmsg_seq;
			lastnlh = nlh;
			off += NLMSG_ALIGN(nlh->nlmsg_len);
			cnt++;
		}
		if (cnt) {
			lastnlh->nlmsg_flags |= NLM_F_ACK;
			k->st.commit_sends++;
			if (mnl_socket_sendto(k->q, k->out, off) < 0 ||
			    collect(k, first, last, enoent_ok, &nerr) < 0) {
				if (errno != ENOBUFS) {
					ret = -1;
					break;
				}
				/* failures were lost: answer this batch one entry at a time */
				drain(k);
				bfail = nerr = cnt = 0;
				for (size_t j = start; j < i; j++) {
					if (request_one(k, msg, flags, v[j], key_only) == 0 ||
					    (enoent_ok && errno == ENOENT)) {
						cnt++;
					} else if (errno == ENOBUFS || errno == EAGAIN ||
						   errno == EWOULDBLOCK) {
						ret = -1;
						break;
					} else {
						bfail++;
						k->st.last_error = errno;
					}
				}
			}
		}
		bad += bfail + nerr;
		ok += cnt - nerr;
		if (ret < 0)
			break;
	}
	*okp = ok;
	*badp = bad;
	return ret;
}

int ctk_commit(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *created,
	       size_t *failed)
{
	size_t ok, bad;
	int ret = batch(k, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, false, v, n, &ok, &bad);
	int e = errno;
	k->st.committed += ok;
	k->st.commit_failed += bad;
	if (created)
		*created = ok;
	if (failed)
		*failed = bad;
	errno = e;
	return ret;
}

int ctk_remove(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *failed)
{
	size_t ok, bad;
	int ret = batch(k, IPCTNL_MSG_CT_DELETE, 0, true, v, n, &ok, &bad);
	int e = errno;
	k->st.deletes += ok;
	if (failed)
		*failed = bad;
	errno = e;
	return ret;
}

int ctk_set_marks(struct ctk *k, const struct ct_entry *const *v, size_t n, size_t *failed)
{
	size_t ok, bad;
	/* an update (no NLM_F_CREATE): an entry gone meanwhile is no failure */
	int ret = batch(k, IPCTNL_MSG_CT_NEW, 0, PUT_KEY_MARK, v, n, &ok, &bad);
	int e = errno;
	k->st.updates += ok;
	if (failed)
		*failed = bad;
	errno = e;
	return ret;
}

int ctk_dump_mark(struct ctk *k, uint32_t mark, uint32_t mask,
		  void (*cb)(void *arg, const struct ct_entry *e), void *arg)
{
	char buf[256];
	struct nlmsghdr *nlh = put_ct_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, next_seq(k));
	/* the kernel hands on only the entries whose mark & mask is mark */
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark & mask));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	struct dump_ctx d = {.k = k, .cb = cb, .arg = arg};
	if (talk(k, nlh, dump_cb, &d) < 0)
		return -1;
	k->st.dumps++;
	return 0;
}

/* ---- events ---- */

/*
 * One event message: 1 if handed to cb, 0 if not, -1/errno on a failure
 * that loses the event.
 */
static int one_event(struct ctk *k, const struct nlmsghdr *nlh,
		     void (*cb)(void *arg, int ev, const struct ct_entry *e), void *arg)
{
	k->st.ev_msgs++;
	if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_CTNETLINK ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		goto skip;
	int ev;
	switch (nlh->nlmsg_type & 0xff) {
	case IPCTNL_MSG_CT_NEW:
		ev = nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL) ? CTK_EV_NEW : CTK_EV_UPDATE;
		break;
	case IPCTNL_MSG_CT_DELETE:
		ev = CTK_EV_DESTROY;
		break;
	default:
		goto skip;
	}
	if (k->skip_own && nlh->nlmsg_pid == k->q_portid) {
		/* caused by our own request (the kernel names the requester): not news */
		k->st.ev_own++;
		return 0;
	}
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != AF_INET)
		goto skip;
	struct nf_conntrack *ct = nfct_new();
	if (!ct) {
		errno = ENOMEM;
		return -1;
	}
	struct ct_entry e;
	int usable = nfct_nlmsg_parse(nlh, ct) >= 0 && nfct_to_entry(ct, nlh, &e) == 0 &&
		     k->want[e.orig.proto];
	bool partial = usable && ev == CTK_EV_UPDATE && e.orig.proto == IPPROTO_TCP &&
		       !nfct_attr_is_set(ct, ATTR_TCP_STATE);
	nfct_destroy(ct);
	if (!usable)
		goto skip;
	if (partial && k->no_refetch) {
		k->st.ev_update++;
		cb(arg, CTK_EV_UPDATE_PARTIAL, &e);
		return 1;
	}
	if (partial) {
		/* a change of status or mark: the message has no TCP state;
		   ask for the whole entry (gone: its DESTROY follows) */
		struct ct_entry full;
		if (get_entry(k, &e, &full) < 0)
			goto skip;
		k->st.ev_refetch++;
		e = full;
	}
	if (ev == CTK_EV_NEW)
		k->st.ev_new++;
	else if (ev == CTK_EV_UPDATE)
		k->st.ev_update++;
	else
		k->st.ev_destroy++;
	cb(arg, ev, &e);
	return 1;
skip:
	k->st.ev_skipped++;
	return 0;
}

int ctk_read_events(struct ctk *k, void (*cb)(void *arg, int ev, const struct ct_entry *e),
		    void *arg)
{
	int fd = mnl_socket_get_fd(k->ev), delivered = 0, seen = 0;
	struct mmsghdr msgs[EV_BATCH];
	struct iovec iov[EV_BATCH];
	struct sockaddr_nl from[EV_BATCH];
	while (seen < EV_BUDGET) {
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < EV_BATCH; i++) {
			iov[i].iov_base = k->evbuf + (size_t)i * EV_BUF;
			iov[i].iov_len = EV_BUF;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int r = recvmmsg(fd, msgs, EV_BATCH, MSG_DONTWAIT, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				k->st.enobufs++;
			return -1;
		}
		if (r == 0)
			break;
		for (int i = 0; i < r; i++) {
			seen++;
			if (from[i].nl_pid != 0 || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
				k->st.ev_msgs++;
				k->st.ev_skipped++;
				continue;
			}
			int len = (int)msgs[i].msg_len;
			for (const struct nlmsghdr *h = iov[i].iov_base; mnl_nlmsg_ok(h, len);
			     h = mnl_nlmsg_next(h, &len)) {
				int got = one_event(k, h, cb, arg);
				if (got < 0)
					return -1;
				delivered += got;
			}
		}
		if (r < EV_BATCH)
			break;
	}
	return delivered;
}
