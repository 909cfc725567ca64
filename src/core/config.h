/*
 * config: arphad's configuration, parsed from INI text with libinih.
 * Pure: it parses a buffer the caller read; it opens no file.
 *
 * Every mistake is reported once, as "FILE:LINE: what is wrong, and what
 * was expected"; nothing unknown or malformed is silently accepted or
 * replaced by a default.
 */
#ifndef ARPHA_CORE_CONFIG_H
#define ARPHA_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "arp_cache.h"
#include "arp_policy.h"

#define CONF_IFNAMSIZ 16 /* Linux IFNAMSIZ: 15 characters and NUL */
#define CONF_PATH_MAX 108 /* sun_path */
#define CONF_DEFAULT_SOCKET "/run/arpha/arphad.sock"

enum log_target { LOG_TARGET_SYSLOG = 0, LOG_TARGET_STDERR };

struct conf_iface {
	char name[CONF_IFNAMSIZ];   /* [Interface NAME] */
	char device[CONF_IFNAMSIZ]; /* Device=, default NAME */
	int line;                   /* line of the section header */
};

struct conf_entry {
	char iface[CONF_IFNAMSIZ]; /* Interface= (a [Interface] name) */
	uint32_t ip;               /* IP= */
	uint8_t mode;              /* Mode=: ARP_STATIC, ARP_PUBLISH, ARP_XPUBLISH */
	bool has_mac;              /* MAC= given */
	struct mac mac;
	int line;
};

struct conf_proxy {
	struct ip4_prefix net;          /* Network=, host bits cleared */
	bool all;                       /* Interfaces=all */
	char (*ifaces)[CONF_IFNAMSIZ]; /* else these [Interface] names */
	size_t n_ifaces;
	int line;
};

struct config {
	/* [Daemon] */
	char control_socket[CONF_PATH_MAX]; /* ControlSocket= */
	int log_target;                     /* LogTarget=syslog|stderr */
	int log_level;                      /* LogLevel=err|warning|notice|info|debug (enum log_level) */
	/* [ARP] */
	struct arp_policy arp;
	/* [Interface NAME] */
	struct conf_iface *ifaces;
	size_t n_ifaces;
	/* [ARPEntry], repeatable */
	struct conf_entry *entries;
	size_t n_entries;
	/* [ProxyARP], repeatable */
	struct conf_proxy *proxies;
	size_t n_proxies;
};

/*
 * Parse len bytes of INI text. fname is used only in messages. On success
 * returns 0 and *out holds the config (free with config_free). On error
 * returns -1, *out is left empty, and err holds "FNAME:LINE: message", or
 * "FNAME: message" for a mistake of the whole file that no line holds (no
 * [Interface] section at all).
 */
int config_parse(const char *text, size_t len, const char *fname, struct config *out, char *err,
		 size_t errlen);

void config_free(struct config *c);

/* The [Interface] named name, or NULL. */
const struct conf_iface *config_iface(const struct config *c, const char *name);

#endif
