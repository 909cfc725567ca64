/*
 * Unit tests for the config parser: a full file parses to the right
 * struct, defaults fill what is not said, names are case-insensitive, and
 * every kind of mistake comes out as the exact "FILE:LINE: message".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/actions.h"
#include "core/config.h"

#define FNAME "arphad.conf"

static int parse(const char *text, struct config *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(text, strlen(text), FNAME, c, err, errlen);
}

/* text must parse; the caller frees c. */
static void parse_ok(const char *text, struct config *c)
{
	char err[1024];
	int r = parse(text, c, err, sizeof(err));
	if (r != 0)
		fail_msg("unexpected error: %s\n--- text:\n%s", err, text);
}

/* text must fail with exactly want; c must come back empty. */
static void parse_err(const char *text, const char *want)
{
	struct config c;
	char err[1024];
	memset(&c, 0x5a, sizeof(c));
	int r = parse(text, &c, err, sizeof(err));
	if (r == 0) {
		config_free(&c);
		fail_msg("parsed, expected: %s\n--- text:\n%s", want, text);
	}
	assert_int_equal(r, -1);
	if (strcmp(err, want) != 0)
		fail_msg("got:  %s\nwant: %s\n--- text:\n%s", err, want, text);
	assert_null(c.ifaces);
	assert_null(c.entries);
	assert_null(c.proxies);
	assert_null(c.hosts);
	assert_int_equal(c.n_ifaces, 0);
	assert_int_equal(c.n_hosts, 0);
	config_free(&c); /* safe on an empty config */
}

static uint32_t ip(const char *s)
{
	uint32_t a;
	assert_int_equal(ip4_parse(s, &a), 0);
	return a;
}

static const char full[] = "# arphad.conf for the tests\n"
			   "[Daemon]\n"
			   "ControlSocket=/run/test/arphad.sock\n"
			   "LogTarget=stderr\n"
			   "LogLevel=debug\n"
			   "\n"
			   "[ARP]\n"
			   "UnsolicitedARPReplies=AcceptLog\n"
			   "ARPChanges=Drop\n"
			   "ARPIPCollision=DropAnnounce\n"
			   "Expire=600\n"
			   "CacheSize=1024\n"
			   "\n"
			   "[Interface lan]\n"
			   "Device=veth-lan0\n"
			   "\n"
			   "[Interface wan]\n"
			   "\n"
			   "[ARPEntry]\n"
			   "Interface=lan\n"
			   "IP=198.18.0.5\n"
			   "Mode=Static\n"
			   "MAC=4a-86-f6-c5-a2-14\n"
			   "\n"
			   "[ARPEntry]\n"
			   "Interface=wan\n"
			   "IP=198.18.1.100\n"
			   "Mode=Publish\n"
			   "\n"
			   "[ARPEntry]\n"
			   "Interface=wan\n"
			   "IP=198.18.1.101\n"
			   "Mode=XPublish\n"
			   "MAC=02:00:00:00:01:01\n"
			   "\n"
			   "[ProxyARP]\n"
			   "Network=198.18.2.0/24\n"
			   "Interfaces=lan wan\n"
			   "\n"
			   "[ProxyARP]\n"
			   "Network=198.19.0.0/16\n"
			   "Interfaces=all\n";

static void t_full(void **state)
{
	struct config c;
	parse_ok(full, &c);
	assert_string_equal(c.control_socket, "/run/test/arphad.sock");
	assert_int_equal(c.log_target, LOG_TARGET_STDERR);
	assert_int_equal(c.log_level, LOGL_DEBUG);

	struct arp_policy want;
	arp_policy_defaults(&want);
	want.unsolicited_replies = AV_ACCEPTLOG;
	want.changes = AV_DROP;
	want.ip_collision = AV_DROPANNOUNCE;
	want.expire_s = 600;
	want.cache_size = 1024;
	assert_memory_equal(&c.arp, &want, sizeof(want));

	assert_int_equal(c.n_ifaces, 2);
	assert_string_equal(c.ifaces[0].name, "lan");
	assert_string_equal(c.ifaces[0].device, "veth-lan0");
	assert_int_equal(c.ifaces[0].line, 14);
	assert_string_equal(c.ifaces[1].name, "wan");
	assert_string_equal(c.ifaces[1].device, "wan");
	assert_int_equal(c.ifaces[1].line, 17);
	assert_ptr_equal(config_iface(&c, "wan"), &c.ifaces[1]);
	assert_null(config_iface(&c, "WAN"));
	assert_null(config_iface(&c, "dmz"));

	assert_int_equal(c.n_entries, 3);
	const struct conf_entry *e = c.entries;
	assert_string_equal(e[0].iface, "lan");
	assert_int_equal(e[0].ip, ip("198.18.0.5"));
	assert_int_equal(e[0].mode, ARP_STATIC);
	assert_true(e[0].has_mac);
	const struct mac m0 = {{0x4a, 0x86, 0xf6, 0xc5, 0xa2, 0x14}};
	assert_memory_equal(&e[0].mac, &m0, sizeof(m0));
	assert_int_equal(e[0].line, 19);
	assert_string_equal(e[1].iface, "wan");
	assert_int_equal(e[1].ip, ip("198.18.1.100"));
	assert_int_equal(e[1].mode, ARP_PUBLISH);
	assert_false(e[1].has_mac);
	assert_int_equal(e[1].line, 25);
	assert_int_equal(e[2].mode, ARP_XPUBLISH);
	assert_true(e[2].has_mac);
	assert_int_equal(e[2].mac.a[5], 0x01);
	assert_int_equal(e[2].line, 30);

	assert_int_equal(c.n_proxies, 2);
	const struct conf_proxy *x = c.proxies;
	assert_int_equal(x[0].net.addr, ip("198.18.2.0"));
	assert_int_equal(x[0].net.len, 24);
	assert_false(x[0].all);
	assert_int_equal(x[0].n_ifaces, 2);
	assert_string_equal(x[0].ifaces[0], "lan");
	assert_string_equal(x[0].ifaces[1], "wan");
	assert_int_equal(x[0].line, 36);
	assert_int_equal(x[1].net.addr, ip("198.19.0.0"));
	assert_int_equal(x[1].net.len, 16);
	assert_true(x[1].all);
	assert_int_equal(x[1].n_ifaces, 0);
	assert_int_equal(x[1].line, 40);
	config_free(&c);
	assert_null(c.ifaces);
	config_free(&c); /* twice is harmless */
}

/* Metrics=: an IPv4 address and a port, or no. */
static void t_metrics(void **state)
{
	struct config c;
	parse_ok("[Daemon]\nMetrics=198.18.0.1:9774\n[Interface lan]\n", &c);
	assert_int_equal(c.metrics_addr, 0xc6120001u);
	assert_int_equal(c.metrics_port, 9774);
	assert_int_equal(c.metrics_line, 2);
	config_free(&c);
	parse_ok("[Daemon]\nMetrics=0.0.0.0:65535\n[Interface lan]\n", &c);
	assert_int_equal(c.metrics_addr, 0);
	assert_int_equal(c.metrics_port, 65535);
	config_free(&c);
	parse_ok("[Daemon]\nMetrics=no\n[Interface lan]\n", &c);
	assert_int_equal(c.metrics_port, 0);
	config_free(&c);
}

/* DeviceTimeout=: a duration, or 0 (a missing device fails the start at once). */
static void t_device_timeout(void **state)
{
	struct config c;
	parse_ok("[Daemon]\nDeviceTimeout=2min\n[Interface lan]\n", &c);
	assert_int_equal(c.device_timeout_ms, 120000);
	config_free(&c);
	parse_ok("[Daemon]\nDeviceTimeout=0\n[Interface lan]\n", &c);
	assert_int_equal(c.device_timeout_ms, 0);
	config_free(&c);
}

static void t_defaults(void **state)
{
	struct config c;
	parse_ok("[Interface lan]\n", &c);
	assert_string_equal(c.control_socket, CONF_DEFAULT_SOCKET);
	assert_int_equal(c.log_target, LOG_TARGET_SYSLOG);
	assert_int_equal(c.log_level, LOGL_INFO);
	assert_int_equal(c.metrics_port, 0); /* no Prometheus endpoint unless asked */
	assert_int_equal(c.device_timeout_ms, 30000); /* a late VLAN or bond is waited for */
	struct arp_policy want;
	arp_policy_defaults(&want);
	assert_memory_equal(&c.arp, &want, sizeof(want));
	assert_int_equal(c.n_ifaces, 1);
	assert_string_equal(c.ifaces[0].device, "lan");
	assert_int_equal(c.n_entries, 0);
	assert_int_equal(c.n_proxies, 0);
	/* the neighbour cache runs without [Neighbors] */
	assert_false(c.neighbors.present);
	assert_int_equal(c.neighbors.size, 400);
	assert_int_equal(c.neighbors.active_timeout_ms, 300000);
	assert_true(c.neighbors.snoop);
	assert_string_equal(c.neighbors.devtypes, "");
	assert_int_equal(c.neighbors.devtypes_line, 0);
	assert_null(c.hosts);
	assert_int_equal(c.n_hosts, 0);
	config_free(&c);
}

static void t_case_insensitive(void **state)
{
	struct config c;
	parse_ok("[daemon]\n"
		 "controlsocket=/run/a.sock\n"
		 "LOGTARGET=StdErr\n"
		 "loglevel=WARNING\n"
		 "[arp]\n"
		 "arpchanges=droplog\n"
		 "ARPREQUESTS=ACCEPT\n"
		 "[INTERFACE lan]\n"
		 "DEVICE=eth0\n"
		 "[arpentry]\n"
		 "interface=lan\n"
		 "ip=198.18.0.9\n"
		 "mode=xpublish\n"
		 "mac=4A:86:F6:C5:A2:14\n"
		 "[proxyarp]\n"
		 "NETWORK=198.18.4.0/22\n"
		 "interfaces=ALL\n",
		 &c);
	assert_string_equal(c.control_socket, "/run/a.sock");
	assert_int_equal(c.log_target, LOG_TARGET_STDERR);
	assert_int_equal(c.log_level, LOGL_WARNING);
	assert_int_equal(c.arp.changes, AV_DROPLOG);
	assert_int_equal(c.arp.requests, AV_ACCEPT);
	assert_string_equal(c.ifaces[0].name, "lan"); /* the NAME keeps its case */
	assert_string_equal(c.ifaces[0].device, "eth0");
	assert_int_equal(c.entries[0].mode, ARP_XPUBLISH);
	assert_int_equal(c.entries[0].mac.a[0], 0x4a);
	assert_true(c.proxies[0].all);
	config_free(&c);
}

static void t_log_levels(void **state)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {{"err", LOGL_ERR},
		      {"warning", LOGL_WARNING},
		      {"notice", LOGL_NOTICE},
		      {"info", LOGL_INFO},
		      {"debug", LOGL_DEBUG}};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text),
			 "[Daemon]\nLogLevel=%s\nLogTarget=syslog\n[Interface a]\n",
			 levels[i].name);
		struct config c;
		parse_ok(text, &c);
		assert_int_equal(c.log_level, levels[i].level);
		assert_int_equal(c.log_target, LOG_TARGET_SYSLOG);
		config_free(&c);
	}
}

/* Lines: comments, blanks, CRLF, indentation, inline comments, a BOM. */
static void t_layout(void **state)
{
	struct config c;
	parse_ok("\xef\xbb\xbf; a comment\r\n"
		 "# another\r\n"
		 "\r\n"
		 "  [ Interface   lan ]   ; trailing comment\r\n"
		 "\tDevice = eth1   ; inline comment\r\n"
		 "[ARP]\n"
		 "    ARPChanges = Drop\n" /* indented settings are settings, */
		 "    Expire = 120\n"	   /* not continuations of the one above */
		 "[ARPEntry]\n"
		 "Interface: lan\n"
		 "IP=198.18.0.7\n"
		 "Mode=Publish",
		 &c);
	assert_string_equal(c.ifaces[0].name, "lan");
	assert_string_equal(c.ifaces[0].device, "eth1");
	assert_int_equal(c.ifaces[0].line, 4);
	assert_int_equal(c.arp.changes, AV_DROP);
	assert_int_equal(c.arp.expire_s, 120);
	assert_int_equal(c.entries[0].line, 9);
	assert_int_equal(c.entries[0].ip, ip("198.18.0.7"));
	config_free(&c);

	/* a comment longer than inih's line buffer is still a comment */
	char text[2048];
	memset(text, '#', 1500);
	strcpy(text + 1500, "\n[Interface lan]\n");
	parse_ok(text, &c);
	assert_int_equal(c.ifaces[0].line, 2);
	config_free(&c);
}

