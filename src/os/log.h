/*
 * log: one line per event, key=value pairs, to syslog or stderr. log_warn
 * appends error="strerror(errno)"; log_warnx does not (as OpenBSD's log.c).
 *
 * On stderr a line is "TIME IDENT: LEVEL: TEXT", TIME the local time in
 * ISO 8601 with milliseconds and the offset from UTC; when stderr is the
 * systemd journal (JOURNAL_STREAM names it) a line is "<N>TEXT", N the
 * syslog priority journald reads (the journal keeps the time).
 */
#ifndef ARPHA_OS_LOG_H
#define ARPHA_OS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_FMT __attribute__((format(printf, 1, 2)))

/* target: LOG_TARGET_SYSLOG or LOG_TARGET_STDERR; level: 3 (err) .. 7 (debug). */
void log_init(const char *ident, int target, int level);
void log_set_level(int level);
/*
 * With syslog as the target, also write err lines to stderr: a daemon that
 * fails before it detaches says why where it was started.
 */
void log_echo_errors(bool on);
/*
 * s as one log value: in double quotes, with \" and \\ escaped and control
 * characters as '?'; cut to fit buf. Returns buf.
 */
const char *log_quote(const char *s, char *buf, size_t len);
/* Write text at a syslog priority (3..7), no formatting. */
void log_line(int level, const char *text);
/* At err, without exiting. */
void log_errx(const char *fmt, ...) LOG_FMT;
void log_warn(const char *fmt, ...) LOG_FMT;
void log_warnx(const char *fmt, ...) LOG_FMT;
void log_notice(const char *fmt, ...) LOG_FMT;
void log_info(const char *fmt, ...) LOG_FMT;
void log_debug(const char *fmt, ...) LOG_FMT;
/* Log at err and exit(1). */
void fatal(const char *fmt, ...) LOG_FMT __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_FMT __attribute__((noreturn));

#endif
