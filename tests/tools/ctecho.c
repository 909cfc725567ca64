/*
 * ctecho: the traffic of the connection-sync tests, in C. A drop-in for
 * tests/netns/ctecho.py, whose docstring is the contract: same command
 * lines, same stdin commands, same JSON lines. One process, epoll, the
 * connections in one array and no allocation per event, so that a round
 * over 20000 connections costs the kernel's time, not the tool's.
 *
 *     ctecho server PORT
 *     ctecho client SERVER PORT TCP_CONNS UDP_FLOWS
 *
 * One command more than the Python tool's: "round NAME T0 DEADLINE_S
 * SPREAD_S" spreads the TCP sends evenly over SPREAD_S seconds from the
 * start of the round (connection k of n sends at k * SPREAD_S / n), as
 * many clients' traffic would be, instead of sending them all at once.
 *
 * A round line carries three keys more than the Python tool's, after its
 * own ones:
 *     tcp_sent_ms       for each echo of tcp_ms, in the same order: the time
 *                       from T0 until that connection's send() returned
 *     tcp_from_send_ms  sorted: the time of each echo from its own send()
 *     send_spread_ms    from T0 until the round's last first send returned
 *     tcp_retrans       [n0, n1, n2, n3]: connections of the round whose TCP
 *                       retransmitted 0, 1, 2, 3 or more times during it
 *                       (tcpi_total_retrans): 1 for those whose message went
 *                       into a failure and came through at the first
 *                       retransmission
 * (UDP resends excluded). All times in milliseconds, rounded to 0.01.
 *
 * Where it differs from the Python tool, on purpose:
 *  - the client reads echoes between batches of SEND_BATCH sends, so an
 *    echo is timed when it comes back, not after the last send;
 *  - a UDP flow resends 100 ms after its own last send (the Python tool
 *    counts from the start of the round and looks every 50 ms or so);
 *  - a failed socket() or connect() is one more reason in "failed", not
 *    the end of the process;
 *  - the server stops reading a connection while the echo of what it
 *    read waits for room in the socket.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <err.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nofile.h"

#define WAVE	     100   /* connects in flight at once, as the Python tool */
#define CONNECT_S    10.0  /* for one wave */
#define UDP_RESEND_S 0.1   /* a flow without its echo sends again */
#define MAX_EVENTS   4096  /* per epoll_wait */
#define SEND_BATCH   128   /* sends between two looks at the echoes */
#define RECV_BUF     65536 /* one recv(), as the Python tool */
#define MAX_CONNS    1000000
#define NFAILED	     5 /* reasons reported, as the Python tool */
#define REASON_LEN   200

static void usage(void)
{
	fprintf(stderr, "usage: ctecho server PORT\n"
			"       ctecho client SERVER PORT TCP_CONNS UDP_FLOWS\n"
			"(see tests/netns/ctecho.py for what they do)\n");
	exit(2);
}

/* CLOCK_MONOTONIC in seconds, computed as Python's time.monotonic(). */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) / 1e9;
}

/* Milliseconds for epoll_wait until s seconds from now, rounded up. */
static int timeout_ms(double s)
{
	if (!(s > 0))
		return 0;
	if (s > 1e6)
		return 1000000000;
	double ms = s * 1000.0;
	int t = (int)ms;
	return t < ms ? t + 1 : t;
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "ctecho: %s: expected a number from %ld to %ld, got \"%s\"\n", what,
			lo, hi, s);
		usage();
	}
	return v;
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

/* ---------------------------------------------------------------- server */

struct peer {
	char *buf; /* bytes not yet echoed (the peer reads slowly); NULL: none */
	size_t len;
};

struct server {
	int ep, ls, us;
	struct peer *peers; /* by fd, grown on the first stash */
	size_t npeers;
	char *buf;
	int accept_errno; /* the last accept() failure told, to say it once */
	bool ls_paused;	  /* out of descriptors: no accept() until one closes */
};

static int bound_socket(int type, uint16_t port)
{
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(1, "socket");
	int one = 1;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		err(1, "SO_REUSEADDR");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		err(1, "binding %s port %u", type == SOCK_STREAM ? "TCP" : "UDP", port);
	if (type == SOCK_STREAM && listen(fd, 4096) < 0)
		err(1, "listen");
	return fd;
}

static void peer_close(struct server *s, int fd)
{
	if ((size_t)fd < s->npeers) {
		free(s->peers[fd].buf);
		s->peers[fd] = (struct peer){0};
	}
	close(fd); /* leaves the epoll set too: nothing else holds the socket */
	if (s->ls_paused) {
		ep_ctl(s->ep, EPOLL_CTL_ADD, s->ls, EPOLLIN, (uint64_t)s->ls);
		s->ls_paused = false;
	}
}

