/*
 * acme_internal.h: declarations shared by the files of acme/ only.
 */
#ifndef HEARTH_ACME_INTERNAL_H
#define HEARTH_ACME_INTERNAL_H

#include <pthread.h>

#include "acme.h"

/* ---- problem documents (RFC 8555 §6.7, RFC 7807) ---- */

enum acme_problem {
	ACME_P_ACCOUNT_DOES_NOT_EXIST, ACME_P_ALREADY_REVOKED, ACME_P_BAD_CSR,
	ACME_P_BAD_NONCE, ACME_P_BAD_PUBLIC_KEY, ACME_P_BAD_REVOCATION_REASON,
	ACME_P_BAD_SIGNATURE_ALGORITHM, ACME_P_CAA, ACME_P_COMPOUND,
	ACME_P_CONNECTION, ACME_P_DNS, ACME_P_EXTERNAL_ACCOUNT_REQUIRED,
	ACME_P_INCORRECT_RESPONSE, ACME_P_INVALID_CONTACT, ACME_P_MALFORMED,
	ACME_P_ORDER_NOT_READY, ACME_P_RATE_LIMITED, ACME_P_REJECTED_IDENTIFIER,
	ACME_P_SERVER_INTERNAL, ACME_P_TLS, ACME_P_UNAUTHORIZED,
	ACME_P_UNSUPPORTED_CONTACT, ACME_P_UNSUPPORTED_IDENTIFIER,
	ACME_P_USER_ACTION_REQUIRED,
	ACME_P_COUNT
};

/* "urn:ietf:params:acme:error:<name>" for p. */
const char *acme_problem_type(enum acme_problem p);
/* The HTTP status a problem of this type is answered with. */
int acme_problem_status(enum acme_problem p);

/* Replaces resp's body with a problem document of type p, status
 * (0: the type's default), and detail (printf format). */
void acme_respond_problem(struct acme_response *resp, enum acme_problem p,
    int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets a JSON body (takes ownership of json, a malloc'd string). */
void acme_respond_json(struct acme_response *resp, int status, char *json);
/* Adds a header; value is copied. ACME_ERR_* on overflow. */
int acme_respond_header(struct acme_response *resp, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- nonces (RFC 8555 §6.5) ---- */

#define ACME_NONCE_LEN 22  /* base64url of 16 bytes */

struct acme_nonce_slot {
	uint64_t counter;
	time_t issued;
	int used;
};

/*
 * A nonce is counter (8 bytes) || HMAC-SHA256(key, counter)[0..8], base64url.
 * The MAC makes nonces unpredictable and unforgeable; the direct-mapped
 * window of slots makes each usable once, for ACME_NONCE_LIFETIME seconds,
 * while it is among the last ACME_NONCE_WINDOW issued.
 */
struct acme_nonces {
	pthread_mutex_t lock;
	uint8_t key[32];
	uint64_t next;
	struct acme_nonce_slot *slots;
};

int acme_nonces_init(struct acme_nonces *n, int (*random)(void *, size_t));
void acme_nonces_fini(struct acme_nonces *n);
/* Writes a fresh nonce (ACME_NONCE_LEN + 1 bytes) into out. */
int acme_nonce_issue(struct acme_nonces *n, time_t now,
    char out[ACME_NONCE_LEN + 1]);
/* 1 when nonce is genuine, unexpired and unused (and marks it used), else 0. */
int acme_nonce_consume(struct acme_nonces *n, time_t now, const char *nonce);

/* ---- the handle ---- */

struct acme {
	struct acme_config cfg;
	struct store *store;
	struct crypto_signer *signer;
	struct acme_nonces nonces;
};

/* The directory object (RFC 8555 §7.1.1) for base_url. Caller frees. */
char *acme_directory_json(const struct acme *a, const char *base_url);

/* Resource paths, relative to the base URL. */
#define ACME_PATH_DIRECTORY   "/directory"
#define ACME_PATH_NEW_NONCE   "/acme/new-nonce"
#define ACME_PATH_NEW_ACCOUNT "/acme/new-account"
#define ACME_PATH_NEW_ORDER   "/acme/new-order"
#define ACME_PATH_NEW_AUTHZ   "/acme/new-authz"
#define ACME_PATH_REVOKE_CERT "/acme/revoke-cert"
#define ACME_PATH_KEY_CHANGE  "/acme/key-change"

#endif
