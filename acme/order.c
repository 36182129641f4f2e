/*
 * order.c: orders (RFC 8555 §7.4): creation from identifiers, the order
 * resource with its status derived from its authorizations (§7.1.6), the
 * account's orders list (§7.1.2.1), and finalization, where the CSR is
 * checked against the order and the certificate is issued.
 *
 * Record: account, status (only "processing", "valid" or "invalid" are
 * stored once decided; before that the status is derived), expires,
 * identifiers, authzs (ids), notBefore/notAfter when asked, cert (serial),
 * profile (its name; the leaf's lifetime and uses), replaces (an RFC 9773
 * certID, claimed in renewal.c in the same write as the order),
 * and while a finalize is in flight its claim token and time.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

static int finalizing(struct acme *a, const char *id);

/* acme_order_status(), with the validations claimed in memory in a's
 * view (a may be NULL: the store's records as they are). */
static const char *
order_status(struct acme *a, struct store_txn *txn, const cJSON *order,
    time_t now, time_t *due)
{
	const char *st = acme_json_str(order, "status");
	const cJSON *id;
	cJSON *az;
	time_t last = 0, d;
	int all_valid = 1, bad = 0, waiting = 0;

	if (due != NULL)
		*due = 0;

	/* Static strings only: callers keep the result after the record. */
	if (st != NULL && strcmp(st, "valid") == 0)
		return "valid";
	if (st != NULL && strcmp(st, "invalid") == 0)
		return "invalid";
	/* a finalize in flight; its claim lapses if the server stopped */
	if (st != NULL && strcmp(st, "processing") == 0 &&
	    acme_json_time(order, "claimed") + ACME_FINALIZE_STALE > now)
		return "processing";
	if (acme_json_time(order, "expires") <= now)
		return "invalid";
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(order, "authzs")) {
		az = cJSON_IsString(id) ? acme_record_get(txn, STORE_T_AUTHZS,
		    id->valuestring) : NULL;
		if (az != NULL && a != NULL)
			(void)acme_authz_view(a, id->valuestring, az);
		st = az != NULL ? acme_authz_status(az, now) : "invalid";
		if (strcmp(st, "valid") != 0)
			all_valid = 0;
		if (strcmp(st, "pending") != 0 && strcmp(st, "valid") != 0)
			bad = 1;
		/* a pending authorization with a due time is being validated */
		d = strcmp(st, "pending") == 0 ? acme_json_time(az, "due") : 0;
		if (strcmp(st, "pending") == 0 && d == 0)
			waiting = 1;
		if (d > last)
			last = d;
		cJSON_Delete(az);
	}
	if (bad)
		return "invalid";
	if (due != NULL && !all_valid && !waiting)
		*due = last;
	return all_valid ? "ready" : "pending";
}

const char *
acme_order_status(struct store_txn *txn, const cJSON *order, time_t now,
    time_t *due)
{
	return order_status(NULL, txn, order, now, due);
}

/* The first challenge error of an authorization, with its identifier, as a
 * subproblem (RFC 8555 §6.7.1); NULL when it has none. */
static cJSON *
authz_subproblem(struct store_txn *txn, const cJSON *az)
{
	const cJSON *id, *err;
	cJSON *c, *sub = NULL;

	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(az, "challenges")) {
		if (!cJSON_IsString(id) ||
		    (c = acme_record_get(txn, STORE_T_CHALLENGES, id->valuestring)) == NULL)
			continue;
		err = cJSON_GetObjectItemCaseSensitive(c, "error");
		if (err != NULL && sub == NULL) {
			sub = cJSON_Duplicate(err, 1);
			cJSON_AddItemToObject(sub, "identifier", cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(az, "identifier"), 1));
		}
		cJSON_Delete(c);
	}
	return sub;
}

/* Why an order became invalid: one identifier's problem, or a compound
 * problem with a subproblem per failed identifier. NULL when none. */
static cJSON *
order_error(struct store_txn *txn, const cJSON *ord, time_t now)
{
	cJSON *subs = cJSON_CreateArray(), *az, *sub, *err = NULL;
	const cJSON *id;
	char detail[96];
	int n;

	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(ord, "authzs")) {
		if (!cJSON_IsString(id) ||
		    (az = acme_record_get(txn, STORE_T_AUTHZS, id->valuestring)) == NULL)
			continue;
		if (strcmp(acme_authz_status(az, now), "invalid") == 0 &&
		    (sub = authz_subproblem(txn, az)) != NULL)
			cJSON_AddItemToArray(subs, sub);
		cJSON_Delete(az);
	}
	n = cJSON_GetArraySize(subs);
	if (n == 1) {
		err = cJSON_DetachItemFromArray(subs, 0);
	} else if (n > 1) {
		err = cJSON_CreateObject();
		snprintf(detail, sizeof(detail), "validation failed for %d identifiers", n);
		cJSON_AddStringToObject(err, "type", acme_problem_type(ACME_P_COMPOUND));
		cJSON_AddStringToObject(err, "detail", detail);
		cJSON_AddNumberToObject(err, "status", acme_problem_status(ACME_P_COMPOUND));
		cJSON_AddItemToObject(err, "subproblems", subs);
		subs = NULL;
	}
	cJSON_Delete(subs);
	return err;
}

