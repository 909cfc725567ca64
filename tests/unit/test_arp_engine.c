/*
 * Unit tests for the ARP engine: every setting with every value on the
 * frames it governs, answering, learning, expiry, flush, announce, limits.
 * The engine is driven with real frame bytes and judged by its actions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arp_engine.h"

#define IF1	       7
#define IF2	       9
#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define US	       IP(198, 18, 0, 1)
#define HOST	       IP(198, 18, 0, 10)
#define HOST2	       IP(198, 18, 0, 11)
#define STATIC_IP      IP(198, 18, 0, 20)
#define PUB_IP	       IP(198, 18, 0, 30)
#define XPUB_IP	       IP(198, 18, 0, 31)

static const struct mac our_mac = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct mac mac_a = {{0x02, 0xaa, 0, 0, 0, 0x0a}};
static const struct mac mac_b = {{0x02, 0xbb, 0, 0, 0, 0x0b}};
static const struct mac mac_s = {{0x02, 0x55, 0, 0, 0, 0x20}};
static const struct mac mac_p = {{0x02, 0x99, 0, 0, 0, 0x30}};
static const struct mac mac_mc = {{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}};
static const struct mac mac_bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct fx {
	struct arp_policy pol;
	struct arp_engine *e;
	struct actions out;
	uint64_t now;
};

static struct fx *fx_new(const struct arp_policy *pol)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	if (pol) {
		f->pol = *pol;
	} else {
		arp_policy_defaults(&f->pol);
		/* the tests here judge the DropLog path (the seed's default); the
		   default, Verify, has tests of its own (test_verify_*) */
		f->pol.unsolicited_replies = AV_DROPLOG;
	}
	f->e = arp_engine_new(&f->pol);
	assert_non_null(f->e);
	actions_init(&f->out);
	f->now = 1000000;
	assert_int_equal(arp_engine_iface_add(f->e, IF1, "lan", &our_mac, false), 0);
	struct ip4_prefix a = {US, 24};
	assert_int_equal(arp_engine_iface_set_addrs(f->e, IF1, &a, 1), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	arp_engine_free(f->e);
	actions_free(&f->out);
	free(f);
}

/* Feed a frame as received on ifindex; the actions are in f->out. */
static void feed_on(struct fx *f, uint32_t ifindex, const struct arp_frame *fr)
{
	uint8_t buf[FRAME_MAX_LEN];
	size_t n = frame_build(fr, buf, sizeof(buf));
	assert_true(n > 0);
	actions_reset(&f->out);
	arp_engine_input(f->e, ifindex, buf, n, ARP_RX_IN, f->now, &f->out);
}

static void feed(struct fx *f, const struct arp_frame *fr)
{
	feed_on(f, IF1, fr);
}

/* The kernel asks for ip (an outgoing request seen in the ARP output hook). */
static void kernel_asks(struct fx *f, uint32_t ip)
{
	struct arp_frame r;
	frame_request(&r, &our_mac, US, ip);
	uint8_t buf[FRAME_MAX_LEN];
	size_t n = frame_build(&r, buf, sizeof(buf));
	actions_reset(&f->out);
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_OUT, f->now, &f->out);
}

static size_t count_type(const struct fx *f, enum action_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < f->out.n; i++)
		n += f->out.v[i].type == t;
	return n;
}

static const struct action *neigh_set(const struct fx *f, uint32_t ip)
{
	for (size_t i = 0; i < f->out.n; i++)
		if (f->out.v[i].type == ACT_NEIGH_SET && f->out.v[i].u.neigh.ip == ip)
			return &f->out.v[i];
	return NULL;
}

static bool neigh_del(const struct fx *f, uint32_t ip)
{
	for (size_t i = 0; i < f->out.n; i++)
		if (f->out.v[i].type == ACT_NEIGH_DEL && f->out.v[i].u.neigh.ip == ip)
			return true;
	return false;
}

static const char *log_with(const struct fx *f, const char *needle)
{
	for (size_t i = 0; i < f->out.n; i++)
		if (f->out.v[i].type == ACT_LOG && strstr(f->out.v[i].u.log.text, needle))
			return f->out.v[i].u.log.text;
	return NULL;
}

/* The k-th frame sent, parsed. */
static bool sent(const struct fx *f, size_t k, struct arp_frame *fr)
{
	for (size_t i = 0; i < f->out.n; i++) {
		if (f->out.v[i].type != ACT_SEND)
			continue;
		if (k-- == 0) {
			enum frame_reason r =
			    frame_parse(f->out.v[i].u.frame.buf, f->out.v[i].u.frame.len, fr);
			/* an active-active VIP's group MAC as the sender is by design */
			if (r != FR_SENDER_MAC_MULTICAST)
				assert_int_equal(r, FR_OK);
			return true;
		}
	}
	return false;
}

static uint64_t counter(struct fx *f, enum arp_counter c)
{
	struct arp_iface_view v;
	assert_int_equal(arp_engine_iface_get(f->e, IF1, &v), 0);
	return v.counters->v[c];
}

static const struct arp_entry *entry(struct fx *f, uint32_t ip)
{
	struct arp_iface_view v;
	assert_int_equal(arp_engine_iface_get(f->e, IF1, &v), 0);
	return arp_cache_find(v.cache, ip);
}

/* Learn HOST at mac through a solicited reply. */
static void learn_host(struct fx *f, uint32_t ip, const struct mac *m)
{
	kernel_asks(f, ip);
	struct arp_frame r;
	frame_reply(&r, m, m, ip, &our_mac, US);
	feed(f, &r);
	assert_non_null(neigh_set(f, ip));
}

static void assert_answer(struct fx *f, uint32_t ip, const struct mac *sha,
			  const struct mac *eth_src, const struct mac *to, uint32_t to_ip)
{
	struct arp_frame r;
	assert_true(sent(f, 0, &r));
	assert_int_equal(r.op, ARP_OP_REPLY);
	assert_int_equal(r.spa, ip);
	assert_memory_equal(&r.sha, sha, MAC_LEN);
	assert_memory_equal(&r.eth_src, eth_src, MAC_LEN);
	assert_memory_equal(&r.eth_dst, to, MAC_LEN);
	assert_memory_equal(&r.tha, to, MAC_LEN);
	assert_int_equal(r.tpa, to_ip);
}

/* ---- UnsolicitedARPReplies ---- */

static void test_unsolicited(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_ACCEPT, AV_ACCEPTLOG};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.unsolicited_replies = vals[i];
		struct fx *f = fx_new(&p);
		struct arp_frame g;
		frame_garp_reply(&g, &mac_a, HOST);
		feed(f, &g);
		bool accepted = !arp_value_drops(vals[i]);
		assert_int_equal(neigh_set(f, HOST) != NULL, accepted);
		assert_int_equal(log_with(f, "rule=UnsolicitedARPReplies") != NULL,
				 arp_value_logs(vals[i]));
		assert_int_equal(counter(f, AC_DROP_UNSOLICITED), !accepted);
		if (accepted) {
			assert_int_equal(entry(f, HOST)->type, ARP_DYNAMIC);
			assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
		} else {
			assert_null(entry(f, HOST));
		}
		fx_free(f);
	}
}

static void test_solicited_reply_accepted_even_with_drop(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.unsolicited_replies = AV_DROP;
	struct fx *f = fx_new(&p);
	learn_host(f, HOST, &mac_a);
	const struct action *a = neigh_set(f, HOST);
	assert_memory_equal(&a->u.neigh.mac, &mac_a, MAC_LEN);
	assert_int_equal(a->u.neigh.kind, NEIGH_REACHABLE);
	assert_int_equal(counter(f, AC_LEARNED), 1);
	/* the query is answered: a second reply is unsolicited again */
	struct arp_frame r;
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	fx_free(f);
}

static void test_query_times_out(void **state)
{
	struct fx *f = fx_new(NULL);
	kernel_asks(f, HOST);
	f->now += 3000; /* ExpireUnknown */
	struct arp_frame r;
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 1);
	fx_free(f);
}

static void test_seed_log_line(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	struct arp_frame r;
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	const char *l = log_with(f, "event=unsolicited_arp_reply");
	assert_non_null(l);
	assert_string_equal(l, "event=unsolicited_arp_reply action=drop rule=UnsolicitedARPReplies "
			       "reason=already_exists recvif=lan hwsender=02:bb:00:00:00:0b "
			       "hwdest=02:00:00:00:00:01 arp=reply srcenet=02:bb:00:00:00:0b "
			       "srcip=198.18.0.10 destenet=02:00:00:00:00:01 destip=198.18.0.1");
	fx_free(f);
}

/* ---- ARPRequests ---- */

static void test_requests(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_ACCEPT};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.requests = vals[i];
		p.unsolicited_replies = AV_DROPLOG; /* Verify checks a gratuitous request */
		struct fx *f = fx_new(&p);
		struct arp_frame q;
		frame_request(&q, &mac_a, HOST, US);
		feed(f, &q);
		/* answered either way */
		assert_answer(f, US, &our_mac, &our_mac, &mac_a, HOST);
		assert_int_equal(neigh_set(f, HOST) != NULL, vals[i] == AV_ACCEPT);
		assert_int_equal(counter(f, AC_DROP_REQUEST), vals[i] == AV_DROP);
		/* a gratuitous request: learned only with Accept, never answered */
		struct arp_frame g;
		frame_garp_request(&g, &mac_b, HOST2);
		feed(f, &g);
		assert_int_equal(neigh_set(f, HOST2) != NULL, vals[i] == AV_ACCEPT);
		assert_int_equal(count_type(f, ACT_SEND), 0);
		fx_free(f);
	}
}

/* ---- ARPChanges ---- */

