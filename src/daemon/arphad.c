/*
 * arphad: the composition root. Reads and checks the configuration, then
 * starts the parts in an order that changes nothing when one fails: the
 * control socket, the managed devices, the nftables guard, the interfaces,
 * the cluster, the services of the table below; and runs the loop.
 * The daemon (daemon.c) drives the services from the table and knows
 * none of them by name.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arpha_build.h"
#include "core/arp_engine.h"
#include "core/cluster.h"
#include "core/config.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/show.h"
#include "os/control.h"
#include "os/flushreq.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/netlink.h"
#include "os/nft.h"
#include "os/packet.h"
#include "os/spawn.h"
#include "os/syscheck.h"
#include "os/udp.h"
#include "os/util.h"

#define CONFIG_MAX_BYTES (4u << 20)

/*
 * The services, in the order their events arrive and the takeover
 * barrier runs: the connections before the addresses.
 */
static const struct svc_ops *const services[] = {&svc_connsync, &svc_failover, &svc_ranges,
						 &svc_nbcache};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

/* ---- signals ---- */

static void on_hup(void *arg)
{
	daemon_reload(arg);
}

static void on_usr1(void *arg)
{
	struct daemon *d = arg;
	links_collect_drops(d);
	show_log_arp(d->eng);
	if (d->cl)
		show_log_cluster(d->cl);
}

static void on_usr2(void *arg)
{
	(void)arg;
	log_debug("event=signal signal=SIGUSR2 action=none");
}

static void on_term(void *arg)
{
	daemon_stop(arg, "SIGTERM");
}

static void on_int(void *arg)
{
	daemon_stop(arg, "SIGINT");
}

/* ---- main ---- */

/*
 * The kernel refuses neighbour entries past gc_thresh3 (per table, all
 * interfaces together): say so at start rather than fail entry by entry.
 */
static void warn_kernel_table_size(const struct config *cfg)
{
	char *text;
	size_t len;
	if (read_file("/proc/sys/net/ipv4/neigh/default/gc_thresh3", 64, &text, &len) < 0)
		return;
	unsigned long thresh = strtoul(text, NULL, 10);
	free(text);
	unsigned long long want = (unsigned long long)cfg->arp.cache_size * cfg->n_ifaces;
	if (thresh && want > thresh)
		log_notice(
		    "event=kernel_table_small cache_size=%u interfaces=%zu entries=%llu "
		    "gc_thresh3=%lu msg=\"raise net.ipv4.neigh.default.gc_thresh3 with sysctl "
		    "or mappings past it will not be installed\"",
		    cfg->arp.cache_size, cfg->n_ifaces, want, thresh);
}

/*
 * Where the log goes. With -d: standard error, unless the configuration
 * says LogTarget=syslog. Without -d standard error is closed, so it is
 * syslog, also for LogTarget=stderr: that is said on standard error before
 * it closes, and in syslog; errors (a failed start) go to both.
 */
static void log_start(const struct config *c, bool foreground)
{
	if (foreground) {
		log_init("arphad", c->log_target_set ? c->log_target : LOG_TARGET_STDERR,
			 c->log_level);
		return;
	}
	log_init("arphad", LOG_TARGET_SYSLOG, c->log_level);
	log_echo_errors(true); /* once detached, stderr is /dev/null */
	if (c->log_target == LOG_TARGET_STDERR) {
		const char *line = "event=log_target target=syslog configured=stderr "
				   "msg=\"without -d standard error is closed; logging to syslog "
				   "(run arphad -d to log to standard error)\"";
		fprintf(stderr, "arphad: notice: %s\n", line);
		log_line(LOGL_NOTICE, line);
	}
}

/*
 * arphad needs CAP_NET_ADMIN (nftables, neighbours, addresses) and
 * CAP_NET_RAW (packet sockets). Without them every later step fails with
 * EPERM, which reads like another arphad holding the table: say it first.
 * Returns 0, or -1 with the message in err.
 */
