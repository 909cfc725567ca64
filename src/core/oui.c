/*
 * oui: the IEEE registries as three sorted arrays (36-, 28- and 24-bit
 * prefixes) of 12-byte records, and one pool of organization names in
 * which each distinct name is stored once. A lookup is at most three
 * binary searches, longest prefix first.
 *
 * The CSV reader follows RFC 4180 as the IEEE writes it: fields may be
 * double-quoted, a quoted field may hold commas, "" and line breaks.
 */
#include "oui.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { C36, C28, C24, C__COUNT }; /* prefix classes, longest first */

static const uint8_t class_bits[C__COUNT] = {36, 28, 24};

static const struct {
	const char *name;
	size_t digits; /* hex digits of Assignment */
	int cls;
} registries[] = {
    {"MA-L", 6, C24},
    {"MA-M", 7, C28},
    {"MA-S", 9, C36},
    {"IAB", 9, C36},
};
#define N_REGISTRIES (sizeof(registries) / sizeof(registries[0]))

/*
 * A prefix as the first 36 bits of the address: hi holds octets 0..3, lo
 * the high nibble of octet 4. Shorter prefixes have the rest zero.
 */
struct rec {
	uint32_t hi;
	uint32_t org; /* offset in the pool */
	uint8_t lo;
	uint8_t reg; /* index in registries[] */
};

struct table {
	struct rec *v;
	size_t n, cap;
};

struct oui_db {
	struct table t[C__COUNT];
	char *pool; /* NUL-terminated names back to back */
	size_t pool_len, pool_cap;
	uint32_t *slots; /* name hash set: pool offset + 1, 0 = free */
	size_t n_slots, n_names;
};

struct oui_db *oui_db_new(void)
{
	return calloc(1, sizeof(struct oui_db));
}

void oui_db_free(struct oui_db *db)
{
	if (!db)
		return;
	for (int c = 0; c < C__COUNT; c++)
		free(db->t[c].v);
	free(db->pool);
	free(db->slots);
	free(db);
}

size_t oui_db_count(const struct oui_db *db)
{
	size_t n = 0;
	for (int c = 0; c < C__COUNT; c++)
		n += db->t[c].n;
	return n;
}

/* ---- the name pool ---- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int rehash(struct oui_db *db)
{
	size_t n = db->n_slots ? db->n_slots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < db->n_slots; i++) {
		uint32_t v = db->slots[i];
		if (!v)
			continue;
		size_t j = hash_str(db->pool + v - 1) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = v;
	}
	free(db->slots);
	db->slots = s;
	db->n_slots = n;
	return 0;
}

/*
 * Store the field f (n bytes; quoted: with "" for each quote) as a name,
 * blanks trimmed, once per distinct name. Returns 0 and *off, 1 for an
 * empty name, -1 on ENOMEM.
 */
static int intern(struct oui_db *db, const char *f, size_t n, bool quoted, uint32_t *off)
{
	if (db->pool_len + n + 1 > db->pool_cap) {
		size_t cap = db->pool_cap ? db->pool_cap : 4096;
		while (cap < db->pool_len + n + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -1;
		char *p = realloc(db->pool, cap);
		if (!p)
			return -1;
		db->pool = p;
		db->pool_cap = cap;
	}
	char *dst = db->pool + db->pool_len;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (quoted && f[i] == '"')
			i++; /* "" is one quote */
		dst[k++] = f[i];
	}
	while (k && (dst[k - 1] == ' ' || dst[k - 1] == '\t' || dst[k - 1] == '\r' ||
		     dst[k - 1] == '\n'))
		k--;
	size_t skip = 0;
	while (skip < k && (dst[skip] == ' ' || dst[skip] == '\t'))
		skip++;
	memmove(dst, dst + skip, k - skip);
	k -= skip;
	dst[k] = '\0';
	if (k == 0 || memchr(dst, '\0', k))
		return 1;

	if ((db->n_names + 1) * 2 > db->n_slots && rehash(db) < 0)
		return -1;
	size_t mask = db->n_slots - 1;
	size_t j = hash_str(dst) & mask;
	for (; db->slots[j]; j = (j + 1) & mask) {
		if (strcmp(db->pool + db->slots[j] - 1, dst) == 0) {
			*off = db->slots[j] - 1; /* known name: the copy is dropped */
			return 0;
		}
	}
	*off = (uint32_t)db->pool_len;
	db->slots[j] = *off + 1;
	db->n_names++;
	db->pool_len += k + 1;
	return 0;
}

/* ---- CSV ---- */

struct field {
	const char *s;
	size_t n;
	bool quoted;
};

#define MAX_FIELDS 4

/* A malformed record: go on at the next line. Returns -1. */
static int bad_record(const char *text, size_t len, size_t *pos)
{
	const char *nl = memchr(text + *pos, '\n', len - *pos);
	*pos = nl ? (size_t)(nl - text) + 1 : len;
	return -1;
}

/*
 * Read one record at text[*pos]. Fields past MAX_FIELDS count but are not
 * kept. Returns the number of fields, or -1 for a malformed record (a quote
 * that never closes, text after a closing quote); then *pos is the start of
 * the next line, so one bad line costs one record.
 */
