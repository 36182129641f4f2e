/*
 * jws.c: the checks every ACME POST passes (RFC 8555 §6.2-§6.5), as one fixed
 * pipeline of small steps, each answering with a problem on failure:
 * content type -> size -> parse -> key (jwk xor kid) -> algorithm ->
 * signature -> nonce -> url. The order is part of the contract: a request
 * that fails two checks is told about the first.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "store.h"

#define SUPPORTED_ALGS "RS256, PS256, ES256, ES384, ES512, EdDSA"

/* The three members of a flattened JWS (RFC 7515 §7.2.2), base64url text. */
struct jws_parts {
	const char *protected_b64;
	const char *payload_b64;
	const char *signature_b64;
};

/* badSignatureAlgorithm must list what is accepted (RFC 8555 §6.2). */
static void
problem_bad_alg(struct acme_response *resp, const char *detail)
{
	cJSON *o, *algs;
	char *body;
	static const char *const names[] = { "RS256", "PS256", "ES256", "ES384",
	    "ES512", "EdDSA" };

	acme_respond_problem(resp, ACME_P_BAD_SIGNATURE_ALGORITHM, 0, "%s", detail);
	if (resp->body == NULL || (o = cJSON_Parse(resp->body)) == NULL)
		return;
	algs = cJSON_CreateStringArray(names, 6);
	if (algs != NULL && cJSON_AddItemToObject(o, "algorithms", algs) &&
	    (body = cJSON_PrintUnformatted(o)) != NULL) {
		free(resp->body);
		resp->body = body;
		resp->body_len = strlen(body);
	}
	cJSON_Delete(o);
}

static int
check_content_type(const struct acme_request *req, struct acme_response *resp)
{
	const char *ct = req->content_type;
	size_t n = strlen("application/jose+json");

	if (ct != NULL && strncasecmp(ct, "application/jose+json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
		return 0;
	acme_respond_problem(resp, ACME_P_MALFORMED, 415,
	    "requests must have Content-Type application/jose+json");
	return -1;
}

static int
check_size(const struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	if (req->body_len == 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "request body is empty");
		return -1;
	}
	if (req->body_len > a->cfg.max_body) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 413,
		    "request body exceeds %zu bytes", a->cfg.max_body);
		return -1;
	}
	return 0;
}

/* Decodes base64url text into a fresh NUL-terminated buffer. */
static char *
b64_decode_alloc(const char *in, size_t *outlen)
{
	size_t n = strlen(in), cap = n / 4 * 3 + 3;
	uint8_t *out = malloc(cap + 1);

	if (out == NULL)
		return NULL;
	if (crypto_b64url_decode(in, n, out, cap, outlen) != CRYPTO_OK) {
		free(out);
		return NULL;
	}
	out[*outlen] = '\0';
	return (char *)out;
}

/* Members an ACME object may have; more is not a request but an attack
 * on the duplicate check below. */
#define MAX_MEMBERS 32
#define STR_(x) #x
#define STR(x) STR_(x)

/* Nonzero when an object has too many members or repeats a name. Parsers
 * disagree on which duplicate counts (RFC 7515 §4, RFC 8259 §4), so none
 * is accepted. The count is bounded first: the pairwise check is
 * quadratic. */
