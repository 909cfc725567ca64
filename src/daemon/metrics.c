/*
 * metrics: the Prometheus endpoint ([Daemon] Metrics=). What it exports is
 * what `arpha -j` shows: each command below builds its view as for the
 * control socket (ctl_view), and os/prom turns the view's fields into
 * samples under these rules, which name each family, say counter or gauge
 * and give its help. A number no rule names still goes out, untyped
 * (tests/netns/test_metrics.py fails on one: a new field gets its rule).
 */
#include "daemon/metrics.h"

#include <stdio.h>
#include <unistd.h>

#include "core/addr.h"
#include "daemon/daemon.h"
#include "daemon/host.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/prom.h"
#include "os/prom_http.h"
#include "os/view.h"

#define C    PROM_COUNTER
#define G    PROM_GAUGE
#define S    PROM_STATE
#define SKIP PROM_SKIP

/* `arpha stats` */
static const struct prom_rule stats_rules[] = {
    {"interfaces.state", S, "arpha_arp_interface_state", "state", 0,
     "Whether the interface's device is present or absent (1 for its state)"},
    {"interfaces.ifindex", SKIP, "", NULL, 0, NULL},
    {"interfaces.entries", G, "arpha_arp_cache_entries", NULL, 0,
     "Entries in the interface's ARP cache"},
    {"interfaces.counters.*", C, "arpha_arp_events", "reason", 0,
     "The ARP engine's counters by interface and reason, as arpha stats shows them: frames "
     "received and sent, each verdict (answered, learned, drop_*, malformed_*, verify_*), "
     "cache changes"},
    {"kernel.neighbour_errors", C, "arpha_kernel_neighbour_errors", NULL, 0,
     "Neighbour entries the kernel refused to install or remove"},
    {"kernel.send_errors", C, "arpha_kernel_send_errors", NULL, 0,
     "ARP frames the kernel refused to send, on every interface"},
    {0},
};
static const struct prom_list stats_lists[] = {{"interfaces", "interface"}, {0}};

/* `arpha vip`: a list of VIPs */
static const struct prom_rule vip_rules[] = {
    {"state", S, "arpha_vip_state", "state", 0,
     "The VIP's state: init, backup, master or fault (1 for its state)"},
    {"address", S, "arpha_vip_address", "address", 0, "The VIP's address and prefix (always 1)"},
    {"owner", G, "arpha_vip_owner_node", NULL, 0,
     "The node that holds the VIP, as this node sees it (0: none)"},
    {"priority", G, "arpha_vip_priority", NULL, 0,
     "This node's priority for the VIP, after failing checks and demotion"},
    {"configured_priority", G, "arpha_vip_configured_priority", NULL, 0,
     "The VIP's Priority= in the configuration"},
    {"demote", G, "arpha_vip_demote", NULL, 0,
     "What failing checks and arpha vip demote take off the priority"},
    {"demoted_by_hand", G, "arpha_vip_demoted_by_hand", NULL, 0,
     "What arpha vip demote takes off the group's priority"},
    {"checks.state", S, "arpha_vip_check_state", "state", 0,
     "Each health check of the VIP: healthy or failing (1 for its state)"},
    {"checks.weight", G, "arpha_vip_check_weight", NULL, 0,
     "What the check failing takes off the priority (0: fault)"},
    {"checks.runs", C, "arpha_vip_check_runs", NULL, 0, "Runs of the health check"},
    {"checks.failed", C, "arpha_vip_check_failed", NULL, 0, "Runs of the health check that failed"},
    {"holding", G, "arpha_vip_holding", NULL, 0, "1 when the address is on this node"},
    {"last_change_ms", G, "arpha_vip_last_change_seconds", NULL, 1000,
     "Seconds since the VIP's state last changed"},
    {"changes", C, "arpha_vip_state_changes", NULL, 0, "Changes of the VIP's state"},
    {"garp_rounds", C, "arpha_vip_garp_rounds", NULL, 0,
     "Rounds of gratuitous ARP sent for the VIP"},
    {"targeted_sent", C, "arpha_vip_targeted_sent", NULL, 0,
     "ARP replies sent to each known neighbour at a takeover (Methods=targeted)"},
    {"flush_rounds", C, "arpha_vip_flush_rounds", NULL, 0,
     "Rounds of flush requests sent to arpha-flushd hosts (Methods=flush)"},
    {"notify_runs", C, "arpha_vip_notify_runs", NULL, 0, "Runs of the NotifyScript"},
    {"notify_failed", C, "arpha_vip_notify_failed", NULL, 0,
     "Runs of the NotifyScript that failed (exit status not 0, killed, or not started)"},
    {"notify_dropped", C, "arpha_vip_notify_dropped", NULL, 0,
     "NotifyScript runs left out because too many were waiting"},
    {0},
};
static const struct prom_list vip_lists[] = {
    {"", "name=vip,group"}, {"checks", "name=check"}, {0}};

