/* fuzz_certinfo.c: reading certificates clients present for revocation. */
#include <stdint.h>
#include <stdlib.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct crypto_cert_info info;

	if (!ready && crypto_init() == 0)
		ready = 1;
	(void)crypto_cert_info(data, size, &info);
	free(crypto_cert_der_to_pem(data, size));
	return 0;
}
