/*
 * test_signcheck.c: the signer trusts nothing. Leaf requests are crafted
 * byte by byte (struct pki_leaf_wire and what follows) and given to the
 * signer directly (pki_op_run, in a process holding the key) and through a
 * spawned signer process (pki_signer_call): a public key with an Extension
 * smuggled after or inside it, keys of refused types, sizes and shapes,
 * names that are malformed, duplicated, public (outside the policy) or not
 * the server's, a ten-year and a backdated validity, an unknown profile,
 * and bytes after the request. What is signed carries the profile's usages
 * (no keyCertSign) and CA:FALSE, checked with openssl.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"

#include <stdint.h>
#include <time.h>

#define REQ_MAX (PKI_OP_LEAF_MAX + 64)

/* basicConstraints cA TRUE: what a smuggler would append. */
static const uint8_t ext_ca[] = {
	0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff,
	0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff,
};

struct key {
	uint8_t der[2048];
	size_t len;
};

static struct key p256, p384, p521, rsa2048, rsa1024, ed25519, ed448, p256c;

static void
load_spki(struct key *k, const char *name, const char *genpkey,
    const char *pubopt)
{
	char *der;

	CHECK_EQ_INT(pt_run("(cd %s && openssl genpkey %s -out %s.key && "
	    "openssl pkey -in %s.key -pubout -outform DER %s -out %s.spki)",
	    pt_dir, genpkey, name, name, pubopt, name), 0);
	der = pt_slurp(pt_path("%s.spki", name), &k->len);
	CHECK(der != NULL && k->len <= sizeof(k->der));
	if (der != NULL && k->len <= sizeof(k->der))
		memcpy(k->der, der, k->len);
	free(der);
}

/* One request in the wire format of PKI_OP_LEAF. */
struct req {
	uint32_t kind;
	const char *profile;
	const uint8_t *spki;
	size_t spki_len;
	const char *cn;
	const struct crypto_name *names;
	size_t n_names;
	int64_t not_before, not_after;
	uint32_t reserved;
	const uint8_t *trailer;      /* bytes after the request */
	size_t trailer_len;
};

static size_t
craft(const struct req *r, uint8_t *buf)
{
	struct pki_leaf_wire w;
	size_t o = 0, i, n;

	memset(&w, 0, sizeof(w));
	w.kind = r->kind;
	w.profile_len = r->profile != NULL ? (uint32_t)strlen(r->profile) : 0;
	w.spki_len = (uint32_t)r->spki_len;
	w.cn_len = r->cn != NULL ? (uint32_t)strlen(r->cn) : 0;
	w.n_names = (uint32_t)r->n_names;
	w.reserved = r->reserved;
	w.not_before = r->not_before;
	w.not_after = r->not_after;
	memcpy(buf, &w, sizeof(w));
	o = sizeof(w);
	memcpy(buf + o, r->profile, w.profile_len);
	o += w.profile_len;
	memcpy(buf + o, r->spki, r->spki_len);
	o += r->spki_len;
	memcpy(buf + o, r->cn, w.cn_len);
	o += w.cn_len;
	for (i = 0; i < r->n_names; i++) {
		n = strlen(r->names[i].value);
		buf[o++] = (uint8_t)r->names[i].type;
		buf[o++] = (uint8_t)n;
		memcpy(buf + o, r->names[i].value, n);
		o += n;
	}
	memcpy(buf + o, r->trailer, r->trailer_len);
	return o + r->trailer_len;
}

static const struct crypto_name good_names[] = {
	{ CRYPTO_NAME_DNS, "app.corp.internal" },
	{ CRYPTO_NAME_IP, "10.1.2.3" },
};

/* A request the signer accepts; cases change one thing. */
static struct req
base(const struct key *k)
{
	struct req r;

	memset(&r, 0, sizeof(r));
	r.kind = PKI_LEAF_ACME;
	r.spki = k->der;
	r.spki_len = k->len;
	r.cn = "app.corp.internal";
	r.names = good_names;
	r.n_names = 2;
	r.not_before = time(NULL) - 60;
	r.not_after = r.not_before + 30 * 86400;
	return r;
}