/* `arpha cluster` */
static const struct prom_rule cluster_rules[] = {
    {"node_id", G, "arpha_cluster_node_id", NULL, 0, "This node's NodeID"},
    {"sync_link", S, "arpha_cluster_sync_link", "state", 0,
     "This node's sync link: up or down (1 for its state)"},
    {"sync_paths.link", S, "arpha_cluster_path_link", "state", 0,
     "Each sync path's link: up or down (1 for its state)"},
    {"sync_paths.*", SKIP, "", NULL, 0, NULL},
    {"members.state", S, "arpha_cluster_member_state", "state", 0,
     "Each member as this node sees it: up, down, joining, or never heard (1 for its state)"},
    {"members.last_heard_ms", G, "arpha_cluster_member_last_heard_seconds", NULL, 1000,
     "Seconds since this node last heard the member"},
    {"members.*", C, "arpha_cluster_member_", NULL, 0,
     "A member's counters as arpha cluster shows them"},
    {"refused_from.counts.*", C, "arpha_cluster_refused", "reason", 0,
     "Datagrams refused from a source address (not a member, or not authentic), by reason"},
    {"refused_from.last_ms", G, "arpha_cluster_refused_last_seconds", NULL, 1000,
     "Seconds since a datagram from the source was last refused"},
    {"refused_from.*", SKIP, "", NULL, 0, NULL},
    {"paths.state", S, "arpha_cluster_member_path_state", "state", 0,
     "Each member on each sync path: up or down (1 for its state)"},
    {"paths.last_heard_ms", G, "arpha_cluster_member_path_last_heard_seconds", NULL, 1000,
     "Seconds since this node last heard the member on the path"},
    {"paths.downs", C, "arpha_cluster_member_path_downs", NULL, 0,
     "Times the member went down on the path"},
    {"paths.*", SKIP, "", NULL, 0, NULL},
    {"counters.drop_*", C, "arpha_cluster_dropped", "reason", 0,
     "Cluster datagrams dropped, by reason"},
    {"counters.state_drop_*", C, "arpha_cluster_state_dropped", "reason", 0,
     "Heartbeat states dropped, by reason"},
    {"counters.peers_never_heard", G, "arpha_cluster_peers_never_heard", NULL, 0,
     "Configured peers never heard from"},
    {"counters.*", C, "arpha_cluster_", NULL, 0,
     "The cluster's counters as arpha cluster shows them"},
    {0},
};
static const struct prom_list cluster_lists[] = {{"members", "node_id=node,address"},
						 {"refused_from", "address,node_id=node"},
						 {"paths", "node_id=node,path,device"},
						 {"sync_paths", "path,device"},
						 {0}};