static void test_changes(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_ACCEPT, AV_ACCEPTLOG};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.changes = vals[i];
		struct fx *f = fx_new(&p);
		learn_host(f, HOST, &mac_a);
		kernel_asks(f, HOST);
		struct arp_frame r;
		frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
		feed(f, &r);
		bool accepted = !arp_value_drops(vals[i]);
		assert_int_equal(neigh_set(f, HOST) != NULL, accepted);
		assert_memory_equal(&entry(f, HOST)->mac, accepted ? &mac_b : &mac_a, MAC_LEN);
		const char *l = log_with(f, "rule=ARPChanges");
		assert_int_equal(l != NULL, arp_value_logs(vals[i]));
		if (l)
			assert_non_null(strstr(l, "oldenet=02:aa:00:00:00:0a"));
		assert_int_equal(counter(f, AC_DROP_CHANGE), !accepted);
		assert_int_equal(counter(f, AC_CHANGED), accepted);
		fx_free(f);
	}
}

/* The kernel checks a known neighbour with a request sent to its MAC only. */
static void kernel_probes(struct fx *f, uint32_t ip, const struct mac *to)
{
	struct arp_frame r;
	frame_request(&r, &our_mac, US, ip);
	r.eth_dst = *to;
	r.tha = *to;
	uint8_t buf[FRAME_MAX_LEN];
	size_t n = frame_build(&r, buf, sizeof(buf));
	actions_reset(&f->out);
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_OUT, f->now, &f->out);
}

static void test_unicast_probe_answered_by_its_host_only(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	/* someone else answers the probe first (a flood claiming the host) */
	kernel_probes(f, HOST, &mac_a);
	struct arp_frame r;
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 1);
	assert_int_equal(counter(f, AC_CHANGED), 0);
	/* the host itself answers: confirmed */
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	feed(f, &r);
	assert_non_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_REFRESHED), 1);
	/* a broadcast query may be answered by a new MAC (ARPChanges decides) */
	kernel_asks(f, HOST);
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	assert_non_null(neigh_set(f, HOST));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_b, MAC_LEN);
	assert_int_equal(counter(f, AC_CHANGED), 1);
	fx_free(f);
}

static void test_same_mac_refreshes(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	uint64_t first = entry(f, HOST)->expires;
	f->now += 5000;
	learn_host(f, HOST, &mac_a);
	assert_int_equal(entry(f, HOST)->expires, first + 5000);
	assert_int_equal(counter(f, AC_REFRESHED), 1);
	assert_null(log_with(f, "ARPChanges"));
	fx_free(f);
}

/* ---- queries we send ourselves (arp_engine_note_query) ---- */

/* We sent a request for ip to the MAC to (NULL: broadcast); its rc. */
static int note(struct fx *f, uint32_t ip, const struct mac *to)
{
	actions_reset(&f->out);
	return arp_engine_note_query(f->e, IF1, ip, to, f->now, &f->out);
}

static void test_noted_query_makes_reply_solicited(void **state)
{
	struct fx *f = fx_new(NULL); /* UnsolicitedARPReplies=DropLog */
	assert_int_equal(note(f, HOST, NULL), 0);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(entry(f, HOST)->type, ARP_INCOMPLETE);
	assert_int_equal(counter(f, AC_OUT_REQUESTS), 1);
	struct arp_frame r;
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	feed(f, &r);
	const struct action *a = neigh_set(f, HOST);
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_a, MAC_LEN);
	assert_int_equal(a->u.neigh.kind, NEIGH_REACHABLE);
	assert_null(log_with(f, "rule=UnsolicitedARPReplies"));
	assert_int_equal(counter(f, AC_LEARNED), 1);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 0);
	/* the same reply for an address nobody asked for is unsolicited */
	frame_reply(&r, &mac_b, &mac_b, HOST2, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST2));
	assert_non_null(log_with(f, "rule=UnsolicitedARPReplies reason=no_query"));
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 1);
	assert_null(entry(f, HOST2));
	/* and so is an answer that comes after ExpireUnknown */
	assert_int_equal(note(f, HOST2, NULL), 0);
	f->now += 3000;
	feed(f, &r);
	assert_null(neigh_set(f, HOST2));
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 2);
	fx_free(f);
}

/* A query sent to a known neighbour's MAC is answered by that MAC only. */
static void test_noted_unicast_query(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	assert_int_equal(note(f, HOST, &mac_a), 0);
	struct arp_frame r;
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST));
	assert_non_null(log_with(f, "reason=already_exists"));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	feed(f, &r);
	assert_non_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_REFRESHED), 1);
	/* broadcast, the query may be answered by a new MAC (ARPChanges decides) */
	assert_int_equal(note(f, HOST, NULL), 0);
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US);
	feed(f, &r);
	assert_non_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_CHANGED), 1);
	fx_free(f);
}

/* Noting a query leaves the engine as the kernel's own request would. */
static void assert_same(struct fx *k, struct fx *n, uint32_t ip)
{
	const struct arp_entry *a = entry(k, ip), *b = entry(n, ip);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->type, b->type);
	assert_memory_equal(&a->mac, &b->mac, MAC_LEN);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->query_until, b->query_until);
	struct arp_iface_view vk, vn;
	assert_int_equal(arp_engine_iface_get(k->e, IF1, &vk), 0);
	assert_int_equal(arp_engine_iface_get(n->e, IF1, &vn), 0);
	assert_memory_equal(vk.counters, vn.counters, sizeof(*vk.counters));
	assert_int_equal(k->out.n, n->out.n);
	for (size_t i = 0; i < k->out.n; i++) {
		/* what each action says (the bytes past it are stale: actions are not cleared) */
		const struct action *x = &k->out.v[i], *y = &n->out.v[i];
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->ifindex, y->ifindex);
		if (x->type == ACT_SEND) {
			assert_int_equal(x->u.frame.len, y->u.frame.len);
			assert_memory_equal(x->u.frame.buf, y->u.frame.buf, x->u.frame.len);
		} else if (x->type == ACT_LOG) {
			assert_int_equal(x->u.log.level, y->u.log.level);
			assert_string_equal(x->u.log.text, y->u.log.text);
		} else {
			assert_int_equal(x->u.neigh.ip, y->u.neigh.ip);
			assert_memory_equal(&x->u.neigh.mac, &y->u.neigh.mac, MAC_LEN);
			assert_int_equal(x->u.neigh.kind, y->u.neigh.kind);
		}
	}
}

static void test_noted_query_as_kernel_request(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.cache_size = 16;
	p.unsolicited_replies = AV_ACCEPT;
	struct fx *k = fx_new(&p), *n = fx_new(&p);
	/* a new address, broadcast */
	kernel_asks(k, HOST);
	assert_int_equal(note(n, HOST, NULL), 0);
	assert_same(k, n, HOST);
	/* an address whose query failed (UNKNOWN) */
	k->now = n->now += 3000;
	arp_engine_tick(k->e, k->now, &k->out);
	arp_engine_tick(n->e, n->now, &n->out);
	assert_int_equal(entry(k, HOST)->type, ARP_UNKNOWN);
	kernel_asks(k, HOST);
	assert_int_equal(note(n, HOST, &mac_bc), 0);
	assert_same(k, n, HOST);
	/* a known neighbour, asked at its own MAC */
	learn_host(k, HOST2, &mac_a);
	learn_host(n, HOST2, &mac_a);
	kernel_probes(k, HOST2, &mac_a);
	assert_int_equal(note(n, HOST2, &mac_a), 0);
	assert_same(k, n, HOST2);
	assert_true(entry(n, HOST2)->flags & ARP_F_QUERY_UNICAST);
	/* a full cache of learned entries: the new query evicts one, here and in the kernel */
	learn_host(k, HOST, &mac_a);
	learn_host(n, HOST, &mac_a);
	for (uint32_t i = 0; i < 14; i++) {
		struct arp_frame g;
		frame_garp_reply(&g, &mac_b, IP(198, 18, 0, 100 + i));
		k->now = n->now += 10;
		feed(k, &g);
		feed(n, &g);
	}
	kernel_asks(k, IP(198, 18, 0, 99));
	assert_int_equal(note(n, IP(198, 18, 0, 99), NULL), 0);
	assert_int_equal(count_type(n, ACT_NEIGH_DEL), 1);
	assert_same(k, n, IP(198, 18, 0, 99));
	fx_free(k);
	fx_free(n);
}

static void test_note_query_errors(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.cache_size = 16;
	p.unsolicited_replies = AV_DROPLOG; /* the unanswered-for reply below is dropped */
	struct fx *f = fx_new(&p);
	actions_reset(&f->out);
	errno = 0;
	assert_int_equal(arp_engine_note_query(f->e, 4242, HOST, NULL, f->now, &f->out), -1);
	assert_int_equal(errno, ENOENT);
	const uint32_t nobody[] = {0, IP(127, 0, 0, 1), IP(224, 0, 0, 5), IP(239, 1, 2, 3),
				   UINT32_MAX};
	for (size_t i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++) {
		errno = 0;
		assert_int_equal(note(f, nobody[i], NULL), -1);
		assert_int_equal(errno, EINVAL);
		assert_null(entry(f, nobody[i]));
	}
	assert_int_equal(counter(f, AC_OUT_REQUESTS), 0);
	/* no room: the query is not recorded and the answer stays unsolicited */
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(
		    arp_engine_add_entry(f->e, IF1, IP(198, 18, 1, i), ARP_STATIC, &mac_s, &f->out),
		    0);
	errno = 0;
	assert_int_equal(note(f, HOST, NULL), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(counter(f, AC_CACHE_FULL), 1);
	assert_null(entry(f, HOST));
	struct arp_frame r;
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	feed(f, &r);
	assert_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 1);
	fx_free(f);
}

/*
 * The contract of actions.h the daemon relies on: NEIGH_REACHABLE for what
 * was seen on the wire (new, changed, confirmed), NEIGH_PERMANENT for a
 * Static entry installed, and nothing for a published one.
 */
