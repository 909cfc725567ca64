/*
 * sim: the virtual clock, the virtual network and the nodes. See sim.h.
 *
 * One event queue (a binary heap ordered by time, then by the order of
 * scheduling) holds datagram arrivals and node deadlines. A node's
 * deadline is re-read after every call on it; an armed deadline that
 * changed is superseded by a new event, and the old one is recognised as
 * stale by its token when it pops.
 */
#include "sim.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum ev_kind { EV_ARRIVAL, EV_DEADLINE, EV_SCRIPT };

struct ev {
	uint64_t t;
	uint64_t order; /* ties: first scheduled, first run */
	uint8_t kind;
	unsigned node;
	uint64_t token; /* EV_DEADLINE, EV_SCRIPT: valid while it equals the node's */
	uint8_t *buf;	/* EV_ARRIVAL: owned by the event */
	size_t len;	/* EV_SCRIPT: the group */
	uint8_t path;	/* EV_ARRIVAL: the path it travels on */
};

/* The NotifyScript a group of a node runs, as the shell sees it. */
struct script {
	bool killed;
	uint64_t token; /* of its EV_SCRIPT (the end); 0: none runs */
};

struct node {
	struct cluster *c; /* NULL while crashed */
	unsigned gen;
	uint8_t links;	/* bit p: its own link of path p is up (cluster_set_path_link) */
	uint8_t pcut;	/* bit p: path p is cut between it and the switch (it is not told) */
	uint64_t armed; /* the deadline an event is queued for; UINT64_MAX: none */
	uint64_t token;
	uint64_t last_hb;
	struct cluster_stats acc; /* of the clusters it ran before */
	/* failover */
	struct takeover *tk; /* NULL without VIPs or while crashed */
	struct conf_vip *vips;
	bool stopping;
	struct script sc[VIP_MAX_GROUPS];
	uint64_t script_token;
	struct ranges *rg; /* NULL without buckets or while crashed */
};

struct sim {
	struct sim_params p;
	uint64_t now;
	uint64_t rng;
	uint64_t order;
	struct ev *heap;
	size_t nheap, capheap;
	struct node node[SIM_MAX_NODES];
	uint32_t cut[SIM_MAX_NODES]; /* cut[i] bit j: i -> j is cut */
	struct cluster_actions acts;
	struct takeover_actions tka;
	struct ranges_actions rga;
	struct sim_rec *rec;
	size_t nrec, caprec;
	struct sim_fo_rec *fo;
	size_t nfo, capfo;
	struct sim_counts counts; /* the network's and the records' part */
	sim_tap_fn *tap;
	void *tap_arg;
};

static const struct wire_key key = {{
    0x61, 0x72, 0x70, 0x68, 0x61, 0x2d, 0x73, 0x69, 0x6d, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31,
    0x9e, 0x37, 0x79, 0xb9, 0x7f, 0x4a, 0x7c, 0x15, 0xbf, 0x58, 0x47, 0x6d, 0x1c, 0xe4, 0xe5, 0xb9,
}};

const struct wire_key *sim_key(void)
{
	return &key;
}

/* ---- PRNG: splitmix64 seeds xorshift64* ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sim_rand(struct sim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
}

uint64_t sim_rand_below(struct sim *s, uint64_t n)
{
	return n ? sim_rand(s) % n : 0;
}

/* Uniform in [0, 1). */
static double rand_unit(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

static bool chance(struct sim *s, double p)
{
	return p > 0 && rand_unit(s) < p;
}

/* ---- the event heap ---- */

static bool ev_before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static int heap_push(struct sim *s, struct ev e)
{
	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? s->capheap * 2 : 256;
		struct ev *h = realloc(s->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		s->heap = h;
		s->capheap = cap;
	}
	e.order = s->order++;
	size_t i = s->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!ev_before(&e, &s->heap[up]))
			break;
		s->heap[i] = s->heap[up];
		i = up;
	}
	s->heap[i] = e;
	return 0;
}

