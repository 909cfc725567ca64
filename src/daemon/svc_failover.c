/*
 * svc_failover: the VIPs, a service of arphad (svc.h). core/vip decides
 * who owns each group; this carries it out: addresses on and off the
 * interface (or on a macvlan with the virtual MAC), the announcements of
 * every method (gratuitous ARP, unicast ARP to every neighbour the
 * cluster knows, flush requests), the NotifyScript, and the neighbours
 * shared over reliable broadcast so that a new master knows whom to tell.
 *
 * What to do and when is core/takeover's (the schedule of announcements,
 * leases, scripts and the stop hand-over, around core/vip); this file
 * carries its actions out: the takeover barrier (host_prepare_takeover)
 * before an address, the address on its lease (the macvlan up first with
 * VirtualMAC=yes) and the engine told at once, the announcements
 * (gratuitous ARP in request and reply form, unicast ARP requests to
 * every neighbour known on the interface, ours and the ones the other
 * nodes shared, flush requests), the NotifyScript's process.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/actions.h"
#include "core/argv.h"
#include "core/arp_cache.h"
#include "core/arp_engine.h"
#include "core/cluster.h"
#include "core/config.h"
#include "core/frame.h"
#include "core/nbtable.h"
#include "core/takeover.h"
#include "core/track.h"
#include "core/vip.h"
#include "daemon/host.h"
#include "daemon/svc.h"
#include "os/flushreq.h"
#include "os/healthcheck.h"
#include "os/keyfile.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/netlink.h"
#include "os/spawn.h"
#include "os/util.h"
#include "os/view.h"

#define MAX_TARGETED 8192 /* unicast ARP frames per interface per round */

/* What the shell keeps of a VIP (the schedule is core/takeover's). */
struct fvip {
	const struct conf_vip *c;
	char vdev[16]; /* the macvlan with VirtualMAC=yes */
	uint32_t vifindex;
	struct mac vmac;
	bool take_failed; /* its last TK_TAKE failed: skip the round after it */
	bool vdev_made;	  /* vip_setup made the macvlan (not another VIP of its VRID) */
	uint64_t garps, targeted, flushes;
	char nbuf[sizeof(((struct conf_vip *)0)->notify)]; /* NotifyScript= split in words */
	char *nargv[CONF_NOTIFY_ARGS + 1];
	size_t nargc;
};

struct failover {
	struct host *h;
	const struct config *cfg;
	struct nl *nl;
	const struct arp_engine *eng; /* read-only: the neighbours, MACs and addresses */
	struct takeover *tk;
	struct takeover_actions tka; /* what tk asks: run() */
	struct actions acts;	     /* frames to send: host_apply */
	struct fvip *v;
	struct conf_vip *ap; /* the active-passive VIPs of cfg (active-active ones: svc_ranges) */
	size_t n;
	pid_t pid[VIP_MAX_GROUPS]; /* each group's running NotifyScript; 0: none */
	struct loop_watch *sigchld;
	bool flush_ok;
	struct flushreq_params fp;
	bool stopping; /* handing the VIPs over before arphad stops */
	/* the health of each group: tracked links, [Track] checks, `arpha vip demote` */
	struct fcheck *chk; /* one per [Track] */
	size_t n_chk;
	bool link_fault[VIP_MAX_GROUPS];
	uint8_t demoted[VIP_MAX_GROUPS]; /* by `arpha vip demote` */
};

/* A [Track] check as it runs. */
struct fcheck {
	const struct conf_track *c;
	struct healthcheck *hc;
	struct track_state st;
	char why[160]; /* its last failure */
};

static void run(struct failover *f);
static void apply_health(struct failover *f);

/* ---- the NotifyScript ---- */

static void note_log_failed(const struct fvip *x, uint8_t state, const char *how)
{
	log_warnx("event=notify_failed vip=%s group=%s state=%s %s", x->c->name, x->c->group,
		  vip_state_name(state), how);
}

static void reap(struct failover *f)
{
	int status;
	pid_t pid;
	uint64_t now = host_now(f->h);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		bool check = false;
		for (size_t i = 0; i < f->n_chk && !check; i++)
			check = healthcheck_child(f->chk[i].hc, pid, status);
		if (check)
			continue;
		size_t g;
		for (g = 0; g < VIP_MAX_GROUPS && f->pid[g] != pid; g++)
			;
		struct takeover_notify_view nv;
		if (g == VIP_MAX_GROUPS || takeover_notify(f->tk, g, &nv) < 0 || !nv.running)
			continue;
		if (nv.vip >= f->n) { /* its VIP went away in a reload */
			f->pid[g] = 0;
			takeover_script_done(f->tk, g, TK_SCRIPT_OK, now, &f->tka);
			continue;
		}
		const struct fvip *x = &f->v[nv.vip];
		bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		char how[96];
		if (ok) {
			log_info("event=notify_done vip=%s group=%s state=%s status=0", x->c->name,
				 x->c->group, vip_state_name(nv.state));
		} else {
			if (WIFEXITED(status))
				snprintf(how, sizeof(how), "status=%d", WEXITSTATUS(status));
			else
				snprintf(how, sizeof(how), "signal=%d reason=%s", WTERMSIG(status),
					 nv.killed ? "timeout" : "signal");
			note_log_failed(x, nv.state, how);
		}
		f->pid[g] = 0;
		takeover_script_done(f->tk, g, ok ? TK_SCRIPT_OK : TK_SCRIPT_FAILED, now, &f->tka);
	}
	run(f);
}

static void on_sigchld(void *arg)
{
	reap(arg);
}

/* Start vip's script for group's running notification; false if it did not start. */
static bool notify_start(struct failover *f, const struct takeover_action *a)
{
	struct fvip *x = &f->v[a->vip];
	char why[512], p[8];
	/* it may have changed since the start: run it only as it was checked */
	if (spawn_check(x->nargv[0], why, sizeof(why)) < 0) {
		char how[600];
		snprintf(how, sizeof(how), "reason=unsafe detail=\"%s\"", why);
		note_log_failed(x, a->state, how);
		return false;
	}
	snprintf(p, sizeof(p), "%u", a->priority);
	char *argv[CONF_NOTIFY_ARGS + 4];
	size_t k = 0;
	for (; k < x->nargc; k++)
		argv[k] = x->nargv[k];
	argv[k++] = (char *)x->c->name;
	argv[k++] = (char *)vip_state_name(a->state);
	argv[k++] = p;
	argv[k] = NULL;
	pid_t pid = spawn_run(argv);
	if (pid < 0) {
		snprintf(why, sizeof(why), "reason=cannot_run error=\"%s: %s\"", x->nargv[0],
			 strerror(errno));
		note_log_failed(x, a->state, why);
		return false;
	}
	f->pid[a->group] = pid;
	log_info("event=notify_start vip=%s group=%s state=%s priority=%u pid=%d", x->c->name,
		 x->c->group, vip_state_name(a->state), a->priority, (int)pid);
	return true;
}

