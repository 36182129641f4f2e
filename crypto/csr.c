/*
 * csr.c: PKCS#10 certificate requests (RFC 2986) from ACME finalize calls,
 * which are untrusted input. Caps the size, reads the public key and applies
 * the key policy, has wolfSSL verify the self-signature, and collects the
 * requested names (subjectAltName dNSName and iPAddress, then the subject
 * CN), each checked (DNS names by crypto_dns_name_check, name.c). Also
 * the RFC 7638 thumbprint of the request's key.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#define RSA_MAX_BYTES (CRYPTO_RSA_MAX_BITS / 8)

struct crypto_csr {
	struct crypto_name *names;
	size_t n_names;
	char *cn;
	enum pki_spki_kind kind;
	uint8_t *spki;
	size_t spki_len;
};

/* ---- names ----------------------------------------------------------------- */

static int
ip_name(const uint8_t *raw, size_t len, struct crypto_name *n)
{
	n->type = CRYPTO_NAME_IP;
	if (len == 4 && inet_ntop(AF_INET, raw, n->value, sizeof(n->value)) != NULL)
		return CRYPTO_OK;
	if (len == 16 && inet_ntop(AF_INET6, raw, n->value, sizeof(n->value)) != NULL)
		return CRYPTO_OK;
	return CRYPTO_ERR_NAME;
}

/* A CN is a DNS name or a textual IP address. */
static int
cn_name(const char *cn, struct crypto_name *n)
{
	uint8_t raw[16];

	if (inet_pton(AF_INET, cn, raw) == 1)
		return ip_name(raw, 4, n);
	if (inet_pton(AF_INET6, cn, raw) == 1)
		return ip_name(raw, 16, n);
	n->type = CRYPTO_NAME_DNS;
	return crypto_dns_name_check(cn, strlen(cn), 1, n->value, NULL);
}

static int
csr_add_name(struct crypto_csr *c, const struct crypto_name *n)
{
	size_t i;

	for (i = 0; i < c->n_names; i++)
		if (c->names[i].type == n->type &&
		    strcmp(c->names[i].value, n->value) == 0)
			return CRYPTO_OK;
	if (c->n_names >= CRYPTO_MAX_NAMES)
		return CRYPTO_ERR_TOO_LARGE;
	c->names[c->n_names++] = *n;
	return CRYPTO_OK;
}

/* Collects SAN entries and the CN from wolfSSL's decoded request. */
static int
csr_names(struct crypto_csr *c, DecodedCert *dc)
{
	struct crypto_name n;
	DNS_entry *e;
	int ret;

	if ((c->names = calloc(CRYPTO_MAX_NAMES, sizeof(*c->names))) == NULL)
		return CRYPTO_ERR_NOMEM;
	if (dc->altEmailNames != NULL || dc->altDirNames != NULL)
		return CRYPTO_ERR_NAME;
	for (e = dc->altNames; e != NULL; e = e->next) {
		memset(&n, 0, sizeof(n));
		if (e->len < 0 || e->name == NULL)
			return CRYPTO_ERR_NAME;
		if (e->type == ASN_DNS_TYPE) {
			n.type = CRYPTO_NAME_DNS;
			ret = crypto_dns_name_check(e->name, (size_t)e->len, 1, n.value,
			    NULL);
		} else if (e->type == ASN_IP_TYPE)
			ret = ip_name((const uint8_t *)e->name, (size_t)e->len, &n);
		else
			ret = CRYPTO_ERR_NAME;
		if (ret != 0 || (ret = csr_add_name(c, &n)) != 0)
			return ret;
	}
	if (dc->subjectCN == NULL || dc->subjectCNLen <= 0)
		return CRYPTO_OK;
	if ((size_t)dc->subjectCNLen > CRYPTO_MAX_NAME_LEN)
		return CRYPTO_ERR_NAME;
	if ((c->cn = strndup(dc->subjectCN, (size_t)dc->subjectCNLen)) == NULL)
		return CRYPTO_ERR_NOMEM;
	memset(&n, 0, sizeof(n));
	if (strlen(c->cn) != (size_t)dc->subjectCNLen || cn_name(c->cn, &n) != 0)
		return CRYPTO_ERR_NAME;
	return csr_add_name(c, &n);
}

/* ---- the key --------------------------------------------------------------- */

/* The key policy is the one the signer applies (spki.c). */
static int
csr_key(struct crypto_csr *c, const struct pki_tlv *spki)
{
	return pki_spki_check(spki->der, spki->der_len, &c->kind);
}

/* CertificationRequest ::= SEQUENCE { info SEQUENCE { version, subject,
 * subjectPKInfo, [0] attributes }, algorithm, signature } */
