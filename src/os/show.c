#include "os/show.h"

#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"

static int cmp_entry(const void *a, const void *b)
{
	const struct arp_entry *x = *(const struct arp_entry *const *)a;
	const struct arp_entry *y = *(const struct arp_entry *const *)b;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static const char *const type_title[ARP_TYPE__COUNT] = {
    [ARP_DYNAMIC] = "Dynamic",	 [ARP_STATIC] = "Static",   [ARP_PUBLISH] = "Publish",
    [ARP_XPUBLISH] = "XPublish", [ARP_UNKNOWN] = "Unknown", [ARP_INCOMPLETE] = "Incomplete",
};

/* Entries shown: everything but outstanding queries, sorted by address. */
static size_t collect(const struct arp_cache *c, const struct arp_entry ***out)
{
	size_t n = arp_cache_count(c), k = 0, cursor = 0;
	const struct arp_entry **v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		*out = NULL;
		return 0;
	}
	const struct arp_entry *en;
	while ((en = arp_cache_next(c, &cursor)) && k < n)
		if (en->type != ARP_INCOMPLETE)
			v[k++] = en;
	qsort(v, k, sizeof(*v), cmp_entry);
	*out = v;
	return k;
}

static long long expires_in(const struct arp_entry *en, uint64_t now)
{
	if (arp_type_is_configured(en->type))
		return -1;
	return en->expires > now ? (long long)((en->expires - now + 999) / 1000) : 0;
}

void show_arp(struct sbuf *b, struct arp_engine *e, const char *iface, bool json, uint64_t now)
{
	struct arp_iface_view v;
	bool first = true;
	if (json)
		sbuf_printf(b, "[");
	for (size_t i = 0; arp_engine_iface_at(e, i, &v) == 0; i++) {
		if (iface && strcmp(iface, v.name) != 0)
			continue;
		const struct arp_entry **ents;
		size_t n = collect(v.cache, &ents);
		if (!json)
			sbuf_printf(b, "ARP cache of iface %s\n  %-8s %-15s  %-17s  %s\n", v.name,
				    "Type", "IPv4 Address", "Ethernet Address", "Expires");
		for (size_t k = 0; k < n; k++) {
			const struct arp_entry *en = ents[k];
			const struct mac *m = (en->flags & ARP_F_IFACE_MAC) ? &v.mac : &en->mac;
			bool has_mac = en->type != ARP_UNKNOWN;
			char ip[IP4_STRLEN], mac[MAC_STRLEN];
			ip4_fmt(en->ip, ip);
			mac_fmt(m, mac);
			long long exp = expires_in(en, now);
			if (json) {
				sbuf_printf(b, "%s{\"interface\":", first ? "" : ",");
				sbuf_json_str(b, v.name);
				sbuf_printf(b, ",\"type\":\"%s\",\"ip\":\"%s\",\"mac\":",
					    arp_type_name(en->type), ip);
				if (has_mac)
					sbuf_printf(b, "\"%s\"", mac);
				else
					sbuf_printf(b, "null");
				if (exp < 0)
					sbuf_printf(b, ",\"expires\":null}");
				else
					sbuf_printf(b, ",\"expires\":%lld}", exp);
				first = false;
			} else {
				char expbuf[24] = "-";
				if (exp >= 0)
					snprintf(expbuf, sizeof(expbuf), "%lld", exp);
				sbuf_printf(b, "  %-8s %-15s  %-17s  %s\n", type_title[en->type],
					    ip, has_mac ? mac : "-", expbuf);
			}
		}
		free(ents);
	}
	const char *name;
	const struct arp_counters *cnt;
	for (size_t i = 0; !json && arp_engine_absent_at(e, i, &name, &cnt) == 0; i++)
		if (!iface || strcmp(iface, name) == 0)
			sbuf_printf(b, "ARP cache of iface %s: its device is absent, no entries\n",
				    name);
	sbuf_printf(b, json ? "]\n" : "");
}

/* The counters shown: all but the names that are no counter. */
static bool counter_shown(int c)
{
	const char *name = arp_counter_name((enum arp_counter)c);
	return name[0] != '?' && strcmp(name, "malformed_none") != 0;
}

