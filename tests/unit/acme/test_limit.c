/*
 * test_limit.c: the rate limits and caps of acme/ (acme/limit.c and their
 * callers), on a real store with requests signed by real keys and a clock
 * the test sets. In each case one client goes over a limit and gets
 * rateLimited with Retry-After while another, side by side, is not held
 * back; and the limiter's table cannot be flooded into forgetting a key.
 */
#include "check.h"
#include "client.h"

#include <unistd.h>

#include "acme_internal.h"
#include "store.h"

static char tmpdir[512];
static struct store *st;

/* A fresh store and acme handle with limits l. */
static struct acme *
open_acme(const struct acme_limits *l)
{
	struct acme_config cfg;
	char dir[600], err[256];
	static int n;
	int e;

	snprintf(dir, sizeof(dir), "%s/db%d", tmpdir, n++);
	store_close(st);
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.limits = *l;
	return acme_new(&cfg, st, NULL, &e);
}

/* The last response is rateLimited (429) with a positive Retry-After. */
static void
check_limited(struct tc *c)
{
	const char *ra = tc_header(&c->resp, "Retry-After");
	cJSON *o = tc_json(c);

	CHECK_EQ_INT(c->resp.status, 429);
	CHECK_EQ_STR(acme_json_str(o, "type"),
	    "urn:ietf:params:acme:error:rateLimited");
	CHECK(ra != NULL && atol(ra) > 0);
	cJSON_Delete(o);
}

static int
new_order(struct tc *c, const char *name)
{
	char payload[512];

	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"%s\"}]}", name);
	return tc_post(c, "/acme/new-order", payload);
}

/* Orders name and writes the path of its http-01 challenge to chall. */
static void
order_challenge(struct tc *c, const char *name, char *chall, size_t sz)
{
	const cJSON *e;
	cJSON *o;

	chall[0] = '\0';
	CHECK_EQ_INT(new_order(c, name), 201);
	o = tc_json(c);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	CHECK_EQ_INT(tc_post(c, tc_path(cJSON_IsString(e) ? e->valuestring : NULL),
	    NULL), 200);
	cJSON_Delete(o);
	o = tc_json(c);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (strcmp(acme_json_str(e, "type"), "http-01") == 0)
			snprintf(chall, sz, "%s", tc_path(acme_json_str(e, "url")));
	cJSON_Delete(o);
}

/* The limiter alone: burst, refusal, refill, and a flood of other keys. */
static void
test_limiter(void)
{
	struct acme_limits cfg;
	struct acme_limiter l;
	char key[64];
	long retry;
	int i, refused = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.orders.count = 3;
	cfg.orders.period = 300;    /* one back every 100 s */
	CHECK_EQ_INT(acme_limiter_init(&l, &cfg, crypto_random), ACME_OK);
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(acme_limit_take(&l, ACME_LIMIT_ORDERS, "victim", 1000, &retry), 0);
	CHECK_EQ_INT(acme_limit_take(&l, ACME_LIMIT_ORDERS, "victim", 1000, &retry), 1);
	CHECK_EQ_INT(retry, 100);
	CHECK_EQ_INT(acme_limit_peek(&l, ACME_LIMIT_ORDERS, "victim", 1099, &retry), 1);
	CHECK_EQ_INT(retry, 1);
	CHECK_EQ_INT(acme_limit_peek(&l, ACME_LIMIT_ORDERS, "victim", 1100, &retry), 0);
	CHECK_EQ_INT(acme_limit_peek(&l, ACME_LIMIT_ORDERS, "other", 1000, &retry), 0);
	/* a limit that is off never refuses */
	CHECK_EQ_INT(acme_limit_take(&l, ACME_LIMIT_ACCOUNTS, "x", 1000, &retry), 0);
	/* more keys than the table holds, all counting at once */
	for (i = 0; i < ACME_LIMIT_SETS * ACME_LIMIT_WAYS * 2; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		refused += acme_limit_take(&l, ACME_LIMIT_ORDERS, key, 1050, &retry);
	}
	CHECK(refused > 0);             /* newcomers wait when sets are full */
	/* ... and the victim's count was not reset by any of them */
	CHECK_EQ_INT(acme_limit_take(&l, ACME_LIMIT_ORDERS, "victim", 1050, &retry), 1);
	CHECK_EQ_INT(retry, 50);
	/* once the flood comes to rest, its slots serve new keys again */
	CHECK_EQ_INT(acme_limit_take(&l, ACME_LIMIT_ORDERS, "late", 1200, &retry), 0);
	acme_limiter_fini(&l);
}

