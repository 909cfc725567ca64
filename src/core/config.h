/*
 * config: arphad's configuration, parsed from INI text with libinih.
 * Pure: it parses a buffer the caller read; it opens no file.
 *
 * Every mistake is reported, each once, as "FILE:LINE: what is wrong, and
 * what was expected", where LINE is the line of the key (or of the section
 * header for a key that is missing); nothing unknown or malformed is
 * silently accepted or replaced by a default.
 *
 * Implemented by conf.c (the reader and the value parsers) and one
 * conf_<section>.c per kind of section (see conf.h).
 */
#ifndef ARPHA_CORE_CONFIG_H
#define ARPHA_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "arp_cache.h"
#include "arp_policy.h"

#define CONF_IFNAMSIZ	    16	/* Linux IFNAMSIZ: 15 characters and NUL */
#define CONF_PATH_MAX	    108 /* sun_path */
#define CONF_DEFAULT_SOCKET "/run/arpha/arphad.sock"
#define CONF_DEVICE_TIMEOUT_MS 30000 /* DeviceTimeout= by default */

enum log_target { LOG_TARGET_SYSLOG = 0, LOG_TARGET_STDERR };

struct conf_iface {
	char name[CONF_IFNAMSIZ];   /* [Interface NAME] */
	char device[CONF_IFNAMSIZ]; /* Device=, default NAME */
	int line;		    /* line of the section header */
	int device_line;	    /* line of Device=, else of the header */
};

struct conf_entry {
	char iface[CONF_IFNAMSIZ]; /* Interface= (a [Interface] name) */
	uint32_t ip;		   /* IP= */
	uint8_t mode;		   /* Mode=: ARP_STATIC, ARP_PUBLISH, ARP_XPUBLISH */
	bool has_mac;		   /* MAC= given */
	struct mac mac;
	int line;
	int iface_line, ip_line; /* lines of Interface= and IP= */
};

struct conf_proxy {
	struct ip4_prefix net;	       /* Network=, host bits cleared */
	bool all;		       /* Interfaces=all */
	char (*ifaces)[CONF_IFNAMSIZ]; /* else these [Interface] names */
	size_t n_ifaces;
	int line;
	int net_line, ifaces_line; /* lines of Network= and (the first) Interfaces= */
};

#define CONF_MAX_PEERS	  63
#define CONF_MAX_PATHS	  4 /* [Cluster] Interface=: links to the other nodes */
#define CONF_DEFAULT_PORT 7410

/* [Cluster]: how this node talks to the others (see core/cluster.h). */
struct conf_cluster {
	bool present;			/* a [Cluster] section was given */
	uint32_t node_id;		/* NodeID=, 1..4294967295 (1..255 with active-active) */
	/* Interface=: the sync links' devices, one per path, in the order given */
	char devices[CONF_MAX_PATHS][CONF_IFNAMSIZ];
	size_t n_paths;
	bool has_group;			/* Group= (multicast) rather than Peers= */
	uint32_t group;			/* Group=: IPv4 multicast address */
	uint32_t peers[CONF_MAX_PEERS]; /* Peers=: unicast addresses */
	size_t n_peers;
	uint16_t port;	      /* Port=, default CONF_DEFAULT_PORT */
	char key_file[256];   /* KeyFile=: absolute path */
	bool encrypt;	      /* Encrypt=yes|no, default yes */
	uint32_t interval_ms; /* HeartbeatInterval=, default 100ms */
	uint32_t dead_count;  /* DeadInterval=, default 3 (heartbeats) */
	uint32_t send_buffer; /* SendBuffer=, default 256 (messages) */
	int line;	      /* line of the section header */
	int iface_line;	      /* line of Interface= */
	int key_line;	      /* line of KeyFile= */
	int node_line;	      /* line of NodeID= */
};

#define CONF_NAME_MAX		32 /* [VIP NAME], Group=: up to 31 characters */
#define CONF_MAX_TRACK		8
#define CONF_MAX_FLUSH_HOSTS	32
#define CONF_NOTIFY_ARGS	32 /* NotifyScript=: words of the command */
#define CONF_DEFAULT_FLUSH_PORT 7411

#define CONF_MAX_CHECKS 8 /* [VIP] Track=: health checks of one VIP */

/* Announce= methods */
enum { ANN_GARP = 1, ANN_VMAC = 2, ANN_TARGETED = 4, ANN_FLUSH = 8 };

