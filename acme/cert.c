/*
 * cert.c: issued certificates: download (RFC 8555 §7.4.2) and revocation
 * (§7.6). The certificate record (certrec.c) holds its account, order and
 * identifiers, the leaf, its issuer, validity, and once revoked the reason
 * and time; the revoked table keeps what a CRL or OCSP responder reads
 * (revoked.c).
 * Also the operator's view: listing and showing certificates.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

static cJSON *
cert_get(struct acme *a, const char *serial)
{
	struct store_txn *txn;
	cJSON *c = NULL;

	if (strlen(serial) > ACME_SERIAL_HEX_LEN || store_read_begin(a->store, &txn) != 0)
		return NULL;
	c = acme_record_get(txn, STORE_T_CERTS, serial);
	store_read_end(txn);
	return c;
}

/* The leaf then its chain, as issued, malloc'd; NULL when unreadable. */
static char *
cert_pem_chain(struct acme *a, const char *serial, const char *account,
    int *status)
{
	struct store_txn *txn;
	char *pem = NULL, *chain = NULL, *body = NULL;
	cJSON *c = NULL;
	size_t n1, n2;

	*status = 404;
	if (strlen(serial) > ACME_SERIAL_HEX_LEN ||
	    store_read_begin(a->store, &txn) != 0)
		return NULL;
	if ((c = acme_record_get(txn, STORE_T_CERTS, serial)) == NULL)
		goto out;
	*status = 403;
	if (strcmp(acme_json_str(c, "account"), account) != 0)
		goto out;
	*status = 500;
	if ((pem = acme_cert_rec_pem(c)) == NULL ||
	    (chain = acme_cert_rec_chain(txn, c)) == NULL)
		goto out;
	n1 = strlen(pem);
	n2 = strlen(chain);
	if ((body = malloc(n1 + n2 + 1)) != NULL) {
		memcpy(body, pem, n1);
		memcpy(body + n1, chain, n2 + 1);
		*status = 200;
	}
out:
	store_read_end(txn);
	cJSON_Delete(c);
	free(pem);
	free(chain);
	return body;
}

/* Download: POST-as-GET by the account that ordered it. */
void
acme_certificate(struct acme *a, const struct acme_request *req,
    const char *serial, struct acme_response *resp)
{
	struct acme_jws jws;
	char *body;
	int status;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if (jws.payload_len != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "a certificate is fetched with POST-as-GET (empty payload)");
		goto out;
	}
	body = cert_pem_chain(a, serial, jws.account_id, &status);
	if (status == 404)
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such certificate");
	else if (status == 403)
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "certificate belongs to another account");
	else if (body == NULL)
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "the certificate record cannot be read");
	else {
		acme_respond_json(resp, 200, body);
		resp->content_type = "application/pem-certificate-chain";
	}
out:
	acme_jws_clear(&jws);
}

/* May this account revoke c? The account that ordered it, or one holding
 * valid authorizations for every name in it (RFC 8555 §7.6). */
static int
account_may_revoke(struct acme *a, const char *account, const cJSON *c,
    time_t now)
{
	struct store_txn *txn;
	cJSON *ord;
	const cJSON *e, *ids;
	char key[STORE_MAX_KEY + 1];
	int ok = 1;

	if (strcmp(acme_json_str(c, "account"), account) == 0)
		return 1;
	if (store_read_begin(a->store, &txn) != 0)
		return 0;
	if ((ids = acme_cert_rec_identifiers(txn, c, &ord)) == NULL)
		ok = 0;
	cJSON_ArrayForEach(e, ids) {
		const char *v = acme_json_str(e, "value");
		int n = snprintf(key, sizeof(key), "%s/%s:%s/", account,
		    acme_json_str(e, "type"), strncmp(v, "*.", 2) == 0 ? v + 2 : v);

		if (n < 0 || (size_t)n >= sizeof(key) ||
		    !acme_authz_valid_for(txn, key, (size_t)n, now)) {
			ok = 0;
			break;
		}
	}
	cJSON_Delete(ord);
	store_read_end(txn);
	return ok;
}

struct revoke {
	const char *serial;
	int reason;
	time_t now;
	int already;
	int missing;
};

/* The certificate record, its revoked-table entry and the counter, in one
 * transaction: a CRL or OCSP answer never sees one without the other. */
