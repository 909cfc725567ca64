/*
 * Unit tests for core/addr: MAC and IPv4 predicates, parsers, formatters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/addr.h"

static struct mac M(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e, uint8_t f) {
	struct mac m = {{a, b, c, d, e, f}};
	return m;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void
test_mac_predicates(void **state)
{
	(void)state;
	struct mac bc = M(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	struct mac v4mc = M(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01);
	struct mac v6mc = M(0x33, 0x33, 0x00, 0x00, 0x00, 0x01);
	struct mac almost = M(0xff, 0xff, 0xff, 0xff, 0xff, 0xfe);
	struct mac zero = M(0, 0, 0, 0, 0, 0);
	struct mac uni = M(0x4b & 0xfe, 0x86, 0xf6, 0xc5, 0xa2, 0x14);
	struct mac local = M(0x02, 0x00, 0x5e, 0x00, 0x01, 0x07);
	struct mac vrrp = M(0x00, 0x00, 0x5e, 0x00, 0x01, 0x07);
	struct mac zero_last = M(0, 0, 0, 0, 0, 1);

	assert_true(mac_is_broadcast(&bc));
	assert_false(mac_is_broadcast(&almost));
	assert_false(mac_is_broadcast(&v4mc));
	assert_false(mac_is_broadcast(&zero));

	assert_false(mac_is_multicast(&bc)); /* broadcast is not "multicast" here */
	assert_true(mac_is_multicast(&v4mc));
	assert_true(mac_is_multicast(&v6mc));
	assert_true(mac_is_multicast(&almost)); /* group bit set */
	assert_false(mac_is_multicast(&uni));
	assert_false(mac_is_multicast(&zero));

	assert_true(mac_is_zero(&zero));
	assert_false(mac_is_zero(&zero_last));
	assert_false(mac_is_zero(&bc));

	assert_true(mac_is_local(&local));
	assert_false(mac_is_local(&vrrp));
	assert_true(mac_is_local(&bc));
	assert_false(mac_is_local(&zero));

	assert_true(mac_eq(&local, &local));
	struct mac local2 = local;
	assert_true(mac_eq(&local, &local2));
	assert_false(mac_eq(&local, &vrrp));
	assert_false(mac_eq(&zero, &zero_last));
}

