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
 * The socket file control_listen made, so that only it is removed at exit
 * (an admin or another arphad may have put something else there since).
 */
struct control_path {
	unsigned long long dev, ino; /* st_dev, st_ino; 0, 0: none */
};

/*
 * Check path as control_listen will, without changing anything: it must
 * not end in '/', its directory must be a directory (or missing, then
 * control_listen creates it), and whatever is at path must be a socket.
 * 0 when arphad can listen there, else -1 with a message naming the path
 * and what is there. warn gets a warning ("" when none): a directory
 * others may write to.
 */
int control_check_path(const char *path, char *err, size_t errlen, char *warn, size_t warnlen);

/*
 * Listen on path, mode 0660. Its directory is created mode 0750 if missing
 * (one level; an existing one is left as it is). Only a stale socket (a
 * socket nobody listens on) is replaced; anything else at path (a file, a
 * directory, a symbolic link, a socket another process listens on) is an
 * error, and is left untouched. Returns the fd and sets *own, or -1 with
 * err. warn as for control_check_path.
 */
int control_listen(const char *path, struct control_path *own, char *err, size_t errlen, char *warn,
		   size_t warnlen);

/*
 * Whether a process listens on the socket at path: 1 yes, 0 no (nothing
 * there, not a socket, or a stale socket), -1 cannot tell (errno).
 */
int control_alive(const char *path);

/* Remove the socket file at path if it is still the one own names. */
void control_unlink(const char *path, const struct control_path *own);

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
