/*
 * frame: Ethernet II (+ one optional 802.1Q tag) / ARP for Ethernet/IPv4.
 *
 * Layout (offsets from the start of the ARP body, after the Ethernet header
 * of 14 bytes, or 18 with a tag):
 *
 *   0 htype(2) 2 ptype(2) 4 hlen(1) 5 plen(1) 6 op(2)
 *   8 sha(6) 14 spa(4) 18 tha(6) 24 tpa(4)   = 28 bytes
 *
 * All multi-byte fields are read and written with explicit shifts, so the
 * buffer needs no alignment and the host byte order does not matter.
 */
#include "frame.h"

#include <string.h>

#define ETH_HLEN_	14
#define VLAN_HLEN_	4
#define ARP_FIXED_LEN	8 /* htype .. op */
#define ARP_BODY_LEN	28
#define ARP_HTYPE_ETHER 1
#define ARP_PTYPE_IP	0x0800

static const char *const reason_names[FR__COUNT] = {
    [FR_OK] = "ok",
    [FR_TRUNCATED] = "truncated",
    [FR_NOT_ARP] = "not_arp",
    [FR_BAD_HTYPE] = "bad_htype",
    [FR_BAD_PTYPE] = "bad_ptype",
    [FR_BAD_HLEN] = "bad_hlen",
    [FR_BAD_PLEN] = "bad_plen",
    [FR_BAD_OP] = "bad_op",
    [FR_ETH_SRC_GROUP] = "eth_src_group",
    [FR_SENDER_MAC_ZERO] = "sender_mac_zero",
    [FR_SENDER_IP_BOGUS] = "sender_ip_bogus",
    [FR_TARGET_IP_MULTICAST] = "target_ip_multicast",
    [FR_TARGET_IP_LOOPBACK] = "target_ip_loopback",
    [FR_SENDER_MAC_BROADCAST] = "sender_mac_broadcast",
    [FR_SENDER_MAC_MULTICAST] = "sender_mac_multicast",
};

static const struct mac mac_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct mac mac_zero = {{0, 0, 0, 0, 0, 0}};