/* Keep what send() did not take; 0, or -1 (out of memory). */
static int peer_stash(struct server *s, int fd, const char *p, size_t n)
{
	if ((size_t)fd >= s->npeers) {
		size_t want = s->npeers ? s->npeers : 1024;
		while (want <= (size_t)fd)
			want *= 2;
		struct peer *np = realloc(s->peers, want * sizeof(*np));
		if (!np)
			return -1;
		memset(np + s->npeers, 0, (want - s->npeers) * sizeof(*np));
		s->peers = np;
		s->npeers = want;
	}
	struct peer *pe = &s->peers[fd];
	if (!(pe->buf = malloc(n)))
		return -1;
	memcpy(pe->buf, p, n);
	pe->len = n;
	ep_ctl(s->ep, EPOLL_CTL_MOD, fd, EPOLLOUT, (uint64_t)fd);
	return 0;
}

/*
 * Level-triggered: one recv() per wake-up, echoed at once. What the
 * socket does not take waits in the peer's buffer, and nothing more is
 * read from it until that is sent (the Python tool reads on regardless).
 */
static void echo_tcp(struct server *s, int fd)
{
	struct peer *pe = (size_t)fd < s->npeers ? &s->peers[fd] : NULL;
	if (pe && pe->len) {
		ssize_t w = send(fd, pe->buf, pe->len, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			peer_close(s, fd);
			return;
		}
		if (w > 0) {
			pe->len -= (size_t)w;
			memmove(pe->buf, pe->buf + w, pe->len);
		}
		if (!pe->len) {
			free(pe->buf);
			pe->buf = NULL;
			ep_ctl(s->ep, EPOLL_CTL_MOD, fd, EPOLLIN, (uint64_t)fd);
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
	ssize_t w = send(fd, s->buf, (size_t)n, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		peer_close(s, fd);
		return;
	}
	if (w < 0)
		w = 0;
	if (w < n && peer_stash(s, fd, s->buf + w, (size_t)(n - w)) < 0) {
		warnx("fd %d: out of memory for %zd bytes to echo; closing it", fd, n - w);
		peer_close(s, fd);
	}
}

static void echo_udp(struct server *s)
{
	for (;;) {
		struct sockaddr_storage a;
		socklen_t alen = sizeof(a);
		ssize_t n = recvfrom(s->us, s->buf, RECV_BUF, 0, (struct sockaddr *)&a, &alen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
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
			int e = errno;
			if (e != EAGAIN && e != s->accept_errno) {
				/* once per cause: nobody may be reading stderr */
				warn("accept");
				s->accept_errno = e;
			}
			if (e == EMFILE || e == ENFILE) {
				/* the listen socket would wake us up in a loop */
				ep_ctl(s->ep, EPOLL_CTL_DEL, s->ls, 0, 0);
				s->ls_paused = true;
			}
			return;
		}
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ep_ctl(s->ep, EPOLL_CTL_ADD, fd, EPOLLIN, (uint64_t)fd);
	}
}

static int server(uint16_t port)
{
	struct server s = {.accept_errno = 0};
	raise_nofile(65536);
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		err(1, "epoll_create1");
	s.ls = bound_socket(SOCK_STREAM, port);
	s.us = bound_socket(SOCK_DGRAM, port);
	ep_ctl(s.ep, EPOLL_CTL_ADD, s.ls, EPOLLIN, (uint64_t)s.ls);
	ep_ctl(s.ep, EPOLL_CTL_ADD, s.us, EPOLLIN, (uint64_t)s.us);
	s.buf = xcalloc(RECV_BUF, 1);
	struct epoll_event *ev = xcalloc(MAX_EVENTS, sizeof(*ev));
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
			int fd = (int)ev[i].data.u64;
			if (fd == s.ls)
				accept_all(&s);
			else if (fd == s.us)
				echo_udp(&s);
			else
				echo_tcp(&s, fd);
		}
	}
}

/* ---------------------------------------------------------------- output */

/* One JSON line, built in a buffer kept from line to line. */
struct out {
	char *p;
	size_t len, cap;
};

static char *out_room(struct out *o, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		char *p = realloc(o->p, cap);
		if (!p)
			err(1, "output line of %zu bytes", cap);
		o->p = p;
		o->cap = cap;
	}
	return o->p + o->len;
}

