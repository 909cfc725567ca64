#include "os/view.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum kind { K_STR, K_U64, K_I64, K_BOOL, K_NULL, K_OBJECT, K_LIST, K_TABLE, K_LINE };

/*
 * The tree is an array in the order of the calls: a container's children
 * follow it, up to its end. Strings are offsets into one arena whose
 * offset 0 is the empty string (none).
 */
struct node {
	uint8_t kind;
	bool literal;		 /* a line of view_linef: no fields in it */
	bool pairs;		 /* an object of view_pairs */
	bool has_text;		 /* view_text gave its text (text: "" too) */
	uint32_t parent;	 /* NONE: at the top */
	uint32_t end;		 /* a container: one past its last descendant (NONE: still open) */
	uint32_t key, text, str; /* str: a string's value, a line, a table's title */
	union {
		uint64_t u;
		int64_t i;
		bool b;
		const struct view_table *t;
		struct {
			unsigned indent, width;
		} p;
	} x;
};

struct view {
	struct node *n;
	uint32_t len, cap;
	char *a; /* the arena */
	size_t alen, acap;
	uint32_t open; /* the innermost open container */
	uint32_t last; /* the last field added (view_text) */
	bool oom;
};

struct view *view_new(void)
{
	struct view *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->open = v->last = NONE;
	v->a = malloc(256);
	if (!v->a) {
		free(v);
		return NULL;
	}
	v->acap = 256;
	v->a[0] = '\0';
	v->alen = 1;
	return v;
}

void view_free(struct view *v)
{
	if (!v)
		return;
	free(v->n);
	free(v->a);
	free(v);
}

/* ---- building ---- */

static int arena_reserve(struct view *v, size_t n)
{
	if (v->oom)
		return -1;
	if (n > UINT32_MAX - v->alen) {
		v->oom = true;
		return -1;
	}
	size_t cap = v->acap;
	while (cap - v->alen < n)
		cap *= 2;
	if (cap != v->acap) {
		char *a = realloc(v->a, cap);
		if (!a) {
			v->oom = true;
			return -1;
		}
		v->a = a;
		v->acap = cap;
	}
	return 0;
}

/* A copy of s in the arena: its offset, 0 for NULL or "" (and when out of memory). */
static uint32_t intern(struct view *v, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t n = strlen(s) + 1;
	if (arena_reserve(v, n) < 0)
		return 0;
	uint32_t at = (uint32_t)v->alen;
	memcpy(v->a + at, s, n);
	v->alen += n;
	return at;
}

static bool is_container(uint8_t kind)
{
	return kind == K_OBJECT || kind == K_LIST || kind == K_TABLE;
}

/* A new node in the open container: its index, or NONE. */
static uint32_t add(struct view *v, uint8_t kind, const char *key)
{
	if (!v || v->oom)
		return NONE;
	if (v->len == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 64;
		struct node *n = cap > v->cap ? realloc(v->n, cap * sizeof(*n)) : NULL;
		if (!n) {
			v->oom = true;
			return NONE;
		}
		v->n = n;
		v->cap = cap;
	}
	uint32_t up = v->open;
	bool keyed = up != NONE && v->n[up].kind == K_OBJECT;
	uint32_t k = keyed ? intern(v, key) : 0;
	if (v->oom)
		return NONE;
	uint32_t i = v->len++;
	memset(&v->n[i], 0, sizeof(v->n[i]));
	v->n[i].kind = kind;
	v->n[i].parent = up;
	v->n[i].end = NONE;
	v->n[i].key = k;
	if (is_container(kind))
		v->open = i;
	if (kind != K_LINE)
		v->last = is_container(kind) ? NONE : i;
	return i;
}

void view_object(struct view *v, const char *key)
{
	add(v, K_OBJECT, key);
}

void view_list(struct view *v, const char *key)
{
	add(v, K_LIST, key);
}

void view_table(struct view *v, const char *key, const struct view_table *t, const char *title)
{
	uint32_t i = add(v, K_TABLE, key);
	if (i == NONE)
		return;
	v->n[i].x.t = t;
	v->n[i].str = intern(v, title);
}

