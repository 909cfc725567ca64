/*
 * The failover service against a fake host (no root, no daemon): the
 * takeover barrier runs before the address is taken, and in table order
 * (the connections first); a node that hears a better master takes
 * nothing; a graceful stop keeps pushing its state until its deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/cluster.h"
#include "core/takeover.h"
#include "core/vip.h"
#include "host_fake.h"

#define CONF                                                                                       \
	"[Interface lan]\nDevice=lan0\n"                                                           \
	"[Cluster]\nNodeID=1\nInterface=lan0\nGroup=239.192.74.10\nKeyFile=/nonexistent\n"         \
	"HeartbeatInterval=20ms\nDeadInterval=3\n"                                                 \
	"[VIP v1]\nAddress=198.18.0.100/24\nInterface=lan\nPriority=100\n"                         \
	"AnnounceCount=3\nAnnounceInterval=10ms\n"

/* A service standing for connection sync: it records when the barrier reaches it. */
static void *rec_start(struct host *h, const struct config *cfg, char *err, size_t len)
{
	(void)cfg;
	(void)err;
	(void)len;
	return h;
}

static void rec_free(void *self)
{
	(void)self;
}

static int rec_prepare(void *self, const struct takeover_scope *sc)
{
	fake_record(self, "commit %s", sc->group);
	return 0;
}

static const struct svc_ops svc_recorder = {
    .name = "recorder", .start = rec_start, .free = rec_free, .prepare_takeover = rec_prepare};

static const struct svc_ops *const table[] = {&svc_recorder, &svc_failover};

static int setup(void **state)
{
	static struct host h;
	if (fake_host_init(&h, CONF) < 0 || fake_host_start(&h, table, 2) < 0)
		return -1;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	fake_host_free(*state);
	return 0;
}

/* Tick every ms until a record starts with prefix (or ms run out); its index. */
static int run_until(struct host *h, const char *prefix, uint64_t ms)
{
	uint64_t end = h->now + ms;
	int i;
	while ((i = fake_find(h, prefix)) < 0 && h->now < end)
		fake_host_tick(h, h->now + 1);
	return i;
}

static void test_barrier_before_address(void **state)
{
	struct host *h = *state;
	int addr = run_until(h, "addr_lease 198.18.0.100/24", 2000);
	assert_true(addr >= 0);
	int barrier = fake_find(h, "barrier v1");
	int commit = fake_find(h, "commit v1");
	assert_true(barrier >= 0);
	assert_true(commit > barrier); /* the service before failover in the table */
	assert_true(addr > commit);    /* the connections before the address */
	assert_true(h->frames > 0);    /* and the announcements after it */
}

static void test_announce_schedule(void **state)
{
	struct host *h = *state;
	assert_true(run_until(h, "addr_lease", 2000) >= 0);
	uint64_t f0 = h->frames;
	/* AnnounceCount=3, 10 ms apart: two more rounds, then none until a refresh */
	for (int i = 0; i < 100; i++)
		fake_host_tick(h, h->now + 1);
	uint64_t per_round = f0; /* garp request + reply, no neighbours known */
	assert_int_equal(h->frames, f0 + 2 * per_round);
}

/* Node 2 (a core of its own) and us, exchanging heartbeat states every 20 ms. */
static struct vip *peer_new(struct host *h, uint8_t priority)
{
	struct vip_group_conf g = {.priority = priority, .preempt = true};
	snprintf(g.name, sizeof(g.name), "v1");
	struct vip_params p = {.self_id = 2, .interval_ms = 20};
	return vip_new(&p, &g, 1, h->now);
}

static void exchange(struct host *h, struct vip *other, int i)
{
	struct vip_out o;
	uint8_t buf[WIRE_STATE_MAX];
	vip_tick(other, h->now, &o);
	if (i % 20 == 0) {
		size_t len = vip_advert(other, buf, sizeof(buf));
		fake_host_event(h, &(struct dev_ev){.type = DEV_STATE,
						    .chan = CLUSTER_CHAN_VIP,
						    .node = 2,
						    .data = buf,
						    .len = len});
		if (h->state_len)
			vip_on_advert(other, 1, h->state, h->state_len, h->now, &o);
	}
}

static enum vip_state peer_state(struct host *h, struct vip *other)
{
	struct vip_group_view gv;
	vip_group(other, 0, h->now, &gv);
	return gv.state;
}

static void test_better_master_takes_nothing(void **state)
{
	struct host *h = *state;
	struct vip *other = peer_new(h, 200);
	assert_non_null(other);
	for (int i = 0; i < 2000; i++) {
		exchange(h, other, i);
		fake_host_tick(h, h->now + 1);
	}
	assert_int_equal(peer_state(h, other), VIP_MASTER);
	assert_int_equal(fake_find(h, "barrier"), -1);
	assert_int_equal(fake_find(h, "addr_lease"), -1);
	vip_free(other);
}

static void test_stop_hands_over(void **state)
{
	struct host *h = *state;
	struct vip *other = peer_new(h, 50);
	int i = 0;
	for (; fake_find(h, "addr_lease") < 0 && i < 2000; i++) {
		exchange(h, other, i);
		fake_host_tick(h, h->now + 1);
	}
	for (int k = 0; k < 100; k++, i++) { /* node 2 settles as backup */
		exchange(h, other, i);
		fake_host_tick(h, h->now + 1);
	}
	assert_int_equal(peer_state(h, other), VIP_BACKUP);
	size_t before = h->n_rec;
	assert_true(fake_host_stop(h, true)); /* it holds v1: a hand-over starts */
	uint64_t t0 = h->now;
	bool busy = true;
	for (; busy && h->now < t0 + 1000; i++) {
		exchange(h, other, i);
		fake_host_tick(h, h->now + 1);
		busy = fake_host_stop(h, false);
	}
	/* done when node 2 took over and the drain is over: no gap */
	assert_false(busy);
	assert_int_equal(peer_state(h, other), VIP_MASTER);
	assert_true(h->now - t0 < 100 + TAKEOVER_DRAIN_MS);
	assert_true(h->now - t0 >= TAKEOVER_DRAIN_MS);
	/* from the stop on, the engine was told not to answer for v1 */
	bool quiet = false;
	for (size_t r = before; r < h->n_rec; r++)
		quiet |= strncmp(h->rec[r], "quiet ", 6) == 0 && strstr(h->rec[r], " 1") != NULL;
	assert_true(quiet);
	size_t pushes = 0;
	for (size_t r = before; r < h->n_rec; r++)
		pushes += strncmp(h->rec[r], "push V", 6) == 0;
	assert_true(pushes >= 1);
	vip_free(other);
}

static void test_stop_alone_ends_at_once(void **state)
{
	struct host *h = *state;
	assert_true(run_until(h, "addr_lease", 2000) >= 0);
	/* nobody to hand over to: the hand-over is done at the first check */
	assert_true(fake_host_stop(h, true));
	fake_host_tick(h, h->now + 1);
	assert_false(fake_host_stop(h, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_barrier_before_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_announce_schedule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_better_master_takes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_hands_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_alone_ends_at_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
