/*
 * test_eab.c: external account binding (RFC 8555 §7.3.4) on a real store
 * with real MACs: a good binding with each of HS256/384/512, and each way
 * one is refused (wrong MAC, url, nonce, payload key, kid, alg, shape);
 * binding a key (revoked, expired, reused, restrictions handed on); the
 * names a restricted account may ask for; the key life the CLI drives.
 */
#include "check.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"

#define URL "https://ca.test:8443/acme/new-account"
#define NOW ((time_t)1700000000)

static const char *const jwk_ec =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8"
    "Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
static const char *const jwk_ed =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcv"
    "PapiMlrwIaaPcHURo\"}";

static struct store *st;
static struct acme *a;

/* How a test binding deviates from a good one. */
struct eab_spec {
	const char *alg;            /* "HS256" ... */
	const char *kid;
	const char *hmac;           /* base64url MAC key */
	const char *url;
	int nonce;                  /* add a nonce to the header */
	const char *payload_jwk;    /* the key the payload names */
	int extra_member;           /* a fourth JWS member */
};

static char *
b64(const void *p, size_t n)
{
	size_t cap = crypto_b64url_len(n) + 1;
	char *out = malloc(cap);

	if (out != NULL && crypto_b64url_encode(p, n, out, cap) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The newAccount payload {"externalAccountBinding": JWS} for spec. */
static cJSON *
eab_payload(const struct eab_spec *s)
{
	cJSON *hdr = cJSON_CreateObject(), *jws = cJSON_CreateObject(), *pl;
	char *htext, *prot, *pay, *sig, *input;
	uint8_t key[64], mac[64];
	size_t klen = 0, mlen = 0;
	enum crypto_hash h = strcmp(s->alg, "HS512") == 0 ? CRYPTO_SHA512 :
	    strcmp(s->alg, "HS384") == 0 ? CRYPTO_SHA384 : CRYPTO_SHA256;

	cJSON_AddStringToObject(hdr, "alg", s->alg);
	cJSON_AddStringToObject(hdr, "kid", s->kid);
	cJSON_AddStringToObject(hdr, "url", s->url);
	if (s->nonce)
		cJSON_AddStringToObject(hdr, "nonce", "AAAAAAAAAAAAAAAAAAAAAA");
	htext = cJSON_PrintUnformatted(hdr);
	prot = b64(htext, strlen(htext));
	pay = b64(s->payload_jwk, strlen(s->payload_jwk));
	input = malloc(strlen(prot) + strlen(pay) + 2);
	sprintf(input, "%s.%s", prot, pay);
	CHECK_EQ_INT(crypto_b64url_decode(s->hmac, strlen(s->hmac), key,
	    sizeof(key), &klen), 0);
	CHECK_EQ_INT(crypto_hmac(h, key, klen, input, strlen(input), mac, &mlen), 0);
	sig = b64(mac, mlen);
	cJSON_AddStringToObject(jws, "protected", prot);
	cJSON_AddStringToObject(jws, "payload", pay);
	cJSON_AddStringToObject(jws, "signature", sig);
	if (s->extra_member)
		cJSON_AddStringToObject(jws, "header", "x");
	pl = cJSON_CreateObject();
	cJSON_AddItemToObject(pl, "externalAccountBinding", jws);
	free(htext);
	free(prot);
	free(pay);
	free(sig);
	free(input);
	cJSON_Delete(hdr);
	return pl;
}

/* The outer JWS as acme_jws_verify() leaves it: key and thumbprint. */
static void
outer_jws(struct acme_jws *j, const char *jwk)
{
	memset(j, 0, sizeof(*j));
	j->jwk = crypto_jwk_parse(jwk, strlen(jwk), NULL);
	CHECK(j->jwk != NULL);
	CHECK_EQ_INT(crypto_jwk_thumbprint(j->jwk, j->thumbprint), 0);
}

static const char *
problem_type(const struct acme_response *r)
{
	static char type[128];
	cJSON *p = cJSON_ParseWithLength(r->body, r->body_len);
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p,
	    "type"));

	snprintf(type, sizeof(type), "%s", t != NULL ? t : "");
	cJSON_Delete(p);
	return type;
}

