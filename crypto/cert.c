/*
 * cert.c: builds X.509 v3 certificates (RFC 5280): Names, the extensions the
 * CA uses, the TBSCertificate with a time-ordered serial, and the signature
 * through key.c. It decides nothing about profiles; ca.c and leaf.c choose the
 * extensions. No files, no parsing of untrusted input.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t oid_basic[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_eku[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_ski[] = { 0x55, 0x1d, 0x0e };
static const uint8_t oid_aki[] = { 0x55, 0x1d, 0x23 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_crl_dp[] = { 0x55, 0x1d, 0x1f };
static const uint8_t oid_aia[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 };
static const uint8_t oid_ad_ocsp[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01 };
static const uint8_t oid_ad_ca_issuers[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02 };
static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_org[] = { 0x55, 0x04, 0x0a };
static const uint8_t oid_server_auth[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const uint8_t oid_client_auth[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };

/* Opens an Extension: its OID and criticality; returns the mark of the
 * SEQUENCE and sets *value to the mark of the extnValue contents. */
static size_t
ext_begin(struct pki_buf *b, const uint8_t *oid, size_t oidlen, int critical,
    size_t *value)
{
	size_t mark = b->len;
	static const uint8_t yes = 0xff;

	pki_der_tlv(b, PKI_DER_OID, oid, oidlen);
	if (critical)
		pki_der_tlv(b, PKI_DER_BOOLEAN, &yes, 1);
	*value = b->len;
	return mark;
}

