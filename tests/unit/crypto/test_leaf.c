/*
 * test_leaf.c: issuing leaf certificates (crypto_signer_issue) for each key
 * type a CSR may carry, and the server's own TLS certificate
 * (crypto_signer_issue_tls). Every chain is checked with `openssl verify`
 * and the extensions, serial and validity with `openssl x509`; profiles
 * decide usages and the longest validity; leaves carry the CRL and issuer
 * (and OCSP) URLs of the signer's pki_url.
 */
#include "check.h"
#include "crypto.h"
#include "crypto_internal.h"
#include "pki_test.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>
#include <time.h>

static time_t now;
static char ca_dir[1024];

#define PKI_URL "http://pki.corp.internal:8080"

static const struct crypto_name tls_names[] = {
	{ CRYPTO_NAME_DNS, "localhost" },
	{ CRYPTO_NAME_IP, "127.0.0.1" },
};

/* The clock, read again: the signer reads its own. */
static time_t
fresh(void)
{
	return now = time(NULL);
}

/* A CA and a signer for it; with_urls: the TLS names, pki_url and OCSP. */
static struct crypto_signer *
make_ca(const char *name, enum crypto_key_type type, int with_urls)
{
	struct crypto_signer_config cfg;
	struct crypto_ca_params p;
	struct crypto_signer *s;
	int gen, err;

	memset(&p, 0, sizeof(p));
	p.key_type = type;
	p.now = now;
	snprintf(ca_dir, sizeof(ca_dir), "%s", pt_path("%s", name));
	CHECK_EQ_INT(crypto_ca_create(ca_dir, &p, &gen), CRYPTO_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.tls_names = tls_names;
	cfg.n_tls_names = 2;
	if (with_urls) {
		cfg.pki_url = PKI_URL;
		cfg.ocsp = 1;
	}
	s = crypto_signer_open(ca_dir, NULL, 0, &cfg, &err);
	CHECK(s != NULL);
	return s;
}

static struct crypto_csr *
make_csr(const char *name, const char *newkey, const char *subj,
    const char *san)
{
	struct crypto_csr *csr;
	char *pem;
	size_t len = 0;
	int err;

	CHECK_EQ_INT(pt_run("cd %s && openssl req -new -newkey %s -nodes "
	    "-keyout %s.key -subj '%s' -addext 'subjectAltName=%s' -out %s.csr",
	    pt_dir, newkey, name, subj, san, name), 0);
	if ((pem = pt_slurp(pt_path("%s.csr", name), &len)) == NULL)
		return NULL;
	csr = crypto_csr_parse_pem(pem, len, &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	free(pem);
	return csr;
}

static void
write_pem(const char *name, const uint8_t *der, size_t len)
{
	char *pem = crypto_cert_der_to_pem(der, len);

	CHECK(pem != NULL && strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	if (pem != NULL)
		CHECK_EQ_INT(pt_spit(pt_path("%s.crt", name), pem, strlen(pem)), 0);
	free(pem);
}

static void
check_verify(const char *name)
{
	char cmd[4096], want[1200];

	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/root.crt "
	    "-untrusted %s/intermediate.crt %s/%s.crt 2>&1", ca_dir, ca_dir,
	    pt_dir, name);
	snprintf(want, sizeof(want), "%s/%s.crt: OK\n", pt_dir, name);
	CHECK(pt_output_has(cmd, want));
}

static void
check_dates(const char *name, time_t nb, time_t na)
{
	char cmd[4096], want[64];
	struct tm tm;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.crt -noout -dates "
	    "-dateopt iso_8601", pt_dir, name);
	gmtime_r(&nb, &tm);
	strftime(want, sizeof(want), "notBefore=%Y-%m-%d %H:%M:%SZ", &tm);
	CHECK(pt_output_has(cmd, want));
	gmtime_r(&na, &tm);
	strftime(want, sizeof(want), "notAfter=%Y-%m-%d %H:%M:%SZ", &tm);
	CHECK(pt_output_has(cmd, want));
}

static void
check_serial(const char *name, const char *serial)
{
	char *out;

	CHECK_EQ_INT(strlen(serial), 2 * CRYPTO_SERIAL_BYTES);
	out = pt_output("openssl x509 -in %s/%s.crt -noout -serial", pt_dir, name);
	CHECK(out != NULL && strncmp(out, "serial=", 7) == 0 &&
	    strlen(out) == 7 + 32 + 1 && strncasecmp(out + 7, serial, 32) == 0);
	free(out);
}

/* Hex pairs (optionally ':'-separated, either case) into bytes. */
static size_t
unhex(const char *s, uint8_t *out, size_t outsz)
{
	size_t n = 0;
	unsigned v;

	while (n < outsz && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
		if (*s == ':')
			s++;
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			break;
	}
	return n;
}

/* RFC 9773 §4.1 certID, rebuilt from what openssl prints: the AKI key
 * identifier and the serial (with a 0x00 when its high bit is set). */
static void
check_ari(const char *name, const uint8_t *der, size_t len)
{
	char *aki_txt, *ser_txt, *p, want[CRYPTO_ARI_ID_MAX], got[CRYPTO_ARI_ID_MAX];
	uint8_t aki[64], ser[22];
	size_t na = 0, ns = 0;
	int n;

	aki_txt = pt_output("openssl x509 -in %s/%s.crt -noout -ext "
	    "authorityKeyIdentifier", pt_dir, name);
	ser_txt = pt_output("openssl x509 -in %s/%s.crt -noout -serial", pt_dir, name);
	if (aki_txt != NULL && (p = strchr(aki_txt, '\n')) != NULL) {
		p += strspn(p, " \n");
		if (strncmp(p, "keyid:", 6) == 0)
			p += 6;
		na = unhex(p, aki, sizeof(aki));
	}
	if (ser_txt != NULL && strncmp(ser_txt, "serial=", 7) == 0) {
		ser[0] = 0;
		ns = unhex(ser_txt + 7, ser + 1, sizeof(ser) - 1);
	}
	CHECK_EQ_INT(na, 20);
	CHECK(ns > 0);
	n = crypto_b64url_encode(aki, na, want, sizeof(want));
	CHECK(n > 0);
	want[n] = '.';
	crypto_b64url_encode((ser[1] & 0x80) ? ser : ser + 1,
	    (ser[1] & 0x80) ? ns + 1 : ns, want + n + 1, sizeof(want) - (size_t)n - 1);
	CHECK_EQ_INT(crypto_cert_ari_id(der, len, got, sizeof(got)), CRYPTO_OK);
	CHECK_EQ_STR(got, want);
	CHECK_EQ_INT(crypto_cert_ari_id(der, len, got, 20), CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crypto_cert_ari_id(der, len / 2, got, sizeof(got)),
	    CRYPTO_ERR_PARSE);
	free(aki_txt);
	free(ser_txt);
}

/* The extensions of the ACME profile. */
static void
check_text(const char *name, int rsa, const char *subject, const char *sigalg)
{
	char cmd[4096], *out;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.crt -noout -text",
	    pt_dir, name);
	CHECK(pt_output_has(cmd, rsa ? "X509v3 Key Usage: critical\n"
	    "                Digital Signature, Key Encipherment\n" :
	    "X509v3 Key Usage: critical\n                Digital Signature\n"));
	CHECK(pt_output_has(cmd, "X509v3 Extended Key Usage: \n"
	    "                TLS Web Server Authentication, "
	    "TLS Web Client Authentication\n"));
	CHECK(pt_output_has(cmd, "X509v3 Basic Constraints: critical\n"
	    "                CA:FALSE\n"));
	CHECK(pt_output_has(cmd, "X509v3 Subject Key Identifier"));
	CHECK(pt_output_has(cmd, "X509v3 Authority Key Identifier"));
	CHECK(pt_output_has(cmd, subject));
	CHECK(pt_output_has(cmd, sigalg));
	out = pt_output("%s", cmd);
	CHECK(out != NULL && strstr(out, "CA:TRUE") == NULL);
	free(out);
}

