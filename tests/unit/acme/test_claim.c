/*
 * test_claim.c: validations claimed in memory (acme/validating.c) on a
 * real LMDB store, through acme_handle(), with answers held
 * (hold_answers). Answering a challenge writes nothing: the store keeps it
 * pending with no lease, while every answer (challenge, authorization,
 * order) shows it processing with its Retry-After and says unsettled. A
 * second answer starts no second validation, on the same challenge or a
 * sibling. The result is the one write; a retry moves the due time in
 * memory. Twelve claims at once end in another order than taken.
 * acme_settle() writes the claim as the durable processing state with its
 * lease and account URL, and the result is then stored through the lease;
 * settled after the result, it writes nothing. A claim no answer was
 * settled for is lost with its process: the challenge reads pending again
 * and can be answered anew; a stop writes those still held
 * (acme_settle_all), and the next start resumes them. On a shared store
 * the write happens at once, as before.
 */
#include "check.h"
#include "client.h"

#include <stdlib.h>
#include <unistd.h>

#include "acme_internal.h"
#include "store.h"

#define NOW 1900000000

static struct store *st;
static struct acme *a;

/* The "status" of the last response's body (or of its i-th challenge). */
static const char *
body_status(const struct acme_response *r, int chall, char *out, size_t outsz)
{
	cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);
	const cJSON *e = o;

	if (chall >= 0)
		e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o,
		    "challenges"), chall);
	snprintf(out, outsz, "%s", acme_json_str(e, "status") != NULL ?
	    acme_json_str(e, "status") : "");
	cJSON_Delete(o);
	return out;
}

/* The status of the challenge of type in an authorization's body. */
static const char *
chall_in(const struct acme_response *r, const char *type, char *out, size_t outsz)
{
	cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);
	const cJSON *e;

	out[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (strcmp(acme_json_str(e, "type"), type) == 0)
			snprintf(out, outsz, "%s", acme_json_str(e, "status"));
	cJSON_Delete(o);
	return out;
}

/* The claim's due time for authorization path authz, 0 when none. */
static time_t
claim_due(const char *authz)
{
	time_t due = 0;

	return acme_claim_get(a, tc_last(authz), NULL, &due) ? due : 0;
}

/* A stored string field of challenge id. */
static const char *
stored_field(const char *id, const char *name, char *out, size_t outsz)
{
	struct store_txn *txn;
	cJSON *c = NULL;

	out[0] = '\0';
	if (store_read_begin(st, &txn) != 0)
		return out;
	if ((c = acme_record_get(txn, STORE_T_CHALLENGES, id)) != NULL &&
	    acme_json_str(c, name) != NULL)
		snprintf(out, outsz, "%s", acme_json_str(c, name));
	store_read_end(txn);
	cJSON_Delete(c);
	return out;
}

/* The stored status of challenge id ("" when absent), and whether it has
 * an entry in the validations index. */
static const char *
stored(const char *id, int *leased, char *out, size_t outsz)
{
	struct store_txn *txn;
	const void *v;
	size_t vl;
	cJSON *c = NULL;

	out[0] = '\0';
	*leased = 0;
	if (store_read_begin(st, &txn) != 0)
		return out;
	if ((c = acme_record_get(txn, STORE_T_CHALLENGES, id)) != NULL)
		snprintf(out, outsz, "%s", acme_json_str(c, "status"));
	*leased = store_get(txn, STORE_T_VALIDATIONS, id, strlen(id), &v, &vl) == 0;
	store_read_end(txn);
	cJSON_Delete(c);
	return out;
}

struct flow {
	char order[ACME_MAX_URL], authz[ACME_MAX_URL];
	char http[ACME_MAX_URL], dns[ACME_MAX_URL];   /* challenge paths */
};

/* A new order for name, and the paths of its authorization's challenges. */
static void
begin(struct tc *c, const char *name, struct flow *f)
{
	char body[256];
	const cJSON *e;
	cJSON *o;

	memset(f, 0, sizeof(*f));
	snprintf(body, sizeof(body), "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"%s\"}]}", name);
	CHECK_EQ_INT(tc_post(c, "/acme/new-order", body), 201);
	snprintf(f->order, sizeof(f->order), "%s",
	    tc_path(tc_header(&c->resp, "Location")));
	o = tc_json(c);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	snprintf(f->authz, sizeof(f->authz), "%s", tc_path(e->valuestring));
	cJSON_Delete(o);
	CHECK_EQ_INT(tc_post(c, f->authz, NULL), 200);
	o = tc_json(c);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges")) {
		if (strcmp(acme_json_str(e, "type"), "http-01") == 0)
			snprintf(f->http, sizeof(f->http), "%s",
			    tc_path(acme_json_str(e, "url")));
		if (strcmp(acme_json_str(e, "type"), "dns-01") == 0)
			snprintf(f->dns, sizeof(f->dns), "%s",
			    tc_path(acme_json_str(e, "url")));
	}
	cJSON_Delete(o);
	CHECK(f->http[0] != '\0' && f->dns[0] != '\0');
}

