/*
 * sim_measure: the seed's "measurement with induced packet loss", in the
 * simulator. 3 nodes, each broadcasting one message every 100 ms, for 60 s
 * of virtual time per loss rate, with the configuration defaults
 * (HeartbeatInterval 100 ms, DeadInterval 3, SendBuffer 256, Encrypt yes).
 *
 * Every datagram on every link is lost with the induced probability,
 * independently (heartbeats, data, NAKs, resends and GONEs alike); delay
 * 1 ms + 0..1 ms jitter.
 *
 *   overhead = (NAK + resync) / (NAK + resync + sync)
 *
 * with NAK = RB_NAK TLVs sent, resync = RB_DATA TLVs sent again plus
 * RB_GONE TLVs, sync = RB_DATA TLVs sent for the first time. Heartbeats
 * are not counted on either side (they flow whatever the loss); the last
 * column shows the overhead with heartbeats counted as sync too, for
 * comparison only.
 *
 * Usage: sim_measure [-r RUNS] [-d DEAD] [-b BUFFER] [-s SEED] [DATAFILE]
 * RUNS repeats each point with further seeds and sums them (default 1).
 * DATAFILE gets one line per loss rate, for gnuplot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define NODES  3
#define PERIOD 100
#define SECS   60

struct point {
	double loss;
	uint64_t sent, expected, delivered, duplicates, naks, resent, gones, data, oos, downs, hbs;
};

static void run(struct point *pt, uint64_t seed, uint32_t dead, uint32_t buffer)
{
	struct sim_params p = {
	    .seed = seed,
	    .nodes = NODES,
	    .interval_ms = 100,
	    .dead_count = dead,
	    .send_buffer = buffer,
	    .encrypt = true,
	    .loss = pt->loss,
	    .delay_ms = 1,
	    .jitter_ms = 1,
	};
	struct sim *s = sim_new(&p);
	if (!s) {
		perror("sim_new");
		exit(1);
	}
	/* until everyone is up: then every node has seen everyone's start */
	for (int up = 0; !up && sim_now(s) < 30000;) {
		sim_run_until(s, sim_now(s) + 10);
		up = 1;
		for (unsigned r = 0; r < NODES; r++)
			for (unsigned o = 0; o < NODES; o++)
				if (o != r && !member_is_up(cluster_member(sim_cluster(s, r)),
							    sim_node_id(o)))
					up = 0;
	}
	sim_clear_records(s);
	struct sim_counts c0, c1;
	sim_counts(s, &c0);
	struct sim_traffic tr;
	memset(&tr, 0, sizeof(tr));
	sim_traffic_run(s, &tr, (1u << NODES) - 1, PERIOD, sim_now(s) + SECS * 1000);
	/* a little quiet, for the repairs of the last messages */
	sim_run_until(s, sim_now(s) + 2000);
	sim_counts(s, &c1);

	uint64_t max = 0;
	for (unsigned o = 0; o < NODES; o++) {
		pt->sent += tr.sent[o];
		pt->expected += tr.sent[o] * (NODES - 1);
		if (tr.sent[o] > max)
			max = tr.sent[o];
	}
	uint8_t *seen = calloc(NODES * NODES * (max + 1), 1);
	if (!seen) {
		perror("calloc");
		exit(1);
	}
	size_t n;
	const struct sim_rec *v = sim_records(s, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned o, g;
		uint64_t k;
		if (v[i].type == CA_NODE_DOWN)
			pt->downs++;
		if (!sim_msg_decode(&v[i], &o, &g, &k) || g != 1 || o >= NODES || k == 0 || k > max)
			continue;
		uint8_t *b = &seen[(v[i].node * NODES + o) * (max + 1) + k];
		if (*b)
			pt->duplicates++;
		else
			pt->delivered++;
		*b = 1;
	}
	free(seen);
	pt->naks += c1.naks - c0.naks;
	pt->resent += c1.resent - c0.resent;
	pt->gones += c1.gones - c0.gones;
	pt->data += c1.data - c0.data;
	pt->hbs += c1.heartbeats - c0.heartbeats;
	pt->oos += c1.out_of_sync - c0.out_of_sync;
	sim_free(s);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sim_measure [-r RUNS] [-d DEAD] [-b BUFFER] [-s SEED] [DATAFILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const double losses[] = {0, 0.01, 0.05, 0.10, 0.20, 0.30};
	unsigned runs = 1, dead = 3, buffer = 256;
	uint64_t seed = 1;
	int ch;
	while ((ch = getopt(argc, argv, "r:d:b:s:")) != -1) {
		switch (ch) {
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			dead = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			buffer = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1 || !runs || !dead || !buffer)
		usage();
	FILE *df = NULL;
	if (optind < argc) {
		df = fopen(argv[optind], "w");
		if (!df) {
			perror(argv[optind]);
			return 1;
		}
		fprintf(df,
			"# sim_measure -r %u -d %u -b %u -s %llu: %d nodes, %d s, one message "
			"every %d ms each\n",
			runs, dead, buffer, (unsigned long long)seed, NODES, SECS, PERIOD);
		fprintf(df, "# loss overhead target(1.5*loss) delivered/expected naks resync sync "
			    "out_of_sync downs duplicates heartbeats overhead_with_heartbeats\n");
	}
	printf("%d nodes, one message every %d ms each, %d s x %u run(s) per point, "
	       "HeartbeatInterval 100 ms, DeadInterval %u, SendBuffer %u\n\n",
	       NODES, PERIOD, SECS, runs, dead, buffer);
	printf(
	    "| loss %% | sent | delivered / expected | duplicates | NAK | resync (resent + gone) "
	    "| out of sync | node down | overhead | overhead / loss | (with heartbeats) |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		struct point pt;
		memset(&pt, 0, sizeof(pt));
		pt.loss = losses[i];
		for (unsigned r = 0; r < runs; r++)
			run(&pt, seed + r, dead, buffer);
		uint64_t over = pt.naks + pt.resent + pt.gones;
		double overhead = over + pt.data ? (double)over / (double)(over + pt.data) : 0;
		double with_hb = (double)over / (double)(over + pt.data + pt.hbs);
		char ratio[32] = "-";
		if (pt.loss > 0)
			snprintf(ratio, sizeof(ratio), "%.2f", overhead / pt.loss);
		printf(
		    "| %g | %llu | %llu / %llu (%.2f %%) | %llu | %llu | %llu + %llu | %llu | %llu "
		    "| %.4f | %s | %.4f |\n",
		    pt.loss * 100, (unsigned long long)pt.sent, (unsigned long long)pt.delivered,
		    (unsigned long long)pt.expected,
		    pt.expected ? 100.0 * (double)pt.delivered / (double)pt.expected : 0,
		    (unsigned long long)pt.duplicates, (unsigned long long)pt.naks,
		    (unsigned long long)pt.resent, (unsigned long long)pt.gones,
		    (unsigned long long)pt.oos, (unsigned long long)pt.downs, overhead, ratio,
		    with_hb);
		if (df)
			fprintf(df, "%g %.6f %.6f %.6f %llu %llu %llu %llu %llu %llu %llu %.6f\n",
				pt.loss, overhead, 1.5 * pt.loss,
				pt.expected ? (double)pt.delivered / (double)pt.expected : 0,
				(unsigned long long)pt.naks,
				(unsigned long long)(pt.resent + pt.gones),
				(unsigned long long)pt.data, (unsigned long long)pt.oos,
				(unsigned long long)pt.downs, (unsigned long long)pt.duplicates,
				(unsigned long long)pt.hbs, with_hb);
	}
	if (df && fclose(df) != 0) {
		perror(argv[optind]);
		return 1;
	}
	return 0;
}
