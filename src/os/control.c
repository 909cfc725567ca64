#include "os/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
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

static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a named pipe";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "a file of unknown type";
}

int control_check_path(const char *path, char *err, size_t errlen, char *warn, size_t warnlen)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);
	if (warnlen)
		warn[0] = '\0';
	if (n == 0 || path[n - 1] == '/') {
		snprintf(err, errlen,
			 "control socket path %s ends in '/': expected the path of a socket file, "
			 "such as /run/arpha/arphad.sock",
			 path);
		return -1;
	}
	if (n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long", path);
		return -1;
	}
	char dir[sizeof(sun.sun_path)], up[sizeof(sun.sun_path)];
	strcpy(dir, path);
	const char *d = dirname(dir);
	struct stat st;
	if (stat(d, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: %s is %s, not a directory", path,
				 d, file_kind(st.st_mode));
			return -1;
		}
		if ((st.st_mode & S_IWOTH) && warnlen)
			snprintf(
			    warn, warnlen,
			    "control socket %s: every user may write to its directory %s "
			    "(mode %04o); a directory only root writes to, such as /run/arpha, "
			    "keeps others from putting a file in its place",
			    path, d, (unsigned)(st.st_mode & 07777));
	} else if (errno == ENOENT) {
		/* control_listen creates the directory, one level */
		strcpy(up, d);
		const char *u = dirname(up);
		if (stat(u, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen,
				 "control socket %s: its directory %s is missing, and arphad "
				 "creates only the last level: %s %s",
				 path, d, u,
				 stat(u, &st) < 0 ? "is missing too" : "is not a directory");
			return -1;
		}
	} else {
		snprintf(err, errlen, "control socket %s: directory %s: %s", path, d,
			 strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "control socket %s: there is %s at that path; arphad replaces "
				 "only a stale socket, never another file (set ControlSocket= to "
				 "another path, or remove what is there)",
				 path, file_kind(st.st_mode));
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int control_listen(const char *path, struct control_path *own, char *err, size_t errlen, char *warn,
		   size_t warnlen)
{
	struct sockaddr_un sun;
	*own = (struct control_path){0, 0};
	if (control_check_path(path, err, errlen, warn, warnlen) < 0)
		return -1;
	fill_addr(path, &sun); /* the length is checked */
	char dir[sizeof(sun.sun_path)];
	strcpy(dir, path);
	const char *d = dirname(dir);
	if (mkdir(d, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", d, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) { /* it changed since the check */
			snprintf(err, errlen,
				 "control socket %s: there is %s at that path; arphad replaces "
				 "only a stale socket, never another file",
				 path, file_kind(st.st_mode));
			return -1;
		}
		/* a socket: replace it only when nobody listens on it */
		int alive = control_alive(path);
		if (alive != 0) {
			if (alive > 0)
				snprintf(err, errlen,
					 "control socket %s: another process is listening on it "
					 "(another arphad with this configuration?)",
					 path);
			else
				snprintf(err, errlen,
					 "control socket %s: cannot tell whether a process listens "
					 "on it: %s",
					 path, strerror(errno));
			return -1;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen,
				 "control socket %s: cannot remove the stale socket: %s", path,
				 strerror(errno));
			return -1;
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0117); /* the socket is made 0660: root and its group */
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s%s", path, strerror(e),
			 e == EADDRINUSE ? " (something was put there while arphad started)" : "");
		close(fd);
		return -1;
	}
	if (lstat(path, &st) == 0)
		*own = (struct control_path){st.st_dev, st.st_ino};
	if (listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		control_unlink(path, own);
		close(fd);
		return -1;
	}
	return fd;
}

int control_alive(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	if (fill_addr(path, &sun) < 0)
		return -1;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	/* without waiting: a listener with a full queue says EAGAIN, and it is alive */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return -1;
	int r = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
	int e = errno;
	close(probe);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	errno = e;
	return -1;
}

void control_unlink(const char *path, const struct control_path *own)
{
	struct stat st;
	if (!own->dev && !own->ino)
		return;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == own->dev &&
	    st.st_ino == own->ino)
		unlink(path);
}

struct control_req {
	struct control *c;
	struct bufferevent *bev; /* NULL: served at once, on fd */
	int fd;
	bool answered;
	struct control_req *prev, *next; /* the clients waited for now */
};

struct control {
	struct event_base *base;
	struct event *ev;
	control_handler *cb;
	void *arg;
	unsigned clients;
	int prio; /* its events' priority in the loop */
	struct control_req *head;
};

static void req_free(struct control_req *rq)
{
	struct control *c = rq->c;
	c->clients--;
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		c->head = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	bufferevent_free(rq->bev); /* closes the socket */
	free(rq);
}

/* The answer is out: close. */
static void on_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	req_free(arg);
}

/* End of file, an error, or a timeout: drop the client. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	req_free(arg);
}

static void on_read(struct bufferevent *bev, void *arg);

/*
 * A client to wait for (the rest of its request, or room for its answer):
 * a bufferevent on fd, with what was read of the request already. NULL
 * (fd closed) when out of memory.
 */