static void
test_source_keys(void)
{
	char out[64];

	CHECK_EQ_INT(acme_limit_source("192.0.2.7", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "192.0.2.7");
	CHECK_EQ_INT(acme_limit_source("::ffff:192.0.2.7", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "192.0.2.7");
	CHECK_EQ_INT(acme_limit_source("2001:db8:1:2:3:4:5:6", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "2001:db8:1:2::/64");
	CHECK_EQ_INT(acme_limit_source("host.example", out, sizeof(out)), -1);
	CHECK_EQ_INT(acme_limit_source(NULL, out, sizeof(out)), -1);
}

/* New accounts per source: only creations count; other sources go on. */
static void
test_accounts(time_t now)
{
	struct acme_limits l = { .accounts = { 2, 3600 } };
	struct acme *a = open_acme(&l);
	struct tc c[4];
	int i;

	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(tc_init(&c[i], a, now), 0);
		c[i].peer = "192.0.2.7";
	}
	c[3].peer = "192.0.2.8";
	CHECK_EQ_INT(tc_register(&c[0]), 0);
	CHECK_EQ_INT(tc_register(&c[1]), 0);
	CHECK_EQ_INT(tc_post(&c[2], "/acme/new-account",
	    "{\"termsOfServiceAgreed\":true}"), 429);
	check_limited(&c[2]);
	CHECK(c[2].resp.body != NULL && strstr(c[2].resp.body, "192.0.2.7") != NULL);
	/* finding an existing account is not a creation */
	c[0].kid[0] = '\0';
	CHECK_EQ_INT(tc_post(&c[0], "/acme/new-account",
	    "{\"onlyReturnExisting\":true}"), 200);
	c[1].kid[0] = '\0';
	CHECK_EQ_INT(tc_post(&c[1], "/acme/new-account", "{}"), 200);
	/* the well-behaved source is not held back */
	CHECK_EQ_INT(tc_register(&c[3]), 0);
	/* half an hour later one more fits */
	c[2].now = now + 1800;
	CHECK_EQ_INT(tc_register(&c[2]), 0);
	for (i = 0; i < 4; i++)
		tc_free(&c[i]);
	acme_free(a);
}

/* New orders per account. */
static void
test_orders(time_t now)
{
	struct acme_limits l = { .orders = { 2, 3600 } };
	struct acme *a = open_acme(&l);
	struct tc bad, good;

	CHECK_EQ_INT(tc_init(&bad, a, now), 0);
	CHECK_EQ_INT(tc_init(&good, a, now), 0);
	CHECK_EQ_INT(tc_register(&bad), 0);
	CHECK_EQ_INT(tc_register(&good), 0);
	CHECK_EQ_INT(new_order(&bad, "a1.corp.internal"), 201);
	CHECK_EQ_INT(new_order(&bad, "a2.corp.internal"), 201);
	CHECK_EQ_INT(new_order(&bad, "a3.corp.internal"), 429);
	check_limited(&bad);
	CHECK(strstr(bad.resp.body, "2 per 1h") != NULL);
	CHECK_EQ_INT(new_order(&good, "b1.corp.internal"), 201);
	bad.now = now + 1800;
	CHECK_EQ_INT(new_order(&bad, "a3.corp.internal"), 201);
	tc_free(&bad);
	tc_free(&good);
	acme_free(a);
}

/* Pending authorizations per account, counted in the write. */
static void
test_pending(time_t now)
{
	struct acme_limits l = { .pending_authzs = 3 };
	struct acme *a = open_acme(&l);
	struct tc bad, good;
	cJSON *o;
	const cJSON *az;
	char path[ACME_MAX_URL];

	CHECK_EQ_INT(tc_init(&bad, a, now), 0);
	CHECK_EQ_INT(tc_init(&good, a, now), 0);
	CHECK_EQ_INT(tc_register(&bad), 0);
	CHECK_EQ_INT(tc_register(&good), 0);
	CHECK_EQ_INT(tc_post(&bad, "/acme/new-order", "{\"identifiers\":["
	    "{\"type\":\"dns\",\"value\":\"p1.corp.internal\"},"
	    "{\"type\":\"dns\",\"value\":\"p2.corp.internal\"},"
	    "{\"type\":\"dns\",\"value\":\"p3.corp.internal\"}]}"), 201);
	o = tc_json(&bad);
	az = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	snprintf(path, sizeof(path), "%s", tc_path(cJSON_IsString(az) ?
	    az->valuestring : NULL));
	cJSON_Delete(o);
	CHECK_EQ_INT(new_order(&bad, "p4.corp.internal"), 429);
	check_limited(&bad);
	CHECK_EQ_INT(tc_post(&bad, "/acme/new-authz", "{\"identifier\":"
	    "{\"type\":\"dns\",\"value\":\"p4.corp.internal\"}}"), 429);
	CHECK_EQ_INT(new_order(&good, "p4.corp.internal"), 201);
	/* deactivating one makes room */
	CHECK_EQ_INT(tc_post(&bad, path, "{\"status\":\"deactivated\"}"), 200);
	CHECK_EQ_INT(new_order(&bad, "p4.corp.internal"), 201);
	/* pending ones stop counting once expired */
	bad.now = now + ACME_AUTHZ_PENDING_LIFETIME + 1;
	bad.nonce[0] = '\0';
	CHECK_EQ_INT(new_order(&bad, "p5.corp.internal"), 201);
	tc_free(&bad);
	tc_free(&good);
	acme_free(a);
}

/* Fails job for good: the http-01 body is wrong. */
static void
fail_next_job(struct acme *a, const struct acme_validation *job, time_t now)
{
	struct acme_validation_result r;

	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_OK;
	r.http_status = 200;
	r.body = (const uint8_t *)"wrong";
	r.body_len = 5;
	acme_validation_done(a, job, &r, now);
}

static void
fail_next(struct acme *a, time_t now)
{
	struct acme_validation job;

	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	fail_next_job(a, &job, now);
}

/* Failed validations per account and name. */
static void
test_failures(time_t now)
{
	struct acme_limits l = { .failures = { 2, 3600 } };
	struct acme *a = open_acme(&l);
	struct tc bad, good;
	char chall[ACME_MAX_URL];
	int i;

	CHECK_EQ_INT(tc_init(&bad, a, now), 0);
	CHECK_EQ_INT(tc_init(&good, a, now), 0);
	CHECK_EQ_INT(tc_register(&bad), 0);
	CHECK_EQ_INT(tc_register(&good), 0);
	for (i = 0; i < 2; i++) {
		order_challenge(&bad, "f.corp.internal", chall, sizeof(chall));
		CHECK_EQ_INT(tc_post(&bad, chall, "{}"), 200);
		fail_next(a, now);
	}
	CHECK_EQ_INT(new_order(&bad, "f.corp.internal"), 429);
	check_limited(&bad);
	CHECK(strstr(bad.resp.body, "f.corp.internal") != NULL);
	CHECK_EQ_INT(new_order(&bad, "*.f.corp.internal"), 429);
	CHECK_EQ_INT(new_order(&bad, "g.corp.internal"), 201);
	CHECK_EQ_INT(new_order(&good, "f.corp.internal"), 201);
	bad.now = now + 1800;
	CHECK_EQ_INT(new_order(&bad, "f.corp.internal"), 201);
	tc_free(&bad);
	tc_free(&good);
	acme_free(a);
}

/* The account's share of the validation queue; retries keep their place. */
static void
test_queue(time_t now)
{
	struct acme_limits l = { .queue_share = 2 };
	struct acme *a = open_acme(&l);
	struct acme_validation job;
	struct acme_validation_result r;
	struct tc bad, good;
	char ch[3][ACME_MAX_URL], gch[ACME_MAX_URL], name[64];
	cJSON *o;
	int i;

	CHECK_EQ_INT(tc_init(&bad, a, now), 0);
	CHECK_EQ_INT(tc_init(&good, a, now), 0);
	CHECK_EQ_INT(tc_register(&bad), 0);
	CHECK_EQ_INT(tc_register(&good), 0);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "q%d.corp.internal", i);
		order_challenge(&bad, name, ch[i], sizeof(ch[i]));
	}
	order_challenge(&good, "g.corp.internal", gch, sizeof(gch));
	CHECK_EQ_INT(tc_post(&bad, ch[0], "{}"), 200);
	CHECK_EQ_INT(tc_post(&bad, ch[1], "{}"), 200);
	CHECK_EQ_INT(tc_post(&bad, ch[2], "{}"), 429);
	check_limited(&bad);
	CHECK_EQ_INT(tc_post(&bad, ch[2], NULL), 200);
	o = tc_json(&bad);
	CHECK_EQ_STR(acme_json_str(o, "status"), "pending");   /* not lost */
	cJSON_Delete(o);
	CHECK_EQ_INT(tc_post(&good, gch, "{}"), 200);
	/* a transient failure goes back on the queue, still in the share */
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_CONNECTION;
	snprintf(r.detail, sizeof(r.detail), "connection refused");
	acme_validation_done(a, &job, &r, now);
	CHECK_EQ_INT(tc_post(&bad, ch[2], "{}"), 429);
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);   /* the second */
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);   /* good's */
	CHECK_EQ_INT(acme_validation_next(a, &job), 1);   /* the retry */
	CHECK_EQ_INT(job.attempt, 1);
	/* judged: its place is free for the third */
	fail_next_job(a, &job, now);
	CHECK_EQ_INT(tc_post(&bad, ch[2], "{}"), 200);
	tc_free(&bad);
	tc_free(&good);
	acme_free(a);
}

