/*
 * ident.c: identifiers a client may order (RFC 8555 §7.1.3, §9.7.7;
 * RFC 8738 for IP addresses). DNS names go through the one DNS-name check,
 * crypto_dns_name_check() (lower-cased, RFC 1035 syntax, IDNA2008 A-labels,
 * a wildcard only as a whole leftmost "*" label); IP addresses are
 * rewritten in canonical form. Then the name policy decides (RFC 8555
 * §6.7 rejectedIdentifier, one subproblem per refused identifier, §6.7.1).
 * What is refused says why.
 */
#include "acme_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

const char *
acme_ident_type_name(enum acme_ident_type t)
{
	return t == ACME_IDENT_IP ? "ip" : "dns";
}

static int
check_dns(const char *in, char value[256], int *wildcard,
    struct acme_response *resp)
{
	unsigned char addr[16];
	const char *why;
	size_t n = strlen(in);

	if (n > CRYPTO_MAX_NAME_LEN) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "dns identifier longer than 253 characters");
		return -1;
	}
	if (inet_pton(AF_INET, in, addr) == 1 || inet_pton(AF_INET6, in, addr) == 1) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "\"%s\" is an IP address: order it as an identifier of type "
		    "\"ip\" (RFC 8738), not \"dns\"", in);
		return -1;
	}
	if (crypto_dns_name_check(in, n, 1, value, &why) != 0) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "dns identifier \"%.253s\" refused: %s", in, why);
		return -1;
	}
	*wildcard = strncmp(value, "*.", 2) == 0;
	return 0;
}

static int
check_ip(const char *in, char value[256], struct acme_response *resp)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, in, addr) == 1) {
		inet_ntop(AF_INET, addr, value, 256);
		return 0;
	}
	if (inet_pton(AF_INET6, in, addr) == 1) {
		/* ::ffff:a.b.c.d is an IPv4 address in disguise: one address,
		 * one spelling, so certificates and CAA-free checks agree. */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)addr)) {
			acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
			    "\"%.64s\" is an IPv4-mapped address: order the IPv4 "
			    "address itself", in);
			return -1;
		}
		inet_ntop(AF_INET6, addr, value, 256);
		return 0;
	}
	acme_respond_problem(resp, ACME_P_MALFORMED, 0,
	    "ip identifier \"%.64s\" is not an IPv4 or IPv6 address", in);
	return -1;
}

int
acme_ident_check(const cJSON *ident, enum acme_ident_type *type,
    char value[256], int *wildcard, struct acme_response *resp)
{
	const char *t = acme_json_str(ident, "type");
	const char *v = acme_json_str(ident, "value");

	*wildcard = 0;
	if (!cJSON_IsObject(ident) || t == NULL || v == NULL) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "an identifier is an object with string type and value");
		return -1;
	}
	if (strcmp(t, "dns") == 0) {
		*type = ACME_IDENT_DNS;
		return check_dns(v, value, wildcard, resp);
	}
	if (strcmp(t, "ip") == 0) {
		*type = ACME_IDENT_IP;
		return check_ip(v, value, resp);
	}
	acme_respond_problem(resp, ACME_P_UNSUPPORTED_IDENTIFIER, 0,
	    "identifier type \"%.32s\" is not supported (dns and ip are)", t);
	return -1;
}

/* ---- the name policy ---- */

/* A rejectedIdentifier subproblem for ident (RFC 8555 §6.7.1). */
static cJSON *
policy_subproblem(const struct acme_ident *ident, const char *why)
{
	cJSON *sub = acme_problem_new(ACME_P_REJECTED_IDENTIFIER, 0, why), *id;

	if (sub == NULL)
		return NULL;
	id = cJSON_AddObjectToObject(sub, "identifier");
	cJSON_AddStringToObject(id, "type", acme_ident_type_name(ident->type));
	cJSON_AddStringToObject(id, "value", ident->value);
	return sub;
}

/* One refused identifier is answered alone; several as a compound problem
 * whose detail lists how many. */
static void
respond_refused(cJSON *subs, struct acme_response *resp)
{
	int n = cJSON_GetArraySize(subs);
	char detail[96];
	cJSON *doc;

	if (n == 1) {
		doc = cJSON_DetachItemFromArray(subs, 0);
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "identifier");
		cJSON_Delete(subs);
		acme_respond_problem_doc(resp, doc);
		return;
	}
	snprintf(detail, sizeof(detail), "%d identifiers are refused by the name "
	    "policy", n);
	if ((doc = acme_problem_new(ACME_P_COMPOUND, 0, detail)) != NULL)
		cJSON_AddItemToObject(doc, "subproblems", subs);
	else
		cJSON_Delete(subs);
	acme_respond_problem_doc(resp, doc);
}

int
acme_ident_policy(const struct acme *a, const struct acme_ident *ids, size_t n,
    struct acme_response *resp)
{
	struct crypto_name name;
	char why[512];
	cJSON *subs, *sub;
	size_t i, refused = 0;

	const struct crypto_policy *policy = acme_settings(a)->policy;

	if (policy == NULL)
		return 0;
	if ((subs = cJSON_CreateArray()) == NULL) {
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		memset(&name, 0, sizeof(name));
		name.type = ids[i].type == ACME_IDENT_IP ? CRYPTO_NAME_IP : CRYPTO_NAME_DNS;
		if (strlen(ids[i].value) >= sizeof(name.value))
			snprintf(why, sizeof(why), "longer than a DNS name");
		else {
			memcpy(name.value, ids[i].value, strlen(ids[i].value) + 1);
			if (crypto_policy_check(policy, &name, why, sizeof(why)) == 0)
				continue;
		}
		refused++;
		if ((sub = policy_subproblem(&ids[i], why)) != NULL)
			cJSON_AddItemToArray(subs, sub);
	}
	if (refused == 0 || (size_t)cJSON_GetArraySize(subs) != refused) {
		cJSON_Delete(subs);
		if (refused == 0)
			return 0;
		acme_respond_problem(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
		return -1;
	}
	respond_refused(subs, resp);
	return -1;
}
