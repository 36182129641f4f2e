/*
 * account.c: accounts (RFC 8555 §7.3): creation and lookup by key, the
 * account resource (read, contact update, deactivation) and key rollover.
 * An account record holds its status, contacts, public key (canonical JWK)
 * and the key's thumbprint, which indexes it in STORE_T_ACCOUNT_BY_KEY;
 * one created with an external account key also what eab.c adds.
 */
#include "acme_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "store.h"

/* A mailto: URL with one plausible address (RFC 8555 §7.3, RFC 6068). */
static int
contact_ok(const char *c, const char **why)
{
	const char *addr, *at, *p;

	if (strncasecmp(c, "mailto:", 7) != 0) {
		*why = "only mailto: contacts are supported";
		return -1;
	}
	addr = c + 7;
	at = strchr(addr, '@');
	if (strlen(c) > ACME_MAX_CONTACT_LEN || at == NULL || at == addr ||
	    strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL ||
	    at[1] == '.' || addr[strlen(addr) - 1] == '.') {
		*why = "not a plausible email address";
		return -1;
	}
	for (p = addr; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr(",?<>()[]\\\";:", *p) != NULL) {
			*why = "email address has characters not allowed (hfields and "
			    "several addresses are not accepted)";
			return -1;
		}
	}
	return 0;
}

/* Checks a "contact" member; returns a copy to store, or NULL with resp set. */
static cJSON *
contacts_check(const cJSON *contact, struct acme_response *resp)
{
	const cJSON *c;
	const char *why;

	if (!cJSON_IsArray(contact)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0, "contact must be an array");
		return NULL;
	}
	if (cJSON_GetArraySize(contact) > ACME_MAX_CONTACTS) {
		acme_respond_problem(resp, ACME_P_INVALID_CONTACT, 0,
		    "at most %d contacts", ACME_MAX_CONTACTS);
		return NULL;
	}
	cJSON_ArrayForEach(c, contact) {
		if (!cJSON_IsString(c)) {
			acme_respond_problem(resp, ACME_P_MALFORMED, 0,
			    "contact entries must be strings");
			return NULL;
		}
		if (contact_ok(c->valuestring, &why) != 0) {
			acme_respond_problem(resp, strncasecmp(c->valuestring, "mailto:", 7)
			    == 0 ? ACME_P_INVALID_CONTACT : ACME_P_UNSUPPORTED_CONTACT, 0,
			    "contact \"%.80s\": %s", c->valuestring, why);
			return NULL;
		}
	}
	return cJSON_Duplicate(contact, 1);
}

/* RFC 8555 §7.3.4: the account object carries the binding as it was sent. */
static int
account_add_binding(cJSON *o, const cJSON *acct)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(acct,
	    "externalAccountBinding");

	if (b == NULL)
		return 0;
	return cJSON_AddItemToObject(o, "externalAccountBinding",
	    cJSON_Duplicate(b, 1)) ? 0 : -1;
}

/* The account object a client sees (RFC 8555 §7.1.2). */
static void
respond_account(const struct acme_request *req, const char *id,
    const cJSON *acct, int status, struct acme_response *resp)
{
	cJSON *o = cJSON_CreateObject();
	char url[ACME_MAX_URL], orders[ACME_MAX_URL], created[32];
	const cJSON *contact = cJSON_GetObjectItemCaseSensitive(acct, "contact");

	acme_url(orders, sizeof(orders), req->base_url, "orders", id);
	acme_time_format(acme_json_time(acct, "created"), created, sizeof(created));
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "status", acme_json_str(acct, "status")) == NULL ||
	    !cJSON_AddItemToObject(o, "contact", contact != NULL ?
	    cJSON_Duplicate(contact, 1) : cJSON_CreateArray()) ||
	    cJSON_AddStringToObject(o, "orders", orders) == NULL ||
	    !cJSON_AddItemToObject(o, "key", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(acct, "key"), 1)) ||
	    cJSON_AddStringToObject(o, "createdAt", created) == NULL ||
	    account_add_binding(o, acct) != 0) {
		cJSON_Delete(o);
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		return;
	}
	acme_respond_json(resp, status, cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
	if (acme_account_url(req, id, url, sizeof(url)) == 0)
		acme_respond_header(resp, "Location", "%s", url);
}

