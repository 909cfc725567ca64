/*
 * takeover: the VIPs' schedule around core/vip (see takeover.h).
 *
 * One transition point: vip_out() carries out every event core/vip
 * returned (take, give, reassert, notify), then hands our advert on. The
 * timers are deadlines in the structs below; takeover_tick compares them
 * with now and takeover_next_deadline returns the earliest.
 */
#include "takeover.h"

#include "array.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* One VIP: its configuration and what the core has asked for it. */
struct tvip {
	struct conf_vip c;
	size_t group;
	bool holding;
	uint32_t announce_left;
	uint64_t announce_next, refresh_next, renew_next;
	uint8_t methods;
	uint64_t takeovers, rounds;
	uint64_t notify_runs, notify_failed, notify_dropped;
};

/* One notification: a VIP's NotifyScript for a state change. */
struct note {
	uint32_t vip;
	uint8_t state, prio;
};

/*
 * The notifications of one group, in the order of its state changes: one
 * runs (cur), the next ones wait (a ring of TAKEOVER_NOTIFY_QUEUE).
 */
struct notifier {
	bool running;
	bool killed;
	struct note cur;
	uint64_t deadline;
	struct note q[TAKEOVER_NOTIFY_QUEUE];
	size_t head, len;
};

struct takeover {
	struct takeover_params p;
	struct vip *core;
	struct tvip *v;
	size_t n;
	size_t ngroups;
	struct notifier nq[VIP_MAX_GROUPS];
	/* the advert as last handed on */
	uint8_t advert[WIRE_STATE_MAX];
	size_t advert_len;
	/* the graceful stop */
	bool stopping;	   /* takeover_stop was called */
	bool handing_over; /* ... and the hand-over is not over yet */
	bool stop_result;  /* what takeover_stop returned */
	uint64_t stop_deadline, next_push;
	uint64_t drain_until; /* handed over: stop then (0: not yet handed over) */
};

/* ---- the action list ---- */

