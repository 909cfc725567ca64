/*
 * conf_daemon: [Daemon], how arphad itself runs: its control socket, its
 * log, its scheduling and how long it waits for its devices at start.
 */
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"

static const char *const log_targets[] = {"syslog", "stderr", NULL};
static const uint32_t log_target_values[] = {LOG_TARGET_SYSLOG, LOG_TARGET_STDERR};
static const struct conf_enum_arg log_target_enum = {log_targets, log_target_values};

static const char *const log_levels[] = {"err", "warning", "notice", "info", "debug", NULL};
static const uint32_t log_level_values[] = {LOGL_ERR, LOGL_WARNING, LOGL_NOTICE, LOGL_INFO,
					    LOGL_DEBUG};
static const struct conf_enum_arg log_level_enum = {log_levels, log_level_values};

/* ControlSocket=: an absolute path that fits in a unix socket address. */
static int control_socket(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	if (v[0] == '/' && strlen(v) >= CONF_PATH_MAX)
		return conf_fail(p, p->line,
				 "%s: the path is %zu bytes long; a unix socket path must be "
				 "shorter than %d",
				 k->name, strlen(v), CONF_PATH_MAX);
	return conf_path(p, k, obj, v);
}

/*
 * Metrics=ADDRESS:PORT: where the Prometheus endpoint listens (an IPv4
 * address, a port from 1 to 65535); "no" or empty: none, the default.
 */
static int metrics(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct config *c = obj;
	char addr[IP4_STRLEN];
	const char *colon = NULL; /* the last ':' */
	uint32_t ip;
	unsigned long long port = 0;
	char *end = NULL;
	for (const char *s = v; *s; s++)
		if (*s == ':')
			colon = s;
	c->metrics_line = p->line;
	if (!*v || strcmp(v, "no") == 0) {
		c->metrics_port = 0;
		return 0;
	}
	if (!colon || (size_t)(colon - v) >= sizeof(addr))
		goto bad;
	memcpy(addr, v, (size_t)(colon - v));
	addr[colon - v] = '\0';
	if (ip4_parse(addr, &ip) < 0 || colon[1] < '0' || colon[1] > '9')
		goto bad;
	port = strtoull(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return conf_fail(p, p->line, "%s: the port must be from 1 to 65535, got \"%s\"",
				 k->name, colon + 1);
	c->metrics_addr = ip;
	c->metrics_port = (uint16_t)port;
	return 0;
bad:
	return conf_fail(p, p->line,
			 "%s: expected an IPv4 address and a port, such as 127.0.0.1:9774, or "
			 "\"no\", got \"%s\"",
			 k->name, v);
}

/* LogTarget=, and a note that it was given. */
static int log_target(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v)
{
	struct config *c = obj;
	if (conf_enum(p, k, obj, v) < 0)
		return -1;
	c->log_target_set = true;
	return 0;
}

static const struct conf_key daemon_keys[] = {
    {.name = "ControlSocket",
     .parse = control_socket,
     CONF_FIELD(struct config, control_socket),
     .flags = CONF_LINE,
     .line_off = offsetof(struct config, control_socket_line)},
    {.name = "LogTarget",
     .parse = log_target,
     CONF_FIELD(struct config, log_target),
     .arg = &log_target_enum},
    {.name = "LogLevel",
     .parse = conf_enum,
     CONF_FIELD(struct config, log_level),
     .arg = &log_level_enum},
    {.name = "Metrics", .parse = metrics, CONF_FIELD(struct config, metrics_port)},
    {.name = "RealtimePriority",
     .parse = conf_uint,
     CONF_FIELD(struct config, rt_priority),
     .min = 0,
     .max = 99},
    {.name = "DeviceTimeout",
     .parse = conf_duration,
     CONF_FIELD(struct config, device_timeout_ms),
     .min = 100,
     .max = 3600000,
     .flags = CONF_OFF,
     .arg = "30s or 2min"},
    {.name = NULL},
};

static void daemon_defaults(struct config *c)
{
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", CONF_DEFAULT_SOCKET);
	c->log_target = LOG_TARGET_SYSLOG;
	c->log_level = LOGL_INFO;
	c->rt_priority = 10;
	c->device_timeout_ms = CONF_DEVICE_TIMEOUT_MS;
}

static void *daemon_begin(struct conf_parser *p, const char *name)
{
	return &p->c;
}

const struct conf_section conf_daemon_section = {
    .name = "Daemon",
    .usage = "Daemon",
    .keys = daemon_keys,
    .defaults = daemon_defaults,
    .begin = daemon_begin,
};
