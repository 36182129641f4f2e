/*
 * authz.c: authorizations and challenges (RFC 8555 §7.5, §8): creating and
 * reusing authorizations, the authorization and challenge resources, the
 * queue of validations handed to server/, and judging what server/ fetched.
 *
 * Records: an authorization holds its account, identifier, wildcard flag,
 * status, expiry and challenge ids; a challenge holds its authorization,
 * type, token, status, and on failure the problem. The index
 * STORE_T_AUTHZ_BY_ACCOUNT ("account/type:value/authz") finds reusable
 * authorizations.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

#define TOKEN_BYTES 32

const char *
acme_chall_type_name(enum acme_challenge_type t)
{
	switch (t) {
	case ACME_CHALL_HTTP01:    return "http-01";
	case ACME_CHALL_DNS01:     return "dns-01";
	case ACME_CHALL_TLSALPN01: return "tls-alpn-01";
	}
	return "unknown";
}

int
acme_chall_type_parse(const char *s, enum acme_challenge_type *t)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "http-01") == 0)
		*t = ACME_CHALL_HTTP01;
	else if (strcmp(s, "dns-01") == 0)
		*t = ACME_CHALL_DNS01;
	else if (strcmp(s, "tls-alpn-01") == 0)
		*t = ACME_CHALL_TLSALPN01;
	else
		return -1;
	return 0;
}

const char *
acme_authz_status(const cJSON *authz, time_t now)
{
	static const char *const states[] = { "pending", "valid", "invalid",
	    "deactivated", "expired", "revoked" };
	const char *s = acme_json_str(authz, "status");
	size_t i;

	if (s == NULL)
		return "invalid";
	if ((strcmp(s, "pending") == 0 || strcmp(s, "valid") == 0) &&
	    acme_json_time(authz, "expires") <= now)
		return "expired";
	/* Static strings only: callers keep the result after the record. */
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(s, states[i]) == 0)
			return states[i];
	return "invalid";
}

/* Index key "account/type:value/" (+ authz id). */
int
acme_authz_index_key(char *out, size_t outsz, const char *account,
    enum acme_ident_type type, const char *value, const char *id)
{
	int n = snprintf(out, outsz, "%s/%s:%s/%s", account,
	    acme_ident_type_name(type), value, id != NULL ? id : "");

	return n < 0 || (size_t)n >= outsz ? -1 : n;
}

struct reuse_scan {
	struct store_txn *txn;
	size_t prefix_len;
	time_t now;
	time_t margin;              /* how long it must stay valid yet */
	int wildcard;               /* -1: either */
	char found[ACME_ID_LEN + 1];
};

/* Picks a valid authorization that stays valid for a while yet. */
static int
reuse_cb(const void *key, size_t keylen, const void *val, size_t vallen, void *arg)
{
	struct reuse_scan *r = arg;
	char id[ACME_ID_LEN + 1];
	cJSON *az;
	int ok = 0;

	if (keylen != r->prefix_len + ACME_ID_LEN)
		return 0;
	memcpy(id, (const char *)key + r->prefix_len, ACME_ID_LEN);
	id[ACME_ID_LEN] = '\0';
	if ((az = acme_record_get(r->txn, STORE_T_AUTHZS, id)) == NULL)
		return 0;
	if (strcmp(acme_authz_status(az, r->now), "valid") == 0 &&
	    acme_json_time(az, "expires") > r->now + r->margin &&
	    (r->wildcard < 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(az,
	    "wildcard")) == (r->wildcard != 0))) {
		memcpy(r->found, id, sizeof(r->found));
		ok = 1;
	}
	cJSON_Delete(az);
	return ok;   /* 1 stops the scan */
}

