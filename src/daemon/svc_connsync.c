/*
 * svc_connsync: connection-tracking sync ([ConnSync]), a service of
 * arphad (svc.h): our kernel's conntrack events out to the cluster
 * through core/ctsync, the other nodes' tables in, and committed to the
 * kernel at the takeover barrier, before an address comes up.
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
 * nothing we put in is sent back as ours. When something becomes ours (a
 * VIP), the takeover barrier (prepare_takeover) runs before its address
 * comes up: it commits only what the kernel refused or dropped since (a
 * timeout), then takes every held connection as ours.
 *
 * Active-active ([VIP] Mode=active-active anywhere in the configuration):
 * every node's kernel follows every connection (the owner's entry, the
 * others' shadows), and the ct mark names the owner (os/nft_buckets). So
 * we send only the entries whose mark names us (our owner id, from
 * svc_ranges through host_owner_id; nothing while it is not known), not
 * the undecided ones nor the others'. The peers' entries go into our
 * kernel with their marks as before (a shadow takes its owner's mark; a
 * node that came later holds the connection, to inherit it by its mark),
 * but never over one we send as ours: a peer naming another owner for it
 * is a conflict (two owners, after a partition), counted, and ours stays.
 * The takeover barrier of buckets commits what the kernel lost, and takes
 * nothing as ours: ownership is by mark, never re-marked here.
 */

#include <errno.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/ctsync.h"
#include "core/wire.h"
#include "daemon/host.h"
#include "daemon/svc.h"
#include "os/conntrack.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/util.h"
#include "os/view.h"

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
/* conflicts resolved per journal read; more wait for the peer's next update */
#define YIELD_MAX 64

struct connsync {
	struct ctsync *core;
	struct ctk *k;
	struct loop_watch *ev;
	struct loop_watch *pause; /* event moderation: the socket rests */
	uint64_t last_read_us;
	unsigned quick; /* wake-ups in a row less than BUSY_PAUSE_US apart */
	struct host *h;
	uint32_t self_id; /* [Cluster] NodeID */
	struct ip4_prefix nets[CONF_MAX_CT_NETS + 64];
	size_t n_nets;
	uint64_t broadcast_errors;
	uint64_t event_losses; /* ENOBUFS: a full resync followed */
	uint64_t half_open;    /* TCP events before ESTABLISHED, not synced */
	uint64_t commits, committed, commit_failed, last_commit_us, last_commit_at;
	/* keeping the kernel in step with the peers' tables */
	uint64_t step_set, step_removed, step_failed, step_skipped_own;
	uint64_t step_kept_aa; /* active-active: peers' removals not carried out */
	uint64_t step_marks;   /* active-active: entries we had, given the peer's mark */
	bool commit_all;	  /* a journalled change was lost: commit everything */
	struct loop_watch *step;  /* the peers' changes into our kernel, at ARPHAD_PRIO_BACKLOG */
	uint64_t step_since;	  /* ms; since when changes wait for it (0: none) */
	struct loop_watch *adopt; /* after a takeover: the held connections become ours */
	uint64_t adopted;
	const struct ct_entry **stepv; /* scratch for keep_in_step */
	size_t stepcap;
	/* active-active */
	bool aa;		 /* an active-active VIP is configured: only our marks are sent */
	uint8_t protocols;	 /* Protocols= as in the kernel's event filter */
	uint16_t owner;		 /* our owner id in the marks (0: not known yet) */
	uint64_t not_ours;	 /* our kernel's entries not sent: undecided or another's */
	uint64_t mark_conflicts; /* a peer sent an entry of ours with another owner */
	uint64_t yielded;	 /* those we gave up to the higher owner id */
	struct ct_entry yieldv[YIELD_MAX]; /* the ones of one journal read */
};

