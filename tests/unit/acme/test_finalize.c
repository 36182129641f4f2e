/*
 * test_finalize.c: the claim of a finalize (acme/order.c), on a real LMDB
 * store with a real signer. Alone on its store, a finalize claims the
 * order in memory: the order reads "processing" meanwhile, a second
 * finalize of it is refused with orderNotReady, and many finalizes of one
 * order at once give one certificate. With replicas sharing the store the
 * claim is a store write, and the same holds.
 */
#include "check.h"
#include "client.h"

#include <pthread.h>

#include "acme_internal.h"
#include "catest.h"
#include "store.h"

#define RACERS 8

static char dir[512], ca[600];
static struct store *st;
static uint8_t csr[2048];
static size_t csr_len;

static int
count_cb(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t
certs(void)
{
	struct store_txn *txn;
	size_t n = 0;

	if (store_read_begin(st, &txn) != 0)
		return (size_t)-1;
	(void)store_scan(txn, STORE_T_CERTS, NULL, 0, NULL, 0, count_cb, &n);
	store_read_end(txn);
	return n;
}

static const char *
status_of(struct tc *c)
{
	static char status[32];
	cJSON *o = tc_json(c);

	snprintf(status, sizeof(status), "%s", o != NULL &&
	    acme_json_str(o, "status") != NULL ? acme_json_str(o, "status") : "");
	cJSON_Delete(o);
	return status;
}

/* An order for svc.corp.internal made ready (its http-01 challenge
 * answered and judged valid); its path and its finalize path. */
static void
ready_order(struct tc *c, char order[ACME_MAX_URL], char fin[ACME_MAX_URL])
{
	struct acme_validation job;
	struct acme_validation_result r;
	const cJSON *e;
	cJSON *o;

	CHECK_EQ_INT(tc_post(c, "/acme/new-order", "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"svc.corp.internal\"}]}"), 201);
	snprintf(order, ACME_MAX_URL, "%s",
	    tc_path(tc_header(&c->resp, "Location")));
	o = tc_json(c);
	snprintf(fin, ACME_MAX_URL, "%s", tc_path(acme_json_str(o, "finalize")));
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o,
	    "authorizations"), 0);
	CHECK_EQ_INT(tc_post(c, tc_path(cJSON_IsString(e) ? e->valuestring :
	    NULL), NULL), 200);
	cJSON_Delete(o);
	/* the account's earlier valid authorization for the name is reused */
	if (strcmp(status_of(c), "valid") != 0) {
		o = tc_json(c);
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o,
		    "challenges"))
			if (strcmp(acme_json_str(e, "type"), "http-01") == 0)
				CHECK_EQ_INT(tc_post(c, tc_path(acme_json_str(e,
				    "url")), "{}"), 200);
		cJSON_Delete(o);
		CHECK_EQ_INT(acme_validation_next(c->a, &job), 1);
		memset(&r, 0, sizeof(r));
		r.status = ACME_FETCH_OK;
		r.http_status = 200;
		r.body = (const uint8_t *)job.key_authorization;
		r.body_len = strlen(job.key_authorization);
		acme_validation_done(c->a, &job, &r, c->now);
	}
	CHECK_EQ_INT(tc_post(c, order, NULL), 200);
	o = tc_json(c);
	CHECK_EQ_STR(acme_json_str(o, "status"), "ready");
	cJSON_Delete(o);
}

static void
finalize_payload(char *out, size_t outsz)
{
	char b64[4096];

	tc_b64(csr, csr_len, b64, sizeof(b64));
	snprintf(out, outsz, "{\"csr\":\"%s\"}", b64);
}

/* A finalize under way in this process (its id in a->finalizing): the
 * order reads processing, with a Retry-After, and another finalize is
 * refused; once it is gone, the finalize goes through. */
static void
test_claim_in_memory(struct tc *c)
{
	char order[ACME_MAX_URL], fin[ACME_MAX_URL], payload[8192];
	const char *id;
	size_t before = certs();

	ready_order(c, order, fin);
	id = strrchr(order, '/') + 1;
	snprintf(c->a->finalizing[3], sizeof(c->a->finalizing[3]), "%s", id);
	CHECK_EQ_INT(tc_post(c, order, NULL), 200);
	CHECK_EQ_STR(status_of(c), "processing");
	CHECK(tc_header(&c->resp, "Retry-After") != NULL);
	finalize_payload(payload, sizeof(payload));
	CHECK_EQ_INT(tc_post(c, fin, payload), 403);
	CHECK(c->resp.body != NULL &&
	    strstr(c->resp.body, "orderNotReady") != NULL &&
	    strstr(c->resp.body, "processing") != NULL);
	CHECK_EQ_INT(certs(), before);
	c->a->finalizing[3][0] = '\0';
	CHECK_EQ_INT(tc_post(c, order, NULL), 200);
	CHECK_EQ_STR(status_of(c), "ready");
	CHECK_EQ_INT(tc_post(c, fin, payload), 200);
	CHECK_EQ_STR(status_of(c), "valid");
	CHECK_EQ_INT(certs(), before + 1);
	/* nothing left claimed */
	CHECK_EQ_INT(c->a->finalizing[3][0], '\0');
	CHECK_EQ_INT(tc_post(c, fin, payload), 403);
}

