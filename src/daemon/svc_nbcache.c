/*
 * svc_nbcache: the neighbour cache, who is on each managed link (seed 001,
 * 3.5.5 and 3.5.6). One core/nbtable fed by the ARP engine's accepted
 * mappings (DEV_NEIGH), the kernel's confirmed neighbours (DEV_KNEIGH) and
 * the DHCP client messages read on every managed interface (os/dhcpsock,
 * core/dhcpsnoop); each device named by the IEEE registry (os/vendor) and
 * identified by core/devtype. The cluster shares the table over reliable
 * broadcast (core/nbsync): what this node saw goes out once a second, and
 * a whole dump to a node that joins or lost our messages. Other services
 * read it through host_nbcache (failover's targeted ARP).
 *
 * It runs whenever arphad does: [Neighbors] only tunes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/devtype.h"
#include "core/dhcpsnoop.h"
#include "core/nbsync.h"
#include "core/nbtable.h"
#include "core/oui.h"
#include "daemon/host.h"
#include "daemon/svc.h"
#include "os/devtypes_builtin.h"
#include "os/dhcpsock.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/util.h"
#include "os/vendor.h"
#include "os/view.h"

#define SYNC_INTERVAL_MS 1000 /* what we saw goes to the cluster this often, */
#define SYNC_NEW_MS	 20   /* a device new to us this soon (a takeover must reach it) */
#define DUMP_INTERVAL_MS 10   /* a dump goes out in steps this far apart ... */
#define DUMP_MSGS	 32   /* ... of this many messages */
#define DEVTYPES_MAX	 (4u << 20)
#define SNOOP_PAUSE_MS	 100   /* a socket over SnoopRateLimit= is not read for this long */
#define SNOOP_WARN_MS	 60000 /* and says so at most this often */

struct nbcache;

/* The DHCP socket of one managed interface. */
struct snoop {
	struct nbcache *c;
	uint32_t ifindex;
	struct dhcpsock *s;
	struct loop_watch *w[DHCPSOCK_FDS];
	uint64_t drops; /* the socket's, up to its last reopening */
	/* SnoopRateLimit=: a bucket of messages, refilled at the rate, as deep */
	double tokens;
	uint64_t refilled_at;
	uint64_t paused_until; /* not read until then (0: read) */
	uint64_t pauses, warned_at;
};

struct nbkey {
	char iface[NBT_IFNAMSIZ];
	struct mac mac;
};

struct nbcache {
	struct host *h;
	const struct config *cfg;
	struct nbtable *t;
	struct devtype_db *db;
	struct oui_db *oui; /* NULL: the registry could not be read (logged once) */
	uint32_t self_id;
	bool cluster;

	struct snoop *sn; /* one per managed interface, in host_iface_at's order */
	size_t n_sn;
	struct dhcp_info info;			    /* scratch for the frame being read (1.5 KB) */
	struct nbt_record recs[NBSYNC_MAX_RECORDS]; /* scratch for a message read */
	const char *snoop_iface;

	/* sync */
	bool dirty;	    /* we saw something since the last update */
	uint64_t synced_at; /* the last update went out: what we saw since goes next */
	uint64_t next_sync; /* the next update is due */
	struct nbkey *dump; /* the entries of the running dump, NULL: none */
	size_t n_dump, at_dump;
	uint32_t generation; /* of the running (or last) dump */
	uint16_t part;
	bool dump_again; /* asked for while one runs */
	uint64_t next_dump;

	/* counters */
	uint64_t dhcp_messages, dhcp_malformed, dhcp_why[DR__COUNT];
	uint64_t identified;
	uint64_t sync_sent, sync_records_sent, dumps_sent, requests_sent;
	uint64_t sync_received, sync_records_received, sync_refused, sync_bad[NBS__COUNT];
	uint64_t broadcast_errors;
};

/* ---- what the cache learns ---- */

static const char *cfg_name(const struct nbcache *c, const struct mac *mac)
{
	for (size_t i = 0; i < c->cfg->n_hosts; i++)
		if (mac_eq(&c->cfg->hosts[i].mac, mac))
			return c->cfg->hosts[i].name;
	return "";
}