/* Looks a thumbprint up; 0 and id filled when found, STORE_NOTFOUND else. */
static int
account_by_key(struct store_txn *txn, const char *thumb, char id[ACME_ID_LEN + 1])
{
	const void *v;
	size_t n;
	int ret = store_get(txn, STORE_T_ACCOUNT_BY_KEY, thumb, strlen(thumb), &v, &n);

	if (ret != 0)
		return ret;
	if (n != ACME_ID_LEN)
		return STORE_ERR_CORRUPT;
	memcpy(id, v, ACME_ID_LEN);
	id[ACME_ID_LEN] = '\0';
	return 0;
}

struct new_account {
	struct acme *a;
	const struct acme_jws *jws;
	cJSON *contact;
	int only_existing;
	struct acme_eab eab;         /* the verified binding, when present */
	const cJSON *binding;        /* the binding as sent */
	time_t now;
	const char *source;          /* the source's limit key, or NULL */
	char new_id[ACME_ID_LEN + 1]; /* drawn before the write: a re-run of
	                                 the callback uses the same id */
	/* out */
	char id[ACME_ID_LEN + 1];
	cJSON *record;
	int existed;
	long limited;                /* seconds to wait: over the source's rate */
	long over;                   /* the same, looked up before the write:
	                                applies only if the key is new */
	enum acme_eab_refusal refusal;
};

