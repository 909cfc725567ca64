/*
 * show_cluster: `arpha cluster` (this node, every member, the addresses
 * datagrams were refused from, the counters) and the cluster's counters
 * logged at SIGUSR1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "daemon/show.h"
#include "os/log.h"
#include "os/view.h"

/* The state as a person reads it (JSON says joining for all but up and down). */
static const char *const member_state_name[] = {
    [0] = "unknown", [MS_HEARD] = "joining", [MS_UP] = "up", [MS_DOWN] = "down"};

static uint32_t addr_of(const struct node_addr *addrs, size_t n, uint32_t node)
{
	for (size_t i = 0; i < n; i++)
		if (addrs[i].node == node)
			return addrs[i].addr;
	return 0;
}

static int cmp_source(const void *a, const void *b)
{
	const struct srcwatch_source *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const struct view_col member_cols[] = {
    {.key = "node_id", .head = "Node", .width = 10},
    {.key = "address", .head = "Address", .width = 15},
    {.key = "state", .head = "State", .width = 8, .gap = 2},
    {.key = "last_heard_ms",
     .head = "Last heard",
     .width = 11,
     .right = true,
     .unit = " ms",
     .none = "never"},
    {.key = "messages", .head = "Messages", .width = 9, .right = true},
    {.key = "delivered", .head = "Delivered", .width = 9, .right = true},
    {.key = "naks_from", .head = "NAKs in", .width = 8, .right = true},
    {.key = "naks_to", .head = "NAKs out", .width = 9, .right = true},
    {.key = "resent_for", .head = "Resent", .width = 7, .right = true},
    {.key = "out_of_sync", .head = "OOS", .width = 4, .right = true},
};
static const struct view_table member_table = {member_cols, 10, .indent = 2};

static const struct view_col refused_cols[] = {
    {.key = "address", .head = "Address", .width = 15},
    {.key = "reason", .head = "Reason", .width = 14, .gap = 2},
    {.key = "count", .head = "Count", .width = 9, .right = true},
    {.key = "last_ms", .head = "Last refused", .width = 12, .right = true, .unit = " ms"},
    {.key = "counts", .head = "Counts by reason", .gap = 2},
};
static const struct view_table refused_table = {refused_cols, 5, .indent = 2, .hide_empty = true};

static const struct view_col path_cols[] = {
    {.key = "node_id", .head = "Node", .width = 10},
    {.key = "path", .head = "Path", .width = 4, .right = true},
    {.key = "device", .head = "Device", .width = 15, .gap = 2},
    {.key = "state", .head = "State", .width = 6},
    {.key = "last_heard_ms",
     .head = "Last heard",
     .width = 11,
     .right = true,
     .unit = " ms",
     .none = "never"},
    {.key = "downs", .head = "Down", .width = 5, .right = true},
};
static const struct view_table path_table = {path_cols, 6, .indent = 2, .hide_empty = true};

/*
 * With several paths: each member on each path, up (heard within
 * DeadInterval), down (silent: degraded) or off (our own link of it is
 * down), when last heard on it and how often it was reported down.
 */
static void member_paths(struct view *v, const struct cluster *c, const char *const *devices,
			 uint64_t now)
{
	const struct member *m = cluster_member(c);
	unsigned np = member_n_paths(m);
	if (np < 2)
		return;
	struct member_peer peers[WIRE_MAX_PEERS];
	size_t n = member_peers(m, peers, WIRE_MAX_PEERS);
	if (n > WIRE_MAX_PEERS)
		n = WIRE_MAX_PEERS;
	view_table(v, "paths", &path_table, "Paths");
	for (size_t i = 0; i < n; i++) {
		if (peers[i].state == MS_DOWN)
			continue;
		for (unsigned p = 0; p < np; p++) {
			view_row(v);
			view_u64(v, "node_id", peers[i].node);
			view_u64(v, "path", p);
			view_str(v, "device", devices[p]);
			view_str(v, "state",
				 !member_path_link_up(m, p)	 ? "off"
				 : peers[i].paths_up & (1u << p) ? "up"
								 : "down");
			if (peers[i].path_heard[p])
				view_u64(v, "last_heard_ms", now - peers[i].path_heard[p]);
			else
				view_null(v, "last_heard_ms");
			view_u64(v, "downs", peers[i].path_downs[p]);
			view_end(v);
		}
	}
	view_end(v);
}

/* A member's counters (all zero for an address never heard). */
static void member_counters(struct view *v, uint64_t heartbeats, const struct cluster_peer_stats *q)
{
	view_u64(v, "heartbeats", heartbeats);
	view_u64(v, "datagrams", q->datagrams);
	view_u64(v, "messages", q->messages);
	view_u64(v, "delivered", q->delivered);
	view_u64(v, "naks_from", q->naks_from);
	view_u64(v, "naks_to", q->naks_to);
	view_u64(v, "resent_for", q->resent_for);
	view_u64(v, "out_of_sync", q->out_of_sync);
}

static void members(struct view *v, const struct cluster *c, const struct node_addr *addrs,
		    size_t n_addrs, const uint32_t *never, size_t n_never, uint64_t now)
{
	static const struct cluster_peer_stats none;
	struct member_peer peers[WIRE_MAX_PEERS];
	struct cluster_peer_stats ps[WIRE_MAX_PEERS];
	size_t n = member_peers(cluster_member(c), peers, WIRE_MAX_PEERS);
	size_t nps = cluster_peer_stats(c, ps, WIRE_MAX_PEERS);
	if (n > WIRE_MAX_PEERS)
		n = WIRE_MAX_PEERS;
	if (nps > WIRE_MAX_PEERS)
		nps = WIRE_MAX_PEERS;
	view_table(v, "members", &member_table, NULL);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = addr_of(addrs, n_addrs, peers[i].node);
		const struct cluster_peer_stats *q = &none;
		for (size_t k = 0; k < nps; k++)
			if (ps[k].node == peers[i].node)
				q = &ps[k];
		uint8_t state = peers[i].state <= MS_DOWN ? peers[i].state : 0;
		view_row(v);
		view_u64(v, "node_id", peers[i].node);
		if (a)
			view_ip4(v, "address", a);
		else
			view_null(v, "address");
		view_str(v, "state", state == MS_UP ? "up" : state == MS_DOWN ? "down" : "joining");
		view_text(v, member_state_name[state]);
		view_u64(v, "last_heard_ms", now - peers[i].last_heard);
		member_counters(v, peers[i].heartbeats, q);
		view_end(v);
	}
	for (size_t i = 0; i < n_never; i++) {
		view_row(v);
		view_null(v, "node_id");
		view_ip4(v, "address", never[i]);
		view_str(v, "state", "never");
		view_null(v, "last_heard_ms");
		member_counters(v, 0, &none);
		view_end(v);
	}
	view_end(v);
}

