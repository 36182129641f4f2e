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
struct crypto_policy;
struct crypto_profile;

/* Caps on what a request may carry; the server enforces the body cap before
 * reading, acme/ checks again. */
#define ACME_MAX_BODY        (64 * 1024)
#define ACME_MAX_URL         2048
#define ACME_MAX_HEADERS     8      /* response headers acme/ may set */
#define ACME_MAX_REQUEST_ID  32     /* bytes of acme_request.request_id kept */
#define ACME_NONCE_LIFETIME  3600   /* seconds a nonce stays usable */
#define ACME_NONCE_WINDOW    65536  /* nonces outstanding at once */

/* acme/'s own codes start at -100, so they never share a value with the
 * STORE_* and CRYPTO_* codes (-1..-99) of the modules below: a code says
 * which module it comes from. */
enum {
	ACME_OK = 0,
	ACME_ERR_NOMEM = -100,
	ACME_ERR_INVALID = -101,
	ACME_ERR_INTERNAL = -102,
	ACME_ERR_NOTFOUND = -103,   /* no such record (e.g. an EAB key id) */
	ACME_ERR_ALREADY = -104,    /* the change was made before (revoked) */
	ACME_ERR_BUSY = -105,       /* requests still use the configuration
	                               before the last one; try again */
};

/*
 * Rate limits and caps (docs/limits.md). A rate allows count events per
 * period seconds, the whole count at once when the key has been quiet for a
 * period (GCRA, a token bucket kept as one time). count 0 turns a limit
 * off; a zeroed struct acme_limits is "no limits". The ACME_LIMIT_DEFAULT_*
 * values are what `hearth serve` uses unless told otherwise.
 */
struct acme_rate {
	unsigned count;
	long period;                /* seconds */
};

struct acme_limits {
	struct acme_rate accounts;  /* new accounts per source address */
	struct acme_rate orders;    /* new orders per account */
	struct acme_rate failures;  /* failed validations per account and name */
	struct acme_rate nonces;    /* nonces issued per source address */
	unsigned pending_authzs;    /* pending authorizations per account */
	unsigned queue_share;       /* validations an account may have queued
	                               or running at once */
};

#define ACME_LIMIT_DEFAULT_ACCOUNTS     100, 3600
#define ACME_LIMIT_DEFAULT_ORDERS       1000, 3600
#define ACME_LIMIT_DEFAULT_FAILURES     10, 3600
#define ACME_LIMIT_DEFAULT_NONCES       3000, 60
#define ACME_LIMIT_DEFAULT_PENDING      1000
#define ACME_LIMIT_DEFAULT_QUEUE_SHARE  256

struct acme_config {
	const char *website;        /* directory meta "website", may be NULL */
	const char *ca_name;        /* may be NULL */
	int caa_check;              /* check CAA (RFC 8659) for DNS identifiers */
	const char *const *caa_identities; /* issuer domain names of this CA */
	size_t n_caa_identities;
	/* Certificate profiles offered (draft-ietf-acme-profiles), the first
	 * being the default; copied by acme_new(). None: the defaults of
	 * crypto_profile_defaults(). Every leaf's lifetime is its profile's. */
	const struct crypto_profile *profiles;
	size_t n_profiles;
	size_t max_body;            /* request body cap, default ACME_MAX_BODY */
	long retention;             /* seconds expired records are kept before
	                               the cleanup removes them; 0: 7 days */
	int eab_required;           /* newAccount needs externalAccountBinding */
	struct acme_limits limits;  /* all zero: none */
	/* Random bytes for nonces and identifiers: 0 on success. */
	int (*random)(void *buf, size_t len);
	/* Which identifiers may be ordered (newOrder, newAuthz); copied by
	 * acme_new() and acme_reconfigure(). NULL allows every well-formed
	 * identifier. */
	const struct crypto_policy *policy;
	/* What replicas must share (nonces, rate counters) is kept in the
	 * store when store_shared() says others serve from it, or when this
	 * is set (several servers on one LMDB directory, tests). */
	int shared;
	/* Names this process among the replicas, the same across its
	 * restarts (server/: host name and data directory), so a restarted
	 * replica takes its own validations back at once; read by acme_new()
	 * only. NULL: a random name, and a restarted process waits for its
	 * old leases to lapse. */
	const char *replica_name;
	/* server/ holds an answer that waits on a validation (acme_response.
	 * wait) until the result is stored, and calls acme_settle() before
	 * sending one that says unsettled. Then, on a store no other process
	 * serves, a validation a client starts is claimed in memory, and its
	 * result is its only write (acme/validating.c). */
	int hold_answers;
};

