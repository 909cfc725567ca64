/*
 * mrd: Multicast Router Discovery advertisements (RFC 4286, IPv4), which
 * arphad sends on the interfaces of active-active VIPs. A switch that
 * snoops IGMP sends an IPv4 frame addressed to a group MAC only to the
 * ports that joined its group, and to its multicast router ports; the
 * frames of an active-active VIP carry a unicast destination address,
 * which no port ever joins, so with an active querier on the VLAN they
 * reach no node (research/active-active-2026-12.md, 1a). A snooper that
 * hears these advertisements on a port makes it a router port (the Linux
 * bridge does, for its multicast router timeout, 255 s by default), so
 * the nodes' ports receive those frames again. The cost: a router port
 * also receives the VLAN's other multicast.
 *
 * Pure: it builds and reads bytes.
 */
#ifndef ARPHA_CORE_MRD_H
#define ARPHA_CORE_MRD_H

#include <stddef.h>
#include <stdint.h>

#define MRD_ALL_SNOOPERS  0xe000006au /* 224.0.0.106 */
#define MRD_TYPE_ADVERT	  0x30
#define MRD_TYPE_SOLICIT  0x31
#define MRD_ADVERT_LEN	  8
#define MRD_INTERVAL_S	  20 /* MRDISC_INTERVAL: between advertisements */
#define MRD_INITIAL_S	  2  /* MAX_INITIAL_ADVERT_INTERVAL: at start */
#define MRD_INITIAL_COUNT 3  /* MAX_INITIAL_ADVERTISEMENTS */

/* The Internet checksum of len bytes (len even or odd). */
uint16_t mrd_checksum(const uint8_t *b, size_t len);

/*
 * An advertisement (the IGMP message, no IP header) into buf: interval
 * (s), the IGMP query interval (s) and robustness variable it states.
 * MRD_ADVERT_LEN, or 0 when cap is too small.
 */
size_t mrd_advert(uint8_t *buf, size_t cap, uint8_t interval_s, uint16_t query_interval_s,
		  uint16_t robustness);

struct mrd_msg {
	uint8_t type;
	uint8_t interval_s;	   /* advertisement */
	uint16_t query_interval_s; /* advertisement */
	uint16_t robustness;	   /* advertisement */
};

/*
 * Read an advertisement or a solicitation: 0, or -1 (short, bad checksum,
 * another type). arphad reads none from the network (it only advertises);
 * this is for the tests.
 */
int mrd_parse(const uint8_t *buf, size_t len, struct mrd_msg *out);

#endif
