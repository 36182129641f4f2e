/*
 * test_ca.c: creating and importing CAs (crypto_ca_create, crypto_ca_import)
 * and opening the signer, checked against the openssl command line: file
 * modes, the encrypted root key, certificate extensions, chains, and the
 * refusals (existing files, wrong passphrases, mismatched or non-CA roots,
 * malformed files).
 */
#include "check.h"
#include "crypto.h"
#include "crypto_internal.h"
#include "pki_test.h"

#include <time.h>
#include <unistd.h>

static time_t now;

static struct crypto_ca_params
params(enum crypto_key_type type)
{
	struct crypto_ca_params p;

	memset(&p, 0, sizeof(p));
	p.key_type = type;
	p.ca_name = "hearth";
	p.root_days = 3650;
	p.intermediate_days = 1825;
	p.now = now;
	return p;
}

static int
mode_of(const char *ca, const char *name)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/%s", ca, name);
	return pt_mode(path);
}

static void
check_files(const char *ca, int with_pass, int inter_encrypted)
{
	char path[2048];
	char *key;

	CHECK_EQ_INT(pt_mode(ca), 0700);
	CHECK_EQ_INT(mode_of(ca, "root.crt"), 0644);
	CHECK_EQ_INT(mode_of(ca, "root.key"), 0600);
	CHECK_EQ_INT(mode_of(ca, "root.pass"), with_pass ? 0600 : -1);
	CHECK_EQ_INT(mode_of(ca, "intermediate.crt"), 0644);
	CHECK_EQ_INT(mode_of(ca, "intermediate.key"), 0600);
	CHECK_EQ_INT(mode_of(ca, "root.key.tmp"), -1);
	CHECK_EQ_INT(mode_of(ca, "intermediate.crt.tmp"), -1);
	CHECK(crypto_ca_exists(ca));
	snprintf(path, sizeof(path), "%s/root.key", ca);
	key = pt_slurp(path, NULL);
	CHECK(key != NULL &&
	    strncmp(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38) == 0);
	free(key);
	snprintf(path, sizeof(path), "%s/intermediate.key", ca);
	key = pt_slurp(path, NULL);
	CHECK(key != NULL && strncmp(key, inter_encrypted ?
	    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" :
	    "-----BEGIN PRIVATE KEY-----\n", inter_encrypted ? 38 : 28) == 0);
	free(key);
}

/* The root key is PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC and openssl
 * reads it with the passphrase file. */
static void
check_root_key(const char *ca, const char *passin)
{
	char cmd[4096];

	CHECK_EQ_INT(pt_run("openssl pkey -in %s/root.key -passin %s -noout",
	    ca, passin), 0);
	CHECK(pt_run("openssl pkey -in %s/root.key -passin pass:wrong -noout",
	    ca) != 0);
	snprintf(cmd, sizeof(cmd), "openssl asn1parse -in %s/root.key", ca);
	CHECK(pt_output_has(cmd, ":PBES2"));
	CHECK(pt_output_has(cmd, ":hmacWithSHA256"));
	CHECK(pt_output_has(cmd, ":aes-256-cbc"));
	CHECK(pt_output_has(cmd, ":0927C0"));   /* 600000 iterations */
}

static void
check_certs(const char *ca, const char *sigalg)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/root.crt "
	    "%s/intermediate.crt", ca, ca);
	CHECK(pt_output_has(cmd, "intermediate.crt: OK"));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/root.crt -noout -text", ca);
	CHECK(pt_output_has(cmd, "Basic Constraints: critical\n"
	    "                CA:TRUE\n"));
	CHECK(pt_output_has(cmd, "Key Usage: critical\n"
	    "                Certificate Sign, CRL Sign\n"));
	CHECK(pt_output_has(cmd, "Subject Key Identifier"));
	CHECK(pt_output_has(cmd, "Subject: O = hearth, CN = hearth Root CA"));
	CHECK(pt_output_has(cmd, sigalg));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/intermediate.crt "
	    "-noout -text", ca);
	CHECK(pt_output_has(cmd, "Basic Constraints: critical\n"
	    "                CA:TRUE, pathlen:0\n"));
	CHECK(pt_output_has(cmd, "Key Usage: critical\n"
	    "                Digital Signature, Certificate Sign, CRL Sign\n"));
	CHECK(pt_output_has(cmd, "Authority Key Identifier"));
	CHECK(pt_output_has(cmd, "Subject Key Identifier"));
	CHECK(pt_output_has(cmd, "Subject: O = hearth, CN = hearth Intermediate CA"));
	CHECK(pt_output_has(cmd, sigalg));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/root.crt -noout -serial",
	    ca);
	CHECK(pt_output_has(cmd, "serial="));
}

