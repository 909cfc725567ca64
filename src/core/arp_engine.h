/*
 * arp_engine: the hardened ARP engine. It owns one ARP cache per managed
 * interface and decides, by the policy in struct arp_policy, which ARP the
 * machine believes (installs in the kernel), answers and publishes.
 *
 * Input: raw frames seen on an interface (incoming, or the kernel's own
 * outgoing requests), the queries the shell sends itself, commands (flush,
 * announce) and the time. Output: actions (send a frame, set/delete a
 * kernel neighbour, log a line). No I/O, no clock, no global state.
 */
#ifndef ARPHA_CORE_ARP_ENGINE_H
#define ARPHA_CORE_ARP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "addr.h"
#include "arp_cache.h"
#include "arp_policy.h"
#include "frame.h"

/* Per-interface counters, by cause. Names: arp_counter_name(). */
enum arp_counter {
	/* traffic */
	AC_RX_FRAMES = 0, /* frames handed to the engine (incoming) */
	AC_RX_REQUESTS,	  /* well-formed incoming requests */
	AC_RX_REPLIES,	  /* well-formed incoming replies */
	AC_TX_FRAMES,	  /* frames the engine asked to send */
	AC_OUT_REQUESTS,  /* queries sent: the kernel's, and arp_engine_note_query */
	AC_OTHERHOST,	  /* unicast frames for another host, ignored */
	AC_LOOPED,	  /* our own frames reflected back to us, ignored */
	AC_OTHER_VLAN,	  /* tagged with a VLAN: not this interface's, ignored */
	AC_CLUSTER_VIP,	  /* another node speaking for a shared address (a VIP), ignored */
	AC_SOCKET_DROPS,  /* frames the kernel dropped before arphad could read them */
	/*
	 * refused by the codec, one per enum frame_reason; the soft reasons
	 * count frames seen with a group sender MAC, whatever the policy did
	 */
	AC_MALFORMED_FIRST,
	AC_MALFORMED_LAST = AC_MALFORMED_FIRST + FR__COUNT - 1,
	/* policy drops, by rule */
	AC_DROP_RATE_LIMIT,
	AC_DROP_MULTICAST,
	AC_DROP_BROADCAST,
	AC_DROP_ENET_SENDER,
	AC_DROP_NO_SENDER,
	AC_DROP_SENDER_IP,
	AC_DROP_COLLISION,
	AC_DROP_UNSOLICITED,
	AC_DROP_REQUEST,
	AC_DROP_CHANGE,
	AC_DROP_STATIC_CHANGE,
	/* outcomes */
	AC_ANSWERED,	      /* replies sent to requests */
	AC_QUIET,	      /* requests for an address being handed over, not answered */
	AC_LEARNED,	      /* new dynamic entries */
	AC_CHANGED,	      /* dynamic entries whose MAC changed */
	AC_REFRESHED,	      /* dynamic entries confirmed */
	AC_EXPIRED,	      /* dynamic entries that timed out */
	AC_EVICTED,	      /* entries pushed out by a full cache */
	AC_CACHE_FULL,	      /* mappings lost: cache full of configured entries */
	AC_RESOLUTION_FAILED, /* queries that got no answer */
	AC_ANNOUNCED,	      /* gratuitous ARP frames sent */
	AC_LOG_SUPPRESSED,    /* log lines not written (log rate limit) */
	/* Verify: claims checked by asking the old and the new MAC */
	AC_VERIFY_STARTED,   /* checks begun (each sends one or two requests) */
	AC_VERIFY_CONFIRMED, /* the new MAC answered and the old did not: installed */
	AC_VERIFY_CONFLICT,  /* the old MAC answered: kept (a spoof, or two claimants) */
	AC_VERIFY_UNANSWERED, /* nobody answered: nothing changed */
	AC_VERIFY_REPEATED,  /* the same claim again while its check runs */
	AC_VERIFY_LIMITED,   /* claims not checked: VerifyRate, VerifyHoldoff, a full table */
	AC_NOMEM,	      /* work lost to memory exhaustion */
	AC__COUNT
};

