/*
 * tls_bev.h: TLS bufferevents for evhttp, and the listener certificate that
 * new connections use (replaced when it is renewed).
 */
#ifndef HEARTH_TLS_BEV_H
#define HEARTH_TLS_BEV_H

#include <pthread.h>

struct event_base;
struct bufferevent;
struct crypto_tls_server;
struct crypto_tls_client;
struct connlimit;
struct metrics;

/*
 * What guards accepted connections (docs/limits.md): the connection caps,
 * checked once the connection's address is known (right after accept), and
 * the deadline a client has for the TLS handshake and a whole request,
 * armed at accept and again at the first byte of each later request, and
 * cleared when the response starts. A connection refused or past its
 * deadline is closed.
 */
struct tls_guard {
	struct connlimit *conns;        /* NULL: no caps */
	long request_time;              /* seconds; 0: no deadline */
	struct metrics *metrics;        /* handshakes counted; NULL: none */
};

/* The TLS context new connections take; swapped atomically on renewal. */
struct tls_current {
	pthread_mutex_t lock;
	struct crypto_tls_server *srv;
};

int tls_current_init(struct tls_current *cur);
/* Installs srv (taking the caller's reference) and drops the old one;
 * connections already open keep theirs. */
void tls_current_set(struct tls_current *cur, struct crypto_tls_server *srv);
void tls_current_fini(struct tls_current *cur);

/* A bufferevent speaking TLS over a socket evhttp sets later with
 * bufferevent_setfd(); for evhttp_set_bevcb(). guard (borrowed, may be
 * NULL) must outlive the connection. NULL on failure. */
struct bufferevent *tls_bev_new(struct event_base *base, struct tls_current *cur,
    const struct tls_guard *guard);

/*
 * An outgoing TLS bufferevent (client side of crypto_tls, offering sni, or
 * none when NULL) over fd, a non-blocking socket connected or connecting,
 * which the bufferevent owns from here (closed on failure too). Wait for
 * the connection with bufferevent_socket_connect(bufferevent_get_underlying(
 * bev), NULL, 0): libevent 2.1 cannot connect a filter itself. The
 * handshake runs when the first plaintext is written. A TLS failure raises
 * BEV_EVENT_ERROR and leaves a description in errbuf (errsz bytes, emptied
 * here), which must stay valid until the bufferevent is freed; a plain end
 * of stream leaves it empty. cli is borrowed (the connection takes its own
 * reference). Caller frees with bufferevent_free(). NULL on failure.
 */
struct bufferevent *tls_bev_client_new(struct event_base *base, int fd,
    struct crypto_tls_client *cli, const char *sni, char *errbuf, size_t errsz);

#endif
