/*
 * test_ocsp.c: OCSP (RFC 6960). Requests made by `openssl ocsp` (SHA-1
 * and SHA-256 CertIDs, with and without a nonce) parse; the intermediate's
 * issuer check; responses for good, revoked (time, reason) and unknown
 * signed in the signer process verify with `openssl ocsp -respin` trusting
 * only the root, echo the nonce, and show the status; malformed requests
 * are refused with the documented codes; the signer refuses answers and
 * CertIDs it must not sign; error responses parse.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"
#include "revocation_test.h"

#include <sys/wait.h>
#include <time.h>

static time_t now;
static char ca[1100], other[1100];
static char serial_a[2 * CRYPTO_MAX_SERIAL + 1], serial_b[2 * CRYPTO_MAX_SERIAL + 1];

/* Reads a request file and parses it. */
static int
parse_file(const char *name, struct crypto_ocsp_request *r)
{
	size_t len = 0;
	char *der = pt_slurp(pt_path("%s", name), &len);
	int ret;

	if (der == NULL)
		return -100;
	ret = crypto_ocsp_request_parse((uint8_t *)der, len, r);
	free(der);
	return ret;
}

/* `openssl ocsp -reqout` with extra options (digest, -no_nonce, certs). */
static int
make_request(const char *out, const char *issuer_dir, const char *opts)
{
	return pt_run("cd %s && openssl ocsp -issuer %s/intermediate.crt %s "
	    "-reqout %s", pt_dir, issuer_dir, opts, out);
}

static int
serial_is(const struct crypto_ocsp_request *r, const char *hex)
{
	char got[2 * CRYPTO_MAX_SERIAL + 1];

	crypto_serial_hex(r->serial, r->serial_len, got);
	return strcmp(got, hex) == 0;
}

static void
test_parse(struct crypto_signer *s)
{
	struct crypto_ocsp_request r;

	CHECK_EQ_INT(make_request("nonce.der", ca, "-cert a.crt"), 0);
	CHECK_EQ_INT(make_request("plain.der", ca, "-no_nonce -cert a.crt"), 0);
	CHECK_EQ_INT(make_request("sha256.der", ca, "-sha256 -cert b.crt"), 0);

	CHECK_EQ_INT(parse_file("nonce.der", &r), 0);
	CHECK_EQ_INT(r.hash, CRYPTO_SHA1);
	CHECK_EQ_INT(r.hash_len, 20);
	CHECK(serial_is(&r, serial_a));
	CHECK_EQ_INT(r.has_nonce, 1);
	/* openssl's nonce: an OCTET STRING of 16 bytes inside the extnValue */
	CHECK_EQ_INT(r.nonce_len, 18);
	CHECK(r.nonce[0] == 0x04 && r.nonce[1] == 16);
	CHECK(crypto_signer_ocsp_issuer_matches(s, &r));

	CHECK_EQ_INT(parse_file("plain.der", &r), 0);
	CHECK_EQ_INT(r.has_nonce, 0);
	CHECK_EQ_INT(r.nonce_len, 0);
	CHECK(serial_is(&r, serial_a));
	CHECK(crypto_signer_ocsp_issuer_matches(s, &r));

	CHECK_EQ_INT(parse_file("sha256.der", &r), 0);
	CHECK_EQ_INT(r.hash, CRYPTO_SHA256);
	CHECK_EQ_INT(r.hash_len, 32);
	CHECK(serial_is(&r, serial_b));
	CHECK_EQ_INT(r.has_nonce, 1);
	CHECK(crypto_signer_ocsp_issuer_matches(s, &r));
	r.issuer_key_hash[31] ^= 1;
	CHECK(!crypto_signer_ocsp_issuer_matches(s, &r));
	r.issuer_key_hash[31] ^= 1;
	r.issuer_name_hash[0] ^= 1;
	CHECK(!crypto_signer_ocsp_issuer_matches(s, &r));

	/* a certificate of another CA: the same serial, another issuer */
	CHECK_EQ_INT(make_request("other.der", other, "-serial 0x0102"), 0);
	CHECK_EQ_INT(parse_file("other.der", &r), 0);
	CHECK(serial_is(&r, "0102"));
	CHECK(!crypto_signer_ocsp_issuer_matches(s, &r));
}