static const struct crypto_name allowed[] = {
	{ CRYPTO_NAME_DNS, "a.example" },
	{ CRYPTO_NAME_DNS, "www.a.example" },
	{ CRYPTO_NAME_DNS, "*.b.example" },
	{ CRYPTO_NAME_IP, "10.0.0.1" },
	{ CRYPTO_NAME_IP, "2001:db8::1" },
};

static void
issue_one(struct crypto_signer *s, const char *name, const char *newkey,
    int rsa, const char *sigalg)
{
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	struct crypto_csr *csr;
	char cmd[4096];

	csr = make_csr(name, newkey, "/CN=a.example",
	    "DNS:a.example,DNS:www.a.example,DNS:*.b.example,IP:10.0.0.1,"
	    "IP:2001:db8::1");
	CHECK(csr != NULL);
	if (csr == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = sizeof(allowed) / sizeof(allowed[0]);
	p.not_before = fresh() - 300;   /* the most backdating allowed */
	p.not_after = p.not_before + 90 * 86400 + 300;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_OK);
	CHECK_EQ_INT(leaf.not_before, p.not_before);
	CHECK_EQ_INT(leaf.not_after, p.not_after);
	write_pem(name, leaf.der, leaf.der_len);
	check_verify(name);
	check_serial(name, leaf.serial);
	check_ari(name, leaf.der, leaf.der_len);
	check_dates(name, p.not_before, p.not_after);
	check_text(name, rsa, "Subject: CN = a.example\n", sigalg);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.crt -noout -ext "
	    "subjectAltName", pt_dir, name);
	CHECK(pt_output_has(cmd, "X509v3 Subject Alternative Name: \n"
	    "    DNS:a.example, DNS:www.a.example, DNS:*.b.example, "
	    "IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1\n"));
	/* The leaf carries the CSR's key. */
	snprintf(cmd, sizeof(cmd), "cd %s && openssl x509 -in %s.crt -noout "
	    "-pubkey > %s.cpub && openssl pkey -in %s.key -pubout > %s.kpub && "
	    "cmp %s.cpub %s.kpub", pt_dir, name, name, name, name, name, name);
	CHECK_EQ_INT(pt_run("%s", cmd), 0);
	crypto_leaf_clear(&leaf);
	CHECK(leaf.der == NULL);
	crypto_csr_free(csr);
}

