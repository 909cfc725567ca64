/*
 * core/takeover: the schedules (announcements, refresh, lease renewals,
 * reassert, give), the NotifyScript queue, the stop hand-over, and the
 * rule that takeover_next_deadline is the earliest thing pending. One node
 * alone (it claims its groups after core/vip's three quiet intervals) and
 * other nodes' adverts written by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/takeover.h"

#define IVL  100       /* HeartbeatInterval */
#define T_UP (3 * IVL) /* when a lone node claims its groups (core/vip) */
#define SELF 5
#define ALL  (ANN_GARP | ANN_TARGETED | ANN_FLUSH)

/* ---- setting up ---- */

static struct conf_vip vipc(const char *name, const char *group, uint32_t addr, uint32_t count,
			    uint32_t ivl, uint32_t refresh, bool script)
{
	struct conf_vip c;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.group, sizeof(c.group), "%s", group);
	snprintf(c.iface, sizeof(c.iface), "lan");
	c.addr = (struct ip4_prefix){.addr = addr, .len = 24};
	c.priority = 100;
	c.preempt = true;
	c.announce = ALL;
	c.announce_count = count;
	c.announce_interval_ms = ivl;
	c.refresh_interval_ms = refresh;
	if (script)
		snprintf(c.notify, sizeof(c.notify), "/usr/local/sbin/notify");
	c.line = 10;
	return c;
}

#define A1 0xc6120064u /* 198.18.0.100 */
#define A2 0xc6120065u /* 198.18.0.101 */
#define A3 0xc6120066u /* 198.18.0.102 */

struct fx {
	struct takeover *t;
	struct takeover_actions a;
	uint64_t now;
};

static void fx_new(struct fx *f, const struct conf_vip *v, size_t n, bool flush)
{
	struct takeover_params p = {.self_id = SELF, .interval_ms = IVL, .flush = flush};
	memset(f, 0, sizeof(*f));
	takeover_actions_init(&f->a);
	f->t = takeover_new(&p, v, n, 0, NULL, 0);
	assert_non_null(f->t);
}

static void fx_free(struct fx *f)
{
	takeover_free(f->t);
	takeover_actions_free(&f->a);
}

/* ---- reading actions ---- */

static const char *round_name(uint8_t r)
{
	static const char *const n[] = {"T", "R", "F", "A"};
	return r < 4 ? n[r] : "?";
}

/* The event name of a log line: "vip_master" of "event=vip_master vip=...". */
static void log_event(const char *text, char *out, size_t cap)
{
	const char *p = strncmp(text, "event=", 6) == 0 ? text + 6 : text;
	size_t n = strcspn(p, " ");
	if (strncmp(p, "handover", 8) == 0) {
		const char *a = strstr(p, "action=");
		n = a ? (size_t)(a - p) + strcspn(a, " ") : n;
	}
	snprintf(out, cap, "%.*s", (int)n, p);
}

/* The actions as one line of words, to compare with what a test expects. */
static const char *trace(const struct takeover_actions *a)
{
	static char buf[8192];
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < a->n; i++) {
		const struct takeover_action *x = &a->v[i];
		char w[200], ev[120];
		switch (x->type) {
		case TK_STATE:
			snprintf(w, sizeof(w), "state(g%u:%s)", x->group, vip_state_name(x->state));
			break;
		case TK_PREPARE:
			snprintf(w, sizeof(w), "prepare(%llx)", (unsigned long long)x->groups);
			break;
		case TK_TAKE:
			snprintf(w, sizeof(w), "take(%u)", x->vip);
			break;
		case TK_GIVE:
			snprintf(w, sizeof(w), "give(%u)", x->vip);
			break;
		case TK_ANNOUNCE:
			snprintf(w, sizeof(w), "ann(%u,%s,%u)", x->vip, round_name(x->round),
				 x->methods);
			break;
		case TK_RENEW:
			snprintf(w, sizeof(w), "renew(%u)", x->vip);
			break;
		case TK_NOTIFY_RUN:
			snprintf(w, sizeof(w), "run(%u,%s,%u)", x->vip, vip_state_name(x->state),
				 x->priority);
			break;
		case TK_NOTIFY_KILL:
			snprintf(w, sizeof(w), "kill(g%u,%u,%s)", x->group, x->vip,
				 vip_state_name(x->state));
			break;
		case TK_ADVERT:
			snprintf(w, sizeof(w), "%s", x->push ? "push" : "advert");
			break;
		case TK_LOG:
			log_event(x->text, ev, sizeof(ev));
			snprintf(w, sizeof(w), "log(%s)", ev);
			break;
		default:
			snprintf(w, sizeof(w), "?%u", x->type);
			break;
		}
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", off ? " " : "", w);
	}
	return buf;
}

/* The text of the i-th TK_LOG. */
static const char *log_text(const struct takeover_actions *a, size_t i)
{
	for (size_t k = 0; k < a->n; k++)
		if (a->v[k].type == TK_LOG && i-- == 0)
			return a->v[k].text;
	return "(none)";
}

static void tick(struct fx *f, uint64_t now)
{
	takeover_actions_reset(&f->a);
	f->now = now;
	takeover_tick(f->t, now, &f->a);
}

/* Tick at the next deadline; returns it. */
static uint64_t step(struct fx *f)
{
	uint64_t d = takeover_next_deadline(f->t);
	assert_true(d != UINT64_MAX);
	tick(f, d);
	return d;
}

/* Another node's advert for one group. */
static size_t advert_of(uint8_t *buf, const char *group, uint8_t prio, uint8_t state, bool stopping)
{
	size_t nl = strlen(group);
	memset(buf, 0, 7);
	buf[0] = 1;
	buf[1] = stopping ? 1 : 0;
	buf[6] = 1;
	buf[7] = (uint8_t)nl;
	memcpy(buf + 8, group, nl);
	buf[8 + nl] = prio;
	buf[9 + nl] = state;
	return 10 + nl;
}

static void hear(struct fx *f, uint32_t node, const char *group, uint8_t prio, uint8_t state,
		 uint64_t now)
{
	uint8_t buf[64];
	size_t len = advert_of(buf, group, prio, state, false);
	takeover_actions_reset(&f->a);
	f->now = now;
	assert_int_equal(takeover_on_advert(f->t, node, buf, len, now, &f->a), 0);
}

