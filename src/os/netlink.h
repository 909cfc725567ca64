/*
 * netlink: rtnetlink through libmnl. Links (index, MAC, VLAN or not),
 * IPv4 addresses, the kernel neighbour table, and link, address and
 * neighbour events.
 * Requests are synchronous on one socket; events arrive on another.
 */
#ifndef ARPHA_OS_NETLINK_H
#define ARPHA_OS_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct nl;

struct nl_link {
	uint32_t ifindex;
	char name[16];
	struct mac mac;
	bool has_mac;
	bool vlan; /* link kind "vlan" */
	bool up;   /* IFF_UP and carrier (IFF_LOWER_UP) */
};

enum nl_event_type {
	NLE_LINK,     /* a link appeared or changed */
	NLE_LINK_DEL, /* a link went away */
	NLE_ADDR,     /* an IPv4 address was added or removed on ifindex */
	NLE_NEIGH,    /* the kernel confirmed an IPv4 neighbour (NUD_REACHABLE) on ifindex */
};

struct nl_event {
	enum nl_event_type type;
	uint32_t ifindex;
	struct nl_link link; /* NLE_LINK, NLE_LINK_DEL */
	uint32_t ip;	     /* NLE_NEIGH: the neighbour's address and MAC */
	struct mac mac;
	struct ip4_prefix addr; /* NLE_ADDR: the address (0.0.0.0/0 when the message has none) */
	bool del;		/* NLE_ADDR: removed (RTM_DELADDR) */
};

/* NULL with errno. Subscribes the event socket when events is true. */
struct nl *nl_open(bool events);
void nl_close(struct nl *n);
/* The event socket's fd (-1 when not subscribed). */
int nl_events_fd(const struct nl *n);

/* 0, or -1 with errno (ENODEV when there is no such link). */
int nl_link_by_name(struct nl *n, const char *name, struct nl_link *out);
int nl_link_by_index(struct nl *n, uint32_t ifindex, struct nl_link *out);

/* IPv4 addresses of ifindex into out (at most cap); *count = how many exist. */
int nl_addrs(struct nl *n, uint32_t ifindex, struct ip4_prefix *out, size_t cap, size_t *count);
/*
 * All of them, however many: *out (free it) holds *count. 0, or -1 with
 * errno (ENOMEM, or nl_addrs's).
 */
int nl_addrs_all(struct nl *n, uint32_t ifindex, struct ip4_prefix **out, size_t *count);

/*
 * The device the kernel's routing sends ip out of (as `ip route get`):
 * 0 with *ifindex, or -1 with errno (ENETUNREACH when there is no route).
 */
int nl_route_dev(struct nl *n, uint32_t ip, uint32_t *ifindex);

/*
 * Add or remove the IPv4 address ip/len on ifindex (noprefixroute: no
 * route for its network). Adding one that is there, or removing one that
 * is not, is not an error. 0 or -1/errno.
 */
int nl_addr_add(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute);
/*
 * Add, or renew, ip/len with a lifetime of lifetime_s seconds: the kernel
 * removes the address by itself when it is not renewed in time (a VIP
 * must not outlive the arphad that holds it). 0 or -1/errno.
 */
int nl_addr_lease(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute,
		  uint32_t lifetime_s);
int nl_addr_del(struct nl *n, uint32_t ifindex, uint32_t ip, uint8_t len);

/* Create a macvlan (mode private) named name on parent with mac, down. 0 or -1/errno. */
int nl_macvlan_add(struct nl *n, const char *name, uint32_t parent, const struct mac *mac);
/* Turn IPv6 off on the device name (no link-local address, nothing sent). 0 or -1/errno. */
int nl_ipv6_off(const char *name);
/* Set a link administratively up or down. */
int nl_link_set_up(struct nl *n, uint32_t ifindex, bool up);
/* Delete a link; a missing one is not an error. */
int nl_link_del(struct nl *n, uint32_t ifindex);

/* Install ip -> mac (NUD_PERMANENT or NUD_REACHABLE). 0 or -1/errno. */
int nl_neigh_set(struct nl *n, uint32_t ifindex, uint32_t ip, const struct mac *mac,
		 bool permanent);
/* Remove ip; a missing entry is not an error. */
int nl_neigh_del(struct nl *n, uint32_t ifindex, uint32_t ip);
/*
 * Remove every IPv4 entry of ifindex that is not permanent or noarp
 * (entries nobody vetted). Returns the number removed, or -1/errno.
 */
int nl_neigh_flush_learned(struct nl *n, uint32_t ifindex);

/* Read pending events, calling cb for each. 0, or -1/errno (ENOBUFS: events lost). */
int nl_events_read(struct nl *n, void (*cb)(const struct nl_event *ev, void *arg), void *arg);
/*
 * Wait up to timeout_ms for events, and drop them unread (the caller reads
 * the state again): 1 when some came, 0 at the timeout or on a signal, -1
 * with errno.
 */
int nl_events_wait(struct nl *n, int timeout_ms);

#endif
