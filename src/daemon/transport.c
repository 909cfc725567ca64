/*
 * transport: the cluster's datagrams (os/udp) into core/cluster (see
 * daemon.h): the socket, the start, the nodes' addresses as they are
 * heard, and `arpha cluster test-traffic`. What the cluster reports goes
 * through daemon_apply_cluster, the one applier of cluster actions.
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

/* ---- the cluster ---- */

static void learn_node_addr(struct daemon *d, uint32_t node, unsigned path, uint32_t addr)
{
	for (size_t i = 0; i < d->n_addrs; i++) {
		if (d->addrs[i].node == node && d->addrs[i].path == path) {
			d->addrs[i].addr = addr;
			return;
		}
	}
	if (d->n_addrs < sizeof(d->addrs) / sizeof(d->addrs[0]))
		d->addrs[d->n_addrs++] = (struct node_addr){node, addr, (uint8_t)path};
}

static void on_udp(void *arg)
{
	struct sync_path *sp = arg;
	struct daemon *d = sp->d;
	uint8_t buf[WIRE_MAX_DATAGRAM + 1]; /* one more: an oversized one is seen as such */
	for (int i = 0; i < RX_BATCH; i++) {
		uint32_t from;
		long n = udp_recv(sp->udp, buf, sizeof(buf), &from);
		if (n < 0) {
			log_warn("event=cluster_receive_failed device=%s",
				 d->cfg.cluster.devices[sp->idx]);
			break;
		}
		if (n == 0)
			break;
		cluster_input_path(d->cl, buf, (size_t)n, from, sp->idx, loop_now(d->loop),
				   &d->cacts);
		uint32_t sender = cluster_last_sender(d->cl);
		if (sender)
			learn_node_addr(d, sender, sp->idx, from);
		daemon_apply_cluster(d);
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
	if (cluster_broadcast(d->cl, (const uint8_t *)msg, (size_t)n, loop_now(d->loop),
			      &d->cacts) < 0)
		log_warn("event=test_traffic_failed");
	daemon_apply_cluster(d);
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

_Static_assert(CONF_MAX_PATHS == CLUSTER_MAX_PATHS, "one path per Interface= device");

/*
 * The Peers= of path p: with one path, all of them; with several, those
 * the kernel routes out of p's device. -1 with a message when a peer is
 * routed out of none of them.
 */
static int path_peers(struct daemon *d, size_t p, uint32_t *out, size_t *n, char *err,
		      size_t errlen)
{
	const struct conf_cluster *cc = &d->cfg.cluster;
	char ip[IP4_STRLEN];
	*n = 0;
	for (size_t i = 0; i < cc->n_peers; i++) {
		uint32_t via = d->paths[p].ifindex;
		if (d->n_paths > 1 && nl_route_dev(d->nl, cc->peers[i], &via) < 0)
			via = 0;
		bool any = false;
		for (size_t k = 0; k < d->n_paths; k++)
			any |= via == d->paths[k].ifindex;
		if (!any) {
			snprintf(err, errlen,
				 "%s:%d: [Cluster] Peers=: %s is reached through none of the "
				 "Interface= devices; list each peer's address on each path",
				 d->cfg_path, cc->iface_line, ip4_fmt(cc->peers[i], ip));
			return -1;
		}
		if (via == d->paths[p].ifindex)
			out[(*n)++] = cc->peers[i];
	}
	return 0;
}

/* Start the cluster layers. -1 with a message. */
int transport_start(struct daemon *d, char *err, size_t errlen)
{
	const struct conf_cluster *cc = &d->cfg.cluster;
	struct cluster_params cp;
	memset(&cp, 0, sizeof(cp));
	char kerr[400];
	if (keyfile_load(cc->key_file, &cp.key, &cp.next_key, &cp.has_next_key, kerr,
			 sizeof(kerr)) < 0) {
		if (snprintf(err, errlen, "%s:%d: %s", d->cfg_path, cc->key_line, kerr) < 0)
			err[0] = '\0';
		return -1;
	}
	bool up[CONF_MAX_PATHS];
	d->n_paths = cc->n_paths;
	for (size_t p = 0; p < d->n_paths; p++) {
		struct nl_link l;
		if (nl_link_by_name(d->nl, cc->devices[p], &l) < 0) {
			snprintf(err, errlen, "%s:%d: [Cluster] Interface=%s: %s", d->cfg_path,
				 cc->iface_line, cc->devices[p],
				 errno == ENODEV ? "no such device" : strerror(errno));
			sodium_memzero(&cp.key, sizeof(cp.key));
			return -1;
		}
		d->paths[p] = (struct sync_path){.d = d, .idx = (unsigned)p, .ifindex = l.ifindex};
		up[p] = l.up;
	}
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
	cp.n_paths = (uint8_t)d->n_paths;
	d->cl = cluster_new(&cp);
	sodium_memzero(&cp.key, sizeof(cp.key));
	sodium_memzero(&cp.next_key, sizeof(cp.next_key));
	if (d->cl && cp.has_next_key)
		log_notice("event=cluster_keys keys=2 msg=\"KeyFile holds the next key too: "
			   "datagrams sealed with either are taken\"");
	if (!d->cl) {
		snprintf(err, errlen, "cluster: out of memory");
		return -1;
	}
	cluster_actions_init(&d->cacts);
	uint64_t now = loop_now(d->loop);
	char devs[CONF_MAX_PATHS * CONF_IFNAMSIZ + 8] = "";
	for (size_t p = 0; p < d->n_paths; p++) {
		struct sync_path *sp = &d->paths[p];
		uint32_t peers[CONF_MAX_PEERS];
		size_t n_peers = 0;
		if (!cc->has_group && path_peers(d, p, peers, &n_peers, err, errlen) < 0)
			return -1;
		if (!(sp->udp =
			  udp_open(cc, cc->devices[p], sp->ifindex, peers, n_peers, err, errlen)))
			return -1;
		if (!(sp->w = loop_watch_fd(d->loop, udp_fd(sp->udp), -1, on_udp, sp))) {
			snprintf(err, errlen, "cluster: cannot watch the socket");
			return -1;
		}
		if (!up[p])
			cluster_set_path_link(d->cl, (unsigned)p, false, now, &d->cacts);
		snprintf(devs + strlen(devs), sizeof(devs) - strlen(devs), "%s%s", p ? "," : "",
			 cc->devices[p]);
		if (d->n_paths > 1 && !cc->has_group)
			log_info("event=cluster_path path=%zu device=%s peers=%zu", p,
				 cc->devices[p], n_peers);
	}
	cluster_tick(d->cl, now, &d->cacts);
	daemon_apply_cluster(d);
	log_info("event=cluster_start node=%u device=%s mode=%s port=%u heartbeat_ms=%u "
		 "dead_after=%u",
		 cc->node_id, devs, cc->has_group ? "multicast" : "unicast", (unsigned)cc->port,
		 cc->interval_ms, cc->dead_count);
	return 0;
}

void transport_free(struct daemon *d)
{
	for (size_t p = 0; p < d->n_paths; p++) {
		loop_watch_free(d->paths[p].w);
		udp_close(d->paths[p].udp);
		d->paths[p].w = NULL;
		d->paths[p].udp = NULL;
	}
	loop_watch_free(d->traffic_w);
	d->traffic_w = NULL;
	cluster_free(d->cl);
	d->cl = NULL;
	cluster_actions_free(&d->cacts);
}
