/*
 * test_ident.c: identifier checks (RFC 8555 §7.1.3, RFC 8738), the name
 * policy as newOrder and newAuthz apply it (rejectedIdentifier, compound
 * problems with subproblems, §6.7.1), and the RFC 3339 time parser that
 * notBefore/notAfter go through.
 */
#include "check.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"

/* Runs acme_ident_check on {"type":type,"value":value}; returns the problem
 * type's suffix ("" when accepted) and the normalised value. */
static const char *
ident(const char *type, const char *value, char out[256], int *wildcard)
{
	static char kind[64];
	struct acme_response resp;
	enum acme_ident_type t;
	cJSON *o = cJSON_CreateObject(), *p;
	int ret;

	memset(&resp, 0, sizeof(resp));
	if (type != NULL)
		cJSON_AddStringToObject(o, "type", type);
	if (value != NULL)
		cJSON_AddStringToObject(o, "value", value);
	out[0] = '\0';
	ret = acme_ident_check(o, &t, out, wildcard, &resp);
	cJSON_Delete(o);
	kind[0] = '\0';
	if (ret != 0) {
		p = cJSON_Parse(resp.body);
		snprintf(kind, sizeof(kind), "%s", strrchr(acme_json_str(p, "type"), ':') + 1);
		cJSON_Delete(p);
	}
	acme_response_clear(&resp);
	return kind;
}

static void
test_dns(void)
{
	char v[256], long_label[80], long_name[400];
	int w;

	CHECK_EQ_STR(ident("dns", "Grafana.Corp.Internal", v, &w), "");
	CHECK_EQ_STR(v, "grafana.corp.internal");
	CHECK_EQ_INT(w, 0);
	CHECK_EQ_STR(ident("dns", "*.ns.corp.internal", v, &w), "");
	CHECK_EQ_INT(w, 1);
	CHECK_EQ_STR(ident("dns", "localhost", v, &w), "");
	CHECK_EQ_STR(ident("dns", "xn--bcher-kva.example", v, &w), "");
	CHECK_EQ_STR(ident("dns", "a-b.c", v, &w), "");

	CHECK_EQ_STR(ident("dns", "", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "bad_name.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "-lead.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "trail-.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "a..b", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "trailing.dot.", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "*.*.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "a.*.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "*", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "*.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "ab--cd.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "xn--.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "xn--mnchen-3ya.corp", v, &w), "");   /* münchen */
	CHECK_EQ_STR(ident("dns", "xn--fiqs8s.corp", v, &w), "");       /* 中国 */
	CHECK_EQ_STR(ident("dns", "xn--abc.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "xn--ls8h.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "xn--bcher-kva.corp.internal", v, &w), "");
	CHECK_EQ_STR(ident("dns", "xn--zzzzzzzzzzzzzzz.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "xn--ascii-.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "caf\xc3\xa9.corp", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "10.0.0.1", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "::1", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("dns", "host.123", v, &w), "rejectedIdentifier");

	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	snprintf(long_name, sizeof(long_name), "%s.corp", long_label);
	CHECK_EQ_STR(ident("dns", long_name, v, &w), "rejectedIdentifier");
	long_label[63] = '\0';
	snprintf(long_name, sizeof(long_name), "%s.corp", long_label);
	CHECK_EQ_STR(ident("dns", long_name, v, &w), "");
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", long_label, long_label,
	    long_label, long_label);   /* 255 characters */
	CHECK_EQ_STR(ident("dns", long_name, v, &w), "rejectedIdentifier");
}

static void
test_ip_and_types(void)
{
	char v[256];
	int w;

	CHECK_EQ_STR(ident("ip", "127.0.0.1", v, &w), "");
	CHECK_EQ_STR(v, "127.0.0.1");
	CHECK_EQ_STR(ident("ip", "0:0:0:0:0:0:0:1", v, &w), "");
	CHECK_EQ_STR(v, "::1");
	CHECK_EQ_STR(ident("ip", "2001:DB8::1", v, &w), "");
	CHECK_EQ_STR(v, "2001:db8::1");
	CHECK_EQ_STR(ident("ip", "::ffff:127.0.0.1", v, &w), "rejectedIdentifier");
	CHECK_EQ_STR(ident("ip", "300.1.1.1", v, &w), "malformed");
	CHECK_EQ_STR(ident("ip", "host.corp", v, &w), "malformed");
	CHECK_EQ_STR(ident("email", "a@b.c", v, &w), "unsupportedIdentifier");
	CHECK_EQ_STR(ident(NULL, "a.b", v, &w), "malformed");
	CHECK_EQ_STR(ident("dns", NULL, v, &w), "malformed");
}

