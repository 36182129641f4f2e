/*
 * test_crl_ocsp.c: the CRL and OCSP answers acme/ builds, with a real
 * signer over a CA made in a temporary directory, a real store, and
 * openssl as the relying party: it verifies the CRL's signature and reads
 * its entries, makes the OCSP requests and reads the answers. Expired
 * certificates leave the CRL; the CRL number grows, also across a store
 * reopen; OCSP says good, revoked (time and reason), unknown, and refuses
 * malformed requests and other issuers. After crypto_ca_rotate, the
 * retired and the new intermediate each list only their own revocations,
 * and each answers OCSP for its own certificates only.
 *
 * Revocations are made through a second store handle, a second replica
 * on PostgreSQL (acme/test_crl_ocsp_pg, on a server of the test's own):
 * the first one's CRL and OCSP show them, and CRL numbers taken through
 * either handle only grow.
 */
#include "check.h"
#include "crypto/pki_test.h"

#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"
#include "store/pgcase.h"

static struct store *st, *st2;  /* st2: the other replica (LMDB: st) */
static char location[1024];
static struct crypto_signer *signer;
static time_t now;

#define REVOKED "9a2b3c4d5e6f"       /* high bit set: DER adds a 00 */
#define LIVE    "5e6f7a8b"
#define EXPIRED "0c0d0e0f"
#define NEVER   "7777"

static int
seed_txn(struct store_txn *txn, void *arg)
{
	static const struct { const char *serial; long life; } certs[] = {
		{ REVOKED, 86400 }, { LIVE, 86400 }, { EXPIRED, -10 },
	};
	size_t i;
	int ret = 0;

	(void)arg;
	for (i = 0; ret == 0 && i < sizeof(certs) / sizeof(certs[0]); i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "account", "00000000dddddddddddddddd");
		cJSON_AddNumberToObject(c, "notAfter", (double)(now + certs[i].life));
		ret = acme_record_put(txn, STORE_T_CERTS, certs[i].serial, c);
		cJSON_Delete(c);
	}
	return ret;
}

static int
store_reopen(void)
{
	char err[256];
	int e;

	if (st2 != st)
		store_close(st2);
	store_close(st);
	st = store_open(location, &e, err, sizeof(err));
	st2 = pgcase_uri() != NULL ? store_open(location, &e, err,
	    sizeof(err)) : st;
	return st != NULL && st2 != NULL ? 0 : -1;
}

/* Builds a CRL, writes it to crlN.der; returns its number (0 on failure). */
static uint64_t
crl(int n, size_t want_entries)
{
	struct acme_crl c;
	uint64_t number = 0;

	CHECK_EQ_INT(acme_crl_build(st, signer, 1, now, 7 * 86400, &c), 0);
	if (c.der == NULL)
		return 0;
	CHECK_EQ_INT(c.entries, want_entries);
	CHECK_EQ_INT(c.next_update - c.this_update, 7 * 86400);
	CHECK(pt_spit(pt_path("crl%d.der", n), c.der, c.len) == 0);
	number = c.number;
	acme_crl_clear(&c);
	return number;
}

/* A certificate record issued with chain (an intermediate's PEM). */
static int
seed_chain_txn(struct store_txn *txn, void *arg)
{
	const char *const *sc = arg;
	cJSON *c = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(c, "account", "00000000dddddddddddddddd");
	cJSON_AddNumberToObject(c, "notAfter", (double)(now + 86400));
	cJSON_AddStringToObject(c, "chain", sc[1]);
	ret = acme_record_put(txn, STORE_T_CERTS, sc[0], c);
	cJSON_Delete(c);
	return ret;
}

/* A revoked entry with no issuer, as versions before issuer ids wrote. */
static int
revoke_no_issuer_txn(struct store_txn *txn, void *arg)
{
	uint8_t key[ACME_SERIAL_MAX_BYTES], val[ACME_REVOKED_REC_LEN];
	struct acme_revoked r;
	size_t klen;

	if (crypto_serial_parse(arg, key, &klen) != CRYPTO_OK)
		return -1;
	memset(&r, 0, sizeof(r));
	r.revoked_at = now - 5;
	r.not_after = now + 86400;
	r.reason = 1;
	acme_revoked_encode(&r, val);
	return store_put(txn, STORE_T_REVOKED, key, klen, val, sizeof(val), 0);
}

