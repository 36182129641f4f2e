/*
 * wait.c: answers that wait on a validation. A challenge being validated,
 * an authorization whose challenge is, and a pending order whose open
 * authorizations all are, are answered with resp->wait naming the
 * validation (the challenge id of its job), so server/ may hold the answer
 * until that validation ends and then have it rendered again here. Only
 * reads: the request was verified (JWS, nonce) when it came in, and the
 * Replay-Nonce it was given stays the one it carries. No clock: the time is
 * the caller's.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
acme_wait_set(struct acme_response *resp, enum acme_wait_kind kind,
    const char *id, const char *challenge)
{
	memset(&resp->wait, 0, sizeof(resp->wait));
	if (strlen(id) > ACME_WAIT_ID_LEN || strlen(challenge) > ACME_WAIT_ID_LEN)
		return;
	resp->wait.kind = kind;
	memcpy(resp->wait.id, id, strlen(id) + 1);
	memcpy(resp->wait.challenge, challenge, strlen(challenge) + 1);
}

void
acme_wait_account(struct acme_response *resp, const char *account)
{
	if (resp->wait.kind == ACME_WAIT_NONE)
		return;
	if (account == NULL || strlen(account) > ACME_WAIT_ID_LEN) {
		memset(&resp->wait, 0, sizeof(resp->wait));
		return;
	}
	memcpy(resp->wait.account, account, strlen(account) + 1);
}

/* Removes every header called name from resp. */
static void
header_drop(struct acme_response *resp, const char *name)
{
	size_t i = 0;

	while (i < resp->n_headers) {
		if (strcmp(resp->headers[i].name, name) != 0) {
			i++;
			continue;
		}
		free(resp->headers[i].value);
		resp->n_headers--;
		memmove(&resp->headers[i], &resp->headers[i + 1],
		    (resp->n_headers - i) * sizeof(resp->headers[0]));
	}
}

/* Moves fresh's body and Retry-After into resp, and its wait. */
static void
refresh_take(struct acme_response *resp, struct acme_response *fresh)
{
	size_t i;

	free(resp->body);
	resp->body = fresh->body;
	resp->body_len = fresh->body_len;
	resp->content_type = fresh->content_type;
	fresh->body = NULL;
	header_drop(resp, "Retry-After");
	for (i = 0; i < fresh->n_headers; i++) {
		if (strcmp(fresh->headers[i].name, "Retry-After") == 0 &&
		    resp->n_headers < ACME_MAX_HEADERS) {
			resp->headers[resp->n_headers++] = fresh->headers[i];
			fresh->headers[i].value = NULL;
		}
	}
	resp->wait = fresh->wait;
}

int
acme_refresh(struct acme *a, const char *base_url, time_t now,
    struct acme_response *resp)
{
	struct acme_request req;
	struct acme_response fresh;
	const struct acme_wait *w = &resp->wait;
	unsigned slot;
	int ret = ACME_OK;

	if (w->kind == ACME_WAIT_NONE || w->account[0] == '\0' ||
	    resp->status != 200 || base_url == NULL)
		return ACME_ERR_INVALID;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "";
	req.base_url = base_url;
	req.now = now;
	memset(&fresh, 0, sizeof(fresh));
	slot = acme_enter(a);
	if (w->kind == ACME_WAIT_CHALLENGE)
		acme_challenge_render(a, &req, w->id, w->account, &fresh);
	else if (w->kind == ACME_WAIT_AUTHZ)
		acme_authz_render(a, &req, w->id, w->account, &fresh);
	else
		acme_order_render(a, &req, w->id, w->account, &fresh);
	acme_leave(a, slot);
	if (fresh.status != 200 || fresh.body == NULL)
		ret = fresh.status == 404 || fresh.status == 403 ?
		    ACME_ERR_NOTFOUND : ACME_ERR_INTERNAL;
	else
		refresh_take(resp, &fresh);
	acme_response_clear(&fresh);
	return ret;
}

int
acme_settle(struct acme *a, const char *base_url, time_t now,
    struct acme_response *resp)
{
	unsigned slot;
	int ret;

	if (!resp->wait.unsettled)
		return ACME_OK;
	slot = acme_enter(a);
	ret = acme_claim_settle(a, resp->wait.challenge, now);
	acme_leave(a, slot);
	if (ret != ACME_OK) {
		/* not to be told of a validation the store does not know */
		acme_respond_unavailable(resp);
		memset(&resp->wait, 0, sizeof(resp->wait));
		return ret;
	}
	return acme_refresh(a, base_url, now, resp);
}
