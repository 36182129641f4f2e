/*
 * limit.c: rate limits (docs/limits.md). Owns the in-memory limiter and the
 * checks newAccount, newOrder, newAuthz and the nonce issuer call; it never
 * reads a clock (time comes with each call) and never resolves a name.
 *
 * Each rate is a GCRA (generic cell rate algorithm) per key: one time, the
 * "theoretical arrival time" (tat), is all a key needs. An event at now
 * moves tat to max(tat, now) + interval and fits while tat - now stays
 * within the period, so a quiet key may spend the whole count at once and
 * then one every period/count. A key whose tat has passed is at rest: it is
 * in the same state as a key never seen, so forgetting it loses nothing.
 *
 * Memory is fixed: per kind ACME_LIMIT_SETS sets of ACME_LIMIT_WAYS slots.
 * A key is stored as a keyed hash (HMAC-SHA256 under a key drawn at start,
 * truncated), which also picks its set, so nobody can aim keys at another
 * key's set. A new key takes a free slot or one at rest, never a slot whose
 * key is still counting: a flood of keys cannot reset anyone's counter. When
 * a set has nothing at rest the new key is refused until a slot comes to
 * rest (at worst, newcomers wait; the counted are never let off).
 *
 * The pending-authorization cap is counted in the store, inside the write
 * that creates authorizations, so concurrent requests cannot pass it.
 */
#include "acme_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "store.h"

/*
 * Sets the rate of one table under its lock: interval 0 turns it off. The
 * slots, once allocated, stay until acme_limiter_fini(), so keys counted
 * under the old rate keep their time and are judged by the new one.
 */
static int
limit_table_set(struct acme_limit_table *t, const struct acme_rate *r)
{
	struct acme_limit_slot *slots = NULL;
	int on = r->count != 0 && r->period > 0;

	pthread_mutex_lock(&t->lock);
	if (on && t->slots == NULL) {
		slots = calloc((size_t)ACME_LIMIT_SETS * ACME_LIMIT_WAYS,
		    sizeof(*slots));
		if (slots == NULL) {
			pthread_mutex_unlock(&t->lock);
			return ACME_ERR_NOMEM;
		}
		t->slots = slots;
	}
	t->window = on ? (int64_t)r->period * 1000 : 0;
	t->interval = on ? t->window / r->count : 0;
	if (on && t->interval < 1)
		t->interval = 1;
	pthread_mutex_unlock(&t->lock);
	return ACME_OK;
}

int
acme_limiter_init(struct acme_limiter *l, const struct acme_limits *cfg,
    int (*random)(void *, size_t))
{
	const struct acme_rate *rates[ACME_LIMIT_KINDS];
	size_t i;

	memset(l, 0, sizeof(*l));
	rates[ACME_LIMIT_ACCOUNTS] = &cfg->accounts;
	rates[ACME_LIMIT_ORDERS] = &cfg->orders;
	rates[ACME_LIMIT_FAILURES] = &cfg->failures;
	rates[ACME_LIMIT_NONCES] = &cfg->nonces;
	if (random(l->key, sizeof(l->key)) != 0)
		return ACME_ERR_INTERNAL;
	for (i = 0; i < ACME_LIMIT_KINDS; i++)
		pthread_mutex_init(&l->t[i].lock, NULL);
	for (i = 0; i < ACME_LIMIT_KINDS; i++)
		if (limit_table_set(&l->t[i], rates[i]) != ACME_OK) {
			acme_limiter_fini(l);
			return ACME_ERR_NOMEM;
		}
	return ACME_OK;
}

int
acme_limiter_set(struct acme_limiter *l, const struct acme_limits *cfg)
{
	const struct acme_rate *rates[ACME_LIMIT_KINDS];
	size_t i;
	int ret = ACME_OK;

	rates[ACME_LIMIT_ACCOUNTS] = &cfg->accounts;
	rates[ACME_LIMIT_ORDERS] = &cfg->orders;
	rates[ACME_LIMIT_FAILURES] = &cfg->failures;
	rates[ACME_LIMIT_NONCES] = &cfg->nonces;
	for (i = 0; i < ACME_LIMIT_KINDS; i++)
		if (limit_table_set(&l->t[i], rates[i]) != ACME_OK)
			ret = ACME_ERR_NOMEM;
	return ret;
}