static void up(struct fx *f)
{
	tick(f, T_UP);
}

/* ---- the schedules ---- */

static void test_takeover_round_and_repeats(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 3, 100, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	assert_int_equal(takeover_next_deadline(f.t), T_UP);
	tick(&f, T_UP - 1);
	assert_string_equal(trace(&f.a), "advert");
	up(&f);
	assert_string_equal(trace(&f.a),
			    "prepare(1) state(g0:backup) log(vip_backup) state(g0:master) take(0) "
			    "ann(0,T,13) log(vip_master) push");
	assert_string_equal(log_text(&f.a, 0), "event=vip_backup vip=web address=198.18.0.100/24 "
					       "group=fw priority=100 owner=0 previous=init");
	assert_string_equal(log_text(&f.a, 1), "event=vip_master vip=web address=198.18.0.100/24 "
					       "group=fw priority=100 owner=5 previous=backup");
	/* AnnounceCount 3: two more, 100 ms apart; then the lease every 500 ms */
	assert_int_equal(step(&f), 400);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(step(&f), 500);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(step(&f), 800);
	assert_string_equal(trace(&f.a), "renew(0)");
	assert_int_equal(step(&f), 1300);
	assert_string_equal(trace(&f.a), "renew(0)");
	assert_int_equal(takeover_next_deadline(f.t), 1800);

	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_true(vv.holding);
	assert_int_equal(vv.methods, ALL);
	assert_int_equal(vv.rounds, 3);
	assert_int_equal(vv.takeovers, 1);
	assert_int_equal(vv.announce_left, 0);
	fx_free(&f);
}

/* A late tick: the next round is AnnounceInterval after the tick that sent the last. */
static void test_late_tick(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 4, 100, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, false);
	up(&f);
	/* without [Flush], no flush requests even in the first round */
	assert_string_equal(trace(&f.a),
			    "prepare(1) state(g0:backup) log(vip_backup) state(g0:master) take(0) "
			    "ann(0,T,5) log(vip_master) push");
	tick(&f, 399);
	assert_string_equal(trace(&f.a), "");
	tick(&f, 450);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(takeover_next_deadline(f.t), 550);
	tick(&f, 560);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(takeover_next_deadline(f.t), 660);
	/* one round per tick, however late */
	tick(&f, 2000);
	assert_string_equal(trace(&f.a), "ann(0,R,5) renew(0)");
	assert_int_equal(takeover_next_deadline(f.t), 2500);
	fx_free(&f);
}

static void test_counts(void **state)
{
	(void)state;
	/* AnnounceCount 1: the takeover's round alone; 0: the same (as arphad did) */
	for (uint32_t count = 0; count <= 1; count++) {
		struct conf_vip v = vipc("web", "fw", A1, count, 100, 0, false);
		struct fx f;
		fx_new(&f, &v, 1, true);
		up(&f);
		assert_int_equal(takeover_next_deadline(f.t), T_UP + TAKEOVER_LEASE_RENEW_MS);
		step(&f);
		assert_string_equal(trace(&f.a), "renew(0)");
		fx_free(&f);
	}
	/* AnnounceCount 6, AnnounceInterval 30: rounds at +30..+150 exactly */
	struct conf_vip v = vipc("web", "fw", A1, 6, 30, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(step(&f), T_UP + 30 * i);
		assert_string_equal(trace(&f.a), "ann(0,R,5)");
	}
	assert_int_equal(takeover_next_deadline(f.t), T_UP + 500);
	fx_free(&f);
}

static void test_refresh(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 2, 100, 250, false);
	v.announce = ANN_GARP;
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	assert_string_equal(trace(&f.a),
			    "prepare(1) state(g0:backup) log(vip_backup) state(g0:master) take(0) "
			    "ann(0,T,1) log(vip_master) push");
	static const struct {
		uint64_t at;
		const char *what;
	} want[] = {
	    {400, "ann(0,R,1)"},	   {550, "ann(0,F,1)"},
	    {800, "ann(0,F,1) renew(0)"},  {1050, "ann(0,F,1)"},
	    {1300, "ann(0,F,1) renew(0)"}, {1550, "ann(0,F,1)"},
	    {1800, "ann(0,F,1) renew(0)"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(step(&f), want[i].at);
		assert_string_equal(trace(&f.a), want[i].what);
	}
	fx_free(&f);
}

/* A repeat and a refresh due at the same tick: two rounds. */
static void test_repeat_and_refresh_together(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 3, 100, 200, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	assert_int_equal(step(&f), 400);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(step(&f), 500);
	assert_string_equal(trace(&f.a), "ann(0,R,5) ann(0,F,5)");
	assert_int_equal(step(&f), 700);
	assert_string_equal(trace(&f.a), "ann(0,F,5)");
	fx_free(&f);
}

static void test_reassert(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("web", "fw", A1, 3, 100, 0, false),
				vipc("mail", "fw", A2, 3, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	assert_string_equal(
	    trace(&f.a),
	    "prepare(1) state(g0:backup) log(vip_backup) log(vip_backup) state(g0:master) take(0) "
	    "ann(0,T,13) log(vip_master) take(1) ann(1,T,13) log(vip_master) push");
	/* node 2, of lower rank, claims too: one extra round each, no flush; pushed */
	hear(&f, 2, "fw", 50, VIP_MASTER, 350);
	assert_string_equal(trace(&f.a), "log(vip_reassert) ann(0,A,5) log(vip_reassert) "
					 "ann(1,A,5) push");
	assert_string_equal(log_text(&f.a, 0),
			    "event=vip_reassert vip=web address=198.18.0.100 "
			    "action=announce msg=\"another node claimed it too\"");
	/* the schedule goes on as it was */
	assert_int_equal(step(&f), 400);
	assert_string_equal(trace(&f.a), "ann(0,R,5) ann(1,R,5)");
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 1, &vv), 0);
	assert_int_equal(vv.rounds, 3);
	assert_int_equal(vv.announce_left, 1);
	fx_free(&f);
}

