/*
 * arphad's state, shared by its parts: arphad.c (interfaces, the engine,
 * the cluster, the control socket) and failover.c (the VIPs).
 */
#ifndef ARPHA_ARPHAD_H
#define ARPHA_ARPHAD_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/actions.h"
#include "core/cluster.h"
#include "core/config.h"
#include "os/control.h"
#include "os/show.h"

struct arp_engine;
struct nl;
struct nft_guard;
struct packet_ring;
struct udp;
struct failover;
struct connsync;

#define MAX_ADDRS 256

/*
 * The event loop's priorities (libevent runs the lowest number first, and
 * a new event gets ARPHAD_PRIORITIES / 2). Packets (the kernel's own ARP
 * requests, the cluster, conntrack events), timers and signals run at that
 * default, 2; control clients and the ARP receive ring at 3, so neither a
 * client polling `arpha` in a loop nor an ARP flood ever holds up a
 * heartbeat, and a flood does not lock `arpha` out; the synced
 * connections' way into our kernel at 4, when nothing else waits (a
 * takeover puts them in first, whatever waits), and then the changes of
 * every datagram read go in as one batch.
 */
#define ARPHAD_PRIORITIES   5
#define ARPHAD_PRIO_CLIENTS 3
#define ARPHAD_PRIO_BACKLOG 4

struct mif {
	const struct conf_iface *conf;
	uint32_t ifindex; /* 0 while the device is absent */
	char dev[16];	  /* the device's name now: Device= unless it was renamed */
	uint32_t taken;	  /* another device that took Device= after a rename (warned) */
	bool up;
	int fd; /* os/packet's control socket: the kernel's requests; sends */
	struct event *ev;
	struct packet_ring *ring; /* every incoming ARP frame */
	struct event *ring_ev;
	uint64_t ring_now; /* the time of the ring's current read */
	struct daemon *d;
	uint64_t send_errors;
};

struct daemon {
	struct config cfg;
	const char *cfg_path;
	struct event_base *base;
	struct arp_engine *eng;
	struct nl *nl;
	struct nft_guard *guard;
	struct mif *ifs;
	size_t n_ifs;
	struct event *nl_ev, *timer;
	struct control *ctl;   /* the control socket's clients */
	struct event *sigs[5]; /* TERM, INT, HUP, USR1, USR2 */
	int ctl_fd;
	struct control_path ctl_own; /* the socket file made: removed at exit if still there */
	struct actions acts;
	uint64_t neigh_errors;
	/* [Cluster] */
	struct cluster *cl;
	struct udp *udp;
	struct event *udp_ev;
	struct cluster_actions cacts;
	uint32_t sync_ifindex;
	struct node_addr addrs[WIRE_MAX_PEERS];
	size_t n_addrs;
	uint64_t udp_errors;
	/* `arpha cluster test-traffic`: messages broadcast on a timer */
	struct event *traffic_ev;
	uint32_t traffic_period_ms, traffic_left, traffic_sent;
	/* [VIP]: failover.c */
	struct failover *fo;
	/* [ConnSync]: connsync.c */
	struct connsync *cs;
	bool stopping; /* a graceful stop is handing the VIPs over */
};

/* arphad.c */
void apply(struct daemon *d);
void apply_cluster(struct daemon *d);
void arm_timer(struct daemon *d);
struct mif *mif_by_index(struct daemon *d, uint32_t ifindex);
struct mif *mif_by_name(struct daemon *d, const char *name);
void refresh_addrs(struct daemon *d, struct mif *m);
/* Send what a cluster call put in a (the datagrams only). */
void cluster_send(struct daemon *d, struct cluster_actions *a);

#endif
