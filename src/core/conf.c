/*
 * conf: config_parse's reader, its errors and the registry of sections
 * (see conf.h). The value parsers are in conf_value.c, the sections in
 * conf_<section>.c.
 *
 * Our reader hands libinih one line per call and counts lines, so every
 * message carries the right line. The reader also sees every section
 * header first: it closes the previous section (its end hook checks what
 * it needs) and opens the new one from conf_sections[]. inih then delivers
 * Key=Value pairs to the handler, which finds the key in the section's
 * table and calls its parser. Checks that need the whole file run after
 * the parse, each in the file of its section.
 *
 * An error does not stop the parse: every error is collected (up to
 * CONF_MAX_ERRORS), so one run of `arphad -n` shows them all. A line with
 * an error is handed to inih as a blank line; the settings of a section
 * whose header is wrong are skipped; and a section with an error is left
 * out of the checks of the whole file, so one mistake is reported once and
 * not again as the cause of others.
 */
#include "conf.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array.h"

const struct conf_section *const conf_sections[] = {
    &conf_daemon_section,
    &conf_arp_section,
    &conf_interface_section,
    &conf_arpentry_section,
    &conf_proxyarp_section,
    &conf_cluster_section,
    &conf_vip_section,
    &conf_flush_section,
    &conf_connsync_section,
    &conf_balance_section,
    &conf_neighbors_section,
    &conf_host_section,
    &conf_track_section,
    NULL,
};
_Static_assert(sizeof(conf_sections) / sizeof(conf_sections[0]) <= CONF_KINDS_MAX,
	       "raise CONF_KINDS_MAX");

/*
 * The checks of the whole file. Their order is the order of their
 * messages, which decides which of them are kept past CONF_MAX_ERRORS.
 */
static void (*const file_checks[])(struct conf_parser *p) = {
    conf_interface_check, conf_arpentry_check, conf_proxyarp_check, conf_connsync_check,
    conf_vip_check,	  conf_flush_check,    conf_balance_check, conf_track_check,
};

/* ---- errors and arrays ---- */

/*
 * Copy in to out (len bytes) with every byte that is not printable ASCII
 * written as \xNN, so that a message never sends raw bytes of a bad file to
 * a terminal.
 */
static void escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 1 < len; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch >= 0x20 && ch < 0x7f) {
			out[o++] = (char)ch;
			continue;
		}
		if (o + 5 > len)
			break;
		snprintf(out + o, 5, "\\x%02x", ch);
		o += 4;
	}
	out[o] = '\0';
}

