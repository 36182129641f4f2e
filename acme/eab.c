/*
 * eab.c: external account binding (RFC 8555 §7.3.4). Owns the EAB key
 * records (STORE_T_EAB_KEYS, kid -> JSON), their life as the operator sees
 * it (add, list, revoke, for the command line), the check of a newAccount's
 * externalAccountBinding, the binding of a key to the account it created,
 * and the name restrictions a key hands on to that account.
 *
 * Key record: hmac (base64url MAC key), label, created, expires (0: never),
 * allowDns (suffixes), revoked (time), account and bound (once bound).
 * An account created with a key carries "eab": {kid, allowDns} and the
 * binding as sent ("externalAccountBinding", returned in the account object
 * as §7.3.4 asks). Reads no clock: callers pass the time.
 */
#include "acme_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

/* Caps on what an externalAccountBinding may carry. */
#define EAB_MAX_PROTECTED 1024                      /* header, decoded */
#define EAB_MAX_PAYLOAD   CRYPTO_MAX_JWK_BYTES      /* the JWK, decoded */
#define EAB_MAX_MAC       64                        /* HS512 */
#define EAB_MAX_KID       64                        /* accepted kid text */

/* ---- helpers ---- */

static int
ct_equal(const uint8_t *x, const uint8_t *y, size_t n)
{
	volatile uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* Nonzero for a kid this module could have made: lower-case hex only. */
static int
kid_valid(const char *kid)
{
	size_t i;

	for (i = 0; kid[i] != '\0'; i++)
		if (i >= EAB_MAX_KID || !isxdigit((unsigned char)kid[i]) ||
		    isupper((unsigned char)kid[i]))
			return 0;
	return i > 0;
}

/* The key record of kid in a fresh read transaction; NULL when absent. */
static cJSON *
key_load(struct store *st, const char *kid, int *err)
{
	struct store_txn *txn;
	cJSON *rec;

	if ((*err = store_read_begin(st, &txn)) != 0)
		return NULL;
	rec = acme_record_get(txn, STORE_T_EAB_KEYS, kid);
	store_read_end(txn);
	return rec;
}

/* Decodes base64url text into buf (cap bytes); -1 when malformed or over. */
static int
b64_decode(const char *in, uint8_t *buf, size_t cap, size_t *len)
{
	return crypto_b64url_decode(in, strlen(in), buf, cap, len) == CRYPTO_OK ?
	    0 : -1;
}

/* ---- verification of a newAccount's binding ---- */

/* The three members of a flattened JWS, nothing else (RFC 7515 §7.2.2). */
static int
eab_parts(const cJSON *eab, const char **prot, const char **pay,
    const char **sig, struct acme_response *resp)
{
	if (!cJSON_IsObject(eab) || cJSON_GetArraySize(eab) != 3 ||
	    (*prot = acme_json_str(eab, "protected")) == NULL ||
	    (*pay = acme_json_str(eab, "payload")) == NULL ||
	    (*sig = acme_json_str(eab, "signature")) == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "externalAccountBinding must be a flattened JWS with exactly "
		    "protected, payload and signature");
		return -1;
	}
	return 0;
}

/* The protected header: alg HS*, a kid, url of newAccount, no nonce. */
static cJSON *
eab_header(const char *prot_b64, const char *url, enum crypto_jws_alg *alg,
    struct acme_response *resp)
{
	uint8_t buf[EAB_MAX_PROTECTED];
	const char *name, *kid, *u;
	size_t len;
	cJSON *h = NULL;

	if (b64_decode(prot_b64, buf, sizeof(buf), &len) != 0 ||
	    !cJSON_IsObject(h = cJSON_ParseWithLength((char *)buf, len)) ||
	    acme_json_has_duplicates(h)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding protected header is not a base64url JSON object with "
		    "unique members (at most %d bytes)", EAB_MAX_PROTECTED);
		goto fail;
	}
	name = acme_json_str(h, "alg");
	if (name == NULL || crypto_jws_alg_parse(name, alg) != CRYPTO_OK ||
	    (*alg != CRYPTO_JWS_HS256 && *alg != CRYPTO_JWS_HS384 &&
	    *alg != CRYPTO_JWS_HS512)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding alg must be HS256, HS384 or HS512");
		goto fail;
	}
	if (cJSON_GetObjectItemCaseSensitive(h, "nonce") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding protected header must not have a nonce or crit");
		goto fail;
	}
	if ((kid = acme_json_str(h, "kid")) == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding protected header has no kid");
		goto fail;
	}
	if ((u = acme_json_str(h, "url")) == NULL || strcmp(u, url) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding url must be the newAccount URL %s", url);
		goto fail;
	}
	return h;