/*
 * One interface of `arpha stats`; ifindex 0: its device is absent (no
 * cache). The device's name is the one it has now: it may have been renamed.
 */
static void stats_iface(struct sbuf *b, const char *name, uint32_t ifindex, size_t entries,
			const struct arp_counters *cnt, bool json, bool first_iface)
{
	bool absent = ifindex == 0;
	char dev[IF_NAMESIZE] = "?";
	if (!absent && !if_indextoname(ifindex, dev))
		strcpy(dev, "?");
	if (json) {
		sbuf_printf(b, "%s{\"interface\":", first_iface ? "" : ",");
		sbuf_json_str(b, name);
		sbuf_printf(b, ",\"state\":\"%s\"", absent ? "absent" : "present");
		if (!absent) {
			sbuf_printf(b, ",\"device\":");
			sbuf_json_str(b, dev);
			sbuf_printf(b, ",\"ifindex\":%u", ifindex);
		}
		sbuf_printf(b, ",\"entries\":%zu,\"counters\":{", entries);
	} else if (absent) {
		sbuf_printf(b, "%sInterface %s: its device is absent\n", first_iface ? "" : "\n",
			    name);
	} else {
		sbuf_printf(b, "%sInterface %s (device %s): %zu %s\n", first_iface ? "" : "\n",
			    name, dev, entries, entries == 1 ? "entry" : "entries");
	}
	bool first = true;
	for (int c = 0; c < AC__COUNT; c++) {
		if (!counter_shown(c))
			continue;
		unsigned long long val = cnt->v[c];
		if (json) {
			sbuf_printf(b, "%s\"%s\":%llu", first ? "" : ",",
				    arp_counter_name((enum arp_counter)c), val);
			first = false;
		} else if (val) {
			sbuf_printf(b, "  %-32s %llu\n", arp_counter_name((enum arp_counter)c),
				    val);
		}
	}
	if (json)
		sbuf_printf(b, "}}");
}

void show_stats(struct sbuf *b, struct arp_engine *e, bool json)
{
	struct arp_iface_view v;
	const char *name;
	const struct arp_counters *cnt;
	size_t n = 0;
	if (json)
		sbuf_printf(b, "{\"interfaces\":[");
	for (size_t i = 0; arp_engine_iface_at(e, i, &v) == 0; i++, n++)
		stats_iface(b, v.name, v.ifindex, arp_cache_count(v.cache), v.counters, json,
			    n == 0);
	for (size_t i = 0; arp_engine_absent_at(e, i, &name, &cnt) == 0; i++, n++)
		stats_iface(b, name, 0, 0, cnt, json, n == 0);
	if (json)
		sbuf_printf(b, "]}\n");
}

/* event=counters ... as one log line at notice. */
static void log_counters_line(struct sbuf *s)
{
	if (!s->oom && s->s)
		log_line(LOGL_NOTICE, s->s);
	sbuf_free(s);
	sbuf_init(s);
}

static void counters_kv(struct sbuf *s, const struct arp_counters *cnt)
{
	for (int c = 0; c < AC__COUNT; c++)
		if (counter_shown(c))
			sbuf_printf(s, " %s=%llu", arp_counter_name((enum arp_counter)c),
				    (unsigned long long)cnt->v[c]);
}