/* Verifies spec's binding against an outer key of jwk_ec; the problem type
 * ("" on success) and, on success, the kid are returned. */
static const char *
verify(const struct eab_spec *s, struct acme_eab *out)
{
	static char type[128];
	struct acme_response r;
	struct acme_jws j;
	cJSON *pl = eab_payload(s);
	int ret;

	memset(&r, 0, sizeof(r));
	outer_jws(&j, jwk_ec);
	ret = acme_eab_verify(a, pl, URL, &j, out, &r);
	snprintf(type, sizeof(type), "%s", ret == 0 ? "" : problem_type(&r));
	CHECK(ret == 0 || r.body != NULL);
	acme_response_clear(&r);
	acme_jws_clear(&j);
	cJSON_Delete(pl);
	return type;
}

static void
key_add(const char *const *allow, size_t n, time_t expires,
    char kid[ACME_EAB_KID_LEN + 1], char hmac[ACME_EAB_HMAC_B64_LEN + 1])
{
	struct acme_eab_params p = { "test", expires, allow, n };
	char why[256];

	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, crypto_random, kid, hmac, why,
	    sizeof(why)), 0);
	CHECK_EQ_INT(strlen(kid), ACME_EAB_KID_LEN);
	CHECK_EQ_INT(strlen(hmac), ACME_EAB_HMAC_B64_LEN);
}

#define UNAUTHORIZED "urn:ietf:params:acme:error:unauthorized"
#define MALFORMED "urn:ietf:params:acme:error:malformed"

static void
test_verify(void)
{
	char kid[ACME_EAB_KID_LEN + 1], hmac[ACME_EAB_HMAC_B64_LEN + 1];
	char other[ACME_EAB_KID_LEN + 1], ohmac[ACME_EAB_HMAC_B64_LEN + 1];
	struct eab_spec s;
	struct acme_eab e;
	struct acme_response r;
	struct acme_jws j;
	cJSON *none = cJSON_CreateObject();

	key_add(NULL, 0, 0, kid, hmac);
	key_add(NULL, 0, 0, other, ohmac);
	s = (struct eab_spec){ "HS256", kid, hmac, URL, 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), "");
	CHECK_EQ_INT(e.present, 1);
	CHECK_EQ_STR(e.kid, kid);
	s.alg = "HS384";
	CHECK_EQ_STR(verify(&s, &e), "");
	s.alg = "HS512";
	CHECK_EQ_STR(verify(&s, &e), "");

	s = (struct eab_spec){ "HS256", kid, ohmac, URL, 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), UNAUTHORIZED);     /* wrong MAC key */
	CHECK_EQ_INT(e.present, 0);
	s = (struct eab_spec){ "HS256", kid, hmac,
	    "https://ca.test:8443/acme/new-order", 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), MALFORMED);        /* wrong url */
	s = (struct eab_spec){ "HS256", kid, hmac, URL, 1, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), MALFORMED);        /* nonce present */
	s = (struct eab_spec){ "HS256", kid, hmac, URL, 0, jwk_ed, 0 };
	CHECK_EQ_STR(verify(&s, &e), MALFORMED);        /* not the outer key */
	s = (struct eab_spec){ "HS256", "00112233445566778899aabbccddeeff",
	    hmac, URL, 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), UNAUTHORIZED);     /* unknown kid */
	s = (struct eab_spec){ "HS256", "../not-a-kid", hmac, URL, 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), UNAUTHORIZED);
	s = (struct eab_spec){ "ES256", kid, hmac, URL, 0, jwk_ec, 0 };
	CHECK_EQ_STR(verify(&s, &e), MALFORMED);        /* not a MAC alg */
	s = (struct eab_spec){ "HS256", kid, hmac, URL, 0, jwk_ec, 1 };
	CHECK_EQ_STR(verify(&s, &e), MALFORMED);        /* not flattened */

	/* absent: nothing to verify (acme_eab_bind's caller decides) */
	memset(&r, 0, sizeof(r));
	outer_jws(&j, jwk_ec);
	CHECK_EQ_INT(acme_eab_verify(a, none, URL, &j, &e, &r), 0);
	CHECK_EQ_INT(e.present, 0);
	acme_jws_clear(&j);
	cJSON_Delete(none);
}