/* Copy the text s into a field of cap bytes, cut short when longer (ASCII: dhcpsnoop, devtype). */
static void cut(char *dst, size_t cap, const char *s)
{
	size_t n = strnlen(s, cap - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The vendor: the IEEE registry's name for the MAC's block ("" for none). */
static void name_vendor(struct nbcache *c, const struct nbt_record *e)
{
	struct oui_match om;
	if (!c->oui || e->vendor[0] || oui_lookup(c->oui, &e->mac, &om) < 0)
		return;
	nbt_set_vendor(c->t, e, om.org);
}

/*
 * What e is, from its DHCP facts, MAC and vendor; a changed answer is
 * written to the entry and logged as the seed does.
 */
static void identify(struct nbcache *c, const struct nbt_record *e)
{
	name_vendor(c, e);
	struct devtype_input in = {
	    .prl = e->dhcp.prl_len ? e->dhcp.prl : NULL,
	    .prl_len = e->dhcp.prl_len,
	    .vendor = e->dhcp.vendor_class[0] ? e->dhcp.vendor_class : NULL,
	    .host = e->dhcp.hostname[0] ? e->dhcp.hostname : NULL,
	    .oui_org = e->vendor[0] ? e->vendor : NULL,
	    .mac = e->mac.a,
	};
	struct devtype_result r;
	if (devtype_match(c->db, &in, &r) < 0 || r.confidence == 0)
		return;
	const char *type = r.type == DEVTYPE_UNKNOWN ? "" : devtype_type_name(r.type);
	char os[NBT_DEV_LEN], brand[NBT_DEV_LEN];
	cut(os, sizeof(os), r.os);
	cut(brand, sizeof(brand), r.brand);
	if (strcmp(type, e->type) == 0 && strcmp(os, e->os) == 0 && strcmp(brand, e->brand) == 0 &&
	    r.confidence == e->confidence)
		return;
	bool news =
	    strcmp(type, e->type) != 0 || strcmp(os, e->os) != 0 || strcmp(brand, e->brand) != 0;
	if (nbt_set_device(c->t, e, type, os, brand, r.confidence) < 0 || !news)
		return;
	c->identified++;
	char mac[MAC_STRLEN], ip[IP4_STRLEN], q[5][160];
	log_info("event=device_identified if=%s hostname=%s srcmac=%s device_ip4=%s "
		 "device_type=%s device_os_name=%s device_vendor=%s device_brand=%s "
		 "confidence=%u",
		 e->iface, log_quote(e->dhcp.hostname, q[0], sizeof(q[0])), mac_fmt(&e->mac, mac),
		 e->n_ip4 ? ip4_fmt(e->ip4[0], ip) : "0.0.0.0",
		 log_quote(e->type[0] ? e->type : "unknown", q[1], sizeof(q[1])),
		 log_quote(e->os, q[2], sizeof(q[2])), log_quote(e->vendor, q[3], sizeof(q[3])),
		 log_quote(e->brand, q[4], sizeof(q[4])), e->confidence);
}

/*
 * Something we saw changed the table: an update is due a second after the
 * last one, or, for a device new to the table (fresh: the peers' targeted
 * ARP cannot reach it yet), SYNC_NEW_MS after it.
 */
static void changed(struct nbcache *c, bool fresh)
{
	if (!c->cluster)
		return;
	uint64_t now = host_now(c->h);
	uint64_t due = c->synced_at + (fresh ? SYNC_NEW_MS : SYNC_INTERVAL_MS);
	if (due < now)
		due = now;
	if (!c->dirty || due < c->next_sync)
		c->next_sync = due;
	c->dirty = true;
}

/* A sighting of ip -> mac on ifindex by source. */
static void seen(struct nbcache *c, uint32_t ifindex, uint32_t ip, const struct mac *mac,
		 unsigned source)
{
	const struct host_iface *m = host_iface_by_index(c->h, ifindex);
	if (!m)
		return;
	uint64_t inserted = nbt_counters(c->t)->inserted;
	const struct nbt_record *e = nbt_seen(c->t, m->name, mac, ip, host_now(c->h), source);
	if (!e)
		return; /* counted in refused */
	bool fresh = nbt_counters(c->t)->inserted != inserted;
	if (fresh)
		identify(c, e);
	changed(c, fresh);
}

/* A DHCP client message read on sn's interface. */
static void on_dhcp(struct nbcache *c, const struct snoop *sn, const uint8_t *frame, size_t len)
{
	struct dhcp_info *d = &c->info;
	enum dhcp_reason why = dhcpsnoop_parse(frame, len, d);
	if (why != DR_OK) {
		c->dhcp_malformed++;
		c->dhcp_why[why < DR__COUNT ? why : 0]++;
		return;
	}
	const struct host_iface *m = host_iface_by_index(c->h, sn->ifindex);
	if (!m || mac_is_zero(&d->eth_src) || (d->eth_src.a[0] & 1)) {
		c->dhcp_malformed++;
		return;
	}
	c->dhcp_messages++;
	struct nbt_dhcp n;
	memset(&n, 0, sizeof(n));
	if (d->family == 4) {
		/* the address it holds, or the one it asks for */
		if (d->ciaddr)
			n.ip4 = d->ciaddr;
		else if (d->msg_type == DHCP4_REQUEST && (d->has & DHCP_HAS_REQ_IP))
			n.ip4 = d->req_ip;
		/* option 55 (v4 codes); DHCPv6's ORO is another numbering */
		for (size_t i = 0; i < d->prl_len && n.prl_len < NBT_PRL_MAX; i++)
			n.prl[n.prl_len++] = (uint8_t)d->prl[i];
	}
	if (d->has & DHCP_HAS_HOSTNAME)
		cut(n.hostname, sizeof(n.hostname), d->hostname);
	if (d->has & DHCP_HAS_FQDN)
		cut(n.fqdn, sizeof(n.fqdn), d->fqdn);
	if (d->has & DHCP_HAS_VENDOR)
		cut(n.vendor_class, sizeof(n.vendor_class), d->vendor);
	if (d->has & DHCP_HAS_CLID) {
		n.client_id[0] = (uint8_t)d->clid_type;
		size_t k =
		    d->clid_len < NBT_CLIENT_ID_MAX - 1 ? d->clid_len : NBT_CLIENT_ID_MAX - 1;
		memcpy(n.client_id + 1, d->clid, k);
		n.client_id_len = (uint8_t)(k + 1);
	}
	uint64_t inserted = nbt_counters(c->t)->inserted;
	const struct nbt_record *e = nbt_set_dhcp(c->t, m->name, &d->eth_src, &n, host_now(c->h));
	if (!e)
		return;
	identify(c, e);
	changed(c, nbt_counters(c->t)->inserted != inserted);
}

static void on_snoop(void *arg);

static void snoop_close(struct snoop *sn)
{
	sn->drops += dhcpsock_drops(sn->s);
	for (unsigned k = 0; k < DHCPSOCK_FDS; k++) {
		loop_watch_free(sn->w[k]);
		sn->w[k] = NULL;
	}
	dhcpsock_close(sn->s);
	sn->s = NULL;
}

/* Each managed interface that is there has its DHCP socket (Snoop=yes). */
static void snoop_follow(struct nbcache *c)
{
	if (!c->cfg->neighbors.snoop)
		return;
	for (size_t i = 0; i < c->n_sn; i++) {
		struct snoop *sn = &c->sn[i];
		const struct host_iface *m = host_iface_at(c->h, i);
		uint32_t want = m ? m->ifindex : 0;
		if (sn->s && sn->ifindex == want)
			continue;
		if (sn->s)
			snoop_close(sn);
		sn->ifindex = want;
		if (!want)
			continue;
		char err[256], q[300];
		sn->s = dhcpsock_open(want, err, sizeof(err));
		if (!sn->s) {
			log_warnx("event=dhcp_snoop_failed iface=%s msg=%s", m->name,
				  log_quote(err, q, sizeof(q)));
			continue;
		}
		sn->tokens = c->cfg->neighbors.snoop_rate;
		sn->refilled_at = host_now(c->h);
		sn->paused_until = 0;
		for (unsigned k = 0; k < DHCPSOCK_FDS; k++)
			if (!(sn->w[k] = loop_watch_fd(host_loop(c->h), dhcpsock_fd(sn->s, k),
						       ARPHAD_PRIO_CLIENTS, on_snoop, sn))) {
				log_warnx("event=dhcp_snoop_failed iface=%s msg=\"out of memory\"",
					  m->name);
				snoop_close(sn);
				break;
			}
	}
}

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct snoop *sn = arg;
	on_dhcp(sn->c, sn, frame, len);
}

/*
 * Read what SnoopRateLimit= allows; a socket that used it up is not read
 * for SNOOP_PAUSE_MS (the kernel queues, then drops: dhcp_drops), so a
 * DHCP flood costs arphad at most the rate, and never a heartbeat.
 */
static void on_snoop(void *arg)
{
	struct snoop *sn = arg;
	struct nbcache *c = sn->c;
	uint64_t now = host_now(c->h);
	double rate = c->cfg->neighbors.snoop_rate;
	if (now > sn->refilled_at) {
		sn->tokens += (double)(now - sn->refilled_at) * rate / 1000.0;
		if (sn->tokens > rate)
			sn->tokens = rate;
		sn->refilled_at = now;
	}
	int n = dhcpsock_read(sn->s, (unsigned)sn->tokens, on_frame, sn);
	if (n < 0)
		log_debug("event=dhcp_snoop_read_failed error=\"%s\"", strerror(errno));
	else
		sn->tokens -= n;
	if (sn->tokens >= 1)
		return;
	for (unsigned k = 0; k < DHCPSOCK_FDS; k++)
		loop_watch_pause(sn->w[k]);
	sn->paused_until = now + SNOOP_PAUSE_MS;
	sn->pauses++;
	if (!sn->warned_at || now - sn->warned_at >= SNOOP_WARN_MS) {
		const struct host_iface *m = host_iface_by_index(c->h, sn->ifindex);
		log_warnx("event=dhcp_snoop_limited iface=%s rate=%u msg=\"more DHCP client "
			  "messages than SnoopRateLimit= a second: the rest are dropped\"",
			  m ? m->name : "?", c->cfg->neighbors.snoop_rate);
		sn->warned_at = now;
	}
}

/* Read the sockets whose pause is over again. */
static void snoop_resume(struct nbcache *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_sn; i++) {
		struct snoop *sn = &c->sn[i];
		if (sn->paused_until && now >= sn->paused_until) {
			sn->paused_until = 0;
			for (unsigned k = 0; k < DHCPSOCK_FDS; k++)
				if (sn->w[k])
					loop_watch_resume(sn->w[k]);
		}
	}
}