static void out_mem(struct out *o, const char *s, size_t n)
{
	memcpy(out_room(o, n), s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_uint(struct out *o, unsigned long long v)
{
	char d[24], *p = d + sizeof(d);
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	out_mem(o, p, (size_t)(d + sizeof(d) - p));
}

/* As Python's repr(round(x, digits)), for digits 2 or 3. */
static void out_round(struct out *o, double x, int digits)
{
	double scale = digits == 2 ? 100.0 : 1000.0;
	double r = x * scale;
	if (isnan(x)) {
		out_str(o, "NaN");
		return;
	}
	if (isinf(x)) {
		out_str(o, x < 0 ? "-Infinity" : "Infinity");
		return;
	}
	char tmp[64];
	const char *s = tmp;
	size_t n;
	double a = r < 0 ? -r : r;
	unsigned long long k = (unsigned long long)(a < 1e12 ? a : 0);
	double frac = a - (double)k;
	if (a < 1e12 && (frac < 0.5 - 1e-6 || frac > 0.5 + 1e-6)) {
		/* away from a tie, x * scale rounds as the exact product would */
		k += frac > 0.5;
		char *p = tmp + sizeof(tmp);
		for (int i = 0; i < digits; i++, k /= 10)
			*--p = (char)('0' + k % 10);
		*--p = '.';
		do
			*--p = (char)('0' + k % 10);
		while (k /= 10);
		if (signbit(x))
			*--p = '-';
		s = p;
		n = (size_t)(tmp + sizeof(tmp) - p);
	} else {
		/* a tie or a huge value: glibc rounds the exact binary value, as Python */
		n = (size_t)snprintf(tmp, sizeof(tmp), "%.*f", digits, x);
	}
	while (n > 2 && s[n - 1] == '0' && s[n - 2] != '.')
		n--; /* repr: "12.5", "12.0", "0.05" */
	out_mem(o, s, n);
}

/* A JSON string as Python's json.dumps writes it: ASCII, \uXXXX for the rest. */
static void out_json_str(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	static const char *const named_escape[0x20] = {
	    ['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n", ['\f'] = "\\f", ['\r'] = "\\r"};
	static const unsigned least[4] = {0, 0x80, 0x800, 0x10000}; /* by continuation bytes */
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	out_mem(o, "\"", 1);
	while (p < end) {
		unsigned c = *p++;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			out_mem(o, e, 2);
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			out_mem(o, (const char *)p - 1, 1);
			continue;
		}
		const char *named = c < 0x20 ? named_escape[c] : NULL;
		if (named) {
			out_mem(o, named, 2);
			continue;
		}
		if (c >= 0xc2 && c < 0xf5) { /* UTF-8, which Python decoded from stdin */
			int more = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
			unsigned cp = c & (0x3f >> more);
			int i;
			for (i = 0; i < more && p + i < end && (p[i] & 0xc0) == 0x80; i++)
				cp = cp << 6 | (p[i] & 0x3f);
			if (i == more && cp >= least[more] && cp <= 0x10ffff &&
			    (cp < 0xd800 || cp > 0xdfff)) {
				p += more;
				c = cp;
			} else {
				c = 0xfffd;
			}
		} else if (c >= 0x80) {
			c = 0xfffd; /* not UTF-8 (the Python tool would have stopped) */
		}
		unsigned units[2] = {c, 0};
		int nu = 1;
		if (c >= 0x10000) {
			units[0] = 0xd800 | ((c - 0x10000) >> 10);
			units[1] = 0xdc00 | ((c - 0x10000) & 0x3ff);
			nu = 2;
		}
		for (int i = 0; i < nu; i++) {
			char e[6] = {'\\', 'u'};
			for (int d = 0; d < 4; d++)
				e[2 + d] = hex[units[i] >> (12 - 4 * d) & 15];
			out_mem(o, e, 6);
		}
	}
	out_mem(o, "\"", 1);
}

static void out_key(struct out *o, const char *key)
{
	if (o->len > 1)
		out_str(o, ", ");
	out_json_str(o, key, strlen(key));
	out_str(o, ": ");
}

static void out_key_uint(struct out *o, const char *key, unsigned long long v)
{
	out_key(o, key);
	out_uint(o, v);
}

static void out_key_ms(struct out *o, const char *key, const double *v, size_t n, size_t stride)
{
	out_key(o, key);
	out_str(o, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			out_str(o, ", ");
		out_round(o, v[i * stride], 2);
	}
	out_str(o, "]");
}

static void out_key_strs(struct out *o, const char *key, char (*s)[REASON_LEN], size_t n)
{
	out_key(o, key);
	out_str(o, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			out_str(o, ", ");
		out_json_str(o, s[i], strlen(s[i]));
	}
	out_str(o, "]");
}

static void out_line(struct out *o)
{
	out_str(o, "}\n");
	if (fwrite(o->p, 1, o->len, stdout) != o->len || fflush(stdout) == EOF)
		err(1, "stdout");
	o->len = 0;
}

/* ---------------------------------------------------------------- client */

enum why { ALIVE, SEND_FAILED, RECV_FAILED, CLOSED, WRONG_ECHO };

struct conn {
	int fd;
	uint32_t i;	  /* the I of its messages "NAME tI\n", "NAME uI\n" */
	char proto;	  /* 't' or 'u' */
	bool open;	  /* TCP: connected */
	bool armed;	  /* in the epoll set for EPOLLIN */
	bool in_round;	  /* TCP: alive when the round began */
	bool sent;	  /* this round's message */
	bool waiting;	  /* for this round's echo */
	bool done;	  /* the echo came back */
	uint8_t why;	  /* enum why: TCP dead for good unless ALIVE */
	int err;	  /* errno of SEND_FAILED, RECV_FAILED */
	uint32_t got;	  /* bytes of the message echoed so far */
	double sent_at;	  /* TCP: send() returned; UDP: last (re)sent */
	double done_at;	  /* the echo came back */
	char *bad;	  /* WRONG_ECHO: what came, as Python's repr() */
	uint32_t retrans; /* TCP: tcpi_total_retrans when the last round ended */
};

/* One echo of a round, for sorting by its time. */
struct echo {
	double ms;	/* from T0 to the echo */
	double sent_ms; /* from T0 to the send */
};

struct client {
	int ep;
	struct sockaddr_in to;
	struct conn *c; /* n_tcp TCP connections, then n_udp UDP flows */
	uint32_t n_tcp, n_udp;
	uint32_t *tcp; /* the open TCP connections, in the order they opened */
	uint32_t n_open;
	char failed[NFAILED][REASON_LEN]; /* why the first ones did not open */
	uint32_t n_failed;
	struct epoll_event *ev;
	char *buf;	     /* one recv() */
	char *want;	     /* "NAME " then the end of one message */
	size_t want_pre;     /* strlen("NAME ") */
	struct echo *echoes; /* one round's, n_tcp */
	double *ms;	     /* one round's, n_tcp + n_udp */
	struct out out;
};

struct round {
	double t0, end, sent_end, udp_due;
	uint32_t waiting;
};

static void add_failed(struct client *cl, const char *fmt, ...)
{
	if (cl->n_failed < NFAILED) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(cl->failed[cl->n_failed], REASON_LEN, fmt, ap);
		va_end(ap);
	}
	cl->n_failed++;
}

/* Opens wave after wave of WAVE connections, each wave waited for as the Python tool. */
static void open_tcp(struct client *cl)
{
	int one = 1;
	for (uint32_t base = 0; base < cl->n_tcp; base += WAVE) {
		uint32_t last = cl->n_tcp - base < WAVE ? cl->n_tcp : base + WAVE, left = 0;
		for (uint32_t i = base; i < last; i++) {
			struct conn *c = &cl->c[i];
			c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (c->fd < 0) {
				add_failed(cl, "socket: %s", strerror(errno));
				continue;
			}
			(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(c->fd, (struct sockaddr *)&cl->to, sizeof(cl->to)) < 0 &&
			    errno != EINPROGRESS) {
				add_failed(cl, "connect: %s", strerror(errno));
				close(c->fd);
				c->fd = -1;
				continue;
			}
			ep_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, EPOLLOUT, i);
			left++;
		}
		double end = now_s() + CONNECT_S;
		while (left && now_s() < end) {
			int n = epoll_wait(cl->ep, cl->ev, MAX_EVENTS, 200);
			if (n < 0 && errno != EINTR)
				err(1, "epoll_wait");
			for (int k = 0; k < n; k++) {
				struct conn *c = &cl->c[cl->ev[k].data.u32];
				int e = 0;
				socklen_t elen = sizeof(e);
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
					e = errno;
				ep_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, 0, 0);
				left--;
				if (e) {
					add_failed(cl, "connect: %s", strerror(e));
					close(c->fd);
					c->fd = -1;
				} else {
					c->open = true;
					cl->tcp[cl->n_open++] = (uint32_t)(c - cl->c);
				}
			}
		}
		for (uint32_t i = base; i < last; i++) {
			struct conn *c = &cl->c[i];
			if (c->fd >= 0 && !c->open) {
				ep_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, 0, 0);
				close(c->fd);
				c->fd = -1;
				add_failed(cl, "connect timed out");
			}
		}
	}
}

