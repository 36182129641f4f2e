/*
 * store_internal.h: declarations shared by the files of store/ and its unit
 * tests only. It holds the backend table (struct store_ops) and the LMDB
 * handles behind the opaque store.h types; the PostgreSQL backend keeps its
 * own behind struct store_pg (pg.c). Nothing outside store/ includes it (the
 * layering check refuses LMDB and libpq there).
 */
#ifndef HEARTH_STORE_INTERNAL_H
#define HEARTH_STORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <lmdb.h>

#include "store.h"

/*
 * The meta table's record holding the schema version. Its value is the
 * version in decimal ASCII digits, no sign, no leading zeros, no NUL ("1").
 */
#define STORE_META_SCHEMA_KEY "schema_version"

#define STORE_MAP_INITIAL ((size_t)64 << 20)	/* 64 MiB */
#define STORE_MAP_MAX ((size_t)1 << (sizeof(size_t) > 4 ? 36 : 30)) /* 64 GiB */

/*
 * A backend: what store.c calls once it has checked the arguments every
 * backend shares (a live transaction, the table, key lengths, flags, a write
 * in a read transaction, a nested store_write). lmdb.c and pg.c each define
 * one; store_open() picks it from the location.
 */
struct store_ops {
	void (*close)(struct store *st);
	int (*usage)(struct store *st, struct store_usage *out);
	int (*read_begin)(struct store *st, struct store_txn **txn);
	void (*read_end)(struct store_txn *txn);
	int (*write)(struct store *st, store_write_fn fn, void *arg);
	int (*get)(struct store_txn *txn, enum store_table t, const void *key,
	    size_t keylen, const void **val, size_t *vallen);
	int (*put)(struct store_txn *txn, enum store_table t, const void *key,
	    size_t keylen, const void *val, size_t vallen, unsigned flags);
	int (*del)(struct store_txn *txn, enum store_table t, const void *key,
	    size_t keylen);
	int (*scan)(struct store_txn *txn, enum store_table t,
	    const void *prefix, size_t prefixlen, const void *after,
	    size_t afterlen, store_scan_fn fn, void *arg);
	int (*backup)(struct store *st, const char *dest_dir, char *errbuf,
	    size_t errlen);
};

extern const struct store_ops store_lmdb_ops;
extern const struct store_ops store_pg_ops;

struct store_pg;
struct store_pgtxn;

struct store {
	const struct store_ops *ops;
	int schema;
	int shared;		/* other processes serve from it (PostgreSQL) */
	_Atomic uint64_t io_failures;	/* operations that gave STORE_ERR_IO */
	/* PostgreSQL (pg.c); NULL for LMDB. */
	struct store_pg *pg;
	/* LMDB (lmdb.c, commit.c, table.c); unused for PostgreSQL. */
	MDB_env *env;
	MDB_dbi dbi[STORE_T_COUNT];
	size_t mapsize;		/* current map size; changed under wmu */
	size_t mapmax;		/* growth ceiling */
	pthread_mutex_t wmu;	/* one writer, or one resize, at a time */
	int wmu_ready;
	pthread_mutex_t rmu;	/* guards readers and resizing */
	pthread_cond_t rcond;	/* signalled when either changes */
	int readers;		/* read transactions live in this process */
	int resizing;		/* a resize waits for readers to drain */
	/* Group commit (commit.c): writes waiting for the committer. */
	pthread_mutex_t qmu;	/* guards the queue and the committer */
	struct store_waiter *qhead, **qtail;
	int committing;		/* a thread commits a group now */
	pthread_t committer;	/* that thread, while committing */
	unsigned long groups;	/* groups handled, for tests; under wmu */
	size_t last_group;	/* callbacks in the last one; under wmu */
};

/* One store_write() call waiting in the queue, on its caller's stack. */
struct store_waiter {
	store_write_fn fn;
	void *arg;
	int rc;			/* fn's value, or the commit's error */
	int done;		/* rc is final; set under qmu */
	pthread_cond_t cond;	/* signalled when done, or when it is to
				   take the next group (under qmu) */
	struct store_waiter *next;
};

struct store_txn {
	struct store *st;
	int write;
	int conflict;		/* spent by a conflict with another writer (it
				   runs again): its STORE_ERR_IO is no outage */
	/* LMDB */
	MDB_txn *txn;
	int mapfull;		/* a put or del of this txn hit MDB_MAP_FULL */
	/* PostgreSQL: the connection and results kept until the end */
	struct store_pgtxn *pg;
};

/* Opens the LMDB store in dir (lmdb.c) or the PostgreSQL one at uri (pg.c);
 * the contract of store_open(). */
struct store *store_lmdb_open(const char *dir, int *err, char *errbuf,
    size_t errlen);
struct store *store_pg_open(const char *uri, int *err, char *errbuf,
    size_t errlen);

/* The keywords and values pg.c connects with (PQconnectdbParams, with
 * expand_dbname): its defaults, then uri as dbname so that the URI's own
 * settings win; kw and val hold at least 9 entries each, NULL-terminated. */
void store_pg_params(const char *uri, const char **kw, const char **val);
/* store_set_max_connections() on a PostgreSQL store (pg.c). */
void store_pg_set_max(struct store *st, unsigned n);
/* store_in_use() on an LMDB directory (lmdb.c). */
int store_lmdb_in_use(const char *dir, long *pid);

/* printf into errbuf when there is one (store.c). */
void store_msg(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* memcmp order on byte strings, a proper prefix sorting first (store.c). */
int store_keycmp(const void *a, size_t alen, const void *b, size_t blen);

/* LMDB's record operations and group commit (table.c, commit.c). */
int store_lmdb_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen);
int store_lmdb_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags);
int store_lmdb_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen);
int store_lmdb_scan(struct store_txn *txn, enum store_table t,
    const void *prefix, size_t prefixlen, const void *after, size_t afterlen,
    store_scan_fn fn, void *arg);
int store_lmdb_write(struct store *st, store_write_fn fn, void *arg);

/* Begins a top-level write transaction into *t (lmdb.c), adopting a map
 * another process grew. The caller holds wmu. */
int store_lmdb_write_begin(struct store *st, struct store_txn *t);

/* Doubles the map, up to st->mapmax (lmdb.c). The caller holds wmu with no
 * write transaction live. STORE_ERR_FULL at the ceiling. */
int store_lmdb_grow(struct store *st);

/* The STORE_* code for an LMDB or errno value; sets errno for STORE_ERR_IO. */
int store_lmdb_err(int rc);

/* For tests: lowers the ceiling the map may grow to (at least the current
 * size). Call with no transaction live. */
void store_set_map_max(struct store *st, size_t max);

/* Current map size in bytes, for tests. */
size_t store_map_size(const struct store *st);

#endif