/* The running notification of a->group passed its deadline. */
static void notify_kill(struct failover *f, const struct takeover_action *a)
{
	pid_t pid = f->pid[a->group];
	if (!pid || a->vip >= f->n)
		return;
	const struct fvip *x = &f->v[a->vip];
	log_warnx("event=notify_timeout vip=%s group=%s state=%s pid=%d timeout_s=%d "
		  "action=kill_group",
		  x->c->name, x->c->group, vip_state_name(a->state), (int)pid,
		  TAKEOVER_NOTIFY_TIMEOUT_MS / 1000);
	/* the script and everything it started (its process group) */
	if (spawn_kill_group(pid) < 0)
		kill(pid, SIGKILL);
}

static int check_scripts(const struct config *cfg, const char *path, FILE *out)
{
	int bad = 0;
	for (size_t k = 0; k < cfg->n_vips; k++) {
		const struct conf_vip *c = &cfg->vips[k];
		char buf[sizeof(c->notify)], why[512];
		char *argv[CONF_NOTIFY_ARGS + 1];
		if (!c->notify[0])
			continue;
		/* a script shared by several VIPs: one message */
		size_t j;
		for (j = 0; j < k && strcmp(cfg->vips[j].notify, c->notify) != 0; j++)
			;
		if (j < k)
			continue;
		int n = argv_split(c->notify, buf, sizeof(buf), argv, CONF_NOTIFY_ARGS, why,
				   sizeof(why));
		if (n <= 0 || spawn_check(argv[0], why, sizeof(why)) < 0) {
			fprintf(out, "%s:%d: NotifyScript: %s\n", path, c->notify_line,
				n == 0 ? "no command" : why);
			bad++;
		}
	}
	for (size_t k = 0; k < cfg->n_tracks; k++) {
		const struct conf_track *t = &cfg->tracks[k];
		char buf[sizeof(t->script)], why[512];
		char *argv[CONF_NOTIFY_ARGS + 1];
		if (!t->script[0])
			continue;
		int n = argv_split(t->script, buf, sizeof(buf), argv, CONF_NOTIFY_ARGS, why,
				   sizeof(why));
		if (n <= 0 || spawn_check(argv[0], why, sizeof(why)) < 0) {
			fprintf(out, "%s:%d: [Track %s] Script: %s\n", path, t->script_line,
				t->name, n == 0 ? "no command" : why);
			bad++;
		}
	}
	return bad;
}

/* ---- announcing ---- */

static const struct mac *vip_mac(struct failover *f, const struct fvip *x, struct mac *buf)
{
	if (x->c->vmac)
		return &x->vmac;
	const struct host_iface *m = host_iface(f->h, x->c->iface);
	struct arp_iface_view v;
	if (!m || !m->ifindex || arp_engine_iface_get(f->eng, m->ifindex, &v) < 0)
		return NULL;
	*buf = v.mac;
	return buf;
}

/* A frame for m, sent with the others of the round (host_apply). */
static void send_frame(struct failover *f, const struct host_iface *m, const struct arp_frame *fr)
{
	actions_send(&f->acts, m->ifindex, fr);
}

/* A unicast request we send: the engine must know it asked, so the answer is solicited. */
static void send_query(struct failover *f, const struct host_iface *m, const struct arp_frame *fr)
{
	host_note_query(f->h, m->ifindex, fr->tpa, &fr->eth_dst);
	actions_send(&f->acts, m->ifindex, fr);
}

static bool is_own_addr(const struct arp_iface_view *v, uint32_t ip)
{
	for (size_t i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].addr == ip)
			return true;
	return false;
}

/* Unicast ARP requests from the VIP to every neighbour known on its interface. */
static size_t send_targeted(struct failover *f, const struct host_iface *m, const struct fvip *x,
			    const struct mac *mac)
{
	struct arp_iface_view v;
	if (arp_engine_iface_get(f->eng, m->ifindex, &v) < 0)
		return 0;
	uint32_t vip = x->c->addr.addr;
	size_t sent = 0;
	struct arp_frame fr;
	size_t cursor = 0;
	const struct arp_entry *en;
	while ((en = arp_cache_next(v.cache, &cursor)) && sent < MAX_TARGETED) {
		if (en->type != ARP_DYNAMIC && en->type != ARP_STATIC)
			continue;
		if (en->ip == vip || is_own_addr(&v, en->ip))
			continue;
		frame_request(&fr, mac, vip, en->ip);
		fr.eth_dst = en->mac;
		send_query(f, m, &fr);
		sent++;
	}
	/* and those the cluster saw (the neighbour cache), each at its latest address */
	const struct nbtable *t = host_nbcache(f->h);
	size_t at = 0;
	const struct nbt_record *r;
	while (t && (r = nbt_next(t, &at)) && sent < MAX_TARGETED) {
		if (r->n_ip4 == 0 || strcmp(r->iface, m->name) != 0 || r->ip4[0] == vip ||
		    is_own_addr(&v, r->ip4[0]))
			continue;
		const struct arp_entry *own = arp_cache_find(v.cache, r->ip4[0]);
		if (own && (own->type == ARP_DYNAMIC || own->type == ARP_STATIC))
			continue; /* told above */
		frame_request(&fr, mac, vip, r->ip4[0]);
		fr.eth_dst = r->mac;
		send_query(f, m, &fr);
		sent++;
	}
	return sent;
}

/* One round of announcements for x with methods (ANN_*); flush requests when asked. */
static void announce(struct failover *f, struct fvip *x, uint8_t methods)
{
	const struct host_iface *m = host_iface(f->h, x->c->iface);
	struct mac buf;
	const struct mac *mac = vip_mac(f, x, &buf);
	if (!m || !m->ifindex || !mac)
		return;
	struct arp_frame fr;
	if (methods & (ANN_GARP | ANN_VMAC)) {
		/* with vmac alone, one frame still teaches the switches the new port */
		frame_garp_request(&fr, mac, x->c->addr.addr);
		send_frame(f, m, &fr);
		if (methods & ANN_GARP) {
			frame_garp_reply(&fr, mac, x->c->addr.addr);
			send_frame(f, m, &fr);
		}
		x->garps++;
	}
	if (methods & ANN_TARGETED)
		x->targeted += send_targeted(f, m, x, mac);
	host_apply(f->h, &f->acts);
	if ((methods & ANN_FLUSH) && f->flush_ok) {
		uint32_t hosts[CONF_MAX_FLUSH_HOSTS];
		for (size_t i = 0; i < x->c->n_flush_hosts; i++)
			hosts[i] = htonl(x->c->flush_hosts[i]);
		uint32_t a = htonl(x->c->addr.addr);
		if (flushreq_start(loop_base(host_loop(f->h)), &f->fp, hosts, x->c->n_flush_hosts,
				   &a, 1) < 0)
			log_warn("event=flush_request_failed vip=%s", x->c->name);
		else
			x->flushes++;
	}
}

