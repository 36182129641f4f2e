/*
 * store.c: the store.h functions every caller uses, in front of the two
 * backends. Checks the arguments the backends share (handles, table, key
 * and prefix lengths, flags, writes in a read transaction), then calls the
 * backend through its struct store_ops: lmdb.c for a directory, pg.c for a
 * postgresql:// or postgres:// URI. Also the table names, the error names
 * and the key order both backends keep. Never logs.
 */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const store_table_names[STORE_T_COUNT] = {
	[STORE_T_META] = "meta",
	[STORE_T_ACCOUNTS] = "accounts",
	[STORE_T_ACCOUNT_BY_KEY] = "account_by_key",
	[STORE_T_ORDERS] = "orders",
	[STORE_T_ORDER_BY_ACCOUNT] = "order_by_account",
	[STORE_T_AUTHZS] = "authzs",
	[STORE_T_AUTHZ_BY_ACCOUNT] = "authz_by_account",
	[STORE_T_CHALLENGES] = "challenges",
	[STORE_T_CHALLENGE_BY_TOKEN] = "challenge_by_token",
	[STORE_T_CERTS] = "certs",
	[STORE_T_CERT_BY_ACCOUNT] = "cert_by_account",
	[STORE_T_EAB_KEYS] = "eab_keys",
	[STORE_T_REVOKED] = "revoked",
	[STORE_T_PENDING_AUTHZS] = "pending_authzs",
	[STORE_T_USED_NONCES] = "used_nonces",
	[STORE_T_LIMITS] = "limits",
	[STORE_T_VALIDATIONS] = "validations",
};

const char *
store_table_name(enum store_table t)
{
	if ((unsigned)t >= STORE_T_COUNT)
		return NULL;
	return store_table_names[t];
}

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "success";
	case STORE_NOTFOUND:
		return "record not found";
	case STORE_EXISTS:
		return "record already exists";
	case STORE_ERR_INVALID:
		return "invalid argument";
	case STORE_ERR_IO:
		return "operating system error";
	case STORE_ERR_SCHEMA:
		return "database written by a newer hearth";
	case STORE_ERR_CORRUPT:
		return "database damaged or not a hearth store";
	case STORE_ERR_NOMEM:
		return "out of memory";
	case STORE_ERR_FULL:
		return "database full: the map cannot grow any further";
	case STORE_ERR_READONLY:
		return "write attempted in a read transaction";
	case STORE_ERR_INTERNAL:
		return "internal store error";
	default:
		return "unknown store error";
	}
}


