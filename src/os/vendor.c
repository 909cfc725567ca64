/*
 * vendor: reads Debian's IEEE registry files into a core/oui db and
 * answers `arpha vendor MAC`.
 */
#include "os/vendor.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arpha_build.h"
#include "os/util.h"
#include "os/view.h"

#define REGISTRY_MAX (64u << 20) /* oui.csv is about 3 MB */

/* MA-L, MA-M, MA-S, IAB: all four, or prefixes would answer for blocks they lost. */
static const char *const registry_files[] = {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"};

int vendor_db_load(const char *dir, struct oui_db **dbp, char *err, size_t errlen)
{
	if (!dir)
		dir = ARPHA_IEEE_DIR;
	struct oui_db *db = oui_db_new();
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof(registry_files) / sizeof(registry_files[0]); i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, registry_files[i]) >=
		    (int)sizeof(path)) {
			snprintf(err, errlen, "%s: directory name too long", dir);
			goto fail;
		}
		char *text;
		size_t len;
		if (read_file(path, REGISTRY_MAX, &text, &len) < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot read %s: %s%s", path, strerror(e),
				 e == ENOENT ? " (install Debian package ieee-data)" : "");
			goto fail;
		}
		long n = oui_db_add_csv(db, text, len, NULL);
		free(text);
		if (n < 0) {
			snprintf(err, errlen, "cannot load %s: %s", path, strerror(ENOMEM));
			goto fail;
		}
		if (n == 0) {
			snprintf(err, errlen,
				 "%s holds no registry records; is it an IEEE registry CSV file?",
				 path);
			goto fail;
		}
	}
	*dbp = db;
	return 0;
fail:
	oui_db_free(db);
	return -1;
}

int vendor_lookup(const char *dir, const struct mac *m, struct oui_match *out, struct oui_db **dbp,
		  char *err, size_t errlen)
{
	if (!*dbp && vendor_db_load(dir, dbp, err, errlen) < 0)
		return -1;
	return oui_lookup(*dbp, m, out) == 0 ? 1 : 0;
}

/* The registered prefix of m, as many hex digits as the registry assigns. */
static void fmt_prefix(const struct mac *m, unsigned bits, char buf[16])
{
	const uint8_t *a = m->a;
	if (bits == 36)
		snprintf(buf, 16, "%02x:%02x:%02x:%02x:%x", a[0], a[1], a[2], a[3], a[4] >> 4);
	else if (bits == 28)
		snprintf(buf, 16, "%02x:%02x:%02x:%x", a[0], a[1], a[2], a[3] >> 4);
	else
		snprintf(buf, 16, "%02x:%02x:%02x", a[0], a[1], a[2]);
}

/* The text of `arpha vendor`: the fields in a sentence. */
static const char *vendor_line(bool broadcast, bool local, bool found, bool group)
{
	if (broadcast)
		return "MAC {mac}  Vendor: none (the broadcast address)";
	if (local)
		return group ? "MAC {mac}  Vendor: locally administered address (no vendor "
			       "registered)  group (multicast) address"
			     : "MAC {mac}  Vendor: locally administered address (no vendor "
			       "registered)";
	if (found)
		return group ? "MAC {mac}  Vendor: {vendor}  ({registry} {prefix})  group "
			       "(multicast) address"
			     : "MAC {mac}  Vendor: {vendor}  ({registry} {prefix})";
	return group ? "MAC {mac}  Vendor: unknown  group (multicast) address"
		     : "MAC {mac}  Vendor: unknown";
}

int vendor_main(int argc, char **argv, bool json)
{
	if (argc != 2) {
		fprintf(stderr, "usage: arpha [-j] vendor MAC\n");
		return 2;
	}
	struct mac m;
	if (mac_parse(argv[1], &m) < 0) {
		fprintf(stderr,
			"arpha: vendor: \"%s\" is not a MAC address (expected e.g. "
			"4b:86:f6:c5:a2:14 or 4b-86-f6-c5-a2-14)\n",
			argv[1]);
		return 2;
	}
	bool local = mac_is_local(&m);
	bool group = (m.a[0] & 0x01) != 0; /* multicast or broadcast */
	struct oui_match om = {0};
	struct oui_db *db = NULL; /* om.org points into it */
	int found = 0;
	if (!local) {
		/* a group address from an OUI belongs to the OUI's holder */
		struct mac q = m;
		q.a[0] &= (uint8_t)~0x01;
		char err[512];
		found = vendor_lookup(NULL, &q, &om, &db, err, sizeof(err));
		if (found < 0) {
			fprintf(stderr, "arpha: vendor: %s\n", err);
			return 1;
		}
	}
	char mac[MAC_STRLEN], prefix[16] = "";
	mac_fmt(&m, mac);
	if (found) {
		struct mac q = m;
		q.a[0] &= (uint8_t)~0x01;
		fmt_prefix(&q, om.bits, prefix);
	}

	struct view *v = view_new();
	view_object(v, NULL);
	view_str(v, "mac", mac);
	if (found) {
		view_str(v, "vendor", om.org);
		view_str(v, "registry", om.registry);
		view_str(v, "prefix", prefix);
	} else {
		view_null(v, "vendor");
		view_null(v, "registry");
		view_null(v, "prefix");
	}
	view_bool(v, "local", local);
	view_bool(v, "multicast", group);
	view_line(v, vendor_line(mac_is_broadcast(&m), local, found, group));
	view_end(v);
	struct sbuf out;
	sbuf_init(&out);
	view_render(v, json ? VIEW_JSON : VIEW_TEXT, &out);
	view_free(v);
	oui_db_free(db);
	int rc = 0;
	if (out.oom) {
		fprintf(stderr, "arpha: vendor: %s\n", strerror(ENOMEM));
		rc = 1;
	} else {
		fwrite(out.s, 1, out.len, stdout);
	}
	sbuf_free(&out);
	return rc;
}
