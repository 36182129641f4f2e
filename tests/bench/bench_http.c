#define _GNU_SOURCE /* strptime, timegm */
/*
 * bench_http.c: bench_acme's client side of TLS and HTTP/1.1: one
 * keep-alive connection per worker, its server certificate verified
 * against the root and the URL's host name; requests with Content-Length,
 * responses with Content-Length or chunked (Pebble's Go server chunks
 * larger bodies), Replay-Nonce, Location and Retry-After read from the
 * head. Every length is capped by the connection buffer.
 */
#include "bench_acme.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- TLS connection and HTTP/1.1 ---------------------------------------------- */

void
conn_close(struct conn *c)
{
	int fd;

	if (c->ssl != NULL)
		wolfSSL_free(c->ssl);
	fd = atomic_exchange(&c->fd, -1);

	if (fd >= 0)
		close(fd);
	c->ssl = NULL;
	c->len = 0;
	c->used = 0;
}

/* Wakes a worker blocked on its connection (the stall check, from another
 * thread); the worker closes it. */
void
conn_shutdown(struct conn *c)
{
	int fd = atomic_load(&c->fd);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void
tls_error(struct worker *w, const char *what, int rc)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	int err = wolfSSL_get_error(w->conn.ssl, rc);

	wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof(buf));
	snprintf(w->errmsg, sizeof(w->errmsg), "%s: %s (%d)", what, buf, err);
}

static int
tcp_connect(struct worker *w)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(w->b->host, w->b->port, &hints, &res)) != 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "resolve %.100s: %s", w->b->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "connect %.100s:%s: %s",
		    w->b->host, w->b->port, strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A new TLS connection to the server, its certificate checked against the
 * root and the URL's host name; 0 or -1 with w->errmsg. */
static int
conn_open(struct worker *w)
{
	struct conn *c = &w->conn;
	struct in6_addr a6;
	int rc, fd;

	conn_close(c);
	if ((fd = tcp_connect(w)) < 0)
		return -1;
	atomic_store(&c->fd, fd);
	if (atomic_load(&w->b->abort))
		shutdown(fd, SHUT_RDWR);
	if ((c->ssl = wolfSSL_new(w->b->ctx)) == NULL ||
	    wolfSSL_set_fd(c->ssl, fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_check_domain_name(c->ssl, w->b->host) != WOLFSSL_SUCCESS) {
		snprintf(w->errmsg, sizeof(w->errmsg), "TLS set-up failed");
		conn_close(c);
		return -1;
	}
	if (inet_pton(AF_INET6, w->b->host, &a6) != 1 &&
	    strspn(w->b->host, "0123456789.") != strlen(w->b->host))
		wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, w->b->host,
		    (unsigned short)strlen(w->b->host));
	if ((rc = wolfSSL_connect(c->ssl)) != WOLFSSL_SUCCESS) {
		tls_error(w, "TLS handshake", rc);
		conn_close(c);
		return -1;
	}
	w->connects++;
	return 0;
}