/* How many entries the CRL of s lists (current: also those of no issuer). */
static size_t
crl_entries(struct crypto_signer *s, int current)
{
	struct acme_crl c;
	size_t n;

	if (acme_crl_build(st, s, current, now, 86400, &c) != 0)
		return (size_t)-1;
	n = c.entries;
	acme_crl_clear(&c);
	return n;
}

static char *ocsp_of(struct crypto_signer *s, const char *serial,
    const char *issuer, const char *va, const char *extra);
static int has(const char *out, const char *needle);

/* Each intermediate answers for its own certificates only: another's, good
 * or revoked, is unknown to it. */
static void
rotation_ocsp(struct crypto_signer *old, const char *old_dir,
    struct crypto_signer *cur)
{
	static const struct { const char *serial; int old; const char *want; }
	    q[] = {
		{ "c3c3", 1, "Cert Status: good" },
		{ "c3c3", 0, "Cert Status: unknown" },
		{ "a1a1", 1, "Cert Status: revoked" },
		{ "a1a1", 0, "Cert Status: unknown" },
		{ "b2b2", 0, "Cert Status: revoked" },
		{ "b2b2", 1, "Cert Status: unknown" },
	};
	char crt[1100], now_crt[2048];
	size_t i;
	char *out;

	snprintf(crt, sizeof(crt), "%s/intermediate.crt", old_dir);
	snprintf(now_crt, sizeof(now_crt), "%s", pt_path("ca/intermediate.crt"));
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		const char *issuer = q[i].old ? crt : now_crt;

		out = ocsp_of(q[i].old ? old : cur, q[i].serial, issuer, issuer,
		    "");
		CHECK(has(out, "Response verify OK"));
		CHECK(has(out, q[i].want));
		free(out);
	}
}

/* crypto_ca_rotate, then one CRL per intermediate, each with its own. */
static void
test_rotation(void)
{
	struct crypto_ca_rotate_params rp;
	struct crypto_signer *cur = NULL, *old = NULL;
	char old_id[65], new_id[65], id[65], dir[1024];
	const char *sc[2];
	size_t n_cur;
	int e;

	memset(&rp, 0, sizeof(rp));
	rp.root_passphrase = "wrong pass";
	rp.root_passphrase_len = 10;
	rp.now = now;
	CHECK(crypto_ca_rotate(pt_path("ca"), &rp, old_id, new_id) != 0);
	CHECK(access(pt_path("ca/retired"), F_OK) != 0);
	rp.root_passphrase = "root pass";
	rp.root_passphrase_len = 9;
	CHECK_EQ_INT(crypto_ca_rotate(pt_path("ca"), &rp, old_id, new_id), 0);
	CHECK_EQ_INT(crypto_signer_issuer_id(signer, id), 0);
	CHECK(strcmp(old_id, id) == 0);
	CHECK(strcmp(old_id, new_id) != 0);
	snprintf(dir, sizeof(dir), "%s/%s", pt_path("ca/retired"), old_id);
	cur = crypto_signer_open(pt_path("ca"), NULL, 0, NULL, &e);
	old = crypto_signer_open(dir, NULL, 0, NULL, &e);
	CHECK(cur != NULL && old != NULL);
	if (cur == NULL || old == NULL)
		goto out;
	CHECK_EQ_INT(crypto_signer_issuer_id(cur, id), 0);
	CHECK(strcmp(new_id, id) == 0);
	CHECK_EQ_INT(crypto_signer_issuer_id(old, id), 0);
	CHECK(strcmp(old_id, id) == 0);
	/* one certificate under each, both revoked */
	sc[0] = "a1a1";
	sc[1] = crypto_signer_chain_pem(old);
	CHECK_EQ_INT(store_write(st, seed_chain_txn, sc), 0);
	sc[0] = "b2b2";
	sc[1] = crypto_signer_chain_pem(cur);
	CHECK_EQ_INT(store_write(st, seed_chain_txn, sc), 0);
	CHECK_EQ_INT(acme_cert_revoke(st, "a1a1", 1, now - 5), 0);
	CHECK_EQ_INT(acme_cert_revoke(st, "b2b2", 1, now - 5), 0);
	CHECK_EQ_INT(crl_entries(old, 0), 1);
	CHECK_EQ_INT(crl_entries(cur, 0), 1);
	/* the current one also takes the revocations of no known issuer */
	CHECK(crl_entries(cur, 1) > 1);
	/* an entry written without its issuer goes by its certificate record:
	 * it stays on the old intermediate's CRL, not the current one's */
	n_cur = crl_entries(cur, 1);
	sc[0] = "d4d4";
	sc[1] = crypto_signer_chain_pem(old);
	CHECK_EQ_INT(store_write(st, seed_chain_txn, sc), 0);
	CHECK_EQ_INT(store_write(st, revoke_no_issuer_txn, (void *)"d4d4"), 0);
	CHECK_EQ_INT(crl_entries(old, 0), 2);
	CHECK_EQ_INT(crl_entries(cur, 1), n_cur);
	sc[0] = "c3c3";         /* under the old one, not revoked */
	sc[1] = crypto_signer_chain_pem(old);
	CHECK_EQ_INT(store_write(st, seed_chain_txn, sc), 0);
	rotation_ocsp(old, dir, cur);
out:
	crypto_signer_free(cur);
	crypto_signer_free(old);
}

