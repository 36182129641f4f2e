/*
 * serve.h: the running server, shared by serve.c (start-up, threads,
 * renewal, shutdown) and http.c (requests).
 */
#ifndef HEARTH_SERVE_H
#define HEARTH_SERVE_H

#include <pthread.h>

#include "server_internal.h"
#include "tls_bev.h"

struct event_base;
struct evhttp;
struct event;
struct evhttp_request;
struct acme;
struct store;
struct validator;
struct denylist;

struct worker {
	struct server *srv;
	struct event_base *base;
	struct evhttp *http;
	struct validator *validator;    /* this loop's validation I/O */
	pthread_t thread;
	int started;
};

struct server {
	const struct config *cfg;
	struct store *store;
	struct crypto_signer *signer;
	struct acme *acme;
	struct denylist *deny;          /* validation targets refused */
	struct tls_current tls;
	struct crypto_name names[CONFIG_MAX_LIST + 4];
	size_t n_names;
	char default_host[300];         /* Host for requests that send none */
	const char *caa_ids[CONFIG_MAX_LIST + 4]; /* CAA issuer domain names */
	size_t n_caa_ids;
	struct worker *workers;
	int n_workers;
	struct event_base *main_base;   /* signals and certificate renewal */
	struct event *cleanup;          /* expired records' removal (cleanup.c) */
};

/* The cleanup timer on main_base (cleanup.c). 0 or -1. */
int server_cleanup_start(struct server *s);
void server_cleanup_stop(struct server *s);

/* evhttp's general callback: every request. arg is the struct worker. */
void http_handle(struct evhttp_request *req, void *arg);

#endif