void takeover_actions_init(struct takeover_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void takeover_actions_free(struct takeover_actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void takeover_actions_reset(struct takeover_actions *a)
{
	a->n = 0;
}

static struct takeover_action *push(struct takeover_actions *a, enum takeover_action_type type)
{
	struct takeover_action *act =
	    array_append((void **)&a->v, &a->n, &a->cap, sizeof(*a->v), 16,
			 offsetof(struct takeover_action, text) + 1, &a->dropped);
	if (!act)
		return NULL;
	act->type = (uint8_t)type;
	return act;
}

static void tk_log(struct takeover_actions *a, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void tk_log(struct takeover_actions *a, enum log_level level, const char *fmt, ...)
{
	struct takeover_action *act = push(a, TK_LOG);
	if (!act)
		return;
	act->level = (uint8_t)level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(act->text, sizeof(act->text), fmt, ap);
	va_end(ap);
}

static void vip_action(struct takeover_actions *a, enum takeover_action_type type,
		       const struct takeover *t, const struct tvip *x)
{
	struct takeover_action *act = push(a, type);
	if (act) {
		act->vip = (uint32_t)(x - t->v);
		act->group = (uint16_t)x->group;
	}
}

/* ---- our advert ---- */

/* Hand our advert on when it changed, or push it. */
static void advert(struct takeover *t, bool push_now, struct takeover_actions *out)
{
	uint8_t buf[WIRE_STATE_MAX];
	size_t len = vip_advert(t->core, buf, sizeof(buf));
	bool changed = len != t->advert_len || memcmp(buf, t->advert, len) != 0;
	if (!changed && !push_now)
		return;
	memcpy(t->advert, buf, len);
	t->advert_len = len;
	struct takeover_action *act = push(out, TK_ADVERT);
	if (act)
		act->push = push_now;
}

/* ---- the NotifyScript ---- */

static void notify_next(struct takeover *t, size_t g, uint64_t now, struct takeover_actions *out)
{
	struct notifier *q = &t->nq[g];
	if (q->running || q->len == 0)
		return;
	q->cur = q->q[q->head];
	q->head = (q->head + 1) % TAKEOVER_NOTIFY_QUEUE;
	q->len--;
	q->running = true;
	q->killed = false;
	q->deadline = now + TAKEOVER_NOTIFY_TIMEOUT_MS;
	t->v[q->cur.vip].notify_runs++;
	struct takeover_action *act = push(out, TK_NOTIFY_RUN);
	if (act) {
		act->vip = q->cur.vip;
		act->group = (uint16_t)g;
		act->state = q->cur.state;
		act->priority = q->cur.prio;
	}
}

/*
 * Queue x's NotifyScript for a change to state. When the queue is full the
 * oldest waiting one is dropped (the newest says where the group is now).
 */
static void notify(struct takeover *t, struct tvip *x, uint8_t state, uint8_t prio, uint64_t now,
		   struct takeover_actions *out)
{
	if (!x->c.notify[0])
		return;
	struct notifier *q = &t->nq[x->group];
	if (q->len == TAKEOVER_NOTIFY_QUEUE) {
		const struct note *old = &q->q[q->head];
		struct tvip *ox = &t->v[old->vip];
		ox->notify_dropped++;
		tk_log(out, LOGL_WARNING,
		       "event=notify_dropped vip=%s group=%s state=%s reason=queue_full "
		       "waiting=%d dropped=%llu",
		       ox->c.name, ox->c.group, vip_state_name(old->state), TAKEOVER_NOTIFY_QUEUE,
		       (unsigned long long)ox->notify_dropped);
		q->head = (q->head + 1) % TAKEOVER_NOTIFY_QUEUE;
		q->len--;
	}
	q->q[(q->head + q->len) % TAKEOVER_NOTIFY_QUEUE] =
	    (struct note){.vip = (uint32_t)(x - t->v), .state = state, .prio = prio};
	q->len++;
	notify_next(t, x->group, now, out);
}

int takeover_script_done(struct takeover *t, size_t group, enum takeover_script_result r,
			 uint64_t now, struct takeover_actions *append)
{
	if (group >= t->ngroups || !t->nq[group].running) {
		errno = EINVAL;
		return -1;
	}
	struct notifier *q = &t->nq[group];
	if (q->cur.vip < t->n) { /* else its VIP went away in a reload */
		struct tvip *x = &t->v[q->cur.vip];
		if (r != TK_SCRIPT_OK)
			x->notify_failed++;
		if (r == TK_SCRIPT_NOT_STARTED)
			x->notify_runs--; /* counted when asked for; it never ran */
	}
	q->running = false;
	q->killed = false;
	notify_next(t, group, now, append);
	return 0;
}

/* ---- announcing, taking, giving ---- */

/* One round for x; the methods: Announce=, flush requests only in the takeover's round. */
static void announce(struct takeover *t, struct tvip *x, enum takeover_round round,
		     struct takeover_actions *out)
{
	uint8_t m = x->c.announce;
	if (round != TR_TAKEOVER || !t->p.flush)
		m &= (uint8_t)~ANN_FLUSH;
	if (round == TR_TAKEOVER)
		x->methods = m;
	x->rounds++;
	struct takeover_action *act = push(out, TK_ANNOUNCE);
	if (act) {
		act->vip = (uint32_t)(x - t->v);
		act->group = (uint16_t)x->group;
		act->round = (uint8_t)round;
		act->methods = m;
	}
}

static void take(struct takeover *t, struct tvip *x, uint64_t now, struct takeover_actions *out)
{
	vip_action(out, TK_TAKE, t, x);
	x->takeovers++;
	x->holding = true;
	announce(t, x, TR_TAKEOVER, out);
	x->announce_left = x->c.announce_count > 0 ? x->c.announce_count - 1 : 0;
	x->announce_next = now + x->c.announce_interval_ms;
	x->refresh_next = x->c.refresh_interval_ms ? now + x->c.refresh_interval_ms : 0;
	x->renew_next = now + TAKEOVER_LEASE_RENEW_MS;
}

static void stop_schedule(struct tvip *x)
{
	x->holding = false;
	x->announce_left = 0;
	x->refresh_next = 0;
}

static void give(struct takeover *t, struct tvip *x, struct takeover_actions *out)
{
	if (!x->holding)
		return;
	vip_action(out, TK_GIVE, t, x);
	stop_schedule(x);
}

void takeover_take_failed(struct takeover *t, size_t vip)
{
	if (vip < t->n)
		stop_schedule(&t->v[vip]);
}

/* Carry out what core/vip decided, then hand our advert on. */
static void vip_out(struct takeover *t, const struct vip_out *o, uint64_t now,
		    struct takeover_actions *out)
{
	char ip[IP4_STRLEN];
	uint64_t groups = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].type == VE_STATE && o->v[i].state == VIP_MASTER)
			groups |= 1ull << o->v[i].group;
	if (groups) {
		/* the connections first, then the address (no resets in between) */
		struct takeover_action *act = push(out, TK_PREPARE);
		if (act)
			act->groups = groups;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct vip_ev *e = &o->v[i];
		struct vip_group_view gv;
		if (vip_group(t->core, e->group, now, &gv) < 0)
			continue;
		if (e->type == VE_STATE) {
			struct takeover_action *act = push(out, TK_STATE);
			if (act) {
				act->group = e->group;
				act->state = e->state;
				act->prev = e->prev;
				act->owner = e->owner;
			}
		}
		for (size_t k = 0; k < t->n; k++) {
			struct tvip *x = &t->v[k];
			if (x->group != e->group)
				continue;
			if (e->type == VE_REASSERT) {
				tk_log(out, LOGL_INFO,
				       "event=vip_reassert vip=%s address=%s action=announce "
				       "msg=\"another node claimed it too\"",
				       x->c.name, ip4_fmt(x->c.addr.addr, ip));
				announce(t, x, TR_REASSERT, out);
				continue;
			}
			if (e->state == VIP_MASTER)
				take(t, x, now, out);
			else if (e->prev == VIP_MASTER)
				give(t, x, out);
			tk_log(out, LOGL_NOTICE,
			       "event=vip_%s vip=%s address=%s/%u group=%s priority=%u "
			       "owner=%u previous=%s",
			       vip_state_name(e->state), x->c.name, ip4_fmt(x->c.addr.addr, ip),
			       x->c.addr.len, x->c.group, gv.priority, e->owner,
			       vip_state_name(e->prev));
			notify(t, x, e->state, gv.priority, now, out);
		}
	}
	advert(t, o->push, out);
}

/* ---- life ---- */

/*
 * The groups of vips: groups[0..*ng-1], of[k] the group of vips[k]. 0, or
 * -1/EINVAL with err "LINE: more than 64 VIP groups".
 */
static int make_groups(const struct conf_vip *vips, size_t n, struct vip_group_conf *groups,
		       size_t *ng_out, size_t *of, char *err, size_t errlen)
{
	size_t ng = 0;
	for (size_t k = 0; k < n; k++) {
		const struct conf_vip *c = &vips[k];
		size_t g;
		for (g = 0; g < ng; g++)
			if (strcmp(groups[g].name, c->group) == 0)
				break;
		if (g == ng) {
			if (ng == VIP_MAX_GROUPS) {
				if (err && errlen)
					snprintf(err, errlen, "%d: more than %d VIP groups",
						 c->line, VIP_MAX_GROUPS);
				errno = EINVAL;
				return -1;
			}
			struct vip_group_conf *gc = &groups[ng++];
			memset(gc, 0, sizeof(*gc));
			snprintf(gc->name, sizeof(gc->name), "%s", c->group);
			gc->priority = c->priority;
			gc->preempt = c->preempt;
			gc->preempt_delay_ms = c->preempt_delay_ms;
		}
		of[k] = g;
	}
	*ng_out = ng;
	return 0;
}

struct takeover *takeover_new(const struct takeover_params *p, const struct conf_vip *vips,
			      size_t n, uint64_t now, char *err, size_t errlen)
{
	struct vip_group_conf groups[VIP_MAX_GROUPS];
	size_t ng = 0;
	size_t *of = n ? calloc(n, sizeof(*of)) : NULL;
	if (n && !of)
		return NULL;
	if (make_groups(vips, n, groups, &ng, of, err, errlen) < 0) {
		free(of);
		return NULL;
	}
	struct takeover *t = calloc(1, sizeof(*t));
	if (!t || (n && !(t->v = calloc(n, sizeof(*t->v))))) {
		free(t);
		free(of);
		return NULL;
	}
	struct vip_params vp = {.self_id = p->self_id, .interval_ms = p->interval_ms};
	t->core = vip_new(&vp, groups, ng, now);
	if (!t->core) {
		int e = errno;
		free(t->v);
		free(t);
		free(of);
		errno = e;
		return NULL;
	}
	t->p = *p;
	t->n = n;
	t->ngroups = ng;
	for (size_t k = 0; k < n; k++) {
		t->v[k].c = vips[k];
		t->v[k].group = of[k];
	}
	free(of);
	return t;
}

/* A VIP that stays where it is across a reload: the same address on the same link, same group. */
static bool same_place(const struct conf_vip *a, const struct conf_vip *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->group, b->group) == 0 &&
	       a->addr.addr == b->addr.addr && a->addr.len == b->addr.len &&
	       strcmp(a->iface, b->iface) == 0 && a->vmac == b->vmac && a->vrid == b->vrid;
}

