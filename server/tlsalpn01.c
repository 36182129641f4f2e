/*
 * tlsalpn01.c: the fetch half of tls-alpn-01 validation (RFC 8737).
 *
 * A fetch resolves the name (an IP identifier is its own address, RFC 8738
 * §6), skips addresses --validation-deny names, connects to the first IPv4
 * address and, should that fail, the first IPv6 one, and runs a TLS
 * handshake offering SNI and only ALPN "acme-tls/1". Once the handshake is
 * done it takes the peer's certificate and the selected protocol and
 * closes; no application data is ever sent. wolfSSL ends the handshake at
 * the certificate itself when it carries the critical acmeIdentifier
 * extension (it refuses unknown critical extensions even unverified); by
 * then ALPN is negotiated and the certificate received, which is all RFC
 * 8737 §3 asks of the handshake, so that ending counts as success. crypto_tls is driven directly
 * over a socket bufferevent: its ciphertext callbacks read the
 * bufferevent's input and append to its output, and every arrival of bytes
 * drives the handshake one step. This file reports what happened; acme/
 * judges the certificate.
 */
#include "tlsalpn01.h"
#include "denylist.h"
#include "resolver.h"
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	struct event *start_ev, *attempt_timer, *total_timer;
	struct resolver_query *dnsq;
	struct resolver_addr addrs[2];   /* first IPv4, then first IPv6 */
	size_t n_addrs, attempt;
	char peer[64];                   /* "ADDR:PORT" of this attempt */
	struct bufferevent *bev;
	struct crypto_tls *tls;
	int connected, eof;
	int completed;                   /* the handshake finished */
	enum acme_fetch_status fail_status;
	char fail_detail[256];           /* the first failed attempt's */
};

static void attempt_start(struct tlsalpn01_fetch *f);

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
	if (f->attempt_timer != NULL)
		evtimer_del(f->attempt_timer);
}

static void
fetch_free(struct tlsalpn01_fetch *f)
{
	conn_close(f);
	resolver_cancel(f->dnsq);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		f->c->fetches = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	if (f->start_ev != NULL)
		event_free(f->start_ev);
	if (f->attempt_timer != NULL)
		event_free(f->attempt_timer);
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
			    "is too large (%zu bytes, over %d)", f->peer,
			    r.peer_cert_len, TLSALPN01_MAX_CERT);
			r.peer_cert = NULL;
			r.peer_cert_len = 0;
			r.alpn = NULL;
		}
		if (f->completed)
			crypto_tls_close(f->tls);   /* close_notify, best effort */
	}
	resolver_cancel(f->dnsq);
	f->dnsq = NULL;
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

/* This address failed: try the next, or report the first failure (with
 * the other's appended). */
static void attempt_failf(struct tlsalpn01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
attempt_failf(struct tlsalpn01_fetch *f, enum acme_fetch_status st,
    const char *fmt, ...)
{
	char detail[256];
	size_t len, room, n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	conn_close(f);
	if (f->attempt == 0) {
		f->fail_status = st;
		snprintf(f->fail_detail, sizeof(f->fail_detail), "%s", detail);
	} else if ((len = strlen(f->fail_detail)) + 3 < sizeof(f->fail_detail)) {
		/* Then the other address family's failure, as far as it fits. */
		memcpy(f->fail_detail + len, "; ", 3);
		len += 2;
		room = sizeof(f->fail_detail) - len - 1;
		n = strlen(detail) < room ? strlen(detail) : room;
		memcpy(f->fail_detail + len, detail, n);
		f->fail_detail[len + n] = '\0';
	}
	if (++f->attempt < f->n_addrs) {
		attempt_start(f);
		return;
	}
	fetch_finish(f, f->fail_status, f->fail_detail);
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
		attempt_failf(f, ACME_FETCH_TLS, "%s closed the connection during "
		    "the TLS handshake", f->peer);
	else
		attempt_failf(f, ACME_FETCH_TLS, "TLS handshake with %s failed: %s",
		    f->peer, crypto_tls_error(f->tls));
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	handshake_step(arg);
}

static void
conn_failed(struct tlsalpn01_fetch *f, int err)
{
	if (err == ECONNREFUSED)
		attempt_failf(f, ACME_FETCH_CONNECTION, "connection refused by %s",
		    f->peer);
	else if (err == ECONNRESET)
		attempt_failf(f, ACME_FETCH_CONNECTION, "connection reset by %s",
		    f->peer);
	else
		attempt_failf(f, ACME_FETCH_CONNECTION, "%s %s: %s", f->connected ?
		    "connection error with" : "cannot connect to", f->peer,
		    err != 0 ? strerror(err) : "unknown error");
}

static void
connected(struct tlsalpn01_fetch *f)
{
	struct crypto_tls_io io;
	int err;

	f->connected = 1;
	io.recv = io_recv;
	io.send = io_send;
	io.arg = f;
	if ((f->tls = crypto_tls_connect(f->c->tls, f->sni, &io, &err)) == NULL) {
		attempt_failf(f, ACME_FETCH_TLS, "cannot start TLS with %s: %s",
		    f->peer, crypto_strerror(err));
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
		attempt_failf(f, ACME_FETCH_CONNECTION, "%s closed the connection",
		    f->peer);
	else
		conn_failed(f, err);
}

static void
attempt_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;

	attempt_failf(f, ACME_FETCH_CONNECTION, "timeout %s %s", f->connected ?
	    "during the TLS handshake with" : "connecting to", f->peer);
}

static void
total_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;

	if (f->dnsq != NULL) {
		fetch_failf(f, ACME_FETCH_DNS, "DNS lookup of %s timed out",
		    f->identifier);
		return;
	}
	fetch_failf(f, ACME_FETCH_CONNECTION, "the tls-alpn-01 handshake with %s "
	    "did not finish within %u ms", f->identifier,
	    f->c->opt.total_timeout_ms);
}

