/*
 * core/conf: the typed value parsers on their own (bounds, units, garbage,
 * overflow, what each leaves behind), and the key tables of the sections:
 * sound rows, no name twice, every key reachable from a file and refusing
 * a bad value with its exact message. tests/unit/test_config.c covers whole
 * files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "core/arp_policy.h"
#include "core/conf.h"
#include "core/config.h"

#define FNAME	"arphad.conf"
#define LINE	7 /* the line the parsers are told they read */
#define IFACE	"[Interface lan]\n"
#define CLUSTER "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n"

/* ---- calling a parser ---- */

/* What the typed parsers are tried on: a field of each kind, and fences between. */
struct obj {
	uint32_t fence0;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	int i;
	bool b;
	uint8_t bits;
	char name[CONF_IFNAMSIZ];
	char path[16];
	struct mac mac;
	uint32_t addrs[3];
	size_t n_addrs;
	uint32_t fence1;
};

#define KEY(key, parser, field, ...)                                                               \
	{                                                                                          \
		.name = (key), .parse = (parser), CONF_FIELD(struct obj, field), __VA_ARGS__       \
	}

static struct conf_parser *new_parser(void)
{
	struct conf_parser *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	return p;
}

/* p reads line LINE, the first line of the key, with no error so far. */
static void reset(struct conf_parser *p, int key_line)
{
	p->n_errs = 0;
	p->more_errs = 0;
	p->sect_bad = false;
	p->line = LINE;
	p->key_line = key_line;
}

static void take(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	reset(p, LINE);
	if (k->parse(p, k, obj, v) != 0)
		fail_msg("%s=%s refused: %s", k->name, v,
			 p->n_errs ? p->errs[0].msg : "(no error)");
	assert_int_equal(p->n_errs, 0);
}

/* v is refused with the one message want, at LINE. */
static void refuse(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v,
		   const char *want)
{
	reset(p, LINE);
	if (k->parse(p, k, obj, v) != -1)
		fail_msg("%s=%s taken, expected: %s", k->name, v, want);
	assert_int_equal(p->n_errs, 1);
	assert_int_equal(p->errs[0].line, LINE);
	assert_true(p->sect_bad);
	if (strcmp(p->errs[0].msg, want) != 0)
		fail_msg("%s=%s\ngot:  %s\nwant: %s", k->name, v, p->errs[0].msg, want);
}

/* ---- the typed parsers ---- */

static void test_uint_bounds_and_garbage(void **state)
{
	struct conf_parser *p = new_parser();
	const struct conf_key k8 = KEY("Small", conf_uint, u8, .min = 1, .max = 254);
	const struct conf_key k16 = KEY("Port", conf_uint, u16, .min = 1, .max = 65535);
	const struct conf_key k32 = KEY("Id", conf_uint, u32, .min = 0, .max = UINT32_MAX);
	const struct conf_key ki = KEY("Prio", conf_uint, i, .min = 0, .max = 99);
	struct obj o;
	memset(&o, 0xa5, sizeof(o));

	take(p, &k8, &o, "1");
	assert_int_equal(o.u8, 1);
	take(p, &k8, &o, "254");
	assert_int_equal(o.u8, 254);
	take(p, &k8, &o, "007");
	assert_int_equal(o.u8, 7);
	take(p, &k16, &o, "65535");
	assert_int_equal(o.u16, 65535);
	take(p, &k32, &o, "4294967295");
	assert_int_equal(o.u32, UINT32_MAX);
	take(p, &k32, &o, "0");
	assert_int_equal(o.u32, 0);
	take(p, &ki, &o, "99");
	assert_int_equal(o.i, 99);
	take(p, &ki, &o, "0");
	assert_int_equal(o.i, 0);
	/* a store of one width leaves its neighbours alone */
	assert_int_equal(o.fence0, 0xa5a5a5a5);
	assert_int_equal(o.bits, 0xa5);
	assert_int_equal(o.fence1, 0xa5a5a5a5);

	static const char *const bad8[] = {
	    "0",
	    "255",
	    "256",
	    "ten",
	    "-1",
	    "+1",
	    "1 ",
	    " 1",
	    "1.0",
	    "0x10",
	    "1e2",
	    "1_0",
	    "",
	    "--1",
	    "1-1",
	    "18446744073709551616",
	    "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad8) / sizeof(bad8[0]); i++) {
		char want[128];
		snprintf(want, sizeof(want),
			 "Small: expected a whole number from 1 to 254, got \"%s\"", bad8[i]);
		o.u8 = 42;
		refuse(p, &k8, &o, bad8[i], want);
		assert_int_equal(o.u8, 42); /* a refused value changes nothing */
	}
	refuse(p, &k8, &o,
	       "\xff"
	       "1",
	       "Small: expected a whole number from 1 to 254, got \"\\xff1\"");
	refuse(p, &k16, &o, "65536",
	       "Port: expected a whole number from 1 to 65535, got \"65536\"");
	refuse(p, &k16, &o, "0", "Port: expected a whole number from 1 to 65535, got \"0\"");
	refuse(p, &k32, &o, "4294967296",
	       "Id: expected a whole number from 0 to 4294967295, got \"4294967296\"");
	refuse(p, &ki, &o, "100", "Prio: expected a whole number from 0 to 99, got \"100\"");
	assert_int_equal(o.i, 0);
	free(p);
}

static void test_config_duration_units(void **state)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {
	    {"0", 0},
	    {"0ms", 0},
	    {"20ms", 20},
	    {"1s", 1000},
	    {"1.5s", 1500},
	    {"0.02s", 20},
	    {"0.001s", 1},
	    {"1.0005s", 1000}, /* past the millisecond: cut */
	    {"2m", 120000},
	    {"2min", 120000},
	    {"0.5m", 30000},
	    {"1h", 3600000},
	    {"1.5h", 5400000},
	    {"24h", 86400000},
	    {"100000000ms", 100000000},
	    {"4294967s", 4294967000u},
	    {"1193h", 4294800000u},
	};
	uint32_t ms;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		if (config_duration(good[i].s, &ms) != 0)
			fail_msg("\"%s\" refused", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	static const char *const bad[] = {
	    "",		"ms",	 "s",
	    "100",	"1 s",	 " 1s",
	    "1s ",	"-1s",	 "+1s",
	    "1.s",	".5s",	 "1.5ms",
	    "1e3ms",	"1S",	 "1M",
	    "1mn",	"1hr",	 "1d",
	    "0x1s",	"1,5s",	 "1.5.5s",
	    "00",	"0.0",	 "100000001ms",
	    "4294968s", "1194h", "99999999999999999999s",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (config_duration(bad[i], &ms) != -1)
			fail_msg("\"%s\" taken as %u ms", bad[i], ms);
		assert_int_equal(ms, 12345); /* untouched */
	}
}

