/*
 * lmdb.c: the store's LMDB environment: opening and checking it, read and
 * write transactions, and growing the memory map. Record operations live in
 * table.c. Never logs; store_open() reports through its error buffer.
 *
 * One environment (DIR/data.mdb, DIR/lock.mdb) per store, opened MDB_NOTLS
 * so read transactions belong to their handle rather than to a thread. Each
 * table is a named LMDB database, opened or created once at store_open().
 *
 * Writes are committed in groups by commit.c. The map starts at
 * STORE_MAP_INITIAL and doubles, up to st->mapmax, when a write finds it
 * full: commit.c aborts the group, grows and runs its callbacks again. LMDB allows a resize only while this process has no transaction
 * live, so a resize holds wmu (no writer) and waits, at most
 * STORE_RESIZE_WAIT seconds, for read transactions to end while keeping new
 * ones out. A thread must therefore not hold a read transaction while it
 * calls store_write() if that write may need to grow the map: it would wait
 * the full time and then fail with STORE_ERR_FULL.
 *
 * Meta record "schema_version" holds the version in decimal ASCII; see
 * store_internal.h.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_MAX_DBS (STORE_T_COUNT + 4)
#define STORE_RESIZE_WAIT 10	/* seconds a resize waits for readers */
#define STORE_RESIZED_RETRIES 3	/* MDB_MAP_RESIZED retries per begin */
#define STORE_VERSION_DIGITS 9	/* keeps the parsed version within int */

/* What store_open's initial write reports back. */
struct store_init {
	const char *dir;
	char *errbuf;
	size_t errlen;
	int schema;
};

static struct store *
store_alloc(void)
{
	struct store *st;
	pthread_mutexattr_t attr;
	int rc;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	*st = (struct store){ .ops = &store_lmdb_ops,
	    .rmu = PTHREAD_MUTEX_INITIALIZER,
	    .rcond = PTHREAD_COND_INITIALIZER, .mapmax = STORE_MAP_MAX,
	    .qmu = PTHREAD_MUTEX_INITIALIZER };
	st->qtail = &st->qhead;
	/* Error-checking, so a write callback that needs wmu again (a read
	 * transaction adopting a map another process grew) fails instead of
	 * deadlocking. */
	if (pthread_mutexattr_init(&attr) != 0)
		goto fail;
	rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	if (rc == 0)
		rc = pthread_mutex_init(&st->wmu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0)
		goto fail;
	st->wmu_ready = 1;
	return st;
fail:
	free(st);
	return NULL;
}

static void
lmdb_close(struct store *st)
{
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->wmu_ready)
		pthread_mutex_destroy(&st->wmu);
	pthread_mutex_destroy(&st->rmu);
	pthread_cond_destroy(&st->rcond);
	pthread_mutex_destroy(&st->qmu);
	free(st);
}

static int
store_mkdir(const char *dir, char *errbuf, size_t errlen)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return STORE_OK;
	store_msg(errbuf, errlen, "%s: cannot create directory: %s", dir,
	    strerror(errno));
	return STORE_ERR_IO;
}

/* Creates and opens the environment, and sets the map to at least
 * STORE_MAP_INITIAL (more when an earlier run grew it). */
static int
store_env_open(struct store *st, const char *dir, char *errbuf, size_t errlen)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->env, STORE_MAX_DBS)) != 0)
		goto fail;
	/* 0: take the size recorded in the file, or LMDB's default. */
	if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
		goto fail;
	if ((rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		goto fail;
	if (info.me_mapsize < STORE_MAP_INITIAL) {
		if ((rc = mdb_env_set_mapsize(st->env, STORE_MAP_INITIAL)) != 0)
			goto fail;
		if ((rc = mdb_env_info(st->env, &info)) != 0)
			goto fail;
	}
	st->mapsize = info.me_mapsize;
	if (st->mapmax < st->mapsize)
		st->mapmax = st->mapsize;
	return STORE_OK;
fail:
	if (store_lmdb_err(rc) == STORE_ERR_CORRUPT)
		store_msg(errbuf, errlen, "%s: database is damaged or not a "
		    "hearth store: %s", dir, mdb_strerror(rc));
	else
		store_msg(errbuf, errlen, "%s: cannot open database: %s", dir,
		    mdb_strerror(rc));
	return store_lmdb_err(rc);	/* last: it sets errno for an errno */
}

/* Parses the meta schema_version value (decimal ASCII, see
 * store_internal.h) into *version; STORE_ERR_CORRUPT when malformed. */
static int
store_parse_version(const void *val, size_t len, int *version)
{
	const unsigned char *p = val;
	size_t i;
	int v = 0;

	if (len == 0 || len > STORE_VERSION_DIGITS || p[0] == '0')
		return STORE_ERR_CORRUPT;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return STORE_ERR_CORRUPT;
		v = v * 10 + (p[i] - '0');
	}
	*version = v;
	return STORE_OK;
}