static uint64_t dhcp_drops(const struct nbcache *c)
{
	uint64_t n = 0;
	for (size_t i = 0; i < c->n_sn; i++)
		n += c->sn[i].drops + (c->sn[i].s ? dhcpsock_drops(c->sn[i].s) : 0);
	return n;
}

/* ---- the cluster ---- */

static void broadcast(struct nbcache *c, const uint8_t *buf, size_t len)
{
	if (host_broadcast(c->h, buf, len) < 0) {
		if (c->broadcast_errors++ % 100 == 0)
			log_warn("event=nbsync_send_failed failures=%" PRIu64, c->broadcast_errors);
		return;
	}
	c->sync_sent++;
}

/* What we saw since the last update, to every node. */
static void send_updates(struct nbcache *c)
{
	uint64_t now = host_now(c->h), since = c->synced_at;
	c->dirty = false;
	c->synced_at = now;
	uint8_t buf[WIRE_RB_MAX_DATA];
	const struct nbsync_hdr h = {.kind = NBSYNC_UPDATE};
	size_t len = 0, n = 0, cursor = 0;
	const struct nbt_record *e;
	while ((e = nbt_next(c->t, &cursor))) {
		if (e->node != 0 || e->last_seen < since)
			continue;
		if (len == 0)
			len = nbsync_begin(&h, buf, sizeof(buf));
		int rc = nbsync_add(buf, sizeof(buf), &len, e, now);
		if (rc == 0 && n) { /* full: send it, and begin the next */
			broadcast(c, buf, len);
			len = nbsync_begin(&h, buf, sizeof(buf));
			n = 0;
			rc = nbsync_add(buf, sizeof(buf), &len, e, now);
		}
		if (rc == 1) {
			n++;
			c->sync_records_sent++;
		}
	}
	if (n)
		broadcast(c, buf, len);
}

