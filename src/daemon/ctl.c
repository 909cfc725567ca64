/*
 * ctl: the control socket's commands (`arpha`). The grammar is the
 * command table's (ctl_cmds.c, shared with arpha); here each command of
 * the table is bound to what answers it: the daemon's own (arp, announce,
 * stats, cluster) below, the services' by the word of their svc_cmd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"
#include "daemon/ctl_cmds.h"
#include "daemon/daemon.h"
#include "daemon/show.h"
#include "os/control.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/util.h"
#include "os/view.h"

/* A command of the daemon's own: its answer built into v, or -1 with msg. */
typedef int ctl_fn(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg,
		   size_t len);

/* "no managed interface" with the names of those managed: -1. */
static int no_iface(const struct daemon *d, const char *name, char *msg, size_t len)
{
	struct sbuf names;
	sbuf_init(&names);
	for (size_t i = 0; i < d->n_ifs; i++)
		sbuf_printf(&names, "%s%s%s", i ? ", " : "", d->ifs[i]->conf->name,
			    d->ifs[i]->ifindex ? "" : " (absent)");
	snprintf(msg, len, "no managed interface \"%s\" (managed: %s)", name,
		 names.s ? names.s : "none");
	sbuf_free(&names);
	return -1;
}

/*
 * The interface the command names (NULL: it names none, all of them);
 * present: its device must be there. 0, or -1 with msg.
 */
static int iface_arg(struct daemon *d, const struct ctl_req *r, bool present, struct mif **m,
		     char *msg, size_t len)
{
	*m = NULL;
	if (r->nargs == 0)
		return 0;
	if (!(*m = mif_by_name(d, r->args[0])))
		return no_iface(d, r->args[0], msg, len);
	if (present && !(*m)->ifindex) {
		snprintf(msg, len, "interface %s: its device %s is absent", (*m)->conf->name,
			 (*m)->conf->device);
		return -1;
	}
	return 0;
}

static int arp_show(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg,
		    size_t len)
{
	struct mif *m;
	if (iface_arg(d, r, false, &m, msg, len) < 0)
		return -1;
	show_arp(v, d->eng, m ? m->conf->name : NULL, loop_now(d->loop));
	return 0;
}

static int arp_flush(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg,
		     size_t len)
{
	struct mif *m;
	if (iface_arg(d, r, true, &m, msg, len) < 0)
		return -1;
	int n = arp_engine_flush(d->eng, m ? m->ifindex : 0, loop_now(d->loop), &d->acts);
	daemon_apply(d);
	log_notice("event=arp_flush action=flush recvif=%s removed=%d", m ? m->conf->name : "all",
		   n);
	view_object(v, NULL);
	view_i64(v, "flushed", n);
	view_linef(v, "ARP cache of %s%s flushed: %d dynamic %s removed.",
		   m ? "iface " : "all interfaces", m ? m->conf->name : "", n,
		   n == 1 ? "entry" : "entries");
	view_end(v);
	return 0;
}

static int announce(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg,
		    size_t len)
{
	struct mif *m;
	if (iface_arg(d, r, true, &m, msg, len) < 0)
		return -1;
	int n = arp_engine_announce(d->eng, m->ifindex, loop_now(d->loop), &d->acts);
	daemon_apply(d);
	log_notice("event=arp_announce action=announce recvif=%s addresses=%d", m->conf->name, n);
	if (n <= 0) {
		snprintf(msg, len,
			 "%s: no addresses to announce (the interface has no IPv4 address and no "
			 "Publish entry)",
			 m->conf->name);
		return -1;
	}
	view_object(v, NULL);
	view_str(v, "interface", m->conf->name);
	view_i64(v, "announced", n);
	view_line(v, n == 1 ? "{interface}: gratuitous ARP sent for {announced} address."
			    : "{interface}: gratuitous ARP sent for {announced} addresses.");
	view_end(v);
	return 0;
}

static int stats(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg, size_t len)
{
	struct show_kernel k = {.neigh_errors = d->neigh_errors};
	for (size_t i = 0; i < d->n_ifs; i++)
		k.send_errors += d->ifs[i]->send_errors;
	links_collect_drops(d);
	show_stats(v, d->eng, &k);
	return 0;
}

static const char no_cluster[] = "no [Cluster] in the configuration: this node is on its own";