static void
ext_end(struct pki_buf *b, size_t mark, size_t value)
{
	pki_der_wrap(b, PKI_DER_OCTETS, value);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

void
pki_ext_basic(struct pki_buf *b, int ca, int pathlen)
{
	static const uint8_t yes = 0xff;
	size_t value, mark = ext_begin(b, oid_basic, sizeof(oid_basic), 1, &value);
	size_t seq = b->len;

	if (ca) {
		pki_der_tlv(b, PKI_DER_BOOLEAN, &yes, 1);
		if (pathlen >= 0)
			pki_der_small_uint(b, (unsigned long)pathlen);
	}
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

void
pki_ext_key_usage(struct pki_buf *b, unsigned bits)
{
	size_t value, mark = ext_begin(b, oid_key_usage, sizeof(oid_key_usage),
	    1, &value);
	uint8_t v[2];

	v[1] = (uint8_t)bits;
	for (v[0] = 0; v[0] < 7 && (v[1] & (1u << v[0])) == 0; v[0]++)
		;
	pki_der_tlv(b, PKI_DER_BITSTR, v, 2);
	ext_end(b, mark, value);
}

void
pki_ext_eku(struct pki_buf *b, unsigned which)
{
	size_t value, mark = ext_begin(b, oid_eku, sizeof(oid_eku), 0, &value);
	size_t seq = b->len;

	if (which & PKI_EKU_SERVER)
		pki_der_tlv(b, PKI_DER_OID, oid_server_auth,
		    sizeof(oid_server_auth));
	if (which & PKI_EKU_CLIENT)
		pki_der_tlv(b, PKI_DER_OID, oid_client_auth,
		    sizeof(oid_client_auth));
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

void
pki_ext_ski(struct pki_buf *b, const uint8_t *id, size_t len)
{
	size_t value, mark = ext_begin(b, oid_ski, sizeof(oid_ski), 0, &value);

	pki_der_tlv(b, PKI_DER_OCTETS, id, len);
	ext_end(b, mark, value);
}

void
pki_ext_aki(struct pki_buf *b, const uint8_t *id, size_t len)
{
	size_t value, mark = ext_begin(b, oid_aki, sizeof(oid_aki), 0, &value);
	size_t seq = b->len;

	pki_der_tlv(b, 0x80, id, len);   /* [0] keyIdentifier */
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

/* GeneralName dNSName [2] IA5String or iPAddress [7] OCTET STRING. */
static void
general_name(struct pki_buf *b, const struct crypto_name *n)
{
	uint8_t ip[16];

	if (n->type == CRYPTO_NAME_DNS) {
		pki_der_tlv(b, 0x82, n->value, strlen(n->value));
		return;
	}
	if (inet_pton(AF_INET, n->value, ip) == 1)
		pki_der_tlv(b, 0x87, ip, 4);
	else if (inet_pton(AF_INET6, n->value, ip) == 1)
		pki_der_tlv(b, 0x87, ip, 16);
	else
		b->err = CRYPTO_ERR_NAME;
}

void
pki_ext_san(struct pki_buf *b, const struct crypto_name *names, size_t n,
    int critical)
{
	size_t value, mark = ext_begin(b, oid_san, sizeof(oid_san), critical,
	    &value);
	size_t seq = b->len, i;

	for (i = 0; i < n; i++)
		general_name(b, &names[i]);
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

/* DistributionPoint ::= SEQUENCE { distributionPoint [0] { fullName [0]
 * GeneralNames { uniformResourceIdentifier [6] } } } */
void
pki_ext_crl_dp(struct pki_buf *b, const char *uri)
{
	size_t value, mark = ext_begin(b, oid_crl_dp, sizeof(oid_crl_dp), 0,
	    &value);
	size_t seq = b->len, dp, point, full;

	dp = b->len;
	point = b->len;
	full = b->len;
	pki_der_tlv(b, 0x86, uri, strlen(uri));
	pki_der_wrap(b, 0xa0, full);       /* fullName [0] IMPLICIT GeneralNames */
	pki_der_wrap(b, 0xa0, point);      /* distributionPoint [0] */
	pki_der_wrap(b, PKI_DER_SEQ, dp);
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

/* AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation
 * GeneralName (uniformResourceIdentifier [6]) } */
static void
access_description(struct pki_buf *b, const uint8_t *oid, size_t oidlen,
    const char *uri)
{
	size_t mark = b->len;

	pki_der_tlv(b, PKI_DER_OID, oid, oidlen);
	pki_der_tlv(b, 0x86, uri, strlen(uri));
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

void
pki_ext_aia(struct pki_buf *b, const char *ocsp_uri, const char *issuer_uri)
{
	size_t value, mark = ext_begin(b, oid_aia, sizeof(oid_aia), 0, &value);
	size_t seq = b->len;

	if (ocsp_uri != NULL)
		access_description(b, oid_ad_ocsp, sizeof(oid_ad_ocsp), ocsp_uri);
	access_description(b, oid_ad_ca_issuers, sizeof(oid_ad_ca_issuers),
	    issuer_uri);
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	ext_end(b, mark, value);
}

static void
name_attr(struct pki_buf *b, const uint8_t *oid, size_t oidlen,
    const char *value)
{
	size_t set = b->len, seq;

	seq = b->len;
	pki_der_tlv(b, PKI_DER_OID, oid, oidlen);
	pki_der_tlv(b, PKI_DER_UTF8, value, strlen(value));
	pki_der_wrap(b, PKI_DER_SEQ, seq);
	pki_der_wrap(b, PKI_DER_SET, set);
}

void
pki_name(struct pki_buf *b, const char *org, const char *cn)
{
	size_t mark = b->len;

	if (org != NULL)
		name_attr(b, oid_org, sizeof(oid_org), org);
	if (cn != NULL)
		name_attr(b, oid_cn, sizeof(oid_cn), cn);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

/*
 * A serial is 16 bytes: a format octet 0x01 (keeps it positive and 16 bytes
 * long in DER), the issuance time as 32 bits of seconds and 16 bits of a
 * second's fraction (big-endian), then 72 bits from the CSPRNG (CA/Browser
 * Forum BR 7.1 asks for at least 64). Serials therefore sort by issuance,
 * so the store's certificate table (keyed by serial) grows at its right
 * edge and keeps its pages full; uniqueness rests on the random part and is
 * still checked where a record is written.
 */
static int
new_serial(uint8_t serial[CRYPTO_SERIAL_BYTES])
{
	struct timespec ts;
	uint32_t sec, frac;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return CRYPTO_ERR_INTERNAL;
	sec = (uint32_t)ts.tv_sec;
	frac = (uint32_t)(((uint64_t)ts.tv_nsec << 16) / 1000000000u);
	serial[0] = CRYPTO_SERIAL_FORMAT;
	serial[1] = (uint8_t)(sec >> 24);
	serial[2] = (uint8_t)(sec >> 16);
	serial[3] = (uint8_t)(sec >> 8);
	serial[4] = (uint8_t)sec;
	serial[5] = (uint8_t)(frac >> 8);
	serial[6] = (uint8_t)frac;
	if (crypto_random(serial + CRYPTO_SERIAL_TIME_BYTES,
	    CRYPTO_SERIAL_BYTES - CRYPTO_SERIAL_TIME_BYTES) != 0)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

static void
tbs_build(struct pki_buf *b, const struct pki_cert_spec *spec,
    const uint8_t *serial, const uint8_t *alg, size_t alglen)
{
	static const uint8_t v3[] = { 0x02, 0x01, 0x02 };
	size_t mark = b->len, m;

	pki_der_tlv(b, 0xa0, v3, sizeof(v3));
	pki_der_uint(b, serial, CRYPTO_SERIAL_BYTES);
	pki_buf_raw(b, alg, alglen);
	if (spec->issuer != NULL)
		pki_buf_raw(b, spec->issuer, spec->issuer_len);
	else
		pki_buf_raw(b, spec->subject, spec->subject_len);
	m = b->len;
	pki_der_time(b, spec->not_before);
	pki_der_time(b, spec->not_after);
	pki_der_wrap(b, PKI_DER_SEQ, m);
	pki_buf_raw(b, spec->subject, spec->subject_len);
	pki_buf_raw(b, spec->spki, spec->spki_len);
	if (spec->exts_len > 0) {
		m = b->len;
		pki_buf_raw(b, spec->exts, spec->exts_len);
		pki_der_wrap(b, PKI_DER_SEQ, m);
		pki_der_wrap(b, 0xa3, m);
	}
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

int
pki_cert_sign(const struct pki_cert_spec *spec, struct pki_key *signer,
    uint8_t serial[CRYPTO_SERIAL_BYTES], uint8_t **der, size_t *len)
{
	struct pki_buf b = { 0 };
	const uint8_t *alg;
	size_t alglen;
	int ret;

	*der = NULL;
	if (spec->not_after <= spec->not_before)
		return CRYPTO_ERR_INVALID;
	if ((ret = new_serial(serial)) != 0)
		return ret;
	alg = pki_key_sig_alg(signer, &alglen);
	tbs_build(&b, spec, serial, alg, alglen);
	if ((ret = pki_key_sign_tbs(signer, &b)) != 0)
		goto out;
	*der = b.p;
	*len = b.len;
	b.p = NULL;
out:
	pki_buf_free(&b);
	return ret;
}
