/*
 * nft: the guard that stops the kernel's own ARP input on the managed
 * interfaces, so only arphad decides. An nftables "arp" table with the
 * owner flag: it belongs to this process's netlink socket, and the kernel
 * removes it when arphad exits or dies, so ARP falls back to the kernel
 * and a crash never leaves the machine deaf.
 *
 * Each managed device is matched twice: by its configured name (iifname),
 * which holds from the first frame of a device created under that name,
 * before arphad has seen it; and by its index (iif) while arphad manages
 * it, which holds when the device is renamed. So neither a rename nor a
 * device deleted and created again opens a gap in the guard.
 *
 * The same table has an output chain that shows arphad the ARP requests
 * the host sends on each managed device (by index, while arphad manages
 * it): they go to an NFLOG group (os/nflog.h), so no packet socket has to
 * see every frame the device sends.
 */
#ifndef ARPHA_OS_NFT_H
#define ARPHA_OS_NFT_H

#include <stddef.h>
#include <stdint.h>

#define NFT_GUARD_TABLE "arpha"

struct nft_guard;

/*
 * Install the table dropping ARP input on each device named in devs (by
 * name only; nft_guard_set adds the indexes), with an empty output chain
 * (nft_guard_set fills it: the requests sent on the devices, to NFLOG
 * group log_group). Returns the guard, or NULL with a message in err: the
 * table exists already (another arphad in this network namespace owns
 * it), or the kernel refused it. Nothing is left installed on failure.
 */
struct nft_guard *nft_guard_open(const char *const *devs, size_t n, uint16_t log_group, char *err,
				 size_t errlen);

/*
 * Replace the rules, in one transaction on the netlink socket that owns the
 * table: ARP input is dropped on every device named devs[i] and, where
 * ifindex[i] is not 0, on the device with that index, whose ARP requests
 * sent are logged to the guard's NFLOG group. 0, or -1 with a message in
 * err (the old rules then stay as they were).
 */
int nft_guard_set(struct nft_guard *g, const char *const *devs, const uint32_t *ifindex, size_t n,
		  char *err, size_t errlen);

/*
 * Whether the table exists in this network namespace (an arphad runs here,
 * or a process that inherited its netlink socket): 1 yes, 0 no, -1 cannot
 * tell.
 */
int nft_guard_present(void);

/* Remove the table and release the context. */
void nft_guard_close(struct nft_guard *g);

#endif
