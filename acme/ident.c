/*
 * ident.c: identifiers a client may order (RFC 8555 §7.1.3, §9.7.7;
 * RFC 8738 for IP addresses). DNS names are lower-cased and checked against
 * RFC 1035 syntax (letters, digits, hyphens; labels of 1..63, names of at
 * most 253), IDN A-labels ("xn--") must carry a punycode body, and a
 * wildcard is only a whole leftmost "*" label. IP addresses are rewritten
 * in canonical form. What is refused says why.
 */
#include "acme_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

static int
label_ok(const char *l, size_t n, const char **why)
{
	size_t i;

	if (n == 0) {
		*why = "empty label";
		return 0;
	}
	if (n > 63) {
		*why = "label longer than 63 characters";
		return 0;
	}
	if (l[0] == '-' || l[n - 1] == '-') {
		*why = "label starts or ends with a hyphen";
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)l[i]) && l[i] != '-') {
			*why = "only letters, digits and hyphens are allowed";
			return 0;
		}
	/* RFC 5891 §4.2.3.1: "??--" is reserved for A-labels ("xn--"). */
	if (n >= 4 && l[2] == '-' && l[3] == '-') {
		if (strncmp(l, "xn--", 4) != 0) {
			*why = "hyphens in the third and fourth positions are reserved";
			return 0;
		}
		if (n == 4) {
			*why = "empty IDN A-label";
			return 0;
		}
	}
	return 1;
}

/* Checks a lower-cased DNS name; *wildcard for a leading "*." label. */
static int
dns_name_ok(const char *name, int *wildcard, const char **why)
{
	const char *p = name, *dot;
	size_t len = strlen(name), labels = 0;

	*wildcard = 0;
	if (len == 0 || len > 253) {
		*why = len == 0 ? "empty name" : "name longer than 253 characters";
		return 0;
	}
	if (name[len - 1] == '.') {
		*why = "trailing dot";
		return 0;
	}
	if (strncmp(p, "*.", 2) == 0) {
		*wildcard = 1;
		p += 2;
	}
	for (;;) {
		dot = strchr(p, '.');
		if (!label_ok(p, dot != NULL ? (size_t)(dot - p) : strlen(p), why))
			return 0;
		labels++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (labels < 2 && *wildcard) {
		*why = "a wildcard needs a base name of at least one label below it";
		return 0;
	}
	/* A name whose last label is all digits would read as an address. */
	p = strrchr(name, '.') != NULL ? strrchr(name, '.') + 1 : name;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*why = "last label is numeric (an IP address must use type \"ip\")";
		return 0;
	}
	return 1;
}

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
	size_t i, n = strlen(in);

	if (n > 253) {
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
	for (i = 0; i <= n; i++)
		value[i] = (char)tolower((unsigned char)in[i]);
	if (!dns_name_ok(value, wildcard, &why)) {
		acme_respond_problem(resp, ACME_P_REJECTED_IDENTIFIER, 0,
		    "dns identifier \"%.253s\" refused: %s", in, why);
		return -1;
	}
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
