/*
 * test_cleanup.c: the background cleanup (acme/cleanup.c) on a real store,
 * with whole ACME flows driven through acme_handle() and a clock the test
 * moves: live records are never removed, certificates stay until they have
 * been expired for the retention window, everything that expired goes with
 * its indexes (a revoked certificate with its CRL entry), and over many issue-and-expire cycles the database file
 * stays the same size.
 */
#include "check.h"
#include "client.h"

#include <sys/stat.h>
#include <unistd.h>

#include "acme_internal.h"
#include "catest.h"
#include "store.h"

#define NAMES      5
#define CYCLES     24
#define WARMUP     6
#define RETENTION  86400
/* long enough for every order, authorization and 1-day certificate of a
 * cycle to expire and pass the retention window */
#define CYCLE_STEP (45L * 86400)

static char dir[512], ca[600];
static struct store *st;
static struct acme *a;
static uint8_t csr[NAMES][2048];
static size_t csr_len[NAMES];

static int
count_cb(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

/* Records in every table but meta and the account tables. */
static size_t
records(void)
{
	struct store_txn *txn;
	size_t n = 0;
	int t;

	if (store_read_begin(st, &txn) != 0)
		return (size_t)-1;
	for (t = STORE_T_ORDERS; t < STORE_T_COUNT; t++)
		(void)store_scan(txn, (enum store_table)t, NULL, 0, NULL, 0,
		    count_cb, &n);
	store_read_end(txn);
	return n;
}

static long
db_size(void)
{
	char path[700];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/db/data.mdb", dir);
	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void
make_csrs(void)
{
	char path[700], cn[64];
	int i;

	for (i = 0; i < NAMES; i++) {
		snprintf(path, sizeof(path), "%s/csr%d.der", dir, i);
		snprintf(cn, sizeof(cn), "svc%d.corp.internal", i);
		csr_len[i] = ct_csr(path, cn, csr[i], sizeof(csr[i]));
		CHECK(csr_len[i] > 0);
	}
}

/* Answers the http-01 job queued for the challenge just posted. */
static void
validate(time_t now)
{
	struct acme_validation job;
	struct acme_validation_result r;

	CHECK_EQ_INT(acme_validation_next(a, &job), 1);
	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_OK;
	r.http_status = 200;
	r.body = (const uint8_t *)job.key_authorization;
	r.body_len = strlen(job.key_authorization);
	acme_validation_done(a, &job, &r, now);
}

/* One whole issuance for name i; the certificate downloads and its
 * serial is written to serial. */
static void
issue(struct tc *c, int i, char serial[64])
{
	const char *u;
	char payload[8192], b64[4096], order[ACME_MAX_URL], fin[ACME_MAX_URL];
	const cJSON *e;
	cJSON *o;

	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"svc%d.corp.internal\"}]}", i);
	CHECK_EQ_INT(tc_post(c, "/acme/new-order", payload), 201);
	snprintf(order, sizeof(order), "%s", tc_path(tc_header(&c->resp, "Location")));
	o = tc_json(c);
	snprintf(fin, sizeof(fin), "%s", tc_path(acme_json_str(o, "finalize")));
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "authorizations"), 0);
	CHECK_EQ_INT(tc_post(c, tc_path(cJSON_IsString(e) ? e->valuestring : NULL),
	    NULL), 200);
	cJSON_Delete(o);
	o = tc_json(c);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "challenges"))
		if (strcmp(acme_json_str(e, "type"), "http-01") == 0)
			CHECK_EQ_INT(tc_post(c, tc_path(acme_json_str(e, "url")),
			    "{}"), 200);
	cJSON_Delete(o);
	validate(c->now);
	tc_b64(csr[i], csr_len[i], b64, sizeof(b64));
	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", b64);
	CHECK_EQ_INT(tc_post(c, fin, payload), 200);
	o = tc_json(c);
	CHECK_EQ_STR(acme_json_str(o, "status"), "valid");
	CHECK_EQ_INT(tc_post(c, tc_path(acme_json_str(o, "certificate")), NULL), 200);
	u = acme_json_str(o, "certificate");
	snprintf(serial, 64, "%s", u != NULL && strrchr(u, '/') != NULL ?
	    strrchr(u, '/') + 1 : "");
	cJSON_Delete(o);
	CHECK_EQ_INT(tc_post(c, order, NULL), 200);
}

static size_t
cleanup_all(time_t now)
{
	size_t total = 0;
	int n;

	while ((n = acme_cleanup(a, now)) > 0)
		total += (size_t)n;
	CHECK_EQ_INT(n, 0);
	return total;
}

static void
test_cycles(time_t t0)
{
	struct tc c;
	char serial[64];
	long warm = -1;
	size_t live;
	int cycle, i;

	CHECK_EQ_INT(tc_init(&c, a, t0), 0);
	CHECK_EQ_INT(tc_register(&c), 0);
	for (cycle = 0; cycle < CYCLES; cycle++) {
		c.now = t0 + cycle * CYCLE_STEP;
		c.nonce[0] = '\0';
		for (i = 0; i < NAMES; i++)
			issue(&c, i, serial);
		/* one revoked certificate a cycle: its CRL entry goes too */
		CHECK_EQ_INT(acme_cert_revoke(st, serial, 1, c.now), 0);
		live = records();
		CHECK(live > 0);
		/* nothing live goes: not now, nor once the certificates have
		 * expired but are within the retention window */
		CHECK_EQ_INT(cleanup_all(c.now), 0);
		CHECK_EQ_INT(cleanup_all(c.now + 86400 + RETENTION / 2), 0);
		CHECK_EQ_INT(records(), live);
		/* the next cycle's clock: every order, authorization and
		 * certificate of this one has gone, with its challenges and
		 * index entries */
		CHECK_EQ_INT(cleanup_all(t0 + (cycle + 1) * CYCLE_STEP - 1), 3 * NAMES);
		CHECK_EQ_INT(records(), 0);
		if (cycle == WARMUP)
			warm = db_size();
	}
	CHECK(warm > 0);
	CHECK_EQ_INT(db_size(), warm);
	tc_free(&c);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct crypto_signer *signer;
	struct acme_config cfg;
	struct crypto_profile day;
	char err[256], dbdir[600];
	time_t t0 = time(NULL);
	int e;

	snprintf(dir, sizeof(dir), "%s/cleanupXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	snprintf(ca, sizeof(ca), "%s/ca", dir);
	snprintf(dbdir, sizeof(dbdir), "%s/db", dir);
	CHECK_EQ_INT(ct_ca(ca, "cleanup"), CRYPTO_OK);
	signer = crypto_signer_open(ca, NULL, 0, NULL, &e);
	CHECK(signer != NULL);
	st = store_open(dbdir, &e, err, sizeof(err));
	CHECK(st != NULL);
	make_csrs();
	memset(&cfg, 0, sizeof(cfg));
	/* 1-day certificates; the signer's own "classic" allows that */
	memset(&day, 0, sizeof(day));
	snprintf(day.name, sizeof(day.name), "classic");
	day.lifetime = 86400;
	day.key_usage = CRYPTO_KU_DIGITAL_SIGNATURE;
	day.eku = CRYPTO_EKU_SERVER_AUTH;
	cfg.profiles = &day;
	cfg.n_profiles = 1;
	cfg.retention = RETENTION;
	a = acme_new(&cfg, st, signer, &e);
	CHECK(a != NULL);
	if (a != NULL && signer != NULL)
		test_cycles(t0);
	acme_free(a);
	store_close(st);
	crypto_signer_free(signer);
	crypto_cleanup();
	return CHECK_DONE();
}
