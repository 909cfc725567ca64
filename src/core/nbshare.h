/*
 * nbshare: the neighbours one node has seen on an interface, as a
 * reliable-broadcast message, so that a node taking a VIP over can tell
 * every neighbour of the cluster (core/vip, targeted ARP). Pure codec.
 *
 * Message: 'N', version 1, interface name (16 bytes, NUL padded: the
 * [Interface] section's name, the same on every node), count (2,
 * big-endian), count x { IPv4 (4), MAC (6) }.
 */
#ifndef ARPHA_CORE_NBSHARE_H
#define ARPHA_CORE_NBSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NBSHARE_TYPE	 'N'
#define NBSHARE_IFNAMSIZ 16
#define NBSHARE_HDR	 (2 + NBSHARE_IFNAMSIZ + 2)
#define NBSHARE_ENTRY	 10

struct nb_entry {
	uint32_t ip; /* host order */
	struct mac mac;
};

/* Entries that fit a message of at most cap bytes. */
size_t nbshare_capacity(size_t cap);

/* Encode; the length, or 0 when n entries do not fit cap or iface is too long. */
size_t nbshare_encode(const char *iface, const struct nb_entry *e, size_t n, uint8_t *buf,
		      size_t cap);

/*
 * Decode a message: the interface name into iface, and *n entries into out
 * (at most cap). -1 when it is not a well-formed neighbour message
 * (wrong type or version, lengths that disagree, a name without its NUL,
 * an entry with a group MAC or address 0); nothing is trusted then.
 */
int nbshare_decode(const uint8_t *buf, size_t len, char iface[NBSHARE_IFNAMSIZ],
		   struct nb_entry *out, size_t cap, size_t *n);

#endif
