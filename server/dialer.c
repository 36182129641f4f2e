/*
 * dialer.c: resolving, the deny list and the per-address connection
 * attempts of the http-01 and tls-alpn-01 fetches (RFC 8555 §8.3, RFC 8737
 * §3). It owns the address lookup, the choice of addresses, the attempt
 * timer, the socket up to its connect(), the refusal of denied addresses
 * and of this server's own listeners, and the wording of connection
 * failures; the protocol spoken over the connection, the bufferevent that
 * carries it and the fetch's overall deadline belong to the caller. It
 * never reads or writes application data.
 */
#include "dialer.h"
#include "denylist.h"
#include "resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#define DIALER_DETAIL 256            /* as acme_validation_result.detail */

struct dialer {
	struct resolver *res;
	struct dialer_options opt;
	const struct dialer_ops *ops;
	void *arg;
	struct event *attempt_timer;
	struct resolver_query *dnsq;
	char name[RESOLVER_MAX_NAME + 1];
	unsigned port;
	struct resolver_addr addrs[2];   /* first IPv4, then first IPv6 */
	size_t n_addrs, attempt;
	char peer[64];                   /* "ADDR:PORT" of this attempt */
	int connected;
	enum acme_fetch_status fail_status;
	char fail_detail[DIALER_DETAIL]; /* the first failed attempt's, ... */
};

static void attempt_start(struct dialer *d);

/* Ends the dial with a failure no attempt caused; d may be freed after. */
static void fail_finalf(struct dialer *d, enum acme_fetch_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail_finalf(struct dialer *d, enum acme_fetch_status st, const char *fmt, ...)
{
	char detail[DIALER_DETAIL];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	d->ops->fail(d->arg, st, detail);
}

/* Records an attempt's failure: the first as it is, later ones appended
 * after "; " as far as they fit. */
static void
failure_add(struct dialer *d, enum acme_fetch_status st, const char *detail)
{
	size_t len, room, n;

	if (d->attempt == 0) {
		d->fail_status = st;
		snprintf(d->fail_detail, sizeof(d->fail_detail), "%s", detail);
	} else if ((len = strlen(d->fail_detail)) + 3 < sizeof(d->fail_detail)) {
		memcpy(d->fail_detail + len, "; ", 3);
		len += 2;
		room = sizeof(d->fail_detail) - len - 1;
		n = strlen(detail) < room ? strlen(detail) : room;
		memcpy(d->fail_detail + len, detail, n);
		d->fail_detail[len + n] = '\0';
	}
}

void
dialer_attempt_failf(struct dialer *d, enum acme_fetch_status st,
    const char *fmt, ...)
{
	char detail[DIALER_DETAIL];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	d->ops->close(d->arg);
	evtimer_del(d->attempt_timer);
	failure_add(d, st, detail);
	if (++d->attempt < d->n_addrs)
		attempt_start(d);
	else
		d->ops->fail(d->arg, d->fail_status, d->fail_detail);
}

void
dialer_conn_failed(struct dialer *d, int err)
{
	if (err == ECONNREFUSED)
		dialer_attempt_failf(d, ACME_FETCH_CONNECTION,
		    "connection refused by %s", d->peer);
	else if (err == ECONNRESET)
		dialer_attempt_failf(d, ACME_FETCH_CONNECTION,
		    "connection reset by %s", d->peer);
	else
		dialer_attempt_failf(d, ACME_FETCH_CONNECTION, "%s %s: %s",
		    d->connected ? "connection error with" : "cannot connect to",
		    d->peer, err != 0 ? strerror(err) : "unknown error");
}

static void
attempt_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dialer *d = arg;

	dialer_attempt_failf(d, ACME_FETCH_CONNECTION, "timeout %s %s",
	    d->connected ? d->opt.waiting : "connecting to", d->peer);
}

/* ---- one attempt ---- */

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

/* A non-blocking socket connecting to a, or -1 with errno set. */
static int
socket_connect(const struct resolver_addr *a, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_fill(a, port, &ss);
	int fd, err;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) != 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(fd);
		errno = err;
		fd = -1;
	}
	return fd;
}

/* The caller's bufferevent is set up: arms the attempt timer and waits. */
static void
attempt_wait(struct dialer *d, struct bufferevent *bev)
{
	struct bufferevent *sock;
	struct timeval tv;

	tv.tv_sec = d->opt.attempt_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(d->opt.attempt_timeout_ms % 1000) * 1000;
	evtimer_add(d->attempt_timer, &tv);
	/* BEV_EVENT_CONNECTED or an error follows. (A TLS filter cannot wait
	 * for it itself: its socket beneath does.) */
	sock = bufferevent_get_underlying(bev);
	if (bufferevent_socket_connect(sock != NULL ? sock : bev, NULL, 0) != 0)
		dialer_attempt_failf(d, ACME_FETCH_CONNECTION, "cannot connect to %s",
		    d->peer);
}

