/*
 * config: arphad's INI configuration, parsed with libinih from a buffer.
 *
 * Our reader hands inih one line per call and counts lines, so every
 * message carries the right line. The reader also sees every section
 * header first: it closes the previous section (checks its required keys)
 * and opens the new one from the table below. inih then delivers
 * Key=Value pairs to the handler, which dispatches them to the current
 * section's setter. Checks that need the whole file (names of [Interface]
 * sections, addresses of VIPs against ARP entries) run after the parse.
 *
 * An error does not stop the parse: every error is collected (up to
 * CONF_MAX_ERRORS), so one run of `arphad -n` shows them all. A line with
 * an error is handed to inih as a blank line; the settings of a section
 * whose header is wrong are skipped; and a section with an error is left
 * out of the checks of the whole file, so one mistake is reported once and
 * not again as the cause of others.
 *
 * A section kind is one entry in section_kinds[] plus its three hooks.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actions.h"
#include "argv.h"
#include "array.h"

#define MSG_MAX	  512
#define KEYS_MAX  64 /* settings per section */
#define KINDS_MAX 16 /* kinds of section */

struct parser;

struct section_kind {
	const char *name;  /* as in the header: "Interface" */
	const char *usage; /* for messages: "Interface NAME" */
	bool named;	   /* [Kind NAME] */
	bool repeatable;   /* may occur more than once */
	uint32_t lists;	   /* bit i: setting i is a list; each line of it adds to it */
	/* the i-th setting's name, NULL past the last */
	const char *(*key)(size_t i);
	/* a header [Kind NAME] was read (name "" when not named); 0 or -1 */
	int (*begin)(struct parser *p, const char *name);
	/* setting number i = value; 0 or -1 */
	int (*set)(struct parser *p, size_t i, const char *value);
	/* the section ended; check what it needs; 0 or -1 (may be NULL) */
	int (*end)(struct parser *p);
};

struct cerr {
	int line; /* 0: the whole file */
	char msg[MSG_MAX];
};

struct parser {
	/* input */
	const char *text;
	size_t len, pos;
	const char *fname;
	int line; /* the line inih is working on */
	/* the section being read */
	const struct section_kind *kind; /* NULL before the first header */
	char title[64];			 /* "ARP", "Interface lan", for messages */
	int sect_line;
	int seen[KEYS_MAX];	  /* line each setting was given on, 0 = not yet */
	int kind_line[KINDS_MAX]; /* first line of each non-repeatable kind */
	bool skip;		  /* the header was wrong: ignore the section's settings */
	bool sect_bad;		  /* the section being read has an error */
	bool stop;		  /* not a text file: read no further */
	bool saw_iface;		  /* an [Interface ...] header was read, right or wrong */
	/* output */
	struct config c;
	size_t cap_ifaces, cap_entries, cap_proxies, cap_vips;
	/* header lines of the sections that had an error */
	int *bad;
	size_t n_bad, cap_bad;
	/* the errors */
	struct cerr errs[CONF_MAX_ERRORS];
	size_t n_errs, more_errs;
};

static int number(struct parser *p, const char *key, const char *v, unsigned long long lo,
		  unsigned long long hi, unsigned long long *out);

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

/* Record an error at line (0: no line); the section being read is bad. Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int line, const char *fmt,
						      ...)
{
	p->sect_bad = true;
	if (p->n_errs == CONF_MAX_ERRORS) {
		p->more_errs++;
		return -1;
	}
	char raw[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct cerr *e = &p->errs[p->n_errs++];
	e->line = line;
	escape(raw, e->msg, sizeof(e->msg));
	return -1;
}

static bool failed(const struct parser *p)
{
	return p->n_errs > 0;
}

/* Did the section whose header is at line have an error? (p->bad is in file order) */
static bool is_bad(const struct parser *p, int line)
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

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f' || ch == '\n';
}

/* Grow *v (of *cap elements of size sz) to hold n + 1. 0 or -1. */
static int grow(struct parser *p, void **v, size_t *cap, size_t n, size_t sz)
{
	if (array_grow(v, cap, n + 1, sz, 4) < 0)
		return fail(p, p->line, "out of memory");
	return 0;
}

/* ---- value checks shared by the sections ---- */

#define NAME_RULE "1 to 15 characters from A-Z a-z 0-9 _ . : -"

static bool valid_ifname(const char *s)
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

/* Index of v among the NULL-terminated words (case-insensitive), or -1. */
static int word_index(const char *const *words, const char *v)
{
	for (int i = 0; words[i]; i++)
		if (strcasecmp(words[i], v) == 0)
			return i;
	return -1;
}

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

/* Fail with "Key: expected one of A, B, got "v"". */
static int bad_word(struct parser *p, const char *key, const char *const *words, const char *v)
{
	char list[256];
	join(words, list, sizeof(list));
	return fail(p, p->line, "%s: expected one of %s, got \"%s\"", key, list, v);
}

/* A list of words separated by blanks, or by one comma with blanks around it. */
struct words {
	const char *s;
	bool comma; /* a comma was read: a word must follow */
};

/*
 * The next word of the list: 1 with its start in *w and its length in *n;
 * 0 at the end; -1 for an empty element (",a", "a,,b", "a,").
 */
static int next_item(struct words *c, const char **w, size_t *n)
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

static int empty_item(struct parser *p, const char *key, const char *v)
{
	return fail(p, p->line,
		    "%s: \"%s\" has an empty element (two commas, or a comma at an end); "
		    "expected words separated by spaces or commas",
		    key, v);
}

/* ---- [Daemon] ---- */

enum { D_SOCKET, D_TARGET, D_LEVEL, D_RT };
static const char *const daemon_keys[] = {"ControlSocket", "LogTarget", "LogLevel",
					  "RealtimePriority", NULL};
static const char *const log_targets[] = {"syslog", "stderr", NULL};
static const char *const log_levels[] = {"err", "warning", "notice", "info", "debug", NULL};

static const char *daemon_key(size_t i)
{
	return i < sizeof(daemon_keys) / sizeof(daemon_keys[0]) ? daemon_keys[i] : NULL;
}

static int daemon_set(struct parser *p, size_t i, const char *v)
{
	int k;
	switch (i) {
	case D_SOCKET:
		if (v[0] != '/')
			return fail(p, p->line,
				    "ControlSocket: expected an absolute path (starting with /), "
				    "got \"%s\"",
				    v);
		if (strlen(v) >= CONF_PATH_MAX)
			return fail(
			    p, p->line,
			    "ControlSocket: the path is %zu bytes long; a unix socket path must be "
			    "shorter than %d",
			    strlen(v), CONF_PATH_MAX);
		snprintf(p->c.control_socket, sizeof(p->c.control_socket), "%s", v);
		p->c.control_socket_line = p->line;
		return 0;
	case D_TARGET:
		if ((k = word_index(log_targets, v)) < 0)
			return bad_word(p, "LogTarget", log_targets, v);
		p->c.log_target = k == 0 ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR;
		p->c.log_target_set = true;
		return 0;
	case D_LEVEL:
		if ((k = word_index(log_levels, v)) < 0)
			return bad_word(p, "LogLevel", log_levels, v);
		p->c.log_level = LOGL_ERR + k;
		return 0;
	case D_RT: {
		unsigned long long n = 0;
		if (number(p, "RealtimePriority", v, 0, 99, &n) < 0)
			return -1;
		p->c.rt_priority = (int)n;
		return 0;
	}
	}
	return -1;
}

/* ---- [ARP] ---- */

static const char *arp_key(size_t i)
{
	/* arp_settings[] ends with a NULL name */
	return arp_settings[i].name;
}

