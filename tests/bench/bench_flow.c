/*
 * bench_flow.c: one whole issuance through RFC 8555 as a client does it:
 * newOrder for a fresh name, the authorization, the http-01 challenge
 * (answered by the responder in this process), polling the authorization
 * every POLL_MS or after the server's Retry-After, finalize with a fresh
 * CSR, polling the order while it is processing, and the certificate
 * download (its chain verified on each worker's first one). Each step's
 * latency is sampled; each failure is counted by kind.
 */
#include "bench_acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ACME requests ---------------------------------------------------------- */

/* A fresh nonce from newNonce (RFC 8555 §7.2); 0 or -1 after counting. */
static int
new_nonce(struct worker *w)
{
	double t0 = now_s();

	if (http_do(w, "HEAD", url_path(w->b, w->b->new_nonce), NULL) != 0 ||
	    w->r.status != 200 || w->r.nonce[0] == '\0') {
		fail_step(w, "newNonce");
		return -1;
	}
	sample(w, ST_NONCE, t0, now_s());
	memcpy(w->nonce, w->r.nonce, sizeof(w->nonce));
	return 0;
}

static int
is_bad_nonce(const struct worker *w)
{
	return w->r.status == 400 &&
	    strstr(w->r.body, "urn:ietf:params:acme:error:badNonce") != NULL;
}

/* A signed POST to url answered with status `expect`; the response is in
 * w->r. A badNonce answer is retried once with its fresh nonce (RFC 8555
 * §6.5) and counted. 0, or -1 after counting the failure under step. */
static int
acme_post(struct worker *w, const char *step, const char *url,
    const char *payload, int expect)
{
	const char *path = url_path(w->b, url);
	char *body = NULL;
	int attempt, ret = -1;

	w->errmsg[0] = '\0';
	if (path == NULL) {
		snprintf(w->errmsg, sizeof(w->errmsg), "URL not on the server: %.100s",
		    url != NULL ? url : "(none)");
		goto out;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (w->nonce[0] == '\0' && new_nonce(w) != 0) {
			free(body);
			return -1;
		}
		free(body);
		if ((body = jws_body(w, url, payload)) == NULL) {
			snprintf(w->errmsg, sizeof(w->errmsg), "building the JWS failed");
			goto out;
		}
		w->nonce[0] = '\0';
		if (http_do(w, "POST", path, body) != 0)
			goto out;
		memcpy(w->nonce, w->r.nonce, sizeof(w->nonce));
		if (attempt > 0 || !is_bad_nonce(w))
			break;
		atomic_fetch_add(&w->b->bad_nonce_retries, 1);
	}
	if (w->r.status == expect)
		ret = 0;
out:
	if (ret != 0)
		fail_step(w, step);
	free(body);
	return ret;
}

/* POST-as-GET url, parsed; NULL after counting the failure. */
static cJSON *
acme_get_json(struct worker *w, const char *step, const char *url)
{
	cJSON *j;

	if (acme_post(w, step, url, NULL, 200) != 0)
		return NULL;
	if ((j = cJSON_Parse(w->r.body)) == NULL)
		fail_result(w, step, "response is not JSON");
	return j;
}

/* How long to wait before the next poll: the server's Retry-After unless
 * told to ignore it, else POLL_MS. */
static long
poll_wait_ms(struct worker *w)
{
	if (!w->b->ignore_retry_after && w->r.retry_after_ms >= 0) {
		atomic_fetch_add(&w->b->retry_after_waits, 1);
		return w->r.retry_after_ms;
	}
	return POLL_MS;
}

/* POST-as-GET url until its status is no longer one of `waiting` (a
 * space-separated list); the final object, or NULL after counting. */
static cJSON *
poll_status(struct worker *w, const char *step, const char *url,
    const char *waiting)
{
	double deadline = now_s() + POLL_TIMEOUT_S;
	const char *st;
	long wait;
	cJSON *j;

	for (;;) {
		w->polls++;
		if ((j = acme_get_json(w, step, url)) == NULL)
			return NULL;
		if ((st = json_str(j, "status")) == NULL) {
			fail_result(w, step, "no status");
			cJSON_Delete(j);
			return NULL;
		}
		if (strstr(waiting, st) == NULL)
			return j;
		cJSON_Delete(j);
		if (now_s() > deadline || atomic_load(&w->b->abort)) {
			fail_result(w, step, "still waiting after the poll timeout");
			return NULL;
		}
		for (wait = poll_wait_ms(w); wait > 0 && !atomic_load(&w->b->abort);
		    wait -= POLL_MS)
			sleep_ms(wait < POLL_MS ? wait : POLL_MS);
	}
}

/* newAccount (RFC 8555 §7.3) for account a, signed by its key on this
 * worker's connection; sets a->kid. */