void show_log_counters(struct arp_engine *e, const struct cluster *c)
{
	struct arp_iface_view v;
	const char *name;
	const struct arp_counters *cnt;
	struct sbuf s;
	sbuf_init(&s);
	for (size_t i = 0; arp_engine_iface_at(e, i, &v) == 0; i++) {
		sbuf_printf(&s, "event=counters scope=iface iface=%s state=present entries=%zu",
			    v.name, arp_cache_count(v.cache));
		counters_kv(&s, v.counters);
		log_counters_line(&s);
	}
	for (size_t i = 0; arp_engine_absent_at(e, i, &name, &cnt) == 0; i++) {
		sbuf_printf(&s, "event=counters scope=iface iface=%s state=absent entries=0", name);
		counters_kv(&s, cnt);
		log_counters_line(&s);
	}
	if (c) {
		const struct cluster_stats *st = cluster_stats(c);
		const struct rb_stats *rb = cluster_rb_stats(c);
		sbuf_printf(
		    &s,
		    "event=counters scope=cluster node=%u rx_datagrams=%llu tx_datagrams=%llu "
		    "heartbeats_sent=%llu heartbeats_received=%llu messages_sent=%llu "
		    "messages_delivered=%llu messages_resent=%llu naks_sent=%llu "
		    "naks_received=%llu out_of_sync=%llu malformed_payload=%llu",
		    cluster_node_id(c), (unsigned long long)st->rx_datagrams,
		    (unsigned long long)st->tx_datagrams, (unsigned long long)st->heartbeats_sent,
		    (unsigned long long)st->heartbeats_received, (unsigned long long)rb->sent,
		    (unsigned long long)rb->delivered, (unsigned long long)rb->resent,
		    (unsigned long long)rb->naks_sent, (unsigned long long)rb->naks_received,
		    (unsigned long long)rb->out_of_sync, (unsigned long long)st->malformed_payload);
		for (int r = 1; r < WR__COUNT; r++)
			sbuf_printf(&s, " drop_%s=%llu", wire_reason_name((enum wire_reason)r),
				    (unsigned long long)st->drops[r]);
		sbuf_printf(&s, " states_sent=%llu states_received=%llu",
			    (unsigned long long)st->states_sent,
			    (unsigned long long)st->states_received);
		for (int r = 1; r < WS__COUNT; r++)
			sbuf_printf(&s, " state_drop_%s=%llu",
				    wire_state_reason_name((enum wire_state_reason)r),
				    (unsigned long long)st->state_drops[r]);
		log_counters_line(&s);
	}
	sbuf_free(&s);
}

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

/*
 * The addresses datagrams were refused from: JSON "refused_from" (closes
 * the members array first), or a table after the members'.
 */
static void show_refused(struct sbuf *b, const struct srcwatch *sw, bool json, uint64_t now)
{
	struct srcwatch_source v[SRCWATCH_MAX];
	size_t n = srcwatch_sources(sw, v, SRCWATCH_MAX);
	if (n > SRCWATCH_MAX)
		n = SRCWATCH_MAX;
	qsort(v, n, sizeof(v[0]), cmp_source);
	char ip[IP4_STRLEN];
	if (json)
		sbuf_printf(b, "],\"refused_from\":[");
	else if (n)
		sbuf_printf(b, "Refused from\n  %-15s  %-14s %9s %12s  %s\n", "Address", "Reason",
			    "Count", "Last refused", "Counts by reason");
	for (size_t i = 0; i < n; i++) {
		const struct srcwatch_source *s = &v[i];
		enum wire_reason lr = (enum wire_reason)s->last_reason;
		unsigned long long ago = (unsigned long long)(now - s->last);
		ip4_fmt(s->addr, ip);
		if (json) {
			sbuf_printf(b,
				    "%s{\"address\":\"%s\",\"reason\":\"%s\",\"count\":%llu,"
				    "\"last_ms\":%llu",
				    i ? "," : "", ip, srcwatch_reason_name(lr),
				    (unsigned long long)s->total, ago);
			if (s->node)
				sbuf_printf(b, ",\"node_id\":%u", s->node);
			sbuf_printf(b, ",\"counts\":{");
		} else {
			char hs[32];
			snprintf(hs, sizeof(hs), "%llu ms", ago);
			sbuf_printf(b, "  %-15s  %-14s %9llu %12s  ", ip, srcwatch_reason_name(lr),
				    (unsigned long long)s->total, hs);
		}
		bool first = true;
		for (int r = 1; r < WR__COUNT; r++) {
			if (!s->counts[r])
				continue;
			if (json)
				sbuf_printf(b, "%s\"%s\":%llu", first ? "" : ",",
					    srcwatch_reason_name((enum wire_reason)r),
					    (unsigned long long)s->counts[r]);
			else
				sbuf_printf(b, "%s%s %llu", first ? "" : ", ",
					    srcwatch_reason_name((enum wire_reason)r),
					    (unsigned long long)s->counts[r]);
			first = false;
		}
		sbuf_printf(b, json ? "}}" : "\n");
	}
}