/* Whether the environment holds nothing yet (no named database at all). */
static int
store_env_empty(struct store_txn *t, int *empty)
{
	MDB_dbi main;
	MDB_stat ms;
	int rc;

	if ((rc = mdb_dbi_open(t->txn, NULL, 0, &main)) != 0)
		return store_lmdb_err(rc);
	if ((rc = mdb_stat(t->txn, main, &ms)) != 0)
		return store_lmdb_err(rc);
	*empty = ms.ms_entries == 0;
	return STORE_OK;
}

/* Opens every table, creating the missing ones. */
static int
store_open_tables(struct store_txn *t)
{
	int i, rc;

	for (i = 0; i < STORE_T_COUNT; i++) {
		rc = mdb_dbi_open(t->txn, store_table_name(i), MDB_CREATE,
		    &t->st->dbi[i]);
		if (rc != 0)
			return store_lmdb_err(rc);
	}
	return STORE_OK;
}

/* Reads and checks the schema version of an existing store. */
static int
store_check_version(struct store_txn *t, struct store_init *in)
{
	const void *val;
	size_t len;
	int rc;

	rc = store_get(t, STORE_T_META, STORE_META_SCHEMA_KEY,
	    strlen(STORE_META_SCHEMA_KEY), &val, &len);
	if (rc == STORE_OK)
		rc = store_parse_version(val, len, &in->schema);
	if (rc == STORE_NOTFOUND || rc == STORE_ERR_CORRUPT) {
		store_msg(in->errbuf, in->errlen, "%s: database has no valid "
		    "schema version; not a hearth store", in->dir);
		return STORE_ERR_CORRUPT;
	}
	if (rc != STORE_OK)
		return rc;
	/* Older versions would be migrated here; version 1 is the first. */
	if (in->schema > STORE_SCHEMA_VERSION) {
		store_msg(in->errbuf, in->errlen, "%s: database schema version "
		    "%d is newer than this hearth supports (%d); upgrade hearth",
		    in->dir, in->schema, STORE_SCHEMA_VERSION);
		return STORE_ERR_SCHEMA;
	}
	return STORE_OK;
}

/* store_open's one write: tables, then the schema version (written on a new
 * store, checked on an existing one). */
static int
store_init_fn(struct store_txn *t, void *arg)
{
	struct store_init *in = arg;
	char buf[16];
	MDB_dbi meta;
	int rc, empty = 0;

	rc = mdb_dbi_open(t->txn, store_table_name(STORE_T_META), 0, &meta);
	if (rc == MDB_NOTFOUND) {
		if ((rc = store_env_empty(t, &empty)) != 0)
			goto out;
		if (!empty) {
			store_msg(in->errbuf, in->errlen, "%s: database has "
			    "no meta table; not a hearth store", in->dir);
			rc = STORE_ERR_CORRUPT;
			goto out;
		}
	} else if (rc != 0) {
		rc = store_lmdb_err(rc);
		goto out;
	}
	if ((rc = store_open_tables(t)) != 0)
		goto out;
	if (empty) {
		in->schema = STORE_SCHEMA_VERSION;
		snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA_VERSION);
		rc = store_put(t, STORE_T_META, STORE_META_SCHEMA_KEY,
		    strlen(STORE_META_SCHEMA_KEY), buf, strlen(buf), 0);
	} else
		rc = store_check_version(t, in);
out:
	if (rc != 0 && in->errbuf != NULL && in->errlen > 0 &&
	    in->errbuf[0] == '\0')
		store_msg(in->errbuf, in->errlen, "%s: cannot initialise "
		    "database: %s", in->dir, store_strerror(rc));
	return rc;
}

