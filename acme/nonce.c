/*
 * nonce.c: anti-replay nonces (RFC 8555 §6.5). A nonce is its issue time,
 * the issuing process's replica id and a counter, followed by a truncated
 * HMAC of the three, so nonces cannot be predicted or forged and each
 * carries its own age. Each is accepted once and only for
 * ACME_NONCE_LIFETIME seconds:
 *  - one server alone on its store: a direct-mapped window of recent
 *    counters in memory records which were issued when and which were
 *    used (fixed memory, no store access);
 *  - replicas sharing a store (store_shared(), or acme_config.shared):
 *    the HMAC key lives in the store's meta table (created once, the first
 *    replica to start wins) so every replica verifies every nonce, and a
 *    nonce is redeemed by inserting it into the used_nonces table with
 *    STORE_PUT_NEW: exactly one redemption succeeds, whichever replica it
 *    reaches. The cleanup removes entries once their nonce has expired.
 * No clock is read: time comes with each call.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "store.h"

#define NONCE_BODY 16          /* issued (4) || replica (4) || counter (8) */
#define NONCE_MAC  8
#define NONCE_RAW  (NONCE_BODY + NONCE_MAC)
#define NONCE_KEY_META "nonce_key"
#define NONCE_SKEW 30          /* seconds replicas' clocks may differ */

_Static_assert(ACME_NONCE_LEN == (NONCE_RAW * 4 + 2) / 3,
    "ACME_NONCE_LEN is the base64url length of a nonce");

static int
nonce_mac(const struct acme_nonces *n, const uint8_t body[NONCE_BODY],
    uint8_t out[NONCE_MAC])
{
	uint8_t mac[64];
	size_t maclen;

	if (crypto_hmac(CRYPTO_SHA256, n->key, sizeof(n->key), body, NONCE_BODY,
	    mac, &maclen) != CRYPTO_OK)
		return ACME_ERR_INTERNAL;
	memcpy(out, mac, NONCE_MAC);
	return ACME_OK;
}

int
acme_nonces_init(struct acme_nonces *n, int (*random)(void *, size_t))
{
	memset(n, 0, sizeof(*n));
	if (random(n->key, sizeof(n->key)) != 0 ||
	    random(&n->replica, sizeof(n->replica)) != 0)
		return ACME_ERR_INTERNAL;
	n->slots = calloc(ACME_NONCE_WINDOW, sizeof(*n->slots));
	if (n->slots == NULL)
		return ACME_ERR_NOMEM;
	/* Start past zero so an all-zero slot never matches a real nonce. */
	n->next = 1;
	pthread_mutex_init(&n->lock, NULL);
	return ACME_OK;
}

struct nonce_key {
	uint8_t key[32];
	int put;
};

/* Reads the shared key, or stores ours when there is none yet. */
static int
nonce_key_txn(struct store_txn *txn, void *arg)
{
	struct nonce_key *k = arg;
	const void *v;
	size_t vl;
	int ret;

	k->put = 0;
	ret = store_get(txn, STORE_T_META, NONCE_KEY_META,
	    strlen(NONCE_KEY_META), &v, &vl);
	if (ret == 0) {
		if (vl != sizeof(k->key))
			return STORE_ERR_CORRUPT;
		memcpy(k->key, v, vl);
		return 0;
	}
	if (ret != STORE_NOTFOUND)
		return ret;
	k->put = 1;
	return store_put(txn, STORE_T_META, NONCE_KEY_META,
	    strlen(NONCE_KEY_META), k->key, sizeof(k->key), STORE_PUT_NEW);
}

int
acme_nonces_share(struct acme_nonces *n, struct store *st)
{
	struct nonce_key k;
	int ret;

	memcpy(k.key, n->key, sizeof(k.key));
	if ((ret = store_write(st, nonce_key_txn, &k)) != 0) {
		crypto_zeroize(&k, sizeof(k));
		return ret;
	}
	memcpy(n->key, k.key, sizeof(n->key));
	crypto_zeroize(&k, sizeof(k));
	n->store = st;
	return ACME_OK;
}

void
acme_nonces_fini(struct acme_nonces *n)
{
	if (n->slots == NULL)
		return;
	free(n->slots);
	n->slots = NULL;
	crypto_zeroize(n->key, sizeof(n->key));
	pthread_mutex_destroy(&n->lock);
}

int
acme_nonce_issue(struct acme_nonces *n, time_t now, char out[ACME_NONCE_LEN + 1])
{
	uint8_t raw[NONCE_RAW];
	struct acme_nonce_slot *slot;
	uint64_t ctr;

	pthread_mutex_lock(&n->lock);
	ctr = n->next++;
	if (n->store == NULL) {
		slot = &n->slots[ctr % ACME_NONCE_WINDOW];
		slot->counter = ctr;
		slot->issued = now;
		slot->used = 0;
	}
	pthread_mutex_unlock(&n->lock);
	acme_be64_put(raw, ((uint64_t)(uint32_t)now << 32) | n->replica);
	acme_be64_put(raw + 8, ctr);
	if (nonce_mac(n, raw, raw + NONCE_BODY) != ACME_OK)
		return ACME_ERR_INTERNAL;
	if (crypto_b64url_encode(raw, sizeof(raw), out, ACME_NONCE_LEN + 1) !=
	    ACME_NONCE_LEN)
		return ACME_ERR_INTERNAL;
	return ACME_OK;
}

