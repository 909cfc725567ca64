/*
 * arphad: the daemon. Reads the config, stops the kernel's own ARP input on
 * the managed interfaces (nft owner table), feeds every ARP frame to the
 * engine and carries out what it asks: frames out, kernel neighbours in and
 * out, log lines. Answers the CLI on a unix socket.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arpha_build.h"
#include "arphad.h"
#include "connsync.h"
#include "core/arp_engine.h"
#include "core/cluster.h"
#include "core/config.h"
#include "failover.h"
#include "os/control.h"
#include "os/flushreq.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/netlink.h"
#include "os/nft.h"
#include "os/packet.h"
#include "os/show.h"
#include "os/udp.h"
#include "os/util.h"

#define RX_BATCH	 256
#define RING_BATCH	 1 /* ring blocks per callback, up to some 500 frames */
#define CONFIG_MAX_BYTES (4u << 20)

/* ---- carrying out actions ---- */

struct mif *mif_by_index(struct daemon *d, uint32_t ifindex)
{
	for (size_t i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].ifindex && d->ifs[i].ifindex == ifindex)
			return &d->ifs[i];
	return NULL;
}

struct mif *mif_by_name(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_ifs; i++)
		if (strcmp(d->ifs[i].conf->name, name) == 0 ||
		    strcmp(d->ifs[i].conf->device, name) == 0)
			return &d->ifs[i];
	return NULL;
}

void apply(struct daemon *d)
{
	struct actions *a = &d->acts;
	char ip[IP4_STRLEN];
	for (size_t i = 0; i < a->n; i++) {
		const struct action *act = &a->v[i];
		struct mif *m = mif_by_index(d, act->ifindex);
		switch (act->type) {
		case ACT_SEND:
			if (m && m->fd >= 0 &&
			    packet_send(m->fd, m->ifindex, act->u.frame.buf, act->u.frame.len) <
				0) {
				if (m->send_errors++ % 1000 == 0)
					log_warn("%s: cannot send ARP frame (%llu failures so far)",
						 m->conf->name, (unsigned long long)m->send_errors);
			}
			break;
		case ACT_NEIGH_SET:
			if (d->fo && act->u.neigh.kind != NEIGH_PERMANENT)
				failover_on_neigh(d, act->ifindex, act->u.neigh.ip,
						  &act->u.neigh.mac);
			if (nl_neigh_set(d->nl, act->ifindex, act->u.neigh.ip, &act->u.neigh.mac,
					 act->u.neigh.kind == NEIGH_PERMANENT) < 0 &&
			    d->neigh_errors++ % 1000 == 0)
				log_warn("%s: cannot install neighbour %s (%llu failures so far)",
					 m ? m->conf->name : "?", ip4_fmt(act->u.neigh.ip, ip),
					 (unsigned long long)d->neigh_errors);
			break;
		case ACT_NEIGH_DEL:
			if (nl_neigh_del(d->nl, act->ifindex, act->u.neigh.ip) < 0 &&
			    d->neigh_errors++ % 1000 == 0)
				log_warn("%s: cannot remove neighbour %s (%llu failures so far)",
					 m ? m->conf->name : "?", ip4_fmt(act->u.neigh.ip, ip),
					 (unsigned long long)d->neigh_errors);
			break;
		case ACT_LOG:
			log_line(act->u.log.level, act->u.log.text);
			break;
		}
	}
	if (a->dropped) {
		log_warnx("out of memory: %zu actions lost", a->dropped);
		a->dropped = 0;
	}
	actions_reset(a);
}

void arm_timer(struct daemon *d)
{
	uint64_t next = arp_engine_next_deadline(d->eng);
	if (d->cl) {
		uint64_t c = cluster_next_deadline(d->cl);
		if (c < next)
			next = c;
		c = failover_next_deadline(d);
		if (c < next)
			next = c;
		c = connsync_next_deadline(d);
		if (c < next)
			next = c;
	}
	if (next == UINT64_MAX) {
		evtimer_del(d->timer);
		return;
	}
	uint64_t now = now_ms();
	uint64_t wait = next > now ? next - now : 0;
	struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
	evtimer_add(d->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = now_ms();
	arp_engine_tick(d->eng, now, &d->acts);
	apply(d);
	if (d->cl) {
		cluster_tick(d->cl, now, &d->cacts);
		apply_cluster(d);
		failover_tick(d, now);
		connsync_tick(d, now);
		if (d->stopping && failover_stopped(d, now)) {
			event_base_loopexit(d->base, NULL);
			return;
		}
	}
	arm_timer(d);
}

/* ---- the cluster ---- */

static uint32_t node_addr(const struct daemon *d, uint32_t node)
{
	for (size_t i = 0; i < d->n_addrs; i++)
		if (d->addrs[i].node == node)
			return d->addrs[i].addr;
	return 0;
}

static void learn_node_addr(struct daemon *d, uint32_t node, uint32_t addr)
{
	for (size_t i = 0; i < d->n_addrs; i++) {
		if (d->addrs[i].node == node) {
			d->addrs[i].addr = addr;
			return;
		}
	}
	if (d->n_addrs < WIRE_MAX_PEERS)
		d->addrs[d->n_addrs++] = (struct node_addr){node, addr};
}

void cluster_send(struct daemon *d, struct cluster_actions *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct cluster_action *act = &a->v[i];
		if ((act->type == CA_SEND_ALL || act->type == CA_SEND_TO) &&
		    udp_send_all(d->udp, act->data, act->len) < 0 && d->udp_errors++ % 1000 == 0)
			log_warn("cluster: cannot send (%llu failures so far)",
				 (unsigned long long)d->udp_errors);
	}
	cluster_actions_reset(a);
}

