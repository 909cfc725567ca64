/*
 * Unit tests for os/util's growable string: what every JSON answer of the
 * control socket is built with. Text formatted once into the room there
 * is, again after growing when it did not fit; JSON strings escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "os/util.h"

static void test_printf_appends(void **state)
{
	(void)state;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b, "%s", "");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	sbuf_printf(&b, "{\"n\":%d", 42);
	sbuf_printf(&b, ",\"s\":\"%s\"}", "x");
	assert_string_equal(b.s, "{\"n\":42,\"s\":\"x\"}");
	assert_int_equal(b.len, strlen(b.s));
	sbuf_free(&b);
	assert_null(b.s);
}

static void test_printf_grows(void **state)
{
	(void)state;
	/* longer than the first room, then many appends across several growths */
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, sizeof(big) + 1);
	assert_int_equal(b.s[0], '<');
	assert_int_equal(b.s[b.len - 1], '>');
	assert_int_equal(b.s[b.len], '\0');
	size_t want = b.len;
	for (int i = 0; i < 3000; i++) {
		sbuf_printf(&b, "%d,", i);
		want += (size_t)snprintf(NULL, 0, "%d,", i);
		assert_int_equal(b.len, want);
	}
	assert_int_equal(strlen(b.s), want);
	assert_memory_equal(b.s + want - 5, "2999,", 5);
	assert_false(b.oom);
	sbuf_free(&b);
}

static void test_json_str(void **state)
{
	(void)state;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_json_str(&b, "");
	assert_string_equal(b.s, "\"\"");
	sbuf_free(&b);

	sbuf_init(&b);
	sbuf_json_str(&b, "plain host-1.example");
	assert_string_equal(b.s, "\"plain host-1.example\"");
	sbuf_free(&b);

	/* quotes, backslashes and control characters escaped; UTF-8 bytes kept */
	sbuf_init(&b);
	sbuf_printf(&b, "[");
	sbuf_json_str(&b, "a\"b\\c\nd\x01"
			  "e\xc3\xa9\"");
	sbuf_printf(&b, "]");
	assert_string_equal(b.s, "[\"a\\\"b\\\\c\\u000ad\\u0001e\xc3\xa9\\\"\"]");
	assert_int_equal(b.len, strlen(b.s));
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printf_appends),
	    cmocka_unit_test(test_printf_grows),
	    cmocka_unit_test(test_json_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
