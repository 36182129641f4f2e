/*
 * test_validation.c: how acme/ judges what server/ fetched (RFC 8555 §8,
 * RFC 8737, RFC 8659/8657), on a real store: every challenge type's pass
 * and fail cases, CAA rules, and the retry of transient failures.
 */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"

#define NOW 1800000000
#define CID "00000000cccccccccccccccc"
#define AID "00000000aaaaaaaaaaaaaaaa"
#define CID2 "00000000ccccccccccccccc2"   /* pending siblings of CID */
#define CID3 "00000000ccccccccccccccc3"
#define ACCOUNT_URI "https://ca.test/acme/account/00000000dddddddddddddddd"

static struct store *st;
static struct acme *a;

struct seed {
	const char *type;      /* challenge type */
	const char *ident;     /* identifier value */
	int ip, wildcard;
};

static int
seed_txn(struct store_txn *txn, void *arg)
{
	const struct seed *s = arg;
	cJSON *az = cJSON_CreateObject(), *c = cJSON_CreateObject(), *id;
	int ret;

	cJSON_AddStringToObject(az, "account", "00000000dddddddddddddddd");
	id = cJSON_AddObjectToObject(az, "identifier");
	cJSON_AddStringToObject(id, "type", s->ip ? "ip" : "dns");
	cJSON_AddStringToObject(id, "value", s->ident);
	if (s->wildcard)
		cJSON_AddTrueToObject(az, "wildcard");
	cJSON_AddStringToObject(az, "status", "pending");
	cJSON_AddNumberToObject(az, "expires", NOW + 3600);
	cJSON_AddItemToObject(az, "challenges", cJSON_CreateStringArray(
	    (const char *[]){ CID2, CID, CID3 }, 3));
	cJSON_AddStringToObject(c, "authz", AID);
	cJSON_AddStringToObject(c, "type", s->type);
	cJSON_AddStringToObject(c, "token", "tok");
	cJSON_AddStringToObject(c, "status", "processing");
	cJSON_AddStringToObject(c, "accountUri", ACCOUNT_URI);
	ret = acme_record_put(txn, STORE_T_AUTHZS, AID, az);
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_CHALLENGES, CID, c);
	cJSON_ReplaceItemInObjectCaseSensitive(c, "status",
	    cJSON_CreateString("pending"));
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_CHALLENGES, CID2, c);
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_CHALLENGES, CID3, c);
	cJSON_Delete(az);
	cJSON_Delete(c);
	return ret;
}

/* Seeds a processing challenge and returns its job. */
static void
seed(const char *type, const char *ident, int ip, int wildcard,
    struct acme_validation *job)
{
	struct seed s = { type, ident, ip, wildcard };
	struct store_txn *txn;
	cJSON *c, *az;

	CHECK_EQ_INT(store_write(st, seed_txn, &s), 0);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	c = acme_record_get(txn, STORE_T_CHALLENGES, CID);
	az = acme_record_get(txn, STORE_T_AUTHZS, AID);
	store_read_end(txn);
	acme_job_fill(a, job, CID, c, az, "THUMB");
	cJSON_Delete(c);
	cJSON_Delete(az);
}

/* The challenge's status and, when invalid, its problem type suffix. */
static const char *
outcome(void)
{
	static char out[96];
	struct store_txn *txn;
	cJSON *c;
	const char *type;

	if (store_read_begin(st, &txn) != 0)
		return "?";
	c = acme_record_get(txn, STORE_T_CHALLENGES, CID);
	store_read_end(txn);
	type = acme_json_str(cJSON_GetObjectItemCaseSensitive(c, "error"), "type");
	snprintf(out, sizeof(out), "%s%s%s", acme_json_str(c, "status"),
	    type != NULL ? " " : "", type != NULL ? strrchr(type, ':') + 1 : "");
	cJSON_Delete(c);
	return out;
}

/* How many challenges the authorization lists and how many of CID's
 * siblings are still stored, as "listed/stored". */
static const char *
kept(void)
{
	static char out[16];
	struct store_txn *txn;
	const void *v;
	size_t vl;
	cJSON *az;
	int n = 0;

	if (store_read_begin(st, &txn) != 0)
		return "?";
	az = acme_record_get(txn, STORE_T_AUTHZS, AID);
	n += store_get(txn, STORE_T_CHALLENGES, CID2, strlen(CID2), &v, &vl) == 0;
	n += store_get(txn, STORE_T_CHALLENGES, CID3, strlen(CID3), &v, &vl) == 0;
	store_read_end(txn);
	snprintf(out, sizeof(out), "%d/%d", cJSON_GetArraySize(
	    cJSON_GetObjectItemCaseSensitive(az, "challenges")), n);
	cJSON_Delete(az);
	return out;
}