static struct ev heap_pop(struct sim *s)
{
	struct ev top = s->heap[0];
	struct ev last = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct ev *best = &last;
		if (l < n && ev_before(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (r < n && ev_before(&s->heap[r], best))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

/* ---- the network ---- */

static void schedule_copy(struct sim *s, unsigned to, unsigned path, const uint8_t *buf, size_t len,
			  uint64_t at)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, buf, len);
	struct ev e = {.t = at,
		       .kind = EV_ARRIVAL,
		       .node = to,
		       .buf = copy,
		       .len = len,
		       .path = (uint8_t)path};
	if (heap_push(s, e) < 0)
		free(copy);
}

static uint64_t arrival_time(struct sim *s)
{
	return s->now + s->p.delay_ms + sim_rand_below(s, (uint64_t)s->p.jitter_ms + 1);
}

static void transmit(struct sim *s, unsigned from, unsigned to, unsigned path, const uint8_t *buf,
		     size_t len)
{
	s->counts.transmitted++;
	if (path < CLUSTER_MAX_PATHS)
		s->counts.path_transmitted[path]++;
	if (!sim_path_linked(s, from, to, path) || !s->node[to].c) {
		s->counts.cut++;
		return;
	}
	if (chance(s, s->p.loss)) {
		s->counts.lost++;
		return;
	}
	schedule_copy(s, to, path, buf, len, arrival_time(s));
	if (chance(s, s->p.dup)) {
		s->counts.duplicated++;
		schedule_copy(s, to, path, buf, len, arrival_time(s));
	}
}

/* Whether n's end of path passes datagrams: its link up and the path not cut there. */
static bool path_open(const struct node *n, unsigned path)
{
	return path < CLUSTER_MAX_PATHS && (n->links & (1u << path)) && !(n->pcut & (1u << path));
}

bool sim_path_linked(const struct sim *s, unsigned from, unsigned to, unsigned path)
{
	return path < s->p.n_paths && path_open(&s->node[from], path) &&
	       path_open(&s->node[to], path) && !(s->cut[from] & (1u << to));
}

bool sim_linked(const struct sim *s, unsigned from, unsigned to)
{
	for (unsigned p = 0; p < s->p.n_paths; p++)
		if (sim_path_linked(s, from, to, p))
			return true;
	return false;
}

/* ---- the nodes ---- */

static void add_stats(struct cluster_stats *acc, const struct cluster_stats *st)
{
	acc->rx_datagrams += st->rx_datagrams;
	acc->tx_datagrams += st->tx_datagrams;
	for (size_t i = 0; i < WR__COUNT; i++)
		acc->drops[i] += st->drops[i];
	acc->malformed_payload += st->malformed_payload;
	for (size_t i = 0; i < WS__COUNT; i++)
		acc->state_drops[i] += st->state_drops[i];
	acc->states_sent += st->states_sent;
	acc->states_received += st->states_received;
	acc->heartbeats_sent += st->heartbeats_sent;
	acc->heartbeats_received += st->heartbeats_received;
	acc->naks_sent += st->naks_sent;
	acc->naks_received += st->naks_received;
	acc->gones_sent += st->gones_sent;
	acc->data_sent += st->data_sent;
	acc->data_resent += st->data_resent;
	for (size_t p = 0; p < CLUSTER_MAX_PATHS; p++) {
		acc->path_rx[p] += st->path_rx[p];
		acc->path_tx[p] += st->path_tx[p];
		acc->path_downs[p] += st->path_downs[p];
	}
}

static void record(struct sim *s, unsigned idx, const struct cluster_action *a)
{
	if (a->type == CA_DELIVER)
		s->counts.delivered++;
	else if (a->type == CA_OUT_OF_SYNC)
		s->counts.out_of_sync++;
	else if (a->type == CA_STATE)
		s->counts.states++;
	if (s->nrec == s->caprec) {
		size_t cap = s->caprec ? s->caprec * 2 : 1024;
		struct sim_rec *v = realloc(s->rec, cap * sizeof(*v));
		if (!v)
			return;
		s->rec = v;
		s->caprec = cap;
	}
	struct sim_rec *r = &s->rec[s->nrec++];
	memset(r, 0, sizeof(*r));
	r->t = s->now;
	r->node = idx;
	r->type = a->type;
	r->peer = a->node;
	r->chan = a->chan;
	r->path = a->path;
	if (a->type == CA_DELIVER || a->type == CA_STATE) {
		r->len = a->len;
		memcpy(r->data, a->data, a->len < SIM_REC_DATA ? a->len : SIM_REC_DATA);
	}
}

/* The earlier of the deadlines of the node's cores. */
static uint64_t node_deadline(const struct node *n)
{
	uint64_t d = cluster_next_deadline(n->c);
	if (n->tk) {
		uint64_t t = takeover_next_deadline(n->tk);
		if (t < d)
			d = t;
	}
	if (n->rg) {
		uint64_t t = ranges_next_deadline(n->rg);
		if (t < d)
			d = t;
	}
	return d;
}

/* Queue a deadline event for the node if its deadline changed. */
static void arm(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	if (!n->c)
		return;
	uint64_t d = node_deadline(n);
	if (d == n->armed)
		return;
	n->token++;
	n->armed = d;
	if (d == UINT64_MAX)
		return;
	struct ev e = {
	    .t = d > s->now ? d : s->now, .kind = EV_DEADLINE, .node = idx, .token = n->token};
	if (heap_push(s, e) < 0)
		n->armed = UINT64_MAX;
}

/* ---- failover ---- */

static void fo_record(struct sim *s, unsigned idx, const struct sim_fo_rec *r)
{
	if (s->nfo == s->capfo) {
		size_t cap = s->capfo ? s->capfo * 2 : 1024;
		struct sim_fo_rec *v = realloc(s->fo, cap * sizeof(*v));
		if (!v)
			return;
		s->fo = v;
		s->capfo = cap;
	}
	struct sim_fo_rec *x = &s->fo[s->nfo++];
	*x = *r;
	x->t = s->now;
	x->node = idx;
}

static void fo_note(struct sim *s, unsigned idx, uint8_t kind, uint8_t state)
{
	fo_record(s, idx, &(struct sim_fo_rec){.kind = kind, .state = state});
}

static void script_schedule(struct sim *s, unsigned idx, size_t g, uint64_t at)
{
	struct node *n = &s->node[idx];
	n->sc[g].token = ++n->script_token;
	struct ev e = {.t = at, .kind = EV_SCRIPT, .node = idx, .token = n->sc[g].token, .len = g};
	(void)heap_push(s, e);
}

/*
 * Carry out the takeover actions of node idx, as arphad's failover would:
 * record them, move the advert into the cluster (pushes go to s->acts,
 * to be sent by apply_cluster), run and kill scripts.
 */
static void apply_takeover(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	s->counts.dropped_actions += s->tka.dropped;
	s->tka.dropped = 0;
	for (size_t i = 0; i < s->tka.n; i++) {
		const struct takeover_action *a = &s->tka.v[i];
		struct sim_fo_rec r = {.vip = a->vip, .group = a->group, .state = a->state};
		uint8_t buf[WIRE_STATE_MAX];
		size_t len;
		switch (a->type) {
		case TK_STATE:
			r.kind = SF_STATE;
			r.prev = a->prev;
			fo_record(s, idx, &r);
			break;
		case TK_PREPARE:
			r.kind = SF_PREPARE;
			r.groups = a->groups;
			fo_record(s, idx, &r);
			break;
		case TK_TAKE:
			r.kind = SF_TAKE;
			fo_record(s, idx, &r);
			break;
		case TK_GIVE:
			r.kind = SF_GIVE;
			fo_record(s, idx, &r);
			break;
		case TK_ANNOUNCE:
			r.kind = SF_ANNOUNCE;
			r.round = a->round;
			r.methods = a->methods;
			fo_record(s, idx, &r);
			break;
		case TK_RENEW:
			r.kind = SF_RENEW;
			fo_record(s, idx, &r);
			break;
		case TK_NOTIFY_RUN:
			r.kind = SF_NOTIFY_RUN;
			fo_record(s, idx, &r);
			n->sc[a->group].killed = false;
			script_schedule(s, idx, a->group, s->now + s->p.script_ms);
			break;
		case TK_NOTIFY_KILL:
			r.kind = SF_NOTIFY_KILL;
			fo_record(s, idx, &r);
			n->sc[a->group].killed = true;
			script_schedule(s, idx, a->group, s->now); /* SIGKILL: it ends at once */
			break;
		case TK_ADVERT:
			len = takeover_advert(n->tk, buf, sizeof(buf));
			if (cluster_set_state(n->c, CLUSTER_CHAN_VIP, buf, len) < 0)
				s->counts.state_errors++;
			if (a->push)
				cluster_push_state(n->c, 0, &s->acts);
			break;
		case TK_LOG:
			break;
		}
	}
}

/* Carry out the ranges actions of node idx: its state into the cluster, pushes to s->acts. */
static void apply_ranges(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	s->counts.dropped_actions += s->rga.dropped;
	s->rga.dropped = 0;
	for (size_t i = 0; i < s->rga.n; i++) {
		const struct ranges_action *a = &s->rga.v[i];
		if (a->type == RG_LOG && getenv("SIM_RANGES_LOG") && (strstr(a->text, "inherit") || strstr(a->text, "disown")))
			fprintf(stderr, "%llu node %u: %s\n", (unsigned long long)s->now, idx + 1,
				a->text);
		if (a->type != RG_STATE)
			continue;
		uint8_t buf[RANGES_STATE_MAX];
		size_t len = ranges_state_blob(n->rg, buf, sizeof(buf));
		if (cluster_set_state(n->c, CLUSTER_CHAN_RANGES, buf, len) < 0)
			s->counts.state_errors++;
		if (a->push)
			cluster_push_state(n->c, 0, &s->acts);
	}
	ranges_actions_reset(&s->rga);
}

/* Feed a cluster action to node idx's ranges; true if it took it. */
static bool feed_ranges(struct sim *s, unsigned idx, const struct cluster_action *a)
{
	struct ranges *rg = s->node[idx].rg;
	if (!rg)
		return false;
	ranges_actions_reset(&s->rga);
	switch (a->type) {
	case CA_STATE:
		if (a->chan != CLUSTER_CHAN_RANGES)
			return false;
		(void)ranges_on_state(rg, a->node, a->data, a->len, s->now, &s->rga);
		return true;
	case CA_NODE_UP:
		ranges_node_up(rg, a->node, s->now, &s->rga);
		return true;
	case CA_NODE_DOWN:
		ranges_node_down(rg, a->node, s->now, &s->rga);
		return true;
	case CA_OWN_UP:
	case CA_OWN_DOWN:
		ranges_set_link(rg, a->type == CA_OWN_UP, s->now, &s->rga);
		return true;
	default:
		return false;
	}
}

static uint64_t hb_sent(const struct node *n)
{
	return n->c ? cluster_stats(n->c)->heartbeats_sent : 0;
}

/* Carry out what node idx's cluster asked for (its failover's reactions included). */
static void apply_cluster(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	s->counts.dropped_actions += s->acts.dropped;
	s->acts.dropped = 0;
	/* by index: the failover's pushes are appended while we go */
	for (size_t i = 0; i < s->acts.n; i++) {
		const struct cluster_action *a = &s->acts.v[i];
		switch (a->type) {
		case CA_SEND_ALL:
			if (s->tap)
				s->tap(s->tap_arg, s->now, idx, -1, a->data, a->len);
			for (unsigned j = 0; j < s->p.nodes; j++)
				if (j != idx)
					transmit(s, idx, j, a->path, a->data, a->len);
			break;
		case CA_SEND_TO:
			if (a->node == 0 || a->node > s->p.nodes || a->node - 1 == idx)
				break;
			if (!s->node[a->node - 1].c)
				s->counts.to_crashed++;
			if (s->tap)
				s->tap(s->tap_arg, s->now, idx, (int)(a->node - 1), a->data,
				       a->len);
			transmit(s, idx, a->node - 1, a->path, a->data, a->len);
			break;
		default:
			record(s, idx, a);
			if (n->rg && n->tk && a->type != CA_STATE) {
				/* both want it: the ranges' pushes may move s->acts */
				struct cluster_action copy = *a;
				if (feed_ranges(s, idx, &copy))
					apply_ranges(s, idx);
				a = &s->acts.v[i];
			} else if (feed_ranges(s, idx, a)) {
				apply_ranges(s, idx); /* a is not used after this */
				break;
			}
			if (!n->tk)
				break;
			takeover_actions_reset(&s->tka);
			if (a->type == CA_STATE && a->chan == CLUSTER_CHAN_VIP)
				(void)takeover_on_advert(n->tk, a->node, a->data, a->len, s->now,
							 &s->tka);
			else if (a->type == CA_OWN_DOWN || a->type == CA_OWN_UP)
				takeover_set_link(n->tk, a->type == CA_OWN_UP, s->now, &s->tka);
			else
				break;
			/* a is not used after this: apply_takeover may grow s->acts */
			apply_takeover(s, idx);
			break;
		}
	}
	cluster_actions_reset(&s->acts);
	takeover_actions_reset(&s->tka);
}

/* After a call on node idx: note a heartbeat it sent, re-arm it. */
static void settle(struct sim *s, unsigned idx, uint64_t hb_before)
{
	struct node *n = &s->node[idx];
	if (n->c && cluster_stats(n->c)->heartbeats_sent != hb_before)
		n->last_hb = s->now;
	arm(s, idx);
}

/* Carry out what node idx asked for in the last call, then re-arm it. */
static void apply(struct sim *s, unsigned idx, uint64_t hb_before)
{
	apply_cluster(s, idx);
	settle(s, idx, hb_before);
}

/* Run the node's takeover call that filled s->tka, and send what it pushed. */
static void apply_fo(struct sim *s, unsigned idx)
{
	apply_takeover(s, idx);
	takeover_actions_reset(&s->tka);
	apply_cluster(s, idx);
}

static void free_node(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	add_stats(&n->acc, cluster_stats(n->c));
	cluster_free(n->c);
	n->c = NULL;
	takeover_free(n->tk);
	n->tk = NULL;
	ranges_free(n->rg);
	n->rg = NULL;
	n->stopping = false;
	memset(n->sc, 0, sizeof(n->sc));
	n->token++;
	n->armed = UINT64_MAX;
}

/* The graceful stop is over: give everything back and go. */
static void finish_stop(struct sim *s, unsigned idx, bool done)
{
	struct node *n = &s->node[idx];
	takeover_actions_reset(&s->tka);
	takeover_release(n->tk, &s->tka);
	apply_fo(s, idx);
	fo_note(s, idx, SF_STOPPED, done);
	free_node(s, idx);
}

/* After a tick of a stopping node: is the hand-over over? */
static bool stop_over(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	takeover_actions_reset(&s->tka);
	if (!takeover_stopped(n->tk, s->now, &s->tka))
		return false;
	bool done = false;
	for (size_t i = 0; i < s->tka.n; i++)
		done |= s->tka.v[i].type == TK_LOG &&
			strstr(s->tka.v[i].text, "event=handover action=done") != NULL;
	apply_fo(s, idx);
	finish_stop(s, idx, done);
	return true;
}

static int start(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	struct cluster_params cp = {
	    .node_id = sim_node_id(idx),
	    .epoch = (uint64_t)n->gen + 1,
	    .key = key,
	    .encrypt = s->p.encrypt,
	    .interval_ms = s->p.interval_ms,
	    .dead_count = s->p.dead_count,
	    .send_buffer = s->p.send_buffer,
	    .n_paths = (uint8_t)s->p.n_paths,
	};
	n->c = cluster_new(&cp);
	if (!n->c)
		return -1;
	if (s->p.n_vips) {
		struct takeover_params tp = {.self_id = sim_node_id(idx),
					     .interval_ms = s->p.interval_ms,
					     .flush = s->p.flush};
		n->tk = takeover_new(&tp, n->vips, s->p.n_vips, s->now, NULL, 0);
		if (!n->tk) {
			cluster_free(n->c);
			n->c = NULL;
			return -1;
		}
	}
	if (s->p.buckets) {
		struct ranges_params rp = {.self_id = sim_node_id(idx),
					   .incarnation = cp.epoch,
					   .buckets = s->p.buckets,
					   .weight = s->p.weight[idx] ? s->p.weight[idx] : 1,
					   .interval_ms = s->p.interval_ms,
					   .dead_count = s->p.dead_count};
		n->rg = ranges_new(&rp, s->now);
		if (!n->rg) {
			takeover_free(n->tk);
			n->tk = NULL;
			cluster_free(n->c);
			n->c = NULL;
			return -1;
		}
	}
	n->gen++;
	n->links = (uint8_t)((1u << s->p.n_paths) - 1);
	n->armed = UINT64_MAX;
	n->token++;
	if (n->tk) {
		fo_note(s, idx, SF_START, 0);
		/* the first call hands our advert on, as failover_start does */
		takeover_actions_reset(&s->tka);
		takeover_tick(n->tk, s->now, &s->tka);
		apply_fo(s, idx);
	}
	if (n->rg) {
		/* the first call hands the state on */
		ranges_actions_reset(&s->rga);
		ranges_tick(n->rg, s->now, &s->rga);
		apply_ranges(s, idx);
		apply_cluster(s, idx);
	}
	arm(s, idx);
	return 0;
}

struct sim *sim_new(const struct sim_params *p)
{
	if (p->nodes == 0 || p->nodes > SIM_MAX_NODES || p->loss < 0 || p->loss > 1 || p->dup < 0 ||
	    p->dup > 1 || p->n_paths > CLUSTER_MAX_PATHS) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0)
		return NULL;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	if (!s->p.interval_ms)
		s->p.interval_ms = 100;
	if (!s->p.dead_count)
		s->p.dead_count = 3;
	if (!s->p.send_buffer)
		s->p.send_buffer = 256;
	if (!s->p.n_paths)
		s->p.n_paths = 1;
	uint64_t x = p->seed;
	s->rng = splitmix64(&x) | 1;
	cluster_actions_init(&s->acts);
	takeover_actions_init(&s->tka);
	ranges_actions_init(&s->rga);
	for (unsigned i = 0; i < p->nodes && p->n_vips; i++) {
		struct node *n = &s->node[i];
		n->vips = calloc(p->n_vips, sizeof(*n->vips));
		if (!n->vips) {
			sim_free(s);
			return NULL;
		}
		for (size_t k = 0; k < p->n_vips; k++) {
			n->vips[k] = p->vips[k];
			if (p->priority[i])
				n->vips[k].priority = p->priority[i];
		}
	}
	s->p.vips = NULL; /* the caller's: not kept */
	for (unsigned i = 0; i < p->nodes; i++) {
		s->node[i].last_hb = UINT64_MAX;
		if (start(s, i) < 0) {
			sim_free(s);
			return NULL;
		}
	}
	return s;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->p.nodes; i++) {
		cluster_free(s->node[i].c);
		takeover_free(s->node[i].tk);
		ranges_free(s->node[i].rg);
		free(s->node[i].vips);
	}
	for (size_t i = 0; i < s->nheap; i++)
		free(s->heap[i].buf);
	free(s->heap);
	free(s->rec);
	free(s->fo);
	cluster_actions_free(&s->acts);
	takeover_actions_free(&s->tka);
	ranges_actions_free(&s->rga);
	free(s);
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