/* Takes the one queued job (for challenge path chall) and hands it status:
 * ACME_FETCH_OK with the key authorization, or a transient failure. */
static enum acme_validation_outcome
result(const char *chall, enum acme_fetch_status status, time_t now)
{
	struct acme_validation job, more;
	struct acme_validation_result r;

	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	CHECK_EQ_INT(acme_validation_next(a, &more), 0);   /* only one */
	CHECK_EQ_STR(job.challenge_id, tc_last(chall));
	memset(&r, 0, sizeof(r));
	r.status = status;
	if (status == ACME_FETCH_OK) {
		r.http_status = 200;
		r.body = (const uint8_t *)job.key_authorization;
		r.body_len = strlen(job.key_authorization);
	} else
		snprintf(r.detail, sizeof(r.detail), "connection refused");
	return acme_validation_done(a, &job, &r, now);
}

static void
test_claimed(struct tc *c)
{
	struct flow f;
	char s[32];
	time_t due;
	int leased;

	begin(c, "claim.corp.internal", &f);
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_CHALLENGE);
	CHECK_EQ_INT(c->resp.wait.unsettled, 1);
	CHECK(tc_header(&c->resp, "Retry-After") != NULL);
	/* nothing written: pending in the store, no lease */
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "pending");
	CHECK_EQ_INT(leased, 0);

	/* every reader sees it processing */
	CHECK_EQ_INT(tc_post(c, f.authz, NULL), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "pending");
	CHECK_EQ_STR(chall_in(&c->resp, "http-01", s, sizeof(s)), "processing");
	CHECK_EQ_STR(chall_in(&c->resp, "dns-01", s, sizeof(s)), "pending");
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_AUTHZ);
	CHECK_EQ_INT(c->resp.wait.unsettled, 1);
	CHECK_EQ_STR(c->resp.wait.challenge, tc_last(f.http));
	CHECK(tc_header(&c->resp, "Retry-After") != NULL);
	CHECK_EQ_INT(tc_post(c, f.order, NULL), 200);
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_ORDER);
	CHECK_EQ_INT(c->resp.wait.unsettled, 1);
	CHECK(tc_header(&c->resp, "Retry-After") != NULL);

	/* no second validation: the same challenge, or a sibling */
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	CHECK_EQ_INT(tc_post(c, f.dns, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "pending");
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_NONE);

	/* a transient failure: retried, still claimed, nothing written, the
	 * result now expected after the retry's delay */
	due = claim_due(f.authz);
	CHECK(due >= NOW);
	CHECK_EQ_INT(result(f.http, ACME_FETCH_CONNECTION, NOW), ACME_VALIDATION_RETRY);
	CHECK(claim_due(f.authz) >= NOW + 2 && claim_due(f.authz) > due);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "pending");
	CHECK_EQ_INT(leased, 0);
	CHECK_EQ_INT(tc_post(c, f.http, NULL), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");

	/* the result: the one write */
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 3), ACME_VALIDATION_VALID);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "valid");
	CHECK_EQ_INT(leased, 0);
	CHECK_EQ_INT((int)atomic_load(&a->n_claims), 0);
	CHECK_EQ_INT(tc_post(c, f.authz, NULL), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "valid");
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_NONE);
	CHECK_EQ_INT(tc_post(c, f.order, NULL), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "ready");
}

/* A new order for name whose http-01 challenge is answered; the answer,
 * unsettled, is taken into held (the caller clears it). */
static void
answer_held(struct tc *c, const char *name, struct flow *f,
    struct acme_response *held)
{
	begin(c, name, f);
	CHECK_EQ_INT(tc_post(c, f->http, "{}"), 200);
	*held = c->resp;
	memset(&c->resp, 0, sizeof(c->resp));
	CHECK_EQ_INT(held->wait.unsettled, 1);
}

