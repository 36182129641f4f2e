/*
 * validation.c: the acme/ half of challenge validation (RFC 8555 §8, RFC
 * 8737, RFC 8738, RFC 8659/8657). acme/ decides what server/ must look at
 * (a job on the queue), and judges what server/ brought back: the http-01
 * body, the dns-01 TXT records, the tls-alpn-01 certificate and the CAA
 * record set. Transient I/O failures are retried a bounded number of times
 * before the challenge is declared invalid with the precise reason.
 */
#include "acme_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "store.h"

#define VALIDATION_ATTEMPTS 3   /* tries before a transient failure is final */
#define VALIDATION_SAMPLE_MAX 600 /* seconds: longer tries count as this */

/* ---- jobs and the queue ---- */

void
acme_job_fill(struct acme *a, struct acme_validation *job, const char *chall_id,
    const cJSON *c, const cJSON *az, const char *thumbprint)
{
	const cJSON *ident = cJSON_GetObjectItemCaseSensitive(az, "identifier");
	const char *uri = acme_json_str(c, "accountUri");

	memset(job, 0, sizeof(*job));
	snprintf(job->challenge_id, sizeof(job->challenge_id), "%s", chall_id);
	snprintf(job->authz_id, sizeof(job->authz_id), "%s",
	    acme_json_str(c, "authz") != NULL ? acme_json_str(c, "authz") : "");
	(void)acme_chall_type_parse(acme_json_str(c, "type"), &job->type);
	job->ident_is_ip = strcmp(acme_json_str(ident, "type"), "ip") == 0;
	snprintf(job->identifier, sizeof(job->identifier), "%s",
	    acme_json_str(ident, "value"));
	snprintf(job->token, sizeof(job->token), "%s", acme_json_str(c, "token"));
	snprintf(job->key_authorization, sizeof(job->key_authorization), "%s.%s",
	    job->token, thumbprint);
	job->wildcard = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(az, "wildcard"));
	job->check_caa = a->cfg.caa_check && !job->ident_is_ip;
	snprintf(job->account_uri, sizeof(job->account_uri), "%s",
	    uri != NULL ? uri : "");
	snprintf(job->account_id, sizeof(job->account_id), "%s",
	    acme_json_str(az, "account") != NULL ? acme_json_str(az, "account") : "");
}

/*
 * Every job is counted from its reservation until acme/ has judged it:
 * queued + running + reserved <= ACME_QUEUE_MAX, so the ring always has a
 * place for a retry (a running job going back) and nothing is dropped.
 * owners counts the same per account (open addressing, linear probing,
 * deletion by backward shift), for the account's share of the queue.
 */

static size_t
owner_hash(const char *account)
{
	size_t h = 5381;

	while (*account != '\0')
		h = h * 33 + (unsigned char)*account++;
	return h % ACME_QUEUE_OWNERS;
}

/* The slot of account, or the free slot where it would go. Called locked;
 * the table never fills: it has twice as many slots as jobs. */
static size_t
owner_slot(struct acme *a, const char *account)
{
	size_t i = owner_hash(account);

	while (a->owners[i].n != 0 && strcmp(a->owners[i].account, account) != 0)
		i = (i + 1) % ACME_QUEUE_OWNERS;
	return i;
}

/* Removes slot i and moves up the entries its removal would hide. */
static void
owner_remove(struct acme *a, size_t i)
{
	size_t j = i, home;

	a->owners[i].n = 0;
	for (;;) {
		j = (j + 1) % ACME_QUEUE_OWNERS;
		if (a->owners[j].n == 0)
			return;
		home = owner_hash(a->owners[j].account);
		/* j's entry may fill the hole at i when its home is not in (i, j] */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			a->owners[i] = a->owners[j];
			a->owners[j].n = 0;
			i = j;
		}
	}
}

static void
owner_add(struct acme *a, const char *account)
{
	size_t i = owner_slot(a, account);

	if (a->owners[i].n == 0)
		snprintf(a->owners[i].account, sizeof(a->owners[i].account), "%s",
		    account);
	a->owners[i].n++;
}

static void
owner_drop(struct acme *a, const char *account)
{
	size_t i = owner_slot(a, account);

	if (a->owners[i].n > 1)
		a->owners[i].n--;
	else if (a->owners[i].n == 1)
		owner_remove(a, i);
}

