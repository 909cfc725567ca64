/*
 * Unit tests for core/dhcpsnoop: DHCPv4 and DHCPv6 client messages in
 * Ethernet frames, built here field by field as the clients send them.
 *
 * With DHCPSNOOP_CORPUS set to a directory, the good frames are also
 * written there (the seeds of tests/fuzz/corpus/dhcpsnoop/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/be.h"
#include "core/dhcpsnoop.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct mac WIN_MAC = {{0x3c, 0x52, 0x82, 0x1a, 0x2b, 0x3c}};
static const struct mac MAC_MAC = {{0xf0, 0x18, 0x98, 0x4e, 0x11, 0x22}};
static const struct mac DROID_MAC = {{0x9a, 0x3f, 0x51, 0x07, 0xc4, 0xe2}}; /* randomized */
static const struct mac DEB_MAC = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
static const struct mac PRN_MAC = {{0x00, 0x1e, 0x0b, 0xa1, 0xb2, 0xc3}};

static const uint8_t WIN_PRL[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
static const uint8_t MAC_PRL[] = {1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46};
static const uint8_t DROID_PRL[] = {1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108};
static const uint8_t DEB_PRL[] = {1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42};
static const uint8_t PRN_PRL[] = {1, 3, 6, 15, 44, 12, 81, 69, 7};

/* ---- builders ---- */

struct opts {
	uint8_t b[1500];
	size_t n;
};

static void opt(struct opts *o, uint8_t code, const void *d, size_t l)
{
	assert_true(o->n + 2 + l <= sizeof(o->b));
	o->b[o->n++] = code;
	o->b[o->n++] = (uint8_t)l;
	memcpy(o->b + o->n, d, l);
	o->n += l;
}

static void opt_str(struct opts *o, uint8_t code, const char *s)
{
	opt(o, code, s, strlen(s));
}

static void opt_u8(struct opts *o, uint8_t code, uint8_t v)
{
	opt(o, code, &v, 1);
}

static void opt_u16(struct opts *o, uint8_t code, uint16_t v)
{
	uint8_t d[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	opt(o, code, d, 2);
}

static void opt_ip(struct opts *o, uint8_t code, uint32_t ip)
{
	uint8_t d[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip};
	opt(o, code, d, 4);
}

static void opt_clid_mac(struct opts *o, const struct mac *m)
{
	uint8_t d[7] = {1};
	memcpy(d + 1, m->a, MAC_LEN);
	opt(o, 61, d, sizeof(d));
}

static void raw(struct opts *o, const void *d, size_t l)
{
	assert_true(o->n + l <= sizeof(o->b));
	memcpy(o->b + o->n, d, l);
	o->n += l;
}

static void raw_u8(struct opts *o, uint8_t v)
{
	raw(o, &v, 1);
}

static void raw_u16(struct opts *o, uint16_t v)
{
	uint8_t d[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	raw(o, d, 2);
}

static void raw_u32(struct opts *o, uint32_t v)
{
	uint8_t d[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	raw(o, d, 4);
}

/* "a.b.c" as DNS wire labels; with root, the terminating zero label. */
static void raw_name(struct opts *o, const char *name, bool root)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		raw_u8(o, (uint8_t)l);
		raw(o, name, l);
		name += l + (dot ? 1 : 0);
	}
	if (root)
		raw_u8(o, 0);
}

/* One DHCPv4 client message and everything below it. */
struct v4 {
	struct mac src;
	struct mac chaddr;
	uint16_t vlan;
	uint8_t op, htype, hlen;
	uint32_t cookie, xid, ciaddr, ip_src, ip_dst;
	uint16_t sport, dport, frag;
	uint8_t proto;
	int ip_opt_words; /* IP options (NOPs), 4 bytes each */
	int udp_delta;	  /* added to the UDP length field */
	int ip_delta;	  /* added to the IP total length field */
	uint8_t sname[64], file[128];
	struct opts o;
	bool no_end; /* do not append option 255 */
	size_t pad;  /* trailing Ethernet padding */
};

static void v4_init(struct v4 *v, const struct mac *src, uint8_t msg_type)
{
	memset(v, 0, sizeof(*v));
	v->src = *src;
	v->chaddr = *src;
	v->op = 1;
	v->htype = 1;
	v->hlen = 6;
	v->cookie = 0x63825363u;
	v->xid = 0x5e1f0a77;
	v->ip_dst = 0xffffffffu;
	v->sport = 68;
	v->dport = 67;
	v->proto = 17;
	if (msg_type)
		opt_u8(&v->o, 53, msg_type);
}

static uint8_t *eth(uint8_t *p, const struct mac *dst, const struct mac *src, uint16_t vlan,
		    uint16_t type)
{
	memcpy(p, dst->a, MAC_LEN);
	memcpy(p + 6, src->a, MAC_LEN);
	p += 12;
	if (vlan) {
		put16(p, 0x8100);
		put16(p + 2, vlan);
		p += 4;
	}
	put16(p, type);
	return p + 2;
}

static size_t v4_build(const struct v4 *v, uint8_t *buf, size_t cap)
{
	static const struct mac bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	size_t ihl = 20 + 4 * (size_t)v->ip_opt_words;
	size_t dhcp = 240 + v->o.n + (v->no_end ? 0 : 1);
	size_t udp = 8 + dhcp;
	size_t tot = ihl + udp;
	uint8_t *p = buf;

	assert_true(18 + tot + v->pad <= cap);
	memset(buf, 0, cap);
	p = eth(p, &bcast, &v->src, v->vlan, 0x0800);
	uint8_t *ip = p;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)((int)tot + v->ip_delta));
	put16(ip + 6, v->frag);
	ip[8] = 64;
	ip[9] = v->proto;
	put32(ip + 12, v->ip_src);
	put32(ip + 16, v->ip_dst);
	memset(ip + 20, 1, ihl - 20); /* NOP options */
	uint8_t *u = ip + ihl;
	put16(u, v->sport);
	put16(u + 2, v->dport);
	put16(u + 4, (uint16_t)((int)udp + v->udp_delta));
	uint8_t *d = u + 8;
	d[0] = v->op;
	d[1] = v->htype;
	d[2] = v->hlen;
	put32(d + 4, v->xid);
	put32(d + 12, v->ciaddr);
	memcpy(d + 28, v->chaddr.a, MAC_LEN);
	memcpy(d + 44, v->sname, 64);
	memcpy(d + 108, v->file, 128);
	put32(d + 236, v->cookie);
	memcpy(d + 240, v->o.b, v->o.n);
	if (!v->no_end)
		d[240 + v->o.n] = 255;
	return (size_t)(d + dhcp - buf) + v->pad;
}

