/*
 * vip: active-passive ownership (see vip.h for the rule).
 *
 * Advert (all integers big-endian):
 *   version (1) = 1, flags (1: bit 0 stopping), probe (4: node asked to
 *   answer at once, 0 none), n (1), n x { name length (1), name,
 *   priority (1), state (1) }.
 */
#include "vip.h"

#include "be.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ADVERT_VERSION 1
#define F_STOPPING     1

struct peer_group {
	bool seen;
	uint8_t priority, state;
	bool lost;	/* as master: failed a probe; cleared by its next advert */
	uint64_t heard; /* ms of its last advert for this group */
};

struct peer {
	uint32_t node;
	uint64_t heard;
	struct peer_group g[VIP_MAX_GROUPS];
};

struct group {
	struct vip_group_conf c;
	uint8_t state;
	bool fault;
	uint8_t demote; /* vip_set_demote: taken off the priority */
	uint64_t changed_at;
	uint32_t changes;
	uint64_t preempt_since; /* 0: not in a position to preempt */
	uint32_t probing;	/* master being probed; 0: none */
	uint64_t probe_at;	/* when the probe began */
	bool probe_again;	/* the second probe is still to go */
	bool held;		/* master when vip_shutdown was called */
	uint64_t init_until;	/* in init: listen until then before claiming */
};

struct vip {
	struct vip_params p;
	struct group g[VIP_MAX_GROUPS];
	size_t ng;
	struct peer peers[VIP_MAX_PEERS];
	size_t npeers;
	bool link_up;
	bool stopping;
	uint64_t now; /* of the last call: deadlines not after it are spent */
	struct vip_stats stats;
};

static const char *const state_names[VIP__COUNT] = {
    [VIP_INIT] = "init", [VIP_BACKUP] = "backup", [VIP_MASTER] = "master", [VIP_FAULT] = "fault"};

const char *vip_state_name(enum vip_state s)
{
	return (unsigned)s < VIP__COUNT ? state_names[s] : "?";
}

/* ---- timing ---- */

static uint64_t probe_after(const struct vip *v)
{
	return (uint64_t)v->p.interval_ms + v->p.interval_ms / 4; /* 1.25 intervals */
}

static uint64_t probe_window(const struct vip *v)
{
	uint64_t w = v->p.interval_ms / 4;
	return w < 5 ? 5 : w;
}

/* How long a peer's advert counts (a candidate that went quiet stops counting). */
static uint64_t live_for(const struct vip *v)
{
	return 2 * (uint64_t)v->p.interval_ms + v->p.interval_ms / 2;
}

/* A group in init: it listens for three intervals before claiming anything. */
static void group_init(const struct vip *v, struct group *g, const struct vip_group_conf *c,
		       uint64_t now)
{
	memset(g, 0, sizeof(*g));
	g->c = *c;
	g->state = VIP_INIT;
	g->changed_at = now;
	g->init_until = now + 3 * (uint64_t)v->p.interval_ms;
}

/* Names of 1..31 bytes, each once; priorities 1..254; at most VIP_MAX_GROUPS. */
static bool groups_valid(const struct vip_group_conf *g, size_t n)
{
	if (n > VIP_MAX_GROUPS)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(g[i].name, VIP_NAME_MAX);
		if (len == 0 || len == VIP_NAME_MAX || g[i].priority == 0 || g[i].priority == 255)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(g[i].name, g[j].name) == 0)
				return false;
	}
	return true;
}

struct vip *vip_new(const struct vip_params *p, const struct vip_group_conf *g, size_t n,
		    uint64_t now)
{
	if (p->self_id == 0 || p->interval_ms == 0 || !groups_valid(g, n)) {
		errno = EINVAL;
		return NULL;
	}
	struct vip *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->p = *p;
	v->ng = n;
	for (size_t i = 0; i < n; i++)
		group_init(v, &v->g[i], &g[i], now);
	v->link_up = true;
	return v;
}

void vip_free(struct vip *v)
{
	free(v);
}

/* ---- ranks and views ---- */

/* 0 in fault or when stopping; else the configured one less the demotion, at least 1 */
static uint8_t own_priority(const struct vip *v, const struct group *g)
{
	if (g->fault || v->stopping)
		return 0;
	return g->c.priority > g->demote ? (uint8_t)(g->c.priority - g->demote) : 1;
}