static int csv_record(const char *text, size_t len, size_t *pos, struct field *f)
{
	size_t i = *pos;
	int nf = 0;
	for (;;) {
		struct field cur = {text + i, 0, false};
		if (i < len && text[i] == '"') {
			cur.quoted = true;
			cur.s = text + ++i;
			for (;;) {
				if (i >= len)
					return bad_record(text, len, pos);
				if (text[i] == '"') {
					if (i + 1 < len && text[i + 1] == '"') {
						i += 2;
						continue;
					}
					break;
				}
				i++;
			}
			cur.n = (size_t)(text + i - cur.s);
			i++; /* closing quote */
			if (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
				return bad_record(text, len, pos);
		} else {
			while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '"')
				i++;
			if (i < len && text[i] == '"')
				return bad_record(text, len, pos);
			cur.n = (size_t)(text + i - cur.s);
		}
		if (nf < MAX_FIELDS)
			f[nf] = cur;
		nf++;
		if (i < len && text[i] == ',') {
			i++;
			continue;
		}
		if (i < len && text[i] == '\r')
			i++;
		if (i < len && text[i] == '\n')
			i++;
		else if (i < len)
			return bad_record(text, len, pos); /* a lone \r */
		*pos = i;
		return nf;
	}
}

static bool field_is(const struct field *f, const char *s)
{
	return f->n == strlen(s) && strncasecmp(f->s, s, f->n) == 0;
}

/* Registry and Assignment as a record (org not set). false if not valid. */
static bool parse_key(const struct field *reg, const struct field *asg, struct rec *r, int *cls)
{
	size_t ri;
	for (ri = 0; ri < N_REGISTRIES; ri++)
		if (field_is(reg, registries[ri].name))
			break;
	if (ri == N_REGISTRIES || asg->n != registries[ri].digits)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < asg->n; i++) {
		int h = hex_digit(asg->s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint64_t)h;
	}
	v <<= 4 * (9 - asg->n); /* as a 36-bit prefix */
	r->hi = (uint32_t)(v >> 4);
	r->lo = (uint8_t)(v & 0xf);
	r->reg = (uint8_t)ri;
	*cls = registries[ri].cls;
	return true;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->org != y->org)
		return x->org < y->org ? -1 : 1;
	return 0;
}

/* Sort every table and drop repeated prefixes (the lowest name offset stays). */
static void settle(struct oui_db *db)
{
	for (int c = 0; c < C__COUNT; c++) {
		struct table *t = &db->t[c];
		if (t->n < 2)
			continue;
		qsort(t->v, t->n, sizeof(*t->v), rec_cmp);
		size_t k = 1;
		for (size_t i = 1; i < t->n; i++)
			if (t->v[i].hi != t->v[k - 1].hi || t->v[i].lo != t->v[k - 1].lo)
				t->v[k++] = t->v[i];
		t->n = k;
	}
}

static int push(struct table *t, const struct rec *r)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct rec *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *r;
	return 0;
}

long oui_db_add_csv(struct oui_db *db, const char *text, size_t len, size_t *skipped)
{
	size_t before = oui_db_count(db), bad = 0, pos = 0;
	bool oom = false;
	while (pos < len && !oom) {
		struct field f[MAX_FIELDS];
		size_t start = pos;
		int nf = csv_record(text, len, &pos, f);
		if (nf == 1 && f[0].n == 0 && !f[0].quoted)
			continue; /* blank line */
		if (nf >= 1 && start == 0 && field_is(&f[0], "Registry"))
			continue; /* the header */
		struct rec r;
		int cls;
		if (nf < 3 || nf > MAX_FIELDS || !parse_key(&f[0], &f[1], &r, &cls)) {
			bad++;
			continue;
		}
		int rc = intern(db, f[2].s, f[2].n, f[2].quoted, &r.org);
		if (rc == 1) {
			bad++; /* no organization name */
			continue;
		}
		if (rc < 0 || push(&db->t[cls], &r) < 0)
			oom = true;
	}
	settle(db);
	if (skipped)
		*skipped = bad;
	if (oom) {
		errno = ENOMEM;
		return -1;
	}
	return (long)(oui_db_count(db) - before);
}

static const struct rec *find(const struct table *t, uint32_t hi, uint8_t lo)
{
	size_t a = 0, b = t->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct rec *r = &t->v[m];
		if (r->hi == hi && r->lo == lo)
			return r;
		if (r->hi < hi || (r->hi == hi && r->lo < lo))
			a = m + 1;
		else
			b = m;
	}
	return NULL;
}

int oui_lookup(const struct oui_db *db, const struct mac *m, struct oui_match *out)
{
	uint32_t hi =
	    (uint32_t)m->a[0] << 24 | (uint32_t)m->a[1] << 16 | (uint32_t)m->a[2] << 8 | m->a[3];
	uint8_t lo = m->a[4] >> 4;
	const struct {
		uint32_t hi;
		uint8_t lo;
	} keys[C__COUNT] = {
	    [C36] = {hi, lo},
	    [C28] = {hi & 0xfffffff0u, 0},
	    [C24] = {hi & 0xffffff00u, 0},
	};
	for (int c = 0; c < C__COUNT; c++) {
		const struct rec *r = find(&db->t[c], keys[c].hi, keys[c].lo);
		if (r) {
			out->org = db->pool + r->org;
			out->registry = registries[r->reg].name;
			out->bits = class_bits[c];
			return 0;
		}
	}
	return -1;
}
