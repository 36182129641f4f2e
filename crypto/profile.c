/*
 * profile.c: what the signer is allowed to sign, fixed when it starts. The
 * built-in certificate profiles, the check and deep copy of a
 * crypto_signer_config into the signer (struct pki_signer_cfg), the lookup
 * of a profile by name, and the issuer id that names the CRL and issuer
 * URLs leaves carry. Reads no files and no clock.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400L

size_t
crypto_profile_defaults(struct crypto_profile out[CRYPTO_MAX_PROFILES])
{
	static const struct crypto_profile defaults[] = {
		{ "classic", 90 * DAY,
		    CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT,
		    CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH },
		/* Six days and a few hours, so a six-day renewal cycle with a
		 * late run still overlaps. */
		{ "shortlived", 6 * DAY + 6 * 3600,
		    CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT,
		    CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH },
	};
	size_t n = sizeof(defaults) / sizeof(defaults[0]);

	memcpy(out, defaults, sizeof(defaults));
	return n;
}

static int
profile_ok(const struct crypto_profile *p)
{
	size_t i, len = strnlen(p->name, sizeof(p->name));

	if (len == 0 || len > CRYPTO_PROFILE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((p->name[i] >= 'a' && p->name[i] <= 'z') ||
		    (p->name[i] >= '0' && p->name[i] <= '9') || p->name[i] == '-'))
			return 0;
	return p->lifetime > 0 &&
	    (p->key_usage & CRYPTO_KU_DIGITAL_SIGNATURE) != 0 &&
	    (p->key_usage & ~(unsigned)(CRYPTO_KU_DIGITAL_SIGNATURE |
	    CRYPTO_KU_KEY_ENCIPHERMENT)) == 0 &&
	    p->eku != 0 && (p->eku & ~(unsigned)(CRYPTO_EKU_SERVER_AUTH |
	    CRYPTO_EKU_CLIENT_AUTH)) == 0;
}

static int
profiles_set(struct pki_signer_cfg *c, const struct crypto_profile *p, size_t n)
{
	size_t i, j;

	if (p == NULL) {
		c->n_profiles = crypto_profile_defaults(c->profiles);
		return CRYPTO_OK;
	}
	if (n == 0 || n > CRYPTO_MAX_PROFILES)
		return CRYPTO_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (!profile_ok(&p[i]))
			return CRYPTO_ERR_INVALID;
		for (j = 0; j < i; j++)
			if (strcmp(p[i].name, p[j].name) == 0)
				return CRYPTO_ERR_INVALID;
		c->profiles[i] = p[i];
	}
	c->n_profiles = n;
	return CRYPTO_OK;
}

/* "http://" then a host of letters, digits, '.', '-' (or "[v6]"), an
 * optional ":port", and nothing else: no path, query or trailing slash. */