static int cluster(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg, size_t len)
{
	if (d->cl) {
		const char *devs[CONF_MAX_PATHS];
		for (size_t p = 0; p < CONF_MAX_PATHS; p++)
			devs[p] = d->cfg.cluster.devices[p];
		show_cluster(v, d->cl, devs, d->addrs, d->n_addrs, loop_now(d->loop));
		return 0;
	}
	view_object(v, NULL); /* not an error: an empty list */
	view_line(v, no_cluster);
	view_list(v, "members");
	view_end(v);
	view_end(v);
	return 0;
}

static int test_traffic(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg,
			size_t len)
{
	if (!d->cl) {
		snprintf(msg, len, "%s", no_cluster);
		return -1;
	}
	if (transport_test_traffic(d, (uint32_t)r->num[0], (uint32_t)r->num[1], msg, len) < 0)
		return -1;
	view_object(v, NULL);
	view_bool(v, "test_traffic", true);
	view_line(v, "test traffic started");
	view_end(v);
	return 0;
}

/* The daemon's own commands, by the words of the table. */
static const struct {
	const char *words;
	ctl_fn *run;
} own[] = {
    {"arp show", arp_show}, {"arp flush", arp_flush}, {"announce", announce},
    {"stats", stats},	    {"cluster", cluster},     {"cluster test-traffic", test_traffic},
};

static ctl_fn *own_fn(const char *words)
{
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(own[i].words, words) == 0)
			return own[i].run;
	return NULL;
}

int ctl_check_bound(const struct daemon *d, char *err, size_t errlen)
{
	const struct svc_cmd *sc;
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++)
		if (!own_fn(c->words) && !daemon_command(d, c->words, &sc)) {
			snprintf(err, errlen, "arpha %s: nothing in arphad answers it", c->words);
			return -1;
		}
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!ctl_find(own[i].words)) {
			snprintf(err, errlen, "arpha %s: not in the command table", own[i].words);
			return -1;
		}
	for (size_t i = 0; i < d->n_svc; i++)
		for (sc = d->svc[i].ops->cmds; sc && sc->word; sc++)
			if (!ctl_find(sc->word) || own_fn(sc->word)) {
				snprintf(err, errlen,
					 "arpha %s (%s): not in the command table, or "
					 "bound twice",
					 sc->word, d->svc[i].ops->name);
				return -1;
			}
	return 0;
}

/* The answer to r built into v: 0, or -1 with msg. */
static int answer(struct daemon *d, const struct ctl_req *r, struct view *v, char *msg, size_t len)
{
	ctl_fn *run = own_fn(r->cmd->words);
	const struct svc_cmd *sc;
	const struct svc_slot *s;
	if (run)
		return run(d, r, v, msg, len);
	if ((s = daemon_command(d, r->cmd->words, &sc))) {
		if (sc->run) /* self NULL: not running */
			return sc->run(s->self, r->args, r->nargs, v, msg, len);
		sc->show(s->self, v);
		return 0;
	}
	/* ctl_check_bound made sure at the start that it cannot be */
	snprintf(msg, len, "%s: nothing in arphad answers it", r->cmd->words);
	return -1;
}

int ctl_view(struct daemon *d, const char *words, struct view *v)
{
	char msg[512];
	struct ctl_req r = {.cmd = ctl_find(words)};
	if (!r.cmd || r.cmd->min_args)
		return -1;
	return answer(d, &r, v, msg, sizeof(msg));
}

static void serve(struct daemon *d, struct control_req *cfd, char **argv, int argc, bool json)
{
	char msg[512], list[400];
	struct ctl_req r;
	switch (ctl_check(argc, argv, &r, msg, sizeof(msg))) {
	case CTL_OK:
		break;
	case CTL_UNKNOWN:
		snprintf(msg, sizeof(msg), "unknown command (expected: %s)",
			 ctl_usage_list(list, sizeof(list)));
		control_error(cfd, msg);
		return;
	default:
		control_error(cfd, msg);
		return;
	}
	struct view *v = view_new();
	int rc = answer(d, &r, v, msg, sizeof(msg));
	if (rc < 0) {
		view_free(v);
		control_error(cfd, msg);
		return;
	}
	struct sbuf out;
	sbuf_init(&out);
	view_render(v, json ? VIEW_JSON : VIEW_TEXT, &out);
	view_free(v);
	if (out.oom)
		control_error(cfd, "out of memory");
	else
		control_reply(cfd, &out);
	sbuf_free(&out);
}

void ctl_serve(void *arg, struct control_req *cfd, char **argv, int argc, bool json)
{
	struct daemon *d = arg;
	loop_begin(d->loop);
	serve(d, cfd, argv, argc, json);
	loop_end(d->loop);
}