static int
revoke_txn(struct store_txn *txn, void *arg)
{
	struct revoke *r = arg;
	struct acme_revoked rec;
	uint8_t key[ACME_SERIAL_MAX_BYTES], val[ACME_REVOKED_REC_LEN];
	size_t keylen;
	uint64_t count;
	cJSON *c;
	int ret;

	r->already = r->missing = 0;
	if (crypto_serial_parse(r->serial, key, &keylen) != CRYPTO_OK ||
	    (c = acme_record_get(txn, STORE_T_CERTS, r->serial)) == NULL) {
		r->missing = 1;
		return 1;
	}
	if (cJSON_GetObjectItemCaseSensitive(c, "revoked") != NULL) {
		r->already = 1;
		cJSON_Delete(c);
		return 1;
	}
	rec.revoked_at = r->now;
	rec.not_after = acme_json_time(c, "notAfter");
	rec.reason = r->reason;
	acme_revoked_issuer(c, &rec);
	acme_revoked_encode(&rec, val);
	cJSON_AddNumberToObject(c, "revoked", (double)r->now);
	cJSON_AddNumberToObject(c, "reason", r->reason);
	ret = acme_record_put(txn, STORE_T_CERTS, r->serial, c);
	cJSON_Delete(c);
	if (ret == 0)
		ret = store_put(txn, STORE_T_REVOKED, key, keylen, val, sizeof(val),
		    STORE_PUT_NEW);
	if (ret == 0)
		ret = acme_meta_u64_get(txn, ACME_META_REVOCATIONS, &count);
	if (ret == 0)
		ret = acme_meta_u64_put(txn, ACME_META_REVOCATIONS, count + 1);
	return ret;
}

int
acme_cert_revoke(struct store *st, const char *serial, int reason, time_t now)
{
	struct revoke r;
	int ret;

	if (serial == NULL || reason < 0 || reason > 10 || reason == 7)
		return ACME_ERR_INVALID;
	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.reason = reason;
	r.now = now;
	ret = store_write(st, revoke_txn, &r);
	if (r.missing)
		return ACME_ERR_NOTFOUND;
	if (r.already)
		return ACME_ERR_ALREADY;
	return ret == 0 ? ACME_OK : ACME_ERR_INTERNAL;
}

/* Decodes the payload's certificate and finds our record of it. */
static cJSON *
revoke_target(struct acme *a, const cJSON *payload, struct crypto_cert_info *info,
    struct acme_response *resp)
{
	const char *b64 = acme_json_str(payload, "certificate");
	uint8_t *der = NULL;
	cJSON *c = NULL;
	size_t len = b64 != NULL ? strlen(b64) : 0, derlen;

	if (b64 == NULL || len > CRYPTO_MAX_PEM_BYTES ||
	    (der = malloc(len)) == NULL ||
	    crypto_b64url_decode(b64, len, der, len, &derlen) != CRYPTO_OK ||
	    crypto_cert_info(der, derlen, info) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "certificate must be a base64url DER certificate");
		goto out;
	}
	c = cert_get(a, info->serial);
	if (c == NULL || !acme_cert_rec_is(c, der, derlen)) {
		cJSON_Delete(c);
		c = NULL;
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "this server did not issue that certificate");
	}
out:
	free(der);
	return c;
}

void
acme_revoke(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	struct crypto_cert_info info;
	struct acme_jws jws;
	cJSON *payload = NULL, *c = NULL;
	const cJSON *reason;
	int ret;

	if (acme_jws_verify(a, req, ACME_KEY_EITHER, &jws, resp) != 0)
		return;
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	reason = cJSON_GetObjectItemCaseSensitive(payload, "reason");
	if (reason != NULL && (!cJSON_IsNumber(reason) ||
	    reason->valuedouble != (double)reason->valueint ||
	    !acme_reason_allowed(reason->valueint, ACME_REVOKER_SUBSCRIBER))) {
		acme_respond_problem(resp, ACME_P_BAD_REVOCATION_REASON, 0,
		    "reason must be one of the RFC 5280 codes 0 (unspecified), 1 "
		    "(keyCompromise), 3 (affiliationChanged), 4 (superseded) or 5 "
		    "(cessationOfOperation)");
		goto out;
	}
	if ((c = revoke_target(a, payload, &info, resp)) == NULL)
		goto out;
	if (jws.account_id[0] != '\0' ?
	    !account_may_revoke(a, jws.account_id, c, req->now) :
	    strcmp(jws.thumbprint, info.key_thumbprint) != 0) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "neither the issuing account, an account authorized for every "
		    "name, nor the certificate's key signed this request");
		goto out;
	}
	ret = acme_cert_revoke(a->store, info.serial,
	    reason != NULL ? reason->valueint : ACME_REASON_UNSPECIFIED, req->now);
	if (ret == ACME_ERR_ALREADY)
		acme_respond_problem(resp, ACME_P_ALREADY_REVOKED, 0,
		    "certificate was already revoked");
	else if (ret != 0)
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not store the revocation");
	else
		resp->status = 200;
out:
	cJSON_Delete(c);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}

/* ---- the operator's view ---- */