static void open_udp(struct client *cl)
{
	for (uint32_t k = 0; k < cl->n_udp; k++) {
		struct conn *c = &cl->c[cl->n_tcp + k];
		c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			err(1, "UDP flow %u: socket", k);
		if (connect(c->fd, (struct sockaddr *)&cl->to, sizeof(cl->to)) < 0)
			err(1, "UDP flow %u: connect", k);
		c->open = true;
	}
}

static void arm(struct client *cl, struct conn *c)
{
	ep_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, EPOLLIN, (uint64_t)(c - cl->c));
	c->armed = true;
}

static void disarm(struct client *cl, struct conn *c)
{
	if (c->armed)
		ep_ctl(cl->ep, EPOLL_CTL_DEL, c->fd, 0, 0);
	c->armed = false;
}

/* The message of c this round, after the "NAME " in cl->want; its length. */
static size_t make_want(struct client *cl, const struct conn *c)
{
	char d[12], *p = d + sizeof(d);
	uint32_t v = c->i;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	char *w = cl->want + cl->want_pre;
	*w++ = c->proto;
	memcpy(w, p, (size_t)(d + sizeof(d) - p));
	w += d + sizeof(d) - p;
	*w++ = '\n';
	return (size_t)(w - cl->want);
}

/* The connection is dead for good; its socket stays open, as in the Python tool. */
static void kill_conn(struct client *cl, struct round *r, struct conn *c, enum why why, int e)
{
	c->why = (uint8_t)why;
	c->err = e;
	if (c->waiting)
		r->waiting--;
	c->waiting = false;
	disarm(cl, c);
}

