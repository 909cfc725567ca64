#include "daemon/ctl_cmds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ctl_cmd ctl_cmds[] = {
    {.words = "arp show",
     .max_args = 1,
     .args = {{.name = "IFACE"}},
     .help = "the ARP cache (type, address, MAC, seconds to expiry)"},
    {.words = "arp flush",
     .max_args = 1,
     .args = {{.name = "IFACE"}},
     .help = "remove dynamic entries (all interfaces without IFACE)"},
    {.words = "announce",
     .min_args = 1,
     .max_args = 1,
     .args = {{.name = "IFACE"}},
     .need = "an interface",
     .help = "send gratuitous ARP for IFACE's addresses and published entries"},
    {.words = "stats", .help = "counters by interface and reason"},
    {.words = "cluster", .help = "the cluster's members and counters"},
    {.words = "cluster test-traffic",
     .min_args = 2,
     .max_args = 2,
     .args = {{.name = "PERIOD_MS", .lo = 1, .hi = 60000},
	      {.name = "COUNT", .lo = 1, .hi = 10000000}}},
    {.words = "vip", .help = "each VIP: address, state, owner, priority, health, last change"},
    {.words = "vip demote",
     .min_args = 1,
     .max_args = 2,
     .args = {{.name = "GROUP"}, {.name = "N", .lo = 1, .hi = 253}},
     .need = "a VIP group",
     .help = "lower a VIP group's priority by N (default: to 1) for maintenance"},
    {.words = "vip promote",
     .min_args = 1,
     .max_args = 1,
     .args = {{.name = "GROUP"}},
     .need = "a VIP group",
     .help = "undo vip demote"},
    {.words = "conns", .help = "connection sync: entries held locally and from each peer"},
    {.words = "neighbors",
     .max_args = 4,
     .args = {{.name = "IFACE"}, {.name = "-names"}, {.name = "-devinfo"}, {.name = "-ip6"}},
     .help = "the neighbour cache: each device's addresses, state, vendor (-names: host "
	     "names; -devinfo: device type)"},
    {.words = "neighbors show",
     .min_args = 1,
     .max_args = 1,
     .args = {{.name = "MAC"}},
     .need = "a MAC",
     .help = "one device of the neighbour cache, everything known about it"},
    {.words = "ranges",
     .help = "active-active: the buckets each node claims, the aim, the kernel's counters"},
    {0},
};

/* Append to buf[*at..len) as printf would; cut at the end of buf. */
__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t len, size_t *at,
						      const char *fmt, ...)
{
	if (*at >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

/* The length of the first word of c's words. */
static size_t first_len(const struct ctl_cmd *c)
{
	return strcspn(c->words, " ");
}

static bool starts_with_word(const struct ctl_cmd *c, const char *w)
{
	size_t n = first_len(c);
	return strncmp(c->words, w, n) == 0 && w[n] == '\0';
}

/* The second word ("show" of "arp show"), or NULL. */
static const char *verb(const struct ctl_cmd *c)
{
	const char *sp = strchr(c->words, ' ');
	return sp ? sp + 1 : NULL;
}

const char *ctl_usage(const struct ctl_cmd *c, char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = '\0';
	add(buf, len, &at, "%s", c->words);
	for (unsigned i = 0; i < c->max_args && i < CTL_MAX_ARGS; i++)
		add(buf, len, &at, i < c->min_args ? " %s" : " [%s]", c->args[i].name);
	return buf;
}

const char *ctl_usage_list(char *buf, size_t len)
{
	size_t at = 0;
	char u[128];
	if (len)
		buf[0] = '\0';
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++)
		if (c->help)
			add(buf, len, &at, "%s%s", at ? ", " : "", ctl_usage(c, u, sizeof(u)));
	return buf;
}

const struct ctl_cmd *ctl_find(const char *words)
{
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++)
		if (strcmp(c->words, words) == 0)
			return c;
	return NULL;
}

/* A whole number in lo..hi, and nothing else: 0 and *v, or -1. */
static int number_in(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && !errno && *v >= lo && *v <= hi ? 0 : -1;
}

