#include "os/prom_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"

#define TIMEOUT_S   5  /* of silence */
#define MAX_AGE_S   10 /* of a connection, whatever it does */
#define MAX_HEADERS 4096
#define MAX_CONNS   16

/* A request taken in, answered at the server's priority. */
struct pending {
	struct prom_http *h;
	struct evhttp_request *req;
	struct event *ev;
	struct pending *next;
};

struct prom_http {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	/*
	 * The connections open: their bufferevents, each with a reference of
	 * ours, so that one evhttp has freed is still there to be seen gone
	 * (its callbacks reset) and let go. Full: the listener rests.
	 */
	struct held {
		struct bufferevent *bev;
		unsigned since; /* ticks when it was accepted */
		bool cut;	/* shut down for its age */
	} conns[MAX_CONNS];
	unsigned n_conns;
	struct event *tick; /* every second while a connection is open */
	unsigned ticks;
	bool resting; /* the listener is off: MAX_CONNS are open */
	int prio;
	prom_http_fn *fn;
	void *arg;
	struct pending *pending;
};

int prom_http_listen(uint32_t addr, uint16_t port, char *err, size_t len)
{
	char ip[IP4_STRLEN];
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	const char *what = "socket";
	if (fd < 0)
		goto fail;
	what = "bind";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	what = "listen";
	if (listen(fd, 16) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, len, "%s %s:%u: %s", what, ip4_fmt(addr, ip), port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void pending_free(struct prom_http *h, struct pending *p)
{
	for (struct pending **q = &h->pending; *q; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			break;
		}
	event_free(p->ev);
	free(p);
}

static void reply(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	evhttp_add_header(hd, "Connection", "close");
	evhttp_add_header(hd, "Content-Type", "text/plain; charset=utf-8");
	if (code == HTTP_BADMETHOD)
		evhttp_add_header(hd, "Allow", "GET");
	if (body)
		evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, code, reason, body);
	if (body)
		evbuffer_free(body);
}

/* A request's answer, at the server's priority. */
static void on_pending(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct prom_http *h = p->h;
	struct evhttp_request *req = p->req;
	pending_free(h, p);
	struct sbuf out;
	sbuf_init(&out);
	struct evbuffer *body = evbuffer_new();
	if (h->fn(h->arg, &out) < 0 || out.oom || !body ||
	    evbuffer_add(body, out.s ? out.s : "", out.len) < 0) {
		reply(req, HTTP_INTERNAL, "Internal Server Error",
		      "the metrics could not be gathered (out of memory)");
	} else {
		struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
		evhttp_add_header(hd, "Connection", "close");
		evhttp_add_header(hd, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	}
	if (body)
		evbuffer_free(body);
	sbuf_free(&out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct prom_http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	if (bev) /* the answer goes out at our priority (when its events are idle) */
		bufferevent_priority_set(bev, h->prio);
	if (!path || strcmp(path, "/metrics") != 0) {
		reply(req, HTTP_NOTFOUND, "Not Found", "not found: the metrics are at /metrics");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply(req, HTTP_BADMETHOD, "Method Not Allowed", "/metrics answers GET only");
		return;
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (p)
		p->ev = event_new(h->base, -1, 0, on_pending, p);
	if (!p || !p->ev || event_priority_set(p->ev, h->prio) < 0) {
		if (p && p->ev)
			event_free(p->ev);
		free(p);
		reply(req, HTTP_INTERNAL, "Internal Server Error", "out of memory");
		return;
	}
	p->h = h;
	p->req = req;
	p->next = h->pending;
	h->pending = p;
	event_active(p->ev, 0, 1);
}

/* Let go of the connections evhttp has closed; cut those too old; listen again if there is room. */
static void sweep(struct prom_http *h)
{
	for (unsigned i = 0; i < h->n_conns;) {
		struct held *c = &h->conns[i];
		bufferevent_data_cb r, w;
		bufferevent_event_cb e;
		bufferevent_getcb(c->bev, &r, &w, &e, NULL);
		int fd = bufferevent_getfd(c->bev);
		if ((!r && !w && !e) || fd < 0) { /* evhttp let it go */
			bufferevent_decref(c->bev);
			*c = h->conns[--h->n_conns];
			continue;
		}
		if (!c->cut && h->ticks - c->since >= MAX_AGE_S) {
			shutdown(fd, SHUT_RDWR); /* evhttp sees the end and closes it */
			c->cut = true;
		}
		i++;
	}
	if (h->resting && h->n_conns < MAX_CONNS &&
	    evconnlistener_enable(evhttp_bound_socket_get_listener(h->bound)) == 0)
		h->resting = false;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct prom_http *h = arg;
	h->ticks++;
	sweep(h);
	if (!h->n_conns)
		event_del(h->tick);
}

/* A connection accepted: its bufferevent, held while it is open. */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
	struct prom_http *h = arg;
	static const struct timeval one_second = {1, 0};
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	sweep(h);
	if (bev && h->n_conns < MAX_CONNS) {
		bufferevent_incref(bev);
		h->conns[h->n_conns++] = (struct held){.bev = bev, .since = h->ticks};
		if (!event_pending(h->tick, EV_TIMEOUT, NULL))
			event_add(h->tick, &one_second);
	}
	if (h->n_conns >= MAX_CONNS && !h->resting &&
	    evconnlistener_disable(evhttp_bound_socket_get_listener(h->bound)) == 0)
		h->resting = true;
	return bev;
}

struct prom_http *prom_http_start(struct event_base *base, int fd, int prio, prom_http_fn *fn,
				  void *arg)
{
	struct prom_http *h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return NULL;
	}
	*h = (struct prom_http){.base = base, .prio = prio, .fn = fn, .arg = arg};
	h->http = evhttp_new(base);
	h->tick = event_new(base, -1, EV_PERSIST, on_tick, h);
	if (!h->http || !h->tick || event_priority_set(h->tick, prio) < 0 ||
	    !(h->bound = evhttp_accept_socket_with_handle(h->http, fd))) {
		if (!h->bound)
			close(fd);
		prom_http_free(h);
		return NULL;
	}
	evhttp_set_timeout(h->http, TIMEOUT_S);
	evhttp_set_max_headers_size(h->http, MAX_HEADERS);
	evhttp_set_max_body_size(h->http, 1024); /* a GET has none */
	/* every method reaches on_request, which answers 405 (evhttp: 501 for some) */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	evhttp_set_bevcb(h->http, on_accept, h);
	return h;
}

void prom_http_free(struct prom_http *h)
{
	if (!h)
		return;
	while (h->pending) /* their requests go with their connections */
		pending_free(h, h->pending);
	if (h->http)
		evhttp_free(h->http); /* its connections, its listener and the socket */
	for (unsigned i = 0; i < h->n_conns; i++)
		bufferevent_decref(h->conns[i].bev); /* evhttp let go of it: now it goes */
	if (h->tick)
		event_free(h->tick);
	free(h);
}
