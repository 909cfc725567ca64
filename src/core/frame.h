/*
 * frame: the codec for Ethernet II (optionally 802.1Q tagged) frames that
 * carry ARP for Ethernet/IPv4. Bytes become a typed struct or a named
 * reason; builders turn a struct into bytes padded to the Ethernet minimum.
 * The parser reads only the caller's buffer and never allocates.
 */
#ifndef ARPHA_CORE_FRAME_H
#define ARPHA_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ETHERTYPE_ARP_ 0x0806
#define ETHERTYPE_VLAN_ 0x8100
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define FRAME_MIN_LEN 60 /* Ethernet minimum without FCS */
#define FRAME_MAX_LEN 64 /* the largest frame a builder writes (tagged) */

struct arp_frame {
	struct mac eth_dst;
	struct mac eth_src;
	uint16_t vlan; /* 802.1Q VLAN ID (12 bits); 0 when untagged */
	uint16_t op;   /* ARP_OP_REQUEST or ARP_OP_REPLY */
	struct mac sha;
	uint32_t spa; /* host byte order */
	struct mac tha;
	uint32_t tpa; /* host byte order */
};

/*
 * Why a frame was refused. FR_OK and the "soft" reasons (>= FR_SOFT_FIRST)
 * leave a fully parsed frame in *out: the frame is well formed and the
 * policy decides (ARPBroadcast, ARPMulticast). Every other reason means the
 * frame is unusable and *out is unspecified.
 */
enum frame_reason {
	FR_OK = 0,
	FR_TRUNCATED,           /* shorter than its headers */
	FR_NOT_ARP,             /* ethertype (after any tag) is not ARP */
	FR_BAD_HTYPE,           /* hardware type != 1 (Ethernet) */
	FR_BAD_PTYPE,           /* protocol type != 0x0800 */
	FR_BAD_HLEN,            /* hardware length != 6 */
	FR_BAD_PLEN,            /* protocol length != 4 */
	FR_BAD_OP,              /* opcode not request (1) or reply (2) */
	FR_ETH_SRC_GROUP,       /* Ethernet source is multicast/broadcast */
	FR_SENDER_MAC_ZERO,     /* ARP sender MAC 00:00:00:00:00:00 */
	FR_SENDER_IP_BOGUS,     /* sender IP loopback, multicast, class E, 255.255.255.255 */
	FR_TARGET_IP_MULTICAST, /* target IP multicast or 255.255.255.255 */
	FR_TARGET_IP_LOOPBACK,  /* target IP in 127.0.0.0/8 */
	FR_SOFT_FIRST,
	FR_SENDER_MAC_BROADCAST = FR_SOFT_FIRST, /* soft: ARP sender MAC broadcast */
	FR_SENDER_MAC_MULTICAST,                 /* soft: ARP sender MAC multicast */
	FR__COUNT
};

/* Stable lower_snake name of a reason ("truncated", "bad_htype", ...). */
const char *frame_reason_name(enum frame_reason r);

/* Parse len bytes at buf (starting with the Ethernet destination). */
enum frame_reason frame_parse(const uint8_t *buf, size_t len, struct arp_frame *out);

/*
 * Write f as a frame into buf (cap bytes): Ethernet header, an 802.1Q tag
 * when f->vlan != 0, the ARP body, zero padding to FRAME_MIN_LEN. Returns
 * the length written, or 0 when cap is too small.
 */
size_t frame_build(const struct arp_frame *f, uint8_t *buf, size_t cap);

/* Fillers: each sets every field of *f (vlan 0). */

/* Broadcast request: who has tpa? tell spa (at src). */
void frame_request(struct arp_frame *f, const struct mac *src, uint32_t spa, uint32_t tpa);
/*
 * Reply: "ip is at sha". The frame goes from eth_src to dst, the ARP data
 * says sha/ip and targets dst/tpa.
 */
void frame_reply(struct arp_frame *f, const struct mac *eth_src, const struct mac *sha, uint32_t ip,
		 const struct mac *dst, uint32_t tpa);
/* RFC 5227 probe: broadcast request for tpa with sender IP 0.0.0.0. */
void frame_probe(struct arp_frame *f, const struct mac *src, uint32_t tpa);
/* Gratuitous ARP, request form: broadcast request with spa == tpa == ip. */
void frame_garp_request(struct arp_frame *f, const struct mac *src, uint32_t ip);
/* Gratuitous ARP, reply form: broadcast reply with spa == tpa == ip. */
void frame_garp_reply(struct arp_frame *f, const struct mac *src, uint32_t ip);

#endif
