/*
 * config: arphad's INI configuration, parsed with libinih from a buffer.
 *
 * Our reader hands inih one line per call and counts lines, so every
 * message carries the right line. The reader also sees every section
 * header first: it closes the previous section (checks its required keys),
 * opens the new one from the table below, and stops the parse at the
 * first error. inih then delivers Key=Value pairs to the handler, which
 * dispatches them to the current section's setter. Checks that need the
 * whole file (names of [Interface] sections) run after the parse.
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
	/* the i-th setting's name, NULL past the last */
	const char *(*key)(size_t i);
	/* a header [Kind NAME] was read (name "" when not named); 0 or -1 */
	int (*begin)(struct parser *p, const char *name);
	/* setting number i = value; 0 or -1 */
	int (*set)(struct parser *p, size_t i, const char *value);
	/* the section ended; check what it needs; 0 or -1 (may be NULL) */
	int (*end)(struct parser *p);
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
	/* output */
	struct config c;
	size_t cap_ifaces, cap_entries, cap_proxies, cap_vips;
	/* the first error */
	bool failed;
	int err_line;
	char err[MSG_MAX];
};

static int number(struct parser *p, const char *key, const char *v, unsigned long long lo,
		  unsigned long long hi, unsigned long long *out);

/* Record the first error, at line (0: no line). Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int line, const char *fmt,
						      ...)
{
	if (p->failed)
		return -1;
	p->failed = true;
	p->err_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
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

/*
 * The next word of a list separated by blanks or commas: its start, with
 * its length in *n, and *s moved past it; NULL at the end.
 */
static const char *next_word(const char **s, size_t *n)
{
	while (**s == ' ' || **s == '\t' || **s == ',')
		(*s)++;
	if (!**s)
		return NULL;
	const char *w = *s;
	*n = strcspn(w, " \t,");
	*s += *n;
	return w;
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
	return 0;
}

static int iface_set(struct parser *p, size_t i, const char *v)
{
	struct conf_iface *f = &p->c.ifaces[p->c.n_ifaces - 1];
	if (!valid_ifname(v))
		return fail(p, p->line, "Device: expected a network device name of %s, got \"%s\"",
			    NAME_RULE, v);
	snprintf(f->device, sizeof(f->device), "%s", v);
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
		return 0;
	case E_IP:
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
				    "MAC: expected a MAC address such as 4b-86-f6-c5-a2-14 or "
				    "4b:86:f6:c5:a2:14, got \"%s\"",
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
	if (e->mode == ARP_STATIC && !e->has_mac)
		return fail(
		    p, p->sect_line,
		    "[ARPEntry] with Mode=Static needs MAC= (the address to map the IP to)");
	for (size_t i = 0; i + 1 < p->c.n_entries; i++) {
		const struct conf_entry *o = &p->c.entries[i];
		if (o->ip == e->ip && strcmp(o->iface, e->iface) == 0) {
			char ip[IP4_STRLEN];
			return fail(p, p->sect_line,
				    "[ARPEntry] for %s on %s repeats the one at line %d; give each "
				    "address one entry per interface",
				    ip4_fmt(e->ip, ip), e->iface, o->line);
		}
	}
	return 0;
}

