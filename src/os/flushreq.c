/*
 * flushreq: flush requests out over UDP on a libevent base (see
 * flushreq.h), and `arpha flush-request`.
 *
 * A request in flight owns its socket, a copy of the hosts and addresses,
 * and one timer; the timer's callback sends the next round and frees it
 * all after the last. flushreq_cancel_all finds the timers again through
 * event_base_foreach_event, so no list of requests is kept anywhere.
 */
#include "os/flushreq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/flushmsg.h"
#include "os/keyfile.h"
#include "os/log.h"

#define CLI_DEFAULT_KEY	     "/etc/arpha/flush.key"
#define CLI_DEFAULT_COUNT    5
#define CLI_DEFAULT_INTERVAL 1000
#define CLI_MAX_COUNT	     1000
#define CLI_MAX_INTERVAL     3600000

struct flushreq {
	struct event *timer;
	int fd;
	struct wire_key key;
	uint16_t port;
	unsigned left; /* rounds still to send */
	unsigned interval_ms;
	unsigned *failures;		     /* sends that failed, when someone counts them */
	uint8_t id[FLUSHMSG_REQUEST_ID_LEN]; /* the nonce's first bytes, the same in every repeat */
	size_t nhosts, naddrs;
	uint32_t addrs[FLUSHMSG_MAX_ADDRS];
	uint32_t hosts[]; /* nhosts */
};

static void req_free(struct flushreq *r)
{
	if (r->timer)
		event_free(r->timer);
	if (r->fd >= 0)
		close(r->fd);
	sodium_memzero(&r->key, sizeof(r->key));
	free(r);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One round: a new request to every host. */
static void send_round(struct flushreq *r)
{
	uint8_t buf[FLUSHMSG_MAX_LEN], nonce[FLUSHMSG_NONCE_LEN];

	for (size_t i = 0; i < r->nhosts; i++) {
		memcpy(nonce, r->id, sizeof(r->id));
		randombytes_buf(nonce + sizeof(r->id), sizeof(nonce) - sizeof(r->id));
		int len = flushmsg_build(&r->key, realtime_ns(), nonce, r->addrs, r->naddrs, buf,
					 sizeof(buf));
		if (len < 0)
			continue; /* cannot happen: naddrs was checked */
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(r->port);
		sin.sin_addr.s_addr = r->hosts[i];
		ssize_t n =
		    sendto(r->fd, buf, (size_t)len, 0, (struct sockaddr *)&sin, sizeof(sin));
		if (n != len) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &r->hosts[i], a, sizeof(a));
			if (n < 0)
				log_warn("event=flush_request_failed host=%s port=%u", a,
					 (unsigned)r->port);
			else
				log_warnx("event=flush_request_failed host=%s port=%u sent=%zd "
					  "bytes=%d",
					  a, (unsigned)r->port, n, len);
			if (r->failures)
				(*r->failures)++;
		}
	}
	sodium_memzero(buf, sizeof(buf));
	r->left--;
}

static void arm(struct flushreq *r)
{
	struct timeval tv = {.tv_sec = r->interval_ms / 1000,
			     .tv_usec = (suseconds_t)(r->interval_ms % 1000) * 1000};
	evtimer_add(r->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct flushreq *r = arg;

	send_round(r);
	if (r->left == 0)
		req_free(r);
	else
		arm(r);
}

static int start(struct event_base *base, const struct flushreq_params *p, const uint32_t *hosts,
		 size_t nhosts, const uint32_t *addrs, size_t naddrs, unsigned *failures)
{
	if (naddrs > FLUSHMSG_MAX_ADDRS || (naddrs && !addrs) || (nhosts && !hosts) ||
	    nhosts > (SIZE_MAX - sizeof(struct flushreq)) / sizeof(uint32_t)) {
		errno = EINVAL;
		return -1;
	}
	if (p->count == 0 || nhosts == 0)
		return 0;

	struct flushreq *r = calloc(1, sizeof(*r) + nhosts * sizeof(uint32_t));
	if (!r)
		return -1;
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		int e = errno;
		free(r);
		errno = e;
		return -1;
	}
	int one = 1;
	/* a host may be a (subnet) broadcast address, as in the original ArpFlush */
	setsockopt(r->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	r->key = p->key;
	r->port = p->port;
	r->left = p->count;
	randombytes_buf(r->id, sizeof(r->id));
	r->interval_ms = p->interval_ms;
	r->failures = failures;
	r->nhosts = nhosts;
	r->naddrs = naddrs;
	memcpy(r->hosts, hosts, nhosts * sizeof(uint32_t));
	if (naddrs)
		memcpy(r->addrs, addrs, naddrs * sizeof(uint32_t));
	if (p->count > 1) {
		r->timer = evtimer_new(base, on_timer, r);
		if (!r->timer) {
			req_free(r);
			errno = ENOMEM;
			return -1;
		}
	}
	send_round(r);
	if (r->left == 0)
		req_free(r);
	else
		arm(r);
	return 0;
}

int flushreq_start(struct event_base *base, const struct flushreq_params *p, const uint32_t *hosts,
		   size_t nhosts, const uint32_t *addrs, size_t naddrs)
{
	return start(base, p, hosts, nhosts, addrs, naddrs, NULL);
}

/* ---- cancelling ---- */

struct found {
	struct flushreq **v;
	size_t n, cap;
};

static int find_cb(const struct event_base *base, const struct event *ev, void *arg)
{
	struct found *f = arg;

	if (event_get_callback(ev) != on_timer)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct flushreq **v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return 1; /* free what was found; the rest stays */
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = event_get_callback_arg(ev);
	return 0;
}

void flushreq_cancel_all(struct event_base *base)
{
	struct found f = {0};

	/* the callback may not free events: collect first, free after */
	event_base_foreach_event(base, find_cb, &f);
	for (size_t i = 0; i < f.n; i++)
		req_free(f.v[i]);
	free(f.v);
}

/* ---- arpha flush-request ---- */

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: arpha flush-request [-k KEYFILE] [-p PORT] [-n COUNT] "
		   "[-i INTERVAL_MS] [-a ADDR]... HOST...\n"
		   "  -k KEYFILE      the flush key (default " CLI_DEFAULT_KEY ")\n"
		   "  -p PORT         arpha-flushd's UDP port (default 7411)\n"
		   "  -n COUNT        requests to each host (default 5)\n"
		   "  -i INTERVAL_MS  between them (default 1000)\n"
		   "  -a ADDR         flush only ADDR (repeatable, up to 64); "
		   "default: the whole table\n");
}

