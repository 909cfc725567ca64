/*
 * transport: the cluster's datagrams (os/udp) through core/cluster (see
 * daemon.h). What the cluster reports (nodes up and down, messages,
 * heartbeat states, our sync link) is logged here and published to the
 * services as events; every datagram a service sends goes out through
 * transport_apply, the one applier of cluster actions.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cluster.h"
#include "daemon/daemon.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/netlink.h"
#include "os/udp.h"
#include "os/util.h"

#define RX_BATCH 256

#ifndef CLUSTER_CHAN_VIP
#define CLUSTER_CHAN_VIP 'V'
#endif

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

/* Publish what the cluster reports about node for the services. */
static void publish(struct daemon *d, uint8_t type, uint32_t node, bool up)
{
	host_publish(daemon_host(d), &(struct dev_ev){.type = type, .node = node, .up = up});
}

void transport_apply(struct daemon *d)
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
			publish(d, DEV_NODE_UP, act->node, true);
			break;
		case CA_NODE_DOWN:
			log_notice("event=node_down node=%u address=%s", act->node,
				   ip4_fmt(node_addr(d, act->node), ip));
			publish(d, DEV_NODE_DOWN, act->node, false);
			break;
		case CA_OWN_DOWN:
			log_warnx(
			    "event=sync_link_down device=%s msg=\"no node will be declared dead "
			    "until it is back\"",
			    d->cfg.cluster.device);
			publish(d, DEV_SYNC_LINK, 0, false);
			break;
		case CA_OWN_UP:
			log_notice("event=sync_link_up device=%s", d->cfg.cluster.device);
			publish(d, DEV_SYNC_LINK, 0, true);
			break;
		case CA_DELIVER:
			log_debug("event=cluster_message node=%u bytes=%u", act->node,
				  (unsigned)act->len);
			if (act->len)
				host_publish(daemon_host(d),
					     &(struct dev_ev){.type = DEV_MSG,
							      .chan = act->data[0],
							      .node = act->node,
							      .data = act->data,
							      .len = act->len});
			break;
		case CA_STATE:
			host_publish(daemon_host(d), &(struct dev_ev){.type = DEV_STATE,
									.chan = CLUSTER_CHAN_VIP,
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

static void on_udp(void *arg)
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
		cluster_input_from(d->cl, buf, (size_t)n, from, loop_now(d->loop), &d->cacts);
		uint32_t sender = cluster_last_sender(d->cl);
		if (sender)
			learn_node_addr(d, sender, from);
		transport_apply(d);
		daemon_drain(d); /* each datagram's events before the next is read */
	}
}

/* A test message on the reliable broadcast, as the seed's test plugin sent. */
static void on_traffic(void *arg)
{
	struct daemon *d = arg;
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "test-traffic node %u message %u",
			 d->cfg.cluster.node_id, ++d->traffic_sent);
	if (cluster_broadcast(d->cl, (const uint8_t *)msg, (size_t)n, loop_now(d->loop), &d->cacts) < 0)
		log_warn("event=test_traffic_failed");
	transport_apply(d);
	if (--d->traffic_left)
		loop_fire_in(d->traffic_w, d->traffic_period_ms);
}

int transport_test_traffic(struct daemon *d, uint32_t period_ms, uint32_t count, char *msg,
			   size_t len)
{
	if (!d->traffic_w && !(d->traffic_w = loop_trigger(d->loop, -1, on_traffic, d))) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	d->traffic_period_ms = period_ms;
	d->traffic_left = count;
	loop_fire_in(d->traffic_w, 0);
	log_notice("event=test_traffic messages=%u period_ms=%u", count, period_ms);
	return 0;
}

/* Start the cluster layers. -1 with a message. */
int transport_start(struct daemon *d, char *err, size_t errlen)
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
	d->udp_w = loop_watch_fd(d->loop, udp_fd(d->udp), -1, on_udp, d);
	if (!d->udp_w) {
		snprintf(err, errlen, "cluster: cannot watch the socket");
		return -1;
	}
	uint64_t now = loop_now(d->loop);
	if (!l.up)
		cluster_set_link(d->cl, false, now, &d->cacts);
	cluster_tick(d->cl, now, &d->cacts);
	transport_apply(d);
	log_info(
	    "event=cluster_start node=%u device=%s mode=%s port=%u heartbeat_ms=%u dead_after=%u",
	    cc->node_id, cc->device, cc->has_group ? "multicast" : "unicast", (unsigned)cc->port,
	    cc->interval_ms, cc->dead_count);
	return 0;
}


void transport_tick(struct daemon *d)
{
	if (!d->cl)
		return;
	cluster_tick(d->cl, loop_now(d->loop), &d->cacts);
	transport_apply(d);
}

uint64_t transport_next_deadline(const struct daemon *d)
{
	return d->cl ? cluster_next_deadline(d->cl) : UINT64_MAX;
}

void transport_set_link(struct daemon *d, bool up)
{
	cluster_set_link(d->cl, up, loop_now(d->loop), &d->cacts);
	transport_apply(d);
}

void transport_free(struct daemon *d)
{
	loop_watch_free(d->udp_w);
	loop_watch_free(d->traffic_w);
	d->udp_w = d->traffic_w = NULL;
	udp_close(d->udp);
	d->udp = NULL;
	cluster_free(d->cl);
	d->cl = NULL;
	cluster_actions_free(&d->cacts);
}
