/*
 * acme.c: the acme handle and the request router. Each request is matched to
 * its resource here and handed to the function that owns it; the headers
 * every ACME response carries (Replay-Nonce, Link rel="index") are added in
 * one place.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "crypto.h"
#include "store.h"

/*
 * What a handle shares with other processes through the store: its id in
 * validation leases, and, when replicas share the store, the nonce key and
 * the rate counters. Fills the validations index of an older store once.
 */
static int
acme_share(struct acme *a, const struct acme_config *cfg)
{
	uint8_t d[32];

	if (cfg->replica_name != NULL) {
		crypto_sha256(cfg->replica_name, strlen(cfg->replica_name), d);
		a->replica = acme_be64_get(d);
	} else if (a->cfg.random(&a->replica, sizeof(a->replica)) != 0)
		return ACME_ERR_INTERNAL;
	if (a->replica == 0)
		a->replica = 1;     /* 0 is nobody */
	a->cfg.replica_name = NULL;
	if (a->store == NULL)
		return ACME_OK;
	a->shared = cfg->shared || store_shared(a->store);
	if (acme_validations_index(a->store) != 0)
		return ACME_ERR_INTERNAL;
	if (!a->shared)
		return ACME_OK;
	if (acme_nonces_share(&a->nonces, a->store) != 0)
		return ACME_ERR_INTERNAL;
	acme_limiter_share(&a->limits, a->store);
	return ACME_OK;
}

struct acme *
acme_new(const struct acme_config *cfg, struct store *st,
    struct crypto_signer *signer, int *err)
{
	struct acme *a;
	struct acme_settings *settings;
	int ret = ACME_ERR_NOMEM;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto out;
	a->cfg = *cfg;
	if (a->cfg.random == NULL)
		a->cfg.random = crypto_random;
	/* What a reload may change lives in the settings alone. */
	a->cfg.policy = NULL;
	a->cfg.profiles = NULL;
	a->cfg.n_profiles = 0;
	if ((settings = acme_settings_new(cfg, &ret)) == NULL)
		goto fail;
	atomic_store(&a->settings, settings);
	if (a->cfg.max_body == 0)
		a->cfg.max_body = ACME_MAX_BODY;
	if (a->cfg.retention == 0)
		a->cfg.retention = ACME_RETENTION;
	a->store = st;
	atomic_store(&a->signer, signer);
	if ((ret = acme_nonces_init(&a->nonces, a->cfg.random)) != ACME_OK)
		goto fail;
	if ((ret = acme_limiter_init(&a->limits, &cfg->limits,
	    a->cfg.random)) != ACME_OK) {
		acme_nonces_fini(&a->nonces);
		goto fail;
	}
	ret = ACME_ERR_NOMEM;
	if ((a->queue = calloc(ACME_QUEUE_MAX, sizeof(*a->queue))) == NULL ||
	    (a->owners = calloc(ACME_QUEUE_OWNERS, sizeof(*a->owners))) == NULL ||
	    acme_keycache_init(&a->keys) != ACME_OK ||
	    acme_claims_init(a) != ACME_OK) {
		acme_claims_fini(a);
		acme_keycache_fini(&a->keys);
		free(a->owners);
		free(a->queue);
		acme_limiter_fini(&a->limits);
		acme_nonces_fini(&a->nonces);
		goto fail;
	}
	pthread_mutex_init(&a->queue_lock, NULL);
	pthread_mutex_init(&a->cleanup_lock, NULL);
	pthread_mutex_init(&a->reload_lock, NULL);
	pthread_mutex_init(&a->finalizing_lock, NULL);
	if ((ret = acme_share(a, cfg)) != ACME_OK) {
		acme_free(a);
		a = NULL;
		goto out;
	}
	ret = ACME_OK;
	goto out;
fail:
	if (a != NULL)
		acme_settings_free(a->settings);
	free(a);
	a = NULL;
out:
	if (err != NULL)
		*err = ret;
	return a;
}