static void
test_refusals(struct crypto_signer *s)
{
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	struct crypto_csr *csr;

	csr = make_csr("outside", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", "DNS:a.example,DNS:evil.example");
	CHECK(csr != NULL);
	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = sizeof(allowed) / sizeof(allowed[0]);
	p.not_before = fresh();
	p.not_after = now + 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_NAME);
	CHECK(leaf.der == NULL);
	crypto_csr_free(csr);

	/* An IP allowed as DNS text is not the same name. */
	csr = make_csr("iptype", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/O=x", "IP:10.0.0.2");
	p.allowed = (const struct crypto_name[]){ { CRYPTO_NAME_DNS, "10.0.0.2" } };
	p.n_allowed = 1;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_NAME);
	/* Validity: empty, past the intermediate, ten years, backdated an
	 * hour, longer than the named profile's; an unknown profile. */
	p.allowed = (const struct crypto_name[]){ { CRYPTO_NAME_IP, "10.0.0.2" } };
	p.not_before = fresh();
	p.not_after = p.not_before;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_VALIDITY);
	p.not_after = crypto_signer_not_after(s) + 1;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_VALIDITY);
	p.not_after = p.not_before + 3650L * 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_VALIDITY);
	p.not_before = now - 3600;
	p.not_after = now + 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_VALIDITY);
	p.not_before = fresh();
	p.not_after = now + 30 * 86400;
	p.profile = "shortlived";
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_VALIDITY);
	p.not_after = now + 6 * 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_OK);
	crypto_leaf_clear(&leaf);
	p.profile = "no-such-profile";
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_ERR_INVALID);
	CHECK(leaf.der == NULL);
	crypto_csr_free(csr);
}

/* A profile's usages, whatever the key: clientAuth only, and no
 * keyEncipherment even for RSA when the profile does not grant it. */
static void
test_profile_usages(void)
{
	struct crypto_profile prof[2] = {
		{ "client", 86400, CRYPTO_KU_DIGITAL_SIGNATURE,
		    CRYPTO_EKU_CLIENT_AUTH },
		{ "bad", 86400, CRYPTO_KU_DIGITAL_SIGNATURE | 0x04,
		    CRYPTO_EKU_SERVER_AUTH },
	};
	struct crypto_signer_config cfg;
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	struct crypto_signer *s;
	struct crypto_csr *csr;
	char cmd[4096];
	int err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.profiles = prof;
	cfg.n_profiles = 2;       /* keyCertSign in a profile is refused */
	CHECK(crypto_signer_open(ca_dir, NULL, 0, &cfg, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_INVALID);
	cfg.n_profiles = 1;
	s = crypto_signer_open(ca_dir, NULL, 0, &cfg, &err);
	CHECK(s != NULL);
	csr = make_csr("client", "rsa:2048", "/CN=a.example", "DNS:a.example");
	if (s == NULL || csr == NULL)
		goto out;
	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = 1;
	p.not_before = fresh();
	p.not_after = now + 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_OK);
	write_pem("client", leaf.der, leaf.der_len);
	crypto_leaf_clear(&leaf);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/client.crt -noout -text",
	    pt_dir);
	CHECK(pt_output_has(cmd, "X509v3 Key Usage: critical\n"
	    "                Digital Signature\n"));
	CHECK(pt_output_has(cmd, "X509v3 Extended Key Usage: \n"
	    "                TLS Web Client Authentication\n"));
	CHECK(pt_output_has(cmd, "CA:FALSE"));
	/* No pki_url: no CDP, no AIA. */
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/client.crt -noout -text "
	    "| grep -c -e 'CRL Distribution' -e 'Authority Information'", pt_dir);
	CHECK(pt_output_has(cmd, "0\n"));
