/*
 * store.h: hearth's durable state, behind one interface with two backends:
 * LMDB (a directory, one machine) and PostgreSQL (a postgresql:// URI, for
 * replicas sharing one database). store_open() picks the backend from the
 * location; callers never know which one they have.
 *
 * The model is a fixed set of tables of opaque byte records keyed by byte
 * strings, ordered by key (memcmp). Callers (acme/) serialise records and
 * keep secondary indexes themselves, in the same write transaction as the
 * record, so a failed write leaves nothing half-done.
 *
 * Writes run as a callback inside store_write(): the callback sees a write
 * transaction, and its changes are kept when it returns 0 and discarded
 * otherwise. Concurrent store_write() calls are committed together (LMDB:
 * as a group, one fsync for several callers' callbacks; PostgreSQL: each in
 * its own SERIALIZABLE transaction, the server grouping the commits), each
 * isolated so that one failing loses only its own changes, and every caller
 * returns only after the commit that carries its changes returned. The full
 * contract is at store_write() below.
 *
 * Values the store hands out (store_get's value, store_scan's key and
 * value) point into the store (LMDB) or into copies the transaction owns
 * (PostgreSQL); what callers may rely on is at store_get() and store_scan(),
 * and holds for both.
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
	STORE_ERR_IO = -4,       /* the operating system refused (errno kept), or
	                            the database server is unreachable, refused
	                            or too busy: worth retrying later */
	STORE_ERR_SCHEMA = -5,   /* database written by a newer hearth */
	STORE_ERR_CORRUPT = -6,  /* database file is damaged or not a hearth store */
	STORE_ERR_NOMEM = -7,
	STORE_ERR_FULL = -8,     /* map could not grow any further */
	STORE_ERR_READONLY = -9, /* write attempted in a read transaction */
	STORE_ERR_INTERNAL = -10,
};

/* The current LMDB schema. Opening a store with a higher version fails.
 * A table appended to enum store_table does not change it: store_open()
 * creates missing tables, and an older hearth never opens the new one.
 * PostgreSQL counts its own versions: the migrations store/pg.c applies,
 * recorded in its schema_migrations table (2 so far). */
#define STORE_SCHEMA_VERSION 1
/* The longest key, in bytes, on every backend: LMDB's default limit, well
 * under PostgreSQL's btree entry limit (about 2,700 bytes). */
#define STORE_MAX_KEY 511
#define STORE_GROUP_MAX 64  /* most store_write callbacks one LMDB commit carries */

enum store_table {
	STORE_T_META,              /* store bookkeeping (schema version, ...) */
	STORE_T_ACCOUNTS,          /* account id -> account record */
	STORE_T_ACCOUNT_BY_KEY,    /* JWK thumbprint -> account id */
	STORE_T_ORDERS,            /* order id -> order record */
	STORE_T_ORDER_BY_ACCOUNT,  /* account id '/' order id -> "" */
	STORE_T_AUTHZS,            /* authorization id -> authorization record */
	STORE_T_AUTHZ_BY_ACCOUNT,  /* account id '/' identifier '/' authz id -> "" */
	STORE_T_CHALLENGES,        /* challenge id -> challenge record */
	STORE_T_CHALLENGE_BY_TOKEN,/* unused: token -> challenge id (slot kept;
	                              the cleanup drains old entries) */
	STORE_T_CERTS,             /* serial (hex) -> certificate record */
	STORE_T_CERT_BY_ACCOUNT,   /* unused: account id '/' serial -> "" (slot
	                              kept; the cleanup drains old entries) */
	STORE_T_EAB_KEYS,          /* EAB key id -> key record (holds the MAC key) */
	STORE_T_REVOKED,           /* serial (bytes) -> fixed revocation record */
	STORE_T_PENDING_AUTHZS,    /* account id '/' authz id -> "": still pending */
	STORE_T_USED_NONCES,       /* issue time, replica, counter -> "": a nonce
	                              redeemed (stores shared by replicas) */
	STORE_T_LIMITS,            /* kind '/' key -> rate-limit state (shared) */
	STORE_T_VALIDATIONS,       /* challenge id -> lease: challenges being
	                              validated, and which replica runs each */
	STORE_T_COUNT
};
/* The table's name, as stored ("accounts", ...). */
const char *store_table_name(enum store_table t);