struct bind {
	const char *kid;
	const char *account;
	time_t now;
	cJSON *record;              /* the account record being made */
	int ret;
};

static int
bind_txn(struct store_txn *txn, void *arg)
{
	struct bind *b = arg;

	b->ret = acme_eab_bind(txn, b->kid, b->account, NULL, b->now, b->record);
	return b->ret;
}

static int
bind(const char *kid, const char *account, time_t now, cJSON **record)
{
	struct bind b = { kid, account, now, cJSON_CreateObject(), 0 };

	store_write(st, bind_txn, &b);
	if (record != NULL)
		*record = b.record;
	else
		cJSON_Delete(b.record);
	return b.ret;
}

struct find {
	const char *kid;
	char account[64];
	int revoked;
	int found;
};

static int
find_one(const struct acme_eab_info *k, void *arg)
{
	struct find *f = arg;

	if (strcmp(k->kid, f->kid) != 0)
		return 0;
	f->found = 1;
	f->revoked = k->revoked != 0;
	snprintf(f->account, sizeof(f->account), "%s", k->account ? k->account : "");
	return 1;
}

static void
test_bind(void)
{
	static const char *const allow[] = { "team-a.corp.internal" };
	char kid[ACME_EAB_KID_LEN + 1], hmac[ACME_EAB_HMAC_B64_LEN + 1];
	char k2[ACME_EAB_KID_LEN + 1], h2[ACME_EAB_HMAC_B64_LEN + 1];
	struct find f;
	cJSON *rec = NULL;
	int was = 0;

	key_add(allow, 1, NOW + 3600, kid, hmac);
	CHECK_EQ_INT(bind(kid, "acct-1", NOW + 3600, NULL), ACME_EAB_EXPIRED);
	CHECK_EQ_INT(bind(kid, "acct-1", NOW + 10, &rec), ACME_EAB_OK);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(rec, "eab"), "kid")), kid);
	CHECK_EQ_INT(bind(kid, "acct-2", NOW + 20, NULL), ACME_EAB_USED);
	f = (struct find){ kid, "", 0, 0 };
	CHECK_EQ_INT(acme_eab_key_list(st, find_one, &f), 0);
	CHECK_EQ_INT(f.found, 1);
	CHECK_EQ_STR(f.account, "acct-1");

	/* the account the key made may only ask for names under its suffix */
	{
		struct acme_response r;

		memset(&r, 0, sizeof(r));
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_DNS,
		    "team-a.corp.internal", &r), 0);
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_DNS,
		    "www.team-a.corp.internal", &r), 0);
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_DNS,
		    "*.team-a.corp.internal", &r), 0);
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_DNS,
		    "other.corp.internal", &r), -1);
		CHECK_EQ_STR(problem_type(&r),
		    "urn:ietf:params:acme:error:rejectedIdentifier");
		CHECK(r.body != NULL && strstr(r.body, "team-a.corp.internal") != NULL);
		acme_response_clear(&r);
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_DNS,
		    "xteam-a.corp.internal", &r), -1);
		acme_response_clear(&r);
		CHECK_EQ_INT(acme_eab_ident_allowed(rec, ACME_IDENT_IP,
		    "192.0.2.1", &r), -1);
		acme_response_clear(&r);
		/* an account without a key, or with an unrestricted one */
		CHECK_EQ_INT(acme_eab_ident_allowed(NULL, ACME_IDENT_IP,
		    "192.0.2.1", &r), 0);
	}
	cJSON_Delete(rec);

	key_add(NULL, 0, 0, k2, h2);
	CHECK_EQ_INT(acme_eab_key_revoke(st, k2, NOW, &was), 0);
	CHECK_EQ_INT(was, 0);
	CHECK_EQ_INT(acme_eab_key_revoke(st, k2, NOW, &was), 0);
	CHECK_EQ_INT(was, 1);
	CHECK_EQ_INT(bind(k2, "acct-3", NOW, NULL), ACME_EAB_REVOKED);
	CHECK_EQ_INT(bind("00000000000000000000000000000000", "acct-3", NOW, NULL),
	    ACME_EAB_UNKNOWN);
	CHECK_EQ_INT(acme_eab_key_revoke(st, "00000000000000000000000000000000",
	    NOW, &was), ACME_ERR_NOTFOUND);
	/* revoking a bound key leaves the binding in place */
	CHECK_EQ_INT(acme_eab_key_revoke(st, kid, NOW, &was), 0);
	f = (struct find){ kid, "", 0, 0 };
	CHECK_EQ_INT(acme_eab_key_list(st, find_one, &f), 0);
	CHECK_EQ_INT(f.revoked, 1);
	CHECK_EQ_STR(f.account, "acct-1");
}

