/*
 * certinfo.c: reading back a certificate a client presents (revocation):
 * its serial number, validity and the thumbprint of its key; and the ARI
 * identifier (RFC 9773) of a certificate, computed once at issuance.
 * Parsing only; whether the certificate is one of ours is decided by the
 * caller, who compares it with what it stored at issuance.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The serialNumber INTEGER of a certificate (at most 20 octets and a sign
 * byte, RFC 5280 §4.1.2.2). */
static int
cert_serial(const struct pki_cert_view *v, struct pki_tlv *t)
{
	struct pki_der d;

	/* TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, ... } */
	d = pki_der_in(&v->tbs);
	if (pki_der_next(&d, t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t->tag == 0xa0 && pki_der_next(&d, t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t->tag != PKI_DER_INTEGER || t->val_len == 0 || t->val_len > 21)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

int
crypto_cert_info(const uint8_t *der, size_t len, struct crypto_cert_info *out)
{
	struct pki_cert_view v;
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
	if ((ret = cert_serial(&v, &t)) != CRYPTO_OK)
		return ret;
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

/* The keyIdentifier [0] of the AuthorityKeyIdentifier extension. */
static int
cert_aki(const struct pki_cert_view *v, struct pki_tlv *id)
{
	static const uint8_t oid_aki[] = { 0x55, 0x1d, 0x23 };
	struct pki_tlv ext, seq;
	struct pki_der d;

	if (pki_cert_ext(v, oid_aki, sizeof(oid_aki), &ext) != CRYPTO_OK)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&ext);
	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&seq);
	if (pki_der_next(&d, id) != 0 || id->tag != 0x80 || id->val_len == 0 ||
	    id->val_len > 64)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

int
crypto_cert_ari_id(const uint8_t *der, size_t len, char *out, size_t outsz)
{
	struct pki_cert_view v;
	struct pki_tlv aki, serial;
	int n, m, ret;

	if (outsz > 0)
		out[0] = '\0';
	if (der == NULL || len == 0)
		return CRYPTO_ERR_PARSE;
	if (len > CRYPTO_MAX_PEM_BYTES)
		return CRYPTO_ERR_TOO_LARGE;
	if ((ret = pki_cert_view(der, len, &v)) != CRYPTO_OK ||
	    (ret = cert_aki(&v, &aki)) != CRYPTO_OK ||
	    (ret = cert_serial(&v, &serial)) != CRYPTO_OK)
		return ret;
	if ((n = crypto_b64url_encode(aki.val, aki.val_len, out, outsz)) < 0)
		return n;
	if ((size_t)n + 2 > outsz)
		return CRYPTO_ERR_TOO_LARGE;
	out[n] = '.';
	if ((m = crypto_b64url_encode(serial.val, serial.val_len, out + n + 1,
	    outsz - (size_t)n - 1)) < 0) {
		out[0] = '\0';
		return m;
	}
	return CRYPTO_OK;
}

/* The one subjectAltName entry must be the identifier. */
static int
alpn_san_check(const struct pki_cert_view *v, const struct crypto_name *name,
    char *why, size_t whysz)
{
	static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
	struct pki_tlv san, seq, gn;
	struct pki_der d;
	unsigned char ip[16];
	size_t iplen = 0;
	int n = 0, match = 0;

	if (pki_cert_ext(v, oid_san, sizeof(oid_san), &san) != CRYPTO_OK) {
		snprintf(why, whysz, "no subjectAltName extension");
		return CRYPTO_ERR_MISMATCH;
	}
	d = pki_der_in(&san);
	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0) {
		snprintf(why, whysz, "malformed subjectAltName");
		return CRYPTO_ERR_PARSE;
	}
	if (name->type == CRYPTO_NAME_IP) {
		if (inet_pton(AF_INET, name->value, ip) == 1)
			iplen = 4;
		else if (inet_pton(AF_INET6, name->value, ip) == 1)
			iplen = 16;
	}
	d = pki_der_in(&seq);
	while (d.len > 0) {
		if (pki_der_next(&d, &gn) != 0) {
			snprintf(why, whysz, "malformed subjectAltName");
			return CRYPTO_ERR_PARSE;
		}
		n++;
		if (name->type == CRYPTO_NAME_DNS && gn.tag == 0x82 &&
		    gn.val_len == strlen(name->value) &&
		    strncasecmp((const char *)gn.val, name->value, gn.val_len) == 0)
			match = 1;
		if (name->type == CRYPTO_NAME_IP && gn.tag == 0x87 && iplen > 0 &&
		    gn.val_len == iplen && memcmp(gn.val, ip, iplen) == 0)
			match = 1;
	}
	if (!match || n != 1) {
		snprintf(why, whysz, "subjectAltName must hold exactly %s %s",
		    name->type == CRYPTO_NAME_IP ? "the IP address" : "the name",
		    name->value);
		return CRYPTO_ERR_MISMATCH;
	}
	return CRYPTO_OK;
}

int
crypto_acme_tls_cert_check(const uint8_t *der, size_t len,
    const struct crypto_name *name, const uint8_t digest[32], char *why,
    size_t whysz)
{
	static const uint8_t oid_acme_id[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
	    0x01, 0x1f };
	struct pki_cert_view v;
	struct pki_tlv ext, oct;
	struct pki_der d;
	int critical, ret;

	if (der == NULL || len == 0 || len > CRYPTO_MAX_PEM_BYTES ||
	    pki_cert_view(der, len, &v) != CRYPTO_OK) {
		snprintf(why, whysz, "no certificate, or not a parseable one");
		return CRYPTO_ERR_PARSE;
	}
	if (v.issuer.der_len != v.subject.der_len ||
	    memcmp(v.issuer.der, v.subject.der, v.issuer.der_len) != 0) {
		snprintf(why, whysz, "certificate is not self-signed (issuer differs "
		    "from subject)");
		return CRYPTO_ERR_MISMATCH;
	}
	if ((ret = alpn_san_check(&v, name, why, whysz)) != CRYPTO_OK)
		return ret;
	if (pki_cert_ext_crit(&v, oid_acme_id, sizeof(oid_acme_id), &ext,
	    &critical) != CRYPTO_OK) {
		snprintf(why, whysz, "no acmeIdentifier extension");
		return CRYPTO_ERR_MISMATCH;
	}
	if (!critical) {
		snprintf(why, whysz, "acmeIdentifier extension is not critical");
		return CRYPTO_ERR_MISMATCH;
	}
	d = pki_der_in(&ext);
	if (pki_der_expect(&d, PKI_DER_OCTETS, &oct) != 0 || d.len != 0 ||
	    oct.val_len != 32) {
		snprintf(why, whysz, "acmeIdentifier is not an OCTET STRING of 32 bytes");
		return CRYPTO_ERR_MISMATCH;
	}
	if (memcmp(oct.val, digest, 32) != 0) {
		snprintf(why, whysz, "acmeIdentifier does not hold the SHA-256 of the "
		    "key authorization");
		return CRYPTO_ERR_MISMATCH;
	}
	return CRYPTO_OK;
}