static void t_proxy_lists(void **state)
{
	static const char *const lists[] = {"lan wan", "lan,wan", "lan, wan", " lan ,  wan",
					    "lan\nInterfaces=wan"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "[Interface lan]\n[Interface wan]\n[ProxyARP]\nNetwork=198.18.0.0/15\n"
			 "Interfaces=%s\n",
			 lists[i]);
		struct config c;
		parse_ok(text, &c);
		assert_int_equal(c.proxies[0].n_ifaces, 2);
		assert_string_equal(c.proxies[0].ifaces[0], "lan");
		assert_string_equal(c.proxies[0].ifaces[1], "wan");
		assert_int_equal(c.proxies[0].net.len, 15);
		config_free(&c);
	}
}

/* The same IP may be configured on two interfaces. */
static void t_same_ip_two_ifaces(void **state)
{
	struct config c;
	parse_ok("[Interface lan]\n[Interface wan]\n"
		 "[ARPEntry]\nInterface=lan\nIP=198.18.0.1\nMode=Publish\n"
		 "[ARPEntry]\nInterface=wan\nIP=198.18.0.1\nMode=Publish\n",
		 &c);
	assert_int_equal(c.n_entries, 2);
	config_free(&c);
}

/* Every [ARP] setting with every value it allows, and refused otherwise. */
static void t_arp_settings(void **state)
{
	size_t n = 0;
	for (const struct arp_setting_desc *d = arp_settings; d->name; d++, n++) {
		char text[256], want[512];
		struct config c;
		if (d->is_enum) {
			char list[256] = "";
			size_t off = 0;
			for (int v = 0; v < AV__COUNT; v++)
				if (d->allowed & AVM(v))
					off +=
					    (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							     off ? ", " : "", arp_value_name(v));
			for (int v = 0; v < AV__COUNT; v++) {
				snprintf(text, sizeof(text), "[Interface x]\n[ARP]\n%s=%s\n",
					 d->name, arp_value_name(v));
				if (d->allowed & AVM(v)) {
					parse_ok(text, &c);
					assert_int_equal(*((uint8_t *)&c.arp + d->offset), v);
					config_free(&c);
				} else {
					snprintf(want, sizeof(want),
						 FNAME ":3: %s: expected one of %s, got \"%s\"",
						 d->name, list, arp_value_name(v));
					parse_err(text, want);
				}
			}
			snprintf(text, sizeof(text), "[Interface x]\n[ARP]\n%s=yes\n", d->name);
			snprintf(want, sizeof(want),
				 FNAME ":3: %s: expected one of %s, got \"yes\"", d->name, list);
			parse_err(text, want);
		} else {
			const uint32_t good[] = {d->min, d->max, d->def};
			for (size_t i = 0; i < 3; i++) {
				snprintf(text, sizeof(text), "[Interface x]\n[ARP]\n%s=%u\n",
					 d->name, good[i]);
				parse_ok(text, &c);
				uint32_t got;
				memcpy(&got, (char *)&c.arp + d->offset, sizeof(got));
				assert_int_equal(got, good[i]);
				config_free(&c);
			}
			char bad[4][24];
			snprintf(bad[0], sizeof(bad[0]), "%llu", (unsigned long long)d->max + 1);
			snprintf(bad[1], sizeof(bad[1]), "%s", "ten");
			snprintf(bad[2], sizeof(bad[2]), "%s", "-1");
			snprintf(bad[3], sizeof(bad[3]), "%u",
				 d->min > 0 ? d->min - 1 : d->max + 1);
			for (size_t i = 0; i < 4; i++) {
				snprintf(text, sizeof(text), "[Interface x]\n[ARP]\n%s=%s\n",
					 d->name, bad[i]);
				snprintf(want, sizeof(want),
					 FNAME ":3: %s: expected a whole number from %u to %u, got "
					       "\"%s\"",
					 d->name, d->min, d->max, bad[i]);
				parse_err(text, want);
			}
		}
	}
	assert_true(n >= 16);
}

struct bad {
	const char *text;
	const char *err;
};

static const struct bad bads[] = {
    /* sections */
    {"[Interface lan]\n\n[Interfaces]\n",
     FNAME ":3: unknown section [Interfaces]; expected one of Daemon, ARP, Interface NAME, "
	   "ARPEntry, ProxyARP, Cluster, VIP NAME, Flush, ConnSync, Balance, Neighbors, Host NAME, "
	   "Track NAME"},
    {"[Interface lan]\n[Cluster one]\n",
     FNAME ":2: section [Cluster] takes no name; got [Cluster one]"},
    {"[Interface lan]\n[Clusters]\n",
     FNAME ":2: unknown section [Clusters]; expected one of Daemon, ARP, Interface NAME, "
	   "ARPEntry, ProxyARP, Cluster, VIP NAME, Flush, ConnSync, Balance, Neighbors, Host NAME, "
	   "Track NAME"},
    {"[Interface]\n", FNAME ":1: section [Interface] needs a name: [Interface NAME]"},
    {"[Interface lan]\n[ARP x]\n", FNAME ":2: section [ARP] takes no name; got [ARP x]"},
    {"[Interface lan]\n[Daemon]\n[ARP]\n[daemon]\n",
     FNAME ":4: duplicate section [Daemon]; the first is at line 2; merge them"},
    {"[Interface lan]\n[ARP]\n\n[ARP]\n",
     FNAME ":4: duplicate section [ARP]; the first is at line 2; merge them"},
    {"[Interface lan]\n[Interface wan]\n[Interface lan]\n",
     FNAME ":3: duplicate section [Interface lan]; the first is at line 1; give each interface "
	   "one section"},
    {"[Interface this-name-is-too-long]\n",
     FNAME ":1: [Interface this-name-is-too-long]: \"this-name-is-too-long\" is not an interface "
	   "name; expected 1 to 15 characters from A-Z a-z 0-9 _ . : -"},
    {"[Interface a/b]\n", FNAME ":1: [Interface a/b]: \"a/b\" is not an interface name; expected "
				"1 to 15 characters from A-Z a-z 0-9 _ . : -"},
    {"[Interface lan\nDevice=eth0\n", FNAME ":1: section header [Interface lan has no closing ']'"},
    {"[Interface lan] x\n", FNAME ":1: unexpected text after the section header: \"x\""},
    {"", FNAME ": no [Interface NAME] section: arphad would manage nothing"},
    {"# only a comment\n[Daemon]\nLogLevel=info\n",
     FNAME ": no [Interface NAME] section: arphad would manage nothing"},
    /* lines inih cannot read */
    {"[Interface lan]\nDevice\n",
     FNAME ":2: expected a [Section] header, a Key=Value setting or a comment, got \"Device\""},
    {"[Interface lan]\n\n  just words ; no equals\n",
     FNAME ":3: expected a [Section] header, a Key=Value setting or a comment, got \"just words "
	   "; no equals\""},
    {"LogLevel=info\n[Interface lan]\n",
     FNAME ":1: setting LogLevel outside any section; put it under a [Section] header"},
    {"[Interface lan]\n=eth0\n", FNAME ":2: a setting without a name; expected Key=Value"},
    /* settings */
    {"[Interface lan]\n[ARP]\nARPChanges=Drop\nExpiry=60\n",
     FNAME ":4: unknown setting Expiry in [ARP]; expected one of UnsolicitedARPReplies, "
	   "ARPRequests, ARPChanges, StaticARPChanges, ARPMatchEnetSender, ARPMulticast, "
	   "ARPBroadcast, ARPQueryNoSender, ARPSenderIP, ARPIPCollision, ARPRateLimit, Expire, "
	   "ExpireUnknown, CacheSize, HashSize, HashSizeVLAN, VerifyTimeout, VerifyRate, "
	   "VerifyHoldoff"},
    {"[Daemon]\nSocket=/x\n",
     FNAME ":2: unknown setting Socket in [Daemon]; expected one of ControlSocket, LogTarget, "
	   "LogLevel, Metrics, RealtimePriority, DeviceTimeout"},
    {"[Interface lan]\nName=x\n",
     FNAME ":2: unknown setting Name in [Interface lan]; expected one of Device"},
    {"[Interface lan]\n[ARPEntry]\nPort=1\n",
     FNAME ":3: unknown setting Port in [ARPEntry]; expected one of Interface, IP, Mode, MAC"},
    {"[Interface lan]\n[ProxyARP]\nNet=1\n",
     FNAME ":3: unknown setting Net in [ProxyARP]; expected one of Network, Interfaces"},
    {"[Interface lan]\n[ARP]\nARPChanges=Drop\n\narpchanges=Accept\n",
     FNAME ":5: ARPChanges is set twice in [ARP]; the first is at line 3"},
    {"[Interface lan]\nDevice=a\nDevice=b\n",
     FNAME ":3: Device is set twice in [Interface lan]; the first is at line 2"},
    {"[Interface lan]\n[ARP]\nExpire=\n",
     FNAME ":3: Expire: empty value; remove the line for the default"},
    {"[Interface lan]\n[ARP]\nExpire= ; nothing\n",
     FNAME ":3: Expire: empty value; remove the line for the default"},
    {"[Interface lan]\n[ARP]\nExpire=900 # seconds\n",
     FNAME ":3: Expire: expected a whole number from 1 to 604800, got \"900 # seconds\""},
    {"[Interface lan]\n[ARP]\n\n\n\n\n\n\n\n\n\nARPChanges=yes\n", FNAME
     ":12: ARPChanges: expected one of Drop, DropLog, Accept, AcceptLog, Verify, got \"yes\""},
    /* [Daemon] */
    {"[Daemon]\nControlSocket=run/arphad.sock\n",
     FNAME ":2: ControlSocket: expected an absolute path (starting with /), got "
	   "\"run/arphad.sock\""},
    /* "/run/" and 103 a: 108 bytes, one too many for sun_path */
    {"[Daemon]\nControlSocket=/run/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaa\n",
     FNAME
     ":2: ControlSocket: the path is 108 bytes long; a unix socket path must be shorter than 108"},
    {"[Daemon]\nLogTarget=file\n",
     FNAME ":2: LogTarget: expected one of syslog, stderr, got \"file\""},
    {"[Daemon]\nLogLevel=7\n",
     FNAME ":2: LogLevel: expected one of err, warning, notice, info, debug, got \"7\""},
    {"[Daemon]\nMetrics=9774\n",
     FNAME ":2: Metrics: expected an IPv4 address and a port, such as 127.0.0.1:9774, or "
	   "\"no\", got \"9774\""},
    {"[Daemon]\nMetrics=localhost:9774\n",
     FNAME ":2: Metrics: expected an IPv4 address and a port, such as 127.0.0.1:9774, or "
	   "\"no\", got \"localhost:9774\""},
    {"[Daemon]\nMetrics=[::1]:9774\n",
     FNAME ":2: Metrics: expected an IPv4 address and a port, such as 127.0.0.1:9774, or "
	   "\"no\", got \"[::1]:9774\""},
    {"[Daemon]\nMetrics=127.0.0.1:\n",
     FNAME ":2: Metrics: expected an IPv4 address and a port, such as 127.0.0.1:9774, or "
	   "\"no\", got \"127.0.0.1:\""},
    {"[Daemon]\nMetrics=127.0.0.1:0\n",
     FNAME ":2: Metrics: the port must be from 1 to 65535, got \"0\""},
    {"[Daemon]\nMetrics=127.0.0.1:65536\n",
     FNAME ":2: Metrics: the port must be from 1 to 65535, got \"65536\""},
    {"[Daemon]\nMetrics=127.0.0.1:99999999999999999999999\n",
     FNAME ":2: Metrics: the port must be from 1 to 65535, got \"99999999999999999999999\""},
    {"[Daemon]\nMetrics=127.0.0.1:97x\n",
     FNAME ":2: Metrics: the port must be from 1 to 65535, got \"97x\""},
    /* [Interface] */
    {"[Interface lan]\nDevice=eth 0\n",
     FNAME ":2: Device: expected a network device name of 1 to 15 characters from A-Z a-z 0-9 _ "
	   ". : -, got \"eth 0\""},
    {"[Interface lan]\nDevice=..\n",
     FNAME ":2: Device: expected a network device name of 1 to 15 characters from A-Z a-z 0-9 _ "
	   ". : -, got \"..\""},
    {"[Interface lan]\nDevice=eth0\n[Interface wan]\nDevice=eth0\n",
     FNAME ":4: [Interface wan] uses device eth0, as [Interface lan] at line 1 does; one section "
	   "per device"},
    {"[Interface lan]\n[Interface eth0]\n[Interface wan]\nDevice=eth0\n",
     FNAME ":4: [Interface wan] uses device eth0, as [Interface eth0] at line 2 does; one "
	   "section per device"},
    /* [ARPEntry] */
    {"[Interface lan]\n[ARPEntry]\nIP=198.18.0.1\nMode=Publish\n",
     FNAME ":2: [ARPEntry] has no Interface=; every ARPEntry needs Interface=, IP= and Mode="},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan\nMode=Publish\n[ARP]\n",
     FNAME ":2: [ARPEntry] has no IP=; every ARPEntry needs Interface=, IP= and Mode="},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan\nIP=198.18.0.1\n",
     FNAME ":2: [ARPEntry] has no Mode=; every ARPEntry needs Interface=, IP= and Mode="},
    {"[Interface lan]\n[ARPEntry]\n",
     FNAME ":2: [ARPEntry] has no Interface=; every ARPEntry needs Interface=, IP= and Mode="},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan\nIP=198.18.0.1\nMode=Static\n",
     FNAME ":5: [ARPEntry] with Mode=Static needs MAC= (the address to map the IP to)"},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan\nIP=198.18.0.1\nMode=Published\n",
     FNAME ":5: Mode: expected one of Static, Publish, XPublish, got \"Published\""},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan\nIP=198.18.0.256\n",
     FNAME ":4: IP: expected an IPv4 address such as 198.18.0.10, got \"198.18.0.256\""},
    {"[Interface lan]\n[ARPEntry]\nIP=198.18.0.0/24\n",
     FNAME ":3: IP: expected an IPv4 address such as 198.18.0.10, got \"198.18.0.0/24\""},
    {"[Interface lan]\n[ARPEntry]\nIP=0.0.0.0\n",
     FNAME ":3: IP: 0.0.0.0 is the unspecified address; expected a unicast host address"},
    {"[Interface lan]\n[ARPEntry]\nIP=255.255.255.255\n",
     FNAME ":3: IP: 255.255.255.255 is the broadcast address; expected a unicast host address"},
    {"[Interface lan]\n[ARPEntry]\nIP=127.0.0.2\n",
     FNAME ":3: IP: 127.0.0.2 is a loopback address; expected a unicast host address"},
    {"[Interface lan]\n[ARPEntry]\nIP=239.1.2.3\n",
     FNAME ":3: IP: 239.1.2.3 is a multicast address; expected a unicast host address"},
    {"[Interface lan]\n[ARPEntry]\nMAC=4b:86:f6:c5:a2\n",
     FNAME ":3: MAC: expected a MAC address such as 02-86-f6-c5-a2-14 or 02:86:f6:c5:a2:14, got "
	   "\"4b:86:f6:c5:a2\""},
    {"[Interface lan]\n[ARPEntry]\nMAC=ff-ff-ff-ff-ff-ff\n",
     FNAME ":3: MAC: ff-ff-ff-ff-ff-ff is the broadcast address; expected a unicast MAC"},
    {"[Interface lan]\n[ARPEntry]\nMAC=01:00:5e:00:00:01\n",
     FNAME ":3: MAC: 01:00:5e:00:00:01 is a multicast (group) address; expected a unicast MAC"},
    {"[Interface lan]\n[ARPEntry]\nMAC=00:00:00:00:00:00\n",
     FNAME ":3: MAC: 00:00:00:00:00:00 is the zero address; expected a unicast MAC"},
    {"[Interface lan]\n[ARPEntry]\nInterface=lan/1\n",
     FNAME ":3: Interface: expected the name of an [Interface] section, got \"lan/1\""},
    {"[Interface lan]\n"
     "[ARPEntry]\nInterface=lan\nIP=198.18.0.1\nMode=Publish\n\n"
     "[ARPEntry]\nInterface=lan\nIP=198.18.0.1\nMode=XPublish\n",
     FNAME ":9: [ARPEntry] for 198.18.0.1 on lan repeats the one at line 2; give each address one "
	   "entry per interface"},
    {"[ARPEntry]\nInterface=dmz\nIP=198.18.0.1\nMode=Publish\n[Interface lan]\n",
     FNAME ":2: [ARPEntry] Interface=dmz: there is no [Interface dmz]"},
    /* [ProxyARP] */
    {"[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.5/24\n",
     FNAME ":3: Network: 198.18.1.5/24 has host bits set; did you mean 198.18.1.0/24?"},
    {"[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.0\n",
     FNAME ":3: Network: expected a network as ADDRESS/LENGTH, e.g. 198.18.1.0/24, got "
	   "\"198.18.1.0\""},
    {"[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.0/33\n",
     FNAME ":3: Network: expected a network as ADDRESS/LENGTH, e.g. 198.18.1.0/24, got "
	   "\"198.18.1.0/33\""},
    {"[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.0/24\n",
     FNAME ":2: [ProxyARP] has no Interfaces=; every ProxyARP needs Network= and Interfaces="},
    {"[Interface lan]\n[ProxyARP]\nInterfaces=all\n[Daemon]\n",
     FNAME ":2: [ProxyARP] has no Network=; every ProxyARP needs Network= and Interfaces="},
    {"[Interface lan]\n[ProxyARP]\nInterfaces=all lan\n",
     FNAME ":3: Interfaces: all stands alone; got \"all lan\""},
    {"[Interface lan]\n[ProxyARP]\nInterfaces=lan lan\n",
     FNAME ":3: Interfaces: lan is listed twice"},
    {"[Interface lan]\n[ProxyARP]\nInterfaces=,\n", FNAME
     ":3: Interfaces: \",\" has an empty element (two commas, or a comma at an end); expected "
     "words separated by spaces or commas"},
    {"[Interface lan]\n[ProxyARP]\nInterfaces=lan a/b\n",
     FNAME ":3: Interfaces: \"a/b\" is not an interface name; expected all, or [Interface] names "
	   "separated by spaces or commas"},
    {"[Interface lan]\n\n[ProxyARP]\nNetwork=198.18.0.0/24\nInterfaces=lan,dmz\n",
     FNAME ":5: [ProxyARP] Interfaces=: there is no [Interface dmz]"},
    /* every error is reported, one per line, in the order of the file */
    {"[Interface lan]\n[ARP]\nExpire=0\nARPChanges=yes\n[Nope]\n", FNAME
     ":3: Expire: expected a whole number from 1 to 604800, got \"0\"\n" FNAME
     ":4: ARPChanges: expected one of Drop, DropLog, Accept, AcceptLog, Verify, got \"yes\"\n" FNAME
     ":5: unknown section [Nope]; expected one of Daemon, ARP, Interface NAME, ARPEntry, "
     "ProxyARP, Cluster, VIP NAME, Flush, ConnSync, Balance, Neighbors, Host NAME, Track NAME"},
    {"[Interface lan]\nbroken line\n[ARP]\nExpire=0\n",
     FNAME ":2: expected a [Section] header, a Key=Value setting or a comment, got \"broken "
	   "line\"\n" FNAME ":4: Expire: expected a whole number from 1 to 604800, got \"0\""},
};