const char *
acme_cert_status_name(enum acme_cert_status s)
{
	switch (s) {
	case ACME_CERT_VALID:   return "valid";
	case ACME_CERT_REVOKED: return "revoked";
	case ACME_CERT_EXPIRED: return "expired";
	}
	return "unknown";
}

/* Fills info from certificate record c (text val) and its order's
 * identifiers, then calls fn. Returns fn's value, or ACME_ERR_INTERNAL for
 * a record that does not parse. */
static int
cert_visit(struct store_txn *txn, const char *serial, const void *val,
    size_t len, time_t now, acme_cert_fn fn, void *arg)
{
	const char *names[ACME_MAX_IDENTIFIERS];
	struct acme_cert_info info;
	const cJSON *e, *ids;
	cJSON *c, *ord = NULL;
	char *pem;
	int ret;

	if ((c = cJSON_ParseWithLength(val, len)) == NULL || !cJSON_IsObject(c)) {
		cJSON_Delete(c);
		return ACME_ERR_INTERNAL;
	}
	memset(&info, 0, sizeof(info));
	info.serial = serial;
	info.not_before = acme_json_time(c, "notBefore");
	info.not_after = acme_json_time(c, "notAfter");
	info.issued = acme_json_time(c, "issued");
	info.revoked_at = acme_json_time(c, "revoked");
	info.reason = (int)acme_json_time(c, "reason");
	info.account = acme_json_str(c, "account");
	info.replaced_by = acme_json_str(c, "replacedByCert");
	info.pem = pem = acme_cert_rec_pem(c);
	info.status = cJSON_GetObjectItemCaseSensitive(c, "revoked") != NULL ?
	    ACME_CERT_REVOKED : info.not_after < now ? ACME_CERT_EXPIRED :
	    ACME_CERT_VALID;
	/* once: cJSON_ArrayForEach evaluates its array twice */
	ids = acme_cert_rec_identifiers(txn, c, &ord);
	cJSON_ArrayForEach(e, ids)
		if (info.n_names < ACME_MAX_IDENTIFIERS &&
		    acme_json_str(e, "value") != NULL)
			names[info.n_names++] = acme_json_str(e, "value");
	info.names = names;
	ret = fn(&info, arg);
	free(pem);
	cJSON_Delete(ord);
	cJSON_Delete(c);
	return ret;
}

struct cert_page {
	struct store_txn *txn;
	time_t now;
	acme_cert_fn fn;
	void *arg;
	char last[ACME_SERIAL_HEX_LEN + 1];
	size_t seen;
	int stopped;
};

static int
cert_page_one(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct cert_page *p = arg;
	int ret;

	if (keylen > ACME_SERIAL_HEX_LEN)
		return ACME_ERR_INTERNAL;
	memcpy(p->last, key, keylen);
	p->last[keylen] = '\0';
	if ((ret = cert_visit(p->txn, p->last, val, vallen, p->now, p->fn,
	    p->arg)) != 0) {
		p->stopped = 1;
		return ret < 0 ? ret : 1;
	}
	return ++p->seen >= ACME_CERTS_PAGE ? 1 : 0;
}

int
acme_cert_list(struct store *st, time_t now, acme_cert_fn fn, void *arg)
{
	struct cert_page p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.now = now;
	p.fn = fn;
	p.arg = arg;
	do {
		p.seen = 0;
		if (store_read_begin(st, &p.txn) != STORE_OK)
			return ACME_ERR_INTERNAL;
		ret = store_scan(p.txn, STORE_T_CERTS, NULL, 0,
		    p.last[0] != '\0' ? p.last : NULL, strlen(p.last),
		    cert_page_one, &p);
		store_read_end(p.txn);
		if (ret != 0)
			return ACME_ERR_INTERNAL;
	} while (!p.stopped && p.seen == ACME_CERTS_PAGE);
	return ACME_OK;
}

int
acme_cert_show(struct store *st, const char *serial, time_t now,
    acme_cert_fn fn, void *arg)
{
	struct store_txn *txn;
	const void *val;
	size_t len;
	int ret;

	if (serial == NULL || strlen(serial) > ACME_SERIAL_HEX_LEN)
		return ACME_ERR_NOTFOUND;
	if (store_read_begin(st, &txn) != STORE_OK)
		return ACME_ERR_INTERNAL;
	ret = store_get(txn, STORE_T_CERTS, serial, strlen(serial), &val, &len);
	if (ret == STORE_NOTFOUND)
		ret = ACME_ERR_NOTFOUND;
	else if (ret != STORE_OK)
		ret = ACME_ERR_INTERNAL;
	else
		ret = cert_visit(txn, serial, val, len, now, fn, arg);
	store_read_end(txn);
	return ret < 0 ? ret : ACME_OK;
}