unsigned sim_nodes(const struct sim *s)
{
	return s->p.nodes;
}

uint32_t sim_node_id(unsigned idx)
{
	return idx + 1;
}

struct cluster *sim_cluster(struct sim *s, unsigned idx)
{
	return idx < s->p.nodes ? s->node[idx].c : NULL;
}

unsigned sim_generation(const struct sim *s, unsigned idx)
{
	return s->node[idx].gen;
}

uint64_t sim_last_heartbeat(const struct sim *s, unsigned idx)
{
	return s->node[idx].last_hb;
}

/* A NotifyScript ended (or was killed). */
static void script_end(struct sim *s, const struct ev *e)
{
	struct node *n = &s->node[e->node];
	size_t g = e->len;
	if (!n->tk || e->token != n->sc[g].token)
		return; /* stale */
	bool ok = !n->sc[g].killed;
	n->sc[g].token = 0;
	n->sc[g].killed = false;
	fo_record(s, e->node,
		  &(struct sim_fo_rec){.kind = SF_NOTIFY_END, .group = (uint16_t)g, .state = ok});
	uint64_t hb = hb_sent(n);
	takeover_actions_reset(&s->tka);
	(void)takeover_script_done(n->tk, g, ok ? TK_SCRIPT_OK : TK_SCRIPT_FAILED, s->now, &s->tka);
	apply_fo(s, e->node);
	settle(s, e->node, hb);
}

