#include "os/view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* K_IP4 and K_MAC are strings in JSON, formatted when rendered. */
enum kind { K_STR, K_U64, K_I64, K_BOOL, K_NULL, K_IP4, K_MAC, K_OBJECT, K_LIST, K_TABLE, K_LINE };

/*
 * The tree is its nodes in the order of the calls: a container's children
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
		struct {
			uint32_t ip;
			int len; /* the prefix length; -1: none */
		} ip4;
		struct mac mac;
	} x;
};

/* Nodes in blocks that never move: a view of many rows is not copied as it grows. */
#define BLOCK 1024

struct view {
	struct node **blk;
	uint32_t len, n_blk;
	char *a; /* the arena */
	size_t alen, acap;
	uint32_t open; /* the innermost open container */
	uint32_t last; /* the last field added (view_text) */
	bool oom;
	/* strings recently copied, by address: the rows of a table repeat them */
	struct {
		const char *p;
		uint32_t off;
	} seen[64];
};

static struct node *nd(const struct view *v, uint32_t i)
{
	return &v->blk[i / BLOCK][i % BLOCK];
}

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
	for (uint32_t k = 0; k < v->n_blk; k++)
		free(v->blk[k]);
	free(v->blk);
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

/*
 * s in the arena: the copy made last time for the same string at the same
 * address (a key, a name), or a new one.
 */
static uint32_t intern_again(struct view *v, const char *s)
{
	if (!s || !*s)
		return 0;
	size_t h = ((uintptr_t)s >> 3) % (sizeof(v->seen) / sizeof(v->seen[0]));
	if (v->seen[h].p == s && strcmp(v->a + v->seen[h].off, s) == 0)
		return v->seen[h].off;
	uint32_t off = intern(v, s);
	v->seen[h].p = s;
	v->seen[h].off = off;
	return off;
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
	if (v->len == v->n_blk * BLOCK) {
		struct node **blk =
		    v->len < NONE - BLOCK ? realloc(v->blk, (v->n_blk + 1) * sizeof(*blk)) : NULL;
		if (blk)
			v->blk = blk;
		if (!blk || !(blk[v->n_blk] = malloc(BLOCK * sizeof(struct node)))) {
			v->oom = true;
			return NONE;
		}
		v->n_blk++;
	}
	uint32_t up = v->open;
	bool keyed = up != NONE && nd(v, up)->kind == K_OBJECT;
	uint32_t k = keyed ? intern_again(v, key) : 0;
	if (v->oom)
		return NONE;
	uint32_t i = v->len++;
	memset(nd(v, i), 0, sizeof(struct node));
	nd(v, i)->kind = kind;
	nd(v, i)->parent = up;
	nd(v, i)->end = NONE;
	nd(v, i)->key = k;
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
	nd(v, i)->x.t = t;
	nd(v, i)->str = intern(v, title);
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
	nd(v, i)->pairs = true;
	nd(v, i)->x.p.indent = indent;
	nd(v, i)->x.p.width = width;
}

void view_end(struct view *v)
{
	if (!v || v->oom || v->open == NONE)
		return;
	nd(v, v->open)->end = v->len;
	v->open = nd(v, v->open)->parent;
	v->last = NONE;
}

void view_str(struct view *v, const char *key, const char *s)
{
	uint32_t i = add(v, K_STR, key);
	if (i != NONE)
		nd(v, i)->str = intern_again(v, s);
}

void view_u64(struct view *v, const char *key, uint64_t x)
{
	uint32_t i = add(v, K_U64, key);
	if (i != NONE)
		nd(v, i)->x.u = x;
}

void view_i64(struct view *v, const char *key, int64_t x)
{
	uint32_t i = add(v, K_I64, key);
	if (i != NONE)
		nd(v, i)->x.i = x;
}

void view_bool(struct view *v, const char *key, bool x)
{
	uint32_t i = add(v, K_BOOL, key);
	if (i != NONE)
		nd(v, i)->x.b = x;
}