/* Start a dump of the whole table (or have the running one start again). */
static void dump_start(struct nbcache *c)
{
	if (!c->cluster)
		return;
	if (c->dump) {
		c->dump_again = true;
		return;
	}
	size_t n = nbt_count(c->t);
	if (n == 0)
		return; /* nothing to tell */
	c->dump = calloc(n, sizeof(*c->dump));
	if (!c->dump) {
		log_warn("event=nbsync_dump_failed entries=%zu", n);
		return;
	}
	size_t cursor = 0;
	const struct nbt_record *e;
	c->n_dump = 0;
	while ((e = nbt_next(c->t, &cursor)) && c->n_dump < n) {
		memcpy(c->dump[c->n_dump].iface, e->iface, NBT_IFNAMSIZ);
		c->dump[c->n_dump++].mac = e->mac;
	}
	c->at_dump = 0;
	c->part = 0;
	if (++c->generation == 0)
		c->generation = 1;
	c->next_dump = host_now(c->h);
	c->dumps_sent++;
}

/* The next messages of the running dump. */
static void dump_step(struct nbcache *c)
{
	uint64_t now = host_now(c->h);
	uint8_t buf[WIRE_RB_MAX_DATA];
	for (unsigned k = 0; k < DUMP_MSGS && c->dump; k++) {
		struct nbsync_hdr h = {.kind = NBSYNC_FULL,
				       .last = true,
				       .generation = c->generation,
				       .part = c->part++};
		size_t len = nbsync_begin(&h, buf, sizeof(buf));
		for (; c->at_dump < c->n_dump; c->at_dump++) {
			const struct nbkey *key = &c->dump[c->at_dump];
			const struct nbt_record *e = nbt_find(c->t, key->iface, &key->mac);
			if (!e)
				continue; /* gone since */
			if (nbsync_add(buf, sizeof(buf), &len, e, now) == 0)
				break;
			c->sync_records_sent++;
		}
		bool done = c->at_dump >= c->n_dump;
		nbsync_set_last(buf, len, done);
		broadcast(c, buf, len);
		if (done) {
			free(c->dump);
			c->dump = NULL;
			if (c->dump_again) {
				c->dump_again = false;
				dump_start(c);
			}
			return;
		}
	}
	c->next_dump = now + DUMP_INTERVAL_MS;
}

/* We lost node's messages for good: ask it for all it has. */
static void request_dump(struct nbcache *c, uint32_t node)
{
	uint8_t buf[NBSYNC_HDR];
	const struct nbsync_hdr h = {.kind = NBSYNC_REQUEST, .generation = node};
	size_t len = nbsync_begin(&h, buf, sizeof(buf));
	if (len) {
		broadcast(c, buf, len);
		c->requests_sent++;
	}
}

