/*
 * conf_value: the value checks and typed parsers the sections share (see
 * conf.h): numbers, durations, words, names, paths and address lists. Each
 * message starts with the key's name, as written in the key table.
 */
#include "conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"

/* ---- value checks ---- */

bool conf_valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n >= CONF_IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-'))
			return false;
	}
	return true;
}

const char *conf_ip_refusal(uint32_t ip)
{
	if (ip == 0)
		return "the unspecified address";
	if (ip == 0xffffffffu)
		return "the broadcast address";
	if ((ip >> 24) == 127)
		return "a loopback address";
	if ((ip >> 28) == 0xe)
		return "a multicast address";
	return NULL;
}

const char *conf_edge_address(const struct ip4_prefix *a)
{
	if (a->len > 30)
		return NULL;
	uint32_t mask = ip4_mask(a->len);
	if ((a->addr & ~mask) == 0)
		return "the network address";
	if ((a->addr & ~mask) == ~mask)
		return "the broadcast address";
	return NULL;
}

int conf_word_index(const char *const *words, const char *v)
{
	for (int i = 0; words[i]; i++)
		if (strcasecmp(words[i], v) == 0)
			return i;
	return -1;
}

/* "A, B, C" */
static void join(const char *const *words, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; words[i] && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", words[i]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

int conf_bad_word(struct conf_parser *p, const char *key, const char *const *words, const char *v)
{
	char list[256];
	join(words, list, sizeof(list));
	return conf_fail(p, p->line, "%s: expected one of %s, got \"%s\"", key, list, v);
}

int conf_next_word(struct conf_words *c, const char **w, size_t *n)
{
	while (*c->s == ' ' || *c->s == '\t')
		c->s++;
	if (*c->s == ',')
		return -1;
	if (!*c->s)
		return c->comma ? -1 : 0;
	*w = c->s;
	*n = strcspn(c->s, " \t,");
	c->s += *n;
	while (*c->s == ' ' || *c->s == '\t')
		c->s++;
	c->comma = *c->s == ',';
	if (c->comma)
		c->s++;
	return 1;
}

int conf_empty_item(struct conf_parser *p, const char *key, const char *v)
{
	return conf_fail(p, p->line,
			 "%s: \"%s\" has an empty element (two commas, or a comma at an end); "
			 "expected words separated by spaces or commas",
			 key, v);
}

void *conf_field(void *obj, const struct conf_key *k)
{
	return (char *)obj + k->off;
}

/* v into the unsigned field of k: 1, 2 or 4 bytes (an int holds a value up to INT_MAX alike). */
static void store(void *obj, const struct conf_key *k, uint32_t v)
{
	uint8_t b = (uint8_t)v;
	uint16_t h = (uint16_t)v;
	void *f = conf_field(obj, k);
	switch (k->size) {
	case 1:
		memcpy(f, &b, 1);
		break;
	case 2:
		memcpy(f, &h, 2);
		break;
	case 4:
		memcpy(f, &v, 4);
		break;
	}
}

/* The unsigned field of k (1, 2 or 4 bytes). */
static uint32_t load(void *obj, const struct conf_key *k)
{
	uint8_t b;
	uint16_t h;
	uint32_t v = 0;
	const void *f = conf_field(obj, k);
	switch (k->size) {
	case 1:
		memcpy(&b, f, 1);
		return b;
	case 2:
		memcpy(&h, f, 2);
		return h;
	case 4:
		memcpy(&v, f, 4);
		break;
	}
	return v;
}

/* ---- typed parsers ---- */

int config_duration(const char *s, uint32_t *ms)
{
	/* digits, an optional fraction, then the unit */
	unsigned long long whole = 0, frac = 0, scale = 1;
	const char *q = s;
	if (strcmp(s, "0") == 0) {
		*ms = 0; /* zero needs no unit */
		return 0;
	}
	if (*q < '0' || *q > '9')
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		whole = whole * 10 + (unsigned)(*q - '0');
		if (whole > 100000000ull)
			return -1;
	}
	if (*q == '.') {
		q++;
		if (*q < '0' || *q > '9')
			return -1;
		for (; *q >= '0' && *q <= '9'; q++) {
			if (scale < 1000000) {
				frac = frac * 10 + (unsigned)(*q - '0');
				scale *= 10;
			}
		}
	}
	unsigned long long unit;
	if (strcmp(q, "ms") == 0) {
		if (frac)
			return -1; /* no fractions of a millisecond */
		unit = 1;
	} else if (strcmp(q, "s") == 0) {
		unit = 1000;
	} else if (strcmp(q, "m") == 0 || strcmp(q, "min") == 0) {
		unit = 60000;
	} else if (strcmp(q, "h") == 0) {
		unit = 3600000;
	} else {
		return -1;
	}
	unsigned long long v = whole * unit + frac * unit / scale;
	if (v > UINT32_MAX)
		return -1;
	*ms = (uint32_t)v;
	return 0;
}

