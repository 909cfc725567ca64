/*
 * Unit tests for core/frame: the Ethernet/802.1Q/ARP codec and builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/frame.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct mac BCAST = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct mac ZERO = {{0, 0, 0, 0, 0, 0}};
static const struct mac HOST_A = {{0x02, 0x42, 0xc6, 0x12, 0x00, 0x0a}};
static const struct mac HOST_B = {{0x02, 0x42, 0xc6, 0x12, 0x00, 0x01}};

/* 198.18.0.10 at 02:42:c6:12:00:0a asks: who has 198.18.0.1? (as captured, 60 bytes) */
static const uint8_t real_request[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,				      /* eth dst: broadcast */
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x0a,				      /* eth src */
    0x08, 0x06,							      /* ethertype ARP */
    0x00, 0x01,							      /* htype Ethernet */
    0x08, 0x00,							      /* ptype IPv4 */
    0x06, 0x04,							      /* hlen, plen */
    0x00, 0x01,							      /* op request */
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x0a,				      /* sha */
    0xc6, 0x12, 0x00, 0x0a,					      /* spa 198.18.0.10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,				      /* tha */
    0xc6, 0x12, 0x00, 0x01,					      /* tpa 198.18.0.1 */
    0,	  0,	0,    0,    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* padding */
    0,	  0,
};

/* 198.18.0.1 is at 02:42:c6:12:00:01, to 198.18.0.10 (42 bytes, as a socket sees it) */
static const uint8_t real_reply[42] = {
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x0a,				/* eth dst */
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x01,				/* eth src */
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, /* op reply */
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x01,				/* sha */
    0xc6, 0x12, 0x00, 0x01,					/* spa 198.18.0.1 */
    0x02, 0x42, 0xc6, 0x12, 0x00, 0x0a,				/* tha */
    0xc6, 0x12, 0x00, 0x0a,					/* tpa 198.18.0.10 */
};

static void assert_frame_eq(const struct arp_frame *a, const struct arp_frame *b)
{
	assert_memory_equal(a->eth_dst.a, b->eth_dst.a, MAC_LEN);
	assert_memory_equal(a->eth_src.a, b->eth_src.a, MAC_LEN);
	assert_int_equal(a->vlan, b->vlan);
	assert_int_equal(a->op, b->op);
	assert_memory_equal(a->sha.a, b->sha.a, MAC_LEN);
	assert_int_equal(a->spa, b->spa);
	assert_memory_equal(a->tha.a, b->tha.a, MAC_LEN);
	assert_int_equal(a->tpa, b->tpa);
}

static void test_parse_real_request(void **state)
{
	(void)state;
	struct arp_frame f;
	memset(&f, 0xaa, sizeof(f));
	assert_int_equal(frame_parse(real_request, sizeof(real_request), &f), FR_OK);
	assert_memory_equal(f.eth_dst.a, BCAST.a, MAC_LEN);
	assert_memory_equal(f.eth_src.a, HOST_A.a, MAC_LEN);
	assert_int_equal(f.vlan, 0);
	assert_int_equal(f.op, ARP_OP_REQUEST);
	assert_memory_equal(f.sha.a, HOST_A.a, MAC_LEN);
	assert_int_equal(f.spa, IP(198, 18, 0, 10));
	assert_memory_equal(f.tha.a, ZERO.a, MAC_LEN);
	assert_int_equal(f.tpa, IP(198, 18, 0, 1));

	/* the builder gives back the very same bytes */
	uint8_t buf[FRAME_MAX_LEN];
	struct arp_frame r;
	frame_request(&r, &HOST_A, IP(198, 18, 0, 10), IP(198, 18, 0, 1));
	assert_int_equal(frame_build(&r, buf, sizeof(buf)), 60);
	assert_memory_equal(buf, real_request, 60);
}

