/*
 * bench_fill.c: fills a hearth data directory with N issued certificates
 * quickly, so that scale.sh can measure a server with a million of them
 * without a million ACME round trips. The store it leaves looks like one a
 * server filled over SPAN days of steady issuance:
 *
 *  - ACCOUNTS accounts (real P-256 keys), written as acme/account.c does;
 *  - per certificate, an authorization made by acme_authz_obtain() (with
 *    its challenges and index entries) and then turned valid as
 *    acme/validation.c does, an order that went through finalize (valid,
 *    naming its certificate), and the certificate record as acme/order.c
 *    stores it: a real leaf signed by the data directory's intermediate
 *    (in-process signer, the server's profile and PKI URL), its chain and
 *    RFC 9773 id; the signer backdates no leaf, so each is valid from the
 *    fill on, while ids, orders, authorizations and "issued" carry the
 *    issuance time within the span;
 *  - one abandoned order in ten (pending, never validated);
 *  - acme_cleanup() run as the server's timer runs it, through the span
 *    (after every batch, as of the batch's last issuance time: about once
 *    a simulated hour), so expired authorizations and abandoned orders
 *    are removed and their pages reused while the store grows, as in a
 *    long-running store; and once more at the end of the span. With
 *    CLEANUP "end" it runs only at the end: a store whose cleanup never
 *    ran for the whole span and then removed it all at once, which leaves
 *    that much free space scattered through the file (the worst case).
 *
 * Ids are drawn and leaves signed before each write, never inside the
 * callback (which may run twice); each store_write() carries BATCH
 * certificates in one durable commit. Then REVOKE certificates are revoked
 * through acme_cert_revoke() from 32 threads (group commit), and the CRL
 * the server would serve is built with acme_crl_build() through a spawned
 * signer process, as server/pki.c does, and timed.
 *
 * The record layouts of the certificate, order and account are written
 * here after acme/'s (cert_record, new_order_txn, account_record are static
 * there); acme/'s own functions write authorizations, challenges, indexes,
 * ids and revocations. A benchmark tool, not part of hearth: the server
 * must not be running on DATA while it fills.
 *
 * usage: bench_fill DATA N PKI_URL [REVOKE [ACCOUNTS [SPAN_DAYS [CLEANUP]]]]
 *   CLEANUP: "steady" (the default) or "end"
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "store.h"

#define FILL_BATCH     500      /* certificates per durable commit */
#define FILL_ABANDON   10       /* one abandoned order per this many */
#define FILL_THREADS   32       /* concurrent revokers */
#define FILL_CRL_LIFE  (7 * 86400)

struct fill_account {
	char id[ACME_ID_LEN + 1];
	char thumb[CRYPTO_THUMBPRINT_LEN + 1];
	char *key;                  /* the JWK as crypto_jwk_to_json gives it */
};

/* One issuance: everything drawn and signed before the write. */
struct fill_item {
	time_t t;
	unsigned acct;
	char name[64];
	char order[ACME_ID_LEN + 1];
	struct acme_authz_ids az;
	struct crypto_leaf leaf;
	int abandoned;              /* also an abandoned order */
	char order2[ACME_ID_LEN + 1];
	char name2[64];
	struct acme_authz_ids az2;
};