struct acme;

/* Creates the protocol state over an open store and signer (both borrowed:
 * they must outlive the acme handle). NULL on failure with *err set. */
struct acme *acme_new(const struct acme_config *cfg, struct store *st,
    struct crypto_signer *signer, int *err);
void acme_free(struct acme *a);

/*
 * The signer new certificates are issued with from now on (a rotated
 * intermediate). Each finalization takes the signer once, when it begins,
 * and signs and stores the chain with that one: a request already under
 * way finishes with the signer it took. Both stay borrowed: the caller
 * keeps the one replaced open too until acme_free() (hearth serves it as a
 * retired intermediate). Safe while other threads run requests.
 */
void acme_signer_set(struct acme *a, struct crypto_signer *signer);

struct acme_request {
	const char *method;         /* "GET", "HEAD", "POST", ... */
	const char *path;           /* request path, without query */
	const char *query;          /* query string without '?', or NULL */
	const char *base_url;       /* "https://host:port" the client used */
	const char *peer;           /* the client's IP address as text, or
	                               NULL (then no per-source limit applies) */
	const char *content_type;   /* may be NULL */
	const uint8_t *body;
	size_t body_len;
	time_t now;
	const char *request_id;     /* server/'s id for its logs, or NULL;
	                               carried into validation jobs it starts */
};

struct acme_header {
	const char *name;           /* static string */
	char *value;                /* owned by the response */
};

/*
 * What an answer waits on. An answer about a challenge being validated, an
 * authorization whose challenge is being validated, or a pending order
 * whose open authorizations all are, names that validation here, so
 * server/ may hold the answer until the validation ends (or a cap passes)
 * and then render it again with acme_refresh(). ACME_WAIT_NONE: the answer
 * waits on nothing (the client's move, or the object is decided).
 */
enum acme_wait_kind {
	ACME_WAIT_NONE, ACME_WAIT_CHALLENGE, ACME_WAIT_AUTHZ, ACME_WAIT_ORDER,
};

#define ACME_WAIT_ID_LEN 64         /* ids in resource paths, at most */

struct acme_wait {
	enum acme_wait_kind kind;
	char id[ACME_WAIT_ID_LEN + 1];        /* the object answered */
	char account[ACME_WAIT_ID_LEN + 1];   /* the account that asked */
	char challenge[ACME_WAIT_ID_LEN + 1]; /* the validation waited on: the
	                                         challenge_id of its job */
	int unsettled;              /* that validation is claimed in memory
	                               only: acme_settle() before this answer
	                               goes out */
};

struct acme_response {
	int status;                 /* HTTP status */
	const char *content_type;   /* static string, or NULL with no body */
	char *body;                 /* owned by the response; may be NULL */
	size_t body_len;
	struct acme_header headers[ACME_MAX_HEADERS];
	size_t n_headers;
	struct acme_wait wait;      /* kind ACME_WAIT_NONE unless it waits */
};

/*
 * Replaces, while requests run, what a configuration reload may change: the
 * name policy (copied), the profiles, the rate limits and caps, and
 * eab_required. The other fields of cfg are ignored (they need a restart).
 * Requests that started before keep the configuration they began with; the
 * old one is freed once none uses it. 0; ACME_ERR_INVALID (too many
 * profiles), ACME_ERR_NOMEM, or ACME_ERR_BUSY when requests begun before
 * the previous reconfiguration still run (nothing changed; call again).
 * Calls are serialised; the handle keeps nothing of cfg.
 */