int
acme_authz_valid_for(struct store_txn *txn, const char *prefix, size_t len,
    time_t now)
{
	struct reuse_scan r;

	memset(&r, 0, sizeof(r));
	r.txn = txn;
	r.prefix_len = len;
	r.now = now;
	r.wildcard = -1;
	if (store_scan(txn, STORE_T_AUTHZ_BY_ACCOUNT, prefix, len, NULL, 0,
	    reuse_cb, &r) != 0)
		return 0;
	return r.found[0] != '\0';
}

/* Challenges offered for an identifier. */
static size_t
challenge_types(enum acme_ident_type type, int wildcard,
    enum acme_challenge_type out[3])
{
	size_t n = 0;

	if (wildcard) {             /* RFC 8555 §7.1.3: only dns-01 */
		out[n++] = ACME_CHALL_DNS01;
		return n;
	}
	out[n++] = ACME_CHALL_HTTP01;
	if (type == ACME_IDENT_DNS)  /* RFC 8738 §7: no dns-01 for IPs */
		out[n++] = ACME_CHALL_DNS01;
	out[n++] = ACME_CHALL_TLSALPN01;
	return n;
}

int
acme_authz_ids_draw(struct acme *a, time_t now, struct acme_authz_ids *ids)
{
	uint8_t raw[TOKEN_BYTES];
	size_t i;

	if (acme_id_new(a, now, ids->authz) != ACME_OK)
		return ACME_ERR_INTERNAL;
	for (i = 0; i < 3; i++) {
		if (acme_id_new(a, now, ids->chall[i]) != ACME_OK ||
		    a->cfg.random(raw, sizeof(raw)) != 0)
			return ACME_ERR_INTERNAL;
		crypto_b64url_encode(raw, sizeof(raw), ids->token[i],
		    sizeof(ids->token[i]));
	}
	return ACME_OK;
}

static int
challenge_create(struct store_txn *txn, const char *authz_id,
    enum acme_challenge_type type, const char *id, const char *token)
{
	cJSON *c;
	int ret;

	if ((c = cJSON_CreateObject()) == NULL)
		return STORE_ERR_NOMEM;
	cJSON_AddStringToObject(c, "authz", authz_id);
	cJSON_AddStringToObject(c, "type", acme_chall_type_name(type));
	cJSON_AddStringToObject(c, "token", token);
	cJSON_AddStringToObject(c, "status", "pending");
	ret = acme_record_put(txn, STORE_T_CHALLENGES, id, c);
	cJSON_Delete(c);
	return ret;
}

int
acme_authz_obtain(struct store_txn *txn, const char *account_id,
    enum acme_ident_type type, const char *value, int wildcard, int reuse,
    time_t now, const struct acme_authz_ids *ids, char id[ACME_ID_LEN + 1])
{
	const char *base = wildcard ? value + 2 : value;
	enum acme_challenge_type types[3];
	struct reuse_scan r;
	char key[STORE_MAX_KEY + 1];
	cJSON *az, *ident, *challs;
	size_t i, n;
	int klen, ret;

	if ((klen = acme_authz_index_key(key, sizeof(key), account_id, type, base, NULL)) < 0)
		return STORE_ERR_INVALID;
	if (reuse) {
		memset(&r, 0, sizeof(r));
		r.txn = txn;
		r.prefix_len = (size_t)klen;
		r.now = now;
		r.margin = 86400;
		r.wildcard = wildcard;
		if ((ret = store_scan(txn, STORE_T_AUTHZ_BY_ACCOUNT, key, (size_t)klen,
		    NULL, 0, reuse_cb, &r)) != 0)
			return ret;
		if (r.found[0] != '\0') {
			memcpy(id, r.found, ACME_ID_LEN + 1);
			return 0;
		}
	}
	memcpy(id, ids->authz, ACME_ID_LEN + 1);
	if ((az = cJSON_CreateObject()) == NULL)
		return STORE_ERR_NOMEM;
	cJSON_AddStringToObject(az, "account", account_id);
	ident = cJSON_AddObjectToObject(az, "identifier");
	cJSON_AddStringToObject(ident, "type", acme_ident_type_name(type));
	cJSON_AddStringToObject(ident, "value", base);
	if (wildcard)
		cJSON_AddTrueToObject(az, "wildcard");
	cJSON_AddStringToObject(az, "status", "pending");
	cJSON_AddNumberToObject(az, "expires", (double)(now + ACME_AUTHZ_PENDING_LIFETIME));
	challs = cJSON_AddArrayToObject(az, "challenges");
	n = challenge_types(type, wildcard, types);
	for (i = 0, ret = 0; i < n && ret == 0; i++) {
		if ((ret = challenge_create(txn, id, types[i], ids->chall[i],
		    ids->token[i])) == 0)
			cJSON_AddItemToArray(challs, cJSON_CreateString(ids->chall[i]));
	}
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_AUTHZS, id, az);
	cJSON_Delete(az);
	if (ret == 0 && acme_authz_index_key(key, sizeof(key), account_id, type, base, id) > 0)
		ret = store_put(txn, STORE_T_AUTHZ_BY_ACCOUNT, key, strlen(key), "", 0, 0);
	if (ret == 0) {
		snprintf(key, sizeof(key), "%s/%s", account_id, id);
		ret = store_put(txn, STORE_T_PENDING_AUTHZS, key, strlen(key), "", 0, 0);
	}
	return ret;
}