/* Decodes nonce into raw and checks its MAC: 1 when genuine, else 0. */
static int
nonce_genuine(const struct acme_nonces *n, const char *nonce,
    uint8_t raw[NONCE_RAW])
{
	uint8_t mac[NONCE_MAC], diff = 0;
	size_t len, i;

	if (nonce == NULL || strlen(nonce) != ACME_NONCE_LEN)
		return 0;
	if (crypto_b64url_decode(nonce, ACME_NONCE_LEN, raw, NONCE_RAW, &len)
	    != CRYPTO_OK || len != NONCE_RAW)
		return 0;
	if (nonce_mac(n, raw, mac) != ACME_OK)
		return 0;
	/* Both are public-length MACs; compare without early exit anyway. */
	for (i = 0; i < NONCE_MAC; i++)
		diff |= (uint8_t)(mac[i] ^ raw[NONCE_BODY + i]);
	return diff == 0;
}

/* The window of one server: the slot must still hold this counter. */
static int
nonce_use_slot(struct acme_nonces *n, time_t now, const uint8_t raw[NONCE_RAW])
{
	struct acme_nonce_slot *slot;
	uint64_t ctr = acme_be64_get(raw + 8);
	int ok = 0;

	if ((uint32_t)acme_be64_get(raw) != n->replica)
		return 0;
	pthread_mutex_lock(&n->lock);
	slot = &n->slots[ctr % ACME_NONCE_WINDOW];
	if (slot->counter == ctr && !slot->used &&
	    now - slot->issued <= ACME_NONCE_LIFETIME && now >= slot->issued) {
		slot->used = 1;
		ok = 1;
	}
	pthread_mutex_unlock(&n->lock);
	return ok;
}

static int
nonce_redeem_txn(struct store_txn *txn, void *arg)
{
	return store_put(txn, STORE_T_USED_NONCES, arg, NONCE_BODY, "", 0,
	    STORE_PUT_NEW);
}

/* Replicas: the nonce's own time, then one insertion that only the first
 * redemption wins. */
static int
nonce_use_shared(struct acme_nonces *n, time_t now, uint8_t raw[NONCE_RAW])
{
	int64_t issued = (int64_t)(acme_be64_get(raw) >> 32), t = (int64_t)now;
	int ret;

	if (t - issued > ACME_NONCE_LIFETIME || issued > t + NONCE_SKEW)
		return 0;
	ret = store_write(n->store, nonce_redeem_txn, raw);
	if (ret == STORE_EXISTS)
		return 0;
	return ret == 0 ? 1 : ret;
}

int
acme_nonce_consume(struct acme_nonces *n, time_t now, const char *nonce)
{
	uint8_t raw[NONCE_RAW];

	if (!nonce_genuine(n, nonce, raw))
		return 0;
	if (n->store != NULL)
		return nonce_use_shared(n, now, raw);
	return nonce_use_slot(n, now, raw);
}

struct nonce_expired {
	time_t now;
	uint8_t keys[ACME_NONCE_EXPIRE_BATCH][NONCE_BODY];
	size_t n;
};

/* Used nonces in issue order: collects those past their lifetime. */
static int
expired_cb(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct nonce_expired *e = arg;
	int64_t issued;

	(void)val;
	(void)vallen;
	if (keylen != NONCE_BODY)
		return 0;   /* not a nonce: not ours to remove */
	issued = (int64_t)(acme_be64_get(key) >> 32);
	if (issued + ACME_NONCE_LIFETIME + NONCE_SKEW >= (int64_t)e->now)
		return 1;
	memcpy(e->keys[e->n++], key, NONCE_BODY);
	return e->n < ACME_NONCE_EXPIRE_BATCH ? 0 : 1;
}

static int
expired_del_txn(struct store_txn *txn, void *arg)
{
	struct nonce_expired *e = arg;
	size_t i;
	int ret;

	for (i = 0; i < e->n; i++)
		if ((ret = store_del(txn, STORE_T_USED_NONCES, e->keys[i],
		    NONCE_BODY)) != 0 && ret != STORE_NOTFOUND)
			return ret;
	return 0;
}

int
acme_nonces_expire(struct acme_nonces *n, time_t now)
{
	struct nonce_expired e;
	struct store_txn *txn;
	int ret;

	if (n->store == NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	e.now = now;
	if ((ret = store_read_begin(n->store, &txn)) != 0)
		return ret;
	ret = store_scan(txn, STORE_T_USED_NONCES, NULL, 0, NULL, 0, expired_cb,
	    &e);
	store_read_end(txn);
	if (ret == 0 && e.n > 0)
		ret = store_write(n->store, expired_del_txn, &e);
	return ret != 0 ? ret : (int)e.n;
}
