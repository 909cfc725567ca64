/*
 * devtype: the rule table and its matcher (the contract is in devtype.h).
 *
 * A rule is one struct with its strings in one block of its own. Rules
 * with prl= hang in a hash table by their list, rules with vendor= (and
 * no prl=) in another by their vendor class; the rest, few in any real
 * table, are scanned. A text is parsed into new rules at the end of the
 * array and the index is rebuilt only when the whole text was good, so a
 * bad text leaves the table as it was.
 */
#include "devtype.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX /* end of a bucket's chain */

enum {
	K_PRL,	    /* prl= */
	K_PRLPRE,   /* prl^= */
	K_VENDOR,   /* vendor= */
	K_VENDPRE,  /* vendor^= */
	K_VENDGLOB, /* vendor~= */
	K_HOST,	    /* host~= */
	K_OUI,	    /* oui~= */
	K_MAC,	    /* mac^= */
	K__COUNT
};

static const struct {
	const char *name;
	uint8_t weight; /* strength of the evidence, for ties of conf */
} match_keys[K__COUNT] = {
    [K_PRL] = {"prl=", 8},	   [K_PRLPRE] = {"prl^=", 4},	   [K_VENDOR] = {"vendor=", 6},
    [K_VENDPRE] = {"vendor^=", 4}, [K_VENDGLOB] = {"vendor~=", 3}, [K_HOST] = {"host~=", 3},
    [K_OUI] = {"oui~=", 1},	   [K_MAC] = {"mac^=", 2},
};
#define MATCH_KEYS "prl=, prl^=, vendor=, vendor^=, vendor~=, host~=, oui~=, mac^="

enum { R_TYPE, R_OS, R_BRAND, R_CONF, R__COUNT };

static const char *const result_keys[R__COUNT] = {"type=", "os=", "brand=", "conf="};
#define RESULT_KEYS "type=, os=, brand=, conf="

static const char *const type_names[DEVTYPE__COUNT] = {
    [DEVTYPE_UNKNOWN] = "unknown", [DEVTYPE_COMPUTER] = "computer", [DEVTYPE_SERVER] = "server",
    [DEVTYPE_PHONE] = "phone",	   [DEVTYPE_TABLET] = "tablet",	    [DEVTYPE_PRINTER] = "printer",
    [DEVTYPE_NETWORK] = "network", [DEVTYPE_IOT] = "iot",	    [DEVTYPE_CAMERA] = "camera",
    [DEVTYPE_VM] = "vm",	   [DEVTYPE_CONSOLE] = "console",   [DEVTYPE_TV] = "tv",
    [DEVTYPE_VOIP] = "voip",	   [DEVTYPE_WEARABLE] = "wearable",
};
#define TYPE_WORDS                                                                                 \
	"unknown, computer, server, phone, tablet, printer, network, iot, camera, vm, console, "   \
	"tv, voip, wearable"

struct rule {
	char *mem; /* the block that holds every string and list below */
	const uint8_t *prl, *pprl;
	const char *vendor, *vpre, *vglob, *host, *oui, *os, *brand;
	size_t vpre_len;
	uint32_t line;
	uint32_t next_prl, next_vendor; /* chains of the two hash tables */
	uint8_t prl_len, pprl_len;
	uint8_t mac[6], mac_len;
	uint8_t type, conf, weight;
};

struct devtype_db {
	struct rule *r;
	size_t n, cap;
	uint32_t *prl_heads, *vendor_heads; /* n_buckets each */
	size_t n_buckets;
	uint32_t *rest; /* rules in no hash table */
	size_t n_rest;
};

const char *devtype_type_name(enum devtype_type t)
{
	if ((unsigned)t >= DEVTYPE__COUNT)
		return type_names[DEVTYPE_UNKNOWN];
	return type_names[t];
}

int devtype_type_parse(const char *s, size_t n)
{
	for (int t = 0; t < DEVTYPE__COUNT; t++)
		if (strlen(type_names[t]) == n && memcmp(type_names[t], s, n) == 0)
			return t;
	return -1;
}

struct devtype_db *devtype_db_new(void)
{
	return calloc(1, sizeof(struct devtype_db));
}