static void run_event(struct sim *s, struct ev *e)
{
	struct node *n = &s->node[e->node];
	if (e->kind == EV_ARRIVAL) {
		if (!n->c || !path_open(n, e->path)) {
			s->counts.cut++;
		} else {
			uint64_t hb = hb_sent(n);
			cluster_input_path(n->c, e->buf, e->len, 0, e->path, s->now, &s->acts);
			apply(s, e->node, hb);
		}
		free(e->buf);
		return;
	}
	if (e->kind == EV_SCRIPT) {
		script_end(s, e);
		return;
	}
	if (!n->c || e->token != n->token)
		return; /* stale */
	n->armed = UINT64_MAX;
	uint64_t hb = hb_sent(n);
	cluster_tick(n->c, s->now, &s->acts);
	apply_cluster(s, e->node);
	if (n->tk) {
		/* as arphad's timer: the cluster, then the failover, then the stop */
		takeover_actions_reset(&s->tka);
		takeover_tick(n->tk, s->now, &s->tka);
		apply_fo(s, e->node);
		if (n->stopping && stop_over(s, e->node))
			return; /* gone */
	}
	if (n->rg) {
		ranges_actions_reset(&s->rga);
		ranges_tick(n->rg, s->now, &s->rga);
		apply_ranges(s, e->node);
		apply_cluster(s, e->node);
	}
	bool stuck = node_deadline(n) <= s->now;
	settle(s, e->node, hb);
	if (stuck) {
		/* the tick left its own deadline due: run it again a ms later */
		s->counts.stuck++;
		if (n->armed <= s->now) {
			n->token++;
			n->armed = s->now + 1;
			struct ev again = {.t = s->now + 1,
					   .kind = EV_DEADLINE,
					   .node = e->node,
					   .token = n->token};
			if (heap_push(s, again) < 0)
				n->armed = UINT64_MAX;
		}
	}
}

