/*
 * nft: the guard that stops the kernel's own ARP input on the managed
 * interfaces, so only arphad decides. An nftables "arp" table with the
 * owner flag: it belongs to this process's netlink socket, and the kernel
 * removes it when arphad exits or dies, so ARP falls back to the kernel
 * and a crash never leaves the machine deaf.
 */
#ifndef ARPHA_OS_NFT_H
#define ARPHA_OS_NFT_H

#include <stddef.h>

#define NFT_GUARD_TABLE "arpha"

struct nft_guard;

/*
 * Install the table dropping ARP input on each device in devs. Returns the
 * guard, or NULL with a message in err.
 */
struct nft_guard *nft_guard_open(const char *const *devs, size_t n, char *err, size_t errlen);
/* Remove the table and release the context. */
void nft_guard_close(struct nft_guard *g);

#endif
