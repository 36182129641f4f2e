/*
 * http01.c: the fetch half of http-01 validation (RFC 8555 §8.3).
 *
 * A fetch has dialer.c resolve the name (not for IP identifiers, RFC 8738
 * §3) and connect to the first IPv4 address and, should that fail, the
 * first IPv6 one (addresses in --validation-deny ranges are skipped, for
 * redirect targets too, and a name with only denied addresses is refused),
 * sends one GET and reads one response, following redirects to http:// or
 * https:// URLs on the standard ports or the http-01 port, up to
 * HTTP01_MAX_REDIRECTS. https uses crypto/'s client with no certificate
 * verification, as Let's Encrypt does for redirects. Every length read is
 * capped: headers by HTTP01_MAX_HEADER_BYTES, the body by
 * ACME_MAX_HTTP01_BODY. This file reports what happened; acme/ judges it.
 *
 * Why not evhttp's client: in libevent 2.1, evhttp_connection_connect_()
 * always calls bufferevent_socket_connect() on the connection's
 * bufferevent, which for a filter (our TLS, see tls_bev.c) enables the
 * filter's unused socket events; there is no way to hand evhttp a connected
 * TLS stream. It also retries and folds refused, reset and timed-out
 * connections into one error, where a validation must say which. So the
 * small HTTP/1.1 client below runs over a plain or TLS bufferevent alike:
 * one request per connection ("Connection: close"), responses framed by
 * Content-Length, chunked encoding or the end of the stream.
 */
#include "http01.h"
#include "dialer.h"
#include "resolver.h"
#include "server_internal.h"
#include "tls_bev.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#define HTTP01_DEFAULT_ATTEMPT_MS 10000
#define HTTP01_DEFAULT_TOTAL_MS   60000
#define HTTP01_PATH_PREFIX        "/.well-known/acme-challenge/"
#define HTTP01_MAX_TOKEN          128

struct http01_client {
	struct event_base *base;
	struct resolver *res;
	struct crypto_tls_client *tls;   /* for https redirect targets */
	struct http01_options opt;
	struct dialer_options dial;      /* from opt */
	struct http01_fetch *fetches;    /* running, for http01_client_free */
};

struct http01_fetch {
	struct http01_client *c;
	struct http01_fetch *prev, *next;
	http01_done_cb cb;
	void *arg;
	char identifier[256];
	struct event *start_ev, *total_timer;

	struct http01_url url;          /* the URL being fetched */
	char *visited[HTTP01_MAX_REDIRECTS + 1];
	unsigned n_visited;

	/* addresses of host, and the connection attempt */
	struct dialer *dial;
	struct bufferevent *bev;
	char tls_err[128];

	struct http01_response resp;
};

static void url_start(struct http01_fetch *f);

/* ---- ending a fetch ---- */

static void
conn_close(struct http01_fetch *f)
{
	if (f->bev != NULL) {
		bufferevent_free(f->bev);
		f->bev = NULL;
	}
}

static void
fetch_free(struct http01_fetch *f)
{
	unsigned i;

	conn_close(f);
	dialer_free(f->dial);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		f->c->fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	if (f->start_ev != NULL)
		event_free(f->start_ev);
	if (f->total_timer != NULL)
		event_free(f->total_timer);
	for (i = 0; i < f->n_visited; i++)
		free(f->visited[i]);
	free(f);
}

/* Reports the outcome and frees f. */
static void
fetch_finish(struct http01_fetch *f, enum acme_fetch_status st,
    const char *detail)
{
	struct acme_validation_result r;
	http01_done_cb cb = f->cb;
	void *arg = f->arg;

	memset(&r, 0, sizeof(r));
	r.status = st;
	if (st != ACME_FETCH_OK)
		snprintf(r.detail, sizeof(r.detail), "%s", detail);
	else {
		r.http_status = f->resp.status;
		r.body = f->resp.body;
		r.body_len = f->resp.body_len;
	}
	/* f stays allocated during the callback so r.body remains valid. */
	dialer_stop(f->dial);
	conn_close(f);
	cb(&r, arg);
	fetch_free(f);
}