static void
test_settled(struct tc *c)
{
	struct acme_response held;
	struct flow f;
	char s[32], uri[ACME_MAX_URL];
	int leased;

	answer_held(c, "settle.corp.internal", &f, &held);
	/* the answer goes before its result: the claim is written first */
	CHECK_EQ_INT(acme_settle(a, TC_BASE, NOW, &held), 0);
	CHECK_EQ_INT(held.wait.unsettled, 0);
	CHECK_EQ_INT(held.wait.kind, ACME_WAIT_CHALLENGE);
	CHECK_EQ_STR(body_status(&held, -1, s, sizeof(s)), "processing");
	CHECK(tc_header(&held, "Retry-After") != NULL);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "processing");
	CHECK_EQ_INT(leased, 1);
	CHECK_EQ_INT((int)atomic_load(&a->n_claims), 0);
	/* as the store claim writes it: the account, for CAA accounturi */
	CHECK_EQ_STR(stored_field(tc_last(f.http), "accountUri", uri, sizeof(uri)),
	    c->kid);
	CHECK_EQ_INT(tc_post(c, f.authz, NULL), 200);
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_AUTHZ);
	CHECK_EQ_INT(c->resp.wait.unsettled, 0);

	/* the result goes through the lease */
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 1), ACME_VALIDATION_VALID);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "valid");
	CHECK_EQ_INT(leased, 0);
	CHECK_EQ_INT(acme_refresh(a, TC_BASE, NOW + 1, &held), 0);
	CHECK_EQ_STR(body_status(&held, -1, s, sizeof(s)), "valid");
	CHECK_EQ_INT(held.wait.kind, ACME_WAIT_NONE);
	acme_response_clear(&held);
}

/* The result stored before the answer is settled: settling writes
 * nothing, and the answer renders the result. */
static void
test_decided_first(struct tc *c)
{
	struct acme_response held;
	struct flow f;
	char s[32];
	int leased;

	answer_held(c, "decided.corp.internal", &f, &held);
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 1), ACME_VALIDATION_VALID);
	CHECK_EQ_INT(acme_settle(a, TC_BASE, NOW + 1, &held), 0);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "valid");
	CHECK_EQ_INT(leased, 0);
	CHECK_EQ_STR(body_status(&held, -1, s, sizeof(s)), "valid");
	CHECK_EQ_INT(held.wait.kind, ACME_WAIT_NONE);
	acme_response_clear(&held);
}

/* Several claims at once, ended in another order than taken (the table's
 * deletion moves entries): each result lands on its own challenge. */
#define MANY 12
static void
test_many(struct tc *c)
{
	struct acme_validation job[MANY];
	struct acme_validation_result r;
	struct flow f[MANY];
	char name[64], s[32];
	int i, n, leased;

	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "m%02d.corp.internal", i);
		begin(c, name, &f[i]);
		CHECK_EQ_INT(tc_post(c, f[i].http, "{}"), 200);
	}
	CHECK_EQ_INT((int)atomic_load(&a->n_claims), MANY);
	for (n = 0; n < MANY && acme_validation_next(a, &job[n]) == 1; n++)
		;
	CHECK_EQ_INT(n, MANY);
	for (i = 0; i < MANY; i++) {
		CHECK_EQ_INT(tc_post(c, f[i].http, NULL), 200);
		CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	}
	for (i = 0; i < n; i++) {
		int k = (i * 5) % MANY;          /* 0 5 10 3 8 1 6 11 4 9 2 7 */

		memset(&r, 0, sizeof(r));
		r.status = ACME_FETCH_OK;
		r.http_status = 200;
		r.body = (const uint8_t *)job[k].key_authorization;
		r.body_len = strlen(job[k].key_authorization);
		CHECK_EQ_INT(acme_validation_done(a, &job[k], &r, NOW + 1),
		    ACME_VALIDATION_VALID);
		CHECK_EQ_STR(stored(job[k].challenge_id, &leased, s, sizeof(s)), "valid");
		CHECK_EQ_INT((int)atomic_load(&a->n_claims), MANY - 1 - i);
	}
	for (i = 0; i < MANY; i++) {
		CHECK_EQ_INT(tc_post(c, f[i].authz, NULL), 200);
		CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "valid");
	}
}

/* The table itself, full enough that entries collide and deletions move
 * others: every claim stays findable under its authorization, with its
 * challenge and due time; a claim of a taken authorization is refused;
 * and the handle frees what is left (the sanitizer build checks). */