static void
answer(struct crypto_ocsp_answer *a, enum crypto_ocsp_status st, int reason)
{
	memset(a, 0, sizeof(*a));
	a->status = st;
	a->reason = reason;
	a->revoked_at = st == CRYPTO_OCSP_REVOKED ? now - 3600 : 0;
	a->this_update = now - 60;
	a->next_update = now + 86400;
	a->produced_at = now;
}

/* Signs an answer to request file req into resp file; 0 or the code. */
static int
respond(struct crypto_signer *s, const char *req, const char *resp,
    const struct crypto_ocsp_answer *a)
{
	struct crypto_ocsp_request r;
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	if ((ret = parse_file(req, &r)) != 0)
		return ret;
	if ((ret = crypto_signer_ocsp(s, &r, a, &der, &len)) == 0)
		ret = pt_spit(pt_path("%s", resp), der, len);
	free(der);
	return ret;
}

/*
 * openssl's view of resp, trusting the root only, with the intermediate
 * named by trust (-issuer or -VAfile): once against request req, which
 * checks the nonce and prints the response, and once for certificate cert,
 * which prints "cert: status" (a CertID made with digest, "" for SHA-1).
 * (`-cert` builds a request of its own with a fresh nonce, so the two
 * cannot be one command.)
 */
static char *
judge(const char *req, const char *resp, const char *digest, const char *cert,
    const char *trust)
{
	return pt_output("cd %s && openssl ocsp -reqin %s -respin %s "
	    "%s %s/intermediate.crt -CAfile %s/root.crt -resp_text 2>&1 && "
	    "openssl ocsp -respin %s -issuer %s/intermediate.crt %s "
	    "%s/intermediate.crt -CAfile %s/root.crt %s -cert %s -no_nonce 2>&1",
	    pt_dir, req, resp, trust, ca, ca, resp, ca, trust, ca, ca, digest,
	    cert);
}

/* Copies in to out with the signature's last byte changed. */
static int
tamper(const char *in, const char *out)
{
	size_t len = 0;
	char *der = pt_slurp(pt_path("%s", in), &len);
	int ret;

	if (der == NULL || len == 0) {
		free(der);
		return -1;
	}
	der[len - 1] ^= 0x01;
	ret = pt_spit(pt_path("%s", out), der, len);
	free(der);
	return ret;
}

static void
test_responses(struct crypto_signer *s)
{
	struct crypto_ocsp_answer a;
	const char *issuer = "-issuer", *va = "-VAfile";
	char *text, when[64];
	struct tm tm;

	answer(&a, CRYPTO_OCSP_GOOD, 0);
	CHECK_EQ_INT(respond(s, "nonce.der", "good.der", &a), 0);
	text = judge("nonce.der", "good.der", "", "a.crt", issuer);
	CHECK(rt_count(text, "Response verify OK") == 2);
	CHECK(rt_count(text, "a.crt: good") == 1);
	CHECK(rt_count(text, "Cert Status: good") == 1);
	CHECK(rt_count(text, "OCSP Nonce") == 1);
	CHECK(rt_count(text, "Responder Id: ") == 1);
	CHECK(rt_count(text, "WARNING") == 0);
	CHECK(rt_count(text, "rror") == 0);
	free(text);

	answer(&a, CRYPTO_OCSP_REVOKED, 1);
	CHECK_EQ_INT(respond(s, "sha256.der", "revoked.der", &a), 0);
	text = judge("sha256.der", "revoked.der", "-sha256", "b.crt", va);
	CHECK(rt_count(text, "Response verify OK") == 2);
	CHECK(rt_count(text, "b.crt: revoked") == 1);
	CHECK(rt_count(text, "Reason: keyCompromise") == 2);
	gmtime_r(&(time_t){ now - 3600 }, &tm);
	strftime(when, sizeof(when), "Revocation Time: %b %e %H:%M:%S %Y GMT", &tm);
	CHECK(rt_count(text, when) == 2);
	CHECK(rt_count(text, "Hash Algorithm: sha256") == 1);
	CHECK(rt_count(text, "OCSP Nonce") == 1);
	CHECK(rt_count(text, "rror") == 0);
	free(text);

	/* revoked without a reason: no revocationReason */
	answer(&a, CRYPTO_OCSP_REVOKED, 0);
	CHECK_EQ_INT(respond(s, "plain.der", "revoked0.der", &a), 0);
	text = judge("plain.der", "revoked0.der", "", "a.crt", issuer);
	CHECK(rt_count(text, "Response verify OK") == 2);
	CHECK(rt_count(text, "a.crt: revoked") == 1);
	CHECK(rt_count(text, "Reason:") == 0);
	CHECK(rt_count(text, "OCSP Nonce") == 0);
	free(text);

	answer(&a, CRYPTO_OCSP_UNKNOWN, 0);
	CHECK_EQ_INT(respond(s, "plain.der", "unknown.der", &a), 0);
	text = judge("plain.der", "unknown.der", "", "a.crt", issuer);
	CHECK(rt_count(text, "Response verify OK") == 2);
	CHECK(rt_count(text, "a.crt: unknown") == 1);
	CHECK(rt_count(text, "Cert Status: unknown") == 1);
	free(text);

	/* the judge is real: another CA's trust, or one bit of the
	 * signature changed, and the response no longer verifies */
	text = pt_output("cd %s && openssl ocsp -respin good.der -issuer "
	    "%s/intermediate.crt -CAfile %s/root.crt 2>&1", pt_dir, other, other);
	CHECK(rt_count(text, "Response Verify Failure") == 1);
	free(text);
	CHECK(tamper("good.der", "tampered.der") == 0);
	text = pt_output("cd %s && openssl ocsp -respin tampered.der -issuer "
	    "%s/intermediate.crt -CAfile %s/root.crt 2>&1", pt_dir, ca, ca);
	CHECK(rt_count(text, "Response Verify Failure") == 1);
	free(text);
}