static void
fetch_failf(struct http01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fetch_failf(struct http01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	fetch_finish(f, st, detail);
}

/* ---- URLs and redirects ---- */

static int
token_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > HTTP01_MAX_TOKEN)
		return 0;
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

/* A DNS name in letters, digits, hyphens and dots, or an IP literal. */
static int
host_set(struct http01_url *u, const char *host)
{
	unsigned char buf[16];
	size_t n = strlen(host), i;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(u->host) || n > RESOLVER_MAX_NAME)
		return -1;
	memcpy(u->host, host, n);
	u->host[n] = '\0';
	u->host_is_ip = inet_pton(AF_INET, u->host, buf) == 1 ||
	    inet_pton(AF_INET6, u->host, buf) == 1;
	if (u->host_is_ip)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)u->host[i]) && u->host[i] != '-' &&
		    u->host[i] != '.')
			return -1;
		u->host[i] = (char)tolower((unsigned char)u->host[i]);
	}
	return 0;
}

static void
url_format(const struct http01_url *u, char *out, size_t outsz)
{
	int v6 = strchr(u->host, ':') != NULL;

	snprintf(out, outsz, "%s://%s%s%s:%u%s", u->https ? "https" : "http",
	    v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->target);
}

static int
port_allowed(const struct http01_options *o, unsigned port)
{
	return port == o->http_port || port == o->https_port || port == o->port;
}

/* The scheme, port and host of an absolute Location u into url. 0, or -1
 * with the reason in why. */
static int
redirect_origin(const struct http01_options *o, struct evhttp_uri *u,
    const char *shown, struct http01_url *url, char *why, size_t whysz)
{
	const char *scheme = evhttp_uri_get_scheme(u);
	int port;

	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		snprintf(why, whysz, "redirect to \"%s\": only http and https are "
		    "allowed", shown);
		return -1;
	}
	url->https = strcasecmp(scheme, "https") == 0;
	port = evhttp_uri_get_port(u);
	url->port = port > 0 ? (unsigned)port :
	    url->https ? o->https_port : o->http_port;
	if (!port_allowed(o, url->port)) {
		snprintf(why, whysz, "redirect to \"%s\": port %u is not allowed "
		    "(only %u, %u or %u)", shown, url->port, o->http_port,
		    o->https_port, o->port);
		return -1;
	}
	if (host_set(url, evhttp_uri_get_host(u)) != 0) {
		snprintf(why, whysz, "redirect to \"%s\": not a valid host", shown);
		return -1;
	}
	return 0;
}

int
http01_redirect_parse(const struct http01_options *o, const char *location,
    struct http01_url *url, char *why, size_t whysz)
{
	struct evhttp_uri *u;
	const char *path, *query;
	char shown[128];
	int ret = -1;

