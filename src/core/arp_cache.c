/*
 * arp_cache: one interface's ARP cache.
 *
 * Three pieces, all owned by struct arp_cache:
 *
 *  - the entries, in one array that grows by doubling up to max_entries.
 *    An entry never moves while it lives (only a realloc on insert moves the
 *    whole array), so the hash table and the deadline lists refer to entries
 *    by index. Removed entries go on a free list (linked through .next) and
 *    are marked with type FREE_TYPE so that iteration can skip them.
 *
 *  - an open-addressing hash table of 8-byte slots {ip, index + 1} (0 =
 *    empty), power-of-two sized, linear probing, doubled when the load would
 *    pass 3/4, and backward-shift deletion, so there are no tombstones and a
 *    probe sequence never grows with churn. The IP is kept in the slot so a
 *    probe touches the entry array only on a hit.
 *
 *  - one doubly linked list per timed type (DYNAMIC, UNKNOWN, INCOMPLETE),
 *    ordered by deadline. A new deadline is placed by walking back from the
 *    tail, which is O(1) when deadlines are handed out in increasing order
 *    (now + a fixed timeout, the usual case). Expiry and eviction take the
 *    heads. Configured entries are on no list and never expire.
 *
 * Bytes per entry: 40 of entry plus 8 per slot at a load between 3/8 and
 * 3/4, i.e. 40 + 10.7..21.3 once the entry array has reached max_entries
 * (before that it may be up to twice the live count). At 1M entries with
 * max_entries = 1M: 2^21 slots, load 0.48, 56.8 bytes per entry.
 */
#include "arp_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL	      UINT32_MAX
#define FREE_TYPE     0xff
#define MIN_SLOT_BITS 3
#define MAX_SLOT_BITS 31
#define N_LISTS	      3

struct slot {
	uint32_t ip;
	uint32_t idx1; /* entry index + 1; 0 = empty slot */
};

_Static_assert(sizeof(struct arp_entry) == 40, "an entry is 40 bytes");
_Static_assert(sizeof(struct slot) == 8, "a hash slot is 8 bytes");

struct dlist {
	uint32_t head, tail;
};

struct arp_cache {
	struct arp_entry *e;
	struct slot *slots;
	uint32_t ecap;	    /* entries allocated */
	uint32_t used;	    /* entries [0, used) are live or on the free list */
	uint32_t free_head; /* free entries, linked through .next */
	uint32_t count;	    /* live entries */
	uint32_t max;	    /* max_entries */
	uint32_t mask;	    /* slots - 1 */
	unsigned bits;	    /* log2(slots) */
	struct dlist lists[N_LISTS];
};

/*
 * The memory budget, checked at compile time: in a full cache (the entry
 * array has stopped at max_entries) an entry costs its 40 bytes plus at most
 * 8/3 slots (the load never drops below 3/8 after a doubling): < 62 bytes.
 */
_Static_assert(sizeof(struct arp_entry) + sizeof(struct slot) * 8 / 3 <= 64,
	       "at most 64 bytes per entry in a full cache");

static const char *const type_names[ARP_TYPE__COUNT] = {
    [ARP_DYNAMIC] = "dynamic",	 [ARP_STATIC] = "static",   [ARP_PUBLISH] = "publish",
    [ARP_XPUBLISH] = "xpublish", [ARP_UNKNOWN] = "unknown", [ARP_INCOMPLETE] = "incomplete",
};

const char *arp_type_name(enum arp_type t)
{
	if ((unsigned)t >= ARP_TYPE__COUNT)
		return "invalid";
	return type_names[t];
}

bool arp_type_is_configured(enum arp_type t)
{
	return t == ARP_STATIC || t == ARP_PUBLISH || t == ARP_XPUBLISH;
}

/* The deadline list of a type, or -1 for a configured (untimed) type. */
static int list_of(unsigned type)
{
	switch (type) {
	case ARP_DYNAMIC:
		return 0;
	case ARP_UNKNOWN:
		return 1;
	case ARP_INCOMPLETE:
		return 2;
	default:
		return -1;
	}
}