/* `arpha conns` */
static const struct prom_rule conns_rules[] = {
    {"node_id", SKIP, "", NULL, 0, NULL},
    {"local", G, "arpha_conns_local_entries", NULL, 0,
     "This node's own connections in the synced table"},
    {"messages_in", C, "arpha_conns_messages_received", NULL, 0,
     "Connection-sync messages received"},
    {"messages_out", C, "arpha_conns_messages_sent", NULL, 0, "Connection-sync messages sent"},
    {"resyncs_sent", C, "arpha_conns_resyncs_sent", NULL, 0, "Full resyncs sent"},
    {"resyncs_received", C, "arpha_conns_resyncs_received", NULL, 0, "Full resyncs received"},
    {"resync_requests_sent", C, "arpha_conns_resync_requests_sent", NULL, 0,
     "Full resyncs asked for"},
    {"checks_agree", C, "arpha_conns_checks_agree", NULL, 0,
     "Consistency checks that agreed with the peer"},
    {"checks_disagree", C, "arpha_conns_checks_disagree", NULL, 0,
     "Consistency checks that disagreed with the peer"},
    {"last_check", S, "arpha_conns_last_check", "result", 0,
     "The last consistency check's result (1 for it)"},
    {"last_check_ms", G, "arpha_conns_last_check_seconds", NULL, 1000,
     "Seconds since the last consistency check"},
    {"records_in.*", C, "arpha_conns_records_received", "type", 0,
     "Connection-sync records received, by type"},
    {"records_out.*", C, "arpha_conns_records_sent", "type", 0,
     "Connection-sync records sent, by type"},
    {"malformed.*", C, "arpha_conns_malformed", "reason", 0,
     "Connection-sync messages refused as malformed, by reason"},
    {"kernel.*", C, "arpha_conns_kernel_", NULL, 0,
     "Connection tracking in the kernel, as arpha conns shows it (events, losses, dumps, "
     "entries put in step and the failures)"},
    {"active_active", G, "arpha_conns_active_active", NULL, 0,
     "1 when connections are owned by buckets (active-active)"},
    {"adopted", C, "arpha_conns_adopted", NULL, 0, "Connections adopted from other nodes"},
    {"commits", C, "arpha_conns_commits", NULL, 0, "Takeover commits"},
    {"committed", C, "arpha_conns_committed", NULL, 0,
     "Connections put in the kernel by takeover commits"},
    {"commit_failed", C, "arpha_conns_commit_failed", NULL, 0,
     "Connections a takeover commit failed to put in the kernel"},
    {"last_commit_us", G, "arpha_conns_last_commit_seconds", NULL, 1000000,
     "Seconds the last takeover commit took"},
    {"refused_full", C, "arpha_conns_refused_full", NULL, 0,
     "Connections refused because the table was full"},
    {"peers.up", G, "arpha_conns_peer_up", NULL, 0, "1 when the peer is up"},
    {"peers.entries", G, "arpha_conns_peer_entries", NULL, 0, "Connections held from the peer"},
    {"peers.last_message_ms", G, "arpha_conns_peer_last_message_seconds", NULL, 1000,
     "Seconds since the peer's last connection-sync message (the lag)"},
    {"peers.messages", C, "arpha_conns_peer_messages", NULL, 0, "Messages from the peer"},
    {"peers.check", S, "arpha_conns_peer_check", "result", 0,
     "The last consistency check with the peer (1 for its result)"},
    {"peers.resyncs_received", C, "arpha_conns_peer_resyncs_received", NULL, 0,
     "Full resyncs from the peer"},
    {"peers.refused_full", C, "arpha_conns_peer_refused_full", NULL, 0,
     "The peer's connections refused because the table was full"},
    {"owners.connections", G, "arpha_conns_owner_connections", NULL, 0,
     "Connections by owner (active-active)"},
    {"owners.*", SKIP, "", NULL, 0, NULL},
    {0},
};
static const struct prom_list conns_lists[] = {{"peers", "node"}, {"owners", "node,owner"}, {0}};

/* `arpha neighbors`: the counters (a device each would be a series each) */
static const struct prom_rule neighbors_rules[] = {
    {"neighbors.*", SKIP, "", NULL, 0, NULL},
    {"counters.entries", G, "arpha_neighbors_entries", NULL, 0, "Devices in the neighbour cache"},
    {"counters.size", G, "arpha_neighbors_size", NULL, 0,
     "The neighbour cache's size ([Neighbors] Size=)"},
    {"counters.dhcp_refused.*", C, "arpha_neighbors_dhcp_refused", "reason", 0,
     "DHCP messages refused, by reason"},
    {"counters.sync_malformed.*", C, "arpha_neighbors_sync_malformed", "reason", 0,
     "Neighbour-sync messages refused as malformed, by reason"},
    {"counters.*", C, "arpha_neighbors_", NULL, 0,
     "The neighbour cache's counters as arpha neighbors shows them"},
    {0},
};

