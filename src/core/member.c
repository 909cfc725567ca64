/*
 * member: the availability layer (heartbeats, timeouts, own link).
 *
 * The peers are kept in one array of at most WIRE_MAX_PEERS, in the order
 * first heard; a cluster is small, so lookups are linear. A peer is never
 * forgotten: a DOWN peer keeps its slot and comes back in it.
 *
 * Each peer's timeout on each path runs from path_from[path], which is the
 * time of its last heartbeat on that path, or the time our own link of
 * that path came back, or the time the peer was first heard (or came
 * back), whichever is latest (a fresh DeadInterval). The peer is down once
 * every path whose own link is up has run out; a path that runs out while
 * another has not is reported down (with several paths). A peer starts
 * with every path up, so a path it is never heard on is reported down
 * after DeadInterval. last_heard stays the true time of the last heartbeat
 * so that what member_peers() shows is what happened.
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
	uint64_t heartbeats;
	uint64_t since;
	uint8_t paths_up;   /* bit p: path p not timed out */
	uint8_t paths_down; /* bit p: path p reported down (ME_PATH_DOWN), not back yet */
	uint64_t path_from[MEMBER_MAX_PATHS]; /* each path's timeout runs from here */
	uint64_t path_heard[MEMBER_MAX_PATHS];
	uint64_t path_downs[MEMBER_MAX_PATHS];
};

struct member {
	struct member_params p;
	uint8_t links;	 /* bit p: our own link of path p is up */
	uint8_t all;	 /* the bits of every path */
	bool hb_started; /* member_heartbeat_due has said yes once */
	uint64_t next_hb;
	size_t n;
	struct peer peers[WIRE_MAX_PEERS];
};

struct member *member_new(const struct member_params *p)
{
	struct member *m;

	if (p == NULL || p->interval_ms == 0 || p->dead_count == 0 ||
	    p->n_paths > MEMBER_MAX_PATHS) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->p = *p;
	if (m->p.n_paths == 0)
		m->p.n_paths = 1;
	m->all = (uint8_t)((1u << m->p.n_paths) - 1);
	m->links = m->all;
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

/* When pe's path p times out unless heard on it again: path_from + DeadInterval, saturated. */
static uint64_t path_deadline(const struct member *m, const struct peer *pe, unsigned p)
{
	uint32_t iv = pe->interval_ms != 0 ? pe->interval_ms : m->p.interval_ms;

	return add_sat(pe->path_from[p], (uint64_t)m->p.dead_count * iv);
}

/*
 * When pe is down unless heard from again: the latest path deadline of the
 * paths whose own link is up; never while no own link is up.
 */
static uint64_t deadline(const struct member *m, const struct peer *pe)
{
	uint64_t d = 0;
	bool any = false;

	for (unsigned p = 0; p < m->p.n_paths; p++) {
		if (!(m->links & (1u << p)))
			continue;
		uint64_t pd = path_deadline(m, pe, p);
		if (!any || pd > d)
			d = pd;
		any = true;
	}
	return any ? d : UINT64_MAX;
}

static void emit_path(struct member_events *out, enum member_ev_type type, uint32_t node,
		      unsigned path)
{
	if (out->n < sizeof(out->v) / sizeof(out->v[0])) {
		out->v[out->n].type = (uint8_t)type;
		out->v[out->n].path = (uint8_t)path;
		out->v[out->n].node = node;
		out->n++;
	}
}

static void emit(struct member_events *out, enum member_ev_type type, uint32_t node)
{
	emit_path(out, type, node, 0);
}

/* pe is (again) alive from now: every path starts up, with a fresh DeadInterval. */
static void paths_fresh(struct member *m, struct peer *pe, uint64_t now)
{
	pe->paths_up = m->all;
	pe->paths_down = 0;
	for (unsigned p = 0; p < m->p.n_paths; p++)
		pe->path_from[p] = now;
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

int member_on_heartbeat(struct member *m, uint32_t node, unsigned path,
			const struct wire_heartbeat *hb, uint64_t now, struct member_events *out)
{
	struct peer *pe;
	size_t i;
	bool listed;

	out->n = 0;
	if (path >= m->p.n_paths) {
		errno = EINVAL;
		return -1;
	}
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
		paths_fresh(m, pe, now);
		set_state(pe, listed ? MS_UP : MS_HEARD, now);
		if (listed)
			emit(out, ME_NODE_UP, node);
	} else if (pe->state == MS_DOWN) {
		paths_fresh(m, pe, now);
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
	}
	uint8_t bit = (uint8_t)(1u << path);
	pe->paths_up |= bit;
	if (pe->paths_down & bit) {
		pe->paths_down &= (uint8_t)~bit;
		emit_path(out, ME_PATH_UP, node, path);
	}
	pe->interval_ms = hb->interval_ms;
	pe->last_heard = now;
	pe->path_from[path] = now;
	pe->path_heard[path] = now;
	pe->heartbeats++;
	return 0;
}

void member_tick(struct member *m, uint64_t now, struct member_events *out)
{
	out->n = 0;
	/* Deaf ourselves: silence says nothing about the others. */
	if (!m->links)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct peer *pe = &m->peers[i];

		if (!alive(pe))
			continue;
		if (now >= deadline(m, pe)) {
			if (pe->state == MS_UP)
				emit(out, ME_NODE_DOWN, pe->node);
			set_state(pe, MS_DOWN, now);
			pe->paths_up = 0;
			pe->paths_down = 0;
			continue;
		}
		if (m->p.n_paths == 1)
			continue;
		for (unsigned p = 0; p < m->p.n_paths; p++) {
			uint8_t bit = (uint8_t)(1u << p);
			if (!(m->links & bit) || !(pe->paths_up & bit) ||
			    now < path_deadline(m, pe, p))
				continue;
			pe->paths_up &= (uint8_t)~bit;
			pe->paths_down |= bit;
			pe->path_downs[p]++;
			emit_path(out, ME_PATH_DOWN, pe->node, p);
		}
	}
}

