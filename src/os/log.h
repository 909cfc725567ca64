/*
 * log: one line per event, to syslog or stderr. log_warn appends
 * strerror(errno); log_warnx does not (as OpenBSD's log.c).
 */
#ifndef ARPHA_OS_LOG_H
#define ARPHA_OS_LOG_H

#include <stdbool.h>

#define LOG_FMT __attribute__((format(printf, 1, 2)))

/* target: LOG_TARGET_SYSLOG or LOG_TARGET_STDERR; level: 3 (err) .. 7 (debug). */
void log_init(const char *ident, int target, int level);
void log_set_level(int level);
/* Write text at a syslog priority (3..7), no formatting. */
void log_line(int level, const char *text);
void log_warn(const char *fmt, ...) LOG_FMT;
void log_warnx(const char *fmt, ...) LOG_FMT;
void log_notice(const char *fmt, ...) LOG_FMT;
void log_info(const char *fmt, ...) LOG_FMT;
void log_debug(const char *fmt, ...) LOG_FMT;
/* Log at err and exit(1). */
void fatal(const char *fmt, ...) LOG_FMT __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_FMT __attribute__((noreturn));

#endif
