/*
 * name.c: the one DNS-name check of hearth. Identifiers at newOrder and
 * newAuthz, names in CSRs, the server's own TLS names and Host headers all
 * go through crypto_dns_name_check(), so one rule decides what a DNS name
 * is. Syntax is RFC 1035's preferred form (letters, digits and hyphens;
 * labels of 1..63 bytes; at most 253 bytes; no trailing dot); a leading
 * "*." label is a wildcard (RFC 8555 §7.1.3) only where the caller allows
 * one; an "xn--" label must be an IDNA2008 A-label (RFC 5890-5892) whose
 * U-label holds only permitted code points, which libidn2 decides. This
 * file holds no state and is safe from any thread or process.
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#define LABEL_MAX 63

static int
refuse(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return CRYPTO_ERR_NAME;
}

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* What libidn2 found wrong with an A-label, for people. */
static const char *
idna_reason(int rc)
{
	switch (rc) {
	case IDN2_DISALLOWED:
	case IDN2_UNASSIGNED:
		return "an xn-- label decodes to a code point IDNA2008 does not permit";
	case IDN2_NOT_NFC:
		return "an xn-- label decodes to a string not in Unicode NFC";
	case IDN2_BIDI:
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO_NO_RULE:
		return "an xn-- label breaks the IDNA2008 context or bidi rules";
	}
	return "an xn-- label is not a valid IDNA2008 A-label";
}

/* RFC 5891 §5.4 for one lower-case "xn--" label: it must decode, and its
 * U-label must re-encode to the same A-label with permitted code points. */
static int
alabel_check(const char *l, size_t n, const char **why)
{
	char buf[LABEL_MAX + 1];
	uint8_t *insert = NULL;
	int rc;

	memcpy(buf, l, n);
	buf[n] = '\0';
	rc = idn2_register_u8(NULL, (const uint8_t *)buf, &insert, 0);
	free(insert);
	if (rc != IDN2_OK)
		return refuse(why, idna_reason(rc));
	return CRYPTO_OK;
}

static int
label_check(const char *l, size_t n, const char **why)
{
	size_t i;

	if (n == 0)
		return refuse(why, "empty label");
	if (n > LABEL_MAX)
		return refuse(why, "label longer than 63 characters");
	for (i = 0; i < n; i++)
		if (!is_ldh(l[i]))
			return refuse(why, "only letters, digits and hyphens are allowed");
	if (l[0] == '-' || l[n - 1] == '-')
		return refuse(why, "label starts or ends with a hyphen");
	/* RFC 5891 §4.2.3.1: "??--" is reserved; "xn--" marks A-labels. */
	if (n >= 4 && l[2] == '-' && l[3] == '-') {
		if (l[0] != 'x' || l[1] != 'n')
			return refuse(why, "hyphens in the third and fourth positions "
			    "are reserved");
		return alabel_check(l, n, why);
	}
	return CRYPTO_OK;
}

/* Lower-cases in[0..len) into out; refuses NUL bytes. */
static int
lower_copy(const char *in, size_t len, char *out, const char **why)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\0')
			return refuse(why, "NUL byte in name");
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	}
	out[len] = '\0';
	return CRYPTO_OK;
}

/* Checks every label of name[0..len); *labels counts them. */
static int
labels_check(const char *name, size_t len, size_t *labels, const char **why)
{
	size_t i, start = 0;
	int ret;

	*labels = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if ((ret = label_check(name + start, i - start, why)) != 0)
			return ret;
		(*labels)++;
		start = i + 1;
	}
	return CRYPTO_OK;
}

int
crypto_dns_name_check(const char *in, size_t len, int allow_wildcard,
    char out[CRYPTO_MAX_NAME_LEN + 1], const char **why)
{
	const char *last;
	size_t skip = 0, labels;
	int ret;

	if (in == NULL || out == NULL)
		return refuse(why, "no name");
	out[0] = '\0';
	if (len == 0)
		return refuse(why, "empty name");
	if (len > CRYPTO_MAX_NAME_LEN)
		return refuse(why, "name longer than 253 characters");
	if ((ret = lower_copy(in, len, out, why)) != 0)
		goto fail;
	if (out[len - 1] == '.') {
		ret = refuse(why, "trailing dot");
		goto fail;
	}
	if (len >= 2 && out[0] == '*' && out[1] == '.') {
		if (!allow_wildcard) {
			ret = refuse(why, "a wildcard is not allowed here");
			goto fail;
		}
		skip = 2;
	}
	if ((ret = labels_check(out + skip, len - skip, &labels, why)) != 0)
		goto fail;
	if (skip != 0 && labels < 2) {
		ret = refuse(why, "a wildcard needs a base name of at least two labels");
		goto fail;
	}
	/* A name whose last label is all digits would read as an address. */
	last = strrchr(out, '.') != NULL ? strrchr(out, '.') + 1 : out;
	if (strspn(last, "0123456789") == strlen(last)) {
		ret = refuse(why, "last label is numeric (an IP address is not a DNS name)");
		goto fail;
	}
	return CRYPTO_OK;
fail:
	out[0] = '\0';
	return ret;
}