struct fill {
	const char *data;
	struct store *st;
	struct acme *a;
	struct crypto_signer *signer;
	WC_RNG rng;
	ecc_key csr_key;
	Cert req;
	struct fill_account *accts;
	unsigned n_accts;
	long n, revoke;
	time_t now, span;
	int steady;                 /* cleanup through the span, not only at its end */
	long swept, sweeps;         /* records the steady cleanup removed, calls */
	double sweep_s;
	char profile[64];           /* the default profile: name, lifetime */
	time_t lifetime;
	char (*serials)[2 * CRYPTO_SERIAL_BYTES + 1];
	struct fill_item *items;    /* FILL_BATCH */
	size_t n_items;
	atomic_long next_revoke;
	atomic_long revoke_failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rand_bytes(void *buf, size_t len)
{
	return crypto_random(buf, len);
}

static void
die(const char *what, int err)
{
	fprintf(stderr, "bench_fill: %s failed (%d)\n", what, err);
	exit(1);
}

/* ---- accounts ---- */

/* A new P-256 key's JWK, parsed by crypto/ as the server parses it. */
static int
account_make(struct fill *f, struct fill_account *fa)
{
	ecc_key k;
	uint8_t x[32], y[32];
	word32 xl = sizeof(x), yl = sizeof(y);
	char xs[64], ys[64], jwk[256];
	struct crypto_jwk *j = NULL;
	int ret = -1;

	if (wc_ecc_init(&k) != 0)
		return -1;
	if (wc_ecc_make_key_ex(&f->rng, 32, &k, ECC_SECP256R1) != 0 ||
	    wc_ecc_export_public_raw(&k, x, &xl, y, &yl) != 0 ||
	    crypto_b64url_encode(x, xl, xs, sizeof(xs)) < 0 ||
	    crypto_b64url_encode(y, yl, ys, sizeof(ys)) < 0)
		goto out;
	snprintf(jwk, sizeof(jwk), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", xs, ys);
	if ((j = crypto_jwk_parse(jwk, strlen(jwk), NULL)) == NULL ||
	    crypto_jwk_thumbprint(j, fa->thumb) != 0 ||
	    (fa->key = crypto_jwk_to_json(j)) == NULL)
		goto out;
	ret = 0;
out:
	crypto_jwk_free(j);
	wc_ecc_free(&k);
	return ret;
}

/* The account record of acme/account.c (account_record). */
static int
accounts_txn(struct store_txn *txn, void *arg)
{
	struct fill *f = arg;
	unsigned i;
	int ret = 0;

	for (i = 0; i < f->n_accts && ret == 0; i++) {
		cJSON *rec = cJSON_CreateObject();

		cJSON_AddStringToObject(rec, "status", "valid");
		cJSON_AddItemToObject(rec, "contact", cJSON_CreateArray());
		cJSON_AddItemToObject(rec, "key", cJSON_Parse(f->accts[i].key));
		cJSON_AddStringToObject(rec, "thumbprint", f->accts[i].thumb);
		cJSON_AddNumberToObject(rec, "created", (double)(f->now - f->span));
		ret = acme_record_put(txn, STORE_T_ACCOUNTS, f->accts[i].id, rec);
		cJSON_Delete(rec);
		if (ret == 0)
			ret = store_put(txn, STORE_T_ACCOUNT_BY_KEY, f->accts[i].thumb,
			    strlen(f->accts[i].thumb), f->accts[i].id, ACME_ID_LEN,
			    STORE_PUT_NEW);
	}
	return ret;
}

static void
accounts_make(struct fill *f)
{
	unsigned i;
	int ret;

	if ((f->accts = calloc(f->n_accts, sizeof(*f->accts))) == NULL)
		die("calloc", 0);
	for (i = 0; i < f->n_accts; i++)
		if (account_make(f, &f->accts[i]) != 0 ||
		    acme_id_new(f->a, f->now - f->span, f->accts[i].id) != 0)
			die("account key", (int)i);
	if ((ret = store_write(f->st, accounts_txn, f)) != 0)
		die("writing the accounts", ret);
}

/* ---- one issuance, before the write ---- */

/* A PKCS#10 request for name under the filler's CSR key, parsed by
 * crypto/ as finalize parses it. NULL on failure. */
static struct crypto_csr *
csr_make(struct fill *f, const char *name)
{
	Cert *c = &f->req;
	uint8_t der[1024];
	size_t nl = strlen(name);
	int n, err;

	if (nl > 100 || wc_InitCert(c) != 0)
		return NULL;
	c->version = 0;
	c->sigType = CTC_SHA256wECDSA;
	memcpy(c->subject.commonName, name, nl + 1);
	c->altNames[0] = 0x30;          /* GeneralNames { dNSName [2] } */
	c->altNames[1] = (byte)(nl + 2);
	c->altNames[2] = 0x82;
	c->altNames[3] = (byte)nl;
	memcpy(c->altNames + 4, name, nl);
	c->altNamesSz = (int)nl + 4;
	if (wc_MakeCertReq_ex(c, der, sizeof(der), ECC_TYPE, &f->csr_key) < 0 ||
	    (n = wc_SignCert_ex(c->bodySz, c->sigType, der, sizeof(der), ECC_TYPE,
	        &f->csr_key, &f->rng)) < 0)
		return NULL;
	return crypto_csr_parse_der(der, (size_t)n, &err);
}

/* Draws the ids of issuance i (at time t) and signs its leaf as finalize
 * does: names from the CSR, validity from a minute before the signer's
 * clock (it refuses a notBefore more than PKI_BACKDATE_MAX in the past, so
 * leaves are valid from the fill on while their records carry t). */
static void
item_prepare(struct fill *f, long i, struct fill_item *it)
{
	struct crypto_leaf_params lp;
	struct crypto_name nm;
	struct crypto_csr *csr;
	int ret;

	memset(it, 0, sizeof(*it));
	it->t = f->now - f->span + (time_t)((double)f->span * (double)i / (double)f->n);
	it->acct = (unsigned)(i % f->n_accts);
	snprintf(it->name, sizeof(it->name), "h%07ld.a%u.fill.internal", i, it->acct);
	if (acme_id_new(f->a, it->t, it->order) != 0 ||
	    acme_authz_ids_draw(f->a, it->t, &it->az) != 0)
		die("drawing ids", 0);
	if ((csr = csr_make(f, it->name)) == NULL)
		die("making a CSR", 0);
	memset(&nm, 0, sizeof(nm));
	nm.type = CRYPTO_NAME_DNS;
	snprintf(nm.value, sizeof(nm.value), "%s", it->name);
	memset(&lp, 0, sizeof(lp));
	lp.allowed = &nm;
	lp.n_allowed = 1;
	lp.not_before = time(NULL) - 60;   /* the signer refuses backdating */
	lp.not_after = lp.not_before + f->lifetime;
	if ((ret = crypto_signer_issue(f->signer, csr, &lp, &it->leaf)) != 0)
		die("issuing a leaf", ret);
	crypto_csr_free(csr);
	memcpy(f->serials[i], it->leaf.serial, sizeof(f->serials[i]));
	if ((it->abandoned = i % FILL_ABANDON == FILL_ABANDON - 1)) {
		snprintf(it->name2, sizeof(it->name2), "x%07ld.a%u.fill.internal", i,
		    it->acct);
		if (acme_id_new(f->a, it->t, it->order2) != 0 ||
		    acme_authz_ids_draw(f->a, it->t, &it->az2) != 0)
			die("drawing ids", 0);
	}
}

static void
item_clear(struct fill_item *it)
{
	crypto_leaf_clear(&it->leaf);
}

/* ---- the batch write ---- */

/* The challenge and authorization turn valid, as acme/validation.c
 * writes a successful http-01 validation. */
static int
authz_validate(struct store_txn *txn, const struct fill_item *it,
    const char *account, const char *azid)
{
	cJSON *c = acme_record_get(txn, STORE_T_CHALLENGES, it->az.chall[0]);
	cJSON *az = acme_record_get(txn, STORE_T_AUTHZS, azid);
	int ret = STORE_ERR_CORRUPT;

	if (c != NULL && az != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(c, "status",
		    cJSON_CreateString("valid"));
		cJSON_AddNumberToObject(c, "validated", (double)it->t);
		cJSON_ReplaceItemInObjectCaseSensitive(az, "status",
		    cJSON_CreateString("valid"));
		cJSON_ReplaceItemInObjectCaseSensitive(az, "expires",
		    cJSON_CreateNumber((double)(it->t + ACME_AUTHZ_VALID_LIFETIME)));
		acme_authz_pending_del(txn, account, azid);
		if ((ret = acme_authz_challenges_trim(txn, az, it->az.chall[0])) == 0 &&
		    (ret = acme_record_put(txn, STORE_T_CHALLENGES, it->az.chall[0], c)) == 0)
			ret = acme_record_put(txn, STORE_T_AUTHZS, azid, az);
	}
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

/* An order record as acme/order.c writes it (new_order_txn), with status
 * and cert as finalize leaves a valid one; and its account index entry. */
static int
order_put(struct store_txn *txn, struct fill *f, const char *id,
    const char *account,
    time_t t, const char *name, const char *azid, const char *serial)
{
	char key[STORE_MAX_KEY + 1];
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(o, "account", account);
	cJSON_AddNumberToObject(o, "expires", (double)(t + ACME_ORDER_LIFETIME));
	cJSON_AddNumberToObject(o, "created", (double)t);
	cJSON_AddStringToObject(o, "profile", f->profile);
	cJSON_AddStringToObject(e, "type", "dns");
	cJSON_AddStringToObject(e, "value", name);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "identifiers"), e);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "authzs"),
	    cJSON_CreateString(azid));
	cJSON_AddStringToObject(o, "status", serial != NULL ? "valid" : "pending");
	if (serial != NULL)
		cJSON_AddStringToObject(o, "cert", serial);
	ret = acme_record_put(txn, STORE_T_ORDERS, id, o);
	cJSON_Delete(o);
	if (ret == 0) {
		snprintf(key, sizeof(key), "%s/%s", account, id);
		ret = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, key, strlen(key), "", 0, 0);
	}
	return ret;
}