int
acme_queue_reserve(struct acme *a, const char *account)
{
	unsigned share = acme_settings(a)->limits.queue_share;
	int ret = 0;

	pthread_mutex_lock(&a->queue_lock);
	if (a->queue_len + a->queue_running + a->queue_reserved >= ACME_QUEUE_MAX)
		ret = ACME_QUEUE_FULL;
	else if (share != 0 && a->owners[owner_slot(a, account)].n >= share)
		ret = ACME_QUEUE_SHARE;
	if (ret == 0) {
		a->queue_reserved++;
		owner_add(a, account);
	}
	pthread_mutex_unlock(&a->queue_lock);
	return ret;
}

void
acme_queue_release(struct acme *a, const char *account)
{
	pthread_mutex_lock(&a->queue_lock);
	if (a->queue_reserved > 0)
		a->queue_reserved--;
	owner_drop(a, account);
	pthread_mutex_unlock(&a->queue_lock);
}

/* Puts job on the ring; called locked. 0, or -1 when the ring is full. */
static int
ring_put(struct acme *a, const struct acme_validation *job)
{
	if (a->queue_len >= ACME_QUEUE_MAX)
		return -1;
	a->queue[(a->queue_head + a->queue_len) % ACME_QUEUE_MAX] = *job;
	a->queue_len++;
	return 0;
}

void
acme_queue_push(struct acme *a, const struct acme_validation *job)
{
	pthread_mutex_lock(&a->queue_lock);
	if (a->queue_reserved > 0)
		a->queue_reserved--;
	(void)ring_put(a, job);   /* the reservation kept its place free */
	pthread_mutex_unlock(&a->queue_lock);
}

/* A running job goes back on the ring for another try. 0, or -1 when it
 * cannot (only if the counts were wrong): then it is judged as it stands. */
static int
queue_retry(struct acme *a, const struct acme_validation *job)
{
	int ret;

	pthread_mutex_lock(&a->queue_lock);
	if ((ret = ring_put(a, job)) == 0 && a->queue_running > 0)
		a->queue_running--;
	pthread_mutex_unlock(&a->queue_lock);
	return ret;
}

/* A running job was judged: its place is free. */
static void
queue_finished(struct acme *a, const struct acme_validation *job)
{
	pthread_mutex_lock(&a->queue_lock);
	if (a->queue_running > 0)
		a->queue_running--;
	owner_drop(a, job->account_id);
	pthread_mutex_unlock(&a->queue_lock);
}

int
acme_validation_next(struct acme *a, struct acme_validation *job)
{
	int got = 0;

	pthread_mutex_lock(&a->queue_lock);
	if (a->queue_len > 0) {
		*job = a->queue[a->queue_head];
		a->queue_head = (a->queue_head + 1) % ACME_QUEUE_MAX;
		a->queue_len--;
		a->queue_running++;
		got = 1;
	}
	pthread_mutex_unlock(&a->queue_lock);
	return got;
}

int
acme_queue_room(struct acme *a)
{
	int room;

	pthread_mutex_lock(&a->queue_lock);
	room = a->queue_len + a->queue_running + a->queue_reserved <
	    ACME_QUEUE_MAX;
	pthread_mutex_unlock(&a->queue_lock);
	return room;
}

int
acme_queue_adopt(struct acme *a, const struct acme_validation *job)
{
	int ret;

	pthread_mutex_lock(&a->queue_lock);
	if ((ret = a->queue_len + a->queue_running + a->queue_reserved <
	    ACME_QUEUE_MAX ? ring_put(a, job) : -1) == 0)
		owner_add(a, job->account_id);
	pthread_mutex_unlock(&a->queue_lock);
	return ret;
}

/* ---- how long a validation takes ---- */

long
acme_validation_estimate(struct acme *a)
{
	long est;

	pthread_mutex_lock(&a->queue_lock);
	est = (long)((a->validation_est8 + 7) / 8);
	pthread_mutex_unlock(&a->queue_lock);
	return est < 1 ? 1 : est;
}

long
acme_retry_after(time_t due, time_t now)
{
	return due > now ? (long)(due - now) : 1;
}

/* Adds one try's duration to the moving average (weight 1/4). */
static void
estimate_add(struct acme *a, const struct acme_validation *job, time_t now)
{
	unsigned s;

	if (job->started == 0 || now < job->started)
		return;
	s = now - job->started > VALIDATION_SAMPLE_MAX ? VALIDATION_SAMPLE_MAX :
	    (unsigned)(now - job->started);
	pthread_mutex_lock(&a->queue_lock);
	a->validation_est8 = a->validation_est8 - a->validation_est8 / 4 + 2 * s;
	pthread_mutex_unlock(&a->queue_lock);
}

