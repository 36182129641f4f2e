/*
 * cert.c: issued certificates: download (RFC 8555 §7.4.2) and revocation
 * (§7.6). A certificate record holds its account and order, the leaf PEM,
 * the chain PEM as issued, validity, and once revoked the reason and time
 * (what a CRL or OCSP responder will read).
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

	if (strlen(serial) > 2 * 20 || store_read_begin(a->store, &txn) != 0)
		return NULL;
	c = acme_record_get(txn, STORE_T_CERTS, serial);
	store_read_end(txn);
	return c;
}

/* Download: POST-as-GET by the account that ordered it. */
void
acme_certificate(struct acme *a, const struct acme_request *req,
    const char *serial, struct acme_response *resp)
{
	struct acme_jws jws;
	cJSON *c = NULL;
	const char *pem, *chain;
	char *body;
	size_t n1, n2;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if (jws.payload_len != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "a certificate is fetched with POST-as-GET (empty payload)");
		goto out;
	}
	if ((c = cert_get(a, serial)) == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such certificate");
		goto out;
	}
	if (strcmp(acme_json_str(c, "account"), jws.account_id) != 0) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "certificate belongs to another account");
		goto out;
	}
	pem = acme_json_str(c, "pem");
	chain = acme_json_str(c, "chain");
	n1 = strlen(pem);
	n2 = strlen(chain);
	if ((body = malloc(n1 + n2 + 1)) == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		goto out;
	}
	memcpy(body, pem, n1);
	memcpy(body + n1, chain, n2 + 1);
	acme_respond_json(resp, 200, body);
	resp->content_type = "application/pem-certificate-chain";
out:
	cJSON_Delete(c);
	acme_jws_clear(&jws);
}

/* RFC 5280 §5.3.1 reason codes; 7 is unused, and aACompromise (10) is not
 * for subscribers, but RFC 8555 lets the CA decide: hearth accepts it. */
static int
reason_ok(int r)
{
	return r >= 0 && r <= 10 && r != 7;
}

/* May this account revoke c? The account that ordered it, or one holding
 * valid authorizations for every name in it (RFC 8555 §7.6). */
static int
account_may_revoke(struct acme *a, const char *account, const cJSON *c,
    time_t now)
{
	struct store_txn *txn;
	cJSON *ord;
	const cJSON *e;
	char key[STORE_MAX_KEY + 1];
	int ok = 1;

	if (strcmp(acme_json_str(c, "account"), account) == 0)
		return 1;
	if (store_read_begin(a->store, &txn) != 0)
		return 0;
	ord = acme_record_get(txn, STORE_T_ORDERS, acme_json_str(c, "order"));
	if (ord == NULL)
		ok = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ord, "identifiers")) {
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
};

static int
revoke_txn(struct store_txn *txn, void *arg)
{
	struct revoke *r = arg;
	cJSON *c = acme_record_get(txn, STORE_T_CERTS, r->serial);
	int ret;

	if (c == NULL)
		return STORE_ERR_CORRUPT;
	if (cJSON_GetObjectItemCaseSensitive(c, "revoked") != NULL) {
		r->already = 1;
		cJSON_Delete(c);
		return 1;
	}
	cJSON_AddNumberToObject(c, "revoked", (double)r->now);
	cJSON_AddNumberToObject(c, "reason", r->reason);
	ret = acme_record_put(txn, STORE_T_CERTS, r->serial, c);
	cJSON_Delete(c);
	return ret;
}

/* Decodes the payload's certificate and finds our record of it. */
static cJSON *
revoke_target(struct acme *a, const cJSON *payload, struct crypto_cert_info *info,
    struct acme_response *resp)
{
	const char *b64 = acme_json_str(payload, "certificate");
	uint8_t *der = NULL;
	char *pem = NULL;
	cJSON *c = NULL;
	size_t len = b64 != NULL ? strlen(b64) : 0, derlen;
	const char *stored;

	if (b64 == NULL || len > CRYPTO_MAX_PEM_BYTES ||
	    (der = malloc(len)) == NULL ||
	    crypto_b64url_decode(b64, len, der, len, &derlen) != CRYPTO_OK ||
	    crypto_cert_info(der, derlen, info) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "certificate must be a base64url DER certificate");
		goto out;
	}
	c = cert_get(a, info->serial);
	pem = crypto_cert_der_to_pem(der, derlen);
	stored = c != NULL ? acme_json_str(c, "pem") : NULL;
	if (c == NULL || pem == NULL || stored == NULL || strcmp(pem, stored) != 0) {
		cJSON_Delete(c);
		c = NULL;
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "this server did not issue that certificate");
	}
out:
	free(der);
	free(pem);
	return c;
}

void
acme_revoke(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	struct crypto_cert_info info;
	struct acme_jws jws;
	struct revoke r;
	cJSON *payload = NULL, *c = NULL;
	const cJSON *reason;
	int ret;

	if (acme_jws_verify(a, req, ACME_KEY_EITHER, &jws, resp) != 0)
		return;
	memset(&r, 0, sizeof(r));
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	reason = cJSON_GetObjectItemCaseSensitive(payload, "reason");
	if (reason != NULL && (!cJSON_IsNumber(reason) ||
	    reason->valuedouble != (double)reason->valueint || !reason_ok(reason->valueint))) {
		acme_respond_problem(resp, ACME_P_BAD_REVOCATION_REASON, 0,
		    "reason must be an RFC 5280 code: 0-6 or 8-10");
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
	r.serial = info.serial;
	r.reason = reason != NULL ? reason->valueint : 0;
	r.now = req->now;
	ret = store_write(a->store, revoke_txn, &r);
	if (r.already)
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
