/*
 * conf_vip: [VIP NAME], repeatable: an address one node of the cluster
 * holds at a time (see core/vip.h), and how its moves are announced; or,
 * with Mode=active-active, an address every node holds at once, answered
 * with a group MAC ([Balance] splits its connections).
 */
#include "conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


enum {
	V_ADDR,
	V_IFACE,
	V_PRIO,
	V_PREEMPT,
	V_PDELAY,
	V_TRACK,
	V_VMAC,
	V_VRID,
	V_GROUP,
	V_ANNOUNCE,
	V_ACOUNT,
	V_AIVL,
	V_REFRESH,
	V_FLUSH,
	V_NOTIFY,
	V_MODE,
	V_CMAC,
	V_CHECKS,
	V__COUNT
};

#define VIP_NAME_RULE "1 to 31 characters from A-Z a-z 0-9 _ . : -"

/* Names of VIPs and groups: as interface names, up to 31 characters. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.:-", *s))
			return false;
	return true;
}

/* Address=: a unicast address inside its network, with the prefix length. */
static int vip_address(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_vip *x = obj;
	const char *why = NULL;
	if (ip4_prefix_parse(v, true, &x->addr) < 0 || x->addr.len < 8 ||
	    (why = conf_ip_refusal(x->addr.addr)))
		return conf_fail(p, p->line,
				 "%s: \"%s\" is %s; expected an IPv4 address with its prefix "
				 "length (/8 to /32), such as 198.18.0.100/24",
				 k->name, v, why ? why : "not an address with a prefix length");
	if ((why = conf_edge_address(&x->addr))) {
		char a[IP4_STRLEN], h[IP4_STRLEN];
		uint32_t net = x->addr.addr & ip4_mask(x->addr.len);
		return conf_fail(p, p->line,
				 "%s: %s is %s of %s/%u, which no host may hold; expected an "
				 "address inside the network, such as %s/%u",
				 k->name, v, why, ip4_fmt(net, a), x->addr.len, ip4_fmt(net + 1, h),
				 x->addr.len);
	}
	return 0;
}

/* TrackInterface=: devices, each with the line it is on; a list. */
static int vip_track(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_vip *x = obj;
	struct conf_words s = {v, false};
	size_t before = x->n_track, len;
	const char *w;
	int r;
	while ((r = conf_next_word(&s, &w, &len)) > 0) {
		char name[CONF_IFNAMSIZ] = "";
		if (len < sizeof(name))
			memcpy(name, w, len);
		if (len >= sizeof(name) || !conf_valid_ifname(name))
			return conf_fail(p, p->line,
					 "%s: \"%.*s\" is not a device name; expected %s", k->name,
					 (int)len, w, CONF_NAME_RULE);
		for (size_t t = 0; t < x->n_track; t++)
			if (strcmp(x->track[t], name) == 0)
				return conf_fail(p, p->line, "%s: %s is listed twice", k->name,
						 name);
		if (x->n_track == CONF_MAX_TRACK)
			return conf_fail(p, p->line, "%s: more than %d devices", k->name,
					 CONF_MAX_TRACK);
		x->track_line[x->n_track] = p->line;
		snprintf(x->track[x->n_track++], CONF_IFNAMSIZ, "%s", name);
	}
	if (r < 0)
		return conf_empty_item(p, k->name, v);
	if (x->n_track == before)
		return conf_fail(p, p->line, "%s: expected device names", k->name);
	return 0;
}