static int tvip_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct tvip *const *)a)->c.name,
		      (*(const struct tvip *const *)b)->c.name);
}

/* bsearch's: a name against an element of an array sorted by tvip_name_cmp */
static int tvip_name_key(const void *key, const void *elem)
{
	return strcmp(*(const char *const *)key, (*(const struct tvip *const *)elem)->c.name);
}

/* The VIP named name in v[0..n-1] (sorted by name), or NULL. */
static const struct tvip *find_by_name(const struct tvip *const *v, size_t n, const char *name)
{
	const struct tvip *const *x = n ? bsearch(&name, v, n, sizeof(*v), tvip_name_key) : NULL;
	return x ? *x : NULL;
}

int takeover_reconf(struct takeover *t, const struct takeover_params *p,
		    const struct conf_vip *vips, size_t n, uint64_t now,
		    struct takeover_actions *gone, struct takeover_actions *append, int *vmap,
		    int *gmap, char *err, size_t errlen)
{
	if (p->self_id != t->p.self_id || p->interval_ms != t->p.interval_ms || t->stopping) {
		if (err && errlen)
			snprintf(err, errlen, "%s",
				 t->stopping ? "stopping"
					     : "NodeID= or HeartbeatInterval= changed");
		errno = t->stopping ? EBUSY : EINVAL;
		return -1;
	}
	struct vip_group_conf groups[VIP_MAX_GROUPS];
	size_t ng = 0;
	size_t *of = n ? calloc(n, sizeof(*of)) : NULL;
	struct tvip *nv = n ? calloc(n, sizeof(*nv)) : NULL;
	int *from = n ? calloc(n, sizeof(*from)) : NULL; /* new VIP k: its old index or -1 */
	/* the old VIPs by name (a VIP's name is unique): a reload of 1000 VIPs stays quick */
	const struct tvip **by_name = t->n ? calloc(t->n, sizeof(*by_name)) : NULL;
	struct vip_out o;
	int rc = -1;
	if ((n && (!of || !nv || !from)) || (t->n && !by_name))
		errno = ENOMEM;
	else if (make_groups(vips, n, groups, &ng, of, err, errlen) == 0)
		rc = vip_reconf(t->core, groups, ng, now, gmap, &o);
	if (rc < 0) {
		if (errno == EINVAL && err && errlen && !err[0])
			snprintf(err, errlen, "bad VIP groups");
		free(of);
		free(nv);
		free(from);
		free(by_name);
		return -1;
	}
	/* which VIPs stay in place; the others' addresses go back first (old indices) */
	for (size_t k = 0; k < t->n; k++)
		vmap[k] = -1;
	for (size_t i = 0; i < t->n; i++)
		by_name[i] = &t->v[i];
	if (t->n)
		qsort(by_name, t->n, sizeof(*by_name), tvip_name_cmp);
	for (size_t k = 0; k < n; k++) {
		const struct tvip *x = find_by_name(by_name, t->n, vips[k].name);
		size_t i = x ? (size_t)(x - t->v) : 0;
		from[k] = -1;
		if (x && vmap[i] < 0 && same_place(&x->c, &vips[k])) {
			from[k] = (int)i;
			vmap[i] = (int)k;
		}
	}
	free(by_name);
	char ip[IP4_STRLEN];
	for (size_t i = 0; i < t->n; i++) {
		if (vmap[i] >= 0)
			continue;
		struct tvip *x = &t->v[i];
		tk_log(gone, LOGL_NOTICE, "event=reload vip=%s address=%s/%u group=%s action=%s",
		       x->c.name, ip4_fmt(x->c.addr.addr, ip), x->c.addr.len, x->c.group,
		       x->holding ? "release" : "remove");
		give(t, x, gone);
	}
	/* the new list: kept VIPs keep their schedule and counters, with the new settings */
	for (size_t k = 0; k < n; k++) {
		if (from[k] >= 0) {
			nv[k] = t->v[from[k]];
			struct tvip *x = &nv[k];
			if (x->holding && x->c.refresh_interval_ms != vips[k].refresh_interval_ms)
				x->refresh_next = vips[k].refresh_interval_ms
						      ? now + vips[k].refresh_interval_ms
						      : 0;
			if (x->announce_left > vips[k].announce_count)
				x->announce_left = vips[k].announce_count;
		}
		nv[k].c = vips[k];
		nv[k].group = of[k];
	}
	/* the notifications: by the new groups; those of gone VIPs are dropped */
	struct notifier nq[VIP_MAX_GROUPS];
	memset(nq, 0, sizeof(nq));
	for (size_t g = 0; g < t->ngroups; g++) {
		struct notifier *q = &t->nq[g];
		if (gmap[g] < 0)
			continue;
		struct notifier *d = &nq[gmap[g]];
		d->running = q->running;
		d->killed = q->killed;
		d->deadline = q->deadline;
		d->cur = q->cur;
		d->cur.vip = q->running && vmap[q->cur.vip] >= 0 ? (uint32_t)vmap[q->cur.vip]
								 : TAKEOVER_NO_VIP;
		for (size_t i = 0; i < q->len; i++) {
			struct note nt = q->q[(q->head + i) % TAKEOVER_NOTIFY_QUEUE];
			if (vmap[nt.vip] < 0)
				continue;
			nt.vip = (uint32_t)vmap[nt.vip];
			d->q[d->len++] = nt;
		}
	}
	free(t->v);
	t->v = nv;
	t->n = n;
	t->ngroups = ng;
	t->p = *p;
	memcpy(t->nq, nq, sizeof(nq));
	/* a VIP new to a group that is ours (and stays ours): the address now */
	uint64_t changed = 0, take_groups = 0;
	for (size_t i = 0; i < o.n; i++)
		if (o.v[i].type == VE_STATE)
			changed |= 1ull << o.v[i].group;
	for (size_t k = 0; k < n; k++) {
		struct vip_group_view gv;
		if (from[k] < 0 && !(changed & (1ull << of[k])) &&
		    vip_group(t->core, of[k], now, &gv) == 0 && gv.state == VIP_MASTER)
			take_groups |= 1ull << of[k];
	}
	if (take_groups) {
		struct takeover_action *act = push(append, TK_PREPARE);
		if (act)
			act->groups = take_groups;
		for (size_t k = 0; k < n; k++)
			if (from[k] < 0 && (take_groups & (1ull << of[k]))) {
				tk_log(append, LOGL_NOTICE,
				       "event=reload vip=%s address=%s/%u group=%s action=take",
				       nv[k].c.name, ip4_fmt(nv[k].c.addr.addr, ip),
				       nv[k].c.addr.len, nv[k].c.group);
				take(t, &nv[k], now, append);
			}
	}
	free(of);
	free(from);
	vip_out(t, &o, now, append);
	return 0;
}

