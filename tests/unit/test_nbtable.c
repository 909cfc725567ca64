/*
 * Unit tests for the neighbour cache: eviction order (oldest inactive
 * first, an active one only from a table of active entries, counted
 * apart), active/inactive by ActiveTimeout, the IPv4 list, DHCP facts,
 * identification, merging peers' records (newer wins, never backwards,
 * first_seen the minimum), counters, and a big table.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/nbtable.h"

static struct mac mk(uint32_t i)
{
	struct mac m = {
	    {0x00, 0x50, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
	return m;
}

static struct nbtable *table(uint32_t size, uint64_t timeout)
{
	struct nbt_params p;
	nbt_params_default(&p);
	p.size = size;
	p.active_timeout_ms = timeout;
	p.self_id = 7;
	for (unsigned i = 0; i < NBT_KEY_LEN; i++)
		p.key[i] = (uint8_t)(i * 13 + 1);
	struct nbtable *t = nbt_new(&p);
	assert_non_null(t);
	return t;
}

static void t_params(void **state)
{
	struct nbt_params p;
	nbt_params_default(&p);
	assert_int_equal(p.size, 400);
	assert_int_equal(p.active_timeout_ms, 300000);
	p.size = 0;
	errno = 0;
	assert_null(nbt_new(&p));
	assert_int_equal(errno, EINVAL);
	p.size = NBT_SIZE_MAX + 1;
	assert_null(nbt_new(&p));
	p.size = NBT_SIZE_MAX;
	struct nbtable *t = nbt_new(&p);
	assert_non_null(t);
	nbt_free(t);
	p.size = 1;
	p.active_timeout_ms = 0;
	assert_null(nbt_new(&p));
	printf("sizeof(struct nbt_record) = %zu, bytes per entry (entry + hash + heap) = %zu\n",
	       sizeof(struct nbt_record), nbt_entry_size());
}

static void t_bad_input(void **state)
{
	struct nbtable *t = table(4, 1000);
	struct mac m = mk(1), group = {{0x01, 0, 0x5e, 0, 0, 1}}, zero = {{0}};
	errno = 0;
	assert_null(nbt_seen(t, "", &m, 0, 1, NBT_SRC_ARP));
	assert_int_equal(errno, EINVAL);
	assert_null(nbt_seen(t, "averyveryverylongname", &m, 0, 1, NBT_SRC_ARP));
	assert_null(nbt_seen(t, "lan\x1b", &m, 0, 1, NBT_SRC_ARP));
	assert_null(nbt_seen(t, "lan", &group, 0, 1, NBT_SRC_ARP));
	assert_null(nbt_seen(t, "lan", &zero, 0, 1, NBT_SRC_ARP));
	assert_null(nbt_seen(t, "lan", &m, 0, 1, 0));
	assert_null(nbt_seen(t, "lan", &m, 0, 1, NBT_SRC_ARP | NBT_SRC_DHCP));
	assert_null(nbt_seen(t, "lan", &m, 0, 1, 0x10));
	assert_int_equal(nbt_counters(t)->refused, 8);
	assert_int_equal(nbt_count(t), 0);
	const struct nbt_record *e = nbt_seen(t, "lan", &m, 0, 1, NBT_SRC_ARP);
	assert_non_null(e);
	struct nbt_record other = *e;
	assert_int_equal(nbt_set_device(t, &other, "phone", NULL, NULL, 50), -1);
	assert_int_equal(nbt_set_device(t, e, "phone", NULL, NULL, 101), -1);
	assert_int_equal(nbt_set_device(t, e, "0123456789012345678901234567890123", NULL, NULL, 1),
			 -1);
	assert_int_equal(nbt_set_vendor(t, e, "bad\nname"), -1);
	assert_int_equal(nbt_merge(t, e, 0, 2), -1); /* node 0 */
	assert_int_equal(nbt_counters(t)->refused, 13);
	nbt_free(t);
}

