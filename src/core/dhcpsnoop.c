/*
 * dhcpsnoop: Ethernet (+ one 802.1Q tag) / IPv4 or IPv6 / UDP / DHCP client
 * messages, read into a struct dhcp_info.
 *
 * DHCPv4 (BOOTP) layout after the UDP header:
 *
 *   0 op 1 htype 2 hlen 3 hops 4 xid(4) 8 secs(2) 10 flags(2)
 *   12 ciaddr 16 yiaddr 20 siaddr 24 giaddr 28 chaddr(16)
 *   44 sname(64) 108 file(128) 236 magic cookie(4) 240 options
 *
 * Options are code, length, data, except pad (0) and end (255). An option
 * that appears more than once is the concatenation of its parts (RFC 3396),
 * taken from the options field, then file, then sname when option 52 says
 * those fields hold options too.
 *
 * DHCPv6 after the UDP header: msg-type(1) transaction-id(3), then options
 * of code(2) length(2) data.
 *
 * Multi-byte fields are read with explicit shifts: no alignment, no host
 * byte order.
 */
#include "dhcpsnoop.h"

#include "be.h"

#include <string.h>

#define ETH_HLEN_	  14
#define VLAN_HLEN_	  4
#define ETHERTYPE_IP4_	  0x0800
#define ETHERTYPE_IP6_	  0x86dd
#define VLAN_TPID	  0x8100
#define IP4_MIN_HLEN	  20
#define IP6_HLEN	  40
#define IPPROTO_UDP_	  17
#define UDP_HLEN	  8
#define BOOTP_FIXED_LEN	  236
#define DHCP4_OPTS_OFF	  240
#define DHCP4_COOKIE	  0x63825363u
#define DHCP4_SNAME_OFF	  44
#define DHCP4_SNAME_LEN	  64
#define DHCP4_FILE_OFF	  108
#define DHCP4_FILE_LEN	  128
#define DHCP6_HLEN	  4
#define FQDN_FLAG_E	  0x04
#define SCRATCH_LEN	  1024 /* concatenated option data kept; more is cut */
#define DNS_NAME_MAX_WIRE 255

/* DHCPv4 option codes */
enum {
	O4_PAD = 0,
	O4_HOSTNAME = 12,
	O4_REQ_IP = 50,
	O4_OVERLOAD = 52,
	O4_MSG_TYPE = 53,
	O4_PRL = 55,
	O4_MAX_SIZE = 57,
	O4_VENDOR = 60,
	O4_CLID = 61,
	O4_FQDN = 81,
	O4_END = 255,
};

/* DHCPv6 option codes */
enum {
	O6_CLIENTID = 1,
	O6_ORO = 6,
	O6_VENDOR_CLASS = 16,
	O6_FQDN = 39,
};

static const char *const reason_names[DR__COUNT] = {
    [DR_OK] = "ok",
    [DR_TRUNCATED] = "truncated",
    [DR_NOT_IP] = "not_ip",
    [DR_BAD_IP_HEADER] = "bad_ip_header",
    [DR_IP_FRAGMENT] = "ip_fragment",
    [DR_IP6_EXT_HEADER] = "ip6_ext_header",
    [DR_NOT_UDP] = "not_udp",
    [DR_BAD_UDP_LENGTH] = "bad_udp_length",
    [DR_WRONG_PORTS] = "wrong_ports",
    [DR_V4_BAD_OP] = "v4_bad_op",
    [DR_V4_BAD_HTYPE] = "v4_bad_htype",
    [DR_V4_BAD_COOKIE] = "v4_bad_cookie",
    [DR_V4_BAD_MSG_TYPE] = "v4_bad_msg_type",
    [DR_V4_BAD_OVERLOAD] = "v4_bad_overload",
    [DR_V4_OVERLOAD_LOOP] = "v4_overload_loop",
    [DR_OPT_OVERRUN] = "opt_overrun",
    [DR_OPT_BAD_LEN] = "opt_bad_len",
    [DR_BAD_FQDN] = "bad_fqdn",
    [DR_V6_RELAY] = "v6_relay",
    [DR_V6_BAD_MSG_TYPE] = "v6_bad_msg_type",
    [DR_V6_DUP_OPTION] = "v6_dup_option",
};

