#include "os/nft_buckets.h"

#include <errno.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/spawn.h"
#include "os/util.h"

#define T	 "ip " NFTB_TABLE
#define EXPR_MAX 512

/* The dead owners' marks in own, by owner: a bitmap of buckets each. */
struct nftb_taken {
	uint16_t owner;
	uint8_t *bits;
};

struct nftb {
	struct nft_ctx *ctx; /* its netlink socket owns the tables: keep it open */
	uint32_t buckets;
	uint16_t owner;
	struct nftb_taken *taken;
	size_t n_taken;
	uint16_t *cur; /* b2m as the kernel has it: owner of each bucket, 0 none */
};

static void first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s ? s : "", "\n");
	if (n >= len)
		n = len - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

/* Run one buffer (one transaction) on t's socket; -1 with "what: nft's first line". */
static int run(struct nft_ctx *ctx, struct sbuf *b, const char *what, char *err, size_t errlen)
{
	if (b->oom) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -1;
	}
	if (nft_run_cmd_from_buffer(ctx, b->s) != 0) {
		char msg[256];
		first_line(nft_ctx_get_error_buffer(ctx), msg, sizeof(msg));
		snprintf(err, errlen, "%s: %s", what, msg);
		return -1;
	}
	return 0;
}

static int check_params(const struct nftb_params *p, char *err, size_t errlen)
{
	if (balance_params_check(&p->balance) < 0 || p->balance.offset != 0 ||
	    p->balance.buckets > 0x10000) {
		snprintf(err, errlen,
			 "active-active buckets: %" PRIu32 " buckets with offset %" PRIu32
			 ": expected 2 to 65536 buckets and offset 0",
			 p->balance.buckets, p->balance.offset);
		return -1;
	}
	if (p->owner == 0) {
		snprintf(err, errlen, "active-active owner id 0 is reserved (undecided)");
		return -1;
	}
	if (p->n_ifaces == 0 || p->n_ifaces > NFTB_MAX_IFACES) {
		snprintf(err, errlen, "active-active: %zu cluster interfaces, expected 1 to %d",
			 p->n_ifaces, NFTB_MAX_IFACES);
		return -1;
	}
	for (size_t i = 0; i < p->n_ifaces; i++) {
		const char *s = p->ifaces[i];
		size_t len = s ? strlen(s) : 0;
		/* IFNAMSIZ, and nothing that could end the quoted name */
		if (len == 0 || len > 15 || strpbrk(s, "\"\\ \t\n;{}")) {
			snprintf(err, errlen, "active-active: bad interface name \"%s\"",
				 s ? s : "");
			return -1;
		}
	}
	return 0;
}

static void iface_set(struct sbuf *b, const struct nftb_params *p)
{
	sbuf_printf(b, "{ ");
	for (size_t i = 0; i < p->n_ifaces; i++)
		sbuf_printf(b, "%s\"%s\"", i ? ", " : "", p->ifaces[i]);
	sbuf_printf(b, " }");
}

