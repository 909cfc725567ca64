/*
 * daemon: arphad's own state, private to src/daemon/'s daemon files
 * (daemon.c, links.c, transport.c, ctl.c, arphad.c). No service includes
 * this: services see host.h.
 *
 *   arphad.c     main: options, the configuration, the service table, start
 *   daemon.c     the host (host.h): event queue, the one applier, the one
 *                timer, the services driven from their table
 *   links.c      the managed interfaces: packet sockets, the ARP engine,
 *                the kernel's requests (NFLOG), rtnetlink link and address
 *                events, the nftables guard
 *   transport.c  the cluster: UDP and core/cluster
 *   ctl.c        the control socket's commands
 */
#ifndef ARPHA_DAEMON_DAEMON_H
#define ARPHA_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/actions.h"
#include "core/cluster.h"
#include "core/config.h"
#include "daemon/host.h"
#include "daemon/show.h"
#include "daemon/svc.h"
#include "os/control.h"

struct arp_engine;
struct loop;
struct loop_watch;
struct nl;
struct nflog;
struct nft_guard;
struct packet_ring;
struct prom_http;
struct udp;

#define MAX_SVC	   8
#define DAEMON_CFG_HASH 32
#define MAX_QUEUED 4096 /* events waiting for delivery; past it they are counted and lost */

/* A managed interface. */
struct mif {
	const struct conf_iface *conf;
	uint32_t ifindex; /* 0 while the device is absent */
	char dev[16];	  /* the device's name now: Device= unless it was renamed */
	uint32_t taken;	  /* another device that took Device= after a rename (warned) */
	bool up;
	int fd;			  /* os/packet's send socket (it receives nothing) */
	struct packet_ring *ring; /* every incoming ARP frame */
	struct loop_watch *ring_w;
	struct answer_watch {
		struct mif *m;
		int which; /* the ring's answer socket (os/packet) */
		struct loop_watch *w;
	} answers[1]; /* Verify's checks: the holders' answers */
	struct daemon *d;
	uint64_t send_errors;
	struct host_iface view; /* what host_iface hands out, filled at each call */
};

struct svc_slot {
	const struct svc_ops *ops;
	void *self;	   /* NULL: not running (its section is not configured) */
	bool handing_over; /* its stop returned true */
};

struct queued {
	struct dev_ev ev;
	uint8_t *data; /* the copy of ev.data */
};

struct daemon {
	struct config cfg;
	const char *cfg_path;
	uint8_t cfg_hash[DAEMON_CFG_HASH]; /* of the file's text as loaded (daemon_reload) */
	struct loop *loop;
	struct arp_engine *eng;
	struct nl *nl;
	struct nft_guard *guard;
	struct nflog *nflog; /* the kernel's ARP requests on every managed interface */
	struct loop_watch *nflog_w;
	struct mif **ifs; /* each allocated alone: loop watches hold their address */
	size_t n_ifs;
	struct loop_watch *nl_w;
	struct control *ctl;	    /* the control socket's clients */
	struct loop_watch *sigs[5]; /* TERM, INT, HUP, USR1, USR2 */
	int ctl_fd;
	struct control_path ctl_own; /* the socket file made: removed at exit if still there */
	int metrics_fd;		     /* Metrics=: listening, not served yet (-1: none) */
	struct prom_http *metrics;   /* Metrics=: served (metrics.c) */
	struct actions acts;
	uint64_t neigh_errors;
	/* [Cluster]: transport.c */
	struct cluster *cl;
	struct cluster_actions cacts;
	struct sync_path {
		struct daemon *d;
		unsigned idx;
		struct udp *udp;
		struct loop_watch *w;
		uint32_t ifindex;
	} paths[CONF_MAX_PATHS]; /* one per [Cluster] Interface= device */
	size_t n_paths;
	struct node_addr addrs[WIRE_MAX_PEERS * CONF_MAX_PATHS]; /* per node and path */
	size_t n_addrs;
	uint64_t udp_errors, udp_urgent_errors; /* cluster datagrams not sent: bulk, heartbeats */
	/* `arpha cluster test-traffic`: messages broadcast on a timer */
	struct loop_watch *traffic_w;
	uint32_t traffic_period_ms, traffic_left, traffic_sent;
	/* the services, in table order */
	struct svc_slot svc[MAX_SVC];
	size_t n_svc;
	/* events waiting for delivery (a ring) */
	struct queued *q;
	size_t q_head, q_len, q_cap;
	uint64_t q_lost;
	bool draining;
	bool stopping;	   /* a graceful stop is handing over */
	bool started;	   /* main's start is done (and arphad forked, without -d) */
	bool ready;	   /* READY=1 went to systemd: every service settled */
	struct loop_watch *watchdog_w; /* WATCHDOG=1 every half WatchdogSec= (NULL: none) */
	uint64_t watchdog_ms;
	uint16_t owner_id; /* host_owner_id (active-active) */
	const struct nbtable *nbcache; /* host_nbcache */
};

