/*
 * balance_calc: core/balance from the command line, for the kernel check
 * (tests/netns/test_balance.py) and for people.
 *
 *     balance_calc [-n BUCKETS] [-s SEED] [-o OFFSET] expr tuple|addrs|ip
 *         prints the nft expression (balance_nft_expr*) with these parameters
 *     balance_calc [-n BUCKETS] [-s SEED] [-o OFFSET] tuple
 *         reads "PROTO SADDR DADDR SPORT DPORT" lines on stdin (PROTO a
 *         number or tcp, udp, icmp; dotted addresses) and prints for each
 *         the bucket of balance_bucket_tuple, one per line, in order
 *     balance_calc [-n BUCKETS] [-s SEED] [-o OFFSET] ip
 *         the same for "SADDR" lines and balance_bucket_ip
 *     balance_calc [-n BUCKETS] [-s SEED] [-o OFFSET] bench COUNT
 *         the cost of balance_bucket_tuple: COUNT tuples, ns per tuple
 *
 * Defaults: 1024 buckets, seed 0x5eed, offset 0. Numbers in C notation
 * (0x for hex). Exit status 2 on a bad command line or input line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/balance.h"

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: balance_calc [-n BUCKETS] [-s SEED] [-o OFFSET] "
			"expr tuple|addrs|ip | tuple | ip | bench COUNT\n");
	exit(2);
}

static uint32_t num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX) {
		fprintf(stderr, "balance_calc: %s: not a 32-bit number: \"%s\"\n", what, s);
		exit(2);
	}
	return (uint32_t)v;
}

static int addr(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int proto(const char *s, uint8_t *out)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "tcp"))
		v = 6;
	else if (!strcmp(s, "udp"))
		v = 17;
	else if (!strcmp(s, "icmp"))
		v = 1;
	else {
		v = strtoul(s, &end, 0);
		if (end == s || *end || v > 255)
			return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

static int port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (end == s || *end || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static __attribute__((noreturn)) void bad_line(unsigned long n, const char *line)
{
	fprintf(stderr, "balance_calc: stdin:%lu: cannot read \"%s\"\n", n, line);
	exit(2);
}

static void run_tuples(const struct balance_params *p)
{
	char line[256], f[5][64];
	unsigned long n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		uint32_t s, d;
		uint16_t sp, dp;
		uint8_t pr;

		n++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (sscanf(line, "%63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4]) != 5 ||
		    proto(f[0], &pr) || addr(f[1], &s) || addr(f[2], &d) || port(f[3], &sp) ||
		    port(f[4], &dp))
			bad_line(n, line);
		printf("%u\n", (unsigned)balance_bucket_tuple(p, pr, s, d, sp, dp));
	}
}

static void run_ips(const struct balance_params *p)
{
	char line[256], f[64];
	unsigned long n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		uint32_t s;

		n++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (sscanf(line, "%63s", f) != 1 || addr(f, &s))
			bad_line(n, line);
		printf("%u\n", (unsigned)balance_bucket_ip(p, s));
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench(const struct balance_params *p, uint32_t count)
{
	volatile uint32_t sink = 0;
	uint32_t x = 0x12345678, acc = 0;
	double t0, t1;

	if (count == 0)
		usage();
	t0 = now_ns();
	for (uint32_t i = 0; i < count; i++) {
		/* a cheap, varying tuple (xorshift) so nothing is hoisted */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		acc += balance_bucket_tuple(p, 6, 0xc6120000u | (x & 0x1ffff), 0xc6130001u,
					    (uint16_t)(x >> 16), 443);
	}
	t1 = now_ns();
	sink = acc;
	(void)sink;
	printf("tuples %u ns_per_tuple %.2f\n", (unsigned)count, (t1 - t0) / count);
}

int main(int argc, char **argv)
{
	struct balance_params p = {.buckets = 1024, .seed = 0x5eed, .offset = 0};
	char buf[512];
	int c;

	while ((c = getopt(argc, argv, "n:s:o:")) != -1) {
		switch (c) {
		case 'n':
			p.buckets = num(optarg, "-n");
			break;
		case 's':
			p.seed = num(optarg, "-s");
			break;
		case 'o':
			p.offset = num(optarg, "-o");
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (balance_params_check(&p) != 0) {
		fprintf(stderr, "balance_calc: the kernel refuses %u buckets at offset %u\n",
			(unsigned)p.buckets, (unsigned)p.offset);
		return 2;
	}
	if (!strcmp(argv[optind], "expr") && optind + 2 == argc) {
		const char *k = argv[optind + 1];

		if (!strcmp(k, "tuple"))
			balance_nft_expr(&p, buf, sizeof(buf));
		else if (!strcmp(k, "addrs"))
			balance_nft_expr_addrs(&p, buf, sizeof(buf));
		else if (!strcmp(k, "ip"))
			balance_nft_expr_ip(&p, buf, sizeof(buf));
		else
			usage();
		printf("%s\n", buf);
	} else if (!strcmp(argv[optind], "tuple") && optind + 1 == argc) {
		run_tuples(&p);
	} else if (!strcmp(argv[optind], "ip") && optind + 1 == argc) {
		run_ips(&p);
	} else if (!strcmp(argv[optind], "bench") && optind + 2 == argc) {
		bench(&p, num(argv[optind + 1], "COUNT"));
	} else {
		usage();
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