static void on_message(struct nbcache *c, uint32_t node, const uint8_t *data, size_t len)
{
	struct nbt_record *recs = c->recs;
	struct nbsync_hdr h;
	enum nbsync_reason why;
	uint64_t now = host_now(c->h);
	if (nbsync_decode(data, len, now, &h, recs, NBSYNC_MAX_RECORDS, &why) < 0) {
		c->sync_bad[why < NBS__COUNT ? why : 0]++;
		if (c->sync_bad[why < NBS__COUNT ? why : 0] % 1000 == 1)
			log_info("event=malformed_message node=%u kind=neighbours reason=%s "
				 "bytes=%zu",
				 node, nbsync_reason_name(why), len);
		return;
	}
	c->sync_received++;
	if (h.kind == NBSYNC_REQUEST) {
		if (h.generation == c->self_id)
			dump_start(c);
		return;
	}
	for (size_t i = 0; i < h.count; i++) {
		if (nbt_merge(c->t, &recs[i], node, now) < 0) {
			c->sync_refused++;
			continue;
		}
		c->sync_records_received++;
		const struct nbt_record *e = nbt_find(c->t, recs[i].iface, &recs[i].mac);
		if (e && !e->type[0] && !e->os[0])
			identify(c, e); /* the peer had no answer; we may (our own rules) */
	}
}

/* ---- the service ---- */

static void svc_free(void *self);

/*
 * The device-type rules into db: the built-in table, then the file of
 * DeviceTypes= when given. 0, or -1 with "PATH:LINE: ..." in err.
 */
static int load_rules(struct devtype_db *db, const struct config *cfg, const char *cfg_path,
		      char *err, size_t errlen)
{
	char why[1024];
	if (devtype_db_add_text(db, "devtypes.txt (built in)", devtypes_builtin,
				devtypes_builtin_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "the built-in device types: %s", why);
		return -1;
	}
	const char *path = cfg->neighbors.devtypes;
	if (!path[0])
		return 0;
	char *text;
	size_t len;
	if (read_file(path, DEVTYPES_MAX, &text, &len) < 0) {
		snprintf(err, errlen, "%s:%d: DeviceTypes: cannot read %s: %s", cfg_path,
			 cfg->neighbors.devtypes_line, path, strerror(errno));
		return -1;
	}
	long rc = devtype_db_add_text(db, path, text, len, why, sizeof(why));
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "%s:%d: DeviceTypes: %s", cfg_path,
			 cfg->neighbors.devtypes_line, why);
		return -1;
	}
	return 0;
}

/* `arphad -n`: the rules of DeviceTypes= load. */
static int check_rules(const struct config *cfg, const char *path, FILE *out)
{
	char err[1400];
	struct devtype_db *db = devtype_db_new();
	int bad = !db || load_rules(db, cfg, path, err, sizeof(err)) < 0;
	if (bad)
		fprintf(out, "%s\n", db ? err : "out of memory");
	devtype_db_free(db);
	return bad;
}

static void *start(struct host *h, const struct config *cfg, char *err, size_t errlen)
{
	struct nbcache *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->h = h;
	c->cfg = cfg;
	c->self_id = cfg->cluster.present ? cfg->cluster.node_id : 0;
	c->cluster = cfg->cluster.present;
	struct nbt_params p;
	nbt_params_default(&p);
	p.size = cfg->neighbors.size;
	p.active_timeout_ms = cfg->neighbors.active_timeout_ms;
	p.self_id = c->self_id;
	randombytes_buf(p.key, sizeof(p.key));
	if (!(c->t = nbt_new(&p))) {
		snprintf(err, errlen, "the neighbour cache: %s", strerror(errno));
		goto fail;
	}
	if (!(c->db = devtype_db_new())) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (load_rules(c->db, cfg, host_config_path(h), err, errlen) < 0)
		goto fail;
	char why[512], q[600];
	if (vendor_db_load(NULL, &c->oui, why, sizeof(why)) < 0) {
		c->oui = NULL;
		log_warnx("event=vendor_registry_unreadable msg=%s (neighbours are shown "
			  "without vendors)",
			  log_quote(why, q, sizeof(q)));
	}
	while (host_iface_at(h, c->n_sn))
		c->n_sn++;
	c->sn = calloc(c->n_sn ? c->n_sn : 1, sizeof(*c->sn));
	if (!c->sn) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < c->n_sn; i++)
		c->sn[i].c = c;
	snoop_follow(c);
	host_set_nbcache(h, c->t);
	log_info("event=neighbour_cache size=%" PRIu32 " active_timeout_ms=%" PRIu32
		 " snoop=%s device_rules=%zu",
		 p.size, cfg->neighbors.active_timeout_ms, cfg->neighbors.snoop ? "yes" : "no",
		 devtype_db_count(c->db));
	return c;
fail:
	svc_free(c);
	return NULL;
}

static void svc_free(void *self)
{
	struct nbcache *c = self;
	if (!c)
		return;
	host_set_nbcache(c->h, NULL);
	for (size_t i = 0; i < c->n_sn; i++)
		if (c->sn[i].s)
			snoop_close(&c->sn[i]);
	free(c->sn);
	free(c->dump);
	oui_db_free(c->oui);
	devtype_db_free(c->db);
	nbt_free(c->t);
	free(c);
}