/* a outranks b: priority, then node ID */
static bool outranks(uint8_t pa, uint32_t na, uint8_t pb, uint32_t nb)
{
	return pa != pb ? pa > pb : na > nb;
}

static bool live(const struct vip *v, const struct peer_group *pg, uint64_t now)
{
	return pg->seen && (!v->link_up || now - pg->heard <= live_for(v) || pg->heard > now);
}

/* The best-ranked peer claiming master for group gi; NULL if none. */
static struct peer *best_master(struct vip *v, size_t gi, uint64_t now)
{
	struct peer *best = NULL;
	for (size_t i = 0; i < v->npeers; i++) {
		struct peer *pr = &v->peers[i];
		struct peer_group *pg = &pr->g[gi];
		if (!pg->seen || pg->state != VIP_MASTER || pg->lost)
			continue;
		if (v->link_up &&
		    pg->heard + probe_after(v) + probe_window(v) + v->p.interval_ms < now)
			continue; /* long silent (e.g. we were not ticked): as good as lost */
		if (best == NULL ||
		    outranks(pg->priority, pr->node, best->g[gi].priority, best->node))
			best = pr;
	}
	return best;
}

static uint32_t owner_of(struct vip *v, size_t gi, uint64_t now)
{
	if (v->g[gi].state == VIP_MASTER)
		return v->p.self_id;
	struct peer *m = best_master(v, gi, now);
	return m ? m->node : 0;
}

static void emit(struct vip *v, size_t gi, uint8_t type, uint8_t prev, uint64_t now,
		 struct vip_out *out)
{
	if (out->n >= sizeof(out->v) / sizeof(out->v[0]))
		return;
	struct vip_ev *e = &out->v[out->n++];
	e->type = type;
	e->group = (uint16_t)gi;
	e->state = v->g[gi].state;
	e->prev = prev;
	e->owner = owner_of(v, gi, now);
}

static void set_state(struct vip *v, size_t gi, uint8_t state, uint64_t now, struct vip_out *out)
{
	struct group *g = &v->g[gi];
	if (g->state == state)
		return;
	uint8_t prev = g->state;
	g->state = state;
	g->changed_at = now;
	g->changes++;
	g->preempt_since = 0;
	g->probing = 0;
	out->push = true;
	emit(v, gi, VE_STATE, prev, now, out);
}

/* ---- the rule ---- */

static void decide(struct vip *v, size_t gi, uint64_t now, struct vip_out *out)
{
	struct group *g = &v->g[gi];
	uint8_t prio = own_priority(v, g);
	uint32_t self = v->p.self_id;

	if (v->stopping)
		return;
	if (g->fault) {
		set_state(v, gi, VIP_FAULT, now, out);
		return;
	}
	struct peer *m = best_master(v, gi, now);
	if (g->state == VIP_FAULT) {
		set_state(v, gi, VIP_BACKUP, now, out); /* and decide again below */
	} else if (g->state == VIP_INIT) {
		if (m == NULL && now < g->init_until)
			return;
		set_state(v, gi, VIP_BACKUP, now, out);
	}

	if (g->state == VIP_MASTER) {
		if (m && outranks(m->g[gi].priority, m->node, prio, self)) {
			set_state(v, gi, VIP_BACKUP, now, out);
		} else if (m && m->g[gi].heard == now) {
			emit(v, gi, VE_REASSERT, VIP_MASTER, now, out);
			out->push = true;
		}
		return;
	}

	/* backup */
	if (m) {
		if (g->c.preempt && prio > m->g[gi].priority) {
			if (g->preempt_since == 0)
				g->preempt_since = now;
			if (now - g->preempt_since >= g->c.preempt_delay_ms)
				set_state(v, gi, VIP_MASTER, now, out);
		} else {
			g->preempt_since = 0;
		}
		return;
	}
	g->preempt_since = 0;
	/* nobody claims: the best live candidate does */
	for (size_t i = 0; i < v->npeers; i++) {
		struct peer *pr = &v->peers[i];
		struct peer_group *pg = &pr->g[gi];
		if (!live(v, pg, now) || pg->priority == 0 || pg->state == VIP_MASTER)
			continue;
		if (outranks(pg->priority, pr->node, prio, self))
			return; /* a better one will claim */
	}
	set_state(v, gi, VIP_MASTER, now, out);
}