const char *arp_counter_name(enum arp_counter c);

struct arp_counters {
	uint64_t v[AC__COUNT];
};

struct arp_engine;

/* NULL on ENOMEM. The policy is copied. */
struct arp_engine *arp_engine_new(const struct arp_policy *p);
void arp_engine_free(struct arp_engine *e);
const struct arp_policy *arp_engine_policy(const struct arp_engine *e);

/*
 * A reload: p replaces the policy (copied), for every frame from now on.
 * CacheSize= cannot change (the caches are made with it): -1/EBUSY, and
 * nothing changed.
 */
int arp_engine_set_policy(struct arp_engine *e, const struct arp_policy *p);

/*
 * Manage an interface. name is for logs and show (copied, <= 15 chars);
 * vlan selects HashSizeVLAN. Returns 0, or -1 (errno EEXIST, ENOMEM).
 */
int arp_engine_iface_add(struct arp_engine *e, uint32_t ifindex, const char *name,
			 const struct mac *mac, bool vlan);
/*
 * Stop managing ifindex: its cache and the proxy ARP networks added for it
 * are dropped (no actions: the interface is gone). Its counters are kept
 * under its name (arp_engine_absent_at) and go on when arp_engine_iface_add
 * adds an interface of that name again.
 */
void arp_engine_iface_del(struct arp_engine *e, uint32_t ifindex);
/* The interface's MAC changed. -1/ENOENT if not managed. */
int arp_engine_iface_set_mac(struct arp_engine *e, uint32_t ifindex, const struct mac *mac);
/*
 * The interface's IPv4 addresses (address + prefix length), replacing the
 * previous set. Copied. -1/ENOENT, -1/ENOMEM.
 */
int arp_engine_iface_set_addrs(struct arp_engine *e, uint32_t ifindex,
			       const struct ip4_prefix *addrs, size_t n);

/* Whether a (address and prefix length) is one of ifindex's addresses as last set. */
bool arp_engine_iface_has_addr(const struct arp_engine *e, uint32_t ifindex,
			       const struct ip4_prefix *a);

/*
 * The addresses the cluster shares on ifindex (VIPs, see core/vip): frames
 * in which another node speaks for one of them are the cluster's business,
 * not a collision or a mapping to learn; they are counted (cluster_vip)
 * and ignored, except that requests are still answered. Replaces the set.
 * 0, or -1/ENOENT, -1/ENOMEM.
 */
/*
 * The addresses of ifindex that are still ours but are being handed to
 * another node (a graceful stop): requests for them are not answered, so
 * a neighbour that checks the new holder's claim (Verify) hears only the
 * new holder. Counted (handover_not_answered). Replaces the set; 0, or
 * -1/ENOENT, -1/ENOMEM.
 */
int arp_engine_iface_set_quiet(struct arp_engine *e, uint32_t ifindex, const uint32_t *ips,
			       size_t n);

int arp_engine_iface_set_shared(struct arp_engine *e, uint32_t ifindex, const uint32_t *ips,
				size_t n);

/* An active-active VIP (core/config.h, Mode=active-active). */
struct arp_cluster_addr {
	uint32_t ip;
	struct mac mac; /* ClusterMAC=, a group MAC */
};

/*
 * The active-active VIPs on ifindex, replacing the set: every node of the
 * cluster holds such an address and answers a request for it with its
 * group MAC as the ARP sender hardware address (the Ethernet source stays
 * the interface's MAC: a bridge drops a frame whose source is a group
 * MAC), and announces it so (arp_engine_announce, once the address is
 * one of the interface's). A frame whose sender is such an address with
 * its group MAC is another node of the cluster: counted (cluster_vip),
 * answered when it is a request for an address we answer, otherwise
 * ignored, before the policy sees it (its sender MAC is a group MAC).
 * 0, or -1/ENOENT, -1/ENOMEM.
 */