void
acme_authz_pending_del(struct store_txn *txn, const char *account,
    const char *id)
{
	char key[STORE_MAX_KEY + 1];
	int n;

	if (account == NULL || id == NULL)
		return;
	n = snprintf(key, sizeof(key), "%s/%s", account, id);
	if (n > 0 && (size_t)n < sizeof(key))
		(void)store_del(txn, STORE_T_PENDING_AUTHZS, key, (size_t)n);
}

int
acme_authz_challenges_trim(struct store_txn *txn, cJSON *az, const char *kept)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(az, "challenges");
	cJSON *only;
	const cJSON *id;
	int ret;

	cJSON_ArrayForEach(id, list) {
		if (!cJSON_IsString(id) || strcmp(id->valuestring, kept) == 0)
			continue;
		ret = store_del(txn, STORE_T_CHALLENGES, id->valuestring,
		    strlen(id->valuestring));
		if (ret != STORE_OK && ret != STORE_NOTFOUND)
			return ret;
	}
	if ((only = cJSON_CreateArray()) == NULL ||
	    !cJSON_AddItemToArray(only, cJSON_CreateString(kept)) ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(az, "challenges", only)) {
		cJSON_Delete(only);
		return STORE_ERR_NOMEM;
	}
	return STORE_OK;
}

/* ---- rendering ---- */

/* The challenge object (RFC 8555 §8). */
static cJSON *
challenge_json(const struct acme_request *req, const char *id, const cJSON *c)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(c, "error");
	char url[ACME_MAX_URL], ts[32];

	if (o == NULL)
		return NULL;
	acme_url(url, sizeof(url), req->base_url, "chall", id);
	cJSON_AddStringToObject(o, "type", acme_json_str(c, "type"));
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "status", acme_json_str(c, "status"));
	cJSON_AddStringToObject(o, "token", acme_json_str(c, "token"));
	if (acme_json_time(c, "validated") != 0) {
		acme_time_format(acme_json_time(c, "validated"), ts, sizeof(ts));
		cJSON_AddStringToObject(o, "validated", ts);
	}
	if (err != NULL)
		cJSON_AddItemToObject(o, "error", cJSON_Duplicate(err, 1));
	return o;
}

