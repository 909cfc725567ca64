/*
 * host: all a service may ask of the daemon (implemented once, in
 * daemon.c). A service includes this and svc.h, the cores and os/, and
 * nothing else of the daemon.
 *
 * Rules every service keeps:
 * - the time is host_now(), read once per loop callback;
 * - host_publish queues: the events reach the services after the current
 *   handler, in table order (never re-entrant);
 * - host_prepare_takeover is the only call that runs other services
 *   synchronously: it is the barrier before an address becomes ours;
 * - frames, neighbours and log lines go out through host_apply, and
 *   cluster datagrams through host_broadcast and host_set_state: one
 *   applier each, in the daemon.
 */
#ifndef ARPHA_DAEMON_HOST_H
#define ARPHA_DAEMON_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct host;
struct actions;
struct arp_engine;
struct arp_cluster_addr;
struct loop;
struct nl;

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

/* Events between the parts of arphad (queued, delivered in table order). */
enum dev_ev_type {
	DEV_NODE_UP,	 /* node came up (cluster) */
	DEV_NODE_DOWN,	 /* node went down */
	DEV_OUT_OF_SYNC, /* messages from node were lost for good */
	DEV_SYNC_LINK,	 /* our sync link: up or down */
	DEV_MSG,	 /* a reliable-broadcast message from node: to the service of chan */
	DEV_STATE,	 /* node's heartbeat state of chan: to the service of chan */
	DEV_LINK,	 /* a link changed, came or went (ifindex; 0: several) */
	DEV_NEIGH,	 /* the engine learned, changed or refreshed ip -> mac on ifindex */
	DEV_KNEIGH,	 /* the kernel confirmed ip -> mac on ifindex (NUD_REACHABLE) */
};

struct dev_ev {
	uint8_t type; /* enum dev_ev_type */
	uint8_t chan;
	bool up;
	uint32_t node, ifindex;
	uint32_t ip; /* DEV_NEIGH, DEV_KNEIGH */
	struct mac mac;
	const uint8_t *data; /* DEV_MSG, DEV_STATE: valid during the call */
	size_t len;
};

/* What is about to become ours (host_prepare_takeover). */
struct takeover_scope {
	enum {
		SCOPE_VIP_GROUP,
		SCOPE_BUCKETS, /* active-active: buckets, and the connections in them */
	} kind;
	uint64_t groups;   /* SCOPE_VIP_GROUP: bit g for VIP group g (core/vip's order) */
	const char *group; /* SCOPE_VIP_GROUP: the first one's name */
	uint32_t buckets;  /* SCOPE_BUCKETS: how many */
};

/* A managed interface, as the daemon holds it. */
struct host_iface {
	const char *name;   /* [Interface NAME] */
	const char *device; /* Device= as configured */
	const char *dev;    /* the device's name now (it may have been renamed) */
	uint32_t ifindex;   /* 0 while the device is absent */
	bool up;
};

uint64_t host_now(const struct host *h);
const char *host_config_path(const struct host *h);

/* Queue ev (its data is copied) for every service, or the owner of its chan. */
void host_publish(struct host *h, const struct dev_ev *ev);

/*
 * Send msg (its first byte is the sending service's chan) to every node
 * over reliable broadcast; 0, or -1 (errno) when it cannot be queued.
 */
int host_broadcast(struct host *h, const uint8_t *msg, size_t len);

/*
 * Set this node's heartbeat state of chan (every heartbeat carries it);
 * push: send it to every node now too. 0, or -1 (errno).
 */
int host_set_state(struct host *h, uint8_t chan, const uint8_t *blob, size_t len, bool push);

/*
 * The barrier: every service's prepare_takeover, in table order, before
 * sc becomes ours (connections before the address). Returns the number
 * of services that failed.
 */
int host_prepare_takeover(struct host *h, const struct takeover_scope *sc);

/*
 * Active-active: this node's owner id in the data path's connection marks
 * (core/ranges' ranges_owner_id: NodeID and incarnation; a mark is owner
 * << 16 | bucket), set by svc_ranges when it starts; 0 while none is known
 * (no active-active VIP, or svc_ranges not started yet).
 */
uint16_t host_owner_id(const struct host *h);
void host_set_owner_id(struct host *h, uint16_t owner);

/*
 * The neighbour cache (core/nbtable), read-only, for the services that
 * tell every neighbour of the cluster (targeted ARP); set by svc_nbcache
 * when it starts, NULL before or without it. Valid until the next call
 * into another service.
 */
struct nbtable;
const struct nbtable *host_nbcache(const struct host *h);
void host_set_nbcache(struct host *h, const struct nbtable *t);

/* Carry out a's frames, neighbours and log lines, and reset a. */
void host_apply(struct host *h, struct actions *a);

/* The managed interfaces: by [Interface] name or device name, by index, all. */
const struct host_iface *host_iface(const struct host *h, const char *name);
const struct host_iface *host_iface_by_index(const struct host *h, uint32_t ifindex);
const struct host_iface *host_iface_at(const struct host *h, size_t i); /* NULL: past the end */

/*
 * The ARP engine, read-only (the neighbours, the interfaces' MACs and
 * addresses). Changes go through the calls below.
 */
const struct arp_engine *host_neighbours(const struct host *h);

/* The interface's addresses changed (read them again now). */
void host_addrs_changed(struct host *h, uint32_t ifindex);
/* The addresses of ifindex the cluster shares (the engine never defends them). */
int host_set_shared(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n);
/* The addresses of ifindex being handed to another node: not answered any more. */
int host_set_quiet(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n);
/*
 * The active-active VIPs on ifindex (replacing the set): answered and
 * announced with their group MAC (arp_engine_iface_set_cluster); with
 * announce, a gratuitous ARP for each now.
 */
int host_set_cluster_addrs(struct host *h, uint32_t ifindex, const struct arp_cluster_addr *v,
			   size_t n, bool announce);
/*
 * Receive frames sent to the group MAC mac on ifindex, for as long as
 * arphad runs (the kernel forgets it when arphad dies). 0, or -1 (errno).
 */
int host_join_mac(struct host *h, uint32_t ifindex, const struct mac *mac);
/* We send a request for ip on ifindex (to: unicast to it): its answer is solicited. */
void host_note_query(struct host *h, uint32_t ifindex, uint32_t ip, const struct mac *to);

/*
 * Addresses and links in the kernel (rtnetlink), 0 or -1 (errno; the
 * caller logs): add or renew ip/len on ifindex for lifetime_s seconds (the
 * kernel drops it when not renewed in time), remove it, set a link up or
 * down.
 */
int host_addr_lease(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute,
		    uint32_t lifetime_s);
int host_addr_del(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len);
int host_link_set_up(struct host *h, uint32_t ifindex, bool up);

/* rtnetlink for what a service reads (links by name) or makes at start (macvlans). */
struct nl *host_netlink(struct host *h);
struct loop *host_loop(struct host *h);

#endif
