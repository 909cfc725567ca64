/*
 * Unit tests for core/balance: the kernel's jhash against lookup3's own
 * published test vectors, reciprocal_scale at its edges, the parameters the
 * kernel refuses, buckets recorded from the kernel's nft jhash (6.18, nft
 * 1.0.6: tests/netns/test_balance.py checks thousands more on every run),
 * the spread of many tuples over 1024 and 1000 buckets, and the expression
 * text for the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/balance.h"

static int little_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

/* lookup3.c's driver5 (Bob Jenkins): hashlittle, which the kernel's jhash
 * is on a little-endian host. */
static void test_jhash_lookup3_vectors(void **state)
{
	static const char four[] = "Four score and seven years ago";

	(void)state;
	assert_int_equal(balance_jhash("", 0, 0), 0xdeadbeefu);
	assert_int_equal(balance_jhash("", 0, 0xdeadbeefu), 0xbd5b7ddeu);
	if (!little_endian()) /* 30 bytes: two blocks read in host order */
		skip();
	assert_int_equal(balance_jhash(four, 30, 0), 0x17770551u);
	assert_int_equal(balance_jhash(four, 30, 1), 0xcd628161u);
}

/* The kernel's jhash_1word, written out from include/linux/jhash.h: the
 * 4-byte jhash of nft must equal it for the little-endian reading of the
 * bytes (xt_cluster hashes addresses with jhash_1word). */
static uint32_t rol(uint32_t w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

static uint32_t jhash_1word(uint32_t a, uint32_t initval)
{
	uint32_t b, c;

	initval += 0xdeadbeefu + 4;
	a += initval;
	b = initval;
	c = initval;
	c ^= b, c -= rol(b, 14);
	a ^= c, a -= rol(c, 11);
	b ^= a, b -= rol(a, 25);
	c ^= b, c -= rol(b, 16);
	a ^= c, a -= rol(c, 4);
	b ^= a, b -= rol(a, 14);
	c ^= b, c -= rol(b, 24);
	return c;
}

static void test_jhash_one_word(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t w = i * 2654435761u, seed = i * 40503u;
		uint8_t k[4] = {(uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16),
				(uint8_t)(w >> 24)};

		assert_int_equal(balance_jhash(k, 4, seed), jhash_1word(w, seed));
	}
}

/* Every length hashes every byte: changing any one byte changes the hash
 * (not a proof, but a cut tail case would show), and the alignment of the
 * key does not matter. */
static void test_jhash_every_byte(void **state)
{
	uint8_t buf[64 + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 1; len <= 40; len++) {
		uint32_t h = balance_jhash(buf, len, 7);
		uint8_t copy[64];

		memcpy(copy, buf, len);
		assert_int_equal(balance_jhash(copy, len, 7), h);
		memmove(buf + 1, buf, len); /* the same key, odd address */
		assert_int_equal(balance_jhash(buf + 1, len, 7), h);
		memmove(buf, buf + 1, len);
		for (size_t i = 0; i < len; i++) {
			buf[i] ^= 0x01;
			assert_int_not_equal(balance_jhash(buf, len, 7), h);
			buf[i] ^= 0x01;
		}
		assert_int_not_equal(balance_jhash(buf, len, 8), h);
	}
}

static void test_reciprocal_scale(void **state)
{
	(void)state;
	assert_int_equal(balance_reciprocal_scale(0, 1024), 0);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 1024), 1023);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 1000), 999);
	assert_int_equal(balance_reciprocal_scale(0x80000000u, 1000), 500);
	assert_int_equal(balance_reciprocal_scale(0x7fffffffu, 1000), 499);
	assert_int_equal(balance_reciprocal_scale(0x00400000u, 1024), 1); /* 2^32/1024 */
	assert_int_equal(balance_reciprocal_scale(0x003fffffu, 1024), 0);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 0xffffffffu), 0xfffffffeu);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 2), 1);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 1), 0);
	assert_int_equal(balance_reciprocal_scale(0xffffffffu, 0), 0);
	/* the high bits choose, not the low ones (v % n would give 0 here) */
	assert_int_equal(balance_reciprocal_scale(0xc0000000u, 4), 3);
	for (uint32_t v = 1; v != 0; v += 0x01010101u)
		assert_true(balance_reciprocal_scale(v, 1000) < 1000);
}