/* The order object (RFC 8555 §7.1.3). */
static cJSON *
order_json(struct store_txn *txn, const struct acme_request *req,
    const char *id, const cJSON *ord, const char *status)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	const cJSON *v;
	const char *serial = acme_json_str(ord, "cert");
	char url[ACME_MAX_URL], ts[32];

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "status", status);
	acme_time_format(acme_json_time(ord, "expires"), ts, sizeof(ts));
	cJSON_AddStringToObject(o, "expires", ts);
	cJSON_AddItemToObject(o, "identifiers", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(ord, "identifiers"), 1));
	if (acme_json_time(ord, "notBefore") != 0) {
		acme_time_format(acme_json_time(ord, "notBefore"), ts, sizeof(ts));
		cJSON_AddStringToObject(o, "notBefore", ts);
	}
	if (acme_json_time(ord, "notAfter") != 0) {
		acme_time_format(acme_json_time(ord, "notAfter"), ts, sizeof(ts));
		cJSON_AddStringToObject(o, "notAfter", ts);
	}
	arr = cJSON_AddArrayToObject(o, "authorizations");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(ord, "authzs")) {
		if (cJSON_IsString(v) && acme_url(url, sizeof(url), req->base_url,
		    "authz", v->valuestring) == 0)
			cJSON_AddItemToArray(arr, cJSON_CreateString(url));
	}
	acme_url(url, sizeof(url), req->base_url, "finalize", id);
	cJSON_AddStringToObject(o, "finalize", url);
	if (serial != NULL && acme_url(url, sizeof(url), req->base_url, "cert",
	    serial) == 0)
		cJSON_AddStringToObject(o, "certificate", url);
	if (acme_json_str(ord, "profile") != NULL)
		cJSON_AddStringToObject(o, "profile", acme_json_str(ord, "profile"));
	if (acme_json_str(ord, "replaces") != NULL)
		cJSON_AddStringToObject(o, "replaces", acme_json_str(ord, "replaces"));
	if ((v = cJSON_GetObjectItemCaseSensitive(ord, "error")) != NULL)
		cJSON_AddItemToObject(o, "error", cJSON_Duplicate(v, 1));
	else if (strcmp(status, "invalid") == 0 &&
	    (arr = order_error(txn, ord, req->now)) != NULL)
		cJSON_AddItemToObject(o, "error", arr);
	return o;
}

/* The challenge of the order's first authorization being validated, into
 * out: what a pending order whose result is due waits on. 1 (ACME_CLAIMED
 * when claimed in memory), or 0. */
static int
order_waits_on(struct acme *a, struct store_txn *txn, const cJSON *ord,
    time_t now, char out[ACME_ID_LEN + 1])
{
	const cJSON *id;
	cJSON *az;
	int found = 0;

	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(ord, "authzs")) {
		if (found || !cJSON_IsString(id) ||
		    (az = acme_record_get(txn, STORE_T_AUTHZS, id->valuestring)) == NULL)
			continue;
		if (strcmp(acme_authz_status(az, now), "pending") == 0)
			found = acme_authz_processing(a, txn, az, out);
		cJSON_Delete(az);
	}
	return found;
}

static void
respond_order(struct acme *a, const struct acme_request *req, const char *id,
    int status, struct acme_response *resp)
{
	struct store_txn *txn;
	cJSON *ord = NULL, *o = NULL;
	char url[ACME_MAX_URL], chall[ACME_ID_LEN + 1];
	const char *st = NULL;
	time_t due = 0;
	int validating = 0;

	if (store_read_begin(a->store, &txn) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage unavailable");
		return;
	}
	/* The status is derived from every authorization: once per request. */
	if ((ord = acme_record_get(txn, STORE_T_ORDERS, id)) != NULL) {
		st = order_status(a, txn, ord, req->now, &due);
		/* a finalize claimed in memory (finalizing()) is under way */
		if (strcmp(st, "ready") == 0 && finalizing(a, id))
			st = "processing";
		o = order_json(txn, req, id, ord, st);
		validating = due != 0 ? order_waits_on(a, txn, ord, req->now, chall) : 0;
	}
	store_read_end(txn);
	if (o == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "order unreadable");
	} else {
		acme_respond_json(resp, status, cJSON_PrintUnformatted(o));
		if (acme_url(url, sizeof(url), req->base_url, "order", id) == 0)
			acme_respond_header(resp, "Location", "%s", url);
		/* RFC 8555 §7.4: clients poll pending and processing orders;
		 * a finalize signs at once, validations end when expected. A
		 * pending order that waits on the client gets no Retry-After. */
		if (strcmp(st, "processing") == 0)
			acme_respond_header(resp, "Retry-After", "%ld",
			    acme_retry_after(0, req->now));
		else if (due != 0)
			acme_respond_header(resp, "Retry-After", "%ld",
			    acme_retry_after(due, req->now));
		if (validating) {
			acme_wait_set(resp, ACME_WAIT_ORDER, id, chall);
			resp->wait.unsettled = validating == ACME_CLAIMED;
		}
	}
	cJSON_Delete(o);
	cJSON_Delete(ord);
}