/* c's arguments: their number, then the numbers' ranges. */
static enum ctl_check check_args(const struct ctl_cmd *c, int nargs, char *const *args,
				 struct ctl_req *out, char *msg, size_t len)
{
	char u[128];
	size_t at = 0;
	ctl_usage(c, u, sizeof(u));
	if (nargs < (int)c->min_args) { /* in words and where, or by the arguments' names */
		add(msg, len, &at, "%s needs ", c->words);
		if (c->need)
			add(msg, len, &at, "%s: %s", c->need, u);
		for (unsigned i = 0; !c->need && i < c->min_args; i++)
			add(msg, len, &at, "%s%s", i ? " and " : "", c->args[i].name);
		return CTL_USAGE;
	}
	if (nargs > (int)c->max_args) {
		if (c->max_args == 0)
			add(msg, len, &at, "too many arguments to %s (it takes none)", c->words);
		else
			add(msg, len, &at, "too many arguments to %s (expected: %s)", c->words, u);
		return CTL_USAGE;
	}
	for (int i = 0; i < nargs; i++) {
		const struct ctl_arg *a = &c->args[i];
		if (!a->hi || number_in(args[i], a->lo, a->hi, &out->num[i]) == 0)
			continue;
		add(msg, len, &at, "%s: expected", u);
		bool first = true;
		for (unsigned k = 0; k < c->max_args; k++) {
			if (!c->args[k].hi)
				continue;
			add(msg, len, &at, "%s %s %lu..%lu", first ? "" : " and", c->args[k].name,
			    c->args[k].lo, c->args[k].hi);
			first = false;
		}
		return CTL_USAGE;
	}
	out->cmd = c;
	out->args = args;
	out->nargs = nargs;
	return CTL_OK;
}

/*
 * The verb after w is missing or unknown: name the forms w has. Forms
 * with a verb only: "expected show or flush"; a form without one too:
 * the whole usages.
 */
static void wrong_verb(const char *w, const char *got, bool bare, char *msg, size_t len)
{
	size_t at = 0, n = 0, k = 0;
	char u[128];
	const char *sep;
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++)
		n += starts_with_word(c, w);
	if (!got)
		add(msg, len, &at, "%s needs a verb: ", w);
	else
		add(msg, len, &at, "%s: unknown verb \"%s\" (expected%s", w, got,
		    bare ? ": " : " ");
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++) {
		if (!starts_with_word(c, w))
			continue;
		sep = k == 0 ? "" : bare ? ", or " : k + 1 == n ? " or " : ", ";
		add(msg, len, &at, "%s%s", sep,
		    got && !bare ? verb(c) : ctl_usage(c, u, sizeof(u)));
		k++;
	}
	if (got)
		add(msg, len, &at, ")");
}

enum ctl_check ctl_check(int argc, char *const *argv, struct ctl_req *out, char *msg, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (len)
		msg[0] = '\0';
	if (argc < 1) {
		snprintf(msg, len, "no command");
		return CTL_UNKNOWN;
	}
	const char *w = argv[0];
	const struct ctl_cmd *bare = NULL;
	bool verbs = false;
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++) {
		if (!starts_with_word(c, w))
			continue;
		if (verb(c))
			verbs = true;
		else
			bare = c;
	}
	if (!bare && !verbs) {
		snprintf(msg, len, "unknown command \"%s\"", w);
		return CTL_UNKNOWN;
	}
	for (const struct ctl_cmd *c = ctl_cmds; argc >= 2 && c->words; c++)
		if (starts_with_word(c, w) && verb(c) && strcmp(verb(c), argv[1]) == 0)
			return check_args(c, argc - 2, argv + 2, out, msg, len);
	/* a second word that is no verb is an argument, where it may be one */
	if (bare && (argc == 1 || bare->max_args > 0 || !verbs))
		return check_args(bare, argc - 1, argv + 1, out, msg, len);
	wrong_verb(w, argc >= 2 ? argv[1] : NULL, bare != NULL, msg, len);
	return CTL_USAGE;
}