static void test_params_check(void **state)
{
	struct balance_params p = {.buckets = 1024, .seed = 0, .offset = 0};

	(void)state;
	assert_int_equal(balance_params_check(&p), 0);
	p.buckets = 2;
	assert_int_equal(balance_params_check(&p), 0);
	p.buckets = 1;
	errno = 0;
	assert_int_equal(balance_params_check(&p), -1);
	assert_int_equal(errno, ERANGE);
	p.buckets = 0;
	assert_int_equal(balance_params_check(&p), -1);
	p.buckets = 2;
	p.offset = 0xfffffffeu; /* last bucket 0xffffffff: fits */
	assert_int_equal(balance_params_check(&p), 0);
	p.offset = 0xffffffffu; /* would wrap */
	errno = 0;
	assert_int_equal(balance_params_check(&p), -1);
	assert_int_equal(errno, ERANGE);
	p.buckets = 0xffffffffu;
	p.offset = 0;
	assert_int_equal(balance_params_check(&p), 0);
	p.offset = 1; /* last bucket 0xffffffff */
	assert_int_equal(balance_params_check(&p), 0);
	p.offset = 2;
	assert_int_equal(balance_params_check(&p), -1);
}

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

/* The layout by hand: the bytes nft loads into its registers, then jhash
 * and reciprocal_scale as nft_jhash_eval does. */
static void test_bucket_layout(void **state)
{
	struct balance_params p = {.buckets = 1000, .seed = 0x5eed, .offset = 0x10000};
	const uint8_t key[16] = {198, 18, 0, 10, 198, 18, 1, 1, 0x9c, 0x40, 0, 0, 0x1f, 0x90, 0, 0};
	const uint8_t pair[8] = {198, 18, 0, 10, 198, 18, 1, 1};
	const uint8_t ip[4] = {198, 18, 0, 10};
	uint32_t want;

	(void)state;
	want = balance_reciprocal_scale(balance_jhash(key, 16, 0x5eed), 1000) + 0x10000;
	assert_int_equal(
	    balance_bucket_tuple(&p, 6, IP(198, 18, 0, 10), IP(198, 18, 1, 1), 40000, 8080), want);
	/* the protocol is not in the key: TCP and UDP alike */
	assert_int_equal(
	    balance_bucket_tuple(&p, 17, IP(198, 18, 0, 10), IP(198, 18, 1, 1), 40000, 8080), want);
	/* any other protocol: the addresses alone, whatever the ports */
	want = balance_reciprocal_scale(balance_jhash(pair, 8, 0x5eed), 1000) + 0x10000;
	assert_int_equal(balance_bucket_tuple(&p, 1, IP(198, 18, 0, 10), IP(198, 18, 1, 1), 7, 8),
			 want);
	assert_int_equal(balance_bucket_tuple(&p, 1, IP(198, 18, 0, 10), IP(198, 18, 1, 1), 0, 0),
			 want);
	want = balance_reciprocal_scale(balance_jhash(ip, 4, 0x5eed), 1000) + 0x10000;
	assert_int_equal(balance_bucket_ip(&p, IP(198, 18, 0, 10)), want);
	/* the direction matters: a reply's tuple is another key */
	assert_int_not_equal(
	    balance_bucket_tuple(&p, 6, IP(198, 18, 0, 10), IP(198, 18, 1, 1), 40000, 8080),
	    balance_bucket_tuple(&p, 6, IP(198, 18, 1, 1), IP(198, 18, 0, 10), 8080, 40000));
}

/* Buckets the kernel gave (nft 1.0.6, Linux 6.18, x86_64): ct mark set by
 * balance_nft_expr*'s text on real packets, read back with conntrack -L. */
struct kat {
	uint32_t buckets, seed, offset;
	uint8_t proto;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t bucket;
};

