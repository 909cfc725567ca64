#include "os/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/config.h"

static int log_to_stderr = 1;
static int log_level = LOG_INFO;
static const char *log_ident = "arpha";

static const char *const level_names[] = {"emerg", "alert", "crit",   "err",
					  "warning", "notice", "info", "debug"};

void log_init(const char *ident, int target, int level)
{
	log_ident = ident;
	log_level = level;
	log_to_stderr = target == LOG_TARGET_STDERR;
	if (!log_to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	log_level = level;
}

void log_line(int level, const char *text)
{
	if (level > log_level)
		return;
	if (log_to_stderr) {
		fprintf(stderr, "%s: %s: %s\n", log_ident,
			level >= 0 && level <= 7 ? level_names[level] : "?", text);
		fflush(stderr);
	} else {
		syslog(level, "%s", text);
	}
}

static void vlog(int level, int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnum) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(errnum));
	}
	log_line(level, buf);
}

#define DEFINE_LOG(name, level, with_errno)                                                        \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(level, with_errno ? saved : 0, fmt, ap);                                      \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

DEFINE_LOG(log_warn, LOG_WARNING, 1)
DEFINE_LOG(log_warnx, LOG_WARNING, 0)
DEFINE_LOG(log_notice, LOG_NOTICE, 0)
DEFINE_LOG(log_info, LOG_INFO, 0)
DEFINE_LOG(log_debug, LOG_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
