/*
 * conf_balance: [Balance], how active-active VIPs split the connections
 * among the nodes (see core/balance.h, core/ranges.h): how many buckets,
 * the hash's seed, and this node's share.
 */
#include "conf.h"

enum { B_BUCKETS, B_SEED, B_WEIGHT, B_MRD, B__COUNT };

/* Seed=: a 32-bit number, decimal or 0x and hex digits. */
static int balance_seed(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_balance *b = obj;
	bool hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	const char *q = hex ? v + 2 : v;
	uint64_t n = 0;
	if (!*q)
		goto bad;
	for (; *q; q++) {
		int d = hex ? hex_digit(*q) : (*q >= '0' && *q <= '9' ? *q - '0' : -1);
		if (d < 0)
			goto bad;
		n = n * (hex ? 16 : 10) + (uint64_t)d;
		if (n > UINT32_MAX)
			goto bad;
	}
	b->seed = (uint32_t)n;
	return 0;
bad:
	return conf_fail(p, p->line,
			 "%s: expected a whole number from 0 to 4294967295 (0 to 0xffffffff in "
			 "hex), such as 1634889832 or 0x61727068, got \"%s\"",
			 k->name, v);
}

#define BALANCE_FIELD(field) CONF_FIELD(struct conf_balance, field)

static const struct conf_key balance_keys[B__COUNT + 1] = {
    [B_BUCKETS] =
	{.name = "Buckets", .parse = conf_uint, BALANCE_FIELD(buckets), .min = 2, .max = 4096},
    [B_SEED] = {.name = "Seed", .parse = balance_seed, BALANCE_FIELD(seed)},
    [B_WEIGHT] =
	{.name = "Weight", .parse = conf_uint, BALANCE_FIELD(weight), .min = 1, .max = 65535},
    [B_MRD] = {.name = "RouterDiscovery", .parse = conf_bool, BALANCE_FIELD(router_discovery)},
};

static void balance_defaults(struct config *c)
{
	c->balance.buckets = CONF_DEFAULT_BUCKETS;
	c->balance.seed = CONF_DEFAULT_SEED;
	c->balance.weight = 1;
	c->balance.router_discovery = true;
}

static void *balance_begin(struct conf_parser *p, const char *name)
{
	p->c.balance.present = true;
	p->c.balance.line = p->line;
	return &p->c.balance;
}

const struct conf_section conf_balance_section = {
    .name = "Balance",
    .usage = "Balance",
    .keys = balance_keys,
    .defaults = balance_defaults,
    .begin = balance_begin,
};

void conf_balance_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	bool active = false, vip_bad = false;
	for (size_t i = 0; i < c->n_vips; i++) {
		/* a VIP with an error may have lost its Mode= to it */
		if (conf_was_bad(p, c->vips[i].line))
			vip_bad = true;
		else if (c->vips[i].mode == VIP_MODE_ACTIVE_ACTIVE)
			active = true;
	}
	if (c->balance.present && !active && !vip_bad && !conf_was_bad(p, c->balance.line))
		conf_fail(p, c->balance.line,
			  "[Balance] applies to active-active VIPs, and no [VIP] has "
			  "Mode=active-active");
	if (active && c->cluster.present && !conf_was_bad(p, c->cluster.line) &&
	    c->cluster.node_id > 255)
		conf_fail(p, c->cluster.node_line ? c->cluster.node_line : c->cluster.line,
			  "NodeID=%u: with active-active VIPs NodeID must be 1 to 255 (a "
			  "connection's mark carries it in 8 bits)",
			  (unsigned)c->cluster.node_id);
}
