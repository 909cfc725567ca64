/*
 * simtest: what the simulator's tests share (after cmocka.h): a check that
 * fails with the seed in the message, and a small PRNG for the tests' own
 * choices, seeded per seed (the sim's own randomness is its seed's).
 */
#ifndef ARPHA_TESTS_SIMTEST_H
#define ARPHA_TESTS_SIMTEST_H

#include <stdint.h>

/* Fail with the seed in the message. */
#define check(cond, seed, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error("seed %llu: ", (unsigned long long)(seed));                    \
			print_error(__VA_ARGS__);                                                  \
			print_error("\n");                                                         \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* splitmix64's step. */
static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* 0..n-1 from the state st. */
static inline unsigned pick(uint64_t *st, unsigned n)
{
	*st = mix(*st);
	return (unsigned)(*st % n);
}

#endif
