/*
 * test_replicas.c: what replicas share through the store, with two acme
 * handles on one store as two replicas. On LMDB (acme_config.shared set,
 * both handles on one store handle) and, as acme/test_replicas_pg, on a
 * PostgreSQL server of the test's own (tests/e2e/pg.sh; two store handles,
 * shared by default):
 *  - a nonce one replica issued is accepted once by the other, then by
 *    neither; an expired or forged one by none;
 *  - rate counters add up across replicas and are removed at rest;
 *  - a validation in the index is claimed by exactly one of two replicas
 *    sweeping at once, taken over once its lease lapses, and its result
 *    is stored once, by the holder of the lease; a replica restarted under
 *    the same name takes its own back at once;
 *  - on PostgreSQL, the server stopped under the handles: requests are
 *    answered 503 with Retry-After and a problem document, and the same
 *    handles serve again once it is back.
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"
#include "store/pgcase.h"

#define T0 1800000000

static char tmpdir[512];
static struct store *st1, *st2;
static struct acme *r1, *r2;

static void
replicas_close(void)
{
	acme_free(r1);
	acme_free(r2);
	if (st2 != st1)
		store_close(st2);
	store_close(st1);
	r1 = r2 = NULL;
	st1 = st2 = NULL;
}

/* Two replicas on a fresh store, with limits l. 0 or -1. */
static int
replicas_open(const struct acme_limits *l)
{
	struct acme_config cfg;
	char loc[1024], err[256];
	static int n;
	int e;

	replicas_close();
	if (pgcase_uri() != NULL) {
		if (pgcase_reset(loc, sizeof(loc)) != 0)
			return -1;
	} else {
		snprintf(loc, sizeof(loc), "%s/db%d", tmpdir, n++);
	}
	st1 = store_open(loc, &e, err, sizeof(err));
	st2 = pgcase_uri() != NULL ? store_open(loc, &e, err, sizeof(err)) : st1;
	if (st1 == NULL || st2 == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.shared = pgcase_uri() == NULL;    /* PostgreSQL: by itself */
	if (l != NULL)
		cfg.limits = *l;
	r1 = acme_new(&cfg, st1, NULL, &e);
	r2 = acme_new(&cfg, st2, NULL, &e);
	return r1 != NULL && r2 != NULL ? 0 : -1;
}

static void
test_nonces(void)
{
	char a[ACME_NONCE_LEN + 1], b[ACME_NONCE_LEN + 1];

	if (replicas_open(NULL) != 0) {
		CHECK(0);
		return;
	}
	CHECK(r1->shared && r2->shared);
	CHECK_EQ_INT(acme_nonce_issue(&r1->nonces, T0, a), ACME_OK);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0 + 1, a), 1);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0 + 1, a), 0);
	CHECK_EQ_INT(acme_nonce_consume(&r1->nonces, T0 + 1, a), 0);
	/* the issuer redeems its own once too */
	CHECK_EQ_INT(acme_nonce_issue(&r2->nonces, T0, b), ACME_OK);
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0, b), 1);
	CHECK_EQ_INT(acme_nonce_consume(&r1->nonces, T0, b), 0);
	/* expired: refused by both, at the last second accepted */
	CHECK_EQ_INT(acme_nonce_issue(&r1->nonces, T0, a), ACME_OK);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces,
	    T0 + ACME_NONCE_LIFETIME + 1, a), 0);
	CHECK_EQ_INT(acme_nonce_consume(&r1->nonces,
	    T0 + ACME_NONCE_LIFETIME + 1, a), 0);
	CHECK_EQ_INT(acme_nonce_issue(&r1->nonces, T0, a), ACME_OK);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0 + ACME_NONCE_LIFETIME,
	    a), 1);
	/* forged: one character changed */
	CHECK_EQ_INT(acme_nonce_issue(&r1->nonces, T0, a), ACME_OK);
	a[5] = a[5] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0, a), 0);
	/* the cleanup removes the used ones once expired, not before */
	CHECK_EQ_INT(acme_nonces_expire(&r1->nonces, T0 + 10), 0);
	CHECK_EQ_INT(acme_nonces_expire(&r1->nonces, T0 + 2 * ACME_NONCE_LIFETIME),
	    3);
	CHECK_EQ_INT(acme_nonces_expire(&r2->nonces, T0 + 2 * ACME_NONCE_LIFETIME),
	    0);
}