static void test_give_stops_everything(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 5, 100, 300, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	assert_int_equal(step(&f), 400);
	/* node 9 with a higher priority claims: ours goes back at once */
	hear(&f, 9, "fw", 200, VIP_MASTER, 420);
	assert_string_equal(trace(&f.a), "state(g0:backup) give(0) log(vip_backup) push");
	assert_int_equal(f.a.v[0].type, TK_STATE);
	assert_int_equal(f.a.v[0].prev, VIP_MASTER);
	assert_int_equal(f.a.v[0].owner, 9);
	assert_string_equal(log_text(&f.a, 0), "event=vip_backup vip=web address=198.18.0.100/24 "
					       "group=fw priority=100 owner=9 previous=master");
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_false(vv.holding);
	assert_int_equal(vv.announce_left, 0);
	assert_int_equal(vv.refresh_next, 0);
	/* no rounds, no renewals: what is left is core/vip's (watching node 9) */
	const struct vip *core = takeover_vip_core(f.t);
	assert_int_equal(takeover_next_deadline(f.t), vip_next_deadline(core));
	for (uint64_t t = 421; t < 3000; t += 7) {
		hear(&f, 9, "fw", 200, VIP_MASTER, t);
		tick(&f, t);
		assert_string_equal(trace(&f.a), "");
	}
	/* node 9 stops: ours again, a new takeover with its full schedule */
	uint8_t buf[64];
	size_t len = advert_of(buf, "fw", 200, VIP_MASTER, true);
	takeover_actions_reset(&f.a);
	assert_int_equal(takeover_on_advert(f.t, 9, buf, len, 3000, &f.a), 0);
	assert_string_equal(trace(&f.a),
			    "prepare(1) state(g0:master) take(0) ann(0,T,13) log(vip_master) push");
	assert_int_equal(takeover_next_deadline(f.t), 3100);
	fx_free(&f);
}

/* Two groups: each taken and given on its own; one PREPARE per list. */
static void test_groups(void **state)
{
	(void)state;
	struct conf_vip v[3] = {vipc("a", "g1", A1, 2, 100, 0, false),
				vipc("b", "g2", A2, 2, 50, 0, false),
				vipc("c", "g1", A3, 2, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 3, true);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 2, &vv), 0);
	assert_int_equal(vv.group, 0);
	assert_int_equal(takeover_vip(f.t, 1, &vv), 0);
	assert_int_equal(vv.group, 1);
	assert_int_equal(takeover_vips(f.t), 3);
	assert_int_equal(takeover_vip(f.t, 3, &vv), -1);
	up(&f);
	assert_string_equal(
	    trace(&f.a),
	    "prepare(3) state(g0:backup) log(vip_backup) log(vip_backup) state(g0:master) take(0) "
	    "ann(0,T,13) log(vip_master) take(2) ann(2,T,13) log(vip_master) state(g1:backup) "
	    "log(vip_backup) state(g1:master) take(1) ann(1,T,13) log(vip_master) push");
	assert_int_equal(step(&f), 350);
	assert_string_equal(trace(&f.a), "ann(1,R,5)");
	assert_int_equal(step(&f), 400);
	assert_string_equal(trace(&f.a), "ann(0,R,5) ann(2,R,5)");
	/* g2 faults: only b goes back */
	takeover_actions_reset(&f.a);
	takeover_set_fault(f.t, 1, true, 410, &f.a);
	assert_string_equal(trace(&f.a), "state(g1:fault) give(1) log(vip_fault) push");
	assert_int_equal(step(&f), 800);
	assert_string_equal(trace(&f.a), "renew(0) renew(2)");
	fx_free(&f);
}

static void test_take_failed(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("web", "fw", A1, 3, 100, 0, false),
				vipc("mail", "fw", A2, 3, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	takeover_take_failed(f.t, 1);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 1, &vv), 0);
	assert_false(vv.holding);
	assert_int_equal(step(&f), 400);
	assert_string_equal(trace(&f.a), "ann(0,R,5)");
	assert_int_equal(step(&f), 500);
	assert_int_equal(step(&f), 800);
	assert_string_equal(trace(&f.a), "renew(0)");
	/* leaving gives back only what was taken */
	hear(&f, 9, "fw", 200, VIP_MASTER, 900);
	assert_string_equal(trace(&f.a),
			    "state(g0:backup) give(0) log(vip_backup) log(vip_backup) push");
	fx_free(&f);
}

/* Nothing changes: no actions, our advert not handed on again. */
static void test_quiet(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	tick(&f, 301);
	assert_string_equal(trace(&f.a), "");
	takeover_actions_reset(&f.a);
	takeover_set_link(f.t, true, 302, &f.a);
	assert_string_equal(trace(&f.a), "");
	/* a garbled advert: -1, nothing */
	takeover_actions_reset(&f.a);
	assert_int_equal(takeover_on_advert(f.t, 3, (const uint8_t *)"x", 1, 303, &f.a), -1);
	assert_string_equal(trace(&f.a), "");
	/* the link goes down: core/vip stops declaring anyone dead; nothing to do here */
	takeover_actions_reset(&f.a);
	takeover_set_link(f.t, false, 304, &f.a);
	assert_string_equal(trace(&f.a), "");
	uint8_t a[256], b[256];
	size_t la = takeover_advert(f.t, a, sizeof(a));
	size_t lb = vip_advert(takeover_vip_core(f.t), b, sizeof(b));
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(takeover_advert(f.t, a, 3), 0);
	fx_free(&f);
}

/* ---- the NotifyScript ---- */

static void done(struct fx *f, size_t g, enum takeover_script_result r, uint64_t now)
{
	takeover_actions_reset(&f->a);
	f->now = now;
	assert_int_equal(takeover_script_done(f->t, g, r, now, &f->a), 0);
}