void
acme_limiter_fini(struct acme_limiter *l)
{
	size_t i;

	for (i = 0; i < ACME_LIMIT_KINDS; i++) {
		free(l->t[i].slots);
		l->t[i].slots = NULL;
		pthread_mutex_destroy(&l->t[i].lock);
	}
	crypto_zeroize(l->key, sizeof(l->key));
}

/* The keyed hash of key: the first bytes name the key, the next its set. */
static int
limit_hash(const struct acme_limiter *l, const char *key,
    uint8_t h[ACME_LIMIT_HASH], size_t *set)
{
	uint8_t mac[64];
	size_t maclen;

	if (crypto_hmac(CRYPTO_SHA256, l->key, sizeof(l->key), key, strlen(key),
	    mac, &maclen) != CRYPTO_OK || maclen < ACME_LIMIT_HASH + 4)
		return -1;
	memcpy(h, mac, ACME_LIMIT_HASH);
	*set = ((size_t)mac[ACME_LIMIT_HASH] << 8 | mac[ACME_LIMIT_HASH + 1]) %
	    ACME_LIMIT_SETS;
	return 0;
}

static long
ms_to_retry(int64_t ms)
{
	long s = (long)((ms + 999) / 1000);

	return s < 1 ? 1 : s;
}

/*
 * The slot of h in its set, or a free or resting slot for it (zeroed), or
 * NULL when every slot of the set still counts (*retry: until one rests).
 */
static struct acme_limit_slot *
limit_slot(struct acme_limit_table *t, const uint8_t h[ACME_LIMIT_HASH],
    size_t set, int64_t now, long *retry)
{
	struct acme_limit_slot *s = &t->slots[set * ACME_LIMIT_WAYS], *spare = NULL;
	int64_t soonest = INT64_MAX;
	size_t i;

	for (i = 0; i < ACME_LIMIT_WAYS; i++) {
		if (memcmp(s[i].key, h, ACME_LIMIT_HASH) == 0 && s[i].tat != 0)
			return &s[i];
		if (s[i].tat <= now && spare == NULL)
			spare = &s[i];
		if (s[i].tat < soonest)
			soonest = s[i].tat;
	}
	if (spare == NULL) {
		*retry = ms_to_retry(soonest - now);
		return NULL;
	}
	memcpy(spare->key, h, ACME_LIMIT_HASH);
	spare->tat = 0;
	return spare;
}

/* mode 0: peek, 1: take when it fits, 2: count regardless. */
static int
limit_apply(struct acme_limiter *l, enum acme_limit_kind kind, const char *key,
    time_t now, int mode, long *retry)
{
	struct acme_limit_table *t;
	struct acme_limit_slot *s;
	uint8_t h[ACME_LIMIT_HASH];
	int64_t ms = (int64_t)now * 1000, tat;
	size_t set;
	int limited = 0;

	*retry = 0;
	if ((unsigned)kind >= ACME_LIMIT_KINDS || key == NULL ||
	    limit_hash(l, key, h, &set) != 0)
		return 0;
	t = &l->t[kind];
	pthread_mutex_lock(&t->lock);
	if (t->interval == 0)
		goto out;                          /* off */
	if ((s = limit_slot(t, h, set, ms, retry)) == NULL) {
		limited = mode != 2;
		goto out;
	}
	tat = (s->tat > ms ? s->tat : ms) + t->interval;
	if (tat - ms > t->window && mode != 2) {
		*retry = ms_to_retry(tat - t->window - ms);
		limited = 1;
	} else if (mode != 0) {
		s->tat = tat;
	}
	if (s->tat == 0)
		memset(s->key, 0, sizeof(s->key));   /* peeked only: stays free */
out:
	pthread_mutex_unlock(&t->lock);
	return limited;
}

int
acme_limit_take(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now, long *retry)
{
	return limit_apply(l, kind, key, now, 1, retry);
}

int
acme_limit_peek(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now, long *retry)
{
	return limit_apply(l, kind, key, now, 0, retry);
}

void
acme_limit_charge(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, time_t now)
{
	long retry;

	(void)limit_apply(l, kind, key, now, 2, &retry);
}

int
acme_limit_source(const char *peer, char *out, size_t outsz)
{
	uint8_t a[16];

	if (peer == NULL || outsz < INET6_ADDRSTRLEN + 4)
		return -1;
	if (inet_pton(AF_INET, peer, a) == 1) {
		inet_ntop(AF_INET, a, out, (socklen_t)outsz);
		return 0;
	}
	if (inet_pton(AF_INET6, peer, a) != 1)
		return -1;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		inet_ntop(AF_INET, a + 12, out, (socklen_t)outsz);
		return 0;
	}
	/* One host usually holds a whole /64; count it as one source. */
	memset(a + 8, 0, 8);
	inet_ntop(AF_INET6, a, out, (socklen_t)outsz);
	strcat(out, "/64");
	return 0;
}

