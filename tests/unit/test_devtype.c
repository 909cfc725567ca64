/*
 * Unit tests for core/devtype: the table's syntax (every key, every error
 * with its line and message, all or nothing), matching (each key, the
 * combination and precedence of rules, OUI alone, no match), the hash
 * index under thousands of rules, and the shipped data/devtypes.txt:
 * it loads with no error and names the usual systems from realistic
 * DHCP requests; the copy built into arphad (os/devtypes_builtin.h) is
 * that file, byte for byte, and loads the same rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/devtype.h"
#include "os/devtypes_builtin.h"

#ifndef DEVTYPES_PATH
#error "meson passes DEVTYPES_PATH, the path of data/devtypes.txt"
#endif

/* ---- helpers ---- */

static struct devtype_db *db_of(const char *text)
{
	struct devtype_db *db = devtype_db_new();
	assert_non_null(db);
	char err[4096];
	long n = devtype_db_add_text(db, "t.txt", text, strlen(text), err, sizeof(err));
	if (n < 0)
		fail_msg("unexpected error: %s", err);
	return db;
}

/* text (len bytes) must fail with exactly msg (all its lines), and add nothing. */
static void expect_error_n(const char *text, size_t len, const char *msg)
{
	struct devtype_db *db = devtype_db_new();
	assert_non_null(db);
	char err[8192];
	errno = 0;
	long n = devtype_db_add_text(db, "t.txt", text, len, err, sizeof(err));
	if (n != -1)
		fail_msg("expected an error for <%s>, got %ld rules", text, n);
	assert_int_equal(errno, EINVAL);
	if (strcmp(err, msg) != 0)
		fail_msg("for <%s>\n  expected: %s\n  got:      %s", text, msg, err);
	assert_int_equal(devtype_db_count(db), 0);
	devtype_db_free(db);
}

static void expect_error(const char *text, const char *msg)
{
	expect_error_n(text, strlen(text), msg);
}

struct in {
	const char *prl, *vendor, *host, *oui, *mac;
};

/* Match in (prl as "1,3,6", mac as "aa:bb:cc:dd:ee:ff"); rc into *rc. */
static struct devtype_result run(const struct devtype_db *db, struct in x, int *rc)
{
	uint8_t prl[255], mac[6];
	size_t n = 0;
	struct devtype_input in = {0};
	if (x.prl) {
		const char *p = x.prl;
		while (*p) {
			char *end;
			prl[n++] = (uint8_t)strtoul(p, &end, 10);
			p = *end == ',' ? end + 1 : end;
		}
		in.prl = prl;
		in.prl_len = n;
	}
	if (x.mac) {
		unsigned b[6];
		assert_int_equal(
		    sscanf(x.mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]),
		    6);
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)b[i];
		in.mac = mac;
	}
	in.vendor = x.vendor;
	in.host = x.host;
	in.oui_org = x.oui;
	struct devtype_result r;
	memset(&r, 0x5a, sizeof(r));
	*rc = devtype_match(db, &in, &r);
	return r;
}

/* Expect type, os, brand ("" for none), confidence and the line behind it. */
static void expect(const struct devtype_db *db, struct in x, const char *type, const char *os,
		   const char *brand, int conf, unsigned line)
{
	int rc;
	struct devtype_result r = run(db, x, &rc);
	const char *what = x.host     ? x.host
			   : x.vendor ? x.vendor
			   : x.prl    ? x.prl
			   : x.oui    ? x.oui
			   : x.mac    ? x.mac
				      : "(nothing)";
	if (strcmp(devtype_type_name(r.type), type) != 0 || strcmp(r.os, os) != 0 ||
	    strcmp(r.brand, brand) != 0 || r.confidence != conf || (line && r.line != line))
		fail_msg("%s: expected %s/%s/%s/%d (line %u), got %s/%s/%s/%d (line %u)", what,
			 type, os, brand, conf, line, devtype_type_name(r.type), r.os, r.brand,
			 r.confidence, r.line);
	bool named = strcmp(type, "unknown") != 0 || *os || *brand;
	assert_int_equal(rc, named ? 0 : -1);
}