int
new_account(struct worker *w, struct account *a)
{
	double t0 = now_s();

	w->acct = a;
	a->kid[0] = '\0';
	if (acme_post(w, "newAccount", w->b->new_account,
	        "{\"termsOfServiceAgreed\":true}", 201) != 0)
		return -1;
	if (copy_str(a->kid, sizeof(a->kid), w->r.location) != 0 || a->kid[0] == '\0') {
		fail_result(w, "newAccount", "no Location");
		a->kid[0] = '\0';
		return -1;
	}
	sample(w, ST_ACCOUNT, t0, now_s());
	return 0;
}
/* ---- one issuance ------------------------------------------------------------- */

struct order {
	char name[80];
	char url[MAX_URL], authz[MAX_URL], finalize[MAX_URL], challenge[MAX_URL];
	char cert[MAX_URL], token[MAX_TOKEN];
};

/* newOrder (RFC 8555 §7.4) for one DNS name. */
static int
step_new_order(struct worker *w, struct order *o)
{
	char payload[200];
	const cJSON *az;
	cJSON *j;
	int ret = -1;

	snprintf(payload, sizeof(payload),
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", o->name);
	if (acme_post(w, "newOrder", w->b->new_order, payload, 201) != 0)
		return -1;
	if ((j = cJSON_Parse(w->r.body)) == NULL) {
		fail_result(w, "newOrder", "response is not JSON");
		return -1;
	}
	az = cJSON_GetObjectItemCaseSensitive(j, "authorizations");
	if (copy_str(o->url, sizeof(o->url), w->r.location) != 0 ||
	    copy_str(o->finalize, sizeof(o->finalize), json_str(j, "finalize")) != 0 ||
	    !cJSON_IsArray(az) || cJSON_GetArraySize(az) != 1 ||
	    copy_str(o->authz, sizeof(o->authz),
	        cJSON_GetStringValue(cJSON_GetArrayItem(az, 0))) != 0)
		fail_result(w, "newOrder", "no Location, finalize or single authorization");
	else
		ret = 0;
	cJSON_Delete(j);
	return ret;
}

/* The authorization's http-01 challenge (RFC 8555 §8.3). */
static int
step_authz(struct worker *w, struct order *o)
{
	const cJSON *ch;
	cJSON *j;
	int ret = -1;

	if ((j = acme_get_json(w, "authorization", o->authz)) == NULL)
		return -1;
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(j, "challenges")) {
		const char *type = json_str(ch, "type");

		if (type == NULL || strcmp(type, "http-01") != 0)
			continue;
		if (copy_str(o->token, sizeof(o->token), json_str(ch, "token")) == 0 &&
		    copy_str(o->challenge, sizeof(o->challenge), json_str(ch, "url")) == 0)
			ret = 0;
		break;
	}
	if (ret != 0)
		fail_result(w, "authorization", "no usable http-01 challenge");
	cJSON_Delete(j);
	return ret;
}

/* "invalid (error type)" from a decided authorization's http-01 challenge. */
static const char *
invalid_reason(const cJSON *az, const char *status, char *buf, size_t cap)
{
	const cJSON *ch;
	const char *type = NULL;

	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(az, "challenges"))
		if (json_str(ch, "type") != NULL && strcmp(json_str(ch, "type"), "http-01") == 0)
			type = json_str(cJSON_GetObjectItemCaseSensitive(ch, "error"), "type");
	snprintf(buf, cap, "%.20s (%.100s)", status, type != NULL ? type : "no error");
	return buf;
}

/* Puts the key authorization in place, answers the challenge and polls the
 * authorization until hearth decided; 0 when valid. */
static int
step_validate(struct worker *w, struct order *o)
{
	char keyauth[MAX_TOKEN + 64], why[128];
	const char *st;
	cJSON *j;
	int ret = -1;

	snprintf(keyauth, sizeof(keyauth), "%s.%s", o->token, w->acct->thumb);
	responder_set(&w->b->resp, w->id, o->token, keyauth);
	w->validations++;
	if (acme_post(w, "challenge", o->challenge, "{}", 200) != 0)
		goto out;
	if ((j = poll_status(w, "authorization poll", o->authz, "pending")) == NULL)
		goto out;
	st = json_str(j, "status");
	if (strcmp(st, "valid") == 0)
		ret = 0;
	else
		fail_result(w, "authorization poll", invalid_reason(j, st, why, sizeof(why)));
	cJSON_Delete(j);
out:
	responder_clear(&w->b->resp, w->id);
	return ret;
}

/* finalize (RFC 8555 §7.4) with a new CSR, then the order polled while it
 * is processing; sets o->cert. */
