/*
 * arp_engine: what the machine believes, answers and publishes, by policy.
 *
 * One entry point per input (a frame, a tick, a command). A frame goes
 * through the codec, then the checks in a fixed order; the first rule that
 * drops it ends its way. Each rule counts and, for its *Log values, writes
 * one key=value line. Learning (creating or changing an entry) and
 * answering are separate: ARPRequests governs only learning from requests,
 * and a request for one of our addresses is answered whatever it says.
 */
#include "arp_engine.h"

#include "array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_BURST	  50 /* log lines per interface per second */
#define LOG_WINDOW_MS	  1000
#define RATE_LOG_EVERY_MS 1000
#define VERIFY_MAX	  ARP_ENGINE_CHECKS_MAX /* checks running or holding off, per interface */
/*
 * A check waits for a holder whose answers were timed VERIFY_FLOOR_MS +
 * VERIFY_FACTOR x its slowest answer lately (at most VerifyTimeout): a
 * host on a wired LAN, whose kernel answers in well under 1 ms, gets 3 ms
 * (some 30 times its answer); one that answered in 1 ms gets 7 ms, one
 * that took 12 ms or more VerifyTimeout.
 */
#define VERIFY_FLOOR_MS	  3
#define VERIFY_FACTOR	  4

/*
 * A Verify check of a claim that ip is at claimed: a request went to the
 * MAC we hold for it (current, if any) and one to claimed. The holder has
 * until holder_by (its own answers' time, see VERIFY_FLOOR_MS) to show it
 * is alive; the claimant has until deadline (VerifyTimeout) to answer. The
 * claim is installed once the claimant has answered and the holder's time
 * is over without an answer from it; the holder's answer ends the check at
 * once. A check the holder won, or that nobody answered, holds its address
 * off until holdoff (a flood of claims for one address costs a bounded
 * number of requests).
 */
struct verify {
	uint32_t ip;
	struct mac claimed, current;
	bool has_current;
	bool claimed_said; /* the claimed MAC answered */
	bool running;	   /* false: decided, holding off until holdoff */
	uint8_t rule;	   /* the setting that asked for the check: AC_DROP_UNSOLICITED or _CHANGE */
	uint16_t claimed_ms; /* how long the claimed MAC took to answer */
	uint64_t asked, holder_by, deadline, holdoff;
};

struct iface {
	uint32_t ifindex;
	char name[16];
	struct mac mac;
	bool vlan;
	struct ip4_prefix *addrs;
	size_t n_addrs;
	uint32_t *shared; /* addresses the cluster shares (VIPs) */
	size_t n_shared;
	uint32_t *quiet; /* ours, being handed over: not answered */
	size_t n_quiet;
	struct arp_cluster_addr *cluster; /* active-active VIPs: every node answers for them */
	size_t n_cluster;
	struct arp_cache *cache;
	struct arp_counters cnt;
	/* ARPRateLimit token bucket, in thousandths of a frame */
	uint64_t rl_tokens;
	uint64_t rl_last;
	uint64_t rl_dropped; /* drops not yet reported in a log line */
	uint64_t rl_log_due; /* next report not before then, while rl_log_armed */
	bool rl_log_armed;
	bool rl_started;
	/* log limiter */
	uint64_t log_window;
	uint32_t log_lines;
	uint64_t log_suppressed;
	/* Verify checks, and the VerifyRate token bucket in thousandths of a request */
	struct verify ver[VERIFY_MAX];
	size_t n_ver;
	uint64_t vr_tokens, vr_last;
	bool vr_started;
};

struct proxy {
	uint32_t ifindex; /* 0: every interface */
	struct ip4_prefix net;
};

/* The counters of an interface whose device is absent, kept for its return. */
struct absent {
	char name[16];
	struct arp_counters cnt;
};

struct arp_engine {
	struct arp_policy pol;
	struct iface **ifs;
	size_t n_ifs, cap_ifs;
	struct absent *absent;
	size_t n_absent, cap_absent;
	struct proxy *proxies;
	size_t n_proxies;
};

static const char *const counter_names[AC__COUNT] = {
    [AC_RX_FRAMES] = "rx_frames",
    [AC_RX_REQUESTS] = "rx_requests",
    [AC_RX_REPLIES] = "rx_replies",
    [AC_TX_FRAMES] = "tx_frames",
    [AC_OUT_REQUESTS] = "kernel_requests",
    [AC_OTHERHOST] = "otherhost",
    [AC_LOOPED] = "looped",
    [AC_OTHER_VLAN] = "other_vlan",
    [AC_SOCKET_DROPS] = "socket_drops",
    [AC_MALFORMED_FIRST + FR_OK] = "malformed_none",
    [AC_MALFORMED_FIRST + FR_TRUNCATED] = "malformed_truncated",
    [AC_MALFORMED_FIRST + FR_NOT_ARP] = "malformed_not_arp",
    [AC_MALFORMED_FIRST + FR_BAD_HTYPE] = "malformed_bad_htype",
    [AC_MALFORMED_FIRST + FR_BAD_PTYPE] = "malformed_bad_ptype",
    [AC_MALFORMED_FIRST + FR_BAD_HLEN] = "malformed_bad_hlen",
    [AC_MALFORMED_FIRST + FR_BAD_PLEN] = "malformed_bad_plen",
    [AC_MALFORMED_FIRST + FR_BAD_OP] = "malformed_bad_op",
    [AC_MALFORMED_FIRST + FR_ETH_SRC_GROUP] = "malformed_eth_src_group",
    [AC_MALFORMED_FIRST + FR_SENDER_MAC_ZERO] = "malformed_sender_mac_zero",
    [AC_MALFORMED_FIRST + FR_SENDER_IP_BOGUS] = "malformed_sender_ip_bogus",
    [AC_MALFORMED_FIRST + FR_TARGET_IP_MULTICAST] = "malformed_target_ip_multicast",
    [AC_MALFORMED_FIRST + FR_TARGET_IP_LOOPBACK] = "malformed_target_ip_loopback",
    [AC_MALFORMED_FIRST + FR_SENDER_MAC_BROADCAST] = "seen_sender_mac_broadcast",
    [AC_MALFORMED_FIRST + FR_SENDER_MAC_MULTICAST] = "seen_sender_mac_multicast",
    [AC_CLUSTER_VIP] = "cluster_vip",
    [AC_DROP_RATE_LIMIT] = "drop_rate_limit",
    [AC_DROP_MULTICAST] = "drop_multicast",
    [AC_DROP_BROADCAST] = "drop_broadcast",
    [AC_DROP_ENET_SENDER] = "drop_enet_sender",
    [AC_DROP_NO_SENDER] = "drop_no_sender",
    [AC_DROP_SENDER_IP] = "drop_sender_ip",
    [AC_DROP_COLLISION] = "drop_ip_collision",
    [AC_DROP_UNSOLICITED] = "drop_unsolicited_reply",
    [AC_DROP_REQUEST] = "request_not_learned",
    [AC_DROP_CHANGE] = "drop_change",
    [AC_DROP_STATIC_CHANGE] = "drop_static_change",
    [AC_ANSWERED] = "answered",
    [AC_QUIET] = "handover_not_answered",
    [AC_LEARNED] = "learned",
    [AC_CHANGED] = "changed",
    [AC_REFRESHED] = "refreshed",
    [AC_EXPIRED] = "expired",
    [AC_EVICTED] = "evicted",
    [AC_CACHE_FULL] = "cache_full",
    [AC_RESOLUTION_FAILED] = "resolution_failed",
    [AC_ANNOUNCED] = "announced",
    [AC_LOG_SUPPRESSED] = "log_suppressed",
    [AC_VERIFY_STARTED] = "verify_started",
    [AC_VERIFY_CONFIRMED] = "verify_confirmed",
    [AC_VERIFY_CONFLICT] = "verify_conflict",
    [AC_VERIFY_UNANSWERED] = "verify_unanswered",
    [AC_VERIFY_REPEATED] = "verify_repeated",
    [AC_VERIFY_LIMITED] = "verify_limited",
    [AC_NOMEM] = "nomem",
};

