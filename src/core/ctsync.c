/*
 * ctsync: connection-tracking sync (see ctsync.h).
 *
 * Message (all integers big-endian): 'C' (1), version (1) = 1, then one
 * or more records, each a type (1) and a body of a fixed size:
 *
 *   1 NEW         entry (45)
 *   2 NEW_RESYNC  generation (4, != 0), entry (45)
 *   3 UPDATE      digest (8), state (17)
 *   4 DELETE      digest (8)
 *   5 DIGEST      count (4), sum (8)
 *   6 RESYNC_REQ  target node (4, != 0)
 *   7 RESYNC_END  origin node (4, the sender), generation (4, != 0)
 *
 *   entry = orig tuple (13), reply tuple (13), zone (2), state (17)
 *   tuple = src (4), dst (4), sport (2), dport (2), proto (1: 1, 6 or 17;
 *           the same in both tuples)
 *   state = tcp_state (1), tcp_flags (2: original, reply), tcp_wscale
 *           (2), status (4), mark (4), timeout (4)
 *
 * Every byte is a field, so a message has one encoding. digest =
 * SipHash-2-4 with an all-zero key of orig tuple + zone as above (15
 * bytes); the DIGEST sum is the sum mod 2^64 of SipHash-2-4 (zero key) of
 * each entry's 45 bytes, count the number of entries.
 *
 * Receiver: NEW sets an entry (generation 0), NEW_RESYNC sets it with the
 * record's generation, RESYNC_END g drops the origin's entries whose
 * generation is not g. The sender keeps that sound: when a resync is
 * queued, every record queued for an entry of its table becomes a
 * NEW_RESYNC of the new generation, and a record that turns an entry
 * deleted into one that exists again goes to the tail (behind the
 * RESYNC_END), so nothing but NEW_RESYNC and DELETE stands before a
 * RESYNC_END.
 */
#include "ctsync.h"

#include "be.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define NIL	  UINT32_MAX
#define STATE_LEN 17
#define TUPLE_LEN 13

/* ---- bytes ---- */

static void put_tuple(uint8_t *p, const struct ct_tuple *t)
{
	put32(p, t->src);
	put32(p + 4, t->dst);
	put16(p + 8, t->sport);
	put16(p + 10, t->dport);
	p[12] = t->proto;
}

static void get_tuple(const uint8_t *p, struct ct_tuple *t)
{
	t->src = get32(p);
	t->dst = get32(p + 4);
	t->sport = get16(p + 8);
	t->dport = get16(p + 10);
	t->proto = p[12];
}

static void put_state(uint8_t *p, const struct ct_entry *e)
{
	p[0] = e->tcp_state;
	p[1] = e->tcp_flags[0];
	p[2] = e->tcp_flags[1];
	p[3] = e->tcp_wscale[0];
	p[4] = e->tcp_wscale[1];
	put32(p + 5, e->status);
	put32(p + 9, e->mark);
	put32(p + 13, e->timeout);
}

static void get_state(const uint8_t *p, struct ct_entry *e)
{
	e->tcp_state = p[0];
	e->tcp_flags[0] = p[1];
	e->tcp_flags[1] = p[2];
	e->tcp_wscale[0] = p[3];
	e->tcp_wscale[1] = p[4];
	e->status = get32(p + 5);
	e->mark = get32(p + 9);
	e->timeout = get32(p + 13);
}

static void put_entry(uint8_t *p, const struct ct_entry *e)
{
	put_tuple(p, &e->orig);
	put_tuple(p + TUPLE_LEN, &e->reply);
	put16(p + 2 * TUPLE_LEN, e->zone);
	put_state(p + 2 * TUPLE_LEN + 2, e);
}

static void get_entry(const uint8_t *p, struct ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	get_tuple(p, &e->orig);
	get_tuple(p + TUPLE_LEN, &e->reply);
	e->zone = get16(p + 2 * TUPLE_LEN);
	get_state(p + 2 * TUPLE_LEN + 2, e);
}

static const uint8_t zero_key[crypto_shorthash_KEYBYTES];

static uint64_t siphash(const uint8_t *in, size_t len, const uint8_t *key)
{
	uint8_t out[crypto_shorthash_BYTES];
	crypto_shorthash(out, in, len, key);
	return get64(out);
}

uint64_t ctsync_digest(const struct ct_tuple *orig, uint16_t zone)
{
	uint8_t b[TUPLE_LEN + 2];
	put_tuple(b, orig);
	put16(b + TUPLE_LEN, zone);
	return siphash(b, sizeof(b), zero_key);
}

static uint64_t entry_digest(const struct ct_entry *e)
{
	return ctsync_digest(&e->orig, e->zone);
}

/* What the DIGEST sums: every field. */
static uint64_t state_hash(const struct ct_entry *e)
{
	uint8_t b[CTSYNC_ENTRY_LEN];
	put_entry(b, e);
	return siphash(b, sizeof(b), zero_key);
}

static bool tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

bool ctsync_entry_eq(const struct ct_entry *a, const struct ct_entry *b)
{
	uint8_t x[CTSYNC_ENTRY_LEN], y[CTSYNC_ENTRY_LEN];
	put_entry(x, a);
	put_entry(y, b);
	return memcmp(x, y, sizeof(x)) == 0;
}

static bool proto_ok(uint8_t proto)
{
	return proto == 1 || proto == 6 || proto == 17;
}

static bool entry_ok(const struct ct_entry *e)
{
	return proto_ok(e->orig.proto) && e->orig.proto == e->reply.proto;
}

/* ---- the codec ---- */

