/*
 * arp_cache: one interface's ARP cache. Maps IPv4 address -> entry with a
 * type, a MAC and a deadline. Open addressing on the IP, entries in one
 * array, timed entries (dynamic, unknown, incomplete) on per-type lists
 * ordered by deadline, so expiry and eviction are O(1) at the head.
 *
 * All times are milliseconds on the caller's monotonic clock. The cache
 * allocates with malloc/realloc and reports ENOMEM as a NULL/-1 return;
 * it never reads a clock and keeps no global state.
 */
#ifndef ARPHA_CORE_ARP_CACHE_H
#define ARPHA_CORE_ARP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum arp_type {
	ARP_DYNAMIC = 0, /* learned from the wire; expires after Expire */
	ARP_STATIC,      /* configured mapping; never expires, never evicted */
	ARP_PUBLISH,     /* configured: we answer for ip with mac */
	ARP_XPUBLISH,    /* as PUBLISH, frame source also the published mac */
	ARP_UNKNOWN,     /* negative: a query went unanswered; expires after ExpireUnknown */
	ARP_INCOMPLETE,  /* a query is outstanding, no mapping yet */
	ARP_TYPE__COUNT
};

/* "dynamic", "static", "publish", "xpublish", "unknown", "incomplete". */
const char *arp_type_name(enum arp_type t);
/* Static, Publish and XPublish: configured, never expire, never evicted. */
bool arp_type_is_configured(enum arp_type t);

struct arp_entry {
	uint32_t ip;
	struct mac mac;      /* zero for UNKNOWN / INCOMPLETE */
	uint8_t type;        /* enum arp_type */
	uint8_t flags;       /* ARP_F_* */
	uint32_t prev, next; /* private: deadline list links */
	uint16_t answer_ms;  /* DYNAMIC: the slowest answer seen from it lately (ARP_F_TIMED) */
	uint64_t expires;    /* deadline (ms); UINT64_MAX for configured types */
	uint64_t query_until; /* a query for ip is outstanding until then (ms) */
};

#define ARP_F_IFACE_MAC 0x01 /* PUBLISH/XPUBLISH: use the interface's MAC */
/* DYNAMIC: the outstanding query went to the entry's MAC, not to everyone */
#define ARP_F_QUERY_UNICAST 0x02
/* answer_ms holds a measured answer time (from a query of ours or the kernel's) */
#define ARP_F_TIMED 0x04

struct arp_cache_params {
	uint32_t max_entries; /* CacheSize: total entries of every type */
	uint32_t hash_size;   /* starting number of hash slots (HashSize) */
};

struct arp_cache;

/* NULL on ENOMEM or max_entries == 0. */
struct arp_cache *arp_cache_new(const struct arp_cache_params *p);
void arp_cache_free(struct arp_cache *c);

/*
 * The entry for ip, or NULL; the pointer is valid until the next insert.
 * For the cache's owner, who may update or remove it (the ARP engine);
 * readers of a const cache (struct arp_iface_view) use arp_cache_find.
 */
struct arp_entry *arp_cache_lookup(struct arp_cache *c, uint32_t ip);
/* As arp_cache_lookup, read-only. */
const struct arp_entry *arp_cache_find(const struct arp_cache *c, uint32_t ip);

/*
 * Add an entry for ip (which must not be present) of the given type, MAC
 * (may be NULL: zero) and deadline. When the cache is full the entry with
 * the earliest deadline is evicted first among UNKNOWN and INCOMPLETE, then
 * among DYNAMIC; configured entries are never evicted. A copy of the
 * evicted entry goes to *evicted (if not NULL) and *did_evict is set.
 * Returns the new entry, or NULL when every entry is configured (full) or
 * on ENOMEM (errno says which: ENOSPC or ENOMEM).
 */
struct arp_entry *arp_cache_insert(struct arp_cache *c, uint32_t ip, enum arp_type type,
				   const struct mac *mac, uint64_t expires, struct arp_entry *evicted,
				   bool *did_evict);

/*
 * Change an entry's type, MAC (NULL: keep) and deadline, keeping the
 * deadline lists ordered.
 */
void arp_cache_update(struct arp_cache *c, struct arp_entry *e, enum arp_type type,
		      const struct mac *mac, uint64_t expires);

/* Remove e (the pointer is invalid afterwards). */
void arp_cache_remove(struct arp_cache *c, struct arp_entry *e);

/*
 * The timed entry with the earliest deadline if that deadline is <= now,
 * else NULL. The caller removes or updates it and asks again.
 */
struct arp_entry *arp_cache_expired(struct arp_cache *c, uint64_t now);

/* Earliest deadline of any timed entry; UINT64_MAX if none. */
uint64_t arp_cache_next_deadline(const struct arp_cache *c);

/* Number of entries of every type. */
size_t arp_cache_count(const struct arp_cache *c);
size_t arp_cache_capacity(const struct arp_cache *c);
/* Bytes of memory the cache holds (tables and entries). */
size_t arp_cache_bytes(const struct arp_cache *c);

/*
 * Iterate, read-only: start with *cursor = 0; returns each entry once, NULL
 * at the end. Inserting or removing during the walk is not allowed (to
 * change entries found, collect their addresses and arp_cache_lookup them).
 */
const struct arp_entry *arp_cache_next(const struct arp_cache *c, size_t *cursor);

#endif