const char *arp_counter_name(enum arp_counter c)
{
	if ((unsigned)c >= AC__COUNT || !counter_names[c])
		return "?";
	return counter_names[c];
}

/* ---- interfaces ---- */

static struct iface *find_iface(const struct arp_engine *e, uint32_t ifindex)
{
	for (size_t i = 0; i < e->n_ifs; i++)
		if (e->ifs[i]->ifindex == ifindex)
			return e->ifs[i];
	return NULL;
}

/* The interface of ifindex, or NULL with errno ENOENT. */
static struct iface *known(const struct arp_engine *e, uint32_t ifindex)
{
	struct iface *ifc = find_iface(e, ifindex);
	if (!ifc)
		errno = ENOENT;
	return ifc;
}

struct arp_engine *arp_engine_new(const struct arp_policy *p)
{
	struct arp_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pol = *p;
	return e;
}

static void iface_free(struct iface *ifc)
{
	arp_cache_free(ifc->cache);
	free(ifc->addrs);
	free(ifc->shared);
	free(ifc->quiet);
	free(ifc->cluster);
	free(ifc);
}

void arp_engine_free(struct arp_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_ifs; i++)
		iface_free(e->ifs[i]);
	free(e->ifs);
	free(e->absent);
	free(e->proxies);
	free(e);
}

const struct arp_policy *arp_engine_policy(const struct arp_engine *e)
{
	return &e->pol;
}

int arp_engine_set_policy(struct arp_engine *e, const struct arp_policy *p)
{
	if (p->cache_size != e->pol.cache_size) {
		errno = EBUSY;
		return -1;
	}
	e->pol = *p;
	return 0;
}

int arp_engine_iface_add(struct arp_engine *e, uint32_t ifindex, const char *name,
			 const struct mac *mac, bool vlan)
{
	if (find_iface(e, ifindex)) {
		errno = EEXIST;
		return -1;
	}
	if (array_grow((void **)&e->ifs, &e->cap_ifs, e->n_ifs + 1, sizeof(*e->ifs), 4) < 0)
		return -1;
	struct iface *ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return -1;
	struct arp_cache_params cp = {
	    .max_entries = e->pol.cache_size,
	    .hash_size = vlan ? e->pol.hash_size_vlan : e->pol.hash_size,
	};
	ifc->cache = arp_cache_new(&cp);
	if (!ifc->cache) {
		free(ifc);
		errno = ENOMEM;
		return -1;
	}
	ifc->ifindex = ifindex;
	size_t n = strnlen(name, sizeof(ifc->name) - 1);
	memcpy(ifc->name, name, n);
	ifc->mac = *mac;
	ifc->vlan = vlan;
	for (size_t i = 0; i < e->n_absent; i++) {
		if (strcmp(e->absent[i].name, ifc->name) != 0)
			continue;
		ifc->cnt = e->absent[i].cnt; /* back: its counters go on */
		e->absent[i] = e->absent[--e->n_absent];
		break;
	}
	e->ifs[e->n_ifs++] = ifc;
	return 0;
}

/* Keep ifc's counters under its name until an interface of that name is back. */
static void keep_counters(struct arp_engine *e, const struct iface *ifc)
{
	if (!ifc->name[0] || array_grow((void **)&e->absent, &e->cap_absent, e->n_absent + 1,
					sizeof(*e->absent), 4) < 0)
		return;
	struct absent *a = &e->absent[e->n_absent++];
	memcpy(a->name, ifc->name, sizeof(a->name));
	a->cnt = ifc->cnt;
}

void arp_engine_iface_del(struct arp_engine *e, uint32_t ifindex)
{
	for (size_t i = 0; i < e->n_ifs; i++) {
		if (e->ifs[i]->ifindex != ifindex)
			continue;
		keep_counters(e, e->ifs[i]);
		iface_free(e->ifs[i]);
		memmove(&e->ifs[i], &e->ifs[i + 1], (e->n_ifs - i - 1) * sizeof(e->ifs[0]));
		e->n_ifs--;
		break;
	}
	size_t k = 0;
	for (size_t i = 0; i < e->n_proxies; i++)
		if (e->proxies[i].ifindex != ifindex)
			e->proxies[k++] = e->proxies[i];
	e->n_proxies = k;
}

int arp_engine_iface_set_mac(struct arp_engine *e, uint32_t ifindex, const struct mac *mac)
{
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	ifc->mac = *mac;
	return 0;
}

/* Replace the array *dst (*dst_n elements) with a copy of src[0..n-1]: 0, or -1/ENOMEM. */
static int replace_copy(void *dst, size_t *dst_n, const void *src, size_t n, size_t elem)
{
	void *v = NULL;
	if (n) {
		v = malloc(n * elem);
		if (!v)
			return -1;
		memcpy(v, src, n * elem);
	}
	void **d = dst;
	free(*d);
	*d = v;
	*dst_n = n;
	return 0;
}

int arp_engine_iface_set_addrs(struct arp_engine *e, uint32_t ifindex,
			       const struct ip4_prefix *addrs, size_t n)
{
	struct iface *ifc = known(e, ifindex);
	return ifc ? replace_copy(&ifc->addrs, &ifc->n_addrs, addrs, n, sizeof(*addrs)) : -1;
}

bool arp_engine_iface_has_addr(const struct arp_engine *e, uint32_t ifindex,
			       const struct ip4_prefix *a)
{
	const struct iface *ifc = known(e, ifindex);
	for (size_t i = 0; ifc && i < ifc->n_addrs; i++)
		if (ifc->addrs[i].addr == a->addr && ifc->addrs[i].len == a->len)
			return true;
	return false;
}

int arp_engine_iface_set_shared(struct arp_engine *e, uint32_t ifindex, const uint32_t *ips,
				size_t n)
{
	struct iface *ifc = known(e, ifindex);
	return ifc ? replace_copy(&ifc->shared, &ifc->n_shared, ips, n, sizeof(*ips)) : -1;
}

int arp_engine_iface_set_quiet(struct arp_engine *e, uint32_t ifindex, const uint32_t *ips,
			       size_t n)
{
	struct iface *ifc = known(e, ifindex);
	return ifc ? replace_copy(&ifc->quiet, &ifc->n_quiet, ips, n, sizeof(*ips)) : -1;
}

int arp_engine_iface_set_cluster(struct arp_engine *e, uint32_t ifindex,
				 const struct arp_cluster_addr *v, size_t n)
{
	struct iface *ifc = known(e, ifindex);
	return ifc ? replace_copy(&ifc->cluster, &ifc->n_cluster, v, n, sizeof(*v)) : -1;
}