int acme_reconfigure(struct acme *a, const struct acme_config *cfg);

/*
 * Whether handling req may wait on more than reads and the CPU: a durable
 * store write (an LMDB fsync, a PostgreSQL round trip) or the signer. A
 * POST that creates or changes something does; a POST-as-GET (an empty
 * payload) of an account, order, authorization, challenge, certificate or
 * order list does not, unless the store is shared (every POST then redeems
 * its nonce in the store); neither does a POST that starts a validation
 * claimed in memory (hold_answers); GET and HEAD never do. A hint for where to run
 * the request (server/ runs the ones that may wait off its event loops),
 * never a promise: the answer is the same wherever it runs. Reads only
 * req's method, path and body; safe from any thread.
 */
int acme_request_waits(const struct acme *a, const struct acme_request *req);

/* Handles one request. Always fills resp (a problem document on failure);
 * release it with acme_response_clear(). */
void acme_handle(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_response_clear(struct acme_response *resp);

/*
 * Renders again, as of now, the object of an answer that waits (resp->wait,
 * as acme_handle() or an earlier call left it) for base_url, the base URL
 * of the request it answers: the body and Retry-After are replaced; the
 * status and the other headers (its Replay-Nonce, still the one issued,
 * Link, Location) are kept; resp->wait then says what the new body waits
 * on. A read only: no JWS, no nonce, no write; the object must still
 * belong to resp->wait.account. 0; ACME_ERR_INVALID (nothing to render),
 * ACME_ERR_NOTFOUND (gone, or another account's) or ACME_ERR_INTERNAL
 * (store, memory), with resp unchanged. Safe from any thread.
 */
int acme_refresh(struct acme *a, const char *base_url, time_t now,
    struct acme_response *resp);

/*
 * Before an answer that says resp->wait.unsettled goes out ahead of the
 * result it waits on: writes the validation claimed in memory as its
 * durable "processing" state (acme/validating.c), then renders the answer
 * again as acme_refresh() does. Nothing when the answer is settled. 0; when
 * the store fails, ACME_ERR_INTERNAL with resp turned into a 503 problem
 * (it waits on nothing then); when acme_refresh() fails, its error with
 * resp unchanged. A write: from a thread that may wait on the disk.
 */
int acme_settle(struct acme *a, const char *base_url, time_t now,
    struct acme_response *resp);
/* At a stop: writes every validation still claimed in memory as its
 * durable "processing" state, so the next start resumes them as it
 * resumes those of a process that died (acme_validations_sweep). 0, or
 * ACME_ERR_INTERNAL / ACME_ERR_NOMEM (some stay unwritten). */
int acme_settle_all(struct acme *a, time_t now);

/* The resource a request path belongs to, as one of a fixed set of names
 * (ACME_ROUTES of them, listed by acme_route_name(i) for i in
 * 0..ACME_ROUTES-1): "directory", "new-nonce", "new-account", "new-order",
 * "new-authz", "revoke-cert", "key-change", "renewal-info", "account",
 * "orders", "order", "authz", "challenge", "cert", "finalize", "other".
 * For metrics labels: a client-chosen path never becomes a label. */
#define ACME_ROUTES 16
int acme_route_of(const char *path);
const char *acme_route_name(int route);

/*
 * Counts of protocol events since acme_new(), for metrics. acme/ adds to
 * them with relaxed atomic additions (no lock, no clock); acme_stats()
 * copies them, each read on its own, so a copy taken during traffic may be
 * a few events apart between fields. Rate-limit refusals are not here: they
 * are every 429 response, which server/ counts by route; revocations are
 * acme_revocation_count(), which also sees other processes'.
 */
struct acme_stats {
	uint64_t orders_created;        /* newOrder stored */
	uint64_t orders_valid;          /* finalize stored a certificate */
	uint64_t orders_finalize_failed; /* finalize claimed it, then failed */
	uint64_t authzs_valid;          /* by a valid challenge */
	uint64_t authzs_invalid;        /* by an invalid challenge */
	uint64_t certs_issued;          /* leaves signed and stored */
};
void acme_stats(const struct acme *a, struct acme_stats *out);

/* Removes a small batch of orders, authorizations (with their challenges)
 * and certificates that expired more than cfg.retention before now, in
 * short transactions. Returns how many records went (call again while it
 * is positive) or a negative ACME_ERR_* code. Safe from any thread. */
int acme_cleanup(struct acme *a, time_t now);

/* ---- validation: acme/ decides what to check, server/ does the I/O ---- */

enum acme_challenge_type {
	ACME_CHALL_HTTP01, ACME_CHALL_DNS01, ACME_CHALL_TLSALPN01,
};

/* A validation job for server/, queued when a client answers a challenge. */
struct acme_validation {
	char challenge_id[64];
	char authz_id[64];          /* the authorization it validates */
	enum acme_challenge_type type;
	int ident_is_ip;            /* identifier is an IP address (RFC 8738) */
	char identifier[256];       /* DNS name (base name for wildcards) or IP */
	char token[128];
	char key_authorization[256]; /* token "." thumbprint (RFC 8555 §8.1) */
	unsigned attempt;           /* 0 for the first try */
	unsigned delay;             /* seconds server/ waits before this try */
	time_t started;             /* when this try was queued to begin (its
	                               delay included); 0: unknown */
	int wildcard;               /* authorization is for "*." + identifier */
	int check_caa;              /* server/ also looks up CAA (RFC 8659) */
	char account_uri[ACME_MAX_URL]; /* for CAA accounturi (RFC 8657) */
	char account_id[32];        /* the account's id: its queue share and
	                               failure count */
	char request_id[ACME_MAX_REQUEST_ID + 1]; /* of the request that
	                               started it; empty for resumed jobs */
};

/*
 * Queues the validations no live process runs: those in the store's
 * validations index whose lease expired (their replica died or stopped)
 * or that nobody holds; each is claimed in a store write, so of several
 * replicas sweeping at once exactly one runs it. At its first call a
 * handle also takes back the entries leased to its replica_name (what it
 * left at its last stop), and a server alone on its store takes every
 * entry. Call at start, before any request, and every few seconds. Returns how many jobs were
 * queued, or a negative STORE_* code. Safe from any thread.
 */
int acme_validations_sweep(struct acme *a, time_t now);

/* Takes the next queued validation: 1 when *job was filled, 0 when none.
 * Safe from any thread. */
int acme_validation_next(struct acme *a, struct acme_validation *job);

/* How the I/O for a validation ended, before any judging of content. */
enum acme_fetch_status {
	ACME_FETCH_OK,              /* a response was obtained */
	ACME_FETCH_DNS,             /* name did not resolve (or resolver failed) */
	ACME_FETCH_CONNECTION,      /* refused, reset, timed out, or too large */
	ACME_FETCH_TLS,             /* TLS handshake failed */
	ACME_FETCH_FORBIDDEN,       /* address or redirect refused by policy */
};

struct acme_validation_result {
	enum acme_fetch_status status;
	char detail[256];           /* for the problem document, when not OK */
	/* http-01: final HTTP status and body (at most ACME_MAX_HTTP01_BODY) */
	int http_status;
	const uint8_t *body;
	size_t body_len;
	/* dns-01: the TXT strings of _acme-challenge.NAME (CNAMEs followed) */
	const char *const *txt;
	size_t n_txt;
	/* tls-alpn-01: the certificate the peer presented, and its ALPN */
	const uint8_t *peer_cert;
	size_t peer_cert_len;
	const char *alpn;
	/* CAA, when job.check_caa: the relevant record set found climbing the
	 * name (RFC 8659 §3); caa_status is ACME_FETCH_OK when the lookups
	 * succeeded (an empty set included) and ACME_FETCH_DNS when one failed. */
	enum acme_fetch_status caa_status;
	char caa_detail[256];
	const struct acme_caa_record *caa;
	size_t n_caa;
};

#define ACME_MAX_HTTP01_BODY 1024   /* a key authorization is far shorter */
#define ACME_MAX_TXT          100   /* TXT records considered for dns-01 */
#define ACME_MAX_CAA          32    /* CAA records considered */

/* One CAA record (RFC 8659 §4.1). */
struct acme_caa_record {
	unsigned flags;
	char tag[16];
	char value[256];
};

/* What became of a reported validation. */
enum acme_validation_outcome {
	ACME_VALIDATION_VALID,      /* the challenge is valid */
	ACME_VALIDATION_INVALID,    /* the challenge is invalid */
	ACME_VALIDATION_RETRY,      /* a transient failure, queued again */
	ACME_VALIDATION_UNSTORED,   /* decided, but not stored (already decided,
	                               gone, or a store error) */
};
#define ACME_VALIDATION_OUTCOMES 4
/* "valid", "invalid", "retry", "unstored". */
const char *acme_validation_outcome_name(enum acme_validation_outcome o);

/* Reports the I/O result of job; acme/ judges it (RFC 8555 §8) and stores
 * the challenge's and authorization's new state, or, after a transient
 * failure, queues the job again with attempt + 1 and a delay. Returns what
 * became of it. Safe from any thread. */
enum acme_validation_outcome acme_validation_done(struct acme *a,
    const struct acme_validation *job, const struct acme_validation_result *r,
    time_t now);

/* ---- external account binding keys (RFC 8555 §7.3.4) ----
 *
 * An operator creates MAC keys (`hearth eab add`); a client proves it holds
 * one when it creates its account, and the key is then bound to that account
 * for good. The store keeps the MAC key itself (the server must have it to
 * verify), so the database is as secret as the keys. These functions run in
 * any process that has the store open, also while a server uses it.
 */

#define ACME_EAB_KID_LEN      32   /* hex of 16 random bytes */
#define ACME_EAB_HMAC_BYTES   32
#define ACME_EAB_HMAC_B64_LEN 43   /* base64url of 32 bytes, no padding */
#define ACME_EAB_MAX_LABEL    128
#define ACME_EAB_MAX_ALLOW    32   /* name suffixes per key */

struct acme_eab_params {
	const char *label;                 /* operator's note, may be NULL */
	time_t expires;                    /* unbound key unusable after; 0: never */
	const char *const *allow_dns;      /* DNS suffixes names must fall under */
	size_t n_allow_dns;                /* 0: no restriction */
};

/*
 * Creates a key: random kid and MAC key, written to kid and hmac (base64url,
 * NUL-terminated). random fills buffers (crypto_random). 0; ACME_ERR_INVALID
 * with the reason in why (a label or suffix refused); ACME_ERR_INTERNAL when
 * the store or randomness failed (reason in why).
 */
int acme_eab_key_add(struct store *st, const struct acme_eab_params *p,
    time_t now, int (*random)(void *buf, size_t len),
    char kid[ACME_EAB_KID_LEN + 1], char hmac[ACME_EAB_HMAC_B64_LEN + 1],
    char *why, size_t whylen);

/* What acme_eab_key_list() shows of a key; never the MAC key. Pointers are
 * valid during the callback only. */
struct acme_eab_info {
	const char *kid;
	const char *label;                 /* "" when none */
	time_t created, expires;           /* expires 0: never */
	time_t revoked;                    /* 0: not revoked */
	const char *account;               /* bound account id, NULL: unbound */
	time_t bound;
	const char *const *allow_dns;
	size_t n_allow_dns;
};

/* Calls fn for every key in kid order; fn returns 0 to go on, non-zero to
 * stop. Returns 0 or ACME_ERR_INTERNAL. */
typedef int (*acme_eab_key_fn)(const struct acme_eab_info *k, void *arg);
int acme_eab_key_list(struct store *st, acme_eab_key_fn fn, void *arg);

/* Marks a key revoked: it can no longer bind an account; an account it
 * already bound keeps working. *was_revoked is set when it already was
 * (nothing changes). 0, ACME_ERR_NOTFOUND or ACME_ERR_INTERNAL. */
int acme_eab_key_revoke(struct store *st, const char *kid, time_t now,
    int *was_revoked);
/* ---- issued certificates and their revocation (cert.c, revoked.c) ----
 *
 * These run in any process that has the store open, also while a server
 * uses it (`hearth certs`, `hearth revoke`). A revocation writes, in one
 * store_write, the certificate record, a fixed-size entry in the revoked
 * table (revocation time, reason, notAfter: all a CRL or an OCSP answer
 * needs) and a revocation counter that servers poll to rebuild the CRL.
 */

#define ACME_SERIAL_MAX_BYTES 20    /* RFC 5280 §4.1.2.2 */
#define ACME_SERIAL_HEX_LEN   (2 * ACME_SERIAL_MAX_BYTES)

/* RFC 5280 §5.3.1 CRLReason codes. */
enum acme_reason {
	ACME_REASON_UNSPECIFIED = 0, ACME_REASON_KEY_COMPROMISE = 1,
	ACME_REASON_CA_COMPROMISE = 2, ACME_REASON_AFFILIATION_CHANGED = 3,
	ACME_REASON_SUPERSEDED = 4, ACME_REASON_CESSATION = 5,
	ACME_REASON_CERTIFICATE_HOLD = 6, ACME_REASON_REMOVE_FROM_CRL = 8,
	ACME_REASON_PRIVILEGE_WITHDRAWN = 9, ACME_REASON_AA_COMPROMISE = 10,
};

/* Who asks for a revocation: a subscriber through revokeCert, or the
 * operator through the command line. */
enum acme_revoker { ACME_REVOKER_SUBSCRIBER, ACME_REVOKER_OPERATOR };

/* Nonzero when who may give reason: subscribers 0, 1, 3, 4, 5; the operator
 * those and 2, 9, 10. Never 6 (a hold is undone; hearth's revocations are
 * final), 7 (unassigned) or 8 (delta CRLs only). See docs/revocation.md. */
int acme_reason_allowed(int reason, enum acme_revoker who);
/* "keyCompromise", ... for a code 0-10; "unknown" otherwise. Static. */
const char *acme_reason_name(int reason);
/* Parses a reason given as its number or its name (case-insensitive, e.g.
 * "superseded", "keycompromise"). 0 or ACME_ERR_INVALID. */
int acme_reason_parse(const char *s, int *reason);

/* Normalises a serial as operators type it ("3A0F...", "3a:0f:...", with or
 * without leading zero bytes) to the form certificates are stored under:
 * lower-case hex, no colons, no leading zero bytes. 0 or ACME_ERR_INVALID. */
int acme_serial_normalize(const char *in, char out[ACME_SERIAL_HEX_LEN + 1]);

/* Revokes the certificate with serial (lower-case hex, as normalised) at
 * now. The caller has checked who may and which reason. 0,
 * ACME_ERR_NOTFOUND (not issued here), ACME_ERR_ALREADY (already revoked:
 * nothing changes), ACME_ERR_INTERNAL (the store failed). */
int acme_cert_revoke(struct store *st, const char *serial, int reason,
    time_t now);

/* Once per store: enters certificates revoked by a hearth that had no
 * revoked table into it (one pass over the certificate records; a meta
 * flag marks it done). Call at start. 0 or ACME_ERR_INTERNAL. */
int acme_revoked_index(struct store *st);

/* How many revocations the store has recorded; grows by one with each.
 * 0 or ACME_ERR_INTERNAL. */
int acme_revocation_count(struct store *st, uint64_t *count);

enum acme_cert_status { ACME_CERT_VALID, ACME_CERT_REVOKED, ACME_CERT_EXPIRED };
/* "valid", "revoked", "expired". Static. */
const char *acme_cert_status_name(enum acme_cert_status s);

/* What `hearth certs` shows of a certificate. Pointers are valid during the
 * callback only. */
struct acme_cert_info {
	const char *serial;                 /* lower-case hex */
	enum acme_cert_status status;       /* revoked wins over expired */
	time_t not_before, not_after, issued;
	time_t revoked_at;                  /* 0 unless revoked */
	int reason;                         /* when revoked */
	const char *account;
	const char *pem;                    /* the leaf */
	const char *const *names;           /* its identifiers, as ordered */
	size_t n_names;
	const char *replaced_by;            /* the serial that replaced it
	                                       (RFC 9773 replaces), or NULL */
};
/* fn returns 0 to go on, non-zero to stop. */
typedef int (*acme_cert_fn)(const struct acme_cert_info *c, void *arg);

/* Calls fn for every certificate in serial order, reading the store in
 * pages of ACME_CERTS_PAGE so no read transaction lives long and memory
 * stays flat. Status as of now. 0 or ACME_ERR_INTERNAL. */
#define ACME_CERTS_PAGE 256
int acme_cert_list(struct store *st, time_t now, acme_cert_fn fn, void *arg);
/* Calls fn for the certificate with serial (normalised). 0,
 * ACME_ERR_NOTFOUND or ACME_ERR_INTERNAL. */
int acme_cert_show(struct store *st, const char *serial, time_t now,
    acme_cert_fn fn, void *arg);

/* ---- revocation for relying parties: CRL (crl.c), OCSP (ocsp.c) ---- */

/* A signed CRL. Free with acme_crl_clear(). */
struct acme_crl {
	uint8_t *der;
	size_t len;
	uint64_t number;            /* cRLNumber */
	uint64_t revocations;       /* the revocation count it reflects */
	time_t this_update, next_update;
	size_t entries;
};

/*
 * Builds the full CRL (RFC 5280 §5) of the signer's intermediate as of now:
 * every revoked certificate not yet expired, with its revocation time and
 * reason; valid for lifetime seconds. Takes the next CRL number in its own
 * write (numbers only grow, also across restarts). thisUpdate is now, or the
 * latest revocation time when that is later (another process's clock). 0,
 * ACME_ERR_INVALID, ACME_ERR_NOMEM or ACME_ERR_INTERNAL (store or signer).
 * Only certificates the signer's intermediate issued are listed; current
 * nonzero (the intermediate in use) also takes revocations recorded before
 * the revoked table kept issuers.
 */
int acme_crl_build(struct store *st, struct crypto_signer *s, int current,
    time_t now, long lifetime, struct acme_crl *out);
void acme_crl_clear(struct acme_crl *c);

#define ACME_OCSP_VALIDITY 3600     /* an answer's nextUpdate - thisUpdate */

/* An OCSP response, always DER to send (an error status included). */
struct acme_ocsp {
	uint8_t *der;
	size_t len;
	const char *outcome;        /* for the log: "good", "revoked", "unknown",
	                             * "malformedRequest", "unauthorized",
	                             * "internalError", "tryLater". Static. */
};

/*
 * Answers one DER OCSPRequest (RFC 6960) about the signer's intermediate:
 * good for a certificate issued here and not revoked, revoked (time,
 * reason) from the revoked table, unknown for any other serial; the nonce
 * echoed. Refusals are OCSP error statuses: malformedRequest (unparsable,
 * several requests, unknown hash), unauthorized (another issuer, §2.3),
 * tryLater (the signer did not sign). Signed afresh per request: never
 * older than the last revocation. 0, or ACME_ERR_NOMEM with nothing to
 * send. Free with acme_ocsp_clear().
 */
int acme_ocsp_answer(struct store *st, struct crypto_signer *s,
    const uint8_t *req, size_t len, time_t now, struct acme_ocsp *out);
void acme_ocsp_clear(struct acme_ocsp *o);

#endif