/* `arpha ranges` (active-active) */
static const struct prom_rule ranges_rules[] = {
    {"node_id", SKIP, "", NULL, 0, NULL},
    {"owner", SKIP, "", NULL, 0, NULL},
    {"incarnation", SKIP, "", NULL, 0, NULL}, /* an identity, beyond a float's 53 bits */
    {"changed_ms_ago", G, "arpha_ranges_changed_seconds", NULL, 1000,
     "Seconds since this node's buckets last changed"},
    {"kernel.new_per_second", G, "arpha_ranges_kernel_new_per_second", NULL, 0,
     "New connections a second the kernel takes for this node"},
    {"kernel.last_update_us", G, "arpha_ranges_kernel_last_update_seconds", NULL, 1000000,
     "Seconds the last update of the kernel's bucket map took"},
    {"kernel.max_update_us", G, "arpha_ranges_kernel_max_update_seconds", NULL, 1000000,
     "Seconds the longest update of the kernel's bucket map took"},
    {"kernel.remark_pending", G, "arpha_ranges_kernel_remark_pending", NULL, 0,
     "Connections waiting for their owner mark"},
    {"kernel.*", C, "arpha_ranges_kernel_", NULL, 0,
     "The active-active data path in the kernel, as arpha ranges shows it"},
    {"stats.refused.*", C, "arpha_ranges_refused", "reason", 0,
     "Range messages refused, by reason"},
    {"stats.*", C, "arpha_ranges_stats_", NULL, 0,
     "The range protocol's counters as arpha ranges shows them"},
    {"nodes.state", S, "arpha_ranges_node_state", "state", 0,
     "Each node's state in the ranges (1 for its state)"},
    {"nodes.incarnation", SKIP, "", NULL, 0, NULL},
    {"nodes.heard_ms", G, "arpha_ranges_node_heard_seconds", NULL, 1000,
     "Seconds since this node last heard the node"},
    {"nodes.*", G, "arpha_ranges_node_", NULL, 0, "Each node as arpha ranges shows it"},
    {"vips.*", SKIP, "", NULL, 0, NULL},
    {"*", G, "arpha_ranges_", NULL, 0, "This node's buckets as arpha ranges shows them"},
    {0},
};
static const struct prom_list ranges_lists[] = {{"nodes", "node"}, {0}};

static const struct prom_source sources[] = {
    {"stats", stats_rules, stats_lists},       {"vip", vip_rules, vip_lists},
    {"cluster", cluster_rules, cluster_lists}, {"conns", conns_rules, conns_lists},
    {"neighbors", neighbors_rules, NULL},      {"ranges", ranges_rules, ranges_lists},
};

const struct prom_source *metrics_sources(size_t *n)
{
	*n = sizeof(sources) / sizeof(sources[0]);
	return sources;
}

static int render(void *arg, struct sbuf *out)
{
	struct daemon *d = arg;
	struct prom *p = prom_new();
	if (!p)
		return -1;
	loop_begin(d->loop);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		struct view *v = view_new();
		if (ctl_view(d, sources[i].cmd, v) == 0)
			prom_add(p, &sources[i], v);
		view_free(v);
	}
	loop_end(d->loop);
	prom_render(p, out);
	prom_free(p);
	return out->oom ? -1 : 0;
}

int metrics_listen(struct daemon *d, char *err, size_t len)
{
	d->metrics_fd = -1;
	if (!d->cfg.metrics_port)
		return 0;
	d->metrics_fd = prom_http_listen(d->cfg.metrics_addr, d->cfg.metrics_port, err, len);
	return d->metrics_fd < 0 ? -1 : 0;
}

int metrics_start(struct daemon *d)
{
	if (d->metrics_fd < 0)
		return 0;
	int fd = d->metrics_fd;
	d->metrics_fd = -1; /* the server's now, also when it fails */
	d->metrics = prom_http_start(loop_base(d->loop), fd, ARPHAD_PRIO_CLIENTS, render, d);
	if (!d->metrics)
		return -1;
	char ip[IP4_STRLEN];
	log_info("event=metrics_listening url=http://%s:%u/metrics",
		 ip4_fmt(d->cfg.metrics_addr, ip), d->cfg.metrics_port);
	return 0;
}

void metrics_free(struct daemon *d)
{
	prom_http_free(d->metrics);
	d->metrics = NULL;
	if (d->metrics_fd >= 0)
		close(d->metrics_fd);
	d->metrics_fd = -1;
}