void view_row(struct view *v)
{
	add(v, K_OBJECT, NULL);
}

void view_pairs(struct view *v, const char *key, unsigned indent, unsigned width)
{
	uint32_t i = add(v, K_OBJECT, key);
	if (i == NONE)
		return;
	v->n[i].pairs = true;
	v->n[i].x.p.indent = indent;
	v->n[i].x.p.width = width;
}

void view_end(struct view *v)
{
	if (!v || v->oom || v->open == NONE)
		return;
	v->n[v->open].end = v->len;
	v->open = v->n[v->open].parent;
	v->last = NONE;
}

void view_str(struct view *v, const char *key, const char *s)
{
	uint32_t i = add(v, K_STR, key);
	if (i != NONE)
		v->n[i].str = intern(v, s);
}

void view_u64(struct view *v, const char *key, uint64_t x)
{
	uint32_t i = add(v, K_U64, key);
	if (i != NONE)
		v->n[i].x.u = x;
}

void view_i64(struct view *v, const char *key, int64_t x)
{
	uint32_t i = add(v, K_I64, key);
	if (i != NONE)
		v->n[i].x.i = x;
}

void view_bool(struct view *v, const char *key, bool x)
{
	uint32_t i = add(v, K_BOOL, key);
	if (i != NONE)
		v->n[i].x.b = x;
}

void view_null(struct view *v, const char *key)
{
	add(v, K_NULL, key);
}

void view_ip4(struct view *v, const char *key, uint32_t ip)
{
	char s[IP4_STRLEN];
	view_str(v, key, ip4_fmt(ip, s));
}

void view_ip4_prefix(struct view *v, const char *key, uint32_t ip, uint8_t len)
{
	char s[IP4_STRLEN], p[IP4_STRLEN + 4];
	snprintf(p, sizeof(p), "%s/%u", ip4_fmt(ip, s), len);
	view_str(v, key, p);
}

void view_mac(struct view *v, const char *key, const struct mac *m)
{
	char s[MAC_STRLEN];
	view_str(v, key, mac_fmt(m, s));
}

void view_text(struct view *v, const char *s)
{
	if (!v || v->oom || v->last == NONE)
		return;
	uint32_t t = intern(v, s);
	if (v->oom)
		return;
	v->n[v->last].text = t;
	v->n[v->last].has_text = true;
}

void view_line(struct view *v, const char *tmpl)
{
	uint32_t i = add(v, K_LINE, NULL);
	if (i != NONE)
		v->n[i].str = intern(v, tmpl);
}

void view_linef(struct view *v, const char *fmt, ...)
{
	uint32_t i = add(v, K_LINE, NULL);
	if (i == NONE)
		return;
	v->n[i].literal = true;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0 || arena_reserve(v, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(v->a + v->alen, (size_t)n + 1, fmt, ap);
	va_end(ap);
	v->n[i].str = (uint32_t)v->alen;
	v->alen += (size_t)n + 1;
}

/* ---- rendering ---- */

static uint32_t end_of(const struct view *v, uint32_t i)
{
	return v->n[i].end == NONE ? v->len : v->n[i].end;
}

/* The sibling after i (past a container's descendants). */
static uint32_t next(const struct view *v, uint32_t i)
{
	return is_container(v->n[i].kind) ? end_of(v, i) : i + 1;
}

static const char *str_at(const struct view *v, uint32_t off)
{
	return v->a + off;
}

static void put(struct sbuf *b, const char *s, size_t n)
{
	sbuf_printf(b, "%.*s", (int)n, s);
}

static void spaces(struct sbuf *b, size_t n)
{
	sbuf_printf(b, "%*s", (int)n, "");
}

/* The child of object i under key[0..len), or NONE. */
static uint32_t child(const struct view *v, uint32_t i, const char *key, size_t len)
{
	if (i == NONE || v->n[i].kind != K_OBJECT)
		return NONE;
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		const char *k = str_at(v, v->n[c].key);
		if (v->n[c].key && v->n[c].kind != K_LINE && strncmp(k, key, len) == 0 && !k[len])
			return c;
	}
	return NONE;
}

