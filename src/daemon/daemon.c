/*
 * daemon: the host the services run on (host.h), and the driving of the
 * service table.
 *
 * Every loop callback ends in on_after: the queued events are delivered,
 * then the one deadline timer is set to the earliest deadline of the
 * engine, the cluster and the services. On the deadline everything ticks
 * in a fixed order: the engine, the cluster, the services in table order.
 *
 * systemd (Type=notify) hears READY=1 from on_after too, the first time
 * every service has settled once the start is done; and WATCHDOG=1 from a
 * trigger of the loop itself, so a loop that hangs stops the pings.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/netlink.h"
#include "os/packet.h"
#include "os/sdnotify.h"
#include "os/udp.h"

/* ---- the one applier ---- */

/* The holders' answers Verify's checks wait for on m now reach the engine as they arrive. */
static void divert_answers(struct daemon *d, struct mif *m)
{
	struct arp_check c[ARP_ENGINE_CHECKS_MAX];
	struct packet_answer h[PACKET_ANSWERS_MAX];
	size_t n = arp_engine_checks(d->eng, m->ifindex, c, ARP_ENGINE_CHECKS_MAX), nh = 0;
	if (n > ARP_ENGINE_CHECKS_MAX)
		n = ARP_ENGINE_CHECKS_MAX;
	memset(h, 0, sizeof(h));
	for (size_t i = 0; i < n && nh < PACKET_ANSWERS_MAX; i++) {
		if (!c[i].has_holder)
			continue;
		h[nh].ip = c[i].ip;
		h[nh++].mac = c[i].holder;
	}
	if (packet_ring_divert(m->ring, h, nh) < 0)
		log_warn("event=answer_socket_failed iface=%s checks=%zu", m->conf->name, n);
}

static void apply(struct daemon *d, struct actions *a)
{
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
			if (act->u.neigh.kind != NEIGH_PERMANENT)
				host_publish(daemon_host(d),
					     &(struct dev_ev){.type = DEV_NEIGH,
							      .ifindex = act->ifindex,
							      .ip = act->u.neigh.ip,
							      .mac = act->u.neigh.mac});
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
		case ACT_CHECKS:
			/* before a new check's requests, which follow in this list */
			if (m && m->ring)
				divert_answers(d, m);
			break;
		}
	}
	if (a->dropped) {
		log_warnx("event=out_of_memory actions_lost=%zu", a->dropped);
		a->dropped = 0;
	}
	actions_reset(a);
}

void daemon_apply(struct daemon *d)
{
	apply(d, &d->acts);
}

/* ---- the one applier of cluster actions ---- */

/* node's address on path, as last heard; any path's when path < 0; 0: not heard. */
static uint32_t node_addr(const struct daemon *d, uint32_t node, int path)
{
	for (size_t i = 0; i < d->n_addrs; i++)
		if (d->addrs[i].node == node && (path < 0 || d->addrs[i].path == path))
			return d->addrs[i].addr;
	return 0;
}

/* The devices of every path, for a log line: "sync0" or "sync0,lan0". */
static const char *devices(const struct daemon *d, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t p = 0; p < d->n_paths; p++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", p ? "," : "",
			 d->cfg.cluster.devices[p]);
	return buf;
}

/* Publish what the cluster reports about node for the services. */
static void publish(struct daemon *d, uint8_t type, uint32_t node, bool up)
{
	host_publish(daemon_host(d), &(struct dev_ev){.type = type, .node = node, .up = up});
}

