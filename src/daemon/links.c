/*
 * links: the managed interfaces (see daemon.h). Each has a receive ring
 * for every incoming ARP frame and a packet socket to send on; the
 * kernel's own requests on all of them come from one NFLOG socket
 * (os/nflog.h), which the guard's output chain feeds. The engine judges
 * them and daemon_apply carries out what it asks. rtnetlink's link and
 * address events keep the interfaces, the engine's addresses and the
 * nftables guard in step with the devices, and are published (DEV_LINK)
 * for the services.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arp_cache.h"
#include "core/arp_engine.h"
#include "daemon/daemon.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/netlink.h"
#include "os/nflog.h"
#include "os/nft.h"
#include "os/packet.h"
#include "os/sdnotify.h"
#include "os/util.h"

#define RX_BATCH   256
#define RING_BATCH 1 /* ring blocks per callback, up to some 500 frames */

_Static_assert(PACKET_ANSWER_SOCKETS ==
		   sizeof(((struct mif *)0)->answers) / sizeof(((struct mif *)0)->answers[0]),
	       "a watch per answer socket");

/* ---- frames ---- */

/* A request the kernel sent on ifindex: the engine notes the query. */
static void on_request(void *arg, uint32_t ifindex, const uint8_t *buf, size_t len)
{
	struct daemon *d = arg;
	arp_engine_input(d->eng, ifindex, buf, len, ARP_RX_OUT, loop_now(d->loop), &d->acts);
	daemon_apply(d);
}

/* The kernel's own requests, on every managed interface, from NFLOG. */
static void read_requests(struct daemon *d)
{
	if (d->nflog && nflog_read(d->nflog, RX_BATCH, on_request, d) < 0)
		log_warn("event=nflog_receive_failed group=%u", NFLOG_ARP_GROUP);
}

static void on_nflog(void *arg)
{
	read_requests(arg);
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
static void on_ring_frame(void *arg, const uint8_t *buf, size_t len, bool otherhost,
			  uint64_t arrived)
{
	struct mif *m = arg;
	struct daemon *d = m->d;
	struct actions *a = &d->acts;
	arp_engine_input_at(d->eng, m->ifindex, buf, len,
			    otherhost ? ARP_RX_IN_OTHERHOST : ARP_RX_IN, loop_now(d->loop), arrived,
			    a);
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
		daemon_apply(d);
}

/*
 * The ring (which < 0) or an answer socket (Verify's checks) is readable:
 * the kernel's requests first (NFLOG has each before it leaves the host),
 * so that a reply is never judged before the request it answers.
 */
static void read_frames(struct mif *m, int which)
{
	read_requests(m->d);
	if (!m->ring)
		return;
	if (which >= 0)
		packet_ring_read_answers(m->ring, which, RX_BATCH, on_ring_frame, m);
	else
		packet_ring_read(m->ring, RING_BATCH, on_ring_frame, m);
	count_send_errors(m, packet_ring_flush(m->ring, m->fd, m->ifindex));
}

static void on_packet(void *arg)
{
	read_frames(arg, -1);
}

static void on_answers(void *arg)
{
	struct answer_watch *aw = arg;
	read_frames(aw->m, aw->which);
}

/* ---- interfaces ---- */

/* Static entries go back into the kernel (it drops them when a link goes down). */
static void reinstall_static(struct daemon *d, struct mif *m)
{
	struct arp_iface_view v;
	if (arp_engine_iface_get(d->eng, m->ifindex, &v) < 0)
		return;
	size_t cursor = 0;
	const struct arp_entry *en;
	while ((en = arp_cache_next(v.cache, &cursor)))
		if (en->type == ARP_STATIC)
			nl_neigh_set(d->nl, m->ifindex, en->ip, &en->mac, true);
}

/* Close m's receive ring and stop watching it. */
static void packet_rx_close(struct mif *m)
{
	loop_watch_free(m->ring_w);
	m->ring_w = NULL;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		loop_watch_free(m->answers[k].w);
		m->answers[k].w = NULL;
	}
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
			devs[i] = d->ifs[i]->conf->device;
			idx[i] = d->ifs[i]->ifindex;
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

static void detach(struct daemon *d, struct mif *m);

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
	daemon_refresh_addrs(d, m);
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
	/* the guard's output rule is in: the kernel's new requests are seen; then the flush */
	m->fd = packet_open();
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
	m->ring_w =
	    loop_watch_fd(d->loop, packet_ring_fd(m->ring), ARPHAD_PRIO_CLIENTS, on_packet, m);
	bool watched = m->ring_w != NULL;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		m->answers[k] = (struct answer_watch){.m = m, .which = k};
		m->answers[k].w = loop_watch_fd(d->loop, packet_ring_answers_fd(m->ring, k),
						ARPHAD_PRIO_CLIENTS, on_answers, &m->answers[k]);
		watched &= m->answers[k].w != NULL;
	}
	if (!watched) {
		snprintf(err, errlen, "interface %s: cannot watch the packet socket",
			 m->conf->name);
		goto fail;
	}
	if (!starting) {
		flush_learned(d, m);
		daemon_apply(d);
	}
	log_info("event=iface_attach iface=%s device=%s ifindex=%u", m->conf->name, dev, l.ifindex);
	if (!l.up)
		log_info("event=link_down iface=%s", m->conf->name);
	return 0;