/* ---- newOrder ---- */

struct new_order {
	struct acme *a;
	const char *account;
	struct acme_ident *ids;
	size_t n;
	time_t not_before, not_after, now;
	const char *profile;
	const struct acme_cert_id *replaces;  /* NULL when none */
	char id[ACME_ID_LEN + 1];
	struct acme_authz_ids *authz_ids; /* one per identifier, drawn before */
	/* out: why the replaces claim was refused */
	struct acme_replaces claim;
	long pending_retry;         /* out: over the pending authorization cap */
};

/* RFC 9773 §5: the claim on the replaced certificate, with the order. */
static int
new_order_claim(struct store_txn *txn, struct new_order *n, cJSON *o)
{
	if (n->replaces == NULL)
		return 0;
	cJSON_AddStringToObject(o, "replaces", n->replaces->text);
	n->claim.id = n->replaces;
	n->claim.account = n->account;
	n->claim.identifiers = cJSON_GetObjectItemCaseSensitive(o, "identifiers");
	n->claim.order_id = n->id;
	n->claim.now = n->now;
	return acme_replaces_claim(txn, &n->claim);
}

static int
new_order_txn(struct store_txn *txn, void *arg)
{
	struct new_order *n = arg;
	char azid[ACME_ID_LEN + 1], key[STORE_MAX_KEY + 1];
	cJSON *o, *idents, *authzs, *e;
	size_t i;
	int ret = 0;

	if ((o = cJSON_CreateObject()) == NULL)
		return STORE_ERR_NOMEM;
	cJSON_AddStringToObject(o, "account", n->account);
	cJSON_AddStringToObject(o, "status", "pending");
	cJSON_AddNumberToObject(o, "expires", (double)(n->now + ACME_ORDER_LIFETIME));
	cJSON_AddNumberToObject(o, "created", (double)n->now);
	cJSON_AddStringToObject(o, "profile", n->profile);
	if (n->not_before != 0)
		cJSON_AddNumberToObject(o, "notBefore", (double)n->not_before);
	if (n->not_after != 0)
		cJSON_AddNumberToObject(o, "notAfter", (double)n->not_after);
	idents = cJSON_AddArrayToObject(o, "identifiers");
	authzs = cJSON_AddArrayToObject(o, "authzs");
	for (i = 0; i < n->n && ret == 0; i++) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "type", acme_ident_type_name(n->ids[i].type));
		cJSON_AddStringToObject(e, "value", n->ids[i].value);
		cJSON_AddItemToArray(idents, e);
		ret = acme_authz_obtain(txn, n->account, n->ids[i].type,
		    n->ids[i].value, n->ids[i].wildcard, 1, n->now,
		    &n->authz_ids[i], azid);
		if (ret == 0)
			cJSON_AddItemToArray(authzs, cJSON_CreateString(azid));
	}
	if (ret == 0)
		ret = new_order_claim(txn, n, o);
	if (ret == 0)
		ret = acme_limit_pending_txn(n->a, txn, n->account, n->now,
		    &n->pending_retry);
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_ORDERS, n->id, o);
	cJSON_Delete(o);
	if (ret == 0) {
		snprintf(key, sizeof(key), "%s/%s", n->account, n->id);
		ret = store_put(txn, STORE_T_ORDER_BY_ACCOUNT, key, strlen(key), "", 0, 0);
	}
	return ret;
}

/* Reads and checks the identifiers: normalised, duplicates dropped, then
 * every one judged by the name policy. */
static int
order_identifiers(const struct acme *a, const cJSON *arr,
    struct acme_ident **out, size_t *n, struct acme_response *resp)
{
	struct acme_ident *ids;
	const cJSON *e;
	size_t i, k = 0;
	int count = cJSON_GetArraySize(arr);

	if (!cJSON_IsArray(arr) || count == 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "identifiers must be a non-empty array");
		return -1;
	}
	if (count > ACME_MAX_IDENTIFIERS) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "at most %d identifiers per order", ACME_MAX_IDENTIFIERS);
		return -1;
	}
	if ((ids = calloc((size_t)count, sizeof(*ids))) == NULL)
		return -1;
	cJSON_ArrayForEach(e, arr) {
		if (acme_ident_check(e, &ids[k].type, ids[k].value, &ids[k].wildcard,
		    resp) != 0) {
			free(ids);
			return -1;
		}
		for (i = 0; i < k; i++)
			if (ids[i].type == ids[k].type &&
			    strcmp(ids[i].value, ids[k].value) == 0)
				break;
		if (i == k)
			k++;
	}
	if (acme_ident_policy(a, ids, k, resp) != 0) {
		free(ids);
		return -1;
	}
	*out = ids;
	*n = k;
	return 0;
}

