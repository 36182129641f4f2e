/*
 * test_store.c: the store.h contract on the LMDB backend: durability across
 * close and open, every table, conflicts, deletes, prefix scans with
 * pagination, aborted writes, argument checks, map growth (in one process,
 * to a ceiling, and by another process), schema versions, and damaged or
 * unreachable directories. Each case works in its own directory under
 * $HEARTH_TEST_TMP and removes it afterwards.
 *
 * With HEARTH_TEST_PG_URI set (the store/test_store_pg variant) the cases
 * of the contract both backends keep (tables, records, arguments, aborted
 * writes, scans) run on that PostgreSQL database instead, each on an
 * emptied database; test_pg.c has PostgreSQL's own cases.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "check.h"
#include "pgcase.h"
#include "store.h"
#include "store_internal.h"

#define MiB ((size_t)1 << 20)
#define BIG_VAL MiB

static char tmp_base[512];

/* ---- helpers ---------------------------------------------------------- */

/* Makes a fresh directory for one case into out. */
static int
mkcase(char *out, size_t len, const char *name)
{
	int n;

	if (pgcase_uri() != NULL)
		return pgcase_reset(out, len);
	n = snprintf(out, len, "%s/%s.XXXXXX", tmp_base, name);
	if (n < 0 || (size_t)n >= len || mkdtemp(out) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

static void
rmtree(const char *path)
{
	char sub[1024];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if (lstat(path, &sb) != 0)
		return;
	if (!S_ISDIR(sb.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static struct store *
open_ok(const char *dir)
{
	char errbuf[512] = "";
	struct store *st;
	int err = 1;

	st = store_open(dir, &err, errbuf, sizeof(errbuf));
	CHECK(st != NULL);
	CHECK_EQ_INT(err, STORE_OK);
	if (st == NULL)
		fprintf(stderr, "store_open %s: %s\n", dir, errbuf);
	return st;
}

struct put_args {
	enum store_table t;
	const char *key;
	const char *val;
	unsigned flags;
};

static int
put_fn(struct store_txn *txn, void *arg)
{
	const struct put_args *p = arg;

	return store_put(txn, p->t, p->key, strlen(p->key), p->val,
	    strlen(p->val), p->flags);
}

static int
put_str(struct store *st, enum store_table t, const char *key,
    const char *val, unsigned flags)
{
	struct put_args p = { t, key, val, flags };

	return store_write(st, put_fn, &p);
}

static int
del_fn(struct store_txn *txn, void *arg)
{
	const struct put_args *p = arg;

	return store_del(txn, p->t, p->key, strlen(p->key));
}

static int
del_str(struct store *st, enum store_table t, const char *key)
{
	struct put_args p = { t, key, NULL, 0 };

	return store_write(st, del_fn, &p);
}

/* Reads key of t as a string into buf; the store's return code. */
static int
get_str(struct store *st, enum store_table t, const char *key, char *buf,
    size_t len)
{
	struct store_txn *txn = NULL;
	const void *val;
	size_t vallen;
	int rc;

	buf[0] = '\0';
	if ((rc = store_read_begin(st, &txn)) != 0)
		return rc;
	rc = store_get(txn, t, key, strlen(key), &val, &vallen);
	if (rc == 0) {
		if (vallen >= len)
			vallen = len - 1;
		memcpy(buf, val, vallen);
		buf[vallen] = '\0';
	}
	store_read_end(txn);
	return rc;
}

/* ---- open, reopen, tables ---------------------------------------------- */

static void
test_create_reopen(void)
{
	char base[512], dir[600], buf[64];
	struct stat sb;
	struct store *st;

	if (mkcase(base, sizeof(base), "reopen") != 0)
		return;
	snprintf(dir, sizeof(dir), "%s/new", base);	/* absent: created */
	if ((st = open_ok(dir)) == NULL)
		goto out;
	CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_EQ_INT(sb.st_mode & 0777, 0700);
	CHECK_EQ_INT(store_schema_version(st), STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(store_map_size(st), STORE_MAP_INITIAL);
	CHECK(!store_shared(st));
	CHECK_EQ_INT(get_str(st, STORE_T_META, STORE_META_SCHEMA_KEY, buf,
	    sizeof(buf)), STORE_OK);
	CHECK_EQ_STR(buf, "1");
	CHECK_EQ_INT(put_str(st, STORE_T_ACCOUNTS, "acct-1", "alice", 0), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_CERTS, "0a1b", "cert", 0), 0);
	store_close(st);

	/* Reopened: the same data, nothing re-initialised. */
	if ((st = open_ok(dir)) == NULL)
		goto out;
	CHECK_EQ_INT(store_schema_version(st), STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNTS, "acct-1", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "alice");
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "0a1b", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "cert");
	store_close(st);
out:
	rmtree(base);
}

static void
test_tables(void)
{
	static const char *names[STORE_T_COUNT] = { "meta", "accounts",
	    "account_by_key", "orders", "order_by_account", "authzs",
	    "authz_by_account", "challenges", "challenge_by_token", "certs",
	    "cert_by_account", "eab_keys", "revoked", "pending_authzs",
	    "used_nonces", "limits", "validations" };
	char dir[512], buf[64];
	struct store *st;
	int i;

	for (i = 0; i < STORE_T_COUNT; i++)
		CHECK_EQ_STR(store_table_name(i), names[i]);
	CHECK(store_table_name(STORE_T_COUNT) == NULL);
	CHECK(store_table_name((enum store_table)-1) == NULL);

	if (mkcase(dir, sizeof(dir), "tables") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	/* The same key in every table, each with its own value. */
	for (i = 0; i < STORE_T_COUNT; i++)
		CHECK_EQ_INT(put_str(st, i, "same-key", names[i], 0), 0);
	store_close(st);
	if ((st = open_ok(dir)) == NULL)
		goto out;
	for (i = 0; i < STORE_T_COUNT; i++) {
		CHECK_EQ_INT(get_str(st, i, "same-key", buf, sizeof(buf)), 0);
		CHECK_EQ_STR(buf, names[i]);
	}
	CHECK_EQ_INT(del_str(st, STORE_T_ORDERS, "same-key"), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_ORDERS, "same-key", buf, sizeof(buf)),
	    STORE_NOTFOUND);
	CHECK_EQ_INT(get_str(st, STORE_T_AUTHZS, "same-key", buf, sizeof(buf)),
	    0);
	store_close(st);
out:
	rmtree(dir);
}

/* ---- put, delete, arguments -------------------------------------------- */

static int
empty_val_fn(struct store_txn *txn, void *arg)
{
	return store_put(txn, STORE_T_ORDER_BY_ACCOUNT, "a/o", 3, NULL, 0, 0);
}

static void
test_put_del(struct store *st)
{
	struct store_txn *txn = NULL;
	const void *val;
	size_t vallen = 99;
	char buf[64];

	CHECK_EQ_INT(put_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", "acct-1",
	    STORE_PUT_NEW), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", "acct-2",
	    STORE_PUT_NEW), STORE_EXISTS);
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", buf,
	    sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "acct-1");
	CHECK_EQ_INT(put_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", "acct-3", 0), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", buf,
	    sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "acct-3");

	CHECK_EQ_INT(get_str(st, STORE_T_ORDERS, "never", buf, sizeof(buf)),
	    STORE_NOTFOUND);
	CHECK_EQ_INT(del_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb"), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb", buf,
	    sizeof(buf)), STORE_NOTFOUND);
	CHECK_EQ_INT(del_str(st, STORE_T_ACCOUNT_BY_KEY, "thumb"), STORE_NOTFOUND);

	/* Index records have empty values. */
	CHECK_EQ_INT(store_write(st, empty_val_fn, NULL), 0);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDER_BY_ACCOUNT, "a/o", 3, &val,
	    &vallen), 0);
	CHECK_EQ_INT(vallen, 0);
	store_read_end(txn);
}