static const struct kat kernel_tuples[] = {
    /* buckets, seed, offset, proto (0: balance_bucket_ip), saddr, daddr, sport, dport */
    {1024, 0x5eed, 0x0, 6, 0xc6120295, 0xc6120106, 1, 255, 382},   /* 198.18.2.149 > 198.18.1.6 */
    {1024, 0x5eed, 0x0, 6, 0xc61325ad, 0xc6120108, 2, 32768, 363}, /* 198.19.37.173 > 198.18.1.8 */
    {1024, 0x5eed, 0x0, 6, 0xc6120013, 0xc6120107, 255, 65535, 555}, /* 198.18.0.19 > 198.18.1.7 */
    {1024, 0x5eed, 0x0, 6, 0xc61372c9, 0xc6120105, 65535, 8080,
     556}, /* 198.19.114.201 > 198.18.1.5 */
    {1024, 0x5eed, 0x0, 6, 0xc6132d38, 0xc612010a, 13280, 53, 585}, /* 198.19.45.56 > 198.18.1.10 */
    {1024, 0x5eed, 0x0, 17, 0xc6138d64, 0xc612010b, 1, 32768,
     772}, /* 198.19.141.100 > 198.18.1.11 */
    {1024, 0x5eed, 0x0, 17, 0xc6135e0e, 0xc612010f, 2, 65534, 477}, /* 198.19.94.14 > 198.18.1.15 */
    {1024, 0x5eed, 0x0, 17, 0xc613874b, 0xc6120106, 65535, 1, 208}, /* 198.19.135.75 > 198.18.1.6 */
    {1024, 0x5eed, 0x0, 17, 0xc6137bc1, 0xc612010c, 30505, 256,
     821}, /* 198.19.123.193 > 198.18.1.12 */
    {1024, 0x5eed, 0x0, 1, 0xc613e6e5, 0xc6120110, 24813, 0,
     421}, /* 198.19.230.229 > 198.18.1.16 */
    {1024, 0x5eed, 0x0, 1, 0xc612039e, 0xc6120105, 15712, 0, 567},   /* 198.18.3.158 > 198.18.1.5 */
    {1024, 0xdeadbeef, 0x0, 6, 0xc6120295, 0xc6120106, 1, 255, 187}, /* 198.18.2.149 > 198.18.1.6 */
    {1024, 0xdeadbeef, 0x0, 6, 0xc61325ad, 0xc6120108, 2, 32768,
     416}, /* 198.19.37.173 > 198.18.1.8 */
    {1024, 0xdeadbeef, 0x0, 6, 0xc6120013, 0xc6120107, 255, 65535,
     550}, /* 198.18.0.19 > 198.18.1.7 */
    {1024, 0xdeadbeef, 0x0, 6, 0xc61372c9, 0xc6120105, 65535, 8080,
     375}, /* 198.19.114.201 > 198.18.1.5 */
    {1024, 0xdeadbeef, 0x0, 6, 0xc6132d38, 0xc612010a, 13280, 53,
     857}, /* 198.19.45.56 > 198.18.1.10 */
    {1024, 0xdeadbeef, 0x0, 17, 0xc6138d64, 0xc612010b, 1, 32768,
     320}, /* 198.19.141.100 > 198.18.1.11 */
    {1024, 0xdeadbeef, 0x0, 17, 0xc6135e0e, 0xc612010f, 2, 65534,
     518}, /* 198.19.94.14 > 198.18.1.15 */
    {1024, 0xdeadbeef, 0x0, 17, 0xc613874b, 0xc6120106, 65535, 1,
     678}, /* 198.19.135.75 > 198.18.1.6 */
    {1024, 0xdeadbeef, 0x0, 17, 0xc6137bc1, 0xc612010c, 30505, 256,
     425}, /* 198.19.123.193 > 198.18.1.12 */
    {1024, 0xdeadbeef, 0x0, 1, 0xc613e6e5, 0xc6120110, 24813, 0,
     570}, /* 198.19.230.229 > 198.18.1.16 */
    {1024, 0xdeadbeef, 0x0, 1, 0xc612039e, 0xc6120105, 15712, 0,
     450},							   /* 198.18.3.158 > 198.18.1.5 */
    {1000, 0x5eed, 0x0, 6, 0xc6120295, 0xc6120106, 1, 255, 373},   /* 198.18.2.149 > 198.18.1.6 */
    {1000, 0x5eed, 0x0, 6, 0xc61325ad, 0xc6120108, 2, 32768, 354}, /* 198.19.37.173 > 198.18.1.8 */
    {1000, 0x5eed, 0x0, 6, 0xc6120013, 0xc6120107, 255, 65535, 542}, /* 198.18.0.19 > 198.18.1.7 */
    {1000, 0x5eed, 0x0, 6, 0xc61372c9, 0xc6120105, 65535, 8080,
     543}, /* 198.19.114.201 > 198.18.1.5 */
    {1000, 0x5eed, 0x0, 6, 0xc6132d38, 0xc612010a, 13280, 53, 571}, /* 198.19.45.56 > 198.18.1.10 */
    {1000, 0x5eed, 0x0, 17, 0xc6138d64, 0xc612010b, 1, 32768,
     754}, /* 198.19.141.100 > 198.18.1.11 */
    {1000, 0x5eed, 0x0, 17, 0xc6135e0e, 0xc612010f, 2, 65534, 465}, /* 198.19.94.14 > 198.18.1.15 */
    {1000, 0x5eed, 0x0, 17, 0xc613874b, 0xc6120106, 65535, 1, 204}, /* 198.19.135.75 > 198.18.1.6 */
    {1000, 0x5eed, 0x0, 17, 0xc6137bc1, 0xc612010c, 30505, 256,
     802}, /* 198.19.123.193 > 198.18.1.12 */
    {1000, 0x5eed, 0x0, 1, 0xc613e6e5, 0xc6120110, 24813, 0,
     411}, /* 198.19.230.229 > 198.18.1.16 */
    {1000, 0x5eed, 0x0, 1, 0xc612039e, 0xc6120105, 15712, 0, 554}, /* 198.18.3.158 > 198.18.1.5 */
    {1000, 0xc0ffee, 0x10000, 6, 0xc6120295, 0xc6120106, 1, 255,
     65960}, /* 198.18.2.149 > 198.18.1.6 */
    {1000, 0xc0ffee, 0x10000, 6, 0xc61325ad, 0xc6120108, 2, 32768,
     65936}, /* 198.19.37.173 > 198.18.1.8 */
    {1000, 0xc0ffee, 0x10000, 6, 0xc6120013, 0xc6120107, 255, 65535,
     66314}, /* 198.18.0.19 > 198.18.1.7 */
    {1000, 0xc0ffee, 0x10000, 6, 0xc61372c9, 0xc6120105, 65535, 8080,
     66269}, /* 198.19.114.201 > 198.18.1.5 */
    {1000, 0xc0ffee, 0x10000, 6, 0xc6132d38, 0xc612010a, 13280, 53,
     65732}, /* 198.19.45.56 > 198.18.1.10 */
    {1000, 0xc0ffee, 0x10000, 17, 0xc6138d64, 0xc612010b, 1, 32768,
     66311}, /* 198.19.141.100 > 198.18.1.11 */
    {1000, 0xc0ffee, 0x10000, 17, 0xc6135e0e, 0xc612010f, 2, 65534,
     65950}, /* 198.19.94.14 > 198.18.1.15 */
    {1000, 0xc0ffee, 0x10000, 17, 0xc613874b, 0xc6120106, 65535, 1,
     66068}, /* 198.19.135.75 > 198.18.1.6 */
    {1000, 0xc0ffee, 0x10000, 17, 0xc6137bc1, 0xc612010c, 30505, 256,
     66412}, /* 198.19.123.193 > 198.18.1.12 */
    {1000, 0xc0ffee, 0x10000, 1, 0xc613e6e5, 0xc6120110, 24813, 0,
     66498}, /* 198.19.230.229 > 198.18.1.16 */
    {1000, 0xc0ffee, 0x10000, 1, 0xc612039e, 0xc6120105, 15712, 0,
     65756},					      /* 198.18.3.158 > 198.18.1.5 */
    {1024, 0x5eed, 0x0, 0, 0xc6120295, 0, 0, 0, 606}, /* 198.18.2.149 */
    {1024, 0x5eed, 0x0, 0, 0xc61325ad, 0, 0, 0, 510}, /* 198.19.37.173 */
    {1024, 0x5eed, 0x0, 0, 0xc6120013, 0, 0, 0, 387}, /* 198.18.0.19 */
    {1024, 0x5eed, 0x0, 0, 0xc6138d64, 0, 0, 0, 776}, /* 198.19.141.100 */
};

