/*
 * arpflood: the ARP flood of bench/flood.py and tests/netns/test_flood.py,
 * in C so that one sender reaches the rate a host can send. Run inside a
 * namespace the test made; it sends on the one device it is given, and
 * stops after COUNT frames or SECONDS seconds, whichever comes first.
 *
 *     arpflood DEV KIND COUNT SECONDS ARGS...
 *
 *     arpflood DEV request COUNT SECONDS TARGET NET/LEN
 *         broadcast requests "who has TARGET?" from random senders: a
 *         random IP in NET/LEN with a random (unicast, locally
 *         administered) MAC, the Ethernet source the same MAC
 *     arpflood DEV reply COUNT SECONDS DSTMAC NET/LEN
 *         unsolicited replies "IP is at MAC" for random IPs in NET/LEN with
 *         random MACs, sent to DSTMAC (ff:ff:ff:ff:ff:ff for broadcast)
 *     arpflood DEV claim COUNT SECONDS DSTMAC IP MAC
 *         replies "IP is at MAC", all alike, sent to DSTMAC
 *     arpflood DEV dhcp COUNT SECONDS NMACS
 *         broadcast DHCPv4 DISCOVERs (UDP 68 -> 67, 0.0.0.0 ->
 *         255.255.255.255, 342 bytes) from NMACS clients in turn, each a
 *         distinct unicast, locally administered MAC (02:44:..., the
 *         Ethernet source and chaddr alike) with a Windows 10 PC's options:
 *         53 DISCOVER, 61 client id (1 + MAC), 12 host name host-XXXXXX
 *         (the MAC's last three bytes), 60 "MSFT 5.0", 55 its 14 codes, 57
 *         1500, and a random xid; no UDP checksum (0: none, as IPv4 allows)
 *
 * SIGTERM or SIGINT stop it early. Prints one JSON line at the end: {"sent": N, "seconds": S,
 * "pps": R}. libc only; not installed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	  256
#define FRAME_LEN 60
/* Ethernet 14 + IPv4 20 + UDP 8 + BOOTP 236 + cookie 4 + options, padded to
 * BOOTP's 300 bytes after UDP (RFC 1542), as a Windows client sends */
#define DHCP_LEN  342
#define FRAME_MAX DHCP_LEN
#define NMACS_MAX (1u << 24)

enum kind { K_REQUEST, K_REPLY, K_CLAIM, K_DHCP };

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_net(const char *s, uint32_t *net, uint32_t *hostmask)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	int len = atoi(slash + 1);
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1 || len < 1 || len > 32)
		return -1;
	*hostmask = len == 32 ? 0 : (0xffffffffu >> len);
	*net = ntohl(a.s_addr) & ~*hostmask;
	return 0;
}

