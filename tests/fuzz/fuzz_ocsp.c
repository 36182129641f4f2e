/* fuzz_ocsp.c: OCSP request parsing (crypto/, RFC 6960 §4.1.1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crypto_ocsp_request r;
	char hex[2 * CRYPTO_MAX_SERIAL + 1];
	int ret = crypto_ocsp_request_parse(data, size, &r);

	if (ret == CRYPTO_OK) {
		/* what a successful parse promises its callers */
		if (r.serial_len == 0 || r.serial_len > CRYPTO_MAX_SERIAL ||
		    r.serial[0] == 0 || r.hash_len == 0 ||
		    r.hash_len > sizeof(r.issuer_name_hash) ||
		    r.nonce_len > CRYPTO_OCSP_MAX_NONCE ||
		    (r.has_nonce != 0) != (r.nonce_len > 0))
			abort();
		crypto_serial_hex(r.serial, r.serial_len, hex);
		if (strlen(hex) != 2 * r.serial_len)
			abort();
	} else if (ret != CRYPTO_ERR_PARSE && ret != CRYPTO_ERR_UNSUPPORTED &&
	    ret != CRYPTO_ERR_TOO_LARGE)
		abort();
	return 0;
}