static void test_bucket_kernel_answers(void **state)
{
	(void)state;
	if (!little_endian())
		skip();
	for (size_t i = 0; i < sizeof(kernel_tuples) / sizeof(kernel_tuples[0]); i++) {
		const struct kat *k = &kernel_tuples[i];
		struct balance_params p = {
		    .buckets = k->buckets, .seed = k->seed, .offset = k->offset};
		uint32_t got = k->proto == 0 ? balance_bucket_ip(&p, k->saddr)
					     : balance_bucket_tuple(&p, k->proto, k->saddr,
								    k->daddr, k->sport, k->dport);

		if (got != k->bucket)
			fail_msg("vector %zu: bucket %u, the kernel's %u", i, (unsigned)got,
				 (unsigned)k->bucket);
	}
}

/* The spread: a million tuples of one client network to a few servers,
 * every bucket within 6 standard deviations of the mean and the chi-square
 * statistic within 6 of its own (what a uniform hash gives). */
static void spread(uint32_t buckets, uint32_t seed)
{
	struct balance_params p = {.buckets = buckets, .seed = seed, .offset = 0};
	const uint32_t n = 1u << 20;
	uint32_t *count = calloc(buckets, sizeof(*count));
	double mean = (double)n / buckets, chi2 = 0, sd, dof = buckets - 1;
	uint32_t lo = UINT32_MAX, hi = 0;

	assert_non_null(count);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t saddr = IP(198, 18, 0, 0) | (i & 0x1ff); /* 512 clients */
		uint32_t daddr = IP(198, 19, 0, 1) + ((i >> 9) & 3);
		uint16_t sport = (uint16_t)(32768 + (i >> 11)); /* 512 ports */
		uint32_t b = balance_bucket_tuple(&p, 6, saddr, daddr, sport, 443);

		assert_true(b < buckets);
		count[b]++;
	}
	sd = 0;
	for (uint32_t b = 0; b < buckets; b++) {
		double d = count[b] - mean;

		chi2 += d * d / mean;
		lo = count[b] < lo ? count[b] : lo;
		hi = count[b] > hi ? count[b] : hi;
	}
	sd = 0;
	{
		double s = mean * (1.0 - 1.0 / buckets); /* binomial variance */

		while (sd * sd < s) /* sqrt without libm */
			sd += 0.01;
	}
	if (lo < mean - 6 * sd || hi > mean + 6 * sd)
		fail_msg("%u buckets, seed %#x: from %u to %u per bucket, mean %.0f", buckets, seed,
			 lo, hi, mean);
	/* chi-square with dof degrees: mean dof, standard deviation sqrt(2 dof) */
	if (chi2 > dof + 6 * 46.0)
		fail_msg("%u buckets, seed %#x: chi-square %.0f for %.0f degrees", buckets, seed,
			 chi2, dof);
	free(count);
}