/* Nonces per source: the flooding source is refused, others are served
 * and their nonces stay good. */
static void
test_nonces(time_t now)
{
	struct acme_limits l = { .nonces = { 5, 60 } };
	struct acme *a = open_acme(&l);
	struct tc bad, good;
	char keep[64];
	int i;

	CHECK_EQ_INT(tc_init(&bad, a, now), 0);
	CHECK_EQ_INT(tc_init(&good, a, now), 0);
	bad.peer = "192.0.2.66";
	good.peer = "192.0.2.3";
	CHECK_EQ_INT(tc_register(&good), 0);
	snprintf(keep, sizeof(keep), "%s", good.nonce);
	for (i = 0; i < 5; i++)
		CHECK_EQ_INT(tc_send(&bad, "HEAD", "/acme/new-nonce", NULL), 200);
	CHECK_EQ_INT(tc_send(&bad, "HEAD", "/acme/new-nonce", NULL), 429);
	check_limited(&bad);
	CHECK_EQ_INT(tc_send(&bad, "POST", "/acme/new-order", "{}"), 400);
	CHECK(tc_header(&bad.resp, "Replay-Nonce") == NULL);
	snprintf(good.nonce, sizeof(good.nonce), "%s", keep);
	CHECK_EQ_INT(new_order(&good, "n.corp.internal"), 201);
	bad.now = now + 12;
	CHECK_EQ_INT(tc_send(&bad, "HEAD", "/acme/new-nonce", NULL), 200);
	tc_free(&bad);
	tc_free(&good);
	acme_free(a);
}