/* Sets "due" (when the result is expected) on a processing challenge and
 * its authorization, or, with due 0, removes it. Called in a write. */
int
acme_chall_due_set(struct store_txn *txn, const char *chall_id, cJSON *c,
    cJSON *az, time_t due)
{
	const char *azid = acme_json_str(c, "authz");
	int ret;

	cJSON_DeleteItemFromObjectCaseSensitive(c, "due");
	cJSON_DeleteItemFromObjectCaseSensitive(az, "due");
	if (due != 0 && (cJSON_AddNumberToObject(c, "due", (double)due) == NULL ||
	    cJSON_AddNumberToObject(az, "due", (double)due) == NULL))
		return STORE_ERR_NOMEM;
	if (txn == NULL)
		return 0;
	if ((ret = acme_record_put(txn, STORE_T_CHALLENGES, chall_id, c)) != 0)
		return ret;
	return azid != NULL ? acme_record_put(txn, STORE_T_AUTHZS, azid, az) :
	    STORE_ERR_CORRUPT;
}

struct retry_due {
	const struct acme_validation *job;
	uint64_t replica;
	time_t due;
};

/* A retry is queued: its result is expected after its delay. */
static int
retry_due_txn(struct store_txn *txn, void *arg)
{
	struct retry_due *r = arg;
	cJSON *c = NULL, *az = NULL;
	int ret = 1;

	if (acme_record_load(txn, STORE_T_CHALLENGES, r->job->challenge_id, &c) == 0 &&
	    acme_json_str(c, "status") != NULL &&
	    strcmp(acme_json_str(c, "status"), "processing") == 0 &&
	    acme_record_load(txn, STORE_T_AUTHZS, acme_json_str(c, "authz"), &az) == 0 &&
	    (ret = acme_lease_renew(txn, r->job->challenge_id, r->replica,
	    r->job->started + ACME_VALIDATION_LEASE)) == 0)
		ret = acme_chall_due_set(txn, r->job->challenge_id, c, az, r->due);
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

/* ---- judging ---- */

struct judged {
	struct acme *a;
	const struct acme_validation *job;
	uint64_t replica;           /* who judged: stores only under its lease */
	time_t now;
	int failed;                 /* out: the write recorded a failure */
	int valid;
	enum acme_problem problem;
	char detail[768];
};

static void judge_fail(struct judged *j, enum acme_problem p,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
judge_fail(struct judged *j, enum acme_problem p, const char *fmt, ...)
{
	va_list ap;

	j->valid = 0;
	j->problem = p;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
}

/* RFC 8555 §8.3: the body is the key authorization; trailing whitespace
 * is ignored. */
static void
judge_http01(struct judged *j, const struct acme_validation_result *r)
{
	size_t n = r->body_len, want = strlen(j->job->key_authorization);
	char status[16];

	while (n > 0 && (r->body[n - 1] == ' ' || r->body[n - 1] == '\t' ||
	    r->body[n - 1] == '\r' || r->body[n - 1] == '\n'))
		n--;
	if (r->http_status != 200) {
		snprintf(status, sizeof(status), "%d", r->http_status);
		judge_fail(j, ACME_P_UNAUTHORIZED, "http-01: %s answered HTTP %s for "
		    "the challenge file", j->job->identifier, status);
		return;
	}
	if (n != want || memcmp(r->body, j->job->key_authorization, n) != 0) {
		judge_fail(j, ACME_P_INCORRECT_RESPONSE, "http-01: the challenge file "
		    "served by %s does not hold the key authorization",
		    j->job->identifier);
		return;
	}
	j->valid = 1;
}

/* The dns-01 and tls-alpn-01 digest: SHA-256 of the key authorization. */
static void
keyauth_digest(const struct acme_validation *job, uint8_t d[32], char b64[44])
{
	crypto_sha256(job->key_authorization, strlen(job->key_authorization), d);
	crypto_b64url_encode(d, 32, b64, 44);
}

/* RFC 8555 §8.4: one of the TXT records is base64url(digest). */
static void
judge_dns01(struct judged *j, const struct acme_validation_result *r)
{
	uint8_t d[32];
	char want[44];
	size_t i;

	keyauth_digest(j->job, d, want);
	for (i = 0; i < r->n_txt; i++) {
		if (strcmp(r->txt[i], want) == 0) {
			j->valid = 1;
			return;
		}
	}
	if (r->n_txt == 0)
		judge_fail(j, ACME_P_UNAUTHORIZED, "dns-01: no TXT record at "
		    "_acme-challenge.%s", j->job->identifier);
	else
		judge_fail(j, ACME_P_INCORRECT_RESPONSE, "dns-01: none of the TXT "
		    "records at _acme-challenge.%s holds the expected value (%zu %s)",
		    j->job->identifier, r->n_txt, r->n_txt >= ACME_MAX_TXT ?
		    "considered, the most this server reads" : "found");
}

/* RFC 8737 §3: the peer's certificate for the identifier, with the
 * critical acmeIdentifier extension holding the digest. */
static void
judge_tlsalpn01(struct judged *j, const struct acme_validation_result *r)
{
	struct crypto_name name;
	uint8_t d[32];
	char b64[44], why[256];
	int ret;

	if (r->alpn == NULL || strcmp(r->alpn, "acme-tls/1") != 0) {
		judge_fail(j, ACME_P_TLS, "tls-alpn-01: %s did not negotiate ALPN "
		    "acme-tls/1", j->job->identifier);
		return;
	}
	keyauth_digest(j->job, d, b64);
	name.type = j->job->ident_is_ip ? CRYPTO_NAME_IP : CRYPTO_NAME_DNS;
	snprintf(name.value, sizeof(name.value), "%.253s", j->job->identifier);
	ret = crypto_acme_tls_cert_check(r->peer_cert, r->peer_cert_len, &name, d,
	    why, sizeof(why));
	if (ret != CRYPTO_OK) {
		judge_fail(j, ACME_P_INCORRECT_RESPONSE, "tls-alpn-01: certificate "
		    "from %s: %s", j->job->identifier, why);
		return;
	}
	j->valid = 1;
}

/* Splits a CAA issue value "domain; key=value; ..." (RFC 8659 §4.2):
 * domain written to out; params left at *params. */
static void
caa_split(const char *value, char *domain, size_t dsz, const char **params)
{
	const char *p = value, *semi;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	semi = strchr(p, ';');
	n = semi != NULL ? (size_t)(semi - p) : strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= dsz)
		n = dsz - 1;
	memcpy(domain, p, n);
	domain[n] = '\0';
	*params = semi != NULL ? semi + 1 : "";
}

/* Finds parameter key in "k=v; k2=v2" into out; 1 when present. */
static int
caa_param(const char *params, const char *key, char *out, size_t outsz)
{
	const char *p = params, *eq, *end;
	size_t kl = strlen(key), n;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		eq = strchr(p, '=');
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (eq != NULL && eq < end && (size_t)(eq - p) == kl &&
		    strncasecmp(p, key, kl) == 0) {
			n = (size_t)(end - eq - 1);
			while (n > 0 && (eq[n] == ' ' || eq[n] == '\t'))
				n--;
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, eq + 1, n);
			out[n] = '\0';
			return 1;
		}
		p = end;
	}
	return 0;
}