int
acme_json_has_duplicates(const cJSON *o)
{
	const cJSON *a, *b;
	int n = 0;

	for (a = o->child; a != NULL; a = a->next)
		if (++n > MAX_MEMBERS)
			return 1;
	for (a = o->child; a != NULL; a = a->next)
		for (b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return 1;
	return 0;
}

/* RFC 8555 §6.2: a flattened JWS, with only protected, payload, signature. */
static cJSON *
parse_flattened(const char *json, size_t len, struct jws_parts *p,
    struct acme_response *resp)
{
	cJSON *o = cJSON_ParseWithLength(json, len), *m;

	if (!cJSON_IsObject(o) || acme_json_has_duplicates(o)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "request body is not a JSON object with unique members "
		    "(at most " STR(MAX_MEMBERS) ")");
		goto fail;
	}
	cJSON_ArrayForEach(m, o) {
		if (strcmp(m->string, "protected") != 0 &&
		    strcmp(m->string, "payload") != 0 &&
		    strcmp(m->string, "signature") != 0) {
			acme_respond_problem(resp, ACME_P_MALFORMED, 0,
			    "JWS has unexpected member \"%.40s\": only the flattened "
			    "serialization with protected, payload, signature is accepted",
			    m->string);
			goto fail;
		}
	}
	p->protected_b64 = acme_json_str(o, "protected");
	p->payload_b64 = acme_json_str(o, "payload");
	p->signature_b64 = acme_json_str(o, "signature");
	if (p->protected_b64 == NULL || p->payload_b64 == NULL ||
	    p->signature_b64 == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "JWS needs string members protected, payload and signature");
		goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static int
decode_parts(const struct jws_parts *p, struct acme_jws *out,
    struct acme_response *resp)
{
	char *hdr;
	size_t len;

	if ((hdr = b64_decode_alloc(p->protected_b64, &len)) == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header is not base64url");
		return -1;
	}
	out->protected = cJSON_ParseWithLength(hdr, len);
	free(hdr);
	if (!cJSON_IsObject(out->protected) || acme_json_has_duplicates(out->protected)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header is not a JSON object with unique members");
		return -1;
	}
	/* RFC 7515 §4.1.11: no extension is understood, so none may be
	 * critical (this also refuses RFC 7797 unencoded payloads). */
	if (cJSON_GetObjectItemCaseSensitive(out->protected, "crit") != NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header names critical extensions this server does "
		    "not support");
		return -1;
	}
	if ((out->payload = b64_decode_alloc(p->payload_b64, &out->payload_len)) == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "payload is not base64url");
		return -1;
	}
	return 0;
}

/* Reads the account record of out->account_id into out->account, and the
 * SHA-256 of its bytes into digest. 0, or -1 with the problem in resp. */
static int
account_read(struct acme *a, const char *kid, struct acme_jws *out,
    uint8_t digest[32], struct acme_response *resp)
{
	struct store_txn *txn;
	const void *val;
	size_t len;
	int ret;

	if (store_read_begin(a->store, &txn) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage unavailable");
		return -1;
	}
	ret = store_get(txn, STORE_T_ACCOUNTS, out->account_id,
	    strlen(out->account_id), &val, &len);
	if (ret == 0) {
		(void)crypto_sha256(val, len, digest);
		out->account = cJSON_ParseWithLength(val, len);
	}
	store_read_end(txn);
	if (ret == STORE_NOTFOUND) {
		acme_respond_problem(resp, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
		    "no account at %s", kid);
		return -1;
	}
	if (ret != 0 || !cJSON_IsObject(out->account)) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "account record is unreadable");
		return -1;
	}
	return 0;
}

/* The account's key, from the cache when the record is the one it was
 * parsed from, else parsed from the record (and cached). 0 or -1. */
static int
account_key(struct acme *a, struct acme_jws *out, const uint8_t digest[32],
    struct acme_response *resp)
{
	const cJSON *key;
	char *keyjson;

	if (acme_keycache_get(&a->keys, out->account_id, digest, &out->jwk,
	    out->thumbprint))
		return 0;
	key = cJSON_GetObjectItemCaseSensitive(out->account, "key");
	if ((keyjson = cJSON_PrintUnformatted(key)) != NULL)
		out->jwk = crypto_jwk_parse(keyjson, strlen(keyjson), NULL);
	free(keyjson);
	if (out->jwk == NULL ||
	    crypto_jwk_thumbprint(out->jwk, out->thumbprint) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "stored account key is unreadable");
		return -1;
	}
	acme_keycache_put(&a->keys, out->account_id, digest, out->jwk,
	    out->thumbprint);
	return 0;
}

/* Loads the account named by kid: it must be this server's account URL,
 * of an account that is valid. */
static int
key_from_kid(struct acme *a, const struct acme_request *req, const char *kid,
    struct acme_jws *out, struct acme_response *resp)
{
	char prefix[ACME_MAX_URL];
	uint8_t digest[32];
	const char *status;
	size_t n;