static void came_back(struct round *r, struct conn *c)
{
	c->done_at = now_s();
	c->done = true;
	c->waiting = false;
	r->waiting--;
}

/* As Python's repr() of bytes: b'...'. */
static char *bytes_repr(const unsigned char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc(4 * n + 4), *p = s;
	if (!s)
		return NULL;
	char q = memchr(b, '\'', n) && !memchr(b, '"', n) ? '"' : '\'';
	*p++ = 'b';
	*p++ = q;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (c == q || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			*p++ = '\\';
			*p++ = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		} else if (c < 0x20 || c >= 0x7f) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = q;
	*p = '\0';
	return s;
}

static void wrong_echo(struct client *cl, struct round *r, struct conn *c, size_t n)
{
	unsigned char got[40];
	size_t k = c->got < sizeof(got) ? c->got : sizeof(got);
	memcpy(got, cl->want, k);
	size_t more = n < sizeof(got) - k ? n : sizeof(got) - k;
	memcpy(got + k, cl->buf, more);
	c->bad = bytes_repr(got, k + more);
	kill_conn(cl, r, c, WRONG_ECHO, 0);
}

static void on_event(struct client *cl, struct round *r, struct conn *c)
{
	if (!c->sent)
		return; /* what came waits for the send, as in the Python tool */
	ssize_t n = recv(c->fd, cl->buf, RECV_BUF, 0);
	int e = n < 0 ? errno : 0;
	if (!c->waiting) {
		/*
		 * A stale echo (UDP) or data after the echo: dropped. A TCP
		 * connection at its end would wake us up again and again:
		 * rest it until the next round, which will find its end.
		 */
		if (c->proto == 't' && (n == 0 || (n < 0 && e != EAGAIN && e != EINTR)))
			disarm(cl, c);
		return;
	}
	if (n < 0) {
		if (c->proto == 't' && e != EAGAIN && e != EINTR)
			kill_conn(cl, r, c, RECV_FAILED, e);
		return;
	}
	size_t len = make_want(cl, c);
	if (c->proto == 'u') {
		if ((size_t)n == len && memcmp(cl->buf, cl->want, len) == 0)
			came_back(r, c);
		return;
	}
	if (n == 0) {
		kill_conn(cl, r, c, CLOSED, 0);
		return;
	}
	if (c->got + (size_t)n > len || memcmp(cl->buf, cl->want + c->got, (size_t)n) != 0) {
		wrong_echo(cl, r, c, (size_t)n);
		return;
	}
	c->got += (uint32_t)n;
	if (c->got == len)
		came_back(r, c);
}