static int
url_ok(const char *url)
{
	const char *h;
	size_t i, len = strlen(url);
	long port;

	if (len > PKI_URL_MAX || strncmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	if (*h == '[') {
		for (i = 1; h[i] != '\0' && h[i] != ']'; i++)
			if (strchr("0123456789abcdefABCDEF:.", h[i]) == NULL)
				return 0;
		if (h[i] != ']' || i == 1)
			return 0;
		h += i + 1;
	} else {
		for (i = 0; h[i] != '\0' && h[i] != ':'; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-", h[i]) == NULL)
				return 0;
		if (i == 0)
			return 0;
		h += i;
	}
	if (*h == '\0')
		return 1;
	if (*h++ != ':' || strlen(h) < 1 || strlen(h) > 5)
		return 0;
	for (port = 0; *h != '\0'; h++) {
		if (*h < '0' || *h > '9')
			return 0;
		port = port * 10 + (*h - '0');
	}
	return port >= 1 && port <= 65535;
}

int
crypto_pki_url_check(const char *url)
{
	return url != NULL && url_ok(url) ? CRYPTO_OK : CRYPTO_ERR_INVALID;
}

/* Names the server's own certificate may carry: well-formed, canonical. */
static int
tls_names_set(struct pki_signer_cfg *c, const struct crypto_name *names,
    size_t n)
{
	char buf[CRYPTO_MAX_NAME_LEN + 1];
	uint8_t ip[16];
	size_t i;

	if (n > CRYPTO_MAX_NAMES || (names == NULL && n > 0))
		return CRYPTO_ERR_INVALID;
	for (i = 0; i < n; i++) {
		const char *v = names[i].value;

		if (names[i].type == CRYPTO_NAME_DNS ?
		    crypto_dns_name_check(v, strnlen(v, sizeof(names[i].value)),
		    0, buf, NULL) != 0 || strcmp(buf, v) != 0 :
		    inet_pton(strchr(v, ':') ? AF_INET6 : AF_INET, v, ip) != 1)
			return CRYPTO_ERR_NAME;
	}
	if (n > 0 && (c->tls_names = calloc(n, sizeof(*names))) == NULL)
		return CRYPTO_ERR_NOMEM;
	if (n > 0)
		memcpy(c->tls_names, names, n * sizeof(*names));
	c->n_tls_names = n;
	return CRYPTO_OK;
}

int
pki_signer_cfg_set(struct pki_signer_cfg *out,
    const struct crypto_signer_config *in)
{
	static const struct crypto_signer_config none;
	int ret;

	memset(out, 0, sizeof(*out));
	if (in == NULL)
		in = &none;
	if (in->max_backdate < 0 || in->max_backdate > PKI_BACKDATE_MAX ||
	    (in->pki_url != NULL && !url_ok(in->pki_url)) ||
	    (in->ocsp && in->pki_url == NULL))
		return CRYPTO_ERR_INVALID;
	out->policy = in->policy;
	out->max_backdate = in->max_backdate != 0 ? in->max_backdate :
	    PKI_BACKDATE_DEFAULT;
	out->ocsp = in->ocsp != 0;
	if ((ret = profiles_set(out, in->profiles, in->n_profiles)) != 0 ||
	    (ret = tls_names_set(out, in->tls_names, in->n_tls_names)) != 0)
		goto out;
	if (in->pki_url != NULL && (out->pki_url = strdup(in->pki_url)) == NULL)
		ret = CRYPTO_ERR_NOMEM;
out:
	if (ret != CRYPTO_OK)
		pki_signer_cfg_clear(out);
	return ret;
}

void
pki_signer_cfg_view(const struct pki_signer_cfg *c,
    struct crypto_signer_config *out)
{
	memset(out, 0, sizeof(*out));
	out->policy = c->policy;
	out->profiles = c->profiles;
	out->n_profiles = c->n_profiles;
	out->tls_names = c->tls_names;
	out->n_tls_names = c->n_tls_names;
	out->max_backdate = c->max_backdate;
	out->pki_url = c->pki_url;
	out->ocsp = c->ocsp;
}

void
pki_signer_cfg_clear(struct pki_signer_cfg *c)
{
	free(c->tls_names);
	free(c->pki_url);
	memset(c, 0, sizeof(*c));
}

const struct crypto_profile *
pki_signer_profile(const struct pki_signer_cfg *c, const char *name)
{
	size_t i;

	if (c->n_profiles == 0)
		return NULL;
	if (name == NULL || name[0] == '\0')
		return &c->profiles[0];
	for (i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

int
crypto_signer_issuer_id(const struct crypto_signer *s, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (s == NULL || out == NULL || s->key_id_len == 0 || s->key_id_len > 32)
		return CRYPTO_ERR_INVALID;
	for (i = 0; i < s->key_id_len; i++) {
		out[2 * i] = digits[s->key_id[i] >> 4];
		out[2 * i + 1] = digits[s->key_id[i] & 0x0f];
	}
	out[2 * s->key_id_len] = '\0';
	return CRYPTO_OK;
}
