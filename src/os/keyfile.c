#include "os/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* what: "cluster key" or "flush key", for the messages */
static int hex_key(const char *path, const char *s, size_t len, struct wire_key *key, char *err,
		   size_t errlen)
{
	size_t got = 0;
	const char *end = NULL;
	if (len != 2 * WIRE_KEY_LEN ||
	    sodium_hex2bin(key->k, sizeof(key->k), s, len, NULL, &got, &end) != 0 ||
	    got != WIRE_KEY_LEN) {
		snprintf(err, errlen,
			 "KeyFile %s: expected %d hex digits (a key from arpha keygen), got %zu "
			 "characters",
			 path, 2 * WIRE_KEY_LEN, len);
		return -1;
	}
	return 0;
}

/*
 * what: "cluster key" or "flush key", for the messages; next: NULL for a
 * file of one key, else where a second line's key goes (*has_next).
 */
static int load(const char *path, const char *what, struct wire_key *key, struct wire_key *next,
		bool *has_next, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		struct stat ls;
		if (errno == ELOOP && lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode))
			snprintf(err, errlen,
				 "KeyFile %s: is a symbolic link; name the file itself (a link "
				 "could be pointed at another key)",
				 path);
		else
			snprintf(err, errlen, "KeyFile %s: %s%s", path, strerror(errno),
				 errno == ENOENT ? " (make one with: arpha keygen > FILE)" : "");
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "KeyFile %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "KeyFile %s: mode %04o lets others than its owner read or change the "
			 "%s; run: chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), what, path);
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		snprintf(err, errlen,
			 "KeyFile %s: owned by uid %u, not root, who could change the %s; "
			 "run: chown root %s",
			 path, (unsigned)st.st_uid, what, path);
		close(fd);
		return -1;
	}
	char buf[200];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "KeyFile %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	size_t len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	/* one key, or (a cluster key) the key and on the next line the next one */
	char *nl = memchr(buf, '\n', len);
	size_t line1 = nl ? (size_t)(nl - buf) : len, first = line1;
	if (first && buf[first - 1] == '\r')
		first--;
	int rc = hex_key(path, buf, first, key, err, errlen);
	if (has_next)
		*has_next = false;
	if (rc == 0 && nl) {
		if (!next) {
			snprintf(err, errlen,
				 "KeyFile %s: expected one key (%d hex digits), got more lines",
				 path, 2 * WIRE_KEY_LEN);
			rc = -1;
		} else {
			rc = hex_key(path, nl + 1, len - line1 - 1, next, err, errlen);
			if (rc == 0 && sodium_memcmp(key->k, next->k, WIRE_KEY_LEN) == 0) {
				snprintf(err, errlen,
					 "KeyFile %s: the second key is the first again; expected "
					 "the key the cluster moves to, or one key alone",
					 path);
				rc = -1;
			}
			if (rc == 0)
				*has_next = true;
		}
	}
	sodium_memzero(buf, sizeof(buf));
	(void)what;
	return rc;
}

int keyfile_load(const char *path, struct wire_key *key, struct wire_key *next, bool *has_next,
		 char *err, size_t errlen)
{
	return load(path, "cluster key", key, next, has_next, err, errlen);
}

int keyfile_load_flush(const char *path, struct wire_key *key, char *err, size_t errlen)
{
	return load(path, "flush key", key, NULL, NULL, err, errlen);
}

int keyfile_generate(const char *path)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "arpha: keygen: libsodium cannot start\n");
		return 1;
	}
	uint8_t k[WIRE_KEY_LEN];
	char hex[2 * WIRE_KEY_LEN + 1];
	randombytes_buf(k, sizeof(k));
	sodium_bin2hex(hex, sizeof(hex), k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	int fd = 1;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "arpha: keygen: %s: %s%s\n", path, strerror(errno),
				errno == EEXIST ? " (will not overwrite a key)" : "");
			return 1;
		}
	} else {
		/* `arpha keygen > FILE`: make FILE private before the key is in it */
		struct stat st;
		if (fstat(1, &st) == 0 && S_ISREG(st.st_mode) && fchmod(1, 0600) < 0) {
			fprintf(stderr, "arpha: keygen: cannot make the output private: %s\n",
				strerror(errno));
			return 1;
		}
	}
	int rc = 0;
	if (dprintf(fd, "%s\n", hex) < 0) {
		fprintf(stderr, "arpha: keygen: %s\n", strerror(errno));
		rc = 1;
	}
	sodium_memzero(hex, sizeof(hex));
	if (path && close(fd) < 0)
		rc = 1;
	return rc;
}
