/*
 * svc_ranges: active-active VIPs ([VIP] Mode=active-active, [Balance]), a
 * service of arphad (svc.h). core/ranges decides which buckets of new
 * connections this node takes; os/nft_buckets carries it into the kernel;
 * this file joins them and gives every node the addresses.
 *
 * At start, on every node alike: each active-active VIP's address on its
 * interface (on a lease renewed while arphad runs, as svc_failover's), its
 * group MAC (ClusterMAC=) joined on the interface and answered and
 * announced by the ARP engine, so every node receives every frame sent to
 * the VIP; the sysctls the data path needs; the owner-flagged nftables
 * tables with no bucket ours yet (we listen first, core/ranges).
 *
 * Then core/ranges' actions, in order, after each input: RG_INHERIT and
 * RG_CLAIM collected, the takeover barrier (host_prepare_takeover,
 * SCOPE_BUCKETS) once before buckets become ours, then ONE nftables
 * transaction (os/nft_buckets: b2m and the dead owners' marks together;
 * one per further dead owner before it), and only then our state on
 * channel 'R' (RG_STATE): a release is in the kernel before any node can
 * hear of it and claim, so two nodes never take one bucket at once.
 *
 * If arphad dies, the kernel removes the tables and the group MAC with its
 * sockets: this node forwards nothing more at once, and the others take
 * its buckets when the cluster declares it down. Its addresses stay until
 * their lease ends (RS_LEASE_S).
 */

#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arp_engine.h"
#include "core/cluster.h"
#include "core/config.h"
#include "core/mrd.h"
#include "core/ranges.h"
#include "daemon/host.h"
#include "daemon/svc.h"
#include "os/log.h"
#include "os/conntrack.h"
#include "os/mrd.h"
#include "os/nft_buckets.h"
#include "os/util.h"
#include "os/view.h"

#define RS_LEASE_S    2	  /* an address's lifetime: it outlives a dead arphad by at most this */
#define RS_RENEW_MS   500 /* the leases are renewed this often */
#define RS_STOP_EXTRA 2	  /* a graceful stop waits DeadInterval + this many heartbeats at most */
#define RS_RATE_MS    1000 /* the rate of new connections is sampled this often */
/*
 * A starting node listens at least this long: its kernel meanwhile marks
 * every connection it sees a packet of as its claimant's, so a UDP flow
 * that began before the start and sends at least once a second is never
 * taken by it ([ConnSync] covers the slower ones once it has the tables).
 */
#define RS_LISTEN_MS 1000
/*
 * A node declared down (not retired by a new life, not stopped) keeps its
 * marks this long before they are rewritten: a partition that heals sooner
 * gives it its connections back (RG_DISOWN).
 */
#define RS_REMARK_GRACE_MS 30000
#define RS_REMARK_BATCH	   2000 /* marks rewritten per round; the next round follows at once */
#define RS_REMARK_RETRY_MS 1000 /* after a failure */
/*
 * READY=1 waits for the first ownership decision (ranges_decided) at most
 * this long after the listening time: a cluster that cannot agree does not
 * keep systemd from starting the units after arphad (it is logged).
 */
#define RS_SETTLE_MAX_MS 10000

struct avip {
	const struct conf_vip *c;
	uint32_t ifindex;
};

struct rsvc {
	struct host *h;
	const struct config *cfg;
	struct ranges *core;
	struct ranges_actions acts;
	struct nftb *nft;
	struct ranges_id self;
	uint16_t owner; /* ours in the marks */
	uint32_t buckets;
	uint16_t *map;	/* b2m as the kernel has it: the claimant's owner id, or 0 */
	uint16_t *next; /* scratch: b2m as it should be */
	uint32_t *adds; /* scratch: the buckets of an RG_INHERIT */
	struct avip *v;
	size_t n;
	uint32_t ifx[NFTB_MAX_IFACES]; /* the interfaces of the VIPs, each once */
	size_t nif;
	int mrd[NFTB_MAX_IFACES]; /* RouterDiscovery=: a socket per interface, -1 none */
	uint64_t mrd_at;	  /* the next advertisements; UINT64_MAX: off */
	unsigned mrd_sent;	  /* rounds sent */
	uint64_t mrd_failed;
	uint64_t renew_at;
	/* dead owners whose connections get their buckets' claimants' marks */
	struct remark {
		struct ranges_id id;
		uint16_t owner;
		uint64_t due;
	} remark[RANGES_MAX_NODES];
	size_t n_remark;
	struct ranges_id gone[RANGES_MAX_NODES]; /* lives over for sure: retired or stopped (a ring) */
	size_t n_gone;
	struct ctk *ck; /* the conntrack socket of the rewrites (opened when first needed) */
	const struct ct_entry **rv;
	struct ct_entry *re;
	size_t rn, rcap;
	uint64_t remarked, remark_failed, remark_rounds;
	uint64_t rate_at, sampled_at, taken_before, rate; /* new connections per second */
	bool stopping;
	uint64_t stop_until;
	bool settled;	    /* the first ownership decision is made (or RS_SETTLE_MAX_MS passed) */
	uint64_t settle_by; /* READY=1 comes by then at the latest */
	/* counters */
	uint64_t updates, update_failed, last_update_us, max_update_us;
	uint64_t forgets, forget_failed, lease_failed;
};

static uint16_t owner_of(const struct ranges_id *id)
{
	return ranges_owner_id(id);
}

static void remark_inherited(struct rsvc *s, const struct ranges_id *id, uint64_t now);

/* ---- the kernel ---- */

/*
 * b2m as we know the claims: our owner id for ours, a peer's that is up
 * for its (a first packet there is marked its connection, here too), no
 * element where nobody claims (a hand-over gap). 1 when it differs from
 * the map given.
 */