/* ---- taking and giving addresses ---- */

static int lease(struct failover *f, struct fvip *x, const struct host_iface *m)
{
	if (x->c->vmac)
		return host_addr_lease(f->h, x->vifindex, x->c->addr.addr, x->c->addr.len, true,
				       TAKEOVER_LEASE_S);
	return host_addr_lease(f->h, m->ifindex, x->c->addr.addr, x->c->addr.len, false,
			       TAKEOVER_LEASE_S);
}

/* The address on; false (logged) when it could not be done. */
static bool take(struct failover *f, struct fvip *x)
{
	const struct host_iface *m = host_iface(f->h, x->c->iface);
	char ip[IP4_STRLEN];
	if (!m || !m->ifindex) {
		log_warnx("event=vip_take_failed vip=%s address=%s iface=%s reason=iface_absent",
			  x->c->name, ip4_fmt(x->c->addr.addr, ip), x->c->iface);
		return false;
	}
	int rc = 0;
	if (x->c->vmac)
		rc = host_link_set_up(f->h, x->vifindex, true);
	if (rc == 0)
		rc = lease(f, x, m);
	if (rc < 0) {
		log_warn("event=vip_add_failed vip=%s address=%s/%u", x->c->name,
			 ip4_fmt(x->c->addr.addr, ip), x->c->addr.len);
		return false;
	}
	host_addrs_changed(f->h, m->ifindex); /* the engine answers for it from now on */
	return true;
}

static void give(struct failover *f, struct fvip *x)
{
	char ip[IP4_STRLEN];
	const struct host_iface *m = host_iface(f->h, x->c->iface);
	int rc;
	if (x->c->vmac) {
		rc = host_addr_del(f->h, x->vifindex, x->c->addr.addr, x->c->addr.len);
		if (host_link_set_up(f->h, x->vifindex, false) < 0)
			log_warn("event=vdev_down_failed vip=%s device=%s", x->c->name, x->vdev);
	} else {
		rc = m && m->ifindex
			 ? host_addr_del(f->h, m->ifindex, x->c->addr.addr, x->c->addr.len)
			 : 0;
	}
	if (rc < 0)
		log_warn("event=vip_remove_failed vip=%s address=%s/%u", x->c->name,
			 ip4_fmt(x->c->addr.addr, ip), x->c->addr.len);
	if (m && m->ifindex)
		host_addrs_changed(f->h, m->ifindex);
}

static void renew(struct failover *f, struct fvip *x)
{
	const struct host_iface *m = host_iface(f->h, x->c->iface);
	char ip[IP4_STRLEN];
	if (m && m->ifindex && lease(f, x, m) < 0)
		log_warn("event=vip_renew_failed vip=%s address=%s", x->c->name,
			 ip4_fmt(x->c->addr.addr, ip));
}

/* The barrier before the groups in mask become ours (the connections first). */
static void prepare(struct failover *f, uint64_t mask)
{
	size_t first = 0;
	while (first < 64 && !(mask & (1ull << first)))
		first++;
	const char *name = "";
	for (size_t k = 0; k < f->n; k++) {
		struct takeover_vip_view tv;
		if (takeover_vip(f->tk, k, &tv) == 0 && tv.group == first) {
			name = f->v[k].c->group;
			break;
		}
	}
	host_prepare_takeover(
	    f->h, &(struct takeover_scope){.kind = SCOPE_VIP_GROUP, .groups = mask, .group = name});
}

/* Carry out what core/takeover asked in l, in order (the list may grow meanwhile). */
static void run_list(struct failover *f, struct takeover_actions *l)
{
	uint64_t now = host_now(f->h);
	for (size_t i = 0; i < l->n; i++) {
		const struct takeover_action a = l->v[i]; /* a copy: the list may move */
		struct fvip *x = a.vip < f->n ? &f->v[a.vip] : NULL;
		uint8_t buf[WIRE_STATE_MAX];
		switch (a.type) {
		case TK_STATE:
			break;
		case TK_PREPARE:
			prepare(f, a.groups);
			break;
		case TK_TAKE:
			if ((x->take_failed = !take(f, x)))
				takeover_take_failed(f->tk, a.vip);
			break;
		case TK_GIVE:
			give(f, x);
			break;
		case TK_ANNOUNCE:
			if (a.round == TR_TAKEOVER && x->take_failed)
				x->take_failed =
				    false; /* the address is not ours: nothing to say */
			else
				announce(f, x, a.methods);
			break;
		case TK_RENEW:
			renew(f, x);
			break;
		case TK_NOTIFY_RUN:
			if (!notify_start(f, &a))
				takeover_script_done(f->tk, a.group, TK_SCRIPT_NOT_STARTED, now,
						     &f->tka);
			break;
		case TK_NOTIFY_KILL:
			notify_kill(f, &a);
			break;
		case TK_ADVERT:
			(void)host_set_state(f->h, CLUSTER_CHAN_VIP, buf,
					     takeover_advert(f->tk, buf, sizeof(buf)), a.push);
			break;
		case TK_LOG:
			log_line(a.level, a.text);
			break;
		}
	}
	if (l->dropped) {
		log_warnx("event=out_of_memory takeover_actions_lost=%zu", l->dropped);
		l->dropped = 0;
	}
	takeover_actions_reset(l);
}

static void run(struct failover *f)
{
	run_list(f, &f->tka);
}

/* ---- tracked links ---- */

static bool dev_up(struct failover *f, const char *dev)
{
	struct nl_link l;
	return nl_link_by_name(f->nl, dev, &l) == 0 && l.up;
}

/*
 * Tell the engine which addresses of each interface the cluster shares,
 * and, while handing them over before a stop, not to answer for them.
 */
static void set_shared(struct failover *f)
{
	const struct host_iface *m;
	uint32_t *ips = calloc(f->n ? f->n : 1, sizeof(*ips));
	if (!ips) {
		log_warnx("event=set_shared_failed msg=\"out of memory\"");
		return;
	}
	for (size_t i = 0; (m = host_iface_at(f->h, i)); i++) {
		size_t n = 0;
		if (!m->ifindex)
			continue;
		for (size_t k = 0; k < f->n; k++)
			if (strcmp(f->v[k].c->iface, m->name) == 0)
				ips[n++] = f->v[k].c->addr.addr;
		if (host_set_shared(f->h, m->ifindex, ips, n) < 0)
			log_warn("event=set_shared_failed iface=%s", m->name);
		if (f->stopping && host_set_quiet(f->h, m->ifindex, ips, n) < 0)
			log_warn("event=set_quiet_failed iface=%s", m->name);
	}
	free(ips);
}

