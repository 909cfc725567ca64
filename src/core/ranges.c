/*
 * ranges: responsible ranges (see ranges.h for the rule and the state).
 *
 * One transition point: run() recomputes the view, releases what the aim
 * no longer gives us, claims what it gives us when nobody else may hold
 * it, and hands the state on when it changed.
 */
#include "ranges.h"

#include "array.h"
#include "be.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sets ---- */

static size_t set_bytes(uint32_t buckets)
{
	return (buckets + 7) / 8;
}

uint32_t ranges_count(const struct ranges_set *s, uint32_t buckets)
{
	uint32_t n = 0;
	for (uint32_t b = 0; b < buckets; b++)
		n += ranges_has(s, b);
	return n;
}

int ranges_format(const struct ranges_set *s, uint32_t buckets, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = '\0';
	for (uint32_t b = 0; b < buckets; b++) {
		if (!ranges_has(s, b))
			continue;
		uint32_t e = b;
		while (e + 1 < buckets && ranges_has(s, e + 1))
			e++;
		char part[32];
		int k = e == b ? snprintf(part, sizeof(part), "%s%u", len ? "," : "", b)
			       : snprintf(part, sizeof(part), "%s%u-%u", len ? "," : "", b, e);
		if (len + (size_t)k < cap)
			memcpy(buf + len, part, (size_t)k + 1);
		else if (cap)
			buf[len < cap ? len : cap - 1] = '\0';
		len += (size_t)k;
		b = e;
	}
	if (len == 0)
		return snprintf(buf, cap, "-");
	return (int)len;
}

/* ---- the aim: weighted rendezvous hashing with quotas ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * -log2(u) in Q32 for u = x / 2^64, x >= 1: in 1..64 << 32. Integer only
 * (no libm, the same on every node): the integer part from the leading
 * bit, 32 fractional bits by squaring the mantissa.
 */
static uint64_t neglog2_q32(uint64_t x)
{
	int e = 63 - __builtin_clzll(x);
	uint64_t m = e >= 62 ? x >> (e - 62) : x << (62 - e); /* [1, 2) in Q62 */
	uint64_t frac = 0;
	for (int i = 0; i < 32; i++) {
		m = (uint64_t)(((unsigned __int128)m * m) >> 62); /* [1, 4) in Q62 */
		frac <<= 1;
		if (m >> 63) { /* >= 2 */
			frac |= 1;
			m >>= 1;
		}
	}
	uint64_t l2 = ((uint64_t)e << 32) | frac; /* log2(x) in Q32 */
	return (64ull << 32) - l2;
}

/* The rendezvous hash of node and bucket b: u = x / 2^64 in (0, 1). */
static uint64_t hash(uint32_t node, uint32_t b)
{
	return mix64(mix64((uint64_t)node << 32 | b) ^ 0x72616e6765732d31ull) | 1; /* "ranges-1" */
}

/* The rendezvous draw of node for bucket b: -log2(u) in Q32. */
static uint64_t draw(uint32_t node, uint32_t b)
{
	return neglog2_q32(hash(node, b));
}

struct pair {
	uint64_t l;    /* -log2(u), Q32 */
	uint32_t w;    /* weight */
	uint32_t node; /* NodeID: ties */
	uint16_t i, b; /* member index, bucket */
};

/* Equal weights: best first is the larger u, i.e. the smaller l = ~x (no logarithm needed). */
static int pair_cmp_equal(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	if (a->l != b->l)
		return a->l < b->l ? -1 : 1;
	if (a->node != b->node)
		return a->node > b->node ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

/* Best first: higher w / l; ties by NodeID, then bucket. */
static int pair_cmp(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	uint64_t x = (uint64_t)a->w * b->l, y = (uint64_t)b->w * a->l;
	if (x != y)
		return x > y ? -1 : 1;
	if (a->node != b->node)
		return a->node > b->node ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static bool outranks(uint32_t a, uint16_t wa, uint32_t b, uint16_t wb, uint32_t k);

struct kept {
	uint64_t x; /* the node's hash of the bucket: the larger, the more it wants it */
	uint16_t b;
};

static int kept_cmp(const void *pa, const void *pb)
{
	const struct kept *a = pa, *b = pb;
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

int ranges_assign_held(const struct ranges_member *m, size_t n, uint32_t buckets,
		       const struct ranges_set *const *held, uint16_t *owner)
{
	if (n == 0 || n > RANGES_MAX_NODES || buckets < RANGES_MIN_BUCKETS ||
	    buckets > RANGES_MAX_BUCKETS) {
		errno = EINVAL;
		return -1;
	}
	uint64_t wsum = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].node == 0 || m[i].weight == 0) {
			errno = EINVAL;
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (m[j].node == m[i].node) {
				errno = EINVAL;
				return -1;
			}
		wsum += m[i].weight;
	}
	/* quotas: largest remainder; ties to the lower NodeID */
	uint32_t quota[RANGES_MAX_NODES];
	uint64_t rem[RANGES_MAX_NODES];
	uint32_t given = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t num = (uint64_t)buckets * m[i].weight;
		quota[i] = (uint32_t)(num / wsum);
		rem[i] = num % wsum;
		given += quota[i];
	}
	bool extra[RANGES_MAX_NODES] = {false};
	for (; given < buckets; given++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++) {
			if (extra[i])
				continue;
			if (best == n || rem[i] > rem[best] ||
			    (rem[i] == rem[best] && m[i].node < m[best].node))
				best = i;
		}
		extra[best] = true;
		quota[best]++;
	}
	for (uint32_t b = 0; b < buckets; b++)
		owner[b] = UINT16_MAX;
	/* what the members hold stays theirs (two holders: the higher rank), up to the quota */
	uint32_t left = buckets;
	if (held) {
		uint32_t cnt[RANGES_MAX_NODES] = {0};
		for (uint32_t b = 0; b < buckets; b++) {
			size_t best = n;
			for (size_t i = 0; i < n; i++)
				if (held[i] && ranges_has(held[i], b) &&
				    (best == n || outranks(m[i].node, m[i].weight, m[best].node,
							   m[best].weight, b)))
					best = i;
			if (best < n) {
				owner[b] = (uint16_t)best;
				cnt[best]++;
				left--;
			}
		}
		struct kept *kv = NULL;
		for (size_t i = 0; i < n; i++) {
			if (cnt[i] <= quota[i]) {
				quota[i] -= cnt[i];
				continue;
			}
			if (!kv && !(kv = malloc(buckets * sizeof(*kv))))
				return -1;
			size_t k = 0;
			for (uint32_t b = 0; b < buckets; b++)
				if (owner[b] == i)
					kv[k++] = (struct kept){hash(m[i].node, b), (uint16_t)b};
			qsort(kv, k, sizeof(*kv), kept_cmp);
			for (size_t j = 0; j < cnt[i] - quota[i]; j++) /* the ones it wants least go */
				owner[kv[j].b] = UINT16_MAX;
			left += cnt[i] - quota[i];
			quota[i] = 0;
		}
		free(kv);
		if (!left)
			return 0;
	}
	/* the rest: the pairs (node, free bucket) in order of score, each bucket to the
	   first node that still has room */
	size_t nfree = 0;
	for (uint32_t b = 0; b < buckets; b++)
		nfree += owner[b] == UINT16_MAX;
	size_t nroom = 0;
	for (size_t i = 0; i < n; i++)
		nroom += quota[i] > 0;
	struct pair *p = malloc(nroom * nfree * sizeof(*p));
	if (!p)
		return -1;
	bool equal = true;
	for (size_t i = 1; i < n; i++)
		equal &= m[i].weight == m[0].weight;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!quota[i])
			continue;
		for (uint32_t b = 0; b < buckets; b++)
			if (owner[b] == UINT16_MAX)
				p[k++] = (struct pair){.l = equal ? (uint64_t)~hash(m[i].node, b)
								  : draw(m[i].node, b),
						       .w = m[i].weight,
						       .node = m[i].node,
						       .i = (uint16_t)i,
						       .b = (uint16_t)b};
	}
	qsort(p, k, sizeof(*p), equal ? pair_cmp_equal : pair_cmp);
	for (size_t j = 0; j < k && left; j++) {
		if (owner[p[j].b] != UINT16_MAX || quota[p[j].i] == 0)
			continue;
		owner[p[j].b] = p[j].i;
		quota[p[j].i]--;
		left--;
	}
	free(p);
	return 0;
}

