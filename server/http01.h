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

#include <stddef.h>
#include <stdint.h>

#include "acme.h"

struct event_base;
struct evbuffer;
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

/* ---- the parts of a fetch that only read bytes (also for tests) ---- */

/* A URL being fetched. */
struct http01_url {
	int https;
	char host[256];              /* no brackets, DNS names lower-cased */
	int host_is_ip;
	unsigned port;
	char target[HTTP01_MAX_URL]; /* path and query */
};

/*
 * Points url at a redirect's Location: a path on the same origin, or an
 * absolute http or https URL on a port of o (port, http_port, https_port,
 * all set) with a valid host. 0, or -1 with the reason, naming the escaped
 * Location, in why (whysz bytes); url may be partly changed then.
 */
int http01_redirect_parse(const struct http01_options *o, const char *location,
    struct http01_url *url, char *why, size_t whysz);

/* What reading a response gave: > 0 a state, < 0 what was wrong. */
enum {
	HTTP01_RESP_MORE = 1,        /* the response is incomplete */
	HTTP01_RESP_DONE = 2,        /* status and body are complete */
	HTTP01_RESP_REDIRECT = 3,    /* a redirect with a Location */
	HTTP01_ERR_MALFORMED = -1,   /* status line or header */
	HTTP01_ERR_CHUNKED = -2,     /* chunked framing */
	HTTP01_ERR_HEADERS = -3,     /* over HTTP01_MAX_HEADER_BYTES */
	HTTP01_ERR_BODY = -4,        /* body over ACME_MAX_HTTP01_BODY */
	HTTP01_ERR_LENGTH = -5,      /* Content-Length over ACME_MAX_HTTP01_BODY */
	HTTP01_ERR_READ = -6,        /* the buffer would not give its bytes */
	HTTP01_ERR_TRUNCATED = -7,   /* the stream ended inside the response */
	HTTP01_ERR_EMPTY = -8,       /* the stream ended before any byte */
};

/* One HTTP/1.1 response being read: the status line, the headers that
 * frame it (Content-Length, Transfer-Encoding) and Location, and a body
 * of at most ACME_MAX_HTTP01_BODY bytes. */
struct http01_response {
	int state;                   /* of the reader; set by _init */
	size_t header_bytes;
	int status;
	long long content_length;    /* -1 when absent */
	int chunked;
	unsigned long long chunk_left;
	char location[HTTP01_MAX_URL];
	uint8_t body[ACME_MAX_HTTP01_BODY];
	size_t body_len;
};

void http01_response_init(struct http01_response *r);
/* Consumes what in holds of the response: HTTP01_RESP_MORE (all of in
 * taken, the response goes on), HTTP01_RESP_DONE or HTTP01_RESP_REDIRECT
 * (bytes after the response stay in in), or an HTTP01_ERR_* code. */
int http01_response_read(struct http01_response *r, struct evbuffer *in);
/* The stream ended after what was read: HTTP01_RESP_DONE when that ends the
 * response (a body read to the end), else HTTP01_ERR_EMPTY or
 * HTTP01_ERR_TRUNCATED. */
int http01_response_eof(const struct http01_response *r);

#endif
