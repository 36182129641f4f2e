/*
 * test_pg.c: what only the PostgreSQL backend does, on the server
 * tests/e2e/pg.sh starts for it (HEARTH_TEST_PG_URI; ctest runs it only
 * through that wrapper): migrations applied once by two stores opening a
 * new database at the same time, reopened without change; a database
 * newer than this hearth refused; an unreachable server refused with
 * STORE_ERR_IO and a message without the password; scans longer than one
 * batch whose callback reads and writes other tables; a connection the
 * server closed replaced without the caller noticing; usage; backup
 * refused; and an LMDB store copied into PostgreSQL record for record.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pgcase.h"
#include "store.h"

#define SCAN_RECORDS 700	/* more than two of pg.c's batches */

static struct store *
open_ok(const char *loc)
{
	char errbuf[512] = "";
	struct store *st;
	int err = 1;

	st = store_open(loc, &err, errbuf, sizeof(errbuf));
	CHECK(st != NULL);
	CHECK_EQ_INT(err, STORE_OK);
	if (st == NULL)
		fprintf(stderr, "store_open: %s\n", errbuf);
	return st;
}

/* The first column of the first row of sql, as text, into out. */
static int
query1(const char *sql, char *out, size_t len)
{
	PGconn *c = PQconnectdb(pgcase_uri());
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
		snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	else
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

struct kv {
	enum store_table t;
	const char *k, *v;
};

static int
put_fn(struct store_txn *txn, void *arg)
{
	const struct kv *p = arg;

	return store_put(txn, p->t, p->k, strlen(p->k), p->v, strlen(p->v), 0);
}

static int
get_str(struct store *st, enum store_table t, const char *k, char *buf,
    size_t len)
{
	struct store_txn *txn;
	const void *v;
	size_t vl;
	int rc;

	buf[0] = '\0';
	if ((rc = store_read_begin(st, &txn)) != 0)
		return rc;
	if ((rc = store_get(txn, t, k, strlen(k), &v, &vl)) == 0)
		snprintf(buf, len, "%.*s", (int)vl, (const char *)v);
	store_read_end(txn);
	return rc;
}

/* ---- migrations --------------------------------------------------------- */

static void *
opener_main(void *arg)
{
	return open_ok(pgcase_uri());
}

static void
test_migrations(void)
{
	char uri[1024], buf[64];
	pthread_t th[4];
	struct store *st[4];
	struct kv p = { STORE_T_ACCOUNTS, "acct-1", "alice" };
	int i;

	if (pgcase_reset(uri, sizeof(uri)) != 0) {
		CHECK(0);
		return;
	}
	/* Four stores opening a new database at once: each migration once. */
	for (i = 0; i < 4; i++)
		CHECK_EQ_INT(pthread_create(&th[i], NULL, opener_main, NULL), 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], (void **)&st[i]);
	CHECK(query1("SELECT count(*) || '/' || max(version) FROM "
	    "schema_migrations", buf, sizeof(buf)) == 0);
	CHECK_EQ_STR(buf, "2/2");
	CHECK(query1("SELECT count(*) FROM pg_tables WHERE schemaname = "
	    "'public'", buf, sizeof(buf)) == 0);
	CHECK_EQ_INT(atoi(buf), STORE_T_COUNT + 1);
	for (i = 0; i < 4; i++) {
		if (st[i] != NULL)
			CHECK_EQ_INT(store_schema_version(st[i]), 2);
		CHECK(st[i] == NULL || store_shared(st[i]));
		store_close(st[i]);
	}

	/* Reopened: the data is there, nothing applied again. */
	if ((st[0] = open_ok(uri)) == NULL)
		return;
	CHECK_EQ_INT(store_write(st[0], put_fn, &p), 0);
	store_close(st[0]);
	if ((st[0] = open_ok(uri)) == NULL)
		return;
	CHECK_EQ_INT(get_str(st[0], STORE_T_ACCOUNTS, "acct-1", buf,
	    sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "alice");
	store_close(st[0]);
	CHECK(query1("SELECT count(*) FROM schema_migrations", buf,
	    sizeof(buf)) == 0);
	CHECK_EQ_STR(buf, "2");

	/* A database of the first schema gets migration 2 alone. */
	CHECK_EQ_INT(pgcase_exec("DROP TABLE used_nonces, limits, validations; "
	    "DELETE FROM schema_migrations WHERE version = 2"), 0);
	if ((st[0] = open_ok(uri)) == NULL)
		return;
	CHECK_EQ_INT(store_schema_version(st[0]), 2);
	CHECK_EQ_INT(get_str(st[0], STORE_T_ACCOUNTS, "acct-1", buf,
	    sizeof(buf)), 0);
	CHECK_EQ_INT(get_str(st[0], STORE_T_VALIDATIONS, "x", buf,
	    sizeof(buf)), STORE_NOTFOUND);
	store_close(st[0]);
}

/* Expects store_open(loc) to fail with want and a message beginning with
 * begin and not holding avoid. */
static void
open_fails(const char *loc, int want, const char *begin, const char *avoid)
{
	char errbuf[512] = "";
	struct store *st;
	int err = 0;

	st = store_open(loc, &err, errbuf, sizeof(errbuf));
	CHECK(st == NULL);
	store_close(st);
	CHECK_EQ_INT(err, want);
	CHECK(strncmp(errbuf, begin, strlen(begin)) == 0);
	if (avoid != NULL)
		CHECK(strstr(errbuf, avoid) == NULL);
	fprintf(stderr, "refused as expected: %s\n", errbuf);
}

static void
test_refused(void)
{
	char uri[1024], loc[1200];
	struct store *st;

	if (pgcase_reset(uri, sizeof(uri)) != 0 || (st = open_ok(uri)) == NULL)
		return;
	store_close(st);
	CHECK_EQ_INT(pgcase_exec("INSERT INTO schema_migrations (version) "
	    "VALUES (7)"), 0);
	open_fails(uri, STORE_ERR_SCHEMA, "postgresql://postgres@", NULL);
	/* No server at that socket; the password never shows. */
	open_fails("postgresql://hearth:s3cret@/hearth?host=/nonexistent",
	    STORE_ERR_IO, "postgresql://hearth@/nonexistent", "s3cret");
	/* A database that does not exist. */
	snprintf(loc, sizeof(loc), "%s&dbname=nosuchdb", uri);
	open_fails(loc, STORE_ERR_IO, "postgresql://postgres@", NULL);
	open_fails("postgresql://[bad", STORE_ERR_INVALID, "PostgreSQL URI",
	    NULL);
}

/* ---- scans across batches ----------------------------------------------- */

static int
fill_fn(struct store_txn *txn, void *arg)
{
	char k[32];
	int i, rc;

	for (i = 0; i < SCAN_RECORDS; i++) {
		snprintf(k, sizeof(k), "a/%04d", i);
		if ((rc = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, k, strlen(k),
		    "", 0, 0)) != 0 ||
		    (rc = store_put(txn, STORE_T_ORDERS, k + 2, 4, k, 6, 0)) != 0)
			return rc;
	}
	/* Neighbours outside the prefix, on either side. */
	if ((rc = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, "a.", 2, "", 0, 0)))
		return rc;
	return store_put(txn, STORE_T_ORDER_BY_ACCOUNT, "a0", 2, "", 0, 0);
}