static void test_duration_bounds_and_messages(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o = {0};
	const struct conf_key from =
	    KEY("Heartbeat", conf_duration, u32, .min = 10, .max = 60000, .arg = "100ms or 1s");
	const struct conf_key upto =
	    KEY("Delay", conf_duration, u32, .max = 3600000, .arg = "0, 500ms, 30s or 5m");
	const struct conf_key off = KEY("Refresh", conf_duration, u32, .min = 100, .max = 86400000,
					.arg = "30s, 10m or 1h", .flags = CONF_OFF);
	const struct conf_key one =
	    KEY("Tick", conf_duration, u32, .min = 1, .max = 60000, .arg = "100ms");

	take(p, &from, &o, "10ms");
	assert_int_equal(o.u32, 10);
	take(p, &from, &o, "60s");
	assert_int_equal(o.u32, 60000);
	take(p, &from, &o, "1m");
	assert_int_equal(o.u32, 60000);
	static const char *const from_bad[] = {"9ms", "0", "60001ms", "61s", "2m", "100", "x"};
	for (size_t i = 0; i < sizeof(from_bad) / sizeof(from_bad[0]); i++) {
		char want[160];
		snprintf(want, sizeof(want),
			 "Heartbeat: expected a duration from 10ms to 60s, such as 100ms or 1s, "
			 "got \"%s\"",
			 from_bad[i]);
		o.u32 = 777;
		refuse(p, &from, &o, from_bad[i], want);
		assert_int_equal(o.u32, 777);
	}

	take(p, &upto, &o, "0");
	assert_int_equal(o.u32, 0);
	take(p, &upto, &o, "60m");
	assert_int_equal(o.u32, 3600000);
	refuse(p, &upto, &o, "61m",
	       "Delay: expected a duration up to 1h, such as 0, 500ms, 30s or 5m, got \"61m\"");

	take(p, &off, &o, "0");
	assert_int_equal(o.u32, 0);
	take(p, &off, &o, "100ms");
	assert_int_equal(o.u32, 100);
	take(p, &off, &o, "24h");
	assert_int_equal(o.u32, 86400000);
	refuse(p, &off, &o, "99ms",
	       "Refresh: expected 0 (off) or a duration from 100ms to 24h, such as 30s, 10m or 1h, "
	       "got \"99ms\"");
	refuse(p, &off, &o, "1441m",
	       "Refresh: expected 0 (off) or a duration from 100ms to 24h, such as 30s, 10m or 1h, "
	       "got \"1441m\"");

	take(p, &one, &o, "1ms");
	assert_int_equal(o.u32, 1);
	refuse(p, &one, &o, "0",
	       "Tick: expected a duration from 1ms to 60s, such as 100ms, got \"0\"");
	free(p);
}

static void test_bool_and_enum(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o = {0};
	const struct conf_key kb = KEY("Encrypt", conf_bool, b);
	take(p, &kb, &o, "yes");
	assert_true(o.b);
	take(p, &kb, &o, "NO");
	assert_false(o.b);
	take(p, &kb, &o, "Yes");
	assert_true(o.b);
	static const char *const bad[] = {"true", "1", "y", "yes no", "off"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[96];
		snprintf(want, sizeof(want), "Encrypt: expected one of yes, no, got \"%s\"",
			 bad[i]);
		refuse(p, &kb, &o, bad[i], want);
		assert_true(o.b);
	}

	static const char *const words[] = {"alpha", "beta", "gamma", NULL};
	static const uint32_t values[] = {10, 20, 30};
	const struct conf_enum_arg mapped = {words, values}, indexed = {words, NULL};
	const struct conf_key km = KEY("Mode", conf_enum, u8, .arg = &mapped);
	const struct conf_key kx = KEY("Level", conf_enum, i, .arg = &indexed);
	take(p, &km, &o, "BETA");
	assert_int_equal(o.u8, 20);
	take(p, &km, &o, "gamma");
	assert_int_equal(o.u8, 30);
	take(p, &kx, &o, "gamma");
	assert_int_equal(o.i, 2);
	refuse(p, &km, &o, "delta", "Mode: expected one of alpha, beta, gamma, got \"delta\"");
	refuse(p, &km, &o, "alph", "Mode: expected one of alpha, beta, gamma, got \"alph\"");
	assert_int_equal(o.u8, 30);
	free(p);
}

static void test_flags(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o = {0};
	static const char *const words[] = {"garp", "vmac", "targeted", NULL};
	const struct conf_flags_arg f = {words, "a method"};
	const struct conf_key k = KEY("Announce", conf_flags, bits, .arg = &f, .flags = CONF_LIST);

	o.bits = 7; /* a default */
	take(p, &k, &o, "vmac");
	assert_int_equal(o.bits, 2); /* the first line replaces it */
	take(p, &k, &o, "garp, TARGETED");
	assert_int_equal(o.bits, 5);
	/* a later line adds */
	reset(p, LINE - 2);
	assert_int_equal(k.parse(p, &k, &o, "vmac"), 0);
	assert_int_equal(o.bits, 7);
	refuse(p, &k, &o, "shout",
	       "Announce: \"shout\" is not a method; expected some of garp, vmac, targeted");
	refuse(p, &k, &o, "garp garp", "Announce: garp is listed twice");
	refuse(p, &k, &o, "garp,,vmac",
	       "Announce: \"garp,,vmac\" has an empty element (two commas, or a comma at an "
	       "end); expected words separated by spaces or commas");
	refuse(p, &k, &o, ",",
	       "Announce: \",\" has an empty element (two commas, or a comma at "
	       "an end); expected words separated by spaces or commas");
	refuse(p, &k, &o, "\t", "Announce: expected some of garp, vmac, targeted");
	/* a word longer than any is not one, and is named whole */
	refuse(p, &k, &o, "garpgarpgarpgarpgarpgarpgarpgarpgarpgarp",
	       "Announce: \"garpgarpgarpgarpgarpgarpgarpgarpgarpgarp\" is not a method; expected "
	       "some of garp, vmac, targeted");
	/* the words before a refused one stay: a later line goes on from there */
	refuse(p, &k, &o, "targeted shout",
	       "Announce: \"shout\" is not a method; expected some of garp, vmac, targeted");
	assert_int_equal(o.bits, 4);
	reset(p, LINE - 1);
	assert_int_equal(k.parse(p, &k, &o, "targeted"), -1);
	assert_string_equal(p->errs[0].msg, "Announce: targeted is listed twice");
	free(p);
}