/* One DHCPv6 client message and everything below it. */
struct v6 {
	struct mac src;
	uint16_t vlan;
	uint8_t msg_type;
	uint32_t xid;
	uint8_t next;
	uint16_t sport, dport;
	int udp_delta;
	int plen_delta;
	struct opts o;
};

static void v6_init(struct v6 *v, const struct mac *src, uint8_t msg_type)
{
	memset(v, 0, sizeof(*v));
	v->src = *src;
	v->msg_type = msg_type;
	v->xid = 0x8a3c21;
	v->next = 17;
	v->sport = 546;
	v->dport = 547;
}

static size_t v6_build(const struct v6 *v, uint8_t *buf, size_t cap)
{
	static const struct mac mcast = {{0x33, 0x33, 0x00, 0x01, 0x00, 0x02}};
	size_t udp = 8 + 4 + v->o.n;
	uint8_t *p = buf;

	assert_true(18 + 40 + udp <= cap);
	memset(buf, 0, cap);
	p = eth(p, &mcast, &v->src, v->vlan, 0x86dd);
	uint8_t *ip = p;
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)((int)udp + v->plen_delta));
	ip[6] = v->next;
	ip[7] = 1;
	/* fe80::<EUI-64 of src> */
	ip[8] = 0xfe;
	ip[9] = 0x80;
	ip[16] = (uint8_t)(v->src.a[0] ^ 0x02);
	ip[17] = v->src.a[1];
	ip[18] = v->src.a[2];
	ip[19] = 0xff;
	ip[20] = 0xfe;
	ip[21] = v->src.a[3];
	ip[22] = v->src.a[4];
	ip[23] = v->src.a[5];
	/* ff02::1:2 */
	ip[24] = 0xff;
	ip[25] = 0x02;
	ip[38] = 0x00;
	ip[37] = 0x01;
	ip[39] = 0x02;
	uint8_t *u = ip + 40;
	put16(u, v->sport);
	put16(u + 2, v->dport);
	put16(u + 4, (uint16_t)((int)udp + v->udp_delta));
	uint8_t *d = u + 8;
	d[0] = v->msg_type;
	d[1] = (uint8_t)(v->xid >> 16);
	d[2] = (uint8_t)(v->xid >> 8);
	d[3] = (uint8_t)v->xid;
	memcpy(d + 4, v->o.b, v->o.n);
	return (size_t)(d + 4 + v->o.n - buf);
}

static void opt6(struct opts *o, uint16_t code, const void *d, size_t l)
{
	raw_u16(o, code);
	raw_u16(o, (uint16_t)l);
	raw(o, d, l);
}

/* ---- the clients ---- */

static void windows10_discover(struct v4 *v)
{
	v4_init(v, &WIN_MAC, 1);
	opt_clid_mac(&v->o, &WIN_MAC);
	opt_ip(&v->o, 50, IP(192, 168, 1, 23));
	opt_str(&v->o, 12, "DESKTOP-4F2K9QL");
	opt_str(&v->o, 60, "MSFT 5.0");
	opt(&v->o, 55, WIN_PRL, sizeof(WIN_PRL));
}

/* Windows' REQUEST carries its FQDN in the ASCII form (E clear). */
static void windows10_request(struct v4 *v)
{
	v4_init(v, &WIN_MAC, 3);
	opt_clid_mac(&v->o, &WIN_MAC);
	opt_ip(&v->o, 50, IP(192, 168, 1, 23));
	opt_ip(&v->o, 54, IP(192, 168, 1, 1));
	opt_str(&v->o, 12, "DESKTOP-4F2K9QL");
	uint8_t f[3 + 28] = {0x00, 0, 0};
	memcpy(f + 3, "DESKTOP-4F2K9QL.corp.example", 28);
	opt(&v->o, 81, f, sizeof(f));
	opt_str(&v->o, 60, "MSFT 5.0");
	opt(&v->o, 55, WIN_PRL, sizeof(WIN_PRL));
}

static void macos_request(struct v4 *v)
{
	v4_init(v, &MAC_MAC, 3);
	opt(&v->o, 55, MAC_PRL, sizeof(MAC_PRL));
	opt_u16(&v->o, 57, 1500);
	opt_clid_mac(&v->o, &MAC_MAC);
	opt_ip(&v->o, 50, IP(10, 0, 0, 57));
	uint8_t lease[4] = {0x00, 0x76, 0xa7, 0x00};
	opt(&v->o, 51, lease, 4);
	opt_str(&v->o, 12, "Annas-MacBook-Pro");
	/* macOS pads its options to a 300-byte BOOTP message */
	for (int i = 0; i < 8; i++)
		raw_u8(&v->o, 0);
}

static void android_discover(struct v4 *v)
{
	v4_init(v, &DROID_MAC, 1);
	opt_clid_mac(&v->o, &DROID_MAC);
	opt_u16(&v->o, 57, 1500);
	opt_str(&v->o, 60, "android-dhcp-13");
	opt_str(&v->o, 12, "Pixel-7");
	opt(&v->o, 55, DROID_PRL, sizeof(DROID_PRL));
}

/* dhclient renewing: unicast from its address, ciaddr set, no option 50. */
static void dhclient_renew(struct v4 *v)
{
	v4_init(v, &DEB_MAC, 3);
	v->ciaddr = IP(10, 20, 0, 15);
	v->ip_src = IP(10, 20, 0, 15);
	v->ip_dst = IP(10, 20, 0, 1);
	opt_str(&v->o, 12, "debian");
	opt(&v->o, 55, DEB_PRL, sizeof(DEB_PRL));
}