static struct control_req *waited(struct control *c, int fd, const char *pre, size_t npre)
{
	struct control_req *rq = calloc(1, sizeof(*rq));
	struct bufferevent *bev =
	    rq ? bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev || bufferevent_priority_set(bev, c->prio) < 0 ||
	    (npre && evbuffer_add(bufferevent_get_input(bev), pre, npre) < 0)) {
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		free(rq);
		return NULL;
	}
	*rq = (struct control_req){.c = c, .bev = bev, .fd = fd, .next = c->head};
	if (c->head)
		c->head->prev = rq;
	c->head = rq;
	c->clients++;
	struct timeval rt = {CONTROL_READ_S, 0}, wt = {CONTROL_WRITE_S, 0};
	bufferevent_set_timeouts(bev, &rt, &wt);
	bufferevent_setwatermark(bev, EV_READ, 0, CONTROL_MAX_REQUEST);
	bufferevent_setcb(bev, on_read, NULL, on_event, rq);
	return rq;
}

static void answer(struct control_req *rq, const char *head, const char *body, size_t len)
{
	size_t hlen = strlen(head);
	rq->answered = true;
	if (!rq->bev) {
		/* most answers fit the socket at once: no waiting, no bufferevent */
		struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, len}};
		ssize_t w = writev(rq->fd, iov, len ? 2 : 1);
		if (w == (ssize_t)(hlen + len) || (w < 0 && errno != EAGAIN && errno != EINTR)) {
			close(rq->fd);
			return;
		}
		size_t done = w > 0 ? (size_t)w : 0;
		struct control_req *later = waited(rq->c, rq->fd, NULL, 0);
		if (!later)
			return;
		struct evbuffer *out = bufferevent_get_output(later->bev);
		if (done < hlen)
			(void)evbuffer_add(out, head + done, hlen - done);
		if (len)
			(void)evbuffer_add(out, done > hlen ? body + (done - hlen) : body,
					   done > hlen ? len - (done - hlen) : len);
		later->answered = true;
		bufferevent_setcb(later->bev, NULL, on_written, on_event, later);
		bufferevent_enable(later->bev, EV_WRITE);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(rq->bev);
	bufferevent_disable(rq->bev, EV_READ);
	/* out of memory: what fits goes out; the write timeout ends it at the worst */
	if (evbuffer_add(out, head, hlen) == 0 && len)
		(void)evbuffer_add(out, body, len);
	/* the write callback fires once the output is empty: then close */
	bufferevent_setcb(rq->bev, NULL, on_written, on_event, rq);
	bufferevent_enable(rq->bev, EV_WRITE);
}

void control_reply(struct control_req *rq, const struct sbuf *body)
{
	answer(rq, "ok\n", body ? body->s : NULL, body ? body->len : 0);
}

void control_error(struct control_req *rq, const char *msg)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "error: %s\n", msg);
	answer(rq, buf, NULL, 0);
}

static const char no_line[] = "malformed request (expected one line ending in a newline)";

/* A request line: split it and hand it on, or answer that it is malformed. */
static void handle(struct control_req *rq, char *line)
{
	char *argv[CONTROL_MAX_ARGS];
	int argc = 0;
	char *save = NULL;
	char *fmt = strtok_r(line, " \t\r", &save);
	if (!fmt || (strcmp(fmt, "j") && strcmp(fmt, "t"))) {
		control_error(rq, "malformed request (expected \"j\" or \"t\" first)");
		return;
	}
	char *w;
	while ((w = strtok_r(NULL, " \t\r", &save))) {
		if (argc == CONTROL_MAX_ARGS) {
			control_error(rq, "too many words in request");
			return;
		}
		argv[argc++] = w;
	}
	rq->c->cb(rq->c->arg, rq, argv, argc, fmt[0] == 'j');
	if (!rq->answered)
		control_error(rq, "no answer"); /* a handler that forgot: never leave it hanging */
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct control_req *rq = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) >= CONTROL_MAX_REQUEST)
			control_error(rq, no_line);
		return; /* the rest of the line is on its way */
	}
	if (n >= CONTROL_MAX_REQUEST)
		control_error(rq, "request too long");
	else
		handle(rq, line);
	free(line);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct control *c = arg;
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			return; /* EAGAIN, or out of descriptors: the next wake-up tries again */
		if (c->clients >= CONTROL_MAX_CLIENTS) {
			static const char busy[] = "error: too many clients at once, try again\n";
			ssize_t w = write(cfd, busy, sizeof(busy) - 1);
			(void)w;
			close(cfd);
			continue;
		}
		/* the request is usually there already: then it is served at once */
		char line[CONTROL_MAX_REQUEST];
		ssize_t r = read(cfd, line, sizeof(line) - 1);
		char *nl = r > 0 ? memchr(line, '\n', (size_t)r) : NULL;
		if (nl || r == (ssize_t)sizeof(line) - 1) {
			struct control_req rq = {.c = c, .fd = cfd};
			if (!nl) {
				control_error(&rq, no_line);
				continue;
			}
			*nl = '\0';
			handle(&rq, line);
			continue;
		}
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			close(cfd);
			continue;
		}
		/* not all of it yet: wait for the rest without holding anything up */
		struct control_req *rq = waited(c, cfd, line, r > 0 ? (size_t)r : 0);
		if (rq)
			bufferevent_enable(rq->bev, EV_READ);
	}
}

struct control *control_start(struct event_base *base, int lfd, int prio, control_handler *cb,
			      void *arg)
{
	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct control){.base = base, .cb = cb, .arg = arg, .prio = prio};
	c->ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, c);
	if (!c->ev || event_priority_set(c->ev, c->prio) < 0 || event_add(c->ev, NULL) < 0) {
		if (c->ev)
			event_free(c->ev);
		free(c);
		return NULL;
	}
	return c;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	while (c->head)
		req_free(c->head);
	event_free(c->ev);
	free(c);
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