/* The table text of nftb_open (3.2 of the research, the hash from core/balance). */
static int table_text(struct sbuf *b, const struct nftb_params *p, char *err, size_t errlen)
{
	char tuple[EXPR_MAX], addrs[EXPR_MAX];
	if (balance_nft_expr(&p->balance, tuple, sizeof(tuple)) >= sizeof(tuple) ||
	    balance_nft_expr_addrs(&p->balance, addrs, sizeof(addrs)) >= sizeof(addrs)) {
		snprintf(err, errlen, "active-active: hash expression too long");
		return -1;
	}
	uint32_t me = (uint32_t)p->owner << 16;
	sbuf_printf(b, "table " T " {\n"
		       "  flags owner\n"
		       "  counter owned { }\n  counter taken { }\n  counter other { }\n"
		       "  counter undecided { }\n  counter shadowed { }\n  counter local { }\n"
		       "  counter invalid { }\n  counter icmp_other { }\n"
		       "  map b2m {\n    type mark : mark\n");
	bool any = false;
	for (uint32_t i = 0; i < p->balance.buckets; i++) {
		uint32_t o = p->map ? p->map[i] : p->owner;
		if (o == 0)
			continue;
		sbuf_printf(b, "%s%" PRIu32 " : 0x%" PRIx32, any ? ", " : "    elements = { ", i,
			    o << 16 | i);
		any = true;
	}
	sbuf_printf(b, "%s  }\n  map own {", any ? " }\n" : "");
	sbuf_printf(b, "\n\n    type mark : verdict\n    elements = { ");
	for (uint32_t i = 0; i < p->balance.buckets; i++)
		sbuf_printf(b, "%s0x%" PRIx32 " : goto mine", i ? ", " : "", me | i);
	sbuf_printf(b, " }\n  }\n"
		       "  chain mine {\n"
		       "    counter name \"owned\" accept\n"
		       "  }\n"
		       "  chain pre {\n"
		       "    type filter hook prerouting priority -150; policy accept;\n"
		       "    iifname != ");
	iface_set(b, p);
	/*
	 * Only frames sent to a multicast MAC are the cluster's: the node's own
	 * unicast traffic passes untouched. Such a frame arrives as
	 * PACKET_MULTICAST, which the kernel never forwards nor gives to TCP:
	 * the accepting rules make it PACKET_HOST (any prerouting priority
	 * does, research 1b), so without the table the node forwards none.
	 */
	sbuf_printf(
	    b,
	    " return\n"
	    "    meta pkttype != multicast return\n"
	    "    ip daddr 224.0.0.0/4 return\n"
	    "    ct state invalid counter name \"invalid\" drop\n"
	    "    ct state untracked return\n"
	    /* pkttype can be set in prerouting only: here, not in "mine" (outp
	     * goes there too); a packet that misses own is dropped anyway.
	     * A connection is decided for good once it has seen a reply;
	     * before that (a SYN sent again) it is decided again by the map as
	     * it is now on every node: a node that marked a first packet for
	     * a giver that had let the bucket go (its release on the way)
	     * would otherwise hold the connection dead, nobody forwarding it */
	    "    ct mark != 0 ct status seen-reply meta pkttype set host ct mark vmap @own\n"
	    "    ct mark != 0 ct status seen-reply counter name \"other\" drop\n"
	    /* the connection's protocol, not the packet's: an ICMP error is
	     * hashed as the connection it belongs to */
	    "    ct original protocol { tcp, udp } meta mark set %s\n"
	    "    ct original protocol != { tcp, udp } meta mark set %s\n"
	    "    meta mark set meta mark map @b2m\n"
	    "    meta mark & 0xffff0000 == 0x%" PRIx32
	    " ct mark set meta mark meta pkttype set host counter name \"taken\" accept\n"
	    /* another node's bucket: its connection for good, also here */
	    "    meta mark & 0xffff0000 != 0 ct mark set meta mark\n"
	    "    ct status ! confirmed fib daddr type local counter name \"local\" drop\n"
	    "    ct status ! confirmed meta mark set 0x%x meta pkttype set host counter name "
	    "\"shadowed\" accept\n"
	    "    counter name \"undecided\" drop\n"
	    "  }\n"
	    "  chain outp {\n"
	    "    type filter hook output priority -150; policy accept;\n"
	    "    meta l4proto icmp ct state related ct mark != 0 ct mark vmap @own\n"
	    "    meta l4proto icmp ct state related ct mark != 0 counter name \"icmp_other\" drop\n"
	    "  }\n"
	    "}\n"
	    "table netdev " NFTB_SHADOW_TABLE " {\n"
	    "  flags owner\n"
	    "  counter shadow_dropped { }\n",
	    tuple, addrs, me, NFTB_SHADOW_MARK);
	for (size_t i = 0; i < p->n_ifaces; i++)
		/* a one-line chain body needs its newline before the "}" (nft 1.0.6) */
		sbuf_printf(b,
			    "  chain e%zu {\n"
			    "    type filter hook egress device \"%s\" priority 0; policy accept;\n"
			    "    meta mark 0x%x counter name \"shadow_dropped\" drop\n"
			    "  }\n",
			    i, p->ifaces[i], NFTB_SHADOW_MARK);
	sbuf_printf(b, "}\n");
	return 0;
}

