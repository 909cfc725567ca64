/*
 * vendor: who registered a MAC's prefix, looked up offline in the IEEE
 * registry files of Debian's ieee-data (oui.csv, mam.csv, oui36.csv,
 * iab.csv). The shell around core/oui: it reads the files.
 */
#ifndef ARPHA_OS_VENDOR_H
#define ARPHA_OS_VENDOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "core/oui.h"

/*
 * Read the four registry files from dir (NULL: ARPHA_IEEE_DIR) into a new
 * db. Returns 0 and *dbp (free with oui_db_free), or -1 with a message in
 * err ("cannot read DIR/oui.csv: No such file or directory (install Debian
 * package ieee-data)"). Every file must be there: without one, a shorter
 * prefix would answer for addresses it does not own.
 */
int vendor_db_load(const char *dir, struct oui_db **dbp, char *err, size_t errlen);

/*
 * Look m up, loading the db into *dbp first when *dbp is NULL (the caller
 * keeps it for the next lookup and frees it with oui_db_free). Returns 1
 * and *out when the prefix is registered, 0 when it is not, -1 with err
 * when the files cannot be read. m is looked up as written: callers decide
 * what a locally administered or group address means.
 */
int vendor_lookup(const char *dir, const struct mac *m, struct oui_match *out, struct oui_db **dbp,
		  char *err, size_t errlen);

/*
 * `arpha [-j] vendor MAC`: argv[0] is "vendor". Prints the answer for
 * people, or as JSON. Returns the exit status: 0, 1 when the registry
 * cannot be read, 2 for a usage error or a string that is not a MAC.
 */
int vendor_main(int argc, char **argv, bool json);

#endif
