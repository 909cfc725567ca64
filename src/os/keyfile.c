#include "os/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* what: "cluster key" or "flush key", for the messages */
static int load(const char *path, const char *what, struct wire_key *key, char *err, size_t errlen)
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
	char buf[160];
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
	size_t got = 0;
	const char *end = NULL;
	if (len != 2 * WIRE_KEY_LEN ||
	    sodium_hex2bin(key->k, sizeof(key->k), buf, len, NULL, &got, &end) != 0 ||
	    got != WIRE_KEY_LEN) {
		snprintf(err, errlen,
			 "KeyFile %s: expected %d hex digits (a key from arpha keygen), got %zu "
			 "characters",
			 path, 2 * WIRE_KEY_LEN, len);
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int keyfile_load(const char *path, struct wire_key *key, char *err, size_t errlen)
{
	return load(path, "cluster key", key, err, errlen);
}

int keyfile_load_flush(const char *path, struct wire_key *key, char *err, size_t errlen)
{
	return load(path, "flush key", key, err, errlen);
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
