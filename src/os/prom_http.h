/*
 * prom_http: the Prometheus endpoint's HTTP side, on libevent's evhttp.
 *
 * GET /metrics (a query string is ignored) answers the exposition that
 * the caller's function writes, as text/plain; version=0.0.4; any other
 * path is 404, any other method on /metrics 405 (HEAD too: a scraper
 * sends GET). Every answer closes its connection.
 *
 * The endpoint is read-only and must never hold up the loop: its
 * answers are made at the priority given (arphad: that of control
 * clients, after packets and timers), a client has 5 seconds of silence
 * and a connection 10 seconds in all before it is closed, headers are
 * limited to 4 KiB and a body to 1 KiB, at most 16 connections are open
 * at once (the listening socket rests until one closes; the next wait in
 * its queue), and answers are written as the client reads them.
 */
#ifndef ARPHA_OS_PROM_HTTP_H
#define ARPHA_OS_PROM_HTTP_H

#include <stdint.h>

#include "os/util.h"

struct event_base;
struct prom_http;

/*
 * A listening TCP socket on addr:port (host order), non-blocking and
 * close-on-exec: its descriptor, or -1 with a message in err ("bind
 * 127.0.0.1:9774: Address already in use").
 */
int prom_http_listen(uint32_t addr, uint16_t port, char *err, size_t len);

/* The exposition into out: 0, or -1 (the client gets a 500). */
typedef int prom_http_fn(void *arg, struct sbuf *out);

/*
 * Serve GET /metrics on fd (from prom_http_listen; the server owns it
 * from then on, also on failure) with fn: the server, or NULL (out of
 * memory).
 */
struct prom_http *prom_http_start(struct event_base *base, int fd, int prio, prom_http_fn *fn,
				  void *arg);
/* Stop serving and close every connection and the socket (NULL: nothing). */
void prom_http_free(struct prom_http *h);

#endif
