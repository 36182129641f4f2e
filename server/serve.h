/*
 * serve.h: the running server, shared by serve.c (start-up, threads,
 * renewal, shutdown) and http.c (requests).
 */
#ifndef HEARTH_SERVE_H
#define HEARTH_SERVE_H

#include <pthread.h>

#include "server_internal.h"
#include "acme.h"
#include "metrics.h"
#include "tls_bev.h"

struct event_base;
struct evhttp;
struct event;
struct evhttp_request;
struct acme;
struct store;
struct validator;
struct holds;
struct hold_loop;
struct pki;
struct denylist;
struct admin;

struct worker {
	struct server *srv;
	struct event_base *base;
	struct evhttp *http;
	struct validator *validator;    /* this loop's validation I/O */
	struct hold_loop *hold;         /* this loop's held answers, and its
	                                   wake-up from other threads */
	struct pool_loop *pool;         /* answers from the pool (pool.h) */
	int index;                      /* 0..n_workers-1 */
	unsigned long long requests;    /* this loop's request count, for ids */
	pthread_t thread;
	int started;
};

#define SERVER_RETIRED_MAX 8    /* retired intermediates served (retired.c) */

struct server {
	const struct config *cfg;
	struct store *store;
	struct crypto_signer *signer;
	struct crypto_signer *retired[SERVER_RETIRED_MAX]; /* CRL and OCSP only */
	size_t n_retired;
	struct crypto_policy *policy;   /* read-only once built */
	struct crypto_policy *constraints; /* the intermediate's, or NULL */
	struct acme *acme;
	struct denylist *deny;          /* validation targets refused */
	struct tls_current tls;
	struct tls_guard guard;         /* connection caps and deadline */
	struct crypto_name names[CONFIG_MAX_LIST + 4];
	size_t n_names;
	char default_host[300];         /* Host for requests that send none */
	const char *caa_ids[CONFIG_MAX_LIST + 4]; /* CAA issuer domain names */
	size_t n_caa_ids;
	struct crypto_profile profiles[CRYPTO_MAX_PROFILES]; /* first: default */
	size_t n_profiles;
	struct worker *workers;
	int n_workers;
	struct pool *pool;              /* runs what waits (pool.h) */
	struct event_base *main_base;   /* signals, certificate renewal, PKI */
	struct event *cleanup;          /* expired records' removal (cleanup.c) */
	struct pki *pki;                /* the plain-HTTP listener, or NULL */
	char pki_url[300];              /* "http://host[:port]" in leaves */
	long crl_lifetime, crl_refresh; /* from cfg; a reload changes them */
	struct event *sighup;           /* configuration reload (reload.c) */
	struct admin *admin;            /* metrics and health, or NULL */
	struct metrics metrics;         /* every loop adds to it (atomics) */
	struct holds *holds;            /* answers waiting on validations */
	time_t started;
	time_t root_not_after;          /* of DIR/ca/root.crt; 0 unknown */
	char id_prefix[9];              /* request ids: random per process */
};

/* Spawns a signer for each retired intermediate in DIR/ca/retired/ not yet
 * expired (retired.c), with the settings and passphrase of the current
 * one. 0, or -1 when the directory cannot be read. */
int retired_open(struct server *s, const struct crypto_signer_config *sc,
    const char *pw, size_t pwlen);
void retired_close(struct server *s);
/* At SIGHUP (rotate.c): when DIR/ca holds an intermediate other than the
 * one in use (after `hearth ca rotate-intermediate`), takes it up without
 * stopping: its signer is started through the running launcher and
 * checked first; then acme/ issues with it, the PKI listener serves it,
 * the listener's certificate is renewed under it, and the one it replaces
 * becomes a retired intermediate (CRL and OCSP). On any failure the
 * intermediate in use stays and the log says why. 0 when nothing changed
 * or the new one is in use, -1 after logging. Main thread. */
int rotate_check(struct server *s);

/* SIGHUP on main_base: reads the configuration again and applies what may
 * change at run time (reload.c). 0 or -1. */
