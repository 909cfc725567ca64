/* Unit tests for core/mrd: the RFC 4286 advertisement, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/mrd.h"

static void test_advert_bytes(void **state)
{
	(void)state;
	uint8_t b[16];
	assert_int_equal(mrd_advert(b, sizeof(b), MRD_INTERVAL_S, 125, 2), MRD_ADVERT_LEN);
	/* type 0x30, interval 20, checksum, query interval 125, robustness 2 */
	static const uint8_t want[] = {0x30, 0x14, 0xcf, 0x6c, 0x00, 0x7d, 0x00, 0x02};
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(mrd_checksum(b, MRD_ADVERT_LEN), 0);
	struct mrd_msg m;
	assert_int_equal(mrd_parse(b, MRD_ADVERT_LEN, &m), 0);
	assert_int_equal(m.type, MRD_TYPE_ADVERT);
	assert_int_equal(m.interval_s, 20);
	assert_int_equal(m.query_interval_s, 125);
	assert_int_equal(m.robustness, 2);
	assert_int_equal(mrd_advert(b, MRD_ADVERT_LEN - 1, 20, 125, 2), 0);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	uint8_t b[MRD_ADVERT_LEN];
	struct mrd_msg m;
	mrd_advert(b, sizeof(b), 20, 125, 2);
	b[5] ^= 1; /* checksum no longer holds */
	assert_int_equal(mrd_parse(b, sizeof(b), &m), -1);
	assert_int_equal(mrd_parse(b, 3, &m), -1);
	/* an IGMP query (0x11) is not ours */
	uint8_t q[8] = {0x11, 0x64, 0, 0, 0, 0, 0, 0};
	uint16_t c = mrd_checksum(q, sizeof(q));
	q[2] = (uint8_t)(c >> 8);
	q[3] = (uint8_t)c;
	assert_int_equal(mrd_parse(q, sizeof(q), &m), -1);
	/* a solicitation is 4 bytes */
	uint8_t s[4] = {MRD_TYPE_SOLICIT, 0, 0, 0};
	c = mrd_checksum(s, sizeof(s));
	s[2] = (uint8_t)(c >> 8);
	s[3] = (uint8_t)c;
	assert_int_equal(mrd_parse(s, sizeof(s), &m), 0);
	assert_int_equal(m.type, MRD_TYPE_SOLICIT);
}

static void test_checksum_odd(void **state)
{
	(void)state;
	static const uint8_t b[] = {0x01, 0x02, 0x03};
	/* 0x0102 + 0x0300 = 0x0402 -> ~ = 0xfbfd */
	assert_int_equal(mrd_checksum(b, sizeof(b)), 0xfbfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_advert_bytes),
	    cmocka_unit_test(test_parse_refuses),
	    cmocka_unit_test(test_checksum_odd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