/* Probe a silent master; declare it lost when the probe goes unanswered. */
static void watch_master(struct vip *v, size_t gi, uint64_t now, struct vip_out *out)
{
	struct group *g = &v->g[gi];
	if (!v->link_up || v->stopping || g->state == VIP_MASTER)
		return;
	struct peer *m = best_master(v, gi, now);
	if (m == NULL) {
		g->probing = 0;
		return;
	}
	struct peer_group *pg = &m->g[gi];
	if (g->probing == m->node) {
		if (pg->heard >= g->probe_at) {
			g->probing = 0; /* answered */
			v->stats.probes_answered++;
		} else if (now >= g->probe_at + probe_window(v)) {
			pg->lost = true;
			g->probing = 0;
			v->stats.masters_lost++;
		} else if (g->probe_again && now >= g->probe_at + probe_window(v) / 2) {
			g->probe_again = false;
			out->push = true;
			v->stats.probes_sent++;
		}
		return;
	}
	if (now >= pg->heard + probe_after(v)) {
		g->probing = m->node;
		g->probe_at = now;
		g->probe_again = true;
		out->push = true;
		v->stats.probes_sent++;
	}
}

static void run(struct vip *v, uint64_t now, struct vip_out *out)
{
	if (now > v->now)
		v->now = now;
	for (size_t gi = 0; gi < v->ng; gi++) {
		uint8_t was = v->g[gi].state;
		watch_master(v, gi, now, out);
		decide(v, gi, now, out);
		/*
		 * Left master (or fault) just now: a probe that fell due meanwhile
		 * was not served (we probe only as backup) and its time has passed,
		 * so no deadline would bring it back: serve it now.
		 */
		if (v->g[gi].state != was)
			watch_master(v, gi, now, out);
	}
}

/* ---- inputs ---- */

static struct peer *peer_get(struct vip *v, uint32_t node, uint64_t now)
{
	for (size_t i = 0; i < v->npeers; i++)
		if (v->peers[i].node == node)
			return &v->peers[i];
	size_t slot = v->npeers;
	if (slot == VIP_MAX_PEERS) {
		/* reuse the one silent longest */
		slot = 0;
		for (size_t i = 1; i < v->npeers; i++)
			if (v->peers[i].heard < v->peers[slot].heard)
				slot = i;
		if (now - v->peers[slot].heard <= live_for(v))
			return NULL;
	} else {
		v->npeers++;
	}
	memset(&v->peers[slot], 0, sizeof(v->peers[slot]));
	v->peers[slot].node = node;
	return &v->peers[slot];
}

static int find_group(const struct vip *v, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < v->ng; i++)
		if (strlen(v->g[i].c.name) == len && memcmp(v->g[i].c.name, name, len) == 0)
			return (int)i;
	return -1;
}

int vip_on_advert(struct vip *v, uint32_t node, const uint8_t *buf, size_t len, uint64_t now,
		  struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	/* parse it all before anything changes */
	if (node == 0 || node == v->p.self_id || len < 7 || buf[0] != ADVERT_VERSION) {
		v->stats.malformed++;
		return -1;
	}
	size_t n = buf[6], off = 7;
	for (size_t i = 0; i < n; i++) {
		if (off >= len || buf[off] == 0 || buf[off] >= VIP_NAME_MAX ||
		    len - off < 1 + (size_t)buf[off] + 2 ||
		    buf[off + 1 + buf[off] + 1] >= VIP__COUNT) {
			v->stats.malformed++;
			return -1;
		}
		off += 1 + buf[off] + 2;
	}
	if (off != len) {
		v->stats.malformed++;
		return -1;
	}
	struct peer *pr = peer_get(v, node, now);
	if (pr == NULL)
		return 0;
	v->stats.adverts++;
	pr->heard = now;
	bool stopping = buf[1] & F_STOPPING;
	uint32_t probe = get32(buf + 2);
	off = 7;
	for (size_t i = 0; i < n; i++) {
		size_t nl = buf[off];
		int gi = find_group(v, buf + off + 1, nl);
		uint8_t prio = buf[off + 1 + nl], state = buf[off + 2 + nl];
		off += 1 + nl + 2;
		if (gi < 0) {
			v->stats.unknown_groups++;
			continue;
		}
		struct peer_group *pg = &pr->g[gi];
		pg->seen = true;
		pg->priority = stopping ? 0 : prio;
		pg->state = stopping && state == VIP_MASTER ? VIP_BACKUP : state;
		pg->heard = now;
		pg->lost = false;
	}
	if (probe == v->p.self_id) {
		out->push = true; /* a backup asks whether we are alive: answer at once */
	}
	run(v, now, out);
	return 0;
}

