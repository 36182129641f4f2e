/*
 * test_renewal.c: renewal information (RFC 9773) and certificate profiles
 * (draft-ietf-acme-profiles) on a real store: the window's shape, revoked
 * and unknown certificates, certID parsing, "replaces" claimed once and
 * refused as alreadyReplaced, for another account or disjoint identifiers,
 * and profiles in the directory, on newOrder and in the order object.
 */
#include "check.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "jwstest.h"
#include "store.h"

#define NOW     1800000000
#define DAY     86400
#define AKI     "q83vEjRWeJA"          /* base64url of ab cd ef 12 34 56 78 90 */
#define SERIAL  "AKuMAQ"               /* 00 ab 8c 01: high bit, sign byte */
#define CERT_ID AKI "." SERIAL
#define OTHER_ACCOUNT "00000000eeeeeeeeeeeeeeee"

static struct store *st;
static struct acme *a;

static const char *
header(const struct acme_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* The problem type's last word, or "" for a non-problem. */
static const char *
ptype(const struct acme_response *r)
{
	static char out[64];
	cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);
	const char *t = acme_json_str(o, "type");

	snprintf(out, sizeof(out), "%s", t != NULL && strrchr(t, ':') != NULL ?
	    strrchr(t, ':') + 1 : "");
	cJSON_Delete(o);
	return out;
}

static void
get(const char *method, const char *path, struct acme_response *r)
{
	struct acme_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.base_url = JT_BASE;
	req.now = NOW;
	acme_handle(a, &req, r);
}

struct seed {
	const char *serial, *ari, *account;
	time_t nb, na, revoked;
	const char *successor;       /* "replacedByCert", or NULL */
};

static int
seed_txn(struct store_txn *txn, void *arg)
{
	const struct seed *s = arg;
	cJSON *c = cJSON_CreateObject(), *ids, *e;
	int ret;

	cJSON_AddStringToObject(c, "account", s->account);
	if (s->ari != NULL)      /* an older record */
		cJSON_AddStringToObject(c, "ari", s->ari);
	else                     /* a record of today: the certID from these */
		cJSON_AddStringToObject(c, "issuer", "abcdef1234567890");
	cJSON_AddNumberToObject(c, "notBefore", (double)s->nb);
	cJSON_AddNumberToObject(c, "notAfter", (double)s->na);
	if (s->revoked != 0)
		cJSON_AddNumberToObject(c, "revoked", (double)s->revoked);
	if (s->successor != NULL)
		cJSON_AddStringToObject(c, "replacedByCert", s->successor);
	ids = cJSON_AddArrayToObject(c, "identifiers");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", "dns");
	cJSON_AddStringToObject(e, "value", "a.corp.internal");
	cJSON_AddItemToArray(ids, e);
	ret = acme_record_put(txn, STORE_T_CERTS, s->serial, c);
	cJSON_Delete(c);
	return ret;
}

static void
seed_cert(const char *serial, const char *ari, const char *account,
    time_t nb, time_t na, time_t revoked)
{
	struct seed s = { serial, ari, account, nb, na, revoked, NULL };

	CHECK_EQ_INT(store_write(st, seed_txn, &s), 0);
}

/* ---- window and identifiers ---- */

static void
test_window(void)
{
	time_t s, e;

	acme_renewal_window(NOW, NOW + 90 * DAY, 0, NOW + DAY, &s, &e);
	CHECK_EQ_INT(s, NOW + 60 * DAY);          /* two thirds */
	CHECK_EQ_INT(e, NOW + 75 * DAY);          /* five sixths */
	acme_renewal_window(NOW, NOW + 160 * 3600, 0, NOW, &s, &e);
	CHECK_EQ_INT(s, NOW + 320 * 3600 / 3);
	CHECK_EQ_INT(e, NOW + 800 * 3600 / 6);
	CHECK(s > NOW && e > s && e < NOW + 160 * 3600);
	/* revoked: a window ending now, so the client renews at once */
	acme_renewal_window(NOW, NOW + 90 * DAY, NOW + 5, NOW + 10, &s, &e);
	CHECK_EQ_INT(s, NOW + 10 - 3600);
	CHECK_EQ_INT(e, NOW + 10);
	/* a degenerate validity still gives end after start */
	acme_renewal_window(NOW, NOW, 0, NOW, &s, &e);
	CHECK(e > s);
}