static void test_ifname_and_path(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o = {0};
	const struct conf_key kn = KEY("Device", conf_ifname, name, .arg = "a device name");
	take(p, &kn, &o, "eth0");
	assert_string_equal(o.name, "eth0");
	take(p, &kn, &o, "abcdefghijklmno"); /* 15 */
	assert_string_equal(o.name, "abcdefghijklmno");
	take(p, &kn, &o, "A_b.c:d-9");
	static const char *const bad[] = {
	    "abcdefghijklmnop", ".", "..", "a/b", "eth 0", "eth0,", "e*", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[96];
		snprintf(want, sizeof(want), "Device: expected a device name, got \"%s\"", bad[i]);
		refuse(p, &kn, &o, bad[i], want);
	}
	refuse(p, &kn, &o, "\xc3\xa9th0", "Device: expected a device name, got \"\\xc3\\xa9th0\"");
	assert_string_equal(o.name, "A_b.c:d-9");

	const struct conf_key kp = KEY("KeyFile", conf_path, path);
	take(p, &kp, &o, "/");
	take(p, &kp, &o, "/abcdefghijklmn"); /* 15 bytes: fits 16 */
	assert_string_equal(o.path, "/abcdefghijklmn");
	refuse(p, &kp, &o, "/abcdefghijklmno", "KeyFile: the path is longer than 15 bytes");
	refuse(p, &kp, &o, "k", "KeyFile: expected an absolute path (starting with /), got \"k\"");
	refuse(p, &kp, &o, "./k",
	       "KeyFile: expected an absolute path (starting with /), got \"./k\"");
	assert_string_equal(o.path, "/abcdefghijklmn");
	free(p);
}

static void test_mac(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o;
	memset(&o, 0xa5, sizeof(o));
	const struct conf_key k = KEY("MAC", conf_mac, mac);
	static const struct {
		const char *v;
		uint8_t first, last;
	} good[] = {
	    {"02:86:f6:c5:a2:14", 0x02, 0x14}, {"4A-86-F6-C5-A2-15", 0x4a, 0x15},
	    {"0086:f6c5:a216", 0x00, 0x16},    {"fe:ff:ff:ff:ff:ff", 0xfe, 0xff},
	    {"0286.f6c5.a217", 0x02, 0x17},  /* Cisco */
	    {"0286f6c5a218", 0x02, 0x18},    /* bare */
	    {"2:86:f6:c5:a2:9", 0x02, 0x09}, /* no leading zeros */
	    {"fe:ff:ff:ff:ff:ff", 0xfe, 0xff},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		take(p, &k, &o, good[i].v);
		assert_int_equal(o.mac.a[0], good[i].first);
		assert_int_equal(o.mac.a[5], good[i].last);
	}
	refuse(p, &k, &o, "01:00:5e:00:00:01",
	       "MAC: 01:00:5e:00:00:01 is a multicast (group) address; expected a unicast MAC");
	refuse(p, &k, &o, "ff:ff:ff:ff:ff:ff",
	       "MAC: ff:ff:ff:ff:ff:ff is the broadcast address; expected a unicast MAC");
	refuse(p, &k, &o, "00-00-00-00-00-00",
	       "MAC: 00-00-00-00-00-00 is the zero address; expected a unicast MAC");
	static const char *const bad[] = {"02:86:f6:c5:a2",
					  "02:86:f6:c5:a2:14:00",
					  "02:86-f6:c5:a2:14",
					  "02:86:f6:c5:a2:1g",
					  "0286f6c5a21",
					  "0286.f6c5a214",
					  "printer"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[160];
		snprintf(want, sizeof(want),
			 "MAC: expected a MAC address such as 02-86-f6-c5-a2-14 or "
			 "02:86:f6:c5:a2:14, got \"%s\"",
			 bad[i]);
		refuse(p, &k, &o, bad[i], want);
	}
	/* a refused value leaves the field as it was, and its neighbours always */
	assert_int_equal(o.mac.a[0], 0xfe);
	assert_int_equal(o.fence0, 0xa5a5a5a5);
	assert_int_equal(o.fence1, 0xa5a5a5a5);
	free(p);
}

static void test_addr_list(void **state)
{
	struct conf_parser *p = new_parser();
	struct obj o = {0};
	const struct conf_key k =
	    KEY("Peers", conf_addr_list, addrs, .count_off = offsetof(struct obj, n_addrs),
		.arg = "the addresses of the others", .flags = CONF_LIST);
	take(p, &k, &o, "198.18.0.1, 198.18.0.2");
	assert_int_equal(o.n_addrs, 2);
	assert_int_equal(o.addrs[1], 0xc6120002);
	take(p, &k, &o, "198.18.0.3");
	assert_int_equal(o.n_addrs, 3);
	refuse(p, &k, &o, "198.18.0.4", "Peers: more than 3 addresses");
	assert_int_equal(o.fence1, 0);

	o.n_addrs = 0;
	refuse(p, &k, &o, "198.18.0.9 198.18.0.9", "Peers: 198.18.0.9 is listed twice");
	assert_int_equal(o.n_addrs, 1); /* the first stays */
	static const struct {
		const char *v, *what;
	} bad[] = {
	    {"224.0.0.1", "a multicast address"},
	    {"0.0.0.0", "the unspecified address"},
	    {"127.0.0.1", "a loopback address"},
	    {"255.255.255.255", "the broadcast address"},
	    {"198.18.0.256", "not an IPv4 address"},
	    {"198.18.0.0/24", "not an IPv4 address"},
	    {"198.18.000000000.1", "not an IPv4 address"}, /* longer than an address */
	    {"peer", "not an IPv4 address"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[192];
		snprintf(want, sizeof(want),
			 "Peers: \"%s\" is %s; expected the addresses of the others, separated by "
			 "spaces or commas",
			 bad[i].v, bad[i].what);
		o.n_addrs = 0;
		refuse(p, &k, &o, bad[i].v, want);
		assert_int_equal(o.n_addrs, 0);
	}
	refuse(p, &k, &o, "198.18.0.1,",
	       "Peers: \"198.18.0.1,\" has an empty element (two commas, or a comma at an end); "
	       "expected words separated by spaces or commas");
	o.n_addrs = 0;
	refuse(p, &k, &o, " ", "Peers: expected at least one IPv4 address");
	free(p);
}

static void test_words(void **state)
{
	static const struct {
		const char *list;
		const char *want; /* the words joined by '|', then "!" for an empty element */
	} cases[] = {
	    {"a b", "a|b"},
	    {"a,b", "a|b"},
	    {" a , b ", "a|b"},
	    {"\ta\t", "a"},
	    {"a  ,\tb c", "a|b|c"},
	    {"", ""},
	    {"a,,b", "a|!"},
	    {",a", "!"},
	    {"a,", "a|!"},
	    {"a , ", "a|!"},
	    {",", "!"},
	    {"a b,", "a|b|!"},
	    {"abc,def ghi", "abc|def|ghi"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_words s = {cases[i].list, false};
		char got[64] = "";
		const char *w;
		size_t n;
		int r;
		while ((r = conf_next_word(&s, &w, &n)) > 0)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%.*s",
				 *got ? "|" : "", (int)n, w);
		if (r < 0)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s!",
				 *got ? "|" : "");
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("\"%s\": got %s, want %s", cases[i].list, got, cases[i].want);
	}
}

