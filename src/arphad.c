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
#include "os/spawn.h"
#include "os/syscheck.h"
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
		    strcmp(d->ifs[i].conf->device, name) == 0 ||
		    (d->ifs[i].ifindex && strcmp(d->ifs[i].dev, name) == 0))
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
					log_warn("event=send_failed iface=%s failures=%llu",
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
				log_warn("event=neigh_install_failed iface=%s ip=%s failures=%llu",
					 m ? m->conf->name : "?", ip4_fmt(act->u.neigh.ip, ip),
					 (unsigned long long)d->neigh_errors);
			break;
		case ACT_NEIGH_DEL:
			if (nl_neigh_del(d->nl, act->ifindex, act->u.neigh.ip) < 0 &&
			    d->neigh_errors++ % 1000 == 0)
				log_warn("event=neigh_remove_failed iface=%s ip=%s failures=%llu",
					 m ? m->conf->name : "?", ip4_fmt(act->u.neigh.ip, ip),
					 (unsigned long long)d->neigh_errors);
			break;
		case ACT_LOG:
			log_line(act->u.log.level, act->u.log.text);
			break;
		}
	}
	if (a->dropped) {
		log_warnx("event=out_of_memory actions_lost=%zu", a->dropped);
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
			log_warn("event=cluster_send_failed failures=%llu",
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
			log_warnx(
			    "event=sync_link_down device=%s msg=\"no node will be declared dead "
			    "until it is back\"",
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
			if (act->chan == CLUSTER_CHAN_VIP)
				failover_on_state(d, act->node, act->data, act->len);
			break;
		case CA_OUT_OF_SYNC:
			log_warnx(
			    "event=cluster_out_of_sync node=%u msg=\"messages were lost for good\"",
			    act->node);
			connsync_on_node(d, act->node, CA_OUT_OF_SYNC);
			break;
		case CA_LOG:
			log_line(act->level, (const char *)act->data);
			break;
		}
		if (rc < 0 && d->udp_errors++ % 1000 == 0)
			log_warn("event=cluster_send_failed failures=%llu",
				 (unsigned long long)d->udp_errors);
	}
	if (a->dropped) {
		log_warnx("event=out_of_memory cluster_actions_lost=%zu", a->dropped);
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
			log_warn("event=cluster_receive_failed");
			break;
		}
		if (n == 0)
			break;
		cluster_input_from(d->cl, buf, (size_t)n, from, now_ms(), &d->cacts);
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
		log_warn("event=test_traffic_failed");
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
	log_notice("event=test_traffic messages=%lu period_ms=%lu", n, ms);
	return 0;
}

