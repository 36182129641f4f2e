/*
 * copy.c: store_copy(), every record of one store into another through the
 * store.h functions only, so it works between any two backends (`hearth
 * store migrate` copies LMDB into PostgreSQL with it). The source is read
 * in one snapshot, in key order, COPY_BATCH records at a time; each batch
 * is one write into the target, appended (STORE_PUT_APPEND: keys come in
 * order, so an LMDB target's pages end full). Never logs.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define COPY_BATCH 256		/* records per write into the target */

struct copy_rec {
	unsigned char *key, *val;
	size_t keylen, vallen;
};

/* One batch: the records read, then written. */
struct copy_batch {
	enum store_table t;
	struct copy_rec rec[COPY_BATCH];
	size_t n;
	int full;		/* the scan stopped at COPY_BATCH */
	unsigned char last[STORE_MAX_KEY];
	size_t lastlen;
};

/* Whether a key of t is the store's own bookkeeping, never copied. */
static int
copy_skipped(enum store_table t, const void *key, size_t keylen)
{
	return t == STORE_T_META && keylen == strlen(STORE_META_SCHEMA_KEY) &&
	    memcmp(key, STORE_META_SCHEMA_KEY, keylen) == 0;
}

static void
copy_batch_clear(struct copy_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->rec[i].key);
		free(b->rec[i].val);
	}
	b->n = 0;
	b->full = 0;
}

static int
copy_collect_fn(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg)
{
	struct copy_batch *b = arg;
	struct copy_rec *r = &b->rec[b->n];

	memcpy(b->last, key, keylen);
	b->lastlen = keylen;
	if (copy_skipped(b->t, key, keylen))
		return 0;
	if ((r->key = malloc(keylen)) == NULL ||
	    (r->val = malloc(vallen > 0 ? vallen : 1)) == NULL) {
		free(r->key);
		return STORE_ERR_NOMEM;
	}
	memcpy(r->key, key, keylen);
	memcpy(r->val, val, vallen);
	r->keylen = keylen;
	r->vallen = vallen;
	if (++b->n == COPY_BATCH) {
		b->full = 1;
		return 1;
	}
	return 0;
}

static int
copy_put_fn(struct store_txn *txn, void *arg)
{
	const struct copy_batch *b = arg;
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++)
		if ((rc = store_put(txn, b->t, b->rec[i].key, b->rec[i].keylen,
		    b->rec[i].val, b->rec[i].vallen,
		    STORE_PUT_NEW | STORE_PUT_APPEND)) != 0)
			return rc;
	return STORE_OK;
}

/* Copies table t of the snapshot rt into dst; *copied counts records. */
static int
copy_table(struct store_txn *rt, struct store *dst, enum store_table t,
    struct copy_batch *b, uint64_t *copied)
{
	int rc, more;

	b->t = t;
	b->lastlen = 0;
	*copied = 0;
	for (;;) {
		rc = store_scan(rt, t, NULL, 0, b->lastlen ? b->last : NULL,
		    b->lastlen, copy_collect_fn, b);
		more = b->full;
		if (rc == 0 && b->n > 0)
			rc = store_write(dst, copy_put_fn, b);
		if (rc == 0)
			*copied += b->n;
		copy_batch_clear(b);
		if (rc != 0 || !more)
			return rc;
	}
}

/* Counts the records of t in st that copying would write. */
static int
copy_count_fn(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg)
{
	struct copy_batch *b = arg;

	if (!copy_skipped(b->t, key, keylen))
		b->n++;
	return 0;
}

static int
copy_count(struct store *st, enum store_table t, struct copy_batch *b,
    uint64_t *n)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_read_begin(st, &txn)) != 0)
		return rc;
	b->t = t;
	b->n = 0;
	rc = store_scan(txn, t, NULL, 0, NULL, 0, copy_count_fn, b);
	store_read_end(txn);
	*n = b->n;
	b->n = 0;
	return rc;
}

/* Refuses a target holding records already. */
static int
copy_check_empty(struct store *dst, struct copy_batch *b, char *errbuf,
    size_t errlen)
{
	uint64_t n;
	int t, rc;

	for (t = 0; t < STORE_T_COUNT; t++) {
		if ((rc = copy_count(dst, t, b, &n)) != 0)
			return rc;
		if (n > 0) {
			store_msg(errbuf, errlen, "the target store is not "
			    "empty: table %s holds %llu records",
			    store_table_name(t), (unsigned long long)n);
			return STORE_EXISTS;
		}
	}
	return STORE_OK;
}

int
store_copy(struct store *src, struct store *dst,
    uint64_t counts[STORE_T_COUNT], char *errbuf, size_t errlen)
{
	struct store_txn *rt = NULL;
	struct copy_batch *b;
	uint64_t n;
	int t, rc;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (src == NULL || dst == NULL || counts == NULL || src == dst)
		return STORE_ERR_INVALID;
	memset(counts, 0, STORE_T_COUNT * sizeof(counts[0]));
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return STORE_ERR_NOMEM;
	if ((rc = copy_check_empty(dst, b, errbuf, errlen)) != 0)
		goto out;
	if ((rc = store_read_begin(src, &rt)) != 0)
		goto out;
	for (t = 0; t < STORE_T_COUNT && rc == 0; t++)
		rc = copy_table(rt, dst, t, b, &counts[t]);
	store_read_end(rt);
	if (rc != 0) {
		store_msg(errbuf, errlen, "cannot copy table %s: %s",
		    store_table_name(t - 1), store_strerror(rc));
		goto out;
	}
	for (t = 0; t < STORE_T_COUNT; t++) {
		if ((rc = copy_count(dst, t, b, &n)) != 0)
			goto out;
		if (n != counts[t]) {
			store_msg(errbuf, errlen, "table %s: %llu records copied "
			    "but %llu found in the target", store_table_name(t),
			    (unsigned long long)counts[t], (unsigned long long)n);
			rc = STORE_ERR_INTERNAL;
			goto out;
		}
	}
out:
	free(b);
	return rc;
}
