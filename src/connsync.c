/*
 * connsync: arphad's side of connection-tracking sync (see connsync.h).
 *
 * Our kernel's events (os/conntrack, filtered in the kernel) go into
 * core/ctsync, whose messages go out over reliable broadcast; the other
 * nodes' messages come back in through ctsync, which keeps their tables
 * in memory and journals every change to them: we carry the changes into
 * our kernel once the loop has nothing else to do (keep_in_step, at
 * ARPHAD_PRIO_BACKLOG: after the datagrams waiting, whose changes then go
 * in as one batch, and after the clients waiting; never later than
 * STEP_MAX_WAIT_MS), so the kernel of a backup holds the master's
 * connections long before it is needed. The events our own
 * requests cause are skipped (the kernel names the requester in them), so
 * nothing we put in is sent back as ours. When this node takes a VIP
 * over, failover.c calls connsync_commit before the address comes up: it
 * commits only what the kernel refused or dropped since (a timeout), then
 * takes every held connection as ours.
 */
#include "connsync.h"

#include <errno.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arphad.h"
#include "core/ctsync.h"
#include "os/conntrack.h"
#include "os/log.h"

#define CT_RCVBUF (16 << 20) /* the event socket's buffer: bursts of NEW */
/*
 * Event moderation: BUSY_WAKEUPS wake-ups in a row less than BUSY_PAUSE_US
 * apart, or one that finds BUSY_EVENTS events, mean a burst; then the socket rests for
 * BUSY_PAUSE_US, so the next read takes many events at once and the
 * messages carry many records (a wake-up and a datagram each cost more
 * than an event). An event after a quiet spell is read at once.
 */
#define BUSY_EVENTS   16
#define BUSY_WAKEUPS  6 /* (a connection alone makes four or five events: no pause) */
#define BUSY_PAUSE_US 1000
/* changes wait at most this long for the loop to be idle before they go into the kernel */
#define STEP_MAX_WAIT_MS 20

struct connsync {
	struct ctsync *core;
	struct ctk *k;
	struct event *ev;
	struct event *pause; /* event moderation: the socket rests */
	uint64_t last_read_us;
	unsigned quick; /* wake-ups in a row less than BUSY_PAUSE_US apart */
	struct cluster_actions cacts;
	struct ip4_prefix nets[CONF_MAX_CT_NETS + 64];
	size_t n_nets;
	uint64_t broadcast_errors;
	uint64_t event_losses; /* ENOBUFS: a full resync followed */
	uint64_t half_open;    /* TCP events before ESTABLISHED, not synced */
	uint64_t commits, committed, commit_failed, last_commit_us, last_commit_at;
	/* keeping the kernel in step with the peers' tables */
	uint64_t step_set, step_removed, step_failed, step_skipped_own;
	bool commit_all;     /* a journalled change was lost: commit everything */
	struct event *step;  /* the peers' changes into our kernel, at ARPHAD_PRIO_BACKLOG */
	uint64_t step_since; /* ms; since when changes wait for it (0: none) */
	struct event *adopt; /* after a takeover: the held connections become ours */
	uint64_t adopted;
	const struct ct_entry **stepv; /* scratch for keep_in_step */
	size_t stepcap;
};

/* ---- out ---- */

static void flush_out(struct daemon *d)
{
	struct connsync *s = d->cs;
	uint8_t buf[WIRE_RB_MAX_DATA];
	size_t len;
	uint64_t now = now_ms();
	while ((len = ctsync_next_message(s->core, buf, sizeof(buf), now)) > 0) {
		if (cluster_broadcast(d->cl, buf, len, now, &s->cacts) < 0 &&
		    s->broadcast_errors++ % 100 == 0)
			log_warn("event=connsync_broadcast_failed failures=%llu",
				 (unsigned long long)s->broadcast_errors);
		cluster_send(d, &s->cacts);
	}
}

/* ---- our kernel ---- */

