/*
 * test_csr.c: parsing PKCS#10 requests made by `openssl req`: the key policy
 * (RSA 2048..4096, P-256, P-384, Ed25519 accepted; RSA-1024 and P-521
 * refused), names from subjectAltName and CN, the self-signature check, the
 * RFC 7638 key thumbprint, and malformed or oversized input.
 */
#include "check.h"
#include "crypto.h"
#include "pki_test.h"

#include <stdint.h>

/* Makes DIR/<name>.der (and .key) with openssl req; returns its status. */
static int
make_csr(const char *name, const char *newkey, const char *subj,
    const char *san)
{
	char ext[3000] = "";

	if (san != NULL)
		snprintf(ext, sizeof(ext), "-addext 'subjectAltName=%s'", san);
	return pt_run("cd %s && openssl req -new -newkey %s -nodes "
	    "-keyout %s.key -subj '%s' %s -outform DER -out %s.der",
	    pt_dir, newkey, name, subj, ext, name);
}

static struct crypto_csr *
parse_file(const char *name, int *err)
{
	struct crypto_csr *csr;
	uint8_t *der;
	size_t len = 0;

	der = (uint8_t *)pt_slurp(pt_path("%s.der", name), &len);
	if (der == NULL) {
		*err = 99;
		return NULL;
	}
	csr = crypto_csr_parse_der(der, len, err);
	free(der);
	return csr;
}

/* Expected thumbprint: JSON built here from openssl's view of the key. */
static void
expect_thumbprint(const char *json, char out[CRYPTO_THUMBPRINT_LEN + 1])
{
	uint8_t digest[32];

	CHECK_EQ_INT(crypto_sha256(json, strlen(json), digest), 0);
	CHECK_EQ_INT(crypto_b64url_encode(digest, 32, out,
	    CRYPTO_THUMBPRINT_LEN + 1), CRYPTO_THUMBPRINT_LEN);
}

/* The public key's last n bytes (the raw point or key) from its DER. */
static int
spki_tail(const char *name, size_t n, uint8_t *out)
{
	char *der;
	size_t len = 0;

	if (pt_run("cd %s && openssl pkey -in %s.key -pubout -outform DER "
	    "-out %s.pub", pt_dir, name, name) != 0)
		return -1;
	if ((der = pt_slurp(pt_path("%s.pub", name), &len)) == NULL || len < n) {
		free(der);
		return -1;
	}
	memcpy(out, der + len - n, n);
	free(der);
	return 0;
}

static void
b64(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	CHECK(crypto_b64url_encode(in, len, out, outsz) > 0);
}