static bool is_zero(const struct node *n)
{
	return (n->kind == K_U64 && !n->x.u) || (n->kind == K_I64 && !n->x.i) ||
	       (n->kind == K_BOOL && !n->x.b) || n->kind == K_NULL;
}

/* The text of node i (col: its column, or NULL). */
static void text_of(const struct view *v, uint32_t i, const struct view_col *col, struct sbuf *b)
{
	const struct node *n = &v->n[i];
	const char *none = col && col->none ? col->none : "-";
	unsigned scale = col && col->scale ? col->scale : 1;
	const char *unit = col && col->unit ? col->unit : "";
	bool any = false;
	if (n->has_text) {
		sbuf_printf(b, "%s", str_at(v, n->text));
		return;
	}
	switch (n->kind) {
	case K_STR:
		sbuf_printf(b, "%s", str_at(v, n->str));
		return;
	case K_U64:
		sbuf_printf(b, "%" PRIu64 "%s", n->x.u / scale, unit);
		return;
	case K_I64:
		sbuf_printf(b, "%" PRId64 "%s", n->x.i / (int64_t)scale, unit);
		return;
	case K_BOOL:
		sbuf_printf(b, "%s", n->x.b ? "true" : "false");
		return;
	case K_NULL:
		sbuf_printf(b, "%s", none);
		return;
	case K_LIST:
	case K_TABLE:
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (v->n[c].kind == K_LINE)
				continue;
			sbuf_printf(b, "%s", any ? "," : "");
			text_of(v, c, NULL, b);
			any = true;
		}
		break;
	case K_OBJECT:
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (v->n[c].kind == K_LINE)
				continue;
			sbuf_printf(b, "%s%s ", any ? ", " : "", str_at(v, v->n[c].key));
			text_of(v, c, NULL, b);
			any = true;
		}
		break;
	default:
		return;
	}
	if (!any)
		sbuf_printf(b, "%s", none);
}

/* ---- JSON ---- */

static void json_value(const struct view *v, uint32_t i, struct sbuf *b);

/* The items of list or table i, after a comma unless *first (a table without a key: its rows). */
static void json_items(const struct view *v, uint32_t i, bool *first, struct sbuf *b)
{
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		if (v->n[c].kind == K_LINE)
			continue;
		if (v->n[c].kind == K_TABLE && !v->n[c].key && v->n[i].kind == K_LIST) {
			json_items(v, c, first, b);
			continue;
		}
		sbuf_printf(b, "%s", *first ? "" : ",");
		*first = false;
		json_value(v, c, b);
	}
}

static void json_value(const struct view *v, uint32_t i, struct sbuf *b)
{
	const struct node *n = &v->n[i];
	bool first = true;
	switch (n->kind) {
	case K_STR:
		sbuf_json_str(b, str_at(v, n->str));
		break;
	case K_U64:
		sbuf_printf(b, "%" PRIu64, n->x.u);
		break;
	case K_I64:
		sbuf_printf(b, "%" PRId64, n->x.i);
		break;
	case K_BOOL:
		sbuf_printf(b, "%s", n->x.b ? "true" : "false");
		break;
	case K_NULL:
		sbuf_printf(b, "null");
		break;
	case K_OBJECT:
		sbuf_printf(b, "{");
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (v->n[c].kind == K_LINE)
				continue;
			sbuf_printf(b, "%s", first ? "" : ",");
			first = false;
			sbuf_json_str(b, str_at(v, v->n[c].key));
			sbuf_printf(b, ":");
			json_value(v, c, b);
		}
		sbuf_printf(b, "}");
		break;
	case K_LIST:
	case K_TABLE:
		sbuf_printf(b, "[");
		json_items(v, i, &first, b);
		sbuf_printf(b, "]");
		break;
	default:
		break;
	}
}

/* ---- text ---- */