static void test_neigh_set_says_why(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a); /* new */
	assert_int_equal(neigh_set(f, HOST)->u.neigh.kind, NEIGH_REACHABLE);
	assert_int_equal(count_type(f, ACT_NEIGH_SET), 1);
	learn_host(f, HOST, &mac_a); /* confirmed */
	assert_int_equal(neigh_set(f, HOST)->u.neigh.kind, NEIGH_REACHABLE);
	assert_int_equal(counter(f, AC_REFRESHED), 1);
	learn_host(f, HOST, &mac_b); /* changed */
	assert_int_equal(neigh_set(f, HOST)->u.neigh.kind, NEIGH_REACHABLE);
	assert_memory_equal(&neigh_set(f, HOST)->u.neigh.mac, &mac_b, MAC_LEN);
	assert_int_equal(counter(f, AC_CHANGED), 1);
	actions_reset(&f->out);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_s, &f->out),
			 0);
	assert_int_equal(count_type(f, ACT_NEIGH_SET), 1);
	assert_int_equal(neigh_set(f, STATIC_IP)->u.neigh.kind, NEIGH_PERMANENT);
	actions_reset(&f->out);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_PUBLISH, &mac_p, &f->out), 0);
	assert_int_equal(f->out.n, 0);
	/* only learned mappings are deleted, and the static one stays */
	actions_reset(&f->out);
	assert_int_equal(arp_engine_flush(f->e, IF1, f->now, &f->out), 1);
	assert_int_equal(count_type(f, ACT_NEIGH_DEL), 1);
	assert_true(neigh_del(f, HOST));
	f->now += 24ull * 3600 * 1000;
	arp_engine_tick(f->e, f->now, &f->out);
	assert_false(neigh_del(f, STATIC_IP));
	fx_free(f);
}

/* ---- StaticARPChanges ---- */

static void test_static_changes(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.static_changes = vals[i];
		p.unsolicited_replies = AV_ACCEPT;
		p.requests = AV_ACCEPT;
		struct fx *f = fx_new(&p);
		actions_reset(&f->out);
		assert_int_equal(
		    arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_s, &f->out), 0);
		const struct action *a = neigh_set(f, STATIC_IP);
		assert_non_null(a);
		assert_int_equal(a->u.neigh.kind, NEIGH_PERMANENT);
		/* a reply and a request both contradicting it */
		struct arp_frame g;
		frame_garp_reply(&g, &mac_a, STATIC_IP);
		feed(f, &g);
		assert_null(neigh_set(f, STATIC_IP));
		assert_int_equal(log_with(f, "rule=StaticARPChanges") != NULL,
				 vals[i] == AV_DROPLOG);
		frame_request(&g, &mac_a, STATIC_IP, US);
		feed(f, &g);
		assert_null(neigh_set(f, STATIC_IP));
		assert_int_equal(count_type(f, ACT_SEND), 0); /* a contradiction is not answered */
		assert_int_equal(counter(f, AC_DROP_STATIC_CHANGE), 2);
		assert_int_equal(entry(f, STATIC_IP)->type, ARP_STATIC);
		assert_memory_equal(&entry(f, STATIC_IP)->mac, &mac_s, MAC_LEN);
		/* the static host itself asking is fine */
		frame_request(&g, &mac_s, STATIC_IP, US);
		feed(f, &g);
		assert_answer(f, US, &our_mac, &our_mac, &mac_s, STATIC_IP);
		assert_int_equal(counter(f, AC_DROP_STATIC_CHANGE), 2);
		fx_free(f);
	}
}

/* ---- reload ---- */

/*
 * A reload's entry changes: a Static entry removed leaves the kernel and
 * its address is learned as any other again; replaced (a new MAC), the new
 * one is set with no delete in between; a Publish entry removed is no
 * longer answered for.
 */
static void test_reload_entries(void **state)
{
	(void)state;
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.unsolicited_replies = AV_ACCEPT;
	struct fx *f = fx_new(&p);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_s, &f->out),
			 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_PUBLISH, &mac_p, &f->out), 0);
	/* the MAC changes: replaced */
	actions_reset(&f->out);
	assert_int_equal(arp_engine_del_entry(f->e, IF1, STATIC_IP, true, &f->out), 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_a, &f->out),
			 0);
	assert_false(neigh_del(f, STATIC_IP));
	const struct action *a = neigh_set(f, STATIC_IP);
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_a, MAC_LEN);
	/* removed: out of the kernel, and learned as any host from now on */
	actions_reset(&f->out);
	assert_int_equal(arp_engine_del_entry(f->e, IF1, STATIC_IP, false, &f->out), 0);
	assert_true(neigh_del(f, STATIC_IP));
	assert_null(entry(f, STATIC_IP));
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, STATIC_IP);
	feed(f, &g);
	assert_non_null(neigh_set(f, STATIC_IP));
	assert_int_equal(entry(f, STATIC_IP)->type, ARP_DYNAMIC);
	/* a Publish entry removed: its address is not answered any more */
	frame_request(&g, &mac_a, HOST, PUB_IP);
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 1);
	assert_int_equal(arp_engine_del_entry(f->e, IF1, PUB_IP, false, &f->out), 0);
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	/* no such entry; a dynamic one is not a configured entry */
	assert_int_equal(arp_engine_del_entry(f->e, IF1, PUB_IP, false, &f->out), -1);
	assert_int_equal(arp_engine_del_entry(f->e, IF1, STATIC_IP, false, &f->out), -1);
	assert_int_equal(arp_engine_del_entry(f->e, IF2, STATIC_IP, false, &f->out), -1);
	fx_free(f);
}

/* A reload's policy holds for the next frame; CacheSize= cannot change. */
static void test_reload_policy(void **state)
{
	(void)state;
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.unsolicited_replies = AV_ACCEPT;
	struct fx *f = fx_new(&p);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	feed(f, &g);
	assert_non_null(neigh_set(f, HOST));
	p.unsolicited_replies = AV_DROP;
	assert_int_equal(arp_engine_set_policy(f->e, &p), 0);
	assert_int_equal(arp_engine_policy(f->e)->unsolicited_replies, AV_DROP);
	frame_garp_reply(&g, &mac_b, HOST2);
	feed(f, &g);
	assert_null(neigh_set(f, HOST2));
	assert_int_equal(entry(f, HOST)->type, ARP_DYNAMIC); /* what it learned stays */
	struct arp_policy q = p;
	q.cache_size = p.cache_size + 1;
	q.unsolicited_replies = AV_ACCEPT;
	assert_int_equal(arp_engine_set_policy(f->e, &q), -1);
	assert_int_equal(arp_engine_policy(f->e)->unsolicited_replies, AV_DROP);
	/* proxy networks: cleared, then the new ones */
	struct ip4_prefix net = {IP(198, 18, 7, 0), 24};
	assert_int_equal(arp_engine_add_proxy(f->e, IF1, &net), 0);
	frame_request(&g, &mac_a, HOST, IP(198, 18, 7, 9));
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 1);
	arp_engine_clear_proxies(f->e);
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	fx_free(f);
}

/* ---- ARPMatchEnetSender ---- */

static void test_match_enet_sender(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_IGNORE, AV_LOG};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.match_enet_sender = vals[i];
		struct fx *f = fx_new(&p);
		struct arp_frame q;
		frame_request(&q, &mac_a, HOST, US);
		q.eth_src = mac_b; /* the frame comes from elsewhere than the ARP data says */
		feed(f, &q);
		bool passes = !arp_value_drops(vals[i]);
		if (passes) /* answered to the ARP sender MAC, not the frame's source */
			assert_answer(f, US, &our_mac, &our_mac, &mac_a, HOST);
		else
			assert_int_equal(count_type(f, ACT_SEND), 0);
		assert_int_equal(log_with(f, "rule=ARPMatchEnetSender") != NULL,
				 arp_value_logs(vals[i]));
		assert_int_equal(counter(f, AC_DROP_ENET_SENDER), !passes);
		fx_free(f);
	}
}

/* ---- ARPMulticast / ARPBroadcast ---- */

static void test_group_sender(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_ACCEPT, AV_LOG};
	for (int bc = 0; bc < 2; bc++) {
		for (size_t i = 0; i < sizeof(vals); i++) {
			struct arp_policy p;
			arp_policy_defaults(&p);
			p.match_enet_sender = AV_IGNORE;
			p.unsolicited_replies = AV_ACCEPT;
			if (bc)
				p.broadcast = vals[i];
			else
				p.multicast = vals[i];
			struct fx *f = fx_new(&p);
			const struct mac *sha = bc ? &mac_bc : &mac_mc;
			/* a cluster's reply announcing a group MAC (as NLB does) */
			struct arp_frame g;
			frame_garp_reply(&g, &mac_a, HOST);
			g.sha = *sha;
			feed(f, &g);
			bool passes = !arp_value_drops(vals[i]);
			const struct action *a = neigh_set(f, HOST);
			assert_int_equal(a != NULL, passes);
			if (a)
				assert_memory_equal(&a->u.neigh.mac, sha, MAC_LEN);
			assert_int_equal(
			    log_with(f, bc ? "rule=ARPBroadcast" : "rule=ARPMulticast") != NULL,
			    arp_value_logs(vals[i]));
			assert_int_equal(counter(f, bc ? AC_DROP_BROADCAST : AC_DROP_MULTICAST),
					 !passes);
			fx_free(f);
		}
	}
}

/* ---- ARPQueryNoSender ---- */