struct store;
struct store_txn;

/*
 * Opens the store at location:
 *  - a directory: LMDB, created when absent (mode 0700);
 *  - a postgresql:// or postgres:// URI (libpq's connection URI): the
 *    database must exist; the tables are created or brought up to date by
 *    the migrations, under an advisory lock, so replicas may start at once.
 * Checks the schema version: a newer one gives STORE_ERR_SCHEMA; a server
 * that cannot be reached gives STORE_ERR_IO. On failure returns NULL, sets
 * *err, and writes a message naming the location (never a password) and
 * the reason into errbuf (errlen bytes). Caller frees with store_close().
 */
struct store *store_open(const char *location, int *err, char *errbuf,
    size_t errlen);
void store_close(struct store *st);

/* Whether location names a PostgreSQL database (it begins postgresql:// or
 * postgres://) rather than an LMDB directory. */
int store_is_pg(const char *location);

/*
 * Whether another process has the LMDB store in directory location open
 * (a server, or an admin command): 1 with *pid one such process, 0 when
 * none (or no store there yet), or a negative STORE_* code. Asks the
 * operating system about the locks LMDB holds on location/lock.mdb; call
 * it before opening the store in this process. A PostgreSQL location gives
 * 0: replicas share it by design.
 */
int store_in_use(const char *location, long *pid);

/* PostgreSQL: at most n connections open at once (default 64); past it a
 * transaction waits up to 5 s for one to be returned, then fails with
 * STORE_ERR_IO. LMDB: nothing. Call it before the store is in use. */
void store_set_max_connections(struct store *st, unsigned n);

/* Nonzero when other processes may serve from the same store at once
 * (PostgreSQL: replicas behind a load balancer), so what a single server
 * keeps in memory (used nonces, rate counters) must live in the store. */
int store_shared(const struct store *st);

/* How many operations on st have failed with STORE_ERR_IO since it was
 * opened (any thread). A conflict between writers that made a write run
 * again is not a failure. */
uint64_t store_io_failures(const struct store *st);
/* The same count for the calling thread, over every store: a request run
 * on one thread that sees it grow knows the database was unavailable to
 * it, whatever other threads met meanwhile. */
uint64_t store_thread_io_failures(void);

/* Schema version of the open store. */
int store_schema_version(const struct store *st);

/* How much space the store uses. PostgreSQL: file_bytes is the database's
 * size, page_bytes its block size, pages_used their quotient, map_bytes 0
 * (no map) and readers_used this process's open connections. */
struct store_usage {
	uint64_t file_bytes;        /* size of the data file on disk */
	uint64_t map_bytes;         /* the map size (the file may grow to it) */
	uint64_t page_bytes;        /* one page */
	uint64_t pages_used;        /* pages in use: last page number + 1 */
	uint64_t readers_used;      /* reader slots taken, all processes */
};
/* Fills *out from the environment's metadata (LMDB: no transaction;
 * PostgreSQL: one query). 0 or STORE_ERR_INVALID / STORE_ERR_IO. */
int store_usage(struct store *st, struct store_usage *out);

/* A read transaction: a consistent snapshot until store_read_end().
 * PostgreSQL: STORE_ERR_IO also when the server cannot be reached within
 * the connection's timeouts or all connections stay in use (above). */
int store_read_begin(struct store *st, struct store_txn **txn);
void store_read_end(struct store_txn *txn);

