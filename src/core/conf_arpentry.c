/*
 * conf_arpentry: [ARPEntry], repeatable, one configured ARP mapping: a
 * static entry, or an address arphad answers for (Publish, XPublish).
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp_cache.h"

enum { E_IFACE, E_IP, E_MODE, E_MAC, E__COUNT };

static const char *const entry_modes[] = {"Static", "Publish", "XPublish", NULL};
static const uint32_t entry_mode_values[] = {ARP_STATIC, ARP_PUBLISH, ARP_XPUBLISH};
static const struct conf_enum_arg entry_mode_enum = {entry_modes, entry_mode_values};

/* IP=: a unicast host address. */
static int entry_ip(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_entry *e = obj;
	const char *why;
	if (ip4_parse(v, &e->ip) < 0)
		return conf_fail(p, p->line,
				 "%s: expected an IPv4 address such as 198.18.0.10, got \"%s\"",
				 k->name, v);
	if ((why = conf_ip_refusal(e->ip)))
		return conf_fail(p, p->line, "%s: %s is %s; expected a unicast host address",
				 k->name, v, why);
	return 0;
}

/* MAC=: a unicast MAC. */
static int entry_mac(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_entry *e = obj;
	if (conf_mac(p, k, obj, v) < 0)
		return -1;
	e->has_mac = true;
	return 0;
}

static const struct conf_key entry_keys[E__COUNT + 1] = {
    [E_IFACE] = {.name = "Interface",
		 .parse = conf_ifname,
		 CONF_FIELD(struct conf_entry, iface),
		 .arg = "the name of an [Interface] section",
		 .flags = CONF_LINE,
		 .line_off = offsetof(struct conf_entry, iface_line)},
    [E_IP] = {.name = "IP",
	      .parse = entry_ip,
	      CONF_FIELD(struct conf_entry, ip),
	      .flags = CONF_LINE,
	      .line_off = offsetof(struct conf_entry, ip_line)},
    [E_MODE] = {.name = "Mode",
		.parse = conf_enum,
		CONF_FIELD(struct conf_entry, mode),
		.arg = &entry_mode_enum},
    [E_MAC] = {.name = "MAC", .parse = entry_mac, CONF_FIELD(struct conf_entry, mac)},
};

static void *entry_begin(struct conf_parser *p, const char *name)
{
	struct conf_entry *e = conf_push(p, (void **)&p->c.entries, &p->c.n_entries,
					 &p->cap_entries, sizeof(*p->c.entries));
	if (e)
		e->line = p->line;
	return e;
}

static int entry_end(struct conf_parser *p, void *obj)
{
	const struct conf_entry *e = obj;
	for (size_t i = E_IFACE; i <= E_MODE; i++)
		if (!p->seen[i])
			return conf_fail(p, p->sect_line,
					 "[ARPEntry] has no %s=; every ARPEntry needs Interface=, "
					 "IP= and Mode=",
					 entry_keys[i].name);
	if (e->mode == ARP_STATIC && !e->has_mac)
		return conf_fail(
		    p, p->seen[E_MODE],
		    "[ARPEntry] with Mode=Static needs MAC= (the address to map the IP to)");
	return 0; /* a repeated address: conf_arpentry_check (sorted: many entries are cheap) */
}

const struct conf_section conf_arpentry_section = {
    .name = "ARPEntry",
    .usage = "ARPEntry",
    .repeatable = true,
    .keys = entry_keys,
    .begin = entry_begin,
    .end = entry_end,
};

/* An address of a VIP that an entry may not take: its own, or an edge of its network. */
struct vip_addr {
	const char *iface;
	uint32_t ip;
	const struct conf_vip *x;
	const char *why; /* NULL: the VIP's own address; else "the network address", ... */
};

static int vip_addr_cmp(const void *a, const void *b)
{
	const struct vip_addr *x = a, *y = b;
	int c = strcmp(x->iface, y->iface);
	if (c)
		return c;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	/* the VIP's own address first, then by line: the first VIP of the file says it */
	if ((x->why == NULL) != (y->why == NULL))
		return x->why == NULL ? -1 : 1;
	return x->x->line - y->x->line;
}

/* The first address of v[0..n-1] for iface and ip, or NULL. */
static const struct vip_addr *vip_addr_find(const struct vip_addr *v, size_t n, const char *iface,
					    uint32_t ip)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].iface, iface);
		if (c < 0 || (c == 0 && v[mid].ip < ip))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].ip == ip && strcmp(v[lo].iface, iface) == 0 ? &v[lo] : NULL;
}

/*
 * The VIPs' addresses and the edges of their networks, sorted (NULL with
 * *n 0 when there are none or memory is short: the check is then skipped).
 */