static void
drain_queue(void)
{
	struct acme_validation j;

	while (acme_validation_next(a, &j))
		;
}

static void
test_http01(void)
{
	struct acme_validation job;
	struct acme_validation_result r;
	const char *ka = "tok.THUMB\r\n";

	seed("http-01", "a.corp.internal", 0, 0, &job);
	CHECK_EQ_STR(job.key_authorization, "tok.THUMB");
	CHECK_EQ_INT(job.check_caa, 1);
	CHECK_EQ_STR(job.account_uri, ACCOUNT_URI);
	memset(&r, 0, sizeof(r));
	r.http_status = 200;
	r.body = (const uint8_t *)ka;
	r.body_len = strlen(ka);
	CHECK_EQ_STR(kept(), "3/2");
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "valid");
	/* a valid authorization keeps only the challenge that validated it */
	CHECK_EQ_STR(kept(), "1/0");

	seed("http-01", "a.corp.internal", 0, 0, &job);
	r.body = (const uint8_t *)"tok.OTHER";
	r.body_len = 9;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid incorrectResponse");
	CHECK_EQ_STR(kept(), "3/2");

	seed("http-01", "a.corp.internal", 0, 0, &job);
	r.http_status = 404;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid unauthorized");
}

static void
test_retries(void)
{
	struct acme_validation job, next;
	struct acme_validation_result r;

	seed("http-01", "a.corp.internal", 0, 0, &job);
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_CONNECTION;
	snprintf(r.detail, sizeof(r.detail), "connection refused by 127.0.0.1:80");
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "processing");           /* retried, not failed */
	CHECK_EQ_INT(acme_validation_next(a, &next), 1);
	CHECK_EQ_INT(next.attempt, 1);
	CHECK(next.delay > 0);
	acme_validation_done(a, &next, &r, NOW);
	CHECK_EQ_INT(acme_validation_next(a, &next), 1);
	CHECK_EQ_INT(next.attempt, 2);
	acme_validation_done(a, &next, &r, NOW);         /* the last attempt */
	CHECK_EQ_INT(acme_validation_next(a, &next), 0);
	CHECK_EQ_STR(outcome(), "invalid connection");

	/* forbidden addresses are not retried */
	seed("http-01", "a.corp.internal", 0, 0, &job);
	r.status = ACME_FETCH_FORBIDDEN;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_INT(acme_validation_next(a, &next), 0);
	CHECK_EQ_STR(outcome(), "invalid connection");

	seed("dns-01", "a.corp.internal", 0, 0, &job);
	r.status = ACME_FETCH_DNS;
	job.attempt = 2;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid dns");
}

static void
test_dns01(void)
{
	struct acme_validation job;
	struct acme_validation_result r;
	uint8_t d[32];
	char good[44];
	const char *txt[3];

	crypto_sha256("tok.THUMB", 9, d);
	crypto_b64url_encode(d, 32, good, sizeof(good));
	seed("dns-01", "corp.internal", 0, 1, &job);
	CHECK_EQ_INT(job.wildcard, 1);
	memset(&r, 0, sizeof(r));
	txt[0] = "something else";
	txt[1] = good;
	r.txt = txt;
	r.n_txt = 2;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "valid");

	seed("dns-01", "corp.internal", 0, 0, &job);
	r.n_txt = 1;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid incorrectResponse");

	seed("dns-01", "corp.internal", 0, 0, &job);
	r.n_txt = 0;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid unauthorized");
}

static void
test_tlsalpn01(void)
{
	struct acme_validation job;
	struct acme_validation_result r;

	seed("tls-alpn-01", "a.corp.internal", 0, 0, &job);
	memset(&r, 0, sizeof(r));
	r.alpn = "http/1.1";
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid tls");

	seed("tls-alpn-01", "a.corp.internal", 0, 0, &job);
	r.alpn = "acme-tls/1";
	r.peer_cert = (const uint8_t *)"not a certificate";
	r.peer_cert_len = 17;
	acme_validation_done(a, &job, &r, NOW);
	CHECK_EQ_STR(outcome(), "invalid incorrectResponse");
}

