/*
 * http.c: one HTTP request in, one acme_handle() call, one response out, and
 * the request's log line. A request that may wait on the store or the
 * signer (acme_request_waits) is handled on the pool (pool.h), with its
 * own copy of the request, and answered back on its loop. Owns the mapping
 * from evhttp requests to acme_request and from acme_response to the
 * wire; protocol decisions stay in acme/.
 */
#include "server_internal.h"
#include "serve.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "acme.h"
#include "hold.h"
#include "pool.h"
#include "validate.h"

const char *
http_method_name(int cmd)
{
	switch ((enum evhttp_cmd_type)cmd) {
	case EVHTTP_REQ_GET:     return "GET";
	case EVHTTP_REQ_POST:    return "POST";
	case EVHTTP_REQ_HEAD:    return "HEAD";
	case EVHTTP_REQ_PUT:     return "PUT";
	case EVHTTP_REQ_DELETE:  return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE:   return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH:   return "PATCH";
	}
	return "OTHER";
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

/* A Host header is a DNS name (the one DNS-name check), an IPv4 address
 * or a bracketed IPv6 literal, with an optional port. */
static int
host_ok(const char *h)
{
	char host[CRYPTO_MAX_NAME_LEN + 1], name[CRYPTO_MAX_NAME_LEN + 1];
	const char *colon = strrchr(h, ':'), *end = h + strlen(h);
	unsigned char addr[16];
	int v6 = h[0] == '[';
	size_t n;

	if (v6) {
		if ((end = strchr(h, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return 0;
		colon = end[1] == ':' ? end + 1 : NULL;
		h++;
	} else if (colon != NULL) {
		end = colon;
	}
	if (colon != NULL && (colon[1] == '\0' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)))
		return 0;
	if ((n = (size_t)(end - h)) == 0 || n > CRYPTO_MAX_NAME_LEN)
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	if (v6)
		return inet_pton(AF_INET6, host, addr) == 1;
	return inet_pton(AF_INET, host, addr) == 1 ||
	    crypto_dns_name_check(host, n, 0, name, NULL) == 0;
}

/* The "https://host[:port]" ACME URLs are built on. */
static void
request_base_url(const struct server *s, struct evhttp_request *req,
    char *out, size_t outsz)
{
	const char *host;

	if (s->cfg->base_url != NULL) {
		snprintf(out, outsz, "%s", s->cfg->base_url);
		return;
	}
	host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	if (host == NULL || !host_ok(host))
		host = s->default_host;
	snprintf(out, outsz, "https://%s", host);
}

static void
send_response(struct evhttp_request *req, const struct acme_response *resp)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	size_t i;

	if (resp->content_type != NULL)
		evhttp_add_header(h, "Content-Type", resp->content_type);
	for (i = 0; i < resp->n_headers; i++)
		evhttp_add_header(h, resp->headers[i].name, resp->headers[i].value);
	if (body != NULL && resp->body != NULL &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(body, resp->body, resp->body_len);
	evhttp_send_reply(req, resp->status, reason_phrase(resp->status), body);
	if (body != NULL)
		evbuffer_free(body);
}

/* The client's address as text, or NULL; valid while the request is. */
static const char *
request_peer(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *peer = NULL;
	ev_uint16_t port = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &peer, &port);
	/* IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d */
	if (peer != NULL && strncmp(peer, "::ffff:", 7) == 0 && strchr(peer, '.') != NULL)
		peer += 7;
	return peer;
}

/* The access log line, with the request's id and fields. */
static void
log_request(struct evhttp_request *req, const char *rid, const char *method,
    const char *path, int route, int status, long long us)
{
	const char *peer = request_peer(req);
	char esc[256], st[16], ms[32], line[400];
	struct log_field f[6];

	log_escape(path, esc, sizeof(esc));
	snprintf(st, sizeof(st), "%d", status);
	snprintf(ms, sizeof(ms), "%.2f", (double)us / 1e3);
	snprintf(line, sizeof(line), "%s %s \"%s\" %d %sms",
	    peer != NULL ? peer : "-", method, esc, status, ms);
	f[0] = (struct log_field){ "peer", peer != NULL ? peer : "-" };
	f[1] = (struct log_field){ "method", method };
	f[2] = (struct log_field){ "path", esc };
	f[3] = (struct log_field){ "route", acme_route_name(route) };
	f[4] = (struct log_field){ "status", st };
	f[5] = (struct log_field){ "ms", ms };
	log_fields("info", rid, line, f, server_log_json() ? 6 : 0);
}

static long long
elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* "<process prefix>-<loop>-<count>": unique within a run and across runs
 * (the prefix is random), cheap, and sortable per loop. */
static void
request_id(struct worker *w, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s-%d-%llu", w->srv->id_prefix, w->index,
	    ++w->requests);
}

/* Fills ar from req; base is where the base URL is written. */
static void
request_fill(struct server *s, struct evhttp_request *req,
    struct acme_request *ar, char *base, size_t basesz)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	size_t len;

	memset(ar, 0, sizeof(*ar));
	ar->method = http_method_name((int)evhttp_request_get_command(req));
	ar->path = uri != NULL && evhttp_uri_get_path(uri) != NULL &&
	    *evhttp_uri_get_path(uri) != '\0' ? evhttp_uri_get_path(uri) : "/";
	ar->query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	request_base_url(s, req, base, basesz);
	ar->base_url = base;
	ar->peer = request_peer(req);
	ar->content_type = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	len = evbuffer_get_length(in);
	ar->body = len > 0 ? evbuffer_pullup(in, -1) : NULL;
	ar->body_len = len;
	ar->now = time(NULL);
}

