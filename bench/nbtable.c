/*
 * bench/nbtable: what the neighbour cache costs, measured, not asserted.
 *
 *  1. per operation, at 400 (Size='s default), 65536 and 1048576 entries
 *     (the most Size= allows): an insert (nbt_seen of a new MAC into a
 *     table sized for them all, filling it), a new MAC in the full table
 *     (which evicts the entry seen least recently), an update of a held
 *     entry (nbt_seen with
 *     a new time: the eviction heap moves it), nbt_set_dhcp and nbt_merge
 *     of a peer's newer record, on held entries in random order (so the
 *     big tables are measured out of the CPU caches, as in production);
 *  2. memory per entry: nbt_entry_size() against the growth of the heap
 *     (mallinfo2) and of the process's resident set (/proc/self/statm)
 *     while the table fills, over the entries;
 *  3. the snooping path per DHCP request: core/dhcpsnoop parses a DHCPv4
 *     REQUEST frame, nbt_set_dhcp takes its facts, core/devtype identifies
 *     the device against the built-in table (data/devtypes.txt).
 *
 * Per-operation figures are the median of ROUNDS rounds (inserts: of 3
 * fills). Prints one table and the snooping path's line per size.
 */
#include <malloc.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/be.h"
#include "core/devtype.h"
#include "core/dhcpsnoop.h"
#include "core/nbtable.h"
#include "os/devtypes_builtin.h"

#define IFACE	 "lan"
#define ROUNDS	 7
#define FILLS	 3
#define QUERIES	 65536 /* operations per round */
#define REQUESTS 4096  /* distinct DHCP request frames (and clients) */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Device i's MAC: locally administered unicast, distinct for every i (odd multiplier). */
static struct mac mac_of(uint32_t i)
{
	struct mac m = {{0x02, 0x42}};
	put32(m.a + 2, i * 2654435761u);
	return m;
}

static uint32_t ip_of(uint32_t i)
{
	return 0xc6120000u | (i & 0x1ffff); /* 198.18.0.0/15 */
}

/* Bytes the allocator holds from the system (arena and mmapped chunks). */
static double heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (double)mi.arena + (double)mi.hblkhd;
}

static double rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static struct nbtable *table_new(uint32_t n)
{
	struct nbt_params p;
	nbt_params_default(&p);
	p.size = n;
	for (size_t i = 0; i < sizeof(p.key); i++)
		p.key[i] = (uint8_t)(0xa5 ^ i);
	struct nbtable *t = nbt_new(&p);
	if (!t) {
		perror("nbt_new");
		exit(1);
	}
	return t;
}

/* What one operation costs, in ns, and what the table takes per entry. */
struct figures {
	double insert, evict, update, dhcp, merge;
	double heap_per_entry, rss_per_entry;
	double snoop, parse, match; /* the snooping path, and two of its steps alone */
};

static uint64_t now_ms = 1000000;
static uint64_t sink;

/* Fill a new table with n devices; ns per insert. The table stays in *out. */
static double fill(uint32_t n, struct nbtable **out, double *heap, double *rss)
{
	double h0 = heap_bytes(), r0 = rss_bytes();
	double t0 = secs();
	struct nbtable *t = table_new(n);
	for (uint32_t i = 0; i < n; i++) {
		struct mac m = mac_of(i);
		if (!nbt_seen(t, IFACE, &m, ip_of(i), now_ms++, NBT_SRC_ARP)) {
			perror("nbt_seen (insert)");
			exit(1);
		}
	}
	double dt = secs() - t0;
	*heap = (heap_bytes() - h0) / n;
	*rss = (rss_bytes() - r0) / n;
	*out = t;
	return dt / n * 1e9;
}