int conf_fail(struct conf_parser *p, int line, const char *fmt, ...)
{
	p->sect_bad = true;
	if (p->n_errs == CONF_MAX_ERRORS) {
		p->more_errs++;
		return -1;
	}
	char raw[CONF_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct conf_error *e = &p->errs[p->n_errs++];
	e->line = line;
	escape(raw, e->msg, sizeof(e->msg));
	return -1;
}

bool conf_was_bad(const struct conf_parser *p, int line)
{
	size_t lo = 0, hi = p->n_bad;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->bad[mid] == line)
			return true;
		if (p->bad[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void *conf_push(struct conf_parser *p, void **v, size_t *n, size_t *cap, size_t size)
{
	if (array_grow(v, cap, *n + 1, size, 4) < 0) {
		conf_fail(p, p->line, "out of memory");
		return NULL;
	}
	void *e = (char *)*v + *n * size;
	(*n)++;
	memset(e, 0, size);
	return e;
}

/* ---- the reader ---- */

struct reader {
	struct conf_parser p;
	/* input */
	const char *text;
	size_t len, pos;
	/* the section being read */
	const struct conf_section *sect; /* NULL before the first header */
	void *obj;			 /* what its keys set */
	char title[CONF_HOST_NAME_MAX + 16]; /* "ARP", "Interface lan", for messages */
	int kind_line[CONF_KINDS_MAX];	 /* first line of each non-repeatable kind */
	bool saw[CONF_KINDS_MAX];	 /* a header of each kind was read, right or wrong */
	bool skip;			 /* the header was wrong: ignore the section's settings */
	bool stop;			 /* not a text file: read no further */
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f' || ch == '\n';
}

/* "Daemon, ARP, Interface NAME, ARPEntry, ProxyARP" */
static void kinds_list(char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; conf_sections[i] && off < len; i++) {
		int n =
		    snprintf(buf + off, len - off, "%s%s", i ? ", " : "", conf_sections[i]->usage);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

static void keys_list(const struct conf_section *s, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; s->keys[i].name && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", s->keys[i].name);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

/* The section being read ends: check it, and remember whether it was right. */
static void close_section(struct reader *r)
{
	struct conf_parser *p = &r->p;
	/* a section with an error is checked no further: a misspelt key is not also missing */
	if (r->sect && !r->skip && !p->sect_bad && r->sect->end)
		r->sect->end(p, r->obj);
	if (r->sect && !r->skip && p->sect_bad) {
		if (array_grow((void **)&p->bad, &p->cap_bad, p->n_bad + 1, sizeof(*p->bad), 8) < 0)
			conf_fail(p, p->line, "out of memory");
		else
			p->bad[p->n_bad++] = p->sect_line;
	}
	r->sect = NULL;
	r->obj = NULL;
	r->skip = false;
	p->sect_bad = false;
}

/* Split a header's text h into its kind (in h) and its name, blanks removed. */
static char *header_name(char *h)
{
	size_t n = strlen(h);
	while (n && is_space(h[n - 1]))
		h[--n] = '\0';
	char *name = h + strcspn(h, " \t");
	if (*name) {
		*name++ = '\0';
		while (is_space(*name))
			name++;
	}
	return name;
}

/* A header line; h is the text between '[' and ']'. 0, or -1: skip the section. */
static int open_section(struct reader *r, char *h)
{
	struct conf_parser *p = &r->p;
	close_section(r);
	memset(p->seen, 0, sizeof(p->seen));
	p->sect_line = p->line;

	while (is_space(*h))
		h++;
	char *name = header_name(h);
	size_t ki;
	for (ki = 0; conf_sections[ki]; ki++)
		if (strcasecmp(conf_sections[ki]->name, h) == 0)
			break;
	const struct conf_section *s = conf_sections[ki];
	if (!s) {
		char list[256];
		kinds_list(list, sizeof(list));
		return conf_fail(p, p->line, "unknown section [%s%s%s]; expected one of %s", h,
				 *name ? " " : "", name, list);
	}
	r->saw[ki] = true;
	if (s->named && !*name)
		return conf_fail(p, p->line, "section [%s] needs a name: [%s]", s->name, s->usage);
	if (!s->named && *name)
		return conf_fail(p, p->line, "section [%s] takes no name; got [%s %s]", s->name, h,
				 name);
	if (!s->repeatable) {
		if (r->kind_line[ki])
			return conf_fail(
			    p, p->line,
			    "duplicate section [%s]; the first is at line %d; merge them", s->name,
			    r->kind_line[ki]);
		r->kind_line[ki] = p->line;
	}
	if (!(r->obj = s->begin(p, name)))
		return -1;
	r->sect = s;
	snprintf(r->title, sizeof(r->title), "%s%s%s", s->name, *name ? " " : "", name);
	return 0;
}

/* The key named key in s (case-insensitive): its index, or -1. */
static int find_key(const struct conf_section *s, const char *key)
{
	for (int i = 0; s->keys[i].name && i < CONF_KEYS_MAX; i++)
		if (strcasecmp(s->keys[i].name, key) == 0)
			return i;
	return -1;
}

/* One Key=Value of the current section. 0 or -1. */
static int setting(struct reader *r, const char *key, const char *value)
{
	struct conf_parser *p = &r->p;
	if (r->skip)
		return 0; /* the section's header was wrong and is reported */
	if (!*key)
		return conf_fail(p, p->line, "a setting without a name; expected Key=Value");
	if (!r->sect)
		return conf_fail(p, p->line,
				 "setting %s outside any section; put it under a [Section] header",
				 key);
	int i = find_key(r->sect, key);
	if (i < 0) {
		char list[CONF_MSG_MAX - 128];
		keys_list(r->sect, list, sizeof(list));
		return conf_fail(p, p->line, "unknown setting %s in [%s]; expected one of %s", key,
				 r->title, list);
	}
	const struct conf_key *k = &r->sect->keys[i];
	if (p->seen[i] && !(k->flags & CONF_LIST))
		return conf_fail(p, p->line, "%s is set twice in [%s]; the first is at line %d",
				 k->name, r->title, p->seen[i]);
	if (!p->seen[i])
		p->seen[i] = p->line;
	if (!*value)
		return conf_fail(p, p->line, "%s: empty value; remove the line for the default",
				 k->name);
	for (const unsigned char *q = (const unsigned char *)value; *q; q++)
		if ((*q < 0x20 && *q != '\t') || *q == 0x7f)
			/* no path, name or word holds one; it would reach logs and terminals */
			return conf_fail(p, p->line,
					 "%s: the value holds a control character (\\x%02x); "
					 "expected printable text",
					 k->name, (unsigned)*q);
	p->key_line = p->seen[i];
	if (k->parse(p, k, r->obj, value) < 0)
		return -1;
	if ((k->flags & CONF_LINE) && p->seen[i] == p->line)
		memcpy((char *)r->obj + k->line_off, &p->line, sizeof(p->line));
	return 0;
}

/* inih's callback for every Key=Value: 1 = fine, 0 = error. */
static int on_setting(void *user, const char *section, const char *key, const char *value)
{
	(void)section;		   /* the reader tracks sections itself */
	setting(user, key, value); /* an error is recorded; the parse goes on */
	return 1;
}

/* Where s (length n) holds '=' or ':' the way inih looks for it. */
static bool has_separator(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' || s[i] == ':')
			return true;
		if (s[i] == ';' && i > 0 && is_space(s[i - 1]))
			return false; /* an inline comment starts */
	}
	return false;
}

/* A header line s (length n, starting with '['), before inih sees it. 0, or -1: skip it. */
static int header(struct reader *r, const char *s, size_t n)
{
	struct conf_parser *p = &r->p;
	char h[CONF_MSG_MAX];
	const char *end = memchr(s, ']', n);
	const char *after = end ? end + 1 : NULL;
	while (after && after < s + n && is_space(*after))
		after++;
	size_t hn = end ? (size_t)(end - s - 1) : 0;
	if (!end)
		conf_fail(p, p->line, "section header %.*s has no closing ']'", (int)n, s);
	else if (after < s + n && *after != ';' && *after != '#')
		conf_fail(p, p->line, "unexpected text after the section header: \"%.*s\"",
			  (int)(s + n - after), after);
	else if (hn >= sizeof(h))
		conf_fail(p, p->line, "section header longer than %zu characters", sizeof(h) - 1);
	else {
		memcpy(h, s + 1, hn);
		h[hn] = '\0';
		if (open_section(r, h) == 0)
			return 0;
		r->skip = true;
		return -1;
	}
	close_section(r);
	r->skip = true;
	return -1;
}

/*
 * inih's reader: one line of the buffer per call, leading blanks removed
 * (so no line is ever read as the continuation of a value), section headers
 * handled here. A line with an error is recorded and handed on as a blank
 * line, so the parse goes on. NULL ends the parse.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	struct conf_parser *p = &r->p;
	if (r->stop || r->pos >= r->len || num < 4)
		return NULL;
	p->line++;
	const char *s = r->text + r->pos;
	size_t rest = r->len - r->pos;
	const char *nl = memchr(s, '\n', rest);
	size_t n = nl ? (size_t)(nl - s) : rest;
	r->pos += n + (nl ? 1 : 0);
	str[0] = '\n';
	str[1] = '\0';

	if (memchr(s, '\0', n)) {
		conf_fail(p, p->line, "NUL byte; this is not a text file");
		r->stop = true;
		return NULL;
	}
	if (p->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3; /* UTF-8 byte order mark */
		n -= 3;
	}
	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;

	size_t room = (size_t)num - 2; /* the line, '\n', NUL */
	if (n == 0 || *s == ';' || *s == '#')
		return str; /* blank or comment: inih skips it; long comments are fine */
	if (memchr(s, '\r', n)) {
		conf_fail(p, p->line,
			  "a carriage return (\\r) inside the line: are the lines of the file "
			  "ended by CR alone (old Mac style)? End each line with LF (\\n), e.g. "
			  "with: tr '\\r' '\\n'");
		return str;
	}
	if (n > room) {
		conf_fail(p, p->line,
			  "line longer than %zu characters; a list may go on over several lines, "
			  "with its key repeated on each (Peers=... on one line, Peers=... on the "
			  "next)",
			  room);
		return str;
	}
	if (*s == '[' && header(r, s, n) < 0)
		return str;
	if (*s != '[' && !has_separator(s, n)) {
		conf_fail(p, p->line,
			  "expected a [Section] header, a Key=Value setting or a comment, got "
			  "\"%.*s\"",
			  (int)n, s);
		return str;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* The file as a whole: the sections it needs, then each section's checks. */
static void check_file(struct reader *r)
{
	struct conf_parser *p = &r->p;
	/* a file with other errors may have lost its sections to them: say this alone */
	for (size_t i = 0; conf_sections[i]; i++)
		if (conf_sections[i]->required && !r->saw[i] && p->n_errs == 0)
			conf_fail(p, 0, "no [%s] section: %s", conf_sections[i]->usage,
				  conf_sections[i]->required);
	for (size_t i = 0; i < sizeof(file_checks) / sizeof(file_checks[0]); i++)
		file_checks[i](p);
}

/* Sort the errors by line (stable), the file's own (line 0) last. */
static void sort_errors(struct conf_parser *p)
{
	for (size_t i = 1; i < p->n_errs; i++) {
		struct conf_error e = p->errs[i];
		unsigned key = e.line ? (unsigned)e.line : ~0u;
		size_t j = i;
		while (j > 0 && (p->errs[j - 1].line ? (unsigned)p->errs[j - 1].line : ~0u) > key) {
			p->errs[j] = p->errs[j - 1];
			j--;
		}
		p->errs[j] = e;
	}
}

/* The errors into err, one per line; a line that does not fit ends it. */
static void write_errors(const struct conf_parser *p, const char *fname, char *err, size_t errlen)
{
	size_t off = 0;
	if (!errlen)
		return;
	err[0] = '\0';
	for (size_t i = 0; i <= p->n_errs; i++) {
		char line[CONF_MSG_MAX + 300];
		int n;
		if (i < p->n_errs && p->errs[i].line > 0)
			n = snprintf(line, sizeof(line), "%s:%d: %s", fname, p->errs[i].line,
				     p->errs[i].msg);
		else if (i < p->n_errs)
			n = snprintf(line, sizeof(line), "%s: %s", fname, p->errs[i].msg);
		else if (p->more_errs)
			n = snprintf(line, sizeof(line), "%s: %zu more errors not shown", fname,
				     p->more_errs);
		else
			break;
		if (n < 0)
			return;
		size_t need = strlen(line) + (off ? 1 : 0);
		if (off + need >= errlen) {
			if (!off) { /* the first, cut */
				memcpy(err, line, errlen - 1);
				err[errlen - 1] = '\0';
			}
			return;
		}
		n = snprintf(err + off, errlen - off, "%s%s", off ? "\n" : "", line);
		if (n < 0)
			return;
		off += need;
	}
}

int config_parse(const char *text, size_t len, const char *fname, struct config *out, char *err,
		 size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	memset(out, 0, sizeof(*out));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", fname);
		return -1;
	}
	struct conf_parser *p = &r->p;
	r->text = text ? text : "";
	r->len = text ? len : 0;
	for (size_t i = 0; conf_sections[i]; i++)
		if (conf_sections[i]->defaults)
			conf_sections[i]->defaults(&p->c);

	int e = ini_parse_stream(read_line, r, on_setting, r);
	if (e > 0) {
		/* a line inih refused that the reader let through */
		bool known = false;
		for (size_t i = 0; i < p->n_errs; i++)
			known |= p->errs[i].line == e;
		if (!known)
			conf_fail(p, e,
				  "expected a [Section] header, a Key=Value setting or a comment");
	} else if (e < 0) {
		conf_fail(p, p->line, "out of memory");
	}
	close_section(r);
	if (!r->stop)
		check_file(r);
	free(p->bad);
	free(p->vip_names);

	if (p->n_errs > 0) {
		sort_errors(p);
		write_errors(p, fname, err, errlen);
		config_free(&p->c);
		free(r);
		return -1;
	}
	*out = p->c;
	free(r);
	return 0;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_proxies; i++)
		free(c->proxies[i].ifaces);
	free(c->proxies);
	free(c->vips);
	free(c->hosts);
	free(c->tracks);
	free(c->entries);
	free(c->ifaces);
	memset(c, 0, sizeof(*c));
}