/* Track=: [Track] names, each NAME or NAME:WEIGHT (0..253; 0, the default: fault); a list. */
static int vip_checks(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_vip *x = obj;
	struct conf_words s = {v, false};
	size_t before = x->n_checks, len;
	const char *w;
	int r;
	while ((r = conf_next_word(&s, &w, &len)) > 0) {
		const char *colon = memchr(w, ':', len);
		size_t nl = colon ? (size_t)(colon - w) : len;
		unsigned weight = 0;
		if (colon) {
			size_t dl = len - nl - 1;
			bool ok = dl > 0 && dl <= 3;
			for (size_t i = 0; ok && i < dl; i++) {
				ok = isdigit((unsigned char)colon[1 + i]);
				weight = weight * 10 + (unsigned)(colon[1 + i] - '0');
			}
			if (!ok || weight > 253)
				return conf_fail(
				    p, p->line,
				    "%s: \"%.*s\": expected NAME or NAME:WEIGHT with a "
				    "weight from 0 to 253 (the priority a failure takes "
				    "off; 0: fault)",
				    k->name, (int)len, w);
		}
		if (!conf_valid_track_name(w, nl))
			return conf_fail(p, p->line,
					 "%s: \"%.*s\" is not a check name; expected the name of a "
					 "[Track] section",
					 k->name, (int)nl, w);
		for (size_t t = 0; t < x->n_checks; t++)
			if (strlen(x->checks[t]) == nl && !memcmp(x->checks[t], w, nl))
				return conf_fail(p, p->line, "%s: %.*s is listed twice", k->name,
						 (int)nl, w);
		if (x->n_checks == CONF_MAX_CHECKS)
			return conf_fail(p, p->line, "%s: more than %d checks", k->name,
					 CONF_MAX_CHECKS);
		if (!x->checks_line)
			x->checks_line = p->line;
		memcpy(x->checks[x->n_checks], w, nl);
		x->checks[x->n_checks][nl] = '\0';
		x->check_weight[x->n_checks++] = (uint8_t)weight;
	}
	if (r < 0)
		return conf_empty_item(p, k->name, v);
	if (x->n_checks == before)
		return conf_fail(p, p->line, "%s: expected [Track] names", k->name);
	return 0;
}

/* Group=: the name of the VIPs that move together. */
static int vip_group(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_vip *x = obj;
	if (!valid_name(v))
		return conf_fail(p, p->line, "%s: \"%s\" is not a group name; expected %s", k->name,
				 v, VIP_NAME_RULE);
	snprintf(x->group, sizeof(x->group), "%s", v);
	return 0;
}

/* ClusterMAC=: a group MAC, not the broadcast address. */
static int vip_cluster_mac(struct conf_parser *p, const struct conf_key *k, void *obj,
			   const char *v)
{
	struct conf_vip *x = obj;
	if (mac_parse(v, &x->cluster_mac) < 0)
		return conf_fail(p, p->line,
				 "%s: expected a MAC address such as 03:00:5e:00:01:0a or "
				 "03-00-5e-00-01-0a, got \"%s\"",
				 k->name, v);
	if (!mac_is_multicast(&x->cluster_mac))
		return conf_fail(p, p->line,
				 "%s: expected a group MAC (first byte odd, such as "
				 "03:00:5e:00:01:0a), not the broadcast address, got \"%s\"",
				 k->name, v);
	return 0;
}

static const char *const mode_words[] = {"active-passive", "active-active", NULL};
static const uint32_t mode_values[] = {VIP_MODE_ACTIVE_PASSIVE, VIP_MODE_ACTIVE_ACTIVE};
static const struct conf_enum_arg mode_enum = {mode_words, mode_values};

static const char *const announce_words[] = {"garp", "vmac", "targeted", "flush", NULL};
static const struct conf_flags_arg announce_flags = {announce_words, "a method"};

#define VIP_FIELD(field) CONF_FIELD(struct conf_vip, field)
#define VIP_LINE(field)	 .flags = CONF_LINE, .line_off = offsetof(struct conf_vip, field)