static void fill_dhcp(struct nbt_dhcp *d, uint32_t i)
{
	memset(d, 0, sizeof(*d));
	d->ip4 = ip_of(i);
	snprintf(d->hostname, sizeof(d->hostname), "host-%u", i);
	memcpy(d->vendor_class, "MSFT 5.0", 9);
	static const uint8_t prl[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
	memcpy(d->prl, prl, sizeof(prl));
	d->prl_len = sizeof(prl);
}

enum op { OP_UPDATE, OP_DHCP, OP_MERGE, OP_EVICT };
static const char *const op_name[] = {"nbt_seen", "nbt_set_dhcp", "nbt_merge", "nbt_seen"};

/*
 * ns per operation op on held entries (queries q), median of ROUNDS rounds;
 * OP_EVICT: a new device in the full table (n held), which evicts the one
 * seen least recently: a busy LAN's steady state.
 */
static double held_ops(struct nbtable *t, uint32_t n, const uint32_t *q, enum op op)
{
	double v[ROUNDS];
	struct nbt_dhcp d;
	fill_dhcp(&d, 7);
	struct nbt_record r;
	memset(&r, 0, sizeof(r));
	memcpy(r.iface, IFACE, sizeof(IFACE));
	r.sources = NBT_SRC_ARP | NBT_SRC_DHCP;
	r.n_ip4 = 1;
	memcpy(r.dhcp.hostname, "peer-host", 10);
	memcpy(r.type, "computer", 9);
	r.confidence = 70;
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = secs();
		for (size_t i = 0; i < QUERIES; i++) {
			struct mac m = mac_of(q[i]);
			uint64_t now = now_ms++;
			bool ok = false;
			switch (op) {
			case OP_UPDATE:
				ok = nbt_seen(t, IFACE, &m, ip_of(q[i]), now, NBT_SRC_ARP) != NULL;
				break;
			case OP_DHCP:
				d.ip4 = ip_of(q[i] + 1);
				ok = nbt_set_dhcp(t, IFACE, &m, &d, now) != NULL;
				break;
			case OP_MERGE:
				r.mac = m;
				r.ip4[0] = ip_of(q[i] + 2);
				r.first_seen = now - 1000;
				r.last_seen = now; /* newer than ours: its fields win */
				ok = nbt_merge(t, &r, 2, now) == 0;
				break;
			case OP_EVICT:
				m = mac_of(n + (uint32_t)(k * QUERIES + i));
				ok = nbt_seen(t, IFACE, &m, 0, now, NBT_SRC_ARP) != NULL;
				break;
			}
			if (!ok) {
				perror(op_name[op]);
				exit(1);
			}
			sink++;
		}
		v[k] = (secs() - t0) / QUERIES * 1e9;
	}
	return median(v, ROUNDS);
}

/* ---- the snooping path ---- */

/*
 * A DHCPv4 REQUEST as clients send it (INIT-REBOOT/SELECTING: broadcast
 * from 0.0.0.0): client identifier, requested address, server id, max
 * size, host name, vendor class and the request list of the system it
 * plays: even i an iPhone, odd i a Windows PC. Returns the length.
 */
static size_t request_frame(uint8_t *f, size_t cap, uint32_t i)
{
	memset(f, 0, cap);
	struct mac m = mac_of(i);
	memset(f, 0xff, 6);
	memcpy(f + 6, m.a, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, 0x3903f326u ^ i); /* xid */
	put16(b + 10, 0x8000);	       /* broadcast flag */
	memcpy(b + 28, m.a, 6);	       /* chaddr */
	uint8_t *o = b + 236;
	put32(o, 0x63825363u); /* magic cookie */
	o += 4;
	*o++ = 53, *o++ = 1, *o++ = DHCP4_REQUEST;
	*o++ = 61, *o++ = 7, *o++ = 1;
	memcpy(o, m.a, 6), o += 6;
	*o++ = 50, *o++ = 4;
	put32(o, ip_of(i)), o += 4;
	*o++ = 54, *o++ = 4;
	put32(o, 0xc6120001u), o += 4;
	*o++ = 57, *o++ = 2;
	put16(o, 1500), o += 2;
	static const uint8_t prl_ios[] = {1, 121, 3, 6, 15, 108, 114, 119, 252};
	static const uint8_t prl_win[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
	char host[32];
	int hl = i % 2 ? snprintf(host, sizeof(host), "DESKTOP-%05u", i % 100000)
		       : snprintf(host, sizeof(host), "Annas-iPhone-%u", i);
	*o++ = 12, *o++ = (uint8_t)hl;
	memcpy(o, host, (size_t)hl), o += hl;
	if (i % 2) {
		*o++ = 60, *o++ = 8;
		memcpy(o, "MSFT 5.0", 8), o += 8;
		*o++ = 55, *o++ = sizeof(prl_win);
		memcpy(o, prl_win, sizeof(prl_win)), o += sizeof(prl_win);
	} else {
		*o++ = 55, *o++ = sizeof(prl_ios);
		memcpy(o, prl_ios, sizeof(prl_ios)), o += sizeof(prl_ios);
	}
	*o++ = 255;
	size_t blen = (size_t)(o - b);
	if (blen < 300)
		blen = 300; /* BOOTP's minimum, padded as clients do */
	size_t ulen = 8 + blen;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + ulen));
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4); /* to 255.255.255.255 from 0.0.0.0 */
	put16(udp, DHCP_PORT_V4_CLIENT);
	put16(udp + 2, DHCP_PORT_V4_SERVER);
	put16(udp + 4, (uint16_t)ulen);
	return 14 + 20 + ulen;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* What the cache keeps of a parsed message, as the snooping service will take it. */
