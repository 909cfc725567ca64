/*
 * conf_neighbors: [Neighbors], the neighbour cache of the devices on the
 * managed links (core/nbtable, svc_nbcache): how many devices it holds,
 * when a device counts as inactive, whether DHCP client messages are read
 * (and how many a second at most),
 * and a file of more device-type rules. Optional: without it the cache
 * runs with the defaults.
 */
#include "conf.h"

enum { N_SIZE, N_ACTIVE, N_SNOOP, N_RATE, N_DEVTYPES, N__COUNT };

#define NB_FIELD(field) CONF_FIELD(struct conf_neighbors, field)

static const struct conf_key neighbors_keys[N__COUNT + 1] = {
    [N_SIZE] = {.name = "Size", .parse = conf_uint, NB_FIELD(size), .min = 1, .max = 1048576},
    [N_ACTIVE] = {.name = "ActiveTimeout",
		  .parse = conf_duration,
		  NB_FIELD(active_timeout_ms),
		  .min = 1000,
		  .max = 86400000,
		  .arg = "30s, 5m or 1h"},
    [N_SNOOP] = {.name = "Snoop", .parse = conf_bool, NB_FIELD(snoop)},
    [N_RATE] = {.name = "SnoopRateLimit",
		.parse = conf_uint,
		NB_FIELD(snoop_rate),
		.min = 1,
		.max = 100000},
    [N_DEVTYPES] = {.name = "DeviceTypes",
		    .parse = conf_path,
		    NB_FIELD(devtypes),
		    .flags = CONF_LINE,
		    .line_off = offsetof(struct conf_neighbors, devtypes_line)},
};

static void neighbors_defaults(struct config *c)
{
	c->neighbors.size = 400;
	c->neighbors.active_timeout_ms = 300000;
	c->neighbors.snoop = true;
	c->neighbors.snoop_rate = 200;
}

static void *neighbors_begin(struct conf_parser *p, const char *name)
{
	p->c.neighbors.present = true;
	p->c.neighbors.line = p->line;
	return &p->c.neighbors;
}

const struct conf_section conf_neighbors_section = {
    .name = "Neighbors",
    .usage = "Neighbors",
    .keys = neighbors_keys,
    .defaults = neighbors_defaults,
    .begin = neighbors_begin,
};