/* A printer: FQDN in wire form (E set, S set), a long vendor class. */
static void printer_discover(struct v4 *v)
{
	v4_init(v, &PRN_MAC, 1);
	opt_str(&v->o, 12, "NPIA1B2C3");
	opt_str(&v->o, 60, "Hewlett-Packard JetDirect");
	struct opts f = {0};
	raw_u8(&f, 0x05);
	raw_u8(&f, 255);
	raw_u8(&f, 255);
	raw_name(&f, "npia1b2c3.office.example", true);
	opt(&v->o, 81, f.b, f.n);
	opt(&v->o, 55, PRN_PRL, sizeof(PRN_PRL));
	opt_u16(&v->o, 57, 590);
}

static const uint16_t WIN6_ORO[] = {17, 23, 24, 39};

static void windows10_solicit(struct v6 *v)
{
	v6_init(v, &WIN_MAC, 1);
	struct opts d = {0};
	raw_u16(&d, 1); /* DUID-LLT */
	raw_u16(&d, 1); /* Ethernet */
	raw_u32(&d, 0x2a3b4c5d);
	raw(&d, WIN_MAC.a, MAC_LEN);
	opt6(&v->o, 1, d.b, d.n);
	uint8_t elapsed[2] = {0, 0};
	opt6(&v->o, 8, elapsed, 2);
	uint8_t ia_na[12] = {0x0e, 0x3c, 0x52, 0x82};
	opt6(&v->o, 3, ia_na, sizeof(ia_na));
	struct opts f = {0};
	raw_u8(&f, 0x00);
	raw_name(&f, "DESKTOP-4F2K9QL.corp.example", true);
	opt6(&v->o, 39, f.b, f.n);
	struct opts vc = {0};
	raw_u32(&vc, 311);
	raw_u16(&vc, 8);
	raw(&vc, "MSFT 5.0", 8);
	opt6(&v->o, 16, vc.b, vc.n);
	struct opts oro = {0};
	for (size_t i = 0; i < sizeof(WIN6_ORO) / sizeof(WIN6_ORO[0]); i++)
		raw_u16(&oro, WIN6_ORO[i]);
	opt6(&v->o, 6, oro.b, oro.n);
}

/* ---- helpers ---- */

static uint8_t frame[2048];

static size_t build4(const struct v4 *v)
{
	return v4_build(v, frame, sizeof(frame));
}

static size_t build6(const struct v6 *v)
{
	return v6_build(v, frame, sizeof(frame));
}

/* Parse a copy of exactly n bytes, so ASan sees any read past the end. */
static enum dhcp_reason parse_exact(const uint8_t *b, size_t n, struct dhcp_info *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, b, n);
	enum dhcp_reason r = dhcpsnoop_parse(copy, n, out);
	free(copy);
	assert_true((unsigned)r < DR__COUNT);
	return r;
}

