/*
 * addr: Ethernet and IPv4 address types, parsing and formatting.
 *
 * IPv4 addresses are carried as uint32_t in host byte order everywhere in
 * the cores; the codecs convert at the edge. Nothing here allocates.
 */
#ifndef ARPHA_CORE_ADDR_H
#define ARPHA_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_STRLEN 18 /* "aa:bb:cc:dd:ee:ff" + NUL */
#define IP4_STRLEN 16 /* "255.255.255.255" + NUL */

struct mac {
	uint8_t a[MAC_LEN];
};

struct ip4_prefix {
	uint32_t addr; /* host byte order; for an interface address, the address */
	uint8_t len;   /* 0..32 */
};

/* True for ff:ff:ff:ff:ff:ff. */
bool mac_is_broadcast(const struct mac *m);
/* True when the group bit is set and the address is not broadcast. */
bool mac_is_multicast(const struct mac *m);
bool mac_is_zero(const struct mac *m);
/* True when the locally administered bit (0x02 of the first octet) is set. */
bool mac_is_local(const struct mac *m);
bool mac_eq(const struct mac *a, const struct mac *b);

/*
 * Parse a MAC written "4b:86:f6:c5:a2:14" (also without leading zeros:
 * "0:0:c:12:34:56"), "4b-86-f6-c5-a2-14", "4b86.f6c5.a214" (Cisco),
 * "4b86:f6c5:a214" or "4b86f6c5a214" (case-insensitive; one separator
 * throughout). Returns 0, or -1 if s is anything else (out is then
 * untouched).
 */
int mac_parse(const char *s, struct mac *out);
/* Writes "aa:bb:cc:dd:ee:ff" into buf (MAC_STRLEN bytes); returns buf. */
char *mac_fmt(const struct mac *m, char buf[MAC_STRLEN]);

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int hex_digit(char c);

/* Parse dotted-quad IPv4 (exactly four decimal octets). 0 or -1. */
int ip4_parse(const char *s, uint32_t *out);
/* Writes dotted quad into buf (IP4_STRLEN bytes); returns buf. */
char *ip4_fmt(uint32_t ip, char buf[IP4_STRLEN]);
/*
 * Parse "a.b.c.d/len" (len 0..32). With require_len false a bare address
 * means /32. Host bits may be set (an interface address); callers that want
 * a network mask it with ip4_mask. 0 or -1.
 */
int ip4_prefix_parse(const char *s, bool require_len, struct ip4_prefix *out);
/* Netmask for a prefix length 0..32. */
uint32_t ip4_mask(uint8_t len);
/* True when ip lies in the network of p. */
bool ip4_prefix_contains(const struct ip4_prefix *p, uint32_t ip);

#endif