int arp_engine_iface_set_cluster(struct arp_engine *e, uint32_t ifindex,
				 const struct arp_cluster_addr *v, size_t n);

/*
 * A configured entry (Mode=Static|Publish|XPublish as ARP_STATIC,
 * ARP_PUBLISH, ARP_XPUBLISH). mac NULL means "the interface's MAC" (not
 * allowed for ARP_STATIC). A Static entry is installed in the kernel
 * (ACT_NEIGH_SET, permanent). -1 with errno: ENOENT (ifindex), EINVAL,
 * EEXIST (ip already configured there), ENOSPC, ENOMEM.
 */
int arp_engine_add_entry(struct arp_engine *e, uint32_t ifindex, uint32_t ip, enum arp_type type,
			 const struct mac *mac, struct actions *out);

/*
 * Remove the configured entry for ip on ifindex (a reload): the address is
 * unknown again (learned as any other from now on). A Static entry leaves
 * the kernel too (ACT_NEIGH_DEL), unless replacing: the caller adds the
 * new entry for ip at once (arp_engine_add_entry), whose ACT_NEIGH_SET
 * replaces it there with no gap. -1 with errno ENOENT (ifindex not
 * managed, or no configured entry for ip).
 */
int arp_engine_del_entry(struct arp_engine *e, uint32_t ifindex, uint32_t ip, bool replacing,
			 struct actions *out);

/* Forget every proxy ARP network (a reload adds the new ones). */
void arp_engine_clear_proxies(struct arp_engine *e);

/*
 * Proxy ARP: answer, on ifindex (0 = every managed interface), requests
 * for any address in net (a network prefix). -1/ENOMEM.
 */
int arp_engine_add_proxy(struct arp_engine *e, uint32_t ifindex, const struct ip4_prefix *net);

/* Which way a frame passed the packet socket (its packet type). */
enum arp_rx_dir {
	ARP_RX_IN = 0,	     /* received, for this host or broadcast (PACKET_HOST, _BROADCAST) */
	ARP_RX_IN_OTHERHOST, /* received, unicast to another MAC (PACKET_OTHERHOST) */
	ARP_RX_OUT,	     /* sent by the kernel (its ARP output hook, via NFLOG) */
};

/*
 * A frame seen on ifindex at time now (ms), in direction dir:
 * - ARP_RX_IN: counted and judged by the policy (learn, answer, log, drop);
 * - ARP_RX_IN_OTHERHOST: counted (rx_frames, otherhost), otherwise ignored;
 * - ARP_RX_OUT: a request asking for an address (target not 0, not the
 *   sender's own) is recorded as arp_engine_note_query(tpa, Ethernet
 *   destination) records it; nothing else is recorded.
 * Frames on unmanaged interfaces, and any other dir, are ignored.
 */
void arp_engine_input(struct arp_engine *e, uint32_t ifindex, const uint8_t *buf, size_t len,
		      enum arp_rx_dir dir, uint64_t now, struct actions *out);
/*
 * The same, for a frame that arrived at arrived (<= now; later counts as
 * now) and is handed over only now (a receive ring hands frames over in
 * blocks): how long a host took to answer is timed to its arrival.
 */
void arp_engine_input_at(struct arp_engine *e, uint32_t ifindex, const uint8_t *buf, size_t len,
			 enum arp_rx_dir dir, uint64_t now, uint64_t arrived, struct actions *out);

/*
 * We sent an ARP request for target_ip on ifindex ourselves (not through
 * the kernel, so its ARP output hook never shows it going out), to the MAC
 * to, or broadcast when to is NULL. The engine records what it records for
 * a request the kernel sends: an entry for target_ip (INCOMPLETE unless one
 * is there; an UNKNOWN one becomes INCOMPLETE) whose query is outstanding
 * until now + ExpireUnknown, so a reply in that time is solicited and
 * judged as an answer, not by UnsolicitedARPReplies. When to is the MAC of
 * target_ip's dynamic entry, only a reply from that MAC is solicited (a
 * probe reaches that host alone). Counted in kernel_requests. A new entry
 * may evict a dynamic one (ACT_NEIGH_DEL in out). Call it once the request
 * is sent: no reply can come before.
 * 0, or -1 with errno ENOENT (ifindex not managed), EINVAL (target_ip
 * 0.0.0.0, loopback, multicast or broadcast: nothing to ask), ENOSPC
 * (cache full of configured entries: counted in cache_full) or ENOMEM
 * (counted in nomem); on -1 a reply is unsolicited as before.
 */