static bool fill_map(struct rsvc *s, uint16_t *map)
{
	const struct ranges_set *mine = ranges_claims(s->core);
	for (uint32_t b = 0; b < s->buckets; b++)
		map[b] = ranges_has(mine, b) ? s->owner : 0;
	size_t nn = ranges_nodes(s->core);
	for (size_t i = 0; i < nn; i++) {
		struct ranges_node_view nv;
		if (ranges_node(s->core, i, &nv) < 0 || nv.self || !nv.up || nv.stopping ||
		    !nv.claims)
			continue;
		uint16_t o = owner_of(&nv.id);
		for (uint32_t b = 0; b < s->buckets; b++)
			if (!map[b] && ranges_has(nv.claims, b))
				map[b] = o;
	}
	return memcmp(map, s->map, s->buckets * sizeof(*map)) != 0;
}

static size_t set_list(const struct rsvc *s, const struct ranges_set *set, uint32_t *out)
{
	size_t n = 0;
	for (uint32_t b = 0; b < s->buckets; b++)
		if (ranges_has(set, b))
			out[n++] = b;
	return n;
}

static void update_failed(struct rsvc *s, const char *what, const char *err)
{
	s->update_failed++;
	log_warnx("event=ranges_kernel_failed what=%s error=\"%s\" msg=\"the kernel keeps the "
		  "buckets as they were\"",
		  what, err);
}

/*
 * The map and the inherited marks into the kernel: one transaction per
 * dead owner but the last, whose marks go with the map.
 */
static void kernel_update(struct rsvc *s, const struct ranges_action *const *inh, size_t n_inh)
{
	char err[256];
	uint64_t t0 = now_us();
	if (!fill_map(s, s->next) && n_inh == 0)
		return;
	for (size_t i = 0; i + 1 < n_inh; i++) {
		size_t n = set_list(s, &inh[i]->set, s->adds);
		if (nftb_take(s->nft, owner_of(&inh[i]->from), s->adds, n, err, sizeof(err)) < 0)
			update_failed(s, "inherit", err);
	}
	uint16_t dead = 0;
	size_t n = 0;
	if (n_inh) {
		dead = owner_of(&inh[n_inh - 1]->from);
		n = set_list(s, &inh[n_inh - 1]->set, s->adds);
	}
	if (nftb_update(s->nft, s->next, s->buckets, dead, s->adds, n, err, sizeof(err)) < 0) {
		update_failed(s, "map", err);
		return;
	}
	memcpy(s->map, s->next, s->buckets * sizeof(*s->map));
	s->updates++;
	s->last_update_us = now_us() - t0;
	if (s->last_update_us > s->max_update_us)
		s->max_update_us = s->last_update_us;
}

/* Carry out the core's actions: the kernel first, then what we tell the others. */
static void run(struct rsvc *s)
{
	const struct ranges_action *inh[RANGES_MAX_NODES];
	size_t n_inh = 0;
	bool push = false, state = false;
	uint32_t claimed = 0;
	for (size_t i = 0; i < s->acts.n; i++) {
		const struct ranges_action *a = &s->acts.v[i];
		switch (a->type) {
		case RG_INHERIT:
			if (n_inh < RANGES_MAX_NODES)
				inh[n_inh++] = a;
			remark_inherited(s, &a->from, host_now(s->h));
			break;
		case RG_CLAIM:
			claimed += a->n;
			break;
		case RG_RELEASE:
			break;
		case RG_DISOWN: {
			char err[256];
			s->forgets++;
			if (nftb_forget(s->nft, owner_of(&a->from), err, sizeof(err)) < 0) {
				s->forget_failed++;
				log_warnx("event=ranges_kernel_failed what=disown node=%" PRIu32
					  " error=\"%s\"",
					  a->from.node, err);
			}
			break;
		}
		case RG_STATE:
			state = true;
			push |= a->push;
			break;
		case RG_LOG:
			log_line(a->level, a->text);
			break;
		}
	}
	if (claimed || n_inh) {
		/* what must be ours before the buckets are (connections first) */
		struct takeover_scope sc = {.kind = SCOPE_BUCKETS, .buckets = claimed};
		host_prepare_takeover(s->h, &sc);
	}
	/* every input may change the claims we know: ours, or a peer's */
	uint64_t updates = s->updates;
	kernel_update(s, inh, n_inh);
	if ((claimed || n_inh) && s->updates != updates)
		log_info("event=ranges action=commit claimed=%" PRIu32 " inherited=%zu update_us=%" PRIu64,
			 claimed, n_inh, s->last_update_us);
	if (state) {
		uint8_t blob[RANGES_STATE_MAX];
		size_t len = ranges_state_blob(s->core, blob, sizeof(blob));
		if (len && host_set_state(s->h, CLUSTER_CHAN_RANGES, blob, len, push) < 0)
			log_warn("event=ranges_state_failed");
	}
	ranges_actions_reset(&s->acts);
	if (!s->settled && ranges_decided(s->core)) {
		struct ranges_view rv;
		ranges_view(s->core, &rv);
		s->settled = true;
		log_info("event=ranges_decided claimed=%" PRIu32 " aimed=%" PRIu32
			 " members=%zu complete=%s",
			 rv.claimed, rv.aimed, rv.members, rv.complete ? "yes" : "no");
	}
}

/* ---- the addresses ---- */

static void renew(struct rsvc *s, uint64_t now)
{
	for (size_t k = 0; k < s->n; k++) {
		const struct avip *x = &s->v[k];
		if (host_addr_lease(s->h, x->ifindex, x->c->addr.addr, x->c->addr.len, false,
				    RS_LEASE_S) < 0 &&
		    s->lease_failed++ % 20 == 0) {
			char a[IP4_STRLEN];
			log_warn("event=vip_lease_failed vip=%s address=%s failures=%" PRIu64,
				 x->c->name, ip4_fmt(x->c->addr.addr, a), s->lease_failed);
		}
	}
	s->renew_at = now + RS_RENEW_MS;
}

