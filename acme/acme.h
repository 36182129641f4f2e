/*
 * acme.h: the ACME protocol (RFC 8555) as request in, response out.
 *
 * acme/ owns protocol decisions: routing of ACME resources, nonces, JWS
 * checks, problem documents, the life of accounts, orders, authorizations
 * and certificates. It has no sockets, no event loop and reads no clock: the
 * server passes the time in every request and turns the response into HTTP.
 *
 * An acme handle is shared by all of the server's threads; acme_handle() may
 * be called concurrently (nonces and the store are internally locked).
 */
#ifndef HEARTH_ACME_H
#define HEARTH_ACME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct crypto_signer;

/* Caps on what a request may carry; the server enforces the body cap before
 * reading, acme/ checks again. */
#define ACME_MAX_BODY        (64 * 1024)
#define ACME_MAX_URL         2048
#define ACME_MAX_HEADERS     8      /* response headers acme/ may set */
#define ACME_NONCE_LIFETIME  3600   /* seconds a nonce stays usable */
#define ACME_NONCE_WINDOW    65536  /* nonces outstanding at once */

enum {
	ACME_OK = 0,
	ACME_ERR_NOMEM = -1,
	ACME_ERR_INVALID = -2,
	ACME_ERR_INTERNAL = -3,
};

struct acme_config {
	const char *website;        /* directory meta "website", may be NULL */
	const char *ca_name;        /* for caaIdentities; may be NULL */
	unsigned cert_days;         /* leaf validity, default 90 */
	/* Random bytes for nonces and identifiers: 0 on success. */
	int (*random)(void *buf, size_t len);
};

struct acme;

/* Creates the protocol state over an open store and signer (both borrowed:
 * they must outlive the acme handle). NULL on failure with *err set. */
struct acme *acme_new(const struct acme_config *cfg, struct store *st,
    struct crypto_signer *signer, int *err);
void acme_free(struct acme *a);

struct acme_request {
	const char *method;         /* "GET", "HEAD", "POST", ... */
	const char *path;           /* request path, without query */
	const char *base_url;       /* "https://host:port" the client used */
	const char *content_type;   /* may be NULL */
	const uint8_t *body;
	size_t body_len;
	time_t now;
};

struct acme_header {
	const char *name;           /* static string */
	char *value;                /* owned by the response */
};

struct acme_response {
	int status;                 /* HTTP status */
	const char *content_type;   /* static string, or NULL with no body */
	char *body;                 /* owned by the response; may be NULL */
	size_t body_len;
	struct acme_header headers[ACME_MAX_HEADERS];
	size_t n_headers;
};

/* Handles one request. Always fills resp (a problem document on failure);
 * release it with acme_response_clear(). */
void acme_handle(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_response_clear(struct acme_response *resp);

#endif