out:
	crypto_csr_free(csr);
	crypto_signer_free(s);
}

/* CRL Distribution Points and AIA name the intermediate's key id. */
static void
test_revocation_urls(struct crypto_signer *s)
{
	char id[65], want[1024], cmd[4096], *ski;
	size_t i;

	CHECK_EQ_INT(crypto_signer_issuer_id(s, id), CRYPTO_OK);
	/* The id is the intermediate's SKI as openssl prints it. */
	ski = pt_output("openssl x509 -in %s/intermediate.crt -noout -ext "
	    "subjectKeyIdentifier | tail -1 | tr -d ' :\n' | tr A-F a-f", ca_dir);
	CHECK(ski != NULL && strcmp(ski, id) == 0);
	free(ski);
	CHECK_EQ_INT(strlen(id), 40);   /* SHA-1 key id, RFC 5280 method 1 */
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/p256.crt -noout -ext "
	    "crlDistributionPoints,authorityInfoAccess", pt_dir);
	snprintf(want, sizeof(want), "X509v3 CRL Distribution Points: \n"
	    "    Full Name:\n      URI:%s/crl/%s.crl\n", PKI_URL, id);
	CHECK(pt_output_has(cmd, want));
	snprintf(want, sizeof(want), "Authority Information Access: \n"
	    "    OCSP - URI:%s/ocsp\n    CA Issuers - URI:%s/ca/%s.crt\n",
	    PKI_URL, PKI_URL, id);
	CHECK(pt_output_has(cmd, want));
	/* Bad base URLs are refused when the signer opens. */
	{
		static const char *bad[] = { "https://pki.example", "http://pki/x",
		    "http://pki.example/", "http://", "http://a b", "ftp://x",
		    "http://pki:99999", "http://[zz]" };
		struct crypto_signer_config cfg;
		int err;

		memset(&cfg, 0, sizeof(cfg));
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			cfg.pki_url = bad[i];
			CHECK(crypto_signer_open(ca_dir, NULL, 0, &cfg, &err) == NULL);
			CHECK_EQ_INT(err, CRYPTO_ERR_INVALID);
			CHECK_EQ_INT(crypto_pki_url_check(bad[i]), CRYPTO_ERR_INVALID);
		}
		CHECK_EQ_INT(crypto_pki_url_check("http://[fd00::1]:80"), CRYPTO_OK);
		CHECK_EQ_INT(crypto_pki_url_check(PKI_URL), CRYPTO_OK);
	}
}

/* IP-only: empty subject, critical subjectAltName. */
static void
test_ip_only(struct crypto_signer *s)
{
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	struct crypto_csr *csr;
	char cmd[4096];

	csr = make_csr("iponly", "ec -pkeyopt ec_paramgen_curve:P-256", "/O=x",
	    "IP:10.0.0.1");
	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = sizeof(allowed) / sizeof(allowed[0]);
	p.not_before = fresh();
	p.not_after = now + 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_OK);
	write_pem("iponly", leaf.der, leaf.der_len);
	check_verify("iponly");
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/iponly.crt -noout -text",
	    pt_dir);
	CHECK(pt_output_has(cmd, "Subject: \n"));
	CHECK(pt_output_has(cmd, "X509v3 Subject Alternative Name: critical\n"
	    "                IP Address:10.0.0.1\n"));
	crypto_leaf_clear(&leaf);
	crypto_csr_free(csr);
}

