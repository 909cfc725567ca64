/*
 * Unit tests for daemon/ctl_cmds, the one grammar of `arpha` that the CLI
 * and arphad both check: commands found by their words, the arguments
 * counted and the numbers in range, each mistake said in words (the netns
 * suite greps for some of them), the usage built from the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ctl_cmds.h"

static struct ctl_req req;
static char msg[256];

/* Check the words of line (split at spaces); the message is in msg. */
static enum ctl_check check(const char *line)
{
	static char buf[256];
	char *argv[8];
	int argc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 8; w = strtok(NULL, " "))
		argv[argc++] = w;
	return ctl_check(argc, argv, &req, msg, sizeof(msg));
}

static void test_commands_found(void **state)
{
	(void)state;
	assert_int_equal(check("arp show"), CTL_OK);
	assert_string_equal(req.cmd->words, "arp show");
	assert_int_equal(req.nargs, 0);
	assert_int_equal(check("arp flush lan"), CTL_OK);
	assert_string_equal(req.cmd->words, "arp flush");
	assert_int_equal(req.nargs, 1);
	assert_string_equal(req.args[0], "lan");
	assert_int_equal(check("announce lan"), CTL_OK);
	assert_int_equal(check("cluster"), CTL_OK);
	assert_string_equal(req.cmd->words, "cluster");
	assert_int_equal(check("cluster test-traffic 10 20"), CTL_OK);
	assert_string_equal(req.cmd->words, "cluster test-traffic");
	assert_int_equal(req.num[0], 10);
	assert_int_equal(req.num[1], 20);
	assert_int_equal(check("cluster test-traffic 60000 10000000"), CTL_OK);
	assert_int_equal(check("cluster test-traffic 1 1"), CTL_OK);
	assert_int_equal(check("stats"), CTL_OK);
	assert_int_equal(check("vip"), CTL_OK);
	assert_int_equal(check("conns"), CTL_OK);
	assert_string_equal(req.cmd->words, "conns");
	assert_ptr_equal(ctl_find("conns"), req.cmd);
	assert_null(ctl_find("arp"));
}

static void test_unknown(void **state)
{
	(void)state;
	assert_int_equal(check("frobnicate"), CTL_UNKNOWN);
	assert_string_equal(msg, "unknown command \"frobnicate\"");
	assert_int_equal(check("ARP show"), CTL_UNKNOWN);
	assert_int_equal(check(""), CTL_UNKNOWN);
	assert_null(req.cmd);
}

static void test_verbs(void **state)
{
	(void)state;
	assert_int_equal(check("arp"), CTL_USAGE);
	assert_string_equal(msg, "arp needs a verb: arp show [IFACE] or arp flush [IFACE]");
	assert_int_equal(check("arp list"), CTL_USAGE);
	assert_string_equal(msg, "arp: unknown verb \"list\" (expected show or flush)");
	assert_int_equal(check("cluster x"), CTL_USAGE);
	assert_string_equal(msg, "cluster: unknown verb \"x\" (expected: cluster, or cluster "
				 "test-traffic PERIOD_MS COUNT)");
}

static void test_arguments_counted(void **state)
{
	(void)state;
	assert_int_equal(check("arp show lan extra"), CTL_USAGE);
	assert_string_equal(msg, "too many arguments to arp show (expected: arp show [IFACE])");
	assert_int_equal(check("announce"), CTL_USAGE);
	assert_string_equal(msg, "announce needs an interface: announce IFACE");
	assert_int_equal(check("announce a b"), CTL_USAGE);
	assert_string_equal(msg, "too many arguments to announce (expected: announce IFACE)");
	assert_int_equal(check("stats extra"), CTL_USAGE);
	assert_string_equal(msg, "too many arguments to stats (it takes none)");
	assert_int_equal(check("conns x"), CTL_USAGE);
	assert_string_equal(msg, "too many arguments to conns (it takes none)");
	assert_int_equal(check("vip x"), CTL_USAGE);
	assert_string_equal(msg, "vip: unknown verb \"x\" (expected: vip, or vip demote GROUP [N], "
				 "or vip promote GROUP)");
	assert_int_equal(check("vip demote"), CTL_USAGE);
	assert_string_equal(msg, "vip demote needs a VIP group: vip demote GROUP [N]");
	assert_int_equal(check("vip demote web 254"), CTL_USAGE);
	assert_string_equal(msg, "vip demote GROUP [N]: expected N 1..253");
	assert_int_equal(check("vip demote web 50"), CTL_OK);
	assert_int_equal(req.num[1], 50);
	assert_int_equal(check("cluster test-traffic 10"), CTL_USAGE);
	assert_string_equal(msg, "cluster test-traffic needs PERIOD_MS and COUNT");
	assert_int_equal(check("cluster test-traffic 1 2 3"), CTL_USAGE);
	assert_string_equal(msg, "too many arguments to cluster test-traffic (expected: cluster "
				 "test-traffic PERIOD_MS COUNT)");
}

static void test_numbers_in_range(void **state)
{
	(void)state;
	static const char *const bad[] = {"0 0",  "10 x", "60001 1", "1 10000001",
					  "+5 5", "-1 5", "1 2x",    "99999999999999999999999 1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[80];
		snprintf(line, sizeof(line), "cluster test-traffic %s", bad[i]);
		assert_int_equal(check(line), CTL_USAGE);
		assert_string_equal(msg, "cluster test-traffic PERIOD_MS COUNT: expected PERIOD_MS "
					 "1..60000 and COUNT 1..10000000");
	}
}

static void test_usage(void **state)
{
	(void)state;
	char buf[512];
	assert_string_equal(ctl_usage_list(buf, sizeof(buf)),
			    "arp show [IFACE], arp flush [IFACE], announce IFACE, stats, cluster, "
			    "vip, vip demote GROUP [N], vip promote GROUP, conns, neighbors [IFACE] "
			    "[-names] [-devinfo] [-ip6], neighbors show MAC, ranges");
	assert_string_equal(ctl_usage(ctl_find("cluster test-traffic"), buf, sizeof(buf)),
			    "cluster test-traffic PERIOD_MS COUNT");
	/* cut, never overrun */
	assert_string_equal(ctl_usage_list(buf, 10), "arp show ");
	/* every listed command has its line of help; every argument a name */
	for (const struct ctl_cmd *c = ctl_cmds; c->words; c++) {
		assert_true(c->min_args <= c->max_args && c->max_args <= CTL_MAX_ARGS);
		for (unsigned i = 0; i < c->max_args; i++)
			assert_non_null(c->args[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands_found),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_arguments_counted),
	    cmocka_unit_test(test_numbers_in_range),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
