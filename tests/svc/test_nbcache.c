/*
 * The neighbour cache service against fake hosts (no root, no daemon):
 * what one node sees reaches the others within a second, a device new to
 * the table at once; a node that
 * comes up gets a dump of the whole table, the sighting nodes kept; a
 * node that lost messages asks for a dump and gets one; devices are named
 * and identified, and `arpha neighbors` shows what the table holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/nbsync.h"
#include "core/nbtable.h"
#include "daemon/ctl_cmds.h"
#include "host_fake.h"
#include "os/util.h"
#include "os/view.h"

#define CONF(id)                                                                                   \
	"[Interface lan]\nDevice=lan0\n"                                                           \
	"[Cluster]\nNodeID=" #id "\nInterface=lan0\nGroup=239.192.74.10\nKeyFile=/nonexistent\n"   \
	"[Neighbors]\nSnoop=no\nActiveTimeout=10s\n"                                               \
	"[Host printer-2nd-floor]\nMAC=02:00:00:00:00:03\n"

static const struct svc_ops *const table[] = {&svc_nbcache};

/* Three nodes; what one broadcasts reaches the others (when linked). */
struct net {
	struct host h[3];
	bool linked[3];
};

struct sender {
	struct net *n;
	unsigned from;
};

static struct sender senders[3];

static void on_broadcast(void *arg, const uint8_t *msg, size_t len)
{
	struct sender *s = arg;
	for (unsigned k = 0; k < 3; k++) {
		if (k == s->from || !s->n->linked[k] || !s->n->linked[s->from])
			continue;
		fake_host_event(&s->n->h[k], &(struct dev_ev){.type = DEV_MSG,
							      .chan = NBSYNC_TYPE,
							      .node = s->from + 1,
							      .data = msg,
							      .len = len});
	}
}

static int setup(void **state)
{
	static struct net n;
	static const char *const confs[3] = {CONF(1), CONF(2), CONF(3)};
	memset(&n, 0, sizeof(n));
	for (unsigned i = 0; i < 3; i++) {
		if (fake_host_init(&n.h[i], confs[i]) < 0 || fake_host_start(&n.h[i], table, 1) < 0)
			return -1;
		senders[i] = (struct sender){&n, i};
		n.h[i].on_broadcast = on_broadcast;
		n.h[i].broadcast_arg = &senders[i];
		n.linked[i] = true;
	}
	*state = &n;
	return 0;
}

static int teardown(void **state)
{
	struct net *n = *state;
	for (unsigned i = 0; i < 3; i++)
		fake_host_free(&n->h[i]);
	return 0;
}

static void tick_all(struct net *n, uint64_t now)
{
	for (unsigned i = 0; i < 3; i++)
		fake_host_tick(&n->h[i], now);
}

static struct mac dev(uint8_t last)
{
	return (struct mac){{0x02, 0, 0, 0, 0, last}};
}

static void arp_seen(struct host *h, uint32_t ip, uint8_t last)
{
	fake_host_event(
	    h, &(struct dev_ev){.type = DEV_NEIGH, .ifindex = 100, .ip = ip, .mac = dev(last)});
}

static const struct nbt_record *held(const struct host *h, uint8_t last)
{
	struct mac m = dev(last);
	return nbt_find(host_nbcache(h), "lan", &m);
}

/* What node 1 sees, nodes 2 and 3 hold within a second, naming node 1. */
static void t_updates(void **state)
{
	struct net *n = *state;
	for (uint8_t i = 1; i <= 3; i++)
		arp_seen(&n->h[0], 0xc6120000 + i, i);
	assert_null(held(&n->h[1], 1));
	tick_all(n, 1000);
	for (unsigned k = 1; k < 3; k++)
		for (uint8_t i = 1; i <= 3; i++) {
			const struct nbt_record *r = held(&n->h[k], i);
			assert_non_null(r);
			assert_int_equal(r->node, 1);
			assert_int_equal(r->ip4[0], 0xc6120000 + i);
			assert_true(r->sources & NBT_SRC_PEER);
		}
	/* nothing new: nothing sent */
	size_t before = n->h[0].n_rec;
	tick_all(n, 3000);
	assert_int_equal(n->h[0].n_rec, before);
	/* a sighting a second later goes out a second after the last update */
	arp_seen(&n->h[0], 0xc6120009, 1);
	tick_all(n, 3500);
	assert_int_equal(held(&n->h[1], 1)->ip4[0], 0xc6120009);
	/* a refresh waits its second; a device new to the table goes at once, with it */
	n->h[0].now = 3600;
	arp_seen(&n->h[0], 0xc6120019, 1);
	tick_all(n, 3700);
	assert_int_equal(held(&n->h[1], 1)->ip4[0], 0xc6120009);
	n->h[0].now = 3700;
	arp_seen(&n->h[0], 0xc6120033, 33);
	tick_all(n, 3701);
	assert_non_null(held(&n->h[1], 33));
	assert_int_equal(held(&n->h[1], 1)->ip4[0], 0xc6120019);
}