static int
step_finalize(struct worker *w, struct order *o)
{
	char *csr = csr_b64(w, o->name), *payload = NULL;
	cJSON *j = NULL;
	size_t n;
	int ret = -1;

	if (csr == NULL) {
		fail_result(w, "finalize", "making the CSR failed");
		return -1;
	}
	n = strlen(csr) + 16;
	if ((payload = malloc(n)) == NULL)
		goto out;
	snprintf(payload, n, "{\"csr\":\"%s\"}", csr);
	if (acme_post(w, "finalize", o->finalize, payload, 200) != 0)
		goto out;
	if ((j = cJSON_Parse(w->r.body)) == NULL) {
		fail_result(w, "finalize", "response is not JSON");
		goto out;
	}
	if (json_str(j, "status") != NULL && strcmp(json_str(j, "status"), "processing") == 0) {
		cJSON_Delete(j);
		if ((j = poll_status(w, "order poll", o->url, "processing")) == NULL)
			goto out;
	}
	if (json_str(j, "status") == NULL || strcmp(json_str(j, "status"), "valid") != 0 ||
	    copy_str(o->cert, sizeof(o->cert), json_str(j, "certificate")) != 0)
		fail_result(w, "finalize", "order not valid with a certificate URL");
	else
		ret = 0;
out:
	cJSON_Delete(j);
	free(payload);
	free(csr);
	return ret;
}

/* The n-th PEM certificate of text (from 0): start and length, or NULL. */
static const char *
pem_cert(const char *text, int n, size_t *len)
{
	static const char end_marker[] = "-----END CERTIFICATE-----";
	const char *p = text, *e;

	for (;;) {
		if ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) == NULL ||
		    (e = strstr(p, end_marker)) == NULL)
			return NULL;
		e += sizeof(end_marker) - 1;
		if (n-- == 0) {
			*len = (size_t)(e - p);
			return p;
		}
		p = e;
	}
}

/* The chain verifies (leaf, then the intermediate under the root) and the
 * leaf names exactly the ordered name; NULL, or why not. */
static const char *
chain_problem(struct worker *w, const char *name)
{
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
	WOLFSSL_X509 *x = NULL;
	const char *leaf, *inter, *why = NULL;
	char *alt;
	size_t ll, il;
	int found = 0, others = 0;

	if ((leaf = pem_cert(w->r.body, 0, &ll)) == NULL ||
	    (inter = pem_cert(w->r.body, 1, &il)) == NULL)
		why = "not a PEM chain of two certificates";
	else if (cm == NULL ||
	    wolfSSL_CertManagerLoadCA(cm, w->b->chain_root, NULL) != WOLFSSL_SUCCESS)
		why = "cannot load the root";
	else if (wolfSSL_CertManagerLoadCABuffer(cm, (const unsigned char *)inter,
	        (long)il, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		why = "intermediate does not verify under the root";
	else if (wolfSSL_CertManagerVerifyBuffer(cm, (const unsigned char *)leaf,
	        (long)ll, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		why = "leaf does not verify under the intermediate";
	else if ((x = wolfSSL_X509_load_certificate_buffer((const unsigned char *)leaf,
	        (int)ll, WOLFSSL_FILETYPE_PEM)) == NULL)
		why = "leaf does not parse";
	if (x != NULL) {
		while ((alt = wolfSSL_X509_get_next_altname(x)) != NULL) {
			if (strcmp(alt, name) == 0)
				found = 1;
			else
				others = 1;
		}
		if (!found || others)
			why = "leaf does not name exactly the ordered name";
	}
	wolfSSL_X509_free(x);
	if (cm != NULL)
		wolfSSL_CertManagerFree(cm);
	return why;
}

/* The certificate (RFC 8555 §7.4.2), checked on each worker's first
 * download, or on every one with -V. */
static int
step_download(struct worker *w, struct order *o)
{
	const char *why;

	if (acme_post(w, "certificate", o->cert, NULL, 200) != 0)
		return -1;
	if (strstr(w->r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
		fail_result(w, "certificate", "not PEM");
		return -1;
	}
	if (w->verified == 0 || w->b->verify_all) {
		if ((why = chain_problem(w, o->name)) != NULL) {
			fail_result(w, "certificate", why);
			return -1;
		}
		w->verified++;
	}
	return 0;
}

/* One whole issuance for name number idx; each step's latency recorded. */
int
issue_one(struct worker *w, long idx)
{
	struct order o;
	double t0 = now_s(), t1, t2;

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "b%s-%06ld.bench.internal", w->b->tag, idx);
	if (step_new_order(w, &o) != 0)
		return -1;
	sample(w, ST_ORDER, t0, t1 = now_s());
	if (step_authz(w, &o) != 0)
		return -1;
	sample(w, ST_AUTHZ, t1, t2 = now_s());
	if (step_validate(w, &o) != 0)
		return -1;
	sample(w, ST_VALID, t2, t1 = now_s());
	if (step_finalize(w, &o) != 0)
		return -1;
	sample(w, ST_FINALIZE, t1, t2 = now_s());
	if (step_download(w, &o) != 0)
		return -1;
	sample(w, ST_DOWNLOAD, t2, t1 = now_s());
	sample(w, ST_ISSUE, t0, t1);
	return 0;
}

