/*
 * reload: SIGHUP (systemctl reload). The configuration file is read and
 * checked again (the parser, then the services' checks); with any error
 * arphad goes on as before and logs every error with its line. A change
 * that needs a restart ([Cluster]'s NodeID, paths and transport, the
 * [Daemon]'s sockets, CacheSize=, a service's own refusals) is refused
 * the same way, each named. Otherwise the difference is applied in place:
 * the log level, the ARP policy, the managed interfaces, their configured
 * entries and proxy ARP networks (links_reload), the cluster's keys
 * (KeyFile= read again: a key rotation with no gap, see cluster_set_keys),
 * then every service's part (svc_ops.reload), or the start of a service
 * the new file asks for.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arp_engine.h"
#include "core/cluster.h"
#include "core/config.h"
#include "daemon/daemon.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/util.h"

#define RELOAD_MAX_BYTES (4u << 20)

void daemon_config_hash(const char *text, size_t len, uint8_t out[DAEMON_CFG_HASH])
{
	crypto_generichash(out, DAEMON_CFG_HASH, (const unsigned char *)text, len, NULL, 0);
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Each line of err as its own log line. */
static void log_errors(const char *err)
{
	char q[700];
	while (*err) {
		const char *nl = strchr(err, '\n');
		size_t n = nl ? (size_t)(nl - err) : strlen(err);
		char line[600];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 err);
		log_warnx("event=reload_failed error=%s", log_quote(line, q, sizeof(q)));
		err += n + (nl ? 1 : 0);
	}
}

/* KeyFile= read again into the running cluster. 0, or -1 (logged). */
static int reload_keys(struct daemon *d, const struct config *c)
{
	struct wire_key key, next;
	bool has_next;
	char err[512], q[600];
	if (keyfile_load(c->cluster.key_file, &key, &next, &has_next, err, sizeof(err)) < 0) {
		log_warnx("event=reload_failed what=KeyFile error=%s (the keys in use stay)",
			  log_quote(err, q, sizeof(q)));
		return -1;
	}
	cluster_set_keys(d->cl, &key, has_next ? &next : NULL);
	uint8_t id[4];
	crypto_generichash(id, sizeof(id), key.k, sizeof(key.k), NULL, 0);
	sodium_memzero(&key, sizeof(key));
	sodium_memzero(&next, sizeof(next));
	log_notice("event=reload what=KeyFile keys=%d sealing_key_id=%02x%02x%02x%02x",
		   has_next ? 2 : 1, id[0], id[1], id[2], id[3]);
	return 0;
}

/* What needs a restart, one line each into out; the number of them. */
static int needs_restart(const struct daemon *d, const struct config *c, char *out, size_t cap)
{
	const struct config *o = &d->cfg;
	const struct conf_cluster *a = &o->cluster, *b = &c->cluster;
	size_t at = 0;
	int n = 0;
#define REFUSE(...)                                                                                \
	do {                                                                                       \
		n++;                                                                               \
		if (at < cap)                                                                      \
			at += (size_t)snprintf(out + at, cap - at, __VA_ARGS__);                   \
		if (at < cap)                                                                      \
			at += (size_t)snprintf(out + at, cap - at, "\n");                          \
	} while (0)
	if (strcmp(o->control_socket, c->control_socket) != 0)
		REFUSE("[Daemon] ControlSocket= changed");
	if (o->log_target != c->log_target || o->log_target_set != c->log_target_set)
		REFUSE("[Daemon] LogTarget= changed");
	if (o->rt_priority != c->rt_priority)
		REFUSE("[Daemon] RealtimePriority= changed");
	if (o->metrics_addr != c->metrics_addr || o->metrics_port != c->metrics_port)
		REFUSE("[Daemon] Metrics= changed");
	bool paths = a->n_paths == b->n_paths;
	for (size_t i = 0; paths && i < a->n_paths; i++)
		paths = strcmp(a->devices[i], b->devices[i]) == 0;
	if (a->present != b->present)
		REFUSE("[Cluster] was %s", a->present ? "removed" : "added");
	else if (a->present) {
		if (a->node_id != b->node_id)
			REFUSE("[Cluster] NodeID= changed");
		if (!paths)
			REFUSE("[Cluster] Interface= changed");
		if (a->has_group != b->has_group || a->group != b->group ||
		    a->n_peers != b->n_peers ||
		    memcmp(a->peers, b->peers, a->n_peers * sizeof(a->peers[0])) != 0 ||
		    a->port != b->port || a->encrypt != b->encrypt)
			REFUSE("[Cluster] Group=, Peers=, Port= or Encrypt= changed");
		if (a->interval_ms != b->interval_ms || a->dead_count != b->dead_count ||
		    a->send_buffer != b->send_buffer)
			REFUSE(
			    "[Cluster] HeartbeatInterval=, DeadInterval= or SendBuffer= changed");
	}
	if (o->arp.cache_size != c->arp.cache_size)
		REFUSE("[ARP] CacheSize= changed");
	for (size_t i = 0; i < d->n_svc; i++) {
		const struct svc_slot *sl = &d->svc[i];
		char err[512];
		if (!sl->self)
			continue;
		if (!sl->ops->reload) {
			REFUSE("%s: takes no reload", sl->ops->name);
			continue;
		}
		err[0] = '\0';
		if (sl->ops->reload(sl->self, c, true, err, sizeof(err)) < 0)
			REFUSE("%s", err[0] ? err : sl->ops->name);
	}
#undef REFUSE
	if (at && at <= cap)
		out[at - 1] = '\0'; /* no newline after the last */
	return n;
}

