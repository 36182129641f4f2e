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
#include <netinet/in.h>
#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

/*
 * Decodes the punycode body of an A-label (RFC 3492 §6.2) to check it: a
 * body that does not decode, decodes out of range, or decodes to nothing
 * but ASCII is not an A-label. (Full IDNA2008 code point rules are not
 * checked.) Returns 1 when valid.
 */
static int
punycode_ok(const char *in, size_t n)
{
	const unsigned long base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
	unsigned long i = 0, bias = 72, cp = 128, out = 0, oldi, w, k, t, digit;
	size_t b = 0, j, pos;
	int nonascii = 0, first = 1;

	for (j = 0; j < n; j++)
		if (in[j] == '-')
			b = j;
	out = b;
	pos = b > 0 ? b + 1 : 0;
	while (pos < n) {
		oldi = i;
		for (w = 1, k = base;; k += base) {
			if (pos >= n)
				return 0;
			digit = isdigit((unsigned char)in[pos]) ? (unsigned long)(in[pos] - '0') + 26 :
			    isalpha((unsigned char)in[pos]) ?
			    (unsigned long)(tolower((unsigned char)in[pos]) - 'a') : base;
			pos++;
			if (digit >= base || digit > (0x10FFFFUL * 64 - i) / w)
				return 0;
			i += digit * w;
			t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
			if (digit < t)
				break;
			w *= base - t;
			if (w > 0x10FFFFUL * 64)
				return 0;
		}
		out++;
		/* adapt (RFC 3492 §6.1) */
		{
			unsigned long delta = first ? (i - oldi) / damp : (i - oldi) / 2;

			first = 0;
			delta += delta / out;
			for (k = 0; delta > ((base - tmin) * tmax) / 2; k += base)
				delta /= base - tmin;
			bias = k + (base - tmin + 1) * delta / (delta + skew);
		}
		cp += i / out;
		i %= out;
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    (cp >= 0x80 && cp < 0xA0))
			return 0;
		if (cp >= 128)
			nonascii = 1;
		i++;
	}
	return nonascii;
}

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
		if (n == 4 || !punycode_ok(l + 4, n - 4)) {
			*why = "not a valid IDN A-label (punycode)";
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