void apply_cluster(struct daemon *d)
{
	struct cluster_actions *a = &d->cacts;
	char ip[IP4_STRLEN];
	for (size_t i = 0; i < a->n; i++) {
		const struct cluster_action *act = &a->v[i];
		uint32_t to;
		int rc = 0;
		switch (act->type) {
		case CA_SEND_ALL:
			rc = udp_send_all(d->udp, act->data, act->len);
			break;
		case CA_SEND_TO:
			to = node_addr(d, act->node);
			rc = to ? udp_send_to(d->udp, to, act->data, act->len)
				: udp_send_all(d->udp, act->data, act->len);
			break;
		case CA_NODE_UP:
			log_notice("event=node_up node=%u address=%s", act->node,
				   ip4_fmt(node_addr(d, act->node), ip));
			failover_on_node_up(d, act->node);
			connsync_on_node(d, act->node, CA_NODE_UP);
			break;
		case CA_NODE_DOWN:
			log_notice("event=node_down node=%u address=%s", act->node,
				   ip4_fmt(node_addr(d, act->node), ip));
			connsync_on_node(d, act->node, CA_NODE_DOWN);
			break;
		case CA_OWN_DOWN:
			log_warnx("event=sync_link_down device=%s: no node will be declared dead "
				  "until it is back",
				  d->cfg.cluster.device);
			failover_on_sync_link(d, false);
			break;
		case CA_OWN_UP:
			log_notice("event=sync_link_up device=%s", d->cfg.cluster.device);
			failover_on_sync_link(d, true);
			break;
		case CA_DELIVER:
			log_debug("event=cluster_message node=%u bytes=%u", act->node,
				  (unsigned)act->len);
			failover_on_deliver(d, act->node, act->data, act->len);
			connsync_on_deliver(d, act->node, act->data, act->len);
			break;
		case CA_STATE:
			failover_on_state(d, act->node, act->data, act->len);
			break;
		case CA_OUT_OF_SYNC:
			log_warnx("event=cluster_out_of_sync node=%u: messages were lost for good",
				  act->node);
			connsync_on_node(d, act->node, CA_OUT_OF_SYNC);
			break;
		}
		if (rc < 0 && d->udp_errors++ % 1000 == 0)
			log_warn("cluster: cannot send (%llu failures so far)",
				 (unsigned long long)d->udp_errors);
	}
	if (a->dropped) {
		log_warnx("out of memory: %zu cluster actions lost", a->dropped);
		a->dropped = 0;
	}
	cluster_actions_reset(a);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint8_t buf[WIRE_MAX_DATAGRAM + 1]; /* one more: an oversized one is seen as such */
	for (int i = 0; i < RX_BATCH; i++) {
		uint32_t from;
		long n = udp_recv(d->udp, buf, sizeof(buf), &from);
		if (n < 0) {
			log_warn("cluster: receive");
			break;
		}
		if (n == 0)
			break;
		cluster_input(d->cl, buf, (size_t)n, now_ms(), &d->cacts);
		uint32_t sender = cluster_last_sender(d->cl);
		if (sender)
			learn_node_addr(d, sender, from);
		apply_cluster(d);
	}
	arm_timer(d);
}

/* A test message on the reliable broadcast, as the seed's test plugin sent. */
static void on_traffic(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "test-traffic node %u message %u",
			 d->cfg.cluster.node_id, ++d->traffic_sent);
	if (cluster_broadcast(d->cl, (const uint8_t *)msg, (size_t)n, now_ms(), &d->cacts) < 0)
		log_warn("cluster: test traffic");
	apply_cluster(d);
	arm_timer(d);
	if (--d->traffic_left) {
		struct timeval tv = {(time_t)(d->traffic_period_ms / 1000),
				     (suseconds_t)(d->traffic_period_ms % 1000) * 1000};
		evtimer_add(d->traffic_ev, &tv);
	}
}

