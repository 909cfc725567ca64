/*
 * ctl: the control socket's commands (`arpha`): the daemon's own (arp,
 * announce, stats, cluster) and those of the services (svc_ops.cmds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arp_engine.h"
#include "daemon/daemon.h"
#include "os/control.h"
#include "os/log.h"
#include "os/loop.h"
#include "os/show.h"
#include "os/util.h"

static void serve(struct daemon *d, struct control_req *cfd, char **argv, int argc, bool json)
{
	struct sbuf b;
	sbuf_init(&b);
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
			show_arp(&b, d->eng, m ? m->conf->name : NULL, json, now);
		} else {
			int n = arp_engine_flush(d->eng, m ? m->ifindex : 0, now, &d->acts);
			daemon_apply(d);
			log_notice("event=arp_flush action=flush recvif=%s removed=%d",
				   m ? m->conf->name : "all", n);
			if (json)
				sbuf_printf(&b, "{\"flushed\":%d}\n", n);
			else
				sbuf_printf(&b,
					    "ARP cache of %s%s flushed: %d dynamic %s removed.\n",
					    m ? "iface " : "all interfaces", m ? m->conf->name : "",
					    n, n == 1 ? "entry" : "entries");
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
			sbuf_free(&b);
			snprintf(msg, sizeof(msg),
				 "%s: no addresses to announce (the interface has no IPv4 address "
				 "and no Publish entry)",
				 m->conf->name);
			control_error(cfd, msg);
			return;
		}
		if (json)
			sbuf_printf(&b, "{\"interface\":\"%s\",\"announced\":%d}\n", m->conf->name,
				    n);
		else
			sbuf_printf(&b, "%s: gratuitous ARP sent for %d %s.\n", m->conf->name, n,
				    n == 1 ? "address" : "addresses");
	} else if (strcmp(cmd, "cluster") == 0 &&
		   (argc == 1 || (argc == 4 && strcmp(sub, "test-traffic") == 0))) {
		if (!d->cl && argc == 1) { /* not an error: an empty list */
			sbuf_printf(&b, json ? "{\"members\":[]}\n"
					     : "no [Cluster] in the configuration: this node is on "
					       "its own\n");
		} else if (!d->cl) {
			sbuf_free(&b);
			control_error(cfd, "no [Cluster] in the configuration: this node is on its "
					   "own");
			return;
		} else if (argc == 4) {
			if (transport_test_traffic(d, argv[2], argv[3], msg, sizeof(msg)) < 0) {
				sbuf_free(&b);
				control_error(cfd, msg);
				return;
			}
			sbuf_printf(&b,
				    json ? "{\"test_traffic\":true}\n" : "test traffic started\n");
		} else {
			show_cluster(&b, d->cl, d->addrs, d->n_addrs, json, now);
		}
	} else if (argc == 1 && (s = daemon_command(d, cmd, &sc))) {
		if (!s->self)
			sbuf_printf(&b, "%s", json ? sc->absent_json : sc->absent_text);
		else
			sc->show(s->self, &b, json);
	} else if (strcmp(cmd, "stats") == 0 && argc == 1) {
		links_collect_drops(d);
		show_stats(&b, d->eng, json);
	} else {
		goto usage;
	}
	if (b.oom)
		control_error(cfd, "out of memory");
	else
		control_reply(cfd, &b);
	sbuf_free(&b);
	return;
usage:
	sbuf_free(&b);
	control_error(cfd, "unknown command (expected: arp show [IFACE], arp flush [IFACE], "
			   "announce IFACE, stats, cluster, vip, conns)");
	return;
no_iface:
	sbuf_free(&b);
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
	sbuf_free(&b);
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
