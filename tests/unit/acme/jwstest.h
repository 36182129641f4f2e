/*
 * jwstest.h: signed ACME requests for acme/ unit tests. An Ed25519 account
 * key made and used by the openssl command line (the server side only
 * verifies), nonces taken from the handle, requests through acme_handle().
 * Test code only.
 */
#ifndef HEARTH_JWSTEST_H
#define HEARTH_JWSTEST_H

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto/pki_test.h"

#define JT_BASE "https://ca.test:8443"

struct jt_key {
	char pem[1100];          /* private key file */
	char jwk[160];
	char kid[ACME_MAX_URL];  /* account URL once registered */
};

/* Makes a fresh Ed25519 key named tag under the test directory. */
static inline int
jt_key_new(struct jt_key *k, const char *tag)
{
	uint8_t *der;
	size_t len;
	char x[64];

	memset(k, 0, sizeof(*k));
	snprintf(k->pem, sizeof(k->pem), "%s", pt_path("%s.key", tag));
	if (pt_run("openssl genpkey -algorithm ed25519 -out %s && openssl pkey "
	    "-in %s -pubout -outform DER -out %s.pub", k->pem, k->pem, k->pem) != 0)
		return -1;
	der = (uint8_t *)pt_slurp(pt_path("%s.key.pub", tag), &len);
	if (der == NULL || len < 32 ||
	    crypto_b64url_encode(der + len - 32, 32, x, sizeof(x)) < 0) {
		free(der);
		return -1;
	}
	free(der);
	snprintf(k->jwk, sizeof(k->jwk),
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x);
	return 0;
}

/* b64url(protected) "." b64url(payload), signed; the flattened JWS into
 * out (caller frees). */
static inline char *
jt_sign(const struct jt_key *k, const char *protected_json, const char *payload)
{
	char *p64 = malloc(4 * strlen(protected_json) / 3 + 4);
	char *b64 = malloc(4 * strlen(payload) / 3 + 4), *input, *sig, *out = NULL;
	char sig64[100];
	size_t n, siglen;

	if (p64 == NULL || b64 == NULL)
		goto done;
	crypto_b64url_encode(protected_json, strlen(protected_json), p64,
	    4 * strlen(protected_json) / 3 + 4);
	crypto_b64url_encode(payload, strlen(payload), b64,
	    4 * strlen(payload) / 3 + 4);
	n = strlen(p64) + strlen(b64) + 2;
	if ((input = malloc(n)) == NULL)
		goto done;
	snprintf(input, n, "%s.%s", p64, b64);
	pt_spit(pt_path("jws.in"), input, strlen(input));
	free(input);
	if (pt_run("openssl pkeyutl -sign -inkey %s -rawin -in %s -out %s",
	    k->pem, pt_path("jws.in"), pt_path("jws.sig")) != 0 ||
	    (sig = pt_slurp(pt_path("jws.sig"), &siglen)) == NULL)
		goto done;
	crypto_b64url_encode(sig, siglen, sig64, sizeof(sig64));
	free(sig);
	n = strlen(p64) + strlen(b64) + strlen(sig64) + 64;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "{\"protected\":\"%s\",\"payload\":\"%s\","
		    "\"signature\":\"%s\"}", p64, b64, sig64);
done:
	free(p64);
	free(b64);
	return out;
}

/* A signed POST to path (kid when the key has an account, else jwk). */
static inline void
jt_post(struct acme *a, struct jt_key *k, const char *path, const char *payload,
    time_t now, struct acme_response *resp)
{
	char nonce[ACME_NONCE_LEN + 1], prot[ACME_MAX_URL + 400];
	struct acme_request req;
	char *body;

	acme_nonce_issue(&a->nonces, now, nonce);
	if (k->kid[0] != '\0')
		snprintf(prot, sizeof(prot), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
		    "\"nonce\":\"%s\",\"url\":\"%s%s\"}", k->kid, nonce, JT_BASE, path);
	else
		snprintf(prot, sizeof(prot), "{\"alg\":\"EdDSA\",\"jwk\":%s,"
		    "\"nonce\":\"%s\",\"url\":\"%s%s\"}", k->jwk, nonce, JT_BASE, path);
	body = jt_sign(k, prot, payload);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.base_url = JT_BASE;
	req.content_type = "application/jose+json";
	req.body = (const uint8_t *)body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.now = now;
	acme_handle(a, &req, resp);
	free(body);
}

/* Registers k: newAccount, then kid from Location. 0 on success. */
static inline int
jt_register(struct acme *a, struct jt_key *k, time_t now)
{
	struct acme_response r;
	size_t i;
	int ret = -1;

	jt_post(a, k, ACME_PATH_NEW_ACCOUNT, "{\"termsOfServiceAgreed\":true}",
	    now, &r);
	for (i = 0; r.status == 201 && i < r.n_headers; i++) {
		if (strcmp(r.headers[i].name, "Location") == 0) {
			snprintf(k->kid, sizeof(k->kid), "%s", r.headers[i].value);
			ret = 0;
		}
	}
	acme_response_clear(&r);
	return ret;
}

/* The account id at the end of the kid URL. */
static inline const char *
jt_account_id(const struct jt_key *k)
{
	const char *slash = strrchr(k->kid, '/');

	return slash != NULL ? slash + 1 : "";
}

#endif
