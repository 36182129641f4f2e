/*
 * certrec.c: the certificate record, the one place that knows its layout.
 *
 * A record (STORE_T_CERTS, keyed by the serial in lower-case hex) is JSON:
 * "account", "order", "profile", "identifiers" (as ordered), "ari" (the
 * RFC 9773 certID, so renewal information never parses DER), "der" (the
 * leaf, base64url DER), "issuer" (the issuing intermediate's key id in hex,
 * crypto_signer_issuer_id), "notBefore", "notAfter", "issued", and once
 * revoked "revoked" and "reason"; renewal.c adds "replacedBy" (the order
 * claiming to replace it) and finalize "replacedByCert" (the serial that
 * did).
 *
 * The intermediate's certificate is kept once per issuer in the meta table
 * ("chain/" and the issuer id), not once per certificate: a record is about
 * 1.2 KB, small enough for LMDB to keep several on a page. Records written
 * before this layout hold "pem" and "chain" instead; every reader here takes
 * both, so nothing is rewritten.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

#define CHAIN_KEY_PREFIX "chain/"

/* The meta key of an issuer's chain, "chain/<id>". */
static size_t
chain_key(char out[sizeof(CHAIN_KEY_PREFIX) + 64], const char *issuer)
{
	return (size_t)snprintf(out, sizeof(CHAIN_KEY_PREFIX) + 64, "%s%.64s",
	    CHAIN_KEY_PREFIX, issuer);
}

/* Keeps the signer's chain under its issuer id, once. 0 or a STORE_* code. */
static int
chain_keep(struct store_txn *txn, const char *issuer, const char *chain)
{
	char key[sizeof(CHAIN_KEY_PREFIX) + 64];
	size_t klen = chain_key(key, issuer);
	const void *v;
	size_t vl;
	int rc;

	rc = store_get(txn, STORE_T_META, key, klen, &v, &vl);
	if (rc == STORE_OK && vl == strlen(chain) && memcmp(v, chain, vl) == 0)
		return 0;
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	return store_put(txn, STORE_T_META, key, klen, chain, strlen(chain), 0);
}

/* Adds the leaf's DER (base64url) to c. 0 or ACME_ERR_NOMEM. */
static int
add_der(cJSON *c, const struct crypto_leaf *leaf)
{
	size_t cap = (leaf->der_len + 2) / 3 * 4 + 1;
	char *b64 = malloc(cap);
	int ret = ACME_ERR_NOMEM;

	if (b64 != NULL && crypto_b64url_encode(leaf->der, leaf->der_len, b64,
	    cap) >= 0 && cJSON_AddStringToObject(c, "der", b64) != NULL)
		ret = ACME_OK;
	free(b64);
	return ret;
}

static cJSON *
rec_build(const struct acme_cert_rec *r, const char *issuer)
{
	char ari[CRYPTO_ARI_ID_MAX];
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || crypto_cert_ari_id(r->leaf->der, r->leaf->der_len, ari,
	    sizeof(ari)) != 0 || add_der(c, r->leaf) != ACME_OK) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON_AddStringToObject(c, "ari", ari);
	cJSON_AddStringToObject(c, "profile", r->profile);
	cJSON_AddItemToObject(c, "identifiers", cJSON_Duplicate(r->identifiers, 1));
	cJSON_AddStringToObject(c, "account", r->account);
	cJSON_AddStringToObject(c, "order", r->order);
	cJSON_AddStringToObject(c, "issuer", issuer);
	cJSON_AddNumberToObject(c, "notBefore", (double)r->leaf->not_before);
	cJSON_AddNumberToObject(c, "notAfter", (double)r->leaf->not_after);
	cJSON_AddNumberToObject(c, "issued", (double)r->issued);
	return c;
}

int
acme_cert_rec_put(struct store_txn *txn, const struct acme_cert_rec *r)
{
	const char *chain = crypto_signer_chain_pem(r->signer);
	char issuer[65], *text = NULL;
	cJSON *c = NULL;
	int ret = ACME_ERR_INTERNAL;

	if (chain == NULL || crypto_signer_issuer_id(r->signer, issuer) !=
	    CRYPTO_OK)
		return ACME_ERR_INTERNAL;
	if ((c = rec_build(r, issuer)) == NULL ||
	    (text = cJSON_PrintUnformatted(c)) == NULL)
		ret = ACME_ERR_NOMEM;
	else if ((ret = chain_keep(txn, issuer, chain)) == 0)
		/* A serial is never reused: refuse rather than overwrite. */
		ret = store_put(txn, STORE_T_CERTS, r->leaf->serial,
		    strlen(r->leaf->serial), text, strlen(text), STORE_PUT_NEW);
	free(text);
	cJSON_Delete(c);
	return ret;
}

/* The leaf's DER from c into a malloc'd buffer; NULL when unreadable. */
static uint8_t *
rec_der(const cJSON *c, size_t *len)
{
	const char *b64 = acme_json_str(c, "der");
	size_t n = b64 != NULL ? strlen(b64) : 0;
	uint8_t *der;

	if (b64 == NULL || n == 0 || n > CRYPTO_MAX_PEM_BYTES ||
	    (der = malloc(n)) == NULL)
		return NULL;
	if (crypto_b64url_decode(b64, n, der, n, len) != CRYPTO_OK) {
		free(der);
		return NULL;
	}
	return der;
}

char *
acme_cert_rec_pem(const cJSON *c)
{
	const char *pem = acme_json_str(c, "pem");
	uint8_t *der;
	size_t len;
	char *out;

	if (pem != NULL)
		return strdup(pem);
	if ((der = rec_der(c, &len)) == NULL)
		return NULL;
	out = crypto_cert_der_to_pem(der, len);
	free(der);
	return out;
}

char *
acme_cert_rec_chain(struct store_txn *txn, const cJSON *c)
{
	const char *chain = acme_json_str(c, "chain");
	const char *issuer = acme_json_str(c, "issuer");
	char key[sizeof(CHAIN_KEY_PREFIX) + 64], *out;
	const void *v;
	size_t vl, klen;

	if (chain != NULL)
		return strdup(chain);
	if (issuer == NULL || strlen(issuer) > 64)
		return NULL;
	klen = chain_key(key, issuer);
	if (store_get(txn, STORE_T_META, key, klen, &v, &vl) != STORE_OK ||
	    (out = malloc(vl + 1)) == NULL)
		return NULL;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return out;
}

int
acme_cert_rec_is(const cJSON *c, const uint8_t *der, size_t len)
{
	const char *stored = acme_json_str(c, "pem");
	uint8_t *mine;
	size_t mlen;
	char *pem;
	int same;

	if (stored != NULL) {
		pem = crypto_cert_der_to_pem(der, len);
		same = pem != NULL && strcmp(pem, stored) == 0;
		free(pem);
		return same;
	}
	if ((mine = rec_der(c, &mlen)) == NULL)
		return 0;
	same = mlen == len && memcmp(mine, der, len) == 0;
	free(mine);
	return same;
}

const cJSON *
acme_cert_rec_identifiers(struct store_txn *txn, const cJSON *c,
    cJSON **order)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "identifiers");
	const char *id = acme_json_str(c, "order");

	*order = NULL;
	if (cJSON_IsArray(ids))
		return ids;
	if (id == NULL || (*order = acme_record_get(txn, STORE_T_ORDERS, id)) ==
	    NULL)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(*order, "identifiers");
}

int
acme_cert_rec_standalone(const cJSON *c)
{
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(c, "identifiers"));
}