static char key511[STORE_MAX_KEY + 1];

static int
bad_args_fn(struct store_txn *txn, void *arg)
{
	const void *val;
	size_t vallen;

	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, "k", 0, "v", 1, 0),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, key511, STORE_MAX_KEY + 1,
	    "v", 1, 0), STORE_ERR_INVALID);
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, NULL, 1, "v", 1, 0),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_put(txn, STORE_T_COUNT, "k", 1, "v", 1, 0),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, "k", 1, NULL, 1, 0),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, "k", 1, "v", 1, 0x4),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_del(txn, STORE_T_ORDERS, "k", 0), STORE_ERR_INVALID);
	CHECK_EQ_INT(store_del(txn, STORE_T_ORDERS, key511, 512),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, "k", 0, &val, &vallen),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, key511, 512, &val, &vallen),
	    STORE_ERR_INVALID);
	/* The longest key works. */
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, key511, STORE_MAX_KEY, "v",
	    1, 0), 0);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, key511, STORE_MAX_KEY,
	    &val, &vallen), 0);
	CHECK_EQ_INT(vallen, 1);
	/* Nested writes are refused, not deadlocked. */
	CHECK_EQ_INT(store_write(txn->st, empty_val_fn, NULL), STORE_ERR_INVALID);
	return 0;
}