static void to_nbt(const struct dhcp_info *in, struct nbt_dhcp *d, uint8_t *prl)
{
	memset(d, 0, sizeof(*d));
	d->ip4 = in->has & DHCP_HAS_REQ_IP ? in->req_ip : in->ciaddr;
	copy_str(d->hostname, sizeof(d->hostname), in->hostname);
	copy_str(d->fqdn, sizeof(d->fqdn), in->fqdn);
	copy_str(d->vendor_class, sizeof(d->vendor_class), in->vendor);
	for (size_t k = 0; k < in->prl_len; k++)
		prl[k] = (uint8_t)in->prl[k];
	d->prl_len = (uint8_t)(in->prl_len < NBT_PRL_MAX ? in->prl_len : NBT_PRL_MAX);
	memcpy(d->prl, prl, d->prl_len);
	if (in->has & DHCP_HAS_CLID) {
		size_t room = NBT_CLIENT_ID_MAX - 1; /* after the type byte */
		size_t n = in->clid_len < room ? in->clid_len : room;
		d->client_id[0] = (uint8_t)in->clid_type;
		memcpy(d->client_id + 1, in->clid, n);
		d->client_id_len = (uint8_t)(n + 1);
	}
}

static void to_input(const struct dhcp_info *in, const uint8_t *prl, struct devtype_input *x)
{
	*x = (struct devtype_input){
	    .prl = in->prl_len ? prl : NULL,
	    .prl_len = in->prl_len,
	    .vendor = in->has & DHCP_HAS_VENDOR ? in->vendor : NULL,
	    .host = in->has & DHCP_HAS_HOSTNAME ? in->hostname : NULL,
	    .mac = in->eth_src.a,
	};
}

/*
 * ns per request of the path (or of the parse alone), median of ROUNDS
 * rounds over the frames.
 */
static double snoop(struct nbtable *t, const struct devtype_db *db, uint8_t (*frames)[600],
		    const size_t *lens, bool parse_only)
{
	double v[ROUNDS];
	struct dhcp_info info;
	struct nbt_dhcp d;
	uint8_t prl[DHCP_PRL_MAX];
	struct devtype_input x;
	struct devtype_result res;
	unsigned identified = 0;
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = secs();
		for (size_t i = 0; i < REQUESTS; i++) {
			if (dhcpsnoop_parse(frames[i], lens[i], &info) != DR_OK) {
				fprintf(stderr, "the REQUEST frame does not parse\n");
				exit(1);
			}
			if (parse_only) {
				sink += info.xid;
				continue;
			}
			to_nbt(&info, &d, prl);
			if (!nbt_set_dhcp(t, IFACE, &info.eth_src, &d, now_ms++)) {
				perror("nbt_set_dhcp (snoop)");
				exit(1);
			}
			to_input(&info, prl, &x);
			identified += devtype_match(db, &x, &res) == 0;
		}
		v[k] = (secs() - t0) / REQUESTS * 1e9;
	}
	if (!parse_only && identified != ROUNDS * REQUESTS) {
		fprintf(stderr, "only %u of %u requests identified\n", identified,
			ROUNDS * REQUESTS);
		exit(1);
	}
	return median(v, ROUNDS);
}

/* ns per devtype_match of the requests' facts alone (parsed before the clock). */
static double match_alone(const struct devtype_db *db, uint8_t (*frames)[600], const size_t *lens)
{
	struct dhcp_info *info = malloc(REQUESTS * sizeof(*info));
	uint8_t(*prl)[DHCP_PRL_MAX] = malloc(REQUESTS * sizeof(*prl));
	struct devtype_input *x = malloc(REQUESTS * sizeof(*x));
	if (!info || !prl || !x) {
		perror("match_alone");
		exit(1);
	}
	for (size_t i = 0; i < REQUESTS; i++) {
		dhcpsnoop_parse(frames[i], lens[i], &info[i]);
		for (size_t c = 0; c < info[i].prl_len; c++)
			prl[i][c] = (uint8_t)info[i].prl[c];
		to_input(&info[i], prl[i], &x[i]);
	}
	double v[ROUNDS];
	struct devtype_result res;
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = secs();
		for (size_t i = 0; i < REQUESTS; i++)
			sink += devtype_match(db, &x[i], &res) == 0;
		v[k] = (secs() - t0) / REQUESTS * 1e9;
	}
	free(x);
	free(prl);
	free(info);
	return median(v, ROUNDS);
}