static void neigh(struct actions *out, const struct iface *ifc, enum action_type t, uint32_t ip,
		  const struct mac *mac, enum neigh_kind kind)
{
	struct action *a = actions_push(out, t, ifc->ifindex);
	if (!a)
		return;
	a->u.neigh.ip = ip;
	if (mac)
		a->u.neigh.mac = *mac;
	else
		memset(&a->u.neigh.mac, 0, sizeof(a->u.neigh.mac));
	a->u.neigh.kind = (uint8_t)kind;
}

int arp_engine_add_entry(struct arp_engine *e, uint32_t ifindex, uint32_t ip, enum arp_type type,
			 const struct mac *mac, struct actions *out)
{
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	if (!arp_type_is_configured(type) || (type == ARP_STATIC && !mac)) {
		errno = EINVAL;
		return -1;
	}
	struct arp_entry *en = arp_cache_lookup(ifc->cache, ip);
	if (en && arp_type_is_configured(en->type)) {
		errno = EEXIST;
		return -1;
	}
	if (en)
		arp_cache_remove(ifc->cache, en);
	struct arp_entry ev;
	bool evicted = false;
	en = arp_cache_insert(ifc->cache, ip, type, mac, UINT64_MAX, &ev, &evicted);
	if (!en)
		return -1;
	if (evicted && ev.type == ARP_DYNAMIC)
		neigh(out, ifc, ACT_NEIGH_DEL, ev.ip, NULL, NEIGH_REACHABLE);
	if (!mac)
		en->flags |= ARP_F_IFACE_MAC;
	if (type == ARP_STATIC)
		neigh(out, ifc, ACT_NEIGH_SET, ip, mac, NEIGH_PERMANENT);
	return 0;
}

int arp_engine_del_entry(struct arp_engine *e, uint32_t ifindex, uint32_t ip, bool replacing,
			 struct actions *out)
{
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	struct arp_entry *en = arp_cache_lookup(ifc->cache, ip);
	if (!en || !arp_type_is_configured(en->type)) {
		errno = ENOENT;
		return -1;
	}
	bool was_static = en->type == ARP_STATIC;
	arp_cache_remove(ifc->cache, en);
	if (was_static && !replacing)
		neigh(out, ifc, ACT_NEIGH_DEL, ip, NULL, NEIGH_PERMANENT);
	return 0;
}

void arp_engine_clear_proxies(struct arp_engine *e)
{
	e->n_proxies = 0;
}

int arp_engine_add_proxy(struct arp_engine *e, uint32_t ifindex, const struct ip4_prefix *net)
{
	struct proxy *v = realloc(e->proxies, (e->n_proxies + 1) * sizeof(*v));
	if (!v)
		return -1;
	e->proxies = v;
	v[e->n_proxies].ifindex = ifindex;
	v[e->n_proxies].net = *net;
	v[e->n_proxies].net.addr &= ip4_mask(net->len);
	e->n_proxies++;
	return 0;
}

/* ---- logging ---- */

/* The log window is over: report what it suppressed and start a new one at now. */
static void log_window_end(struct iface *ifc, uint64_t now, struct actions *out)
{
	if (ifc->log_suppressed)
		actions_log(out, ifc->ifindex, LOGL_NOTICE,
			    "event=log_suppressed recvif=%s count=%llu", ifc->name,
			    (unsigned long long)ifc->log_suppressed);
	ifc->log_window = now;
	ifc->log_lines = 0;
	ifc->log_suppressed = 0;
}

/*
 * May this interface log one more line now? Writes the suppressed count
 * first; arp_engine_tick writes it when the window ends with no new line.
 */
static bool log_allowed(struct iface *ifc, uint64_t now, struct actions *out)
{
	if (now - ifc->log_window >= LOG_WINDOW_MS || now < ifc->log_window)
		log_window_end(ifc, now, out);
	if (ifc->log_lines >= LOG_BURST) {
		ifc->log_suppressed++;
		ifc->cnt.v[AC_LOG_SUPPRESSED]++;
		return false;
	}
	ifc->log_lines++;
	return true;
}

/* One line in the form of the seed's drop log. */
static void log_frame(struct iface *ifc, uint64_t now, struct actions *out, enum log_level level,
		      const char *event, const char *action, const char *rule, const char *reason,
		      const struct arp_frame *f, const char *extra)
{
	if (!log_allowed(ifc, now, out))
		return;
	char hs[MAC_STRLEN], hd[MAC_STRLEN], se[MAC_STRLEN], de[MAC_STRLEN];
	char si[IP4_STRLEN], di[IP4_STRLEN];
	actions_log(out, ifc->ifindex, level,
		    "event=%s action=%s rule=%s reason=%s recvif=%s hwsender=%s hwdest=%s arp=%s "
		    "srcenet=%s srcip=%s destenet=%s destip=%s%s%s",
		    event, action, rule, reason, ifc->name, mac_fmt(&f->eth_src, hs),
		    mac_fmt(&f->eth_dst, hd), f->op == ARP_OP_REQUEST ? "request" : "reply",
		    mac_fmt(&f->sha, se), ip4_fmt(f->spa, si), mac_fmt(&f->tha, de),
		    ip4_fmt(f->tpa, di), extra ? " " : "", extra ? extra : "");
}

/*
 * Apply an enumerated rule to frame f. Returns true when the frame goes on,
 * false when the rule dropped it (counted in drop_counter).
 */
static bool rule(struct iface *ifc, uint64_t now, struct actions *out, uint8_t value,
		 enum arp_counter drop_counter, const char *event, const char *rule_name,
		 const char *reason, const struct arp_frame *f, const char *extra)
{
	bool drops = arp_value_drops(value);
	if (arp_value_logs(value))
		log_frame(ifc, now, out, LOGL_NOTICE, event, drops ? "drop" : "accept", rule_name,
			  reason, f, extra);
	if (drops)
		ifc->cnt.v[drop_counter]++;
	return !drops;
}

/* ---- the frame path ---- */

static bool is_our_addr(const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].addr == ip)
			return true;
	return false;
}

static bool is_shared(const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_shared; i++)
		if (ifc->shared[i] == ip)
			return true;
	return false;
}

/* The group MAC of the active-active VIP ip, or NULL when ip is none. */
static const struct mac *cluster_mac(const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_cluster; i++)
		if (ifc->cluster[i].ip == ip)
			return &ifc->cluster[i].mac;
	return NULL;
}

static bool in_our_networks(const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_addrs; i++)
		if (ip4_prefix_contains(&ifc->addrs[i], ip))
			return true;
	return false;
}

static bool proxied(const struct arp_engine *e, const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < e->n_proxies; i++) {
		const struct proxy *p = &e->proxies[i];
		if ((p->ifindex == 0 || p->ifindex == ifc->ifindex) &&
		    ip4_prefix_contains(&p->net, ip))
			return true;
	}
	return false;
}

/*
 * One line for the rate-limit drops not yet reported; the next one comes a
 * second later at the earliest (from arp_engine_tick), so the dropped=
 * figures of all lines add up to the drop_rate_limit counter. Not subject
 * to the log limiter: it is at most one line a second.
 */
static void rate_report(struct arp_engine *e, struct iface *ifc, uint64_t now, struct actions *out)
{
	actions_log(out, ifc->ifindex, LOGL_WARNING,
		    "event=arp_rate_limited action=drop rule=ARPRateLimit recvif=%s limit=%u "
		    "dropped=%llu",
		    ifc->name, e->pol.rate_limit, (unsigned long long)ifc->rl_dropped);
	ifc->rl_dropped = 0;
	ifc->rl_log_due = now + RATE_LOG_EVERY_MS;
	ifc->rl_log_armed = true;
}