static void
test_arguments(struct store *st)
{
	struct store_txn *txn = NULL;
	const void *val;
	size_t vallen;
	char errbuf[128];
	int err = 0;

	memset(key511, 'k', sizeof(key511));
	CHECK_EQ_INT(store_write(st, bad_args_fn, NULL), 0);
	CHECK_EQ_INT(store_write(NULL, bad_args_fn, NULL), STORE_ERR_INVALID);
	CHECK_EQ_INT(store_write(st, NULL, NULL), STORE_ERR_INVALID);
	CHECK_EQ_INT(store_read_begin(st, NULL), STORE_ERR_INVALID);
	CHECK(store_open(NULL, &err, errbuf, sizeof(errbuf)) == NULL);
	CHECK_EQ_INT(err, STORE_ERR_INVALID);
	CHECK(store_open("", &err, NULL, 0) == NULL);

	/* A read transaction refuses writes. */
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	CHECK_EQ_INT(store_put(txn, STORE_T_ORDERS, "r", 1, "v", 1, 0),
	    STORE_ERR_READONLY);
	CHECK_EQ_INT(store_del(txn, STORE_T_ORDERS, key511, STORE_MAX_KEY),
	    STORE_ERR_READONLY);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, "r", 1, &val, &vallen),
	    STORE_NOTFOUND);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, key511, STORE_MAX_KEY,
	    &val, &vallen), 0);
	CHECK_EQ_INT(store_get(txn, STORE_T_ORDERS, "r", 1, NULL, &vallen),
	    STORE_ERR_INVALID);
	store_read_end(txn);

	store_close(NULL);
	store_read_end(NULL);
}

static void
test_strerror(void)
{
	int i, j;

	for (i = STORE_ERR_INTERNAL; i <= STORE_OK; i++) {
		CHECK(store_strerror(i) != NULL);
		CHECK(strcmp(store_strerror(i), "unknown store error") != 0);
		for (j = STORE_ERR_INTERNAL; j < i; j++)
			CHECK(strcmp(store_strerror(i), store_strerror(j)) != 0);
	}
	CHECK_EQ_STR(store_strerror(-11), "unknown store error");
	CHECK_EQ_STR(store_strerror(1), "unknown store error");
}

/* ---- failed writes ------------------------------------------------------ */

static int
fail_late_fn(struct store_txn *txn, void *arg)
{
	int rc;

	if ((rc = store_put(txn, STORE_T_ORDERS, "o-1", 3, "new", 3, 0)) != 0)
		return rc;
	if ((rc = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, "a/o-1", 5, "", 0,
	    0)) != 0)
		return rc;
	if ((rc = store_del(txn, STORE_T_ACCOUNTS, "acct", 4)) != 0)
		return rc;
	return *(int *)arg;
}

static void
test_abort(struct store *st)
{
	char buf[64];
	int fail = -77;

	CHECK_EQ_INT(put_str(st, STORE_T_ORDERS, "o-1", "old", 0), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_ACCOUNTS, "acct", "a", 0), 0);
	CHECK_EQ_INT(store_write(st, fail_late_fn, &fail), -77);
	fail = 5;	/* positive values abort too */
	CHECK_EQ_INT(store_write(st, fail_late_fn, &fail), 5);
	/* A store error inside the callback aborts what came before it. */
	CHECK_EQ_INT(put_str(st, STORE_T_AUTHZS, "taken", "x", 0), 0);
	fail = STORE_EXISTS;
	CHECK_EQ_INT(store_write(st, fail_late_fn, &fail), STORE_EXISTS);

	CHECK_EQ_INT(get_str(st, STORE_T_ORDERS, "o-1", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "old");
	CHECK_EQ_INT(get_str(st, STORE_T_ORDER_BY_ACCOUNT, "a/o-1", buf,
	    sizeof(buf)), STORE_NOTFOUND);
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNTS, "acct", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "a");

	fail = 0;
	CHECK_EQ_INT(store_write(st, fail_late_fn, &fail), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_ORDERS, "o-1", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "new");
	CHECK_EQ_INT(get_str(st, STORE_T_ACCOUNTS, "acct", buf, sizeof(buf)),
	    STORE_NOTFOUND);
}