void
acme_respond_limited(struct acme_response *resp, long retry, const char *fmt, ...)
{
	char detail[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	acme_respond_problem(resp, ACME_P_RATE_LIMITED, 0, "%s; retry after %ld s",
	    detail, retry);
	acme_respond_header(resp, "Retry-After", "%ld", retry);
}

/* "N per DURATION" for a detail. */
static void
rate_text(const struct acme_rate *r, char *out, size_t outsz)
{
	if (r->period % 86400 == 0)
		snprintf(out, outsz, "%u per %ldd", r->count, r->period / 86400);
	else if (r->period % 3600 == 0)
		snprintf(out, outsz, "%u per %ldh", r->count, r->period / 3600);
	else if (r->period % 60 == 0)
		snprintf(out, outsz, "%u per %ldm", r->count, r->period / 60);
	else
		snprintf(out, outsz, "%u per %lds", r->count, r->period);
}

int
acme_limit_new_order(struct acme *a, const struct acme_request *req,
    const char *account, struct acme_response *resp)
{
	char rate[64];
	long retry;

	if (acme_limit_take(&a->limits, ACME_LIMIT_ORDERS, account, req->now,
	    &retry) == 0)
		return 0;
	rate_text(&acme_settings(a)->limits.orders, rate, sizeof(rate));
	acme_respond_limited(resp, retry, "limit of new orders per account "
	    "reached (%s)", rate);
	return -1;
}

int
acme_limit_failures(struct acme *a, const char *account,
    enum acme_ident_type type, const char *value, time_t now,
    struct acme_response *resp)
{
	char key[STORE_MAX_KEY + 1], rate[64];
	long retry;

	snprintf(key, sizeof(key), "%s/%s:%s", account, acme_ident_type_name(type),
	    value);
	if (acme_limit_peek(&a->limits, ACME_LIMIT_FAILURES, key, now, &retry) == 0)
		return 0;
	rate_text(&acme_settings(a)->limits.failures, rate, sizeof(rate));
	acme_respond_limited(resp, retry, "limit of failed validations per "
	    "account and name reached for %s (%s)", value, rate);
	return -1;
}

struct pending_count {
	size_t prefix_len;
	time_t now;
	unsigned n;
	time_t oldest;              /* expiry of the oldest still pending */
};

/* An index entry "account/authz id": pending until its id's time plus the
 * pending lifetime (ids begin with their creation time in hex). */
static int
pending_cb(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct pending_count *p = arg;
	char hex[9];
	time_t expires;

	if (keylen != p->prefix_len + ACME_ID_LEN)
		return 0;
	memcpy(hex, (const char *)key + p->prefix_len, 8);
	hex[8] = '\0';
	expires = (time_t)strtoul(hex, NULL, 16) + ACME_AUTHZ_PENDING_LIFETIME;
	if (expires <= p->now)
		return 0;
	if (p->n == 0 || expires < p->oldest)
		p->oldest = expires;
	p->n++;
	return 0;
}

int
acme_limit_pending_txn(struct acme *a, struct store_txn *txn,
    const char *account, time_t now, long *retry)
{
	struct pending_count p;
	char prefix[ACME_ID_LEN + 2];
	int ret;

	*retry = 0;
	if (acme_settings(a)->limits.pending_authzs == 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%s/", account);
	p.now = now;
	if ((ret = store_scan(txn, STORE_T_PENDING_AUTHZS, prefix, p.prefix_len,
	    NULL, 0, pending_cb, &p)) != 0)
		return ret;
	if (p.n <= acme_settings(a)->limits.pending_authzs)
		return 0;
	*retry = p.oldest - now > 0 ? (long)(p.oldest - now) : 1;
	return ACME_LIMIT_PENDING;
}

void
acme_limit_pending_refused(const struct acme *a, long retry,
    struct acme_response *resp)
{
	acme_respond_limited(resp, retry, "limit of pending authorizations per "
	    "account reached (%u); complete or deactivate some, or wait for them "
	    "to expire", acme_settings(a)->limits.pending_authzs);
}