static int
csr_structure(struct crypto_csr *c, const uint8_t *der, size_t len)
{
	struct pki_der d = { der, len }, i;
	struct pki_tlv req, info, t, spki;

	if (pki_der_expect(&d, PKI_DER_SEQ, &req) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&req);
	if (pki_der_expect(&d, PKI_DER_SEQ, &info) != 0 ||
	    pki_der_expect(&d, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&d, PKI_DER_BITSTR, &t) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	i = pki_der_in(&info);
	if (pki_der_expect(&i, PKI_DER_INTEGER, &t) != 0 ||
	    pki_der_expect(&i, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&i, PKI_DER_SEQ, &spki) != 0)
		return CRYPTO_ERR_PARSE;
	if ((c->spki = malloc(spki.der_len)) == NULL)
		return CRYPTO_ERR_NOMEM;
	memcpy(c->spki, spki.der, spki.der_len);
	c->spki_len = spki.der_len;
	return csr_key(c, &spki);
}

static int
map_parse_error(int err)
{
	switch (err) {
	case ASN_SIG_CONFIRM_E:
	case SIG_VERIFY_E:
	case ASN_SIG_KEY_E:
	case ASN_SIG_OID_E:
		return CRYPTO_ERR_SIGNATURE;
	case ASN_SIG_HASH_E:
		return CRYPTO_ERR_UNSUPPORTED;
	case MEMORY_E:
		return CRYPTO_ERR_NOMEM;
	default:
		return CRYPTO_ERR_PARSE;
	}
}

/* wolfSSL verifies the self-signature while it decodes (VERIFY). */
static int
csr_decode(struct crypto_csr *c, const uint8_t *der, size_t len)
{
	DecodedCert *dc;
	int ret;

	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return CRYPTO_ERR_NOMEM;
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	ret = wc_ParseCert(dc, CERTREQ_TYPE, VERIFY, NULL);
	if (ret != 0)
		ret = map_parse_error(ret);
	else if (!dc->isCSR)
		ret = CRYPTO_ERR_PARSE;
	else
		ret = csr_names(c, dc);
	wc_FreeDecodedCert(dc);
	free(dc);
	return ret;
}

struct crypto_csr *
crypto_csr_parse_der(const uint8_t *der, size_t len, int *err)
{
	struct crypto_csr *c = NULL;
	int ret;

	if (der == NULL && len > 0) {
		ret = CRYPTO_ERR_INVALID;
		goto out;
	}
	if (len > CRYPTO_MAX_CSR_BYTES) {
		ret = CRYPTO_ERR_TOO_LARGE;
		goto out;
	}
	if (len == 0) {
		ret = CRYPTO_ERR_PARSE;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ret = CRYPTO_ERR_NOMEM;
		goto out;
	}
	if ((ret = csr_structure(c, der, len)) == 0)
		ret = csr_decode(c, der, len);
out:
	if (ret != 0) {
		crypto_csr_free(c);
		c = NULL;
	}
	if (err != NULL)
		*err = ret;
	return c;
}

struct crypto_csr *
crypto_csr_parse_pem(const char *pem, size_t len, int *err)
{
	struct crypto_csr *c = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int ret;

	if (pem == NULL) {
		ret = CRYPTO_ERR_INVALID;
		goto out;
	}
	if (len > CRYPTO_MAX_PEM_BYTES) {
		ret = CRYPTO_ERR_TOO_LARGE;
		goto out;
	}
	if ((ret = pki_pem_decode(pem, len, "CERTIFICATE REQUEST", &der,
	    &derlen)) == CRYPTO_ERR_PARSE)
		ret = pki_pem_decode(pem, len, "NEW CERTIFICATE REQUEST", &der,
		    &derlen);
	if (ret == 0)
		c = crypto_csr_parse_der(der, derlen, &ret);
	free(der);
out:
	if (err != NULL)
		*err = ret;
	return c;
}

void
crypto_csr_free(struct crypto_csr *csr)
{
	if (csr == NULL)
		return;
	free(csr->names);
	free(csr->cn);
	free(csr->spki);
	free(csr);
}

size_t
crypto_csr_names(const struct crypto_csr *csr, const struct crypto_name **names)
{
	if (csr == NULL) {
		if (names != NULL)
			*names = NULL;
		return 0;
	}
	if (names != NULL)
		*names = csr->names;
	return csr->n_names;
}

const uint8_t *
pki_csr_spki(const struct crypto_csr *csr, size_t *len)
{
	*len = csr->spki_len;
	return csr->spki;
}

const char *
crypto_csr_common_name(const struct crypto_csr *csr)
{
	return csr != NULL ? csr->cn : NULL;
}

/* ---- RFC 7638 thumbprint ----------------------------------------------------- */

static int
b64_member(struct pki_buf *b, const char *name, const uint8_t *v, size_t len)
{
	char enc[2 * RSA_MAX_BYTES];
	int n;

	if ((n = crypto_b64url_encode(v, len, enc, sizeof(enc))) < 0)
		return n;
	pki_buf_raw(b, "\"", 1);
	pki_buf_raw(b, name, strlen(name));
	pki_buf_raw(b, "\":\"", 3);
	pki_buf_raw(b, enc, (size_t)n);
	pki_buf_raw(b, "\"", 1);
	return CRYPTO_OK;
}

static int
jwk_rsa(const struct crypto_csr *c, struct pki_buf *b)
{
	RsaKey rsa;
	uint8_t n[RSA_MAX_BYTES], e[8];
	word32 idx = 0, nlen = sizeof(n), elen = sizeof(e);
	int ret = CRYPTO_ERR_INTERNAL;

	if (wc_InitRsaKey(&rsa, NULL) != 0)
		return CRYPTO_ERR_INTERNAL;
	if (wc_RsaPublicKeyDecode(c->spki, &idx, &rsa, (word32)c->spki_len) == 0 &&
	    wc_RsaFlattenPublicKey(&rsa, e, &elen, n, &nlen) == 0) {
		pki_buf_raw(b, "{", 1);
		if ((ret = b64_member(b, "e", e, elen)) == 0) {
			pki_buf_raw(b, ",\"kty\":\"RSA\",", 13);
			ret = b64_member(b, "n", n, nlen);
		}
		pki_buf_raw(b, "}", 1);
	}
	wc_FreeRsaKey(&rsa);
	return ret;
}

/* EC and OKP keys: the point from the SubjectPublicKeyInfo BIT STRING. */
static int
jwk_point(const struct crypto_csr *c, struct pki_buf *b)
{
	struct pki_der d = { c->spki, c->spki_len };
	struct pki_tlv seq, t;
	size_t flen;
	int ret;

	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&seq);
	if (pki_der_expect(&d, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&d, PKI_DER_BITSTR, &t) != 0 || t.val_len < 2)
		return CRYPTO_ERR_PARSE;
	if (c->kind == PKI_SPKI_ED25519) {
		pki_buf_raw(b, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",", 29);
		ret = b64_member(b, "x", t.val + 1, t.val_len - 1);
		pki_buf_raw(b, "}", 1);
		return ret;
	}
	flen = c->kind == PKI_SPKI_P256 ? 32 : 48;
	if (t.val_len != 2 + 2 * flen || t.val[1] != 0x04)
		return CRYPTO_ERR_UNSUPPORTED;   /* compressed points */
	pki_buf_raw(b, c->kind == PKI_SPKI_P256 ? "{\"crv\":\"P-256\"," :
	    "{\"crv\":\"P-384\",", 15);
	pki_buf_raw(b, "\"kty\":\"EC\",", 11);
	if ((ret = b64_member(b, "x", t.val + 2, flen)) != 0)
		return ret;
	pki_buf_raw(b, ",", 1);
	ret = b64_member(b, "y", t.val + 2 + flen, flen);
	pki_buf_raw(b, "}", 1);
	return ret;
}

