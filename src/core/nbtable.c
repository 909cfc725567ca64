/*
 * nbtable: see nbtable.h.
 *
 * Entries live in one array that grows by doubling up to Size; a free
 * slot goes on a free list (through hnext). Three index structures, all
 * uint32_t slot numbers (NONE: none):
 *  - hash chains (heads[], entry.hnext) on SipHash of iface + MAC;
 *  - a binary min-heap on last_seen (heap[], entry.hpos): its root is the
 *    entry seen least recently, the one a full table evicts;
 *  - a doubly-linked list in insertion order (ins_prev, ins_next) for
 *    iteration that does not depend on hashing or times.
 */
#include "nbtable.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct entry {
	struct nbt_record r; /* first: a record pointer is an entry pointer */
	uint32_t hnext;	     /* hash chain; free list when unused */
	uint32_t hpos;	     /* index in heap[]; NONE when unused */
	uint32_t ins_prev, ins_next;
};

struct nbtable {
	struct nbt_params p;
	struct entry *ents;
	uint32_t cap;	 /* slots allocated in ents and heap */
	uint32_t used;	 /* slots ever handed out (ents[0..used)) */
	uint32_t free;	 /* free list head */
	uint32_t n;	 /* entries held = heap size */
	uint32_t *heads; /* hash heads */
	uint32_t nheads; /* power of two */
	uint32_t *heap;	 /* slot numbers, min last_seen at [0] */
	uint32_t ins_head, ins_tail;
	struct nbt_counters c;
};

void nbt_params_default(struct nbt_params *p)
{
	memset(p, 0, sizeof(*p));
	p->size = NBT_SIZE_DEFAULT;
	p->active_timeout_ms = NBT_ACTIVE_TIMEOUT_DEFAULT;
}

size_t nbt_entry_size(void)
{
	return sizeof(struct entry) + 2 * sizeof(uint32_t);
}

/* ---- text ---- */

