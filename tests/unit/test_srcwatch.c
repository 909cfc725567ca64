/*
 * Unit tests for core/srcwatch and its use in core/cluster: a wrong key or a
 * second node with our NodeID is logged at once and then at most once per
 * holdoff per address, with the count held back written when the holdoff
 * ends; Peers= never heard are told after twice the dead time; the table
 * and the lines over all sources are bounded; our own datagrams coming back
 * are not taken for a second node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cluster.h"
#include "core/srcwatch.h"

#define A2 0xc6120002u /* 198.18.0.2 */
#define A3 0xc6120003u /* 198.18.0.3 */
#define A4 0xc6120004u /* 198.18.0.4 */

/* When a peer never heard is first told, for a dead time of 300 ms. */
#define NEVER_AFTER                                                                                \
	(300 * SRCWATCH_NEVER_AFTER > SRCWATCH_NEVER_MIN_MS ? 300 * SRCWATCH_NEVER_AFTER           \
							    : SRCWATCH_NEVER_MIN_MS)

static struct srcwatch *new_watch(const uint32_t *peers, size_t n)
{
	struct srcwatch_params p = {.dead_ms = 300, .peers = peers, .n_peers = n};
	struct srcwatch *w = srcwatch_new(&p);
	assert_non_null(w);
	return w;
}

/* The log lines in a, one string; count in *n. */
static const char *logs(const struct actions *a, size_t *n)
{
	static char buf[8192];
	size_t off = 0;
	*n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].type, ACT_LOG);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%d %s\n",
					a->v[i].u.log.level, a->v[i].u.log.text);
		(*n)++;
	}
	return buf;
}

static void bad_auth_once_then_held_back(void **state)
{
	struct srcwatch *w = new_watch(NULL, 0);
	struct actions a;
	size_t n;
	actions_init(&a);

	srcwatch_refused(w, A2, WR_BAD_AUTH, 0, 1000, &a);
	const char *t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "4 event=cluster_auth_failed srcip=198.18.0.2 count=1 "
				  "reason=bad_auth hint=\"wrong key?"));
	assert_int_equal(srcwatch_next_deadline(w), UINT64_MAX);
	actions_reset(&a);

	/* 45 more within the holdoff: no line, one deadline */
	for (int i = 1; i <= 45; i++)
		srcwatch_refused(w, A2, WR_BAD_AUTH, 0, 1000 + (uint64_t)i * 100, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(srcwatch_next_deadline(w), 1000 + SRCWATCH_HOLDOFF_MS);
	srcwatch_tick(w, 1000 + SRCWATCH_HOLDOFF_MS - 1, &a);
	assert_int_equal(a.n, 0);

	/* the holdoff ends: the held-back ones, counted, without a new refusal */
	srcwatch_tick(w, 1000 + SRCWATCH_HOLDOFF_MS, &a);
	t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "srcip=198.18.0.2 count=46 suppressed=45 reason=bad_auth"));
	assert_int_equal(srcwatch_next_deadline(w), UINT64_MAX);
	actions_reset(&a);

	/* quiet since: the next one is logged at once */
	srcwatch_refused(w, A2, WR_BAD_AUTH, 0, 1000 + 3 * SRCWATCH_HOLDOFF_MS, &a);
	t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "count=47 reason=bad_auth"));

	struct srcwatch_source s[4];
	assert_int_equal(srcwatch_sources(w, s, 4), 1);
	assert_int_equal(s[0].addr, A2);
	assert_int_equal(s[0].total, 47);
	assert_int_equal(s[0].counts[WR_BAD_AUTH], 47);
	assert_int_equal(s[0].last, 1000 + 3 * SRCWATCH_HOLDOFF_MS);
	assert_int_equal(s[0].first, 1000);
	actions_free(&a);
	srcwatch_free(w);
}

static void duplicate_node_is_an_error_naming_both(void **state)
{
	struct srcwatch *w = new_watch(NULL, 0);
	struct actions a;
	size_t n;
	actions_init(&a);
	srcwatch_refused(w, A3, WR_OWN, 1, 50, &a);
	const char *t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "3 event=cluster_duplicate_node node=1 srcip=198.18.0.3 count=1 "
				  "reason=own_node_id hint=\"two nodes with NodeID 1"));
	actions_reset(&a);

	/* a new reason from the same address is news; the old one's holdoff does not apply */
	srcwatch_refused(w, A3, WR_BAD_AUTH, 0, 60, &a);
	t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "event=cluster_auth_failed srcip=198.18.0.3"));
	assert_string_equal(srcwatch_reason_name(WR_OWN), "own_node_id");
	actions_free(&a);
	srcwatch_free(w);
}