static const struct conf_key vip_keys[V__COUNT + 1] = {
    [V_ADDR] = {.name = "Address", .parse = vip_address, VIP_FIELD(addr), VIP_LINE(addr_line)},
    [V_IFACE] = {.name = "Interface",
		 .parse = conf_ifname,
		 VIP_FIELD(iface),
		 .arg = "the name of an [Interface] section",
		 VIP_LINE(iface_line)},
    [V_PRIO] = {.name = "Priority", .parse = conf_uint, VIP_FIELD(priority), .min = 1, .max = 254},
    [V_PREEMPT] = {.name = "Preempt", .parse = conf_bool, VIP_FIELD(preempt)},
    [V_PDELAY] = {.name = "PreemptDelay",
		  .parse = conf_duration,
		  VIP_FIELD(preempt_delay_ms),
		  .max = 3600000,
		  .arg = "0, 500ms, 30s or 5m"},
    [V_TRACK] = {.name = "TrackInterface",
		 .parse = vip_track,
		 VIP_FIELD(track),
		 .flags = CONF_LIST},
    [V_VMAC] = {.name = "VirtualMAC", .parse = conf_bool, VIP_FIELD(vmac)},
    [V_VRID] = {.name = "VRID", .parse = conf_uint, VIP_FIELD(vrid), .min = 1, .max = 255},
    [V_GROUP] = {.name = "Group", .parse = vip_group, VIP_FIELD(group)},
    [V_ANNOUNCE] = {.name = "Announce",
		    .parse = conf_flags,
		    VIP_FIELD(announce),
		    .arg = &announce_flags,
		    .flags = CONF_LIST},
    [V_ACOUNT] = {.name = "AnnounceCount",
		  .parse = conf_uint,
		  VIP_FIELD(announce_count),
		  .min = 0,
		  .max = 100},
    [V_AIVL] = {.name = "AnnounceInterval",
		.parse = conf_duration,
		VIP_FIELD(announce_interval_ms),
		.min = 1,
		.max = 60000,
		.arg = "100ms"},
    [V_REFRESH] = {.name = "RefreshInterval",
		   .parse = conf_duration,
		   VIP_FIELD(refresh_interval_ms),
		   .min = 100,
		   .max = 86400000,
		   .arg = "30s, 10m or 1h",
		   .flags = CONF_OFF},
    [V_FLUSH] = {.name = "FlushHosts",
		 .parse = conf_addr_list,
		 VIP_FIELD(flush_hosts),
		 .count_off = offsetof(struct conf_vip, n_flush_hosts),
		 .arg = "unicast IPv4 addresses",
		 .flags = CONF_LIST | CONF_LINE,
		 .line_off = offsetof(struct conf_vip, flush_line)},
    [V_NOTIFY] = {.name = "NotifyScript",
		  .parse = conf_command,
		  VIP_FIELD(notify),
		  VIP_LINE(notify_line)},
    [V_MODE] = {.name = "Mode",
		.parse = conf_enum,
		VIP_FIELD(mode),
		.arg = &mode_enum,
		VIP_LINE(mode_line)},
    [V_CMAC] = {.name = "ClusterMAC", .parse = vip_cluster_mac, VIP_FIELD(cluster_mac)},
    [V_CHECKS] = {.name = "Track", .parse = vip_checks, VIP_FIELD(checks), .flags = CONF_LIST},
};

/* The keys of an active-passive VIP alone: its owner, and how a move is announced. */
static const int passive_only[] = {V_PRIO,  V_PREEMPT,	V_PDELAY, V_TRACK, V_VMAC,
				   V_GROUP, V_ANNOUNCE, V_ACOUNT, V_AIVL,  V_REFRESH,
				   V_FLUSH, V_NOTIFY,	V_CHECKS};

/* ---- the names read so far: a file of 1000 VIPs is read as fast as one of ten ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The [VIP] read so far with this name, or NULL. */
static const struct conf_vip *vip_named(const struct conf_parser *p, const char *name)
{
	if (!p->cap_vip_names)
		return NULL;
	size_t mask = p->cap_vip_names - 1;
	for (size_t at = name_hash(name) & mask;; at = (at + 1) & mask) {
		uint32_t k = p->vip_names[at];
		if (!k)
			return NULL;
		if (strcmp(p->c.vips[k - 1].name, name) == 0)
			return &p->c.vips[k - 1];
	}
}

static void vip_names_add(struct conf_parser *p, const char *name, size_t idx)
{
	size_t mask = p->cap_vip_names - 1;
	size_t at = name_hash(name) & mask;
	while (p->vip_names[at])
		at = (at + 1) & mask;
	p->vip_names[at] = (uint32_t)idx + 1;
}

/* Room for one more name (at most half full). 0, or -1 (ENOMEM). */
static int vip_names_room(struct conf_parser *p)
{
	if (2 * (p->c.n_vips + 1) <= p->cap_vip_names)
		return 0;
	size_t cap = p->cap_vip_names ? 2 * p->cap_vip_names : 64;
	uint32_t *v = calloc(cap, sizeof(*v));
	if (!v)
		return -1;
	uint32_t *old = p->vip_names;
	p->vip_names = v;
	p->cap_vip_names = cap;
	for (size_t i = 0; i < p->c.n_vips; i++)
		vip_names_add(p, p->c.vips[i].name, i);
	free(old);
	return 0;
}