/* The authorization object (RFC 8555 §7.1.4). */
static cJSON *
authz_json(struct acme *a, struct store_txn *txn,
    const struct acme_request *req, const cJSON *az)
{
	cJSON *o = cJSON_CreateObject(), *arr, *c;
	const cJSON *id;
	char ts[32];

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "identifier", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(az, "identifier"), 1));
	cJSON_AddStringToObject(o, "status", acme_authz_status(az, req->now));
	acme_time_format(acme_json_time(az, "expires"), ts, sizeof(ts));
	cJSON_AddStringToObject(o, "expires", ts);
	arr = cJSON_AddArrayToObject(o, "challenges");
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(az, "challenges")) {
		if (!cJSON_IsString(id) ||
		    (c = acme_record_get(txn, STORE_T_CHALLENGES, id->valuestring)) == NULL)
			continue;
		(void)acme_chall_view(a, id->valuestring, c);
		/* RFC 8555 §7.1.4: a valid authorization lists the one that
		 * validated it. */
		if (strcmp(acme_json_str(az, "status"), "valid") != 0 ||
		    strcmp(acme_json_str(c, "status"), "valid") == 0)
			cJSON_AddItemToArray(arr, challenge_json(req, id->valuestring, c));
		cJSON_Delete(c);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(az, "wildcard")))
		cJSON_AddTrueToObject(o, "wildcard");
	return o;
}

static void
respond_authz(struct acme *a, const struct acme_request *req, const char *id,
    int status, struct acme_response *resp)
{
	struct store_txn *txn;
	cJSON *az = NULL, *o = NULL;
	char url[ACME_MAX_URL], chall[ACME_ID_LEN + 1];
	int validating = 0;

	if (store_read_begin(a->store, &txn) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage unavailable");
		return;
	}
	if ((az = acme_record_get(txn, STORE_T_AUTHZS, id)) != NULL) {
		(void)acme_authz_view(a, id, az);
		o = authz_json(a, txn, req, az);
		validating = strcmp(acme_authz_status(az, req->now), "pending") == 0 ?
		    acme_authz_processing(a, txn, az, chall) : 0;
	}
	store_read_end(txn);
	if (o == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "authorization unreadable");
	} else {
		acme_respond_json(resp, status, cJSON_PrintUnformatted(o));
		if (status == 201 && acme_url(url, sizeof(url), req->base_url,
		    "authz", id) == 0)
			acme_respond_header(resp, "Location", "%s", url);
		/* being validated: poll when the result is expected */
		if (strcmp(acme_authz_status(az, req->now), "pending") == 0 &&
		    acme_json_time(az, "due") != 0)
			acme_respond_header(resp, "Retry-After", "%ld",
			    acme_retry_after(acme_json_time(az, "due"), req->now));
		if (validating) {
			acme_wait_set(resp, ACME_WAIT_AUTHZ, id, chall);
			resp->wait.unsettled = validating == ACME_CLAIMED;
		}
	}
	cJSON_Delete(o);
	cJSON_Delete(az);
}

/* Loads an authorization for reading and checks that account owns it. */
static cJSON *
authz_owned(struct acme *a, const char *id, const char *account,
    struct acme_response *resp)
{
	struct store_txn *txn;
	cJSON *az = NULL;

	if (acme_id_valid(id) && store_read_begin(a->store, &txn) == 0) {
		az = acme_record_get(txn, STORE_T_AUTHZS, id);
		store_read_end(txn);
	}
	if (az == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such authorization");
		return NULL;
	}
	if (strcmp(acme_json_str(az, "account"), account) != 0) {
		cJSON_Delete(az);
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "authorization belongs to another account");
		return NULL;
	}
	return az;
}

struct authz_deactivate {
	const char *id;
	time_t now;
	int refused;
};