	n = (size_t)snprintf(prefix, sizeof(prefix), "%s/acme/account/", req->base_url);
	if (n >= sizeof(prefix) || strncmp(kid, prefix, n) != 0 ||
	    !acme_id_valid(kid + n)) {
		acme_respond_problem(resp, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
		    "kid is not an account URL of this server");
		return -1;
	}
	memcpy(out->account_id, kid + n, ACME_ID_LEN + 1);
	if (account_read(a, kid, out, digest, resp) != 0)
		return -1;
	status = acme_json_str(out->account, "status");
	if (status == NULL || strcmp(status, "valid") != 0) {
		/* RFC 8555 §7.3.6: 401 for a deactivated account's requests */
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 401,
		    "account is %s", status != NULL ? status : "not valid");
		return -1;
	}
	return account_key(a, out, digest, resp);
}

static int
key_from_jwk(const cJSON *jwk, struct acme_jws *out, struct acme_response *resp)
{
	char *text = cJSON_PrintUnformatted(jwk);
	int err = CRYPTO_ERR_PARSE;

	if (text != NULL && cJSON_IsObject(jwk))
		out->jwk = crypto_jwk_parse(text, strlen(text), &err);
	free(text);
	if (out->jwk == NULL) {
		acme_respond_problem(resp, ACME_P_BAD_PUBLIC_KEY, 0, "jwk refused: %s",
		    crypto_strerror(err));
		return -1;
	}
	return 0;
}

/* Exactly one of jwk and kid (RFC 8555 §6.2), as the resource wants. */
static int
check_key(struct acme *a, const struct acme_request *req, enum acme_key_mode mode,
    struct acme_jws *out, struct acme_response *resp)
{
	const cJSON *jwk = cJSON_GetObjectItemCaseSensitive(out->protected, "jwk");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(out->protected, "kid");

	if ((jwk != NULL) == (kid != NULL)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header must have exactly one of jwk and kid");
		return -1;
	}
	if (jwk != NULL && mode == ACME_KEY_KID) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "this resource requires kid, not jwk");
		return -1;
	}
	if (kid != NULL && mode == ACME_KEY_JWK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "this resource requires jwk, not kid");
		return -1;
	}
	if (kid != NULL) {
		if (!cJSON_IsString(kid)) {
			acme_respond_problem(resp, ACME_P_MALFORMED, 0, "kid must be a string");
			return -1;
		}
		/* the thumbprint comes with the key, cached or not */
		return key_from_kid(a, req, kid->valuestring, out, resp);
	}
	if (key_from_jwk(jwk, out, resp) != 0)
		return -1;
	if (crypto_jwk_thumbprint(out->jwk, out->thumbprint) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "key thumbprint failed");
		return -1;
	}
	return 0;
}

static int
check_alg(const struct acme_jws *j, enum crypto_jws_alg *alg,
    struct acme_response *resp)
{
	const char *name = acme_json_str(j->protected, "alg");

	if (name == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header has no alg");
		return -1;
	}
	if (crypto_jws_alg_parse(name, alg) != CRYPTO_OK ||
	    *alg == CRYPTO_JWS_HS256 || *alg == CRYPTO_JWS_HS384 ||
	    *alg == CRYPTO_JWS_HS512) {
		problem_bad_alg(resp, "alg is not one of " SUPPORTED_ALGS);
		return -1;
	}
	if (!crypto_jwk_alg_matches(j->jwk, *alg)) {
		problem_bad_alg(resp, "alg does not fit the key");
		return -1;
	}
	return 0;
}

/* Verifies signature over "protected.payload" as sent. */
static int
check_signature(const struct jws_parts *p, const struct acme_jws *j,
    enum crypto_jws_alg alg, struct acme_response *resp)
{
	size_t hl = strlen(p->protected_b64), pl = strlen(p->payload_b64);
	size_t sl = strlen(p->signature_b64), siglen;
	char *input = malloc(hl + pl + 2);
	uint8_t *sig = malloc(sl / 4 * 3 + 3);
	int ret = -1;

	if (input == NULL || sig == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		goto out;
	}
	memcpy(input, p->protected_b64, hl);
	input[hl] = '.';
	memcpy(input + hl + 1, p->payload_b64, pl);
	if (crypto_b64url_decode(p->signature_b64, sl, sig, sl / 4 * 3 + 3,
	    &siglen) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "signature is not base64url");
		goto out;
	}
	if (crypto_jws_verify(j->jwk, alg, input, hl + 1 + pl, sig, siglen) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "JWS signature does not verify");
		goto out;
	}
	ret = 0;