static void drop_rules(struct devtype_db *db, size_t keep)
{
	for (size_t i = keep; i < db->n; i++)
		free(db->r[i].mem);
	db->n = keep;
}

void devtype_db_free(struct devtype_db *db)
{
	if (!db)
		return;
	drop_rules(db, 0);
	free(db->r);
	free(db->prl_heads);
	free(db->vendor_heads);
	free(db->rest);
	free(db);
}

size_t devtype_db_count(const struct devtype_db *db)
{
	return db->n;
}

/* ---- bytes and strings ---- */

static uint32_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s hold needle (n bytes), ASCII case ignored? */
static bool contains_nocase(const char *s, const char *needle, size_t n)
{
	size_t len = strlen(s);
	for (size_t i = 0; i + n <= len; i++) {
		size_t k = 0;
		while (k < n && lower(s[i + k]) == lower(needle[k]))
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/*
 * Glob with * and ?, ASCII case ignored. One way back (to the last star)
 * is enough for this language, so the cost is at most len(p) * len(s).
 */
static bool glob_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
			continue;
		}
		if (*p && (*p == '?' || lower(*p) == lower(*s))) {
			p++;
			s++;
			continue;
		}
		if (!star)
			return false;
		p = star;
		s = ++resume;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* ---- errors ---- */

struct perr {
	uint32_t line;
	char msg[256];
};

struct parse {
	struct perr errs[DEVTYPE_MAX_ERRORS];
	size_t n_errs, more;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parse *p, uint32_t line,
						      const char *fmt, ...)
{
	if (p->n_errs == DEVTYPE_MAX_ERRORS) {
		p->more++;
		return -1;
	}
	struct perr *e = &p->errs[p->n_errs++];
	e->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * s (n bytes) as a message may show it: at most max bytes, every byte that
 * is not printable ASCII as \xNN, "..." when cut.
 */
static const char *show_max(const char *s, size_t n, size_t max, char *buf, size_t len)
{
	size_t o = 0, i = 0;
	for (; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 5 > len)
			break;
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	if (i < n && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* A value in a message: at most 40 bytes of it. */
static const char *show(const char *s, size_t n, char *buf, size_t len)
{
	return show_max(s, n, 40, buf, len);
}

/* The messages into err, one a line; what does not fit is left out. */
static void write_errors(const struct parse *p, const char *name, char *err, size_t errlen)
{
	if (!err || !errlen)
		return;
	char nm[200];
	show_max(name, strlen(name), 150, nm, sizeof(nm)); /* a path: CONF_PATH_MAX */
	err[0] = '\0';
	size_t off = 0;
	for (size_t i = 0; i <= p->n_errs; i++) {
		char line[512];
		int n;
		if (i < p->n_errs)
			n = snprintf(line, sizeof(line), "%s:%u: %s", nm, (unsigned)p->errs[i].line,
				     p->errs[i].msg);
		else if (p->more)
			n = snprintf(line, sizeof(line), "%s: %zu more errors not shown", nm,
				     p->more);
		else
			break;
		if (n < 0)
			break;
		size_t need = (size_t)n + (off ? 1 : 0);
		if (off + need >= errlen)
			break;
		if (off)
			err[off++] = '\n';
		memcpy(err + off, line, (size_t)n + 1);
		off += (size_t)n;
	}
}

/* ---- one line ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A key at l[i]: lowercase letters, an optional ^ or ~, then =. Its length or 0. */
static size_t key_form(const char *l, size_t n, size_t i)
{
	size_t k = i;
	while (k < n && l[k] >= 'a' && l[k] <= 'z')
		k++;
	if (k == i)
		return 0;
	if (k < n && (l[k] == '^' || l[k] == '~'))
		k++;
	if (k < n && l[k] == '=')
		return k + 1 - i;
	return 0;
}

static bool arrow(const char *l, size_t n, size_t i)
{
	return i + 1 < n && l[i] == '=' && l[i + 1] == '>' && (i + 2 == n || blank(l[i + 2]));
}

/* Does a word at l[i] end a value: a key, "=>" or a comment? */
static bool stops_value(const char *l, size_t n, size_t i)
{
	return i == n || l[i] == '#' || arrow(l, n, i) || key_form(l, n, i) > 0;
}

struct span {
	const char *s;
	size_t n;
};

/* What one line says, before it is stored. */
struct draft {
	bool have[K__COUNT], have_res[R__COUNT];
	uint8_t prl[DEVTYPE_PRL_MAX], pprl[DEVTYPE_PRL_MAX];
	size_t prl_len, pprl_len;
	struct span vendor, vpre, vglob, host, oui, os, brand;
	uint8_t mac[6], mac_len;
	int type, conf;
};

/* "1,3,6" into codes; -1 if not a list of 1 to DEVTYPE_PRL_MAX codes 1-254. */
static int parse_prl(struct span v, uint8_t *codes, size_t *count)
{
	size_t i = 0, k = 0;
	for (;;) {
		while (i < v.n && blank(v.s[i]))
			i++;
		unsigned x = 0, digits = 0;
		while (i < v.n && v.s[i] >= '0' && v.s[i] <= '9' && digits < 4) {
			x = x * 10 + (unsigned)(v.s[i++] - '0');
			digits++;
		}
		if (!digits || x < 1 || x > 254 || k == DEVTYPE_PRL_MAX)
			return -1;
		codes[k++] = (uint8_t)x;
		while (i < v.n && blank(v.s[i]))
			i++;
		if (i == v.n)
			break;
		if (v.s[i++] != ',')
			return -1;
	}
	*count = k;
	return 0;
}

/* "52:54:00" into bytes; -1 if not 1 to 6 hex bytes separated by : or -. */
static int parse_mac(struct span v, uint8_t *mac, uint8_t *count)
{
	size_t i = 0;
	uint8_t k = 0;
	for (;;) {
		int h[2];
		for (int j = 0; j < 2; j++) {
			char c = i < v.n ? lower(v.s[i]) : '\0';
			h[j] = c >= '0' && c <= '9'   ? c - '0'
			       : c >= 'a' && c <= 'f' ? c - 'a' + 10
						      : -1;
			if (h[j] < 0 || k == 6)
				return -1;
			i++;
		}
		mac[k++] = (uint8_t)(h[0] << 4 | h[1]);
		if (i == v.n)
			break;
		if (v.s[i] != ':' && v.s[i] != '-')
			return -1;
		i++;
	}
	*count = k;
	return 0;
}

/* conf: a whole number 0 to 100, -1 if not. */
static int parse_conf(struct span v)
{
	if (v.n == 0 || v.n > 3)
		return -1;
	int x = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < '0' || v.s[i] > '9')
			return -1;
		x = x * 10 + (v.s[i] - '0');
	}
	return x <= 100 ? x : -1;
}

static int find_key(const char *const *names, size_t count, const char *s, size_t n)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return (int)i;
	return -1;
}

static int find_match_key(const char *s, size_t n)
{
	for (int i = 0; i < K__COUNT; i++)
		if (strlen(match_keys[i].name) == n && memcmp(match_keys[i].name, s, n) == 0)
			return i;
	return -1;
}

/*
 * The value that starts at l[*i] into *v, *i past it. Unquoted, it runs to
 * the word before the next key, "=>" or comment. 0, or -1 recorded.
 */
static int read_value(struct parse *p, uint32_t ln, const char *l, size_t n, size_t *i,
		      const char *key, struct span *v)
{
	char buf[200];
	size_t k = *i;
	if (k < n && l[k] == '"') {
		const char *q = memchr(l + k + 1, '"', n - k - 1);
		if (!q)
			return fail(p, ln, "%s: the quote is not closed, expected \"VALUE\"", key);
		v->s = l + k + 1;
		v->n = (size_t)(q - v->s);
		k = (size_t)(q - l) + 1;
		if (k < n && !blank(l[k])) {
			size_t w = k;
			while (w < n && !blank(l[w]))
				w++;
			return fail(p, ln,
				    "%s: expected a blank after the closing quote, got \"%s\"", key,
				    show(l + k, w - k, buf, sizeof(buf)));
		}
	} else {
		size_t end = k;
		while (k < n && !blank(l[k])) {
			while (k < n && !blank(l[k]))
				k++;
			end = k;
			while (k < n && blank(l[k]))
				k++;
			if (stops_value(l, n, k))
				break;
		}
		v->s = l + *i;
		v->n = end - *i;
		k = end;
	}
	if (v->n == 0)
		return fail(p, ln, "%s: the value is empty, expected %s right after the =", key,
			    "a value");
	if (v->n > DEVTYPE_VALUE_MAX)
		return fail(p, ln, "%s: the value is %zu bytes long, expected at most %d", key,
			    v->n, DEVTYPE_VALUE_MAX);
	*i = k;
	return 0;
}

static int match_value(struct parse *p, uint32_t ln, struct draft *d, int key, struct span v)
{
	char buf[200];
	const char *name = match_keys[key].name;
	switch (key) {
	case K_PRL:
	case K_PRLPRE:
		if (parse_prl(v, key == K_PRL ? d->prl : d->pprl,
			      key == K_PRL ? &d->prl_len : &d->pprl_len) < 0)
			return fail(p, ln,
				    "%s: expected 1 to %d option codes 1-254 separated by commas, "
				    "got \"%s\"",
				    name, DEVTYPE_PRL_MAX, show(v.s, v.n, buf, sizeof(buf)));
		return 0;
	case K_MAC:
		if (parse_mac(v, d->mac, &d->mac_len) < 0)
			return fail(p, ln,
				    "%s: expected 1 to 6 bytes in hex separated by colons (as "
				    "52:54:00), got \"%s\"",
				    name, show(v.s, v.n, buf, sizeof(buf)));
		return 0;
	case K_VENDOR:
		d->vendor = v;
		return 0;
	case K_VENDPRE:
		d->vpre = v;
		return 0;
	case K_VENDGLOB:
		d->vglob = v;
		return 0;
	case K_HOST:
		d->host = v;
		return 0;
	default:
		d->oui = v;
		return 0;
	}
}

static int result_value(struct parse *p, uint32_t ln, struct draft *d, int key, struct span v)
{
	char buf[200];
	switch (key) {
	case R_TYPE:
		d->type = devtype_type_parse(v.s, v.n);
		if (d->type < 0)
			return fail(p, ln, "type=: expected one of %s, got \"%s\"", TYPE_WORDS,
				    show(v.s, v.n, buf, sizeof(buf)));
		return 0;
	case R_CONF:
		d->conf = parse_conf(v);
		if (d->conf < 0)
			return fail(p, ln, "conf=: expected a whole number 0 to 100, got \"%s\"",
				    show(v.s, v.n, buf, sizeof(buf)));
		return 0;
	default:
		if (v.n >= DEVTYPE_NAME_MAX)
			return fail(p, ln, "%s: the value is %zu bytes long, expected at most %d",
				    result_keys[key], v.n, DEVTYPE_NAME_MAX - 1);
		if (key == R_OS)
			d->os = v;
		else
			d->brand = v;
		return 0;
	}
}

/*
 * One line into *d. 1 for a blank or comment line, 0 for a rule, -1 for an
 * error (recorded).
 */
static int parse_line(struct parse *p, uint32_t ln, const char *l, size_t n, struct draft *d)
{
	char buf[200];
	size_t i = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)l[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, ln, "a control byte 0x%02x, expected text", c);
	}
	while (i < n && blank(l[i]))
		i++;
	if (i == n || l[i] == '#')
		return 1;
	if (n - i < 5 || memcmp(l + i, "match", 5) != 0 || (n - i > 5 && !blank(l[i + 5]))) {
		size_t w = i;
		while (w < n && !blank(l[w]))
			w++;
		return fail(p, ln,
			    "expected a rule \"match KEY=VALUE ... => RESULT=VALUE ...\", "
			    "got \"%s\"",
			    show(l + i, w - i, buf, sizeof(buf)));
	}
	i += 5;
	memset(d, 0, sizeof(*d));
	d->conf = -1;
	bool results = false;
	size_t n_match = 0;
	for (;;) {
		while (i < n && blank(l[i]))
			i++;
		if (i == n || l[i] == '#')
			break;
		if (arrow(l, n, i)) {
			if (results)
				return fail(p, ln,
					    "a second \"=>\", expected one between the match "
					    "keys and the results");
			results = true;
			i += 2;
			continue;
		}
		size_t kl = key_form(l, n, i);
		size_t w = i;
		while (w < n && !blank(l[w]))
			w++;
		if (!kl)
			return fail(p, ln, "expected %s, got \"%s\"",
				    results ? "a result (" RESULT_KEYS ")"
					    : "a match key (" MATCH_KEYS ") or \"=>\"",
				    show(l + i, w - i, buf, sizeof(buf)));
		int mk = find_match_key(l + i, kl);
		int rk = find_key(result_keys, R__COUNT, l + i, kl);
		const char *kname = show(l + i, kl, buf, sizeof(buf));
		if (!results && mk < 0 && rk >= 0)
			return fail(p, ln, "%s is a result, expected it after \"=>\"", kname);
		if (results && rk < 0 && mk >= 0)
			return fail(p, ln, "%s is a match key, expected it before \"=>\"", kname);
		if (!results && mk < 0)
			return fail(p, ln, "unknown match key %s, expected one of %s", kname,
				    MATCH_KEYS);
		if (results && rk < 0)
			return fail(p, ln, "unknown result %s, expected one of %s", kname,
				    RESULT_KEYS);
		bool *seen = results ? &d->have_res[rk] : &d->have[mk];
		if (*seen)
			return fail(p, ln, "%s given twice, expected it once a rule", kname);
		*seen = true;
		char key[16];
		memcpy(key, l + i, kl);
		key[kl] = '\0';
		i += kl;
		struct span v = {NULL, 0};
		if (read_value(p, ln, l, n, &i, key, &v) < 0)
			return -1;
		if (results ? result_value(p, ln, d, rk, v) < 0 : match_value(p, ln, d, mk, v) < 0)
			return -1;
		if (!results)
			n_match++;
	}
	if (!n_match)
		return fail(p, ln, "a rule without match keys, expected at least one of %s",
			    MATCH_KEYS);
	if (!results)
		return fail(p, ln,
			    "no \"=>\", expected one between the match keys and the results");
	if (d->conf < 0)
		return fail(p, ln, "no conf=, expected conf=0 to conf=100 after \"=>\"");
	if (d->type <= DEVTYPE_UNKNOWN && !d->os.n && !d->brand.n)
		return fail(p, ln,
			    "a rule that names nothing, expected at least one of type= (not "
			    "unknown), os= or brand=");
	return 0;
}