int ranges_assign(const struct ranges_member *m, size_t n, uint32_t buckets, uint16_t *owner)
{
	return ranges_assign_held(m, n, buckets, NULL, owner);
}

/* ---- the codec ---- */

static const char *const refusal_names[RGR__COUNT] = {
    [RGR_OK] = "ok",
    [RGR_SHORT] = "short",
    [RGR_VERSION] = "version",
    [RGR_BUCKETS] = "buckets",
    [RGR_LENGTH] = "length",
    [RGR_WEIGHT] = "weight",
    [RGR_INCARNATION] = "incarnation",
    [RGR_PADDING] = "padding",
    [RGR_NODE] = "node",
    [RGR_STALE] = "stale",
};

const char *ranges_refusal_name(enum ranges_refusal r)
{
	return (unsigned)r < RGR__COUNT ? refusal_names[r] : "?";
}

size_t ranges_encode(const struct ranges_state *st, uint8_t *buf, size_t cap)
{
	if (st->buckets < RANGES_MIN_BUCKETS || st->buckets > RANGES_MAX_BUCKETS)
		return 0;
	size_t nb = set_bytes(st->buckets), len = RANGES_HDR_LEN + nb;
	if (cap < len)
		return 0;
	buf[0] = RANGES_VERSION;
	buf[1] = st->flags;
	put16(buf + 2, st->weight);
	put16(buf + 4, st->buckets);
	put64(buf + 6, st->incarnation);
	put32(buf + 14, st->serial);
	put32(buf + 18, st->view);
	put64(buf + 22, st->digest);
	memcpy(buf + RANGES_HDR_LEN, st->claims.bit, nb);
	if (st->buckets % 8) /* the bits past the last bucket stay zero */
		buf[len - 1] &= (uint8_t)((1u << (st->buckets % 8)) - 1);
	return len;
}

enum ranges_refusal ranges_decode(const uint8_t *buf, size_t len, uint32_t buckets,
				  struct ranges_state *st)
{
	if (len < RANGES_HDR_LEN)
		return RGR_SHORT;
	if (buf[0] != RANGES_VERSION)
		return RGR_VERSION;
	uint16_t nbk = get16(buf + 4);
	if (nbk != buckets)
		return RGR_BUCKETS;
	size_t nb = set_bytes(buckets);
	if (len != RANGES_HDR_LEN + nb)
		return RGR_LENGTH;
	memset(st, 0, sizeof(*st));
	st->flags = buf[1];
	st->weight = get16(buf + 2);
	st->buckets = nbk;
	st->incarnation = get64(buf + 6);
	st->serial = get32(buf + 14);
	st->view = get32(buf + 18);
	st->digest = get64(buf + 22);
	if (st->weight == 0)
		return RGR_WEIGHT;
	if (st->incarnation == 0)
		return RGR_INCARNATION;
	if (buckets % 8 && (buf[len - 1] >> (buckets % 8)))
		return RGR_PADDING;
	memcpy(st->claims.bit, buf + RANGES_HDR_LEN, nb);
	return RGR_OK;
}

/* ---- the protocol's state ---- */

struct peer {
	uint32_t node;
	bool up, down;	  /* what the cluster said last */
	bool written_off; /* declared down with this state: others' claims may carry its id */
	bool has_state;	  /* a state of the current incarnation arrived */
	uint64_t heard;	  /* ms of its last state */
	struct ranges_state st;
	struct ranges_set aimed;
};

