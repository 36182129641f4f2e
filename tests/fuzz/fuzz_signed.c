/*
 * fuzz_signed.c: the payload parsers that run after JWS verification.
 *
 * Random request bodies never carry a valid signature, so fuzz_request stops
 * at the JWS pipeline. This driver signs each input as the payload of a real
 * request (ES256, the account's key, a fresh nonce, the right url), so what
 * the fuzzer explores is what newAccount, newOrder, newAuthz, finalize,
 * keyChange, revokeCert and the account, order, authorization and challenge
 * resources do with an authenticated payload.
 *
 * Set up once: a temporary CA and signer, a store, an acme handle, a main
 * account, a ready order (its http-01 job answered through
 * acme_validation_next/done) for finalize, a certificate for revokeCert, a
 * pending order whose authorization and challenge the fuzzer may answer or
 * deactivate, and a throwaway account for updates and deactivation. The
 * first input byte picks the resource; the rest is the payload. In the
 * payload, @ACCOUNT@, @OLDKEY@, @CSR@ and @CERT@ stand for the main
 * account's URL, its current JWK, a CSR for the ready order's name and the
 * issued certificate (base64url DER), so seeds stay valid across runs.
 *
 * State stays bounded: whatever an input used up (the ready order, the
 * certificate, the pending challenge, the throwaway account) is made again
 * before the next input, and a successful keyChange swaps the two keys.
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "client.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The clock of every request: the real time at setup, since the signer
 * refuses validity it judges backdated by its own clock. */
static time_t fz_now;
#define FZ_NOW        fz_now
#define FZ_NAME       "svc.fuzz.internal"
#define FZ_PENDING    "pending.fuzz.internal"
#define FZ_MAX_INPUT  (16 * 1024)
#define FZ_URL        ACME_MAX_URL

enum fz_resource {
	R_NEW_ACCOUNT, R_NEW_ORDER, R_NEW_AUTHZ, R_ORDER, R_FINALIZE, R_AUTHZ,
	R_CHALLENGE, R_KEY_CHANGE, R_KEY_CHANGE_INNER, R_REVOKE, R_ACCOUNT,
	R_CERT, R_ORDERS, R_COUNT
};

struct fz {
	char dir[256];
	struct store *st;
	struct crypto_signer *signer;
	struct acme *a;
	struct tc keys[2];            /* keys[cur] is the main account's key */
	int cur;
	struct tc spare;              /* throwaway account */
	char csr[2048];               /* base64url DER for FZ_NAME */
	char cert[8192];              /* base64url DER of an issued leaf */
	char cert_path[FZ_URL];
	char order[FZ_URL], finalize[FZ_URL];     /* a ready order */
	char authz[FZ_URL], chall[FZ_URL];        /* a pending authorization */
};

static struct fz *fz;