static void test_value_checks(void **state)
{
	assert_true(conf_valid_ifname("eth0"));
	assert_true(conf_valid_ifname("a"));
	assert_true(conf_valid_ifname("..."));
	assert_false(conf_valid_ifname(""));
	assert_false(conf_valid_ifname("."));
	assert_false(conf_valid_ifname(".."));
	assert_false(conf_valid_ifname("0123456789abcdef"));

	assert_string_equal(conf_ip_refusal(0), "the unspecified address");
	assert_string_equal(conf_ip_refusal(0xffffffffu), "the broadcast address");
	assert_string_equal(conf_ip_refusal(0x7f000001u), "a loopback address");
	assert_string_equal(conf_ip_refusal(0xe0000001u), "a multicast address");
	assert_string_equal(conf_ip_refusal(0xefffffffu), "a multicast address");
	assert_null(conf_ip_refusal(0xc6120001u));
	assert_null(conf_ip_refusal(0xf0000001u)); /* class E is not refused */

	static const struct {
		struct ip4_prefix a;
		const char *want;
	} edges[] = {
	    {{0xc6120000u, 24}, "the network address"},
	    {{0xc61200ffu, 24}, "the broadcast address"},
	    {{0xc6120001u, 24}, NULL},
	    {{0xc6120004u, 30}, "the network address"},
	    {{0xc6120007u, 30}, "the broadcast address"},
	    {{0xc6120004u, 31}, NULL},
	    {{0xc6120005u, 31}, NULL},
	    {{0xc6120000u, 32}, NULL},
	    {{0xc6120000u, 8}, NULL},
	    {{0xc6000000u, 8}, "the network address"},
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		const char *got = conf_edge_address(&edges[i].a);
		if (edges[i].want)
			assert_string_equal(got, edges[i].want);
		else
			assert_null(got);
	}
}

static void test_fail_escapes_and_counts(void **state)
{
	struct conf_parser *p = new_parser();
	assert_int_equal(conf_fail(p, 3, "Key: got \"%s\"", "a\x01\x1b[0m\x7f\xffz"), -1);
	assert_true(p->sect_bad);
	assert_int_equal(p->n_errs, 1);
	assert_int_equal(p->errs[0].line, 3);
	assert_string_equal(p->errs[0].msg, "Key: got \"a\\x01\\x1b[0m\\x7f\\xffz\"");
	for (int i = 1; i < CONF_MAX_ERRORS + 5; i++)
		conf_fail(p, 10 + i, "error %d", i);
	assert_int_equal(p->n_errs, CONF_MAX_ERRORS);
	assert_int_equal(p->more_errs, 5);
	assert_string_equal(p->errs[CONF_MAX_ERRORS - 1].msg, "error 49");

	int bad[] = {3, 9, 20, 41};
	p->bad = bad;
	p->n_bad = 4;
	assert_true(conf_was_bad(p, 3));
	assert_true(conf_was_bad(p, 20));
	assert_true(conf_was_bad(p, 41));
	assert_false(conf_was_bad(p, 1));
	assert_false(conf_was_bad(p, 10));
	assert_false(conf_was_bad(p, 42));
	free(p);
}

static void test_push(void **state)
{
	struct conf_parser *p = new_parser();
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t *e = conf_push(p, (void **)&v, &n, &cap, sizeof(*v));
		assert_non_null(e);
		assert_int_equal(*e, 0);
		*e = ~i;
	}
	assert_int_equal(n, 100);
	assert_int_equal(cap, 128);
	assert_int_equal(v[0], ~0ull);
	assert_int_equal(v[99], ~99ull);
	assert_int_equal(p->n_errs, 0);
	free(v);
	free(p);
}

/* ---- the key tables ---- */

static size_t n_keys(const struct conf_section *s)
{
	size_t n = 0;
	while (s->keys[n].name)
		n++;
	return n;
}

static const struct conf_section *section(const char *name)
{
	for (size_t i = 0; conf_sections[i]; i++)
		if (strcmp(conf_sections[i]->name, name) == 0)
			return conf_sections[i];
	fail_msg("no section %s", name);
	return NULL;
}

