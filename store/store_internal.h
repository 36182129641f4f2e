/*
 * store_internal.h: declarations shared by the files of store/ and its unit
 * tests only. It holds the LMDB handles behind the opaque store.h types;
 * nothing outside store/ includes it (the layering check refuses LMDB there).
 */
#ifndef HEARTH_STORE_INTERNAL_H
#define HEARTH_STORE_INTERNAL_H

#include <pthread.h>
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

struct store {
	MDB_env *env;
	MDB_dbi dbi[STORE_T_COUNT];
	int schema;
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
	pthread_cond_t qcond;	/* signalled when a group was answered */
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
	struct store_waiter *next;
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int write;
	int mapfull;		/* a put or del of this txn hit MDB_MAP_FULL */
};

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