int
crypto_csr_key_thumbprint(const struct crypto_csr *csr,
    char out[CRYPTO_THUMBPRINT_LEN + 1])
{
	struct pki_buf b = { 0 };
	uint8_t digest[32];
	int ret;

	if (csr == NULL || out == NULL)
		return CRYPTO_ERR_INVALID;
	if (csr->kind == PKI_SPKI_RSA)
		ret = jwk_rsa(csr, &b);
	else
		ret = jwk_point(csr, &b);
	if (ret == 0 && (ret = b.err) == 0 &&
	    (ret = crypto_sha256(b.p, b.len, digest)) == 0 &&
	    (ret = crypto_b64url_encode(digest, sizeof(digest), out,
	    CRYPTO_THUMBPRINT_LEN + 1)) > 0)
		ret = CRYPTO_OK;
	pki_buf_free(&b);
	return ret;
}

int
pki_spki_thumbprint(const uint8_t *spki, size_t len,
    char out[CRYPTO_THUMBPRINT_LEN + 1])
{
	struct crypto_csr c;
	struct pki_der d = { spki, len };
	struct pki_tlv t;
	int ret;

	memset(&c, 0, sizeof(c));
	if (pki_der_expect(&d, PKI_DER_SEQ, &t) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	if ((ret = csr_key(&c, &t)) != CRYPTO_OK)
		return ret;
	c.spki = (uint8_t *)spki;
	c.spki_len = len;
	return crypto_csr_key_thumbprint(&c, out);
}