/*
 * Every process with the environment open holds a shared fcntl lock on
 * the first byte of lock.mdb (LMDB takes it at open, exclusive while it
 * sets the file up, and keeps it until close), so a write lock on that
 * byte that F_GETLK finds blocked names another process using the store.
 * This process must not have the environment open: closing any descriptor
 * of lock.mdb would drop its own locks.
 */
int
store_lmdb_in_use(const char *dir, long *pid)
{
	char path[4200];
	struct flock fl;
	int fd, n, rc;

	n = snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return STORE_ERR_INVALID;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : STORE_ERR_IO;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) != 0)
		rc = STORE_ERR_IO;
	else if (fl.l_type == F_UNLCK)
		rc = 0;
	else {
		*pid = (long)fl.l_pid;
		rc = 1;
	}
	close(fd);
	return rc;
}

struct store *
store_lmdb_open(const char *dir, int *err, char *errbuf, size_t errlen)
{
	struct store *st = NULL;
	struct store_init in = { dir, errbuf, errlen, 0 };
	int rc;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		store_msg(errbuf, errlen, "store directory not given");
		rc = STORE_ERR_INVALID;
		goto fail;
	}
	if ((st = store_alloc()) == NULL) {
		store_msg(errbuf, errlen, "%s: out of memory", dir);
		rc = STORE_ERR_NOMEM;
		goto fail;
	}
	if ((rc = store_mkdir(dir, errbuf, errlen)) != 0)
		goto fail;
	if ((rc = store_env_open(st, dir, errbuf, errlen)) != 0)
		goto fail;
	if ((rc = store_write(st, store_init_fn, &in)) != 0) {
		if (errbuf != NULL && errlen > 0 && errbuf[0] == '\0')
			store_msg(errbuf, errlen, "%s: cannot initialise "
			    "database: %s", dir, store_strerror(rc));
		goto fail;
	}
	st->schema = in.schema;
	if (err != NULL)
		*err = STORE_OK;
	return st;
fail:
	if (st != NULL)
		lmdb_close(st);
	if (err != NULL)
		*err = rc;
	return NULL;
}

static int
lmdb_usage(struct store *st, struct store_usage *out)
{
	MDB_envinfo info;
	MDB_stat ms;
	mdb_filehandle_t fd;
	struct stat sb;

	if (st->env == NULL)
		return STORE_ERR_INVALID;
	if (mdb_env_info(st->env, &info) != 0 || mdb_env_stat(st->env, &ms) != 0)
		return STORE_ERR_IO;
	out->map_bytes = (uint64_t)info.me_mapsize;
	out->page_bytes = (uint64_t)ms.ms_psize;
	out->pages_used = (uint64_t)info.me_last_pgno + 1;
	out->readers_used = (uint64_t)info.me_numreaders;
	/* the open file, not its path: a server that dropped its privileges
	 * may no longer reach the path */
	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0)
		return STORE_ERR_IO;
	out->file_bytes = (uint64_t)sb.st_size;
	return 0;
}

static void
store_reader_enter(struct store *st)
{
	pthread_mutex_lock(&st->rmu);
	while (st->resizing)
		pthread_cond_wait(&st->rcond, &st->rmu);
	st->readers++;
	pthread_mutex_unlock(&st->rmu);
}

static void
store_reader_leave(struct store *st)
{
	pthread_mutex_lock(&st->rmu);
	if (--st->readers == 0)
		pthread_cond_broadcast(&st->rcond);
	pthread_mutex_unlock(&st->rmu);
}

/*
 * Sets the map to size bytes (0: the size another process recorded). The
 * caller holds wmu with no write transaction live; this waits for this
 * process's readers to end, keeping new ones out meanwhile.
 */
static int
store_resize(struct store *st, size_t size)
{
	struct timespec until;
	MDB_envinfo info;
	int rc = STORE_OK, wrc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STORE_RESIZE_WAIT;
	pthread_mutex_lock(&st->rmu);
	st->resizing = 1;
	while (st->readers > 0 && wrc == 0)
		wrc = pthread_cond_timedwait(&st->rcond, &st->rmu, &until);
	if (st->readers > 0) {
		rc = STORE_ERR_FULL;
		goto out;
	}
	if ((rc = mdb_env_set_mapsize(st->env, size)) != 0 ||
	    (rc = mdb_env_info(st->env, &info)) != 0) {
		rc = store_lmdb_err(rc);
		goto out;
	}
	st->mapsize = info.me_mapsize;
out:
	st->resizing = 0;
	pthread_cond_broadcast(&st->rcond);
	pthread_mutex_unlock(&st->rmu);
	return rc;
}