/* RFC 8555 §7.3.6: a deactivated account's requests get 401. */
static void
test_deactivated(time_t now)
{
	struct acme_limits l;
	struct acme *a;
	struct tc c;
	cJSON *o;

	memset(&l, 0, sizeof(l));
	a = open_acme(&l);
	CHECK_EQ_INT(tc_init(&c, a, now), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	CHECK_EQ_INT(tc_post(&c, tc_path(c.kid), "{\"status\":\"deactivated\"}"), 200);
	CHECK_EQ_INT(new_order(&c, "d.corp.internal"), 401);
	o = tc_json(&c);
	CHECK_EQ_STR(acme_json_str(o, "type"), "urn:ietf:params:acme:error:unauthorized");
	cJSON_Delete(o);
	c.kid[0] = '\0';
	CHECK_EQ_INT(tc_post(&c, "/acme/new-account", "{}"), 401);
	tc_free(&c);
	acme_free(a);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	time_t now = 1700000000;

	snprintf(tmpdir, sizeof(tmpdir), "%s/limitXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL || crypto_init() != 0)
		return 1;
	test_limiter();
	test_source_keys();
	test_accounts(now);
	test_orders(now);
	test_pending(now);
	test_failures(now);
	test_queue(now);
	test_nonces(now);
	test_deactivated(now);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