/* The certificate record of acme/order.c (cert_record). */
/* The certificate record, written as acme/order.c writes it at finalize. */
static int
cert_put(struct store_txn *txn, struct fill *f, const struct fill_item *it,
    const char *account)
{
	struct acme_cert_rec r;
	cJSON *ids = cJSON_CreateArray(), *e = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(e, "type", "dns");
	cJSON_AddStringToObject(e, "value", it->name);
	cJSON_AddItemToArray(ids, e);
	memset(&r, 0, sizeof(r));
	r.account = account;
	r.order = it->order;
	r.profile = f->profile;
	r.identifiers = ids;
	r.leaf = &it->leaf;
	r.signer = f->signer;
	r.issued = it->t;
	ret = acme_cert_rec_put(txn, &r);
	cJSON_Delete(ids);
	return ret;
}

static int
item_write(struct store_txn *txn, struct fill *f, const struct fill_item *it)
{
	const char *acct = f->accts[it->acct].id;
	char azid[ACME_ID_LEN + 1];
	int ret;

	if ((ret = acme_authz_obtain(txn, acct, ACME_IDENT_DNS, it->name, 0, 0,
	    it->t, &it->az, azid)) != 0 ||
	    (ret = authz_validate(txn, it, acct, azid)) != 0 ||
	    (ret = order_put(txn, f, it->order, acct, it->t, it->name, azid,
	        it->leaf.serial)) != 0 ||
	    (ret = cert_put(txn, f, it, acct)) != 0)
		return ret;
	if (!it->abandoned)
		return 0;
	if ((ret = acme_authz_obtain(txn, acct, ACME_IDENT_DNS, it->name2, 0, 0,
	    it->t, &it->az2, azid)) != 0)
		return ret;
	return order_put(txn, f, it->order2, acct, it->t, it->name2, azid, NULL);
}

