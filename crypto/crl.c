/*
 * crl.c: full certificate revocation lists of the intermediate (RFC 5280
 * §5): v2, issuer = the intermediate's subject, thisUpdate/nextUpdate, one
 * entry per revoked serial with its revocation date and, unless it is
 * unspecified (0), a reasonCode; crlExtensions AKI and cRLNumber. The list
 * is built and signed by the signer operation PKI_OP_CRL (pki_op_crl) in
 * the process that holds the key, which checks every field it is sent.
 * Also the serial text helpers and the revocation checks ocsp.c shares.
 * Nothing here reads a clock or decides which certificates are revoked.
 */
#include "pki_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t oid_crl_number[] = { 0x55, 0x1d, 0x14 };
static const uint8_t oid_reason[] = { 0x55, 0x1d, 0x15 };

#define PKI_DER_ENUM      0x0a
#define REASON_UNUSED     7
#define REASON_REMOVE     8       /* removeFromCRL: delta CRLs only */
#define REASON_MAX        10      /* aACompromise */
#define SERIAL_TEXT_MAX   128     /* characters crypto_serial_parse reads */

/* ---- serials and shared checks --------------------------------------------- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Collects the hex digits of text into nibbles[]; colons may separate
 * digits but neither start nor end it, nor follow each other. */
static int
serial_nibbles(const char *text, uint8_t *nibbles, size_t *n)
{
	size_t i, len = strnlen(text, SERIAL_TEXT_MAX + 1);
	int v;

	*n = 0;
	if (len == 0 || len > SERIAL_TEXT_MAX)
		return CRYPTO_ERR_PARSE;
	for (i = 0; i < len; i++) {
		if (text[i] == ':') {
			if (i == 0 || i + 1 == len || text[i - 1] == ':')
				return CRYPTO_ERR_PARSE;
			continue;
		}
		if ((v = hex_value(text[i])) < 0)
			return CRYPTO_ERR_PARSE;
		nibbles[(*n)++] = (uint8_t)v;
	}
	return CRYPTO_OK;
}

int
crypto_serial_parse(const char *hex, uint8_t out[CRYPTO_MAX_SERIAL],
    size_t *len)
{
	uint8_t nib[SERIAL_TEXT_MAX], bytes[SERIAL_TEXT_MAX / 2 + 1];
	size_t n, i, nb, first = 0;

	if (hex == NULL || out == NULL || len == NULL ||
	    serial_nibbles(hex, nib, &n) != 0)
		return CRYPTO_ERR_PARSE;
	nb = (n + 1) / 2;          /* an odd count: a leading zero nibble */
	memset(bytes, 0, nb);
	for (i = 0; i < n; i++)    /* i counts nibbles from the right */
		bytes[nb - 1 - i / 2] |= (uint8_t)(nib[n - 1 - i] << (4 * (i % 2)));
	while (first < nb && bytes[first] == 0)
		first++;
	if (first == nb || nb - first > CRYPTO_MAX_SERIAL)
		return CRYPTO_ERR_PARSE;   /* zero, or longer than RFC 5280 allows */
	memcpy(out, bytes + first, nb - first);
	*len = nb - first;
	return CRYPTO_OK;
}