/* notBefore/notAfter (RFC 8555 §7.4): honoured within the validity policy. */
static int
order_validity(const struct crypto_profile *prof, const cJSON *payload,
    time_t now, time_t *nb, time_t *na, struct acme_response *resp)
{
	const cJSON *v;
	time_t max = (time_t)prof->lifetime;

	*nb = *na = 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(payload, "notBefore")) != NULL &&
	    (!cJSON_IsString(v) || acme_time_parse(v->valuestring, nb) != 0)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "notBefore is not an RFC 3339 timestamp");
		return -1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(payload, "notAfter")) != NULL &&
	    (!cJSON_IsString(v) || acme_time_parse(v->valuestring, na) != 0)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "notAfter is not an RFC 3339 timestamp");
		return -1;
	}
	if (*nb != 0 && (*nb < now - 3600 || *nb > now + 7 * 86400)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "notBefore must lie between an hour ago and seven days ahead");
		return -1;
	}
	if (*na != 0 && (*na <= (*nb != 0 ? *nb : now) ||
	    *na - (*nb != 0 ? *nb : now) > max)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "notAfter must be after notBefore and at most %ld hours from "
		    "it (profile \"%s\")", prof->lifetime / 3600, prof->name);
		return -1;
	}
	return 0;
}

/* "replaces" (RFC 9773 §5), when present: a well-formed certID. */
static int
order_replaces(const cJSON *payload, struct acme_cert_id *id, int *present,
    struct acme_response *resp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, "replaces");
	char why[128];

	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "replaces must be a certificate identifier string");
		return -1;
	}
	if (acme_cert_id_parse(v->valuestring, id, why, sizeof(why)) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "replaces: %s", why);
		return -1;
	}
	return 0;
}

/* Draws the order's id and every authorization's ids before the write.
 * 0, ACME_ERR_NOMEM or ACME_ERR_INTERNAL. */
static int
new_order_ids(struct new_order *n)
{
	size_t i;

	if ((n->authz_ids = calloc(n->n, sizeof(*n->authz_ids))) == NULL)
		return ACME_ERR_NOMEM;
	if (acme_id_new(n->a, n->now, n->id) != ACME_OK)
		return ACME_ERR_INTERNAL;
	for (i = 0; i < n->n; i++)
		if (acme_authz_ids_draw(n->a, n->now, &n->authz_ids[i]) != ACME_OK)
			return ACME_ERR_INTERNAL;
	return ACME_OK;
}

/* Answers a newOrder whose write failed: a refused claim or storage. */
static void
new_order_failed(const struct new_order *n, int ret, struct acme_response *resp)
{
	if (ret == 1)
		acme_respond_problem(resp, n->claim.problem, 0, "%s", n->claim.detail);
	else if (ret == ACME_LIMIT_PENDING)
		acme_limit_pending_refused(n->a, n->pending_retry, resp);
	else
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not store the order");
}

void
acme_new_order(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	const struct crypto_profile *prof;
	struct acme_cert_id replaces;
	struct new_order n;
	struct acme_jws jws;
	cJSON *payload = NULL;
	size_t i;
	int has_replaces, ret;

	memset(&n, 0, sizeof(n));
	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	if (order_identifiers(a, cJSON_GetObjectItemCaseSensitive(payload,
	    "identifiers"), &n.ids, &n.n, resp) != 0)
		goto out;
	if (acme_eab_idents_allowed(jws.account, cJSON_GetObjectItemCaseSensitive(
	    payload, "identifiers"), resp) != 0)
		goto out;
	if ((prof = acme_profile_of_payload(a, payload, resp)) == NULL ||
	    order_validity(prof, payload, req->now, &n.not_before, &n.not_after,
	    resp) != 0 ||
	    order_replaces(payload, &replaces, &has_replaces, resp) != 0)
		goto out;
	for (i = 0; i < n.n; i++)
		if (acme_limit_failures(a, jws.account_id, n.ids[i].type,
		    n.ids[i].value + (n.ids[i].wildcard ? 2 : 0), req->now, resp) != 0)
			goto out;
	if (acme_limit_new_order(a, req, jws.account_id, resp) != 0)
		goto out;
	n.a = a;
	n.account = jws.account_id;
	n.now = req->now;
	n.profile = prof->name;
	n.replaces = has_replaces ? &replaces : NULL;
	if ((ret = new_order_ids(&n)) == ACME_OK)
		ret = store_write(a->store, new_order_txn, &n);
	if (ret != 0) {
		new_order_failed(&n, ret, resp);
		goto out;
	}
	ACME_COUNT(a, orders_created);
	respond_order(a, req, n.id, 201, resp);
out:
	free(n.authz_ids);
	free(n.ids);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}

/* Loads an order and checks its owner; NULL with resp set otherwise. */
static cJSON *
order_owned(struct acme *a, const char *id, const char *account,
    struct acme_response *resp)
{
	struct store_txn *txn;
	cJSON *ord = NULL;

	if (acme_id_valid(id) && store_read_begin(a->store, &txn) == 0) {
		ord = acme_record_get(txn, STORE_T_ORDERS, id);
		store_read_end(txn);
	}
	if (ord == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404, "no such order");
		return NULL;
	}
	if (strcmp(acme_json_str(ord, "account"), account) != 0) {
		cJSON_Delete(ord);
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "order belongs to another account");
		return NULL;
	}
	return ord;
}