static int
batch_txn(struct store_txn *txn, void *arg)
{
	struct fill *f = arg;
	size_t i;
	int ret = 0;

	for (i = 0; i < f->n_items && ret == 0; i++)
		ret = item_write(txn, f, &f->items[i]);
	return ret;
}

/* The server's cleanup timer as of time t, during the span: what has
 * expired by then goes, until a call removes nothing. */
static void
fill_sweep(struct fill *f, time_t t)
{
	double t0 = now_s();
	int r;

	do {
		if ((r = acme_cleanup(f->a, t)) < 0)
			die("acme_cleanup", r);
		f->swept += r;
		f->sweeps++;
	} while (r > 0);
	f->sweep_s += now_s() - t0;
}

static void
fill_certs(struct fill *f)
{
	double t0 = now_s(), tp = t0;
	long i = 0;
	size_t k;
	int ret;

	while (i < f->n) {
		for (f->n_items = 0; f->n_items < FILL_BATCH && i < f->n; i++)
			item_prepare(f, i, &f->items[f->n_items++]);
		if ((ret = store_write(f->st, batch_txn, f)) != 0)
			die("writing a batch", ret);
		if (f->steady)
			fill_sweep(f, f->items[f->n_items - 1].t);
		for (k = 0; k < f->n_items; k++)
			item_clear(&f->items[k]);
		if (now_s() - tp >= 10) {
			tp = now_s();
			fprintf(stderr, "  %ld of %ld certificates, %.0f/s\n", i, f->n,
			    (double)i / (tp - t0));
		}
	}
	printf("filled %ld certificates (%ld abandoned orders, %u accounts, "
	    "issued over %ld days) in %.1fs: %.0f certificates/s\n", f->n,
	    f->n / FILL_ABANDON, f->n_accts, (long)(f->span / 86400),
	    now_s() - t0, (double)f->n / (now_s() - t0));
	if (f->steady)
		printf("cleanup through the span (after each batch): %ld records "
		    "removed in %ld calls, %.1fs of the fill\n", f->swept,
		    f->sweeps, f->sweep_s);
}

