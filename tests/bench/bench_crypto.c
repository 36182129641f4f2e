/*
 * bench_crypto.c: how fast the CPU-bound steps of an ACME request are on
 * this machine: JWS verification (ES256, the RFC 7515 A.3 vector), JWK
 * parsing and thumbprints, nonce issue+consume, leaf issuance from a
 * P-256 CSR under a P-256 intermediate (from a parsed CSR, and from the
 * CSR's bytes as finalize has them), and a full CRL of 100,000 entries
 * built and signed through a spawned signer process (request and CRL
 * crossing its socket). A benchmark, not a test: it prints operations per
 * second and seconds, and asserts nothing about time.
 *
 * usage: bench_crypto WORKDIR CSR.der [seconds per step]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme_internal.h"
#include "crypto.h"

static const char jwk_json[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
static const char input[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char sig_b64[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ctx {
	struct crypto_jwk *jwk;
	uint8_t sig[64];
	size_t siglen;
	struct acme_nonces nonces;
	struct crypto_signer *signer;
	struct crypto_csr *csr;
	struct crypto_name names[8];
	size_t n_names;
	const uint8_t *csr_der;
	size_t csr_len;
};

static int
op_verify(struct ctx *c)
{
	return crypto_jws_verify(c->jwk, CRYPTO_JWS_ES256, input, strlen(input),
	    c->sig, c->siglen);
}

static int
op_jwk(struct ctx *c)
{
	char thumb[CRYPTO_THUMBPRINT_LEN + 1];
	struct crypto_jwk *k = crypto_jwk_parse(jwk_json, strlen(jwk_json), NULL);
	int ret = k != NULL ? crypto_jwk_thumbprint(k, thumb) : -1;

	crypto_jwk_free(k);
	return ret;
}

static int
op_nonce(struct ctx *c)
{
	char n[ACME_NONCE_LEN + 1];

	if (acme_nonce_issue(&c->nonces, 1800000000, n) != 0)
		return -1;
	return acme_nonce_consume(&c->nonces, 1800000000, n) == 1 ? 0 : -1;
}

static int
op_issue(struct ctx *c)
{
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	time_t t = time(NULL);
	int ret;

	memset(&p, 0, sizeof(p));
	p.allowed = c->names;
	p.n_allowed = c->n_names;
	p.not_before = t;
	p.not_after = t + 90 * 86400;
	ret = crypto_signer_issue(c->signer, c->csr, &p, &leaf);
	if (ret == 0)
		crypto_leaf_clear(&leaf);
	return ret;
}

/* A leaf from the CSR's bytes, as finalize does: parsed (its signature
 * checked), then issued. */
static int
op_csr_issue(struct ctx *c)
{
	struct crypto_csr *saved = c->csr;
	int err, ret;

	if ((c->csr = crypto_csr_parse_der(c->csr_der, c->csr_len, &err)) == NULL) {
		c->csr = saved;
		return -1;
	}
	ret = op_issue(c);
	crypto_csr_free(c->csr);
	c->csr = saved;
	return ret;
}

static void
run(const char *name, int (*op)(struct ctx *), struct ctx *c, double secs)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		if (op(c) != 0) {
			fprintf(stderr, "%s: operation failed\n", name);
			exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	printf("%-28s %10.0f ops/s  (%ld in %.2fs)\n", name, (double)n / t, n, t);
}

#define CRL_ENTRIES 100000
#define CRL_ROUNDS  5

/* Random 16-byte serials, one revocation a second back from now, every
 * CRL reason a full CRL may carry. NULL when memory runs out. */
static struct crypto_revoked *
crl_entries(size_t n, time_t t)
{
	static const int reasons[] = { 0, 1, 2, 3, 4, 5, 6, 9, 10 };
	struct crypto_revoked *e = calloc(n, sizeof(*e));
	size_t i;

	for (i = 0; e != NULL && i < n; i++) {
		e[i].serial_len = 16;
		if (crypto_random(e[i].serial, 16) != 0) {
			free(e);
			return NULL;
		}
		e[i].serial[0] |= 0x40;
		e[i].revoked_at = t - (time_t)i;
		e[i].reason = reasons[i % (sizeof(reasons) / sizeof(reasons[0]))];
	}
	return e;
}

