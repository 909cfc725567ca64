/*
 * dhcpsnoop: the codec for the DHCP client messages arpha snoops to learn
 * about its neighbours: DHCPv4 (UDP 68 -> 67) and DHCPv6 (UDP 546 -> 547),
 * each in a whole Ethernet frame, untagged or with one 802.1Q tag.
 *
 * Bytes become a typed struct or a named reason. The parser reads only the
 * caller's buffer, never past len, never allocates, and trusts no length in
 * the packet. IP and UDP checksums are not verified (the kernel has seen the
 * frame; a snooper only reads), but every length must agree: the IP total
 * or payload length fits in the frame (trailing padding is allowed), and
 * the UDP length equals the IP payload length.
 *
 * Strings that leave the codec (host name, FQDN, vendor class) are
 * sanitized: printable ASCII (0x20..0x7e) is kept, except the backslash,
 * which like every other byte is written as \xNN (lower-case hex); the
 * result is NUL terminated in a fixed buffer. A field that needed escapes
 * or did not fit gets a DHCP_W_* flag; truncation never splits an escape.
 * Trailing NUL bytes, which many clients append to names, are dropped
 * without a flag.
 */
#ifndef ARPHA_CORE_DHCPSNOOP_H
#define ARPHA_CORE_DHCPSNOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DHCP_PORT_V4_CLIENT 68
#define DHCP_PORT_V4_SERVER 67
#define DHCP_PORT_V6_CLIENT 546
#define DHCP_PORT_V6_SERVER 547

/* DHCPv4 message types (option 53) a client sends */
#define DHCP4_DISCOVER 1
#define DHCP4_REQUEST  3
#define DHCP4_DECLINE  4
#define DHCP4_RELEASE  7
#define DHCP4_INFORM   8

/* DHCPv6 message types a client sends */
#define DHCP6_SOLICIT	   1
#define DHCP6_REQUEST	   3
#define DHCP6_CONFIRM	   4
#define DHCP6_RENEW	   5
#define DHCP6_REBIND	   6
#define DHCP6_RELEASE	   8
#define DHCP6_DECLINE	   9
#define DHCP6_INFO_REQUEST 11

/* DUID types (DHCPv6 option 1, DHCPv4 option 61 type 255) */
#define DUID_LLT  1
#define DUID_EN	  2
#define DUID_LL	  3
#define DUID_UUID 4

/* Sizes of the fixed buffers, NUL included. */
#define DHCP_NAME_MAX	256 /* host name, FQDN */
#define DHCP_VENDOR_MAX 128 /* vendor class */
#define DHCP_CLID_MAX	64  /* client identifier bytes kept (raw) */
#define DHCP_PRL_MAX	255 /* option codes kept from a request list */
/* Enough for dhcp_prl_fmt of any list: 255 codes of up to 5 digits + ','. */
#define DHCP_PRL_STRLEN (DHCP_PRL_MAX * 6)

/* What the message carried (dhcp_info.has). */
#define DHCP_HAS_REQ_IP	  0x0001u /* v4 option 50 */
#define DHCP_HAS_HOSTNAME 0x0002u /* v4 option 12 */
#define DHCP_HAS_FQDN	  0x0004u /* v4 option 81, v6 option 39 */
#define DHCP_HAS_VENDOR	  0x0008u /* v4 option 60, v6 option 16 */
#define DHCP_HAS_PRL	  0x0010u /* v4 option 55, v6 option 6 (ORO) */
#define DHCP_HAS_CLID	  0x0020u /* v4 option 61, v6 option 1 */
#define DHCP_HAS_CLID_MAC 0x0040u /* a MAC found in the client identifier */
#define DHCP_HAS_MAX_SIZE 0x0080u /* v4 option 57 */

/* What the codec had to do to a field it kept (dhcp_info.warn). */
#define DHCP_W_CHADDR_MISMATCH 0x0001u /* v4 chaddr != Ethernet source */
#define DHCP_W_HOSTNAME_ESC    0x0002u
#define DHCP_W_HOSTNAME_TRUNC  0x0004u
#define DHCP_W_FQDN_ESC	       0x0008u
#define DHCP_W_FQDN_TRUNC      0x0010u
#define DHCP_W_VENDOR_ESC      0x0020u
#define DHCP_W_VENDOR_TRUNC    0x0040u
#define DHCP_W_CLID_TRUNC      0x0080u /* more than DHCP_CLID_MAX bytes */
#define DHCP_W_VENDOR_MORE     0x0100u /* v6: more than one vendor-class string */
#define DHCP_W_PRL_TRUNC       0x0200u /* more than DHCP_PRL_MAX codes */

