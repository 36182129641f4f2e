/*
 * pg.c: the store on PostgreSQL (libpq), for replicas sharing one database.
 * Owns the connections, the schema migrations, transactions and the record
 * operations; store.c has checked the arguments. Never logs: libpq's
 * notices are dropped and store_open() reports through its error buffer.
 *
 * Schema: one table per enum store_table, named as store_table_name()
 * gives, each (k bytea PRIMARY KEY, v bytea NOT NULL); bytea compares as
 * memcmp with a proper prefix first, the order store.h promises. The
 * migrations below are applied in order at open, each in its own
 * transaction recorded in schema_migrations, under a session advisory lock
 * so that replicas starting together apply each one once. A database with
 * a migration newer than this hearth's last is refused (STORE_ERR_SCHEMA).
 *
 * Connections: opened on demand, up to PG_IDLE_MAX kept idle for reuse
 * under a mutex; one is held per live transaction, so a thread holding a
 * read transaction may still write. At most st->pg->max are open at once:
 * past it a transaction waits up to PG_WAIT_MS for one to come back, then
 * fails with STORE_ERR_IO. A connection that fails is dropped and the next
 * transaction opens another; an idle one with something to read (the
 * server's goodbye) is dropped before use, and when BEGIN fails on one
 * every idle one is dropped and the last try opens a new connection. Every connection gets the
 * defaults of pg_defaults (timeouts, keepalives) unless the URI or the
 * environment sets them, so a database host that vanishes fails the
 * caller within seconds instead of blocking its event loop.
 *
 * Reads run in REPEATABLE READ READ ONLY transactions (one snapshot); the
 * results of store_get stay allocated until the transaction ends. Writes
 * run each store_write callback in its own SERIALIZABLE transaction and run
 * it again from scratch after a serialization failure or deadlock (40001,
 * 40P01), at most PG_RETRIES times; group commit is PostgreSQL's own
 * (concurrent connections committing). A failed statement spends the
 * transaction: every later operation in it returns the same error.
 */
#include "store_internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define PG_IDLE_MAX 8		/* idle connections kept per store */
#define PG_OPEN_MAX 64		/* open connections per store, by default */
#define PG_WAIT_MS 5000		/* wait for a connection past the cap */
#define PG_RETRIES 100		/* runs of one write callback */
#define PG_SCAN_BATCH 256	/* rows one scan query fetches */
#define PG_SQL_MAX 256		/* one statement's text */
#define PG_NAME_MAX 256		/* a location, password left out */
#define PG_LOCK_KEY "4739198431745069057"	/* advisory lock: migrations */

/*
 * The migrations, in order: element i brings the schema to version i + 1.
 * Never edit one that was released; append. A table appended to enum
 * store_table needs a migration creating it.
 */
#define PG_TABLE(name) "CREATE TABLE " name \
	" (k bytea PRIMARY KEY, v bytea NOT NULL);"
static const char *const pg_migrations[] = {
	/* 1: the fourteen tables of the first schema */
	PG_TABLE("meta") PG_TABLE("accounts") PG_TABLE("account_by_key")
	PG_TABLE("orders") PG_TABLE("order_by_account") PG_TABLE("authzs")
	PG_TABLE("authz_by_account") PG_TABLE("challenges")
	PG_TABLE("challenge_by_token") PG_TABLE("certs")
	PG_TABLE("cert_by_account") PG_TABLE("eab_keys") PG_TABLE("revoked")
	PG_TABLE("pending_authzs"),
	/* 2: what replicas share besides the records */
	PG_TABLE("used_nonces") PG_TABLE("limits") PG_TABLE("validations"),
};
#define PG_VERSION ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))
_Static_assert(STORE_T_COUNT == 17, "a new table needs a new migration");

struct store_pgconn {
	PGconn *conn;
	struct store_pgconn *next;
};

struct store_pg {
	char *conninfo;
	char name[PG_NAME_MAX];		/* for messages: no password */
	pthread_mutex_t mu;		/* guards idle, nidle, nopen, max */
	pthread_cond_t back;		/* a connection was put back or closed */
	struct store_pgconn *idle;
	unsigned nidle;
	unsigned nopen;			/* idle, in use, and being opened */
	unsigned max;			/* cap on nopen */
};