static void other_reasons_counted_not_logged(void **state)
{
	struct srcwatch *w = new_watch(NULL, 0);
	struct actions a;
	actions_init(&a);
	srcwatch_refused(w, A2, WR_REPLAY, 0, 10, &a);
	srcwatch_refused(w, A2, WR_TRUNCATED, 0, 20, &a);
	srcwatch_refused(w, A2, WR_OK, 0, 30, &a); /* not a refusal */
	assert_int_equal(a.n, 0);
	struct srcwatch_source s[1];
	assert_int_equal(srcwatch_sources(w, s, 1), 1);
	assert_int_equal(s[0].total, 2);
	assert_int_equal(s[0].last_reason, WR_TRUNCATED);
	assert_int_equal(srcwatch_next_deadline(w), UINT64_MAX);
	actions_free(&a);
	srcwatch_free(w);
}

static void table_bounded_oldest_evicted(void **state)
{
	struct srcwatch *w = new_watch(NULL, 0);
	struct actions a;
	actions_init(&a);
	for (uint32_t i = 0; i < SRCWATCH_MAX + 1; i++)
		srcwatch_refused(w, A2 + i, WR_REPLAY, 0, 100 + i, &a);
	struct srcwatch_source s[SRCWATCH_MAX + 1];
	assert_int_equal(srcwatch_sources(w, s, SRCWATCH_MAX + 1), SRCWATCH_MAX);
	for (size_t i = 0; i < SRCWATCH_MAX; i++)
		assert_int_not_equal(s[i].addr, A2); /* the first, refused longest ago */
	actions_free(&a);
	srcwatch_free(w);
}

static void lines_over_all_sources_bounded(void **state)
{
	struct srcwatch *w = new_watch(NULL, 0);
	struct actions a;
	size_t n;
	actions_init(&a);
	for (uint32_t i = 0; i < SRCWATCH_BURST + 4; i++)
		srcwatch_refused(w, A2 + i, WR_BAD_AUTH, 0, 100, &a);
	assert_int_equal(a.n, SRCWATCH_BURST);
	actions_reset(&a);
	assert_int_equal(srcwatch_next_deadline(w), 100 + SRCWATCH_HOLDOFF_MS);
	srcwatch_tick(w, 100 + SRCWATCH_HOLDOFF_MS, &a);
	const char *t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "event=cluster_warnings_suppressed count=4"));
	assert_int_equal(srcwatch_next_deadline(w), UINT64_MAX);
	actions_free(&a);
	srcwatch_free(w);
}

static void peers_never_heard(void **state)
{
	uint32_t peers[] = {A2, A3, A4};
	struct srcwatch *w = new_watch(peers, 3);
	struct actions a;
	size_t n;
	actions_init(&a);
	uint32_t v[4];
	assert_int_equal(srcwatch_never_heard(w, v, 4), 3);

	srcwatch_tick(w, 1000, &a); /* the start */
	assert_int_equal(srcwatch_next_deadline(w), 1000 + NEVER_AFTER);
	srcwatch_heard(w, A2, 1100);
	srcwatch_self(w, A4); /* our own address in Peers= */
	assert_int_equal(srcwatch_never_heard(w, v, 4), 1);
	assert_int_equal(v[0], A3);
	srcwatch_tick(w, 1000 + NEVER_AFTER - 1, &a);
	assert_int_equal(a.n, 0);
	srcwatch_tick(w, 1000 + NEVER_AFTER, &a);
	const char *t = logs(&a, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "4 event=peer_never_heard peer=198.18.0.3 after=5000ms"));
	actions_reset(&a);
	assert_int_equal(srcwatch_next_deadline(w), 1000 + NEVER_AFTER + SRCWATCH_NEVER_REPEAT_MS);

	/* heard at last: no more lines, not listed */
	srcwatch_heard(w, A3, 5000);
	srcwatch_tick(w, 1000 + NEVER_AFTER + SRCWATCH_NEVER_REPEAT_MS, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(srcwatch_never_heard(w, v, 4), 0);
	assert_int_equal(srcwatch_next_deadline(w), UINT64_MAX);
	actions_free(&a);
	srcwatch_free(w);
}

/* ---- in the cluster: own datagrams looped back are not a second node ---- */

static struct cluster *node(uint32_t id, uint64_t epoch, uint8_t keybyte, const uint32_t *peers,
			    size_t n)
{
	struct cluster_params p;
	memset(&p, 0, sizeof(p));
	p.node_id = id;
	p.epoch = epoch;
	memset(p.key.k, keybyte, sizeof(p.key.k));
	p.interval_ms = 100;
	p.dead_count = 3;
	p.send_buffer = 64;
	p.peers = peers;
	p.n_peers = n;
	struct cluster *c = cluster_new(&p);
	assert_non_null(c);
	return c;
}

