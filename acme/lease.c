/*
 * lease.c: the validations index, which lets replicas sharing a store run
 * each validation exactly once and take over those of a replica that died.
 * The index (STORE_T_VALIDATIONS) holds one entry per challenge in
 * "processing": the replica running it and until when its lease holds.
 *
 *  - The write that moves a challenge to processing also writes its entry,
 *    leased to the replica that received the request (authz.c).
 *  - A retry renews the lease; the write that stores the result removes the
 *    entry, and stores nothing when another replica holds the lease
 *    (validation.c), so each result is stored once.
 *  - acme_validations_sweep() (server/, every few seconds and at start)
 *    claims, in one store write per entry, entries whose lease expired or
 *    that no replica holds, and queues their jobs here. Serialisable writes
 *    make each claim exclusive: of two replicas racing, one wins.
 *
 * Start-up reads this index instead of every challenge, so it takes time
 * in proportion to the validations under way, not to the store. A store
 * written before the index existed gets it filled once, at acme_new().
 * Time is passed in; nothing here reads a clock.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

#define LEASE_LEN 16               /* owner (8) || expires (8) */
#define LEASE_SWEEP_BATCH 64       /* entries one sweep pass looks at */
#define LEASE_INDEXED_META "validations_indexed"

int
acme_lease_put(struct store_txn *txn, const char *chall_id, uint64_t owner,
    time_t expires)
{
	uint8_t v[LEASE_LEN];

	acme_be64_put(v, owner);
	acme_be64_put(v + 8, (uint64_t)(int64_t)expires);
	return store_put(txn, STORE_T_VALIDATIONS, chall_id, strlen(chall_id), v,
	    sizeof(v), 0);
}

/* Reads the lease of chall_id: 0, STORE_NOTFOUND, or another STORE_* code. */
static int
lease_get(struct store_txn *txn, const char *chall_id, uint64_t *owner,
    time_t *expires)
{
	const void *v;
	size_t vl;
	int ret;

	if ((ret = store_get(txn, STORE_T_VALIDATIONS, chall_id,
	    strlen(chall_id), &v, &vl)) != 0)
		return ret;
	if (vl != LEASE_LEN) {
		*owner = 0;         /* unreadable: nobody's */
		*expires = 0;
		return 0;
	}
	*owner = acme_be64_get(v);
	*expires = (time_t)(int64_t)acme_be64_get((const uint8_t *)v + 8);
	return 0;
}

int
acme_lease_held(struct store_txn *txn, const char *chall_id, uint64_t owner)
{
	uint64_t o;
	time_t exp;
	int ret;

	ret = lease_get(txn, chall_id, &o, &exp);
	if (ret == STORE_NOTFOUND)
		return 1;           /* not indexed: whoever runs it may decide */
	if (ret != 0)
		return ret;
	return o == owner;
}

int
acme_lease_renew(struct store_txn *txn, const char *chall_id, uint64_t owner,
    time_t expires)
{
	int ret = acme_lease_held(txn, chall_id, owner);

	if (ret <= 0)
		return ret < 0 ? ret : 0;
	return acme_lease_put(txn, chall_id, owner, expires);
}

/* ---- filling the index once ---- */

struct backfill {
	struct store_txn *txn;
	int ret;
};

static int
backfill_cb(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct backfill *b = arg;
	char id[ACME_ID_LEN + 1];
	cJSON *c;
	const char *st;

	if (keylen != ACME_ID_LEN ||
	    (c = cJSON_ParseWithLength(val, vallen)) == NULL)
		return 0;
	memcpy(id, key, ACME_ID_LEN);
	id[ACME_ID_LEN] = '\0';
	st = acme_json_str(c, "status");
	if (st != NULL && strcmp(st, "processing") == 0)
		b->ret = acme_lease_put(b->txn, id, 0, 0);
	cJSON_Delete(c);
	return b->ret != 0 ? b->ret : 0;
}

