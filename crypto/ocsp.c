/*
 * ocsp.c: OCSP for the intermediate's certificates (RFC 6960). Parses a
 * DER OCSPRequest of one Request (untrusted network input: every element
 * checked, nothing trusted beyond CRYPTO_OCSP_MAX_REQUEST bytes), tells
 * whether its CertID names the intermediate, and builds responses: the
 * signed BasicOCSPResponse (responderID byKey, no certificates: the
 * intermediate signs for its own certificates, §4.2.2.2) through the signer
 * operation PKI_OP_OCSP (pki_op_ocsp), and the unsigned error responses.
 * What a certificate's status is, and when, is decided by the caller.
 */
#include "pki_internal.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/hash.h>

#define PKI_DER_ENUM 0x0a
#define OCSP_SUCCESSFUL 0

static const uint8_t oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
static const uint8_t oid_sha256[] =
    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const uint8_t oid_sha384[] =
    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
static const uint8_t oid_sha512[] =
    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 };
static const uint8_t oid_basic[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
static const uint8_t oid_nonce[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02 };

/* The CertID hash algorithms (RFC 6960 §4.1.1, RFC 5019 uses SHA-1). */
static const struct hash_alg {
	int hash;
	const uint8_t *oid;
	size_t oid_len, len;
	enum wc_HashType type;
} hash_algs[] = {
	{ CRYPTO_SHA1, oid_sha1, sizeof(oid_sha1), 20, WC_HASH_TYPE_SHA },
	{ CRYPTO_SHA256, oid_sha256, sizeof(oid_sha256), 32, WC_HASH_TYPE_SHA256 },
	{ CRYPTO_SHA384, oid_sha384, sizeof(oid_sha384), 48, WC_HASH_TYPE_SHA384 },
	{ CRYPTO_SHA512, oid_sha512, sizeof(oid_sha512), 64, WC_HASH_TYPE_SHA512 },
};

static const struct hash_alg *
hash_by_id(int hash)
{
	size_t i;

	for (i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (hash_algs[i].hash == hash)
			return &hash_algs[i];
	return NULL;
}

static const struct hash_alg *
hash_by_oid(const struct pki_tlv *oid)
{
	size_t i;

	for (i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (hash_algs[i].oid_len == oid->val_len &&
		    memcmp(hash_algs[i].oid, oid->val, oid->val_len) == 0)
			return &hash_algs[i];
	return NULL;
}

/* ---- the request (network input) ------------------------------------------- */

/* AlgorithmIdentifier of a hash: the OID and absent or NULL parameters. */
static int
parse_hash_alg(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq);
	const struct hash_alg *h;
	struct pki_tlv oid, params;

	if (pki_der_expect(&d, PKI_DER_OID, &oid) != 0)
		return CRYPTO_ERR_PARSE;
	if (d.len > 0 && (pki_der_expect(&d, PKI_DER_NULL, &params) != 0 ||
	    params.val_len != 0 || d.len != 0))
		return CRYPTO_ERR_PARSE;
	if ((h = hash_by_oid(&oid)) == NULL)
		return CRYPTO_ERR_UNSUPPORTED;
	out->hash = h->hash;
	out->hash_len = h->len;
	return CRYPTO_OK;
}

/* A positive INTEGER of at most CRYPTO_MAX_SERIAL significant bytes. */
static int
parse_serial(const struct pki_tlv *t, struct crypto_ocsp_request *out)
{
	const uint8_t *p = t->val;
	size_t n = t->val_len;

	if (n == 0 || (p[0] & 0x80) != 0)
		return CRYPTO_ERR_PARSE;
	if (n > 1 && p[0] == 0 && (p[1] & 0x80) == 0)
		return CRYPTO_ERR_PARSE;          /* not the shortest form */
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n == 0 || n > CRYPTO_MAX_SERIAL)
		return CRYPTO_ERR_PARSE;
	memcpy(out->serial, p, n);
	out->serial_len = n;
	return CRYPTO_OK;
}

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
 * serialNumber } (§4.1.1). */