/* Validity comes from p->now: notBefore an hour earlier, notAfter days on. */
static void
check_dates(const char *ca, const char *name, time_t nb, time_t na)
{
	char cmd[4096], want[64];
	struct tm tm;

	gmtime_r(&nb, &tm);
	strftime(want, sizeof(want), "notBefore=%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s -noout -startdate "
	    "-dateopt iso_8601", ca, name);
	CHECK(pt_output_has(cmd, want));
	gmtime_r(&na, &tm);
	strftime(want, sizeof(want), "notAfter=%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s -noout -enddate "
	    "-dateopt iso_8601", ca, name);
	CHECK(pt_output_has(cmd, want));
}

static void
test_create(const char *tag, enum crypto_key_type type, const char *sigalg)
{
	struct crypto_ca_params p = params(type);
	struct crypto_signer *s;
	char ca[1024];
	char passin[1200];
	size_t derlen = 0;
	int gen = -1, err = 1;

	snprintf(ca, sizeof(ca), "%s", pt_path("%s/ca", tag));
	CHECK_EQ_INT(pt_run("mkdir %s", pt_path("%s", tag)), 0);
	CHECK(!crypto_ca_exists(ca));
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	CHECK_EQ_INT(gen, 1);
	check_files(ca, 1, 0);
	snprintf(passin, sizeof(passin), "file:%s/root.pass", ca);
	check_root_key(ca, passin);
	check_certs(ca, sigalg);
	check_dates(ca, "root.crt", now - 3600, now + 3650L * 86400);
	check_dates(ca, "intermediate.crt", now - 3600, now + 1825L * 86400);
	CHECK_EQ_INT(pt_run("openssl pkey -in %s/intermediate.key -noout", ca), 0);

	s = crypto_signer_open(ca, NULL, 0, NULL, &err);
	CHECK(s != NULL);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK_EQ_INT(crypto_signer_not_after(s), now + 1825L * 86400);
	CHECK(crypto_signer_chain_pem(s) != NULL && strncmp(
	    crypto_signer_chain_pem(s), "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	CHECK(crypto_signer_cert_der(s, &derlen) != NULL && derlen > 300);
	crypto_signer_free(s);

	/* Refuses to overwrite. */
	gen = -1;
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_ERR_EXISTS);
	CHECK_EQ_INT(gen, 0);
}

static void
test_passphrases(void)
{
	struct crypto_ca_params p = params(CRYPTO_KEY_EC_P256);
	struct crypto_signer *s;
	char ca[1024];
	char cmd[4096];
	int gen = -1, err = 0;

	snprintf(ca, sizeof(ca), "%s", pt_path("pass/ca"));
	p.root_passphrase = "root secret";
	p.root_passphrase_len = strlen(p.root_passphrase);
	p.intermediate_passphrase = "inter secret";
	p.intermediate_passphrase_len = strlen(p.intermediate_passphrase);
	p.root_days = 100;
	p.intermediate_days = 200;      /* capped at the root's notAfter */
	p.ca_name = "Example Corp";
	CHECK_EQ_INT(pt_run("mkdir %s", pt_path("pass")), 0);
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	CHECK_EQ_INT(gen, 0);
	check_files(ca, 0, 1);
	check_root_key(ca, "pass:'root secret'");
	CHECK_EQ_INT(pt_run("openssl pkey -in %s/intermediate.key "
	    "-passin 'pass:inter secret' -noout", ca), 0);
	check_dates(ca, "intermediate.crt", now - 3600, now + 100L * 86400);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/root.crt -noout "
	    "-subject", ca);
	CHECK(pt_output_has(cmd, "subject=O = Example Corp, CN = Example Corp "
	    "Root CA"));

	s = crypto_signer_open(ca, NULL, 0, NULL, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PASSPHRASE);
	s = crypto_signer_open(ca, "wrong", 5, NULL, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PASSPHRASE);
	s = crypto_signer_open(ca, "inter secret", 12, NULL, &err);
	CHECK(s != NULL);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK_EQ_INT(crypto_signer_not_after(s), now + 100L * 86400);
	crypto_signer_free(s);

	/* Signer refusals: missing directory, mismatched key. */
	s = crypto_signer_open(pt_path("nowhere"), NULL, 0, NULL, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_IO);
}

