/*
 * addr: Ethernet and IPv4 address types, parsing and formatting.
 *
 * The parsers are strict: exactly the documented forms, no whitespace, no
 * trailing characters, no leading zeros in decimal fields (so "010" is not
 * silently read as octal by one tool and decimal by another).
 */
#include "addr.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

bool mac_is_broadcast(const struct mac *m)
{
	for (size_t i = 0; i < MAC_LEN; i++)
		if (m->a[i] != 0xff)
			return false;
	return true;
}

bool mac_is_multicast(const struct mac *m)
{
	return (m->a[0] & 0x01) && !mac_is_broadcast(m);
}

bool mac_is_zero(const struct mac *m)
{
	for (size_t i = 0; i < MAC_LEN; i++)
		if (m->a[i] != 0)
			return false;
	return true;
}

bool mac_is_local(const struct mac *m)
{
	return (m->a[0] & 0x02) != 0;
}

bool mac_eq(const struct mac *a, const struct mac *b)
{
	return memcmp(a->a, b->a, MAC_LEN) == 0;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The forms of a MAC: the separator, how many groups it makes, and how
 * many hex digits a group has. Each group is one octet (6 groups), two
 * (3 groups) or all six (1 group).
 */
static const struct mac_form {
	char sep; /* '\0': none */
	unsigned char groups, min_digits, max_digits;
} mac_forms[] = {
    {':', 6, 1, 2},    /* 4b:86:f6:c5:a2:14, and 0:0:c:12:34:56 as ethers(5) writes it */
    {'-', 6, 2, 2},    /* 4b-86-f6-c5-a2-14 (Windows, IEEE) */
    {'.', 3, 4, 4},    /* 4b86.f6c5.a214 (Cisco) */
    {':', 3, 4, 4},    /* 4b86:f6c5:a214 */
    {'\0', 1, 12, 12}, /* 4b86f6c5a214 */
};

int mac_parse(const char *s, struct mac *out)
{
	uint64_t v[MAC_LEN] = {0};
	unsigned digits[MAC_LEN] = {0}, g = 0;
	char sep = '\0';

	/* split: hex digits, one kind of separator, at most MAC_LEN groups */
	for (const char *p = s; *p; p++) {
		int h = hex_digit(*p);
		if (h >= 0) {
			if (++digits[g] > 12)
				return -1;
			v[g] = v[g] << 4 | (unsigned)h;
		} else if ((*p == ':' || *p == '-' || *p == '.') && (!sep || *p == sep) &&
			   g + 1 < MAC_LEN) {
			sep = *p;
			g++;
		} else {
			return -1;
		}
	}
	unsigned groups = g + 1;
	const struct mac_form *f = NULL;
	for (size_t i = 0; i < sizeof(mac_forms) / sizeof(mac_forms[0]); i++)
		if (mac_forms[i].sep == sep && mac_forms[i].groups == groups)
			f = &mac_forms[i];
	if (!f)
		return -1;
	struct mac m;
	unsigned per = MAC_LEN / groups; /* octets in a group */
	for (unsigned i = 0; i < groups; i++) {
		if (digits[i] < f->min_digits || digits[i] > f->max_digits)
			return -1;
		for (unsigned k = 0; k < per; k++)
			m.a[i * per + k] = (uint8_t)(v[i] >> 8 * (per - 1 - k));
	}
	*out = m;
	return 0;
}

char *mac_fmt(const struct mac *m, char buf[MAC_STRLEN])
{
	char *p = buf;
	for (size_t i = 0; i < MAC_LEN; i++) {
		if (i)
			*p++ = ':';
		*p++ = hexdigits[m->a[i] >> 4];
		*p++ = hexdigits[m->a[i] & 0x0f];
	}
	*p = '\0';
	return buf;
}

/*
 * A decimal number of at most maxdigits digits, no leading zero unless it is
 * "0", not above max. Advances *sp past it. 0 or -1.
 */
static int parse_dec(const char **sp, unsigned maxdigits, unsigned max, unsigned *out)
{
	const char *s = *sp;
	unsigned v = 0, n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == maxdigits)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return -1;
	*sp = s + n;
	*out = v;
	return 0;
}

/* Dotted quad at *sp, advancing past it; the caller checks what follows. */
static int parse_quad(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	uint32_t ip = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v;
		if (i > 0) {
			if (*s != '.')
				return -1;
			s++;
		}
		if (parse_dec(&s, 3, 255, &v) < 0)
			return -1;
		ip = ip << 8 | v;
	}
	*sp = s;
	*out = ip;
	return 0;
}

int ip4_parse(const char *s, uint32_t *out)
{
	uint32_t ip;

	if (parse_quad(&s, &ip) < 0 || *s != '\0')
		return -1;
	*out = ip;
	return 0;
}

char *ip4_fmt(uint32_t ip, char buf[IP4_STRLEN])
{
	char *p = buf;
	for (int i = 3; i >= 0; i--) {
		unsigned v = (ip >> (8 * i)) & 0xff;
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (i)
			*p++ = '.';
	}
	*p = '\0';
	return buf;
}

int ip4_prefix_parse(const char *s, bool require_len, struct ip4_prefix *out)
{
	uint32_t ip;
	unsigned len = 32;

	if (parse_quad(&s, &ip) < 0)
		return -1;
	if (*s == '/') {
		s++;
		if (parse_dec(&s, 2, 32, &len) < 0)
			return -1;
	} else if (require_len) {
		return -1;
	}
	if (*s != '\0')
		return -1;
	out->addr = ip;
	out->len = (uint8_t)len;
	return 0;
}

uint32_t ip4_mask(uint8_t len)
{
	if (len == 0)
		return 0;
	if (len >= 32)
		return UINT32_MAX;
	return UINT32_MAX << (32 - len);
}

bool ip4_prefix_contains(const struct ip4_prefix *p, uint32_t ip)
{
	uint32_t m = ip4_mask(p->len);
	return (ip & m) == (p->addr & m);
}
