/*
 * jwk.c: public JSON Web Keys (RFC 7517, 7518 §6, 8037 §2) and their
 * RFC 7638 thumbprints.
 *
 * Owns turning untrusted JWK text into a checked struct crypto_jwk and back
 * into canonical JSON. Only public keys of the kinds crypto.h lists are
 * accepted; anything else is refused before a wolfCrypt key is built.
 * Verification lives in jws.c. Error codes: malformed or ambiguous JSON,
 * private members, bad lengths and points off the curve give
 * CRYPTO_ERR_PARSE; unknown kty/crv and unusable RSA exponents
 * CRYPTO_ERR_UNSUPPORTED; RSA moduli out of range CRYPTO_ERR_KEY_SIZE.
 */
#include "jwk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* A JWK is a flat object; arrays such as "key_ops" add one level. */
#define JWK_MAX_DEPTH 3
/* RSA n may carry leading zero octets; they are allowed up to this many. */
#define JWK_RSA_N_BUF (2 * JWK_RSA_MAX_N)
/* The longest canonical JSON: an RSA-4096 key is about 720 bytes. */
#define JWK_CANON_MAX 1024
/* base64url of a 4096-bit n (683 characters) and of a P-521 coordinate
 * (88), NUL included. */
#define JWK_B64_N     688
#define JWK_B64_COORD 96

/* Members whose presence or repetition decides how a key is read. */
static const char *const jwk_public_members[] = {
	"kty", "crv", "n", "e", "x", "y",
};
/* RFC 7518 §6.2.2, §6.3.2, §6.4.1 and RFC 8037 §2: private-key members. */
static const char *const jwk_private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

static int
name_in(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return (int)i;
	return -1;
}

/* Refuses NUL bytes, escaped ones too (cJSON would cut the string there),
 * and nesting deeper than JWK_MAX_DEPTH before cJSON (which recurses)
 * sees the text. */
static int
json_shape_ok(const char *s, size_t len)
{
	size_t i;
	int depth = 0, in_str = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return 0;
		if (in_str) {
			if (esc && s[i] == 'u' && len - i > 4 &&
			    memcmp(s + i + 1, "0000", 4) == 0)
				return 0;
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++depth > JWK_MAX_DEPTH)
				return 0;
		} else if (s[i] == '}' || s[i] == ']')
			depth--;
	}
	return 1;
}

