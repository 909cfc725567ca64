/*
 * Unit tests for the neighbour cache's sync messages: every field round
 * trips, times move from the sender's timeline to the receiver's, a
 * message holds as many records as fit, and every refusal has its reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/be.h"
#include "core/nbsync.h"

/* A record with every field at its largest. */
static struct nbt_record full_rec(uint32_t i)
{
	struct nbt_record r;
	memset(&r, 0, sizeof(r));
	memset(r.iface, 'i', NBT_IFNAMSIZ - 1);
	r.mac = (struct mac){{0x02, 0x11, 0x22, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
	r.sources = NBT_SRC_ALL;
	r.n_ip4 = NBT_MAX_IP4;
	for (unsigned k = 0; k < NBT_MAX_IP4; k++)
		r.ip4[k] = 0xc6120001 + k + i * 16;
	r.first_seen = 1000;
	r.last_seen = 90000;
	r.node = 0xdeadbeef;
	memset(r.vendor, 'v', sizeof(r.vendor) - 1);
	memset(r.dhcp.hostname, 'h', sizeof(r.dhcp.hostname) - 1);
	memset(r.dhcp.fqdn, 'f', sizeof(r.dhcp.fqdn) - 1);
	memset(r.dhcp.vendor_class, 'c', sizeof(r.dhcp.vendor_class) - 1);
	for (unsigned k = 0; k < NBT_PRL_MAX; k++)
		r.dhcp.prl[k] = (uint8_t)(k * 7);
	r.dhcp.prl_len = NBT_PRL_MAX;
	for (unsigned k = 0; k < NBT_CLIENT_ID_MAX; k++)
		r.dhcp.client_id[k] = (uint8_t)(0xff - k);
	r.dhcp.client_id_len = NBT_CLIENT_ID_MAX;
	memset(r.type, 't', sizeof(r.type) - 1);
	memset(r.os, 'o', sizeof(r.os) - 1);
	memset(r.brand, 'b', sizeof(r.brand) - 1);
	r.confidence = 100;
	return r;
}

static struct nbt_record small_rec(uint32_t i)
{
	struct nbt_record r;
	memset(&r, 0, sizeof(r));
	strcpy(r.iface, "lan");
	r.mac = (struct mac){{0x00, 0x50, 0x00, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
	r.first_seen = r.last_seen = 5000;
	return r;
}

static const struct nbsync_hdr upd = {.kind = NBSYNC_UPDATE};

static void t_round_trip(void **state)
{
	uint8_t buf[WIRE_RB_MAX_DATA];
	struct nbt_record in[2] = {full_rec(1), small_rec(2)};
	strcpy(in[1].dhcp.hostname, "k\xc3\xa4ppi"); /* UTF-8 is text */
	in[1].dhcp.prl[0] = 1;
	in[1].dhcp.prl_len = 1;
	assert_int_equal(nbsync_rec_size(&in[0]), NBSYNC_REC_MAX);
	size_t used;
	size_t len = nbsync_encode(&upd, in, 2, 100000, buf, sizeof(buf), &used);
	assert_int_equal(used, 2);
	assert_int_equal(len, NBSYNC_HDR + nbsync_rec_size(&in[0]) + nbsync_rec_size(&in[1]));
	struct nbt_record out[NBSYNC_MAX_RECORDS];
	struct nbsync_hdr h;
	enum nbsync_reason why;
	/* the receiver's clock: 50000 ms ahead of the sender's */
	assert_int_equal(nbsync_decode(buf, len, 150000, &h, out, NBSYNC_MAX_RECORDS, &why), 0);
	assert_int_equal(h.kind, NBSYNC_UPDATE);
	assert_int_equal(h.count, 2);
	for (int i = 0; i < 2; i++) {
		in[i].first_seen += 50000;
		in[i].last_seen += 50000;
		assert_memory_equal(&in[i], &out[i], sizeof(in[i]));
		assert_true(nbt_record_valid(&out[i]));
	}
	/* a receiver whose clock began later: times before its 0 are 0 */
	assert_int_equal(nbsync_decode(buf, len, 20000, &h, out, NBSYNC_MAX_RECORDS, &why), 0);
	assert_int_equal(out[0].last_seen, 10000);
	assert_int_equal(out[0].first_seen, 0);
	/* times after the sender's now go as 0 ms ago */
	in[1] = small_rec(2);
	in[1].last_seen = 200000;
	len = nbsync_encode(&upd, &in[1], 1, 100000, buf, sizeof(buf), &used);
	assert_int_equal(nbsync_decode(buf, len, 100000, &h, out, 1, &why), 0);
	assert_int_equal(out[0].last_seen, 100000);
	assert_int_equal(out[0].first_seen, 5000);
	printf("record sizes: %d to %zu bytes; at most %zu records a message of %d bytes\n",
	       NBSYNC_REC_MIN, (size_t)NBSYNC_REC_MAX, (size_t)NBSYNC_MAX_RECORDS,
	       WIRE_RB_MAX_DATA);
}

static void t_full_parts(void **state)
{
	/* a full dump of 100 small records in parts of WIRE_RB_MAX_DATA */
	struct nbt_record in[100];
	for (uint32_t i = 0; i < 100; i++)
		in[i] = small_rec(i);
	uint8_t buf[WIRE_RB_MAX_DATA];
	struct nbsync_hdr h = {.kind = NBSYNC_FULL, .generation = 77, .last = true};
	size_t done = 0, parts = 0;
	while (done < 100) {
		size_t used;
		h.part = (uint16_t)parts;
		size_t len =
		    nbsync_encode(&h, in + done, 100 - done, 6000, buf, sizeof(buf), &used);
		assert_true(len > 0 && len <= sizeof(buf));
		assert_true(used > 0);
		/* full: no room for one more */
		if (done + used < 100)
			assert_true(len + nbsync_rec_size(&in[done + used]) > sizeof(buf));
		struct nbt_record out[NBSYNC_MAX_RECORDS];
		struct nbsync_hdr got;
		enum nbsync_reason why;
		assert_int_equal(nbsync_decode(buf, len, 6000, &got, out, NBSYNC_MAX_RECORDS, &why),
				 0);
		assert_int_equal(got.kind, NBSYNC_FULL);
		assert_int_equal(got.generation, 77);
		assert_int_equal(got.part, parts);
		assert_int_equal(got.count, used);
		assert_int_equal(got.last, done + used == 100);
		for (size_t k = 0; k < used; k++)
			assert_memory_equal(&out[k], &in[done + k], sizeof(out[k]));
		done += used;
		parts++;
	}
	assert_int_equal(parts, 4); /* 33 records of 42 bytes a part */
	/* an empty table's dump: the header, last */
	size_t used;
	h.part = 0;
	size_t len = nbsync_encode(&h, NULL, 0, 6000, buf, sizeof(buf), &used);
	assert_int_equal(len, NBSYNC_HDR);
	struct nbsync_hdr got;
	enum nbsync_reason why;
	assert_int_equal(nbsync_decode(buf, len, 1, &got, NULL, 0, &why), 0);
	assert_true(got.last);
	assert_int_equal(got.count, 0);
	/* big records: two a message */
	struct nbt_record big[3] = {full_rec(1), full_rec(2), full_rec(3)};
	len = nbsync_encode(&upd, big, 3, 100000, buf, sizeof(buf), &used);
	assert_int_equal(used, 2);
	/* refused by the encoder */
	errno = 0;
	assert_int_equal(nbsync_encode(&upd, NULL, 0, 1, buf, sizeof(buf), &used), 0);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nbsync_encode(&upd, big, 1, 1, buf, NBSYNC_HDR + 10, &used), 0);
	assert_int_equal(errno, ENOSPC);
	h.part = 1;
	errno = 0;
	assert_int_equal(nbsync_encode(&h, big, 1, 1, buf, NBSYNC_HDR + 10, &used), 0);
	assert_int_equal(errno, ENOSPC);
	struct nbsync_hdr bad = {.kind = NBSYNC_FULL};
	assert_int_equal(nbsync_encode(&bad, big, 1, 1, buf, sizeof(buf), &used), 0);
	big[1].mac.a[0] = 1;
	len = nbsync_encode(&upd, big, 3, 100000, buf, sizeof(buf), &used);
	assert_int_equal(used, 1); /* stops before the bad one */
	assert_int_equal(nbsync_encode(&upd, big + 1, 2, 1, buf, sizeof(buf), &used), 0);
	assert_int_equal(errno, EINVAL);
}

/* A request names the node asked for a dump, and carries no record. */
static void t_request(void **state)
{
	(void)state;
	uint8_t buf[WIRE_RB_MAX_DATA];
	struct nbt_record out[1];
	struct nbsync_hdr h = {.kind = NBSYNC_REQUEST, .generation = 7}, got;
	enum nbsync_reason why;
	size_t len = nbsync_begin(&h, buf, sizeof(buf));
	assert_int_equal(len, NBSYNC_HDR);
	assert_int_equal(nbsync_decode(buf, len, 1, &got, out, 1, &why), 0);
	assert_int_equal(got.kind, NBSYNC_REQUEST);
	assert_int_equal(got.generation, 7);
	assert_int_equal(got.count, 0);
	h.generation = 0;
	assert_int_equal(nbsync_begin(&h, buf, sizeof(buf)), 0);
	h = (struct nbsync_hdr){.kind = NBSYNC_REQUEST, .generation = 7, .last = true};
	assert_int_equal(nbsync_begin(&h, buf, sizeof(buf)), 0);
}

/* Decode buf and expect reason want. */
static void refused(const uint8_t *buf, size_t len, enum nbsync_reason want)
{
	struct nbt_record out[NBSYNC_MAX_RECORDS];
	struct nbsync_hdr h;
	enum nbsync_reason why = NBS__COUNT;
	if (nbsync_decode(buf, len, 100000, &h, out, NBSYNC_MAX_RECORDS, &why) == 0)
		fail_msg("accepted, expected %s (len %zu)", nbsync_reason_name(want), len);
	if (why != want)
		fail_msg("refused for %s, expected %s", nbsync_reason_name(why),
			 nbsync_reason_name(want));
}

/* One small record: offsets in it (after the 12-byte header). */
enum {
	O_IFLEN = NBSYNC_HDR,
	O_IFACE = O_IFLEN + 1, /* "lan" */
	O_MAC = O_IFACE + 3,
	O_SRC = O_MAC + 6,
	O_NODE = O_SRC + 1,
	O_LAST = O_NODE + 4,
	O_FIRST = O_LAST + 8,
	O_CONF = O_FIRST + 8,
	O_NIP = O_CONF + 1,
	O_IP = O_NIP + 1, /* two addresses */
	O_VENDOR = O_IP + 8,
	O_HOST = O_VENDOR + 1, /* "h1" */
	O_FQDN = O_HOST + 3,
	O_VCLASS = O_FQDN + 1,
	O_PRL = O_VCLASS + 1,
	O_CID = O_PRL + 1,
	O_TYPE = O_CID + 1,
	O_OS = O_TYPE + 1,
	O_BRAND = O_OS + 1,
	O_END = O_BRAND + 1
};

static size_t sample(uint8_t *buf)
{
	struct nbt_record r = small_rec(1);
	r.n_ip4 = 2;
	r.ip4[0] = 0xc6120001;
	r.ip4[1] = 0xc6120002;
	strcpy(r.dhcp.hostname, "h1");
	size_t used;
	size_t len = nbsync_encode(&upd, &r, 1, 100000, buf, WIRE_RB_MAX_DATA, &used);
	assert_int_equal(len, O_END);
	return len;
}

static void t_refusals(void **state)
{
	uint8_t good[WIRE_RB_MAX_DATA], b[WIRE_RB_MAX_DATA];
	size_t len = sample(good);
	struct nbt_record out[NBSYNC_MAX_RECORDS];
	struct nbsync_hdr h;
	enum nbsync_reason why;
	assert_int_equal(nbsync_decode(good, len, 100000, &h, out, NBSYNC_MAX_RECORDS, &why), 0);
	assert_string_equal(out[0].dhcp.hostname, "h1");

#define MUT(stmt, l, want)                                                                         \
	do {                                                                                       \
		memcpy(b, good, len);                                                              \
		stmt;                                                                              \
		refused(b, l, want);                                                               \
	} while (0)

	refused(good, 0, NBS_SHORT);
	refused(good, NBSYNC_HDR - 1, NBS_SHORT);
	MUT(b[0] = 'C', len, NBS_TYPE);
	MUT(b[1] = 2, len, NBS_VERSION);
	MUT(b[2] = 4, len, NBS_KIND);				       /* an unknown kind */
	MUT(b[2] = NBSYNC_REQUEST, len, NBS_KIND);		       /* a request for node 0 */
	MUT((b[2] = NBSYNC_REQUEST, put32(b + 4, 2)), len, NBS_COUNT); /* a request with records */
	MUT(b[3] = 1, len, NBS_KIND);		      /* an update flagged last */
	MUT(b[3] = 2, len, NBS_KIND);		      /* unknown flag */
	MUT(put32(b + 4, 9), len, NBS_KIND);	      /* an update with a generation */
	MUT(put16(b + 8, 1), len, NBS_KIND);	      /* an update with a part */
	MUT(b[2] = NBSYNC_FULL, len, NBS_KIND);	      /* full, generation 0 */
	MUT(put16(b + 10, 0), NBSYNC_HDR, NBS_COUNT); /* an empty update */
	/* truncated at every byte of the record */
	for (size_t l = NBSYNC_HDR + 1; l < len; l++)
		MUT((void)0, l, NBS_TRUNCATED);
	/* counts that disagree */
	MUT(put16(b + 10, 2), len, NBS_COUNT);
	MUT(b[len] = 0, len + 1, NBS_COUNT);
	{
		struct nbt_record o[1];
		memcpy(b, good, len);
		put16(b + 10, 2);
		assert_int_equal(nbsync_decode(b, len, 1, &h, o, 1, &why), -1);
		assert_int_equal(why, NBS_COUNT);
	}
	/* strings */
	MUT(b[O_IFLEN] = 0, len, NBS_STRING);	  /* empty iface */
	MUT(b[O_IFACE + 1] = 0, len, NBS_STRING); /* a NUL inside */
	MUT(b[O_IFACE + 1] = 0x1b, len, NBS_STRING);
	MUT(b[O_HOST + 1] = 0x7f, len, NBS_STRING);
	MUT(b[O_HOST + 2] = '\n', len, NBS_STRING);
	{
		/* a string as long as its field (no room for the NUL) */
		struct nbt_record r = small_rec(1);
		size_t used;
		size_t l = nbsync_encode(&upd, &r, 1, 1, b, sizeof(b), &used);
		/* grow the type string (the third from last) to 32 bytes */
		memmove(b + l - 3 + 32, b + l - 3, 3);
		b[l - 3] = 32;
		memset(b + l - 2, 'x', 32);
		b[l - 2 + 32] = 0;
		b[l - 2 + 33] = 0;
		refused(b, l + 32, NBS_STRING);
		b[l - 3] = 31;
		b[l - 2 + 31] = 0;
		b[l - 2 + 32] = 0;
		struct nbt_record o[1];
		assert_int_equal(nbsync_decode(b, l + 31, 1, &h, o, 1, &why), 0);
		assert_int_equal(strlen(o[0].type), 31);
	}
	/* MACs */
	MUT(b[O_MAC] = 0x01, len, NBS_MAC);
	MUT(memset(b + O_MAC, 0xff, 6), len, NBS_MAC);
	MUT(memset(b + O_MAC, 0, 6), len, NBS_MAC);
	/* other fields */
	MUT(b[O_SRC] = 0x10, len, NBS_FIELD);
	MUT(b[O_CONF] = 101, len, NBS_FIELD);
	MUT(b[O_NIP] = NBT_MAX_IP4 + 1, len, NBS_FIELD);
	MUT(put32(b + O_IP + 4, 0), len, NBS_FIELD);
	MUT(put32(b + O_IP + 4, 0xc6120001), len, NBS_FIELD);
	MUT(put64(b + O_FIRST, 0), len, NBS_FIELD); /* first seen after last seen */
	MUT(put64(b + O_LAST, 95001), len, NBS_FIELD);
	{
		/* a PRL longer than 64 bytes, a client id longer than 32 */
		memcpy(b, good, len);
		memmove(b + O_PRL + 1 + 65, b + O_PRL + 1, len - O_PRL - 1);
		b[O_PRL] = 65;
		memset(b + O_PRL + 1, 1, 65);
		refused(b, len + 65, NBS_FIELD);
		memcpy(b, good, len);
		memmove(b + O_CID + 1 + 33, b + O_CID + 1, len - O_CID - 1);
		b[O_CID] = 33;
		refused(b, len + 33, NBS_FIELD);
	}
	/* names for counters */
	for (unsigned i = 0; i < NBS__COUNT; i++)
		assert_string_not_equal(nbsync_reason_name(i), "?");
	assert_string_equal(nbsync_reason_name(NBS_TRUNCATED), "truncated");
	assert_string_equal(nbsync_reason_name(NBS__COUNT), "?");
}

static void t_table_sync(void **state)
{
	/* node 1's table to node 2's through messages, full dump in parts */
	struct nbt_params p;
	nbt_params_default(&p);
	p.size = 1000;
	struct nbtable *a = nbt_new(&p), *b = nbt_new(&p);
	assert_non_null(a);
	assert_non_null(b);
	for (uint32_t i = 0; i < 300; i++) {
		struct mac m = {{0x00, 0x50, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}};
		const struct nbt_record *e =
		    nbt_seen(a, "lan", &m, 0xc6120000 + i, 1000 + i, NBT_SRC_ARP);
		assert_non_null(e);
		if (i % 3 == 0) {
			struct nbt_dhcp d;
			memset(&d, 0, sizeof(d));
			snprintf(d.hostname, sizeof(d.hostname), "host-%u", i);
			assert_non_null(nbt_set_dhcp(a, "lan", &m, &d, 1000 + i));
		}
	}
	/* sender's now 5000, receiver's 9000 */
	uint8_t buf[WIRE_RB_MAX_DATA];
	struct nbsync_hdr h = {.kind = NBSYNC_FULL, .generation = 1};
	size_t cur = 0, len = 0, parts = 0;
	const struct nbt_record *e;
	struct nbt_record out[NBSYNC_MAX_RECORDS];
	for (;;) {
		e = nbt_next(a, &cur);
		if (len == 0) {
			h.part = (uint16_t)parts++;
			h.last = true;
			len = nbsync_begin(&h, buf, sizeof(buf));
		}
		if (e && nbsync_add(buf, sizeof(buf), &len, e, 5000) == 1)
			continue;
		if (e)
			nbsync_set_last(buf, len, false);
		struct nbsync_hdr got;
		enum nbsync_reason why;
		assert_int_equal(nbsync_decode(buf, len, 9000, &got, out, NBSYNC_MAX_RECORDS, &why),
				 0);
		for (size_t k = 0; k < got.count; k++)
			assert_int_equal(nbt_merge(b, &out[k], 1, 9000), 0);
		if (!e)
			break;
		assert_false(got.last);
		h.part = (uint16_t)parts++;
		len = nbsync_begin(&h, buf, sizeof(buf));
		assert_int_equal(nbsync_add(buf, sizeof(buf), &len, e, 5000), 1);
	}
	assert_int_equal(nbt_count(b), 300);
	cur = 0;
	while ((e = nbt_next(a, &cur))) {
		const struct nbt_record *f = nbt_find(b, e->iface, &e->mac);
		assert_non_null(f);
		assert_int_equal(f->last_seen, e->last_seen + 4000);
		assert_int_equal(f->node, 1);
		assert_string_equal(f->dhcp.hostname, e->dhcp.hostname);
		assert_memory_equal(f->ip4, e->ip4, sizeof(e->ip4));
	}
	printf("300 entries in %zu parts\n", parts);
	nbt_free(a);
	nbt_free(b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_round_trip), cmocka_unit_test(t_full_parts),
	    cmocka_unit_test(t_refusals),   cmocka_unit_test(t_request),
	    cmocka_unit_test(t_table_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