static void *vip_begin(struct conf_parser *p, const char *name)
{
	if (!valid_name(name)) {
		conf_fail(p, p->line, "[VIP %s]: \"%s\" is not a VIP name; expected %s", name, name,
			  VIP_NAME_RULE);
		return NULL;
	}
	const struct conf_vip *dup = vip_named(p, name);
	if (dup) {
		conf_fail(p, p->line,
			  "duplicate section [VIP %s]; the first is at line %d; give each "
			  "VIP one section",
			  name, dup->line);
		return NULL;
	}
	if (vip_names_room(p) < 0) {
		conf_fail(p, p->line, "out of memory");
		return NULL;
	}
	struct conf_vip *x =
	    conf_push(p, (void **)&p->c.vips, &p->c.n_vips, &p->cap_vips, sizeof(*p->c.vips));
	if (!x)
		return NULL;
	vip_names_add(p, name, p->c.n_vips - 1);
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->group, sizeof(x->group), "%s", name);
	x->priority = 100;
	x->preempt = true;
	x->announce_count = 3;
	x->announce_interval_ms = 100;
	x->line = p->line;
	return x;
}

/* Announce=, or its default: every method that applies. 0 or -1. */
static int vip_end_announce(struct conf_parser *p, struct conf_vip *x)
{
	if (!p->seen[V_ANNOUNCE]) {
		x->announce = ANN_GARP | ANN_TARGETED;
		if (x->vmac)
			x->announce |= ANN_VMAC;
		if (x->n_flush_hosts)
			x->announce |= ANN_FLUSH;
	}
	if ((x->announce & ANN_VMAC) && !x->vmac)
		return conf_fail(p, p->seen[V_ANNOUNCE],
				 "Announce: vmac needs VirtualMAC=yes in [VIP %s]", x->name);
	if ((x->announce & ANN_FLUSH) && !x->n_flush_hosts)
		return conf_fail(p, p->seen[V_ANNOUNCE],
				 "Announce: flush needs FlushHosts= in [VIP %s]", x->name);
	return 0;
}

/*
 * An active-active VIP: no key of passive_only, and its cluster MAC,
 * given or 03:00:5e:00:01:VRID. Every mistake is recorded. 0 or -1.
 */
static int vip_end_active(struct conf_parser *p, struct conf_vip *x)
{
	int r = 0;
	for (size_t i = 0; i < sizeof(passive_only) / sizeof(passive_only[0]); i++)
		if (p->seen[passive_only[i]])
			r = conf_fail(p, p->seen[passive_only[i]],
				      "%s: does not apply to Mode=active-active (every node holds "
				      "the address; [Balance] splits the connections); remove it "
				      "from [VIP %s]",
				      vip_keys[passive_only[i]].name, x->name);
	if (p->seen[V_CMAC] && p->seen[V_VRID])
		r = conf_fail(p, p->seen[V_VRID],
			      "VRID: set with ClusterMAC= in [VIP %s]; with Mode=active-active "
			      "VRID only chooses the default cluster MAC 03:00:5e:00:01:VRID, so "
			      "remove one of them",
			      x->name);
	else if (!p->seen[V_CMAC] && !p->seen[V_VRID])
		r = conf_fail(p, x->mode_line,
			      "Mode=active-active needs ClusterMAC= or VRID= in [VIP %s] (the "
			      "default cluster MAC is 03:00:5e:00:01:VRID)",
			      x->name);
	else if (!p->seen[V_CMAC])
		x->cluster_mac = (struct mac){{0x03, 0x00, 0x5e, 0x00, 0x01, x->vrid}};
	x->announce = 0; /* no method applies */
	return r;
}