static void test_notify_order(void **state)
{
	(void)state;
	struct conf_vip v[3] = {vipc("web", "fw", A1, 1, 100, 0, true),
				vipc("mail", "fw", A2, 1, 100, 0, false),
				vipc("dns", "fw", A3, 1, 100, 0, true)};
	struct fx f;
	fx_new(&f, v, 3, true);
	up(&f);
	/* backup then master, for web and dns (mail has no script): one runs */
	assert_string_equal(
	    trace(&f.a),
	    "prepare(1) state(g0:backup) log(vip_backup) run(0,backup,100) log(vip_backup) "
	    "log(vip_backup) state(g0:master) take(0) ann(0,T,13) log(vip_master) take(1) "
	    "ann(1,T,13) log(vip_master) take(2) ann(2,T,13) log(vip_master) push");
	struct takeover_notify_view nv;
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_true(nv.running);
	assert_false(nv.killed);
	assert_int_equal(nv.vip, 0);
	assert_int_equal(nv.state, VIP_BACKUP);
	assert_int_equal(nv.waiting, 3);
	assert_int_equal(nv.deadline, T_UP + TAKEOVER_NOTIFY_TIMEOUT_MS);
	assert_int_equal(takeover_notify(f.t, 1, &nv), -1);
	done(&f, 0, TK_SCRIPT_OK, 310);
	assert_string_equal(trace(&f.a), "run(2,backup,100)");
	done(&f, 0, TK_SCRIPT_FAILED, 320);
	assert_string_equal(trace(&f.a), "run(0,master,100)");
	done(&f, 0, TK_SCRIPT_OK, 330);
	assert_string_equal(trace(&f.a), "run(2,master,100)");
	done(&f, 0, TK_SCRIPT_OK, 340);
	assert_string_equal(trace(&f.a), "");
	/* none runs now */
	takeover_actions_reset(&f.a);
	assert_int_equal(takeover_script_done(f.t, 0, TK_SCRIPT_OK, 350, &f.a), -1);
	assert_int_equal(takeover_script_done(f.t, 7, TK_SCRIPT_OK, 350, &f.a), -1);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_int_equal(vv.notify_runs, 2);
	assert_int_equal(vv.notify_failed, 0);
	assert_int_equal(vv.notify_dropped, 0);
	assert_int_equal(takeover_vip(f.t, 2, &vv), 0);
	assert_int_equal(vv.notify_runs, 2);
	assert_int_equal(vv.notify_failed, 1);
	assert_int_equal(takeover_vip(f.t, 1, &vv), 0);
	assert_int_equal(vv.notify_runs, 0);
	fx_free(&f);
}

/* Groups run their notifications independently. */
static void test_notify_per_group(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("a", "g1", A1, 1, 100, 0, true),
				vipc("b", "g2", A2, 1, 100, 0, true)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	assert_string_equal(
	    trace(&f.a),
	    "prepare(3) state(g0:backup) log(vip_backup) run(0,backup,100) state(g0:master) "
	    "take(0) ann(0,T,13) log(vip_master) state(g1:backup) log(vip_backup) "
	    "run(1,backup,100) state(g1:master) take(1) ann(1,T,13) log(vip_master) push");
	done(&f, 1, TK_SCRIPT_OK, 301);
	assert_string_equal(trace(&f.a), "run(1,master,100)");
	done(&f, 0, TK_SCRIPT_OK, 302);
	assert_string_equal(trace(&f.a), "run(0,master,100)");
	fx_free(&f);
}

/* Fault on, fault off: three state changes (fault, backup, master). */
static void flap(struct fx *f, uint64_t now)
{
	takeover_actions_reset(&f->a);
	takeover_set_fault(f->t, 0, true, now, &f->a);
	takeover_set_fault(f->t, 0, false, now, &f->a);
}

static void test_notify_overflow(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, true);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f); /* backup runs; master waits */
	/*
	 * 6 flaps (18 changes), then a fault: 20 for 16 places. The 4 oldest
	 * waiting go, each when a new one finds the queue full: the master of
	 * up(), then the fault, backup, master of the first flap.
	 */
	static const char *const cycle[] = {"fault", "backup", "master"};
	char drops[8][ACTION_LOG_MAX];
	size_t nd = 0;
	for (int i = 0; i < 7; i++) {
		if (i < 6) {
			flap(&f, 400 + (uint64_t)i);
		} else {
			takeover_actions_reset(&f.a);
			takeover_set_fault(f.t, 0, true, 410, &f.a);
		}
		for (size_t k = 0; k < f.a.n; k++)
			if (f.a.v[k].type == TK_LOG && strstr(f.a.v[k].text, "notify_dropped")) {
				assert_true(nd < 8);
				snprintf(drops[nd++], sizeof(drops[0]), "%s", f.a.v[k].text);
			}
	}
	assert_int_equal(nd, 4);
	static const char *const dropped[] = {"master", "fault", "backup", "master"};
	for (size_t i = 0; i < nd; i++) {
		char want[ACTION_LOG_MAX];
		snprintf(want, sizeof(want),
			 "event=notify_dropped vip=web group=fw state=%s reason=queue_full "
			 "waiting=16 dropped=%zu",
			 dropped[i], i + 1);
		assert_string_equal(drops[i], want);
	}
	struct takeover_notify_view nv;
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_int_equal(nv.waiting, TAKEOVER_NOTIFY_QUEUE);
	/* the newest 16, in order: five flaps, then the last fault */
	for (int i = 0; i < TAKEOVER_NOTIFY_QUEUE; i++) {
		done(&f, 0, TK_SCRIPT_OK, 500 + (uint64_t)i);
		char want[64];
		snprintf(want, sizeof(want), "run(0,%s,%u)", cycle[i % 3], i % 3 == 0 ? 0u : 100u);
		assert_string_equal(trace(&f.a), want);
	}
	done(&f, 0, TK_SCRIPT_OK, 600);
	assert_string_equal(trace(&f.a), "");
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_int_equal(vv.notify_dropped, 4);
	assert_int_equal(vv.notify_runs, 17);
	fx_free(&f);
}