	log_escape(location, shown, sizeof(shown));
	if (location[0] == '/' && location[1] != '/') {
		snprintf(url->target, sizeof(url->target), "%s", location);
		return 0;
	}
	if ((u = evhttp_uri_parse(location)) == NULL ||
	    evhttp_uri_get_scheme(u) == NULL || evhttp_uri_get_host(u) == NULL) {
		snprintf(why, whysz, "redirect to an unusable Location \"%s\"", shown);
		goto out;
	}
	if (redirect_origin(o, u, shown, url, why, whysz) != 0)
		goto out;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	snprintf(url->target, sizeof(url->target), "%s%s%s",
	    path != NULL && path[0] != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");
	ret = 0;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return ret;
}

/* Records the current URL; finishes f and returns -1 on a loop. */
static int
visit(struct http01_fetch *f)
{
	char url[HTTP01_MAX_URL + 300], shown[128];
	unsigned i;

	url_format(&f->url, url, sizeof(url));
	for (i = 0; i < f->n_visited; i++)
		if (strcmp(f->visited[i], url) == 0) {
			log_escape(url, shown, sizeof(shown));
			fetch_failf(f, ACME_FETCH_FORBIDDEN, "redirect loop at %s", shown);
			return -1;
		}
	if (f->n_visited < sizeof(f->visited) / sizeof(f->visited[0]) &&
	    (f->visited[f->n_visited] = strdup(url)) != NULL)
		f->n_visited++;
	return 0;
}

static void
redirect_follow(struct http01_fetch *f)
{
	char why[256];

	conn_close(f);
	if (f->n_visited > HTTP01_MAX_REDIRECTS) {
		fetch_failf(f, ACME_FETCH_FORBIDDEN, "too many redirects (more "
		    "than %d)", HTTP01_MAX_REDIRECTS);
		return;
	}
	if (http01_redirect_parse(&f->c->opt, f->resp.location, &f->url, why,
	    sizeof(why)) != 0) {
		fetch_finish(f, ACME_FETCH_FORBIDDEN, why);
		return;
	}
	url_start(f);
}

/* ---- reading the response: no I/O, only the bytes that arrived ---- */

enum read_state {
	RD_STATUS, RD_HEADERS, RD_LENGTH, RD_UNTIL_EOF,
	RD_CHUNK_SIZE, RD_CHUNK_DATA, RD_CHUNK_END, RD_TRAILERS, RD_DONE,
};

void
http01_response_init(struct http01_response *r)
{
	memset(r, 0, sizeof(*r));
	r->state = RD_STATUS;
	r->content_length = -1;
}

static int
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

static int
body_add(struct http01_response *r, struct evbuffer *in, size_t n)
{
	if (n > ACME_MAX_HTTP01_BODY - r->body_len)
		return HTTP01_ERR_BODY;
	if (evbuffer_remove(in, r->body + r->body_len, n) != (int)n)
		return HTTP01_ERR_READ;
	r->body_len += n;
	return 0;
}

/* "HTTP/1.x NNN reason" -> status, or -1. */
static int
parse_status(const char *line)
{
	int st;

	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
	    (line[12] != '\0' && line[12] != ' '))
		return -1;
	st = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return st >= 100 ? st : -1;
}

/* Whether a Transfer-Encoding value's last coding is "chunked". */
static int
ends_chunked(const char *v, size_t len)
{
	return len >= 7 && strcasecmp(v + len - 7, "chunked") == 0 &&
	    (len == 7 || v[len - 8] == ',' || v[len - 8] == ' ');
}

/* A header line: the few fields framing and redirects need. 0 or -1. */
static int
parse_header(struct http01_response *r, char *line)
{
	char *colon = strchr(line, ':'), *v, *end;
	unsigned long long n;
	size_t len;

	if (colon == NULL || colon == line)
		return -1;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		v[--len] = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (!isdigit((unsigned char)v[0]))
			return -1;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0' || n > (unsigned long long)INT64_MAX / 2 ||
		    (r->content_length >= 0 && (unsigned long long)r->content_length != n))
			return -1;
		r->content_length = (long long)n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		r->chunked = ends_chunked(v, len);
	} else if (strcasecmp(line, "Location") == 0) {
		if (len >= sizeof(r->location))
			return -1;
		memcpy(r->location, v, len + 1);
	}
	return 0;
}

/* Next line of the head within HTTP01_MAX_HEADER_BYTES: 1 with *line set
 * (caller frees), 0 when more input is needed, or HTTP01_ERR_HEADERS. */
static int
head_line(struct http01_response *r, struct evbuffer *in, char **line)
{
	size_t len;

	*line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	if (*line == NULL)
		return evbuffer_get_length(in) > HTTP01_MAX_HEADER_BYTES -
		    r->header_bytes ? HTTP01_ERR_HEADERS : 0;
	r->header_bytes += len + 2;
	if (r->header_bytes > HTTP01_MAX_HEADER_BYTES) {
		free(*line);
		return HTTP01_ERR_HEADERS;
	}
	return 1;
}

/* The head is complete: a redirect, or how the body is framed. */
static int
head_done(struct http01_response *r)
{
	if (is_redirect(r->status) && r->location[0] != '\0')
		return HTTP01_RESP_REDIRECT;
	if (r->status == 204 || r->status == 304) {
		r->state = RD_DONE;
	} else if (r->chunked) {
		r->state = RD_CHUNK_SIZE;
	} else if (r->content_length >= 0) {
		if (r->content_length > ACME_MAX_HTTP01_BODY)
			return HTTP01_ERR_LENGTH;
		r->state = r->content_length == 0 ? RD_DONE : RD_LENGTH;
	} else {
		r->state = RD_UNTIL_EOF;
	}
	return 0;
}