static int
backfill_txn(struct store_txn *txn, void *arg)
{
	struct backfill b = { txn, 0 };
	const void *v;
	size_t vl;
	int ret;

	(void)arg;
	ret = store_get(txn, STORE_T_META, LEASE_INDEXED_META,
	    strlen(LEASE_INDEXED_META), &v, &vl);
	if (ret != STORE_NOTFOUND)
		return ret;         /* done before (0), or a failure */
	if ((ret = store_scan(txn, STORE_T_CHALLENGES, NULL, 0, NULL, 0,
	    backfill_cb, &b)) != 0)
		return ret;
	return store_put(txn, STORE_T_META, LEASE_INDEXED_META,
	    strlen(LEASE_INDEXED_META), "1", 1, STORE_PUT_NEW);
}

int
acme_validations_index(struct store *st)
{
	struct store_txn *txn;
	const void *v;
	size_t vl;
	int ret;

	if ((ret = store_read_begin(st, &txn)) != 0)
		return ret;
	ret = store_get(txn, STORE_T_META, LEASE_INDEXED_META,
	    strlen(LEASE_INDEXED_META), &v, &vl);
	store_read_end(txn);
	if (ret != STORE_NOTFOUND)
		return ret;
	return store_write(st, backfill_txn, NULL);
}

/* ---- claiming ---- */

/* How far a sweep may reach, besides leases nobody holds or that lapsed. */
enum reach {
	REACH_LAPSED,               /* only those */
	REACH_OWN,                  /* first sweep: also self's (an earlier run) */
	REACH_ALL,                  /* first sweep alone on the store: any */
};

struct lease_scan {
	uint64_t self;
	time_t now;
	enum reach reach;
	char ids[LEASE_SWEEP_BATCH][ACME_ID_LEN + 1];
	size_t n;
	char last[ACME_ID_LEN + 1];
};


/* Nonzero when self may take a lease held by owner until expires. Outside
 * a first sweep, a live lease of self's is a job on its queue already. */
static int
claimable(uint64_t owner, time_t expires, time_t now, enum reach reach,
    uint64_t self)
{
	if (reach == REACH_ALL || owner == 0 || expires <= now)
		return 1;
	return reach == REACH_OWN && owner == self;
}

static int
lease_scan_cb(const void *key, size_t keylen, const void *val, size_t vallen,
    void *arg)
{
	struct lease_scan *s = arg;
	uint64_t owner = 0;
	time_t expires = 0;

	if (keylen != ACME_ID_LEN)
		return 0;
	memcpy(s->last, key, ACME_ID_LEN);
	if (vallen == LEASE_LEN) {
		owner = acme_be64_get(val);
		expires = (time_t)(int64_t)acme_be64_get((const uint8_t *)val + 8);
	}
	if (claimable(owner, expires, s->now, s->reach, s->self)) {
		memcpy(s->ids[s->n], key, ACME_ID_LEN);
		s->ids[s->n++][ACME_ID_LEN] = '\0';
	}
	return s->n < LEASE_SWEEP_BATCH ? 0 : 1;
}

struct claim {
	struct acme *a;
	const char *id;
	time_t now;
	enum reach reach;
	int won;                    /* out: the job is ours to run */
	struct acme_validation job; /* out, when won */
};

/* Loads the challenge, its authorization and account; 1 when it still
 * waits for a result, 0 when not (its entry goes), or a STORE_* code. */
static int
claim_load(struct store_txn *txn, const char *id, cJSON **c, cJSON **az,
    cJSON **acct)
{
	int ret;

	if ((ret = acme_record_load(txn, STORE_T_CHALLENGES, id, c)) != 0 ||
	    (ret = acme_record_load(txn, STORE_T_AUTHZS,
	    acme_json_str(*c, "authz"), az)) != 0 ||
	    (ret = acme_record_load(txn, STORE_T_ACCOUNTS,
	    acme_json_str(*az, "account"), acct)) != 0)
		return ret == STORE_NOTFOUND || ret == STORE_ERR_CORRUPT ? 0 : ret;
	return acme_json_str(*c, "status") != NULL &&
	    strcmp(acme_json_str(*c, "status"), "processing") == 0;
}