static void test_query_no_sender(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_ACCEPT, AV_ACCEPTLOG};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.query_no_sender = vals[i];
		struct fx *f = fx_new(&p);
		struct arp_frame q;
		frame_probe(&q, &mac_a, US);
		feed(f, &q);
		bool passes = !arp_value_drops(vals[i]);
		if (passes)
			assert_answer(f, US, &our_mac, &our_mac, &mac_a, 0);
		else
			assert_int_equal(count_type(f, ACT_SEND), 0);
		assert_int_equal(count_type(f, ACT_NEIGH_SET), 0); /* nothing to learn */
		assert_int_equal(log_with(f, "rule=ARPQueryNoSender") != NULL,
				 arp_value_logs(vals[i]));
		assert_int_equal(counter(f, AC_DROP_NO_SENDER), !passes);
		/* a reply from 0.0.0.0 is never believed */
		struct arp_frame r;
		frame_reply(&r, &mac_a, &mac_a, 0, &our_mac, US);
		feed(f, &r);
		assert_int_equal(count_type(f, ACT_NEIGH_SET), 0);
		assert_int_equal(counter(f, AC_DROP_NO_SENDER), !passes + 1);
		fx_free(f);
	}
}

/* ---- ARPSenderIP ---- */

static void test_sender_ip(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPLOG, AV_ACCEPT};
	const uint32_t outside = IP(198, 19, 0, 5);
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.sender_ip = vals[i];
		struct fx *f = fx_new(&p);
		struct arp_frame q;
		frame_request(&q, &mac_a, outside, US);
		feed(f, &q);
		bool passes = !arp_value_drops(vals[i]);
		if (passes)
			assert_answer(f, US, &our_mac, &our_mac, &mac_a, outside);
		else
			assert_int_equal(count_type(f, ACT_SEND), 0);
		assert_int_equal(log_with(f, "rule=ARPSenderIP") != NULL, vals[i] == AV_DROPLOG);
		assert_int_equal(counter(f, AC_DROP_SENDER_IP), !passes);
		fx_free(f);
	}
}

/* ---- ARPIPCollision ---- */

static void test_ip_collision(void **state)
{
	const uint8_t vals[] = {AV_DROP, AV_DROPANNOUNCE};
	for (size_t i = 0; i < sizeof(vals); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.ip_collision = vals[i];
		p.unsolicited_replies = AV_ACCEPT;
		p.requests = AV_ACCEPT;
		struct fx *f = fx_new(&p);
		struct arp_frame g;
		frame_garp_request(&g, &mac_a, US);
		feed(f, &g);
		assert_int_equal(count_type(f, ACT_NEIGH_SET), 0);
		assert_non_null(log_with(f, "event=ip_collision"));
		assert_int_equal(counter(f, AC_DROP_COLLISION), 1);
		if (vals[i] == AV_DROPANNOUNCE) {
			struct arp_frame r;
			assert_true(sent(f, 0, &r));
			assert_int_equal(r.op, ARP_OP_REQUEST);
			assert_int_equal(r.spa, US);
			assert_int_equal(r.tpa, US);
			assert_memory_equal(&r.sha, &our_mac, MAC_LEN);
			assert_true(sent(f, 1, &r));
			assert_int_equal(r.op, ARP_OP_REPLY);
			assert_int_equal(count_type(f, ACT_SEND), 2);
		} else {
			assert_int_equal(count_type(f, ACT_SEND), 0);
		}
		fx_free(f);
	}
}

/* A VIP the cluster shares: another node announcing it is not a collision. */
static void test_shared_vip_not_collision(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.ip_collision = AV_DROPANNOUNCE;
	struct fx *f = fx_new(&p);
	uint32_t vip = US;
	assert_int_equal(arp_engine_iface_set_shared(f->e, IF1, &vip, 1), 0);
	struct arp_frame g;
	frame_garp_request(&g, &mac_a, US);
	feed(f, &g);
	frame_garp_reply(&g, &mac_a, US);
	feed(f, &g);
	assert_int_equal(counter(f, AC_CLUSTER_VIP), 2);
	assert_int_equal(counter(f, AC_DROP_COLLISION), 0);
	assert_int_equal(count_type(f, ACT_SEND), 0); /* no reclaim war */
	assert_null(log_with(f, "event=ip_collision"));
	assert_int_equal(count_type(f, ACT_NEIGH_SET), 0);
	/* a request from the VIP for a host's address is still answered when it is ours */
	frame_request(&g, &mac_a, US, US);
	g.tpa = US; /* gratuitous: not answered */
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	/* and without the set, the same frame is a collision (so this test can fail) */
	assert_int_equal(arp_engine_iface_set_shared(f->e, IF1, NULL, 0), 0);
	frame_garp_request(&g, &mac_a, US);
	feed(f, &g);
	assert_int_equal(counter(f, AC_DROP_COLLISION), 1);
	assert_int_equal(arp_engine_iface_set_shared(f->e, 999, &vip, 1), -1);
	fx_free(f);
}

/* ---- active-active VIPs (arp_engine_iface_set_cluster) ---- */

static const struct mac mac_group = {{0x03, 0x00, 0x5e, 0x00, 0x01, 0x01}};
#define AA_VIP IP(198, 18, 0, 100)

/* An engine with AA_VIP among the interface's addresses, shared with the group MAC. */
static struct fx *fx_cluster(void)
{
	struct fx *f = fx_new(NULL);
	struct ip4_prefix a[2] = {{US, 24}, {AA_VIP, 24}};
	assert_int_equal(arp_engine_iface_set_addrs(f->e, IF1, a, 2), 0);
	struct arp_cluster_addr c = {AA_VIP, mac_group};
	assert_int_equal(arp_engine_iface_set_cluster(f->e, IF1, &c, 1), 0);
	return f;
}

static void test_cluster_answered_with_group_mac(void **state)
{
	(void)state;
	struct fx *f = fx_cluster();
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, AA_VIP);
	feed(f, &q);
	/* the group MAC in the ARP data, the interface's as the frame's source */
	assert_answer(f, AA_VIP, &mac_group, &our_mac, &mac_a, HOST);
	/* the node's own address is still answered with the interface's MAC */
	frame_request(&q, &mac_a, HOST, US);
	feed(f, &q);
	assert_answer(f, US, &our_mac, &our_mac, &mac_a, HOST);
	/* without the set, the VIP is answered like any address of ours (the test can fail) */
	assert_int_equal(arp_engine_iface_set_cluster(f->e, IF1, NULL, 0), 0);
	frame_request(&q, &mac_a, HOST, AA_VIP);
	feed(f, &q);
	assert_answer(f, AA_VIP, &our_mac, &our_mac, &mac_a, HOST);
	assert_int_equal(arp_engine_iface_set_cluster(f->e, 999, NULL, 0), -1);
	fx_free(f);
}

static void test_cluster_peer_frames_ignored(void **state)
{
	(void)state;
	struct fx *f = fx_cluster();
	/* another node announces the VIP with the group MAC: the cluster's business */
	struct arp_frame g;
	frame_garp_request(&g, &mac_group, AA_VIP);
	g.eth_src = mac_b;
	feed(f, &g);
	frame_garp_reply(&g, &mac_group, AA_VIP);
	g.eth_src = mac_b;
	feed(f, &g);
	assert_int_equal(counter(f, AC_CLUSTER_VIP), 2);
	assert_int_equal(counter(f, AC_DROP_MULTICAST), 0);
	assert_int_equal(counter(f, AC_DROP_COLLISION), 0);
	assert_int_equal(f->out.n, 0); /* no answer, no log line, no neighbour */
	/* the VIP claimed with another MAC is still a collision */
	frame_garp_request(&g, &mac_a, AA_VIP);
	feed(f, &g);
	assert_int_equal(counter(f, AC_DROP_COLLISION), 1);
	fx_free(f);
}

static void test_cluster_announced(void **state)
{
	(void)state;
	struct fx *f = fx_cluster();
	assert_int_equal(arp_engine_announce_cluster(f->e, IF1, &f->out), 1);
	struct arp_frame r;
	for (size_t k = 0; k < 2; k++) {
		assert_true(sent(f, k, &r));
		assert_int_equal(r.spa, AA_VIP);
		assert_int_equal(r.tpa, AA_VIP);
		assert_memory_equal(&r.sha, &mac_group, MAC_LEN);
		assert_memory_equal(&r.eth_src, &our_mac, MAC_LEN);
	}
	assert_false(sent(f, 2, &r));
	actions_reset(&f->out);
	/* arpha announce: every address, the VIP with its group MAC */
	assert_int_equal(arp_engine_announce(f->e, IF1, f->now, &f->out), 2);
	assert_true(sent(f, 2, &r));
	assert_int_equal(r.spa, AA_VIP);
	assert_memory_equal(&r.sha, &mac_group, MAC_LEN);
	assert_true(sent(f, 0, &r));
	assert_int_equal(r.spa, US);
	assert_memory_equal(&r.sha, &our_mac, MAC_LEN);
	/* not among the interface's addresses (yet): nothing */
	struct ip4_prefix a = {US, 24};
	assert_int_equal(arp_engine_iface_set_addrs(f->e, IF1, &a, 1), 0);
	actions_reset(&f->out);
	assert_int_equal(arp_engine_announce_cluster(f->e, IF1, &f->out), 0);
	assert_int_equal(f->out.n, 0);
	fx_free(f);
}

static void test_looped_own_frame(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame g;
	frame_garp_request(&g, &our_mac, US);
	feed(f, &g);
	assert_int_equal(counter(f, AC_LOOPED), 1);
	assert_int_equal(counter(f, AC_DROP_COLLISION), 0);
	assert_int_equal(f->out.n, 0);
	fx_free(f);
}

/* ---- ARPRateLimit ---- */

