/* healthcheck: see healthcheck.h. */
#include "os/healthcheck.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/argv.h"
#include "os/loop.h"
#include "os/spawn.h"
#include "os/util.h"

struct healthcheck {
	struct loop *l;
	const struct conf_track *c;
	size_t idx;
	healthcheck_cb *cb;
	void *arg;
	struct loop_watch *timer;
	char words[sizeof(((struct conf_track *)0)->script)];
	char *argv[CONF_NOTIFY_ARGS + 1];
	pid_t pid;	     /* the script running; 0: none */
	bool killed;	     /* it ran past Timeout= */
	uint64_t started_at; /* of the run (loop time) */
};

static void next_run(struct healthcheck *h)
{
	uint64_t now = loop_now(h->l), due = h->started_at + h->c->interval_ms;
	loop_fire_in(h->timer, due > now ? due - now : 0);
}

/* File=: healthy while it holds 0 (a whole number, blanks around it). */
static void read_number(struct healthcheck *h)
{
	char *text = NULL, why[160];
	size_t len;
	bool ok = false;
	if (read_file(h->c->file, 64, &text, &len) < 0) {
		snprintf(why, sizeof(why), "cannot read %s: %s", h->c->file, strerror(errno));
	} else {
		const char *p = text;
		while (isspace((unsigned char)*p))
			p++;
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		while (end != p && isspace((unsigned char)*end))
			end++;
		if (end == p || *end || errno)
			snprintf(why, sizeof(why), "%s holds no number", h->c->file);
		else if (v != 0)
			snprintf(why, sizeof(why), "%s holds %ld", h->c->file, v);
		else
			ok = true;
	}
	free(text);
	h->cb(h->arg, h->idx, ok, ok ? "" : why);
}

static void on_timer(void *arg)
{
	struct healthcheck *h = arg;
	char why[600];
	if (h->pid) { /* past Timeout=: the result comes when it is reaped */
		h->killed = true;
		if (spawn_kill_group(h->pid) < 0)
			kill(h->pid, SIGKILL);
		return;
	}
	h->started_at = loop_now(h->l);
	if (h->c->file[0]) {
		read_number(h);
		next_run(h);
		return;
	}
	/* it may have changed since the start: run it only as it was checked */
	if (spawn_check(h->argv[0], why, sizeof(why)) < 0) {
		h->cb(h->arg, h->idx, false, why);
		next_run(h);
		return;
	}
	h->killed = false;
	h->pid = spawn_run(h->argv);
	if (h->pid < 0) {
		snprintf(why, sizeof(why), "cannot run %s: %s", h->argv[0], strerror(errno));
		h->pid = 0;
		h->cb(h->arg, h->idx, false, why);
		next_run(h);
		return;
	}
	loop_fire_in(h->timer, h->c->timeout_ms);
}

struct healthcheck *healthcheck_new(struct loop *l, const struct conf_track *c, size_t idx,
				    healthcheck_cb *cb, void *arg, char *err, size_t errlen)
{
	struct healthcheck *h = calloc(1, sizeof(*h));
	if (!h) {
		err_printf(err, errlen, "[Track %s]: out of memory", c->name);
		return NULL;
	}
	*h = (struct healthcheck){.l = l, .c = c, .idx = idx, .cb = cb, .arg = arg};
	char why[256];
	if (c->script[0] && argv_split(c->script, h->words, sizeof(h->words), h->argv,
				       CONF_NOTIFY_ARGS, why, sizeof(why)) <= 0) {
		err_printf(err, errlen, "[Track %s] Script=: %s", c->name, why);
		free(h);
		return NULL;
	}
	h->timer = loop_trigger(l, -1, on_timer, h);
	if (!h->timer) {
		err_printf(err, errlen, "[Track %s]: out of memory", c->name);
		free(h);
		return NULL;
	}
	loop_fire_in(h->timer, 0);
	return h;
}

void healthcheck_rebind(struct healthcheck *h, const struct conf_track *c, size_t idx)
{
	h->c = c;
	h->idx = idx;
}

void healthcheck_free(struct healthcheck *h)
{
	if (!h)
		return;
	if (h->pid && spawn_kill_group(h->pid) < 0)
		kill(h->pid, SIGKILL);
	loop_watch_free(h->timer);
	free(h);
}

bool healthcheck_child(struct healthcheck *h, pid_t pid, int status)
{
	if (!h || !h->pid || pid != h->pid)
		return false;
	h->pid = 0;
	char why[96] = "";
	bool ok = !h->killed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (h->killed)
		snprintf(why, sizeof(why), "killed at Timeout=%ums", h->c->timeout_ms);
	else if (WIFEXITED(status) && !ok)
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	h->cb(h->arg, h->idx, ok, why);
	next_run(h);
	return true;
}