static int
parse_cert_id(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq);
	struct pki_tlv alg, name, key, serial;
	int ret;

	if (pki_der_expect(&d, PKI_DER_SEQ, &alg) != 0 ||
	    pki_der_expect(&d, PKI_DER_OCTETS, &name) != 0 ||
	    pki_der_expect(&d, PKI_DER_OCTETS, &key) != 0 ||
	    pki_der_expect(&d, PKI_DER_INTEGER, &serial) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	if ((ret = parse_hash_alg(&alg, out)) != 0)
		return ret;
	if (name.val_len != out->hash_len || key.val_len != out->hash_len)
		return CRYPTO_ERR_PARSE;
	memcpy(out->issuer_name_hash, name.val, name.val_len);
	memcpy(out->issuer_key_hash, key.val, key.val_len);
	return parse_serial(&serial, out);
}

/* Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0]
 * OPTIONAL }; the extensions are read for shape and otherwise ignored. */
static int
parse_one_request(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq);
	struct pki_tlv cert_id, t;

	if (pki_der_expect(&d, PKI_DER_SEQ, &cert_id) != 0)
		return CRYPTO_ERR_PARSE;
	if (d.len > 0 && (pki_der_expect(&d, 0xa0, &t) != 0 || d.len != 0))
		return CRYPTO_ERR_PARSE;
	return parse_cert_id(&cert_id, out);
}

/* requestList: exactly one Request is answered; several are refused. */
static int
parse_request_list(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq);
	struct pki_tlv req, more;

	if (pki_der_expect(&d, PKI_DER_SEQ, &req) != 0)
		return CRYPTO_ERR_PARSE;
	if (d.len > 0)
		return pki_der_expect(&d, PKI_DER_SEQ, &more) == 0 ?
		    CRYPTO_ERR_UNSUPPORTED : CRYPTO_ERR_PARSE;
	return parse_one_request(&req, out);
}

/* One Extension; the nonce is kept, any other is ignored (§4.4). */
static int
parse_extension(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq);
	struct pki_tlv oid, t;

	if (pki_der_expect(&d, PKI_DER_OID, &oid) != 0 ||
	    pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag == PKI_DER_BOOLEAN && (t.val_len != 1 ||
	    pki_der_next(&d, &t) != 0))
		return CRYPTO_ERR_PARSE;
	if (t.tag != PKI_DER_OCTETS || d.len != 0)
		return CRYPTO_ERR_PARSE;
	if (oid.val_len != sizeof(oid_nonce) ||
	    memcmp(oid.val, oid_nonce, sizeof(oid_nonce)) != 0)
		return CRYPTO_OK;
	if (out->has_nonce || t.val_len == 0 ||
	    t.val_len > CRYPTO_OCSP_MAX_NONCE)
		return CRYPTO_ERR_PARSE;
	memcpy(out->nonce, t.val, t.val_len);
	out->nonce_len = t.val_len;
	out->has_nonce = 1;
	return CRYPTO_OK;
}

/* requestExtensions [2] EXPLICIT Extensions. */
static int
parse_extensions(const struct pki_tlv *tagged, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(tagged), list;
	struct pki_tlv seq, ext;
	int ret;

	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0 || d.len != 0 ||
	    seq.val_len == 0)
		return CRYPTO_ERR_PARSE;
	list = pki_der_in(&seq);
	while (list.len > 0) {
		if (pki_der_expect(&list, PKI_DER_SEQ, &ext) != 0)
			return CRYPTO_ERR_PARSE;
		if ((ret = parse_extension(&ext, out)) != 0)
			return ret;
	}
	return CRYPTO_OK;
}

/* TBSRequest ::= SEQUENCE { version [0] DEFAULT v1, requestorName [1]
 * OPTIONAL, requestList, requestExtensions [2] OPTIONAL }. */