struct store_pgtxn {
	struct store_pgconn *c;
	PGresult **keep;		/* store_get results, until the end */
	size_t nkeep, capkeep;
	int spent;			/* a statement failed: err for all */
	int err;
	int retry;			/* it failed on a conflict */
};

/* The callback this thread runs, to refuse a store_write inside it. */
static _Thread_local const struct store *pg_writing;

static void
pg_notice_drop(void *arg, const char *msg)
{
	(void)arg, (void)msg;
}

/* The location without its password: postgresql://user@host:port/db. */
static int
pg_name(const char *uri, char *out, size_t len, char *errbuf, size_t errlen)
{
	PQconninfoOption *opts, *o;
	const char *user = "", *host = "", *port = "", *db = "";
	char *why = NULL;

	if ((opts = PQconninfoParse(uri, &why)) == NULL) {
		store_msg(errbuf, errlen, "PostgreSQL URI: %s", why != NULL ?
		    why : "out of memory");
		PQfreemem(why);
		return STORE_ERR_INVALID;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(out, len, "postgresql://%s%s%s%s%s/%s", user, *user ? "@" : "",
	    host, *port ? ":" : "", port, db);
	PQconninfoFree(opts);
	return STORE_OK;
}

/* libpq's last message without its trailing newline, into buf. */
static const char *
pg_why(PGconn *conn, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", conn != NULL ? PQerrorMessage(conn) :
	    "out of memory");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* ---- connections ------------------------------------------------------- */

static void pg_conn_put(struct store *st, struct store_pgconn *c, int drop);

/*
 * What every connection gets unless the URI (or the variable named, when
 * set) says otherwise: a connection attempt gives up after 5 s; keepalives
 * and tcp_user_timeout notice a peer that vanished without a reset within
 * about 10 s; a statement runs at most 10 s and the server ends a session
 * left idle inside a transaction for 60 s. Documented in
 * docs/high-availability.md.
 */
static const struct {
	const char *keyword, *value, *env;
} pg_defaults[] = {
	{ "connect_timeout", "5", "PGCONNECT_TIMEOUT" },
	{ "keepalives", "1", NULL },
	{ "keepalives_idle", "5", NULL },
	{ "keepalives_interval", "2", NULL },
	{ "keepalives_count", "3", NULL },
	{ "tcp_user_timeout", "10000", NULL },
	{ "options", "-c statement_timeout=10s "
	    "-c idle_in_transaction_session_timeout=60s", "PGOPTIONS" },
};
#define PG_NDEFAULTS (sizeof(pg_defaults) / sizeof(pg_defaults[0]))

/*
 * Fills kw and val (PG_NDEFAULTS + 2 entries each) for PQconnectdbParams
 * with expand_dbname: the defaults first, then the URI as dbname, so that
 * what the URI sets wins; the lists end with NULL.
 */
void
store_pg_params(const char *uri, const char **kw, const char **val)
{
	size_t i, n = 0;
	const char *e;

	for (i = 0; i < PG_NDEFAULTS; i++) {
		if (pg_defaults[i].env != NULL &&
		    (e = getenv(pg_defaults[i].env)) != NULL && *e != '\0')
			continue;
		kw[n] = pg_defaults[i].keyword;
		val[n++] = pg_defaults[i].value;
	}
	kw[n] = "dbname";
	val[n++] = uri;
	kw[n] = val[n] = NULL;
}

/* Opens a new connection into c->conn. */
static int
pg_connect(struct store *st, struct store_pgconn *c, char *errbuf,
    size_t errlen)
{
	const char *kw[PG_NDEFAULTS + 2], *val[PG_NDEFAULTS + 2];
	char why[256];

	store_pg_params(st->pg->conninfo, kw, val);
	c->conn = PQconnectdbParams(kw, val, 1);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
		store_msg(errbuf, errlen, "%s: cannot connect: %s", st->pg->name,
		    pg_why(c->conn, why, sizeof(why)));
		PQfinish(c->conn);
		c->conn = NULL;
		errno = ECONNREFUSED;
		return STORE_ERR_IO;
	}
	PQsetNoticeProcessor(c->conn, pg_notice_drop, NULL);
	return STORE_OK;
}