void vip_tick(struct vip *v, uint64_t now, struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	run(v, now, out);
}

uint64_t vip_next_deadline(const struct vip *v)
{
	uint64_t next = UINT64_MAX;
#define AT(t)                                                                                      \
	do {                                                                                       \
		uint64_t t_ = (t);                                                                 \
		if (t_ > v->now && t_ < next)                                                      \
			next = t_;                                                                 \
	} while (0)
	for (size_t gi = 0; gi < v->ng; gi++) {
		const struct group *g = &v->g[gi];
		if (g->state == VIP_INIT)
			AT(g->init_until);
		if (g->preempt_since)
			AT(g->preempt_since + g->c.preempt_delay_ms);
		if (g->probing) {
			AT(g->probe_at + probe_window(v) / 2);
			AT(g->probe_at + probe_window(v));
		}
		for (size_t i = 0; i < v->npeers; i++) {
			const struct peer_group *pg = &v->peers[i].g[gi];
			if (!pg->seen)
				continue;
			/* every master's, not only the one under probe: another may claim meanwhile
			 */
			if (pg->state == VIP_MASTER && !pg->lost && g->probing != v->peers[i].node)
				AT(pg->heard + probe_after(v));
			AT(pg->heard + live_for(v) + 1); /* a candidate stops counting */
		}
	}
#undef AT
	return next;
}

void vip_set_fault(struct vip *v, size_t group, bool fault, uint64_t now, struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	if (group >= v->ng || v->g[group].fault == fault)
		return;
	v->g[group].fault = fault;
	v->g[group].preempt_since = 0;
	out->push = true; /* our priority changed */
	run(v, now, out);
}

void vip_set_demote(struct vip *v, size_t group, uint8_t demote, uint64_t now, struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	if (group >= v->ng || v->g[group].demote == demote)
		return;
	uint8_t before = own_priority(v, &v->g[group]);
	v->g[group].demote = demote;
	if (own_priority(v, &v->g[group]) == before)
		return;
	v->g[group].preempt_since = 0;
	out->push = true; /* our priority changed */
	run(v, now, out);
}

int vip_reconf(struct vip *v, const struct vip_group_conf *g, size_t n, uint64_t now, int *map,
	       struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	if (!groups_valid(g, n)) {
		errno = EINVAL;
		return -1;
	}
	struct group ng[VIP_MAX_GROUPS];
	int from[VIP_MAX_GROUPS]; /* new group i: its old index, or -1 */
	for (size_t i = 0; i < VIP_MAX_GROUPS; i++)
		map[i] = -1;
	for (size_t i = 0; i < n; i++) {
		int o = find_group(v, (const uint8_t *)g[i].name, strlen(g[i].name));
		from[i] = o;
		if (o < 0) {
			group_init(v, &ng[i], &g[i], now);
			out->push = true; /* a new group in our advert */
			continue;
		}
		map[o] = (int)i;
		ng[i] = v->g[o];
		struct group *x = &ng[i];
		uint8_t before = own_priority(v, x);
		bool preempt_changed =
		    x->c.preempt != g[i].preempt || x->c.preempt_delay_ms != g[i].preempt_delay_ms;
		x->c = g[i];
		if (own_priority(v, x) != before || preempt_changed) {
			x->preempt_since = 0; /* a change of priority restarts PreemptDelay */
			out->push = true;
		}
	}
	out->push |= n != v->ng; /* a group left our advert */
	for (size_t k = 0; k < v->npeers; k++) {
		struct peer *pr = &v->peers[k];
		struct peer_group pg[VIP_MAX_GROUPS];
		for (size_t i = 0; i < n; i++) {
			if (from[i] >= 0)
				pg[i] = pr->g[from[i]];
			else
				memset(&pg[i], 0, sizeof(pg[i])); /* heard at its next advert */
		}
		memset(pr->g, 0, sizeof(pr->g));
		memcpy(pr->g, pg, n * sizeof(pg[0]));
	}
	memset(v->g, 0, sizeof(v->g));
	memcpy(v->g, ng, n * sizeof(ng[0]));
	v->ng = n;
	run(v, now, out);
	return 0;
}