static bool rate_limited(struct arp_engine *e, struct iface *ifc, uint64_t now, struct actions *out)
{
	uint64_t rate = e->pol.rate_limit;
	if (!rate)
		return false;
	uint64_t cap = rate * 1000;
	if (!ifc->rl_started) {
		ifc->rl_started = true;
		ifc->rl_tokens = cap;
		ifc->rl_last = now;
	} else if (now > ifc->rl_last) {
		uint64_t add = (now - ifc->rl_last) * rate;
		ifc->rl_tokens = ifc->rl_tokens + add > cap ? cap : ifc->rl_tokens + add;
		ifc->rl_last = now;
	}
	if (ifc->rl_tokens >= 1000) {
		ifc->rl_tokens -= 1000;
		return false;
	}
	ifc->cnt.v[AC_DROP_RATE_LIMIT]++;
	ifc->rl_dropped++;
	if (!ifc->rl_log_armed)
		rate_report(e, ifc, now, out); /* the first drop of a flood: say so now */
	return true;
}

/*
 * We asked for ip, in a request sent to the MAC to (NULL: broadcast):
 * replies for it are solicited for a while. 0, or -1 with errno ENOSPC
 * or ENOMEM when the query could not be recorded (counted).
 */
static int note_query(struct arp_engine *e, struct iface *ifc, uint32_t ip, const struct mac *to,
		      uint64_t now, struct actions *out)
{
	ifc->cnt.v[AC_OUT_REQUESTS]++;
	uint64_t until = now + (uint64_t)e->pol.expire_unknown_s * 1000;
	struct arp_entry *en = arp_cache_lookup(ifc->cache, ip);
	if (!en) {
		struct arp_entry ev;
		bool evicted = false;
		en = arp_cache_insert(ifc->cache, ip, ARP_INCOMPLETE, NULL, until, &ev, &evicted);
		if (!en) {
			ifc->cnt.v[errno == ENOSPC ? AC_CACHE_FULL : AC_NOMEM]++;
			return -1;
		}
		if (evicted) {
			ifc->cnt.v[AC_EVICTED]++;
			if (ev.type == ARP_DYNAMIC)
				neigh(out, ifc, ACT_NEIGH_DEL, ev.ip, NULL, NEIGH_REACHABLE);
		}
	} else if (en->type == ARP_UNKNOWN) {
		arp_cache_update(ifc->cache, en, ARP_INCOMPLETE, NULL, until);
	} else if (en->type == ARP_INCOMPLETE) {
		arp_cache_update(ifc->cache, en, ARP_INCOMPLETE, NULL, until);
	}
	en->query_until = until;
	/*
	 * A probe sent to the entry's MAC (the kernel checking that a known
	 * neighbour is still there) reaches that host alone: a reply from any
	 * other MAC did not answer it. Otherwise a flood of replies claiming
	 * the neighbour would win every such probe.
	 */
	if (en->type == ARP_DYNAMIC && to && mac_eq(to, &en->mac))
		en->flags |= ARP_F_QUERY_UNICAST;
	else
		en->flags &= (uint8_t)~ARP_F_QUERY_UNICAST;
	return 0;
}

/* The kernel asked for f->tpa. */
static void kernel_request(struct arp_engine *e, struct iface *ifc, const struct arp_frame *f,
			   uint64_t now, struct actions *out)
{
	if (f->op != ARP_OP_REQUEST || f->spa == f->tpa || f->tpa == 0)
		return; /* announcements and odd frames ask nothing */
	note_query(e, ifc, f->tpa, &f->eth_dst, now, out);
}

/* Make ip's dynamic entry (en, or none yet) say mac; the kernel follows. */
static void set_dynamic(struct arp_engine *e, struct iface *ifc, struct arp_entry *en, uint32_t ip,
			const struct mac *mac, uint64_t now, struct actions *out)
{
	uint64_t expires = now + (uint64_t)e->pol.expire_s * 1000;
	if (!en) {
		struct arp_entry ev;
		bool evicted = false;
		en = arp_cache_insert(ifc->cache, ip, ARP_DYNAMIC, mac, expires, &ev, &evicted);
		if (!en) {
			ifc->cnt.v[errno == ENOSPC ? AC_CACHE_FULL : AC_NOMEM]++;
			return;
		}
		if (evicted) {
			ifc->cnt.v[AC_EVICTED]++;
			if (ev.type == ARP_DYNAMIC)
				neigh(out, ifc, ACT_NEIGH_DEL, ev.ip, NULL, NEIGH_REACHABLE);
		}
		ifc->cnt.v[AC_LEARNED]++;
	} else if (en->type == ARP_DYNAMIC) {
		ifc->cnt.v[mac_eq(&en->mac, mac) ? AC_REFRESHED : AC_CHANGED]++;
		arp_cache_update(ifc->cache, en, ARP_DYNAMIC, mac, expires);
	} else {
		/* INCOMPLETE or UNKNOWN: the answer we were waiting for */
		arp_cache_update(ifc->cache, en, ARP_DYNAMIC, mac, expires);
		ifc->cnt.v[AC_LEARNED]++;
	}
	en->query_until = 0;
	en->flags &= (uint8_t)~ARP_F_QUERY_UNICAST;
	neigh(out, ifc, ACT_NEIGH_SET, ip, mac, NEIGH_REACHABLE);
}

/* en answered in ms: the slowest answer lately, the older ones fading by an eighth each time. */
static void timed(struct arp_entry *en, uint64_t ms)
{
	uint16_t v = ms > UINT16_MAX ? UINT16_MAX : (uint16_t)ms;
	uint16_t faded = (en->flags & ARP_F_TIMED) ? en->answer_ms - en->answer_ms / 8 : 0;
	en->answer_ms = v > faded ? v : faded;
	en->flags |= ARP_F_TIMED;
}

static void verify_claim(struct arp_engine *e, struct iface *ifc, const struct arp_frame *f,
			 const struct arp_entry *en, enum arp_counter rule, uint64_t now,
			 struct actions *out);

/* Create or update the dynamic entry for f->spa -> f->sha, as ARPChanges says. */
static void learn(struct arp_engine *e, struct iface *ifc, struct arp_entry *en,
		  const struct arp_frame *f, uint64_t now, struct actions *out)
{
	if (en && en->type == ARP_DYNAMIC && !mac_eq(&en->mac, &f->sha)) {
		if (e->pol.changes == AV_VERIFY) {
			verify_claim(e, ifc, f, en, AC_DROP_CHANGE, now, out);
			return;
		}
		char extra[32 + MAC_STRLEN];
		char old[MAC_STRLEN];
		snprintf(extra, sizeof(extra), "oldenet=%s", mac_fmt(&en->mac, old));
		if (!rule(ifc, now, out, e->pol.changes, AC_DROP_CHANGE, "arp_changed", "ARPChanges",
			  "mac_changed", f, extra))
			return;
	}
	set_dynamic(e, ifc, en, f->spa, &f->sha, now, out);
}

static void send_frame(struct iface *ifc, struct actions *out, const struct arp_frame *f)
{
	actions_send(out, ifc->ifindex, f);
	ifc->cnt.v[AC_TX_FRAMES]++;
}

/* ---- Verify ---- */

static struct verify *verify_find(struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_ver; i++)
		if (ifc->ver[i].ip == ip)
			return &ifc->ver[i];
	return NULL;
}

