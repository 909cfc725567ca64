/*
 * ctl: the control socket's commands (`arpha`): the daemon's own (arp,
 * announce, stats, cluster) and those of the services (svc_ops.cmds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"
#include "daemon/daemon.h"
#include "daemon/show.h"
#include "os/control.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/util.h"
#include "os/view.h"

static void serve(struct daemon *d, struct control_req *cfd, char **argv, int argc, bool json)
{
	struct view *b = view_new();
	uint64_t now = loop_now(d->loop);
	char msg[256];
	const char *cmd = argc > 0 ? argv[0] : "";
	const char *sub = argc > 1 ? argv[1] : "";
	struct mif *m = NULL;
	const struct svc_slot *s;
	const struct svc_cmd *sc;

	if (strcmp(cmd, "arp") == 0 && (strcmp(sub, "show") == 0 || strcmp(sub, "flush") == 0)) {
		if (argc > 3)
			goto usage;
		if (argc == 3 && !(m = mif_by_name(d, argv[2])))
			goto no_iface;
		if (m && !m->ifindex && sub[0] != 's')
			goto absent;
		if (sub[0] == 's') {
			show_arp(b, d->eng, m ? m->conf->name : NULL, now);
		} else {
			int n = arp_engine_flush(d->eng, m ? m->ifindex : 0, now, &d->acts);
			daemon_apply(d);
			log_notice("event=arp_flush action=flush recvif=%s removed=%d",
				   m ? m->conf->name : "all", n);
			view_object(b, NULL);
			view_i64(b, "flushed", n);
			view_linef(b, "ARP cache of %s%s flushed: %d dynamic %s removed.",
				   m ? "iface " : "all interfaces", m ? m->conf->name : "", n,
				   n == 1 ? "entry" : "entries");
			view_end(b);
		}
	} else if (strcmp(cmd, "announce") == 0) {
		if (argc != 2)
			goto usage;
		if (!(m = mif_by_name(d, argv[1])))
			goto no_iface;
		if (!m->ifindex)
			goto absent;
		int n = arp_engine_announce(d->eng, m->ifindex, now, &d->acts);
		daemon_apply(d);
		log_notice("event=arp_announce action=announce recvif=%s addresses=%d",
			   m->conf->name, n);
		if (n <= 0) {
			view_free(b);
			snprintf(msg, sizeof(msg),
				 "%s: no addresses to announce (the interface has no IPv4 address "
				 "and no Publish entry)",
				 m->conf->name);
			control_error(cfd, msg);
			return;
		}
		view_object(b, NULL);
		view_str(b, "interface", m->conf->name);
		view_i64(b, "announced", n);
		view_line(b, n == 1
				 ? "{interface}: gratuitous ARP sent for {announced} address."
				 : "{interface}: gratuitous ARP sent for {announced} addresses.");
		view_end(b);
	} else if (strcmp(cmd, "cluster") == 0 &&
		   (argc == 1 || (argc == 4 && strcmp(sub, "test-traffic") == 0))) {
		if (!d->cl && argc == 1) { /* not an error: an empty list */
			view_object(b, NULL);
			view_line(b, "no [Cluster] in the configuration: this node is on its own");
			view_list(b, "members");
			view_end(b);
			view_end(b);
		} else if (!d->cl) {
			view_free(b);
			control_error(cfd, "no [Cluster] in the configuration: this node is on its "
					   "own");
			return;
		} else if (argc == 4) {
			if (transport_test_traffic(d, argv[2], argv[3], msg, sizeof(msg)) < 0) {
				view_free(b);
				control_error(cfd, msg);
				return;
			}
			view_object(b, NULL);
			view_bool(b, "test_traffic", true);
			view_line(b, "test traffic started");
			view_end(b);
		} else {
			show_cluster(b, d->cl, d->addrs, d->n_addrs, now);
		}
	} else if (argc == 1 && (s = daemon_command(d, cmd, &sc))) {
		sc->show(s->self, b); /* self NULL: not running */
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		links_collect_drops(d);
		show_stats(b, d->eng);
	} else {
		goto usage;
	}
	struct sbuf out;
	sbuf_init(&out);
	view_render(b, json ? VIEW_JSON : VIEW_TEXT, &out);
	view_free(b);
	if (out.oom)
		control_error(cfd, "out of memory");
	else
		control_reply(cfd, &out);
	sbuf_free(&out);
	return;
usage:
	view_free(b);
	control_error(cfd, "unknown command (expected: arp show [IFACE], arp flush [IFACE], "
			   "announce IFACE, stats, cluster, vip, conns)");
	return;
no_iface:
	view_free(b);
	{
		struct sbuf names;
		sbuf_init(&names);
		for (size_t i = 0; i < d->n_ifs; i++)
			sbuf_printf(&names, "%s%s%s", i ? ", " : "", d->ifs[i].conf->name,
				    d->ifs[i].ifindex ? "" : " (absent)");
		snprintf(msg, sizeof(msg), "no managed interface \"%s\" (managed: %s)",
			 argv[argc - 1], names.s ? names.s : "none");
		sbuf_free(&names);
	}
	control_error(cfd, msg);
	return;
absent:
	view_free(b);
	snprintf(msg, sizeof(msg), "interface %s: its device %s is absent", m->conf->name,
		 m->conf->device);
	control_error(cfd, msg);
}

void ctl_serve(void *arg, struct control_req *cfd, char **argv, int argc, bool json)
{
	struct daemon *d = arg;
	loop_begin(d->loop);
	serve(d, cfd, argv, argc, json);
	loop_end(d->loop);
}