/*
 * Runs fn(txn, arg) in a write transaction and makes its changes durable.
 * Returns 0 once the changes are on disk; fn's non-zero value (its changes
 * discarded, nothing else affected); or a STORE_ERR_* code when the group
 * carrying fn's changes could not be committed (nothing of fn's kept).
 * PostgreSQL: a statement that failed inside fn fails the write with its
 * code even when fn returned 0; writes that keep conflicting with other
 * writers (after 100 runs) give STORE_ERR_IO.
 *
 * Outcome unknown (PostgreSQL only): when the connection is lost while
 * COMMIT is on its way, the server may have committed or not, and the
 * write returns STORE_ERR_IO either way. So STORE_ERR_IO from store_write
 * means "nothing kept, or everything kept", never part of it. A caller
 * whose write is idempotent (it reads what it finds and writes the same
 * result again: revocation, deactivation, a challenge lease, account
 * lookup by key before creation) is safe when run again; one that creates
 * new records under new random ids (a new order, a finalization's
 * certificate) may leave the first attempt's records behind, as a client
 * that gave up would, and must not sign or send before its write returned
 * 0. LMDB has no such case: its commit is local.
 *
 * LMDB's group commit: calls made while another group commits wait, then go to
 * disk together (at most STORE_GROUP_MAX per group, with no waiting for
 * more to arrive). Within a group the callbacks run one at a time, in the
 * order they were queued, each in its own nested transaction: a callback
 * sees every change of the callbacks before it in the group (as if they had
 * committed just before), and returning non-zero discards its own changes
 * only. Callers' writes are therefore serialisable in that order. On
 * PostgreSQL each call is one SERIALIZABLE transaction: serialisable too,
 * in an order the server chooses.
 *
 * What fn may assume and must respect:
 *  - It may run on any thread, not necessarily the caller's, with the
 *    store's writer lock held: it must not wait for anything the calling
 *    thread (or any other thread waiting in store_write) holds, must not
 *    call store_write() (STORE_ERR_INVALID) and should not begin read
 *    transactions.
 *  - It may run more than once (LMDB: after the map grew, the whole group
 *    runs again from scratch; PostgreSQL: after a serialization failure or
 *    deadlock; only the last run's changes and return value count): it
 *    must act only through txn, or write into arg only what a run
 *    overwrites, and must not sign, send, log or count anything.
 *  - txn is valid only during the call; it must not be kept.
 *  - A store_put or store_del that returned STORE_ERR_FULL (LMDB), or any
 *    operation that returned STORE_ERR_IO (PostgreSQL), need not be
 *    handled: the transaction is spent, every later operation in it fails
 *    the same way, and the store notices and runs fn again or fails the
 *    write.
 */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* Looks key up in t. On success *val and *vallen point into the store (or
 * a copy the transaction owns): read-only, valid until the transaction ends
 * or, in a write transaction, until its next store_put or store_del,
 * whichever is first. Callers copy or parse what they keep longer.
 * STORE_NOTFOUND when absent. */
int store_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen);

#define STORE_PUT_NEW 0x1   /* fail with STORE_EXISTS instead of replacing */
/* A hint, same result with or without it: key most likely sorts after every
 * key of t (keys that begin with a time). LMDB then appends and leaves full
 * pages behind instead of splitting the last one in half. */
#define STORE_PUT_APPEND 0x2
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
 *
 * The key and value passed to fn are read-only and valid during that call
 * only. Inside fn the caller may use the same transaction for store_get on
 * any table and, in a write transaction, store_put and store_del on tables
 * other than t; fn must not change t itself, nor start another store_scan
 * on the same transaction (collect keys, end the scan, then act on them, as
 * with a paged scan through after). The scan sees the changes fn made.
 */
typedef int (*store_scan_fn)(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg);
int store_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg);

/*
 * Writes a consistent, compacted copy of the store (one snapshot, free pages
 * left out) into dest_dir, which must exist and hold no database: the copy
 * is dest_dir/data.mdb, and store_open(dest_dir) opens it. Safe while other
 * threads and processes read and write the store. On failure returns a
 * STORE_* code and writes a message naming dest_dir into errbuf. LMDB only:
 * a PostgreSQL store gives STORE_ERR_INVALID and a message saying to use
 * pg_dump.
 */
int store_backup(struct store *st, const char *dest_dir, char *errbuf,
    size_t errlen);

/*
 * Copies every record of every table of src into dst (either backend to
 * either), from one read snapshot of src, in writes of a few hundred
 * records. The schema version record of the meta table is left out: each
 * store keeps its own. dst must hold no other record (STORE_EXISTS
 * otherwise, nothing written). Afterwards counts each table of dst and
 * compares with what was copied (STORE_ERR_INTERNAL when they differ: a
 * writer was using dst). counts[t] receives the records copied into table
 * t. On failure writes a message naming the table into errbuf.
 */
int store_copy(struct store *src, struct store *dst,
    uint64_t counts[STORE_T_COUNT], char *errbuf, size_t errlen);

const char *store_strerror(int err);

#endif
