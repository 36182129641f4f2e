/*
 * crl.c: the full CRL (RFC 5280 §5) of the intermediate. Reads the revoked
 * table only (fixed-size entries; no certificate record is parsed), leaves
 * out certificates past their notAfter and those of another intermediate, takes the next CRL number in its own
 * write transaction (so numbers only grow, across restarts, and a number is
 * never reused even when signing then fails), and has the signer sign.
 * Pure: the time comes from the caller.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"

/* What the scan of the revoked table collects. */
struct crl_scan {
	time_t now;
	char issuer[65];             /* the signer's issuer id */
	int current;                 /* also takes entries of no known issuer */
	struct crypto_revoked *v;
	size_t n, cap;
	time_t latest;               /* the latest revocation time seen */
	int err;
	struct store_txn *txn;       /* the scan's, for certificate records */
};

/* Whether r (serial key, keylen bytes) belongs on the CRL of c's issuer.
 * An entry of no recorded issuer (version 1) goes by its certificate
 * record, as OCSP does, so it stays on its own intermediate's CRL after a
 * rotation; with no readable record, on the current one's. -1 when the
 * store could not be read. */
static int
crl_issuer_is(const struct crl_scan *c, const struct acme_revoked *r,
    const void *key, size_t keylen)
{
	char hex[ACME_SERIAL_HEX_LEN + 1];
	int is = acme_revoked_issuer_is(r, c->issuer);

	if (is >= 0)
		return is;
	crypto_serial_hex(key, keylen, hex);
	is = acme_cert_issuer_is(c->txn, hex, c->issuer);
	return is == -3 ? -1 : is < 0 ? c->current : is;
}

static int
crl_scan_one(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct crl_scan *c = arg;
	struct acme_revoked r;
	struct crypto_revoked *nv;
	size_t ncap;
	int mine;

	if (keylen == 0 || keylen > CRYPTO_MAX_SERIAL ||
	    acme_revoked_decode(val, vallen, &r) != ACME_OK) {
		c->err = ACME_ERR_INTERNAL;
		return -1;
	}
	if (r.not_after < c->now)
		return 0;	/* expired: off the CRL (RFC 5280 §3.3) */
	if ((mine = crl_issuer_is(c, &r, key, keylen)) < 0) {
		c->err = ACME_ERR_INTERNAL;     /* the store failed: no CRL */
		return -1;
	}
	if (!mine)
		return 0;	/* another intermediate's */
	if (c->n == c->cap) {
		ncap = c->cap == 0 ? 256 : c->cap * 2;
		if (c->n >= CRYPTO_CRL_MAX_ENTRIES ||
		    (nv = realloc(c->v, ncap * sizeof(*nv))) == NULL) {
			c->err = ACME_ERR_NOMEM;
			return -1;
		}
		c->v = nv;
		c->cap = ncap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	memcpy(c->v[c->n].serial, key, keylen);
	c->v[c->n].serial_len = keylen;
	c->v[c->n].revoked_at = r.revoked_at;
	c->v[c->n].reason = r.reason;
	c->n++;
	if (r.revoked_at > c->latest)
		c->latest = r.revoked_at;
	return 0;
}

/* The entries and the revocation counter, from one snapshot. */
static int
crl_collect(struct store *st, struct crl_scan *c, uint64_t *revocations)
{
	struct store_txn *txn;
	int ret;

	if (store_read_begin(st, &txn) != STORE_OK)
		return ACME_ERR_INTERNAL;
	c->txn = txn;
	ret = acme_meta_u64_get(txn, ACME_META_REVOCATIONS, revocations);
	if (ret == 0 && store_scan(txn, STORE_T_REVOKED, NULL, 0, NULL, 0,
	    crl_scan_one, c) != STORE_OK)
		ret = c->err != 0 ? c->err : ACME_ERR_INTERNAL;
	store_read_end(txn);
	return ret;
}

static int
crl_number_txn(struct store_txn *txn, void *arg)
{
	uint64_t *number = arg;
	int ret;

	if ((ret = acme_meta_u64_get(txn, ACME_META_CRL_NUMBER, number)) != 0)
		return ret;
	*number += 1;
	return acme_meta_u64_put(txn, ACME_META_CRL_NUMBER, *number);
}

int
acme_crl_build(struct store *st, struct crypto_signer *s, int current,
    time_t now, long lifetime, struct acme_crl *out)
{
	struct crypto_crl_params p;
	struct crl_scan c;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.now = now;
	c.current = current;
	if (lifetime <= 0 || crypto_signer_issuer_id(s, c.issuer) != CRYPTO_OK)
		return ACME_ERR_INVALID;
	if ((ret = crl_collect(st, &c, &out->revocations)) != 0)
		goto out;
	if (store_write(st, crl_number_txn, &out->number) != 0) {
		ret = ACME_ERR_INTERNAL;
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.number = out->number;
	/* `hearth revoke` in another process may read a clock a little ahead;
	 * no entry may postdate thisUpdate. */
	p.this_update = c.latest > now ? c.latest : now;
	p.next_update = p.this_update + lifetime;
	p.entries = c.v;
	p.n_entries = c.n;
	if (crypto_signer_crl(s, &p, &out->der, &out->len) != CRYPTO_OK) {
		ret = ACME_ERR_INTERNAL;
		goto out;
	}
	out->this_update = p.this_update;
	out->next_update = p.next_update;
	out->entries = c.n;
out:
	free(c.v);
	return ret;
}

void
acme_crl_clear(struct acme_crl *c)
{
	if (c == NULL)
		return;
	free(c->der);
	memset(c, 0, sizeof(*c));
}