fail:
	detach(d, m); /* m->ifindex is l.ifindex here */
	actions_reset(&d->acts);
	if (!starting)
		guard_follow(d);
	return -1;
}

/* Stop managing m's device (gone). The caller updates the guard (guard_follow). */
static void detach(struct daemon *d, struct mif *m)
{
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

/* Tell the services: a link changed (0: several may have). */
static void link_changed(struct daemon *d, uint32_t ifindex)
{
	host_publish(daemon_host(d), &(struct dev_ev){.type = DEV_LINK, .ifindex = ifindex});
}

static void on_link_event(const struct nl_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct mif *m = mif_by_index(d, ev->ifindex);
	char err[256], q[300];
	switch (ev->type) {
	case NLE_ADDR:
		/* a lease renewed (every VIP's, twice a second) changes nothing: no dump for it */
		if (m && (ev->del || !ev->addr.addr ||
			  !arp_engine_iface_has_addr(d->eng, m->ifindex, &ev->addr)))
			daemon_refresh_addrs(d, m);
		break;
	case NLE_NEIGH:
		if (m)
			host_publish(daemon_host(d), &(struct dev_ev){.type = DEV_KNEIGH,
								      .ifindex = ev->ifindex,
								      .ip = ev->ip,
								      .mac = ev->mac});
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
		link_changed(d, ev->ifindex);
		break;
	case NLE_LINK:
		daemon_sync_link(d, ev->ifindex, ev->link.up);
		if (m) {
			if (ev->link.name[0] && strcmp(ev->link.name, m->dev) != 0)
				renamed(m, ev->link.name);
			if (ev->link.has_mac)
				arp_engine_iface_set_mac(d->eng, m->ifindex, &ev->link.mac);
			if (ev->link.up && !m->up)
				reinstall_static(d, m);
			if (!ev->link.up && m->up)
				log_info("event=link_down iface=%s", m->conf->name);
			m->up = ev->link.up;
			link_changed(d, ev->ifindex);
			break;
		}
		for (size_t i = 0; i < d->n_ifs; i++) {
			m = d->ifs[i];
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
		link_changed(d, ev->ifindex);
		break;
	}
}

static void on_netlink(void *arg)
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
			struct mif *m = d->ifs[i];
			struct nl_link l;
			if (m->ifindex && nl_link_by_index(d->nl, m->ifindex, &l) < 0) {
				detach(d, m);
				guard_follow(d);
			} else if (m->ifindex) {
				if (strcmp(l.name, m->dev) != 0)
					renamed(m, l.name);
				daemon_refresh_addrs(d, m);
			}
			/* gone and back while we were not told: take the new one */
			char err[256], q[300];
			if (!m->ifindex && nl_link_by_name(d->nl, m->conf->device, &l) == 0 &&
			    attach(d, m, false, err, sizeof(err)) < 0)
				log_warnx("event=attach_failed iface=%s msg=%s", m->conf->name,
					  log_quote(err, q, sizeof(q)));
		}
	}
}