/* memcmp order on byte strings, a proper prefix sorting first. */
int
store_keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c;

	if ((c = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return c;
	return (alen > blen) - (alen < blen);
}


void
store_msg(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

int
store_is_pg(const char *location)
{
	return location != NULL &&
	    (strncmp(location, "postgresql://", 13) == 0 ||
	    strncmp(location, "postgres://", 11) == 0);
}

struct store *
store_open(const char *location, int *err, char *errbuf, size_t errlen)
{
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (location == NULL || *location == '\0') {
		store_msg(errbuf, errlen, "store location not given");
		if (err != NULL)
			*err = STORE_ERR_INVALID;
		return NULL;
	}
	if (store_is_pg(location))
		return store_pg_open(location, err, errbuf, errlen);
	return store_lmdb_open(location, err, errbuf, errlen);
}

void
store_set_max_connections(struct store *st, unsigned n)
{
	if (st != NULL && st->ops == &store_pg_ops)
		store_pg_set_max(st, n);
}

int
store_in_use(const char *location, long *pid)
{
	*pid = 0;
	if (location == NULL || *location == '\0')
		return STORE_ERR_INVALID;
	if (store_is_pg(location))
		return 0;
	return store_lmdb_in_use(location, pid);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_shared(const struct store *st)
{
	return st != NULL && st->shared;
}

uint64_t
store_io_failures(const struct store *st)
{
	return st != NULL ? atomic_load_explicit(&st->io_failures,
	    memory_order_relaxed) : 0;
}

/* STORE_ERR_IO seen by this thread, any store (store_thread_io_failures). */
static _Thread_local uint64_t thread_io_failures;

uint64_t
store_thread_io_failures(void)
{
	return thread_io_failures;
}

/* Counts a STORE_ERR_IO of st; returns rc. */
static int
store_counted(struct store *st, int rc)
{
	if (rc == STORE_ERR_IO) {
		atomic_fetch_add_explicit(&st->io_failures, 1,
		    memory_order_relaxed);
		thread_io_failures++;
	}
	return rc;
}

/* store_counted() for an operation in txn: a conflict that runs the write
 * again is not counted. */
static int
store_txn_counted(struct store_txn *txn, int rc)
{
	return txn->conflict ? rc : store_counted(txn->st, rc);
}

int
store_schema_version(const struct store *st)
{
	if (st == NULL)
		return STORE_ERR_INVALID;
	return st->schema;
}

int
store_usage(struct store *st, struct store_usage *out)
{
	if (out == NULL)
		return STORE_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return STORE_ERR_INVALID;
	return st->ops->usage(st, out);
}

int
store_read_begin(struct store *st, struct store_txn **txn)
{
	if (st == NULL || txn == NULL)
		return STORE_ERR_INVALID;
	*txn = NULL;
	return store_counted(st, st->ops->read_begin(st, txn));
}

void
store_read_end(struct store_txn *txn)
{
	if (txn == NULL || txn->write)
		return;
	txn->st->ops->read_end(txn);
}

int
store_write(struct store *st, store_write_fn fn, void *arg)
{
	if (st == NULL || fn == NULL)
		return STORE_ERR_INVALID;
	return store_counted(st, st->ops->write(st, fn, arg));
}

/* Checks what every record operation takes. */
static int
store_check(const struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	if (txn == NULL || txn->st == NULL || (unsigned)t >= STORE_T_COUNT)
		return STORE_ERR_INVALID;
	if (key == NULL || keylen == 0 || keylen > STORE_MAX_KEY)
		return STORE_ERR_INVALID;
	return STORE_OK;
}

int
store_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen)
{
	int rc;

	if (val == NULL || vallen == NULL)
		return STORE_ERR_INVALID;
	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	return store_txn_counted(txn, txn->st->ops->get(txn, t, key, keylen,
	    val, vallen));
}

int
store_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags)
{
	int rc;

	if ((flags & ~(unsigned)(STORE_PUT_NEW | STORE_PUT_APPEND)) != 0 ||
	    (val == NULL && vallen != 0))
		return STORE_ERR_INVALID;
	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	if (!txn->write)
		return STORE_ERR_READONLY;
	return store_txn_counted(txn, txn->st->ops->put(txn, t, key, keylen,
	    val, vallen, flags));
}

int
store_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	int rc;

	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	if (!txn->write)
		return STORE_ERR_READONLY;
	return store_txn_counted(txn, txn->st->ops->del(txn, t, key, keylen));
}

int
store_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg)
{
	if (txn == NULL || txn->st == NULL || (unsigned)t >= STORE_T_COUNT ||
	    fn == NULL || prefixlen > STORE_MAX_KEY || afterlen > STORE_MAX_KEY ||
	    (prefix == NULL && prefixlen != 0) || (after == NULL && afterlen != 0))
		return STORE_ERR_INVALID;
	if (prefix == NULL)
		prefix = "";
	if (afterlen == 0)
		after = NULL;
	return store_txn_counted(txn, txn->st->ops->scan(txn, t, prefix,
	    prefixlen, after, afterlen, fn, arg));
}

int
store_backup(struct store *st, const char *dest_dir, char *errbuf,
    size_t errlen)
{
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (st == NULL || dest_dir == NULL || *dest_dir == '\0')
		return STORE_ERR_INVALID;
	return st->ops->backup(st, dest_dir, errbuf, errlen);
}
