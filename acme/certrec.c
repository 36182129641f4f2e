/*
 * certrec.c: the certificate record, the one place that knows its layout.
 *
 * A record (STORE_T_CERTS, keyed by the serial in lower-case hex) is JSON:
 * "account", "order", "profile", "identifiers" (as ordered), "der" (the
 * leaf, base64url DER), "issuer" (the issuing intermediate's key id in hex,
 * crypto_signer_issuer_id, which is also the leaf's AKI key identifier),
 * "notBefore", "notAfter", "issued", and once revoked "revoked" and
 * "reason"; renewal.c adds "replacedBy" (the order claiming to replace it)
 * and finalize "replacedByCert" (the serial that did). The RFC 9773 certID
 * is "issuer" and the serial in base64url (acme_cert_rec_ari), so renewal
 * information never parses DER; records written before held it as "ari",
 * as a record would whose leaf's AKI were not the issuer id.
 *
 * The intermediate's certificate is kept once per issuer in the meta table
 * ("chain/" and the issuer id), not once per certificate: a record is about
 * 1.25 KB, so three share a 4 KB LMDB page. Serials begin with the issuance
 * time (crypto/cert.c), so a record is appended at the table's right edge
 * (STORE_PUT_APPEND) and pages stay full. Records written before this
 * layout hold "pem" and "chain" instead; every reader here takes both, so
 * nothing is rewritten.
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

/* The record of r; NULL when out of memory. The leaf's certID is stored
 * only when acme_cert_rec_ari would not make the same from issuer and the
 * serial (the signer's AKI is always its key id, so it never is). */
static cJSON *
rec_build(const struct acme_cert_rec *r, const char *issuer)
{
	char ari[CRYPTO_ARI_ID_MAX], mine[CRYPTO_ARI_ID_MAX];
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || crypto_cert_ari_id(r->leaf->der, r->leaf->der_len, ari,
	    sizeof(ari)) != 0 || add_der(c, r->leaf) != ACME_OK) {
		cJSON_Delete(c);
		return NULL;
	}
	cJSON_AddStringToObject(c, "issuer", issuer);
	if (acme_cert_rec_ari(c, r->leaf->serial, mine) != 0 ||
	    strcmp(ari, mine) != 0)
		cJSON_AddStringToObject(c, "ari", ari);
	cJSON_AddStringToObject(c, "profile", r->profile);
	cJSON_AddItemToObject(c, "identifiers", cJSON_Duplicate(r->identifiers, 1));
	cJSON_AddStringToObject(c, "account", r->account);
	cJSON_AddStringToObject(c, "order", r->order);
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
		    strlen(r->leaf->serial), text, strlen(text),
		    STORE_PUT_NEW | STORE_PUT_APPEND);
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

static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Lower-case hex (even length, at most 2 * cap digits) to bytes; the count or -1. */
static int
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;
	int hi, lo;

	if (n == 0 || n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = hex_digit(s[2 * i]);
		lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int
acme_cert_rec_ari(const cJSON *c, const char *serial,
    char out[CRYPTO_ARI_ID_MAX])
{
	const char *stored = acme_json_str(c, "ari");
	const char *issuer = acme_json_str(c, "issuer");
	uint8_t kid[32], sn[21];
	int kn, sl, n;

	if (stored != NULL)
		return snprintf(out, CRYPTO_ARI_ID_MAX, "%s", stored) <
		    CRYPTO_ARI_ID_MAX ? 0 : -1;
	/* The serial's DER INTEGER contents: a 0x00 before a high bit. */
	if (issuer == NULL || serial == NULL ||
	    (kn = unhex(issuer, kid, sizeof(kid))) < 0 ||
	    (sl = unhex(serial, sn + 1, sizeof(sn) - 1)) < 0)
		return -1;
	sn[0] = 0;
	if ((n = crypto_b64url_encode(kid, (size_t)kn, out,
	    CRYPTO_ARI_ID_MAX - 1)) < 0)
		return -1;
	out[n] = '.';
	if (crypto_b64url_encode((sn[1] & 0x80) ? sn : sn + 1,
	    (size_t)sl + ((sn[1] & 0x80) ? 1 : 0), out + n + 1,
	    CRYPTO_ARI_ID_MAX - (size_t)n - 1) < 0)
		return -1;
	return 0;
}