void view_null(struct view *v, const char *key)
{
	add(v, K_NULL, key);
}

void view_ip4(struct view *v, const char *key, uint32_t ip)
{
	uint32_t i = add(v, K_IP4, key);
	if (i != NONE) {
		nd(v, i)->x.ip4.ip = ip;
		nd(v, i)->x.ip4.len = -1;
	}
}

void view_ip4_prefix(struct view *v, const char *key, uint32_t ip, uint8_t len)
{
	uint32_t i = add(v, K_IP4, key);
	if (i != NONE) {
		nd(v, i)->x.ip4.ip = ip;
		nd(v, i)->x.ip4.len = len;
	}
}

void view_mac(struct view *v, const char *key, const struct mac *m)
{
	uint32_t i = add(v, K_MAC, key);
	if (i != NONE)
		nd(v, i)->x.mac = *m;
}

void view_text(struct view *v, const char *s)
{
	if (!v || v->oom || v->last == NONE)
		return;
	uint32_t t = intern_again(v, s);
	if (v->oom)
		return;
	nd(v, v->last)->text = t;
	nd(v, v->last)->has_text = true;
}

void view_line(struct view *v, const char *tmpl)
{
	uint32_t i = add(v, K_LINE, NULL);
	if (i != NONE)
		nd(v, i)->str = intern(v, tmpl);
}

void view_linef(struct view *v, const char *fmt, ...)
{
	uint32_t i = add(v, K_LINE, NULL);
	if (i == NONE)
		return;
	nd(v, i)->literal = true;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0 || arena_reserve(v, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(v->a + v->alen, (size_t)n + 1, fmt, ap);
	va_end(ap);
	nd(v, i)->str = (uint32_t)v->alen;
	v->alen += (size_t)n + 1;
}

/* ---- rendering ---- */

static uint32_t end_of(const struct view *v, uint32_t i)
{
	return nd(v, i)->end == NONE ? v->len : nd(v, i)->end;
}

/* The sibling after i (past a container's descendants). */
static uint32_t next(const struct view *v, uint32_t i)
{
	return is_container(nd(v, i)->kind) ? end_of(v, i) : i + 1;
}

static const char *str_at(const struct view *v, uint32_t off)
{
	return v->a + off;
}

/* Appends without formatting: a view of thousands of rows is rendered in one callback. */
static void put(struct sbuf *b, const char *s, size_t n)
{
	sbuf_add(b, s, n);
}

static void put_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static void spaces(struct sbuf *b, size_t n)
{
	static const char blank[] = "                                ";
	for (; n > sizeof(blank) - 1; n -= sizeof(blank) - 1)
		sbuf_add(b, blank, sizeof(blank) - 1);
	sbuf_add(b, blank, n);
}

static void put_u64(struct sbuf *b, uint64_t x)
{
	char d[20];
	size_t k = sizeof(d);
	do
		d[--k] = (char)('0' + x % 10);
	while (x /= 10);
	sbuf_add(b, d + k, sizeof(d) - k);
}

static void put_i64(struct sbuf *b, int64_t x)
{
	if (x < 0)
		sbuf_add(b, "-", 1);
	put_u64(b, x < 0 ? -(uint64_t)x : (uint64_t)x);
}

/* An address or a MAC as text ("198.18.0.0/15", "02:00:00:00:00:0a"). */
static void put_addr(struct sbuf *b, const struct node *n)
{
	char s[IP4_STRLEN > MAC_STRLEN ? IP4_STRLEN : MAC_STRLEN];
	if (n->kind == K_MAC) {
		put_str(b, mac_fmt(&n->x.mac, s));
		return;
	}
	put_str(b, ip4_fmt(n->x.ip4.ip, s));
	if (n->x.ip4.len >= 0) {
		sbuf_add(b, "/", 1);
		put_u64(b, (uint64_t)n->x.ip4.len);
	}
}

/* The child of object i under key[0..len), or NONE. */
static uint32_t child(const struct view *v, uint32_t i, const char *key, size_t len)
{
	if (i == NONE || nd(v, i)->kind != K_OBJECT)
		return NONE;
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		const char *k = str_at(v, nd(v, c)->key);
		if (nd(v, c)->key && nd(v, c)->kind != K_LINE && strncmp(k, key, len) == 0 &&
		    !k[len])
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
	const struct node *n = nd(v, i);
	const char *none = col && col->none ? col->none : "-";
	unsigned scale = col && col->scale ? col->scale : 1;
	const char *unit = col && col->unit ? col->unit : "";
	bool any = false;
	if (n->has_text) {
		put_str(b, str_at(v, n->text));
		return;
	}
	switch (n->kind) {
	case K_STR:
		put_str(b, str_at(v, n->str));
		return;
	case K_U64:
		put_u64(b, n->x.u / scale);
		put_str(b, unit);
		return;
	case K_I64:
		put_i64(b, n->x.i / (int64_t)scale);
		put_str(b, unit);
		return;
	case K_BOOL:
		put_str(b, n->x.b ? "true" : "false");
		return;
	case K_IP4:
	case K_MAC:
		put_addr(b, n);
		return;
	case K_NULL:
		put_str(b, none);
		return;
	case K_LIST:
	case K_TABLE:
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (nd(v, c)->kind == K_LINE)
				continue;
			put_str(b, any ? "," : "");
			text_of(v, c, NULL, b);
			any = true;
		}
		break;
	case K_OBJECT:
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (nd(v, c)->kind == K_LINE)
				continue;
			put_str(b, any ? ", " : "");
			put_str(b, str_at(v, nd(v, c)->key));
			put_str(b, " ");
			text_of(v, c, NULL, b);
			any = true;
		}
		break;
	default:
		return;
	}
	if (!any)
		put_str(b, none);
}

