#include "os/nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/spawn.h"
#include "os/util.h"

struct nft_guard {
	struct nft_ctx *ctx; /* its netlink socket owns the table: keep it open */
	uint16_t log_group;
};

static void first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s ? s : "", "\n");
	if (n >= len)
		n = len - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

/* The chain's rules, one "PREFIX<rule>\n" line each (names are checked by the config). */
static void rules(struct sbuf *b, const char *prefix, const char *const *devs,
		  const uint32_t *ifindex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(b, "%siifname \"%s\" counter drop comment \"arphad decides\"\n", prefix,
			    devs[i]);
		if (ifindex && ifindex[i])
			/* a number, not a name: nft would resolve a name once, now */
			sbuf_printf(
			    b, "%siif %u counter drop comment \"arphad decides: %s, by index\"\n",
			    prefix, ifindex[i], devs[i]);
	}
}

/*
 * The output chain's rules: the requests the host sends on each managed
 * device, by index only (a device arphad does not manage now has nobody to
 * read them), to the NFLOG group, each at once (queue-threshold 1: no
 * batching). ARP sent on a VLAN device stacked on a managed one has the
 * VLAN device as its output device and is not matched: the engine ignores
 * tagged frames for its queries anyway.
 */
static void out_rules(struct sbuf *b, const char *prefix, const char *const *devs,
		      const uint32_t *ifindex, size_t n, uint16_t group)
{
	for (size_t i = 0; i < n; i++)
		if (ifindex[i])
			sbuf_printf(b,
				    "%soif %u arp operation request counter log group %u "
				    "queue-threshold 1 "
				    "comment \"arphad sees the host's requests: %s\"\n",
				    prefix, ifindex[i], group, devs[i]);
}

struct nft_guard *nft_guard_open(const char *const *devs, size_t n, uint16_t log_group, char *err,
				 size_t errlen)
{
	struct nft_guard *g = calloc(1, sizeof(*g));
	if (!g || !(g->ctx = nft_ctx_new(NFT_CTX_DEFAULT))) {
		snprintf(err, errlen, "cannot create an nftables context");
		free(g);
		return NULL;
	}
	nft_ctx_buffer_error(g->ctx);
	g->log_group = log_group;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "table arp " NFT_GUARD_TABLE " {\n"
		    "  flags owner\n"
		    "  chain input {\n"
		    "    type filter hook input priority filter; policy accept;\n");
	rules(&b, "    ", devs, NULL, n);
	/* the output chain: nft_guard_set puts the rules of the managed indexes in */
	sbuf_printf(&b, "  }\n"
			"  chain output {\n"
			"    type filter hook output priority filter; policy accept;\n"
			"  }\n"
			"}\n");
	if (b.oom || nft_run_cmd_from_buffer(g->ctx, b.s) != 0) {
		char msg[256];
		first_line(nft_ctx_get_error_buffer(g->ctx), msg, sizeof(msg));
		/* the table there already: another arphad (or what it left running) owns it */
		if (nft_guard_present() == 1)
			snprintf(err, errlen,
				 "cannot install nftables table \"arp " NFT_GUARD_TABLE
				 "\": another arphad runs in this network namespace and owns it: %s",
				 msg);
		else
			snprintf(err, errlen,
				 "cannot install nftables table \"arp " NFT_GUARD_TABLE
				 "\" (nftables >= 1.0.1 and Linux >= 5.12 are needed for owner "
				 "tables): %s",
				 msg);
		sbuf_free(&b);
		nft_ctx_free(g->ctx);
		free(g);
		return NULL;
	}
	sbuf_free(&b);
	/*
	 * libnftables opens its netlink socket without SOCK_CLOEXEC; that socket
	 * owns the table, so a program arphad runs must never hold it.
	 */
	if (spawn_cloexec_all() < 0) {
		snprintf(err, errlen, "cannot make the nftables socket close-on-exec: %s",
			 strerror(errno));
		nft_guard_close(g);
		return NULL;
	}
	return g;
}

int nft_guard_set(struct nft_guard *g, const char *const *devs, const uint32_t *ifindex, size_t n,
		  char *err, size_t errlen)
{
	struct sbuf b;
	sbuf_init(&b);
	/* one buffer is one transaction: the chain is never seen empty */
	sbuf_printf(&b, "flush chain arp " NFT_GUARD_TABLE " input\n");
	rules(&b, "add rule arp " NFT_GUARD_TABLE " input ", devs, ifindex, n);
	sbuf_printf(&b, "flush chain arp " NFT_GUARD_TABLE " output\n");
	out_rules(&b, "add rule arp " NFT_GUARD_TABLE " output ", devs, ifindex, n, g->log_group);
	if (b.oom) {
		snprintf(err, errlen, "cannot update the nftables guard: out of memory");
		sbuf_free(&b);
		return -1;
	}
	int rc = nft_run_cmd_from_buffer(g->ctx, b.s);
	sbuf_free(&b);
	if (rc != 0) {
		char msg[256];
		first_line(nft_ctx_get_error_buffer(g->ctx), msg, sizeof(msg));
		snprintf(err, errlen,
			 "cannot update nftables table \"arp " NFT_GUARD_TABLE "\": %s", msg);
		return -1;
	}
	return 0;
}

int nft_guard_present(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return -1;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int rc = nft_run_cmd_from_buffer(ctx, "list table arp " NFT_GUARD_TABLE "\n");
	const char *e = nft_ctx_get_error_buffer(ctx);
	/* "No such file or directory" when it is not there; anything else: unknown */
	int present = rc == 0 ? 1 : (e && strstr(e, "No such file or directory")) ? 0 : -1;
	nft_ctx_free(ctx);
	return present;
}

void nft_guard_close(struct nft_guard *g)
{
	if (!g)
		return;
	nft_run_cmd_from_buffer(g->ctx, "delete table arp " NFT_GUARD_TABLE "\n");
	nft_ctx_free(g->ctx);
	free(g);
}
