/*
 * cleanup.c: removes what no client can use any more, in the background and
 * in small transactions: orders and authorizations (with their challenges
 * and index entries) once they have been expired for the retention window,
 * and certificates once that long past their notAfter. A valid order goes
 * like any other once its certificate record carries its own identifiers
 * (every record written since they do); for older records it stays while
 * the certificate does, since `certs show` and revocation by another
 * account read the names from it.
 *
 * Each call looks at a bounded number of records per table from where the
 * previous call stopped (a cursor per table, wrapping at the end) in a read
 * transaction, then deletes what it found in one short write transaction
 * that checks every record again. Orders and authorizations have ids that
 * begin with their creation time, so a scan stops at the first id too young
 * to have expired. Time is passed in; nothing here reads a clock.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

#define CLEANUP_SCAN  1024   /* records looked at per table and call */
#define CLEANUP_BATCH 64     /* records removed per table and call */

enum { C_ORDERS, C_AUTHZS, C_CERTS };

struct sweep {
	struct acme *a;
	int which;
	time_t now, retention;
	struct store_txn *txn;          /* the read transaction of the scan */
	size_t seen;
	char ids[CLEANUP_BATCH][ACME_CLEANUP_KEY + 1];
	size_t n;
	char last[ACME_CLEANUP_KEY + 1];
	size_t last_len;
	int young;                      /* stopped at a record too young */
};

/* Creation time from an id made by acme_id_new ("8 hex of time" first). */
static time_t
id_time(const char *key, size_t len)
{
	char hex[9];

	if (len < 8)
		return 0;
	memcpy(hex, key, 8);
	hex[8] = '\0';
	return (time_t)strtoul(hex, NULL, 16);
}

/* The longest an id of this table may live after its creation before it
 * can be removed, or -1 when it depends on the record alone. */
static time_t
horizon(int which)
{
	if (which == C_ORDERS)
		return ACME_ORDER_LIFETIME;
	if (which == C_AUTHZS)
		return ACME_AUTHZ_PENDING_LIFETIME + ACME_AUTHZ_VALID_LIFETIME;
	return -1;
}

/* A valid order past its retention goes once its certificate's record
 * stands alone (it carries the identifiers, certrec.c) or is gone; older
 * records still need the order for their names, and keep it. */
static int
valid_order_removable(struct store_txn *txn, const char *serial)
{
	const void *v = NULL;
	size_t vl = 0;
	cJSON *c;
	int ok, rc;

	rc = store_get(txn, STORE_T_CERTS, serial, strlen(serial), &v, &vl);
	if (rc == STORE_NOTFOUND)
		return 1;
	if (rc != STORE_OK || (c = cJSON_ParseWithLength(v, vl)) == NULL)
		return 0;               /* keep it; a store error is looked at again */
	ok = acme_cert_rec_standalone(c);
	cJSON_Delete(c);
	return ok;
}

/* Nonzero when the record (key id) of the sweep's table can go. */
static int
removable(const struct sweep *w, struct store_txn *txn, const cJSON *o)
{
	const char *st = acme_json_str(o, "status"), *serial;

	if (w->which == C_CERTS)
		return acme_json_time(o, "notAfter") + w->retention < w->now;
	if (acme_json_time(o, "expires") + w->retention >= w->now)
		return 0;
	if (w->which == C_ORDERS && st != NULL && strcmp(st, "valid") == 0 &&
	    (serial = acme_json_str(o, "cert")) != NULL)
		return valid_order_removable(txn, serial);
	return 1;
}

static const enum store_table tables[] = {
	STORE_T_ORDERS, STORE_T_AUTHZS, STORE_T_CERTS,
};

static int
sweep_cb(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct sweep *w = arg;
	time_t h = horizon(w->which);
	cJSON *o;
	int gone;

	if (keylen > ACME_CLEANUP_KEY)
		return 0;
	if (h >= 0 && id_time(key, keylen) + h + w->retention >= w->now) {
		w->young = 1;
		return 1;
	}
	memcpy(w->last, key, keylen);
	w->last_len = keylen;
	if ((o = cJSON_ParseWithLength(val, vallen)) != NULL) {
		gone = removable(w, w->txn, o);
		cJSON_Delete(o);
		if (gone) {
			memcpy(w->ids[w->n], key, keylen);
			w->ids[w->n][keylen] = '\0';
			w->n++;
		}
	}
	return ++w->seen >= CLEANUP_SCAN || w->n == CLEANUP_BATCH;
}

/* ---- deleting one record with everything that points at it ---- */

static int
del_order(struct store_txn *txn, const char *id, const cJSON *o)
{
	char key[STORE_MAX_KEY + 1];
	int ret = store_del(txn, STORE_T_ORDERS, id, strlen(id));

	snprintf(key, sizeof(key), "%s/%s", acme_json_str(o, "account"), id);
	if (ret == 0 && store_del(txn, STORE_T_ORDER_BY_ACCOUNT, key,
	    strlen(key)) == STORE_ERR_IO)
		ret = STORE_ERR_IO;
	return ret;
}

