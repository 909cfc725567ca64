/*
 * aaflows: the traffic of the active-active test (tests/netns/test_aa.py),
 * counting every message. libc and epoll only; one process, one thread.
 *
 *     aaflows server [--tcp-port P] [--udp-port Q]
 *     aaflows client --server IP --tcp N --udp M --period MS --duration S
 *                    [--tcp-port P] [--udp-port Q] [--src-base IP --src-count K]
 *                    [--gap-threshold MS] [--grace MS] [--new-conn-rate R]
 *                    [--mark-file F] [--wave W] [--connect-timeout S]
 *                    [--flows-file F]
 *
 * Every message is 16 bytes: magic, kind (a long-lived flow's, or a short
 * connection's), id, sequence number, in network byte order.
 *
 * The server echoes each TCP message on its connection and each UDP
 * datagram to its sender, and counts the messages it received by kind. It
 * prints "ready" when it listens, its counts as one JSON line on SIGUSR1
 * (and goes on), and once more on SIGTERM or SIGINT (and exits 0):
 *     {"tcp": flow messages, "udp": ..., "churn": short connections' messages,
 *      "tcp_conns": connections accepted, "bad": records that were not ours}
 *
 * The client opens N TCP connections (at most W connecting at once) from
 * K consecutive source addresses from IP (round robin; the kernel picks
 * the ports), then M UDP flows (a socket each), and prints one JSON line
 * when all are settled: {"ready": true, "tcp_up": .., "tcp_failed": ..,
 * "udp_up": .., "setup_s": ..}. From then on every flow sends a message
 * every period, the flows' sends spread evenly over the period, for
 * duration seconds; then it waits up to the grace time for the echoes
 * still out, and prints the report (one JSON line) and exits 0:
 *
 *   "tcp", "udp": flows, up, sent, echoed (distinct sequence numbers),
 *       dup (a sequence echoed again), lost (sent, not echoed by the end),
 *       stray (an echo of nothing sent), connect_failed, connect_slow
 *       (took over 900 ms: a SYN was retransmitted), connect_ms_max,
 *       reset, closed (EOF), errors (another error; UDP: ICMP errors),
 *       gap_max_ms, gap_p99_ms, gap_over (flows whose longest gap between
 *       two consecutive echoes exceeded the threshold), send_blocked
 *       (messages a stalled TCP socket could not take: not sent), stalled
 *       (flows dead, or without an echo in the last max(threshold, 3
 *       periods) of the sending: a UDP flow that lost datagrams in a
 *       failure but carries data again is not stalled);
 *   "churn" (with --new-conn-rate R: R short connections a second, each
 *       connect, one echo, close, given up after the connect timeout):
 *       opened, connected, echoed, failed (an error, the connect timeout,
 *       or still under way after the grace time: unfinished), slow (connect
 *       over 900 ms), connect_ms_max, connect_ms_p99, sent, unfinished;
 *   "phases": phase 0 starts with the sending, each SIGUSR1 starts the
 *       next one (at most MAX_PHASES; later ones add to the last). A gap
 *       belongs to the phase in which it ends, so the pause a crash causes
 *       belongs to the phase marked just before the crash. Per phase: t_s
 *       (from the start of the sending), tcp and udp {gap_max_ms,
 *       gap_p99_ms, gap_over}, churn {opened, failed, slow}. With
 *       --mark-file each marker also appends "mark K T_S" to the file once
 *       taken, so a caller can wait for it before it acts;
 *   "worst": the five flows with the longest gaps (proto, id, src, sport,
 *       gap_ms, gap_end_s: when that gap ended, from the start of the sending,
 *       lost, dead);
 *   "t0_mono": the start of the sending on CLOCK_MONOTONIC (seconds), which
 *       a caller's own monotonic clock (Python's time.monotonic) shares.
 * With --flows-file the client also writes one line per flow to F before
 * the report: "PROTO SRC SPORT STATE LOST DUP" (STATE up, dead or failed), then
 * per phase "GAP_MS END DUP" with END the CLOCK_MONOTONIC second at which
 * the phase's longest gap ended (the first echo after it; 0: no gap ended)
 * and DUP the echoes duplicated in the phase.
 * A flow that stopped echoing (lost messages, a dead connection) counts the
 * time from its last echo to the end of the sending as a gap. SIGTERM or
 * SIGINT ends the sending early (then the grace time and the report).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nofile.h"

#define MSG_LEN	     16
#define MAGIC	     0x41414631u /* "AAF1" */
#define KIND_FLOW    1u
#define KIND_CHURN   2u
#define MAX_EVENTS   1024
#define SEND_BATCH   256 /* sends (or connects) between two looks at the echoes */
#define RECV_BUF     65536
#define WBUF_CAP     4096 /* a stalled connection's messages not yet taken by the kernel */
#define SLOW_MS	     900.0
#define MAX_PHASES   16
#define NWORST	     5
#define MAX_FLOWS    200000
#define TOK_SIGNAL   UINT64_MAX
#define TOK_FLOW     (1ull << 32)
#define TOK_CHURN    (2ull << 32)
#define TOK_LISTEN   (3ull << 32)
#define TOK_UDP	     (4ull << 32)
#define TOK_PEER     (5ull << 32)
#define TOK_INDEX(t) ((uint32_t)(t))
#define TOK_KIND(t)  ((t) & ~0xffffffffull)

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: aaflows server [--tcp-port P] [--udp-port Q]\n"
	    "       aaflows client --server IP --tcp N --udp M --period MS --duration S\n"
	    "                      [--tcp-port P] [--udp-port Q] [--src-base IP --src-count K]\n"
	    "                      [--gap-threshold MS] [--grace MS] [--new-conn-rate R]\n"
	    "                      [--mark-file F] [--wave W] [--connect-timeout S]\n"
	    "                      [--flows-file F]\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds for epoll_wait until deadline t (seconds), rounded up, at most 100. */
static int wait_ms(double t, double now)
{
	double ms = (t - now) * 1000.0;
	if (!(ms > 0))
		return 0;
	if (ms > 100)
		return 100;
	int m = (int)ms;
	return m < ms ? m + 1 : m;
}

static double parse_num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, "aaflows: %s: expected a number from %g to %g, got \"%s\"\n", what,
			lo, hi, s);
		usage();
	}
	return v;
}