void takeover_free(struct takeover *t)
{
	if (!t)
		return;
	vip_free(t->core);
	free(t->v);
	free(t);
}

/* ---- inputs ---- */

int takeover_on_advert(struct takeover *t, uint32_t node, const uint8_t *buf, size_t len,
		       uint64_t now, struct takeover_actions *append)
{
	struct vip_out o;
	if (vip_on_advert(t->core, node, buf, len, now, &o) < 0)
		return -1;
	vip_out(t, &o, now, append);
	return 0;
}

void takeover_set_fault(struct takeover *t, size_t group, bool fault, uint64_t now,
			struct takeover_actions *append)
{
	struct vip_out o;
	vip_set_fault(t->core, group, fault, now, &o);
	vip_out(t, &o, now, append);
}

void takeover_set_demote(struct takeover *t, size_t group, uint8_t demote, uint64_t now,
			 struct takeover_actions *append)
{
	struct vip_out o;
	vip_set_demote(t->core, group, demote, now, &o);
	vip_out(t, &o, now, append);
}

void takeover_set_link(struct takeover *t, bool up, uint64_t now, struct takeover_actions *append)
{
	struct vip_out o;
	vip_set_link(t->core, up, now, &o);
	vip_out(t, &o, now, append);
}

/* ---- timers ---- */