static void on_event(void *self, const struct dev_ev *ev)
{
	struct nbcache *c = self;
	switch (ev->type) {
	case DEV_NEIGH:
		seen(c, ev->ifindex, ev->ip, &ev->mac, NBT_SRC_ARP);
		break;
	case DEV_KNEIGH:
		seen(c, ev->ifindex, ev->ip, &ev->mac, NBT_SRC_KERNEL);
		break;
	case DEV_LINK:
		snoop_follow(c);
		break;
	case DEV_NODE_UP:
		dump_start(c); /* it may have missed all we know */
		break;
	case DEV_OUT_OF_SYNC:
		request_dump(c, ev->node);
		break;
	case DEV_MSG:
		on_message(c, ev->node, ev->data, ev->len);
		break;
	}
}

static void tick(void *self)
{
	struct nbcache *c = self;
	uint64_t now = host_now(c->h);
	if (c->dirty && now >= c->next_sync)
		send_updates(c);
	if (c->dump && now >= c->next_dump)
		dump_step(c);
	snoop_resume(c, now);
}

static uint64_t next_deadline(const void *self)
{
	const struct nbcache *c = self;
	uint64_t t = UINT64_MAX;
	if (c->dirty)
		t = c->next_sync;
	if (c->dump && c->next_dump < t)
		t = c->next_dump;
	for (size_t i = 0; i < c->n_sn; i++)
		if (c->sn[i].paused_until && c->sn[i].paused_until < t)
			t = c->sn[i].paused_until;
	return t;
}

/* ---- `arpha neighbors` ---- */

static const char *const source_names[] = {"arp", "kernel", "dhcp", "peer"};

/* A text field; "-" in the text table when empty. */
static void view_text_field(struct view *v, const char *key, const char *s)
{
	view_str(v, key, s);
	if (!s[0])
		view_text(v, "-");
}

/* Every field of e, as the JSON shows it (the text columns pick theirs). */
static void record_fields(const struct nbcache *c, struct view *v, const struct nbt_record *e,
			  uint64_t now)
{
	uint64_t timeout = c->cfg->neighbors.active_timeout_ms;
	bool active = nbt_active(c->t, e, now);
	uint64_t ago = now > e->last_seen ? now - e->last_seen : 0;
	view_str(v, "interface", e->iface);
	view_mac(v, "mac", &e->mac);
	view_list(v, "ip4");
	for (unsigned i = 0; i < e->n_ip4; i++)
		view_ip4(v, NULL, e->ip4[i]);
	view_end(v);
	view_str(v, "state", active ? "active" : "inactive");
	view_u64(v, "last_seen_ms", ago);
	view_u64(v, "first_seen_ms", now > e->first_seen ? now - e->first_seen : 0);
	view_u64(v, "timeout_ms", active ? timeout - ago : 0);
	view_text_field(v, "vendor", e->vendor);
	view_text_field(v, "hostname", e->dhcp.hostname);
	view_str(v, "fqdn", e->dhcp.fqdn);
	view_str(v, "vendor_class", e->dhcp.vendor_class);
	uint16_t prl[NBT_PRL_MAX];
	char prl_s[NBT_PRL_MAX * 4 + 1];
	for (unsigned i = 0; i < e->dhcp.prl_len; i++)
		prl[i] = e->dhcp.prl[i];
	dhcp_prl_fmt(prl, e->dhcp.prl_len, prl_s, sizeof(prl_s));
	view_str(v, "prl", prl_s);
	char clid[2 * NBT_CLIENT_ID_MAX + 1];
	for (unsigned i = 0; i < e->dhcp.client_id_len; i++)
		snprintf(clid + 2 * i, 3, "%02x", e->dhcp.client_id[i]);
	clid[2 * e->dhcp.client_id_len] = '\0';
	view_str(v, "client_id", clid);
	view_text_field(v, "cfg_name", cfg_name(c, &e->mac));
	view_str(v, "type", e->type[0] ? e->type : "unknown");
	view_text_field(v, "os", e->os);
	view_text_field(v, "brand", e->brand);
	view_u64(v, "confidence", e->confidence);
	view_u64(v, "node", e->node);
	view_list(v, "sources");
	for (unsigned i = 0; i < 4; i++)
		if (e->sources & (1u << i))
			view_str(v, NULL, source_names[i]);
	view_end(v);
}