static void
test_cert_id(void)
{
	static const char *const bad[] = {
		"", "q83vEjRWeJA", "q83vEjRWeJA.", ".AKuMAQ", "a.b.c",
		"q83vEjRWeJA=.AKuMAQ",       /* padding */
		"q83v+jRWeJA.AKuMAQ",        /* not the url alphabet */
		"q83vEjRWeJA.q4wB",          /* ab 8c 01: negative */
		"q83vEjRWeJA.AAE",           /* 00 01: not minimal */
		"q83vEjRWeJA.AA",            /* zero */
		"q83vEjRWeJA.AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB", /* 21 octets */
	};
	struct acme_cert_id id;
	char why[128], longid[300];
	size_t i;

	CHECK_EQ_INT(acme_cert_id_parse(CERT_ID, &id, why, sizeof(why)), 0);
	CHECK_EQ_STR(id.serial, "ab8c01");
	CHECK_EQ_STR(id.text, CERT_ID);
	CHECK_EQ_INT(acme_cert_id_parse("q83vEjRWeJA.fw", &id, why, sizeof(why)), 0);
	CHECK_EQ_STR(id.serial, "7f");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ_INT(acme_cert_id_parse(bad[i], &id, why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
	}
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	longid[100] = '.';
	CHECK_EQ_INT(acme_cert_id_parse(longid, &id, why, sizeof(why)), -1);
}

/* ---- GET renewalInfo ---- */

static void
check_window(const struct acme_response *r, time_t start, time_t end)
{
	cJSON *o = cJSON_ParseWithLength(r->body, r->body_len);
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "suggestedWindow");
	time_t s = 0, e = 0;

	CHECK(acme_time_parse(acme_json_str(w, "start") ? acme_json_str(w, "start") :
	    "", &s) == 0);
	CHECK(acme_time_parse(acme_json_str(w, "end") ? acme_json_str(w, "end") :
	    "", &e) == 0);
	CHECK_EQ_INT(s, start);
	CHECK_EQ_INT(e, end);
	cJSON_Delete(o);
}

static void
test_renewal_info(void)
{
	struct acme_response r;

	seed_cert("ab8c01", CERT_ID, OTHER_ACCOUNT, NOW - DAY, NOW + 89 * DAY, 0);
	get("GET", ACME_PATH_RENEWAL_INFO "/" CERT_ID, &r);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_STR(r.content_type, "application/json");
	CHECK_EQ_STR(header(&r, "Retry-After"), "21600");
	check_window(&r, NOW - DAY + 60 * DAY, NOW - DAY + 75 * DAY);
	acme_response_clear(&r);

	/* the same serial under another key identifier is not ours */
	get("GET", ACME_PATH_RENEWAL_INFO "/AAAAAAAAAAA." SERIAL, &r);
	CHECK_EQ_INT(r.status, 404);
	CHECK_EQ_STR(ptype(&r), "malformed");
	acme_response_clear(&r);
	get("GET", ACME_PATH_RENEWAL_INFO "/" AKI ".AKuMAg", &r);
	CHECK_EQ_INT(r.status, 404);
	acme_response_clear(&r);
	get("GET", ACME_PATH_RENEWAL_INFO "/" AKI ".AAE", &r);
	CHECK_EQ_INT(r.status, 400);
	CHECK_EQ_STR(ptype(&r), "malformed");
	acme_response_clear(&r);
	get("GET", ACME_PATH_RENEWAL_INFO "/", &r);
	CHECK_EQ_INT(r.status, 404);
	acme_response_clear(&r);
	get("POST", ACME_PATH_RENEWAL_INFO "/" CERT_ID, &r);
	CHECK_EQ_INT(r.status, 405);
	CHECK_EQ_STR(header(&r, "Allow"), "GET, HEAD");
	acme_response_clear(&r);

	/* revoked: the window ends now */
	seed_cert("ab8c01", CERT_ID, OTHER_ACCOUNT, NOW - DAY, NOW + 89 * DAY,
	    NOW - 60);
	get("GET", ACME_PATH_RENEWAL_INFO "/" CERT_ID, &r);
	CHECK_EQ_INT(r.status, 200);
	check_window(&r, NOW - 3600, NOW);
	acme_response_clear(&r);
}

/* Records written today hold no "ari": the certID is made from "issuer"
 * and the serial, with a sign octet only when the serial needs one. */
