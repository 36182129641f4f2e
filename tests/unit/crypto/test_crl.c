/*
 * test_crl.c: CRLs signed in the signer process (crypto_signer_crl), judged
 * by openssl: `openssl crl -verify` accepts them against root and
 * intermediate and shows the number, the entries with their dates and
 * reasons (none for unspecified); `openssl verify -crl_check` refuses a
 * revoked leaf of the same signer and accepts another; an empty CRL; a
 * list of many entries crossing the transport in fragments; one over
 * 16 MiB. Limits are
 * refused by the signer process itself. Also serial text parsing.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"
#include "revocation_test.h"

#include <sys/wait.h>
#include <time.h>

static time_t now;
static char ca[1100];
static char revoked_serial[2 * CRYPTO_MAX_SERIAL + 1];

static void
test_serial_text(void)
{
	uint8_t s[CRYPTO_MAX_SERIAL];
	char hex[2 * CRYPTO_MAX_SERIAL + 1];
	size_t n = 0;

	CHECK_EQ_INT(crypto_serial_parse("01:AB:cd", s, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK(s[0] == 0x01 && s[1] == 0xab && s[2] == 0xcd);
	crypto_serial_hex(s, n, hex);
	CHECK_EQ_STR(hex, "01abcd");
	CHECK_EQ_INT(crypto_serial_parse("00:00:FF", s, &n), 0);
	CHECK(n == 1 && s[0] == 0xff);
	CHECK_EQ_INT(crypto_serial_parse("abc", s, &n), 0);
	CHECK(n == 2 && s[0] == 0x0a && s[1] == 0xbc);
	CHECK_EQ_INT(crypto_serial_parse(
	    "00112233445566778899aabbccddeeff0011223344", s, &n), 0);
	CHECK_EQ_INT(n, 20);
	crypto_serial_hex(s, n, hex);
	CHECK_EQ_STR(hex, "112233445566778899aabbccddeeff0011223344");
	CHECK_EQ_INT(crypto_serial_parse(
	    "ff112233445566778899aabbccddeeff0011223344", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("0", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("00:00", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse(":ab", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("ab:", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("ab::cd", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("0x12", s, &n), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_serial_parse("12 34", s, &n), CRYPTO_ERR_PARSE);
}

static int
write_crl(const char *name, const uint8_t *der, size_t len)
{
	if (pt_spit(pt_path("%s.der", name), der, len) != 0)
		return -1;
	return pt_run("openssl crl -inform DER -in %s -outform PEM -out %s",
	    pt_path("%s.der", name), pt_path("%s.pem", name));
}

static char *
crl_text(const char *name)
{
	return pt_output("openssl crl -inform DER -in %s -CAfile %s/chain.pem "
	    "-verify -noout -text 2>&1", pt_path("%s.der", name), ca);
}

/* `openssl verify -crl_check` refuses leaf bad and accepts leaf good. */
static void
crl_check(const char *crl, const char *bad, const char *good)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile "
	    "%s/root.crt -untrusted %s/intermediate.crt -CRLfile %s %s 2>&1",
	    ca, ca, pt_path("%s.pem", crl), pt_path("%s.crt", bad));
	CHECK(pt_output_has(cmd, "certificate revoked"));
	CHECK(pt_run("%s", cmd) != 0);
	snprintf(cmd, sizeof(cmd), "openssl verify -crl_check -CAfile "
	    "%s/root.crt -untrusted %s/intermediate.crt -CRLfile %s %s",
	    ca, ca, pt_path("%s.pem", crl), pt_path("%s.crt", good));
	CHECK_EQ_INT(pt_run("%s", cmd), 0);
}

static void
entry(struct crypto_revoked *e, const char *hex, time_t at, int reason)
{
	memset(e, 0, sizeof(*e));
	CHECK_EQ_INT(crypto_serial_parse(hex, e->serial, &e->serial_len), 0);
	e->revoked_at = at;
	e->reason = reason;
}