/* A chunk-size line, a chunk's end or a trailer line. 0 to go on,
 * HTTP01_RESP_MORE, or an error. */
static int
chunk_line(struct http01_response *r, struct evbuffer *in)
{
	char *line, *end;
	int bad;

	if ((bad = head_line(r, in, &line)) <= 0)
		return bad < 0 ? bad : HTTP01_RESP_MORE;
	if (r->state == RD_CHUNK_SIZE) {
		errno = 0;
		r->chunk_left = strtoull(line, &end, 16);
		bad = !isxdigit((unsigned char)line[0]) || errno != 0 ||
		    (*end != '\0' && *end != ';' && *end != ' ');
		r->state = r->chunk_left == 0 ? RD_TRAILERS : RD_CHUNK_DATA;
	} else {
		bad = r->state == RD_CHUNK_END && line[0] != '\0';
		if (line[0] == '\0')
			r->state = r->state == RD_CHUNK_END ? RD_CHUNK_SIZE : RD_DONE;
	}
	free(line);
	return bad ? HTTP01_ERR_CHUNKED : 0;
}

/* One step of the chunked decoder: 0 to go on, HTTP01_RESP_MORE, or an
 * error. */
static int
read_chunked(struct http01_response *r, struct evbuffer *in)
{
	size_t avail;
	int e;

	if (r->state != RD_CHUNK_DATA)
		return chunk_line(r, in);
	if ((avail = evbuffer_get_length(in)) == 0)
		return HTTP01_RESP_MORE;
	if (avail > r->chunk_left)
		avail = (size_t)r->chunk_left;
	if ((e = body_add(r, in, avail)) != 0)
		return e;
	if ((r->chunk_left -= avail) == 0)
		r->state = RD_CHUNK_END;
	return 0;
}

/* The status line or a header line: 0 to go on, HTTP01_RESP_MORE,
 * HTTP01_RESP_REDIRECT, or an error. */
static int
read_head(struct http01_response *r, struct evbuffer *in)
{
	char *line;
	int e;

	if ((e = head_line(r, in, &line)) <= 0)
		return e < 0 ? e : HTTP01_RESP_MORE;
	if (r->state == RD_STATUS) {
		r->status = parse_status(line);
		e = r->status < 0 ? -1 : 0;
		r->state = RD_HEADERS;
	} else if (line[0] == '\0') {
		e = 1;
	} else {
		e = parse_header(r, line);
	}
	free(line);
	if (e < 0)
		return HTTP01_ERR_MALFORMED;
	return e == 1 ? head_done(r) : 0;
}

/* Body bytes framed by Content-Length or by the end of the stream. */
static int
read_body(struct http01_response *r, struct evbuffer *in)
{
	size_t avail;
	int e;

	if ((avail = evbuffer_get_length(in)) == 0)
		return HTTP01_RESP_MORE;
	if (r->state == RD_LENGTH &&
	    avail > (size_t)r->content_length - r->body_len)
		avail = (size_t)r->content_length - r->body_len;
	if ((e = body_add(r, in, avail)) != 0)
		return e;
	if (r->state == RD_LENGTH && r->body_len == (size_t)r->content_length)
		r->state = RD_DONE;
	return 0;
}

int
http01_response_read(struct http01_response *r, struct evbuffer *in)
{
	int e;

	for (;;) {
		switch (r->state) {
		case RD_STATUS:
		case RD_HEADERS:
			e = read_head(r, in);
			break;
		case RD_LENGTH:
		case RD_UNTIL_EOF:
			e = read_body(r, in);
			break;
		case RD_DONE:
			return HTTP01_RESP_DONE;
		default:
			e = read_chunked(r, in);
			break;
		}
		if (e != 0)
			return e;
	}
}

int
http01_response_eof(const struct http01_response *r)
{
	if (r->state == RD_UNTIL_EOF || r->state == RD_DONE)
		return HTTP01_RESP_DONE;
	if (r->state == RD_STATUS && r->header_bytes == 0)
		return HTTP01_ERR_EMPTY;
	return HTTP01_ERR_TRUNCATED;
}