static void test_notify_timeout(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, true);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	done(&f, 0, TK_SCRIPT_OK, 305); /* master starts at 305 */
	assert_string_equal(trace(&f.a), "run(0,master,100)");
	uint64_t kill_at = 305 + TAKEOVER_NOTIFY_TIMEOUT_MS;
	/* the renewals come first; the deadline is among the pending things */
	uint64_t t;
	while ((t = step(&f)) < kill_at)
		assert_string_equal(trace(&f.a), "renew(0)");
	assert_int_equal(t, kill_at);
	assert_string_equal(trace(&f.a), "kill(g0,0,master)");
	/* once */
	struct takeover_notify_view nv;
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_true(nv.running);
	assert_true(nv.killed);
	assert_int_equal(takeover_next_deadline(f.t), 300 + 500 * 21);
	tick(&f, kill_at + 1);
	assert_string_equal(trace(&f.a), "");
	/* meanwhile a change waits; the end of the killed one starts it */
	flap(&f, kill_at + 2);
	assert_string_equal(
	    trace(&f.a),
	    "state(g0:fault) give(0) log(vip_fault) push prepare(1) state(g0:backup) "
	    "log(vip_backup) state(g0:master) take(0) ann(0,T,13) log(vip_master) push");
	done(&f, 0, TK_SCRIPT_FAILED, kill_at + 3);
	assert_string_equal(trace(&f.a), "run(0,fault,0)");
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_false(nv.killed);
	assert_int_equal(nv.deadline, kill_at + 3 + TAKEOVER_NOTIFY_TIMEOUT_MS);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_int_equal(vv.notify_failed, 1);
	fx_free(&f);
}

/* A start that fails is counted and lets the next one start, in the same list. */
static void test_notify_start_failed(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("web", "fw", A1, 1, 100, 0, true),
				vipc("dns", "fw", A2, 1, 100, 0, true)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	/* the shell carries out the list; every start fails */
	size_t starts = 0;
	for (size_t i = 0; i < f.a.n; i++) {
		if (f.a.v[i].type != TK_NOTIFY_RUN)
			continue;
		starts++;
		assert_int_equal(
		    takeover_script_done(f.t, f.a.v[i].group, TK_SCRIPT_NOT_STARTED, T_UP, &f.a),
		    0);
	}
	assert_int_equal(starts, 4);
	struct takeover_notify_view nv;
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_false(nv.running);
	assert_int_equal(nv.waiting, 0);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_int_equal(vv.notify_runs, 0);
	assert_int_equal(vv.notify_failed, 2);
	assert_int_equal(takeover_next_deadline(f.t), 300 + 500);
	fx_free(&f);
}

/* ---- the stop hand-over ---- */

static void test_stop_nothing_held(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, true);
	struct fx f;
	fx_new(&f, &v, 1, true);
	tick(&f, 100);
	takeover_actions_reset(&f.a);
	assert_false(takeover_stop(f.t, 150, &f.a));
	assert_string_equal(trace(&f.a), "push");
	assert_false(takeover_handing_over(f.t));
	takeover_actions_reset(&f.a);
	assert_false(takeover_stop(f.t, 151, &f.a));
	assert_string_equal(trace(&f.a), "");
	assert_true(takeover_stopped(f.t, 152, &f.a));
	assert_string_equal(trace(&f.a), "");
	takeover_release(f.t, &f.a);
	assert_string_equal(trace(&f.a), "");
	/* we said we are stopping */
	uint8_t a[256];
	size_t len = takeover_advert(f.t, a, sizeof(a));
	assert_true(len > 7);
	assert_int_equal(a[1] & 1, 1);
	fx_free(&f);
}

/* Master with a live backup (node 3) that never takes over: the deadline. */
static void test_stop_timeout(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, true);
	struct fx f;
	fx_new(&f, &v, 1, true);
	hear(&f, 3, "fw", 50, VIP_BACKUP, 250);
	up(&f);
	hear(&f, 3, "fw", 50, VIP_BACKUP, 400);
	takeover_actions_reset(&f.a);
	assert_true(takeover_stop(f.t, 410, &f.a));
	assert_string_equal(trace(&f.a), "push log(handover action=start)");
	assert_string_equal(log_text(&f.a, 0), "event=handover action=start msg=\"handing the VIPs "
					       "over before stopping\"");
	assert_true(takeover_handing_over(f.t));
	assert_int_equal(takeover_next_deadline(f.t), 412);
	/* pushes at +2, then every 5 ms, until the deadline at +3 intervals */
	uint64_t want = 412;
	for (;;) {
		uint64_t t = step(&f);
		takeover_actions_reset(&f.a);
		bool over = takeover_stopped(f.t, t, &f.a);
		if (t == 410 + 3 * IVL) {
			assert_true(over);
			assert_string_equal(log_text(&f.a, 0),
					    "event=handover action=timeout msg=\"nobody took the "
					    "VIPs over in time; "
					    "stopping anyway\"");
			break;
		}
		assert_false(over);
		assert_string_equal(trace(&f.a), "");
		assert_int_equal(t, want);
		want += TAKEOVER_PUSH_EVERY_MS;
		if (t < 710)
			assert_int_equal(takeover_next_deadline(f.t), t + 5 < 710 ? t + 5 : 710);
		/* node 3 stays live, a backup */
		if (t % 100 == 2)
			hear(&f, 3, "fw", 50, VIP_BACKUP, t);
	}
	assert_false(takeover_handing_over(f.t));
	/* the address is still ours until released */
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_true(vv.holding);
	takeover_actions_reset(&f.a);
	takeover_release(f.t, &f.a);
	assert_string_equal(trace(&f.a), "give(0) log(notify_dropped)");
	assert_string_equal(log_text(&f.a, 0),
			    "event=notify_dropped vip=web group=fw state=master reason=stopping");
	assert_true(takeover_stopped(f.t, 800, &f.a));
	fx_free(&f);
}