int conf_uint(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	char *end = NULL;
	if (*v < '0' || *v > '9')
		goto bad;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || n < k->min || n > k->max)
		goto bad;
	store(obj, k, (uint32_t)n);
	return 0;
bad:
	return conf_fail(p, p->line, "%s: expected a whole number from %llu to %llu, got \"%s\"",
			 k->name, (unsigned long long)k->min, (unsigned long long)k->max, v);
}

/* ms as the messages write a bound: "1h", "60s", "100ms" */
static void bound(uint32_t ms, char *buf, size_t len)
{
	if (ms && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu32 "h", ms / 3600000);
	else if (ms && ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu32 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu32 "ms", ms);
}

int conf_duration(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	uint32_t ms;
	if (config_duration(v, &ms) == 0 &&
	    ((ms >= k->min && ms <= k->max) || (ms == 0 && (k->flags & CONF_OFF)))) {
		store(obj, k, ms);
		return 0;
	}
	char lo[16], hi[16], range[64];
	bound(k->min, lo, sizeof(lo));
	bound(k->max, hi, sizeof(hi));
	if (k->min)
		snprintf(range, sizeof(range), "a duration from %s to %s", lo, hi);
	else
		snprintf(range, sizeof(range), "a duration up to %s", hi);
	return conf_fail(p, p->line, "%s: expected %s%s, such as %s, got \"%s\"", k->name,
			 k->flags & CONF_OFF ? "0 (off) or " : "", range, (const char *)k->arg, v);
}

int conf_bool(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	static const char *const yes_no[] = {"yes", "no", NULL};
	int i = conf_word_index(yes_no, v);
	if (i < 0)
		return conf_bad_word(p, k->name, yes_no, v);
	bool b = i == 0;
	memcpy(conf_field(obj, k), &b, sizeof(b));
	return 0;
}

int conf_enum(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	const struct conf_enum_arg *e = k->arg;
	int i = conf_word_index(e->words, v);
	if (i < 0)
		return conf_bad_word(p, k->name, e->words, v);
	store(obj, k, e->values ? e->values[i] : (uint32_t)i);
	return 0;
}

int conf_flags(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	const struct conf_flags_arg *f = k->arg;
	if (p->key_line == p->line)
		store(obj, k, 0); /* the first line replaces the default */
	uint32_t bits = load(obj, k);
	struct conf_words s = {v, false};
	const char *w;
	size_t len;
	int i, r;
	char list[256];
	join(f->words, list, sizeof(list));
	while ((r = conf_next_word(&s, &w, &len)) > 0) {
		char word[32] = "";
		if (len < sizeof(word))
			memcpy(word, w, len);
		if ((i = conf_word_index(f->words, word)) < 0)
			return conf_fail(p, p->line, "%s: \"%.*s\" is not %s; expected some of %s",
					 k->name, (int)len, w, f->what, list);
		if (bits & (1u << i))
			return conf_fail(p, p->line, "%s: %s is listed twice", k->name,
					 f->words[i]);
		bits |= 1u << i;
		store(obj, k, bits); /* word by word: a later line goes on from here */
	}
	if (r < 0)
		return conf_empty_item(p, k->name, v);
	if (!bits)
		return conf_fail(p, p->line, "%s: expected some of %s", k->name, list);
	return 0;
}