static void t_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		parse_err(bads[i].text, bads[i].err);
}

static void t_not_text(void **state)
{
	static const char nul[] = "[Interface lan]\nDev\0ice=x\n";
	struct config c;
	char err[512];
	assert_int_equal(config_parse(nul, sizeof(nul) - 1, FNAME, &c, err, sizeof(err)), -1);
	assert_string_equal(err, FNAME ":2: NUL byte; this is not a text file");

	/* len, not NUL, ends the text */
	static const char cut[] = "[Interface lan]\nDevice=eth0\n[Nope]\n";
	assert_int_equal(config_parse(cut, 28, FNAME, &c, err, sizeof(err)), 0);
	assert_string_equal(c.ifaces[0].device, "eth0");
	config_free(&c);

	char line[1024];
	snprintf(line, sizeof(line), "[Interface lan]\nDevice=%0600d\n", 1);
	assert_int_equal(config_parse(line, strlen(line), FNAME, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, FNAME ":2: line longer than "));

	/* inih's line buffer holds 198 characters; one more is refused, not split */
	char edge[512];
	snprintf(edge, sizeof(edge), "[Interface a]\n[ARP]\nExpire=%0191d\n", 1);
	parse_ok(edge, &c);
	assert_int_equal(c.arp.expire_s, 1);
	config_free(&c);
	snprintf(edge, sizeof(edge), "[Interface a]\n[ARP]\nExpire=%0192d\n", 1);
	parse_err(edge,
		  FNAME ":3: line longer than 198 characters; a list may go on over several "
			"lines, with its key repeated on each (Peers=... on one line, Peers=... "
			"on the next)");

	/* a short err buffer is cut, not overrun */
	char small[15];
	assert_int_equal(config_parse("", 0, FNAME, &c, small, sizeof(small)), -1);
	assert_string_equal(small, FNAME ": n");
}

/* Many sections: the arrays grow; nothing leaks (ASan). */
static void t_many(void **state)
{
	size_t cap = 1 << 16, off = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, cap - off, "[Interface if%d]\n", i);
	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(text + off, cap - off,
					"[ARPEntry]\nInterface=if%d\nIP=198.18.%d.%d\nMode=Static\n"
					"MAC=02:00:00:00:%02x:%02x\n",
					i % 40, i / 200, i % 200 + 1, i / 256, i % 256);
	for (int i = 0; i < 30; i++)
		off += (size_t)snprintf(
		    text + off, cap - off,
		    "[ProxyARP]\nNetwork=198.19.%d.0/24\nInterfaces=if%d if%d\n", i, i, i + 1);
	struct config c;
	parse_ok(text, &c);
	assert_int_equal(c.n_ifaces, 40);
	assert_int_equal(c.n_entries, 200);
	assert_int_equal(c.n_proxies, 30);
	assert_string_equal(c.proxies[29].ifaces[1], "if30");
	config_free(&c);

	/* the same, failing at the very end */
	off += (size_t)snprintf(text + off, cap - off, "[ProxyARP]\nInterfaces=nope\n");
	char err[256];
	assert_int_equal(parse(text, &c, err, sizeof(err)), -1);
	free(text);
}

#define IFACE "[Interface lan]\n"

static void t_cluster(void **state)
{
	struct config c;
	parse_ok(IFACE "[Cluster]\n"
		       "NodeID=2\n"
		       "Interface=sync0\n"
		       "Group=239.192.74.10\n"
		       "Port=7500\n"
		       "KeyFile=/etc/arpha/cluster.key\n"
		       "Encrypt=no\n"
		       "HeartbeatInterval=20ms\n"
		       "DeadInterval=5\n"
		       "SendBuffer=1024\n",
		 &c);
	assert_true(c.cluster.present);
	assert_int_equal(c.cluster.node_id, 2);
	assert_int_equal(c.cluster.n_paths, 1);
	assert_string_equal(c.cluster.devices[0], "sync0");
	assert_true(c.cluster.has_group);
	assert_int_equal(c.cluster.group, ip("239.192.74.10"));
	assert_int_equal(c.cluster.port, 7500);
	assert_string_equal(c.cluster.key_file, "/etc/arpha/cluster.key");
	assert_false(c.cluster.encrypt);
	assert_int_equal(c.cluster.interval_ms, 20);
	assert_int_equal(c.cluster.dead_count, 5);
	assert_int_equal(c.cluster.send_buffer, 1024);
	config_free(&c);

	/* defaults, and peers instead of a group */
	parse_ok(IFACE "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\n"
		       "Peers=198.18.9.2, 198.18.9.3 198.18.9.4\n",
		 &c);
	assert_int_equal(c.cluster.n_peers, 3);
	assert_int_equal(c.cluster.peers[2], ip("198.18.9.4"));
	assert_false(c.cluster.has_group);
	assert_int_equal(c.cluster.port, CONF_DEFAULT_PORT);
	assert_true(c.cluster.encrypt);
	assert_int_equal(c.cluster.interval_ms, 100);
	assert_int_equal(c.cluster.dead_count, 3);
	assert_int_equal(c.cluster.send_buffer, 256);
	config_free(&c);

	/* several paths: one line and several, in the order given */
	parse_ok(IFACE "[Cluster]\nNodeID=1\nInterface=sync0, lan0\nInterface=wan0\nKeyFile=/k\n"
		       "Group=239.1.1.1\n",
		 &c);
	assert_int_equal(c.cluster.n_paths, 3);
	assert_string_equal(c.cluster.devices[0], "sync0");
	assert_string_equal(c.cluster.devices[1], "lan0");
	assert_string_equal(c.cluster.devices[2], "wan0");
	assert_int_equal(c.cluster.iface_line, 4);
	config_free(&c);

	/* no [Cluster]: not present */
	parse_ok(IFACE, &c);
	assert_false(c.cluster.present);
	config_free(&c);
}