/* Multiplicative (Fibonacci) hashing: the top bits of ip * 2^64/phi. */
static inline uint32_t hash_ip(uint32_t ip, unsigned bits)
{
	return (uint32_t)(((uint64_t)ip * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static unsigned bits_for(uint32_t n)
{
	unsigned b = MIN_SLOT_BITS;
	while (b < MAX_SLOT_BITS && (1u << b) < n)
		b++;
	return b;
}

struct arp_cache *arp_cache_new(const struct arp_cache_params *p)
{
	if (p->max_entries == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct arp_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max = p->max_entries;
	c->bits = bits_for(p->hash_size);
	c->mask = (1u << c->bits) - 1;
	c->slots = calloc((size_t)c->mask + 1, sizeof(*c->slots));
	c->ecap = c->max < 16 ? c->max : 16;
	c->e = malloc((size_t)c->ecap * sizeof(*c->e));
	if (!c->slots || !c->e) {
		free(c->slots);
		free(c->e);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->free_head = NIL;
	for (int i = 0; i < N_LISTS; i++)
		c->lists[i].head = c->lists[i].tail = NIL;
	return c;
}

void arp_cache_free(struct arp_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->e);
	free(c);
}

/* ip's entry index + 1; 0 when ip is not present. */
static uint32_t find_idx1(const struct arp_cache *c, uint32_t ip)
{
	const struct slot *s = c->slots;
	uint32_t i = hash_ip(ip, c->bits);

	for (;;) {
		if (s[i].idx1 == 0 || s[i].ip == ip)
			return s[i].idx1;
		i = (i + 1) & c->mask;
	}
}

struct arp_entry *arp_cache_lookup(struct arp_cache *c, uint32_t ip)
{
	uint32_t idx1 = find_idx1(c, ip);
	return idx1 ? &c->e[idx1 - 1] : NULL;
}

const struct arp_entry *arp_cache_find(const struct arp_cache *c, uint32_t ip)
{
	uint32_t idx1 = find_idx1(c, ip);
	return idx1 ? &c->e[idx1 - 1] : NULL;
}

/* ---- hash slots ---- */

static void slot_put(struct slot *s, uint32_t mask, unsigned bits, uint32_t ip, uint32_t idx1)
{
	uint32_t i = hash_ip(ip, bits);
	while (s[i].idx1 != 0)
		i = (i + 1) & mask;
	s[i].ip = ip;
	s[i].idx1 = idx1;
}

static int slots_grow(struct arp_cache *c)
{
	if (c->bits >= MAX_SLOT_BITS) {
		errno = ENOMEM;
		return -1;
	}
	unsigned bits = c->bits + 1;
	uint32_t mask = (uint32_t)((1ull << bits) - 1);
	struct slot *s = calloc((size_t)mask + 1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t i = 0; i <= c->mask; i++)
		if (c->slots[i].idx1)
			slot_put(s, mask, bits, c->slots[i].ip, c->slots[i].idx1);
	free(c->slots);
	c->slots = s;
	c->mask = mask;
	c->bits = bits;
	return 0;
}

/* Delete ip's slot, shifting later members of its cluster back (no tombstones). */
static void slot_del(struct arp_cache *c, uint32_t ip)
{
	struct slot *s = c->slots;
	uint32_t mask = c->mask, i = hash_ip(ip, c->bits);

	while (s[i].idx1 != 0 && s[i].ip != ip)
		i = (i + 1) & mask;
	if (s[i].idx1 == 0)
		return; /* not present: cannot happen for a live entry */
	for (uint32_t j = (i + 1) & mask; s[j].idx1 != 0; j = (j + 1) & mask) {
		uint32_t home = hash_ip(s[j].ip, c->bits);
		/*
		 * s[j] may fill the hole at i unless its home lies cyclically in
		 * (i, j]: then a probe for it starts after i and would miss it.
		 */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s[i] = s[j];
			i = j;
		}
	}
	s[i].idx1 = 0;
	s[i].ip = 0;
}

/* ---- deadline lists ---- */

static void list_unlink(struct arp_cache *c, uint32_t idx)
{
	struct arp_entry *e = &c->e[idx];
	int l = list_of(e->type);
	if (l < 0)
		return;
	struct dlist *d = &c->lists[l];
	if (e->prev != NIL)
		c->e[e->prev].next = e->next;
	else
		d->head = e->next;
	if (e->next != NIL)
		c->e[e->next].prev = e->prev;
	else
		d->tail = e->prev;
	e->prev = e->next = NIL;
}

/* Link by deadline, after any entry with the same deadline (FIFO on ties). */
static void list_link(struct arp_cache *c, uint32_t idx)
{
	struct arp_entry *e = &c->e[idx];
	int l = list_of(e->type);
	if (l < 0) {
		e->prev = e->next = NIL;
		return;
	}
	struct dlist *d = &c->lists[l];
	uint32_t after = d->tail;
	while (after != NIL && c->e[after].expires > e->expires)
		after = c->e[after].prev;
	e->prev = after;
	if (after == NIL) {
		e->next = d->head;
		d->head = idx;
	} else {
		e->next = c->e[after].next;
		c->e[after].next = idx;
	}
	if (e->next == NIL)
		d->tail = idx;
	else
		c->e[e->next].prev = idx;
}

/* ---- entries ---- */

static void remove_idx(struct arp_cache *c, uint32_t idx)
{
	struct arp_entry *e = &c->e[idx];
	slot_del(c, e->ip);
	list_unlink(c, idx);
	e->type = FREE_TYPE;
	e->prev = NIL;
	e->next = c->free_head;
	c->free_head = idx;
	c->count--;
}

static uint32_t entry_alloc(struct arp_cache *c)
{
	if (c->free_head != NIL) {
		uint32_t idx = c->free_head;
		c->free_head = c->e[idx].next;
		return idx;
	}
	if (c->used == c->ecap) {
		if (c->ecap >= c->max) {
			errno = ENOSPC;
			return NIL;
		}
		uint32_t cap = c->ecap > c->max / 2 ? c->max : c->ecap * 2;
		struct arp_entry *v = realloc(c->e, (size_t)cap * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return NIL;
		}
		c->e = v;
		c->ecap = cap;
	}
	return c->used++;
}

/* The entry to evict: earliest of UNKNOWN/INCOMPLETE, else earliest DYNAMIC. */
static uint32_t victim(const struct arp_cache *c)
{
	uint32_t u = c->lists[list_of(ARP_UNKNOWN)].head;
	uint32_t i = c->lists[list_of(ARP_INCOMPLETE)].head;
	if (u != NIL && i != NIL)
		return c->e[i].expires < c->e[u].expires ? i : u;
	if (u != NIL)
		return u;
	if (i != NIL)
		return i;
	return c->lists[list_of(ARP_DYNAMIC)].head;
}

struct arp_entry *arp_cache_insert(struct arp_cache *c, uint32_t ip, enum arp_type type,
				   const struct mac *mac, uint64_t expires,
				   struct arp_entry *evicted, bool *did_evict)
{
	if (did_evict)
		*did_evict = false;
	if ((unsigned)type >= ARP_TYPE__COUNT) {
		errno = EINVAL;
		return NULL;
	}
	if (arp_cache_lookup(c, ip)) {
		errno = EEXIST;
		return NULL;
	}
	if (c->count >= c->max) {
		uint32_t v = victim(c);
		if (v == NIL) {
			errno = ENOSPC;
			return NULL;
		}
		if (evicted)
			*evicted = c->e[v];
		if (did_evict)
			*did_evict = true;
		remove_idx(c, v);
	}
	/* keep the load at most 3/4, and always one empty slot */
	while ((uint64_t)(c->count + 1) * 4 > ((uint64_t)c->mask + 1) * 3 ||
	       c->count + 1 > c->mask) {
		if (slots_grow(c) < 0) {
			if (c->count + 1 <= c->mask)
				break; /* at the size limit: run fuller */
			return NULL;
		}
	}
	uint32_t idx = entry_alloc(c);
	if (idx == NIL)
		return NULL;

	struct arp_entry *e = &c->e[idx];
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	if (mac)
		e->mac = *mac;
	e->type = (uint8_t)type;
	e->expires = arp_type_is_configured(type) ? UINT64_MAX : expires;
	slot_put(c->slots, c->mask, c->bits, ip, idx + 1);
	list_link(c, idx);
	c->count++;
	return e;
}

void arp_cache_update(struct arp_cache *c, struct arp_entry *e, enum arp_type type,
		      const struct mac *mac, uint64_t expires)
{
	uint32_t idx = (uint32_t)(e - c->e);

	if ((unsigned)type >= ARP_TYPE__COUNT)
		return;
	list_unlink(c, idx);
	e->type = (uint8_t)type;
	if (mac)
		e->mac = *mac;
	e->expires = arp_type_is_configured(type) ? UINT64_MAX : expires;
	list_link(c, idx);
}

void arp_cache_remove(struct arp_cache *c, struct arp_entry *e)
{
	remove_idx(c, (uint32_t)(e - c->e));
}

/* The list head with the earliest deadline, or NIL. */
static uint32_t earliest(const struct arp_cache *c)
{
	uint32_t best = NIL;
	for (int l = 0; l < N_LISTS; l++) {
		uint32_t h = c->lists[l].head;
		if (h != NIL && (best == NIL || c->e[h].expires < c->e[best].expires))
			best = h;
	}
	return best;
}

struct arp_entry *arp_cache_expired(struct arp_cache *c, uint64_t now)
{
	uint32_t b = earliest(c);
	if (b == NIL || c->e[b].expires > now)
		return NULL;
	return &c->e[b];
}

uint64_t arp_cache_next_deadline(const struct arp_cache *c)
{
	uint32_t b = earliest(c);
	return b == NIL ? UINT64_MAX : c->e[b].expires;
}

size_t arp_cache_count(const struct arp_cache *c)
{
	return c->count;
}

/* The most entries the cache will hold (max_entries, CacheSize). */
size_t arp_cache_capacity(const struct arp_cache *c)
{
	return c->max;
}

size_t arp_cache_bytes(const struct arp_cache *c)
{
	return sizeof(*c) + (size_t)c->ecap * sizeof(*c->e) +
	       ((size_t)c->mask + 1) * sizeof(*c->slots);
}

const struct arp_entry *arp_cache_next(const struct arp_cache *c, size_t *cursor)
{
	while (*cursor < c->used) {
		const struct arp_entry *e = &c->e[(*cursor)++];
		if (e->type != FREE_TYPE)
			return e;
	}
	return NULL;
}