static void test_parse_real_reply(void **state)
{
	(void)state;
	struct arp_frame f;
	assert_int_equal(frame_parse(real_reply, sizeof(real_reply), &f), FR_OK);
	assert_memory_equal(f.eth_dst.a, HOST_A.a, MAC_LEN);
	assert_memory_equal(f.eth_src.a, HOST_B.a, MAC_LEN);
	assert_int_equal(f.vlan, 0);
	assert_int_equal(f.op, ARP_OP_REPLY);
	assert_memory_equal(f.sha.a, HOST_B.a, MAC_LEN);
	assert_int_equal(f.spa, IP(198, 18, 0, 1));
	assert_memory_equal(f.tha.a, HOST_A.a, MAC_LEN);
	assert_int_equal(f.tpa, IP(198, 18, 0, 10));

	uint8_t buf[FRAME_MAX_LEN];
	struct arp_frame r;
	frame_reply(&r, &HOST_B, &HOST_B, IP(198, 18, 0, 1), &HOST_A, IP(198, 18, 0, 10));
	assert_frame_eq(&r, &f);
	assert_int_equal(frame_build(&r, buf, sizeof(buf)), 60);
	assert_memory_equal(buf, real_reply, 42);
	for (size_t i = 42; i < 60; i++)
		assert_int_equal(buf[i], 0);
}

static void test_parse_longer_frames(void **state)
{
	(void)state;
	/* padding and a trailing FCS are not the parser's business */
	uint8_t buf[1514];
	struct arp_frame f;
	memset(buf, 0x5a, sizeof(buf));
	memcpy(buf, real_reply, sizeof(real_reply));
	assert_int_equal(frame_parse(buf, 42, &f), FR_OK);
	assert_int_equal(frame_parse(buf, 64, &f), FR_OK);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), FR_OK);
	assert_int_equal(f.tpa, IP(198, 18, 0, 10));
}

/* A valid untagged request to mutate, with its ARP body at offset 14. */
static void base(uint8_t *buf)
{
	memcpy(buf, real_request, 60);
}

static void set_ip(uint8_t *p, uint32_t ip)
{
	p[0] = (uint8_t)(ip >> 24);
	p[1] = (uint8_t)(ip >> 16);
	p[2] = (uint8_t)(ip >> 8);
	p[3] = (uint8_t)ip;
}

static enum frame_reason parse60(const uint8_t *buf)
{
	struct arp_frame f;
	return frame_parse(buf, 60, &f);
}

