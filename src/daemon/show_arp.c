/*
 * show_arp: the ARP engine's views: `arpha arp show`, `arpha stats`, and
 * its counters logged at SIGUSR1.
 */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"
#include "daemon/show.h"
#include "os/log.h"
#include "os/view.h"

static int cmp_entry(const void *a, const void *b)
{
	const struct arp_entry *x = *(const struct arp_entry *const *)a;
	const struct arp_entry *y = *(const struct arp_entry *const *)b;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

/* The type as a person reads it (JSON says arp_type_name). */
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

static const struct view_col arp_cols[] = {
    {.key = "type", .head = "Type", .width = 8},
    {.key = "ip", .head = "IPv4 Address", .width = 15},
    {.key = "mac", .head = "Ethernet Address", .width = 17, .gap = 2},
    {.key = "expires", .head = "Expires", .gap = 2},
};
static const struct view_table arp_table = {arp_cols, 4, .indent = 2};

/* One entry: seconds to expiry, null for a configured one. */
static void arp_row(struct view *v, const struct arp_iface_view *ifv, const struct arp_entry *en,
		    uint64_t now)
{
	view_row(v);
	view_str(v, "interface", ifv->name);
	view_str(v, "type", arp_type_name(en->type));
	view_text(v, type_title[en->type]);
	view_ip4(v, "ip", en->ip);
	if (en->type == ARP_UNKNOWN)
		view_null(v, "mac");
	else
		view_mac(v, "mac", (en->flags & ARP_F_IFACE_MAC) ? &ifv->mac : &en->mac);
	if (arp_type_is_configured(en->type))
		view_null(v, "expires");
	else
		view_u64(v, "expires", en->expires > now ? (en->expires - now + 999) / 1000 : 0);
	view_end(v);
}

void show_arp(struct view *v, const struct arp_engine *e, const char *iface, uint64_t now)
{
	struct arp_iface_view ifv;
	view_list(v, NULL); /* JSON: one list of the entries of every interface */
	for (size_t i = 0; arp_engine_iface_at(e, i, &ifv) == 0; i++) {
		if (iface && strcmp(iface, ifv.name) != 0)
			continue;
		const struct arp_entry **ents;
		size_t n = collect(ifv.cache, &ents);
		view_linef(v, "ARP cache of iface %s", ifv.name);
		view_table(v, NULL, &arp_table, NULL);
		for (size_t k = 0; k < n; k++)
			arp_row(v, &ifv, ents[k], now);
		view_end(v);
		free(ents);
	}
	const char *name;
	const struct arp_counters *cnt;
	for (size_t i = 0; arp_engine_absent_at(e, i, &name, &cnt) == 0; i++)
		if (!iface || strcmp(iface, name) == 0)
			view_linef(v, "ARP cache of iface %s: its device is absent, no entries",
				   name);
	view_end(v);
}

/* The counters shown: all but the names that are no counter. */
static bool counter_shown(int c)
{
	const char *name = arp_counter_name((enum arp_counter)c);
	return name[0] != '?' && strcmp(name, "malformed_none") != 0;
}

static void counters(struct view *v, const struct arp_counters *cnt)
{
	for (int c = 0; c < AC__COUNT; c++)
		if (counter_shown(c))
			view_u64(v, arp_counter_name((enum arp_counter)c), cnt->v[c]);
}

/*
 * One interface of `arpha stats`; ifindex 0: its device is absent (no
 * cache). The device's name is the one it has now: it may have been renamed.
 */
static void stats_iface(struct view *v, const char *name, uint32_t ifindex, size_t entries,
			const struct arp_counters *cnt, bool first)
{
	bool absent = ifindex == 0;
	char dev[IF_NAMESIZE] = "?";
	if (!absent && !if_indextoname(ifindex, dev))
		strcpy(dev, "?");
	view_object(v, NULL);
	view_str(v, "interface", name);
	view_str(v, "state", absent ? "absent" : "present");
	if (!absent) {
		view_str(v, "device", dev);
		view_u64(v, "ifindex", ifindex);
	}
	view_u64(v, "entries", entries);
	if (!first)
		view_line(v, "");
	if (absent)
		view_line(v, "Interface {interface}: its device is absent");
	else if (entries == 1)
		view_line(v, "Interface {interface} (device {device}): {entries} entry");
	else
		view_line(v, "Interface {interface} (device {device}): {entries} entries");
	view_pairs(v, "counters", 2, 32); /* text: those that are not zero */
	counters(v, cnt);
	view_end(v);
	view_end(v);
}

void show_stats(struct view *v, const struct arp_engine *e, const struct show_kernel *k)
{
	struct arp_iface_view ifv;
	const char *name;
	const struct arp_counters *cnt;
	size_t n = 0;
	view_object(v, NULL);
	view_list(v, "interfaces");
	for (size_t i = 0; arp_engine_iface_at(e, i, &ifv) == 0; i++, n++)
		stats_iface(v, ifv.name, ifv.ifindex, arp_cache_count(ifv.cache), ifv.counters,
			    n == 0);
	for (size_t i = 0; arp_engine_absent_at(e, i, &name, &cnt) == 0; i++, n++)
		stats_iface(v, name, 0, 0, cnt, n == 0);
	view_end(v);
	if (k) {
		view_pairs(v, "kernel", 0, 0); /* text: a line for a failure count not zero */
		view_u64(v, "neighbour_errors", k->neigh_errors);
		view_u64(v, "send_errors", k->send_errors);
		view_end(v);
	}
	view_end(v);
}

/* One interface's counters as a log line: event=counters scope=iface ... */
static void log_iface(const char *name, bool present, size_t entries,
		      const struct arp_counters *cnt)
{
	struct view *v = view_new();
	if (!v)
		return;
	view_object(v, NULL);
	view_str(v, "event", "counters");
	view_str(v, "scope", "iface");
	view_str(v, "iface", name);
	view_str(v, "state", present ? "present" : "absent");
	view_u64(v, "entries", entries);
	counters(v, cnt);
	view_end(v);
	show_log(v);
	view_free(v);
}

void show_log_arp(const struct arp_engine *e)
{
	struct arp_iface_view ifv;
	const char *name;
	const struct arp_counters *cnt;
	for (size_t i = 0; arp_engine_iface_at(e, i, &ifv) == 0; i++)
		log_iface(ifv.name, true, arp_cache_count(ifv.cache), ifv.counters);
	for (size_t i = 0; arp_engine_absent_at(e, i, &name, &cnt) == 0; i++)
		log_iface(name, false, 0, cnt);
}

void show_log(const struct view *v)
{
	struct sbuf s;
	sbuf_init(&s);
	view_render(v, VIEW_KV, &s);
	if (!s.oom && s.s)
		log_line(LOGL_NOTICE, s.s);
	sbuf_free(&s);
}