static int
claim_txn(struct store_txn *txn, void *arg)
{
	struct claim *cl = arg;
	cJSON *c = NULL, *az = NULL, *acct = NULL;
	uint64_t owner;
	time_t expires;
	int ret;

	cl->won = 0;
	if ((ret = lease_get(txn, cl->id, &owner, &expires)) != 0 ||
	    !claimable(owner, expires, cl->now, cl->reach, cl->a->replica))
		return ret == STORE_NOTFOUND ? 0 : ret;   /* another won */
	if ((ret = claim_load(txn, cl->id, &c, &az, &acct)) <= 0) {
		if (ret == 0)       /* decided or gone: not a validation */
			ret = store_del(txn, STORE_T_VALIDATIONS, cl->id,
			    strlen(cl->id));
		goto out;
	}
	if ((ret = acme_lease_put(txn, cl->id, cl->a->replica,
	    cl->now + ACME_VALIDATION_LEASE)) != 0 ||
	    (ret = acme_chall_due_set(txn, cl->id, c, az, cl->now +
	    acme_validation_estimate(cl->a))) != 0)
		goto out;
	acme_job_fill(cl->a, &cl->job, cl->id, c, az,
	    acme_json_str(acct, "thumbprint"));
	cl->job.started = cl->now;
	cl->won = 1;
out:
	cJSON_Delete(c);
	cJSON_Delete(az);
	cJSON_Delete(acct);
	return ret;
}

/* Looks at one batch from after; how many jobs were queued, or a STORE_*
 * code. *more: the batch was full. */
static int
sweep_batch(struct acme *a, time_t now, enum reach reach,
    char after[ACME_ID_LEN + 1], int *more)
{
	struct lease_scan *s;
	struct store_txn *txn;
	struct claim cl;
	size_t i;
	int ret, queued = 0;

	*more = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return STORE_ERR_NOMEM;
	s->self = a->replica;
	s->now = now;
	s->reach = reach;
	if ((ret = store_read_begin(a->store, &txn)) == 0) {
		ret = store_scan(txn, STORE_T_VALIDATIONS, NULL, 0, after,
		    strlen(after), lease_scan_cb, s);
		store_read_end(txn);
	}
	for (i = 0; ret == 0 && i < s->n; i++) {
		if (!acme_queue_room(a))
			break;      /* the rest when there is room */
		memset(&cl, 0, sizeof(cl));
		cl.a = a;
		cl.id = s->ids[i];
		cl.now = now;
		cl.reach = reach;
		if ((ret = store_write(a->store, claim_txn, &cl)) == 0 && cl.won &&
		    acme_queue_adopt(a, &cl.job) == 0)
			queued++;
	}
	*more = ret == 0 && i == LEASE_SWEEP_BATCH;
	memcpy(after, s->last, sizeof(s->last));
	free(s);
	return ret != 0 ? ret : queued;
}

int
acme_validations_sweep(struct acme *a, time_t now)
{
	char after[ACME_ID_LEN + 1] = "";
	enum reach reach = REACH_LAPSED;
	int more = 1, n, queued = 0;

	if (a == NULL || a->store == NULL)
		return 0;
	/* A first sweep runs before any request: a lease of self's is what an
	 * earlier run left; alone on its store, so is every lease. */
	if (!atomic_exchange(&a->swept, 1))
		reach = a->shared ? REACH_OWN : REACH_ALL;
	while (more) {
		if ((n = sweep_batch(a, now, reach, after, &more)) < 0)
			return n;
		queued += n;
	}
	return queued;
}
