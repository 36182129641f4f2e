/*
 * acme_internal.h: declarations shared by the files of acme/ only.
 */
#ifndef HEARTH_ACME_INTERNAL_H
#define HEARTH_ACME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "acme.h"
#include "crypto.h"
#include "store.h"

typedef struct cJSON cJSON;

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
	ACME_P_USER_ACTION_REQUIRED, ACME_P_INVALID_PROFILE,
	ACME_P_ALREADY_REPLACED,
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
/* A problem document object: type p, status (0: the type's default),
 * detail. NULL on allocation failure; caller frees with cJSON_Delete. */
cJSON *acme_problem_new(enum acme_problem p, int status, const char *detail);
/* Replaces resp's body with the problem document doc, answered with its
 * "status"; takes ownership of doc (NULL answers serverInternal). */
void acme_respond_problem_doc(struct acme_response *resp, cJSON *doc);
/* Replaces resp's body with serverInternal, 503, "the database is
 * unavailable", and adds Retry-After: ACME_STORE_RETRY unless resp has
 * one: the answer to a request that met a store failing with
 * STORE_ERR_IO (acme_handle decides, for every resource). */
#define ACME_STORE_RETRY 2
void acme_respond_unavailable(struct acme_response *resp);
/* Sets a JSON body (takes ownership of json, a malloc'd string). */
void acme_respond_json(struct acme_response *resp, int status, char *json);
/* Adds a header; value is copied. ACME_ERR_* on overflow. */
int acme_respond_header(struct acme_response *resp, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- nonces (RFC 8555 §6.5) ---- */

#define ACME_NONCE_LEN 32  /* base64url of 24 bytes */
#define ACME_NONCE_EXPIRE_BATCH 256 /* used nonces one cleanup call removes */

struct acme_nonce_slot {
	uint64_t counter;
	time_t issued;
	int used;
};

/*
 * A nonce is issued (4 bytes) || replica (4) || counter (8) ||
 * HMAC-SHA256(key, the 16 bytes before)[0..8], base64url (nonce.c). Alone
 * on its store, the direct-mapped window of slots makes each usable once,
 * for ACME_NONCE_LIFETIME seconds, while it is among the last
 * ACME_NONCE_WINDOW issued. With store set (replicas), the key is the
 * store's and each nonce is redeemed in the store's used_nonces table.
 */
struct acme_nonces {
	pthread_mutex_t lock;
	uint8_t key[32];
	uint32_t replica;           /* drawn at start: this process's nonces */
	uint64_t next;
	struct store *store;        /* shared store, or NULL: the window */
	struct acme_nonce_slot *slots;
};

int acme_nonces_init(struct acme_nonces *n, int (*random)(void *, size_t));
/* Switches to nonces shared through st: takes the store's key (storing
 * this handle's when it has none yet). 0 or a STORE_* code. */
int acme_nonces_share(struct acme_nonces *n, struct store *st);
void acme_nonces_fini(struct acme_nonces *n);
/* Writes a fresh nonce (ACME_NONCE_LEN + 1 bytes) into out. */
int acme_nonce_issue(struct acme_nonces *n, time_t now,
    char out[ACME_NONCE_LEN + 1]);
/* 1 when nonce is genuine, unexpired and unused (and marks it used); 0 when
 * it is not; a negative STORE_* code when the shared store failed. */
int acme_nonce_consume(struct acme_nonces *n, time_t now, const char *nonce);
/* Removes up to ACME_NONCE_EXPIRE_BATCH used nonces that expired before
 * now from a shared store: how many, or a STORE_* code. */
int acme_nonces_expire(struct acme_nonces *n, time_t now);

/* ---- rate limits (limit.c) ----
 *
 * The rates of struct acme_limits, kept in memory per process: one table per
 * kind of fixed size, keyed by a keyed hash of the key string. The functions
 * below are the whole interface, so a backend shared by several processes
 * (the store) can take their place without the callers changing.
 */

enum acme_limit_kind {
	ACME_LIMIT_ACCOUNTS,        /* key: source address (IPv6: its /64) */
	ACME_LIMIT_ORDERS,          /* key: account id */
	ACME_LIMIT_FAILURES,        /* key: account id "/" type ":" name */
	ACME_LIMIT_NONCES,          /* key: source address */
	ACME_LIMIT_KINDS
};

#define ACME_LIMIT_WAYS   8         /* keys per hash set */
#define ACME_LIMIT_SETS   2048      /* sets per kind: 16384 keys */
#define ACME_LIMIT_HASH   16        /* bytes of keyed hash kept per key */
#define ACME_QUEUE_RETRY  5         /* Retry-After while the queue is full */

struct acme_limit_slot {
	uint8_t key[ACME_LIMIT_HASH];
	int64_t tat;                /* ms: when the key is back at rest */
};

struct acme_limit_table {
	pthread_mutex_t lock;
	int64_t interval;           /* ms per event; 0: the limit is off */
	int64_t window;             /* ms: period (burst = count) */
	struct acme_limit_slot *slots;  /* ACME_LIMIT_SETS * ACME_LIMIT_WAYS */
};

#define ACME_LIMIT_EXPIRE_BATCH 64   /* shared entries removed per call */
#define ACME_LIMIT_EXPIRE_SCAN  1024 /* shared entries looked at per call */

struct acme_limiter {
	uint8_t key[32];            /* hash key: keys cannot be aimed at a set */
	struct acme_limit_table t[ACME_LIMIT_KINDS];
	struct store *store;        /* replicas: tats kept there (not nonces) */
	char after[STORE_MAX_KEY + 1]; /* where the cleanup goes on */
	size_t after_len;
};

int acme_limiter_init(struct acme_limiter *l, const struct acme_limits *cfg,
    int (*random)(void *, size_t));
void acme_limiter_fini(struct acme_limiter *l);
/* Keeps the rates of accounts, orders and failures in st from now on,
 * shared with every process that does the same. */
void acme_limiter_share(struct acme_limiter *l, struct store *st);
/* Removes up to ACME_LIMIT_EXPIRE_BATCH shared entries at rest at now (the
 * cleanup, which serialises the calls): how many, or a STORE_* code. */
int acme_limits_expire(struct acme_limiter *l, time_t now);
/* Applies new rates (a reload): counts kept, a limit turned on starts
 * empty. 0 or ACME_ERR_NOMEM (that limit then stays as it was). */
int acme_limiter_set(struct acme_limiter *l, const struct acme_limits *cfg);
/*
 * Takes one event of kind for key at now: 0 when it fits (and is counted),
 * 1 when the limit is reached, with *retry set to the seconds until one
 * would fit. A limit that is off always answers 0.
 */
int acme_limit_take(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now, long *retry);
/* The same without counting: 0 when one more event would fit. */
int acme_limit_peek(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now, long *retry);
/* Counts one event of kind for key, over the limit or not. */
void acme_limit_charge(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now);
/* The key of a source address: IPv4 as is (also when IPv4-mapped), IPv6
 * its /64. -1 when peer is not an address. */
int acme_limit_source(const char *peer, char *out, size_t outsz);
/* Fills resp with rateLimited (429) and Retry-After: retry seconds. */
void acme_respond_limited(struct acme_response *resp, long retry,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ---- the handle ---- */

#define ACME_QUEUE_MAX 4096   /* validations queued or running */
#define ACME_ID_LEN_MAX 31    /* an account id as a queue owner key */
#define ACME_CLEANUP_KEY 64   /* longest record key the cleanup resumes after */

/* Where the background cleanup (cleanup.c) goes on in each table. */
struct acme_cleanup_cursor {
	char after[ACME_CLEANUP_KEY + 1];
	size_t len;
};

/* An account's validations, queued, running or reserved (validation.c). */
struct acme_queue_owner {
	char account[ACME_ID_LEN_MAX + 1];
	unsigned n;                 /* 0: free slot */
};

#define ACME_QUEUE_OWNERS (2 * ACME_QUEUE_MAX)

/* ---- account key cache (keycache.c) ---- */

#define ACME_KEYCACHE_SHARDS 16     /* each with its own lock */
#define ACME_KEYCACHE_WAYS   64     /* accounts per shard: 1024 in all */

struct acme_keycache_entry {
	char id[ACME_ID_LEN_MAX + 1];   /* the account id; "" when free */
	uint8_t digest[32];             /* SHA-256 of the record's bytes */
	struct crypto_jwk *jwk;         /* NULL when free */
	char thumbprint[CRYPTO_THUMBPRINT_LEN + 1];
	uint64_t used;                  /* shard clock at the last use */
};

struct acme_keycache_shard {
	pthread_mutex_t lock;
	uint64_t clock, hits, misses;
	struct acme_keycache_entry e[ACME_KEYCACHE_WAYS];
};

struct acme_keycache {
	struct acme_keycache_shard *shards;  /* ACME_KEYCACHE_SHARDS */
};

/* 0 or ACME_ERR_NOMEM. fini frees every key; safe on a failed init. */
int acme_keycache_init(struct acme_keycache *c);
void acme_keycache_fini(struct acme_keycache *c);
/* 1 when account id is cached for a record whose bytes hash to digest:
 * *jwk is a copy the caller frees, thumbprint filled. 0 otherwise. */
int acme_keycache_get(struct acme_keycache *c, const char *id,
    const uint8_t digest[32], struct crypto_jwk **jwk,
    char thumbprint[CRYPTO_THUMBPRINT_LEN + 1]);
/* Caches a copy of jwk for account id as of the record hashing to digest
 * (replacing the account's entry, or the shard's least recently used). */
void acme_keycache_put(struct acme_keycache *c, const char *id,
    const uint8_t digest[32], const struct crypto_jwk *jwk,
    const char *thumbprint);
/* Forgets account id (keyChange, deactivation). */
void acme_keycache_drop(struct acme_keycache *c, const char *id);
/* Lookups that hit and missed since init. */
void acme_keycache_stats(struct acme_keycache *c, uint64_t *hits,
    uint64_t *misses);

/* What acme_reconfigure() may change (settings.c). Read through
 * acme_settings() between acme_enter() and acme_leave(). */
struct acme_settings {
	struct crypto_policy *policy;   /* owned copy, or NULL: any name */
	struct crypto_profile profiles[CRYPTO_MAX_PROFILES]; /* first: default */
	size_t n_profiles;
	struct acme_limits limits;
	int eab_required;
};

struct acme_settings *acme_settings_new(const struct acme_config *cfg,
    int *err);
void acme_settings_free(struct acme_settings *s);
/* Counts the caller as a reader of the settings; returns the slot to pass
 * to acme_leave(). Every entry point that reads settings is bracketed. */
unsigned acme_enter(struct acme *a);
void acme_leave(struct acme *a, unsigned slot);
/* The settings in force; valid until the caller's acme_leave(). */
const struct acme_settings *acme_settings(const struct acme *a);

/* What acme_stats() copies; relaxed atomic additions only. */
struct acme_counters {
	_Atomic uint64_t orders_created, orders_valid, orders_finalize_failed;
	_Atomic uint64_t authzs_valid, authzs_invalid;
	_Atomic uint64_t certs_issued;
};
#define ACME_COUNT(a, field) \
	atomic_fetch_add_explicit(&(a)->counters.field, 1, memory_order_relaxed)

#define ACME_FINALIZING_MAX 256 /* finalizes claimed in memory at once */

/* A validation claimed in memory (validating.c). */
struct acme_claim {
	char authz[ACME_ID_LEN_MAX + 1];  /* "": a free slot */
	char chall[ACME_ID_LEN_MAX + 1];
	time_t due;
	char *account_uri;                /* for CAA accounturi, when written */
};
#define ACME_CLAIMS (2 * ACME_QUEUE_MAX)

struct acme {
	struct acme_config cfg;     /* policy, profiles, limits, eab_required:
	                               see settings instead */
	_Atomic(struct acme_settings *) settings;
	atomic_uint epoch;
	atomic_long active[2];      /* readers per epoch parity */
	pthread_mutex_t reload_lock;
	struct acme_settings *retired; /* replaced, maybe still read */
	unsigned retired_slot;
	struct acme_counters counters;
	struct store *store;
	_Atomic(struct crypto_signer *) signer; /* acme_signer_set() replaces it */
	struct acme_nonces nonces;
	struct acme_limiter limits;
	struct acme_keycache keys;
	pthread_mutex_t queue_lock;
	struct acme_validation *queue;  /* ring of ACME_QUEUE_MAX jobs */
	size_t queue_head, queue_len;
	size_t queue_running;       /* taken by server/, not yet done */
	size_t queue_reserved;      /* admitted, not yet pushed */
	unsigned validation_est8;   /* seconds a validation takes, x8 (a moving
	                               average); under queue_lock */
	struct acme_queue_owner *owners; /* ACME_QUEUE_OWNERS, open addressing */
	pthread_mutex_t cleanup_lock;
	struct acme_cleanup_cursor cleanup[3]; /* orders, authzs, certificates */
	int shared;                 /* replicas share the store (acme_new) */
	/* Orders this process is finalizing, when no other process serves
	 * the store: then that is the claim, and it costs no write. */
	pthread_mutex_t finalizing_lock;
	char finalizing[ACME_FINALIZING_MAX][ACME_ID_LEN_MAX + 1];
	/* Validations claimed in memory (validating.c), by authorization. */
	pthread_mutex_t claims_lock;
	struct acme_claim *claims;  /* ACME_CLAIMS slots */
	atomic_size_t n_claims;
	uint64_t replica;           /* this handle's id in validation leases */
	atomic_int swept;           /* acme_validations_sweep ran once */
};

/* ---- policy numbers ---- */

#define ACME_MAX_IDENTIFIERS   100      /* per order */
#define ACME_ORDER_LIFETIME    (7 * 86400)
#define ACME_AUTHZ_PENDING_LIFETIME (7 * 86400)
#define ACME_AUTHZ_VALID_LIFETIME   (30 * 86400)
#define ACME_ORDERS_PAGE       50       /* orders per page of the list */
#define ACME_FINALIZE_STALE    20       /* seconds a finalize claim holds */
#define ACME_RETENTION         (7 * 86400) /* expired records kept, default */
#define ACME_MAX_CONTACTS      10
#define ACME_MAX_CONTACT_LEN   320
#define ACME_ID_LEN            24       /* 8 hex of time + 16 hex random */

/* ---- records (record.c): store records are JSON objects ---- */

struct store_txn;

/* A new identifier, ordered by creation time. 0 or ACME_ERR_INTERNAL. */
int acme_id_new(struct acme *a, time_t now, char out[ACME_ID_LEN + 1]);
/* Nonzero when s looks like an identifier acme_id_new made. */
int acme_id_valid(const char *s);
/* Loads the record id of table t into *out (caller frees with
 * cJSON_Delete): 0; STORE_NOTFOUND when there is none (or id is NULL);
 * STORE_ERR_CORRUPT when its bytes are not a JSON object; another STORE_*
 * code when the store failed. *out is NULL unless 0 is returned. */
int acme_record_load(struct store_txn *txn, int table, const char *id,
    cJSON **out);
/* The same where absent and unreadable lead to the same answer: the
 * record, or NULL. */
cJSON *acme_record_get(struct store_txn *txn, int table, const char *id);
/* Stores o as the record id of table t. 0 or a STORE_* code. */
int acme_record_put(struct store_txn *txn, int table, const char *id,
    const cJSON *o);
/* Reads a string member, NULL when absent or not a string. */
const char *acme_json_str(const cJSON *o, const char *name);
/* Reads a number member as time_t; 0 when absent. */
time_t acme_json_time(const cJSON *o, const char *name);
/* Big-endian 64-bit integers in stored records and nonces. */
void acme_be64_put(uint8_t *p, uint64_t v);
uint64_t acme_be64_get(const uint8_t *p);
/* RFC 3339 UTC timestamp of t into out (at least 21 bytes). */
void acme_time_format(time_t t, char *out, size_t outsz);
/* Parses an RFC 3339 timestamp. 0 on success. */
int acme_time_parse(const char *s, time_t *out);
/* base + "/acme/" + kind + "/" + id into out; -1 when it does not fit. */
int acme_url(char *out, size_t outsz, const char *base, const char *kind,
    const char *id);

/* ---- certificate records (certrec.c) ---- */

/* What a certificate record is written from, at issuance. */
struct acme_cert_rec {
	const char *account, *order, *profile;
	const cJSON *identifiers;            /* the order's, copied */
	const struct crypto_leaf *leaf;
	struct crypto_signer *signer;        /* issued it: its id and chain */
	time_t issued;
};
/* Writes the record of r->leaf (refusing a serial already stored) and keeps
 * the signer's chain once per issuer. 0, an ACME_ERR_* or a STORE_* code. */
int acme_cert_rec_put(struct store_txn *txn, const struct acme_cert_rec *r);
/* The leaf as PEM, malloc'd; NULL when the record holds none readable. */
char *acme_cert_rec_pem(const cJSON *c);
/* The chain it was issued with (the intermediate, PEM), malloc'd; NULL when
 * unknown. */
char *acme_cert_rec_chain(struct store_txn *txn, const cJSON *c);
/* 1 when der is the record's certificate, else 0. */
int acme_cert_rec_is(const cJSON *c, const uint8_t *der, size_t len);
/* The identifiers the certificate was ordered for: the record's own, or for
 * records older than that field its order's (*order then holds the order
 * record, freed by the caller; NULL otherwise). NULL when unknown. */
const cJSON *acme_cert_rec_identifiers(struct store_txn *txn, const cJSON *c,
    cJSON **order);
/* 1 when the record needs no order record (it carries its identifiers). */
int acme_cert_rec_standalone(const cJSON *c);
/* The RFC 9773 certificate identifier of the record c stored under serial
 * (lower-case hex): the stored "ari" of older records, else made from
 * "issuer" (the AKI key identifier in hex) and the serial, without parsing
 * the certificate. 0, or -1 when the record holds neither. */
int acme_cert_rec_ari(const cJSON *c, const char *serial,
    char out[CRYPTO_ARI_ID_MAX]);

/* ---- revocation records (revoked.c) ---- */

#define ACME_REVOKED_REC_LEN_V1 18   /* records written before issuer ids */
#define ACME_REVOKED_REC_LEN  51
#define ACME_META_REVOCATIONS "revocations"  /* uint64, big-endian */
#define ACME_META_CRL_NUMBER  "crl_number"   /* uint64, big-endian; only grows */

/* One entry of the revoked table (keyed by the serial's bytes). */
struct acme_revoked {
	time_t revoked_at;
	time_t not_after;            /* the certificate's; it leaves the CRL after */
	int reason;
	uint8_t issuer[32];          /* the issuing intermediate's key id */
	size_t issuer_len;           /* 0: unknown (a version 1 record) */
};
void acme_revoked_encode(const struct acme_revoked *r,
    uint8_t out[ACME_REVOKED_REC_LEN]);
/* 0 or ACME_ERR_INVALID (wrong length, version or reason). Reads version 1
 * records (no issuer: issuer_len 0) and version 2. */
int acme_revoked_decode(const void *val, size_t len, struct acme_revoked *out);
/* The issuer key id of certificate record c, from the intermediate it
 * was issued with (its "chain"), into r; issuer_len 0 when unreadable. */
void acme_revoked_issuer(const cJSON *c, struct acme_revoked *r);
/* Whether r's issuer is the one whose id (crypto_signer_issuer_id, hex) is
 * issuer_hex: 1 yes, 0 no, -1 not known (issuer_len 0). */
int acme_revoked_issuer_is(const struct acme_revoked *r,
    const char *issuer_hex);
/* Whether the certificate record of serial hex was issued by issuer_hex:
 * 1 yes, 0 no (another intermediate's), -1 no record, -2 a record naming
 * no readable issuer (records from before issuers were kept), -3 the store
 * could not be read. */
int acme_cert_issuer_is(struct store_txn *txn, const char *hex,
    const char *issuer_hex);
/* A counter of the meta table; absent reads as 0. 0, ACME_ERR_INTERNAL. */
int acme_meta_u64_get(struct store_txn *txn, const char *key, uint64_t *v);
/* 0 or a STORE_* code. */
int acme_meta_u64_put(struct store_txn *txn, const char *key, uint64_t v);

/* ---- JWS requests (jws.c), RFC 8555 §6.2-§6.4 ---- */

enum acme_key_mode { ACME_KEY_KID, ACME_KEY_JWK, ACME_KEY_EITHER };

struct acme_jws {
	cJSON *protected;            /* the decoded protected header */
	char *payload;               /* decoded payload, NUL-terminated */
	size_t payload_len;          /* 0 for POST-as-GET */
	struct crypto_jwk *jwk;      /* the key that verified the signature */
	char thumbprint[CRYPTO_THUMBPRINT_LEN + 1];
	char account_id[ACME_ID_LEN + 1]; /* set when the request used kid */
	cJSON *account;              /* the account record, when kid */
};

/*
 * Verifies a POST in the fixed order: content type, size, parse, key (jwk
 * xor kid, as mode allows), algorithm, signature, nonce, url. On failure the
 * problem is in resp and -1 is returned; on success out is filled (release
 * with acme_jws_clear) and 0 is returned.
 */
int acme_jws_verify(struct acme *a, const struct acme_request *req,
    enum acme_key_mode mode, struct acme_jws *out, struct acme_response *resp);
/* Verifies the inner JWS of keyChange (RFC 8555 §7.3.5): jwk only, no
 * nonce, url equal to outer_url. Same conventions. */
int acme_jws_verify_inner(const char *json, size_t len, const char *outer_url,
    struct acme_jws *out, struct acme_response *resp);
void acme_jws_clear(struct acme_jws *j);
/* The payload as a JSON object; NULL with a malformed problem in resp. */
cJSON *acme_jws_payload_object(const struct acme_jws *j,
    struct acme_response *resp);
/* The full URL of the request (base + path [+ ? query]). */
int acme_request_url(const struct acme_request *req, char *out, size_t outsz);

/* Nonzero when an object has more than a few dozen members or repeats a
 * name (parsers disagree on which duplicate counts). */
int acme_json_has_duplicates(const cJSON *o);

/* ---- resources ---- */

/* The account URL of id for this request's base. */
int acme_account_url(const struct acme_request *req, const char *id,
    char *out, size_t outsz);

void acme_new_account(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_account(struct acme *a, const struct acme_request *req,
    const char *id, struct acme_response *resp);
void acme_key_change(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_new_order(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_order(struct acme *a, const struct acme_request *req,
    const char *id, struct acme_response *resp);
void acme_orders(struct acme *a, const struct acme_request *req,
    const char *account_id, struct acme_response *resp);
void acme_finalize(struct acme *a, const struct acme_request *req,
    const char *id, struct acme_response *resp);
void acme_new_authz(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);
void acme_authz(struct acme *a, const struct acme_request *req,
    const char *id, struct acme_response *resp);
void acme_challenge(struct acme *a, const struct acme_request *req,
    const char *id, struct acme_response *resp);
void acme_certificate(struct acme *a, const struct acme_request *req,
    const char *serial, struct acme_response *resp);
void acme_revoke(struct acme *a, const struct acme_request *req,
    struct acme_response *resp);

/* ---- identifiers (ident.c) ---- */

enum acme_ident_type { ACME_IDENT_DNS, ACME_IDENT_IP };

/*
 * Checks and normalises an identifier object {"type","value"} (RFC 8555
 * §7.1.3, RFC 8738): DNS names lower-cased and checked against RFC 1035
 * syntax and length limits, IDN A-labels checked, wildcards only as a whole
 * leftmost label; IPs in canonical text form. Returns 0, or fills resp with
 * rejectedIdentifier / unsupportedIdentifier / malformed and returns -1.
 * *wildcard is set for "*." names (value keeps the "*.").
 */
int acme_ident_check(const cJSON *ident, enum acme_ident_type *type,
    char value[256], int *wildcard, struct acme_response *resp);
const char *acme_ident_type_name(enum acme_ident_type t);

/* ---- external account binding (eab.c), RFC 8555 §7.3.4 ---- */

/* Why newAccount may not bind a key (positive: a write callback's refusal). */
enum acme_eab_refusal {
	ACME_EAB_OK = 0,
	ACME_EAB_MISSING,            /* required, and none was sent */
	ACME_EAB_UNKNOWN,            /* no key with that kid */
	ACME_EAB_REVOKED,
	ACME_EAB_EXPIRED,
	ACME_EAB_USED,               /* already bound to an account */
};

/* A verified externalAccountBinding: the key it names. */
struct acme_eab {
	int present;
	char kid[ACME_EAB_KID_LEN + 1];
};

/*
 * Verifies newAccount's externalAccountBinding, when present: a flattened
 * JWS with alg HS256/384/512, a known kid, url equal to url (the newAccount
 * URL), no nonce, a MAC that verifies with the key, and a payload that is
 * the outer JWS's key. Whether the key may still bind is decided by
 * acme_eab_bind(). 0 with out filled (out->present 0 when absent), or -1
 * with the problem in resp.
 */
int acme_eab_verify(struct acme *a, const cJSON *payload, const char *url,
    const struct acme_jws *jws, struct acme_eab *out,
    struct acme_response *resp);
/*
 * In newAccount's write: binds key kid to account_id unless it is revoked,
 * expired at now or bound already, and copies its restrictions (and the
 * binding as sent, binding may be NULL) into the account record. 0, an
 * acme_eab_refusal, or a negative STORE_* code.
 */
int acme_eab_bind(struct store_txn *txn, const char *kid,
    const char *account_id, const cJSON *binding, time_t now, cJSON *account);
/* The problem document for a refusal of acme_eab_bind(). */
void acme_eab_refused(enum acme_eab_refusal r, const char *kid,
    struct acme_response *resp);
/* 0 when an account may ask for the identifier (its key's restrictions);
 * else rejectedIdentifier in resp and -1. */
int acme_eab_ident_allowed(const cJSON *account, enum acme_ident_type type,
    const char *value, struct acme_response *resp);
/* The same for every (already checked) identifier of a newOrder array. */
int acme_eab_idents_allowed(const cJSON *account, const cJSON *identifiers,
    struct acme_response *resp);
/* An identifier as acme_ident_check() left it. */
struct acme_ident {
	enum acme_ident_type type;
	char value[256];
	int wildcard;
};

/*
 * Checks normalised identifiers against the name policy (settings' policy;
 * NULL allows everything). 0 when every one is allowed. Otherwise -1 with
 * resp holding rejectedIdentifier whose detail names the rule, or, when
 * several are refused, a compound problem with one rejectedIdentifier
 * subproblem (with its identifier) per refused one (RFC 8555 §6.7.1).
 */
int acme_ident_policy(const struct acme *a, const struct acme_ident *ids,
    size_t n, struct acme_response *resp);

/* ---- the limits of resources (limit.c) ---- */

/* newOrder's limits before anything is written: orders per account. 0, or
 * -1 with the problem in resp. */
int acme_limit_new_order(struct acme *a, const struct acme_request *req,
    const char *account, struct acme_response *resp);
/* Failed validations of account for the identifier (wildcard base name):
 * 0, or -1 with the problem in resp. */
int acme_limit_failures(struct acme *a, const char *account,
    enum acme_ident_type type, const char *value, time_t now,
    struct acme_response *resp);
/*
 * In newOrder's or newAuthz's write, after the authorizations were made:
 * ACME_LIMIT_PENDING (positive) when account now has more pending
 * authorizations than allowed, with *retry the seconds until the oldest
 * expires; 0, or a negative STORE_* code.
 */
#define ACME_LIMIT_PENDING 2
int acme_limit_pending_txn(struct acme *a, struct store_txn *txn,
    const char *account, time_t now, long *retry);
/* The problem document for ACME_LIMIT_PENDING. */
void acme_limit_pending_refused(const struct acme *a, long retry,
    struct acme_response *resp);

/* ---- authorizations and challenges (authz.c) ---- */

/* Status of an authorization record at time now (pending/valid turn
 * "expired" once past their expiry). Static string. */
const char *acme_authz_status(const cJSON *authz, time_t now);
/* The ids and tokens of one new authorization and its challenges, drawn
 * before the write: a write callback draws no randomness, so a re-run
 * makes the same records. */
struct acme_authz_ids {
	char authz[ACME_ID_LEN + 1];
	char chall[3][ACME_ID_LEN + 1];
	char token[3][64];
};
/* 0 or ACME_ERR_INTERNAL (no randomness). */
int acme_authz_ids_draw(struct acme *a, time_t now, struct acme_authz_ids *ids);
/* Creates (or, when reuse is set, finds a reusable valid) authorization of
 * account for the identifier, inside a write transaction, with the ids
 * drawn beforehand; id written. 0 or a STORE_* code. */
int acme_authz_obtain(struct store_txn *txn, const char *account_id,
    enum acme_ident_type type, const char *value, int wildcard, int reuse,
    time_t now, const struct acme_authz_ids *ids, char id[ACME_ID_LEN + 1]);
/* The STORE_T_AUTHZ_BY_ACCOUNT key "account/type:value/id" (id NULL: the
 * prefix of every authorization of that identifier). Its length, or -1
 * when it does not fit. */
int acme_authz_index_key(char *out, size_t outsz, const char *account,
    enum acme_ident_type type, const char *value, const char *id);
/* Nonzero when the authorization index prefix ("account/type:value/") has a
 * valid, unexpired authorization. */
int acme_authz_valid_for(struct store_txn *txn, const char *prefix, size_t len,
    time_t now);
/* Sets "due", when the result of processing challenge c (of authorization
 * az) is expected, on both records (due 0 removes it) and, when txn is not
 * NULL, writes both. 0 or a STORE_* code. */
int acme_chall_due_set(struct store_txn *txn, const char *chall_id, cJSON *c,
    cJSON *az, time_t due);
/* Drops authorization id of account from the pending index (it was
 * validated, failed, deactivated or removed). */
void acme_authz_pending_del(struct store_txn *txn, const char *account,
    const char *id);
/* Once authorization az is valid, keeps only challenge kept, the one that
 * validated it (the only one RFC 8555 §7.1.4 has it list): the others'
 * records are deleted and az's "challenges" names kept alone; the caller
 * writes az. Called in a write. 0 or a STORE_* code. */
int acme_authz_challenges_trim(struct store_txn *txn, cJSON *az,
    const char *kept);
const char *acme_chall_type_name(enum acme_challenge_type t);
int acme_chall_type_parse(const char *s, enum acme_challenge_type *t);

/* ---- validation (validation.c) ---- */

/* Builds the validation job for challenge record c of authorization az. */
void acme_job_fill(struct acme *a, struct acme_validation *job,
    const char *chall_id, const cJSON *c, const cJSON *az, const char *thumbprint);
/*
 * Reserves a place on the validation queue for a job of account: 0, or
 * ACME_QUEUE_FULL / ACME_QUEUE_SHARE (positive) when the queue or the
 * account's share (cfg.limits.queue_share) is used up. A reservation is
 * either pushed or released. Queued, running and reserved jobs together
 * never exceed ACME_QUEUE_MAX, so a retry always finds room.
 */
#define ACME_QUEUE_FULL  1
#define ACME_QUEUE_SHARE 2
int acme_queue_reserve(struct acme *a, const char *account);
void acme_queue_release(struct acme *a, const char *account);
/* Queues a job whose place was reserved. */
void acme_queue_push(struct acme *a, const struct acme_validation *job);
/* Nonzero when the queue has room for one more job. */
int acme_queue_room(struct acme *a);
/* Queues a job taken over from the validations index (lease.c), counted
 * like any other; 0, or -1 when the queue is full. */
int acme_queue_adopt(struct acme *a, const struct acme_validation *job);

/* ---- validations claimed in memory (validating.c) ---- */

int acme_claims_init(struct acme *a);
void acme_claims_fini(struct acme *a);
/* Nonzero when a validation this process starts is claimed in memory: it
 * alone serves the store, and server/ holds answers that wait. */
int acme_claim_local(const struct acme *a);
/* Claims the validation of authorization authz by challenge chall, its
 * result expected at due, for the account at account_uri (copied): 1; 0
 * when authz has a claim already; -1 when ACME_QUEUE_MAX validations are
 * claimed (or no memory). */
int acme_claim_take(struct acme *a, const char *authz, const char *chall,
    time_t due, const char *account_uri);
/* 1 with the claimed challenge and its due time (either may be NULL) when
 * authz has a claim, else 0. */
int acme_claim_get(struct acme *a, const char *authz,
    char chall[ACME_ID_LEN + 1], time_t *due);
/* A retry moves chall's result to due; chall's claim ends. 1 when chall
 * held the claim on authz, else 0 (nothing changed). */
int acme_claim_due(struct acme *a, const char *authz, const char *chall,
    time_t due);
int acme_claim_drop(struct acme *a, const char *authz, const char *chall);
/* Writes challenge chall's claim as its durable "processing" state and
 * lease (nothing when it was decided meanwhile, or holds no claim), then
 * drops it. 0, or ACME_ERR_INTERNAL when the store failed (the claim
 * stays). */
int acme_claim_settle(struct acme *a, const char *chall, time_t now);
/* Shows a claim on records as read from the store (for reading only):
 * challenge c (id) reads "processing" with its due time when it holds
 * its authorization's claim; authorization az (azid) gets the claim's due
 * time. 1 when a claim applied, else 0 (also when a is NULL). */
int acme_chall_view(struct acme *a, const char *id, cJSON *c);
int acme_authz_view(struct acme *a, const char *azid, cJSON *az);

/* ---- the validations index: leases (lease.c) ---- */

#define ACME_VALIDATION_LEASE 20   /* seconds a replica holds a job */

/* Writes the lease of challenge chall_id: owner (a replica id, 0: nobody)
 * until expires. 0 or a STORE_* code. */
int acme_lease_put(struct store_txn *txn, const char *chall_id,
    uint64_t owner, time_t expires);
/* 1 when owner holds the lease of chall_id or it has none, 0 when another
 * does, or a negative STORE_* code. */
int acme_lease_held(struct store_txn *txn, const char *chall_id,
    uint64_t owner);
/* Extends owner's lease to expires; 0 also when owner holds none (nothing
 * written), or a STORE_* code. */
int acme_lease_renew(struct store_txn *txn, const char *chall_id,
    uint64_t owner, time_t expires);
/* Fills the index from the challenges once per store (a meta flag marks
 * it done). 0 or a STORE_* code. */
int acme_validations_index(struct store *st);
/* Seconds a validation is expected to take from its start: a moving
 * average of the recent ones, at least 1 (Retry-After counts in whole
 * seconds). */
long acme_validation_estimate(struct acme *a);
/* The Retry-After of an answer expected at due (a record's "due"): the
 * seconds left, at least 1 (also once due has passed). */
long acme_retry_after(time_t due, time_t now);

/* ---- answers that wait (wait.c, with the renderers of authz.c, order.c) ---- */

/* Marks resp as waiting on the validation of challenge, as an answer about
 * object id of kind; the account is set by acme_wait_account(). */
void acme_wait_set(struct acme_response *resp, enum acme_wait_kind kind,
    const char *id, const char *challenge);
/* Names account as the one that asked, when resp waits. */
void acme_wait_account(struct acme_response *resp, const char *account);
/* The id of the challenge of authorization az being validated, written to
 * out (may be NULL); 1 when one is, ACME_CLAIMED when it is claimed in
 * memory (validating.c), else 0. */
#define ACME_CLAIMED 2
int acme_authz_processing(struct acme *a, struct store_txn *txn,
    const cJSON *az, char out[ACME_ID_LEN + 1]);
/* The answers of a POST-as-GET by account on a challenge, authorization or
 * order (ownership checked; resp->wait set when it waits), for
 * acme_refresh(): only req->base_url and req->now are read. */
void acme_challenge_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp);
void acme_authz_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp);
void acme_order_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp);

/* ---- orders (order.c) ---- */

/* Status of an order record (RFC 8555 §7.1.6), derived from its
 * authorizations when it has not been finalized. Static string. When due
 * is not NULL and the order is pending with every authorization that is
 * not valid being validated, *due is when the last result is expected;
 * else 0 (the order waits on the client, or on nothing). */
const char *acme_order_status(struct store_txn *txn, const cJSON *order,
    time_t now, time_t *due);

/* ---- profiles (profile.c), draft-ietf-acme-profiles ---- */

/* The profile called name, or the default when name is NULL; NULL when
 * there is no such profile. Owned by a. */
const struct crypto_profile *acme_profile_find(const struct acme *a,
    const char *name);
/* The profile a newOrder payload asks for ("profile", optional). NULL with
 * an invalidProfile or malformed problem in resp. */
const struct crypto_profile *acme_profile_of_payload(const struct acme *a,
    const cJSON *payload, struct acme_response *resp);
/* The directory's meta "profiles" object: name -> description. */
cJSON *acme_profile_meta(const struct acme *a);

/* ---- renewal information (renewal.c), RFC 9773 ---- */

#define ACME_CERT_ID_MAX     CRYPTO_ARI_ID_MAX /* certID text, with NUL */
#define ACME_ARI_RETRY_AFTER (6 * 3600)   /* seconds between client polls */

/* A certID (RFC 9773 §4.1) taken apart: the certificate's serial as the
 * store keys it (lower-case hex, no sign byte). */
struct acme_cert_id {
	char text[ACME_CERT_ID_MAX];
	char serial[2 * 20 + 1];
};
/* Parses s strictly (two unpadded base64url parts, a positive DER INTEGER
 * in minimal form). 0, or -1 with the reason in why. */
int acme_cert_id_parse(const char *s, struct acme_cert_id *out, char *why,
    size_t whysz);
/* The suggested renewal window (RFC 9773 §4.2) of a certificate valid from
 * not_before to not_after: from two thirds to five sixths of its validity;
 * once revoked (revoked != 0), the hour before now, so clients renew at
 * once. */
void acme_renewal_window(time_t not_before, time_t not_after, time_t revoked,
    time_t now, time_t *start, time_t *end);
/* GET renewalInfo/<certID>. */
void acme_renewal_info(struct acme *a, const struct acme_request *req,
    const char *cert_id, struct acme_response *resp);

/* An order's claim to replace a certificate (RFC 9773 §5). */
struct acme_replaces {
	const struct acme_cert_id *id;
	const char *account;
	const cJSON *identifiers;   /* the new order's, [{type, value}] */
	const char *order_id;
	time_t now;
	/* out, when the claim is refused */
	enum acme_problem problem;
	char detail[160];
};
/* Inside the order's write transaction: checks that the certificate is the
 * account's, shares an identifier with the order, and is not already
 * replaced by an order that is not invalid; then records order_id as its
 * replacement. 0, 1 when refused (problem and detail set), or a STORE_*
 * code. */
int acme_replaces_claim(struct store_txn *txn, struct acme_replaces *r);

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
#define ACME_PATH_RENEWAL_INFO "/acme/renewal-info"

#endif
