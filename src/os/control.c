#include "os/control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

int control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	if (fill_addr(path, &sun) < 0) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -1;
	}
	char dir[sizeof(sun.sun_path)];
	strcpy(dir, path);
	const char *d = dirname(dir);
	if (mkdir(d, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", d, strerror(errno));
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* a live daemon answers on it: refuse to steal its socket */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		close(fd);
		snprintf(err, errlen, "another arphad is listening on %s", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void control_reply(int cfd, const struct sbuf *body)
{
	write_all(cfd, "ok\n", 3);
	if (body && body->len)
		write_all(cfd, body->s, body->len);
	close(cfd);
}

void control_error(int cfd, const char *msg)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "error: %s\n", msg);
	write_all(cfd, buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	close(cfd);
}

int control_accept(int lfd, char line[CONTROL_MAX_REQUEST], char **argv, int *argc, int *json)
{
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return -1;
	struct timeval tv = {1, 0};
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tv.tv_sec = 2;
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	size_t n = 0;
	while (n < CONTROL_MAX_REQUEST - 1) {
		ssize_t r = read(cfd, line + n, CONTROL_MAX_REQUEST - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n))
			break;
	}
	line[n] = '\0';
	char *nl = strchr(line, '\n');
	if (!nl) {
		control_error(cfd, "malformed request (expected one line ending in a newline)");
		return -1;
	}
	*nl = '\0';
	*argc = 0;
	char *save = NULL;
	char *fmt = strtok_r(line, " \t", &save);
	if (!fmt || (strcmp(fmt, "j") && strcmp(fmt, "t"))) {
		control_error(cfd, "malformed request (expected \"j\" or \"t\" first)");
		return -1;
	}
	*json = fmt[0] == 'j';
	char *w;
	while ((w = strtok_r(NULL, " \t", &save))) {
		if (*argc == CONTROL_MAX_ARGS) {
			control_error(cfd, "too many words in request");
			return -1;
		}
		argv[(*argc)++] = w;
	}
	return cfd;
}

int control_call(const char *path, const char *request, struct sbuf *answer)
{
	struct sockaddr_un sun;
	if (fill_addr(path, &sun) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	write_all(fd, request, strlen(request));
	char buf[4096];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		sbuf_printf(answer, "%.*s", (int)r, buf);
	}
	close(fd);
	return 0;
}
