/*
 * profile.c: certificate profiles as ACME shows them (draft-ietf-acme-
 * profiles): the directory's meta "profiles", the "profile" a newOrder asks
 * for, refused with invalidProfile when it names none of ours. What a
 * profile puts in a certificate is the signer's business; acme/ takes the
 * lifetime from it.
 */
#include "acme_internal.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

const struct crypto_profile *
acme_profile_find(const struct acme *a, const char *name)
{
	const struct acme_settings *s = acme_settings(a);
	size_t i;

	if (name == NULL)
		return &s->profiles[0];
	for (i = 0; i < s->n_profiles; i++)
		if (strcmp(s->profiles[i].name, name) == 0)
			return &s->profiles[i];
	return NULL;
}

const struct crypto_profile *
acme_profile_of_payload(const struct acme *a, const cJSON *payload,
    struct acme_response *resp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, "profile");
	const struct crypto_profile *p;

	if (v == NULL)
		return acme_profile_find(a, NULL);
	if (!cJSON_IsString(v)) {
		acme_respond_problem(resp, ACME_P_MALFORMED, 0,
		    "profile must be a string");
		return NULL;
	}
	if ((p = acme_profile_find(a, v->valuestring)) == NULL) {
		/* Only our own names are echoed, never the client's string. */
		acme_respond_problem(resp, ACME_P_INVALID_PROFILE, 0,
		    "no such profile; the directory's meta \"profiles\" lists "
		    "those offered");
		return NULL;
	}
	return p;
}

/* "90 days", "160 hours", "45 minutes": the largest unit that divides. */
static void
lifetime_text(long secs, char *out, size_t outsz)
{
	if (secs % 86400 == 0)
		snprintf(out, outsz, "%ld day%s", secs / 86400,
		    secs == 86400 ? "" : "s");
	else if (secs % 3600 == 0)
		snprintf(out, outsz, "%ld hours", secs / 3600);
	else
		snprintf(out, outsz, "%ld seconds", secs);
}

static void
profile_description(const struct crypto_profile *p, int is_default,
    char *out, size_t outsz)
{
	char life[48];

	lifetime_text(p->lifetime, life, sizeof(life));
	snprintf(out, outsz, "%scertificates valid %s%s%s%s",
	    is_default ? "default: " : "", life,
	    (p->eku & (CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH)) ? ", for" : "",
	    (p->eku & CRYPTO_EKU_SERVER_AUTH) ? " serverAuth" : "",
	    (p->eku & CRYPTO_EKU_CLIENT_AUTH) ? " clientAuth" : "");
}

cJSON *
acme_profile_meta(const struct acme *a)
{
	const struct acme_settings *s = acme_settings(a);
	cJSON *o = cJSON_CreateObject();
	char desc[160];
	size_t i;

	for (i = 0; o != NULL && i < s->n_profiles; i++) {
		profile_description(&s->profiles[i], i == 0, desc, sizeof(desc));
		if (cJSON_AddStringToObject(o, s->profiles[i].name, desc) == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}