struct walk {
	struct store_txn *txn;
	int txn_write;
	int n, bad;
};

/* Inside the scan: reads the order each index key names and, in a write,
 * marks it in another table. */
static int
walk_fn(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct walk *w = arg;
	char want[8];
	const void *v;
	size_t vl;

	snprintf(want, sizeof(want), "a/%04d", w->n);
	if (keylen != 6 || memcmp(key, want, 6) != 0 ||
	    store_get(w->txn, STORE_T_ORDERS, want + 2, 4, &v, &vl) != 0 ||
	    vl != 6 || memcmp(v, want, 6) != 0)
		w->bad++;
	/* Marks it in another table: done in a write, refused in a read. */
	if (store_put(w->txn, STORE_T_AUTHZS, want + 2, 4, "seen", 4, 0) !=
	    (w->txn_write ? STORE_OK : STORE_ERR_READONLY))
		w->bad++;
	w->n++;
	return 0;
}

static int
walk_write_fn(struct store_txn *txn, void *arg)
{
	struct walk *w = arg;

	w->txn = txn;
	w->txn_write = 1;
	w->n = w->bad = 0;
	return store_scan(txn, STORE_T_ORDER_BY_ACCOUNT, "a/", 2, NULL, 0,
	    walk_fn, w);
}

