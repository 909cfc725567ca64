/*
 * oui: vendor lookup from the IEEE registry CSV files that Debian's
 * ieee-data ships (oui.csv MA-L 24-bit, mam.csv MA-M 28-bit, oui36.csv
 * MA-S 36-bit, iab.csv IAB 36-bit). Pure: the caller reads the files and
 * hands their text in. Longest prefix wins.
 */
#ifndef ARPHA_CORE_OUI_H
#define ARPHA_CORE_OUI_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct oui_db;

struct oui_match {
	const char *org;      /* organization name (owned by the db) */
	const char *registry; /* "MA-L", "MA-M", "MA-S", "IAB" */
	uint8_t bits;         /* 24, 28 or 36 */
};

/* NULL on ENOMEM. */
struct oui_db *oui_db_new(void);
void oui_db_free(struct oui_db *db);

/*
 * Add every record of one registry CSV file (header line, quoted fields as
 * the IEEE writes them). Lines that are not records are counted in
 * *skipped (may be NULL). Returns the number of records added, -1/ENOMEM.
 */
long oui_db_add_csv(struct oui_db *db, const char *text, size_t len, size_t *skipped);

/* Number of records held. */
size_t oui_db_count(const struct oui_db *db);

/* Longest-prefix match for m. 0 and *out filled, or -1 when none. */
int oui_lookup(const struct oui_db *db, const struct mac *m, struct oui_match *out);

#endif
