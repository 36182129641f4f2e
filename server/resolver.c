/*
 * resolver.c: c-ares driven by a libevent event_base.
 *
 * c-ares tells us through its socket-state callback which of its sockets
 * want reading or writing; each gets one persistent event that hands
 * activity to ares_process_fd(). One timer, re-armed from ares_timeout()
 * after every call into c-ares, drives retransmissions and timeouts. Nothing
 * here blocks: c-ares only ever sees non-blocking sockets.
 *
 * c-ares may complete a lookup inside the call that starts it (a numeric
 * name, the hosts file, a bad name); such results are delivered from a
 * zero-delay event instead, so callers never see their callback run before
 * the start function has returned.
 *
 * This file owns the channel and the lookups' memory; it decides nothing
 * about what a validation accepts.
 */
#include "resolver.h"
#include "server_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/event.h>

#define RESOLVER_DEFAULT_TIMEOUT_MS 2000
#define RESOLVER_DEFAULT_TRIES      2

/* One c-ares socket and the event watching it. */
struct resolver_sock {
	ares_socket_t fd;
	short what;
	struct event *ev;
	struct resolver_sock *next;
};

struct resolver {
	struct event_base *base;
	ares_channel channel;
	int channel_ok;
	struct event *timer;
	struct resolver_sock *socks;
	struct resolver_query *queries;   /* every live lookup */
};

struct resolver_query {
	struct resolver *r;
	resolver_addr_cb addr_cb;
	void *arg;
	int starting;                     /* inside resolver_lookup_* */
	int in_cares;                     /* c-ares still holds a pointer */
	int cancelled;
	struct event *deliver;            /* for results found while starting */
	int rc;
	const char *why;
	struct resolver_addr addrs[RESOLVER_MAX_ADDRS];
	size_t n;
	struct resolver_query *prev, *next;
};

const char *
resolver_strerror(int rc)
{
	switch (rc) {
	case RESOLVER_OK:            return "success";
	case RESOLVER_ERR_NOTFOUND:  return "no such records";
	case RESOLVER_ERR_TIMEOUT:   return "DNS timeout";
	case RESOLVER_ERR_SERVER:    return "DNS server failure";
	case RESOLVER_ERR_NOMEM:     return "out of memory";
	case RESOLVER_ERR_INVALID:   return "invalid name or configuration";
	case RESOLVER_ERR_SHUTDOWN:  return "resolver shut down";
	}
	return "unknown resolver error";
}

void
resolver_addr_str(const struct resolver_addr *a, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	if (inet_ntop(a->family, a->addr, out, (socklen_t)outsz) == NULL)
		snprintf(out, outsz, "?");
}

static int
map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:      return RESOLVER_OK;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:    return RESOLVER_ERR_NOTFOUND;
	case ARES_ETIMEOUT:     return RESOLVER_ERR_TIMEOUT;
	case ARES_ENOMEM:       return RESOLVER_ERR_NOMEM;
	case ARES_EBADNAME:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:    return RESOLVER_ERR_INVALID;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:   return RESOLVER_ERR_SHUTDOWN;
	}
	return RESOLVER_ERR_SERVER;
}

/* ---- driving c-ares from the event loop ---- */

static void
timer_arm(struct resolver *r)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(r->channel, NULL, &tv);
	if (tvp != NULL)
		evtimer_add(r->timer, tvp);
	else
		evtimer_del(r->timer);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;

	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	timer_arm(r);
}

/* Activity on a c-ares socket. The event may be freed by c-ares's socket
 * callback during ares_process_fd(); it is not touched afterwards. */
static void
sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;

	ares_process_fd(r->channel,
	    (what & EV_READ) != 0 ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) != 0 ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	timer_arm(r);
}

static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct resolver_sock *s, **pp;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	for (pp = &r->socks; (s = *pp) != NULL; pp = &s->next)
		if (s->fd == fd)
			break;
	if (what == 0) {
		if (s != NULL) {
			*pp = s->next;
			if (s->ev != NULL)
				event_free(s->ev);
			free(s);
		}
		return;
	}
	if (s != NULL && s->what == what)
		return;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			goto fail;
		s->fd = fd;
		s->next = r->socks;
		r->socks = s;
	} else if (s->ev != NULL) {
		event_free(s->ev);
	}
	s->what = what;
	s->ev = event_new(r->base, fd, (short)(what | EV_PERSIST), sock_cb, r);
	if (s->ev != NULL && event_add(s->ev, NULL) == 0)
		return;
fail:
	/* The query then ends by timeout, driven by the timer. */
	log_warn("resolver: cannot watch a DNS socket");
}

/* ---- lookups ---- */

static void
query_unlink(struct resolver_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->r->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
}

static void
query_free(struct resolver_query *q)
{
	query_unlink(q);
	if (q->deliver != NULL)
		event_free(q->deliver);
	free(q);
}

/* Runs the caller's callback once and frees q. */
static void
query_finish(struct resolver_query *q)
{
	resolver_addr_cb cb = q->addr_cb;
	void *arg = q->arg;
	struct resolver_addr addrs[RESOLVER_MAX_ADDRS];
	size_t n = q->n;
	int rc = q->rc;
	const char *why = q->why;

	memcpy(addrs, q->addrs, sizeof(addrs));
	query_free(q);
	cb(rc, why, addrs, n, arg);
}

static void
deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	query_finish(arg);
}