static const char *const rec_names[CT_REC__COUNT] = {[0] = "?",
						     [CT_REC_NEW] = "new",
						     [CT_REC_NEW_RESYNC] = "new_resync",
						     [CT_REC_UPDATE] = "update",
						     [CT_REC_DELETE] = "delete",
						     [CT_REC_DIGEST] = "digest",
						     [CT_REC_RESYNC_REQ] = "resync_req",
						     [CT_REC_RESYNC_END] = "resync_end"};

static const char *const malformed_names[CTM__COUNT] = {
    [CTM_SHORT] = "short", [CTM_TYPE] = "type",	    [CTM_VERSION] = "version",
    [CTM_EMPTY] = "empty", [CTM_RECORD] = "record", [CTM_TRUNCATED] = "truncated",
    [CTM_ENTRY] = "entry", [CTM_FIELD] = "field",   [CTM_ORIGIN] = "origin"};

static const char *const check_names[] = {"none", "agree", "disagree"};

const char *ctsync_record_name(unsigned type)
{
	return type < CT_REC__COUNT ? rec_names[type] : "?";
}

const char *ctsync_malformed_name(unsigned why)
{
	return why < CTM__COUNT ? malformed_names[why] : "?";
}

const char *ctsync_check_name(unsigned check)
{
	return check <= CT_CHECK_DISAGREE ? check_names[check] : "?";
}

size_t ctsync_rec_size(unsigned type)
{
	switch (type) {
	case CT_REC_NEW:
		return 1 + CTSYNC_ENTRY_LEN;
	case CT_REC_NEW_RESYNC:
		return 1 + 4 + CTSYNC_ENTRY_LEN;
	case CT_REC_UPDATE:
		return 1 + 8 + STATE_LEN;
	case CT_REC_DELETE:
		return 1 + 8;
	case CT_REC_DIGEST:
		return 1 + 4 + 8;
	case CT_REC_RESYNC_REQ:
		return 1 + 4;
	case CT_REC_RESYNC_END:
		return 1 + 4 + 4;
	default:
		return 0;
	}
}

size_t ctsync_msg_begin(uint8_t *buf, size_t cap)
{
	if (cap < 2)
		return 0;
	buf[0] = CTSYNC_TYPE;
	buf[1] = CTSYNC_VERSION;
	return 2;
}

size_t ctsync_rec_encode(const struct ct_rec *r, uint8_t *buf, size_t cap)
{
	size_t size = ctsync_rec_size(r->type);
	if (size == 0 || cap < size)
		return 0;
	uint8_t *p = buf + 1;
	buf[0] = r->type;
	switch (r->type) {
	case CT_REC_NEW:
		put_entry(p, &r->e);
		break;
	case CT_REC_NEW_RESYNC:
		put32(p, r->gen);
		put_entry(p + 4, &r->e);
		break;
	case CT_REC_UPDATE:
		put64(p, r->digest);
		put_state(p + 8, &r->e);
		break;
	case CT_REC_DELETE:
		put64(p, r->digest);
		break;
	case CT_REC_DIGEST:
		put32(p, r->count);
		put64(p + 4, r->sum);
		break;
	case CT_REC_RESYNC_REQ:
		put32(p, r->node);
		break;
	case CT_REC_RESYNC_END:
		put32(p, r->node);
		put32(p + 4, r->gen);
		break;
	}
	return size;
}

/* Decode the record at buf[off..len): its size, or 0 and *why. */
static size_t rec_decode(const uint8_t *buf, size_t len, size_t off, struct ct_rec *r,
			 enum ct_malformed *why)
{
	memset(r, 0, sizeof(*r));
	r->type = buf[off];
	size_t size = ctsync_rec_size(r->type);
	if (size == 0) {
		*why = CTM_RECORD;
		return 0;
	}
	if (len - off < size) {
		*why = CTM_TRUNCATED;
		return 0;
	}
	const uint8_t *p = buf + off + 1;
	switch (r->type) {
	case CT_REC_NEW:
		get_entry(p, &r->e);
		break;
	case CT_REC_NEW_RESYNC:
		r->gen = get32(p);
		get_entry(p + 4, &r->e);
		break;
	case CT_REC_UPDATE:
		r->digest = get64(p);
		get_state(p + 8, &r->e);
		break;
	case CT_REC_DELETE:
		r->digest = get64(p);
		break;
	case CT_REC_DIGEST:
		r->count = get32(p);
		r->sum = get64(p + 4);
		break;
	case CT_REC_RESYNC_REQ:
		r->node = get32(p);
		break;
	case CT_REC_RESYNC_END:
		r->node = get32(p);
		r->gen = get32(p + 4);
		break;
	}
	if ((r->type == CT_REC_NEW || r->type == CT_REC_NEW_RESYNC) && !entry_ok(&r->e)) {
		*why = CTM_ENTRY;
		return 0;
	}
	if (((r->type == CT_REC_NEW_RESYNC || r->type == CT_REC_RESYNC_END) && r->gen == 0) ||
	    ((r->type == CT_REC_RESYNC_REQ || r->type == CT_REC_RESYNC_END) && r->node == 0)) {
		*why = CTM_FIELD;
		return 0;
	}
	return size;
}

