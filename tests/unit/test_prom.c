/*
 * Unit tests for os/prom, views as the Prometheus text format 0.0.4: the
 * families sorted, one HELP and one TYPE line before their samples,
 * counters ending _total, labels from list items and from the rest of a
 * '*' rule's path, values scaled exactly (ms in seconds), label values and
 * help escaped, states as gauges of 1, and what no rule names exported as
 * untyped, so a field the command shows is never lost; a series twice
 * and a family of two types are not written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "os/prom.h"
#include "os/view.h"

/* The exposition of the views (each under its source) in out, and every view freed. */
static char *expose(const struct prom_source *src, struct view **v, size_t n)
{
	static char out[8192];
	struct prom *p = prom_new();
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		prom_add(p, &src[i], v[i]);
		view_free(v[i]);
	}
	struct sbuf b;
	sbuf_init(&b);
	prom_render(p, &b);
	assert_false(b.oom);
	snprintf(out, sizeof(out), "%s", b.s ? b.s : "");
	sbuf_free(&b);
	prom_free(p);
	return out;
}

/* The shape of `arpha stats`: a list of interfaces, counters by reason. */
static const struct prom_rule stats_rules[] = {
    {"interfaces.state", PROM_STATE, "arpha_arp_interface_state", "state", 0, "Present or not"},
    {"interfaces.ifindex", PROM_SKIP, "", NULL, 0, NULL},
    {"interfaces.entries", PROM_GAUGE, "arpha_arp_cache_entries", NULL, 0, "Entries"},
    {"interfaces.counters.*", PROM_COUNTER, "arpha_arp_events", "reason", 0, "By reason"},
    {0},
};
static const struct prom_list stats_lists[] = {{"interfaces", "interface"}, {0}};

static struct view *stats_view(void)
{
	struct view *v = view_new();
	view_object(v, NULL);
	view_list(v, "interfaces");
	for (int i = 0; i < 2; i++) {
		view_object(v, NULL);
		view_str(v, "interface", i ? "srv" : "lan");
		view_str(v, "state", "present");
		view_str(v, "device", "eth0"); /* a string no rule names: left out */
		view_u64(v, "ifindex", 2);
		view_u64(v, "entries", 3 + i);
		view_line(v, "Interface {interface}");
		view_pairs(v, "counters", 2, 32);
		view_u64(v, "rx_frames", 10 + i);
		view_u64(v, "drop_rate_limit", 5);
		view_end(v);
		view_end(v);
	}
	view_end(v);
	view_end(v);
	return v;
}

static void test_stats_shape(void **state)
{
	(void)state;
	const struct prom_source src = {"stats", stats_rules, stats_lists};
	struct view *v = stats_view();
	assert_string_equal(
	    expose(&src, &v, 1),
	    "# HELP arpha_arp_cache_entries Entries\n"
	    "# TYPE arpha_arp_cache_entries gauge\n"
	    "arpha_arp_cache_entries{interface=\"lan\"} 3\n"
	    "arpha_arp_cache_entries{interface=\"srv\"} 4\n"
	    "# HELP arpha_arp_events_total By reason\n"
	    "# TYPE arpha_arp_events_total counter\n"
	    "arpha_arp_events_total{interface=\"lan\",reason=\"drop_rate_limit\"} 5\n"
	    "arpha_arp_events_total{interface=\"lan\",reason=\"rx_frames\"} 10\n"
	    "arpha_arp_events_total{interface=\"srv\",reason=\"drop_rate_limit\"} 5\n"
	    "arpha_arp_events_total{interface=\"srv\",reason=\"rx_frames\"} 11\n"
	    "# HELP arpha_arp_interface_state Present or not\n"
	    "# TYPE arpha_arp_interface_state gauge\n"
	    "arpha_arp_interface_state{interface=\"lan\",state=\"present\"} 1\n"
	    "arpha_arp_interface_state{interface=\"srv\",state=\"present\"} 1\n");
}

/*
 * The shape of `arpha vip` and `arpha cluster`: a list at the top, labels
 * renamed, a number as a label (and not as a sample too), values scaled.
 */
static const struct prom_rule vip_rules[] = {
    {"state", PROM_STATE, "arpha_vip_state", "state", 0, "The state"},
    {"holding", PROM_GAUGE, "arpha_vip_holding", NULL, 0, "Holding"},
    {"last_change_ms", PROM_GAUGE, "arpha_vip_last_change_seconds", NULL, 1000, "Since"},
    {"changes", PROM_COUNTER, "arpha_vip_changes_total", NULL, 0, "Changes"},
    {"lag_us", PROM_GAUGE, "arpha_vip_lag_seconds", NULL, 1000000, "Lag"},
    {0},
};
static const struct prom_list vip_lists[] = {{"", "name=vip,group,node_id=node"}, {0}};