static int
authz_deactivate_txn(struct store_txn *txn, void *arg)
{
	struct authz_deactivate *d = arg;
	cJSON *az;
	const char *st;
	int ret;

	if ((ret = acme_record_load(txn, STORE_T_AUTHZS, d->id, &az)) != 0)
		return ret;
	st = acme_authz_status(az, d->now);
	d->refused = strcmp(st, "pending") != 0 && strcmp(st, "valid") != 0;
	if (d->refused) {
		cJSON_Delete(az);
		return 1;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(az, "status",
	    cJSON_CreateString("deactivated"));
	acme_authz_pending_del(txn, acme_json_str(az, "account"), d->id);
	ret = acme_record_put(txn, STORE_T_AUTHZS, d->id, az);
	cJSON_Delete(az);
	return ret;
}

/* The authorization resource (RFC 8555 §7.5, deactivation §7.5.2). */
void
acme_authz(struct acme *a, const struct acme_request *req, const char *id,
    struct acme_response *resp)
{
	struct authz_deactivate d;
	struct acme_jws jws;
	cJSON *az = NULL, *payload = NULL;
	const char *st;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if ((az = authz_owned(a, id, jws.account_id, resp)) == NULL)
		goto out;
	if (jws.payload_len == 0) {
		respond_authz(a, req, id, 200, resp);
		acme_wait_account(resp, jws.account_id);
		goto out;
	}
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	st = acme_json_str(payload, "status");
	if (st == NULL || strcmp(st, "deactivated") != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "an authorization update may only set status \"deactivated\"");
		goto out;
	}
	memset(&d, 0, sizeof(d));
	d.id = id;
	d.now = req->now;
	if (store_write(a->store, authz_deactivate_txn, &d) < 0)
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage failed");
	else if (d.refused)
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "only pending or valid authorizations can be deactivated");
	else
		respond_authz(a, req, id, 200, resp);
out:
	cJSON_Delete(payload);
	cJSON_Delete(az);
	acme_jws_clear(&jws);
}

struct new_authz {
	struct acme *a;
	const char *account;
	enum acme_ident_type type;
	const char *value;
	time_t now;
	struct acme_authz_ids ids;
	char id[ACME_ID_LEN + 1];
	long pending_retry;         /* out: over the pending authorization cap */
};

static int
new_authz_txn(struct store_txn *txn, void *arg)
{
	struct new_authz *n = arg;
	int ret;

	if ((ret = acme_authz_obtain(txn, n->account, n->type, n->value, 0, 0,
	    n->now, &n->ids, n->id)) != 0)
		return ret;
	return acme_limit_pending_txn(n->a, txn, n->account, n->now,
	    &n->pending_retry);
}

/* newAuthz: pre-authorization (RFC 8555 §7.4.1). */
void
acme_new_authz(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	struct new_authz n;
	struct acme_jws jws;
	struct acme_ident ident;
	cJSON *payload = NULL;
	int ret;

	memset(&n, 0, sizeof(n));
	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	if (acme_ident_check(cJSON_GetObjectItemCaseSensitive(payload, "identifier"),
	    &ident.type, ident.value, &ident.wildcard, resp) != 0)
		goto out;
	if (ident.wildcard) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "wildcard names cannot be pre-authorized (RFC 8555 §7.4.1)");
		goto out;
	}
	if (acme_ident_policy(a, &ident, 1, resp) != 0 ||
	    acme_eab_ident_allowed(jws.account, ident.type, ident.value,
	    resp) != 0 ||
	    acme_limit_failures(a, jws.account_id, ident.type, ident.value, req->now,
	    resp) != 0)
		goto out;
	n.a = a;
	n.account = jws.account_id;
	n.type = ident.type;
	n.value = ident.value;
	n.now = req->now;
	if ((ret = acme_authz_ids_draw(a, n.now, &n.ids)) == ACME_OK)
		ret = store_write(a->store, new_authz_txn, &n);
	if (ret != 0) {
		if (ret == ACME_LIMIT_PENDING)
			acme_limit_pending_refused(a, n.pending_retry, resp);
		else
			acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
			    "could not store the authorization");
		goto out;
	}
	respond_authz(a, req, n.id, 201, resp);
out:
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}

/* ---- challenges ---- */

