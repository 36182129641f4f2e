/*
 * revoked.c: what revocation keeps beside the certificate record. Each
 * revoked certificate has a fixed-size entry in the revoked table, keyed by
 * its serial's bytes, so a CRL or an OCSP answer is built without parsing a
 * certificate record; the meta table holds a revocation counter (servers
 * poll it to learn of revocations made by another process) and the CRL
 * number. Also the names of RFC 5280 reason codes, who may give which, and
 * the serial forms operators type. Reads no clock; writes only through the
 * caller's transaction.
 */
#include "acme_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "store.h"

/*
 * The revoked table's value: version, revocation time and notAfter as
 * big-endian signed 64-bit seconds, the reason code (18 bytes: version 1);
 * version 2 adds the issuer's key id as a length byte and 32 bytes, zero
 * padded, so a CRL per intermediate takes only its own certificates.
 */
#define REVOKED_VERSION_1 1
#define REVOKED_VERSION   2

void
acme_revoked_encode(const struct acme_revoked *r,
    uint8_t out[ACME_REVOKED_REC_LEN])
{
	size_t n = r->issuer_len <= 32 ? r->issuer_len : 0;

	memset(out, 0, ACME_REVOKED_REC_LEN);
	out[0] = REVOKED_VERSION;
	acme_be64_put(out + 1, (uint64_t)(int64_t)r->revoked_at);
	acme_be64_put(out + 9, (uint64_t)(int64_t)r->not_after);
	out[17] = (uint8_t)r->reason;
	out[18] = (uint8_t)n;
	memcpy(out + 19, r->issuer, n);
}

int
acme_revoked_decode(const void *val, size_t len, struct acme_revoked *out)
{
	const uint8_t *p = val;

	if (len < ACME_REVOKED_REC_LEN_V1 || p[17] > 10)
		return ACME_ERR_INVALID;
	if (!(p[0] == REVOKED_VERSION_1 && len == ACME_REVOKED_REC_LEN_V1) &&
	    !(p[0] == REVOKED_VERSION && len == ACME_REVOKED_REC_LEN &&
	    p[18] <= 32))
		return ACME_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->revoked_at = (time_t)(int64_t)acme_be64_get(p + 1);
	out->not_after = (time_t)(int64_t)acme_be64_get(p + 9);
	out->reason = p[17];
	if (p[0] == REVOKED_VERSION) {
		out->issuer_len = p[18];
		memcpy(out->issuer, p + 19, out->issuer_len);
	}
	return ACME_OK;
}

/* "issuer" (hex) into r; 0, or -1 when absent or not hex. */
static int
issuer_from_hex(const char *hex, struct acme_revoked *r)
{
	size_t n = hex != NULL ? strlen(hex) : 0, i;
	unsigned v;

	if (n == 0 || n % 2 != 0 || n / 2 > sizeof(r->issuer))
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return -1;
		r->issuer[i] = (uint8_t)v;
	}
	r->issuer_len = n / 2;
	return 0;
}

void
acme_revoked_issuer(const cJSON *c, struct acme_revoked *r)
{
	const char *chain = acme_json_str(c, "chain");

	if (issuer_from_hex(acme_json_str(c, "issuer"), r) == 0)
		return;
	if (chain == NULL ||
	    crypto_cert_key_id_pem(chain, strlen(chain), r->issuer,
	    &r->issuer_len) != CRYPTO_OK)
		r->issuer_len = 0;
}

int
acme_revoked_issuer_is(const struct acme_revoked *r, const char *issuer_hex)
{
	static const char digits[] = "0123456789abcdef";
	char hex[65];
	size_t i;

	if (r->issuer_len == 0 || r->issuer_len > sizeof(r->issuer))
		return -1;
	for (i = 0; i < r->issuer_len; i++) {
		hex[2 * i] = digits[r->issuer[i] >> 4];
		hex[2 * i + 1] = digits[r->issuer[i] & 0x0f];
	}
	hex[2 * r->issuer_len] = '\0';
	return strcmp(hex, issuer_hex) == 0;
}

