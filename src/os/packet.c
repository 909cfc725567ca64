#include "os/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/*
 * The end of the ring's filter: accept ARP at 12, or behind one 802.1Q tag
 * at 16; drop the rest. Seven statements: a jump of 6 from just before it
 * lands on its last, the drop. (Most drivers hand the tag over out of
 * band: the filter then sees ARP at 12, and ring_frame puts the tag back.)
 */
#define ARP_OR_TAGGED_ARP                                                                          \
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                                                    \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 3, 0),                                  \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, 0, 3),                                \
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 16),                                                \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1),                                  \
	    BPF_STMT(BPF_RET | BPF_K, 0xffff), BPF_STMT(BPF_RET | BPF_K, 0)

int packet_open(void)
{
	/*
	 * protocol 0 and never bound: the socket receives nothing, so the
	 * kernel hands it no frame (it is in no device's list of taps)
	 */
	return socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int packet_join_mac(int fd, uint32_t ifindex, const struct mac *mac)
{
	struct packet_mreq mr = {
	    .mr_ifindex = (int)ifindex,
	    .mr_type = PACKET_MR_MULTICAST,
	    .mr_alen = 6,
	};
	memcpy(mr.mr_address, mac->a, 6);
	return setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
}

int packet_send(int fd, uint32_t ifindex, const uint8_t *buf, size_t len)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = (int)ifindex,
	    .sll_halen = ETH_ALEN,
	};
	memcpy(sll.sll_addr, buf, ETH_ALEN);
	ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	return n == (ssize_t)len ? 0 : -1;
}

/* ---- the receive ring ---- */

/*
 * Incoming ARP, untagged or behind one 802.1Q tag; not what the host sends
 * (os/nflog has the host's requests).
 */
static struct sock_filter ring_filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 6, 0),
    ARP_OR_TAGGED_ARP,
};

/*
 * The answers a check waits for (packet_ring_divert): ARP replies to the
 * device's own MAC (PACKET_HOST), untagged (a tag the kernel took off
 * would be lost here: those stay with the ring), from a holder being
 * checked (sender MAC and address as the check has them). The answer
 * socket's filter takes exactly these and the ring's the rest; both are
 * made from the same list.
 */
#define ANSWER_HEAD 9  /* statements of the answer filter before the pairs */
#define RING_HEAD   17 /* the ring filter's, with the ARP tail */
#define PAIR_LEN    7
#define FILTER_MAX  (RING_HEAD + PACKET_ANSWERS_MAX * PAIR_LEN + 1)

/* One holder's test: its answer ends in RET ret; anything else goes on to the next. */
static struct sock_filter *put_pair(struct sock_filter *f, const struct packet_answer *a,
				    uint32_t ret)
{
	uint32_t hi = (uint32_t)a->mac.a[0] << 24 | (uint32_t)a->mac.a[1] << 16 |
		      (uint32_t)a->mac.a[2] << 8 | a->mac.a[3];
	uint32_t lo = (uint32_t)a->mac.a[4] << 8 | a->mac.a[5];
	*f++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 22);	  /* sender MAC */
	*f++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 5); /* next pair */
	*f++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 26);
	*f++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 3);
	*f++ = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 28); /* sender address */
	*f++ = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a->ip, 0, 1);
	*f++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret);
	return f;
}

/* The answer socket: the answers of the holders in a[0..n). Returns the length. */
static size_t answer_filter(struct sock_filter *f, const struct packet_answer *a, size_t n)
{
	static const struct sock_filter head[ANSWER_HEAD] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 6),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 4),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 2),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 1, 0), /* an answer: to the pairs */
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	memcpy(f, head, sizeof(head));
	struct sock_filter *p = f + ANSWER_HEAD;
	for (size_t i = 0; i < n; i++)
		p = put_pair(p, &a[i], 0xffff);
	*p++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return (size_t)(p - f);
}

/* The ring: incoming ARP (ring_filter), but the answers of the holders in a[0..n). */
static size_t ring_filter_divert(struct sock_filter *f, const struct packet_answer *a, size_t n)
{
	static const struct sock_filter head[RING_HEAD] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 14, 0), /* the tail's drop */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 7),	 /* to the tail */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 3),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
	    BPF_JUMP(BPF_JMP | BPF_JA, 7, 0, 0), /* an answer: over the tail to the pairs */
	    ARP_OR_TAGGED_ARP,
	};
	memcpy(f, head, sizeof(head));
	struct sock_filter *p = f + RING_HEAD;
	for (size_t i = 0; i < n; i++)
		p = put_pair(p, &a[i], 0);
	*p++ = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff); /* an answer of no holder */
	return (size_t)(p - f);
}