/* ---- JSON ---- */

static void json_value(const struct view *v, uint32_t i, struct sbuf *b);

/* The items of list or table i, after a comma unless *first (a table without a key: its rows). */
static void json_items(const struct view *v, uint32_t i, bool *first, struct sbuf *b)
{
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		if (nd(v, c)->kind == K_LINE)
			continue;
		if (nd(v, c)->kind == K_TABLE && !nd(v, c)->key && nd(v, i)->kind == K_LIST) {
			json_items(v, c, first, b);
			continue;
		}
		put_str(b, *first ? "" : ",");
		*first = false;
		json_value(v, c, b);
	}
}

static void json_value(const struct view *v, uint32_t i, struct sbuf *b)
{
	const struct node *n = nd(v, i);
	bool first = true;
	switch (n->kind) {
	case K_STR:
		sbuf_json_str(b, str_at(v, n->str));
		break;
	case K_U64:
		put_u64(b, n->x.u);
		break;
	case K_I64:
		put_i64(b, n->x.i);
		break;
	case K_BOOL:
		put_str(b, n->x.b ? "true" : "false");
		break;
	case K_IP4:
	case K_MAC: /* nothing to escape */
		put_str(b, "\"");
		put_addr(b, n);
		put_str(b, "\"");
		break;
	case K_NULL:
		put_str(b, "null");
		break;
	case K_OBJECT:
		put_str(b, "{");
		for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
			if (nd(v, c)->kind == K_LINE)
				continue;
			put_str(b, first ? "" : ",");
			first = false;
			sbuf_json_str(b, str_at(v, nd(v, c)->key));
			put_str(b, ":");
			json_value(v, c, b);
		}
		put_str(b, "}");
		break;
	case K_LIST:
	case K_TABLE:
		put_str(b, "[");
		json_items(v, i, &first, b);
		put_str(b, "]");
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
	for (uint32_t s = nd(v, i)->parent; s != NONE && f == NONE; s = nd(v, s)->parent)
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
	const char *s = str_at(v, nd(v, i)->str);
	while (!nd(v, i)->literal && *s) {
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
	put_str(b, s);
	put_str(b, "\n");
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
		put_str(tmp, col->none ? col->none : "-");
}

/* One line of table t: its header (r NONE) or row r, in columns of widths w. */
static void table_line(const struct view *v, const struct view_table *t, uint32_t r,
		       const size_t *w, struct sbuf *tmp, struct sbuf *b)
{
	spaces(b, t->indent);
	for (size_t c = 0; c < t->n_cols; c++) {
		const struct view_col *col = &t->cols[c];
		const char *s = col->head;
		size_t len = strlen(s);
		if (r != NONE) {
			cell_text(v, r, col, tmp);
			s = tmp->s ? tmp->s : "";
			len = tmp->len;
		}
		if (c)
			spaces(b, col->gap ? col->gap : 1);
		cell(b, s, len, w[c], col->right, c + 1 == t->n_cols);
	}
	put_str(b, "\n");
}

/* A table: its columns as wide as their widest cell (a first pass), then its lines. */
static void text_table(const struct view *v, uint32_t i, struct sbuf *b)
{
	const struct view_table *t = nd(v, i)->x.t;
	size_t rows = 0;
	for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r))
		rows += nd(v, r)->kind == K_OBJECT;
	if (!t || (!rows && t->hide_empty))
		return;
	size_t *w = calloc(t->n_cols ? t->n_cols : 1, sizeof(*w));
	if (!w) {
		b->oom = 1;
		return;
	}
	struct sbuf tmp;
	sbuf_init(&tmp);
	for (size_t c = 0; c < t->n_cols; c++) {
		const struct view_col *col = &t->cols[c];
		w[c] = col->width > strlen(col->head) ? col->width : strlen(col->head);
	}
	for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r))
		for (size_t c = 0; nd(v, r)->kind == K_OBJECT && c < t->n_cols; c++) {
			cell_text(v, r, &t->cols[c], &tmp);
			if (tmp.len > w[c])
				w[c] = tmp.len;
		}
	if (nd(v, i)->str) {
		put_str(b, str_at(v, nd(v, i)->str));
		put_str(b, "\n");
	}
	table_line(v, t, NONE, w, &tmp, b);
	for (uint32_t r = i + 1; r < end_of(v, i); r = next(v, r))
		if (nd(v, r)->kind == K_OBJECT)
			table_line(v, t, r, w, &tmp, b);
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
	size_t width = nd(v, i)->x.p.width;
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		size_t len = strlen(str_at(v, nd(v, c)->key));
		if (is_scalar(nd(v, c)->kind) && !is_zero(nd(v, c)) && len > width)
			width = len;
	}
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		if (!is_scalar(nd(v, c)->kind) || is_zero(nd(v, c)))
			continue;
		const char *key = str_at(v, nd(v, c)->key);
		spaces(b, nd(v, i)->x.p.indent);
		cell(b, key, strlen(key), width, false, false);
		put_str(b, " ");
		text_of(v, c, NULL, b);
		put_str(b, "\n");
	}
}