static void counters(const struct nbcache *c, struct view *v)
{
	const struct nbt_counters *k = nbt_counters(c->t);
	view_object(v, "counters");
	view_u64(v, "entries", k->entries);
	view_u64(v, "size", c->cfg->neighbors.size);
	view_u64(v, "inserted", k->inserted);
	view_u64(v, "updated", k->updated);
	view_u64(v, "evicted_inactive", k->evicted_inactive);
	view_u64(v, "evicted_active", k->evicted_active);
	view_u64(v, "merged", k->merged);
	view_u64(v, "refused", k->refused);
	view_u64(v, "identified", c->identified);
	view_u64(v, "dhcp_messages", c->dhcp_messages);
	view_u64(v, "dhcp_malformed", c->dhcp_malformed);
	view_u64(v, "dhcp_drops", dhcp_drops(c));
	uint64_t pauses = 0;
	for (size_t i = 0; i < c->n_sn; i++)
		pauses += c->sn[i].pauses;
	view_u64(v, "dhcp_rate_limited", pauses);
	view_object(v, "dhcp_refused");
	for (unsigned i = 1; i < DR__COUNT; i++)
		if (c->dhcp_why[i])
			view_u64(v, dhcp_reason_name((enum dhcp_reason)i), c->dhcp_why[i]);
	view_end(v);
	view_u64(v, "sync_sent", c->sync_sent);
	view_u64(v, "sync_records_sent", c->sync_records_sent);
	view_u64(v, "sync_dumps", c->dumps_sent);
	view_u64(v, "sync_requests", c->requests_sent);
	view_u64(v, "sync_received", c->sync_received);
	view_u64(v, "sync_records_received", c->sync_records_received);
	view_u64(v, "sync_refused", c->sync_refused);
	view_object(v, "sync_malformed");
	for (unsigned i = 0; i < NBS__COUNT; i++)
		if (c->sync_bad[i])
			view_u64(v, nbsync_reason_name(i), c->sync_bad[i]);
	view_end(v);
	view_end(v);
}

static const struct view_col nb_cols[] = {
    {.key = "idx", .head = "Idx", .width = 4, .right = true},
    {.key = "interface", .head = "Iface", .width = 8, .gap = 2},
    {.key = "mac", .head = "HW Address", .width = 17},
    {.key = "ip4", .head = "IP4 Address", .width = 15, .gap = 2},
    {.key = "state", .head = "State", .width = 8},
    {.key = "timeout_ms", .head = "Timeout", .width = 7, .right = true, .scale = 1000},
    {.key = "vendor", .head = "Vendor", .width = 24, .gap = 2},
    {.key = "hostname", .head = "Hostname", .width = 16, .gap = 2},
    {.key = "cfg_name", .head = "CfgName", .width = 12, .gap = 2},
    {.key = "type", .head = "Type", .width = 10, .gap = 2},
    {.key = "os", .head = "OS", .width = 16, .gap = 2},
    {.key = "brand", .head = "Brand", .gap = 2},
};

/* The columns by the options: always the first 7, then -names' 2, -devinfo's 3. */
static struct view_table nb_tables[4];
static struct view_col nb_picked[4][12];

static const struct view_table *nb_table(bool names, bool devinfo)
{
	unsigned k = (names ? 1 : 0) | (devinfo ? 2 : 0);
	size_t n = 0;
	for (size_t i = 0; i < 7; i++)
		nb_picked[k][n++] = nb_cols[i];
	for (size_t i = 7; names && i < 9; i++)
		nb_picked[k][n++] = nb_cols[i];
	for (size_t i = 9; devinfo && i < 12; i++)
		nb_picked[k][n++] = nb_cols[i];
	nb_tables[k] = (struct view_table){nb_picked[k], n, 0, false};
	return &nb_tables[k];
}

/* `arpha neighbors [IFACE] [-names] [-devinfo] [-ip6]` */
static int show_list(const struct nbcache *c, char *const *args, int nargs, struct view *v,
		     char *err, size_t errlen)
{
	const char *iface = NULL;
	bool names = false, devinfo = false, ip6 = false;
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];
		if (strcmp(a, "-names") == 0) {
			names = true;
		} else if (strcmp(a, "-devinfo") == 0) {
			devinfo = true;
		} else if (strcmp(a, "-ip6") == 0) {
			ip6 = true;
		} else if (a[0] == '-') {
			snprintf(err, errlen,
				 "neighbors: unknown option \"%s\" (expected -names, -devinfo or "
				 "-ip6)",
				 a);
			return -1;
		} else if (iface) {
			snprintf(err, errlen, "neighbors: one interface at most (\"%s\", \"%s\")",
				 iface, a);
			return -1;
		} else {
			const struct host_iface *m = host_iface(c->h, a);
			if (!m) {
				snprintf(err, errlen, "no interface \"%s\" in the configuration",
					 a);
				return -1;
			}
			iface = m->name;
		}
	}
	uint64_t now = host_now(c->h);
	view_object(v, NULL);
	view_table(v, "neighbors", nb_table(names, devinfo), NULL);
	size_t cursor = 0, idx = 0;
	const struct nbt_record *e;
	while ((e = nbt_next(c->t, &cursor))) {
		if (iface && strcmp(iface, e->iface) != 0)
			continue;
		view_row(v);
		view_u64(v, "idx", ++idx);
		record_fields(c, v, e, now);
		view_end(v);
	}
	view_end(v);
	counters(c, v);
	const struct nbt_counters *k = nbt_counters(c->t);
	view_linef(v,
		   "%zu of %" PRIu32 " entries; %" PRIu64 " evicted (%" PRIu64 " active); %" PRIu64
		   " DHCP messages read",
		   nbt_count(c->t), c->cfg->neighbors.size, k->evicted_inactive + k->evicted_active,
		   k->evicted_active, c->dhcp_messages);
	if (ip6)
		view_line(v, "no IPv6 addresses are kept yet (arphad manages IPv4 only)");
	view_end(v);
	return 0;
}