void
http_pending_send(struct http_pending *p)
{
	struct evhttp_request *req = p->req;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL && evhttp_uri_get_path(uri) != NULL &&
	    *evhttp_uri_get_path(uri) != '\0' ? evhttp_uri_get_path(uri) : "/";
	const char *method = http_method_name((int)evhttp_request_get_command(req));
	struct server *s = p->w->srv;
	long long us;

	/* It goes before the result it waits on: a validation claimed in
	 * memory is written first (one durable write, on this loop; only
	 * when a hold ends at --hold-max or could not be had). */
	if (p->resp.wait.unsettled)
		(void)acme_settle(s->acme, p->base, time(NULL), &p->resp);
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Request-Id",
	    p->rid);
	us = elapsed_us(&p->t0);
	metrics_request(&s->metrics, p->route, p->resp.status, us);
	log_request(req, p->rid, method, path, p->route, p->resp.status, us);
	send_response(req, &p->resp);   /* may free req: used no more */
	acme_response_clear(&p->resp);
}

/* What a request kicked off: a validation it queued starts at once, and
 * when this loop's validator is full, the others take it. */
static void
request_after(struct worker *w)
{
	if (validator_kick(w->validator) != 0)
		server_wake_validators(w->srv, w);
}

/* An answer goes now, or is held until the validation it waits on ends
 * (or a cap on holds is reached). */
static void
request_answer(struct worker *w, struct http_pending *p)
{
	if (p->resp.wait.kind == ACME_WAIT_NONE || hold_start(w->hold, p) != 0)
		http_pending_send(p);
	request_after(w);
}

/* A request handled on the pool (pool.h): its own copy of what acme/
 * reads, since evhttp may free the request meanwhile. */
struct http_task {
	struct pool_task t;
	struct http_pending p;
	struct acme_request ar;
	struct acme *acme;
	struct holds *holds;
	int gone;                       /* evhttp freed p.req meanwhile */
	char buf[];                     /* the strings and body ar points to */
};

/* Copies s (NULL stays NULL) to *at, advancing it. */
static const char *
task_str(char **at, const char *s)
{
	char *d = *at;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*at += n;
	return d;
}