static void on_link(struct failover *f)
{
	set_shared(f);
	bool fault[VIP_MAX_GROUPS] = {false};
	uint64_t now = host_now(f->h);
	for (size_t k = 0; k < f->n; k++) {
		const struct fvip *x = &f->v[k];
		struct takeover_vip_view tv;
		if (takeover_vip(f->tk, k, &tv) < 0)
			continue;
		const struct host_iface *m = host_iface(f->h, x->c->iface);
		/* the device that is down; by index: it may have been renamed */
		const char *dev = m && m->ifindex ? m->dev : m ? m->device : x->c->iface;
		bool bad = !m || !m->ifindex || !m->up;
		for (size_t t = 0; t < x->c->n_track && !bad; t++)
			if ((bad = !dev_up(f, x->c->track[t])))
				dev = x->c->track[t];
		if (bad && !fault[tv.group]) {
			struct vip_group_view gv;
			struct nl_link l;
			vip_group(takeover_vip_core(f->tk), tv.group, now, &gv);
			if (gv.state != VIP_FAULT)
				log_warnx("event=vip_fault vip=%s group=%s device=%s reason=%s",
					  x->c->name, x->c->group, dev,
					  nl_link_by_name(f->nl, dev, &l) < 0 && errno == ENODEV
					      ? "no_such_device"
					      : "link_down");
		}
		fault[tv.group] |= bad;
	}
	memcpy(f->link_fault, fault, sizeof(f->link_fault));
	apply_health(f);
}

/* ---- health: [Track] checks and `arpha vip demote` ---- */

/* Does group g (core/vip's index) follow check i, and with what weight? */
static bool group_follows(const struct failover *f, size_t g, size_t i, uint8_t *weight)
{
	for (size_t k = 0; k < f->n; k++) {
		struct takeover_vip_view tv;
		if (takeover_vip(f->tk, k, &tv) < 0 || tv.group != g)
			continue;
		const struct conf_vip *c = f->v[k].c;
		for (size_t j = 0; j < c->n_checks; j++)
			if (strcmp(c->checks[j], f->chk[i].c->name) == 0) {
				*weight = c->check_weight[j];
				return true;
			}
	}
	return false;
}

/*
 * Each group's fault (a tracked link down, a failing check of weight 0)
 * and demotion (the weights of its failing checks, and `arpha vip
 * demote`) into core/vip.
 */
static void apply_health(struct failover *f)
{
	uint64_t now = host_now(f->h);
	for (size_t g = 0; g < vip_groups(takeover_vip_core(f->tk)); g++) {
		bool fault = f->link_fault[g];
		unsigned demote = f->demoted[g];
		for (size_t i = 0; i < f->n_chk; i++) {
			uint8_t w;
			if (!f->chk[i].st.failing || !group_follows(f, g, i, &w))
				continue;
			if (w == 0)
				fault = true;
			demote += w;
		}
		takeover_set_fault(f->tk, g, fault, now, &f->tka);
		takeover_set_demote(f->tk, g, demote > 253 ? 253 : (uint8_t)demote, now, &f->tka);
	}
	run(f);
}

static void on_check(void *arg, size_t idx, bool ok, const char *why)
{
	struct failover *f = arg;
	struct fcheck *k = &f->chk[idx];
	if (!ok)
		snprintf(k->why, sizeof(k->why), "%s", why);
	if (!track_result(&k->st, ok, k->c->fall, k->c->rise))
		return;
	char q[200];
	if (k->st.failing)
		log_notice("event=track_failing track=%s reason=%s", k->c->name,
			   log_quote(k->why, q, sizeof(q)));
	else
		log_notice("event=track_healthy track=%s", k->c->name);
	apply_health(f);
}

/* Start every [Track] check (a config with no active-passive VIP has none to follow). */
static int start_checks(struct failover *f, char *err, size_t errlen)
{
	if (!f->cfg->n_tracks)
		return 0;
	f->chk = calloc(f->cfg->n_tracks, sizeof(*f->chk));
	if (!f->chk) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < f->cfg->n_tracks; i++) {
		f->chk[i].c = &f->cfg->tracks[i];
		f->chk[i].hc =
		    healthcheck_new(host_loop(f->h), f->chk[i].c, i, on_check, f, err, errlen);
		f->n_chk = i + 1;
		if (!f->chk[i].hc)
			return -1;
	}
	return 0;
}

/* ---- the cluster's inputs ---- */

static void on_state(struct failover *f, uint32_t node, const uint8_t *data, size_t len)
{
	if (takeover_on_advert(f->tk, node, data, len, host_now(f->h), &f->tka) == 0)
		run(f);
}

static void on_sync_link(struct failover *f, bool up)
{
	takeover_set_link(f->tk, up, host_now(f->h), &f->tka);
	run(f);
}

/* ---- `arpha vip` ---- */

static const struct view_col vip_cols[] = {
    {.key = "name", .head = "NAME", .width = 15},
    {.key = "address", .head = "ADDRESS", .width = 18, .gap = 2},
    {.key = "interface", .head = "INTERFACE", .width = 9},
    {.key = "state", .head = "STATE", .width = 8, .gap = 2},
    {.key = "owner", .head = "OWNER", .width = 8},
    {.key = "priority", .head = "PRIO", .width = 5, .right = true},
    {.key = "health", .head = "HEALTH", .width = 14, .gap = 2},
    {.key = "last_change_ms",
     .head = "CHANGED",
     .width = 11,
     .right = true,
     .scale = 1000,
     .unit = "s"},
    {.key = "methods", .head = "METHODS", .gap = 2},
};
static const struct view_table vip_table = {vip_cols, 9, 0, false};

/*
 * A VIP's checks (name, weight, state, the last failure) and, for the
 * text, what lowers its group: "ok", "-50 haproxy", "fault maint", "-253 demoted".
 */