static void save(const char *name, const uint8_t *b, size_t n)
{
	const char *dir = getenv("DHCPSNOOP_CORPUS");
	char path[512];
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static void assert_prl(const struct dhcp_info *di, const uint8_t *codes, size_t n)
{
	assert_true(di->has & DHCP_HAS_PRL);
	assert_int_equal(di->prl_len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(di->prl[i], codes[i]);
}

static struct dhcp_info di;

/* ---- good packets ---- */

static void test_windows10_discover(void **state)
{
	(void)state;
	struct v4 v;
	char fp[DHCP_PRL_STRLEN];
	windows10_discover(&v);
	size_t n = build4(&v);
	save("win10_discover", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.family, 4);
	assert_int_equal(di.vlan, 0);
	assert_int_equal(di.msg_type, DHCP4_DISCOVER);
	assert_int_equal(di.xid, 0x5e1f0a77);
	assert_true(mac_eq(&di.eth_src, &WIN_MAC));
	assert_true(mac_eq(&di.chaddr, &WIN_MAC));
	assert_int_equal(di.warn, 0);
	assert_int_equal(di.ip_src, 0);
	assert_int_equal(di.ciaddr, 0);
	assert_true(di.has & DHCP_HAS_REQ_IP);
	assert_int_equal(di.req_ip, IP(192, 168, 1, 23));
	assert_string_equal(di.hostname, "DESKTOP-4F2K9QL");
	assert_string_equal(di.vendor, "MSFT 5.0");
	assert_prl(&di, WIN_PRL, sizeof(WIN_PRL));
	assert_int_equal(dhcp_prl_fmt(di.prl, di.prl_len, fp, sizeof(fp)), 42);
	assert_string_equal(fp, "1,3,6,15,31,33,43,44,46,47,119,121,249,252");
	assert_true(di.has & DHCP_HAS_CLID);
	assert_int_equal(di.clid_type, 1);
	assert_int_equal(di.clid_len, 6);
	assert_memory_equal(di.clid, WIN_MAC.a, 6);
	assert_true(di.has & DHCP_HAS_CLID_MAC);
	assert_true(mac_eq(&di.clid_mac, &WIN_MAC));
	assert_false(di.has & (DHCP_HAS_FQDN | DHCP_HAS_MAX_SIZE));
}

static void test_windows10_request_fqdn_ascii(void **state)
{
	(void)state;
	struct v4 v;
	windows10_request(&v);
	size_t n = build4(&v);
	save("win10_request", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.msg_type, DHCP4_REQUEST);
	assert_true(di.has & DHCP_HAS_FQDN);
	assert_int_equal(di.fqdn_flags, 0);
	assert_int_equal(di.fqdn_rcode1, 0);
	assert_int_equal(di.fqdn_rcode2, 0);
	assert_string_equal(di.fqdn, "DESKTOP-4F2K9QL.corp.example");
	assert_int_equal(di.warn, 0);
}

static void test_macos_request(void **state)
{
	(void)state;
	struct v4 v;
	char fp[DHCP_PRL_STRLEN];
	macos_request(&v);
	v.pad = 4; /* some trailing bytes after the IP packet */
	size_t n = build4(&v);
	save("macos_request", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.msg_type, DHCP4_REQUEST);
	assert_string_equal(di.hostname, "Annas-MacBook-Pro");
	assert_true(di.has & DHCP_HAS_MAX_SIZE);
	assert_int_equal(di.max_size, 1500);
	assert_int_equal(di.req_ip, IP(10, 0, 0, 57));
	assert_false(di.has & DHCP_HAS_VENDOR);
	assert_prl(&di, MAC_PRL, sizeof(MAC_PRL));
	dhcp_prl_fmt(di.prl, di.prl_len, fp, sizeof(fp));
	assert_string_equal(fp, "1,121,3,6,15,108,114,119,252,95,44,46");
}

static void test_android(void **state)
{
	(void)state;
	struct v4 v;
	android_discover(&v);
	size_t n = build4(&v);
	save("android_discover", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_string_equal(di.vendor, "android-dhcp-13");
	assert_string_equal(di.hostname, "Pixel-7");
	assert_prl(&di, DROID_PRL, sizeof(DROID_PRL));
	assert_true(mac_eq(&di.clid_mac, &DROID_MAC));
	assert_true(mac_is_local(&di.chaddr));
}

static void test_dhclient_renew(void **state)
{
	(void)state;
	struct v4 v;
	dhclient_renew(&v);
	size_t n = build4(&v);
	save("dhclient_renew", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.ciaddr, IP(10, 20, 0, 15));
	assert_int_equal(di.ip_src, IP(10, 20, 0, 15));
	assert_false(di.has & (DHCP_HAS_REQ_IP | DHCP_HAS_CLID | DHCP_HAS_VENDOR));
	assert_string_equal(di.hostname, "debian");
	assert_prl(&di, DEB_PRL, sizeof(DEB_PRL));
}

static void test_printer_fqdn_wire(void **state)
{
	(void)state;
	struct v4 v;
	printer_discover(&v);
	size_t n = build4(&v);
	save("printer_discover", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_string_equal(di.vendor, "Hewlett-Packard JetDirect");
	assert_true(di.has & DHCP_HAS_FQDN);
	assert_int_equal(di.fqdn_flags, 0x05);
	assert_int_equal(di.fqdn_rcode1, 255);
	assert_int_equal(di.fqdn_rcode2, 255);
	assert_string_equal(di.fqdn, "npia1b2c3.office.example");
	assert_int_equal(di.max_size, 590);
	assert_false(di.has & DHCP_HAS_CLID);
}

/* FQDN variants: partial wire name, empty names, ASCII with trailing dot/NUL */
static void test_fqdn_forms(void **state)
{
	(void)state;
	struct v4 v;
	struct opts f;

	v4_init(&v, &WIN_MAC, 1);
	memset(&f, 0, sizeof(f));
	raw_u8(&f, 0x04);
	raw_u8(&f, 0);
	raw_u8(&f, 0);
	raw_name(&f, "host", false); /* partial: no root label */
	opt(&v.o, 81, f.b, f.n);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.fqdn, "host");

	v4_init(&v, &WIN_MAC, 1);
	uint8_t e[4] = {0x04, 0, 0, 0}; /* the root alone */
	opt(&v.o, 81, e, sizeof(e));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_true(di.has & DHCP_HAS_FQDN);
	assert_string_equal(di.fqdn, "");

	v4_init(&v, &WIN_MAC, 1);
	uint8_t a[3 + 7] = {0x01, 0, 0, 'a', '.', 'b', '.', 0, 0, 0};
	opt(&v.o, 81, a, sizeof(a));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.fqdn, "a.b");
	assert_int_equal(di.fqdn_flags, 0x01);

	/* a dot inside a wire label is escaped, not taken for a separator */
	v4_init(&v, &WIN_MAC, 1);
	uint8_t d[3 + 6] = {0x04, 0, 0, 3, 'a', '.', 'b', 1, 'c'};
	opt(&v.o, 81, d, sizeof(d));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.fqdn, "a\\x2eb.c");
	assert_true(di.warn & DHCP_W_FQDN_ESC);
}

static void test_vlan_tagged(void **state)
{
	(void)state;
	struct v4 v;
	struct v6 w;
	windows10_discover(&v);
	v.vlan = 0x2064; /* priority 1, VLAN 100 */
	size_t n = build4(&v);
	save("win10_discover_vlan", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.vlan, 100);
	assert_string_equal(di.vendor, "MSFT 5.0");

	windows10_solicit(&w);
	w.vlan = 4094;
	n = build6(&w);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.vlan, 4094);
	assert_int_equal(di.family, 6);
}

static void test_ip_options(void **state)
{
	(void)state;
	struct v4 v;
	windows10_discover(&v);
	v.ip_opt_words = 10; /* IHL 15: the largest header */
	v.frag = 0x4000;     /* DF is not a fragment */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "DESKTOP-4F2K9QL");
}

static void test_chaddr_mismatch(void **state)
{
	(void)state;
	struct v4 v;
	windows10_discover(&v);
	v.chaddr = DEB_MAC; /* e.g. through a bridge that rewrites the source */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_true(di.warn & DHCP_W_CHADDR_MISMATCH);
	assert_true(mac_eq(&di.chaddr, &DEB_MAC));
	assert_true(mac_eq(&di.eth_src, &WIN_MAC));
}

static void test_plain_bootp_and_types(void **state)
{
	(void)state;
	struct v4 v;
	static const uint8_t ok[] = {1, 3, 4, 7, 8};
	static const uint8_t bad[] = {0, 2, 5, 6, 9, 10, 13, 255};

	v4_init(&v, &PRN_MAC, 0); /* BOOTP: no option 53 */
	opt_str(&v.o, 12, "oldbox");
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_int_equal(di.msg_type, 0);
	for (size_t i = 0; i < sizeof(ok); i++) {
		v4_init(&v, &PRN_MAC, ok[i]);
		assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
		assert_int_equal(di.msg_type, ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad); i++) {
		v4_init(&v, &PRN_MAC, 0);
		opt_u8(&v.o, 53, bad[i]);
		assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_MSG_TYPE);
	}
}

/* RFC 3396: an option split in parts is their concatenation. */
static void test_concatenation(void **state)
{
	(void)state;
	struct v4 v;
	v4_init(&v, &WIN_MAC, 1);
	opt_str(&v.o, 12, "DESKTOP-");
	opt_str(&v.o, 60, "MSFT");
	opt_str(&v.o, 12, "4F2K9QL");
	opt(&v.o, 55, WIN_PRL, 4);
	opt(&v.o, 55, WIN_PRL + 4, sizeof(WIN_PRL) - 4);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "DESKTOP-4F2K9QL");
	assert_prl(&di, WIN_PRL, sizeof(WIN_PRL));
}