/* Builds and signs CRLs of CRL_ENTRIES through a spawned signer; prints
 * the best and the mean of CRL_ROUNDS. */
static int
bench_crl(const char *ca)
{
	struct crypto_crl_params p;
	struct crypto_signer *s;
	struct crypto_revoked *e = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	double t0, dt, best = 1e9, sum = 0;
	int i, err, ret = -1;

	memset(&p, 0, sizeof(p));
	p.this_update = time(NULL);
	p.next_update = p.this_update + 86400;
	p.n_entries = CRL_ENTRIES;
	if ((s = crypto_signer_spawn(ca, NULL, 0, NULL, &err)) == NULL ||
	    (e = crl_entries(CRL_ENTRIES, p.this_update)) == NULL)
		goto out;
	p.entries = e;
	for (i = 0; i < CRL_ROUNDS; i++) {
		p.number = (uint64_t)i + 1;
		t0 = now_s();
		if (crypto_signer_crl(s, &p, &der, &len) != 0)
			goto out;
		dt = now_s() - t0;
		free(der);
		best = dt < best ? dt : best;
		sum += dt;
	}
	printf("%-28s %10.3f s    (best of %d, mean %.3fs; %d entries, "
	    "%zu bytes)\n", "CRL build+sign (signer proc)", best, CRL_ROUNDS,
	    sum / CRL_ROUNDS, CRL_ENTRIES, len);
	ret = 0;
out:
	free(e);
	crypto_signer_free(s);
	return ret;
}

static int
rand_bytes(void *buf, size_t len)
{
	return crypto_random(buf, len);
}

int
main(int argc, char **argv)
{
	struct crypto_ca_params p;
	struct ctx c;
	const struct crypto_name *names;
	char ca[4096], *der;
	double secs = argc > 3 ? atof(argv[3]) : 2.0;
	FILE *f;
	long len;
	int gen, err;

	if (argc < 3 || crypto_init() != 0)
		return 2;
	memset(&c, 0, sizeof(c));
	c.jwk = crypto_jwk_parse(jwk_json, strlen(jwk_json), NULL);
	crypto_b64url_decode(sig_b64, strlen(sig_b64), c.sig, sizeof(c.sig), &c.siglen);
	acme_nonces_init(&c.nonces, rand_bytes);
	snprintf(ca, sizeof(ca), "%s/ca", argv[1]);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "bench";
	p.root_days = 3650;
	p.intermediate_days = 1825;
	p.root_passphrase = "bench";
	p.root_passphrase_len = 5;
	p.now = time(NULL);
	if (crypto_ca_create(ca, &p, &gen) != 0 ||
	    (c.signer = crypto_signer_open(ca, NULL, 0, NULL, &err)) == NULL)
		return 1;
	if (bench_crl(ca) != 0) {
		fprintf(stderr, "CRL build+sign: operation failed\n");
		return 1;
	}
	if ((f = fopen(argv[2], "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) <= 0 || (der = malloc((size_t)len)) == NULL)
		return 1;
	rewind(f);
	if (fread(der, 1, (size_t)len, f) != (size_t)len)
		return 1;
	fclose(f);
	if ((c.csr = crypto_csr_parse_der((uint8_t *)der, (size_t)len, &err)) == NULL)
		return 1;
	c.n_names = crypto_csr_names(c.csr, &names);
	if (c.n_names > 8)
		return 1;
	memcpy(c.names, names, c.n_names * sizeof(*names));
	run("JWS verify ES256", op_verify, &c, secs);
	run("JWK parse + thumbprint", op_jwk, &c, secs);
	run("nonce issue + consume", op_nonce, &c, secs);
	c.csr_der = (const uint8_t *)der;
	c.csr_len = (size_t)len;
	run("leaf issue (P-256)", op_issue, &c, secs);
	run("CSR parse + leaf issue", op_csr_issue, &c, secs);
	free(der);
	crypto_csr_free(c.csr);
	crypto_signer_free(c.signer);
	crypto_jwk_free(c.jwk);
	acme_nonces_fini(&c.nonces);
	crypto_cleanup();
	return 0;
}