static void test_reasons_hard(void **state)
{
	(void)state;
	uint8_t b[64];
	struct arp_frame f;

	/* truncated: no Ethernet header, no ARP fixed header, no full body */
	base(b);
	assert_int_equal(frame_parse(b, 0, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 13, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 14, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 21, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 22, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 41, &f), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 42, &f), FR_OK);

	/* ethertype */
	base(b);
	b[12] = 0x08;
	b[13] = 0x00;
	assert_int_equal(parse60(b), FR_NOT_ARP);
	assert_int_equal(frame_parse(b, 14, &f), FR_NOT_ARP); /* known before the body */
	base(b);
	b[12] = 0x80;
	b[13] = 0x35; /* RARP */
	assert_int_equal(parse60(b), FR_NOT_ARP);

	/* htype, ptype, hlen, plen, in that order */
	base(b);
	b[15] = 6; /* IEEE 802 */
	assert_int_equal(parse60(b), FR_BAD_HTYPE);
	b[16] = 0x86;
	assert_int_equal(parse60(b), FR_BAD_HTYPE);
	base(b);
	b[14] = 1; /* htype 0x0101 */
	assert_int_equal(parse60(b), FR_BAD_HTYPE);
	base(b);
	b[16] = 0x86;
	b[17] = 0xdd;
	assert_int_equal(parse60(b), FR_BAD_PTYPE);
	base(b);
	b[18] = 8;
	assert_int_equal(parse60(b), FR_BAD_HLEN);
	b[19] = 16;
	assert_int_equal(parse60(b), FR_BAD_HLEN);
	base(b);
	b[19] = 16;
	assert_int_equal(parse60(b), FR_BAD_PLEN);
	/* header checks come before the body length check */
	assert_int_equal(frame_parse(b, 30, &f), FR_BAD_PLEN);
	base(b);
	assert_int_equal(frame_parse(b, 30, &f), FR_TRUNCATED);

	/* op: body truncation is checked first */
	base(b);
	b[21] = 3;
	assert_int_equal(parse60(b), FR_BAD_OP);
	assert_int_equal(frame_parse(b, 41, &f), FR_TRUNCATED);
	b[21] = 0;
	assert_int_equal(parse60(b), FR_BAD_OP);
	b[20] = 1;
	b[21] = 1;
	assert_int_equal(parse60(b), FR_BAD_OP); /* 0x0101 */
	base(b);
	b[21] = 4; /* RARP reply opcode */
	assert_int_equal(parse60(b), FR_BAD_OP);

	/* Ethernet source with the group bit */
	base(b);
	memset(b + 6, 0xff, 6);
	assert_int_equal(parse60(b), FR_ETH_SRC_GROUP);
	base(b);
	b[6] = 0x01; /* 01:42:... */
	assert_int_equal(parse60(b), FR_ETH_SRC_GROUP);
	base(b);
	b[6] = 0x03; /* local + group */
	assert_int_equal(parse60(b), FR_ETH_SRC_GROUP);

	/* sender MAC zero */
	base(b);
	memset(b + 22, 0, 6);
	assert_int_equal(parse60(b), FR_SENDER_MAC_ZERO);

	/* sender IP bogus */
	static const uint32_t bogus[] = {
	    IP(127, 0, 0, 1),	    IP(127, 255, 255, 255), IP(224, 0, 0, 1),
	    IP(239, 255, 255, 250), IP(240, 0, 0, 1),	    IP(254, 1, 2, 3),
	    IP(255, 255, 255, 255),
	};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		base(b);
		set_ip(b + 28, bogus[i]);
		assert_int_equal(parse60(b), FR_SENDER_IP_BOGUS);
	}
	static const uint32_t fine_sender[] = {
	    0, /* RFC 5227 probe: the policy decides */
	    IP(126, 255, 255, 255),
	    IP(128, 0, 0, 0),
	    IP(223, 255, 255, 255),
	    IP(10, 0, 0, 1),
	};
	for (size_t i = 0; i < sizeof(fine_sender) / sizeof(fine_sender[0]); i++) {
		base(b);
		set_ip(b + 28, fine_sender[i]);
		assert_int_equal(frame_parse(b, 60, &f), FR_OK);
		assert_int_equal(f.spa, fine_sender[i]);
	}

	/* target IP multicast / broadcast */
	static const uint32_t tmc[] = {IP(224, 0, 0, 18), IP(239, 1, 2, 3), IP(255, 255, 255, 255)};
	for (size_t i = 0; i < sizeof(tmc) / sizeof(tmc[0]); i++) {
		base(b);
		set_ip(b + 38, tmc[i]);
		assert_int_equal(parse60(b), FR_TARGET_IP_MULTICAST);
	}
	/* target in class E (not broadcast) and 0.0.0.0 are the policy's affair */
	base(b);
	set_ip(b + 38, IP(240, 0, 0, 1));
	assert_int_equal(parse60(b), FR_OK);
	base(b);
	set_ip(b + 38, 0);
	assert_int_equal(parse60(b), FR_OK);

	/* target IP loopback */
	base(b);
	set_ip(b + 38, IP(127, 0, 0, 1));
	assert_int_equal(parse60(b), FR_TARGET_IP_LOOPBACK);
	set_ip(b + 38, IP(127, 200, 0, 9));
	assert_int_equal(parse60(b), FR_TARGET_IP_LOOPBACK);
}

