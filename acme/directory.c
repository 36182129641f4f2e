/*
 * directory.c: the directory resource (RFC 8555 §7.1.1), the one URL a
 * client is configured with. Every resource URL is absolute, built on the
 * base URL the client reached the server under. Beyond RFC 8555: renewalInfo
 * (RFC 9773) and meta "profiles" (draft-ietf-acme-profiles).
 */
#include "acme_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

static int
add_url(cJSON *o, const char *field, const char *base, const char *path)
{
	char url[ACME_MAX_URL];
	int n = snprintf(url, sizeof(url), "%s%s", base, path);

	if (n < 0 || (size_t)n >= sizeof(url))
		return -1;
	return cJSON_AddStringToObject(o, field, url) != NULL ? 0 : -1;
}

char *
acme_directory_json(const struct acme *a, const char *base_url)
{
	cJSON *o = NULL, *meta;
	char *out = NULL;

	if ((o = cJSON_CreateObject()) == NULL)
		goto out;
	if (add_url(o, "newNonce", base_url, ACME_PATH_NEW_NONCE) != 0 ||
	    add_url(o, "newAccount", base_url, ACME_PATH_NEW_ACCOUNT) != 0 ||
	    add_url(o, "newOrder", base_url, ACME_PATH_NEW_ORDER) != 0 ||
	    add_url(o, "newAuthz", base_url, ACME_PATH_NEW_AUTHZ) != 0 ||
	    add_url(o, "revokeCert", base_url, ACME_PATH_REVOKE_CERT) != 0 ||
	    add_url(o, "keyChange", base_url, ACME_PATH_KEY_CHANGE) != 0 ||
	    add_url(o, "renewalInfo", base_url, ACME_PATH_RENEWAL_INFO) != 0)
		goto out;
	if ((meta = cJSON_AddObjectToObject(o, "meta")) == NULL)
		goto out;
	if (a->cfg.website != NULL &&
	    cJSON_AddStringToObject(meta, "website", a->cfg.website) == NULL)
		goto out;
	/* RFC 8555 §7.3.4: true when newAccount needs a binding */
	if (cJSON_AddBoolToObject(meta, "externalAccountRequired",
	    acme_settings(a)->eab_required != 0) == NULL)
		goto out;
	if (a->cfg.n_caa_identities > 0 && !cJSON_AddItemToObject(meta,
	    "caaIdentities", cJSON_CreateStringArray(a->cfg.caa_identities,
	    (int)a->cfg.n_caa_identities)))
		goto out;
	if (!cJSON_AddItemToObject(meta, "profiles", acme_profile_meta(a)))
		goto out;
	out = cJSON_Print(o);
out:
	cJSON_Delete(o);
	return out;
}
