/*
 * Unit tests for core/argv: words split as a shell splits a simple command
 * (quotes, backslashes, blanks), nothing expanded, what only a shell could
 * do refused, and the limits (words, buffer) kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/argv.h"

#define MAXW 8

/* Split s; expect the words given (NULL-terminated list). */
static void expect_words(const char *s, ...)
{
	char buf[256], err[256];
	char *argv[MAXW + 1];
	int n = argv_split(s, buf, sizeof(buf), argv, MAXW, err, sizeof(err));
	if (n < 0)
		fail_msg("[%s]: unexpected error: %s", s, err);
	va_list ap;
	va_start(ap, s);
	int i = 0;
	for (const char *w; (w = va_arg(ap, const char *)); i++) {
		if (i >= n)
			fail_msg("[%s]: %d words, expected more (next \"%s\")", s, n, w);
		if (strcmp(argv[i], w) != 0)
			fail_msg("[%s]: word %d is \"%s\", expected \"%s\"", s, i, argv[i], w);
	}
	va_end(ap);
	if (i != n)
		fail_msg("[%s]: %d words, expected %d", s, n, i);
	assert_null(argv[n]);
}

/* Split s; expect an error whose message contains want. */
static void expect_error(const char *s, const char *want)
{
	char buf[256], err[256];
	char *argv[MAXW + 1];
	int n = argv_split(s, buf, sizeof(buf), argv, MAXW, err, sizeof(err));
	if (n >= 0)
		fail_msg("[%s]: accepted (%d words), expected an error with \"%s\"", s, n, want);
	if (!strstr(err, want))
		fail_msg("[%s]: error \"%s\" does not say \"%s\"", s, err, want);
}

static void test_plain(void **state)
{
	expect_words("/usr/bin/logger", "/usr/bin/logger", NULL);
	expect_words("/usr/bin/logger -t arpha", "/usr/bin/logger", "-t", "arpha", NULL);
	expect_words("  \t/bin/x   a\t\tb  ", "/bin/x", "a", "b", NULL);
	expect_words("", NULL);
	expect_words("   ", NULL);
	/* characters that are special only at the start of a word */
	expect_words("/bin/x a#b a~b key=value", "/bin/x", "a#b", "a~b", "key=value", NULL);
}

static void test_single_quotes(void **state)
{
	expect_words("/bin/x 'a b' c", "/bin/x", "a b", "c", NULL);
	expect_words("/bin/x 'a \"b\" \\n $HOME | ;'", "/bin/x", "a \"b\" \\n $HOME | ;", NULL);
	expect_words("/bin/x ''", "/bin/x", "", NULL);
	expect_words("/bin/x a'b c'd", "/bin/x", "ab cd", NULL);
	expect_words("'/opt/my scripts/notify'", "/opt/my scripts/notify", NULL);
}

static void test_double_quotes(void **state)
{
	expect_words("/bin/x \"a b\"", "/bin/x", "a b", NULL);
	expect_words("/bin/x \"say \\\"hi\\\"\"", "/bin/x", "say \"hi\"", NULL);
	expect_words("/bin/x \"\\\\ \\$ \\` \\n\"", "/bin/x", "\\ $ ` \\n", NULL);
	expect_words("/bin/x \"it's\"", "/bin/x", "it's", NULL);
	expect_words("/bin/x \"\" \"\"", "/bin/x", "", "", NULL);
	expect_words("/bin/x \"a|b;c*\"", "/bin/x", "a|b;c*", NULL);
}

static void test_backslash(void **state)
{
	expect_words("/bin/x a\\ b", "/bin/x", "a b", NULL);
	expect_words("/bin/x \\'q\\'", "/bin/x", "'q'", NULL);
	expect_words("/bin/x \\|\\;\\$", "/bin/x", "|;$", NULL);
	expect_words("/bin/x \\\\", "/bin/x", "\\", NULL);
	expect_words("/bin/x a\\\nb", "/bin/x", "ab", NULL);
}

static void test_unbalanced(void **state)
{
	expect_error("/bin/x 'a b", "quote ' at character 8 is never closed");
	expect_error("/bin/x \"a b", "quote \" at character 8 is never closed");
	expect_error("/bin/x \"a\\\"", "never closed");
	expect_error("/bin/x a\\", "backslash at the end");
}

static void test_shell_only(void **state)
{
	expect_error("/bin/x > /tmp/log", "'>' at character 8 means something to a shell");
	expect_error("/bin/x | logger", "'|'");
	expect_error("/bin/x; reboot", "';'");
	expect_error("/bin/x && y", "'&'");
	expect_error("/bin/x $HOME", "'$'");
	expect_error("/bin/x `id`", "'`'");
	expect_error("/bin/x $(id)", "'$'");
	expect_error("/bin/x *.log", "'*'");
	expect_error("/bin/x a?", "'?'");
	expect_error("/bin/x [ab]", "'['");
	expect_error("/bin/x # comment", "'#'");
	expect_error("/bin/x ~/x", "'~'");
	expect_error("/bin/x (a)", "'('");
}

static void test_limits(void **state)
{
	char buf[256], err[256];
	char *argv[4];
	/* three words fit in argv[4] (the fourth pointer is the NULL) */
	assert_int_equal(argv_split("a b c", buf, sizeof(buf), argv, 3, err, sizeof(err)), 3);
	assert_null(argv[3]);
	assert_int_equal(argv_split("a b c d", buf, sizeof(buf), argv, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 3 words"));
	/* the length of the text plus one is always enough */
	const char *s = "/bin/x 'a b' \"c\" d\\ e '' f";
	char small[64];
	size_t need = strlen(s) + 1;
	char *av[8];
	assert_true(need <= sizeof(small));
	assert_int_equal(argv_split(s, small, need, av, 7, err, sizeof(err)), 6);
	assert_string_equal(av[4], "");
	assert_string_equal(av[5], "f");
	/* a buffer too small is an error, never an overflow */
	for (size_t len = 0; len < 8; len++) {
		char tiny[8];
		memset(tiny, 'X', sizeof(tiny));
		int n = argv_split("abc def", tiny, len, av, 7, err, sizeof(err));
		if (len >= 8)
			assert_int_equal(n, 2);
		else
			assert_int_equal(n, -1);
	}
	/* the exact fit */
	char fit[8];
	assert_int_equal(argv_split("abc def", fit, 8, av, 7, err, sizeof(err)), 2);
	assert_string_equal(av[1], "def");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),	  cmocka_unit_test(test_single_quotes),
	    cmocka_unit_test(test_double_quotes), cmocka_unit_test(test_backslash),
	    cmocka_unit_test(test_unbalanced),	  cmocka_unit_test(test_shell_only),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
