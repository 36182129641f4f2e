/*
 * bench_jose.c: bench_acme's keys and signatures: ES256 account keys with
 * their RFC 7638 JWK and thumbprint, the flattened JWS of each request
 * (RFC 8555 §6.2, by jwk before the account exists, by kid after), and a
 * fresh PKCS#10 request per issuance under the worker's CSR key.
 */
#include "bench_acme.h"

#include <wolfssl/wolfcrypt/sha256.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base64url without padding (RFC 7515 §2); the caller frees the result. */
char *
b64url(const void *data, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *p = data;
	char *out = malloc(len / 3 * 4 + 5), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = abc[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = abc[p[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = abc[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

/* ---- keys, JWS and CSR ------------------------------------------------------ */

/* ES256 (RFC 7518 §3.4): r || s, 32 bytes each. */
static int
es256_sign(struct worker *w, const char *data, size_t len, uint8_t out[64])
{
	uint8_t hash[WC_SHA256_DIGEST_SIZE], der[80], r[32], s[32];
	word32 der_len = sizeof(der), r_len = sizeof(r), s_len = sizeof(s);

	if (wc_Sha256Hash((const byte *)data, (word32)len, hash) != 0 ||
	    wc_ecc_sign_hash(hash, sizeof(hash), der, &der_len, &w->rng, &w->acct->key) != 0 ||
	    wc_ecc_sig_to_rs(der, der_len, r, &r_len, s, &s_len) != 0)
		return -1;
	memset(out, 0, 64);
	memcpy(out + 32 - r_len, r, r_len);
	memcpy(out + 64 - s_len, s, s_len);
	return 0;
}

/* The worker's RNG and CSR key (never an account key); 0 or -1. */
int
worker_keys(struct worker *w)
{
	if (wc_InitRng(&w->rng) != 0)
		return -1;
	w->rng_ready = 1;
	if (wc_ecc_init(&w->csr_key) != 0)
		return -1;
	w->csr_key_ready = 1;
	return wc_ecc_make_key_ex(&w->rng, 32, &w->csr_key, ECC_SECP256R1) != 0 ? -1 : 0;
}

/* A new ES256 account key with its JWK and RFC 7638 thumbprint; 0 or -1. */
int
account_key(struct account *a, WC_RNG *rng)
{
	uint8_t x[32], y[32], hash[WC_SHA256_DIGEST_SIZE];
	word32 xl = sizeof(x), yl = sizeof(y);
	char *xs = NULL, *ys = NULL, *th = NULL;
	int ret = -1;

	if (wc_ecc_init(&a->key) != 0)
		return -1;
	a->key_ready = 1;
	if (wc_ecc_make_key_ex(rng, 32, &a->key, ECC_SECP256R1) != 0 ||
	    wc_ecc_export_public_raw(&a->key, x, &xl, y, &yl) != 0 ||
	    xl != 32 || yl != 32 ||
	    (xs = b64url(x, xl)) == NULL || (ys = b64url(y, yl)) == NULL)
		goto out;
	snprintf(a->jwk, sizeof(a->jwk),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", xs, ys);
	if (wc_Sha256Hash((const byte *)a->jwk, (word32)strlen(a->jwk), hash) != 0 ||
	    (th = b64url(hash, sizeof(hash))) == NULL ||
	    copy_str(a->thumb, sizeof(a->thumb), th) != 0)
		goto out;
	ret = 0;
out:
	free(xs);
	free(ys);
	free(th);
	return ret;
}

/* The flattened JWS (RFC 8555 §6.2) of payload (NULL: POST-as-GET), by kid
 * once the account exists, by jwk before. The caller frees the result. */
char *
jws_body(struct worker *w, const char *url, const char *payload)
{
	cJSON *prot = cJSON_CreateObject(), *jws = cJSON_CreateObject();
	char *pj = NULL, *p64 = NULL, *pl64 = NULL, *in = NULL, *s64 = NULL, *out = NULL;
	uint8_t sig[64];
	size_t n;

	if (prot == NULL || jws == NULL)
		goto out;
	cJSON_AddStringToObject(prot, "alg", "ES256");
	if (w->acct->kid[0] != '\0')
		cJSON_AddStringToObject(prot, "kid", w->acct->kid);
	else
		cJSON_AddItemToObject(prot, "jwk", cJSON_Parse(w->acct->jwk));
	cJSON_AddStringToObject(prot, "nonce", w->nonce);
	cJSON_AddStringToObject(prot, "url", url);
	if ((pj = cJSON_PrintUnformatted(prot)) == NULL ||
	    (p64 = b64url(pj, strlen(pj))) == NULL ||
	    (pl64 = b64url(payload != NULL ? payload : "",
	        payload != NULL ? strlen(payload) : 0)) == NULL)
		goto out;
	n = strlen(p64) + 1 + strlen(pl64) + 1;
	if ((in = malloc(n)) == NULL)
		goto out;
	snprintf(in, n, "%s.%s", p64, pl64);
	if (es256_sign(w, in, n - 1, sig) != 0 || (s64 = b64url(sig, sizeof(sig))) == NULL)
		goto out;
	cJSON_AddStringToObject(jws, "protected", p64);
	cJSON_AddStringToObject(jws, "payload", pl64);
	cJSON_AddStringToObject(jws, "signature", s64);
	out = cJSON_PrintUnformatted(jws);
out:
	cJSON_Delete(prot);
	cJSON_Delete(jws);
	free(pj);
	free(p64);
	free(pl64);
	free(in);
	free(s64);
	return out;
}

/* A DER PKCS#10 request for name (subject CN and one subjectAltName
 * dNSName) signed by the worker's CSR key, base64url; the caller frees. */
char *
csr_b64(struct worker *w, const char *name)
{
	Cert *c = w->req;
	uint8_t der[1024];
	size_t nl = strlen(name);
	int n;

	if (nl >= CTC_NAME_SIZE || nl > 100 || wc_InitCert(c) != 0)
		return NULL;
	c->version = 0;
	c->sigType = CTC_SHA256wECDSA;
	memcpy(c->subject.commonName, name, nl + 1);
	/* GeneralNames ::= SEQUENCE { dNSName [2] IA5String } */
	c->altNames[0] = 0x30;
	c->altNames[1] = (byte)(nl + 2);
	c->altNames[2] = 0x82;
	c->altNames[3] = (byte)nl;
	memcpy(c->altNames + 4, name, nl);
	c->altNamesSz = (int)nl + 4;
	if (wc_MakeCertReq_ex(c, der, sizeof(der), ECC_TYPE, &w->csr_key) < 0 ||
	    (n = wc_SignCert_ex(c->bodySz, c->sigType, der, sizeof(der), ECC_TYPE,
	        &w->csr_key, &w->rng)) < 0)
		return NULL;
	return b64url(der, (size_t)n);
}