/* Nonzero when list (comma separated) names item. */
static int
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while ((p = strstr(p, item)) != NULL) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* One issue/issuewild record: does it let this CA issue for this job? */
static int
caa_record_allows(const struct acme *a, const struct acme_validation *job,
    const struct acme_caa_record *rec)
{
	char domain[256], uri[ACME_MAX_URL], methods[256];
	const char *params;
	size_t i;
	int ours = 0;

	caa_split(rec->value, domain, sizeof(domain), &params);
	for (i = 0; i < a->cfg.n_caa_identities; i++)
		if (strcasecmp(domain, a->cfg.caa_identities[i]) == 0)
			ours = 1;
	if (!ours)
		return 0;
	if (caa_param(params, "accounturi", uri, sizeof(uri)) &&
	    strcmp(uri, job->account_uri) != 0)
		return 0;   /* RFC 8657 §3 */
	if (caa_param(params, "validationmethods", methods, sizeof(methods)) &&
	    !list_has(methods, acme_chall_type_name(job->type)))
		return 0;   /* RFC 8657 §4 */
	return 1;
}

/* RFC 8659 §4: the relevant record set allows issuance. 1 when it does. */
static int
judge_caa(struct judged *j, const struct acme *a,
    const struct acme_validation_result *r)
{
	const char *tag = "issue";
	size_t i;
	int any_issue = 0, any_wild = 0, allowed = 0;

	if (r->caa_status != ACME_FETCH_OK) {
		judge_fail(j, ACME_P_DNS, "CAA lookup for %s failed: %s",
		    j->job->identifier, r->caa_detail);
		return 0;
	}
	for (i = 0; i < r->n_caa; i++) {
		if ((r->caa[i].flags & 128) && strcasecmp(r->caa[i].tag, "issue") != 0 &&
		    strcasecmp(r->caa[i].tag, "issuewild") != 0 &&
		    strcasecmp(r->caa[i].tag, "iodef") != 0) {
			judge_fail(j, ACME_P_CAA, "CAA for %s has a critical property "
			    "\"%s\" this CA does not understand", j->job->identifier,
			    r->caa[i].tag);
			return 0;
		}
		any_issue |= strcasecmp(r->caa[i].tag, "issue") == 0;
		any_wild |= strcasecmp(r->caa[i].tag, "issuewild") == 0;
	}
	if (j->job->wildcard && any_wild)
		tag = "issuewild";      /* RFC 8659 §4.3 */
	if (!(j->job->wildcard && any_wild) && !any_issue)
		return 1;               /* no relevant property: allowed */
	for (i = 0; i < r->n_caa && !allowed; i++)
		if (strcasecmp(r->caa[i].tag, tag) == 0 &&
		    caa_record_allows(a, j->job, &r->caa[i]))
			allowed = 1;
	if (!allowed)
		judge_fail(j, ACME_P_CAA, "CAA records for %s do not allow this CA "
		    "(property %s) for this account and method", j->job->identifier, tag);
	return allowed;
}

