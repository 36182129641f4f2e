/*
 * test_der.c: the DER reader under crypto/ refuses what DER forbids
 * (non-minimal and indefinite lengths, high tag numbers, lengths past the
 * buffer) and malformed times; and CSRs with compressed EC points or
 * unusable RSA exponents are refused.
 */
#include "check.h"
#include "pki_internal.h"
#include "pki_test.h"

#include <stdlib.h>

static int
next(const uint8_t *p, size_t len, struct pki_tlv *t)
{
	struct pki_der d = { p, len };

	return pki_der_next(&d, t);
}

static void
test_lengths(void)
{
	static const uint8_t ok_short[] = { 0x04, 0x02, 0xaa, 0xbb };
	static const uint8_t long_form[] = { 0x04, 0x81, 0x80 };
	static const uint8_t non_minimal[] = { 0x04, 0x81, 0x02, 0xaa, 0xbb };
	static const uint8_t leading_zero[] = { 0x04, 0x82, 0x00, 0x90 };
	static const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
	static const uint8_t high_tag[] = { 0x1f, 0x81, 0x01, 0x00 };
	static const uint8_t past_end[] = { 0x04, 0x05, 0xaa };
	static const uint8_t huge[] = { 0x04, 0x84, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t five_bytes[] = { 0x04, 0x85, 0x01, 0, 0, 0, 0 };
	struct pki_tlv t;
	uint8_t big[3 + 0x80];

	CHECK_EQ_INT(next(ok_short, sizeof(ok_short), &t), CRYPTO_OK);
	CHECK_EQ_INT(t.val_len, 2);
	memset(big, 0xcc, sizeof(big));
	memcpy(big, long_form, 3);
	CHECK_EQ_INT(next(big, sizeof(big), &t), CRYPTO_OK);
	CHECK_EQ_INT(t.val_len, 0x80);
	CHECK_EQ_INT(next(non_minimal, sizeof(non_minimal), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(leading_zero, sizeof(leading_zero), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(indefinite, sizeof(indefinite), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(high_tag, sizeof(high_tag), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(past_end, sizeof(past_end), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(huge, sizeof(huge), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(five_bytes, sizeof(five_bytes), &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(ok_short, 1, &t), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(next(ok_short, 0, &t), CRYPTO_ERR_PARSE);
}

static void
test_times(void)
{
	struct pki_tlv t;
	time_t v;

	memset(&t, 0, sizeof(t));
	t.tag = PKI_DER_UTCTIME;
	t.val = (const uint8_t *)"261127154056Z";
	t.val_len = 13;
	CHECK_EQ_INT(pki_der_time_parse(&t, &v), CRYPTO_OK);
	CHECK_EQ_INT(v, 1795794056);
	t.val = (const uint8_t *)"x61127154056Z";
	CHECK_EQ_INT(pki_der_time_parse(&t, &v), CRYPTO_ERR_PARSE);
	t.val = (const uint8_t *)"2611271540560";
	CHECK(pki_der_time_parse(&t, &v) != CRYPTO_OK);
	t.tag = PKI_DER_GENTIME;
	t.val = (const uint8_t *)"20261127154056Z";
	t.val_len = 15;
	CHECK_EQ_INT(pki_der_time_parse(&t, &v), CRYPTO_OK);
	CHECK_EQ_INT(v, 1795794056);
}

static void
test_csr_keys(void)
{
	char *pem;
	size_t len = 0;
	int err;
	struct crypto_csr *csr;

	pt_tmpdir("der");
	/* the same key, uncompressed and compressed */
	CHECK_EQ_INT(pt_run("cd %s && openssl ecparam -name prime256v1 -genkey "
	    "-noout -out k.pem && openssl req -new -key k.pem -subj /CN=a.example "
	    "-out plain.csr && openssl ec -in k.pem -conv_form compressed -out kc.pem "
	    "&& openssl req -new -key kc.pem -subj /CN=a.example -out comp.csr",
	    pt_dir), 0);
	pem = pt_slurp(pt_path("plain.csr"), &len);
	csr = pem != NULL ? crypto_csr_parse_pem(pem, len, &err) : NULL;
	CHECK(csr != NULL);
	crypto_csr_free(csr);
	free(pem);
	pem = pt_slurp(pt_path("comp.csr"), &len);
	if (pem != NULL && strstr(pem, "BEGIN CERTIFICATE REQUEST") != NULL) {
		csr = crypto_csr_parse_pem(pem, len, &err);
		CHECK(csr == NULL);
		CHECK_EQ_INT(err, CRYPTO_ERR_UNSUPPORTED);
		crypto_csr_free(csr);
	}
	free(pem);
	/* e = 3 is odd and at least 3: accepted */
	CHECK_EQ_INT(pt_run("cd %s && openssl genrsa -3 -out r3.pem 2048 && "
	    "openssl req -new -key r3.pem -subj /CN=a.example -out r3.csr", pt_dir), 0);
	pem = pt_slurp(pt_path("r3.csr"), &len);
	csr = pem != NULL ? crypto_csr_parse_pem(pem, len, &err) : NULL;
	CHECK(csr != NULL);
	crypto_csr_free(csr);
	free(pem);
}

int
main(void)
{
	CHECK_EQ_INT(crypto_init(), 0);
	test_lengths();
	test_times();
	test_csr_keys();
	crypto_cleanup();
	return CHECK_DONE();
}
