/*
 * Unit tests for the OUI registry: the CSV reader (quotes, commas, line
 * breaks in fields, bad lines skipped and counted), longest prefix first,
 * and the real IEEE files of Debian's ieee-data when they are installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arpha_build.h"
#include "core/oui.h"

static struct mac mac(const char *s)
{
	struct mac m;
	if (mac_parse(s, &m) < 0)
		fail_msg("bad MAC in test: %s", s);
	return m;
}

/* Look s up: expect org, registry and bits, or (org NULL) no match. */
static void expect(const struct oui_db *db, const char *s, const char *org, const char *reg,
		   int bits)
{
	struct mac m = mac(s);
	struct oui_match r;
	memset(&r, 0, sizeof(r));
	int rc = oui_lookup(db, &m, &r);
	if (!org) {
		if (rc != -1)
			fail_msg("%s: expected no match, got \"%s\"", s, r.org);
		return;
	}
	if (rc != 0)
		fail_msg("%s: expected \"%s\", got no match", s, org);
	assert_string_equal(r.org, org);
	assert_string_equal(r.registry, reg);
	assert_int_equal(r.bits, bits);
}

static const char small_csv[] =
    "Registry,Assignment,Organization Name,Organization Address\n"
    "MA-L,0050C2,IEEE Registration Authority,\"445 Hoes Lane Piscataway NJ US 08554 \"\n"
    "MA-M,0050C21,Middle Corp,Somewhere 1\n"
    "MA-S,0050C2123,\"Small, Quoted \"\"S\"\" Ltd\",\"a, b\n"
    "c, d\"\n"
    "\n"
    "IAB,0050C2AB0,Iab Inc ,x\n"
    "MA-L,aabbcc,  Example Inc.  ,x\r\n"
    "garbage line\n"
    "MA-L,12345,Five Digits,x\n"
    "MA-X,112233,Wrong Registry,x\n"
    "MA-M,112233,Six Digits For MA-M,x\n"
    "MA-L,11223G,Bad Hex,x\n"
    "MA-L,112233,,x\n"
    "MA-L,112233,\"  \",x\n"
    "MA-L,\"112233,Open Quote,x\n"
    "MA-L,445566,\"Name\"junk,x\n"
    "MA-L,445567,Stray \" Quote,x\n"
    "MA-L,445568,A,B,C,too many fields\n"
    "MA-L,445569\n"
    "MA-L,778899,Good After Bad,\"x\"\r\n"
    "MA-L,0A0B0C,No Newline At End,x";

static void t_small(void **state)
{
	struct oui_db *db = oui_db_new();
	assert_non_null(db);
	expect(db, "00:50:c2:12:34:56", NULL, NULL, 0); /* empty db */
	size_t skipped = 99;
	assert_int_equal(oui_db_add_csv(db, small_csv, strlen(small_csv), &skipped), 7);
	assert_int_equal(skipped, 12);
	assert_int_equal(oui_db_count(db), 7);

	/* MA-S beats MA-M beats MA-L */
	expect(db, "00:50:c2:12:34:56", "Small, Quoted \"S\" Ltd", "MA-S", 36);
	expect(db, "00:50:c2:12:3f:ff", "Small, Quoted \"S\" Ltd", "MA-S", 36);
	expect(db, "00:50:c2:12:40:00", "Middle Corp", "MA-M", 28);
	expect(db, "00:50:c2:1f:ff:ff", "Middle Corp", "MA-M", 28);
	expect(db, "00:50:c2:20:00:00", "IEEE Registration Authority", "MA-L", 24);
	expect(db, "00:50:c2:0f:ff:ff", "IEEE Registration Authority", "MA-L", 24);
	expect(db, "00-50-c2-ab-01-02", "Iab Inc", "IAB", 36);
	expect(db, "00:50:c2:ab:10:00", "IEEE Registration Authority", "MA-L", 24);
	/* blanks trimmed, lower-case hex, CRLF, the last line without newline */
	expect(db, "aa:bb:cc:00:00:01", "Example Inc.", "MA-L", 24);
	expect(db, "77:88:99:01:02:03", "Good After Bad", "MA-L", 24);
	expect(db, "0a:0b:0c:ff:ff:ff", "No Newline At End", "MA-L", 24);
	/* every bad line was skipped, not half-read */
	expect(db, "11:22:33:00:00:00", NULL, NULL, 0);
	expect(db, "01:23:45:00:00:00", NULL, NULL, 0);
	expect(db, "44:55:66:00:00:00", NULL, NULL, 0);
	expect(db, "44:55:67:00:00:00", NULL, NULL, 0);
	expect(db, "44:55:68:00:00:00", NULL, NULL, 0);
	expect(db, "44:55:69:00:00:00", NULL, NULL, 0);
	expect(db, "00:50:c3:00:00:00", NULL, NULL, 0);
	expect(db, "00:50:c1:ff:ff:ff", NULL, NULL, 0);
	oui_db_free(db);
	oui_db_free(NULL);
}