/* A whole decimal number in [min, max]. */
static int cli_number(const char *opt, const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno || v < min || v > max) {
		fprintf(stderr,
			"arpha: flush-request: %s '%s': expected a number from %lu to %lu\n", opt,
			s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int cli_ipv4(const char *what, const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "arpha: flush-request: %s '%s' is not an IPv4 address\n", what, s);
		return -1;
	}
	*out = a.s_addr;
	return 0;
}

int flushreq_cli(int argc, char **argv)
{
	const char *keyfile = CLI_DEFAULT_KEY;
	struct flushreq_params p = {
	    .port = FLUSHMSG_PORT, .count = CLI_DEFAULT_COUNT, .interval_ms = CLI_DEFAULT_INTERVAL};
	uint32_t addrs[FLUSHMSG_MAX_ADDRS];
	size_t naddrs = 0;
	unsigned long v;
	int c;

	optind = 0; /* GNU getopt: start over on the subcommand's arguments */
	while ((c = getopt(argc, argv, "+k:p:n:i:a:h")) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'p':
			if (cli_number("-p", optarg, 1, 65535, &v) < 0)
				return 2;
			p.port = (uint16_t)v;
			break;
		case 'n':
			if (cli_number("-n", optarg, 1, CLI_MAX_COUNT, &v) < 0)
				return 2;
			p.count = (unsigned)v;
			break;
		case 'i':
			if (cli_number("-i", optarg, 0, CLI_MAX_INTERVAL, &v) < 0)
				return 2;
			p.interval_ms = (unsigned)v;
			break;
		case 'a':
			if (naddrs == FLUSHMSG_MAX_ADDRS) {
				fprintf(stderr,
					"arpha: flush-request: at most %d addresses (-a) in one "
					"request; to flush more, leave -a out (the whole table)\n",
					FLUSHMSG_MAX_ADDRS);
				return 2;
			}
			if (cli_ipv4("ADDR", optarg, &addrs[naddrs]) < 0)
				return 2;
			naddrs++;
			break;
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			cli_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "arpha: flush-request: no HOST to send to\n");
		cli_usage(stderr);
		return 2;
	}
	uint32_t *hosts = calloc((size_t)argc, sizeof(*hosts));
	if (!hosts) {
		fprintf(stderr, "arpha: flush-request: out of memory\n");
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		if (cli_ipv4("HOST", argv[i], &hosts[i]) < 0) {
			free(hosts);
			return 2;
		}
	}

	char err[512];
	if (sodium_init() < 0) {
		fprintf(stderr, "arpha: flush-request: libsodium cannot start\n");
		free(hosts);
		return 1;
	}
	if (keyfile_load_flush(keyfile, &p.key, err, sizeof(err)) < 0) {
		fprintf(stderr, "arpha: flush-request: %s\n", err);
		free(hosts);
		return 1;
	}
	struct event_base *base = event_base_new();
	unsigned failures = 0;
	int rc = 0;
	if (!base) {
		fprintf(stderr, "arpha: flush-request: cannot create the event loop\n");
		rc = 1;
	} else if (start(base, &p, hosts, (size_t)argc, addrs, naddrs, &failures) < 0) {
		fprintf(stderr, "arpha: flush-request: %s\n", strerror(errno));
		rc = 1;
	} else {
		/* returns when the last send is done: nothing else is on base */
		event_base_dispatch(base);
	}
	if (base)
		event_base_free(base);
	sodium_memzero(&p.key, sizeof(p.key));
	free(hosts);
	if (rc == 0 && failures) {
		fprintf(stderr, "arpha: flush-request: %u of %u sends failed\n", failures,
			p.count * (unsigned)argc);
		rc = 1;
	}
	return rc;
}