/* A slot for a new check: an unused one, or one whose hold-off is over. */
static struct verify *verify_slot(struct iface *ifc, uint64_t now)
{
	for (size_t i = 0; i < ifc->n_ver; i++)
		if (!ifc->ver[i].running && ifc->ver[i].holdoff <= now)
			return &ifc->ver[i];
	if (ifc->n_ver < VERIFY_MAX)
		return &ifc->ver[ifc->n_ver++];
	return NULL;
}

/* Take n requests from the VerifyRate bucket (a second's worth at most), or none. */
static bool verify_tokens(const struct arp_engine *e, struct iface *ifc, uint64_t n, uint64_t now)
{
	uint64_t rate = e->pol.verify_rate, cap = rate * 1000;
	if (!ifc->vr_started) {
		ifc->vr_started = true;
		ifc->vr_tokens = cap;
		ifc->vr_last = now;
	} else if (now > ifc->vr_last) {
		uint64_t add = (now - ifc->vr_last) * rate;
		ifc->vr_tokens = ifc->vr_tokens + add > cap ? cap : ifc->vr_tokens + add;
		ifc->vr_last = now;
	}
	if (ifc->vr_tokens < n * 1000)
		return false;
	ifc->vr_tokens -= n * 1000;
	return true;
}

/* Our address to ask about ip from: one whose network holds ip, else the first, else none. */
static uint32_t asking_addr(const struct iface *ifc, uint32_t ip)
{
	for (size_t i = 0; i < ifc->n_addrs; i++)
		if (ip4_prefix_contains(&ifc->addrs[i], ip))
			return ifc->addrs[i].addr;
	return ifc->n_addrs ? ifc->addrs[0].addr : 0;
}

/* Who has ip? A request sent to the MAC to alone. */
static void ask(struct iface *ifc, struct actions *out, uint32_t ip, const struct mac *to)
{
	struct arp_frame r;
	frame_request(&r, &ifc->mac, asking_addr(ifc, ip), ip);
	r.eth_dst = *to;
	send_frame(ifc, out, &r);
}

/*
 * A check started or ended (v->running says which): tell the shell
 * (ACT_CHECKS), which reads the checks again (arp_engine_checks). Call it
 * after the change, before a new check's requests.
 */
static void verify_changed(struct iface *ifc, const struct verify *v, struct actions *out)
{
	struct action *a = actions_push(out, ACT_CHECKS, ifc->ifindex);
	if (a)
		a->u.checks = v->running;
}

/* When check v has work next: the holder's time once the claimant answered, else the end. */
static uint64_t verify_due(const struct verify *v)
{
	return v->claimed_said && v->holder_by < v->deadline ? v->holder_by : v->deadline;
}

/* ms from then to at, 0 when at is earlier, at most UINT16_MAX. */
static uint16_t ms_since(uint64_t then, uint64_t at)
{
	uint64_t d = at > then ? at - then : 0;
	return d > UINT16_MAX ? UINT16_MAX : (uint16_t)d;
}

static const char *verify_rule_name(const struct verify *v)
{
	return v->rule == AC_DROP_CHANGE ? "ARPChanges" : "UnsolicitedARPReplies";
}

/* One line about check v, in the form of the frame lines. */
static void verify_log(struct iface *ifc, uint64_t now, struct actions *out, enum log_level level,
		       const char *event, const char *action, const char *reason,
		       const struct verify *v)
{
	if (!log_allowed(ifc, now, out))
		return;
	char ip[IP4_STRLEN], cl[MAC_STRLEN], cur[MAC_STRLEN];
	actions_log(out, ifc->ifindex, level,
		    "event=%s action=%s rule=%s reason=%s recvif=%s srcip=%s srcenet=%s curenet=%s",
		    event, action, verify_rule_name(v), reason, ifc->name, ip4_fmt(v->ip, ip),
		    mac_fmt(&v->claimed, cl), v->has_current ? mac_fmt(&v->current, cur) : "none");
}

/*
 * A claim that f->spa is at f->sha, which the setting behind rule says to
 * check: ask the MAC we hold for it (if any) and the claimed one. Nothing
 * changes until the answers decide (verify_answer, verify_decide).
 */
static void verify_claim(struct arp_engine *e, struct iface *ifc, const struct arp_frame *f,
			 const struct arp_entry *en, enum arp_counter rule, uint64_t now,
			 struct actions *out)
{
	struct verify *v = verify_find(ifc, f->spa);
	if (v && v->running) {
		ifc->cnt.v[mac_eq(&v->claimed, &f->sha) ? AC_VERIFY_REPEATED : AC_VERIFY_LIMITED]++;
		return;
	}
	bool has_current = en && en->type == ARP_DYNAMIC;
	if ((v && v->holdoff > now) || !(v = v ? v : verify_slot(ifc, now)) ||
	    !verify_tokens(e, ifc, has_current ? 2 : 1, now)) {
		ifc->cnt.v[AC_VERIFY_LIMITED]++;
		return;
	}
	uint64_t wait = e->pol.verify_timeout_ms, holder = 0;
	if (has_current) {
		holder = wait;
		if ((en->flags & ARP_F_TIMED) &&
		    VERIFY_FLOOR_MS + VERIFY_FACTOR * (uint64_t)en->answer_ms < wait)
			holder = VERIFY_FLOOR_MS + VERIFY_FACTOR * (uint64_t)en->answer_ms;
	}
	*v = (struct verify){.ip = f->spa,
			     .claimed = f->sha,
			     .has_current = has_current,
			     .running = true,
			     .rule = (uint8_t)rule,
			     .asked = now,
			     .holder_by = now + holder,
			     .deadline = now + wait};
	verify_changed(ifc, v, out); /* before the requests: their answers must not wait */
	if (has_current) {
		v->current = en->mac;
		ask(ifc, out, f->spa, &v->current);
	}
	ask(ifc, out, f->spa, &v->claimed);
	ifc->cnt.v[AC_VERIFY_STARTED]++;
	verify_log(ifc, now, out, LOGL_INFO, "arp_verify", "ask",
		   has_current ? "mac_changed" : "no_entry", v);
}

static void verify_decided(struct arp_engine *e, struct iface *ifc, struct verify *v, uint64_t now,
			   struct actions *out);

/* Check v's time is over, or its outcome is certain; then the shell hears it ended. */
static void verify_decide(struct arp_engine *e, struct iface *ifc, struct verify *v, uint64_t now,
			  struct actions *out)
{
	verify_decided(e, ifc, v, now, out);
	verify_changed(ifc, v, out); /* after the outcome: the new mapping first */
}

static void verify_decided(struct arp_engine *e, struct iface *ifc, struct verify *v, uint64_t now,
			   struct actions *out)
{
	v->running = false;
	if (!v->claimed_said) {
		v->holdoff = now + e->pol.verify_holdoff_ms;
		ifc->cnt.v[AC_VERIFY_UNANSWERED]++;
		verify_log(ifc, now, out, LOGL_INFO, "arp_verify", "keep", "nobody_answered", v);
		return;
	}
	v->holdoff = now; /* a move is no reason to wait: the next one may follow at once */
	struct arp_entry *en = arp_cache_lookup(ifc->cache, v->ip);
	if (en && arp_type_is_configured(en->type))
		return; /* configured since: it stays */
	ifc->cnt.v[AC_VERIFY_CONFIRMED]++;
	verify_log(ifc, now, out, LOGL_NOTICE, "arp_verified", "accept",
		   v->has_current ? "only_new_mac_answered" : "new_mac_answered", v);
	set_dynamic(e, ifc, en, v->ip, &v->claimed, now, out);
	en = arp_cache_lookup(ifc->cache, v->ip);
	if (en && en->type == ARP_DYNAMIC) {
		en->flags &= (uint8_t)~ARP_F_TIMED; /* another host: its own times */
		timed(en, v->claimed_ms);
	}
}