/* The order resource: POST-as-GET only. */
void
acme_order(struct acme *a, const struct acme_request *req, const char *id,
    struct acme_response *resp)
{
	struct acme_jws jws;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if (jws.payload_len != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "an order is read with POST-as-GET (empty payload)");
	} else {
		acme_order_render(a, req, id, jws.account_id, resp);
	}
	acme_jws_clear(&jws);
}

void
acme_order_render(struct acme *a, const struct acme_request *req,
    const char *id, const char *account, struct acme_response *resp)
{
	cJSON *ord;

	if ((ord = order_owned(a, id, account, resp)) == NULL)
		return;
	cJSON_Delete(ord);
	respond_order(a, req, id, 200, resp);
	acme_wait_account(resp, account);
}

/* ---- the orders list (RFC 8555 §7.1.2.1) ---- */

struct list_scan {
	const struct acme_request *req;
	cJSON *arr;
	size_t prefix_len, count;
	char last[ACME_ID_LEN + 1];
	int more;
};

static int
list_cb(const void *key, size_t keylen, const void *val, size_t vallen, void *arg)
{
	struct list_scan *l = arg;
	char id[ACME_ID_LEN + 1], url[ACME_MAX_URL];

	if (keylen != l->prefix_len + ACME_ID_LEN)
		return 0;
	if (l->count == ACME_ORDERS_PAGE) {
		l->more = 1;
		return 1;
	}
	memcpy(id, (const char *)key + l->prefix_len, ACME_ID_LEN);
	id[ACME_ID_LEN] = '\0';
	if (acme_url(url, sizeof(url), l->req->base_url, "order", id) == 0)
		cJSON_AddItemToArray(l->arr, cJSON_CreateString(url));
	memcpy(l->last, id, sizeof(l->last));
	l->count++;
	return 0;
}

void
acme_orders(struct acme *a, const struct acme_request *req,
    const char *account_id, struct acme_response *resp)
{
	struct list_scan l;
	struct acme_jws jws;
	struct store_txn *txn;
	cJSON *o = NULL;
	char prefix[64], after[64], url[ACME_MAX_URL];
	const char *cursor = NULL;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if (strcmp(jws.account_id, account_id) != 0) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "an account may only list its own orders");
		goto out;
	}
	if (req->query != NULL && strncmp(req->query, "cursor=", 7) == 0)
		cursor = req->query + 7;
	if (cursor != NULL && !acme_id_valid(cursor)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "bad cursor");
		goto out;
	}
	memset(&l, 0, sizeof(l));
	l.req = req;
	o = cJSON_CreateObject();
	l.arr = cJSON_AddArrayToObject(o, "orders");
	l.prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%s/", account_id);
	if (cursor != NULL)
		snprintf(after, sizeof(after), "%s/%s", account_id, cursor);
	if (store_read_begin(a->store, &txn) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "storage unavailable");
		goto out;
	}
	(void)store_scan(txn, STORE_T_ORDER_BY_ACCOUNT, prefix, l.prefix_len,
	    cursor != NULL ? after : NULL, cursor != NULL ? strlen(after) : 0,
	    list_cb, &l);
	store_read_end(txn);
	acme_respond_json(resp, 200, cJSON_PrintUnformatted(o));
	if (l.more && acme_url(url, sizeof(url), req->base_url, "orders",
	    account_id) == 0)
		acme_respond_header(resp, "Link", "<%s?cursor=%s>;rel=\"next\"", url, l.last);
out:
	cJSON_Delete(o);
	acme_jws_clear(&jws);
}

/* ---- finalize ---- */

/*
 * Finalization signs outside every store write: the ready order is
 * claimed, the signer signs with no store lock held, and a write stores
 * the certificate and makes the order valid. Each write callback only
 * reads and writes through its transaction, so running one twice never
 * signs twice.
 *
 * The claim: when replicas share the store, a first write marks the order
 * "processing" with a claim token; a claim left by a server that stopped
 * mid-way lapses after ACME_FINALIZE_STALE seconds and the order is ready
 * again. When this process alone serves the store (LMDB), the claim is the
 * order's id in a->finalizing, which costs no durable write; a stop
 * mid-way leaves the order ready, and the order reads "processing" while
 * the id is there.
 */
struct finalize {
	struct acme *a;
	struct crypto_signer *signer;   /* taken once: signs, dates and chains */
	const char *id;
	const char *account;
	const struct crypto_profile *profile;
	time_t now;
	char claim[ACME_ID_LEN + 1];
	/* filled by the claim */
	const char *status;
	struct crypto_name allowed[ACME_MAX_IDENTIFIERS];
	size_t n_allowed;
	time_t not_before, not_after;
	/* the signed certificate, for the commit */
	const struct crypto_leaf *leaf;
	int local;             /* claimed in a->finalizing, not in the store */
	int claimed;           /* the commit found the order still ours */
};

/* ---- claims in memory (a store no other process serves) ---- */

/* The slot of a->finalizing holding id ("": a free one), or -1. Holds
 * finalizing_lock. */
static int
finalizing_slot(const struct acme *a, const char *id)
{
	int i;

	for (i = 0; i < ACME_FINALIZING_MAX; i++)
		if (strcmp(a->finalizing[i], id) == 0)
			return i;
	return -1;
}