static void test_overload(void **state)
{
	(void)state;
	struct v4 v;

	/* 3: file then sname hold options too */
	v4_init(&v, &WIN_MAC, 1);
	opt_u8(&v.o, 52, 3);
	opt_str(&v.o, 12, "ab");
	uint8_t file[] = {12, 2, 'c', 'd', 60, 3, 'x', 'y', 'z', 255};
	uint8_t sname[] = {0, 0, 12, 2, 'e', 'f', 255};
	memcpy(v.file, file, sizeof(file));
	memcpy(v.sname, sname, sizeof(sname));
	size_t n = build4(&v);
	save("overload", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_string_equal(di.hostname, "abcdef");
	assert_string_equal(di.vendor, "xyz");

	/* 1: the file field only; sname is ignored */
	v.o.n = 0;
	opt_u8(&v.o, 53, 1);
	opt_u8(&v.o, 52, 1);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "cd");

	/* 2: sname only; its options need no end option */
	v.o.n = 0;
	opt_u8(&v.o, 53, 1);
	opt_u8(&v.o, 52, 2);
	memset(v.sname, 0, sizeof(v.sname));
	v.sname[62] = 12;
	v.sname[63] = 0; /* zero length at the very end: a bad length */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_BAD_LEN);
	v.sname[62] = 0;
	v.sname[63] = 12; /* code with no length byte */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_OVERRUN);

	/* bad values */
	uint8_t bad[] = {0, 4, 255};
	for (size_t i = 0; i < sizeof(bad); i++) {
		v4_init(&v, &WIN_MAC, 1);
		opt_u8(&v.o, 52, bad[i]);
		assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_OVERLOAD);
	}
	v4_init(&v, &WIN_MAC, 1);
	opt_u16(&v.o, 52, 0x0303);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_BAD_LEN);

	/* loops: 52 inside file or sname, or twice */
	v4_init(&v, &WIN_MAC, 1);
	opt_u8(&v.o, 52, 1);
	uint8_t loop[] = {52, 1, 3, 255};
	memcpy(v.file, loop, sizeof(loop));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_OVERLOAD_LOOP);
	v4_init(&v, &WIN_MAC, 1);
	opt_u8(&v.o, 52, 2);
	memcpy(v.sname, loop, sizeof(loop));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_OVERLOAD_LOOP);
	v4_init(&v, &WIN_MAC, 1);
	opt_u8(&v.o, 52, 1);
	opt_u8(&v.o, 52, 1);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_OVERLOAD_LOOP);

	/* without option 52, whatever file and sname hold is not read */
	v4_init(&v, &WIN_MAC, 1);
	memset(v.file, 0xee, sizeof(v.file));
	memset(v.sname, 0xee, sizeof(v.sname));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
}

static void test_clid_forms(void **state)
{
	(void)state;
	struct v4 v;

	/* RFC 4361: type 255, IAID, DUID-LL */
	v4_init(&v, &DEB_MAC, 1);
	struct opts c = {0};
	raw_u8(&c, 255);
	raw_u32(&c, 0x00000001);
	raw_u16(&c, 3);
	raw_u16(&c, 1);
	raw(&c, DEB_MAC.a, 6);
	opt(&v.o, 61, c.b, c.n);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_int_equal(di.clid_type, 255);
	assert_int_equal(di.clid_len, 14);
	assert_true(di.has & DHCP_HAS_CLID_MAC);
	assert_true(mac_eq(&di.clid_mac, &DEB_MAC));

	/* type 0: a name; no MAC */
	v4_init(&v, &DEB_MAC, 1);
	opt_str(&v.o, 61,
		"\001"
		"abcdefg"); /* type 1 but 7 bytes: no MAC */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_true(di.has & DHCP_HAS_CLID);
	assert_false(di.has & DHCP_HAS_CLID_MAC);

	/* longer than kept */
	v4_init(&v, &DEB_MAC, 1);
	uint8_t big[200];
	memset(big, 0x41, sizeof(big));
	big[0] = 0;
	opt(&v.o, 61, big, sizeof(big));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_int_equal(di.clid_len, DHCP_CLID_MAX);
	assert_true(di.warn & DHCP_W_CLID_TRUNC);
}

/* ---- strings ---- */

static void test_hostname_sanitized(void **state)
{
	(void)state;
	struct v4 v;

	v4_init(&v, &WIN_MAC, 1);
	opt(&v.o, 12, "pc\x01\\\xff", 5);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "pc\\x01\\x5c\\xff");
	assert_true(di.warn & DHCP_W_HOSTNAME_ESC);
	assert_false(di.warn & DHCP_W_HOSTNAME_TRUNC);

	/* trailing NULs dropped silently, an inner one escaped */
	v4_init(&v, &WIN_MAC, 1);
	opt(&v.o, 12, "a\0b\0\0", 5);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "a\\x00b");
	v4_init(&v, &WIN_MAC, 1);
	opt(&v.o, 12, "name\0", 5);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_string_equal(di.hostname, "name");
	assert_int_equal(di.warn, 0);

	/* all escapes: truncated at a whole escape, flagged */
	v4_init(&v, &WIN_MAC, 1);
	uint8_t ctl[255];
	memset(ctl, 0x07, sizeof(ctl));
	opt(&v.o, 12, ctl, sizeof(ctl));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_true(di.warn & DHCP_W_HOSTNAME_TRUNC);
	assert_true(di.warn & DHCP_W_HOSTNAME_ESC);
	assert_int_equal(strlen(di.hostname), (DHCP_NAME_MAX - 1) / 4 * 4);
	assert_int_equal(strlen(di.hostname) % 4, 0);

	/* a long printable vendor class: cut to the buffer */
	v4_init(&v, &WIN_MAC, 1);
	uint8_t vc[200];
	memset(vc, 'v', sizeof(vc));
	opt(&v.o, 60, vc, sizeof(vc));
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	assert_int_equal(strlen(di.vendor), DHCP_VENDOR_MAX - 1);
	assert_true(di.warn & DHCP_W_VENDOR_TRUNC);
	assert_false(di.warn & DHCP_W_VENDOR_ESC);
}