static void test_reason_order(void **state)
{
	(void)state;
	uint8_t b[64];

	/* several faults at once: the documented order decides */
	base(b);
	b[6] = 0x01;	      /* eth src group */
	memset(b + 22, 0, 6); /* sender MAC zero */
	set_ip(b + 28, IP(127, 0, 0, 1));
	set_ip(b + 38, IP(224, 0, 0, 1));
	assert_int_equal(parse60(b), FR_ETH_SRC_GROUP);
	b[6] = 0x02;
	assert_int_equal(parse60(b), FR_SENDER_MAC_ZERO);
	memcpy(b + 22, HOST_A.a, 6);
	assert_int_equal(parse60(b), FR_SENDER_IP_BOGUS);
	set_ip(b + 28, IP(198, 18, 0, 10));
	assert_int_equal(parse60(b), FR_TARGET_IP_MULTICAST);
	set_ip(b + 38, IP(127, 0, 0, 1));
	assert_int_equal(parse60(b), FR_TARGET_IP_LOOPBACK);

	/* a hard reason wins over a soft one */
	base(b);
	memset(b + 22, 0xff, 6);
	set_ip(b + 38, IP(127, 0, 0, 1));
	assert_int_equal(parse60(b), FR_TARGET_IP_LOOPBACK);
	/* bad op is before the eth source check */
	base(b);
	b[6] = 0x01;
	b[21] = 9;
	assert_int_equal(parse60(b), FR_BAD_OP);
}

static void test_reasons_soft(void **state)
{
	(void)state;
	uint8_t b[64];
	struct arp_frame f;

	base(b);
	memset(b + 22, 0xff, 6);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame_parse(b, 60, &f), FR_SENDER_MAC_BROADCAST);
	assert_true(FR_SENDER_MAC_BROADCAST >= FR_SOFT_FIRST);
	/* *out is complete */
	assert_memory_equal(f.sha.a, BCAST.a, MAC_LEN);
	assert_memory_equal(f.eth_dst.a, BCAST.a, MAC_LEN);
	assert_memory_equal(f.eth_src.a, HOST_A.a, MAC_LEN);
	assert_int_equal(f.op, ARP_OP_REQUEST);
	assert_int_equal(f.spa, IP(198, 18, 0, 10));
	assert_int_equal(f.tpa, IP(198, 18, 0, 1));
	assert_memory_equal(f.tha.a, ZERO.a, MAC_LEN);

	base(b);
	static const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	memcpy(b + 22, mc, 6);
	set_ip(b + 38, IP(198, 18, 7, 7));
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame_parse(b, 60, &f), FR_SENDER_MAC_MULTICAST);
	assert_true(FR_SENDER_MAC_MULTICAST >= FR_SOFT_FIRST);
	assert_memory_equal(f.sha.a, mc, MAC_LEN);
	assert_int_equal(f.tpa, IP(198, 18, 7, 7));
	assert_int_equal(f.spa, IP(198, 18, 0, 10));
	assert_memory_equal(f.eth_src.a, HOST_A.a, MAC_LEN);

	/* the hard reasons are all below FR_SOFT_FIRST */
	assert_true(FR_TARGET_IP_LOOPBACK < FR_SOFT_FIRST);
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(frame_reason_name(FR_OK), "ok");
	assert_string_equal(frame_reason_name(FR_TRUNCATED), "truncated");
	assert_string_equal(frame_reason_name(FR_NOT_ARP), "not_arp");
	assert_string_equal(frame_reason_name(FR_BAD_HTYPE), "bad_htype");
	assert_string_equal(frame_reason_name(FR_BAD_PTYPE), "bad_ptype");
	assert_string_equal(frame_reason_name(FR_BAD_HLEN), "bad_hlen");
	assert_string_equal(frame_reason_name(FR_BAD_PLEN), "bad_plen");
	assert_string_equal(frame_reason_name(FR_BAD_OP), "bad_op");
	assert_string_equal(frame_reason_name(FR_ETH_SRC_GROUP), "eth_src_group");
	assert_string_equal(frame_reason_name(FR_SENDER_MAC_ZERO), "sender_mac_zero");
	assert_string_equal(frame_reason_name(FR_SENDER_IP_BOGUS), "sender_ip_bogus");
	assert_string_equal(frame_reason_name(FR_TARGET_IP_MULTICAST), "target_ip_multicast");
	assert_string_equal(frame_reason_name(FR_TARGET_IP_LOOPBACK), "target_ip_loopback");
	assert_string_equal(frame_reason_name(FR_SENDER_MAC_BROADCAST), "sender_mac_broadcast");
	assert_string_equal(frame_reason_name(FR_SENDER_MAC_MULTICAST), "sender_mac_multicast");
	assert_string_equal(frame_reason_name(FR__COUNT), "unknown");
	assert_string_equal(frame_reason_name((enum frame_reason) - 1), "unknown");
	/* names are distinct and lower_snake */
	for (int i = 0; i < FR__COUNT; i++) {
		const char *n = frame_reason_name((enum frame_reason)i);
		for (const char *p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, frame_reason_name((enum frame_reason)j));
	}
}