/* Carry one run of changes of one kind into the kernel. */
static void step_run(struct connsync *s, uint8_t op, size_t n)
{
	if (n == 0)
		return;
	size_t ok = 0, failed = 0;
	int rc = op == CT_CHG_SET ? ctk_commit(s->k, s->stepv, n, &ok, &failed)
				  : ctk_remove(s->k, s->stepv, n, &failed);
	if (op == CT_CHG_SET)
		s->step_set += ok;
	else
		s->step_removed += n - failed;
	if (rc < 0 || failed) {
		/* the kernel refused some (which is not said): commit these at takeover */
		if (s->step_failed == 0)
			log_warnx("event=connsync_kernel_refused refused=%zu of=%zu error=\"%s\" "
				  "msg=\"they are committed at takeover\"",
				  rc < 0 ? n : failed, n, strerror(rc < 0 ? errno : EINVAL));
		s->step_failed += rc < 0 ? n : failed;
		if (op == CT_CHG_SET)
			for (size_t i = 0; i < n; i++)
				ctsync_peer_set_missing(s->core, &s->stepv[i]->orig,
							s->stepv[i]->zone, true);
	}
}

/*
 * The peers' tables changed (a message came in): the same changes into
 * our kernel, in order, in runs of one kind. A connection that is ours
 * too is left alone: our kernel has the live one.
 */
static void keep_in_step(struct daemon *d)
{
	struct connsync *s = d->cs;
	uint32_t self = d->cfg.cluster.node_id;
	size_t n;
	bool lost;
	const struct ct_change *v = ctsync_changes(s->core, &n, &lost);
	if (lost && !s->commit_all) {
		log_warnx("event=out_of_memory what=connsync msg=\"the kernel may miss synced "
			  "connections; all are committed at takeover\"");
		s->commit_all = true;
	}
	if (n > s->stepcap) {
		const struct ct_entry **nv = realloc(s->stepv, n * sizeof(*nv));
		if (!nv) {
			s->commit_all = true;
			ctsync_changes_clear(s->core);
			s->step_since = 0;
			return;
		}
		s->stepv = nv;
		s->stepcap = n;
	}
	size_t run = 0;
	uint8_t op = 0;
	for (size_t i = 0; i < n; i++) {
		if (ctsync_find(s->core, self, &v[i].e.orig, v[i].e.zone)) {
			s->step_skipped_own++;
			continue;
		}
		if (v[i].op != op) {
			step_run(s, op, run);
			run = 0;
			op = v[i].op;
		}
		s->stepv[run++] = &v[i].e;
	}
	step_run(s, op, run);
	ctsync_changes_clear(s->core);
	s->step_since = 0;
}

/*
 * Changes came in: into our kernel once the loop has nothing else to do,
 * or now when they have waited STEP_MAX_WAIT_MS (clients that never stop).
 */
static void step_soon(struct daemon *d)
{
	struct connsync *s = d->cs;
	size_t n;
	bool lost;
	(void)ctsync_changes(s->core, &n, &lost);
	if (n == 0 && !lost)
		return;
	uint64_t now = now_ms();
	if (!s->step_since)
		s->step_since = now;
	if (now - s->step_since >= STEP_MAX_WAIT_MS)
		keep_in_step(d);
	else
		event_active(s->step, EV_TIMEOUT, 0);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	keep_in_step(arg);
}

static void on_kernel_entry(void *arg, const struct ct_entry *e)
{
	struct daemon *d = arg;
	(void)ctsync_local(d->cs->core, CT_EV_NEW, e, now_ms());
}

/* Read our whole table again and send it all (at start, and after lost events). */
static void full_resync(struct daemon *d)
{
	struct connsync *s = d->cs;
	ctsync_local_reset(s->core);
	int rc;
	int tries = 0;
	while ((rc = ctk_dump(s->k, on_kernel_entry, d)) < 0 && errno == EINTR && ++tries < 5)
		ctsync_local_reset(s->core);
	if (rc < 0)
		log_warn("event=conntrack_dump_failed");
	ctsync_resync_all(s->core, now_ms());
	flush_out(d);
}