static void
judge(struct judged *j, const struct acme *a, const struct acme_validation_result *r)
{
	static const enum acme_problem io[] = {
		[ACME_FETCH_DNS] = ACME_P_DNS,
		[ACME_FETCH_CONNECTION] = ACME_P_CONNECTION,
		[ACME_FETCH_TLS] = ACME_P_TLS,
		[ACME_FETCH_FORBIDDEN] = ACME_P_CONNECTION,
	};

	if (r->status != ACME_FETCH_OK) {
		j->problem = (unsigned)r->status < sizeof(io) / sizeof(io[0]) ?
		    io[r->status] : ACME_P_CONNECTION;
		snprintf(j->detail, sizeof(j->detail), "%.255s", r->detail);
		return;
	}
	switch (j->job->type) {
	case ACME_CHALL_HTTP01:
		judge_http01(j, r);
		break;
	case ACME_CHALL_DNS01:
		judge_dns01(j, r);
		break;
	case ACME_CHALL_TLSALPN01:
		judge_tlsalpn01(j, r);
		break;
	}
	if (j->valid && j->job->check_caa && !judge_caa(j, a, r))
		j->valid = 0;
}

/* Network trouble may pass; a wrong answer or a policy refusal will not. */
static int
transient(const struct judged *j, const struct acme_validation_result *r)
{
	if (r->status == ACME_FETCH_DNS || r->status == ACME_FETCH_CONNECTION ||
	    r->status == ACME_FETCH_TLS)
		return 1;
	return j->problem == ACME_P_DNS;   /* CAA lookup failure */
}