/* Puts id into a->finalizing: 1; 0 when it is there (a finalize of that
 * order is under way); -1 when the set is full. */
static int
finalizing_take(struct acme *a, const char *id)
{
	int ret = 0, slot;

	if (id[0] == '\0' || strlen(id) > ACME_ID_LEN_MAX)
		return -1;
	pthread_mutex_lock(&a->finalizing_lock);
	if (finalizing_slot(a, id) < 0) {
		if ((slot = finalizing_slot(a, "")) < 0)
			ret = -1;
		else {
			strcpy(a->finalizing[slot], id);
			ret = 1;
		}
	}
	pthread_mutex_unlock(&a->finalizing_lock);
	return ret;
}

static void
finalizing_drop(struct acme *a, const char *id)
{
	int i;

	pthread_mutex_lock(&a->finalizing_lock);
	if ((i = finalizing_slot(a, id)) >= 0)
		a->finalizing[i][0] = '\0';
	pthread_mutex_unlock(&a->finalizing_lock);
}

/* Whether this process is finalizing order id (claimed in memory). */
static int
finalizing(struct acme *a, const char *id)
{
	int found;

	if (a->shared)
		return 0;
	pthread_mutex_lock(&a->finalizing_lock);
	found = finalizing_slot(a, id) >= 0;
	pthread_mutex_unlock(&a->finalizing_lock);
	return found;
}

/* The CSR must name exactly the order's identifiers (RFC 8555 §7.4). */
static int
csr_matches(const cJSON *ord, const struct crypto_csr *csr, char *why, size_t whysz)
{
	const struct crypto_name *names;
	size_t n = crypto_csr_names(csr, &names), i, found;
	const cJSON *e;
	int count = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ord,
	    "identifiers"));

	for (i = 0; i < n; i++) {
		found = 0;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ord, "identifiers")) {
			const char *t = acme_json_str(e, "type"), *v = acme_json_str(e, "value");

			if (strcmp(v, names[i].value) == 0 &&
			    (strcmp(t, "ip") == 0) == (names[i].type == CRYPTO_NAME_IP))
				found = 1;
		}
		if (!found) {
			snprintf(why, whysz, "CSR names \"%s\", which is not in the order",
			    names[i].value);
			return 0;
		}
	}
	if ((int)n != count) {
		snprintf(why, whysz, "CSR names %zu identifiers, the order has %d",
		    n, count);
		return 0;
	}
	return 1;
}

/* The certificate an order replaced (RFC 9773) records its successor, so
 * it stays replaced after the replacing order itself is cleaned up. */
static int
mark_replaced(struct store_txn *txn, const char *replaces, const char *serial)
{
	struct acme_cert_id id;
	char why[128];
	cJSON *old;
	int ret = 0;

	if (replaces == NULL ||
	    acme_cert_id_parse(replaces, &id, why, sizeof(why)) != 0 ||
	    (old = acme_record_get(txn, STORE_T_CERTS, id.serial)) == NULL)
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(old, "replacedByCert") == NULL) {
		cJSON_AddStringToObject(old, "replacedByCert", serial);
		ret = acme_record_put(txn, STORE_T_CERTS, id.serial, old);
	}
	cJSON_Delete(old);
	return ret;
}

static int
cert_record(struct store_txn *txn, const struct finalize *f,
    const cJSON *ord, const struct crypto_leaf *leaf)
{
	struct acme_cert_rec r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.account = f->account;
	r.order = f->id;
	r.profile = f->profile->name;
	r.identifiers = cJSON_GetObjectItemCaseSensitive(ord, "identifiers");
	r.leaf = leaf;
	r.signer = f->signer;
	r.issued = f->now;
	if ((ret = acme_cert_rec_put(txn, &r)) == 0)
		ret = mark_replaced(txn, acme_json_str(ord, "replaces"),
		    leaf->serial);
	return ret;
}

/* What the certificate may carry and when it is valid, from the order. */
static void
claim_leaf_params(struct finalize *f, const cJSON *ord)
{
	const cJSON *e;

	f->n_allowed = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ord, "identifiers")) {
		if (f->n_allowed == ACME_MAX_IDENTIFIERS)
			break;
		f->allowed[f->n_allowed].type = strcmp(acme_json_str(e, "type"),
		    "ip") == 0 ? CRYPTO_NAME_IP : CRYPTO_NAME_DNS;
		snprintf(f->allowed[f->n_allowed].value,
		    sizeof(f->allowed[f->n_allowed].value), "%s",
		    acme_json_str(e, "value"));
		f->n_allowed++;
	}
	f->not_before = acme_json_time(ord, "notBefore") != 0 ?
	    acme_json_time(ord, "notBefore") : f->now - 60;
	f->not_after = acme_json_time(ord, "notAfter") != 0 ?
	    acme_json_time(ord, "notAfter") :
	    f->not_before + (time_t)f->profile->lifetime;
	/* Never past the intermediate: near its end, leaves get shorter. */
	if (f->not_after > crypto_signer_not_after(f->signer))
		f->not_after = crypto_signer_not_after(f->signer);
}

