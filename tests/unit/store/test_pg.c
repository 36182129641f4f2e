/*
 * test_pg.c: what only the PostgreSQL backend does, on the server
 * tests/e2e/pg.sh starts for it (HEARTH_TEST_PG_URI; ctest runs it only
 * through that wrapper): migrations applied once by two stores opening a
 * new database at the same time, reopened without change; a database
 * newer than this hearth refused; an unreachable server refused with
 * STORE_ERR_IO and a message without the password; scans longer than one
 * batch whose callback reads and writes other tables; a connection the
 * server closed replaced without the caller noticing; usage; backup
 * refused; an LMDB store copied into PostgreSQL record for record; a
 * failed migration's reason kept; the connection defaults (timeouts,
 * keepalives) applied, and the URI's own values winning over them; a
 * statement stuck on a lock failing with STORE_ERR_IO; a server that
 * accepts but never answers refused within the connect timeout; and the
 * cap on open connections.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pgcase.h"
#include "store.h"
#include "store_internal.h"

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

/* The message of open_fails' last refusal. */
static char last_refusal[512];

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
	snprintf(last_refusal, sizeof(last_refusal), "%s", errbuf);
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

/* ---- failures, timeouts, limits ------------------------------------------ */

static void
test_migration_reason(void)
{
	char uri[1024];

	if (pgcase_reset(uri, sizeof(uri)) != 0) {
		CHECK(0);
		return;
	}
	/* A table of the first migration's already there: its reason shows,
	 * kept from before the ROLLBACK that clears libpq's message. */
	CHECK_EQ_INT(pgcase_exec("CREATE TABLE meta (x integer)"), 0);
	open_fails(uri, STORE_ERR_INTERNAL, "postgresql://postgres@", NULL);
	CHECK(strstr(last_refusal, "cannot apply schema migration 1: ") !=
	    NULL);
	CHECK(strstr(last_refusal, "\"meta\" already exists") != NULL);
}

/* Connects as pg.c does to loc and reads the setting name, through
 * PQconninfo (libpq's) or SHOW (the server's), into out. */
static int
param_of(const char *loc, const char *name, int server, char *out,
    size_t len)
{
	const char *kw[16], *val[16];
	PQconninfoOption *o, *opts = NULL;
	PGconn *c;
	PGresult *r = NULL;
	char sql[128];
	int ok = 0;

	store_pg_params(loc, kw, val);
	c = PQconnectdbParams(kw, val, 1);
	out[0] = '\0';
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s", loc, PQerrorMessage(c));
	} else if (server) {
		snprintf(sql, sizeof(sql), "SHOW %s", name);
		r = PQexec(c, sql);
		if ((ok = PQresultStatus(r) == PGRES_TUPLES_OK))
			snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	} else if ((opts = PQconninfo(c)) != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, name) == 0 && o->val != NULL) {
				snprintf(out, len, "%s", o->val);
				ok = 1;
			}
	}
	PQconninfoFree(opts);
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

