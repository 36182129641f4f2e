/*
 * table.c: record operations on the store's tables (get, put, del, scan),
 * the table names, and the mapping of LMDB errors to STORE_* codes. Works
 * only through a transaction from lmdb.c; opens and resizes nothing.
 */
#include "store_internal.h"

#include <errno.h>
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

int
store_lmdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_KEYEXIST:
		return STORE_EXISTS;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:	/* one transaction dirtied too many pages */
		return STORE_ERR_FULL;
	case MDB_BAD_VALSIZE:
	case EINVAL:
		return STORE_ERR_INVALID;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return STORE_ERR_CORRUPT;
	case ENOMEM:
		return STORE_ERR_NOMEM;
	default:
		if (rc > 0) {
			errno = rc;
			return STORE_ERR_IO;
		}
		return STORE_ERR_INTERNAL;
	}
}

/* Checks what every record operation takes. A transaction that hit a full
 * map is spent: store_write() reruns it, so fail fast until then. */
static int
store_check(const struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	if (txn == NULL || txn->txn == NULL || (unsigned)t >= STORE_T_COUNT)
		return STORE_ERR_INVALID;
	if (key == NULL || keylen == 0 || keylen > STORE_MAX_KEY)
		return STORE_ERR_INVALID;
	if (txn->mapfull)
		return STORE_ERR_FULL;
	return STORE_OK;
}

int
store_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen)
{
	MDB_val k, v;
	int rc;

	if (val == NULL || vallen == NULL)
		return STORE_ERR_INVALID;
	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	if ((rc = mdb_get(txn->txn, txn->st->dbi[t], &k, &v)) != 0)
		return store_lmdb_err(rc);
	*val = v.mv_data;
	*vallen = v.mv_size;
	return STORE_OK;
}

int
store_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags)
{
	MDB_val k, v;
	int rc;

	if ((flags & ~(unsigned)STORE_PUT_NEW) != 0 ||
	    (val == NULL && vallen != 0))
		return STORE_ERR_INVALID;
	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	if (!txn->write)
		return STORE_ERR_READONLY;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = val != NULL ? (void *)val : (void *)"";
	v.mv_size = vallen;
	rc = mdb_put(txn->txn, txn->st->dbi[t], &k, &v,
	    (flags & STORE_PUT_NEW) ? MDB_NOOVERWRITE : 0);
	if (rc == MDB_MAP_FULL)
		txn->mapfull = 1;
	return store_lmdb_err(rc);
}

int
store_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	MDB_val k;
	int rc;

	if ((rc = store_check(txn, t, key, keylen)) != 0)
		return rc;
	if (!txn->write)
		return STORE_ERR_READONLY;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	/* Copy-on-write: a delete can need fresh pages too. */
	if ((rc = mdb_del(txn->txn, txn->st->dbi[t], &k, NULL)) == MDB_MAP_FULL)
		txn->mapfull = 1;
	return store_lmdb_err(rc);
}

/* memcmp order on byte strings, a proper prefix sorting first. */
static int
store_keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c;

	if ((c = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/*
 * Puts cursor c on the first key of the scan: the first key greater than
 * after, or not less than prefix, whichever is later. Every key with the
 * prefix sorts at or after the prefix itself, so seeking the larger of the
 * two is enough.
 */
static int
store_scan_seek(MDB_cursor *c, MDB_val *k, MDB_val *v, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen)
{
	int rc;

	if (after != NULL && afterlen > 0 &&
	    store_keycmp(after, afterlen, prefix, prefixlen) >= 0) {
		k->mv_data = (void *)after;
		k->mv_size = afterlen;
		if ((rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE)) != 0)
			return rc;
		if (store_keycmp(k->mv_data, k->mv_size, after, afterlen) != 0)
			return 0;
		return mdb_cursor_get(c, k, v, MDB_NEXT);
	}
	if (prefixlen == 0)
		return mdb_cursor_get(c, k, v, MDB_FIRST);
	k->mv_data = (void *)prefix;
	k->mv_size = prefixlen;
	return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

int
store_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, frc = 0;

	if (txn == NULL || txn->txn == NULL || (unsigned)t >= STORE_T_COUNT ||
	    fn == NULL || prefixlen > STORE_MAX_KEY || afterlen > STORE_MAX_KEY ||
	    (prefix == NULL && prefixlen != 0) || (after == NULL && afterlen != 0))
		return STORE_ERR_INVALID;
	if (txn->mapfull)
		return STORE_ERR_FULL;
	if (prefix == NULL)
		prefix = "";
	if ((rc = mdb_cursor_open(txn->txn, txn->st->dbi[t], &c)) != 0) {
		rc = store_lmdb_err(rc);
		goto out;
	}
	rc = store_scan_seek(c, &k, &v, prefix, prefixlen, after, afterlen);
	while (rc == 0) {
		if (k.mv_size < prefixlen || memcmp(k.mv_data, prefix, prefixlen))
			break;	/* past the keys with the prefix */
		if ((frc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    arg)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (frc != 0)
		rc = frc < 0 ? frc : STORE_OK;	/* stopped by fn */
	else if (rc == MDB_NOTFOUND)
		rc = STORE_OK;			/* no more records */
	else
		rc = store_lmdb_err(rc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}