static struct sock_filter nothing_filter[] = {
    BPF_STMT(BPF_RET | BPF_K, 0),
};

#define FILTER(f) (&(struct sock_fprog){.len = sizeof(f) / sizeof((f)[0]), .filter = (f)})

static int set_filter(int fd, const struct sock_fprog *prog)
{
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof(*prog));
}

/*
 * 32 blocks of 64 KiB: an ARP frame takes about 144 bytes of a block
 * (header, address, data), so the ring holds some 14000 frames while
 * arphad is busy elsewhere: 20 ms of the fastest flood one host sends in
 * the benchmark's lab, 60 ms of one that must be answered.
 */
#define RING_BLOCK_SIZE (1u << 16)
#define RING_BLOCKS	32u
#define RING_FRAME_SIZE 2048u

struct packet_ring {
	int fd;
	/* the answer sockets (see packet_ring_divert): the holders', the claimants' */
	int afd[PACKET_ANSWER_SOCKETS];
	struct packet_answer div[PACKET_ANSWER_SOCKETS]
				[PACKET_ANSWERS_MAX]; /* what each takes now */
	size_t n_div[PACKET_ANSWER_SOCKETS];
	uint8_t *map;
	size_t map_len;
	unsigned cur; /* the next block to read */
	/* frames to send, see packet_ring_queue */
	size_t txn;
	uint16_t txlen[PACKET_TXQ_MAX];
	uint8_t tx[PACKET_TXQ_MAX][128];
};

struct packet_ring *packet_ring_open(uint32_t ifindex)
{
	struct packet_ring *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->map = MAP_FAILED;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++)
		r->afd[k] = -1;
	/* protocol 0 first: nothing is queued before the filter is in place */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		goto fail;
	int v3 = TPACKET_V3;
	struct tpacket_req3 req = {
	    .tp_block_size = RING_BLOCK_SIZE,
	    .tp_block_nr = RING_BLOCKS,
	    .tp_frame_size = RING_FRAME_SIZE,
	    .tp_frame_nr = RING_BLOCK_SIZE / RING_FRAME_SIZE * RING_BLOCKS,
	    .tp_retire_blk_tov = PACKET_RING_TIMEOUT_MS,
	};
	if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0 ||
	    set_filter(r->fd, FILTER(ring_filter)) < 0 ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	/*
	 * what the host sends is not even offered to the ring (the filter
	 * refuses it too, where the kernel predates this option): no copy of
	 * every answer arphad sends
	 */
	int one = 1;
	setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	r->map_len = (size_t)RING_BLOCK_SIZE * RING_BLOCKS;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		goto fail;
	/*
	 * ARP alone (a frame behind an 802.1Q tag that no VLAN device takes
	 * comes untagged with its tag aside, as ARP too): a socket for every
	 * protocol would be handed every frame the device carries, forwarded
	 * traffic included, only for the filter to refuse it
	 */
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = (int)ifindex,
	};
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	/* the answer sockets take nothing until diverted */
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		r->afd[k] = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->afd[k] < 0 || set_filter(r->afd[k], FILTER(nothing_filter)) < 0)
			goto fail;
		setsockopt(r->afd[k], SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
		if (bind(r->afd[k], (struct sockaddr *)&sll, sizeof(sll)) < 0)
			goto fail;
	}
	return r;
fail:;
	int e = errno;
	packet_ring_close(r);
	errno = e;
	return NULL;
}

void packet_ring_close(struct packet_ring *r)
{
	if (!r)
		return;
	if (r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++)
		if (r->afd[k] >= 0)
			close(r->afd[k]);
	free(r);
}

int packet_ring_fd(const struct packet_ring *r)
{
	return r->fd;
}

int packet_ring_answers_fd(const struct packet_ring *r, int which)
{
	return r->afd[which];
}