static int
del_challenge(struct store_txn *txn, const char *cid)
{
	cJSON *c = acme_record_get(txn, STORE_T_CHALLENGES, cid);
	const char *token = c != NULL ? acme_json_str(c, "token") : NULL;
	int ret = 0;

	/* entries written by older versions; nothing writes them now */
	if (token != NULL)
		(void)store_del(txn, STORE_T_CHALLENGE_BY_TOKEN, token, strlen(token));
	if (c != NULL)
		ret = store_del(txn, STORE_T_CHALLENGES, cid, strlen(cid));
	/* one left processing: its place in the validations index */
	if (ret == 0)
		(void)store_del(txn, STORE_T_VALIDATIONS, cid, strlen(cid));
	cJSON_Delete(c);
	return ret;
}

static int
del_authz(struct store_txn *txn, const char *id, const cJSON *o)
{
	const cJSON *ident = cJSON_GetObjectItemCaseSensitive(o, "identifier"), *c;
	const char *type = acme_json_str(ident, "type");
	char key[STORE_MAX_KEY + 1];
	int ret = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (ret == 0 && cJSON_IsString(c))
			ret = del_challenge(txn, c->valuestring);
	if (ret == 0 && type != NULL && acme_authz_index_key(key, sizeof(key),
	    acme_json_str(o, "account"), strcmp(type, "ip") == 0 ?
	    ACME_IDENT_IP : ACME_IDENT_DNS, acme_json_str(ident, "value"), id) > 0)
		(void)store_del(txn, STORE_T_AUTHZ_BY_ACCOUNT, key, strlen(key));
	if (ret == 0)
		acme_authz_pending_del(txn, acme_json_str(o, "account"), id);
	return ret == 0 ? store_del(txn, STORE_T_AUTHZS, id, strlen(id)) : ret;
}

/* A certificate goes with its account index entry and, when it was
 * revoked, its CRL entry (the CRL left it out once it expired anyway). */
static int
del_cert(struct store_txn *txn, const char *serial, const cJSON *o)
{
	char key[STORE_MAX_KEY + 1];
	uint8_t bytes[CRYPTO_MAX_SERIAL];
	size_t len;
	int ret = store_del(txn, STORE_T_CERTS, serial, strlen(serial));

	snprintf(key, sizeof(key), "%s/%s", acme_json_str(o, "account"), serial);
	if (ret == 0)   /* an older version's index entry */
		(void)store_del(txn, STORE_T_CERT_BY_ACCOUNT, key, strlen(key));
	if (ret == 0 && crypto_serial_parse(serial, bytes, &len) == CRYPTO_OK)
		(void)store_del(txn, STORE_T_REVOKED, bytes, len);
	return ret;
}

/* Deletes the sweep's candidates that are still removable. */
static int
delete_txn(struct store_txn *txn, void *arg)
{
	struct sweep *w = arg;
	size_t i;
	cJSON *o;
	int ret = 0;

	for (i = 0; i < w->n && ret == 0; i++) {
		if ((o = acme_record_get(txn, tables[w->which], w->ids[i])) == NULL)
			continue;
		if (removable(w, txn, o))
			ret = w->which == C_ORDERS ? del_order(txn, w->ids[i], o) :
			    w->which == C_AUTHZS ? del_authz(txn, w->ids[i], o) :
			    del_cert(txn, w->ids[i], o);
		cJSON_Delete(o);
	}
	return ret;
}

/* One table's step: scan from its cursor, delete, move the cursor. */
static int
sweep_table(struct acme *a, int which, time_t now, size_t *removed)
{
	struct acme_cleanup_cursor *cur = &a->cleanup[which];
	struct sweep *w = calloc(1, sizeof(*w));
	int ret;

	if (w == NULL)
		return ACME_ERR_NOMEM;
	w->a = a;
	w->which = which;
	w->now = now;
	w->retention = a->cfg.retention;
	if ((ret = store_read_begin(a->store, &w->txn)) == 0) {
		ret = store_scan(w->txn, tables[which], NULL, 0,
		    cur->len > 0 ? cur->after : NULL, cur->len, sweep_cb, w);
		store_read_end(w->txn);
	}
	if (ret == 0 && w->n > 0)
		ret = store_write(a->store, delete_txn, w);
	if (ret == 0) {
		/* at the end of the table, or at the young ids: start over */
		cur->len = w->young || (w->seen < CLEANUP_SCAN &&
		    w->n < CLEANUP_BATCH) ? 0 : w->last_len;
		memcpy(cur->after, w->last, w->last_len);
		*removed += w->n;
	}
	free(w);
	return ret == 0 ? 0 : ACME_ERR_INTERNAL;
}

/* What replicas share besides records: used nonces and rate counters at
 * rest (nothing for a server alone on its store). */
static int
shared_expire(struct acme *a, time_t now, size_t *removed)
{
	int n;

	if ((n = acme_nonces_expire(&a->nonces, now)) < 0)
		return ACME_ERR_INTERNAL;
	*removed += (size_t)n;
	if ((n = acme_limits_expire(&a->limits, now)) < 0)
		return ACME_ERR_INTERNAL;
	*removed += (size_t)n;
	return 0;
}

int
acme_cleanup(struct acme *a, time_t now)
{
	size_t removed = 0;
	int which, ret = 0;

	pthread_mutex_lock(&a->cleanup_lock);
	for (which = C_ORDERS; which <= C_CERTS && ret == 0; which++)
		ret = sweep_table(a, which, now, &removed);
	if (ret == 0)
		ret = shared_expire(a, now, &removed);
	pthread_mutex_unlock(&a->cleanup_lock);
	return ret != 0 ? ret : (int)removed;
}