static void t_cluster_errors(void **state)
{
	const char *base = IFACE "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\n";
	char text[512];
	struct {
		const char *extra, *want;
	} cases[] = {
	    {"Group=198.18.0.1\n",
	     FNAME ":6: Group: expected an IPv4 multicast address "
		   "(224.0.0.0/4), such as 239.192.74.10, got \"198.18.0.1\""},
	    {"Peers=198.18.0.1 224.0.0.1\n",
	     FNAME ":6: Peers: \"224.0.0.1\" is a multicast address; expected the unicast IPv4 "
		   "addresses of the other nodes, separated by spaces or commas"},
	    {"Peers=198.18.0.1,198.18.0.1\n", FNAME ":6: Peers: 198.18.0.1 is listed twice"},
	    {"Group=239.1.1.1\nInterface=lan0 sync0\n",
	     FNAME ":7: Interface: sync0 is listed twice"},
	    {"Group=239.1.1.1\nInterface=a b c d\n",
	     FNAME ":7: Interface: more than 4 devices; a node has at most 4 paths to the others"},
	    {"Group=239.1.1.1\nInterface=lan0 this-name-is-too-long\n", FNAME
	     ":7: Interface: \"this-name-is-too-long\" is not a device name; expected the sync "
	     "links' devices (1 to 15 characters from A-Z a-z 0-9 _ . : -), separated by spaces "
	     "or commas"},
	    {"Group=239.1.1.1\nPeers=198.18.0.2\n",
	     FNAME ":7: [Cluster] has both Group= (line 6) and Peers=; use a multicast group or "
		   "a list of peers, not both"},
	    {"",
	     FNAME ":2: [Cluster] has neither Group= nor Peers=; say where the other nodes are"},
	    {"Group=239.1.1.1\nHeartbeatInterval=100\n",
	     FNAME ":7: HeartbeatInterval: expected a duration from 10ms to 60s, such as 100ms or "
		   "1s, got \"100\""},
	    {"Group=239.1.1.1\nHeartbeatInterval=5ms\n",
	     FNAME ":7: HeartbeatInterval: expected a duration from 10ms to 60s, such as 100ms or "
		   "1s, got \"5ms\""},
	    {"Group=239.1.1.1\nDeadInterval=1\n",
	     FNAME ":7: DeadInterval: expected a whole number from 2 to 1000, got \"1\""},
	    {"Group=239.1.1.1\nEncrypt=maybe\n",
	     FNAME ":7: Encrypt: expected one of yes, no, got \"maybe\""},
	    {"Group=239.1.1.1\nPort=0\n",
	     FNAME ":7: Port: expected a whole number from 1 to 65535, got \"0\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", base, cases[i].extra);
		parse_err(text, cases[i].want);
	}
	parse_err(IFACE "[Cluster]\nInterface=s\nKeyFile=/k\nGroup=239.1.1.1\n",
		  FNAME ":2: [Cluster] has no NodeID=; a cluster needs NodeID=, Interface=, "
			"KeyFile= and Group= or Peers=");
	parse_err(IFACE "[Cluster]\nKeyFile=relative.key\n", FNAME
		  ":3: KeyFile: expected an absolute path (starting with /), got \"relative.key\"");
	parse_err(IFACE "[Cluster]\nNodeID=0\nInterface=s\nKeyFile=/k\nGroup=239.1.1.1\n",
		  FNAME ":3: NodeID: expected a whole number from 1 to 4294967295, got \"0\"");
	parse_err(IFACE "[Cluster]\nNodeID=1\nInterface=s\nKeyFile=/k\nGroup=239.1.1.1\n"
			"[Cluster]\n",
		  FNAME ":7: duplicate section [Cluster]; the first is at line 2; merge them");
}

#define CLUSTER "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n"

