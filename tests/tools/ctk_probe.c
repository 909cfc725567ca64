/*
 * ctk_probe: os/conntrack against the real kernel, alone. Run as root in a
 * network namespace of its own with nf_conntrack loaded (it fills that
 * namespace's table; tests/netns/test_conntrack.py makes one):
 *
 *     ctk_probe [-n ENTRIES]        (default 20000)
 *
 * Commits ENTRIES synthetic entries (tcp, udp, icmp; 198.18.128.0/23),
 * dumps them back and compares them field by field, reads the events the
 * commit caused, updates, re-commits (create-or-update), deletes, checks
 * the kernel-side event filter (protocols, mark, IPv6) and that a full event
 * buffer is reported as ENOBUFS. Prints lines
 *     ok NAME: detail        FAIL NAME: detail        rate NAME: detail
 * and exits 1 if anything failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os/conntrack.h"

static int failures;

static void ok(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("ok %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	failures++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- synthetic entries ---- */

#define NET_CLI	  0xC6128000u /* 198.18.128.0 */
#define NET_SRV	  0xC6128100u /* 198.18.129.0 */
#define STATUS_OK (IPS_SEEN_REPLY | IPS_ASSURED)

static void make_entry(size_t i, struct ct_entry *e)
{
	static const uint8_t states[] = {TCP_CONNTRACK_ESTABLISHED, TCP_CONNTRACK_ESTABLISHED,
					 TCP_CONNTRACK_ESTABLISHED, TCP_CONNTRACK_FIN_WAIT,
					 TCP_CONNTRACK_CLOSE_WAIT,  TCP_CONNTRACK_TIME_WAIT,
					 TCP_CONNTRACK_SYN_RECV};
	memset(e, 0, sizeof(*e));
	uint32_t cli = NET_CLI + 1 + (uint32_t)(i % 250);
	uint32_t srv = NET_SRV + 10 + (uint32_t)(i % 7);
	uint16_t port = (uint16_t)(10000 + i / 250);
	unsigned kind = (unsigned)(i % 20);
	e->zone = i % 13 == 0 ? 3 : 0;
	e->mark = (uint32_t)i;
	if (kind < 16) {
		uint16_t dport = (uint16_t)(80 + i % 3);
		e->orig = (struct ct_tuple){cli, srv, port, dport, IPPROTO_TCP};
		e->reply = (struct ct_tuple){srv, cli, dport, port, IPPROTO_TCP};
		e->tcp_state = states[i % sizeof(states)];
		e->tcp_flags[0] = IP_CT_TCP_FLAG_WINDOW_SCALE | IP_CT_TCP_FLAG_SACK_PERM;
		e->tcp_flags[1] =
		    IP_CT_TCP_FLAG_WINDOW_SCALE | (i % 2 ? IP_CT_TCP_FLAG_SACK_PERM : 0);
		e->tcp_wscale[0] = 7;
		e->tcp_wscale[1] = (uint8_t)(i % 15);
		e->status = STATUS_OK;
		e->timeout = 600 + (uint32_t)(i % 1000);
	} else if (kind < 19) {
		e->orig = (struct ct_tuple){cli, srv, port, 53, IPPROTO_UDP};
		e->reply = (struct ct_tuple){srv, cli, 53, port, IPPROTO_UDP};
		e->status = STATUS_OK;
		e->timeout = 120 + (uint32_t)(i % 60);
	} else {
		e->orig = (struct ct_tuple){cli, srv, port, 8 << 8, IPPROTO_ICMP};
		e->reply = (struct ct_tuple){srv, cli, port, 0 << 8, IPPROTO_ICMP};
		e->status = IPS_SEEN_REPLY;
		e->timeout = 30;
	}
}

/* ---- the expected table: entries by orig tuple + zone ---- */

struct table {
	struct ct_entry *want; /* by index */
	size_t n;
	uint32_t *slot; /* index + 1, 0 = empty */
	size_t mask;
	unsigned char *seen;
};