/* The addresses datagrams were refused from, by address. */
static void refused(struct view *v, const struct srcwatch *sw, uint64_t now)
{
	struct srcwatch_source src[SRCWATCH_MAX];
	size_t n = srcwatch_sources(sw, src, SRCWATCH_MAX);
	if (n > SRCWATCH_MAX)
		n = SRCWATCH_MAX;
	qsort(src, n, sizeof(src[0]), cmp_source);
	view_table(v, "refused_from", &refused_table, "Refused from");
	for (size_t i = 0; i < n; i++) {
		const struct srcwatch_source *s = &src[i];
		view_row(v);
		view_ip4(v, "address", s->addr);
		view_str(v, "reason", srcwatch_reason_name((enum wire_reason)s->last_reason));
		view_u64(v, "count", s->total);
		view_u64(v, "last_ms", now - s->last);
		if (s->node)
			view_u64(v, "node_id", s->node);
		view_object(v, "counts");
		for (int r = 1; r < WR__COUNT; r++)
			if (s->counts[r])
				view_u64(v, srcwatch_reason_name((enum wire_reason)r),
					 s->counts[r]);
		view_end(v);
		view_end(v);
	}
	view_end(v);
}

/*
 * Each wire reason's drops as drop_REASON, then the heartbeat states sent
 * and received and those refused as state_drop_REASON (the JSON's keys
 * and the log's).
 */
static void drops(struct view *v, const struct cluster_stats *st)
{
	char key[48];
	for (int r = 1; r < WR__COUNT; r++) {
		snprintf(key, sizeof(key), "drop_%s", wire_reason_name((enum wire_reason)r));
		view_u64(v, key, st->drops[r]);
	}
	view_u64(v, "states_sent", st->states_sent);
	view_u64(v, "states_received", st->states_received);
	for (int r = 1; r < WS__COUNT; r++) {
		snprintf(key, sizeof(key), "state_drop_%s",
			 wire_state_reason_name((enum wire_state_reason)r));
		view_u64(v, key, st->state_drops[r]);
	}
}

/* The datagrams, heartbeats and messages sent and received (the JSON's keys and the log's). */
static void traffic(struct view *v, const struct cluster_stats *st, const struct rb_stats *rb)
{
	view_u64(v, "rx_datagrams", st->rx_datagrams);
	view_u64(v, "tx_datagrams", st->tx_datagrams);
	view_u64(v, "heartbeats_sent", st->heartbeats_sent);
	view_u64(v, "heartbeats_received", st->heartbeats_received);
	view_u64(v, "messages_sent", rb->sent);
	view_u64(v, "messages_delivered", rb->delivered);
	view_u64(v, "messages_resent", rb->resent);
	view_u64(v, "naks_sent", rb->naks_sent);
	view_u64(v, "naks_received", rb->naks_received);
	view_u64(v, "out_of_sync", rb->out_of_sync);
}

/*
 * The totals; as text a line of messages and one of datagrams with those
 * refused, by reason, where any were.
 */