/* Check every field of a built untagged frame at its offset. */
static void check_bytes(const uint8_t *b, size_t off, const struct mac *dst, const struct mac *src,
			uint16_t op, const struct mac *sha, uint32_t spa, const struct mac *tha,
			uint32_t tpa)
{
	uint8_t ip[4];
	assert_memory_equal(b + 0, dst->a, 6);
	assert_memory_equal(b + 6, src->a, 6);
	assert_int_equal(b[off - 2], 0x08);
	assert_int_equal(b[off - 1], 0x06);
	assert_int_equal(b[off + 0], 0x00);
	assert_int_equal(b[off + 1], 0x01);
	assert_int_equal(b[off + 2], 0x08);
	assert_int_equal(b[off + 3], 0x00);
	assert_int_equal(b[off + 4], 6);
	assert_int_equal(b[off + 5], 4);
	assert_int_equal(b[off + 6], op >> 8);
	assert_int_equal(b[off + 7], op & 0xff);
	assert_memory_equal(b + off + 8, sha->a, 6);
	set_ip(ip, spa);
	assert_memory_equal(b + off + 14, ip, 4);
	assert_memory_equal(b + off + 18, tha->a, 6);
	set_ip(ip, tpa);
	assert_memory_equal(b + off + 24, ip, 4);
}

static void check_padding(const uint8_t *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i] != 0)
			fail_msg("padding byte %zu is %#x", i, b[i]);
}

static void test_build_request(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN];
	struct arp_frame f;
	memset(&f, 0x77, sizeof(f));
	memset(b, 0xee, sizeof(b));
	frame_request(&f, &HOST_A, IP(198, 18, 0, 10), IP(198, 18, 0, 99));
	assert_int_equal(f.vlan, 0);
	assert_memory_equal(f.eth_dst.a, BCAST.a, 6);
	assert_memory_equal(f.tha.a, ZERO.a, 6);
	assert_int_equal(frame_build(&f, b, sizeof(b)), FRAME_MIN_LEN);
	check_bytes(b, 14, &BCAST, &HOST_A, ARP_OP_REQUEST, &HOST_A, IP(198, 18, 0, 10), &ZERO,
		    IP(198, 18, 0, 99));
	check_padding(b, 42, 60);
	assert_int_equal(b[60], 0xee); /* nothing written past the length */
}

static void test_build_reply(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN];
	struct arp_frame f;
	struct mac vmac = {{0x00, 0x00, 0x5e, 0x00, 0x01, 0x07}};
	memset(&f, 0x77, sizeof(f));
	/* frame from HOST_B, ARP data says vmac has 198.18.0.1 */
	frame_reply(&f, &HOST_B, &vmac, IP(198, 18, 0, 1), &HOST_A, IP(198, 18, 0, 10));
	assert_int_equal(f.vlan, 0);
	assert_int_equal(frame_build(&f, b, sizeof(b)), 60);
	check_bytes(b, 14, &HOST_A, &HOST_B, ARP_OP_REPLY, &vmac, IP(198, 18, 0, 1), &HOST_A,
		    IP(198, 18, 0, 10));
	check_padding(b, 42, 60);

	/* the arguments may point into the frame being filled */
	frame_reply(&f, &f.eth_src, &f.sha, f.spa, &f.eth_dst, f.tpa);
	assert_int_equal(frame_build(&f, b, sizeof(b)), 60);
	check_bytes(b, 14, &HOST_A, &HOST_B, ARP_OP_REPLY, &vmac, IP(198, 18, 0, 1), &HOST_A,
		    IP(198, 18, 0, 10));
}

