/*
 * member: the availability layer (heartbeats, timeouts, own link).
 *
 * The peers are kept in one array of at most WIRE_MAX_PEERS, in the order
 * first heard; a cluster is small, so lookups are linear. A peer is never
 * forgotten: a DOWN peer keeps its slot and comes back in it.
 *
 * Each peer's timeout runs from timer_from, which is the time of its last
 * heartbeat, or the time our own link came back if that is later (a fresh
 * DeadInterval). last_heard stays the true time of the last heartbeat so
 * that what member_peers() shows is what happened.
 *
 * Transitions on a heartbeat from node X (listed = the heartbeat lists
 * self_id among the nodes X hears):
 *
 *   unknown -> UP (report NODE_UP) if listed, else HEARD
 *   HEARD   -> UP (report NODE_UP) if listed
 *   DOWN    -> UP (report NODE_UP) if listed, else HEARD
 *   UP      -> HEARD (report NODE_DOWN) if not listed
 *
 * The last one is on purpose: an UP peer whose heartbeat stops listing us
 * has restarted (it does not know us yet) or has timed us out. Either way
 * whatever the layers above share with it (sequence numbers, ranges,
 * connection state) is stale, so they are told it went down, and told it
 * is up again once it lists us, which makes them resync with it.
 *
 * On a timeout (member_tick, link up only) HEARD and UP peers become DOWN;
 * only UP ones are reported, since HEARD ones were never reported up.
 */
#include "member.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct peer {
	uint32_t node;
	uint8_t state;	      /* enum member_state */
	uint32_t interval_ms; /* as advertised; 0 = "use ours" */
	uint64_t last_heard;
	uint64_t timer_from; /* the timeout runs from here */
	uint64_t heartbeats;
	uint64_t since;
};

struct member {
	struct member_params p;
	bool link_up;
	bool hb_started; /* member_heartbeat_due has said yes once */
	uint64_t next_hb;
	size_t n;
	struct peer peers[WIRE_MAX_PEERS];
};

struct member *member_new(const struct member_params *p)
{
	struct member *m;

	if (p == NULL || p->interval_ms == 0 || p->dead_count == 0) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->p = *p;
	m->link_up = true;
	return m;
}

void member_free(struct member *m)
{
	free(m);
}

/* Index of node in the table, or m->n if it is not there. */
static size_t find(const struct member *m, uint32_t node)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->peers[i].node == node)
			break;
	return i;
}

/*
 * The table is full: the slot of the peer down the longest, for a new
 * node (node IDs come and go over a daemon's life), or WIRE_MAX_PEERS if
 * every peer is alive.
 */