/* ---- connecting ---- */

static socklen_t
sockaddr_fill(const struct resolver_addr *a, unsigned port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		memcpy(&in4->sin_addr, a->addr, 4);
		return sizeof(*in4);
	}
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	memcpy(&in6->sin6_addr, a->addr, 16);
	return sizeof(*in6);
}

static void
attempt_start(struct tlsalpn01_fetch *f)
{
	const struct resolver_addr *a = &f->addrs[f->attempt];
	struct tlsalpn01_client *c = f->c;
	struct sockaddr_storage ss;
	struct timeval tv;
	char ip[INET6_ADDRSTRLEN];
	socklen_t len;
	int fd, err;

	resolver_addr_str(a, ip, sizeof(ip));
	snprintf(f->peer, sizeof(f->peer), a->family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", ip, c->opt.port);
	f->connected = 0;
	f->eof = 0;
	len = sockaddr_fill(a, c->opt.port, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&ss, len) != 0 &&
	    errno != EINPROGRESS)) {
		err = errno;
		if (fd >= 0)
			close(fd);
		conn_failed(f, err);
		return;
	}
	if ((f->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		attempt_failf(f, ACME_FETCH_CONNECTION, "cannot connect to %s: out "
		    "of resources", f->peer);
		return;
	}
	bufferevent_setcb(f->bev, read_cb, NULL, event_cb, f);
	bufferevent_enable(f->bev, EV_READ | EV_WRITE);
	tv.tv_sec = c->opt.attempt_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(c->opt.attempt_timeout_ms % 1000) * 1000;
	evtimer_add(f->attempt_timer, &tv);
	/* Waits for the connection: BEV_EVENT_CONNECTED or an error follows. */
	if (bufferevent_socket_connect(f->bev, NULL, 0) != 0)
		attempt_failf(f, ACME_FETCH_CONNECTION, "cannot connect to %s",
		    f->peer);
}

/* Picks the first allowed IPv4 and IPv6 address. 0, or -1 after finishing
 * f with ACME_FETCH_FORBIDDEN when every address is denied. */
static int
addrs_choose(struct tlsalpn01_fetch *f, const struct resolver_addr *addrs,
    size_t n)
{
	char ip[INET6_ADDRSTRLEN], range[DENYLIST_RANGE_STRLEN];
	char first[INET6_ADDRSTRLEN + DENYLIST_RANGE_STRLEN + 40] = "";
	size_t i, v4 = 0, v6 = 0;

	f->n_addrs = 0;
	f->attempt = 0;
	for (i = 0; i < n; i++) {
		if (denylist_match(f->c->opt.deny, &addrs[i], range, sizeof(range))) {
			resolver_addr_str(&addrs[i], ip, sizeof(ip));
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "address %s is in denied "
				    "range %s", ip, range);
		} else if (addrs[i].family == AF_INET && v4++ == 0) {
			f->addrs[f->n_addrs++] = addrs[i];
		} else if (addrs[i].family == AF_INET6 && v6++ == 0) {
			f->addrs[f->n_addrs++] = addrs[i];
		}
	}
	if (f->n_addrs == 0) {
		if (n > 1)
			fetch_failf(f, ACME_FETCH_FORBIDDEN, "every address of %s is "
			    "denied: %s", f->identifier, first);
		else
			fetch_failf(f, ACME_FETCH_FORBIDDEN, "%s", first);
		return -1;
	}
	if (f->n_addrs == 2 && f->addrs[0].family == AF_INET6) {
		struct resolver_addr t = f->addrs[0];

		f->addrs[0] = f->addrs[1];
		f->addrs[1] = t;
	}
	return 0;
}

static void
dns_cb(int rc, const char *why, const struct resolver_addr *addrs, size_t n,
    void *arg)
{
	struct tlsalpn01_fetch *f = arg;

	f->dnsq = NULL;
	if (rc == RESOLVER_ERR_NOTFOUND) {
		fetch_failf(f, ACME_FETCH_DNS, "no A/AAAA records for %s",
		    f->identifier);
		return;
	}
	if (rc != RESOLVER_OK) {
		fetch_failf(f, ACME_FETCH_DNS, "DNS lookup of %s failed: %s",
		    f->identifier, why != NULL ? why : resolver_strerror(rc));
		return;
	}
	if (addrs_choose(f, addrs, n) == 0)
		attempt_start(f);
}

static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsalpn01_fetch *f = arg;
	struct resolver_addr a;
	struct timeval tv;

	tv.tv_sec = f->c->opt.total_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(f->c->opt.total_timeout_ms % 1000) * 1000;
	evtimer_add(f->total_timer, &tv);
	if (f->is_ip) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(f->identifier, ':') != NULL ? AF_INET6 : AF_INET;
		(void)inet_pton(a.family, f->identifier, a.addr);
		if (addrs_choose(f, &a, 1) == 0)
			attempt_start(f);
		return;
	}
	f->dnsq = resolver_lookup_addr(f->c->res, f->identifier, dns_cb, f);
	if (f->dnsq == NULL)
		fetch_failf(f, ACME_FETCH_DNS, "cannot look up %s", f->identifier);
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
	    (f->attempt_timer = evtimer_new(c->base, attempt_timeout_cb, f)) == NULL ||
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