static void test_rate_limit(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.rate_limit = 10;
	struct fx *f = fx_new(&p);
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, US);
	size_t answers = 0;
	for (int i = 0; i < 100; i++) {
		feed(f, &q);
		answers += count_type(f, ACT_SEND);
	}
	assert_int_equal(answers, 10);
	assert_int_equal(counter(f, AC_DROP_RATE_LIMIT), 90);
	f->now += 500; /* half a second refills five */
	answers = 0;
	for (int i = 0; i < 100; i++) {
		feed(f, &q);
		answers += count_type(f, ACT_SEND);
	}
	assert_int_equal(answers, 5);
	/* the dropped= figures of the log lines add up to the counter */
	f->now += 5000;
	actions_reset(&f->out);
	assert_true(arp_engine_next_deadline(f->e) <= f->now);
	arp_engine_tick(f->e, f->now, &f->out);
	unsigned long long total = 0;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < f->out.n; i++) {
			const char *d = strstr(f->out.v[i].u.log.text, "dropped=");
			if (f->out.v[i].type == ACT_LOG && d)
				total += strtoull(d + 8, NULL, 10);
		}
		actions_reset(&f->out);
		arp_engine_tick(f->e, f->now + 1000, &f->out);
	}
	/* the first drop was reported at once, the rest by the ticks */
	assert_int_equal(total + 1, counter(f, AC_DROP_RATE_LIMIT));
	assert_int_equal(arp_engine_next_deadline(f->e), UINT64_MAX);
	fx_free(f);
}

/* ---- expiry ---- */

static void test_expire(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.expire_s = 60;
	struct fx *f = fx_new(&p);
	learn_host(f, HOST, &mac_a);
	uint64_t t0 = f->now;
	assert_int_equal(arp_engine_next_deadline(f->e), t0 + 60000);
	actions_reset(&f->out);
	arp_engine_tick(f->e, t0 + 59999, &f->out);
	assert_false(neigh_del(f, HOST));
	arp_engine_tick(f->e, t0 + 60000, &f->out);
	assert_true(neigh_del(f, HOST));
	assert_null(entry(f, HOST));
	assert_int_equal(counter(f, AC_EXPIRED), 1);
	fx_free(f);
}

static void test_expire_unknown(void **state)
{
	struct fx *f = fx_new(NULL);
	kernel_asks(f, HOST);
	assert_int_equal(entry(f, HOST)->type, ARP_INCOMPLETE);
	uint64_t t0 = f->now;
	actions_reset(&f->out);
	arp_engine_tick(f->e, t0 + 3000, &f->out);
	assert_non_null(log_with(f, "event=arp_resolution_failed"));
	assert_non_null(log_with(f, "destip=198.18.0.10"));
	assert_int_equal(entry(f, HOST)->type, ARP_UNKNOWN);
	assert_int_equal(counter(f, AC_RESOLUTION_FAILED), 1);
	arp_engine_tick(f->e, t0 + 6000, &f->out);
	assert_null(entry(f, HOST));
	assert_int_equal(count_type(f, ACT_NEIGH_DEL), 0); /* nothing was installed */
	assert_int_equal(arp_engine_next_deadline(f->e), UINT64_MAX);
	fx_free(f);
}

static void test_requery_unknown(void **state)
{
	struct fx *f = fx_new(NULL);
	kernel_asks(f, HOST);
	f->now += 3000;
	arp_engine_tick(f->e, f->now, &f->out);
	assert_int_equal(entry(f, HOST)->type, ARP_UNKNOWN);
	learn_host(f, HOST, &mac_a); /* the kernel asks again and gets an answer */
	assert_int_equal(entry(f, HOST)->type, ARP_DYNAMIC);
	fx_free(f);
}

/* ---- publishing ---- */

static void test_publish(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_PUBLISH, &mac_p, &f->out), 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, XPUB_IP, ARP_XPUBLISH, &mac_p, &f->out),
			 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP + 2, ARP_PUBLISH, NULL, &f->out),
			 0);
	assert_int_equal(count_type(f, ACT_NEIGH_SET), 0); /* published, not installed */
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, PUB_IP);
	feed(f, &q);
	assert_answer(f, PUB_IP, &mac_p, &our_mac, &mac_a, HOST);
	frame_request(&q, &mac_a, HOST, XPUB_IP);
	feed(f, &q);
	assert_answer(f, XPUB_IP, &mac_p, &mac_p, &mac_a, HOST);
	frame_request(&q, &mac_a, HOST, PUB_IP + 2);
	feed(f, &q);
	assert_answer(f, PUB_IP + 2, &our_mac, &our_mac, &mac_a, HOST);
	frame_request(&q, &mac_a, HOST, PUB_IP + 5); /* nobody's */
	feed(f, &q);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	/* errors */
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_STATIC, &mac_p, &f->out), -1);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, HOST, ARP_STATIC, NULL, &f->out), -1);
	assert_int_equal(arp_engine_add_entry(f->e, 99, HOST, ARP_STATIC, &mac_a, &f->out), -1);
	fx_free(f);
}

static void test_proxy(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_int_equal(arp_engine_iface_add(f->e, IF2, "wan", &mac_b, false), 0);
	struct ip4_prefix a2 = {IP(198, 18, 9, 1), 24};
	assert_int_equal(arp_engine_iface_set_addrs(f->e, IF2, &a2, 1), 0);
	struct ip4_prefix net = {IP(198, 18, 5, 77), 24}; /* host bits are masked */
	assert_int_equal(arp_engine_add_proxy(f->e, IF1, &net), 0);
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, IP(198, 18, 5, 7));
	feed(f, &q);
	assert_answer(f, IP(198, 18, 5, 7), &our_mac, &our_mac, &mac_a, HOST);
	frame_request(&q, &mac_a, IP(198, 18, 9, 10), IP(198, 18, 5, 7));
	feed_on(f, IF2, &q); /* proxied on lan only */
	assert_int_equal(count_type(f, ACT_SEND), 0);
	frame_request(&q, &mac_a, HOST, IP(198, 18, 6, 7));
	feed(f, &q);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	/* deleting the interface drops its proxies */
	arp_engine_iface_del(f->e, IF1);
	struct arp_iface_view v;
	assert_int_equal(arp_engine_iface_get(f->e, IF1, &v), -1);
	fx_free(f);
}

/* ---- Verify ---- */

static struct fx *fx_verify(uint8_t unsolicited, uint8_t changes)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.unsolicited_replies = unsolicited;
	p.changes = changes;
	return fx_new(&p);
}

/* Was the k-th frame sent a request for ip to the MAC to alone, from us? */
static void assert_asked(struct fx *f, size_t k, uint32_t ip, const struct mac *to)
{
	struct arp_frame r;
	assert_true(sent(f, k, &r));
	assert_int_equal(r.op, ARP_OP_REQUEST);
	assert_int_equal(r.tpa, ip);
	assert_int_equal(r.spa, US);
	assert_memory_equal(&r.sha, &our_mac, MAC_LEN);
	assert_memory_equal(&r.eth_dst, to, MAC_LEN);
}

static void reply_from(struct fx *f, const struct mac *m, uint32_t ip)
{
	struct arp_frame r;
	frame_reply(&r, m, m, ip, &our_mac, US);
	feed(f, &r);
}

static void tick_at(struct fx *f, uint64_t now)
{
	f->now = now;
	actions_reset(&f->out);
	arp_engine_tick(f->e, f->now, &f->out);
}

/* A neighbour moved (a failover): the old MAC is silent, the new answers: followed. */
static void test_verify_only_new_answers(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	learn_host(f, HOST, &mac_a);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST);
	feed(f, &g);
	assert_null(neigh_set(f, HOST)); /* not believed yet */
	assert_int_equal(count_type(f, ACT_SEND), 2);
	assert_asked(f, 0, HOST, &mac_a); /* the holder */
	assert_asked(f, 1, HOST, &mac_b); /* the claimant */
	assert_int_equal(counter(f, AC_VERIFY_STARTED), 1);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 0);
	f->now += 1;
	reply_from(f, &mac_b, HOST);
	assert_null(neigh_set(f, HOST)); /* the holder may still answer */
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	/* the holder answered the kernel at once: 3 ms + 4 x 0 ms for it to answer */
	uint64_t due = arp_engine_next_deadline(f->e);
	assert_int_equal(due, f->now - 1 + 3);
	tick_at(f, due - 1);
	assert_null(neigh_set(f, HOST));
	tick_at(f, due);
	const struct action *a = neigh_set(f, HOST);
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_b, MAC_LEN);
	assert_memory_equal(&entry(f, HOST)->mac, &mac_b, MAC_LEN);
	assert_non_null(log_with(f, "event=arp_verified action=accept"));
	assert_non_null(log_with(f, "reason=only_new_mac_answered"));
	assert_int_equal(counter(f, AC_VERIFY_CONFIRMED), 1);
	assert_int_equal(counter(f, AC_CHANGED), 1);
	fx_free(f);
}

/*
 * How long a check waits for the holder: 3 ms + 4 x the slowest answer
 * seen from it lately, at most VerifyTimeout; VerifyTimeout when its
 * answers were never timed.
 */
static void test_verify_wait(void **state)
{
	static const struct {
		int answer_ms; /* -1: learned without a query of ours (ARPRequests=Accept) */
		uint64_t wait;
	} cases[] = {{0, 3}, {3, 15}, {11, 47}, {12, 50}, {200, 50}, {-1, 50}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arp_policy p;
		arp_policy_defaults(&p);
		p.unsolicited_replies = AV_VERIFY;
		p.requests = AV_ACCEPT;
		struct fx *f = fx_new(&p);
		assert_int_equal(f->pol.verify_timeout_ms, 50);
		if (cases[i].answer_ms < 0) {
			struct arp_frame q;
			frame_request(&q, &mac_a, HOST, US);
			feed(f, &q);
		} else {
			kernel_asks(f, HOST);
			f->now += (uint64_t)cases[i].answer_ms;
			reply_from(f, &mac_a, HOST);
		}
		assert_non_null(neigh_set(f, HOST));
		struct arp_frame g;
		frame_garp_reply(&g, &mac_b, HOST);
		feed(f, &g);
		assert_int_equal(count_type(f, ACT_SEND), 2);
		/* until the claimant answers, the check runs to VerifyTimeout */
		assert_int_equal(arp_engine_next_deadline(f->e) - f->now, 50);
		reply_from(f, &mac_b, HOST);
		assert_int_equal(arp_engine_next_deadline(f->e) - f->now, cases[i].wait);
		fx_free(f);
	}
}