fail:
	cJSON_Delete(h);
	return NULL;
}

/* MAC over "protected.payload" as sent, compared in constant time. */
static int
eab_mac_ok(const cJSON *key, enum crypto_jws_alg alg, const char *prot,
    const char *pay, const char *sig)
{
	uint8_t k[64], want[64], got[EAB_MAX_MAC];
	size_t klen = 0, wlen = 0, glen = 0, pl = strlen(prot), yl = strlen(pay);
	enum crypto_hash h = alg == CRYPTO_JWS_HS512 ? CRYPTO_SHA512 :
	    alg == CRYPTO_JWS_HS384 ? CRYPTO_SHA384 : CRYPTO_SHA256;
	const char *hmac = acme_json_str(key, "hmac");
	char *input = NULL;
	int ok = 0;

	if (hmac == NULL || b64_decode(hmac, k, sizeof(k), &klen) != 0 ||
	    b64_decode(sig, got, sizeof(got), &glen) != 0 ||
	    (input = malloc(pl + yl + 2)) == NULL)
		goto out;
	memcpy(input, prot, pl);
	input[pl] = '.';
	memcpy(input + pl + 1, pay, yl);
	if (crypto_hmac(h, k, klen, input, pl + 1 + yl, want, &wlen) != CRYPTO_OK)
		goto out;
	ok = glen == wlen && ct_equal(want, got, wlen);
out:
	crypto_zeroize(k, sizeof(k));
	free(input);
	return ok;
}

/* The payload must be the account key of the outer JWS (compared by
 * RFC 7638 thumbprint, which covers every member that makes the key). */
static int
eab_payload_ok(const char *pay_b64, const struct acme_jws *jws,
    struct acme_response *resp)
{
	uint8_t *buf = malloc(EAB_MAX_PAYLOAD);
	struct crypto_jwk *k = NULL;
	char thumb[CRYPTO_THUMBPRINT_LEN + 1];
	size_t len;
	int ret = -1;

	if (buf == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		return -1;
	}
	if (b64_decode(pay_b64, buf, EAB_MAX_PAYLOAD, &len) == 0)
		k = crypto_jwk_parse((const char *)buf, len, NULL);
	if (k == NULL || crypto_jwk_thumbprint(k, thumb) != CRYPTO_OK ||
	    strcmp(thumb, jws->thumbprint) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "externalAccount"
		    "Binding payload is not the account key of this request");
		goto out;
	}
	ret = 0;
out:
	crypto_jwk_free(k);
	free(buf);
	return ret;
}

int
acme_eab_verify(struct acme *a, const cJSON *payload, const char *url,
    const struct acme_jws *jws, struct acme_eab *out,
    struct acme_response *resp)
{
	const cJSON *eab;
	const char *prot, *pay, *sig, *kid;
	enum crypto_jws_alg alg;
	cJSON *h = NULL, *key = NULL;
	int ret = -1, err;

	memset(out, 0, sizeof(*out));
	if ((eab = cJSON_GetObjectItemCaseSensitive(payload,
	    "externalAccountBinding")) == NULL)
		return 0;
	if (eab_parts(eab, &prot, &pay, &sig, resp) != 0 ||
	    (h = eab_header(prot, url, &alg, resp)) == NULL)
		goto out;
	kid = acme_json_str(h, "kid");
	if (kid_valid(kid) && (key = key_load(a->store, kid, &err)) == NULL &&
	    err != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "storage unavailable");
		goto out;
	}
	if (key == NULL) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0, "externalAccount"
		    "Binding kid \"%.64s\" is not a key of this server", kid);
		goto out;
	}
	if (!eab_mac_ok(key, alg, prot, pay, sig)) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0, "externalAccount"
		    "Binding MAC does not verify with key %s", kid);
		goto out;
	}
	if (eab_payload_ok(pay, jws, resp) != 0)
		goto out;
	out->present = 1;
	snprintf(out->kid, sizeof(out->kid), "%s", kid);
	ret = 0;
out:
	cJSON_Delete(key);
	cJSON_Delete(h);
	return ret;
}

/* ---- binding, inside newAccount's write ---- */

