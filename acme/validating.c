/*
 * validating.c: validations claimed in memory. When this process alone
 * serves the store and server/ holds answers until their validation ends
 * (acme_config.hold_answers), a challenge a client answers is not written
 * "processing" at once: the claim is an entry here, by authorization (one
 * validation of an authorization at a time), and its result is the only
 * write. Records read from the store are shown with the claim applied
 * (acme_chall_view, acme_authz_view), so every reader sees the challenge
 * processing with its due time.
 *
 * An answer that shows a claim carries acme_wait.unsettled; before it goes
 * out ahead of the result (a hold that ends at --hold-max, or an answer
 * that could not be held), acme_settle() writes the claim as the durable
 * "processing" state with its lease and the account URL, exactly what the
 * claim would have written, and drops the entry: a client never learns of a validation the
 * store does not know of, and a restart resumes it as before. A claim no
 * client was told of is lost with the process, and the challenge then
 * reads pending again.
 *
 * The table: open addressing with linear probing and deletion by backward
 * shift, twice as many slots as validations can be queued, under one lock;
 * a count read without the lock lets readers skip it when it is empty.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

/* Ids end in 16 hex digits of randomness (acme_id_new): their last eight
 * spread well enough. */
static size_t
claim_home(const char *authz)
{
	size_t len = strlen(authz), h = 0, i;

	for (i = len > 8 ? len - 8 : 0; i < len; i++)
		h = h * 31 + (unsigned char)authz[i];
	return h % ACME_CLAIMS;
}

/* The slot of authz, or the free slot where it would go. Holds claims_lock. */
static size_t
claim_slot(const struct acme *a, const char *authz)
{
	size_t i = claim_home(authz);

	while (a->claims[i].authz[0] != '\0' && strcmp(a->claims[i].authz, authz) != 0)
		i = (i + 1) % ACME_CLAIMS;
	return i;
}

static void
claim_remove(struct acme *a, size_t i)
{
	size_t j = i, home;

	a->claims[i].authz[0] = '\0';
	for (;;) {
		j = (j + 1) % ACME_CLAIMS;
		if (a->claims[j].authz[0] == '\0')
			return;
		home = claim_home(a->claims[j].authz);
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			a->claims[i] = a->claims[j];
			a->claims[j].authz[0] = '\0';
			a->claims[j].account_uri = NULL;   /* moved to i */
			i = j;
		}
	}
}

/* Ends the claim in slot i. Holds claims_lock. */
static void
claim_end(struct acme *a, size_t i)
{
	free(a->claims[i].account_uri);
	a->claims[i].account_uri = NULL;
	claim_remove(a, i);
	atomic_fetch_sub(&a->n_claims, 1);
}

int
acme_claims_init(struct acme *a)
{
	pthread_mutex_init(&a->claims_lock, NULL);
	a->claims = calloc(ACME_CLAIMS, sizeof(*a->claims));
	return a->claims != NULL ? ACME_OK : ACME_ERR_NOMEM;
}

void
acme_claims_fini(struct acme *a)
{
	size_t i;

	for (i = 0; a->claims != NULL && i < ACME_CLAIMS; i++)
		if (a->claims[i].authz[0] != '\0')
			free(a->claims[i].account_uri);
	pthread_mutex_destroy(&a->claims_lock);
	free(a->claims);
	a->claims = NULL;
}

int
acme_claim_local(const struct acme *a)
{
	return !a->shared && a->cfg.hold_answers;
}

