/*
 * balance: the kernel's jhash + reciprocal_scale over the keys nft loads
 * (see balance.h for what the kernel does and the byte layouts).
 */
#include "core/balance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define JHASH_INITVAL 0xdeadbeefu

static inline uint32_t rol32(uint32_t w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

/* __jhash_mix: mix 3 32-bit values reversibly. */
#define JHASH_MIX(a, b, c)                                                                         \
	do {                                                                                       \
		a -= c;                                                                            \
		a ^= rol32(c, 4);                                                                  \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= rol32(a, 6);                                                                  \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= rol32(b, 8);                                                                  \
		b += a;                                                                            \
		a -= c;                                                                            \
		a ^= rol32(c, 16);                                                                 \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= rol32(a, 19);                                                                 \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= rol32(b, 4);                                                                  \
		b += a;                                                                            \
	} while (0)

/* __jhash_final: final mixing of 3 32-bit values (a, b, c) into c. */
#define JHASH_FINAL(a, b, c)                                                                       \
	do {                                                                                       \
		c ^= b;                                                                            \
		c -= rol32(b, 14);                                                                 \
		a ^= c;                                                                            \
		a -= rol32(c, 11);                                                                 \
		b ^= a;                                                                            \
		b -= rol32(a, 25);                                                                 \
		c ^= b;                                                                            \
		c -= rol32(b, 16);                                                                 \
		a ^= c;                                                                            \
		a -= rol32(c, 4);                                                                  \
		b ^= a;                                                                            \
		b -= rol32(a, 14);                                                                 \
		c ^= b;                                                                            \
		c -= rol32(b, 24);                                                                 \
	} while (0)

/* __get_unaligned_cpu32: 4 bytes as a host-order word. */
static inline uint32_t cpu32(const uint8_t *k)
{
	uint32_t w;

	memcpy(&w, k, sizeof(w));
	return w;
}

uint32_t balance_jhash(const void *key, size_t len, uint32_t initval)
{
	const uint8_t *k = key;
	uint32_t a, b, c;

	/* the kernel's length is a u32 (nft's at most 255): the same wrap */
	a = b = c = JHASH_INITVAL + (uint32_t)len + initval;

	while (len > 12) {
		a += cpu32(k);
		b += cpu32(k + 4);
		c += cpu32(k + 8);
		JHASH_MIX(a, b, c);
		len -= 12;
		k += 12;
	}
	/* the last block, byte by byte: the same on every host */
	switch (len) {
	case 12:
		c += (uint32_t)k[11] << 24;
		/* fall through */
	case 11:
		c += (uint32_t)k[10] << 16;
		/* fall through */
	case 10:
		c += (uint32_t)k[9] << 8;
		/* fall through */
	case 9:
		c += k[8];
		/* fall through */
	case 8:
		b += (uint32_t)k[7] << 24;
		/* fall through */
	case 7:
		b += (uint32_t)k[6] << 16;
		/* fall through */
	case 6:
		b += (uint32_t)k[5] << 8;
		/* fall through */
	case 5:
		b += k[4];
		/* fall through */
	case 4:
		a += (uint32_t)k[3] << 24;
		/* fall through */
	case 3:
		a += (uint32_t)k[2] << 16;
		/* fall through */
	case 2:
		a += (uint32_t)k[1] << 8;
		/* fall through */
	case 1:
		a += k[0];
		JHASH_FINAL(a, b, c);
		break;
	default: /* 0: nothing left to add */
		break;
	}
	return c;
}

uint32_t balance_reciprocal_scale(uint32_t val, uint32_t ep_ro)
{
	return (uint32_t)(((uint64_t)val * ep_ro) >> 32);
}

int balance_params_check(const struct balance_params *p)
{
	if (p->buckets <= 1 || p->offset + (p->buckets - 1) < p->offset) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

static void put_be32(uint8_t *k, uint32_t v)
{
	k[0] = (uint8_t)(v >> 24);
	k[1] = (uint8_t)(v >> 16);
	k[2] = (uint8_t)(v >> 8);
	k[3] = (uint8_t)v;
}

/* One register of nft_reg_store16: the port in network order, then zeros. */
static void put_port_reg(uint8_t *k, uint16_t port)
{
	k[0] = (uint8_t)(port >> 8);
	k[1] = (uint8_t)port;
	k[2] = 0;
	k[3] = 0;
}

static uint32_t scale(const struct balance_params *p, uint32_t h)
{
	return balance_reciprocal_scale(h, p->buckets) + p->offset;
}

uint32_t balance_bucket_tuple(const struct balance_params *p, uint8_t proto, uint32_t saddr,
			      uint32_t daddr, uint16_t sport, uint16_t dport)
{
	uint8_t key[16];

	put_be32(key, saddr);
	put_be32(key + 4, daddr);
	if (proto != 6 && proto != 17)
		return scale(p, balance_jhash(key, 8, p->seed));
	put_port_reg(key + 8, sport);
	put_port_reg(key + 12, dport);
	return scale(p, balance_jhash(key, sizeof(key), p->seed));
}

uint32_t balance_bucket_ip(const struct balance_params *p, uint32_t saddr)
{
	uint8_t key[4];

	put_be32(key, saddr);
	return scale(p, balance_jhash(key, sizeof(key), p->seed));
}

static size_t expr(const struct balance_params *p, const char *what, char *buf, size_t len)
{
	char off[32] = "";
	int n;

	if (p->offset != 0)
		snprintf(off, sizeof(off), " offset %u", (unsigned)p->offset);
	n = snprintf(buf, len, "jhash %s mod %u seed 0x%x%s", what, (unsigned)p->buckets,
		     (unsigned)p->seed, off);
	return n < 0 ? 0 : (size_t)n;
}

size_t balance_nft_expr(const struct balance_params *p, char *buf, size_t len)
{
	return expr(p,
		    "ct original ip saddr . ct original ip daddr . ct original proto-src"
		    " . ct original proto-dst",
		    buf, len);
}

size_t balance_nft_expr_addrs(const struct balance_params *p, char *buf, size_t len)
{
	return expr(p, "ct original ip saddr . ct original ip daddr", buf, len);
}

size_t balance_nft_expr_ip(const struct balance_params *p, char *buf, size_t len)
{
	return expr(p, "ip saddr", buf, len);
}