/* The record of a new account with the request's key (no id yet). */
static cJSON *
account_record(const struct new_account *n)
{
	cJSON *rec, *key;
	char *keyjson = crypto_jwk_to_json(n->jws->jwk);

	key = keyjson != NULL ? cJSON_Parse(keyjson) : NULL;
	free(keyjson);
	if (key == NULL || (rec = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(key);
		return NULL;
	}
	cJSON_AddStringToObject(rec, "status", "valid");
	cJSON_AddItemToObject(rec, "contact", n->contact != NULL ?
	    cJSON_Duplicate(n->contact, 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(rec, "key", key);
	cJSON_AddStringToObject(rec, "thumbprint", n->jws->thumbprint);
	cJSON_AddNumberToObject(rec, "created", (double)n->now);
	return rec;
}

/* Finds the account of the key, or creates it; an account is only created
 * with a usable external account key when one was sent or is required
 * (RFC 8555 §7.3.4). Returns 1 (nothing written) for lookups and refusals. */
static int
new_account_txn(struct store_txn *txn, void *arg)
{
	struct new_account *n = arg;
	int ret;

	cJSON_Delete(n->record);
	n->record = NULL;
	n->existed = 0;
	n->refusal = ACME_EAB_OK;
	n->limited = 0;
	if ((ret = account_by_key(txn, n->jws->thumbprint, n->id)) == 0) {
		n->existed = 1;
		ret = acme_record_load(txn, STORE_T_ACCOUNTS, n->id, &n->record);
		return ret == 0 ? 1 : ret;  /* 1: nothing to write */
	}
	if (ret != STORE_NOTFOUND)
		return ret;
	if (n->only_existing)
		return 1;
	if (!n->eab.present && acme_settings(n->a)->eab_required) {
		n->refusal = ACME_EAB_MISSING;
		return 1;
	}
	/* Only creation counts: a known key is found however often. The rate
	 * was looked up before this write (a shared limiter is a store write
	 * of its own, which a write callback may not start). */
	if (n->over != 0) {
		n->limited = n->over;
		return 1;
	}
	memcpy(n->id, n->new_id, sizeof(n->id));
	if ((n->record = account_record(n)) == NULL)
		return STORE_ERR_NOMEM;
	if (n->eab.present && (ret = acme_eab_bind(txn, n->eab.kid, n->id,
	    n->binding, n->now, n->record)) != 0) {
		if (ret > 0) {
			n->refusal = (enum acme_eab_refusal)ret;
			ret = 1;
		}
		cJSON_Delete(n->record);
		n->record = NULL;
		return ret;
	}
	if ((ret = acme_record_put(txn, STORE_T_ACCOUNTS, n->id, n->record)) != 0)
		return ret;
	return store_put(txn, STORE_T_ACCOUNT_BY_KEY, n->jws->thumbprint,
	    strlen(n->jws->thumbprint), n->id, ACME_ID_LEN, STORE_PUT_NEW);
}

/* newAccount (RFC 8555 §7.3, §7.3.1). */
void
acme_new_account(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	struct new_account n;
	struct acme_jws jws;
	cJSON *payload = NULL, *v;
	char url[ACME_MAX_URL], src[64];
	int ret;

	memset(&n, 0, sizeof(n));
	if (acme_jws_verify(a, req, ACME_KEY_JWK, &jws, resp) != 0)
		return;
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(payload, "contact");
	if (v != NULL && (n.contact = contacts_check(v, resp)) == NULL)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(payload, "onlyReturnExisting");
	if (v != NULL && !cJSON_IsBool(v)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "onlyReturnExisting must be a boolean");
		goto out;
	}
	n.only_existing = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(payload, "termsOfServiceAgreed");
	if (v != NULL && !cJSON_IsBool(v)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "termsOfServiceAgreed must be a boolean");
		goto out;
	}
	if (acme_request_url(req, url, sizeof(url)) != 0 ||
	    acme_eab_verify(a, payload, url, &jws, &n.eab, resp) != 0)
		goto out;
	n.binding = cJSON_GetObjectItemCaseSensitive(payload,
	    "externalAccountBinding");
	n.a = a;
	n.jws = &jws;
	n.now = req->now;
	n.source = acme_limit_source(req->peer, src, sizeof(src)) == 0 ? src : NULL;
	n.over = 0;
	(void)acme_limit_peek(&a->limits, ACME_LIMIT_ACCOUNTS, n.source, n.now,
	    &n.over);
	if ((ret = acme_id_new(a, n.now, n.new_id)) == ACME_OK)
		ret = store_write(a->store, new_account_txn, &n);
	if (ret == 0 && !n.existed && n.source != NULL)
		acme_limit_charge(&a->limits, ACME_LIMIT_ACCOUNTS, n.source, n.now);
	if (ret < 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not store the account");
	} else if (n.limited != 0) {
		acme_respond_limited(resp, n.limited, "limit of new accounts per "
		    "source address reached for %s (%u per %ld s)", src,
		    acme_settings(a)->limits.accounts.count,
		    acme_settings(a)->limits.accounts.period);
	} else if (n.refusal != ACME_EAB_OK) {
		acme_eab_refused(n.refusal, n.eab.kid, resp);
	} else if (n.record == NULL) {
		acme_respond_problem(resp, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
		    "no account exists with this key");
	} else if (strcmp(acme_json_str(n.record, "status"), "valid") != 0) {
		/* RFC 8555 §7.3.6: a deactivated account's key is refused */
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 401,
		    "the account with this key is deactivated");
	} else {
		respond_account(req, n.id, n.record, n.existed ? 200 : 201, resp);
	}
out:
	cJSON_Delete(n.record);
	cJSON_Delete(n.contact);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}

struct account_update {
	const char *id;
	cJSON *contact;            /* new contacts, or NULL */
	int deactivate;
	cJSON *record;             /* out */
};