static int arp_set(struct parser *p, size_t i, const char *v)
{
	char msg[MSG_MAX - 64];
	if (arp_setting_set(&arp_settings[i], &p->c.arp, v, msg, sizeof(msg)) < 0)
		return fail(p, p->line, "%s: %s", arp_settings[i].name, msg);
	return 0;
}

/* ---- [Interface NAME] ---- */

static const char *iface_key(size_t i)
{
	return i == 0 ? "Device" : NULL;
}

static int iface_begin(struct parser *p, const char *name)
{
	if (!valid_ifname(name))
		return fail(p, p->line,
			    "[Interface %s]: \"%s\" is not an interface name; expected %s", name,
			    name, NAME_RULE);
	const struct conf_iface *old = config_iface(&p->c, name);
	if (old)
		return fail(p, p->line,
			    "duplicate section [Interface %s]; the first is at line %d; give each "
			    "interface one section",
			    name, old->line);
	if (grow(p, (void **)&p->c.ifaces, &p->cap_ifaces, p->c.n_ifaces, sizeof(*p->c.ifaces)) < 0)
		return -1;
	struct conf_iface *f = &p->c.ifaces[p->c.n_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->device, sizeof(f->device), "%s", name);
	f->line = p->line;
	f->device_line = p->line;
	return 0;
}

static int iface_set(struct parser *p, size_t i, const char *v)
{
	struct conf_iface *f = &p->c.ifaces[p->c.n_ifaces - 1];
	if (!valid_ifname(v))
		return fail(p, p->line, "Device: expected a network device name of %s, got \"%s\"",
			    NAME_RULE, v);
	snprintf(f->device, sizeof(f->device), "%s", v);
	f->device_line = p->line;
	return 0;
}

static int iface_end(struct parser *p)
{
	const struct conf_iface *f = &p->c.ifaces[p->c.n_ifaces - 1];
	if (strcmp(f->device, "lo") == 0)
		return fail(p, f->device_line,
			    "[Interface %s] Device=lo: the loopback device carries no ARP; "
			    "expected an Ethernet device such as eth0",
			    f->name);
	return 0;
}

/* ---- [ARPEntry] ---- */

enum { E_IFACE, E_IP, E_MODE, E_MAC };
static const char *const entry_keys[] = {"Interface", "IP", "Mode", "MAC", NULL};
static const char *const entry_modes[] = {"Static", "Publish", "XPublish", NULL};
static const uint8_t entry_mode_types[] = {ARP_STATIC, ARP_PUBLISH, ARP_XPUBLISH};

static const char *entry_key(size_t i)
{
	return i < sizeof(entry_keys) / sizeof(entry_keys[0]) ? entry_keys[i] : NULL;
}

static int entry_begin(struct parser *p, const char *name)
{
	if (grow(p, (void **)&p->c.entries, &p->cap_entries, p->c.n_entries,
		 sizeof(*p->c.entries)) < 0)
		return -1;
	struct conf_entry *e = &p->c.entries[p->c.n_entries++];
	memset(e, 0, sizeof(*e));
	e->line = p->line;
	return 0;
}

/* Why ip cannot be a unicast host address, or NULL when it can. */
static const char *ip_refusal(uint32_t ip)
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

static int entry_set(struct parser *p, size_t i, const char *v)
{
	struct conf_entry *e = &p->c.entries[p->c.n_entries - 1];
	const char *why;
	int k;
	switch (i) {
	case E_IFACE:
		if (!valid_ifname(v))
			return fail(
			    p, p->line,
			    "Interface: expected the name of an [Interface] section, got \"%s\"",
			    v);
		snprintf(e->iface, sizeof(e->iface), "%s", v);
		e->iface_line = p->line;
		return 0;
	case E_IP:
		e->ip_line = p->line;
		if (ip4_parse(v, &e->ip) < 0)
			return fail(p, p->line,
				    "IP: expected an IPv4 address such as 198.18.0.10, got \"%s\"",
				    v);
		if ((why = ip_refusal(e->ip)))
			return fail(p, p->line, "IP: %s is %s; expected a unicast host address", v,
				    why);
		return 0;
	case E_MODE:
		if ((k = word_index(entry_modes, v)) < 0)
			return bad_word(p, "Mode", entry_modes, v);
		e->mode = entry_mode_types[k];
		return 0;
	case E_MAC:
		if (mac_parse(v, &e->mac) < 0)
			return fail(p, p->line,
				    "MAC: expected a MAC address such as 02-86-f6-c5-a2-14 or "
				    "02:86:f6:c5:a2:14, got \"%s\"",
				    v);
		why = mac_is_broadcast(&e->mac)	  ? "the broadcast address"
		      : mac_is_multicast(&e->mac) ? "a multicast (group) address"
		      : mac_is_zero(&e->mac)	  ? "the zero address"
						  : NULL;
		if (why)
			return fail(p, p->line, "MAC: %s is %s; expected a unicast MAC", v, why);
		e->has_mac = true;
		return 0;
	}
	return -1;
}

static int entry_end(struct parser *p)
{
	struct conf_entry *e = &p->c.entries[p->c.n_entries - 1];
	for (size_t i = E_IFACE; i <= E_MODE; i++)
		if (!p->seen[i])
			return fail(p, p->sect_line,
				    "[ARPEntry] has no %s=; every ARPEntry needs Interface=, IP= "
				    "and Mode=",
				    entry_keys[i]);
	if (p->sect_bad)
		return -1;
	if (e->mode == ARP_STATIC && !e->has_mac)
		return fail(
		    p, p->seen[E_MODE],
		    "[ARPEntry] with Mode=Static needs MAC= (the address to map the IP to)");
	for (size_t i = 0; i + 1 < p->c.n_entries; i++) {
		const struct conf_entry *o = &p->c.entries[i];
		if (o->ip == e->ip && strcmp(o->iface, e->iface) == 0 && !is_bad(p, o->line)) {
			char ip[IP4_STRLEN];
			return fail(p, e->ip_line,
				    "[ARPEntry] for %s on %s repeats the one at line %d; give each "
				    "address one entry per interface",
				    ip4_fmt(e->ip, ip), e->iface, o->line);
		}
	}
	return 0;
}

/* ---- [ProxyARP] ---- */

/* Do the networks a and b share an address? */
static bool overlap(const struct ip4_prefix *a, const struct ip4_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	return ((a->addr ^ b->addr) & ip4_mask(len)) == 0;
}

/* Why no ARP may be answered for the network n, or NULL. */
static const char *net_refusal(const struct ip4_prefix *n)
{
	static const struct {
		struct ip4_prefix net;
		const char *why;
	} reserved[] = {
	    {{0x00000000u, 8}, "holds 0.0.0.0/8 (\"this network\", never a host)"},
	    {{0x7f000000u, 8}, "holds loopback addresses (127.0.0.0/8)"},
	    {{0xe0000000u, 4}, "holds multicast addresses (224.0.0.0/4)"},
	    {{0xffffffffu, 32}, "holds the broadcast address 255.255.255.255"},
	};
	if (n->len == 0)
		return "is every address";
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (overlap(n, &reserved[i].net))
			return reserved[i].why;
	return NULL;
}

enum { P_NETWORK, P_IFACES };
static const char *const proxy_keys[] = {"Network", "Interfaces", NULL};

static const char *proxy_key(size_t i)
{
	return i < sizeof(proxy_keys) / sizeof(proxy_keys[0]) ? proxy_keys[i] : NULL;
}

static int proxy_begin(struct parser *p, const char *name)
{
	if (grow(p, (void **)&p->c.proxies, &p->cap_proxies, p->c.n_proxies,
		 sizeof(*p->c.proxies)) < 0)
		return -1;
	struct conf_proxy *x = &p->c.proxies[p->c.n_proxies++];
	memset(x, 0, sizeof(*x));
	x->line = p->line;
	return 0;
}