static void test_mac_parse_forms(void **state)
{
	(void)state;
	struct mac want = M(0x4b, 0x86, 0xf6, 0xc5, 0xa2, 0x14), m;

	memset(&m, 0, sizeof(m));
	assert_int_equal(mac_parse("4b:86:f6:c5:a2:14", &m), 0);
	assert_memory_equal(m.a, want.a, MAC_LEN);

	memset(&m, 0, sizeof(m));
	assert_int_equal(mac_parse("4b-86-f6-c5-a2-14", &m), 0);
	assert_memory_equal(m.a, want.a, MAC_LEN);

	memset(&m, 0, sizeof(m));
	assert_int_equal(mac_parse("4b86:f6c5:a214", &m), 0);
	assert_memory_equal(m.a, want.a, MAC_LEN);

	memset(&m, 0, sizeof(m));
	assert_int_equal(mac_parse("4B:86:F6:C5:A2:14", &m), 0);
	assert_memory_equal(m.a, want.a, MAC_LEN);

	memset(&m, 0, sizeof(m));
	assert_int_equal(mac_parse("4B86:f6C5:A214", &m), 0);
	assert_memory_equal(m.a, want.a, MAC_LEN);

	struct mac bc = M(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(mac_parse("ff:ff:ff:ff:ff:ff", &m), 0);
	assert_memory_equal(m.a, bc.a, MAC_LEN);
	struct mac z = M(0, 0, 0, 0, 0, 0);
	assert_int_equal(mac_parse("00-00-00-00-00-00", &m), 0);
	assert_memory_equal(m.a, z.a, MAC_LEN);
	struct mac mixed = M(0x01, 0x23, 0x45, 0x67, 0x89, 0xab);
	assert_int_equal(mac_parse("0123:4567:89aB", &m), 0);
	assert_memory_equal(m.a, mixed.a, MAC_LEN);
}

/* The forms other tools print: Cisco's, bare hex, octets without leading zeros. */
static void test_mac_parse_other_tools(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		struct mac want;
	} good[] = {
	    {"0000.0c12.3456", {{0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}}},
	    {"4B86.F6c5.a214", {{0x4b, 0x86, 0xf6, 0xc5, 0xa2, 0x14}}},
	    {"00000c123456", {{0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}}},
	    {"FFFFFFFFFFFF", {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
	    {"0:0:c:12:34:56", {{0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}}},
	    {"0:0:0:0:0:0", {{0, 0, 0, 0, 0, 0}}},
	    {"4b:86:f6:c5:a2:1", {{0x4b, 0x86, 0xf6, 0xc5, 0xa2, 0x01}}},
	    {"a:b:c:d:e:f", {{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}}},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct mac m = {{1, 2, 3, 4, 5, 6}};
		if (mac_parse(good[i].s, &m) != 0)
			fail_msg("mac_parse refused \"%s\"", good[i].s);
		char got[MAC_STRLEN], want[MAC_STRLEN];
		if (!mac_eq(&m, &good[i].want))
			fail_msg("\"%s\" read as %s, expected %s", good[i].s, mac_fmt(&m, got),
				 mac_fmt(&good[i].want, want));
	}
}

static void test_mac_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "4b:86:f6:c5:a2",
	    "4b:86:f6:c5:a2:14:",
	    "4b:86:f6:c5:a2:14:00",
	    "4b:86:f6:c5:a2:1g",
	    "g4:86:f6:c5:a2:14",
	    "4b:86-f6:c5:a2:14",
	    "4b-86-f6-c5-a2:14",
	    "4b.86.f6.c5.a2.14",
	    "4b86-f6c5-a214",
	    "4b86:f6c5a214",
	    " 4b:86:f6:c5:a2:14",
	    "4b:86:f6:c5:a2:14 ",
	    "4:b86:f6:c5:a2:14",
	    "4b::86:f6:c5:a2:1",
	    "+b:86:f6:c5:a2:14",
	    "4b86:f6c5:a21",
	    "4b86:f6c5:a2145",
	    "x4b86:f6c5:a214",
	    "4b86:f6c5:a2 4",
	    /* Cisco: groups of four, three of them, dots throughout */
	    "0000.0c12.345",
	    "0000.0c12.34567",
	    "000.00c12.3456",
	    "0000.0c12.3456.",
	    ".0000.0c12.3456",
	    "0000..0c12.3456",
	    "0000.0c123456",
	    "0000.0c12:3456",
	    "0000-0c12-3456",
	    "0000.0c12.345g",
	    "00.00.0c.12.34.56",
	    /* bare: twelve hex digits exactly */
	    "00000c12345",
	    "00000c1234567",
	    "00000c12345g",
	    "0x000c123456",
	    "00000c123456\n",
	    /* octets without leading zeros: one or two digits, colons only */
	    "0:0:c:12:34",
	    "0:0:c:12:34:56:7",
	    "0:0:c:123:4:56",
	    "0:0::12:34:56",
	    "0-0-c-12-34-56",
	    "0:0-c:12:34:56",
	    "0:0:c:12:34:5g",
	    "aabbcc:ddeeff",
	    "aa:bbccdd:eeff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mac m = M(1, 2, 3, 4, 5, 6), orig = m;
		if (mac_parse(bad[i], &m) != -1)
			fail_msg("mac_parse accepted \"%s\"", bad[i]);
		assert_memory_equal(m.a, orig.a, MAC_LEN); /* untouched */
	}
}

static void test_mac_fmt(void **state)
{
	(void)state;
	char buf[MAC_STRLEN];
	struct mac m = M(0x4b, 0x86, 0xf6, 0xc5, 0xa2, 0x14);
	assert_ptr_equal(mac_fmt(&m, buf), buf);
	assert_string_equal(buf, "4b:86:f6:c5:a2:14");
	m = M(0, 1, 0x0a, 0xa0, 0xff, 0x10);
	assert_string_equal(mac_fmt(&m, buf), "00:01:0a:a0:ff:10");
	assert_int_equal(strlen(buf), MAC_STRLEN - 1);

	/* fmt -> parse round trip over varied bytes */
	for (unsigned v = 0; v < 256; v++) {
		struct mac a = M((uint8_t)v, (uint8_t)(v * 7), (uint8_t)(255 - v),
				 (uint8_t)(v ^ 0x5a), (uint8_t)(v * 13 + 1), (uint8_t)(v >> 1)),
			   b;
		assert_int_equal(mac_parse(mac_fmt(&a, buf), &b), 0);
		assert_true(mac_eq(&a, &b));
	}
}