int ctsync_msg_check(const uint8_t *buf, size_t len, enum ct_malformed *why)
{
	if (len < 1 || buf[0] != CTSYNC_TYPE) {
		*why = len < 1 ? CTM_SHORT : CTM_TYPE;
		return -1;
	}
	if (len < 2) {
		*why = CTM_SHORT;
		return -1;
	}
	if (buf[1] != CTSYNC_VERSION) {
		*why = CTM_VERSION;
		return -1;
	}
	if (len == 2) {
		*why = CTM_EMPTY;
		return -1;
	}
	struct ct_rec r;
	for (size_t off = 2; off < len;) {
		size_t size = rec_decode(buf, len, off, &r, why);
		if (size == 0)
			return -1;
		off += size;
	}
	return 0;
}

int ctsync_msg_next(const uint8_t *buf, size_t len, size_t *off, struct ct_rec *r)
{
	if (*off < 2)
		*off = 2;
	if (*off >= len)
		return 0;
	enum ct_malformed why;
	size_t size = rec_decode(buf, len, *off, r, &why);
	if (size == 0)
		return -1;
	*off += size;
	return 1;
}

/* ---- an index: 64-bit key -> 32-bit value, linear probing, backward-shift deletion ---- */

struct ix_slot {
	uint64_t key;
	uint32_t h;   /* the key's hash: home = h & (cap - 1) */
	uint32_t val; /* NIL: empty */
};

struct index {
	struct ix_slot *s;
	size_t cap, n; /* cap: 0 or a power of two */
};

static uint32_t ix_hash(const uint8_t *tkey, uint64_t key)
{
	uint8_t b[8];
	put64(b, key);
	return (uint32_t)siphash(b, sizeof(b), tkey);
}

static struct ix_slot *ix_find(const struct index *ix, const uint8_t *tkey, uint64_t key)
{
	if (ix->cap == 0)
		return NULL;
	size_t mask = ix->cap - 1;
	for (size_t i = ix_hash(tkey, key) & mask;; i = (i + 1) & mask) {
		if (ix->s[i].val == NIL)
			return NULL;
		if (ix->s[i].key == key)
			return &ix->s[i];
	}
}

static void ix_place(struct ix_slot *s, size_t cap, uint64_t key, uint32_t h, uint32_t val)
{
	size_t i = h & (cap - 1);
	while (s[i].val != NIL)
		i = (i + 1) & (cap - 1);
	s[i].key = key;
	s[i].h = h;
	s[i].val = val;
}

/* Insert key (not present). 0, or -1 on ENOMEM. */
static int ix_put(struct index *ix, const uint8_t *tkey, uint64_t key, uint32_t val)
{
	if (2 * (ix->n + 1) > ix->cap) {
		size_t nc = ix->cap ? 2 * ix->cap : 16;
		struct ix_slot *ns = malloc(nc * sizeof(*ns));
		if (ns == NULL)
			return -1;
		for (size_t i = 0; i < nc; i++)
			ns[i].val = NIL;
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->s[i].val != NIL)
				ix_place(ns, nc, ix->s[i].key, ix->s[i].h, ix->s[i].val);
		free(ix->s);
		ix->s = ns;
		ix->cap = nc;
	}
	ix_place(ix->s, ix->cap, key, ix_hash(tkey, key), val);
	ix->n++;
	return 0;
}

static void ix_del(struct index *ix, struct ix_slot *slot)
{
	size_t mask = ix->cap - 1, i = (size_t)(slot - ix->s);
	ix->s[i].val = NIL;
	ix->n--;
	for (size_t j = (i + 1) & mask; ix->s[j].val != NIL; j = (j + 1) & mask) {
		size_t home = ix->s[j].h & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			ix->s[i] = ix->s[j];
			ix->s[j].val = NIL;
			i = j;
		}
	}
}

static void ix_free(struct index *ix)
{
	free(ix->s);
	memset(ix, 0, sizeof(*ix));
}

/* ---- tables: dense entries + an index by digest ---- */

struct slot {
	uint64_t digest, sh; /* sh: state_hash */
	struct ct_entry e;
	uint32_t gen; /* receiver: the resync that set it last; 0 none */
	bool missing; /* peers' entries: not in the shell's kernel (ctsync_peer_set_missing) */
};

struct table {
	struct slot *v;
	size_t n, cap;
	struct index ix;
	uint64_t sum; /* of sh */
};

struct peer {
	bool used, up;
	uint32_t node;
	struct table t;
	uint64_t last_msg, messages, refused_full, last_check, resyncs, reqs_sent, unknown;
	uint8_t check;
	bool req_open;	 /* asked for a resync, RESYNC_END not yet seen */
	uint64_t req_at; /* when */
};

/* The queue: FIFO of records, at most one per digest. */
enum { Q_NEW = CT_REC_NEW, Q_RESYNC = CT_REC_NEW_RESYNC, Q_UPDATE = CT_REC_UPDATE };
enum { Q_DELETE = CT_REC_DELETE, Q_END = CT_REC_RESYNC_END };

struct qnode {
	uint64_t digest;
	uint32_t prev, next, gen;
	uint8_t kind;
	bool may_have; /* NEW: receivers may hold an older copy (DELETE + NEW) */
};

struct queue {
	struct qnode *v;
	size_t cap, used, n, deletes;
	uint32_t head, tail, free, end; /* end: the queued RESYNC_END, NIL none */
	struct index ix;		/* digest -> node */
};

struct ctsync {
	struct ctsync_params p;
	struct ip4_prefix nets[CTSYNC_MAX_NETWORKS];
	struct table local;
	struct peer peers[CTSYNC_MAX_PEERS];
	size_t npeers; /* slots in use or freed: 0..npeers-1 */
	struct queue q;
	uint32_t req[CTSYNC_MAX_PEERS]; /* RESYNC_REQ targets queued */
	size_t nreq;
	bool digest_due;
	bool fresh; /* a resync is queued and none of it has gone out */
	uint64_t next_check;
	uint32_t gen;	       /* of our last resync */
	struct ct_change *chg; /* with p.journal: changes to the peers' tables */
	size_t nchg, capchg;
	bool chg_lost; /* a change could not be kept (ENOMEM) */
	struct ctsync_stats st;
};