static int
conn_send(struct worker *w, const char *data, size_t len)
{
	size_t off = 0;
	int n;

	while (off < len) {
		n = wolfSSL_write(w->conn.ssl, data + off, (int)(len - off));
		if (n <= 0) {
			tls_error(w, "write", n);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Reads more bytes into the connection buffer; 0, or -1 with w->errmsg. */
static int
conn_fill(struct worker *w)
{
	struct conn *c = &w->conn;
	int n;

	if (c->len == sizeof(c->buf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response over %d bytes", CONN_BUF);
		return -1;
	}
	n = wolfSSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
	if (n <= 0) {
		if (wolfSSL_get_error(c->ssl, n) == WOLFSSL_ERROR_ZERO_RETURN || n == 0)
			snprintf(w->errmsg, sizeof(w->errmsg), "connection closed");
		else
			tls_error(w, "read", n);
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

static size_t
find_crlf(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return i;
	return SIZE_MAX;
}

static size_t
find_crlfcrlf(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return i;
	return SIZE_MAX;
}

/* Copies a header value (trimmed) when it fits. */
static void
header_value(char *dst, size_t cap, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len < cap) {
		memcpy(dst, v, len);
		dst[len] = '\0';
	}
}

/* Whether a Connection header value holds the token "close". */
static int
says_close(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i + 5 <= len; i++)
		if (strncasecmp(v + i, "close", 5) == 0)
			return 1;
	return 0;
}

/* What the head says about the body and the connection. */
struct head {
	long clen;                   /* -1: no Content-Length */
	int close_after;
	int chunked;
};

/* Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date; in ms,
 * capped, or -1 when unreadable. */
static long
retry_after_ms(const char *v)
{
	struct tm tm;
	long secs;

	if (parse_num(v, 0, 86400, &secs) == 0)
		return (secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : secs) * 1000;
	memset(&tm, 0, sizeof(tm));
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return -1;
	secs = (long)(timegm(&tm) - time(NULL));
	secs = secs < 0 ? 0 : secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : secs;
	return secs * 1000;
}

/* One header field; -1 when its value is unusable. */
static int
head_field(struct worker *w, const char *name, size_t nlen, const char *v,
    size_t vlen, struct head *h)
{
	struct http_resp *r = &w->r;
	char val[64];

#define IS(x) (nlen == sizeof(x) - 1 && strncasecmp(name, x, nlen) == 0)
	if (IS("Replay-Nonce"))
		header_value(r->nonce, sizeof(r->nonce), v, vlen);
	else if (IS("Location"))
		header_value(r->location, sizeof(r->location), v, vlen);
	else if (IS("Content-Type"))
		header_value(r->ctype, sizeof(r->ctype), v, vlen);
	else if (IS("Connection"))
		h->close_after = says_close(v, vlen);
	else if (IS("Content-Length")) {
		val[0] = '\0';
		header_value(val, sizeof(val), v, vlen);
		if (parse_num(val, 0, CONN_BUF, &h->clen) != 0)
			return -1;
	} else if (IS("Retry-After")) {
		val[0] = '\0';
		header_value(val, sizeof(val), v, vlen);
		r->retry_after_ms = retry_after_ms(val);
	} else if (IS("Transfer-Encoding")) {
		val[0] = '\0';
		header_value(val, sizeof(val), v, vlen);
		if (strcasecmp(val, "chunked") != 0)
			return -1;
		h->chunked = 1;
	}
#undef IS
	return 0;
}

/* Status line and the headers this client uses; -1 when malformed. */
static int
parse_head(struct worker *w, const char *p, size_t len, struct head *h)
{
	struct http_resp *r = &w->r;
	const char *line = p, *end = p + len, *eol, *colon;

	if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]))
		goto bad;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->nonce[0] = r->location[0] = r->ctype[0] = '\0';
	r->retry_after_ms = -1;
	h->clen = -1;
	h->close_after = h->chunked = 0;
	while ((eol = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		line = eol + 1;
		if ((colon = memchr(line, ':', (size_t)(end - line))) == NULL ||
		    (eol = memchr(line, '\r', (size_t)(end - line))) == NULL || colon > eol)
			continue;
		if (head_field(w, line, (size_t)(colon - line), colon + 1,
		        (size_t)(eol - colon - 1), h) != 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(w->errmsg, sizeof(w->errmsg), "malformed response head");
	return -1;
}

/* Waits until the buffer holds `need` bytes; 0 or -1 with w->errmsg. */
static int
conn_need(struct worker *w, size_t need)
{
	if (need > sizeof(w->conn.buf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response over %d bytes", CONN_BUF);
		return -1;
	}
	while (w->conn.len < need)
		if (conn_fill(w) != 0)
			return -1;
	return 0;
}

/* A chunked body (RFC 9112 §7.1) starting at off, decoded into w->r.body;
 * the bytes consumed from the buffer in *total. No trailers expected. */
static int
read_chunked(struct worker *w, size_t off, size_t *total)
{
	struct conn *c = &w->conn;
	size_t eol, out = 0;
	unsigned long n;
	char *end;

	for (;;) {
		while ((eol = find_crlf(c->buf + off, c->len - off)) == SIZE_MAX)
			if (conn_need(w, c->len + 1) != 0)
				return -1;
		n = strtoul(c->buf + off, &end, 16);
		if (end == c->buf + off || n > CONN_BUF - out)
			goto bad;
		off += eol + 2;
		if (conn_need(w, off + n + 2) != 0)
			return -1;
		memcpy(w->r.body + out, c->buf + off, n);
		out += n;
		off += n + 2;
		if (n == 0)
			break;
	}
	w->r.body[out] = '\0';
	w->r.body_len = out;
	*total = off;
	return 0;
bad:
	snprintf(w->errmsg, sizeof(w->errmsg), "malformed chunked body");
	return -1;
}

/* Reads one response into w->r (the body NUL-terminated); a HEAD response
 * has no body. 0, or -1 with w->errmsg and w->stale set when the
 * connection was closed before any byte of it arrived. */
static int
read_response(struct worker *w, int head_only)
{
	struct conn *c = &w->conn;
	struct head h;
	size_t hlen, total;

	w->stale = c->len == 0;
	while ((hlen = find_crlfcrlf(c->buf, c->len)) == SIZE_MAX) {
		if (conn_fill(w) != 0)
			return -1;
		w->stale = 0;
	}
	hlen += 4;
	if (parse_head(w, c->buf, hlen, &h) != 0)
		return -1;
	if (head_only || w->r.status == 204 || w->r.status == 304)
		h.clen = 0, h.chunked = 0;
	if (h.chunked) {
		if (read_chunked(w, hlen, &total) != 0)
			return -1;
	} else if (h.clen < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response without Content-Length");
		return -1;
	} else {
		if (conn_need(w, total = hlen + (size_t)h.clen) != 0)
			return -1;
		memcpy(w->r.body, c->buf + hlen, (size_t)h.clen);
		w->r.body[h.clen] = '\0';
		w->r.body_len = (size_t)h.clen;
	}
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	if (h.close_after)
		conn_close(c);
	return 0;
}

/* One request on the worker's keep-alive connection, opened when needed.
 * A connection the server closed while idle (no byte of the response) is
 * reopened and the request sent once more. 0 with w->r filled, or -1 with
 * w->errmsg. */
int
http_do(struct worker *w, const char *method, const char *path,
    const char *body)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	int n, attempt, reused;

	n = snprintf(w->sbuf, sizeof(w->sbuf),
	    "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hearth-bench_acme\r\n"
	    "%s%s%sContent-Length: %zu\r\n\r\n", method, path, w->b->authority,
	    body != NULL ? "Content-Type: " : "",
	    body != NULL ? "application/jose+json" : "",
	    body != NULL ? "\r\n" : "", blen);
	if (n < 0 || (size_t)n + blen >= sizeof(w->sbuf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "request too large");
		return -1;
	}
	if (blen > 0)
		memcpy(w->sbuf + n, body, blen);
	for (attempt = 0; attempt < 2; attempt++) {
		w->errmsg[0] = '\0';
		w->stale = 0;
		if (w->conn.ssl == NULL && conn_open(w) != 0)
			return -1;
		reused = w->conn.used++ > 0;
		if (conn_send(w, w->sbuf, (size_t)n + blen) == 0 &&
		    read_response(w, strcmp(method, "HEAD") == 0) == 0)
			return 0;
		conn_close(&w->conn);
		if (!reused || !w->stale)
			break;
	}
	return -1;
}

/* The path of an ACME URL, which must be on the server under test. */
const char *
url_path(const struct bench *b, const char *url)
{
	size_t n = strlen(b->origin);

	if (url == NULL || strncmp(url, b->origin, n) != 0 || url[n] != '/')
		return NULL;
	return url + n;
}
