/*
 * revocation_test.h: what the CRL and OCSP tests share: a CA on disk with a
 * spawned signer (the key only in the signer process), leaves it issues
 * written as PEM files, and counting strings in openssl's output. Test
 * code only; include after check.h and pki_test.h.
 */
#ifndef HEARTH_REVOCATION_TEST_H
#define HEARTH_REVOCATION_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

/* Creates a CA under the test directory and spawns its signer. */
static inline struct crypto_signer *
rt_ca(const char *name, enum crypto_key_type type, time_t now, char *dir,
    size_t dirsz)
{
	struct crypto_ca_params p;
	struct crypto_signer *s;
	int gen, err;

	snprintf(dir, dirsz, "%s", pt_path("%s", name));
	memset(&p, 0, sizeof(p));
	p.key_type = type;
	p.ca_name = name;
	p.root_days = 3650;
	p.intermediate_days = 365;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.now = now;
	CHECK_EQ_INT(crypto_ca_create(dir, &p, &gen), CRYPTO_OK);
	s = crypto_signer_spawn(dir, NULL, 0, NULL, &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK(s != NULL);
	CHECK_EQ_INT(pt_run("(cat %s/root.crt %s/intermediate.crt > %s/chain.pem)",
	    dir, dir, dir), 0);
	return s;
}

/* Issues a leaf for NAME.corp.internal from a fresh P-256 CSR and writes
 * it to NAME.crt; its serial goes to serial[] (lower-case hex). */
static inline int
rt_leaf(struct crypto_signer *s, const char *name, time_t now,
    char serial[2 * CRYPTO_MAX_SERIAL + 1])
{
	struct crypto_name allowed;
	struct crypto_leaf_params p;
	struct crypto_leaf leaf;
	struct crypto_csr *csr;
	char *pem;
	size_t len = 0;
	int err, ret;

	if (pt_run("cd %s && openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout %s.key "
	    "-subj /CN=%s.corp.internal -out %s.csr", pt_dir, name, name,
	    name) != 0 || (pem = pt_slurp(pt_path("%s.csr", name), &len)) == NULL)
		return -1;
	csr = crypto_csr_parse_pem(pem, len, &err);
	free(pem);
	if (csr == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	allowed.type = CRYPTO_NAME_DNS;
	snprintf(allowed.value, sizeof(allowed.value), "%s.corp.internal", name);
	p.allowed = &allowed;
	p.n_allowed = 1;
	p.not_before = now - 60;
	p.not_after = now + 86400;
	ret = crypto_signer_issue(s, csr, &p, &leaf);
	crypto_csr_free(csr);
	if (ret != 0)
		return ret;
	snprintf(serial, 2 * CRYPTO_MAX_SERIAL + 1, "%s", leaf.serial);
	pem = crypto_cert_der_to_pem(leaf.der, leaf.der_len);
	ret = pem != NULL ? pt_spit(pt_path("%s.crt", name), pem, strlen(pem)) : -1;
	free(pem);
	crypto_leaf_clear(&leaf);
	return ret;
}

/* How often needle occurs in text. */
static inline int
rt_count(const char *text, const char *needle)
{
	int n = 0;

	while (text != NULL && (text = strstr(text, needle)) != NULL) {
		n++;
		text += strlen(needle);
	}
	return n;
}

/* A serial as openssl's -text output prints it (i2a_ASN1_INTEGER): the
 * magnitude's bytes in upper-case hex. */
static inline void
rt_openssl_serial(const char *hex, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; hex[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	out[i] = '\0';
}

#endif