void show_cluster(struct sbuf *b, const struct cluster *c, const struct node_addr *addrs,
		  size_t n_addrs, bool json, uint64_t now)
{
	static const struct cluster_peer_stats none;
	struct member_peer peers[WIRE_MAX_PEERS];
	struct cluster_peer_stats ps[WIRE_MAX_PEERS];
	const struct member *m = cluster_member(c);
	size_t n = member_peers(m, peers, WIRE_MAX_PEERS);
	size_t nps = cluster_peer_stats(c, ps, WIRE_MAX_PEERS);
	if (n > WIRE_MAX_PEERS)
		n = WIRE_MAX_PEERS;
	if (nps > WIRE_MAX_PEERS)
		nps = WIRE_MAX_PEERS;
	const struct cluster_stats *st = cluster_stats(c);
	const struct rb_stats *rb = cluster_rb_stats(c);
	char ip[IP4_STRLEN];

	if (json)
		sbuf_printf(b, "{\"node_id\":%u,\"sync_link\":\"%s\",\"members\":[",
			    cluster_node_id(c), member_link_up(m) ? "up" : "down");
	else
		sbuf_printf(b,
			    "Node %u (this node), sync link %s\n"
			    "  %-10s %-15s  %-8s %11s %9s %9s %8s %9s %7s %4s\n",
			    cluster_node_id(c), member_link_up(m) ? "up" : "DOWN", "Node",
			    "Address", "State", "Last heard", "Messages", "Delivered", "NAKs in",
			    "NAKs out", "Resent", "OOS");
	for (size_t i = 0; i < n; i++) {
		uint32_t a = addr_of(addrs, n_addrs, peers[i].node);
		const struct cluster_peer_stats *q = &none;
		for (size_t k = 0; k < nps; k++)
			if (ps[k].node == peers[i].node)
				q = &ps[k];
		uint8_t state = peers[i].state <= MS_DOWN ? peers[i].state : 0;
		unsigned long long heard = (unsigned long long)(now - peers[i].last_heard);
		if (json) {
			sbuf_printf(b, "%s{\"node_id\":%u,\"address\":", i ? "," : "",
				    peers[i].node);
			if (a)
				sbuf_printf(b, "\"%s\"", ip4_fmt(a, ip));
			else
				sbuf_printf(b, "null");
			sbuf_printf(
			    b,
			    ",\"state\":\"%s\",\"last_heard_ms\":%llu,\"heartbeats\":%llu,"
			    "\"datagrams\":%llu,\"messages\":%llu,\"delivered\":%llu,"
			    "\"naks_from\":%llu,\"naks_to\":%llu,\"resent_for\":%llu,"
			    "\"out_of_sync\":%llu}",
			    state == MS_UP     ? "up"
			    : state == MS_DOWN ? "down"
					       : "joining",
			    heard, (unsigned long long)peers[i].heartbeats,
			    (unsigned long long)q->datagrams, (unsigned long long)q->messages,
			    (unsigned long long)q->delivered, (unsigned long long)q->naks_from,
			    (unsigned long long)q->naks_to, (unsigned long long)q->resent_for,
			    (unsigned long long)q->out_of_sync);
		} else {
			char hs[32];
			snprintf(hs, sizeof(hs), "%llu ms", heard);
			sbuf_printf(
			    b, "  %-10u %-15s  %-8s %11s %9llu %9llu %8llu %9llu %7llu %4llu\n",
			    peers[i].node, a ? ip4_fmt(a, ip) : "-", member_state_name[state], hs,
			    (unsigned long long)q->messages, (unsigned long long)q->delivered,
			    (unsigned long long)q->naks_from, (unsigned long long)q->naks_to,
			    (unsigned long long)q->resent_for, (unsigned long long)q->out_of_sync);
		}
	}
	const struct srcwatch *sw = cluster_srcwatch(c);
	uint32_t never[SRCWATCH_PEERS_MAX];
	size_t n_never = srcwatch_never_heard(sw, never, SRCWATCH_PEERS_MAX);
	if (n_never > SRCWATCH_PEERS_MAX)
		n_never = SRCWATCH_PEERS_MAX;
	for (size_t i = 0; i < n_never; i++) {
		ip4_fmt(never[i], ip);
		if (json)
			sbuf_printf(b,
				    "%s{\"node_id\":null,\"address\":\"%s\",\"state\":\"never\","
				    "\"last_heard_ms\":null,\"heartbeats\":0,\"datagrams\":0,"
				    "\"messages\":0,\"delivered\":0,\"naks_from\":0,\"naks_to\":0,"
				    "\"resent_for\":0,\"out_of_sync\":0}",
				    n + i ? "," : "", ip);
		else
			sbuf_printf(b, "  %-10s %-15s  %-8s %11s %9d %9d %8d %9d %7d %4d\n", "-",
				    ip, "never", "never", 0, 0, 0, 0, 0, 0);
	}
	show_refused(b, sw, json, now);
	if (json) {
		sbuf_printf(
		    b,
		    "],\"counters\":{\"rx_datagrams\":%llu,\"tx_datagrams\":%llu,"
		    "\"heartbeats_sent\":%llu,\"heartbeats_received\":%llu,"
		    "\"messages_sent\":%llu,\"messages_delivered\":%llu,"
		    "\"messages_resent\":%llu,\"naks_sent\":%llu,\"naks_received\":%llu,"
		    "\"out_of_sync\":%llu,\"gones_sent\":%llu,\"malformed_payload\":%llu",
		    (unsigned long long)st->rx_datagrams, (unsigned long long)st->tx_datagrams,
		    (unsigned long long)st->heartbeats_sent,
		    (unsigned long long)st->heartbeats_received, (unsigned long long)rb->sent,
		    (unsigned long long)rb->delivered, (unsigned long long)rb->resent,
		    (unsigned long long)rb->naks_sent, (unsigned long long)rb->naks_received,
		    (unsigned long long)rb->out_of_sync, (unsigned long long)rb->gones_sent,
		    (unsigned long long)st->malformed_payload);
		sbuf_printf(b, ",\"own_node_id\":%llu,\"peers_never_heard\":%zu",
			    (unsigned long long)st->own_node_id, n_never);
		for (int r = 1; r < WR__COUNT; r++)
			sbuf_printf(b, ",\"drop_%s\":%llu", wire_reason_name((enum wire_reason)r),
				    (unsigned long long)st->drops[r]);
		sbuf_printf(b, ",\"states_sent\":%llu,\"states_received\":%llu",
			    (unsigned long long)st->states_sent,
			    (unsigned long long)st->states_received);
		for (int r = 1; r < WS__COUNT; r++)
			sbuf_printf(b, ",\"state_drop_%s\":%llu",
				    wire_state_reason_name((enum wire_state_reason)r),
				    (unsigned long long)st->state_drops[r]);
		sbuf_printf(b, "}}\n");
		return;
	}
	sbuf_printf(b,
		    "Messages: %llu sent, %llu delivered, %llu resent; NAKs %llu sent, %llu "
		    "received; out of sync %llu\n",
		    (unsigned long long)rb->sent, (unsigned long long)rb->delivered,
		    (unsigned long long)rb->resent, (unsigned long long)rb->naks_sent,
		    (unsigned long long)rb->naks_received, (unsigned long long)rb->out_of_sync);
	sbuf_printf(b, "Datagrams: %llu received, %llu sent", (unsigned long long)st->rx_datagrams,
		    (unsigned long long)st->tx_datagrams);
	bool any = false;
	for (int r = 1; r < WR__COUNT; r++) {
		if (!st->drops[r])
			continue;
		sbuf_printf(b, "%s %s %llu",
			    any ? "," : "; refused:", wire_reason_name((enum wire_reason)r),
			    (unsigned long long)st->drops[r]);
		any = true;
	}
	if (st->own_node_id)
		sbuf_printf(b, " (%llu from another node with NodeID %u)",
			    (unsigned long long)st->own_node_id, cluster_node_id(c));
	sbuf_printf(b, "\n");
	sbuf_printf(b, "Heartbeat state: %llu sent, %llu received",
		    (unsigned long long)st->states_sent, (unsigned long long)st->states_received);
	any = false;
	for (int r = 1; r < WS__COUNT; r++) {
		if (!st->state_drops[r])
			continue;
		sbuf_printf(b, "%s %s %llu", any ? "," : "; refused:",
			    wire_state_reason_name((enum wire_state_reason)r),
			    (unsigned long long)st->state_drops[r]);
		any = true;
	}
	sbuf_printf(b, "\n");
}