static void test_build_probe(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN];
	struct arp_frame f, back;
	memset(&f, 0x77, sizeof(f));
	frame_probe(&f, &HOST_A, IP(198, 18, 0, 5));
	assert_int_equal(frame_build(&f, b, sizeof(b)), 60);
	check_bytes(b, 14, &BCAST, &HOST_A, ARP_OP_REQUEST, &HOST_A, 0, &ZERO, IP(198, 18, 0, 5));
	check_padding(b, 42, 60);
	assert_int_equal(frame_parse(b, 60, &back), FR_OK);
	assert_frame_eq(&f, &back);
}

static void test_build_garp(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN];
	struct arp_frame f, back;

	memset(&f, 0x77, sizeof(f));
	frame_garp_request(&f, &HOST_B, IP(198, 18, 0, 1));
	assert_int_equal(f.vlan, 0);
	assert_int_equal(frame_build(&f, b, sizeof(b)), 60);
	check_bytes(b, 14, &BCAST, &HOST_B, ARP_OP_REQUEST, &HOST_B, IP(198, 18, 0, 1), &ZERO,
		    IP(198, 18, 0, 1));
	check_padding(b, 42, 60);
	assert_int_equal(frame_parse(b, 60, &back), FR_OK);
	assert_frame_eq(&f, &back);

	memset(&f, 0x77, sizeof(f));
	frame_garp_reply(&f, &HOST_B, IP(198, 18, 0, 1));
	assert_int_equal(f.vlan, 0);
	assert_int_equal(frame_build(&f, b, sizeof(b)), 60);
	check_bytes(b, 14, &BCAST, &HOST_B, ARP_OP_REPLY, &HOST_B, IP(198, 18, 0, 1), &BCAST,
		    IP(198, 18, 0, 1));
	check_padding(b, 42, 60);
	assert_int_equal(frame_parse(b, 60, &back), FR_OK);
	assert_frame_eq(&f, &back);
}

static void test_build_cap(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN];
	struct arp_frame f;
	frame_request(&f, &HOST_A, IP(198, 18, 0, 10), IP(198, 18, 0, 1));
	memset(b, 0xee, sizeof(b));
	assert_int_equal(frame_build(&f, b, 59), 0);
	assert_int_equal(frame_build(&f, b, 0), 0);
	assert_int_equal(b[0], 0xee); /* nothing written */
	assert_int_equal(frame_build(&f, b, 60), 60);
	f.vlan = 5;
	memset(b, 0xee, sizeof(b));
	assert_int_equal(frame_build(&f, b, 63), 0);
	assert_int_equal(b[0], 0xee);
	assert_int_equal(frame_build(&f, b, 64), 64);
}

