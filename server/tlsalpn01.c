/*
 * tlsalpn01.c: the fetch half of tls-alpn-01 validation (RFC 8737).
 *
 * A fetch has dialer.c resolve the name (an IP identifier is its own
 * address, RFC 8738 §6), skip addresses --validation-deny names and connect
 * to the first IPv4 address and, should that fail, the first IPv6 one; over
 * each connection it runs a TLS handshake offering SNI and only ALPN
 * "acme-tls/1". Once the handshake is done it takes the peer's certificate
 * and the selected protocol and closes; no application data is ever sent.
 * wolfSSL ends the handshake at the certificate itself when it carries the
 * critical acmeIdentifier extension (it refuses unknown critical extensions
 * even unverified); by then ALPN is negotiated and the certificate
 * received, which is all RFC 8737 §3 asks of the handshake, so that ending
 * counts as success. crypto_tls is driven directly over a socket
 * bufferevent: its ciphertext callbacks read the bufferevent's input and
 * append to its output, and every arrival of bytes drives the handshake one
 * step. This file reports what happened; acme/ judges the certificate.
 */
#include "tlsalpn01.h"
#include "dialer.h"
#include "resolver.h"
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define TLSALPN01_DEFAULT_ATTEMPT_MS 10000
#define TLSALPN01_DEFAULT_TOTAL_MS   30000

struct tlsalpn01_client {
	struct event_base *base;
	struct resolver *res;
	struct crypto_tls_client *tls;   /* offers only acme-tls/1 */
	struct tlsalpn01_options opt;
	struct dialer_options dial;      /* from opt */
	struct tlsalpn01_fetch *fetches; /* running, for tlsalpn01_client_free */
};

struct tlsalpn01_fetch {
	struct tlsalpn01_client *c;
	struct tlsalpn01_fetch *prev, *next;
	tlsalpn01_done_cb cb;
	void *arg;
	char identifier[256];
	int is_ip;
	char sni[RESOLVER_MAX_NAME + 1];
	struct event *start_ev, *total_timer;
	struct dialer *dial;             /* addresses and attempts */
	struct bufferevent *bev;
	struct crypto_tls *tls;
	int eof;
	int completed;                   /* the handshake finished */
};

/* ---- ending a fetch ---- */

static void
conn_close(struct tlsalpn01_fetch *f)
{
	if (f->tls != NULL) {
		crypto_tls_free(f->tls);
		f->tls = NULL;
	}
	if (f->bev != NULL) {
		bufferevent_free(f->bev);
		f->bev = NULL;
	}
}

static void
fetch_free(struct tlsalpn01_fetch *f)
{
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
	free(f);
}

/* Reports the outcome (with the handshake's findings when OK) and frees f. */
static void
fetch_finish(struct tlsalpn01_fetch *f, enum acme_fetch_status st,
    const char *detail)
{
	struct acme_validation_result r;
	tlsalpn01_done_cb cb = f->cb;
	void *arg = f->arg;

	memset(&r, 0, sizeof(r));
	r.status = st;
	if (st != ACME_FETCH_OK) {
		snprintf(r.detail, sizeof(r.detail), "%s", detail);
	} else {
		r.peer_cert = crypto_tls_peer_cert(f->tls, &r.peer_cert_len);
		r.alpn = crypto_tls_alpn_selected(f->tls);
		if (r.peer_cert_len > TLSALPN01_MAX_CERT) {
			r.status = ACME_FETCH_CONNECTION;
			snprintf(r.detail, sizeof(r.detail), "the certificate from %s "
			    "is too large (%zu bytes, over %d)",
			    dialer_peer(f->dial), r.peer_cert_len, TLSALPN01_MAX_CERT);
			r.peer_cert = NULL;
			r.peer_cert_len = 0;
			r.alpn = NULL;
		}
		if (f->completed)
			crypto_tls_close(f->tls);   /* close_notify, best effort */
	}
	dialer_stop(f->dial);
	/* f, and its connection, stay allocated while r points into them. */
	cb(&r, arg);
	fetch_free(f);
}