int
acme_claim_take(struct acme *a, const char *authz, const char *chall, time_t due,
    const char *account_uri)
{
	char *uri;
	size_t i;
	int ret = 0;

	if (strlen(authz) != ACME_ID_LEN || strlen(chall) != ACME_ID_LEN)
		return 0;
	if ((uri = strdup(account_uri != NULL ? account_uri : "")) == NULL)
		return -1;
	pthread_mutex_lock(&a->claims_lock);
	i = claim_slot(a, authz);
	/* about one claim per queued job: the table stays half empty */
	if (a->claims[i].authz[0] == '\0' && a->n_claims >= ACME_QUEUE_MAX)
		ret = -1;
	else if (a->claims[i].authz[0] == '\0') {
		memcpy(a->claims[i].authz, authz, ACME_ID_LEN + 1);
		memcpy(a->claims[i].chall, chall, ACME_ID_LEN + 1);
		a->claims[i].due = due;
		a->claims[i].account_uri = uri;
		uri = NULL;
		atomic_fetch_add(&a->n_claims, 1);
		ret = 1;
	}
	pthread_mutex_unlock(&a->claims_lock);
	free(uri);
	return ret;
}

/* acme_claim_get(), and the account URL into uri (uri_len bytes) when
 * uri is not NULL. */
static int
claim_get(struct acme *a, const char *authz, char chall[ACME_ID_LEN + 1],
    time_t *due, char *uri, size_t uri_len)
{
	size_t i;
	int ret = 0;

	if (a == NULL || atomic_load(&a->n_claims) == 0 || authz == NULL)
		return 0;
	pthread_mutex_lock(&a->claims_lock);
	i = claim_slot(a, authz);
	if (a->claims[i].authz[0] != '\0') {
		if (chall != NULL)
			memcpy(chall, a->claims[i].chall, ACME_ID_LEN + 1);
		if (due != NULL)
			*due = a->claims[i].due;
		if (uri != NULL)
			snprintf(uri, uri_len, "%s", a->claims[i].account_uri);
		ret = 1;
	}
	pthread_mutex_unlock(&a->claims_lock);
	return ret;
}

int
acme_claim_get(struct acme *a, const char *authz, char chall[ACME_ID_LEN + 1],
    time_t *due)
{
	return claim_get(a, authz, chall, due, NULL, 0);
}

/* Sets the due time of chall's claim on authz, or drops it: 1, or 0 when
 * there is no such claim. */
static int
claim_update(struct acme *a, const char *authz, const char *chall,
    time_t due, int drop)
{
	size_t i;
	int ret = 0;

	if (atomic_load(&a->n_claims) == 0 || authz == NULL || chall == NULL)
		return 0;
	pthread_mutex_lock(&a->claims_lock);
	i = claim_slot(a, authz);
	if (a->claims[i].authz[0] != '\0' && strcmp(a->claims[i].chall, chall) == 0) {
		if (drop)
			claim_end(a, i);
		else
			a->claims[i].due = due;
		ret = 1;
	}
	pthread_mutex_unlock(&a->claims_lock);
	return ret;
}

int
acme_claim_due(struct acme *a, const char *authz, const char *chall, time_t due)
{
	return claim_update(a, authz, chall, due, 0);
}

int
acme_claim_drop(struct acme *a, const char *authz, const char *chall)
{
	return claim_update(a, authz, chall, 0, 1);
}

/* Record o (as read, not to be written) says it is due at due. */
static void
view_due(cJSON *o, time_t due)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, "due");
	(void)cJSON_AddNumberToObject(o, "due", (double)due);
}

int
acme_chall_view(struct acme *a, const char *id, cJSON *c)
{
	char chall[ACME_ID_LEN + 1];
	const char *st = acme_json_str(c, "status");
	time_t due;

	if (a == NULL || st == NULL || strcmp(st, "pending") != 0 ||
	    !acme_claim_get(a, acme_json_str(c, "authz"), chall, &due) ||
	    strcmp(chall, id) != 0)
		return 0;
	cJSON_ReplaceItemInObjectCaseSensitive(c, "status",
	    cJSON_CreateString("processing"));
	view_due(c, due);
	return 1;
}

int
acme_authz_view(struct acme *a, const char *azid, cJSON *az)
{
	const char *st = acme_json_str(az, "status");
	time_t due;

	if (a == NULL || st == NULL || strcmp(st, "pending") != 0 ||
	    !acme_claim_get(a, azid, NULL, &due))
		return 0;
	view_due(az, due);
	return 1;
}