struct nftb *nftb_open(const struct nftb_params *p, char *err, size_t errlen)
{
	if (check_params(p, err, errlen) < 0)
		return NULL;
	struct nftb *t = calloc(1, sizeof(*t));
	if (!t || !(t->ctx = nft_ctx_new(NFT_CTX_DEFAULT))) {
		snprintf(err, errlen, "cannot create an nftables context");
		free(t);
		return NULL;
	}
	t->buckets = p->balance.buckets;
	t->owner = p->owner;
	if (!(t->cur = calloc(t->buckets, sizeof(*t->cur)))) {
		snprintf(err, errlen, "active-active: out of memory");
		nft_ctx_free(t->ctx);
		free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < t->buckets; i++)
		t->cur[i] = p->map ? p->map[i] : p->owner;
	nft_ctx_buffer_error(t->ctx);
	nft_ctx_buffer_output(t->ctx);
	struct sbuf b;
	sbuf_init(&b);
	char msg[256];
	int rc = table_text(&b, p, err, errlen);
	if (rc == 0 && run(t->ctx, &b, "nft", msg, sizeof(msg)) < 0) {
		/* an existing table of that name is refused by the kernel (owned by
		 * another socket, or the owner flag cannot be added to it) */
		if (nftb_present() == 1)
			snprintf(err, errlen,
				 "cannot install nftables tables \"" T
				 "\" and \"netdev " NFTB_SHADOW_TABLE
				 "\": one exists already (another arphad runs in this network "
				 "namespace): %s",
				 msg);
		else
			snprintf(
			    err, errlen,
			    "cannot install nftables tables \"" T
			    "\" and \"netdev " NFTB_SHADOW_TABLE
			    "\" (owner tables need nftables >= 1.0.1 and Linux >= 5.12, egress "
			    "hooks Linux >= 5.16): %s",
			    msg);
		rc = -1;
	}
	sbuf_free(&b);
	if (rc < 0) {
		nft_ctx_free(t->ctx);
		free(t->cur);
		free(t);
		return NULL;
	}
	/*
	 * The first command after the table costs libnftables some 7 ms more
	 * than the next ones (measured, nft 1.0.6): pay it now, not in the
	 * first takeover.
	 */
	struct nftb_stats warm;
	(void)nftb_counters(t, &warm, msg, sizeof(msg));
	sbuf_init(&b); /* elements that are there already: nothing changes */
	if (t->cur[0])
		sbuf_printf(&b, "add element " T " b2m { 0 : 0x%" PRIx32 " }\n",
			    (uint32_t)t->cur[0] << 16);
	sbuf_printf(&b, "add element " T " own { 0x%" PRIx32 " : goto mine }\n",
		    (uint32_t)p->owner << 16);
	(void)run(t->ctx, &b, "warm", msg, sizeof(msg));
	sbuf_free(&b);
	/* libnftables' socket is not close-on-exec; it owns the tables */
	if (spawn_cloexec_all() < 0) {
		snprintf(err, errlen, "cannot make the nftables socket close-on-exec: %s",
			 strerror(errno));
		nftb_close(t);
		return NULL;
	}
	return t;
}