static void t_seen_and_active(void **state)
{
	struct nbtable *t = table(10, 1000);
	struct mac m = mk(1);
	const struct nbt_record *e = nbt_seen(t, "lan", &m, 0xc6120001, 100, NBT_SRC_ARP);
	assert_non_null(e);
	assert_string_equal(e->iface, "lan");
	assert_int_equal(e->first_seen, 100);
	assert_int_equal(e->last_seen, 100);
	assert_int_equal(e->n_ip4, 1);
	assert_int_equal(e->sources, NBT_SRC_ARP);
	assert_int_equal(e->node, 0);
	assert_true(nbt_active(t, e, 100));
	assert_true(nbt_active(t, e, 1099));
	assert_false(nbt_active(t, e, 1100));
	assert_true(nbt_active(t, e, 50)); /* seen after now */
	/* the same MAC on another interface is another entry */
	assert_non_null(nbt_seen(t, "wan", &m, 0, 200, NBT_SRC_KERNEL));
	assert_int_equal(nbt_count(t), 2);
	e = nbt_seen(t, "lan", &m, 0, 500, NBT_SRC_KERNEL);
	assert_int_equal(e->last_seen, 500);
	assert_int_equal(e->sources, NBT_SRC_ARP | NBT_SRC_KERNEL);
	/* an older sighting moves nothing backwards */
	e = nbt_seen(t, "lan", &m, 0, 300, NBT_SRC_ARP);
	assert_int_equal(e->last_seen, 500);
	assert_int_equal(e->first_seen, 100);
	e = nbt_seen(t, "lan", &m, 0, 40, NBT_SRC_ARP);
	assert_int_equal(e->first_seen, 40);
	assert_int_equal(nbt_counters(t)->inserted, 2);
	assert_int_equal(nbt_counters(t)->updated, 3);
	assert_ptr_equal(nbt_find(t, "lan", &m), e);
	assert_null(nbt_find(t, "dmz", &m));
	assert_int_equal(nbt_remove(t, "lan", &m), 0);
	assert_int_equal(nbt_remove(t, "lan", &m), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(nbt_find(t, "lan", &m));
	assert_int_equal(nbt_count(t), 1);
	assert_int_equal(nbt_counters(t)->entries, 1);
	nbt_free(t);
}

static void t_ip4_list(void **state)
{
	struct nbtable *t = table(4, 1000);
	struct mac m = mk(1);
	const struct nbt_record *e = NULL;
	for (uint32_t i = 1; i <= 10; i++)
		e = nbt_seen(t, "lan", &m, 0xc6120000 + i, i, NBT_SRC_ARP);
	assert_int_equal(e->n_ip4, NBT_MAX_IP4);
	for (unsigned i = 0; i < NBT_MAX_IP4; i++)
		assert_int_equal(e->ip4[i], 0xc612000a - i); /* 10, 9, ..., 3 */
	/* a held one moves to the front; nothing else moves, nothing is lost */
	e = nbt_seen(t, "lan", &m, 0xc6120005, 11, NBT_SRC_ARP);
	static const uint32_t want[] = {5, 10, 9, 8, 7, 6, 4, 3};
	for (unsigned i = 0; i < NBT_MAX_IP4; i++)
		assert_int_equal(e->ip4[i], 0xc6120000 + want[i]);
	/* none (0) leaves the list as it is */
	e = nbt_seen(t, "lan", &m, 0, 12, NBT_SRC_ARP);
	assert_int_equal(e->ip4[0], 0xc6120005);
	assert_int_equal(e->n_ip4, NBT_MAX_IP4);
	/* a new one pushes the oldest (3) out */
	e = nbt_seen(t, "lan", &m, 0xc6120063, 13, NBT_SRC_ARP);
	assert_int_equal(e->ip4[0], 0xc6120063);
	assert_int_equal(e->ip4[7], 0xc6120004);
	assert_true(nbt_record_valid(e));
	nbt_free(t);
}

/* Entry i was seen at time base + i, for i in [0, n). */
static void fill(struct nbtable *t, uint32_t n, uint64_t base)
{
	for (uint32_t i = 0; i < n; i++) {
		struct mac m = mk(i);
		assert_non_null(nbt_seen(t, "lan", &m, 0, base + i, NBT_SRC_ARP));
	}
}

static void t_evict_oldest_inactive(void **state)
{
	/* 450 sightings into Size=400: the 50 oldest go, and they are inactive */
	struct nbtable *t = table(400, 300000);
	for (uint32_t i = 0; i < 450; i++) {
		struct mac m = mk(i);
		uint64_t now = i < 300 ? i : 1000000 + i; /* the first 300 are long inactive */
		assert_non_null(nbt_seen(t, "lan", &m, 0, now, NBT_SRC_ARP));
	}
	assert_int_equal(nbt_count(t), 400);
	for (uint32_t i = 0; i < 450; i++) {
		struct mac m = mk(i);
		if (i < 50)
			assert_null(nbt_find(t, "lan", &m));
		else
			assert_non_null(nbt_find(t, "lan", &m));
	}
	const struct nbt_counters *c = nbt_counters(t);
	assert_int_equal(c->evicted_inactive, 50);
	assert_int_equal(c->evicted_active, 0);
	assert_int_equal(c->inserted, 450);
	assert_int_equal(c->entries, 400);
	nbt_free(t);
}

static void t_evict_never_active_while_inactive(void **state)
{
	/*
	 * Entries inserted in an order unlike their age: the one refreshed
	 * last must stay, and one inactive entry among active ones is the
	 * one that goes even when it was inserted last.
	 */
	struct nbtable *t = table(5, 1000);
	fill(t, 5, 10000); /* 10000..10004, all active at 10500 */
	struct mac old = mk(100);
	/* a refresh of entry 0 makes entry 1 the least recently seen */
	struct mac m0 = mk(0);
	nbt_seen(t, "lan", &m0, 0, 10400, NBT_SRC_ARP);
	struct mac n1 = mk(50);
	assert_non_null(nbt_seen(t, "lan", &n1, 0, 10500, NBT_SRC_ARP));
	struct mac m1 = mk(1);
	assert_null(nbt_find(t, "lan", &m1));
	assert_non_null(nbt_find(t, "lan", &m0));
	assert_int_equal(nbt_counters(t)->evicted_active, 1);
	/* entry 2 goes inactive once its timeout is over: it is the one to go */
	assert_int_equal(nbt_remove(t, "lan", &n1), 0);
	const struct nbt_record *e;
	for (uint32_t i = 3; i < 5; i++) {
		struct mac m = mk(i);
		nbt_seen(t, "lan", &m, 0, 11500, NBT_SRC_ARP);
	}
	nbt_seen(t, "lan", &m0, 0, 11500, NBT_SRC_ARP);
	e = nbt_seen(t, "lan", &old, 0, 11500, NBT_SRC_ARP); /* fills the table again */
	assert_non_null(e);
	struct mac n2 = mk(51);
	assert_non_null(nbt_seen(t, "lan", &n2, 0, 11600, NBT_SRC_ARP));
	struct mac m2 = mk(2);
	assert_null(nbt_find(t, "lan", &m2));
	assert_int_equal(nbt_counters(t)->evicted_inactive, 1);
	assert_int_equal(nbt_counters(t)->evicted_active, 1);
	nbt_free(t);
}

static void t_evict_all_active(void **state)
{
	/* a full table of active entries evicts the least recently seen and counts it */
	struct nbtable *t = table(100, 300000);
	fill(t, 100, 1000);
	for (uint32_t i = 100; i < 130; i++) {
		struct mac m = mk(i);
		assert_non_null(nbt_seen(t, "lan", &m, 0, 2000 + i, NBT_SRC_ARP));
	}
	for (uint32_t i = 0; i < 130; i++) {
		struct mac m = mk(i);
		if (i < 30)
			assert_null(nbt_find(t, "lan", &m));
		else
			assert_non_null(nbt_find(t, "lan", &m));
	}
	assert_int_equal(nbt_counters(t)->evicted_active, 30);
	assert_int_equal(nbt_counters(t)->evicted_inactive, 0);
	/* a peer's record older than every entry of a full table is not taken */
	struct nbt_record r;
	memset(&r, 0, sizeof(r));
	strcpy(r.iface, "lan");
	r.mac = mk(999);
	r.first_seen = r.last_seen = 500;
	errno = 0;
	assert_int_equal(nbt_merge(t, &r, 3, 5000), -1);
	assert_int_equal(errno, ENOSPC);
	r.first_seen = r.last_seen = 4000;
	assert_int_equal(nbt_merge(t, &r, 3, 5000), 0);
	nbt_free(t);
}

static void t_dhcp(void **state)
{
	struct nbtable *t = table(10, 1000);
	struct mac m = mk(1);
	struct nbt_dhcp d;
	memset(&d, 0, sizeof(d));
	d.ip4 = 0xc6120042;
	strcpy(d.hostname, "printer-3");
	strcpy(d.vendor_class, "MSFT 5.0");
	static const uint8_t prl[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
	memcpy(d.prl, prl, sizeof(prl));
	d.prl_len = sizeof(prl);
	d.client_id[0] = 1;
	memcpy(d.client_id + 1, m.a, 6);
	d.client_id_len = 7;
	const struct nbt_record *e = nbt_set_dhcp(t, "lan", &m, &d, 100);
	assert_non_null(e);
	assert_int_equal(e->sources, NBT_SRC_DHCP);
	assert_int_equal(e->ip4[0], 0xc6120042);
	assert_string_equal(e->dhcp.hostname, "printer-3");
	assert_string_equal(e->dhcp.vendor_class, "MSFT 5.0");
	assert_string_equal(e->dhcp.fqdn, "");
	assert_int_equal(e->dhcp.prl_len, sizeof(prl));
	assert_memory_equal(e->dhcp.prl, prl, sizeof(prl));
	assert_int_equal(e->dhcp.client_id_len, 7);
	/* empty fields leave what is held; non-empty ones replace */
	memset(&d, 0, sizeof(d));
	strcpy(d.fqdn, "printer-3.example.org");
	e = nbt_set_dhcp(t, "lan", &m, &d, 200);
	assert_string_equal(e->dhcp.hostname, "printer-3");
	assert_string_equal(e->dhcp.fqdn, "printer-3.example.org");
	assert_int_equal(e->dhcp.prl_len, sizeof(prl));
	assert_int_equal(e->last_seen, 200);
	assert_int_equal(nbt_counters(t)->updated, 1);
	/* refused: a string without its NUL, control bytes, long lengths */
	memset(&d, 'a', sizeof(d));
	d.ip4 = 0;
	d.prl_len = 0;
	d.client_id_len = 0;
	assert_null(nbt_set_dhcp(t, "lan", &m, &d, 300));
	memset(&d, 0, sizeof(d));
	strcpy(d.hostname, "a\tb");
	assert_null(nbt_set_dhcp(t, "lan", &m, &d, 300));
	memset(&d, 0, sizeof(d));
	d.prl_len = NBT_PRL_MAX + 1;
	assert_null(nbt_set_dhcp(t, "lan", &m, &d, 300));
	memset(&d, 0, sizeof(d));
	d.client_id_len = NBT_CLIENT_ID_MAX + 1;
	assert_null(nbt_set_dhcp(t, "lan", &m, &d, 300));
	assert_int_equal(nbt_counters(t)->refused, 4);
	e = nbt_find(t, "lan", &m);
	assert_int_equal(e->last_seen, 200);
	assert_string_equal(e->dhcp.hostname, "printer-3");
	/* identification and vendor */
	assert_int_equal(nbt_set_device(t, e, "printer", "embedded", "Acme", 80), 0);
	assert_string_equal(e->type, "printer");
	assert_string_equal(e->os, "embedded");
	assert_string_equal(e->brand, "Acme");
	assert_int_equal(e->confidence, 80);
	assert_int_equal(nbt_set_vendor(t, e, "Acme Printing Systems"), 0);
	assert_string_equal(e->vendor, "Acme Printing Systems");
	/* a long name is cut at a character boundary */
	char longname[100];
	memset(longname, 'x', sizeof(longname));
	memcpy(longname + 61, "\xc3\xa9\xc3\xa9", 4); /* é at 61..62, 63..64 */
	longname[99] = 0;
	assert_int_equal(nbt_set_vendor(t, e, longname), 0);
	assert_int_equal(strlen(e->vendor), 63);
	memcpy(longname + 60, "\xe2\x82\xac", 3); /* a 3-byte one at 60..62 */
	assert_int_equal(nbt_set_vendor(t, e, longname), 0);
	assert_int_equal(strlen(e->vendor), 63);
	memcpy(longname + 61, "\xe2\x82\xac", 3); /* at 61..63: cut before it */
	assert_int_equal(nbt_set_vendor(t, e, longname), 0);
	assert_int_equal(strlen(e->vendor), 61);
	assert_int_equal(nbt_set_vendor(t, e, NULL), 0);
	assert_string_equal(e->vendor, "");
	assert_true(nbt_record_valid(e));
	nbt_free(t);
}

static struct nbt_record rec(const char *iface, uint32_t i, uint64_t first, uint64_t last)
{
	struct nbt_record r;
	memset(&r, 0, sizeof(r));
	strcpy(r.iface, iface);
	r.mac = mk(i);
	r.first_seen = first;
	r.last_seen = last;
	r.sources = NBT_SRC_ARP;
	return r;
}

static void t_merge(void **state)
{
	struct nbtable *t = table(10, 1000);
	struct mac m = mk(1);
	nbt_seen(t, "lan", &m, 0xc6120001, 1000, NBT_SRC_ARP);
	nbt_seen(t, "lan", &m, 0xc6120002, 2000, NBT_SRC_ARP);
	const struct nbt_record *e = nbt_find(t, "lan", &m);
	assert_int_equal(nbt_set_device(t, e, "phone", "", "", 40), 0);

	/* an older record from node 3: fills empty fields, moves nothing back */
	struct nbt_record r = rec("lan", 1, 500, 1500);
	r.n_ip4 = 2;
	r.ip4[0] = 0xc6120003;
	r.ip4[1] = 0xc6120001;
	r.sources = NBT_SRC_DHCP;
	strcpy(r.dhcp.hostname, "alice-phone");
	strcpy(r.type, "tablet");
	r.confidence = 90;
	strcpy(r.os, "Android");
	assert_int_equal(nbt_merge(t, &r, 3, 3000), 0);
	e = nbt_find(t, "lan", &m);
	assert_int_equal(e->last_seen, 2000);
	assert_int_equal(e->first_seen, 500);
	assert_int_equal(e->node, 0);
	assert_int_equal(e->sources, NBT_SRC_ARP | NBT_SRC_DHCP | NBT_SRC_PEER);
	assert_int_equal(e->n_ip4, 3);
	assert_int_equal(e->ip4[0], 0xc6120002);
	assert_int_equal(e->ip4[1], 0xc6120001);
	assert_int_equal(e->ip4[2], 0xc6120003);
	assert_string_equal(e->dhcp.hostname, "alice-phone");
	assert_string_equal(e->type, "phone"); /* ours is newer */
	assert_int_equal(e->confidence, 40);
	assert_string_equal(e->os, "Android"); /* ours was empty */

	/* a newer one from node 4, seen last by node 5: it wins */
	r = rec("lan", 1, 1800, 2500);
	r.n_ip4 = 1;
	r.ip4[0] = 0xc6120009;
	r.node = 5;
	strcpy(r.dhcp.hostname, "bob-phone");
	strcpy(r.type, "phone");
	r.confidence = 95;
	assert_int_equal(nbt_merge(t, &r, 4, 3000), 0);
	e = nbt_find(t, "lan", &m);
	assert_int_equal(e->last_seen, 2500);
	assert_int_equal(e->first_seen, 500);
	assert_int_equal(e->node, 5);
	assert_int_equal(e->n_ip4, 4);
	assert_int_equal(e->ip4[0], 0xc6120009);
	assert_int_equal(e->ip4[1], 0xc6120002);
	assert_string_equal(e->dhcp.hostname, "bob-phone");
	assert_int_equal(e->confidence, 95);
	assert_string_equal(e->os, "Android"); /* r's is empty: ours stays */

	/* a record from the future is taken as now; our self_id means this node */
	r = rec("lan", 1, 100, 999999);
	r.node = 7;
	assert_int_equal(nbt_merge(t, &r, 4, 3000), 0);
	e = nbt_find(t, "lan", &m);
	assert_int_equal(e->last_seen, 3000);
	assert_int_equal(e->first_seen, 100);
	assert_int_equal(e->node, 0);

	/* a local sighting after that: node 0, never backwards */
	nbt_seen(t, "lan", &m, 0, 2900, NBT_SRC_ARP);
	assert_int_equal(e->last_seen, 3000);

	/* a new entry from a peer */
	r = rec("wan", 2, 10, 20);
	assert_int_equal(nbt_merge(t, &r, 6, 3000), 0);
	m = mk(2);
	e = nbt_find(t, "wan", &m);
	assert_non_null(e);
	assert_int_equal(e->node, 6);
	assert_int_equal(e->sources, NBT_SRC_ARP | NBT_SRC_PEER);
	assert_false(nbt_active(t, e, 3000));

	/* refused: not valid */
	r = rec("wan", 2, 30, 20);
	assert_int_equal(nbt_merge(t, &r, 6, 3000), -1);
	r = rec("wan", 2, 10, 20);
	r.n_ip4 = 2;
	r.ip4[0] = r.ip4[1] = 5;
	assert_int_equal(nbt_merge(t, &r, 6, 3000), -1);
	r = rec("wan", 2, 10, 20);
	r.mac.a[0] = 1;
	assert_int_equal(nbt_merge(t, &r, 6, 3000), -1);

	const struct nbt_counters *c = nbt_counters(t);
	assert_int_equal(c->merged, 4);
	assert_int_equal(c->refused, 3);
	assert_int_equal(c->inserted, 2);
	nbt_free(t);
}

static void t_merge_many_nodes(void **state)
{
	/* three tables, each seeing some devices, merging everyone's records in any order agree */
	struct nbtable *n[3];
	for (int i = 0; i < 3; i++)
		n[i] = table(100, 1000);
	for (uint32_t d = 0; d < 30; d++) {
		struct mac m = mk(d);
		for (int i = 0; i < 3; i++)
			if ((d + (uint32_t)i) % 2 == 0)
				nbt_seen(n[i], "lan", &m, 0xc6120000 + d, 100 * d + (uint64_t)i,
					 NBT_SRC_ARP);
	}
	/* node i+1 sends its own records to the others */
	struct nbt_record snap[3][30];
	size_t cnt[3];
	for (int i = 0; i < 3; i++) {
		size_t cur = 0;
		const struct nbt_record *e;
		cnt[i] = 0;
		while ((e = nbt_next(n[i], &cur)))
			snap[i][cnt[i]++] = *e;
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				for (size_t k = 0; k < cnt[j]; k++)
					assert_int_equal(
					    nbt_merge(n[i], &snap[j][k], (uint32_t)j + 1, 10000),
					    0);
	for (uint32_t d = 0; d < 30; d++) {
		struct mac m = mk(d);
		uint64_t want = 0;
		for (int i = 0; i < 3; i++)
			if ((d + (uint32_t)i) % 2 == 0)
				want = 100 * d + (uint64_t)i;
		for (int i = 0; i < 3; i++) {
			const struct nbt_record *e = nbt_find(n[i], "lan", &m);
			assert_non_null(e);
			assert_int_equal(e->last_seen, want);
		}
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nbt_count(n[i]), 30);
		nbt_free(n[i]);
	}
}

static void t_iterate(void **state)
{
	struct nbtable *t = table(10, 1000);
	for (uint32_t i = 0; i < 6; i++) {
		struct mac m = mk(10 - i);
		nbt_seen(t, "lan", &m, 0, 100 - i, NBT_SRC_ARP); /* times against the order */
	}
	struct mac m = mk(8);
	nbt_remove(t, "lan", &m);
	m = mk(10);
	nbt_seen(t, "lan", &m, 0, 500, NBT_SRC_ARP); /* an update does not move it */
	static const uint32_t want[] = {10, 9, 7, 6, 5};
	size_t cur = 0, k = 0;
	const struct nbt_record *e;
	while ((e = nbt_next(t, &cur))) {
		assert_true(k < 5);
		m = mk(want[k++]);
		assert_memory_equal(e->mac.a, m.a, MAC_LEN);
	}
	assert_int_equal(k, 5);
	assert_null(nbt_next(t, &cur));
	nbt_clear(t);
	assert_int_equal(nbt_count(t), 0);
	cur = 0;
	assert_null(nbt_next(t, &cur));
	assert_non_null(nbt_seen(t, "lan", &m, 0, 600, NBT_SRC_ARP));
	assert_int_equal(nbt_count(t), 1);
	nbt_free(t);
}

static void t_big(void **state)
{
	/* 100k entries into a table of 65536: every lookup right, heap order kept */
	const uint32_t size = 65536, n = 100000;
	struct nbtable *t = table(size, 1000);
	uint64_t nospc = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct mac m = mk(i * 2654435761u);
		/* times not in order: one older than all of a full table is refused */
		uint64_t now = 1000 + (uint64_t)(i % 1000) * 1000 + i / 1000;
		if (!nbt_seen(t, i % 2 ? "lan" : "wan", &m, i, now, NBT_SRC_ARP)) {
			assert_int_equal(errno, ENOSPC);
			nospc++;
		}
	}
	assert_int_equal(nbt_count(t), size);
	const struct nbt_counters *c = nbt_counters(t);
	assert_int_equal(c->evicted_active + c->evicted_inactive + nospc, n - size);
	assert_int_equal(c->refused, nospc);
	/* what is held is what was seen most recently */
	uint64_t min_held = UINT64_MAX;
	size_t cur = 0, k = 0;
	const struct nbt_record *e;
	while ((e = nbt_next(t, &cur))) {
		if (e->last_seen < min_held)
			min_held = e->last_seen;
		assert_ptr_equal(nbt_find(t, e->iface, &e->mac), e);
		k++;
	}
	assert_int_equal(k, size);
	size_t older = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t now = 1000 + (uint64_t)(i % 1000) * 1000 + i / 1000;
		struct mac m = mk(i * 2654435761u);
		if (now < min_held) {
			older++;
			assert_null(nbt_find(t, i % 2 ? "lan" : "wan", &m));
		} else {
			assert_non_null(nbt_find(t, i % 2 ? "lan" : "wan", &m));
		}
	}
	assert_int_equal(older, n - size);
	printf("big: %u sightings into Size=%u: %" PRIu64 " evicted inactive, %" PRIu64
	       " active, %" PRIu64 " refused (older than every entry)\n",
	       n, size, c->evicted_inactive, c->evicted_active, nospc);
	nbt_free(t);
}