void daemon_apply_cluster(struct daemon *d)
{
	struct cluster_actions *a = &d->cacts;
	char ip[IP4_STRLEN], devs[CONF_MAX_PATHS * CONF_IFNAMSIZ + 8];
	for (size_t i = 0; i < a->n; i++) {
		const struct cluster_action *act = &a->v[i];
		struct udp *u = act->path < d->n_paths ? d->paths[act->path].udp : NULL;
		const char *dev = act->path < d->n_paths ? d->cfg.cluster.devices[act->path] : "?";
		uint32_t to;
		int rc = 0;
		switch (act->type) {
		case CA_SEND_ALL:
			rc = u ? udp_send_all(u, act->urgent, act->data, act->len) : -1;
			break;
		case CA_SEND_TO:
			to = node_addr(d, act->node, act->path);
			rc = !u	  ? -1
			     : to ? udp_send_to(u, act->urgent, to, act->data, act->len)
				  : udp_send_all(u, act->urgent, act->data, act->len);
			break;
		case CA_NODE_UP:
			log_notice("event=node_up node=%u address=%s", act->node,
				   ip4_fmt(node_addr(d, act->node, -1), ip));
			publish(d, DEV_NODE_UP, act->node, true);
			break;
		case CA_NODE_DOWN:
			log_notice("event=node_down node=%u address=%s", act->node,
				   ip4_fmt(node_addr(d, act->node, -1), ip));
			publish(d, DEV_NODE_DOWN, act->node, false);
			break;
		case CA_OWN_DOWN:
			log_warnx(
			    "event=sync_link_down device=%s msg=\"no node will be declared dead "
			    "until it is back\"",
			    devices(d, devs, sizeof(devs)));
			publish(d, DEV_SYNC_LINK, 0, false);
			break;
		case CA_OWN_UP:
			log_notice("event=sync_link_up device=%s", devices(d, devs, sizeof(devs)));
			publish(d, DEV_SYNC_LINK, 0, true);
			break;
		case CA_OWN_PATH_DOWN:
			log_warnx(
			    "event=sync_path_down path=%u device=%s msg=\"the other paths carry "
			    "the heartbeats\"",
			    act->path, dev);
			break;
		case CA_OWN_PATH_UP:
			log_notice("event=sync_path_up path=%u device=%s", act->path, dev);
			break;
		case CA_PATH_DOWN:
			log_warnx(
			    "event=cluster_path_down node=%u path=%u device=%s msg=\"silent on "
			    "this path, heard on another: degraded, not down\"",
			    act->node, act->path, dev);
			break;
		case CA_PATH_UP:
			log_notice("event=cluster_path_up node=%u path=%u device=%s", act->node,
				   act->path, dev);
			break;
		case CA_DELIVER:
			log_debug("event=cluster_message node=%u bytes=%u", act->node,
				  (unsigned)act->len);
			if (act->len)
				host_publish(daemon_host(d), &(struct dev_ev){.type = DEV_MSG,
									      .chan = act->data[0],
									      .node = act->node,
									      .data = act->data,
									      .len = act->len});
			break;
		case CA_STATE:
			host_publish(daemon_host(d), &(struct dev_ev){.type = DEV_STATE,
								      .chan = act->chan,
								      .node = act->node,
								      .data = act->data,
								      .len = act->len});
			break;
		case CA_OUT_OF_SYNC:
			log_warnx(
			    "event=cluster_out_of_sync node=%u msg=\"messages were lost for good\"",
			    act->node);
			publish(d, DEV_OUT_OF_SYNC, act->node, false);
			break;
		case CA_LOG:
			log_line(act->level, (const char *)act->data);
			break;
		}
		/* by lane: a heartbeat refused is a node about to be written off */
		uint64_t *fails = act->urgent ? &d->udp_urgent_errors : &d->udp_errors;
		if (rc < 0 && (*fails)++ % 1000 == 0)
			log_warn("event=cluster_send_failed lane=%s failures=%llu",
				 act->urgent ? "heartbeat" : "bulk", (unsigned long long)*fails);
	}
	if (a->dropped) {
		log_warnx("event=out_of_memory cluster_actions_lost=%zu", a->dropped);
		a->dropped = 0;
	}
	cluster_actions_reset(a);
}

/* A device came or went (links.c sees it): if it is a sync link, the cluster hears of it. */
void daemon_sync_link(struct daemon *d, uint32_t ifindex, bool up)
{
	for (size_t p = 0; d->cl && p < d->n_paths; p++) {
		if (d->paths[p].ifindex != ifindex)
			continue;
		cluster_set_path_link(d->cl, (unsigned)p, up, loop_now(d->loop), &d->cacts);
		daemon_apply_cluster(d);
	}
}

/* ---- the interfaces ---- */

struct mif *mif_by_index(struct daemon *d, uint32_t ifindex)
{
	for (size_t i = 0; i < d->n_ifs; i++)
		if (d->ifs[i]->ifindex && d->ifs[i]->ifindex == ifindex)
			return d->ifs[i];
	return NULL;
}

struct mif *mif_by_name(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_ifs; i++)
		if (strcmp(d->ifs[i]->conf->name, name) == 0 ||
		    strcmp(d->ifs[i]->conf->device, name) == 0 ||
		    (d->ifs[i]->ifindex && strcmp(d->ifs[i]->dev, name) == 0))
			return d->ifs[i];
	return NULL;
}

void daemon_refresh_addrs(struct daemon *d, struct mif *m)
{
	struct ip4_prefix *addrs = NULL;
	size_t n = 0;
	if (nl_addrs_all(d->nl, m->ifindex, &addrs, &n) < 0) {
		log_warn("event=addr_read_failed iface=%s", m->conf->name);
		return;
	}
	if (arp_engine_iface_set_addrs(d->eng, m->ifindex, addrs, n) < 0)
		log_warn("event=addr_set_failed iface=%s", m->conf->name);
	free(addrs);
}