/*
 * A reply for f->spa that arrived at arrived: true when it answered a
 * check of ours (and is judged so).
 */
static bool verify_answer(struct arp_engine *e, struct iface *ifc, const struct arp_frame *f,
			  struct arp_entry *en, uint64_t now, uint64_t arrived, struct actions *out)
{
	struct verify *v = verify_find(ifc, f->spa);
	/* an answer is addressed to the address we asked from (a gratuitous reply is not one) */
	if (!v || !v->running || f->tpa != asking_addr(ifc, f->spa) || !mac_eq(&f->tha, &ifc->mac))
		return false;
	if (v->has_current && mac_eq(&f->sha, &v->current)) {
		/* the holder is alive: it keeps the address, whoever claimed it */
		v->running = false;
		v->holdoff = now + e->pol.verify_holdoff_ms;
		ifc->cnt.v[AC_VERIFY_CONFLICT]++;
		verify_log(ifc, now, out, LOGL_WARNING, "arp_conflict", "keep",
			   "current_holder_answered", v);
		if (en && en->type == ARP_DYNAMIC && mac_eq(&en->mac, &f->sha)) {
			set_dynamic(e, ifc, en, f->spa, &f->sha, now, out);
			timed(en, ms_since(v->asked, arrived));
		}
		verify_changed(ifc, v, out);
		return true;
	}
	if (!mac_eq(&f->sha, &v->claimed))
		return false;
	v->claimed_said = true;
	v->claimed_ms = ms_since(v->asked, arrived);
	/* nobody to lose it, or the holder's time is over: the claimant's answer is enough */
	if (!v->has_current || now >= v->holder_by)
		verify_decide(e, ifc, v, now, out);
	return true;
}

/* Gratuitous ARP for ip, both forms, as sha with Ethernet source eth_src. */
static void announce_ip(struct iface *ifc, struct actions *out, uint32_t ip, const struct mac *sha,
			const struct mac *eth_src)
{
	struct arp_frame g;
	frame_garp_request(&g, sha, ip);
	g.eth_src = *eth_src;
	send_frame(ifc, out, &g);
	frame_garp_reply(&g, sha, ip);
	g.eth_src = *eth_src;
	send_frame(ifc, out, &g);
	ifc->cnt.v[AC_ANNOUNCED] += 2;
}

/* Answer a request for f->tpa if it is ours, published or proxied. */
static void answer(struct arp_engine *e, struct iface *ifc, const struct arp_frame *f,
		   struct actions *out)
{
	for (size_t i = 0; i < ifc->n_quiet; i++)
		if (ifc->quiet[i] == f->tpa) {
			ifc->cnt.v[AC_QUIET]++;
			return;
		}
	struct mac sha = ifc->mac, eth_src = ifc->mac;
	const struct mac *group = cluster_mac(ifc, f->tpa);
	if (group) {
		/* the group MAC in the ARP data alone: a bridge drops a frame whose
		   Ethernet source is a group MAC */
		sha = *group;
	} else if (!is_our_addr(ifc, f->tpa)) {
		struct arp_entry *t = arp_cache_lookup(ifc->cache, f->tpa);
		if (t && (t->type == ARP_PUBLISH || t->type == ARP_XPUBLISH)) {
			if (!(t->flags & ARP_F_IFACE_MAC))
				sha = t->mac;
			if (t->type == ARP_XPUBLISH)
				eth_src = sha;
		} else if (!proxied(e, ifc, f->tpa)) {
			return;
		}
	}
	/* addressed to the sender MAC in the ARP data, not the frame's source */
	struct arp_frame r;
	frame_reply(&r, &eth_src, &sha, f->tpa, &f->sha, f->spa);
	r.vlan = f->vlan;
	send_frame(ifc, out, &r);
	ifc->cnt.v[AC_ANSWERED]++;
}

/* The MAC a configured entry stands for on this interface. */
static const struct mac *configured_mac(const struct iface *ifc, const struct arp_entry *en)
{
	return (en->flags & ARP_F_IFACE_MAC) ? &ifc->mac : &en->mac;
}

/*
 * UnsolicitedARPReplies=Verify: an unsolicited reply or a gratuitous ARP.
 * One that says what we hold confirms it; one that would change or create
 * a mapping is checked.
 */
static void announced(struct arp_engine *e, struct iface *ifc, struct arp_entry *en,
		      const struct arp_frame *f, uint64_t now, struct actions *out)
{
	if (en && en->type == ARP_DYNAMIC && mac_eq(&en->mac, &f->sha))
		set_dynamic(e, ifc, en, f->spa, &f->sha, now, out);
	else
		verify_claim(e, ifc, f, en, AC_DROP_UNSOLICITED, now, out);
}