/* ---- storing rules ---- */

static char *put(char **at, const struct span *v)
{
	if (!v->n)
		return NULL;
	char *s = *at;
	memcpy(s, v->s, v->n);
	s[v->n] = '\0';
	*at += v->n + 1;
	return s;
}

/* Append the rule of d. 0, or -1 on ENOMEM. */
static int store(struct devtype_db *db, uint32_t ln, const struct draft *d)
{
	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 64;
		if (cap >= NONE)
			return -1;
		struct rule *r = realloc(db->r, cap * sizeof(*r));
		if (!r)
			return -1;
		db->r = r;
		db->cap = cap;
	}
	const struct span *strs[] = {&d->vendor, &d->vpre, &d->vglob, &d->host,
				     &d->oui,	 &d->os,   &d->brand};
	size_t size = d->prl_len + d->pprl_len + 1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		size += strs[i]->n + 1;
	char *mem = malloc(size);
	if (!mem)
		return -1;
	struct rule *r = &db->r[db->n];
	memset(r, 0, sizeof(*r));
	r->mem = mem;
	char *at = mem;
	if (d->have[K_PRL]) {
		memcpy(at, d->prl, d->prl_len);
		r->prl = (const uint8_t *)at;
		r->prl_len = (uint8_t)d->prl_len;
		at += d->prl_len;
	}
	if (d->have[K_PRLPRE]) {
		memcpy(at, d->pprl, d->pprl_len);
		r->pprl = (const uint8_t *)at;
		r->pprl_len = (uint8_t)d->pprl_len;
		at += d->pprl_len;
	}
	r->vendor = put(&at, &d->vendor);
	r->vpre = put(&at, &d->vpre);
	r->vpre_len = d->vpre.n;
	r->vglob = put(&at, &d->vglob);
	r->host = put(&at, &d->host);
	r->oui = put(&at, &d->oui);
	r->os = put(&at, &d->os);
	r->brand = put(&at, &d->brand);
	memcpy(r->mac, d->mac, sizeof(r->mac));
	r->mac_len = d->have[K_MAC] ? d->mac_len : 0;
	r->line = ln;
	r->type = (uint8_t)(d->type > 0 ? d->type : DEVTYPE_UNKNOWN);
	r->conf = (uint8_t)d->conf;
	for (int k = 0; k < K__COUNT; k++)
		if (d->have[k])
			r->weight = (uint8_t)(r->weight + match_keys[k].weight);
	db->n++;
	return 0;
}