static void test_registry(void **state)
{
	static const char *const want[] = {"Daemon",	"ARP",	"Interface", "ARPEntry", "ProxyARP",
					   "Cluster",	"VIP",	"Flush",     "ConnSync", "Balance",
					   "Neighbors", "Host", "Track"};
	size_t n = 0;
	for (; conf_sections[n]; n++) {
		const struct conf_section *s = conf_sections[n];
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(s->name, want[n]);
		assert_non_null(s->begin);
		assert_non_null(s->keys);
		/* the usage is the name, and NAME for a named section */
		char usage[64];
		snprintf(usage, sizeof(usage), "%s%s", s->name, s->named ? " NAME" : "");
		assert_string_equal(s->usage, usage);
		for (size_t j = 0; j < n; j++)
			assert_int_not_equal(strcasecmp(conf_sections[j]->name, s->name), 0);
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_true(n < CONF_KINDS_MAX);
	/* exactly one kind is needed by every file */
	size_t required = 0;
	for (size_t i = 0; conf_sections[i]; i++)
		required += conf_sections[i]->required != NULL;
	assert_int_equal(required, 1);
	assert_non_null(section("Interface")->required);
}

/* Bytes an unsigned field of size can hold. */
static uint64_t room(size_t size)
{
	return size >= 4 ? UINT32_MAX : (1ull << (8 * size)) - 1;
}

static void test_tables_sound(void **state)
{
	for (size_t i = 0; conf_sections[i]; i++) {
		const struct conf_section *s = conf_sections[i];
		size_t n = n_keys(s);
		assert_true(n >= 1 && n < CONF_KEYS_MAX);
		for (size_t a = 0; a < n; a++) {
			const struct conf_key *k = &s->keys[a];
			/* no name twice: the reader finds keys case-insensitively */
			for (size_t b = 0; b < a; b++)
				if (strcasecmp(s->keys[b].name, k->name) == 0)
					fail_msg("[%s] has %s twice", s->name, k->name);
			if (!k->parse)
				fail_msg("[%s] %s has no parser", s->name, k->name);
			assert_true(k->size > 0);
			if (k->parse == conf_uint || k->parse == conf_enum ||
			    k->parse == conf_flags || k->parse == conf_duration)
				if (k->size != 1 && k->size != 2 && k->size != 4)
					fail_msg("[%s] %s: a field of %zu bytes", s->name, k->name,
						 k->size);
			if (k->parse == conf_uint || k->parse == conf_duration) {
				assert_true(k->min <= k->max);
				if (k->max > room(k->size))
					fail_msg("[%s] %s: %u does not fit", s->name, k->name,
						 k->max);
			}
			if (k->parse == conf_duration)
				assert_non_null(k->arg); /* the examples */
			if (k->flags & CONF_OFF)
				assert_ptr_equal(k->parse, conf_duration);
			if (k->parse == conf_bool)
				assert_int_equal(k->size, sizeof(bool));
			if (k->parse == conf_ifname) {
				assert_int_equal(k->size, CONF_IFNAMSIZ);
				assert_non_null(k->arg);
			}
			if (k->parse == conf_enum) {
				const struct conf_enum_arg *e = k->arg;
				assert_non_null(e);
				for (size_t w = 0; e->words[w]; w++)
					if (e->values && e->values[w] > room(k->size))
						fail_msg("[%s] %s: %s does not fit", s->name,
							 k->name, e->words[w]);
			}
			if (k->parse == conf_flags) {
				const struct conf_flags_arg *f = k->arg;
				size_t w = 0;
				while (f->words[w])
					w++;
				assert_true(w <= 8 * k->size);
				assert_true(k->flags & CONF_LIST);
			}
			if (k->parse == conf_addr_list) {
				assert_non_null(k->arg);
				assert_true(k->size % sizeof(uint32_t) == 0);
				assert_true(k->count_off != k->off);
			}
			if (k->flags & CONF_LINE)
				assert_true(k->line_off != k->off);
		}
	}
}

/* [ARP] is arp_policy's table, row for row. */
static void test_arp_table_is_arp_settings(void **state)
{
	const struct conf_section *s = section("ARP");
	size_t n = 0;
	for (; arp_settings[n].name; n++) {
		const struct conf_key *k = &s->keys[n];
		assert_non_null(k->name);
		assert_string_equal(k->name, arp_settings[n].name);
		assert_ptr_equal(k->arg, &arp_settings[n]);
		assert_int_equal(k->off, arp_settings[n].offset);
		assert_int_equal(k->size, arp_settings[n].is_enum ? 1 : 4);
	}
	assert_int_equal(n, n_keys(s));
}

/* The settings that may go on over several lines, and no other. */
static void test_list_keys(void **state)
{
	static const char *const lists[] = {
	    "ProxyARP.Interfaces", "Cluster.Interface", "Cluster.Peers",
	    "VIP.TrackInterface",  "VIP.Announce",	"VIP.FlushHosts",
	    "ConnSync.Protocols",  "ConnSync.Networks", "VIP.Track"};
	size_t found = 0;
	for (size_t i = 0; conf_sections[i]; i++)
		for (const struct conf_key *k = conf_sections[i]->keys; k->name; k++) {
			char name[64];
			bool want = false;
			snprintf(name, sizeof(name), "%s.%s", conf_sections[i]->name, k->name);
			for (size_t j = 0; j < sizeof(lists) / sizeof(lists[0]); j++)
				want |= strcmp(lists[j], name) == 0;
			if (want != !!(k->flags & CONF_LIST))
				fail_msg("%s: %s", name, want ? "not a list" : "a list");
			found += want;
		}
	assert_int_equal(found, sizeof(lists) / sizeof(lists[0]));
}

/*
 * One case per key: a value it takes (called on a zeroed object of its
 * section) and one it refuses, with the message, in a file.
 */
struct key_case {
	const char *section, *key, *good, *bad, *msg;
};

static const struct key_case key_cases[] = {
    {"Daemon", "ControlSocket", "/run/a.sock", "run/a.sock",
     "ControlSocket: expected an absolute path (starting with /), got \"run/a.sock\""},
    {"Daemon", "LogTarget", "stderr", "file",
     "LogTarget: expected one of syslog, stderr, got \"file\""},
    {"Daemon", "LogLevel", "debug", "trace",
     "LogLevel: expected one of err, warning, notice, info, debug, got \"trace\""},
    {"Daemon", "Metrics", "127.0.0.1:9774", "9774",
     "Metrics: expected an IPv4 address and a port, such as 127.0.0.1:9774, or \"no\", got "
     "\"9774\""},
    {"Daemon", "RealtimePriority", "99", "100",
     "RealtimePriority: expected a whole number from 0 to 99, got \"100\""},
    {"Daemon", "DeviceTimeout", "2min", "50ms",
     "DeviceTimeout: expected 0 (off) or a duration from 100ms to 1h, such as 30s or 2min, got "
     "\"50ms\""},
    {"Interface", "Device", "eth0", "eth/0",
     "Device: expected a network device name of 1 to 15 characters from A-Z a-z 0-9 _ . : -, "
     "got \"eth/0\""},
    {"ARPEntry", "Interface", "lan", "lan/1",
     "Interface: expected the name of an [Interface] section, got \"lan/1\""},
    {"ARPEntry", "IP", "198.18.0.1", "127.0.0.1",
     "IP: 127.0.0.1 is a loopback address; expected a unicast host address"},
    {"ARPEntry", "Mode", "XPublish", "Dynamic",
     "Mode: expected one of Static, Publish, XPublish, got \"Dynamic\""},
    {"ARPEntry", "MAC", "02:00:00:00:00:01", "01:00:00:00:00:01",
     "MAC: 01:00:00:00:00:01 is a multicast (group) address; expected a unicast MAC"},
    {"ProxyARP", "Network", "198.18.1.0/24", "198.18.1.0/33",
     "Network: expected a network as ADDRESS/LENGTH, e.g. 198.18.1.0/24, got "
     "\"198.18.1.0/33\""},
    {"ProxyARP", "Interfaces", "lan wan", "lan lan", "Interfaces: lan is listed twice"},
    {"Cluster", "NodeID", "4294967295", "4294967296",
     "NodeID: expected a whole number from 1 to 4294967295, got \"4294967296\""},
    {"Cluster", "Interface", "sync0 lan0", "sync0 lan0 sync0", "Interface: sync0 is listed twice"},
    {"Cluster", "Group", "239.1.1.1", "240.1.1.1",
     "Group: expected an IPv4 multicast address (224.0.0.0/4), such as 239.192.74.10, got "
     "\"240.1.1.1\""},
    {"Cluster", "Peers", "198.18.0.2 198.18.0.3", "198.18.0.2 0.0.0.0",
     "Peers: \"0.0.0.0\" is the unspecified address; expected the unicast IPv4 addresses of the "
     "other nodes, separated by spaces or commas"},
    {"Cluster", "Port", "65535", "65536",
     "Port: expected a whole number from 1 to 65535, got \"65536\""},
    {"Cluster", "KeyFile", "/etc/arpha/cluster.key", "cluster.key",
     "KeyFile: expected an absolute path (starting with /), got \"cluster.key\""},
    {"Cluster", "Encrypt", "yes", "off", "Encrypt: expected one of yes, no, got \"off\""},
    {"Cluster", "HeartbeatInterval", "60s", "61s",
     "HeartbeatInterval: expected a duration from 10ms to 60s, such as 100ms or 1s, got "
     "\"61s\""},
    {"Cluster", "DeadInterval", "1000", "1001",
     "DeadInterval: expected a whole number from 2 to 1000, got \"1001\""},
    {"Cluster", "SendBuffer", "16", "15",
     "SendBuffer: expected a whole number from 16 to 1000000, got \"15\""},
    {"VIP", "Address", "198.18.0.100/24", "198.18.0.100/7",
     "Address: \"198.18.0.100/7\" is not an address with a prefix length; expected an IPv4 "
     "address with its prefix length (/8 to /32), such as 198.18.0.100/24"},
    {"VIP", "Interface", "lan", "l@n",
     "Interface: expected the name of an [Interface] section, got \"l@n\""},
    {"VIP", "Priority", "254", "255",
     "Priority: expected a whole number from 1 to 254, got \"255\""},
    {"VIP", "Preempt", "yes", "never", "Preempt: expected one of yes, no, got \"never\""},
    {"VIP", "PreemptDelay", "1h", "3600001ms",
     "PreemptDelay: expected a duration up to 1h, such as 0, 500ms, 30s or 5m, got "
     "\"3600001ms\""},
    {"VIP", "TrackInterface", "eth1 eth2", "eth1 eth/2",
     "TrackInterface: \"eth/2\" is not a device name; expected 1 to 15 characters from A-Z a-z "
     "0-9 _ . : -"},
    {"VIP", "VirtualMAC", "yes", "1", "VirtualMAC: expected one of yes, no, got \"1\""},
    {"VIP", "VRID", "255", "256", "VRID: expected a whole number from 1 to 255, got \"256\""},
    {"VIP", "Group", "fw", "f w",
     "Group: \"f w\" is not a group name; expected 1 to 31 characters from A-Z a-z 0-9 _ . : -"},
    {"VIP", "Announce", "garp flush", "garp shout",
     "Announce: \"shout\" is not a method; expected some of garp, vmac, targeted, flush"},
    {"VIP", "AnnounceCount", "100", "101",
     "AnnounceCount: expected a whole number from 0 to 100, got \"101\""},
    {"VIP", "AnnounceInterval", "1ms", "0",
     "AnnounceInterval: expected a duration from 1ms to 60s, such as 100ms, got \"0\""},
    {"VIP", "RefreshInterval", "100ms", "25h",
     "RefreshInterval: expected 0 (off) or a duration from 100ms to 24h, such as 30s, 10m or "
     "1h, got \"25h\""},
    {"VIP", "FlushHosts", "198.18.0.5", "198.18.0.5,,198.18.0.6",
     "FlushHosts: \"198.18.0.5,,198.18.0.6\" has an empty element (two commas, or a comma at an "
     "end); expected words separated by spaces or commas"},
    {"VIP", "NotifyScript", "/usr/bin/logger -t vip", "logger",
     "NotifyScript: expected an absolute path (starting with /), got \"logger\""},
    {"VIP", "Mode", "active-active", "active",
     "Mode: expected one of active-passive, active-active, got \"active\""},
    {"VIP", "ClusterMAC", "03:00:5e:00:01:0a", "02:00:5e:00:01:0a",
     "ClusterMAC: expected a group MAC (first byte odd, such as 03:00:5e:00:01:0a), not the "
     "broadcast address, got \"02:00:5e:00:01:0a\""},
    {"Flush", "KeyFile", "/etc/arpha/flush.key", "flush.key",
     "KeyFile: expected an absolute path (starting with /) of at most 255 bytes, got "
     "\"flush.key\""},
    {"Flush", "Port", "1", "0", "Port: expected a whole number from 1 to 65535, got \"0\""},
    {"Flush", "Count", "100", "101", "Count: expected a whole number from 1 to 100, got \"101\""},
    {"Flush", "Interval", "10ms", "9ms",
     "Interval: expected a duration from 10ms to 60s, such as 1s, got \"9ms\""},
    {"ConnSync", "Protocols", "udp icmp", "tcp sctp",
     "Protocols: \"sctp\" is not synced; expected some of tcp, udp, icmp"},
    {"ConnSync", "Networks", "198.18.1.0/24", "198.18.1.1/24",
     "Networks: 198.18.1.1/24 has host bits set; did you mean 198.18.1.0/24?"},
    {"ConnSync", "CheckInterval", "24h", "99ms",
     "CheckInterval: expected 0 (off) or a duration from 100ms to 24h, such as 10s, got "
     "\"99ms\""},
    {"ConnSync", "MaxEntries", "16777216", "16777217",
     "MaxEntries: expected a whole number from 1 to 16777216, got \"16777217\""},
    {"Balance", "Buckets", "4096", "4097",
     "Buckets: expected a whole number from 2 to 4096, got \"4097\""},
    {"Balance", "Seed", "0x61727068", "0x100000000",
     "Seed: expected a whole number from 0 to 4294967295 (0 to 0xffffffff in hex), such as "
     "1634889832 or 0x61727068, got \"0x100000000\""},
    {"Balance", "Weight", "65535", "0",
     "Weight: expected a whole number from 1 to 65535, got \"0\""},
    {"Balance", "RouterDiscovery", "yes", "off",
     "RouterDiscovery: expected one of yes, no, got \"off\""},
    {"Neighbors", "Size", "1048576", "1048577",
     "Size: expected a whole number from 1 to 1048576, got \"1048577\""},
    {"Neighbors", "ActiveTimeout", "24h", "999ms",
     "ActiveTimeout: expected a duration from 1s to 24h, such as 30s, 5m or 1h, got \"999ms\""},
    {"Neighbors", "Snoop", "yes", "dhcp", "Snoop: expected one of yes, no, got \"dhcp\""},
    {"Neighbors", "SnoopRateLimit", "100000", "0",
     "SnoopRateLimit: expected a whole number from 1 to 100000, got \"0\""},
    {"Neighbors", "DeviceTypes", "/etc/arpha/devtypes.txt", "devtypes.txt",
     "DeviceTypes: expected an absolute path (starting with /), got \"devtypes.txt\""},
    {"Host", "MAC", "02:86:f6:c5:a2:14", "00:00:00:00:00:00",
     "MAC: 00:00:00:00:00:00 is the zero address; expected a unicast MAC"},
    {"VIP", "Track", "haproxy:50", "haproxy:254",
     "Track: \"haproxy:254\": expected NAME or NAME:WEIGHT with a weight from 0 to 253 (the "
     "priority a failure takes off; 0: fault)"},
    {"Track", "Script", "/usr/local/bin/check-haproxy", "check-haproxy",
     "Script: expected an absolute path (starting with /), got \"check-haproxy\""},
    {"Track", "File", "/run/arpha/maintenance", "maintenance",
     "File: expected an absolute path (starting with /), got \"maintenance\""},
    {"Track", "Interval", "2s", "50ms",
     "Interval: expected a duration from 100ms to 1h, such as 500ms, 2s or 1m, got \"50ms\""},
    {"Track", "Timeout", "1s", "2h",
     "Timeout: expected a duration from 10ms to 1h, such as 500ms, 2s or 1m, got \"2h\""},
    {"Track", "Fall", "3", "0", "Fall: expected a whole number from 1 to 255, got \"0\""},
    {"Track", "Rise", "3", "256", "Rise: expected a whole number from 1 to 255, got \"256\""},
};

static const struct key_case *key_case(const char *sect, const char *key)
{
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++)
		if (strcmp(key_cases[i].section, sect) == 0 && strcmp(key_cases[i].key, key) == 0)
			return &key_cases[i];
	return NULL;
}

