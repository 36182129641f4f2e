/*
 * table.c: LMDB's record operations on the store's tables (get, put, del,
 * scan) and the mapping of LMDB errors to STORE_* codes. store.c has
 * checked the arguments every backend shares. Works only through a
 * transaction from lmdb.c; opens and resizes nothing.
 */
#include "store_internal.h"

#include <errno.h>
#include <string.h>

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

/* A transaction that hit a full map is spent: store_write() reruns it, so
 * fail fast until then. */
static int
store_check(const struct store_txn *txn)
{
	if (txn->txn == NULL)
		return STORE_ERR_INVALID;
	if (txn->mapfull)
		return STORE_ERR_FULL;
	return STORE_OK;
}

int
store_lmdb_get(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void **val, size_t *vallen)
{
	MDB_val k, v;
	int rc;

	if ((rc = store_check(txn)) != 0)
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
store_lmdb_put(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen, const void *val, size_t vallen, unsigned flags)
{
	MDB_val k, v;
	int rc;

	if ((rc = store_check(txn)) != 0)
		return rc;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	v.mv_data = val != NULL ? (void *)val : (void *)"";
	v.mv_size = vallen;
	rc = MDB_KEYEXIST;
	/* MDB_APPEND refuses a key not above the last one before it changes
	 * anything; the ordinary put then decides. */
	if (flags & STORE_PUT_APPEND)
		rc = mdb_put(txn->txn, txn->st->dbi[t], &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn->txn, txn->st->dbi[t], &k, &v,
		    (flags & STORE_PUT_NEW) ? MDB_NOOVERWRITE : 0);
	if (rc == MDB_MAP_FULL)
		txn->mapfull = 1;
	return store_lmdb_err(rc);
}

int
store_lmdb_del(struct store_txn *txn, enum store_table t, const void *key,
    size_t keylen)
{
	MDB_val k;
	int rc;

	if ((rc = store_check(txn)) != 0)
		return rc;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	/* Copy-on-write: a delete can need fresh pages too. */
	if ((rc = mdb_del(txn->txn, txn->st->dbi[t], &k, NULL)) == MDB_MAP_FULL)
		txn->mapfull = 1;
	return store_lmdb_err(rc);
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
store_lmdb_scan(struct store_txn *txn, enum store_table t, const void *prefix,
    size_t prefixlen, const void *after, size_t afterlen, store_scan_fn fn,
    void *arg)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, frc = 0;

	if ((rc = store_check(txn)) != 0)
		return rc;
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
