/* fuzz_jwk.c: JWK parsing, thumbprints and canonical JSON (crypto/). */
#include <stdint.h>
#include <stdlib.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct crypto_jwk *jwk;
	char thumb[CRYPTO_THUMBPRINT_LEN + 1];

	if (!ready && crypto_init() == 0)
		ready = 1;
	if ((jwk = crypto_jwk_parse((const char *)data, size, NULL)) != NULL) {
		crypto_jwk_thumbprint(jwk, thumb);
		free(crypto_jwk_to_json(jwk));
		crypto_jwk_free(jwk);
	}
	return 0;
}