/*
 * A file that reaches key of s with value (the lines given), valid around
 * it; *line: the line of the first value. text holds it.
 */
static void file_with(const struct conf_section *s, const char *key, const char *const *values,
		      size_t n, char *text, size_t len, int *line)
{
	const char *around = strcmp(s->name, "Cluster") == 0 ? IFACE : IFACE CLUSTER;
	size_t off =
	    (size_t)snprintf(text, len, "%s[%s%s]\n", around, s->name, s->named ? " x" : "");
	*line = 1;
	for (const char *q = text; *q; q++)
		*line += *q == '\n';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, len - off, "%s=%s\n", key, values[i]);
}

static int parse(const char *text, char *err, size_t errlen)
{
	struct config c;
	err[0] = '\0';
	int r = config_parse(text, strlen(text), FNAME, &c, err, errlen);
	config_free(&c);
	return r;
}

/* The message key of s gives for bad, found in the key's case or, for [ARP], in arp_policy. */
static void expected(const struct conf_section *s, const struct conf_key *k, const char **bad,
		     char *msg, size_t len)
{
	if (strcmp(s->name, "ARP") == 0) {
		struct arp_policy pol;
		char why[256];
		*bad = "bogus";
		assert_int_equal(
		    arp_setting_set(arp_setting_find(k->name), &pol, *bad, why, sizeof(why)), -1);
		snprintf(msg, len, "%s: %s", k->name, why);
		return;
	}
	const struct key_case *c = key_case(s->name, k->name);
	if (!c)
		fail_msg("[%s] %s has no case in key_cases[]", s->name, k->name);
	*bad = c->bad;
	snprintf(msg, len, "%s", c->msg);
}