static int
parse_tbs(const struct pki_tlv *seq, struct crypto_ocsp_request *out)
{
	struct pki_der d = pki_der_in(seq), v;
	struct pki_tlv t, version;
	int ret;

	if (pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag == 0xa0) {
		v = pki_der_in(&t);
		if (pki_der_expect(&v, PKI_DER_INTEGER, &version) != 0 ||
		    v.len != 0 || version.val_len != 1 || version.val[0] != 0 ||
		    pki_der_next(&d, &t) != 0)
			return CRYPTO_ERR_PARSE;
	}
	if (t.tag == 0xa1 && pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag != PKI_DER_SEQ)
		return CRYPTO_ERR_PARSE;
	if ((ret = parse_request_list(&t, out)) != 0)
		return ret;
	if (d.len == 0)
		return CRYPTO_OK;
	if (pki_der_expect(&d, 0xa2, &t) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	return parse_extensions(&t, out);
}

int
crypto_ocsp_request_parse(const uint8_t *der, size_t len,
    struct crypto_ocsp_request *out)
{
	struct pki_der d = { der, len }, in;
	struct pki_tlv req, tbs, sig;
	int ret;

	if (out == NULL || (der == NULL && len > 0))
		return CRYPTO_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	if (len > CRYPTO_OCSP_MAX_REQUEST)
		return CRYPTO_ERR_TOO_LARGE;
	if (pki_der_expect(&d, PKI_DER_SEQ, &req) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	in = pki_der_in(&req);
	if (pki_der_expect(&in, PKI_DER_SEQ, &tbs) != 0)
		return CRYPTO_ERR_PARSE;
	/* optionalSignature [0]: its shape only; it is not verified */
	if (in.len > 0 && (pki_der_expect(&in, 0xa0, &sig) != 0 || in.len != 0))
		return CRYPTO_ERR_PARSE;
	if ((ret = parse_tbs(&tbs, out)) != 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

/* ---- the issuer --------------------------------------------------------------- */

/* The subjectPublicKey bits of a SubjectPublicKeyInfo (without the
 * unused-bits byte): what issuerKeyHash and KeyHash digest. */
static int
spki_key_bits(const struct pki_tlv *spki, const uint8_t **bits, size_t *len)
{
	struct pki_der d = pki_der_in(spki);
	struct pki_tlv alg, key;

	if (pki_der_expect(&d, PKI_DER_SEQ, &alg) != 0 ||
	    pki_der_expect(&d, PKI_DER_BITSTR, &key) != 0 || key.val_len < 2)
		return CRYPTO_ERR_PARSE;
	*bits = key.val + 1;
	*len = key.val_len - 1;
	return CRYPTO_OK;
}

static int
digest(const struct hash_alg *h, const uint8_t *in, size_t len, uint8_t *out)
{
	if (len > UINT32_MAX || wc_Hash(h->type, in, (word32)len, out,
	    (word32)h->len) != 0)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

int
crypto_signer_ocsp_issuer_matches(const struct crypto_signer *s,
    const struct crypto_ocsp_request *r)
{
	const struct hash_alg *h;
	const uint8_t *bits;
	uint8_t name[64], key[64];
	size_t bits_len;

	if (s == NULL || r == NULL || (h = hash_by_id(r->hash)) == NULL ||
	    r->hash_len != h->len)
		return 0;
	if (spki_key_bits(&s->view.spki, &bits, &bits_len) != 0 ||
	    digest(h, s->view.subject.der, s->view.subject.der_len, name) != 0 ||
	    digest(h, bits, bits_len, key) != 0)
		return 0;
	return memcmp(name, r->issuer_name_hash, h->len) == 0 &&
	    memcmp(key, r->issuer_key_hash, h->len) == 0;
}

/* ---- the operation's request ------------------------------------------------ */

/* PKI_OP_OCSP's request: one struct ocsp_wire, exactly. The response is
 * the OCSPResponse's DER. */
struct ocsp_wire {
	int64_t revoked_at, this_update, next_update, produced_at;
	int32_t hash, reason;
	uint32_t hash_len, serial_len, nonce_len, has_nonce, status;
	uint8_t issuer_name_hash[64], issuer_key_hash[64];
	uint8_t serial[CRYPTO_MAX_SERIAL];
	uint8_t nonce[CRYPTO_OCSP_MAX_NONCE];
};

_Static_assert(sizeof(struct ocsp_wire) <= PKI_OP_OCSP_MAX,
    "PKI_OP_OCSP_MAX holds the OCSP request");

static uint32_t
clamp32(size_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Copies what fits; the signer judges every length and value. */
static void
ocsp_encode(const struct crypto_ocsp_request *r,
    const struct crypto_ocsp_answer *a, struct ocsp_wire *w)
{
	memset(w, 0, sizeof(*w));
	w->hash = r->hash;
	w->hash_len = clamp32(r->hash_len);
	memcpy(w->issuer_name_hash, r->issuer_name_hash,
	    min_size(r->hash_len, sizeof(w->issuer_name_hash)));
	memcpy(w->issuer_key_hash, r->issuer_key_hash,
	    min_size(r->hash_len, sizeof(w->issuer_key_hash)));
	w->serial_len = clamp32(r->serial_len);
	memcpy(w->serial, r->serial, min_size(r->serial_len, sizeof(w->serial)));
	w->has_nonce = r->has_nonce != 0;
	w->nonce_len = clamp32(r->nonce_len);
	memcpy(w->nonce, r->nonce, min_size(r->nonce_len, sizeof(w->nonce)));
	w->status = (uint32_t)a->status;
	w->reason = a->reason;
	w->revoked_at = a->revoked_at;
	w->this_update = a->this_update;
	w->next_update = a->next_update;
	w->produced_at = a->produced_at;
}

/* Inside the signer: the CertID and the answer as RFC 6960 and this CA
 * allow. */
static int
ocsp_wire_check(const struct crypto_signer *s, const struct ocsp_wire *w,
    struct crypto_ocsp_request *r)
{
	const struct hash_alg *h = hash_by_id(w->hash);

	if (h == NULL || w->hash_len != h->len ||
	    w->serial_len > CRYPTO_MAX_SERIAL ||
	    !pki_serial_ok(w->serial, w->serial_len) || w->has_nonce > 1 ||
	    w->nonce_len > CRYPTO_OCSP_MAX_NONCE ||
	    (w->has_nonce != 0) != (w->nonce_len > 0))
		return CRYPTO_ERR_INVALID;
	if (w->status > CRYPTO_OCSP_UNKNOWN ||
	    !pki_update_times_ok((time_t)w->this_update, (time_t)w->next_update) ||
	    w->produced_at < w->this_update || w->produced_at > w->next_update)
		return CRYPTO_ERR_INVALID;
	if (w->status == CRYPTO_OCSP_REVOKED && (!pki_reason_ok(w->reason) ||
	    w->revoked_at <= 0 || w->revoked_at > w->this_update))
		return CRYPTO_ERR_INVALID;
	memset(r, 0, sizeof(*r));
	r->hash = w->hash;
	r->hash_len = w->hash_len;
	memcpy(r->issuer_name_hash, w->issuer_name_hash, h->len);
	memcpy(r->issuer_key_hash, w->issuer_key_hash, h->len);
	if (!crypto_signer_ocsp_issuer_matches(s, r))
		return CRYPTO_ERR_MISMATCH;
	return CRYPTO_OK;
}

/* ---- the response (in the signer) -------------------------------------------- */

/* GeneralizedTime, which OCSP uses for every time (§4.2.1). */
static void
gen_time(struct pki_buf *b, time_t t)
{
	struct tm tm;
	char s[32];
	int n;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		b->err = b->err != 0 ? b->err : CRYPTO_ERR_INVALID;
		return;
	}
	n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	pki_der_tlv(b, PKI_DER_GENTIME, s, (size_t)n);
}

static void
cert_id(struct pki_buf *b, const struct ocsp_wire *w)
{
	const struct hash_alg *h = hash_by_id(w->hash);
	size_t mark = b->len, alg;

	alg = b->len;
	pki_der_tlv(b, PKI_DER_OID, h->oid, h->oid_len);
	pki_der_tlv(b, PKI_DER_NULL, NULL, 0);
	pki_der_wrap(b, PKI_DER_SEQ, alg);
	pki_der_tlv(b, PKI_DER_OCTETS, w->issuer_name_hash, h->len);
	pki_der_tlv(b, PKI_DER_OCTETS, w->issuer_key_hash, h->len);
	pki_der_uint(b, w->serial, w->serial_len);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

/* CertStatus: good [0] NULL, revoked [1] RevokedInfo, unknown [2] NULL. */
static void
cert_status(struct pki_buf *b, const struct ocsp_wire *w)
{
	uint8_t reason = (uint8_t)w->reason;
	size_t mark = b->len, tagged;

	if (w->status == CRYPTO_OCSP_GOOD) {
		pki_der_tlv(b, 0x80, NULL, 0);
		return;
	}
	if (w->status == CRYPTO_OCSP_UNKNOWN) {
		pki_der_tlv(b, 0x82, NULL, 0);
		return;
	}
	gen_time(b, (time_t)w->revoked_at);
	if (w->reason != 0) {
		tagged = b->len;
		pki_der_tlv(b, PKI_DER_ENUM, &reason, 1);
		pki_der_wrap(b, 0xa0, tagged);
	}
	pki_der_wrap(b, 0xa1, mark);
}

static void
single_response(struct pki_buf *b, const struct ocsp_wire *w)
{
	size_t mark = b->len, next;

	cert_id(b, w);
	cert_status(b, w);
	gen_time(b, (time_t)w->this_update);
	next = b->len;
	gen_time(b, (time_t)w->next_update);
	pki_der_wrap(b, 0xa0, next);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

/* responseExtensions [1]: the request's nonce, echoed (RFC 8954). */
static void
nonce_ext(struct pki_buf *b, const struct ocsp_wire *w)
{
	size_t mark = b->len;

	pki_der_tlv(b, PKI_DER_OID, oid_nonce, sizeof(oid_nonce));
	pki_der_tlv(b, PKI_DER_OCTETS, w->nonce, w->nonce_len);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	pki_der_wrap(b, 0xa1, mark);
}

/* ResponseData (§4.2.1), v1 left at its default. */
static int
response_data(struct pki_buf *b, const struct crypto_signer *s,
    const struct ocsp_wire *w)
{
	uint8_t key_hash[20];
	size_t mark = b->len, m;
	int ret;

	if ((ret = pki_spki_key_id(s->view.spki.der, s->view.spki.der_len,
	    key_hash)) != 0)
		return ret;
	m = b->len;
	pki_der_tlv(b, PKI_DER_OCTETS, key_hash, sizeof(key_hash));
	pki_der_wrap(b, 0xa2, m);                 /* responderID byKey */
	gen_time(b, (time_t)w->produced_at);
	m = b->len;
	single_response(b, w);
	pki_der_wrap(b, PKI_DER_SEQ, m);
	if (w->has_nonce)
		nonce_ext(b, w);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	return b->err;
}

/* OCSPResponse { successful, responseBytes { id-pkix-ocsp-basic, basic } }. */
static void
response_wrap(struct pki_buf *out, const struct pki_buf *basic)
{
	static const uint8_t successful = OCSP_SUCCESSFUL;
	size_t mark = out->len, bytes;

	pki_der_tlv(out, PKI_DER_ENUM, &successful, 1);
	bytes = out->len;
	pki_der_tlv(out, PKI_DER_OID, oid_basic, sizeof(oid_basic));
	pki_der_tlv(out, PKI_DER_OCTETS, basic->p, basic->len);
	pki_der_wrap(out, PKI_DER_SEQ, bytes);
	pki_der_wrap(out, 0xa0, bytes);
	pki_der_wrap(out, PKI_DER_SEQ, mark);
}

int
pki_op_ocsp(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out)
{
	struct crypto_ocsp_request r;
	struct ocsp_wire w;
	struct pki_buf b = { 0 };
	int ret;

	if (len != sizeof(w))
		return CRYPTO_ERR_PARSE;
	memcpy(&w, req, sizeof(w));
	if ((ret = ocsp_wire_check(s, &w, &r)) != 0 ||
	    (ret = response_data(&b, s, &w)) != 0)
		goto out;
	pthread_mutex_lock(&s->lock);
	ret = pki_key_sign_tbs(s->key, &b);
	pthread_mutex_unlock(&s->lock);
	if (ret == 0)
		response_wrap(out, &b);
out:
	pki_buf_free(&b);
	return ret;
}

int
crypto_signer_ocsp(struct crypto_signer *s, const struct crypto_ocsp_request *r,
    const struct crypto_ocsp_answer *a, uint8_t **der, size_t *len)
{
	struct ocsp_wire w;

	if (der != NULL)
		*der = NULL;
	if (s == NULL || r == NULL || a == NULL || der == NULL || len == NULL)
		return CRYPTO_ERR_INVALID;
	ocsp_encode(r, a, &w);
	return pki_signer_call(s, PKI_OP_OCSP, (const uint8_t *)&w, sizeof(w),
	    der, len);
}

int
crypto_ocsp_error(int response_status, uint8_t **der, size_t *len)
{
	struct pki_buf b = { 0 };
	uint8_t status = (uint8_t)response_status;
	int ret;

	if (der != NULL)
		*der = NULL;
	if (der == NULL || len == NULL || (response_status != 1 &&
	    response_status != 2 && response_status != 3 &&
	    response_status != 5 && response_status != 6))
		return CRYPTO_ERR_INVALID;
	pki_der_tlv(&b, PKI_DER_ENUM, &status, 1);
	pki_der_wrap(&b, PKI_DER_SEQ, 0);
	if ((ret = b.err) != 0) {
		pki_buf_free(&b);
		return ret;
	}
	*der = b.p;
	*len = b.len;
	return CRYPTO_OK;
}