static void t_durations(void **state)
{
	uint32_t ms;
	assert_int_equal(config_duration("20ms", &ms), 0);
	assert_int_equal(ms, 20);
	assert_int_equal(config_duration("1s", &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(config_duration("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(config_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(config_duration("0.02s", &ms), 0);
	assert_int_equal(ms, 20);
	const char *bad[] = {"",    "ms",  "100",   "1.5ms",	   "1 s",
			     "-1s", "1.s", "1e3ms", "99999999999s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_duration(bad[i], &ms), -1);
}

/* item 20: minutes and hours, as the messages name them */
static void t_item20_durations_m_h(void **state)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {{"1m", 60000},    {"60m", 3600000},	 {"1h", 3600000}, {"1.5h", 5400000},
		    {"5min", 300000}, {"24h", 86400000}, {"0.5m", 30000}};
	uint32_t ms;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_duration(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	const char *bad[] = {"1M", "1mn", "1hr", "1d", "1 h", "2000000h"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_duration(bad[i], &ms), -1);

	struct config c;
	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nPreemptDelay=1h\n"
			       "RefreshInterval=24h\n[ConnSync]\nCheckInterval=5m\n",
		 &c);
	assert_int_equal(c.vips[0].preempt_delay_ms, 3600000);
	assert_int_equal(c.vips[0].refresh_interval_ms, 86400000);
	assert_int_equal(c.connsync.check_interval_ms, 300000);
	config_free(&c);
	parse_err(IFACE CLUSTER
		  "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nPreemptDelay=61m\n",
		  FNAME ":10: PreemptDelay: expected a duration up to 1h, such as 0, 500ms, 30s or "
			"5m, got \"61m\"");
}

static void t_vip(void **state)
{
	struct config c;
	parse_ok(IFACE CLUSTER "[VIP outside]\nAddress=198.18.0.100/24\nInterface=lan\n"
			       "[VIP inside]\nAddress=198.18.1.1/24\nInterface=lan\nPriority=200\n"
			       "Preempt=no\nPreemptDelay=2s\nTrackInterface=eth1, eth2\n"
			       "VirtualMAC=yes\nVRID=7\nGroup=fw\nAnnounceCount=5\n"
			       "AnnounceInterval=20ms\nRefreshInterval=30s\n"
			       "FlushHosts=198.18.0.5 198.18.0.6\nNotifyScript=/usr/bin/true\n"
			       "[Flush]\nKeyFile=/f\nPort=9\nCount=2\nInterval=500ms\n",
		 &c);
	assert_int_equal(c.n_vips, 2);
	const struct conf_vip *a = &c.vips[0], *b = &c.vips[1];
	assert_string_equal(a->name, "outside");
	assert_string_equal(a->group, "outside");
	assert_int_equal(a->addr.addr, 0xc6120064);
	assert_int_equal(a->addr.len, 24);
	assert_int_equal(a->priority, 100);
	assert_true(a->preempt);
	assert_int_equal(a->preempt_delay_ms, 0);
	assert_int_equal(a->announce, ANN_GARP | ANN_TARGETED);
	assert_int_equal(a->announce_count, 3);
	assert_int_equal(a->announce_interval_ms, 100);
	assert_int_equal(a->refresh_interval_ms, 0);
	assert_false(a->vmac);
	assert_int_equal(b->priority, 200);
	assert_false(b->preempt);
	assert_int_equal(b->preempt_delay_ms, 2000);
	assert_int_equal(b->n_track, 2);
	assert_string_equal(b->track[1], "eth2");
	assert_true(b->vmac);
	assert_int_equal(b->vrid, 7);
	assert_string_equal(b->group, "fw");
	assert_int_equal(b->announce, ANN_GARP | ANN_TARGETED | ANN_VMAC | ANN_FLUSH);
	assert_int_equal(b->announce_count, 5);
	assert_int_equal(b->announce_interval_ms, 20);
	assert_int_equal(b->refresh_interval_ms, 30000);
	assert_int_equal(b->n_flush_hosts, 2);
	assert_string_equal(b->notify, "/usr/bin/true");
	assert_true(c.flush.present);
	assert_int_equal(c.flush.port, 9);
	assert_int_equal(c.flush.count, 2);
	assert_int_equal(c.flush.interval_ms, 500);
	config_free(&c);

	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nAnnounce=garp\n",
		 &c);
	assert_int_equal(c.vips[0].announce, ANN_GARP);
	assert_false(c.flush.present);
	assert_int_equal(c.flush.port, CONF_DEFAULT_FLUSH_PORT);
	config_free(&c);
}

static void t_connsync(void **state)
{
	struct config c;
	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n[ConnSync]\n", &c);
	assert_true(c.connsync.present);
	assert_int_equal(c.connsync.protocols, CT_PROTO_TCP | CT_PROTO_UDP | CT_PROTO_ICMP);
	assert_int_equal(c.connsync.n_nets, 0);
	assert_int_equal(c.connsync.check_interval_ms, 10000);
	assert_int_equal(c.connsync.max_entries, 262144);
	config_free(&c);
	parse_ok(IFACE CLUSTER "[ConnSync]\nProtocols=tcp\nNetworks=198.18.1.0/24, 198.18.2.0/24\n"
			       "CheckInterval=0\nMaxEntries=5000\n",
		 &c);
	assert_int_equal(c.connsync.protocols, CT_PROTO_TCP);
	assert_int_equal(c.connsync.n_nets, 2);
	assert_int_equal(c.connsync.nets[0].addr, 0xc6120100);
	assert_int_equal(c.connsync.check_interval_ms, 0);
	assert_int_equal(c.connsync.max_entries, 5000);
	config_free(&c);
	parse_err(IFACE "[ConnSync]\nNetworks=198.18.1.0/24\n",
		  FNAME ":2: [ConnSync] needs a [Cluster] section: connections are synced to the "
			"other nodes of a cluster");
	parse_err(IFACE CLUSTER "[ConnSync]\n",
		  FNAME ":7: [ConnSync] has no Networks= and there is no [VIP] whose network it "
			"could use; say which connections to sync");
	parse_err(IFACE CLUSTER "[ConnSync]\nProtocols=tcp sctp\n",
		  FNAME ":8: Protocols: \"sctp\" is not synced; expected some of tcp, udp, icmp");
	parse_err(IFACE CLUSTER "[ConnSync]\nNetworks=198.18.1.0\n",
		  FNAME ":8: Networks: \"198.18.1.0\" is not a network; expected networks with "
			"their prefix length, such as 198.18.1.0/24");
}

static void t_neighbors(void **state)
{
	struct config c;
	/* an empty section: the defaults */
	parse_ok(IFACE "[Neighbors]\n", &c);
	assert_true(c.neighbors.present);
	assert_int_equal(c.neighbors.line, 2);
	assert_int_equal(c.neighbors.size, 400);
	assert_int_equal(c.neighbors.active_timeout_ms, 300000);
	assert_true(c.neighbors.snoop);
	assert_int_equal(c.neighbors.snoop_rate, 200);
	assert_string_equal(c.neighbors.devtypes, "");
	config_free(&c);
	/* every key, at its bounds; no [Cluster] needed */
	parse_ok(IFACE "[neighbors]\nsize=1\nActiveTimeout=1s\nSnoop=no\n"
		       "DeviceTypes=/etc/arpha/devtypes.txt\nSnoopRateLimit=1\n",
		 &c);
	assert_int_equal(c.neighbors.snoop_rate, 1);
	assert_int_equal(c.neighbors.size, 1);
	assert_int_equal(c.neighbors.active_timeout_ms, 1000);
	assert_false(c.neighbors.snoop);
	assert_string_equal(c.neighbors.devtypes, "/etc/arpha/devtypes.txt");
	assert_int_equal(c.neighbors.devtypes_line, 6);
	config_free(&c);
	parse_ok(IFACE "[Neighbors]\nSize=1048576\nActiveTimeout=24h\nSnoop=YES\n", &c);
	assert_int_equal(c.neighbors.size, 1048576);
	assert_int_equal(c.neighbors.active_timeout_ms, 86400000);
	assert_true(c.neighbors.snoop);
	config_free(&c);
	parse_ok(IFACE "[Neighbors]\nActiveTimeout=1.5m\n", &c);
	assert_int_equal(c.neighbors.active_timeout_ms, 90000);
	config_free(&c);

	parse_err(IFACE "[Neighbors]\nSize=0\n",
		  FNAME ":3: Size: expected a whole number from 1 to 1048576, got \"0\"");
	parse_err(IFACE "[Neighbors]\nSize=1048577\n",
		  FNAME ":3: Size: expected a whole number from 1 to 1048576, got \"1048577\"");
	parse_err(IFACE "[Neighbors]\nSize=-1\n",
		  FNAME ":3: Size: expected a whole number from 1 to 1048576, got \"-1\"");
	parse_err(IFACE "[Neighbors]\nActiveTimeout=999ms\n",
		  FNAME ":3: ActiveTimeout: expected a duration from 1s to 24h, such as 30s, 5m or "
			"1h, got \"999ms\"");
	parse_err(IFACE "[Neighbors]\nActiveTimeout=0\n",
		  FNAME ":3: ActiveTimeout: expected a duration from 1s to 24h, such as 30s, 5m or "
			"1h, got \"0\"");
	parse_err(IFACE "[Neighbors]\nActiveTimeout=25h\n",
		  FNAME ":3: ActiveTimeout: expected a duration from 1s to 24h, such as 30s, 5m or "
			"1h, got \"25h\"");
	parse_err(IFACE "[Neighbors]\nActiveTimeout=300\n",
		  FNAME ":3: ActiveTimeout: expected a duration from 1s to 24h, such as 30s, 5m or "
			"1h, got \"300\"");
	parse_err(IFACE "[Neighbors]\nSnoop=dhcp\n",
		  FNAME ":3: Snoop: expected one of yes, no, got \"dhcp\"");
	parse_err(IFACE "[Neighbors]\nDeviceTypes=devtypes.txt\n",
		  FNAME ":3: DeviceTypes: expected an absolute path (starting with /), got "
			"\"devtypes.txt\"");
	char text[512], want[256];
	snprintf(text, sizeof(text), IFACE "[Neighbors]\nDeviceTypes=/%0*d\n", CONF_PATH_MAX - 1,
		 0);
	snprintf(want, sizeof(want), FNAME ":3: DeviceTypes: the path is longer than %d bytes",
		 CONF_PATH_MAX - 1);
	parse_err(text, want);
	parse_err(IFACE "[Neighbors]\nSize=10\nSize=20\n",
		  FNAME ":4: Size is set twice in [Neighbors]; the first is at line 3");
	parse_err(IFACE "[Neighbors]\nSize=10\n[Neighbors]\nSnoop=no\n",
		  FNAME ":4: duplicate section [Neighbors]; the first is at line 2; merge them");
	parse_err(IFACE "[Neighbors lan]\n",
		  FNAME ":2: section [Neighbors] takes no name; got [Neighbors lan]");
	parse_err(IFACE "[Neighbors]\nSize=10\nHostname=yes\n",
		  FNAME ":4: unknown setting Hostname in [Neighbors]; expected one of Size, "
			"ActiveTimeout, Snoop, SnoopRateLimit, DeviceTypes");
}

#define HOST_RULE                                                                                  \
	"expected a name of 1 to 63 bytes of text without spaces or control characters, such as "  \
	"[Host printer-2]"

/* [Track NAME] and [VIP] Track=: health checks a group follows. */
static void t_tracks(void **state)
{
	(void)state;
	struct config c;
#define TVIP(name, extra)                                                                          \
	"[VIP " name "]\nAddress=198.18.0.10" name "/24\nInterface=lan\nGroup=web\n" extra
	parse_ok(IFACE CLUSTER "[Track haproxy]\nScript=/usr/local/bin/check-haproxy -q\n"
			       "Interval=1s\nTimeout=500ms\nFall=3\nRise=2\n"
			       "[Track maint]\nFile=/run/arpha/maintenance\n" TVIP(
				   "1", "Track=haproxy:50, maint\n")
				   TVIP("2", "Track=haproxy:50\n"),
		 &c);
	assert_int_equal(c.n_tracks, 2);
	assert_string_equal(c.tracks[0].script, "/usr/local/bin/check-haproxy -q");
	assert_int_equal(c.tracks[0].interval_ms, 1000);
	assert_int_equal(c.tracks[0].timeout_ms, 500);
	assert_int_equal(c.tracks[0].fall, 3);
	assert_int_equal(c.tracks[0].rise, 2);
	assert_string_equal(c.tracks[1].file, "/run/arpha/maintenance");
	assert_int_equal(c.tracks[1].interval_ms, 2000); /* the defaults */
	assert_int_equal(c.tracks[1].fall, 1);
	assert_int_equal(c.tracks[1].rise, 1);
	assert_int_equal(c.vips[0].n_checks, 2);
	assert_string_equal(c.vips[0].checks[0], "haproxy");
	assert_int_equal(c.vips[0].check_weight[0], 50);
	assert_string_equal(c.vips[0].checks[1], "maint");
	assert_int_equal(c.vips[0].check_weight[1], 0); /* no weight: fault */
	config_free(&c);
	/* Timeout= defaults to the interval */
	parse_ok(IFACE CLUSTER "[Track h]\nScript=/bin/true\nInterval=3s\n" TVIP("1", "Track=h\n"),
		 &c);
	assert_int_equal(c.tracks[0].timeout_ms, 3000);
	config_free(&c);
	parse_err(IFACE CLUSTER "[Track h]\nInterval=3s\n" TVIP("1", "Track=h\n"),
		  FNAME ":7: [Track h] needs one of Script= (a command: healthy when it exits 0) "
			"and File= (a file: healthy while it holds 0)");
	parse_err(IFACE CLUSTER "[Track h]\nScript=/bin/true\nFile=/run/x\n" TVIP("1", "Track=h\n"),
		  FNAME ":7: [Track h] needs one of Script= (a command: healthy when it exits 0) "
			"and File= (a file: healthy while it holds 0), not both");
	parse_err(IFACE CLUSTER "[Track h]\nFile=/run/x\nTimeout=1s\n" TVIP("1", "Track=h\n"),
		  FNAME ":9: [Track h] Timeout=: only a Script= runs for a time; a File= is read "
			"at once");
	parse_err(IFACE CLUSTER
		  "[Track h]\nScript=/bin/true\nInterval=1s\nTimeout=2s\n" TVIP("1", "Track=h\n"),
		  FNAME ":10: [Track h] Timeout=2000ms is longer than Interval=1000ms; expected at "
			"most the interval (one run at a time)");
	parse_err(IFACE CLUSTER TVIP("1", "Track=nope:10\n"),
		  FNAME ":11: [VIP 1] Track=nope: there is no [Track nope]");
	parse_err(IFACE CLUSTER "[Track h]\nScript=/bin/true\n" TVIP("1", ""),
		  FNAME ":7: [Track h] is followed by no VIP; list it in a VIP's Track= (or remove "
			"it)");
	parse_err(IFACE CLUSTER "[Track h]\nScript=/bin/true\n" TVIP("1", "Track=h:10\n")
		      TVIP("2", "Track=h:20\n"),
		  FNAME ":18: [VIP 2] Track=h:20: [VIP 1] of the same group (line 13) weighs it "
			"10; a check counts once in a group, so give it one weight");
	parse_err(IFACE CLUSTER "[Track h]\nScript=/bin/true\n" TVIP("1", "Track=h h\n"),
		  FNAME ":13: Track: h is listed twice");
	parse_err(IFACE CLUSTER "[Track h:1]\nScript=/bin/true\n",
		  FNAME ":7: [Track h:1]: \"h:1\" is not a check name; expected 1 to 31 "
			"characters from A-Z a-z 0-9 _ . -");
	parse_err(IFACE CLUSTER "[Track h]\nScript=/bin/true\n" TVIP("1", "Track=h:\n"),
		  FNAME ":13: Track: \"h:\": expected NAME or NAME:WEIGHT with a weight from 0 to "
			"253 (the priority a failure takes off; 0: fault)");
#undef TVIP
}

static void t_hosts(void **state)
{
	struct config c;
	parse_ok(IFACE "[Host printer-2]\nMAC=02:86:f6:c5:a2:14\n"
		       "[host Printer-2]\nmac=4A-86-F6-C5-A2-15\n"
		       "[Host K\303\274che.TV_1]\nMAC=0086:f6c5:a216\n", /* Küche */
		 &c);
	assert_int_equal(c.n_hosts, 3);
	assert_string_equal(c.hosts[0].name, "printer-2");
	assert_int_equal(c.hosts[0].line, 2);
	assert_int_equal(c.hosts[0].mac_line, 3);
	assert_int_equal(c.hosts[0].mac.a[0], 0x02);
	assert_int_equal(c.hosts[0].mac.a[5], 0x14);
	/* names are as written: another case is another name */
	assert_string_equal(c.hosts[1].name, "Printer-2");
	assert_int_equal(c.hosts[1].mac.a[0], 0x4a);
	assert_string_equal(c.hosts[2].name, "K\303\274che.TV_1");
	assert_int_equal(c.hosts[2].mac.a[5], 0x16);
	assert_false(c.neighbors.present); /* [Host] needs no [Neighbors] */
	config_free(&c);
	/* 63 bytes, and punctuation other than a space */
	char name[80], text[512], want[512];
	memset(name, 'h', 63);
	name[63] = '\0';
	snprintf(text, sizeof(text),
		 IFACE "[Host %s]\nMAC=02:00:00:00:00:01\n[Host a;b=c#d]\n"
		       "MAC=02:00:00:00:00:02\n",
		 name);
	parse_ok(text, &c);
	assert_string_equal(c.hosts[0].name, name);
	assert_string_equal(c.hosts[1].name, "a;b=c#d");
	config_free(&c);

	/* the name */
	strcat(name, "x");
	snprintf(text, sizeof(text), IFACE "[Host %s]\nMAC=02:00:00:00:00:01\n", name);
	snprintf(want, sizeof(want), FNAME ":2: [Host %s]: the name is longer than 63 bytes; %s",
		 name, HOST_RULE);
	parse_err(text, want);
	parse_err(IFACE "[Host my pc]\nMAC=02:00:00:00:00:01\n",
		  FNAME ":2: [Host my pc]: the name holds a space; " HOST_RULE);
	parse_err(IFACE "[Host my\tpc]\nMAC=02:00:00:00:00:01\n",
		  FNAME ":2: [Host my\\x09pc]: the name holds a control character; " HOST_RULE);
	parse_err(IFACE "[Host a\x01]\nMAC=02:00:00:00:00:01\n",
		  FNAME ":2: [Host a\\x01]: the name holds a control character; " HOST_RULE);
	parse_err(IFACE "[Host a\x7f]\nMAC=02:00:00:00:00:01\n",
		  FNAME ":2: [Host a\\x7f]: the name holds a control character; " HOST_RULE);
	parse_err(IFACE "[Host]\nMAC=02:00:00:00:00:01\n",
		  FNAME ":2: section [Host] needs a name: [Host NAME]");
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\n[Host b]\nMAC=02:00:00:00:00:02\n"
			"[Host a]\nMAC=02:00:00:00:00:03\n",
		  FNAME ":6: duplicate section [Host a]; the first is at line 2; give each host "
			"one section");

	/* MAC= */
	parse_err(IFACE "[Host a]\n",
		  FNAME ":2: [Host a] has no MAC=; expected the device's MAC address, such as "
			"MAC=02:86:f6:c5:a2:14");
	parse_err(IFACE "[Host a]\nMAC=00:00:00:00:00:00\n",
		  FNAME ":3: MAC: 00:00:00:00:00:00 is the zero address; expected a unicast MAC");
	parse_err(IFACE "[Host a]\nMAC=03:00:5e:00:01:0a\n",
		  FNAME ":3: MAC: 03:00:5e:00:01:0a is a multicast (group) address; expected a "
			"unicast MAC");
	parse_err(IFACE "[Host a]\nMAC=ff:ff:ff:ff:ff:ff\n",
		  FNAME ":3: MAC: ff:ff:ff:ff:ff:ff is the broadcast address; expected a unicast "
			"MAC");
	parse_err(IFACE "[Host a]\nMAC=printer\n",
		  FNAME ":3: MAC: expected a MAC address such as 02-86-f6-c5-a2-14 or "
			"02:86:f6:c5:a2:14, got \"printer\"");
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\nMAC=02:00:00:00:00:01\n",
		  FNAME ":4: MAC is set twice in [Host a]; the first is at line 3");
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\nIP=198.18.0.9\n",
		  FNAME ":4: unknown setting IP in [Host a]; expected one of MAC");
	/* one MAC, two names: both lines, written alike or not */
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\n[Host b]\n\nMAC=02-00-00-00-00-01\n",
		  FNAME ":6: [Host b] MAC=02:00:00:00:00:01 is the MAC of [Host a] at line 3; a "
			"device has one name, so give each MAC one [Host] section");
	/* ... reported once, against the first */
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\n[Host b]\nMAC=02:00:00:00:00:01\n"
			"[Host c]\nMAC=0200:0000:0001\n",
		  FNAME ":5: [Host b] MAC=02:00:00:00:00:01 is the MAC of [Host a] at line 3; a "
			"device has one name, so give each MAC one [Host] section\n" FNAME
			":7: [Host c] MAC=02:00:00:00:00:01 is the MAC of [Host a] at line 3; a "
			"device has one name, so give each MAC one [Host] section");
	/* a [Host] with an error is no one's rival */
	parse_err(IFACE "[Host a]\nMAC=02:00:00:00:00:01\nBogus=1\n[Host b]\n"
			"MAC=02:00:00:00:00:01\n",
		  FNAME ":4: unknown setting Bogus in [Host a]; expected one of MAC");
}