/* Write 1: a ready order becomes processing under our claim. Returns 1
 * (nothing written) when it is not ready. */
static int
claim_txn(struct store_txn *txn, void *arg)
{
	struct finalize *f = arg;
	cJSON *ord;
	int ret;

	if ((ord = acme_record_get(txn, STORE_T_ORDERS, f->id)) == NULL)
		return STORE_ERR_CORRUPT;
	f->status = acme_order_status(txn, ord, f->now, NULL);
	if (strcmp(f->status, "ready") != 0) {
		cJSON_Delete(ord);
		return 1;
	}
	claim_leaf_params(f, ord);
	cJSON_DeleteItemFromObjectCaseSensitive(ord, "status");
	cJSON_DeleteItemFromObjectCaseSensitive(ord, "claim");
	cJSON_DeleteItemFromObjectCaseSensitive(ord, "claimed");
	cJSON_AddStringToObject(ord, "status", "processing");
	cJSON_AddStringToObject(ord, "claim", f->claim);
	cJSON_AddNumberToObject(ord, "claimed", (double)f->now);
	ret = acme_record_put(txn, STORE_T_ORDERS, f->id, ord);
	cJSON_Delete(ord);
	return ret;
}

/* Nonzero when the order record still carries our claim. */
static int
claim_ours(const cJSON *ord, const struct finalize *f)
{
	const char *st = acme_json_str(ord, "status");
	const char *claim = acme_json_str(ord, "claim");

	return st != NULL && strcmp(st, "processing") == 0 && claim != NULL &&
	    strcmp(claim, f->claim) == 0;
}

/* The claim in memory: the order is read (no write) and must be ready.
 * 0; 1 when it is not ready; a STORE_* code. */
static int
claim_local(struct finalize *f)
{
	struct store_txn *txn;
	cJSON *ord;
	int ret;

	if ((ret = store_read_begin(f->a->store, &txn)) != 0)
		return ret;
	if ((ord = acme_record_get(txn, STORE_T_ORDERS, f->id)) == NULL)
		ret = STORE_ERR_CORRUPT;
	else {
		f->status = acme_order_status(txn, ord, f->now, NULL);
		if (strcmp(f->status, "ready") != 0)
			ret = 1;
		else
			claim_leaf_params(f, ord);
	}
	store_read_end(txn);
	cJSON_Delete(ord);
	return ret;
}

/* Write 2: the certificate is stored (always: a signed certificate is
 * never lost), and the order becomes valid when the claim is still ours
 * (in memory: when the order is still ready). */
static int
commit_txn(struct store_txn *txn, void *arg)
{
	struct finalize *f = arg;
	cJSON *ord;
	int ret;

	if ((ord = acme_record_get(txn, STORE_T_ORDERS, f->id)) == NULL)
		return STORE_ERR_CORRUPT;
	ret = cert_record(txn, f, ord, f->leaf);
	f->claimed = ret == 0 && (f->local ? strcmp(acme_order_status(txn, ord,
	    f->now, NULL), "ready") == 0 : claim_ours(ord, f));
	if (f->claimed) {
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "status");
		cJSON_AddStringToObject(ord, "status", "valid");
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "claim");
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "claimed");
		cJSON_AddStringToObject(ord, "cert", f->leaf->serial);
		ret = acme_record_put(txn, STORE_T_ORDERS, f->id, ord);
	}
	cJSON_Delete(ord);
	return ret;
}

/* Signing failed: the order is ready again (when still ours), so the
 * client may retry. */
static int
release_txn(struct store_txn *txn, void *arg)
{
	struct finalize *f = arg;
	cJSON *ord = acme_record_get(txn, STORE_T_ORDERS, f->id);
	int ret = 0;

	if (ord != NULL && claim_ours(ord, f)) {
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "status");
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "claim");
		cJSON_DeleteItemFromObjectCaseSensitive(ord, "claimed");
		ret = acme_record_put(txn, STORE_T_ORDERS, f->id, ord);
	}
	cJSON_Delete(ord);
	return ret;
}

/* Claims, signs with no store lock held, commits. 0, or a problem in
 * resp and -1. */
static int
finalize_issue(struct finalize *f, const struct crypto_csr *csr,
    struct acme_response *resp)
{
	struct crypto_leaf_params lp;
	struct crypto_leaf leaf;
	int ret, err;