/* Active-active: our owner id, once svc_ranges knows it (host_owner_id). */
static void learn_owner(struct connsync *s)
{
	if (!s->aa)
		return;
	uint16_t o = host_owner_id(s->h);
	if (o == s->owner)
		return;
	s->owner = o;
	/* the kernel builds no message for what is not ours (we check the marks still) */
	if (ctk_set_mark(s->k, (uint32_t)o << 16, o ? 0xffff0000u : 0) < 0)
		log_warn("event=conntrack_filter_failed what=mark owner=0x%04x", o);
	log_info("event=connsync_owner owner=0x%04x msg=\"only connections marked ours are sent\"",
		 o);
}

/* ---- out ---- */

static void flush_out(struct connsync *s)
{
	uint8_t buf[WIRE_RB_MAX_DATA];
	size_t len;
	uint64_t now = host_now(s->h);
	while ((len = ctsync_next_message(s->core, buf, sizeof(buf), now)) > 0) {
		if (host_broadcast(s->h, buf, len) < 0 && s->broadcast_errors++ % 100 == 0)
			log_warn("event=connsync_broadcast_failed failures=%llu",
				 (unsigned long long)s->broadcast_errors);
	}
}

/* ---- our kernel ---- */

/* Carry one run of changes of one kind into the kernel. */
static void step_run(struct connsync *s, uint8_t op, size_t n)
{
	if (n == 0)
		return;
	if (s->aa && op != CT_CHG_SET) {
		/*
		 * Active-active: our kernel follows every connection live (each
		 * node sees its every packet) and ends it itself. A peer's removal
		 * may only mean its table was reset (a new life, a resync) while
		 * we forward the connection, inherited from it: never delete.
		 */
		s->step_kept_aa += n;
		return;
	}
	size_t ok = 0, failed = 0;
	int rc = op == CT_CHG_SET ? ctk_commit(s->k, s->stepv, n, &ok, &failed)
				  : ctk_remove(s->k, s->stepv, n, &failed);
	if (op == CT_CHG_SET)
		s->step_set += ok;
	else
		s->step_removed += n - failed;
	if (s->aa && op == CT_CHG_SET && rc == 0 && failed) {
		/*
		 * Active-active: our kernel has most of these already, followed
		 * live, and refuses to have their state written over (a status
		 * bit it set itself cannot be cleared). What the peer tells is
		 * the owner: the marks alone then (an entry we lack fails again).
		 */
		size_t mfailed = 0;
		if (ctk_set_marks(s->k, s->stepv, n, &mfailed) == 0) {
			s->step_marks += n - mfailed;
			failed = mfailed;
		}
	}
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
static void keep_in_step(struct connsync *s)
{
	uint32_t self = s->self_id;
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
	size_t run = 0, ny = 0;
	uint8_t op = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ct_entry *own = ctsync_find(s->core, self, &v[i].e.orig, v[i].e.zone);
		if (own) {
			if (v[i].op == CT_CHG_SET && ctsync_mark_conflict(s->owner, own, &v[i].e)) {
				/*
				 * Two owners of one connection (both sides of a partition
				 * took it): the higher owner id keeps it, on every node
				 * alike; the other gives it up (below, once the journal is
				 * read), so one of them forwards it from then on.
				 */
				bool yield = ctsync_mark_owner(v[i].e.mark) > s->owner;
				if (yield && ny < YIELD_MAX) {
					s->yieldv[ny] = *own;
					s->yieldv[ny++].mark = v[i].e.mark;
				}
				if (s->mark_conflicts++ % 100 == 0) {
					char a[IP4_STRLEN], b[IP4_STRLEN];
					log_warnx("event=connsync_owner_conflict node=%u src=%s dst=%s "
						  "sport=%u dport=%u proto=%u ours=0x%08x theirs=0x%08x "
						  "times=%llu msg=\"two nodes own one connection; the "
						  "higher owner id keeps it: %s\"",
						  v[i].origin, ip4_fmt(own->orig.src, a),
						  ip4_fmt(own->orig.dst, b), own->orig.sport,
						  own->orig.dport, own->orig.proto, own->mark,
						  v[i].e.mark, (unsigned long long)s->mark_conflicts,
						  yield ? "theirs" : "ours");
				}
			}
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
	/* the connections we give up: the winner's mark in our kernel (we drop
	   them from now on), and no longer ours to send */
	for (size_t i = 0; i < ny; i++) {
		const struct ct_entry *e = &s->yieldv[i];
		size_t failed = 0;
		if (ctk_set_marks(s->k, &e, 1, &failed) < 0 || failed)
			continue;
		s->yielded++;
		(void)ctsync_local(s->core, CT_EV_DESTROY, e, host_now(s->h));
	}
}

/*
 * Changes came in: into our kernel once the loop has nothing else to do,
 * or now when they have waited STEP_MAX_WAIT_MS (clients that never stop).
 */
static void step_soon(struct connsync *s)
{
	size_t n;
	bool lost;
	(void)ctsync_changes(s->core, &n, &lost);
	if (n == 0 && !lost)
		return;
	uint64_t now = host_now(s->h);
	if (!s->step_since)
		s->step_since = now;
	if (now - s->step_since >= STEP_MAX_WAIT_MS)
		keep_in_step(s);
	else
		loop_fire(s->step);
}

static void on_step(void *arg)
{
	keep_in_step(arg);
}

static void on_kernel_entry(void *arg, const struct ct_entry *e)
{
	struct connsync *s = arg;
	if (!ctsync_ours_to_send(s->aa, s->owner, e->mark)) {
		s->not_ours++;
		return;
	}
	(void)ctsync_local(s->core, CT_EV_NEW, e, host_now(s->h));
}

/* Read our whole table again and send it all (at start, and after lost events). */
static void full_resync(struct connsync *s)
{
	ctsync_local_reset(s->core);
	int rc;
	int tries = 0;
	while ((rc = ctk_dump(s->k, on_kernel_entry, s)) < 0 && errno == EINTR && ++tries < 5)
		ctsync_local_reset(s->core);
	if (rc < 0)
		log_warn("event=conntrack_dump_failed");
	ctsync_resync_all(s->core, host_now(s->h));
	flush_out(s);
}

static void on_kernel_event(void *arg, int ev, const struct ct_entry *e)
{
	struct connsync *s = arg;
	uint32_t self = s->self_id;
	if (ev == CTK_EV_DESTROY)
		/* gone from our kernel (a timeout): a peer's copy must go back in at takeover */
		ctsync_peer_set_missing(s->core, &e->orig, e->zone, true);
	if (!ctsync_ours_to_send(s->aa, s->owner, e->mark)) {
		/* active-active: our shadow of another's connection, or one not decided yet */
		s->not_ours++;
		if (ev != CTK_EV_DESTROY && ctsync_find(s->core, self, &e->orig, e->zone))
			/* ours no longer (its mark changed): no longer sent as ours */
			(void)ctsync_local(s->core, CT_EV_DESTROY, e, host_now(s->h));
		return;
	}
	if (ev == CTK_EV_UPDATE_PARTIAL) {
		/* status or mark changed: the TCP state is the one we know */
		const struct ct_entry *old = ctsync_find(s->core, self, &e->orig, e->zone);
		if (!old)
			return; /* not synced (yet): nothing to update */
		struct ct_entry m = *e;
		m.tcp_state = old->tcp_state;
		memcpy(m.tcp_flags, old->tcp_flags, sizeof(m.tcp_flags));
		memcpy(m.tcp_wscale, old->tcp_wscale, sizeof(m.tcp_wscale));
		(void)ctsync_local(s->core, CT_EV_UPDATE, &m, host_now(s->h));
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
	(void)ctsync_local(s->core, t, e, host_now(s->h));
}

/* Read the kernel's events; may_pause: a burst rests the socket. */
static void read_events(struct connsync *s, bool may_pause)
{
	learn_owner(s);
	int n = ctk_read_events(s->k, on_kernel_event, s);
	uint64_t t = now_us();
	s->quick = t - s->last_read_us < BUSY_PAUSE_US ? s->quick + 1 : 0;
	bool busy = n >= BUSY_EVENTS || s->quick >= BUSY_WAKEUPS;
	s->last_read_us = t;
	if (busy && may_pause && loop_watch_pause(s->ev) == 0) {
		if (loop_fire_in(s->pause, BUSY_PAUSE_US / 1000) < 0)
			loop_watch_resume(s->ev);
	}
	if (n < 0) {
		if (errno == ENOBUFS) {
			if (s->event_losses++ % 100 == 0)
				log_warnx("event=conntrack_events_lost action=resync times=%llu",
					  (unsigned long long)s->event_losses);
			full_resync(s);
		} else if (errno != EAGAIN && errno != EINTR) {
			log_warn("event=conntrack_read_failed");
		}
	}
	flush_out(s);
}

static void on_ct(void *arg)
{
	read_events(arg, true);
}

/* ---- the cluster ---- */

static void on_pause_end(void *arg)
{
	struct connsync *s = arg;
	if (loop_watch_resume(s->ev) < 0)
		log_warnx("event=conntrack_watch_failed");
	read_events(s, false); /* what came in meanwhile (no new pause) */
}

static void on_deliver(struct connsync *s, uint32_t node, const uint8_t *data, size_t len)
{
	if (len == 0 || data[0] != CTSYNC_TYPE)
		return;
	if (ctsync_on_message(s->core, node, data, len, host_now(s->h)) < 0)
		log_debug("event=malformed_message node=%u kind=connsync bytes=%zu", node, len);
	step_soon(s);
	flush_out(s);
}

static void on_node(struct connsync *s, uint32_t node, uint8_t what)
{
	uint64_t now = host_now(s->h);
	if (what == DEV_NODE_UP)
		ctsync_node_up(s->core, node, now);
	else if (what == DEV_NODE_DOWN)
		ctsync_node_down(s->core, node);
	else if (what == DEV_OUT_OF_SYNC)
		ctsync_out_of_sync(s->core, node, now);
	step_soon(s);
	flush_out(s);
}

static void tick(void *self)
{
	struct connsync *s = self;
	learn_owner(s);
	ctsync_tick(s->core, host_now(s->h));
	step_soon(s);
	flush_out(s);
}

static uint64_t next_deadline(const void *self)
{
	const struct connsync *s = self;
	return ctsync_next_deadline(s->core);
}

/* ---- takeover ---- */

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

/* adopt: then every held connection becomes ours (active-passive) */
static void commit(struct connsync *s, bool adopt)
{
	uint64_t t0 = now_us();
	keep_in_step(s); /* what came in and is not in the kernel yet goes in first */
	size_t held = 0, n;
	for (size_t i = 0; i < ctsync_origins(s->core); i++) {
		struct ctsync_origin_view ov;
		if (ctsync_origin(s->core, i, &ov) == 0 && ov.node != s->self_id)
			held += ov.entries;
	}
	/* (active-active: never over a connection we send as ours, whose mark is ours) */
	const struct ct_entry **v = peer_vector(
	    s, s->commit_all ? ctsync_peer_next : ctsync_peer_next_missing, s->aa, s->self_id, &n);
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
	s->last_commit_at = host_now(s->h);
	log_notice("event=conns_commit connections=%zu in_kernel=%zu committed=%zu failed=%zu "
		   "us=%llu",
		   held, held - n, created, failed, (unsigned long long)s->last_commit_us);
	/* the address comes up first; then the connections become ours */
	if (adopt && held > 0)
		loop_fire(s->adopt);
}

static void on_adopt(void *arg)
{
	struct connsync *s = arg;
	size_t n = ctsync_adopt(s->core, host_now(s->h));
	s->adopted += n;
	log_info("event=conns_adopted connections=%zu", n);
	flush_out(s);
}

/* ---- `arpha conns` ---- */

static const struct view_col peer_cols[] = {
    {.key = "node", .head = "PEER", .width = 10},
    {.key = "up", .head = "STATE", .width = 5},
    {.key = "entries", .head = "ENTRIES", .width = 10, .right = true},
    {.key = "last_message_ms", .head = "LAST_MSG_MS", .width = 12, .right = true, .none = "0"},
    {.key = "messages", .head = "MESSAGES", .width = 10, .right = true},
    {.key = "check", .head = "CHECK"},
};
static const struct view_table peer_table = {peer_cols, 6, 0, false};

/* Records by type (or malformed messages by reason): name -> count. */
static void by_name(struct view *v, const char *key, const uint64_t *n, unsigned from, unsigned to,
		    const char *(*name)(unsigned))
{
	view_object(v, key);
	for (unsigned t = from; t < to; t++)
		view_u64(v, name(t), n[t]);
	view_end(v);
}

/* The other nodes' tables, one row each. */
static void peers(struct view *v, const struct connsync *s, uint64_t now)
{
	view_table(v, "peers", &peer_table, NULL);
	for (size_t i = 0; i < ctsync_origins(s->core); i++) {
		struct ctsync_origin_view o;
		if (ctsync_origin(s->core, i, &o) < 0 || o.node == s->self_id)
			continue;
		view_row(v);
		view_u64(v, "node", o.node);
		view_bool(v, "up", o.up);
		view_text(v, o.up ? "up" : "down");
		view_u64(v, "entries", o.entries);
		if (o.last_msg)
			view_u64(v, "last_message_ms", now - o.last_msg);
		else
			view_null(v, "last_message_ms");
		view_u64(v, "messages", o.messages);
		view_str(v, "check", ctsync_check_name(o.check));
		view_u64(v, "resyncs_received", o.resyncs_received);
		view_u64(v, "refused_full", o.refused_full);
		view_end(v);
	}
	view_end(v);
}

static const struct view_col owner_cols[] = {
    {.key = "node", .head = "NODE", .width = 10},
    {.key = "owner", .head = "OWNER", .width = 8},
    {.key = "connections", .head = "CONNECTIONS", .width = 11, .right = true},
};
static const struct view_table owner_table = {owner_cols, 3, 0, false};

#define SHOW_OWNERS 32 /* owner ids shown per node; the rest in one row "others" */

/* One node's synced connections (ours: self_id) by the owner their marks name. */
static void owner_rows(struct view *v, const struct connsync *s, uint32_t node)
{
	struct ctsync_owner_count oc[SHOW_OWNERS];
	size_t others;
	size_t n = ctsync_owner_counts(s->core, node, oc, SHOW_OWNERS, &others);
	for (size_t i = 0; i <= n; i++) {
		if (i == n && !others)
			break;
		char o[8];
		snprintf(o, sizeof(o), "0x%04x", i < n ? oc[i].owner : 0);
		view_row(v);
		view_u64(v, "node", node);
		view_bool(v, "self", node == s->self_id);
		view_str(v, "owner", i < n ? o : "others");
		view_bool(v, "ours", i < n && s->owner && oc[i].owner == s->owner);
		view_u64(v, "connections", i < n ? oc[i].entries : others);
		view_end(v);
	}
}

/* Active-active: every node's synced connections by owner id (the marks). */
static void owners(struct view *v, const struct connsync *s)
{
	view_table(v, "owners", &owner_table, NULL);
	owner_rows(v, s, s->self_id);
	for (size_t i = 0; i < ctsync_origins(s->core); i++) {
		struct ctsync_origin_view o;
		if (ctsync_origin(s->core, i, &o) == 0 && o.node != s->self_id)
			owner_rows(v, s, o.node);
	}
	view_end(v);
}

static void show(void *self, struct view *v)
{
	struct connsync *s = self;
	view_object(v, NULL);
	if (!s) {
		view_line(v, "no [ConnSync] in the configuration");
		view_list(v, "peers");
		view_end(v);
		view_end(v);
		return;
	}
	learn_owner(s);
	uint64_t now = host_now(s->h);
	const struct ctsync_stats *st = ctsync_stats(s->core);
	struct ctk_stats ks;
	ctk_get_stats(s->k, &ks);
	view_u64(v, "node_id", s->self_id);
	view_u64(v, "local", ctsync_count(s->core, s->self_id));
	view_u64(v, "messages_in", st->msgs_in);
	view_u64(v, "messages_out", st->msgs_out);
	view_u64(v, "resyncs_sent", st->resyncs_sent);
	view_u64(v, "resyncs_received", st->resyncs_received);
	view_u64(v, "resync_requests_sent", st->resync_reqs_sent);
	view_u64(v, "checks_agree", st->checks_agree);
	view_u64(v, "checks_disagree", st->checks_disagree);
	view_str(v, "last_check", ctsync_check_name(st->last_check_result));
	if (st->last_check)
		view_u64(v, "last_check_ms", now - st->last_check);
	else
		view_null(v, "last_check_ms");
	by_name(v, "records_in", st->rec_in, 1, CT_REC__COUNT, ctsync_record_name);
	by_name(v, "records_out", st->rec_out, 1, CT_REC__COUNT, ctsync_record_name);
	by_name(v, "malformed", st->malformed, 0, CTM__COUNT, ctsync_malformed_name);
	view_object(v, "kernel");
	view_u64(v, "events", ks.ev_new + ks.ev_update + ks.ev_destroy);
	view_u64(v, "event_losses", s->event_losses);
	view_u64(v, "dumps", ks.dumps);
	view_u64(v, "half_open_not_synced", s->half_open);
	view_u64(v, "own_events", ks.ev_own);
	view_u64(v, "in_step_set", s->step_set);
	view_u64(v, "in_step_removed", s->step_removed);
	view_u64(v, "in_step_failed", s->step_failed);
	view_u64(v, "in_step_skipped_own", s->step_skipped_own);
	view_u64(v, "in_step_kept_active_active", s->step_kept_aa);
	view_u64(v, "in_step_marks_active_active", s->step_marks);
	view_u64(v, "not_ours", s->not_ours);
	view_u64(v, "owner_conflicts", s->mark_conflicts);
	view_u64(v, "owner_conflicts_yielded", s->yielded);
	view_end(v);
	view_bool(v, "active_active", s->aa);
	if (s->aa && s->owner) {
		char o[8];
		snprintf(o, sizeof(o), "0x%04x", s->owner);
		view_str(v, "owner", o);
	} else {
		view_null(v, "owner");
	}
	view_u64(v, "adopted", s->adopted);
	view_u64(v, "commits", s->commits);
	view_u64(v, "committed", s->committed);
	view_u64(v, "commit_failed", s->commit_failed);
	view_u64(v, "last_commit_us", s->last_commit_us);
	view_u64(v, "refused_full", st->refused_full);
	view_line(v, "node {node_id}: {local} connections of our own");
	view_line(v, "messages in {messages_in}, out {messages_out}; resyncs sent {resyncs_sent}, "
		     "received {resyncs_received}");
	view_line(v, "digest checks agree {checks_agree}, disagree {checks_disagree} (last: "
		     "{last_check})");
	view_line(v, "kernel events {kernel.events}, lost {kernel.event_losses} times; commits "
		     "{commits} ({committed} connections, {commit_failed} refused, last "
		     "{last_commit_us} us)");
	view_line(v, "peers' connections into our kernel as they come: {kernel.in_step_set} set, "
		     "{kernel.in_step_removed} removed, {kernel.in_step_failed} refused; "
		     "{adopted} taken over as ours");
	if (s->aa)
		view_line(v,
			  "active-active: only connections marked ours (owner {owner}) are sent; "
			  "{kernel.not_ours} entries of our kernel not ours, "
			  "{kernel.owner_conflicts} owner conflicts");
	peers(v, s, now);
	if (s->aa)
		owners(v, s);
	view_end(v);
}

/* ---- start and stop ---- */

static void svc_free(void *self);

/* Networks=, or the VIPs' networks. */
static void set_nets(struct connsync *s, const struct config *cfg)
{
	const struct conf_connsync *cc = &cfg->connsync;
	s->n_nets = 0;
	for (size_t i = 0; i < cc->n_nets; i++)
		s->nets[s->n_nets++] = cc->nets[i];
	if (!cc->n_nets) {
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
}

/* The kernel's event filter: the protocols of Protocols=. -1 with a message. */
static int set_protocols(struct connsync *s, uint8_t protocols, char *err, size_t errlen)
{
	uint8_t protos[3];
	size_t np = 0;
	if (protocols & CT_PROTO_TCP)
		protos[np++] = IPPROTO_TCP;
	if (protocols & CT_PROTO_UDP)
		protos[np++] = IPPROTO_UDP;
	if (protocols & CT_PROTO_ICMP)
		protos[np++] = IPPROTO_ICMP;
	if (ctk_set_protocols(s->k, protos, np) < 0) {
		snprintf(err, errlen, "connsync: cannot set the conntrack event filter: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The conntrack socket and the tables; -1 with a message. */
static int setup(struct connsync *s, const struct config *cfg, char *err, size_t errlen)
{
	const struct conf_connsync *cc = &cfg->connsync;
	set_nets(s, cfg);
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
	s->core = ctsync_new(&p, host_now(s->h));
	if (!s->core) {
		snprintf(err, errlen, "%s:%d: [ConnSync]: %s", host_config_path(s->h), cc->line,
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
	if (set_protocols(s, cc->protocols, err, errlen) < 0)
		return -1;
	s->protocols = cc->protocols;
	ctk_set_tcp_liberal(s->k, true);
	ctk_set_refetch(s->k, false);
	ctk_set_skip_own(s->k, true);
	struct loop *l = host_loop(s->h);
	s->ev = loop_watch_fd(l, ctk_event_fd(s->k), -1, on_ct, s);
	s->pause = loop_trigger(l, -1, on_pause_end, s);
	s->adopt = loop_trigger(l, -1, on_adopt, s);
	s->step = loop_trigger(l, ARPHAD_PRIO_BACKLOG, on_step, s);
	if (!s->ev || !s->pause || !s->adopt || !s->step) {
		snprintf(err, errlen, "connsync: cannot watch the conntrack events");
		return -1;
	}
	full_resync(s);
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
static void remove_held(struct connsync *s)
{
	size_t n, failed = 0;
	const struct ct_entry **v = peer_vector(s, ctsync_peer_next, true, s->self_id, &n);
	if (n > 0 && v && ctk_remove(s->k, v, n, &failed) < 0)
		log_warn("event=conns_release_failed");
	else if (n > 0 && v)
		log_info("event=conns_released removed=%zu msg=\"held for the other nodes\"",
			 n - failed);
	free(v);
}

static void *start(struct host *h, const struct config *cfg, char *err, size_t errlen)
{
	if (!cfg->connsync.present)
		return NULL;
	struct connsync *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->h = h;
	s->self_id = cfg->cluster.node_id;
	for (size_t k = 0; k < cfg->n_vips; k++)
		s->aa |= cfg->vips[k].mode == VIP_MODE_ACTIVE_ACTIVE;
	if (setup(s, cfg, err, errlen) < 0) {
		svc_free(s);
		return NULL;
	}
	return s;
}

static void svc_free(void *self)
{
	struct connsync *s = self;
	loop_watch_free(s->ev);
	loop_watch_free(s->pause);
	loop_watch_free(s->adopt);
	loop_watch_free(s->step);
	if (s->k) {
		keep_in_step(s); /* (a removal still to do among them) */
		remove_held(s);
	}
	ctk_close(s->k);
	free(s->stepv);
	ctsync_free(s->core);
	free(s);
}

/* ---- the service ---- */

static void on_event(void *self, const struct dev_ev *ev)
{
	struct connsync *s = self;
	learn_owner(s);
	switch (ev->type) {
	case DEV_NODE_UP:
	case DEV_NODE_DOWN:
	case DEV_OUT_OF_SYNC:
		on_node(s, ev->node, ev->type);
		break;
	case DEV_MSG:
		on_deliver(s, ev->node, ev->data, ev->len);
		break;
	}
}

/* The barrier: the connections are in our kernel before an address comes up. */
static int prepare_takeover(void *self, const struct takeover_scope *sc)
{
	struct connsync *s = self;
	learn_owner(s);
	/*
	 * Active-active: what the kernel refused or dropped goes in with its
	 * owner's mark (our shadows carry the rest), and nothing is taken as
	 * ours: a connection is the owner's its mark names, and the buckets'
	 * new owner forwards a dead owner's marks (svc_ranges). Not even an
	 * active-passive VIP's takeover adopts then: the held entries carry
	 * the active-active owners' marks too.
	 */
	commit(s, sc->kind != SCOPE_BUCKETS && !s->aa);
	return 0;
}

static const struct svc_cmd cmds[] = {
    {.word = "conns", .show = show},
    {0},
};

/*
 * A reload: Protocols=, Networks= (or the VIPs' networks), CheckInterval=
 * and MaxEntries= change in place; the synced tables stay. When what is
 * synced changed, our table goes to the others again (a resync).
 * Removing [ConnSync] needs a restart.
 */
static int svc_reload(void *self, const struct config *cfg, bool dry, char *err, size_t errlen)
{
	struct connsync *s = self;
	if (!cfg->connsync.present) {
		snprintf(err, errlen, "[ConnSync] was removed: restart arphad to stop syncing");
		return -1;
	}
	bool aa = false;
	for (size_t k = 0; k < cfg->n_vips; k++)
		aa |= cfg->vips[k].mode == VIP_MODE_ACTIVE_ACTIVE;
	if (aa != s->aa) {
		snprintf(err, errlen, "active-active VIPs added or removed: restart arphad");
		return -1;
	}
	if (dry)
		return 0;
	struct ip4_prefix old[sizeof(s->nets) / sizeof(s->nets[0])];
	size_t n_old = s->n_nets;
	memcpy(old, s->nets, sizeof(old));
	uint8_t protocols = s->protocols;
	set_nets(s, cfg);
	const struct conf_connsync *cc = &cfg->connsync;
	struct ctsync_params p = {
	    .protocols = cc->protocols,
	    .networks = s->nets,
	    .n_networks = s->n_nets,
	    .check_interval_ms = cc->check_interval_ms,
	    .max_entries = cc->max_entries,
	};
	if (ctsync_set_filter(s->core, &p, host_now(s->h)) < 0) {
		memcpy(s->nets, old, sizeof(old));
		s->n_nets = n_old;
		snprintf(err, errlen, "[ConnSync]: %s", strerror(errno));
		return -1;
	}
	bool changed = n_old != s->n_nets || memcmp(old, s->nets, n_old * sizeof(old[0])) ||
		       protocols != cc->protocols;
	if (protocols != cc->protocols && set_protocols(s, cc->protocols, err, errlen) < 0)
		return -1;
	s->protocols = cc->protocols;
	log_info("event=reload what=ConnSync networks=%zu resync=%s", s->n_nets,
		 changed ? "yes" : "no");
	if (changed)
		full_resync(s);
	return 0;
}

const struct svc_ops svc_connsync = {
    .name = "connsync",
    .chan = CTSYNC_TYPE,
    .start = start,
    .free = svc_free,
    .event = on_event,
    .tick = tick,
    .next_deadline = next_deadline,
    .prepare_takeover = prepare_takeover,
    .reload = svc_reload,
    .cmds = cmds,
};
