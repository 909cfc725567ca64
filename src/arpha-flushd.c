/*
 * arpha-flushd: the host side of the ARP-flush service (seeds/002's
 * ArpFlush, made safe). It runs on the hosts around a cluster, not on its
 * nodes, and needs none of the cluster's configuration: a key, a port.
 *
 * It listens on UDP for flush requests (core/flushmsg), accepts only
 * authentic, fresh, never-seen ones, and then removes entries from its
 * own kernel neighbour table with rtnetlink: the listed addresses, or
 * every IPv4 entry that is not permanent or noarp, on the chosen
 * interfaces (all by default). After a flush it ignores valid requests
 * for HoldOff seconds: a sender repeats its request because UDP may lose
 * one, and the repeats should not flush again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "arpha_build.h"
#include "core/config.h"
#include "core/flushmsg.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/util.h"

#define DEFAULT_KEY	"/etc/arpha/flush.key"
#define DEFAULT_HOLDOFF 10
#define DEFAULT_WINDOW	30
#define MAX_IFACES	32
#define MAX_HOLDOFF	3600
#define MAX_WINDOW	3600
#define LOG_PER_SEC	5  /* refusal lines per second; the rest are counted */
#define RX_BURST	64 /* datagrams read per wake-up */

struct neigh_ent {
	uint32_t ifindex;
	uint32_t dst; /* network order */
};

struct flushd {
	struct event_base *base;
	struct event *rx;
	struct event *sigs[4];
	struct event *log_timer; /* reports the lines suppressed in a second */
	int fd;
	uint16_t port;
	struct wire_key key;
	struct flush_guard guard;

	/* the neighbour table */
	struct mnl_socket *nl;
	uint32_t nl_portid, nl_seq;
	char ifnames[MAX_IFACES][IF_NAMESIZE];
	size_t n_ifaces; /* 0: every interface */

	/* hold-off, on CLOCK_MONOTONIC */
	uint64_t holdoff_ms;
	uint64_t holdoff_until;
	uint8_t held_id[FLUSHMSG_REQUEST_ID_LEN]; /* the request that flushed last */
	bool holding;

	/* refusal lines: at most LOG_PER_SEC in each second from log_start */
	uint64_t log_start;
	unsigned log_in_sec, log_dropped_in_sec;

	/* counters (SIGUSR1) */
	uint64_t refused[FR__COUNT];
	uint64_t flushed, held_off, removed, flush_failed, log_suppressed;

	char nlbuf[65536]; /* a dump answer: up to 32 KiB per datagram */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: arpha-flushd [-k KEYFILE] [-p PORT] [-H HOLDOFF_S] [-w WINDOW_S] "
		"[-i IFACE]... [-fv]\n"
		"  -k KEYFILE     the flush key (default %s; make one with: arpha keygen FILE)\n"
		"  -p PORT        UDP port to listen on (default %d)\n"
		"  -H SECONDS     after a flush, ignore requests this long (default %d)\n"
		"  -w SECONDS     accept timestamps this far from our clock (default %d)\n"
		"  -i IFACE       flush only on IFACE (repeatable; default every interface)\n"
		"  -f             stay in the foreground and log to standard error\n"
		"  -v             log debug lines too\n"
		"  -V, --version  print the version\n"
		"  -h, --help     print this help\n",
		DEFAULT_KEY, FLUSHMSG_PORT, DEFAULT_HOLDOFF, DEFAULT_WINDOW);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- rtnetlink ---- */

/* Send nlh and run cb over every answer until the ack or the end of a dump. */
static int nl_talk(struct flushd *d, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	nlh->nlmsg_seq = ++d->nl_seq;
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(d->nl, d->nlbuf, sizeof(d->nlbuf));
		if (r < 0)
			return -1;
		int ret = mnl_cb_run(d->nlbuf, (size_t)r, nlh->nlmsg_seq, d->nl_portid, cb, arg);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -1 : 0;
	}
}

struct neigh_walk {
	const uint32_t *ifindex; /* the chosen interfaces; NULL: all */
	size_t n_ifindex;
	const struct flushmsg *m;
	struct neigh_ent *v;
	size_t n, cap;
	bool oom;
};

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **dst = data;
	if (mnl_attr_get_type(a) == NDA_DST && mnl_attr_get_payload_len(a) == 4)
		*dst = a;
	return MNL_CB_OK;
}