void sim_run_until(struct sim *s, uint64_t t)
{
	while (s->nheap && s->heap[0].t <= t) {
		struct ev e = heap_pop(s);
		if (e.t > s->now)
			s->now = e.t;
		run_event(s, &e);
	}
	if (t > s->now)
		s->now = t;
}

int sim_broadcast(struct sim *s, unsigned idx, const void *data, size_t len)
{
	if (idx >= s->p.nodes || !s->node[idx].c)
		return -1;
	struct node *n = &s->node[idx];
	uint64_t hb = hb_sent(n);
	int rc = cluster_broadcast(n->c, data, len, s->now, &s->acts);
	apply(s, idx, hb);
	return rc;
}

void sim_set_loss(struct sim *s, double loss)
{
	s->p.loss = loss;
}

void sim_set_dup(struct sim *s, double dup)
{
	s->p.dup = dup;
}

void sim_set_delay(struct sim *s, uint32_t delay_ms, uint32_t jitter_ms)
{
	s->p.delay_ms = delay_ms;
	s->p.jitter_ms = jitter_ms;
}

void sim_partition(struct sim *s, uint32_t a, uint32_t b)
{
	for (unsigned i = 0; i < s->p.nodes; i++)
		for (unsigned j = 0; j < s->p.nodes; j++)
			if ((a & (1u << i)) && (b & (1u << j))) {
				s->cut[i] |= 1u << j;
				s->cut[j] |= 1u << i;
			}
}

