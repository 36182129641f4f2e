/*
 * tls_bev.c: TLS under libevent's HTTP server, as a bufferevent filter.
 *
 * evhttp gets a filtering bufferevent whose underlying bufferevent is the
 * socket. The input filter feeds ciphertext from the socket to crypto_tls and
 * hands plaintext up; the output filter encrypts evhttp's plaintext into the
 * socket's output. crypto/ does the TLS; this file only moves bytes.
 *
 * One subtlety decides the shape of the output filter: evhttp closes a
 * connection as soon as the filter's output is empty, and shuts the socket
 * down for writing, so ciphertext still queued in user space would be lost
 * (a "Connection: close" response or a 400 would never arrive). The filter
 * therefore writes ciphertext to the socket at once and leaves the plaintext
 * it encrypted in evhttp's buffer until that ciphertext has reached the
 * kernel; only then does the output look drained.
 *
 * A second: evhttp queues a response before it enables writing, and
 * libevent 2.1's filter does not look at its output again when writing is
 * enabled. A callback on the output buffer therefore activates a per-
 * connection event that flushes the filter once evhttp has finished.
 *
 * The same filter serves outgoing validation connections: https redirects
 * of http-01 (tls-alpn-01 sends no data and drives crypto_tls itself, in
 * tlsalpn01.c). There the client writes its request before the handshake
 * has finished, so the output filter can only stash it
 * (WANT_READ); the input filter, which completes the handshake, kicks the
 * output again. libevent 2.1 cannot connect through a filter (it would
 * enable the filter's unused socket events), so the caller connects the
 * socket and waits on the bufferevent beneath the filter. Client
 * connections report failures to the caller's buffer instead of the log.
 */
#include "server_internal.h"
#include "connlimit.h"
#include "tls_bev.h"
#include "metrics.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define TLS_CHUNK 16384   /* plaintext encrypted per record */

struct tls_conn {
	struct crypto_tls *tls;
	struct bufferevent *filter;     /* what evhttp sees */
	struct bufferevent *socket;     /* the underlying socket bufferevent */
	struct evbuffer *in;            /* ciphertext source during a filter call */
	struct event *kick;             /* deferred flush of the filter's output */
	struct evbuffer_cb_entry *out_cb;
	size_t pending;                 /* plaintext encrypted, not yet drained */
	int failed;
	int handshake_counted;          /* in guard->metrics, ok or failed */
	int client;                     /* an outgoing connection */
	char *errbuf;                   /* client: where failures are described */
	size_t errsz;
	/* accepted connections (tls_guard) */
	const struct tls_guard *guard;
	struct event *timer;            /* admission, then the deadline */
	int admitted;                   /* counted in guard->conns */
	int waiting;                    /* the deadline runs */
	struct connlimit_key source;
};

static int
conn_recv(void *arg, uint8_t *buf, size_t len)
{
	struct tls_conn *c = arg;
	int n;

	if (c->in == NULL)
		return 0;
	n = evbuffer_remove(c->in, buf, len);
	return n < 0 ? -1 : n;
}

static int
conn_send(void *arg, const uint8_t *buf, size_t len)
{
	struct tls_conn *c = arg;

	if (evbuffer_add(bufferevent_get_output(c->socket), buf, len) != 0)
		return -1;
	return (int)len;
}

/*
 * Pushes queued ciphertext to the socket now. -1 on a hard socket error.
 * A socket bufferevent keeps the start of its output frozen so only it
 * writes from there (evbuffer_write() then fails without touching errno);
 * thaw it for the write, as the bufferevent itself does.
 */
static int
conn_flush(struct tls_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->socket);
	evutil_socket_t fd = bufferevent_getfd(c->socket);
	int n, ret = 0;

	if (fd < 0)
		return 0;
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) > 0) {
		errno = 0;
		if ((n = evbuffer_write(out, fd)) <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				ret = -1;
			break;
		}
	}
	evbuffer_freeze(out, 1);
	return ret;
}