/* Nonzero when an idle connection has something to read: an idle one
 * gets nothing but the server's goodbye (a restart, a terminated backend)
 * or the end of the stream, so it is dead. */
static int
pg_conn_stale(struct store_pgconn *c)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(c->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

/* Under pg->mu: takes an idle connection into *c, or counts a new one in
 * (*c stays NULL), waiting until PG_WAIT_MS after start when max are open.
 * STORE_ERR_IO when none came back in time. */
static int
pg_conn_take(struct store_pg *pg, const struct timespec *start,
    struct store_pgconn **c)
{
	struct timespec until = *start;

	until.tv_sec += PG_WAIT_MS / 1000;
	until.tv_nsec += (long)(PG_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	*c = NULL;
	for (;;) {
		if ((*c = pg->idle) != NULL) {
			pg->idle = (*c)->next;
			pg->nidle--;
			return STORE_OK;
		}
		if (pg->nopen < pg->max) {
			pg->nopen++;
			return STORE_OK;
		}
		if (pthread_cond_timedwait(&pg->back, &pg->mu, &until) ==
		    ETIMEDOUT && pg->idle == NULL && pg->nopen >= pg->max) {
			errno = EAGAIN;
			return STORE_ERR_IO;
		}
	}
}

/* Counts a connection out that was counted in but never opened. */
static void
pg_conn_uncount(struct store_pg *pg)
{
	pthread_mutex_lock(&pg->mu);
	pg->nopen--;
	pthread_cond_signal(&pg->back);
	pthread_mutex_unlock(&pg->mu);
}

/* An idle connection that is still alive, or a new one. NULL with *rc set
 * on failure, STORE_ERR_IO also when max connections stayed in use for
 * PG_WAIT_MS. */
static struct store_pgconn *
pg_conn_get(struct store *st, int *rc, char *errbuf, size_t errlen)
{
	struct store_pg *pg = st->pg;
	struct store_pgconn *c;
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pthread_mutex_lock(&pg->mu);
		*rc = pg_conn_take(pg, &start, &c);
		pthread_mutex_unlock(&pg->mu);
		if (*rc != 0) {
			store_msg(errbuf, errlen, "%s: all %u connections stay "
			    "in use", pg->name, pg->max);
			return NULL;
		}
		if (c == NULL || !pg_conn_stale(c))
			break;
		pg_conn_put(st, c, 1);   /* closed, counted out */
	}
	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		pg_conn_uncount(pg);
		*rc = STORE_ERR_NOMEM;
		return NULL;
	}
	if ((*rc = pg_connect(st, c, errbuf, errlen)) != 0) {
		pg_conn_uncount(pg);
		free(c);
		return NULL;
	}
	return c;
}

/* Returns c to the idle list, or closes it when it failed, is inside a
 * transaction still, or enough are idle. */
static void
pg_conn_put(struct store *st, struct store_pgconn *c, int drop)
{
	struct store_pg *pg = st->pg;

	if (c == NULL)
		return;
	if (PQstatus(c->conn) != CONNECTION_OK ||
	    PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		drop = 1;
	pthread_mutex_lock(&pg->mu);
	if (!drop && pg->nidle < PG_IDLE_MAX) {
		c->next = pg->idle;
		pg->idle = c;
		pg->nidle++;
		c = NULL;
	} else
		pg->nopen--;
	pthread_cond_signal(&pg->back);
	pthread_mutex_unlock(&pg->mu);
	if (c != NULL) {
		PQfinish(c->conn);
		free(c);
	}
}

/* ---- statements -------------------------------------------------------- */

/* The STORE_* code for a failed result; sets *conflict for a
 * serialization failure or deadlock (the transaction may run again). */
static int
pg_err(const PGresult *res, PGconn *conn, int *conflict)
{
	const char *state;

	*conflict = 0;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL || PQstatus(conn) != CONNECTION_OK ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0) {
		errno = EIO;
		return STORE_ERR_IO;	/* unreachable, full, shutting down */
	}
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		*conflict = 1;
		errno = EAGAIN;
		return STORE_ERR_IO;
	}
	if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0)
		return STORE_ERR_CORRUPT;	/* no such table or column */
	if (strncmp(state, "54", 2) == 0)
		return STORE_ERR_INVALID;	/* a limit of the server's */
	return STORE_ERR_INTERNAL;
}