static bool walk_wants(const struct neigh_walk *w, uint32_t ifindex, uint32_t dst)
{
	if (w->ifindex) {
		size_t i = 0;
		while (i < w->n_ifindex && w->ifindex[i] != ifindex)
			i++;
		if (i == w->n_ifindex)
			return false;
	}
	if (w->m->n_addrs == 0)
		return true;
	for (size_t i = 0; i < w->m->n_addrs; i++)
		if (w->m->addrs[i] == dst)
			return true;
	return false;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_walk *w = data;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_INET ||
	    (nd->ndm_state & (NUD_PERMANENT | NUD_NOARP)) || nd->ndm_ifindex <= 0)
		return MNL_CB_OK;
	const struct nlattr *a = NULL;
	mnl_attr_parse(nlh, sizeof(*nd), neigh_attr_cb, &a);
	if (!a)
		return MNL_CB_OK;
	uint32_t dst;
	memcpy(&dst, mnl_attr_get_payload(a), 4);
	if (!walk_wants(w, (uint32_t)nd->ndm_ifindex, dst))
		return MNL_CB_OK;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct neigh_ent *v = realloc(w->v, cap * sizeof(*v));
		if (!v) {
			w->oom = true;
			return MNL_CB_OK;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct neigh_ent){(uint32_t)nd->ndm_ifindex, dst};
	return MNL_CB_OK;
}

/* Remove one entry: 1 removed, 0 already gone, -1 with errno. */
static int neigh_del(struct flushd *d, const struct neigh_ent *e)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = (int)e->ifindex;
	mnl_attr_put(nlh, NDA_DST, sizeof(e->dst), &e->dst);
	if (nl_talk(d, nlh, NULL, NULL) < 0)
		return errno == ENOENT || errno == ENODEV ? 0 : -1;
	return 1;
}

/*
 * Flush what m asks for on the chosen interfaces. Returns the number of
 * entries removed, or -1 when the table could not be read.
 */
static int neigh_flush(struct flushd *d, const struct flushmsg *m)
{
	uint32_t idx[MAX_IFACES];
	size_t n_idx = 0;

	for (size_t i = 0; i < d->n_ifaces; i++) {
		unsigned x = if_nametoindex(d->ifnames[i]);
		if (x)
			idx[n_idx++] = x;
		else
			log_warnx("event=flush_iface_gone ifname=%s: nothing flushed there",
				  d->ifnames[i]);
	}
	if (d->n_ifaces && !n_idx)
		return 0;

	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	struct neigh_walk w = {.ifindex = d->n_ifaces ? idx : NULL, .n_ifindex = n_idx, .m = m};
	if (nl_talk(d, nlh, neigh_cb, &w) < 0) {
		log_warn("event=flush_failed what=reading the neighbour table");
		free(w.v);
		return -1;
	}
	if (w.oom)
		log_warnx("event=flush_incomplete: out of memory, some entries stay");
	int removed = 0;
	for (size_t i = 0; i < w.n; i++) {
		int r = neigh_del(d, &w.v[i]);
		if (r > 0) {
			removed++;
		} else if (r < 0) {
			char a[INET_ADDRSTRLEN], ifn[IF_NAMESIZE];
			inet_ntop(AF_INET, &w.v[i].dst, a, sizeof(a));
			if (!if_indextoname(w.v[i].ifindex, ifn))
				snprintf(ifn, sizeof(ifn), "#%u", w.v[i].ifindex);
			log_warn("event=flush_failed ip=%s ifname=%s", a, ifn);
		}
	}
	free(w.v);
	return removed;
}

/* ---- requests ---- */

static void report_suppressed(struct flushd *d)
{
	if (d->log_dropped_in_sec)
		log_info("event=log_suppressed count=%u", d->log_dropped_in_sec);
	d->log_dropped_in_sec = 0;
}

static void on_log_timer(evutil_socket_t fd, short what, void *arg)
{
	report_suppressed(arg);
}

/* A refusal line, rate-limited; the rest are counted, and reported at the second's end. */
static void log_refused(struct flushd *d, const char *from, const char *reason)
{
	uint64_t now = now_ms();
	if (d->log_in_sec == 0 || now - d->log_start >= 1000) {
		report_suppressed(d);
		d->log_start = now;
		d->log_in_sec = 0;
	}
	if (d->log_in_sec >= LOG_PER_SEC) {
		if (d->log_dropped_in_sec++ == 0) {
			uint64_t left = d->log_start + 1000 - now;
			struct timeval tv = {.tv_sec = 0, .tv_usec = (suseconds_t)left * 1000};
			evtimer_add(d->log_timer, &tv);
		}
		d->log_suppressed++;
		return;
	}
	d->log_in_sec++;
	log_info("event=flush_request action=drop reason=%s from=%s", reason, from);
}

