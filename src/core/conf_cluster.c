/*
 * conf_cluster: [Cluster], how this node talks to the other nodes (see
 * core/cluster.h): who it is, on which link, to whom, with which key.
 */
#include "conf.h"

#include <string.h>

enum {
	C_NODE,
	C_IFACE,
	C_GROUP,
	C_PEERS,
	C_PORT,
	C_KEY,
	C_ENCRYPT,
	C_INTERVAL,
	C_DEAD,
	C_BUFFER,
	C__COUNT
};

/* Group=: an IPv4 multicast address. */
static int cluster_group(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_cluster *c = obj;
	if (ip4_parse(v, &c->group) < 0 || (c->group >> 28) != 0xe)
		return conf_fail(p, p->line,
				 "%s: expected an IPv4 multicast address (224.0.0.0/4), such as "
				 "239.192.74.10, got \"%s\"",
				 k->name, v);
	c->has_group = true;
	return 0;
}

/*
 * Interface=: one device per path, separated by spaces or commas, on one
 * line or several.
 */
static int cluster_iface(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_cluster *c = obj;
	struct conf_words s = {v, false};
	const char *w;
	size_t n, before = c->n_paths;
	int r;
	while ((r = conf_next_word(&s, &w, &n)) > 0) {
		char name[CONF_IFNAMSIZ] = "";
		if (n < sizeof(name))
			memcpy(name, w, n);
		if (n >= sizeof(name) || !conf_valid_ifname(name))
			return conf_fail(
			    p, p->line,
			    "%s: \"%.*s\" is not a device name; expected the sync links' "
			    "devices (" CONF_NAME_RULE "), separated by spaces or commas",
			    k->name, (int)n, w);
		for (size_t i = 0; i < c->n_paths; i++)
			if (strcmp(c->devices[i], name) == 0)
				return conf_fail(p, p->line, "%s: %s is listed twice", k->name,
						 name);
		if (c->n_paths == CONF_MAX_PATHS)
			return conf_fail(
			    p, p->line,
			    "%s: more than %d devices; a node has at most %d paths to the "
			    "others",
			    k->name, CONF_MAX_PATHS, CONF_MAX_PATHS);
		memcpy(c->devices[c->n_paths++], name, sizeof(name));
	}
	if (r < 0)
		return conf_empty_item(p, k->name, v);
	if (c->n_paths == before)
		return conf_fail(p, p->line, "%s: expected at least one device", k->name);
	return 0;
}

#define CLUSTER_FIELD(field) CONF_FIELD(struct conf_cluster, field)

static const struct conf_key cluster_keys[C__COUNT + 1] = {
    [C_NODE] = {.name = "NodeID",
		.parse = conf_uint,
		CLUSTER_FIELD(node_id),
		.min = 1,
		.max = UINT32_MAX,
		.flags = CONF_LINE,
		.line_off = offsetof(struct conf_cluster, node_line)},
    [C_IFACE] = {.name = "Interface",
		 .parse = cluster_iface,
		 CLUSTER_FIELD(devices),
		 .flags = CONF_LINE | CONF_LIST,
		 .line_off = offsetof(struct conf_cluster, iface_line)},
    [C_GROUP] = {.name = "Group", .parse = cluster_group, CLUSTER_FIELD(group)},
    [C_PEERS] = {.name = "Peers",
		 .parse = conf_addr_list,
		 CLUSTER_FIELD(peers),
		 .count_off = offsetof(struct conf_cluster, n_peers),
		 .arg = "the unicast IPv4 addresses of the other nodes",
		 .flags = CONF_LIST},
    [C_PORT] = {.name = "Port", .parse = conf_uint, CLUSTER_FIELD(port), .min = 1, .max = 65535},
    [C_KEY] = {.name = "KeyFile",
	       .parse = conf_path,
	       CLUSTER_FIELD(key_file),
	       .flags = CONF_LINE,
	       .line_off = offsetof(struct conf_cluster, key_line)},
    [C_ENCRYPT] = {.name = "Encrypt", .parse = conf_bool, CLUSTER_FIELD(encrypt)},
    [C_INTERVAL] = {.name = "HeartbeatInterval",
		    .parse = conf_duration,
		    CLUSTER_FIELD(interval_ms),
		    .min = 10,
		    .max = 60000,
		    .arg = "100ms or 1s"},
    [C_DEAD] = {.name = "DeadInterval",
		.parse = conf_uint,
		CLUSTER_FIELD(dead_count),
		.min = 2,
		.max = 1000},
    [C_BUFFER] = {.name = "SendBuffer",
		  .parse = conf_uint,
		  CLUSTER_FIELD(send_buffer),
		  .min = 16,
		  .max = 1000000},
};

static void cluster_defaults(struct config *c)
{
	c->cluster.port = CONF_DEFAULT_PORT;
	c->cluster.encrypt = true;
	c->cluster.interval_ms = 100;
	c->cluster.dead_count = 3;
	c->cluster.send_buffer = 256;
}

static void *cluster_begin(struct conf_parser *p, const char *name)
{
	p->c.cluster.present = true;
	p->c.cluster.line = p->line;
	return &p->c.cluster;
}

static int cluster_end(struct conf_parser *p, void *obj)
{
	const struct conf_cluster *c = obj;
	static const size_t required[] = {C_NODE, C_IFACE, C_KEY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!p->seen[required[i]])
			return conf_fail(p, p->sect_line,
					 "[Cluster] has no %s=; a cluster needs NodeID=, "
					 "Interface=, KeyFile= and Group= or Peers=",
					 cluster_keys[required[i]].name);
	if (p->seen[C_GROUP] && p->seen[C_PEERS])
		return conf_fail(p, p->seen[C_PEERS],
				 "[Cluster] has both Group= (line %d) and Peers=; use a multicast "
				 "group or a list of peers, not both",
				 p->seen[C_GROUP]);
	if (!c->has_group && !c->n_peers)
		return conf_fail(p, p->sect_line,
				 "[Cluster] has neither Group= nor Peers=; say where the other "
				 "nodes are");
	return 0;
}

const struct conf_section conf_cluster_section = {
    .name = "Cluster",
    .usage = "Cluster",
    .keys = cluster_keys,
    .defaults = cluster_defaults,
    .begin = cluster_begin,
    .end = cluster_end,
};