static void test_labels_scale_states(void **state)
{
	(void)state;
	const struct prom_source src = {"vip", vip_rules, vip_lists};
	struct view *v = view_new();
	view_list(v, NULL);
	view_object(v, NULL);
	view_str(v, "name", "in");
	view_str(v, "group", "fw");
	view_u64(v, "node_id", 7);
	view_str(v, "state", "master");
	view_bool(v, "holding", true);
	view_u64(v, "last_change_ms", 1250);
	view_u64(v, "changes", 2); /* its name ends _total already: not twice */
	view_u64(v, "lag_us", 7);
	view_list(v, "methods"); /* a list of plain values: left out */
	view_str(v, NULL, "garp");
	view_end(v);
	view_null(v, "owner"); /* null: no sample */
	view_end(v);
	view_object(v, NULL);
	view_str(v, "name", "out"); /* no group, no node_id: the labels empty */
	view_str(v, "state", "backup");
	view_bool(v, "holding", false);
	view_u64(v, "last_change_ms", 5);
	view_end(v);
	view_end(v);
	assert_string_equal(
	    expose(&src, &v, 1),
	    "# HELP arpha_vip_changes_total Changes\n"
	    "# TYPE arpha_vip_changes_total counter\n"
	    "arpha_vip_changes_total{vip=\"in\",group=\"fw\",node=\"7\"} 2\n"
	    "# HELP arpha_vip_holding Holding\n"
	    "# TYPE arpha_vip_holding gauge\n"
	    "arpha_vip_holding{vip=\"in\",group=\"fw\",node=\"7\"} 1\n"
	    "arpha_vip_holding{vip=\"out\",group=\"\",node=\"\"} 0\n"
	    "# HELP arpha_vip_lag_seconds Lag\n"
	    "# TYPE arpha_vip_lag_seconds gauge\n"
	    "arpha_vip_lag_seconds{vip=\"in\",group=\"fw\",node=\"7\"} 0.000007\n"
	    "# HELP arpha_vip_last_change_seconds Since\n"
	    "# TYPE arpha_vip_last_change_seconds gauge\n"
	    "arpha_vip_last_change_seconds{vip=\"in\",group=\"fw\",node=\"7\"} 1.250\n"
	    "arpha_vip_last_change_seconds{vip=\"out\",group=\"\",node=\"\"} 0.005\n"
	    "# HELP arpha_vip_state The state\n"
	    "# TYPE arpha_vip_state gauge\n"
	    "arpha_vip_state{vip=\"in\",group=\"fw\",node=\"7\",state=\"master\"} 1\n"
	    "arpha_vip_state{vip=\"out\",group=\"\",node=\"\",state=\"backup\"} 1\n");
}

/* A field no rule names: untyped, named from the command and its path, not lost. */
static void test_untyped_and_names(void **state)
{
	(void)state;
	static const struct prom_rule none[] = {{0}};
	const struct prom_source src = {"conns", none, NULL};
	struct view *v = view_new();
	view_object(v, NULL);
	view_i64(v, "delta", -42);
	view_object(v, "kernel");
	view_u64(v, "in-step", 3); /* '-' is no name character */
	view_end(v);
	view_str(v, "last_check", "none"); /* a string no rule names: left out */
	view_end(v);
	assert_string_equal(expose(&src, &v, 1),
			    "# HELP arpha_conns_delta arpha -j conns: delta\n"
			    "# TYPE arpha_conns_delta untyped\n"
			    "arpha_conns_delta -42\n"
			    "# HELP arpha_conns_kernel_in_step arpha -j conns: kernel.in-step\n"
			    "# TYPE arpha_conns_kernel_in_step untyped\n"
			    "arpha_conns_kernel_in_step 3\n");
}

/* Label values and help escaped as the format says: \\, \" and \n. */
static void test_escaping(void **state)
{
	(void)state;
	static const struct prom_rule rules[] = {
	    {"items.x", PROM_GAUGE, "arpha_x", NULL, 0, "a \\ back\nslash and \"quotes\""},
	    {0},
	};
	static const struct prom_list lists[] = {{"items", "name"}, {0}};
	const struct prom_source src = {"t", rules, lists};
	struct view *v = view_new();
	view_object(v, NULL);
	view_list(v, "items");
	view_object(v, NULL);
	view_str(v, "name", "a\"b\\c\nd");
	view_u64(v, "x", 1);
	view_end(v);
	view_end(v);
	view_end(v);
	assert_string_equal(expose(&src, &v, 1),
			    "# HELP arpha_x a \\\\ back\\nslash and \"quotes\"\n"
			    "# TYPE arpha_x gauge\n"
			    "arpha_x{name=\"a\\\"b\\\\c\\nd\"} 1\n");
}