/* item 9a: the ARP entries of an interface must fit in its cache */
static void t_item9a_entries_past_cachesize(void **state)
{
	char text[8192];
	size_t off = 0;
	off += (size_t)snprintf(text + off, sizeof(text) - off,
				"[Interface lan]\n[Interface wan]\n[ARP]\nCacheSize=16\n");
	/* 16 entries on lan fit, and more on wan do not count for lan */
	for (int i = 1; i <= 16; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"[ARPEntry]\nInterface=lan\nIP=198.18.0.%d\nMode=Publish\n"
					"[ARPEntry]\nInterface=wan\nIP=198.18.1.%d\nMode=Publish\n",
					i, i);
	struct config c;
	parse_ok(text, &c);
	assert_int_equal(c.n_entries, 32);
	config_free(&c);
	/* the 17th on lan: lines 5 + 8 * 16 = 133 (its header), 134 (Interface=) */
	snprintf(text + off, sizeof(text) - off,
		 "[ARPEntry]\nInterface=lan\nIP=198.18.0.17\nMode=Publish\n");
	parse_err(text, FNAME ":134: [ARPEntry] for 198.18.0.17 is entry 17 on lan, more than "
			      "CacheSize=16 holds: an interface's cache holds its ARP entries and "
			      "what it learns; raise CacheSize= in [ARP] or remove entries");
}

/* item 18: addresses no VIP or entry can have */
static void t_item18_address_checks(void **state)
{
	struct config c;
	/* IFACE is line 1, CLUSTER 2-6, [VIP a] 7, Address= 8 */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.0/24\nInterface=lan\n",
		  FNAME ":8: Address: 198.18.0.0/24 is the network address of 198.18.0.0/24, which "
			"no host may hold; expected an address inside the network, such as "
			"198.18.0.1/24");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.255/24\nInterface=lan\n",
		  FNAME ":8: Address: 198.18.0.255/24 is the broadcast address of 198.18.0.0/24, "
			"which no host may hold; expected an address inside the network, such as "
			"198.18.0.1/24");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.3.255/22\nInterface=lan\n",
		  FNAME ":8: Address: 198.18.3.255/22 is the broadcast address of 198.18.0.0/22, "
			"which no host may hold; expected an address inside the network, such as "
			"198.18.0.1/22");
	/* a /31 and a /32 have neither */
	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.0/31\nInterface=lan\n"
			       "[VIP b]\nAddress=198.18.0.255/32\nInterface=lan\n",
		 &c);
	config_free(&c);

	/* an ARP entry on a VIP's address: [ARPEntry] 10, Interface= 11, IP= 12 */
	const char *vip = IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n";
	char text[1024];
	snprintf(
	    text, sizeof(text),
	    "%s[ARPEntry]\nInterface=lan\nIP=198.18.0.100\nMode=Static\nMAC=02:00:00:00:00:01\n",
	    vip);
	parse_err(text, FNAME ":12: [ARPEntry] IP=198.18.0.100 (Mode=Static) on lan is the address "
			      "of [VIP a] (line 7): the VIP's owner answers for it with its own "
			      "MAC; remove the entry");
	snprintf(text, sizeof(text), "%s[ARPEntry]\nInterface=lan\nIP=198.18.0.100\nMode=Publish\n",
		 vip);
	parse_err(text,
		  FNAME ":12: [ARPEntry] IP=198.18.0.100 (Mode=Publish) on lan is the "
			"address of [VIP a] (line 7): the VIP's owner answers for it with its "
			"own MAC; remove the entry");
	/* ... and on the broadcast address of its network */
	snprintf(
	    text, sizeof(text),
	    "%s[ARPEntry]\nInterface=lan\nIP=198.18.0.255\nMode=Static\nMAC=02:00:00:00:00:01\n",
	    vip);
	parse_err(text, FNAME ":12: [ARPEntry] IP=198.18.0.255 on lan is the broadcast address of "
			      "198.18.0.0/24, the network of [VIP a] (line 7); expected a host "
			      "address");
	/* another interface, or another address of the network, is fine */
	snprintf(text, sizeof(text),
		 "[Interface wan]\n%s[ARPEntry]\nInterface=wan\nIP=198.18.0.100\nMode=Static\n"
		 "MAC=02:00:00:00:00:01\n[ARPEntry]\nInterface=lan\nIP=198.18.0.7\nMode=Static\n"
		 "MAC=02:00:00:00:00:07\n",
		 vip);
	parse_ok(text, &c);
	config_free(&c);

	/* VRID= without VirtualMAC=yes: [VIP a] 7, VRID= 10 */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nVRID=5\n",
		  FNAME ":10: VRID: set without VirtualMAC=yes in [VIP a]; VRID only chooses the "
			"virtual MAC 00:00:5e:00:01:VRID, so add VirtualMAC=yes or remove VRID=");
	parse_err(IFACE CLUSTER
		  "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nVirtualMAC=no\nVRID=5\n",
		  FNAME ":11: VRID: set without VirtualMAC=yes in [VIP a]; VRID only chooses the "
			"virtual MAC 00:00:5e:00:01:VRID, so add VirtualMAC=yes or remove VRID=");
}

/* item 8: networks no proxy may answer for */
static void t_item8_proxy_networks(void **state)
{
	static const struct {
		const char *net, *why;
	} bad[] = {
	    {"0.0.0.0/0", "is every address"},
	    {"0.0.0.0/8", "holds 0.0.0.0/8 (\"this network\", never a host)"},
	    {"127.0.0.0/8", "holds loopback addresses (127.0.0.0/8)"},
	    {"127.1.0.0/16", "holds loopback addresses (127.0.0.0/8)"},
	    {"224.0.0.0/4", "holds multicast addresses (224.0.0.0/4)"},
	    {"128.0.0.0/1", "holds multicast addresses (224.0.0.0/4)"},
	    {"255.255.255.255/32", "holds the broadcast address 255.255.255.255"},
	};
	char text[512], want[1024];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "[Interface lan]\n[ProxyARP]\nNetwork=%s\nInterfaces=lan\n", bad[i].net);
		snprintf(want, sizeof(want),
			 FNAME ":3: Network: %s %s; expected a network of unicast addresses that "
			       "live behind another interface, such as 198.18.1.0/24",
			 bad[i].net, bad[i].why);
		parse_err(text, want);
	}
	struct config c;
	parse_ok("[Interface lan]\n[ProxyARP]\nNetwork=10.0.0.0/8\nInterfaces=lan\n", &c);
	assert_int_equal(c.proxies[0].net_line, 3);
	assert_int_equal(c.proxies[0].ifaces_line, 4);
	config_free(&c);
}

/* item 28: the rules the docs state, and duplicates in every list */
static void t_item28_consistency(void **state)
{
	parse_err(IFACE CLUSTER "[ConnSync]\nNetworks=10.0.0.1/8\n",
		  FNAME ":8: Networks: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?");
	parse_err(IFACE CLUSTER "[ConnSync]\nNetworks=10.0.0.0/8 10.0.0.0/8\n",
		  FNAME ":8: Networks: 10.0.0.0/8 is listed twice");
	parse_err(IFACE CLUSTER "[ConnSync]\nNetworks=10.0.0.0/8\nProtocols=tcp tcp\n",
		  FNAME ":9: Protocols: tcp is listed twice");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"TrackInterface=eth0 eth0\n",
		  FNAME ":10: TrackInterface: eth0 is listed twice");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Announce=garp,garp\n",
		  FNAME ":10: Announce: garp is listed twice");
	parse_err("[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan,,\n",
		  FNAME ":4: Interfaces: \"lan,,\" has an empty element (two commas, or a comma at "
			"an end); expected words separated by spaces or commas");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"TrackInterface=,eth0\n",
		  FNAME ":10: TrackInterface: \",eth0\" has an empty element (two commas, or a "
			"comma at an end); expected words separated by spaces or commas");
	parse_err("[Interface lan]\n[Interface wan]\n"
		  "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan\n"
		  "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=wan\n",
		  FNAME ":7: [ProxyARP] Network=198.18.1.0/24 repeats the one at line 4; give each "
			"network one [ProxyARP] and list all its interfaces there");
	/* [Flush]: CLUSTER's KeyFile= is line 5 */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"FlushHosts=198.18.0.5\n[Flush]\nKeyFile=/k\n",
		  FNAME ":12: KeyFile: /k is also the [Cluster] KeyFile (line 5); the flush key is "
			"given to the hosts that run arpha-flushd, so give it a key of its own "
			"(make one with `arpha keygen FILE`)");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"[Flush]\nKeyFile=/f\n",
		  FNAME
		  ":10: [Flush] is not used: no [VIP] has FlushHosts=; add FlushHosts= to "
		  "the VIPs whose hosts should flush their ARP caches, or remove the section");
	parse_err("[Interface lan]\nDevice=lo\n",
		  FNAME ":2: [Interface lan] Device=lo: the loopback device carries no ARP; "
			"expected an Ethernet device such as eth0");
	parse_err("[Interface lo]\n",
		  FNAME ":1: [Interface lo] Device=lo: the loopback device "
			"carries no ARP; expected an Ethernet device such as eth0");
}

/* item 21: a list goes on over several lines, its key repeated */
static void t_item21_repeated_list_keys(void **state)
{
	char text[4096];
	size_t off = (size_t)snprintf(text, sizeof(text),
				      IFACE "[Cluster]\nNodeID=1\nInterface=sync0\nKeyFile=/k\n");
	for (int i = 1; i <= 63; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s198.18.0.%d%s",
					i % 10 == 1 ? "Peers=" : " ", i, i % 10 == 0 ? "\n" : "");
	off += (size_t)snprintf(text + off, sizeof(text) - off, "\n");
	struct config c;
	parse_ok(text, &c);
	assert_int_equal(c.cluster.n_peers, 63);
	assert_int_equal(c.cluster.peers[62], ip("198.18.0.63"));
	config_free(&c);
	/* one more: lines 1-5, then 7 Peers= lines (6-12), the 64th on line 13 */
	snprintf(text + off, sizeof(text) - off, "Peers=198.18.0.64\n");
	parse_err(text, FNAME ":13: Peers: more than 63 addresses");
	parse_err(IFACE "[Cluster]\nNodeID=1\nInterface=s\nKeyFile=/k\nPeers=198.18.0.1\n"
			"Peers=198.18.0.2 198.18.0.1\n",
		  FNAME ":7: Peers: 198.18.0.1 is listed twice");

	parse_ok(IFACE "[Interface wan]\n" CLUSTER
		       "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nTrackInterface=eth1\n"
		       "TrackInterface=eth2 eth3\nFlushHosts=198.18.0.5\nFlushHosts=198.18.0.6\n"
		       "Announce=garp\nAnnounce=flush\n[Flush]\nKeyFile=/f\n"
		       "[ConnSync]\nProtocols=tcp\nProtocols=icmp\nNetworks=198.18.1.0/24\n"
		       "Networks=198.18.2.0/24\n[ProxyARP]\nNetwork=198.18.9.0/24\n"
		       "Interfaces=lan\nInterfaces=wan\n",
		 &c);
	assert_int_equal(c.vips[0].n_track, 3);
	assert_string_equal(c.vips[0].track[2], "eth3");
	assert_int_equal(c.vips[0].track_line[0], 11);
	assert_int_equal(c.vips[0].track_line[2], 12);
	assert_int_equal(c.vips[0].n_flush_hosts, 2);
	assert_int_equal(c.vips[0].flush_line, 13);
	assert_int_equal(c.vips[0].announce, ANN_GARP | ANN_FLUSH);
	assert_int_equal(c.connsync.protocols, CT_PROTO_TCP | CT_PROTO_ICMP);
	assert_int_equal(c.connsync.n_nets, 2);
	assert_int_equal(c.proxies[0].n_ifaces, 2);
	assert_int_equal(c.flush.key_line, 18);
	assert_int_equal(c.cluster.key_line, 6);
	assert_int_equal(c.cluster.iface_line, 5);
	config_free(&c);
	parse_err("[Interface lan]\n[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=all\n"
		  "Interfaces=lan\n",
		  FNAME ":5: Interfaces: all stands alone; got it with other names on line 4");
	/* a setting that is not a list is still set once */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nAddress=198.18.0.101/24\n",
		  FNAME ":9: Address is set twice in [VIP a]; the first is at line 8");
}

