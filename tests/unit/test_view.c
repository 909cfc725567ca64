/*
 * Unit tests for os/view, the one writer of every `arpha` answer: JSON
 * escaped in one place with numbers of every type, text tables aligned
 * from their content, empty tables, lines that name fields, key=value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "os/view.h"

/* v rendered in form (v freed). */
static char *render(struct view *v, enum view_form form)
{
	static char out[4096];
	struct sbuf b;
	sbuf_init(&b);
	view_render(v, form, &b);
	assert_false(b.oom);
	snprintf(out, sizeof(out), "%s", b.s ? b.s : "");
	sbuf_free(&b);
	return out;
}

static void test_json_escapes_keys_and_strings(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_object(v, NULL);
	view_str(v, "name",
		 "a\"b\\c\nd\x01"
		 "e\xc3\xa9");
	view_str(v, "k\"ey", "");
	view_str(v, "none", NULL);
	view_end(v);
	assert_string_equal(render(v, VIEW_JSON),
			    "{\"name\":\"a\\\"b\\\\c\\u000ad\\u0001e\xc3\xa9\",\"k\\\"ey\":\"\","
			    "\"none\":\"\"}\n");
	view_free(v);
}

static void test_json_number_types(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_object(v, NULL);
	view_u64(v, "u0", 0);
	view_u64(v, "umax", UINT64_MAX);
	view_i64(v, "neg", -1);
	view_i64(v, "imin", INT64_MIN);
	view_bool(v, "t", true);
	view_bool(v, "f", false);
	view_null(v, "n");
	view_ip4(v, "ip", 0xc6120001u);
	view_ip4_prefix(v, "net", 0xc6120064u, 24);
	struct mac m = {{0x02, 0, 0, 0, 0x01, 0x0a}};
	view_mac(v, "mac", &m);
	view_list(v, "empty");
	view_end(v);
	view_object(v, "o");
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_JSON),
			    "{\"u0\":0,\"umax\":18446744073709551615,\"neg\":-1,"
			    "\"imin\":-9223372036854775808,\"t\":true,\"f\":false,\"n\":null,"
			    "\"ip\":\"198.18.0.1\",\"net\":\"198.18.0.100/24\","
			    "\"mac\":\"02:00:00:00:01:0a\",\"empty\":[],\"o\":{}}\n");
	view_free(v);
}

static void test_json_lists_tables_and_lines(void **state)
{
	(void)state;
	static const struct view_col cols[] = {{.key = "a", .head = "A"}};
	static const struct view_table t = {cols, 1, 0, false};
	struct view *v = view_new();
	/* two tables without a key in a list: one list of their rows */
	view_list(v, NULL);
	view_line(v, "not in JSON");
	view_table(v, NULL, &t, "first");
	view_row(v);
	view_u64(v, "a", 1);
	view_end(v);
	view_end(v);
	view_table(v, NULL, &t, "second");
	view_end(v);
	view_table(v, NULL, &t, "third");
	view_row(v);
	view_str(v, "a", "x");
	view_list(v, "l");
	view_str(v, "ignored key", "m");
	view_u64(v, NULL, 2);
	view_end(v);
	view_end(v);
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_JSON), "[{\"a\":1},{\"a\":\"x\",\"l\":[\"m\",2]}]\n");
	view_free(v);

	/* a table with a key is a list of its own */
	v = view_new();
	view_object(v, NULL);
	view_table(v, "rows", &t, NULL);
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_JSON), "{\"rows\":[]}\n");
	view_free(v);
}