const char *dhcp_reason_name(enum dhcp_reason r)
{
	if ((unsigned)r >= DR__COUNT || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

/* ---- sanitized strings ---- */

/* A string being written into a fixed buffer; once full it takes nothing. */
struct sbuf {
	char *b;
	size_t cap; /* > 0 */
	size_t len;
	bool esc;
	bool trunc;
};

static void sb_init(struct sbuf *s, char *b, size_t cap)
{
	s->b = b;
	s->cap = cap;
	s->len = 0;
	s->esc = false;
	s->trunc = false;
	b[0] = '\0';
}

/* Append byte c, escaped unless printable; '.' too when esc_dot. */
static void sb_put(struct sbuf *s, uint8_t c, bool esc_dot)
{
	static const char hex[] = "0123456789abcdef";
	bool plain = c >= 0x20 && c <= 0x7e && c != '\\' && !(esc_dot && c == '.');
	size_t need = plain ? 1 : 4;

	if (s->trunc)
		return;
	if (s->len + need + 1 > s->cap) {
		s->trunc = true;
		return;
	}
	if (plain) {
		s->b[s->len++] = (char)c;
	} else {
		s->b[s->len++] = '\\';
		s->b[s->len++] = 'x';
		s->b[s->len++] = hex[c >> 4];
		s->b[s->len++] = hex[c & 0xf];
		s->esc = true;
	}
	s->b[s->len] = '\0';
}

/* Length of d without its trailing NUL bytes. */
static size_t strip_nul(const uint8_t *d, size_t n)
{
	while (n > 0 && d[n - 1] == 0)
		n--;
	return n;
}

/* Sanitize n bytes of text into dst; sets the warn bits given. */
static void put_text(char *dst, size_t cap, const uint8_t *d, size_t n, uint32_t *warn,
		     uint32_t w_esc, uint32_t w_trunc)
{
	struct sbuf s;

	sb_init(&s, dst, cap);
	n = strip_nul(d, n);
	for (size_t i = 0; i < n; i++)
		sb_put(&s, d[i], false);
	if (s.esc)
		*warn |= w_esc;
	if (s.trunc)
		*warn |= w_trunc;
}

/*
 * A DNS name in wire form (RFC 1035 labels, no compression as RFC 4702 and
 * RFC 4704 require), complete (ends with the root label) or partial (not).
 * Written dotted, without the trailing dot, a '.' inside a label escaped.
 */
static enum dhcp_reason put_wire_name(char *dst, size_t cap, const uint8_t *d, size_t n,
				      uint32_t *warn, uint32_t w_esc, uint32_t w_trunc)
{
	struct sbuf s;
	size_t i = 0;

	if (n > DNS_NAME_MAX_WIRE)
		return DR_BAD_FQDN;
	sb_init(&s, dst, cap);
	while (i < n) {
		size_t l = d[i];
		if (l == 0) {
			if (i + 1 != n)
				return DR_BAD_FQDN; /* bytes after the root label */
			break;
		}
		if (l > 63 || l > n - i - 1)
			return DR_BAD_FQDN; /* a pointer, or past the option */
		if (i > 0)
			sb_put(&s, '.', false);
		for (size_t k = 0; k < l; k++)
			sb_put(&s, d[i + 1 + k], true);
		i += 1 + l;
	}
	if (s.esc)
		*warn |= w_esc;
	if (s.trunc)
		*warn |= w_trunc;
	return DR_OK;
}

/*
 * A MAC inside a DUID: DUID-LLT (type, hw type, time, address) or DUID-LL
 * (type, hw type, address) of hardware type 1 with a 6-byte address.
 */
static bool duid_mac(const uint8_t *d, size_t n, struct mac *out)
{
	size_t off;

	if (n < 4 || get16(d + 2) != 1)
		return false;
	switch (get16(d)) {
	case DUID_LLT:
		off = 8;
		break;
	case DUID_LL:
		off = 4;
		break;
	default:
		return false;
	}
	if (n != off + MAC_LEN)
		return false;
	memcpy(out->a, d + off, MAC_LEN);
	return true;
}

/* Keep up to DHCP_CLID_MAX bytes of a client identifier. */
static void put_clid(struct dhcp_info *out, const uint8_t *d, size_t n)
{
	size_t k = n < DHCP_CLID_MAX ? n : DHCP_CLID_MAX;

	memcpy(out->clid, d, k);
	out->clid_len = (uint16_t)k;
	if (k < n)
		out->warn |= DHCP_W_CLID_TRUNC;
	out->has |= DHCP_HAS_CLID;
}

static void put_code(struct dhcp_info *out, uint16_t code)
{
	if (out->prl_len < DHCP_PRL_MAX)
		out->prl[out->prl_len++] = code;
	else
		out->warn |= DHCP_W_PRL_TRUNC;
}

/* ---- DHCPv4 ---- */

struct area {
	const uint8_t *p;
	size_t n;
};

/*
 * Check the options of one area: every length inside it; option 52 only
 * where allowed (the options field) and once. Stops at the end option; an
 * area that ends without one is accepted (the length is the end).
 */
static enum dhcp_reason walk4(const struct area *a, bool main_field, int *overload)
{
	size_t i = 0;

	while (i < a->n) {
		uint8_t c = a->p[i];
		if (c == O4_PAD) {
			i++;
			continue;
		}
		if (c == O4_END)
			break;
		if (a->n - i < 2)
			return DR_OPT_OVERRUN;
		size_t l = a->p[i + 1];
		if (l > a->n - i - 2)
			return DR_OPT_OVERRUN;
		if (c == O4_OVERLOAD) {
			if (!main_field || *overload != 0)
				return DR_V4_OVERLOAD_LOOP;
			if (l != 1)
				return DR_OPT_BAD_LEN;
			uint8_t v = a->p[i + 2];
			if (v < 1 || v > 3)
				return DR_V4_BAD_OVERLOAD;
			*overload = v;
		}
		i += 2 + l;
	}
	return DR_OK;
}

/*
 * Concatenate every part of option code over the areas (already checked by
 * walk4) into buf (cap bytes). Returns whether the option is present; *len
 * is its whole length, which may exceed cap (then only cap bytes are kept).
 */
static bool gather4(const struct area *areas, int nareas, uint8_t code, uint8_t *buf, size_t cap,
		    size_t *len)
{
	bool found = false;

	*len = 0;
	for (int k = 0; k < nareas; k++) {
		const struct area *a = &areas[k];
		size_t i = 0;
		while (i < a->n) {
			uint8_t c = a->p[i];
			if (c == O4_PAD) {
				i++;
				continue;
			}
			if (c == O4_END)
				break;
			size_t l = a->p[i + 1];
			if (c == code) {
				found = true;
				if (*len < cap) {
					size_t k2 = cap - *len < l ? cap - *len : l;
					memcpy(buf + *len, a->p + i + 2, k2);
				}
				*len += l;
			}
			i += 2 + l;
		}
	}
	return found;
}

static bool v4_client_type(uint8_t t)
{
	return t == DHCP4_DISCOVER || t == DHCP4_REQUEST || t == DHCP4_DECLINE ||
	       t == DHCP4_RELEASE || t == DHCP4_INFORM;
}

static enum dhcp_reason parse_v4_options(const struct area *areas, int nareas,
					 struct dhcp_info *out)
{
	uint8_t d[SCRATCH_LEN];
	size_t n, k;
	enum dhcp_reason r;

	if (gather4(areas, nareas, O4_MSG_TYPE, d, sizeof(d), &n)) {
		if (n != 1)
			return DR_OPT_BAD_LEN;
		if (!v4_client_type(d[0]))
			return DR_V4_BAD_MSG_TYPE;
		out->msg_type = d[0];
	}
	if (gather4(areas, nareas, O4_REQ_IP, d, sizeof(d), &n)) {
		if (n != 4)
			return DR_OPT_BAD_LEN;
		out->req_ip = get32(d);
		out->has |= DHCP_HAS_REQ_IP;
	}
	if (gather4(areas, nareas, O4_MAX_SIZE, d, sizeof(d), &n)) {
		if (n != 2)
			return DR_OPT_BAD_LEN;
		out->max_size = get16(d);
		out->has |= DHCP_HAS_MAX_SIZE;
	}
	if (gather4(areas, nareas, O4_HOSTNAME, d, sizeof(d), &n)) {
		if (n < 1)
			return DR_OPT_BAD_LEN;
		k = n < sizeof(d) ? n : sizeof(d);
		put_text(out->hostname, sizeof(out->hostname), d, k, &out->warn,
			 DHCP_W_HOSTNAME_ESC, DHCP_W_HOSTNAME_TRUNC);
		if (k < n)
			out->warn |= DHCP_W_HOSTNAME_TRUNC;
		out->has |= DHCP_HAS_HOSTNAME;
	}
	if (gather4(areas, nareas, O4_VENDOR, d, sizeof(d), &n)) {
		if (n < 1)
			return DR_OPT_BAD_LEN;
		k = n < sizeof(d) ? n : sizeof(d);
		put_text(out->vendor, sizeof(out->vendor), d, k, &out->warn, DHCP_W_VENDOR_ESC,
			 DHCP_W_VENDOR_TRUNC);
		if (k < n)
			out->warn |= DHCP_W_VENDOR_TRUNC;
		out->has |= DHCP_HAS_VENDOR;
	}
	if (gather4(areas, nareas, O4_PRL, d, sizeof(d), &n)) {
		if (n < 1)
			return DR_OPT_BAD_LEN;
		k = n < sizeof(d) ? n : sizeof(d);
		for (size_t i = 0; i < k; i++)
			put_code(out, d[i]);
		if (k < n)
			out->warn |= DHCP_W_PRL_TRUNC;
		out->has |= DHCP_HAS_PRL;
	}
	if (gather4(areas, nareas, O4_CLID, d, sizeof(d), &n)) {
		if (n < 2)
			return DR_OPT_BAD_LEN;
		k = n < sizeof(d) ? n : sizeof(d);
		out->clid_type = d[0];
		put_clid(out, d + 1, k - 1);
		if (k < n)
			out->warn |= DHCP_W_CLID_TRUNC;
		if (d[0] == 1 && n == 1 + MAC_LEN) {
			memcpy(out->clid_mac.a, d + 1, MAC_LEN);
			out->has |= DHCP_HAS_CLID_MAC;
		} else if (d[0] == 255 && n == k && n > 5 &&
			   duid_mac(d + 5, n - 5, &out->clid_mac)) {
			/* RFC 4361: type 255, IAID (4), DUID */
			out->has |= DHCP_HAS_CLID_MAC;
		}
	}
	if (gather4(areas, nareas, O4_FQDN, d, sizeof(d), &n)) {
		if (n < 3)
			return DR_OPT_BAD_LEN;
		if (n > sizeof(d))
			return DR_BAD_FQDN; /* longer than any name */
		out->fqdn_flags = d[0];
		out->fqdn_rcode1 = d[1];
		out->fqdn_rcode2 = d[2];
		if (d[0] & FQDN_FLAG_E) {
			r = put_wire_name(out->fqdn, sizeof(out->fqdn), d + 3, n - 3, &out->warn,
					  DHCP_W_FQDN_ESC, DHCP_W_FQDN_TRUNC);
			if (r != DR_OK)
				return r;
		} else {
			/* deprecated ASCII form: a trailing dot is not part of the name */
			size_t m = strip_nul(d + 3, n - 3);
			if (m > 0 && d[3 + m - 1] == '.')
				m--;
			put_text(out->fqdn, sizeof(out->fqdn), d + 3, m, &out->warn,
				 DHCP_W_FQDN_ESC, DHCP_W_FQDN_TRUNC);
		}
		out->has |= DHCP_HAS_FQDN;
	}
	return DR_OK;
}

static enum dhcp_reason parse_v4(const uint8_t *p, size_t n, struct dhcp_info *out)
{
	struct area areas[3];
	int nareas = 1, overload = 0;
	enum dhcp_reason r;

	if (n < DHCP4_OPTS_OFF)
		return DR_TRUNCATED;
	if (p[0] != 1)
		return DR_V4_BAD_OP;
	if (p[1] != 1 || p[2] != MAC_LEN)
		return DR_V4_BAD_HTYPE;
	if (get32(p + BOOTP_FIXED_LEN) != DHCP4_COOKIE)
		return DR_V4_BAD_COOKIE;
	out->xid = get32(p + 4);
	out->ciaddr = get32(p + 12);
	memcpy(out->chaddr.a, p + 28, MAC_LEN);
	if (!mac_eq(&out->chaddr, &out->eth_src))
		out->warn |= DHCP_W_CHADDR_MISMATCH;

	areas[0].p = p + DHCP4_OPTS_OFF;
	areas[0].n = n - DHCP4_OPTS_OFF;
	r = walk4(&areas[0], true, &overload);
	if (r != DR_OK)
		return r;
	/* RFC 2131 4.1: file first, then sname */
	if (overload & 1) {
		areas[nareas].p = p + DHCP4_FILE_OFF;
		areas[nareas].n = DHCP4_FILE_LEN;
		r = walk4(&areas[nareas++], false, &overload);
		if (r != DR_OK)
			return r;
	}
	if (overload & 2) {
		areas[nareas].p = p + DHCP4_SNAME_OFF;
		areas[nareas].n = DHCP4_SNAME_LEN;
		r = walk4(&areas[nareas++], false, &overload);
		if (r != DR_OK)
			return r;
	}
	return parse_v4_options(areas, nareas, out);
}

/* ---- DHCPv6 ---- */

static bool v6_client_type(uint8_t t)
{
	switch (t) {
	case DHCP6_SOLICIT:
	case DHCP6_REQUEST:
	case DHCP6_CONFIRM:
	case DHCP6_RENEW:
	case DHCP6_REBIND:
	case DHCP6_RELEASE:
	case DHCP6_DECLINE:
	case DHCP6_INFO_REQUEST:
		return true;
	default:
		return false;
	}
}

/* Option 16: enterprise-number(4), then strings of length(2) + data. */
static enum dhcp_reason parse_v6_vendor(const uint8_t *d, size_t l, struct dhcp_info *out)
{
	size_t i = 4;
	int strings = 0;

	if (l < 4)
		return DR_OPT_BAD_LEN;
	out->vendor_enterprise = get32(d);
	while (i < l) {
		if (l - i < 2)
			return DR_OPT_BAD_LEN;
		size_t sl = get16(d + i);
		if (sl > l - i - 2)
			return DR_OPT_BAD_LEN;
		if (strings++ == 0)
			put_text(out->vendor, sizeof(out->vendor), d + i + 2, sl, &out->warn,
				 DHCP_W_VENDOR_ESC, DHCP_W_VENDOR_TRUNC);
		else
			out->warn |= DHCP_W_VENDOR_MORE;
		i += 2 + sl;
	}
	out->has |= DHCP_HAS_VENDOR;
	return DR_OK;
}

static enum dhcp_reason parse_v6(const uint8_t *p, size_t n, struct dhcp_info *out)
{
	size_t i = DHCP6_HLEN;
	unsigned seen = 0;
	enum dhcp_reason r;

	if (n < DHCP6_HLEN)
		return DR_TRUNCATED;
	if (p[0] == 12 || p[0] == 13)
		return DR_V6_RELAY;
	if (!v6_client_type(p[0]))
		return DR_V6_BAD_MSG_TYPE;
	out->msg_type = p[0];
	out->xid = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

	while (i < n) {
		if (n - i < 4)
			return DR_OPT_OVERRUN;
		uint16_t code = get16(p + i);
		size_t l = get16(p + i + 2);
		const uint8_t *d = p + i + 4;
		unsigned bit;
		if (l > n - i - 4)
			return DR_OPT_OVERRUN;
		i += 4 + l;
		switch (code) {
		case O6_CLIENTID:
			bit = 1;
			break;
		case O6_ORO:
			bit = 2;
			break;
		case O6_VENDOR_CLASS:
			bit = 4;
			break;
		case O6_FQDN:
			bit = 8;
			break;
		default:
			continue; /* elapsed time, IA_NA, ...: not needed */
		}
		if (seen & bit)
			return DR_V6_DUP_OPTION;
		seen |= bit;
		switch (code) {
		case O6_CLIENTID:
			if (l < 2)
				return DR_OPT_BAD_LEN;
			out->clid_type = get16(d);
			put_clid(out, d + 2, l - 2);
			if (duid_mac(d, l, &out->clid_mac))
				out->has |= DHCP_HAS_CLID_MAC;
			break;
		case O6_ORO:
			if (l % 2 != 0)
				return DR_OPT_BAD_LEN;
			for (size_t k = 0; k < l; k += 2)
				put_code(out, get16(d + k));
			out->has |= DHCP_HAS_PRL;
			break;
		case O6_VENDOR_CLASS:
			r = parse_v6_vendor(d, l, out);
			if (r != DR_OK)
				return r;
			break;
		case O6_FQDN:
			if (l < 1)
				return DR_OPT_BAD_LEN;
			out->fqdn_flags = d[0];
			r = put_wire_name(out->fqdn, sizeof(out->fqdn), d + 1, l - 1, &out->warn,
					  DHCP_W_FQDN_ESC, DHCP_W_FQDN_TRUNC);
			if (r != DR_OK)
				return r;
			out->has |= DHCP_HAS_FQDN;
			break;
		}
	}
	return DR_OK;
}

/* ---- IP and UDP ---- */

/* The UDP header of exactly n bytes (the IP payload): ports, then length. */
static enum dhcp_reason parse_udp(const uint8_t *p, size_t n, uint16_t sport, uint16_t dport)
{
	if (n < UDP_HLEN)
		return DR_TRUNCATED;
	if (get16(p) != sport || get16(p + 2) != dport)
		return DR_WRONG_PORTS;
	if (get16(p + 4) != n)
		return DR_BAD_UDP_LENGTH;
	return DR_OK;
}

static enum dhcp_reason parse_ip4(const uint8_t *p, size_t n, struct dhcp_info *out)
{
	size_t ihl, tot;
	uint16_t frag;
	enum dhcp_reason r;

	if (n < IP4_MIN_HLEN)
		return DR_TRUNCATED;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (p[0] >> 4 != 4 || ihl < IP4_MIN_HLEN)
		return DR_BAD_IP_HEADER;
	tot = get16(p + 2);
	if (tot < ihl)
		return DR_BAD_IP_HEADER;
	if (tot > n)
		return DR_TRUNCATED;
	frag = get16(p + 6);
	if (frag & 0x3fff) /* MF or an offset; DF (0x4000) is fine */
		return DR_IP_FRAGMENT;
	if (p[9] != IPPROTO_UDP_)
		return DR_NOT_UDP;
	out->family = 4;
	out->ip_src = get32(p + 12);
	r = parse_udp(p + ihl, tot - ihl, DHCP_PORT_V4_CLIENT, DHCP_PORT_V4_SERVER);
	if (r != DR_OK)
		return r;
	return parse_v4(p + ihl + UDP_HLEN, tot - ihl - UDP_HLEN, out);
}

/* Next-header values of the IPv6 extension headers (RFC 7045, 8200). */
static bool ip6_ext(uint8_t nh)
{
	switch (nh) {
	case 0:	  /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experiments */
	case 254:
		return true;
	default:
		return false;
	}
}

static enum dhcp_reason parse_ip6(const uint8_t *p, size_t n, struct dhcp_info *out)
{
	size_t plen;
	enum dhcp_reason r;

	if (n < IP6_HLEN)
		return DR_TRUNCATED;
	if (p[0] >> 4 != 6)
		return DR_BAD_IP_HEADER;
	plen = get16(p + 4);
	if (plen > n - IP6_HLEN)
		return DR_TRUNCATED;
	if (p[6] != IPPROTO_UDP_)
		return ip6_ext(p[6]) ? DR_IP6_EXT_HEADER : DR_NOT_UDP;
	out->family = 6;
	memcpy(out->ip6_src, p + 8, 16);
	r = parse_udp(p + IP6_HLEN, plen, DHCP_PORT_V6_CLIENT, DHCP_PORT_V6_SERVER);
	if (r != DR_OK)
		return r;
	return parse_v6(p + IP6_HLEN + UDP_HLEN, plen - UDP_HLEN, out);
}

enum dhcp_reason dhcpsnoop_parse(const uint8_t *buf, size_t len, struct dhcp_info *out)
{
	size_t off = ETH_HLEN_;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (len < ETH_HLEN_)
		return DR_TRUNCATED;
	memcpy(out->eth_dst.a, buf, MAC_LEN);
	memcpy(out->eth_src.a, buf + 6, MAC_LEN);
	type = get16(buf + 12);
	if (type == VLAN_TPID) {
		if (len < ETH_HLEN_ + VLAN_HLEN_)
			return DR_TRUNCATED;
		out->vlan = get16(buf + 14) & 0x0fff;
		type = get16(buf + 16);
		off += VLAN_HLEN_;
	}
	if (type == ETHERTYPE_IP4_)
		return parse_ip4(buf + off, len - off, out);
	if (type == ETHERTYPE_IP6_)
		return parse_ip6(buf + off, len - off, out);
	return DR_NOT_IP;
}

size_t dhcp_prl_fmt(const uint16_t *codes, size_t n, char *buf, size_t cap)
{
	size_t total = 0, written = 0;
	bool full = false;

	for (size_t i = 0; i < n; i++) {
		char tmp[8];
		size_t t = 0;
		unsigned v = codes[i];
		char digits[5];
		size_t nd = 0;
		if (i > 0)
			tmp[t++] = ',';
		do {
			digits[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		while (nd > 0)
			tmp[t++] = digits[--nd];
		if (!full && written + t < cap) {
			memcpy(buf + written, tmp, t);
			written += t;
		} else {
			full = true;
		}
		total += t;
	}
	if (cap > 0)
		buf[written] = '\0';
	return total;
}