static int start_traffic(struct daemon *d, const char *period, const char *count, char *msg,
			 size_t len)
{
	char *e1, *e2;
	unsigned long ms = strtoul(period, &e1, 10), n = strtoul(count, &e2, 10);
	if (*e1 || *e2 || ms < 1 || ms > 60000 || n < 1 || n > 10000000) {
		snprintf(msg, len,
			 "cluster test-traffic PERIOD_MS COUNT: expected 1..60000 and "
			 "1..10000000");
		return -1;
	}
	if (!d->traffic_ev && !(d->traffic_ev = evtimer_new(d->base, on_traffic, d))) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	d->traffic_period_ms = (uint32_t)ms;
	d->traffic_left = (uint32_t)n;
	struct timeval tv = {0, 0};
	evtimer_add(d->traffic_ev, &tv);
	log_notice("cluster: test traffic, %lu messages every %lu ms", n, ms);
	return 0;
}

/* Start the cluster layers. -1 with a message. */
static int cluster_start(struct daemon *d, char *err, size_t errlen)
{
	const struct conf_cluster *cc = &d->cfg.cluster;
	struct cluster_params cp;
	memset(&cp, 0, sizeof(cp));
	if (keyfile_load(cc->key_file, &cp.key, err, errlen) < 0)
		return -1;
	struct nl_link l;
	if (nl_link_by_name(d->nl, cc->device, &l) < 0) {
		snprintf(err, errlen, "[Cluster] Interface=%s: %s", cc->device,
			 errno == ENODEV ? "no such device" : strerror(errno));
		sodium_memzero(&cp.key, sizeof(cp.key));
		return -1;
	}
	d->sync_ifindex = l.ifindex;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* new and larger at every start */
	cp.node_id = cc->node_id;
	cp.epoch = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	cp.encrypt = cc->encrypt;
	cp.interval_ms = cc->interval_ms;
	cp.dead_count = cc->dead_count;
	cp.send_buffer = cc->send_buffer;
	d->cl = cluster_new(&cp);
	sodium_memzero(&cp.key, sizeof(cp.key));
	if (!d->cl) {
		snprintf(err, errlen, "cluster: out of memory");
		return -1;
	}
	cluster_actions_init(&d->cacts);
	if (!(d->udp = udp_open(cc, l.ifindex, err, errlen)))
		return -1;
	d->udp_ev = event_new(d->base, udp_fd(d->udp), EV_READ | EV_PERSIST, on_udp, d);
	if (!d->udp_ev || event_add(d->udp_ev, NULL) < 0) {
		snprintf(err, errlen, "cluster: cannot watch the socket");
		return -1;
	}
	uint64_t now = now_ms();
	if (!l.up)
		cluster_set_link(d->cl, false, now, &d->cacts);
	cluster_tick(d->cl, now, &d->cacts);
	apply_cluster(d);
	log_info("cluster: node %u on %s, %s port %u, heartbeat %ums, dead after %u", cc->node_id,
		 cc->device, cc->has_group ? "multicast" : "unicast", (unsigned)cc->port,
		 cc->interval_ms, cc->dead_count);
	return 0;
}

/* ---- frames ---- */

/* The kernel's own requests (and nothing else) from the control socket. */
static void read_outgoing(struct daemon *d, struct mif *m)
{
	uint8_t buf[2048];
	for (int i = 0; i < RX_BATCH; i++) {
		bool out, other;
		long n = packet_recv(m->fd, buf, sizeof(buf), &out, &other);
		if (n < 0) {
			log_warn("%s: packet socket", m->conf->name);
			break;
		}
		if (n == 0)
			break;
		arp_engine_input(d->eng, m->ifindex, buf, (size_t)n, out, other, now_ms(),
				 &d->acts);
		apply(d);
	}
}

static void count_send_errors(struct mif *m, size_t failed)
{
	if (failed && m->send_errors / 1000 != (m->send_errors + failed) / 1000)
		log_warnx("%s: cannot send ARP frame (%llu failures so far)", m->conf->name,
			  (unsigned long long)(m->send_errors + failed));
	m->send_errors += failed;
}

/*
 * A frame from the ring. The frames the engine sends on this interface
 * (answers) are queued and go out together at the end of the read; the
 * other actions are carried out at once.
 */
