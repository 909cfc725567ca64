/*
 * loop: arphad's event loop (libevent) behind one wrapper, so that every
 * callback runs the same way: the time is read once as it starts (loop_now),
 * the callback runs, and then the loop's "after" hook runs (the daemon
 * drains its event queue there and re-arms the one deadline timer from
 * the services' next deadlines). No caller arms a timer after its work.
 *
 * A watch is a file descriptor (readable), a signal, or a trigger (fired
 * by loop_fire, or after a delay by loop_fire_in). Priorities as
 * libevent's: the lowest number runs first.
 */
#ifndef ARPHA_OS_LOOP_H
#define ARPHA_OS_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct loop;
struct loop_watch;

typedef void loop_cb(void *arg);

/*
 * A loop with priorities 0..priorities-1 (a watch gets priorities / 2
 * unless told). after(arg) runs at the end of every callback; deadline(arg)
 * when the deadline set with loop_set_deadline is reached. NULL on error.
 */
struct loop *loop_new(int priorities, loop_cb *after, loop_cb *deadline, void *arg);
void loop_free(struct loop *l); /* every watch must be freed first */

/* The time (ms, monotonic) read when the current callback began. */
uint64_t loop_now(const struct loop *l);

/* The one deadline timer: call deadline at ms (UINT64_MAX: never). */
void loop_set_deadline(struct loop *l, uint64_t at_ms);

/* prio -1: the default. NULL on error (errno). */
struct loop_watch *loop_watch_fd(struct loop *l, int fd, int prio, loop_cb *cb, void *arg);
struct loop_watch *loop_watch_signal(struct loop *l, int sig, loop_cb *cb, void *arg);
struct loop_watch *loop_trigger(struct loop *l, int prio, loop_cb *cb, void *arg);
void loop_watch_free(struct loop_watch *w); /* NULL is fine */

/* An fd watch: stop and resume reading (0, -1 on error). */
int loop_watch_pause(struct loop_watch *w);
int loop_watch_resume(struct loop_watch *w);

/* A trigger: run cb once, as soon as its priority's turn comes, or in ms. */
void loop_fire(struct loop_watch *w);
int loop_fire_in(struct loop_watch *w, uint64_t ms);

/*
 * Code that registers its own libevent events (os/control, os/flushreq)
 * wraps its callback in these two, so it runs as every other callback.
 */
void loop_begin(struct loop *l);
void loop_end(struct loop *l);

int loop_run(struct loop *l);	 /* until loop_exit */
void loop_exit(struct loop *l);	 /* after the current callback */
int loop_reinit(struct loop *l); /* after fork */

/* For os/ parts built on libevent directly. */
struct event_base *loop_base(struct loop *l);

#endif