void sim_heal(struct sim *s)
{
	memset(s->cut, 0, sizeof(s->cut));
}

void sim_set_link(struct sim *s, unsigned idx, bool up)
{
	sim_set_path_link(s, idx, 0, up);
}

void sim_set_path_link(struct sim *s, unsigned idx, unsigned path, bool up)
{
	struct node *n = &s->node[idx];
	if (path >= s->p.n_paths)
		return;
	if (up)
		n->links |= (uint8_t)(1u << path);
	else
		n->links &= (uint8_t) ~(1u << path);
	if (!n->c)
		return;
	uint64_t hb = hb_sent(n);
	cluster_set_path_link(n->c, path, up, s->now, &s->acts);
	apply(s, idx, hb);
}

void sim_cut_path(struct sim *s, unsigned idx, unsigned path, bool cut)
{
	struct node *n = &s->node[idx];
	if (path >= s->p.n_paths)
		return;
	if (cut)
		n->pcut |= (uint8_t)(1u << path);
	else
		n->pcut &= (uint8_t) ~(1u << path);
}

unsigned sim_paths(const struct sim *s)
{
	return s->p.n_paths;
}

bool sim_path_link_up(const struct sim *s, unsigned idx, unsigned path)
{
	return path < s->p.n_paths && (s->node[idx].links & (1u << path));
}