/* s is NUL-terminated within size bytes and text (no control byte, no DEL). */
static bool text_ok(const char *s, size_t size)
{
	size_t l = strnlen(s, size);
	if (l == size)
		return false;
	for (size_t i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

static bool iface_ok(const char *iface)
{
	return iface && iface[0] && text_ok(iface, NBT_IFNAMSIZ);
}

static bool mac_ok(const struct mac *m)
{
	return m && !(m->a[0] & 1) && !mac_is_zero(m);
}

static bool dhcp_ok(const struct nbt_dhcp *d)
{
	return text_ok(d->hostname, sizeof(d->hostname)) && text_ok(d->fqdn, sizeof(d->fqdn)) &&
	       text_ok(d->vendor_class, sizeof(d->vendor_class)) && d->prl_len <= NBT_PRL_MAX &&
	       d->client_id_len <= NBT_CLIENT_ID_MAX;
}

bool nbt_record_valid(const struct nbt_record *r)
{
	if (!iface_ok(r->iface) || !mac_ok(&r->mac) || (r->sources & ~NBT_SRC_ALL) ||
	    r->n_ip4 > NBT_MAX_IP4 || r->first_seen > r->last_seen || r->confidence > 100)
		return false;
	for (unsigned i = 0; i < r->n_ip4; i++) {
		if (r->ip4[i] == 0)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (r->ip4[j] == r->ip4[i])
				return false;
	}
	return text_ok(r->vendor, sizeof(r->vendor)) && dhcp_ok(&r->dhcp) &&
	       text_ok(r->type, sizeof(r->type)) && text_ok(r->os, sizeof(r->os)) &&
	       text_ok(r->brand, sizeof(r->brand));
}

/* ---- hashing ---- */

static uint32_t hash(const struct nbtable *t, const char *iface, const struct mac *mac)
{
	uint8_t in[NBT_IFNAMSIZ + MAC_LEN];
	uint8_t out[crypto_shorthash_BYTES];
	memset(in, 0, sizeof(in));
	memcpy(in, iface, strnlen(iface, NBT_IFNAMSIZ - 1));
	memcpy(in + NBT_IFNAMSIZ, mac->a, MAC_LEN);
	crypto_shorthash(out, in, sizeof(in), t->p.key);
	uint32_t h;
	memcpy(&h, out, sizeof(h));
	return h & (t->nheads - 1);
}

static bool same_key(const struct entry *e, const char *iface, const struct mac *mac)
{
	size_t l = strnlen(iface, NBT_IFNAMSIZ);
	return l < NBT_IFNAMSIZ && mac_eq(&e->r.mac, mac) && memcmp(e->r.iface, iface, l + 1) == 0;
}

static uint32_t lookup(const struct nbtable *t, const char *iface, const struct mac *mac)
{
	for (uint32_t i = t->heads[hash(t, iface, mac)]; i != NONE; i = t->ents[i].hnext)
		if (same_key(&t->ents[i], iface, mac))
			return i;
	return NONE;
}

static void hash_unlink(struct nbtable *t, uint32_t slot)
{
	struct entry *e = &t->ents[slot];
	uint32_t *pp = &t->heads[hash(t, e->r.iface, &e->r.mac)];
	while (*pp != slot)
		pp = &t->ents[*pp].hnext;
	*pp = e->hnext;
}

/* ---- the heap on last_seen ---- */

static uint64_t hkey(const struct nbtable *t, uint32_t i)
{
	return t->ents[t->heap[i]].r.last_seen;
}

static void hset(struct nbtable *t, uint32_t i, uint32_t slot)
{
	t->heap[i] = slot;
	t->ents[slot].hpos = i;
}

static void sift_up(struct nbtable *t, uint32_t i)
{
	uint32_t slot = t->heap[i];
	uint64_t k = t->ents[slot].r.last_seen;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (hkey(t, parent) <= k)
			break;
		hset(t, i, t->heap[parent]);
		i = parent;
	}
	hset(t, i, slot);
}

static void sift_down(struct nbtable *t, uint32_t i)
{
	uint32_t slot = t->heap[i];
	uint64_t k = t->ents[slot].r.last_seen;
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		uint64_t mk = k;
		if (l < t->n && hkey(t, l) < mk) {
			m = l;
			mk = hkey(t, l);
		}
		if (l + 1 < t->n && hkey(t, l + 1) < mk)
			m = l + 1;
		if (m == i)
			break;
		hset(t, i, t->heap[m]);
		i = m;
	}
	hset(t, i, slot);
}

static void heap_remove(struct nbtable *t, uint32_t slot)
{
	uint32_t i = t->ents[slot].hpos;
	t->n--;
	if (i != t->n) {
		uint32_t moved = t->heap[t->n];
		hset(t, i, moved);
		sift_up(t, i);
		sift_down(t, t->ents[moved].hpos);
	}
	t->ents[slot].hpos = NONE;
}

/* ---- slots ---- */

static int grow(struct nbtable *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : 64;
	if (ncap > t->p.size)
		ncap = t->p.size;
	struct entry *ne = realloc(t->ents, (size_t)ncap * sizeof(*ne));
	if (!ne)
		return -1;
	t->ents = ne;
	uint32_t *nh = realloc(t->heap, (size_t)ncap * sizeof(*nh));
	if (!nh)
		return -1;
	t->heap = nh;
	t->cap = ncap;
	uint32_t nheads = 1;
	while (nheads < ncap)
		nheads *= 2;
	if (nheads != t->nheads) {
		uint32_t *heads = malloc((size_t)nheads * sizeof(*heads));
		if (!heads)
			return -1;
		free(t->heads);
		t->heads = heads;
		t->nheads = nheads;
		memset(heads, 0xff, (size_t)nheads * sizeof(*heads));
		for (uint32_t i = 0; i < t->used; i++) {
			struct entry *e = &t->ents[i];
			if (e->hpos == NONE)
				continue;
			uint32_t h = hash(t, e->r.iface, &e->r.mac);
			e->hnext = heads[h];
			heads[h] = i;
		}
	}
	return 0;
}

