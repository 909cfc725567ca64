/*
 * Unit tests for core/arp_cache: the hash table, the deadline lists,
 * eviction, iteration and the memory budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_cache.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static struct mac mac_of(uint32_t v)
{
	struct mac m = {
	    {0x02, 0x10, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v}};
	return m;
}

static struct arp_cache *new_cache(uint32_t max, uint32_t hash)
{
	struct arp_cache_params p = {.max_entries = max, .hash_size = hash};
	struct arp_cache *c = arp_cache_new(&p);
	assert_non_null(c);
	return c;
}

static struct arp_entry *ins(struct arp_cache *c, uint32_t ip, enum arp_type t, uint64_t exp)
{
	struct mac m = mac_of(ip);
	bool ev = true;
	struct arp_entry *e = arp_cache_insert(c, ip, t, &m, exp, NULL, &ev);
	assert_non_null(e);
	assert_false(ev);
	return e;
}

static void test_types(void **state)
{
	(void)state;
	assert_string_equal(arp_type_name(ARP_DYNAMIC), "dynamic");
	assert_string_equal(arp_type_name(ARP_STATIC), "static");
	assert_string_equal(arp_type_name(ARP_PUBLISH), "publish");
	assert_string_equal(arp_type_name(ARP_XPUBLISH), "xpublish");
	assert_string_equal(arp_type_name(ARP_UNKNOWN), "unknown");
	assert_string_equal(arp_type_name(ARP_INCOMPLETE), "incomplete");
	assert_non_null(arp_type_name(ARP_TYPE__COUNT));
	assert_false(arp_type_is_configured(ARP_DYNAMIC));
	assert_true(arp_type_is_configured(ARP_STATIC));
	assert_true(arp_type_is_configured(ARP_PUBLISH));
	assert_true(arp_type_is_configured(ARP_XPUBLISH));
	assert_false(arp_type_is_configured(ARP_UNKNOWN));
	assert_false(arp_type_is_configured(ARP_INCOMPLETE));
}

static void test_new_params(void **state)
{
	(void)state;
	struct arp_cache_params p = {.max_entries = 0, .hash_size = 64};
	errno = 0;
	assert_null(arp_cache_new(&p));
	assert_int_equal(errno, EINVAL);

	/* hash_size 0 and an odd hash_size are fine */
	struct arp_cache *c = new_cache(10, 0);
	for (uint32_t i = 0; i < 10; i++)
		ins(c, i, ARP_DYNAMIC, 100);
	for (uint32_t i = 0; i < 10; i++)
		assert_non_null(arp_cache_lookup(c, i));
	assert_int_equal(arp_cache_capacity(c), 10);
	arp_cache_free(c);
	c = new_cache(1000, 1000);
	assert_int_equal(arp_cache_count(c), 0);
	assert_null(arp_cache_lookup(c, 0));
	assert_null(arp_cache_expired(c, UINT64_MAX));
	assert_int_equal(arp_cache_next_deadline(c), UINT64_MAX);
	size_t cur = 0;
	assert_null(arp_cache_next(c, &cur));
	assert_true(arp_cache_bytes(c) > 0);
	arp_cache_free(c);
	arp_cache_free(NULL);
}