/* A hand-made OCSPRequest, for shapes openssl does not write. */
struct shape {
	const uint8_t *oid;       /* CertID hash algorithm */
	size_t oid_len, hash_len;
	const uint8_t *serial;    /* INTEGER contents as sent */
	size_t serial_len;
	int nonce_len;            /* -1: no nonce extension */
	int n_requests;
	int version;              /* -1: left at its default */
};

static const uint8_t sha1_oid[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t nonce_oid[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02 };

static void
shape_cert_id(struct pki_buf *b, const struct shape *sh)
{
	static const uint8_t hash[64];
	size_t mark = b->len, alg;

	alg = b->len;
	pki_der_tlv(b, PKI_DER_OID, sh->oid, sh->oid_len);
	pki_der_tlv(b, PKI_DER_NULL, NULL, 0);
	pki_der_wrap(b, PKI_DER_SEQ, alg);
	pki_der_tlv(b, PKI_DER_OCTETS, hash, sh->hash_len);
	pki_der_tlv(b, PKI_DER_OCTETS, hash, sh->hash_len);
	pki_der_tlv(b, PKI_DER_INTEGER, sh->serial, sh->serial_len);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	pki_der_wrap(b, PKI_DER_SEQ, mark);      /* the Request */
}

static int
shape_parse(const struct shape *sh, struct crypto_ocsp_request *r)
{
	static const uint8_t nonce[300];
	struct pki_buf b = { 0 };
	size_t m;
	int i, ret;

	if (sh->version >= 0) {
		pki_der_small_uint(&b, (unsigned long)sh->version);
		pki_der_wrap(&b, 0xa0, 0);
	}
	m = b.len;
	for (i = 0; i < sh->n_requests; i++)
		shape_cert_id(&b, sh);
	pki_der_wrap(&b, PKI_DER_SEQ, m);
	if (sh->nonce_len >= 0) {
		m = b.len;
		pki_der_tlv(&b, PKI_DER_OID, nonce_oid, sizeof(nonce_oid));
		pki_der_tlv(&b, PKI_DER_OCTETS, nonce, (size_t)sh->nonce_len);
		pki_der_wrap(&b, PKI_DER_SEQ, m);
		pki_der_wrap(&b, PKI_DER_SEQ, m);
		pki_der_wrap(&b, 0xa2, m);
	}
	pki_der_wrap(&b, PKI_DER_SEQ, 0);
	pki_der_wrap(&b, PKI_DER_SEQ, 0);
	ret = b.err != 0 ? -100 : crypto_ocsp_request_parse(b.p, b.len, r);
	pki_buf_free(&b);
	return ret;
}

static void
test_malformed(void)
{
	static const uint8_t sha224_oid[] =
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04 };
	static const uint8_t one[] = { 0x01 }, neg[] = { 0x80, 0x01 },
	    padded[] = { 0x00, 0x01 }, high[] = { 0x00, 0x80 };
	struct shape ok = { sha1_oid, sizeof(sha1_oid), 20, one, 1, 16, 1, -1 };
	struct shape sh;
	struct crypto_ocsp_request r;
	uint8_t *big;
	char *der;
	size_t len = 0, i;

	CHECK_EQ_INT(shape_parse(&ok, &r), 0);
	CHECK(r.has_nonce && r.nonce_len == 16 && r.serial_len == 1);
	/* every truncation, and a byte after the end */
	der = pt_slurp(pt_path("nonce.der"), &len);
	CHECK(der != NULL && len > 0);
	for (i = 0; der != NULL && i < len; i++)
		CHECK_EQ_INT(crypto_ocsp_request_parse((uint8_t *)der, i, &r),
		    CRYPTO_ERR_PARSE);
	if (der != NULL && (der = realloc(der, len + 1)) != NULL) {
		der[len] = 0;
		CHECK_EQ_INT(crypto_ocsp_request_parse((uint8_t *)der, len + 1,
		    &r), CRYPTO_ERR_PARSE);
	}
	free(der);
	/* two requests; an unknown hash (SHA-224) */
	CHECK_EQ_INT(make_request("two.der", ca, "-cert a.crt -cert b.crt"), 0);
	CHECK_EQ_INT(parse_file("two.der", &r), CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(make_request("sha224.der", ca, "-sha224 -cert a.crt"), 0);
	CHECK_EQ_INT(parse_file("sha224.der", &r), CRYPTO_ERR_UNSUPPORTED);
	/* a signed request: accepted, its signature ignored */
	CHECK_EQ_INT(make_request("signed.der", ca,
	    "-signer a.crt -signkey a.key -cert a.crt"), 0);
	CHECK_EQ_INT(parse_file("signed.der", &r), 0);
	CHECK(serial_is(&r, serial_a));
	/* over the cap, whatever it holds */
	big = calloc(1, CRYPTO_OCSP_MAX_REQUEST + 1);
	CHECK(big != NULL);
	if (big != NULL)
		CHECK_EQ_INT(crypto_ocsp_request_parse(big,
		    CRYPTO_OCSP_MAX_REQUEST + 1, &r), CRYPTO_ERR_TOO_LARGE);
	free(big);

	sh = ok; sh.oid = sha224_oid; sh.oid_len = sizeof(sha224_oid);
	sh.hash_len = 28;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_UNSUPPORTED);
	sh = ok; sh.n_requests = 0;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.n_requests = 3;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_UNSUPPORTED);
	sh = ok; sh.hash_len = 19;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.version = 0;
	CHECK_EQ_INT(shape_parse(&sh, &r), 0);
	sh = ok; sh.version = 1;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.nonce_len = CRYPTO_OCSP_MAX_NONCE;
	CHECK_EQ_INT(shape_parse(&sh, &r), 0);
	CHECK_EQ_INT(r.nonce_len, CRYPTO_OCSP_MAX_NONCE);
	sh = ok; sh.nonce_len = CRYPTO_OCSP_MAX_NONCE + 1;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(r.has_nonce, 0);          /* nothing half-filled */
	sh = ok; sh.nonce_len = 0;
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.nonce_len = -1;
	CHECK_EQ_INT(shape_parse(&sh, &r), 0);
	CHECK_EQ_INT(r.has_nonce, 0);
	/* serials: negative, zero, not minimal, 21 bytes */
	sh = ok; sh.serial = neg; sh.serial_len = sizeof(neg);
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.serial = padded; sh.serial_len = 1;   /* INTEGER 0 */
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.serial = padded; sh.serial_len = sizeof(padded);
	CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
	sh = ok; sh.serial = high; sh.serial_len = sizeof(high);
	CHECK_EQ_INT(shape_parse(&sh, &r), 0);
	CHECK(r.serial_len == 1 && r.serial[0] == 0x80);
	{
		uint8_t s21[21];

		memset(s21, 0x11, sizeof(s21));
		sh = ok; sh.serial = s21; sh.serial_len = sizeof(s21);
		CHECK_EQ_INT(shape_parse(&sh, &r), CRYPTO_ERR_PARSE);
		sh.serial_len = 20;
		CHECK_EQ_INT(shape_parse(&sh, &r), 0);
	}
}