static int proxy_set_ifaces(struct parser *p, struct conf_proxy *x, const char *v)
{
	bool more = p->seen[P_IFACES] != p->line; /* not the first Interfaces= line */
	if (!more)
		x->ifaces_line = p->line;
	if (strcasecmp(v, "all") == 0 || (more && x->all)) {
		if (more)
			return fail(p, p->line,
				    "Interfaces: all stands alone; got it with other names on line "
				    "%d",
				    p->seen[P_IFACES]);
		x->all = true;
		return 0;
	}
	size_t cap = x->n_ifaces, n;
	const char *w;
	struct words s = {v, false};
	int r;
	while ((r = next_item(&s, &w, &n)) > 0) {
		char name[CONF_IFNAMSIZ] = "";
		if (n < sizeof(name)) {
			memcpy(name, w, n);
			name[n] = '\0';
		}
		if (!valid_ifname(name))
			return fail(
			    p, p->line,
			    "Interfaces: \"%.*s\" is not an interface name; expected all, or "
			    "[Interface] names separated by spaces or commas",
			    (int)n, w);
		if (strcasecmp(name, "all") == 0)
			return fail(p, p->line, "Interfaces: all stands alone; got \"%s\"", v);
		for (size_t i = 0; i < x->n_ifaces; i++)
			if (strcmp(x->ifaces[i], name) == 0)
				return fail(p, p->line, "Interfaces: %s is listed twice", name);
		if (grow(p, (void **)&x->ifaces, &cap, x->n_ifaces, sizeof(*x->ifaces)) < 0)
			return -1;
		memcpy(x->ifaces[x->n_ifaces++], name, sizeof(name));
	}
	if (r < 0)
		return empty_item(p, "Interfaces", v);
	if (x->n_ifaces == 0)
		return fail(p, p->line,
			    "Interfaces: expected all, or [Interface] names separated by spaces or "
			    "commas, got \"%s\"",
			    v);
	return 0;
}

static int proxy_set(struct parser *p, size_t i, const char *v)
{
	struct conf_proxy *x = &p->c.proxies[p->c.n_proxies - 1];
	if (i == P_IFACES)
		return proxy_set_ifaces(p, x, v);
	struct ip4_prefix n;
	const char *why;
	x->net_line = p->line;
	if (ip4_prefix_parse(v, true, &n) < 0)
		return fail(
		    p, p->line,
		    "Network: expected a network as ADDRESS/LENGTH, e.g. 198.18.1.0/24, got "
		    "\"%s\"",
		    v);
	uint32_t net = n.addr & ip4_mask(n.len);
	if (net != n.addr) {
		char a[IP4_STRLEN];
		return fail(p, p->line, "Network: %s has host bits set; did you mean %s/%u?", v,
			    ip4_fmt(net, a), n.len);
	}
	if ((why = net_refusal(&n)))
		return fail(p, p->line,
			    "Network: %s %s; expected a network of unicast addresses that live "
			    "behind another interface, such as 198.18.1.0/24",
			    v, why);
	x->net = n;
	return 0;
}

static int proxy_end(struct parser *p)
{
	for (size_t i = 0; proxy_keys[i]; i++)
		if (!p->seen[i])
			return fail(p, p->sect_line,
				    "[ProxyARP] has no %s=; every ProxyARP needs Network= and "
				    "Interfaces=",
				    proxy_keys[i]);
	return 0;
}

/* ---- [Cluster] ---- */

enum { C_NODE, C_IFACE, C_GROUP, C_PEERS, C_PORT, C_KEY, C_ENCRYPT, C_INTERVAL, C_DEAD, C_BUFFER };
static const char *const cluster_keys[] = {
    "NodeID",  "Interface",	    "Group",	    "Peers",	  "Port", "KeyFile",
    "Encrypt", "HeartbeatInterval", "DeadInterval", "SendBuffer", NULL};
static const char *const yes_no[] = {"yes", "no", NULL};

static const char *cluster_key(size_t i)
{
	return i < sizeof(cluster_keys) / sizeof(cluster_keys[0]) ? cluster_keys[i] : NULL;
}

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

static int cluster_begin(struct parser *p, const char *name)
{
	struct conf_cluster *c = &p->c.cluster;
	c->present = true;
	c->line = p->line;
	return 0;
}

static int number(struct parser *p, const char *key, const char *v, unsigned long long lo,
		  unsigned long long hi, unsigned long long *out)
{
	char *end = NULL;
	if (*v < '0' || *v > '9')
		goto bad;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		goto bad;
	*out = n;
	return 0;
bad:
	return fail(p, p->line, "%s: expected a whole number from %llu to %llu, got \"%s\"", key,
		    lo, hi, v);
}

/*
 * Space- or comma-separated unicast IPv4 addresses into out (at most cap);
 * what: how the message names them ("the unicast IPv4 addresses of the
 * other nodes").
 */
static int address_list(struct parser *p, const char *key, const char *what, const char *v,
			uint32_t *out, size_t cap, size_t *n_out)
{
	const char *w;
	struct words s = {v, false};
	size_t n, before = *n_out;
	int r;
	while ((r = next_item(&s, &w, &n)) > 0) {
		char word[IP4_STRLEN] = "";
		uint32_t ip;
		if (n < sizeof(word))
			memcpy(word, w, n);
		const char *why = NULL;
		if (n >= sizeof(word) || ip4_parse(word, &ip) < 0 || (why = ip_refusal(ip)))
			return fail(
			    p, p->line,
			    "%s: \"%.*s\" is %s; expected %s, separated by spaces or commas", key,
			    (int)n, w, why ? why : "not an IPv4 address", what);
		for (size_t i = 0; i < *n_out; i++)
			if (out[i] == ip)
				return fail(p, p->line, "%s: %s is listed twice", key, word);
		if (*n_out == cap)
			return fail(p, p->line, "%s: more than %zu addresses", key, cap);
		out[(*n_out)++] = ip;
	}
	if (r < 0)
		return empty_item(p, key, v);
	if (*n_out == before)
		return fail(p, p->line, "%s: expected at least one IPv4 address", key);
	return 0;
}

static int cluster_set(struct parser *p, size_t i, const char *v)
{
	struct conf_cluster *c = &p->c.cluster;
	unsigned long long n = 0;
	int k;
	switch (i) {
	case C_NODE:
		if (number(p, "NodeID", v, 1, UINT32_MAX, &n) < 0)
			return -1;
		c->node_id = (uint32_t)n;
		return 0;
	case C_IFACE:
		if (!valid_ifname(v))
			return fail(p, p->line,
				    "Interface: expected the sync link's device (%s), got \"%s\"",
				    NAME_RULE, v);
		snprintf(c->device, sizeof(c->device), "%s", v);
		c->iface_line = p->line;
		return 0;
	case C_GROUP:
		if (ip4_parse(v, &c->group) < 0 || (c->group >> 28) != 0xe)
			return fail(
			    p, p->line,
			    "Group: expected an IPv4 multicast address (224.0.0.0/4), such as "
			    "239.192.74.10, got \"%s\"",
			    v);
		c->has_group = true;
		return 0;
	case C_PEERS:
		return address_list(p, "Peers", "the unicast IPv4 addresses of the other nodes", v,
				    c->peers, CONF_MAX_PEERS, &c->n_peers);
	case C_PORT:
		if (number(p, "Port", v, 1, 65535, &n) < 0)
			return -1;
		c->port = (uint16_t)n;
		return 0;
	case C_KEY:
		c->key_line = p->line;
		if (v[0] != '/')
			return fail(
			    p, p->line,
			    "KeyFile: expected an absolute path (starting with /), got \"%s\"", v);
		if (strlen(v) >= sizeof(c->key_file))
			return fail(p, p->line, "KeyFile: the path is longer than %zu bytes",
				    sizeof(c->key_file) - 1);
		snprintf(c->key_file, sizeof(c->key_file), "%s", v);
		return 0;
	case C_ENCRYPT:
		if ((k = word_index(yes_no, v)) < 0)
			return bad_word(p, "Encrypt", yes_no, v);
		c->encrypt = k == 0;
		return 0;
	case C_INTERVAL:
		if (config_duration(v, &c->interval_ms) < 0 || c->interval_ms < 10 ||
		    c->interval_ms > 60000)
			return fail(
			    p, p->line,
			    "HeartbeatInterval: expected a duration from 10ms to 60s, such as "
			    "100ms or 1s, got \"%s\"",
			    v);
		return 0;
	case C_DEAD:
		if (number(p, "DeadInterval", v, 2, 1000, &n) < 0)
			return -1;
		c->dead_count = (uint32_t)n;
		return 0;
	case C_BUFFER:
		if (number(p, "SendBuffer", v, 16, 1000000, &n) < 0)
			return -1;
		c->send_buffer = (uint32_t)n;
		return 0;
	}
	return -1;
}

