/*
 * der.c: the small DER reader and writer the CA files share, the parts of an
 * X.509 certificate they read, and PEM framing. It holds no keys and calls
 * wolfCrypt only for SHA-1 key identifiers; everything here is plain bytes.
 */
#include "pki_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/hash.h>

#define PEM_LINE 64

static const uint8_t oid_basic[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_ski[] = { 0x55, 0x1d, 0x0e };

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- writer ---------------------------------------------------------------- */

static int
buf_reserve(struct pki_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->err != 0)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->err = CRYPTO_ERR_TOO_LARGE;
		return -1;
	}
	if (b->len + extra <= b->cap)
		return 0;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < b->len + extra)
		cap *= 2;
	if ((p = malloc(cap)) == NULL) {
		b->err = CRYPTO_ERR_NOMEM;
		return -1;
	}
	if (b->len > 0)
		memcpy(p, b->p, b->len);
	crypto_zeroize(b->p, b->cap);
	free(b->p);
	b->p = p;
	b->cap = cap;
	return 0;
}

void
pki_buf_free(struct pki_buf *b)
{
	if (b == NULL)
		return;
	crypto_zeroize(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
pki_buf_raw(struct pki_buf *b, const void *data, size_t len)
{
	if (len == 0 || buf_reserve(b, len) != 0)
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Writes the header for a length into hdr; returns its size. */
static size_t
der_header(uint8_t hdr[6], uint8_t tag, size_t len)
{
	size_t n = 0, i, bytes = 0;

	hdr[n++] = tag;
	if (len < 0x80) {
		hdr[n++] = (uint8_t)len;
		return n;
	}
	for (i = len; i > 0; i >>= 8)
		bytes++;
	hdr[n++] = (uint8_t)(0x80 | bytes);
	while (bytes-- > 0)
		hdr[n++] = (uint8_t)(len >> (8 * bytes));
	return n;
}

void
pki_der_tlv(struct pki_buf *b, uint8_t tag, const void *val, size_t len)
{
	uint8_t hdr[6];
	size_t n;

	if (len > UINT32_MAX) {
		b->err = CRYPTO_ERR_TOO_LARGE;
		return;
	}
	n = der_header(hdr, tag, len);
	pki_buf_raw(b, hdr, n);
	pki_buf_raw(b, val, len);
}

void
pki_der_wrap(struct pki_buf *b, uint8_t tag, size_t mark)
{
	uint8_t hdr[6];
	size_t n, len;

	if (b->err != 0 || mark > b->len)
		return;
	len = b->len - mark;
	if (len > UINT32_MAX) {
		b->err = CRYPTO_ERR_TOO_LARGE;
		return;
	}
	n = der_header(hdr, tag, len);
	if (buf_reserve(b, n) != 0)
		return;
	memmove(b->p + mark + n, b->p + mark, len);
	memcpy(b->p + mark, hdr, n);
	b->len += n;
}

void
pki_der_uint(struct pki_buf *b, const uint8_t *be, size_t len)
{
	size_t mark;

	while (len > 1 && be[0] == 0) {
		be++;
		len--;
	}
	mark = b->len;
	if (len == 0 || (be[0] & 0x80) != 0)
		pki_buf_raw(b, "", 1);
	pki_buf_raw(b, be, len);
	pki_der_wrap(b, PKI_DER_INTEGER, mark);
}

void
pki_der_small_uint(struct pki_buf *b, unsigned long v)
{
	uint8_t be[sizeof(v)];
	size_t i;

	for (i = 0; i < sizeof(v); i++)
		be[i] = (uint8_t)(v >> (8 * (sizeof(v) - 1 - i)));
	pki_der_uint(b, be, sizeof(be));
}

void
pki_der_time(struct pki_buf *b, time_t t)
{
	struct tm tm;
	char s[32];
	int n, year;

	if (gmtime_r(&t, &tm) == NULL) {
		b->err = CRYPTO_ERR_INVALID;
		return;
	}
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999) {
		b->err = CRYPTO_ERR_INVALID;
		return;
	}
	if (year >= 1950 && year < 2050)
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", year % 100,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", year,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	pki_der_tlv(b, year >= 1950 && year < 2050 ? PKI_DER_UTCTIME :
	    PKI_DER_GENTIME, s, (size_t)n);
}

/* ---- reader ---------------------------------------------------------------- */

int
pki_der_next(struct pki_der *cur, struct pki_tlv *out)
{
	const uint8_t *p = cur->p;
	size_t left = cur->len, len, hdr = 2, nbytes, i;

	if (left < 2 || (p[0] & 0x1f) == 0x1f)
		return CRYPTO_ERR_PARSE;
	len = p[1];
	if (len & 0x80) {
		nbytes = len & 0x7f;
		if (nbytes == 0 || nbytes > 4 || left < 2 + nbytes)
			return CRYPTO_ERR_PARSE;
		len = 0;
		for (i = 0; i < nbytes; i++)
			len = (len << 8) | p[2 + i];
		/* DER: the shortest form, so no leading zero byte either */
		if (len < 0x80 || p[2] == 0)
			return CRYPTO_ERR_PARSE;
		hdr += nbytes;
	}
	if (len > left - hdr)
		return CRYPTO_ERR_PARSE;
	out->tag = p[0];
	out->der = p;
	out->der_len = hdr + len;
	out->val = p + hdr;
	out->val_len = len;
	cur->p += hdr + len;
	cur->len -= hdr + len;
	return CRYPTO_OK;
}

int
pki_der_expect(struct pki_der *cur, uint8_t tag, struct pki_tlv *out)
{
	if (pki_der_next(cur, out) != 0 || out->tag != tag)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

struct pki_der
pki_der_in(const struct pki_tlv *t)
{
	struct pki_der d;

	d.p = t->val;
	d.len = t->val_len;
	return d;
}

static int
digits(const uint8_t *p, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

int
pki_der_time_parse(const struct pki_tlv *t, time_t *out)
{
	struct tm tm;
	const uint8_t *p = t->val;
	int year;

	memset(&tm, 0, sizeof(tm));
	if (t->tag == PKI_DER_UTCTIME && t->val_len == 13) {
		if ((year = digits(p, 2)) < 0)
			return CRYPTO_ERR_PARSE;
		year += year < 50 ? 2000 : 1900;
		p += 2;
	} else if (t->tag == PKI_DER_GENTIME && t->val_len == 15) {
		year = digits(p, 4);
		p += 4;
	} else
		return CRYPTO_ERR_PARSE;
	tm.tm_year = year - 1900;
	tm.tm_mon = digits(p, 2) - 1;
	tm.tm_mday = digits(p + 2, 2);
	tm.tm_hour = digits(p + 4, 2);
	tm.tm_min = digits(p + 6, 2);
	tm.tm_sec = digits(p + 8, 2);
	if (year < 0 || p[10] != 'Z' || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
	    tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return CRYPTO_ERR_PARSE;
	*out = timegm(&tm);
	return CRYPTO_OK;
}

/* ---- certificates ------------------------------------------------------------ */

static int
view_tbs(struct pki_cert_view *v)
{
	struct pki_der d = pki_der_in(&v->tbs), vd;
	struct pki_tlv t, nb, na;

	if (pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag == 0xa0 && pki_der_next(&d, &t) != 0)
		return CRYPTO_ERR_PARSE;
	if (t.tag != PKI_DER_INTEGER ||
	    pki_der_expect(&d, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&d, PKI_DER_SEQ, &v->issuer) != 0 ||
	    pki_der_expect(&d, PKI_DER_SEQ, &v->validity) != 0 ||
	    pki_der_expect(&d, PKI_DER_SEQ, &v->subject) != 0 ||
	    pki_der_expect(&d, PKI_DER_SEQ, &v->spki) != 0)
		return CRYPTO_ERR_PARSE;
	vd = pki_der_in(&v->validity);
	if (pki_der_next(&vd, &nb) != 0 || pki_der_next(&vd, &na) != 0 ||
	    pki_der_time_parse(&nb, &v->not_before) != 0 ||
	    pki_der_time_parse(&na, &v->not_after) != 0)
		return CRYPTO_ERR_PARSE;
	memset(&v->exts, 0, sizeof(v->exts));
	while (d.len > 0) {
		if (pki_der_next(&d, &t) != 0)
			return CRYPTO_ERR_PARSE;
		if (t.tag == 0xa3) {
			vd = pki_der_in(&t);
			if (pki_der_expect(&vd, PKI_DER_SEQ, &v->exts) != 0)
				return CRYPTO_ERR_PARSE;
		}
	}
	return CRYPTO_OK;
}

int
pki_cert_view(const uint8_t *der, size_t len, struct pki_cert_view *v)
{
	struct pki_der d = { der, len }, c;
	struct pki_tlv cert, t;

	memset(v, 0, sizeof(*v));
	if (pki_der_expect(&d, PKI_DER_SEQ, &cert) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	c = pki_der_in(&cert);
	if (pki_der_expect(&c, PKI_DER_SEQ, &v->tbs) != 0 ||
	    pki_der_expect(&c, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&c, PKI_DER_BITSTR, &t) != 0 || c.len != 0)
		return CRYPTO_ERR_PARSE;
	return view_tbs(v);
}

int
pki_cert_ext_crit(const struct pki_cert_view *v, const uint8_t *oid,
    size_t oidlen, struct pki_tlv *value, int *critical)
{
	struct pki_der d = pki_der_in(&v->exts), e;
	struct pki_tlv ext, id, t;

	while (d.len > 0) {
		if (pki_der_expect(&d, PKI_DER_SEQ, &ext) != 0)
			return CRYPTO_ERR_PARSE;
		e = pki_der_in(&ext);
		if (pki_der_expect(&e, PKI_DER_OID, &id) != 0)
			return CRYPTO_ERR_PARSE;
		if (id.val_len != oidlen || memcmp(id.val, oid, oidlen) != 0)
			continue;
		if (pki_der_next(&e, &t) != 0)
			return CRYPTO_ERR_PARSE;
		*critical = 0;
		if (t.tag == PKI_DER_BOOLEAN) {
			*critical = t.val_len == 1 && t.val[0] != 0;
			if (pki_der_next(&e, &t) != 0)
				return CRYPTO_ERR_PARSE;
		}
		if (t.tag != PKI_DER_OCTETS)
			return CRYPTO_ERR_PARSE;
		*value = t;
		return CRYPTO_OK;
	}
	return CRYPTO_ERR_PARSE;
}

int
pki_cert_ext(const struct pki_cert_view *v, const uint8_t *oid,
    size_t oidlen, struct pki_tlv *value)
{
	int critical;

	return pki_cert_ext_crit(v, oid, oidlen, value, &critical);
}

int
pki_cert_is_ca(const struct pki_cert_view *v)
{
	struct pki_tlv ext, seq, t;
	struct pki_der d;

	if (pki_cert_ext(v, oid_basic, sizeof(oid_basic), &ext) != 0)
		return 0;
	d = pki_der_in(&ext);
	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0)
		return 0;
	d = pki_der_in(&seq);
	if (pki_der_expect(&d, PKI_DER_BOOLEAN, &t) != 0 || t.val_len != 1 ||
	    t.val[0] == 0)
		return 0;
	if (pki_cert_ext(v, oid_key_usage, sizeof(oid_key_usage), &ext) != 0)
		return 1;
	d = pki_der_in(&ext);
	if (pki_der_expect(&d, PKI_DER_BITSTR, &t) != 0 || t.val_len < 2)
		return 0;
	return (t.val[1] & PKI_KU_KEY_CERT_SIGN) != 0;
}

int
pki_spki_key_id(const uint8_t *spki, size_t len, uint8_t id[20])
{
	struct pki_der d = { spki, len };
	struct pki_tlv seq, t;

	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&seq);
	if (pki_der_expect(&d, PKI_DER_SEQ, &t) != 0 ||
	    pki_der_expect(&d, PKI_DER_BITSTR, &t) != 0 || t.val_len < 2)
		return CRYPTO_ERR_PARSE;
	if (wc_ShaHash(t.val + 1, (word32)(t.val_len - 1), id) != 0)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

int
pki_cert_key_id(const struct pki_cert_view *v, uint8_t id[32], size_t *len)
{
	struct pki_tlv ext, t;
	struct pki_der d;

	if (pki_cert_ext(v, oid_ski, sizeof(oid_ski), &ext) == 0) {
		d = pki_der_in(&ext);
		if (pki_der_expect(&d, PKI_DER_OCTETS, &t) == 0 &&
		    t.val_len > 0 && t.val_len <= 32) {
			memcpy(id, t.val, t.val_len);
			*len = t.val_len;
			return CRYPTO_OK;
		}
	}
	*len = 20;
	return pki_spki_key_id(v->spki.der, v->spki.der_len, id);
}

/* ---- PEM ------------------------------------------------------------------- */

static const char *
find(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n > haylen)
		return NULL;
	for (i = 0; i + n <= haylen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b64_alphabet);
}

/* Decodes standard base64, skipping whitespace, allowing final padding. */
static int
b64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0, pad = 0;
	int v;

	for (i = 0; i < len; i++) {
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n')
			continue;
		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(in[i])) < 0)
			return CRYPTO_ERR_PARSE;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return CRYPTO_ERR_PARSE;
	*outlen = n;
	return CRYPTO_OK;
}

int
pki_pem_decode(const char *pem, size_t len, const char *label,
    uint8_t **der, size_t *derlen)
{
	char begin[80], end[80];
	const char *b, *e;
	uint8_t *out = NULL;
	int ret;

	*der = NULL;
	if (len > CRYPTO_MAX_PEM_BYTES)
		return CRYPTO_ERR_TOO_LARGE;
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	if ((b = find(pem, len, begin)) == NULL)
		return CRYPTO_ERR_PARSE;
	b += strlen(begin);
	if ((e = find(b, len - (size_t)(b - pem), end)) == NULL)
		return CRYPTO_ERR_PARSE;
	if (find(b, (size_t)(e - b), ":") != NULL)
		return CRYPTO_ERR_UNSUPPORTED;
	if ((out = malloc((size_t)(e - b) + 1)) == NULL)
		return CRYPTO_ERR_NOMEM;
	ret = b64_decode(b, (size_t)(e - b), out, derlen);
	if (ret == 0 && *derlen == 0)
		ret = CRYPTO_ERR_PARSE;
	if (ret != 0) {
		crypto_zeroize(out, (size_t)(e - b) + 1);
		free(out);
		return ret;
	}
	*der = out;
	return CRYPTO_OK;
}

int
pki_pem_encode(const uint8_t *der, size_t len, const char *label,
    char **out, size_t *outlen)
{
	struct pki_buf b = { 0 };
	char line[PEM_LINE + 1];
	size_t i, col = 0;
	uint32_t v;
	int k;

	*out = NULL;
	pki_buf_raw(&b, "-----BEGIN ", 11);
	pki_buf_raw(&b, label, strlen(label));
	pki_buf_raw(&b, "-----\n", 6);
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)der[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < len)
			v |= der[i + 2];
		for (k = 0; k < 4; k++)
			line[col + (size_t)k] = (size_t)k <= (len - i) ?
			    b64_alphabet[(v >> (18 - 6 * k)) & 0x3f] : '=';
		col += 4;
		if (col == PEM_LINE || i + 3 >= len) {
			pki_buf_raw(&b, line, col);
			pki_buf_raw(&b, "\n", 1);
			col = 0;
		}
	}
	pki_buf_raw(&b, "-----END ", 9);
	pki_buf_raw(&b, label, strlen(label));
	pki_buf_raw(&b, "-----\n", 7);   /* with the NUL */
	if (b.err != 0) {
		pki_buf_free(&b);
		return b.err;
	}
	*out = (char *)b.p;
	*outlen = b.len - 1;
	return CRYPTO_OK;
}