static size_t
str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static void
task_work(struct pool_task *t)
{
	struct http_task *x = (struct http_task *)t;

	x->p.seq = holds_seq(x->holds);
	acme_handle(x->acme, &x->ar, &x->p.resp);
}

/* The connection is being freed while its request is on the pool. */
static void
task_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_task *x = arg;

	(void)conn;
	/* detached from the connection, the request stays until answered
	 * (sending then frees it); still on it, it goes with it */
	if (evhttp_request_get_connection(x->p.req) != NULL)
		x->gone = 1;
}

static void
task_done(struct pool_task *t, int ran)
{
	struct http_task *x = (struct http_task *)t;
	struct evhttp_connection *conn = x->gone ? NULL :
	    evhttp_request_get_connection(x->p.req);

	if (conn != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	if (!ran) {
		/* shutting down: a request no connection owns is ours */
		if (!x->gone && conn == NULL)
			evhttp_request_free(x->p.req);
		acme_response_clear(&x->p.resp);
	} else if (x->gone) {
		acme_response_clear(&x->p.resp);
		request_after(x->p.w);
	} else
		request_answer(x->p.w, &x->p);
	free(x);
}

/* A task carrying p and a copy of ar, or NULL (no memory). */
static struct http_task *
task_new(struct worker *w, const struct acme_request *ar,
    const struct http_pending *p)
{
	struct http_task *x;
	char *at;

	x = calloc(1, sizeof(*x) + str_size(ar->path) + str_size(ar->query) +
	    str_size(ar->peer) + str_size(ar->content_type) + ar->body_len);
	if (x == NULL)
		return NULL;
	x->t.work = task_work;
	x->t.done = task_done;
	x->acme = w->srv->acme;
	x->holds = w->srv->holds;
	x->p = *p;
	x->ar = *ar;
	at = x->buf;
	x->ar.path = task_str(&at, ar->path);
	x->ar.query = task_str(&at, ar->query);
	x->ar.peer = task_str(&at, ar->peer);
	x->ar.content_type = task_str(&at, ar->content_type);
	x->ar.base_url = x->p.base;
	x->ar.request_id = x->p.rid;
	if (ar->body_len > 0) {
		memcpy(at, ar->body, ar->body_len);
		x->ar.body = (const uint8_t *)at;
	}
	return x;
}

/* Hands the request to the pool: 0, or -1 when it could not (no memory,
 * the pool stopping) and the caller handles it here. */
static int
request_offload(struct worker *w, const struct acme_request *ar,
    const struct http_pending *p)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(p->req);
	struct http_task *x;

	if (w->pool == NULL || conn == NULL || (x = task_new(w, ar, p)) == NULL)
		return -1;
	evhttp_connection_set_closecb(conn, task_conn_closed, x);
	if (pool_submit(w->pool, &x->t) != 0) {
		evhttp_connection_set_closecb(conn, NULL, NULL);
		free(x);
		return -1;
	}
	return 0;
}

void
http_handle(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct server *s = w->srv;
	struct acme_request ar;
	struct http_pending p;
	int here = 0;

	memset(&p, 0, sizeof(p));
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	p.w = w;
	p.req = req;
	request_id(w, p.rid, sizeof(p.rid));
	request_fill(s, req, &ar, p.base, sizeof(p.base));
	ar.request_id = p.rid;
	p.route = acme_route_of(ar.path);
	/* What may wait on a commit or the signer runs on the pool, so this
	 * loop goes on serving its other connections meanwhile; here only
	 * when the pool is idle (pool_inline). */
	if (acme_request_waits(s->acme, &ar) && !(here = pool_inline(s->pool)) &&
	    request_offload(w, &ar, &p) == 0)
		return;
	p.seq = holds_seq(s->holds);
	acme_handle(s->acme, &ar, &p.resp);
	if (here)
		pool_inline_done(s->pool);
	request_answer(w, &p);
}
