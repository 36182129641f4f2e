/*
 * record.c: how acme/ keeps its state in the store. Every record is a JSON
 * object keyed by an identifier that sorts by creation time, so an
 * account's orders list in the order they were made. Also the small
 * formatting helpers every resource needs (URLs, RFC 3339 times).
 */
#include "acme_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store.h"

int
acme_id_new(struct acme *a, time_t now, char out[ACME_ID_LEN + 1])
{
	uint8_t r[8];
	int i;

	if (a->cfg.random(r, sizeof(r)) != 0)
		return ACME_ERR_INTERNAL;
	snprintf(out, ACME_ID_LEN + 1, "%08lx", (unsigned long)(uint32_t)now);
	for (i = 0; i < 8; i++)
		snprintf(out + 8 + 2 * i, 3, "%02x", r[i]);
	return ACME_OK;
}

int
acme_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return i == ACME_ID_LEN;
}

int
acme_record_load(struct store_txn *txn, int table, const char *id, cJSON **out)
{
	const void *val;
	size_t len;
	int ret;

	*out = NULL;
	if (id == NULL)
		return STORE_NOTFOUND;
	if ((ret = store_get(txn, (enum store_table)table, id, strlen(id), &val,
	    &len)) != 0)
		return ret;
	*out = cJSON_ParseWithLength(val, len);
	if (*out != NULL && cJSON_IsObject(*out))
		return 0;
	cJSON_Delete(*out);
	*out = NULL;
	return STORE_ERR_CORRUPT;
}

cJSON *
acme_record_get(struct store_txn *txn, int table, const char *id)
{
	cJSON *o;

	(void)acme_record_load(txn, table, id, &o);
	return o;
}

int
acme_record_put(struct store_txn *txn, int table, const char *id, const cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	int ret;

	if (text == NULL)
		return STORE_ERR_NOMEM;
	ret = store_put(txn, (enum store_table)table, id, strlen(id), text,
	    strlen(text), 0);
	free(text);
	return ret;
}

const char *
acme_json_str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

time_t
acme_json_time(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (time_t)v->valuedouble : 0;
}

void
acme_time_format(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

int
acme_time_parse(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	char sign;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d,
	    &h, &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + n;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
			return -1;
		p += 6;
		if (sign == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*out = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400L +
	    h * 3600L + mi * 60L + sec - oh * 3600L - om * 60L);
	return 0;
}

int
acme_url(char *out, size_t outsz, const char *base, const char *kind,
    const char *id)
{
	int n = snprintf(out, outsz, "%s/acme/%s/%s", base, kind, id);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
acme_account_url(const struct acme_request *req, const char *id, char *out,
    size_t outsz)
{
	return acme_url(out, outsz, req->base_url, "account", id);
}

int
acme_request_url(const struct acme_request *req, char *out, size_t outsz)
{
	int n;

	if (req->query != NULL && *req->query != '\0')
		n = snprintf(out, outsz, "%s%s?%s", req->base_url, req->path, req->query);
	else
		n = snprintf(out, outsz, "%s%s", req->base_url, req->path);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

void
acme_be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t
acme_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}