	/* alone on the store, the claim is kept in memory (a full set falls
	 * back to the store's) */
	if (!f->a->shared && (f->local = finalizing_take(f->a, f->id)) == 0) {
		acme_respond_problem(resp, ACME_P_ORDER_NOT_READY, 0,
		    "order is processing, not ready");
		return -1;
	}
	f->local = f->local == 1;
	if (f->local)
		ret = claim_local(f);
	else if (acme_id_new(f->a, f->now, f->claim) != ACME_OK)
		ret = STORE_ERR_INTERNAL;
	else
		ret = store_write(f->a->store, claim_txn, f);
	if (ret < 0 || ret == 1) {
		if (f->local)
			finalizing_drop(f->a, f->id);
		if (ret < 0)
			acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
			    "could not claim the order");
		else
			acme_respond_problem(resp, ACME_P_ORDER_NOT_READY, 0,
			    "order is %s, not ready", f->status);
		return -1;
	}
	memset(&lp, 0, sizeof(lp));
	lp.allowed = f->allowed;
	lp.n_allowed = f->n_allowed;
	lp.not_before = f->not_before;
	lp.not_after = f->not_after;
	lp.profile = f->profile->name;   /* the signer takes KU and EKU from it */
	if ((err = crypto_signer_issue(f->signer, csr, &lp, &leaf)) != 0) {
		if (f->local)
			finalizing_drop(f->a, f->id);
		else
			(void)store_write(f->a->store, release_txn, f);
		ACME_COUNT(f->a, orders_finalize_failed);
		if (err == CRYPTO_ERR_UNAVAILABLE) {   /* being restarted */
			acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 503,
			    "the signer is restarting; retry shortly");
			acme_respond_header(resp, "Retry-After", "%d",
			    CRYPTO_SIGNER_TIMEOUT);
		} else
			acme_respond_problem(resp, ACME_P_BAD_CSR, 0,
			    "cannot issue: %s", crypto_strerror(err));
		return -1;
	}
	f->leaf = &leaf;
	ret = store_write(f->a->store, commit_txn, f);
	if (f->local)
		finalizing_drop(f->a, f->id);
	crypto_leaf_clear(&leaf);
	if (ret != 0 || !f->claimed) {
		ACME_COUNT(f->a, orders_finalize_failed);
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    ret != 0 ? "could not store the certificate" :
		    "the order was finalized concurrently");
		return -1;
	}
	ACME_COUNT(f->a, certs_issued);
	ACME_COUNT(f->a, orders_valid);
	return 0;
}

/* Decodes and checks the CSR of a finalize payload; NULL with resp set. */
static struct crypto_csr *
finalize_csr(const cJSON *payload, const cJSON *ord, const char *account_thumb,
    struct acme_response *resp)
{
	const char *b64 = acme_json_str(payload, "csr");
	uint8_t der[CRYPTO_MAX_CSR_BYTES];
	char thumb[CRYPTO_THUMBPRINT_LEN + 1], why[300];
	struct crypto_csr *csr;
	size_t len;
	int err;

	if (b64 == NULL || crypto_b64url_decode(b64, strlen(b64), der, sizeof(der),
	    &len) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "csr must be base64url DER of at most %d bytes", CRYPTO_MAX_CSR_BYTES);
		return NULL;
	}
	if ((csr = crypto_csr_parse_der(der, len, &err)) == NULL) {
		acme_respond_problem(resp, ACME_P_BAD_CSR, 0, "CSR refused: %s",
		    crypto_strerror(err));
		return NULL;
	}
	if (crypto_csr_key_thumbprint(csr, thumb) != CRYPTO_OK) {
		acme_respond_problem(resp, ACME_P_BAD_CSR, 0,
		    "the CSR's public key cannot be read");
		goto fail;
	}
	if (strcmp(thumb, account_thumb) == 0) {
		acme_respond_problem(resp, ACME_P_BAD_CSR, 0,
		    "the CSR's key is the account key; use a separate key");
		goto fail;
	}
	if (!csr_matches(ord, csr, why, sizeof(why))) {
		acme_respond_problem(resp, ACME_P_BAD_CSR, 0, "%s", why);
		goto fail;
	}
	return csr;
fail:
	crypto_csr_free(csr);
	return NULL;
}

void
acme_finalize(struct acme *a, const struct acme_request *req, const char *id,
    struct acme_response *resp)
{
	struct finalize f;
	struct acme_jws jws;
	struct crypto_csr *csr = NULL;
	cJSON *payload = NULL, *ord = NULL;
	struct store_txn *txn;

	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if ((ord = order_owned(a, id, jws.account_id, resp)) == NULL)
		goto out;
	if (store_read_begin(a->store, &txn) == 0) {
		const char *st = acme_order_status(txn, ord, req->now, NULL);

		store_read_end(txn);
		if (strcmp(st, "ready") != 0) {
			acme_respond_problem(resp, ACME_P_ORDER_NOT_READY, 0,
			    "order is %s, not ready", st);
			goto out;
		}
	}
	memset(&f, 0, sizeof(f));
	/* An order made before profiles has none: the default applies. */
	if ((f.profile = acme_profile_find(a, acme_json_str(ord, "profile"))) == NULL) {
		acme_respond_problem(resp, ACME_P_INVALID_PROFILE, 0,
		    "the order's profile is no longer offered; place a new order");
		goto out;
	}
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL ||
	    (csr = finalize_csr(payload, ord, jws.thumbprint, resp)) == NULL)
		goto out;
	f.a = a;
	f.signer = atomic_load_explicit(&a->signer, memory_order_acquire);
	f.id = id;
	f.account = jws.account_id;
	f.now = req->now;
	if (finalize_issue(&f, csr, resp) == 0)
		respond_order(a, req, id, 200, resp);
out:
	crypto_csr_free(csr);
	cJSON_Delete(ord);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}
