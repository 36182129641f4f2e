/*
 * test_constraint.c: the name-constrained intermediate. A CA made with
 * permitted DNS suffixes and IP ranges carries a critical nameConstraints
 * extension (read back with openssl and with crypto_ca_constraints); the
 * signer refuses names outside it even with no name policy at all; and a
 * leaf outside it, made by the internal signing function with every check
 * bypassed (the test-only path), is refused by `openssl verify` with a
 * permitted subtree violation while one inside verifies.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"

#include <time.h>

static time_t now;

/* A CA in DIR/NAME, constrained to permit (NULL: unconstrained). */
static void
make_ca(const char *name, const struct crypto_policy *permit, int expect)
{
	struct crypto_ca_params p;

	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.root_passphrase = "pw";
	p.root_passphrase_len = 2;
	p.permit = permit;
	p.now = now;
	CHECK_EQ_INT(crypto_ca_create(pt_path("%s", name), &p, NULL), expect);
}

static struct crypto_policy *
permit_new(void)
{
	struct crypto_policy *p = crypto_policy_new();

	CHECK(p != NULL);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, ".lab.test"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "127.0.0.0/8"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "fd00::/8"), 0);
	return p;
}

static int
permitted(const struct crypto_policy *c, enum crypto_name_type t, const char *v)
{
	struct crypto_name n;

	memset(&n, 0, sizeof(n));
	n.type = t;
	snprintf(n.value, sizeof(n.value), "%s", v);
	return crypto_ca_name_permitted(c, &n);
}

/* The extension as openssl shows it: critical, each subtree. */
static void
test_encoding(void)
{
	char cmd[CMD_MAX];

	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -noout -text",
	    pt_path("nc/intermediate.crt"));
	CHECK(pt_output_has(cmd, "X509v3 Name Constraints: critical"));
	CHECK(pt_output_has(cmd, "DNS:corp.internal\n"));
	CHECK(pt_output_has(cmd, "DNS:lab.test\n"));   /* no leading dot */
	CHECK(pt_output_has(cmd, "IP:127.0.0.0/255.0.0.0"));
	CHECK(pt_output_has(cmd, "IP:FD00:0:0:0:0:0:0:0/FF00:0:0:0:0:0:0:0"));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -noout -text",
	    pt_path("nc/root.crt"));
	CHECK(!pt_output_has(cmd, "Name Constraints"));  /* the root is free */
}

/* crypto_ca_constraints reads back what was written. */
static void
test_read_back(void)
{
	struct crypto_policy *c = NULL;
	char line[512];

	CHECK_EQ_INT(crypto_ca_constraints(pt_path("nc"), &c), 0);
	CHECK(c != NULL);
	CHECK_EQ_INT(crypto_policy_describe(c, line, sizeof(line)), 0);
	CHECK_EQ_STR(line, "DNS: corp.internal, lab.test; IP: 127.0.0.0/8, fd00::/8");
	CHECK(permitted(c, CRYPTO_NAME_DNS, "corp.internal"));
	CHECK(permitted(c, CRYPTO_NAME_DNS, "a.b.corp.internal"));
	CHECK(permitted(c, CRYPTO_NAME_DNS, "*.corp.internal"));
	CHECK(!permitted(c, CRYPTO_NAME_DNS, "evilcorp.internal"));
	CHECK(!permitted(c, CRYPTO_NAME_DNS, "www.example.com"));
	CHECK(permitted(c, CRYPTO_NAME_IP, "127.9.9.9"));
	CHECK(permitted(c, CRYPTO_NAME_IP, "fd12::1"));
	CHECK(!permitted(c, CRYPTO_NAME_IP, "10.0.0.1"));
	CHECK(!permitted(c, CRYPTO_NAME_IP, "fe80::1"));
	crypto_policy_free(c);

	c = (struct crypto_policy *)1;
	CHECK_EQ_INT(crypto_ca_constraints(pt_path("free"), &c), 0);
	CHECK(c == NULL);
	CHECK(permitted(NULL, CRYPTO_NAME_DNS, "www.example.com"));
	CHECK(crypto_ca_constraints(pt_path("missing"), &c) != 0);
}

/* DNS subtrees only: IP addresses are unconstrained (RFC 5280 §4.2.1.10). */
static void
test_one_form(void)
{
	struct crypto_policy *p = crypto_policy_new(), *c = NULL;

	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "corp.internal"), 0);
	make_ca("dnsonly", p, 0);
	CHECK_EQ_INT(crypto_ca_constraints(pt_path("dnsonly"), &c), 0);
	CHECK(c != NULL && permitted(c, CRYPTO_NAME_IP, "10.0.0.1"));
	CHECK(!permitted(c, CRYPTO_NAME_DNS, "a.example.com"));
	crypto_policy_free(c);
	/* a deny rule is not a constraint hearth writes */
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, "x.corp.internal"), 0);
	make_ca("withdeny", p, CRYPTO_ERR_INVALID);
	crypto_policy_free(p);
	p = crypto_policy_new();
	make_ca("empty", p, CRYPTO_ERR_INVALID);
	crypto_policy_free(p);
}