static struct figures measure(uint32_t n, const struct devtype_db *db)
{
	struct figures f;
	double ins[FILLS], heap = 0, rss = 0;
	struct nbtable *t = NULL;
	for (int k = 0; k < FILLS; k++) {
		double h, r;
		if (t)
			nbt_free(t);
		ins[k] = fill(n, &t, &h, &r);
		if (k == 0) { /* later fills reuse what the first gave back */
			heap = h;
			rss = r;
		}
	}
	f.insert = median(ins, FILLS);
	f.heap_per_entry = heap;
	f.rss_per_entry = rss;
	uint32_t *q = malloc(QUERIES * sizeof(*q));
	for (size_t i = 0; i < QUERIES; i++)
		q[i] = (uint32_t)(rnd() % n);
	f.update = held_ops(t, n, q, OP_UPDATE);
	f.dhcp = held_ops(t, n, q, OP_DHCP);
	f.merge = held_ops(t, n, q, OP_MERGE);
	/* the snooping path: requests of held clients, in random order */
	uint8_t(*frames)[600] = malloc(REQUESTS * sizeof(*frames));
	size_t *lens = malloc(REQUESTS * sizeof(*lens));
	for (size_t i = 0; i < REQUESTS; i++)
		lens[i] = request_frame(frames[i], sizeof(frames[i]), q[i]);
	f.snoop = snoop(t, db, frames, lens, false);
	f.parse = snoop(t, db, frames, lens, true);
	f.match = match_alone(db, frames, lens);
	f.evict = held_ops(t, n, q, OP_EVICT); /* last: it replaces the devices held */
	if (nbt_count(t) != n) {
		fprintf(stderr, "the table holds %zu entries, not %u\n", nbt_count(t), n);
		exit(1);
	}
	free(frames);
	free(lens);
	free(q);
	nbt_free(t);
	return f;
}

int main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	struct devtype_db *db = devtype_db_new();
	char err[4096];
	long rules = db ? devtype_db_add_text(db, "devtypes (built in)", devtypes_builtin,
					      devtypes_builtin_len, err, sizeof(err))
			: -1;
	if (rules < 0) {
		fprintf(stderr, "the built-in device types do not load: %s\n", db ? err : "ENOMEM");
		return 1;
	}
	static const uint32_t sizes[] = {400, 65536, 1048576};
	struct figures f[3];
	for (int i = 0; i < 3; i++)
		f[i] = measure(sizes[i], db);
	printf("per operation, ns (median of %d rounds of %d random held entries; inserts: of %d "
	       "fills)\n",
	       ROUNDS, QUERIES, FILLS);
	printf("%9s %8s %8s %8s %9s %8s   %s\n", "entries", "insert", "evict+in", "update",
	       "set_dhcp", "merge", "bytes/entry: nbt_entry_size, heap, RSS");
	for (int i = 0; i < 3; i++)
		printf("%9u %8.1f %8.1f %8.1f %9.1f %8.1f   %zu, %.0f, %.0f\n", sizes[i],
		       f[i].insert, f[i].evict, f[i].update, f[i].dhcp, f[i].merge,
		       nbt_entry_size(), f[i].heap_per_entry, f[i].rss_per_entry);
	printf("(insert: filling a new table, page faults included; evict+in: a new device in the "
	       "full table)\n");
	printf("snooping, ns per DHCPv4 REQUEST (parse + nbt_set_dhcp + devtype_match, %ld "
	       "built-in rules; %d frames, iPhone and Windows alternating)\n",
	       rules, REQUESTS);
	for (int i = 0; i < 3; i++)
		printf("%9u %8.1f   (parse alone %.1f, devtype_match alone %.1f)\n", sizes[i],
		       f[i].snoop, f[i].parse, f[i].match);
	if (sink == 42)
		printf("%llu\n", (unsigned long long)sink);
	devtype_db_free(db);
	return 0;
}