/* ---- scan --------------------------------------------------------------- */

struct collect {
	char keys[64][32];
	int n;
	int stop_at;	/* return 1 after this many; 0: never */
	int fail_at;	/* return -42 after this many; 0: never */
};

static int
collect_fn(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct collect *c = arg;

	if (c->n == 64 || keylen >= sizeof(c->keys[0]))
		return -1;
	memcpy(c->keys[c->n], key, keylen);
	c->keys[c->n][keylen] = '\0';
	c->n++;
	if (c->stop_at != 0 && c->n == c->stop_at)
		return 1;
	if (c->fail_at != 0 && c->n == c->fail_at)
		return -42;
	return 0;
}

static int
scan_fill_fn(struct store_txn *txn, void *arg)
{
	static const char *others[] = { "acct0/x", "acct1", "acct10/z",
	    "acct2/y", "b" };
	char key[32];
	size_t i;
	int rc;

	for (i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "acct1/o%02zu", i);
		if ((rc = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, key,
		    strlen(key), "", 0, STORE_PUT_NEW)) != 0)
			return rc;
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if ((rc = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, others[i],
		    strlen(others[i]), "", 0, STORE_PUT_NEW)) != 0)
			return rc;
	return 0;
}

static int
scan(struct store_txn *txn, const char *prefix, const char *after,
    struct collect *c)
{
	return store_scan(txn, STORE_T_ORDER_BY_ACCOUNT, prefix,
	    prefix ? strlen(prefix) : 0, after, after ? strlen(after) : 0,
	    collect_fn, c);
}

/* Pages through "acct1/" ten at a time, as a listing endpoint would. */
static void
test_scan_pages(struct store_txn *txn)
{
	struct collect c;
	char after[32] = "", want[32];
	int page, i, total = 0;

	for (page = 0; page < 4; page++) {
		memset(&c, 0, sizeof(c));
		c.stop_at = 10;
		CHECK_EQ_INT(scan(txn, "acct1/", page ? after : NULL, &c), 0);
		for (i = 0; i < c.n; i++) {
			snprintf(want, sizeof(want), "acct1/o%02d", total + i);
			CHECK_EQ_STR(c.keys[i], want);
		}
		total += c.n;
		CHECK_EQ_INT(c.n, page < 2 ? 10 : page == 2 ? 5 : 0);
		if (c.n > 0)
			snprintf(after, sizeof(after), "%s", c.keys[c.n - 1]);
	}
	CHECK_EQ_INT(total, 25);
}

