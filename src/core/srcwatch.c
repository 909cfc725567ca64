/*
 * srcwatch: refused datagrams by source address and Peers= never heard,
 * turned into rate-limited log lines. The contract is in srcwatch.h.
 */
#include "srcwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct source {
	struct srcwatch_source s;
	/* rate limit of its lines */
	bool warned;	       /* a line was written (or held back by the burst limit) */
	uint8_t warned_reason; /* the reason of that line */
	uint64_t warn_next;    /* no line before this, but the first of a new reason */
	uint64_t suppressed;   /* refusals since the last line */
};

struct peer {
	uint32_t addr;
	bool heard, self;
	uint64_t warn_next; /* the next never-heard line, once started */
};

struct srcwatch {
	struct srcwatch_params p;
	bool started;
	uint64_t t0; /* the first call with a time: the start */
	struct source src[SRCWATCH_MAX];
	size_t n_src;
	struct peer peers[SRCWATCH_PEERS_MAX];
	size_t n_peers;
	/* the limit over all sources */
	uint64_t window_end; /* of the current holdoff window */
	unsigned window_lines;
	uint64_t held; /* lines held back in the window: told at its end */
};

struct srcwatch *srcwatch_new(const struct srcwatch_params *p)
{
	struct srcwatch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->p = *p;
	w->p.peers = NULL;
	for (size_t i = 0; i < p->n_peers && w->n_peers < SRCWATCH_PEERS_MAX; i++)
		w->peers[w->n_peers++].addr = p->peers[i];
	return w;
}

void srcwatch_free(struct srcwatch *w)
{
	free(w);
}

const char *srcwatch_reason_name(enum wire_reason r)
{
	return r == WR_OWN ? "own_node_id" : wire_reason_name(r);
}

static void start(struct srcwatch *w, uint64_t now)
{
	if (w->started)
		return;
	w->started = true;
	w->t0 = now;
	uint64_t after = (uint64_t)SRCWATCH_NEVER_AFTER * w->p.dead_ms;
	uint64_t first = now + (after > SRCWATCH_NEVER_MIN_MS ? after : SRCWATCH_NEVER_MIN_MS);
	for (size_t i = 0; i < w->n_peers; i++)
		w->peers[i].warn_next = first;
}

static bool logged_reason(enum wire_reason r)
{
	return r == WR_BAD_AUTH || r == WR_OWN;
}

/* May a line be written now (the limit over all sources)? Counts it. */
static bool budget(struct srcwatch *w, uint64_t now)
{
	if (now >= w->window_end && !w->held) {
		w->window_end = now + SRCWATCH_HOLDOFF_MS;
		w->window_lines = 0;
	}
	if (w->window_lines < SRCWATCH_BURST) {
		w->window_lines++;
		return true;
	}
	w->held++;
	return false;
}

static void line(struct srcwatch *w, struct source *e, uint64_t now, struct actions *out)
{
	const struct srcwatch_source *s = &e->s;
	enum wire_reason r = (enum wire_reason)e->warned_reason;
	uint64_t suppressed = e->suppressed;
	e->warn_next = now + SRCWATCH_HOLDOFF_MS;
	e->suppressed = 0;
	if (!budget(w, now))
		return;
	char ip[IP4_STRLEN], sup[48] = "";
	ip4_fmt(s->addr, ip);
	if (suppressed)
		snprintf(sup, sizeof(sup), " suppressed=%llu", (unsigned long long)suppressed);
	if (r == WR_OWN)
		actions_log(out, 0, LOGL_ERR,
			    "event=cluster_duplicate_node node=%u srcip=%s count=%llu%s "
			    "reason=own_node_id hint=\"two nodes with NodeID %u: every node needs "
			    "its own NodeID\"",
			    s->node, ip, (unsigned long long)s->counts[r], sup, s->node);
	else
		actions_log(out, 0, LOGL_WARNING,
			    "event=cluster_auth_failed srcip=%s count=%llu%s reason=bad_auth "
			    "hint=\"wrong key? the KeyFile must be the same on every node\"",
			    ip, (unsigned long long)s->counts[r], sup);
}

static struct source *find(struct srcwatch *w, uint32_t addr)
{
	for (size_t i = 0; i < w->n_src; i++)
		if (w->src[i].s.addr == addr)
			return &w->src[i];
	return NULL;
}

