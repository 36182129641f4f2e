/*
 * test_keycache.c: the account key cache (acme/keycache.c) and the
 * Retry-After of objects being validated, through acme_handle() with real
 * ES256 requests, a real store and a clock the test sets. A cached key is
 * never used past keyChange, deactivation, or a change another process
 * makes to the account record; Retry-After says when the result is due.
 */
#include "check.h"
#include "client.h"

#include <unistd.h>

#include "acme_internal.h"
#include "store.h"

#define NOW 1800000000

static char tmpdir[512];
static struct store *st;
static struct acme *a;

static void
stats(uint64_t *hits, uint64_t *misses)
{
	acme_keycache_stats(&a->keys, hits, misses);
}

static const char *
problem_type(const struct tc *c)
{
	static char out[128];
	cJSON *o = tc_json(c);
	const char *t = acme_json_str(o, "type");

	snprintf(out, sizeof(out), "%s", t != NULL ? strrchr(t, ':') + 1 : "");
	cJSON_Delete(o);
	return out;
}

static void
test_hits(void)
{
	struct tc c;
	uint64_t h0, m0, h, m;

	CHECK_EQ_INT(tc_init(&c, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	stats(&h0, &m0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	stats(&h, &m);
	CHECK_EQ_INT(m, m0 + 1);         /* first kid request parses the key */
	CHECK_EQ_INT(h, h0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	stats(&h, &m);
	CHECK_EQ_INT(m, m0 + 1);
	CHECK_EQ_INT(h, h0 + 2);
	tc_free(&c);
}

/* RFC 8555 §7.3.5: after keyChange the old key is refused, the new one
 * accepted, though the old key was cached. */
static void
test_key_change(void)
{
	struct tc old, nw;
	char payload[ACME_MAX_URL + 512], url[ACME_MAX_URL], *inner;

	CHECK_EQ_INT(tc_init(&old, a, NOW), 0);
	CHECK_EQ_INT(tc_init(&nw, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&old), 0);
	CHECK_EQ_INT(tc_post(&old, tc_path(old.kid), NULL), 200);  /* cached */
	snprintf(url, sizeof(url), "%s/acme/key-change", TC_BASE);
	snprintf(payload, sizeof(payload), "{\"account\":\"%s\",\"oldKey\":%s}",
	    old.kid, old.jwk);
	inner = tc_jws(&nw, url, payload, strlen(payload), TC_INNER);
	CHECK(inner != NULL);
	CHECK_EQ_INT(tc_post_mode(&old, "/acme/key-change", inner,
	    inner != NULL ? strlen(inner) : 0, TC_KID), 200);
	free(inner);
	CHECK_EQ_INT(tc_post(&old, tc_path(old.kid), NULL), 400);
	CHECK_EQ_STR(problem_type(&old), "malformed");   /* signature refused */
	snprintf(nw.kid, sizeof(nw.kid), "%s", old.kid);
	CHECK_EQ_INT(tc_post(&nw, tc_path(nw.kid), NULL), 200);
	CHECK_EQ_INT(tc_post(&nw, tc_path(nw.kid), NULL), 200);  /* cached */
	CHECK_EQ_INT(tc_post(&old, tc_path(old.kid), NULL), 400);
	tc_free(&old);
	tc_free(&nw);
}

/* RFC 8555 §7.3.6: a deactivated account's requests get 401, also when its
 * key was cached. */
static void
test_deactivate(void)
{
	struct tc c;

	CHECK_EQ_INT(tc_init(&c, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), "{\"status\":\"deactivated\"}"), 200);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 401);
	CHECK_EQ_STR(problem_type(&c), "unauthorized");
	CHECK_EQ_INT(tc_post(&c, "/acme/new-order",
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}"), 401);
	tc_free(&c);
}

struct outside {
	const char *id;
};

/* What another process (the CLI, a replica) may do: change the record
 * without going through this acme handle. */
static int
outside_txn(struct store_txn *txn, void *arg)
{
	struct outside *o = arg;
	cJSON *rec;
	int ret;

	if ((ret = acme_record_load(txn, STORE_T_ACCOUNTS, o->id, &rec)) != 0)
		return ret;
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "status",
	    cJSON_CreateString("deactivated"));
	ret = acme_record_put(txn, STORE_T_ACCOUNTS, o->id, rec);
	cJSON_Delete(rec);
	return ret;
}

static void
test_outside_change(void)
{
	struct tc c;
	struct outside o;

	CHECK_EQ_INT(tc_init(&c, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 200);
	o.id = strrchr(c.kid, '/') + 1;
	CHECK_EQ_INT(store_write(st, outside_txn, &o), 0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), NULL), 401);
	tc_free(&c);
}

/* The URL of the order's first authorization and of its http-01 challenge. */
static void
order_urls(struct tc *c, char *order, char *authz, char *chall, size_t sz)
{
	cJSON *o, *arr, *ch;

	CHECK_EQ_INT(tc_post(c, "/acme/new-order",
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"ra.test\"}]}"), 201);
	snprintf(order, sz, "%s", tc_path(tc_header(&c->resp, "Location")));
	o = tc_json(c);
	arr = cJSON_GetObjectItemCaseSensitive(o, "authorizations");
	snprintf(authz, sz, "%s", tc_path(cJSON_GetStringValue(
	    cJSON_GetArrayItem(arr, 0))));
	cJSON_Delete(o);
	CHECK_EQ_INT(tc_post(c, authz, NULL), 200);
	o = tc_json(c);
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (strcmp(acme_json_str(ch, "type"), "http-01") == 0)
			snprintf(chall, sz, "%s", tc_path(acme_json_str(ch, "url")));
	cJSON_Delete(o);
}

/* Retry-After of GET-like polls of path at the client's clock ("" when
 * absent). */
static const char *
retry_after(struct tc *c, const char *path)
{
	static char out[32];
	const char *v;

	CHECK(tc_post(c, path, NULL) == 200);
	v = tc_header(&c->resp, "Retry-After");
	snprintf(out, sizeof(out), "%s", v != NULL ? v : "");
	return out;
}

static void
test_retry_after(void)
{
	struct acme_validation job;
	struct acme_validation_result r;
	char order[256], authz[256], chall[256];
	struct tc c;

	CHECK_EQ_INT(tc_init(&c, a, NOW), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	order_urls(&c, order, authz, chall, sizeof(order));
	/* waiting on the client: nothing to poll for */
	CHECK_EQ_STR(retry_after(&c, authz), "");
	CHECK_EQ_STR(retry_after(&c, order), "");
	CHECK_EQ_INT(tc_post(&c, chall, "{}"), 200);
	CHECK_EQ_STR(tc_header(&c.resp, "Retry-After"), "1");
	CHECK_EQ_STR(retry_after(&c, chall), "1");
	CHECK_EQ_STR(retry_after(&c, authz), "1");
	CHECK_EQ_STR(retry_after(&c, order), "1");
	/* the job started at once, with the request's time */
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	CHECK_EQ_INT(job.started, NOW);
	/* a connection failure: retried after 2 s, due a second later */
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_CONNECTION;
	snprintf(r.detail, sizeof(r.detail), "refused");
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(retry_after(&c, chall), "3");
	CHECK_EQ_STR(retry_after(&c, authz), "3");
	CHECK_EQ_STR(retry_after(&c, order), "3");
	c.now = NOW + 2;
	CHECK_EQ_STR(retry_after(&c, chall), "1");
	c.now = NOW + 30;                 /* late: never 0 or negative */
	CHECK_EQ_STR(retry_after(&c, chall), "1");
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	CHECK_EQ_INT(job.started, NOW + 2);
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_OK;
	r.http_status = 200;
	r.body = (const uint8_t *)job.key_authorization;
	r.body_len = strlen(job.key_authorization);
	acme_validation_done(a, &job, &r, NOW + 30);
	CHECK_EQ_STR(retry_after(&c, chall), "");
	CHECK_EQ_STR(retry_after(&c, authz), "");
	CHECK_EQ_STR(retry_after(&c, order), "");
	/* that try took 28 s: the estimate grew (1/4 weight) */
	CHECK_EQ_INT(acme_validation_estimate(a), 7);
	tc_free(&c);
}

int
main(void)
{
	struct acme_config cfg;
	char dir[600], err[256];
	int e;
	const char *tmp = getenv("HEARTH_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/keycacheXXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL || crypto_init() != 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	a = acme_new(&cfg, st, NULL, &e);
	CHECK(a != NULL);
	if (st == NULL || a == NULL)
		return 1;
	test_hits();
	test_key_change();
	test_deactivate();
	test_outside_change();
	test_retry_after();
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