void takeover_tick(struct takeover *t, uint64_t now, struct takeover_actions *append)
{
	struct vip_out o;
	vip_tick(t->core, now, &o);
	vip_out(t, &o, now, append);
	for (size_t k = 0; k < t->n; k++) {
		struct tvip *x = &t->v[k];
		if (!x->holding)
			continue;
		if (x->announce_left && now >= x->announce_next) {
			announce(t, x, TR_REPEAT, append);
			x->announce_left--;
			x->announce_next = now + x->c.announce_interval_ms;
		}
		if (x->refresh_next && now >= x->refresh_next) {
			announce(t, x, TR_REFRESH, append);
			x->refresh_next = now + x->c.refresh_interval_ms;
		}
		if (now >= x->renew_next) {
			vip_action(append, TK_RENEW, t, x);
			x->renew_next = now + TAKEOVER_LEASE_RENEW_MS;
		}
	}
	for (size_t g = 0; g < t->ngroups; g++) {
		struct notifier *q = &t->nq[g];
		if (q->running && !q->killed && now >= q->deadline) {
			struct takeover_action *act = push(append, TK_NOTIFY_KILL);
			if (act) {
				act->vip = q->cur.vip;
				act->group = (uint16_t)g;
				act->state = q->cur.state;
				act->priority = q->cur.prio;
			}
			q->killed = true;
		}
	}
	if (t->handing_over && now >= t->next_push) {
		advert(t, true, append); /* keep saying we are leaving until someone took over */
		t->next_push = now + TAKEOVER_PUSH_EVERY_MS;
	}
}