static void health(const struct failover *f, struct view *v, const struct fvip *x, size_t g)
{
	char text[96];
	size_t at = 0;
	text[0] = '\0';
	view_list(v, "checks");
	for (size_t j = 0; j < x->c->n_checks; j++) {
		const struct fcheck *k = NULL;
		for (size_t i = 0; i < f->n_chk; i++)
			if (!strcmp(f->chk[i].c->name, x->c->checks[j]))
				k = &f->chk[i];
		if (!k)
			continue;
		view_object(v, NULL);
		view_str(v, "name", k->c->name);
		view_u64(v, "weight", x->c->check_weight[j]);
		view_str(v, "state", k->st.failing ? "failing" : "healthy");
		view_u64(v, "runs", k->st.runs);
		view_u64(v, "failed", k->st.failed);
		view_str(v, "last_failure", k->why);
		view_end(v);
		if (k->st.failing && at < sizeof(text))
			at +=
			    x->c->check_weight[j]
				? (size_t)snprintf(text + at, sizeof(text) - at, "%s-%u %s",
						   at ? " " : "", x->c->check_weight[j], k->c->name)
				: (size_t)snprintf(text + at, sizeof(text) - at, "%sfault %s",
						   at ? " " : "", k->c->name);
	}
	view_end(v);
	if (f->demoted[g] && at < sizeof(text))
		at += (size_t)snprintf(text + at, sizeof(text) - at, "%s-%u demoted", at ? " " : "",
				       f->demoted[g]);
	view_str(v, "health", at ? text : "ok");
}

/* Each VIP: its address, state, owner, last change and takeover's methods. */
static void show(void *self, struct view *v)
{
	static const char *const method_names[] = {"garp", "vmac", "targeted", "flush"};
	struct failover *f = self;
	if (!f) {
		view_list(v, NULL);
		view_line(v, "no [VIP] in the configuration");
		view_end(v);
		return;
	}
	uint64_t now = host_now(f->h);
	view_table(v, NULL, &vip_table, NULL);
	for (size_t k = 0; k < f->n; k++) {
		const struct fvip *x = &f->v[k];
		struct takeover_vip_view tv;
		struct vip_group_view gv;
		takeover_vip(f->tk, k, &tv);
		vip_group(takeover_vip_core(f->tk), tv.group, now, &gv);
		view_row(v);
		view_str(v, "name", x->c->name);
		view_ip4_prefix(v, "address", x->c->addr.addr, x->c->addr.len);
		view_str(v, "interface", x->c->iface);
		view_str(v, "group", x->c->group);
		view_str(v, "state", vip_state_name(gv.state));
		view_u64(v, "owner", gv.owner);
		if (!gv.owner)
			view_text(v, "-");
		view_u64(v, "priority", gv.priority);
		view_u64(v, "configured_priority", gv.configured);
		view_u64(v, "demote", gv.demote);
		view_u64(v, "demoted_by_hand", f->demoted[tv.group]);
		health(f, v, x, tv.group);
		view_bool(v, "holding", tv.holding);
		view_u64(v, "last_change_ms", now - gv.changed_at);
		view_u64(v, "changes", gv.changes);
		view_list(v, "methods");
		for (unsigned i = 0; i < 4; i++)
			if (tv.methods & (1u << i))
				view_str(v, NULL, method_names[i]);
		view_end(v);
		view_u64(v, "garp_rounds", x->garps);
		view_u64(v, "targeted_sent", x->targeted);
		view_u64(v, "flush_rounds", x->flushes);
		view_u64(v, "notify_runs", tv.notify_runs);
		view_u64(v, "notify_failed", tv.notify_failed);
		view_u64(v, "notify_dropped", tv.notify_dropped);
		if (x->c->vmac)
			view_mac(v, "vmac", &x->vmac);
		view_end(v);
	}
	view_end(v);
}

/* ---- start and stop ---- */

static void vdev_name(const struct conf_vip *c, const char *parent, char out[16])
{
	char buf[64];
	snprintf(buf, sizeof(buf), "vm%u.%s", c->vrid, parent);
	memcpy(out, buf, 15); /* IFNAMSIZ - 1 */
	out[15] = '\0';
}