/* Set the filter of fd to the len statements at f. */
static int set_filter_n(int fd, struct sock_filter *f, size_t len)
{
	struct sock_fprog prog = {.len = (unsigned short)len, .filter = f};
	return set_filter(fd, &prog);
}

int packet_ring_divert(struct packet_ring *r, const struct packet_answer *holders, size_t nh)
{
	if (nh > PACKET_ANSWERS_MAX) {
		errno = E2BIG;
		return -1;
	}
	const struct packet_answer *want[PACKET_ANSWER_SOCKETS] = {holders};
	size_t n[PACKET_ANSWER_SOCKETS] = {nh};
	bool same = true;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++)
		same &= n[k] == r->n_div[k] && !memcmp(want[k], r->div[k], n[k] * sizeof(*holders));
	if (same)
		return 0;
	/*
	 * each answer socket whose list changed takes its old answers and its
	 * new ones (its new list alone when that holds the old one), then the
	 * ring gives the new ones up and takes the old ones back, then each
	 * answer socket lets its old ones go: a frame reaches one socket, and
	 * around a switch maybe two, never none
	 */
	struct packet_answer both[2 * PACKET_ANSWERS_MAX];
	struct sock_filter f[RING_HEAD + 2 * PACKET_ANSWERS_MAX * PAIR_LEN + 1];
	bool changed[PACKET_ANSWER_SOCKETS], done[PACKET_ANSWER_SOCKETS];
	int rc = 0;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		changed[k] =
		    n[k] != r->n_div[k] || memcmp(want[k], r->div[k], n[k] * sizeof(*holders)) != 0;
		/* a list that only grew at its end: the new one holds the old */
		done[k] =
		    !changed[k] || (n[k] >= r->n_div[k] &&
				    !memcmp(want[k], r->div[k], r->n_div[k] * sizeof(*holders)));
		if (!changed[k])
			continue;
		size_t len = n[k];
		if (done[k]) {
			memcpy(both, want[k], n[k] * sizeof(*holders));
		} else {
			memcpy(both, r->div[k], r->n_div[k] * sizeof(*holders));
			memcpy(both + r->n_div[k], want[k], n[k] * sizeof(*holders));
			len = r->n_div[k] + n[k];
		}
		rc |= set_filter_n(r->afd[k], f, answer_filter(f, both, len));
	}
	rc |= set_filter_n(r->fd, f, ring_filter_divert(f, holders, nh));
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		if (!done[k])
			rc |= set_filter_n(r->afd[k], f, answer_filter(f, want[k], n[k]));
		memcpy(r->div[k], want[k], n[k] * sizeof(*holders));
		r->n_div[k] = n[k];
	}
	return rc < 0 ? -1 : 0;
}

#define RING_MAX_AGE_NS 2000000000ll

/* The monotonic time (ms) at which a frame stamped ts (CLOCK_REALTIME) arrived. */
struct stamp_base {
	int64_t mono_ns, real_ns;
};

static struct stamp_base stamp_base(void)
{
	struct timespec m, t;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &t);
	return (struct stamp_base){(int64_t)m.tv_sec * 1000000000 + m.tv_nsec,
				   (int64_t)t.tv_sec * 1000000000 + t.tv_nsec};
}

static uint64_t arrival_ms(const struct stamp_base *b, uint32_t sec, uint32_t nsec)
{
	int64_t ago = b->real_ns - ((int64_t)sec * 1000000000 + nsec);
	/*
	 * a frame waits in the ring for a block's time, or a busy loop's; an
	 * age past RING_MAX_AGE_NS means the wall clock was set since: no
	 * better time than now (which makes an answer look slower, never
	 * faster)
	 */
	if (ago < 0 || ago > RING_MAX_AGE_NS || ago > b->mono_ns)
		ago = 0;
	return (uint64_t)((b->mono_ns - ago) / 1000000);
}