/* Counts an accepted connection's handshake once: done, or failed before
 * it was (a peer that just closes is not counted). */
static void
handshake_count(struct tls_conn *c, int rc)
{
	int done;

	if (c->client || c->guard == NULL || c->guard->metrics == NULL ||
	    c->handshake_counted)
		return;
	done = crypto_tls_version(c->tls) != NULL;
	if (!done && (rc == 0 || rc == CRYPTO_TLS_CLOSED))
		return;
	c->handshake_counted = 1;
	metrics_handshake(c->guard->metrics, done);
}

static void
conn_fail(struct tls_conn *c, const char *what, int rc)
{
	if (c->failed)
		return;
	c->failed = 1;
	if (rc != CRYPTO_TLS_WANT_READ)
		handshake_count(c, rc);
	if (rc != CRYPTO_TLS_CLOSED && rc != CRYPTO_TLS_WANT_READ) {
		if (c->client && c->errbuf != NULL)
			snprintf(c->errbuf, c->errsz, "%s", rc == CRYPTO_ERR_PARSE ?
			    crypto_tls_error(c->tls) : crypto_strerror(rc));
		else if (!c->client)
			log_debug("tls: %s: %s", what, rc == CRYPTO_ERR_PARSE ?
			    crypto_tls_error(c->tls) : crypto_strerror(rc));
	}
	/* Filters' results are not reported as events; raise one, deferred,
	 * so evhttp tears the connection down outside this call. */
	bufferevent_trigger_event(c->filter, BEV_EVENT_ERROR |
	    (rc == CRYPTO_TLS_CLOSED ? BEV_EVENT_EOF : 0), BEV_TRIG_DEFER_CALLBACKS);
}

/* ---- guards of accepted connections ---- */

static void
deadline_arm(struct tls_conn *c)
{
	struct timeval tv;

	if (c->timer == NULL || c->waiting || !c->admitted ||
	    c->guard->request_time <= 0)
		return;
	tv.tv_sec = c->guard->request_time;
	tv.tv_usec = 0;
	if (evtimer_add(c->timer, &tv) == 0)
		c->waiting = 1;
}

static void
deadline_clear(struct tls_conn *c)
{
	if (c->timer == NULL || !c->waiting)
		return;
	evtimer_del(c->timer);
	c->waiting = 0;
}

/* The peer of an accepted connection, for the caps and the log. */
static int
conn_peer(struct tls_conn *c, struct sockaddr_storage *ss, socklen_t *len)
{
	evutil_socket_t fd = bufferevent_getfd(c->socket);

	*len = sizeof(*ss);
	return fd < 0 ? -1 : getpeername(fd, (struct sockaddr *)ss, len);
}

/* Right after accept: count the connection, or close it when a cap is
 * reached (logged at the first refusal and then at every power of two). */