static void incoming(struct arp_engine *e, struct iface *ifc, const uint8_t *buf, size_t len,
		     uint64_t now, uint64_t arrived, struct actions *out)
{
	const struct arp_policy *pol = &e->pol;
	struct arp_frame f;

	if (rate_limited(e, ifc, now, out))
		return;
	enum frame_reason r = frame_parse(buf, len, &f);
	if (r != FR_OK)
		ifc->cnt.v[AC_MALFORMED_FIRST + r]++;
	if (r != FR_OK && r < FR_SOFT_FIRST)
		return;
	if (f.vlan) {
		/* the VLAN's own device sees it untagged; not ours to judge here */
		ifc->cnt.v[AC_OTHER_VLAN]++;
		return;
	}
	ifc->cnt.v[f.op == ARP_OP_REQUEST ? AC_RX_REQUESTS : AC_RX_REPLIES]++;

	/* another node of the cluster speaking for an active-active VIP */
	const struct mac *group = cluster_mac(ifc, f.spa);
	if (group && mac_eq(&f.sha, group)) {
		ifc->cnt.v[AC_CLUSTER_VIP]++;
		if (f.op == ARP_OP_REQUEST && f.spa != f.tpa)
			answer(e, ifc, &f, out);
		return;
	}

	/* hardware addresses */
	if (r == FR_SENDER_MAC_BROADCAST &&
	    !rule(ifc, now, out, pol->broadcast, AC_DROP_BROADCAST, "arp_broadcast_sender",
		  "ARPBroadcast", "sender_mac_broadcast", &f, NULL))
		return;
	if (r == FR_SENDER_MAC_MULTICAST &&
	    !rule(ifc, now, out, pol->multicast, AC_DROP_MULTICAST, "arp_multicast_sender",
		  "ARPMulticast", "sender_mac_multicast", &f, NULL))
		return;
	if (!mac_eq(&f.eth_src, &f.sha) &&
	    !rule(ifc, now, out, pol->match_enet_sender, AC_DROP_ENET_SENDER,
		  "enet_sender_mismatch", "ARPMatchEnetSender", "enet_sender_mismatch", &f, NULL))
		return;

	/* sender IP */
	if (f.spa == 0) {
		if (f.op == ARP_OP_REPLY) {
			/* a reply from nobody: never believed, whatever the setting */
			ifc->cnt.v[AC_DROP_NO_SENDER]++;
			if (arp_value_logs(pol->query_no_sender))
				log_frame(ifc, now, out, LOGL_NOTICE, "arp_query_no_sender", "drop",
					  "ARPQueryNoSender", "reply_without_sender", &f, NULL);
			return;
		}
		if (!rule(ifc, now, out, pol->query_no_sender, AC_DROP_NO_SENDER,
			  "arp_query_no_sender", "ARPQueryNoSender", "sender_ip_zero", &f, NULL))
			return;
		answer(e, ifc, &f, out); /* a probe teaches nothing: answer only */
		return;
	}
	if (is_shared(ifc, f.spa) && !mac_eq(&f.sha, &ifc->mac)) {
		/* another node speaking for a VIP: core/vip decides who holds it */
		ifc->cnt.v[AC_CLUSTER_VIP]++;
		if (f.op == ARP_OP_REQUEST && f.spa != f.tpa)
			answer(e, ifc, &f, out);
		return;
	}
	if (is_our_addr(ifc, f.spa)) {
		if (mac_eq(&f.sha, &ifc->mac)) {
			ifc->cnt.v[AC_LOOPED]++;
			return;
		}
		bool reclaim = pol->ip_collision == AV_DROPANNOUNCE;
		ifc->cnt.v[AC_DROP_COLLISION]++;
		log_frame(ifc, now, out, LOGL_WARNING, "ip_collision",
			  reclaim ? "drop_announce" : "drop", "ARPIPCollision", "sender_ip_is_ours",
			  &f, NULL);
		if (reclaim)
			announce_ip(ifc, out, f.spa, &ifc->mac, &ifc->mac);
		return;
	}
	if (!in_our_networks(ifc, f.spa) &&
	    !rule(ifc, now, out, pol->sender_ip, AC_DROP_SENDER_IP, "arp_sender_ip", "ARPSenderIP",
		  "sender_ip_not_on_interface", &f, NULL))
		return;

	/* what the frame says about its sender */
	struct arp_entry *en = arp_cache_lookup(ifc->cache, f.spa);
	if (en && arp_type_is_configured(en->type)) {
		if (!mac_eq(configured_mac(ifc, en), &f.sha)) {
			char extra[32 + MAC_STRLEN];
			char cfg[MAC_STRLEN];
			snprintf(extra, sizeof(extra), "cfgenet=%s",
				 mac_fmt(configured_mac(ifc, en), cfg));
			if (!rule(ifc, now, out, pol->static_changes, AC_DROP_STATIC_CHANGE,
				  "static_arp_changed", "StaticARPChanges", "contradicts_static",
				  &f, extra))
				return;
		}
	} else if (f.op == ARP_OP_REPLY) {
		if (verify_answer(e, ifc, &f, en, now, arrived, out))
			return;
		bool solicited = en && en->query_until > now &&
				 (!(en->flags & ARP_F_QUERY_UNICAST) || mac_eq(&en->mac, &f.sha));
		if (!solicited && pol->unsolicited_replies == AV_VERIFY) {
			announced(e, ifc, en, &f, now, out);
			return;
		}
		if (!solicited &&
		    !rule(ifc, now, out, pol->unsolicited_replies, AC_DROP_UNSOLICITED,
			  "unsolicited_arp_reply", "UnsolicitedARPReplies",
			  en && en->type == ARP_DYNAMIC ? "already_exists" : "no_query", &f, NULL))
			return;
		/* the time since the latest query for it (when the reply is to that one) */
		uint64_t asked = solicited ? en->query_until - (uint64_t)pol->expire_unknown_s * 1000
					   : now;
		learn(e, ifc, en, &f, now, out);
		en = arp_cache_lookup(ifc->cache, f.spa);
		if (solicited && en && en->type == ARP_DYNAMIC && mac_eq(&en->mac, &f.sha))
			timed(en, ms_since(asked, arrived));
	} else if (pol->requests == AV_ACCEPT) {
		learn(e, ifc, en, &f, now, out);
	} else if (f.spa == f.tpa && pol->unsolicited_replies == AV_VERIFY) {
		announced(e, ifc, en, &f, now, out); /* a gratuitous request: an announcement */
	} else {
		ifc->cnt.v[AC_DROP_REQUEST]++;
	}

	if (f.op == ARP_OP_REQUEST && f.spa != f.tpa)
		answer(e, ifc, &f, out);
}

void arp_engine_input(struct arp_engine *e, uint32_t ifindex, const uint8_t *buf, size_t len,
		      enum arp_rx_dir dir, uint64_t now, struct actions *out)
{
	arp_engine_input_at(e, ifindex, buf, len, dir, now, now, out);
}

void arp_engine_input_at(struct arp_engine *e, uint32_t ifindex, const uint8_t *buf, size_t len,
			 enum arp_rx_dir dir, uint64_t now, uint64_t arrived, struct actions *out)
{
	struct iface *ifc = find_iface(e, ifindex);
	if (!ifc)
		return;
	switch (dir) {
	case ARP_RX_OUT: {
		struct arp_frame f;
		enum frame_reason r = frame_parse(buf, len, &f);
		if (r == FR_OK && f.vlan == 0)
			kernel_request(e, ifc, &f, now, out);
		return;
	}
	case ARP_RX_IN_OTHERHOST:
		ifc->cnt.v[AC_RX_FRAMES]++;
		ifc->cnt.v[AC_OTHERHOST]++;
		return;
	case ARP_RX_IN:
		ifc->cnt.v[AC_RX_FRAMES]++;
		incoming(e, ifc, buf, len, now, arrived > now ? now : arrived, out);
		return;
	}
}

/* What the codec refuses as a request's target, and 0.0.0.0: nobody to ask. */
static bool query_target_ok(uint32_t ip)
{
	return ip != 0 && (ip >> 24) != 127 && (ip >> 28) != 0xe && ip != UINT32_MAX;
}

int arp_engine_note_query(struct arp_engine *e, uint32_t ifindex, uint32_t target_ip,
			  const struct mac *to, uint64_t now, struct actions *out)
{
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	if (!query_target_ok(target_ip)) {
		errno = EINVAL;
		return -1;
	}
	return note_query(e, ifc, target_ip, to, now, out);
}

/* ---- time ---- */

static void expire_iface(struct arp_engine *e, struct iface *ifc, uint64_t now, struct actions *out)
{
	struct arp_entry *en;
	while ((en = arp_cache_expired(ifc->cache, now))) {
		char ip[IP4_STRLEN];
		switch (en->type) {
		case ARP_DYNAMIC:
			ifc->cnt.v[AC_EXPIRED]++;
			neigh(out, ifc, ACT_NEIGH_DEL, en->ip, NULL, NEIGH_REACHABLE);
			arp_cache_remove(ifc->cache, en);
			break;
		case ARP_INCOMPLETE:
			ifc->cnt.v[AC_RESOLUTION_FAILED]++;
			if (log_allowed(ifc, now, out))
				actions_log(out, ifc->ifindex, LOGL_INFO,
					    "event=arp_resolution_failed action=none recvif=%s "
					    "destip=%s",
					    ifc->name, ip4_fmt(en->ip, ip));
			en->query_until = 0;
			arp_cache_update(ifc->cache, en, ARP_UNKNOWN, NULL,
					 now + (uint64_t)e->pol.expire_unknown_s * 1000);
			break;
		default: /* ARP_UNKNOWN */
			arp_cache_remove(ifc->cache, en);
			break;
		}
	}
}

