/*
 * certinfo.c: reading back a certificate a client presents (revocation):
 * its serial number, validity and the thumbprint of its key. Parsing only;
 * whether the certificate is one of ours is decided by the caller, who
 * compares it with what it stored at issuance.
 */
#include "pki_internal.h"

#include <string.h>

int
crypto_cert_info(const uint8_t *der, size_t len, struct crypto_cert_info *out)
{
	struct pki_cert_view v;
	struct pki_der d;
	struct pki_tlv t;
	size_t i, o = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0)
		return CRYPTO_ERR_PARSE;
	if (len > CRYPTO_MAX_PEM_BYTES)
		return CRYPTO_ERR_TOO_LARGE;
	if ((ret = pki_cert_view(der, len, &v)) != CRYPTO_OK)
		return ret;
	/* TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, ... } */
	d = pki_der_in(&v.tbs);
	if (pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag == 0xa0 && pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag != PKI_DER_INTEGER || t.val_len == 0 || t.val_len > 21)
		return CRYPTO_ERR_PARSE;
	for (i = 0; i < t.val_len; i++) {
		static const char hex[] = "0123456789abcdef";

		if (o == 0 && t.val[i] == 0 && i + 1 < t.val_len)
			continue;  /* sign padding */
		if (o + 2 >= sizeof(out->serial))
			return CRYPTO_ERR_PARSE;
		out->serial[o++] = hex[t.val[i] >> 4];
		out->serial[o++] = hex[t.val[i] & 15];
	}
	out->serial[o] = '\0';
	out->not_before = v.not_before;
	out->not_after = v.not_after;
	return pki_spki_thumbprint(v.spki.der, v.spki.der_len, out->key_thumbprint);
}
