/*
 * keycache.c: the parsed keys of recently active accounts, so a kid request
 * does not rebuild its key (JSON printing and parsing, the EC point check,
 * the thumbprint) each time.
 *
 * An entry is the account id, the SHA-256 of the account record's bytes as
 * they were when the key was parsed, the key and its thumbprint. A lookup
 * names the digest of the record it has just read, so any change to the
 * record (keyChange, deactivation, a contact update, a change made by
 * another process or replica sharing the store) misses by itself: nothing
 * can be served from a record that is no longer the stored one. keyChange
 * and deactivation also drop their entry, only to free the slot early.
 *
 * Low contention: ACME_KEYCACHE_SHARDS shards, each behind its own mutex,
 * chosen by a hash of the account id; within a shard the least recently
 * used entry makes way. The lock is held for a scan of one shard and a copy
 * of the key (a few hundred bytes), never across parsing or the store.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

static struct acme_keycache_shard *
shard_of(struct acme_keycache *c, const char *id)
{
	uint32_t h = 2166136261u;     /* FNV-1a */

	while (*id != '\0')
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return &c->shards[h % ACME_KEYCACHE_SHARDS];
}

/* The entry of id in s, or NULL. Called locked. */
static struct acme_keycache_entry *
entry_find(struct acme_keycache_shard *s, const char *id)
{
	size_t i;

	for (i = 0; i < ACME_KEYCACHE_WAYS; i++)
		if (s->e[i].jwk != NULL && strcmp(s->e[i].id, id) == 0)
			return &s->e[i];
	return NULL;
}

static void
entry_clear(struct acme_keycache_entry *e)
{
	crypto_jwk_free(e->jwk);
	memset(e, 0, sizeof(*e));
}

int
acme_keycache_init(struct acme_keycache *c)
{
	size_t i;

	if ((c->shards = calloc(ACME_KEYCACHE_SHARDS, sizeof(*c->shards))) == NULL)
		return ACME_ERR_NOMEM;
	for (i = 0; i < ACME_KEYCACHE_SHARDS; i++)
		pthread_mutex_init(&c->shards[i].lock, NULL);
	return ACME_OK;
}

void
acme_keycache_fini(struct acme_keycache *c)
{
	size_t i, j;

	if (c->shards == NULL)
		return;
	for (i = 0; i < ACME_KEYCACHE_SHARDS; i++) {
		for (j = 0; j < ACME_KEYCACHE_WAYS; j++)
			entry_clear(&c->shards[i].e[j]);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	free(c->shards);
	c->shards = NULL;
}

int
acme_keycache_get(struct acme_keycache *c, const char *id,
    const uint8_t digest[32], struct crypto_jwk **jwk,
    char thumbprint[CRYPTO_THUMBPRINT_LEN + 1])
{
	struct acme_keycache_shard *s = shard_of(c, id);
	struct acme_keycache_entry *e;
	int hit = 0;

	*jwk = NULL;
	pthread_mutex_lock(&s->lock);
	if ((e = entry_find(s, id)) != NULL &&
	    memcmp(e->digest, digest, sizeof(e->digest)) == 0 &&
	    (*jwk = crypto_jwk_dup(e->jwk)) != NULL) {
		memcpy(thumbprint, e->thumbprint, CRYPTO_THUMBPRINT_LEN + 1);
		e->used = ++s->clock;
		s->hits++;
		hit = 1;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

/* The slot a new entry takes: a free one, else the least recently used.
 * Called locked. */
static struct acme_keycache_entry *
entry_victim(struct acme_keycache_shard *s)
{
	struct acme_keycache_entry *v = &s->e[0];
	size_t i;

	for (i = 0; i < ACME_KEYCACHE_WAYS; i++) {
		if (s->e[i].jwk == NULL)
			return &s->e[i];
		if (s->e[i].used < v->used)
			v = &s->e[i];
	}
	return v;
}

void
acme_keycache_put(struct acme_keycache *c, const char *id,
    const uint8_t digest[32], const struct crypto_jwk *jwk,
    const char *thumbprint)
{
	struct acme_keycache_shard *s = shard_of(c, id);
	struct acme_keycache_entry *e;
	struct crypto_jwk *copy;

	if (strlen(id) > ACME_ID_LEN || strlen(thumbprint) > CRYPTO_THUMBPRINT_LEN ||
	    (copy = crypto_jwk_dup(jwk)) == NULL)
		return;   /* not cached: the next request parses again */
	pthread_mutex_lock(&s->lock);
	if ((e = entry_find(s, id)) == NULL)
		e = entry_victim(s);
	entry_clear(e);
	memcpy(e->id, id, strlen(id) + 1);
	memcpy(e->digest, digest, sizeof(e->digest));
	e->jwk = copy;
	memcpy(e->thumbprint, thumbprint, strlen(thumbprint) + 1);
	e->used = ++s->clock;
	pthread_mutex_unlock(&s->lock);
}

void
acme_keycache_drop(struct acme_keycache *c, const char *id)
{
	struct acme_keycache_shard *s = shard_of(c, id);
	struct acme_keycache_entry *e;

	pthread_mutex_lock(&s->lock);
	if ((e = entry_find(s, id)) != NULL)
		entry_clear(e);
	pthread_mutex_unlock(&s->lock);
}

void
acme_keycache_stats(struct acme_keycache *c, uint64_t *hits, uint64_t *misses)
{
	size_t i;

	*hits = *misses = 0;
	for (i = 0; i < ACME_KEYCACHE_SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		*hits += c->shards[i].hits;
		*misses += c->shards[i].misses;
		pthread_mutex_unlock(&c->shards[i].lock);
	}
}
