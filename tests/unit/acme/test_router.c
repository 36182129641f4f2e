/*
 * test_router.c: the directory (RFC 8555 §7.1.1), newNonce (§7.2), the
 * headers every response carries, and problem documents for the rest.
 */
#include "check.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"

static const char *
header(const struct acme_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void
request(struct acme *a, const char *method, const char *path,
    struct acme_response *resp)
{
	struct acme_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.base_url = "https://ca.test:8443";
	req.now = 1700000000;
	acme_handle(a, &req, resp);
}

static void
test_directory(struct acme *a)
{
	static const char *const fields[][2] = {
		{ "newNonce", "https://ca.test:8443/acme/new-nonce" },
		{ "newAccount", "https://ca.test:8443/acme/new-account" },
		{ "newOrder", "https://ca.test:8443/acme/new-order" },
		{ "newAuthz", "https://ca.test:8443/acme/new-authz" },
		{ "revokeCert", "https://ca.test:8443/acme/revoke-cert" },
		{ "keyChange", "https://ca.test:8443/acme/key-change" },
	};
	struct acme_response r;
	cJSON *dir, *meta;
	size_t i;

	request(a, "GET", "/directory", &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_STR(r.content_type, "application/json");
	dir = cJSON_ParseWithLength(r.body, r.body_len);
	CHECK(dir != NULL);
	for (i = 0; dir != NULL && i < sizeof(fields) / sizeof(fields[0]); i++)
		CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dir,
		    fields[i][0])), fields[i][1]);
	meta = cJSON_GetObjectItemCaseSensitive(dir, "meta");
	CHECK(cJSON_IsObject(meta));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(meta,
	    "externalAccountRequired")));
	cJSON_Delete(dir);
	acme_response_clear(&r);

	request(a, "POST", "/directory", &r);
	CHECK_EQ_INT(r.status, 405);
	acme_response_clear(&r);
}

static void
test_new_nonce(struct acme *a)
{
	struct acme_response r;
	const char *n1;
	char first[ACME_NONCE_LEN + 1];

	request(a, "HEAD", "/acme/new-nonce", &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK(r.body == NULL);
	n1 = header(&r, "Replay-Nonce");
	CHECK(n1 != NULL && strlen(n1) == ACME_NONCE_LEN);
	snprintf(first, sizeof(first), "%s", n1 != NULL ? n1 : "");
	CHECK_EQ_STR(header(&r, "Cache-Control"), "no-store");
	CHECK_EQ_STR(header(&r, "Link"),
	    "<https://ca.test:8443/directory>;rel=\"index\"");
	acme_response_clear(&r);

	request(a, "GET", "/acme/new-nonce", &r);
	CHECK_EQ_INT(r.status, 204);
	CHECK(header(&r, "Replay-Nonce") != NULL);
	CHECK(header(&r, "Replay-Nonce") == NULL ||
	    strcmp(header(&r, "Replay-Nonce"), first) != 0);
	CHECK_EQ_STR(header(&r, "Cache-Control"), "no-store");
	acme_response_clear(&r);

	/* the nonce the server handed out is one it accepts, once */
	CHECK_EQ_INT(acme_nonce_consume(&a->nonces, 1700000000, first), 1);
	CHECK_EQ_INT(acme_nonce_consume(&a->nonces, 1700000000, first), 0);

	request(a, "POST", "/acme/new-nonce", &r);
	CHECK_EQ_INT(r.status, 405);
	CHECK_EQ_STR(r.content_type, "application/problem+json");
	acme_response_clear(&r);
}

static void
test_problems(struct acme *a)
{
	struct acme_response r;
	cJSON *p;

	request(a, "GET", "/no/such/thing", &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK_EQ_STR(r.content_type, "application/problem+json");
	p = cJSON_ParseWithLength(r.body, r.body_len);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type")),
	    "urn:ietf:params:acme:error:malformed");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(p, "status")));
	CHECK(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "detail")) != NULL);
	cJSON_Delete(p);
	acme_response_clear(&r);

	/* every POST resource answers with a nonce and the index link */
	request(a, "POST", "/acme/new-account", &r);
	CHECK_EQ_STR(r.content_type, "application/problem+json");
	CHECK(header(&r, "Replay-Nonce") != NULL);
	CHECK(header(&r, "Link") != NULL);
	acme_response_clear(&r);

	CHECK_EQ_STR(acme_problem_type(ACME_P_BAD_NONCE),
	    "urn:ietf:params:acme:error:badNonce");
	CHECK_EQ_INT(acme_problem_status(ACME_P_UNAUTHORIZED), 403);
	CHECK_EQ_INT(acme_problem_status(ACME_P_RATE_LIMITED), 429);
	CHECK_EQ_STR(acme_problem_type((enum acme_problem)999),
	    "urn:ietf:params:acme:error:serverInternal");
}