static struct slot *tab_find(const struct ctsync *c, const struct table *t, uint64_t d)
{
	struct ix_slot *s = ix_find(&t->ix, c->p.table_key, d);
	return s ? &t->v[s->val] : NULL;
}

static struct slot *tab_add(struct ctsync *c, struct table *t, uint64_t d, const struct ct_entry *e,
			    uint32_t gen)
{
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v), 64) < 0 ||
	    ix_put(&t->ix, c->p.table_key, d, (uint32_t)t->n) < 0) {
		c->st.nomem++;
		return NULL;
	}
	struct slot *s = &t->v[t->n++];
	s->digest = d;
	s->e = *e;
	s->sh = state_hash(e);
	s->gen = gen;
	s->missing = !c->p.journal;
	t->sum += s->sh;
	return s;
}

static void tab_set(struct table *t, struct slot *s, const struct ct_entry *e)
{
	t->sum -= s->sh;
	s->e = *e;
	s->sh = state_hash(e);
	t->sum += s->sh;
}

static void tab_remove(struct ctsync *c, struct table *t, struct slot *s)
{
	size_t i = (size_t)(s - t->v);
	t->sum -= s->sh;
	ix_del(&t->ix, ix_find(&t->ix, c->p.table_key, s->digest));
	if (i != t->n - 1) {
		t->v[i] = t->v[t->n - 1];
		ix_find(&t->ix, c->p.table_key, t->v[i].digest)->val = (uint32_t)i;
	}
	t->n--;
}

static void tab_clear(struct table *t)
{
	free(t->v);
	ix_free(&t->ix);
	memset(t, 0, sizeof(*t));
}

/* origin's entry changed (SET: s->e is its new state) or goes (DEL). */
static void journal(struct ctsync *c, uint8_t op, uint32_t origin, struct slot *s)
{
	if (!c->p.journal)
		return;
	if (op == CT_CHG_SET)
		s->missing = false; /* the shell puts it in, or marks it missing again */
	if (array_grow((void **)&c->chg, &c->capchg, c->nchg + 1, sizeof(*c->chg), 64) < 0) {
		c->chg_lost = true;
		c->st.nomem++;
		return;
	}
	c->chg[c->nchg++] = (struct ct_change){.op = op, .origin = origin, .e = s->e};
}

/* ---- the queue ---- */

static void q_clear(struct queue *q)
{
	free(q->v);
	ix_free(&q->ix);
	memset(q, 0, sizeof(*q));
	q->head = q->tail = q->free = q->end = NIL;
}

static uint32_t q_find(const struct ctsync *c, uint64_t d)
{
	struct ix_slot *s = ix_find(&c->q.ix, c->p.table_key, d);
	return s ? s->val : NIL;
}

static void q_link_tail(struct queue *q, uint32_t i)
{
	q->v[i].next = NIL;
	q->v[i].prev = q->tail;
	if (q->tail != NIL)
		q->v[q->tail].next = i;
	else
		q->head = i;
	q->tail = i;
}

static void q_unlink(struct queue *q, uint32_t i)
{
	struct qnode *x = &q->v[i];
	if (x->prev != NIL)
		q->v[x->prev].next = x->next;
	else
		q->head = x->next;
	if (x->next != NIL)
		q->v[x->next].prev = x->prev;
	else
		q->tail = x->prev;
}

/* Queue a record at the tail. 0, or -1 on ENOMEM (counted). */
static int q_add(struct ctsync *c, uint8_t kind, uint64_t d, uint32_t gen, bool may_have)
{
	struct queue *q = &c->q;
	uint32_t i = q->free;
	if (i == NIL) {
		if (array_grow((void **)&q->v, &q->cap, q->used + 1, sizeof(*q->v), 64) < 0) {
			c->st.nomem++;
			return -1;
		}
		i = (uint32_t)q->used;
	}
	if (kind != Q_END && ix_put(&q->ix, c->p.table_key, d, i) < 0) {
		c->st.nomem++;
		return -1;
	}
	if (i == q->free)
		q->free = q->v[i].next;
	else
		q->used++;
	q->v[i] = (struct qnode){.digest = d, .gen = gen, .kind = kind, .may_have = may_have};
	q_link_tail(q, i);
	q->n++;
	if (kind == Q_DELETE)
		q->deletes++;
	if (kind == Q_END)
		q->end = i;
	return 0;
}

static void q_drop(struct ctsync *c, uint32_t i)
{
	struct queue *q = &c->q;
	struct qnode *x = &q->v[i];
	if (x->kind == Q_END)
		q->end = NIL;
	else
		ix_del(&q->ix, ix_find(&q->ix, c->p.table_key, x->digest));
	if (x->kind == Q_DELETE)
		q->deletes--;
	q_unlink(q, i);
	x->next = q->free;
	q->free = i;
	q->n--;
}

static void q_req(struct ctsync *c, uint32_t node, uint64_t now)
{
	for (size_t i = 0; i < c->nreq; i++)
		if (c->req[i] == node)
			return;
	if (c->nreq == CTSYNC_MAX_PEERS)
		return;
	c->req[c->nreq++] = node;
	c->st.resync_reqs_sent++;
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].used && c->peers[i].node == node) {
			c->peers[i].reqs_sent++;
			c->peers[i].req_open = true;
			c->peers[i].req_at = now;
		}
}