static void t_big_exact(void **state)
{
	/* Size=NBT_SIZE_MAX, 200k entries: all held and found, half removed, refilled */
	const uint32_t n = 200000;
	struct nbtable *t = table(NBT_SIZE_MAX, 300000);
	for (uint32_t i = 0; i < n; i++) {
		struct mac m = mk(i * 40503u + 1);
		assert_non_null(nbt_seen(t, "lan", &m, i + 1, i, NBT_SRC_KERNEL));
	}
	assert_int_equal(nbt_count(t), n);
	for (uint32_t i = 0; i < n; i += 2) {
		struct mac m = mk(i * 40503u + 1);
		assert_int_equal(nbt_remove(t, "lan", &m), 0);
	}
	assert_int_equal(nbt_count(t), n / 2);
	for (uint32_t i = 0; i < n; i++) {
		struct mac m = mk(i * 40503u + 1);
		const struct nbt_record *e = nbt_find(t, "lan", &m);
		if (i % 2 == 0) {
			assert_null(e);
		} else {
			assert_non_null(e);
			assert_int_equal(e->ip4[0], i + 1);
		}
	}
	for (uint32_t i = 0; i < n; i += 2) {
		struct mac m = mk(i * 40503u + 1);
		assert_non_null(nbt_seen(t, "lan", &m, 0, n + i, NBT_SRC_KERNEL));
	}
	assert_int_equal(nbt_count(t), n);
	const struct nbt_counters *c = nbt_counters(t);
	assert_int_equal(c->inserted, n + n / 2);
	assert_int_equal(c->evicted_active + c->evicted_inactive, 0);
	nbt_free(t);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_params),
	    cmocka_unit_test(t_bad_input),
	    cmocka_unit_test(t_seen_and_active),
	    cmocka_unit_test(t_ip4_list),
	    cmocka_unit_test(t_evict_oldest_inactive),
	    cmocka_unit_test(t_evict_never_active_while_inactive),
	    cmocka_unit_test(t_evict_all_active),
	    cmocka_unit_test(t_dhcp),
	    cmocka_unit_test(t_merge),
	    cmocka_unit_test(t_merge_many_nodes),
	    cmocka_unit_test(t_iterate),
	    cmocka_unit_test(t_big),
	    cmocka_unit_test(t_big_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