static void
test_renewal_info_derived(void)
{
	struct acme_response r;
	char ari[CRYPTO_ARI_ID_MAX];
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "issuer", "abcdef1234567890");
	CHECK_EQ_INT(acme_cert_rec_ari(c, "ab8c02", ari), 0);
	CHECK_EQ_STR(ari, AKI ".AKuMAg");
	CHECK_EQ_INT(acme_cert_rec_ari(c, "018c01", ari), 0);
	CHECK_EQ_STR(ari, AKI ".AYwB");
	CHECK_EQ_INT(acme_cert_rec_ari(c, "18c01", ari), -1);   /* odd */
	CHECK_EQ_INT(acme_cert_rec_ari(c, "AB8C02", ari), -1);  /* not ours */
	cJSON_DeleteItemFromObject(c, "issuer");
	CHECK_EQ_INT(acme_cert_rec_ari(c, "ab8c02", ari), -1);
	cJSON_Delete(c);

	seed_cert("018c01", NULL, OTHER_ACCOUNT, NOW - DAY, NOW + 89 * DAY, 0);
	get("GET", ACME_PATH_RENEWAL_INFO "/" AKI ".AYwB", &r);
	CHECK_EQ_INT(r.status, 200);
	check_window(&r, NOW - DAY + 60 * DAY, NOW - DAY + 75 * DAY);
	acme_response_clear(&r);
	get("GET", ACME_PATH_RENEWAL_INFO "/AAAAAAAAAAA.AYwB", &r);
	CHECK_EQ_INT(r.status, 404);
	acme_response_clear(&r);
}

/* ---- replaces, claimed in a write transaction ---- */

struct claim {
	struct acme_replaces r;
	const char *order_id, *order_status;
	time_t order_expires;
};

static int
claim_txn(struct store_txn *txn, void *arg)
{
	struct claim *c = arg;
	cJSON *o = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(o, "account", c->r.account);
	cJSON_AddStringToObject(o, "status", c->order_status);
	cJSON_AddNumberToObject(o, "expires", (double)c->order_expires);
	cJSON_AddItemToObject(o, "authzs", cJSON_CreateArray());
	ret = acme_record_put(txn, STORE_T_ORDERS, c->order_id, o);
	cJSON_Delete(o);
	return ret != 0 ? ret : acme_replaces_claim(txn, &c->r);
}

/* Claims CERT_ID for a new order; returns 0 or the refusal's problem. */
static int
claim(const char *account, const char *ident, const char *order_id,
    const char *order_status, time_t order_expires)
{
	struct acme_cert_id id;
	struct claim c;
	char why[128];
	cJSON *ids = cJSON_CreateArray(), *e = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(e, "type", "dns");
	cJSON_AddStringToObject(e, "value", ident);
	cJSON_AddItemToArray(ids, e);
	acme_cert_id_parse(CERT_ID, &id, why, sizeof(why));
	memset(&c, 0, sizeof(c));
	c.r.id = &id;
	c.r.account = account;
	c.r.identifiers = ids;
	c.r.order_id = order_id;
	c.r.now = NOW;
	c.order_id = order_id;
	c.order_status = order_status;
	c.order_expires = order_expires;
	ret = store_write(st, claim_txn, &c);
	cJSON_Delete(ids);
	return ret == 1 ? (int)c.r.problem : ret == 0 ? 0 : -100;
}

/* A certificate whose replacement was issued stays replaced after the
 * replacing order is cleaned up: finalize marks it (replacedByCert), and
 * no order record is needed to refuse another claim. */
static void
test_replaced_for_good(void)
{
	struct seed s = { "ab8c01", CERT_ID, "00000000dddddddddddddddd",
	    NOW - DAY, NOW + 89 * DAY, 0, "ab8c03" };

	/* the record as finalize leaves it: no live claim, a successor */
	CHECK_EQ_INT(store_write(st, seed_txn, &s), 0);
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "000000000000000000000010", "pending", NOW + DAY),
	    ACME_P_ALREADY_REPLACED);
}

static void
test_replaces(void)
{
	seed_cert("ab8c01", CERT_ID, "00000000dddddddddddddddd", NOW - DAY,
	    NOW + 89 * DAY, 0);
	CHECK_EQ_INT(claim(OTHER_ACCOUNT, "a.corp.internal", "00000000000000000000000a",
	    "pending", NOW + DAY), ACME_P_UNAUTHORIZED);
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "b.corp.internal",
	    "00000000000000000000000b", "pending", NOW + DAY), ACME_P_MALFORMED);
	/* a refused claim leaves nothing: neither order nor mark */
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "00000000000000000000000c", "pending", NOW + DAY), 0);
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "00000000000000000000000d", "pending", NOW + DAY),
	    ACME_P_ALREADY_REPLACED);
	/* once the claiming order is invalid (here expired), a new one may */
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "00000000000000000000000c", "pending", NOW - 1), 0);
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "00000000000000000000000e", "pending", NOW + DAY), 0);
	CHECK_EQ_INT(claim("00000000dddddddddddddddd", "a.corp.internal",
	    "00000000000000000000000f", "valid", NOW + DAY),
	    ACME_P_ALREADY_REPLACED);
	test_replaced_for_good();
}

/* ---- profiles and replaces through newOrder ---- */

static cJSON *
new_order(struct jt_key *k, const char *extra, struct acme_response *r)
{
	char payload[512];

	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":\"dns\","
	    "\"value\":\"a.corp.internal\"}]%s}", extra);
	jt_post(a, k, ACME_PATH_NEW_ORDER, payload, NOW, r);
	return cJSON_ParseWithLength(r->body, r->body_len);
}