static void on_kernel_event(void *arg, int ev, const struct ct_entry *e)
{
	struct daemon *d = arg;
	struct connsync *s = d->cs;
	uint32_t self = d->cfg.cluster.node_id;
	if (ev == CTK_EV_DESTROY)
		/* gone from our kernel (a timeout): a peer's copy must go back in at takeover */
		ctsync_peer_set_missing(s->core, &e->orig, e->zone, true);
	if (ev == CTK_EV_UPDATE_PARTIAL) {
		/* status or mark changed: the TCP state is the one we know */
		const struct ct_entry *old = ctsync_find(s->core, self, &e->orig, e->zone);
		if (!old)
			return; /* not synced (yet): nothing to update */
		struct ct_entry m = *e;
		m.tcp_state = old->tcp_state;
		memcpy(m.tcp_flags, old->tcp_flags, sizeof(m.tcp_flags));
		memcpy(m.tcp_wscale, old->tcp_wscale, sizeof(m.tcp_wscale));
		(void)ctsync_local(s->core, CT_EV_UPDATE, &m, now_ms());
		return;
	}
	if (ev != CTK_EV_DESTROY && e->orig.proto == IPPROTO_TCP &&
	    e->tcp_state < TCP_CONNTRACK_ESTABLISHED &&
	    !ctsync_find(s->core, self, &e->orig, e->zone)) {
		/*
		 * A handshake under way is not synced: if the master dies now the
		 * client sends its SYN again and the new master lets it through.
		 * It is sent once established (an UPDATE unknown here is a NEW).
		 */
		s->half_open++;
		return;
	}
	enum ct_event t = ev == CTK_EV_NEW	? CT_EV_NEW
			  : ev == CTK_EV_UPDATE ? CT_EV_UPDATE
						: CT_EV_DESTROY;
	(void)ctsync_local(s->core, t, e, now_ms());
}

static uint64_t now_us(void);

static void on_ct(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct connsync *s = d->cs;
	int n = ctk_read_events(s->k, on_kernel_event, d);
	uint64_t t = now_us();
	s->quick = t - s->last_read_us < BUSY_PAUSE_US ? s->quick + 1 : 0;
	bool busy = n >= BUSY_EVENTS || s->quick >= BUSY_WAKEUPS;
	s->last_read_us = t;
	if (busy && fd >= 0 && event_del(s->ev) == 0) {
		struct timeval tv = {0, BUSY_PAUSE_US};
		if (evtimer_add(s->pause, &tv) < 0)
			event_add(s->ev, NULL);
	}
	if (n < 0) {
		if (errno == ENOBUFS) {
			if (s->event_losses++ % 100 == 0)
				log_warnx("event=conntrack_events_lost action=resync times=%llu",
					  (unsigned long long)s->event_losses);
			full_resync(d);
		} else if (errno != EAGAIN && errno != EINTR) {
			log_warn("event=conntrack_read_failed");
		}
	}
	flush_out(d);
	arm_timer(d);
}

/* ---- the cluster ---- */

static void on_pause_end(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	if (event_add(d->cs->ev, NULL) < 0)
		log_warnx("event=conntrack_watch_failed");
	on_ct(-1, what, arg); /* what came in meanwhile (-1: no new pause) */
}

void connsync_on_deliver(struct daemon *d, uint32_t node, const uint8_t *data, size_t len)
{
	struct connsync *s = d->cs;
	if (!s || len == 0 || data[0] != CTSYNC_TYPE)
		return;
	if (ctsync_on_message(s->core, node, data, len, now_ms()) < 0)
		log_debug("event=malformed_message node=%u kind=connsync bytes=%zu", node, len);
	step_soon(d);
	flush_out(d);
}