/* The words of a reading error, naming the peer. */
static void
response_fail(struct http01_fetch *f, int e)
{
	const char *peer = dialer_peer(f->dial);

	switch (e) {
	case HTTP01_ERR_BODY:
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "response body "
		    "from %s is too large (over %d bytes)", peer, ACME_MAX_HTTP01_BODY);
		break;
	case HTTP01_ERR_LENGTH:
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "response body "
		    "from %s is too large (%lld bytes, over %d)", peer,
		    f->resp.content_length, ACME_MAX_HTTP01_BODY);
		break;
	case HTTP01_ERR_EMPTY:
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "connection to "
		    "%s closed without a response", peer);
		break;
	default:
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "%s from %s",
		    e == HTTP01_ERR_HEADERS ? "response headers too large" :
		    e == HTTP01_ERR_CHUNKED ? "malformed chunked response" :
		    e == HTTP01_ERR_READ ? "cannot read the response" :
		    e == HTTP01_ERR_TRUNCATED ? "truncated HTTP response" :
		    "malformed HTTP response", peer);
		break;
	}
}

/* Acts on what reading (or the end of the stream) gave; -1 when f has
 * moved on (failed, finished or redirected), 0 when it waits for more. */
static int
response_step(struct http01_fetch *f, int e)
{
	if (e == HTTP01_RESP_MORE)
		return 0;
	if (e == HTTP01_RESP_DONE)
		fetch_finish(f, ACME_FETCH_OK, NULL);
	else if (e == HTTP01_RESP_REDIRECT)
		redirect_follow(f);
	else
		response_fail(f, e);
	return -1;
}

/* Consumes what arrived; -1 when f has moved on, 0 otherwise. */
static int
read_input(struct http01_fetch *f, struct evbuffer *in)
{
	return response_step(f, http01_response_read(&f->resp, in));
}

/* ---- the connection ---- */

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct http01_fetch *f = arg;

	(void)read_input(f, bufferevent_get_input(bev));
}

static void
send_request(struct http01_fetch *f)
{
	const struct http01_url *u = &f->url;
	unsigned dflt = u->https ? f->c->opt.https_port : f->c->opt.http_port;
	int v6 = strchr(u->host, ':') != NULL;
	char port[16] = "";

	if (u->port != dflt)
		snprintf(port, sizeof(port), ":%u", u->port);
	if (evbuffer_add_printf(bufferevent_get_output(f->bev),
	    "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\n"
	    "User-Agent: hearth-validation\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", u->target, v6 ? "[" : "", u->host,
	    v6 ? "]" : "", port) < 0)
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "out of memory");
}

/* The stream ended: that ends a body read until EOF; anything else came
 * up short. */
static void
conn_eof(struct http01_fetch *f)
{
	(void)response_step(f, http01_response_eof(&f->resp));
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http01_fetch *f = arg;
	int err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		dialer_set_connected(f->dial);
		send_request(f);
		return;
	}
	/* Deliver what the TLS filter decrypted before the stream ended. */
	if (dialer_connected(f->dial) &&
	    read_input(f, bufferevent_get_input(bev)) != 0)
		return;
	if (f->tls_err[0] != '\0')
		dialer_attempt_failf(f->dial, ACME_FETCH_TLS, "TLS with %s failed: "
		    "%s", dialer_peer(f->dial), f->tls_err);
	else if (what & BEV_EVENT_EOF)
		conn_eof(f);
	else
		dialer_conn_failed(f->dial, err);
}

static void
total_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http01_fetch *f = arg;

	if (dialer_resolving(f->dial)) {
		fetch_failf(f, ACME_FETCH_DNS, "DNS lookup of %s timed out",
		    f->url.host);
		return;
	}
	fetch_failf(f, ACME_FETCH_CONNECTION, "fetching the challenge from %s did "
	    "not finish within %u ms", f->identifier, f->c->opt.total_timeout_ms);
}

/* dialer.c: a socket connecting to the next address; the response
 * starts afresh. */
