/*
 * test_wait.c: answers that wait on a validation (acme/wait.c) on a real
 * store, through acme_handle(): a challenge being validated, its
 * authorization and its order name the validation in resp.wait;
 * acme_refresh() renders them again as they stand, keeping the status and
 * the Replay-Nonce issued with the request and replacing the body and
 * Retry-After; it refuses another account and an answer that waits on
 * nothing.
 */
#include "check.h"
#include "client.h"

#include "acme_internal.h"
#include "store.h"

#define NOW 1900000000

static struct store *st;
static struct acme *a;

static const char *
body_status(const struct acme_response *r, char *out, size_t outsz)
{
	cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);

	snprintf(out, outsz, "%s", acme_json_str(o, "status") != NULL ?
	    acme_json_str(o, "status") : "");
	cJSON_Delete(o);
	return out;
}

/* Refreshes r and checks the Replay-Nonce stayed; 0 or the error. */
static int
refresh(struct acme_response *r, time_t now)
{
	char nonce[64];
	int ret;

	snprintf(nonce, sizeof(nonce), "%s", tc_header(r, "Replay-Nonce") != NULL ?
	    tc_header(r, "Replay-Nonce") : "");
	ret = acme_refresh(a, TC_BASE, now, r);
	CHECK_EQ_STR(tc_header(r, "Replay-Nonce") != NULL ?
	    tc_header(r, "Replay-Nonce") : "", nonce);
	return ret;
}

static void
answer(time_t now)
{
	struct acme_validation job;
	struct acme_validation_result r;

	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_OK;
	r.http_status = 200;
	r.body = (const uint8_t *)job.key_authorization;
	r.body_len = strlen(job.key_authorization);
	CHECK_EQ_INT(acme_validation_done(a, &job, &r, now), ACME_VALIDATION_VALID);
}

static void
test_wait(void)
{
	struct tc c, other;
	struct acme_response chall, authz, order, copy;
	char order_url[ACME_MAX_URL], authz_url[ACME_MAX_URL], ch_url[ACME_MAX_URL];
	char st_[32], acct[64];
	const cJSON *e;
	cJSON *o;

	CHECK_EQ_INT(tc_init(&c, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	CHECK_EQ_INT(tc_init(&other, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&other), 0);
	snprintf(acct, sizeof(acct), "%s", tc_last(c.kid));
	CHECK_EQ_INT(tc_post(&c, "/acme/new-order", "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"wait.corp.internal\"}]}"), 201);
	CHECK_EQ_INT(c.resp.wait.kind, ACME_WAIT_NONE);
	snprintf(order_url, sizeof(order_url), "%s",
	    tc_path(tc_header(&c.resp, "Location")));
	o = tc_json(&c);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	snprintf(authz_url, sizeof(authz_url), "%s", tc_path(e->valuestring));
	cJSON_Delete(o);
	CHECK_EQ_INT(tc_post(&c, authz_url, NULL), 200);
	CHECK_EQ_INT(c.resp.wait.kind, ACME_WAIT_NONE);  /* waits on the client */
	o = tc_json(&c);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (strcmp(acme_json_str(e, "type"), "http-01") == 0)
			snprintf(ch_url, sizeof(ch_url), "%s",
			    tc_path(acme_json_str(e, "url")));
	cJSON_Delete(o);

	/* the challenge answered: each answer names its validation */
	CHECK_EQ_INT(tc_post(&c, ch_url, "{}"), 200);
	chall = c.resp;
	memset(&c.resp, 0, sizeof(c.resp));
	CHECK_EQ_INT(chall.wait.kind, ACME_WAIT_CHALLENGE);
	CHECK_EQ_STR(chall.wait.id, tc_last(ch_url));
	CHECK_EQ_STR(chall.wait.challenge, tc_last(ch_url));
	CHECK_EQ_STR(chall.wait.account, acct);
	CHECK(tc_header(&chall, "Retry-After") != NULL);
	CHECK_EQ_INT(tc_post(&c, authz_url, NULL), 200);
	authz = c.resp;
	memset(&c.resp, 0, sizeof(c.resp));
	CHECK_EQ_INT(authz.wait.kind, ACME_WAIT_AUTHZ);
	CHECK_EQ_STR(authz.wait.id, tc_last(authz_url));
	CHECK_EQ_STR(authz.wait.challenge, tc_last(ch_url));
	CHECK_EQ_INT(tc_post(&c, order_url, NULL), 200);
	order = c.resp;
	memset(&c.resp, 0, sizeof(c.resp));
	CHECK_EQ_INT(order.wait.kind, ACME_WAIT_ORDER);
	CHECK_EQ_STR(order.wait.challenge, tc_last(ch_url));

	/* before the result: still waiting, Retry-After from the due time */
	CHECK_EQ_INT(refresh(&authz, NOW + 1), 0);
	CHECK_EQ_STR(body_status(&authz, st_, sizeof(st_)), "pending");
	CHECK_EQ_INT(authz.wait.kind, ACME_WAIT_AUTHZ);
	CHECK(tc_header(&authz, "Retry-After") != NULL);
	CHECK_EQ_INT(authz.status, 200);

	/* another account's object, and nothing to wait on, are refused */
	copy = chall;
	snprintf(copy.wait.account, sizeof(copy.wait.account), "%s",
	    tc_last(other.kid));
	copy.body = NULL;
	copy.n_headers = 0;
	CHECK_EQ_INT(acme_refresh(a, TC_BASE, NOW, &copy), ACME_ERR_NOTFOUND);
	CHECK(copy.body == NULL);
	copy.wait.kind = ACME_WAIT_NONE;
	CHECK_EQ_INT(acme_refresh(a, TC_BASE, NOW, &copy), ACME_ERR_INVALID);

	/* the result stored: every answer renders decided, no Retry-After */
	answer(NOW + 1);
	CHECK_EQ_INT(refresh(&chall, NOW + 1), 0);
	CHECK_EQ_STR(body_status(&chall, st_, sizeof(st_)), "valid");
	CHECK_EQ_INT(chall.wait.kind, ACME_WAIT_NONE);
	CHECK(tc_header(&chall, "Retry-After") == NULL);
	CHECK(tc_header(&chall, "Link") != NULL);
	CHECK_EQ_INT(refresh(&authz, NOW + 1), 0);
	CHECK_EQ_STR(body_status(&authz, st_, sizeof(st_)), "valid");
	CHECK_EQ_INT(authz.wait.kind, ACME_WAIT_NONE);
	CHECK(tc_header(&authz, "Retry-After") == NULL);
	CHECK_EQ_INT(refresh(&order, NOW + 1), 0);
	CHECK_EQ_STR(body_status(&order, st_, sizeof(st_)), "ready");
	CHECK_EQ_INT(order.wait.kind, ACME_WAIT_NONE);
	CHECK(tc_header(&order, "Location") != NULL);
	acme_response_clear(&chall);
	acme_response_clear(&authz);
	acme_response_clear(&order);
	tc_free(&c);
	tc_free(&other);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct acme_config cfg;
	char dir[512], err[256];
	int e;

	snprintf(dir, sizeof(dir), "%s/waitXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	a = acme_new(&cfg, st, NULL, &e);
	CHECK(a != NULL);
	if (st != NULL && a != NULL)
		test_wait();
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