static int cluster_end(struct parser *p)
{
	const struct conf_cluster *c = &p->c.cluster;
	static const size_t required[] = {C_NODE, C_IFACE, C_KEY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!p->seen[required[i]])
			return fail(p, p->sect_line,
				    "[Cluster] has no %s=; a cluster needs NodeID=, Interface=, "
				    "KeyFile= and Group= or Peers=",
				    cluster_keys[required[i]]);
	if (p->sect_bad)
		return -1;
	if (p->seen[C_GROUP] && p->seen[C_PEERS])
		return fail(p, p->seen[C_PEERS],
			    "[Cluster] has both Group= (line %d) and Peers=; use a multicast "
			    "group or a list of peers, not both",
			    p->seen[C_GROUP]);
	if (!c->has_group && !c->n_peers)
		return fail(p, p->sect_line,
			    "[Cluster] has neither Group= nor Peers=; say where the other nodes "
			    "are");
	return 0;
}

/* ---- [VIP NAME] ---- */

enum {
	V_ADDR,
	V_IFACE,
	V_PRIO,
	V_PREEMPT,
	V_PDELAY,
	V_TRACK,
	V_VMAC,
	V_VRID,
	V_GROUP,
	V_ANNOUNCE,
	V_ACOUNT,
	V_AIVL,
	V_REFRESH,
	V_FLUSH,
	V_NOTIFY
};
static const char *const vip_keys[] = {
    "Address",	       "Interface",	 "Priority",	  "Preempt",
    "PreemptDelay",    "TrackInterface", "VirtualMAC",	  "VRID",
    "Group",	       "Announce",	 "AnnounceCount", "AnnounceInterval",
    "RefreshInterval", "FlushHosts",	 "NotifyScript",  NULL};
static const char *const announce_words[] = {"garp", "vmac", "targeted", "flush", NULL};

static const char *vip_key(size_t i)
{
	return i < sizeof(vip_keys) / sizeof(vip_keys[0]) ? vip_keys[i] : NULL;
}

/* Names of VIPs and groups: as interface names, up to 31 characters. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.:-", *s))
			return false;
	return true;
}
#define VIP_NAME_RULE "1 to 31 characters from A-Z a-z 0-9 _ . : -"

/*
 * "the network address" or "the broadcast address" when a holds the first
 * or the last address of its prefix (up to /30: a /31 or /32 has neither),
 * else NULL.
 */
static const char *edge_address(const struct ip4_prefix *a)
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

static int vip_begin(struct parser *p, const char *name)
{
	if (!valid_name(name))
		return fail(p, p->line, "[VIP %s]: \"%s\" is not a VIP name; expected %s", name,
			    name, VIP_NAME_RULE);
	for (size_t i = 0; i < p->c.n_vips; i++)
		if (strcmp(p->c.vips[i].name, name) == 0)
			return fail(
			    p, p->line,
			    "duplicate section [VIP %s]; the first is at line %d; give each "
			    "VIP one section",
			    name, p->c.vips[i].line);
	if (grow(p, (void **)&p->c.vips, &p->cap_vips, p->c.n_vips, sizeof(*p->c.vips)) < 0)
		return -1;
	struct conf_vip *x = &p->c.vips[p->c.n_vips++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->group, sizeof(x->group), "%s", name);
	x->priority = 100;
	x->preempt = true;
	x->announce_count = 3;
	x->announce_interval_ms = 100;
	x->line = p->line;
	return 0;
}