/* The push cadence while handing over, with the renewals in between. */
static void test_stop_pushes(void **state)
{
	(void)state;
	struct conf_vip v = vipc("web", "fw", A1, 1, 100, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	hear(&f, 3, "fw", 50, VIP_BACKUP, 250);
	up(&f);
	for (uint64_t t = 350; t <= 750; t += 100)
		hear(&f, 3, "fw", 50, VIP_BACKUP, t);
	takeover_actions_reset(&f.a);
	assert_true(takeover_stop(f.t, 790, &f.a));
	static const struct {
		uint64_t at;
		const char *what;
	} want[] = {{792, "push"}, {797, "push"}, {800, "renew(0)"}, {802, "push"}, {807, "push"}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(step(&f), want[i].at);
		assert_string_equal(trace(&f.a), want[i].what);
	}
	fx_free(&f);
}

static void test_stop_done(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("web", "g1", A1, 1, 100, 0, false),
				vipc("dns", "g2", A2, 1, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 2, true);
	hear(&f, 3, "g1", 50, VIP_BACKUP, 250);
	up(&f);
	takeover_actions_reset(&f.a);
	assert_true(takeover_stop(f.t, 320, &f.a));
	assert_false(takeover_stopped(f.t, 321, &f.a));
	/* node 3 takes g1; g2 it does not have, and nobody else is live for it */
	hear(&f, 3, "g1", 50, VIP_MASTER, 323);
	assert_string_equal(trace(&f.a), "");
	takeover_actions_reset(&f.a);
	/* handed over: the addresses stay for the drain, then go */
	assert_false(takeover_stopped(f.t, 323, &f.a));
	assert_string_equal(log_text(&f.a, 0), "event=handover action=drain ms=100");
	assert_true(takeover_next_deadline(f.t) <= 323 + TAKEOVER_DRAIN_MS);
	takeover_actions_reset(&f.a);
	assert_false(takeover_stopped(f.t, 323 + TAKEOVER_DRAIN_MS - 1, &f.a));
	assert_true(takeover_stopped(f.t, 323 + TAKEOVER_DRAIN_MS, &f.a));
	assert_string_equal(trace(&f.a), "log(handover action=done)");
	assert_string_equal(log_text(&f.a, 0), "event=handover action=done");
	/* no more pushes */
	assert_true(takeover_next_deadline(f.t) > 423 + TAKEOVER_PUSH_EVERY_MS);
	takeover_actions_reset(&f.a);
	takeover_release(f.t, &f.a);
	assert_string_equal(trace(&f.a), "give(0) give(1)");
	takeover_actions_reset(&f.a);
	takeover_release(f.t, &f.a);
	assert_string_equal(trace(&f.a), "");
	fx_free(&f);
}

/* ---- next_deadline is the earliest thing pending ---- */

static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * The actions of this core's own timers: repeats, refreshes, renewals,
 * kills, and pushes while handing over (core/vip is silent then).
 */
static size_t own_timer_actions(const struct takeover_actions *a, bool handing_over)
{
	size_t k = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct takeover_action *x = &a->v[i];
		k +=
		    (x->type == TK_ANNOUNCE && (x->round == TR_REPEAT || x->round == TR_REFRESH)) ||
		    x->type == TK_RENEW || x->type == TK_NOTIFY_KILL ||
		    (x->type == TK_ADVERT && handing_over);
	}
	return k;
}

/* What is pending, from the views: the earliest. */
static uint64_t earliest_pending(const struct takeover *t)
{
	uint64_t next = vip_next_deadline(takeover_vip_core(t));
	for (size_t k = 0; k < takeover_vips(t); k++) {
		struct takeover_vip_view vv;
		assert_int_equal(takeover_vip(t, k, &vv), 0);
		if (!vv.holding)
			continue;
		if (vv.announce_left && vv.announce_next < next)
			next = vv.announce_next;
		if (vv.refresh_next && vv.refresh_next < next)
			next = vv.refresh_next;
		if (vv.renew_next < next)
			next = vv.renew_next;
	}
	struct takeover_notify_view nv;
	for (size_t g = 0; takeover_notify(t, g, &nv) == 0; g++)
		if (nv.running && !nv.killed && nv.deadline < next)
			next = nv.deadline;
	return next;
}

/*
 * Random inputs at random times (other nodes' adverts, faults, the
 * link, scripts ending, a stop). Before each: the deadline is the
 * earliest of what the views say is pending (and the hand-over's); a tick
 * strictly before it carries out none of this core's timers and leaves
 * the deadline as it was; a tick at it does something, or the deadline
 * moves on.
 *
 * (core/vip's own timers are its matter: it may probe a silent master a
 * little after the time it owed, e.g. when the master's probe time passed
 * while we were master or in fault, since vip_next_deadline leaves out
 * what is not after its last call. So its pushes are not held to it here.)
 */
static void test_deadline_is_earliest(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t r = seed;
		struct conf_vip v[3] = {
		    vipc("a", "g1", A1, 1 + mix(&r) % 4, 10 + mix(&r) % 200,
			 mix(&r) % 2 ? 0 : 100 + mix(&r) % 400, mix(&r) % 2),
		    vipc("b", "g2", A2, 1 + mix(&r) % 4, 10 + mix(&r) % 200, 0, true),
		    vipc("c", "g1", A3, mix(&r) % 3, 10 + mix(&r) % 50, 0, mix(&r) % 2)};
		struct fx f;
		fx_new(&f, v, 3, mix(&r) % 2);
		uint64_t now = 0;
		bool stopped = false;
		for (int i = 0; i < 300; i++) {
			uint64_t d = takeover_next_deadline(f.t);
			if (!takeover_handing_over(f.t))
				assert_int_equal(d, earliest_pending(f.t));
			else
				assert_true(d <= earliest_pending(f.t));
			if (d != UINT64_MAX && d > now + 1) {
				uint64_t before = now + 1 + mix(&r) % (d - now - 1);
				bool ho = takeover_handing_over(f.t);
				tick(&f, before);
				if (own_timer_actions(&f.a, ho))
					print_error("seed %llu step %d: %llu < %llu: %s\n",
						    (unsigned long long)seed, i,
						    (unsigned long long)before,
						    (unsigned long long)d, trace(&f.a));
				assert_int_equal(own_timer_actions(&f.a, ho), 0);
				if (f.a.n == 0)
					assert_int_equal(takeover_next_deadline(f.t), d);
				now = before;
			}
			if (d != UINT64_MAX && mix(&r) % 3) {
				if (d < now)
					d = now;
				tick(&f, d);
				/* the shell asks after each tick while handing over */
				if (takeover_handing_over(f.t) && takeover_stopped(f.t, d, &f.a))
					stopped = true;
				if (f.a.n == 0) {
					if (takeover_next_deadline(f.t) <= d)
						print_error("seed %llu step %d: %llu stays due\n",
							    (unsigned long long)seed, i,
							    (unsigned long long)d);
					assert_true(takeover_next_deadline(f.t) > d);
				}
				now = d;
				continue;
			}
			now += mix(&r) % 50;
			uint8_t buf[64];
			size_t len;
			struct takeover_notify_view nv;
			switch (mix(&r) % 6) {
			case 0:
			case 1:
				len = advert_of(
				    buf, mix(&r) % 2 ? "g1" : "g2", (uint8_t)(1 + mix(&r) % 200),
				    (uint8_t)(mix(&r) % 2 ? VIP_MASTER : VIP_BACKUP), false);
				takeover_actions_reset(&f.a);
				(void)takeover_on_advert(f.t, 2 + (uint32_t)(mix(&r) % 3), buf, len,
							 now, &f.a);
				break;
			case 2:
				takeover_actions_reset(&f.a);
				takeover_set_fault(f.t, mix(&r) % 2, mix(&r) % 2, now, &f.a);
				break;
			case 3:
				for (size_t g = 0; g < 2; g++)
					if (takeover_notify(f.t, g, &nv) == 0 && nv.running)
						done(&f, g,
						     (enum takeover_script_result)(mix(&r) % 3),
						     now);
				break;
			case 4:
				if (!stopped && mix(&r) % 20 == 0) {
					takeover_actions_reset(&f.a);
					(void)takeover_stop(f.t, now, &f.a);
				}
				break;
			default:
				takeover_actions_reset(&f.a);
				takeover_set_link(f.t, mix(&r) % 4 != 0, now, &f.a);
				break;
			}
			assert_int_equal(f.a.dropped, 0);
		}
		fx_free(&f);
	}
}