static int check_caps(char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (read_file("/proc/self/status", 1 << 16, &text, &len) < 0)
		return 0; /* cannot tell: let the steps themselves say */
	const char *p = strstr(text, "\nCapEff:");
	unsigned long long eff = p ? strtoull(p + 8, NULL, 16) : ~0ULL;
	free(text);
	const unsigned long long need = 1ULL << 12 | 1ULL << 13; /* NET_ADMIN, NET_RAW */
	if ((eff & need) == need)
		return 0;
	snprintf(err, errlen,
		 "arphad needs CAP_NET_ADMIN and CAP_NET_RAW (it has%s%s%s): run it as root",
		 eff & 1ULL << 12 ? " CAP_NET_ADMIN" : "", eff & 1ULL << 13 ? " CAP_NET_RAW" : "",
		 eff & need ? "" : " neither");
	return -1;
}
static bool refuse_release(struct daemon *d)
{
	const char *sock = d->cfg.control_socket;
	if (control_alive(sock) > 0) {
		fprintf(stderr,
			"arphad: an arphad is running with this configuration (it answers on %s); "
			"-r removes only what a killed arphad left: stop the running one first\n",
			sock);
		return true;
	}
	int t = nft_guard_present();
	if (t != 0) {
		fprintf(stderr,
			t > 0 ? "arphad: an arphad is running in this network namespace (the "
				"nftables table \"arp " NFT_GUARD_TABLE "\" exists; a process "
				"that inherited its socket keeps it too); -r removes only what a "
				"killed arphad left: stop it first\n"
			      : "arphad: cannot tell whether an arphad runs in this network "
				"namespace (nftables table \"arp " NFT_GUARD_TABLE
				"\" cannot be listed); -r refused\n");
		return true;
	}
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: arphad [-dnrt] [-f FILE]\n"
		"  -f FILE        configuration (default /etc/arpha/arphad.conf)\n"
		"  -d             stay in the foreground and log to stderr (or LogTarget=syslog)\n"
		"  -n, -t         check the configuration, print every error, and exit\n"
		"  -r             remove the VIP addresses and virtual MACs a killed arphad left, "
		"and exit\n"
		"  -V, --version  print the version\n"
		"  -h, --help     print this help\n");
}

static void load_config(struct daemon *d)
{
	char *text;
	size_t len;
	static char err[CONF_ERR_LEN];
	struct stat st;
	/* a FIFO would block the open; a device or directory is no configuration */
	if (stat(d->cfg_path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "arphad: %s: not a regular file; name the configuration file\n",
			d->cfg_path);
		exit(1);
	}
	if (read_file(d->cfg_path, CONFIG_MAX_BYTES, &text, &len) < 0) {
		fprintf(stderr, "arphad: cannot read %s: %s\n", d->cfg_path, strerror(errno));
		exit(1);
	}
	if (config_parse(text, len, d->cfg_path, &d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err); /* every error, one per line */
		free(text);
		exit(1);
	}
	daemon_config_hash(text, len, d->cfg_hash);
	free(text);
}

/* Where the findings of syscheck_config go: stderr for -n, else the log. */
struct findings {
	const char *path;
	bool to_stderr;
};

static void on_syscheck(bool error, int line, const char *msg, void *arg)
{
	const struct findings *f = arg;
	char text[1024];
	snprintf(text, sizeof(text), "%s:%d: %s%s", f->path, line,
		 error || !f->to_stderr ? "" : "warning: ", msg);
	if (f->to_stderr) {
		fprintf(stderr, "%s\n", text);
	} else {
		/* key=value for the log, the FILE:LINE: message whole in msg= */
		char q[1100], kv[1200];
		snprintf(kv, sizeof(kv), "event=config_%s msg=%s", error ? "error" : "warning",
			 log_quote(text, q, sizeof(q)));
		log_line(error ? 3 : 4, kv);
	}
}

