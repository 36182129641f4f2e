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
 * Record lookups (TXT, CAA) read the answer section themselves: they follow
 * the CNAME chain from the name asked for, take the records found at its
 * end, and ask again for the last alias when the answer held only CNAMEs.
 *
 * This file owns the channel and the lookups' memory; it decides nothing
 * about what a validation accepts.
 */
#include "resolver.h"
#include "server_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

enum query_kind { Q_ADDR, Q_TXT, Q_CAA };

struct resolver_query {
	struct resolver *r;
	enum query_kind kind;
	union {
		resolver_addr_cb addr;
		resolver_txt_cb txt;
		resolver_caa_cb caa;
	} cb;
	void *arg;
	int starting;                     /* inside resolver_lookup_* */
	int in_cares;                     /* c-ares still holds a pointer */
	int cancelled;
	struct event *deliver;            /* for results found while starting */
	int rc;
	const char *why;
	size_t n;
	struct resolver_addr addrs[RESOLVER_MAX_ADDRS];
	/* record lookups: the CNAME chain walked so far and what was found */
	unsigned short type;
	char *chain[RESOLVER_MAX_CNAMES + 1];  /* [0] the name asked for */
	size_t n_chain;
	char *txt[RESOLVER_MAX_RECORDS];
	struct resolver_caa *caa;         /* RESOLVER_MAX_RECORDS, for Q_CAA */
	char whybuf[RESOLVER_MAX_NAME + 64];
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
	case RESOLVER_ERR_CNAME:     return "CNAME chain too long or looping";
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

/* Frees an unlinked q and everything it holds. */
static void
query_release(struct resolver_query *q)
{
	size_t i;

	if (q->deliver != NULL)
		event_free(q->deliver);
	for (i = 0; i < q->n_chain; i++)
		free(q->chain[i]);
	if (q->kind == Q_TXT)
		for (i = 0; i < q->n; i++)
			free(q->txt[i]);
	free(q->caa);
	free(q);
}

static void
query_free(struct resolver_query *q)
{
	query_unlink(q);
	query_release(q);
}

/* Runs the caller's callback once and frees q. q is unlinked first, so
 * the resolver no longer knows it while the callback runs. */
static void
query_finish(struct resolver_query *q)
{
	size_t n = q->rc == RESOLVER_OK ? q->n : 0;

	query_unlink(q);
	switch (q->kind) {
	case Q_ADDR:
		q->cb.addr(q->rc, q->why, q->addrs, n, q->arg);
		break;
	case Q_TXT:
		q->cb.txt(q->rc, q->why, (const char *const *)q->txt, n, q->arg);
		break;
	case Q_CAA:
		q->cb.caa(q->rc, q->why, q->caa, n, q->arg);
		break;
	}
	query_release(q);
}

static void
deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	query_finish(arg);
}

/* c-ares let go of q with its result set: report it, from the loop. */
static void
query_complete(struct resolver_query *q)
{
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
		/* Reported by the start function returning NULL. */
		q->rc = RESOLVER_ERR_NOMEM;
		return;
	}
	event_active(q->deliver, 0, 0);
}

static struct resolver_query *
query_new(struct resolver *r, enum query_kind kind, void *arg)
{
	struct resolver_query *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->r = r;
	q->kind = kind;
	q->arg = arg;
	q->next = r->queries;
	if (r->queries != NULL)
		r->queries->prev = q;
	r->queries = q;
	return q;
}

/* After the first call into c-ares: the handle, or NULL when the lookup
 * ended inside that call and could not be deferred. */
static struct resolver_query *
query_started(struct resolver_query *q)
{
	q->starting = 0;
	if (!q->in_cares && q->deliver == NULL) {
		query_free(q);           /* finished, but could not be deferred */
		return NULL;
	}
	timer_arm(q->r);
	return q;
}

/* ---- address lookups ---- */

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
	query_complete(q);
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
	if ((q = query_new(r, Q_ADDR, arg)) == NULL)
		return NULL;
	q->cb.addr = cb;
	q->starting = 1;
	q->in_cares = 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = ARES_AI_NOSORT;   /* our order: IPv4, then IPv6 */
	ares_getaddrinfo(r->channel, name, NULL, &hints, addrinfo_cb, q);
	return query_started(q);
}

/* ---- record lookups: walking an answer ---- */