/*
 * The kernel's count of frames it could not queue for us, into the stats.
 * A request lost on the NFLOG socket may have been sent on any managed
 * interface (the kernel does not say which): it is counted on each.
 */
void links_collect_drops(struct daemon *d)
{
	uint64_t lost = d->nflog ? nflog_drops(d->nflog) : 0;
	for (size_t i = 0; i < d->n_ifs; i++) {
		struct mif *m = d->ifs[i];
		if (m->ifindex && lost)
			arp_engine_count(d->eng, m->ifindex, AC_SOCKET_DROPS, lost);
		if (m->ifindex && m->ring)
			arp_engine_count(d->eng, m->ifindex, AC_SOCKET_DROPS,
					 packet_ring_drops(m->ring));
	}
}

/*
 * The first managed device that does not exist ([Interface] Device=, and
 * with cluster [Cluster] Interface= too): 1 with its name in *dev and the
 * message of a start that fails for it in err; 0 when all are there; -1
 * with a message when one cannot be looked up.
 */
static int first_missing(struct daemon *d, bool cluster, const char **dev, char *err, size_t errlen)
{
	const struct config *c = &d->cfg;
	struct nl_link l;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct conf_iface *ci = &c->ifaces[i];
		if (nl_link_by_name(d->nl, ci->device, &l) == 0)
			continue;
		int e = errno;
		snprintf(err, errlen, "interface %s (Device=%s): %s", ci->name, ci->device,
			 e == ENODEV ? "no such device" : strerror(e));
		*dev = ci->device;
		return e == ENODEV ? 1 : -1;
	}
	for (size_t p = 0; cluster && c->cluster.present && p < c->cluster.n_paths; p++) {
		const char *name = c->cluster.devices[p];
		if (nl_link_by_name(d->nl, name, &l) == 0)
			continue;
		int e = errno;
		snprintf(err, errlen, "%s:%d: [Cluster] Interface=%s: %s", d->cfg_path,
			 c->cluster.iface_line, name, e == ENODEV ? "no such device" : strerror(e));
		*dev = name;
		return e == ENODEV ? 1 : -1;
	}
	return 0;
}

/*
 * At start, before anything is changed: wait up to DeviceTimeout= for the
 * managed devices that do not exist yet (a VLAN or a bond that
 * systemd-networkd or ifupdown makes after arphad starts), each logged
 * once; systemd hears why (STATUS=) and extends its start timeout. 0 once
 * every one is there; -1 with a message at the timeout, at once with
 * DeviceTimeout=0 (the [Cluster] devices are then transport_start's).
 */
int links_wait_devices(struct daemon *d, char *err, size_t errlen)
{
	uint32_t timeout = d->cfg.device_timeout_ms;
	const char *dev = NULL, *said = NULL;
	int rc = first_missing(d, timeout > 0, &dev, err, errlen);
	if (rc <= 0 || timeout == 0)
		return rc == 0 ? 0 : -1;
	uint64_t t0 = now_ms(), end = t0 + timeout;
	for (;;) {
		uint64_t now = now_ms();
		if (dev != said) {
			char status[128];
			log_warnx("event=device_wait device=%s waited_ms=%llu timeout_ms=%u "
				  "msg=\"no such device yet; waiting for it (DeviceTimeout=)\"",
				  dev, (unsigned long long)(now - t0), timeout);
			snprintf(status, sizeof(status), "waiting for device %s", dev);
			/* what follows (the first decisions) gets systemd's own timeout again */
			sdnotify_waiting(status, end - now + 90000);
			said = dev;
		}
		if (now >= end) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, " (waited %u ms, DeviceTimeout=)", timeout);
			return -1;
		}
		/* every event, and each second (events may be lost): look again */
		uint64_t left = end - now;
		if (nl_events_wait(d->nl, left < 1000 ? (int)left : 1000) < 0) {
			snprintf(err, errlen, "waiting for device %s: rtnetlink: %s", dev,
				 strerror(errno));
			return -1;
		}
		rc = first_missing(d, true, &dev, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			log_notice("event=device_present waited_ms=%llu msg=\"every managed device "
				   "is there\"",
				   (unsigned long long)(now_ms() - t0));
			return 0;
		}
	}
}