/* Two leaves; one revoked (keyCompromise), a second entry unspecified, a
 * third superseded; openssl verifies and refuses the revoked leaf. */
static void
test_crl_verify(struct crypto_signer *s)
{
	char kept[41], text_serial[48], date[64];
	struct crypto_revoked e[3];
	struct crypto_crl_params p;
	uint8_t *der = NULL;
	size_t len = 0;
	char *text;
	struct tm tm;

	CHECK_EQ_INT(rt_leaf(s, "revoked", now, revoked_serial), 0);
	CHECK_EQ_INT(rt_leaf(s, "kept", now, kept), 0);
	entry(&e[0], revoked_serial, now - 3600, 1);
	entry(&e[1], "0a:0b:0c", now - 7200, 0);
	entry(&e[2], "7fff", now - 60, 4);
	memset(&p, 0, sizeof(p));
	p.number = 0x1234567890ULL;
	p.this_update = now;
	p.next_update = now + 7 * 86400;
	p.entries = e;
	p.n_entries = 3;
	CHECK_EQ_INT(crypto_signer_crl(s, &p, &der, &len), CRYPTO_OK);
	CHECK(der != NULL && len > 0);
	CHECK_EQ_INT(write_crl("full", der, len), 0);
	free(der);

	text = crl_text("full");
	CHECK(rt_count(text, "verify OK") == 1);
	CHECK(rt_count(text, "Version 2 (0x1)") == 1);
	CHECK(rt_count(text, "X509v3 CRL Number") == 1);
	CHECK(rt_count(text, "                78187493520\n") == 1);
	CHECK(rt_count(text, "X509v3 Authority Key Identifier") == 1);
	CHECK(rt_count(text, "Serial Number: ") == 3);
	rt_openssl_serial(revoked_serial, text_serial, sizeof(text_serial));
	CHECK(rt_count(text, text_serial) == 1);
	CHECK(rt_count(text, "Serial Number: 0A0B0C") == 1);
	CHECK(rt_count(text, "Serial Number: 7FFF") == 1);
	/* the unspecified entry carries no reasonCode */
	CHECK(rt_count(text, "X509v3 CRL Reason Code") == 2);
	CHECK(rt_count(text, "Key Compromise") == 1);
	CHECK(rt_count(text, "Superseded") == 1);
	gmtime_r(&(time_t){ now - 3600 }, &tm);
	strftime(date, sizeof(date), "Revocation Date: %b %e %H:%M:%S %Y GMT", &tm);
	CHECK(rt_count(text, date) == 1);
	if (text != NULL && rt_count(text, date) != 1)
		fprintf(stderr, "%s\nwanted: %s\n", text, date);
	free(text);

	crl_check("full", "revoked", "kept");
}

/* No entries: revokedCertificates left out; every leaf passes. */
static void
test_crl_empty(struct crypto_signer *s)
{
	struct crypto_crl_params p;
	uint8_t *der = NULL;
	size_t len = 0;
	char *text;

	memset(&p, 0, sizeof(p));
	p.number = UINT64_MAX;     /* top bit set: a leading zero octet */
	p.this_update = now;
	p.next_update = now + 86400;
	CHECK_EQ_INT(crypto_signer_crl(s, &p, &der, &len), CRYPTO_OK);
	CHECK_EQ_INT(write_crl("empty", der, len), 0);
	free(der);
	text = crl_text("empty");
	CHECK(rt_count(text, "verify OK") == 1);
	CHECK(rt_count(text, "No Revoked Certificates.") == 1);
	CHECK(rt_count(text, "18446744073709551615") == 1);
	free(text);
	CHECK_EQ_INT(pt_run("openssl verify -crl_check -CAfile %s/root.crt "
	    "-untrusted %s/intermediate.crt -CRLfile %s %s", ca, ca,
	    pt_path("empty.pem"), pt_path("revoked.crt")), 0);
}

/* Many entries: the request (32 bytes each) and the CRL cross the
 * transport in many fragments; the revoked leaf is the last of them. */
