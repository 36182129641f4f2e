/*
 * signcheck.c: the signer's own checks of a leaf request, run in the
 * process that holds the intermediate key before it signs anything. The
 * forwarding process parses network input, so nothing it sends is trusted:
 * the public key is checked again (spki.c), every name again (syntax,
 * canonical form, count, duplicates, the intermediate's name constraints,
 * the name policy, or for the server's own certificate the configured TLS
 * names), the validity against the
 * profile's lifetime and the signer's own clock, and the usages come from
 * the profile alone. basicConstraints CA:FALSE is written by leaf.c
 * unconditionally. Each refusal has its CRYPTO_ERR_* code.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <string.h>

#define CN_MAX 64      /* ub-common-name, RFC 5280 A.1 */

/* Well-formed and already in the form certificates carry: DNS names
 * lower-case A-labels (wildcards only when allowed), IPs in inet_ntop
 * form. */
static int
name_canonical(const struct crypto_name *n, int allow_wildcard)
{
	char buf[CRYPTO_MAX_NAME_LEN + 1];
	uint8_t ip[16];
	size_t len = strnlen(n->value, sizeof(n->value));
	int af;

	if (len == 0 || len > CRYPTO_MAX_NAME_LEN)
		return 0;
	if (n->type == CRYPTO_NAME_DNS)
		return crypto_dns_name_check(n->value, len, allow_wildcard, buf,
		    NULL) == 0 && strcmp(buf, n->value) == 0;
	if (n->type != CRYPTO_NAME_IP)
		return 0;
	af = strchr(n->value, ':') != NULL ? AF_INET6 : AF_INET;
	return inet_pton(af, n->value, ip) == 1 &&
	    inet_ntop(af, ip, buf, sizeof(buf)) != NULL &&
	    strcmp(buf, n->value) == 0;
}

static int
name_in(const struct crypto_name *n, const struct crypto_name *list,
    size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (list[i].type == n->type && strcmp(list[i].value, n->value) == 0)
			return 1;
	return 0;
}

/* Count, form, duplicates, the intermediate's name constraints, then the
 * policy (ACME) or the TLS names. */
static int
names_check(const struct crypto_signer *s, enum pki_leaf_kind kind,
    const struct crypto_name *names, size_t n)
{
	const struct pki_signer_cfg *c = &s->cfg;
	char why[256];
	size_t i;

	if (n > CRYPTO_MAX_NAMES)
		return CRYPTO_ERR_TOO_LARGE;
	if (n == 0)
		return CRYPTO_ERR_NAME;
	for (i = 0; i < n; i++) {
		if (!name_canonical(&names[i], kind == PKI_LEAF_ACME) ||
		    name_in(&names[i], names, i))
			return CRYPTO_ERR_NAME;
		/* Independent of the policy: a leaf outside the constraints
		 * would not verify anyway (RFC 5280 §4.2.1.10). */
		if (pki_constraints_check(s->constraints, &names[i], why,
		    sizeof(why)) != 0)
			return CRYPTO_ERR_NAME;
		if (kind == PKI_LEAF_TLS) {
			if (!name_in(&names[i], c->tls_names, c->n_tls_names))
				return CRYPTO_ERR_NAME;
			continue;
		}
		/* The name policy: the same rules acme/ applied at newOrder. */
		if (c->policy != NULL &&
		    crypto_policy_check(c->policy, &names[i], why, sizeof(why)) != 0)
			return CRYPTO_ERR_NAME;
	}
	return CRYPTO_OK;
}

/* The subject CN, when there is one, must be one of the names. */
static int
cn_check(const struct pki_leaf_spec *l)
{
	size_t i;

	if (l->cn == NULL)
		return CRYPTO_OK;
	if (strlen(l->cn) > CN_MAX)
		return CRYPTO_ERR_NAME;
	for (i = 0; i < l->n_names; i++)
		if (strcmp(l->names[i].value, l->cn) == 0)
			return CRYPTO_OK;
	return CRYPTO_ERR_NAME;
}

/* Within the intermediate, not backdated beyond the allowance, and no
 * longer than lifetime (plus the allowance). Compared in an order that
 * keeps the subtraction in range. */
static int
validity_check(const struct crypto_signer *s, long lifetime,
    const struct pki_leaf_spec *l, time_t now)
{
	long skew = s->cfg.max_backdate;

	if (l->not_after > s->view.not_after || l->not_before < now - skew ||
	    l->not_after <= l->not_before ||
	    l->not_after - l->not_before > (time_t)lifetime + skew)
		return CRYPTO_ERR_VALIDITY;
	return CRYPTO_OK;
}

int
pki_leaf_check(const struct crypto_signer *s, enum pki_leaf_kind kind,
    const char *profile, struct pki_leaf_spec *l, time_t now)
{
	const struct crypto_profile *p = NULL;
	enum pki_spki_kind key;
	long lifetime = PKI_TLS_LIFETIME_MAX;
	int ret;

	if (kind == PKI_LEAF_ACME) {
		if ((p = pki_signer_profile(&s->cfg, profile)) == NULL)
			return CRYPTO_ERR_INVALID;
		lifetime = p->lifetime;
	} else if (kind != PKI_LEAF_TLS || (profile != NULL && profile[0] != '\0'))
		return CRYPTO_ERR_INVALID;
	if ((ret = pki_spki_check(l->spki, l->spki_len, &key)) != 0 ||
	    (ret = names_check(s, kind, l->names, l->n_names)) != 0 ||
	    (ret = cn_check(l)) != 0 ||
	    (ret = validity_check(s, lifetime, l, now)) != 0)
		return ret;
	l->key_usage = PKI_KU_DIGITAL_SIGNATURE;
	l->eku = PKI_EKU_SERVER;
	if (p != NULL) {
		if ((p->key_usage & CRYPTO_KU_KEY_ENCIPHERMENT) && key == PKI_SPKI_RSA)
			l->key_usage |= PKI_KU_KEY_ENCIPHERMENT;
		l->eku = (p->eku & CRYPTO_EKU_SERVER_AUTH ? PKI_EKU_SERVER : 0) |
		    (p->eku & CRYPTO_EKU_CLIENT_AUTH ? PKI_EKU_CLIENT : 0);
	}
	return CRYPTO_OK;
}
