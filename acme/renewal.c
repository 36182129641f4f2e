/*
 * renewal.c: ACME Renewal Information (RFC 9773). The certificate
 * identifier (§4.1), the suggested renewal window a client polls for
 * (§4.2), and the "replaces" claim of a newOrder (§5), which marks a
 * certificate as replaced in the same write as the order.
 *
 * What ARI needs is on the certificate record, written at issuance: the
 * identifier (acme_cert_rec_ari: "issuer" and the serial), notBefore/notAfter,
 * "revoked", "account", "identifiers"; and "replacedBy", the order that
 * claimed it. Nothing here parses a certificate.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

/* The serial part: a positive INTEGER's contents in minimal DER (RFC 5280
 * §4.1.2.2: at most 20 octets), to the hex the certificates table keys. */
static int
serial_part(const char *b64, size_t len, char *hex, char *why, size_t whysz)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t b[22];
	size_t n, i, o = 0;

	if (crypto_b64url_decode(b64, len, b, sizeof(b), &n) != CRYPTO_OK || n == 0) {
		snprintf(why, whysz, "the serial part is not unpadded base64url of "
		    "at most 21 bytes");
		return -1;
	}
	if ((b[0] & 0x80) != 0 || (b[0] == 0 && (n == 1 || (b[1] & 0x80) == 0))) {
		snprintf(why, whysz, "the serial part is not a positive DER INTEGER "
		    "in minimal form");
		return -1;
	}
	i = b[0] == 0 ? 1 : 0;
	if (n - i > 20) {
		snprintf(why, whysz, "serial numbers have at most 20 octets");
		return -1;
	}
	for (; i < n; i++) {
		hex[o++] = digits[b[i] >> 4];
		hex[o++] = digits[b[i] & 15];
	}
	hex[o] = '\0';
	return 0;
}

int
acme_cert_id_parse(const char *s, struct acme_cert_id *out, char *why,
    size_t whysz)
{
	const char *dot;
	uint8_t aki[64];
	size_t len, akilen;

	memset(out, 0, sizeof(*out));
	if ((len = strlen(s)) >= sizeof(out->text)) {
		snprintf(why, whysz, "a certificate identifier has at most %d "
		    "characters", ACME_CERT_ID_MAX - 1);
		return -1;
	}
	if ((dot = strchr(s, '.')) == NULL || strchr(dot + 1, '.') != NULL ||
	    dot == s || dot[1] == '\0') {
		snprintf(why, whysz, "a certificate identifier is "
		    "base64url(AKI keyIdentifier) \".\" base64url(serial)");
		return -1;
	}
	if (crypto_b64url_decode(s, (size_t)(dot - s), aki, sizeof(aki),
	    &akilen) != CRYPTO_OK || akilen == 0) {
		snprintf(why, whysz, "the key identifier part is not unpadded "
		    "base64url of at most 64 bytes");
		return -1;
	}
	if (serial_part(dot + 1, strlen(dot + 1), out->serial, why, whysz) != 0)
		return -1;
	memcpy(out->text, s, len + 1);
	return 0;
}

void
acme_renewal_window(time_t not_before, time_t not_after, time_t revoked,
    time_t now, time_t *start, time_t *end)
{
	time_t v = not_after > not_before ? not_after - not_before : 0;

	if (revoked != 0) {
		/* §4.2: a window in the past tells the client to renew now. */
		*start = now - 3600;
		*end = now;
		return;
	}
	*start = not_before + v * 2 / 3;
	*end = not_before + v * 5 / 6;
	if (*end <= *start)  /* §4.2: end must follow start */
		*end = *start + 1;
}

/* The certificate record an identifier names: the serial must be ours and
 * the stored identifier equal (so the key identifier matches). */
static cJSON *
cert_by_id(struct store_txn *txn, const struct acme_cert_id *id)
{
	cJSON *c = acme_record_get(txn, STORE_T_CERTS, id->serial);
	char ari[CRYPTO_ARI_ID_MAX];

	if (c != NULL && (acme_cert_rec_ari(c, id->serial, ari) != 0 ||
	    strcmp(ari, id->text) != 0)) {
		cJSON_Delete(c);
		c = NULL;
	}
	return c;
}