static void
test_params(void)
{
	struct crypto_ca_params p = params(CRYPTO_KEY_EC_P256);
	int gen;

	CHECK_EQ_INT(crypto_ca_create(NULL, &p, &gen), CRYPTO_ERR_INVALID);
	p.ca_name = "a name far too long to fit in a sixty-four character CN";
	CHECK_EQ_INT(crypto_ca_create(pt_path("bad"), &p, &gen),
	    CRYPTO_ERR_INVALID);
	p = params((enum crypto_key_type)42);
	CHECK_EQ_INT(crypto_ca_create(pt_path("bad"), &p, &gen),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK(!pt_exists(pt_path("bad")));
}

static void
test_key_type_parse(void)
{
	enum crypto_key_type t;

	CHECK_EQ_INT(crypto_key_type_parse("ec-p256", &t), CRYPTO_OK);
	CHECK_EQ_INT(t, CRYPTO_KEY_EC_P256);
	CHECK_EQ_INT(crypto_key_type_parse("ec-p384", &t), CRYPTO_OK);
	CHECK_EQ_INT(t, CRYPTO_KEY_EC_P384);
	CHECK_EQ_INT(crypto_key_type_parse("rsa-4096", &t), CRYPTO_OK);
	CHECK_EQ_INT(t, CRYPTO_KEY_RSA_4096);
	CHECK_EQ_INT(crypto_key_type_parse("rsa-2048", &t), CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(crypto_key_type_parse("", &t), CRYPTO_ERR_UNSUPPORTED);
}

/* ---- import ----------------------------------------------------------------- */

static int
import(const char *ca, const char *crt, const char *key, const char *pass,
    int *gen)
{
	struct crypto_ca_params p = params(CRYPTO_KEY_EC_P256);

	return crypto_ca_import(ca, crt, key, pass,
	    pass != NULL ? strlen(pass) : 0, &p, gen);
}

static void
test_import_openssl(void)
{
	char d[1024];
	char ca[1024];
	char cmd[4096], *a, *b;
	struct crypto_signer *s;
	int gen = -1, err = 1;

	snprintf(d, sizeof(d), "%s", pt_path("imp"));
	snprintf(ca, sizeof(ca), "%s", pt_path("imp/ca"));
	CHECK_EQ_INT(pt_run("mkdir %s", d), 0);
	/* Exactly the operator's commands from the documentation. */
	CHECK_EQ_INT(pt_run("cd %s && openssl genrsa -aes256 -passout pass:opensesame "
	    "-out ca.key 4096", d), 0);
	CHECK_EQ_INT(pt_run("cd %s && openssl req -x509 -new -key ca.key "
	    "-passin pass:opensesame -sha256 -days 3650 -out ca.crt "
	    "-subj \"/CN=MyInternalCA\"", d), 0);

	CHECK_EQ_INT(import(ca, pt_path("imp/ca.crt"), pt_path("imp/ca.key"),
	    "opensesamf", &gen), CRYPTO_ERR_PASSPHRASE);
	CHECK_EQ_INT(import(ca, pt_path("imp/ca.crt"), pt_path("imp/ca.key"),
	    NULL, &gen), CRYPTO_ERR_PASSPHRASE);
	CHECK(!pt_exists(ca));
	CHECK_EQ_INT(import(ca, pt_path("imp/ca.crt"), pt_path("imp/ca.key"),
	    "opensesame", &gen), CRYPTO_OK);
	CHECK_EQ_INT(gen, 1);
	check_files(ca, 1, 0);

	/* root.crt is the operator's certificate; root.key the same key. */
	a = pt_output("openssl x509 -in %s/ca.crt -noout -fingerprint -sha256", d);
	b = pt_output("openssl x509 -in %s/root.crt -noout -fingerprint -sha256",
	    ca);
	CHECK(a != NULL && b != NULL && strlen(a) > 20 && strcmp(a, b) == 0);
	free(a);
	free(b);
	a = pt_output("openssl pkey -in %s/ca.key -passin pass:opensesame -pubout", d);
	b = pt_output("openssl pkey -in %s/root.key -passin file:%s/root.pass "
	    "-pubout", ca, ca);
	CHECK(a != NULL && b != NULL && strlen(a) > 20 && strcmp(a, b) == 0);
	free(a);
	free(b);
	snprintf(cmd, sizeof(cmd), "openssl asn1parse -in %s/root.key", ca);
	CHECK(pt_output_has(cmd, ":hmacWithSHA256"));
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/root.crt "
	    "%s/intermediate.crt", ca, ca);
	CHECK(pt_output_has(cmd, "intermediate.crt: OK"));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/intermediate.crt "
	    "-noout -text", ca);
	CHECK(pt_output_has(cmd, "Issuer: CN = MyInternalCA"));
	CHECK(pt_output_has(cmd, "sha256WithRSAEncryption"));
	CHECK(pt_output_has(cmd, "CA:TRUE, pathlen:0"));
	CHECK(pt_output_has(cmd, "Public-Key: (256 bit)"));

	s = crypto_signer_open(ca, NULL, 0, NULL, &err);
	CHECK(s != NULL);
	CHECK_EQ_INT(err, CRYPTO_OK);
	crypto_signer_free(s);

	CHECK_EQ_INT(import(ca, pt_path("imp/ca.crt"), pt_path("imp/ca.key"),
	    "opensesame", &gen), CRYPTO_ERR_EXISTS);
}