/* ---- cleanup, revocation, CRL ---- */

/* As the server's 2-second timer would have at the end of the span: until
 * a whole pass over the tables removes nothing. */
static void
fill_cleanup(struct fill *f)
{
	long calls = 0, removed = 0, idle = 0, pass = f->n / 512 + 4;
	double t0 = now_s();
	int r;

	while (idle < pass) {
		if ((r = acme_cleanup(f->a, f->now)) < 0)
			die("acme_cleanup", r);
		removed += r;
		idle = r == 0 ? idle + 1 : 0;
		calls++;
	}
	printf("cleanup at the end of the span: %ld records removed in %ld calls, "
	    "%.1fs\n", removed, calls, now_s() - t0);
}

static void *
revoker(void *arg)
{
	struct fill *f = arg;
	static const int reasons[] = { 0, 1, 3, 4, 5 };
	long i;

	while ((i = atomic_fetch_add(&f->next_revoke, 1)) < f->revoke)
		if (acme_cert_revoke(f->st, f->serials[i], reasons[i % 5], f->now) != 0)
			atomic_fetch_add(&f->revoke_failed, 1);
	return NULL;
}

static void
fill_revoke(struct fill *f)
{
	pthread_t th[FILL_THREADS];
	double t0 = now_s();
	int i;

	for (i = 0; i < FILL_THREADS; i++)
		if (pthread_create(&th[i], NULL, revoker, f) != 0)
			die("pthread_create", i);
	for (i = 0; i < FILL_THREADS; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&f->revoke_failed) != 0)
		die("acme_cert_revoke", (int)atomic_load(&f->revoke_failed));
	printf("revoked %ld certificates through acme_cert_revoke (%d threads, "
	    "group commit) in %.1fs: %.0f/s\n", f->revoke, FILL_THREADS,
	    now_s() - t0, (double)f->revoke / (now_s() - t0));
}

/* The server's CRL build (server/pki.c): acme_crl_build through a
 * spawned signer process. */
static void
fill_crl(struct fill *f, const struct crypto_signer_config *cfg)
{
	struct crypto_signer *s;
	struct acme_crl crl;
	char ca[4096];
	double t0, dt;
	int err, ret;

	snprintf(ca, sizeof(ca), "%s/ca", f->data);
	if ((s = crypto_signer_spawn(ca, NULL, 0, cfg, &err)) == NULL)
		die("crypto_signer_spawn", err);
	t0 = now_s();
	if ((ret = acme_crl_build(f->st, s, 1, time(NULL), FILL_CRL_LIFE, &crl)) != 0)
		die("acme_crl_build", ret);
	dt = now_s() - t0;
	printf("CRL of %zu revoked certificates (of %ld stored): %zu bytes, built "
	    "from the store and signed through the signer process in %.3fs\n",
	    crl.entries, f->n, crl.len, dt);
	acme_crl_clear(&crl);
	crypto_signer_free(s);
}