/* Sends again what is due; the next time one will be. */
static double resend_udp(struct client *cl, double now)
{
	double due = INFINITY;
	for (uint32_t k = 0; k < cl->n_udp; k++) {
		struct conn *c = &cl->c[cl->n_tcp + k];
		if (!c->waiting)
			continue;
		if (now - c->sent_at >= UDP_RESEND_S) {
			c->sent_at = now;
			(void)send(c->fd, cl->want, make_want(cl, c), MSG_NOSIGNAL);
		}
		if (c->sent_at + UDP_RESEND_S < due)
			due = c->sent_at + UDP_RESEND_S;
	}
	return due;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void take_events(struct client *cl, struct round *r, int timeout)
{
	int n = epoll_wait(cl->ep, cl->ev, MAX_EVENTS, timeout);
	if (n < 0 && errno != EINTR)
		err(1, "epoll_wait");
	for (int k = 0; k < n; k++)
		on_event(cl, r, &cl->c[cl->ev[k].data.u32]);
}

/*
 * Every live connection and flow sends "NAME ?I\n" and waits for it back until T0 + deadline.
 * The echoes are read between batches of sends already, so that the
 * time of each is that of its coming back, not that of the last send.
 */
static void run_round(struct client *cl, struct round *r, const char *name, double t0,
		      double deadline_s, double spread_s)
{
	size_t name_len = strlen(name);
	free(cl->want);
	cl->want = xcalloc(name_len + 16, 1);
	memcpy(cl->want, name, name_len);
	cl->want[name_len] = ' ';
	cl->want_pre = name_len + 1;

	*r = (struct round){.t0 = t0, .end = t0 + deadline_s};
	double now = now_s();
	for (uint32_t k = 0; k < cl->n_open; k++) {
		struct conn *c = &cl->c[cl->tcp[k]];
		c->in_round = c->why == ALIVE;
		c->got = 0;
		c->done = false;
		c->sent = false;
		if (c->in_round && !c->armed)
			arm(cl, c); /* its end, if it came, is read below */
	}
	for (uint32_t k = 0; k < cl->n_udp; k++)
		cl->c[cl->n_tcp + k].sent = false;
	double start = now_s();
	for (uint32_t k = 0, batch = 0; k < cl->n_open; k++) {
		struct conn *c = &cl->c[cl->tcp[k]];
		if (!c->in_round)
			continue;
		if (spread_s > 0) {
			/* its turn: read echoes meanwhile, a millisecond at a time */
			double due = start + spread_s * k / cl->n_open;
			while (now_s() < due)
				take_events(cl, r, 1);
		} else if (++batch % SEND_BATCH == 0) {
			take_events(cl, r, 0);
		}
		int e = send_all(c->fd, cl->want, make_want(cl, c)); /* small: fits at once */
		c->sent_at = now_s();
		c->sent = true;
		if (e) {
			kill_conn(cl, r, c, SEND_FAILED, e);
			continue;
		}
		c->waiting = true;
		r->waiting++;
	}
	for (uint32_t k = 0; k < cl->n_udp; k++) {
		struct conn *c = &cl->c[cl->n_tcp + k];
		c->got = 0;
		c->done = false;
		(void)send(c->fd, cl->want, make_want(cl, c), MSG_NOSIGNAL);
		c->sent_at = now_s();
		c->sent = true;
		c->waiting = true;
		r->waiting++;
	}
	r->sent_end = now_s();
	r->udp_due = cl->n_udp ? r->sent_end + UDP_RESEND_S : INFINITY;

	while (r->waiting && (now = now_s()) < r->end) {
		if (now >= r->udp_due)
			r->udp_due = resend_udp(cl, now);
		double wake = r->udp_due < r->end ? r->udp_due : r->end;
		take_events(cl, r, timeout_ms(wake - now));
	}
	for (uint32_t k = 0; k < cl->n_tcp + cl->n_udp; k++)
		cl->c[k].waiting = false; /* late echoes are stale ones */
}

static void reason(const struct conn *c, char *s)
{
	switch (c->why) {
	case SEND_FAILED:
	case RECV_FAILED:
		snprintf(s, REASON_LEN, "%s: [Errno %d] %s",
			 c->why == SEND_FAILED ? "send" : "recv", c->err, strerror(c->err));
		break;
	case CLOSED:
		snprintf(s, REASON_LEN, "closed by the peer");
		break;
	default:
		snprintf(s, REASON_LEN, "wrong echo %s", c->bad ? c->bad : "(out of memory)");
		break;
	}
}

static int cmp_echo(const void *a, const void *b)
{
	double x = ((const struct echo *)a)->ms, y = ((const struct echo *)b)->ms;
	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct result {
	uint32_t tcp_ok, udp_ok, tcp_total, tcp_dead, n_failed;
	uint32_t retrans[4]; /* connections by retransmissions in the round: 0, 1, 2, 3+ */
	char failed[NFAILED][REASON_LEN]; /* the first deaths */
};

/* The socket's retransmissions so far (TCP_INFO); 0 if it cannot say. */
static uint32_t total_retrans(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_total_retrans;
}

/* Counts a round; its echoes sorted in cl->echoes (TCP) and cl->ms (UDP). */
static void collect(struct client *cl, const struct round *r, struct result *res)
{
	memset(res, 0, sizeof(*res));
	for (uint32_t k = 0; k < cl->n_open; k++) {
		struct conn *c = &cl->c[cl->tcp[k]];
		if (!c->in_round)
			continue;
		res->tcp_total++;
		uint32_t now_retrans = total_retrans(c->fd), d = now_retrans - c->retrans;
		c->retrans = now_retrans;
		res->retrans[d < 3 ? d : 3]++;
		if (c->done)
			cl->echoes[res->tcp_ok++] =
			    (struct echo){(c->done_at - r->t0) * 1000, (c->sent_at - r->t0) * 1000};
		if (c->why != ALIVE && res->tcp_dead++ < NFAILED)
			reason(c, res->failed[res->n_failed++]);
	}
	for (uint32_t k = 0; k < cl->n_udp; k++) {
		struct conn *c = &cl->c[cl->n_tcp + k];
		if (c->done)
			cl->ms[res->udp_ok++] = (c->done_at - r->t0) * 1000;
	}
	qsort(cl->echoes, res->tcp_ok, sizeof(*cl->echoes), cmp_echo);
	qsort(cl->ms, res->udp_ok, sizeof(*cl->ms), cmp_double);
}

static void established(struct client *cl, double t_start)
{
	struct round r;
	struct result res;
	run_round(cl, &r, "r0", now_s(), 10.0, 0);
	collect(cl, &r, &res);
	struct out *o = &cl->out;
	out_str(o, "{");
	out_key(o, "type");
	out_json_str(o, "established", 11);
	out_key_uint(o, "tcp_ok", res.tcp_ok);
	out_key_uint(o, "udp_ok", res.udp_ok);
	out_key_uint(o, "tcp_opened", cl->n_open);
	out_key(o, "seconds");
	out_round(o, now_s() - t_start, 3);
	/* failed[:5] + r["failed"][:5] */
	char failed[2 * NFAILED][REASON_LEN];
	uint32_t nf = cl->n_failed < NFAILED ? cl->n_failed : NFAILED;
	memcpy(failed, cl->failed, nf * sizeof(*failed));
	memcpy(failed + nf, res.failed, res.n_failed * sizeof(*failed));
	out_key_strs(o, "failed", failed, nf + res.n_failed);
	out_line(o);
}

/* The Python tool's keys in its order ("type" and "name" last), then ours. */
static void round_line(struct client *cl, const char *name, double t0, double deadline_s,
		       double spread_s)
{
	struct round r;
	struct result res;
	run_round(cl, &r, name, t0, deadline_s, spread_s);
	collect(cl, &r, &res);
	struct out *o = &cl->out;
	out_str(o, "{");
	out_key_uint(o, "tcp_ok", res.tcp_ok);
	out_key_uint(o, "udp_ok", res.udp_ok);
	out_key_uint(o, "tcp_total", res.tcp_total);
	out_key_uint(o, "udp_total", cl->n_udp);
	out_key_ms(o, "tcp_ms", &cl->echoes[0].ms, res.tcp_ok, 2);
	out_key_ms(o, "udp_ms", cl->ms, res.udp_ok, 1);
	out_key_uint(o, "tcp_dead", res.tcp_dead);
	out_key_strs(o, "failed", res.failed, res.n_failed);
	out_key(o, "type");
	out_json_str(o, "round", 5);
	out_key(o, "name");
	out_json_str(o, name, strlen(name));
	out_key_ms(o, "tcp_sent_ms", &cl->echoes[0].sent_ms, res.tcp_ok, 2);
	for (uint32_t i = 0; i < res.tcp_ok; i++)
		cl->ms[i] = cl->echoes[i].ms - cl->echoes[i].sent_ms;
	qsort(cl->ms, res.tcp_ok, sizeof(*cl->ms), cmp_double);
	out_key_ms(o, "tcp_from_send_ms", cl->ms, res.tcp_ok, 1);
	out_key(o, "tcp_retrans");
	out_str(o, "[");
	for (int i = 0; i < 4; i++) {
		if (i)
			out_str(o, ", ");
		out_uint(o, res.retrans[i]);
	}
	out_str(o, "]");
	out_key(o, "send_spread_ms");
	out_round(o, (r.sent_end - t0) * 1000, 2);
	out_line(o);
}

static bool parse_double(const char *s, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return end != s && !*end && errno != ERANGE;
}

/* Commands on stdin until "quit" or its end. */
static void commands(struct client *cl)
{
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) != -1) {
		char *w[5], *save = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " \t\r\n\v\f", &save); t;
		     t = strtok_r(NULL, " \t\r\n\v\f", &save)) {
			if (n < 5)
				w[n] = t;
			n++;
		}
		if (!n)
			continue;
		if (strcmp(w[0], "quit") == 0)
			break;
		if (strcmp(w[0], "round") != 0 || n < 4 || n > 5) {
			warnx("stdin: ignored \"%s\" and %d more words: want \"round NAME T0 "
			      "DEADLINE_S [SPREAD_S]\" or \"quit\"",
			      w[0], n - 1);
			continue;
		}
		double t0, deadline_s, spread_s = 0;
		if (n == 5 && (!parse_double(w[4], &spread_s) || spread_s < 0 || spread_s > 3600))
			errx(1, "round %s: SPREAD_S: expected seconds from 0 to 3600, got \"%s\"",
			     w[1], w[4]);
		if (!parse_double(w[2], &t0))
			errx(1, "round %s: T0: expected seconds of CLOCK_MONOTONIC, got \"%s\"",
			     w[1], w[2]);
		if (!parse_double(w[3], &deadline_s))
			errx(1, "round %s: DEADLINE_S: expected seconds, got \"%s\"", w[1], w[3]);
		round_line(cl, w[1], t0, deadline_s, spread_s);
	}
	if (ferror(stdin))
		err(1, "stdin");
	free(line);
}

