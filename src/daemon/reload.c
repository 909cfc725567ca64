/*
 * reload: SIGHUP (systemctl reload). The configuration file is read and
 * checked again; with any error arphad goes on as before and logs every
 * error with its line. Without, what a reload applies today is the
 * cluster's keys (KeyFile= read again: a key rotation with no gap, see
 * cluster_set_keys); any other change of the file is logged as needing a
 * restart, and nothing of it is applied.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void daemon_reload(struct daemon *d)
{
	char *text;
	size_t len;
	static char err[CONF_ERR_LEN];
	log_notice("event=reload signal=SIGHUP path=%s", d->cfg_path);
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
	bool same = memcmp(hash, d->cfg_hash, sizeof(hash)) == 0;
	if (d->cl && c.cluster.present)
		reload_keys(d, &c);
	if (!same)
		log_warnx("event=reload_partial msg=\"the configuration file changed; a reload "
			  "applies the cluster's KeyFile= for now: restart arphad to apply the "
			  "rest\"");
	else if (!d->cl)
		log_notice("event=reload what=nothing msg=\"the file is unchanged\"");
	config_free(&c);
}