/* [VIP NAME]: an address one node of the cluster holds at a time (see core/vip.h). */
struct conf_vip {
	char name[CONF_NAME_MAX];
	struct ip4_prefix addr;			   /* Address=: the address and its prefix length */
	char iface[CONF_IFNAMSIZ];		   /* Interface=: an [Interface] name */
	uint8_t priority;			   /* Priority=, 1..254, default 100 */
	bool preempt;				   /* Preempt=, default yes */
	uint32_t preempt_delay_ms;		   /* PreemptDelay=, default 0 */
	char track[CONF_MAX_TRACK][CONF_IFNAMSIZ]; /* TrackInterface=: devices */
	size_t n_track;
	bool vmac;				    /* VirtualMAC=, default no */
	uint8_t vrid;				    /* VRID=, 1..255 (0: not given) */
	char group[CONF_NAME_MAX];		    /* Group=, default the VIP's name */
	uint8_t announce;			    /* Announce=: ANN_* (default: all that apply) */
	uint32_t announce_count;		    /* AnnounceCount=, default 3 */
	uint32_t announce_interval_ms;		    /* AnnounceInterval=, default 100ms */
	uint32_t refresh_interval_ms;		    /* RefreshInterval=, default 0 (off) */
	uint32_t flush_hosts[CONF_MAX_FLUSH_HOSTS]; /* FlushHosts= */
	size_t n_flush_hosts;
	char notify[256]; /* NotifyScript=: command (core/argv words), "" none */
	int notify_line;  /* the line of NotifyScript= */
	int line;
	int addr_line, iface_line;	/* lines of Address= and Interface= */
	int track_line[CONF_MAX_TRACK]; /* the line of each TrackInterface= device */
	int flush_line;			/* line of (the first) FlushHosts=, 0 none */
	/*
	 * Mode=active-active (issue 13): every node of the cluster holds the
	 * address at once, answers ARP for it with ClusterMAC= and forwards
	 * the connections of the buckets it owns ([Balance], core/ranges).
	 * Priority, preemption and the Announce= methods do not apply.
	 */
	uint8_t mode;		/* Mode=: VIP_MODE_*, default VIP_MODE_ACTIVE_PASSIVE */
	struct mac cluster_mac; /* ClusterMAC= (a group MAC), default 03:00:5e:00:01:VRID */
	int mode_line;		/* line of Mode=, 0 not given */
	/*
	 * Track=: [Track] health checks; a failing one lowers the group's
	 * priority by its weight, or puts the group in fault (weight 0).
	 */
	char checks[CONF_MAX_CHECKS][CONF_NAME_MAX];
	uint8_t check_weight[CONF_MAX_CHECKS]; /* 0..253 */
	size_t n_checks;
	int checks_line; /* the line of (the first) Track= */
};

enum { VIP_MODE_ACTIVE_PASSIVE = 0, VIP_MODE_ACTIVE_ACTIVE = 1 };

#define CONF_DEFAULT_BUCKETS 1024
#define CONF_DEFAULT_SEED    0x61727068u /* "arph" */

/* [Balance]: how active-active VIPs split the connections (core/ranges, core/balance). */
struct conf_balance {
	bool present;
	uint32_t buckets; /* Buckets=, 2..4096, default CONF_DEFAULT_BUCKETS; alike on all nodes */
	uint32_t seed;	  /* Seed=, 32 bits, default CONF_DEFAULT_SEED; alike on all nodes */
	uint16_t weight;  /* Weight=, 1..65535, default 1: this node's share, relative */
	/* RouterDiscovery=, default yes: RFC 4286 advertisements on the VIPs'
	   interfaces, so IGMP-snooping switches flood the cluster MAC's frames to us */
	bool router_discovery;
	int line; /* line of the section header */
};

/* [Flush]: how flush requests are sent to the hosts of FlushHosts=. */
struct conf_flush {
	bool present;
	char key_file[256];   /* KeyFile= */
	uint16_t port;	      /* Port=, default CONF_DEFAULT_FLUSH_PORT */
	uint32_t count;	      /* Count=, default 5 */
	uint32_t interval_ms; /* Interval=, default 1s */
	int line;
	int key_line; /* line of KeyFile= */
};

#define CONF_MAX_CT_NETS 32

/* Protocols= of [ConnSync] */
enum { CT_PROTO_TCP = 1, CT_PROTO_UDP = 2, CT_PROTO_ICMP = 4 };

/* [ConnSync]: connection-tracking sync (see core/ctsync.h). */
struct conf_connsync {
	bool present;
	uint8_t protocols;			  /* Protocols=, CT_PROTO_*; default all */
	struct ip4_prefix nets[CONF_MAX_CT_NETS]; /* Networks=; none: the VIPs' networks */
	size_t n_nets;
	uint32_t check_interval_ms; /* CheckInterval=, default 10s, 0 off */
	uint32_t max_entries;	    /* MaxEntries=, default 262144 */
	int line;
};

#define CONF_HOST_NAME_MAX 64 /* [Host NAME]: 63 bytes and NUL */

/* [Track NAME]: a health check VIPs follow (Track= of [VIP]), as keepalived's
 * vrrp_script/track_file. */