static int vip_set(struct parser *p, size_t i, const char *v)
{
	struct conf_vip *x = &p->c.vips[p->c.n_vips - 1];
	unsigned long long n = 0;
	struct words s = {v, false};
	const char *w;
	size_t len;
	int k, r;
	switch (i) {
	case V_ADDR: {
		const char *why = NULL;
		x->addr_line = p->line;
		if (ip4_prefix_parse(v, true, &x->addr) < 0 || x->addr.len < 8 ||
		    (why = ip_refusal(x->addr.addr)))
			return fail(
			    p, p->line,
			    "Address: \"%s\" is %s; expected an IPv4 address with its prefix "
			    "length (/8 to /32), such as 198.18.0.100/24",
			    v, why ? why : "not an address with a prefix length");
		if ((why = edge_address(&x->addr))) {
			char a[IP4_STRLEN], h[IP4_STRLEN];
			uint32_t net = x->addr.addr & ip4_mask(x->addr.len);
			return fail(p, p->line,
				    "Address: %s is %s of %s/%u, which no host may hold; expected "
				    "an address inside the network, such as %s/%u",
				    v, why, ip4_fmt(net, a), x->addr.len, ip4_fmt(net + 1, h),
				    x->addr.len);
		}
		return 0;
	}
	case V_IFACE:
		if (!valid_ifname(v))
			return fail(p, p->line,
				    "Interface: expected the name of an [Interface] section, got "
				    "\"%s\"",
				    v);
		snprintf(x->iface, sizeof(x->iface), "%s", v);
		x->iface_line = p->line;
		return 0;
	case V_PRIO:
		if (number(p, "Priority", v, 1, 254, &n) < 0)
			return -1;
		x->priority = (uint8_t)n;
		return 0;
	case V_PREEMPT:
		if ((k = word_index(yes_no, v)) < 0)
			return bad_word(p, "Preempt", yes_no, v);
		x->preempt = k == 0;
		return 0;
	case V_PDELAY:
		if (config_duration(v, &x->preempt_delay_ms) < 0 || x->preempt_delay_ms > 3600000)
			return fail(p, p->line,
				    "PreemptDelay: expected a duration up to 1h, such as 0, 500ms, "
				    "30s or 5m, got \"%s\"",
				    v);
		return 0;
	case V_TRACK: {
		size_t before = x->n_track;
		while ((r = next_item(&s, &w, &len)) > 0) {
			char name[CONF_IFNAMSIZ] = "";
			if (len < sizeof(name))
				memcpy(name, w, len);
			if (len >= sizeof(name) || !valid_ifname(name))
				return fail(
				    p, p->line,
				    "TrackInterface: \"%.*s\" is not a device name; expected "
				    "%s",
				    (int)len, w, NAME_RULE);
			for (size_t t = 0; t < x->n_track; t++)
				if (strcmp(x->track[t], name) == 0)
					return fail(p, p->line,
						    "TrackInterface: %s is listed twice", name);
			if (x->n_track == CONF_MAX_TRACK)
				return fail(p, p->line, "TrackInterface: more than %d devices",
					    CONF_MAX_TRACK);
			x->track_line[x->n_track] = p->line;
			snprintf(x->track[x->n_track++], CONF_IFNAMSIZ, "%s", name);
		}
		if (r < 0)
			return empty_item(p, "TrackInterface", v);
		if (x->n_track == before)
			return fail(p, p->line, "TrackInterface: expected device names");
		return 0;
	}
	case V_VMAC:
		if ((k = word_index(yes_no, v)) < 0)
			return bad_word(p, "VirtualMAC", yes_no, v);
		x->vmac = k == 0;
		return 0;
	case V_VRID:
		if (number(p, "VRID", v, 1, 255, &n) < 0)
			return -1;
		x->vrid = (uint8_t)n;
		return 0;
	case V_GROUP:
		if (!valid_name(v))
			return fail(p, p->line, "Group: \"%s\" is not a group name; expected %s", v,
				    VIP_NAME_RULE);
		snprintf(x->group, sizeof(x->group), "%s", v);
		return 0;
	case V_ANNOUNCE:
		while ((r = next_item(&s, &w, &len)) > 0) {
			char word[16] = "";
			if (len < sizeof(word))
				memcpy(word, w, len);
			if ((k = word_index(announce_words, word)) < 0)
				return fail(p, p->line,
					    "Announce: \"%.*s\" is not a method; expected some of "
					    "garp, vmac, targeted, flush",
					    (int)len, w);
			if (x->announce & (1u << k))
				return fail(p, p->line, "Announce: %s is listed twice",
					    announce_words[k]);
			x->announce |= (uint8_t)(1u << k);
		}
		if (r < 0)
			return empty_item(p, "Announce", v);
		if (x->announce == 0)
			return fail(p, p->line,
				    "Announce: expected some of garp, vmac, targeted, flush");
		return 0;
	case V_ACOUNT:
		if (number(p, "AnnounceCount", v, 0, 100, &n) < 0)
			return -1;
		x->announce_count = (uint32_t)n;
		return 0;
	case V_AIVL:
		if (config_duration(v, &x->announce_interval_ms) < 0 ||
		    x->announce_interval_ms < 1 || x->announce_interval_ms > 60000)
			return fail(
			    p, p->line,
			    "AnnounceInterval: expected a duration from 1ms to 60s, such as "
			    "100ms, got \"%s\"",
			    v);
		return 0;
	case V_REFRESH:
		if (config_duration(v, &x->refresh_interval_ms) < 0 ||
		    (x->refresh_interval_ms && x->refresh_interval_ms < 100) ||
		    x->refresh_interval_ms > 86400000)
			return fail(p, p->line,
				    "RefreshInterval: expected 0 (off) or a duration from 100ms to "
				    "24h, such as 30s, 10m or 1h, got \"%s\"",
				    v);
		return 0;
	case V_FLUSH:
		if (!x->flush_line)
			x->flush_line = p->line;
		return address_list(p, "FlushHosts", "unicast IPv4 addresses", v, x->flush_hosts,
				    CONF_MAX_FLUSH_HOSTS, &x->n_flush_hosts);
	case V_NOTIFY: {
		char words[sizeof(x->notify)], why[256];
		char *wv[CONF_NOTIFY_ARGS + 1];
		if (strlen(v) >= sizeof(x->notify))
			return fail(p, p->line,
				    "NotifyScript: the command is longer than %zu bytes",
				    sizeof(x->notify) - 1);
		int nw =
		    argv_split(v, words, sizeof(words), wv, CONF_NOTIFY_ARGS, why, sizeof(why));
		if (nw < 0)
			return fail(p, p->line, "NotifyScript: %s", why);
		if (nw == 0 || wv[0][0] != '/')
			return fail(
			    p, p->line,
			    "NotifyScript: expected an absolute path (starting with /), got "
			    "\"%s\"",
			    v);
		snprintf(x->notify, sizeof(x->notify), "%s", v);
		x->notify_line = p->line;
		return 0;
	}
	}
	return -1;
}

static int vip_end(struct parser *p)
{
	struct conf_vip *x = &p->c.vips[p->c.n_vips - 1];
	if (!p->seen[V_ADDR])
		return fail(p, p->sect_line,
			    "[VIP %s] has no Address=; expected the address and its prefix length, "
			    "such as Address=198.18.0.100/24",
			    x->name);
	if (!p->seen[V_IFACE])
		return fail(
		    p, p->sect_line,
		    "[VIP %s] has no Interface=; expected the [Interface] the address lives "
		    "on",
		    x->name);
	if (p->sect_bad)
		return -1;
	if (x->vmac && !x->vrid)
		return fail(p, p->seen[V_VMAC],
			    "[VIP %s] has VirtualMAC=yes but no VRID=; the virtual MAC is "
			    "00:00:5e:00:01:VRID, so give a VRID from 1 to 255",
			    x->name);
	if (p->seen[V_VRID] && !x->vmac)
		return fail(p, p->seen[V_VRID],
			    "VRID: set without VirtualMAC=yes in [VIP %s]; VRID only chooses the "
			    "virtual MAC 00:00:5e:00:01:VRID, so add VirtualMAC=yes or remove "
			    "VRID=",
			    x->name);
	if (!p->seen[V_ANNOUNCE]) {
		x->announce = ANN_GARP | ANN_TARGETED;
		if (x->vmac)
			x->announce |= ANN_VMAC;
		if (x->n_flush_hosts)
			x->announce |= ANN_FLUSH;
	}
	if ((x->announce & ANN_VMAC) && !x->vmac)
		return fail(p, p->seen[V_ANNOUNCE],
			    "Announce: vmac needs VirtualMAC=yes in [VIP %s]", x->name);
	if ((x->announce & ANN_FLUSH) && !x->n_flush_hosts)
		return fail(p, p->seen[V_ANNOUNCE], "Announce: flush needs FlushHosts= in [VIP %s]",
			    x->name);
	return 0;
}

/* ---- [Flush] ---- */

enum { F_KEY, F_PORT, F_COUNT, F_INTERVAL };
static const char *const flush_keys[] = {"KeyFile", "Port", "Count", "Interval", NULL};

static const char *flush_key(size_t i)
{
	return i < sizeof(flush_keys) / sizeof(flush_keys[0]) ? flush_keys[i] : NULL;
}

static int flush_begin(struct parser *p, const char *name)
{
	(void)name;
	p->c.flush.present = true;
	p->c.flush.line = p->line;
	return 0;
}

static int flush_set(struct parser *p, size_t i, const char *v)
{
	struct conf_flush *f = &p->c.flush;
	unsigned long long n = 0;
	switch (i) {
	case F_KEY:
		f->key_line = p->line;
		if (v[0] != '/' || strlen(v) >= sizeof(f->key_file))
			return fail(p, p->line,
				    "KeyFile: expected an absolute path (starting with /) of at "
				    "most %zu bytes, got \"%s\"",
				    sizeof(f->key_file) - 1, v);
		snprintf(f->key_file, sizeof(f->key_file), "%s", v);
		return 0;
	case F_PORT:
		if (number(p, "Port", v, 1, 65535, &n) < 0)
			return -1;
		f->port = (uint16_t)n;
		return 0;
	case F_COUNT:
		if (number(p, "Count", v, 1, 100, &n) < 0)
			return -1;
		f->count = (uint32_t)n;
		return 0;
	case F_INTERVAL:
		if (config_duration(v, &f->interval_ms) < 0 || f->interval_ms < 10 ||
		    f->interval_ms > 60000)
			return fail(p, p->line,
				    "Interval: expected a duration from 10ms to 60s, such as 1s, "
				    "got \"%s\"",
				    v);
		return 0;
	}
	return -1;
}

static int flush_end(struct parser *p)
{
	if (!p->seen[F_KEY])
		return fail(p, p->sect_line,
			    "[Flush] has no KeyFile=; flush requests are authenticated with a key "
			    "the hosts share (make one with `arpha keygen FILE`)");
	return 0;
}

/* ---- [ConnSync] ---- */