/* ---- DHCPv6 ---- */

static void test_v6_solicit(void **state)
{
	(void)state;
	struct v6 w;
	char fp[DHCP_PRL_STRLEN];
	windows10_solicit(&w);
	size_t n = build6(&w);
	save("win10_solicit6", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.family, 6);
	assert_int_equal(di.msg_type, DHCP6_SOLICIT);
	assert_int_equal(di.xid, 0x8a3c21);
	assert_int_equal(di.ip6_src[0], 0xfe);
	assert_int_equal(di.ip6_src[8], 0x3e);
	assert_true(di.has & DHCP_HAS_CLID);
	assert_int_equal(di.clid_type, DUID_LLT);
	assert_int_equal(di.clid_len, 12);
	assert_true(di.has & DHCP_HAS_CLID_MAC);
	assert_true(mac_eq(&di.clid_mac, &WIN_MAC));
	assert_true(di.has & DHCP_HAS_PRL);
	assert_int_equal(di.prl_len, 4);
	dhcp_prl_fmt(di.prl, di.prl_len, fp, sizeof(fp));
	assert_string_equal(fp, "17,23,24,39");
	assert_true(di.has & DHCP_HAS_VENDOR);
	assert_int_equal(di.vendor_enterprise, 311);
	assert_string_equal(di.vendor, "MSFT 5.0");
	assert_true(di.has & DHCP_HAS_FQDN);
	assert_int_equal(di.fqdn_flags, 0);
	assert_string_equal(di.fqdn, "DESKTOP-4F2K9QL.corp.example");
	assert_int_equal(di.warn, 0);
}

static void test_v6_types_and_duids(void **state)
{
	(void)state;
	struct v6 w;
	static const uint8_t ok[] = {1, 3, 4, 5, 6, 8, 9, 11};
	static const uint8_t bad[] = {0, 2, 7, 10, 14, 255};

	for (size_t i = 0; i < sizeof(ok); i++) {
		v6_init(&w, &DEB_MAC, ok[i]);
		assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OK);
		assert_int_equal(di.msg_type, ok[i]);
		assert_int_equal(di.has, 0);
	}
	for (size_t i = 0; i < sizeof(bad); i++) {
		v6_init(&w, &DEB_MAC, bad[i]);
		assert_int_equal(parse_exact(frame, build6(&w), &di), DR_V6_BAD_MSG_TYPE);
	}
	v6_init(&w, &DEB_MAC, 12);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_V6_RELAY);
	v6_init(&w, &DEB_MAC, 13);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_V6_RELAY);

	/* DUID-LL of Ethernet: a MAC; DUID-EN and DUID-LL of another type: none */
	v6_init(&w, &DEB_MAC, 11);
	uint8_t ll[10] = {0, 3, 0, 1};
	memcpy(ll + 4, DEB_MAC.a, 6);
	opt6(&w.o, 1, ll, sizeof(ll));
	size_t n = build6(&w);
	save("dhclient_inforeq6", frame, n);
	assert_int_equal(parse_exact(frame, n, &di), DR_OK);
	assert_int_equal(di.clid_type, DUID_LL);
	assert_true(mac_eq(&di.clid_mac, &DEB_MAC));

	v6_init(&w, &DEB_MAC, 1);
	uint8_t en[12] = {0, 2, 0, 0, 0x01, 0x37, 1, 2, 3, 4, 5, 6};
	opt6(&w.o, 1, en, sizeof(en));
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OK);
	assert_int_equal(di.clid_type, DUID_EN);
	assert_false(di.has & DHCP_HAS_CLID_MAC);

	v6_init(&w, &DEB_MAC, 1);
	ll[3] = 6; /* IEEE 802 token ring */
	opt6(&w.o, 1, ll, sizeof(ll));
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OK);
	assert_false(di.has & DHCP_HAS_CLID_MAC);

	/* vendor class with two strings: the first, flagged */
	v6_init(&w, &DEB_MAC, 1);
	struct opts vc = {0};
	raw_u32(&vc, 4491);
	raw_u16(&vc, 3);
	raw(&vc, "one", 3);
	raw_u16(&vc, 3);
	raw(&vc, "two", 3);
	opt6(&w.o, 16, vc.b, vc.n);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OK);
	assert_string_equal(di.vendor, "one");
	assert_true(di.warn & DHCP_W_VENDOR_MORE);
}

static void test_v6_refusals(void **state)
{
	(void)state;
	struct v6 w;
	uint8_t z[4] = {0};

	windows10_solicit(&w);
	w.next = 0; /* hop-by-hop */
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_IP6_EXT_HEADER);
	w.next = 44;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_IP6_EXT_HEADER);
	w.next = 6;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_NOT_UDP);
	w.next = 17;
	w.sport = 547;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_WRONG_PORTS);
	w.sport = 546;
	w.dport = 546;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_WRONG_PORTS);
	w.dport = 547;
	w.udp_delta = -1;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_BAD_UDP_LENGTH);
	w.udp_delta = 0;
	w.plen_delta = 1;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_TRUNCATED);
	w.plen_delta = -1;
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_BAD_UDP_LENGTH);
	w.plen_delta = 0;
	size_t n = build6(&w);
	frame[14] = 0x40;
	assert_int_equal(parse_exact(frame, n, &di), DR_BAD_IP_HEADER);

	/* option lengths */
	v6_init(&w, &DEB_MAC, 1);
	raw_u16(&w.o, 1);
	raw_u16(&w.o, 10); /* says 10, has 2 */
	raw_u16(&w.o, 3);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_OVERRUN);
	v6_init(&w, &DEB_MAC, 1);
	raw_u16(&w.o, 8); /* three bytes of an option header */
	raw_u8(&w.o, 0);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_OVERRUN);
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 6, z, 3);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_BAD_LEN);
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 1, z, 1);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_BAD_LEN);
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 16, z, 3);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_BAD_LEN);
	v6_init(&w, &DEB_MAC, 1);
	uint8_t vc[8] = {0, 0, 0, 9, 0, 5, 'a', 'b'}; /* string past the option */
	opt6(&w.o, 16, vc, sizeof(vc));
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_BAD_LEN);
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 39, z, 0);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OPT_BAD_LEN);
	v6_init(&w, &DEB_MAC, 1);
	uint8_t fq[4] = {0, 0xc0, 0x0c, 0}; /* compression pointer */
	opt6(&w.o, 39, fq, sizeof(fq));
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_BAD_FQDN);

	/* a decoded option twice */
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 6, z, 2);
	opt6(&w.o, 6, z, 2);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_V6_DUP_OPTION);
	/* an ignored one twice is fine */
	v6_init(&w, &DEB_MAC, 1);
	opt6(&w.o, 8, z, 2);
	opt6(&w.o, 8, z, 2);
	assert_int_equal(parse_exact(frame, build6(&w), &di), DR_OK);
}