struct dhcp_info {
	uint8_t family; /* 4 or 6 */
	struct mac eth_dst;
	struct mac eth_src;
	uint16_t vlan;	  /* 802.1Q VLAN ID (12 bits); 0 when untagged */
	uint8_t msg_type; /* v4: option 53 (0: plain BOOTP); v6: message type */
	uint32_t xid;	  /* v4: xid; v6: the 24-bit transaction id */
	uint32_t has;	  /* DHCP_HAS_* */
	uint32_t warn;	  /* DHCP_W_* */

	/* IPv4 only (host byte order) */
	uint32_t ip_src;
	uint32_t ciaddr;
	uint32_t req_ip;     /* option 50, with DHCP_HAS_REQ_IP */
	struct mac chaddr;   /* the client's MAC as the message says */
	uint16_t max_size;   /* option 57, with DHCP_HAS_MAX_SIZE */
	uint8_t fqdn_rcode1; /* option 81 */
	uint8_t fqdn_rcode2; /* option 81 */

	/* IPv6 only */
	uint8_t ip6_src[16];
	uint32_t vendor_enterprise; /* option 16 */

	uint8_t fqdn_flags; /* v4 option 81 / v6 option 39: the flags byte */
	char hostname[DHCP_NAME_MAX];
	char fqdn[DHCP_NAME_MAX]; /* dotted, no trailing dot, sanitized */
	char vendor[DHCP_VENDOR_MAX];

	/* v4 option 55 (codes 0..255) or v6 option 6 (16-bit codes), in order */
	uint16_t prl[DHCP_PRL_MAX];
	uint16_t prl_len;

	/*
	 * Client identifier. v4 option 61: clid_type is its type byte, clid the
	 * bytes after it. v6 option 1: clid_type is the DUID type, clid the
	 * DUID after its 2-byte type. clid_len counts the bytes kept.
	 */
	uint16_t clid_type;
	uint8_t clid[DHCP_CLID_MAX];
	uint16_t clid_len;
	/*
	 * The MAC inside the client identifier, with DHCP_HAS_CLID_MAC: v4 type 1
	 * with 6 bytes; a DUID-LL or DUID-LLT of hardware type 1 (v6 option 1,
	 * or v4 type 255 after the 4-byte IAID).
	 */
	struct mac clid_mac;
};

/*
 * Why a frame was refused. Only DR_OK leaves *out filled; after any other
 * reason *out is unspecified.
 */
enum dhcp_reason {
	DR_OK = 0,
	DR_TRUNCATED,	     /* shorter than its headers or its own lengths */
	DR_NOT_IP,	     /* ethertype (after one tag) neither IPv4 nor IPv6 */
	DR_BAD_IP_HEADER,    /* IPv4 version/IHL, IPv6 version */
	DR_IP_FRAGMENT,	     /* IPv4 fragment (MF set or offset != 0) */
	DR_IP6_EXT_HEADER,   /* IPv6 extension header before UDP (not parsed) */
	DR_NOT_UDP,	     /* IP protocol / next header is not UDP */
	DR_BAD_UDP_LENGTH,   /* UDP length != IP payload length */
	DR_WRONG_PORTS,	     /* not 68 -> 67 (IPv4) or 546 -> 547 (IPv6) */
	DR_V4_BAD_OP,	     /* BOOTP op != 1 (BOOTREQUEST) */
	DR_V4_BAD_HTYPE,     /* htype != 1 or hlen != 6 */
	DR_V4_BAD_COOKIE,    /* no DHCP magic cookie 99.130.83.99 */
	DR_V4_BAD_MSG_TYPE,  /* option 53 not a client message */
	DR_V4_BAD_OVERLOAD,  /* option 52 value not 1..3 */
	DR_V4_OVERLOAD_LOOP, /* option 52 inside the file or sname field */
	DR_OPT_OVERRUN,	     /* an option's length runs past its area */
	DR_OPT_BAD_LEN,	     /* an option's length wrong for its kind */
	DR_BAD_FQDN,	     /* FQDN option: bad label or name encoding */
	DR_V6_RELAY,	     /* Relay-forward / Relay-reply: not parsed */
	DR_V6_BAD_MSG_TYPE,  /* not a client message type */
	DR_V6_DUP_OPTION,    /* a decoded option appears twice */
	DR__COUNT
};

/* Stable lower_snake name of a reason ("truncated", "v4_bad_cookie", ...). */
const char *dhcp_reason_name(enum dhcp_reason r);

/* Parse len bytes at buf (starting with the Ethernet destination). */
enum dhcp_reason dhcpsnoop_parse(const uint8_t *buf, size_t len, struct dhcp_info *out);

/*
 * Write the codes of a request list (v4 option 55 or v6 ORO) as the
 * conventional fingerprint, decimal and comma separated ("1,3,6,15"), into
 * buf (cap bytes, NUL terminated when cap > 0; a code is never cut).
 * Returns the length of the whole string, as snprintf does: a result >= cap
 * means it was truncated. DHCP_PRL_STRLEN is always enough.
 */
size_t dhcp_prl_fmt(const uint16_t *codes, size_t n, char *buf, size_t cap);

#endif