/* The hash tables and the list of the rest, anew for all rules. 0, or -1 on ENOMEM. */
static int reindex(struct devtype_db *db)
{
	size_t nb = 64;
	while (nb < db->n * 2)
		nb *= 2;
	uint32_t *ph = malloc(nb * sizeof(*ph));
	uint32_t *vh = malloc(nb * sizeof(*vh));
	uint32_t *rest = malloc((db->n ? db->n : 1) * sizeof(*rest));
	if (!ph || !vh || !rest) {
		free(ph);
		free(vh);
		free(rest);
		return -1;
	}
	memset(ph, 0xff, nb * sizeof(*ph));
	memset(vh, 0xff, nb * sizeof(*vh));
	size_t n_rest = 0;
	/* backwards, so that every chain runs in the table's order */
	for (size_t i = db->n; i-- > 0;) {
		struct rule *r = &db->r[i];
		r->next_prl = r->next_vendor = NONE;
		if (r->prl) {
			size_t b = fnv(r->prl, r->prl_len) & (nb - 1);
			r->next_prl = ph[b];
			ph[b] = (uint32_t)i;
		} else if (r->vendor) {
			size_t b = fnv(r->vendor, strlen(r->vendor)) & (nb - 1);
			r->next_vendor = vh[b];
			vh[b] = (uint32_t)i;
		}
	}
	for (size_t i = 0; i < db->n; i++)
		if (!db->r[i].prl && !db->r[i].vendor)
			rest[n_rest++] = (uint32_t)i;
	free(db->prl_heads);
	free(db->vendor_heads);
	free(db->rest);
	db->prl_heads = ph;
	db->vendor_heads = vh;
	db->rest = rest;
	db->n_rest = n_rest;
	db->n_buckets = nb;
	return 0;
}

