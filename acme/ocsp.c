/*
 * ocsp.c: OCSP answers (RFC 6960) for the intermediate's certificates. A
 * serial in the revoked table is revoked (time and reason); one hearth
 * issued under this intermediate and did not revoke is good; any other,
 * including one issued under another intermediate, is unknown. Requests for
 * another issuer are refused with unauthorized (§2.3), unparsable ones with
 * malformedRequest, and a signer that cannot sign gives tryLater. Every
 * answer is signed afresh from the store, so a revocation shows in the next
 * answer. Pure: the time comes from the caller.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

/* OCSP response statuses (RFC 6960 §4.2.1). */
#define OCSP_MALFORMED    1
#define OCSP_INTERNAL     2
#define OCSP_TRY_LATER    3
#define OCSP_UNAUTHORIZED 6

static int
ocsp_error(struct acme_ocsp *out, int status, const char *outcome)
{
	out->outcome = outcome;
	if (crypto_ocsp_error(status, &out->der, &out->len) != CRYPTO_OK)
		return ACME_ERR_NOMEM;
	return ACME_OK;
}

/*
 * Status of serial (DER INTEGER contents) from one snapshot, as the
 * intermediate issuer_hex sees it: a serial hearth issued under another
 * intermediate (a retired one, or the one that replaced it) is unknown to
 * this one (RFC 6960 §2.2), whether or not it was revoked.
 */
static int
ocsp_lookup(struct store *st, const uint8_t *serial, size_t len,
    const char *issuer_hex, struct crypto_ocsp_answer *a)
{
	char hex[ACME_SERIAL_HEX_LEN + 1];
	struct acme_revoked r;
	struct store_txn *txn;
	const void *val;
	size_t vlen;
	int rc, mine;

	while (len > 1 && serial[0] == 0) {
		serial++;
		len--;
	}
	crypto_serial_hex(serial, len, hex);
	if (store_read_begin(st, &txn) != STORE_OK)
		return ACME_ERR_INTERNAL;
	a->status = CRYPTO_OCSP_UNKNOWN;
	rc = store_get(txn, STORE_T_REVOKED, serial, len, &val, &vlen);
	if (rc == STORE_OK && (rc = acme_revoked_decode(val, vlen, &r)) == 0) {
		mine = acme_revoked_issuer_is(&r, issuer_hex);
		if (mine < 0)           /* a version 1 record: ask the certificate,
		                           which without an issuer is taken as
		                           the signer's own */
			mine = acme_cert_issuer_is(txn, hex, issuer_hex) != 0;
		if (mine) {
			a->status = CRYPTO_OCSP_REVOKED;
			a->revoked_at = r.revoked_at;
			a->reason = r.reason;
		}
	} else if (rc == STORE_NOTFOUND) {
		rc = STORE_OK;
		mine = acme_cert_issuer_is(txn, hex, issuer_hex);
		if (mine == 1 || mine == -2)
			a->status = CRYPTO_OCSP_GOOD;
		else if (mine == -3)    /* tryLater, never a signed "unknown" */
			rc = STORE_ERR_IO;
	}
	store_read_end(txn);
	return rc == 0 ? ACME_OK : ACME_ERR_INTERNAL;
}

static const char *
ocsp_outcome(enum crypto_ocsp_status s)
{
	switch (s) {
	case CRYPTO_OCSP_GOOD:    return "good";
	case CRYPTO_OCSP_REVOKED: return "revoked";
	case CRYPTO_OCSP_UNKNOWN: return "unknown";
	}
	return "unknown";
}

int
acme_ocsp_answer(struct store *st, struct crypto_signer *s,
    const uint8_t *req, size_t len, time_t now, struct acme_ocsp *out)
{
	struct crypto_ocsp_request r;
	struct crypto_ocsp_answer a;
	char issuer[65];

	memset(out, 0, sizeof(*out));
	if (req == NULL || len == 0 ||
	    crypto_ocsp_request_parse(req, len, &r) != CRYPTO_OK)
		return ocsp_error(out, OCSP_MALFORMED, "malformedRequest");
	if (!crypto_signer_ocsp_issuer_matches(s, &r))
		return ocsp_error(out, OCSP_UNAUTHORIZED, "unauthorized");
	memset(&a, 0, sizeof(a));
	if (crypto_signer_issuer_id(s, issuer) != CRYPTO_OK ||
	    ocsp_lookup(st, r.serial, r.serial_len, issuer, &a) != ACME_OK)
		return ocsp_error(out, OCSP_INTERNAL, "internalError");
	/* a revocation stamped by another process's clock a little ahead */
	a.this_update = a.revoked_at > now ? a.revoked_at : now;
	a.next_update = a.this_update + ACME_OCSP_VALIDITY;
	a.produced_at = a.this_update;
	if (crypto_signer_ocsp(s, &r, &a, &out->der, &out->len) != CRYPTO_OK) {
		out->der = NULL;
		out->len = 0;
		return ocsp_error(out, OCSP_TRY_LATER, "tryLater");
	}
	out->outcome = ocsp_outcome(a.status);
	return ACME_OK;
}

void
acme_ocsp_clear(struct acme_ocsp *o)
{
	if (o == NULL)
		return;
	free(o->der);
	memset(o, 0, sizeof(*o));
}