static void
test_scan(struct store *st)
{
	struct store_txn *txn = NULL;
	struct collect c;

	CHECK_EQ_INT(store_write(st, scan_fill_fn, NULL), 0);
	if (store_read_begin(st, &txn) != 0) {
		CHECK(0);
		return;
	}
	test_scan_pages(txn);

	/* The whole table, in key order; "a/o" and "a/o-1" are from
	 * test_put_del and test_abort. */
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(scan(txn, NULL, NULL, &c), 0);
	CHECK_EQ_INT(c.n, 32);
	CHECK_EQ_STR(c.keys[0], "a/o");
	CHECK_EQ_STR(c.keys[1], "a/o-1");
	CHECK_EQ_STR(c.keys[2], "acct0/x");
	CHECK_EQ_STR(c.keys[3], "acct1");
	CHECK_EQ_STR(c.keys[4], "acct1/o00");
	CHECK_EQ_STR(c.keys[28], "acct1/o24");
	CHECK_EQ_STR(c.keys[29], "acct10/z");
	CHECK_EQ_STR(c.keys[31], "b");
	memset(&c, 0, sizeof(c));	/* a prefix that is itself a key */
	CHECK_EQ_INT(scan(txn, "acct1", "acct1/o24", &c), 0);
	CHECK_EQ_INT(c.n, 1);
	CHECK_EQ_STR(c.keys[0], "acct10/z");

	memset(&c, 0, sizeof(c));	/* after sorts before the prefix */
	CHECK_EQ_INT(scan(txn, "acct1/", "a", &c), 0);
	CHECK_EQ_INT(c.n, 25);
	memset(&c, 0, sizeof(c));	/* after is not a key */
	CHECK_EQ_INT(scan(txn, "acct1/", "acct1/o05x", &c), 0);
	CHECK_EQ_INT(c.n, 19);
	CHECK_EQ_STR(c.keys[0], "acct1/o06");
	memset(&c, 0, sizeof(c));	/* after is past every match */
	CHECK_EQ_INT(scan(txn, "acct1/", "acct1/z", &c), 0);
	CHECK_EQ_INT(c.n, 0);
	memset(&c, 0, sizeof(c));	/* nothing has the prefix */
	CHECK_EQ_INT(scan(txn, "acct3/", NULL, &c), 0);
	CHECK_EQ_INT(c.n, 0);
	memset(&c, 0, sizeof(c));	/* past the last key of the table */
	CHECK_EQ_INT(scan(txn, "c", NULL, &c), 0);
	CHECK_EQ_INT(c.n, 0);
	memset(&c, 0, sizeof(c));	/* a negative return ends the scan */
	c.fail_at = 3;
	CHECK_EQ_INT(scan(txn, "acct1/", NULL, &c), -42);
	CHECK_EQ_INT(c.n, 3);
	memset(&c, 0, sizeof(c));	/* an empty table */
	CHECK_EQ_INT(store_scan(txn, STORE_T_CERT_BY_ACCOUNT, "", 0, NULL, 0,
	    collect_fn, &c), 0);
	CHECK_EQ_INT(c.n, 0);
	CHECK_EQ_INT(store_scan(txn, STORE_T_COUNT, "", 0, NULL, 0, collect_fn,
	    &c), STORE_ERR_INVALID);
	CHECK_EQ_INT(store_scan(txn, STORE_T_ORDERS, "", 0, NULL, 0, NULL, &c),
	    STORE_ERR_INVALID);
	CHECK_EQ_INT(store_scan(txn, STORE_T_ORDERS, key511, 512, NULL, 0,
	    collect_fn, &c), STORE_ERR_INVALID);
	store_read_end(txn);
}

/* ---- map growth --------------------------------------------------------- */

struct big {
	unsigned char *buf;
	unsigned char *want;
	int first;
	int count;
};

static void
big_fill(unsigned char *buf, int i)
{
	size_t j;

	for (j = 0; j < BIG_VAL; j += 4096)
		memset(buf + j, (unsigned char)(i * 7 + j / 4096), 4096);
	memcpy(buf, &i, sizeof(i));
}

static int
big_put_fn(struct store_txn *txn, void *arg)
{
	struct big *b = arg;
	char key[32];
	int i, rc;

	for (i = b->first; i < b->first + b->count; i++) {
		snprintf(key, sizeof(key), "big/%06d", i);
		big_fill(b->buf, i);
		if ((rc = store_put(txn, STORE_T_CERTS, key, strlen(key),
		    b->buf, BIG_VAL, STORE_PUT_NEW)) != 0)
			return rc;
	}
	return 0;
}

/* Checks records first..first+count-1; returns how many matched. */
static int
big_check(struct store *st, struct big *b, int first, int count)
{
	struct store_txn *txn = NULL;
	const void *val;
	size_t vallen;
	char key[32];
	int i, ok = 0;

	if (store_read_begin(st, &txn) != 0)
		return 0;
	for (i = first; i < first + count; i++) {
		snprintf(key, sizeof(key), "big/%06d", i);
		if (store_get(txn, STORE_T_CERTS, key, strlen(key), &val,
		    &vallen) != 0 || vallen != BIG_VAL)
			continue;
		big_fill(b->want, i);
		ok += memcmp(val, b->want, BIG_VAL) == 0;
	}
	store_read_end(txn);
	return ok;
}