static void
addrs_take(struct resolver_query *q, const struct ares_addrinfo *ai, int family)
{
	const struct ares_addrinfo_node *node;
	struct resolver_addr a;
	size_t i;

	for (node = ai->nodes; node != NULL && q->n < RESOLVER_MAX_ADDRS;
	    node = node->ai_next) {
		if (node->ai_family != family || node->ai_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		a.family = family;
		if (family == AF_INET)
			memcpy(a.addr, &((const struct sockaddr_in *)
			    (const void *)node->ai_addr)->sin_addr, 4);
		else
			memcpy(a.addr, &((const struct sockaddr_in6 *)
			    (const void *)node->ai_addr)->sin6_addr, 16);
		for (i = 0; i < q->n; i++)
			if (memcmp(&q->addrs[i], &a, sizeof(a)) == 0)
				break;
		if (i == q->n)
			q->addrs[q->n++] = a;
	}
}

static void
addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolver_query *q = arg;

	q->in_cares = 0;
	q->rc = map_status(status);
	q->why = status == ARES_SUCCESS ? NULL : ares_strerror(status);
	if (res != NULL) {
		if (status == ARES_SUCCESS) {
			addrs_take(q, res, AF_INET);
			addrs_take(q, res, AF_INET6);
		}
		ares_freeaddrinfo(res);
	}
	if (q->rc == RESOLVER_OK && q->n == 0) {
		q->rc = RESOLVER_ERR_NOTFOUND;
		q->why = "no addresses in the answer";
	}
	if (q->cancelled) {
		query_free(q);
		return;
	}
	if (!q->starting) {
		query_finish(q);
		return;
	}
	q->deliver = event_new(q->r->base, -1, 0, deliver_cb, q);
	if (q->deliver == NULL) {
		/* Reported by resolver_lookup_addr() returning NULL. */
		q->rc = RESOLVER_ERR_NOMEM;
		return;
	}
	event_active(q->deliver, 0, 0);
}

static int
name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= RESOLVER_MAX_NAME;
}

struct resolver_query *
resolver_lookup_addr(struct resolver *r, const char *name, resolver_addr_cb cb,
    void *arg)
{
	struct ares_addrinfo_hints hints;
	struct resolver_query *q;

	if (r == NULL || name == NULL || cb == NULL || !name_ok(name))
		return NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->r = r;
	q->addr_cb = cb;
	q->arg = arg;
	q->starting = 1;
	q->in_cares = 1;
	q->next = r->queries;
	if (r->queries != NULL)
		r->queries->prev = q;
	r->queries = q;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = ARES_AI_NOSORT;   /* our order: IPv4, then IPv6 */
	ares_getaddrinfo(r->channel, name, NULL, &hints, addrinfo_cb, q);
	q->starting = 0;
	if (!q->in_cares && q->deliver == NULL) {
		query_free(q);           /* finished, but could not be deferred */
		return NULL;
	}
	timer_arm(r);
	return q;
}

void
resolver_cancel(struct resolver_query *q)
{
	if (q == NULL)
		return;
	if (q->in_cares)
		q->cancelled = 1;        /* freed when c-ares lets go of it */
	else
		query_free(q);
}

/* ---- life cycle ---- */

struct resolver *
resolver_new(struct event_base *base, const struct resolver_options *opts,
    char *err, size_t errsz)
{
	struct resolver *r;
	struct ares_options o;
	char lookups[] = "b";
	int mask, rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		free(r);
		if (err != NULL)
			snprintf(err, errsz, "c-ares: %s", ares_strerror(rc));
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = r;
	o.timeout = (int)(opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms :
	    RESOLVER_DEFAULT_TIMEOUT_MS);
	o.tries = (int)(opts != NULL && opts->tries > 0 ? opts->tries :
	    RESOLVER_DEFAULT_TRIES);
	o.ndomains = 0;                     /* names are fully qualified */
	o.domains = NULL;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_DOMAINS;
	if (opts != NULL && opts->servers != NULL) {
		o.lookups = lookups;            /* DNS only, no hosts file */
		mask |= ARES_OPT_LOOKUPS;
	}
	if ((rc = ares_init_options(&r->channel, &o, mask)) != ARES_SUCCESS)
		goto fail;
	r->channel_ok = 1;
	if (opts != NULL && opts->servers != NULL &&
	    (rc = ares_set_servers_ports_csv(r->channel, opts->servers)) != ARES_SUCCESS)
		goto fail;
	if ((r->timer = evtimer_new(base, timer_cb, r)) == NULL) {
		rc = ARES_ENOMEM;
		goto fail;
	}
	return r;
fail:
	if (err != NULL)
		snprintf(err, errsz, "c-ares: %s", ares_strerror(rc));
	resolver_free(r);
	return NULL;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_sock *s;
	struct resolver_query *q;

	if (r == NULL)
		return;
	/* Pending lookups end with ARES_EDESTRUCTION through addrinfo_cb. */
	if (r->channel_ok)
		ares_destroy(r->channel);
	while ((q = r->queries) != NULL) {
		/* Results waiting for their deferred delivery. */
		if (q->cancelled) {
			query_free(q);
			continue;
		}
		q->rc = RESOLVER_ERR_SHUTDOWN;
		q->why = resolver_strerror(RESOLVER_ERR_SHUTDOWN);
		q->n = 0;
		query_finish(q);
	}
	while ((s = r->socks) != NULL) {
		r->socks = s->next;
		if (s->ev != NULL)
			event_free(s->ev);
		free(s);
	}
	if (r->timer != NULL)
		event_free(r->timer);
	ares_library_cleanup();
	free(r);
}