static struct nftb_taken *taken_of(struct nftb *t, uint16_t owner, int create)
{
	for (size_t i = 0; i < t->n_taken; i++)
		if (t->taken[i].owner == owner)
			return &t->taken[i];
	if (!create)
		return NULL;
	struct nftb_taken *n = realloc(t->taken, (t->n_taken + 1) * sizeof(*n));
	if (!n)
		return NULL;
	t->taken = n;
	uint8_t *bits = calloc((t->buckets + 7) / 8, 1);
	if (!bits)
		return NULL;
	n[t->n_taken] = (struct nftb_taken){.owner = owner, .bits = bits};
	return &n[t->n_taken++];
}

int nftb_update(struct nftb *t, const uint16_t *owner_of_bucket, size_t n, uint16_t dead_owner,
		const uint32_t *adds, size_t n_adds, char *err, size_t errlen)
{
	if (owner_of_bucket && n != t->buckets) {
		snprintf(err, errlen, "active-active map: %zu owners for %" PRIu32 " buckets", n,
			 t->buckets);
		return -1;
	}
	if (n_adds && (dead_owner == 0 || dead_owner == t->owner)) {
		snprintf(err, errlen, "active-active takeover: owner %u is not another node's",
			 dead_owner);
		return -1;
	}
	for (size_t i = 0; i < n_adds; i++)
		if (adds[i] >= t->buckets) {
			snprintf(err, errlen,
				 "active-active takeover: bucket %" PRIu32 " of %" PRIu32, adds[i],
				 t->buckets);
			return -1;
		}
	struct nftb_taken *tk = NULL;
	if (n_adds && !(tk = taken_of(t, dead_owner, 1))) {
		snprintf(err, errlen, "active-active takeover: out of memory");
		return -1;
	}
	/*
	 * Only what changes: the elements of b2m whose owner is another now
	 * (deleted, then added with the new one, in the same transaction) and
	 * the marks own lacks. libnftables parses every element it is given:
	 * a whole map costs milliseconds the loop cannot spare.
	 */
	struct sbuf b;
	sbuf_init(&b);
	if (owner_of_bucket) {
		int first = 1;
		for (uint32_t i = 0; i < t->buckets; i++) {
			if (!t->cur[i] || t->cur[i] == owner_of_bucket[i])
				continue;
			sbuf_printf(&b, "%s%" PRIu32, first ? "delete element " T " b2m { " : ", ",
				    i);
			first = 0;
		}
		if (!first)
			sbuf_printf(&b, " }\n");
		first = 1;
		for (uint32_t i = 0; i < t->buckets; i++) {
			if (!owner_of_bucket[i] || t->cur[i] == owner_of_bucket[i])
				continue;
			sbuf_printf(&b, "%s%" PRIu32 " : 0x%" PRIx32,
				    first ? "add element " T " b2m { " : ", ", i,
				    (uint32_t)owner_of_bucket[i] << 16 | i);
			first = 0;
		}
		if (!first)
			sbuf_printf(&b, " }\n");
	}
	int first = 1;
	for (size_t i = 0; i < n_adds; i++) {
		if (tk->bits[adds[i] / 8] & (1u << (adds[i] % 8)))
			continue; /* there already */
		sbuf_printf(&b, "%s0x%" PRIx32 " : goto mine",
			    first ? "add element " T " own { " : ", ",
			    (uint32_t)dead_owner << 16 | adds[i]);
		first = 0;
	}
	if (!first)
		sbuf_printf(&b, " }\n");
	int rc = b.len ? run(t->ctx, &b, "cannot update nftables table \"" T "\"", err, errlen) : 0;
	sbuf_free(&b);
	if (rc == 0) {
		for (size_t i = 0; i < n_adds; i++)
			tk->bits[adds[i] / 8] |= (uint8_t)(1u << (adds[i] % 8));
		if (owner_of_bucket)
			memcpy(t->cur, owner_of_bucket, t->buckets * sizeof(*t->cur));
	}
	return rc;
}

