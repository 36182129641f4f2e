/*
 * profile.c: the certificate profiles hearth offers when the operator names
 * none. A profile says how long a leaf lives and what it may be used for;
 * the table itself is owned by the caller (server/ builds it from
 * configuration and hands copies to acme/ and the signer).
 */
#include "crypto.h"

#include <stdio.h>
#include <string.h>

size_t
crypto_profile_defaults(struct crypto_profile out[CRYPTO_MAX_PROFILES])
{
	memset(out, 0, 2 * sizeof(*out));
	snprintf(out[0].name, sizeof(out[0].name), "classic");
	out[0].lifetime = 90L * 86400;
	out[0].key_usage = CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT;
	out[0].eku = CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH;
	/* Short enough that a compromised key is not worth revoking. */
	snprintf(out[1].name, sizeof(out[1].name), "shortlived");
	out[1].lifetime = 160L * 3600;
	out[1].key_usage = CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT;
	out[1].eku = CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH;
	return 2;
}