struct mif *mif_new(struct daemon *d, const struct conf_iface *conf)
{
	struct mif *m = calloc(1, sizeof(*m));
	if (m)
		*m = (struct mif){.conf = conf, .fd = -1, .d = d};
	return m;
}

/* Every managed device exists and has an Ethernet address (before anything is changed). */
int links_check_devices(struct daemon *d, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->n_ifs; i++) {
		const struct conf_iface *ci = d->ifs[i]->conf;
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

/* Stop the kernel's own ARP input on the managed devices (the nftables owner table). */
int links_guard(struct daemon *d, char *err, size_t errlen)
{
	const char **devs = calloc(d->n_ifs ? d->n_ifs : 1, sizeof(*devs));
	if (!devs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->n_ifs; i++)
		devs[i] = d->ifs[i]->conf->device;
	d->guard = nft_guard_open(devs, d->n_ifs, NFLOG_ARP_GROUP, err, errlen);
	free(devs);
	return d->guard ? 0 : -1;
}

/*
 * Bind the NFLOG group of the kernel's requests and watch it (before any
 * ring, at the default priority: read first). -1 with a message.
 */
static int open_requests(struct daemon *d, char *err, size_t errlen)
{
	d->nflog = nflog_open(NFLOG_ARP_GROUP);
	if (!d->nflog) {
		if (errno == EBUSY)
			snprintf(err, errlen,
				 "NFLOG group %u (the host's ARP requests) is bound by another "
				 "program in this network namespace (see "
				 "/proc/net/netfilter/nfnetlink_log)",
				 NFLOG_ARP_GROUP);
		else
			snprintf(err, errlen, "NFLOG group %u (the host's ARP requests): %s%s",
				 NFLOG_ARP_GROUP, strerror(errno),
				 errno == EPERM ? " (arphad needs CAP_NET_ADMIN)" : "");
		return -1;
	}
	d->nflog_w = loop_watch_fd(d->loop, nflog_fd(d->nflog), -1, on_nflog, d);
	if (!d->nflog_w) {
		snprintf(err, errlen, "cannot watch the NFLOG socket");
		return -1;
	}
	return 0;
}

/*
 * Start managing every interface. Nothing of the kernel's table is
 * changed yet (links_flush_learned). -1 with a message.
 */
int links_attach_all(struct daemon *d, char *err, size_t errlen)
{
	if (open_requests(d, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < d->n_ifs; i++)
		if (attach(d, d->ifs[i], true, err, errlen) < 0)
			return -1;
	return 0;
}

int links_watch(struct daemon *d)
{
	d->nl_w = loop_watch_fd(d->loop, nl_events_fd(d->nl), -1, on_netlink, d);
	return d->nl_w ? 0 : -1;
}

void links_flush_learned(struct daemon *d)
{
	for (size_t i = 0; i < d->n_ifs; i++)
		flush_learned(d, d->ifs[i]);
}

void links_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_ifs; i++) {
		if (d->ifs[i]->ifindex)
			detach(d, d->ifs[i]);
		free(d->ifs[i]);
	}
	free(d->ifs);
	d->ifs = NULL;
	d->n_ifs = 0;
	loop_watch_free(d->nl_w);
	d->nl_w = NULL;
	loop_watch_free(d->nflog_w);
	d->nflog_w = NULL;
	nflog_close(d->nflog);
	d->nflog = NULL;
	nft_guard_close(d->guard);
	d->guard = NULL;
}

/* ---- reload ---- */

/* The configured entries of a configuration, sorted by interface and address. */
struct entry_index {
	const struct conf_entry **v;
	size_t n;
};

static int entry_cmp(const struct conf_entry *a, const struct conf_entry *b)
{
	int c = strcmp(a->iface, b->iface);
	return c ? c : a->ip < b->ip ? -1 : a->ip > b->ip;
}