/* Runs sql with n binary parameters, binary results, in txn. The result,
 * or NULL with *rc set and the transaction spent. */
static PGresult *
pg_query(struct store_txn *txn, const char *sql, int n,
    const void *const *vals, const size_t *lens, int *rc)
{
	struct store_pgtxn *p = txn->pg;
	const char *v[2];
	int l[2], f[2] = { 1, 1 }, i, conflict;
	PGresult *res;

	if (p->spent) {
		*rc = p->err;
		return NULL;
	}
	for (i = 0; i < n && i < 2; i++) {
		v[i] = vals[i] != NULL ? vals[i] : "";
		l[i] = (int)lens[i];
	}
	res = PQexecParams(p->c->conn, sql, n, NULL, v, l, f, 1);
	if (res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK))
		return res;
	*rc = pg_err(res, p->c->conn, &conflict);
	PQclear(res);
	p->spent = 1;
	p->err = *rc;
	p->retry = conflict;
	txn->conflict = conflict;
	return NULL;
}

/* Runs a statement without parameters outside the record operations
 * (BEGIN, COMMIT, migrations). 0 or the STORE_* code; *conflict as
 * pg_err's. */
static int
pg_simple(PGconn *conn, const char *sql, int *conflict)
{
	PGresult *res;
	int rc = STORE_OK, c = 0;

	res = PQexec(conn, sql);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK))
		rc = pg_err(res, conn, &c);
	PQclear(res);
	if (conflict != NULL)
		*conflict = c;
	return rc;
}

/* Keeps res until the transaction ends. */
static int
pg_keep(struct store_pgtxn *p, PGresult *res)
{
	PGresult **k;
	size_t cap;

	if (p->nkeep == p->capkeep) {
		cap = p->capkeep == 0 ? 8 : p->capkeep * 2;
		if ((k = realloc(p->keep, cap * sizeof(*k))) == NULL)
			return STORE_ERR_NOMEM;
		p->keep = k;
		p->capkeep = cap;
	}
	p->keep[p->nkeep++] = res;
	return STORE_OK;
}

/* Frees what the transaction kept and forgets a spent statement. */
static void
pg_txn_reset(struct store_pgtxn *p)
{
	size_t i;

	for (i = 0; i < p->nkeep; i++)
		PQclear(p->keep[i]);
	p->nkeep = 0;
	p->spent = p->retry = 0;
	p->err = STORE_OK;
}

/* ---- migrations and open ----------------------------------------------- */

/* Reads the highest applied migration into *version. */
static int
pg_applied(PGconn *conn, int *version)
{
	PGresult *res;
	const char *s;
	char *end;
	long v;
	int rc = STORE_ERR_CORRUPT, c;

	res = PQexec(conn, "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_err(res, conn, &c);
		goto out;
	}
	if (PQntuples(res) != 1 || (s = PQgetvalue(res, 0, 0)) == NULL)
		goto out;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX)
		goto out;
	*version = (int)v;
	rc = STORE_OK;
out:
	PQclear(res);
	return rc;
}

/* Applies migration v (1-based) in a transaction of its own. On failure
 * the server's reason goes into why (len bytes), kept before the ROLLBACK
 * that would clear it. */