static void on_ring_frame(void *arg, const uint8_t *buf, size_t len, bool otherhost)
{
	struct mif *m = arg;
	struct daemon *d = m->d;
	struct actions *a = &d->acts;
	arp_engine_input(d->eng, m->ifindex, buf, len, false, otherhost, m->ring_now, a);
	size_t k = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct action *act = &a->v[i];
		if (act->type == ACT_SEND && act->ifindex == m->ifindex) {
			count_send_errors(m, packet_ring_queue(m->ring, m->fd, m->ifindex,
							       act->u.frame.buf, act->u.frame.len));
			continue;
		}
		if (k != i)
			a->v[k] = a->v[i];
		k++;
	}
	a->n = k;
	if (k || a->dropped)
		apply(d);
}

/*
 * Either socket is readable: the kernel's requests first, so that a reply
 * in the ring is never judged before the request it answers.
 */
static void on_packet(evutil_socket_t fd, short what, void *arg)
{
	struct mif *m = arg;
	struct daemon *d = m->d;
	read_outgoing(d, m);
	if (m->ring) {
		m->ring_now = now_ms();
		packet_ring_read(m->ring, RING_BATCH, on_ring_frame, m);
		count_send_errors(m, packet_ring_flush(m->ring, m->fd, m->ifindex));
	}
	arm_timer(d);
}

/* ---- interfaces ---- */

void refresh_addrs(struct daemon *d, struct mif *m)
{
	struct ip4_prefix addrs[MAX_ADDRS];
	size_t n = 0;
	if (nl_addrs(d->nl, m->ifindex, addrs, MAX_ADDRS, &n) < 0) {
		log_warn("%s: cannot read addresses", m->conf->name);
		return;
	}
	if (n > MAX_ADDRS) {
		log_warnx("%s: %zu IPv4 addresses, only the first %d are used", m->conf->name, n,
			  MAX_ADDRS);
		n = MAX_ADDRS;
	}
	if (arp_engine_iface_set_addrs(d->eng, m->ifindex, addrs, n) < 0)
		log_warn("%s: cannot set addresses", m->conf->name);
}

/* Static entries go back into the kernel (it drops them when a link goes down). */
static void reinstall_static(struct daemon *d, struct mif *m)
{
	struct arp_iface_view v;
	if (arp_engine_iface_get(d->eng, m->ifindex, &v) < 0)
		return;
	size_t cursor = 0;
	struct arp_entry *en;
	while ((en = arp_cache_next(v.cache, &cursor)))
		if (en->type == ARP_STATIC)
			nl_neigh_set(d->nl, m->ifindex, en->ip, &en->mac, true);
}

/* Close m's receive ring and stop watching it. */
static void packet_rx_close(struct mif *m)
{
	if (m->ring_ev)
		event_free(m->ring_ev);
	m->ring_ev = NULL;
	packet_ring_close(m->ring);
	m->ring = NULL;
}

