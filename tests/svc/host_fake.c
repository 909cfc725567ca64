/*
 * host_fake: host.h without a daemon (see host_fake.h).
 */
#include "host_fake.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/actions.h"
#include "core/arp_engine.h"
#include "os/loop.h"
#include "os/netlink.h"

void fake_record(struct host *h, const char *fmt, ...)
{
	if (h->n_rec == FAKE_MAX_RECORDS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->rec[h->n_rec++], FAKE_REC_LEN, fmt, ap);
	va_end(ap);
}

int fake_find(const struct host *h, const char *prefix)
{
	for (size_t i = 0; i < h->n_rec; i++)
		if (strncmp(h->rec[i], prefix, strlen(prefix)) == 0)
			return (int)i;
	return -1;
}

static bool for_svc(const struct svc_ops *o, const struct dev_ev *ev)
{
	if (ev->type == DEV_MSG)
		return o->chan && o->chan == ev->chan;
	if (ev->type == DEV_STATE)
		return o->state_chan && o->state_chan == ev->chan;
	return true;
}

static void deliver(struct host *h, const struct dev_ev *ev)
{
	for (size_t i = 0; i < h->n_svc; i++)
		if (h->self[i] && h->table[i]->event && for_svc(h->table[i], ev))
			h->table[i]->event(h->self[i], ev);
}

/* What the services published, after the call that published it. */
static void drain(struct host *h)
{
	for (size_t k = 0; k < h->q_len; k++)
		deliver(h, &h->q[k].ev);
	h->q_len = 0;
}