static struct in_addr parse_ip(const char *s, const char *what)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "aaflows: %s: expected an IPv4 address, got \"%s\"\n", what, s);
		usage();
	}
	return a;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		err(1, "allocating %zu x %zu bytes", n, size);
	return p;
}

static void ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	if (epoll_ctl(ep, op, fd, &ev) < 0)
		err(1, "epoll_ctl(%d, fd %d)", op, fd);
}

/* A signalfd for the given signals, which are blocked from now on. */
static int signals(int ep, const int *sigs, size_t n)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		err(1, "sigprocmask");
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		err(1, "signalfd");
	ep_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN, TOK_SIGNAL);
	return fd;
}

/* The next signal taken from fd, or 0 when none is pending. */
static int next_signal(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

static void put_msg(unsigned char *b, uint32_t kind, uint32_t id, uint32_t seq)
{
	uint32_t w[4] = {htonl(MAGIC), htonl(kind), htonl(id), htonl(seq)};
	memcpy(b, w, MSG_LEN);
}

/* 0 when b is one of ours (kind, id, seq filled in), -1 if not. */
static int get_msg(const unsigned char *b, uint32_t *kind, uint32_t *id, uint32_t *seq)
{
	uint32_t w[4];
	memcpy(w, b, MSG_LEN);
	if (ntohl(w[0]) != MAGIC)
		return -1;
	*kind = ntohl(w[1]);
	*id = ntohl(w[2]);
	*seq = ntohl(w[3]);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n), sorted in place; 0 if empty. */
static double percentile(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* ---------------------------------------------------------------- server */

struct peer {
	unsigned char carry[MSG_LEN]; /* the start of a record split over two reads */
	size_t ncarry;
	unsigned char *pend; /* echo not yet taken by the socket; NULL: none */
	size_t npend;
};

struct server {
	int ep, ls, us, sfd;
	struct peer *peers; /* by fd */
	size_t npeers;
	unsigned char *buf;
	unsigned long long tcp, udp, churn, conns, bad;
};

static int bound_socket(int type, uint16_t port)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(1, "socket");
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		err(1, "SO_REUSEADDR");
	if (type == SOCK_DGRAM) {
		int sz = 8 << 20;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		err(1, "binding %s port %u", type == SOCK_STREAM ? "TCP" : "UDP", port);
	if (type == SOCK_STREAM && listen(fd, 65535) < 0)
		err(1, "listen");
	return fd;
}

/* Count the whole records in b[0..n) (after the peer's carry) by kind. */
static void server_count(struct server *s, struct peer *pe, const unsigned char *b, size_t n,
			 bool tcp)
{
	uint32_t kind, id, seq;
	while (n) {
		size_t take = MSG_LEN - pe->ncarry;
		if (take > n)
			take = n;
		memcpy(pe->carry + pe->ncarry, b, take);
		pe->ncarry += take;
		b += take;
		n -= take;
		if (pe->ncarry < MSG_LEN)
			break;
		pe->ncarry = 0;
		if (get_msg(pe->carry, &kind, &id, &seq) < 0)
			s->bad++;
		else if (kind == KIND_CHURN)
			s->churn++;
		else if (kind == KIND_FLOW)
			(*(tcp ? &s->tcp : &s->udp))++;
		else
			s->bad++;
	}
}

static void peer_close(struct server *s, int fd)
{
	free(s->peers[fd].pend);
	s->peers[fd] = (struct peer){.ncarry = 0};
	close(fd);
}

/*
 * Level-triggered: one recv() per wake-up, echoed at once. What the socket
 * does not take waits in the peer's buffer, and nothing more is read from
 * the connection until it is sent.
 */
static void echo_tcp(struct server *s, int fd)
{
	struct peer *pe = &s->peers[fd];
	if (pe->npend) {
		ssize_t w = send(fd, pe->pend, pe->npend, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			peer_close(s, fd);
			return;
		}
		if (w > 0) {
			pe->npend -= (size_t)w;
			memmove(pe->pend, pe->pend + w, pe->npend);
		}
		if (!pe->npend) {
			free(pe->pend);
			pe->pend = NULL;
			ep_ctl(s->ep, EPOLL_CTL_MOD, fd, EPOLLIN, TOK_PEER | (uint32_t)fd);
		}
		return;
	}
	ssize_t n = recv(fd, s->buf, RECV_BUF, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		peer_close(s, fd);
		return;
	}
	server_count(s, pe, s->buf, (size_t)n, true);
	ssize_t w = send(fd, s->buf, (size_t)n, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		peer_close(s, fd);
		return;
	}
	if (w < 0)
		w = 0;
	if (w < n) {
		if (!(pe->pend = malloc((size_t)(n - w))))
			err(1, "out of memory for an echo");
		memcpy(pe->pend, s->buf + w, (size_t)(n - w));
		pe->npend = (size_t)(n - w);
		ep_ctl(s->ep, EPOLL_CTL_MOD, fd, EPOLLOUT, TOK_PEER | (uint32_t)fd);
	}
}

static void echo_udp(struct server *s)
{
	struct peer dgram = {.ncarry = 0};
	for (;;) {
		struct sockaddr_storage a;
		socklen_t alen = sizeof(a);
		ssize_t n = recvfrom(s->us, s->buf, RECV_BUF, 0, (struct sockaddr *)&a, &alen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		dgram.ncarry = 0;
		if (n == MSG_LEN)
			server_count(s, &dgram, s->buf, (size_t)n, false);
		else
			s->bad++;
		(void)sendto(s->us, s->buf, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&a, alen);
	}
}

static void accept_all(struct server *s)
{
	for (;;) {
		int fd = accept4(s->ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				warn("accept");
			return;
		}
		if ((size_t)fd >= s->npeers) {
			warnx("fd %d beyond the open files limit; closing it", fd);
			close(fd);
			continue;
		}
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->conns++;
		ep_ctl(s->ep, EPOLL_CTL_ADD, fd, EPOLLIN, TOK_PEER | (uint32_t)fd);
	}
}

static void server_counts(const struct server *s)
{
	printf("{\"tcp\": %llu, \"udp\": %llu, \"churn\": %llu, \"tcp_conns\": %llu, "
	       "\"bad\": %llu}\n",
	       s->tcp, s->udp, s->churn, s->conns, s->bad);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

static void server_free(struct server *s)
{
	for (size_t fd = 0; fd < s->npeers; fd++)
		free(s->peers[fd].pend);
	free(s->peers);
	free(s->buf);
}

static int server(uint16_t tcp_port, uint16_t udp_port)
{
	struct server s = {.ls = -1};
	raise_nofile(1 << 20);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		err(1, "getrlimit");
	s.npeers = rl.rlim_cur > (1 << 20) ? (1 << 20) : (size_t)rl.rlim_cur;
	s.peers = xcalloc(s.npeers, sizeof(*s.peers));
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		err(1, "epoll_create1");
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
	s.sfd = signals(s.ep, sigs, 3);
	s.ls = bound_socket(SOCK_STREAM, tcp_port);
	s.us = bound_socket(SOCK_DGRAM, udp_port);
	ep_ctl(s.ep, EPOLL_CTL_ADD, s.ls, EPOLLIN, TOK_LISTEN);
	ep_ctl(s.ep, EPOLL_CTL_ADD, s.us, EPOLLIN, TOK_UDP);
	s.buf = xcalloc(RECV_BUF, 1);
	struct epoll_event ev[MAX_EVENTS];
	printf("ready\n");
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	for (;;) {
		int n = epoll_wait(s.ep, ev, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			uint64_t t = ev[i].data.u64;
			if (t == TOK_SIGNAL) {
				int sig;
				while ((sig = next_signal(s.sfd)) != 0) {
					server_counts(&s);
					if (sig != SIGUSR1) {
						server_free(&s);
						return 0;
					}
				}
			} else if (t == TOK_LISTEN) {
				accept_all(&s);
			} else if (t == TOK_UDP) {
				echo_udp(&s);
			} else {
				echo_tcp(&s, (int)TOK_INDEX(t));
			}
		}
	}
}

/* ---------------------------------------------------------------- client */

enum { P_TCP, P_UDP, P__N };
static const char *const proto_name[P__N] = {"tcp", "udp"};
enum { F_IDLE, F_CONNECTING, F_UP, F_DEAD, F_FAILED };
enum { WHY_NONE, WHY_RESET, WHY_CLOSED, WHY_ERROR };

struct flow {
	int fd;
	uint8_t proto, state, why;
	uint8_t ncarry;
	unsigned char carry[MSG_LEN];
	unsigned char *wbuf; /* messages the socket did not take yet (TCP) */
	uint32_t nw;
	uint32_t sent, echoed, dup;
	struct sockaddr_in local;
	double t_open, connect_ms, last_echo, max_gap, max_gap_at;
	uint8_t *seen;	     /* bitmap of the sequence numbers echoed */
	float *phase_gap;    /* MAX_PHASES: the longest gap that ended in each phase */
	double *phase_end;   /* MAX_PHASES: when it ended (CLOCK_MONOTONIC seconds) */
	uint32_t *phase_dup; /* MAX_PHASES: echoes duplicated in each phase */
};

struct churn {
	int fd; /* -1: a free slot */
	uint8_t ncarry, connected;
	unsigned char carry[MSG_LEN];
	uint32_t id;
	int phase;
	double t_open;
};

struct pstats {
	unsigned long long flows, up, sent, echoed, dup, lost, stray, connect_failed, connect_slow,
	    reset, closed, errors, send_blocked, stalled;
	double connect_ms_max;
};

struct client {
	int ep, sfd;
	struct sockaddr_in tcp_to, udp_to;
	struct in_addr src_base;
	uint32_t src_count, n_tcp, n_udp, nflows;
	double period_s, duration_s, grace_s, gap_thr_ms, churn_rate, connect_timeout_s;
	uint32_t wave;
	const char *mark_file;
	const char *flows_file;
	struct flow *flows;
	size_t seen_bytes;
	uint32_t max_seq;
	struct pstats ps[P__N];
	unsigned long long outstanding; /* messages of live flows not yet echoed */
	/* the short connections */
	struct churn *ch;
	uint32_t nch, ch_inflight, ch_next_src;
	unsigned long long ch_opened, ch_connected, ch_echoed, ch_failed, ch_slow, ch_sent;
	double *ch_ms;
	size_t n_ch_ms, cap_ch_ms;
	/* phases */
	int nphases;
	double phase_t[MAX_PHASES]; /* from t0 */
	unsigned long long ph_ch_opened[MAX_PHASES], ph_ch_failed[MAX_PHASES],
	    ph_ch_slow[MAX_PHASES];
	double t0;	   /* the start of the sending */
	double lag_max;	   /* the latest a message was sent after its time (s) */
	double lag_max_at; /* when (from t0) */
	bool stop;
	unsigned char *buf;
};

static struct sockaddr_in source(struct client *cl, uint32_t i)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	if (cl->src_count)
		a.sin_addr.s_addr = htonl(ntohl(cl->src_base.s_addr) + i % cl->src_count);
	return a;
}

/* A nonblocking TCP socket from source i, connecting to the server; -1 with errno. */
static int tcp_connect(struct client *cl, uint32_t i)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cl->src_count) {
		/* the port is chosen at connect(), per 4-tuple: more than 28k per address */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		struct sockaddr_in a = source(cl, i);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&cl->tcp_to, sizeof(cl->tcp_to)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static void flow_end(struct client *cl, struct flow *f, uint8_t state, uint8_t why)
{
	if (f->state == F_UP) {
		cl->outstanding -= f->sent - f->echoed;
		struct pstats *p = &cl->ps[f->proto];
		if (why == WHY_RESET)
			p->reset++;
		else if (why == WHY_CLOSED)
			p->closed++;
		else if (why == WHY_ERROR)
			p->errors++;
	}
	f->state = state;
	f->why = why;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static uint8_t why_of(int e)
{
	return e == ECONNRESET || e == EPIPE ? WHY_RESET : WHY_ERROR;
}

static int phase_now(const struct client *cl)
{
	return cl->nphases ? cl->nphases - 1 : 0;
}

static void echoed(struct client *cl, struct flow *f, uint32_t seq, double now)
{
	struct pstats *p = &cl->ps[f->proto];
	if (seq >= f->sent) {
		p->stray++;
		return;
	}
	if (f->seen[seq / 8] & (1u << (seq % 8))) {
		p->dup++;
		f->dup++;
		f->phase_dup[phase_now(cl)]++;
		return;
	}
	f->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	f->echoed++;
	p->echoed++;
	cl->outstanding--;
	if (f->last_echo > 0) {
		double gap = (now - f->last_echo) * 1000.0;
		if (gap > f->max_gap) {
			f->max_gap = gap;
			f->max_gap_at = now;
		}
		int ph = phase_now(cl);
		if (gap > f->phase_gap[ph]) {
			f->phase_gap[ph] = (float)gap;
			f->phase_end[ph] = now;
		}
	}
	f->last_echo = now;
}

static void take_records(struct client *cl, struct flow *f, const unsigned char *b, size_t n,
			 double now)
{
	uint32_t kind, id, seq;
	while (n) {
		size_t take = MSG_LEN - f->ncarry;
		if (take > n)
			take = n;
		memcpy(f->carry + f->ncarry, b, take);
		f->ncarry = (uint8_t)(f->ncarry + take);
		b += take;
		n -= take;
		if (f->ncarry < MSG_LEN)
			break;
		f->ncarry = 0;
		if (get_msg(f->carry, &kind, &id, &seq) < 0 || kind != KIND_FLOW ||
		    id != (uint32_t)(f - cl->flows))
			cl->ps[f->proto].stray++;
		else
			echoed(cl, f, seq, now);
	}
}

static void flow_readable(struct client *cl, struct flow *f, double now)
{
	for (;;) {
		ssize_t n = recv(f->fd, cl->buf, RECV_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			if (f->proto == P_UDP) {
				cl->ps[P_UDP].errors++; /* an ICMP error; the flow goes on */
				continue;
			}
			flow_end(cl, f, F_DEAD, why_of(errno));
			return;
		}
		if (f->proto == P_UDP) {
			f->ncarry = 0;
			if (n == MSG_LEN)
				take_records(cl, f, cl->buf, MSG_LEN, now);
			else
				cl->ps[P_UDP].stray++;
			continue;
		}
		if (n == 0) {
			flow_end(cl, f, F_DEAD, WHY_CLOSED);
			return;
		}
		take_records(cl, f, cl->buf, (size_t)n, now);
	}
}

/* Send what waits in f->wbuf; -1 when the connection failed (ended). */
static int flow_flush(struct client *cl, struct flow *f)
{
	while (f->nw) {
		ssize_t w = send(f->fd, f->wbuf, f->nw, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			flow_end(cl, f, F_DEAD, why_of(errno));
			return -1;
		}
		f->nw -= (uint32_t)w;
		memmove(f->wbuf, f->wbuf + w, f->nw);
	}
	ep_ctl(cl->ep, EPOLL_CTL_MOD, f->fd, EPOLLIN | (f->nw ? EPOLLOUT : 0),
	       TOK_FLOW | (uint32_t)(f - cl->flows));
	return 0;
}

static void flow_send(struct client *cl, struct flow *f)
{
	if (f->state != F_UP || f->sent >= cl->max_seq)
		return;
	unsigned char m[MSG_LEN];
	put_msg(m, KIND_FLOW, (uint32_t)(f - cl->flows), f->sent);
	struct pstats *p = &cl->ps[f->proto];
	if (f->proto == P_UDP) {
		if (send(f->fd, m, MSG_LEN, MSG_NOSIGNAL) == MSG_LEN) {
			f->sent++;
			p->sent++;
			cl->outstanding++;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			p->send_blocked++;
		} else {
			p->errors++; /* an ICMP error told on send; the flow goes on */
		}
		return;
	}
	if (f->nw + MSG_LEN > WBUF_CAP) {
		p->send_blocked++;
		return;
	}
	if (!f->wbuf)
		f->wbuf = xcalloc(WBUF_CAP, 1);
	memcpy(f->wbuf + f->nw, m, MSG_LEN);
	f->nw += MSG_LEN;
	f->sent++;
	p->sent++;
	cl->outstanding++;
	if (f->nw == MSG_LEN)
		(void)flow_flush(cl, f);
}

static void flow_connected(struct client *cl, struct flow *f, double now)
{
	int e = 0;
	socklen_t len = sizeof(e);
	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	struct pstats *p = &cl->ps[P_TCP];
	if (e) {
		p->connect_failed++;
		flow_end(cl, f, F_FAILED, WHY_NONE);
		return;
	}
	f->connect_ms = (now - f->t_open) * 1000.0;
	if (f->connect_ms > SLOW_MS)
		p->connect_slow++;
	if (f->connect_ms > p->connect_ms_max)
		p->connect_ms_max = f->connect_ms;
	socklen_t alen = sizeof(f->local);
	(void)getsockname(f->fd, (struct sockaddr *)&f->local, &alen);
	f->state = F_UP;
	p->up++;
	ep_ctl(cl->ep, EPOLL_CTL_MOD, f->fd, EPOLLIN, TOK_FLOW | (uint32_t)(f - cl->flows));
}

/* ------------------------------------------------------ short connections */

/* The first failed short connections, for the report: where from, why, when. */
#define CH_FAIL_KEEP 16
static struct {
	char text[96];
} ch_fail[CH_FAIL_KEEP];
static unsigned n_ch_fail;

static void churn_done(struct client *cl, struct churn *c, bool ok, const char *why)
{
	if (!ok) {
		cl->ch_failed++;
		cl->ph_ch_failed[c->phase]++;
		if (n_ch_fail < CH_FAIL_KEEP) {
			struct sockaddr_in a;
			socklen_t alen = sizeof(a);
			memset(&a, 0, sizeof(a));
			(void)getsockname(c->fd, (struct sockaddr *)&a, &alen);
			char ip[INET_ADDRSTRLEN] = "?";
			inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
			snprintf(ch_fail[n_ch_fail++].text, sizeof(ch_fail[0].text),
				 "%s:%u %s after %.0f ms in phase %d", ip, ntohs(a.sin_port), why,
				 (now_s() - c->t_open) * 1000.0, c->phase);
		}
	}
	close(c->fd);
	c->fd = -1;
	cl->ch_inflight--;
}

static void churn_open(struct client *cl, double now)
{
	struct churn *c = NULL;
	for (uint32_t i = 0; i < cl->nch; i++)
		if (cl->ch[i].fd < 0) {
			c = &cl->ch[i];
			break;
		}
	int ph = phase_now(cl);
	cl->ch_opened++;
	cl->ph_ch_opened[ph]++;
	if (!c) {
		cl->ch_failed++; /* more in flight than the slots: the path is stuck anyway */
		cl->ph_ch_failed[ph]++;
		return;
	}
	*c = (struct churn){.fd = tcp_connect(cl, cl->ch_next_src++),
			    .id = (uint32_t)cl->ch_opened,
			    .phase = ph,
			    .t_open = now};
	if (c->fd < 0) {
		cl->ch_failed++;
		cl->ph_ch_failed[ph]++;
		return;
	}
	cl->ch_inflight++;
	ep_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, EPOLLOUT, TOK_CHURN | (uint32_t)(c - cl->ch));
}

static void churn_event(struct client *cl, struct churn *c, double now)
{
	if (c->fd < 0)
		return;
	if (!c->connected) {
		int e = 0;
		socklen_t len = sizeof(e);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e) {
			churn_done(cl, c, false, e ? strerror(e) : "getsockopt");
			return;
		}
		double ms = (now - c->t_open) * 1000.0;
		cl->ch_connected++;
		if (ms > SLOW_MS) {
			cl->ch_slow++;
			cl->ph_ch_slow[c->phase]++;
		}
		if (cl->n_ch_ms == cl->cap_ch_ms) {
			cl->cap_ch_ms = cl->cap_ch_ms ? 2 * cl->cap_ch_ms : 4096;
			cl->ch_ms = realloc(cl->ch_ms, cl->cap_ch_ms * sizeof(*cl->ch_ms));
			if (!cl->ch_ms)
				err(1, "out of memory");
		}
		cl->ch_ms[cl->n_ch_ms++] = ms;
		c->connected = 1;
		unsigned char m[MSG_LEN];
		put_msg(m, KIND_CHURN, c->id, 0);
		if (send(c->fd, m, MSG_LEN, MSG_NOSIGNAL) != MSG_LEN) {
			churn_done(cl, c, false, "send failed");
			return;
		}
		cl->ch_sent++;
		ep_ctl(cl->ep, EPOLL_CTL_MOD, c->fd, EPOLLIN, TOK_CHURN | (uint32_t)(c - cl->ch));
		return;
	}
	ssize_t n = recv(c->fd, c->carry + c->ncarry, MSG_LEN - c->ncarry, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		churn_done(cl, c, false, n == 0 ? "closed before the echo" : strerror(errno));
		return;
	}
	c->ncarry = (uint8_t)(c->ncarry + n);
	if (c->ncarry < MSG_LEN)
		return;
	uint32_t kind, id, seq;
	bool ok = get_msg(c->carry, &kind, &id, &seq) == 0 && kind == KIND_CHURN && id == c->id;
	if (ok)
		cl->ch_echoed++;
	churn_done(cl, c, ok, "a wrong echo");
}

static void churn_timeouts(struct client *cl, double now)
{
	for (uint32_t i = 0; i < cl->nch; i++)
		if (cl->ch[i].fd >= 0 && now - cl->ch[i].t_open > cl->connect_timeout_s)
			churn_done(cl, &cl->ch[i], false,
				   cl->ch[i].connected ? "no echo in time" : "connect timeout");
}

/* ---------------------------------------------------------------- events */

static void marker(struct client *cl, double now)
{
	if (cl->nphases < MAX_PHASES) {
		cl->phase_t[cl->nphases] = now - cl->t0;
		cl->nphases++;
	}
	if (!cl->mark_file)
		return;
	FILE *f = fopen(cl->mark_file, "a");
	if (!f) {
		warn("%s", cl->mark_file);
		return;
	}
	fprintf(f, "mark %d %.3f\n", cl->nphases - 1, now - cl->t0);
	fclose(f);
}

static void take_signals(struct client *cl, double now)
{
	int sig;
	while ((sig = next_signal(cl->sfd)) != 0) {
		if (sig == SIGUSR1)
			marker(cl, now);
		else
			cl->stop = true;
	}
}

static void dispatch(struct client *cl, const struct epoll_event *e, double now)
{
	uint64_t t = e->data.u64;
	if (t == TOK_SIGNAL) {
		take_signals(cl, now);
		return;
	}
	if (TOK_KIND(t) == TOK_CHURN) {
		churn_event(cl, &cl->ch[TOK_INDEX(t)], now);
		return;
	}
	struct flow *f = &cl->flows[TOK_INDEX(t)];
	if (f->state == F_CONNECTING) {
		flow_connected(cl, f, now);
		return;
	}
	if (f->state != F_UP)
		return;
	if (e->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		flow_readable(cl, f, now);
	if (f->state == F_UP && (e->events & EPOLLOUT))
		(void)flow_flush(cl, f);
}

static void poll_once(struct client *cl, int timeout)
{
	struct epoll_event ev[MAX_EVENTS];
	int n = epoll_wait(cl->ep, ev, MAX_EVENTS, timeout);
	if (n < 0) {
		if (errno == EINTR)
			return;
		err(1, "epoll_wait");
	}
	double now = now_s();
	for (int i = 0; i < n; i++)
		dispatch(cl, &ev[i], now);
}

/* Open the TCP connections (a wave at a time) and the UDP flows. */
static void setup(struct client *cl)
{
	double start = now_s();
	uint32_t next = 0, inflight = 0;
	for (;;) {
		double now = now_s();
		inflight = 0;
		for (uint32_t i = 0; i < next; i++) {
			struct flow *f = &cl->flows[i];
			if (f->state != F_CONNECTING)
				continue;
			if (now - f->t_open > cl->connect_timeout_s) {
				cl->ps[P_TCP].connect_failed++;
				flow_end(cl, f, F_FAILED, WHY_NONE);
				continue;
			}
			inflight++;
		}
		while (next < cl->n_tcp && inflight < cl->wave) {
			struct flow *f = &cl->flows[next];
			f->t_open = now;
			f->fd = tcp_connect(cl, next);
			if (f->fd < 0) {
				warn("TCP connection %u", next);
				cl->ps[P_TCP].connect_failed++;
				f->state = F_FAILED;
			} else {
				f->state = F_CONNECTING;
				ep_ctl(cl->ep, EPOLL_CTL_ADD, f->fd, EPOLLOUT, TOK_FLOW | next);
				inflight++;
			}
			next++;
		}
		if (next == cl->n_tcp && inflight == 0)
			break;
		poll_once(cl, 20);
		if (cl->stop)
			break;
	}
	for (uint32_t i = cl->n_tcp; i < cl->nflows; i++) {
		struct flow *f = &cl->flows[i];
		f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = source(cl, i);
		socklen_t alen = sizeof(f->local);
		if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    connect(f->fd, (struct sockaddr *)&cl->udp_to, sizeof(cl->udp_to)) < 0 ||
		    getsockname(f->fd, (struct sockaddr *)&f->local, &alen) < 0) {
			warn("UDP flow %u", i - cl->n_tcp);
			cl->ps[P_UDP].connect_failed++;
			if (f->fd >= 0)
				close(f->fd);
			f->fd = -1;
			f->state = F_FAILED;
			continue;
		}
		f->state = F_UP;
		cl->ps[P_UDP].up++;
		ep_ctl(cl->ep, EPOLL_CTL_ADD, f->fd, EPOLLIN, TOK_FLOW | i);
	}
	printf("{\"ready\": true, \"tcp_up\": %llu, \"tcp_failed\": %llu, \"tcp_slow\": %llu, "
	       "\"udp_up\": %llu, \"setup_s\": %.3f}\n",
	       cl->ps[P_TCP].up, cl->ps[P_TCP].connect_failed, cl->ps[P_TCP].connect_slow,
	       cl->ps[P_UDP].up, now_s() - start);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

/* Send for duration seconds, then wait for the echoes up to the grace time. */
static double run(struct client *cl)
{
	cl->t0 = now_s();
	cl->nphases = 1;
	cl->phase_t[0] = 0;
	double per_flow = cl->nflows ? cl->period_s / cl->nflows : cl->period_s;
	double end = cl->t0 + cl->duration_s, stopped = 0, last_scan = cl->t0;
	uint64_t g = 0, c = 0;
	for (;;) {
		double now = now_s();
		if (!stopped && (cl->stop || now >= end))
			stopped = now;
		if (!stopped) {
			/* a batch at a time: the echoes are timed between batches */
			for (int k = 0;
			     k < SEND_BATCH && cl->nflows && cl->t0 + (double)g * per_flow <= now;
			     k++) {
				double lag = now - (cl->t0 + (double)g * per_flow);
				if (lag > cl->lag_max) {
					cl->lag_max = lag;
					cl->lag_max_at = now - cl->t0;
				}
				flow_send(cl, &cl->flows[g % cl->nflows]);
				g++;
			}
			for (int k = 0; k < SEND_BATCH && cl->churn_rate > 0 &&
					cl->t0 + (double)c / cl->churn_rate <= now;
			     k++) {
				churn_open(cl, now);
				c++;
			}
		}
		if (now - last_scan > 0.1) {
			churn_timeouts(cl, now);
			last_scan = now;
		}
		if (stopped && ((cl->outstanding == 0 && cl->ch_inflight == 0) ||
				now >= stopped + cl->grace_s))
			return stopped;
		double next = now + 0.1;
		if (!stopped) {
			double tf = cl->nflows ? cl->t0 + (double)g * per_flow : next;
			double tc = cl->churn_rate > 0 ? cl->t0 + (double)c / cl->churn_rate : next;
			next = tf < next ? tf : next;
			next = tc < next ? tc : next;
			next = end < next ? end : next;
		}
		poll_once(cl, wait_ms(next, now));
	}
}

/* ---------------------------------------------------------------- report */

static void print_gaps(const double *gaps, size_t n, double thr)
{
	double *v = xcalloc(n, sizeof(*v));
	size_t over = 0;
	double max = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = gaps[i];
		over += gaps[i] > thr;
		if (gaps[i] > max)
			max = gaps[i];
	}
	printf("\"gap_max_ms\": %.1f, \"gap_p99_ms\": %.1f, \"gap_over\": %zu", max,
	       percentile(v, n, 99), over);
	free(v);
}

static int cmp_gap_desc(const void *a, const void *b, void *arg)
{
	const struct flow *fl = arg;
	double x = fl[*(const uint32_t *)a].max_gap, y = fl[*(const uint32_t *)b].max_gap;
	return x > y ? -1 : x < y;
}

/* --flows-file: one line per flow (see the top of the file). */
static void write_flows(const struct client *cl)
{
	if (!cl->flows_file)
		return;
	FILE *out = fopen(cl->flows_file, "w");
	if (!out) {
		warn("%s", cl->flows_file);
		return;
	}
	static const char *const state[] = {[F_IDLE] = "idle",
					    [F_CONNECTING] = "connecting",
					    [F_UP] = "up",
					    [F_DEAD] = "dead",
					    [F_FAILED] = "failed"};
	for (uint32_t i = 0; i < cl->nflows; i++) {
		const struct flow *f = &cl->flows[i];
		char ip[INET_ADDRSTRLEN] = "";
		inet_ntop(AF_INET, &f->local.sin_addr, ip, sizeof(ip));
		fprintf(out, "%s %s %u %s %u %u", proto_name[f->proto], ip,
			ntohs(f->local.sin_port), state[f->state], f->sent - f->echoed, f->dup);
		for (int ph = 0; ph < cl->nphases; ph++)
			fprintf(out, " %.1f %.6f %u", f->phase_gap[ph], f->phase_end[ph],
				f->phase_dup[ph]);
		fputc('\n', out);
	}
	if (fclose(out) == EOF)
		warn("%s", cl->flows_file);
}

static void report(struct client *cl, double stopped)
{
	double *gaps = xcalloc(cl->nflows, sizeof(*gaps));
	/* short connections still under way after the grace time: failed */
	uint32_t unfinished = cl->ch_inflight;
	for (uint32_t i = 0; i < cl->nch; i++)
		if (cl->ch[i].fd >= 0)
			churn_done(cl, &cl->ch[i], false, "unfinished");
	/* a flow that stopped echoing: from its last echo to the end of the sending */
	for (uint32_t i = 0; i < cl->nflows; i++) {
		struct flow *f = &cl->flows[i];
		if (f->state == F_FAILED || f->state == F_IDLE)
			continue;
		cl->ps[f->proto].lost += f->sent - f->echoed;
		double from = f->last_echo > 0 ? f->last_echo : cl->t0;
		double quiet = cl->gap_thr_ms / 1000.0 > 3 * cl->period_s ? cl->gap_thr_ms / 1000.0
									  : 3 * cl->period_s;
		if (f->state != F_UP || (f->sent && stopped - from > quiet))
			cl->ps[f->proto].stalled++;
		if (f->sent > f->echoed && stopped > from) {
			double gap = (stopped - from) * 1000.0;
			if (gap > f->max_gap) {
				f->max_gap = gap;
				f->max_gap_at = stopped;
			}
			int ph = phase_now(cl);
			if (gap > f->phase_gap[ph]) {
				f->phase_gap[ph] = (float)gap;
				f->phase_end[ph] = 0; /* no echo ended it */
			}
		}
	}
	write_flows(cl);
	printf("{\"period_ms\": %.1f, \"duration_s\": %.3f, \"sent_s\": %.3f, "
	       "\"gap_threshold_ms\": %.1f, \"send_lag_ms_max\": %.1f, \"send_lag_at_s\": %.3f, "
	       "\"t0_mono\": %.6f",
	       cl->period_s * 1000, cl->duration_s, stopped - cl->t0, cl->gap_thr_ms,
	       cl->lag_max * 1000, cl->lag_max_at, cl->t0);
	for (int p = 0; p < P__N; p++) {
		struct pstats *s = &cl->ps[p];
		size_t n = 0;
		for (uint32_t i = 0; i < cl->nflows; i++)
			if (cl->flows[i].proto == p && cl->flows[i].state != F_FAILED)
				gaps[n++] = cl->flows[i].max_gap;
		printf(
		    ", \"%s\": {\"flows\": %llu, \"up\": %llu, \"sent\": %llu, \"echoed\": %llu, "
		    "\"dup\": %llu, \"lost\": %llu, \"stray\": %llu, \"connect_failed\": %llu, "
		    "\"connect_slow\": %llu, \"connect_ms_max\": %.1f, \"reset\": %llu, "
		    "\"closed\": %llu, \"errors\": %llu, \"send_blocked\": %llu, \"stalled\": "
		    "%llu, ",
		    proto_name[p], s->flows, s->up, s->sent, s->echoed, s->dup, s->lost, s->stray,
		    s->connect_failed, s->connect_slow, s->connect_ms_max, s->reset, s->closed,
		    s->errors, s->send_blocked, s->stalled);
		print_gaps(gaps, n, cl->gap_thr_ms);
		printf("}");
	}
	printf(", \"churn\": {\"rate\": %.1f, \"opened\": %llu, \"connected\": %llu, "
	       "\"echoed\": %llu, \"failed\": %llu, \"slow\": %llu, \"sent\": %llu, "
	       "\"unfinished\": %u, ",
	       cl->churn_rate, cl->ch_opened, cl->ch_connected, cl->ch_echoed, cl->ch_failed,
	       cl->ch_slow, cl->ch_sent, unfinished);
	double mx = 0;
	for (size_t i = 0; i < cl->n_ch_ms; i++)
		mx = cl->ch_ms[i] > mx ? cl->ch_ms[i] : mx;
	printf("\"connect_ms_max\": %.1f, \"connect_ms_p99\": %.1f}", mx,
	       percentile(cl->ch_ms, cl->n_ch_ms, 99));
	printf(", \"churn_failures\": [");
	for (unsigned k = 0; k < n_ch_fail; k++)
		printf("%s\"%s\"", k ? ", " : "", ch_fail[k].text);
	printf("]");
	printf(", \"phases\": [");
	for (int ph = 0; ph < cl->nphases; ph++) {
		printf("%s{\"t_s\": %.3f", ph ? ", " : "", cl->phase_t[ph]);
		for (int p = 0; p < P__N; p++) {
			size_t n = 0;
			for (uint32_t i = 0; i < cl->nflows; i++)
				if (cl->flows[i].proto == p && cl->flows[i].state != F_FAILED)
					gaps[n++] = cl->flows[i].phase_gap[ph];
			printf(", \"%s\": {", proto_name[p]);
			print_gaps(gaps, n, cl->gap_thr_ms);
			printf("}");
		}
		printf(", \"churn\": {\"opened\": %llu, \"failed\": %llu, \"slow\": %llu}}",
		       cl->ph_ch_opened[ph], cl->ph_ch_failed[ph], cl->ph_ch_slow[ph]);
	}
	printf("], \"worst\": [");
	uint32_t *idx = xcalloc(cl->nflows, sizeof(*idx));
	for (uint32_t i = 0; i < cl->nflows; i++)
		idx[i] = i;
	qsort_r(idx, cl->nflows, sizeof(*idx), cmp_gap_desc, cl->flows);
	for (uint32_t k = 0; k < NWORST && k < cl->nflows; k++) {
		const struct flow *f = &cl->flows[idx[k]];
		char ip[INET_ADDRSTRLEN] = "";
		inet_ntop(AF_INET, &f->local.sin_addr, ip, sizeof(ip));
		printf("%s{\"proto\": \"%s\", \"id\": %u, \"src\": \"%s\", \"sport\": %u, "
		       "\"gap_ms\": %.1f, \"gap_end_s\": %.3f, \"lost\": %u, \"dead\": %s}",
		       k ? ", " : "", proto_name[f->proto], idx[k], ip, ntohs(f->local.sin_port),
		       f->max_gap, f->max_gap > 0 ? f->max_gap_at - cl->t0 : 0.0,
		       f->sent - f->echoed,
		       f->state == F_DEAD || f->state == F_FAILED ? "true" : "false");
	}
	printf("]}\n");
	free(idx);
	free(gaps);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

static int client(struct client *cl)
{
	cl->nflows = cl->n_tcp + cl->n_udp;
	cl->max_seq = (uint32_t)(cl->duration_s / cl->period_s) + 2;
	cl->seen_bytes = cl->max_seq / 8 + 1;
	uint32_t churn_slots =
	    cl->churn_rate > 0 ? (uint32_t)(cl->churn_rate * (cl->connect_timeout_s + 1)) + 16 : 0;
	raise_nofile((rlim_t)cl->nflows + churn_slots + 256);
	if ((cl->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		err(1, "epoll_create1");
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
	cl->sfd = signals(cl->ep, sigs, 3);
	cl->buf = xcalloc(RECV_BUF, 1);
	cl->flows = xcalloc(cl->nflows, sizeof(*cl->flows));
	uint8_t *seen = xcalloc(cl->nflows, cl->seen_bytes);
	float *pg = xcalloc((size_t)cl->nflows * MAX_PHASES, sizeof(*pg));
	double *pe = xcalloc((size_t)cl->nflows * MAX_PHASES, sizeof(*pe));
	uint32_t *pd = xcalloc((size_t)cl->nflows * MAX_PHASES, sizeof(*pd));
	for (uint32_t i = 0; i < cl->nflows; i++) {
		struct flow *f = &cl->flows[i];
		f->fd = -1;
		f->proto = i < cl->n_tcp ? P_TCP : P_UDP;
		f->seen = seen + (size_t)i * cl->seen_bytes;
		f->phase_gap = pg + (size_t)i * MAX_PHASES;
		f->phase_end = pe + (size_t)i * MAX_PHASES;
		f->phase_dup = pd + (size_t)i * MAX_PHASES;
		cl->ps[f->proto].flows++;
	}
	cl->nch = churn_slots;
	cl->ch = xcalloc(churn_slots, sizeof(*cl->ch));
	for (uint32_t i = 0; i < churn_slots; i++)
		cl->ch[i].fd = -1;
	setup(cl);
	double stopped = run(cl);
	report(cl, stopped);
	for (uint32_t i = 0; i < cl->nflows; i++) {
		if (cl->flows[i].fd >= 0)
			close(cl->flows[i].fd);
		free(cl->flows[i].wbuf);
	}
	for (uint32_t i = 0; i < cl->nch; i++)
		if (cl->ch[i].fd >= 0)
			close(cl->ch[i].fd);
	free(cl->ch);
	free(cl->ch_ms);
	free(pg);
	free(pe);
	free(pd);
	free(seen);
	free(cl->flows);
	free(cl->buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	enum {
		O_SERVER = 1,
		O_TCP,
		O_UDP,
		O_PERIOD,
		O_DURATION,
		O_TCP_PORT,
		O_UDP_PORT,
		O_SRC_BASE,
		O_SRC_COUNT,
		O_MARK,
		O_FLOWS,
		O_GAP,
		O_GRACE,
		O_RATE,
		O_WAVE,
		O_CTO
	};
	static const struct option opts[] = {
	    {"server", required_argument, NULL, O_SERVER},
	    {"tcp", required_argument, NULL, O_TCP},
	    {"udp", required_argument, NULL, O_UDP},
	    {"period", required_argument, NULL, O_PERIOD},
	    {"duration", required_argument, NULL, O_DURATION},
	    {"tcp-port", required_argument, NULL, O_TCP_PORT},
	    {"udp-port", required_argument, NULL, O_UDP_PORT},
	    {"src-base", required_argument, NULL, O_SRC_BASE},
	    {"src-count", required_argument, NULL, O_SRC_COUNT},
	    {"mark-file", required_argument, NULL, O_MARK},
	    {"flows-file", required_argument, NULL, O_FLOWS},
	    {"gap-threshold", required_argument, NULL, O_GAP},
	    {"grace", required_argument, NULL, O_GRACE},
	    {"new-conn-rate", required_argument, NULL, O_RATE},
	    {"wave", required_argument, NULL, O_WAVE},
	    {"connect-timeout", required_argument, NULL, O_CTO},
	    {NULL, 0, NULL, 0},
	};
	bool is_server = strcmp(argv[1], "server") == 0;
	if (!is_server && strcmp(argv[1], "client") != 0)
		usage();
	struct client cl = {.period_s = 0.1,
			    .duration_s = 5,
			    .grace_s = 2,
			    .gap_thr_ms = 250,
			    .connect_timeout_s = 10,
			    .wave = 256};
	uint16_t tcp_port = 7000, udp_port = 7001;
	bool have_server = false;
	int o;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_SERVER:
			cl.tcp_to.sin_addr = parse_ip(optarg, "--server");
			have_server = true;
			break;
		case O_TCP:
			cl.n_tcp = (uint32_t)parse_num(optarg, 0, MAX_FLOWS, "--tcp");
			break;
		case O_UDP:
			cl.n_udp = (uint32_t)parse_num(optarg, 0, MAX_FLOWS, "--udp");
			break;
		case O_PERIOD:
			cl.period_s = parse_num(optarg, 1, 60000, "--period") / 1000.0;
			break;
		case O_DURATION:
			cl.duration_s = parse_num(optarg, 0, 86400, "--duration");
			break;
		case O_TCP_PORT:
			tcp_port = (uint16_t)parse_num(optarg, 1, 65535, "--tcp-port");
			break;
		case O_UDP_PORT:
			udp_port = (uint16_t)parse_num(optarg, 1, 65535, "--udp-port");
			break;
		case O_SRC_BASE:
			cl.src_base = parse_ip(optarg, "--src-base");
			if (!cl.src_count)
				cl.src_count = 1;
			break;
		case O_SRC_COUNT:
			cl.src_count = (uint32_t)parse_num(optarg, 1, 65536, "--src-count");
			break;
		case O_MARK:
			cl.mark_file = optarg;
			break;
		case O_FLOWS:
			cl.flows_file = optarg;
			break;
		case O_GAP:
			cl.gap_thr_ms = parse_num(optarg, 1, 1e6, "--gap-threshold");
			break;
		case O_GRACE:
			cl.grace_s = parse_num(optarg, 0, 1e6, "--grace") / 1000.0;
			break;
		case O_RATE:
			cl.churn_rate = parse_num(optarg, 0, 100000, "--new-conn-rate");
			break;
		case O_WAVE:
			cl.wave = (uint32_t)parse_num(optarg, 1, 100000, "--wave");
			break;
		case O_CTO:
			cl.connect_timeout_s = parse_num(optarg, 0.1, 3600, "--connect-timeout");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (is_server)
		return server(tcp_port, udp_port);
	if (!have_server)
		usage();
	if (cl.src_count && !cl.src_base.s_addr) {
		fprintf(stderr, "aaflows: --src-count needs --src-base\n");
		usage();
	}
	cl.tcp_to.sin_family = AF_INET;
	cl.tcp_to.sin_port = htons(tcp_port);
	cl.udp_to = cl.tcp_to;
	cl.udp_to.sin_port = htons(udp_port);
	return client(&cl);
}