/*
 * The claimant answers after the holder's time (a host that answers
 * through a slow path): installed at its answer, not refused at the
 * holder's time. A holder that answers late, before the claimant, still
 * keeps the address.
 */
static void test_verify_claimant_late(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	learn_host(f, HOST, &mac_a); /* answered at once: 3 ms for it */
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST);
	feed(f, &g);
	uint64_t asked = f->now;
	tick_at(f, asked + 3);
	assert_null(neigh_set(f, HOST));
	assert_null(log_with(f, "nobody_answered"));
	f->now = asked + 8;
	reply_from(f, &mac_b, HOST);
	const struct action *a = neigh_set(f, HOST);
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_b, MAC_LEN);
	assert_int_equal(counter(f, AC_VERIFY_CONFIRMED), 1);

	/*
	 * the other way round: b (timed at 8 ms: 3 + 4 x 8 ms for it) is
	 * silent, a claims; b answers after its time, before a
	 */
	tick_at(f, f->now + 1000);
	frame_garp_reply(&g, &mac_a, HOST);
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 2);
	asked = f->now;
	tick_at(f, asked + 35);
	assert_null(neigh_set(f, HOST));
	f->now = asked + 36;
	reply_from(f, &mac_b, HOST);
	assert_non_null(log_with(f, "reason=current_holder_answered"));
	f->now = asked + 40;
	reply_from(f, &mac_a, HOST);
	assert_memory_equal(&entry(f, HOST)->mac, &mac_b, MAC_LEN);
	assert_int_equal(counter(f, AC_VERIFY_CONFLICT), 1);
	fx_free(f);
}

/* The index of the first action of type t at or after from; f->out.n if none. */
static size_t action_at(const struct fx *f, enum action_type t, size_t from)
{
	while (from < f->out.n && f->out.v[from].type != t)
		from++;
	return from;
}

/*
 * ACT_CHECKS: when a check starts (before its requests) and when it ends;
 * arp_engine_checks lists the address, the holder (if any) and the
 * claimant of every check running then.
 */
static void test_verify_checks_action(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	struct arp_check c[ARP_ENGINE_CHECKS_MAX];
	learn_host(f, HOST, &mac_a);
	learn_host(f, HOST2, &mac_s);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST);
	feed(f, &g);
	size_t at = action_at(f, ACT_CHECKS, 0);
	assert_true(at < f->out.n);
	assert_true(f->out.v[at].u.checks);
	assert_int_equal(f->out.v[at].ifindex, IF1);
	assert_true(at < action_at(f, ACT_SEND, 0)); /* before the requests */
	assert_int_equal(arp_engine_checks(f->e, IF1, c, ARP_ENGINE_CHECKS_MAX), 1);
	assert_int_equal(c[0].ip, HOST);
	assert_true(c[0].has_holder);
	assert_memory_equal(&c[0].holder, &mac_a, MAC_LEN);
	assert_memory_equal(&c[0].claimed, &mac_b, MAC_LEN);
	frame_garp_reply(&g, &mac_b, HOST2);
	feed(f, &g); /* a second check: listed too */
	assert_int_equal(count_type(f, ACT_SEND), 2);
	assert_int_equal(count_type(f, ACT_CHECKS), 1);
	assert_int_equal(arp_engine_checks(f->e, IF1, c, ARP_ENGINE_CHECKS_MAX), 2);
	reply_from(f, &mac_a, HOST); /* the first ends: the second is left */
	assert_non_null(log_with(f, "reason=current_holder_answered"));
	assert_int_equal(count_type(f, ACT_CHECKS), 1);
	assert_false(f->out.v[action_at(f, ACT_CHECKS, 0)].u.checks);
	assert_int_equal(arp_engine_checks(f->e, IF1, c, ARP_ENGINE_CHECKS_MAX), 1);
	assert_int_equal(c[0].ip, HOST2);
	assert_memory_equal(&c[0].holder, &mac_s, MAC_LEN);
	tick_at(f, f->now + f->pol.verify_timeout_ms);
	assert_non_null(log_with(f, "reason=nobody_answered"));
	assert_int_equal(count_type(f, ACT_CHECKS), 1);
	assert_int_equal(arp_engine_checks(f->e, IF1, c, ARP_ENGINE_CHECKS_MAX), 0);
	assert_int_equal(arp_engine_checks(f->e, IF2 + 100, c, ARP_ENGINE_CHECKS_MAX), 0);
	/* a new address: the claimant alone is asked; listed with no holder */
	struct arp_frame n;
	frame_garp_request(&n, &mac_b, IP(198, 18, 0, 12));
	feed(f, &n);
	assert_int_equal(count_type(f, ACT_SEND), 1);
	assert_int_equal(count_type(f, ACT_CHECKS), 1);
	assert_int_equal(arp_engine_checks(f->e, IF1, c, ARP_ENGINE_CHECKS_MAX), 1);
	assert_false(c[0].has_holder);
	assert_memory_equal(&c[0].claimed, &mac_b, MAC_LEN);
	fx_free(f);
}

/*
 * Answers are timed to their arrival: a reply handed over 4 ms late (a
 * receive ring's block) that arrived at once gives the host 3 ms, not 19.
 */
static void test_verify_timed_at_arrival(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	kernel_asks(f, HOST);
	uint64_t asked = f->now;
	f->now += 4;
	struct arp_frame r;
	frame_reply(&r, &mac_a, &mac_a, HOST, &our_mac, US);
	uint8_t buf[FRAME_MAX_LEN];
	size_t n = frame_build(&r, buf, sizeof(buf));
	actions_reset(&f->out);
	arp_engine_input_at(f->e, IF1, buf, n, ARP_RX_IN, f->now, asked, &f->out);
	assert_non_null(neigh_set(f, HOST));
	assert_int_equal(entry(f, HOST)->answer_ms, 0);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST);
	feed(f, &g);
	reply_from(f, &mac_b, HOST);
	assert_int_equal(arp_engine_next_deadline(f->e) - f->now, 3);
	/* an arrival later than now counts as now */
	fx_free(f);
}

/* A spoof of a live host's address: the holder answers, nothing changes. */
static void test_verify_holder_answers(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	learn_host(f, HOST, &mac_a);
	struct arp_frame r;
	frame_reply(&r, &mac_b, &mac_b, HOST, &our_mac, US); /* unsolicited */
	feed(f, &r);
	assert_int_equal(count_type(f, ACT_SEND), 2);
	reply_from(f, &mac_b, HOST); /* the claimant is quick */
	assert_null(neigh_set(f, HOST));
	reply_from(f, &mac_a, HOST); /* the holder too */
	assert_non_null(log_with(f, "event=arp_conflict action=keep"));
	assert_non_null(log_with(f, "reason=current_holder_answered"));
	assert_non_null(log_with(f, "srcenet=02:bb:00:00:00:0b curenet=02:aa:00:00:00:0a"));
	const struct action *a = neigh_set(f, HOST); /* the holder's answer refreshes it */
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_a, MAC_LEN);
	tick_at(f, f->now + 10 * f->pol.verify_timeout_ms);
	assert_null(neigh_set(f, HOST));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	assert_int_equal(counter(f, AC_VERIFY_CONFLICT), 1);
	assert_int_equal(counter(f, AC_VERIFY_CONFIRMED), 0);
	/* the claimant again, at once: held off, nobody asked */
	feed(f, &r);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	assert_int_equal(counter(f, AC_VERIFY_LIMITED), 1);
	fx_free(f);
}

/* Nobody answers: nothing changes, and the address is held off for a while. */
static void test_verify_nobody_answers(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	learn_host(f, HOST, &mac_a);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST);
	feed(f, &g);
	feed(f, &g); /* a second copy of the announcement: the same check */
	assert_int_equal(count_type(f, ACT_SEND), 0);
	assert_int_equal(counter(f, AC_VERIFY_REPEATED), 1);
	tick_at(f, f->now + f->pol.verify_timeout_ms);
	assert_null(neigh_set(f, HOST));
	assert_non_null(log_with(f, "reason=nobody_answered"));
	assert_int_equal(counter(f, AC_VERIFY_UNANSWERED), 1);
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	f->now += f->pol.verify_holdoff_ms - 1;
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	assert_int_equal(counter(f, AC_VERIFY_LIMITED), 1);
	f->now += 1;
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 2);
	assert_int_equal(counter(f, AC_VERIFY_STARTED), 2);
	/* a late answer of the first check's claimant is the second's */
	reply_from(f, &mac_b, HOST);
	tick_at(f, f->now + f->pol.verify_timeout_ms);
	assert_non_null(neigh_set(f, HOST));
	fx_free(f);
}

