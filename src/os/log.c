#include "os/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"

enum out { OUT_STDERR, OUT_JOURNAL, OUT_SYSLOG };

static enum out log_out = OUT_STDERR;
static bool log_echo; /* err lines to stderr as well (syslog before detaching) */
static int log_level = LOG_INFO;
static const char *log_ident = "arpha";

static const char *const level_names[] = {"emerg",   "alert",  "crit", "err",
					  "warning", "notice", "info", "debug"};

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connects to
 * stdout/stderr; it counts only when stderr still is that stream (a child
 * may have inherited the variable with another stderr).
 */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, int target, int level)
{
	log_ident = ident;
	log_level = level;
	if (target == LOG_TARGET_STDERR) {
		log_out = stderr_is_journal() ? OUT_JOURNAL : OUT_STDERR;
	} else {
		log_out = OUT_SYSLOG;
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void log_echo_errors(bool on)
{
	log_echo = on;
}

void log_set_level(int level)
{
	log_level = level;
}

const char *log_quote(const char *s, char *buf, size_t len)
{
	size_t k = 0;
	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[k++] = '"';
	for (; *s && k + 3 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			if (k + 4 >= len)
				break;
			buf[k++] = '\\';
			buf[k++] = (char)c;
		} else {
			buf[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
	}
	buf[k++] = '"';
	buf[k] = '\0';
	return buf;
}

/*
 * The local time in ISO 8601, to the millisecond, with the offset from UTC
 * ("2026-12-06T14:03:27.412+01:00 "): a line read later, or next to
 * another host's, says when it happened.
 */
static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff / 60; /* minutes east of UTC */
	snprintf(buf + n, len - n, ".%03ld%c%02ld:%02ld ", ts.tv_nsec / 1000000L,
		 off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

void log_line(int level, const char *text)
{
	if (level > log_level)
		return;
	if (level < 0 || level > 7)
		level = LOG_ERR;
	switch (log_out) {
	case OUT_SYSLOG:
		syslog(level, "%s", text);
		if (!log_echo || level > LOG_ERR)
			return;
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level], text);
		break;
	case OUT_JOURNAL: /* journald reads the priority from the <N> prefix */
		fprintf(stderr, "<%d>%s\n", level, text);
		break;
	case OUT_STDERR: {
		char ts[40];
		stamp(ts, sizeof(ts));
		fprintf(stderr, "%s%s: %s: %s\n", ts, log_ident, level_names[level], text);
		break;
	}
	}
	fflush(stderr);
}

static void vlog(int level, int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (errnum) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, " error=\"%s\"", strerror(errnum));
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

DEFINE_LOG(log_errx, LOG_ERR, 0)
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