void
acme_free(struct acme *a)
{
	if (a == NULL)
		return;
	acme_nonces_fini(&a->nonces);
	acme_limiter_fini(&a->limits);
	acme_keycache_fini(&a->keys);
	acme_claims_fini(a);
	pthread_mutex_destroy(&a->queue_lock);
	pthread_mutex_destroy(&a->cleanup_lock);
	pthread_mutex_destroy(&a->reload_lock);
	pthread_mutex_destroy(&a->finalizing_lock);
	acme_settings_free(a->settings);
	acme_settings_free(a->retired);
	free(a->owners);
	free(a->queue);
	free(a);
}

/* Whether the request's source may take another nonce: the window is
 * shared, and a source over its rate would push out other clients' nonces
 * (docs/limits.md). 0 when it may; else 1 with *retry. */
static int
nonce_limited(struct acme *a, const struct acme_request *req, long *retry)
{
	char src[64];

	*retry = 0;
	if (acme_limit_source(req->peer, src, sizeof(src)) != 0)
		return 0;
	return acme_limit_take(&a->limits, ACME_LIMIT_NONCES, src, req->now, retry);
}

/* Adds a fresh Replay-Nonce (RFC 8555 §6.5), unless the source has taken
 * its share: then the client learns why from newNonce. */
static void
add_nonce(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	char nonce[ACME_NONCE_LEN + 1];
	long retry;

	if (nonce_limited(a, req, &retry))
		return;
	if (acme_nonce_issue(&a->nonces, req->now, nonce) == ACME_OK)
		acme_respond_header(resp, "Replay-Nonce", "%s", nonce);
}

/* newNonce (RFC 8555 §7.2): HEAD answers 200, GET 204, neither cached. */
static void
handle_new_nonce(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	char nonce[ACME_NONCE_LEN + 1];
	long retry;

	if (strcmp(req->method, "HEAD") != 0 && strcmp(req->method, "GET") != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 405,
		    "newNonce accepts only HEAD and GET");
		acme_respond_header(resp, "Allow", "HEAD, GET");
		return;
	}
	if (nonce_limited(a, req, &retry)) {
		acme_respond_limited(resp, retry, "limit of nonces per source "
		    "address reached (%u per %ld s)", acme_settings(a)->limits.nonces.count,
		    acme_settings(a)->limits.nonces.period);
		return;
	}
	resp->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
	if (acme_nonce_issue(&a->nonces, req->now, nonce) == ACME_OK)
		acme_respond_header(resp, "Replay-Nonce", "%s", nonce);
	acme_respond_header(resp, "Cache-Control", "no-store");
}

static void
handle_directory(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	char *json;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 405,
		    "the directory accepts only GET");
		acme_respond_header(resp, "Allow", "GET, HEAD");
		return;
	}
	if ((json = acme_directory_json(a, req->base_url)) == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0,
		    "could not build the directory");
		return;
	}
	acme_respond_json(resp, 200, json);
}

/* renewalInfo (RFC 9773 §4): a plain GET of renewalInfo "/" certID. */
static void
handle_renewal_info(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	const char *id = req->path + strlen(ACME_PATH_RENEWAL_INFO);

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 405,
		    "renewalInfo accepts only GET");
		acme_respond_header(resp, "Allow", "GET, HEAD");
		return;
	}
	if (*id != '/' || id[1] == '\0') {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "renewalInfo needs a certificate identifier: renewalInfo/<certID>");
		return;
	}
	acme_renewal_info(a, req, id + 1, resp);
}

