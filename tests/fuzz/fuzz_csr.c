/* fuzz_csr.c: CSR parsing and signature checking (crypto/). */
#include <stdint.h>
#include <stdlib.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const struct crypto_name *names;
	struct crypto_csr *csr;
	char thumb[CRYPTO_THUMBPRINT_LEN + 1];

	if (!ready && crypto_init() == 0)
		ready = 1;
	if ((csr = crypto_csr_parse_der(data, size, NULL)) != NULL) {
		(void)crypto_csr_names(csr, &names);
		(void)crypto_csr_common_name(csr);
		(void)crypto_csr_key_thumbprint(csr, thumb);
		crypto_csr_free(csr);
	}
	return 0;
}
