#include "os/prom.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One sample; its strings are its own. */
struct sample {
	char *family; /* the name of its # TYPE line ("_total" included) */
	char *help;
	char *labels; /* "{a=\"x\"}" or "" */
	char value[48];
	enum prom_type type; /* PROM_STATE as PROM_GAUGE */
	size_t seq;	     /* the order added: ties keep it */
};

struct prom {
	struct sample *s;
	size_t n, cap;
	bool oom;
};

struct prom *prom_new(void)
{
	return calloc(1, sizeof(struct prom));
}

static void sample_free(struct sample *s)
{
	free(s->family);
	free(s->help);
	free(s->labels);
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		sample_free(&p->s[i]);
	free(p->s);
	free(p);
}

/* The copy of b's text (NULL: out of memory). */
static char *take(struct sbuf *b)
{
	if (b->oom)
		return NULL;
	return strdup(b->s ? b->s : "");
}

/* s as a name: [a-zA-Z0-9_] only, the others as '_' (a leading digit too). */
static void put_name(struct sbuf *b, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (c >= '0' && c <= '9' && (b->len || k));
		sbuf_add(b, ok ? &c : "_", 1);
	}
}

/* A label value or a HELP text, escaped (quote: '"' too, a label value). */
static void put_escaped(struct sbuf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sbuf_add(b, "\\\\", 2);
		else if (*s == '\n')
			sbuf_add(b, "\\n", 2);
		else if (*s == '"' && quote)
			sbuf_add(b, "\\\"", 2);
		else
			sbuf_add(b, s, 1);
	}
}

static void put_label(struct sbuf *b, const char *name, size_t len, const char *value)
{
	sbuf_add(b, b->len ? "," : "{", 1);
	put_name(b, name, len);
	sbuf_add(b, "=\"", 2);
	put_escaped(b, value, true);
	sbuf_add(b, "\"", 1);
}

/* The rule of path: the first that matches, with the rest of a '*' rule's path. */
static const struct prom_rule *rule_of(const struct prom_rule *r, const char *path,
				       const char **rest)
{
	for (; r && r->path; r++) {
		size_t n = strlen(r->path);
		if (n && r->path[n - 1] == '*') {
			if (strncmp(r->path, path, n - 1) == 0 && path[n - 1]) {
				*rest = path + n - 1;
				return r;
			}
		} else if (strcmp(r->path, path) == 0) {
			*rest = NULL;
			return r;
		}
	}
	return NULL;
}

static const struct prom_list *list_of(const struct prom_list *l, const char *path)
{
	for (; l && l->path; l++)
		if (strcmp(l->path, path) == 0)
			return l;
	return NULL;
}

/* The labels of the items around f, as their lists say. */
static void item_labels(const struct view *v, const struct prom_source *src,
			const struct view_field *f, struct sbuf *b)
{
	struct sbuf val;
	sbuf_init(&val);
	for (size_t d = 0; d < f->depth; d++) {
		const struct prom_list *l = list_of(src->lists, f->list[d]);
		for (const char *s = l ? l->labels : ""; *s;) {
			size_t n = strcspn(s, ",");
			const char *eq = memchr(s, '=', n);
			size_t klen = eq ? (size_t)(eq - s) : n;
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)klen, s);
			val.len = 0;
			if (view_item_field(v, f->items[d], key, &val) < 0)
				val.len = 0;
			sbuf_add(&val, "", 1);
			if (eq)
				put_label(b, eq + 1, n - klen - 1, val.oom ? "" : val.s);
			else
				put_label(b, s, n, val.oom ? "" : val.s);
			s += n + (s[n] == ',');
		}
	}
	if (val.oom)
		b->oom = 1;
	sbuf_free(&val);
}

/* x / scale in decimal, exactly ("1.250"). */
static void put_scaled(char *buf, size_t len, bool neg, uint64_t x, unsigned scale)
{
	if (scale <= 1) {
		snprintf(buf, len, "%s%llu", neg ? "-" : "", (unsigned long long)x);
		return;
	}
	int digits = 0;
	for (unsigned s = scale; s > 1 && digits < 9; s /= 10)
		digits++;
	snprintf(buf, len, "%s%llu.%0*llu", neg ? "-" : "", (unsigned long long)(x / scale), digits,
		 (unsigned long long)(x % scale));
}

struct adding {
	struct prom *p;
	const struct prom_source *src;
	const struct view *v;
};

static void add_sample(struct prom *p, struct sample *s)
{
	if (!s->family || !s->help || !s->labels) {
		sample_free(s);
		p->oom = true;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct sample *n = realloc(p->s, cap * sizeof(*n));
		if (!n) {
			sample_free(s);
			p->oom = true;
			return;
		}
		p->s = n;
		p->cap = cap;
	}
	s->seq = p->n;
	p->s[p->n++] = *s;
}