/* A node cut off misses the updates; when it comes up, a dump brings them. */
static void t_dump_on_join(void **state)
{
	struct net *n = *state;
	n->linked[2] = false;
	for (uint8_t i = 1; i <= 40; i++)
		arp_seen(&n->h[0], 0xc6120000 + i, i);
	tick_all(n, 1000);
	assert_non_null(held(&n->h[1], 40));
	assert_null(held(&n->h[2], 40));
	/* node 1 dies; node 3 joins and node 2 sees it come up */
	n->linked[0] = false;
	n->linked[2] = true;
	fake_host_event(&n->h[1], &(struct dev_ev){.type = DEV_NODE_UP, .node = 3});
	for (uint64_t t = 1000; t <= 1100; t += 10)
		tick_all(n, t);
	for (uint8_t i = 1; i <= 40; i++) {
		const struct nbt_record *r = held(&n->h[2], i);
		assert_non_null(r);
		assert_int_equal(r->node, 1); /* node 1 saw it, not the node that sent the dump */
	}
}

/* A node that lost node 2's messages asks it for a dump; only node 2 answers. */
static void t_request(void **state)
{
	struct net *n = *state;
	n->linked[2] = false;
	arp_seen(&n->h[1], 0xc6120077, 77);
	tick_all(n, 1000);
	assert_non_null(held(&n->h[0], 77));
	assert_null(held(&n->h[2], 77));
	n->linked[2] = true;
	size_t before = n->h[0].n_rec;
	fake_host_event(&n->h[2], &(struct dev_ev){.type = DEV_OUT_OF_SYNC, .node = 2});
	for (uint64_t t = 1000; t <= 1100; t += 10)
		tick_all(n, t);
	assert_non_null(held(&n->h[2], 77));
	assert_int_equal(n->h[0].n_rec, before); /* node 1 was not asked */
}

/* The table as `arpha -j neighbors` shows it. */
static void render(struct host *h, int argc, char **argv, struct sbuf *out)
{
	struct ctl_req r;
	char msg[256];
	assert_int_equal(ctl_check(argc, argv, &r, msg, sizeof(msg)), CTL_OK);
	const struct svc_cmd *c = svc_nbcache.cmds;
	while (strcmp(c->word, r.cmd->words) != 0)
		c++;
	struct view *v = view_new();
	assert_int_equal(c->run(h->self[0], r.args, r.nargs, v, msg, sizeof(msg)), 0);
	sbuf_init(out);
	view_render(v, VIEW_JSON, out);
	view_free(v);
}

/* Named by [Host] and by the registry, identified, active then inactive. */
static void t_show(void **state)
{
	struct net *n = *state;
	arp_seen(&n->h[0], 0xc6120003, 3);
	fake_host_event(&n->h[0], &(struct dev_ev){.type = DEV_NEIGH,
						   .ifindex = 100,
						   .ip = 0xc6120005,
						   .mac = {{0x00, 0x0c, 0x29, 0x12, 0x34, 0x56}}});
	struct sbuf out;
	char *list[] = {"neighbors"};
	render(&n->h[0], 1, list, &out);
	assert_non_null(strstr(out.s, "\"cfg_name\":\"printer-2nd-floor\""));
	assert_non_null(strstr(out.s, "\"vendor\":\"VMware, Inc.\""));
	assert_non_null(strstr(out.s, "\"type\":\"vm\""));
	assert_non_null(strstr(out.s, "\"state\":\"active\""));
	assert_null(strstr(out.s, "\"state\":\"inactive\""));
	sbuf_free(&out);
	n->h[0].now = 1000 + 10000;
	char *one[] = {"neighbors", "show", "00:0c:29:12:34:56"};
	render(&n->h[0], 3, one, &out);
	assert_non_null(strstr(out.s, "\"state\":\"inactive\""));
	assert_null(strstr(out.s, "02:00:00:00:00:03"));
	sbuf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_updates, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_dump_on_join, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_show, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