void connsync_on_node(struct daemon *d, uint32_t node, int what)
{
	struct connsync *s = d->cs;
	if (!s)
		return;
	uint64_t now = now_ms();
	if (what == CA_NODE_UP)
		ctsync_node_up(s->core, node, now);
	else if (what == CA_NODE_DOWN)
		ctsync_node_down(s->core, node);
	else if (what == CA_OUT_OF_SYNC)
		ctsync_out_of_sync(s->core, node, now);
	step_soon(d);
	flush_out(d);
}

void connsync_tick(struct daemon *d, uint64_t now)
{
	struct connsync *s = d->cs;
	if (!s)
		return;
	ctsync_tick(s->core, now);
	step_soon(d);
	flush_out(d);
}

uint64_t connsync_next_deadline(const struct daemon *d)
{
	return d->cs ? ctsync_next_deadline(d->cs->core) : UINT64_MAX;
}

/* ---- takeover ---- */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * The entries held from peers that next walks (ctsync_peer_next or
 * ctsync_peer_next_missing), less those we carry ourselves when not_ours,
 * in a vector for the caller to free; *n of them. NULL when there are none
 * or on ENOMEM (*n is then the number wanted).
 */
static const struct ct_entry **
peer_vector(struct connsync *s, const struct ct_entry *(*next)(const struct ctsync *, size_t *),
	    bool not_ours, uint32_t self, size_t *n)
{
	size_t want = 0, cursor = 0;
	for (const struct ct_entry *e; (e = next(s->core, &cursor));)
		want++;
	*n = want;
	const struct ct_entry **v = want ? malloc(want * sizeof(*v)) : NULL;
	if (!v)
		return NULL;
	size_t i = 0;
	cursor = 0;
	for (const struct ct_entry *e; i < want && (e = next(s->core, &cursor));)
		if (!not_ours || !ctsync_find(s->core, self, &e->orig, e->zone))
			v[i++] = e;
	*n = i;
	return v;
}

void connsync_commit(struct daemon *d)
{
	struct connsync *s = d->cs;
	if (!s)
		return;
	uint64_t t0 = now_us();
	keep_in_step(d); /* what came in and is not in the kernel yet goes in first */
	size_t held = 0, n;
	for (size_t i = 0; i < ctsync_origins(s->core); i++) {
		struct ctsync_origin_view ov;
		if (ctsync_origin(s->core, i, &ov) == 0 && ov.node != d->cfg.cluster.node_id)
			held += ov.entries;
	}
	const struct ct_entry **v = peer_vector(
	    s, s->commit_all ? ctsync_peer_next : ctsync_peer_next_missing, false, 0, &n);
	if (n > 0 && !v) {
		log_warnx("event=out_of_memory what=conns_commit not_committed=%zu", n);
		return;
	}
	size_t created = 0, failed = 0;
	if (n > 0) {
		int rc = ctk_commit(s->k, v, n, &created, &failed);
		if (rc == 0 && failed == 0) {
			for (size_t j = 0; j < n; j++)
				ctsync_peer_set_missing(s->core, &v[j]->orig, v[j]->zone, false);
			s->commit_all = false;
		}
		if (rc < 0)
			log_warn("event=conns_commit_stopped done=%zu of=%zu", created + failed, n);
	}
	free(v);
	s->commits++;
	s->committed += created;
	s->commit_failed += failed;
	s->last_commit_us = now_us() - t0;
	s->last_commit_at = now_ms();
	log_notice("event=conns_commit connections=%zu in_kernel=%zu committed=%zu failed=%zu "
		   "us=%llu",
		   held, held - n, created, failed, (unsigned long long)s->last_commit_us);
	/* the address comes up first; then the connections become ours */
	if (held > 0)
		event_active(s->adopt, EV_TIMEOUT, 0);
}

static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	struct connsync *s = d->cs;
	size_t n = ctsync_adopt(s->core, now_ms());
	s->adopted += n;
	log_info("event=conns_adopted connections=%zu", n);
	flush_out(d);
	arm_timer(d);
}

/* ---- `arpha conns` ---- */