/* struct host is the daemon, seen from a service. */
static inline struct daemon *daemon_of(struct host *h)
{
	return (struct daemon *)(void *)h;
}
static inline struct host *daemon_host(struct daemon *d)
{
	return (struct host *)(void *)d;
}

/* daemon.c */
int daemon_init(struct daemon *d);		  /* the loop and the queue; -1 */
void daemon_apply(struct daemon *d);		  /* carry out d->acts and reset it */
void daemon_apply_cluster(struct daemon *d);	  /* carry out d->cacts and reset it */
/* Device ifindex came or went: a sync link's state goes to the cluster. */
void daemon_sync_link(struct daemon *d, uint32_t ifindex, bool up);
struct mif *mif_by_index(struct daemon *d, uint32_t ifindex);
struct mif *mif_by_name(struct daemon *d, const char *name);
void daemon_refresh_addrs(struct daemon *d, struct mif *m); /* the engine reads them again */
void daemon_drain(struct daemon *d);			    /* deliver the queued events */
int daemon_start_services(struct daemon *d, const struct svc_ops *const *table, size_t n, char *err,
			  size_t errlen);
void daemon_free_services(struct daemon *d);
void daemon_stop(struct daemon *d, const char *signame); /* graceful; ends the loop when done */
/*
 * The start is done (after the fork): READY=1 from now on, once every
 * service settled, and the watchdog pings when systemd asks for them.
 * 0, or -1 (errno) when the ping's timer cannot be made.
 */
int daemon_notify_start(struct daemon *d);
/* The service running a command word ("vip"); its slot or NULL. */
const struct svc_slot *daemon_command(const struct daemon *d, const char *word,
				      const struct svc_cmd **cmd);

/* links.c */
struct mif *mif_new(struct daemon *d, const struct conf_iface *conf); /* NULL: ENOMEM */
int links_wait_devices(struct daemon *d, char *err, size_t errlen); /* DeviceTimeout=; -1 */
int links_check_devices(struct daemon *d, char *err, size_t errlen);
int links_guard(struct daemon *d, char *err, size_t errlen);	  /* nft table; -1 */
int links_attach_all(struct daemon *d, char *err, size_t errlen); /* -1 */
int links_watch(struct daemon *d);				  /* rtnetlink events; -1 */
void links_flush_learned(struct daemon *d);			  /* after every part started */
void links_collect_drops(struct daemon *d);
void links_free(struct daemon *d);
/* A reload: d->cfg is new, old the one before (same [Interface]s): entries, proxy ARP. */
void links_reload(struct daemon *d, const struct config *old);

/* transport.c */
int transport_start(struct daemon *d, char *err, size_t errlen);
/* Broadcast count test messages, one every period_ms (checked by the command table). */
int transport_test_traffic(struct daemon *d, uint32_t period_ms, uint32_t count, char *msg,
			   size_t len);
void transport_free(struct daemon *d);

/* ctl.c */
void ctl_serve(void *arg, struct control_req *rq, char **argv, int argc, bool json);
/*
 * Every command of the table (ctl_cmds.h) is answered by the daemon or
 * by one service, and every service's command is in the table: 0, or -1
 * with a message (a command left unbound is a bug: arphad does not start).
 */
int ctl_check_bound(const struct daemon *d, char *err, size_t errlen);
/*
 * The view of the command of words, as `arpha WORDS` would show it, in v
 * (a command without arguments: stats, vip, cluster ...): 0, or -1 (no
 * such command, or it needs arguments, or it failed).
 */
struct view;
int ctl_view(struct daemon *d, const char *words, struct view *v);

/* reload.c: SIGHUP; the hash of a configuration's text. */
void daemon_reload(struct daemon *d);
void daemon_config_hash(const char *text, size_t len, uint8_t out[DAEMON_CFG_HASH]);

#endif