/* ---- [ProxyARP] ---- */

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
	if (strcasecmp(v, "all") == 0) {
		x->all = true;
		return 0;
	}
	size_t cap = 0, n;
	const char *s = v, *w;
	while ((w = next_word(&s, &n))) {
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
	unsigned long long v;
	if (strcmp(q, "ms") == 0) {
		if (frac)
			return -1; /* no fractions of a millisecond */
		v = whole;
	} else if (strcmp(q, "s") == 0) {
		v = whole * 1000 + frac * 1000 / scale;
	} else {
		return -1;
	}
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
	const char *s = v, *w;
	size_t n;
	*n_out = 0;
	while ((w = next_word(&s, &n))) {
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
	if (*n_out == 0)
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
	const char *s, *w;
	size_t len;
	int k;
	switch (i) {
	case V_ADDR: {
		const char *why = NULL;
		if (ip4_prefix_parse(v, true, &x->addr) < 0 || x->addr.len < 8 ||
		    (why = ip_refusal(x->addr.addr)))
			return fail(
			    p, p->line,
			    "Address: \"%s\" is %s; expected an IPv4 address with its prefix "
			    "length (/8 to /32), such as 198.18.0.100/24",
			    v, why ? why : "not an address with a prefix length");
		return 0;
	}
	case V_IFACE:
		if (!valid_ifname(v))
			return fail(p, p->line,
				    "Interface: expected the name of an [Interface] section, got "
				    "\"%s\"",
				    v);
		snprintf(x->iface, sizeof(x->iface), "%s", v);
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
				    "PreemptDelay: expected a duration up to 1h, such as 0, 500ms "
				    "or 30s, got \"%s\"",
				    v);
		return 0;
	case V_TRACK:
		s = v;
		while ((w = next_word(&s, &len))) {
			char name[CONF_IFNAMSIZ] = "";
			if (len < sizeof(name))
				memcpy(name, w, len);
			if (len >= sizeof(name) || !valid_ifname(name))
				return fail(
				    p, p->line,
				    "TrackInterface: \"%.*s\" is not a device name; expected "
				    "%s",
				    (int)len, w, NAME_RULE);
			if (x->n_track == CONF_MAX_TRACK)
				return fail(p, p->line, "TrackInterface: more than %d devices",
					    CONF_MAX_TRACK);
			snprintf(x->track[x->n_track++], CONF_IFNAMSIZ, "%s", name);
		}
		if (x->n_track == 0)
			return fail(p, p->line, "TrackInterface: expected device names");
		return 0;
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
		s = v;
		x->announce = 0;
		while ((w = next_word(&s, &len))) {
			char word[16] = "";
			if (len < sizeof(word))
				memcpy(word, w, len);
			if ((k = word_index(announce_words, word)) < 0)
				return fail(p, p->line,
					    "Announce: \"%.*s\" is not a method; expected some of "
					    "garp, vmac, targeted, flush",
					    (int)len, w);
			x->announce |= (uint8_t)(1u << k);
		}
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
				    "24h, such as 30s, got \"%s\"",
				    v);
		return 0;
	case V_FLUSH:
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
	if (x->vmac && !x->vrid)
		return fail(p, p->sect_line,
			    "[VIP %s] has VirtualMAC=yes but no VRID=; the virtual MAC is "
			    "00:00:5e:00:01:VRID, so give a VRID from 1 to 255",
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
	const char *s = v, *w;
	size_t len;
	unsigned long long n = 0;
	int k;
	switch (i) {
	case S_PROTOS:
		x->protocols = 0;
		while ((w = next_word(&s, &len))) {
			char word[8] = "";
			if (len < sizeof(word))
				memcpy(word, w, len);
			if ((k = word_index(ct_protos, word)) < 0)
				return fail(p, p->line,
					    "Protocols: \"%.*s\" is not synced; expected some of "
					    "tcp, udp, icmp",
					    (int)len, w);
			x->protocols |= (uint8_t)(1u << k);
		}
		if (!x->protocols)
			return fail(p, p->line, "Protocols: expected some of tcp, udp, icmp");
		return 0;
	case S_NETS:
		x->n_nets = 0;
		while ((w = next_word(&s, &len))) {
			char word[32] = "";
			struct ip4_prefix net;
			if (len < sizeof(word))
				memcpy(word, w, len);
			if (len >= sizeof(word) || ip4_prefix_parse(word, true, &net) < 0)
				return fail(
				    p, p->line,
				    "Networks: \"%.*s\" is not a network; expected networks "
				    "with their prefix length, such as 198.18.1.0/24",
				    (int)len, w);
			if (x->n_nets == CONF_MAX_CT_NETS)
				return fail(p, p->line, "Networks: more than %d networks",
					    CONF_MAX_CT_NETS);
			net.addr &= ip4_mask(net.len);
			x->nets[x->n_nets++] = net;
		}
		if (!x->n_nets)
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

static const struct section_kind section_kinds[] = {
    {"Daemon", "Daemon", false, false, daemon_key, NULL, daemon_set, NULL},
    {"ARP", "ARP", false, false, arp_key, NULL, arp_set, NULL},
    {"Interface", "Interface NAME", true, true, iface_key, iface_begin, iface_set, NULL},
    {"ARPEntry", "ARPEntry", false, true, entry_key, entry_begin, entry_set, entry_end},
    {"ProxyARP", "ProxyARP", false, true, proxy_key, proxy_begin, proxy_set, proxy_end},
    {"Cluster", "Cluster", false, false, cluster_key, cluster_begin, cluster_set, cluster_end},
    {"VIP", "VIP NAME", true, true, vip_key, vip_begin, vip_set, vip_end},
    {"Flush", "Flush", false, false, flush_key, flush_begin, flush_set, flush_end},
    {"ConnSync", "ConnSync", false, false, connsync_key, connsync_begin, connsync_set, NULL},
    {NULL, NULL, false, false, NULL, NULL, NULL, NULL},
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

static int close_section(struct parser *p)
{
	if (!p->kind || !p->kind->end)
		return 0;
	return p->kind->end(p);
}

/* A header line; h is the text between '[' and ']'. */
static int open_section(struct parser *p, char *h)
{
	if (close_section(p) < 0)
		return -1;
	p->kind = NULL;
	memset(p->seen, 0, sizeof(p->seen));

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
	p->sect_line = p->line;
	snprintf(p->title, sizeof(p->title), "%s%s%s", k->name, *name ? " " : "", name);
	return 0;
}

/* One Key=Value of the current section. 0 or -1. */
static int setting(struct parser *p, const char *key, const char *value)
{
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
	if (p->seen[i])
		return fail(p, p->line, "%s is set twice in [%s]; the first is at line %d", name,
			    p->title, p->seen[i]);
	p->seen[i] = p->line;
	if (!*value)
		return fail(p, p->line, "%s: empty value; remove the line for the default", name);
	return k->set(p, i, value);
}

/* inih's callback for every Key=Value: 1 = fine, 0 = error. */
static int on_setting(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;
	(void)section; /* the reader tracks sections itself */
	return !p->failed && setting(p, key, value) == 0;
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
 * handled here. NULL ends the parse.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	if (p->failed || p->pos >= p->len || num < 4)
		return NULL;
	p->line++;
	const char *s = p->text + p->pos;
	size_t rest = p->len - p->pos;
	const char *nl = memchr(s, '\n', rest);
	size_t n = nl ? (size_t)(nl - s) : rest;
	p->pos += n + (nl ? 1 : 0);

	if (memchr(s, '\0', n)) {
		fail(p, p->line, "NUL byte; this is not a text file");
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
	if (n == 0 || *s == ';' || *s == '#') {
		/* blank or comment: inih skips it; long comments are fine */
		n = 0;
	} else if (n > room) {
		fail(p, p->line, "line longer than %zu characters", room);
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (n == 0)
		return str;

	if (*s == '[') {
		char h[MSG_MAX];
		const char *end = memchr(s, ']', n);
		if (!end) {
			fail(p, p->line, "section header %.*s has no closing ']'", (int)n, s);
			return NULL;
		}
		const char *after = end + 1;
		while (after < s + n && is_space(*after))
			after++;
		if (after < s + n && *after != ';' && *after != '#') {
			fail(p, p->line, "unexpected text after the section header: \"%.*s\"",
			     (int)(s + n - after), after);
			return NULL;
		}
		size_t hn = (size_t)(end - s - 1);
		if (hn >= sizeof(h)) {
			fail(p, p->line, "section header longer than %zu characters",
			     sizeof(h) - 1);
			return NULL;
		}
		memcpy(h, s + 1, hn);
		h[hn] = '\0';
		if (open_section(p, h) < 0)
			return NULL;
	} else if (!has_separator(s, n)) {
		fail(p, p->line,
		     "expected a [Section] header, a Key=Value setting or a comment, got \"%.*s\"",
		     (int)n, s);
		return NULL;
	}
	return str;
}

/* VIPs against the rest of the file, and against each other. */
static int check_vips(struct parser *p)
{
	if (p->c.connsync.present && !p->c.cluster.present)
		return fail(p, p->c.connsync.line,
			    "[ConnSync] needs a [Cluster] section: connections are synced to the "
			    "other nodes of a cluster");
	if (p->c.connsync.present && !p->c.connsync.n_nets && !p->c.n_vips)
		return fail(p, p->c.connsync.line,
			    "[ConnSync] has no Networks= and there is no [VIP] whose network it "
			    "could use; say which connections to sync");
	for (size_t i = 0; i < p->c.n_vips; i++) {
		const struct conf_vip *x = &p->c.vips[i];
		if (!p->c.cluster.present)
			return fail(
			    p, x->line,
			    "[VIP %s] needs a [Cluster] section: ownership is decided among "
			    "the nodes of a cluster",
			    x->name);
		if (!config_iface(&p->c, x->iface))
			return fail(p, x->line, "[VIP %s] Interface=%s: there is no [Interface %s]",
				    x->name, x->iface, x->iface);
		if (x->n_flush_hosts && !p->c.flush.present)
			return fail(p, x->line,
				    "[VIP %s] has FlushHosts= but there is no [Flush] section with "
				    "the key to sign the requests",
				    x->name);
		for (size_t j = 0; j < i; j++) {
			const struct conf_vip *y = &p->c.vips[j];
			if (x->addr.addr == y->addr.addr)
				return fail(p, x->line,
					    "[VIP %s] has the address of [VIP %s] at line %d",
					    x->name, y->name, y->line);
			if (x->vmac && y->vmac && x->vrid == y->vrid &&
			    strcmp(x->iface, y->iface) == 0 && strcmp(x->group, y->group) != 0)
				return fail(
				    p, x->line,
				    "[VIP %s] uses VRID %u on %s, as [VIP %s] at line %d does "
				    "in another group; a virtual MAC can follow one owner only",
				    x->name, x->vrid, x->iface, y->name, y->line);
			if (strcmp(x->group, y->group) == 0 &&
			    (x->priority != y->priority || x->preempt != y->preempt ||
			     x->preempt_delay_ms != y->preempt_delay_ms))
				return fail(
				    p, x->line,
				    "[VIP %s] is in group %s with [VIP %s] (line %d) but has "
				    "another Priority=, Preempt= or PreemptDelay=; a group has "
				    "one owner, so give its VIPs the same",
				    x->name, x->group, y->name, y->line);
		}
	}
	return 0;
}

/* Checks that need the whole file. */
static int check_names(struct parser *p)
{
	if (p->c.n_ifaces == 0)
		return fail(p, 0, "no [Interface NAME] section: arphad would manage nothing");
	for (size_t i = 1; i < p->c.n_ifaces; i++) {
		const struct conf_iface *f = &p->c.ifaces[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->c.ifaces[j].device, f->device) == 0)
				return fail(
				    p, f->line,
				    "[Interface %s] uses device %s, as [Interface %s] at line "
				    "%d does; one section per device",
				    f->name, f->device, p->c.ifaces[j].name, p->c.ifaces[j].line);
	}
	for (size_t i = 0; i < p->c.n_entries; i++) {
		const struct conf_entry *e = &p->c.entries[i];
		if (!config_iface(&p->c, e->iface))
			return fail(p, e->line,
				    "[ARPEntry] Interface=%s: there is no [Interface %s]", e->iface,
				    e->iface);
	}
	for (size_t i = 0; i < p->c.n_proxies; i++) {
		const struct conf_proxy *x = &p->c.proxies[i];
		for (size_t j = 0; j < x->n_ifaces; j++)
			if (!config_iface(&p->c, x->ifaces[j]))
				return fail(p, x->line,
					    "[ProxyARP] Interfaces=: there is no [Interface %s]",
					    x->ifaces[j]);
	}
	return check_vips(p);
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
	if (r > 0 && (!p->failed || r < p->err_line)) {
		/* a line inih refused that the reader let through */
		p->failed = false;
		fail(p, r, "expected a [Section] header, a Key=Value setting or a comment");
	} else if (r < 0 && !p->failed) {
		fail(p, p->line, "out of memory");
	}
	if (!p->failed)
		close_section(p);
	if (!p->failed)
		check_names(p);

	if (p->failed) {
		if (p->err_line > 0)
			snprintf(err, errlen, "%s:%d: %s", fname, p->err_line, p->err);
		else
			snprintf(err, errlen, "%s: %s", fname, p->err);
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