/* No entry yet: only the claimant is asked, and its answer is enough. */
static void test_verify_new_address(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	struct arp_frame g;
	frame_garp_request(&g, &mac_b, HOST2); /* the request form, too */
	feed(f, &g);
	assert_null(neigh_set(f, HOST2));
	assert_int_equal(count_type(f, ACT_SEND), 1);
	assert_asked(f, 0, HOST2, &mac_b);
	reply_from(f, &mac_b, HOST2);
	const struct action *a = neigh_set(f, HOST2);
	assert_non_null(a);
	assert_memory_equal(&a->u.neigh.mac, &mac_b, MAC_LEN);
	assert_non_null(log_with(f, "reason=new_mac_answered"));
	assert_int_equal(counter(f, AC_LEARNED), 1);
	/* the same announcement again says what we hold: refreshed, nobody asked */
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	assert_non_null(neigh_set(f, HOST2));
	assert_int_equal(counter(f, AC_REFRESHED), 1);
	assert_int_equal(counter(f, AC_VERIFY_STARTED), 1);
	/* without Verify a gratuitous request teaches nothing (ARPRequests=Drop) */
	struct fx *d = fx_verify(AV_DROPLOG, AV_ACCEPTLOG);
	feed(d, &g);
	assert_int_equal(d->out.n, 0);
	assert_int_equal(counter(d, AC_DROP_REQUEST), 1);
	fx_free(d);
	fx_free(f);
}

/* ARPChanges=Verify: an answer to the kernel's own query that changes the MAC is checked too. */
static void test_verify_changes(void **state)
{
	struct fx *f = fx_verify(AV_DROPLOG, AV_VERIFY);
	learn_host(f, HOST, &mac_a);
	kernel_asks(f, HOST); /* broadcast: the entry went stale */
	reply_from(f, &mac_b, HOST);
	assert_null(neigh_set(f, HOST));
	assert_int_equal(count_type(f, ACT_SEND), 2);
	assert_non_null(log_with(f, "rule=ARPChanges reason=mac_changed"));
	reply_from(f, &mac_a, HOST);
	assert_non_null(log_with(f, "event=arp_conflict"));
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	/* UnsolicitedARPReplies stays DropLog: an unsolicited claim is dropped, not checked */
	struct arp_frame g;
	frame_garp_reply(&g, &mac_b, HOST2);
	feed(f, &g);
	assert_int_equal(count_type(f, ACT_SEND), 0);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 1);
	fx_free(f);
}

/*
 * A flood of claims: for one address it costs the requests of one check
 * per hold-off; over many addresses, VerifyRate's. Nothing is installed
 * that nobody answered for.
 */
static void test_verify_flood(void **state)
{
	struct fx *f = fx_verify(AV_VERIFY, AV_ACCEPTLOG);
	struct ip4_prefix a = {US, 16};
	assert_int_equal(arp_engine_iface_set_addrs(f->e, IF1, &a, 1), 0);
	learn_host(f, HOST, &mac_a);
	size_t sends = 0;
	uint64_t t0 = f->now;
	/* one address, 10,000 claims from changing MACs over 10 s */
	for (int i = 0; i < 10000; i++) {
		struct mac m = {{0x02, 0x66, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}};
		struct arp_frame g;
		frame_garp_reply(&g, &m, HOST);
		f->now = t0 + (uint64_t)i;
		actions_reset(&f->out);
		arp_engine_tick(f->e, f->now, &f->out);
		sends += count_type(f, ACT_SEND);
		feed(f, &g);
		sends += count_type(f, ACT_SEND);
		assert_null(neigh_set(f, HOST));
	}
	/* a check of 20 ms, then 1 s held off: 2 requests each */
	size_t bound = 2 * (10000 / (f->pol.verify_timeout_ms + f->pol.verify_holdoff_ms) + 1);
	print_message("one address, 10000 claims in 10 s: %zu requests (bound %zu)\n", sends,
		      bound);
	assert_true(sends <= bound);
	assert_memory_equal(&entry(f, HOST)->mac, &mac_a, MAC_LEN);
	/* many addresses: 20,000 claims in 2 s, each for another address */
	sends = 0;
	t0 = f->now + 1;
	uint64_t limited0 = counter(f, AC_VERIFY_LIMITED);
	for (int i = 0; i < 20000; i++) {
		struct arp_frame g;
		frame_garp_reply(&g, &mac_b, IP(198, 18, 1 + i / 250, 1 + i % 250));
		f->now = t0 + (uint64_t)i / 10;
		actions_reset(&f->out);
		arp_engine_tick(f->e, f->now, &f->out);
		feed(f, &g);
		sends += count_type(f, ACT_SEND);
	}
	/* the bucket holds a second's worth, and refills at VerifyRate */
	bound = f->pol.verify_rate + 2 * f->pol.verify_rate;
	print_message("20000 addresses, 20000 claims in 2 s: %zu requests (bound %zu), %llu "
		      "claims not checked\n",
		      sends, bound, (unsigned long long)(counter(f, AC_VERIFY_LIMITED) - limited0));
	assert_true(sends <= bound);
	assert_true(counter(f, AC_VERIFY_LIMITED) - limited0 > 19000);
	fx_free(f);
}

static void test_other_vlan_ignored(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, US);
	q.vlan = 42; /* for VLAN 42's own device, not this one */
	feed(f, &q);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(counter(f, AC_OTHER_VLAN), 1);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	g.vlan = 42;
	feed(f, &g);
	assert_int_equal(f->out.n, 0);
	assert_null(entry(f, HOST));
	assert_int_equal(counter(f, AC_OTHER_VLAN), 2);
	fx_free(f);
}

/* ---- commands ---- */

static void test_flush(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	learn_host(f, HOST2, &mac_b);
	kernel_asks(f, IP(198, 18, 0, 99));
	assert_int_equal(arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_s, &f->out),
			 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_PUBLISH, &mac_p, &f->out), 0);
	actions_reset(&f->out);
	assert_int_equal(arp_engine_flush(f->e, 0, f->now, &f->out), 2);
	assert_true(neigh_del(f, HOST));
	assert_true(neigh_del(f, HOST2));
	assert_false(neigh_del(f, STATIC_IP));
	assert_int_equal(count_type(f, ACT_NEIGH_DEL), 2);
	assert_null(entry(f, HOST));
	assert_null(entry(f, IP(198, 18, 0, 99)));
	assert_non_null(entry(f, STATIC_IP));
	assert_non_null(entry(f, PUB_IP));
	assert_int_equal(arp_engine_flush(f->e, 12345, f->now, &f->out), -1);
	fx_free(f);
}

static void test_announce(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, XPUB_IP, ARP_XPUBLISH, &mac_p, &f->out),
			 0);
	actions_reset(&f->out);
	assert_int_equal(arp_engine_announce(f->e, IF1, f->now, &f->out), 2);
	assert_int_equal(count_type(f, ACT_SEND), 4);
	struct arp_frame r;
	assert_true(sent(f, 0, &r));
	assert_int_equal(r.spa, US);
	assert_int_equal(r.tpa, US);
	assert_memory_equal(&r.eth_dst, &mac_bc, MAC_LEN);
	assert_true(sent(f, 3, &r));
	assert_int_equal(r.op, ARP_OP_REPLY);
	assert_int_equal(r.spa, XPUB_IP);
	assert_memory_equal(&r.sha, &mac_p, MAC_LEN);
	assert_memory_equal(&r.eth_src, &mac_p, MAC_LEN);
	assert_int_equal(counter(f, AC_ANNOUNCED), 4);
	fx_free(f);
}

/* ---- bad input ---- */

static void test_malformed_counted(void **state)
{
	struct fx *f = fx_new(NULL);
	uint8_t buf[FRAME_MAX_LEN];
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, US);
	size_t n = frame_build(&q, buf, sizeof(buf));
	actions_reset(&f->out);
	arp_engine_input(f->e, IF1, buf, 20, ARP_RX_IN, f->now, &f->out);
	assert_int_equal(counter(f, AC_MALFORMED_FIRST + FR_TRUNCATED), 1);
	buf[15] = 6; /* htype 6 */
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_IN, f->now, &f->out);
	assert_int_equal(counter(f, AC_MALFORMED_FIRST + FR_BAD_HTYPE), 1);
	frame_request(&q, &mac_a, IP(127, 0, 0, 1), US);
	feed(f, &q);
	assert_int_equal(counter(f, AC_MALFORMED_FIRST + FR_SENDER_IP_BOGUS), 1);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(counter(f, AC_RX_FRAMES), 3);
	/* unmanaged interface: ignored entirely */
	arp_engine_input(f->e, 4242, buf, n, ARP_RX_IN, f->now, &f->out);
	assert_int_equal(counter(f, AC_RX_FRAMES), 3);
	/* frames for another host */
	frame_request(&q, &mac_a, HOST, US);
	n = frame_build(&q, buf, sizeof(buf));
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_IN_OTHERHOST, f->now, &f->out);
	assert_int_equal(counter(f, AC_OTHERHOST), 1);
	assert_int_equal(f->out.n, 0);
	fx_free(f);
}

/* The same request in each direction: judged, ignored, or a query of ours. */
static void test_direction(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame q;
	frame_request(&q, &mac_a, HOST, US);
	uint8_t buf[FRAME_MAX_LEN];
	size_t n = frame_build(&q, buf, sizeof(buf));
	actions_reset(&f->out);
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_IN, f->now, &f->out);
	assert_answer(f, US, &our_mac, &our_mac, &mac_a, HOST);
	assert_int_equal(counter(f, AC_RX_FRAMES), 1);
	actions_reset(&f->out);
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_IN_OTHERHOST, f->now, &f->out);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(counter(f, AC_RX_FRAMES), 2);
	assert_int_equal(counter(f, AC_OTHERHOST), 1);
	/* going out, a request is the kernel asking for HOST */
	frame_request(&q, &our_mac, US, HOST);
	n = frame_build(&q, buf, sizeof(buf));
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_OUT, f->now, &f->out);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(counter(f, AC_RX_FRAMES), 2);
	assert_int_equal(counter(f, AC_OUT_REQUESTS), 1);
	assert_int_equal(entry(f, HOST)->type, ARP_INCOMPLETE);
	/* an outgoing reply asks nothing */
	frame_reply(&q, &our_mac, &our_mac, US, &mac_b, HOST2);
	n = frame_build(&q, buf, sizeof(buf));
	arp_engine_input(f->e, IF1, buf, n, ARP_RX_OUT, f->now, &f->out);
	assert_int_equal(counter(f, AC_OUT_REQUESTS), 1);
	assert_null(entry(f, HOST2));
	fx_free(f);
}