static void text_block(const struct view *v, uint32_t from, uint32_t to, struct sbuf *b)
{
	for (uint32_t c = from; c < to; c = next(v, c)) {
		switch (nd(v, c)->kind) {
		case K_LINE:
			text_line(v, c, b);
			break;
		case K_TABLE:
			text_table(v, c, b);
			break;
		case K_OBJECT:
			if (nd(v, c)->pairs)
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
		uint8_t kind = nd(v, c)->kind;
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
		sbuf_printf(b, "%s%s=", *first ? "" : " ", str_at(v, nd(v, c)->key));
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
			if (nd(v, c)->kind == K_LINE)
				continue;
			json_value(v, c, out);
			first = false;
		}
		if (!first)
			put_str(out, "\n");
		break;
	case VIEW_KV:
		sbuf_init(&tmp);
		for (uint32_t c = 0; c < v->len; c = next(v, c))
			if (nd(v, c)->kind == K_OBJECT)
				kv_fields(v, c, &first, &tmp, out);
		if (tmp.oom)
			out->oom = 1;
		sbuf_free(&tmp);
		break;
	}
}

/* ---- the walk ---- */

struct walk {
	const struct view *v;
	view_walk_fn *fn;
	void *arg;
	char path[256];
	char lists[VIEW_WALK_DEPTH][256];
	struct view_field f;
	struct sbuf text;
};