static void fetch_failf(struct tlsalpn01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fetch_failf(struct tlsalpn01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	conn_close(f);
	fetch_finish(f, st, detail);
}

/* ---- the handshake ---- */

static int
io_recv(void *arg, uint8_t *buf, size_t len)
{
	struct tlsalpn01_fetch *f = arg;
	struct evbuffer *in = bufferevent_get_input(f->bev);
	int n;

	if (evbuffer_get_length(in) == 0)
		return f->eof ? -1 : 0;
	n = evbuffer_remove(in, buf, len);
	return n < 0 ? -1 : n;
}

static int
io_send(void *arg, const uint8_t *buf, size_t len)
{
	struct tlsalpn01_fetch *f = arg;

	if (len > INT32_MAX)
		len = INT32_MAX;
	if (evbuffer_add(bufferevent_get_output(f->bev), buf, len) != 0)
		return -1;
	return (int)len;
}

/* One step of the handshake, after bytes arrived or the stream ended. */
static void
handshake_step(struct tlsalpn01_fetch *f)
{
	int ret = crypto_tls_handshake(f->tls);

	if (ret == CRYPTO_OK) {
		f->completed = 1;
		fetch_finish(f, ACME_FETCH_OK, NULL);
		return;
	}
	/* wolfSSL stops at a certificate with an unknown critical extension,
	 * which a tls-alpn-01 certificate has by design. ALPN was negotiated
	 * and the certificate received, which is what RFC 8737 §3 checks. */
	if (ret == CRYPTO_TLS_CERT_REFUSED) {
		fetch_finish(f, ACME_FETCH_OK, NULL);
		return;
	}
	if (ret == CRYPTO_TLS_WANT_READ || ret == CRYPTO_TLS_WANT_WRITE) {
		if (!f->eof)
			return;
		ret = CRYPTO_TLS_CLOSED;
	}
	if (ret == CRYPTO_TLS_CLOSED)
		dialer_attempt_failf(f->dial, ACME_FETCH_TLS, "%s closed the "
		    "connection during the TLS handshake", dialer_peer(f->dial));
	else
		dialer_attempt_failf(f->dial, ACME_FETCH_TLS, "TLS handshake with "
		    "%s failed: %s", dialer_peer(f->dial), crypto_tls_error(f->tls));
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	handshake_step(arg);
}

static void
connected(struct tlsalpn01_fetch *f)
{
	struct crypto_tls_io io;
	int err;

	dialer_set_connected(f->dial);
	io.recv = io_recv;
	io.send = io_send;
	io.arg = f;
	if ((f->tls = crypto_tls_connect(f->c->tls, f->sni, &io, &err)) == NULL) {
		dialer_attempt_failf(f->dial, ACME_FETCH_TLS, "cannot start TLS "
		    "with %s: %s", dialer_peer(f->dial), crypto_strerror(err));
		return;
	}
	handshake_step(f);          /* sends the ClientHello */
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;
	int err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		connected(f);
		return;
	}
	if (f->tls != NULL && (what & BEV_EVENT_EOF)) {
		f->eof = 1;
		handshake_step(f);      /* what arrived last, then the end */
		return;
	}
	if (what & BEV_EVENT_EOF)
		dialer_attempt_failf(f->dial, ACME_FETCH_CONNECTION, "%s closed "
		    "the connection", dialer_peer(f->dial));
	else
		dialer_conn_failed(f->dial, err);
}

static void
total_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;

	if (dialer_resolving(f->dial)) {
		fetch_failf(f, ACME_FETCH_DNS, "DNS lookup of %s timed out",
		    f->identifier);
		return;
	}
	fetch_failf(f, ACME_FETCH_CONNECTION, "the tls-alpn-01 handshake with %s "
	    "did not finish within %u ms", f->identifier,
	    f->c->opt.total_timeout_ms);
}

