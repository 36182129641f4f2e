/*
 * http01.h: the I/O of http-01 validation (RFC 8555 §8.3): fetch
 * http://NAME:PORT/.well-known/acme-challenge/TOKEN, following redirects,
 * and report what came back. Judging the body is acme/'s job.
 *
 * One http01_client per event loop; any number of fetches may run on it at
 * once without blocking the loop or each other.
 */
#ifndef HEARTH_HTTP01_H
#define HEARTH_HTTP01_H

#include "acme.h"

struct event_base;
struct denylist;
struct resolver;
struct http01_client;
struct http01_fetch;

#define HTTP01_MAX_REDIRECTS     10      /* as Let's Encrypt */
#define HTTP01_MAX_HEADER_BYTES  8192    /* status line, headers, trailers */
#define HTTP01_MAX_URL           ACME_MAX_URL

struct http01_options {
	unsigned port;               /* the http-01 port; 0: 80 */
	/* Standard ports a redirect may also go to (and default ports of
	 * URLs without one); 0: 80 and 443. */
	unsigned http_port;
	unsigned https_port;
	unsigned attempt_timeout_ms; /* connect and response, per address; 0: 10 s */
	unsigned total_timeout_ms;   /* the whole fetch with redirects; 0: 60 s */
	/* Ranges never connected to (borrowed, must outlive the client); NULL:
	 * none. Checked for every address, redirect targets included. */
	const struct denylist *deny;
};

/*
 * A client on base that resolves names through res (both borrowed: they
 * must outlive it). opts is copied. NULL on failure.
 */
struct http01_client *http01_client_new(struct event_base *base,
    struct resolver *res, const struct http01_options *opts);
/* Cancels any fetch still running (their callbacks do not run) and frees
 * c. NULL ok. */
void http01_client_free(struct http01_client *c);

/*
 * The outcome of a fetch: r->status and r->detail as acme.h describes; with
 * ACME_FETCH_OK, r->http_status and r->body (at most ACME_MAX_HTTP01_BODY
 * bytes) of the final response. r and its body are valid during the call
 * only; the fetch handle is gone once the callback runs. The callback may
 * start other fetches but must not free the client.
 */
typedef void (*http01_done_cb)(const struct acme_validation_result *r,
    void *arg);

/*
 * Starts fetching the challenge for token from identifier (a DNS name, or an
 * IP address when is_ip, RFC 8738 §3). cb runs exactly once, from the event
 * loop, never from inside this call. Returns the fetch, valid until cb runs;
 * NULL when it could not start (cb does not run then).
 */
struct http01_fetch *http01_fetch_start(struct http01_client *c,
    const char *identifier, int is_ip, const char *token, http01_done_cb cb,
    void *arg);
/* Stops a fetch whose callback has not run; the callback never runs. */
void http01_fetch_cancel(struct http01_fetch *f);

#endif