static int
pg_apply(PGconn *conn, int v, char *why, size_t len)
{
	char sql[64];
	int rc;

	if ((rc = pg_simple(conn, "BEGIN", NULL)) != 0)
		goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations (version) "
	    "VALUES (%d)", v);
	if ((rc = pg_simple(conn, pg_migrations[v - 1], NULL)) == 0 &&
	    (rc = pg_simple(conn, sql, NULL)) == 0 &&
	    (rc = pg_simple(conn, "COMMIT", NULL)) == 0)
		return STORE_OK;
	pg_why(conn, why, len);
	(void)pg_simple(conn, "ROLLBACK", NULL);
	return rc;
fail:
	pg_why(conn, why, len);
	return rc;
}

/*
 * Brings the schema to PG_VERSION under the advisory lock, refusing a newer
 * one; st->schema gets the version. The lock is a session's: it goes with
 * the connection when this fails and the caller drops it.
 */
static int
pg_migrate(struct store *st, PGconn *conn, char *errbuf, size_t errlen)
{
	char why[256];
	int rc, v = 0;

	if ((rc = pg_simple(conn, "SELECT pg_advisory_lock(" PG_LOCK_KEY ")",
	    NULL)) != 0 ||
	    (rc = pg_simple(conn, "CREATE TABLE IF NOT EXISTS schema_migrations "
	    "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL "
	    "DEFAULT now())", NULL)) != 0 ||
	    (rc = pg_applied(conn, &v)) != 0)
		goto fail;
	if (v > PG_VERSION) {
		store_msg(errbuf, errlen, "%s: database schema version %d is "
		    "newer than this hearth supports (%d); upgrade hearth",
		    st->pg->name, v, PG_VERSION);
		return STORE_ERR_SCHEMA;
	}
	for (; v < PG_VERSION; v++)
		if ((rc = pg_apply(conn, v + 1, why, sizeof(why))) != 0) {
			store_msg(errbuf, errlen, "%s: cannot apply schema "
			    "migration %d: %s", st->pg->name, v + 1, why);
			return rc;
		}
	if ((rc = pg_simple(conn, "SELECT pg_advisory_unlock(" PG_LOCK_KEY ")",
	    NULL)) != 0)
		goto fail;
	st->schema = v;
	return STORE_OK;
fail:
	store_msg(errbuf, errlen, "%s: cannot read the schema version: %s",
	    st->pg->name, pg_why(conn, why, sizeof(why)));
	return rc;
}

static void
pg_close(struct store *st)
{
	struct store_pgconn *c;

	if (st->pg != NULL) {
		while ((c = st->pg->idle) != NULL) {
			st->pg->idle = c->next;
			PQfinish(c->conn);
			free(c);
		}
		pthread_cond_destroy(&st->pg->back);
		pthread_mutex_destroy(&st->pg->mu);
		free(st->pg->conninfo);
		free(st->pg);
	}
	free(st);
}

/* A condition variable timed on CLOCK_MONOTONIC, as pg_conn_take waits. */
static void
pg_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

struct store *
store_pg_open(const char *uri, int *err, char *errbuf, size_t errlen)
{
	struct store *st = NULL;
	struct store_pgconn *c = NULL;
	int rc = STORE_ERR_NOMEM;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->pg = calloc(1, sizeof(*st->pg))) == NULL) {
		free(st);
		st = NULL;
		store_msg(errbuf, errlen, "PostgreSQL store: out of memory");
		goto fail;
	}
	st->ops = &store_pg_ops;
	st->shared = 1;		/* the point of a database server */
	pthread_mutex_init(&st->pg->mu, NULL);
	pg_cond_init(&st->pg->back);
	st->pg->max = PG_OPEN_MAX;
	if ((st->pg->conninfo = strdup(uri)) == NULL)
		goto fail;
	if ((rc = pg_name(uri, st->pg->name, sizeof(st->pg->name), errbuf,
	    errlen)) != 0)
		goto fail;
	if ((c = pg_conn_get(st, &rc, errbuf, errlen)) == NULL)
		goto fail;
	rc = pg_migrate(st, c->conn, errbuf, errlen);
	pg_conn_put(st, c, rc != 0);
	if (rc != 0)
		goto fail;
	if (err != NULL)
		*err = STORE_OK;
	return st;
fail:
	store_close(st);
	if (err != NULL)
		*err = rc;
	return NULL;
}