/* Our VIPs on ifindex into the engine (answered with their group MAC), announced. */
static int cluster_addrs(struct rsvc *s, uint32_t ifindex)
{
	struct arp_cluster_addr v[64];
	size_t n = 0;
	for (size_t k = 0; k < s->n && n < 64; k++)
		if (s->v[k].ifindex == ifindex)
			v[n++] = (struct arp_cluster_addr){s->v[k].c->addr.addr, s->v[k].c->cluster_mac};
	host_addrs_changed(s->h, ifindex);
	return host_set_cluster_addrs(s->h, ifindex, v, n, true);
}

/*
 * A link changed: a VIP's device that came back under a new index (deleted
 * and made again) gets the address, the group MAC and the engine's set
 * again. The nftables rules match the device by name: one renamed away
 * leaves the cluster's data path until it has its name again.
 */
static void on_link(struct rsvc *s)
{
	for (size_t k = 0; k < s->n; k++) {
		struct avip *x = &s->v[k];
		const struct host_iface *m = host_iface(s->h, x->c->iface);
		if (!m || !m->ifindex || m->ifindex == x->ifindex)
			continue;
		log_notice("event=vip_device_back vip=%s device=%s ifindex=%" PRIu32, x->c->name,
			   m->dev, m->ifindex);
		for (size_t i = 0; i < s->nif; i++)
			if (s->ifx[i] == x->ifindex) {
				s->ifx[i] = m->ifindex;
				if (s->mrd[i] >= 0) {
					close(s->mrd[i]);
					s->mrd[i] = -1; /* opened again on the next round */
				}
			}
		for (size_t j = 0; j < s->n; j++)
			if (j != k && s->v[j].ifindex == x->ifindex)
				s->v[j].ifindex = m->ifindex;
		x->ifindex = m->ifindex;
		renew(s, host_now(s->h));
		for (size_t j = 0; j < s->n; j++)
			if (s->v[j].ifindex == m->ifindex &&
			    host_join_mac(s->h, m->ifindex, &s->v[j].c->cluster_mac) < 0)
				log_warn("event=cluster_mac_failed vip=%s device=%s", s->v[j].c->name,
					 m->dev);
		if (cluster_addrs(s, m->ifindex) < 0)
			log_warn("event=cluster_addrs_failed device=%s", m->dev);
	}
}

/* ---- RouterDiscovery= (core/mrd) ---- */

static void mrd_round(struct rsvc *s, uint64_t now)
{
	uint8_t m[MRD_ADVERT_LEN];
	/* the IGMP defaults (RFC 3376): query interval 125 s, robustness 2 */
	size_t len = mrd_advert(m, sizeof(m), MRD_INTERVAL_S, 125, 2);
	for (size_t i = 0; i < s->nif; i++) {
		if (s->mrd[i] < 0) {
			if ((s->mrd[i] = mrd_open(s->ifx[i])) < 0) {
				if (s->mrd_failed++ % 10 == 0)
					log_warn("event=router_discovery_failed ifindex=%" PRIu32,
						 s->ifx[i]);
				continue;
			}
		}
		if (mrd_send(s->mrd[i], m, len) < 0 && s->mrd_failed++ % 10 == 0)
			log_warn("event=router_discovery_failed ifindex=%" PRIu32, s->ifx[i]);
	}
	s->mrd_sent++;
	/* RFC 4286: a few at start, MRD_INITIAL_S apart, then every MRD_INTERVAL_S */
	s->mrd_at = now + (s->mrd_sent < MRD_INITIAL_COUNT ? MRD_INITIAL_S : MRD_INTERVAL_S) * 1000;
}

static void mrd_close(struct rsvc *s)
{
	for (size_t i = 0; i < s->nif; i++) {
		if (s->mrd[i] >= 0)
			close(s->mrd[i]);
		s->mrd[i] = -1;
	}
}

/* ---- dead owners' marks ---- */

/*
 * The connections a dead owner decided carry its mark everywhere: the
 * node that claimed their bucket inherited them (RG_INHERIT) and forwards
 * them through own, the others drop them. That node then rewrites their
 * marks to its own id in its kernel and forgets the dead id
 * (ranges_forget, nftb_forget): its own connections from then on, which
 * [ConnSync] sends to the others as such, so that its own death later
 * hands them on too (without [ConnSync] the others' copies keep the dead
 * id, and a second failure loses them). A node declared down keeps its
 * marks for RS_REMARK_GRACE_MS first (a partition that heals sooner gives
 * it its connections back); one that came back as a new life, or stopped,
 * is rewritten at once.
 */

static void remark_add(struct rsvc *s, const struct ranges_id *id, uint64_t due)
{
	uint16_t o = owner_of(id);
	if (!o || o == s->owner)
		return;
	for (size_t i = 0; i < s->n_remark; i++)
		if (s->remark[i].owner == o) {
			if (due < s->remark[i].due)
				s->remark[i].due = due;
			return;
		}
	if (s->n_remark == RANGES_MAX_NODES)
		return;
	s->remark[s->n_remark++] = (struct remark){*id, o, due};
}

static bool is_gone(const struct rsvc *s, const struct ranges_id *id)
{
	for (size_t i = 0; i < s->n_gone && i < RANGES_MAX_NODES; i++)
		if (s->gone[i].node == id->node && s->gone[i].incarnation == id->incarnation)
			return true;
	return false;
}

/* Inherited from id: its marks become ours, at once when its life is over for sure. */
static void remark_inherited(struct rsvc *s, const struct ranges_id *id, uint64_t now)
{
	remark_add(s, id, is_gone(s, id) ? now : now + RS_REMARK_GRACE_MS);
}

static void remark_drop(struct rsvc *s, size_t i)
{
	s->remark[i] = s->remark[--s->n_remark];
}