/* What the signer answers for request r and answer a. */
static int
sign_with(struct crypto_signer *s, const struct crypto_ocsp_request *r,
    const struct crypto_ocsp_answer *a)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret = crypto_signer_ocsp(s, r, a, &der, &len);

	CHECK((ret == 0) == (der != NULL));
	free(der);
	return ret;
}

/* The signer process refuses what it must not sign, and goes on. */
static void
test_signer_checks(struct crypto_signer *s)
{
	struct crypto_ocsp_request r, bad;
	struct crypto_ocsp_answer a, x;
	uint8_t raw[16] = { 0 }, *resp = NULL;
	size_t resplen = 0;

	CHECK(s->key == NULL);
	CHECK_EQ_INT(parse_file("nonce.der", &r), 0);
	answer(&a, CRYPTO_OCSP_REVOKED, 1);
	CHECK_EQ_INT(sign_with(s, &r, &a), 0);
	x = a; x.status = (enum crypto_ocsp_status)3;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.reason = 7;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.reason = 11;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.revoked_at = a.this_update + 1;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.next_update = a.this_update;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.next_update = a.this_update + CRYPTO_REVOCATION_MAX_PERIOD + 1;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	x = a; x.produced_at = a.this_update - 1;
	CHECK_EQ_INT(sign_with(s, &r, &x), CRYPTO_ERR_INVALID);
	bad = r; bad.serial_len = 0;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	bad = r; bad.serial_len = CRYPTO_MAX_SERIAL + 1;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	bad = r; bad.hash_len = 19;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	bad = r; bad.hash = 99;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	bad = r; bad.nonce_len = 0;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	bad = r; bad.nonce_len = CRYPTO_OCSP_MAX_NONCE + 1;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(parse_file("other.der", &bad), 0);
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_MISMATCH);
	bad = r; bad.issuer_name_hash[3] ^= 0x10;
	CHECK_EQ_INT(sign_with(s, &bad, &a), CRYPTO_ERR_MISMATCH);
	CHECK_EQ_INT(pki_signer_call(s, PKI_OP_OCSP, raw, sizeof(raw), &resp,
	    &resplen), CRYPTO_ERR_PARSE);
	CHECK(resp == NULL);
	CHECK_EQ_INT(sign_with(s, &r, &a), 0);
}