const char *frame_reason_name(enum frame_reason r)
{
	if ((unsigned)r >= FR__COUNT || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *putmac(uint8_t *p, const struct mac *m)
{
	memcpy(p, m->a, MAC_LEN);
	return p + MAC_LEN;
}

static bool ip_is_loopback(uint32_t ip)
{
	return (ip >> 24) == 127;
}

/* 224.0.0.0/4, or 255.255.255.255 */
static bool ip_is_multicast_or_bcast(uint32_t ip)
{
	return (ip >> 28) == 0xe || ip == UINT32_MAX;
}

/*
 * A sender address nobody may claim: loopback, multicast, class E (which
 * includes 255.255.255.255). 0.0.0.0 is an RFC 5227 probe, not bogus.
 */
static bool ip_is_bogus_sender(uint32_t ip)
{
	return ip_is_loopback(ip) || (ip >> 28) >= 0xe;
}

enum frame_reason frame_parse(const uint8_t *buf, size_t len, struct arp_frame *out)
{
	size_t off = ETH_HLEN_;
	uint16_t type;

	if (len < ETH_HLEN_)
		return FR_TRUNCATED;
	type = get16(buf + 12);
	out->vlan = 0;
	if (type == ETHERTYPE_VLAN_) {
		if (len < ETH_HLEN_ + VLAN_HLEN_)
			return FR_TRUNCATED;
		out->vlan = get16(buf + 14) & 0x0fff;
		type = get16(buf + 16);
		off += VLAN_HLEN_;
	}
	if (type != ETHERTYPE_ARP_)
		return FR_NOT_ARP;
	if (len < off + ARP_FIXED_LEN)
		return FR_TRUNCATED;

	const uint8_t *a = buf + off;
	if (get16(a) != ARP_HTYPE_ETHER)
		return FR_BAD_HTYPE;
	if (get16(a + 2) != ARP_PTYPE_IP)
		return FR_BAD_PTYPE;
	if (a[4] != MAC_LEN)
		return FR_BAD_HLEN;
	if (a[5] != 4)
		return FR_BAD_PLEN;
	if (len < off + ARP_BODY_LEN)
		return FR_TRUNCATED;
	out->op = get16(a + 6);
	if (out->op != ARP_OP_REQUEST && out->op != ARP_OP_REPLY)
		return FR_BAD_OP;

	memcpy(out->eth_dst.a, buf, MAC_LEN);
	memcpy(out->eth_src.a, buf + 6, MAC_LEN);
	memcpy(out->sha.a, a + 8, MAC_LEN);
	out->spa = get32(a + 14);
	memcpy(out->tha.a, a + 18, MAC_LEN);
	out->tpa = get32(a + 24);

	if (out->eth_src.a[0] & 0x01)
		return FR_ETH_SRC_GROUP;
	if (mac_is_zero(&out->sha))
		return FR_SENDER_MAC_ZERO;
	if (ip_is_bogus_sender(out->spa))
		return FR_SENDER_IP_BOGUS;
	if (ip_is_multicast_or_bcast(out->tpa))
		return FR_TARGET_IP_MULTICAST;
	if (ip_is_loopback(out->tpa))
		return FR_TARGET_IP_LOOPBACK;
	/* soft: *out is complete, the policy decides */
	if (mac_is_broadcast(&out->sha))
		return FR_SENDER_MAC_BROADCAST;
	if (mac_is_multicast(&out->sha))
		return FR_SENDER_MAC_MULTICAST;
	return FR_OK;
}

size_t frame_build(const struct arp_frame *f, uint8_t *buf, size_t cap)
{
	bool tagged = f->vlan != 0;
	size_t hlen = ETH_HLEN_ + (tagged ? VLAN_HLEN_ : 0);
	size_t total = hlen + ARP_BODY_LEN;
	uint8_t *p = buf;

	/* padded to the Ethernet minimum, counted with the tag when tagged */
	if (total < FRAME_MIN_LEN + (tagged ? VLAN_HLEN_ : 0))
		total = FRAME_MIN_LEN + (tagged ? VLAN_HLEN_ : 0);
	if (cap < total)
		return 0;

	p = putmac(p, &f->eth_dst);
	p = putmac(p, &f->eth_src);
	if (tagged) {
		p = put16(p, ETHERTYPE_VLAN_);
		p = put16(p, f->vlan & 0x0fff);
	}
	p = put16(p, ETHERTYPE_ARP_);
	p = put16(p, ARP_HTYPE_ETHER);
	p = put16(p, ARP_PTYPE_IP);
	*p++ = MAC_LEN;
	*p++ = 4;
	p = put16(p, f->op);
	p = putmac(p, &f->sha);
	p = put32(p, f->spa);
	p = putmac(p, &f->tha);
	p = put32(p, f->tpa);
	memset(p, 0, total - (size_t)(p - buf));
	return total;
}

/* Builds in a local first, so the arguments may point into *f. */
static void fill(struct arp_frame *f, const struct mac *eth_dst, const struct mac *eth_src,
		 uint16_t op, const struct mac *sha, uint32_t spa, const struct mac *tha,
		 uint32_t tpa)
{
	struct arp_frame t;

	memset(&t, 0, sizeof(t));
	t.eth_dst = *eth_dst;
	t.eth_src = *eth_src;
	t.vlan = 0;
	t.op = op;
	t.sha = *sha;
	t.spa = spa;
	t.tha = *tha;
	t.tpa = tpa;
	*f = t;
}

void frame_request(struct arp_frame *f, const struct mac *src, uint32_t spa, uint32_t tpa)
{
	fill(f, &mac_bcast, src, ARP_OP_REQUEST, src, spa, &mac_zero, tpa);
}

void frame_reply(struct arp_frame *f, const struct mac *eth_src, const struct mac *sha, uint32_t ip,
		 const struct mac *dst, uint32_t tpa)
{
	fill(f, dst, eth_src, ARP_OP_REPLY, sha, ip, dst, tpa);
}

void frame_probe(struct arp_frame *f, const struct mac *src, uint32_t tpa)
{
	fill(f, &mac_bcast, src, ARP_OP_REQUEST, src, 0, &mac_zero, tpa);
}

void frame_garp_request(struct arp_frame *f, const struct mac *src, uint32_t ip)
{
	fill(f, &mac_bcast, src, ARP_OP_REQUEST, src, ip, &mac_zero, ip);
}

void frame_garp_reply(struct arp_frame *f, const struct mac *src, uint32_t ip)
{
	fill(f, &mac_bcast, src, ARP_OP_REPLY, src, ip, &mac_bcast, ip);
}