/* ---- refusals (v4 and below) ---- */

static void test_v4_refusals(void **state)
{
	(void)state;
	struct v4 v;
	size_t n;

	windows10_discover(&v);
	v.sport = 67; /* a relay or server */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_WRONG_PORTS);
	windows10_discover(&v);
	v.dport = 68;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_WRONG_PORTS);
	windows10_discover(&v);
	v.op = 2;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_OP);
	windows10_discover(&v);
	v.htype = 6;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_HTYPE);
	windows10_discover(&v);
	v.hlen = 16;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_HTYPE);
	windows10_discover(&v);
	v.cookie = 0x63825364;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_V4_BAD_COOKIE);
	windows10_discover(&v);
	v.frag = 0x2000; /* MF */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_IP_FRAGMENT);
	v.frag = 0x0010; /* offset */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_IP_FRAGMENT);
	windows10_discover(&v);
	v.proto = 6;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_NOT_UDP);
	windows10_discover(&v);
	v.udp_delta = 1;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_BAD_UDP_LENGTH);
	v.udp_delta = -1;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_BAD_UDP_LENGTH);
	windows10_discover(&v);
	v.ip_delta = 1;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_TRUNCATED);
	windows10_discover(&v);
	v.ip_delta = -1; /* a byte of padding, and the UDP length disagrees */
	v.pad = 1;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_BAD_UDP_LENGTH);

	/* IP header: version, IHL, total length shorter than the header */
	windows10_discover(&v);
	n = build4(&v);
	frame[14] = 0x65;
	assert_int_equal(parse_exact(frame, n, &di), DR_BAD_IP_HEADER);
	frame[14] = 0x44;
	assert_int_equal(parse_exact(frame, n, &di), DR_BAD_IP_HEADER);
	frame[14] = 0x45;
	frame[16] = 0;
	frame[17] = 19;
	assert_int_equal(parse_exact(frame, n, &di), DR_BAD_IP_HEADER);
	/* UDP header cut by the IP total length */
	frame[17] = 27;
	assert_int_equal(parse_exact(frame, n, &di), DR_TRUNCATED);

	/* not IP; two tags */
	n = build4(&v);
	frame[12] = 0x08;
	frame[13] = 0x06;
	assert_int_equal(parse_exact(frame, n, &di), DR_NOT_IP);
	windows10_discover(&v);
	v.vlan = 5;
	n = build4(&v);
	frame[16] = 0x81;
	frame[17] = 0x00;
	assert_int_equal(parse_exact(frame, n, &di), DR_NOT_IP);

	/* option length past the end of the options */
	windows10_discover(&v);
	v.no_end = true;
	raw_u8(&v.o, 12);
	raw_u8(&v.o, 5);
	raw(&v.o, "abc", 3);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_OVERRUN);
	windows10_discover(&v);
	v.no_end = true;
	raw_u8(&v.o, 12); /* no length byte */
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_OVERRUN);
	/* no end option, nothing cut: accepted */
	windows10_discover(&v);
	v.no_end = true;
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);
	/* past the end option nothing is read */
	windows10_discover(&v);
	raw_u8(&v.o, 255);
	raw_u8(&v.o, 12);
	raw_u8(&v.o, 200);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OK);

	/* wrong lengths for the option's kind */
	static const struct {
		uint8_t code, len;
	} badlen[] = {{53, 0}, {53, 2}, {50, 3}, {50, 5}, {57, 1}, {57, 3}, {12, 0},
		      {60, 0}, {55, 0}, {61, 0}, {61, 1}, {81, 0}, {81, 2}};
	for (size_t i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++) {
		uint8_t z[8] = {1, 1, 1, 1, 1, 1, 1, 1};
		v4_init(&v, &WIN_MAC, 0);
		opt(&v.o, badlen[i].code, z, badlen[i].len);
		assert_int_equal(parse_exact(frame, build4(&v), &di), DR_OPT_BAD_LEN);
	}

	/* FQDN wire names that are not */
	static const uint8_t badname[][8] = {
	    {4, 'a', 'b'},	 /* label past the option */
	    {0xc0, 0x10},	 /* compression pointer */
	    {1, 'a', 0, 1, 'b'}, /* bytes after the root */
	    {64, 'a', 'a', 'a'}, /* label > 63 */
	};
	static const size_t badname_len[] = {3, 2, 5, 4};
	for (size_t i = 0; i < 4; i++) {
		uint8_t f[16] = {0};
		f[0] = 0x04;
		memcpy(f + 3, badname[i], badname_len[i]);
		v4_init(&v, &WIN_MAC, 1);
		opt(&v.o, 81, f, 3 + badname_len[i]);
		assert_int_equal(parse_exact(frame, build4(&v), &di), DR_BAD_FQDN);
	}
	/* a wire name longer than 255 bytes */
	v4_init(&v, &WIN_MAC, 1);
	struct opts f = {0};
	raw_u8(&f, 0x04);
	raw_u16(&f, 0);
	for (int i = 0; i < 5; i++) {
		raw_u8(&f, 63);
		for (int k = 0; k < 63; k++)
			raw_u8(&f, 'a');
	}
	opt(&v.o, 81, f.b, 255);
	opt(&v.o, 81, f.b + 255, f.n - 255);
	assert_int_equal(parse_exact(frame, build4(&v), &di), DR_BAD_FQDN);

	/* too short for BOOTP + cookie */
	windows10_discover(&v);
	n = build4(&v);
	put16(frame + 14 + 2, 20 + 8 + 239);
	put16(frame + 14 + 20 + 4, 8 + 239);
	assert_int_equal(parse_exact(frame, n, &di), DR_TRUNCATED);
}