/* ---- connecting ---- */

/* dialer.c: a socket connecting to the next address. */
static struct bufferevent *
dial_attempt(void *arg, int fd)
{
	struct tlsalpn01_fetch *f = arg;

	f->eof = 0;
	if ((f->bev = bufferevent_socket_new(f->c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
	} else {
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
	struct tlsalpn01_fetch *f = arg;

	conn_close(f);
	fetch_finish(f, st, detail);
}

static const struct dialer_ops dial_ops = { dial_attempt, dial_close,
    dial_fail };

static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;
	struct timeval tv;

	tv.tv_sec = f->c->opt.total_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(f->c->opt.total_timeout_ms % 1000) * 1000;
	evtimer_add(f->total_timer, &tv);
	dialer_start(f->dial, f->identifier, f->is_ip, f->c->opt.port);
}

/* ---- public ---- */

int
tlsalpn01_reverse_name(const char *ip, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	size_t i, o = 0;

	if (inet_pton(AF_INET, ip, a) == 1) {
		if ((size_t)snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3],
		    a[2], a[1], a[0]) >= outsz)
			return -1;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || outsz < 32 * 2 + sizeof("ip6.arpa"))
		return -1;
	for (i = 16; i-- > 0;) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

static int
identifier_set(struct tlsalpn01_fetch *f, const char *identifier, int is_ip)
{
	unsigned char buf[16];
	size_t n = strlen(identifier);

	if (n == 0 || n > RESOLVER_MAX_NAME)
		return -1;
	memcpy(f->identifier, identifier, n + 1);
	f->is_ip = is_ip != 0;
	if ((inet_pton(AF_INET, identifier, buf) == 1 ||
	    inet_pton(AF_INET6, identifier, buf) == 1) != f->is_ip)
		return -1;
	if (f->is_ip)
		return tlsalpn01_reverse_name(identifier, f->sni, sizeof(f->sni));
	memcpy(f->sni, identifier, n + 1);
	return 0;
}

struct tlsalpn01_fetch *
tlsalpn01_fetch_start(struct tlsalpn01_client *c, const char *identifier,
    int is_ip, tlsalpn01_done_cb cb, void *arg)
{
	struct tlsalpn01_fetch *f;

	if (c == NULL || cb == NULL || identifier == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->c = c;
	f->cb = cb;
	f->arg = arg;
	f->next = c->fetches;
	if (c->fetches != NULL)
		c->fetches->prev = f;
	c->fetches = f;
	if (identifier_set(f, identifier, is_ip) != 0 ||
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
tlsalpn01_fetch_cancel(struct tlsalpn01_fetch *f)
{
	if (f != NULL)
		fetch_free(f);
}

struct tlsalpn01_client *
tlsalpn01_client_new(struct event_base *base, struct resolver *res,
    const struct tlsalpn01_options *opts)
{
	struct tlsalpn01_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->res = res;
	if (opts != NULL)
		c->opt = *opts;
	if (c->opt.port == 0)
		c->opt.port = 443;
	if (c->opt.attempt_timeout_ms == 0)
		c->opt.attempt_timeout_ms = TLSALPN01_DEFAULT_ATTEMPT_MS;
	if (c->opt.total_timeout_ms == 0)
		c->opt.total_timeout_ms = TLSALPN01_DEFAULT_TOTAL_MS;
	c->dial.attempt_timeout_ms = c->opt.attempt_timeout_ms;
	c->dial.deny = c->opt.deny;
	c->dial.waiting = "during the TLS handshake with";
	if ((c->tls = crypto_tls_client_new(TLSALPN01_PROTOCOL, NULL)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
tlsalpn01_client_free(struct tlsalpn01_client *c)
{
	if (c == NULL)
		return;
	while (c->fetches != NULL)
		fetch_free(c->fetches);
	crypto_tls_client_free(c->tls);
	free(c);
}
