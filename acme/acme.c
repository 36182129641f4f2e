/*
 * acme.c: the acme handle and the request router. Each request is matched to
 * its resource here and handed to the function that owns it; the headers
 * every ACME response carries (Replay-Nonce, Link rel="index") are added in
 * one place.
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "store.h"

struct acme *
acme_new(const struct acme_config *cfg, struct store *st,
    struct crypto_signer *signer, int *err)
{
	struct acme *a;
	int ret = ACME_ERR_NOMEM;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto out;
	a->cfg = *cfg;
	if (a->cfg.random == NULL)
		a->cfg.random = crypto_random;
	if (a->cfg.cert_days == 0)
		a->cfg.cert_days = 90;
	a->store = st;
	a->signer = signer;
	if ((ret = acme_nonces_init(&a->nonces, a->cfg.random)) != ACME_OK) {
		free(a);
		a = NULL;
	}
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
	free(a);
}

/* Adds a fresh Replay-Nonce (RFC 8555 §6.5). */
static void
add_nonce(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	char nonce[ACME_NONCE_LEN + 1];

	if (acme_nonce_issue(&a->nonces, req->now, nonce) == ACME_OK)
		acme_respond_header(resp, "Replay-Nonce", "%s", nonce);
}

/* newNonce (RFC 8555 §7.2): HEAD answers 200, GET 204, neither cached. */
static void
handle_new_nonce(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	if (strcmp(req->method, "HEAD") != 0 && strcmp(req->method, "GET") != 0) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 405,
		    "newNonce accepts only HEAD and GET");
		acme_respond_header(resp, "Allow", "HEAD, GET");
		return;
	}
	resp->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
	add_nonce(a, req, resp);
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

/* Paths of the resources a client reaches by POST. */
static int
is_acme_post_resource(const char *path)
{
	static const char *const fixed[] = {
		ACME_PATH_NEW_ACCOUNT, ACME_PATH_NEW_ORDER, ACME_PATH_NEW_AUTHZ,
		ACME_PATH_REVOKE_CERT, ACME_PATH_KEY_CHANGE,
	};
	static const char *const prefixed[] = {
		"/acme/account/", "/acme/order/", "/acme/orders/", "/acme/authz/",
		"/acme/chall/", "/acme/cert/", "/acme/finalize/",
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(path, fixed[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++)
		if (strncmp(path, prefixed[i], strlen(prefixed[i])) == 0)
			return 1;
	return 0;
}

void
acme_handle(struct acme *a, const struct acme_request *req,
    struct acme_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (strcmp(req->path, ACME_PATH_DIRECTORY) == 0) {
		handle_directory(a, req, resp);
		return;
	}
	if (strcmp(req->path, ACME_PATH_NEW_NONCE) == 0) {
		handle_new_nonce(a, req, resp);
	} else if (is_acme_post_resource(req->path)) {
		/* The account, order and certificate resources arrive with the
		 * RFC 8555 protocol work; until then they answer plainly. */
		acme_respond_problem(resp, ACME_P_MALFORMED, 501,
		    "this resource is not served by this version of hearth");
		add_nonce(a, req, resp);
	} else {
		acme_respond_problem(resp, ACME_P_MALFORMED, 404,
		    "no ACME resource at this path");
		return;
	}
	acme_respond_header(resp, "Link", "<%s%s>;rel=\"index\"", req->base_url,
	    ACME_PATH_DIRECTORY);
}