static void random_mac(uint8_t mac[6])
{
	uint64_t r = rnd();
	memcpy(mac, &r, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
}

/* A random host address of the network: not its network or broadcast address. */
static uint32_t random_ip(uint32_t net, uint32_t hostmask)
{
	for (;;) {
		uint32_t h = (uint32_t)rnd() & hostmask;
		if (hostmask < 3 || (h != 0 && h != hostmask))
			return net | h;
	}
}

static void put_ip(uint8_t *p, uint32_t ip)
{
	uint32_t n = htonl(ip);
	memcpy(p, &n, 4);
}

/* An Ethernet + ARP frame, zero-padded to 60 bytes. */
static void build(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t op,
		  const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	memset(f, 0, FRAME_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[14] = 0;
	f[15] = 1; /* Ethernet */
	f[16] = 0x08;
	f[17] = 0; /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[20] = 0;
	f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	put_ip(f + 28, spa);
	memcpy(f + 32, tha, 6);
	put_ip(f + 38, tpa);
}

/* The RFC 1071 checksum of an IPv4 header of len bytes. */
static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The MAC of DHCP client i: 02:44 ("D") and i, distinct for every i < 2^24. */
static void client_mac(uint32_t i, uint8_t mac[6])
{
	mac[0] = 0x02; /* unicast, locally administered */
	mac[1] = 0x44;
	mac[2] = 0;
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* Where build_dhcp puts what changes from one client to the next. */
#define DHCP_XID    (42 + 4)
#define DHCP_CHADDR (42 + 28)
#define DHCP_OPTS   (42 + 240)

/* A DHCP option at o; returns where the next one goes. */
static uint8_t *put_opt(uint8_t *o, uint8_t code, const void *val, uint8_t len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, val, len);
	return o + 2 + len;
}

/*
 * A DHCPv4 DISCOVER of a Windows 10 PC with the client's MAC left zero
 * (dhcp_client fills it in); the IPv4 header and its checksum are whole.
 */
static void build_dhcp(uint8_t *f)
{
	static const uint8_t prl[] = {1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252};
	memset(f, 0, DHCP_LEN);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((DHCP_LEN - 14) >> 8);
	ip[3] = (uint8_t)(DHCP_LEN - 14);
	ip[8] = 128;		  /* Windows' TTL */
	ip[9] = 17;		  /* UDP */
	memset(ip + 16, 0xff, 4); /* from 0.0.0.0 to 255.255.255.255 */
	uint16_t ck = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(ck >> 8);
	ip[11] = (uint8_t)ck;
	uint8_t *udp = f + 34;
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = (uint8_t)((DHCP_LEN - 34) >> 8);
	udp[5] = (uint8_t)(DHCP_LEN - 34);
	uint8_t *b = f + 42;
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	b[10] = 0x80; /* broadcast flag */
	static const uint8_t cookie[4] = {99, 130, 83, 99};
	memcpy(b + 236, cookie, 4);
	uint8_t *o = f + DHCP_OPTS;
	o = put_opt(o, 53, "\x01", 1);		   /* DISCOVER */
	o = put_opt(o, 61, "\x01\0\0\0\0\0\0", 7); /* client id: Ethernet + the MAC */
	o = put_opt(o, 12, "host-XXXXXX", 11);
	o = put_opt(o, 60, "MSFT 5.0", 8);
	o = put_opt(o, 55, prl, sizeof(prl));
	o = put_opt(o, 57, "\x05\xdc", 2); /* the largest message: 1500 */
	*o = 255;
}

/* Client mac's DISCOVER in f (built by build_dhcp), with a new xid. */
static void dhcp_client(uint8_t *f, const uint8_t mac[6])
{
	static const char hex[] = "0123456789ABCDEF";
	memcpy(f + 6, mac, 6);
	uint32_t xid = (uint32_t)rnd();
	memcpy(f + DHCP_XID, &xid, 4);
	memcpy(f + DHCP_CHADDR, mac, 6);
	memcpy(f + DHCP_OPTS + 3 + 3, mac, 6);
	char *h = (char *)f + DHCP_OPTS + 12 + 2 + 5;
	for (int i = 0; i < 3; i++) {
		h[2 * i] = hex[mac[3 + i] >> 4];
		h[2 * i + 1] = hex[mac[3 + i] & 15];
	}
}

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: arpflood DEV request COUNT SECONDS TARGET NET/LEN\n"
			"       arpflood DEV reply COUNT SECONDS DSTMAC NET/LEN\n"
			"       arpflood DEV claim COUNT SECONDS DSTMAC IP MAC\n"
			"       arpflood DEV dhcp COUNT SECONDS NMACS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 6)
		usage();
	const char *dev = argv[1];
	enum kind k;
	if (strcmp(argv[2], "request") == 0 && argc == 7)
		k = K_REQUEST;
	else if (strcmp(argv[2], "reply") == 0 && argc == 7)
		k = K_REPLY;
	else if (strcmp(argv[2], "claim") == 0 && argc == 8)
		k = K_CLAIM;
	else if (strcmp(argv[2], "dhcp") == 0 && argc == 6)
		k = K_DHCP;
	else
		usage();
	unsigned long long count = strtoull(argv[3], NULL, 10);
	double seconds = atof(argv[4]);
	uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6] = {0};
	uint8_t dst[6], claim_mac[6];
	uint32_t target = 0, net = 0, hostmask = 0, claim_ip = 0, nmacs = 0, first_mac = 0;
	struct in_addr a;
	switch (k) {
	case K_REQUEST:
		if (inet_pton(AF_INET, argv[5], &a) != 1 || parse_net(argv[6], &net, &hostmask) < 0)
			usage();
		target = ntohl(a.s_addr);
		break;
	case K_REPLY:
		if (parse_mac(argv[5], dst) < 0 || parse_net(argv[6], &net, &hostmask) < 0)
			usage();
		break;
	case K_CLAIM:
		if (parse_mac(argv[5], dst) < 0 || inet_pton(AF_INET, argv[6], &a) != 1 ||
		    parse_mac(argv[7], claim_mac) < 0)
			usage();
		claim_ip = ntohl(a.s_addr);
		break;
	case K_DHCP: {
		char *end;
		unsigned long n = strtoul(argv[5], &end, 10);
		if (*end || n < 1 || n > NMACS_MAX)
			usage();
		nmacs = (uint32_t)n;
		break;
	}
	}
	unsigned ifindex = if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "arpflood: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("arpflood: socket");
		return 1;
	}
	int one = 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	/* protocol 0: the socket only sends, it never queues what it receives */
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = 0,
	    .sll_ifindex = (int)ifindex,
	    .sll_halen = 6,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("arpflood: bind");
		return 1;
	}
	rng_state ^= (uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e9);

	static uint8_t frames[BATCH][FRAME_MAX];
	static struct iovec iov[BATCH];
	static struct mmsghdr msgs[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = k == K_DHCP ? DHCP_LEN : FRAME_LEN;
		if (k == K_DHCP)
			build_dhcp(frames[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double t0 = now_s(), end = t0 + seconds;
	unsigned long long sent = 0;
	unsigned long errors = 0;
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (sent < count && !stop) {
		unsigned n = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
		for (unsigned i = 0; i < n; i++) {
			uint8_t mac[6];
			switch (k) {
			case K_REQUEST:
				random_mac(mac);
				build(frames[i], bcast, mac, 1, mac, random_ip(net, hostmask), zero,
				      target);
				break;
			case K_REPLY:
				random_mac(mac);
				build(frames[i], dst, mac, 2, mac, random_ip(net, hostmask), dst,
				      random_ip(net, hostmask));
				break;
			case K_CLAIM:
				build(frames[i], dst, claim_mac, 2, claim_mac, claim_ip, dst,
				      claim_ip);
				break;
			case K_DHCP: /* the clients in turn, from the first not yet sent */
				client_mac((uint32_t)((first_mac + i) % nmacs), mac);
				dhcp_client(frames[i], mac);
				break;
			}
		}
		int r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("arpflood: sendmmsg");
				return 1;
			}
			errors++;
			continue;
		}
		sent += (unsigned)r;
		if (k == K_DHCP)
			first_mac = (uint32_t)((first_mac + (unsigned)r) % nmacs);
		if (now_s() >= end)
			break;
	}
	double dt = now_s() - t0;
	printf("{\"sent\": %llu, \"seconds\": %.3f, \"pps\": %.0f, \"send_errors\": %lu}\n", sent,
	       dt, dt > 0 ? (double)sent / dt : 0.0, errors);
	return 0;
}