static int release_leftovers(const struct config *cfg, struct nl *nl)
{
	int removed = 0;
	for (size_t k = 0; k < cfg->n_vips; k++) {
		const struct conf_vip *c = &cfg->vips[k];
		const struct conf_iface *ci = config_iface(cfg, c->iface);
		struct nl_link l;
		if (!ci || nl_link_by_name(nl, ci->device, &l) < 0)
			continue;
		struct ip4_prefix *a = NULL;
		size_t n = 0;
		if (!c->vmac && nl_addrs_all(nl, l.ifindex, &a, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				if (a[i].addr == c->addr.addr &&
				    nl_addr_del(nl, l.ifindex, a[i].addr, a[i].len) == 0)
					removed++;
		}
		free(a);
		if (c->vmac) {
			char name[16];
			struct nl_link v;
			vdev_name(c, ci->device, name);
			if (nl_link_by_name(nl, name, &v) == 0 && nl_link_del(nl, v.ifindex) == 0)
				removed++;
		}
	}
	return removed;
}

static void svc_free(void *self);

/* The NotifyScript's words and the macvlan (VirtualMAC=yes) of x. -1 with a message. */
static int vip_setup(struct failover *f, struct fvip *x, char *err, size_t errlen)
{
	if (x->c->notify[0]) {
		char why[256];
		int nw = argv_split(x->c->notify, x->nbuf, sizeof(x->nbuf), x->nargv,
				    CONF_NOTIFY_ARGS, why, sizeof(why));
		if (nw <= 0) {
			snprintf(err, errlen, "%s:%d: NotifyScript: %s", host_config_path(f->h),
				 x->c->notify_line, nw < 0 ? why : "no command");
			return -1;
		}
		x->nargc = (size_t)nw;
	}
	if (x->c->vmac) {
		const struct host_iface *m = host_iface(f->h, x->c->iface);
		x->vmac = (struct mac){{0x00, 0x00, 0x5e, 0x00, 0x01, x->c->vrid}};
		vdev_name(x->c, m->device, x->vdev);
		struct nl_link l;
		if (nl_link_by_name(f->nl, x->vdev, &l) == 0) {
			x->vifindex = l.ifindex; /* shared by the VIPs of one VRID */
		} else if (nl_macvlan_add(f->nl, x->vdev, m->ifindex, &x->vmac) < 0 ||
			   nl_link_by_name(f->nl, x->vdev, &l) < 0) {
			snprintf(err, errlen, "%s:%d: [VIP %s] cannot create macvlan %s on %s: %s",
				 host_config_path(f->h), x->c->line, x->c->name, x->vdev, m->device,
				 strerror(errno));
			return -1;
		} else {
			x->vifindex = l.ifindex;
			x->vdev_made = true;
			/* no IPv6 on it: a backup must send nothing with the virtual MAC */
			if (nl_ipv6_off(x->vdev) < 0)
				log_warn("event=ipv6_off_failed vip=%s device=%s", x->c->name,
					 x->vdev);
		}
	}
	return 0;
}

/* [Flush]: the key and the timing of flush requests. -1 with a message. */
static int flush_setup(struct failover *f, const struct config *cfg, char *err, size_t errlen)
{
	struct flushreq_params fp = {0};
	if (cfg->flush.present) {
		char kerr[512];
		if (keyfile_load_flush(cfg->flush.key_file, &fp.key, kerr, sizeof(kerr)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", host_config_path(f->h),
				 cfg->flush.key_line, kerr);
			return -1;
		}
		fp.port = cfg->flush.port;
		fp.count = cfg->flush.count;
		fp.interval_ms = cfg->flush.interval_ms;
	}
	sodium_memzero(&f->fp.key, sizeof(f->fp.key));
	f->fp = fp;
	f->flush_ok = cfg->flush.present;
	sodium_memzero(&fp.key, sizeof(fp.key));
	return 0;
}

/* The VIPs' groups, scripts, virtual MACs and the flush key. -1 with a message. */
static int setup(struct failover *f, const struct config *cfg, char *err, size_t errlen)
{
	int left = release_leftovers(cfg, f->nl);
	if (left > 0)
		log_notice("event=leftovers_removed count=%d msg=\"VIP addresses or virtual MACs "
			   "an earlier arphad left\"",
			   left);
	if (flush_setup(f, cfg, err, errlen) < 0)
		return -1;
	struct takeover_params tp = {.self_id = cfg->cluster.node_id,
				     .interval_ms = cfg->cluster.interval_ms,
				     .flush = f->flush_ok};
	char terr[256];
	f->tk = takeover_new(&tp, f->ap, f->n, host_now(f->h), terr, sizeof(terr));
	if (!f->tk) {
		if (errno == EINVAL && terr[0])
			snprintf(err, errlen, "%s:%s", host_config_path(f->h), terr);
		else
			snprintf(err, errlen, "VIPs: %s", strerror(errno));
		return -1;
	}
	for (size_t k = 0; k < f->n; k++) {
		f->v[k].c = &f->ap[k];
		if (vip_setup(f, &f->v[k], err, errlen) < 0)
			return -1;
	}
	f->sigchld = loop_watch_signal(host_loop(f->h), SIGCHLD, on_sigchld, f);
	if (!f->sigchld) {
		snprintf(err, errlen, "cannot watch SIGCHLD");
		return -1;
	}
	return 0;
}

static void *start(struct host *h, const struct config *cfg, char *err, size_t errlen)
{
	size_t n = 0;
	for (size_t k = 0; k < cfg->n_vips; k++)
		n += cfg->vips[k].mode == VIP_MODE_ACTIVE_PASSIVE;
	if (n == 0)
		return NULL;
	struct failover *f = calloc(1, sizeof(*f));
	if (!f || !(f->v = calloc(n, sizeof(*f->v))) || !(f->ap = calloc(n, sizeof(*f->ap)))) {
		if (f)
			free(f->v);
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t k = 0, j = 0; k < cfg->n_vips; k++)
		if (cfg->vips[k].mode == VIP_MODE_ACTIVE_PASSIVE)
			f->ap[j++] = cfg->vips[k];
	f->h = h;
	f->cfg = cfg;
	f->nl = host_netlink(h);
	f->eng = host_neighbours(h);
	f->n = n;
	actions_init(&f->acts);
	takeover_actions_init(&f->tka);
	if (setup(f, cfg, err, errlen) < 0 || start_checks(f, err, errlen) < 0) {
		svc_free(f);
		return NULL;
	}
	on_link(f); /* the faults of the tracked links, and our first advert */
	log_info("event=failover_start vips=%zu groups=%zu heartbeat_ms=%u", f->n,
		 vip_groups(takeover_vip_core(f->tk)), cfg->cluster.interval_ms);
	return f;
}

static void svc_free(void *self)
{
	struct failover *f = self;
	if (f->tk) {
		/* every address back, the notifications still waiting dropped */
		takeover_release(f->tk, &f->tka);
		run(f);
	}
	for (size_t k = 0; f->v && k < f->n; k++) {
		struct fvip *x = &f->v[k];
		if (x->vifindex) {
			nl_link_del(f->nl, x->vifindex);
			for (size_t j = k + 1; j < f->n; j++)
				if (f->v[j].vifindex == x->vifindex)
					f->v[j].vifindex = 0;
		}
	}
	for (size_t i = 0; i < f->n_chk; i++)
		healthcheck_free(f->chk[i].hc);
	free(f->chk);
	loop_watch_free(f->sigchld);
	sodium_memzero(&f->fp.key, sizeof(f->fp.key));
	takeover_free(f->tk);
	takeover_actions_free(&f->tka);
	actions_free(&f->acts);
	free(f->v);
	free(f->ap);
	free(f);
}

/* ---- reload ---- */

static bool same_track(const struct conf_track *a, const struct conf_track *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->script, b->script) &&
	       !strcmp(a->file, b->file) && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->fall == b->fall && a->rise == b->rise;
}

/*
 * The [Track] checks of cfg: one whose settings did not change goes on as
 * it runs (its state kept); the others start anew. -1 with a message
 * when one cannot start: then none runs (the old ones point into the old
 * configuration).
 */
static int reload_checks(struct failover *f, const struct config *cfg, char *err, size_t errlen)
{
	struct fcheck *nc = cfg->n_tracks ? calloc(cfg->n_tracks, sizeof(*nc)) : NULL;
	bool *kept = f->n_chk ? calloc(f->n_chk, sizeof(*kept)) : NULL;
	if ((cfg->n_tracks && !nc) || (f->n_chk && !kept)) {
		free(nc);
		free(kept);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_tracks; i++) {
		nc[i].c = &cfg->tracks[i];
		for (size_t j = 0; j < f->n_chk && !nc[i].hc; j++)
			if (!kept[j] && same_track(f->chk[j].c, nc[i].c)) {
				kept[j] = true;
				nc[i].hc = f->chk[j].hc;
				nc[i].st = f->chk[j].st;
				memcpy(nc[i].why, f->chk[j].why, sizeof(nc[i].why));
			}
		if (!nc[i].hc && !(nc[i].hc = healthcheck_new(host_loop(f->h), nc[i].c, i, on_check,
							      f, err, errlen))) {
			for (size_t k = 0; k < i; k++) {
				bool old = false;
				for (size_t j = 0; j < f->n_chk; j++)
					old |= f->chk[j].hc == nc[k].hc;
				if (!old)
					healthcheck_free(nc[k].hc);
			}
			free(nc);
			free(kept);
			/* the old ones point into the old configuration: none runs rather */
			for (size_t j = 0; j < f->n_chk; j++)
				healthcheck_free(f->chk[j].hc);
			free(f->chk);
			f->chk = NULL;
			f->n_chk = 0;
			return -1;
		}
	}
	for (size_t j = 0; j < f->n_chk; j++)
		if (!kept[j])
			healthcheck_free(f->chk[j].hc);
	for (size_t i = 0; i < cfg->n_tracks; i++)
		healthcheck_rebind(nc[i].hc, nc[i].c, i);
	free(f->chk);
	free(kept);
	f->chk = nc;
	f->n_chk = cfg->n_tracks;
	return 0;
}