/* Node's life as we know it (its latest state); 0 when none. */
static int node_id(const struct rsvc *s, uint32_t node, struct ranges_id *out)
{
	size_t nn = ranges_nodes(s->core);
	for (size_t i = 0; i < nn; i++) {
		struct ranges_node_view nv;
		if (ranges_node(s->core, i, &nv) == 0 && !nv.self && nv.id.node == node &&
		    nv.id.incarnation) {
			*out = nv.id;
			return 1;
		}
	}
	return 0;
}

static void collect_cb(void *arg, const struct ct_entry *e)
{
	struct rsvc *s = arg;
	uint32_t b = e->mark & 0xffff;
	struct ranges_id ids[RANGES_INHERIT_MAX];
	size_t n = b < s->buckets ? ranges_inherited(s->core, b, ids, RANGES_INHERIT_MAX) : 0;
	bool ours = false;
	for (size_t i = 0; i < n && i < RANGES_INHERIT_MAX; i++)
		ours |= owner_of(&ids[i]) == e->mark >> 16;
	if (!ours)
		return; /* a bucket another node inherited: its business */
	if (s->rn == RS_REMARK_BATCH)
		return; /* the next round */
	if (s->rn == s->rcap) {
		size_t cap = s->rcap ? s->rcap * 2 : 256;
		struct ct_entry *re = realloc(s->re, cap * sizeof(*re));
		if (!re)
			return;
		s->re = re;
		const struct ct_entry **rv = realloc(s->rv, cap * sizeof(*rv));
		if (!rv)
			return;
		s->rv = rv;
		s->rcap = cap;
	}
	s->re[s->rn] = *e;
	s->re[s->rn].mark = (uint32_t)s->owner << 16 | b;
	s->rn++;
}

/* One round for r: rewrite up to RS_REMARK_BATCH marks. Whether r is done. */
static bool remark_round(struct rsvc *s, struct remark *r, uint64_t now)
{
	char err[256];
	if (!s->ck) {
		static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
		if (!(s->ck = ctk_open(0, false, err, sizeof(err))) ||
		    ctk_set_protocols(s->ck, protos, sizeof(protos)) < 0) {
			if (s->ck)
				snprintf(err, sizeof(err), "%s", strerror(errno));
			ctk_close(s->ck);
			s->ck = NULL;
			if (s->remark_failed++ % 10 == 0)
				log_warnx("event=ranges_remark_failed error=\"%s\"", err);
			r->due = now + RS_REMARK_RETRY_MS;
			return false;
		}
	}
	s->rn = 0;
	s->remark_rounds++;
	if (ctk_dump_mark(s->ck, (uint32_t)r->owner << 16, 0xffff0000u, collect_cb, s) < 0) {
		if (s->remark_failed++ % 10 == 0)
			log_warn("event=ranges_remark_failed what=dump owner=0x%04x", r->owner);
		r->due = now + RS_REMARK_RETRY_MS;
		return false;
	}
	for (size_t i = 0; i < s->rn; i++)
		s->rv[i] = &s->re[i];
	size_t failed = 0;
	if (s->rn && ctk_set_marks(s->ck, s->rv, s->rn, &failed) < 0)
		failed = s->rn;
	s->remarked += s->rn - failed;
	s->remark_failed += failed;
	if (s->rn == RS_REMARK_BATCH) {
		r->due = now; /* more: the next round at once */
		return false;
	}
	/* none of its marks is left in a bucket we inherited it in: forget it */
	if (ranges_forget(s->core, &r->id) == 0 &&
	    nftb_forget(s->nft, r->owner, err, sizeof(err)) < 0)
		log_warnx("event=ranges_kernel_failed what=forget owner=0x%04x error=\"%s\"",
			  r->owner, err);
	log_info("event=ranges action=remark node=%" PRIu32 " owner=0x%04x remarked=%" PRIu64,
		 r->id.node, r->owner, s->remarked);
	return true;
}

static void remark_tick(struct rsvc *s, uint64_t now)
{
	if (!s->n_remark)
		return;
	for (size_t i = 0; i < s->n_remark;) {
		struct remark *r = &s->remark[i];
		if (r->due > now) {
			i++;
		} else if (remark_round(s, r, now)) {
			remark_drop(s, i);
		} else {
			i++;
		}
	}
}

static uint64_t remark_deadline(const struct rsvc *s)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < s->n_remark; i++)
		if (s->remark[i].due < d)
			d = s->remark[i].due;
	return d;
}

/* The inputs that retire or kill a life, before the core sees them. */
static void remark_note(struct rsvc *s, const struct dev_ev *ev, uint64_t now)
{
	struct ranges_id id;
	if (ev->type == DEV_NODE_UP && node_id(s, ev->node, &id)) {
		/* back before its grace ended (a partition healed): its own are its own */
		for (size_t i = 0; i < s->n_remark; i++)
			if (s->remark[i].id.node == id.node &&
			    s->remark[i].id.incarnation == id.incarnation &&
			    s->remark[i].due > now) {
				remark_drop(s, i);
				break;
			}
	} else if (ev->type == DEV_STATE && ev->chan == CLUSTER_CHAN_RANGES &&
		   node_id(s, ev->node, &id)) {
		struct ranges_state st;
		if (ranges_decode(ev->data, ev->len, s->buckets, &st) != RGR_OK)
			return;
		if (st.incarnation > id.incarnation || (st.flags & RANGES_F_STOPPING)) {
			/* a new life, or a stop: the old one is over */
			if (!is_gone(s, &id))
				s->gone[s->n_gone++ % RANGES_MAX_NODES] = id;
			for (size_t i = 0; i < s->n_remark; i++)
				if (s->remark[i].id.node == id.node &&
				    s->remark[i].id.incarnation == id.incarnation)
					s->remark[i].due = now;
		}
	}
}

/* ---- start and stop ---- */