/* The first datagram c sends at now (its first heartbeat). */
static size_t first_datagram(struct cluster *c, uint64_t now, uint8_t *buf)
{
	struct cluster_actions a;
	cluster_actions_init(&a);
	cluster_tick(c, now, &a);
	size_t len = 0;
	for (size_t i = 0; i < a.n && !len; i++)
		if (a.v[i].type == CA_SEND_ALL) {
			len = a.v[i].len;
			memcpy(buf, a.v[i].data, len);
		}
	cluster_actions_free(&a);
	assert_true(len > 0);
	return len;
}

/* Feed buf to c from addr; the CA_LOG lines, one string. */
static const char *feed(struct cluster *c, const uint8_t *buf, size_t len, uint32_t from,
			uint64_t now, size_t *nlogs)
{
	static char text[4096];
	struct cluster_actions a;
	cluster_actions_init(&a);
	cluster_input_from(c, buf, len, from, now, &a);
	size_t off = 0;
	*nlogs = 0;
	text[0] = 0;
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == CA_LOG) {
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%d %s\n",
						a.v[i].level, (const char *)a.v[i].data);
			(*nlogs)++;
		}
	cluster_actions_free(&a);
	return text;
}

static void cluster_tells_own_from_duplicate(void **state)
{
	uint32_t peers[] = {A2, A3};
	struct cluster *me = node(1, 100, 7, peers, 2);
	struct cluster *twin = node(1, 200, 7, NULL, 0);
	struct cluster *stranger = node(2, 300, 8, NULL, 0);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	size_t n, nl;

	/* our own heartbeat back from our own address (Peers= names us): quiet */
	n = first_datagram(me, 10, buf);
	feed(me, buf, n, A3, 11, &nl);
	assert_int_equal(nl, 0);
	assert_int_equal(cluster_stats(me)->drops[WR_OWN], 1);
	assert_int_equal(cluster_stats(me)->own_node_id, 0);

	/* a second node 1: an error naming its address */
	n = first_datagram(twin, 10, buf);
	const char *t = feed(me, buf, n, A2, 12, &nl);
	assert_int_equal(nl, 1);
	assert_non_null(strstr(t, "3 event=cluster_duplicate_node node=1 srcip=198.18.0.2"));
	assert_int_equal(cluster_stats(me)->drops[WR_OWN], 2);
	assert_int_equal(cluster_stats(me)->own_node_id, 1);

	/* another key */
	n = first_datagram(stranger, 10, buf);
	t = feed(me, buf, n, A4, 13, &nl);
	assert_int_equal(nl, 1);
	assert_non_null(strstr(t, "4 event=cluster_auth_failed srcip=198.18.0.4"));

	/* without a source address (the simulator): counted, not logged */
	feed(me, buf, n, 0, 14, &nl);
	assert_int_equal(nl, 0);
	assert_int_equal(cluster_stats(me)->drops[WR_BAD_AUTH], 2);

	/* A3 is ours, A2 never sent anything authentic: only A2 is never heard */
	uint32_t v[4];
	assert_int_equal(srcwatch_never_heard(cluster_srcwatch(me), v, 4), 1);
	assert_int_equal(v[0], A2);
	struct srcwatch_source s[4];
	assert_int_equal(srcwatch_sources(cluster_srcwatch(me), s, 4), 2);

	/* and the peer never heard is told from cluster_tick, at its deadline */
	struct cluster_actions a;
	cluster_actions_init(&a);
	uint64_t due = 10 + NEVER_AFTER;
	assert_true(cluster_next_deadline(me) <= due);
	cluster_tick(me, due, &a);
	bool told = false;
	for (size_t i = 0; i < a.n; i++)
		told |=
		    a.v[i].type == CA_LOG &&
		    strstr((const char *)a.v[i].data, "event=peer_never_heard peer=198.18.0.2 "
						      "after=5000ms refused=1 reason=own_node_id");
	assert_true(told);
	cluster_actions_free(&a);

	cluster_free(me);
	cluster_free(twin);
	cluster_free(stranger);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bad_auth_once_then_held_back),
	    cmocka_unit_test(duplicate_node_is_an_error_naming_both),
	    cmocka_unit_test(other_reasons_counted_not_logged),
	    cmocka_unit_test(table_bounded_oldest_evicted),
	    cmocka_unit_test(lines_over_all_sources_bounded),
	    cmocka_unit_test(peers_never_heard),
	    cmocka_unit_test(cluster_tells_own_from_duplicate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