/* Copies the key's restrictions and the binding into the account record. */
static int
account_mark(cJSON *account, const char *kid, const cJSON *rec,
    const cJSON *binding)
{
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(rec, "allowDns");
	cJSON *e;

	if ((e = cJSON_AddObjectToObject(account, "eab")) == NULL ||
	    cJSON_AddStringToObject(e, "kid", kid) == NULL ||
	    !cJSON_AddItemToObject(e, "allowDns", allow != NULL ?
	    cJSON_Duplicate(allow, 1) : cJSON_CreateArray()))
		return STORE_ERR_NOMEM;
	if (binding != NULL && !cJSON_AddItemToObject(account,
	    "externalAccountBinding", cJSON_Duplicate(binding, 1)))
		return STORE_ERR_NOMEM;
	return 0;
}

int
acme_eab_bind(struct store_txn *txn, const char *kid, const char *account_id,
    const cJSON *binding, time_t now, cJSON *account)
{
	cJSON *rec;
	time_t expires;
	int ret;

	if ((rec = acme_record_get(txn, STORE_T_EAB_KEYS, kid)) == NULL)
		return ACME_EAB_UNKNOWN;
	expires = acme_json_time(rec, "expires");
	if (acme_json_time(rec, "revoked") != 0)
		ret = ACME_EAB_REVOKED;
	else if (acme_json_str(rec, "account") != NULL)
		ret = ACME_EAB_USED;
	else if (expires != 0 && expires <= now)
		ret = ACME_EAB_EXPIRED;
	else if ((ret = account_mark(account, kid, rec, binding)) == 0 &&
	    cJSON_AddStringToObject(rec, "account", account_id) != NULL &&
	    cJSON_AddNumberToObject(rec, "bound", (double)now) != NULL)
		ret = acme_record_put(txn, STORE_T_EAB_KEYS, kid, rec);
	else if (ret == 0)
		ret = STORE_ERR_NOMEM;
	cJSON_Delete(rec);
	return ret;
}

void
acme_eab_refused(enum acme_eab_refusal r, const char *kid,
    struct acme_response *resp)
{
	switch (r) {
	case ACME_EAB_MISSING:
		acme_respond_problem(resp, ACME_P_EXTERNAL_ACCOUNT_REQUIRED, 0,
		    "this server requires an externalAccountBinding to create an "
		    "account; ask its operator for a key id and MAC key");
		break;
	case ACME_EAB_UNKNOWN:
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "externalAccountBinding key %s is not a key of this server", kid);
		break;
	case ACME_EAB_REVOKED:
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "externalAccountBinding key %s has been revoked", kid);
		break;
	case ACME_EAB_EXPIRED:
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "externalAccountBinding key %s has expired", kid);
		break;
	case ACME_EAB_USED:
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "externalAccountBinding key %s is already used by another "
		    "account; each key binds one account", kid);
		break;
	default:
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not bind the external account");
	}
}

/* ---- name restrictions ---- */

/* Nonzero when name (a DNS identifier, "*." kept) is suffix or under it. */
static int
under_suffix(const char *name, const char *suffix)
{
	size_t n, s = strlen(suffix);

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	n = strlen(name);
	if (n == s)
		return strcmp(name, suffix) == 0;
	return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

int
acme_eab_ident_allowed(const cJSON *account, enum acme_ident_type type,
    const char *value, struct acme_response *resp)
{
	const cJSON *eab = cJSON_GetObjectItemCaseSensitive(account, "eab");
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(eab, "allowDns");
	const cJSON *s;
	char list[256];
	size_t used = 0;

	if (cJSON_GetArraySize(allow) == 0)
		return 0;
	list[0] = '\0';
	cJSON_ArrayForEach(s, allow) {
		if (!cJSON_IsString(s))
			continue;
		if (type == ACME_IDENT_DNS && under_suffix(value, s->valuestring))
			return 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s%s", used > 0 ? ", " : "", s->valuestring);
	}
	acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
	    "%s identifier \"%.253s\" is outside the names this account's "
	    "external account key %.64s allows: %s", acme_ident_type_name(type),
	    value, acme_json_str(eab, "kid") ? acme_json_str(eab, "kid") : "",
	    list);
	return -1;
}

int
acme_eab_idents_allowed(const cJSON *account, const cJSON *identifiers,
    struct acme_response *resp)
{
	enum acme_ident_type type;
	const cJSON *e;
	char value[256];
	int wildcard;