static void unlink_entry(struct nbtable *t, uint32_t slot)
{
	struct entry *e = &t->ents[slot];
	hash_unlink(t, slot);
	heap_remove(t, slot);
	if (e->ins_prev != NONE)
		t->ents[e->ins_prev].ins_next = e->ins_next;
	else
		t->ins_head = e->ins_next;
	if (e->ins_next != NONE)
		t->ents[e->ins_next].ins_prev = e->ins_prev;
	else
		t->ins_tail = e->ins_prev;
	e->hnext = t->free;
	t->free = slot;
	t->c.entries = t->n;
}

/*
 * Room for one more entry that will be last seen at when. A full table
 * evicts the root of the heap: the entry with the smallest last_seen.
 * Active means now - last_seen < ActiveTimeout, so whenever some entry is
 * inactive the one with the smallest last_seen is inactive too, and it is
 * the oldest inactive one: evicting the least recently seen entry never
 * evicts an active entry while an inactive one exists. Only a table of
 * active entries loses an active one (counted apart: Size= is too small).
 * An entry newer than the one coming in is kept: ENOSPC.
 */
static uint32_t take_slot(struct nbtable *t, uint64_t when, uint64_t now)
{
	if (t->n >= t->p.size) {
		uint32_t victim = t->heap[0];
		if (t->ents[victim].r.last_seen > when) {
			errno = ENOSPC;
			return NONE;
		}
		if (nbt_active(t, &t->ents[victim].r, now))
			t->c.evicted_active++;
		else
			t->c.evicted_inactive++;
		unlink_entry(t, victim);
	}
	if (t->free == NONE && t->used == t->cap && grow(t) < 0) {
		errno = ENOMEM;
		return NONE;
	}
	uint32_t slot;
	if (t->free != NONE) {
		slot = t->free;
		t->free = t->ents[slot].hnext;
	} else {
		slot = t->used++;
	}
	return slot;
}

/* Put the record now in ents[slot] into the indexes. */
static void link_entry(struct nbtable *t, uint32_t slot)
{
	struct entry *e = &t->ents[slot];
	uint32_t h = hash(t, e->r.iface, &e->r.mac);
	e->hnext = t->heads[h];
	t->heads[h] = slot;
	t->heap[t->n] = slot;
	e->hpos = t->n;
	t->n++;
	sift_up(t, e->hpos);
	e->ins_next = NONE;
	e->ins_prev = t->ins_tail;
	if (t->ins_tail != NONE)
		t->ents[t->ins_tail].ins_next = slot;
	else
		t->ins_head = slot;
	t->ins_tail = slot;
	t->c.entries = t->n;
	t->c.inserted++;
}

/* last_seen of slot changed. */
static void reorder(struct nbtable *t, uint32_t slot)
{
	sift_up(t, t->ents[slot].hpos);
	sift_down(t, t->ents[slot].hpos);
}

/* ---- the table ---- */