/* `arpha neighbors show MAC` */
static int show_one(const struct nbcache *c, const char *arg, struct view *v, char *err,
		    size_t errlen)
{
	struct mac mac;
	if (mac_parse(arg, &mac) < 0) {
		snprintf(err, errlen, "\"%s\" is not a MAC (expected aa:bb:cc:dd:ee:ff)", arg);
		return -1;
	}
	uint64_t now = host_now(c->h);
	size_t cursor = 0, found = 0, idx = 0;
	const struct nbt_record *e;
	view_object(v, NULL);
	view_list(v, "neighbors");
	while ((e = nbt_next(c->t, &cursor))) {
		idx++; /* as `arpha neighbors` numbers it */
		if (!mac_eq(&e->mac, &mac))
			continue;
		found++;
		view_pairs(v, NULL, 2, 14);
		view_u64(v, "idx", idx);
		record_fields(c, v, e, now);
		view_end(v);
	}
	view_end(v);
	view_end(v);
	if (!found) {
		snprintf(err, errlen, "%s: not in the neighbour cache", arg);
		return -1;
	}
	return 0;
}

static int run_neighbors(void *self, char *const *args, int nargs, struct view *v, char *err,
			 size_t errlen)
{
	if (!self) {
		snprintf(err, errlen, "the neighbour cache does not run");
		return -1;
	}
	return show_list(self, args, nargs, v, err, errlen);
}

static int run_show(void *self, char *const *args, int nargs, struct view *v, char *err,
		    size_t errlen)
{
	if (!self) {
		snprintf(err, errlen, "the neighbour cache does not run");
		return -1;
	}
	return nargs == 1 ? show_one(self, args[0], v, err, errlen) : -1;
}

static const struct svc_cmd cmds[] = {
    {.word = "neighbors", .run = run_neighbors},
    {.word = "neighbors show", .run = run_show},
    {0},
};

/*
 * A reload: [Host] names (read at each look-up), ActiveTimeout=,
 * SnoopRateLimit=, DeviceTypes= (read again; a device keeps the type it
 * has until it speaks again) and Snoop=yes|no change in place; the table
 * stays. A new Size= needs a restart.
 */
static int svc_reload(void *self, const struct config *cfg, bool dry, char *err, size_t errlen)
{
	struct nbcache *c = self;
	if (cfg->neighbors.size != nbt_size(c->t)) {
		snprintf(err, errlen,
			 "%s:%d: [Neighbors] Size= changed (%zu to %" PRIu32
			 "): restart arphad to apply it",
			 host_config_path(c->h), cfg->neighbors.line, nbt_size(c->t),
			 cfg->neighbors.size);
		return -1;
	}
	struct devtype_db *db = devtype_db_new();
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (load_rules(db, cfg, host_config_path(c->h), err, errlen) < 0) {
		devtype_db_free(db);
		return -1;
	}
	if (dry) {
		devtype_db_free(db);
		return 0;
	}
	devtype_db_free(c->db);
	c->db = db;
	c->cfg = cfg;
	/* the managed interfaces may have changed: a DHCP socket per interface, as they are now */
	size_t n = 0;
	while (host_iface_at(c->h, n))
		n++;
	for (size_t i = n; i < c->n_sn; i++)
		if (c->sn[i].s)
			snoop_close(&c->sn[i]);
	if (n > c->n_sn) {
		/* a socket's watch holds its slot's address: every one is opened again */
		for (size_t i = 0; i < c->n_sn; i++)
			if (c->sn[i].s)
				snoop_close(&c->sn[i]);
		struct snoop *sn = calloc(n, sizeof(*sn));
		if (!sn) {
			log_warnx("event=reload_failed what=Neighbors msg=\"out of memory: no DHCP "
				  "snooping on the new interfaces\"");
			n = c->n_sn;
		} else {
			for (size_t i = 0; i < n; i++)
				sn[i].c = c;
			free(c->sn);
			c->sn = sn;
		}
	}
	c->n_sn = n;
	nbt_set_active_timeout(c->t, cfg->neighbors.active_timeout_ms);
	if (!cfg->neighbors.snoop)
		for (size_t i = 0; i < c->n_sn; i++)
			if (c->sn[i].s)
				snoop_close(&c->sn[i]);
	snoop_follow(c);
	log_info("event=reload what=Neighbors hosts=%zu snoop=%s device_rules=%zu", cfg->n_hosts,
		 cfg->neighbors.snoop ? "yes" : "no", devtype_db_count(c->db));
	return 0;
}

const struct svc_ops svc_nbcache = {
    .name = "nbcache",
    .chan = NBSYNC_TYPE,
    .start = start,
    .free = svc_free,
    .event = on_event,
    .tick = tick,
    .next_deadline = next_deadline,
    .reload = svc_reload,
    .cmds = cmds,
    .check = check_rules,
};