int arp_engine_note_query(struct arp_engine *e, uint32_t ifindex, uint32_t target_ip,
			  const struct mac *to, uint64_t now, struct actions *out);

/*
 * Expire entries and failed queries due at now; report the rate-limit drops
 * and the suppressed log lines (event=log_suppressed) of a window that ended.
 */
void arp_engine_tick(struct arp_engine *e, uint64_t now, struct actions *out);
/*
 * The checks (Verify) running on ifindex: the address, the MAC that holds
 * it (when there is one) and the MAC that claims it. Copies up to cap;
 * returns how many there are (at most ARP_ENGINE_CHECKS_MAX). ACT_CHECKS
 * says when they changed.
 */
struct arp_check {
	uint32_t ip;
	bool has_holder;
	struct mac holder, claimed;
};
size_t arp_engine_checks(const struct arp_engine *e, uint32_t ifindex, struct arp_check *out,
			 size_t cap);
#define ARP_ENGINE_CHECKS_MAX 64

/* When arp_engine_tick next has work; UINT64_MAX if never. */
uint64_t arp_engine_next_deadline(const struct arp_engine *e);

/*
 * Remove dynamic (and unknown/incomplete) entries of ifindex, or of every
 * interface when ifindex is 0; the kernel's copies are deleted. Returns the
 * number of dynamic entries removed, or -1/ENOENT.
 */
int arp_engine_flush(struct arp_engine *e, uint32_t ifindex, uint64_t now, struct actions *out);

/*
 * Gratuitous ARP (request and reply form) for ifindex's addresses and its
 * Publish/XPublish entries. Returns the number of addresses announced, or
 * -1/ENOENT.
 */
int arp_engine_announce(struct arp_engine *e, uint32_t ifindex, uint64_t now, struct actions *out);

/*
 * Gratuitous ARP (both forms) for the active-active VIPs of ifindex that
 * are its addresses now, with their group MAC. The number announced, or
 * -1/ENOENT.
 */
int arp_engine_announce_cluster(struct arp_engine *e, uint32_t ifindex, struct actions *out);

/* The shell adds what only it can see (AC_SOCKET_DROPS). -1/ENOENT. */
int arp_engine_count(struct arp_engine *e, uint32_t ifindex, enum arp_counter c, uint64_t n);

/*
 * Read-only views for show, stats and the daemon. The pointers are the
 * engine's own: valid until the next call that changes the engine. The
 * cache is read with arp_cache_next, arp_cache_find and arp_cache_count;
 * only engine calls change it.
 */
struct arp_iface_view {
	uint32_t ifindex;
	const char *name;
	struct mac mac;
	bool vlan;
	size_t n_addrs;
	const struct ip4_prefix *addrs;
	const struct arp_cache *cache;
	const struct arp_counters *counters;
};

/* Interfaces in the order they were added; -1 when i is past the end. */
int arp_engine_iface_at(const struct arp_engine *e, size_t i, struct arp_iface_view *out);
/*
 * The name and counters of the i-th interface removed by
 * arp_engine_iface_del and not added again; -1 when i is past the end.
 */
int arp_engine_absent_at(const struct arp_engine *e, size_t i, const char **name,
			 const struct arp_counters **cnt);
/* The counters kept for name (an interface no longer configured: a reload) go. */
void arp_engine_forget(struct arp_engine *e, const char *name);
/* The interface's view by ifindex; -1 if not managed. */
int arp_engine_iface_get(const struct arp_engine *e, uint32_t ifindex, struct arp_iface_view *out);

#endif