/* The entry of addr, made (in a free slot or the oldest's) when missing. */
static struct source *source(struct srcwatch *w, uint32_t addr)
{
	struct source *e = find(w, addr);
	if (e)
		return e;
	if (w->n_src < SRCWATCH_MAX) {
		e = &w->src[w->n_src++];
	} else {
		e = &w->src[0];
		for (size_t i = 1; i < w->n_src; i++)
			if (w->src[i].s.last < e->s.last)
				e = &w->src[i];
	}
	memset(e, 0, sizeof(*e));
	e->s.addr = addr;
	return e;
}

void srcwatch_refused(struct srcwatch *w, uint32_t addr, enum wire_reason r, uint32_t node,
		      uint64_t now, struct actions *out)
{
	if ((unsigned)r >= WR__COUNT || r == WR_OK)
		return;
	start(w, now);
	struct source *e = source(w, addr);
	struct srcwatch_source *s = &e->s;
	if (!s->total)
		s->first = now;
	s->total++;
	s->counts[r]++;
	s->last = now;
	s->last_reason = (uint8_t)r;
	if (r == WR_OWN)
		s->node = node;
	if (!logged_reason(r))
		return;
	if (!e->warned || e->warned_reason != r || now >= e->warn_next) {
		e->warned = true;
		e->warned_reason = (uint8_t)r;
		line(w, e, now, out);
	} else {
		e->suppressed++;
	}
}

void srcwatch_heard(struct srcwatch *w, uint32_t addr, uint64_t now)
{
	start(w, now);
	for (size_t i = 0; i < w->n_peers; i++)
		if (w->peers[i].addr == addr)
			w->peers[i].heard = true;
}

void srcwatch_self(struct srcwatch *w, uint32_t addr)
{
	for (size_t i = 0; i < w->n_peers; i++)
		if (w->peers[i].addr == addr)
			w->peers[i].self = true;
}

void srcwatch_tick(struct srcwatch *w, uint64_t now, struct actions *out)
{
	start(w, now);
	if (w->held && now >= w->window_end) {
		actions_log(out, 0, LOGL_WARNING,
			    "event=cluster_warnings_suppressed count=%llu hint=\"refused datagrams "
			    "from many addresses: see arpha cluster\"",
			    (unsigned long long)w->held);
		w->held = 0;
		w->window_end = now + SRCWATCH_HOLDOFF_MS;
		w->window_lines = 1;
	}
	for (size_t i = 0; i < w->n_src; i++) {
		struct source *e = &w->src[i];
		if (e->suppressed && now >= e->warn_next)
			line(w, e, now, out);
	}
	for (size_t i = 0; i < w->n_peers; i++) {
		struct peer *p = &w->peers[i];
		if (p->heard || p->self || now < p->warn_next)
			continue;
		char ip[IP4_STRLEN];
		const struct source *e = find(w, p->addr);
		ip4_fmt(p->addr, ip);
		if (e)
			actions_log(out, 0, LOGL_WARNING,
				    "event=peer_never_heard peer=%s after=%llums refused=%llu "
				    "reason=%s hint=\"it sends, but every datagram of it was "
				    "refused\"",
				    ip, (unsigned long long)(now - w->t0),
				    (unsigned long long)e->s.total,
				    srcwatch_reason_name((enum wire_reason)e->s.last_reason));
		else
			actions_log(out, 0, LOGL_WARNING,
				    "event=peer_never_heard peer=%s after=%llums hint=\"is arphad "
				    "running there, with the same Port=, and reachable on the sync "
				    "link?\"",
				    ip, (unsigned long long)(now - w->t0));
		p->warn_next = now + SRCWATCH_NEVER_REPEAT_MS;
	}
}

uint64_t srcwatch_next_deadline(const struct srcwatch *w)
{
	uint64_t next = UINT64_MAX;
	if (!w->started)
		return next;
	for (size_t i = 0; i < w->n_src; i++)
		if (w->src[i].suppressed && w->src[i].warn_next < next)
			next = w->src[i].warn_next;
	if (w->held && w->window_end < next)
		next = w->window_end;
	for (size_t i = 0; i < w->n_peers; i++) {
		const struct peer *p = &w->peers[i];
		if (!p->heard && !p->self && p->warn_next < next)
			next = p->warn_next;
	}
	return next;
}

size_t srcwatch_sources(const struct srcwatch *w, struct srcwatch_source *out, size_t cap)
{
	for (size_t i = 0; i < w->n_src && i < cap; i++)
		out[i] = w->src[i].s;
	return w->n_src;
}

size_t srcwatch_never_heard(const struct srcwatch *w, uint32_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_peers; i++) {
		if (w->peers[i].heard || w->peers[i].self)
			continue;
		if (n < cap)
			out[n] = w->peers[i].addr;
		n++;
	}
	return n;
}