/* ---- set-up ---- */

static void
fill_open(struct fill *f, const struct crypto_signer_config *scfg)
{
	struct acme_config cfg;
	const struct crypto_profile *prof;
	char path[4096], errbuf[256];
	unsigned slot;
	int err;

	snprintf(path, sizeof(path), "%s/db", f->data);
	if ((f->st = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "bench_fill: %s\n", errbuf);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/ca", f->data);
	if ((f->signer = crypto_signer_open(path, NULL, 0, scfg, &err)) == NULL)
		die("opening the intermediate", err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.random = rand_bytes;
	if ((f->a = acme_new(&cfg, f->st, f->signer, &err)) == NULL)
		die("acme_new", err);
	slot = acme_enter(f->a);
	prof = acme_profile_find(f->a, NULL);
	snprintf(f->profile, sizeof(f->profile), "%s", prof->name);
	f->lifetime = (time_t)prof->lifetime;
	acme_leave(f->a, slot);
	if (wc_InitRng(&f->rng) != 0 || wc_ecc_init(&f->csr_key) != 0 ||
	    wc_ecc_make_key_ex(&f->rng, 32, &f->csr_key, ECC_SECP256R1) != 0)
		die("wolfCrypt set-up", 0);
	if ((f->serials = calloc((size_t)f->n, sizeof(*f->serials))) == NULL ||
	    (f->items = calloc(FILL_BATCH, sizeof(*f->items))) == NULL)
		die("calloc", 0);
}

static void
fill_close(struct fill *f)
{
	unsigned i;

	for (i = 0; f->accts != NULL && i < f->n_accts; i++)
		free(f->accts[i].key);
	free(f->accts);
	free(f->serials);
	free(f->items);
	wc_ecc_free(&f->csr_key);
	wc_FreeRng(&f->rng);
	acme_free(f->a);
	crypto_signer_free(f->signer);
	store_close(f->st);
}

static long
arg_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "bench_fill: %s: \"%s\" is not a number in %ld..%ld\n",
		    what, s, min, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct crypto_signer_config scfg;
	struct fill f;

	if (argc < 4 || argc > 8 || (argc > 7 && strcmp(argv[7], "steady") != 0 &&
	    strcmp(argv[7], "end") != 0)) {
		fprintf(stderr, "usage: bench_fill DATA N PKI_URL [REVOKE [ACCOUNTS "
		    "[SPAN_DAYS [steady|end]]]]\n");
		return 2;
	}
	memset(&f, 0, sizeof(f));
	f.data = argv[1];
	f.n = arg_num(argv[2], 1, 10000000, "N");
	f.revoke = argc > 4 ? arg_num(argv[4], 0, f.n, "REVOKE") : 0;
	f.n_accts = argc > 5 ? (unsigned)arg_num(argv[5], 1, 100000, "ACCOUNTS") : 1000;
	f.span = (argc > 6 ? arg_num(argv[6], 1, 80, "SPAN_DAYS") : 80) * 86400;
	f.steady = argc <= 7 || strcmp(argv[7], "steady") == 0;
	f.now = time(NULL);
	if (crypto_init() != 0)
		die("crypto_init", 0);
	memset(&scfg, 0, sizeof(scfg));
	scfg.pki_url = argv[3];
	scfg.ocsp = 1;
	fill_open(&f, &scfg);
	accounts_make(&f);
	fill_certs(&f);
	fill_cleanup(&f);
	if (f.revoke > 0) {
		fill_revoke(&f);
		fill_crl(&f, &scfg);
	}
	fill_close(&f);
	crypto_cleanup();
	return 0;
}