int server_reload_start(struct server *s);
void server_reload_stop(struct server *s);
/* Reads the configuration again (the --config file and the command line)
 * and applies it; the configuration in force stays when it is refused.
 * 0 when applied, -1 after logging why not. Main thread. */
int server_reload(struct server *s);
/* Logs the name policy in one line and how to widen it. */
void server_policy_announce(const struct crypto_policy *p);
/* acme/'s view of s's configuration (server_open and reload). */
struct acme_config;
void server_acme_config(struct server *s, const struct config *c,
    const struct crypto_policy *policy, const struct crypto_profile *profiles,
    size_t n_profiles, struct acme_config *ac);

/* The cleanup timer on main_base (cleanup.c). 0 or -1. */
int server_cleanup_start(struct server *s);
void server_cleanup_stop(struct server *s);

/* evhttp's general callback: every request. arg is the struct worker. */
void http_handle(struct evhttp_request *req, void *arg);

/* A request whose answer is ready but not yet sent (http.c, hold.c). */
struct http_pending {
	struct worker *w;
	struct evhttp_request *req;
	struct acme_response resp;      /* owned */
	char rid[ACME_MAX_REQUEST_ID + 1];
	char base[ACME_MAX_URL];        /* the request's base URL */
	int route;
	struct timespec t0;             /* when the request came in */
	unsigned long long seq;         /* holds_seq() before acme_handle() */
};
/* Rings every loop's wake-up but except's (NULL: none spared), so their
 * validators take queued jobs. Any thread. */
void server_wake_validators(struct server *s, const struct worker *except);

/* Sends p's answer, counts and logs it, and releases p->resp. When the
 * connection is gone evhttp frees the request instead. An answer about a
 * validation claimed in memory (acme_response.wait.unsettled) has it
 * written first (acme_settle). */
void http_pending_send(struct http_pending *p);
/* "GET", "POST", ... for an evhttp command (an enum evhttp_cmd_type). */
const char *http_method_name(int cmd);

/* A listening socket (non-blocking) on "ADDR:PORT", "[V6]:PORT" or ":PORT"
 * (every address); -1 after logging why. */
int serve_listen_socket(const char *addr);
/* Splits such an address into host ("" for any) and port. 0 or -1. */
int split_listen(const char *listen, char *host, size_t hostsz, char *port,
    size_t portsz);

/* ---- the PKI listener (pki.c): CRL, CA certificates, OCSP over HTTP ---- */

/* Serves on fd (a listening socket, taken over) from s->main_base and
 * builds the first CRL. NULL after logging why. */
struct pki *pki_new(struct server *s, int fd);
void pki_free(struct pki *p);
/* The current intermediate's CRL: thisUpdate (0 before the first) and
 * number. */
void pki_crl_info(const struct pki *p, time_t *this_update, uint64_t *number);
/* s->signer replaced the intermediate that was current (rotate.c): the
 * new one gets its paths and CRL, the old one stays served as a retired
 * issuer with its CRL and OCSP. Both CRLs are built again (the current
 * one carries the entries that name no issuer). 0, or -1 when no issuer
 * slot is left or the new certificate cannot be read (nothing changed). */
int pki_issuer_rotate(struct pki *p);
/* The base URL relying parties use when --pki-url is not given:
 * "http://HOST[:PORT]" with PORT of --pki-listen and HOST its address when
 * one is given, else the first --tls-name, else the host name. 0 or -1. */
int pki_default_url(const struct server *s, char *out, size_t outsz);

/* ---- the admin listener (admin.c): /metrics, /healthz, /readyz ---- */

/* Serves on fd (a listening socket, taken over, closed on failure) from
 * s->main_base. NULL on failure. */
struct admin *admin_new(struct server *s, int fd);
void admin_free(struct admin *a);

/* Writes the listener's current certificate (PEM, no key) to DIR/tls.crt
 * through a temporary file and a rename, for `hearth status`. 0 or -1. */
int serve_tls_cert_write(const struct server *s);
/* Issues the listener a new TLS certificate with s->signer, valid for
 * --tls-cert-lifetime from now, and writes DIR/db/tls.crt. Main thread.
 * 0 or -1 logged. */
int serve_tls_renew(struct server *s, time_t now);

#endif