	cJSON_ArrayForEach(e, identifiers) {
		if (acme_ident_check(e, &type, value, &wildcard, resp) != 0 ||
		    acme_eab_ident_allowed(account, type, value, resp) != 0)
			return -1;
	}
	return 0;
}

/* ---- keys, for the command line ---- */

/* A label: printable ASCII without tabs, at most ACME_EAB_MAX_LABEL. */
static int
label_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= ACME_EAB_MAX_LABEL || s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Normalises the suffixes into a JSON array; NULL with why set. */
static cJSON *
allow_list(const struct acme_eab_params *p, char *why, size_t whylen)
{
	struct acme_response r;
	enum acme_ident_type type;
	cJSON *arr = cJSON_CreateArray(), *id;
	char value[256];
	size_t i;
	int wildcard, bad;

	if (p->n_allow_dns > ACME_EAB_MAX_ALLOW) {
		snprintf(why, whylen, "at most %d --allow-dns suffixes",
		    ACME_EAB_MAX_ALLOW);
		goto fail;
	}
	for (i = 0; arr != NULL && i < p->n_allow_dns; i++) {
		memset(&r, 0, sizeof(r));
		id = cJSON_CreateObject();
		cJSON_AddStringToObject(id, "type", "dns");
		cJSON_AddStringToObject(id, "value", p->allow_dns[i]);
		bad = acme_ident_check(id, &type, value, &wildcard, &r) != 0 ||
		    wildcard;
		cJSON_Delete(id);
		acme_response_clear(&r);
		if (bad) {
			snprintf(why, whylen, "--allow-dns \"%.253s\" is not a DNS "
			    "name (give a suffix such as team.example.internal, "
			    "without \"*.\")", p->allow_dns[i]);
			goto fail;
		}
		cJSON_AddItemToArray(arr, cJSON_CreateString(value));
	}
	return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

/* The new key's record; NULL with why set. */
static cJSON *
key_record(const struct acme_eab_params *p, time_t now, const char *hmac,
    char *why, size_t whylen)
{
	cJSON *rec, *allow;

	if (p->label != NULL && !label_ok(p->label)) {
		snprintf(why, whylen, "--label must be printable ASCII of at most "
		    "%d characters", ACME_EAB_MAX_LABEL);
		return NULL;
	}
	if (p->expires != 0 && p->expires <= now) {
		snprintf(why, whylen, "--expires must lie in the future");
		return NULL;
	}
	if ((allow = allow_list(p, why, whylen)) == NULL)
		return NULL;
	if ((rec = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToObject(rec, "allowDns", allow)) {
		cJSON_Delete(allow);
		cJSON_Delete(rec);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (cJSON_AddStringToObject(rec, "hmac", hmac) == NULL ||
	    cJSON_AddStringToObject(rec, "label", p->label ? p->label : "") == NULL ||
	    cJSON_AddNumberToObject(rec, "created", (double)now) == NULL ||
	    cJSON_AddNumberToObject(rec, "expires", (double)p->expires) == NULL) {
		cJSON_Delete(rec);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	return rec;
}

struct key_put {
	const char *kid;
	const cJSON *rec;
};

static int
key_put_txn(struct store_txn *txn, void *arg)
{
	struct key_put *k = arg;
	char *text = cJSON_PrintUnformatted(k->rec);
	int ret;

	if (text == NULL)
		return STORE_ERR_NOMEM;
	ret = store_put(txn, STORE_T_EAB_KEYS, k->kid, strlen(k->kid), text,
	    strlen(text), STORE_PUT_NEW);
	crypto_zeroize(text, strlen(text));
	free(text);
	return ret;
}

/* Random kid (hex) and MAC key (base64url). */
static int
key_new_secrets(int (*random)(void *, size_t),
    char kid[ACME_EAB_KID_LEN + 1], char hmac[ACME_EAB_HMAC_B64_LEN + 1])
{
	uint8_t id[ACME_EAB_KID_LEN / 2], k[ACME_EAB_HMAC_BYTES];
	size_t i;
	int ret = -1;

	if (random(id, sizeof(id)) != 0 || random(k, sizeof(k)) != 0)
		goto out;
	for (i = 0; i < sizeof(id); i++)
		snprintf(kid + 2 * i, 3, "%02x", id[i]);
	if (crypto_b64url_encode(k, sizeof(k), hmac, ACME_EAB_HMAC_B64_LEN + 1) !=
	    ACME_EAB_HMAC_B64_LEN)
		goto out;
	ret = 0;
out:
	crypto_zeroize(k, sizeof(k));
	return ret;
}

int
acme_eab_key_add(struct store *st, const struct acme_eab_params *p,
    time_t now, int (*random)(void *buf, size_t len),
    char kid[ACME_EAB_KID_LEN + 1], char hmac[ACME_EAB_HMAC_B64_LEN + 1],
    char *why, size_t whylen)
{
	struct key_put k;
	cJSON *rec = NULL;
	int ret = ACME_ERR_INTERNAL, rc;

	if (key_new_secrets(random, kid, hmac) != 0) {
		snprintf(why, whylen, "no random bytes");
		goto out;
	}
	if ((rec = key_record(p, now, hmac, why, whylen)) == NULL) {
		ret = ACME_ERR_INVALID;
		goto out;
	}
	k.kid = kid;
	k.rec = rec;
	if ((rc = store_write(st, key_put_txn, &k)) != 0) {
		snprintf(why, whylen, "cannot store the key: %s", store_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(rec);
	if (ret != 0)
		crypto_zeroize(hmac, ACME_EAB_HMAC_B64_LEN + 1);
	return ret;
}

struct key_list {
	acme_eab_key_fn fn;
	void *arg;
};

static int
key_list_one(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct key_list *l = arg;
	struct acme_eab_info info;
	const char *allow[ACME_EAB_MAX_ALLOW];
	char kid[EAB_MAX_KID + 1];
	const cJSON *s;
	cJSON *rec;
	int ret;

	if (keylen > EAB_MAX_KID || (rec = cJSON_ParseWithLength(val, vallen)) == NULL)
		return 0;	/* not a record this module wrote */
	memcpy(kid, key, keylen);
	kid[keylen] = '\0';
	memset(&info, 0, sizeof(info));
	info.kid = kid;
	info.label = acme_json_str(rec, "label") ? acme_json_str(rec, "label") : "";
	info.created = acme_json_time(rec, "created");
	info.expires = acme_json_time(rec, "expires");
	info.revoked = acme_json_time(rec, "revoked");
	info.account = acme_json_str(rec, "account");
	info.bound = acme_json_time(rec, "bound");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rec, "allowDns"))
		if (cJSON_IsString(s) && info.n_allow_dns < ACME_EAB_MAX_ALLOW)
			allow[info.n_allow_dns++] = s->valuestring;
	info.allow_dns = allow;
	ret = l->fn(&info, l->arg);
	cJSON_Delete(rec);
	return ret != 0 ? 1 : 0;
}

int
acme_eab_key_list(struct store *st, acme_eab_key_fn fn, void *arg)
{
	struct key_list l = { fn, arg };
	struct store_txn *txn;
	int ret;

	if (store_read_begin(st, &txn) != 0)
		return ACME_ERR_INTERNAL;
	ret = store_scan(txn, STORE_T_EAB_KEYS, NULL, 0, NULL, 0, key_list_one, &l);
	store_read_end(txn);
	return ret == 0 ? 0 : ACME_ERR_INTERNAL;
}

struct key_revoke {
	const char *kid;
	time_t now;
	int was_revoked;
};

static int
key_revoke_txn(struct store_txn *txn, void *arg)
{
	struct key_revoke *r = arg;
	cJSON *rec;
	int ret = 0;

	r->was_revoked = 0;
	if ((rec = acme_record_get(txn, STORE_T_EAB_KEYS, r->kid)) == NULL)
		return STORE_NOTFOUND;
	if (acme_json_time(rec, "revoked") != 0)
		r->was_revoked = 1;
	else if (cJSON_AddNumberToObject(rec, "revoked", (double)r->now) == NULL)
		ret = STORE_ERR_NOMEM;
	else
		ret = acme_record_put(txn, STORE_T_EAB_KEYS, r->kid, rec);
	cJSON_Delete(rec);
	return ret;
}

int
acme_eab_key_revoke(struct store *st, const char *kid, time_t now,
    int *was_revoked)
{
	struct key_revoke r = { kid, now, 0 };
	int ret;

	if (!kid_valid(kid))
		return ACME_ERR_NOTFOUND;
	ret = store_write(st, key_revoke_txn, &r);
	if (was_revoked != NULL)
		*was_revoked = r.was_revoked;
	if (ret == STORE_NOTFOUND)
		return ACME_ERR_NOTFOUND;
	return ret == 0 ? 0 : ACME_ERR_INTERNAL;
}