static void test_insert_lookup_remove(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(100, 16);
	struct mac m = mac_of(7);
	struct arp_entry ev;
	bool did = true;

	struct arp_entry *e =
	    arp_cache_insert(c, IP(198, 18, 0, 7), ARP_DYNAMIC, &m, 5000, &ev, &did);
	assert_non_null(e);
	assert_false(did);
	assert_int_equal(e->ip, IP(198, 18, 0, 7));
	assert_memory_equal(e->mac.a, m.a, MAC_LEN);
	assert_int_equal(e->type, ARP_DYNAMIC);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->expires, 5000);
	assert_int_equal(e->query_until, 0);
	assert_int_equal(arp_cache_count(c), 1);
	assert_ptr_equal(arp_cache_lookup(c, IP(198, 18, 0, 7)), e);
	assert_null(arp_cache_lookup(c, IP(198, 18, 0, 8)));

	/* NULL MAC means zero */
	struct arp_entry *u =
	    arp_cache_insert(c, IP(198, 18, 0, 8), ARP_INCOMPLETE, NULL, 300, NULL, NULL);
	assert_non_null(u);
	struct mac zero = {{0}};
	assert_memory_equal(u->mac.a, zero.a, MAC_LEN);
	assert_int_equal(u->type, ARP_INCOMPLETE);

	/* configured types never expire, whatever deadline is passed */
	struct arp_entry *s =
	    arp_cache_insert(c, IP(198, 18, 0, 9), ARP_STATIC, &m, 10, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(s->expires, UINT64_MAX);
	s = arp_cache_insert(c, IP(198, 18, 0, 10), ARP_PUBLISH, &m, 10, NULL, NULL);
	assert_int_equal(s->expires, UINT64_MAX);
	s = arp_cache_insert(c, IP(198, 18, 0, 11), ARP_XPUBLISH, &m, 10, NULL, NULL);
	assert_int_equal(s->expires, UINT64_MAX);
	assert_int_equal(arp_cache_count(c), 5);

	/* a present IP is refused */
	errno = 0;
	assert_null(arp_cache_insert(c, IP(198, 18, 0, 7), ARP_DYNAMIC, &m, 1, NULL, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(arp_cache_count(c), 5);

	/* 0.0.0.0 and 255.255.255.255 are ordinary keys to the table */
	ins(c, 0, ARP_DYNAMIC, 1);
	ins(c, UINT32_MAX, ARP_DYNAMIC, 1);
	assert_int_equal(arp_cache_lookup(c, 0)->ip, 0);
	assert_int_equal(arp_cache_lookup(c, UINT32_MAX)->ip, UINT32_MAX);

	e = arp_cache_lookup(c, IP(198, 18, 0, 7));
	arp_cache_remove(c, e);
	assert_null(arp_cache_lookup(c, IP(198, 18, 0, 7)));
	assert_int_equal(arp_cache_count(c), 6);
	assert_non_null(arp_cache_lookup(c, IP(198, 18, 0, 8)));
	/* and it can come back */
	e = ins(c, IP(198, 18, 0, 7), ARP_DYNAMIC, 77);
	assert_int_equal(e->expires, 77);
	assert_int_equal(arp_cache_count(c), 7);
	arp_cache_free(c);
}

static void test_growth(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct arp_cache *c = new_cache(N, 16);
	size_t b0 = arp_cache_bytes(c);
	for (uint32_t i = 0; i < N; i++) {
		ins(c, IP(10, 0, 0, 0) + i * 7, ARP_DYNAMIC, 1000 + i);
		/* earlier entries stay reachable through every growth */
		if ((i & (i - 1)) == 0)
			for (uint32_t k = 0; k <= i; k += 1 + i / 64)
				assert_int_equal(arp_cache_lookup(c, IP(10, 0, 0, 0) + k * 7)->ip,
						 IP(10, 0, 0, 0) + k * 7);
	}
	assert_int_equal(arp_cache_count(c), N);
	assert_true(arp_cache_bytes(c) > b0);
	for (uint32_t i = 0; i < N; i++) {
		struct arp_entry *e = arp_cache_lookup(c, IP(10, 0, 0, 0) + i * 7);
		assert_non_null(e);
		struct mac m = mac_of(IP(10, 0, 0, 0) + i * 7);
		assert_memory_equal(e->mac.a, m.a, MAC_LEN);
		assert_int_equal(e->expires, 1000 + i);
		/* the keys in between are absent */
		assert_null(arp_cache_lookup(c, IP(10, 0, 0, 0) + i * 7 + 3));
	}
	/* remove every other one; the rest stay */
	for (uint32_t i = 0; i < N; i += 2)
		arp_cache_remove(c, arp_cache_lookup(c, IP(10, 0, 0, 0) + i * 7));
	assert_int_equal(arp_cache_count(c), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		struct arp_entry *e = arp_cache_lookup(c, IP(10, 0, 0, 0) + i * 7);
		if (i % 2)
			assert_non_null(e);
		else
			assert_null(e);
	}
	arp_cache_free(c);
}

/* ---- random operations against a plain array map ---- */

#define UNIVERSE 3000

struct ref {
	bool live;
	uint8_t type;
	struct mac mac;
	uint64_t expires;
};

static uint32_t key_of(uint32_t k)
{
	/* a mix of dense runs and scattered addresses */
	return (k & 1) ? IP(198, 18, 0, 0) + k : (k * 2654435761u) ^ 0x5a5a5a5au;
}

/* The inverse of key_of, or UNIVERSE for an IP that is no key. */
static uint32_t key_index(uint32_t ip)
{
	uint32_t d = ip - IP(198, 18, 0, 0);
	if (d < UNIVERSE && (d & 1))
		return d;
	/* 2654435761 is odd, so multiplying by it is invertible mod 2^32 */
	uint32_t inv = 2654435761u;
	for (int i = 0; i < 5; i++)
		inv *= 2 - 2654435761u * inv;
	uint32_t k = (ip ^ 0x5a5a5a5au) * inv;
	if (k < UNIVERSE && !(k & 1) && key_of(k) == ip)
		return k;
	return UNIVERSE;
}

static void check_all(struct arp_cache *c, const struct ref *r)
{
	size_t live = 0;
	for (uint32_t k = 0; k < UNIVERSE; k++) {
		struct arp_entry *e = arp_cache_lookup(c, key_of(k));
		/* the read-only lookup finds the same entry */
		assert_ptr_equal(arp_cache_find(c, key_of(k)), e);
		if (!r[k].live) {
			assert_null(e);
			continue;
		}
		live++;
		assert_non_null(e);
		assert_int_equal(e->ip, key_of(k));
		assert_int_equal(e->type, r[k].type);
		assert_memory_equal(e->mac.a, r[k].mac.a, MAC_LEN);
		assert_int_equal(e->expires, r[k].expires);
	}
	assert_int_equal(arp_cache_count(c), live);

	/* iteration: every live entry exactly once */
	uint8_t *seen = calloc(UNIVERSE, 1);
	assert_non_null(seen);
	size_t cur = 0, n = 0;
	const struct arp_entry *e;
	while ((e = arp_cache_next(c, &cur))) {
		uint32_t k = key_index(e->ip);
		assert_true(k < UNIVERSE);
		assert_true(r[k].live);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		n++;
	}
	assert_int_equal(n, live);
	free(seen);
}

static void test_random_vs_reference(void **state)
{
	(void)state;
	struct ref *r = calloc(UNIVERSE, sizeof(*r));
	assert_non_null(r);
	/* a small start so the table grows, and a high, churning load */
	struct arp_cache *c = new_cache(UNIVERSE, 8);
	static const uint8_t types[] = {ARP_DYNAMIC,  ARP_STATIC,  ARP_PUBLISH,
					ARP_XPUBLISH, ARP_UNKNOWN, ARP_INCOMPLETE};
	uint64_t now = 1000;

	/* the keys are distinct, and key_index inverts key_of */
	for (uint32_t k = 0; k < UNIVERSE; k++)
		assert_int_equal(key_index(key_of(k)), k);

	for (int op = 0; op < 200000; op++) {
		/* bias towards a fuller table in the middle of the run */
		uint32_t k = rnd() % (op > 50000 && op < 150000 ? UNIVERSE : UNIVERSE / 3);
		uint32_t what = rnd() % 10;
		struct arp_entry *e = arp_cache_lookup(c, key_of(k));
		assert_true((e != NULL) == r[k].live);
		if (!r[k].live && what < 6) {
			uint8_t t = types[rnd() % 6];
			struct mac m = mac_of(rnd());
			uint64_t exp = now + rnd() % 5000;
			bool did = true;
			e = arp_cache_insert(c, key_of(k), t, &m, exp, NULL, &did);
			assert_non_null(e);
			assert_false(did);
			r[k].live = true;
			r[k].type = t;
			r[k].mac = m;
			r[k].expires = arp_type_is_configured(t) ? UINT64_MAX : exp;
		} else if (r[k].live && what < 7) {
			arp_cache_remove(c, e);
			r[k].live = false;
		} else if (r[k].live) {
			uint8_t t = types[rnd() % 6];
			struct mac m = mac_of(rnd());
			bool keep = rnd() & 1;
			uint64_t exp = now + rnd() % 5000;
			arp_cache_update(c, e, t, keep ? NULL : &m, exp);
			r[k].type = t;
			if (!keep)
				r[k].mac = m;
			r[k].expires = arp_type_is_configured(t) ? UINT64_MAX : exp;
		}
		now += rnd() % 3;
		if (op % 20000 == 0)
			check_all(c, r);
	}
	check_all(c, r);

	/* the deadline lists hold exactly the timed entries, in order */
	size_t timed = 0;
	for (uint32_t k = 0; k < UNIVERSE; k++)
		if (r[k].live && !arp_type_is_configured(r[k].type))
			timed++;
	uint64_t last = 0;
	struct arp_entry *e;
	size_t drained = 0;
	while ((e = arp_cache_expired(c, UINT64_MAX - 1))) {
		assert_false(arp_type_is_configured(e->type));
		assert_true(e->expires >= last);
		last = e->expires;
		uint32_t k = key_index(e->ip);
		assert_true(k < UNIVERSE);
		r[k].live = false;
		arp_cache_remove(c, e);
		drained++;
	}
	assert_int_equal(drained, timed);
	assert_int_equal(arp_cache_next_deadline(c), UINT64_MAX);
	check_all(c, r);
	arp_cache_free(c);
	free(r);
}

/*
 * An 8-slot table kept at its highest load: clusters wrap around the end
 * of the table, so backward-shift deletion meets every case. Checked after
 * every operation.
 */
static void test_random_small_table(void **state)
{
	(void)state;
	enum { KEYS = 24, MAX = 6 };
	struct arp_cache *c = new_cache(MAX, 8);
	bool live[KEYS] = {false};
	size_t n = 0;

	for (int op = 0; op < 100000; op++) {
		uint32_t k = rnd() % KEYS;
		uint32_t ip = k * 0x01000193u + (k & 3); /* scattered, a few close together */
		struct arp_entry *e = arp_cache_lookup(c, ip);
		assert_true((e != NULL) == live[k]);
		if (e) {
			assert_int_equal(e->ip, ip);
			arp_cache_remove(c, e);
			live[k] = false;
			n--;
		} else if (n < MAX) {
			e = ins(c, ip, (rnd() & 1) ? ARP_DYNAMIC : ARP_STATIC, op);
			live[k] = true;
			n++;
		}
		assert_int_equal(arp_cache_count(c), n);
		for (uint32_t j = 0; j < KEYS; j++) {
			uint32_t jip = j * 0x01000193u + (j & 3);
			e = arp_cache_lookup(c, jip);
			assert_true((e != NULL) == live[j]);
			if (e)
				assert_int_equal(e->ip, jip);
		}
	}
	/* it never grew past 8 slots */
	size_t small = arp_cache_bytes(c);
	struct arp_cache *d = new_cache(MAX, 8);
	assert_int_equal(small, arp_cache_bytes(d));
	arp_cache_free(d);
	arp_cache_free(c);
}

/* ---- eviction ---- */

static void test_evict_unknown_incomplete_first(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(5, 8);
	struct arp_entry ev;
	bool did;
	struct mac m = mac_of(99);

	ins(c, 1, ARP_DYNAMIC, 10); /* the earliest deadline of all */
	ins(c, 2, ARP_STATIC, 0);
	ins(c, 3, ARP_UNKNOWN, 300);
	ins(c, 4, ARP_INCOMPLETE, 200);
	ins(c, 5, ARP_UNKNOWN, 250);
	assert_int_equal(arp_cache_count(c), 5);

	/* incomplete 4 (200) is earlier than unknown 5 (250) and 3 (300) */
	memset(&ev, 0, sizeof(ev));
	did = false;
	assert_non_null(arp_cache_insert(c, 6, ARP_DYNAMIC, &m, 1000, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 4);
	assert_int_equal(ev.type, ARP_INCOMPLETE);
	assert_int_equal(ev.expires, 200);
	assert_null(arp_cache_lookup(c, 4));
	assert_int_equal(arp_cache_count(c), 5);

	did = false;
	assert_non_null(arp_cache_insert(c, 7, ARP_DYNAMIC, &m, 1001, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 5);
	assert_int_equal(ev.type, ARP_UNKNOWN);

	did = false;
	assert_non_null(arp_cache_insert(c, 8, ARP_INCOMPLETE, NULL, 2000, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 3);

	/* an incomplete entry is evicted even by another one */
	did = false;
	assert_non_null(arp_cache_insert(c, 9, ARP_INCOMPLETE, NULL, 3000, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 8);

	did = false;
	assert_non_null(arp_cache_insert(c, 10, ARP_DYNAMIC, &m, 3000, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 9);

	/* none left: the earliest dynamic goes, in deadline order */
	did = false;
	assert_non_null(arp_cache_insert(c, 11, ARP_DYNAMIC, &m, 5000, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 1);
	assert_int_equal(ev.type, ARP_DYNAMIC);
	assert_memory_equal(ev.mac.a, mac_of(1).a, MAC_LEN);
	did = false;
	assert_non_null(arp_cache_insert(c, 12, ARP_DYNAMIC, &m, 5000, NULL, &did));
	assert_true(did);
	assert_null(arp_cache_lookup(c, 6)); /* 1000 */
	/* evicted may be NULL and did_evict may be NULL */
	assert_non_null(arp_cache_insert(c, 13, ARP_DYNAMIC, &m, 5000, NULL, NULL));
	assert_null(arp_cache_lookup(c, 7)); /* 1001 */
	assert_non_null(arp_cache_lookup(c, 2));
	assert_int_equal(arp_cache_count(c), 5);
	arp_cache_free(c);
}

static void test_evict_earlier_of_unknown_incomplete(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(2, 8);
	struct arp_entry ev;
	bool did = false;
	ins(c, 1, ARP_INCOMPLETE, 100);
	ins(c, 2, ARP_UNKNOWN, 50);
	assert_non_null(arp_cache_insert(c, 3, ARP_DYNAMIC, NULL, 1, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 2);
	arp_cache_free(c);
}

static void test_configured_never_evicted(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(4, 8);
	struct arp_entry ev;
	bool did;
	struct mac m = mac_of(1);

	ins(c, 1, ARP_STATIC, 0);
	ins(c, 2, ARP_PUBLISH, 0);
	ins(c, 3, ARP_XPUBLISH, 0);
	ins(c, 4, ARP_DYNAMIC, 100);

	did = false;
	assert_non_null(arp_cache_insert(c, 5, ARP_STATIC, &m, 0, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 4);

	/* full of configured entries: ENOSPC, nothing changes */
	errno = 0;
	did = true;
	assert_null(arp_cache_insert(c, 6, ARP_DYNAMIC, &m, 100, &ev, &did));
	assert_int_equal(errno, ENOSPC);
	assert_false(did);
	errno = 0;
	assert_null(arp_cache_insert(c, 7, ARP_INCOMPLETE, NULL, 100, NULL, NULL));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(arp_cache_count(c), 4);
	for (uint32_t ip = 1; ip <= 5; ip++)
		if (ip != 4)
			assert_non_null(arp_cache_lookup(c, ip));
	assert_null(arp_cache_lookup(c, 6));
	assert_null(arp_cache_expired(c, UINT64_MAX));
	assert_int_equal(arp_cache_next_deadline(c), UINT64_MAX);

	/* room again after a removal */
	arp_cache_remove(c, arp_cache_lookup(c, 2));
	did = true;
	assert_non_null(arp_cache_insert(c, 6, ARP_DYNAMIC, &m, 100, &ev, &did));
	assert_false(did);
	arp_cache_free(c);
}

static void test_evict_size_one(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(1, 1);
	struct arp_entry ev;
	bool did;
	for (uint32_t i = 1; i < 100; i++) {
		did = false;
		assert_non_null(arp_cache_insert(c, i, ARP_DYNAMIC, NULL, i, &ev, &did));
		assert_int_equal(did, i > 1);
		if (i > 1)
			assert_int_equal(ev.ip, i - 1);
		assert_int_equal(arp_cache_count(c), 1);
	}
	arp_cache_free(c);
}

/* ---- expiry ---- */

static void test_expiry_order(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(100, 8);
	ins(c, 1, ARP_DYNAMIC, 500);
	ins(c, 2, ARP_DYNAMIC, 100);
	ins(c, 3, ARP_DYNAMIC, 300);
	ins(c, 4, ARP_UNKNOWN, 200);
	ins(c, 5, ARP_INCOMPLETE, 50);
	ins(c, 6, ARP_INCOMPLETE, 400);
	ins(c, 7, ARP_STATIC, 1);
	ins(c, 8, ARP_DYNAMIC, 300); /* ties: in insertion order */
	ins(c, 9, ARP_DYNAMIC, 0);
	ins(c, 10, ARP_UNKNOWN, 150);
	ins(c, 11, ARP_UNKNOWN, 120);

	assert_int_equal(arp_cache_next_deadline(c), 0);
	struct arp_entry *e = arp_cache_expired(c, 0);
	assert_non_null(e);
	assert_int_equal(e->ip, 9);
	arp_cache_remove(c, e);
	assert_int_equal(arp_cache_next_deadline(c), 50);
	assert_null(arp_cache_expired(c, 49));

	static const uint32_t order[] = {5, 2, 11, 10, 4, 3, 8, 6, 1};
	static const uint64_t when[] = {50, 100, 120, 150, 200, 300, 300, 400, 500};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		assert_int_equal(arp_cache_next_deadline(c), when[i]);
		assert_null(arp_cache_expired(c, when[i] - 1));
		e = arp_cache_expired(c, when[i]);
		assert_non_null(e);
		assert_int_equal(e->ip, order[i]);
		assert_int_equal(e->expires, when[i]);
		arp_cache_remove(c, e);
	}
	assert_null(arp_cache_expired(c, UINT64_MAX));
	assert_int_equal(arp_cache_next_deadline(c), UINT64_MAX);
	assert_int_equal(arp_cache_count(c), 1);
	assert_non_null(arp_cache_lookup(c, 7));
	arp_cache_free(c);
}

static void test_expiry_many_out_of_order(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct arp_cache *c = new_cache(N, 64);
	for (uint32_t i = 0; i < N; i++)
		ins(c, i + 1, (i % 3 == 0) ? ARP_UNKNOWN : ARP_DYNAMIC, rnd() % 100000);
	uint64_t last = 0;
	size_t n = 0;
	struct arp_entry *e;
	while ((e = arp_cache_expired(c, 100000))) {
		assert_true(e->expires >= last);
		last = e->expires;
		arp_cache_remove(c, e);
		n++;
	}
	assert_int_equal(n, N);
	arp_cache_free(c);
}

/* ---- update ---- */

static void test_update(void **state)
{
	(void)state;
	struct arp_cache *c = new_cache(100, 8);
	struct mac m2 = mac_of(0xabcdef);
	struct arp_entry *a = ins(c, 1, ARP_DYNAMIC, 100);
	ins(c, 2, ARP_DYNAMIC, 200);
	struct arp_entry *x = ins(c, 3, ARP_INCOMPLETE, 300);
	x->query_until = 300;
	x->flags = 0;

	/* dynamic -> unknown, MAC kept when NULL */
	arp_cache_update(c, a, ARP_UNKNOWN, NULL, 250);
	assert_int_equal(a->type, ARP_UNKNOWN);
	assert_int_equal(a->expires, 250);
	assert_memory_equal(a->mac.a, mac_of(1).a, MAC_LEN);
	assert_int_equal(arp_cache_next_deadline(c), 200);

	/* incomplete -> dynamic with a MAC, earlier than everything */
	arp_cache_update(c, x, ARP_DYNAMIC, &m2, 50);
	assert_int_equal(x->type, ARP_DYNAMIC);
	assert_memory_equal(x->mac.a, m2.a, MAC_LEN);
	assert_int_equal(x->query_until, 300); /* not the cache's business */
	assert_int_equal(arp_cache_next_deadline(c), 50);

	/* dynamic -> static: off the lists, never expires */
	arp_cache_update(c, x, ARP_STATIC, NULL, 10);
	assert_int_equal(x->expires, UINT64_MAX);
	assert_int_equal(arp_cache_next_deadline(c), 200);

	/* refresh within the same list, moving later */
	struct arp_entry *b = arp_cache_lookup(c, 2);
	arp_cache_update(c, b, ARP_DYNAMIC, NULL, 1000);
	assert_int_equal(arp_cache_next_deadline(c), 250);

	/* static -> incomplete: back on a list */
	arp_cache_update(c, x, ARP_INCOMPLETE, NULL, 600);
	assert_int_equal(x->expires, 600);

	static const uint32_t order[] = {1, 3, 2};
	static const uint64_t when[] = {250, 600, 1000};
	for (size_t i = 0; i < 3; i++) {
		struct arp_entry *e = arp_cache_expired(c, UINT64_MAX - 1);
		assert_non_null(e);
		assert_int_equal(e->ip, order[i]);
		assert_int_equal(e->expires, when[i]);
		/* expiring incomplete -> unknown is what the engine does */
		if (e->type == ARP_INCOMPLETE) {
			arp_cache_update(c, e, ARP_UNKNOWN, NULL, 5000);
			continue;
		}
		arp_cache_remove(c, e);
	}
	struct arp_entry *e = arp_cache_expired(c, UINT64_MAX - 1);
	assert_non_null(e);
	assert_int_equal(e->ip, 3);
	assert_int_equal(e->type, ARP_UNKNOWN);
	arp_cache_remove(c, e);
	assert_null(arp_cache_expired(c, UINT64_MAX));
	assert_int_equal(arp_cache_count(c), 0);
	arp_cache_free(c);
}

/* ---- iteration ---- */

static void test_iteration(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct arp_cache *c = new_cache(N, 16);
	for (uint32_t i = 0; i < N; i++)
		ins(c, 5000 + i, (enum arp_type)(i % ARP_TYPE__COUNT), i);
	for (uint32_t i = 0; i < N; i += 3)
		arp_cache_remove(c, arp_cache_lookup(c, 5000 + i));
	/* reuse some freed slots */
	for (uint32_t i = 0; i < 100; i++)
		ins(c, 100000 + i, ARP_DYNAMIC, i);

	uint8_t seen[N + 100];
	memset(seen, 0, sizeof(seen));
	size_t cur = 0, n = 0;
	const struct arp_entry *e;
	while ((e = arp_cache_next(c, &cur))) {
		uint32_t k = e->ip >= 100000 ? N + (e->ip - 100000) : e->ip - 5000;
		assert_true(k < N + 100);
		assert_int_equal(seen[k], 0);
		if (k < N)
			assert_true(k % 3 != 0);
		seen[k] = 1;
		n++;
	}
	assert_int_equal(n, arp_cache_count(c));
	assert_int_equal(n, N - (N + 2) / 3 + 100);
	/* the end stays the end */
	assert_null(arp_cache_next(c, &cur));
	arp_cache_free(c);
}

/* ---- memory ---- */

static void test_bytes_per_entry_1m(void **state)
{
	(void)state;
	enum { N = 1000000 };
	struct arp_cache *c = new_cache(N, 512);
	struct mac m = mac_of(1);
	for (uint32_t i = 0; i < N; i++)
		assert_non_null(arp_cache_insert(c, 0x0a000000u + i * 7u, ARP_DYNAMIC, &m, 1000 + i,
						 NULL, NULL));
	double bpe = (double)arp_cache_bytes(c) / N;
	print_message("arp_cache: %.2f bytes per entry at %d entries\n", bpe, N);
	assert_true(bpe <= 64.0);
	assert_true(bpe >= 40.0); /* an entry is 40 bytes; the figure is not made up */
	for (uint32_t i = 0; i < N; i += 97)
		assert_int_equal(arp_cache_lookup(c, 0x0a000000u + i * 7u)->ip,
				 0x0a000000u + i * 7u);
	/* full: the next insert evicts the earliest dynamic */
	struct arp_entry ev;
	bool did = false;
	assert_non_null(arp_cache_insert(c, 1, ARP_DYNAMIC, &m, 1, &ev, &did));
	assert_true(did);
	assert_int_equal(ev.ip, 0x0a000000u);
	assert_true((double)arp_cache_bytes(c) / N <= 64.0);

	/* a power-of-two maximum, filled completely */
	arp_cache_free(c);
	c = new_cache(1u << 20, 512);
	for (uint32_t i = 0; i < (1u << 20); i++)
		assert_non_null(arp_cache_insert(c, i * 13u, ARP_DYNAMIC, &m, i, NULL, NULL));
	bpe = (double)arp_cache_bytes(c) / (1u << 20);
	print_message("arp_cache: %.2f bytes per entry at %u entries\n", bpe, 1u << 20);
	assert_true(bpe <= 64.0);
	arp_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_new_params),
	    cmocka_unit_test(test_insert_lookup_remove),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_random_vs_reference),
	    cmocka_unit_test(test_random_small_table),
	    cmocka_unit_test(test_evict_unknown_incomplete_first),
	    cmocka_unit_test(test_evict_earlier_of_unknown_incomplete),
	    cmocka_unit_test(test_configured_never_evicted),
	    cmocka_unit_test(test_evict_size_one),
	    cmocka_unit_test(test_expiry_order),
	    cmocka_unit_test(test_expiry_many_out_of_order),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_iteration),
	    cmocka_unit_test(test_bytes_per_entry_1m),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