out:
	free(input);
	free(sig);
	return ret;
}

static int
check_nonce(struct acme *a, const struct acme_request *req,
    const struct acme_jws *j, struct acme_response *resp)
{
	const char *nonce = acme_json_str(j->protected, "nonce");
	int ok;

	if (nonce == NULL) {
		acme_respond_problem(resp, ACME_P_BAD_NONCE, 0,
		    "protected header has no nonce");
		return -1;
	}
	if ((ok = acme_nonce_consume(&a->nonces, req->now, nonce)) < 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "the nonce could not be checked");
		return -1;
	}
	if (ok == 0) {
		acme_respond_problem(resp, ACME_P_BAD_NONCE, 0,
		    "nonce is unknown, used or expired; retry with the Replay-Nonce "
		    "of this response");
		return -1;
	}
	return 0;
}

/* RFC 8555 §6.4: the url in the header must be the URL requested. */
static int
check_url(const struct acme_jws *j, const char *want, struct acme_response *resp)
{
	const char *url = acme_json_str(j->protected, "url");

	if (url == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "protected header has no url");
		return -1;
	}
	if (strcmp(url, want) != 0) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "url in the protected header does not match the request URL");
		return -1;
	}
	return 0;
}

int
acme_jws_verify(struct acme *a, const struct acme_request *req,
    enum acme_key_mode mode, struct acme_jws *out, struct acme_response *resp)
{
	struct jws_parts p;
	enum crypto_jws_alg alg;
	char url[ACME_MAX_URL];
	cJSON *outer = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (check_content_type(req, resp) != 0 || check_size(a, req, resp) != 0)
		return -1;
	if ((outer = parse_flattened((const char *)req->body, req->body_len, &p,
	    resp)) == NULL)
		return -1;
	if (decode_parts(&p, out, resp) != 0 ||
	    check_key(a, req, mode, out, resp) != 0 ||
	    check_alg(out, &alg, resp) != 0 ||
	    check_signature(&p, out, alg, resp) != 0 ||
	    check_nonce(a, req, out, resp) != 0)
		goto out;
	if (acme_request_url(req, url, sizeof(url)) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "request URL too long");
		goto out;
	}
	if (check_url(out, url, resp) != 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(outer);
	if (ret != 0)
		acme_jws_clear(out);
	return ret;
}

int
acme_jws_verify_inner(const char *json, size_t len, const char *outer_url,
    struct acme_jws *out, struct acme_response *resp)
{
	struct jws_parts p;
	enum crypto_jws_alg alg;
	cJSON *outer;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if ((outer = parse_flattened(json, len, &p, resp)) == NULL)
		return -1;
	if (decode_parts(&p, out, resp) != 0)
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(out->protected, "kid") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(out->protected, "nonce") != NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "inner JWS of keyChange must have jwk and no kid or nonce");
		goto out;
	}
	if (key_from_jwk(cJSON_GetObjectItemCaseSensitive(out->protected, "jwk"),
	    out, resp) != 0 ||
	    crypto_jwk_thumbprint(out->jwk, out->thumbprint) != CRYPTO_OK ||
	    check_alg(out, &alg, resp) != 0 ||
	    check_signature(&p, out, alg, resp) != 0 ||
	    check_url(out, outer_url, resp) != 0)
		goto out;
	ret = 0;
out:
	cJSON_Delete(outer);
	if (ret != 0)
		acme_jws_clear(out);
	return ret;
}

void
acme_jws_clear(struct acme_jws *j)
{
	if (j == NULL)
		return;
	cJSON_Delete(j->protected);
	cJSON_Delete(j->account);
	free(j->payload);
	crypto_jwk_free(j->jwk);
	memset(j, 0, sizeof(*j));
}

cJSON *
acme_jws_payload_object(const struct acme_jws *j, struct acme_response *resp)
{
	cJSON *o = cJSON_ParseWithLength(j->payload, j->payload_len);

	if (!cJSON_IsObject(o) || acme_json_has_duplicates(o)) {
		cJSON_Delete(o);
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "payload is not a JSON object with unique members");
		return NULL;
	}
	return o;
}