/* A valid http-01 answer with the given CAA set; returns the outcome. */
static const char *
with_caa(int wildcard, const char *type, const struct acme_caa_record *caa,
    size_t n, enum acme_fetch_status caa_status)
{
	struct acme_validation job;
	struct acme_validation_result r;
	uint8_t d[32];
	char good[44];
	const char *txt[1] = { good };
	const char *ka = "tok.THUMB";

	seed(type, wildcard ? "corp.internal" : "a.corp.internal", 0, wildcard, &job);
	memset(&r, 0, sizeof(r));
	crypto_sha256(ka, strlen(ka), d);
	crypto_b64url_encode(d, 32, good, sizeof(good));
	r.txt = txt;
	r.n_txt = 1;
	r.http_status = 200;
	r.body = (const uint8_t *)ka;
	r.body_len = strlen(ka);
	r.caa = caa;
	r.n_caa = n;
	r.caa_status = caa_status;
	job.attempt = 2;   /* no retries here */
	acme_validation_done(a, &job, &r, NOW);
	drain_queue();
	return outcome();
}

static void
test_caa(void)
{
	struct acme_caa_record rec[3];

	memset(rec, 0, sizeof(rec));
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 0, ACME_FETCH_OK), "valid");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 0, ACME_FETCH_DNS), "invalid dns");

	snprintf(rec[0].tag, sizeof(rec[0].tag), "issue");
	snprintf(rec[0].value, sizeof(rec[0].value), "ca.corp.internal");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "valid");
	snprintf(rec[0].value, sizeof(rec[0].value), "other-ca.example");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "invalid caa");
	snprintf(rec[0].value, sizeof(rec[0].value), ";");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "invalid caa");

	/* RFC 8657 parameters */
	snprintf(rec[0].value, sizeof(rec[0].value),
	    "ca.corp.internal; accounturi=" ACCOUNT_URI);
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "valid");
	snprintf(rec[0].value, sizeof(rec[0].value),
	    "ca.corp.internal; accounturi=https://ca.test/acme/account/x");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "invalid caa");
	snprintf(rec[0].value, sizeof(rec[0].value),
	    "ca.corp.internal; validationmethods=dns-01,tls-alpn-01");
	CHECK_EQ_STR(with_caa(0, "http-01", rec, 1, ACME_FETCH_OK), "invalid caa");
	CHECK_EQ_STR(with_caa(0, "dns-01", rec, 1, ACME_FETCH_OK), "valid");

	/* issuewild governs wildcards when present; issue otherwise */
	snprintf(rec[0].value, sizeof(rec[0].value), "ca.corp.internal");
	snprintf(rec[1].tag, sizeof(rec[1].tag), "issuewild");
	snprintf(rec[1].value, sizeof(rec[1].value), ";");
	CHECK_EQ_STR(with_caa(1, "dns-01", rec, 2, ACME_FETCH_OK), "invalid caa");
	CHECK_EQ_STR(with_caa(0, "dns-01", rec, 2, ACME_FETCH_OK), "valid");
	CHECK_EQ_STR(with_caa(1, "dns-01", rec, 1, ACME_FETCH_OK), "valid");

	/* an unknown critical property forbids; an unknown plain one does not */
	snprintf(rec[2].tag, sizeof(rec[2].tag), "future");
	rec[2].flags = 128;
	memcpy(&rec[1], &rec[2], sizeof(rec[1]));
	CHECK_EQ_STR(with_caa(0, "dns-01", rec, 2, ACME_FETCH_OK), "invalid caa");
	rec[1].flags = 0;
	CHECK_EQ_STR(with_caa(0, "dns-01", rec, 2, ACME_FETCH_OK), "valid");
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	static const char *const ids[] = { "ca.corp.internal" };
	struct acme_config cfg;
	char dir[512], err[256];
	int e;

	snprintf(dir, sizeof(dir), "%s/validationXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.caa_check = 1;
	cfg.caa_identities = ids;
	cfg.n_caa_identities = 1;
	a = acme_new(&cfg, st, NULL, &e);
	CHECK(a != NULL);
	if (st != NULL && a != NULL) {
		test_http01();
		test_retries();
		test_dns01();
		test_tlsalpn01();
		test_caa();
	}
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