int conf_ifname(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	if (!conf_valid_ifname(v))
		return conf_fail(p, p->line, "%s: expected %s, got \"%s\"", k->name,
				 (const char *)k->arg, v);
	snprintf(conf_field(obj, k), k->size, "%s", v);
	return 0;
}

int conf_path(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	if (v[0] != '/')
		return conf_fail(p, p->line,
				 "%s: expected an absolute path (starting with /), got \"%s\"",
				 k->name, v);
	if (strlen(v) >= k->size)
		return conf_fail(p, p->line, "%s: the path is longer than %zu bytes", k->name,
				 k->size - 1);
	snprintf(conf_field(obj, k), k->size, "%s", v);
	return 0;
}

int conf_command(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	char words[CONF_COMMAND_MAX], why[256];
	char *wv[CONF_NOTIFY_ARGS + 1];
	if (strlen(v) >= k->size || strlen(v) >= sizeof(words))
		return conf_fail(p, p->line, "%s: the command is longer than %zu bytes", k->name,
				 k->size - 1);
	int nw = argv_split(v, words, sizeof(words), wv, CONF_NOTIFY_ARGS, why, sizeof(why));
	if (nw < 0)
		return conf_fail(p, p->line, "%s: %s", k->name, why);
	if (nw == 0 || wv[0][0] != '/')
		return conf_fail(p, p->line,
				 "%s: expected an absolute path (starting with /), got \"%s\"",
				 k->name, v);
	snprintf(conf_field(obj, k), k->size, "%s", v);
	return 0;
}

int conf_mac(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct mac m;
	if (mac_parse(v, &m) < 0)
		return conf_fail(p, p->line,
				 "%s: expected a MAC address such as 02-86-f6-c5-a2-14 or "
				 "02:86:f6:c5:a2:14, got \"%s\"",
				 k->name, v);
	const char *why = mac_is_broadcast(&m)	 ? "the broadcast address"
			  : mac_is_multicast(&m) ? "a multicast (group) address"
			  : mac_is_zero(&m)	 ? "the zero address"
						 : NULL;
	if (why)
		return conf_fail(p, p->line, "%s: %s is %s; expected a unicast MAC", k->name, v,
				 why);
	memcpy(conf_field(obj, k), &m, sizeof(m));
	return 0;
}

int conf_addr_list(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	uint32_t *out = conf_field(obj, k);
	size_t *n_out = (size_t *)((char *)obj + k->count_off);
	size_t cap = k->size / sizeof(*out), n, before = *n_out;
	struct conf_words s = {v, false};
	const char *w;
	int r;
	while ((r = conf_next_word(&s, &w, &n)) > 0) {
		char word[IP4_STRLEN] = "";
		uint32_t ip;
		if (n < sizeof(word))
			memcpy(word, w, n);
		const char *why = NULL;
		if (n >= sizeof(word) || ip4_parse(word, &ip) < 0 || (why = conf_ip_refusal(ip)))
			return conf_fail(
			    p, p->line,
			    "%s: \"%.*s\" is %s; expected %s, separated by spaces or commas",
			    k->name, (int)n, w, why ? why : "not an IPv4 address",
			    (const char *)k->arg);
		for (size_t i = 0; i < *n_out; i++)
			if (out[i] == ip)
				return conf_fail(p, p->line, "%s: %s is listed twice", k->name,
						 word);
		if (*n_out == cap)
			return conf_fail(p, p->line, "%s: more than %zu addresses", k->name, cap);
		out[(*n_out)++] = ip;
	}
	if (r < 0)
		return conf_empty_item(p, k->name, v);
	if (*n_out == before)
		return conf_fail(p, p->line, "%s: expected at least one IPv4 address", k->name);
	return 0;
}