static int
account_update_txn(struct store_txn *txn, void *arg)
{
	struct account_update *u = arg;

	int ret;

	cJSON_Delete(u->record);
	if ((ret = acme_record_load(txn, STORE_T_ACCOUNTS, u->id, &u->record)) != 0)
		return ret;
	if (u->contact != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(u->record, "contact",
		    cJSON_Duplicate(u->contact, 1));
	if (u->deactivate)
		cJSON_ReplaceItemInObjectCaseSensitive(u->record, "status",
		    cJSON_CreateString("deactivated"));
	return acme_record_put(txn, STORE_T_ACCOUNTS, u->id, u->record);
}

/* The account resource (RFC 8555 §7.3.2, §7.3.6). */
void
acme_account(struct acme *a, const struct acme_request *req, const char *id,
    struct acme_response *resp)
{
	struct account_update u;
	struct acme_jws jws;
	cJSON *payload = NULL, *status;

	memset(&u, 0, sizeof(u));
	if (acme_jws_verify(a, req, ACME_KEY_KID, &jws, resp) != 0)
		return;
	if (strcmp(jws.account_id, id) != 0) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "an account may only read or change itself");
		goto out;
	}
	if (jws.payload_len == 0) {
		respond_account(req, id, jws.account, 200, resp);
		goto out;
	}
	if ((payload = acme_jws_payload_object(&jws, resp)) == NULL)
		goto out;
	status = cJSON_GetObjectItemCaseSensitive(payload, "status");
	/* Clients that send the whole account back (python-acme's
	 * update_registration) repeat its status: that changes nothing. */
	if (status != NULL && !(cJSON_IsString(status) &&
	    strcmp(status->valuestring, "valid") == 0)) {
		if (!cJSON_IsString(status) ||
		    strcmp(status->valuestring, "deactivated") != 0) {
			acme_respond_problem(resp, ACME_P_MALFORMED, 0,
			    "the only status a client may set is \"deactivated\"");
			goto out;
		}
		u.deactivate = 1;
	}
	if (cJSON_GetObjectItemCaseSensitive(payload, "contact") != NULL &&
	    (u.contact = contacts_check(cJSON_GetObjectItemCaseSensitive(payload,
	    "contact"), resp)) == NULL)
		goto out;
	u.id = id;
	if (store_write(a->store, account_update_txn, &u) != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not update the account");
		goto out;
	}
	if (u.deactivate)
		acme_keycache_drop(&a->keys, id);
	respond_account(req, id, u.record, 200, resp);
out:
	cJSON_Delete(u.record);
	cJSON_Delete(u.contact);
	cJSON_Delete(payload);
	acme_jws_clear(&jws);
}

/* Why key_change_txn wrote nothing (positive: not a store failure). */
enum key_change_refusal {
	KEY_CHANGE_TAKEN = 1,         /* another account holds the new key */
	KEY_CHANGE_STALE,             /* the key changed since verification */
};

struct key_change {
	const char *id;
	const struct acme_jws *inner;
	const char *old_thumb;
	char other[ACME_ID_LEN + 1];  /* out: account already holding the key */
	cJSON *record;                /* out: the account as written */
};

static int
key_change_txn(struct store_txn *txn, void *arg)
{
	struct key_change *k = arg;
	cJSON *rec, *key;
	char *keyjson;
	int ret;

	cJSON_Delete(k->record);
	k->record = NULL;
	if ((ret = account_by_key(txn, k->inner->thumbprint, k->other)) == 0)
		return KEY_CHANGE_TAKEN;
	if (ret != STORE_NOTFOUND)
		return ret;
	if ((ret = acme_record_load(txn, STORE_T_ACCOUNTS, k->id, &rec)) != 0)
		return ret;
	k->record = rec;
	/* The key may have changed since the request was verified. */
	if (acme_json_str(rec, "thumbprint") == NULL ||
	    strcmp(acme_json_str(rec, "thumbprint"), k->old_thumb) != 0)
		return KEY_CHANGE_STALE;
	keyjson = crypto_jwk_to_json(k->inner->jwk);
	key = keyjson != NULL ? cJSON_Parse(keyjson) : NULL;
	free(keyjson);
	if (key == NULL)
		return STORE_ERR_NOMEM;
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "key", key);
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "thumbprint",
	    cJSON_CreateString(k->inner->thumbprint));
	ret = acme_record_put(txn, STORE_T_ACCOUNTS, k->id, rec);
	if (ret == 0)
		ret = store_del(txn, STORE_T_ACCOUNT_BY_KEY, k->old_thumb,
		    strlen(k->old_thumb));
	if (ret == 0)
		ret = store_put(txn, STORE_T_ACCOUNT_BY_KEY, k->inner->thumbprint,
		    strlen(k->inner->thumbprint), k->id, ACME_ID_LEN, STORE_PUT_NEW);
	return ret;
}

