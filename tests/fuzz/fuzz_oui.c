/*
 * libFuzzer target: oui_db_add_csv on arbitrary bytes, then lookups of
 * MACs taken from the input; every match must be a NUL-terminated name
 * with a known registry and length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/oui.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void check(const struct oui_db *db, const struct mac *m)
{
	struct oui_match r;
	if (oui_lookup(db, m, &r) < 0)
		return;
	if (!r.org || !r.org[0] || strlen(r.org) > 1 << 20 || !r.registry)
		abort();
	if (r.bits != 24 && r.bits != 28 && r.bits != 36)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct oui_db *db = oui_db_new();
	if (!db)
		return 0;
	size_t skipped = 0;
	long added = oui_db_add_csv(db, (const char *)d, n, &skipped);
	if (added >= 0 && (size_t)added != oui_db_count(db))
		abort();
	/* the first bytes, and MACs at a few places in the input */
	for (size_t off = 0; off + MAC_LEN <= n && off < 64; off += 7) {
		struct mac m;
		memcpy(m.a, d + off, MAC_LEN);
		check(db, &m);
	}
	static const struct mac fixed[] = {
	    {{0x00, 0x00, 0x0c, 0x12, 0x34, 0x56}},
	    {{0x00, 0x50, 0xc2, 0x12, 0x34, 0x56}},
	    {{0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x01}},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check(db, &fixed[i]);
	/* a second file on top of the first */
	oui_db_add_csv(db, (const char *)d, n / 2, NULL);
	check(db, &fixed[1]);
	oui_db_free(db);
	return 0;
}