/* Whether f is a label of the item around it (then it is no sample). */
static bool is_label(const struct prom_source *src, const struct view_field *f)
{
	if (!f->depth)
		return false;
	const char *list = f->list[f->depth - 1];
	const struct prom_list *l = list_of(src->lists, list);
	size_t n = strlen(list);
	if (!l || strncmp(f->path, list, n) != 0 || (n && f->path[n] != '.'))
		return false;
	const char *key = f->path + n + (n ? 1 : 0);
	size_t klen = strlen(key);
	for (const char *s = l->labels; *s;) {
		size_t len = strcspn(s, ",");
		size_t flen = strcspn(s, ",=");
		if (flen == klen && strncmp(s, key, klen) == 0)
			return true;
		s += len + (s[len] == ',');
	}
	return false;
}

static void on_field(void *arg, const struct view_field *f)
{
	struct adding *a = arg;
	if (is_label(a->src, f))
		return;
	const char *rest = NULL;
	const struct prom_rule *r = rule_of(a->src->rules, f->path, &rest);
	enum prom_type type = r ? r->type : PROM_UNTYPED;
	bool str = f->kind == VIEW_W_STR;
	if (type == PROM_SKIP || str != (type == PROM_STATE))
		return; /* a string is a state or nothing; a state is a string */
	struct sample s = {.type = type == PROM_STATE ? PROM_GAUGE : type};
	struct sbuf b;
	/* the family */
	sbuf_init(&b);
	if (!r) {
		sbuf_add(&b, "arpha_", 6);
		put_name(&b, a->src->cmd, strlen(a->src->cmd));
		sbuf_add(&b, "_", 1);
		put_name(&b, f->path, strlen(f->path));
	} else {
		put_name(&b, r->name, strlen(r->name));
		if (rest && !r->label)
			put_name(&b, rest, strlen(rest));
	}
	if (type == PROM_COUNTER && (b.len < 6 || strcmp(b.s + b.len - 6, "_total") != 0))
		sbuf_add(&b, "_total", 6);
	s.family = take(&b);
	/* its help */
	b.len = 0;
	if (r && r->help)
		put_escaped(&b, r->help, false);
	else
		sbuf_printf(&b, "arpha -j %s: %s", a->src->cmd, f->path);
	sbuf_add(&b, "", 1);
	s.help = take(&b);
	/* the labels */
	b.len = 0;
	item_labels(a->v, a->src, f, &b);
	if (r && rest && r->label)
		put_label(&b, r->label, strlen(r->label), rest);
	if (type == PROM_STATE) {
		const char *key = strrchr(f->path, '.') ? strrchr(f->path, '.') + 1 : f->path;
		const char *l = r->label ? r->label : key;
		put_label(&b, l, strlen(l), f->text);
	}
	if (b.len)
		sbuf_add(&b, "}", 1);
	sbuf_add(&b, "", 1);
	s.labels = take(&b);
	sbuf_free(&b);
	/* the value */
	unsigned scale = r && r->scale ? r->scale : 1;
	if (type == PROM_STATE)
		snprintf(s.value, sizeof(s.value), "1");
	else if (f->kind == VIEW_W_I64)
		put_scaled(s.value, sizeof(s.value), f->i < 0,
			   f->i < 0 ? -(uint64_t)f->i : (uint64_t)f->i, scale);
	else
		put_scaled(s.value, sizeof(s.value), false, f->u, scale);
	add_sample(a->p, &s);
}

void prom_add(struct prom *p, const struct prom_source *src, const struct view *v)
{
	if (!p || !v)
		return;
	struct adding a = {p, src, v};
	view_walk(v, on_field, &a);
}

static int cmp_sample(const void *x, const void *y)
{
	const struct sample *a = x, *b = y;
	int c = strcmp(a->family, b->family);
	if (!c)
		c = strcmp(a->labels, b->labels);
	if (!c)
		c = a->seq < b->seq ? -1 : a->seq > b->seq;
	return c;
}

static const char *const type_names[] = {"untyped", "counter", "gauge", "gauge", "untyped"};

void prom_render(struct prom *p, struct sbuf *out)
{
	if (!p || p->oom) {
		out->oom = 1;
		return;
	}
	if (p->n) /* qsort takes no NULL, even for nothing */
		qsort(p->s, p->n, sizeof(*p->s), cmp_sample);
	const struct sample *fam = NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct sample *s = &p->s[i];
		if (!fam || strcmp(fam->family, s->family) != 0) {
			fam = s;
			sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->family, s->help,
				    s->family, type_names[s->type]);
		} else if (s->type != fam->type || strcmp(s->labels, s[-1].labels) == 0) {
			continue; /* one type a family, one sample a series: the first */
		}
		sbuf_printf(out, "%s%s %s\n", s->family, s->labels, s->value);
	}
}