bool sim_path_cut(const struct sim *s, unsigned idx, unsigned path)
{
	return path < s->p.n_paths && (s->node[idx].pcut & (1u << path));
}

void sim_crash(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	if (!n->c)
		return;
	if (n->tk)
		fo_note(s, idx, SF_CRASH, 0);
	free_node(s, idx);
}

void sim_stop(struct sim *s, unsigned idx)
{
	struct node *n = &s->node[idx];
	if (!n->c || n->stopping)
		return;
	if (!n->tk) {
		sim_crash(s, idx);
		return;
	}
	uint64_t hb = hb_sent(n);
	takeover_actions_reset(&s->tka);
	bool handing_over = takeover_stop(n->tk, s->now, &s->tka);
	fo_note(s, idx, SF_STOP, handing_over);
	apply_fo(s, idx);
	if (!handing_over) {
		finish_stop(s, idx, false);
		return;
	}
	n->stopping = true;
	settle(s, idx, hb);
}

bool sim_stopping(const struct sim *s, unsigned idx)
{
	return s->node[idx].stopping;
}

struct takeover *sim_takeover(struct sim *s, unsigned idx)
{
	return idx < s->p.nodes ? s->node[idx].tk : NULL;
}

struct ranges *sim_ranges(struct sim *s, unsigned idx)
{
	return idx < s->p.nodes ? s->node[idx].rg : NULL;
}

const struct sim_fo_rec *sim_fo_records(const struct sim *s, size_t *n)
{
	*n = s->nfo;
	return s->fo;
}

