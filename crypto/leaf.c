/*
 * leaf.c: end-entity certificates signed by the intermediate. The parent's
 * half (crypto_signer_issue for a CSR under a named profile;
 * crypto_signer_issue_tls for the server's own certificate with a fresh
 * P-256 key) encodes a PKI_OP_LEAF request; the signer's half (pki_op_leaf)
 * decodes it with every length capped, has signcheck.c check it against
 * the signer's configuration and clock, and signs: subjectAltName of the
 * checked names, KeyUsage and EKU from the profile, CA:FALSE, AKI and SKI,
 * and CRL Distribution Points and Authority Information Access when the
 * signer has a pki_url. Subject: the CSR's CN when it is one of the names,
 * else the first DNS name; when neither fits (IP-only requests, or names
 * over the 64-character CN limit) the subject is empty and the
 * subjectAltName is critical (RFC 5280 §4.2.1.6).
 */
#include "pki_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/wolfcrypt/asn_public.h>

#define CN_MAX   64      /* ub-common-name, RFC 5280 A.1 */
#define URL_ROOM (PKI_URL_MAX + 80)

static int
name_allowed(const struct crypto_name *n, const struct crypto_leaf_params *p)
{
	size_t i;

	for (i = 0; i < p->n_allowed; i++) {
		if (p->allowed[i].type != n->type)
			continue;
		if (n->type == CRYPTO_NAME_DNS ?
		    strcasecmp(p->allowed[i].value, n->value) == 0 :
		    strcmp(p->allowed[i].value, n->value) == 0)
			return 1;
	}
	return 0;
}

/* The CN: the CSR's when it is one of the (canonical) names and fits,
 * else the first DNS name that fits; taken from names, so the signer sees
 * a CN equal to one of them. */
static const char *
pick_cn(const char *csr_cn, const struct crypto_name *names, size_t n)
{
	size_t i;

	for (i = 0; csr_cn != NULL && i < n; i++)
		if (strcasecmp(names[i].value, csr_cn) == 0 &&
		    strlen(names[i].value) <= CN_MAX)
			return names[i].value;
	for (i = 0; i < n; i++)
		if (names[i].type == CRYPTO_NAME_DNS &&
		    strlen(names[i].value) <= CN_MAX)
			return names[i].value;
	return NULL;
}

/* CRL Distribution Points and Authority Information Access, with the
 * URLs crypto.h documents. */
static void
revocation_exts(struct pki_buf *b, const struct crypto_signer *s)
{
	char id[65], crl[URL_ROOM], issuer[URL_ROOM], ocsp[URL_ROOM];

	if (s->cfg.pki_url == NULL)
		return;
	if (crypto_signer_issuer_id(s, id) != 0) {
		b->err = CRYPTO_ERR_INTERNAL;
		return;
	}
	snprintf(crl, sizeof(crl), "%s/crl/%s.crl", s->cfg.pki_url, id);
	snprintf(issuer, sizeof(issuer), "%s/ca/%s.crt", s->cfg.pki_url, id);
	snprintf(ocsp, sizeof(ocsp), "%s/ocsp", s->cfg.pki_url);
	pki_ext_crl_dp(b, crl);
	pki_ext_aia(b, s->cfg.ocsp ? ocsp : NULL, issuer);
}

static void
leaf_exts(struct pki_buf *b, const struct crypto_signer *s,
    const struct pki_leaf_spec *l, const uint8_t id[20])
{
	pki_ext_basic(b, 0, -1);
	pki_ext_key_usage(b, l->key_usage);
	pki_ext_eku(b, l->eku);
	pki_ext_san(b, l->names, l->n_names, l->cn == NULL);
	pki_ext_ski(b, id, 20);
	pki_ext_aki(b, s->key_id, s->key_id_len);
	revocation_exts(b, s);
}

/* Builds and signs one leaf; serialized on the signer's lock. */
int
pki_leaf_sign_local(struct crypto_signer *s, const struct pki_leaf_spec *l,
    uint8_t serial[CRYPTO_SERIAL_BYTES], uint8_t **der, size_t *len)
{
	struct pki_buf subject = { 0 }, exts = { 0 };
	struct pki_cert_spec spec;
	uint8_t id[20];
	int ret;

	if (l->n_names == 0)
		return CRYPTO_ERR_NAME;
	if (l->not_before >= l->not_after || l->not_after > s->view.not_after)
		return CRYPTO_ERR_INVALID;
	if ((ret = pki_spki_key_id(l->spki, l->spki_len, id)) != 0)
		return ret;
	pki_name(&subject, NULL, l->cn);
	leaf_exts(&exts, s, l, id);
	if ((ret = subject.err) != 0 || (ret = exts.err) != 0)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.issuer = s->view.subject.der;
	spec.issuer_len = s->view.subject.der_len;
	spec.subject = subject.p;
	spec.subject_len = subject.len;
	spec.spki = l->spki;
	spec.spki_len = l->spki_len;
	spec.not_before = l->not_before;
	spec.not_after = l->not_after;
	spec.exts = exts.p;
	spec.exts_len = exts.len;
	pthread_mutex_lock(&s->lock);
	ret = pki_cert_sign(&spec, s->key, serial, der, len);
	pthread_mutex_unlock(&s->lock);
out:
	pki_buf_free(&subject);
	pki_buf_free(&exts);
	return ret;
}