/* The children of container i, whose path is w->path[0..plen). */
static void walk_in(struct walk *w, uint32_t i, size_t plen)
{
	const struct view *v = w->v;
	bool list = nd(v, i)->kind != K_OBJECT;
	for (uint32_t c = i + 1; c < end_of(v, i); c = next(v, c)) {
		const struct node *n = nd(v, c);
		if (n->kind == K_LINE || n->kind == K_NULL)
			continue;
		size_t len = plen;
		if (!list) {
			const char *k = str_at(v, n->key);
			int m = snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
					 plen ? "." : "", k);
			if (m < 0 || (size_t)m >= sizeof(w->path) - plen)
				continue; /* too deep to name */
			len += (size_t)m;
		}
		if (is_container(n->kind)) {
			if (!list || n->kind != K_OBJECT) { /* an object in an object, a list */
				walk_in(w, c, len);
				continue;
			}
			size_t d = w->f.depth;
			if (d == VIEW_WALK_DEPTH)
				continue;
			snprintf(w->lists[d], sizeof(w->lists[d]), "%.*s", (int)plen, w->path);
			w->f.items[d] = c;
			w->f.list[d] = w->lists[d];
			w->f.depth++;
			walk_in(w, c, len);
			w->f.depth--;
			continue;
		}
		if (list)
			continue; /* a list of plain values */
		w->path[len] = '\0';
		w->f.path = w->path;
		w->f.text = NULL;
		switch (n->kind) {
		case K_U64:
			w->f.kind = VIEW_W_U64;
			w->f.u = n->x.u;
			break;
		case K_I64:
			w->f.kind = VIEW_W_I64;
			w->f.i = n->x.i;
			break;
		case K_BOOL:
			w->f.kind = VIEW_W_BOOL;
			w->f.u = n->x.b;
			break;
		default: /* a string, an address: its JSON value, not its text */
			w->f.kind = VIEW_W_STR;
			w->text.len = 0;
			if (n->kind == K_STR)
				put_str(&w->text, str_at(v, n->str));
			else
				put_addr(&w->text, n);
			put(&w->text, "", 1);
			if (w->text.oom)
				continue;
			w->f.text = w->text.s;
			break;
		}
		w->fn(w->arg, &w->f);
		w->path[plen] = '\0';
	}
	w->path[plen] = '\0';
}

void view_walk(const struct view *v, view_walk_fn *fn, void *arg)
{
	if (!v || v->oom)
		return;
	struct walk *w = calloc(1, sizeof(*w));
	if (!w)
		return;
	w->v = v;
	w->fn = fn;
	w->arg = arg;
	sbuf_init(&w->text);
	for (uint32_t c = 0; c < v->len; c = next(v, c))
		if (is_container(nd(v, c)->kind))
			walk_in(w, c, 0);
	sbuf_free(&w->text);
	free(w);
}

int view_item_field(const struct view *v, uint32_t item, const char *key, struct sbuf *out)
{
	uint32_t f = child(v, item, key, strlen(key));
	if (f == NONE || !is_scalar(nd(v, f)->kind) || nd(v, f)->kind == K_NULL)
		return -1;
	const struct node *n = nd(v, f);
	if (n->kind == K_STR)
		put_str(out, str_at(v, n->str));
	else if (n->kind == K_IP4 || n->kind == K_MAC)
		put_addr(out, n);
	else if (n->kind == K_U64)
		put_u64(out, n->x.u);
	else if (n->kind == K_I64)
		put_i64(out, n->x.i);
	else
		put_str(out, n->x.b ? "true" : "false");
	return 0;
}