/* Nonzero when path is the renewalInfo resource or below it. */
static int
is_renewal_info(const char *path)
{
	size_t n = strlen(ACME_PATH_RENEWAL_INFO);

	return strncmp(path, ACME_PATH_RENEWAL_INFO, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* Resources named by a path prefix and an id. */
static const struct {
	const char *prefix;
	void (*fn)(struct acme *, const struct acme_request *, const char *,
	    struct acme_response *);
} id_routes[] = {
	{ "/acme/account/", acme_account },
	{ "/acme/orders/", acme_orders },
	{ "/acme/order/", acme_order },
	{ "/acme/authz/", acme_authz },
	{ "/acme/chall/", acme_challenge },
	{ "/acme/cert/", acme_certificate },
	{ "/acme/finalize/", acme_finalize },
};

static const struct {
	const char *path;
	void (*fn)(struct acme *, const struct acme_request *,
	    struct acme_response *);
} fixed_routes[] = {
	{ ACME_PATH_NEW_ACCOUNT, acme_new_account },
	{ ACME_PATH_NEW_ORDER, acme_new_order },
	{ ACME_PATH_NEW_AUTHZ, acme_new_authz },
	{ ACME_PATH_REVOKE_CERT, acme_revoke },
	{ ACME_PATH_KEY_CHANGE, acme_key_change },
};

/* Dispatches a POST resource; 0 when the path named none. */
static int
route_post(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	size_t i, n;

	for (i = 0; i < sizeof(fixed_routes) / sizeof(fixed_routes[0]); i++) {
		if (strcmp(req->path, fixed_routes[i].path) == 0) {
			fixed_routes[i].fn(a, req, resp);
			return 1;
		}
	}
	for (i = 0; i < sizeof(id_routes) / sizeof(id_routes[0]); i++) {
		n = strlen(id_routes[i].prefix);
		if (strncmp(req->path, id_routes[i].prefix, n) == 0 &&
		    strchr(req->path + n, '/') == NULL && req->path[n] != '\0' &&
		    strlen(req->path + n) <= 64) {
			id_routes[i].fn(a, req, req->path + n, resp);
			return 1;
		}
	}
	return 0;
}

static int
route_exists(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(fixed_routes) / sizeof(fixed_routes[0]); i++)
		if (strcmp(path, fixed_routes[i].path) == 0)
			return 1;
	for (i = 0; i < sizeof(id_routes) / sizeof(id_routes[0]); i++)
		if (strncmp(path, id_routes[i].prefix, strlen(id_routes[i].prefix)) == 0)
			return 1;
	return 0;
}

/* acme_route_of()'s numbers: the fixed paths in their order, then the
 * paths with an id in id_routes' order. */
enum {
	ROUTE_RENEWAL_INFO = 7, ROUTE_ACCOUNT, ROUTE_ORDERS, ROUTE_ORDER,
	ROUTE_AUTHZ, ROUTE_CHALLENGE, ROUTE_CERT, ROUTE_FINALIZE,
	ROUTE_OTHER,
};
_Static_assert(ROUTE_OTHER == ACME_ROUTES - 1, "route numbers");
_Static_assert(sizeof(id_routes) / sizeof(id_routes[0]) ==
    ROUTE_OTHER - ROUTE_ACCOUNT, "a route number per path with an id");

static const char *const route_names[ACME_ROUTES] = {
	"directory", "new-nonce", "new-account", "new-order", "new-authz",
	"revoke-cert", "key-change", "renewal-info", "account", "orders",
	"order", "authz", "challenge", "cert", "finalize", "other",
};

const char *
acme_route_name(int route)
{
	if (route < 0 || route >= ACME_ROUTES)
		route = ACME_ROUTES - 1;
	return route_names[route];
}

int
acme_route_of(const char *path)
{
	static const char *const fixed[] = { ACME_PATH_DIRECTORY,
	    ACME_PATH_NEW_NONCE, ACME_PATH_NEW_ACCOUNT, ACME_PATH_NEW_ORDER,
	    ACME_PATH_NEW_AUTHZ, ACME_PATH_REVOKE_CERT, ACME_PATH_KEY_CHANGE };
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(path, fixed[i]) == 0)
			return (int)i;
	if (is_renewal_info(path))
		return ROUTE_RENEWAL_INFO;
	for (i = 0; i < sizeof(id_routes) / sizeof(id_routes[0]); i++)
		if (strncmp(path, id_routes[i].prefix, strlen(id_routes[i].prefix)) == 0)
			return ROUTE_ACCOUNT + (int)i;
	return ROUTE_OTHER;
}