static int vip_end(struct conf_parser *p, void *obj)
{
	struct conf_vip *x = obj;
	if (!p->seen[V_ADDR])
		return conf_fail(p, p->sect_line,
				 "[VIP %s] has no Address=; expected the address and its prefix "
				 "length, such as Address=198.18.0.100/24",
				 x->name);
	if (!p->seen[V_IFACE])
		return conf_fail(p, p->sect_line,
				 "[VIP %s] has no Interface=; expected the [Interface] the address "
				 "lives on",
				 x->name);
	if (x->mode == VIP_MODE_ACTIVE_ACTIVE)
		return vip_end_active(p, x);
	if (p->seen[V_CMAC])
		return conf_fail(p, p->seen[V_CMAC],
				 "ClusterMAC: applies only to Mode=active-active, and [VIP %s] is "
				 "active-passive%s; add Mode=active-active or remove ClusterMAC=",
				 x->name, p->seen[V_MODE] ? "" : " (the default)");
	if (x->vmac && !x->vrid)
		return conf_fail(p, p->seen[V_VMAC],
				 "[VIP %s] has VirtualMAC=yes but no VRID=; the virtual MAC is "
				 "00:00:5e:00:01:VRID, so give a VRID from 1 to 255",
				 x->name);
	if (p->seen[V_VRID] && !x->vmac)
		return conf_fail(p, p->seen[V_VRID],
				 "VRID: set without VirtualMAC=yes in [VIP %s]; VRID only chooses "
				 "the virtual MAC 00:00:5e:00:01:VRID, so add VirtualMAC=yes or "
				 "remove VRID=",
				 x->name);
	return vip_end_announce(p, x);
}

const struct conf_section conf_vip_section = {
    .name = "VIP",
    .usage = "VIP NAME",
    .named = true,
    .repeatable = true,
    .keys = vip_keys,
    .begin = vip_begin,
    .end = vip_end,
};

/*
 * What the VIPs read so far (those of sections without an error) tell of
 * the next one, so that each VIP is checked against all before it at the
 * cost of a look-up: an open hash of their addresses (the first VIP of
 * each) and one of their groups (the first member, the first of each
 * Mode=, the first whose priority settings differ from the first's); the
 * VirtualMAC VIPs in a list.
 */
struct pair_index {
	struct addr_slot {
		uint32_t addr;
		uint32_t idx; /* + 1; 0: free */
	} * addrs;
	struct group_slot {
		uint32_t first;	  /* + 1; 0: free */
		uint32_t mode[2]; /* the first of each Mode= (+ 1, 0: none) */
		uint32_t other;	  /* the first whose priority settings are not first's (+ 1) */
	} * groups;
	size_t cap; /* of each hash: a power of 2, at least twice the VIPs */
	uint32_t *vmacs;
	size_t n_vmacs;
};

static bool same_owner_rule(const struct conf_vip *a, const struct conf_vip *b)
{
	return a->priority == b->priority && a->preempt == b->preempt &&
	       a->preempt_delay_ms == b->preempt_delay_ms;
}

static struct addr_slot *addr_slot(struct pair_index *x, uint32_t addr)
{
	size_t mask = x->cap - 1;
	size_t at = (size_t)((addr * 2654435761u) & mask);
	while (x->addrs[at].idx && x->addrs[at].addr != addr)
		at = (at + 1) & mask;
	return &x->addrs[at];
}

static struct group_slot *group_slot(struct pair_index *x, const struct config *c,
				     const char *group)
{
	size_t mask = x->cap - 1;
	size_t at = name_hash(group) & mask;
	while (x->groups[at].first && strcmp(c->vips[x->groups[at].first - 1].group, group) != 0)
		at = (at + 1) & mask;
	return &x->groups[at];
}

/*
 * VIP i against the VIPs before it: the first conflict, as a pass over
 * them in file order would find it (the earliest VIP; at one VIP: address,
 * VRID, Mode=, priority settings, in that order), is reported.
 */