static struct vip_addr *vip_addrs(const struct conf_parser *p, size_t *n)
{
	*n = 0;
	struct vip_addr *v = p->c.n_vips ? calloc(3 * p->c.n_vips, sizeof(*v)) : NULL;
	if (!v)
		return NULL;
	for (size_t j = 0; j < p->c.n_vips; j++) {
		const struct conf_vip *x = &p->c.vips[j];
		if (conf_was_bad(p, x->line))
			continue;
		v[(*n)++] = (struct vip_addr){x->iface, x->addr.addr, x, NULL};
		if (x->addr.len > 30)
			continue;
		uint32_t mask = ip4_mask(x->addr.len), net = x->addr.addr & mask;
		v[(*n)++] = (struct vip_addr){x->iface, net, x, "the network address"};
		v[(*n)++] = (struct vip_addr){x->iface, net | ~mask, x, "the broadcast address"};
	}
	qsort(v, *n, sizeof(*v), vip_addr_cmp);
	return v;
}

/* An ARP entry against the VIPs on its interface. */
static void check_vips(struct conf_parser *p, const struct conf_entry *e, const struct vip_addr *v,
		       size_t n)
{
	static const char *const modes[] = {
	    [ARP_STATIC] = "Static", [ARP_PUBLISH] = "Publish", [ARP_XPUBLISH] = "XPublish"};
	char ip[IP4_STRLEN], net[IP4_STRLEN];
	const struct vip_addr *a = vip_addr_find(v, n, e->iface, e->ip);
	if (!a)
		return;
	const struct conf_vip *x = a->x;
	const char *mode =
	    e->mode < sizeof(modes) / sizeof(modes[0]) && modes[e->mode] ? modes[e->mode] : "?";
	if (!a->why)
		conf_fail(p, e->ip_line,
			  "[ARPEntry] IP=%s (Mode=%s) on %s is the address of [VIP %s] "
			  "(line %d): the VIP's owner answers for it with its own MAC; "
			  "remove the entry",
			  ip4_fmt(e->ip, ip), mode, e->iface, x->name, x->line);
	else
		conf_fail(p, e->ip_line,
			  "[ARPEntry] IP=%s on %s is %s of %s/%u, the network of [VIP %s] "
			  "(line %d); expected a host address",
			  ip4_fmt(e->ip, ip), e->iface, a->why,
			  ip4_fmt(x->addr.addr & ip4_mask(x->addr.len), net), x->addr.len, x->name,
			  x->line);
}

static int entry_ptr_cmp(const void *a, const void *b)
{
	const struct conf_entry *x = *(const struct conf_entry *const *)a,
				*y = *(const struct conf_entry *const *)b;
	int c = strcmp(x->iface, y->iface);
	if (c)
		return c;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->line - y->line;
}

/*
 * An address given twice on one interface: each later entry repeats the
 * first (dup[i] set for it). Sorted, so 10,000 entries cost no more than
 * reading them.
 */
static void check_repeats(struct conf_parser *p, bool *dup)
{
	const struct config *c = &p->c;
	const struct conf_entry **v = calloc(c->n_entries ? c->n_entries : 1, sizeof(*v));
	if (!v)
		return;
	size_t n = 0;
	for (size_t i = 0; i < c->n_entries; i++)
		if (!conf_was_bad(p, c->entries[i].line))
			v[n++] = &c->entries[i];
	qsort(v, n, sizeof(*v), entry_ptr_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (v[i]->ip != v[first]->ip || strcmp(v[i]->iface, v[first]->iface) != 0) {
			first = i;
			continue;
		}
		char ip[IP4_STRLEN];
		conf_fail(p, v[i]->ip_line,
			  "[ARPEntry] for %s on %s repeats the one at line %d; give "
			  "each address one entry per interface",
			  ip4_fmt(v[i]->ip, ip), v[i]->iface, v[first]->line);
		dup[v[i] - c->entries] = true;
	}
	free(v);
}

/* The entries of each interface against its CacheSize=: they live in its cache, never evicted. */
static void check_cache_size(struct conf_parser *p)
{
	const struct config *c = &p->c;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		uint32_t n = 0;
		for (size_t j = 0; j < c->n_entries; j++) {
			const struct conf_entry *e = &c->entries[j];
			if (conf_was_bad(p, e->line) || strcmp(e->iface, c->ifaces[i].name) != 0)
				continue;
			if (++n > c->arp.cache_size) {
				char ip[IP4_STRLEN];
				conf_fail(
				    p, e->iface_line,
				    "[ARPEntry] for %s is entry %u on %s, more than "
				    "CacheSize=%u holds: an interface's cache holds its ARP "
				    "entries and what it learns; raise CacheSize= in [ARP] or "
				    "remove entries",
				    ip4_fmt(e->ip, ip), n, e->iface, c->arp.cache_size);
				break;
			}
		}
	}
}

void conf_arpentry_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	bool *dup = calloc(c->n_entries ? c->n_entries : 1, sizeof(*dup));
	if (dup)
		check_repeats(p, dup);
	size_t nv = 0;
	struct vip_addr *va = vip_addrs(p, &nv);
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct conf_entry *e = &c->entries[i];
		if (conf_was_bad(p, e->line) || (dup && dup[i]))
			continue;
		if (!config_iface(c, e->iface)) {
			conf_fail(p, e->iface_line,
				  "[ARPEntry] Interface=%s: there is no [Interface %s]", e->iface,
				  e->iface);
			continue;
		}
		check_vips(p, e, va, nv);
	}
	free(va);
	free(dup);
	check_cache_size(p);
}
