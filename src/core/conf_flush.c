/*
 * conf_flush: [Flush], how flush requests reach the hosts of FlushHosts=
 * (arpha-flushd): the key that signs them, the port, how often.
 */
#include "conf.h"

#include <stdio.h>
#include <string.h>

enum { F_KEY, F_PORT, F_COUNT, F_INTERVAL, F__COUNT };

/* KeyFile=: an absolute path. */
static int flush_key(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct conf_flush *f = obj;
	if (v[0] != '/' || strlen(v) >= sizeof(f->key_file))
		return conf_fail(p, p->line,
				 "%s: expected an absolute path (starting with /) of at most %zu "
				 "bytes, got \"%s\"",
				 k->name, sizeof(f->key_file) - 1, v);
	snprintf(f->key_file, sizeof(f->key_file), "%s", v);
	return 0;
}

#define FLUSH_FIELD(field) CONF_FIELD(struct conf_flush, field)

static const struct conf_key flush_keys[F__COUNT + 1] = {
    [F_KEY] = {.name = "KeyFile",
	       .parse = flush_key,
	       FLUSH_FIELD(key_file),
	       .flags = CONF_LINE,
	       .line_off = offsetof(struct conf_flush, key_line)},
    [F_PORT] = {.name = "Port", .parse = conf_uint, FLUSH_FIELD(port), .min = 1, .max = 65535},
    [F_COUNT] = {.name = "Count", .parse = conf_uint, FLUSH_FIELD(count), .min = 1, .max = 100},
    [F_INTERVAL] = {.name = "Interval",
		    .parse = conf_duration,
		    FLUSH_FIELD(interval_ms),
		    .min = 10,
		    .max = 60000,
		    .arg = "1s"},
};

static void flush_defaults(struct config *c)
{
	c->flush.port = CONF_DEFAULT_FLUSH_PORT;
	c->flush.count = 5;
	c->flush.interval_ms = 1000;
}

static void *flush_begin(struct conf_parser *p, const char *name)
{
	p->c.flush.present = true;
	p->c.flush.line = p->line;
	return &p->c.flush;
}

static int flush_end(struct conf_parser *p, void *obj)
{
	if (!p->seen[F_KEY])
		return conf_fail(p, p->sect_line,
				 "[Flush] has no KeyFile=; flush requests are authenticated with a "
				 "key the hosts share (make one with `arpha keygen FILE`)");
	return 0;
}

const struct conf_section conf_flush_section = {
    .name = "Flush",
    .usage = "Flush",
    .keys = flush_keys,
    .defaults = flush_defaults,
    .begin = flush_begin,
    .end = flush_end,
};

/* Does a VIP (without an error) send flush requests? */
static bool flush_used(const struct conf_parser *p)
{
	for (size_t i = 0; i < p->c.n_vips; i++)
		if (!conf_was_bad(p, p->c.vips[i].line) && p->c.vips[i].n_flush_hosts)
			return true;
	return false;
}

void conf_flush_check(struct conf_parser *p)
{
	const struct config *c = &p->c;
	if (!c->flush.present || conf_was_bad(p, c->flush.line))
		return;
	if (c->cluster.present && c->cluster.key_line &&
	    strcmp(c->flush.key_file, c->cluster.key_file) == 0)
		conf_fail(p, c->flush.key_line,
			  "KeyFile: %s is also the [Cluster] KeyFile (line %d); the flush key is "
			  "given to the hosts that run arpha-flushd, so give it a key of its own "
			  "(make one with `arpha keygen FILE`)",
			  c->flush.key_file, c->cluster.key_line);
	if (!flush_used(p))
		conf_fail(p, c->flush.line,
			  "[Flush] is not used: no [VIP] has FlushHosts=; add FlushHosts= to the "
			  "VIPs whose hosts should flush their ARP caches, or remove the section");
}
