/*
 * store.h: hearth's durable state, behind an interface a second backend
 * (PostgreSQL, for replicas) can implement without the callers changing.
 *
 * The model is a fixed set of tables of opaque byte records keyed by byte
 * strings, ordered by key (memcmp). Callers (acme/) serialise records and
 * keep secondary indexes themselves, in the same write transaction as the
 * record, so a failed write leaves nothing half-done.
 *
 * Writes run as a callback inside store_write(): the callback sees a write
 * transaction, and the store commits when it returns 0 and aborts otherwise.
 * The store may run the callback more than once (after growing the map when
 * it is full), so the callback must only act through the transaction. This
 * shape also lets a later version commit several callers' writes as one group.
 *
 * Functions return 0 (STORE_OK) or a negative STORE_* code; store_strerror()
 * names it. This module never logs; store_open() fills an error message.
 */
#ifndef HEARTH_STORE_H
#define HEARTH_STORE_H

#include <stddef.h>
#include <stdint.h>

enum {
	STORE_OK = 0,
	STORE_NOTFOUND = -1,     /* no record with that key */
	STORE_EXISTS = -2,       /* STORE_PUT_NEW and the key is taken */
	STORE_ERR_INVALID = -3,  /* bad argument (key length, table, flags) */
	STORE_ERR_IO = -4,       /* the operating system refused (errno kept) */
	STORE_ERR_SCHEMA = -5,   /* database written by a newer hearth */
	STORE_ERR_CORRUPT = -6,  /* database file is damaged or not a hearth store */
	STORE_ERR_NOMEM = -7,
	STORE_ERR_FULL = -8,     /* map could not grow any further */
	STORE_ERR_READONLY = -9, /* write attempted in a read transaction */
	STORE_ERR_INTERNAL = -10,
};

/* The current on-disk schema. Opening a store with a higher version fails.
 * A table appended to enum store_table does not change it: store_open()
 * creates missing tables, and an older hearth never opens the new one. */
#define STORE_SCHEMA_VERSION 1
#define STORE_MAX_KEY 511   /* LMDB's default key limit */

enum store_table {
	STORE_T_META,              /* store bookkeeping (schema version, ...) */
	STORE_T_ACCOUNTS,          /* account id -> account record */
	STORE_T_ACCOUNT_BY_KEY,    /* JWK thumbprint -> account id */
	STORE_T_ORDERS,            /* order id -> order record */
	STORE_T_ORDER_BY_ACCOUNT,  /* account id '/' order id -> "" */
	STORE_T_AUTHZS,            /* authorization id -> authorization record */
	STORE_T_AUTHZ_BY_ACCOUNT,  /* account id '/' identifier '/' authz id -> "" */
	STORE_T_CHALLENGES,        /* challenge id -> challenge record */
	STORE_T_CHALLENGE_BY_TOKEN,/* token -> challenge id */
	STORE_T_CERTS,             /* serial (hex) -> certificate record */
	STORE_T_CERT_BY_ACCOUNT,   /* account id '/' serial -> "" */
	STORE_T_EAB_KEYS,          /* EAB key id -> key record (holds the MAC key) */
	STORE_T_REVOKED,           /* serial (bytes) -> fixed revocation record */
	STORE_T_PENDING_AUTHZS,    /* account id '/' authz id -> "": still pending */
	STORE_T_COUNT
};
/* The table's name, as stored ("accounts", ...). */
const char *store_table_name(enum store_table t);

struct store;
struct store_txn;

/*
 * Opens (creating when absent) the store in directory dir (mode 0700). Checks
 * the schema version: a newer one gives STORE_ERR_SCHEMA. On failure returns
 * NULL, sets *err, and writes a message naming dir and the reason into
 * errbuf (errlen bytes). Caller frees with store_close().
 */
struct store *store_open(const char *dir, int *err, char *errbuf, size_t errlen);
void store_close(struct store *st);

/* Schema version of the open store. */
int store_schema_version(const struct store *st);

/* How much of its file the store uses. */
struct store_usage {
	uint64_t file_bytes;        /* size of the data file on disk */
	uint64_t map_bytes;         /* the map size (the file may grow to it) */
	uint64_t page_bytes;        /* one page */
	uint64_t pages_used;        /* pages in use: last page number + 1 */
	uint64_t readers_used;      /* reader slots taken, all processes */
};
/* Fills *out from the environment's metadata; no transaction, cheap. 0 or
 * STORE_ERR_INVALID / STORE_ERR_IO. */
int store_usage(struct store *st, struct store_usage *out);

/* A read transaction: a consistent snapshot until store_read_end(). */
int store_read_begin(struct store *st, struct store_txn **txn);
void store_read_end(struct store_txn *txn);

/* Runs fn(txn, arg) in a write transaction; commits when fn returns 0, aborts
 * and returns fn's value otherwise. May run fn again after growing a full map.
 * Returns 0, fn's non-zero value, or a STORE_ERR_* code from the commit. */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* Looks key up in t. On success *val and *vallen point into the store and
 * stay valid until the transaction ends. STORE_NOTFOUND when absent. */
int store_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen);

#define STORE_PUT_NEW 0x1   /* fail with STORE_EXISTS instead of replacing */
int store_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags);

/* STORE_NOTFOUND when absent. */
int store_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen);

/*
 * Visits, in key order, the records of t whose key begins with prefix and is
 * greater than after (when after is not NULL). fn returns 0 to continue, 1 to
 * stop, or a negative value to stop and have store_scan return it. Returns 0
 * when the scan ended or was stopped by fn returning 1.
 */
typedef int (*store_scan_fn)(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg);
int store_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg);

const char *store_strerror(int err);

#endif