/* Claims of a retired incarnation or a down node not yet superseded. */
struct orphan {
	struct ranges_id id;
	struct ranges_set claims;
};

struct ranges {
	struct ranges_params p;
	uint64_t now;
	uint64_t listen_until;
	bool link_up, stopping;
	struct ranges_set mine;
	uint32_t serial;
	uint32_t view;
	uint64_t digest;
	/* the view: members and the aim */
	struct ranges_member mem[RANGES_MAX_NODES];
	uint64_t mem_inc[RANGES_MAX_NODES];
	uint32_t mem_serial[RANGES_MAX_NODES]; /* the claims the aim was computed from */
	size_t nmem;
	uint16_t aim[RANGES_MAX_BUCKETS]; /* index in mem */
	uint64_t aim_hash;		  /* of the aim's NodeIDs: in the digest */
	struct ranges_set aimed_self;
	struct peer peers[RANGES_MAX_NODES - 1];
	size_t npeers;
	struct orphan orphans[RANGES_MAX_NODES];
	size_t norphans;
	struct ranges_id dead[RANGES_MAX_NODES]; /* lives over whose heirs wait for agreement */
	size_t ndead;
	struct ranges_id inh[RANGES_MAX_BUCKETS][RANGES_INHERIT_MAX];
	uint64_t changed_at;
	uint8_t blob[RANGES_STATE_MAX];
	size_t blob_len;
	bool started; /* the first run handed the state on */
	bool decided; /* the first ownership decision is made (ranges_decided) */
	uint64_t
	    repush_at; /* a change is pushed once more then (a lost push costs less); 0: none */
	struct ranges_stats stats;
};

/* ---- the action list ---- */