/* Which requests acme_request_waits() sends off the loop: a POST that
 * creates or changes something; not a POST-as-GET of an object, a GET or
 * HEAD, or a path with no resource; every POST when replicas share the
 * store (each redeems its nonce there). */
static void
test_request_waits(struct acme *a)
{
	static const char read_body[] = "{\"protected\":\"e30\",\"payload\":\"\","
	    "\"signature\":\"AA\"}";
	static const char write_body[] = "{\"protected\":\"e30\",\"payload\":"
	    "\"e30\",\"signature\":\"AA\"}";
	static const struct {
		const char *method, *path, *body;
		int waits, waits_shared;
	} cases[] = {
		{ "GET", "/directory", NULL, 0, 0 },
		{ "HEAD", "/acme/new-nonce", NULL, 0, 0 },
		{ "GET", "/acme/new-nonce", NULL, 0, 0 },
		{ "POST", "/acme/new-account", write_body, 1, 1 },
		{ "POST", "/acme/new-order", write_body, 1, 1 },
		{ "POST", "/acme/revoke-cert", write_body, 1, 1 },
		{ "POST", "/acme/key-change", write_body, 1, 1 },
		{ "POST", "/acme/finalize/abc", write_body, 1, 1 },
		{ "POST", "/acme/chall/abc", write_body, 1, 1 },
		{ "POST", "/acme/chall/abc", read_body, 0, 1 },
		{ "POST", "/acme/authz/abc", write_body, 1, 1 },
		{ "POST", "/acme/authz/abc", read_body, 0, 1 },
		{ "POST", "/acme/order/abc", read_body, 0, 1 },
		{ "POST", "/acme/orders/abc", read_body, 0, 1 },
		{ "POST", "/acme/cert/abc", read_body, 0, 1 },
		{ "POST", "/acme/account/abc", read_body, 0, 1 },
		{ "POST", "/acme/account/abc", write_body, 1, 1 },
		/* not a JWS, or no payload: judged a change (it fails anyway) */
		{ "POST", "/acme/order/abc", "not json", 1, 1 },
		{ "POST", "/acme/order/abc", "{\"payload\":1}", 1, 1 },
		{ "POST", "/acme/order/abc", NULL, 1, 1 },
		{ "POST", "/nothing/here", write_body, 0, 1 },
	};
	struct acme_request req;
	size_t i;
	int shared = a->shared;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.method = cases[i].method;
		req.path = cases[i].path;
		req.body = (const uint8_t *)cases[i].body;
		req.body_len = cases[i].body != NULL ? strlen(cases[i].body) : 0;
		a->shared = 0;
		CHECK_EQ_INT(acme_request_waits(a, &req), cases[i].waits);
		a->shared = 1;
		CHECK_EQ_INT(acme_request_waits(a, &req), cases[i].waits_shared);
	}
	/* answers held (hold_answers): a validation started on a store no
	 * other process serves is claimed in memory, so answering a challenge
	 * writes nothing; shared, it still does */
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/acme/chall/abc";
	req.body = (const uint8_t *)write_body;
	req.body_len = strlen(write_body);
	a->cfg.hold_answers = 1;
	a->shared = 0;
	CHECK_EQ_INT(acme_request_waits(a, &req), 0);
	req.path = "/acme/authz/abc";
	CHECK_EQ_INT(acme_request_waits(a, &req), 1);
	req.path = "/acme/chall/abc";
	a->shared = 1;
	CHECK_EQ_INT(acme_request_waits(a, &req), 1);
	a->cfg.hold_answers = 0;
	a->shared = shared;
}

int
main(void)
{
	struct acme_config cfg;
	struct acme *a;
	int err;

	CHECK_EQ_INT(crypto_init(), 0);
	memset(&cfg, 0, sizeof(cfg));
	a = acme_new(&cfg, NULL, NULL, &err);
	CHECK(a != NULL);
	if (a != NULL) {
		test_directory(a);
		test_new_nonce(a);
		test_problems(a);
		test_request_waits(a);
	}
	acme_free(a);
	crypto_cleanup();
	return CHECK_DONE();
}