static void client_free(struct client *cl)
{
	for (uint32_t k = 0; k < cl->n_tcp + cl->n_udp; k++) {
		free(cl->c[k].bad);
		if (cl->c[k].fd >= 0)
			close(cl->c[k].fd);
	}
	close(cl->ep);
	free(cl->c);
	free(cl->tcp);
	free(cl->ev);
	free(cl->buf);
	free(cl->want);
	free(cl->echoes);
	free(cl->ms);
	free(cl->out.p);
}

static int client(const char *host, uint16_t port, uint32_t n_tcp, uint32_t n_udp)
{
	struct client cl = {.n_tcp = n_tcp, .n_udp = n_udp};
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
	int e = getaddrinfo(host, NULL, &hints, &ai);
	if (e) {
		fprintf(stderr, "ctecho: SERVER: no IPv4 address for \"%s\": %s\n", host,
			gai_strerror(e));
		usage();
	}
	memcpy(&cl.to, ai->ai_addr, sizeof(cl.to));
	cl.to.sin_port = htons(port);
	freeaddrinfo(ai);

	raise_nofile((rlim_t)n_tcp + n_udp + 1024);
	double t_start = now_s();
	if ((cl.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		err(1, "epoll_create1");
	cl.c = xcalloc((size_t)n_tcp + n_udp, sizeof(*cl.c));
	for (uint32_t k = 0; k < n_tcp + n_udp; k++) {
		cl.c[k].fd = -1;
		cl.c[k].i = k < n_tcp ? k : k - n_tcp;
		cl.c[k].proto = k < n_tcp ? 't' : 'u';
	}
	cl.tcp = xcalloc(n_tcp, sizeof(*cl.tcp));
	cl.ev = xcalloc(MAX_EVENTS, sizeof(*cl.ev));
	cl.buf = xcalloc(RECV_BUF, 1);
	cl.echoes = xcalloc(n_tcp, sizeof(*cl.echoes));
	cl.ms = xcalloc((size_t)n_tcp + n_udp, sizeof(*cl.ms));

	open_tcp(&cl);
	open_udp(&cl);
	for (uint32_t k = 0; k < cl.n_open; k++)
		arm(&cl, &cl.c[cl.tcp[k]]);
	for (uint32_t k = 0; k < n_udp; k++)
		arm(&cl, &cl.c[n_tcp + k]);
	established(&cl, t_start);
	commands(&cl);
	client_free(&cl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server((uint16_t)parse_num(argv[2], 1, 65535, "PORT"));
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], (uint16_t)parse_num(argv[3], 1, 65535, "PORT"),
			      (uint32_t)parse_num(argv[4], 0, MAX_CONNS, "TCP_CONNS"),
			      (uint32_t)parse_num(argv[5], 0, MAX_CONNS, "UDP_FLOWS"));
	usage();
}