/* "198.18.0.100,198.18.0.101", or "all"; cut short (",...+N") past the buffer. */
static void addrs_str(const struct flushmsg *m, char *s, size_t cap)
{
	if (m->n_addrs == 0) {
		snprintf(s, cap, "all");
		return;
	}
	size_t len = 0;
	s[0] = '\0';
	for (size_t i = 0; i < m->n_addrs; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &m->addrs[i], a, sizeof(a));
		if (len + strlen(a) + 1 + 12 >= cap) {
			snprintf(s + len, cap - len, ",...+%zu", m->n_addrs - i);
			return;
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", a);
	}
}

static void handle(struct flushd *d, const uint8_t *buf, size_t len, const char *from)
{
	struct flushmsg m;
	enum flush_reason why = flushmsg_open(&d->key, &d->guard, buf, len, realtime_ns(), &m);
	if (why != FR_OK) {
		d->refused[why]++;
		log_refused(d, from, flush_reason_name(why));
		return;
	}
	uint64_t now = now_ms();
	if (d->holding && now < d->holdoff_until &&
	    memcmp(m.nonce, d->held_id, sizeof(d->held_id)) == 0) {
		d->held_off++;
		log_debug("event=flush_request action=hold_off from=%s", from);
		return;
	}
	d->holding = false;
	char as[600];
	addrs_str(&m, as, sizeof(as));
	int removed = neigh_flush(d, &m);
	if (removed < 0) {
		/* no hold-off: the sender's repeats may do better */
		d->flush_failed++;
		log_warnx("event=flush_request action=fail from=%s addrs=%s", from, as);
		return;
	}
	d->flushed++;
	d->removed += (uint64_t)removed;
	if (d->holdoff_ms) {
		d->holding = true;
		d->holdoff_until = now + d->holdoff_ms;
		memcpy(d->held_id, m.nonce, sizeof(d->held_id));
	}
	log_notice("event=flush_request action=flush from=%s addrs=%s removed=%d", from, as,
		   removed);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct flushd *d = arg;
	uint8_t buf[2048];

	for (int i = 0; i < RX_BURST; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&sin, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("recvfrom");
			return;
		}
		char from[INET_ADDRSTRLEN] = "?";
		if (sl >= sizeof(sin) && sin.sin_family == AF_INET)
			inet_ntop(AF_INET, &sin.sin_addr, from, sizeof(from));
		/* a datagram longer than buf is cut: the codec refuses it by its length */
		handle(d, buf, n > (ssize_t)sizeof(buf) ? sizeof(buf) : (size_t)n, from);
	}
}

static void log_counters(const struct flushd *d)
{
	char s[1024];
	int len = snprintf(s, sizeof(s),
			   "event=counters flushed=%llu removed=%llu held_off=%llu "
			   "flush_failed=%llu",
			   (unsigned long long)d->flushed, (unsigned long long)d->removed,
			   (unsigned long long)d->held_off, (unsigned long long)d->flush_failed);
	for (int r = FR_OK + 1; r < FR__COUNT && len > 0 && (size_t)len < sizeof(s); r++)
		len += snprintf(s + len, sizeof(s) - (size_t)len, " %s=%llu",
				flush_reason_name((enum flush_reason)r),
				(unsigned long long)d->refused[r]);
	if (len > 0 && (size_t)len < sizeof(s))
		snprintf(s + len, sizeof(s) - (size_t)len, " log_suppressed=%llu",
			 (unsigned long long)d->log_suppressed);
	log_line(LOG_NOTICE, s);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct flushd *d = arg;
	if (sig == SIGUSR1) {
		log_counters(d);
		return;
	}
	if (sig == SIGHUP) {
		log_warnx("SIGHUP: reloading is not supported; restart arpha-flushd to read a "
			  "new key");
		return;
	}
	log_notice("stopping on signal %d", (int)sig);
	event_base_loopexit(d->base, NULL);
}

/* ---- main ---- */

