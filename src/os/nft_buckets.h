/*
 * nft_buckets: the active-active data path (issue 13) in the kernel. Every
 * node of the cluster receives every frame sent to a cluster multicast MAC;
 * these nftables rules let exactly one node forward each connection: the
 * owner of its bucket (core/balance: the same jhash in C and in the rule).
 * No policy here: which node owns which bucket is the caller's decision
 * (core/ranges); this module writes it into the kernel.
 *
 * What is installed (the rules of research/active-active-2026-12.md, 3.2),
 * all owner-flagged on the netlink socket of this module's libnftables
 * context, in one transaction:
 *
 *   table ip NFTB_TABLE
 *     map b2m   bucket -> owner<<16 | bucket: who takes a NEW connection
 *               (the same on every node); a bucket without an element has
 *               no owner for now (a hand-over gap: nobody takes its SYNs,
 *               the retransmitted SYN is decided again)
 *     map own   ct mark -> goto "mine": the marks this node forwards; its
 *               own id for every bucket, plus the dead owners' marks it
 *               took over (nftb_update)
 *     chain pre (prerouting -150, after conntrack), for the cluster's
 *               packets alone: IPv4 with a unicast destination address,
 *               arriving on a cluster interface in a frame sent to a
 *               multicast MAC (PACKET_MULTICAST, which Linux neither
 *               forwards nor gives to TCP; every accepting rule here makes
 *               it PACKET_HOST).
 *               - conntrack says invalid -> drop;
 *               - ct mark set (decided): forwarded if the mark is in own,
 *                 dropped if not;
 *               - ct mark 0 (undecided): hashed on the connection's
 *                 ORIGINAL tuple (balance_nft_expr*: ports for TCP and
 *                 UDP, addresses for the rest, by the connection's
 *                 protocol, so an ICMP error goes with its connection) and
 *                 looked up in b2m. This node's bucket: ct mark :=
 *                 owner<<16 | bucket, forwarded. Another node's bucket:
 *                 ct mark := that node's owner<<16 | bucket (decided, and
 *                 not ours: the connection stays its owner's when the
 *                 bucket moves later), dropped. Either way, when this is
 *                 the packet that creates the entry it goes on with meta
 *                 mark NFTB_SHADOW_MARK, so conntrack confirms the entry
 *                 (this node then follows the connection live: a
 *                 "shadow") and the egress chain drops it; for a local
 *                 address it is dropped here. A bucket without an owner
 *                 leaves the entry undecided: whoever claims the bucket
 *                 takes it at its next packet.
 *     chain outp (output -150) ICMP errors this node makes for a decided
 *               connection (ct state related) leave only its owner
 *   table netdev NFTB_SHADOW_TABLE
 *     one egress chain per cluster interface: meta mark NFTB_SHADOW_MARK
 *     -> drop (after conntrack confirmed the entry)
 *
 * The node's own unicast traffic on the cluster interfaces (management,
 * its own connections) is not touched. What the user gives up: the packet
 * mark of the cluster's packets is overwritten (bucket and owner), and so
 * is the ct mark of the connections this node takes; a packet of the
 * user's carrying NFTB_SHADOW_MARK out of a cluster interface is dropped.
 * The forward policy (stateful filtering) is the user's, in the user's own
 * table.
 *
 * Two settings of the namespace are the caller's (this module sets none):
 * net.netfilter.nf_conntrack_tcp_loose=0, so a node never picks up a TCP
 * connection in the middle; and net.ipv4.fwmark_reflect=1, so the ICMP
 * error a non-owner makes for a shadowed first packet (TTL exceeded,
 * fragmentation needed: its connection is not confirmed yet, outp cannot
 * tell) carries NFTB_SHADOW_MARK and dies at egress. Without it the sender
 * gets such an error from every node (the test saw 2 for one TTL-1 ping).
 *
 * Not covered yet (research 3.4): IPv6; NAT (a non-owner must not shadow a
 * first packet it would NAT); interfaces are matched by name only, so a
 * renamed interface leaves the cluster.
 *
 * If the process dies the kernel removes both tables with the socket: the
 * node no longer turns multicast-MAC frames into PACKET_HOST, so it stops
 * forwarding them at once (Linux never forwards PACKET_MULTICAST), and the
 * others take its buckets. The socket is made close-on-exec: a program the
 * process runs never holds the tables.
 *
 * Every call runs in the network namespace the process is in, and blocks on
 * netlink: about 3 ms for a 1024-bucket b2m replace, 5.4 ms with 1024 own
 * additions in the same transaction (nft 1.0.6, 2 vCPU VM, plain build;
 * tests/netns/test_nftb.py). Errors: -1 (or NULL) with a one-line message
 * in err; a failed update leaves the kernel as it was (one transaction).
 * Not thread-safe: one caller at a time per nftb.
 */
