/*
 * fuzz_tlsalpn.c: the certificate a tls-alpn-01 peer presents (RFC 8737
 * §3, RFC 8738 §6), judged by crypto_acme_tls_cert_check as acme/ does:
 * each input is a DER certificate, checked for a DNS identifier and for an
 * IP identifier with a fixed key authorization digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SHA-256 of "fuzz-token.fuzz-thumbprint", the key authorization the seeds
 * (tests/fuzz/corpus/tlsalpn) carry in their acmeIdentifier extension. */
#define KEYAUTH "fuzz-token.fuzz-thumbprint"

static void
check(const uint8_t *der, size_t len, enum crypto_name_type type,
    const char *value, const uint8_t digest[32])
{
	struct crypto_name name;
	char why[256];
	int rc;

	memset(&name, 0, sizeof(name));
	name.type = type;
	strcpy(name.value, value);
	why[0] = '\0';
	rc = crypto_acme_tls_cert_check(der, len, &name, digest, why, sizeof(why));
	/* a refusal always says why, within its buffer */
	if (rc != CRYPTO_OK && (why[0] == '\0' || memchr(why, '\0', sizeof(why)) == NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static uint8_t digest[32];

	if (!ready) {
		if (crypto_init() != 0 ||
		    crypto_sha256(KEYAUTH, strlen(KEYAUTH), digest) != 0)
			abort();
		ready = 1;
	}
	check(data, size, CRYPTO_NAME_DNS, "svc.fuzz.internal", digest);
	check(data, size, CRYPTO_NAME_IP, "10.0.0.1", digest);
	check(data, size, CRYPTO_NAME_IP, "fd00::1", digest);
	return 0;
}