static void
test_crl(void)
{
	char cmd[2048];

	struct acme_crl other;
	uint64_t count = 0;

	CHECK_EQ_INT(crl(1, 0), 1);
	/* revoked through the other replica: counted, listed here */
	CHECK_EQ_INT(acme_cert_revoke(st2, REVOKED, 1, now - 5), 0);
	CHECK_EQ_INT(acme_cert_revoke(st2, EXPIRED, 4, now - 5), 0);
	CHECK_EQ_INT(acme_revocation_count(st, &count), 0);
	CHECK_EQ_INT(count, 2);
	CHECK_EQ_INT(crl(2, 1), 2);
	/* the other replica's CRL takes the next number, then this one */
	CHECK_EQ_INT(acme_crl_build(st2, signer, 1, now, 86400, &other), 0);
	CHECK_EQ_INT(other.number, 3);
	CHECK_EQ_INT(other.entries, 1);
	acme_crl_clear(&other);
	snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s -CAfile %s "
	    "-noout -text 2>&1", pt_path("crl2.der"), pt_path("ca/intermediate.crt"));
	CHECK(pt_output_has(cmd, "verify OK"));
	CHECK(pt_output_has(cmd, "Serial Number: 9A2B3C4D5E6F"));
	CHECK(pt_output_has(cmd, "Key Compromise"));
	CHECK(pt_output_has(cmd, "X509v3 CRL Number: \n                2"));
	/* the expired certificate is left out */
	snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s -noout -text "
	    "| grep -c 'Serial Number'", pt_path("crl2.der"));
	CHECK(pt_output_has(cmd, "1\n"));
	/* the number only grows, also after the store is reopened */
	CHECK_EQ_INT(store_reopen(), 0);
	if (st != NULL)
		CHECK_EQ_INT(crl(3, 1), 4);
}

/* Asks s with openssl's request for serial under issuer (a certificate
 * file); checks the answer as signed by va. Returns the answer's text. */