/* Start the cluster layers. -1 with a message. */
static int cluster_start(struct daemon *d, char *err, size_t errlen)
{
	const struct conf_cluster *cc = &d->cfg.cluster;
	struct cluster_params cp;
	memset(&cp, 0, sizeof(cp));
	char kerr[400];
	if (keyfile_load(cc->key_file, &cp.key, kerr, sizeof(kerr)) < 0) {
		if (snprintf(err, errlen, "%s:%d: %s", d->cfg_path, cc->key_line, kerr) < 0)
			err[0] = '\0';
		return -1;
	}
	struct nl_link l;
	if (nl_link_by_name(d->nl, cc->device, &l) < 0) {
		snprintf(err, errlen, "%s:%d: [Cluster] Interface=%s: %s", d->cfg_path,
			 cc->iface_line, cc->device,
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
	cp.peers = cc->has_group ? NULL : cc->peers;
	cp.n_peers = cc->has_group ? 0 : cc->n_peers;
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
	log_info(
	    "event=cluster_start node=%u device=%s mode=%s port=%u heartbeat_ms=%u dead_after=%u",
	    cc->node_id, cc->device, cc->has_group ? "multicast" : "unicast", (unsigned)cc->port,
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
			if (errno == ENETDOWN) /* the link went down (or was down at start) */
				log_info("event=link_down iface=%s", m->conf->name);
			else
				log_warn("event=packet_receive_failed iface=%s", m->conf->name);
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
		log_warnx("event=send_failed iface=%s failures=%llu", m->conf->name,
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
		log_warn("event=addr_read_failed iface=%s", m->conf->name);
		return;
	}
	if (n > MAX_ADDRS) {
		log_warnx("event=too_many_addresses iface=%s addresses=%zu used=%d", m->conf->name,
			  n, MAX_ADDRS);
		n = MAX_ADDRS;
	}
	if (arp_engine_iface_set_addrs(d->eng, m->ifindex, addrs, n) < 0)
		log_warn("event=addr_set_failed iface=%s", m->conf->name);
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

/*
 * Point the kernel guard at the managed devices: each by its configured
 * name always, and by its index while arphad manages it (so a rename does
 * not switch the guard off). 0, or -1 with a message.
 */
static int guard_sync(struct daemon *d, char *err, size_t errlen)
{
	const char **devs = calloc(d->n_ifs ? d->n_ifs : 1, sizeof(*devs));
	uint32_t *idx = calloc(d->n_ifs ? d->n_ifs : 1, sizeof(*idx));
	int rc = -1;
	if (!devs || !idx) {
		snprintf(err, errlen, "cannot update the nftables guard: out of memory");
	} else {
		for (size_t i = 0; i < d->n_ifs; i++) {
			devs[i] = d->ifs[i].conf->device;
			idx[i] = d->ifs[i].ifindex;
		}
		rc = nft_guard_set(d->guard, devs, idx, d->n_ifs, err, errlen);
	}
	free(devs);
	free(idx);
	return rc;
}

/* The same, at run time: a failure is logged (the rules by name stay). */
static void guard_follow(struct daemon *d)
{
	char err[512];
	if (guard_sync(d, err, sizeof(err)) < 0)
		log_warnx("event=guard_update_failed fallback=by_name detail=%s", err);
}

/* Remove the kernel's neighbours of m learned before arphad decided (unvetted). */
static void flush_learned(struct daemon *d, struct mif *m)
{
	int flushed = nl_neigh_flush_learned(d->nl, m->ifindex);
	if (flushed < 0)
		log_warn("event=neigh_flush_failed iface=%s", m->conf->name);
	else if (flushed > 0)
		log_info("event=neigh_flush iface=%s removed=%d reason=learned_before_arphad",
			 m->conf->name, flushed);
}

/*
 * Start managing m's device. At start (starting true) the kernel is not
 * touched yet: its neighbours are not flushed and the Static entries wait
 * in d->acts (main does both once nothing can fail), and a guard that
 * cannot follow the device's index is an error. Later, a device that comes
 * back is flushed and given its entries at once. -1 with a message when
 * it cannot be done.
 */
static int attach(struct daemon *d, struct mif *m, bool starting, char *err, size_t errlen)
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
	m->taken = 0;
	snprintf(m->dev, sizeof(m->dev), "%s", l.name);
	if (starting) {
		if (guard_sync(d, err, errlen) < 0)
			goto fail;
	} else {
		guard_follow(d);
	}
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
	if (!starting) {
		flush_learned(d, m);
		apply(d);
	}
	log_info("event=iface_attach iface=%s device=%s ifindex=%u", m->conf->name, dev, l.ifindex);
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
	if (!starting)
		guard_follow(d);
	return -1;
}

/* Stop managing m's device (gone). The caller updates the guard (guard_follow). */
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

/* The managed device has a new name: arphad and the guard follow its index. */
static void renamed(struct mif *m, const char *name)
{
	log_notice("event=device_renamed recvif=%s old=%s new=%s ifindex=%u", m->conf->name, m->dev,
		   name, m->ifindex);
	snprintf(m->dev, sizeof(m->dev), "%s", name);
}

/*
 * Another device took the configured name while the managed one, renamed,
 * is still there: the guard drops its ARP input too (by name), and nobody
 * answers on it. Say so, once per device.
 */
static void name_taken(struct mif *m, const struct nl_event *ev)
{
	if (m->taken == ev->ifindex)
		return;
	m->taken = ev->ifindex;
	log_warnx("event=device_name_taken recvif=%s device=%s ifindex=%u action=drop "
		  "reason=managed_device_renamed managed=%s managed_ifindex=%u",
		  m->conf->name, ev->link.name, ev->ifindex, m->dev, m->ifindex);
}

static void on_link_event(const struct nl_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct mif *m = mif_by_index(d, ev->ifindex);
	char err[256], q[300];
	switch (ev->type) {
	case NLE_ADDR:
		if (m)
			refresh_addrs(d, m);
		break;
	case NLE_LINK_DEL:
		if (m) {
			log_warnx("event=device_gone iface=%s device=%s msg=\"waiting for it to "
				  "come back\"",
				  m->conf->name, m->dev);
			detach(d, m);
			guard_follow(d); /* its index may be given to another device */
			/* a device that took its name after a rename: now it is the one */
			struct nl_link l;
			if (nl_link_by_name(d->nl, m->conf->device, &l) == 0 &&
			    attach(d, m, false, err, sizeof(err)) < 0)
				log_warnx("event=attach_failed iface=%s msg=%s", m->conf->name,
					  log_quote(err, q, sizeof(q)));
		}
		failover_on_link(d);
		break;
	case NLE_LINK:
		if (d->cl && ev->ifindex == d->sync_ifindex) {
			cluster_set_link(d->cl, ev->link.up, now_ms(), &d->cacts);
			apply_cluster(d);
		}
		if (m) {
			if (ev->link.name[0] && strcmp(ev->link.name, m->dev) != 0)
				renamed(m, ev->link.name);
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
			if (strcmp(m->conf->device, ev->link.name) != 0)
				continue;
			if (m->ifindex) {
				name_taken(m, ev);
				continue;
			}
			if (attach(d, m, false, err, sizeof(err)) < 0)
				log_warnx("event=attach_failed iface=%s msg=%s", m->conf->name,
					  log_quote(err, q, sizeof(q)));
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
			log_warn("event=netlink_read_failed");
			return;
		}
		/* events were lost: read the state again */
		log_warnx("event=netlink_events_lost action=reread");
		for (size_t i = 0; i < d->n_ifs; i++) {
			struct mif *m = &d->ifs[i];
			struct nl_link l;
			if (m->ifindex && nl_link_by_index(d->nl, m->ifindex, &l) < 0) {
				detach(d, m);
				guard_follow(d);
			} else if (m->ifindex) {
				if (strcmp(l.name, m->dev) != 0)
					renamed(m, l.name);
				refresh_addrs(d, m);
			}
			/* gone and back while we were not told: take the new one */
			char err[256], q[300];
			if (!m->ifindex && nl_link_by_name(d->nl, m->conf->device, &l) == 0 &&
			    attach(d, m, false, err, sizeof(err)) < 0)
				log_warnx("event=attach_failed iface=%s msg=%s", m->conf->name,
					  log_quote(err, q, sizeof(q)));
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
		if (argc == 3 && !(m = mif_by_name(d, argv[2])))
			goto no_iface;
		if (m && !m->ifindex && sub[0] != 's')
			goto absent;
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
				sbuf_printf(&b,
					    "ARP cache of %s%s flushed: %d dynamic %s removed.\n",
					    m ? "iface " : "all interfaces", m ? m->conf->name : "",
					    n, n == 1 ? "entry" : "entries");
		}
	} else if (strcmp(cmd, "announce") == 0) {
		if (argc != 2)
			goto usage;
		if (!(m = mif_by_name(d, argv[1])))
			goto no_iface;
		if (!m->ifindex)
			goto absent;
		int n = arp_engine_announce(d->eng, m->ifindex, now, &d->acts);
		apply(d);
		log_notice("event=arp_announce action=announce recvif=%s addresses=%d",
			   m->conf->name, n);
		if (n <= 0) {
			sbuf_free(&b);
			snprintf(msg, sizeof(msg),
				 "%s: no addresses to announce (the interface has no IPv4 address "
				 "and no Publish entry)",
				 m->conf->name);
			control_error(cfd, msg);
			return;
		}
		if (json)
			sbuf_printf(&b, "{\"interface\":\"%s\",\"announced\":%d}\n", m->conf->name,
				    n);
		else
			sbuf_printf(&b, "%s: gratuitous ARP sent for %d %s.\n", m->conf->name, n,
				    n == 1 ? "address" : "addresses");
	} else if (strcmp(cmd, "cluster") == 0 &&
		   (argc == 1 || (argc == 4 && strcmp(sub, "test-traffic") == 0))) {
		if (!d->cl && argc == 1) { /* not an error: an empty list */
			sbuf_printf(&b, json ? "{\"members\":[]}\n"
					     : "no [Cluster] in the configuration: this node is on "
					       "its own\n");
		} else if (!d->cl) {
			sbuf_free(&b);
			control_error(cfd, "no [Cluster] in the configuration: this node is on its "
					   "own");
			return;
		} else if (argc == 4) {
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
		if (!d->cs)
			sbuf_printf(&b, json ? "{\"peers\":[]}\n"
					     : "no [ConnSync] in the configuration\n");
		else
			connsync_show(d, &b, json, now);
	} else if (strcmp(cmd, "vip") == 0 && argc == 1) {
		if (!d->fo)
			sbuf_printf(&b, json ? "[]\n" : "no [VIP] in the configuration\n");
		else
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
	return;
absent:
	sbuf_free(&b);
	snprintf(msg, sizeof(msg), "interface %s: its device %s is absent", m->conf->name,
		 m->conf->device);
	control_error(cfd, msg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (sig == SIGHUP) {
		log_warnx("event=signal signal=SIGHUP action=none msg=\"reloading is not supported "
			  "yet; restart arphad to apply a new configuration\"");
		return;
	}
	if (sig == SIGUSR1) {
		collect_socket_drops(d);
		show_log_counters(d->eng, d->cl);
		return;
	}
	if (sig == SIGUSR2) {
		log_debug("event=signal signal=SIGUSR2 action=none");
		return;
	}
	if (!d->stopping && d->fo) {
		log_notice("event=stopping signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
		if (failover_stop(d)) {
			d->stopping = true; /* the timer ends the loop once they are handed over */
			arm_timer(d);
			return;
		}
	} else {
		log_notice("event=stopping signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
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
		log_notice(
		    "event=kernel_table_small cache_size=%u interfaces=%zu entries=%llu "
		    "gc_thresh3=%lu msg=\"raise net.ipv4.neigh.default.gc_thresh3 with sysctl "
		    "or mappings past it will not be installed\"",
		    cfg->arp.cache_size, cfg->n_ifaces, want, thresh);
}

/*
 * Where the log goes. With -d: standard error, unless the configuration
 * says LogTarget=syslog. Without -d standard error is closed, so it is
 * syslog, also for LogTarget=stderr: that is said on standard error before
 * it closes, and in syslog; errors (a failed start) go to both.
 */
static void log_start(const struct config *c, bool foreground)
{
	if (foreground) {
		log_init("arphad", c->log_target_set ? c->log_target : LOG_TARGET_STDERR,
			 c->log_level);
		return;
	}
	log_init("arphad", LOG_TARGET_SYSLOG, c->log_level);
	log_echo_errors(true); /* once detached, stderr is /dev/null */
	if (c->log_target == LOG_TARGET_STDERR) {
		const char *line = "event=log_target target=syslog configured=stderr "
				   "msg=\"without -d standard error is closed; logging to syslog "
				   "(run arphad -d to log to standard error)\"";
		fprintf(stderr, "arphad: notice: %s\n", line);
		log_line(LOGL_NOTICE, line);
	}
}

/*
 * arphad needs CAP_NET_ADMIN (nftables, neighbours, addresses) and
 * CAP_NET_RAW (packet sockets). Without them every later step fails with
 * EPERM, which reads like another arphad holding the table: say it first.
 * Returns 0, or -1 with the message in err.
 */
static int check_caps(char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (read_file("/proc/self/status", 1 << 16, &text, &len) < 0)
		return 0; /* cannot tell: let the steps themselves say */
	const char *p = strstr(text, "\nCapEff:");
	unsigned long long eff = p ? strtoull(p + 8, NULL, 16) : ~0ULL;
	free(text);
	const unsigned long long need = 1ULL << 12 | 1ULL << 13; /* NET_ADMIN, NET_RAW */
	if ((eff & need) == need)
		return 0;
	snprintf(err, errlen,
		 "arphad needs CAP_NET_ADMIN and CAP_NET_RAW (it has%s%s%s): run it as root",
		 eff & 1ULL << 12 ? " CAP_NET_ADMIN" : "", eff & 1ULL << 13 ? " CAP_NET_RAW" : "",
		 eff & need ? "" : " neither");
	return -1;
}

/* Every managed device exists and has an Ethernet address (before anything is changed). */
static int check_devices(struct daemon *d, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->n_ifs; i++) {
		const struct conf_iface *ci = d->ifs[i].conf;
		struct nl_link l;
		if (nl_link_by_name(d->nl, ci->device, &l) < 0) {
			snprintf(err, errlen, "interface %s (Device=%s): %s", ci->name, ci->device,
				 errno == ENODEV ? "no such device" : strerror(errno));
			return -1;
		}
		if (!l.has_mac) {
			snprintf(err, errlen, "interface %s (Device=%s) has no Ethernet address",
				 ci->name, ci->device);
			return -1;
		}
	}
	return 0;
}

/*
 * `arphad -r` next to a live arphad would take its VIPs away: true (and
 * says why) while an arphad answers on this configuration's control socket
 * or the nftables owner table of one exists in this network namespace.
 */
static bool refuse_release(struct daemon *d)
{
	const char *sock = d->cfg.control_socket;
	if (control_alive(sock) > 0) {
		fprintf(stderr,
			"arphad: an arphad is running with this configuration (it answers on %s); "
			"-r removes only what a killed arphad left: stop the running one first\n",
			sock);
		return true;
	}
	int t = nft_guard_present();
	if (t != 0) {
		fprintf(stderr,
			t > 0 ? "arphad: an arphad is running in this network namespace (the "
				"nftables table \"arp " NFT_GUARD_TABLE "\" exists; a process "
				"that inherited its socket keeps it too); -r removes only what a "
				"killed arphad left: stop it first\n"
			      : "arphad: cannot tell whether an arphad runs in this network "
				"namespace (nftables table \"arp " NFT_GUARD_TABLE
				"\" cannot be listed); -r refused\n");
		return true;
	}
	return false;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: arphad [-dnrV] [-f FILE]\n"
	    "  -f FILE  configuration (default /etc/arpha/arphad.conf)\n"
	    "  -d       stay in the foreground and log to stderr (or LogTarget=syslog)\n"
	    "  -n       check the configuration and exit\n"
	    "  -r       remove the VIP addresses and virtual MACs a killed arphad left, and exit\n"
	    "  -V       print the version\n");
}

static void load_config(struct daemon *d)
{
	char *text;
	size_t len;
	static char err[CONF_ERR_LEN];
	struct stat st;
	/* a FIFO would block the open; a device or directory is no configuration */
	if (stat(d->cfg_path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "arphad: %s: not a regular file; name the configuration file\n",
			d->cfg_path);
		exit(1);
	}
	if (read_file(d->cfg_path, CONFIG_MAX_BYTES, &text, &len) < 0) {
		fprintf(stderr, "arphad: cannot read %s: %s\n", d->cfg_path, strerror(errno));
		exit(1);
	}
	if (config_parse(text, len, d->cfg_path, &d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err); /* every error, one per line */
		free(text);
		exit(1);
	}
	free(text);
}

/* Where the findings of syscheck_config go: stderr for -n, else the log. */
struct findings {
	const char *path;
	bool to_stderr;
};

static void on_syscheck(bool error, int line, const char *msg, void *arg)
{
	const struct findings *f = arg;
	char text[1024];
	snprintf(text, sizeof(text), "%s:%d: %s%s", f->path, line,
		 error || !f->to_stderr ? "" : "warning: ", msg);
	if (f->to_stderr) {
		fprintf(stderr, "%s\n", text);
	} else {
		/* key=value for the log, the FILE:LINE: message whole in msg= */
		char q[1100], kv[1200];
		snprintf(kv, sizeof(kv), "event=config_%s msg=%s", error ? "error" : "warning",
			 log_quote(text, q, sizeof(q)));
		log_line(error ? 3 : 4, kv);
	}
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
		control_unlink(d->cfg.control_socket, &d->ctl_own); /* only if still ours */
	}
	for (size_t i = 0; i < sizeof(d->sigs) / sizeof(d->sigs[0]); i++)
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
	/* before anything is opened: nothing inherited reaches a NotifyScript */
	spawn_close_inherited();
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
	int bad = 0; /* errors past the parse: -n goes on to report them all */
	if (d.cfg.cluster.present) {
		struct wire_key key;
		char kerr[512];
		if (sodium_init() < 0)
			fatalx("event=start_failed what=libsodium");
		if (keyfile_load(d.cfg.cluster.key_file, &key, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.cluster.key_line, kerr);
			bad++;
		}
		sodium_memzero(&key, sizeof(key));
	}
	if (d.cfg.flush.present) {
		struct wire_key key;
		char kerr[512];
		if (keyfile_load_flush(d.cfg.flush.key_file, &key, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.flush.key_line, kerr);
			bad++;
		}
		sodium_memzero(&key, sizeof(key));
	}
	if (bad && !check) {
		config_free(&d.cfg);
		return 1;
	}
	if (release) {
		/* -r is for what a killed arphad left: a live one holds its VIPs */
		if (refuse_release(&d)) {
			config_free(&d.cfg);
			return 1;
		}
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
	int script_bad = failover_check_scripts(&d.cfg, d.cfg_path, stderr);
	if (script_bad > 0 && !check) {
		config_free(&d.cfg);
		return 1;
	}
	bad += script_bad;
	if (check) {
		/* the socket path as control_listen will see it: never a file it would replace */
		char perr[512], pwarn[512];
		int sock_bad = control_check_path(d.cfg.control_socket, perr, sizeof(perr), pwarn,
						  sizeof(pwarn));
		if ((sock_bad || pwarn[0]) && d.cfg.control_socket_line)
			fprintf(stderr, "%s:%d: %s%s\n", d.cfg_path, d.cfg.control_socket_line,
				sock_bad ? "" : "warning: ", sock_bad ? perr : pwarn);
		else if (sock_bad || pwarn[0]) /* the default path */
			fprintf(stderr, "%s: %s%s\n", d.cfg_path, sock_bad ? "" : "warning: ",
				sock_bad ? perr : pwarn);
		bad += sock_bad != 0;
		struct nl *nl = nl_open(false);
		struct findings f = {d.cfg_path, true};
		bad += nl ? syscheck_config(&d.cfg, nl, on_syscheck, &f) : 0;
		if (!nl)
			fprintf(stderr,
				"arphad: warning: rtnetlink: %s; devices and networks not "
				"checked\n",
				strerror(errno));
		nl_close(nl);
		if (bad) {
			config_free(&d.cfg);
			return 1;
		}
#define PL(n, one, many) (n), (n) == 1 ? (one) : (many)
		printf("%s: configuration OK (%zu %s, %zu %s, %zu %s, %zu %s)\n", d.cfg_path,
		       PL(d.cfg.n_ifaces, "interface", "interfaces"),
		       PL(d.cfg.n_entries, "ARP entry", "ARP entries"),
		       PL(d.cfg.n_proxies, "proxy ARP network", "proxy ARP networks"),
		       PL(d.cfg.n_vips, "VIP", "VIPs"));
#undef PL
		config_free(&d.cfg);
		return 0;
	}

	log_start(&d.cfg, foreground);
	signal(SIGPIPE, SIG_IGN);
	actions_init(&d.acts);
	char err[512], q[600];
	if (check_caps(err, sizeof(err)) < 0) {
		log_errx("event=start_failed reason=no_privilege msg=%s", log_quote(err, q, sizeof(q)));
		config_free(&d.cfg);
		return 1;
	}
	if (!(d.eng = arp_engine_new(&d.cfg.arp)))
		fatal("event=start_failed what=engine");
	if (!(d.nl = nl_open(true)))
		fatal("event=start_failed what=rtnetlink");
	struct findings f = {d.cfg_path, false};
	if (syscheck_config(&d.cfg, d.nl, on_syscheck, &f) > 0) {
		cleanup(&d);
		return 1;
	}
	if (!(d.base = event_base_new()) || event_base_priority_init(d.base, ARPHAD_PRIORITIES) < 0)
		fatalx("event=start_failed what=event_loop");

	/*
	 * A start that fails changes nothing. First what can fail and is only
	 * ours, in this order: (1) the control socket (refused while another
	 * arphad listens on it; a file that is not a stale socket is never
	 * replaced), (2) every managed device exists, (3) the nftables owner
	 * table (refused while another arphad runs in this network namespace).
	 * Only then is anything done to the system, and the kernel's learned
	 * neighbours are flushed last, once every part has started.
	 */
	char warn[512];
	d.ctl_fd =
	    control_listen(d.cfg.control_socket, &d.ctl_own, err, sizeof(err), warn, sizeof(warn));
	if (d.ctl_fd < 0) {
		log_errx("event=start_failed what=control_socket msg=%s",
			 log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (warn[0]) /* the sentence is arphad -n's; the log says it as key=value */
		log_warnx("event=control_dir_world_writable socket=%s", d.cfg.control_socket);
	d.ifs = calloc(d.cfg.n_ifaces, sizeof(*d.ifs));
	if (!d.ifs)
		fatal("event=start_failed what=memory");
	d.n_ifs = d.cfg.n_ifaces;
	for (size_t i = 0; i < d.n_ifs; i++)
		d.ifs[i] = (struct mif){.conf = &d.cfg.ifaces[i], .fd = -1, .d = &d};
	if (check_devices(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}

	/* stop the kernel's own ARP input before anything is learned */
	const char **devs = calloc(d.cfg.n_ifaces ? d.cfg.n_ifaces : 1, sizeof(*devs));
	if (!devs)
		fatal("event=start_failed what=memory");
	for (size_t i = 0; i < d.cfg.n_ifaces; i++)
		devs[i] = d.cfg.ifaces[i].device;
	d.guard = nft_guard_open(devs, d.cfg.n_ifaces, err, sizeof(err));
	free(devs);
	if (!d.guard) {
		log_errx("event=start_failed what=nft msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}

	warn_kernel_table_size(&d.cfg);
	for (size_t i = 0; i < d.n_ifs; i++) {
		if (attach(&d, &d.ifs[i], true, err, sizeof(err)) < 0) {
			log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
			cleanup(&d);
			return 1;
		}
	}

	if (d.cfg.cluster.present && cluster_start(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (connsync_start(&d, err, sizeof(err)) < 0 || failover_start(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	d.timer = evtimer_new(d.base, on_timer, &d);
	d.nl_ev = event_new(d.base, nl_events_fd(d.nl), EV_READ | EV_PERSIST, on_netlink, &d);
	d.ctl = control_start(d.base, d.ctl_fd, ARPHAD_PRIO_CLIENTS, serve, &d);
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
	_Static_assert(sizeof(sigs) / sizeof(sigs[0]) == sizeof(d.sigs) / sizeof(d.sigs[0]),
		       "one watcher per signal");
	for (int i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		d.sigs[i] = evsignal_new(d.base, sigs[i], on_signal, &d);
		if (!d.sigs[i] || evsignal_add(d.sigs[i], NULL) < 0)
			fatalx("event=start_failed what=signal signal=%d", sigs[i]);
	}
	if (!d.timer || !d.nl_ev || !d.ctl || event_add(d.nl_ev, NULL) < 0)
		fatalx("event=start_failed what=events");
	/*
	 * Everything started: now what the kernel learned before arphad goes,
	 * and the Static entries attach queued go in.
	 */
	for (size_t i = 0; i < d.n_ifs; i++)
		flush_learned(&d, &d.ifs[i]);
	apply(&d);

	if (!foreground && daemon(0, 0) < 0)
		fatal("event=start_failed what=daemon");
	/* libevent's signal pipe and epoll survive the fork; reinit to be sure */
	if (!foreground && event_reinit(d.base) < 0)
		fatalx("event=start_failed what=event_reinit");
	/* whatever a library opened without O_CLOEXEC stays out of our children */
	if (spawn_cloexec_all() < 0)
		log_warn("event=cloexec_failed msg=\"cannot mark every descriptor close-on-exec\"");
	if (d.cfg.rt_priority) {
		/* heartbeats on time even when other processes load every CPU */
		struct sched_param sp = {.sched_priority = d.cfg.rt_priority};
		/* children (the NotifyScript) start with the default policy */
		if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0)
			log_warn("event=rt_priority_failed priority=%d msg=\"RealtimePriority=0 "
				 "turns this off; heartbeats may be late under load\"",
				 d.cfg.rt_priority);
		else
			log_info("event=rt_priority priority=%d policy=SCHED_RR",
				 d.cfg.rt_priority);
	}
	log_notice("event=started version=%s interfaces=%zu control_socket=%s", ARPHA_VERSION,
		   d.n_ifs, d.cfg.control_socket);
	arm_timer(&d);
	event_base_dispatch(d.base);
	cleanup(&d);
	return 0;
}