static void expect_none(const struct devtype_db *db, struct in x)
{
	int rc;
	struct devtype_result r = run(db, x, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(r.type, DEVTYPE_UNKNOWN);
	assert_string_equal(r.os, "");
	assert_string_equal(r.brand, "");
	assert_int_equal(r.confidence, 0);
	assert_int_equal(r.line, 0);
	assert_int_equal(r.type_line, 0);
	assert_int_equal(r.os_line, 0);
	assert_int_equal(r.brand_line, 0);
}

/* ---- syntax ---- */

static void t_every_key(void **state)
{
	(void)state;
	struct devtype_db *db =
	    db_of("match prl=1,3,6 => type=computer os=A conf=10\n"
		  "match prl^=1,3 => os=B conf=9\n"
		  "match vendor=MSFT 5.0 => type=computer os=Windows conf=70\n"
		  "match vendor^=android-dhcp- => type=phone conf=60\n"
		  "match vendor~=dhcpcd-*:Linux-* => os=Linux conf=50\n"
		  "match host~=BRW???? => type=printer conf=40\n"
		  "match oui~=raspberry pi => brand=Raspberry Pi conf=30\n"
		  "match mac^=52:54:00 => type=vm conf=20\n"
		  "match\tprl=9 \t vendor=x\t=>\ttype=iot\tconf=5\r\n"
		  "match vendor=\"a => b\" => brand=\"Quoted  Name\" conf=5 # comment\n"
		  "# a comment\n"
		  "\n"
		  "   # an indented comment\n");
	assert_int_equal(devtype_db_count(db), 10);
	expect(db, (struct in){.prl = "1,3,6"}, "computer", "A", "", 10, 1);
	expect(db, (struct in){.prl = "1,3,6,7"}, "unknown", "B", "", 9, 2);
	expect(db, (struct in){.prl = "1,3"}, "unknown", "B", "", 9, 2);
	expect_none(db, (struct in){.prl = "1"});
	expect(db, (struct in){.vendor = "MSFT 5.0"}, "computer", "Windows", "", 70, 3);
	expect_none(db, (struct in){.vendor = "msft 5.0"}); /* exact: case matters */
	expect_none(db, (struct in){.vendor = "MSFT 5.0 "});
	expect(db, (struct in){.vendor = "android-dhcp-13"}, "phone", "", "", 60, 4);
	expect_none(db, (struct in){.vendor = "Android-dhcp-13"});
	expect(db, (struct in){.vendor = "dhcpcd-9.4.1:Linux-6.1.0:x86_64:GenuineIntel"}, "unknown",
	       "Linux", "", 50, 5);
	expect(db, (struct in){.vendor = "DHCPCD-9:linux-6"}, "unknown", "Linux", "", 50, 5);
	expect_none(db, (struct in){.vendor = "dhcpcd-9.4.1:NetBSD-10.0:amd64"});
	expect(db, (struct in){.host = "brw1234"}, "printer", "", "", 40, 6);
	expect_none(db, (struct in){.host = "BRW12345"});
	expect_none(db, (struct in){.host = "BRW123"});
	expect(db, (struct in){.oui = "Raspberry Pi Trading Ltd"}, "unknown", "", "Raspberry Pi",
	       30, 7);
	expect(db, (struct in){.oui = "RASPBERRY PI FOUNDATION"}, "unknown", "", "Raspberry Pi", 30,
	       7);
	expect_none(db, (struct in){.oui = "Raspberry Trading"});
	expect(db, (struct in){.mac = "52:54:00:12:34:56"}, "vm", "", "", 20, 8);
	expect_none(db, (struct in){.mac = "52:54:01:12:34:56"});
	/* blanks and tabs anywhere between words, CRLF */
	expect(db, (struct in){.prl = "9", .vendor = "x"}, "iot", "", "", 5, 9);
	expect_none(db, (struct in){.prl = "9"});
	/* a quoted value is taken as it is */
	expect(db, (struct in){.vendor = "a => b"}, "unknown", "", "Quoted  Name", 5, 10);
	devtype_db_free(db);
}

static void t_values(void **state)
{
	(void)state;
	/* a value runs over blanks to the next key; blanks inside prl; MAC with dashes */
	struct devtype_db *db =
	    db_of("match vendor=Cisco Systems, Inc. IP Phone CP-7960  host~=SEP* => type=voip "
		  "brand=Cisco Systems conf=80\n"
		  "match prl=1, 3 ,6 => os=spaced conf=50\n"
		  "match mac^=00-15-5D => type=vm conf=80\n"
		  "match mac^=aa:bb:cc:dd:ee:ff => type=iot conf=80\n");
	expect(db,
	       (struct in){.vendor = "Cisco Systems, Inc. IP Phone CP-7960",
			   .host = "SEP001122334455"},
	       "voip", "", "Cisco Systems", 80, 1);
	expect(db, (struct in){.prl = "1,3,6"}, "unknown", "spaced", "", 50, 2);
	expect(db, (struct in){.mac = "00:15:5d:01:02:03"}, "vm", "", "", 80, 3);
	expect(db, (struct in){.mac = "aa:bb:cc:dd:ee:ff"}, "iot", "", "", 80, 4);
	devtype_db_free(db);
}

static void t_errors(void **state)
{
	(void)state;
	expect_error("rule prl=1 => type=iot conf=1\n",
		     "t.txt:1: expected a rule \"match KEY=VALUE ... => RESULT=VALUE ...\", got "
		     "\"rule\"");
	expect_error("\n\nmatches prl=1 => type=iot conf=1\n",
		     "t.txt:3: expected a rule \"match KEY=VALUE ... => RESULT=VALUE ...\", got "
		     "\"matches\"");
	expect_error("match => type=iot conf=1\n",
		     "t.txt:1: a rule without match keys, expected at least one of prl=, prl^=, "
		     "vendor=, vendor^=, vendor~=, host~=, oui~=, mac^=");
	expect_error("match prl=1 type=iot conf=1\n",
		     "t.txt:1: type= is a result, expected it after \"=>\"");
	expect_error("match prl=1\n",
		     "t.txt:1: no \"=>\", expected one between the match keys and the results");
	expect_error("match prl=1 => type=iot => conf=1\n",
		     "t.txt:1: a second \"=>\", expected one between the match keys and the "
		     "results");
	expect_error("match prl=1 hots~=x => type=iot conf=1\n",
		     "t.txt:1: unknown match key hots~=, expected one of prl=, prl^=, vendor=, "
		     "vendor^=, vendor~=, host~=, oui~=, mac^=");
	expect_error("match 1,3,6 => type=iot conf=1\n",
		     "t.txt:1: expected a match key (prl=, prl^=, vendor=, vendor^=, vendor~=, "
		     "host~=, oui~=, mac^=) or \"=>\", got \"1,3,6\"");
	expect_error("match prl=1 => type=iot confidence=1\n",
		     "t.txt:1: unknown result confidence=, expected one of type=, os=, brand=, "
		     "conf=");
	expect_error("match prl=1 => iot\n", "t.txt:1: expected a result (type=, os=, brand=, "
					     "conf=), got \"iot\"");
	expect_error("match prl=1 => host~=x conf=1\n",
		     "t.txt:1: host~= is a match key, expected it before \"=>\"");
	expect_error("match prl=1 prl=2 => type=iot conf=1\n",
		     "t.txt:1: prl= given twice, expected it once a rule");
	expect_error("match prl=1 => type=iot type=vm conf=1\n",
		     "t.txt:1: type= given twice, expected it once a rule");
	expect_error("match prl= => type=iot conf=1\n",
		     "t.txt:1: prl=: the value is empty, expected a value right after the =");
	expect_error("match vendor=\"\" => type=iot conf=1\n",
		     "t.txt:1: vendor=: the value is empty, expected a value right after the =");
	expect_error("match vendor=\"MSFT => type=iot conf=1\n",
		     "t.txt:1: vendor=: the quote is not closed, expected \"VALUE\"");
	expect_error("match vendor=\"MSFT\"x => type=iot conf=1\n",
		     "t.txt:1: vendor=: expected a blank after the closing quote, got \"x\"");
	expect_error("match prl=1,,3 => type=iot conf=1\n",
		     "t.txt:1: prl=: expected 1 to 255 option codes 1-254 separated by commas, got "
		     "\"1,,3\"");
	expect_error("match prl^=0,3 => type=iot conf=1\n",
		     "t.txt:1: prl^=: expected 1 to 255 option codes 1-254 separated by commas, "
		     "got \"0,3\"");
	expect_error("match prl=1,255 => type=iot conf=1\n",
		     "t.txt:1: prl=: expected 1 to 255 option codes 1-254 separated by commas, got "
		     "\"1,255\"");
	expect_error("match prl=1,3, => type=iot conf=1\n",
		     "t.txt:1: prl=: expected 1 to 255 option codes 1-254 separated by commas, got "
		     "\"1,3,\"");
	expect_error("match prl=00001 => type=iot conf=1\n",
		     "t.txt:1: prl=: expected 1 to 255 option codes 1-254 separated by commas, got "
		     "\"00001\"");
	expect_error("match mac^=52:54:0 => type=vm conf=1\n",
		     "t.txt:1: mac^=: expected 1 to 6 bytes in hex separated by colons (as "
		     "52:54:00), got \"52:54:0\"");
	expect_error("match mac^=01:02:03:04:05:06:07 => type=vm conf=1\n",
		     "t.txt:1: mac^=: expected 1 to 6 bytes in hex separated by colons (as "
		     "52:54:00), got \"01:02:03:04:05:06:07\"");
	expect_error("match mac^=zz => type=vm conf=1\n",
		     "t.txt:1: mac^=: expected 1 to 6 bytes in hex separated by colons (as "
		     "52:54:00), got \"zz\"");
	expect_error(
	    "match prl=1 => type=laptop conf=1\n",
	    "t.txt:1: type=: expected one of unknown, computer, server, phone, tablet, "
	    "printer, network, iot, camera, vm, console, tv, voip, wearable, got \"laptop\"");
	expect_error("match prl=1 => type=iot conf=101\n",
		     "t.txt:1: conf=: expected a whole number 0 to 100, got \"101\"");
	expect_error("match prl=1 => type=iot conf=high\n",
		     "t.txt:1: conf=: expected a whole number 0 to 100, got \"high\"");
	expect_error("match prl=1 => type=iot conf=-1\n",
		     "t.txt:1: conf=: expected a whole number 0 to 100, got \"-1\"");
	expect_error("match prl=1 => type=iot\n",
		     "t.txt:1: no conf=, expected conf=0 to conf=100 after \"=>\"");
	expect_error("match prl=1 => conf=5\n",
		     "t.txt:1: a rule that names nothing, expected at least one of type= (not "
		     "unknown), os= or brand=");
	expect_error("match prl=1 => type=unknown conf=5\n",
		     "t.txt:1: a rule that names nothing, expected at least one of type= (not "
		     "unknown), os= or brand=");
	expect_error("match prl=1 => os=0123456789012345678901234567890123456789012345678901234567"
		     "890123 conf=5\n",
		     "t.txt:1: os=: the value is 64 bytes long, expected at most 63");
	char line[400];
	memset(line, 'a', sizeof(line));
	memcpy(line, "match host~=", 12);
	snprintf(line + 12 + 256, sizeof(line) - 12 - 256, " => type=iot conf=1\n");
	expect_error(line, "t.txt:1: host~=: the value is 256 bytes long, expected at most 255");
	expect_error("match host~=a\001b => type=iot conf=1\n",
		     "t.txt:1: a control byte 0x01, expected text");
	expect_error_n("match host~=a => type=iot conf=1\nmatch\0 x\n", 41,
		       "t.txt:2: a control byte 0x00, expected text");
	/* bytes that are not printable are shown escaped, long words cut */
	expect_error("match \xc3\xa9t\xc3\xa9 => type=iot conf=1\n",
		     "t.txt:1: expected a match key (prl=, prl^=, vendor=, vendor^=, vendor~=, "
		     "host~=, oui~=, mac^=) or \"=>\", got \"\\xc3\\xa9t\\xc3\\xa9\"");
	expect_error("match prl=1 => type=abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij "
		     "conf=1\n",
		     "t.txt:1: type=: expected one of unknown, computer, server, phone, tablet, "
		     "printer, network, iot, camera, vm, console, tv, voip, wearable, got "
		     "\"abcdefghijabcdefghijabcdefghijabcdefghij...\"");
}

static void t_errors_all_or_nothing(void **state)
{
	(void)state;
	/* every bad line is reported with its number, and nothing is added */
	expect_error("match prl=1 => type=iot conf=1\n"
		     "match prl=2 => type=bad conf=1\n"
		     "# fine\n"
		     "match prl=3 => type=iot conf=1\n"
		     "match prl=4 => type=iot\n",
		     "t.txt:2: type=: expected one of unknown, computer, server, phone, tablet, "
		     "printer, network, iot, camera, vm, console, tv, voip, wearable, got \"bad\"\n"
		     "t.txt:5: no conf=, expected conf=0 to conf=100 after \"=>\"");
	/* more errors than are written: the rest counted */
	char text[4096] = "";
	for (int i = 0; i < DEVTYPE_MAX_ERRORS + 5; i++)
		strcat(text, "bad\n");
	struct devtype_db *db = devtype_db_new();
	char err[8192];
	assert_int_equal(devtype_db_add_text(db, "x", text, strlen(text), err, sizeof(err)), -1);
	char *last = strrchr(err, '\n');
	assert_non_null(last);
	assert_string_equal(last + 1, "x: 5 more errors not shown");
	assert_non_null(strstr(err, "x:20: expected a rule"));
	assert_null(strstr(err, "x:21:"));
	/* a small buffer holds the whole lines that fit, NUL-terminated */
	char small[60];
	assert_int_equal(devtype_db_add_text(db, "x", text, strlen(text), small, sizeof(small)),
			 -1);
	assert_string_equal(small, "");
	char mid[120];
	assert_int_equal(devtype_db_add_text(db, "x", text, strlen(text), mid, sizeof(mid)), -1);
	assert_non_null(strstr(mid, "x:1: expected a rule"));
	assert_null(strchr(mid, '\n'));
	assert_int_equal(devtype_db_add_text(db, "x", text, strlen(text), NULL, 0), -1);
	/* a good text, then a bad one: the first stays as it was */
	const char *good = "match prl=1 => type=iot conf=9\n";
	assert_int_equal(devtype_db_add_text(db, "g", good, strlen(good), err, sizeof(err)), 1);
	assert_int_equal(devtype_db_add_text(db, "b", "match prl=2 => type=vm conf=1\nbad\n", 34,
					     err, sizeof(err)),
			 -1);
	assert_string_equal(err, "b:2: expected a rule \"match KEY=VALUE ... => RESULT=VALUE "
				 "...\", got \"bad\"");
	assert_int_equal(devtype_db_count(db), 1);
	expect(db, (struct in){.prl = "1"}, "iot", "", "", 9, 1);
	expect_none(db, (struct in){.prl = "2"});
	/* the last line needs no newline; an empty text adds nothing */
	assert_int_equal(
	    devtype_db_add_text(db, "c", "match prl=2 => type=vm conf=1", 29, err, sizeof(err)), 1);
	expect(db, (struct in){.prl = "2"}, "vm", "", "", 1, 1);
	assert_int_equal(devtype_db_add_text(db, "d", "", 0, err, sizeof(err)), 0);
	/* len is the end, not a NUL */
	assert_int_equal(
	    devtype_db_add_text(db, "e", "match prl=3 => type=tv conf=1XXX", 29, err, sizeof(err)),
	    1);
	expect(db, (struct in){.prl = "3"}, "tv", "", "", 1, 1);
	assert_int_equal(devtype_db_count(db), 3);
	devtype_db_free(db);
}

static void t_types(void **state)
{
	(void)state;
	for (int t = 0; t < DEVTYPE__COUNT; t++) {
		const char *name = devtype_type_name((enum devtype_type)t);
		assert_int_equal(devtype_type_parse(name, strlen(name)), t);
	}
	assert_string_equal(devtype_type_name(DEVTYPE__COUNT), "unknown");
	assert_string_equal(devtype_type_name((enum devtype_type) - 1), "unknown");
	assert_int_equal(devtype_type_parse("comp", 4), -1);
	assert_int_equal(devtype_type_parse("computers", 9), -1);
	assert_int_equal(devtype_type_parse("computer", 8), DEVTYPE_COMPUTER);
}

/* ---- matching ---- */

static void t_all_keys_must_hold(void **state)
{
	(void)state;
	struct devtype_db *db =
	    db_of("match prl^=1,3 vendor^=v host~=h* oui~=org mac^=02 => type=iot conf=50\n");
	struct in all = {.prl = "1,3,6",
			 .vendor = "v1",
			 .host = "host",
			 .oui = "An Org",
			 .mac = "02:00:00:00:00:01"};
	expect(db, all, "iot", "", "", 50, 1);
	struct in x = all;
	x.prl = "1,4";
	expect_none(db, x);
	x = all;
	x.vendor = NULL;
	expect_none(db, x);
	x = all;
	x.host = "ghost";
	expect_none(db, x);
	x = all;
	x.oui = NULL;
	expect_none(db, x);
	x = all;
	x.mac = "03:00:00:00:00:01";
	expect_none(db, x);
	x = all;
	x.prl = NULL;
	expect_none(db, x);
	expect_none(db, (struct in){0});
	devtype_db_free(db);
}

static void t_globs(void **state)
{
	(void)state;
	struct devtype_db *db = db_of("match host~=*iPhone* => type=phone conf=80\n"
				      "match host~=a*b*c => type=iot conf=70\n"
				      "match host~=?x => type=tv conf=60\n"
				      "match host~=** => type=vm conf=1\n");
	expect(db, (struct in){.host = "Johns-iPhone"}, "phone", "", "", 80, 1);
	expect(db, (struct in){.host = "IPHONE"}, "phone", "", "", 80, 1);
	expect(db, (struct in){.host = "iphone-de-marie.local"}, "phone", "", "", 80, 1);
	expect(db, (struct in){.host = "abc"}, "iot", "", "", 70, 2);
	expect(db, (struct in){.host = "aXbYbZc"}, "iot", "", "", 70, 2);
	expect(db, (struct in){.host = "aXbYcZ"}, "vm", "", "", 1, 4);
	expect(db, (struct in){.host = "zx"}, "tv", "", "", 60, 3);
	expect(db, (struct in){.host = "x"}, "vm", "", "", 1, 4);
	expect(db, (struct in){.host = ""}, "vm", "", "", 1, 4);
	/* a long name against a pattern with many stars ends */
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect(db, (struct in){.host = longname}, "vm", "", "", 1, 4);
	devtype_db_free(db);
}

static void t_precedence(void **state)
{
	(void)state;
	struct devtype_db *db =
	    db_of("match prl=1,121,3,6,15,119,252 => type=phone os=iOS brand=Apple conf=70\n"
		  "match host~=*iPad* => type=tablet os=iPadOS brand=Apple conf=80\n"
		  "match oui~=Apple => brand=Apple Inc conf=50\n"
		  "match oui~=Samsung => brand=Samsung conf=45\n"
		  "match prl=1,3,6,15,26,28,51,58,59,43 => type=phone os=Android conf=75\n"
		  "match vendor^=android-dhcp- => type=phone os=Android conf=80\n"
		  "match vendor=android-dhcp-13 => os=Android 13 conf=85\n");
	/* the higher conf wins, field by field */
	expect(db, (struct in){.prl = "1,121,3,6,15,119,252", .host = "Kims-iPad", .oui = "Apple"},
	       "tablet", "iPadOS", "Apple", 80, 2);
	expect(db, (struct in){.prl = "1,121,3,6,15,119,252", .host = "Kims-iPhone"}, "phone",
	       "iOS", "Apple", 70, 1);
	/* the OUI alone names the brand, at its own (lower) confidence */
	expect(db, (struct in){.oui = "Apple, Inc."}, "unknown", "", "Apple Inc", 50, 3);
	/* the OS of the request list, the brand of the OUI */
	int rc;
	struct devtype_result r = run(db,
				      (struct in){.prl = "1,3,6,15,26,28,51,58,59,43",
						  .vendor = "android-dhcp-13",
						  .oui = "Samsung Electronics Co.,Ltd"},
				      &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.type, DEVTYPE_PHONE);
	assert_string_equal(r.os, "Android 13");
	assert_string_equal(r.brand, "Samsung");
	assert_int_equal(r.confidence, 85);
	assert_int_equal(r.line, 7);
	assert_int_equal(r.type_line, 6);
	assert_int_equal(r.os_line, 7);
	assert_int_equal(r.brand_line, 4);
	devtype_db_free(db);
}

static void t_ties(void **state)
{
	(void)state;
	struct devtype_db *db =
	    db_of("match prl^=1 => type=phone os=Android 9 conf=60\n"
		  "match prl^=1,2 => type=tablet os=Android 10 conf=60\n"
		  "match vendor^=v => type=phone os=Android 10 brand=X conf=60\n"
		  "match host~=h => type=tv os=Tizen brand=Y conf=60\n"
		  "match host~=g => type=phone os=Linux conf=60\n"
		  "match oui~=o => type=vm conf=60\n");
	/* equal conf, stronger evidence wins: vendor^= (4) over host~= (3) */
	expect(db, (struct in){.prl = "3", .vendor = "v", .host = "h"}, "phone", "Android 10", "X",
	       60, 3);
	/* prl^=1 and prl^=1,2: both weigh 4, both 60: they disagree */
	int rc;
	struct devtype_result r = run(db, (struct in){.prl = "1,2"}, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(r.type, DEVTYPE_UNKNOWN); /* phone or tablet: unknown */
	assert_string_equal(r.os, "Android");	   /* their common words */
	assert_int_equal(r.confidence, 60);
	assert_int_equal(r.os_line, 1); /* the first of the rules that agree */
	assert_int_equal(r.type_line, 0);
	assert_int_equal(r.line, 1);
	/* prl^=1 and vendor^=v weigh the same and agree on the type */
	r = run(db, (struct in){.prl = "1", .vendor = "v", .host = "h"}, &rc);
	assert_int_equal(r.type, DEVTYPE_PHONE);
	assert_int_equal(r.type_line, 1); /* the lowest line of those that agree */
	assert_string_equal(r.os, "Android");
	assert_string_equal(r.brand, "X"); /* vendor^= (4) over host~= (3) */
	assert_int_equal(r.brand_line, 3);
	/* host~= (3) beats oui~= (1) at equal conf */
	expect(db, (struct in){.host = "g", .oui = "o"}, "phone", "Linux", "", 60, 5);
	expect(db, (struct in){.host = "h", .oui = "xo"}, "tv", "Tizen", "Y", 60, 4);
	devtype_db_free(db);
	db = db_of("match host~=a* => type=phone os=iOS conf=10\n"
		   "match host~=*b => type=tablet os=iPadOS conf=10\n");
	expect(db, (struct in){.host = "ab"}, "unknown", "", "", 0, 0);
	expect(db, (struct in){.host = "a"}, "phone", "iOS", "", 10, 1);
	devtype_db_free(db);
}

static void t_no_rules(void **state)
{
	(void)state;
	struct devtype_db *db = devtype_db_new();
	expect_none(db, (struct in){.prl = "1,3,6", .vendor = "MSFT 5.0", .host = "x", .oui = "y"});
	assert_int_equal(devtype_db_count(db), 0);
	devtype_db_free(db);
	devtype_db_free(NULL);
}

/* Thousands of prl= and vendor= rules: each found by its hash, and only it. */
static void t_many_rules(void **state)
{
	(void)state;
	enum { N = 6000 };
	size_t cap = (size_t)N * 2 * 64;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t off = 0;
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"match prl=1,%d,%d => type=computer os=P%d conf=%d\n"
					"match vendor=v%d => type=iot os=V%d conf=%d\n",
					i / 254 + 1, i % 254 + 1, i, i % 100, i, i, i % 100);
	struct devtype_db *db = devtype_db_new();
	char err[512];
	assert_int_equal(devtype_db_add_text(db, "many", text, off, err, sizeof(err)), 2 * N);
	free(text);
	for (int i = 0; i < N; i += 37) {
		char prl[32], os[16], vendor[16];
		snprintf(prl, sizeof(prl), "1,%d,%d", i / 254 + 1, i % 254 + 1);
		snprintf(os, sizeof(os), "P%d", i);
		expect(db, (struct in){.prl = prl}, "computer", os, "", i % 100,
		       (unsigned)(2 * i + 1));
		snprintf(vendor, sizeof(vendor), "v%d", i);
		snprintf(os, sizeof(os), "V%d", i);
		expect(db, (struct in){.vendor = vendor}, "iot", os, "", i % 100,
		       (unsigned)(2 * i + 2));
	}
	expect_none(db, (struct in){.prl = "1,200,200", .vendor = "v99999"});
	devtype_db_free(db);
}

/* ---- the shipped table ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static struct devtype_db *shipped(void)
{
	size_t len;
	char *text = read_file(DEVTYPES_PATH, &len);
	struct devtype_db *db = devtype_db_new();
	char err[8192];
	long n = devtype_db_add_text(db, "devtypes.txt", text, len, err, sizeof(err));
	free(text);
	if (n < 0)
		fail_msg("data/devtypes.txt does not load:\n%s", err);
	assert_true(n >= 100);
	return db;
}

static void t_shipped_loads(void **state)
{
	(void)state;
	struct devtype_db *db = shipped();
	printf("data/devtypes.txt: %zu rules\n", devtype_db_count(db));
	devtype_db_free(db);
}

/* The table built into arphad is data/devtypes.txt as it is now, and loads as the file does. */
static void t_builtin_is_shipped(void **state)
{
	(void)state;
	size_t len;
	char *text = read_file(DEVTYPES_PATH, &len);
	assert_int_equal(devtypes_builtin_len, len);
	assert_memory_equal(devtypes_builtin, text, len);
	assert_int_equal(devtypes_builtin[devtypes_builtin_len], '\0');
	free(text);
	struct devtype_db *file = shipped();
	struct devtype_db *db = devtype_db_new();
	assert_non_null(db);
	char err[8192] = "";
	long n = devtype_db_add_text(db, "builtin", devtypes_builtin, devtypes_builtin_len, err,
				     sizeof(err));
	if (n < 0)
		fail_msg("the built-in table does not load:\n%s", err);
	assert_string_equal(err, "");
	assert_int_equal(n, devtype_db_count(file));
	assert_int_equal(devtype_db_count(db), devtype_db_count(file));
	devtype_db_free(db);
	devtype_db_free(file);
}

/* Check type, os and brand of a realistic request against the shipped table. */
static void sys(const struct devtype_db *db, struct in x, const char *type, const char *os,
		const char *brand, int min_conf)
{
	int rc;
	struct devtype_result r = run(db, x, &rc);
	const char *what = x.host     ? x.host
			   : x.vendor ? x.vendor
			   : x.prl    ? x.prl
			   : x.oui    ? x.oui
			   : x.mac    ? x.mac
				      : "(nothing)";
	if (strcmp(devtype_type_name(r.type), type) != 0 || strcmp(r.os, os) != 0 ||
	    strcmp(r.brand, brand) != 0 || r.confidence < min_conf)
		fail_msg("%s: expected %s/%s/%s/>=%d, got %s/%s/%s/%d (lines %u %u %u)", what, type,
			 os, brand, min_conf, devtype_type_name(r.type), r.os, r.brand,
			 r.confidence, r.type_line, r.os_line, r.brand_line);
	printf("  %-44.44s -> %s / %s / %s / %d\n", what, type, *os ? os : "-",
	       *brand ? brand : "-", r.confidence);
}

static void t_shipped_systems(void **state)
{
	(void)state;
	struct devtype_db *db = shipped();
	/* Windows */
	sys(db,
	    (struct in){.prl = "1,3,6,15,31,33,43,44,46,47,119,121,249,252",
			.vendor = "MSFT 5.0",
			.host = "DESKTOP-4F2KQ7M",
			.oui = "Intel Corporate"},
	    "computer", "Windows 10/11", "", 90);
	sys(db,
	    (struct in){.prl = "1,15,3,6,44,46,47,31,33,121,249,43",
			.vendor = "MSFT 5.0",
			.host = "OFFICE-PC"},
	    "computer", "Windows 7/Vista", "", 80);
	sys(db, (struct in){.vendor = "MSFT 5.0", .host = "LAPTOP-8H3K2L1P"}, "computer", "Windows",
	    "", 75);
	/* macOS, iOS, iPadOS */
	sys(db,
	    (struct in){.prl = "1,121,3,6,15,119,252,95,44,46",
			.host = "Annas-MacBook-Air",
			.oui = "Apple, Inc."},
	    "computer", "macOS", "Apple", 80);
	sys(db, (struct in){.prl = "1,121,3,6,15,108,114,119,252,95,44,46", .oui = "Apple, Inc."},
	    "computer", "macOS", "Apple", 85);
	sys(db, (struct in){.prl = "1,121,3,6,15,119,252", .host = "Johns-iPhone"}, "phone", "iOS",
	    "Apple", 80);
	sys(db, (struct in){.prl = "1,121,3,6,15,108,114,119,252", .host = "iPad"}, "tablet",
	    "iPadOS", "Apple", 80);
	/* a phone with a private (random) MAC and no host name: the list alone */
	sys(db, (struct in){.prl = "1,121,3,6,15,119,252"}, "phone", "iOS", "Apple", 70);
	/* Android, several vendor classes */
	sys(db,
	    (struct in){.prl = "1,3,6,15,26,28,51,58,59,43",
			.vendor = "android-dhcp-10",
			.host = "Galaxy-S10",
			.oui = "Samsung Electronics Co.,Ltd"},
	    "phone", "Android 10", "Samsung", 85);
	sys(db, (struct in){.prl = "1,3,6,15,26,28,51,58,59,43,114", .vendor = "android-dhcp-13"},
	    "phone", "Android 13", "", 85);
	sys(db, (struct in){.vendor = "android-dhcp-8.1.0", .oui = "Google, Inc."}, "phone",
	    "Android 8", "Google", 85);
	sys(db, (struct in){.vendor = "android-dhcp-7.0", .host = "android-5f2c1a9b3d7e4f60"},
	    "phone", "Android 7", "", 85);
	sys(db, (struct in){.vendor = "android-dhcp-16"}, "phone", "Android", "", 80);
	sys(db, (struct in){.prl = "1,3,6,15,26,28,51,58,59,43"}, "phone", "Android", "", 75);
	/* Linux */
	sys(db, (struct in){.prl = "1,28,2,3,15,6,119,12,44,47,26,121,42", .host = "ubuntu"},
	    "computer", "Linux (Debian/Ubuntu)", "", 75);
	sys(db,
	    (struct in){.prl = "1,28,2,3,15,6,119,12,44,47,26,121,42,121,249,33,252,42",
			.host = "debian"},
	    "computer", "Linux (Debian/Ubuntu)", "", 75);
	sys(db, (struct in){.prl = "1,3,12,15,6,26,33,121,42", .host = "nas"}, "unknown",
	    "Linux (systemd-networkd)", "", 55);
	sys(db,
	    (struct in){.prl = "1,121,33,3,6,12,15,26,28,42,51,54,58,59,119",
			.vendor = "dhcpcd-9.4.1:Linux-6.1.0-18-amd64:x86_64:GenuineIntel"},
	    "unknown", "Linux", "", 75);
	sys(db, (struct in){.vendor = "udhcp 1.36.1"}, "unknown", "Linux (BusyBox)", "", 70);
	/* ChromeOS */
	sys(db, (struct in){.prl = "1,121,33,3,6,12,15,26,28,51,54,58,59,119,252"}, "computer",
	    "ChromeOS", "", 75);
	/* printers */
	sys(db, (struct in){.host = "HP3C2AF4", .oui = "Hewlett Packard"}, "printer", "", "HP", 65);
	sys(db,
	    (struct in){.prl = "1,3,44,6,7,12,15,22,54,58,59,69,18,43,119,154",
			.host = "NPI8D2E1A"},
	    "printer", "", "HP", 80);
	sys(db, (struct in){.host = "BRW008077A1B2C3", .oui = "Brother Industries, LTD."},
	    "printer", "", "Brother", 80);
	sys(db, (struct in){.oui = "Canon Inc."}, "printer", "", "Canon", 50);
	sys(db, (struct in){.host = "EPSON1A2B3C", .oui = "Seiko Epson Corporation"}, "printer", "",
	    "Epson", 80);
	/* Raspberry Pi */
	sys(db,
	    (struct in){.vendor = "dhcpcd-8.1.2:Linux-5.10.63-v7l+:armv7l:BCM2711",
			.host = "raspberrypi",
			.oui = "Raspberry Pi Trading Ltd"},
	    "computer", "Raspberry Pi OS", "Raspberry Pi", 80);
	sys(db, (struct in){.oui = "Raspberry Pi Foundation"}, "computer", "", "Raspberry Pi", 60);
	/* virtual machines: the OUI (or the MAC) beats the guest's OS for the type */
	sys(db,
	    (struct in){.prl = "1,28,2,3,15,6,119,12,44,47,26,121,42",
			.oui = "VMware, Inc.",
			.mac = "00:50:56:9a:01:02"},
	    "vm", "Linux (Debian/Ubuntu)", "VMware", 85);
	sys(db, (struct in){.oui = "PCS Systemtechnik GmbH", .mac = "08:00:27:11:22:33"}, "vm", "",
	    "VirtualBox", 85);
	sys(db, (struct in){.mac = "52:54:00:ab:cd:ef"}, "vm", "", "QEMU/KVM", 80);
	sys(db,
	    (struct in){.prl = "1,3,6,15,31,33,43,44,46,47,119,121,249,252",
			.vendor = "MSFT 5.0",
			.oui = "Microsoft Corporation",
			.mac = "00:15:5d:00:01:02"},
	    "vm", "Windows 10/11", "Hyper-V", 95);
	/* brands by OUI alone */
	sys(db, (struct in){.oui = "Apple, Inc."}, "unknown", "", "Apple", 50);
	sys(db, (struct in){.oui = "Samsung Electronics Co.,Ltd"}, "unknown", "", "Samsung", 45);
	sys(db, (struct in){.oui = "Google, Inc."}, "unknown", "", "Google", 50);
	/* IoT */
	sys(db, (struct in){.host = "ESP_1A2B3C", .oui = "Espressif Inc."}, "iot", "", "Espressif",
	    75);
	sys(db, (struct in){.host = "espressif", .vendor = "espressif"}, "iot", "", "Espressif",
	    75);
	sys(db, (struct in){.host = "tasmota-1A2B3C-0123", .oui = "Espressif Inc."}, "iot",
	    "Tasmota", "Espressif", 80);
	sys(db, (struct in){.oui = "Hangzhou Hikvision Digital Technology Co.,Ltd."}, "camera", "",
	    "Hikvision", 60);
	/* consoles and TVs */
	sys(db, (struct in){.host = "PS5-123", .oui = "Sony Interactive Entertainment Inc."},
	    "console", "", "Sony PlayStation", 75);
	sys(db, (struct in){.oui = "Nintendo Co.,Ltd"}, "console", "", "Nintendo", 60);
	sys(db, (struct in){.host = "XboxOne"}, "console", "", "Microsoft Xbox", 75);
	sys(db, (struct in){.host = "LGwebOSTV", .oui = "LG Electronics"}, "tv", "webOS", "LG", 80);
	sys(db, (struct in){.oui = "Roku, Inc"}, "tv", "Roku OS", "Roku", 60);
	/* nothing known: nothing invented */
	expect_none(db,
		    (struct in){.prl = "1,2,3,4,5,6,7,8,9", .host = "box17", .oui = "Acme Ltd"});
	expect_none(db, (struct in){0});
	devtype_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_every_key),
	    cmocka_unit_test(t_values),
	    cmocka_unit_test(t_errors),
	    cmocka_unit_test(t_errors_all_or_nothing),
	    cmocka_unit_test(t_types),
	    cmocka_unit_test(t_all_keys_must_hold),
	    cmocka_unit_test(t_globs),
	    cmocka_unit_test(t_precedence),
	    cmocka_unit_test(t_ties),
	    cmocka_unit_test(t_no_rules),
	    cmocka_unit_test(t_many_rules),
	    cmocka_unit_test(t_shipped_loads),
	    cmocka_unit_test(t_builtin_is_shipped),
	    cmocka_unit_test(t_shipped_systems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