static int
leaf_encode(enum pki_leaf_kind kind, const char *profile,
    const struct pki_leaf_spec *l, struct pki_buf *b)
{
	struct pki_leaf_wire w;
	size_t i, n;
	uint8_t hdr[2];

	memset(&w, 0, sizeof(w));
	w.kind = (uint32_t)kind;
	w.profile_len = profile != NULL ? (uint32_t)strnlen(profile,
	    CRYPTO_PROFILE_NAME_MAX + 1) : 0;
	w.spki_len = (uint32_t)l->spki_len;
	w.cn_len = l->cn != NULL ? (uint32_t)strlen(l->cn) : 0;
	w.n_names = (uint32_t)l->n_names;
	w.not_before = l->not_before;
	w.not_after = l->not_after;
	if (w.profile_len > CRYPTO_PROFILE_NAME_MAX)
		return CRYPTO_ERR_INVALID;
	if (l->n_names > CRYPTO_MAX_NAMES || w.cn_len > CRYPTO_MAX_NAME_LEN ||
	    l->spki_len > PKI_SPKI_MAX)
		return CRYPTO_ERR_TOO_LARGE;
	pki_buf_raw(b, &w, sizeof(w));
	pki_buf_raw(b, profile, w.profile_len);
	pki_buf_raw(b, l->spki, l->spki_len);
	pki_buf_raw(b, l->cn, w.cn_len);
	for (i = 0; i < l->n_names; i++) {
		n = strnlen(l->names[i].value, sizeof(l->names[i].value));
		hdr[0] = (uint8_t)l->names[i].type;
		hdr[1] = (uint8_t)n;
		pki_buf_raw(b, hdr, 2);
		pki_buf_raw(b, l->names[i].value, n);
	}
	return b->err;
}

/* Copies n bytes at buf[*o] into a NUL-terminated string. */
static void
take_str(const uint8_t *buf, size_t *o, size_t n, char *out)
{
	memcpy(out, buf + *o, n);
	out[n] = '\0';
	*o += n;
}

/* Decodes a leaf request, checking every length; strings go into profile
 * and cn, names into names[]. Whether the contents are acceptable is
 * signcheck.c's to decide. */
static int
leaf_decode(const uint8_t *buf, size_t len, struct pki_leaf_wire *w,
    struct pki_leaf_spec *l, struct crypto_name *names, char *profile,
    char *cn)
{
	size_t o = sizeof(*w), i, n;

	if (len < sizeof(*w))
		return CRYPTO_ERR_PARSE;
	memcpy(w, buf, sizeof(*w));
	if (w->reserved != 0 || w->profile_len > CRYPTO_PROFILE_NAME_MAX ||
	    w->n_names > CRYPTO_MAX_NAMES || w->cn_len > CRYPTO_MAX_NAME_LEN ||
	    w->spki_len > PKI_SPKI_MAX ||
	    (size_t)w->profile_len + w->spki_len + w->cn_len > len - o)
		return CRYPTO_ERR_PARSE;
	memset(l, 0, sizeof(*l));
	take_str(buf, &o, w->profile_len, profile);
	l->spki = buf + o;
	l->spki_len = w->spki_len;
	o += w->spki_len;
	take_str(buf, &o, w->cn_len, cn);
	l->cn = w->cn_len > 0 ? cn : NULL;
	for (i = 0; i < w->n_names; i++) {
		if (len - o < 2 || (n = buf[o + 1]) > len - o - 2 ||
		    n > CRYPTO_MAX_NAME_LEN || buf[o] > CRYPTO_NAME_IP ||
		    memchr(buf + o + 2, '\0', n) != NULL)
			return CRYPTO_ERR_PARSE;
		names[i].type = (enum crypto_name_type)buf[o];
		o += 2;
		take_str(buf, &o, n, names[i].value);
	}
	if (o != len || memchr(profile, '\0', w->profile_len) != NULL ||
	    (l->cn != NULL && strlen(cn) != w->cn_len))
		return CRYPTO_ERR_PARSE;
	l->names = names;
	l->n_names = w->n_names;
	l->not_before = (time_t)w->not_before;
	l->not_after = (time_t)w->not_after;
	return CRYPTO_OK;
}

int
pki_op_leaf(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out)
{
	struct pki_leaf_wire w;
	struct crypto_name *names;
	struct pki_leaf_spec l;
	char cn[CRYPTO_MAX_NAME_LEN + 1], profile[CRYPTO_PROFILE_NAME_MAX + 1];
	uint8_t serial[CRYPTO_SERIAL_BYTES], *der = NULL;
	size_t derlen = 0;
	int ret;

	if ((names = calloc(CRYPTO_MAX_NAMES, sizeof(*names))) == NULL)
		return CRYPTO_ERR_NOMEM;
	/* The signer's own clock decides what "now" is. */
	if ((ret = leaf_decode(req, len, &w, &l, names, profile, cn)) == 0 &&
	    (ret = pki_leaf_check(s, (enum pki_leaf_kind)w.kind, profile, &l,
	    time(NULL))) == 0)
		ret = pki_leaf_sign_local(s, &l, serial, &der, &derlen);
	if (ret == 0) {
		pki_buf_raw(out, serial, sizeof(serial));
		pki_buf_raw(out, der, derlen);
	}
	free(der);
	free(names);
	return ret;
}