/* Connects to addrs[attempt] through the caller's bufferevent. */
static void
attempt_start(struct dialer *d)
{
	const struct resolver_addr *a = &d->addrs[d->attempt];
	struct bufferevent *bev;
	char ip[INET6_ADDRSTRLEN];
	int fd;

	resolver_addr_str(a, ip, sizeof(ip));
	snprintf(d->peer, sizeof(d->peer), a->family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", ip, d->port);
	d->connected = 0;
	if ((fd = socket_connect(a, d->port)) < 0)
		dialer_conn_failed(d, errno);
	else if ((bev = d->ops->attempt(d->arg, fd)) == NULL)
		dialer_attempt_failf(d, ACME_FETCH_CONNECTION, "cannot connect to "
		    "%s: out of resources", d->peer);
	else
		attempt_wait(d, bev);
}

/* ---- the addresses ---- */

/*
 * Whether a is an address of this host: binding a socket to it succeeds
 * exactly then (the kernel's own answer, loopback ranges and every
 * interface included). Any failure but "not available" counts as local,
 * so a doubt never lets a connection reach this server.
 */
static int
addr_local(const struct resolver_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_fill(a, 0, &ss);
	int fd, rc, err;

	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno != EAFNOSUPPORT;
	rc = bind(fd, (struct sockaddr *)&ss, len);
	err = errno;
	close(fd);
	return rc == 0 || err != EADDRNOTAVAIL;
}

/* Why a may not be dialed at d->port, written to why; 0 when it may. */
static int
addr_denied(const struct dialer *d, const struct resolver_addr *a, char *why,
    size_t whysz)
{
	char ip[INET6_ADDRSTRLEN], what[DENYLIST_RANGE_STRLEN];

	resolver_addr_str(a, ip, sizeof(ip));
	if (denylist_match(d->opt.deny, a, what, sizeof(what))) {
		snprintf(why, whysz, "address %s is in denied range %s", ip, what);
		return 1;
	}
	if (denylist_self(d->opt.deny, a, d->port, addr_local, what,
	    sizeof(what))) {
		snprintf(why, whysz, "%s%s%s:%u is this server's own listener %s, "
		    "never a validation target", a->family == AF_INET6 ? "[" : "",
		    ip, a->family == AF_INET6 ? "]" : "", d->port, what);
		return 1;
	}
	return 0;
}

/*
 * Keeps the first allowed IPv4 and the first allowed IPv6 address, in that
 * order, skipping those the deny list names and this server's own
 * listeners. 0, or -1 after failing the dial with ACME_FETCH_FORBIDDEN when
 * every address is denied.
 */
static int
addrs_choose(struct dialer *d, const struct resolver_addr *addrs, size_t n)
{
	char first[INET6_ADDRSTRLEN + 2 * DENYLIST_RANGE_STRLEN + 64] = "";
	char why[sizeof(first)];
	size_t i, v4 = 0, v6 = 0;
	struct resolver_addr t;
	int ok;

	d->n_addrs = 0;
	d->attempt = 0;
	for (i = 0; i < n; i++) {
		if (addr_denied(d, &addrs[i], why, sizeof(why))) {
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", why);
		} else if (addrs[i].family == AF_INET && v4++ == 0) {
			d->addrs[d->n_addrs++] = addrs[i];
		} else if (addrs[i].family == AF_INET6 && v6++ == 0) {
			d->addrs[d->n_addrs++] = addrs[i];
		}
	}
	if (d->n_addrs == 2 && d->addrs[0].family == AF_INET6) {
		t = d->addrs[0];
		d->addrs[0] = d->addrs[1];
		d->addrs[1] = t;
	}
	/* d may be freed by the failure: nothing of it is read after. */
	ok = d->n_addrs > 0;
	if (!ok && n > 1)
		fail_finalf(d, ACME_FETCH_FORBIDDEN, "every address of %s is "
		    "denied: %s", d->name, first);
	else if (!ok)
		fail_finalf(d, ACME_FETCH_FORBIDDEN, "%s", first);
	return ok ? 0 : -1;
}

static void
dns_cb(int rc, const char *why, const struct resolver_addr *addrs, size_t n,
    void *arg)
{
	struct dialer *d = arg;

	d->dnsq = NULL;
	if (rc == RESOLVER_ERR_NOTFOUND)
		fail_finalf(d, ACME_FETCH_DNS, "no A/AAAA records for %s", d->name);
	else if (rc != RESOLVER_OK)
		fail_finalf(d, ACME_FETCH_DNS, "DNS lookup of %s failed: %s",
		    d->name, why != NULL ? why : resolver_strerror(rc));
	else if (addrs_choose(d, addrs, n) == 0)
		attempt_start(d);
}

/* ---- public ---- */

void
dialer_start(struct dialer *d, const char *name, int is_ip, unsigned port)
{
	struct resolver_addr a;

	dialer_stop(d);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->port = port;
	if (is_ip) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(d->name, ':') != NULL ? AF_INET6 : AF_INET;
		(void)inet_pton(a.family, d->name, a.addr);
		if (addrs_choose(d, &a, 1) == 0)
			attempt_start(d);
	} else if ((d->dnsq = resolver_lookup_addr(d->res, d->name, dns_cb,
	    d)) == NULL) {
		fail_finalf(d, ACME_FETCH_DNS, "cannot look up %s", d->name);
	}
}

void
dialer_stop(struct dialer *d)
{
	resolver_cancel(d->dnsq);
	d->dnsq = NULL;
	evtimer_del(d->attempt_timer);
}

void
dialer_set_connected(struct dialer *d)
{
	d->connected = 1;
}

int
dialer_connected(const struct dialer *d)
{
	return d->connected;
}

int
dialer_resolving(const struct dialer *d)
{
	return d->dnsq != NULL;
}

const char *
dialer_peer(const struct dialer *d)
{
	return d->peer;
}

struct dialer *
dialer_new(struct event_base *base, struct resolver *res,
    const struct dialer_options *opts, const struct dialer_ops *ops,
    void *arg)
{
	struct dialer *d = NULL;

	if (opts == NULL || ops == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	d->res = res;
	d->opt = *opts;
	d->ops = ops;
	d->arg = arg;
	if ((d->attempt_timer = evtimer_new(base, attempt_timeout_cb, d)) == NULL) {
		free(d);
		d = NULL;
	}
out:
	return d;
}

void
dialer_free(struct dialer *d)
{
	if (d == NULL)
		return;
	dialer_stop(d);
	event_free(d->attempt_timer);
	free(d);
}