#ifndef ARPHA_OS_NFT_BUCKETS_H
#define ARPHA_OS_NFT_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/balance.h"

#define NFTB_TABLE	  "arpha_aa"	    /* family ip */
#define NFTB_SHADOW_TABLE "arpha_aa_shadow" /* family netdev */
#define NFTB_SHADOW_MARK  0xdeadu	    /* owner 0 is nobody: no real mark has it */
#define NFTB_MAX_IFACES	  16

struct nftb;

struct nftb_params {
	/* the bucket formula; offset must be 0 and buckets at most 65536 (a
	 * bucket is the low 16 bits of a mark) */
	struct balance_params balance;
	/* this node's owner id: NodeID and incarnation, not 0 (mark 0 means
	 * undecided); marks are owner << 16 | bucket */
	uint16_t owner;
	/* b2m at the start: map[b] the owner of bucket b (0: none); NULL: every
	   bucket this node's */
	const uint16_t *map;
	/* the cluster-facing interfaces, by name (1 .. NFTB_MAX_IFACES) */
	const char *const *ifaces;
	size_t n_ifaces;
};

/* Packet counters of the rules, since nftb_open. */
struct nftb_stats {
	uint64_t owned;	    /* packets of decided connections forwarded as owner (own hit) */
	uint64_t taken;	    /* connections this node decided to own (their first packet here) */
	uint64_t other;	    /* packets dropped: decided, another node's */
	uint64_t undecided; /* packets dropped: not decided here, bucket not ours */
	uint64_t shadowed;  /* first packets not ours, let through conntrack as a shadow */
	uint64_t shadow_dropped; /* those dropped at egress (all egress chains) */
	uint64_t local;		 /* first packets not ours for a local address: dropped */
	uint64_t invalid;	 /* packets conntrack found invalid: dropped */
	uint64_t icmp_other;	 /* ICMP errors this node generated for others' connections */
};

/*
 * Install both tables for p in one transaction, b2m as p->map says (NULL:
 * every bucket owned by p->owner) and own holding p->owner's mark for every bucket. Returns the
 * handle, or NULL with a message: bad params, either table exists already
 * (another arphad in this network namespace, or a table of that name the
 * user made), the kernel or nft refused. Nothing is left installed on
 * failure. p and the names it points to are not kept after the call.
 */
struct nftb *nftb_open(const struct nftb_params *p, char *err, size_t errlen);

/*
 * One transaction: when owner_of_bucket is not NULL (n must then be the
 * number of buckets), b2m is flushed and refilled with bucket b -> owner
 * owner_of_bucket[b] (0: no element, no owner); and for each of the n_adds
 * buckets in adds, own gets dead_owner << 16 | bucket -> mine, so the
 * connections dead_owner decided in those buckets are forwarded here from
 * the next packet on (a mark already there is no error). dead_owner must
 * not be 0 or this node's owner when n_adds > 0. Packets see the old maps
 * or the new ones, never a mix. 0, or -1 with a message (the kernel
 * unchanged).
 */
int nftb_update(struct nftb *t, const uint16_t *owner_of_bucket, size_t n, uint16_t dead_owner,
		const uint32_t *adds, size_t n_adds, char *err, size_t errlen);

/* nftb_update with the map alone. */
int nftb_set_map(struct nftb *t, const uint16_t *owner_of_bucket, size_t n, char *err,
		 size_t errlen);

/* nftb_update with the own additions alone. */
int nftb_take(struct nftb *t, uint16_t dead_owner, const uint32_t *buckets, size_t n, char *err,
	      size_t errlen);

/*
 * Remove from own every mark of dead_owner that nftb_update/nftb_take added
 * (when no connection carries them any more), in one transaction; its
 * connections then are another node's (dropped). 0 (also when there were
 * none), or -1 with a message.
 */
int nftb_forget(struct nftb *t, uint16_t dead_owner, char *err, size_t errlen);

/* Read the counters into s. 0, or -1 with a message. */
int nftb_counters(struct nftb *t, struct nftb_stats *s, char *err, size_t errlen);

/*
 * Whether either table exists in this network namespace (an arphad runs
 * here, or a process that inherited its socket): 1 yes, 0 no, -1 cannot
 * tell.
 */
int nftb_present(void);

/* Remove both tables and release the context (NULL: nothing). */
void nftb_close(struct nftb *t);

#endif