/* ---- settling: the claim becomes the durable processing state ---- */

struct settle {
	struct acme *a;
	const char *chall;
	time_t now;
	char authz[ACME_ID_LEN + 1];  /* out: the claim's authorization */
	int written;                  /* out: processing was written */
	char account_uri[ACME_MAX_URL];
};

static int
settle_txn(struct store_txn *txn, void *arg)
{
	struct settle *s = arg;
	char chall[ACME_ID_LEN + 1];
	cJSON *c = NULL, *az = NULL;
	time_t due;
	int ret;

	s->authz[0] = '\0';
	s->written = 0;
	if ((ret = acme_record_load(txn, STORE_T_CHALLENGES, s->chall, &c)) != 0 ||
	    (ret = acme_record_load(txn, STORE_T_AUTHZS, acme_json_str(c, "authz"),
	    &az)) != 0) {
		ret = ret == STORE_NOTFOUND ? 1 : ret;  /* gone: nothing to keep */
		goto out;
	}
	ret = 1;
	snprintf(s->authz, sizeof(s->authz), "%s", acme_json_str(c, "authz"));
	if (strcmp(acme_json_str(c, "status"), "pending") != 0 ||
	    !claim_get(s->a, s->authz, chall, &due, s->account_uri,
	    sizeof(s->account_uri)) || strcmp(chall, s->chall) != 0)
		goto out;               /* decided, or not claimed here */
	/* what chall_respond_txn (authz.c) writes */
	cJSON_ReplaceItemInObjectCaseSensitive(c, "status",
	    cJSON_CreateString("processing"));
	cJSON_DeleteItemFromObjectCaseSensitive(c, "accountUri");
	cJSON_AddStringToObject(c, "accountUri", s->account_uri);
	if ((ret = acme_chall_due_set(txn, s->chall, c, az, due)) == 0 &&
	    (ret = acme_lease_put(txn, s->chall, s->a->replica,
	    s->now + ACME_VALIDATION_LEASE)) == 0)
		s->written = 1;
out:
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

int
acme_claim_settle(struct acme *a, const char *chall, time_t now)
{
	struct settle *s;
	int ret = ACME_OK;

	if (atomic_load(&a->n_claims) == 0)
		return ACME_OK;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ACME_ERR_INTERNAL;
	s->a = a;
	s->chall = chall;
	s->now = now;
	if (store_write(a->store, settle_txn, s) < 0)
		ret = ACME_ERR_INTERNAL;
	/* Durable now: the store speaks for it from here on, and the result's
	 * write finds it processing under this replica's lease. Nothing
	 * written (decided, or no claim of chall): the claim, if any, is not
	 * this settle's to end. */
	else if (s->written)
		(void)acme_claim_drop(a, s->authz, chall);
	free(s);
	return ret;
}

int
acme_settle_all(struct acme *a, time_t now)
{
	char (*ids)[ACME_ID_LEN + 1];
	size_t i, n = 0;
	int ret = ACME_OK;

	if (a == NULL || atomic_load(&a->n_claims) == 0)
		return ACME_OK;
	if ((ids = calloc(ACME_QUEUE_MAX, sizeof(*ids))) == NULL)
		return ACME_ERR_NOMEM;
	pthread_mutex_lock(&a->claims_lock);
	for (i = 0; i < ACME_CLAIMS && n < ACME_QUEUE_MAX; i++)
		if (a->claims[i].authz[0] != '\0')
			memcpy(ids[n++], a->claims[i].chall, ACME_ID_LEN + 1);
	pthread_mutex_unlock(&a->claims_lock);
	for (i = 0; i < n; i++)
		if (acme_claim_settle(a, ids[i], now) != ACME_OK)
			ret = ACME_ERR_INTERNAL;
	free(ids);
	return ret;
}