static void test_cache_full_of_static(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.cache_size = 16;
	p.unsolicited_replies = AV_ACCEPT;
	struct fx *f = fx_new(&p);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(
		    arp_engine_add_entry(f->e, IF1, IP(198, 18, 1, i), ARP_STATIC, &mac_s, &f->out),
		    0);
	assert_int_equal(
	    arp_engine_add_entry(f->e, IF1, IP(198, 18, 1, 99), ARP_STATIC, &mac_s, &f->out), -1);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	feed(f, &g);
	assert_null(neigh_set(f, HOST));
	assert_int_equal(counter(f, AC_CACHE_FULL), 1);
	fx_free(f);
}

static void test_eviction_removes_from_kernel(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	p.cache_size = 16;
	p.unsolicited_replies = AV_ACCEPT;
	struct fx *f = fx_new(&p);
	for (uint32_t i = 0; i < 17; i++) {
		struct arp_frame g;
		frame_garp_reply(&g, &mac_a, IP(198, 18, 0, 100 + i));
		feed(f, &g);
		f->now += 10;
	}
	/* the oldest went out of the cache and out of the kernel */
	assert_true(neigh_del(f, IP(198, 18, 0, 100)));
	assert_null(entry(f, IP(198, 18, 0, 100)));
	assert_int_equal(counter(f, AC_EVICTED), 1);
	fx_free(f);
}

static void test_log_rate_limit(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	size_t logs = 0;
	for (int i = 0; i < 200; i++) {
		feed(f, &g);
		logs += count_type(f, ACT_LOG);
	}
	assert_int_equal(logs, 50);
	assert_int_equal(counter(f, AC_LOG_SUPPRESSED), 150);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 200); /* every drop still counted */
	f->now += 1000;
	feed(f, &g);
	assert_non_null(log_with(f, "event=log_suppressed recvif=lan count=150"));
	fx_free(f);
}

/* The summary comes from the timer when the window ends, with no new frame. */
static void test_log_suppressed_on_timer(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	uint64_t start = f->now;
	for (int i = 0; i < 80; i++)
		feed(f, &g);
	assert_int_equal(counter(f, AC_LOG_SUPPRESSED), 30);
	assert_true(arp_engine_next_deadline(f->e) <= start + 1000);
	actions_reset(&f->out);
	f->now = start + 999;
	arp_engine_tick(f->e, f->now, &f->out);
	assert_null(log_with(f, "event=log_suppressed"));
	f->now = arp_engine_next_deadline(f->e);
	assert_int_equal(f->now, start + 1000);
	arp_engine_tick(f->e, f->now, &f->out);
	assert_non_null(log_with(f, "event=log_suppressed recvif=lan count=30"));
	/* reported once: nothing more is due for it */
	actions_reset(&f->out);
	f->now += 5000;
	arp_engine_tick(f->e, f->now, &f->out);
	assert_null(log_with(f, "event=log_suppressed"));
	assert_true(arp_engine_next_deadline(f->e) > f->now);
	fx_free(f);
}

/* An interface whose device goes away keeps its counters for its return. */
static void test_counters_kept_while_absent(void **state)
{
	struct fx *f = fx_new(NULL);
	struct arp_frame g;
	frame_garp_reply(&g, &mac_a, HOST);
	feed(f, &g);
	feed(f, &g);
	assert_int_equal(counter(f, AC_DROP_UNSOLICITED), 2);
	arp_engine_iface_del(f->e, IF1);
	const char *name;
	const struct arp_counters *cnt;
	assert_int_equal(arp_engine_absent_at(f->e, 0, &name, &cnt), 0);
	assert_string_equal(name, "lan");
	assert_int_equal(cnt->v[AC_DROP_UNSOLICITED], 2);
	assert_int_equal(arp_engine_absent_at(f->e, 1, &name, &cnt), -1);
	/* back with another ifindex: the counters go on from where they were */
	assert_int_equal(arp_engine_iface_add(f->e, IF2, "lan", &our_mac, false), 0);
	assert_int_equal(arp_engine_absent_at(f->e, 0, &name, &cnt), -1);
	struct arp_iface_view v;
	assert_int_equal(arp_engine_iface_get(f->e, IF2, &v), 0);
	assert_int_equal(v.counters->v[AC_DROP_UNSOLICITED], 2);
	fx_free(f);
}

/*
 * What a view hands out is read-only: its cache can be walked and searched,
 * and the compiler refuses to pass it to anything that changes it.
 */
_Static_assert(_Generic(((struct arp_iface_view *)0)->cache, const struct arp_cache * : 1,
			default : 0),
	       "arp_iface_view.cache is const");
_Static_assert(_Generic(arp_cache_next((const struct arp_cache *)0, (size_t *)0),
			const struct arp_entry * : 1, default : 0),
	       "arp_cache_next gives const entries");

static void test_view_read_only(void **state)
{
	struct fx *f = fx_new(NULL);
	learn_host(f, HOST, &mac_a);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, STATIC_IP, ARP_STATIC, &mac_s, &f->out),
			 0);
	assert_int_equal(arp_engine_add_entry(f->e, IF1, PUB_IP, ARP_PUBLISH, NULL, &f->out), 0);
	assert_int_equal(note(f, HOST2, NULL), 0);
	const struct arp_engine *ce = f->e;
	struct arp_iface_view v;
	assert_int_equal(arp_engine_iface_get(ce, IF1, &v), 0);
	assert_int_equal(arp_cache_count(v.cache), 4);
	unsigned seen = 0;
	size_t cursor = 0;
	const struct arp_entry *en;
	while ((en = arp_cache_next(v.cache, &cursor))) {
		assert_ptr_equal(arp_cache_find(v.cache, en->ip), en);
		seen |= 1u << en->type;
		if (en->ip == HOST)
			assert_memory_equal(&en->mac, &mac_a, MAC_LEN);
		if (en->ip == PUB_IP)
			assert_true(en->flags & ARP_F_IFACE_MAC);
	}
	assert_int_equal(seen, (1u << ARP_DYNAMIC) | (1u << ARP_STATIC) | (1u << ARP_PUBLISH) |
				   (1u << ARP_INCOMPLETE));
	assert_null(arp_cache_find(v.cache, IP(198, 18, 0, 99)));
	/* the i-th view is the same interface */
	struct arp_iface_view w;
	assert_int_equal(arp_engine_iface_at(ce, 0, &w), 0);
	assert_ptr_equal(w.cache, v.cache);
	assert_int_equal(w.ifindex, IF1);
	assert_int_equal(arp_engine_iface_at(ce, 1, &w), -1);
	fx_free(f);
}

static void test_names(void **state)
{
	for (int c = 0; c < AC__COUNT; c++)
		assert_string_not_equal(arp_counter_name((enum arp_counter)c), "?");
	assert_string_equal(arp_counter_name(AC__COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unsolicited),
	    cmocka_unit_test(test_solicited_reply_accepted_even_with_drop),
	    cmocka_unit_test(test_query_times_out),
	    cmocka_unit_test(test_seed_log_line),
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_unicast_probe_answered_by_its_host_only),
	    cmocka_unit_test(test_same_mac_refreshes),
	    cmocka_unit_test(test_noted_query_makes_reply_solicited),
	    cmocka_unit_test(test_noted_unicast_query),
	    cmocka_unit_test(test_noted_query_as_kernel_request),
	    cmocka_unit_test(test_note_query_errors),
	    cmocka_unit_test(test_neigh_set_says_why),
	    cmocka_unit_test(test_static_changes),
	    cmocka_unit_test(test_reload_entries),
	    cmocka_unit_test(test_reload_policy),
	    cmocka_unit_test(test_match_enet_sender),
	    cmocka_unit_test(test_group_sender),
	    cmocka_unit_test(test_query_no_sender),
	    cmocka_unit_test(test_sender_ip),
	    cmocka_unit_test(test_ip_collision),
	    cmocka_unit_test(test_shared_vip_not_collision),
	    cmocka_unit_test(test_cluster_answered_with_group_mac),
	    cmocka_unit_test(test_cluster_peer_frames_ignored),
	    cmocka_unit_test(test_cluster_announced),
	    cmocka_unit_test(test_looped_own_frame),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_expire),
	    cmocka_unit_test(test_expire_unknown),
	    cmocka_unit_test(test_requery_unknown),
	    cmocka_unit_test(test_publish),
	    cmocka_unit_test(test_proxy),
	    cmocka_unit_test(test_other_vlan_ignored),
	    cmocka_unit_test(test_verify_only_new_answers),
	    cmocka_unit_test(test_verify_wait),
	    cmocka_unit_test(test_verify_claimant_late),
	    cmocka_unit_test(test_verify_checks_action),
	    cmocka_unit_test(test_verify_timed_at_arrival),
	    cmocka_unit_test(test_verify_holder_answers),
	    cmocka_unit_test(test_verify_nobody_answers),
	    cmocka_unit_test(test_verify_new_address),
	    cmocka_unit_test(test_verify_changes),
	    cmocka_unit_test(test_verify_flood),
	    cmocka_unit_test(test_flush),
	    cmocka_unit_test(test_announce),
	    cmocka_unit_test(test_malformed_counted),
	    cmocka_unit_test(test_direction),
	    cmocka_unit_test(test_cache_full_of_static),
	    cmocka_unit_test(test_eviction_removes_from_kernel),
	    cmocka_unit_test(test_log_rate_limit),
	    cmocka_unit_test(test_log_suppressed_on_timer),
	    cmocka_unit_test(test_counters_kept_while_absent),
	    cmocka_unit_test(test_view_read_only),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
