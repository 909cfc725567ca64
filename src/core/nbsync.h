/*
 * nbsync: the neighbour cache's sync messages (core/nbtable records over
 * reliable broadcast). Pure codec.
 *
 * Message (big-endian): 'D', version 1, kind (1 update, 2 full), flags
 * (bit 0: last part of a full dump), generation (4), part (2), count (2),
 * then count records. An update carries some records (generation, part
 * and flags 0). A full dump is parts 0, 1, ... of one generation (!= 0,
 * new for every dump a node starts), the last one flagged; a receiver
 * tells a new dump from an old one by the generation. A request (kind 3)
 * asks the node whose NodeID is in the generation field for a full dump
 * (a receiver lost that node's messages for good); it carries no record.
 *
 * Record: iface (len 1..15 + bytes), MAC (6), sources (1), node (4),
 * last seen and first seen as ms ago relative to the sender's now (8
 * each: clocks differ between nodes), confidence (1), n_ip4 (1) + n x 4,
 * then vendor, hostname, FQDN, vendor class as len (1) + bytes, PRL and
 * client id as len (1) + bytes, then type, os, brand as len (1) + bytes.
 * Strings carry no NUL and must fit their field with its NUL; text only
 * (no byte below 0x20, no 0x7f), as core/nbtable holds them.
 */
#ifndef ARPHA_CORE_NBSYNC_H
#define ARPHA_CORE_NBSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nbtable.h"
#include "wire.h"

#define NBSYNC_TYPE    'D'
#define NBSYNC_VERSION 1
#define NBSYNC_HDR     12
#define NBSYNC_REC_MIN (2 + 6 + 1 + 4 + 16 + 1 + 1 + 9)
#define NBSYNC_REC_MAX                                                                             \
	(1 + 15 + 6 + 1 + 4 + 16 + 1 + 1 + 4 * NBT_MAX_IP4 + 9 + 63 + 63 + 127 + 63 +              \
	 NBT_PRL_MAX + NBT_CLIENT_ID_MAX + 3 * 31)
/* The most records a message of WIRE_RB_MAX_DATA bytes can hold. */
#define NBSYNC_MAX_RECORDS ((WIRE_RB_MAX_DATA - NBSYNC_HDR) / NBSYNC_REC_MIN)

enum nbsync_kind { NBSYNC_UPDATE = 1, NBSYNC_FULL = 2, NBSYNC_REQUEST = 3 };
#define NBSYNC_F_LAST 0x01

struct nbsync_hdr {
	uint8_t kind;	     /* enum nbsync_kind */
	bool last;	     /* FULL: the last part */
	uint32_t generation; /* FULL: != 0; UPDATE: 0; REQUEST: the NodeID asked, != 0 */
	uint16_t part;	     /* FULL: 0, 1, ...; UPDATE: 0 */
	uint16_t count;	     /* records (decoded; the encoder fills it in) */
};

/* Why a message was refused. */
enum nbsync_reason {
	NBS_SHORT,     /* no room for the header */
	NBS_TYPE,      /* not 'D' */
	NBS_VERSION,   /* not version 1 */
	NBS_KIND,      /* unknown kind or flags, or fields the kind does not allow */
	NBS_TRUNCATED, /* a record cut short */
	NBS_COUNT,     /* count disagrees with the records (bytes left, none left, more than cap) */
	NBS_STRING, /* a string too long for its field, with a NUL, not text, or an empty iface */
	NBS_MAC,    /* a group or zero MAC */
	NBS_FIELD,  /* sources, confidence, address count, address 0 or repeated, times */
	NBS__COUNT
};

/* "short", "type", ... ; "?" for anything else. */
const char *nbsync_reason_name(unsigned why);

/* Wire size of r (valid or not; strings up to their field's end). */
size_t nbsync_rec_size(const struct nbt_record *r);

/*
 * Start a message in buf (cap bytes): NBSYNC_HDR, or 0 when cap is too
 * small or h is not a header the decoder accepts (count is ignored).
 */
size_t nbsync_begin(const struct nbsync_hdr *h, uint8_t *buf, size_t cap);

/*
 * Append r to the message of *len bytes in buf, its times as ms ago
 * relative to now (a time after now counts as 0 ms ago): 1 (and *len
 * grows, the count too), 0 when it does not fit cap or the count is full,
 * -1 with EINVAL when r is not valid (nbt_record_valid).
 */
int nbsync_add(uint8_t *buf, size_t cap, size_t *len, const struct nbt_record *r, uint64_t now);

/* Clear the last-part flag of a message begun as last (its dump goes on in another part). */
void nbsync_set_last(uint8_t *buf, size_t len, bool last);

/*
 * As many of r[0..n) as fit one message of at most cap bytes: its length,
 * and *used records went in. The last flag of h is kept only when all n
 * did. A record that is not valid ends the message before it. 0 with
 * errno EINVAL when h is refused or an update would be empty (its first
 * record not valid), ENOSPC when cap holds not even the header and one
 * record (an empty full part needs the header only).
 */
size_t nbsync_encode(const struct nbsync_hdr *h, const struct nbt_record *r, size_t n, uint64_t now,
		     uint8_t *buf, size_t cap, size_t *used);

/*
 * Decode a whole message into *h and out[0..cap), times in the receiver's
 * timeline: now - ms ago (0 when that is before 0). 0, or -1 and *why;
 * nothing in out is to be trusted then. cap >= NBSYNC_MAX_RECORDS takes
 * every message that fits WIRE_RB_MAX_DATA. Every decoded record is
 * nbt_record_valid.
 */
int nbsync_decode(const uint8_t *buf, size_t len, uint64_t now, struct nbsync_hdr *h,
		  struct nbt_record *out, size_t cap, enum nbsync_reason *why);

#endif