static const char *
member(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static void
test_policy(void)
{
	struct acme a;
	struct acme_settings set;
	struct acme_response r;
	struct crypto_policy *p = crypto_policy_new();
	struct acme_ident ids[4] = {
		{ ACME_IDENT_DNS, "a.corp.internal", 0 },
		{ ACME_IDENT_DNS, "github.com", 0 },
		{ ACME_IDENT_IP, "8.8.8.8", 0 },
		{ ACME_IDENT_DNS, "*.x.corp.internal", 1 },
	};
	cJSON *doc, *subs, *sub;

	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, "x.corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add_defaults(p), 0);
	memset(&a, 0, sizeof(a));
	memset(&set, 0, sizeof(set));
	a.settings = &set;
	memset(&r, 0, sizeof(r));
	/* no policy: everything well-formed passes (tests that predate it) */
	CHECK_EQ_INT(acme_ident_policy(&a, ids, 4, &r), 0);
	CHECK(r.body == NULL);
	set.policy = p;
	CHECK_EQ_INT(acme_ident_policy(&a, ids, 1, &r), 0);
	CHECK(r.body == NULL);

	/* one refused identifier: rejectedIdentifier naming the rule */
	CHECK_EQ_INT(acme_ident_policy(&a, ids, 2, &r), -1);
	CHECK_EQ_INT(r.status, 400);
	CHECK_EQ_STR(r.content_type, "application/problem+json");
	doc = cJSON_ParseWithLength(r.body, r.body_len);
	CHECK_EQ_STR(member(doc, "type"), "urn:ietf:params:acme:error:rejectedIdentifier");
	CHECK(member(doc, "detail") != NULL && strncmp(member(doc, "detail"),
	    "\"github.com\" is not under an allowed DNS suffix (allowed: internal, "
	    "home.arpa,", 63) == 0);
	CHECK(strstr(r.body, "--allow-dns") != NULL);
	cJSON_Delete(doc);
	acme_response_clear(&r);

	/* several: one compound problem, a subproblem per refused identifier */
	CHECK_EQ_INT(acme_ident_policy(&a, ids, 4, &r), -1);
	CHECK_EQ_INT(r.status, 403);
	doc = cJSON_ParseWithLength(r.body, r.body_len);
	CHECK_EQ_STR(member(doc, "type"), "urn:ietf:params:acme:error:compound");
	CHECK_EQ_STR(member(doc, "detail"), "3 identifiers are refused by the name policy");
	subs = cJSON_GetObjectItemCaseSensitive(doc, "subproblems");
	CHECK_EQ_INT(cJSON_GetArraySize(subs), 3);
	sub = cJSON_GetArrayItem(subs, 1);
	CHECK_EQ_STR(member(sub, "type"), "urn:ietf:params:acme:error:rejectedIdentifier");
	CHECK_EQ_STR(member(cJSON_GetObjectItemCaseSensitive(sub, "identifier"), "type"),
	    "ip");
	CHECK_EQ_STR(member(cJSON_GetObjectItemCaseSensitive(sub, "identifier"), "value"),
	    "8.8.8.8");
	CHECK(member(sub, "detail") != NULL &&
	    strstr(member(sub, "detail"), "not in an allowed IP range") != NULL);
	sub = cJSON_GetArrayItem(subs, 2);
	CHECK_EQ_STR(member(cJSON_GetObjectItemCaseSensitive(sub, "identifier"), "value"),
	    "*.x.corp.internal");
	CHECK_EQ_STR(member(sub, "detail"), "\"*.x.corp.internal\" is under the denied "
	    "DNS suffix \"x.corp.internal\"");
	cJSON_Delete(doc);
	acme_response_clear(&r);
	crypto_policy_free(p);
}

static void
test_time(void)
{
	time_t t;
	char buf[32];

	CHECK_EQ_INT(acme_time_parse("2026-11-27T15:40:56Z", &t), 0);
	CHECK_EQ_INT(t, 1795794056);
	acme_time_format(t, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "2026-11-27T15:40:56Z");
	CHECK_EQ_INT(acme_time_parse("2026-11-27T16:40:56+01:00", &t), 0);
	CHECK_EQ_INT(t, 1795794056);
	CHECK_EQ_INT(acme_time_parse("2026-11-27T15:40:56.123Z", &t), 0);
	CHECK_EQ_INT(t, 1795794056);
	CHECK_EQ_INT(acme_time_parse("1970-01-01T00:00:00Z", &t), 0);
	CHECK_EQ_INT(t, 0);
	CHECK_EQ_INT(acme_time_parse("2000-02-29T00:00:00Z", &t), 0);
	CHECK_EQ_INT(t, 951782400);
	CHECK(acme_time_parse("2026-11-27 15:40:56Z", &t) != 0 ||
	    t == 1795794056);
	CHECK(acme_time_parse("2026-13-01T00:00:00Z", &t) != 0);
	CHECK(acme_time_parse("2026-11-27T15:40:56", &t) != 0);
	CHECK(acme_time_parse("2026-11-27T15:40:56Zjunk", &t) != 0);
	CHECK(acme_time_parse("tomorrow", &t) != 0);
	CHECK(acme_time_parse("", &t) != 0);
	CHECK(acme_time_parse(NULL, &t) != 0);
}

int
main(void)
{
	test_dns();
	test_ip_and_types();
	test_policy();
	test_time();
	return CHECK_DONE();
}