/* The macvlan of x, unless a VIP of v[0..n-1] uses it. */
static void vdev_drop(struct failover *f, const struct fvip *x, const struct fvip *v, size_t n)
{
	if (!x->vifindex)
		return;
	for (size_t k = 0; k < n; k++)
		if (v[k].vifindex == x->vifindex)
			return;
	if (nl_link_del(f->nl, x->vifindex) < 0)
		log_warn("event=vdev_remove_failed vip=%s device=%s", x->c->name, x->vdev);
}

static int fvip_name_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct fvip *const *)a)->c->name,
		      (*(const struct fvip *const *)b)->c->name);
}

/* bsearch's: a name against an element of an array sorted by fvip_name_cmp */
static int fvip_name_key(const void *key, const void *elem)
{
	return strcmp(*(const char *const *)key, (*(const struct fvip *const *)elem)->c->name);
}

/* The VIP named name in v[0..n-1] (sorted by name), or NULL. */
static const struct fvip *fvip_by_name(const struct fvip *const *v, size_t n, const char *name)
{
	const struct fvip *const *x = n ? bsearch(&name, v, n, sizeof(*v), fvip_name_key) : NULL;
	return x ? *x : NULL;
}

/*
 * A reload: the VIPs, their groups' priorities and preemption, the
 * announcement settings, the NotifyScripts, the [Track] checks and [Flush]
 * change in place (core/takeover's reconf): an address moves only when
 * its VIP is gone, changed its address, interface, group or virtual MAC,
 * or its group is decided anew by the new priorities.
 */
static int svc_reload(void *self, const struct config *cfg, bool dry, char *err, size_t errlen)
{
	struct failover *f = self;
	const struct fvip **by_name = NULL;
	if (dry)
		return 0; /* what could fail is checked by the parser and check_scripts */
	uint64_t now = host_now(f->h);
	f->cfg = cfg;
	if (reload_checks(f, cfg, err, errlen) < 0)
		log_errx("event=reload_failed what=Track error=\"%s\" msg=\"no [Track] check "
			 "runs: restart arphad\"",
			 err);
	size_t n = 0;
	for (size_t k = 0; k < cfg->n_vips; k++)
		n += cfg->vips[k].mode == VIP_MODE_ACTIVE_PASSIVE;
	struct conf_vip *ap = n ? calloc(n, sizeof(*ap)) : NULL;
	struct fvip *nv = n ? calloc(n, sizeof(*nv)) : NULL;
	int *vmap = f->n ? calloc(f->n, sizeof(*vmap)) : NULL;
	bool *made = n ? calloc(n, sizeof(*made)) : NULL; /* a macvlan made for it */
	if ((n && (!ap || !nv || !made)) || (f->n && !vmap)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t k = 0, j = 0; k < cfg->n_vips; k++)
		if (cfg->vips[k].mode == VIP_MODE_ACTIVE_PASSIVE)
			ap[j++] = cfg->vips[k];
	/* a VIP with the name of an old one in the same place keeps what the shell made */
	by_name = f->n ? calloc(f->n, sizeof(*by_name)) : NULL;
	if (f->n && !by_name) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < f->n; i++)
		by_name[i] = &f->v[i];
	if (f->n)
		qsort(by_name, f->n, sizeof(*by_name), fvip_name_cmp);
	for (size_t k = 0; k < n; k++) {
		nv[k].c = &ap[k];
		const struct fvip *o = fvip_by_name(by_name, f->n, ap[k].name);
		size_t i = o && o->c->vmac == ap[k].vmac && o->c->vrid == ap[k].vrid &&
				   !strcmp(o->c->iface, ap[k].iface)
			       ? (size_t)(o - f->v)
			       : f->n;
		if (i < f->n && ap[k].vmac) {
			nv[k].vifindex = f->v[i].vifindex;
			nv[k].vmac = f->v[i].vmac;
			memcpy(nv[k].vdev, f->v[i].vdev, sizeof(nv[k].vdev));
		}
		bool had = nv[k].vifindex != 0;
		if (!nv[k].vifindex && vip_setup(f, &nv[k], err, errlen) < 0)
			goto fail;
		if (had && ap[k].notify[0]) {
			char why[256];
			int nw = argv_split(ap[k].notify, nv[k].nbuf, sizeof(nv[k].nbuf),
					    nv[k].nargv, CONF_NOTIFY_ARGS, why, sizeof(why));
			if (nw <= 0) {
				snprintf(err, errlen, "%s:%d: NotifyScript: %s",
					 host_config_path(f->h), ap[k].notify_line,
					 nw < 0 ? why : "no command");
				goto fail;
			}
			nv[k].nargc = (size_t)nw;
		}
		made[k] = nv[k].vdev_made; /* to go again if the reload fails */
		if (i < f->n) {
			nv[k].garps = f->v[i].garps;
			nv[k].targeted = f->v[i].targeted;
			nv[k].flushes = f->v[i].flushes;
		}
	}
	free(by_name);
	by_name = NULL;
	struct flushreq_params keep_fp = f->fp;
	bool keep_flush = f->flush_ok;
	if (flush_setup(f, cfg, err, errlen) < 0)
		goto fail;
	struct takeover_params tp = {.self_id = cfg->cluster.node_id,
				     .interval_ms = cfg->cluster.interval_ms,
				     .flush = f->flush_ok};
	struct takeover_actions gone;
	takeover_actions_init(&gone);
	int gmap[VIP_MAX_GROUPS];
	char terr[256] = "";
	if (takeover_reconf(f->tk, &tp, ap, n, now, &gone, &f->tka, vmap, gmap, terr,
			    sizeof(terr)) < 0) {
		snprintf(err, errlen, "VIPs: %s", terr[0] ? terr : strerror(errno));
		sodium_memzero(&f->fp.key, sizeof(f->fp.key));
		f->fp = keep_fp;
		f->flush_ok = keep_flush;
		takeover_actions_free(&gone);
		goto fail;
	}
	sodium_memzero(&keep_fp.key, sizeof(keep_fp.key));
	/* the addresses that go, with the old list; then the new list in its place */
	run_list(f, &gone);
	takeover_actions_free(&gone);
	for (size_t i = 0; i < f->n; i++) {
		if (vmap[i] >= 0) {
			struct fvip *x = &nv[vmap[i]];
			x->take_failed = f->v[i].take_failed;
		}
		/* a macvlan no VIP uses any more goes (once for the VIPs of a VRID) */
		if (f->v[i].vifindex) {
			vdev_drop(f, &f->v[i], nv, n);
			for (size_t j = i + 1; j < f->n; j++)
				if (f->v[j].vifindex == f->v[i].vifindex)
					f->v[j].vifindex = 0;
		}
	}
	pid_t pid[VIP_MAX_GROUPS] = {0};
	bool link_fault[VIP_MAX_GROUPS] = {false};
	uint8_t demoted[VIP_MAX_GROUPS] = {0};
	for (size_t g = 0; g < VIP_MAX_GROUPS; g++)
		if (gmap[g] >= 0) {
			pid[gmap[g]] = f->pid[g];
			link_fault[gmap[g]] = f->link_fault[g];
			demoted[gmap[g]] = f->demoted[g];
		}
	memcpy(f->pid, pid, sizeof(pid));
	memcpy(f->link_fault, link_fault, sizeof(link_fault));
	memcpy(f->demoted, demoted, sizeof(demoted));
	free(f->v);
	free(f->ap);
	f->v = nv;
	f->ap = ap;
	f->n = n;
	free(vmap);
	free(made);
	log_info("event=reload what=VIPs vips=%zu groups=%zu", f->n,
		 vip_groups(takeover_vip_core(f->tk)));
	run(f);
	on_link(f); /* the engine's shared addresses, the faults, the health: then decide */
	return 0;
