/*
 * client.h: a small ACME client for acme/ unit tests and the fuzz drivers,
 * driving acme_handle() with real JWS (ES256 through wolfCrypt) and a clock
 * the caller sets, so whole flows (account, order, challenge, validation,
 * finalize) run without a socket. Header-only: each binary includes it once.
 */
#ifndef HEARTH_TEST_ACME_CLIENT_H
#define HEARTH_TEST_ACME_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "acme.h"
#include "crypto.h"

#define TC_BASE "https://ca.test"
#define TC_PROT 8192     /* protected header bytes */

struct tc {
	struct acme *a;
	time_t now;
	ecc_key key;
	WC_RNG rng;
	char jwk[256];
	char kid[ACME_MAX_URL];      /* account URL once registered */
	char nonce[64];
	const char *peer;            /* source address sent, or NULL */
	struct acme_response resp;   /* the last response */
};

static const char *
tc_header(const struct acme_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void
tc_b64(const void *in, size_t len, char *out, size_t outsz)
{
	(void)crypto_b64url_encode(in, len, out, outsz);
}

static int
tc_init(struct tc *c, struct acme *a, time_t now)
{
	uint8_t x[32], y[32];
	word32 xl = sizeof(x), yl = sizeof(y);
	char bx[64], by[64];

	memset(c, 0, sizeof(*c));
	c->a = a;
	c->now = now;
	if (wc_InitRng(&c->rng) != 0 || wc_ecc_init(&c->key) != 0 ||
	    wc_ecc_make_key_ex(&c->rng, 32, &c->key, ECC_SECP256R1) != 0 ||
	    wc_ecc_export_public_raw(&c->key, x, &xl, y, &yl) != 0)
		return -1;
	tc_b64(x, xl, bx, sizeof(bx));
	tc_b64(y, yl, by, sizeof(by));
	snprintf(c->jwk, sizeof(c->jwk),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
	return 0;
}

static void
tc_free(struct tc *c)
{
	acme_response_clear(&c->resp);
	wc_ecc_free(&c->key);
	wc_FreeRng(&c->rng);
}

/* Sends one request; the response stays in c->resp until the next one. */
static int
tc_send(struct tc *c, const char *method, const char *path, const char *body)
{
	struct acme_request req;
	const char *n;

	acme_response_clear(&c->resp);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.base_url = TC_BASE;
	req.peer = c->peer;
	req.content_type = "application/jose+json";
	req.body = (const uint8_t *)body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.now = c->now;
	acme_handle(c->a, &req, &c->resp);
	if ((n = tc_header(&c->resp, "Replay-Nonce")) != NULL)
		snprintf(c->nonce, sizeof(c->nonce), "%s", n);
	return c->resp.status;
}

/* ES256 over "protected.payload": R || S, 32 bytes each. */
static int
tc_sign(struct tc *c, const char *input, char *out, size_t outsz)
{
	uint8_t hash[32], der[80], rs[64];
	word32 derlen = sizeof(der), rl = 32, sl = 32;
	wc_Sha256 sha;

	if (wc_InitSha256(&sha) != 0 || wc_Sha256Update(&sha,
	    (const byte *)input, (word32)strlen(input)) != 0 ||
	    wc_Sha256Final(&sha, hash) != 0 ||
	    wc_ecc_sign_hash(hash, sizeof(hash), der, &derlen, &c->rng,
	    &c->key) != 0)
		return -1;
	memset(rs, 0, sizeof(rs));
	if (wc_ecc_sig_to_rs(der, derlen, rs, &rl, rs + 32, &sl) != 0)
		return -1;
	/* left-pad short R and S to 32 bytes */
	memmove(rs + 32 - rl, rs, rl);
	memset(rs, 0, 32 - rl);
	memmove(rs + 64 - sl, rs + 32, sl);
	memset(rs + 32, 0, 32 - sl);
	tc_b64(rs, sizeof(rs), out, outsz);
	return 0;
}

/* How a JWS names its key: kid (the account URL), jwk, or jwk without a
 * nonce (the inner JWS of keyChange, RFC 8555 §7.3.5). */
enum tc_key { TC_KID, TC_JWK, TC_INNER };

/* A flattened JWS of payload (len bytes, any bytes; NULL: empty) for url,
 * signed with c's key. Returns a malloc'd string the caller frees, or NULL. */
static char *
tc_jws(struct tc *c, const char *url, const void *payload, size_t plen,
    enum tc_key mode)
{
	char *prot, *p64, *pay64, *input, sig[128], *body = NULL;
	size_t b64len = 4 * plen / 3 + 8;

	prot = malloc(TC_PROT);
	p64 = malloc(2 * TC_PROT);
	pay64 = malloc(b64len);
	input = malloc(2 * TC_PROT + b64len + 2);
	if (prot == NULL || p64 == NULL || pay64 == NULL || input == NULL)
		goto out;
	if (mode == TC_KID)
		snprintf(prot, TC_PROT, "{\"alg\":\"ES256\",\"kid\":\"%s\","
		    "\"nonce\":\"%s\",\"url\":\"%s\"}", c->kid, c->nonce, url);
	else if (mode == TC_JWK)
		snprintf(prot, TC_PROT, "{\"alg\":\"ES256\",\"jwk\":%s,"
		    "\"nonce\":\"%s\",\"url\":\"%s\"}", c->jwk, c->nonce, url);
	else
		snprintf(prot, TC_PROT, "{\"alg\":\"ES256\",\"jwk\":%s,"
		    "\"url\":\"%s\"}", c->jwk, url);
	tc_b64(prot, strlen(prot), p64, 2 * TC_PROT);
	tc_b64(payload != NULL ? payload : "", plen, pay64, b64len);
	sprintf(input, "%s.%s", p64, pay64);
	if (tc_sign(c, input, sig, sizeof(sig)) != 0 ||
	    (body = malloc(strlen(input) + 256)) == NULL)
		goto out;
	sprintf(body, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
	    p64, pay64, sig);
out:
	free(prot);
	free(p64);
	free(pay64);
	free(input);
	return body;
}

/* POSTs payload (plen bytes; NULL: POST-as-GET) to path, signed with c's
 * key as mode says, with a fresh nonce. Returns the HTTP status, or -1. */
static int
tc_post_mode(struct tc *c, const char *path, const void *payload, size_t plen,
    enum tc_key mode)
{
	char url[ACME_MAX_URL], *body;
	int status, n;

	if (c->nonce[0] == '\0')
		(void)tc_send(c, "HEAD", "/acme/new-nonce", NULL);
	n = snprintf(url, sizeof(url), "%s%s", TC_BASE, path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return -1;
	if ((body = tc_jws(c, url, payload, plen, mode)) == NULL)
		return -1;
	status = tc_send(c, "POST", path, body);
	free(body);
	return status;
}

/* POSTs payload (NULL: POST-as-GET) to path, signed with the account key
 * (kid once registered, else jwk). Returns the HTTP status. */
static int
tc_post(struct tc *c, const char *path, const char *payload)
{
	return tc_post_mode(c, path, payload, payload != NULL ? strlen(payload) : 0,
	    c->kid[0] != '\0' ? TC_KID : TC_JWK);
}

/* The path part of a URL the server returned ("https://ca.test/x" -> "/x"). */
static const char *
tc_path(const char *url)
{
	return url != NULL && strncmp(url, TC_BASE, strlen(TC_BASE)) == 0 ?
	    url + strlen(TC_BASE) : "/";
}

/* The id at the end of a URL or path ("" when none). */
static inline const char *
tc_last(const char *url)
{
	const char *s = url != NULL ? strrchr(url, '/') : NULL;

	return s != NULL ? s + 1 : "";
}

/* The last response's body as JSON; caller frees. */
static cJSON *
tc_json(const struct tc *c)
{
	return c->resp.body != NULL ?
	    cJSON_ParseWithLength(c->resp.body, c->resp.body_len) : NULL;
}

static int
tc_register(struct tc *c)
{
	const char *loc;

	if (tc_post(c, "/acme/new-account", "{\"termsOfServiceAgreed\":true}") != 201 ||
	    (loc = tc_header(&c->resp, "Location")) == NULL)
		return -1;
	snprintf(c->kid, sizeof(c->kid), "%s", loc);
	return 0;
}

#endif