void connsync_show(struct daemon *d, struct sbuf *b, bool json, uint64_t now)
{
	struct connsync *s = d->cs;
	const struct ctsync_stats *st = ctsync_stats(s->core);
	struct ctk_stats ks;
	ctk_get_stats(s->k, &ks);
	uint32_t self = d->cfg.cluster.node_id;
	size_t local = ctsync_count(s->core, self);
	if (json) {
		sbuf_printf(
		    b,
		    "{\"node_id\":%u,\"local\":%zu,\"messages_in\":%llu,"
		    "\"messages_out\":%llu,\"resyncs_sent\":%llu,\"resyncs_received\":%llu,"
		    "\"resync_requests_sent\":%llu,\"checks_agree\":%llu,"
		    "\"checks_disagree\":%llu,\"last_check\":\"%s\",\"last_check_ms\":",
		    self, local, (unsigned long long)st->msgs_in, (unsigned long long)st->msgs_out,
		    (unsigned long long)st->resyncs_sent, (unsigned long long)st->resyncs_received,
		    (unsigned long long)st->resync_reqs_sent, (unsigned long long)st->checks_agree,
		    (unsigned long long)st->checks_disagree,
		    ctsync_check_name(st->last_check_result));
		if (st->last_check)
			sbuf_printf(b, "%llu", (unsigned long long)(now - st->last_check));
		else
			sbuf_printf(b, "null");
		sbuf_printf(b, ",\"records_in\":{");
		for (unsigned t = 1; t < CT_REC__COUNT; t++)
			sbuf_printf(b, "%s\"%s\":%llu", t > 1 ? "," : "", ctsync_record_name(t),
				    (unsigned long long)st->rec_in[t]);
		sbuf_printf(b, "},\"records_out\":{");
		for (unsigned t = 1; t < CT_REC__COUNT; t++)
			sbuf_printf(b, "%s\"%s\":%llu", t > 1 ? "," : "", ctsync_record_name(t),
				    (unsigned long long)st->rec_out[t]);
		sbuf_printf(b, "},\"malformed\":{");
		for (unsigned t = 0; t < CTM__COUNT; t++)
			sbuf_printf(b, "%s\"%s\":%llu", t ? "," : "", ctsync_malformed_name(t),
				    (unsigned long long)st->malformed[t]);
		sbuf_printf(
		    b,
		    "},\"kernel\":{\"events\":%llu,\"event_losses\":%llu,\"dumps\":%llu,"
		    "\"half_open_not_synced\":%llu,\"own_events\":%llu,"
		    "\"in_step_set\":%llu,\"in_step_removed\":%llu,"
		    "\"in_step_failed\":%llu,\"in_step_skipped_own\":%llu},"
		    "\"adopted\":%llu,"
		    "\"commits\":%llu,\"committed\":%llu,\"commit_failed\":%llu,"
		    "\"last_commit_us\":%llu,\"refused_full\":%llu,\"peers\":[",
		    (unsigned long long)(ks.ev_new + ks.ev_update + ks.ev_destroy),
		    (unsigned long long)s->event_losses, (unsigned long long)ks.dumps,
		    (unsigned long long)s->half_open, (unsigned long long)ks.ev_own,
		    (unsigned long long)s->step_set, (unsigned long long)s->step_removed,
		    (unsigned long long)s->step_failed, (unsigned long long)s->step_skipped_own,
		    (unsigned long long)s->adopted, (unsigned long long)s->commits,
		    (unsigned long long)s->committed, (unsigned long long)s->commit_failed,
		    (unsigned long long)s->last_commit_us, (unsigned long long)st->refused_full);
	} else {
		sbuf_printf(
		    b,
		    "node %u: %zu connections of our own\n"
		    "messages in %llu, out %llu; resyncs sent %llu, received %llu\n"
		    "digest checks agree %llu, disagree %llu (last: %s)\n",
		    self, local, (unsigned long long)st->msgs_in, (unsigned long long)st->msgs_out,
		    (unsigned long long)st->resyncs_sent, (unsigned long long)st->resyncs_received,
		    (unsigned long long)st->checks_agree, (unsigned long long)st->checks_disagree,
		    ctsync_check_name(st->last_check_result));
		sbuf_printf(b,
			    "kernel events %llu, lost %llu times; commits %llu (%llu connections, "
			    "%llu refused, last %llu us)\n",
			    (unsigned long long)(ks.ev_new + ks.ev_update + ks.ev_destroy),
			    (unsigned long long)s->event_losses, (unsigned long long)s->commits,
			    (unsigned long long)s->committed, (unsigned long long)s->commit_failed,
			    (unsigned long long)s->last_commit_us);
		sbuf_printf(b,
			    "peers' connections into our kernel as they come: %llu set, %llu "
			    "removed, %llu refused; %llu taken over as ours\n",
			    (unsigned long long)s->step_set, (unsigned long long)s->step_removed,
			    (unsigned long long)s->step_failed, (unsigned long long)s->adopted);
		sbuf_printf(b, "%-10s %-5s %10s %12s %10s %s\n", "PEER", "STATE", "ENTRIES",
			    "LAST_MSG_MS", "MESSAGES", "CHECK");
	}
	bool first = true;
	for (size_t i = 0; i < ctsync_origins(s->core); i++) {
		struct ctsync_origin_view v;
		if (ctsync_origin(s->core, i, &v) < 0 || v.node == self)
			continue;
		if (json) {
			sbuf_printf(b,
				    "%s{\"node\":%u,\"up\":%s,\"entries\":%zu,\"last_message_ms\":",
				    first ? "" : ",", v.node, v.up ? "true" : "false", v.entries);
			if (v.last_msg)
				sbuf_printf(b, "%llu", (unsigned long long)(now - v.last_msg));
			else
				sbuf_printf(b, "null");
			sbuf_printf(b,
				    ",\"messages\":%llu,\"check\":\"%s\",\"resyncs_received\":%llu,"
				    "\"refused_full\":%llu}",
				    (unsigned long long)v.messages, ctsync_check_name(v.check),
				    (unsigned long long)v.resyncs_received,
				    (unsigned long long)v.refused_full);
		} else {
			sbuf_printf(b, "%-10u %-5s %10zu %12llu %10llu %s\n", v.node,
				    v.up ? "up" : "down", v.entries,
				    v.last_msg ? (unsigned long long)(now - v.last_msg) : 0ULL,
				    (unsigned long long)v.messages, ctsync_check_name(v.check));
		}
		first = false;
	}
	if (json)
		sbuf_printf(b, "]}\n");
}