void sim_restart(struct sim *s, unsigned idx)
{
	sim_crash(s, idx);
	(void)start(s, idx);
}

void sim_inject(struct sim *s, unsigned idx, const void *buf, size_t len, uint64_t at)
{
	s->counts.injected++;
	schedule_copy(s, idx, 0, buf, len, at > s->now ? at : s->now);
}

void sim_set_tap(struct sim *s, sim_tap_fn *fn, void *arg)
{
	s->tap = fn;
	s->tap_arg = arg;
}

const struct sim_rec *sim_records(const struct sim *s, size_t *n)
{
	*n = s->nrec;
	return s->rec;
}

void sim_clear_records(struct sim *s)
{
	s->nrec = 0;
}

void sim_counts(const struct sim *s, struct sim_counts *out)
{
	*out = s->counts;
	struct cluster_stats st;
	memset(&st, 0, sizeof(st));
	for (unsigned i = 0; i < s->p.nodes; i++) {
		add_stats(&st, &s->node[i].acc);
		if (s->node[i].c)
			add_stats(&st, cluster_stats(s->node[i].c));
	}
	out->heartbeats = st.heartbeats_sent;
	out->data = st.data_sent;
	out->resent = st.data_resent;
	out->naks = st.naks_sent;
	out->gones = st.gones_sent;
	out->datagrams = st.tx_datagrams;
	out->malformed = st.malformed_payload;
	for (size_t i = 0; i < WS__COUNT; i++)
		out->state_drops += st.state_drops[i];
	for (size_t i = 0; i < WR__COUNT; i++)
		out->drops[i] = st.drops[i];
	for (size_t p = 0; p < CLUSTER_MAX_PATHS; p++)
		out->path_downs[p] = st.path_downs[p];
}

/* ---- test traffic ---- */

static uint8_t filler(uint64_t counter, size_t i)
{
	return (uint8_t)(counter * 31 + i * 7);
}

size_t sim_msg_encode(uint8_t *buf, size_t cap, unsigned origin, unsigned gen, uint64_t counter,
		      size_t len)
{
	if (len < SIM_MSG_MIN)
		len = SIM_MSG_MIN;
	if (len > cap)
		return 0;
	buf[0] = 'M';
	buf[1] = (uint8_t)origin;
	buf[2] = (uint8_t)(gen >> 8);
	buf[3] = (uint8_t)gen;
	for (int i = 0; i < 8; i++)
		buf[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
	for (size_t i = SIM_MSG_MIN; i < len; i++)
		buf[i] = filler(counter, i);
	return len;
}

bool sim_msg_decode(const struct sim_rec *r, unsigned *origin, unsigned *gen, uint64_t *counter)
{
	if (r->type != CA_DELIVER || r->len < SIM_MSG_MIN || r->data[0] != 'M')
		return false;
	*origin = r->data[1];
	*gen = (unsigned)r->data[2] << 8 | r->data[3];
	uint64_t c = 0;
	for (int i = 0; i < 8; i++)
		c = c << 8 | r->data[4 + i];
	*counter = c;
	for (size_t i = SIM_MSG_MIN; i < r->len && i < SIM_REC_DATA; i++)
		if (r->data[i] != filler(c, i))
			return false;
	return true;
}

void sim_traffic_run(struct sim *s, struct sim_traffic *tr, uint32_t mask, uint32_t period_ms,
		     uint64_t until)
{
	size_t lo = tr->min_len, hi = tr->max_len;
	if (!lo && !hi) {
		lo = SIM_MSG_MIN;
		hi = 200;
	}
	uint32_t step = period_ms / s->p.nodes;
	uint8_t buf[WIRE_RB_MAX_DATA];
	for (uint64_t t = s->now + 1; t <= until; t++) {
		sim_run_until(s, t);
		for (unsigned i = 0; i < s->p.nodes; i++) {
			if (!(mask & (1u << i)) || !s->node[i].c || (t + i * step) % period_ms)
				continue;
			if (tr->gen[i] != s->node[i].gen) {
				tr->gen[i] = s->node[i].gen;
				tr->sent[i] = 0;
			}
			size_t len = lo + (size_t)sim_rand_below(s, hi - lo + 1);
			size_t n =
			    sim_msg_encode(buf, sizeof(buf), i, tr->gen[i], tr->sent[i] + 1, len);
			if (sim_broadcast(s, i, buf, n) == 0)
				tr->sent[i]++;
		}
	}
}