static int
validation_store_txn(struct store_txn *txn, void *arg)
{
	struct judged *j = arg;
	cJSON *c = NULL, *az = NULL, *err;
	char chall[ACME_ID_LEN + 1];
	const char *azid;
	int ret = 1;

	j->failed = 0;
	if ((c = acme_record_get(txn, STORE_T_CHALLENGES, j->job->challenge_id)) == NULL)
		goto out;
	azid = acme_json_str(c, "authz");
	if (strcmp(acme_json_str(c, "status"), "pending") == 0) {
		/* claimed in memory (validating.c): the claim must be this job's */
		if (!acme_claim_get(j->a, azid, chall, NULL) ||
		    strcmp(chall, j->job->challenge_id) != 0)
			goto out;
	} else if (strcmp(acme_json_str(c, "status"), "processing") != 0) {
		goto out;  /* already decided */
	} else if ((ret = acme_lease_held(txn, j->job->challenge_id,
	    j->replica)) <= 0) {
		ret = ret < 0 ? ret : 1;   /* another replica took it over */
		goto out;
	} else if ((ret = store_del(txn, STORE_T_VALIDATIONS, j->job->challenge_id,
	    strlen(j->job->challenge_id))) != 0 && ret != STORE_NOTFOUND)
		goto out;
	ret = 1;
	if ((az = acme_record_get(txn, STORE_T_AUTHZS, azid)) == NULL)
		goto out;
	cJSON_ReplaceItemInObjectCaseSensitive(c, "status",
	    cJSON_CreateString(j->valid ? "valid" : "invalid"));
	(void)acme_chall_due_set(NULL, NULL, c, az, 0);   /* decided */
	j->failed = !j->valid;
	acme_authz_pending_del(txn, acme_json_str(az, "account"), azid);
	if (j->valid) {
		cJSON_AddNumberToObject(c, "validated", (double)j->now);
		if (strcmp(acme_authz_status(az, j->now), "pending") == 0) {
			cJSON_ReplaceItemInObjectCaseSensitive(az, "status",
			    cJSON_CreateString("valid"));
			cJSON_ReplaceItemInObjectCaseSensitive(az, "expires",
			    cJSON_CreateNumber((double)(j->now + ACME_AUTHZ_VALID_LIFETIME)));
			if ((ret = acme_authz_challenges_trim(txn, az,
			    j->job->challenge_id)) != 0)
				goto out;
		}
	} else {
		err = cJSON_CreateObject();
		cJSON_AddStringToObject(err, "type", acme_problem_type(j->problem));
		cJSON_AddStringToObject(err, "detail", j->detail);
		cJSON_AddNumberToObject(err, "status", acme_problem_status(j->problem));
		cJSON_AddItemToObject(c, "error", err);
		/* RFC 8555 §7.1.6: one failed challenge fails the authorization */
		if (strcmp(acme_authz_status(az, j->now), "pending") == 0)
			cJSON_ReplaceItemInObjectCaseSensitive(az, "status",
			    cJSON_CreateString("invalid"));
	}
	if ((ret = acme_record_put(txn, STORE_T_CHALLENGES, j->job->challenge_id, c)) == 0)
		ret = acme_record_put(txn, STORE_T_AUTHZS, azid, az);
out:
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

/* A failed validation counts against its account and name (docs/limits.md). */
static void
failure_count(struct acme *a, const struct acme_validation *job, time_t now)
{
	char key[STORE_MAX_KEY + 1];

	snprintf(key, sizeof(key), "%s/%s:%s", job->account_id,
	    job->ident_is_ip ? "ip" : "dns", job->identifier);
	acme_limit_charge(&a->limits, ACME_LIMIT_FAILURES, key, now);
}

const char *
acme_validation_outcome_name(enum acme_validation_outcome o)
{
	switch (o) {
	case ACME_VALIDATION_VALID:    return "valid";
	case ACME_VALIDATION_INVALID:  return "invalid";
	case ACME_VALIDATION_RETRY:    return "retry";
	case ACME_VALIDATION_UNSTORED: return "unstored";
	}
	return "unknown";
}

enum acme_validation_outcome
acme_validation_done(struct acme *a, const struct acme_validation *job,
    const struct acme_validation_result *r, time_t now)
{
	enum acme_validation_outcome out = ACME_VALIDATION_UNSTORED;
	struct acme_validation again;
	struct retry_due rd;
	struct judged j;
	unsigned slot = acme_enter(a);
	int ret;

	memset(&j, 0, sizeof(j));
	j.a = a;
	j.job = job;
	j.replica = a->replica;
	j.now = now;
	judge(&j, a, r);
	estimate_add(a, job, now);
	if (!j.valid && transient(&j, r) && job->attempt + 1 < VALIDATION_ATTEMPTS) {
		again = *job;
		again.attempt++;
		again.delay = 2 * again.attempt;
		again.started = now + again.delay;
		rd.job = &again;
		rd.replica = a->replica;
		rd.due = again.started + acme_validation_estimate(a);
		/* the due time first: a poll never sees a passed one */
		if (!acme_claim_due(a, job->authz_id, job->challenge_id, rd.due))
			(void)store_write(a->store, retry_due_txn, &rd);
		if (queue_retry(a, &again) == 0) {
			out = ACME_VALIDATION_RETRY;
			goto done;
		}
	}
	queue_finished(a, job);
	ret = store_write(a->store, validation_store_txn, &j);
	/* stored (or not storable): a claim in memory ends; a challenge whose
	 * result could not be stored reads pending again */
	(void)acme_claim_drop(a, job->authz_id, job->challenge_id);
	if (ret != 0)
		goto done;
	if (j.failed) {
		failure_count(a, job, now);
		ACME_COUNT(a, authzs_invalid);
		out = ACME_VALIDATION_INVALID;
	} else if (j.valid) {
		ACME_COUNT(a, authzs_valid);
		out = ACME_VALIDATION_VALID;
	}
done:
	acme_leave(a, slot);
	return out;
}