static void
test_directory(void)
{
	struct acme_response r;
	cJSON *d, *p;

	get("GET", ACME_PATH_DIRECTORY, &r);
	d = cJSON_ParseWithLength(r.body, r.body_len);
	CHECK_EQ_STR(acme_json_str(d, "renewalInfo"), JT_BASE "/acme/renewal-info");
	p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d,
	    "meta"), "profiles");
	CHECK_EQ_INT(cJSON_GetArraySize(p), 2);
	CHECK_EQ_STR(acme_json_str(p, "classic"),
	    "default: certificates valid 90 days, for serverAuth clientAuth");
	CHECK_EQ_STR(acme_json_str(p, "shortlived"),
	    "certificates valid 150 hours, for serverAuth clientAuth");
	cJSON_Delete(d);
	acme_response_clear(&r);
}

static void
test_new_order(void)
{
	struct jt_key k, other;
	struct acme_response r;
	cJSON *o;

	CHECK_EQ_INT(jt_key_new(&k, "acct"), 0);
	CHECK_EQ_INT(jt_register(a, &k, NOW), 0);
	CHECK_EQ_INT(jt_key_new(&other, "other"), 0);
	CHECK_EQ_INT(jt_register(a, &other, NOW), 0);

	o = new_order(&k, ",\"profile\":\"shortlived\"", &r);
	CHECK_EQ_INT(r.status, 201);
	CHECK_EQ_STR(acme_json_str(o, "profile"), "shortlived");
	cJSON_Delete(o);
	acme_response_clear(&r);
	o = new_order(&k, "", &r);        /* none asked: the default's name */
	CHECK_EQ_INT(r.status, 201);
	CHECK_EQ_STR(acme_json_str(o, "profile"), "classic");
	CHECK(cJSON_GetObjectItemCaseSensitive(o, "replaces") == NULL);
	cJSON_Delete(o);
	acme_response_clear(&r);
	cJSON_Delete(new_order(&k, ",\"profile\":\"longlived\"", &r));
	CHECK_EQ_INT(r.status, 400);
	CHECK_EQ_STR(ptype(&r), "invalidProfile");
	acme_response_clear(&r);
	cJSON_Delete(new_order(&k, ",\"profile\":7", &r));
	CHECK_EQ_STR(ptype(&r), "malformed");
	acme_response_clear(&r);
	/* notAfter is bounded by the profile's lifetime */
	cJSON_Delete(new_order(&k, ",\"profile\":\"shortlived\","
	    "\"notAfter\":\"2027-01-25T08:00:00Z\"", &r));
	CHECK_EQ_INT(r.status, 400);
	CHECK_EQ_STR(ptype(&r), "malformed");
	acme_response_clear(&r);

	/* replaces: k's certificate, once; other's attempt is unauthorized */
	seed_cert("ab8c01", CERT_ID, jt_account_id(&k), NOW - DAY, NOW + 89 * DAY, 0);
	cJSON_Delete(new_order(&other, ",\"replaces\":\"" CERT_ID "\"", &r));
	CHECK_EQ_INT(r.status, 403);
	CHECK_EQ_STR(ptype(&r), "unauthorized");
	acme_response_clear(&r);
	o = new_order(&k, ",\"replaces\":\"" CERT_ID "\"", &r);
	CHECK_EQ_INT(r.status, 201);
	CHECK_EQ_STR(acme_json_str(o, "replaces"), CERT_ID);
	cJSON_Delete(o);
	acme_response_clear(&r);
	cJSON_Delete(new_order(&k, ",\"replaces\":\"" CERT_ID "\"", &r));
	CHECK_EQ_INT(r.status, 409);
	CHECK_EQ_STR(ptype(&r), "alreadyReplaced");
	acme_response_clear(&r);
	cJSON_Delete(new_order(&k, ",\"replaces\":\"not-an-id\"", &r));
	CHECK_EQ_INT(r.status, 400);
	CHECK_EQ_STR(ptype(&r), "malformed");
	acme_response_clear(&r);
}

int
main(void)
{
	struct acme_config cfg;
	char errbuf[256];
	int err;

	CHECK_EQ_INT(crypto_init(), 0);
	pt_tmpdir("renewal");
	st = store_open(pt_path("db"), &err, errbuf, sizeof(errbuf));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	a = st != NULL ? acme_new(&cfg, st, NULL, &err) : NULL;
	CHECK(a != NULL);
	test_window();
	test_cert_id();
	if (a != NULL) {
		test_renewal_info();
		test_renewal_info_derived();
		test_replaces();
		test_directory();
		test_new_order();
	}
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