static struct bufferevent *
dial_attempt(void *arg, int fd)
{
	struct http01_fetch *f = arg;
	struct http01_client *c = f->c;

	f->tls_err[0] = '\0';
	http01_response_init(&f->resp);
	/* Both kinds of bufferevent own fd from here, even on failure. */
	if (f->url.https)
		f->bev = tls_bev_client_new(c->base, fd, c->tls, f->url.host_is_ip ?
		    NULL : f->url.host, f->tls_err, sizeof(f->tls_err));
	else if ((f->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		close(fd);
	if (f->bev != NULL) {
		bufferevent_setcb(f->bev, read_cb, NULL, event_cb, f);
		bufferevent_enable(f->bev, EV_READ | EV_WRITE);
	}
	return f->bev;
}

static void
dial_close(void *arg)
{
	conn_close(arg);
}

static void
dial_fail(void *arg, enum acme_fetch_status st, const char *detail)
{
	fetch_finish(arg, st, detail);
}

static const struct dialer_ops dial_ops = { dial_attempt, dial_close,
    dial_fail };

/* Fetches the URL in f (https, host, port, target). */
static void
url_start(struct http01_fetch *f)
{
	if (visit(f) == 0)
		dialer_start(f->dial, f->url.host, f->url.host_is_ip, f->url.port);
}

static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http01_fetch *f = arg;
	struct timeval tv;

	tv.tv_sec = f->c->opt.total_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(f->c->opt.total_timeout_ms % 1000) * 1000;
	evtimer_add(f->total_timer, &tv);
	url_start(f);
}

/* ---- public ---- */

struct http01_fetch *
http01_fetch_start(struct http01_client *c, const char *identifier, int is_ip,
    const char *token, http01_done_cb cb, void *arg)
{
	struct http01_fetch *f;

	if (c == NULL || cb == NULL || !token_ok(token) ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->c = c;
	f->cb = cb;
	f->arg = arg;
	f->next = c->fetches;
	if (c->fetches != NULL)
		c->fetches->prev = f;
	c->fetches = f;
	snprintf(f->identifier, sizeof(f->identifier), "%s", identifier);
	f->url.port = c->opt.port;
	snprintf(f->url.target, sizeof(f->url.target), HTTP01_PATH_PREFIX "%s",
	    token);
	if (host_set(&f->url, identifier) != 0 ||
	    (f->url.host_is_ip != 0) != (is_ip != 0) ||
	    (f->start_ev = event_new(c->base, -1, 0, start_cb, f)) == NULL ||
	    (f->dial = dialer_new(c->base, c->res, &c->dial, &dial_ops,
	    f)) == NULL ||
	    (f->total_timer = evtimer_new(c->base, total_timeout_cb, f)) == NULL) {
		fetch_free(f);
		return NULL;
	}
	event_active(f->start_ev, 0, 0);
	return f;
}

void
http01_fetch_cancel(struct http01_fetch *f)
{
	if (f != NULL)
		fetch_free(f);
}

struct http01_client *
http01_client_new(struct event_base *base, struct resolver *res,
    const struct http01_options *opts)
{
	struct http01_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->res = res;
	if (opts != NULL)
		c->opt = *opts;
	if (c->opt.port == 0)
		c->opt.port = 80;
	if (c->opt.http_port == 0)
		c->opt.http_port = 80;
	if (c->opt.https_port == 0)
		c->opt.https_port = 443;
	if (c->opt.attempt_timeout_ms == 0)
		c->opt.attempt_timeout_ms = HTTP01_DEFAULT_ATTEMPT_MS;
	if (c->opt.total_timeout_ms == 0)
		c->opt.total_timeout_ms = HTTP01_DEFAULT_TOTAL_MS;
	c->dial.attempt_timeout_ms = c->opt.attempt_timeout_ms;
	c->dial.deny = c->opt.deny;
	c->dial.waiting = "waiting for a response from";
	if ((c->tls = crypto_tls_client_new(NULL, NULL)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
http01_client_free(struct http01_client *c)
{
	if (c == NULL)
		return;
	while (c->fetches != NULL)
		fetch_free(c->fetches);
	crypto_tls_client_free(c->tls);
	free(c);
}