/* One resource record of an answer section; rdata lies in the message. */
struct dns_rr {
	char *owner;                      /* c-ares allocated, no final dot */
	unsigned type, class;
	int rdata;                        /* offset of the RDATA in the message */
	unsigned rdlen;
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Calls fn for each record of the answer section of abuf (alen bytes);
 * stops at fn's first non-zero return and returns it. -1 when the message
 * is malformed. */
static int
answer_walk(const unsigned char *abuf, int alen,
    int (*fn)(const unsigned char *, int, const struct dns_rr *, void *),
    void *ctx)
{
	struct dns_rr rr;
	unsigned qd, an, i;
	long enclen;
	int off = 12, ret = 0;
	char *name;

	if (abuf == NULL || alen < 12)
		return -1;
	qd = get16(abuf + 4);
	an = get16(abuf + 6);
	for (i = 0; i < qd; i++) {
		if (ares_expand_name(abuf + off, abuf, alen, &name, &enclen) != ARES_SUCCESS)
			return -1;
		ares_free_string(name);
		if (enclen <= 0 || enclen > alen - off - 4)
			return -1;
		off += (int)enclen + 4;
	}
	for (i = 0; i < an && ret == 0; i++) {
		if (ares_expand_name(abuf + off, abuf, alen, &rr.owner, &enclen) != ARES_SUCCESS)
			return -1;
		if (enclen <= 0 || enclen > alen - off - 10) {
			ares_free_string(rr.owner);
			return -1;
		}
		off += (int)enclen;
		rr.type = get16(abuf + off);
		rr.class = get16(abuf + off + 2);
		rr.rdlen = get16(abuf + off + 8);
		rr.rdata = off + 10;
		if (rr.rdlen > (unsigned)(alen - rr.rdata)) {
			ares_free_string(rr.owner);
			return -1;
		}
		off = rr.rdata + (int)rr.rdlen;
		ret = fn(abuf, alen, &rr, ctx);
		ares_free_string(rr.owner);
	}
	return ret;
}

#define DNS_CLASS_IN   1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_TXT   16
#define DNS_TYPE_CAA   257

/* Names compare without case and without a final dot. */
static int
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

struct cname_find {
	const char *owner;
	char *target;                     /* c-ares allocated */
	int malformed;
};

static int
cname_find_cb(const unsigned char *abuf, int alen, const struct dns_rr *rr,
    void *ctx)
{
	struct cname_find *f = ctx;
	long enclen;

	if (rr->type != DNS_TYPE_CNAME || rr->class != DNS_CLASS_IN ||
	    !name_eq(rr->owner, f->owner))
		return 0;
	if (ares_expand_name(abuf + rr->rdata, abuf, alen, &f->target,
	    &enclen) != ARES_SUCCESS || enclen != (long)rr->rdlen) {
		if (f->target != NULL)
			ares_free_string(f->target);
		f->target = NULL;
		f->malformed = 1;
		return -1;
	}
	return 1;
}

/* Copies len bytes of s into out (a string), NUL bytes as '?'. */
static void
copy_text(char *out, const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = s[i] == '\0' ? '?' : (char)s[i];
	out[len] = '\0';
}

/* One TXT record: its character-strings concatenated. 0, or -1. */
static int
txt_take(struct resolver_query *q, const unsigned char *rd, unsigned rdlen)
{
	char buf[RESOLVER_MAX_TXT + 1];
	size_t used = 0, n;
	unsigned off = 0, sl;

	while (off < rdlen) {
		sl = rd[off++];
		if (sl > rdlen - off)
			return -1;
		n = sl < RESOLVER_MAX_TXT - used ? sl : RESOLVER_MAX_TXT - used;
		copy_text(buf + used, rd + off, n);
		used += n;
		off += sl;
	}
	buf[used] = '\0';
	if ((q->txt[q->n] = strdup(buf)) == NULL)
		return -1;
	q->n++;
	return 0;
}

/* One CAA record (RFC 8659 §4.1): flags, tag length, tag, value. */
static int
caa_take(struct resolver_query *q, const unsigned char *rd, unsigned rdlen)
{
	struct resolver_caa *c = &q->caa[q->n];
	unsigned taglen, vlen;

	if (rdlen < 2 || (taglen = rd[1]) == 0 || taglen > rdlen - 2)
		return -1;
	vlen = rdlen - 2 - taglen;
	c->flags = rd[0];
	copy_text(c->tag, rd + 2, taglen < RESOLVER_MAX_CAA_TAG ? taglen :
	    RESOLVER_MAX_CAA_TAG);
	if (vlen <= RESOLVER_MAX_CAA_VALUE)
		copy_text(c->value, rd + 2 + taglen, vlen);
	else
		c->value[0] = '\0';
	q->n++;
	return 0;
}

static int
record_take_cb(const unsigned char *abuf, int alen, const struct dns_rr *rr,
    void *ctx)
{
	struct resolver_query *q = ctx;
	const char *at = q->chain[q->n_chain - 1];

	(void)alen;
	if (rr->type != q->type || rr->class != DNS_CLASS_IN ||
	    !name_eq(rr->owner, at) || q->n >= RESOLVER_MAX_RECORDS)
		return 0;
	if ((q->kind == Q_TXT ? txt_take(q, abuf + rr->rdata, rr->rdlen) :
	    caa_take(q, abuf + rr->rdata, rr->rdlen)) != 0)
		return -1;
	return 0;
}

static void
query_failf(struct resolver_query *q, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
query_failf(struct resolver_query *q, int rc, const char *fmt, ...)
{
	va_list ap;

	q->rc = rc;
	va_start(ap, fmt);
	vsnprintf(q->whybuf, sizeof(q->whybuf), fmt, ap);
	va_end(ap);
	q->why = q->whybuf;
}

/*
 * Follows the CNAMEs of the answer from the end of q's chain. 1 when the
 * chain moved on, 0 when it did not, -1 after failing q (loop, too long,
 * malformed).
 */
static int
chain_follow(struct resolver_query *q, const unsigned char *abuf, int alen)
{
	struct cname_find f;
	size_t i;
	int moved = 0;

	for (;;) {
		memset(&f, 0, sizeof(f));
		f.owner = q->chain[q->n_chain - 1];
		if (answer_walk(abuf, alen, cname_find_cb, &f) < 0 || f.malformed) {
			query_failf(q, RESOLVER_ERR_SERVER, "malformed answer");
			return -1;
		}
		if (f.target == NULL)
			return moved;
		for (i = 0; i < q->n_chain && !name_eq(q->chain[i], f.target); i++)
			;
		if (i < q->n_chain)
			query_failf(q, RESOLVER_ERR_CNAME, "CNAME loop at %.*s",
			    RESOLVER_MAX_NAME, f.target);
		else if (q->n_chain > RESOLVER_MAX_CNAMES)
			query_failf(q, RESOLVER_ERR_CNAME, "too many CNAMEs (more "
			    "than %d)", RESOLVER_MAX_CNAMES);
		else if (!name_ok(f.target) ||
		    (q->chain[q->n_chain] = strdup(f.target)) == NULL)
			query_failf(q, RESOLVER_ERR_SERVER, "unusable CNAME target");
		else {
			q->n_chain++;
			moved = 1;
			ares_free_string(f.target);
			continue;
		}
		ares_free_string(f.target);
		return -1;
	}
}

/* A c-ares status of a record query, for messages. */
static const char *
status_text(int status)
{
	switch (status) {
	case ARES_ESERVFAIL:    return "SERVFAIL";
	case ARES_EREFUSED:     return "REFUSED";
	case ARES_EFORMERR:     return "FORMERR";
	case ARES_ENOTIMP:      return "NOTIMP";
	case ARES_ETIMEOUT:     return "timeout";
	case ARES_ECONNREFUSED: return "no DNS server could be reached";
	case ARES_EBADRESP:     return "malformed answer";
	}
	return ares_strerror(status);
}

static void record_query(struct resolver_query *q);

/*
 * Reads a successful answer into q: follows its CNAMEs, then takes the
 * records at the end of the chain. 1 when only aliases came back and the
 * lookup must ask again at the new end of the chain; 0 when q has its
 * result (records, or rc and why).
 */
static int
answer_read(struct resolver_query *q, const unsigned char *abuf, int alen)
{
	int moved;

	if ((moved = chain_follow(q, abuf, alen)) < 0)
		return 0;
	if (answer_walk(abuf, alen, record_take_cb, q) < 0) {
		query_failf(q, RESOLVER_ERR_SERVER, "malformed %s record",
		    q->kind == Q_TXT ? "TXT" : "CAA");
		return 0;
	}
	if (q->n == 0 && moved)
		return 1;
	if (q->n == 0) {
		q->rc = RESOLVER_ERR_NOTFOUND;
		q->why = "no records";
	}
	return 0;
}

static void
record_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct resolver_query *q = arg;
	const char *at;

	q->in_cares = 0;
	at = q->chain[q->n_chain - 1];
	q->rc = map_status(status);
	q->why = NULL;
	if (q->cancelled || status == ARES_EDESTRUCTION ||
	    status == ARES_ECANCELLED) {
		query_complete(q);
		return;
	}
	if (status == ARES_ENODATA || status == ARES_ENOTFOUND) {
		q->why = status == ARES_ENOTFOUND ? "NXDOMAIN" : "no records";
		query_complete(q);
		return;
	}
	if (status != ARES_SUCCESS) {
		query_failf(q, q->rc, "%s%s%.*s", status_text(status),
		    q->n_chain > 1 ? " at CNAME target " : "",
		    RESOLVER_MAX_NAME, q->n_chain > 1 ? at : "");
		query_complete(q);
		return;
	}
	if (answer_read(q, abuf, alen) == 1) {
		record_query(q);          /* only the alias came back: ask again */
		return;
	}
	query_complete(q);
}

/* Asks for q's type at the end of its chain. q may be finished (and
 * freed) before this returns. */
static void
record_query(struct resolver_query *q)
{
	q->in_cares = 1;
	ares_query(q->r->channel, q->chain[q->n_chain - 1], DNS_CLASS_IN, q->type,
	    record_cb, q);
}

/* Sets q up for a record lookup of name: 0, or -1. */
static int
records_init(struct resolver_query *q, const char *name, enum query_kind kind)
{
	q->kind = kind;
	q->type = kind == Q_TXT ? DNS_TYPE_TXT : DNS_TYPE_CAA;
	if ((q->chain[0] = strdup(name)) == NULL || (kind == Q_CAA &&
	    (q->caa = calloc(RESOLVER_MAX_RECORDS, sizeof(*q->caa))) == NULL))
		return -1;
	q->n_chain = 1;
	return 0;
}

static struct resolver_query *
lookup_records(struct resolver *r, const char *name, enum query_kind kind,
    void *arg)
{
	struct resolver_query *q;

	if (r == NULL || name == NULL || !name_ok(name) ||
	    (q = query_new(r, kind, arg)) == NULL)
		return NULL;
	if (records_init(q, name, kind) != 0) {
		query_free(q);
		return NULL;
	}
	return q;
}

int
resolver_answer_read(const char *name, int caa, const unsigned char *abuf,
    int alen, char again_at[RESOLVER_MAX_NAME + 1], resolver_txt_cb txt_cb,
    resolver_caa_cb caa_cb, void *arg)
{
	struct resolver_query *q;
	int ret = 0;

	if (name == NULL || !name_ok(name) || abuf == NULL || alen < 0 ||
	    (caa ? caa_cb == NULL : txt_cb == NULL))
		return RESOLVER_ERR_INVALID;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return RESOLVER_ERR_NOMEM;
	if (records_init(q, name, caa ? Q_CAA : Q_TXT) != 0) {
		ret = RESOLVER_ERR_NOMEM;
		goto out;
	}
	if (answer_read(q, abuf, alen) == 1) {
		snprintf(again_at, RESOLVER_MAX_NAME + 1, "%s", q->chain[q->n_chain - 1]);
		ret = 1;
	} else if (caa) {
		caa_cb(q->rc, q->why, q->caa, q->rc == RESOLVER_OK ? q->n : 0, arg);
	} else {
		txt_cb(q->rc, q->why, (const char *const *)q->txt,
		    q->rc == RESOLVER_OK ? q->n : 0, arg);
	}
out:
	query_release(q);
	return ret;
}

struct resolver_query *
resolver_lookup_txt(struct resolver *r, const char *name, resolver_txt_cb cb,
    void *arg)
{
	struct resolver_query *q;

	if (cb == NULL || (q = lookup_records(r, name, Q_TXT, arg)) == NULL)
		return NULL;
	q->cb.txt = cb;
	q->starting = 1;
	record_query(q);
	return query_started(q);
}

struct resolver_query *
resolver_lookup_caa(struct resolver *r, const char *name, resolver_caa_cb cb,
    void *arg)
{
	struct resolver_query *q;

	if (cb == NULL || (q = lookup_records(r, name, Q_CAA, arg)) == NULL)
		return NULL;
	q->cb.caa = cb;
	q->starting = 1;
	record_query(q);
	return query_started(q);
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
	/* A SERVFAIL or REFUSED answer ends the lookup with that code, instead
	 * of being retried until c-ares reports "could not contact servers":
	 * a validation must say what went wrong, and acme/ retries it. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_DOMAINS | ARES_OPT_FLAGS;
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