/*
 * One series once, one type a family: the same labels twice (two rows
 * that name nothing apart) keep the first; a family that two rules give
 * two types keeps the type of the first sample.
 */
static void test_no_duplicates(void **state)
{
	(void)state;
	static const struct prom_rule rules[] = {
	    {"rows.n", PROM_GAUGE, "arpha_n", NULL, 0, "N"},
	    {"other", PROM_COUNTER, "arpha_n", NULL, 0, "N as a counter"},
	    {"again", PROM_GAUGE, "arpha_n", NULL, 0, "N"},
	    {"rows.m", PROM_GAUGE, "arpha_t_n2", NULL, 0, "N2 as a gauge"},
	    {0},
	};
	static const struct prom_list lists[] = {{"rows", "name"}, {0}};
	const struct prom_source src = {"t", rules, lists};
	struct view *v = view_new();
	view_object(v, NULL);
	view_table(v, "rows", NULL, NULL);
	view_row(v);
	view_str(v, "name", "a");
	view_u64(v, "n", 1);
	view_u64(v, "m", 5); /* arpha_t_n2 as a gauge, after it came untyped: left out */
	view_end(v);
	view_row(v);
	view_str(v, "name", "a");
	view_u64(v, "n", 2);
	view_end(v);
	view_end(v);
	view_u64(v, "other", 9); /* arpha_n_total: a family of its own */
	view_u64(v, "again", 3); /* arpha_n without labels: a series of its own */
	view_u64(v, "n2", 4);	 /* no rule: arpha_t_n2, untyped */
	view_end(v);
	assert_string_equal(expose(&src, &v, 1), "# HELP arpha_n N\n"
						 "# TYPE arpha_n gauge\n"
						 "arpha_n 3\n"
						 "arpha_n{name=\"a\"} 1\n"
						 "# HELP arpha_n_total N as a counter\n"
						 "# TYPE arpha_n_total counter\n"
						 "arpha_n_total 9\n"
						 "# HELP arpha_t_n2 arpha -j t: n2\n"
						 "# TYPE arpha_t_n2 untyped\n"
						 "arpha_t_n2 4\n");
}

/* Two commands in one exposition: their families sorted together. */
static void test_sources_merge(void **state)
{
	(void)state;
	static const struct prom_rule a_rules[] = {{"b", PROM_GAUGE, "arpha_b", NULL, 0, "B"},
						{0}};
	static const struct prom_rule b_rules[] = {{"a", PROM_GAUGE, "arpha_a", NULL, 0, "A"},
						   {"c", PROM_GAUGE, "arpha_c", NULL, 0, "C"},
						{0}};
	const struct prom_source src[] = {{"one", a_rules, NULL}, {"two", b_rules, NULL}};
	struct view *v[2] = {view_new(), view_new()};
	view_object(v[0], NULL);
	view_u64(v[0], "b", 2);
	view_end(v[0]);
	view_object(v[1], NULL);
	view_u64(v[1], "c", 3);
	view_u64(v[1], "a", 1);
	view_end(v[1]);
	assert_string_equal(expose(src, v, 2),
			    "# HELP arpha_a A\n# TYPE arpha_a gauge\narpha_a 1\n"
			    "# HELP arpha_b B\n# TYPE arpha_b gauge\narpha_b 2\n"
			    "# HELP arpha_c C\n# TYPE arpha_c gauge\narpha_c 3\n");
}

/* An empty view, a NULL view, nothing added: an empty exposition. */
static void test_empty(void **state)
{
	(void)state;
	static const struct prom_rule none[] = {{0}};
	const struct prom_source src = {"x", none, NULL};
	struct view *v = view_new();
	view_object(v, NULL);
	view_list(v, "nodes");
	view_end(v);
	view_end(v);
	assert_string_equal(expose(&src, &v, 1), "");
	v = NULL;
	assert_string_equal(expose(&src, &v, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stats_shape),
	    cmocka_unit_test(test_labels_scale_states),
	    cmocka_unit_test(test_untyped_and_names),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_no_duplicates),
	    cmocka_unit_test(test_sources_merge),
	    cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