/* ---- start and stop ---- */

int connsync_start(struct daemon *d, char *err, size_t errlen)
{
	const struct config *cfg = &d->cfg;
	if (!cfg->connsync.present)
		return 0;
	struct connsync *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->cs = s;
	cluster_actions_init(&s->cacts);
	const struct conf_connsync *cc = &cfg->connsync;
	for (size_t i = 0; i < cc->n_nets; i++)
		s->nets[s->n_nets++] = cc->nets[i];
	if (!cc->n_nets) {
		/* the VIPs' networks */
		for (size_t i = 0; i < cfg->n_vips; i++) {
			struct ip4_prefix n = cfg->vips[i].addr;
			n.addr &= ip4_mask(n.len);
			bool dup = false;
			for (size_t j = 0; j < s->n_nets; j++)
				dup |= s->nets[j].addr == n.addr && s->nets[j].len == n.len;
			if (!dup && s->n_nets < sizeof(s->nets) / sizeof(s->nets[0]))
				s->nets[s->n_nets++] = n;
		}
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct ctsync_params p = {
	    .self_id = cfg->cluster.node_id,
	    .protocols = cc->protocols,
	    .networks = s->nets,
	    .n_networks = s->n_nets,
	    .check_interval_ms = cc->check_interval_ms,
	    .max_entries = cc->max_entries,
	    .generation = (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u),
	};
	randombytes_buf(p.table_key, sizeof(p.table_key));
	p.journal = true;
	s->core = ctsync_new(&p, now_ms());
	if (!s->core) {
		snprintf(err, errlen, "%s:%d: [ConnSync]: %s", d->cfg_path, cc->line,
			 strerror(errno));
		return -1;
	}
	/*
	 * No NEW events: a TCP connection is synced once established, which
	 * is an UPDATE, and UDP and ICMP once answered (an UPDATE too). So the
	 * kernel builds no event for each SYN that passes (a SYN flood never
	 * reaches us), nor for each connection we put in for the other nodes:
	 * a create costs about half then. (The kernel keeps one flag for all
	 * namespaces: a NEW listener anywhere on the machine brings that cost
	 * back.)
	 */
	if (!(s->k = ctk_open(CT_RCVBUF, false, err, errlen)))
		return -1;
	uint8_t protos[3];
	size_t np = 0;
	if (cc->protocols & CT_PROTO_TCP)
		protos[np++] = IPPROTO_TCP;
	if (cc->protocols & CT_PROTO_UDP)
		protos[np++] = IPPROTO_UDP;
	if (cc->protocols & CT_PROTO_ICMP)
		protos[np++] = IPPROTO_ICMP;
	if (ctk_set_protocols(s->k, protos, np) < 0) {
		snprintf(err, errlen, "connsync: cannot set the conntrack event filter: %s",
			 strerror(errno));
		return -1;
	}
	ctk_set_tcp_liberal(s->k, true);
	ctk_set_refetch(s->k, false);
	ctk_set_skip_own(s->k, true);
	s->ev = event_new(d->base, ctk_event_fd(s->k), EV_READ | EV_PERSIST, on_ct, d);
	s->pause = evtimer_new(d->base, on_pause_end, d);
	s->adopt = evtimer_new(d->base, on_adopt, d);
	s->step = evtimer_new(d->base, on_step, d);
	if (!s->ev || !s->pause || !s->adopt || !s->step ||
	    event_priority_set(s->step, ARPHAD_PRIO_BACKLOG) < 0 || event_add(s->ev, NULL) < 0) {
		snprintf(err, errlen, "connsync: cannot watch the conntrack events");
		return -1;
	}
	full_resync(d);
	log_info("event=connsync_start local=%zu tcp=%s udp=%s icmp=%s networks=%zu",
		 ctsync_count(s->core, p.self_id), (cc->protocols & CT_PROTO_TCP) ? "yes" : "no",
		 (cc->protocols & CT_PROTO_UDP) ? "yes" : "no",
		 (cc->protocols & CT_PROTO_ICMP) ? "yes" : "no", s->n_nets);
	return 0;
}

/*
 * Stopping: the connections we hold for the other nodes, and do not carry
 * ourselves, leave our kernel (else they would let their packets through
 * for as long as their timeouts run, with nobody keeping them right).
 */
static void remove_held(struct daemon *d)
{
	struct connsync *s = d->cs;
	size_t n, failed = 0;
	const struct ct_entry **v =
	    peer_vector(s, ctsync_peer_next, true, d->cfg.cluster.node_id, &n);
	if (n > 0 && v && ctk_remove(s->k, v, n, &failed) < 0)
		log_warn("event=conns_release_failed");
	else if (n > 0 && v)
		log_info("event=conns_released removed=%zu msg=\"held for the other nodes\"",
			 n - failed);
	free(v);
}

void connsync_free(struct daemon *d)
{
	struct connsync *s = d->cs;
	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	if (s->pause)
		event_free(s->pause);
	if (s->adopt)
		event_free(s->adopt);
	if (s->step)
		event_free(s->step);
	if (s->k) {
		keep_in_step(d); /* (a removal still to do among them) */
		remove_held(d);
	}
	ctk_close(s->k);
	free(s->stepv);
	ctsync_free(s->core);
	cluster_actions_free(&s->cacts);
	free(s);
	d->cs = NULL;
}