fail:
	free(by_name);
	for (size_t k = 0; made && k < n; k++)
		if (made[k])
			nl_link_del(f->nl, nv[k].vifindex);
	free(ap);
	free(nv);
	free(vmap);
	free(made);
	return -1;
}

/* ---- the service ---- */

static void on_event(void *self, const struct dev_ev *ev)
{
	struct failover *f = self;
	switch (ev->type) {
	case DEV_SYNC_LINK:
		on_sync_link(f, ev->up);
		break;
	case DEV_STATE:
		on_state(f, ev->node, ev->data, ev->len);
		break;
	case DEV_LINK:
		on_link(f);
		break;
	}
}

static void svc_tick(void *self)
{
	struct failover *f = self;
	takeover_tick(f->tk, host_now(f->h), &f->tka);
	run(f);
}

static uint64_t next_deadline(const void *self)
{
	const struct failover *f = self;
	return takeover_next_deadline(f->tk);
}

/* First call: start handing over; then: still handing over? */
static bool svc_stop(void *self)
{
	struct failover *f = self;
	bool busy;
	if (!f->stopping) {
		f->stopping = true;
		set_shared(f); /* what we hand over is not answered for from now on */
		busy = takeover_stop(f->tk, host_now(f->h), &f->tka);
	} else {
		busy = !takeover_stopped(f->tk, host_now(f->h), &f->tka);
	}
	run(f);
	return busy;
}

/* The group named name (core/vip's index), or -1 with a message. */
static int group_named(const struct failover *f, const char *name, char *err, size_t errlen)
{
	const struct vip *core = takeover_vip_core(f->tk);
	for (size_t g = 0; g < vip_groups(core); g++) {
		struct vip_group_view gv;
		if (vip_group(core, g, host_now(f->h), &gv) == 0 && !strcmp(gv.name, name))
			return (int)g;
	}
	snprintf(err, errlen, "no VIP group \"%s\" (a group is a VIP's Group=, or its name)", name);
	return -1;
}

/*
 * `arpha vip demote GROUP [N]` (n: N, default 253: down to 1) and `arpha
 * vip promote GROUP` (n 0): the demotion by hand of the group in args[0].
 */
static int by_hand(struct failover *f, char *const *args, unsigned n, struct view *v, char *err,
		   size_t errlen)
{
	if (!f) {
		snprintf(err, errlen, "no [VIP] in the configuration");
		return -1;
	}
	int g = group_named(f, args[0], err, errlen);
	if (g < 0)
		return -1;
	unsigned was = f->demoted[g];
	f->demoted[g] = (uint8_t)n;
	apply_health(f);
	struct vip_group_view gv;
	vip_group(takeover_vip_core(f->tk), (size_t)g, host_now(f->h), &gv);
	if (n)
		log_notice("event=vip_demote group=%s by=%u priority=%u", gv.name, n, gv.priority);
	else
		log_notice("event=vip_promote group=%s was=%u priority=%u", gv.name, was,
			   gv.priority);
	view_object(v, NULL);
	view_str(v, "group", gv.name);
	view_u64(v, "demoted_by_hand", n);
	view_u64(v, "priority", gv.priority);
	view_line(v, n ? "group {group}: priority {priority} (demoted by {demoted_by_hand})"
		       : "group {group}: priority {priority}");
	view_end(v);
	return 0;
}

static int run_demote(void *self, char *const *args, int nargs, struct view *v, char *err,
		      size_t errlen)
{
	unsigned long n = 253;
	char *end = NULL;
	if (nargs > 1 && ((n = strtoul(args[1], &end, 10)) < 1 || n > 253 || *end)) {
		snprintf(err, errlen,
			 "vip demote %s %s: expected N from 1 to 253 (the priority to take off)",
			 args[0], args[1]);
		return -1;
	}
	return by_hand(self, args, (unsigned)n, v, err, errlen);
}

static int run_promote(void *self, char *const *args, int nargs, struct view *v, char *err,
		       size_t errlen)
{
	(void)nargs;
	return by_hand(self, args, 0, v, err, errlen);
}

static bool settled(const void *self)
{
	const struct failover *f = self;
	const struct vip *v = takeover_vip_core(f->tk);
	struct vip_group_view gv;
	for (size_t g = 0; g < vip_groups(v); g++)
		if (vip_group(v, g, host_now(f->h), &gv) == 0 && gv.state == VIP_INIT)
			return false;
	return true;
}

static const struct svc_cmd cmds[] = {
    {.word = "vip", .show = show},
    {.word = "vip demote", .run = run_demote},
    {.word = "vip promote", .run = run_promote},
    {0},
};

const struct svc_ops svc_failover = {
    .name = "failover",
    .state_chan = CLUSTER_CHAN_VIP,
    .start = start,
    .free = svc_free,
    .event = on_event,
    .tick = svc_tick,
    .next_deadline = next_deadline,
    .stop = svc_stop,
    .settled = settled,
    .reload = svc_reload,
    .cmds = cmds,
    .check = check_scripts,
    .release = release_leftovers,
};