/* Checks the inner payload {"account", "oldKey"} of keyChange. */
static int
key_change_payload(const struct acme_request *req, const struct acme_jws *outer,
    const struct acme_jws *inner, struct acme_response *resp)
{
	cJSON *p = acme_jws_payload_object(inner, resp);
	const cJSON *old;
	struct crypto_jwk *oldkey = NULL;
	char url[ACME_MAX_URL], *text = NULL, thumb[CRYPTO_THUMBPRINT_LEN + 1];
	int ret = -1;

	if (p == NULL)
		return -1;
	acme_account_url(req, outer->account_id, url, sizeof(url));
	if (acme_json_str(p, "account") == NULL ||
	    strcmp(acme_json_str(p, "account"), url) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "inner payload's account is not the signing account");
		goto out;
	}
	old = cJSON_GetObjectItemCaseSensitive(p, "oldKey");
	if (cJSON_IsObject(old) && (text = cJSON_PrintUnformatted(old)) != NULL)
		oldkey = crypto_jwk_parse(text, strlen(text), NULL);
	if (oldkey == NULL || crypto_jwk_thumbprint(oldkey, thumb) != CRYPTO_OK ||
	    strcmp(thumb, outer->thumbprint) != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "oldKey is not the account's current key");
		goto out;
	}
	ret = 0;
out:
	crypto_jwk_free(oldkey);
	free(text);
	cJSON_Delete(p);
	return ret;
}

/* keyChange (RFC 8555 §7.3.5). */
void
acme_key_change(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	struct acme_jws outer, inner;
	struct key_change k;
	char url[ACME_MAX_URL];
	int ret;

	memset(&inner, 0, sizeof(inner));
	if (acme_jws_verify(a, req, ACME_KEY_KID, &outer, resp) != 0)
		return;
	acme_request_url(req, url, sizeof(url));
	if (acme_jws_verify_inner(outer.payload, outer.payload_len, url, &inner,
	    resp) != 0)
		goto out;
	if (key_change_payload(req, &outer, &inner, resp) != 0)
		goto out;
	memset(&k, 0, sizeof(k));
	k.id = outer.account_id;
	k.inner = &inner;
	k.old_thumb = outer.thumbprint;
	ret = store_write(a->store, key_change_txn, &k);
	if (ret == 0)
		acme_keycache_drop(&a->keys, outer.account_id);
	if (ret == KEY_CHANGE_TAKEN) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 409,
		    "the new key is already in use by another account");
		if (acme_account_url(req, k.other, url, sizeof(url)) == 0)
			acme_respond_header(resp, "Location", "%s", url);
	} else if (ret == KEY_CHANGE_STALE) {
		acme_respond_problem(resp, ACME_P_UNAUTHORIZED, 0,
		    "the account key changed while this request was in flight");
	} else if (ret != 0) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not change the key");
	} else {
		respond_account(req, outer.account_id, k.record, 200, resp);
	}
	cJSON_Delete(k.record);
out:
	acme_jws_clear(&inner);
	acme_jws_clear(&outer);
}