static uint64_t key_hash(const struct ct_entry *e)
{
	uint64_t h = 1469598103934665603ull;
	uint64_t parts[] = {e->orig.src,   e->orig.dst,	  e->orig.sport,
			    e->orig.dport, e->orig.proto, e->zone};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		h ^= parts[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h;
}

static bool same_key(const struct ct_entry *a, const struct ct_entry *b)
{
	return a->orig.src == b->orig.src && a->orig.dst == b->orig.dst &&
	       a->orig.sport == b->orig.sport && a->orig.dport == b->orig.dport &&
	       a->orig.proto == b->orig.proto && a->zone == b->zone;
}

static void table_init(struct table *t, size_t n)
{
	t->n = n;
	t->want = calloc(n, sizeof(*t->want));
	t->seen = calloc(n, 1);
	size_t cap = 1;
	while (cap < 2 * n)
		cap <<= 1;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->mask = cap - 1;
	if (!t->want || !t->seen || !t->slot) {
		fprintf(stderr, "ctk_probe: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		make_entry(i, &t->want[i]);
		size_t s = (size_t)key_hash(&t->want[i]) & t->mask;
		while (t->slot[s])
			s = (s + 1) & t->mask;
		t->slot[s] = (uint32_t)i + 1;
	}
}

static long table_find(const struct table *t, const struct ct_entry *e)
{
	size_t s = (size_t)key_hash(e) & t->mask;
	while (t->slot[s]) {
		if (same_key(&t->want[t->slot[s] - 1], e))
			return (long)t->slot[s] - 1;
		s = (s + 1) & t->mask;
	}
	return -1;
}

static void table_free(struct table *t)
{
	free(t->want);
	free(t->seen);
	free(t->slot);
}

/* ---- field by field ---- */

#define CHANGEABLE (0xffffu & ~(unsigned)IPS_UNCHANGEABLE_MASK)

static bool tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

/* NULL when got matches want (timeout: at most age_s seconds spent), else what differs. */
static const char *differs(const struct ct_entry *want, const struct ct_entry *got, double age_s)
{
	if (!tuple_eq(&want->orig, &got->orig))
		return "orig tuple";
	if (!tuple_eq(&want->reply, &got->reply))
		return "reply tuple";
	if (want->zone != got->zone)
		return "zone";
	if (want->orig.proto == IPPROTO_TCP) {
		if (want->tcp_state != got->tcp_state)
			return "tcp_state";
		if ((want->tcp_flags[0] & CTK_TCP_FLAGS_COMMITTED) !=
			(got->tcp_flags[0] & CTK_TCP_FLAGS_COMMITTED) ||
		    (want->tcp_flags[1] & CTK_TCP_FLAGS_COMMITTED) !=
			(got->tcp_flags[1] & CTK_TCP_FLAGS_COMMITTED))
			return "tcp_flags";
		if (want->tcp_wscale[0] != got->tcp_wscale[0] ||
		    want->tcp_wscale[1] != got->tcp_wscale[1])
			return "tcp_wscale";
	}
	if ((want->status & CHANGEABLE) != (got->status & CHANGEABLE))
		return "status";
	if (!(got->status & IPS_CONFIRMED))
		return "status (not confirmed)";
	if (want->mark != got->mark)
		return "mark";
	if (got->timeout > want->timeout || (double)got->timeout + age_s + 1.5 < want->timeout)
		return "timeout";
	return NULL;
}

static void describe(const struct ct_entry *e, char *buf, size_t len)
{
	char a[16], b[16], c[16], d[16];
	struct in_addr x;
	x.s_addr = htonl(e->orig.src), inet_ntop(AF_INET, &x, a, sizeof(a));
	x.s_addr = htonl(e->orig.dst), inet_ntop(AF_INET, &x, b, sizeof(b));
	x.s_addr = htonl(e->reply.src), inet_ntop(AF_INET, &x, c, sizeof(c));
	x.s_addr = htonl(e->reply.dst), inet_ntop(AF_INET, &x, d, sizeof(d));
	snprintf(buf, len,
		 "proto %u %s:%u > %s:%u | %s:%u > %s:%u zone %u state %u flags %02x/%02x "
		 "wscale %u/%u status %#x mark %u timeout %u",
		 e->orig.proto, a, e->orig.sport, b, e->orig.dport, c, e->reply.sport, d,
		 e->reply.dport, e->zone, e->tcp_state, e->tcp_flags[0], e->tcp_flags[1],
		 e->tcp_wscale[0], e->tcp_wscale[1], e->status, e->mark, e->timeout);
}

/* ---- collecting dumps and events ---- */

struct check {
	struct table *t;
	double age_s;
	size_t found, foreign, mismatched;
	char first_bad[600];
	int ev_count[3];
	int want_ev; /* only count/compare events of this kind; -1: any */
};

static void check_entry(struct check *c, const struct ct_entry *e)
{
	long i = table_find(c->t, e);
	if (i < 0) {
		c->foreign++;
		return;
	}
	c->found++;
	c->t->seen[i] = 1;
	const char *what = differs(&c->t->want[i], e, c->age_s);
	if (what) {
		if (!c->mismatched++) {
			char g[256], w[256];
			describe(e, g, sizeof(g));
			describe(&c->t->want[i], w, sizeof(w));
			snprintf(c->first_bad, sizeof(c->first_bad), "%s differs: got %s; want %s",
				 what, g, w);
		}
	}
}

static void dump_cb(void *arg, const struct ct_entry *e)
{
	check_entry(arg, e);
}

static void ev_cb(void *arg, int ev, const struct ct_entry *e)
{
	struct check *c = arg;
	if (ev >= 0 && ev <= 2)
		c->ev_count[ev]++;
	if (c->want_ev < 0 || ev == c->want_ev) {
		if (ev == CTK_EV_DESTROY) { /* only the identity counts */
			long i = table_find(c->t, e);
			if (i < 0)
				c->foreign++;
			else
				c->found++;
		} else {
			check_entry(c, e);
		}
	}
}

static void check_reset(struct check *c, struct table *t, int want_ev)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->want_ev = want_ev;
	memset(t->seen, 0, t->n);
}

/* Read events until count of kind want_ev arrived or timeout_s passed. Seconds spent reading. */
static double read_events(struct ctk *k, struct check *c, int count, double timeout_s, int *err)
{
	double spent = 0, end = now_s() + timeout_s;
	*err = 0;
	while (c->ev_count[c->want_ev < 0 ? 0 : c->want_ev] < count && now_s() < end) {
		struct pollfd p = {.fd = ctk_event_fd(k), .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		double t0 = now_s();
		int r = ctk_read_events(k, ev_cb, c);
		spent += now_s() - t0;
		if (r < 0) {
			*err = errno;
			break;
		}
	}
	return spent;
}

/* Read whatever else is queued (not timed). */
static int drain_events(struct ctk *k, struct check *c)
{
	for (int tries = 0; tries < 3; tries++) {
		struct pollfd p = {.fd = ctk_event_fd(k), .events = POLLIN};
		while (poll(&p, 1, tries ? 50 : 0) > 0) {
			if (ctk_read_events(k, ev_cb, c) < 0)
				return -1;
		}
	}
	return 0;
}

static int dump_check(struct ctk *k, struct check *c, double *secs)
{
	double t0 = now_s();
	int r = ctk_dump(k, dump_cb, c);
	*secs = now_s() - t0;
	return r;
}

/* The marks of the events read (filter-mark). */
struct marks {
	uint32_t v[8];
	int n;
};

static void mark_cb(void *arg, int ev, const struct ct_entry *e)
{
	struct marks *m = arg;
	(void)ev;
	if (m->n < 8)
		m->v[m->n] = e->mark;
	m->n++;
}

/* ---- the cases ---- */

int main(int argc, char **argv)
{
	size_t n = 20000;
	int opt;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: ctk_probe [-n ENTRIES]\n");
			return 2;
		}
	}
	if (n < 1000 || n > 200000) {
		fprintf(stderr, "ctk_probe: -n from 1000 to 200000\n");
		return 2;
	}
	char err[256];
	struct ctk *k = ctk_open(256 << 20, true, err, sizeof(err));
	if (!k) {
		fail("open", "%s", err);
		return 1;
	}
	ok("open", "event fd %d", ctk_event_fd(k));

	/* more entries than n: the extra ones serve later cases */
	size_t extra_fail = n, extra_enobufs = n + 600, total = n + 600 + 3000;
	struct table t;
	table_init(&t, total);
	struct check c;

	/* -- commit n */
	const struct ct_entry **v = calloc(total, sizeof(*v));
	for (size_t i = 0; i < total; i++)
		v[i] = &t.want[i];
	size_t created = 0, failed = 0;
	struct ctk_stats st0, st1;
	ctk_get_stats(k, &st0);
	double t0 = now_s();
	int r = ctk_commit(k, v, n, &created, &failed);
	double commit_s = now_s() - t0;
	ctk_get_stats(k, &st1);
	if (r < 0 || created != n || failed)
		fail("commit", "returned %d (%s), created %zu failed %zu of %zu, last error %s", r,
		     r < 0 ? strerror(errno) : "-", created, failed, n, strerror(st1.last_error));
	else
		ok("commit", "%zu entries created, none failed", n);
	printf("rate commit: %.0f entries/s (%zu in %.1f ms, %llu send() calls)\n",
	       (double)n / commit_s, n, commit_s * 1000,
	       (unsigned long long)(st1.commit_sends - st0.commit_sends));

	/* -- dump: every entry back, field by field */
	double dump_s, dump_t0 = now_s();
	check_reset(&c, &t, -1);
	c.age_s = now_s() - t0;
	r = dump_check(k, &c, &dump_s);
	(void)dump_t0;
	if (r < 0)
		fail("dump", "ctk_dump: %s", strerror(errno));
	else if (c.found != n || c.mismatched || c.foreign)
		fail("dump", "%zu of %zu found, %zu differ, %zu foreign; %s", c.found, n,
		     c.mismatched, c.foreign, c.first_bad);
	else
		ok("dump", "%zu entries back, every field as committed", c.found);
	printf("rate dump: %.0f entries/s (%zu in %.1f ms)\n", (double)c.found / dump_s, c.found,
	       dump_s * 1000);

	/* -- the NEW events the commit caused (queued in the 256 MiB buffer) */
	check_reset(&c, &t, CTK_EV_NEW);
	c.age_s = now_s() - t0;
	int eerr;
	double ev_s = read_events(k, &c, (int)n, 5, &eerr);
	if (eerr)
		fail("events-new", "ctk_read_events: %s", strerror(eerr));
	else if (c.ev_count[CTK_EV_NEW] != (int)n || c.found != n || c.mismatched)
		fail("events-new", "%d NEW events (%zu ours, %zu differ) for %zu entries; %s",
		     c.ev_count[CTK_EV_NEW], c.found, c.mismatched, n, c.first_bad);
	else
		ok("events-new", "%zu NEW events, every field as committed", n);
	printf("rate events: %.0f events/s read and parsed (%d in %.1f ms)\n",
	       (double)c.ev_count[CTK_EV_NEW] / ev_s, c.ev_count[CTK_EV_NEW], ev_s * 1000);
	drain_events(k, &c);

	/* -- update 1000 one by one */
	size_t nu = 1000;
	t0 = now_s();
	size_t upd_fail = 0;
	for (size_t i = 0; i < nu; i++) {
		struct ct_entry *e = &t.want[i];
		e->mark = 1000000 + (uint32_t)i;
		e->timeout = 3000;
		if (e->orig.proto == IPPROTO_TCP && e->tcp_state == TCP_CONNTRACK_ESTABLISHED)
			e->tcp_state = TCP_CONNTRACK_FIN_WAIT;
		if (ctk_update(k, e) < 0)
			upd_fail++;
	}
	double upd_s = now_s() - t0;
	check_reset(&c, &t, CTK_EV_UPDATE);
	c.age_s = now_s() - t0;
	read_events(k, &c, (int)nu, 5, &eerr);
	if (upd_fail || eerr || c.ev_count[CTK_EV_UPDATE] != (int)nu || c.mismatched)
		fail("update", "%zu updates failed; %d UPDATE events (%zu differ) for %zu; %s%s",
		     upd_fail, c.ev_count[CTK_EV_UPDATE], c.mismatched, nu,
		     eerr ? strerror(eerr) : "", c.first_bad);
	else
		ok("update", "%zu entries updated, %zu UPDATE events with the new state", nu, nu);
	printf("rate update: %.0f entries/s one request each (%zu in %.1f ms)\n",
	       (double)nu / upd_s, nu, upd_s * 1000);
	drain_events(k, &c);

	/* -- commit over existing entries (create or update) plus one bad one */
	size_t nr = 2000;
	for (size_t i = nu; i < nu + nr; i++)
		t.want[i].mark = 2000000 + (uint32_t)i;
	const struct ct_entry **mix = calloc(nr + 500 + 1, sizeof(*mix));
	size_t m = 0;
	for (size_t i = nu; i < nu + nr; i++)
		mix[m++] = &t.want[i];
	struct ct_entry bad = t.want[extra_fail];
	bad.tcp_state = 200; /* >= TCP_CONNTRACK_MAX: the kernel refuses it (ERANGE) */
	if (bad.orig.proto != IPPROTO_TCP)
		make_entry(extra_fail + 20 - extra_fail % 20, &bad), bad.tcp_state = 200;
	for (size_t i = 0; i < 500; i++) {
		mix[m++] = &t.want[extra_fail + 1 + i];
		if (i == 250)
			mix[m++] = &bad;
	}
	ctk_get_stats(k, &st0);
	r = ctk_commit(k, mix, m, &created, &failed);
	ctk_get_stats(k, &st1);
	if (r < 0 || created != nr + 500 || failed != 1 || st1.last_error == 0)
		fail("commit-update",
		     "returned %d, created %zu (want %zu), failed %zu (want 1), last error %s", r,
		     created, nr + 500, failed, strerror(st1.last_error));
	else
		ok("commit-update",
		   "%zu existing entries updated and 500 new ones created in one "
		   "commit; the invalid one counted failed (%s)",
		   nr, strerror(st1.last_error));
	free(mix);
	/* the table now: 0..n-1 and extra_fail+1..+500 */
	check_reset(&c, &t, -1);
	c.age_s = now_s() - t0;
	r = dump_check(k, &c, &dump_s);
	size_t in_kernel = n + 500;
	if (r < 0 || c.found != in_kernel || c.mismatched)
		fail("dump-after-update", "%zu of %zu found, %zu differ; %s", c.found, in_kernel,
		     c.mismatched, c.first_bad);
	else
		ok("dump-after-update", "%zu entries, updated marks and states as set", c.found);
	drain_events(k, &c);

	/* -- delete 1000 */
	size_t nd = 1000, del_fail = 0;
	t0 = now_s();
	for (size_t i = n - nd; i < n; i++)
		if (ctk_delete(k, &t.want[i]) < 0)
			del_fail++;
	double del_s = now_s() - t0;
	check_reset(&c, &t, CTK_EV_DESTROY);
	read_events(k, &c, (int)nd, 5, &eerr);
	int again = ctk_delete(k, &t.want[n - 1]);
	if (del_fail || eerr || c.ev_count[CTK_EV_DESTROY] != (int)nd || c.found != nd ||
	    again != 0)
		fail("delete",
		     "%zu deletes failed, %d DESTROY events (%zu ours) for %zu, "
		     "deleting a missing entry returned %d",
		     del_fail, c.ev_count[CTK_EV_DESTROY], c.found, nd, again);
	else
		ok("delete", "%zu deleted, %zu DESTROY events; a missing entry is no error", nd,
		   nd);
	printf("rate delete: %.0f entries/s one request each (%zu in %.1f ms)\n",
	       (double)nd / del_s, nd, del_s * 1000);
	check_reset(&c, &t, -1);
	c.age_s = 3600;
	dump_check(k, &c, &dump_s);
	bool gone = true;
	for (size_t i = n - nd; i < n; i++)
		gone = gone && !t.seen[i];
	if (!gone || c.found != in_kernel - nd)
		fail("dump-after-delete", "%zu entries (want %zu), deleted ones gone: %s", c.found,
		     in_kernel - nd, gone ? "yes" : "no");
	else
		ok("dump-after-delete", "%zu entries, the deleted ones gone", c.found);
	drain_events(k, &c);

	/* -- the kernel-side filter: a second handle for tcp only */
	struct ctk *k2 = ctk_open(1 << 20, true, err, sizeof(err));
	uint8_t tcp_only[] = {IPPROTO_TCP};
	if (!k2 || ctk_set_protocols(k2, tcp_only, 1) < 0) {
		fail("filter-protocols", "second handle: %s", k2 ? strerror(errno) : err);
	} else {
		struct ct_entry tcp_e, udp_e;
		make_entry(extra_enobufs - (extra_enobufs % 20) + 20, &tcp_e); /* kind 0: tcp */
		make_entry(extra_enobufs - (extra_enobufs % 20) + 36, &udp_e); /* kind 16: udp */
		tcp_e.orig.src = tcp_e.reply.dst = NET_CLI + 300; /* outside the table */
		udp_e.orig.src = udp_e.reply.dst = NET_CLI + 300;
		const struct ct_entry *two[] = {&udp_e, &tcp_e};
		ctk_commit(k, two, 2, &created, &failed);
		struct table t2;
		table_init(&t2, 1);
		struct check c2;
		check_reset(&c2, &t2, -1);
		usleep(100000);
		ctk_read_events(k2, ev_cb, &c2);
		struct ctk_stats s2;
		ctk_get_stats(k2, &s2);
		if (created != 2 || s2.ev_msgs != 1 || s2.ev_new != 1 ||
		    c2.ev_count[CTK_EV_NEW] != 1)
			fail("filter-protocols",
			     "committed %zu; tcp-only handle read %llu messages, %llu NEW (want 1)",
			     created, (unsigned long long)s2.ev_msgs,
			     (unsigned long long)s2.ev_new);
		else
			ok("filter-protocols",
			   "tcp-only handle got the tcp NEW event and never read "
			   "the udp one (filtered in the kernel)");
		table_free(&t2);
	}
	drain_events(k, &c);

	/* -- the kernel-side mark filter (active-active: our owner id in the high 16 bits) */
	struct ctk *km = ctk_open(1 << 20, true, err, sizeof(err));
	if (!km || ctk_set_mark(km, 0x01070000, 0xffff0000) < 0) {
		fail("filter-mark", "third handle: %s", km ? strerror(errno) : err);
	} else {
		struct ct_entry me[3];
		const struct ct_entry *pm[3];
		const uint32_t marks[3] = {0x02330005, 0, 0x01070005}; /* another's, none, ours */
		for (int i = 0; i < 3; i++) {
			make_entry(extra_enobufs - (extra_enobufs % 20) + 80 + 20 * (size_t)i,
				   &me[i]);
			me[i].orig.src = me[i].reply.dst = NET_CLI + 500 + (uint32_t)i;
			me[i].mark = marks[i];
			pm[i] = &me[i];
		}
		ctk_commit(k, pm, 3, &created, &failed);
		usleep(100000);
		struct marks got = {0};
		ctk_read_events(km, mark_cb, &got);
		struct ctk_stats s3;
		ctk_get_stats(km, &s3);
		if (created != 3 || s3.ev_msgs != 1 || got.n != 1 || got.v[0] != 0x01070005)
			fail("filter-mark",
			     "committed %zu; the handle for owner 0x0107 read %llu messages, "
			     "%d events (first mark 0x%08x); want 1, of mark 0x01070005",
			     created, (unsigned long long)s3.ev_msgs, got.n, got.n ? got.v[0] : 0);
		else
			ok("filter-mark",
			   "the handle for owner 0x0107 read its entry's event alone, "
			   "none of another owner's nor of one without a mark");
		ctk_remove(k, pm, 3, &failed);
	}
	ctk_close(km);
	drain_events(k, &c);

	/* -- IPv6 never reaches the socket nor the dump */
	struct nfct_handle *h6 = nfct_open(CONNTRACK, 0);
	struct nf_conntrack *ct6 = nfct_new();
	if (!h6 || !ct6) {
		fail("filter-ipv6", "nfct_open: %s", strerror(errno));
	} else {
		struct ctk_stats a, b;
		ctk_get_stats(k, &a);
		struct in6_addr s6, d6;
		inet_pton(AF_INET6, "2001:db8::1", &s6);
		inet_pton(AF_INET6, "2001:db8::2", &d6);
		nfct_set_attr_u8(ct6, ATTR_L3PROTO, AF_INET6);
		nfct_set_attr(ct6, ATTR_IPV6_SRC, &s6);
		nfct_set_attr(ct6, ATTR_IPV6_DST, &d6);
		nfct_set_attr_u8(ct6, ATTR_REPL_L3PROTO, AF_INET6);
		nfct_set_attr(ct6, ATTR_REPL_IPV6_SRC, &d6);
		nfct_set_attr(ct6, ATTR_REPL_IPV6_DST, &s6);
		nfct_set_attr_u8(ct6, ATTR_L4PROTO, IPPROTO_UDP);
		nfct_set_attr_u8(ct6, ATTR_REPL_L4PROTO, IPPROTO_UDP);
		nfct_set_attr_u16(ct6, ATTR_PORT_SRC, htons(4000));
		nfct_set_attr_u16(ct6, ATTR_PORT_DST, htons(53));
		nfct_set_attr_u16(ct6, ATTR_REPL_PORT_SRC, htons(53));
		nfct_set_attr_u16(ct6, ATTR_REPL_PORT_DST, htons(4000));
		nfct_set_attr_u32(ct6, ATTR_TIMEOUT, 100);
		int q = nfct_query(h6, NFCT_Q_CREATE, ct6);
		int qerr = errno;
		usleep(100000);
		struct table t3;
		table_init(&t3, 1);
		struct check c3;
		check_reset(&c3, &t3, -1);
		ctk_read_events(k, ev_cb, &c3);
		ctk_get_stats(k, &b);
		check_reset(&c3, &t3, -1);
		c3.age_s = 3600;
		ctk_dump(k, dump_cb, &c3);
		size_t dumped = c3.found + c3.foreign;
		if (q < 0)
			fail("filter-ipv6", "creating the IPv6 entry: %s", strerror(qerr));
		else if (b.ev_msgs != a.ev_msgs || dumped != in_kernel - nd + 2)
			fail("filter-ipv6",
			     "after an IPv6 entry: %llu messages read (want 0), dump "
			     "of %zu (want %zu IPv4)",
			     (unsigned long long)(b.ev_msgs - a.ev_msgs), dumped,
			     in_kernel - nd + 2);
		else
			ok("filter-ipv6", "an IPv6 entry caused no message on the event socket and "
					  "is not in the dump");
		table_free(&t3);
	}
	if (ct6)
		nfct_destroy(ct6);
	if (h6)
		nfct_close(h6);

	/* -- a handle without NEW events that skips what its own requests cause */
	struct ctk *k4 = ctk_open(1 << 20, false, err, sizeof(err));
	if (!k4) {
		fail("own-and-new", "%s", err);
	} else {
		struct table t5;
		table_init(&t5, 1);
		struct check c5;
		check_reset(&c5, &t5, -1);
		ctk_set_skip_own(k4, true);
		struct ct_entry a, b;
		make_entry(extra_enobufs - (extra_enobufs % 20) + 40, &a); /* kind 0: tcp */
		make_entry(extra_enobufs - (extra_enobufs % 20) + 60, &b);
		a.orig.src = a.reply.dst = NET_CLI + 400;
		b.orig.src = b.reply.dst = NET_CLI + 401;
		const struct ct_entry *pa[] = {&a}, *pb[] = {&b};
		size_t ca = 0, cb = 0;
		ctk_commit(k, pa, 1, &ca, &failed);  /* another's create: NEW, not listened to */
		ctk_commit(k4, pb, 1, &cb, &failed); /* our own create: NEW, not listened to */
		b.mark = 4242;
		int ub = ctk_update(k4, &b); /* our own update */
		a.mark = 4343;
		int ua = ctk_update(k, &a); /* another's update: seen */
		int db = ctk_delete(k, &b); /* another's delete: seen */
		usleep(100000);
		check_reset(&c5, &t5, -1);
		ctk_read_events(k4, ev_cb, &c5);
		struct ctk_stats s5;
		ctk_get_stats(k4, &s5);
		if (ca != 1 || cb != 1 || ub || ua || db || c5.ev_count[CTK_EV_NEW] ||
		    c5.ev_count[CTK_EV_UPDATE] != 1 || c5.ev_count[CTK_EV_DESTROY] != 1 ||
		    s5.ev_own != 1)
			fail("own-and-new",
			     "created %zu+%zu, update/update/delete %d/%d/%d; "
			     "events new %d update %d destroy %d (want 0 1 1), own %llu (want 1)",
			     ca, cb, ub, ua, db, c5.ev_count[CTK_EV_NEW],
			     c5.ev_count[CTK_EV_UPDATE], c5.ev_count[CTK_EV_DESTROY],
			     (unsigned long long)s5.ev_own);
		else
			ok("own-and-new",
			   "without NEW events and skipping its own: another's "
			   "create unseen, our create and update skipped (%llu), "
			   "another's update and delete seen",
			   (unsigned long long)s5.ev_own);
		ctk_delete(k, &a);
		table_free(&t5);
		ctk_close(k4);
	}
	drain_events(k, &c);

	/* -- a small buffer overflows: ENOBUFS, never silence */
	struct ctk *k3 = ctk_open(4096, true, err, sizeof(err));
	if (!k3) {
		fail("enobufs", "%s", err);
	} else {
		ctk_commit(k, v + extra_enobufs, 2000, &created, &failed);
		struct table t4;
		table_init(&t4, 1);
		struct check c4;
		check_reset(&c4, &t4, -1);
		int rr, e4 = 0, rounds = 0;
		while ((rr = ctk_read_events(k3, ev_cb, &c4)) > 0 && rounds++ < 1000)
			;
		if (rr < 0)
			e4 = errno;
		struct ctk_stats s3;
		ctk_get_stats(k3, &s3);
		if (created != 2000 || e4 != ENOBUFS || s3.enobufs != 1)
			fail("enobufs",
			     "committed %zu; reading a 4 KiB buffer returned %d (%s), "
			     "%d events first",
			     created, rr, e4 ? strerror(e4) : "no error", c4.ev_count[0]);
		else
			ok("enobufs",
			   "2000 events into a 4 KiB buffer: ctk_read_events said ENOBUFS "
			   "after %d events",
			   c4.ev_count[0]);
		table_free(&t4);
		ctk_close(k3);
	}
	drain_events(k, &c);

	struct ctk_stats fin;
	ctk_get_stats(k, &fin);
	printf("stats: ev_msgs %llu new %llu update %llu destroy %llu skipped %llu refetch %llu "
	       "enobufs %llu dumps %llu committed %llu failed %llu sends %llu\n",
	       (unsigned long long)fin.ev_msgs, (unsigned long long)fin.ev_new,
	       (unsigned long long)fin.ev_update, (unsigned long long)fin.ev_destroy,
	       (unsigned long long)fin.ev_skipped, (unsigned long long)fin.ev_refetch,
	       (unsigned long long)fin.enobufs, (unsigned long long)fin.dumps,
	       (unsigned long long)fin.committed, (unsigned long long)fin.commit_failed,
	       (unsigned long long)fin.commit_sends);
	if (fin.enobufs)
		fail("no-loss", "the 256 MiB event buffer overflowed %llu times",
		     (unsigned long long)fin.enobufs);
	ctk_close(k2);
	ctk_close(k);
	free(v);
	table_free(&t);
	printf("%s\n", failures ? "ctk_probe: FAILED" : "ctk_probe: all ok");
	return failures ? 1 : 0;
}