static void test_spread(void **state)
{
	(void)state;
	spread(1024, 0x5eed);
	spread(1024, 0);
	spread(1000, 0xdeadbeef);
}

static void test_nft_expr(void **state)
{
	struct balance_params p = {.buckets = 1024, .seed = 0x5eed, .offset = 0};
	char buf[256];
	size_t n;

	(void)state;
	n = balance_nft_expr(&p, buf, sizeof(buf));
	assert_string_equal(buf, "jhash ct original ip saddr . ct original ip daddr . ct original "
				 "proto-src . ct original proto-dst mod 1024 seed 0x5eed");
	assert_int_equal(n, strlen(buf));
	p = (struct balance_params){.buckets = 1000, .seed = 0xdeadbeef, .offset = 65536};
	balance_nft_expr_addrs(&p, buf, sizeof(buf));
	assert_string_equal(buf, "jhash ct original ip saddr . ct original ip daddr mod 1000 "
				 "seed 0xdeadbeef offset 65536");
	p = (struct balance_params){.buckets = 2, .seed = 0, .offset = 0};
	n = balance_nft_expr_ip(&p, buf, sizeof(buf));
	assert_string_equal(buf, "jhash ip saddr mod 2 seed 0x0");
	assert_int_equal(n, strlen(buf));

	/* snprintf's contract: cut and terminated, the full length returned */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(balance_nft_expr_ip(&p, buf, 6), n);
	assert_string_equal(buf, "jhash");
	assert_int_equal(balance_nft_expr_ip(&p, buf, n), n);
	assert_int_equal(strlen(buf), n - 1);
	buf[0] = 'x';
	assert_int_equal(balance_nft_expr_ip(&p, buf, 0), n);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(balance_nft_expr(&p, NULL, 0), strlen("jhash ct original ip saddr . ct "
							       "original ip daddr . ct original "
							       "proto-src . ct original proto-dst "
							       "mod 2 seed 0x0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jhash_lookup3_vectors),
	    cmocka_unit_test(test_jhash_one_word),
	    cmocka_unit_test(test_jhash_every_byte),
	    cmocka_unit_test(test_reciprocal_scale),
	    cmocka_unit_test(test_params_check),
	    cmocka_unit_test(test_bucket_layout),
	    cmocka_unit_test(test_bucket_kernel_answers),
	    cmocka_unit_test(test_spread),
	    cmocka_unit_test(test_nft_expr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