static size_t longest_down(const struct member *m)
{
	size_t best = WIRE_MAX_PEERS;
	for (size_t i = 0; i < m->n; i++)
		if (m->peers[i].state == MS_DOWN &&
		    (best == WIRE_MAX_PEERS || m->peers[i].since < m->peers[best].since))
			best = i;
	return best;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool alive(const struct peer *pe)
{
	return pe->state == MS_HEARD || pe->state == MS_UP;
}

/* When pe is down unless heard from again: timer_from + DeadInterval, saturated. */
static uint64_t deadline(const struct member *m, const struct peer *pe)
{
	uint32_t iv = pe->interval_ms != 0 ? pe->interval_ms : m->p.interval_ms;

	return add_sat(pe->timer_from, (uint64_t)m->p.dead_count * iv);
}

static void emit(struct member_events *out, enum member_ev_type type, uint32_t node)
{
	if (out->n < sizeof(out->v) / sizeof(out->v[0])) {
		out->v[out->n].type = (uint8_t)type;
		out->v[out->n].node = node;
		out->n++;
	}
}

static void set_state(struct peer *pe, enum member_state s, uint64_t now)
{
	pe->state = (uint8_t)s;
	pe->since = now;
}

bool member_heartbeat_due(struct member *m, uint64_t now)
{
	if (!m->hb_started) {
		m->hb_started = true;
		m->next_hb = add_sat(now, m->p.interval_ms);
		return true;
	}
	if (now < m->next_hb)
		return false;
	/*
	 * Keep the rhythm: the next one is one interval after this one was
	 * due, not after now. If the caller is a whole interval late or more,
	 * that would be due already, so start a new rhythm from now instead
	 * of sending a burst.
	 */
	if (now - m->next_hb >= m->p.interval_ms)
		m->next_hb = add_sat(now, m->p.interval_ms);
	else
		m->next_hb = add_sat(m->next_hb, m->p.interval_ms);
	return true;
}

void member_fill_heartbeat(const struct member *m, struct wire_heartbeat *hb)
{
	uint16_t k = 0;

	hb->interval_ms = m->p.interval_ms;
	for (size_t i = 0; i < m->n; i++)
		if (alive(&m->peers[i]))
			hb->known[k++] = m->peers[i].node;
	hb->n_known = k;
}

static bool lists(const struct wire_heartbeat *hb, uint32_t node)
{
	size_t n = hb->n_known < WIRE_MAX_PEERS ? hb->n_known : WIRE_MAX_PEERS;

	for (size_t i = 0; i < n; i++)
		if (hb->known[i] == node)
			return true;
	return false;
}

int member_on_heartbeat(struct member *m, uint32_t node, const struct wire_heartbeat *hb,
			uint64_t now, struct member_events *out)
{
	struct peer *pe;
	size_t i;
	bool listed;

	out->n = 0;
	/* Our own heartbeat looped back (broadcast): nothing to learn from it. */
	if (node == m->p.self_id)
		return 0;
	listed = lists(hb, m->p.self_id);
	i = find(m, node);
	if (i == WIRE_MAX_PEERS && (i = longest_down(m)) == WIRE_MAX_PEERS) {
		errno = ENOSPC;
		return -1;
	}
	pe = &m->peers[i];
	if (i == m->n || pe->node != node) {
		if (i == m->n)
			m->n++;
		memset(pe, 0, sizeof(*pe));
		pe->node = node;
		set_state(pe, listed ? MS_UP : MS_HEARD, now);
		if (listed)
			emit(out, ME_NODE_UP, node);
	} else if (listed && pe->state != MS_UP) {
		set_state(pe, MS_UP, now);
		emit(out, ME_NODE_UP, node);
	} else if (!listed && pe->state == MS_UP) {
		/* Restarted or lost us: see the comment at the top. */
		set_state(pe, MS_HEARD, now);
		emit(out, ME_NODE_DOWN, node);
	} else if (!listed && pe->state == MS_DOWN) {
		set_state(pe, MS_HEARD, now);
	}
	pe->interval_ms = hb->interval_ms;
	pe->last_heard = now;
	pe->timer_from = now;
	pe->heartbeats++;
	return 0;
}

void member_tick(struct member *m, uint64_t now, struct member_events *out)
{
	out->n = 0;
	/* Deaf ourselves: silence says nothing about the others. */
	if (!m->link_up)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct peer *pe = &m->peers[i];

		if (!alive(pe) || now < deadline(m, pe))
			continue;
		if (pe->state == MS_UP)
			emit(out, ME_NODE_DOWN, pe->node);
		set_state(pe, MS_DOWN, now);
	}
}

void member_set_link(struct member *m, bool up, uint64_t now, struct member_events *out)
{
	out->n = 0;
	if (up == m->link_up)
		return;
	m->link_up = up;
	if (!up) {
		emit(out, ME_OWN_DOWN, m->p.self_id);
		return;
	}
	/* Everyone gets a fresh DeadInterval from now. */
	for (size_t i = 0; i < m->n; i++)
		if (alive(&m->peers[i]))
			m->peers[i].timer_from = now;
	emit(out, ME_OWN_UP, m->p.self_id);
}

uint64_t member_next_deadline(const struct member *m)
{
	uint64_t next = m->hb_started ? m->next_hb : 0;

	if (!m->link_up)
		return next;
	for (size_t i = 0; i < m->n; i++) {
		if (alive(&m->peers[i])) {
			uint64_t d = deadline(m, &m->peers[i]);

			if (d < next)
				next = d;
		}
	}
	return next;
}

bool member_link_up(const struct member *m)
{
	return m->link_up;
}

bool member_is_up(const struct member *m, uint32_t node)
{
	size_t i = find(m, node);

	return i < m->n && m->peers[i].state == MS_UP;
}

size_t member_peers(const struct member *m, struct member_peer *out, size_t cap)
{
	for (size_t i = 0; i < m->n && i < cap; i++) {
		const struct peer *pe = &m->peers[i];

		out[i].node = pe->node;
		out[i].state = pe->state;
		out[i].interval_ms = pe->interval_ms;
		out[i].last_heard = pe->last_heard;
		out[i].heartbeats = pe->heartbeats;
		out[i].since = pe->since;
	}
	return m->n;
}
