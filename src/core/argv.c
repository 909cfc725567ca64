/* argv: shell-style word splitting without a shell (see argv.h). */
#include "argv.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct split {
	char *buf;
	size_t buflen, pos;
	char **argv;
	size_t maxargs, n;
	bool in_word;
	char *err;
	size_t errlen;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int put(struct split *s, char c)
{
	if (!s->in_word) {
		if (s->n == s->maxargs) {
			snprintf(s->err, s->errlen, "more than %zu words; expected at most %zu",
				 s->maxargs, s->maxargs);
			return -1;
		}
		if (s->pos >= s->buflen) {
			snprintf(s->err, s->errlen, "the command is too long");
			return -1;
		}
		s->argv[s->n++] = s->buf + s->pos;
		s->in_word = true;
	}
	if (c == '\0')
		return 0; /* only open the word ('' or "") */
	if (s->pos + 1 >= s->buflen) {
		snprintf(s->err, s->errlen, "the command is too long");
		return -1;
	}
	s->buf[s->pos++] = c;
	return 0;
}

static void end_word(struct split *s)
{
	if (s->in_word) {
		s->buf[s->pos++] = '\0'; /* put() kept room for it */
		s->in_word = false;
	}
}

static int meta(struct split *s, const char *text, size_t i)
{
	char c = text[i];
	if (c && strchr("|&;<>()$`*?[", c))
		return 1;
	return (c == '#' || c == '~') && !s->in_word;
}

int argv_split(const char *text, char *buf, size_t buflen, char **argv, size_t maxargs, char *err,
	       size_t errlen)
{
	struct split s = {.buf = buf,
			  .buflen = buflen,
			  .argv = argv,
			  .maxargs = maxargs,
			  .err = err,
			  .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; text[i]; i++) {
		char c = text[i];
		if (is_blank(c)) {
			end_word(&s);
		} else if (c == '\'') {
			size_t open = i;
			if (put(&s, '\0') < 0)
				return -1;
			for (i++; text[i] && text[i] != '\''; i++)
				if (put(&s, text[i]) < 0)
					return -1;
			if (!text[i]) {
				snprintf(err, errlen,
					 "the quote ' at character %zu is never closed; expected a "
					 "closing '",
					 open + 1);
				return -1;
			}
		} else if (c == '"') {
			size_t open = i;
			if (put(&s, '\0') < 0)
				return -1;
			for (i++; text[i] && text[i] != '"'; i++) {
				char ch = text[i];
				if (ch == '\\' && text[i + 1] && strchr("\"\\$`\n", text[i + 1])) {
					ch = text[++i];
					if (ch == '\n')
						continue;
				}
				if (put(&s, ch) < 0)
					return -1;
			}
			if (!text[i]) {
				snprintf(
				    err, errlen,
				    "the quote \" at character %zu is never closed; expected a "
				    "closing \"",
				    open + 1);
				return -1;
			}
		} else if (c == '\\') {
			if (!text[i + 1]) {
				snprintf(err, errlen,
					 "a backslash at the end; expected a character after it "
					 "(write \\\\ for a backslash)");
				return -1;
			}
			i++;
			if (text[i] == '\n')
				continue; /* a line continuation */
			if (put(&s, text[i]) < 0)
				return -1;
		} else if (meta(&s, text, i)) {
			snprintf(err, errlen,
				 "'%c' at character %zu means something to a shell, and no shell "
				 "runs the command; quote it (\"%c\") for the character itself, or "
				 "put the shell command in a script",
				 c, i + 1, c);
			return -1;
		} else if (put(&s, c) < 0) {
			return -1;
		}
	}
	end_word(&s);
	argv[s.n] = NULL;
	return (int)s.n;
}