/* ---- construction ---- */

/* ---- reload ---- */

/* A reload of f to v[0..n-1]: what goes first (gone) and what follows (f->a). */
static void reconf(struct fx *f, const struct conf_vip *v, size_t n, uint64_t now, char *gone_out,
		   size_t cap, int *vmap, int *gmap)
{
	struct takeover_params p = {.self_id = SELF, .interval_ms = IVL, .flush = true};
	struct takeover_actions gone;
	takeover_actions_init(&gone);
	takeover_actions_reset(&f->a);
	f->now = now;
	assert_int_equal(takeover_reconf(f->t, &p, v, n, now, &gone, &f->a, vmap, gmap, NULL, 0),
			 0);
	snprintf(gone_out, cap, "%s", trace(&gone));
	takeover_actions_free(&gone);
}

/*
 * A VIP kept in place keeps its address, schedule and counters (nothing is
 * taken or given again); a removed one gives its address back first, in
 * the old numbering; one added to a group we hold is taken at once; one
 * that changed its address is given back and taken anew.
 */
static void test_reconf_in_place(void **state)
{
	(void)state;
	struct conf_vip v[3] = {vipc("a", "g1", A1, 3, 100, 0, false),
				vipc("b", "g1", A2, 3, 100, 0, false),
				vipc("c", "g2", A3, 3, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 3, true);
	up(&f);
	tick(&f, 2000); /* every round done */
	struct conf_vip w[3] = {vipc("d", "g1", 0xc6120067u, 3, 100, 0, false),
				vipc("a", "g1", A1, 5, 100, 0, false),
				vipc("c", "g2", 0xc6120068u, 3, 100, 0, false)};
	char gone[1024];
	int vmap[3], gmap[VIP_MAX_GROUPS];
	reconf(&f, w, 3, 2010, gone, sizeof(gone), vmap, gmap);
	/* b removed, c moved: both given back (old indices 1 and 2) */
	assert_string_equal(gone, "log(reload) give(1) log(reload) give(2)");
	assert_int_equal(vmap[0], 1);
	assert_int_equal(vmap[1], -1);
	assert_int_equal(vmap[2], -1);
	assert_int_equal(gmap[0], 0);
	assert_int_equal(gmap[1], 1);
	/* d (new, index 0) and c at its new address (index 2) taken; a untouched */
	assert_string_equal(trace(&f.a), "prepare(3) log(reload) take(0) ann(0,T,13) log(reload) "
					 "take(2) ann(2,T,13)");
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 1, &vv), 0);
	assert_true(vv.holding);
	assert_int_equal(vv.takeovers, 1); /* a's counters are its own */
	assert_int_equal(takeover_vips(f.t), 3);
	fx_free(&f);
}

/* A new group listens first; a gone group's addresses go back; the rest stays. */
static void test_reconf_groups(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("a", "g1", A1, 1, 100, 0, false),
				vipc("b", "g2", A2, 1, 100, 0, false)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	struct conf_vip w[2] = {vipc("c", "g3", A3, 1, 100, 0, false),
				vipc("a", "g1", A1, 1, 100, 0, false)};
	char gone[1024];
	int vmap[2], gmap[VIP_MAX_GROUPS];
	reconf(&f, w, 2, 1000, gone, sizeof(gone), vmap, gmap);
	assert_string_equal(gone, "log(reload) give(1)");
	assert_int_equal(gmap[0], 1);
	assert_int_equal(gmap[1], -1);
	/* g3 is new: nothing yet but our advert (it names g3 now) */
	assert_string_equal(trace(&f.a), "push");
	const struct vip *core = takeover_vip_core(f.t);
	struct vip_group_view gv;
	assert_int_equal(vip_group(core, 0, 1000, &gv), 0);
	assert_string_equal(gv.name, "g3");
	assert_int_equal(gv.state, VIP_INIT);
	assert_int_equal(vip_group(core, 1, 1000, &gv), 0);
	assert_int_equal(gv.state, VIP_MASTER);
	/* three intervals later, alone, g3 is ours */
	tick(&f, 1000 + T_UP - 1);
	assert_null(strstr(trace(&f.a), "take(0)"));
	tick(&f, 1000 + T_UP);
	assert_non_null(strstr(trace(&f.a),
			       "prepare(1) state(g0:backup) log(vip_backup) "
			       "state(g0:master) take(0) ann(0,T,13) log(vip_master)"));
	fx_free(&f);
}

/*
 * A lower priority that another node outranks, with its preemption: the
 * group goes (its VIPs given back in the new numbering); a priority that
 * changes nothing moves nothing.
 */