static void
test_crl_many(struct crypto_signer *s)
{
	enum { N = 20000 };
	struct crypto_revoked *e = calloc(N, sizeof(*e));
	struct crypto_crl_params p;
	uint8_t *der = NULL;
	size_t len = 0, i, with_reason = 0;
	char *text;

	CHECK(e != NULL);
	if (e == NULL)
		return;
	for (i = 0; i < N - 1; i++) {
		e[i].serial_len = 16;
		e[i].serial[0] = 0x40;
		e[i].serial[13] = (uint8_t)(i >> 16);
		e[i].serial[14] = (uint8_t)(i >> 8);
		e[i].serial[15] = (uint8_t)i;
		e[i].revoked_at = now - 86400 + (time_t)(i % 3600);
		e[i].reason = (int)(i % 6);
	}
	entry(&e[N - 1], revoked_serial, now - 10, 1);
	for (i = 0; i < N; i++)
		with_reason += e[i].reason != 0;
	memset(&p, 0, sizeof(p));
	p.number = 3;
	p.this_update = now;
	p.next_update = now + 86400;
	p.entries = e;
	p.n_entries = N;
	CHECK_EQ_INT(crypto_signer_crl(s, &p, &der, &len), CRYPTO_OK);
	CHECK(len > (size_t)N * 40);
	CHECK_EQ_INT(write_crl("many", der, len), 0);
	free(der);
	free(e);
	text = pt_output("openssl crl -inform DER -in %s -CAfile %s/chain.pem "
	    "-verify -noout 2>&1", pt_path("many.der"), ca);
	CHECK(rt_count(text, "verify OK") == 1);
	free(text);
	/* the text is larger than pt_output keeps: let grep count */
	text = pt_output("openssl crl -inform DER -in %s -noout -text | "
	    "grep -c 'Serial Number: '", pt_path("many.der"));
	CHECK_EQ_INT(text != NULL ? atol(text) : -1, N);
	free(text);
	text = pt_output("openssl crl -inform DER -in %s -noout -text | "
	    "grep -c 'X509v3 CRL Reason Code'", pt_path("many.der"));
	CHECK_EQ_INT(text != NULL ? atol(text) : -1, (long)with_reason);
	free(text);
	crl_check("many", "revoked", "kept");
}

/* Over 16 MiB: DER lengths of four bytes, in the entries' SEQUENCE, the
 * TBSCertList and the CertificateList. */
static void
test_crl_large(struct crypto_signer *s)
{
	enum { N = 320000 };
	struct crypto_revoked *e = calloc(N, sizeof(*e));
	struct crypto_crl_params p;
	uint8_t *der = NULL;
	size_t len = 0, i;
	char *text;

	CHECK(e != NULL);
	if (e == NULL)
		return;
	for (i = 0; i < N; i++) {
		e[i].serial_len = CRYPTO_MAX_SERIAL;
		memset(e[i].serial, 0xa5, CRYPTO_MAX_SERIAL);
		memcpy(e[i].serial, &i, sizeof(i));
		e[i].serial[0] |= 0x80;   /* a sign octet: 21 content bytes */
		e[i].revoked_at = now - 60;
		e[i].reason = 10;
	}
	memset(&p, 0, sizeof(p));
	p.number = 4;
	p.this_update = now;
	p.next_update = now + 86400;
	p.entries = e;
	p.n_entries = N;
	CHECK_EQ_INT(crypto_signer_crl(s, &p, &der, &len), CRYPTO_OK);
	CHECK(len > 16u * 1024 * 1024);
	CHECK(len >= 4 && der != NULL && der[0] == 0x30 && der[1] == 0x84);
	CHECK(der != NULL && pt_spit(pt_path("large.der"), der, len) == 0);
	free(der);
	free(e);
	text = pt_output("openssl crl -inform DER -in %s -CAfile %s/chain.pem "
	    "-verify -noout 2>&1", pt_path("large.der"), ca);
	CHECK(rt_count(text, "verify OK") == 1);
	free(text);
}

