/*
 * The picture of docs/ranges.md: who claims which bucket over time, in
 * one scenario of the simulator (5 nodes, 1024 buckets, 100 ms
 * heartbeats, DeadInterval 3, 2 % loss): four start, the fifth joins,
 * node 2 crashes, a partition splits {1, 3} from {4, 5}, it heals, node 2
 * comes back with a new incarnation.
 *
 *   ranges_picture FILE   writes the samples to FILE (gnuplot's matrix:
 *                         one row per 10 ms, one column per bucket; the
 *                         value is the claiming node, 0 none, 9 several)
 *
 * then docs/ranges.gp draws them (see docs/ranges.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ranges.h"
#include "sim.h"

#define N	5
#define BUCKETS 1024
#define STEP	10

static void sample(struct sim *s, FILE *f)
{
	for (uint32_t b = 0; b < BUCKETS; b++) {
		int who = 0;
		for (unsigned i = 0; i < N; i++) {
			struct ranges *rg = sim_ranges(s, i);
			if (rg && ranges_has(ranges_claims(rg), b))
				who = who ? 9 : (int)i + 1;
		}
		fprintf(f, "%s%d", b ? " " : "", who);
	}
	fputc('\n', f);
}

static void until(struct sim *s, FILE *f, uint64_t t)
{
	while (sim_now(s) < t) {
		sim_run_until(s, sim_now(s) + STEP);
		sample(s, f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ranges_picture FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	struct sim_params p = {.seed = 4242,
			       .nodes = N,
			       .interval_ms = 100,
			       .dead_count = 3,
			       .loss = 0.02,
			       .delay_ms = 1,
			       .jitter_ms = 1,
			       .buckets = BUCKETS};
	struct sim *s = sim_new(&p);
	if (!s) {
		fprintf(stderr, "ranges_picture: sim_new failed\n");
		return 1;
	}
	sim_crash(s, 4); /* node 5 joins later */
	sample(s, f);
	until(s, f, 1000);
	sim_restart(s, 4); /* the join */
	until(s, f, 2000);
	sim_crash(s, 1); /* node 2 */
	until(s, f, 3000);
	sim_partition(s, 1u << 0 | 1u << 2, 1u << 3 | 1u << 4);
	until(s, f, 4000);
	sim_heal(s);
	until(s, f, 5000);
	sim_restart(s, 1); /* node 2, a new incarnation */
	until(s, f, 6000);
	sim_free(s);
	if (fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
