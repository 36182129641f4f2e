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
 * bufferevent_setfd(); for evhttp_set_bevcb(). NULL on failure. */
struct bufferevent *tls_bev_new(struct event_base *base, struct tls_current *cur);

#endif