/* The request router; acme_handle() brackets it with the settings' epoch. */
static void
handle(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (strcmp(req->path, ACME_PATH_DIRECTORY) == 0) {
		handle_directory(a, req, resp);
		return;
	}
	if (strcmp(req->path, ACME_PATH_NEW_NONCE) == 0) {
		handle_new_nonce(a, req, resp);
	} else if (is_renewal_info(req->path)) {
		handle_renewal_info(a, req, resp);
	} else if (strcmp(req->method, "POST") == 0) {
		if (!route_post(a, req, resp))
			acme_respond_problem(resp, ACME_P_MALFORMED, 404,
			    "no ACME resource at this path");
		/* RFC 8555 §6.5: every response to a POST carries a nonce, so
		 * a client can retry after badNonce. */
		add_nonce(a, req, resp);
	} else if (route_exists(req->path)) {
		/* RFC 8555 §6.3: resources are read with POST-as-GET. */
		acme_respond_problem(resp, ACME_P_MALFORMED, 405,
		    "use POST-as-GET (a signed POST with an empty payload)");
		acme_respond_header(resp, "Allow", "POST");
	} else {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "no ACME resource at this path");
		return;
	}
	acme_respond_header(resp, "Link", "<%s%s>;rel=\"index\"", req->base_url,
	    ACME_PATH_DIRECTORY);
}

/* Whether the body is a flattened JWS whose payload is empty (RFC 8555
 * §6.3, POST-as-GET); anything else counts as a change. */
static int
post_as_get(const struct acme_request *req)
{
	cJSON *jws;
	const cJSON *payload;
	int empty;

	if (req->body == NULL || req->body_len == 0 ||
	    (jws = cJSON_ParseWithLength((const char *)req->body,
	    req->body_len)) == NULL)
		return 0;
	payload = cJSON_GetObjectItemCaseSensitive(jws, "payload");
	empty = cJSON_IsString(payload) && payload->valuestring[0] == '\0';
	cJSON_Delete(jws);
	return empty;
}

int
acme_request_waits(const struct acme *a, const struct acme_request *req)
{
	if (req->method == NULL || strcmp(req->method, "POST") != 0)
		return 0;
	if (a->shared)
		return 1;
	switch (acme_route_of(req->path)) {
	case ROUTE_CHALLENGE:   /* a validation claimed in memory: no write */
		return !acme_claim_local(a) && !post_as_get(req);
	case ROUTE_ACCOUNT: case ROUTE_ORDERS: case ROUTE_ORDER:
	case ROUTE_AUTHZ: case ROUTE_CERT:
		return !post_as_get(req);
	case ROUTE_OTHER:
		return 0;       /* no such resource */
	default:
		return 1;
	}
}

void
acme_handle(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	unsigned slot = acme_enter(a);
	uint64_t failures = store_thread_io_failures();

	handle(a, req, resp);
	acme_leave(a, slot);
	/* The store was unreachable while this request ran: whatever it led
	 * to (a 500, or a record that seemed absent), say so, once, here. */
	if (resp->status >= 400 && store_thread_io_failures() != failures)
		acme_respond_unavailable(resp);
	/* only a read of one's own object (200) may wait */
	if (resp->status != 200 || resp->wait.account[0] == '\0')
		memset(&resp->wait, 0, sizeof(resp->wait));
}

void
acme_stats(const struct acme *a, struct acme_stats *out)
{
	struct acme_counters *c = (struct acme_counters *)&a->counters;

	memset(out, 0, sizeof(*out));
	out->orders_created = atomic_load_explicit(&c->orders_created,
	    memory_order_relaxed);
	out->orders_valid = atomic_load_explicit(&c->orders_valid,
	    memory_order_relaxed);
	out->orders_finalize_failed = atomic_load_explicit(
	    &c->orders_finalize_failed, memory_order_relaxed);
	out->authzs_valid = atomic_load_explicit(&c->authzs_valid,
	    memory_order_relaxed);
	out->authzs_invalid = atomic_load_explicit(&c->authzs_invalid,
	    memory_order_relaxed);
	out->certs_issued = atomic_load_explicit(&c->certs_issued,
	    memory_order_relaxed);
}
