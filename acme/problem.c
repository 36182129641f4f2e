/*
 * problem.c: problem documents (RFC 7807) with ACME error types (RFC 8555
 * §6.7), and the small helpers that fill an acme_response. Detail strings
 * are written for clients: they never carry internal error text.
 */
#include "acme_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define URN(name) "urn:ietf:params:acme:error:" name

static const struct {
	const char *type;
	int status;
} problems[ACME_P_COUNT] = {
	[ACME_P_ACCOUNT_DOES_NOT_EXIST] = { URN("accountDoesNotExist"), 400 },
	[ACME_P_ALREADY_REVOKED] = { URN("alreadyRevoked"), 400 },
	[ACME_P_BAD_CSR] = { URN("badCSR"), 400 },
	[ACME_P_BAD_NONCE] = { URN("badNonce"), 400 },
	[ACME_P_BAD_PUBLIC_KEY] = { URN("badPublicKey"), 400 },
	[ACME_P_BAD_REVOCATION_REASON] = { URN("badRevocationReason"), 400 },
	[ACME_P_BAD_SIGNATURE_ALGORITHM] = { URN("badSignatureAlgorithm"), 400 },
	[ACME_P_CAA] = { URN("caa"), 403 },
	[ACME_P_COMPOUND] = { URN("compound"), 403 },
	[ACME_P_CONNECTION] = { URN("connection"), 400 },
	[ACME_P_DNS] = { URN("dns"), 400 },
	[ACME_P_EXTERNAL_ACCOUNT_REQUIRED] = { URN("externalAccountRequired"), 401 },
	[ACME_P_INCORRECT_RESPONSE] = { URN("incorrectResponse"), 403 },
	[ACME_P_INVALID_CONTACT] = { URN("invalidContact"), 400 },
	[ACME_P_MALFORMED] = { URN("malformed"), 400 },
	[ACME_P_ORDER_NOT_READY] = { URN("orderNotReady"), 403 },
	[ACME_P_RATE_LIMITED] = { URN("rateLimited"), 429 },
	[ACME_P_REJECTED_IDENTIFIER] = { URN("rejectedIdentifier"), 400 },
	[ACME_P_SERVER_INTERNAL] = { URN("serverInternal"), 500 },
	[ACME_P_TLS] = { URN("tls"), 400 },
	[ACME_P_UNAUTHORIZED] = { URN("unauthorized"), 403 },
	[ACME_P_UNSUPPORTED_CONTACT] = { URN("unsupportedContact"), 400 },
	[ACME_P_UNSUPPORTED_IDENTIFIER] = { URN("unsupportedIdentifier"), 400 },
	[ACME_P_USER_ACTION_REQUIRED] = { URN("userActionRequired"), 403 },
	[ACME_P_INVALID_PROFILE] = { URN("invalidProfile"), 400 },
	[ACME_P_ALREADY_REPLACED] = { URN("alreadyReplaced"), 409 },
};

const char *
acme_problem_type(enum acme_problem p)
{
	if ((unsigned)p >= ACME_P_COUNT)
		p = ACME_P_SERVER_INTERNAL;
	return problems[p].type;
}

int
acme_problem_status(enum acme_problem p)
{
	if ((unsigned)p >= ACME_P_COUNT)
		return 500;
	return problems[p].status;
}

static void
response_set_body(struct acme_response *resp, int status, const char *ctype,
    char *body)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = ctype;
	resp->body = body;
	resp->body_len = body != NULL ? strlen(body) : 0;
}

void
acme_respond_problem(struct acme_response *resp, enum acme_problem p,
    int status, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	cJSON *o;
	char *body = NULL;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (status == 0)
		status = acme_problem_status(p);
	if ((o = cJSON_CreateObject()) != NULL &&
	    cJSON_AddStringToObject(o, "type", acme_problem_type(p)) != NULL &&
	    cJSON_AddStringToObject(o, "detail", detail) != NULL &&
	    cJSON_AddNumberToObject(o, "status", status) != NULL)
		body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	response_set_body(resp, status, "application/problem+json", body);
}

cJSON *
acme_problem_new(enum acme_problem p, int status, const char *detail)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "type", acme_problem_type(p)) == NULL ||
	    cJSON_AddStringToObject(o, "detail", detail) == NULL ||
	    cJSON_AddNumberToObject(o, "status", status != 0 ? status :
	    acme_problem_status(p)) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void
acme_respond_problem_doc(struct acme_response *resp, cJSON *doc)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	char *body = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;

	if (body == NULL || !cJSON_IsNumber(st)) {
		free(body);
		cJSON_Delete(doc);
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		return;
	}
	response_set_body(resp, st->valueint, "application/problem+json", body);
	cJSON_Delete(doc);
}

void
acme_respond_unavailable(struct acme_response *resp)
{
	size_t i;

	acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 503,
	    "the database is unavailable; retry later");
	for (i = 0; i < resp->n_headers; i++)
		if (strcmp(resp->headers[i].name, "Retry-After") == 0)
			return;
	acme_respond_header(resp, "Retry-After", "%d", ACME_STORE_RETRY);
}

void
acme_respond_json(struct acme_response *resp, int status, char *json)
{
	response_set_body(resp, status, "application/json", json);
}

int
acme_respond_header(struct acme_response *resp, const char *name,
    const char *fmt, ...)
{
	va_list ap;
	char *value;
	int n;

	if (resp->n_headers >= ACME_MAX_HEADERS)
		return ACME_ERR_INVALID;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (value = malloc((size_t)n + 1)) == NULL)
		return ACME_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(value, (size_t)n + 1, fmt, ap);
	va_end(ap);
	resp->headers[resp->n_headers].name = name;
	resp->headers[resp->n_headers].value = value;
	resp->n_headers++;
	return ACME_OK;
}

void
acme_response_clear(struct acme_response *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	for (i = 0; i < resp->n_headers; i++)
		free(resp->headers[i].value);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}