void
store_pg_set_max(struct store *st, unsigned n)
{
	pthread_mutex_lock(&st->pg->mu);
	st->pg->max = n > 0 ? n : 1;
	pthread_cond_broadcast(&st->pg->back);
	pthread_mutex_unlock(&st->pg->mu);
}

/* ---- transactions ------------------------------------------------------ */

/* Closes every idle connection: one that failed predicts the others (a
 * restart, a failover, a host gone), and each would cost a timeout. */
static void
pg_idle_drop(struct store *st)
{
	struct store_pg *pg = st->pg;
	struct store_pgconn *c, *next;

	pthread_mutex_lock(&pg->mu);
	c = pg->idle;
	pg->idle = NULL;
	pg->nopen -= pg->nidle;
	pg->nidle = 0;
	pthread_cond_broadcast(&pg->back);
	pthread_mutex_unlock(&pg->mu);
	for (; c != NULL; c = next) {
		next = c->next;
		PQfinish(c->conn);
		free(c);
	}
}

/* Takes a connection and runs begin on it. When that fails with
 * STORE_ERR_IO the idle connections go too, and one more try is made,
 * on a new connection then. */
static int
pg_txn_begin(struct store *st, struct store_pgtxn *p, const char *begin)
{
	int rc, tries;

	for (tries = 0; tries < 2; tries++) {
		if ((p->c = pg_conn_get(st, &rc, NULL, 0)) == NULL)
			return rc;
		if ((rc = pg_simple(p->c->conn, begin, NULL)) == 0)
			return STORE_OK;
		pg_conn_put(st, p->c, 1);
		p->c = NULL;
		if (rc != STORE_ERR_IO)
			break;
		pg_idle_drop(st);
	}
	return rc;
}

static int
pg_read_begin(struct store *st, struct store_txn **txn)
{
	struct store_txn *t;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->pg = calloc(1, sizeof(*t->pg))) == NULL) {
		free(t);
		return STORE_ERR_NOMEM;
	}
	t->st = st;
	if ((rc = pg_txn_begin(st, t->pg, "BEGIN ISOLATION LEVEL REPEATABLE "
	    "READ, READ ONLY")) != 0) {
		free(t->pg);
		free(t);
		return rc;
	}
	*txn = t;
	return STORE_OK;
}

static void
pg_read_end(struct store_txn *txn)
{
	struct store_pgtxn *p = txn->pg;
	int rc;

	rc = pg_simple(p->c->conn, p->spent ? "ROLLBACK" : "COMMIT", NULL);
	pg_conn_put(txn->st, p->c, rc != 0);
	pg_txn_reset(p);
	free(p->keep);
	free(p);
	free(txn);
}

/* How one run of a write callback ended. */
enum { PG_DONE, PG_AGAIN };

/* Runs fn once in the transaction t's connection has begun; its result
 * into *result. PG_AGAIN after a conflict: run it again. */
static int
pg_write_once(struct store_txn *t, store_write_fn fn, void *arg, int *result)
{
	struct store_pgtxn *p = t->pg;
	int rc, conflict = 0;

	pg_writing = t->st;
	rc = fn(t, arg);
	pg_writing = NULL;
	if (p->spent || rc != 0) {
		(void)pg_simple(p->c->conn, "ROLLBACK", NULL);
		if (p->retry)
			return PG_AGAIN;
		/* A failed statement fn let pass still fails the write. */
		*result = rc != 0 ? rc : p->err;
		return PG_DONE;
	}
	if ((rc = pg_simple(p->c->conn, "COMMIT", &conflict)) != 0 && conflict)
		return PG_AGAIN;
	*result = rc;
	return PG_DONE;
}

/* Waits before the next run after a conflict: a random time up to 1, 2,
 * 4 ... 64 ms, so that writers that collided do not collide again. */
static void
pg_backoff(int tries)
{
	static _Thread_local unsigned seed;
	struct timespec ts;
	long cap = 1000000L << (tries < 6 ? tries : 6);

	if (seed == 0)
		seed = (unsigned)(uintptr_t)&ts ^ (unsigned)time(NULL);
	ts = (struct timespec){ 0, (long)(rand_r(&seed) % cap) };
	nanosleep(&ts, NULL);
}

