/*
 * bench/udpblast: the sender of bench/balance.py. Sends COUNT 60-byte
 * Ethernet frames (IPv4 + UDP, 18 bytes of payload) out of IFACE with
 * AF_PACKET and sendmmsg, FLOWS flows that differ by UDP source port,
 * round robin, and prints the wall time per frame:
 *
 *     udpblast IFACE DST_MAC SRC_MAC SRC_IP DST_IP FLOWS COUNT
 *
 *     ns_per_packet=N cpu_ns_per_packet=C sent=S
 *
 * On a veth the receiving side's processing (the node's netfilter, the
 * forward, the next veth) runs on the sender's CPU within the send (the
 * softirq at the end of the transmit), so the time per frame is the cost
 * of the whole path; pin the process (taskset) and compare with a path
 * that drops at once. N is wall time, C the process's CPU time (softirqs
 * run in its context included, time other processes took from it
 * excluded; what the kernel defers to ksoftirqd is in neither: the caller
 * adds it). libc only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define FRAME	  60
#define BATCH	  256
#define MAX_FLOWS 65536

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, struct in_addr sip,
		  struct in_addr dip, uint16_t sport)
{
	memset(f, 0, FRAME);
	struct ether_header *eh = (struct ether_header *)f;
	memcpy(eh->ether_dhost, dst, 6);
	memcpy(eh->ether_shost, src, 6);
	eh->ether_type = htons(ETHERTYPE_IP);
	struct iphdr *ip = (struct iphdr *)(f + sizeof(*eh));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME - sizeof(*eh));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = sip.s_addr;
	ip->daddr = dip.s_addr;
	ip->check = csum(ip, sizeof(*ip));
	struct udphdr *u = (struct udphdr *)(ip + 1);
	u->source = htons(sport);
	u->dest = htons(9);
	u->len = htons(FRAME - sizeof(*eh) - sizeof(*ip));
	/* UDP checksum 0: none (IPv4) */
}

int main(int argc, char **argv)
{
	uint8_t dst[6], src[6];
	struct in_addr sip, dip;
	if (argc != 8 || parse_mac(argv[2], dst) < 0 || parse_mac(argv[3], src) < 0 ||
	    inet_pton(AF_INET, argv[4], &sip) != 1 || inet_pton(AF_INET, argv[5], &dip) != 1) {
		fprintf(stderr,
			"usage: udpblast IFACE DST_MAC SRC_MAC SRC_IP DST_IP FLOWS COUNT\n");
		return 2;
	}
	long flows = strtol(argv[6], NULL, 0), count = strtol(argv[7], NULL, 0);
	unsigned ifindex = if_nametoindex(argv[1]);
	if (flows < 1 || flows > MAX_FLOWS || count < 1 || !ifindex) {
		fprintf(stderr, "udpblast: bad FLOWS, COUNT or IFACE %s\n", argv[1]);
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("udpblast: socket(AF_PACKET)");
		return 1;
	}
	int one = 1; /* straight to the driver: no qdisc in the measured path */
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)ifindex,
				  .sll_halen = 6};
	memcpy(sll.sll_addr, dst, 6);
	uint8_t *frames = malloc((size_t)flows * FRAME);
	if (!frames) {
		perror("udpblast");
		return 1;
	}
	for (long i = 0; i < flows; i++)
		frame(frames + i * FRAME, dst, src, sip, dip, (uint16_t)(20000 + i));
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	memset(msg, 0, sizeof(msg));
	long next = 0, sent = 0;
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	while (sent < count) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = frames + next * FRAME;
			iov[i].iov_len = FRAME;
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &sll;
			msg[i].msg_hdr.msg_namelen = sizeof(sll);
			next = next + 1 == flows ? 0 : next + 1;
		}
		int r = sendmmsg(fd, msg, (unsigned)n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("udpblast: sendmmsg");
			return 1;
		}
		sent += r;
		/* frames not sent are sent again, from the flow after the last one */
		next = (next - (n - r) + flows * BATCH) % flows;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
	printf("ns_per_packet=%.1f cpu_ns_per_packet=%.1f sent=%ld\n", ns / (double)sent,
	       cpu / (double)sent, sent);
	free(frames);
	return 0;
}