static void
test_defaults(void)
{
	char uri[1024], loc[1300], buf[64];

	if (pgcase_reset(uri, sizeof(uri)) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(param_of(uri, "connect_timeout", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "5");
	CHECK_EQ_INT(param_of(uri, "keepalives", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "1");
	CHECK_EQ_INT(param_of(uri, "tcp_user_timeout", 0, buf, sizeof(buf)),
	    0);
	CHECK_EQ_STR(buf, "10000");
	CHECK_EQ_INT(param_of(uri, "statement_timeout", 1, buf, sizeof(buf)),
	    0);
	CHECK_EQ_STR(buf, "10s");
	CHECK_EQ_INT(param_of(uri, "idle_in_transaction_session_timeout", 1,
	    buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "1min");
	/* What the URI says wins. */
	snprintf(loc, sizeof(loc), "%s&connect_timeout=2&options=-c%%20"
	    "statement_timeout%%3D750ms", uri);
	CHECK_EQ_INT(param_of(loc, "connect_timeout", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "2");
	CHECK_EQ_INT(param_of(loc, "statement_timeout", 1, buf, sizeof(buf)),
	    0);
	CHECK_EQ_STR(buf, "750ms");
	CHECK_EQ_INT(param_of(loc, "keepalives", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "1");
}

/* A write waiting on a lock another session holds ends with the
 * statement timeout (the URI's, short here) as STORE_ERR_IO. */
static void
test_statement_timeout(void)
{
	struct kv p = { STORE_T_CERTS, "0b", "cert" };
	char uri[1024], loc[1300];
	struct store *st;
	PGconn *locker;
	PGresult *r;

	if (pgcase_reset(uri, sizeof(uri)) != 0 || (st = open_ok(uri)) == NULL)
		return;
	store_close(st);
	snprintf(loc, sizeof(loc), "%s&options=-c%%20statement_timeout%%3D300",
	    uri);
	if ((st = open_ok(loc)) == NULL)
		return;
	locker = PQconnectdb(pgcase_uri());
	r = PQexec(locker, "BEGIN; LOCK TABLE certs IN ACCESS EXCLUSIVE MODE");
	CHECK_EQ_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CHECK_EQ_INT(store_write(st, put_fn, &p), STORE_ERR_IO);
	CHECK(store_io_failures(st) >= 1);
	PQclear(PQexec(locker, "ROLLBACK"));
	PQfinish(locker);
	CHECK_EQ_INT(store_write(st, put_fn, &p), 0);	/* and then it works */
	store_close(st);
}

/* A "server" that completes the TCP handshake (the kernel does) but never
 * answers: the store gives up after connect_timeout with STORE_ERR_IO. */
static void
test_connect_timeout(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char loc[128], errbuf[512] = "";
	int fd, err = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		CHECK(0);
		return;
	}
	snprintf(loc, sizeof(loc), "postgresql://hearth@127.0.0.1:%u/hearth"
	    "?sslmode=disable", ntohs(sa.sin_port));
	CHECK(store_open(loc, &err, errbuf, sizeof(errbuf)) == NULL);
	CHECK_EQ_INT(err, STORE_ERR_IO);
	CHECK(strstr(errbuf, "timeout") != NULL);
	fprintf(stderr, "refused as expected: %s\n", errbuf);
	close(fd);
}

struct waiter {
	struct store *st;
	int rc;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct store_txn *txn;

	if ((w->rc = store_read_begin(w->st, &txn)) == 0)
		store_read_end(txn);
	return NULL;
}

static void
test_connection_cap(void)
{
	struct store_txn *a, *b, *c = NULL;
	struct store_usage u;
	struct waiter w;
	char uri[1024];
	struct store *st;
	pthread_t th;

	if (pgcase_reset(uri, sizeof(uri)) != 0 || (st = open_ok(uri)) == NULL)
		return;
	store_set_max_connections(st, 2);
	CHECK_EQ_INT(store_read_begin(st, &a), 0);
	CHECK_EQ_INT(store_read_begin(st, &b), 0);
	/* Both in use: the third waits for its deadline, then gives up. */
	CHECK_EQ_INT(store_read_begin(st, &c), STORE_ERR_IO);
	CHECK_EQ_INT(store_usage(st, &u), STORE_ERR_IO);
	/* One given back while another waits: the waiter gets it. */
	w.st = st;
	w.rc = 1;
	CHECK_EQ_INT(pthread_create(&th, NULL, waiter_main, &w), 0);
	store_read_end(a);
	pthread_join(th, NULL);
	CHECK_EQ_INT(w.rc, 0);
	CHECK_EQ_INT(store_usage(st, &u), 0);
	CHECK(u.readers_used <= 2);
	store_read_end(b);
	store_close(st);
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
	test_migration_reason();
	test_defaults();
	test_statement_timeout();
	test_connect_timeout();
	test_connection_cap();
	return CHECK_DONE();
}