static int
pg_write(struct store *st, store_write_fn fn, void *arg)
{
	struct store_pgtxn p = { 0 };
	struct store_txn t = { .st = st, .write = 1, .pg = &p };
	int rc = STORE_ERR_IO, tries, how;

	if (pg_writing == st)
		return STORE_ERR_INVALID;	/* called from a callback */
	for (tries = 0; tries < PG_RETRIES; tries++) {
		if ((rc = pg_txn_begin(st, &p, "BEGIN ISOLATION LEVEL "
		    "SERIALIZABLE")) != 0)
			break;
		t.conflict = 0;
		how = pg_write_once(&t, fn, arg, &rc);
		pg_conn_put(st, p.c, how == PG_DONE && rc == STORE_ERR_IO);
		p.c = NULL;
		pg_txn_reset(&p);
		if (how == PG_DONE)
			break;
		rc = STORE_ERR_IO;	/* still conflicting after the last */
		pg_backoff(tries);
	}
	free(p.keep);
	return rc;
}

/* ---- records ----------------------------------------------------------- */

static int
pg_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen)
{
	const void *vals[1] = { key };
	char sql[PG_SQL_MAX];
	PGresult *res;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT v FROM %s WHERE k = $1",
	    store_table_name(t));
	if ((res = pg_query(txn, sql, 1, vals, &keylen, &rc)) == NULL)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return STORE_NOTFOUND;
	}
	if (pg_keep(txn->pg, res) != 0) {
		PQclear(res);
		return STORE_ERR_NOMEM;
	}
	*val = PQgetvalue(res, 0, 0);
	*vallen = (size_t)PQgetlength(res, 0, 0);
	return STORE_OK;
}

/* The number of rows a command touched: 0 or 1 here. */
static int
pg_touched(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n != NULL && strcmp(n, "0") != 0 && *n != '\0';
}

static int
pg_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags)
{
	const void *vals[2] = { key, val };
	size_t lens[2] = { keylen, vallen };
	char sql[PG_SQL_MAX];
	PGresult *res;
	int rc;

	if (vallen > INT_MAX)
		return STORE_ERR_INVALID;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (k, v) VALUES ($1, $2) "
	    "ON CONFLICT (k) DO %s", store_table_name(t),
	    (flags & STORE_PUT_NEW) ? "NOTHING" : "UPDATE SET v = EXCLUDED.v");
	if ((res = pg_query(txn, sql, 2, vals, lens, &rc)) == NULL)
		return rc;
	rc = pg_touched(res) ? STORE_OK : STORE_EXISTS;
	PQclear(res);
	return rc;
}

static int
pg_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	const void *vals[1] = { key };
	char sql[PG_SQL_MAX];
	PGresult *res;
	int rc;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE k = $1",
	    store_table_name(t));
	if ((res = pg_query(txn, sql, 1, vals, &keylen, &rc)) == NULL)
		return rc;
	rc = pg_touched(res) ? STORE_OK : STORE_NOTFOUND;
	PQclear(res);
	return rc;
}

/* The least key greater than every key beginning with prefix, into out:
 * the prefix with trailing 0xff bytes dropped and its last byte raised.
 * 0 when there is none (the prefix is empty or all 0xff). */
static size_t
pg_prefix_end(const void *prefix, size_t len, unsigned char *out)
{
	memcpy(out, prefix, len);
	while (len > 0 && out[len - 1] == 0xff)
		len--;
	if (len > 0)
		out[len - 1]++;
	return len;
}

/* One scan's bounds as it goes: keys greater than (or, before the first
 * batch, not less than) low, and less than high when highlen > 0. */
struct pg_range {
	unsigned char low[STORE_MAX_KEY], high[STORE_MAX_KEY];
	size_t lowlen, highlen;
	int strict;
};

