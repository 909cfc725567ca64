/*
 * conf_proxyarp: [ProxyARP], repeatable: a network behind another
 * interface, for which arphad answers ARP on the interfaces listed.
 */
#include "conf.h"

#include <string.h>
#include <strings.h>

enum { P_NETWORK, P_IFACES, P__COUNT };

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

/* Network=: a network of unicast addresses, host bits clear. */
static int proxy_network(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_proxy *x = obj;
	struct ip4_prefix n;
	const char *why;
	if (ip4_prefix_parse(v, true, &n) < 0)
		return conf_fail(p, p->line,
				 "%s: expected a network as ADDRESS/LENGTH, e.g. 198.18.1.0/24, "
				 "got \"%s\"",
				 k->name, v);
	uint32_t net = n.addr & ip4_mask(n.len);
	if (net != n.addr) {
		char a[IP4_STRLEN];
		return conf_fail(p, p->line, "%s: %s has host bits set; did you mean %s/%u?",
				 k->name, v, ip4_fmt(net, a), n.len);
	}
	if ((why = net_refusal(&n)))
		return conf_fail(p, p->line,
				 "%s: %s %s; expected a network of unicast addresses that live "
				 "behind another interface, such as 198.18.1.0/24",
				 k->name, v, why);
	x->net = n;
	return 0;
}

/* One name of Interfaces= (w, n bytes) appended to x. 0 or -1. */
static int proxy_add_iface(struct conf_parser *p, struct conf_proxy *x, size_t *cap, const char *w,
			   size_t n, const char *v)
{
	char name[CONF_IFNAMSIZ] = "";
	if (n < sizeof(name)) {
		memcpy(name, w, n);
		name[n] = '\0';
	}
	if (!conf_valid_ifname(name))
		return conf_fail(p, p->line,
				 "Interfaces: \"%.*s\" is not an interface name; expected all, or "
				 "[Interface] names separated by spaces or commas",
				 (int)n, w);
	if (strcasecmp(name, "all") == 0)
		return conf_fail(p, p->line, "Interfaces: all stands alone; got \"%s\"", v);
	for (size_t i = 0; i < x->n_ifaces; i++)
		if (strcmp(x->ifaces[i], name) == 0)
			return conf_fail(p, p->line, "Interfaces: %s is listed twice", name);
	char *slot = conf_push(p, (void **)&x->ifaces, &x->n_ifaces, cap, sizeof(*x->ifaces));
	if (!slot)
		return -1;
	memcpy(slot, name, sizeof(name));
	return 0;
}

/* Interfaces=: all, or [Interface] names; a list, over several lines. */
static int proxy_ifaces(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_proxy *x = obj;
	bool more = p->key_line != p->line; /* not the first Interfaces= line */
	if (strcasecmp(v, "all") == 0 || (more && x->all)) {
		if (more)
			return conf_fail(p, p->line,
					 "Interfaces: all stands alone; got it with other names on "
					 "line %d",
					 p->key_line);
		x->all = true;
		return 0;
	}
	size_t cap = x->n_ifaces, n;
	const char *w;
	struct conf_words s = {v, false};
	int r;
	while ((r = conf_next_word(&s, &w, &n)) > 0)
		if (proxy_add_iface(p, x, &cap, w, n, v) < 0)
			return -1;
	if (r < 0)
		return conf_empty_item(p, "Interfaces", v);
	if (x->n_ifaces == 0)
		return conf_fail(p, p->line,
				 "Interfaces: expected all, or [Interface] names separated by "
				 "spaces or commas, got \"%s\"",
				 v);
	return 0;
}

static const struct conf_key proxy_keys[P__COUNT + 1] = {
    [P_NETWORK] = {.name = "Network",
		   .parse = proxy_network,
		   CONF_FIELD(struct conf_proxy, net),
		   .flags = CONF_LINE,
		   .line_off = offsetof(struct conf_proxy, net_line)},
    [P_IFACES] = {.name = "Interfaces",
		  .parse = proxy_ifaces,
		  CONF_FIELD(struct conf_proxy, ifaces),
		  .flags = CONF_LIST | CONF_LINE,
		  .line_off = offsetof(struct conf_proxy, ifaces_line)},
};

static void *proxy_begin(struct conf_parser *p, const char *name)
{
	struct conf_proxy *x = conf_push(p, (void **)&p->c.proxies, &p->c.n_proxies,
					 &p->cap_proxies, sizeof(*p->c.proxies));
	if (x)
		x->line = p->line;
	return x;
}

static int proxy_end(struct conf_parser *p, void *obj)
{
	for (size_t i = 0; i < P__COUNT; i++)
		if (!p->seen[i])
			return conf_fail(p, p->sect_line,
					 "[ProxyARP] has no %s=; every ProxyARP needs Network= and "
					 "Interfaces=",
					 proxy_keys[i].name);
	return 0;
}

const struct conf_section conf_proxyarp_section = {
    .name = "ProxyARP",
    .usage = "ProxyARP",
    .repeatable = true,
    .keys = proxy_keys,
    .begin = proxy_begin,
    .end = proxy_end,
};

void conf_proxyarp_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	for (size_t i = 0; i < c->n_proxies; i++) {
		const struct conf_proxy *x = &c->proxies[i];
		if (conf_was_bad(p, x->line))
			continue;
		for (size_t j = 0; j < x->n_ifaces; j++)
			if (!config_iface(c, x->ifaces[j]))
				conf_fail(p, x->ifaces_line,
					  "[ProxyARP] Interfaces=: there is no [Interface %s]",
					  x->ifaces[j]);
		for (size_t j = 0; j < i; j++) {
			const struct conf_proxy *y = &c->proxies[j];
			if (conf_was_bad(p, y->line) || y->net.addr != x->net.addr ||
			    y->net.len != x->net.len)
				continue;
			char a[IP4_STRLEN];
			conf_fail(p, x->net_line,
				  "[ProxyARP] Network=%s/%u repeats the one at line %d; give each "
				  "network one [ProxyARP] and list all its interfaces there",
				  ip4_fmt(x->net.addr, a), x->net.len, y->net_line);
			break;
		}
	}
}