enum { S_PROTOS, S_NETS, S_CHECK, S_MAX };
static const char *const connsync_keys[] = {"Protocols", "Networks", "CheckInterval", "MaxEntries",
					    NULL};
static const char *const ct_protos[] = {"tcp", "udp", "icmp", NULL};

static const char *connsync_key(size_t i)
{
	return i < sizeof(connsync_keys) / sizeof(connsync_keys[0]) ? connsync_keys[i] : NULL;
}

static int connsync_begin(struct parser *p, const char *name)
{
	(void)name;
	p->c.connsync.present = true;
	p->c.connsync.line = p->line;
	return 0;
}

static int connsync_set(struct parser *p, size_t i, const char *v)
{
	struct conf_connsync *x = &p->c.connsync;
	struct words s = {v, false};
	const char *w;
	size_t len, before;
	unsigned long long n = 0;
	int k, r;
	switch (i) {
	case S_PROTOS:
		if (p->seen[S_PROTOS] == p->line)
			x->protocols = 0; /* the first Protocols= line replaces the default */
		while ((r = next_item(&s, &w, &len)) > 0) {
			char word[8] = "";
			if (len < sizeof(word))
				memcpy(word, w, len);
			if ((k = word_index(ct_protos, word)) < 0)
				return fail(p, p->line,
					    "Protocols: \"%.*s\" is not synced; expected some of "
					    "tcp, udp, icmp",
					    (int)len, w);
			if (x->protocols & (1u << k))
				return fail(p, p->line, "Protocols: %s is listed twice",
					    ct_protos[k]);
			x->protocols |= (uint8_t)(1u << k);
		}
		if (r < 0)
			return empty_item(p, "Protocols", v);
		if (!x->protocols)
			return fail(p, p->line, "Protocols: expected some of tcp, udp, icmp");
		return 0;
	case S_NETS:
		before = x->n_nets;
		while ((r = next_item(&s, &w, &len)) > 0) {
			char word[32] = "", a[IP4_STRLEN];
			struct ip4_prefix net;
			if (len < sizeof(word))
				memcpy(word, w, len);
			if (len >= sizeof(word) || ip4_prefix_parse(word, true, &net) < 0)
				return fail(
				    p, p->line,
				    "Networks: \"%.*s\" is not a network; expected networks "
				    "with their prefix length, such as 198.18.1.0/24",
				    (int)len, w);
			uint32_t addr = net.addr & ip4_mask(net.len);
			if (addr != net.addr)
				return fail(p, p->line,
					    "Networks: %s has host bits set; did you mean %s/%u?",
					    word, ip4_fmt(addr, a), net.len);
			for (size_t j = 0; j < x->n_nets; j++)
				if (x->nets[j].addr == net.addr && x->nets[j].len == net.len)
					return fail(p, p->line, "Networks: %s is listed twice",
						    word);
			if (x->n_nets == CONF_MAX_CT_NETS)
				return fail(p, p->line, "Networks: more than %d networks",
					    CONF_MAX_CT_NETS);
			x->nets[x->n_nets++] = net;
		}
		if (r < 0)
			return empty_item(p, "Networks", v);
		if (x->n_nets == before)
			return fail(p, p->line, "Networks: expected at least one network");
		return 0;
	case S_CHECK:
		if (config_duration(v, &x->check_interval_ms) < 0 ||
		    (x->check_interval_ms && x->check_interval_ms < 100) ||
		    x->check_interval_ms > 86400000)
			return fail(p, p->line,
				    "CheckInterval: expected 0 (off) or a duration from 100ms to "
				    "24h, such as 10s, got \"%s\"",
				    v);
		return 0;
	case S_MAX:
		if (number(p, "MaxEntries", v, 1, 16777216, &n) < 0)
			return -1;
		x->max_entries = (uint32_t)n;
		return 0;
	}
	return -1;
}

/* ---- the sections ---- */

#define LIST(i) (1u << (i))
static const struct section_kind section_kinds[] = {
    {"Daemon", "Daemon", false, false, 0, daemon_key, NULL, daemon_set, NULL},
    {"ARP", "ARP", false, false, 0, arp_key, NULL, arp_set, NULL},
    {"Interface", "Interface NAME", true, true, 0, iface_key, iface_begin, iface_set, iface_end},
    {"ARPEntry", "ARPEntry", false, true, 0, entry_key, entry_begin, entry_set, entry_end},
    {"ProxyARP", "ProxyARP", false, true, LIST(P_IFACES), proxy_key, proxy_begin, proxy_set,
     proxy_end},
    {"Cluster", "Cluster", false, false, LIST(C_PEERS), cluster_key, cluster_begin, cluster_set,
     cluster_end},
    {"VIP", "VIP NAME", true, true, LIST(V_TRACK) | LIST(V_ANNOUNCE) | LIST(V_FLUSH), vip_key,
     vip_begin, vip_set, vip_end},
    {"Flush", "Flush", false, false, 0, flush_key, flush_begin, flush_set, flush_end},
    {"ConnSync", "ConnSync", false, false, LIST(S_PROTOS) | LIST(S_NETS), connsync_key,
     connsync_begin, connsync_set, NULL},
    {NULL, NULL, false, false, 0, NULL, NULL, NULL, NULL},
};
_Static_assert(sizeof(section_kinds) / sizeof(section_kinds[0]) <= KINDS_MAX, "raise KINDS_MAX");