static void
check_thumbprint_ec(struct crypto_csr *csr, const char *name, const char *crv,
    size_t flen)
{
	char got[CRYPTO_THUMBPRINT_LEN + 1], want[CRYPTO_THUMBPRINT_LEN + 1];
	char json[512], x[80], y[80];
	uint8_t pt[96];

	CHECK_EQ_INT(spki_tail(name, 2 * flen, pt), 0);
	b64(pt, flen, x, sizeof(x));
	b64(pt + flen, flen, y, sizeof(y));
	snprintf(json, sizeof(json),
	    "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, x, y);
	expect_thumbprint(json, want);
	CHECK_EQ_INT(crypto_csr_key_thumbprint(csr, got), CRYPTO_OK);
	CHECK_EQ_STR(got, want);
}

static void
check_thumbprint_ed25519(struct crypto_csr *csr, const char *name)
{
	char got[CRYPTO_THUMBPRINT_LEN + 1], want[CRYPTO_THUMBPRINT_LEN + 1];
	char json[256], x[64];
	uint8_t pt[32];

	CHECK_EQ_INT(spki_tail(name, 32, pt), 0);
	b64(pt, 32, x, sizeof(x));
	snprintf(json, sizeof(json),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	expect_thumbprint(json, want);
	CHECK_EQ_INT(crypto_csr_key_thumbprint(csr, got), CRYPTO_OK);
	CHECK_EQ_STR(got, want);
}

/* RSA: n from `openssl rsa -modulus` (hex), e = 65537. */
static void
check_thumbprint_rsa(struct crypto_csr *csr, const char *name)
{
	char got[CRYPTO_THUMBPRINT_LEN + 1], want[CRYPTO_THUMBPRINT_LEN + 1];
	static const uint8_t e[] = { 0x01, 0x00, 0x01 };
	char *out, *hex, json[1200], n64[700], e64[8];
	uint8_t n[512];
	size_t i, nlen;

	out = pt_output("openssl rsa -in %s/%s.key -noout -modulus 2>/dev/null",
	    pt_dir, name);
	CHECK(out != NULL && strncmp(out, "Modulus=", 8) == 0);
	if (out == NULL)
		return;
	hex = out + 8;
	nlen = strcspn(hex, "\n") / 2;
	for (i = 0; i < nlen && i < sizeof(n); i++)
		sscanf(hex + 2 * i, "%2hhx", &n[i]);
	b64(n, nlen, n64, sizeof(n64));
	b64(e, sizeof(e), e64, sizeof(e64));
	snprintf(json, sizeof(json), "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
	    e64, n64);
	expect_thumbprint(json, want);
	CHECK_EQ_INT(crypto_csr_key_thumbprint(csr, got), CRYPTO_OK);
	CHECK_EQ_STR(got, want);
	free(out);
}

static void
test_accepted(void)
{
	struct crypto_csr *csr;
	const struct crypto_name *names;
	int err;

	CHECK_EQ_INT(make_csr("rsa2048", "rsa:2048", "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("rsa4096", "rsa:4096", "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("p256", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("p384", "ec -pkeyopt ec_paramgen_curve:P-384",
	    "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("ed25519", "ed25519", "/CN=a.example", NULL), 0);

	csr = parse_file("rsa2048", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK(csr != NULL);
	CHECK_EQ_INT(crypto_csr_names(csr, &names), 1);
	CHECK_EQ_INT(names[0].type, CRYPTO_NAME_DNS);
	CHECK_EQ_STR(names[0].value, "a.example");
	CHECK_EQ_STR(crypto_csr_common_name(csr), "a.example");
	check_thumbprint_rsa(csr, "rsa2048");
	crypto_csr_free(csr);

	csr = parse_file("rsa4096", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	check_thumbprint_rsa(csr, "rsa4096");
	crypto_csr_free(csr);

	csr = parse_file("p256", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	check_thumbprint_ec(csr, "p256", "P-256", 32);
	crypto_csr_free(csr);

	csr = parse_file("p384", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	check_thumbprint_ec(csr, "p384", "P-384", 48);
	crypto_csr_free(csr);

	csr = parse_file("ed25519", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	check_thumbprint_ed25519(csr, "ed25519");
	crypto_csr_free(csr);
}

static void
test_refused_keys(void)
{
	int err;

	CHECK_EQ_INT(make_csr("rsa1024", "rsa:1024", "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("p521", "ec -pkeyopt ec_paramgen_curve:P-521",
	    "/CN=a.example", NULL), 0);
	CHECK_EQ_INT(make_csr("ed448", "ed448", "/CN=a.example", NULL), 0);
	CHECK(parse_file("rsa1024", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_KEY_SIZE);
	CHECK(parse_file("p521", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_UNSUPPORTED);
	CHECK(parse_file("ed448", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_UNSUPPORTED);
}

static void
test_names(void)
{
	struct crypto_csr *csr;
	const struct crypto_name *names;
	size_t n;
	int err;

	CHECK_EQ_INT(make_csr("san", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=Foo.Example", "DNS:a.example,DNS:*.B.example,IP:10.0.0.1,"
	    "IP:2001:DB8:0:0::1,DNS:a.example"), 0);
	csr = parse_file("san", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	n = crypto_csr_names(csr, &names);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		CHECK_EQ_INT(names[0].type, CRYPTO_NAME_DNS);
		CHECK_EQ_STR(names[0].value, "a.example");
		CHECK_EQ_INT(names[1].type, CRYPTO_NAME_DNS);
		CHECK_EQ_STR(names[1].value, "*.b.example");
		CHECK_EQ_INT(names[2].type, CRYPTO_NAME_IP);
		CHECK_EQ_STR(names[2].value, "10.0.0.1");
		CHECK_EQ_INT(names[3].type, CRYPTO_NAME_IP);
		CHECK_EQ_STR(names[3].value, "2001:db8::1");
		CHECK_EQ_INT(names[4].type, CRYPTO_NAME_DNS);
		CHECK_EQ_STR(names[4].value, "foo.example");   /* the CN */
	}
	CHECK_EQ_STR(crypto_csr_common_name(csr), "Foo.Example");
	crypto_csr_free(csr);

	/* The CN already among the SANs is not repeated; no CN at all. */
	CHECK_EQ_INT(make_csr("nocn", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/O=Org", "IP:192.0.2.7"), 0);
	csr = parse_file("nocn", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK_EQ_INT(crypto_csr_names(csr, &names), 1);
	CHECK(crypto_csr_common_name(csr) == NULL);
	crypto_csr_free(csr);

	CHECK_EQ_INT(make_csr("badsan", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", "DNS:bad_name.example"), 0);
	CHECK(parse_file("badsan", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_NAME);
	CHECK_EQ_INT(make_csr("badcn", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=My Server", "DNS:a.example"), 0);
	CHECK(parse_file("badcn", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_NAME);
	CHECK_EQ_INT(make_csr("email", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", "email:a@example.com"), 0);
	CHECK(parse_file("email", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_NAME);
	CHECK_EQ_INT(make_csr("uri", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", "URI:https://a.example/"), 0);
	CHECK(parse_file("uri", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_NAME);
}

/* CRYPTO_MAX_NAMES names are fine; one more is too many. */
static void
test_name_cap(void)
{
	struct crypto_csr *csr;
	char san[2600];
	size_t len = 0;
	int i, err;

	for (i = 0; i < CRYPTO_MAX_NAMES; i++)
		len += (size_t)snprintf(san + len, sizeof(san) - len, "%sDNS:n%d.ex",
		    i > 0 ? "," : "", i);
	CHECK_EQ_INT(make_csr("cap", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/O=x", san), 0);
	csr = parse_file("cap", &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK_EQ_INT(crypto_csr_names(csr, NULL), CRYPTO_MAX_NAMES);
	crypto_csr_free(csr);
	snprintf(san + len, sizeof(san) - len, ",DNS:one-more.ex");
	CHECK_EQ_INT(make_csr("cap", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/O=x", san), 0);
	CHECK(parse_file("cap", &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_TOO_LARGE);
}

static void
test_dns_syntax(void)
{
	static const char *const bad[] = {
		"-a.example", "a-.example", "a..example", "a.example.", ".a.example",
		"*", "*.", "a.*.example", "**.example", "a b.example",
		"xn--\xc3\xa9.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	char san[600];
	struct crypto_csr *csr;
	size_t i;
	int err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(san, sizeof(san), "DNS:%s", bad[i]);
		CHECK_EQ_INT(make_csr("dns", "ec -pkeyopt ec_paramgen_curve:P-256",
		    "/O=x", san), 0);
		csr = parse_file("dns", &err);
		if (csr != NULL)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK(csr == NULL);
		CHECK_EQ_INT(err, CRYPTO_ERR_NAME);
		crypto_csr_free(csr);
	}
}

static void
test_malformed(void)
{
	struct crypto_csr *csr;
	uint8_t *der, big[CRYPTO_MAX_CSR_BYTES + 1];
	char *pem;
	size_t len = 0, plen = 0, i;
	int err;

	der = (uint8_t *)pt_slurp(pt_path("p256.der"), &len);
	CHECK(der != NULL && len > 100);
	if (der == NULL)
		return;

	/* A flipped signature byte. */
	der[len - 1] ^= 0x01;
	CHECK(crypto_csr_parse_der(der, len, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_SIGNATURE);
	der[len - 1] ^= 0x01;
	/* A flipped byte inside the signed part (the public key). */
	der[len - 80] ^= 0x01;
	CHECK(crypto_csr_parse_der(der, len, &err) == NULL);
	CHECK(err == CRYPTO_ERR_SIGNATURE || err == CRYPTO_ERR_PARSE);
	der[len - 80] ^= 0x01;
	csr = crypto_csr_parse_der(der, len, &err);
	CHECK(csr != NULL);
	crypto_csr_free(csr);

	for (i = 1; i < len; i += 7) {
		CHECK(crypto_csr_parse_der(der, len - i, &err) == NULL);
		CHECK_EQ_INT(err, CRYPTO_ERR_PARSE);
	}
	CHECK(crypto_csr_parse_der((const uint8_t *)"garbage!", 8, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PARSE);
	CHECK(crypto_csr_parse_der((const uint8_t *)"", 0, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PARSE);
	memset(big, 0x30, sizeof(big));
	CHECK(crypto_csr_parse_der(big, sizeof(big), &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_TOO_LARGE);
	free(der);

	/* Ed25519 and RSA signatures are checked too. */
	der = (uint8_t *)pt_slurp(pt_path("ed25519.der"), &len);
	CHECK(der != NULL);
	der[len - 5] ^= 0x80;
	CHECK(crypto_csr_parse_der(der, len, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_SIGNATURE);
	free(der);
	der = (uint8_t *)pt_slurp(pt_path("rsa2048.der"), &len);
	CHECK(der != NULL);
	der[len - 5] ^= 0x80;
	CHECK(crypto_csr_parse_der(der, len, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_SIGNATURE);
	free(der);

	/* PEM: the right label parses, a wrong one does not. */
	CHECK_EQ_INT(pt_run("openssl req -in %s/san.der -inform DER -out %s/san.pem",
	    pt_dir, pt_dir), 0);
	pem = pt_slurp(pt_path("san.pem"), &plen);
	CHECK(pem != NULL);
	csr = crypto_csr_parse_pem(pem, plen, &err);
	CHECK(csr != NULL);
	CHECK_EQ_INT(err, CRYPTO_OK);
	crypto_csr_free(csr);
	memcpy(strstr(pem, "BEGIN CERTIFICATE REQUEST"), "BEGIN CERTIFICATE REQUESX", 25);
	CHECK(crypto_csr_parse_pem(pem, plen, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PARSE);
	free(pem);
	CHECK(crypto_csr_parse_pem("-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n", 59, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PARSE);
}

int
main(void)
{
	if (crypto_init() != 0)
		return 2;
	pt_tmpdir("test_csr");
	test_accepted();
	test_refused_keys();
	test_names();
	test_name_cap();
	test_dns_syntax();
	test_malformed();
	crypto_cleanup();
	return CHECK_DONE();
}