static void
test_import_plain(void)
{
	char d[1024];
	char cmd[4096];
	int gen;

	snprintf(d, sizeof(d), "%s", pt_path("plain"));
	CHECK_EQ_INT(pt_run("mkdir %s", d), 0);
	/* SEC1 "EC PRIVATE KEY" and unencrypted PKCS#8 RSA. */
	CHECK_EQ_INT(pt_run("cd %s && openssl ecparam -name secp384r1 -genkey "
	    "-noout -out ec.key && openssl req -x509 -new -key ec.key -days 30 "
	    "-subj /CN=EcRoot -out ec.crt", d), 0);
	CHECK_EQ_INT(pt_run("cd %s && openssl genrsa -out rsa.key 2048 && "
	    "openssl req -x509 -new -key rsa.key -days 30 -subj /CN=RsaRoot "
	    "-out rsa.crt", d), 0);
	CHECK_EQ_INT(import(pt_path("plain/ca-ec"), pt_path("plain/ec.crt"),
	    pt_path("plain/ec.key"), NULL, &gen), CRYPTO_OK);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/ca-ec/root.crt "
	    "%s/ca-ec/intermediate.crt", d, d);
	CHECK(pt_output_has(cmd, ": OK"));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/ca-ec/intermediate.crt "
	    "-noout -text", d);
	CHECK(pt_output_has(cmd, "ecdsa-with-SHA384"));
	/* notAfter capped at the root's 30 days */
	CHECK(pt_output_has(cmd, "Issuer: CN = EcRoot"));
	CHECK_EQ_INT(import(pt_path("plain/ca-rsa"), pt_path("plain/rsa.crt"),
	    pt_path("plain/rsa.key"), NULL, &gen), CRYPTO_OK);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/ca-rsa/root.crt "
	    "%s/ca-rsa/intermediate.crt", d, d);
	CHECK(pt_output_has(cmd, ": OK"));
	/* A passphrase given for an unencrypted key is ignored. */
	CHECK_EQ_INT(import(pt_path("plain/ca-rsa2"), pt_path("plain/rsa.crt"),
	    pt_path("plain/rsa.key"), "unused", &gen), CRYPTO_OK);
}