struct nbtable *nbt_new(const struct nbt_params *p)
{
	if (!p || p->size == 0 || p->size > NBT_SIZE_MAX || p->active_timeout_ms == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct nbtable *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->p = *p;
	t->free = NONE;
	t->ins_head = t->ins_tail = NONE;
	if (grow(t) < 0) {
		nbt_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

int nbt_set_active_timeout(struct nbtable *t, uint64_t ms)
{
	if (ms == 0) {
		errno = EINVAL;
		return -1;
	}
	t->p.active_timeout_ms = ms;
	return 0;
}

size_t nbt_size(const struct nbtable *t)
{
	return t->p.size;
}

void nbt_free(struct nbtable *t)
{
	if (!t)
		return;
	free(t->ents);
	free(t->heap);
	free(t->heads);
	sodium_memzero(t->p.key, sizeof(t->p.key));
	free(t);
}

void nbt_clear(struct nbtable *t)
{
	memset(t->heads, 0xff, (size_t)t->nheads * sizeof(*t->heads));
	t->used = 0;
	t->free = NONE;
	t->n = 0;
	t->ins_head = t->ins_tail = NONE;
	t->c.entries = 0;
}

static bool source_ok(unsigned s)
{
	return s != 0 && (s & ~(unsigned)NBT_SRC_ALL) == 0 && (s & (s - 1)) == 0;
}

static void ip4_push(struct nbt_record *r, uint32_t ip)
{
	if (ip == 0)
		return;
	unsigned i = 0;
	while (i < r->n_ip4 && r->ip4[i] != ip)
		i++;
	if (i == r->n_ip4) {
		if (r->n_ip4 < NBT_MAX_IP4)
			r->n_ip4++;
		i = r->n_ip4 - 1; /* the oldest goes when the list is full */
	}
	memmove(&r->ip4[1], &r->ip4[0], i * sizeof(r->ip4[0]));
	r->ip4[0] = ip;
}

static void *refuse(struct nbtable *t, int err)
{
	t->c.refused++;
	errno = err;
	return NULL;
}

/* The slot of (iface, mac), created if needed, for a sighting at now. */
static uint32_t sighting(struct nbtable *t, const char *iface, const struct mac *mac, uint32_t ip4,
			 uint64_t now, unsigned source)
{
	uint32_t slot = lookup(t, iface, mac);
	if (slot == NONE) {
		slot = take_slot(t, now, now);
		if (slot == NONE)
			return NONE;
		struct entry *e = &t->ents[slot];
		memset(&e->r, 0, sizeof(e->r));
		memcpy(e->r.iface, iface, strlen(iface));
		e->r.mac = *mac;
		e->r.first_seen = e->r.last_seen = now;
		link_entry(t, slot);
	} else {
		struct nbt_record *r = &t->ents[slot].r;
		if (now < r->first_seen)
			r->first_seen = now;
		if (now >= r->last_seen) {
			r->node = 0;
			if (now > r->last_seen) {
				r->last_seen = now;
				reorder(t, slot);
			}
		}
		t->c.updated++;
	}
	struct nbt_record *r = &t->ents[slot].r;
	ip4_push(r, ip4);
	r->sources |= (uint8_t)source;
	return slot;
}

const struct nbt_record *nbt_seen(struct nbtable *t, const char *iface, const struct mac *mac,
				  uint32_t ip4, uint64_t now, unsigned source)
{
	if (!iface_ok(iface) || !mac_ok(mac) || !source_ok(source))
		return refuse(t, EINVAL);
	/* iface and mac may lie in t (a record of it), which a new entry may move */
	char ifc[NBT_IFNAMSIZ] = {0};
	struct mac mc = *mac;
	memcpy(ifc, iface, strlen(iface));
	uint32_t slot = sighting(t, ifc, &mc, ip4, now, source);
	if (slot == NONE)
		return refuse(t, errno);
	return &t->ents[slot].r;
}

const struct nbt_record *nbt_set_dhcp(struct nbtable *t, const char *iface, const struct mac *mac,
				      const struct nbt_dhcp *d, uint64_t now)
{
	if (!d || !dhcp_ok(d) || !iface_ok(iface) || !mac_ok(mac))
		return refuse(t, EINVAL);
	/* d (or iface, mac) may lie in t, which a new entry may move */
	struct nbt_dhcp dc = *d;
	char ifc[NBT_IFNAMSIZ] = {0};
	struct mac mc = *mac;
	memcpy(ifc, iface, strlen(iface));
	d = &dc;
	uint32_t slot = sighting(t, ifc, &mc, d->ip4, now, NBT_SRC_DHCP);
	if (slot == NONE)
		return refuse(t, errno);
	struct nbt_dhcp *h = &t->ents[slot].r.dhcp;
	if (d->hostname[0])
		memcpy(h->hostname, d->hostname, sizeof(h->hostname));
	if (d->fqdn[0])
		memcpy(h->fqdn, d->fqdn, sizeof(h->fqdn));
	if (d->vendor_class[0])
		memcpy(h->vendor_class, d->vendor_class, sizeof(h->vendor_class));
	if (d->prl_len) {
		memcpy(h->prl, d->prl, d->prl_len);
		h->prl_len = d->prl_len;
	}
	if (d->client_id_len) {
		memcpy(h->client_id, d->client_id, d->client_id_len);
		h->client_id_len = d->client_id_len;
	}
	return &t->ents[slot].r;
}

/* The slot of a record pointer of t, or NONE. */
static uint32_t slot_of(const struct nbtable *t, const struct nbt_record *e)
{
	if (!e || t->used == 0)
		return NONE;
	uintptr_t base = (uintptr_t)t->ents, p = (uintptr_t)e;
	if (p < base || p >= base + (uintptr_t)t->used * sizeof(struct entry) ||
	    (p - base) % sizeof(struct entry) != 0)
		return NONE;
	uint32_t slot = (uint32_t)((p - base) / sizeof(struct entry));
	return t->ents[slot].hpos == NONE ? NONE : slot;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	memset(dst, 0, size);
	if (src)
		memcpy(dst, src, strlen(src));
}

int nbt_set_vendor(struct nbtable *t, const struct nbt_record *e, const char *vendor)
{
	uint32_t slot = slot_of(t, e);
	if (slot == NONE || (vendor && !text_ok(vendor, strlen(vendor) + 1))) {
		t->c.refused++;
		errno = EINVAL;
		return -1;
	}
	char *v = t->ents[slot].r.vendor;
	memset(v, 0, NBT_VENDOR_LEN);
	if (!vendor)
		return 0;
	size_t l = strlen(vendor);
	if (l >= NBT_VENDOR_LEN) {
		l = NBT_VENDOR_LEN - 1;
		/* do not cut a UTF-8 sequence: back off over continuation bytes */
		while (l > 0 && ((unsigned char)vendor[l] & 0xc0) == 0x80)
			l--;
	}
	memcpy(v, vendor, l);
	return 0;
}

int nbt_set_device(struct nbtable *t, const struct nbt_record *e, const char *type, const char *os,
		   const char *brand, unsigned confidence)
{
	uint32_t slot = slot_of(t, e);
	if (slot == NONE || confidence > 100 || (type && !text_ok(type, NBT_DEV_LEN)) ||
	    (os && !text_ok(os, NBT_DEV_LEN)) || (brand && !text_ok(brand, NBT_DEV_LEN))) {
		t->c.refused++;
		errno = EINVAL;
		return -1;
	}
	struct nbt_record *r = &t->ents[slot].r;
	copy_text(r->type, sizeof(r->type), type);
	copy_text(r->os, sizeof(r->os), os);
	copy_text(r->brand, sizeof(r->brand), brand);
	r->confidence = (uint8_t)confidence;
	t->c.updated++;
	return 0;
}

/* A text field: r's fills an empty one, and wins a non-empty one when newer. */
static bool take_text(char *dst, const char *src, size_t size, bool newer)
{
	if (!src[0] || (dst[0] && !newer))
		return false;
	memcpy(dst, src, size);
	return true;
}

static void take_bytes(uint8_t *dst, uint8_t *dlen, const uint8_t *src, uint8_t slen, bool newer)
{
	if (slen == 0 || (*dlen && !newer))
		return;
	memcpy(dst, src, slen);
	*dlen = slen;
}

/* first's addresses, then second's not among them, up to NBT_MAX_IP4. */
static void ip4_union(struct nbt_record *out, const struct nbt_record *first,
		      const struct nbt_record *second)
{
	uint32_t ip[NBT_MAX_IP4];
	unsigned n = 0;
	for (unsigned i = 0; i < first->n_ip4 && n < NBT_MAX_IP4; i++)
		ip[n++] = first->ip4[i];
	for (unsigned i = 0; i < second->n_ip4 && n < NBT_MAX_IP4; i++) {
		unsigned j = 0;
		while (j < n && ip[j] != second->ip4[i])
			j++;
		if (j == n)
			ip[n++] = second->ip4[i];
	}
	memcpy(out->ip4, ip, sizeof(ip));
	memset(out->ip4 + n, 0, (NBT_MAX_IP4 - n) * sizeof(ip[0]));
	out->n_ip4 = (uint8_t)n;
}

int nbt_merge(struct nbtable *t, const struct nbt_record *r, uint32_t node, uint64_t now)
{
	if (!r || node == 0 || !nbt_record_valid(r)) {
		t->c.refused++;
		errno = EINVAL;
		return -1;
	}
	struct nbt_record rc = *r; /* r may lie in t, which a new entry may move */
	r = &rc;
	uint32_t rnode = r->node ? r->node : node;
	if (rnode == t->p.self_id)
		rnode = 0;
	uint64_t last = r->last_seen < now ? r->last_seen : now;
	uint64_t first = r->first_seen < last ? r->first_seen : last;
	uint32_t slot = lookup(t, r->iface, &r->mac);
	if (slot == NONE) {
		slot = take_slot(t, last, now);
		if (slot == NONE) {
			t->c.refused++;
			return -1;
		}
		struct entry *e = &t->ents[slot];
		e->r = *r;
		e->r.dhcp.ip4 = 0;
		e->r.first_seen = first;
		e->r.last_seen = last;
		e->r.node = rnode;
		e->r.sources |= NBT_SRC_PEER;
		link_entry(t, slot);
		t->c.merged++;
		return 0;
	}
	struct nbt_record *h = &t->ents[slot].r;
	bool newer = last > h->last_seen;
	if (newer) {
		struct nbt_record mine = *h;
		ip4_union(h, r, &mine);
		h->last_seen = last;
		h->node = rnode;
		reorder(t, slot);
	} else {
		ip4_union(h, h, r);
	}
	if (first < h->first_seen)
		h->first_seen = first;
	h->sources |= r->sources | NBT_SRC_PEER;
	take_text(h->vendor, r->vendor, sizeof(h->vendor), newer);
	take_text(h->dhcp.hostname, r->dhcp.hostname, sizeof(h->dhcp.hostname), newer);
	take_text(h->dhcp.fqdn, r->dhcp.fqdn, sizeof(h->dhcp.fqdn), newer);
	take_text(h->dhcp.vendor_class, r->dhcp.vendor_class, sizeof(h->dhcp.vendor_class), newer);
	take_bytes(h->dhcp.prl, &h->dhcp.prl_len, r->dhcp.prl, r->dhcp.prl_len, newer);
	take_bytes(h->dhcp.client_id, &h->dhcp.client_id_len, r->dhcp.client_id,
		   r->dhcp.client_id_len, newer);
	if (take_text(h->type, r->type, sizeof(h->type), newer))
		h->confidence = r->confidence;
	take_text(h->os, r->os, sizeof(h->os), newer);
	take_text(h->brand, r->brand, sizeof(h->brand), newer);
	t->c.merged++;
	return 0;
}

const struct nbt_record *nbt_find(const struct nbtable *t, const char *iface, const struct mac *mac)
{
	if (!iface || !mac)
		return NULL;
	uint32_t slot = lookup(t, iface, mac);
	return slot == NONE ? NULL : &t->ents[slot].r;
}

bool nbt_active(const struct nbtable *t, const struct nbt_record *e, uint64_t now)
{
	return now < e->last_seen || now - e->last_seen < t->p.active_timeout_ms;
}

size_t nbt_count(const struct nbtable *t)
{
	return t->n;
}

const struct nbt_record *nbt_next(const struct nbtable *t, size_t *cursor)
{
	uint32_t slot;
	if (*cursor == 0)
		slot = t->ins_head;
	else if (*cursor == SIZE_MAX || *cursor > t->used)
		return NULL;
	else
		slot = (uint32_t)(*cursor - 1);
	if (slot == NONE) {
		*cursor = SIZE_MAX;
		return NULL;
	}
	uint32_t next = t->ents[slot].ins_next;
	*cursor = next == NONE ? SIZE_MAX : (size_t)next + 1;
	return &t->ents[slot].r;
}

int nbt_remove(struct nbtable *t, const char *iface, const struct mac *mac)
{
	uint32_t slot = iface && mac ? lookup(t, iface, mac) : NONE;
	if (slot == NONE) {
		errno = ENOENT;
		return -1;
	}
	unlink_entry(t, slot);
	return 0;
}

const struct nbt_counters *nbt_counters(const struct nbtable *t)
{
	return &t->c;
}