static void test_ip4_parse(void **state)
{
	(void)state;
	uint32_t ip = 0;
	assert_int_equal(ip4_parse("198.18.0.1", &ip), 0);
	assert_int_equal(ip, IP(198, 18, 0, 1));
	assert_int_equal(ip4_parse("0.0.0.0", &ip), 0);
	assert_int_equal(ip, 0);
	assert_int_equal(ip4_parse("255.255.255.255", &ip), 0);
	assert_int_equal(ip, UINT32_MAX);
	assert_int_equal(ip4_parse("10.0.200.9", &ip), 0);
	assert_int_equal(ip, IP(10, 0, 200, 9));
	assert_int_equal(ip4_parse("1.2.3.4", &ip), 0);
	assert_int_equal(ip, 0x01020304u); /* host order: first octet is the high byte */

	static const char *const bad[] = {
	    "",		"1.2.3",    "1.2.3.4.5",  "256.0.0.1",	 "1.2.3.256",  "01.2.3.4",
	    "1.2.3.04", "1..2.3",   ".1.2.3",	  "1.2.3.",	 " 1.2.3.4",   "1.2.3.4 ",
	    "1.2.3.-4", "1.2.3.+4", "1.2.3.4/24", "1234.1.1.1",	 "0x1.2.3.4",  "1.2.3.4x",
	    "a.b.c.d",	"1.2.3.4.", "1,2,3,4",	  "999.999.9.9", "1.2.3.0004", "4294967295",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 0xdeadbeef;
		if (ip4_parse(bad[i], &v) != -1)
			fail_msg("ip4_parse accepted \"%s\"", bad[i]);
		assert_int_equal(v, 0xdeadbeef); /* untouched */
	}
}

static void test_ip4_fmt(void **state)
{
	(void)state;
	char buf[IP4_STRLEN];
	assert_ptr_equal(ip4_fmt(0, buf), buf);
	assert_string_equal(buf, "0.0.0.0");
	assert_string_equal(ip4_fmt(UINT32_MAX, buf), "255.255.255.255");
	assert_int_equal(strlen(buf), IP4_STRLEN - 1);
	assert_string_equal(ip4_fmt(IP(198, 18, 0, 1), buf), "198.18.0.1");
	assert_string_equal(ip4_fmt(IP(10, 100, 1, 9), buf), "10.100.1.9");
	assert_string_equal(ip4_fmt(IP(100, 10, 0, 109), buf), "100.10.0.109");

	/* fmt -> parse round trip */
	uint32_t x = 0x12345678;
	for (int i = 0; i < 100000; i++) {
		uint32_t back;
		x = x * 1664525u + 1013904223u;
		assert_int_equal(ip4_parse(ip4_fmt(x, buf), &back), 0);
		assert_int_equal(back, x);
	}
}