/* Sends r through s; on success writes the certificate to NAME.crt. */
static int
send_req(struct crypto_signer *s, const struct req *r, const char *name)
{
	static uint8_t buf[REQ_MAX];
	uint8_t *resp = NULL;
	size_t len = craft(r, buf), resplen = 0;
	char *pem;
	int ret;

	ret = pki_signer_call(s, PKI_OP_LEAF, buf, len, &resp, &resplen);
	if (ret == CRYPTO_OK && name != NULL) {
		CHECK(resplen > CRYPTO_SERIAL_BYTES);
		pem = crypto_cert_der_to_pem(resp + CRYPTO_SERIAL_BYTES,
		    resplen - CRYPTO_SERIAL_BYTES);
		CHECK(pem != NULL);
		if (pem != NULL)
			CHECK_EQ_INT(pt_spit(pt_path("%s.crt", name), pem,
			    strlen(pem)), 0);
		free(pem);
	}
	free(resp);
	return ret;
}

/* DER helpers for hand-made keys. */
static size_t
tlv(uint8_t *out, uint8_t tag, const uint8_t *val, size_t len)
{
	size_t o = 0;

	out[o++] = tag;
	if (len < 128)
		out[o++] = (uint8_t)len;
	else {
		out[o++] = 0x82;
		out[o++] = (uint8_t)(len >> 8);
		out[o++] = (uint8_t)len;
	}
	memmove(out + o, val, len);
	return o + len;
}

/* An EC SPKI whose AlgorithmIdentifier has an Extension after the curve. */
static void
ec_with_inner_ext(const struct key *k, struct key *out)
{
	static const uint8_t alg[] = {
		0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
	};
	uint8_t inner[512], seq[600];
	size_t n = 0, m;

	memcpy(inner, alg, sizeof(alg));
	memcpy(inner + sizeof(alg), ext_ca, sizeof(ext_ca));
	n = tlv(seq, 0x30, inner, sizeof(alg) + sizeof(ext_ca));
	/* the BIT STRING is the last 68 bytes of a P-256 SPKI */
	memcpy(seq + n, k->der + k->len - 68, 68);
	m = tlv(out->der, 0x30, seq, n + 68);
	out->len = m;
}

/* An RSA SPKI rebuilt: its RSAPublicKey followed by an Extension inside
 * the BIT STRING, or its NULL parameters dropped. */
static void
rsa_variant(const struct key *k, struct key *out, int drop_null)
{
	static const uint8_t oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
	uint8_t alg[32], bits[1024], body[1200];
	size_t alen, pk_len = k->len - 4 - 15 - 5, blen, n;

	/* rsa2048: 30 82 01 22 | 30 0d ... 05 00 | 03 82 01 0f 00 | pk */
	alen = tlv(alg, 0x30, oid, drop_null ? sizeof(oid) - 2 : sizeof(oid));
	bits[0] = 0;
	memcpy(bits + 1, k->der + k->len - pk_len, pk_len);
	blen = 1 + pk_len;
	if (!drop_null) {
		memcpy(bits + blen, ext_ca, sizeof(ext_ca));
		blen += sizeof(ext_ca);
	}
	memcpy(body, alg, alen);
	n = alen + tlv(body + alen, 0x03, bits, blen);
	out->len = tlv(out->der, 0x30, body, n);
}

static void
test_keys(struct crypto_signer *s)
{
	struct key k;
	struct req r;

	r = base(&p256);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r = base(&p384);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r = base(&ed25519);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	/* the extension-smuggling blob: an SPKI, then an Extension */
	memcpy(k.der, p256.der, p256.len);
	memcpy(k.der + p256.len, ext_ca, sizeof(ext_ca));
	k.len = p256.len + sizeof(ext_ca);
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	/* ... and inside it: in the AlgorithmIdentifier, in the BIT STRING */
	ec_with_inner_ext(&p256, &k);
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	rsa_variant(&rsa2048, &k, 0);
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	rsa_variant(&rsa2048, &k, 1);      /* no NULL parameters */
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	/* refused types, sizes and shapes */
	r = base(&rsa1024);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_KEY_SIZE);
	r = base(&p521);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	r = base(&ed448);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	r = base(&p256c);                  /* compressed point */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	k = p256;
	k.der[k.len - 1] ^= 0x01;          /* off the curve */
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	k = rsa2048;
	k.der[k.len - 1] ^= 0x01;          /* exponent 65536: even */
	r = base(&k);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_UNSUPPORTED);
	r = base(&p256);
	r.spki_len = 0;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
}

