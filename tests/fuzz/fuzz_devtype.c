/*
 * libFuzzer target: devtype_db_add_text on arbitrary bytes, then matches
 * of inputs taken from the same bytes (a request list, a vendor class, a
 * host name, an OUI name, a MAC) and of fixed ones, on top of a small
 * table of every key. Every result must be a known type, a confidence of
 * 0-100, NUL-terminated names and line numbers of the text.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/devtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const char base[] = "match prl=1,3,6 => type=computer os=A conf=10\n"
			   "match prl^=1 vendor^=v => type=phone os=B brand=b conf=20\n"
			   "match vendor=MSFT 5.0 => os=Windows conf=70\n"
			   "match vendor~=*a*b* => type=iot conf=30\n"
			   "match host~=*a?b* => type=tv os=C conf=30\n"
			   "match oui~=a => brand=D conf=30\n"
			   "match mac^=00 => type=vm conf=90\n";

static void check(const struct devtype_db *db, const struct devtype_input *in, size_t lines)
{
	struct devtype_result r;
	int rc = devtype_match(db, in, &r);
	if ((unsigned)r.type >= DEVTYPE__COUNT || r.confidence > 100)
		abort();
	if (memchr(r.os, '\0', sizeof(r.os)) == NULL ||
	    memchr(r.brand, '\0', sizeof(r.brand)) == NULL)
		abort();
	if (r.line > lines || r.type_line > lines || r.os_line > lines || r.brand_line > lines)
		abort();
	bool named = r.type != DEVTYPE_UNKNOWN || r.os[0] || r.brand[0];
	if ((rc == 0) != named || (rc < 0 && (r.confidence || r.line)))
		abort();
}

/* A NUL-terminated copy of d[off, off + len), within n. */
static char *str(const uint8_t *d, size_t n, size_t off, size_t len)
{
	if (off > n)
		off = n;
	if (len > n - off)
		len = n - off;
	char *s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, d + off, len);
	s[len] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct devtype_db *db = devtype_db_new();
	if (!db)
		return 0;
	char err[1024];
	long added = devtype_db_add_text(db, "base", base, sizeof(base) - 1, err, sizeof(err));
	if (added != 7)
		abort();
	added = devtype_db_add_text(db, "fuzz", (const char *)d, n, err, sizeof(err));
	if (added >= 0 && (size_t)added + 7 != devtype_db_count(db))
		abort();
	if (added < 0 && devtype_db_count(db) != 7)
		abort();
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	size_t lines = 7;
	for (size_t i = 0; i < n; i++)
		lines += d[i] == '\n';
	lines++;

	/* inputs cut from the bytes themselves */
	char *vendor = str(d, n, 0, 32), *host = str(d, n, 8, 40), *oui = str(d, n, 16, 64);
	struct devtype_input in = {
	    .prl = d,
	    .prl_len = n < 64 ? n : 64,
	    .vendor = vendor,
	    .host = host,
	    .oui_org = oui,
	    .mac = n >= 6 ? d : NULL,
	};
	check(db, &in, lines);
	in.prl_len = n < 3 ? n : 3;
	check(db, &in, lines);
	free(vendor);
	free(host);
	free(oui);

	static const uint8_t win[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
	static const uint8_t mac[6] = {0x00, 0x50, 0x56, 1, 2, 3};
	struct devtype_input fixed = {
	    .prl = win,
	    .prl_len = sizeof(win),
	    .vendor = "MSFT 5.0",
	    .host = "aXb-host",
	    .oui_org = "An Org",
	    .mac = mac,
	};
	check(db, &fixed, lines);
	struct devtype_input none = {0};
	check(db, &none, lines);
	devtype_db_free(db);
	return 0;
}