struct conf_track {
	char name[CONF_NAME_MAX];
	char script[256];	  /* Script=: a command (core/argv words); "" with File= */
	char file[CONF_PATH_MAX]; /* File=: a number, 0 healthy; "" with Script= */
	uint32_t interval_ms;	  /* Interval=, 100ms..1h, default 2s */
	uint32_t timeout_ms;	  /* Timeout= (Script=), 10ms..Interval, default Interval */
	uint8_t fall, rise; /* Fall=, Rise=: results in a row that turn it, 1..255, default 1 */
	int line, script_line, timeout_line;
};

/* [Neighbors]: the neighbour cache (core/nbtable; svc_nbcache). */
struct conf_neighbors {
	bool present;		    /* the section was given (the cache runs without it) */
	uint32_t size;		    /* Size=, 1..1048576, default 400 */
	uint32_t active_timeout_ms; /* ActiveTimeout=, 1s..24h, default 5m */
	bool snoop;		    /* Snoop=yes|no: read DHCP client messages, default yes */
	uint32_t snoop_rate; /* SnoopRateLimit=: messages a second per interface, 1..100000, default
				200 */
	char devtypes[CONF_PATH_MAX]; /* DeviceTypes=: more rules (absolute path); "": none */
	int devtypes_line;	      /* its line */
	int line;
};

/* [Host NAME]: a device's configured name (the seed's Ethernet Address objects). */
struct conf_host {
	char name[CONF_HOST_NAME_MAX]; /* NAME: text, no spaces */
	struct mac mac;		       /* MAC=, unicast and not zero */
	int line;
	int mac_line; /* line of MAC= */
};

struct config {
	/* [Daemon] */
	char control_socket[CONF_PATH_MAX]; /* ControlSocket= */
	int control_socket_line;	    /* its line; 0: the default */
	int log_target;			    /* LogTarget=syslog|stderr */
	bool log_target_set;		    /* LogTarget= was given */
	int log_level;	 /* LogLevel=err|warning|notice|info|debug (enum log_level) */
	int rt_priority; /* RealtimePriority=0..99 (SCHED_RR), default 10; 0: normal */
	uint32_t metrics_addr; /* Metrics=ADDRESS:PORT, the Prometheus endpoint */
	uint16_t metrics_port; /* 0: none (the default) */
	int metrics_line;      /* the line of Metrics=; 0: not given */
	/*
	 * DeviceTimeout=: at start, how long arphad waits for a managed device
	 * ([Interface] Device=, [Cluster] Interface=) that does not exist yet
	 * (a VLAN or bond made after it starts); default 30 s, 0: not at all.
	 */
	uint32_t device_timeout_ms;
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
	/* [Cluster] */
	struct conf_cluster cluster;
	/* [VIP NAME], repeatable */
	struct conf_vip *vips;
	size_t n_vips;
	/* [Flush] */
	struct conf_flush flush;
	/* [ConnSync] */
	struct conf_connsync connsync;
	/* [Balance] */
	struct conf_balance balance;
	/* [Neighbors] */
	struct conf_neighbors neighbors;
	/* [Host NAME], repeatable */
	struct conf_host *hosts;
	size_t n_hosts;
	/* [Track NAME], repeatable */
	struct conf_track *tracks;
	size_t n_tracks;
};

/*
 * Parse a duration written with its unit: "20ms", "100ms", "1s", "1.5s", "5m" (or
 * "5min"), "1h", "1.5h"; a bare "0" is zero.
 * 0 and *ms, or -1. (Exposed for the tests and other sections.)
 */
int config_duration(const char *s, uint32_t *ms);

#define CONF_MAX_ERRORS 50 /* errors reported of one file; more are counted */
#define CONF_ERR_LEN	(CONF_MAX_ERRORS + 1) * 600 /* room for all of them */

/*
 * Parse len bytes of INI text. fname is used only in messages. On success
 * returns 0 and *out holds the config (free with config_free). On error
 * returns -1, *out is left empty, and err
 * holds every one of them (at most CONF_MAX_ERRORS, then a line saying how
 * many more), one per line, in the order of the file, separated by '\n'
 * with no '\n' after the last: "FNAME:LINE: message", or "FNAME: message"
 * for a mistake of the whole file that no line holds (no [Interface]
 * section at all). A message never holds a byte that is not printable
 * ASCII: others are written \xNN. A buffer of CONF_ERR_LEN holds them all
 * (unless fname is very long); a smaller one holds the lines that fit.
 */
int config_parse(const char *text, size_t len, const char *fname, struct config *out, char *err,
		 size_t errlen);

void config_free(struct config *c);

/* The [Interface] named name, or NULL. */
const struct conf_iface *config_iface(const struct config *c, const char *name);

#endif
