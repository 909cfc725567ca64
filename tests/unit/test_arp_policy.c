/*
 * Unit tests for the [ARP] settings table: names, value sets and defaults
 * exactly as the project documents them, and the parse errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arp_policy.h"

struct want {
	const char *name;
	const char *values; /* comma separated, in enum order */
	const char *def;
};

static const struct want enums[] = {
	{"UnsolicitedARPReplies", "Drop,DropLog,Accept,AcceptLog,Verify", "Verify"},
	{"ARPRequests", "Drop,Accept", "Drop"},
	{"ARPChanges", "Drop,DropLog,Accept,AcceptLog,Verify", "AcceptLog"},
	{"StaticARPChanges", "Drop,DropLog", "DropLog"},
	{"ARPMatchEnetSender", "Drop,DropLog,Ignore,Log", "DropLog"},
	{"ARPMulticast", "Drop,DropLog,Accept,Log", "DropLog"},
	{"ARPBroadcast", "Drop,DropLog,Accept,Log", "DropLog"},
	{"ARPQueryNoSender", "Drop,DropLog,Accept,AcceptLog", "DropLog"},
	{"ARPSenderIP", "Drop,DropLog,Accept", "DropLog"},
	{"ARPIPCollision", "Drop,DropAnnounce", "Drop"},
};

static void t_enum_settings(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++) {
		const struct arp_setting_desc *d = arp_setting_find(enums[i].name);
		assert_non_null(d);
		assert_true(d->is_enum);
		uint8_t cur = *((uint8_t *)&p + d->offset);
		assert_string_equal(arp_value_name(cur), enums[i].def);
		char list[128];
		size_t off = 0;
		for (int v = 0; v < AV__COUNT; v++)
			if (d->allowed & AVM(v))
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							off ? "," : "", arp_value_name(v));
		assert_string_equal(list, enums[i].values);
		/* every allowed value is accepted, case-insensitively; others refused */
		for (int v = 0; v < AV__COUNT; v++) {
			char err[200] = "";
			char lower[32];
			const char *n = arp_value_name(v);
			size_t k = 0;
			for (; n[k]; k++)
				lower[k] = (char)(n[k] | 0x20);
			lower[k] = '\0';
			int r = arp_setting_set(d, &p, lower, err, sizeof(err));
			if (d->allowed & AVM(v)) {
				assert_int_equal(r, 0);
				assert_int_equal(*((uint8_t *)&p + d->offset), v);
			} else {
				assert_int_equal(r, -1);
				assert_non_null(strstr(err, "expected one of"));
			}
		}
	}
}

static void t_numbers(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	assert_int_equal(p.expire_s, 900);
	assert_int_equal(p.expire_unknown_s, 3);
	assert_int_equal(p.cache_size, 4096);
	assert_int_equal(p.hash_size, 512);
	assert_int_equal(p.hash_size_vlan, 64);
	assert_int_equal(p.rate_limit, 0);
	char err[200];
	const struct arp_setting_desc *d = arp_setting_find("cachesize");
	assert_non_null(d);
	assert_int_equal(arp_setting_set(d, &p, "1000000", err, sizeof(err)), 0);
	assert_int_equal(p.cache_size, 1000000);
	assert_int_equal(arp_setting_set(d, &p, "-1", err, sizeof(err)), -1);
	assert_int_equal(arp_setting_set(d, &p, "12x", err, sizeof(err)), -1);
	assert_int_equal(arp_setting_set(d, &p, "", err, sizeof(err)), -1);
	assert_int_equal(arp_setting_set(d, &p, "99999999999999999999", err, sizeof(err)), -1);
	assert_string_equal(err, "expected a whole number from 16 to 16777216, got "
				 "\"99999999999999999999\"");
	assert_int_equal(p.cache_size, 1000000);
}

static void t_error_message(void **state)
{
	struct arp_policy p;
	arp_policy_defaults(&p);
	char err[200];
	const struct arp_setting_desc *d = arp_setting_find("ARPChanges");
	assert_int_equal(arp_setting_set(d, &p, "yes", err, sizeof(err)), -1);
	assert_string_equal(err, "expected one of Drop, DropLog, Accept, AcceptLog, Verify, got \"yes\"");
	assert_null(arp_setting_find("NoSuchSetting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_enum_settings),
		cmocka_unit_test(t_numbers),
		cmocka_unit_test(t_error_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