/* Start managing m's device. -1 with a message when it cannot be done. */
static int attach(struct daemon *d, struct mif *m, char *err, size_t errlen)
{
	struct nl_link l;
	const char *dev = m->conf->device;
	if (nl_link_by_name(d->nl, dev, &l) < 0) {
		snprintf(err, errlen, "interface %s (Device=%s): %s", m->conf->name, dev,
			 errno == ENODEV ? "no such device" : strerror(errno));
		return -1;
	}
	if (!l.has_mac) {
		snprintf(err, errlen, "interface %s (Device=%s) has no Ethernet address",
			 m->conf->name, dev);
		return -1;
	}
	if (arp_engine_iface_add(d->eng, l.ifindex, m->conf->name, &l.mac, l.vlan) < 0) {
		snprintf(err, errlen, "interface %s: %s", m->conf->name, strerror(errno));
		return -1;
	}
	m->ifindex = l.ifindex;
	m->up = l.up;
	refresh_addrs(d, m);
	for (size_t i = 0; i < d->cfg.n_entries; i++) {
		const struct conf_entry *ce = &d->cfg.entries[i];
		if (strcmp(ce->iface, m->conf->name) != 0)
			continue;
		if (arp_engine_add_entry(d->eng, l.ifindex, ce->ip, ce->mode,
					 ce->has_mac ? &ce->mac : NULL, &d->acts) < 0) {
			char ip[IP4_STRLEN];
			snprintf(err, errlen, "%s:%d: ARPEntry %s on %s: %s", d->cfg_path, ce->line,
				 ip4_fmt(ce->ip, ip), m->conf->name, strerror(errno));
			goto fail;
		}
	}
	for (size_t i = 0; i < d->cfg.n_proxies; i++) {
		const struct conf_proxy *p = &d->cfg.proxies[i];
		bool here = p->all;
		for (size_t k = 0; !here && k < p->n_ifaces; k++)
			here = strcmp(p->ifaces[k], m->conf->name) == 0;
		if (here && arp_engine_add_proxy(d->eng, l.ifindex, &p->net) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	/* the socket first, so the kernel's new requests are seen, then the flush */
	m->fd = packet_open(l.ifindex);
	if (m->fd < 0) {
		snprintf(err, errlen, "interface %s: packet socket: %s%s", m->conf->name,
			 strerror(errno),
			 errno == EPERM ? " (arphad needs CAP_NET_RAW and CAP_NET_ADMIN)" : "");
		goto fail;
	}
	m->ring = packet_ring_open(l.ifindex);
	if (!m->ring) {
		snprintf(err, errlen, "interface %s: packet ring: %s", m->conf->name,
			 strerror(errno));
		goto fail;
	}
	m->ev = event_new(d->base, m->fd, EV_READ | EV_PERSIST, on_packet, m);
	m->ring_ev =
	    event_new(d->base, packet_ring_fd(m->ring), EV_READ | EV_PERSIST, on_packet, m);
	if (!m->ev || event_add(m->ev, NULL) < 0 || !m->ring_ev ||
	    event_priority_set(m->ring_ev, ARPHAD_PRIO_CLIENTS) < 0 ||
	    event_add(m->ring_ev, NULL) < 0) {
		snprintf(err, errlen, "interface %s: cannot watch the packet socket",
			 m->conf->name);
		goto fail;
	}
	int flushed = nl_neigh_flush_learned(d->nl, l.ifindex);
	if (flushed < 0)
		log_warn("%s: cannot flush unvetted kernel neighbours", m->conf->name);
	else if (flushed > 0)
		log_info("%s: removed %d kernel neighbour entries learned before arphad",
			 m->conf->name, flushed);
	apply(d);
	log_info("%s: managing device %s (ifindex %u)", m->conf->name, dev, l.ifindex);
	return 0;
fail:
	if (m->ev)
		event_free(m->ev);
	m->ev = NULL;
	packet_rx_close(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	arp_engine_iface_del(d->eng, l.ifindex);
	m->ifindex = 0;
	actions_reset(&d->acts);
	return -1;
}

static void detach(struct daemon *d, struct mif *m)
{
	if (m->ev)
		event_free(m->ev);
	m->ev = NULL;
	packet_rx_close(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	arp_engine_iface_del(d->eng, m->ifindex);
	m->ifindex = 0;
}

static void on_link_event(const struct nl_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct mif *m = mif_by_index(d, ev->ifindex);
	char err[256];
	switch (ev->type) {
	case NLE_ADDR:
		if (m)
			refresh_addrs(d, m);
		break;
	case NLE_LINK_DEL:
		if (m) {
			log_warnx("%s: device %s went away; waiting for it to come back",
				  m->conf->name, m->conf->device);
			detach(d, m);
		}
		failover_on_link(d);
		break;
	case NLE_LINK:
		if (d->cl && ev->ifindex == d->sync_ifindex) {
			cluster_set_link(d->cl, ev->link.up, now_ms(), &d->cacts);
			apply_cluster(d);
		}
		if (m) {
			if (ev->link.has_mac)
				arp_engine_iface_set_mac(d->eng, m->ifindex, &ev->link.mac);
			if (ev->link.up && !m->up)
				reinstall_static(d, m);
			m->up = ev->link.up;
			failover_on_link(d);
			break;
		}
		for (size_t i = 0; i < d->n_ifs; i++) {
			m = &d->ifs[i];
			if (m->ifindex || strcmp(m->conf->device, ev->link.name) != 0)
				continue;
			if (attach(d, m, err, sizeof(err)) < 0)
				log_warnx("%s", err);
		}
		failover_on_link(d);
		break;
	}
}

static void on_netlink(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	if (nl_events_read(d->nl, on_link_event, d) < 0) {
		if (errno != ENOBUFS) {
			log_warn("netlink events");
			return;
		}
		/* events were lost: read the state again */
		log_warnx("netlink events lost; re-reading interfaces");
		for (size_t i = 0; i < d->n_ifs; i++) {
			struct mif *m = &d->ifs[i];
			struct nl_link l;
			if (m->ifindex && nl_link_by_index(d->nl, m->ifindex, &l) < 0)
				detach(d, m);
			else if (m->ifindex)
				refresh_addrs(d, m);
		}
	}
	arm_timer(d);
}

/* ---- control ---- */

/* The kernel's count of frames it could not queue for us, into the stats. */
static void collect_socket_drops(struct daemon *d)
{
	for (size_t i = 0; i < d->n_ifs; i++) {
		struct mif *m = &d->ifs[i];
		if (m->ifindex && m->fd >= 0)
			arp_engine_count(d->eng, m->ifindex, AC_SOCKET_DROPS, packet_drops(m->fd));
		if (m->ifindex && m->ring)
			arp_engine_count(d->eng, m->ifindex, AC_SOCKET_DROPS,
					 packet_ring_drops(m->ring));
	}
}

static void serve(void *arg, struct control_req *cfd, char **argv, int argc, bool json)
{
	struct daemon *d = arg;
	struct sbuf b;
	sbuf_init(&b);
	uint64_t now = now_ms();
	char msg[256];
	const char *cmd = argc > 0 ? argv[0] : "";
	const char *sub = argc > 1 ? argv[1] : "";
	struct mif *m = NULL;

	if (strcmp(cmd, "arp") == 0 && (strcmp(sub, "show") == 0 || strcmp(sub, "flush") == 0)) {
		if (argc > 3)
			goto usage;
		if (argc == 3 && (!(m = mif_by_name(d, argv[2])) || !m->ifindex))
			goto no_iface;
		if (sub[0] == 's') {
			show_arp(&b, d->eng, m ? m->conf->name : NULL, json, now);
		} else {
			int n = arp_engine_flush(d->eng, m ? m->ifindex : 0, now, &d->acts);
			apply(d);
			log_notice("event=arp_flush action=flush recvif=%s removed=%d",
				   m ? m->conf->name : "all", n);
			if (json)
				sbuf_printf(&b, "{\"flushed\":%d}\n", n);
			else
				sbuf_printf(
				    &b, "ARP cache of %s%s flushed: %d dynamic entries removed.\n",
				    m ? "iface " : "all interfaces", m ? m->conf->name : "", n);
		}
	} else if (strcmp(cmd, "announce") == 0) {
		if (argc != 2)
			goto usage;
		if (!(m = mif_by_name(d, argv[1])) || !m->ifindex)
			goto no_iface;
		int n = arp_engine_announce(d->eng, m->ifindex, now, &d->acts);
		apply(d);
		log_notice("event=arp_announce action=announce recvif=%s addresses=%d",
			   m->conf->name, n);
		if (json)
			sbuf_printf(&b, "{\"interface\":\"%s\",\"announced\":%d}\n", m->conf->name,
				    n);
		else
			sbuf_printf(&b, "%s: gratuitous ARP sent for %d addresses.\n",
				    m->conf->name, n);
	} else if (strcmp(cmd, "cluster") == 0 &&
		   (argc == 1 || (argc == 4 && strcmp(sub, "test-traffic") == 0))) {
		if (!d->cl) {
			sbuf_free(&b);
			control_error(cfd, "no [Cluster] in the configuration: this node is on its "
					   "own");
			return;
		}
		if (argc == 4) {
			if (start_traffic(d, argv[2], argv[3], msg, sizeof(msg)) < 0) {
				sbuf_free(&b);
				control_error(cfd, msg);
				return;
			}
			sbuf_printf(&b,
				    json ? "{\"test_traffic\":true}\n" : "test traffic started\n");
		} else {
			show_cluster(&b, d->cl, d->addrs, d->n_addrs, json, now);
		}
	} else if (strcmp(cmd, "conns") == 0 && argc == 1) {
		if (!d->cs) {
			sbuf_free(&b);
			control_error(cfd, "no [ConnSync] in the configuration");
			return;
		}
		connsync_show(d, &b, json, now);
	} else if (strcmp(cmd, "vip") == 0 && argc == 1) {
		if (!d->fo) {
			sbuf_free(&b);
			control_error(cfd, "no [VIP] in the configuration");
			return;
		}
		failover_show(d, &b, json, now);
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		collect_socket_drops(d);
		show_stats(&b, d->eng, json);
	} else {
		goto usage;
	}
	arm_timer(d);
	if (b.oom)
		control_error(cfd, "out of memory");
	else
		control_reply(cfd, &b);
	sbuf_free(&b);
	return;
usage:
	sbuf_free(&b);
	control_error(cfd, "unknown command (expected: arp show [IFACE], arp flush [IFACE], "
			   "announce IFACE, stats, cluster, vip, conns)");
	return;
no_iface:
	sbuf_free(&b);
	{
		struct sbuf names;
		sbuf_init(&names);
		for (size_t i = 0; i < d->n_ifs; i++)
			sbuf_printf(&names, "%s%s%s", i ? ", " : "", d->ifs[i].conf->name,
				    d->ifs[i].ifindex ? "" : " (absent)");
		snprintf(msg, sizeof(msg), "no managed interface \"%s\" (managed: %s)",
			 argv[argc - 1], names.s ? names.s : "none");
		sbuf_free(&names);
	}
	control_error(cfd, msg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (sig == SIGHUP) {
		log_warnx("SIGHUP: reloading is not supported yet; restart arphad to apply a new "
			  "configuration");
		return;
	}
	if (!d->stopping && d->fo) {
		log_notice("stopping on signal %d", (int)sig);
		if (failover_stop(d)) {
			d->stopping = true; /* the timer ends the loop once they are handed over */
			arm_timer(d);
			return;
		}
	} else {
		log_notice("stopping on signal %d", (int)sig);
	}
	event_base_loopexit(d->base, NULL);
}

/* ---- main ---- */

/*
 * The kernel refuses neighbour entries past gc_thresh3 (per table, all
 * interfaces together): say so at start rather than fail entry by entry.
 */
static void warn_kernel_table_size(const struct config *cfg)
{
	char *text;
	size_t len;
	if (read_file("/proc/sys/net/ipv4/neigh/default/gc_thresh3", 64, &text, &len) < 0)
		return;
	unsigned long thresh = strtoul(text, NULL, 10);
	free(text);
	unsigned long long want = (unsigned long long)cfg->arp.cache_size * cfg->n_ifaces;
	if (thresh && want > thresh)
		log_notice("CacheSize %u on %zu interfaces allows %llu entries, but the kernel "
			   "neighbour table holds at most %lu (net.ipv4.neigh.default.gc_thresh3); "
			   "raise it with sysctl or mappings past it will not be installed",
			   cfg->arp.cache_size, cfg->n_ifaces, want, thresh);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: arphad [-dnrV] [-f FILE]\n"
	    "  -f FILE  configuration (default /etc/arpha/arphad.conf)\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -n       check the configuration and exit\n"
	    "  -r       remove the VIP addresses and virtual MACs a killed arphad left, and exit\n"
	    "  -V       print the version\n");
}

static void load_config(struct daemon *d)
{
	char *text;
	size_t len;
	char err[512];
	if (read_file(d->cfg_path, CONFIG_MAX_BYTES, &text, &len) < 0) {
		fprintf(stderr, "arphad: cannot read %s: %s\n", d->cfg_path, strerror(errno));
		exit(1);
	}
	if (config_parse(text, len, d->cfg_path, &d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		free(text);
		exit(1);
	}
	free(text);
}

static void cleanup(struct daemon *d)
{
	failover_free(d);
	connsync_free(d);
	if (d->base)
		flushreq_cancel_all(d->base);
	for (size_t i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].ifindex)
			detach(d, &d->ifs[i]);
	free(d->ifs);
	nft_guard_close(d->guard);
	if (d->udp_ev)
		event_free(d->udp_ev);
	if (d->traffic_ev)
		event_free(d->traffic_ev);
	udp_close(d->udp);
	cluster_free(d->cl);
	cluster_actions_free(&d->cacts);
	control_free(d->ctl);
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->cfg.control_socket);
	}
	for (size_t i = 0; i < 3; i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	if (d->nl_ev)
		event_free(d->nl_ev);
	if (d->timer)
		event_free(d->timer);
	if (d->base)
		event_base_free(d->base);
	nl_close(d->nl);
	arp_engine_free(d->eng);
	actions_free(&d->acts);
	config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	struct daemon d;
	memset(&d, 0, sizeof(d));
	d.cfg_path = "/etc/arpha/arphad.conf";
	d.ctl_fd = -1;
	bool foreground = false, check = false, release = false;
	int c;
	while ((c = getopt(argc, argv, "df:nrVh")) != -1) {
		switch (c) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			d.cfg_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'r':
			release = true;
			break;
		case 'V':
			printf("arphad %s\n", ARPHA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	load_config(&d);
	if (d.cfg.cluster.present) {
		struct wire_key key;
		char kerr[512];
		if (sodium_init() < 0)
			fatalx("libsodium cannot start");
		if (keyfile_load(d.cfg.cluster.key_file, &key, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.cluster.line, kerr);
			config_free(&d.cfg);
			return 1;
		}
		sodium_memzero(&key, sizeof(key));
	}
	if (d.cfg.flush.present) {
		struct wire_key key;
		char kerr[512];
		if (keyfile_load(d.cfg.flush.key_file, &key, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.flush.line, kerr);
			config_free(&d.cfg);
			return 1;
		}
		sodium_memzero(&key, sizeof(key));
	}
	if (release) {
		struct nl *nl = nl_open(false);
		if (!nl) {
			fprintf(stderr, "arphad: rtnetlink: %s\n", strerror(errno));
			config_free(&d.cfg);
			return 1;
		}
		int n = failover_release_leftovers(&d.cfg, nl);
		nl_close(nl);
		printf("arphad: removed %d VIP addresses and virtual MACs\n", n);
		config_free(&d.cfg);
		return 0;
	}
	if (check) {
		printf("%s: configuration OK (%zu interfaces, %zu ARP entries, %zu proxy ARP "
		       "networks, %zu VIPs)\n",
		       d.cfg_path, d.cfg.n_ifaces, d.cfg.n_entries, d.cfg.n_proxies, d.cfg.n_vips);
		config_free(&d.cfg);
		return 0;
	}

	log_init("arphad", foreground ? LOG_TARGET_STDERR : d.cfg.log_target, d.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	actions_init(&d.acts);
	char err[512];
	if (!(d.eng = arp_engine_new(&d.cfg.arp)))
		fatal("engine");
	if (!(d.nl = nl_open(true)))
		fatal("rtnetlink");
	if (!(d.base = event_base_new()) || event_base_priority_init(d.base, ARPHAD_PRIORITIES) < 0)
		fatalx("cannot create the event loop");

	/* stop the kernel's own ARP input before anything is learned */
	const char **devs = calloc(d.cfg.n_ifaces, sizeof(*devs));
	d.ifs = calloc(d.cfg.n_ifaces, sizeof(*d.ifs));
	if (!devs || !d.ifs)
		fatal("calloc");
	for (size_t i = 0; i < d.cfg.n_ifaces; i++)
		devs[i] = d.cfg.ifaces[i].device;
	d.guard = nft_guard_open(devs, d.cfg.n_ifaces, err, sizeof(err));
	free(devs);
	if (!d.guard)
		fatalx("%s", err);

	warn_kernel_table_size(&d.cfg);
	d.n_ifs = d.cfg.n_ifaces;
	for (size_t i = 0; i < d.n_ifs; i++) {
		d.ifs[i] = (struct mif){.conf = &d.cfg.ifaces[i], .fd = -1, .d = &d};
		if (attach(&d, &d.ifs[i], err, sizeof(err)) < 0) {
			log_line(3, err);
			cleanup(&d);
			return 1;
		}
	}

	d.ctl_fd = control_listen(d.cfg.control_socket, err, sizeof(err));
	if (d.ctl_fd < 0) {
		log_line(3, err);
		cleanup(&d);
		return 1;
	}
	if (d.cfg.cluster.present && cluster_start(&d, err, sizeof(err)) < 0) {
		log_line(3, err);
		cleanup(&d);
		return 1;
	}
	if (connsync_start(&d, err, sizeof(err)) < 0 || failover_start(&d, err, sizeof(err)) < 0) {
		log_line(3, err);
		cleanup(&d);
		return 1;
	}
	d.timer = evtimer_new(d.base, on_timer, &d);
	d.nl_ev = event_new(d.base, nl_events_fd(d.nl), EV_READ | EV_PERSIST, on_netlink, &d);
	d.ctl = control_start(d.base, d.ctl_fd, ARPHAD_PRIO_CLIENTS, serve, &d);
	int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		d.sigs[i] = evsignal_new(d.base, sigs[i], on_signal, &d);
		if (!d.sigs[i] || evsignal_add(d.sigs[i], NULL) < 0)
			fatalx("cannot watch signal %d", sigs[i]);
	}
	if (!d.timer || !d.nl_ev || !d.ctl || event_add(d.nl_ev, NULL) < 0)
		fatalx("cannot set up events");

	if (!foreground && daemon(0, 0) < 0)
		fatal("daemon");
	/* libevent's signal pipe and epoll survive the fork; reinit to be sure */
	if (!foreground && event_reinit(d.base) < 0)
		fatalx("event_reinit");
	if (d.cfg.rt_priority) {
		/* heartbeats on time even when other processes load every CPU */
		struct sched_param sp = {.sched_priority = d.cfg.rt_priority};
		if (sched_setscheduler(0, SCHED_RR, &sp) < 0)
			log_warn("cannot run with realtime priority %d (RealtimePriority=0 turns "
				 "this off); heartbeats may be late under load",
				 d.cfg.rt_priority);
		else
			log_info("running with realtime priority %d (SCHED_RR)", d.cfg.rt_priority);
	}
	log_notice("arphad %s started: %zu interfaces, control socket %s", ARPHA_VERSION, d.n_ifs,
		   d.cfg.control_socket);
	arm_timer(&d);
	event_base_dispatch(d.base);
	cleanup(&d);
	return 0;
}