void vip_set_link(struct vip *v, bool up, uint64_t now, struct vip_out *out)
{
	out->n = 0;
	out->push = false;
	if (v->link_up == up)
		return;
	v->link_up = up;
	if (up) {
		for (size_t i = 0; i < v->npeers; i++) {
			v->peers[i].heard = now;
			for (size_t gi = 0; gi < v->ng; gi++)
				if (v->peers[i].g[gi].seen)
					v->peers[i].g[gi].heard = now;
		}
		for (size_t gi = 0; gi < v->ng; gi++)
			v->g[gi].probing = 0;
	}
	run(v, now, out);
}

void vip_shutdown(struct vip *v, uint64_t now, struct vip_out *out)
{
	out->n = 0;
	out->push = true;
	(void)now;
	v->stopping = true;
	for (size_t gi = 0; gi < v->ng; gi++)
		v->g[gi].held = v->g[gi].state == VIP_MASTER;
}

bool vip_handed_over(const struct vip *v, uint64_t now, bool *taken_by_peer)
{
	if (taken_by_peer)
		*taken_by_peer = false;
	for (size_t gi = 0; gi < v->ng; gi++) {
		if (!v->g[gi].held)
			continue;
		bool taken = false, anyone = false;
		for (size_t i = 0; i < v->npeers; i++) {
			const struct peer_group *pg = &v->peers[i].g[gi];
			if (!live(v, pg, now))
				continue;
			anyone = true;
			if (pg->state == VIP_MASTER && pg->heard > 0)
				taken = true;
		}
		if (anyone && !taken)
			return false;
		if (taken && taken_by_peer)
			*taken_by_peer = true;
	}
	return true;
}

size_t vip_advert(const struct vip *v, uint8_t *buf, size_t cap)
{
	size_t need = 7;
	for (size_t gi = 0; gi < v->ng; gi++)
		need += 1 + strlen(v->g[gi].c.name) + 2;
	if (cap < need)
		return 0;
	uint32_t probe = 0;
	for (size_t gi = 0; gi < v->ng && probe == 0; gi++)
		probe = v->g[gi].probing;
	buf[0] = ADVERT_VERSION;
	buf[1] = v->stopping ? F_STOPPING : 0;
	put32(buf + 2, probe);
	buf[6] = (uint8_t)v->ng;
	size_t off = 7;
	for (size_t gi = 0; gi < v->ng; gi++) {
		const struct group *g = &v->g[gi];
		size_t nl = strlen(g->c.name);
		buf[off] = (uint8_t)nl;
		memcpy(buf + off + 1, g->c.name, nl);
		buf[off + 1 + nl] = own_priority(v, g);
		buf[off + 2 + nl] = v->stopping ? VIP_BACKUP : g->state;
		off += 1 + nl + 2;
	}
	return off;
}

size_t vip_groups(const struct vip *v)
{
	return v->ng;
}

int vip_group(const struct vip *v, size_t group, uint64_t now, struct vip_group_view *out)
{
	if (group >= v->ng)
		return -1;
	const struct group *g = &v->g[group];
	out->name = g->c.name;
	out->state = g->state;
	out->priority = own_priority(v, g);
	out->configured = g->c.priority;
	out->demote = g->demote;
	out->owner = owner_of((struct vip *)v, group, now);
	out->changed_at = g->changed_at;
	out->changes = g->changes;
	return 0;
}

const struct vip_stats *vip_stats(const struct vip *v)
{
	return &v->stats;
}