static void test_text_table_aligned_from_content(void **state)
{
	(void)state;
	static const struct view_col cols[] = {
	    {.key = "name", .head = "NAME", .width = 6},
	    {.key = "n", .head = "COUNT", .width = 3, .right = true},
	    {.key = "ms", .head = "AGE", .width = 6, .gap = 2, .right = true, .unit = " ms"},
	    {.key = "s", .head = "SECS", .scale = 1000, .unit = "s", .right = true},
	    {.key = "what", .head = "WHAT", .gap = 2},
	};
	static const struct view_table t = {cols, 5, 2, false};
	struct view *v = view_new();
	view_table(v, NULL, &t, "Title");
	view_row(v);
	view_str(v, "name", "ab");
	view_u64(v, "n", 7);
	view_u64(v, "ms", 12);
	view_u64(v, "s", 12999);
	view_str(v, "what", "x");
	view_end(v);
	view_row(v);
	view_str(v, "name", "a-long-name");
	view_u64(v, "n", 123456);
	view_null(v, "ms");
	view_u64(v, "s", 0);
	view_list(v, "what");
	view_str(v, NULL, "p");
	view_str(v, NULL, "q");
	view_end(v);
	view_end(v);
	view_row(v); /* every cell missing */
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_TEXT), "Title\n"
						  "  NAME         COUNT     AGE SECS  WHAT\n"
						  "  ab               7   12 ms  12s  x\n"
						  "  a-long-name 123456       -   0s  p,q\n"
						  "  -                -       -    -  -\n");
	view_free(v);
}

static void test_text_empty_tables(void **state)
{
	(void)state;
	static const struct view_col cols[] = {{.key = "a", .head = "A", .width = 3},
					       {.key = "b", .head = "B", .right = true}};
	static const struct view_table shown = {cols, 2, 0, false};
	static const struct view_table hidden = {cols, 2, 0, true};
	struct view *v = view_new();
	view_object(v, NULL);
	view_table(v, "one", &shown, NULL);
	view_end(v);
	view_table(v, "two", &hidden, "Hidden title");
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_TEXT), "A   B\n");
	assert_string_equal(render(v, VIEW_JSON), "{\"one\":[],\"two\":[]}\n");
	view_free(v);

	v = view_new(); /* nothing at all */
	assert_string_equal(render(v, VIEW_TEXT), "");
	assert_string_equal(render(v, VIEW_JSON), "");
	view_free(v);
}

static void test_text_of_values(void **state)
{
	(void)state;
	static const struct view_col cols[] = {
	    {.key = "state", .head = "STATE"}, {.key = "seen", .head = "SEEN", .none = "never"},
	    {.key = "up", .head = "UP"},       {.key = "m", .head = "M"},
	    {.key = "o", .head = "O"},
	};
	static const struct view_table t = {cols, 5, 0, false};
	struct view *v = view_new();
	view_table(v, NULL, &t, NULL);
	view_row(v);
	view_str(v, "state", "down");
	view_text(v, "DOWN");
	view_null(v, "seen");
	view_bool(v, "up", true);
	view_list(v, "m");
	view_end(v);
	view_object(v, "o");
	view_u64(v, "bad_auth", 3);
	view_u64(v, "replay", 1);
	view_end(v);
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_TEXT), "STATE SEEN  UP   M O\n"
						  "DOWN  never true - bad_auth 3, replay 1\n");
	/* the text replaces nothing in JSON */
	assert_string_equal(render(v, VIEW_JSON),
			    "[{\"state\":\"down\",\"seen\":null,\"up\":true,\"m\":[],"
			    "\"o\":{\"bad_auth\":3,\"replay\":1}}]\n");
	view_free(v);
}

static void test_lines_name_fields(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_object(v, NULL);
	view_u64(v, "node_id", 4);
	view_line(v, "Node {node_id}: {local} local, {kernel.events} events, {nosuch} {a.b");
	view_u64(v, "local", 2);
	view_object(v, "kernel");
	view_u64(v, "events", 9);
	view_line(v, "inner sees the outer node {node_id}, its own {events}");
	view_end(v);
	view_linef(v, "literal {node_id} %d%%", 5);
	view_line(v, "");
	view_end(v);
	assert_string_equal(render(v, VIEW_TEXT), "Node 4: 2 local, 9 events, {nosuch} {a.b\n"
						  "inner sees the outer node 4, its own 9\n"
						  "literal {node_id} 5%\n"
						  "\n");
	assert_string_equal(render(v, VIEW_JSON),
			    "{\"node_id\":4,\"local\":2,\"kernel\":{\"events\":9}}\n");
	view_free(v);
}