static void earlier(uint64_t *next, uint64_t t)
{
	if (t < *next)
		*next = t;
}

uint64_t takeover_next_deadline(const struct takeover *t)
{
	uint64_t next = vip_next_deadline(t->core);
	for (size_t k = 0; k < t->n; k++) {
		const struct tvip *x = &t->v[k];
		if (!x->holding)
			continue;
		if (x->announce_left)
			earlier(&next, x->announce_next);
		if (x->refresh_next)
			earlier(&next, x->refresh_next);
		earlier(&next, x->renew_next);
	}
	for (size_t g = 0; g < t->ngroups; g++)
		if (t->nq[g].running && !t->nq[g].killed)
			earlier(&next, t->nq[g].deadline);
	if (t->handing_over) {
		earlier(&next, t->next_push);
		earlier(&next, t->drain_until ? t->drain_until : t->stop_deadline);
	}
	return next;
}

/* ---- stopping ---- */

bool takeover_stop(struct takeover *t, uint64_t now, struct takeover_actions *append)
{
	if (t->stopping)
		return t->stop_result;
	t->stopping = true;
	bool held = false;
	for (size_t k = 0; k < t->n; k++)
		held |= t->v[k].holding;
	struct vip_out o;
	vip_shutdown(t->core, now, &o);
	advert(t, true, append);
	if (!held)
		return t->stop_result = false;
	uint64_t ivl = t->p.interval_ms;
	t->stop_deadline =
	    now + (3 * ivl > TAKEOVER_HANDOVER_MIN_MS ? 3 * ivl : TAKEOVER_HANDOVER_MIN_MS);
	t->next_push = now + TAKEOVER_PUSH_FIRST_MS;
	t->handing_over = true;
	tk_log(append, LOGL_NOTICE,
	       "event=handover action=start msg=\"handing the VIPs over before stopping\"");
	return t->stop_result = true;
}