/* ---- the event queue ---- */

void host_publish(struct host *h, const struct dev_ev *ev)
{
	struct daemon *d = daemon_of(h);
	if (d->q_len == d->q_cap) {
		size_t cap = d->q_cap ? 2 * d->q_cap : 64;
		struct queued *q = cap <= MAX_QUEUED ? malloc(cap * sizeof(*q)) : NULL;
		if (!q) {
			if (d->q_lost++ % 1000 == 0)
				log_warnx("event=out_of_memory events_lost=%llu",
					  (unsigned long long)d->q_lost);
			return;
		}
		for (size_t i = 0; i < d->q_len; i++)
			q[i] = d->q[(d->q_head + i) % d->q_cap];
		free(d->q);
		d->q = q;
		d->q_cap = cap;
		d->q_head = 0;
	}
	struct queued *e = &d->q[(d->q_head + d->q_len) % d->q_cap];
	e->ev = *ev;
	e->data = NULL;
	if (ev->len) {
		if (!(e->data = malloc(ev->len))) {
			if (d->q_lost++ % 1000 == 0)
				log_warnx("event=out_of_memory events_lost=%llu",
					  (unsigned long long)d->q_lost);
			return;
		}
		memcpy(e->data, ev->data, ev->len);
		e->ev.data = e->data;
	}
	d->q_len++;
}

static bool for_svc(const struct svc_slot *s, const struct dev_ev *ev)
{
	if (ev->type == DEV_MSG)
		return s->ops->chan && s->ops->chan == ev->chan;
	if (ev->type == DEV_STATE)
		return s->ops->state_chan && s->ops->state_chan == ev->chan;
	return true;
}

void daemon_drain(struct daemon *d)
{
	if (d->draining) /* the one draining delivers what is added meanwhile */
		return;
	d->draining = true;
	while (d->q_len) {
		struct queued e = d->q[d->q_head];
		d->q_head = (d->q_head + 1) % d->q_cap;
		d->q_len--;
		for (size_t i = 0; i < d->n_svc; i++) {
			struct svc_slot *s = &d->svc[i];
			if (s->self && s->ops->event && for_svc(s, &e.ev))
				s->ops->event(s->self, &e.ev);
		}
		free(e.data);
	}
	d->draining = false;
}

/* ---- the one timer ---- */

static void rearm(struct daemon *d)
{
	uint64_t next = arp_engine_next_deadline(d->eng);
	uint64_t c = d->cl ? cluster_next_deadline(d->cl) : UINT64_MAX;
	if (c < next)
		next = c;
	for (size_t i = 0; i < d->n_svc; i++) {
		const struct svc_slot *s = &d->svc[i];
		if (s->self && s->ops->next_deadline && (c = s->ops->next_deadline(s->self)) < next)
			next = c;
	}
	loop_set_deadline(d->loop, next);
}

/* ---- systemd ---- */

/*
 * READY=1 once the start is done (the interfaces are guarded) and every
 * service has made its first decision (the VIP groups: master, backup or
 * fault), so units ordered After=arphad.service find the addresses where
 * they will stay.
 */
static void check_ready(struct daemon *d)
{
	if (!d->started || d->ready || d->stopping)
		return;
	for (size_t i = 0; i < d->n_svc; i++) {
		const struct svc_slot *s = &d->svc[i];
		if (s->self && s->ops->settled && !s->ops->settled(s->self))
			return;
	}
	d->ready = true;
	char status[128];
	snprintf(status, sizeof(status), "guarding %zu interface%s%s", d->n_ifs,
		 d->n_ifs == 1 ? "" : "s", d->cl ? ", in the cluster" : "");
	sdnotify_ready(status);
	log_info("event=ready interfaces=%zu", d->n_ifs);
}

static void on_watchdog(void *arg)
{
	struct daemon *d = arg;
	sdnotify_watchdog();
	loop_fire_in(d->watchdog_w, d->watchdog_ms / 2 ? d->watchdog_ms / 2 : 1);
}

int daemon_notify_start(struct daemon *d)
{
	d->started = true;
	d->watchdog_ms = sdnotify_watchdog_ms();
	if (!d->watchdog_ms)
		return 0;
	if (!(d->watchdog_w = loop_trigger(d->loop, -1, on_watchdog, d)))
		return -1;
	log_info("event=watchdog interval_ms=%llu ping_ms=%llu", (unsigned long long)d->watchdog_ms,
		 (unsigned long long)(d->watchdog_ms / 2));
	loop_fire(d->watchdog_w); /* the first ping at once, then every half interval */
	return 0;
}