static void
test_names(struct crypto_signer *s)
{
	static const struct crypto_name upper[] = { { CRYPTO_NAME_DNS, "App.corp.internal" } };
	static const struct crypto_name bad[] = { { CRYPTO_NAME_DNS, "a..corp.internal" } };
	static const struct crypto_name dup[] = {
		{ CRYPTO_NAME_DNS, "app.corp.internal" },
		{ CRYPTO_NAME_DNS, "app.corp.internal" },
	};
	static const struct crypto_name pub[] = { { CRYPTO_NAME_DNS, "www.example.com" } };
	static const struct crypto_name pubip[] = { { CRYPTO_NAME_IP, "8.8.8.8" } };
	static const struct crypto_name ip6[] = { { CRYPTO_NAME_IP, "FD00::1" } };
	static const struct crypto_name ip4[] = { { CRYPTO_NAME_IP, "10.0.0.010" } };
	static const struct crypto_name wild[] = { { CRYPTO_NAME_DNS, "*.corp.internal" } };
	struct req r;

	r = base(&p256);
	r.names = upper;
	r.n_names = 1;
	r.cn = NULL;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = bad;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = pub;                     /* a public name: the policy */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = pubip;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = ip6;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = ip4;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = dup;
	r.n_names = 2;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.n_names = 0;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = wild;                    /* a wildcard is fine for ACME... */
	r.n_names = 1;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r = base(&p256);                   /* a CN that is not one of the names */
	r.cn = "admin.corp.internal";
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	/* the server's own certificate: only its configured names */
	r = base(&p256);
	r.kind = PKI_LEAF_TLS;
	r.names = (const struct crypto_name[]){ { CRYPTO_NAME_DNS, "myhost" } };
	r.n_names = 1;
	r.cn = "myhost";
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r.names = good_names;              /* policy-allowed, but not its names */
	r.cn = NULL;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
	r.names = wild;                    /* ...never for the server's own */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_NAME);
}

static void
test_validity(struct crypto_signer *s)
{
	struct req r;
	time_t now = time(NULL);

	r = base(&p256);
	r.not_after = r.not_before + 3650L * 86400;       /* ten years */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_before = now - 3600;                        /* backdated */
	r.not_after = now + 86400;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_before = now;                               /* reversed */
	r.not_after = now - 1;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_before = INT64_MIN;
	r.not_after = INT64_MAX;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_before = now;                               /* past the issuer */
	r.not_after = crypto_signer_not_after(s) + 1;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_after = now + 91L * 86400;                  /* over the profile */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.profile = "shortlived";
	r.not_after = now + 7L * 86400;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
	r.not_after = now + 6L * 86400;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r = base(&p256);                                  /* a year for TLS */
	r.kind = PKI_LEAF_TLS;
	r.names = (const struct crypto_name[]){ { CRYPTO_NAME_DNS, "myhost" } };
	r.n_names = 1;
	r.cn = NULL;
	r.not_after = r.not_before + 366L * 86400;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_OK);
	r.not_after = r.not_before + 400L * 86400;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_VALIDITY);
}

static void
test_framing(struct crypto_signer *s)
{
	static const uint8_t ku[] = { 0x04, 0, 0, 0 };   /* "keyCertSign" */
	struct req r;

	r = base(&p256);
	r.profile = "admin";
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_INVALID);
	r.profile = NULL;
	r.kind = 7;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_INVALID);
	r.kind = PKI_LEAF_TLS;
	r.profile = "classic";
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_INVALID);
	r = base(&p256);
	r.reserved = 1;
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	r.reserved = 0;
	r.trailer = ku;                    /* usages appended to a request */
	r.trailer_len = sizeof(ku);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	r.trailer = ext_ca;
	r.trailer_len = sizeof(ext_ca);
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
	r.trailer = NULL;
	r.trailer_len = 0;
	r.n_names = CRYPTO_MAX_NAMES + 1;  /* announced, cut off by the cap */
	CHECK_EQ_INT(send_req(s, &r, NULL), CRYPTO_ERR_PARSE);
}