static void test_tagged(void **state)
{
	(void)state;
	uint8_t b[FRAME_MAX_LEN + 4];
	struct arp_frame f, back;

	frame_garp_request(&f, &HOST_B, IP(198, 18, 0, 1));
	f.vlan = 0x123;
	memset(b, 0xee, sizeof(b));
	assert_int_equal(frame_build(&f, b, sizeof(b)), FRAME_MAX_LEN);
	assert_int_equal(b[12], 0x81);
	assert_int_equal(b[13], 0x00);
	assert_int_equal(b[14], 0x01); /* TCI: PCP 0, DEI 0, VID 0x123 */
	assert_int_equal(b[15], 0x23);
	check_bytes(b, 18, &BCAST, &HOST_B, ARP_OP_REQUEST, &HOST_B, IP(198, 18, 0, 1), &ZERO,
		    IP(198, 18, 0, 1));
	check_padding(b, 46, 64);
	assert_int_equal(b[64], 0xee);
	assert_int_equal(frame_parse(b, 64, &back), FR_OK);
	assert_frame_eq(&f, &back);
	assert_int_equal(back.vlan, 0x123);

	/* priority and DEI bits are not part of the VLAN id */
	b[14] = 0xf4; /* PCP 7, DEI 1, VID 0x423 */
	b[15] = 0x23;
	assert_int_equal(frame_parse(b, 64, &back), FR_OK);
	assert_int_equal(back.vlan, 0x423);

	/* VLAN 4095 */
	f.vlan = 4095;
	assert_int_equal(frame_build(&f, b, sizeof(b)), 64);
	assert_int_equal(b[14], 0x0f);
	assert_int_equal(b[15], 0xff);
	assert_int_equal(frame_parse(b, 64, &back), FR_OK);
	assert_int_equal(back.vlan, 4095);

	/* a priority tag (VID 0) parses as untagged */
	f.vlan = 0x123;
	frame_build(&f, b, sizeof(b));
	b[14] = 0xa0;
	b[15] = 0x00;
	assert_int_equal(frame_parse(b, 64, &back), FR_OK);
	assert_int_equal(back.vlan, 0);

	/* truncation around the tag */
	f.vlan = 7;
	frame_build(&f, b, sizeof(b));
	assert_int_equal(frame_parse(b, 14, &back), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 17, &back), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 18, &back), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 45, &back), FR_TRUNCATED);
	assert_int_equal(frame_parse(b, 46, &back), FR_OK);

	/* a tag carrying something else, and a second tag, are not ARP */
	b[16] = 0x08;
	b[17] = 0x00;
	assert_int_equal(frame_parse(b, 64, &back), FR_NOT_ARP);
	b[16] = 0x81;
	b[17] = 0x00;
	assert_int_equal(frame_parse(b, 64, &back), FR_NOT_ARP);
	/* 802.1ad outer tag is not handled */
	frame_build(&f, b, sizeof(b));
	b[12] = 0x88;
	b[13] = 0xa8;
	assert_int_equal(frame_parse(b, 64, &back), FR_NOT_ARP);

	/* hard and soft reasons are found behind the tag too */
	frame_build(&f, b, sizeof(b));
	b[18 + 7] = 7;
	assert_int_equal(frame_parse(b, 64, &back), FR_BAD_OP);
	frame_build(&f, b, sizeof(b));
	memset(b + 18 + 8, 0xff, 6);
	assert_int_equal(frame_parse(b, 64, &back), FR_SENDER_MAC_BROADCAST);
	assert_int_equal(back.vlan, 7);
}

static void test_round_trip(void **state)
{
	(void)state;
	uint32_t x = 0xc0ffee;
	for (int i = 0; i < 20000; i++) {
		struct arp_frame f, back;
		uint8_t *raw = (uint8_t *)&f;
		for (size_t k = 0; k < sizeof(f); k++) {
			x = x * 1103515245u + 12345u;
			raw[k] = (uint8_t)(x >> 16);
		}
		f.eth_src.a[0] &= 0xfe;
		f.sha.a[0] = (uint8_t)(f.sha.a[0] & 0xfe) | 0x02;
		f.op = (uint16_t)(1 + (x & 1));
		f.vlan &= (i & 1) ? 0x0fff : 0;
		f.spa = (f.spa % (224u << 24));
		if ((f.spa >> 24) == 127)
			f.spa ^= 1u << 24;
		f.tpa = f.tpa % (224u << 24);
		if ((f.tpa >> 24) == 127)
			f.tpa ^= 1u << 24;
		uint8_t b[FRAME_MAX_LEN];
		size_t n = frame_build(&f, b, sizeof(b));
		assert_int_equal(n, f.vlan ? 64 : 60);
		assert_int_equal(frame_parse(b, n, &back), FR_OK);
		assert_frame_eq(&f, &back);
		/* and the minimum length (without padding) is enough */
		assert_int_equal(frame_parse(b, f.vlan ? 46 : 42, &back), FR_OK);
		assert_frame_eq(&f, &back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_real_request),
	    cmocka_unit_test(test_parse_real_reply),
	    cmocka_unit_test(test_parse_longer_frames),
	    cmocka_unit_test(test_reasons_hard),
	    cmocka_unit_test(test_reason_order),
	    cmocka_unit_test(test_reasons_soft),
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_build_request),
	    cmocka_unit_test(test_build_reply),
	    cmocka_unit_test(test_build_probe),
	    cmocka_unit_test(test_build_garp),
	    cmocka_unit_test(test_build_cap),
	    cmocka_unit_test(test_tagged),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