void
crypto_serial_hex(const uint8_t *serial, size_t len,
    char out[2 * CRYPTO_MAX_SERIAL + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (serial == NULL || len > CRYPTO_MAX_SERIAL)
		len = 0;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[serial[i] >> 4];
		out[2 * i + 1] = digits[serial[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
pki_reason_ok(int reason)
{
	return reason >= 0 && reason <= REASON_MAX && reason != REASON_UNUSED &&
	    reason != REASON_REMOVE;
}

int
pki_serial_ok(const uint8_t *serial, size_t len)
{
	return len >= 1 && len <= CRYPTO_MAX_SERIAL && serial[0] != 0;
}

int
pki_update_times_ok(time_t this_update, time_t next_update)
{
	return this_update > 0 && next_update > this_update &&
	    next_update - this_update <= CRYPTO_REVOCATION_MAX_PERIOD;
}

/* ---- the operation's request ------------------------------------------------ */

/*
 * PKI_OP_CRL's request: struct crl_wire_head, then n_entries fixed-size
 * struct crl_wire_entry (32 bytes each, so the request length alone says
 * whether the count is honest). The response is the CRL's DER.
 */
struct crl_wire_head {
	uint64_t number;
	int64_t this_update, next_update;
	uint32_t n_entries;
	uint32_t reserved;
};

struct crl_wire_entry {
	int64_t revoked_at;
	uint8_t serial[CRYPTO_MAX_SERIAL];
	uint8_t serial_len;       /* 0xff: out of range at the caller */
	uint8_t reason;           /* 0xff: out of range at the caller */
	uint8_t reserved[2];
};

_Static_assert(sizeof(struct crl_wire_head) == 32, "CRL header is 32 bytes");
_Static_assert(sizeof(struct crl_wire_entry) == 32, "CRL entry is 32 bytes");
_Static_assert(PKI_OP_CRL_MAX >= sizeof(struct crl_wire_head) +
    (size_t)CRYPTO_CRL_MAX_ENTRIES * sizeof(struct crl_wire_entry),
    "PKI_OP_CRL_MAX holds the largest CRL request");

/* Copies what fits; lengths and reasons out of range are sent as 0xff so
 * the signer refuses them rather than this side guessing. */
static void
crl_encode(const struct crypto_crl_params *p, struct pki_buf *b)
{
	struct crl_wire_head h;
	struct crl_wire_entry e;
	const struct crypto_revoked *r;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.number = p->number;
	h.this_update = p->this_update;
	h.next_update = p->next_update;
	h.n_entries = (uint32_t)p->n_entries;
	pki_buf_raw(b, &h, sizeof(h));
	for (i = 0; i < p->n_entries; i++) {
		r = &p->entries[i];
		memset(&e, 0, sizeof(e));
		e.revoked_at = r->revoked_at;
		e.serial_len = r->serial_len <= CRYPTO_MAX_SERIAL ?
		    (uint8_t)r->serial_len : 0xff;
		memcpy(e.serial, r->serial, e.serial_len <= CRYPTO_MAX_SERIAL ?
		    e.serial_len : 0);
		e.reason = r->reason >= 0 && r->reason < 0xff ?
		    (uint8_t)r->reason : 0xff;
		pki_buf_raw(b, &e, sizeof(e));
	}
}

/* ---- building the list (in the signer) ------------------------------------- */

/* Opens a non-critical Extension: its OID; returns the mark of the
 * SEQUENCE and sets *value to where the extnValue contents start. */
static size_t
ext_begin(struct pki_buf *b, const uint8_t *oid, size_t oidlen, size_t *value)
{
	size_t mark = b->len;

	pki_der_tlv(b, PKI_DER_OID, oid, oidlen);
	*value = b->len;
	return mark;
}

static void
ext_end(struct pki_buf *b, size_t mark, size_t value)
{
	pki_der_wrap(b, PKI_DER_OCTETS, value);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

/* One revokedCertificates entry, after checking it. */
static int
crl_entry(struct pki_buf *b, const struct crl_wire_entry *e,
    time_t this_update)
{
	size_t mark = b->len, exts, ext, value;
	uint8_t reason = e->reason;

	if (e->serial_len > CRYPTO_MAX_SERIAL ||
	    !pki_serial_ok(e->serial, e->serial_len) ||
	    !pki_reason_ok(e->reason) || e->revoked_at <= 0 ||
	    e->revoked_at > this_update)
		return CRYPTO_ERR_INVALID;
	pki_der_uint(b, e->serial, e->serial_len);
	pki_der_time(b, (time_t)e->revoked_at);
	if (e->reason != 0) {      /* unspecified: no reasonCode, §5.3.1 */
		exts = b->len;
		ext = ext_begin(b, oid_reason, sizeof(oid_reason), &value);
		pki_der_tlv(b, PKI_DER_ENUM, &reason, 1);
		ext_end(b, ext, value);
		pki_der_wrap(b, PKI_DER_SEQ, exts);
	}
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	return CRYPTO_OK;
}

/* crlExtensions [0]: authorityKeyIdentifier and cRLNumber (§5.2.1, §5.2.3). */
static void
crl_exts(struct pki_buf *b, const struct crypto_signer *s, uint64_t number)
{
	uint8_t be[8];
	size_t mark = b->len, ext, value, i;

	pki_ext_aki(b, s->key_id, s->key_id_len);
	for (i = 0; i < sizeof(be); i++)
		be[i] = (uint8_t)(number >> (8 * (sizeof(be) - 1 - i)));
	ext = ext_begin(b, oid_crl_number, sizeof(oid_crl_number), &value);
	pki_der_uint(b, be, sizeof(be));
	ext_end(b, ext, value);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	pki_der_wrap(b, 0xa0, mark);
}

/* The TBSCertList of a checked header and its entries. */
static int
crl_tbs(struct pki_buf *b, struct crypto_signer *s,
    const struct crl_wire_head *h, const uint8_t *entries)
{
	static const uint8_t v2[] = { 0x01 };
	struct crl_wire_entry e;
	const uint8_t *alg;
	size_t alglen, list, i, mark = b->len;
	int ret;

	pki_der_tlv(b, PKI_DER_INTEGER, v2, sizeof(v2));
	alg = pki_key_sig_alg(s->key, &alglen);
	pki_buf_raw(b, alg, alglen);
	pki_buf_raw(b, s->view.subject.der, s->view.subject.der_len);
	pki_der_time(b, (time_t)h->this_update);
	pki_der_time(b, (time_t)h->next_update);
	if (h->n_entries > 0) {    /* an empty list is left out, §5.1.2.6 */
		list = b->len;
		for (i = 0; i < h->n_entries; i++) {
			memcpy(&e, entries + i * sizeof(e), sizeof(e));
			if ((ret = crl_entry(b, &e, (time_t)h->this_update)) != 0)
				return ret;
		}
		pki_der_wrap(b, PKI_DER_SEQ, list);
	}
	crl_exts(b, s, h->number);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
	return b->err;
}

int
pki_op_crl(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out)
{
	struct crl_wire_head h;
	struct pki_buf b = { 0 };
	int ret;

	if (len < sizeof(h))
		return CRYPTO_ERR_PARSE;
	memcpy(&h, req, sizeof(h));
	if (h.n_entries > CRYPTO_CRL_MAX_ENTRIES)
		return CRYPTO_ERR_TOO_LARGE;
	if ((len - sizeof(h)) / sizeof(struct crl_wire_entry) != h.n_entries ||
	    (len - sizeof(h)) % sizeof(struct crl_wire_entry) != 0)
		return CRYPTO_ERR_PARSE;
	if (!pki_update_times_ok((time_t)h.this_update, (time_t)h.next_update))
		return CRYPTO_ERR_INVALID;
	if ((ret = crl_tbs(&b, s, &h, req + sizeof(h))) != 0)
		goto out;
	pthread_mutex_lock(&s->lock);
	ret = pki_key_sign_tbs(s->key, &b);
	pthread_mutex_unlock(&s->lock);
	if (ret == 0)
		pki_buf_raw(out, b.p, b.len);
out:
	pki_buf_free(&b);
	return ret;
}

int
crypto_signer_crl(struct crypto_signer *s, const struct crypto_crl_params *p,
    uint8_t **der, size_t *len)
{
	struct pki_buf req = { 0 };
	int ret;

	if (der != NULL)
		*der = NULL;
	if (s == NULL || p == NULL || der == NULL || len == NULL ||
	    (p->entries == NULL && p->n_entries > 0))
		return CRYPTO_ERR_INVALID;
	if (p->n_entries > CRYPTO_CRL_MAX_ENTRIES)
		return CRYPTO_ERR_TOO_LARGE;
	crl_encode(p, &req);
	if ((ret = req.err) == 0)
		ret = pki_signer_call(s, PKI_OP_CRL, req.p, req.len, der, len);
	pki_buf_free(&req);
	return ret;
}