static void test_reconf_priority(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("a", "g1", A1, 1, 100, 0, false),
				vipc("b", "g2", A2, 1, 100, 0, false)};
	v[0].priority = v[1].priority = 200;
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f);
	hear(&f, 9, "g1", 150, VIP_BACKUP, 400);
	struct conf_vip w[2] = {v[0], v[1]};
	w[1].priority = 220; /* nobody else: moves nothing */
	char gone[1024];
	int vmap[2], gmap[VIP_MAX_GROUPS];
	reconf(&f, w, 2, 410, gone, sizeof(gone), vmap, gmap);
	assert_string_equal(gone, "");
	assert_string_equal(trace(&f.a), "push");
	/* g1 lowered under node 9's 150: as master we keep it until 9 preempts */
	w[0].priority = 100;
	reconf(&f, w, 2, 420, gone, sizeof(gone), vmap, gmap);
	assert_string_equal(trace(&f.a), "push");
	hear(&f, 9, "g1", 150, VIP_MASTER, 430);
	assert_string_equal(trace(&f.a), "state(g0:backup) give(0) log(vip_backup) push");
	fx_free(&f);
}

/* A running NotifyScript whose VIP went away keeps running; its end is still taken. */
static void test_reconf_notify(void **state)
{
	(void)state;
	struct conf_vip v[2] = {vipc("a", "g1", A1, 1, 100, 0, true),
				vipc("b", "g1", A2, 1, 100, 0, true)};
	struct fx f;
	fx_new(&f, v, 2, true);
	up(&f); /* a's script runs (backup), b's waits, then master for both */
	struct conf_vip w[1] = {v[1]};
	char gone[1024];
	int vmap[2], gmap[VIP_MAX_GROUPS];
	reconf(&f, w, 1, 400, gone, sizeof(gone), vmap, gmap);
	struct takeover_notify_view nv;
	assert_int_equal(takeover_notify(f.t, 0, &nv), 0);
	assert_true(nv.running);
	assert_int_equal(nv.vip, TAKEOVER_NO_VIP);
	assert_int_equal(nv.waiting, 2); /* b's two: backup, master */
	takeover_actions_reset(&f.a);
	assert_int_equal(takeover_script_done(f.t, 0, TK_SCRIPT_OK, 410, &f.a), 0);
	assert_string_equal(trace(&f.a), "run(0,backup,100)");
	fx_free(&f);
}

/* A reload that cannot be applied changes nothing. */
static void test_reconf_refused(void **state)
{
	(void)state;
	struct conf_vip v = vipc("a", "g1", A1, 1, 100, 0, false);
	struct fx f;
	fx_new(&f, &v, 1, true);
	up(&f);
	struct takeover_params p = {.self_id = SELF + 1, .interval_ms = IVL};
	struct takeover_actions gone;
	takeover_actions_init(&gone);
	int vmap[1], gmap[VIP_MAX_GROUPS];
	char err[128] = "";
	assert_int_equal(
	    takeover_reconf(f.t, &p, &v, 1, 500, &gone, &f.a, vmap, gmap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NodeID"));
	/* 65 groups */
	struct conf_vip many[65];
	for (int i = 0; i < 65; i++) {
		char name[16];
		snprintf(name, sizeof(name), "g%d", i);
		many[i] = vipc(name, name, A1 + (uint32_t)i, 1, 100, 0, false);
		many[i].line = 100 + i;
	}
	p.self_id = SELF;
	err[0] = '\0';
	assert_int_equal(
	    takeover_reconf(f.t, &p, many, 65, 500, &gone, &f.a, vmap, gmap, err, sizeof(err)), -1);
	assert_string_equal(err, "164: more than 64 VIP groups");
	assert_int_equal(gone.n, 0);
	struct takeover_vip_view vv;
	assert_int_equal(takeover_vip(f.t, 0, &vv), 0);
	assert_true(vv.holding);
	assert_int_equal(takeover_vips(f.t), 1);
	takeover_actions_free(&gone);
	fx_free(&f);
}

static void test_new(void **state)
{
	(void)state;
	static struct conf_vip v[VIP_MAX_GROUPS + 1];
	for (size_t i = 0; i < VIP_MAX_GROUPS + 1; i++) {
		char name[16];
		snprintf(name, sizeof(name), "g%zu", i);
		v[i] = vipc(name, name, A1 + (uint32_t)i, 1, 100, 0, false);
		v[i].line = 100 + (int)i;
	}
	struct takeover_params p = {.self_id = SELF, .interval_ms = IVL};
	char err[128] = "";
	struct takeover *t = takeover_new(&p, v, VIP_MAX_GROUPS, 0, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(vip_groups(takeover_vip_core(t)), VIP_MAX_GROUPS);
	takeover_free(t);
	assert_null(takeover_new(&p, v, VIP_MAX_GROUPS + 1, 0, err, sizeof(err)));
	assert_string_equal(err, "164: more than 64 VIP groups");
	/* no VIPs: nothing to do, ever */
	t = takeover_new(&p, NULL, 0, 0, NULL, 0);
	assert_non_null(t);
	assert_int_equal(takeover_next_deadline(t), UINT64_MAX);
	takeover_free(t);
	p.self_id = 0;
	assert_null(takeover_new(&p, v, 1, 0, NULL, 0));
	takeover_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_takeover_round_and_repeats),
	    cmocka_unit_test(test_late_tick),
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_refresh),
	    cmocka_unit_test(test_repeat_and_refresh_together),
	    cmocka_unit_test(test_reassert),
	    cmocka_unit_test(test_give_stops_everything),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_take_failed),
	    cmocka_unit_test(test_quiet),
	    cmocka_unit_test(test_notify_order),
	    cmocka_unit_test(test_notify_per_group),
	    cmocka_unit_test(test_notify_overflow),
	    cmocka_unit_test(test_notify_timeout),
	    cmocka_unit_test(test_notify_start_failed),
	    cmocka_unit_test(test_stop_nothing_held),
	    cmocka_unit_test(test_stop_timeout),
	    cmocka_unit_test(test_stop_pushes),
	    cmocka_unit_test(test_stop_done),
	    cmocka_unit_test(test_deadline_is_earliest),
	    cmocka_unit_test(test_new),
	    cmocka_unit_test(test_reconf_in_place),
	    cmocka_unit_test(test_reconf_groups),
	    cmocka_unit_test(test_reconf_priority),
	    cmocka_unit_test(test_reconf_notify),
	    cmocka_unit_test(test_reconf_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