int
store_lmdb_grow(struct store *st)
{
	size_t size;

	if (st->mapsize >= st->mapmax)
		return STORE_ERR_FULL;
	size = st->mapsize > st->mapmax / 2 ? st->mapmax : st->mapsize * 2;
	return store_resize(st, size);
}

static int
lmdb_read_begin(struct store *st, struct store_txn **txn)
{
	struct store_txn *t = NULL;
	MDB_txn *mt = NULL;
	int rc, tries;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return STORE_ERR_NOMEM;
	for (tries = 0;; tries++) {
		store_reader_enter(st);
		if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &mt)) == 0)
			break;
		store_reader_leave(st);
		if (rc != MDB_MAP_RESIZED || tries == STORE_RESIZED_RETRIES) {
			rc = store_lmdb_err(rc);
			goto out;
		}
		/* Another process grew the map: adopt its size. */
		if ((rc = pthread_mutex_lock(&st->wmu)) != 0) {
			rc = STORE_ERR_INVALID;
			goto out;
		}
		rc = store_resize(st, 0);
		pthread_mutex_unlock(&st->wmu);
		if (rc != 0)
			goto out;
	}
	t->st = st;
	t->txn = mt;
	*txn = t;
	t = NULL;
out:
	free(t);
	return rc;
}

static void
lmdb_read_end(struct store_txn *txn)
{
	mdb_txn_abort(txn->txn);
	store_reader_leave(txn->st);
	free(txn);
}

int
store_lmdb_write_begin(struct store *st, struct store_txn *t)
{
	int rc, tries;

	*t = (struct store_txn){ .st = st, .write = 1 };
	for (tries = 0;; tries++) {
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &t->txn)) == 0)
			break;
		if (rc != MDB_MAP_RESIZED || tries == STORE_RESIZED_RETRIES)
			return store_lmdb_err(rc);
		if ((rc = store_resize(st, 0)) != 0)
			return rc;
	}
	return STORE_OK;
}

void
store_set_map_max(struct store *st, size_t max)
{
	if (st == NULL)
		return;
	st->mapmax = max < st->mapsize ? st->mapsize : max;
}

size_t
store_map_size(const struct store *st)
{
	return st == NULL ? 0 : st->mapsize;
}

/*
 * A compacted copy of the environment into dest_dir (mdb_env_copy2 with
 * MDB_CP_COMPACT): one read transaction's snapshot, free pages left out,
 * while writers in this and other processes go on. Counted as a reader so
 * a resize in this process waits for it; a map another process grew is
 * adopted first, as by store_read_begin().
 */
static int
lmdb_backup(struct store *st, const char *dest_dir, char *errbuf,
    size_t errlen)
{
	int rc, tries;

	for (tries = 0;; tries++) {
		store_reader_enter(st);
		rc = mdb_env_copy2(st->env, dest_dir, MDB_CP_COMPACT);
		store_reader_leave(st);
		if (rc != MDB_MAP_RESIZED || tries == STORE_RESIZED_RETRIES)
			break;
		if (pthread_mutex_lock(&st->wmu) != 0)
			return STORE_ERR_INVALID;
		rc = store_resize(st, 0);
		pthread_mutex_unlock(&st->wmu);
		if (rc != 0)
			return rc;
	}
	if (rc == 0)
		return STORE_OK;
	store_msg(errbuf, errlen, "%s: cannot copy the database: %s", dest_dir,
	    mdb_strerror(rc));
	return store_lmdb_err(rc);
}

const struct store_ops store_lmdb_ops = {
	.close = lmdb_close,
	.usage = lmdb_usage,
	.read_begin = lmdb_read_begin,
	.read_end = lmdb_read_end,
	.write = store_lmdb_write,
	.get = store_lmdb_get,
	.put = store_lmdb_put,
	.del = store_lmdb_del,
	.scan = store_lmdb_scan,
	.backup = lmdb_backup,
};