static void
test_tls(struct crypto_signer *s)
{
	static const struct crypto_name other[] = {
		{ CRYPTO_NAME_DNS, "localhost" },
		{ CRYPTO_NAME_DNS, "myhost" },
	};
	const struct crypto_name *names = tls_names;
	uint8_t *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	char cmd[4096];

	/* Only the configured names, and at most 366 days. */
	CHECK_EQ_INT(crypto_signer_issue_tls(s, other, 2, fresh() - 60,
	    now + 3600, &cert, &cert_len, &key, &key_len), CRYPTO_ERR_NAME);
	CHECK(cert == NULL && key == NULL);
	CHECK_EQ_INT(crypto_signer_issue_tls(s, names, 2, now - 60,
	    now + 400L * 86400, &cert, &cert_len, &key, &key_len),
	    CRYPTO_ERR_VALIDITY);
	CHECK_EQ_INT(crypto_signer_issue_tls(s, names, 2, now - 60, now + 3600,
	    &cert, &cert_len, &key, &key_len), CRYPTO_OK);
	CHECK(cert != NULL && key != NULL);
	if (cert == NULL || key == NULL)
		return;
	write_pem("tls", cert, cert_len);
	check_verify("tls");
	check_dates("tls", now - 60, now + 3600);
	CHECK_EQ_INT(pt_spit(pt_path("tls.key.der"), key, key_len), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && openssl x509 -in tls.crt -noout "
	    "-pubkey > tls.cpub && openssl pkey -inform DER -in tls.key.der "
	    "-pubout > tls.kpub && cmp tls.cpub tls.kpub", pt_dir);
	CHECK_EQ_INT(pt_run("%s", cmd), 0);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/tls.crt -noout -text",
	    pt_dir);
	CHECK(pt_output_has(cmd, "X509v3 Extended Key Usage: \n"
	    "                TLS Web Server Authentication\n"));
	CHECK(pt_output_has(cmd, "X509v3 Key Usage: critical\n"
	    "                Digital Signature\n"));
	CHECK(pt_output_has(cmd, "DNS:localhost, IP Address:127.0.0.1"));
	CHECK(pt_output_has(cmd, "Subject: CN = localhost\n"));
	CHECK(pt_output_has(cmd, "NIST CURVE: P-256"));
	crypto_zeroize(key, key_len);
	free(key);
	free(cert);
}

struct worker {
	struct crypto_signer *s;
	const struct crypto_csr *csr;
	int failures;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	int i;

	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = sizeof(allowed) / sizeof(allowed[0]);
	p.not_before = time(NULL);
	p.not_after = p.not_before + 86400;
	for (i = 0; i < 20; i++) {
		if (crypto_signer_issue(w->s, w->csr, &p, &leaf) != CRYPTO_OK)
			w->failures++;
		crypto_leaf_clear(&leaf);
	}
	crypto_thread_cleanup();   /* what every hearth thread does at exit */
	return NULL;
}

/* One signer shared by several threads. */
static void
test_threads(struct crypto_signer *s)
{
	struct worker w[4];
	pthread_t t[4];
	struct crypto_csr *csr;
	int i;

	csr = make_csr("threads", "ec -pkeyopt ec_paramgen_curve:P-256",
	    "/CN=a.example", "DNS:a.example");
	for (i = 0; i < 4; i++) {
		w[i].s = s;
		w[i].csr = csr;
		w[i].failures = 0;
		CHECK_EQ_INT(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(w[i].failures, 0);
	}
	crypto_csr_free(csr);
}

int
main(void)
{
	struct crypto_signer *s;

	if (crypto_init() != 0)
		return 2;
	now = time(NULL);
	pt_tmpdir("test_leaf");

	s = make_ca("ca256", CRYPTO_KEY_EC_P256, 1);
	issue_one(s, "rsa2048", "rsa:2048", 1, "ecdsa-with-SHA256");
	issue_one(s, "rsa4096", "rsa:4096", 1, "ecdsa-with-SHA256");
	issue_one(s, "p256", "ec -pkeyopt ec_paramgen_curve:P-256", 0,
	    "ecdsa-with-SHA256");
	issue_one(s, "p384", "ec -pkeyopt ec_paramgen_curve:P-384", 0,
	    "ecdsa-with-SHA256");
	issue_one(s, "ed25519", "ed25519", 0, "ecdsa-with-SHA256");
	test_revocation_urls(s);
	test_refusals(s);
	test_profile_usages();
	test_ip_only(s);
	test_tls(s);
	test_threads(s);
	crypto_signer_free(s);

	s = make_ca("ca384", CRYPTO_KEY_EC_P384, 0);
	issue_one(s, "p256-384", "ec -pkeyopt ec_paramgen_curve:P-256", 0,
	    "ecdsa-with-SHA384");
	crypto_signer_free(s);

	crypto_cleanup();
	return CHECK_DONE();
}