static void cleanup(struct daemon *d)
{
	daemon_free_services(d);
	if (d->loop)
		flushreq_cancel_all(loop_base(d->loop));
	links_free(d);
	transport_free(d);
	control_free(d->ctl);
	metrics_free(d);
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		control_unlink(d->cfg.control_socket, &d->ctl_own); /* only if still ours */
	}
	for (size_t i = 0; i < sizeof(d->sigs) / sizeof(d->sigs[0]); i++)
		loop_watch_free(d->sigs[i]);
	loop_watch_free(d->watchdog_w);
	loop_free(d->loop);
	nl_close(d->nl);
	arp_engine_free(d->eng);
	actions_free(&d->acts);
	config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	/* before anything is opened: nothing inherited reaches a NotifyScript */
	spawn_close_inherited();
	struct daemon d;
	memset(&d, 0, sizeof(d));
	d.cfg_path = "/etc/arpha/arphad.conf";
	d.ctl_fd = -1;
	d.metrics_fd = -1;
	bool foreground = false, check = false, release = false;
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "df:nrtVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			d.cfg_path = optarg;
			break;
		case 'n':
		case 't': /* keepalived's and nginx's letter for the same */
			check = true;
			break;
		case 'r':
			release = true;
			break;
		case 'V':
			printf("arphad %s\n", ARPHA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arphad: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	load_config(&d);
	int bad = 0; /* errors past the parse: -n goes on to report them all */
	if (d.cfg.cluster.present) {
		struct wire_key key, next;
		bool has_next;
		char kerr[512];
		if (sodium_init() < 0)
			fatalx("event=start_failed what=libsodium");
		if (keyfile_load(d.cfg.cluster.key_file, &key, &next, &has_next, kerr,
				 sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.cluster.key_line, kerr);
			bad++;
		}
		sodium_memzero(&key, sizeof(key));
		sodium_memzero(&next, sizeof(next));
	}
	if (d.cfg.flush.present) {
		struct wire_key key;
		char kerr[512];
		if (keyfile_load_flush(d.cfg.flush.key_file, &key, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, "%s:%d: %s\n", d.cfg_path, d.cfg.flush.key_line, kerr);
			bad++;
		}
		sodium_memzero(&key, sizeof(key));
	}
	if (bad && !check) {
		config_free(&d.cfg);
		return 1;
	}
	if (release) {
		/* -r is for what a killed arphad left: a live one holds its VIPs */
		if (refuse_release(&d)) {
			config_free(&d.cfg);
			return 1;
		}
		struct nl *nl = nl_open(false);
		if (!nl) {
			fprintf(stderr, "arphad: rtnetlink: %s\n", strerror(errno));
			config_free(&d.cfg);
			return 1;
		}
		int n = 0;
		for (size_t i = 0; i < N_SERVICES; i++)
			if (services[i]->release)
				n += services[i]->release(&d.cfg, nl);
		nl_close(nl);
		printf("arphad: removed %d VIP addresses and virtual MACs\n", n);
		config_free(&d.cfg);
		return 0;
	}
	int script_bad = 0;
	for (size_t i = 0; i < N_SERVICES; i++)
		if (services[i]->check)
			script_bad += services[i]->check(&d.cfg, d.cfg_path, stderr);
	if (script_bad > 0 && !check) {
		config_free(&d.cfg);
		return 1;
	}
	bad += script_bad;
	if (check) {
		/* the socket path as control_listen will see it: never a file it would replace */
		char perr[512], pwarn[512];
		int sock_bad = control_check_path(d.cfg.control_socket, perr, sizeof(perr), pwarn,
						  sizeof(pwarn));
		if ((sock_bad || pwarn[0]) && d.cfg.control_socket_line)
			fprintf(stderr, "%s:%d: %s%s\n", d.cfg_path, d.cfg.control_socket_line,
				sock_bad ? "" : "warning: ", sock_bad ? perr : pwarn);
		else if (sock_bad || pwarn[0]) /* the default path */
			fprintf(stderr, "%s: %s%s\n", d.cfg_path,
				sock_bad ? "" : "warning: ", sock_bad ? perr : pwarn);
		bad += sock_bad != 0;
		struct nl *nl = nl_open(false);
		struct findings f = {d.cfg_path, true};
		bad += nl ? syscheck_config(&d.cfg, nl, on_syscheck, &f) : 0;
		if (!nl)
			fprintf(stderr,
				"arphad: warning: rtnetlink: %s; devices and networks not "
				"checked\n",
				strerror(errno));
		nl_close(nl);
		if (bad) {
			config_free(&d.cfg);
			return 1;
		}
#define PL(n, one, many) (n), (n) == 1 ? (one) : (many)
		printf("%s: configuration OK (%zu %s, %zu %s, %zu %s, %zu %s, %zu %s)\n",
		       d.cfg_path, PL(d.cfg.n_ifaces, "interface", "interfaces"),
		       PL(d.cfg.n_entries, "ARP entry", "ARP entries"),
		       PL(d.cfg.n_proxies, "proxy ARP network", "proxy ARP networks"),
		       PL(d.cfg.n_vips, "VIP", "VIPs"), PL(d.cfg.n_hosts, "host", "hosts"));
#undef PL
		config_free(&d.cfg);
		return 0;
	}

	log_start(&d.cfg, foreground);
	signal(SIGPIPE, SIG_IGN);
	actions_init(&d.acts);
	char err[512], q[600];
	if (check_caps(err, sizeof(err)) < 0) {
		log_errx("event=start_failed reason=no_privilege msg=%s",
			 log_quote(err, q, sizeof(q)));
		config_free(&d.cfg);
		return 1;
	}
	if (!(d.eng = arp_engine_new(&d.cfg.arp)))
		fatal("event=start_failed what=engine");
	if (!(d.nl = nl_open(true)))
		fatal("event=start_failed what=rtnetlink");
	struct findings f = {d.cfg_path, false};
	if (syscheck_config(&d.cfg, d.nl, on_syscheck, &f) > 0) {
		cleanup(&d);
		return 1;
	}
	if (daemon_init(&d) < 0)
		fatalx("event=start_failed what=event_loop");

	/*
	 * A managed device that does not exist yet (a VLAN or a bond made
	 * later in the boot) is waited for, DeviceTimeout= at most, before
	 * anything is taken: a stop meanwhile leaves nothing behind.
	 */
	if (links_wait_devices(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}

	/*
	 * A start that fails changes nothing. First what can fail and is only
	 * ours, in this order: (1) the control socket (refused while another
	 * arphad listens on it; a file that is not a stale socket is never
	 * replaced), (2) every managed device exists, (3) the nftables owner
	 * table (refused while another arphad runs in this network namespace).
	 * Only then is anything done to the system, and the kernel's learned
	 * neighbours are flushed last, once every part has started.
	 */
	char warn[512];
	d.ctl_fd =
	    control_listen(d.cfg.control_socket, &d.ctl_own, err, sizeof(err), warn, sizeof(warn));
	if (d.ctl_fd < 0) {
		log_errx("event=start_failed what=control_socket msg=%s",
			 log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (metrics_listen(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed what=metrics msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (warn[0]) /* the sentence is arphad -n's; the log says it as key=value */
		log_warnx("event=control_dir_world_writable socket=%s", d.cfg.control_socket);
	d.ifs = calloc(d.cfg.n_ifaces, sizeof(*d.ifs));
	if (!d.ifs)
		fatal("event=start_failed what=memory");
	for (size_t i = 0; i < d.cfg.n_ifaces; i++)
		if (!(d.ifs[d.n_ifs++] = mif_new(&d, &d.cfg.ifaces[i])))
			fatal("event=start_failed what=memory");
	if (links_check_devices(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}

	/* stop the kernel's own ARP input before anything is learned */
	if (links_guard(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed what=nft msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	warn_kernel_table_size(&d.cfg);
	if (links_attach_all(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (d.cfg.cluster.present && transport_start(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	if (daemon_start_services(&d, services, N_SERVICES, err, sizeof(err)) < 0 ||
	    ctl_check_bound(&d, err, sizeof(err)) < 0) {
		log_errx("event=start_failed msg=%s", log_quote(err, q, sizeof(q)));
		cleanup(&d);
		return 1;
	}
	d.ctl = control_start(loop_base(d.loop), d.ctl_fd, ARPHAD_PRIO_CLIENTS, ctl_serve, &d);
	static loop_cb *const on_sig[] = {on_term, on_int, on_hup, on_usr1, on_usr2};
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
	_Static_assert(sizeof(sigs) / sizeof(sigs[0]) == sizeof(d.sigs) / sizeof(d.sigs[0]),
		       "one watcher per signal");
	for (int i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		if (!(d.sigs[i] = loop_watch_signal(d.loop, sigs[i], on_sig[i], &d)))
			fatalx("event=start_failed what=signal signal=%d", sigs[i]);
	if (!d.ctl || links_watch(&d) < 0 || metrics_start(&d) < 0)
		fatalx("event=start_failed what=events");
	/*
	 * Everything started: now what the kernel learned before arphad goes,
	 * and the Static entries attach queued go in.
	 */
	links_flush_learned(&d);
	daemon_apply(&d);

	if (!foreground && daemon(0, 0) < 0)
		fatal("event=start_failed what=daemon");
	/* libevent's signal pipe and epoll survive the fork; reinit to be sure */
	if (!foreground && loop_reinit(d.loop) < 0)
		fatalx("event=start_failed what=event_reinit");
	/* whatever a library opened without O_CLOEXEC stays out of our children */
	if (spawn_cloexec_all() < 0)
		log_warn("event=cloexec_failed msg=\"cannot mark every descriptor close-on-exec\"");
	if (d.cfg.rt_priority) {
		/* heartbeats on time even when other processes load every CPU */
		struct sched_param sp = {.sched_priority = d.cfg.rt_priority};
		/* children (the NotifyScript) start with the default policy */
		if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0)
			log_warn("event=rt_priority_failed priority=%d msg=\"RealtimePriority=0 "
				 "turns this off; heartbeats may be late under load\"",
				 d.cfg.rt_priority);
		else
			log_info("event=rt_priority priority=%d policy=SCHED_RR",
				 d.cfg.rt_priority);
	}
	log_notice("event=started version=%s interfaces=%zu control_socket=%s", ARPHA_VERSION,
		   d.n_ifs, d.cfg.control_socket);
	if (daemon_notify_start(&d) < 0)
		fatal("event=start_failed what=watchdog");
	/* as after every callback: what the start published, then the timer */
	loop_begin(d.loop);
	loop_end(d.loop);
	loop_run(d.loop);
	cleanup(&d);
	return 0;
}