static const char *
json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
path_copy(char *out, const char *url)
{
	snprintf(out, FZ_URL, "%s", tc_path(url));
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
fz_cleanup(void)
{
	if (fz != NULL && fz->dir[0] != '\0')
		(void)nftw(fz->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Answers every queued validation job: good when good is set, else with a
 * 404 that makes the challenge invalid. Returns how many there were. */
static int
drain(int good)
{
	struct acme_validation job;
	struct acme_validation_result r;
	int n = 0;

	while (acme_validation_next(fz->a, &job) == 1) {
		memset(&r, 0, sizeof(r));
		r.status = ACME_FETCH_OK;
		r.http_status = good ? 200 : 404;
		r.body = (const uint8_t *)job.key_authorization;
		r.body_len = good ? strlen(job.key_authorization) : 0;
		acme_validation_done(fz->a, &job, &r, FZ_NOW);
		n++;
	}
	return n;
}

/* newOrder for name; the paths of its authorization and http-01
 * challenge, and of the order and its finalize URL. */
static int
order_new(const char *name, char *order, char *fin, char *authz, char *chall)
{
	struct tc *c = &fz->keys[fz->cur];
	char payload[256];
	const cJSON *e;
	cJSON *o;

	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"%s\"}]}", name);
	if (tc_post(c, "/acme/new-order", payload) != 201 || (o = tc_json(c)) == NULL)
		return -1;
	path_copy(order, tc_header(&c->resp, "Location"));
	path_copy(fin, json_str(o, "finalize"));
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	path_copy(authz, cJSON_IsString(e) ? e->valuestring : NULL);
	cJSON_Delete(o);
	if (tc_post(c, authz, NULL) != 200 || (o = tc_json(c)) == NULL)
		return -1;
	chall[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (json_str(e, "type") != NULL &&
		    strcmp(json_str(e, "type"), "http-01") == 0)
			path_copy(chall, json_str(e, "url"));
	cJSON_Delete(o);
	return chall[0] != '\0' ? 0 : -1;
}

/* A ready order for FZ_NAME: newOrder, its challenge answered and judged
 * (or its authorization reused from an earlier order). */
static int
make_ready(void)
{
	struct tc *c = &fz->keys[fz->cur];
	char authz[FZ_URL], chall[FZ_URL];
	const char *st;
	cJSON *o;
	int ok;

	if (order_new(FZ_NAME, fz->order, fz->finalize, authz, chall) != 0 ||
	    tc_post(c, chall, "{}") != 200)
		return -1;
	(void)drain(1);
	if (tc_post(c, fz->order, NULL) != 200 || (o = tc_json(c)) == NULL)
		return -1;
	ok = (st = json_str(o, "status")) != NULL && strcmp(st, "ready") == 0;
	cJSON_Delete(o);
	return ok ? 0 : -1;
}

/* A pending authorization and challenge for the fuzzer to answer. */
static int
make_pending(void)
{
	char order[FZ_URL], fin[FZ_URL];

	return order_new(FZ_PENDING, order, fin, fz->authz, fz->chall);
}

/* Finalizes the ready order with the CSR and keeps the certificate, then
 * makes another ready order. */
static int
make_cert(void)
{
	struct tc *c = &fz->keys[fz->cur];
	char payload[4096], *pem;
	uint8_t der[4096];
	cJSON *o;
	int n;

	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", fz->csr);
	if (make_ready() != 0 || tc_post(c, fz->finalize, payload) != 200 ||
	    (o = tc_json(c)) == NULL)
		return -1;
	path_copy(fz->cert_path, json_str(o, "certificate"));
	cJSON_Delete(o);
	if (tc_post(c, fz->cert_path, NULL) != 200 || c->resp.body == NULL ||
	    (pem = strndup(c->resp.body, c->resp.body_len)) == NULL)
		return -1;
	n = wc_CertPemToDer((const unsigned char *)pem, (int)strlen(pem), der,
	    sizeof(der), CERT_TYPE);
	free(pem);
	if (n <= 0)
		return -1;
	tc_b64(der, (size_t)n, fz->cert, sizeof(fz->cert));
	return make_ready();
}

/* A fresh throwaway account (its key too: a deactivated key stays so). */
static int
make_spare(void)
{
	tc_free(&fz->spare);
	return tc_init(&fz->spare, fz->a, FZ_NOW) == 0 && tc_register(&fz->spare) == 0 ?
	    0 : -1;
}

static int
make_csr(void)
{
	char cmd[1024], path[300];
	uint8_t der[2048];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/csr.der", fz->dir);
	snprintf(cmd, sizeof(cmd), "openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=" FZ_NAME
	    " -outform DER -out %s 2>/dev/null", path);
	if (system(cmd) != 0 || (f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(der, 1, sizeof(der), f);
	fclose(f);
	tc_b64(der, n, fz->csr, sizeof(fz->csr));
	return n > 0 ? 0 : -1;
}

static int
open_ca(void)
{
	struct crypto_ca_params p;
	struct acme_config cfg;
	char path[300], err[256];
	int e, gen;

	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "fuzz";
	p.root_passphrase = "fuzz";
	p.root_passphrase_len = 4;
	p.now = FZ_NOW;
	snprintf(path, sizeof(path), "%s/ca", fz->dir);
	if (crypto_ca_create(path, &p, &gen) != CRYPTO_OK ||
	    (fz->signer = crypto_signer_open(path, NULL, 0, NULL, &e)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/db", fz->dir);
	if ((fz->st = store_open(path, &e, err, sizeof(err))) == NULL)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	return (fz->a = acme_new(&cfg, fz->st, fz->signer, &e)) != NULL ? 0 : -1;
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if ((fz = calloc(1, sizeof(*fz))) == NULL)
		abort();
	fz_now = time(NULL);
	snprintf(fz->dir, sizeof(fz->dir), "%s/hearth-fuzz-signed-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(fz->dir) == NULL) {
		fz->dir[0] = '\0';
		abort();
	}
	atexit(fz_cleanup);
	if (crypto_init() != 0 || open_ca() != 0 || make_csr() != 0 ||
	    tc_init(&fz->keys[0], fz->a, FZ_NOW) != 0 ||
	    tc_init(&fz->keys[1], fz->a, FZ_NOW) != 0 ||
	    tc_register(&fz->keys[0]) != 0 || make_cert() != 0 ||
	    make_pending() != 0 || make_spare() != 0) {
		fprintf(stderr, "fuzz_signed: setup failed\n");
		abort();
	}
}

/* Which placeholder starts at in (len bytes left): its index, or -1. */
static int
placeholder(const uint8_t *in, size_t len)
{
	static const char *const names[] = { "@ACCOUNT@", "@OLDKEY@", "@CSR@",
	    "@CERT@" };
	int k;

	for (k = 0; k < 4; k++)
		if (len >= strlen(names[k]) &&
		    memcmp(in, names[k], strlen(names[k])) == 0)
			return k;
	return -1;
}

/* The payload with @ACCOUNT@, @OLDKEY@, @CSR@ and @CERT@ replaced, in two
 * passes (measure, then copy). Returns a malloc'd buffer of *outlen bytes,
 * or NULL. */
static char *
expand(const uint8_t *in, size_t len, size_t *outlen)
{
	const struct tc *c = &fz->keys[fz->cur];
	const char *values[] = { c->kid, c->jwk, fz->csr, fz->cert };
	static const size_t names_len[] = { 9, 8, 5, 6 };
	size_t i, o, pass;
	char *out = NULL;
	int k;

	for (pass = 0; pass < 2; pass++) {
		for (i = o = 0; i < len; ) {
			if (in[i] == '@' && (k = placeholder(in + i, len - i)) >= 0) {
				if (out != NULL)
					memcpy(out + o, values[k], strlen(values[k]));
				o += strlen(values[k]);
				i += names_len[k];
			} else {
				if (out != NULL)
					out[o] = (char)in[i];
				o++;
				i++;
			}
		}
		if (pass == 0 && (out = malloc(o + 1)) == NULL)
			return NULL;
	}
	*outlen = o;
	return out;
}

/* keyChange with p as the inner JWS's payload, signed by the other key. */
static int
key_change_inner(const char *p, size_t plen)
{
	struct tc *c = &fz->keys[fz->cur], *next = &fz->keys[!fz->cur];
	char *inner;
	int status;

	if ((inner = tc_jws(next, TC_BASE "/acme/key-change", p, plen,
	    TC_INNER)) == NULL)
		return -1;
	status = tc_post_mode(c, "/acme/key-change", inner, strlen(inner), TC_KID);
	free(inner);
	if (status == 200) {
		/* the account's key is now the other one */
		memcpy(next->kid, c->kid, sizeof(next->kid));
		c->kid[0] = '\0';
		fz->cur = !fz->cur;
	}
	return status;
}

/* Sends p to the resource r; the HTTP status. */
static int
send_resource(enum fz_resource r, const char *p, size_t plen)
{
	struct tc *c = &fz->keys[fz->cur];
	char path[FZ_URL];

	switch (r) {
	case R_NEW_ACCOUNT:
		return tc_post_mode(c, "/acme/new-account", p, plen, TC_JWK);
	case R_NEW_ORDER:
		return tc_post_mode(c, "/acme/new-order", p, plen, TC_KID);
	case R_NEW_AUTHZ:
		return tc_post_mode(c, "/acme/new-authz", p, plen, TC_KID);
	case R_ORDER:
		return tc_post_mode(c, fz->order, p, plen, TC_KID);
	case R_FINALIZE:
		return tc_post_mode(c, fz->finalize, p, plen, TC_KID);
	case R_AUTHZ:
		return tc_post_mode(c, fz->authz, p, plen, TC_KID);
	case R_CHALLENGE:
		return tc_post_mode(c, fz->chall, p, plen, TC_KID);
	case R_KEY_CHANGE:
		return tc_post_mode(c, "/acme/key-change", p, plen, TC_KID);
	case R_KEY_CHANGE_INNER:
		return key_change_inner(p, plen);
	case R_REVOKE:
		return tc_post_mode(c, "/acme/revoke-cert", p, plen, TC_KID);
	case R_ACCOUNT:
		return tc_post_mode(&fz->spare, tc_path(fz->spare.kid), p, plen, TC_KID);
	case R_CERT:
		return tc_post_mode(c, fz->cert_path, p, plen, TC_KID);
	case R_ORDERS:
		snprintf(path, sizeof(path), "/acme/orders/%s",
		    strrchr(c->kid, '/') != NULL ? strrchr(c->kid, '/') + 1 : "");
		return tc_post_mode(c, path, p, plen, TC_KID);
	case R_COUNT:
		break;
	}
	return -1;
}

static int
body_has(const struct tc *c, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; c->resp.body != NULL && i + n <= c->resp.body_len; i++)
		if (memcmp(c->resp.body + i, s, n) == 0)
			return 1;
	return 0;
}

/* Makes again what the last input used up. */
static void
restore(enum fz_resource r, int status)
{
	const struct tc *c = r == R_ACCOUNT ? &fz->spare : &fz->keys[fz->cur];
	int ok = 0;

	if (drain(0) > 0 || (r == R_AUTHZ && body_has(c, "\"deactivated\"")))
		ok |= make_pending();
	if (r == R_FINALIZE && (status == 200 || body_has(c, "orderNotReady")))
		ok |= make_ready();
	if (r == R_REVOKE && status == 200)
		ok |= make_cert();
	if (r == R_ACCOUNT && body_has(c, "\"deactivated\""))
		ok |= make_spare();
	if (ok != 0) {
		fprintf(stderr, "fuzz_signed: cannot restore the state\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum fz_resource r;
	size_t plen;
	char *p;
	int status;

	if (fz == NULL)
		setup();
	if (size == 0 || size > FZ_MAX_INPUT)
		return 0;
	r = (enum fz_resource)(data[0] % R_COUNT);
	if ((p = expand(data + 1, size - 1, &plen)) == NULL)
		return 0;
	status = send_resource(r, p, plen);
	free(p);
	if (status < 200 || status > 599)
		abort();
	restore(r, status);
	return 0;
}