static void
test_limits(void)
{
	struct acme_limits l;
	long retry = 0;

	memset(&l, 0, sizeof(l));
	l.orders.count = 3;
	l.orders.period = 3600;
	if (replicas_open(&l) != 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(acme_limit_take(&r1->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0, &retry), 0);
	CHECK_EQ_INT(acme_limit_take(&r2->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0, &retry), 0);
	CHECK_EQ_INT(acme_limit_take(&r1->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0, &retry), 0);
	/* the fourth, on either replica, is over */
	CHECK_EQ_INT(acme_limit_take(&r2->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0, &retry), 1);
	CHECK_EQ_INT(retry, 1200);
	CHECK_EQ_INT(acme_limit_peek(&r1->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0, &retry), 1);
	/* another key is not held back */
	CHECK_EQ_INT(acme_limit_take(&r2->limits, ACME_LIMIT_ORDERS, "acct-b",
	    T0, &retry), 0);
	/* one interval later, one more fits */
	CHECK_EQ_INT(acme_limit_take(&r2->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0 + 1200, &retry), 0);
	CHECK_EQ_INT(acme_limit_take(&r1->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0 + 1200, &retry), 1);
	/* failures charged by one replica hold back the other */
	acme_limit_charge(&r1->limits, ACME_LIMIT_FAILURES, "acct-a/dns:x.test",
	    T0);
	/* at rest (their time passed), the entries go */
	CHECK_EQ_INT(acme_limits_expire(&r1->limits, T0 + 10), 0);
	CHECK_EQ_INT(acme_limits_expire(&r1->limits, T0 + 4 * 3600), 2);
	CHECK_EQ_INT(acme_limit_take(&r1->limits, ACME_LIMIT_ORDERS, "acct-a",
	    T0 + 4 * 3600, &retry), 0);
}

/* ---- the validation queue ---- */

struct recs {
	const char *chall, *authz, *acct;
};

static int
recs_txn(struct store_txn *txn, void *arg)
{
	const struct recs *r = arg;
	char buf[1024];
	int ret;

	snprintf(buf, sizeof(buf), "{\"thumbprint\":\"tp-%s\",\"status\":"
	    "\"valid\"}", r->acct);
	if ((ret = store_put(txn, STORE_T_ACCOUNTS, r->acct, strlen(r->acct),
	    buf, strlen(buf), 0)) != 0)
		return ret;
	snprintf(buf, sizeof(buf), "{\"account\":\"%s\",\"status\":\"pending\","
	    "\"expires\":%d,\"identifier\":{\"type\":\"dns\",\"value\":"
	    "\"www.example.test\"},\"challenges\":[\"%s\"]}", r->acct,
	    T0 + 86400, r->chall);
	if ((ret = store_put(txn, STORE_T_AUTHZS, r->authz, strlen(r->authz),
	    buf, strlen(buf), 0)) != 0)
		return ret;
	snprintf(buf, sizeof(buf), "{\"authz\":\"%s\",\"type\":\"http-01\","
	    "\"status\":\"processing\",\"token\":\"tok-%s\"}", r->authz, r->chall);
	if ((ret = store_put(txn, STORE_T_CHALLENGES, r->chall, strlen(r->chall),
	    buf, strlen(buf), 0)) != 0)
		return ret;
	/* as the write that began processing left it: unheld */
	return acme_lease_put(txn, r->chall, 0, 0);
}

struct racer {
	struct acme *a;
	int queued;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;

	r->queued = acme_validations_sweep(r->a, T0);
	return NULL;
}

/* The challenge's status, "" when unreadable. */
static void
chall_status(const char *id, char out[32])
{
	struct store_txn *txn;
	cJSON *c = NULL;

	out[0] = '\0';
	if (store_read_begin(st2, &txn) != 0)
		return;
	if (acme_record_load(txn, STORE_T_CHALLENGES, id, &c) == 0)
		snprintf(out, 32, "%s", acme_json_str(c, "status"));
	store_read_end(txn);
	cJSON_Delete(c);
}

static int
indexed(const char *id)
{
	struct store_txn *txn;
	const void *v;
	size_t vl;
	int ret;

	if (store_read_begin(st1, &txn) != 0)
		return -1;
	ret = store_get(txn, STORE_T_VALIDATIONS, id, strlen(id), &v, &vl);
	store_read_end(txn);
	return ret == 0;
}

static void
test_validations(void)
{
	struct recs rc = { "6b1c3a00aaaaaaaaaaaaaaaa", "6b1c3a00bbbbbbbbbbbbbbbb",
	    "6b1c3a00cccccccccccccccc" };
	struct racer ra[2];
	pthread_t th[2];
	struct acme_validation job1, job2;
	struct acme_validation_result res;
	struct acme *winner, *loser;
	char status[32];
	int i;

	if (replicas_open(NULL) != 0 ||
	    store_write(st1, recs_txn, &rc) != 0) {
		CHECK(0);
		return;
	}
	/* two replicas sweep at once: exactly one claims the job */
	ra[0].a = r1;
	ra[1].a = r2;
	for (i = 0; i < 2; i++)
		CHECK_EQ_INT(pthread_create(&th[i], NULL, racer_main, &ra[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(ra[0].queued + ra[1].queued, 1);
	winner = ra[0].queued == 1 ? r1 : r2;
	loser = winner == r1 ? r2 : r1;
	CHECK_EQ_INT(acme_validation_next(winner, &job1), 1);
	CHECK_EQ_INT(acme_validation_next(loser, &job2), 0);
	CHECK_EQ_STR(job1.challenge_id, rc.chall);
	CHECK_EQ_STR(job1.key_authorization, "tok-6b1c3a00aaaaaaaaaaaaaaaa."
	    "tp-6b1c3a00cccccccccccccccc");
	/* while the lease holds, nobody takes it again */
	CHECK_EQ_INT(acme_validations_sweep(loser, T0 + 30), 0);
	CHECK_EQ_INT(acme_validations_sweep(winner, T0 + 30), 0);
	/* the winner goes silent: once its lease lapsed the other takes over */
	CHECK_EQ_INT(acme_validations_sweep(loser, T0 + ACME_VALIDATION_LEASE),
	    1);
	CHECK_EQ_INT(acme_validation_next(loser, &job2), 1);
	CHECK_EQ_STR(job2.challenge_id, rc.chall);
	CHECK_EQ_INT(acme_validations_sweep(winner, T0 + ACME_VALIDATION_LEASE + 1),
	    0);
	/* the old holder's result is not stored; the new holder's is, once */
	memset(&res, 0, sizeof(res));
	res.status = ACME_FETCH_OK;
	res.http_status = 200;
	res.body = (const uint8_t *)job1.key_authorization;
	res.body_len = strlen(job1.key_authorization);
	CHECK_EQ_INT(acme_validation_done(winner, &job1, &res, T0 + 62),
	    ACME_VALIDATION_UNSTORED);
	chall_status(rc.chall, status);
	CHECK_EQ_STR(status, "processing");
	CHECK_EQ_INT(indexed(rc.chall), 1);
	CHECK_EQ_INT(acme_validation_done(loser, &job2, &res, T0 + 63),
	    ACME_VALIDATION_VALID);
	chall_status(rc.chall, status);
	CHECK_EQ_STR(status, "valid");
	CHECK_EQ_INT(indexed(rc.chall), 0);
	CHECK_EQ_INT(acme_validation_done(loser, &job2, &res, T0 + 64),
	    ACME_VALIDATION_UNSTORED);
	/* nothing left to take over */
	CHECK_EQ_INT(acme_validations_sweep(winner, T0 + 1000), 0);
}

/* Replaces r1 with a handle named name, on st1. */
static void
renamed(const char *name)
{
	struct acme_config cfg;
	int e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.shared = 1;
	cfg.replica_name = name;
	acme_free(r1);
	r1 = acme_new(&cfg, st1, NULL, &e);
	CHECK(r1 != NULL);
}

/* A replica restarted under its name takes back what it held at its first
 * sweep; no other replica touches the live lease. */
static void
test_restarted(void)
{
	struct recs rc = { "6b1c3a01aaaaaaaaaaaaaaaa", "6b1c3a01bbbbbbbbbbbbbbbb",
	    "6b1c3a01cccccccccccccccc" };
	struct acme_validation job;

	if (replicas_open(NULL) != 0 || store_write(st1, recs_txn, &rc) != 0) {
		CHECK(0);
		return;
	}
	renamed("host-a:/var/lib/hearth");
	if (r1 == NULL)
		return;
	CHECK_EQ_INT(acme_validations_sweep(r1, T0), 1);
	CHECK_EQ_INT(acme_validations_sweep(r2, T0 + 1), 0);
	/* host-a stops and starts again before its lease lapsed */
	renamed("host-a:/var/lib/hearth");
	if (r1 == NULL)
		return;
	CHECK_EQ_INT(acme_validations_sweep(r1, T0 + 2), 1);
	CHECK_EQ_INT(acme_validation_next(r1, &job), 1);
	CHECK_EQ_STR(job.challenge_id, rc.chall);
	/* another name starting now leaves it alone */
	renamed("host-c:/var/lib/hearth");
	if (r1 == NULL)
		return;
	CHECK_EQ_INT(acme_validations_sweep(r1, T0 + 3), 0);
}

/* ---- the database stopped under running handles (PostgreSQL) ---- */

/* pg_ctl stop or start on the server pg.sh started (its options again). */
static int
pg_ctl(const char *what)
{
	const char *dir = getenv("HEARTH_TEST_PG_DIR");
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s%s/pg_ctl -D %s/data -m fast -w -l "
	    "%s/server.log -o \"-c listen_addresses='' -c "
	    "unix_socket_directories='%s' -c max_connections=200\" %s "
	    ">/dev/null", getuid() == 0 ? "runuser -u postgres -- " : "",
	    getenv("PG_BIN") != NULL ? getenv("PG_BIN") :
	    "/usr/lib/postgresql/15/bin", dir, dir, dir, what);
	return system(cmd);
}

/* A GET of renewalInfo: it reads the store, and needs no nonce. */
static void
renewal_get(struct acme *a, struct acme_response *resp)
{
	struct acme_request req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
	req.base_url = "https://ca.test";
	req.now = T0;
	acme_handle(a, &req, resp);
}

static const char *
header(const struct acme_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->n_headers; i++)
		if (strcmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static void
test_outage(void)
{
	struct acme_response resp;
	char nonce[ACME_NONCE_LEN + 1];
	cJSON *o;

	if (pgcase_uri() == NULL || getenv("HEARTH_TEST_PG_DIR") == NULL)
		return;
	if (replicas_open(NULL) != 0) {
		CHECK(0);
		return;
	}
	renewal_get(r1, &resp);
	CHECK_EQ_INT(resp.status, 404);
	acme_response_clear(&resp);
	CHECK_EQ_INT(acme_nonce_issue(&r1->nonces, T0, nonce), ACME_OK);

	CHECK_EQ_INT(pg_ctl("stop"), 0);
	renewal_get(r1, &resp);
	CHECK_EQ_INT(resp.status, 503);
	CHECK(header(&resp, "Retry-After") != NULL &&
	    atoi(header(&resp, "Retry-After")) == ACME_STORE_RETRY);
	CHECK_EQ_STR(resp.content_type, "application/problem+json");
	o = cJSON_Parse(resp.body != NULL ? resp.body : "");
	CHECK_EQ_STR(acme_json_str(o, "type"),
	    "urn:ietf:params:acme:error:serverInternal");
	CHECK(strstr(acme_json_str(o, "detail"), "database") != NULL);
	cJSON_Delete(o);
	acme_response_clear(&resp);
	/* a nonce cannot be redeemed: an error, not a refusal */
	CHECK(acme_nonce_consume(&r2->nonces, T0, nonce) < 0);

	CHECK_EQ_INT(pg_ctl("start"), 0);
	renewal_get(r1, &resp);
	CHECK_EQ_INT(resp.status, 404);
	acme_response_clear(&resp);
	CHECK_EQ_INT(acme_nonce_consume(&r2->nonces, T0, nonce), 1);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/replicasXXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL || crypto_init() != 0)
		return 1;
	test_nonces();
	test_limits();
	test_validations();
	test_restarted();
	test_outage();
	replicas_close();
	crypto_cleanup();
	if (pgcase_uri() == NULL) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)system(cmd);
	}
	return CHECK_DONE();
}