/* What is signed: the profile's usages and CA:FALSE, nothing else. */
static void
test_signed(struct crypto_signer *s, const char *tag)
{
	char cmd[4096];
	struct req r;

	r = base(&rsa2048);
	CHECK_EQ_INT(send_req(s, &r, tag), CRYPTO_OK);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.crt -noout -text",
	    pt_dir, tag);
	CHECK(pt_output_has(cmd, "X509v3 Basic Constraints: critical\n"
	    "                CA:FALSE\n"));
	CHECK(pt_output_has(cmd, "X509v3 Key Usage: critical\n"
	    "                Digital Signature, Key Encipherment\n"));
	CHECK(pt_output_has(cmd, "X509v3 Extended Key Usage: \n"
	    "                TLS Web Server Authentication, "
	    "TLS Web Client Authentication\n"));
	CHECK(pt_output_has(cmd, "CA Issuers - URI:http://pki.corp.internal/ca/"));
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s.crt -noout -text | "
	    "grep -c -e 'Certificate Sign' -e 'CA:TRUE' -e 'OCSP'", pt_dir, tag);
	CHECK(pt_output_has(cmd, "0\n"));
}

static void
run_all(struct crypto_signer *s, const char *tag)
{
	test_keys(s);
	test_names(s);
	test_validity(s);
	test_framing(s);
	test_signed(s, tag);
}

int
main(void)
{
	static const struct crypto_name tls[] = { { CRYPTO_NAME_DNS, "myhost" } };
	struct crypto_signer_config cfg;
	struct crypto_ca_params p;
	struct crypto_policy *policy;
	struct crypto_signer *s;
	static uint8_t buf[REQ_MAX];
	struct pki_buf out = { 0 };
	struct req r;
	char ca[1100];
	int gen, err;

	CHECK_EQ_INT(crypto_init(), 0);
	pt_tmpdir("signcheck");
	load_spki(&p256, "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "");
	load_spki(&p256c, "p256c", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	    "-ec_conv_form compressed");
	load_spki(&p384, "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "");
	load_spki(&p521, "p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521", "");
	load_spki(&rsa2048, "rsa2048", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "");
	load_spki(&rsa1024, "rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", "");
	load_spki(&ed25519, "ed25519", "-algorithm ED25519", "");
	load_spki(&ed448, "ed448", "-algorithm ED448", "");

	snprintf(ca, sizeof(ca), "%s/ca", pt_dir);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.root_days = 3650;
	p.intermediate_days = 1825;
	p.now = time(NULL);
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	policy = crypto_policy_new();
	CHECK(policy != NULL && crypto_policy_add_defaults(policy) == CRYPTO_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = policy;
	cfg.tls_names = tls;
	cfg.n_tls_names = 1;
	cfg.pki_url = "http://pki.corp.internal";

	/* In this process, by the operation's own entry point. */
	s = crypto_signer_open(ca, NULL, 0, &cfg, &err);
	CHECK(s != NULL && s->key != NULL);
	if (s != NULL) {
		r = base(&p256);
		r.trailer = ext_ca;
		r.trailer_len = sizeof(ext_ca);
		CHECK_EQ_INT(pki_op_run(s, PKI_OP_LEAF, buf, craft(&r, buf), &out),
		    CRYPTO_ERR_PARSE);
		CHECK_EQ_INT(out.len, 0);
		r.trailer_len = 0;
		CHECK_EQ_INT(pki_op_leaf(s, buf, craft(&r, buf), &out), CRYPTO_OK);
		CHECK(out.len > CRYPTO_SERIAL_BYTES);
		pki_buf_free(&out);
		run_all(s, "local");
	}
	crypto_signer_free(s);

	/* Through the signer process, which goes on serving after each
	 * refusal. */
	s = crypto_signer_spawn(ca, NULL, 0, &cfg, &err);
	CHECK(s != NULL && s->key == NULL);
	if (s != NULL)
		run_all(s, "spawned");
	crypto_signer_free(s);
	crypto_policy_free(policy);
	crypto_cleanup();
	return CHECK_DONE();
}