/* The sysctls of the data path (research/active-active-2026-12.md), each logged when changed. */
static int sysctls(struct rsvc *s, char *err, size_t errlen)
{
	struct {
		char path[96];
		long value;
		const char *why;
	} want[2 + NFTB_MAX_IFACES] = {
	    {"/proc/sys/net/netfilter/nf_conntrack_tcp_loose", 0,
	     "a node must not pick up a connection from its middle"},
	    {"/proc/sys/net/ipv4/fwmark_reflect", 1,
	     "the errors a node makes for another's connection carry its mark"},
	};
	size_t n = 2;
	for (size_t i = 0; i < s->nif; i++) {
		const struct host_iface *m = host_iface_by_index(s->h, s->ifx[i]);
		snprintf(want[n].path, sizeof(want[n].path), "/proc/sys/net/ipv4/conf/%s/arp_announce",
			 m->dev);
		want[n].value = 2;
		want[n].why = "the kernel's own ARP requests never come from a VIP";
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		long old;
		int rc = sysctl_set(want[i].path, want[i].value, &old);
		if (rc < 0) {
			snprintf(err, errlen, "active-active: cannot set %s to %ld: %s", want[i].path,
				 want[i].value, strerror(errno));
			return -1;
		}
		if (rc > 0)
			log_notice("event=sysctl_set path=%s old=%ld new=%ld why=\"%s\"", want[i].path,
				   old, want[i].value, want[i].why);
	}
	long fwd;
	if (sysctl_set("/proc/sys/net/ipv4/ip_forward", 1, &fwd) >= 0 && fwd == 0)
		log_notice("event=sysctl_set path=/proc/sys/net/ipv4/ip_forward old=0 new=1 "
			   "why=\"an active-active VIP is a gateway: every node forwards its share\"");
	return 0;
}

static void svc_free(void *self);

static int setup(struct rsvc *s, const struct config *cfg, char *err, size_t errlen)
{
	const char *path = host_config_path(s->h);
	const char *names[NFTB_MAX_IFACES];
	for (size_t k = 0, j = 0; k < cfg->n_vips; k++) {
		const struct conf_vip *c = &cfg->vips[k];
		if (c->mode != VIP_MODE_ACTIVE_ACTIVE)
			continue;
		const struct host_iface *m = host_iface(s->h, c->iface);
		if (!m || !m->ifindex) {
			snprintf(err, errlen,
				 "%s:%d: [VIP %s] Interface=%s: its device is absent (an "
				 "active-active VIP needs it at start)",
				 path, c->iface_line, c->name, c->iface);
			return -1;
		}
		s->v[j++] = (struct avip){c, m->ifindex};
		size_t i;
		for (i = 0; i < s->nif && s->ifx[i] != m->ifindex; i++)
			;
		if (i == s->nif) {
			if (s->nif == NFTB_MAX_IFACES) {
				snprintf(err, errlen,
					 "%s:%d: [VIP %s]: active-active VIPs on more than %d "
					 "interfaces",
					 path, c->line, c->name, NFTB_MAX_IFACES);
				return -1;
			}
			names[s->nif] = m->dev;
			s->ifx[s->nif++] = m->ifindex;
		}
	}
	if (sysctls(s, err, errlen) < 0)
		return -1;
	uint64_t now = host_now(s->h);
	struct ranges_params rp = {
	    .self_id = s->self.node,
	    .incarnation = s->self.incarnation,
	    .buckets = s->buckets,
	    .weight = cfg->balance.weight,
	    .interval_ms = cfg->cluster.interval_ms,
	    .dead_count = cfg->cluster.dead_count,
	    .listen_ms = RS_LISTEN_MS,
	};
	s->core = ranges_new(&rp, now);
	if (!s->core) {
		snprintf(err, errlen, "active-active: %s", strerror(errno));
		return -1;
	}
	/* nothing ours yet: b2m empty until we claim */
	struct nftb_params np = {
	    .balance = {.buckets = s->buckets, .seed = cfg->balance.seed},
	    .owner = s->owner,
	    .map = s->map,
	    .ifaces = names,
	    .n_ifaces = s->nif,
	};
	char nerr[256];
	s->nft = nftb_open(&np, nerr, sizeof(nerr));
	if (!s->nft) {
		snprintf(err, errlen, "%s:%d: [Balance]: %s", path,
			 cfg->balance.line ? cfg->balance.line : s->v[0].c->line, nerr);
		return -1;
	}
	renew(s, now);
	s->rate_at = now + RS_RATE_MS;
	for (size_t i = 0; i < s->nif; i++) {
		for (size_t k = 0; k < s->n; k++) {
			const struct avip *x = &s->v[k];
			if (x->ifindex == s->ifx[i] &&
			    host_join_mac(s->h, x->ifindex, &x->c->cluster_mac) < 0) {
				char mb[MAC_STRLEN];
				snprintf(err, errlen, "[VIP %s]: cannot join ClusterMAC=%s: %s",
					 x->c->name, mac_fmt(&x->c->cluster_mac, mb),
					 strerror(errno));
				return -1;
			}
		}
		if (cluster_addrs(s, s->ifx[i]) < 0) {
			snprintf(err, errlen, "active-active: %s", strerror(errno));
			return -1;
		}
	}
	uint64_t listen = (uint64_t)(cfg->cluster.dead_count + 1) * cfg->cluster.interval_ms;
	s->settle_by = now + (listen > RS_LISTEN_MS ? listen : RS_LISTEN_MS) + RS_SETTLE_MAX_MS;
	s->mrd_at = UINT64_MAX;
	if (cfg->balance.router_discovery)
		mrd_round(s, now);
	ranges_tick(s->core, now, &s->acts);
	run(s);
	return 0;
}