static void on_after(void *arg)
{
	struct daemon *d = arg;
	daemon_drain(d);
	check_ready(d);
	rearm(d);
}

static void on_deadline(void *arg)
{
	struct daemon *d = arg;
	arp_engine_tick(d->eng, loop_now(d->loop), &d->acts);
	daemon_apply(d);
	if (d->cl) {
		cluster_tick(d->cl, loop_now(d->loop), &d->cacts);
		daemon_apply_cluster(d);
	}
	daemon_drain(d);
	for (size_t i = 0; i < d->n_svc; i++) {
		struct svc_slot *s = &d->svc[i];
		if (s->self && s->ops->tick)
			s->ops->tick(s->self);
	}
	if (!d->stopping)
		return;
	bool busy = false;
	for (size_t i = 0; i < d->n_svc; i++) {
		struct svc_slot *s = &d->svc[i];
		if (s->handing_over)
			busy |= s->handing_over = s->ops->stop(s->self);
	}
	if (!busy)
		loop_exit(d->loop);
}

int daemon_init(struct daemon *d)
{
	d->loop = loop_new(ARPHAD_PRIORITIES, on_after, on_deadline, d);
	return d->loop ? 0 : -1;
}

/* ---- the services ---- */

int daemon_start_services(struct daemon *d, const struct svc_ops *const *table, size_t n, char *err,
			  size_t errlen)
{
	loop_begin(d->loop); /* their start reads the time as a callback does */
	int rc = 0;
	for (size_t i = 0; i < n && i < MAX_SVC; i++) {
		struct svc_slot *s = &d->svc[d->n_svc++];
		s->ops = table[i];
		err[0] = '\0';
		s->self = s->ops->start(daemon_host(d), &d->cfg, err, errlen);
		if (!s->self && err[0]) {
			rc = -1;
			break;
		}
	}
	loop_end(d->loop);
	return rc;
}

void daemon_free_services(struct daemon *d)
{
	/* the last started first: what it holds may rest on an earlier one */
	for (size_t i = d->n_svc; i-- > 0;) {
		struct svc_slot *s = &d->svc[i];
		if (s->self)
			s->ops->free(s->self);
		s->self = NULL;
	}
	d->n_svc = 0;
	while (d->q_len) {
		free(d->q[d->q_head].data);
		d->q_head = (d->q_head + 1) % d->q_cap;
		d->q_len--;
	}
	free(d->q);
	d->q = NULL;
	d->q_cap = 0;
}

void daemon_stop(struct daemon *d, const char *signame)
{
	log_notice("event=stopping signal=%s", signame);
	sdnotify_stopping("stopping: handing over what this node holds");
	if (d->stopping)
		return loop_exit(d->loop);
	bool busy = false;
	for (size_t i = 0; i < d->n_svc; i++) {
		struct svc_slot *s = &d->svc[i];
		if (s->self && s->ops->stop)
			busy |= s->handing_over = s->ops->stop(s->self);
	}
	if (busy)
		d->stopping = true; /* on_deadline ends the loop once they are handed over */
	else
		loop_exit(d->loop);
}

const struct svc_slot *daemon_command(const struct daemon *d, const char *word,
				      const struct svc_cmd **cmd)
{
	for (size_t i = 0; i < d->n_svc; i++)
		for (const struct svc_cmd *c = d->svc[i].ops->cmds; c && c->word; c++)
			if (strcmp(c->word, word) == 0) {
				*cmd = c;
				return &d->svc[i];
			}
	return NULL;
}

/* ---- the rest of host.h ---- */

uint64_t host_now(const struct host *h)
{
	return loop_now(((const struct daemon *)(const void *)h)->loop);
}

const char *host_config_path(const struct host *h)
{
	return ((const struct daemon *)(const void *)h)->cfg_path;
}

int host_broadcast(struct host *h, const uint8_t *msg, size_t len)
{
	struct daemon *d = daemon_of(h);
	if (!d->cl) {
		errno = ENOTCONN;
		return -1;
	}
	int rc = cluster_broadcast(d->cl, msg, len, loop_now(d->loop), &d->cacts);
	daemon_apply_cluster(d);
	return rc;
}