static void
conn_admit(struct tls_conn *c)
{
	static const char *const why[] = { "", "the server's connection cap",
	    "the per-source connection cap", "the table of sources" };
	struct sockaddr_storage ss;
	enum connlimit_verdict v;
	unsigned long n;
	socklen_t len;
	char src[64];

	if (c->guard->conns == NULL || conn_peer(c, &ss, &len) != 0) {
		c->admitted = 1;        /* no caps, or nothing to count by */
		deadline_arm(c);
		return;
	}
	if ((v = connlimit_enter(c->guard->conns, (struct sockaddr *)&ss, len,
	    &c->source)) == CONNLIMIT_OK) {
		c->admitted = 2;
		deadline_arm(c);
		return;
	}
	n = connlimit_refused(c->guard->conns);
	if ((n & (n - 1)) == 0) {
		connlimit_key_text(&c->source, src, sizeof(src));
		log_warn("connection from %s closed: %s is reached (%lu refused "
		    "so far)", src, why[v], n);
	}
	conn_fail(c, "accept", CRYPTO_TLS_CLOSED);
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	char src[NI_MAXHOST] = "-";

	if (!c->admitted) {
		conn_admit(c);
		return;
	}
	c->waiting = 0;
	if (conn_peer(c, &ss, &len) == 0 && getnameinfo((struct sockaddr *)&ss,
	    len, src, sizeof(src), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(src, sizeof(src), "-");
	log_info("connection from %s closed: no complete request within %lds",
	    src, c->guard->request_time);
	conn_fail(c, "deadline", CRYPTO_TLS_CLOSED);
}

static enum bufferevent_filter_result
tls_filter_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct tls_conn *c = arg;
	uint8_t buf[TLS_CHUNK];
	size_t room;
	int n, produced = 0;

	if (c->failed) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_ERROR;
	}
	c->in = src;
	for (;;) {
		room = limit >= 0 && (size_t)limit < sizeof(buf) ? (size_t)limit :
		    sizeof(buf);
		if (room == 0)
			break;
		n = crypto_tls_read(c->tls, buf, room);
		if (n > 0) {
			if (evbuffer_add(dst, buf, (size_t)n) != 0)
				break;
			produced = 1;
			if (limit >= 0)
				limit -= n;
			continue;
		}
		if (n != CRYPTO_TLS_WANT_READ && n != CRYPTO_TLS_WANT_WRITE)
			conn_fail(c, "read", n);
		break;
	}
	c->in = NULL;
	crypto_zeroize(buf, sizeof(buf));
	if (!c->failed)
		handshake_count(c, 0);
	if (produced)
		deadline_arm(c);        /* the first byte of a request */
	if (conn_flush(c) != 0)
		conn_fail(c, "write", CRYPTO_TLS_CLOSED);
	/* A client's request waits in the output until the handshake, driven
	 * from here, is done. */
	if (c->client && !c->failed &&
	    evbuffer_get_length(bufferevent_get_output(c->filter)) > 0)
		event_active(c->kick, EV_WRITE, 0);
	if (c->failed)
		return BEV_ERROR;
	return produced ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result
tls_filter_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct tls_conn *c = arg;
	size_t len;
	unsigned char *p;
	int n;

	if (c->failed)
		return BEV_ERROR;
	if (conn_flush(c) != 0) {
		conn_fail(c, "write", CRYPTO_TLS_CLOSED);
		return BEV_ERROR;
	}
	if (evbuffer_get_length(dst) > 0)
		return BEV_NEED_MORE;   /* the socket's write callback calls again */
	if (c->pending > 0) {
		evbuffer_drain(src, c->pending);
		c->pending = 0;
		return BEV_OK;
	}
	if ((len = evbuffer_get_length(src)) == 0)
		return BEV_NEED_MORE;
	deadline_clear(c);              /* a response: the request is in */
	if (len > TLS_CHUNK)
		len = TLS_CHUNK;
	if ((p = evbuffer_pullup(src, (ev_ssize_t)len)) == NULL)
		return BEV_ERROR;
	n = crypto_tls_write(c->tls, p, len);
	if (n == CRYPTO_TLS_WANT_READ || n == CRYPTO_TLS_WANT_WRITE)
		return BEV_NEED_MORE;
	if (n < 0) {
		conn_fail(c, "write", n);
		return BEV_ERROR;
	}
	if (conn_flush(c) != 0) {
		conn_fail(c, "write", CRYPTO_TLS_CLOSED);
		return BEV_ERROR;
	}
	if (evbuffer_get_length(dst) > 0) {
		c->pending = (size_t)n;
		return BEV_NEED_MORE;
	}
	evbuffer_drain(src, (size_t)n);
	return BEV_OK;
}

/*
 * Called when the filter is finalized. By then evhttp has shut the socket
 * down for writing, so no close_notify can follow; responses are framed by
 * Content-Length, which is what clients rely on.
 */
static void
tls_conn_free(void *arg)
{
	struct tls_conn *c = arg;

	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->filter), c->out_cb);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->admitted == 2)
		connlimit_leave(c->guard->conns, &c->source);

	crypto_tls_free(c->tls);
	free(c);
}