static char *
ocsp_of(struct crypto_signer *s, const char *serial, const char *issuer,
    const char *va, const char *extra)
{
	struct acme_ocsp o;
	uint8_t *req;
	size_t len;
	char *out;

	if (pt_run("openssl ocsp -issuer %s -serial 0x%s %s -reqout %s", issuer,
	    serial, extra, pt_path("req.der")) != 0 ||
	    (req = (uint8_t *)pt_slurp(pt_path("req.der"), &len)) == NULL)
		return NULL;
	CHECK_EQ_INT(acme_ocsp_answer(st, s, req, len, now, &o), 0);
	free(req);
	if (o.der == NULL || pt_spit(pt_path("resp.der"), o.der, o.len) != 0)
		return NULL;
	acme_ocsp_clear(&o);
	out = pt_output("openssl ocsp -reqin %s -respin %s -VAfile %s -CAfile %s "
	    "-resp_text 2>&1", pt_path("req.der"),
	    pt_path("resp.der"), va, pt_path("ca/root.crt"));
	return out;
}

static char *
ocsp(const char *serial, const char *issuer, const char *extra)
{
	return ocsp_of(signer, serial, issuer, pt_path("ca/intermediate.crt"),
	    extra);
}

static int
has(const char *out, const char *needle)
{
	if (out != NULL && strstr(out, needle) != NULL)
		return 1;
	fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, out ? out : "(none)");
	return 0;
}

static void
test_ocsp(void)
{
	struct acme_ocsp o;
	char inter[2048], *out;

	snprintf(inter, sizeof(inter), "%s", pt_path("ca/intermediate.crt"));
	out = ocsp(LIVE, inter, "");
	CHECK(has(out, "Response verify OK"));
	CHECK(has(out, "Cert Status: good"));
	free(out);
	out = ocsp(REVOKED, inter, "-nonce");
	CHECK(has(out, "Response verify OK"));
	CHECK(has(out, "Cert Status: revoked"));
	CHECK(has(out, "Revocation Reason: keyCompromise"));
	CHECK(has(out, "OCSP Nonce"));
	CHECK(out != NULL && strstr(out, "Nonce Verify error") == NULL);
	free(out);
	out = ocsp(NEVER, inter, "-no_nonce");
	CHECK(has(out, "Cert Status: unknown"));
	free(out);
	/* another issuer: the root */
	out = ocsp(LIVE, pt_path("ca/root.crt"), "");
	CHECK(has(out, "unauthorized (6)"));
	free(out);
	CHECK_EQ_INT(acme_ocsp_answer(st, signer, (const uint8_t *)"\x30\x03\x02\x01",
	    4, now, &o), 0);
	CHECK(o.len == 5 && memcmp(o.der, "\x30\x03\x0a\x01\x01", 5) == 0);
	CHECK_EQ_STR(o.outcome, "malformedRequest");
	acme_ocsp_clear(&o);
	CHECK_EQ_INT(acme_ocsp_answer(st, signer, NULL, 0, now, &o), 0);
	CHECK_EQ_STR(o.outcome, "malformedRequest");
	acme_ocsp_clear(&o);
}

int
main(void)
{
	struct crypto_ca_params p;
	char err[256];
	int e, gen;

	pt_tmpdir("crlocsp");
	now = time(NULL);
	if (crypto_init() != 0)
		return 1;
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "crl test";
	p.root_days = 30;
	p.intermediate_days = 20;
	p.root_passphrase = "root pass";
	p.root_passphrase_len = 9;
	p.now = now - 3600;
	CHECK_EQ_INT(crypto_ca_create(pt_path("ca"), &p, &gen), 0);
	signer = crypto_signer_open(pt_path("ca"), NULL, 0, NULL, &e);
	if (pgcase_uri() != NULL)
		CHECK_EQ_INT(pgcase_reset(location, sizeof(location)), 0);
	else
		snprintf(location, sizeof(location), "%s", pt_path("db"));
	st = store_open(location, &e, err, sizeof(err));
	st2 = pgcase_uri() != NULL ? store_open(location, &e, err,
	    sizeof(err)) : st;
	CHECK(signer != NULL && st != NULL && st2 != NULL);
	if (signer != NULL && st != NULL && store_write(st, seed_txn, NULL) == 0) {
		test_crl();
		if (st != NULL)
			test_ocsp();
		if (st != NULL)
			test_rotation();
	}
	if (st2 != st)
		store_close(st2);
	store_close(st);
	crypto_signer_free(signer);
	crypto_cleanup();
	return CHECK_DONE();
}