static void
test_growth(struct big *b)
{
	char dir[512];
	struct store *st;
	int i, rc;

	if (mkcase(dir, sizeof(dir), "growth") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	/* 200 MiB in twenty writes: the 64 MiB map doubles twice. */
	for (i = 0; i < 20; i++) {
		b->first = i * 10;
		b->count = 10;
		if ((rc = store_write(st, big_put_fn, b)) != 0)
			break;
	}
	CHECK_EQ_INT(i, 20);
	CHECK(store_map_size(st) >= 200 * MiB);
	/* One write that overflows the grown map by itself. */
	b->first = 200;
	b->count = 100;
	CHECK(store_map_size(st) < 300 * MiB);
	CHECK_EQ_INT(store_write(st, big_put_fn, b), 0);
	CHECK(store_map_size(st) >= 300 * MiB);
	store_close(st);

	if ((st = open_ok(dir)) == NULL)
		goto out;
	CHECK(store_map_size(st) >= 300 * MiB);	/* the grown size is kept */
	CHECK_EQ_INT(big_check(st, b, 0, 300), 300);
	store_close(st);
out:
	rmtree(dir);
}

/* At the ceiling a write fails as a whole and the store stays usable. */
static void
test_ceiling(struct big *b)
{
	char dir[512], buf[8];
	struct store *st;

	if (mkcase(dir, sizeof(dir), "ceiling") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	store_set_map_max(st, STORE_MAP_INITIAL);
	b->first = 0;
	b->count = 80;
	CHECK_EQ_INT(store_write(st, big_put_fn, b), STORE_ERR_FULL);
	CHECK_EQ_INT(store_map_size(st), STORE_MAP_INITIAL);
	CHECK(!store_shared(st));
	CHECK_EQ_INT(big_check(st, b, 0, 1), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_META, "after", "ok", 0), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_META, "after", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "ok");
	store_close(st);
out:
	rmtree(dir);
}

struct readers {
	struct store *st;
	atomic_int stop;
	atomic_int errors;
	atomic_int reads;
	atomic_int holding;	/* the holder has its snapshot */
	atomic_int held_ok;	/* and its record was intact at the end */
};

static void *
reader_main(void *arg)
{
	struct readers *r = arg;
	char buf[16];

	while (!atomic_load(&r->stop)) {
		if (get_str(r->st, STORE_T_META, "probe", buf, sizeof(buf)) != 0 ||
		    strcmp(buf, "here") != 0)
			atomic_fetch_add(&r->errors, 1);
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

/* Holds a pointer into the map across the writer's growth: the resize must
 * wait for this transaction, or the pointer dangles. */
static void *
holder_main(void *arg)
{
	struct timespec nap = { 0, 300 * 1000 * 1000 };
	struct readers *r = arg;
	struct store_txn *txn = NULL;
	unsigned char *want;
	const void *val = NULL;
	size_t vallen = 0;

	if ((want = malloc(BIG_VAL)) == NULL ||
	    store_read_begin(r->st, &txn) != 0 ||
	    store_get(txn, STORE_T_CERTS, "big/000000", 10, &val, &vallen) != 0 ||
	    vallen != BIG_VAL)
		goto out;
	atomic_store(&r->holding, 1);
	nanosleep(&nap, NULL);
	big_fill(want, 0);
	atomic_store(&r->held_ok, memcmp(val, want, BIG_VAL) == 0);
out:
	atomic_store(&r->holding, 1);
	store_read_end(txn);
	free(want);
	return NULL;
}

/* Readers in other threads keep working while a writer grows the map. */
static void
test_growth_readers(struct big *b)
{
	struct timespec nap = { 0, 1000 * 1000 };
	struct readers r = { 0 };
	pthread_t th[3];
	char dir[512];
	int i, started = 0;

	if (mkcase(dir, sizeof(dir), "readers") != 0)
		return;
	if ((r.st = open_ok(dir)) == NULL)
		goto out;
	CHECK_EQ_INT(put_str(r.st, STORE_T_META, "probe", "here", 0), 0);
	b->first = 0;
	b->count = 10;
	CHECK_EQ_INT(store_write(r.st, big_put_fn, b), 0);
	for (i = 0; i < 2; i++)
		started += pthread_create(&th[i], NULL, reader_main, &r) == 0;
	started += pthread_create(&th[2], NULL, holder_main, &r) == 0;
	CHECK_EQ_INT(started, 3);
	while (started == 3 && !atomic_load(&r.holding))
		nanosleep(&nap, NULL);
	for (i = 1; i < 8; i++) {
		b->first = i * 10;
		b->count = 10;
		CHECK_EQ_INT(store_write(r.st, big_put_fn, b), 0);
	}
	atomic_store(&r.stop, 1);
	for (i = 0; i < 3 && started == 3; i++)
		pthread_join(th[i], NULL);
	CHECK(store_map_size(r.st) > STORE_MAP_INITIAL);
	CHECK_EQ_INT(atomic_load(&r.errors), 0);
	CHECK(atomic_load(&r.reads) > 0);
	CHECK_EQ_INT(atomic_load(&r.held_ok), 1);
	store_close(r.st);
out:
	rmtree(dir);
}

/* Grows the store in dir from a child process: 70 records from first. */
static int
grow_elsewhere(const char *dir, struct big *b, int first)
{
	struct store *st;
	pid_t pid;
	int status, rc = 1;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((st = store_open(dir, &rc, NULL, 0)) != NULL) {
			b->first = first;
			b->count = 70;
			rc = store_write(st, big_put_fn, b) != 0;
			store_close(st);
		}
		_exit(rc != 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Another process grows the map under an open store (MDB_MAP_RESIZED). */
static void
test_resized_elsewhere(struct big *b)
{
	char dir[512], buf[8];
	struct store *st;

	if (mkcase(dir, sizeof(dir), "resized") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	/* Read transactions adopt the new size. */
	CHECK_EQ_INT(grow_elsewhere(dir, b, 0), 0);
	CHECK_EQ_INT(big_check(st, b, 0, 70), 70);
	CHECK(store_map_size(st) > STORE_MAP_INITIAL);
	/* So do write transactions. */
	CHECK_EQ_INT(grow_elsewhere(dir, b, 70), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_META, "w", "ok", 0), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_META, "w", buf, sizeof(buf)), 0);
	CHECK_EQ_INT(big_check(st, b, 70, 70), 70);
	store_close(st);
out:
	rmtree(dir);
}

/* ---- what store_open refuses -------------------------------------------- */

/* Expects store_open(dir) to fail with want and a message naming dir. */
static void
open_fails(const char *dir, int want, const char *msg)
{
	char errbuf[512] = "";
	struct store *st;
	int err = 0;

	st = store_open(dir, &err, errbuf, sizeof(errbuf));
	CHECK(st == NULL);
	store_close(st);
	CHECK_EQ_INT(err, want);
	CHECK(strstr(errbuf, dir) == errbuf);
	if (msg != NULL)
		CHECK_EQ_STR(errbuf, msg);
}

static void
test_schema(void)
{
	char dir[512], msg[700];
	struct store *st;

	if (mkcase(dir, sizeof(dir), "schema") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	CHECK_EQ_INT(put_str(st, STORE_T_META, STORE_META_SCHEMA_KEY, "7", 0), 0);
	store_close(st);
	snprintf(msg, sizeof(msg), "%s: database schema version 7 is newer "
	    "than this hearth supports (1); upgrade hearth", dir);
	open_fails(dir, STORE_ERR_SCHEMA, msg);

	/* A malformed version is damage, not a newer store. */
	rmtree(dir);
	if (mkcase(dir, sizeof(dir), "schema") != 0)
		return;
	if ((st = open_ok(dir)) == NULL)
		goto out;
	CHECK_EQ_INT(put_str(st, STORE_T_META, STORE_META_SCHEMA_KEY, "01", 0), 0);
	store_close(st);
	open_fails(dir, STORE_ERR_CORRUPT, NULL);
out:
	rmtree(dir);
}

static void
write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(fwrite(buf, 1, len, f) == len);
	fclose(f);
}

/* Creates a plain LMDB environment in dir holding one record. */
static void
write_foreign_lmdb(const char *dir)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { 3, "foo" }, v = { 3, "bar" };

	CHECK_EQ_INT(mdb_env_create(&env), 0);
	CHECK_EQ_INT(mdb_env_open(env, dir, 0, 0600), 0);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_garbage(void)
{
	static unsigned char junk[16384];
	char dir[512];

	memset(junk, 0xa5, sizeof(junk));
	if (mkcase(dir, sizeof(dir), "garbage") != 0)
		return;
	write_file(dir, "data.mdb", junk, sizeof(junk));
	open_fails(dir, STORE_ERR_CORRUPT, NULL);
	write_file(dir, "data.mdb", "not a database\n", 15);	/* short */
	open_fails(dir, STORE_ERR_CORRUPT, NULL);
	rmtree(dir);

	/* A sound LMDB environment that hearth did not write. */
	if (mkcase(dir, sizeof(dir), "foreign") != 0)
		return;
	write_foreign_lmdb(dir);
	open_fails(dir, STORE_ERR_CORRUPT, NULL);
	rmtree(dir);
}

static void
test_unreachable(void)
{
	char base[512], dir[600];
	struct store *st;

	if (mkcase(base, sizeof(base), "unreach") != 0)
		return;
	/* A path through a regular file fails for root too. */
	write_file(base, "file", "x", 1);
	snprintf(dir, sizeof(dir), "%s/file/store", base);
	open_fails(dir, STORE_ERR_IO, NULL);

	/* Permissions do not bind root, so these only run as another user. */
	if (geteuid() != 0) {
		snprintf(dir, sizeof(dir), "%s/ro", base);
		CHECK_EQ_INT(mkdir(dir, 0500), 0);
		snprintf(dir, sizeof(dir), "%s/ro/store", base);
		open_fails(dir, STORE_ERR_IO, NULL);	/* cannot mkdir */

		snprintf(dir, sizeof(dir), "%s/locked", base);
		if ((st = open_ok(dir)) != NULL)
			store_close(st);
		CHECK_EQ_INT(chmod(dir, 0), 0);
		open_fails(dir, STORE_ERR_IO, NULL);	/* cannot open */
	}
	rmtree(base);
}

/* STORE_PUT_APPEND is a hint: a key below the last one, an existing key
 * with and without STORE_PUT_NEW, all end as without it. */
static void
test_append(struct store *st)
{
	static const char *keys[] = { "t05", "t07", "t06" };
	struct store_txn *txn = NULL;
	struct collect c;
	char buf[64];
	size_t i;

	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(put_str(st, STORE_T_CERTS, keys[i], keys[i],
		    STORE_PUT_NEW | STORE_PUT_APPEND), 0);
	CHECK_EQ_INT(put_str(st, STORE_T_CERTS, "t07", "again",
	    STORE_PUT_NEW | STORE_PUT_APPEND), STORE_EXISTS);
	CHECK_EQ_INT(put_str(st, STORE_T_CERTS, "t05", "again",
	    STORE_PUT_NEW | STORE_PUT_APPEND), STORE_EXISTS);
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "t07", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "t07");
	CHECK_EQ_INT(put_str(st, STORE_T_CERTS, "t07", "new",
	    STORE_PUT_APPEND), 0);
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "t07", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "new");
	CHECK_EQ_INT(get_str(st, STORE_T_CERTS, "t06", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "t06");
	memset(&c, 0, sizeof(c));
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	CHECK_EQ_INT(store_scan(txn, STORE_T_CERTS, "t0", 2, NULL, 0,
	    collect_fn, &c), 0);
	store_read_end(txn);
	CHECK_EQ_INT(c.n, 3);
	CHECK_EQ_STR(c.keys[0], "t05");
	CHECK_EQ_STR(c.keys[1], "t06");
	CHECK_EQ_STR(c.keys[2], "t07");
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(del_str(st, STORE_T_CERTS, keys[i]), 0);
}

int
main(void)
{
	char dir[512];
	const char *tmp;
	struct store *st;
	struct big b;

	if ((tmp = getenv("HEARTH_TEST_TMP")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(tmp_base, sizeof(tmp_base), "%s", tmp);

	test_strerror();
	if (pgcase_uri() == NULL)
		test_create_reopen();
	test_tables();
	if (mkcase(dir, sizeof(dir), "records") == 0) {
		if ((st = open_ok(dir)) != NULL) {
			test_put_del(st);
			test_append(st);
			test_arguments(st);
			test_abort(st);
			test_scan(st);
			store_close(st);
		}
		rmtree(dir);
	}
	if (pgcase_uri() != NULL)	/* the rest is LMDB's own */
		return CHECK_DONE();
	test_schema();
	test_garbage();
	test_unreachable();

	b.buf = malloc(BIG_VAL);
	b.want = malloc(BIG_VAL);
	if (b.buf != NULL && b.want != NULL) {
		test_growth(&b);
		test_ceiling(&b);
		test_growth_readers(&b);
		test_resized_elsewhere(&b);
	} else
		CHECK(0);
	free(b.buf);
	free(b.want);
	return CHECK_DONE();
}
