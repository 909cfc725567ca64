/*
 * control: the daemon's unix stream socket. One request line per
 * connection: "j|t COMMAND ARGS...\n" (JSON or text); the answer is "ok\n"
 * followed by the body, or "error: MESSAGE\n", then the daemon closes.
 */
#ifndef ARPHA_OS_CONTROL_H
#define ARPHA_OS_CONTROL_H

#include <stddef.h>

#include "os/util.h"

#define CONTROL_MAX_REQUEST 512
#define CONTROL_MAX_ARGS 8

/*
 * Listen on path (its directory is created 0750 if missing; a stale socket
 * is replaced, a live one is an error). Returns the fd, or -1 with err.
 */
int control_listen(const char *path, char *err, size_t errlen);

/*
 * Accept one client and read its request (1 s timeout). Returns the client
 * fd with argv split into words (at most CONTROL_MAX_ARGS, pointing into
 * line), *json set; or -1 (nothing to serve, or a malformed request, which
 * is answered and closed here).
 */
int control_accept(int lfd, char line[CONTROL_MAX_REQUEST], char **argv, int *argc, int *json);

/* Answer and close: ok with body, or an error message. */
void control_reply(int cfd, const struct sbuf *body);
void control_error(int cfd, const char *msg);

/* Client side, for arpha: connect, send, read the whole answer. 0 or -1/errno. */
int control_call(const char *path, const char *request, struct sbuf *answer);

#endif
