/*
 * conf_connsync: [ConnSync], connection-tracking sync (see core/ctsync.h):
 * which protocols and networks, how often the tables are compared.
 */
#include "conf.h"

#include <string.h>

enum { S_PROTOS, S_NETS, S_CHECK, S_MAX, S__COUNT };

/* One network of Networks= (w, len bytes) appended to x. 0 or -1. */
static int connsync_add_net(struct conf_parser *p, struct conf_connsync *x, const char *w,
			    size_t len)
{
	char word[32] = "", a[IP4_STRLEN];
	struct ip4_prefix net;
	if (len < sizeof(word))
		memcpy(word, w, len);
	if (len >= sizeof(word) || ip4_prefix_parse(word, true, &net) < 0)
		return conf_fail(
		    p, p->line,
		    "Networks: \"%.*s\" is not a network; expected networks with their "
		    "prefix length, such as 198.18.1.0/24",
		    (int)len, w);
	uint32_t addr = net.addr & ip4_mask(net.len);
	if (addr != net.addr)
		return conf_fail(p, p->line, "Networks: %s has host bits set; did you mean %s/%u?",
				 word, ip4_fmt(addr, a), net.len);
	for (size_t j = 0; j < x->n_nets; j++)
		if (x->nets[j].addr == net.addr && x->nets[j].len == net.len)
			return conf_fail(p, p->line, "Networks: %s is listed twice", word);
	if (x->n_nets == CONF_MAX_CT_NETS)
		return conf_fail(p, p->line, "Networks: more than %d networks", CONF_MAX_CT_NETS);
	x->nets[x->n_nets++] = net;
	return 0;
}

/* Networks=: networks with their prefix length, host bits clear; a list. */
static int connsync_nets(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_connsync *x = obj;
	struct conf_words s = {v, false};
	size_t before = x->n_nets, len;
	const char *w;
	int r;
	while ((r = conf_next_word(&s, &w, &len)) > 0)
		if (connsync_add_net(p, x, w, len) < 0)
			return -1;
	if (r < 0)
		return conf_empty_item(p, "Networks", v);
	if (x->n_nets == before)
		return conf_fail(p, p->line, "Networks: expected at least one network");
	return 0;
}

static const char *const ct_protos[] = {"tcp", "udp", "icmp", NULL};
static const struct conf_flags_arg ct_proto_flags = {ct_protos, "synced"};

#define CONNSYNC_FIELD(field) CONF_FIELD(struct conf_connsync, field)

static const struct conf_key connsync_keys[S__COUNT + 1] = {
    [S_PROTOS] = {.name = "Protocols",
		  .parse = conf_flags,
		  CONNSYNC_FIELD(protocols),
		  .arg = &ct_proto_flags,
		  .flags = CONF_LIST},
    [S_NETS] = {.name = "Networks",
		.parse = connsync_nets,
		CONNSYNC_FIELD(nets),
		.flags = CONF_LIST},
    [S_CHECK] = {.name = "CheckInterval",
		 .parse = conf_duration,
		 CONNSYNC_FIELD(check_interval_ms),
		 .min = 100,
		 .max = 86400000,
		 .arg = "10s",
		 .flags = CONF_OFF},
    [S_MAX] = {.name = "MaxEntries",
	       .parse = conf_uint,
	       CONNSYNC_FIELD(max_entries),
	       .min = 1,
	       .max = 16777216},
};

static void connsync_defaults(struct config *c)
{
	c->connsync.protocols = CT_PROTO_TCP | CT_PROTO_UDP | CT_PROTO_ICMP;
	c->connsync.check_interval_ms = 10000;
	c->connsync.max_entries = 262144;
}

static void *connsync_begin(struct conf_parser *p, const char *name)
{
	p->c.connsync.present = true;
	p->c.connsync.line = p->line;
	return &p->c.connsync;
}

const struct conf_section conf_connsync_section = {
    .name = "ConnSync",
    .usage = "ConnSync",
    .keys = connsync_keys,
    .defaults = connsync_defaults,
    .begin = connsync_begin,
};

void conf_connsync_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	if (c->connsync.present && !c->cluster.present)
		conf_fail(p, c->connsync.line,
			  "[ConnSync] needs a [Cluster] section: connections are synced to the "
			  "other nodes of a cluster");
	else if (c->connsync.present && !c->connsync.n_nets && !c->n_vips &&
		 !conf_was_bad(p, c->connsync.line))
		conf_fail(p, c->connsync.line,
			  "[ConnSync] has no Networks= and there is no [VIP] whose network it "
			  "could use; say which connections to sync");
}