int host_set_state(struct host *h, uint8_t chan, const uint8_t *blob, size_t len, bool push)
{
	struct daemon *d = daemon_of(h);
	if (!d->cl) {
		errno = ENOTCONN;
		return -1;
	}
	int rc = cluster_set_state(d->cl, chan, blob, len);
	if (push) {
		cluster_push_state(d->cl, 0, &d->cacts);
		daemon_apply_cluster(d);
	}
	return rc;
}

const struct nbtable *host_nbcache(const struct host *h)
{
	return ((const struct daemon *)(const void *)h)->nbcache;
}

void host_set_nbcache(struct host *h, const struct nbtable *t)
{
	daemon_of(h)->nbcache = t;
}

uint16_t host_owner_id(const struct host *h)
{
	return ((const struct daemon *)(const void *)h)->owner_id;
}

void host_set_owner_id(struct host *h, uint16_t owner)
{
	daemon_of(h)->owner_id = owner;
}

int host_prepare_takeover(struct host *h, const struct takeover_scope *sc)
{
	struct daemon *d = daemon_of(h);
	int failed = 0;
	for (size_t i = 0; i < d->n_svc; i++) {
		struct svc_slot *s = &d->svc[i];
		if (s->self && s->ops->prepare_takeover &&
		    s->ops->prepare_takeover(s->self, sc) < 0)
			failed++;
	}
	return failed;
}

void host_apply(struct host *h, struct actions *a)
{
	apply(daemon_of(h), a);
}

static const struct host_iface *view(struct mif *m)
{
	m->view = (struct host_iface){.name = m->conf->name,
				      .device = m->conf->device,
				      .dev = m->dev,
				      .ifindex = m->ifindex,
				      .up = m->up};
	return &m->view;
}

const struct host_iface *host_iface(const struct host *h, const char *name)
{
	struct mif *m = mif_by_name((struct daemon *)(void *)h, name);
	return m ? view(m) : NULL;
}

const struct host_iface *host_iface_by_index(const struct host *h, uint32_t ifindex)
{
	struct mif *m = mif_by_index((struct daemon *)(void *)h, ifindex);
	return m ? view(m) : NULL;
}

const struct host_iface *host_iface_at(const struct host *h, size_t i)
{
	struct daemon *d = (struct daemon *)(void *)h;
	return i < d->n_ifs ? view(d->ifs[i]) : NULL;
}

const struct arp_engine *host_neighbours(const struct host *h)
{
	return ((const struct daemon *)(const void *)h)->eng;
}

void host_addrs_changed(struct host *h, uint32_t ifindex)
{
	struct daemon *d = daemon_of(h);
	struct mif *m = mif_by_index(d, ifindex);
	if (m)
		daemon_refresh_addrs(d, m);
}

int host_set_shared(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n)
{
	return arp_engine_iface_set_shared(daemon_of(h)->eng, ifindex, ips, n);
}

int host_set_quiet(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n)
{
	return arp_engine_iface_set_quiet(daemon_of(h)->eng, ifindex, ips, n);
}

int host_set_cluster_addrs(struct host *h, uint32_t ifindex, const struct arp_cluster_addr *v,
			   size_t n, bool announce)
{
	struct daemon *d = daemon_of(h);
	if (arp_engine_iface_set_cluster(d->eng, ifindex, v, n) < 0)
		return -1;
	if (announce && arp_engine_announce_cluster(d->eng, ifindex, &d->acts) > 0)
		daemon_apply(d);
	return 0;
}

int host_join_mac(struct host *h, uint32_t ifindex, const struct mac *mac)
{
	struct mif *m = mif_by_index(daemon_of(h), ifindex);
	if (!m || m->fd < 0) {
		errno = ENODEV;
		return -1;
	}
	return packet_join_mac(m->fd, ifindex, mac);
}

void host_note_query(struct host *h, uint32_t ifindex, uint32_t ip, const struct mac *to)
{
	struct daemon *d = daemon_of(h);
	if (arp_engine_note_query(d->eng, ifindex, ip, to, loop_now(d->loop), &d->acts) == 0)
		daemon_apply(d);
}

int host_addr_lease(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute,
		    uint32_t lifetime_s)
{
	return nl_addr_lease(daemon_of(h)->nl, ifindex, ip, len, noprefixroute, lifetime_s);
}

int host_addr_del(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len)
{
	return nl_addr_del(daemon_of(h)->nl, ifindex, ip, len);
}

int host_link_set_up(struct host *h, uint32_t ifindex, bool up)
{
	return nl_link_set_up(daemon_of(h)->nl, ifindex, up);
}

struct nl *host_netlink(struct host *h)
{
	return daemon_of(h)->nl;
}

struct loop *host_loop(struct host *h)
{
	return daemon_of(h)->loop;
}