/* item 25: raw bytes are never echoed; CR-only files are named as such */
static void t_item25_escaped_bytes(void **state)
{
	parse_err("[Interface lan]\n\x01\x1b[31mred\xff\n",
		  FNAME ":2: expected a [Section] header, a Key=Value setting or a comment, got "
			"\"\\x01\\x1b[31mred\\xff\"");
	parse_err("[Interface lan]\nDevice=\x1b]0;x\x07\n",
		  FNAME ":2: Device: the value holds a control character (\\x1b); expected "
			"printable text");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"NotifyScript=/x\x1b[2Jy\n",
		  FNAME ":10: NotifyScript: the value holds a control character (\\x1b); expected "
			"printable text");
	parse_err("[Interface lan]\nDevice=\xc3\xa9th0\n",
		  FNAME ":2: Device: expected a network device name of 1 to 15 characters from A-Z "
			"a-z 0-9 _ . : -, got \"\\xc3\\xa9th0\"");
	parse_err("[Interface lan]\rDevice=eth0\r[ARP]\rExpire=10\r", FNAME
		  ":1: a carriage return (\\r) inside the line: are the lines of the file "
		  "ended by CR alone (old Mac style)? End each line with LF (\\n), e.g. with: "
		  "tr '\\r' '\\n'");
	/* CRLF is fine */
	struct config c;
	parse_ok("[Interface lan]\r\nDevice=eth0\r\n", &c);
	assert_string_equal(c.ifaces[0].device, "eth0");
	config_free(&c);
}

/* Every error of a file, up to CONF_MAX_ERRORS, then how many more. */
static void t_every_error(void **state)
{
	char text[8192], want[CONF_ERR_LEN];
	size_t off = (size_t)snprintf(text, sizeof(text), "[Interface lan]\n[ARP]\n");
	size_t woff = 0;
	for (int i = 0; i < 60; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off, "Bogus%d=1\n", i);
		if (i < CONF_MAX_ERRORS)
			woff += (size_t)snprintf(
			    want + woff, sizeof(want) - woff,
			    "%s" FNAME ":%d: unknown setting Bogus%d in [ARP]; expected one of %s",
			    i ? "\n" : "", i + 3, i,
			    "UnsolicitedARPReplies, ARPRequests, ARPChanges, StaticARPChanges, "
			    "ARPMatchEnetSender, ARPMulticast, ARPBroadcast, ARPQueryNoSender, "
			    "ARPSenderIP, ARPIPCollision, ARPRateLimit, Expire, ExpireUnknown, "
			    "CacheSize, HashSize, HashSizeVLAN, VerifyTimeout, VerifyRate, "
			    "VerifyHoldoff");
	}
	snprintf(want + woff, sizeof(want) - woff, "\n" FNAME ": 10 more errors not shown");
	struct config c;
	static char err[CONF_ERR_LEN];
	assert_int_equal(config_parse(text, strlen(text), FNAME, &c, err, sizeof(err)), -1);
	assert_string_equal(err, want);

	/* a misspelt key is reported once, not again as a missing one */
	parse_err("[Interface lan]\n[ARPEntry]\nInterfce=lan\nIP=198.18.0.1\nMode=Publish\n", FNAME
		  ":3: unknown setting Interfce in [ARPEntry]; expected one of Interface, IP, "
		  "Mode, MAC");
	/* the settings of a wrong section are skipped, the next section is read */
	parse_err("[Interface lan]\n[Bogus]\nKey=1\n[ARP]\nExpire=0\n",
		  FNAME ":2: unknown section [Bogus]; expected one of Daemon, ARP, Interface NAME, "
			"ARPEntry, ProxyARP, Cluster, VIP NAME, Flush, ConnSync, Balance, "
			"Neighbors, Host NAME, Track NAME\n" FNAME
			":5: Expire: expected a whole number from 1 to 604800, got \"0\"");
	/* errors of the whole file come in the order of their lines */
	parse_err("[Interface lan]\n[ARPEntry]\nInterface=wan\nIP=198.18.0.1\nMode=Publish\n"
		  "[ARP]\nExpire=0\n",
		  FNAME ":3: [ARPEntry] Interface=wan: there is no [Interface wan]\n" FNAME
			":7: Expire: expected a whole number from 1 to 604800, got \"0\"");
}

/* [VIP a] of Mode=active-active: IFACE 1, CLUSTER 2-6, [VIP a] 7, Address= 8, Interface= 9, Mode=
 * 10 */
#define AA_VIP "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nMode=active-active\n"

static void t_active_active(void **state)
{
	struct config c;
	/* the default: active-passive, no cluster MAC, [Balance] at its defaults */
	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n", &c);
	assert_int_equal(c.vips[0].mode, VIP_MODE_ACTIVE_PASSIVE);
	assert_int_equal(c.vips[0].mode_line, 0);
	assert_true(mac_is_zero(&c.vips[0].cluster_mac));
	assert_false(c.balance.present);
	assert_int_equal(c.balance.buckets, CONF_DEFAULT_BUCKETS);
	assert_int_equal(c.balance.seed, CONF_DEFAULT_SEED);
	assert_int_equal(c.balance.weight, 1);
	assert_int_equal(c.balance.line, 0);
	config_free(&c);
	/* said, and in any case */
	parse_ok(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
			       "Mode=Active-Passive\nPriority=7\n",
		 &c);
	assert_int_equal(c.vips[0].mode, VIP_MODE_ACTIVE_PASSIVE);
	assert_int_equal(c.vips[0].mode_line, 10);
	assert_int_equal(c.vips[0].priority, 7);
	config_free(&c);

	/* VRID= chooses the default cluster MAC, with no VirtualMAC=; no [Balance] needed */
	parse_ok(IFACE CLUSTER AA_VIP "VRID=10\n", &c);
	const struct conf_vip *a = &c.vips[0];
	assert_int_equal(a->mode, VIP_MODE_ACTIVE_ACTIVE);
	assert_int_equal(a->mode_line, 10);
	assert_int_equal(a->vrid, 10);
	assert_false(a->vmac);
	const struct mac want = {{0x03, 0x00, 0x5e, 0x00, 0x01, 0x0a}};
	assert_memory_equal(&a->cluster_mac, &want, sizeof(want));
	assert_int_equal(a->announce, 0);
	assert_false(c.balance.present);
	assert_int_equal(c.balance.buckets, CONF_DEFAULT_BUCKETS);
	config_free(&c);

	/* ClusterMAC= in either form, words in any case; two active-active VIPs on one
	   interface, each with its own cluster MAC, beside an active-passive one;
	   NodeID 255; [Balance] with every key */
	parse_ok(IFACE "[Cluster]\nNodeID=255\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n"
		       "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nmode=ACTIVE-active\n"
		       "ClusterMAC=03-00-5E-00-00-01\n"
		       "[VIP b]\nAddress=198.18.0.101/24\nInterface=lan\nMode=active-active\n"
		       "ClusterMAC=01:00:5e:7f:00:02\n"
		       "[VIP c]\nAddress=198.18.0.102/24\nInterface=lan\nPriority=200\n"
		       "[Balance]\nBuckets=64\nSeed=0xDEADbeef\nWeight=3\n",
		 &c);
	assert_int_equal(c.n_vips, 3);
	const struct mac ma = {{0x03, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	const struct mac mb = {{0x01, 0x00, 0x5e, 0x7f, 0x00, 0x02}};
	assert_int_equal(c.vips[0].mode, VIP_MODE_ACTIVE_ACTIVE);
	assert_memory_equal(&c.vips[0].cluster_mac, &ma, sizeof(ma));
	assert_int_equal(c.vips[0].vrid, 0);
	assert_int_equal(c.vips[1].mode, VIP_MODE_ACTIVE_ACTIVE);
	assert_memory_equal(&c.vips[1].cluster_mac, &mb, sizeof(mb));
	assert_int_equal(c.vips[2].mode, VIP_MODE_ACTIVE_PASSIVE);
	assert_true(mac_is_zero(&c.vips[2].cluster_mac));
	assert_int_equal(c.vips[2].announce, ANN_GARP | ANN_TARGETED);
	assert_true(c.balance.present);
	assert_int_equal(c.balance.line, 21);
	assert_int_equal(c.balance.buckets, 64);
	assert_int_equal(c.balance.seed, 0xdeadbeef);
	assert_int_equal(c.balance.weight, 3);
	assert_int_equal(c.cluster.node_line, 3);
	config_free(&c);

	/* two active-active VIPs may share a cluster MAC too */
	parse_ok(IFACE CLUSTER AA_VIP "VRID=1\n[VIP b]\nAddress=198.18.0.101/24\nInterface=lan\n"
				      "Mode=active-active\nClusterMAC=03:00:5e:00:01:01\n",
		 &c);
	assert_memory_equal(&c.vips[0].cluster_mac, &c.vips[1].cluster_mac, sizeof(struct mac));
	config_free(&c);
}

static void t_balance(void **state)
{
	struct config c;
	static const struct {
		const char *v;
		uint32_t seed;
	} seeds[] = {{"0", 0},
		     {"4294967295", UINT32_MAX},
		     {"007", 7},
		     {"0x0", 0},
		     {"0xffffffff", UINT32_MAX},
		     {"0XFFFFFFFF", UINT32_MAX},
		     {"0x000000061727068", CONF_DEFAULT_SEED},
		     {"1634889832", CONF_DEFAULT_SEED}};
	char text[512];
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		snprintf(text, sizeof(text), IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nSeed=%s\n",
			 seeds[i].v);
		parse_ok(text, &c);
		assert_int_equal(c.balance.seed, seeds[i].seed);
		assert_int_equal(c.balance.buckets, CONF_DEFAULT_BUCKETS);
		assert_int_equal(c.balance.weight, 1);
		config_free(&c);
	}
	parse_ok(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nBuckets=2\nWeight=65535\n", &c);
	assert_int_equal(c.balance.buckets, 2);
	assert_int_equal(c.balance.weight, 65535);
	assert_int_equal(c.balance.seed, CONF_DEFAULT_SEED);
	config_free(&c);

	/* [Balance] is line 12, its first key 13 */
	static const char *const bad_seeds[] = {
	    "0x",  "-1",  "+1",	 "4294967296", "0x100000000", "0x1g",
	    "1.5", "0b1", "1e3", "0x 1",       "x10",	      "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_seeds) / sizeof(bad_seeds[0]); i++) {
		char want[512];
		snprintf(text, sizeof(text), IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nSeed=%s\n",
			 bad_seeds[i]);
		snprintf(want, sizeof(want),
			 FNAME ":13: Seed: expected a whole number from 0 to 4294967295 (0 to "
			       "0xffffffff in hex), such as 1634889832 or 0x61727068, got \"%s\"",
			 bad_seeds[i]);
		parse_err(text, want);
	}
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nBuckets=0\n",
		  FNAME ":13: Buckets: expected a whole number from 2 to 4096, got \"0\"");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nBuckets=4097\n",
		  FNAME ":13: Buckets: expected a whole number from 2 to 4096, got \"4097\"");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nWeight=0\n",
		  FNAME ":13: Weight: expected a whole number from 1 to 65535, got \"0\"");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nWeight=65536\n",
		  FNAME ":13: Weight: expected a whole number from 1 to 65535, got \"65536\"");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\nBuckets=8\nBuckets=16\n",
		  FNAME ":14: Buckets is set twice in [Balance]; the first is at line 13");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance]\n[balance]\n",
		  FNAME ":13: duplicate section [Balance]; the first is at line 12; merge them");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[Balance x]\n",
		  FNAME ":12: section [Balance] takes no name; got [Balance x]");

	/* unused: no VIP, or none active-active */
	parse_err(IFACE CLUSTER "[Balance]\n",
		  FNAME ":7: [Balance] applies to active-active VIPs, and no [VIP] has "
			"Mode=active-active");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Mode=active-passive\n[Balance]\nWeight=2\n",
		  FNAME ":11: [Balance] applies to active-active VIPs, and no [VIP] has "
			"Mode=active-active");
	/* ... but a VIP with an error may be the one: its error alone */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Mode=active-activ\n[Balance]\n",
		  FNAME ":10: Mode: expected one of active-passive, active-active, got "
			"\"active-activ\"");
	/* ... and a [Balance] with an error is not also unused */
	parse_err(IFACE CLUSTER "[Balance]\nBuckets=none\n",
		  FNAME ":8: Buckets: expected a whole number from 2 to 4096, got \"none\"");
}