static void *start(struct host *h, const struct config *cfg, char *err, size_t errlen)
{
	size_t n = 0;
	for (size_t k = 0; k < cfg->n_vips; k++)
		n += cfg->vips[k].mode == VIP_MODE_ACTIVE_ACTIVE;
	if (n == 0)
		return NULL;
	struct rsvc *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->h = h;
	s->cfg = cfg;
	s->n = n;
	s->buckets = cfg->balance.buckets;
	ranges_actions_init(&s->acts);
	for (size_t i = 0; i < NFTB_MAX_IFACES; i++)
		s->mrd[i] = -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* new and larger at every start, as the cluster's epoch */
	s->self = (struct ranges_id){cfg->cluster.node_id,
				     (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec};
	s->owner = owner_of(&s->self);
	s->v = calloc(n, sizeof(*s->v));
	s->map = calloc(s->buckets, sizeof(*s->map));
	s->next = calloc(s->buckets, sizeof(*s->next));
	s->adds = calloc(s->buckets, sizeof(*s->adds));
	if (!s->v || !s->map || !s->next || !s->adds) {
		snprintf(err, errlen, "out of memory");
		svc_free(s);
		return NULL;
	}
	if (s->owner == 0) {
		snprintf(err, errlen, "%s:%d: NodeID=%" PRIu32 ": active-active needs 1 to 255",
			 host_config_path(h), cfg->cluster.line, cfg->cluster.node_id);
		svc_free(s);
		return NULL;
	}
	/* the other services learn whose marks are ours (svc_connsync sends only those) */
	host_set_owner_id(h, s->owner);
	if (setup(s, cfg, err, errlen) < 0) {
		svc_free(s);
		return NULL;
	}
	uint32_t listen = (cfg->cluster.dead_count + 1) * cfg->cluster.interval_ms;
	log_info("event=ranges_start vips=%zu interfaces=%zu buckets=%" PRIu32
		 " weight=%u owner=0x%04x incarnation=%" PRIu64 " listen_ms=%" PRIu32,
		 s->n, s->nif, s->buckets, cfg->balance.weight, s->owner, s->self.incarnation,
		 listen > RS_LISTEN_MS ? listen : RS_LISTEN_MS);
	return s;
}

static void svc_free(void *self)
{
	struct rsvc *s = self;
	if (!s)
		return;
	/* the addresses go; the tables and the group MACs go with our sockets */
	for (size_t k = 0; s->v && k < s->n; k++)
		if (s->v[k].c)
			host_addr_del(s->h, s->v[k].ifindex, s->v[k].c->addr.addr,
				      s->v[k].c->addr.len);
	for (size_t i = 0; i < s->nif; i++) {
		host_set_cluster_addrs(s->h, s->ifx[i], NULL, 0, false);
		host_addrs_changed(s->h, s->ifx[i]);
	}
	mrd_close(s);
	ctk_close(s->ck);
	free(s->re);
	free(s->rv);
	nftb_close(s->nft);
	if (s->owner && host_owner_id(s->h) == s->owner)
		host_set_owner_id(s->h, 0);
	ranges_free(s->core);
	ranges_actions_free(&s->acts);
	free(s->v);
	free(s->map);
	free(s->next);
	free(s->adds);
	free(s);
}

/* ---- the service ---- */

static void on_event(void *self, const struct dev_ev *ev)
{
	struct rsvc *s = self;
	uint64_t now = host_now(s->h);
	remark_note(s, ev, now);
	switch (ev->type) {
	case DEV_NODE_UP:
		ranges_node_up(s->core, ev->node, now, &s->acts);
		break;
	case DEV_NODE_DOWN:
		ranges_node_down(s->core, ev->node, now, &s->acts);
		break;
	case DEV_SYNC_LINK:
		ranges_set_link(s->core, ev->up, now, &s->acts);
		break;
	case DEV_STATE:
		if (ev->chan == CLUSTER_CHAN_RANGES)
			ranges_on_state(s->core, ev->node, ev->data, ev->len, now, &s->acts);
		break;
	case DEV_LINK:
		on_link(s);
		return;
	default:
		return;
	}
	run(s);
}

/* New connections this node took per second, from the kernel's counter. */
static void sample_rate(struct rsvc *s, uint64_t now)
{
	struct nftb_stats ns;
	char err[256];
	if (nftb_counters(s->nft, &ns, err, sizeof(err)) == 0) {
		if (s->sampled_at && now > s->sampled_at && ns.taken >= s->taken_before)
			s->rate = (ns.taken - s->taken_before) * 1000 / (now - s->sampled_at);
		s->taken_before = ns.taken;
		s->sampled_at = now;
	}
	s->rate_at = now + RS_RATE_MS;
}

static void svc_tick(void *self)
{
	struct rsvc *s = self;
	uint64_t now = host_now(s->h);
	if (now >= s->renew_at)
		renew(s, now);
	if (now >= s->rate_at)
		sample_rate(s, now);
	if (now >= s->mrd_at)
		mrd_round(s, now);
	remark_tick(s, now);
	ranges_tick(s->core, now, &s->acts);
	run(s);
	if (!s->settled && now >= s->settle_by) {
		struct ranges_view rv;
		ranges_view(s->core, &rv);
		s->settled = true;
		log_warnx("event=ranges_undecided claimed=%" PRIu32 " aimed=%" PRIu32
			  " agreed=%s msg=\"no first ownership decision %d ms after listening; "
			  "ready all the same\"",
			  rv.claimed, rv.aimed, rv.agreed ? "yes" : "no", RS_SETTLE_MAX_MS);
	}
}

static uint64_t next_deadline(const void *self)
{
	const struct rsvc *s = self;
	uint64_t d = ranges_next_deadline(s->core);
	if (s->renew_at < d)
		d = s->renew_at;
	if (s->rate_at < d)
		d = s->rate_at;
	if (s->mrd_at < d)
		d = s->mrd_at;
	uint64_t r = remark_deadline(s);
	if (r < d)
		d = r;
	if (s->stopping && s->stop_until < d)
		d = s->stop_until;
	return d;
}

/*
 * Do the other nodes claim every bucket we gave up? Until they do, we keep
 * forwarding the connections we took (they inherit them when they claim).
 */
static bool handed_over(const struct rsvc *s)
{
	struct ranges_view rv;
	ranges_view(s->core, &rv);
	if (rv.unclaimed == 0)
		return true;
	/* nobody left to hand over to */
	size_t nn = ranges_nodes(s->core);
	for (size_t i = 0; i < nn; i++) {
		struct ranges_node_view nv;
		if (ranges_node(s->core, i, &nv) == 0 && !nv.self && nv.up && !nv.stopping)
			return false;
	}
	return true;
}

/* First call: release everything; then: still handing over? */
static bool svc_stop(void *self)
{
	struct rsvc *s = self;
	uint64_t now = host_now(s->h);
	if (!s->stopping) {
		s->stopping = true;
		s->stop_until = now + (uint64_t)(s->cfg->cluster.dead_count + RS_STOP_EXTRA) *
					  s->cfg->cluster.interval_ms;
		ranges_stop(s->core, now, &s->acts);
		run(s);
		log_notice("event=ranges_stop msg=\"releasing every bucket; the others take them "
			   "and our connections\"");
	}
	if (handed_over(s))
		return false;
	if (now >= s->stop_until) {
		log_warnx("event=ranges_stop_timeout msg=\"no node took our buckets in time\"");
		return false;
	}
	return true;
}

/*
 * READY=1: the first ownership decision is made (core/ranges'
 * ranges_decided: this node claims what the aim gives it), or
 * RS_SETTLE_MAX_MS passed after listening without one.
 */
static bool settled(const void *self)
{
	const struct rsvc *s = self;
	return s->settled;
}

/* ---- `arpha ranges` ---- */

static const struct view_col node_cols[] = {
    {.key = "node", .head = "Node", .width = 5, .right = true},
    {.key = "owner", .head = "Owner", .width = 6, .gap = 2},
    {.key = "state", .head = "State", .width = 9, .gap = 2},
    {.key = "claimed", .head = "Claimed", .width = 7, .right = true},
    {.key = "aimed", .head = "Aimed", .width = 6, .right = true},
    {.key = "agrees", .head = "Agrees", .width = 6, .gap = 2},
    {.key = "heard_ms", .head = "Last heard", .width = 10, .right = true, .unit = " ms"},
    {.key = "ranges", .head = "Buckets", .gap = 2},
};
static const struct view_table node_table = {node_cols, 8, .indent = 2};

static const struct view_col vip_cols[] = {
    {.key = "name", .head = "VIP", .width = 8},
    {.key = "address", .head = "Address", .width = 18, .gap = 2},
    {.key = "interface", .head = "Interface", .width = 9, .gap = 2},
    {.key = "cluster_mac", .head = "Cluster MAC", .gap = 2},
};
static const struct view_table vip_table = {vip_cols, 4, .indent = 2};

static void show_node(struct view *v, const struct rsvc *s, const struct ranges_node_view *nv,
		      uint64_t now)
{
	char owner[8], rbuf[RANGES_MAX_BUCKETS * 5]; /* every other bucket: "4094," each */
	view_row(v);
	view_u64(v, "node", nv->id.node);
	view_u64(v, "incarnation", nv->id.incarnation);
	snprintf(owner, sizeof(owner), "0x%04x", owner_of(&nv->id));
	view_str(v, "owner", owner);
	view_str(v, "state", nv->stopping    ? "stopping"
			     : nv->listening ? "listening"
			     : !nv->up	     ? "down"
			     : nv->member    ? "member"
					     : "-");
	view_bool(v, "self", nv->self);
	view_bool(v, "up", nv->up);
	view_bool(v, "member", nv->member);
	view_bool(v, "agrees", nv->agrees);
	view_u64(v, "view", nv->view);
	view_u64(v, "weight", nv->weight);
	view_u64(v, "claimed", nv->n_claims);
	view_u64(v, "aimed", nv->n_aimed);
	if (nv->self)
		view_null(v, "heard_ms");
	else
		view_u64(v, "heard_ms", now >= nv->heard ? now - nv->heard : 0);
	if (nv->claims)
		ranges_format(nv->claims, s->buckets, rbuf, sizeof(rbuf));
	else
		snprintf(rbuf, sizeof(rbuf), "-");
	view_str(v, "ranges", rbuf);
	view_end(v);
}

static void show(void *self, struct view *v)
{
	struct rsvc *s = self;
	view_object(v, NULL);
	if (!s) {
		view_line(v, "no active-active VIP in the configuration");
		view_list(v, "nodes");
		view_end(v);
		view_end(v);
		return;
	}
	uint64_t now = host_now(s->h);
	struct ranges_view rv;
	ranges_view(s->core, &rv);
	view_u64(v, "node_id", rv.self.node);
	view_u64(v, "incarnation", rv.self.incarnation);
	char owner[8];
	snprintf(owner, sizeof(owner), "0x%04x", s->owner);
	view_str(v, "owner", owner);
	view_u64(v, "buckets", rv.buckets);
	view_u64(v, "weight", rv.weight);
	view_bool(v, "listening", rv.listening);
	view_bool(v, "link_up", rv.link_up);
	view_bool(v, "stopping", rv.stopping);
	view_bool(v, "agreed", rv.agreed);
	view_bool(v, "complete", rv.complete);
	view_u64(v, "members", rv.members);
	view_u64(v, "view", rv.view);
	view_u64(v, "claimed", rv.claimed);
	view_u64(v, "aimed", rv.aimed);
	view_u64(v, "unclaimed", rv.unclaimed);
	view_u64(v, "duplicated", rv.duplicated);
	if (rv.changed_at)
		view_u64(v, "changed_ms_ago", now - rv.changed_at);
	else
		view_null(v, "changed_ms_ago");
	struct nftb_stats ns;
	char err[256];
	view_object(v, "kernel");
	if (nftb_counters(s->nft, &ns, err, sizeof(err)) == 0) {
		view_u64(v, "connections_taken", ns.taken);
		view_u64(v, "new_per_second", s->rate);
		view_u64(v, "packets_owned", ns.owned);
		view_u64(v, "packets_other", ns.other);
		view_u64(v, "packets_undecided", ns.undecided);
		view_u64(v, "shadowed", ns.shadowed);
		view_u64(v, "shadow_dropped", ns.shadow_dropped);
		view_u64(v, "local_not_ours", ns.local);
		view_u64(v, "invalid", ns.invalid);
		view_u64(v, "icmp_other", ns.icmp_other);
	} else {
		view_str(v, "error", err);
	}
	view_u64(v, "updates", s->updates);
	view_u64(v, "update_failed", s->update_failed);
	view_u64(v, "last_update_us", s->last_update_us);
	view_u64(v, "max_update_us", s->max_update_us);
	view_u64(v, "disowns", s->forgets);
	view_u64(v, "remarked", s->remarked);
	view_u64(v, "remark_failed", s->remark_failed);
	view_u64(v, "remark_pending", s->n_remark);
	view_u64(v, "router_discovery_rounds", s->mrd_sent);
	view_u64(v, "router_discovery_failed", s->mrd_failed);
	view_end(v);
	const struct ranges_stats *st = ranges_stats(s->core);
	view_object(v, "stats");
	view_u64(v, "states", st->states);
	view_u64(v, "claims", st->claims);
	view_u64(v, "releases", st->releases);
	view_u64(v, "claimed", st->claimed);
	view_u64(v, "released", st->released);
	view_u64(v, "inherited", st->inherited);
	view_u64(v, "view_changes", st->view_changes);
	view_u64(v, "retired", st->retired);
	view_u64(v, "waits", st->waits);
	view_object(v, "refused");
	for (int r = 1; r < RGR__COUNT; r++)
		if (st->refused[r])
			view_u64(v, ranges_refusal_name((enum ranges_refusal)r), st->refused[r]);
	view_end(v);
	view_end(v);
	view_line(v, "node {node_id} (owner {owner}): {claimed} of {buckets} buckets claimed, "
		     "{aimed} aimed; members {members}, agreed {agreed}, complete {complete}, "
		     "unclaimed {unclaimed}, duplicated {duplicated}");
	view_line(v, "connections taken {kernel.connections_taken} ({kernel.new_per_second} per "
		     "second now); packets forwarded as owner "
		     "{kernel.packets_owned}, dropped as another's {kernel.packets_other}, "
		     "undecided {kernel.packets_undecided}; shadows {kernel.shadowed}");
	view_line(v, "kernel updates {kernel.updates} ({kernel.update_failed} failed, last "
		     "{kernel.last_update_us} us, longest {kernel.max_update_us} us)");
	view_table(v, "vips", &vip_table, NULL);
	for (size_t k = 0; k < s->n; k++) {
		const struct avip *x = &s->v[k];
		const struct host_iface *m = host_iface_by_index(s->h, x->ifindex);
		view_row(v);
		view_str(v, "name", x->c->name);
		view_ip4_prefix(v, "address", x->c->addr.addr, x->c->addr.len);
		view_str(v, "interface", x->c->iface);
		view_str(v, "device", m ? m->dev : "-");
		view_mac(v, "cluster_mac", &x->c->cluster_mac);
		view_end(v);
	}
	view_end(v);
	view_table(v, "nodes", &node_table, NULL);
	size_t nn = ranges_nodes(s->core);
	for (size_t i = 0; i < nn; i++) {
		struct ranges_node_view nv;
		if (ranges_node(s->core, i, &nv) == 0)
			show_node(v, s, &nv, now);
	}
	view_end(v);
	view_end(v);
}

static const struct svc_cmd cmds[] = {
    {.word = "ranges", .show = show},
    {0},
};

/*
 * A reload: the active-active VIPs and [Balance] must stay as they are
 * (every node must agree on them: change them with a restart, node by
 * node); the service then reads the new configuration's copies.
 */
static int svc_reload(void *self, const struct config *cfg, bool dry, char *err, size_t errlen)
{
	struct rsvc *s = self;
	const struct conf_balance *b = &cfg->balance, *o = &s->cfg->balance;
	size_t k = 0;
	bool same = b->buckets == s->buckets && b->seed == o->seed && b->weight == o->weight &&
		    b->router_discovery == o->router_discovery;
	for (size_t i = 0; same && i < cfg->n_vips; i++) {
		const struct conf_vip *c = &cfg->vips[i];
		if (c->mode != VIP_MODE_ACTIVE_ACTIVE)
			continue;
		const struct conf_vip *was = k < s->n ? s->v[k].c : NULL;
		const struct conf_iface *ci = config_iface(cfg, c->iface);
		const struct host_iface *m = host_iface(s->h, c->iface);
		same = was && !strcmp(was->name, c->name) && was->addr.addr == c->addr.addr &&
		       was->addr.len == c->addr.len && !strcmp(was->iface, c->iface) &&
		       mac_eq(&was->cluster_mac, &c->cluster_mac) && ci && m &&
		       !strcmp(ci->device, m->device);
		k++;
	}
	if (!same || k != s->n) {
		snprintf(err, errlen,
			 "the active-active VIPs or [Balance] changed: restart arphad to apply "
			 "it (node by node)");
		return -1;
	}
	if (dry)
		return 0;
	for (size_t i = 0, j = 0; i < cfg->n_vips; i++)
		if (cfg->vips[i].mode == VIP_MODE_ACTIVE_ACTIVE)
			s->v[j++].c = &cfg->vips[i];
	s->cfg = cfg;
	return 0;
}

const struct svc_ops svc_ranges = {
    .name = "ranges",
    .state_chan = CLUSTER_CHAN_RANGES,
    .start = start,
    .free = svc_free,
    .event = on_event,
    .tick = svc_tick,
    .next_deadline = next_deadline,
    .stop = svc_stop,
    .settled = settled,
    .reload = svc_reload,
    .cmds = cmds,
};