/* The signer's check of names (expect: its answer), then the test-only
 * path: pki_leaf_sign_local signs with no check at all, into FILE.crt. */
static void
sign_bypassed(struct crypto_signer *s, const struct crypto_name *names,
    size_t n, const char *file, int expect)
{
	struct pki_leaf_spec l;
	uint8_t serial[CRYPTO_SERIAL_BYTES], *der = NULL, spki[1024];
	size_t len = 0, spki_len = 0;
	char *pem, *raw;

	CHECK_EQ_INT(pt_run("openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out %s", pt_path("%s.key", file)), 0);
	CHECK_EQ_INT(pt_run("openssl pkey -in %s -pubout -outform DER -out %s",
	    pt_path("%s.key", file), pt_path("%s.spki", file)), 0);
	raw = pt_slurp(pt_path("%s.spki", file), &spki_len);
	CHECK(raw != NULL && spki_len <= sizeof(spki));
	if (raw == NULL || spki_len > sizeof(spki))
		return;
	memcpy(spki, raw, spki_len);
	free(raw);
	memset(&l, 0, sizeof(l));
	l.spki = spki;
	l.spki_len = spki_len;
	l.names = names;
	l.n_names = n;
	l.not_before = now - 60;
	l.not_after = now + 86400;
	l.key_usage = PKI_KU_DIGITAL_SIGNATURE;
	l.eku = PKI_EKU_SERVER;
	/* The signer's own check, with no name policy (cfg NULL): only the
	 * constraints can refuse. */
	CHECK_EQ_INT(pki_leaf_check(s, PKI_LEAF_ACME, "", &l, now), expect);
	CHECK_EQ_INT(pki_leaf_sign_local(s, &l, serial, &der, &len), 0);
	pem = crypto_cert_der_to_pem(der, len);
	CHECK(pem != NULL && pt_spit(pt_path("%s.crt", file), pem, strlen(pem)) == 0);
	free(pem);
	free(der);
}

static void
test_verify(void)
{
	static const struct crypto_name inside[] = {
		{ CRYPTO_NAME_DNS, "www.corp.internal" },
		{ CRYPTO_NAME_IP, "127.0.0.1" },
	};
	static const struct crypto_name outside_dns[] = {
		{ CRYPTO_NAME_DNS, "www.example.com" },
	};
	static const struct crypto_name outside_ip[] = {
		{ CRYPTO_NAME_DNS, "www.corp.internal" },
		{ CRYPTO_NAME_IP, "10.1.2.3" },
	};
	struct crypto_signer *s;
	char cmd[CMD_MAX];
	int err;

	s = crypto_signer_open(pt_path("nc"), NULL, 0, NULL, &err);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	sign_bypassed(s, inside, 2, "inside", 0);
	sign_bypassed(s, outside_dns, 1, "outdns", CRYPTO_ERR_NAME);
	sign_bypassed(s, outside_ip, 2, "outip", CRYPTO_ERR_NAME);
	crypto_signer_free(s);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s -untrusted %s %s 2>&1",
	    pt_path("nc/root.crt"), pt_path("nc/intermediate.crt"),
	    pt_path("inside.crt"));
	CHECK(pt_output_has(cmd, ": OK"));
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s -untrusted %s %s 2>&1",
	    pt_path("nc/root.crt"), pt_path("nc/intermediate.crt"),
	    pt_path("outdns.crt"));
	CHECK(pt_output_has(cmd, "permitted subtree violation"));
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s -untrusted %s %s 2>&1",
	    pt_path("nc/root.crt"), pt_path("nc/intermediate.crt"),
	    pt_path("outip.crt"));
	CHECK(pt_output_has(cmd, "permitted subtree violation"));
}

int
main(void)
{
	struct crypto_policy *permit;

	if (crypto_init() != 0)
		return 2;
	now = time(NULL);
	pt_tmpdir("test_constraint");
	permit = permit_new();
	make_ca("nc", permit, 0);
	make_ca("free", NULL, 0);
	crypto_policy_free(permit);
	test_encoding();
	test_read_back();
	test_one_form();
	test_verify();
	crypto_cleanup();
	return CHECK_DONE();
}