static int entry_sort(const void *a, const void *b)
{
	return entry_cmp(*(const struct conf_entry *const *)a,
			 *(const struct conf_entry *const *)b);
}

static int entry_index(const struct config *c, struct entry_index *x)
{
	x->n = c->n_entries;
	x->v = calloc(x->n ? x->n : 1, sizeof(*x->v));
	if (!x->v)
		return -1;
	for (size_t i = 0; i < x->n; i++)
		x->v[i] = &c->entries[i];
	qsort(x->v, x->n, sizeof(*x->v), entry_sort);
	return 0;
}

static const struct conf_entry *entry_of(const struct entry_index *x, const char *iface,
					 uint32_t ip)
{
	struct conf_entry key = {.ip = ip};
	snprintf(key.iface, sizeof(key.iface), "%s", iface);
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(x->v[mid], &key);
		if (c == 0)
			return x->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool same_entry(const struct conf_entry *a, const struct conf_entry *b)
{
	return a->mode == b->mode && a->has_mac == b->has_mac &&
	       (!a->has_mac || mac_eq(&a->mac, &b->mac));
}

static void entry_failed(struct daemon *d, const struct conf_entry *ce, const char *what)
{
	char ip[IP4_STRLEN];
	log_warn("event=reload_failed what=ARPEntry line=%d address=%s iface=%s action=%s",
		 ce->line, ip4_fmt(ce->ip, ip), ce->iface, what);
	(void)d;
}

/*
 * The interfaces of d->cfg: one of the same name and Device= goes on as it
 * is; one that is gone (or has another Device=) is no longer managed (its
 * sockets closed, its cache dropped, the guard off its device: the kernel
 * answers ARP there again; the entries arphad put in its table stay, as at
 * a stop); a new one is managed from now on, as a device that came back
 * (flushed, its entries and proxy networks set). fresh[i] (the new count)
 * says which were attached now.
 */
static void reload_ifaces(struct daemon *d, bool *fresh)
{
	size_t n = d->cfg.n_ifaces;
	struct mif **v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		fatal("event=reload_failed what=Interface msg=\"out of memory\"");
	bool changed = n != d->n_ifs;
	for (size_t k = 0; k < n; k++) {
		const struct conf_iface *ci = &d->cfg.ifaces[k];
		for (size_t i = 0; i < d->n_ifs && !v[k]; i++) {
			struct mif *m = d->ifs[i];
			if (m && !strcmp(m->conf->name, ci->name) &&
			    !strcmp(m->conf->device, ci->device)) {
				v[k] = m;
				d->ifs[i] = NULL;
				m->conf = ci;
			}
		}
		changed |= !v[k];
	}
	for (size_t i = 0; i < d->n_ifs; i++) {
		struct mif *m = d->ifs[i];
		if (!m)
			continue;
		log_notice("event=reload iface=%s device=%s action=release", m->conf->name,
			   m->conf->device);
		if (m->ifindex)
			detach(d, m);
		bool again = false; /* given another Device=: its counters go on */
		for (size_t k = 0; k < n; k++)
			again |= !strcmp(d->cfg.ifaces[k].name, m->conf->name);
		if (!again)
			arp_engine_forget(d->eng, m->conf->name);
		free(m);
	}
	free(d->ifs);
	d->ifs = v;
	d->n_ifs = n;
	for (size_t k = 0; k < n; k++) {
		fresh[k] = false;
		if (v[k])
			continue;
		if (!(v[k] = mif_new(d, &d->cfg.ifaces[k])))
			fatal("event=reload_failed what=Interface msg=\"out of memory\"");
		fresh[k] = true;
		char err[256], q[300];
		struct nl_link l;
		if (nl_link_by_name(d->nl, v[k]->conf->device, &l) < 0)
			log_warnx(
			    "event=reload iface=%s device=%s action=wait msg=\"no such device: "
			    "managed when it comes\"",
			    v[k]->conf->name, v[k]->conf->device);
		else if (attach(d, v[k], false, err, sizeof(err)) < 0)
			log_warnx("event=attach_failed iface=%s msg=%s", v[k]->conf->name,
				  log_quote(err, q, sizeof(q)));
		else
			log_notice("event=reload iface=%s device=%s action=attach",
				   v[k]->conf->name, v[k]->conf->device);
	}
	if (changed) {
		guard_follow(d);
		for (size_t k = 0; k < n; k++) /* the services follow the set (DEV_LINK) */
			if (v[k]->ifindex)
				link_changed(d, v[k]->ifindex);
	}
}

/*
 * A reload to d->cfg (old: the configuration before it): the interfaces
 * (reload_ifaces), then each interface's configured entries become the
 * new ones, each changed alone (an entry that stays is not touched; a
 * Static entry whose MAC changed is replaced in the kernel with no gap),
 * and the proxy ARP networks the new ones. The ARP cache keeps what it
 * learned.
 */
void links_reload(struct daemon *d, const struct config *old)
{
	size_t added = 0, removed = 0, changed = 0;
	bool *fresh = calloc(d->cfg.n_ifaces ? d->cfg.n_ifaces : 1, sizeof(*fresh));
	if (!fresh)
		fatal("event=reload_failed what=Interface msg=\"out of memory\"");
	reload_ifaces(d, fresh);
	struct entry_index was, now;
	if (entry_index(old, &was) < 0 || entry_index(&d->cfg, &now) < 0) {
		free(was.v);
		log_warnx("event=reload_failed what=ARPEntry msg=\"out of memory: the entries "
			  "stay as they were\"");
		free(fresh);
		return;
	}
	for (size_t i = 0; i < d->n_ifs; i++) {
		struct mif *m = d->ifs[i];
		if (!m->ifindex || fresh[i])
			continue; /* absent, or attached just now: attach read the new entries */
		for (size_t k = 0; k < old->n_entries; k++) {
			const struct conf_entry *oe = &old->entries[k];
			if (strcmp(oe->iface, m->conf->name) != 0)
				continue;
			const struct conf_entry *ne = entry_of(&now, oe->iface, oe->ip);
			if (ne && same_entry(oe, ne))
				continue;
			bool replacing = ne && ne->mode == ARP_STATIC;
			if (arp_engine_del_entry(d->eng, m->ifindex, oe->ip, replacing, &d->acts) <
			    0)
				entry_failed(d, oe, "remove");
			else if (!ne)
				removed++;
		}
		for (size_t k = 0; k < d->cfg.n_entries; k++) {
			const struct conf_entry *ne = &d->cfg.entries[k];
			if (strcmp(ne->iface, m->conf->name) != 0)
				continue;
			const struct conf_entry *oe = entry_of(&was, ne->iface, ne->ip);
			if (oe && same_entry(oe, ne))
				continue;
			if (arp_engine_add_entry(d->eng, m->ifindex, ne->ip, ne->mode,
						 ne->has_mac ? &ne->mac : NULL, &d->acts) < 0)
				entry_failed(d, ne,
					     errno == ENOSPC ? "add reason=cache_full" : "add");
			else if (oe)
				changed++;
			else
				added++;
		}
	}
	free(was.v);
	free(now.v);
	free(fresh);
	arp_engine_clear_proxies(d->eng);
	size_t proxies = 0;
	for (size_t i = 0; i < d->n_ifs; i++) {
		struct mif *m = d->ifs[i];
		if (!m->ifindex)
			continue;
		for (size_t k = 0; k < d->cfg.n_proxies; k++) {
			const struct conf_proxy *p = &d->cfg.proxies[k];
			bool here = p->all;
			for (size_t j = 0; !here && j < p->n_ifaces; j++)
				here = strcmp(p->ifaces[j], m->conf->name) == 0;
			if (here && arp_engine_add_proxy(d->eng, m->ifindex, &p->net) < 0)
				log_warn("event=reload_failed what=ProxyARP line=%d", p->line);
			proxies += here;
		}
	}
	daemon_apply(d);
	log_info("event=reload what=ARPEntry added=%zu removed=%zu changed=%zu proxy_networks=%zu",
		 added, removed, changed, proxies);
}
