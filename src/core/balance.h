/*
 * balance: the bucket of a connection, the one formula of active-active
 * (issue 13) in C and in the nftables rule, from one source.
 *
 * Every node of an active-active cluster sees every packet; nftables lets
 * only the owner of a connection's bucket forward it. The kernel computes
 * the bucket with nft_hash's jhash expression; arphad must compute the very
 * same number (to know which connections a takeover moves, to balance a
 * host's ARP by its address, to show owners). So both sides come from here:
 * balance_bucket_*() compute what the kernel computes, and balance_nft_*()
 * write the expression text for the rule with the same parameters.
 *
 * What the kernel does (net/netfilter/nft_hash.c, nft_jhash_eval):
 *
 *     bucket = reciprocal_scale(jhash(regs, len, seed), modulus) + offset
 *
 * where regs are the nft registers the expression's key was loaded into,
 * len their length in bytes, jhash the lookup3 hash of include/linux/jhash.h
 * and reciprocal_scale(v, n) = (u32)(((u64)v * n) >> 32) (not v % n: the
 * high bits of the hash pick the bucket).
 *
 * The key as nft 1.0.6 lays it out (`nft --debug=netlink`), for
 *   jhash ct original ip saddr . ct original ip daddr
 *         . ct original proto-src . ct original proto-dst
 * four consecutive 32-bit registers, 16 bytes, jhash(reg, 16, seed):
 *
 *     bytes  0..3   original source address, network byte order
 *     bytes  4..7   original destination address, network byte order
 *     bytes  8..11  original source port, network byte order, then 0, 0
 *     bytes 12..15  original destination port, network byte order, then 0, 0
 *
 * (each field of a concatenation takes a whole 4-byte register; nft_ct
 * stores a 2-byte port with nft_reg_store16, which zeroes the register
 * first). `jhash ct original ip saddr . ct original ip daddr` is bytes
 * 0..7 alone (len 8); `jhash ip saddr` the 4 bytes of the packet's source
 * address (len 4).
 *
 * Byte order caveat: the kernel's jhash reads every 12-byte block but the
 * last as host-order 32-bit words (__get_unaligned_cpu32) and the last
 * block byte by byte, little-endian. Keys of 12 bytes or less (ip saddr,
 * the address pair) therefore hash alike on every machine; the 16-byte
 * tuple key does not: its first 12 bytes are read in the host's byte
 * order. This code reads them the same way, so it agrees with the kernel
 * it runs beside; nodes of different endianness would disagree with each
 * other (kernels and arphad alike): a cluster must be of one endianness.
 *
 * Addresses and ports are passed in host byte order, as in core/ctsync
 * (198.18.0.1 is 0xc6120001, port 80 is 80).
 *
 * Pure: no I/O, no clock, no global state; safe from any thread.
 */
#ifndef ARPHA_CORE_BALANCE_H
#define ARPHA_CORE_BALANCE_H

#include <stddef.h>
#include <stdint.h>

/* The parameters of the hash, the same on every node and in the rule. */
struct balance_params {
	uint32_t buckets; /* nft's `mod`: 2 .. 2^32-1 (the kernel refuses 0 and 1) */
	uint32_t seed;	  /* nft's `seed`: always given (without it the kernel draws one) */
	uint32_t offset;  /* nft's `offset`: added to the bucket; 0 for none */
};

/*
 * 0 when the kernel accepts p (buckets >= 2 and offset + buckets - 1 does
 * not wrap, as nft_jhash_init checks); -1 with errno ERANGE otherwise. The
 * bucket functions below compute a number for any p (buckets 0 gives
 * offset), but only a checked p matches a rule the kernel loaded.
 */
int balance_params_check(const struct balance_params *p);

/*
 * The kernel's jhash(key, len, initval) of include/linux/jhash.h (Bob
 * Jenkins' lookup3 hashlittle, on a little-endian host bit for bit): len
 * bytes from key, any alignment. Full 12-byte blocks before the last are
 * read in host byte order (see the caveat above); len 0 returns
 * 0xdeadbeef + initval.
 */
uint32_t balance_jhash(const void *key, size_t len, uint32_t initval);

/* The kernel's reciprocal_scale(val, ep_ro): val scaled into [0, ep_ro). */
uint32_t balance_reciprocal_scale(uint32_t val, uint32_t ep_ro);

/*
 * The bucket the kernel gives a connection by its ORIGINAL-direction
 * tuple: for proto IPPROTO_TCP (6) or IPPROTO_UDP (17) what
 * balance_nft_expr()'s expression computes, over addresses and ports; for
 * any other protocol what balance_nft_expr_addrs()'s computes, over the
 * addresses alone (sport and dport are ignored). The result lies in
 * [offset, offset + buckets).
 */
uint32_t balance_bucket_tuple(const struct balance_params *p, uint8_t proto, uint32_t saddr,
			      uint32_t daddr, uint16_t sport, uint16_t dport);

/*
 * The bucket of a host by its address: what balance_nft_expr_ip()'s
 * `jhash ip saddr ...` computes for a packet from saddr (and so what
 * `jhash ct original ip saddr ...` computes for a connection it opened).
 */
uint32_t balance_bucket_ip(const struct balance_params *p, uint32_t saddr);

/*
 * The nft expression text with p's parameters, NUL-terminated in buf, as
 * snprintf does: returns the length of the whole text (without the NUL);
 * when that is >= len the text was cut (len 0: nothing written).
 * Accepted by nft 1.0.6 after a `meta l4proto { tcp, udp }` (or `tcp`,
 * `udp`) match in the same rule: nft refuses the ports without one. The
 * seed is written in hex, the offset only when not 0:
 *
 *   balance_nft_expr:       jhash ct original ip saddr . ct original ip daddr
 *                           . ct original proto-src . ct original proto-dst
 *                           mod 1024 seed 0x5eed [offset 65536]
 *   balance_nft_expr_addrs: jhash ct original ip saddr . ct original ip daddr
 *                           mod 1024 seed 0x5eed (no dependency needed)
 *   balance_nft_expr_ip:    jhash ip saddr mod 1024 seed 0x5eed
 *
 * For example: `meta l4proto { tcp, udp } ct mark set <balance_nft_expr>`.
 */
size_t balance_nft_expr(const struct balance_params *p, char *buf, size_t len);
size_t balance_nft_expr_addrs(const struct balance_params *p, char *buf, size_t len);
size_t balance_nft_expr_ip(const struct balance_params *p, char *buf, size_t len);

#endif