static void t_active_active_errors(void **state)
{
	/* every key of an active-passive VIP alone, after Mode= (line 12) or before it */
	static const char *const passive[] = {"Priority=200",	       "Preempt=no",
					      "PreemptDelay=1s",       "TrackInterface=eth1",
					      "VirtualMAC=yes",	       "Group=fw",
					      "Announce=garp",	       "AnnounceCount=1",
					      "AnnounceInterval=1s",   "RefreshInterval=1s",
					      "FlushHosts=198.18.0.5", "NotifyScript=/bin/true"};
	char text[1024], want[1024];
	for (size_t i = 0; i < sizeof(passive) / sizeof(passive[0]); i++) {
		int n = (int)strcspn(passive[i], "=");
		snprintf(text, sizeof(text), IFACE CLUSTER AA_VIP "VRID=1\n%s\n", passive[i]);
		snprintf(want, sizeof(want),
			 FNAME ":12: %.*s: does not apply to Mode=active-active (every node holds "
			       "the address; [Balance] splits the connections); remove it from "
			       "[VIP a]",
			 n, passive[i]);
		parse_err(text, want);
		snprintf(text, sizeof(text),
			 IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\n%s\nInterface=lan\n"
				       "Mode=active-active\nVRID=1\n",
			 passive[i]);
		snprintf(want, sizeof(want),
			 FNAME ":9: %.*s: does not apply to Mode=active-active (every node holds "
			       "the address; [Balance] splits the connections); remove it from "
			       "[VIP a]",
			 n, passive[i]);
		parse_err(text, want);
	}
	/* each at its line, and the missing cluster MAC too */
	parse_err(IFACE CLUSTER AA_VIP "Priority=200\nAnnounce=garp\n",
		  FNAME ":10: Mode=active-active needs ClusterMAC= or VRID= in [VIP a] (the "
			"default cluster MAC is 03:00:5e:00:01:VRID)\n" FNAME
			":11: Priority: does not apply to Mode=active-active (every node holds the "
			"address; [Balance] splits the connections); remove it from [VIP a]\n" FNAME
			":12: Announce: does not apply to Mode=active-active (every node holds the "
			"address; [Balance] splits the connections); remove it from [VIP a]");

	/* the cluster MAC */
	parse_err(IFACE CLUSTER AA_VIP,
		  FNAME ":10: Mode=active-active needs ClusterMAC= or VRID= in [VIP a] (the "
			"default cluster MAC is 03:00:5e:00:01:VRID)");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\nClusterMAC=03:00:5e:00:01:01\n",
		  FNAME ":11: VRID: set with ClusterMAC= in [VIP a]; with Mode=active-active VRID "
			"only chooses the default cluster MAC 03:00:5e:00:01:VRID, so remove one "
			"of them");
	static const char *const not_group[] = {"ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF",
						"00:00:00:00:00:00", "02:00:5e:00:01:0a",
						"00:00:5e:00:01:0a"};
	for (size_t i = 0; i < sizeof(not_group) / sizeof(not_group[0]); i++) {
		snprintf(text, sizeof(text), IFACE CLUSTER AA_VIP "ClusterMAC=%s\n", not_group[i]);
		snprintf(want, sizeof(want),
			 FNAME ":11: ClusterMAC: expected a group MAC (first byte odd, such as "
			       "03:00:5e:00:01:0a), not the broadcast address, got \"%s\"",
			 not_group[i]);
		parse_err(text, want);
	}
	static const char *const not_mac[] = {"03:00:5e:00:01", "03:00:5e:00:01:0a:0b",
					      "03:00:5e:00:01:0g", "group"};
	for (size_t i = 0; i < sizeof(not_mac) / sizeof(not_mac[0]); i++) {
		snprintf(text, sizeof(text), IFACE CLUSTER AA_VIP "ClusterMAC=%s\n", not_mac[i]);
		snprintf(want, sizeof(want),
			 FNAME ":11: ClusterMAC: expected a MAC address such as 03:00:5e:00:01:0a "
			       "or 03-00-5e-00-01-0a, got \"%s\"",
			 not_mac[i]);
		parse_err(text, want);
	}
	/* ClusterMAC= on an active-passive VIP, by default or said */
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"ClusterMAC=03:00:5e:00:01:01\n",
		  FNAME ":10: ClusterMAC: applies only to Mode=active-active, and [VIP a] is "
			"active-passive (the default); add Mode=active-active or remove "
			"ClusterMAC=");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"ClusterMAC=03:00:5e:00:01:01\nMode=active-passive\n",
		  FNAME ":10: ClusterMAC: applies only to Mode=active-active, and [VIP a] is "
			"active-passive; add Mode=active-active or remove ClusterMAC=");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Mode=passive\n",
		  FNAME ":10: Mode: expected one of active-passive, active-active, got "
			"\"passive\"");
	parse_err(IFACE CLUSTER AA_VIP "Mode=active-active\n",
		  FNAME ":11: Mode is set twice in [VIP a]; the first is at line 10");

	/* the file: a cluster, NodeID 1 to 255 (line 3), one address per VIP, groups */
	parse_err(IFACE AA_VIP "VRID=1\n",
		  FNAME ":2: [VIP a] needs a [Cluster] section: its connections are split among "
			"the nodes of a cluster");
	parse_err(IFACE
		  "[Cluster]\nNodeID=256\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n" AA_VIP
		  "VRID=1\n",
		  FNAME ":3: NodeID=256: with active-active VIPs NodeID must be 1 to 255 (a "
			"connection's mark carries it in 8 bits)");
	parse_err(IFACE "[Cluster]\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n"
			"NodeID=4294967295\n" AA_VIP "VRID=1\n[VIP b]\nAddress=198.18.0.101/24\n"
			"Interface=lan\nMode=active-active\nVRID=2\n",
		  FNAME ":6: NodeID=4294967295: with active-active VIPs NodeID must be 1 to 255 (a "
			"connection's mark carries it in 8 bits)");
	struct config c;
	parse_ok(IFACE "[Cluster]\nNodeID=256\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n"
		       "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n",
		 &c);
	assert_int_equal(c.cluster.node_id, 256);
	config_free(&c);
	/* an active-active VIP with an error does not also ask for a smaller NodeID */
	parse_err(IFACE
		  "[Cluster]\nNodeID=256\nInterface=sync0\nKeyFile=/k\nGroup=239.1.1.1\n" AA_VIP,
		  FNAME ":10: Mode=active-active needs ClusterMAC= or VRID= in [VIP a] (the "
			"default cluster MAC is 03:00:5e:00:01:VRID)");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[VIP b]\nAddress=198.18.0.100/24\nInterface=lan\n",
		  FNAME ":13: [VIP b] has the address of [VIP a] at line 7");
	parse_err(IFACE CLUSTER "[VIP b]\nAddress=198.18.0.100/24\nInterface=lan\n" AA_VIP
				"VRID=1\n",
		  FNAME ":11: [VIP a] has the address of [VIP b] at line 7");
	parse_err(IFACE CLUSTER AA_VIP "VRID=1\n[VIP b]\nAddress=198.18.0.101/24\nInterface=lan\n"
				       "Group=a\n",
		  FNAME
		  ":12: [VIP b] (line 12) has Group=a, the name of [VIP a] (line 7), which is "
		  "active-active and in no group; give the group another name");
	parse_err(IFACE CLUSTER "[VIP b]\nAddress=198.18.0.101/24\nInterface=lan\nGroup=a\n" AA_VIP
				"VRID=1\n",
		  FNAME
		  ":11: [VIP b] (line 7) has Group=a, the name of [VIP a] (line 11), which is "
		  "active-active and in no group; give the group another name");
}

static void t_vip_errors(void **state)
{
	/* IFACE is one line, CLUSTER five */
	parse_err(IFACE "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n",
		  FNAME ":2: [VIP a] needs a [Cluster] section: ownership is decided among the "
			"nodes of a cluster");
	parse_err(IFACE CLUSTER "[VIP a]\nInterface=lan\n",
		  FNAME ":7: [VIP a] has no Address=; expected the address and its prefix "
			"length, such as Address=198.18.0.100/24");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100\nInterface=lan\n",
		  FNAME ":8: Address: \"198.18.0.100\" is not an address with a prefix length; "
			"expected an IPv4 address with its prefix length (/8 to /32), such as "
			"198.18.0.100/24");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=wan\n",
		  FNAME ":9: [VIP a] Interface=wan: there is no [Interface wan]");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nPriority=255\n",
		  FNAME ":10: Priority: expected a whole number from 1 to 254, got \"255\"");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nVirtualMAC=yes\n",
		  FNAME ":10: [VIP a] has VirtualMAC=yes but no VRID=; the virtual MAC is "
			"00:00:5e:00:01:VRID, so give a VRID from 1 to 255");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Announce=garp shout\n",
		  FNAME ":10: Announce: \"shout\" is not a method; expected some of garp, vmac, "
			"targeted, flush");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"Announce=flush\n",
		  FNAME ":10: Announce: flush needs FlushHosts= in [VIP a]");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"FlushHosts=198.18.0.5\n",
		  FNAME ":10: [VIP a] has FlushHosts= but there is no [Flush] section with the "
			"key to sign the requests");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"[VIP b]\nAddress=198.18.0.100/24\nInterface=lan\n",
		  FNAME ":11: [VIP b] has the address of [VIP a] at line 7");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\nGroup=g\n"
				"[VIP b]\nAddress=198.18.0.101/24\nInterface=lan\nGroup=g\n"
				"Priority=7\n",
		  FNAME ":11: [VIP b] is in group g with [VIP a] (line 7) but has another "
			"Priority=, Preempt= or PreemptDelay=; a group has one owner, so give its "
			"VIPs the same");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"[VIP a]\n",
		  FNAME ":10: duplicate section [VIP a]; the first is at line 7; give each VIP "
			"one section");
	parse_err(IFACE CLUSTER "[Flush]\nPort=1\n",
		  FNAME ":7: [Flush] has no KeyFile=; flush requests are authenticated with a "
			"key the hosts share (make one with `arpha keygen FILE`)");
	parse_err(IFACE CLUSTER "[VIP a]\nAddress=198.18.0.100/24\nInterface=lan\n"
				"NotifyScript=notify.sh\n",
		  FNAME ":10: NotifyScript: expected an absolute path (starting with /), got "
			"\"notify.sh\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_full),
	    cmocka_unit_test(t_defaults),
	    cmocka_unit_test(t_metrics),
	    cmocka_unit_test(t_device_timeout),
	    cmocka_unit_test(t_case_insensitive),
	    cmocka_unit_test(t_log_levels),
	    cmocka_unit_test(t_layout),
	    cmocka_unit_test(t_proxy_lists),
	    cmocka_unit_test(t_same_ip_two_ifaces),
	    cmocka_unit_test(t_arp_settings),
	    cmocka_unit_test(t_errors),
	    cmocka_unit_test(t_not_text),
	    cmocka_unit_test(t_many),
	    cmocka_unit_test(t_cluster),
	    cmocka_unit_test(t_cluster_errors),
	    cmocka_unit_test(t_durations),
	    cmocka_unit_test(t_vip),
	    cmocka_unit_test(t_vip_errors),
	    cmocka_unit_test(t_active_active),
	    cmocka_unit_test(t_active_active_errors),
	    cmocka_unit_test(t_balance),
	    cmocka_unit_test(t_connsync),
	    cmocka_unit_test(t_neighbors),
	    cmocka_unit_test(t_hosts),
	    cmocka_unit_test(t_tracks),
	    cmocka_unit_test(t_item20_durations_m_h),
	    cmocka_unit_test(t_item9a_entries_past_cachesize),
	    cmocka_unit_test(t_item18_address_checks),
	    cmocka_unit_test(t_item8_proxy_networks),
	    cmocka_unit_test(t_item28_consistency),
	    cmocka_unit_test(t_item21_repeated_list_keys),
	    cmocka_unit_test(t_item25_escaped_bytes),
	    cmocka_unit_test(t_every_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