/* Every key of every table, from a file: its bad value gets its message, at its line. */
static void test_every_key_refuses_from_a_file(void **state)
{
	size_t n = 0;
	for (size_t i = 0; conf_sections[i]; i++) {
		const struct conf_section *s = conf_sections[i];
		for (const struct conf_key *k = s->keys; k->name; k++, n++) {
			const char *bad;
			char msg[CONF_MSG_MAX], text[1024], want[1024], err[CONF_ERR_LEN];
			int line;
			expected(s, k, &bad, msg, sizeof(msg));
			file_with(s, k->name, &bad, 1, text, sizeof(text), &line);
			snprintf(want, sizeof(want), FNAME ":%d: %s", line, msg);
			assert_int_equal(parse(text, err, sizeof(err)), -1);
			if (strcmp(err, want) != 0)
				fail_msg("got:  %s\nwant: %s\n--- text:\n%s", err, want, text);
		}
	}
	/* and no case is for a key that is not there */
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct conf_section *s = section(key_cases[i].section);
		bool there = false;
		for (const struct conf_key *k = s->keys; k->name; k++)
			there |= strcmp(k->name, key_cases[i].key) == 0;
		if (!there)
			fail_msg("key_cases[] has %s.%s", key_cases[i].section, key_cases[i].key);
	}
	assert_int_equal(n, sizeof(key_cases) / sizeof(key_cases[0]) + n_keys(section("ARP")));
}

/* A key given twice: a list takes its second line, any other is refused. */
static void test_every_key_twice(void **state)
{
	for (size_t i = 0; conf_sections[i]; i++) {
		const struct conf_section *s = conf_sections[i];
		for (const struct conf_key *k = s->keys; k->name; k++) {
			const char *bad, *two[2];
			char msg[CONF_MSG_MAX], text[1024], want[1024], err[CONF_ERR_LEN];
			int line;
			expected(s, k, &bad, msg, sizeof(msg));
			two[0] = two[1] = bad;
			file_with(s, k->name, two, 2, text, sizeof(text), &line);
			assert_int_equal(parse(text, err, sizeof(err)), -1);
			const char *second = strchr(err, '\n');
			assert_non_null(second);
			if (k->flags & CONF_LIST) {
				snprintf(want, sizeof(want), "\n" FNAME ":%d: %s:", line + 1,
					 k->name);
				assert_memory_equal(second, want, strlen(want));
				assert_null(strstr(second, "set twice"));
			} else {
				snprintf(want, sizeof(want),
					 "\n" FNAME ":%d: %s is set twice in [%s%s]; the first is "
					 "at line %d",
					 line + 1, k->name, s->name, s->named ? " x" : "", line);
				assert_string_equal(second, want);
			}
		}
	}
}

/* Every key of every table takes its good value, alone, and sets something. */
static void test_every_key_takes(void **state)
{
	struct conf_parser *p = new_parser();
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];
		const struct conf_section *s = section(c->section);
		const struct conf_key *k = s->keys;
		while (k->name && strcmp(k->name, c->key) != 0)
			k++;
		assert_non_null(k->name);
		union {
			struct config config;
			struct conf_iface iface;
			struct conf_entry entry;
			struct conf_proxy proxy;
			struct conf_cluster cluster;
			struct conf_vip vip;
			struct conf_flush flush;
			struct conf_connsync connsync;
			struct conf_balance balance;
			struct conf_neighbors neighbors;
			struct conf_host host;
			struct conf_track track;
			unsigned char bytes[1];
		} obj, zero;
		memset(&obj, 0, sizeof(obj));
		memset(&zero, 0, sizeof(zero));
		take(p, k, &obj, c->good);
		/* its own field changed; for a typed parser, nothing else but its count */
		assert_memory_not_equal(obj.bytes + k->off, zero.bytes + k->off, k->size);
		if (k->parse == conf_uint || k->parse == conf_bool || k->parse == conf_enum ||
		    k->parse == conf_flags || k->parse == conf_duration || k->parse == conf_path ||
		    k->parse == conf_ifname || k->parse == conf_addr_list || k->parse == conf_mac) {
			size_t end = k->off + k->size;
			memset(obj.bytes + k->off, 0, k->size);
			if (k->parse == conf_addr_list)
				memset(obj.bytes + k->count_off, 0, sizeof(size_t));
			if (memcmp(&obj, &zero, sizeof(obj)) != 0)
				fail_msg("%s.%s=%s set bytes outside [%zu, %zu)", c->section,
					 c->key, c->good, k->off, end);
		}
		if (strcmp(c->section, "ProxyARP") == 0)
			free(obj.proxy.ifaces);
	}
	free(p);
}