/* Files add up; a prefix given twice is held once; equal names are stored once. */
static void t_several_files(void **state)
{
	static const char mal[] = "Registry,Assignment,Organization Name,Organization Address\n"
				  "MA-L,70B3D5,IEEE Registration Authority,x\n"
				  "MA-L,001122,Same Name,x\n"
				  "MA-L,001123,Same Name,y\n";
	static const char mas[] = "Registry,Assignment,Organization Name,Organization Address\n"
				  "MA-S,70B3D5F2F,TELEPLATFORMS,x\n";
	struct oui_db *db = oui_db_new();
	assert_non_null(db);
	assert_int_equal(oui_db_add_csv(db, mal, strlen(mal), NULL), 3);
	expect(db, "70:b3:d5:f2:f0:00", "IEEE Registration Authority", "MA-L", 24);
	assert_int_equal(oui_db_add_csv(db, mas, strlen(mas), NULL), 1);
	expect(db, "70:b3:d5:f2:f0:00", "TELEPLATFORMS", "MA-S", 36);
	expect(db, "70:b3:d5:f2:e0:00", "IEEE Registration Authority", "MA-L", 24);
	/* the same file again adds nothing */
	assert_int_equal(oui_db_add_csv(db, mal, strlen(mal), NULL), 0);
	assert_int_equal(oui_db_count(db), 4);

	struct oui_match a, b;
	struct mac m1 = mac("00:11:22:00:00:00"), m2 = mac("00:11:23:00:00:00");
	assert_int_equal(oui_lookup(db, &m1, &a), 0);
	assert_int_equal(oui_lookup(db, &m2, &b), 0);
	assert_ptr_equal(a.org, b.org);

	size_t skipped = 1;
	assert_int_equal(oui_db_add_csv(db, "", 0, &skipped), 0);
	assert_int_equal(skipped, 0);
	oui_db_free(db);
}

/* Many records, added in random order: the binary search finds each. */
static void t_many(void **state)
{
	size_t cap = 1 << 20, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	uint32_t x = 12345;
	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245u + 12345u;
		off += (size_t)snprintf(text + off, cap - off, "MA-L,%06X,Org %06X,x\n",
					(x >> 8) & 0xfcffff, (x >> 8) & 0xfcffff);
	}
	struct oui_db *db = oui_db_new();
	assert_non_null(db);
	long n = oui_db_add_csv(db, text, off, NULL);
	assert_true(n > 4900 && n <= 5000);
	x = 12345;
	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245u + 12345u;
		uint32_t p = (x >> 8) & 0xfcffff;
		struct mac m = {{(uint8_t)(p >> 16), (uint8_t)(p >> 8), (uint8_t)p, 1, 2, 3}};
		struct oui_match r;
		char want[32];
		snprintf(want, sizeof(want), "Org %06X", p);
		assert_int_equal(oui_lookup(db, &m, &r), 0);
		assert_string_equal(r.org, want);
	}
	oui_db_free(db);
	free(text);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (!b)
			break;
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *nb = realloc(b, cap *= 2);
		if (!nb)
			free(b);
		b = nb;
	}
	fclose(f);
	*len = n;
	return b;
}

/* The registry as Debian ships it. */
static void t_ieee_data(void **state)
{
	static const struct {
		const char *file;
		size_t min;
	} files[] = {{"oui.csv", 20000}, {"mam.csv", 3000}, {"oui36.csv", 3000}, {"iab.csv", 3000}};
	struct oui_db *db = oui_db_new();
	assert_non_null(db);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", ARPHA_IEEE_DIR, files[i].file);
		size_t len = 0, skipped = 99;
		char *text = slurp(path, &len);
		if (!text) {
			oui_db_free(db);
			print_message(
			    "skipping: cannot read %s (install Debian package ieee-data)\n", path);
			skip();
		}
		long n = oui_db_add_csv(db, text, len, &skipped);
		free(text);
		if (n < (long)files[i].min)
			fail_msg("%s: %ld records", path, n);
		if (skipped != 0)
			fail_msg("%s: %zu lines skipped", path, skipped);
	}
	expect(db, "00:00:0c:12:34:56", "Cisco Systems, Inc", "MA-L", 24);
	expect(db, "40:84:93:15:04:67", "Clavister AB", "MA-L", 24);
	expect(db, "70:b3:d5:f2:f0:01", "TELEPLATFORMS", "MA-S", 36);
	expect(db, "20:85:93:b0:00:01", "IOG Products LLC", "MA-M", 28);
	expect(db, "00:50:c2:7d:50:00", "DEUTA-WERKE GmbH", "IAB", 36);
	/* a quoted name with a comma, whose address runs over two lines */
	expect(db, "30:3d:51:c0:00:00", "TalkGo, Inc.", "MA-M", 28);
	/* locally administered addresses are nobody's */
	expect(db, "02:00:00:00:00:01", NULL, NULL, 0);
	oui_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_small),
	    cmocka_unit_test(t_several_files),
	    cmocka_unit_test(t_many),
	    cmocka_unit_test(t_ieee_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