/* ---- set up ---- */

struct ctsync *ctsync_new(const struct ctsync_params *p, uint64_t now)
{
	if (p->self_id == 0 || p->protocols == 0 ||
	    (p->protocols & ~(CTSYNC_TCP | CTSYNC_UDP | CTSYNC_ICMP)) ||
	    p->n_networks > CTSYNC_MAX_NETWORKS || (p->n_networks && p->networks == NULL) ||
	    p->max_entries == 0 || p->max_entries > CTSYNC_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < p->n_networks; i++)
		if (p->networks[i].len > 32) {
			errno = EINVAL;
			return NULL;
		}
	struct ctsync *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->p = *p;
	if (p->n_networks)
		memcpy(c->nets, p->networks, p->n_networks * sizeof(c->nets[0]));
	c->p.networks = c->nets;
	c->gen = p->generation ? p->generation - 1 : 0;
	q_clear(&c->q);
	c->next_check = p->check_interval_ms ? now + p->check_interval_ms : UINT64_MAX;
	return c;
}

int ctsync_set_filter(struct ctsync *c, const struct ctsync_params *p, uint64_t now)
{
	if (p->n_networks > CTSYNC_MAX_NETWORKS) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < p->n_networks; i++)
		if (p->networks[i].len > 32) {
			errno = EINVAL;
			return -1;
		}
	c->p.protocols = p->protocols;
	c->p.max_entries = p->max_entries;
	if (c->p.check_interval_ms != p->check_interval_ms)
		c->next_check = p->check_interval_ms ? now + p->check_interval_ms : UINT64_MAX;
	c->p.check_interval_ms = p->check_interval_ms;
	if (p->n_networks)
		memcpy(c->nets, p->networks, p->n_networks * sizeof(c->nets[0]));
	c->p.n_networks = p->n_networks;
	return 0;
}

void ctsync_free(struct ctsync *c)
{
	if (c == NULL)
		return;
	tab_clear(&c->local);
	for (size_t i = 0; i < c->npeers; i++)
		tab_clear(&c->peers[i].t);
	q_clear(&c->q);
	free(c->chg);
	free(c);
}

bool ctsync_wanted(const struct ctsync *c, const struct ct_entry *e)
{
	if (!entry_ok(e))
		return false;
	uint8_t bit = e->orig.proto == 6    ? CTSYNC_TCP
		      : e->orig.proto == 17 ? CTSYNC_UDP
					    : CTSYNC_ICMP;
	if (!(c->p.protocols & bit))
		return false;
	if (c->p.n_networks == 0)
		return true;
	for (size_t i = 0; i < c->p.n_networks; i++)
		if (ip4_prefix_contains(&c->nets[i], e->orig.src) ||
		    ip4_prefix_contains(&c->nets[i], e->orig.dst))
			return true;
	return false;
}

/* ---- our table and what it queues ---- */

/* Forget every queued record of our table (not the RESYNC_REQs, not a due DIGEST). */
static void clear_records(struct ctsync *c)
{
	q_clear(&c->q);
	c->fresh = false;
}

void ctsync_resync_all(struct ctsync *c, uint64_t now)
{
	(void)now;
	if (c->fresh)
		return;
	if (c->q.end != NIL)
		q_drop(c, c->q.end); /* superseded: this one refreshes everything */
	if (++c->gen == 0)
		c->gen = 1;
	for (size_t i = 0; i < c->local.n; i++) {
		uint64_t d = c->local.v[i].digest;
		uint32_t qi = q_find(c, d);
		if (qi != NIL) {
			/* a NEW, UPDATE or NEW_RESYNC of an entry we hold: resend it whole */
			c->q.v[qi].kind = Q_RESYNC;
			c->q.v[qi].gen = c->gen;
		} else {
			(void)q_add(c, Q_RESYNC, d, c->gen, true);
		}
	}
	(void)q_add(c, Q_END, 0, c->gen, false);
	c->fresh = true;
	c->st.resyncs_sent++;
}

/* The entry exists (again, or changed): queue what says so. */
static void queue_set(struct ctsync *c, uint64_t d, bool is_new, bool full)
{
	uint32_t qi = q_find(c, d);
	if (qi == NIL) {
		(void)q_add(c, is_new ? Q_NEW : full ? Q_NEW : Q_UPDATE, d, 0, !is_new);
		return;
	}
	struct qnode *x = &c->q.v[qi];
	switch (x->kind) {
	case Q_DELETE:
		/* receivers may hold an old copy; behind any RESYNC_END: see the top */
		q_drop(c, qi);
		(void)q_add(c, Q_NEW, d, 0, true);
		break;
	case Q_UPDATE:
		if (full) {
			x->kind = Q_NEW;
			x->may_have = true;
		}
		break;
	default: /* NEW, NEW_RESYNC: sent whole, as it is then */
		break;
	}
}

static void queue_delete(struct ctsync *c, uint64_t d, uint64_t now)
{
	uint32_t qi = q_find(c, d);
	if (qi != NIL) {
		struct qnode *x = &c->q.v[qi];
		if ((x->kind == Q_NEW && !x->may_have) || x->kind == Q_RESYNC) {
			/* never sent; or the RESYNC_END behind it drops what receivers hold */
			q_drop(c, qi);
			return;
		}
		if (x->kind == Q_NEW || x->kind == Q_UPDATE) {
			x->kind = Q_DELETE;
			c->q.deletes++;
		}
		return;
	}
	if (c->q.deletes >= c->p.max_entries) {
		/* deletions pile up (nobody drains us): a resync says it all in less */
		c->st.queue_overflows++;
		clear_records(c);
		ctsync_resync_all(c, now);
		return;
	}
	(void)q_add(c, Q_DELETE, d, 0, false);
}

