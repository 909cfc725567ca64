#include "os/syscheck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	syscheck_emit *emit;
	void *arg;
	int errors;
};

__attribute__((format(printf, 4, 5))) static void say(struct out *o, bool error, int line,
						      const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->errors += error;
	o->emit(error, line, msg, o->arg);
}

/* Is there a device called name now? Anything but ENODEV counts as yes. */
static bool exists(struct nl *nl, const char *name, struct nl_link *l)
{
	return nl_link_by_name(nl, name, l) == 0 || errno != ENODEV;
}

static bool overlap(const struct ip4_prefix *a, const struct ip4_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	return ((a->addr ^ b->addr) & ip4_mask(len)) == 0;
}

/* The [ProxyARP] x on the [Interface] f: does it hold f's own network? */
static void check_proxy(struct out *o, struct nl *nl, const struct conf_proxy *x,
			const struct conf_iface *f)
{
	struct nl_link l;
	if (nl_link_by_name(nl, f->device, &l) < 0)
		return; /* no device, no network: nothing to compare */
	struct ip4_prefix a[64];
	size_t n = 0;
	if (nl_addrs(nl, l.ifindex, a, sizeof(a) / sizeof(a[0]), &n) < 0)
		return;
	if (n > sizeof(a) / sizeof(a[0]))
		n = sizeof(a) / sizeof(a[0]);
	for (size_t i = 0; i < n; i++) {
		if (a[i].len >= 32)
			continue; /* an address alone has no hosts beside it */
		struct ip4_prefix own = {a[i].addr & ip4_mask(a[i].len), a[i].len};
		if (!overlap(&x->net, &own))
			continue;
		char net[IP4_STRLEN], onet[IP4_STRLEN], addr[IP4_STRLEN];
		/*
		 * A part of the link's network that the kernel routes out of
		 * another device lives behind it (proxy ARP subnetting, as the
		 * kernel's proxy_arp allows): fine. The whole network, or a part
		 * the kernel sends out of this very device, holds the link's hosts.
		 */
		uint32_t oif = 0, probe = x->net.addr | (x->net.len < 31 ? 1 : 0);
		if (x->net.len > own.len && nl_route_dev(nl, probe, &oif) == 0 && oif != l.ifindex)
			continue;
		/* a part the kernel routes out of this device, or the whole network or more */
		bool part = x->net.len > own.len;
		say(o, true, x->net_line,
		    "[ProxyARP] Network=%s/%u on %s %s %s/%u, the network the interface is connected "
		    "to (device %s has %s/%u)%s%s: arphad would answer ARP for the hosts that live on "
		    "that link; %s",
		    ip4_fmt(x->net.addr, net), x->net.len, f->name, part ? "lies in" : "holds",
		    ip4_fmt(own.addr, onet), own.len, f->device, ip4_fmt(a[i].addr, addr), a[i].len,
		    part ? ", and the kernel routes it out of " : "", part ? f->device : "",
		    part ? "route it via the interface its hosts live behind (ip route add NETWORK "
			   "via ROUTER), or proxy it elsewhere"
			 : "proxy only networks that live behind another interface");
		return;
	}
}

int syscheck_config(const struct config *cfg, struct nl *nl, syscheck_emit *emit, void *arg)
{
	struct out o = {emit, arg, 0};
	struct nl_link l;
	/* DeviceTimeout=: how long the start waits for it */
	char wait[96];
	if (cfg->device_timeout_ms)
		snprintf(wait, sizeof(wait),
			 "arphad waits up to %" PRIu32 " ms for it at start "
			 "(DeviceTimeout=)",
			 cfg->device_timeout_ms);
	else
		snprintf(wait, sizeof(wait), "arphad cannot start without it (DeviceTimeout=0)");
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		const struct conf_iface *f = &cfg->ifaces[i];
		if (!exists(nl, f->device, &l))
			say(&o, false, f->device_line,
			    "[Interface %s] Device=%s: no such device now; %s", f->name, f->device,
			    wait);
	}
	for (size_t p = 0; cfg->cluster.present && p < cfg->cluster.n_paths; p++)
		if (!exists(nl, cfg->cluster.devices[p], &l))
			say(&o, false, cfg->cluster.iface_line,
			    "[Cluster] Interface=%s: no such device now; %s",
			    cfg->cluster.devices[p], wait);
	for (size_t i = 0; i < cfg->n_vips; i++) {
		const struct conf_vip *x = &cfg->vips[i];
		for (size_t t = 0; t < x->n_track; t++)
			if (!exists(nl, x->track[t], &l))
				say(&o, false, x->track_line[t],
				    "TrackInterface=%s: no such device now; [VIP %s] stays in "
				    "fault "
				    "(never takes its address) until it exists",
				    x->track[t], x->name);
	}
	for (size_t i = 0; i < cfg->n_proxies; i++) {
		const struct conf_proxy *x = &cfg->proxies[i];
		for (size_t j = 0; j < cfg->n_ifaces; j++) {
			const struct conf_iface *f = &cfg->ifaces[j];
			bool on = x->all;
			for (size_t k = 0; k < x->n_ifaces && !on; k++)
				on = strcmp(x->ifaces[k], f->name) == 0;
			if (on)
				check_proxy(&o, nl, x, f);
		}
	}
	return o.errors;
}
