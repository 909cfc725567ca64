/*
 * control: the daemon's unix stream socket. One request line per
 * connection: "j|t COMMAND ARGS...\n" (JSON or text); the answer is "ok\n"
 * followed by the body, or "error: MESSAGE\n", then the daemon closes.
 */
#ifndef ARPHA_OS_CONTROL_H
#define ARPHA_OS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "os/util.h"

#define CONTROL_MAX_REQUEST 512
#define CONTROL_MAX_ARGS    8

/*
 * Listen on path (its directory is created 0750 if missing; a stale socket
 * is replaced, a live one is an error). Returns the fd, or -1 with err.
 */
int control_listen(const char *path, char *err, size_t errlen);

struct event_base;
struct control;
struct control_req;

/*
 * A request: argv split into words (at most CONTROL_MAX_ARGS), json set.
 * The handler answers it with control_reply or control_error before it
 * returns (rq is not valid afterwards).
 */
typedef void control_handler(void *arg, struct control_req *rq, char **argv, int argc, bool json);

/*
 * Serve the listening socket lfd (control_listen) on base: every client is
 * read and answered without blocking (libevent bufferevents), so a client
 * that connects and says nothing, or does not read its answer, never holds
 * the daemon up; it is dropped after CONTROL_READ_S / CONTROL_WRITE_S.
 * At most CONTROL_MAX_CLIENTS at once; the next one is refused. Its events
 * run at priority prio of base. NULL on ENOMEM. control_free drops every
 * client (lfd stays the caller's).
 */
#define CONTROL_READ_S	    1
#define CONTROL_WRITE_S	    5
#define CONTROL_MAX_CLIENTS 64
struct control *control_start(struct event_base *base, int lfd, int prio, control_handler *cb,
			      void *arg);
void control_free(struct control *c);

/* Answer: ok with body, or an error message; the connection closes once it is sent. */
void control_reply(struct control_req *rq, const struct sbuf *body);
void control_error(struct control_req *rq, const char *msg);

/* Client side, for arpha: connect, send, read the whole answer. 0 or -1/errno. */
int control_call(const char *path, const char *request, struct sbuf *answer);

#endif