/* Fetches the next batch of rows in range r. */
static PGresult *
pg_scan_batch(struct store_txn *txn, enum store_table t,
    const struct pg_range *r, int *rc)
{
	const void *vals[2] = { r->low, r->high };
	size_t lens[2] = { r->lowlen, r->highlen };
	char sql[PG_SQL_MAX];

	snprintf(sql, sizeof(sql), "SELECT k, v FROM %s WHERE k %s $1%s "
	    "ORDER BY k LIMIT %d", store_table_name(t), r->strict ? ">" : ">=",
	    r->highlen > 0 ? " AND k < $2" : "", PG_SCAN_BATCH);
	return pg_query(txn, sql, r->highlen > 0 ? 2 : 1, vals, lens, rc);
}

/* Calls fn on every row of res; the last key becomes r's low bound.
 * 0 to go on, 1 when fn stopped, or a negative code. */
static int
pg_scan_rows(PGresult *res, struct pg_range *r, store_scan_fn fn, void *arg)
{
	int i, n = PQntuples(res), frc;
	size_t kl;

	for (i = 0; i < n; i++) {
		kl = (size_t)PQgetlength(res, i, 0);
		if (kl == 0 || kl > STORE_MAX_KEY)
			return STORE_ERR_CORRUPT;
		frc = fn(PQgetvalue(res, i, 0), kl, PQgetvalue(res, i, 1),
		    (size_t)PQgetlength(res, i, 1), arg);
		if (frc != 0)
			return frc < 0 ? frc : 1;
		memcpy(r->low, PQgetvalue(res, i, 0), kl);
		r->lowlen = kl;
		r->strict = 1;
	}
	return STORE_OK;
}

static int
pg_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg)
{
	struct pg_range r;
	PGresult *res;
	int rc = STORE_OK, n;

	r.highlen = pg_prefix_end(prefix, prefixlen, r.high);
	r.strict = after != NULL &&
	    store_keycmp(after, afterlen, prefix, prefixlen) >= 0;
	r.lowlen = r.strict ? afterlen : prefixlen;
	memcpy(r.low, r.strict ? after : prefix, r.lowlen);
	do {
		if ((res = pg_scan_batch(txn, t, &r, &rc)) == NULL)
			return rc;
		n = PQntuples(res);
		rc = pg_scan_rows(res, &r, fn, arg);
		PQclear(res);
	} while (rc == STORE_OK && n == PG_SCAN_BATCH);
	return rc == 1 ? STORE_OK : rc;
}

/* ---- usage, backup ----------------------------------------------------- */

/* The database's size and block size; readers_used counts this process's
 * connections (idle and in use). No map: map_bytes is 0. */
static int
pg_usage(struct store *st, struct store_usage *out)
{
	struct store_pgconn *c;
	PGresult *res;
	int rc, conflict;

	if ((c = pg_conn_get(st, &rc, NULL, 0)) == NULL)
		return rc;
	res = PQexec(c->conn, "SELECT pg_database_size(current_database()), "
	    "current_setting('block_size')");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		rc = pg_err(res, c->conn, &conflict);
		goto out;
	}
	out->file_bytes = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	out->page_bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	if (out->page_bytes > 0)
		out->pages_used = out->file_bytes / out->page_bytes;
	pthread_mutex_lock(&st->pg->mu);
	out->readers_used = st->pg->nopen;
	pthread_mutex_unlock(&st->pg->mu);
	rc = STORE_OK;
out:
	PQclear(res);
	pg_conn_put(st, c, rc != 0);
	return rc;
}

static int
pg_backup(struct store *st, const char *dest_dir, char *errbuf,
    size_t errlen)
{
	store_msg(errbuf, errlen, "%s: a PostgreSQL store is backed up with "
	    "pg_dump (or the server's own backups), not into %s", st->pg->name,
	    dest_dir);
	return STORE_ERR_INVALID;
}

const struct store_ops store_pg_ops = {
	.close = pg_close,
	.usage = pg_usage,
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.write = pg_write,
	.get = pg_get,
	.put = pg_put,
	.del = pg_del,
	.scan = pg_scan,
	.backup = pg_backup,
};
