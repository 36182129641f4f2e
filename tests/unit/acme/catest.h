/*
 * catest.h: what the acme/ tests that issue for real share: a CA created
 * in a directory (root and intermediate, EC P-256) and a CSR made with
 * openssl. Test code only; each binary includes it once.
 */
#ifndef HEARTH_CATEST_H
#define HEARTH_CATEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto.h"

/* A CA named name in dir (crypto_ca_create: the root key under the
 * passphrase "root"). CRYPTO_OK or its error. */
static int
ct_ca(const char *dir, const char *name)
{
	struct crypto_ca_params p;
	int gen;

	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = name;
	p.root_days = 7300;
	p.intermediate_days = 3650;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.now = time(NULL);
	return crypto_ca_create(dir, &p, &gen);
}

/* A DER CSR for CN=cn (a fresh P-256 key) written to path and read into
 * out (cap bytes): its length, or 0. */
static size_t
ct_csr(const char *path, const char *cn, uint8_t *out, size_t cap)
{
	char cmd[2048];
	size_t n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=%s "
	    "-outform DER -out %s 2>/dev/null", cn, path);
	if (system(cmd) != 0 || (f = fopen(path, "rb")) == NULL)
		return 0;
	n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

#endif
