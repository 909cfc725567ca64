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
};

static void first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s ? s : "", "\n");
	if (n >= len)
		n = len - 1;
	memcpy(out, s ? s : "", n);
	out[n] = '\0';
}

struct nft_guard *nft_guard_open(const char *const *devs, size_t n, char *err, size_t errlen)
{
	struct nft_guard *g = calloc(1, sizeof(*g));
	if (!g || !(g->ctx = nft_ctx_new(NFT_CTX_DEFAULT))) {
		snprintf(err, errlen, "cannot create an nftables context");
		free(g);
		return NULL;
	}
	nft_ctx_buffer_error(g->ctx);
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "table arp " NFT_GUARD_TABLE " {\n"
		    "  flags owner\n"
		    "  chain input {\n"
		    "    type filter hook input priority filter; policy accept;\n");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&b, "    iifname \"%s\" counter drop comment \"arphad decides\"\n",
			    devs[i]);
	sbuf_printf(&b, "  }\n}\n");
	if (b.oom || nft_run_cmd_from_buffer(g->ctx, b.s) != 0) {
		char msg[256];
		first_line(nft_ctx_get_error_buffer(g->ctx), msg, sizeof(msg));
		snprintf(err, errlen,
			 "cannot install nftables table \"arp " NFT_GUARD_TABLE
			 "\" (is another arphad running in this network namespace? nftables >= "
			 "1.0.1 and Linux >= 5.12 are needed for owner tables): %s",
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

void nft_guard_close(struct nft_guard *g)
{
	if (!g)
		return;
	nft_run_cmd_from_buffer(g->ctx, "delete table arp " NFT_GUARD_TABLE "\n");
	nft_ctx_free(g->ctx);
	free(g);
}