/* A key no table has: the message lists the section's keys, in table order. */
static void test_unknown_keys(void **state)
{
	for (size_t i = 0; conf_sections[i]; i++) {
		const struct conf_section *s = conf_sections[i];
		const char *one = "1";
		char text[1024], want[1024], err[CONF_ERR_LEN];
		int line;
		file_with(s, "Bogus", &one, 1, text, sizeof(text), &line);
		size_t off = (size_t)snprintf(want, sizeof(want),
					      FNAME ":%d: unknown setting Bogus in [%s%s]; "
						    "expected one of ",
					      line, s->name, s->named ? " x" : "");
		for (const struct conf_key *k = s->keys; k->name; k++)
			off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%s",
						k == s->keys ? "" : ", ", k->name);
		assert_int_equal(parse(text, err, sizeof(err)), -1);
		assert_string_equal(err, want);
	}
	char err[CONF_ERR_LEN];
	assert_int_equal(parse(IFACE CLUSTER "[VIP a]\nAddres=198.18.0.1/24\n", err, sizeof(err)),
			 -1);
	assert_string_equal(err,
			    FNAME ":8: unknown setting Addres in [VIP a]; expected one of "
				  "Address, Interface, Priority, Preempt, PreemptDelay, "
				  "TrackInterface, VirtualMAC, VRID, Group, Announce, "
				  "AnnounceCount, AnnounceInterval, RefreshInterval, FlushHosts, "
				  "NotifyScript, Mode, ClusterMAC, Track");
	assert_int_equal(parse(IFACE "[Cluster]\nNode=1\n", err, sizeof(err)), -1);
	assert_string_equal(err, FNAME ":3: unknown setting Node in [Cluster]; expected one of "
				       "NodeID, Interface, Group, Peers, Port, KeyFile, Encrypt, "
				       "HeartbeatInterval, DeadInterval, SendBuffer");
	assert_int_equal(parse(IFACE CLUSTER "[ConnSync]\nprotocol=tcp\n", err, sizeof(err)), -1);
	assert_string_equal(err,
			    FNAME ":8: unknown setting protocol in [ConnSync]; expected one of "
				  "Protocols, Networks, CheckInterval, MaxEntries");
	assert_int_equal(parse(IFACE CLUSTER "[Balance]\nBucket=64\n", err, sizeof(err)), -1);
	assert_string_equal(err, FNAME ":8: unknown setting Bucket in [Balance]; expected one of "
				       "Buckets, Seed, Weight, RouterDiscovery");
	assert_int_equal(parse(IFACE "[Neighbors]\nTimeout=5m\n", err, sizeof(err)), -1);
	assert_string_equal(err,
			    FNAME ":3: unknown setting Timeout in [Neighbors]; expected one "
				  "of Size, ActiveTimeout, Snoop, SnoopRateLimit, DeviceTypes");
	assert_int_equal(parse(IFACE "[Host printer]\nIP=198.18.0.9\n", err, sizeof(err)), -1);
	assert_string_equal(err,
			    FNAME ":3: unknown setting IP in [Host printer]; expected one of MAC");
}

/* The line fields: the line of the key once its value is taken. */
static void test_key_lines(void **state)
{
	struct config c;
	char err[CONF_ERR_LEN];
	const char *text = "[Daemon]\nControlSocket=/run/a.sock\n"		      /* 1-2 */
			   "[Interface lan]\n\nDevice=eth1\n"			      /* 3-5 */
			   "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\n"	      /* 6-9 */
			   "Peers=198.18.9.2\nPeers=198.18.9.3\n"		      /* 10-11 */
			   "[VIP a]\nInterface=lan\nAddress=198.18.0.100/24\n"	      /* 12-14 */
			   "FlushHosts=198.18.0.5\nFlushHosts=198.18.0.6\n"	      /* 15-16 */
			   "NotifyScript=/bin/true\n"				      /* 17 */
			   "[Flush]\nKeyFile=/f\n"				      /* 18-19 */
			   "[ARPEntry]\nIP=198.18.0.7\nMode=Publish\nInterface=lan\n" /* 20-23 */
			   "[ProxyARP]\nInterfaces=lan\nInterfaces=lan2\nNetwork=198.18.8.0/24\n"
			   "[Interface lan2]\n"			    /* 24-28 */
			   "[Neighbors]\nSize=10\nDeviceTypes=/d\n" /* 29-31 */
			   "[Host h]\n\nMAC=02:00:00:00:00:01\n";   /* 32-34 */
	assert_int_equal(config_parse(text, strlen(text), FNAME, &c, err, sizeof(err)), 0);
	assert_int_equal(c.control_socket_line, 2);
	assert_int_equal(c.ifaces[0].line, 3);
	assert_int_equal(c.ifaces[0].device_line, 5);
	assert_int_equal(c.ifaces[1].device_line, 28); /* no Device=: the header */
	assert_int_equal(c.cluster.node_line, 7);
	assert_int_equal(c.cluster.iface_line, 8);
	assert_int_equal(c.cluster.key_line, 9);
	assert_int_equal(c.vips[0].iface_line, 13);
	assert_int_equal(c.vips[0].addr_line, 14);
	assert_int_equal(c.vips[0].flush_line, 15);
	assert_int_equal(c.vips[0].notify_line, 17);
	assert_int_equal(c.flush.key_line, 19);
	assert_int_equal(c.entries[0].ip_line, 21);
	assert_int_equal(c.entries[0].iface_line, 23);
	assert_int_equal(c.proxies[0].ifaces_line, 25);
	assert_int_equal(c.proxies[0].net_line, 27);
	assert_int_equal(c.neighbors.line, 29);
	assert_int_equal(c.neighbors.devtypes_line, 31);
	assert_int_equal(c.hosts[0].line, 32);
	assert_int_equal(c.hosts[0].mac_line, 34);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uint_bounds_and_garbage),
	    cmocka_unit_test(test_config_duration_units),
	    cmocka_unit_test(test_duration_bounds_and_messages),
	    cmocka_unit_test(test_bool_and_enum),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_ifname_and_path),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_addr_list),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_value_checks),
	    cmocka_unit_test(test_fail_escapes_and_counts),
	    cmocka_unit_test(test_push),
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_tables_sound),
	    cmocka_unit_test(test_arp_table_is_arp_settings),
	    cmocka_unit_test(test_list_keys),
	    cmocka_unit_test(test_every_key_refuses_from_a_file),
	    cmocka_unit_test(test_every_key_twice),
	    cmocka_unit_test(test_every_key_takes),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_key_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