/* A CRL request with one field changed; what the signer answers. */
static int
crl_with(struct crypto_signer *s, const struct crypto_revoked *e, size_t n,
    time_t this_update, time_t next_update)
{
	struct crypto_crl_params p;
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	memset(&p, 0, sizeof(p));
	p.number = 9;
	p.this_update = this_update;
	p.next_update = next_update;
	p.entries = e;
	p.n_entries = n;
	ret = crypto_signer_crl(s, &p, &der, &len);
	CHECK((ret == 0) == (der != NULL));
	free(der);
	return ret;
}

/* Limits, each refused inside the signer process (this one has no key),
 * which goes on answering. */
static void
test_crl_limits(struct crypto_signer *s)
{
	struct crypto_revoked e;
	uint8_t raw[64], *resp = NULL;
	size_t resplen = 0;
	int reason;

	CHECK(s->key == NULL);
	entry(&e, "01:02", now - 60, 1);
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_OK);
	for (reason = -1; reason <= 12; reason++) {
		e.reason = reason;
		CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400),
		    reason >= 0 && reason <= 10 && reason != 7 && reason != 8 ?
		    CRYPTO_OK : CRYPTO_ERR_INVALID);
	}
	e.reason = 1;
	e.serial_len = 0;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	e.serial_len = CRYPTO_MAX_SERIAL + 1;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	e.serial_len = 1000;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	e.serial_len = CRYPTO_MAX_SERIAL;
	memset(e.serial, 0x11, sizeof(e.serial));
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_OK);
	e.serial[0] = 0;           /* a leading zero byte */
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	entry(&e, "01:02", now - 60, 1);
	/* times: revoked after thisUpdate, updates out of order, too long */
	e.revoked_at = now + 1;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	e.revoked_at = 0;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_ERR_INVALID);
	e.revoked_at = now - 60;
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now - 1), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + CRYPTO_REVOCATION_MAX_PERIOD),
	    CRYPTO_OK);
	CHECK_EQ_INT(crl_with(s, &e, 1, now,
	    now + CRYPTO_REVOCATION_MAX_PERIOD + 1), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crl_with(s, NULL, 0, 0, 86400), CRYPTO_ERR_INVALID);
	/* too many entries: refused before anything is read or sent */
	CHECK_EQ_INT(crl_with(s, &e, (size_t)CRYPTO_CRL_MAX_ENTRIES + 1, now,
	    now + 86400), CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crl_with(s, NULL, 1, now, now + 86400), CRYPTO_ERR_INVALID);

	/* requests that do not fit the wire format, sent as they are */
	memset(raw, 0, sizeof(raw));
	CHECK_EQ_INT(pki_signer_call(s, PKI_OP_CRL, raw, 10, &resp, &resplen),
	    CRYPTO_ERR_PARSE);
	raw[24] = 2;               /* two entries announced, one sent */
	CHECK_EQ_INT(pki_signer_call(s, PKI_OP_CRL, raw, 64, &resp, &resplen),
	    CRYPTO_ERR_PARSE);
	raw[24] = 0x40;            /* 0x40 entries... */
	raw[26] = 0x40;            /* ...and some millions: over the cap */
	CHECK_EQ_INT(pki_signer_call(s, PKI_OP_CRL, raw, 64, &resp, &resplen),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK(resp == NULL);
	CHECK_EQ_INT(crl_with(s, &e, 1, now, now + 86400), CRYPTO_OK);
}

int
main(void)
{
	struct crypto_signer *s;

	now = time(NULL);
	CHECK_EQ_INT(crypto_init(), 0);
	pt_tmpdir("crl");
	test_serial_text();
	s = rt_ca("crlca", CRYPTO_KEY_EC_P256, now, ca, sizeof(ca));
	if (s != NULL) {
		test_crl_verify(s);
		test_crl_empty(s);
		test_crl_many(s);
		test_crl_large(s);
		test_crl_limits(s);
	}
	crypto_signer_free(s);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	crypto_cleanup();
	return CHECK_DONE();
}