int ctsync_local(struct ctsync *c, enum ct_event ev, const struct ct_entry *e, uint64_t now)
{
	if (!ctsync_wanted(c, e)) {
		c->st.local_filtered++;
		return 0;
	}
	c->st.local_events++;
	uint64_t d = entry_digest(e);
	struct slot *s = tab_find(c, &c->local, d);
	if (ev == CT_EV_DESTROY) {
		if (s == NULL) {
			c->st.local_unknown++;
			return 0;
		}
		tab_remove(c, &c->local, s);
		queue_delete(c, d, now);
		return 0;
	}
	if (s != NULL) {
		if (ctsync_entry_eq(&s->e, e)) {
			c->st.local_unchanged++;
			return 0;
		}
		/* the tuples travel in NEW only (the same digest: a 2^-64 collision) */
		bool full = !tuple_eq(&s->e.reply, &e->reply) || !tuple_eq(&s->e.orig, &e->orig) ||
			    s->e.zone != e->zone;
		tab_set(&c->local, s, e);
		queue_set(c, d, false, full);
		return 0;
	}
	if (c->local.n >= c->p.max_entries) {
		c->st.refused_full++;
		return -1;
	}
	if (tab_add(c, &c->local, d, e, 0) == NULL)
		return -1;
	queue_set(c, d, true, true);
	return 0;
}

void ctsync_local_reset(struct ctsync *c)
{
	tab_clear(&c->local);
	clear_records(c);
	c->st.local_resets++;
}

size_t ctsync_queued(const struct ctsync *c)
{
	return c->q.n + c->nreq + (c->digest_due ? 1 : 0);
}

size_t ctsync_next_message(struct ctsync *c, uint8_t *buf, size_t cap, uint64_t now)
{
	(void)now;
	size_t off = ctsync_msg_begin(buf, cap), n;
	if (off == 0)
		return 0;
	struct ct_rec r;
	while (c->nreq > 0) {
		memset(&r, 0, sizeof(r));
		r.type = CT_REC_RESYNC_REQ;
		r.node = c->req[0];
		if ((n = ctsync_rec_encode(&r, buf + off, cap - off)) == 0)
			break;
		off += n;
		memmove(c->req, c->req + 1, --c->nreq * sizeof(c->req[0]));
		c->st.rec_out[r.type]++;
	}
	while (c->q.head != NIL) {
		uint32_t qi = c->q.head;
		const struct qnode *x = &c->q.v[qi];
		memset(&r, 0, sizeof(r));
		r.type = x->kind;
		r.digest = x->digest;
		r.gen = x->gen;
		if (x->kind == Q_END) {
			r.node = c->p.self_id;
		} else if (x->kind != Q_DELETE) {
			const struct slot *s = tab_find(c, &c->local, x->digest);
			if (s == NULL) { /* cannot be: records of entries we hold only */
				q_drop(c, qi);
				continue;
			}
			r.e = s->e;
		}
		if ((n = ctsync_rec_encode(&r, buf + off, cap - off)) == 0)
			break;
		off += n;
		q_drop(c, qi);
		c->fresh = false;
		c->st.rec_out[r.type]++;
	}
	if (c->q.head == NIL && c->digest_due) {
		memset(&r, 0, sizeof(r));
		r.type = CT_REC_DIGEST;
		r.count = (uint32_t)c->local.n;
		r.sum = c->local.sum;
		if ((n = ctsync_rec_encode(&r, buf + off, cap - off)) > 0) {
			off += n;
			c->digest_due = false;
			c->st.rec_out[r.type]++;
		}
	}
	if (off == 2)
		return 0;
	c->st.msgs_out++;
	return off;
}

/* ---- what others send ---- */

static struct peer *peer_find(struct ctsync *c, uint32_t node)
{
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].used && c->peers[i].node == node)
			return &c->peers[i];
	return NULL;
}

static struct peer *peer_get(struct ctsync *c, uint32_t node)
{
	struct peer *pr = peer_find(c, node);
	if (pr != NULL)
		return pr;
	size_t slot = c->npeers;
	for (size_t i = 0; i < c->npeers; i++)
		if (!c->peers[i].used) {
			slot = i;
			break;
		}
	if (slot == CTSYNC_MAX_PEERS) {
		/* reuse one that is down and holds nothing */
		for (size_t i = 0; i < c->npeers && slot == CTSYNC_MAX_PEERS; i++)
			if (!c->peers[i].up && c->peers[i].t.n == 0)
				slot = i;
		if (slot == CTSYNC_MAX_PEERS)
			return NULL;
		tab_clear(&c->peers[slot].t);
	}
	if (slot == c->npeers)
		c->npeers++;
	pr = &c->peers[slot];
	memset(pr, 0, sizeof(*pr));
	pr->used = true;
	pr->node = node;
	return pr;
}

static void apply_digest(struct ctsync *c, struct peer *pr, const struct ct_rec *r, uint64_t now)
{
	bool agree = pr->t.n == r->count && pr->t.sum == r->sum;
	pr->check = agree ? CT_CHECK_AGREE : CT_CHECK_DISAGREE;
	pr->last_check = now;
	c->st.last_check = now;
	c->st.last_check_result = pr->check;
	if (agree) {
		c->st.checks_agree++;
		return;
	}
	c->st.checks_disagree++;
	if (r->count > c->p.max_entries)
		return; /* we cannot hold it all: asking again would not help */
	if (pr->req_open && now - pr->req_at < c->p.check_interval_ms)
		return; /* asked already: the answer is on its way */
	q_req(c, pr->node, now);
}