static void
test_import_refusals(void)
{
	char d[1024];
	char ca[1024];
	char *pem;
	size_t len;
	int gen;

	snprintf(d, sizeof(d), "%s", pt_path("bad"));
	snprintf(ca, sizeof(ca), "%s", pt_path("bad/ca"));
	CHECK_EQ_INT(pt_run("mkdir %s", d), 0);
	CHECK_EQ_INT(pt_run("cd %s && openssl ecparam -name prime256v1 -genkey "
	    "-noout -out other.key && openssl genpkey -algorithm EC "
	    "-pkeyopt ec_paramgen_curve:P-256 -out leaf.key && "
	    "openssl req -x509 -new -key leaf.key -days 30 -subj /CN=leaf "
	    "-addext basicConstraints=critical,CA:FALSE -out leaf.crt && "
	    "openssl req -x509 -new -key leaf.key -days 30 -subj /CN=root "
	    "-out root.crt", d), 0);

	CHECK_EQ_INT(import(ca, pt_path("bad/root.crt"), pt_path("bad/other.key"),
	    NULL, &gen), CRYPTO_ERR_MISMATCH);
	CHECK_EQ_INT(import(ca, pt_path("bad/leaf.crt"), pt_path("bad/leaf.key"),
	    NULL, &gen), CRYPTO_ERR_NOT_CA);
	CHECK_EQ_INT(import(ca, pt_path("bad/missing.crt"),
	    pt_path("bad/leaf.key"), NULL, &gen), CRYPTO_ERR_IO);

	/* Garbage and truncated files. */
	CHECK_EQ_INT(pt_spit(pt_path("bad/garbage"), "not a PEM file\n", 15), 0);
	CHECK_EQ_INT(import(ca, pt_path("bad/garbage"), pt_path("bad/leaf.key"),
	    NULL, &gen), CRYPTO_ERR_PARSE);
	/* As a key, the garbage is first refused for its mode (0644). */
	CHECK_EQ_INT(import(ca, pt_path("bad/root.crt"), pt_path("bad/garbage"),
	    NULL, &gen), CRYPTO_ERR_FILE_MODE);
	CHECK_EQ_INT(chmod(pt_path("bad/garbage"), 0600), 0);
	CHECK_EQ_INT(import(ca, pt_path("bad/root.crt"), pt_path("bad/garbage"),
	    NULL, &gen), CRYPTO_ERR_PARSE);
	pem = pt_slurp(pt_path("bad/root.crt"), &len);
	CHECK(pem != NULL);
	CHECK_EQ_INT(pt_spit(pt_path("bad/trunc.crt"), pem, len / 2), 0);
	memcpy(pem + len / 2, "\n-----END CERTIFICATE-----\n", 27);
	CHECK_EQ_INT(pt_spit(pt_path("bad/trunc2.crt"), pem, len / 2 + 27), 0);
	free(pem);
	CHECK_EQ_INT(import(ca, pt_path("bad/trunc.crt"), pt_path("bad/leaf.key"),
	    NULL, &gen), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(import(ca, pt_path("bad/trunc2.crt"), pt_path("bad/leaf.key"),
	    NULL, &gen), CRYPTO_ERR_PARSE);
	pem = pt_slurp(pt_path("bad/leaf.key"), &len);
	CHECK(pem != NULL);
	memcpy(pem + len / 2, "\n-----END PRIVATE KEY-----\n", 27);
	CHECK_EQ_INT(pt_spit(pt_path("bad/trunc.key"), pem, len / 2 + 27), 0);
	CHECK_EQ_INT(chmod(pt_path("bad/trunc.key"), 0600), 0);
	free(pem);
	CHECK_EQ_INT(import(ca, pt_path("bad/root.crt"), pt_path("bad/trunc.key"),
	    NULL, &gen), CRYPTO_ERR_PARSE);
	CHECK(!pt_exists(ca));
}

int
main(void)
{
	if (crypto_init() != 0)
		return 2;
	now = time(NULL);
	pt_tmpdir("test_ca");
	test_key_type_parse();
	test_params();
	test_create("p256", CRYPTO_KEY_EC_P256, "ecdsa-with-SHA256");
	test_create("p384", CRYPTO_KEY_EC_P384, "ecdsa-with-SHA384");
	test_create("rsa", CRYPTO_KEY_RSA_4096, "sha256WithRSAEncryption");
	test_passphrases();
	test_import_openssl();
	test_import_plain();
	test_import_refusals();
	crypto_cleanup();
	return CHECK_DONE();
}