static void totals(struct view *v, const struct cluster *c, size_t n_never)
{
	const struct cluster_stats *st = cluster_stats(c);
	const struct rb_stats *rb = cluster_rb_stats(c);
	view_object(v, "counters");
	traffic(v, st, rb);
	view_u64(v, "gones_sent", rb->gones_sent);
	view_u64(v, "malformed_payload", st->malformed_payload);
	view_u64(v, "own_node_id", st->own_node_id);
	view_u64(v, "peers_never_heard", n_never);
	drops(v, st);
	view_line(v, "Messages: {messages_sent} sent, {messages_delivered} delivered, "
		     "{messages_resent} resent; NAKs {naks_sent} sent, {naks_received} "
		     "received; out of sync {out_of_sync}");
	/* the names are short: the line fits whatever was refused */
	char line[1024];
	size_t at = (size_t)snprintf(line, sizeof(line),
				     "Datagrams: {rx_datagrams} received, {tx_datagrams} sent");
	bool any = false;
	for (int r = 1; r < WR__COUNT && at < sizeof(line); r++) {
		if (!st->drops[r])
			continue;
		const char *name = wire_reason_name((enum wire_reason)r);
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s %s {drop_%s}",
				       any ? "," : "; refused:", name, name);
		any = true;
	}
	if (st->own_node_id && at < sizeof(line))
		snprintf(line + at, sizeof(line) - at,
			 " ({own_node_id} from another node with NodeID {node_id})");
	view_line(v, line);
	at = (size_t)snprintf(line, sizeof(line),
			      "Heartbeat state: {states_sent} sent, {states_received} received");
	any = false;
	for (int r = 1; r < WS__COUNT && at < sizeof(line); r++) {
		if (!st->state_drops[r])
			continue;
		const char *name = wire_state_reason_name((enum wire_state_reason)r);
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s %s {state_drop_%s}",
				       any ? "," : "; refused:", name, name);
		any = true;
	}
	view_line(v, line);
	unsigned np = member_n_paths(cluster_member(c));
	at = (size_t)snprintf(line, sizeof(line), "Paths:");
	for (unsigned p = 0; np > 1 && p < np && at < sizeof(line); p++) {
		char key[32];
		snprintf(key, sizeof(key), "path%u_rx", p);
		view_u64(v, key, st->path_rx[p]);
		snprintf(key, sizeof(key), "path%u_tx", p);
		view_u64(v, key, st->path_tx[p]);
		snprintf(key, sizeof(key), "path%u_downs", p);
		view_u64(v, key, st->path_downs[p]);
		at += (size_t)snprintf(line + at, sizeof(line) - at,
				       "%s path %u {path%u_rx} received, {path%u_tx} sent, "
				       "a member silent on it {path%u_downs} times",
				       p ? ";" : "", p, p, p, p);
	}
	if (np > 1)
		view_line(v, line);
	view_end(v);
}

void show_cluster(struct view *v, const struct cluster *c, const char *const *devices,
		  const struct node_addr *addrs, size_t n_addrs, uint64_t now)
{
	const struct member *m = cluster_member(c);
	bool up = member_link_up(m);
	uint32_t never[SRCWATCH_PEERS_MAX];
	size_t n_never = srcwatch_never_heard(cluster_srcwatch(c), never, SRCWATCH_PEERS_MAX);
	if (n_never > SRCWATCH_PEERS_MAX)
		n_never = SRCWATCH_PEERS_MAX;
	view_object(v, NULL);
	view_u64(v, "node_id", cluster_node_id(c));
	view_str(v, "sync_link", up ? "up" : "down");
	if (!up)
		view_text(v, "DOWN");
	if (member_n_paths(m) < 2) {
		view_line(v, "Node {node_id} (this node), sync link {sync_link}");
	} else {
		char line[256] = "Node {node_id} (this node), sync links";
		view_list(v, "sync_paths");
		for (unsigned p = 0; p < member_n_paths(m); p++) {
			bool pu = member_path_link_up(m, p);
			view_object(v, NULL);
			view_u64(v, "path", p);
			view_str(v, "device", devices[p]);
			view_str(v, "link", pu ? "up" : "down");
			view_end(v);
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s %s %s",
				 p ? "," : "", devices[p], pu ? "up" : "DOWN");
		}
		view_end(v);
		view_line(v, line);
	}
	members(v, c, addrs, n_addrs, never, n_never, now);
	member_paths(v, c, devices, now);
	refused(v, cluster_srcwatch(c), now);
	totals(v, c, n_never);
	view_end(v);
}

void show_log_cluster(const struct cluster *c)
{
	const struct cluster_stats *st = cluster_stats(c);
	const struct rb_stats *rb = cluster_rb_stats(c);
	struct view *v = view_new();
	if (!v)
		return;
	view_object(v, NULL);
	view_str(v, "event", "counters");
	view_str(v, "scope", "cluster");
	view_u64(v, "node", cluster_node_id(c));
	traffic(v, st, rb);
	view_u64(v, "malformed_payload", st->malformed_payload);
	drops(v, st);
	view_end(v);
	show_log(v);
	view_free(v);
}