static void apply_end(struct ctsync *c, struct peer *pr, uint32_t gen)
{
	struct table *t = &pr->t;
	for (size_t i = 0; i < t->n;) {
		if (t->v[i].gen != gen) {
			journal(c, CT_CHG_DEL, pr->node, &t->v[i]);
			tab_remove(c, t, &t->v[i]); /* the last one moves to i */
		} else {
			i++;
		}
	}
	pr->req_open = false;
	pr->resyncs++;
	c->st.resyncs_received++;
}

static void apply(struct ctsync *c, struct peer *pr, const struct ct_rec *r, uint64_t now)
{
	struct table *t = &pr->t;
	struct slot *s;
	uint64_t d;
	c->st.rec_in[r->type]++;
	switch (r->type) {
	case CT_REC_NEW:
	case CT_REC_NEW_RESYNC:
		d = entry_digest(&r->e);
		s = tab_find(c, t, d);
		if (s != NULL) {
			s->gen = r->gen;
			if (!ctsync_entry_eq(&s->e, &r->e)) {
				tab_set(t, s, &r->e);
				journal(c, CT_CHG_SET, pr->node, s);
			}
		} else if (t->n >= c->p.max_entries) {
			pr->refused_full++;
			c->st.refused_full++;
		} else if ((s = tab_add(c, t, d, &r->e, r->gen)) != NULL) {
			journal(c, CT_CHG_SET, pr->node, s);
		}
		break;
	case CT_REC_UPDATE: {
		s = tab_find(c, t, r->digest);
		if (s == NULL) {
			pr->unknown++;
			c->st.updates_unknown++;
			break;
		}
		struct ct_entry e = s->e;
		e.tcp_state = r->e.tcp_state;
		memcpy(e.tcp_flags, r->e.tcp_flags, sizeof(e.tcp_flags));
		memcpy(e.tcp_wscale, r->e.tcp_wscale, sizeof(e.tcp_wscale));
		e.status = r->e.status;
		e.mark = r->e.mark;
		e.timeout = r->e.timeout;
		if (!ctsync_entry_eq(&s->e, &e)) {
			tab_set(t, s, &e);
			journal(c, CT_CHG_SET, pr->node, s);
		}
		break;
	}
	case CT_REC_DELETE:
		s = tab_find(c, t, r->digest);
		if (s == NULL) {
			pr->unknown++;
			c->st.updates_unknown++;
			break;
		}
		journal(c, CT_CHG_DEL, pr->node, s);
		tab_remove(c, t, s);
		break;
	case CT_REC_DIGEST:
		apply_digest(c, pr, r, now);
		break;
	case CT_REC_RESYNC_REQ:
		if (r->node == c->p.self_id) {
			c->st.resync_reqs_received++;
			ctsync_resync_all(c, now);
		}
		break;
	case CT_REC_RESYNC_END:
		apply_end(c, pr, r->gen);
		break;
	}
}

int ctsync_on_message(struct ctsync *c, uint32_t origin, const uint8_t *buf, size_t len,
		      uint64_t now)
{
	enum ct_malformed why = CTM_ORIGIN;
	if (origin == 0 || origin == c->p.self_id || ctsync_msg_check(buf, len, &why) < 0) {
		c->st.malformed[why]++;
		return -1;
	}
	struct ct_rec r;
	size_t off = 0;
	while (ctsync_msg_next(buf, len, &off, &r) > 0)
		if (r.type == CT_REC_RESYNC_END && r.node != origin) {
			c->st.malformed[CTM_ORIGIN]++;
			return -1;
		}
	struct peer *pr = peer_get(c, origin);
	if (pr == NULL) {
		c->st.origins_full++;
		return -1;
	}
	c->st.msgs_in++;
	pr->messages++;
	pr->last_msg = now;
	off = 0;
	while (ctsync_msg_next(buf, len, &off, &r) > 0)
		apply(c, pr, &r, now);
	return 0;
}

void ctsync_out_of_sync(struct ctsync *c, uint32_t node, uint64_t now)
{
	if (node == 0 || node == c->p.self_id)
		return;
	q_req(c, node, now);
}

void ctsync_node_up(struct ctsync *c, uint32_t node, uint64_t now)
{
	if (node == 0 || node == c->p.self_id)
		return;
	struct peer *pr = peer_get(c, node);
	if (pr != NULL)
		pr->up = true;
	ctsync_resync_all(c, now);
}

void ctsync_node_down(struct ctsync *c, uint32_t node)
{
	struct peer *pr = peer_find(c, node);
	if (pr != NULL) {
		pr->up = false;
		pr->req_open = false;
	}
}

void ctsync_forget(struct ctsync *c, uint32_t node)
{
	struct peer *pr = peer_find(c, node);
	if (pr == NULL)
		return;
	for (size_t i = 0; i < pr->t.n; i++)
		journal(c, CT_CHG_DEL, pr->node, &pr->t.v[i]);
	tab_clear(&pr->t);
	memset(pr, 0, sizeof(*pr));
	while (c->npeers > 0 && !c->peers[c->npeers - 1].used)
		c->npeers--;
}