static void text_block(const struct view *v, uint32_t from, uint32_t to, struct sbuf *b);

/* The field a line names: path[0..len) from the object around line i outwards. */
static uint32_t resolve(const struct view *v, uint32_t i, const char *path, size_t len)
{
	const char *dot = memchr(path, '.', len);
	size_t seg = dot ? (size_t)(dot - path) : len;
	uint32_t f = NONE;
	for (uint32_t s = v->n[i].parent; s != NONE && f == NONE; s = v->n[s].parent)
		f = child(v, s, path, seg);
	while (f != NONE && dot) {
		path = dot + 1;
		len -= seg + 1;
		dot = memchr(path, '.', len);
		seg = dot ? (size_t)(dot - path) : len;
		f = child(v, f, path, seg);
	}
	return f;
}

static void text_line(const struct view *v, uint32_t i, struct sbuf *b)
{
	const char *s = str_at(v, v->n[i].str);
	while (!v->n[i].literal && *s) {
		const char *open = strchr(s, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (!close)
			break;
		put(b, s, (size_t)(open - s));
		uint32_t f = resolve(v, i, open + 1, (size_t)(close - open - 1));
		if (f != NONE)
			text_of(v, f, NULL, b);
		else
			put(b, open, (size_t)(close - open + 1));
		s = close + 1;
	}
	sbuf_printf(b, "%s\n", s);
}

static void cell(struct sbuf *b, const char *s, size_t len, size_t width, bool right, bool last)
{
	if (right && len < width)
		spaces(b, width - len);
	put(b, s, len);
	if (!right && !last && len < width)
		spaces(b, width - len);
}

/* The text of row r's cell of col, in tmp (emptied first). */
static void cell_text(const struct view *v, uint32_t r, const struct view_col *col,
		      struct sbuf *tmp)
{
	tmp->len = 0;
	if (tmp->s)
		tmp->s[0] = '\0';
	uint32_t f = child(v, r, col->key, strlen(col->key));
	if (f != NONE)
		text_of(v, f, col, tmp);
	else
		sbuf_printf(tmp, "%s", col->none ? col->none : "-");
}

static void text_table(const struct view *v, uint32_t i, struct sbuf *b)
{
	const struct view_table *t = v->n[i].x.t;
	size_t rows = 0;
	for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r))
		rows += v->n[r].kind == K_OBJECT;
	if (!t || (!rows && t->hide_empty))
		return;
	size_t *w = calloc(t->n_cols ? t->n_cols : 1, sizeof(*w));
	if (!w) {
		b->oom = 1;
		return;
	}
	struct sbuf tmp;
	sbuf_init(&tmp);
	for (size_t k = 0; k < t->n_cols; k++) {
		const struct view_col *col = &t->cols[k];
		w[k] = col->width > strlen(col->head) ? col->width : strlen(col->head);
		for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r)) {
			if (v->n[r].kind != K_OBJECT)
				continue;
			cell_text(v, r, col, &tmp);
			if (tmp.len > w[k])
				w[k] = tmp.len;
		}
	}
	if (v->n[i].str)
		sbuf_printf(b, "%s\n", str_at(v, v->n[i].str));
	spaces(b, t->indent);
	for (size_t k = 0; k < t->n_cols; k++) {
		const struct view_col *col = &t->cols[k];
		if (k)
			spaces(b, col->gap ? col->gap : 1);
		cell(b, col->head, strlen(col->head), w[k], col->right, k + 1 == t->n_cols);
	}
	sbuf_printf(b, "\n");
	for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r)) {
		if (v->n[r].kind != K_OBJECT)
			continue;
		spaces(b, t->indent);
		for (size_t k = 0; k < t->n_cols; k++) {
			const struct view_col *col = &t->cols[k];
			if (k)
				spaces(b, col->gap ? col->gap : 1);
			cell_text(v, r, col, &tmp);
			cell(b, tmp.s ? tmp.s : "", tmp.len, w[k], col->right, k + 1 == t->n_cols);
		}
		sbuf_printf(b, "\n");
	}
	if (tmp.oom)
		b->oom = 1;
	sbuf_free(&tmp);
	free(w);
}