long devtype_db_add_text(struct devtype_db *db, const char *name, const char *text, size_t len,
			 char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	struct parse *p = calloc(1, sizeof(*p));
	struct draft *d = malloc(sizeof(*d));
	if (!p || !d) {
		free(p);
		free(d);
		errno = ENOMEM;
		return -1;
	}
	size_t before = db->n, pos = 0;
	uint32_t ln = 0;
	bool oom = false;
	while (pos < len && !oom) {
		const char *l = text + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (ln < UINT32_MAX)
			ln++;
		if (n && l[n - 1] == '\r')
			n--;
		if (parse_line(p, ln, l, n, d) == 0 && !p->n_errs && store(db, ln, d) < 0)
			oom = true;
	}
	int rc = 0;
	if (oom || (!p->n_errs && reindex(db) < 0)) {
		errno = ENOMEM;
		rc = -1;
	} else if (p->n_errs) {
		write_errors(p, name ? name : "devtypes", err, errlen);
		errno = EINVAL;
		rc = -1;
	}
	free(p);
	free(d);
	if (rc < 0) {
		drop_rules(db, before);
		return -1;
	}
	return (long)(db->n - before);
}

/* ---- matching ---- */

static bool holds(const struct rule *r, const struct devtype_input *in)
{
	if (r->prl &&
	    (!in->prl || in->prl_len != r->prl_len || memcmp(in->prl, r->prl, r->prl_len) != 0))
		return false;
	if (r->pprl &&
	    (!in->prl || in->prl_len < r->pprl_len || memcmp(in->prl, r->pprl, r->pprl_len) != 0))
		return false;
	if (r->vendor && (!in->vendor || strcmp(in->vendor, r->vendor) != 0))
		return false;
	if (r->vpre && (!in->vendor || strnlen(in->vendor, r->vpre_len) < r->vpre_len ||
			memcmp(in->vendor, r->vpre, r->vpre_len) != 0))
		return false;
	if (r->vglob && (!in->vendor || !glob_match(r->vglob, in->vendor)))
		return false;
	if (r->host && (!in->host || !glob_match(r->host, in->host)))
		return false;
	if (r->oui && (!in->oui_org || !contains_nocase(in->oui_org, r->oui, strlen(r->oui))))
		return false;
	if (r->mac_len && (!in->mac || memcmp(in->mac, r->mac, r->mac_len) != 0))
		return false;
	return true;
}

