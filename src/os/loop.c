/*
 * loop: the libevent wrapper (see loop.h).
 */
#include "loop.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "util.h"

struct loop {
	struct event_base *base;
	struct event *timer;
	loop_cb *after, *deadline;
	void *arg;
	uint64_t now;
	uint64_t armed; /* the deadline the timer is set for (UINT64_MAX: none) */
	int depth;	/* loop_begin nesting: after runs at the outermost end */
};

struct loop_watch {
	struct loop *l;
	struct event *ev;
	loop_cb *cb;
	void *arg;
};

void loop_begin(struct loop *l)
{
	if (l->depth++ == 0)
		l->now = now_ms();
}

void loop_end(struct loop *l)
{
	if (l->depth == 1 && l->after)
		l->after(l->arg);
	l->depth--;
}

static void trampoline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct loop_watch *w = arg;
	struct loop *l = w->l;
	loop_begin(l);
	w->cb(w->arg);
	loop_end(l);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct loop *l = arg;
	l->armed = UINT64_MAX;
	loop_begin(l);
	if (l->deadline)
		l->deadline(l->arg);
	loop_end(l);
}

struct loop *loop_new(int priorities, loop_cb *after, loop_cb *deadline, void *arg)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->after = after;
	l->deadline = deadline;
	l->arg = arg;
	l->armed = UINT64_MAX;
	l->now = now_ms();
	if (!(l->base = event_base_new()) || event_base_priority_init(l->base, priorities) < 0 ||
	    !(l->timer = evtimer_new(l->base, on_deadline, l))) {
		loop_free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->timer)
		event_free(l->timer);
	if (l->base)
		event_base_free(l->base);
	free(l);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void loop_set_deadline(struct loop *l, uint64_t at)
{
	if (at == UINT64_MAX) {
		if (l->armed != UINT64_MAX)
			evtimer_del(l->timer);
		l->armed = UINT64_MAX;
		return;
	}
	uint64_t now = now_ms();
	uint64_t wait = at > now ? at - now : 0;
	struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
	evtimer_add(l->timer, &tv);
	l->armed = at;
}

static struct loop_watch *watch_new(struct loop *l, int fd, short what, int prio, loop_cb *cb,
				    void *arg)
{
	struct loop_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	*w = (struct loop_watch){.l = l, .cb = cb, .arg = arg};
	w->ev = event_new(l->base, fd, what, trampoline, w);
	if (!w->ev || (prio >= 0 && event_priority_set(w->ev, prio) < 0)) {
		loop_watch_free(w);
		errno = ENOMEM;
		return NULL;
	}
	return w;
}

struct loop_watch *loop_watch_fd(struct loop *l, int fd, int prio, loop_cb *cb, void *arg)
{
	struct loop_watch *w = watch_new(l, fd, EV_READ | EV_PERSIST, prio, cb, arg);
	if (w && event_add(w->ev, NULL) < 0) {
		loop_watch_free(w);
		return NULL;
	}
	return w;
}

struct loop_watch *loop_watch_signal(struct loop *l, int sig, loop_cb *cb, void *arg)
{
	struct loop_watch *w = watch_new(l, sig, EV_SIGNAL | EV_PERSIST, -1, cb, arg);
	if (w && event_add(w->ev, NULL) < 0) {
		loop_watch_free(w);
		return NULL;
	}
	return w;
}

struct loop_watch *loop_trigger(struct loop *l, int prio, loop_cb *cb, void *arg)
{
	return watch_new(l, -1, 0, prio, cb, arg);
}

void loop_watch_free(struct loop_watch *w)
{
	if (!w)
		return;
	if (w->ev)
		event_free(w->ev);
	free(w);
}

int loop_watch_pause(struct loop_watch *w)
{
	return event_del(w->ev);
}

int loop_watch_resume(struct loop_watch *w)
{
	return event_add(w->ev, NULL);
}

void loop_fire(struct loop_watch *w)
{
	event_active(w->ev, EV_TIMEOUT, 0);
}

int loop_fire_in(struct loop_watch *w, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return event_add(w->ev, &tv);
}

int loop_run(struct loop *l)
{
	return event_base_dispatch(l->base);
}

void loop_exit(struct loop *l)
{
	event_base_loopexit(l->base, NULL);
}

int loop_reinit(struct loop *l)
{
	return event_reinit(l->base);
}

struct event_base *loop_base(struct loop *l)
{
	return l->base;
}
