/*
 * Unit tests for the daemon's own views (daemon/show_*.c) on real cores:
 * the text people read and the JSON scripts parse (tests/netns reads its
 * keys), as arpha prints them. The man page's example of `arpha arp show`
 * is one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/actions.h"
#include "core/arp_engine.h"
#include "core/arp_policy.h"
#include "core/cluster.h"
#include "core/frame.h"
#include "daemon/show.h"
#include "os/view.h"

#define IF_LAN 999991	   /* no such device here: its name shows as "?" */
#define US     0xc6120001u /* 198.18.0.1 */

static const struct mac our = {{2, 0, 0, 0, 1, 0}};

static char out[8192];

/* v rendered in form (v freed). */
static const char *render(struct view *v, enum view_form form)
{
	struct sbuf b;
	sbuf_init(&b);
	view_render(v, form, &b);
	assert_false(b.oom);
	snprintf(out, sizeof(out), "%s", b.s ? b.s : "");
	sbuf_free(&b);
	view_free(v);
	return out;
}

/* An engine: lan with one entry of each kind shown, and "gone", whose device went. */
static struct arp_engine *engine(uint64_t now)
{
	struct arp_policy pol;
	arp_policy_defaults(&pol);
	struct arp_engine *e = arp_engine_new(&pol);
	assert_non_null(e);
	struct actions a;
	actions_init(&a);
	assert_int_equal(arp_engine_iface_add(e, IF_LAN, "lan", &our, false), 0);
	assert_int_equal(arp_engine_iface_add(e, IF_LAN + 1, "gone", &our, false), 0);
	struct ip4_prefix p = {US, 24};
	assert_int_equal(arp_engine_iface_set_addrs(e, IF_LAN, &p, 1), 0);
	struct mac host = {{2, 0, 0, 0, 0, 0x0a}}, other = {{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};
	assert_int_equal(arp_engine_add_entry(e, IF_LAN, 0xc6120064, ARP_PUBLISH, NULL, &a), 0);
	assert_int_equal(arp_engine_add_entry(e, IF_LAN, 0xc6120032, ARP_STATIC, &other, &a), 0);
	/* the kernel asks for .10 and the host answers: dynamic */
	struct arp_frame f;
	uint8_t buf[FRAME_MAX_LEN];
	frame_request(&f, &our, US, 0xc612000a);
	size_t n = frame_build(&f, buf, sizeof(buf));
	arp_engine_input(e, IF_LAN, buf, n, ARP_RX_OUT, now, &a);
	frame_reply(&f, &host, &host, 0xc612000a, &our, US);
	n = frame_build(&f, buf, sizeof(buf));
	arp_engine_input(e, IF_LAN, buf, n, ARP_RX_IN, now, &a);
	arp_engine_iface_del(e, IF_LAN + 1);
	actions_free(&a);
	return e;
}

static void test_arp_show(void **state)
{
	(void)state;
	uint64_t now = 1000000;
	struct arp_engine *e = engine(now);
	struct view *v = view_new();
	show_arp(v, e, NULL, now + 4500);
	assert_string_equal(render(v, VIEW_TEXT),
			    "ARP cache of iface lan\n"
			    "  Type     IPv4 Address     Ethernet Address   Expires\n"
			    "  Dynamic  198.18.0.10      02:00:00:00:00:0a  896\n"
			    "  Static   198.18.0.50      aa:bb:cc:dd:ee:ff  -\n"
			    "  Publish  198.18.0.100     02:00:00:00:01:00  -\n"
			    "ARP cache of iface gone: its device is absent, no entries\n");
	v = view_new();
	show_arp(v, e, NULL, now + 4500);
	assert_string_equal(render(v, VIEW_JSON),
			    "[{\"interface\":\"lan\",\"type\":\"dynamic\",\"ip\":\"198.18.0.10\","
			    "\"mac\":\"02:00:00:00:00:0a\",\"expires\":896},"
			    "{\"interface\":\"lan\",\"type\":\"static\",\"ip\":\"198.18.0.50\","
			    "\"mac\":\"aa:bb:cc:dd:ee:ff\",\"expires\":null},"
			    "{\"interface\":\"lan\",\"type\":\"publish\",\"ip\":\"198.18.0.100\","
			    "\"mac\":\"02:00:00:00:01:00\",\"expires\":null}]\n");
	/* an interface whose device is absent: a line of text, no entries */
	v = view_new();
	show_arp(v, e, "gone", now);
	assert_string_equal(render(v, VIEW_TEXT),
			    "ARP cache of iface gone: its device is absent, no entries\n");
	v = view_new();
	show_arp(v, e, "gone", now);
	assert_string_equal(render(v, VIEW_JSON), "[]\n");
	arp_engine_free(e);
}

static void test_stats(void **state)
{
	(void)state;
	static const char text[] = "Interface lan (device ?): 3 entries\n  rx_frames";
	static const char json[] = "{\"interfaces\":[{\"interface\":\"lan\",\"state\":\"present\","
				   "\"device\":\"?\",\"ifindex\":999991,\"entries\":3,"
				   "\"counters\":{\"rx_frames\":1,";
	struct arp_engine *e = engine(1000000);
	struct view *v = view_new();
	show_stats(v, e, NULL);
	const char *t = render(v, VIEW_TEXT);
	assert_memory_equal(t, text, strlen(text));
	assert_non_null(strstr(t, "\n  learned                          1\n"));
	assert_null(strstr(t, " 0\n")); /* zeros left out */
	assert_non_null(strstr(t, "\n\nInterface gone: its device is absent\n"));
	v = view_new();
	show_stats(v, e, NULL);
	t = render(v, VIEW_JSON);
	assert_memory_equal(t, json, strlen(json));
	assert_non_null(strstr(t, ",\"learned\":1,"));
	assert_non_null(strstr(t, "}},{\"interface\":\"gone\",\"state\":\"absent\","
				  "\"entries\":0,\"counters\":{\"rx_frames\":0,"));
	assert_string_equal(t + strlen(t) - 6, "0}}]}\n");
	/* what the kernel refused: in JSON always, in text when not zero */
	struct show_kernel k = {.neigh_errors = 3};
	v = view_new();
	show_stats(v, e, &k);
	t = render(v, VIEW_JSON);
	assert_non_null(strstr(t, "}}],\"kernel\":{\"neighbour_errors\":3,\"send_errors\":0}}\n"));
	v = view_new();
	show_stats(v, e, &k);
	t = render(v, VIEW_TEXT);
	assert_non_null(strstr(t, "\nneighbour_errors 3\n"));
	assert_null(strstr(t, "send_errors"));
	arp_engine_free(e);
}

/*
 * Node 1: node 2 heard once (joining), another address of Peers= never
 * heard, one datagram refused.
 */
static void test_cluster(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	struct wire_key key;
	memset(&key, 7, sizeof(key));
	uint32_t peers[] = {0xc6120002, 0xc6120009};
	struct cluster_params p = {.node_id = 1,
				   .epoch = 1,
				   .key = key,
				   .interval_ms = 100,
				   .dead_count = 3,
				   .send_buffer = 64,
				   .peers = peers,
				   .n_peers = 2};
	struct cluster *c = cluster_new(&p);
	p.node_id = 2;
	p.peers = NULL;
	p.n_peers = 0;
	struct cluster *c2 = cluster_new(&p);
	assert_non_null(c);
	assert_non_null(c2);
	struct cluster_actions a, a2;
	cluster_actions_init(&a);
	cluster_actions_init(&a2);
	cluster_tick(c2, 0, &a2);
	for (size_t i = 0; i < a2.n; i++)
		if (a2.v[i].type == CA_SEND_ALL)
			cluster_input_from(c, a2.v[i].data, a2.v[i].len, 0xc6120002, 0, &a);
	uint8_t junk[3] = {1, 2, 3};
	cluster_input_from(c, junk, sizeof(junk), 0xc6120063, 10, &a);
	struct node_addr addrs[] = {{2, 0xc6120002, 0}};
	const char *const devs[] = {"sync0"};

	struct view *v = view_new();
	show_cluster(v, c, devs, addrs, 1, 1500);
	assert_string_equal(
	    render(v, VIEW_TEXT),
	    "Node 1 (this node), sync link up\n"
	    "  Node       Address          State     Last heard  Messages Delivered  "
	    "NAKs in  NAKs out  Resent  OOS\n"
	    "  2          198.18.0.2       joining      1500 ms         0         0  "
	    "      0         0       0    0\n"
	    "  -          198.18.0.9       never          never         0         0  "
	    "      0         0       0    0\n"
	    "Refused from\n"
	    "  Address          Reason             Count Last refused  Counts by reason\n"
	    "  198.18.0.99      truncated              1      1490 ms  truncated 1\n"
	    "Messages: 0 sent, 0 delivered, 0 resent; NAKs 0 sent, 0 received; out of "
	    "sync 0\n"
	    "Datagrams: 2 received, 0 sent; refused: truncated 1\n"
	    "Heartbeat state: 0 sent, 0 received\n");
	v = view_new();
	show_cluster(v, c, devs, addrs, 1, 1500);
	const char *t = render(v, VIEW_JSON);
	static const char json[] =
	    "{\"node_id\":1,\"sync_link\":\"up\",\"members\":[{\"node_id\":2,"
	    "\"address\":\"198.18.0.2\",\"state\":\"joining\",\"last_heard_ms\":1500,"
	    "\"heartbeats\":1,\"datagrams\":1,\"messages\":0,\"delivered\":0,\"naks_from\":0,"
	    "\"naks_to\":0,\"resent_for\":0,\"out_of_sync\":0},{\"node_id\":null,"
	    "\"address\":\"198.18.0.9\",\"state\":\"never\",\"last_heard_ms\":null,"
	    "\"heartbeats\":0,\"datagrams\":0,\"messages\":0,\"delivered\":0,\"naks_from\":0,"
	    "\"naks_to\":0,\"resent_for\":0,\"out_of_sync\":0}],\"refused_from\":[{"
	    "\"address\":\"198.18.0.99\",\"reason\":\"truncated\",\"count\":1,"
	    "\"last_ms\":1490,\"counts\":{\"truncated\":1}}],\"counters\":{"
	    "\"rx_datagrams\":2,\"tx_datagrams\":0,\"heartbeats_sent\":0,"
	    "\"heartbeats_received\":1,\"messages_sent\":0,\"messages_delivered\":0,"
	    "\"messages_resent\":0,\"naks_sent\":0,\"naks_received\":0,\"out_of_sync\":0,"
	    "\"gones_sent\":0,\"malformed_payload\":0,\"own_node_id\":0,"
	    "\"peers_never_heard\":1,\"drop_";
	assert_memory_equal(t, json, strlen(json));
	assert_non_null(strstr(t, ",\"drop_truncated\":1,"));
	assert_non_null(strstr(t, ",\"states_sent\":0,\"states_received\":0,\"state_drop_"));
	assert_string_equal(t + strlen(t) - 3, "}}\n");
	cluster_actions_free(&a);
	cluster_actions_free(&a2);
	cluster_free(c);
	cluster_free(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arp_show),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_cluster),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
