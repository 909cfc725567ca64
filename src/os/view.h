/*
 * view: what an `arpha` command shows, built once as data and rendered by
 * one writer: as text for people (lines and aligned tables), as JSON for
 * scripts, or as one key=value log line.
 *
 * A view is a tree. Objects and lists hold fields (typed values), objects,
 * lists and tables; a table is a list of row objects that text shows as
 * aligned columns; a line is text alone. Every call appends to the
 * innermost open object, list or table (view_end closes it), in the order
 * JSON shows them. Keys and strings are copied.
 *
 * JSON shows every field, object, list and table in order, and no line;
 *   strings are escaped here and nowhere else. A table without a key, in
 *   a list, adds its rows to that list (the tables of several interfaces
 *   make one list). A key given to a list's item is ignored.
 * Text shows the lines and the tables in order, and nothing else: a field
 *   shows where a line or a table's column names it. The text of a value:
 *   a string as it is, a number in decimal, a bool as true or false, null
 *   as "-", a list as its items' text joined by ",", an object as
 *   "key text" of its fields joined by ", " (an empty list or object as a
 *   null); view_text replaces it.
 * KV shows the text of every field as key=value, separated by spaces
 *   (nested objects flattened; quoted, as log_quote does, when empty or
 *   with a space, '"', '\\' or '='), and no line, list or table.
 *
 * A view that ran out of memory ignores every later call, and so does a
 * NULL view (view_new failed); view_render then sets out->oom.
 */
#ifndef ARPHA_OS_VIEW_H
#define ARPHA_OS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "os/util.h"

struct view;

enum view_form { VIEW_TEXT, VIEW_JSON, VIEW_KV };

/* A column of a table's text: the row field of key under head. */
struct view_col {
	const char *key;
	const char *head;
	unsigned width;	  /* at least this wide; wider when its head or a cell is */
	unsigned gap;	  /* spaces before it (0: one); the first column's are the indent */
	bool right;	  /* right-aligned; a left-aligned last column is not padded */
	unsigned scale;	  /* a number shown divided by this (0: 1), as ms in seconds */
	const char *unit; /* after a number: " ms", "s" */
	const char *none; /* a null cell, or a missing one (NULL: "-") */
};

/* How a table shows as text (static: the view keeps the pointer). */
struct view_table {
	const struct view_col *cols;
	size_t n_cols;
	unsigned indent;
	bool hide_empty; /* no rows: no title and no header either */
};

/* A new, empty view (NULL: out of memory); view_free(NULL) does nothing. */
struct view *view_new(void);
void view_free(struct view *v);

/* Append v in form to out (text and JSON end with a newline; KV does not). */
void view_render(const struct view *v, enum view_form form, struct sbuf *out);

/*
 * Containers: key names it in the object around it (NULL in a list or at
 * the top). A table's title is a line of text above its header (NULL:
 * none); view_row opens one of its rows. view_pairs opens an object whose
 * text is a line "name value" per field, the names padded to width and
 * indented, leaving out fields that are zero, false or null.
 */
void view_object(struct view *v, const char *key);
void view_list(struct view *v, const char *key);
void view_table(struct view *v, const char *key, const struct view_table *t, const char *title);
void view_row(struct view *v);
void view_pairs(struct view *v, const char *key, unsigned indent, unsigned width);
/* Close the innermost open container (nothing open: nothing). */
void view_end(struct view *v);

/* Fields (key NULL in a list). */
void view_str(struct view *v, const char *key, const char *s);
void view_u64(struct view *v, const char *key, uint64_t x);
void view_i64(struct view *v, const char *key, int64_t x);
void view_bool(struct view *v, const char *key, bool x);
void view_null(struct view *v, const char *key);
/* An address or a MAC: a string, "198.18.0.1", "02:00:00:00:00:0a". */
void view_ip4(struct view *v, const char *key, uint32_t ip);
void view_ip4_prefix(struct view *v, const char *key, uint32_t ip, uint8_t len);
void view_mac(struct view *v, const char *key, const struct mac *m);
/* The text of the field just added, where it is not its JSON value ("DOWN"). */
void view_text(struct view *v, const char *s);

/*
 * Lines of text (JSON and KV leave them out). view_line's template shows
 * fields: {key} is the text of the field key of the object around the
 * line, or of the nearest object around that has one; {a.b} the field b of
 * the object a. Fields are found when the view is rendered, so a line may
 * name fields added after it. A name that finds none stays as it is.
 * view_linef's text is taken as it is (no fields).
 */
void view_line(struct view *v, const char *tmpl);
void view_linef(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The fields of v one by one, for an exporter (os/prom.h): every number,
 * bool, string and address, in order, except nulls and the items of a list
 * of plain values. path: the keys of the objects from the top down to the
 * field, joined by '.' (a list's item, a table's row adds no key); items:
 * the list items and table rows around it, outermost first (read their
 * fields with view_item_field); list: the path of each one's list.
 */
#define VIEW_WALK_DEPTH 8

enum view_walk_kind { VIEW_W_U64, VIEW_W_I64, VIEW_W_BOOL, VIEW_W_STR };

struct view_field {
	const char *path;
	enum view_walk_kind kind;
	uint64_t u;	  /* VIEW_W_U64, VIEW_W_BOOL (0 or 1) */
	int64_t i;	  /* VIEW_W_I64 */
	const char *text; /* VIEW_W_STR: the string, an address's text */
	size_t depth;	  /* items around it */
	uint32_t items[VIEW_WALK_DEPTH];
	const char *list[VIEW_WALK_DEPTH];
};

typedef void view_walk_fn(void *arg, const struct view_field *f);

/* Calls fn for each field of v (fields deeper than VIEW_WALK_DEPTH items are left out). */
void view_walk(const struct view *v, view_walk_fn *fn, void *arg);

/*
 * The text of the field key of item (one of a view_field's items) appended
 * to out: 0, or -1 when the item has no such field, or it is null, a list
 * or an object.
 */
int view_item_field(const struct view *v, uint32_t item, const char *key, struct sbuf *out);

#endif