/* Signs through pki_signer_call: here, or in the signer process when this
 * one holds no key. */
static int
leaf_sign(struct crypto_signer *s, enum pki_leaf_kind kind, const char *profile,
    const struct pki_leaf_spec *l, uint8_t serial[CRYPTO_SERIAL_BYTES],
    uint8_t **der, size_t *len)
{
	struct pki_buf req = { 0 };
	uint8_t *resp = NULL;
	size_t resplen = 0;
	int ret;

	*der = NULL;
	if ((ret = leaf_encode(kind, profile, l, &req)) != 0 ||
	    (ret = pki_signer_call(s, PKI_OP_LEAF, req.p, req.len, &resp,
	    &resplen)) != 0)
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	if (resplen <= CRYPTO_SERIAL_BYTES ||
	    (*der = malloc(resplen - CRYPTO_SERIAL_BYTES)) == NULL)
		goto out;
	memcpy(serial, resp, CRYPTO_SERIAL_BYTES);
	memcpy(*der, resp + CRYPTO_SERIAL_BYTES, resplen - CRYPTO_SERIAL_BYTES);
	*len = resplen - CRYPTO_SERIAL_BYTES;
	ret = CRYPTO_OK;
out:
	pki_buf_free(&req);
	free(resp);
	return ret;
}

static void
hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
crypto_signer_issue(struct crypto_signer *s, const struct crypto_csr *csr,
    const struct crypto_leaf_params *p, struct crypto_leaf *out)
{
	struct pki_leaf_spec l;
	uint8_t serial[CRYPTO_SERIAL_BYTES];
	size_t i;
	int ret;

	if (s == NULL || csr == NULL || p == NULL || out == NULL ||
	    (p->allowed == NULL && p->n_allowed > 0))
		return CRYPTO_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.n_names = crypto_csr_names(csr, &l.names);
	for (i = 0; i < l.n_names; i++)
		if (!name_allowed(&l.names[i], p))
			return CRYPTO_ERR_NAME;
	l.spki = pki_csr_spki(csr, &l.spki_len);
	l.cn = pick_cn(crypto_csr_common_name(csr), l.names, l.n_names);
	l.not_before = p->not_before;
	l.not_after = p->not_after;
	if ((ret = leaf_sign(s, PKI_LEAF_ACME, p->profile, &l, serial, &out->der,
	    &out->der_len)) != 0)
		return ret;
	hex(serial, sizeof(serial), out->serial);
	out->not_before = p->not_before;
	out->not_after = p->not_after;
	return CRYPTO_OK;
}

void
crypto_leaf_clear(struct crypto_leaf *leaf)
{
	if (leaf == NULL)
		return;
	free(leaf->der);
	memset(leaf, 0, sizeof(*leaf));
}

int
crypto_signer_issue_tls(struct crypto_signer *s,
    const struct crypto_name *names, size_t n_names, time_t not_before,
    time_t not_after, uint8_t **cert_der, size_t *cert_len,
    uint8_t **key_der, size_t *key_len)
{
	struct pki_key *key = NULL;
	struct pki_leaf_spec l;
	uint8_t spki[PKI_SPKI_MAX], serial[CRYPTO_SERIAL_BYTES];
	int ret;

	if (s == NULL || names == NULL || cert_der == NULL || cert_len == NULL ||
	    key_der == NULL || key_len == NULL)
		return CRYPTO_ERR_INVALID;
	*cert_der = *key_der = NULL;
	if (n_names > CRYPTO_MAX_NAMES)
		return CRYPTO_ERR_TOO_LARGE;
	memset(&l, 0, sizeof(l));
	if ((ret = pki_key_generate(CRYPTO_KEY_EC_P256, &key)) != 0 ||
	    (ret = pki_key_spki(key, spki, sizeof(spki), &l.spki_len)) != 0)
		goto out;
	l.spki = spki;
	l.names = names;
	l.n_names = n_names;
	l.cn = pick_cn(NULL, names, n_names);
	l.not_before = not_before;
	l.not_after = not_after;
	if ((ret = leaf_sign(s, PKI_LEAF_TLS, NULL, &l, serial, cert_der,
	    cert_len)) != 0)
		goto out;
	if ((ret = pki_key_pkcs8(key, key_der, key_len)) != 0) {
		free(*cert_der);
		*cert_der = NULL;
	}
out:
	pki_key_free(key);
	return ret;
}

char *
crypto_cert_der_to_pem(const uint8_t *der, size_t len)
{
	char *pem = NULL;
	size_t pemlen;

	if (der == NULL || len == 0)
		return NULL;
	if (pki_pem_encode(der, len, "CERTIFICATE", &pem, &pemlen) != 0)
		return NULL;
	return pem;
}