static bool is_scalar(uint8_t kind)
{
	return !is_container(kind) && kind != K_LINE;
}

static void text_pairs(const struct view *v, uint32_t i, struct sbuf *b)
{
	size_t width = v->n[i].x.p.width;
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		size_t len = strlen(str_at(v, v->n[c].key));
		if (is_scalar(v->n[c].kind) && !is_zero(&v->n[c]) && len > width)
			width = len;
	}
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		if (!is_scalar(v->n[c].kind) || is_zero(&v->n[c]))
			continue;
		const char *key = str_at(v, v->n[c].key);
		spaces(b, v->n[i].x.p.indent);
		cell(b, key, strlen(key), width, false, false);
		sbuf_printf(b, " ");
		text_of(v, c, NULL, b);
		sbuf_printf(b, "\n");
	}
}

static void text_block(const struct view *v, uint32_t from, uint32_t to, struct sbuf *b)
{
	for (uint32_t c = from; c < to; c = next(v, c)) {
		switch (v->n[c].kind) {
		case K_LINE:
			text_line(v, c, b);
			break;
		case K_TABLE:
			text_table(v, c, b);
			break;
		case K_OBJECT:
			if (v->n[c].pairs)
				text_pairs(v, c, b);
			else
				text_block(v, c + 1, end_of(v, c), b);
			break;
		case K_LIST:
			text_block(v, c + 1, end_of(v, c), b);
			break;
		default:
			break;
		}
	}
}

/* ---- key=value ---- */

/* A value that needs quotes in a key=value line: empty, or with a space, '"', '\\', '='. */
static bool needs_quotes(const char *s, size_t len)
{
	if (!len)
		return true;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7f)
			return true;
	}
	return false;
}

static void kv_fields(const struct view *v, uint32_t i, bool *first, struct sbuf *tmp,
		      struct sbuf *b)
{
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		uint8_t kind = v->n[c].kind;
		if (kind == K_OBJECT) {
			kv_fields(v, c, first, tmp, b);
			continue;
		}
		if (kind == K_LINE || kind == K_TABLE || kind == K_LIST)
			continue;
		tmp->len = 0;
		if (tmp->s)
			tmp->s[0] = '\0';
		text_of(v, c, NULL, tmp);
		sbuf_printf(b, "%s%s=", *first ? "" : " ", str_at(v, v->n[c].key));
		*first = false;
		if (!needs_quotes(tmp->s ? tmp->s : "", tmp->len)) {
			put(b, tmp->s, tmp->len);
			continue;
		}
		sbuf_printf(b, "\"");
		for (size_t k = 0; k < tmp->len; k++) {
			unsigned char ch = (unsigned char)tmp->s[k];
			if (ch == '"' || ch == '\\')
				sbuf_printf(b, "\\%c", ch);
			else
				sbuf_printf(b, "%c", ch < 0x20 || ch == 0x7f ? '?' : ch);
		}
		sbuf_printf(b, "\"");
	}
}

void view_render(const struct view *v, enum view_form form, struct sbuf *out)
{
	if (!v || v->oom) {
		out->oom = 1;
		return;
	}
	bool first = true;
	struct sbuf tmp;
	switch (form) {
	case VIEW_TEXT:
		text_block(v, 0, v->len, out);
		break;
	case VIEW_JSON:
		for (uint32_t c = 0; c < v->len; c = next(v, c)) {
			if (v->n[c].kind == K_LINE)
				continue;
			json_value(v, c, out);
			first = false;
		}
		if (!first)
			sbuf_printf(out, "\n");
		break;
	case VIEW_KV:
		sbuf_init(&tmp);
		for (uint32_t c = 0; c < v->len; c = next(v, c))
			if (v->n[c].kind == K_OBJECT)
				kv_fields(v, c, &first, &tmp, out);
		if (tmp.oom)
			out->oom = 1;
		sbuf_free(&tmp);
		break;
	}
}
