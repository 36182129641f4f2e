/*
 * nonce.c: anti-replay nonces (RFC 8555 §6.5). Each nonce is a counter and a
 * truncated HMAC of it under a key drawn at start-up, so nonces cannot be
 * predicted or forged; a direct-mapped window of recent counters records
 * which were issued when and which were used, so each is accepted once and
 * only for ACME_NONCE_LIFETIME seconds. Memory is fixed; no clock is read.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define NONCE_RAW 16
#define NONCE_MAC 8

static int
nonce_mac(const struct acme_nonces *n, const uint8_t ctr[8], uint8_t out[NONCE_MAC])
{
	uint8_t mac[64];
	size_t maclen;

	if (crypto_hmac(CRYPTO_SHA256, n->key, sizeof(n->key), ctr, 8, mac,
	    &maclen) != CRYPTO_OK)
		return ACME_ERR_INTERNAL;
	memcpy(out, mac, NONCE_MAC);
	return ACME_OK;
}

int
acme_nonces_init(struct acme_nonces *n, int (*random)(void *, size_t))
{
	memset(n, 0, sizeof(*n));
	if (random(n->key, sizeof(n->key)) != 0)
		return ACME_ERR_INTERNAL;
	n->slots = calloc(ACME_NONCE_WINDOW, sizeof(*n->slots));
	if (n->slots == NULL)
		return ACME_ERR_NOMEM;
	/* Start past zero so an all-zero slot never matches a real nonce. */
	n->next = 1;
	pthread_mutex_init(&n->lock, NULL);
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
	slot = &n->slots[ctr % ACME_NONCE_WINDOW];
	slot->counter = ctr;
	slot->issued = now;
	slot->used = 0;
	pthread_mutex_unlock(&n->lock);
	acme_be64_put(raw, ctr);
	if (nonce_mac(n, raw, raw + 8) != ACME_OK)
		return ACME_ERR_INTERNAL;
	if (crypto_b64url_encode(raw, sizeof(raw), out, ACME_NONCE_LEN + 1) !=
	    ACME_NONCE_LEN)
		return ACME_ERR_INTERNAL;
	return ACME_OK;
}

int
acme_nonce_consume(struct acme_nonces *n, time_t now, const char *nonce)
{
	uint8_t raw[NONCE_RAW], mac[NONCE_MAC];
	struct acme_nonce_slot *slot;
	size_t len;
	uint64_t ctr;
	int ok = 0;

	if (nonce == NULL || strlen(nonce) != ACME_NONCE_LEN)
		return 0;
	if (crypto_b64url_decode(nonce, ACME_NONCE_LEN, raw, sizeof(raw), &len)
	    != CRYPTO_OK || len != sizeof(raw))
		return 0;
	if (nonce_mac(n, raw, mac) != ACME_OK)
		return 0;
	/* Both are public-length MACs; compare without early exit anyway. */
	{
		uint8_t diff = 0;
		size_t i;

		for (i = 0; i < NONCE_MAC; i++)
			diff |= (uint8_t)(mac[i] ^ raw[8 + i]);
		if (diff != 0)
			return 0;
	}
	ctr = acme_be64_get(raw);
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
