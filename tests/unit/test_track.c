/*
 * core/track: Fall= failures in a row turn a check failing, Rise=
 * successes in a row turn it healthy; a result the other way starts the
 * count again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/track.h"

static void t_fall_rise(void **state)
{
	(void)state;
	struct track_state s = {0};
	assert_false(s.failing); /* healthy before the first run */
	assert_false(track_result(&s, false, 3, 2));
	assert_false(track_result(&s, false, 3, 2));
	assert_false(track_result(&s, true, 3, 2)); /* the row is broken */
	assert_false(track_result(&s, false, 3, 2));
	assert_false(track_result(&s, false, 3, 2));
	assert_false(s.failing);
	assert_true(track_result(&s, false, 3, 2)); /* the third in a row */
	assert_true(s.failing);
	assert_false(track_result(&s, false, 3, 2)); /* still failing: no turn */
	assert_false(track_result(&s, true, 3, 2));
	assert_false(track_result(&s, false, 3, 2));
	assert_false(track_result(&s, true, 3, 2));
	assert_true(track_result(&s, true, 3, 2));
	assert_false(s.failing);
	assert_int_equal(s.runs, 11);
	assert_int_equal(s.failed, 7);
	assert_int_equal(s.turns, 2);
}

static void t_one(void **state)
{
	(void)state;
	struct track_state s = {0};
	assert_true(track_result(&s, false, 1, 1));
	assert_true(track_result(&s, true, 1, 1));
	assert_false(track_result(&s, true, 1, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_fall_rise),
	    cmocka_unit_test(t_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
