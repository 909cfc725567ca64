/*
 * nbtable: the neighbour cache. The devices seen on each managed
 * interface, keyed by (interface name, MAC): their IPv4 addresses, vendor,
 * DHCP facts, device identification, when they were first and last seen
 * and which node saw them last. Shared by the cluster (core/nbsync carries
 * struct nbt_record).
 *
 * Size= bounds the table. A new entry in a full table evicts the entry
 * seen least recently, which is the oldest inactive one whenever any entry
 * is inactive (see nbt_seen). Lookup is a hash table (SipHash with the
 * caller's key: MACs are chosen by whoever is on the link); eviction
 * order is a binary heap on last_seen, so every operation is O(1) or
 * O(log n) at 1M entries. Iteration is in insertion order.
 *
 * Pure: no I/O, no clock (times are ms on the caller's monotonic clock),
 * no globals. The caller runs sodium_init() once. Record pointers returned
 * are valid until the next call that changes the table.
 *
 * Text fields hold text only: no byte below 0x20 and no 0x7f (UTF-8 is
 * taken as it is). Functions refuse other text with EINVAL.
 */
#ifndef ARPHA_CORE_NBTABLE_H
#define ARPHA_CORE_NBTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NBT_MAX_IP4		   8
#define NBT_IFNAMSIZ		   16
#define NBT_VENDOR_LEN		   64
#define NBT_HOSTNAME_LEN	   64
#define NBT_FQDN_LEN		   128
#define NBT_VCLASS_LEN		   64
#define NBT_PRL_MAX		   64
#define NBT_CLIENT_ID_MAX	   32
#define NBT_DEV_LEN		   32
#define NBT_SIZE_DEFAULT	   400
#define NBT_SIZE_MAX		   1048576
#define NBT_ACTIVE_TIMEOUT_DEFAULT 300000
#define NBT_KEY_LEN		   16

/* Sources of a sighting (bits of nbt_record.sources). */
enum {
	NBT_SRC_ARP = 0x01,    /* an ARP frame on the packet socket */
	NBT_SRC_KERNEL = 0x02, /* the kernel's neighbour table */
	NBT_SRC_DHCP = 0x04,   /* a DHCP message */
	NBT_SRC_PEER = 0x08,   /* another node of the cluster */
	NBT_SRC_ALL = 0x0f
};

/* What a DHCP message told about a client. Empty fields (len 0, "") say nothing. */
struct nbt_dhcp {
	uint32_t ip4;			   /* an address the client holds or asks for; 0: none */
	char hostname[NBT_HOSTNAME_LEN];   /* option 12 */
	char fqdn[NBT_FQDN_LEN];	   /* option 81 */
	char vendor_class[NBT_VCLASS_LEN]; /* option 60 */
	uint8_t prl[NBT_PRL_MAX];	   /* option 55, in order */
	uint8_t prl_len;
	uint8_t client_id[NBT_CLIENT_ID_MAX]; /* option 61 */
	uint8_t client_id_len;
};

/* One device, as the table holds it and as it crosses the wire. */
struct nbt_record {
	char iface[NBT_IFNAMSIZ];	/* the [Interface] section's name, non-empty */
	struct mac mac;			/* unicast, not zero */
	uint8_t sources;		/* NBT_SRC_* bits */
	uint8_t n_ip4;			/* 0..NBT_MAX_IP4 */
	uint32_t ip4[NBT_MAX_IP4];	/* most recent first, none 0, no repeats */
	uint64_t first_seen, last_seen; /* ms, first_seen <= last_seen */
	uint32_t node;			/* NodeID of the node that saw it last; 0: this node */
	char vendor[NBT_VENDOR_LEN];
	struct nbt_dhcp dhcp; /* dhcp.ip4 is not kept (it goes to ip4[]) */
	char type[NBT_DEV_LEN], os[NBT_DEV_LEN], brand[NBT_DEV_LEN];
	uint8_t confidence; /* 0..100 */
};

struct nbt_params {
	uint32_t size;		    /* Size=, 1..NBT_SIZE_MAX */
	uint64_t active_timeout_ms; /* ActiveTimeout=, > 0 */
	uint32_t self_id;	    /* our NodeID: a peer's record naming it means this node */
	uint8_t key[NBT_KEY_LEN];   /* secret for the hash (randombytes_buf); not on the wire */
};

struct nbt_counters {
	uint64_t entries;	   /* held now */
	uint64_t inserted;	   /* new entries */
	uint64_t updated;	   /* sightings, DHCP facts, identifications of held entries */
	uint64_t evicted_inactive; /* entries evicted to make room, inactive ones */
	uint64_t evicted_active;   /* the same, active ones (the table is too small) */
	uint64_t merged;	   /* peer records taken (new or merged) */
	uint64_t refused;	   /* calls refused: bad input, no room, ENOMEM */
};