/* The services' checks (arphad -n's) of c: what they print, logged; the number of problems. */
static int service_checks(struct daemon *d, const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return 0;
	int bad = 0;
	for (size_t i = 0; i < d->n_svc; i++)
		if (d->svc[i].ops->check)
			bad += d->svc[i].ops->check(c, d->cfg_path, out);
	fclose(out);
	if (bad && buf) {
		if (len && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		log_errors(buf);
	}
	free(buf);
	return bad;
}

/*
 * Apply c, checked and free of what needs a restart: it becomes d->cfg
 * and the old one is freed once nothing points into it.
 */
static void apply(struct daemon *d, struct config *c)
{
	struct config old = d->cfg;
	d->cfg = *c;
	memset(c, 0, sizeof(*c));
	if (old.log_level != d->cfg.log_level) {
		log_set_level(d->cfg.log_level);
		log_notice("event=reload what=LogLevel");
	}
	if (memcmp(&old.arp, &d->cfg.arp, sizeof(old.arp)) != 0) {
		if (arp_engine_set_policy(d->eng, &d->cfg.arp) < 0)
			log_warn("event=reload_failed what=ARP");
		else
			log_notice("event=reload what=ARP msg=\"the policy in place\"");
	}
	links_reload(d, &old);
	if (d->cl && d->cfg.cluster.present)
		reload_keys(d, &d->cfg);
	for (size_t i = 0; i < d->n_svc; i++) {
		struct svc_slot *sl = &d->svc[i];
		char err[512] = "";
		if (sl->self) {
			if (sl->ops->reload(sl->self, &d->cfg, false, err, sizeof(err)) < 0)
				log_errx("event=reload_failed service=%s error=\"%s\"",
					 sl->ops->name, err);
			continue;
		}
		/* a service the new configuration asks for (its first [VIP], [ConnSync]) */
		sl->self = sl->ops->start(daemon_host(d), &d->cfg, err, sizeof(err));
		if (sl->self)
			log_notice("event=reload service=%s action=start", sl->ops->name);
		else if (err[0])
			log_errx("event=reload_failed service=%s action=start error=\"%s\"",
				 sl->ops->name, err);
	}
	config_free(&old);
}

void daemon_reload(struct daemon *d)
{
	char *text;
	size_t len;
	static char err[CONF_ERR_LEN];
	uint64_t t0 = monotonic_us();
	log_notice("event=reload signal=SIGHUP path=%s", d->cfg_path);
	if (d->stopping) {
		log_warnx("event=reload_failed msg=\"stopping: nothing changed\"");
		return;
	}
	if (read_file(d->cfg_path, RELOAD_MAX_BYTES, &text, &len) < 0) {
		log_warn("event=reload_failed what=read path=%s", d->cfg_path);
		return;
	}
	struct config c;
	if (config_parse(text, len, d->cfg_path, &c, err, sizeof(err)) < 0) {
		free(text);
		log_errors(err);
		log_warnx(
		    "event=reload_failed msg=\"the configuration has errors: nothing changed\"");
		return;
	}
	uint8_t hash[DAEMON_CFG_HASH];
	daemon_config_hash(text, len, hash);
	free(text);
	if (memcmp(hash, d->cfg_hash, sizeof(hash)) == 0) {
		/* the file is as loaded: the keys alone may have changed (a rotation) */
		if (d->cl && c.cluster.present)
			reload_keys(d, &c);
		else
			log_notice("event=reload what=nothing msg=\"the file is unchanged\"");
		config_free(&c);
		return;
	}
	if (service_checks(d, &c) > 0) {
		log_warnx(
		    "event=reload_failed msg=\"the configuration has errors: nothing changed\"");
		config_free(&c);
		return;
	}
	if (needs_restart(d, &c, err, sizeof(err)) > 0) {
		const char *line = err;
		char q[700];
		while (*line) {
			const char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			char one[600];
			snprintf(one, sizeof(one), "%.*s",
				 (int)(n < sizeof(one) ? n : sizeof(one) - 1), line);
			log_warnx("event=reload_refused reason=%s", log_quote(one, q, sizeof(q)));
			line += n + (nl ? 1 : 0);
		}
		log_warnx("event=reload_failed msg=\"these changes need a restart of arphad: "
			  "nothing changed\"");
		config_free(&c);
		return;
	}
	uint64_t t1 = monotonic_us();
	apply(d, &c);
	memcpy(d->cfg_hash, hash, sizeof(hash));
	uint64_t t2 = monotonic_us();
	log_notice("event=reload action=done us=%" PRIu64 " read_us=%" PRIu64 " apply_us=%" PRIu64,
		   t2 - t0, t1 - t0, t2 - t1);
}