void member_set_link(struct member *m, unsigned path, bool up, uint64_t now,
		     struct member_events *out)
{
	out->n = 0;
	if (path >= m->p.n_paths)
		return;
	uint8_t bit = (uint8_t)(1u << path);
	if (up == !!(m->links & bit))
		return;
	bool any_before = m->links != 0;
	if (!up) {
		m->links &= (uint8_t)~bit;
		if (m->p.n_paths > 1)
			emit_path(out, ME_OWN_PATH_DOWN, m->p.self_id, path);
		if (!m->links)
			emit(out, ME_OWN_DOWN, m->p.self_id);
		return;
	}
	m->links |= bit;
	/* Everyone gets a fresh DeadInterval on this path from now. */
	for (size_t i = 0; i < m->n; i++)
		if (alive(&m->peers[i]))
			m->peers[i].path_from[path] = now;
	if (m->p.n_paths > 1)
		emit_path(out, ME_OWN_PATH_UP, m->p.self_id, path);
	if (!any_before)
		emit(out, ME_OWN_UP, m->p.self_id);
}

uint64_t member_next_deadline(const struct member *m)
{
	uint64_t next = m->hb_started ? m->next_hb : 0;

	if (!m->links)
		return next;
	for (size_t i = 0; i < m->n; i++) {
		const struct peer *pe = &m->peers[i];
		if (!alive(pe))
			continue;
		uint64_t d = deadline(m, pe);
		if (d < next)
			next = d;
		for (unsigned p = 0; m->p.n_paths > 1 && p < m->p.n_paths; p++) {
			uint8_t bit = (uint8_t)(1u << p);
			if ((m->links & bit) && (pe->paths_up & bit) &&
			    (d = path_deadline(m, pe, p)) < next)
				next = d;
		}
	}
	return next;
}

bool member_link_up(const struct member *m)
{
	return m->links != 0;
}

bool member_path_link_up(const struct member *m, unsigned path)
{
	return path < m->p.n_paths && (m->links & (1u << path));
}

unsigned member_n_paths(const struct member *m)
{
	return m->p.n_paths;
}

bool member_path_ok(const struct member *m, uint32_t node, unsigned path)
{
	size_t i = find(m, node);

	return i < m->n && path < m->p.n_paths && alive(&m->peers[i]) &&
	       (m->peers[i].paths_up & (1u << path)) && (m->links & (1u << path));
}

int member_best_path(const struct member *m)
{
	bool any_up = false;

	for (size_t i = 0; i < m->n; i++)
		any_up |= m->peers[i].state == MS_UP;
	for (unsigned p = 0; p < m->p.n_paths; p++) {
		if (!(m->links & (1u << p)))
			continue;
		bool all = true;
		for (size_t i = 0; all && i < m->n; i++)
			if (m->peers[i].state == MS_UP)
				all = (m->peers[i].paths_up & (1u << p)) != 0;
		if (all)
			return (int)p;
	}
	return any_up ? -1 : 0;
}

int member_path_to(const struct member *m, uint32_t node)
{
	for (unsigned p = 0; p < m->p.n_paths; p++)
		if (member_path_ok(m, node, p))
			return (int)p;
	return -1;
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
		out[i].paths_up = pe->paths_up;
		memcpy(out[i].path_heard, pe->path_heard, sizeof(out[i].path_heard));
		memcpy(out[i].path_downs, pe->path_downs, sizeof(out[i].path_downs));
	}
	return m->n;
}