/*
 * Every prefix of every good frame: refused as truncated (the IP lengths
 * say more), never read past the end. Then the same cuts with the IP and
 * UDP lengths rewritten to agree, so the cut reaches the DHCP parser: any
 * reason, but no read past the end (ASan) and a reason that exists.
 */
static void cut_everywhere(const uint8_t *good, size_t n, bool v6, uint16_t vlan)
{
	uint8_t b[2048];
	size_t l2 = vlan ? 18 : 14;
	struct dhcp_info tmp;

	for (size_t k = 0; k < n; k++)
		assert_int_equal(parse_exact(good, k, &tmp), DR_TRUNCATED);
	size_t ihl = v6 ? 40 : (size_t)(good[l2] & 0x0f) * 4;
	for (size_t k = l2 + ihl + 8; k < n; k++) {
		memcpy(b, good, k);
		size_t ip = k - l2;
		size_t udp = ip - ihl;
		if (v6) {
			b[l2 + 4] = (uint8_t)(udp >> 8);
			b[l2 + 5] = (uint8_t)udp;
		} else {
			b[l2 + 2] = (uint8_t)(ip >> 8);
			b[l2 + 3] = (uint8_t)ip;
		}
		b[l2 + ihl + 4] = (uint8_t)(udp >> 8);
		b[l2 + ihl + 5] = (uint8_t)udp;
		enum dhcp_reason r = parse_exact(b, k, &tmp);
		assert_true(r < DR__COUNT);
		assert_true(strlen(tmp.hostname) < DHCP_NAME_MAX);
	}
}

static void test_truncated_everywhere(void **state)
{
	(void)state;
	void (*v4s[])(struct v4 *) = {windows10_discover, windows10_request, macos_request,
				      android_discover,	  dhclient_renew,    printer_discover};
	struct v4 v;
	struct v6 w;
	uint8_t good[2048];
	size_t n;

	for (size_t i = 0; i < sizeof(v4s) / sizeof(v4s[0]); i++) {
		for (int tagged = 0; tagged < 2; tagged++) {
			v4s[i](&v);
			v.vlan = tagged ? 7 : 0;
			n = build4(&v);
			memcpy(good, frame, n);
			assert_int_equal(parse_exact(good, n, &di), DR_OK);
			cut_everywhere(good, n, false, v.vlan);
		}
	}
	windows10_discover(&v);
	v.ip_opt_words = 3;
	n = build4(&v);
	memcpy(good, frame, n);
	cut_everywhere(good, n, false, 0);

	for (int tagged = 0; tagged < 2; tagged++) {
		windows10_solicit(&w);
		w.vlan = tagged ? 7 : 0;
		n = build6(&w);
		memcpy(good, frame, n);
		assert_int_equal(parse_exact(good, n, &di), DR_OK);
		cut_everywhere(good, n, true, w.vlan);
	}
}

/* ---- formatting and names ---- */

static void test_prl_fmt(void **state)
{
	(void)state;
	const uint16_t c[] = {1, 3, 65535, 0};
	char b[32];

	assert_int_equal(dhcp_prl_fmt(c, 4, b, sizeof(b)), 11);
	assert_string_equal(b, "1,3,65535,0");
	assert_int_equal(dhcp_prl_fmt(c, 0, b, sizeof(b)), 0);
	assert_string_equal(b, "");
	/* a code is never cut */
	assert_int_equal(dhcp_prl_fmt(c, 4, b, 8), 11);
	assert_string_equal(b, "1,3");
	assert_int_equal(dhcp_prl_fmt(c, 4, b, 4), 11);
	assert_string_equal(b, "1,3");
	assert_int_equal(dhcp_prl_fmt(c, 4, b, 1), 11);
	assert_string_equal(b, "");
	assert_int_equal(dhcp_prl_fmt(c, 4, NULL, 0), 11);

	/* the largest list fits DHCP_PRL_STRLEN */
	uint16_t all[DHCP_PRL_MAX];
	char big[DHCP_PRL_STRLEN];
	for (size_t i = 0; i < DHCP_PRL_MAX; i++)
		all[i] = 65535;
	assert_true(dhcp_prl_fmt(all, DHCP_PRL_MAX, big, sizeof(big)) < sizeof(big));
}

static void test_reason_names(void **state)
{
	(void)state;
	for (int r = 0; r < DR__COUNT; r++) {
		const char *s = dhcp_reason_name((enum dhcp_reason)r);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown");
		for (const char *p = s; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				    *p == '_');
		for (int q = 0; q < r; q++)
			assert_string_not_equal(s, dhcp_reason_name((enum dhcp_reason)q));
	}
	assert_string_equal(dhcp_reason_name(DR_OK), "ok");
	assert_string_equal(dhcp_reason_name(DR__COUNT), "unknown");
	assert_string_equal(dhcp_reason_name((enum dhcp_reason) - 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_windows10_discover),
	    cmocka_unit_test(test_windows10_request_fqdn_ascii),
	    cmocka_unit_test(test_macos_request),
	    cmocka_unit_test(test_android),
	    cmocka_unit_test(test_dhclient_renew),
	    cmocka_unit_test(test_printer_fqdn_wire),
	    cmocka_unit_test(test_fqdn_forms),
	    cmocka_unit_test(test_vlan_tagged),
	    cmocka_unit_test(test_ip_options),
	    cmocka_unit_test(test_chaddr_mismatch),
	    cmocka_unit_test(test_plain_bootp_and_types),
	    cmocka_unit_test(test_concatenation),
	    cmocka_unit_test(test_overload),
	    cmocka_unit_test(test_clid_forms),
	    cmocka_unit_test(test_hostname_sanitized),
	    cmocka_unit_test(test_v6_solicit),
	    cmocka_unit_test(test_v6_types_and_duids),
	    cmocka_unit_test(test_v6_refusals),
	    cmocka_unit_test(test_v4_refusals),
	    cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_prl_fmt),
	    cmocka_unit_test(test_reason_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