int fake_host_init(struct host *h, const char *cfg_text)
{
	memset(h, 0, sizeof(*h));
	char err[CONF_ERR_LEN];
	if (config_parse(cfg_text, strlen(cfg_text), "test.conf", &h->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	h->now = 1000;
	h->loop = loop_new(5, NULL, NULL, NULL);
	h->nl = nl_open(false);
	h->eng = arp_engine_new(&h->cfg.arp);
	if (!h->loop || !h->nl || !h->eng)
		return -1;
	for (size_t i = 0; i < h->cfg.n_ifaces && i < 4; i++) {
		const struct conf_iface *ci = &h->cfg.ifaces[i];
		uint32_t ifindex = 100 + (uint32_t)i;
		struct mac mac = {{0x02, 0, 0, 0, 0, (uint8_t)(i + 1)}};
		h->ifs[i].pub = (struct host_iface){.name = ci->name,
						    .device = ci->device,
						    .dev = ci->device,
						    .ifindex = ifindex,
						    .up = true};
		if (arp_engine_iface_add(h->eng, ifindex, ci->name, &mac, false) < 0)
			return -1;
		h->n_ifs++;
	}
	return 0;
}

int fake_host_start(struct host *h, const struct svc_ops *const *table, size_t n)
{
	h->table = table;
	for (size_t i = 0; i < n; i++) {
		char err[512] = "";
		h->self[i] = table[i]->start(h, &h->cfg, err, sizeof(err));
		h->n_svc = i + 1;
		if (!h->self[i] && err[0]) {
			fprintf(stderr, "start %s: %s\n", table[i]->name, err);
			return -1;
		}
		drain(h);
	}
	return 0;
}

void fake_host_free(struct host *h)
{
	for (size_t i = h->n_svc; i-- > 0;)
		if (h->self[i])
			h->table[i]->free(h->self[i]);
	arp_engine_free(h->eng);
	nl_close(h->nl);
	loop_free(h->loop);
	config_free(&h->cfg);
}

void fake_host_tick(struct host *h, uint64_t now)
{
	h->now = now;
	for (size_t i = 0; i < h->n_svc; i++)
		if (h->self[i] && h->table[i]->tick)
			h->table[i]->tick(h->self[i]);
	drain(h);
}

void fake_host_event(struct host *h, const struct dev_ev *ev)
{
	deliver(h, ev);
	drain(h);
}

bool fake_host_stop(struct host *h, bool first)
{
	bool busy = false;
	for (size_t i = 0; i < h->n_svc; i++)
		if (h->self[i] && h->table[i]->stop)
			busy |= h->table[i]->stop(h->self[i]);
	drain(h);
	(void)first;
	return busy;
}

/* ---- host.h ---- */

uint64_t host_now(const struct host *h)
{
	return h->now;
}

const char *host_config_path(const struct host *h)
{
	(void)h;
	return "test.conf";
}

void host_publish(struct host *h, const struct dev_ev *ev)
{
	if (h->q_len == sizeof(h->q) / sizeof(h->q[0]) || ev->len > sizeof(h->q[0].data))
		return;
	h->q[h->q_len].ev = *ev;
	if (ev->len) {
		memcpy(h->q[h->q_len].data, ev->data, ev->len);
		h->q[h->q_len].ev.data = h->q[h->q_len].data;
	}
	h->q_len++;
}

int host_broadcast(struct host *h, const uint8_t *msg, size_t len)
{
	fake_record(h, "broadcast %c %zu", len ? msg[0] : '-', len);
	if (h->on_broadcast)
		h->on_broadcast(h->broadcast_arg, msg, len);
	return 0;
}

int host_set_state(struct host *h, uint8_t chan, const uint8_t *blob, size_t len, bool push)
{
	if (len <= sizeof(h->state)) {
		memcpy(h->state, blob, len);
		h->state_len = len;
	}
	if (push)
		fake_record(h, "push %c %zu", chan, len);
	return 0;
}

int host_prepare_takeover(struct host *h, const struct takeover_scope *sc)
{
	fake_record(h, "barrier %s", sc->group);
	int failed = 0;
	for (size_t i = 0; i < h->n_svc; i++)
		if (h->self[i] && h->table[i]->prepare_takeover &&
		    h->table[i]->prepare_takeover(h->self[i], sc) < 0)
			failed++;
	return failed;
}

void host_apply(struct host *h, struct actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == ACT_SEND)
			h->frames++;
	actions_reset(a);
}

const struct host_iface *host_iface(const struct host *h, const char *name)
{
	for (size_t i = 0; i < h->n_ifs; i++)
		if (strcmp(h->ifs[i].pub.name, name) == 0 ||
		    strcmp(h->ifs[i].pub.device, name) == 0)
			return &h->ifs[i].pub;
	return NULL;
}

const struct host_iface *host_iface_by_index(const struct host *h, uint32_t ifindex)
{
	for (size_t i = 0; i < h->n_ifs; i++)
		if (h->ifs[i].pub.ifindex == ifindex)
			return &h->ifs[i].pub;
	return NULL;
}

const struct host_iface *host_iface_at(const struct host *h, size_t i)
{
	return i < h->n_ifs ? &h->ifs[i].pub : NULL;
}

const struct arp_engine *host_neighbours(const struct host *h)
{
	return h->eng;
}

void host_addrs_changed(struct host *h, uint32_t ifindex)
{
	fake_record(h, "addrs_changed %u", ifindex);
}

int host_set_shared(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n)
{
	return arp_engine_iface_set_shared(h->eng, ifindex, ips, n);
}

int host_set_quiet(struct host *h, uint32_t ifindex, const uint32_t *ips, size_t n)
{
	fake_record(h, "quiet %u %zu", ifindex, n);
	return arp_engine_iface_set_quiet(h->eng, ifindex, ips, n);
}

void host_note_query(struct host *h, uint32_t ifindex, uint32_t ip, const struct mac *to)
{
	struct actions a;
	actions_init(&a);
	arp_engine_note_query(h->eng, ifindex, ip, to, h->now, &a);
	actions_free(&a);
}

int host_addr_lease(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len, bool noprefixroute,
		    uint32_t lifetime_s)
{
	char s[IP4_STRLEN];
	fake_record(h, "addr_lease %s/%u on %u for %us", ip4_fmt(ip, s), len, ifindex, lifetime_s);
	(void)noprefixroute;
	return 0;
}

int host_addr_del(struct host *h, uint32_t ifindex, uint32_t ip, uint8_t len)
{
	char s[IP4_STRLEN];
	fake_record(h, "addr_del %s/%u on %u", ip4_fmt(ip, s), len, ifindex);
	return 0;
}

int host_link_set_up(struct host *h, uint32_t ifindex, bool up)
{
	fake_record(h, "link %u %s", ifindex, up ? "up" : "down");
	return 0;
}

struct nl *host_netlink(struct host *h)
{
	return h->nl;
}

uint16_t host_owner_id(const struct host *h)
{
	return h->owner_id;
}

void host_set_owner_id(struct host *h, uint16_t owner)
{
	h->owner_id = owner;
}

const struct nbtable *host_nbcache(const struct host *h)
{
	return h->nbcache;
}

void host_set_nbcache(struct host *h, const struct nbtable *t)
{
	h->nbcache = t;
}

struct loop *host_loop(struct host *h)
{
	return h->loop;
}
