/*
 * constraint.c: the intermediate's name constraints (RFC 5280 §4.2.1.10).
 * An operator's --permit-dns and --permit-ip become the allow rules of a
 * crypto_policy; this file writes them as a critical nameConstraints
 * extension of permittedSubtrees (dNSName without a leading dot, so the
 * suffix itself and every name under it; iPAddress as address and mask),
 * reads such an extension back into a policy of allow rules, and decides
 * whether a name lies inside it. It writes and reads nothing else: which
 * certificate carries the extension is ca.c's business, who checks what
 * signcheck.c's.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define GN_DNS 0x82        /* GeneralName [2] dNSName, IMPLICIT IA5String */
#define GN_IP  0x87        /* GeneralName [7] iPAddress, IMPLICIT OCTET STRING */
#define NC_PERMITTED 0xa0  /* NameConstraints [0] permittedSubtrees */

static const uint8_t oid_nc[] = { 0x55, 0x1d, 0x1e };

/* "ADDR/PREFIX" (policy.c's canonical form) as address then mask. */
static int
ip_subtree(const char *text, uint8_t out[32], size_t *len)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen, n, i;
	unsigned long prefix;
	int family;

	if (slash == NULL || (alen = (size_t)(slash - text)) >= sizeof(addr))
		return CRYPTO_ERR_INVALID;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	n = family == AF_INET ? 4 : 16;
	prefix = strtoul(slash + 1, NULL, 10);
	if (inet_pton(family, addr, out) != 1 || prefix > n * 8)
		return CRYPTO_ERR_INVALID;
	memset(out + n, 0, n);
	for (i = 0; i < prefix; i++)
		out[n + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	*len = 2 * n;
	return CRYPTO_OK;
}

void
pki_ext_name_constraints(struct pki_buf *b, const struct crypto_policy *permit)
{
	static const uint8_t yes = 0xff;
	enum crypto_policy_rule kind;
	const char *text;
	uint8_t ip[32];
	size_t i, iplen, mark = b->len, value, nc, sub, one;

	pki_der_tlv(b, PKI_DER_OID, oid_nc, sizeof(oid_nc));
	pki_der_tlv(b, PKI_DER_BOOLEAN, &yes, 1);     /* critical, §4.2.1.10 */
	value = b->len;
	nc = b->len;
	sub = b->len;
	for (i = 0; (text = pki_policy_rule(permit, i, &kind)) != NULL; i++) {
		one = b->len;
		if (kind == CRYPTO_POLICY_ALLOW_DNS)
			pki_der_tlv(b, GN_DNS, text, strlen(text));
		else if (kind == CRYPTO_POLICY_ALLOW_IP &&
		    ip_subtree(text, ip, &iplen) == 0)
			pki_der_tlv(b, GN_IP, ip, iplen);
		else {
			b->err = b->err ? b->err : CRYPTO_ERR_INVALID;
			continue;
		}
		pki_der_wrap(b, PKI_DER_SEQ, one);        /* GeneralSubtree */
	}
	pki_der_wrap(b, NC_PERMITTED, sub);
	pki_der_wrap(b, PKI_DER_SEQ, nc);
	pki_der_wrap(b, PKI_DER_OCTETS, value);
	pki_der_wrap(b, PKI_DER_SEQ, mark);
}

/* An iPAddress subtree (address then a contiguous mask) as "ADDR/PREFIX". */
static int
ip_text(const struct pki_tlv *t, char *out, size_t outsz)
{
	char addr[INET6_ADDRSTRLEN];
	size_t n = t->val_len / 2, i;
	unsigned prefix = 0;
	int ones = 1;

	if (t->val_len != 8 && t->val_len != 32)
		return CRYPTO_ERR_PARSE;
	for (i = 0; i < n * 8; i++) {
		int bit = (t->val[n + i / 8] >> (7 - i % 8)) & 1;

		if (bit && !ones)
			return CRYPTO_ERR_PARSE;   /* a mask with holes */
		ones = bit;
		prefix += (unsigned)bit;
	}
	if (inet_ntop(n == 4 ? AF_INET : AF_INET6, t->val, addr,
	    sizeof(addr)) == NULL)
		return CRYPTO_ERR_PARSE;
	snprintf(out, outsz, "%s/%u", addr, prefix);
	return CRYPTO_OK;
}

/* One GeneralSubtree: its base (no minimum or maximum) as an allow rule. */
static int
subtree_add(struct crypto_policy *p, const struct pki_tlv *st)
{
	struct pki_der d = pki_der_in(st);
	struct pki_tlv base;
	char text[CRYPTO_MAX_NAME_LEN + 1];

	if (pki_der_next(&d, &base) != 0 || d.len != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	if (base.tag == GN_DNS) {
		if (base.val_len == 0 || base.val_len >= sizeof(text) ||
		    memchr(base.val, '\0', base.val_len) != NULL)
			return CRYPTO_ERR_PARSE;
		memcpy(text, base.val, base.val_len);
		text[base.val_len] = '\0';
		return crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, text) == 0 ?
		    CRYPTO_OK : CRYPTO_ERR_PARSE;
	}
	if (base.tag != GN_IP)
		return CRYPTO_ERR_UNSUPPORTED;
	if (ip_text(&base, text, sizeof(text)) != 0 ||
	    crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, text) != 0)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

/* The extension's value: permittedSubtrees only; excludedSubtrees and
 * other name forms are refused (hearth writes neither), so the signer
 * never signs under constraints it cannot check. */
static int
constraints_read(const struct pki_tlv *value, struct crypto_policy *p)
{
	struct pki_der d = pki_der_in(value), in;
	struct pki_tlv nc, permitted, st;
	int ret;

	if (pki_der_expect(&d, PKI_DER_SEQ, &nc) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	in = pki_der_in(&nc);
	if (pki_der_expect(&in, NC_PERMITTED, &permitted) != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	if (in.len != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	d = pki_der_in(&permitted);
	if (d.len == 0)
		return CRYPTO_ERR_PARSE;
	while (d.len > 0)
		if (pki_der_expect(&d, PKI_DER_SEQ, &st) != 0 ||
		    (ret = subtree_add(p, &st)) != 0)
			return ret != 0 ? ret : CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

int
pki_constraints_read(const struct pki_cert_view *v, struct crypto_policy **out)
{
	struct pki_tlv value;
	int critical = 0, ret;

	*out = NULL;
	if (pki_cert_ext_crit(v, oid_nc, sizeof(oid_nc), &value, &critical) != 0)
		return CRYPTO_OK;                      /* none */
	if ((*out = crypto_policy_new()) == NULL)
		return CRYPTO_ERR_NOMEM;
	if ((ret = constraints_read(&value, *out)) != 0) {
		crypto_policy_free(*out);
		*out = NULL;
	}
	return ret;
}

int
pki_constraints_check(const struct crypto_policy *c,
    const struct crypto_name *n, char *why, size_t whysz)
{
	enum crypto_policy_rule kind = n->type == CRYPTO_NAME_DNS ?
	    CRYPTO_POLICY_ALLOW_DNS : CRYPTO_POLICY_ALLOW_IP;

	/* No subtree of a name's form leaves that form unconstrained. */
	if (c == NULL || !pki_policy_has(c, kind))
		return CRYPTO_OK;
	return crypto_policy_check(c, n, why, whysz);
}

int
crypto_ca_name_permitted(const struct crypto_policy *c,
    const struct crypto_name *name)
{
	char why[256];

	return name != NULL &&
	    pki_constraints_check(c, name, why, sizeof(why)) == CRYPTO_OK;
}