static int
count_fn(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_long_scan(void)
{
	char uri[1024];
	struct store *st;
	struct store_txn *txn;
	struct walk w = { 0 };
	int n = 0;

	if (pgcase_reset(uri, sizeof(uri)) != 0 || (st = open_ok(uri)) == NULL)
		return;
	CHECK_EQ_INT(store_write(st, fill_fn, NULL), 0);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	w.txn = txn;
	CHECK_EQ_INT(store_scan(txn, STORE_T_ORDER_BY_ACCOUNT, "a/", 2, NULL, 0,
	    walk_fn, &w), 0);
	CHECK_EQ_INT(w.n, SCAN_RECORDS);
	CHECK_EQ_INT(w.bad, 0);
	w.n = 0;	/* from after a key in the second batch */
	CHECK_EQ_INT(store_scan(txn, STORE_T_ORDER_BY_ACCOUNT, "a/", 2,
	    "a/0299", 6, count_fn, &n), 0);
	CHECK_EQ_INT(n, SCAN_RECORDS - 300);
	store_read_end(txn);

	CHECK_EQ_INT(store_write(st, walk_write_fn, &w), 0);
	CHECK_EQ_INT(w.n, SCAN_RECORDS);
	CHECK_EQ_INT(w.bad, 0);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	n = 0;
	CHECK_EQ_INT(store_scan(txn, STORE_T_AUTHZS, NULL, 0, NULL, 0,
	    count_fn, &n), 0);
	CHECK_EQ_INT(n, SCAN_RECORDS);
	store_read_end(txn);
	store_close(st);
}

/* ---- connections, usage, backup ----------------------------------------- */

static void
test_reconnect(void)
{
	struct kv p = { STORE_T_CERTS, "0a", "cert" };
	struct store_usage u;
	char uri[1024], buf[64], errbuf[256];
	struct store *st;

	if (pgcase_reset(uri, sizeof(uri)) != 0 || (st = open_ok(uri)) == NULL)
		return;
	CHECK_EQ_INT(store_write(st, put_fn, &p), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "0a", buf, sizeof(buf)), 0);
	/* The server ends every other session: the store's idle one. */
	CHECK_EQ_INT(pgcase_exec("SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = current_database() AND "
	    "pid <> pg_backend_pid()"), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "0a", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "cert");
	CHECK_EQ_INT(pgcase_exec("SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = current_database() AND "
	    "pid <> pg_backend_pid()"), 0);
	p.v = "cert2";
	CHECK_EQ_INT(store_write(st, put_fn, &p), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "0a", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "cert2");

	CHECK_EQ_INT(store_usage(st, &u), 0);
	CHECK(u.file_bytes > 0);
	CHECK_EQ_INT(u.page_bytes, 8192);
	CHECK_EQ_INT(u.map_bytes, 0);
	CHECK(u.readers_used >= 1);
	CHECK_EQ_INT(store_backup(st, "/tmp", errbuf, sizeof(errbuf)),
	    STORE_ERR_INVALID);
	CHECK(strstr(errbuf, "pg_dump") != NULL);
	store_close(st);
}

/* ---- copying LMDB into PostgreSQL --------------------------------------- */

static int
lmdb_fill_fn(struct store_txn *txn, void *arg)
{
	char k[32], v[64];
	int i, t, rc;

	for (t = STORE_T_ACCOUNTS; t < STORE_T_COUNT; t++)
		for (i = 0; i < 300 + t; i++) {
			snprintf(k, sizeof(k), "%s/%05d", store_table_name(t), i);
			snprintf(v, sizeof(v), "value %d of %d", i, t);
			if ((rc = store_put(txn, t, k, strlen(k), v, strlen(v),
			    0)) != 0)
				return rc;
		}
	return store_put(txn, STORE_T_META, "crl_number", 10, "\0\0\0\7", 4, 0);
}

static void
test_copy(void)
{
	uint64_t counts[STORE_T_COUNT];
	char uri[1024], dir[512], buf[64], errbuf[512], path[600];
	struct store *src, *dst;
	const char *tmp = getenv("HEARTH_TEST_TMP");
	int t;

	snprintf(dir, sizeof(dir), "%s/pgcopy.XXXXXX", tmp != NULL && *tmp ?
	    tmp : "/tmp");
	if (mkdtemp(dir) == NULL || pgcase_reset(uri, sizeof(uri)) != 0) {
		CHECK(0);
		return;
	}
	if ((src = open_ok(dir)) == NULL || (dst = open_ok(uri)) == NULL) {
		store_close(src);
		return;
	}
	CHECK_EQ_INT(store_write(src, lmdb_fill_fn, NULL), 0);
	CHECK_EQ_INT(store_copy(src, dst, counts, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ_INT(counts[STORE_T_META], 1);	/* not the schema version */
	for (t = STORE_T_ACCOUNTS; t < STORE_T_COUNT; t++)
		CHECK_EQ_INT(counts[t], 300 + t);
	CHECK_EQ_INT(get_str(dst, STORE_T_EAB_KEYS, "eab_keys/00299", buf,
	    sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "value 299 of 11");
	/* A second copy finds the target in use. */
	CHECK_EQ_INT(store_copy(src, dst, counts, errbuf, sizeof(errbuf)),
	    STORE_EXISTS);
	CHECK(strstr(errbuf, "not empty") != NULL);
	store_close(dst);
	store_close(src);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	if (pgcase_uri() == NULL) {
		fprintf(stderr, "HEARTH_TEST_PG_URI is not set: run through "
		    "tests/e2e/pg.sh run\n");
		return 1;
	}
	test_migrations();
	test_refused();
	test_long_scan();
	test_reconnect();
	test_copy();
	return CHECK_DONE();
}