static void
test_add_refused(void)
{
	static const char *const bad[] = { "*.corp.internal" };
	static const char *const ip[] = { "192.0.2.1" };
	char kid[ACME_EAB_KID_LEN + 1], hmac[ACME_EAB_HMAC_B64_LEN + 1], why[256];
	struct acme_eab_params p = { NULL, 0, bad, 1 };

	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, crypto_random, kid, hmac, why,
	    sizeof(why)), ACME_ERR_INVALID);
	CHECK(strstr(why, "--allow-dns") != NULL);
	p.allow_dns = ip;
	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, crypto_random, kid, hmac, why,
	    sizeof(why)), ACME_ERR_INVALID);
	p = (struct acme_eab_params){ "tab\there", 0, NULL, 0 };
	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, crypto_random, kid, hmac, why,
	    sizeof(why)), ACME_ERR_INVALID);
	p = (struct acme_eab_params){ NULL, NOW - 1, NULL, 0 };
	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, crypto_random, kid, hmac, why,
	    sizeof(why)), ACME_ERR_INVALID);
}

/* Hands out a MAC key whose base64url would begin with "-" first. */
static int draws;
static int
dash_first_random(void *buf, size_t len)
{
	int ret = crypto_random(buf, len);

	if (draws++ == 1)          /* the kid first, then the first MAC key */
		((uint8_t *)buf)[0] = 0xf8;
	return ret;
}

/* A MAC key never begins with "-": certbot would read it as an option. */
static void
test_key_text(void)
{
	char kid[ACME_EAB_KID_LEN + 1], hmac[ACME_EAB_HMAC_B64_LEN + 1], why[256];
	struct acme_eab_params p = { NULL, 0, NULL, 0 };

	draws = 0;
	CHECK_EQ_INT(acme_eab_key_add(st, &p, NOW, dash_first_random, kid, hmac,
	    why, sizeof(why)), 0);
	CHECK(draws >= 3);          /* the key beginning with "-" was drawn again */
	CHECK(hmac[0] != '-');
}

/* meta.externalAccountRequired in the directory (RFC 8555 §7.1.1) as a
 * reconfiguration (a reload) turns it on and off. */
static int
directory_eab_required(void)
{
	char *dir = acme_directory_json(a, "https://ca.test:8443");
	cJSON *o = cJSON_Parse(dir);
	int on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, "meta"), "externalAccountRequired"));

	cJSON_Delete(o);
	free(dir);
	return on;
}

static void
test_directory(void)
{
	struct acme_config cfg;
	unsigned slot;

	memset(&cfg, 0, sizeof(cfg));
	CHECK(!directory_eab_required());
	cfg.eab_required = 1;
	CHECK_EQ_INT(acme_reconfigure(a, &cfg), 0);
	CHECK(directory_eab_required());
	/* A request still running from before the last reconfiguration holds
	 * the one after back, until it ends. */
	slot = acme_enter(a);
	cfg.eab_required = 0;
	CHECK_EQ_INT(acme_reconfigure(a, &cfg), 0);
	CHECK(!directory_eab_required());
	CHECK_EQ_INT(acme_reconfigure(a, &cfg), ACME_ERR_BUSY);
	acme_leave(a, slot);
	CHECK_EQ_INT(acme_reconfigure(a, &cfg), 0);
	CHECK(!directory_eab_required());
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct acme_config cfg;
	char dir[512], err[256];
	int e;

	snprintf(dir, sizeof(dir), "%s/eabXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	memset(&cfg, 0, sizeof(cfg));
	a = acme_new(&cfg, st, NULL, &e);
	CHECK(a != NULL);
	if (st != NULL && a != NULL) {
		test_verify();
		test_bind();
		test_add_refused();
		test_key_text();
		test_directory();
	}
	acme_free(a);
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