/* Runs after evhttp queued output and enabled writing. */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_conn *c = arg;
	bufferevent_event_cb eventcb = NULL;

	/* bufferevent_free() clears the callbacks; evhttp keeps an event
	 * callback on every live connection. Never touch a freed filter. */
	bufferevent_getcb(c->filter, NULL, NULL, &eventcb, NULL);
	if (eventcb == NULL)
		return;
	bufferevent_flush(c->filter, EV_WRITE, BEV_NORMAL);
}

static void
output_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct tls_conn *c = arg;

	if (info->n_added > 0)
		event_active(c->kick, EV_WRITE, 0);
}

static struct tls_conn *
conn_alloc(struct event_base *base)
{
	struct tls_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->socket = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->socket == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* Puts the filter over c->socket once c->tls exists; frees c on failure. */
static struct bufferevent *
conn_finish(struct event_base *base, struct tls_conn *c)
{
	if (c->tls == NULL)
		goto fail;
	c->filter = bufferevent_filter_new(c->socket, tls_filter_in,
	    tls_filter_out, BEV_OPT_CLOSE_ON_FREE, tls_conn_free, c);
	if (c->filter == NULL)
		goto fail;
	c->kick = event_new(base, -1, 0, kick_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->filter),
	    output_added_cb, c);
	if (c->kick == NULL || c->out_cb == NULL) {
		bufferevent_free(c->filter);   /* frees c through tls_conn_free */
		return NULL;
	}
	return c->filter;
fail:
	bufferevent_free(c->socket);
	crypto_tls_free(c->tls);
	free(c);
	return NULL;
}

struct bufferevent *
tls_bev_new(struct event_base *base, struct tls_current *cur,
    const struct tls_guard *guard)
{
	struct tls_conn *c;
	struct crypto_tls_io io;
	struct bufferevent *bev;
	int err;

	if ((c = conn_alloc(base)) == NULL)
		return NULL;
	io.recv = conn_recv;
	io.send = conn_send;
	io.arg = c;
	pthread_mutex_lock(&cur->lock);
	c->tls = crypto_tls_accept(cur->srv, &io, &err);
	pthread_mutex_unlock(&cur->lock);
	if ((bev = conn_finish(base, c)) == NULL || guard == NULL)
		return bev;
	/* evhttp gives the socket once this returns: admit it from the loop. */
	c->guard = guard;
	if ((c->timer = evtimer_new(base, guard_cb, c)) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	event_active(c->timer, EV_TIMEOUT, 1);
	return bev;
}

struct bufferevent *
tls_bev_client_new(struct event_base *base, int fd,
    struct crypto_tls_client *cli, const char *sni, char *errbuf, size_t errsz)
{
	struct tls_conn *c;
	struct crypto_tls_io io;
	int err;

	if ((c = conn_alloc(base)) == NULL) {
		close(fd);
		return NULL;
	}
	if (bufferevent_setfd(c->socket, fd) != 0) {
		close(fd);
		bufferevent_free(c->socket);
		free(c);
		return NULL;
	}
	c->client = 1;
	c->errbuf = errbuf;
	c->errsz = errsz;
	if (errbuf != NULL && errsz > 0)
		errbuf[0] = '\0';
	io.recv = conn_recv;
	io.send = conn_send;
	io.arg = c;
	c->tls = crypto_tls_connect(cli, sni, &io, &err);
	return conn_finish(base, c);
}

int
tls_current_init(struct tls_current *cur)
{
	memset(cur, 0, sizeof(*cur));
	return pthread_mutex_init(&cur->lock, NULL) == 0 ? 0 : -1;
}

void
tls_current_set(struct tls_current *cur, struct crypto_tls_server *srv)
{
	struct crypto_tls_server *old;

	pthread_mutex_lock(&cur->lock);
	old = cur->srv;
	cur->srv = srv;
	pthread_mutex_unlock(&cur->lock);
	crypto_tls_server_free(old);
}

void
tls_current_fini(struct tls_current *cur)
{
	tls_current_set(cur, NULL);
	pthread_mutex_destroy(&cur->lock);
}
