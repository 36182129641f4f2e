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
 * Replicas sharing a store (acme_limiter_share) keep the tat of accounts,
 * orders and failures in the store's limits table instead, under
 * "kind/key": each event is one read-modify-write in one store_write, so
 * every replica counts against the same tat. Nonces per source stay per
 * process: issuing one writes nothing shared, and the limit guards only the
 * issuing process's work. The cleanup removes entries at rest.
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
acme_limiter_share(struct acme_limiter *l, struct store *st)
{
	l->store = st;
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

static const char *const limit_kind_names[ACME_LIMIT_KINDS] = {
	[ACME_LIMIT_ACCOUNTS] = "accounts", [ACME_LIMIT_ORDERS] = "orders",
	[ACME_LIMIT_FAILURES] = "failures", [ACME_LIMIT_NONCES] = "nonces",
};

/* One event against a tat kept in the store (limit_store). */
struct limit_rmw {
	char key[STORE_MAX_KEY + 1];
	size_t keylen;
	int64_t now, interval, window;
	int mode;
	int limited;                /* out */
	int64_t wait;               /* out: ms until one would fit */
};

static int
limit_rmw_txn(struct store_txn *txn, void *arg)
{
	struct limit_rmw *r = arg;
	const void *v;
	size_t vl;
	uint8_t buf[8];
	int64_t tat = 0, next;
	int ret;

	r->limited = 0;
	r->wait = 0;
	ret = store_get(txn, STORE_T_LIMITS, r->key, r->keylen, &v, &vl);
	if (ret == 0 && vl == sizeof(buf))
		tat = (int64_t)acme_be64_get(v);
	else if (ret != 0 && ret != STORE_NOTFOUND)
		return ret;
	next = (tat > r->now ? tat : r->now) + r->interval;
	if (next - r->now > r->window && r->mode != 2) {
		r->limited = 1;
		r->wait = next - r->window - r->now;
		return 0;
	}
	if (r->mode == 0)
		return 0;
	acme_be64_put(buf, (uint64_t)next);
	return store_put(txn, STORE_T_LIMITS, r->key, r->keylen, buf,
	    sizeof(buf), 0);
}

/* The store's key of key for kind: "kind/key", or "kind/#" and the hex of
 * its SHA-256 when that would be too long. */
static void
limit_store_key(enum acme_limit_kind kind, const char *key,
    struct limit_rmw *r)
{
	uint8_t d[32];
	int n;
	size_t i;

	n = snprintf(r->key, sizeof(r->key), "%s/%s", limit_kind_names[kind],
	    key);
	if (n > 0 && (size_t)n < sizeof(r->key)) {
		r->keylen = (size_t)n;
		return;
	}
	crypto_sha256(key, strlen(key), d);
	n = snprintf(r->key, sizeof(r->key), "%s/#", limit_kind_names[kind]);
	for (i = 0; i < sizeof(d); i++)
		n += snprintf(r->key + n, sizeof(r->key) - (size_t)n, "%02x", d[i]);
	r->keylen = (size_t)n;
}

/* limit_apply on the shared store. A store that fails lets the event pass:
 * the request then meets the same failure and is answered 503. */
static int
limit_store(struct acme_limiter *l, enum acme_limit_kind kind,
    const char *key, int64_t now, int mode, long *retry)
{
	struct acme_limit_table *t = &l->t[kind];
	struct limit_rmw r;

	pthread_mutex_lock(&t->lock);
	r.interval = t->interval;
	r.window = t->window;
	pthread_mutex_unlock(&t->lock);
	if (r.interval == 0)
		return 0;
	limit_store_key(kind, key, &r);
	r.now = now;
	r.mode = mode;
	if (store_write(l->store, limit_rmw_txn, &r) != 0 || !r.limited)
		return 0;
	*retry = ms_to_retry(r.wait);
	return 1;
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
	if ((unsigned)kind >= ACME_LIMIT_KINDS || key == NULL)
		return 0;
	if (l->store != NULL && kind != ACME_LIMIT_NONCES)
		return limit_store(l, kind, key, ms, mode, retry);
	if (limit_hash(l, key, h, &set) != 0)
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

struct limit_expired {
	int64_t now;
	char keys[ACME_LIMIT_EXPIRE_BATCH][STORE_MAX_KEY + 1];
	size_t lens[ACME_LIMIT_EXPIRE_BATCH];
	size_t n, seen;
	char last[STORE_MAX_KEY + 1];
	size_t last_len;
};

/* Collects entries at rest (their tat passed), from the cursor on. */
static int
limit_expired_cb(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg)
{
	struct limit_expired *e = arg;

	memcpy(e->last, key, keylen);
	e->last_len = keylen;
	if (vallen != 8 || (int64_t)acme_be64_get(val) <= e->now) {
		memcpy(e->keys[e->n], key, keylen);
		e->lens[e->n++] = keylen;
	}
	return ++e->seen < ACME_LIMIT_EXPIRE_SCAN &&
	    e->n < ACME_LIMIT_EXPIRE_BATCH ? 0 : 1;
}

/* Removes what is still at rest: a replica may have counted since. */
static int
limit_expired_txn(struct store_txn *txn, void *arg)
{
	struct limit_expired *e = arg;
	const void *v;
	size_t vl, i;
	int ret;

	for (i = 0; i < e->n; i++) {
		ret = store_get(txn, STORE_T_LIMITS, e->keys[i], e->lens[i], &v, &vl);
		if (ret == STORE_NOTFOUND)
			continue;
		if (ret != 0)
			return ret;
		if (vl == 8 && (int64_t)acme_be64_get(v) > e->now)
			continue;
		if ((ret = store_del(txn, STORE_T_LIMITS, e->keys[i],
		    e->lens[i])) != 0)
			return ret;
	}
	return 0;
}

int
acme_limits_expire(struct acme_limiter *l, time_t now)
{
	struct limit_expired *e;
	struct store_txn *txn;
	int ret;

	if (l->store == NULL)
		return 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return STORE_ERR_NOMEM;
	e->now = (int64_t)now * 1000;
	if ((ret = store_read_begin(l->store, &txn)) == 0) {
		ret = store_scan(txn, STORE_T_LIMITS, NULL, 0, l->after,
		    l->after_len, limit_expired_cb, e);
		store_read_end(txn);
	}
	if (ret == 0 && e->n > 0)
		ret = store_write(l->store, limit_expired_txn, e);
	if (ret == 0) {
		/* a scan that ended before its caps reached the end: wrap */
		l->after_len = e->seen < ACME_LIMIT_EXPIRE_SCAN &&
		    e->n < ACME_LIMIT_EXPIRE_BATCH ? 0 : e->last_len;
		memcpy(l->after, e->last, e->last_len);
		ret = (int)e->n;
	}
	free(e);
	return ret;
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
