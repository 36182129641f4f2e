/*
 * signer_test.h: what the signer tests that rotate an intermediate share
 * (test_successor.c, test_launcher.c): a CSR for a.corp.internal made with
 * openssl, and a leaf issued through a signer that openssl must verify
 * under DIR/ca/root.crt and a given intermediate. The test sets ca (its CA
 * directory) before using them. Include after check.h and pki_test.h.
 */
#ifndef HEARTH_SIGNER_TEST_H
#define HEARTH_SIGNER_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

static char ca[1100];

static inline struct crypto_csr *
make_csr(void)
{
	struct crypto_csr *csr;
	char *pem;
	size_t len = 0;
	int err;

	CHECK_EQ_INT(pt_run("cd %s && openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout leaf.key -subj "
	    "/CN=a.corp.internal -addext 'subjectAltName=DNS:a.corp.internal' "
	    "-out leaf.csr", pt_dir), 0);
	if ((pem = pt_slurp(pt_path("leaf.csr"), &len)) == NULL)
		return NULL;
	csr = crypto_csr_parse_pem(pem, len, &err);
	free(pem);
	return csr;
}

/* Issues a leaf with s and checks openssl verifies it under the root and
 * the intermediate in inter (a file). */
static inline void
issue_verifies(struct crypto_signer *s, struct crypto_csr *csr,
    const char *inter)
{
	static const struct crypto_name allowed[] = {
		{ CRYPTO_NAME_DNS, "a.corp.internal" },
	};
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	char cmd[4096], *pem;

	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = 1;
	p.not_before = time(NULL) - 60;
	p.not_after = p.not_before + 86400;
	CHECK_EQ_INT(crypto_signer_issue(s, csr, &p, &leaf), CRYPTO_OK);
	if (leaf.der == NULL)
		return;
	pem = crypto_cert_der_to_pem(leaf.der, leaf.der_len);
	CHECK(pem != NULL);
	if (pem != NULL)
		pt_spit(pt_path("leaf.crt"), pem, strlen(pem));
	free(pem);
	crypto_leaf_clear(&leaf);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/root.crt "
	    "-untrusted %s %s/leaf.crt", ca, inter, pt_dir);
	CHECK(pt_output_has(cmd, ": OK"));
}

/* A CA (root passphrase "root") in a new test directory named name: sets
 * ca. 0 or the CRYPTO_* code of crypto_ca_create. */
static inline int
ca_make(const char *name, time_t now)
{
	struct crypto_ca_params p;
	int gen;

	pt_tmpdir(name);
	snprintf(ca, sizeof(ca), "%s/ca", pt_dir);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = name;
	p.root_days = 3650;
	p.intermediate_days = 365;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.now = now;
	return crypto_ca_create(ca, &p, &gen);
}

#endif
