/*
 * util: the clock, whole-file reads, and a growable string buffer.
 */
#ifndef ARPHA_OS_UTIL_H
#define ARPHA_OS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);
/* The same in microseconds (for measuring). */
uint64_t now_us(void);

/*
 * Read a whole file into a NUL-terminated malloc'd buffer. Returns 0, or
 * -1 with errno set. Files over max bytes fail with EFBIG.
 */
int read_file(const char *path, size_t max, char **buf, size_t *len);

/* A message into err (errlen bytes), as printf; err NULL or errlen 0: nowhere. */
void err_printf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Set the sysctl at path (under /proc/sys) to value (a number) unless it
 * is that already. 1 when it was changed (its value before in old), 0
 * when it was already so, -1 with errno.
 */
int sysctl_set(const char *path, long value, long *old);

/* A growable string. On ENOMEM it stops growing and sets oom. */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append the n bytes at s (no formatting: for what is appended often). */
void sbuf_add(struct sbuf *b, const char *s, size_t n);
/* Append s as a JSON string literal, quotes included. */
void sbuf_json_str(struct sbuf *b, const char *s);

#endif