/* "Daemon, ARP, Interface NAME, ARPEntry, ProxyARP" */
static void kinds_list(char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; section_kinds[i].name && off < len; i++) {
		int n =
		    snprintf(buf + off, len - off, "%s%s", i ? ", " : "", section_kinds[i].usage);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

static void keys_list(const struct section_kind *k, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; k->key(i) && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", k->key(i));
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

/* The section being read ends: check it, and remember whether it was right. */
static void close_section(struct parser *p)
{
	/* a section with an error is checked no further: a misspelt key is not also missing */
	if (p->kind && !p->skip && !p->sect_bad && p->kind->end)
		p->kind->end(p);
	if (p->kind && !p->skip && p->sect_bad) {
		if (array_grow((void **)&p->bad, &p->cap_bad, p->n_bad + 1, sizeof(*p->bad), 8) < 0)
			fail(p, p->line, "out of memory");
		else
			p->bad[p->n_bad++] = p->sect_line;
	}
	p->kind = NULL;
	p->skip = false;
	p->sect_bad = false;
}

/* A header line; h is the text between '[' and ']'. 0, or -1: skip the section. */
static int open_section(struct parser *p, char *h)
{
	close_section(p);
	memset(p->seen, 0, sizeof(p->seen));
	p->sect_line = p->line;

	while (is_space(*h))
		h++;
	size_t n = strlen(h);
	while (n && is_space(h[n - 1]))
		h[--n] = '\0';
	char *name = h + strcspn(h, " \t");
	if (*name) {
		*name++ = '\0';
		while (is_space(*name))
			name++;
	}

	size_t ki;
	for (ki = 0; section_kinds[ki].name; ki++)
		if (strcasecmp(section_kinds[ki].name, h) == 0)
			break;
	const struct section_kind *k = &section_kinds[ki];
	if (k->name && strcmp(k->name, "Interface") == 0)
		p->saw_iface = true;
	if (!k->name) {
		char list[256];
		kinds_list(list, sizeof(list));
		return fail(p, p->line, "unknown section [%s%s%s]; expected one of %s", h,
			    *name ? " " : "", name, list);
	}
	if (k->named && !*name)
		return fail(p, p->line, "section [%s] needs a name: [%s]", k->name, k->usage);
	if (!k->named && *name)
		return fail(p, p->line, "section [%s] takes no name; got [%s %s]", k->name, h,
			    name);
	if (!k->repeatable) {
		if (p->kind_line[ki])
			return fail(p, p->line,
				    "duplicate section [%s]; the first is at line %d; merge them",
				    k->name, p->kind_line[ki]);
		p->kind_line[ki] = p->line;
	}
	if (k->begin && k->begin(p, name) < 0)
		return -1;
	p->kind = k;
	snprintf(p->title, sizeof(p->title), "%s%s%s", k->name, *name ? " " : "", name);
	return 0;
}

/* One Key=Value of the current section. 0 or -1. */
static int setting(struct parser *p, const char *key, const char *value)
{
	if (p->skip)
		return 0; /* the section's header was wrong and is reported */
	if (!*key)
		return fail(p, p->line, "a setting without a name; expected Key=Value");
	if (!p->kind)
		return fail(p, p->line,
			    "setting %s outside any section; put it under a [Section] header", key);
	const struct section_kind *k = p->kind;
	size_t i;
	for (i = 0; k->key(i); i++)
		if (strcasecmp(k->key(i), key) == 0)
			break;
	if (!k->key(i) || i >= KEYS_MAX) {
		char list[MSG_MAX - 128];
		keys_list(k, list, sizeof(list));
		return fail(p, p->line, "unknown setting %s in [%s]; expected one of %s", key,
			    p->title, list);
	}
	const char *name = k->key(i);
	if (p->seen[i] && !(k->lists & LIST(i)))
		return fail(p, p->line, "%s is set twice in [%s]; the first is at line %d", name,
			    p->title, p->seen[i]);
	if (!p->seen[i])
		p->seen[i] = p->line;
	if (!*value)
		return fail(p, p->line, "%s: empty value; remove the line for the default", name);
	for (const unsigned char *q = (const unsigned char *)value; *q; q++)
		if ((*q < 0x20 && *q != '\t') || *q == 0x7f)
			/* no path, name or word holds one; it would reach logs and terminals */
			return fail(p, p->line,
				    "%s: the value holds a control character (\\x%02x); expected "
				    "printable text",
				    name, (unsigned)*q);
	return k->set(p, i, value);
}

/* inih's callback for every Key=Value: 1 = fine, 0 = error. */
static int on_setting(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;
	(void)section;		/* the reader tracks sections itself */
	setting(p, key, value); /* an error is recorded; the parse goes on */
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

/*
 * inih's reader: one line of the buffer per call, leading blanks removed
 * (so no line is ever read as the continuation of a value), section headers
 * handled here. A line with an error is recorded and handed on as a blank
 * line, so the parse goes on. NULL ends the parse.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	if (p->stop || p->pos >= p->len || num < 4)
		return NULL;
	p->line++;
	const char *s = p->text + p->pos;
	size_t rest = p->len - p->pos;
	const char *nl = memchr(s, '\n', rest);
	size_t n = nl ? (size_t)(nl - s) : rest;
	p->pos += n + (nl ? 1 : 0);
	str[0] = '\n';
	str[1] = '\0';

	if (memchr(s, '\0', n)) {
		fail(p, p->line, "NUL byte; this is not a text file");
		p->stop = true;
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
		fail(p, p->line,
		     "a carriage return (\\r) inside the line: are the lines of the file ended by "
		     "CR alone (old Mac style)? End each line with LF (\\n), e.g. with: tr "
		     "'\\r' '\\n'");
		return str;
	}
	if (n > room) {
		fail(p, p->line,
		     "line longer than %zu characters; a list may go on over several lines, "
		     "with its key repeated on each (Peers=... on one line, Peers=... on the next)",
		     room);
		return str;
	}

	if (*s == '[') {
		char h[MSG_MAX];
		const char *end = memchr(s, ']', n);
		if (!end) {
			fail(p, p->line, "section header %.*s has no closing ']'", (int)n, s);
			close_section(p);
			p->skip = true;
			return str;
		}
		const char *after = end + 1;
		while (after < s + n && is_space(*after))
			after++;
		if (after < s + n && *after != ';' && *after != '#') {
			fail(p, p->line, "unexpected text after the section header: \"%.*s\"",
			     (int)(s + n - after), after);
			close_section(p);
			p->skip = true;
			return str;
		}
		size_t hn = (size_t)(end - s - 1);
		if (hn >= sizeof(h)) {
			fail(p, p->line, "section header longer than %zu characters",
			     sizeof(h) - 1);
			close_section(p);
			p->skip = true;
			return str;
		}
		memcpy(h, s + 1, hn);
		h[hn] = '\0';
		if (open_section(p, h) < 0) {
			p->skip = true;
			return str;
		}
	} else if (!has_separator(s, n)) {
		fail(p, p->line,
		     "expected a [Section] header, a Key=Value setting or a comment, got \"%.*s\"",
		     (int)n, s);
		return str;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* VIPs against the rest of the file, and against each other. */
static void check_vips(struct parser *p)
{
	const struct config *c = &p->c;
	if (c->connsync.present && !c->cluster.present)
		fail(p, c->connsync.line,
		     "[ConnSync] needs a [Cluster] section: connections are synced to the "
		     "other nodes of a cluster");
	else if (c->connsync.present && !c->connsync.n_nets && !c->n_vips &&
		 !is_bad(p, c->connsync.line))
		fail(p, c->connsync.line,
		     "[ConnSync] has no Networks= and there is no [VIP] whose network it "
		     "could use; say which connections to sync");
	bool flush_used = false;
	for (size_t i = 0; i < c->n_vips; i++) {
		const struct conf_vip *x = &c->vips[i];
		if (is_bad(p, x->line))
			continue;
		if (x->n_flush_hosts)
			flush_used = true;
		if (!c->cluster.present)
			fail(p, x->line,
			     "[VIP %s] needs a [Cluster] section: ownership is decided among "
			     "the nodes of a cluster",
			     x->name);
		if (!config_iface(c, x->iface))
			fail(p, x->iface_line, "[VIP %s] Interface=%s: there is no [Interface %s]",
			     x->name, x->iface, x->iface);
		if (x->n_flush_hosts && !c->flush.present)
			fail(p, x->flush_line,
			     "[VIP %s] has FlushHosts= but there is no [Flush] section with "
			     "the key to sign the requests",
			     x->name);
		for (size_t j = 0; j < i; j++) {
			const struct conf_vip *y = &c->vips[j];
			if (is_bad(p, y->line))
				continue;
			if (x->addr.addr == y->addr.addr) {
				fail(p, x->addr_line,
				     "[VIP %s] has the address of [VIP %s] at line %d", x->name,
				     y->name, y->line);
				break;
			}
			if (x->vmac && y->vmac && x->vrid == y->vrid &&
			    strcmp(x->iface, y->iface) == 0 && strcmp(x->group, y->group) != 0) {
				fail(p, x->line,
				     "[VIP %s] uses VRID %u on %s, as [VIP %s] at line %d does "
				     "in another group; a virtual MAC can follow one owner only",
				     x->name, x->vrid, x->iface, y->name, y->line);
				break;
			}
			if (strcmp(x->group, y->group) == 0 &&
			    (x->priority != y->priority || x->preempt != y->preempt ||
			     x->preempt_delay_ms != y->preempt_delay_ms)) {
				fail(p, x->line,
				     "[VIP %s] is in group %s with [VIP %s] (line %d) but has "
				     "another Priority=, Preempt= or PreemptDelay=; a group has "
				     "one owner, so give its VIPs the same",
				     x->name, x->group, y->name, y->line);
				break;
			}
		}
	}
	if (c->flush.present && !is_bad(p, c->flush.line)) {
		if (c->cluster.present && c->cluster.key_line &&
		    strcmp(c->flush.key_file, c->cluster.key_file) == 0)
			fail(p, c->flush.key_line,
			     "KeyFile: %s is also the [Cluster] KeyFile (line %d); the flush key "
			     "is given to the hosts that run arpha-flushd, so give it a key of its "
			     "own (make one with `arpha keygen FILE`)",
			     c->flush.key_file, c->cluster.key_line);
		if (!flush_used)
			fail(p, c->flush.line,
			     "[Flush] is not used: no [VIP] has FlushHosts=; add FlushHosts= to "
			     "the VIPs whose hosts should flush their ARP caches, or remove the "
			     "section");
	}
}

/* ARP entries against the VIPs on their interface. */
static void check_entry_vips(struct parser *p, const struct conf_entry *e)
{
	static const char *const modes[] = {
	    [ARP_STATIC] = "Static", [ARP_PUBLISH] = "Publish", [ARP_XPUBLISH] = "XPublish"};
	char ip[IP4_STRLEN], net[IP4_STRLEN];
	for (size_t j = 0; j < p->c.n_vips; j++) {
		const struct conf_vip *x = &p->c.vips[j];
		if (is_bad(p, x->line) || strcmp(x->iface, e->iface) != 0)
			continue;
		const char *mode = e->mode < sizeof(modes) / sizeof(modes[0]) && modes[e->mode]
				       ? modes[e->mode]
				       : "?";
		if (e->ip == x->addr.addr) {
			fail(p, e->ip_line,
			     "[ARPEntry] IP=%s (Mode=%s) on %s is the address of [VIP %s] (line "
			     "%d): the VIP's owner answers for it with its own MAC; remove the "
			     "entry",
			     ip4_fmt(e->ip, ip), mode, e->iface, x->name, x->line);
			return;
		}
		struct ip4_prefix a = {e->ip, x->addr.len};
		const char *why;
		if (ip4_prefix_contains(&x->addr, e->ip) && (why = edge_address(&a))) {
			fail(p, e->ip_line,
			     "[ARPEntry] IP=%s on %s is %s of %s/%u, the network of [VIP %s] "
			     "(line %d); expected a host address",
			     ip4_fmt(e->ip, ip), e->iface, why,
			     ip4_fmt(x->addr.addr & ip4_mask(x->addr.len), net), x->addr.len,
			     x->name, x->line);
			return;
		}
	}
}

/* Checks that need the whole file. */
static void check_names(struct parser *p)
{
	const struct config *c = &p->c;
	/* a file with other errors may have lost its [Interface] to them: say this alone */
	if (!p->saw_iface && !failed(p))
		fail(p, 0, "no [Interface NAME] section: arphad would manage nothing");
	for (size_t i = 1; i < c->n_ifaces; i++) {
		const struct conf_iface *f = &c->ifaces[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->ifaces[j].device, f->device) == 0) {
				fail(p, f->device_line,
				     "[Interface %s] uses device %s, as [Interface %s] at line "
				     "%d does; one section per device",
				     f->name, f->device, c->ifaces[j].name, c->ifaces[j].line);
				break;
			}
	}
	for (size_t i = 0; i < c->n_entries; i++) {
		const struct conf_entry *e = &c->entries[i];
		if (is_bad(p, e->line))
			continue;
		if (!config_iface(c, e->iface)) {
			fail(p, e->iface_line,
			     "[ARPEntry] Interface=%s: there is no [Interface %s]", e->iface,
			     e->iface);
			continue;
		}
		check_entry_vips(p, e);
	}
	/* the entries of an interface live in its cache, where nothing evicts them */
	for (size_t i = 0; i < c->n_ifaces; i++) {
		uint32_t n = 0;
		for (size_t j = 0; j < c->n_entries; j++) {
			const struct conf_entry *e = &c->entries[j];
			if (is_bad(p, e->line) || strcmp(e->iface, c->ifaces[i].name) != 0)
				continue;
			if (++n > c->arp.cache_size) {
				char ip[IP4_STRLEN];
				fail(p, e->iface_line,
				     "[ARPEntry] for %s is entry %u on %s, more than CacheSize=%u "
				     "holds: an interface's cache holds its ARP entries and what "
				     "it learns; raise CacheSize= in [ARP] or remove entries",
				     ip4_fmt(e->ip, ip), n, e->iface, c->arp.cache_size);
				break;
			}
		}
	}
	for (size_t i = 0; i < c->n_proxies; i++) {
		const struct conf_proxy *x = &c->proxies[i];
		if (is_bad(p, x->line))
			continue;
		for (size_t j = 0; j < x->n_ifaces; j++)
			if (!config_iface(c, x->ifaces[j]))
				fail(p, x->ifaces_line,
				     "[ProxyARP] Interfaces=: there is no [Interface %s]",
				     x->ifaces[j]);
		for (size_t j = 0; j < i; j++) {
			const struct conf_proxy *y = &c->proxies[j];
			if (is_bad(p, y->line) || y->net.addr != x->net.addr ||
			    y->net.len != x->net.len)
				continue;
			char a[IP4_STRLEN];
			fail(p, x->net_line,
			     "[ProxyARP] Network=%s/%u repeats the one at line %d; give each "
			     "network one [ProxyARP] and list all its interfaces there",
			     ip4_fmt(x->net.addr, a), x->net.len, y->net_line);
			break;
		}
	}
	check_vips(p);
}

/* Sort the errors by line (stable), the file's own (line 0) last. */
static void sort_errors(struct parser *p)
{
	for (size_t i = 1; i < p->n_errs; i++) {
		struct cerr e = p->errs[i];
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
static void write_errors(const struct parser *p, const char *fname, char *err, size_t errlen)
{
	size_t off = 0;
	if (!errlen)
		return;
	err[0] = '\0';
	for (size_t i = 0; i <= p->n_errs; i++) {
		char line[MSG_MAX + 300];
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
	struct parser *p = calloc(1, sizeof(*p));
	memset(out, 0, sizeof(*out));
	if (!p) {
		snprintf(err, errlen, "%s: out of memory", fname);
		return -1;
	}
	p->text = text ? text : "";
	p->len = text ? len : 0;
	p->fname = fname;
	snprintf(p->c.control_socket, sizeof(p->c.control_socket), "%s", CONF_DEFAULT_SOCKET);
	p->c.log_target = LOG_TARGET_SYSLOG;
	p->c.log_level = LOGL_INFO;
	p->c.rt_priority = 10;
	arp_policy_defaults(&p->c.arp);
	p->c.cluster.port = CONF_DEFAULT_PORT;
	p->c.cluster.encrypt = true;
	p->c.cluster.interval_ms = 100;
	p->c.cluster.dead_count = 3;
	p->c.cluster.send_buffer = 256;
	p->c.flush.port = CONF_DEFAULT_FLUSH_PORT;
	p->c.flush.count = 5;
	p->c.flush.interval_ms = 1000;
	p->c.connsync.protocols = CT_PROTO_TCP | CT_PROTO_UDP | CT_PROTO_ICMP;
	p->c.connsync.check_interval_ms = 10000;
	p->c.connsync.max_entries = 262144;

	int r = ini_parse_stream(read_line, p, on_setting, p);
	if (r > 0) {
		/* a line inih refused that the reader let through */
		bool known = false;
		for (size_t i = 0; i < p->n_errs; i++)
			known |= p->errs[i].line == r;
		if (!known)
			fail(p, r, "expected a [Section] header, a Key=Value setting or a comment");
	} else if (r < 0) {
		fail(p, p->line, "out of memory");
	}
	close_section(p);
	if (!p->stop)
		check_names(p);
	free(p->bad);

	if (failed(p)) {
		sort_errors(p);
		write_errors(p, fname, err, errlen);
		config_free(&p->c);
		free(p);
		return -1;
	}
	*out = p->c;
	free(p);
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
	free(c->entries);
	free(c->ifaces);
	memset(c, 0, sizeof(*c));
}

const struct conf_iface *config_iface(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return &c->ifaces[i];
	return NULL;
}