static void test_pairs(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_object(v, NULL);
	view_pairs(v, "counters", 2, 8);
	view_u64(v, "rx", 5);
	view_u64(v, "zero", 0);
	view_i64(v, "neg", -2);
	view_null(v, "n");
	view_u64(v, "a_longer_name", 1);
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_TEXT), "  rx            5\n"
						  "  neg           -2\n"
						  "  a_longer_name 1\n");
	assert_string_equal(render(v, VIEW_JSON), "{\"counters\":{\"rx\":5,\"zero\":0,\"neg\":-2,"
						  "\"n\":null,\"a_longer_name\":1}}\n");
	view_free(v);
}

static void test_kv(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_object(v, NULL);
	view_str(v, "event", "counters");
	view_str(v, "iface", "my lan");
	view_str(v, "q", "a\"b\\c=d");
	view_str(v, "empty", "");
	view_line(v, "not shown");
	view_object(v, "nested");
	view_u64(v, "rx", 5);
	view_bool(v, "up", false);
	view_end(v);
	view_list(v, "list");
	view_u64(v, NULL, 1);
	view_end(v);
	view_end(v);
	assert_string_equal(render(v, VIEW_KV),
			    "event=counters iface=\"my lan\" q=\"a\\\"b\\\\c=d\" empty=\"\" rx=5 "
			    "up=false");
	view_free(v);
}

static void test_unbalanced_calls(void **state)
{
	(void)state;
	struct view *v = view_new();
	view_end(v); /* nothing open: nothing */
	view_text(v, "no field yet");
	view_list(v, NULL);
	view_object(v, NULL);
	view_u64(v, "a", 1);
	/* left open: rendered as if closed */
	assert_string_equal(render(v, VIEW_JSON), "[{\"a\":1}]\n");
	view_free(v);

	/* a view that could not be made: every call does nothing, rendering fails */
	view_object(NULL, NULL);
	view_u64(NULL, "a", 1);
	view_text(NULL, "x");
	view_line(NULL, "x");
	view_linef(NULL, "%d", 1);
	view_end(NULL);
	struct sbuf b;
	sbuf_init(&b);
	view_render(NULL, VIEW_JSON, &b);
	assert_true(b.oom);
	sbuf_free(&b);
	view_free(NULL);
}

static void test_big_table(void **state)
{
	(void)state;
	static const struct view_col cols[] = {{.key = "i", .head = "I", .right = true}};
	static const struct view_table t = {cols, 1, 0, false};
	struct view *v = view_new();
	view_table(v, NULL, &t, NULL);
	for (uint64_t i = 0; i < 100000; i++) {
		view_row(v);
		view_u64(v, "i", i);
		view_end(v);
	}
	view_end(v);
	struct sbuf b;
	sbuf_init(&b);
	view_render(v, VIEW_TEXT, &b);
	assert_false(b.oom);
	assert_memory_equal(b.s, "    I\n    0\n", 12);
	assert_string_equal(b.s + b.len - 6, "99999\n");
	sbuf_free(&b);
	view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_escapes_keys_and_strings),
	    cmocka_unit_test(test_json_number_types),
	    cmocka_unit_test(test_json_lists_tables_and_lines),
	    cmocka_unit_test(test_text_table_aligned_from_content),
	    cmocka_unit_test(test_text_empty_tables),
	    cmocka_unit_test(test_text_of_values),
	    cmocka_unit_test(test_lines_name_fields),
	    cmocka_unit_test(test_pairs),
	    cmocka_unit_test(test_kv),
	    cmocka_unit_test(test_unbalanced_calls),
	    cmocka_unit_test(test_big_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