static void check_pairs(struct conf_parser *p, struct pair_index *ix, size_t i)
{
	const struct config *c = &p->c;
	const struct conf_vip *x = &c->vips[i];
	enum { K_ADDR, K_VRID, K_MODE, K_PRIO, K__COUNT };
	uint32_t at[K__COUNT] = {0}; /* the earliest VIP of each conflict, + 1 */
	const struct addr_slot *as = addr_slot(ix, x->addr.addr);
	at[K_ADDR] = as->idx;
	if (x->vmac)
		for (size_t k = 0; k < ix->n_vmacs && !at[K_VRID]; k++) {
			const struct conf_vip *y = &c->vips[ix->vmacs[k]];
			if (x->vrid == y->vrid && strcmp(x->iface, y->iface) == 0 &&
			    strcmp(x->group, y->group) != 0)
				at[K_VRID] = ix->vmacs[k] + 1;
		}
	const struct group_slot *g = group_slot(ix, c, x->group);
	if (g->first) {
		at[K_MODE] = g->mode[x->mode == VIP_MODE_ACTIVE_ACTIVE ? 0 : 1];
		at[K_PRIO] = !same_owner_rule(&c->vips[g->first - 1], x) ? g->first : g->other;
	}
	int kind = -1;
	for (int k = 0; k < K__COUNT; k++)
		if (at[k] && (kind < 0 || at[k] < at[kind]))
			kind = k;
	if (kind < 0)
		return;
	const struct conf_vip *y = &c->vips[at[kind] - 1];
	if (kind == K_ADDR) {
		conf_fail(p, x->addr_line, "[VIP %s] has the address of [VIP %s] at line %d",
			  x->name, y->name, y->line);
	} else if (kind == K_VRID) {
		conf_fail(p, x->line,
			  "[VIP %s] uses VRID %u on %s, as [VIP %s] at line %d does in "
			  "another group; a virtual MAC can follow one owner only",
			  x->name, x->vrid, x->iface, y->name, y->line);
	} else if (kind == K_MODE) {
		/* only the active-passive one can have said Group= */
		const struct conf_vip *aa = x->mode == VIP_MODE_ACTIVE_ACTIVE ? x : y;
		const struct conf_vip *ap = aa == x ? y : x;
		conf_fail(p, x->line,
			  "[VIP %s] (line %d) has Group=%s, the name of [VIP %s] (line "
			  "%d), which is active-active and in no group; give the group "
			  "another name",
			  ap->name, ap->line, ap->group, aa->name, aa->line);
	} else {
		conf_fail(p, x->line,
			  "[VIP %s] is in group %s with [VIP %s] (line %d) but has another "
			  "Priority=, Preempt= or PreemptDelay=; a group has one owner, so "
			  "give its VIPs the same",
			  x->name, x->group, y->name, y->line);
	}
}

/* VIP i (of a section without an error) goes into the index, for the VIPs after it. */
static void pair_index_add(struct pair_index *ix, const struct config *c, size_t i)
{
	const struct conf_vip *x = &c->vips[i];
	struct addr_slot *as = addr_slot(ix, x->addr.addr);
	if (!as->idx)
		*as = (struct addr_slot){x->addr.addr, (uint32_t)i + 1};
	if (x->vmac)
		ix->vmacs[ix->n_vmacs++] = (uint32_t)i;
	struct group_slot *g = group_slot(ix, c, x->group);
	if (!g->first)
		g->first = (uint32_t)i + 1;
	uint32_t *m = &g->mode[x->mode == VIP_MODE_ACTIVE_ACTIVE ? 1 : 0];
	if (!*m)
		*m = (uint32_t)i + 1;
	if (!g->other && !same_owner_rule(&c->vips[g->first - 1], x))
		g->other = (uint32_t)i + 1;
}

void conf_vip_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	struct pair_index ix = {0};
	ix.cap = 64;
	while (ix.cap < 2 * c->n_vips)
		ix.cap *= 2;
	ix.addrs = calloc(ix.cap, sizeof(*ix.addrs));
	ix.groups = calloc(ix.cap, sizeof(*ix.groups));
	ix.vmacs = calloc(c->n_vips ? c->n_vips : 1, sizeof(*ix.vmacs));
	if (!ix.addrs || !ix.groups || !ix.vmacs)
		conf_fail(p, 0, "out of memory");
	for (size_t i = 0; i < c->n_vips; i++) {
		const struct conf_vip *x = &c->vips[i];
		if (conf_was_bad(p, x->line))
			continue;
		if (!c->cluster.present)
			conf_fail(p, x->line, "[VIP %s] needs a [Cluster] section: %s", x->name,
				  x->mode == VIP_MODE_ACTIVE_ACTIVE
				      ? "its connections are split among the nodes of a cluster"
				      : "ownership is decided among the nodes of a cluster");
		if (!config_iface(c, x->iface))
			conf_fail(p, x->iface_line,
				  "[VIP %s] Interface=%s: there is no [Interface %s]", x->name,
				  x->iface, x->iface);
		if (x->n_flush_hosts && !c->flush.present)
			conf_fail(p, x->flush_line,
				  "[VIP %s] has FlushHosts= but there is no [Flush] section with "
				  "the key to sign the requests",
				  x->name);
		if (ix.addrs && ix.groups && ix.vmacs) {
			check_pairs(p, &ix, i);
			pair_index_add(&ix, c, i);
		}
	}
	free(ix.addrs);
	free(ix.groups);
	free(ix.vmacs);
}
