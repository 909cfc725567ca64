/*
 * metrics: the Prometheus endpoint of [Daemon] Metrics= (off when it is
 * not given). Its families are those of arphad(8), section METRICS.
 */
#ifndef ARPHA_DAEMON_METRICS_H
#define ARPHA_DAEMON_METRICS_H

#include <stddef.h>

struct daemon;
struct prom_source;

/*
 * Open the listening socket of Metrics= (nothing when it is not given),
 * at the start, before anything is changed: 0, or -1 with err ("bind
 * 127.0.0.1:9774: Address already in use").
 */
int metrics_listen(struct daemon *d, char *err, size_t len);
/* Serve it, once the commands can answer: 0, or -1 (out of memory). */
int metrics_start(struct daemon *d);
/* Stop serving, close the socket. */
void metrics_free(struct daemon *d);

/* The commands exported and their rules (for a test): n of them. */
const struct prom_source *metrics_sources(size_t *n);

#endif