struct chall_respond {
	struct acme *a;
	const char *id;
	const char *account;
	const char *thumbprint;
	const char *account_uri;
	time_t now;
	time_t due;                 /* when a started validation should end */
	int place;                  /* 0: a queue place is reserved, else why not */
	int started;                /* out: a validation was queued */
	int busy;                   /* out: it would start, but has no place */
	int not_owner;
	struct acme_validation job;
};

/* One challenge of an authorization is validated at a time: one client
 * cannot fill the queue with every challenge type of every name. */
int
acme_authz_processing(struct acme *a, struct store_txn *txn, const cJSON *az,
    char out[ACME_ID_LEN + 1])
{
	const cJSON *id;
	cJSON *c;
	int busy = 0, claimed;

	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(az, "challenges")) {
		if (busy || !cJSON_IsString(id) ||
		    (c = acme_record_get(txn, STORE_T_CHALLENGES, id->valuestring)) == NULL)
			continue;
		claimed = acme_chall_view(a, id->valuestring, c);
		if (acme_json_str(c, "status") != NULL &&
		    strcmp(acme_json_str(c, "status"), "processing") == 0) {
			busy = claimed ? ACME_CLAIMED : 1;
			if (out != NULL)
				snprintf(out, ACME_ID_LEN + 1, "%s", id->valuestring);
		}
		cJSON_Delete(c);
	}
	return busy;
}

/* Loads challenge r->id and its authorization: 0 when a validation of it
 * may start (c and az then set, the caller frees them), else STORE_NOTFOUND
 * (no such challenge), another STORE_* code, or 1: nothing to start
 * (r->not_owner or r->busy may say why). Claims in memory count as
 * validations under way when view is set (acme_authz_processing). */
static int
chall_respond_load(struct chall_respond *r, struct store_txn *txn,
    struct acme *view, cJSON **c, cJSON **az)
{
	enum acme_challenge_type type;
	int ret;