/* The best candidates so far for one field. */
struct best {
	int conf, weight; /* -1: none yet */
	uint32_t line;
	bool split;		    /* type: the best disagreed */
	int type;		    /* for type */
	char val[DEVTYPE_NAME_MAX]; /* for os and brand */
};

/* Keep of a and b their common leading words, in a. */
static void common_words(char *a, const char *b)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	if ((a[i] == '\0' || a[i] == ' ') && (b[i] == '\0' || b[i] == ' ')) {
		a[i] = '\0';
		return;
	}
	while (i > 0 && a[i - 1] != ' ')
		i--;
	while (i > 0 && a[i - 1] == ' ')
		i--;
	a[i] = '\0';
}

/* Offer rule r's value (type t or string s) to field b. */
static void offer(struct best *b, const struct rule *r, int t, const char *s)
{
	if (r->conf > b->conf || (r->conf == b->conf && r->weight > b->weight)) {
		b->conf = r->conf;
		b->weight = r->weight;
		b->line = r->line;
		b->split = false;
		b->type = t;
		if (s) {
			size_t n = strnlen(s, DEVTYPE_NAME_MAX - 1);
			memcpy(b->val, s, n);
			b->val[n] = '\0';
		}
		return;
	}
	if (r->conf != b->conf || r->weight != b->weight)
		return;
	if (r->line < b->line)
		b->line = r->line;
	if (s)
		common_words(b->val, s);
	else if (t != b->type)
		b->split = true;
}