struct nbtable;

/* Size=400, ActiveTimeout=300000 ms, self_id 0, key zero. */
void nbt_params_default(struct nbt_params *p);

/* NULL with errno EINVAL (bad params) or ENOMEM. Memory grows with the entries held. */
struct nbtable *nbt_new(const struct nbt_params *p);
/* A reload: ActiveTimeout= (> 0; -1/EINVAL). The entries are judged by it from now on. */
int nbt_set_active_timeout(struct nbtable *t, uint64_t ms);
/* Its Size=. */
size_t nbt_size(const struct nbtable *t);
void nbt_free(struct nbtable *t);

/*
 * A sighting of mac on iface at now from source (one NBT_SRC_* bit; ip4 0:
 * no address). Creates the entry, or updates it: last_seen = max(last_seen,
 * now), ip4 moves to the front of the list (a new one pushes the oldest
 * out), source joins sources, node becomes 0 (this node). The entry, or
 * NULL with errno EINVAL (empty or long iface, group or zero MAC, bad
 * source), ENOSPC (a full table whose every entry was seen after now) or
 * ENOMEM; refusals are counted.
 */
const struct nbt_record *nbt_seen(struct nbtable *t, const char *iface, const struct mac *mac,
				  uint32_t ip4, uint64_t now, unsigned source);

/*
 * DHCP facts about mac on iface at now: a sighting from NBT_SRC_DHCP with
 * d->ip4, then every non-empty field of d replaces the one held (empty ones
 * leave it). The entry, or NULL with errno as nbt_seen, or EINVAL when a
 * string of d is not NUL-terminated within its field or is not text, or a
 * length is too long (nothing is changed then).
 */
const struct nbt_record *nbt_set_dhcp(struct nbtable *t, const char *iface, const struct mac *mac,
				      const struct nbt_dhcp *d, uint64_t now);

/*
 * The vendor of an entry (from core/oui, looked up by the caller); NULL or
 * "": none. A longer name is cut to NBT_VENDOR_LEN - 1 bytes at a UTF-8
 * character boundary. 0, or -1 with EINVAL (e not an entry of t, not text).
 */
int nbt_set_vendor(struct nbtable *t, const struct nbt_record *e, const char *vendor);

/*
 * The identification of an entry (from core/devtype); NULL: "". 0, or -1
 * with EINVAL (e not an entry of t, a string of NBT_DEV_LEN bytes or more
 * or not text, confidence > 100).
 */
int nbt_set_device(struct nbtable *t, const struct nbt_record *e, const char *type, const char *os,
		   const char *brand, unsigned confidence);

/*
 * A record from node (a peer; the sender of the sync message), times
 * already in our timeline (nbsync_decode). Times after now are taken as
 * now. For a held entry: last_seen = max, first_seen = min; when r is
 * newer (r->last_seen > last_seen) its addresses go first, then ours not
 * among them, up to NBT_MAX_IP4, and node becomes r's (r->node, or node
 * when r->node is 0; our self_id means 0); otherwise ours go first. Text
 * and byte fields: a non-empty one fills an empty one, and replaces a
 * non-empty one when r is newer (confidence goes with type). Sources gain
 * r's and NBT_SRC_PEER. A new entry is r as it is (node as above), which a
 * full table takes only when r is newer than its least recently seen entry
 * (else ENOSPC). 0, or -1 with errno EINVAL (r not valid, node 0), ENOSPC
 * or ENOMEM; counted in merged or refused.
 */
int nbt_merge(struct nbtable *t, const struct nbt_record *r, uint32_t node, uint64_t now);

/* A record is valid: what nbt_merge and core/nbsync accept. */
bool nbt_record_valid(const struct nbt_record *r);

/* The entry for (iface, mac), or NULL. */
const struct nbt_record *nbt_find(const struct nbtable *t, const char *iface,
				  const struct mac *mac);

/* Active: now - last_seen < ActiveTimeout (an entry seen after now is active). */
bool nbt_active(const struct nbtable *t, const struct nbt_record *e, uint64_t now);

/* Entries held. */
size_t nbt_count(const struct nbtable *t);

/*
 * Iterate in insertion order (oldest entry first; an update does not move
 * an entry): start with *cursor = 0; NULL at the end. The cursor is valid
 * while nothing changes t.
 */
const struct nbt_record *nbt_next(const struct nbtable *t, size_t *cursor);

/* Remove (iface, mac): 0, or -1 with ENOENT. */
int nbt_remove(struct nbtable *t, const char *iface, const struct mac *mac);
/* Remove every entry (counters stay). */
void nbt_clear(struct nbtable *t);

const struct nbt_counters *nbt_counters(const struct nbtable *t);

/* Bytes one entry takes: the entry itself, plus its hash slot and heap slot. */
size_t nbt_entry_size(void);

#endif