/* Parses exactly len bytes as one JSON object; trailing whitespace only. */
static cJSON *
json_parse_object(const char *json, size_t len)
{
	const char *end = NULL, *stop = json + len;
	cJSON *root;

	if (!json_shape_ok(json, len))
		return NULL;
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL)
		return NULL;
	while (end != NULL && end < stop &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != stop || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* No private members, and no member that matters given twice (RFC 7517
 * §4: member names must be unique; a second "n" must not be ignored). */
static int
members_ok(const cJSON *obj)
{
	const size_t npub = sizeof(jwk_public_members) / sizeof(char *);
	const size_t npriv = sizeof(jwk_private_members) / sizeof(char *);
	unsigned seen[sizeof(jwk_public_members) / sizeof(char *)] = { 0 };
	const cJSON *m;
	int i;

	for (m = obj->child; m != NULL; m = m->next) {
		if (m->string == NULL)
			return 0;
		if (name_in(m->string, jwk_private_members, npriv) >= 0)
			return 0;
		if ((i = name_in(m->string, jwk_public_members, npub)) >= 0 &&
		    seen[i]++ > 0)
			return 0;
	}
	return 1;
}

/* The string value of member name, or NULL when absent or not a string. */
static const char *
member_str(const cJSON *obj, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* Decodes base64url s into out (cap bytes) and drops leading zero octets. */
static int
decode_uint(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n, skip = 0;
	int ret;

	if ((ret = crypto_b64url_decode(s, strlen(s), out, cap, &n)) != 0)
		return ret;
	while (skip < n && out[skip] == 0)
		skip++;
	memmove(out, out + skip, n - skip);
	*len = n - skip;
	return CRYPTO_OK;
}

static size_t
bit_length(const uint8_t *p, size_t len)
{
	size_t bits;
	uint8_t top;

	if (len == 0)
		return 0;
	for (bits = (len - 1) * 8, top = p[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* RFC 7518 §6.3.1: n of CRYPTO_RSA_MIN_BITS..MAX_BITS, odd e in 3..2^32-1. */
static int
parse_rsa(const cJSON *obj, struct crypto_jwk *jwk)
{
	uint8_t nbuf[JWK_RSA_N_BUF], ebuf[16];
	const char *n, *e;
	size_t bits, nlen, elen;
	int ret;

	if ((n = member_str(obj, "n")) == NULL ||
	    (e = member_str(obj, "e")) == NULL)
		return CRYPTO_ERR_PARSE;
	if ((ret = decode_uint(n, nbuf, sizeof(nbuf), &nlen)) != 0)
		return ret == CRYPTO_ERR_TOO_LARGE ? CRYPTO_ERR_KEY_SIZE : ret;
	bits = bit_length(nbuf, nlen);
	if (bits < CRYPTO_RSA_MIN_BITS || bits > CRYPTO_RSA_MAX_BITS)
		return CRYPTO_ERR_KEY_SIZE;
	if ((nbuf[nlen - 1] & 1) == 0)
		return CRYPTO_ERR_PARSE;
	ret = decode_uint(e, ebuf, sizeof(ebuf), &elen);
	if (ret == CRYPTO_ERR_TOO_LARGE)
		return CRYPTO_ERR_UNSUPPORTED;
	if (ret != 0)
		return ret;
	if (elen == 0 || elen > JWK_RSA_MAX_E || (ebuf[elen - 1] & 1) == 0 ||
	    (elen == 1 && ebuf[0] == 1))
		return CRYPTO_ERR_UNSUPPORTED;
	memcpy(jwk->n, nbuf, nlen);
	jwk->n_len = nlen;
	memcpy(jwk->e, ebuf, elen);
	jwk->e_len = elen;
	jwk->kty = JWK_KTY_RSA;
	return CRYPTO_OK;
}

/* Decodes a fixed-width base64url coordinate of exactly len bytes. */
static int
decode_fixed(const char *s, uint8_t *out, size_t len)
{
	size_t got;

	if (s == NULL ||
	    crypto_b64url_decode(s, strlen(s), out, len, &got) != 0 ||
	    got != len)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

/* RFC 7518 §6.2.1: x and y of the curve's size, a point on the curve. */
static int
parse_ec(const cJSON *obj, struct crypto_jwk *jwk)
{
	const char *crv;
	ecc_key key;
	int ret;

	if ((crv = member_str(obj, "crv")) == NULL)
		return CRYPTO_ERR_PARSE;
	if (strcmp(crv, "P-256") == 0) {
		jwk->crv = JWK_CRV_P256;
		jwk->coord_len = 32;
	} else if (strcmp(crv, "P-384") == 0) {
		jwk->crv = JWK_CRV_P384;
		jwk->coord_len = 48;
	} else if (strcmp(crv, "P-521") == 0) {
		jwk->crv = JWK_CRV_P521;
		jwk->coord_len = 66;
	} else
		return CRYPTO_ERR_UNSUPPORTED;
	if (decode_fixed(member_str(obj, "x"), jwk->x, jwk->coord_len) != 0 ||
	    decode_fixed(member_str(obj, "y"), jwk->y, jwk->coord_len) != 0)
		return CRYPTO_ERR_PARSE;
	jwk->kty = JWK_KTY_EC;
	if ((ret = jwk_ecc_load(jwk, &key)) != 0)
		return ret;
	/* SP 800-56A 5.6.2.3: coordinates in range, on the curve, order n. */
	ret = crypto_ec_point_check(&key, jwk->x, jwk->y, jwk->coord_len);
	wc_ecc_free(&key);
	return ret;
}

/* RFC 8037 §2: crv Ed25519 only, x of 32 bytes. Whether x decodes to a
 * curve point is left to verification, which fails when it does not. */
static int
parse_okp(const cJSON *obj, struct crypto_jwk *jwk)
{
	const char *crv;
	ed25519_key key;
	int ret;

	if ((crv = member_str(obj, "crv")) == NULL)
		return CRYPTO_ERR_PARSE;
	if (strcmp(crv, "Ed25519") != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	if (decode_fixed(member_str(obj, "x"), jwk->x, JWK_ED25519_LEN) != 0)
		return CRYPTO_ERR_PARSE;
	jwk->kty = JWK_KTY_OKP;
	jwk->crv = JWK_CRV_ED25519;
	jwk->coord_len = JWK_ED25519_LEN;
	if ((ret = jwk_ed25519_load(jwk, &key)) != 0)
		return ret;
	wc_ed25519_free(&key);
	return CRYPTO_OK;
}

static int
parse_object(const cJSON *obj, struct crypto_jwk *jwk)
{
	const char *kty;
	RsaKey rsa;
	int ret;

	if (!members_ok(obj) || (kty = member_str(obj, "kty")) == NULL)
		return CRYPTO_ERR_PARSE;
	if (strcmp(kty, "RSA") == 0) {
		if ((ret = parse_rsa(obj, jwk)) == 0 &&
		    (ret = jwk_rsa_load(jwk, &rsa)) == 0)
			wc_FreeRsaKey(&rsa);
		return ret;
	}
	if (strcmp(kty, "EC") == 0)
		return parse_ec(obj, jwk);
	if (strcmp(kty, "OKP") == 0)
		return parse_okp(obj, jwk);
	return CRYPTO_ERR_UNSUPPORTED;
}

struct crypto_jwk *
crypto_jwk_parse(const char *json, size_t len, int *err)
{
	struct crypto_jwk *jwk = NULL;
	cJSON *root = NULL;
	int ret = CRYPTO_ERR_INVALID;

	if (json == NULL)
		goto out;
	ret = CRYPTO_ERR_TOO_LARGE;
	if (len > CRYPTO_MAX_JWK_BYTES)
		goto out;
	ret = CRYPTO_ERR_PARSE;
	if ((root = json_parse_object(json, len)) == NULL)
		goto out;
	ret = CRYPTO_ERR_NOMEM;
	if ((jwk = calloc(1, sizeof(*jwk))) == NULL)
		goto out;
	ret = parse_object(root, jwk);
out:
	cJSON_Delete(root);
	if (ret != CRYPTO_OK) {
		crypto_jwk_free(jwk);
		jwk = NULL;
	}
	if (err != NULL)
		*err = ret;
	return jwk;
}

void
crypto_jwk_free(struct crypto_jwk *jwk)
{
	free(jwk);
}

struct crypto_jwk *
crypto_jwk_dup(const struct crypto_jwk *jwk)
{
	struct crypto_jwk *c;

	if (jwk == NULL || (c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memcpy(c, jwk, sizeof(*c));
	return c;
}

int
jwk_rsa_load(const struct crypto_jwk *jwk, RsaKey *key)
{
	if (jwk->kty != JWK_KTY_RSA)
		return CRYPTO_ERR_UNSUPPORTED;
	if (wc_InitRsaKey(key, NULL) != 0)
		return CRYPTO_ERR_INTERNAL;
	if (wc_RsaPublicKeyDecodeRaw(jwk->n, (word32)jwk->n_len, jwk->e,
	    (word32)jwk->e_len, key) != 0) {
		wc_FreeRsaKey(key);
		return CRYPTO_ERR_PARSE;
	}
	return CRYPTO_OK;
}

static int
jwk_curve_id(enum jwk_crv crv)
{
	switch (crv) {
	case JWK_CRV_P256:
		return ECC_SECP256R1;
	case JWK_CRV_P384:
		return ECC_SECP384R1;
	case JWK_CRV_P521:
		return ECC_SECP521R1;
	default:
		return ECC_CURVE_INVALID;
	}
}

int
jwk_ecc_load(const struct crypto_jwk *jwk, ecc_key *key)
{
	int curve = jwk_curve_id(jwk->crv);

	if (jwk->kty != JWK_KTY_EC || curve == ECC_CURVE_INVALID)
		return CRYPTO_ERR_UNSUPPORTED;
	if (wc_ecc_init(key) != 0)
		return CRYPTO_ERR_INTERNAL;
	if (wc_ecc_import_unsigned(key, jwk->x, jwk->y, NULL, curve) != 0) {
		wc_ecc_free(key);
		return CRYPTO_ERR_PARSE;
	}
	return CRYPTO_OK;
}

int
jwk_ed25519_load(const struct crypto_jwk *jwk, ed25519_key *key)
{
	if (jwk->kty != JWK_KTY_OKP || jwk->crv != JWK_CRV_ED25519)
		return CRYPTO_ERR_UNSUPPORTED;
	if (wc_ed25519_init(key) != 0)
		return CRYPTO_ERR_INTERNAL;
	if (wc_ed25519_import_public(jwk->x, JWK_ED25519_LEN, key) != 0) {
		wc_ed25519_free(key);
		return CRYPTO_ERR_PARSE;
	}
	return CRYPTO_OK;
}

static const char *
crv_name(enum jwk_crv crv)
{
	switch (crv) {
	case JWK_CRV_P256:
		return "P-256";
	case JWK_CRV_P384:
		return "P-384";
	case JWK_CRV_P521:
		return "P-521";
	case JWK_CRV_ED25519:
		return "Ed25519";
	default:
		return NULL;
	}
}

/*
 * RFC 7638 §3.2: the required members only, in lexicographic order, no
 * whitespace. Values are base64url, which never needs JSON escaping.
 * Writes into out (JWK_CANON_MAX bytes); returns the length or CRYPTO_ERR_*.
 */
static int
canonical_json(const struct crypto_jwk *jwk, char *out)
{
	char a[JWK_B64_N], b[JWK_B64_COORD];
	const char *crv = crv_name(jwk->crv);
	int n;

	if (jwk->kty == JWK_KTY_RSA) {
		if (crypto_b64url_encode(jwk->e, jwk->e_len, b,
		    sizeof(b)) < 0 ||
		    crypto_b64url_encode(jwk->n, jwk->n_len, a, sizeof(a)) < 0)
			return CRYPTO_ERR_INTERNAL;
		n = snprintf(out, JWK_CANON_MAX,
		    "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b, a);
	} else if (jwk->kty == JWK_KTY_EC && crv != NULL) {
		if (crypto_b64url_encode(jwk->x, jwk->coord_len, a,
		    sizeof(a)) < 0 ||
		    crypto_b64url_encode(jwk->y, jwk->coord_len, b,
		    sizeof(b)) < 0)
			return CRYPTO_ERR_INTERNAL;
		n = snprintf(out, JWK_CANON_MAX,
		    "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		    crv, a, b);
	} else if (jwk->kty == JWK_KTY_OKP && crv != NULL) {
		if (crypto_b64url_encode(jwk->x, jwk->coord_len, a,
		    sizeof(a)) < 0)
			return CRYPTO_ERR_INTERNAL;
		n = snprintf(out, JWK_CANON_MAX,
		    "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}", crv, a);
	} else
		return CRYPTO_ERR_INVALID;
	if (n < 0 || n >= JWK_CANON_MAX)
		return CRYPTO_ERR_INTERNAL;
	return n;
}

int
crypto_jwk_thumbprint(const struct crypto_jwk *jwk,
    char out[CRYPTO_THUMBPRINT_LEN + 1])
{
	char json[JWK_CANON_MAX];
	uint8_t digest[32];
	int n, ret;

	if (jwk == NULL || out == NULL)
		return CRYPTO_ERR_INVALID;
	if ((n = canonical_json(jwk, json)) < 0)
		return n;
	if ((ret = crypto_sha256(json, (size_t)n, digest)) != 0)
		return ret;
	if (crypto_b64url_encode(digest, sizeof(digest), out,
	    CRYPTO_THUMBPRINT_LEN + 1) != CRYPTO_THUMBPRINT_LEN)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

char *
crypto_jwk_to_json(const struct crypto_jwk *jwk)
{
	char json[JWK_CANON_MAX], *out;
	int n;

	if (jwk == NULL || (n = canonical_json(jwk, json)) < 0)
		return NULL;
	if ((out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, json, (size_t)n + 1);
	return out;
}

int
crypto_jwk_alg_matches(const struct crypto_jwk *jwk, enum crypto_jws_alg alg)
{
	if (jwk == NULL)
		return 0;
	switch (alg) {
	case CRYPTO_JWS_RS256:
	case CRYPTO_JWS_PS256:
		return jwk->kty == JWK_KTY_RSA;
	case CRYPTO_JWS_ES256:
		return jwk->kty == JWK_KTY_EC && jwk->crv == JWK_CRV_P256;
	case CRYPTO_JWS_ES384:
		return jwk->kty == JWK_KTY_EC && jwk->crv == JWK_CRV_P384;
	case CRYPTO_JWS_ES512:
		return jwk->kty == JWK_KTY_EC && jwk->crv == JWK_CRV_P521;
	case CRYPTO_JWS_EDDSA:
		return jwk->kty == JWK_KTY_OKP && jwk->crv == JWK_CRV_ED25519;
	default:
		return 0;
	}
}