struct racer {
	struct acme *a;
	const char *path;
	char *body;
	time_t now;
	struct acme_response resp;
	pthread_barrier_t *go;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct acme_request req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = r->path;
	req.base_url = TC_BASE;
	req.content_type = "application/jose+json";
	req.body = (const uint8_t *)r->body;
	req.body_len = strlen(r->body);
	req.now = r->now;
	pthread_barrier_wait(r->go);
	acme_handle(r->a, &req, &r->resp);
	crypto_thread_cleanup();        /* this thread's curve tables */
	return NULL;
}

/* RACERS finalizes of one ready order at once, each with its own nonce:
 * one certificate, one 200, every other answer orderNotReady. */
static void
test_race(struct tc *c)
{
	char order[ACME_MAX_URL], fin[ACME_MAX_URL], payload[8192];
	char url[ACME_MAX_URL + 32];
	struct racer r[RACERS];
	pthread_t t[RACERS];
	pthread_barrier_t go;
	size_t before = certs();
	int i, ok = 0, not_ready = 0;

	ready_order(c, order, fin);
	finalize_payload(payload, sizeof(payload));
	snprintf(url, sizeof(url), "%s%s", TC_BASE, fin);
	pthread_barrier_init(&go, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		(void)tc_send(c, "HEAD", "/acme/new-nonce", NULL);
		r[i].a = c->a;
		r[i].path = fin;
		r[i].now = c->now;
		r[i].go = &go;
		r[i].body = tc_jws(c, url, payload, strlen(payload), TC_KID);
		CHECK(r[i].body != NULL);
	}
	for (i = 0; i < RACERS; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		if (r[i].resp.status == 200)
			ok++;
		else if (r[i].resp.status == 403 && r[i].resp.body != NULL &&
		    strstr(r[i].resp.body, "orderNotReady") != NULL)
			not_ready++;
		else
			fprintf(stderr, "racer %d: %d %.*s\n", i, r[i].resp.status,
			    (int)r[i].resp.body_len, r[i].resp.body);
		acme_response_clear(&r[i].resp);
		free(r[i].body);
	}
	pthread_barrier_destroy(&go);
	(void)tc_send(c, "HEAD", "/acme/new-nonce", NULL);     /* all used */
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(not_ready, RACERS - 1);
	CHECK_EQ_INT(certs(), before + 1);
	CHECK_EQ_INT(tc_post(c, order, NULL), 200);
	CHECK_EQ_STR(status_of(c), "valid");
}

/* The flows on a handle alone on the store (shared 0) or as a replica. */
static void
run(struct crypto_signer *signer, int shared)
{
	struct acme_config cfg;
	struct acme *a;
	struct tc c;
	int e;

	memset(&cfg, 0, sizeof(cfg));
	cfg.shared = shared;
	a = acme_new(&cfg, st, signer, &e);
	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_EQ_INT(a->shared, shared);
	CHECK_EQ_INT(tc_init(&c, a, time(NULL)), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	if (!shared)
		test_claim_in_memory(&c);
	test_race(&c);
	tc_free(&c);
	acme_free(a);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct crypto_signer *signer;
	char err[256], dbdir[600], path[700];
	int e;

	snprintf(dir, sizeof(dir), "%s/finalizeXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	snprintf(ca, sizeof(ca), "%s/ca", dir);
	snprintf(dbdir, sizeof(dbdir), "%s/db", dir);
	CHECK_EQ_INT(ct_ca(ca, "finalize"), CRYPTO_OK);
	signer = crypto_signer_open(ca, NULL, 0, NULL, &e);
	CHECK(signer != NULL);
	st = store_open(dbdir, &e, err, sizeof(err));
	CHECK(st != NULL);
	snprintf(path, sizeof(path), "%s/csr.der", dir);
	csr_len = ct_csr(path, "svc.corp.internal", csr, sizeof(csr));
	CHECK(csr_len > 0);
	if (signer != NULL && st != NULL) {
		run(signer, 0);
		run(signer, 1);
	}
	store_close(st);
	crypto_signer_free(signer);
	crypto_cleanup();
	return CHECK_DONE();
}