void ranges_actions_init(struct ranges_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void ranges_actions_free(struct ranges_actions *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void ranges_actions_reset(struct ranges_actions *a)
{
	a->n = 0;
}

static struct ranges_action *push(struct ranges_actions *a, enum ranges_action_type type)
{
	struct ranges_action *act = array_append((void **)&a->v, &a->n, &a->cap, sizeof(*a->v), 8,
						 offsetof(struct ranges_action, text) + 1, &a->dropped);
	if (!act)
		return NULL;
	act->type = (uint8_t)type;
	return act;
}

static void rg_log(struct ranges_actions *a, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rg_log(struct ranges_actions *a, enum log_level level, const char *fmt, ...)
{
	struct ranges_action *act = push(a, RG_LOG);
	if (!act)
		return;
	act->level = (uint8_t)level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(act->text, sizeof(act->text), fmt, ap);
	va_end(ap);
}

static void set_action(struct ranges *r, struct ranges_actions *a, enum ranges_action_type type,
		       const struct ranges_set *s, uint32_t n, const struct ranges_id *from)
{
	struct ranges_action *act = push(a, type);
	if (!act)
		return;
	act->n = n;
	if (s)
		act->set = *s;
	if (from)
		act->from = *from;
	char text[160];
	if (s)
		ranges_format(s, r->p.buckets, text, sizeof(text));
	static const char *const what[] = {[RG_INHERIT] = "inherit",
					   [RG_CLAIM] = "claim",
					   [RG_RELEASE] = "release",
					   [RG_DISOWN] = "disown"};
	if (from)
		rg_log(a, LOGL_INFO,
		       "event=ranges action=%s node=%u incarnation=%llu buckets=%u%s%s", what[type],
		       from->node, (unsigned long long)from->incarnation, n, s ? " ranges=" : "",
		       s ? text : "");
	else
		rg_log(a, LOGL_INFO, "event=ranges action=%s buckets=%u ranges=%s", what[type], n,
		       text);
}

/* ---- creation ---- */

struct ranges *ranges_new(const struct ranges_params *p, uint64_t now)
{
	if (p->self_id == 0 || p->incarnation == 0 || p->buckets < RANGES_MIN_BUCKETS ||
	    p->buckets > RANGES_MAX_BUCKETS || p->weight == 0 || p->interval_ms == 0 ||
	    p->dead_count == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct ranges *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->p = *p;
	r->now = now;
	r->link_up = true;
	uint64_t listen = ((uint64_t)p->dead_count + 1) * p->interval_ms;
	r->listen_until = now + (p->listen_ms > listen ? p->listen_ms : listen);
	r->changed_at = now;
	return r;
}

void ranges_free(struct ranges *r)
{
	free(r);
}

/* ---- peers ---- */

static uint64_t dead_ms(const struct ranges *r)
{
	return (uint64_t)r->p.dead_count * r->p.interval_ms;
}

static struct peer *peer_find(struct ranges *r, uint32_t node)
{
	for (size_t i = 0; i < r->npeers; i++)
		if (r->peers[i].node == node)
			return &r->peers[i];
	return NULL;
}

static struct peer *peer_get(struct ranges *r, uint32_t node)
{
	struct peer *pr = peer_find(r, node);
	if (pr)
		return pr;
	if (r->npeers == RANGES_MAX_NODES - 1) {
		/* reuse a down one */
		for (size_t i = 0; i < r->npeers; i++)
			if (r->peers[i].down) {
				pr = &r->peers[i];
				break;
			}
		if (!pr)
			return NULL;
	} else {
		pr = &r->peers[r->npeers++];
	}
	memset(pr, 0, sizeof(*pr));
	pr->node = node;
	return pr;
}

static bool is_member(const struct peer *pr)
{
	return pr->up && !pr->down && pr->has_state &&
	       !(pr->st.flags & (RANGES_F_STOPPING | RANGES_F_LISTENING));
}

/* May it still be alive and hold what it claims? */
static bool counts(const struct ranges *r, const struct peer *pr, uint64_t now)
{
	if (!pr->has_state || pr->down)
		return false;
	return pr->up || now - pr->heard <= dead_ms(r);
}

/* ---- orphans and inheritance ---- */

static void orphan_add(struct ranges *r, const struct ranges_id *id, const struct ranges_set *s)
{
	if (ranges_count(s, r->p.buckets) == 0)
		return;
	struct orphan *o = NULL;
	for (size_t i = 0; i < r->norphans; i++)
		if (r->orphans[i].id.node == id->node &&
		    r->orphans[i].id.incarnation == id->incarnation)
			o = &r->orphans[i];
	if (!o) {
		if (r->norphans == RANGES_MAX_NODES) {
			/* the oldest goes */
			memmove(&r->orphans[0], &r->orphans[1],
				(RANGES_MAX_NODES - 1) * sizeof(r->orphans[0]));
			r->norphans--;
		}
		o = &r->orphans[r->norphans++];
		o->id = *id;
		memset(&o->claims, 0, sizeof(o->claims));
	}
	for (size_t k = 0; k < sizeof(s->bit); k++)
		o->claims.bit[k] |= s->bit[k];
}

static void orphan_drop(struct ranges *r, const struct ranges_id *id)
{
	for (size_t i = 0; i < r->norphans; i++)
		if (r->orphans[i].id.node == id->node &&
		    r->orphans[i].id.incarnation == id->incarnation) {
			r->orphans[i] = r->orphans[--r->norphans];
			return;
		}
}

/* Someone alive claims the buckets in s: nobody inherits an older claim there. */
static void orphans_supersede(struct ranges *r, const struct ranges_set *s)
{
	for (size_t i = 0; i < r->norphans; i++)
		for (size_t k = 0; k < sizeof(s->bit); k++)
			r->orphans[i].claims.bit[k] &= (uint8_t)~s->bit[k];
}

static bool inherit_add(struct ranges *r, uint32_t b, const struct ranges_id *id)
{
	struct ranges_id *v = r->inh[b];
	for (size_t k = 0; k < RANGES_INHERIT_MAX; k++)
		if (v[k].node == id->node && v[k].incarnation == id->incarnation)
			return false;
	size_t k = 0;
	while (k < RANGES_INHERIT_MAX && v[k].node)
		k++;
	if (k == RANGES_INHERIT_MAX) { /* the oldest goes */
		memmove(&v[0], &v[1], (RANGES_INHERIT_MAX - 1) * sizeof(v[0]));
		k = RANGES_INHERIT_MAX - 1;
	}
	v[k] = *id;
	return true;
}

/*
 * id's life is over (declared down, retired, stopped): who takes its
 * connections, bucket by bucket. They are where it took them, or in
 * buckets it had handed over since (a join moves buckets, not
 * connections), so the heir of bucket b is not whoever claims b next but
 * b's aimed owner among the members without id. Computed once the view
 * without id is agreed (inherit_due), so every node computes it over the
 * same members and each of id's connections has exactly one heir, also
 * when several die at once (a partition: each side's view is its own). We
 * are the heir of the buckets that give us (RG_INHERIT); a node that is
 * not a member inherits nothing.
 */
static void inherit_dead(struct ranges *r, const struct ranges_id *id, struct ranges_actions *out)
{
	(void)out;
	for (size_t i = 0; i < r->ndead; i++)
		if (r->dead[i].node == id->node && r->dead[i].incarnation == id->incarnation)
			return;
	if (r->ndead == RANGES_MAX_NODES) /* the oldest goes */
		memmove(&r->dead[0], &r->dead[1], (RANGES_MAX_NODES - 1) * sizeof(r->dead[0]));
	else
		r->ndead++;
	r->dead[r->ndead - 1] = *id;
}

static void held_of(const struct ranges *r, uint32_t node, const struct ranges_set **held,
		    uint32_t *serial);

static void heirs_of(struct ranges *r, const struct ranges_id *id, struct ranges_actions *out)
{
	struct ranges_member m[RANGES_MAX_NODES];
	const struct ranges_set *held[RANGES_MAX_NODES];
	size_t n = 0, self = SIZE_MAX;
	for (size_t i = 0; i < r->nmem; i++) {
		if (r->mem[i].node == id->node)
			continue;
		if (r->mem[i].node == r->p.self_id)
			self = n;
		uint32_t serial;
		held_of(r, r->mem[i].node, &held[n], &serial);
		m[n++] = r->mem[i];
	}
	if (self == SIZE_MAX)
		return;
	uint16_t *owner = malloc(r->p.buckets * sizeof(*owner));
	if (!owner || ranges_assign_held(m, n, r->p.buckets, held, owner) < 0) {
		free(owner);
		rg_log(out, LOGL_ERR, "event=ranges action=inherit reason=enomem node=%u", id->node);
		return;
	}
	struct ranges_set got;
	memset(&got, 0, sizeof(got));
	uint32_t k = 0;
	for (uint32_t b = 0; b < r->p.buckets; b++)
		if (owner[b] == self && inherit_add(r, b, id)) {
			ranges_add(&got, b);
			k++;
		}
	free(owner);
	if (!k)
		return;
	r->stats.inherited += k;
	set_action(r, out, RG_INHERIT, &got, k, id);
}

/* The dead lives whose view is agreed now: their heirs. */
static bool agreed(const struct ranges *r);

static void inherit_due(struct ranges *r, struct ranges_actions *out)
{
	if (!r->ndead || !agreed(r))
		return;
	for (size_t i = 0; i < r->ndead;) {
		const struct ranges_id *id = &r->dead[i];
		bool in_view = false;
		for (size_t k = 0; k < r->nmem; k++)
			in_view |= r->mem[k].node == id->node && r->mem_inc[k] == id->incarnation;
		if (in_view) {
			i++;
			continue;
		}
		heirs_of(r, id, out);
		memmove(&r->dead[i], &r->dead[i + 1], (r->ndead - i - 1) * sizeof(r->dead[0]));
		r->ndead--;
	}
}

static size_t inherit_drop(struct ranges *r, const struct ranges_id *id)
{
	size_t n = 0;
	for (uint32_t b = 0; b < r->p.buckets; b++) {
		struct ranges_id *v = r->inh[b];
		for (size_t k = 0; k < RANGES_INHERIT_MAX; k++) {
			if (v[k].node != id->node || v[k].incarnation != id->incarnation)
				continue;
			memmove(&v[k], &v[k + 1], (RANGES_INHERIT_MAX - 1 - k) * sizeof(v[0]));
			memset(&v[RANGES_INHERIT_MAX - 1], 0, sizeof(v[0]));
			n++;
			break;
		}
	}
	return n;
}

/* ---- the view ---- */

static int mem_cmp(const void *pa, const void *pb)
{
	const struct ranges_member *a = pa, *b = pb;
	return a->node < b->node ? -1 : a->node > b->node;
}

/* What member node holds, as we know it, and the serial that says so. */
static void held_of(const struct ranges *r, uint32_t node, const struct ranges_set **held,
		    uint32_t *serial)
{
	if (node == r->p.self_id) {
		*held = &r->mine;
		*serial = r->serial;
		return;
	}
	const struct peer *pr = peer_find((struct ranges *)r, node);
	*held = pr ? &pr->st.claims : NULL;
	*serial = pr ? pr->st.serial : 0;
}

/*
 * Recompute the members (when they changed, the counter) and the aim,
 * which follows what they hold: when the members or what they hold
 * changed.
 */
static void recompute_view(struct ranges *r, struct ranges_actions *out)
{
	struct ranges_member m[RANGES_MAX_NODES];
	uint64_t inc[RANGES_MAX_NODES];
	size_t n = 0;
	memset(m, 0, sizeof(m)); /* the padding too: the set is compared with memcmp */
	if (!r->stopping && r->now >= r->listen_until)
		m[n].node = r->p.self_id, m[n++].weight = r->p.weight;
	for (size_t i = 0; i < r->npeers; i++)
		if (is_member(&r->peers[i]))
			m[n].node = r->peers[i].node, m[n++].weight = r->peers[i].st.weight;
	qsort(m, n, sizeof(m[0]), mem_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct peer *pr = m[i].node == r->p.self_id ? NULL : peer_find(r, m[i].node);
		inc[i] = pr ? pr->st.incarnation : r->p.incarnation;
	}
	uint32_t serial[RANGES_MAX_NODES];
	const struct ranges_set *held[RANGES_MAX_NODES];
	for (size_t i = 0; i < n; i++)
		held_of(r, m[i].node, &held[i], &serial[i]);
	bool same = n == r->nmem && memcmp(m, r->mem, n * sizeof(m[0])) == 0 &&
		    memcmp(inc, r->mem_inc, n * sizeof(inc[0])) == 0;
	if (same && r->started && memcmp(serial, r->mem_serial, n * sizeof(serial[0])) == 0)
		return;
	memcpy(r->mem, m, n * sizeof(m[0]));
	memcpy(r->mem_inc, inc, n * sizeof(inc[0]));
	memcpy(r->mem_serial, serial, n * sizeof(serial[0]));
	r->nmem = n;
	if (r->started && !same) {
		r->view++;
		r->stats.view_changes++;
	}
	memset(&r->aimed_self, 0, sizeof(r->aimed_self));
	for (size_t i = 0; i < r->npeers; i++)
		memset(&r->peers[i].aimed, 0, sizeof(r->peers[i].aimed));
	r->aim_hash = 0x61696d2d31ull; /* "aim-1" */
	if (n == 0 || ranges_assign_held(m, n, r->p.buckets, held, r->aim) < 0) {
		for (uint32_t b = 0; b < r->p.buckets; b++)
			r->aim[b] = UINT16_MAX;
		if (n) {
			r->aim_hash = 0; /* agrees with nobody's */
			rg_log(out, LOGL_ERR, "event=ranges action=aim reason=enomem");
		}
		return;
	}
	for (uint32_t b = 0; b < r->p.buckets; b++) {
		uint32_t node = m[r->aim[b]].node;
		r->aim_hash = mix64(r->aim_hash ^ ((uint64_t)b << 32 | node));
		if (node == r->p.self_id) {
			ranges_add(&r->aimed_self, b);
		} else {
			struct peer *pr = peer_find(r, node);
			if (pr)
				ranges_add(&pr->aimed, b);
		}
	}
}

/*
 * The digest of our view: every member's id, weight and counter as we
 * know them, and the aim we computed from them and what they hold. A
 * claim or release the aim asked for leaves the aim as it was (the
 * others' shares do not depend on how far each has got), so it does not
 * break an agreement; nodes that agree have the same aim, hence disjoint
 * shares.
 */
static uint64_t view_digest(const struct ranges *r)
{
	uint64_t h = 0x6469676573742d31ull ^ r->nmem;
	for (size_t i = 0; i < r->nmem; i++) {
		uint32_t node = r->mem[i].node, view = r->view;
		if (node != r->p.self_id) {
			const struct peer *pr = peer_find((struct ranges *)r, node);
			view = pr ? pr->st.view : 0;
		}
		h = mix64(h ^ node);
		h = mix64(h ^ r->mem_inc[i]);
		h = mix64(h ^ ((uint64_t)r->mem[i].weight << 32 | view));
	}
	h = mix64(h ^ r->aim_hash);
	return h;
}

/*
 * Every member's latest state carries our digest, and no peer that is up
 * still listens (it would be alone in its view when it ends: it must find
 * ours first, so nobody claims meanwhile).
 */
static bool agreed(const struct ranges *r)
{
	for (size_t i = 0; i < r->npeers; i++) {
		const struct peer *pr = &r->peers[i];
		if (!pr->up || pr->down || !pr->has_state || (pr->st.flags & RANGES_F_STOPPING))
			continue;
		if ((pr->st.flags & RANGES_F_LISTENING) || pr->st.digest != r->digest)
			return false;
	}
	return true;
}

/* ---- the rule ---- */

static void hand_on(struct ranges *r, struct ranges_actions *out)
{
	uint8_t buf[RANGES_STATE_MAX];
	size_t len = ranges_state_blob(r, buf, sizeof(buf));
	if (len == r->blob_len && memcmp(buf, r->blob, len) == 0)
		return;
	memcpy(r->blob, buf, len);
	r->blob_len = len;
	struct ranges_action *act = push(out, RG_STATE);
	if (act)
		act->push = true;
	r->repush_at = r->now + RANGES_REPUSH_MS;
}

static void repush(struct ranges *r, uint64_t now, struct ranges_actions *out)
{
	if (!r->repush_at || now < r->repush_at)
		return;
	r->repush_at = 0;
	struct ranges_action *act = push(out, RG_STATE);
	if (act)
		act->push = true;
}

/* Node a (weight wa) outranks node b (weight wb) for bucket k: the rendezvous score, then NodeID.
 */
static bool outranks(uint32_t a, uint16_t wa, uint32_t b, uint16_t wb, uint32_t k)
{
	uint64_t x = (uint64_t)wa * draw(b, k), y = (uint64_t)wb * draw(a, k);
	return x != y ? x > y : a > b;
}

/* Does a peer that is up claim bucket b and outrank us for it? */
static bool outranked(const struct ranges *r, uint32_t b)
{
	for (size_t i = 0; i < r->npeers; i++) {
		const struct peer *pr = &r->peers[i];
		if (pr->up && !pr->down && pr->has_state && ranges_has(&pr->st.claims, b) &&
		    outranks(pr->node, pr->st.weight, r->p.self_id, r->p.weight, b))
			return true;
	}
	return false;
}

/*
 * Does a member that we outrank claim bucket b too (a healed partition)?
 * It releases b as soon as it hears us (outranked); we keep b until then
 * even when the aim takes it from us, or it would become that member's
 * alone and so its to keep: the aim would change under everyone's feet.
 */
static bool contested(const struct ranges *r, uint32_t b)
{
	for (size_t i = 0; i < r->npeers; i++) {
		const struct peer *pr = &r->peers[i];
		if (is_member(pr) && ranges_has(&pr->st.claims, b))
			return true;
	}
	return false;
}

static void release(struct ranges *r, uint64_t now, struct ranges_actions *out)
{
	struct ranges_set rel;
	memset(&rel, 0, sizeof(rel));
	uint32_t n = 0;
	/* what the aim moves goes once the view is agreed (the taker waits for that too) */
	bool moving = agreed(r);
	for (uint32_t b = 0; b < r->p.buckets; b++)
		if (ranges_has(&r->mine, b) &&
		    (r->stopping ||
		     (moving && !ranges_has(&r->aimed_self, b) && !contested(r, b)) ||
		     outranked(r, b))) {
			ranges_del(&r->mine, b);
			ranges_add(&rel, b);
			n++;
		}
	if (!n)
		return;
	r->serial++;
	r->changed_at = now;
	r->stats.releases++;
	r->stats.released += n;
	set_action(r, out, RG_RELEASE, &rel, n, NULL);
}

static void claim(struct ranges *r, uint64_t now, struct ranges_actions *out)
{
	if (r->stopping || !r->link_up || now < r->listen_until)
		return;
	struct ranges_set want, taken;
	memset(&want, 0, sizeof(want));
	uint32_t n = 0;
	for (uint32_t b = 0; b < r->p.buckets; b++)
		if (ranges_has(&r->aimed_self, b) && !ranges_has(&r->mine, b)) {
			ranges_add(&want, b);
			n++;
		}
	if (!n)
		return;
	if (!agreed(r)) {
		r->stats.waits++;
		return;
	}
	/* what a peer that may be alive claims is not free */
	memset(&taken, 0, sizeof(taken));
	for (size_t i = 0; i < r->npeers; i++) {
		const struct peer *pr = &r->peers[i];
		if (!counts(r, pr, now))
			continue;
		for (size_t k = 0; k < set_bytes(r->p.buckets); k++)
			taken.bit[k] |= pr->st.claims.bit[k];
	}
	n = 0;
	bool held_back = false;
	for (uint32_t b = 0; b < r->p.buckets; b++) {
		if (!ranges_has(&want, b))
			continue;
		if (ranges_has(&taken, b)) {
			ranges_del(&want, b);
			held_back = true;
		} else {
			n++;
		}
	}
	if (held_back)
		r->stats.waits++;
	if (!n)
		return;
	/* (the connections of the buckets' dead holders went to their heirs
	   when they died: inherit_dead) */
	orphans_supersede(r, &want);
	for (size_t k = 0; k < sizeof(want.bit); k++)
		r->mine.bit[k] |= want.bit[k];
	r->serial++;
	r->changed_at = now;
	r->stats.claims++;
	r->stats.claimed += n;
	set_action(r, out, RG_CLAIM, &want, n, NULL);
}

/* No bucket unclaimed, as far as we know: ours or a peer's that still counts. */
static bool all_claimed(const struct ranges *r, uint64_t now)
{
	for (uint32_t b = 0; b < r->p.buckets; b++) {
		bool held = ranges_has(&r->mine, b);
		for (size_t i = 0; !held && i < r->npeers; i++)
			held =
			    counts(r, &r->peers[i], now) && ranges_has(&r->peers[i].st.claims, b);
		if (!held)
			return false;
	}
	return true;
}

/*
 * Is the first ownership decision made now (ranges_decided)? Listening
 * over, and: every bucket the aim gives us claimed (some, or none with the
 * view agreed and every bucket claimed by someone), or nothing to decide
 * for now (the sync link is down, or we stop: we claim nothing).
 */
static bool decided_now(const struct ranges *r, uint64_t now)
{
	if (now < r->listen_until)
		return false;
	if (r->stopping || !r->link_up)
		return true;
	for (size_t k = 0; k < set_bytes(r->p.buckets); k++)
		if (r->aimed_self.bit[k] & ~r->mine.bit[k])
			return false;
	if (ranges_count(&r->aimed_self, r->p.buckets) > 0)
		return true;
	return agreed(r) && all_claimed(r, now);
}

static void run(struct ranges *r, uint64_t now, struct ranges_actions *out)
{
	if (now > r->now)
		r->now = now;
	recompute_view(r, out);
	r->digest = view_digest(r);
	inherit_due(r, out);
	uint32_t serial = r->serial;
	release(r, now, out);
	claim(r, now, out);
	if (r->serial != serial) { /* what we hold is in the aim and the digest we hand on */
		r->started = true;
		recompute_view(r, out);
		r->digest = view_digest(r);
	}
	r->started = true;
	repush(r, now, out);
	hand_on(r, out);
	if (!r->decided)
		r->decided = decided_now(r, r->now);
}

/* ---- inputs ---- */

int ranges_on_state(struct ranges *r, uint32_t node, const uint8_t *blob, size_t len, uint64_t now,
		    struct ranges_actions *append)
{
	struct ranges_state st;
	enum ranges_refusal why = node == 0 || node == r->p.self_id
				      ? RGR_NODE
				      : ranges_decode(blob, len, r->p.buckets, &st);
	struct peer *pr = why == RGR_OK ? peer_find(r, node) : NULL;
	if (why == RGR_OK && pr && pr->has_state) {
		if (st.incarnation < pr->st.incarnation ||
		    (st.incarnation == pr->st.incarnation &&
		     (int32_t)(st.serial - pr->st.serial) < 0))
			why = RGR_STALE;
	}
	if (why != RGR_OK) {
		r->stats.refused[why]++;
		return -1;
	}
	if (!pr)
		pr = peer_get(r, node);
	if (!pr)
		return 0; /* no room: ignored, as core/member does */
	r->stats.states++;
	if (pr->has_state && !pr->written_off && st.incarnation == pr->st.incarnation &&
	    st.serial == pr->st.serial && st.view == pr->st.view && st.digest == pr->st.digest &&
	    st.flags == pr->st.flags && st.weight == pr->st.weight) {
		/* the same again (every heartbeat repeats it): the claims go with the serial */
		pr->heard = now;
		if (now > r->now)
			r->now = now;
		return 0;
	}
	if (pr->has_state && st.incarnation != pr->st.incarnation) {
		/* a new life: the old one is gone, and its claims with it */
		struct ranges_id old = {node, pr->st.incarnation};
		orphan_add(r, &old, &pr->st.claims);
		if (!pr->written_off)
			inherit_dead(r, &old, append);
		r->stats.retired++;
		rg_log(append, LOGL_NOTICE,
		       "event=ranges action=retire node=%u incarnation=%llu new=%llu", node,
		       (unsigned long long)old.incarnation, (unsigned long long)st.incarnation);
	}
	if (pr->has_state && st.incarnation == pr->st.incarnation &&
	    (st.flags & RANGES_F_STOPPING) && !(pr->st.flags & RANGES_F_STOPPING)) {
		/* a graceful stop: what it claimed, and the connections it took
		   there, go to whoever claims those buckets next */
		struct ranges_id gone = {node, pr->st.incarnation};
		orphan_add(r, &gone, &pr->st.claims);
		inherit_dead(r, &gone, append);
	}
	bool back = pr->has_state && pr->written_off && pr->st.incarnation == st.incarnation;
	struct ranges_id id = {node, st.incarnation};
	pr->st = st;
	pr->has_state = true;
	pr->written_off = false;
	pr->heard = now;
	if (back) {
		/* a known life we had written off (a partition healed): its own are its own */
		orphan_drop(r, &id);
		for (size_t i = 0; i < r->ndead; i++)
			if (r->dead[i].node == id.node && r->dead[i].incarnation == id.incarnation) {
				memmove(&r->dead[i], &r->dead[i + 1],
					(r->ndead - i - 1) * sizeof(r->dead[0]));
				r->ndead--;
				break;
			}
		size_t n = inherit_drop(r, &id);
		if (n) {
			struct ranges_action *act = push(append, RG_DISOWN);
			if (act)
				act->from = id;
			rg_log(append, LOGL_NOTICE,
			       "event=ranges action=disown node=%u incarnation=%llu buckets=%zu",
			       node, (unsigned long long)id.incarnation, n);
		}
	}
	if (counts(r, pr, now))
		orphans_supersede(r, &pr->st.claims);
	run(r, now, append);
	return 0;
}

void ranges_node_up(struct ranges *r, uint32_t node, uint64_t now, struct ranges_actions *append)
{
	if (node == 0 || node == r->p.self_id)
		return;
	struct peer *pr = peer_get(r, node);
	if (!pr)
		return;
	pr->up = true;
	pr->down = false;
	run(r, now, append);
}

void ranges_node_down(struct ranges *r, uint32_t node, uint64_t now, struct ranges_actions *append)
{
	struct peer *pr = node && node != r->p.self_id ? peer_find(r, node) : NULL;
	if (!pr)
		return;
	if (!pr->down && pr->has_state) {
		struct ranges_id id = {node, pr->st.incarnation};
		orphan_add(r, &id, &pr->st.claims);
		inherit_dead(r, &id, append);
		pr->written_off = true;
	}
	pr->up = false;
	pr->down = true;
	run(r, now, append);
}

void ranges_set_link(struct ranges *r, bool up, uint64_t now, struct ranges_actions *append)
{
	r->link_up = up;
	if (up) /* as core/member: everyone gets a fresh interval */
		for (size_t i = 0; i < r->npeers; i++)
			if (r->peers[i].has_state && !r->peers[i].down)
				r->peers[i].heard = now;
	run(r, now, append);
}

void ranges_stop(struct ranges *r, uint64_t now, struct ranges_actions *append)
{
	r->stopping = true;
	run(r, now, append);
}

int ranges_forget(struct ranges *r, const struct ranges_id *id)
{
	if (inherit_drop(r, id) == 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

void ranges_tick(struct ranges *r, uint64_t now, struct ranges_actions *append)
{
	run(r, now, append);
}

uint64_t ranges_next_deadline(const struct ranges *r)
{
	uint64_t next = UINT64_MAX;
	if (!r->started)
		return r->now;
	if (r->listen_until > r->now)
		next = r->listen_until;
	if (r->repush_at && r->repush_at < next)
		next = r->repush_at;
	for (size_t i = 0; i < r->npeers; i++) {
		const struct peer *pr = &r->peers[i];
		if (pr->has_state && !pr->up && !pr->down) {
			uint64_t t = pr->heard + dead_ms(r) + 1;
			if (t > r->now && t < next)
				next = t;
		}
	}
	return next;
}

size_t ranges_state_blob(const struct ranges *r, uint8_t *buf, size_t cap)
{
	struct ranges_state st = {
	    .flags = (uint8_t)((r->now < r->listen_until ? RANGES_F_LISTENING : 0) |
			       (r->stopping ? RANGES_F_STOPPING : 0)),
	    .weight = r->p.weight,
	    .buckets = (uint16_t)r->p.buckets,
	    .incarnation = r->p.incarnation,
	    .serial = r->serial,
	    .view = r->view,
	    .digest = r->digest,
	    .claims = r->mine,
	};
	return ranges_encode(&st, buf, cap);
}

/* ---- views ---- */

bool ranges_decided(const struct ranges *r)
{
	return r->decided;
}

void ranges_view(const struct ranges *r, struct ranges_view *out)
{
	memset(out, 0, sizeof(*out));
	out->self = (struct ranges_id){r->p.self_id, r->p.incarnation};
	out->buckets = r->p.buckets;
	out->weight = r->p.weight;
	out->listening = r->now < r->listen_until;
	out->link_up = r->link_up;
	out->stopping = r->stopping;
	out->agreed = agreed(r);
	out->members = r->nmem;
	out->view = r->view;
	out->digest = r->digest;
	out->serial = r->serial;
	out->claimed = ranges_count(&r->mine, r->p.buckets);
	out->aimed = ranges_count(&r->aimed_self, r->p.buckets);
	out->changed_at = r->changed_at;
	for (uint32_t b = 0; b < r->p.buckets; b++) {
		unsigned holders = ranges_has(&r->mine, b);
		for (size_t i = 0; i < r->npeers; i++)
			if (counts(r, &r->peers[i], r->now))
				holders += ranges_has(&r->peers[i].st.claims, b);
		if (holders == 0)
			out->unclaimed++;
		else if (holders > 1)
			out->duplicated++;
	}
	out->complete = out->unclaimed == 0;
}

size_t ranges_nodes(const struct ranges *r)
{
	size_t n = 1;
	for (size_t i = 0; i < r->npeers; i++)
		n += r->peers[i].has_state;
	return n;
}

int ranges_node(const struct ranges *r, size_t i, struct ranges_node_view *out)
{
	memset(out, 0, sizeof(*out));
	if (i == 0) {
		out->id = (struct ranges_id){r->p.self_id, r->p.incarnation};
		out->weight = r->p.weight;
		out->self = out->up = true;
		out->member = !r->stopping;
		out->agrees = true;
		out->listening = r->now < r->listen_until;
		out->stopping = r->stopping;
		out->view = r->view;
		out->heard = r->now;
		out->claims = &r->mine;
		out->aimed = &r->aimed_self;
	} else {
		const struct peer *pr = NULL;
		for (size_t k = 0, seen = 0; k < r->npeers; k++)
			if (r->peers[k].has_state && ++seen == i) {
				pr = &r->peers[k];
				break;
			}
		if (!pr) {
			errno = EINVAL;
			return -1;
		}
		out->id = (struct ranges_id){pr->node, pr->st.incarnation};
		out->weight = pr->st.weight;
		out->up = pr->up && !pr->down;
		out->member = is_member(pr);
		out->agrees = pr->st.digest == r->digest;
		out->listening = pr->st.flags & RANGES_F_LISTENING;
		out->stopping = pr->st.flags & RANGES_F_STOPPING;
		out->view = pr->st.view;
		out->heard = pr->heard;
		out->claims = &pr->st.claims;
		out->aimed = &pr->aimed;
	}
	out->n_claims = ranges_count(out->claims, r->p.buckets);
	out->n_aimed = out->member ? ranges_count(out->aimed, r->p.buckets) : 0;
	return 0;
}

const struct ranges_set *ranges_claims(const struct ranges *r)
{
	return &r->mine;
}

uint32_t ranges_aimed_owner(const struct ranges *r, uint32_t b)
{
	if (b >= r->p.buckets || r->aim[b] == UINT16_MAX || r->aim[b] >= r->nmem)
		return 0;
	return r->mem[r->aim[b]].node;
}

size_t ranges_inherited(const struct ranges *r, uint32_t b, struct ranges_id *out, size_t cap)
{
	if (b >= r->p.buckets)
		return 0;
	size_t n = 0;
	for (size_t k = 0; k < RANGES_INHERIT_MAX && r->inh[b][k].node; k++, n++)
		if (n < cap)
			out[n] = r->inh[b][k];
	return n;
}

const struct ranges_stats *ranges_stats(const struct ranges *r)
{
	return &r->stats;
}

uint16_t ranges_owner_id(const struct ranges_id *id)
{
	if (id->node == 0 || id->node > 255)
		return 0;
	return (uint16_t)(id->node << 8 | (uint32_t)(id->incarnation % 255 + 1));
}