void ctsync_tick(struct ctsync *c, uint64_t now)
{
	if (c->p.check_interval_ms == 0 || now < c->next_check)
		return;
	c->digest_due = true;
	c->next_check = now + c->p.check_interval_ms;
}

uint64_t ctsync_next_deadline(const struct ctsync *c)
{
	return c->next_check;
}

/* ---- tables and views ---- */

static const struct table *table_of(const struct ctsync *c, uint32_t origin)
{
	if (origin == c->p.self_id)
		return &c->local;
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].used && c->peers[i].node == origin)
			return &c->peers[i].t;
	return NULL;
}

size_t ctsync_count(const struct ctsync *c, uint32_t origin)
{
	const struct table *t = table_of(c, origin);
	return t ? t->n : 0;
}

const struct ct_entry *ctsync_find(const struct ctsync *c, uint32_t origin,
				   const struct ct_tuple *orig, uint16_t zone)
{
	const struct table *t = table_of(c, origin);
	if (t == NULL)
		return NULL;
	const struct slot *s = tab_find(c, t, ctsync_digest(orig, zone));
	return s ? &s->e : NULL;
}

const struct ct_entry *ctsync_origin_next(const struct ctsync *c, uint32_t origin, size_t *cursor)
{
	const struct table *t = table_of(c, origin);
	if (t == NULL || *cursor >= t->n)
		return NULL;
	return &t->v[(*cursor)++].e;
}

/* The next entry held from peers at or after *cursor (a position over all their tables). */
static const struct ct_entry *peer_walk(const struct ctsync *c, size_t *cursor, bool missing_only)
{
	size_t k = *cursor;
	for (size_t i = 0; i < c->npeers; i++) {
		const struct table *t = &c->peers[i].t;
		if (!c->peers[i].used)
			continue;
		for (; k < t->n; k++, (*cursor)++)
			if (!missing_only || t->v[k].missing) {
				(*cursor)++;
				return &t->v[k].e;
			}
		k -= t->n;
	}
	return NULL;
}

const struct ct_entry *ctsync_peer_next(const struct ctsync *c, size_t *cursor)
{
	return peer_walk(c, cursor, false);
}

const struct ct_entry *ctsync_peer_next_missing(const struct ctsync *c, size_t *cursor)
{
	return peer_walk(c, cursor, true);
}

size_t ctsync_peer_set_missing(struct ctsync *c, const struct ct_tuple *orig, uint16_t zone,
			       bool missing)
{
	uint64_t d = ctsync_digest(orig, zone);
	size_t n = 0;
	for (size_t i = 0; i < c->npeers; i++) {
		struct slot *s;
		if (c->peers[i].used && (s = tab_find(c, &c->peers[i].t, d)) != NULL) {
			s->missing = missing;
			n++;
		}
	}
	return n;
}

size_t ctsync_adopt(struct ctsync *c, uint64_t now)
{
	size_t n = 0, cursor = 0;
	for (const struct ct_entry *e; (e = ctsync_peer_next(c, &cursor));)
		if (ctsync_local(c, CT_EV_NEW, e, now) == 0)
			n++;
	return n;
}

const struct ct_change *ctsync_changes(const struct ctsync *c, size_t *n, bool *lost)
{
	*n = c->nchg;
	if (lost)
		*lost = c->chg_lost;
	return c->chg;
}

void ctsync_changes_clear(struct ctsync *c)
{
	c->nchg = 0;
	c->chg_lost = false;
}

size_t ctsync_origins(const struct ctsync *c)
{
	return c->npeers;
}

int ctsync_origin(const struct ctsync *c, size_t i, struct ctsync_origin_view *out)
{
	if (i >= c->npeers || !c->peers[i].used)
		return -1;
	const struct peer *pr = &c->peers[i];
	*out = (struct ctsync_origin_view){.node = pr->node,
					   .up = pr->up,
					   .entries = pr->t.n,
					   .last_msg = pr->last_msg,
					   .messages = pr->messages,
					   .refused_full = pr->refused_full,
					   .last_check = pr->last_check,
					   .check = pr->check,
					   .resyncs_received = pr->resyncs,
					   .resync_reqs_sent = pr->reqs_sent,
					   .updates_unknown = pr->unknown};
	return 0;
}

const struct ctsync_stats *ctsync_stats(const struct ctsync *c)
{
	return &c->st;
}

/* ---- active-active ---- */

uint16_t ctsync_mark_owner(uint32_t mark)
{
	return (uint16_t)(mark >> 16);
}

bool ctsync_ours_to_send(bool active_active, uint16_t owner, uint32_t mark)
{
	if (!active_active)
		return true;
	return owner != 0 && ctsync_mark_owner(mark) == owner;
}

bool ctsync_mark_conflict(uint16_t owner, const struct ct_entry *ours, const struct ct_entry *peer)
{
	return owner != 0 && ctsync_mark_owner(ours->mark) == owner && peer->mark != ours->mark;
}

size_t ctsync_owner_counts(const struct ctsync *c, uint32_t origin, struct ctsync_owner_count *out,
			   size_t cap, size_t *others)
{
	size_t n = 0, rest = 0, cursor = 0;
	for (const struct ct_entry *e; (e = ctsync_origin_next(c, origin, &cursor));) {
		uint16_t o = ctsync_mark_owner(e->mark);
		size_t i;
		for (i = 0; i < n && out[i].owner != o; i++)
			;
		if (i < n)
			out[i].entries++;
		else if (n < cap)
			out[n++] = (struct ctsync_owner_count){o, 1};
		else
			rest++;
	}
	if (others)
		*others = rest;
	return n;
}