int nftb_set_map(struct nftb *t, const uint16_t *owner_of_bucket, size_t n, char *err,
		 size_t errlen)
{
	return nftb_update(t, owner_of_bucket, n, 0, NULL, 0, err, errlen);
}

int nftb_take(struct nftb *t, uint16_t dead_owner, const uint32_t *buckets, size_t n, char *err,
	      size_t errlen)
{
	return nftb_update(t, NULL, 0, dead_owner, buckets, n, err, errlen);
}

int nftb_forget(struct nftb *t, uint16_t dead_owner, char *err, size_t errlen)
{
	struct nftb_taken *tk = taken_of(t, dead_owner, 0);
	if (!tk)
		return 0;
	struct sbuf b;
	sbuf_init(&b);
	int first = 1;
	for (uint32_t i = 0; i < t->buckets; i++) {
		if (!(tk->bits[i / 8] & (1u << (i % 8))))
			continue;
		sbuf_printf(&b, "%s0x%" PRIx32, first ? "delete element " T " own { " : ", ",
			    (uint32_t)dead_owner << 16 | i);
		first = 0;
	}
	if (!first)
		sbuf_printf(&b, " }\n");
	int rc = first ? 0 : run(t->ctx, &b, "cannot update nftables table \"" T "\"", err, errlen);
	sbuf_free(&b);
	if (rc == 0) {
		free(tk->bits);
		*tk = t->taken[--t->n_taken];
	}
	return rc;
}

/* "counter NAME {" then "packets P bytes B" in nft's listing: P of NAME. */
static uint64_t counter_of(const char *out, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "counter %s {", name);
	const char *s = strstr(out, key);
	if (!s || !(s = strstr(s, "packets ")))
		return 0;
	return strtoull(s + 8, NULL, 10);
}

int nftb_counters(struct nftb *t, struct nftb_stats *s, char *err, size_t errlen)
{
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b, "list counters table " T "\nlist counters table netdev " NFTB_SHADOW_TABLE
			"\n");
	int rc =
	    run(t->ctx, &b, "cannot read the counters of nftables table \"" T "\"", err, errlen);
	sbuf_free(&b);
	if (rc < 0)
		return -1;
	const char *out = nft_ctx_get_output_buffer(t->ctx);
	if (!out)
		out = "";
	*s = (struct nftb_stats){
	    .owned = counter_of(out, "owned"),
	    .taken = counter_of(out, "taken"),
	    .other = counter_of(out, "other"),
	    .undecided = counter_of(out, "undecided"),
	    .shadowed = counter_of(out, "shadowed"),
	    .shadow_dropped = counter_of(out, "shadow_dropped"),
	    .local = counter_of(out, "local"),
	    .invalid = counter_of(out, "invalid"),
	    .icmp_other = counter_of(out, "icmp_other"),
	};
	return 0;
}

/* 1 the table exists, 0 not, -1 cannot tell. */
static int table_present(struct nft_ctx *ctx, const char *cmd)
{
	int rc = nft_run_cmd_from_buffer(ctx, cmd);
	const char *e = nft_ctx_get_error_buffer(ctx);
	return rc == 0 ? 1 : (e && strstr(e, "No such file or directory")) ? 0 : -1;
}

int nftb_present(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return -1;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int a = table_present(ctx, "list table " T "\n");
	int b = table_present(ctx, "list table netdev " NFTB_SHADOW_TABLE "\n");
	nft_ctx_free(ctx);
	return a == 1 || b == 1 ? 1 : a == 0 && b == 0 ? 0 : -1;
}

void nftb_close(struct nftb *t)
{
	if (!t)
		return;
	nft_run_cmd_from_buffer(t->ctx, "delete table " T "\n"
					"delete table netdev " NFTB_SHADOW_TABLE "\n");
	nft_ctx_free(t->ctx);
	for (size_t i = 0; i < t->n_taken; i++)
		free(t->taken[i].bits);
	free(t->taken);
	free(t->cur);
	free(t);
}