	*c = *az = NULL;
	r->started = 0;
	if ((ret = acme_record_load(txn, STORE_T_CHALLENGES, r->id, c)) != 0 ||
	    (ret = acme_record_load(txn, STORE_T_AUTHZS, acme_json_str(*c, "authz"),
	    az)) != 0)
		goto fail;   /* STORE_NOTFOUND: no such challenge */
	ret = 1;
	if (strcmp(acme_json_str(*az, "account"), r->account) != 0) {
		r->not_owner = 1;
		goto fail;
	}
	if (strcmp(acme_json_str(*c, "status"), "pending") != 0 ||
	    strcmp(acme_authz_status(*az, r->now), "pending") != 0 ||
	    acme_chall_type_parse(acme_json_str(*c, "type"), &type) != 0 ||
	    acme_authz_processing(view, txn, *az, NULL))
		goto fail;  /* RFC 8555 §7.5.1: nothing to start; report as is */
	if (r->place != 0) {
		r->busy = 1;   /* stays pending: the client may try again */
		goto fail;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(*c, "status", cJSON_CreateString("processing"));
	cJSON_DeleteItemFromObjectCaseSensitive(*c, "accountUri");
	cJSON_AddStringToObject(*c, "accountUri", r->account_uri);
	return 0;
fail:
	cJSON_Delete(*c);
	cJSON_Delete(*az);
	*c = *az = NULL;
	return ret;
}

/* The job of the validation just started. */
static void
chall_respond_job(struct chall_respond *r, const cJSON *c, const cJSON *az)
{
	acme_job_fill(r->a, &r->job, r->id, c, az, r->thumbprint);
	r->job.started = r->now;
	r->started = 1;
}

/* Moves a pending challenge of a pending authorization to processing. */
static int
chall_respond_txn(struct store_txn *txn, void *arg)
{
	struct chall_respond *r = arg;
	cJSON *c, *az;
	int ret;

	if ((ret = chall_respond_load(r, txn, r->a, &c, &az)) != 0)
		return ret;
	if ((ret = acme_chall_due_set(txn, r->id, c, az, r->due)) == 0 &&
	    (ret = acme_lease_put(txn, r->id, r->a->replica,
	    r->now + ACME_VALIDATION_LEASE)) == 0)
		chall_respond_job(r, c, az);
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

/* chall_respond_load() in a read transaction of its own. */
static int
chall_respond_read(struct chall_respond *r, struct acme *view, cJSON **c,
    cJSON **az)
{
	struct store_txn *txn;
	int ret;

	*c = *az = NULL;
	if ((ret = store_read_begin(r->a->store, &txn)) != 0)
		return ret;
	ret = chall_respond_load(r, txn, view, c, az);
	store_read_end(txn);
	return ret;
}

/*
 * The same, claimed in memory (validating.c): reads, and no write. The
 * claim is taken first and the store checked after, in a snapshot begun
 * after the take: a write that ended an earlier claim of the same
 * authorization (its result, or the settling that made it durable)
 * committed before that claim was dropped, so this snapshot sees it, and
 * two validations of one authorization never run at once.
 */
static int
chall_respond_claim(struct chall_respond *r)
{
	char azid[ACME_ID_LEN + 1];
	cJSON *c, *az;
	int ret, taken;

	/* what is plainly not startable answers without a claim */
	if ((ret = chall_respond_read(r, r->a, &c, &az)) != 0)
		return ret;
	snprintf(azid, sizeof(azid), "%s", acme_json_str(c, "authz"));
	cJSON_Delete(c);
	cJSON_Delete(az);
	taken = acme_claim_take(r->a, azid, r->id, r->due, r->account_uri);
	if (taken <= 0) {
		r->busy = taken < 0;    /* as a full queue */
		return 1;               /* 0: another request started one */
	}
	if ((ret = chall_respond_read(r, NULL, &c, &az)) == 0)
		chall_respond_job(r, c, az);
	else
		(void)acme_claim_drop(r->a, azid, r->id);
	cJSON_Delete(c);
	cJSON_Delete(az);
	return ret;
}

/* Answers with challenge record c (of challenge id). */
static void
respond_challenge(const struct acme_request *req, const char *id,
    const cJSON *c, int claimed, struct acme_response *resp)
{
	cJSON *o = NULL;
	char up[ACME_MAX_URL];

	if (c == NULL || (o = challenge_json(req, id, c)) == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "challenge unreadable");
		goto out;
	}
	acme_respond_json(resp, 200, cJSON_PrintUnformatted(o));
	if (acme_url(up, sizeof(up), req->base_url, "authz", acme_json_str(c, "authz")) == 0)
		acme_respond_header(resp, "Link", "<%s>;rel=\"up\"", up);
	if (strcmp(acme_json_str(c, "status"), "processing") == 0) {
		acme_respond_header(resp, "Retry-After", "%ld",
		    acme_retry_after(acme_json_time(c, "due"), req->now));
		acme_wait_set(resp, ACME_WAIT_CHALLENGE, id, id);
		resp->wait.unsettled = claimed;
	}
out:
	cJSON_Delete(o);
}

/* Loads challenge id for account, as readers see it (acme_chall_view): 0
 * with *c (caller frees) and *claimed, else -1 with the problem in resp.
 * Ownership goes through the authorization. */
static int
challenge_owned(struct acme *a, const char *id, const char *account,
    cJSON **c, int *claimed, struct acme_response *resp)
{
	struct store_txn *txn;
	cJSON *az = NULL;
	int ret = STORE_ERR_IO, owned = 0;

	*c = NULL;
	if (store_read_begin(a->store, &txn) == 0) {
		if ((ret = acme_record_load(txn, STORE_T_CHALLENGES, id, c)) == 0 &&
		    (ret = acme_record_load(txn, STORE_T_AUTHZS,
		    acme_json_str(*c, "authz"), &az)) == 0)
			owned = strcmp(acme_json_str(az, "account"), account) == 0;
		store_read_end(txn);
	}
	cJSON_Delete(az);
	if (ret == 0 && owned) {
		*claimed = acme_chall_view(a, id, *c);
		return 0;
	}
	cJSON_Delete(*c);
	*c = NULL;
	if (ret == STORE_NOTFOUND)
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such challenge");
	else if (ret != 0)
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "challenge unreadable");
	else
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "challenge belongs to another account");
	return -1;
}