size_t packet_ring_read_answers(struct packet_ring *r, int which, size_t max, packet_frame_fn *fn,
				void *arg)
{
	enum { BATCH = 16 };
	uint8_t buf[BATCH][256];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	size_t frames = 0;
	while (!max || frames < max) {
		for (size_t i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
			msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int k = recvmmsg(r->afd[which], msg, BATCH, MSG_DONTWAIT, NULL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		struct stamp_base b = stamp_base();
		uint64_t now = (uint64_t)(b.mono_ns / 1000000);
		for (int i = 0; i < k; i++)
			fn(arg, buf[i], msg[i].msg_len, false, now);
		frames += (size_t)k;
		if (k < BATCH)
			break;
	}
	return frames;
}

/* One frame of a block: copied out with its VLAN tag put back, then to fn. */
static void ring_frame(const struct tpacket3_hdr *h, const struct stamp_base *b,
		       packet_frame_fn *fn, void *arg)
{
	const struct sockaddr_ll *sll =
	    (const void *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
	const uint8_t *data = (const uint8_t *)h + h->tp_mac;
	size_t len = h->tp_snaplen;
	uint8_t buf[2048];
	if (len > sizeof(buf) - 4)
		len = sizeof(buf) - 4;
	bool tagged = (h->tp_status & TP_STATUS_VLAN_VALID) && len >= 2 * ETH_ALEN;
	if (!tagged) {
		memcpy(buf, data, len);
	} else {
		/* put the tag back where it was, so the codec sees the frame as sent */
		uint16_t tci = h->hv1.tp_vlan_tci;
		memcpy(buf, data, 2 * ETH_ALEN);
		buf[12] = ETH_P_8021Q >> 8;
		buf[13] = ETH_P_8021Q & 0xff;
		buf[14] = (uint8_t)(tci >> 8);
		buf[15] = (uint8_t)tci;
		memcpy(buf + 16, data + 2 * ETH_ALEN, len - 2 * ETH_ALEN);
		len += 4;
	}
	fn(arg, buf, len, sll->sll_pkttype == PACKET_OTHERHOST,
	   arrival_ms(b, h->tp_sec, h->tp_nsec));
}

size_t packet_ring_read(struct packet_ring *r, size_t max_blocks, packet_frame_fn *fn, void *arg)
{
	size_t frames = 0;
	for (size_t b = 0; !max_blocks || b < max_blocks; b++) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->cur * RING_BLOCK_SIZE);
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			break;
		uint32_t n = bd->hdr.bh1.num_pkts;
		struct stamp_base sb = stamp_base();
		const uint8_t *p = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
		for (uint32_t i = 0; i < n; i++) {
			const struct tpacket3_hdr *h = (const void *)p;
			ring_frame(h, &sb, fn, arg);
			p += h->tp_next_offset;
		}
		frames += n;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % RING_BLOCKS;
	}
	return frames;
}

size_t packet_ring_flush(struct packet_ring *r, int fd, uint32_t ifindex)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = (int)ifindex,
	    .sll_halen = ETH_ALEN,
	};
	struct iovec iov[PACKET_TXQ_MAX];
	struct mmsghdr msg[PACKET_TXQ_MAX];
	size_t n = r->txn, failed = 0;
	r->txn = 0;
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){.iov_base = r->tx[i], .iov_len = r->txlen[i]};
		msg[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &sll,
						      .msg_namelen = sizeof(sll),
						      .msg_iov = &iov[i],
						      .msg_iovlen = 1}};
	}
	for (size_t i = 0; i < n;) {
		int k = sendmmsg(fd, msg + i, (unsigned)(n - i), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* the first one failed: count it, go on with the next */
			failed++;
			i++;
			continue;
		}
		i += (size_t)k;
	}
	return failed;
}

size_t packet_ring_queue(struct packet_ring *r, int fd, uint32_t ifindex, const uint8_t *buf,
			 size_t len)
{
	if (len > sizeof(r->tx[0]))
		return 1;
	size_t failed = r->txn == PACKET_TXQ_MAX ? packet_ring_flush(r, fd, ifindex) : 0;
	memcpy(r->tx[r->txn], buf, len);
	r->txlen[r->txn++] = (uint16_t)len;
	return failed;
}

uint64_t packet_ring_drops(struct packet_ring *r)
{
	struct tpacket_stats_v3 st;
	struct tpacket_stats ast;
	socklen_t len = sizeof(st), alen = sizeof(ast);
	uint64_t n = 0;
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		n += st.tp_drops;
	for (int k = 0; k < PACKET_ANSWER_SOCKETS; k++) {
		alen = sizeof(ast);
		if (getsockopt(r->afd[k], SOL_PACKET, PACKET_STATISTICS, &ast, &alen) == 0)
			n += ast.tp_drops;
	}
	return n;
}