#define TABLE_N 3000
static void
test_table(void)
{
	static char az[TABLE_N][ACME_ID_LEN + 1], ch[TABLE_N][ACME_ID_LEN + 1];
	char got[ACME_ID_LEN + 1];
	time_t due;
	int i, k, ok;

	srandom(7);
	for (i = 0; i < TABLE_N; i++) {
		snprintf(az[i], sizeof(az[i]), "%08x%08lx%08lx", i,
		    (unsigned long)random(), (unsigned long)random());
		snprintf(ch[i], sizeof(ch[i]), "%08x%016x", i, i);
		CHECK_EQ_INT(acme_claim_take(a, az[i], ch[i], NOW + i, "u"), 1);
	}
	CHECK_EQ_INT(acme_claim_take(a, az[5], ch[6], NOW, "u"), 0);
	CHECK_EQ_INT((int)atomic_load(&a->n_claims), TABLE_N);
	/* end two thirds, scattered, checking the rest after each step */
	for (i = 0; i < TABLE_N; i++) {
		k = (int)(((long)i * 1543) % TABLE_N);
		if (k % 3 != 0)
			CHECK_EQ_INT(acme_claim_drop(a, az[k], ch[k]), 1);
	}
	for (i = 0, ok = 0; i < TABLE_N; i++) {
		k = acme_claim_get(a, az[i], got, &due);
		if (i % 3 == 0)
			ok += k == 1 && strcmp(got, ch[i]) == 0 && due == NOW + i;
		else
			ok += k == 0;
	}
	CHECK_EQ_INT(ok, TABLE_N);
	CHECK_EQ_INT((int)atomic_load(&a->n_claims), (TABLE_N + 2) / 3);
	CHECK_EQ_INT(acme_claim_drop(a, az[0], ch[1]), 0);   /* not its claim */
}

/* A new acme handle on the same store, as after a restart: 0, or -1. */
static int
restart(struct tc *c, const struct acme_config *cfg)
{
	int e;

	acme_free(a);
	a = acme_new(cfg, st, NULL, &e);
	CHECK(a != NULL);
	c->a = a;
	c->nonce[0] = '\0';
	return a != NULL ? 0 : -1;
}

/* A claim dies with its process: the challenge is pending again. */
static void
test_lost(struct tc *c, const struct acme_config *cfg)
{
	struct acme_validation job;
	struct flow f;
	char s[32];
	int leased;

	begin(c, "lost.corp.internal", &f);
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	if (restart(c, cfg) != 0)
		return;
	CHECK_EQ_INT(acme_validations_sweep(a, NOW), 0);   /* nothing to resume */
	CHECK_EQ_INT(acme_validation_next(a, &job), 0);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "pending");
	CHECK_EQ_INT(tc_post(c, f.http, NULL), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "pending");
	CHECK_EQ_INT(c->resp.wait.kind, ACME_WAIT_NONE);
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 1), ACME_VALIDATION_VALID);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "valid");
}

/* A stop writes the claims still held; the next start resumes them. */
static void
test_stopped(struct tc *c, const struct acme_config *cfg)
{
	struct flow f;
	char s[32];
	int leased;

	begin(c, "stopped.corp.internal", &f);
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_INT(acme_settle_all(a, NOW), 0);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "processing");
	CHECK_EQ_INT(leased, 1);
	if (restart(c, cfg) != 0)
		return;
	CHECK_EQ_INT(acme_validations_sweep(a, NOW + 1), 1);
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 1), ACME_VALIDATION_VALID);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "valid");
	CHECK_EQ_INT(leased, 0);
}

/* Shared, the answer writes processing and its lease at once. */
static void
test_shared(struct tc *c)
{
	struct flow f;
	char s[32];
	int leased;

	a->shared = 1;
	begin(c, "shared.corp.internal", &f);
	CHECK_EQ_INT(tc_post(c, f.http, "{}"), 200);
	CHECK_EQ_STR(body_status(&c->resp, -1, s, sizeof(s)), "processing");
	CHECK_EQ_INT(c->resp.wait.unsettled, 0);
	CHECK_EQ_STR(stored(tc_last(f.http), &leased, s, sizeof(s)), "processing");
	CHECK_EQ_INT(leased, 1);
	CHECK_EQ_INT(result(f.http, ACME_FETCH_OK, NOW + 1), ACME_VALIDATION_VALID);
	a->shared = 0;
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct acme_config cfg;
	char dir[512], err[256];
	struct tc c;
	int e;

	snprintf(dir, sizeof(dir), "%s/claimXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hold_answers = 1;
	a = st != NULL ? acme_new(&cfg, st, NULL, &e) : NULL;
	CHECK(a != NULL);
	if (a != NULL && tc_init(&c, a, NOW) == 0 && tc_register(&c) == 0) {
		test_claimed(&c);
		test_settled(&c);
		test_decided_first(&c);
		test_many(&c);
		test_shared(&c);
		test_lost(&c, &cfg);
		test_stopped(&c, &cfg);
		test_table();           /* leaves claims for acme_free() */
		tc_free(&c);
	}
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