/* The challenge stays pending: the queue or the account's share is full. */
static void
queue_refused(const struct acme *a, int why, struct acme_response *resp)
{
	if (why == ACME_QUEUE_SHARE)
		acme_respond_limited(resp, ACME_QUEUE_RETRY, "limit of validations "
		    "per account reached (%u queued or running); the challenge "
		    "stays pending", acme_settings(a)->limits.queue_share);
	else
		acme_respond_limited(resp, ACME_QUEUE_RETRY, "the validation queue "
		    "is full (%d jobs); the challenge stays pending",
		    ACME_QUEUE_MAX);
}

/* The challenge resource (RFC 8555 §7.5.1): POST-as-GET reads it; a POST
 * of {} asks the server to validate. */
void
acme_challenge(struct acme *a, const struct acme_request *req, const char *id,
    struct acme_response *resp)
{
	struct chall_respond r;
	struct acme_jws jws;
	cJSON *payload = NULL, *c = NULL;
	char account_uri[ACME_MAX_URL];
	int ret, claimed = 0;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	acme_account_url(req, jws.account_id, account_uri, sizeof(account_uri));
	memset(&r, 0, sizeof(r));
	if (!acme_id_valid(id)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such challenge");
		goto out;
	}
	if (jws.payload_len > 0) {
		if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
			goto out;
		r.a = a;
		r.id = id;
		r.account = jws.account_id;
		r.thumbprint = jws.thumbprint;
		r.account_uri = account_uri;
		r.now = req->now;
		r.due = req->now + acme_validation_estimate(a);
		r.place = acme_queue_reserve(a, jws.account_id);
		ret = acme_claim_local(a) ? chall_respond_claim(&r) :
		    store_write(a->store, chall_respond_txn, &r);
		if (r.place == 0 && (ret != 0 || !r.started))
			acme_queue_release(a, jws.account_id);
		if (ret == STORE_NOTFOUND) {
			acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such challenge");
			goto out;
		}
		if (ret < 0) {
			acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage failed");
			goto out;
		}
		if (r.not_owner) {
			acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
			    "challenge belongs to another account");
			goto out;
		}
		if (r.busy) {
			queue_refused(a, r.place, resp);
			goto out;
		}
		if (r.started) {
			snprintf(r.job.request_id, sizeof(r.job.request_id), "%s",
			    req->request_id != NULL ? req->request_id : "");
			acme_queue_push(a, &r.job);
		}
	}
	/* one read for both: ownership and the answer */
	if (challenge_owned(a, id, jws.account_id, &c, &claimed, resp) == 0) {
		respond_challenge(req, id, c, claimed, resp);
		acme_wait_account(resp, jws.account_id);
	}
out:
	cJSON_Delete(c);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}


/* ---- answers rendered again (acme_refresh) ---- */

void
acme_challenge_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp)
{
	cJSON *c = NULL;
	int claimed = 0;

	if (!acme_id_valid(id)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such challenge");
		return;
	}
	if (challenge_owned(a, id, account, &c, &claimed, resp) == 0) {
		respond_challenge(req, id, c, claimed, resp);
		acme_wait_account(resp, account);
	}
	cJSON_Delete(c);
}

void
acme_authz_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp)
{
	cJSON *az;

	if ((az = authz_owned(a, id, account, resp)) == NULL)
		return;
	cJSON_Delete(az);
	respond_authz(a, req, id, 200, resp);
	acme_wait_account(resp, account);
}