static void
test_errors(void)
{
	static const struct { int status; const char *name; } errs[] = {
		{ 1, "malformedrequest" }, { 2, "internalerror" },
		{ 3, "trylater" }, { 5, "sigrequired" }, { 6, "unauthorized" },
	};
	char needle[64], *text;
	uint8_t *der = NULL;
	size_t len = 0, i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		CHECK_EQ_INT(crypto_ocsp_error(errs[i].status, &der, &len), 0);
		CHECK(der != NULL && pt_spit(pt_path("err.der"), der, len) == 0);
		free(der);
		text = pt_output("openssl ocsp -respin %s -resp_text -noverify 2>&1",
		    pt_path("err.der"));
		snprintf(needle, sizeof(needle), "Responder Error: %s (%d)",
		    errs[i].name, errs[i].status);
		CHECK(rt_count(text, needle) == 1);
		free(text);
	}
	CHECK_EQ_INT(crypto_ocsp_error(0, &der, &len), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_ocsp_error(4, &der, &len), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_ocsp_error(7, &der, &len), CRYPTO_ERR_INVALID);
	CHECK(der == NULL);
}

int
main(void)
{
	struct crypto_signer *s, *o;

	now = time(NULL);
	CHECK_EQ_INT(crypto_init(), 0);
	pt_tmpdir("ocsp");
	s = rt_ca("ocspca", CRYPTO_KEY_EC_P384, now, ca, sizeof(ca));
	o = rt_ca("otherca", CRYPTO_KEY_EC_P256, now, other, sizeof(other));
	CHECK_EQ_INT(rt_leaf(s, "a", now, serial_a), 0);
	CHECK_EQ_INT(rt_leaf(s, "b", now, serial_b), 0);
	if (s != NULL && o != NULL) {
		test_parse(s);
		test_responses(s);
		test_malformed();
		test_signer_checks(s);
	}
	test_errors();
	crypto_signer_free(s);
	crypto_signer_free(o);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	crypto_cleanup();
	return CHECK_DONE();
}