static int number(const char *opt, const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno || v < min || v > max) {
		fprintf(stderr, "arpha-flushd: %s '%s': expected a number from %lu to %lu\n", opt,
			s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void cleanup(struct flushd *d)
{
	for (size_t i = 0; i < sizeof(d->sigs) / sizeof(d->sigs[0]); i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	if (d->rx)
		event_free(d->rx);
	if (d->log_timer)
		event_free(d->log_timer);
	if (d->base)
		event_base_free(d->base);
	if (d->fd >= 0)
		close(d->fd);
	if (d->nl)
		mnl_socket_close(d->nl);
	sodium_memzero(&d->key, sizeof(d->key));
	free(d);
}

int main(int argc, char **argv)
{
	const char *keyfile = DEFAULT_KEY;
	unsigned long port = FLUSHMSG_PORT, holdoff = DEFAULT_HOLDOFF, window = DEFAULT_WINDOW;
	bool foreground = false, verbose = false;
	struct flushd *d = calloc(1, sizeof(*d));
	int c;

	if (!d) {
		fprintf(stderr, "arpha-flushd: out of memory\n");
		return 1;
	}
	d->fd = -1;
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	while ((c = getopt_long(argc, argv, "k:p:H:w:i:fvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'p':
			if (number("-p", optarg, 1, 65535, &port) < 0)
				goto usage_error;
			break;
		case 'H':
			if (number("-H", optarg, 0, MAX_HOLDOFF, &holdoff) < 0)
				goto usage_error;
			break;
		case 'w':
			if (number("-w", optarg, 1, MAX_WINDOW, &window) < 0)
				goto usage_error;
			break;
		case 'i':
			if (d->n_ifaces == MAX_IFACES) {
				fprintf(stderr, "arpha-flushd: at most %d interfaces (-i)\n",
					MAX_IFACES);
				goto usage_error;
			}
			if (strlen(optarg) >= IF_NAMESIZE || !if_nametoindex(optarg)) {
				fprintf(stderr, "arpha-flushd: -i %s: no such interface\n", optarg);
				goto usage_error;
			}
			strcpy(d->ifnames[d->n_ifaces++], optarg);
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("arpha-flushd %s\n", ARPHA_VERSION);
			free(d);
			return 0;
		case 'h':
			usage(stdout);
			free(d);
			return 0;
		default:
			goto usage_error;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arpha-flushd: unexpected argument '%s'\n", argv[optind]);
		goto usage_error;
	}

	if (sodium_init() < 0) {
		fprintf(stderr, "arpha-flushd: libsodium cannot start\n");
		free(d);
		return 1;
	}
	char err[512];
	if (keyfile_load_flush(keyfile, &d->key, err, sizeof(err)) < 0) {
		fprintf(stderr, "arpha-flushd: %s\n", err);
		cleanup(d);
		return 1;
	}
	d->port = (uint16_t)port;
	d->holdoff_ms = holdoff * 1000;
	flush_guard_init(&d->guard, window * 1000000000ull);

	log_init("arpha-flushd", foreground ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG,
		 verbose ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	d->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!d->nl || mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("rtnetlink");
		cleanup(d);
		return 1;
	}
	d->nl_portid = mnl_socket_get_portid(d->nl);
	d->nl_seq = (uint32_t)time(NULL);

	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in any;
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_port = htons(d->port);
	any.sin_addr.s_addr = htonl(INADDR_ANY);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		log_warn("UDP port %u", (unsigned)d->port);
		cleanup(d);
		return 1;
	}

	d->base = event_base_new();
	if (!d->base) {
		log_warnx("cannot create the event loop");
		cleanup(d);
		return 1;
	}
	d->rx = event_new(d->base, d->fd, EV_READ | EV_PERSIST, on_read, d);
	d->log_timer = evtimer_new(d->base, on_log_timer, d);
	int sigs[4] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
	for (int i = 0; i < 4; i++) {
		d->sigs[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		if (!d->sigs[i] || evsignal_add(d->sigs[i], NULL) < 0) {
			log_warnx("cannot watch signal %d", sigs[i]);
			cleanup(d);
			return 1;
		}
	}
	if (!d->rx || !d->log_timer || event_add(d->rx, NULL) < 0) {
		log_warnx("cannot set up events");
		cleanup(d);
		return 1;
	}
	if (!foreground && daemon(0, 0) < 0) {
		log_warn("daemon");
		cleanup(d);
		return 1;
	}
	/* libevent's signal pipe and epoll survive the fork; reinit to be sure */
	if (!foreground && event_reinit(d->base) < 0) {
		log_warnx("event_reinit");
		cleanup(d);
		return 1;
	}
	char ifs[MAX_IFACES * (IF_NAMESIZE + 1) + 1] = "all";
	for (size_t i = 0; i < d->n_ifaces; i++) {
		if (i == 0)
			ifs[0] = '\0';
		strcat(ifs, i ? "," : "");
		strcat(ifs, d->ifnames[i]);
	}
	log_notice("arpha-flushd %s started: port %u, interfaces %s, hold-off %lus, window %lus",
		   ARPHA_VERSION, (unsigned)d->port, ifs, holdoff, window);
	event_base_dispatch(d->base);
	report_suppressed(d);
	log_counters(d);
	cleanup(d);
	return 0;

usage_error:
	usage(stderr);
	free(d);
	return 2;
}