void arp_engine_tick(struct arp_engine *e, uint64_t now, struct actions *out)
{
	for (size_t i = 0; i < e->n_ifs; i++) {
		struct iface *ifc = e->ifs[i];
		expire_iface(e, ifc, now, out);
		for (size_t k = 0; k < ifc->n_ver; k++)
			if (ifc->ver[k].running && verify_due(&ifc->ver[k]) <= now)
				verify_decide(e, ifc, &ifc->ver[k], now, out);
		if (ifc->log_suppressed && now - ifc->log_window >= LOG_WINDOW_MS)
			log_window_end(ifc, now, out);
		if (ifc->rl_log_armed && now >= ifc->rl_log_due) {
			if (ifc->rl_dropped)
				rate_report(e, ifc, now, out);
			else
				ifc->rl_log_armed = false;
		}
	}
}

size_t arp_engine_checks(const struct arp_engine *e, uint32_t ifindex, struct arp_check *out,
			 size_t cap)
{
	const struct iface *ifc = find_iface(e, ifindex);
	size_t n = 0;
	for (size_t i = 0; ifc && i < ifc->n_ver; i++) {
		const struct verify *v = &ifc->ver[i];
		if (!v->running)
			continue;
		if (n < cap)
			out[n] = (struct arp_check){.ip = v->ip,
						    .has_holder = v->has_current,
						    .holder = v->current,
						    .claimed = v->claimed};
		n++;
	}
	return n;
}

uint64_t arp_engine_next_deadline(const struct arp_engine *e)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < e->n_ifs; i++) {
		uint64_t d = arp_cache_next_deadline(e->ifs[i]->cache);
		if (d < next)
			next = d;
		if (e->ifs[i]->rl_log_armed && e->ifs[i]->rl_log_due < next)
			next = e->ifs[i]->rl_log_due;
		if (e->ifs[i]->log_suppressed && e->ifs[i]->log_window + LOG_WINDOW_MS < next)
			next = e->ifs[i]->log_window + LOG_WINDOW_MS;
		for (size_t k = 0; k < e->ifs[i]->n_ver; k++)
			if (e->ifs[i]->ver[k].running && verify_due(&e->ifs[i]->ver[k]) < next)
				next = verify_due(&e->ifs[i]->ver[k]);
	}
	return next;
}

/* ---- commands ---- */

static int flush_iface(struct iface *ifc, struct actions *out)
{
	ifc->n_ver = 0; /* checks of what is gone: their answers change nothing now */
	size_t n = arp_cache_count(ifc->cache), k = 0, cursor = 0;
	uint32_t *ips = malloc((n ? n : 1) * sizeof(*ips));
	uint8_t *types = malloc(n ? n : 1);
	if (!ips || !types) {
		free(ips);
		free(types);
		ifc->cnt.v[AC_NOMEM]++;
		return -1;
	}
	const struct arp_entry *cen;
	while ((cen = arp_cache_next(ifc->cache, &cursor)) && k < n) {
		if (arp_type_is_configured(cen->type))
			continue;
		types[k] = cen->type;
		ips[k++] = cen->ip;
	}
	int dyn = 0;
	for (size_t i = 0; i < k; i++) {
		struct arp_entry *en = arp_cache_lookup(ifc->cache, ips[i]);
		if (!en)
			continue;
		if (types[i] == ARP_DYNAMIC) {
			neigh(out, ifc, ACT_NEIGH_DEL, ips[i], NULL, NEIGH_REACHABLE);
			dyn++;
		}
		arp_cache_remove(ifc->cache, en);
	}
	free(ips);
	free(types);
	return dyn;
}

int arp_engine_flush(struct arp_engine *e, uint32_t ifindex, uint64_t now, struct actions *out)
{
	(void)now;
	if (ifindex) {
		struct iface *ifc = known(e, ifindex);
		if (!ifc)
			return -1;
		return flush_iface(ifc, out);
	}
	int total = 0;
	for (size_t i = 0; i < e->n_ifs; i++) {
		int n = flush_iface(e->ifs[i], out);
		if (n > 0)
			total += n;
	}
	return total;
}

int arp_engine_announce(struct arp_engine *e, uint32_t ifindex, uint64_t now, struct actions *out)
{
	(void)now;
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	int n = 0;
	for (size_t i = 0; i < ifc->n_addrs; i++, n++) {
		const struct mac *group = cluster_mac(ifc, ifc->addrs[i].addr);
		announce_ip(ifc, out, ifc->addrs[i].addr, group ? group : &ifc->mac, &ifc->mac);
	}
	size_t cursor = 0;
	const struct arp_entry *en;
	while ((en = arp_cache_next(ifc->cache, &cursor))) {
		if (en->type != ARP_PUBLISH && en->type != ARP_XPUBLISH)
			continue;
		const struct mac *m = configured_mac(ifc, en);
		announce_ip(ifc, out, en->ip, m, en->type == ARP_XPUBLISH ? m : &ifc->mac);
		n++;
	}
	return n;
}

int arp_engine_announce_cluster(struct arp_engine *e, uint32_t ifindex, struct actions *out)
{
	struct iface *ifc = known(e, ifindex);
	if (!ifc)
		return -1;
	int n = 0;
	for (size_t i = 0; i < ifc->n_cluster; i++)
		if (is_our_addr(ifc, ifc->cluster[i].ip)) {
			announce_ip(ifc, out, ifc->cluster[i].ip, &ifc->cluster[i].mac, &ifc->mac);
			n++;
		}
	return n;
}

int arp_engine_count(struct arp_engine *e, uint32_t ifindex, enum arp_counter c, uint64_t n)
{
	struct iface *ifc = find_iface(e, ifindex);
	if (!ifc || (unsigned)c >= AC__COUNT) {
		errno = ENOENT;
		return -1;
	}
	ifc->cnt.v[c] += n;
	return 0;
}

/* ---- views ---- */

static void view(const struct iface *ifc, struct arp_iface_view *out)
{
	out->ifindex = ifc->ifindex;
	out->name = ifc->name;
	out->mac = ifc->mac;
	out->vlan = ifc->vlan;
	out->n_addrs = ifc->n_addrs;
	out->addrs = ifc->addrs;
	out->cache = ifc->cache;
	out->counters = &ifc->cnt;
}

int arp_engine_iface_at(const struct arp_engine *e, size_t i, struct arp_iface_view *out)
{
	if (i >= e->n_ifs)
		return -1;
	view(e->ifs[i], out);
	return 0;
}

void arp_engine_forget(struct arp_engine *e, const char *name)
{
	for (size_t i = 0; i < e->n_absent; i++)
		if (strcmp(e->absent[i].name, name) == 0) {
			e->absent[i] = e->absent[--e->n_absent];
			return;
		}
}

int arp_engine_absent_at(const struct arp_engine *e, size_t i, const char **name,
			 const struct arp_counters **cnt)
{
	if (i >= e->n_absent)
		return -1;
	*name = e->absent[i].name;
	*cnt = &e->absent[i].cnt;
	return 0;
}

int arp_engine_iface_get(const struct arp_engine *e, uint32_t ifindex, struct arp_iface_view *out)
{
	const struct iface *ifc = find_iface(e, ifindex);
	if (!ifc)
		return -1;
	view(ifc, out);
	return 0;
}