static void test_ip4_prefix_parse(void **state)
{
	(void)state;
	struct ip4_prefix p;

	assert_int_equal(ip4_prefix_parse("198.18.0.1/15", true, &p), 0);
	assert_int_equal(p.addr, IP(198, 18, 0, 1)); /* host bits kept */
	assert_int_equal(p.len, 15);
	assert_int_equal(ip4_prefix_parse("10.0.0.0/8", false, &p), 0);
	assert_int_equal(p.addr, IP(10, 0, 0, 0));
	assert_int_equal(p.len, 8);
	assert_int_equal(ip4_prefix_parse("0.0.0.0/0", true, &p), 0);
	assert_int_equal(p.addr, 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(ip4_prefix_parse("1.2.3.4/32", true, &p), 0);
	assert_int_equal(p.len, 32);

	/* bare address: /32 unless a length is required */
	assert_int_equal(ip4_prefix_parse("198.18.1.2", false, &p), 0);
	assert_int_equal(p.addr, IP(198, 18, 1, 2));
	assert_int_equal(p.len, 32);

	static const char *const bad[] = {
	    "1.2.3.4/33",  "1.2.3.4/",	 "1.2.3.4/-1", "1.2.3.4/08", "1.2.3.4/100",
	    "1.2.3.4/8x",  "1.2.3/8",	 "/8",	       "1.2.3.4/ 8", "1.2.3.4 /8",
	    "256.1.1.1/8", "1.2.3.4//8", "1.2.3.4/8/", "1.2.3.4/a",  "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ip4_prefix q = {0xdeadbeef, 77};
		if (ip4_prefix_parse(bad[i], false, &q) != -1)
			fail_msg("ip4_prefix_parse accepted \"%s\"", bad[i]);
		assert_int_equal(q.addr, 0xdeadbeef);
		assert_int_equal(q.len, 77);
	}
	struct ip4_prefix q = {0xdeadbeef, 77};
	assert_int_equal(ip4_prefix_parse("198.18.1.2", true, &q), -1);
	assert_int_equal(q.addr, 0xdeadbeef);
}

static void test_ip4_mask(void **state)
{
	(void)state;
	assert_int_equal(ip4_mask(0), 0);
	assert_int_equal(ip4_mask(1), 0x80000000u);
	assert_int_equal(ip4_mask(8), 0xff000000u);
	assert_int_equal(ip4_mask(15), 0xfffe0000u);
	assert_int_equal(ip4_mask(24), 0xffffff00u);
	assert_int_equal(ip4_mask(31), 0xfffffffeu);
	assert_int_equal(ip4_mask(32), 0xffffffffu);
	for (uint8_t len = 0; len <= 32; len++) {
		uint32_t m = ip4_mask(len);
		/* len leading ones, then zeros */
		assert_int_equal(__builtin_popcount(m), len);
		assert_int_equal(m & ~(m >> 1) & 0x7fffffffu, 0);
	}
}

static void test_ip4_prefix_contains(void **state)
{
	(void)state;
	struct ip4_prefix p = {IP(198, 18, 0, 1), 15};
	assert_true(ip4_prefix_contains(&p, IP(198, 18, 0, 1)));
	assert_true(ip4_prefix_contains(&p, IP(198, 18, 0, 0)));
	assert_true(ip4_prefix_contains(&p, IP(198, 19, 255, 255)));
	assert_false(ip4_prefix_contains(&p, IP(198, 20, 0, 0)));
	assert_false(ip4_prefix_contains(&p, IP(198, 17, 255, 255)));

	struct ip4_prefix all = {IP(1, 2, 3, 4), 0};
	assert_true(ip4_prefix_contains(&all, 0));
	assert_true(ip4_prefix_contains(&all, UINT32_MAX));

	struct ip4_prefix host = {IP(10, 0, 0, 7), 32};
	assert_true(ip4_prefix_contains(&host, IP(10, 0, 0, 7)));
	assert_false(ip4_prefix_contains(&host, IP(10, 0, 0, 6)));
	assert_false(ip4_prefix_contains(&host, IP(10, 0, 0, 8)));

	struct ip4_prefix p31 = {IP(10, 0, 0, 6), 31};
	assert_true(ip4_prefix_contains(&p31, IP(10, 0, 0, 7)));
	assert_false(ip4_prefix_contains(&p31, IP(10, 0, 0, 8)));

	struct ip4_prefix p1 = {IP(200, 0, 0, 0), 1};
	assert_true(ip4_prefix_contains(&p1, IP(128, 0, 0, 0)));
	assert_false(ip4_prefix_contains(&p1, IP(127, 255, 255, 255)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mac_predicates),
	    cmocka_unit_test(test_mac_parse_forms),
	    cmocka_unit_test(test_mac_parse_other_tools),
	    cmocka_unit_test(test_mac_parse_rejects),
	    cmocka_unit_test(test_mac_fmt),
	    cmocka_unit_test(test_ip4_parse),
	    cmocka_unit_test(test_ip4_fmt),
	    cmocka_unit_test(test_ip4_prefix_parse),
	    cmocka_unit_test(test_ip4_mask),
	    cmocka_unit_test(test_ip4_prefix_contains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