static void consider(const struct rule *r, const struct devtype_input *in, struct best *f)
{
	if (!holds(r, in))
		return;
	if (r->type != DEVTYPE_UNKNOWN)
		offer(&f[0], r, r->type, NULL);
	if (r->os)
		offer(&f[1], r, 0, r->os);
	if (r->brand)
		offer(&f[2], r, 0, r->brand);
}

int devtype_match(const struct devtype_db *db, const struct devtype_input *in,
		  struct devtype_result *out)
{
	memset(out, 0, sizeof(*out));
	out->type = DEVTYPE_UNKNOWN;
	struct best f[3];
	for (int i = 0; i < 3; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].conf = f[i].weight = -1;
	}
	if (db->n_buckets) {
		size_t mask = db->n_buckets - 1;
		if (in->prl && in->prl_len)
			for (uint32_t i = db->prl_heads[fnv(in->prl, in->prl_len) & mask];
			     i != NONE; i = db->r[i].next_prl)
				consider(&db->r[i], in, f);
		if (in->vendor)
			for (uint32_t i =
				 db->vendor_heads[fnv(in->vendor, strlen(in->vendor)) & mask];
			     i != NONE; i = db->r[i].next_vendor)
				consider(&db->r[i], in, f);
		for (size_t k = 0; k < db->n_rest; k++)
			consider(&db->r[db->rest[k]], in, f);
	}
	int best = -1;
	if (f[0].conf >= 0 && !f[0].split) {
		out->type = (enum devtype_type)f[0].type;
		out->type_line = f[0].line;
		best = f[0].conf;
		out->line = f[0].line;
	}
	if (f[1].conf >= 0 && f[1].val[0]) {
		memcpy(out->os, f[1].val, sizeof(out->os));
		out->os_line = f[1].line;
		if (f[1].conf > best) {
			best = f[1].conf;
			out->line = f[1].line;
		}
	}
	if (f[2].conf >= 0 && f[2].val[0]) {
		memcpy(out->brand, f[2].val, sizeof(out->brand));
		out->brand_line = f[2].line;
		if (f[2].conf > best) {
			best = f[2].conf;
			out->line = f[2].line;
		}
	}
	if (best < 0)
		return -1;
	out->confidence = (uint8_t)best;
	return 0;
}
