/*
 * bench.h: what the C benchmarks share: a monotonic clock in seconds and
 * a fixed-seed xorshift generator (every run draws the same numbers).
 */
#ifndef ARPHA_BENCH_BENCH_H
#define ARPHA_BENCH_BENCH_H

#include <stdint.h>
#include <time.h>

static inline double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 11;
}

#endif
