/*
 * healthcheck: one [Track NAME] check run on the event loop (keepalived's
 * vrrp_script and track_file): Script= started every Interval= as
 * os/spawn starts the NotifyScript (checked safe before each run, no
 * shell), healthy when it exits 0 before Timeout= (at Timeout= its process
 * group is killed); or File= read every Interval=, healthy while it holds
 * the number 0. Each result goes to a callback; core/track turns results
 * into a state.
 */
#ifndef ARPHA_OS_HEALTHCHECK_H
#define ARPHA_OS_HEALTHCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

struct loop;
struct healthcheck;

/* A result of check idx: ok, or why not ("exit status 1", "killed at Timeout=1000ms"). */
typedef void healthcheck_cb(void *arg, size_t idx, bool ok, const char *why);

/*
 * Start running c (its first run at once). NULL with a message in err
 * (the command does not split into words; out of memory).
 */
struct healthcheck *healthcheck_new(struct loop *l, const struct conf_track *c, size_t idx,
				    healthcheck_cb *cb, void *arg, char *err, size_t errlen);
/* Stop; a script still running is killed (its process group). NULL is fine. */
void healthcheck_free(struct healthcheck *h);
/*
 * A reload: the check goes on, as it runs, under c (the same settings in
 * the new configuration) and idx.
 */
void healthcheck_rebind(struct healthcheck *h, const struct conf_track *c, size_t idx);

/*
 * A child exited (the caller reaps every child, and hands each here):
 * true when it was this check's script (its result then goes out).
 */
bool healthcheck_child(struct healthcheck *h, pid_t pid, int status);

#endif