bool takeover_stopped(struct takeover *t, uint64_t now, struct takeover_actions *append)
{
	if (!t->handing_over)
		return true;
	bool taken = false;
	if (t->drain_until) {
		if (now < t->drain_until)
			return false;
		tk_log(append, LOGL_NOTICE, "event=handover action=done");
	} else if (vip_handed_over(t->core, now, &taken)) {
		if (taken) { /* another node has them: they stay a little longer */
			tk_log(append, LOGL_INFO, "event=handover action=drain ms=%d",
			       TAKEOVER_DRAIN_MS);
			t->drain_until = now + TAKEOVER_DRAIN_MS;
			return false;
		}
		tk_log(append, LOGL_NOTICE, "event=handover action=done");
	} else if (now >= t->stop_deadline) {
		tk_log(append, LOGL_WARNING,
		       "event=handover action=timeout msg=\"nobody took the VIPs over in time; "
		       "stopping anyway\"");
	} else {
		return false;
	}
	t->handing_over = false;
	return true;
}

void takeover_release(struct takeover *t, struct takeover_actions *append)
{
	for (size_t k = 0; k < t->n; k++)
		give(t, &t->v[k], append);
	for (size_t g = 0; g < t->ngroups; g++) {
		struct notifier *q = &t->nq[g];
		for (size_t i = 0; i < q->len; i++) {
			const struct note *nt = &q->q[(q->head + i) % TAKEOVER_NOTIFY_QUEUE];
			struct tvip *x = &t->v[nt->vip];
			x->notify_dropped++;
			tk_log(append, LOGL_WARNING,
			       "event=notify_dropped vip=%s group=%s state=%s reason=stopping",
			       x->c.name, x->c.group, vip_state_name(nt->state));
		}
		q->len = 0;
	}
}

size_t takeover_advert(const struct takeover *t, uint8_t *buf, size_t cap)
{
	return vip_advert(t->core, buf, cap);
}

/* ---- views ---- */

const struct vip *takeover_vip_core(const struct takeover *t)
{
	return t->core;
}

size_t takeover_vips(const struct takeover *t)
{
	return t->n;
}

int takeover_vip(const struct takeover *t, size_t vip, struct takeover_vip_view *out)
{
	if (vip >= t->n) {
		errno = EINVAL;
		return -1;
	}
	const struct tvip *x = &t->v[vip];
	*out = (struct takeover_vip_view){
	    .group = x->group,
	    .holding = x->holding,
	    .methods = x->methods,
	    .announce_left = x->announce_left,
	    .announce_next = x->announce_next,
	    .refresh_next = x->refresh_next,
	    .renew_next = x->renew_next,
	    .takeovers = x->takeovers,
	    .rounds = x->rounds,
	    .notify_runs = x->notify_runs,
	    .notify_failed = x->notify_failed,
	    .notify_dropped = x->notify_dropped,
	};
	return 0;
}

int takeover_notify(const struct takeover *t, size_t group, struct takeover_notify_view *out)
{
	if (group >= t->ngroups) {
		errno = EINVAL;
		return -1;
	}
	const struct notifier *q = &t->nq[group];
	*out = (struct takeover_notify_view){
	    .running = q->running,
	    .killed = q->killed,
	    .vip = q->cur.vip,
	    .state = q->cur.state,
	    .priority = q->cur.prio,
	    .deadline = q->running && !q->killed ? q->deadline : 0,
	    .waiting = q->len,
	};
	return 0;
}

bool takeover_handing_over(const struct takeover *t)
{
	return t->handing_over;
}