static char *
renewal_json(const cJSON *c, time_t now)
{
	time_t start, end;
	char ts[32];
	cJSON *o = cJSON_CreateObject(), *w;
	char *out = NULL;

	acme_renewal_window(acme_json_time(c, "notBefore"),
	    acme_json_time(c, "notAfter"), acme_json_time(c, "revoked"), now,
	    &start, &end);
	if (o != NULL && (w = cJSON_AddObjectToObject(o, "suggestedWindow")) != NULL) {
		acme_time_format(start, ts, sizeof(ts));
		cJSON_AddStringToObject(w, "start", ts);
		acme_time_format(end, ts, sizeof(ts));
		cJSON_AddStringToObject(w, "end", ts);
		out = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return out;
}

void
acme_renewal_info(struct acme *a, const struct acme_request *req,
    const char *cert_id, struct acme_response *resp)
{
	struct acme_cert_id id;
	struct store_txn *txn;
	cJSON *c = NULL;
	char why[128], *json = NULL;

	if (acme_cert_id_parse(cert_id, &id, why, sizeof(why)) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "%s", why);
		return;
	}
	if (store_read_begin(a->store, &txn) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage unavailable");
		return;
	}
	c = cert_by_id(txn, &id);
	store_read_end(txn);
	if (c == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "no certificate issued here has this identifier");
		return;
	}
	if ((json = renewal_json(c, req->now)) == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
	} else {
		acme_respond_json(resp, 200, json);
		acme_respond_header(resp, "Retry-After", "%d", ACME_ARI_RETRY_AFTER);
	}
	cJSON_Delete(c);
}

/* ---- replaces (§5) ---- */

/* Nonzero when the two [{type, value}] arrays share an identifier. */
static int
identifiers_overlap(const cJSON *x, const cJSON *y)
{
	const cJSON *i, *j;
	const char *t, *v;

	cJSON_ArrayForEach(i, x) {
		t = acme_json_str(i, "type");
		v = acme_json_str(i, "value");
		cJSON_ArrayForEach(j, y) {
			if (t != NULL && v != NULL &&
			    acme_json_str(j, "type") != NULL &&
			    acme_json_str(j, "value") != NULL &&
			    strcmp(t, acme_json_str(j, "type")) == 0 &&
			    strcmp(v, acme_json_str(j, "value")) == 0)
				return 1;
		}
	}
	return 0;
}

static int
refuse(struct acme_replaces *r, enum acme_problem p, const char *detail)
{
	r->problem = p;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	return 1;
}

/* Nonzero when order id exists and is not invalid (failed or expired):
 * such an order holds its claim on the certificate. */
static int
claim_alive(struct store_txn *txn, const char *order_id, time_t now)
{
	cJSON *ord = acme_record_get(txn, STORE_T_ORDERS, order_id);
	int alive = ord != NULL &&
	    strcmp(acme_order_status(txn, ord, now, NULL), "invalid") != 0;

	cJSON_Delete(ord);
	return alive;
}

int
acme_replaces_claim(struct store_txn *txn, struct acme_replaces *r)
{
	cJSON *c = cert_by_id(txn, r->id);
	const char *by, *owner = acme_json_str(c, "account");
	int ret;

	if (c == NULL)
		return refuse(r, ACME_P_MALFORMED,
		    "replaces names no certificate issued here");
	if (owner == NULL || strcmp(owner, r->account) != 0)
		ret = refuse(r, ACME_P_UNAUTHORIZED,
		    "the certificate to replace was issued to another account");
	else if (!identifiers_overlap(cJSON_GetObjectItemCaseSensitive(c,
	    "identifiers"), r->identifiers))
		ret = refuse(r, ACME_P_MALFORMED, "the order shares no identifier "
		    "with the certificate it replaces");
	else if (acme_json_str(c, "replacedByCert") != NULL ||
	    ((by = acme_json_str(c, "replacedBy")) != NULL &&
	    claim_alive(txn, by, r->now)))
		ret = refuse(r, ACME_P_ALREADY_REPLACED, "the certificate is already "
		    "being replaced by another order");
	else {
		/* an earlier, lapsed claim gives way */
		cJSON_DeleteItemFromObjectCaseSensitive(c, "replacedBy");
		ret = cJSON_AddStringToObject(c, "replacedBy", r->order_id) == NULL ?
		    ACME_ERR_NOMEM :
		    acme_record_put(txn, STORE_T_CERTS, r->id->serial, c);
	}
	cJSON_Delete(c);
	return ret;
}