int
acme_cert_issuer_is(struct store_txn *txn, const char *hex,
    const char *issuer_hex)
{
	struct acme_revoked r;
	const void *val;
	size_t vlen;
	cJSON *c;

	int rc = store_get(txn, STORE_T_CERTS, hex, strlen(hex), &val, &vlen);

	if (rc == STORE_NOTFOUND)
		return -1;
	if (rc != STORE_OK)
		return -3;
	if ((c = cJSON_ParseWithLength(val, vlen)) == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	acme_revoked_issuer(c, &r);
	cJSON_Delete(c);
	return acme_revoked_issuer_is(&r, issuer_hex) < 0 ? -2 :
	    acme_revoked_issuer_is(&r, issuer_hex);
}

int
acme_meta_u64_get(struct store_txn *txn, const char *key, uint64_t *v)
{
	const void *val;
	size_t len;
	int rc;

	rc = store_get(txn, STORE_T_META, key, strlen(key), &val, &len);
	if (rc == STORE_NOTFOUND) {
		*v = 0;
		return ACME_OK;
	}
	if (rc != STORE_OK || len != 8)
		return ACME_ERR_INTERNAL;
	*v = acme_be64_get(val);
	return ACME_OK;
}

int
acme_meta_u64_put(struct store_txn *txn, const char *key, uint64_t v)
{
	uint8_t buf[8];

	acme_be64_put(buf, v);
	return store_put(txn, STORE_T_META, key, strlen(key), buf, sizeof(buf), 0);
}

int
acme_revocation_count(struct store *st, uint64_t *count)
{
	struct store_txn *txn;
	int ret;

	if (store_read_begin(st, &txn) != STORE_OK)
		return ACME_ERR_INTERNAL;
	ret = acme_meta_u64_get(txn, ACME_META_REVOCATIONS, count);
	store_read_end(txn);
	return ret;
}

int
acme_serial_normalize(const char *in, char out[ACME_SERIAL_HEX_LEN + 1])
{
	char digits[2 * ACME_SERIAL_HEX_LEN + 2];
	size_t n = 0, skip = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n >= sizeof(digits) - 2)
			return ACME_ERR_INVALID;
		digits[n++] = (char)tolower((unsigned char)*in);
	}
	if (n == 0)
		return ACME_ERR_INVALID;
	if (n % 2 != 0) {	/* "A0F" is 0x0a0f */
		memmove(digits + 1, digits, n++);
		digits[0] = '0';
	}
	while (skip + 2 < n && digits[skip] == '0' && digits[skip + 1] == '0')
		skip += 2;
	if (n - skip > ACME_SERIAL_HEX_LEN)
		return ACME_ERR_INVALID;
	memcpy(out, digits + skip, n - skip);
	out[n - skip] = '\0';
	return ACME_OK;
}

/* ---- reasons (RFC 5280 §5.3.1) ---- */

static const char *const reason_names[11] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

const char *
acme_reason_name(int reason)
{
	if (reason < 0 || reason > 10 || reason_names[reason] == NULL)
		return "unknown";
	return reason_names[reason];
}

int
acme_reason_allowed(int reason, enum acme_revoker who)
{
	switch (reason) {
	case ACME_REASON_UNSPECIFIED:
	case ACME_REASON_KEY_COMPROMISE:
	case ACME_REASON_AFFILIATION_CHANGED:
	case ACME_REASON_SUPERSEDED:
	case ACME_REASON_CESSATION:
		return 1;
	case ACME_REASON_CA_COMPROMISE:
	case ACME_REASON_PRIVILEGE_WITHDRAWN:
	case ACME_REASON_AA_COMPROMISE:
		return who == ACME_REVOKER_OPERATOR;
	default:
		return 0;
	}
}

int
acme_reason_parse(const char *s, int *reason)
{
	char *end;
	long v;
	int i;

	if (s == NULL || *s == '\0')
		return ACME_ERR_INVALID;
	if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		if (*end != '\0' || v < 0 || v > 10 || v == 7)
			return ACME_ERR_INVALID;
		*reason = (int)v;
		return ACME_OK;
	}
	for (i = 0; i <= 10; i++)
		if (reason_names[i] != NULL && strcasecmp(s, reason_names[i]) == 0) {
			*reason = i;
			return ACME_OK;
		}
	return ACME_ERR_INVALID;
}

/* ---- stores from before the revoked table ---- */

#define ACME_META_REVOKED_INDEXED "revoked_indexed"

static int
backfill_one(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct store_txn *txn = arg;
	char serial[ACME_SERIAL_HEX_LEN + 1];
	uint8_t k[ACME_SERIAL_MAX_BYTES], rec[ACME_REVOKED_REC_LEN];
	struct acme_revoked r;
	size_t klen;
	cJSON *c;
	int ret = 0;

	if (keylen > ACME_SERIAL_HEX_LEN)
		return 0;
	memcpy(serial, key, keylen);
	serial[keylen] = '\0';
	if ((c = cJSON_ParseWithLength(val, vallen)) == NULL)
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(c, "revoked") != NULL &&
	    crypto_serial_parse(serial, k, &klen) == CRYPTO_OK) {
		r.revoked_at = acme_json_time(c, "revoked");
		r.not_after = acme_json_time(c, "notAfter");
		r.reason = (int)acme_json_time(c, "reason");
		if (r.reason < 0 || r.reason > 10)
			r.reason = ACME_REASON_UNSPECIFIED;
		acme_revoked_issuer(c, &r);
		acme_revoked_encode(&r, rec);
		ret = store_put(txn, STORE_T_REVOKED, k, klen, rec, sizeof(rec), 0);
	}
	cJSON_Delete(c);
	return ret;
}

static int
backfill_txn(struct store_txn *txn, void *arg)
{
	uint64_t done, count;
	int ret;

	(void)arg;
	if ((ret = acme_meta_u64_get(txn, ACME_META_REVOKED_INDEXED, &done)) != 0 ||
	    done != 0)
		return ret;
	if ((ret = store_scan(txn, STORE_T_CERTS, NULL, 0, NULL, 0, backfill_one,
	    txn)) != 0)
		return ret;
	/* servers that read the counter before rebuild their CRL */
	if ((ret = acme_meta_u64_get(txn, ACME_META_REVOCATIONS, &count)) != 0 ||
	    (ret = acme_meta_u64_put(txn, ACME_META_REVOCATIONS, count + 1)) != 0)
		return ret;
	return acme_meta_u64_put(txn, ACME_META_REVOKED_INDEXED, 1);
}

int
acme_revoked_index(struct store *st)
{
	return store_write(st, backfill_txn, NULL) == 0 ? ACME_OK :
	    ACME_ERR_INTERNAL;
}
