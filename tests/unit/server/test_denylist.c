/*
 * test_denylist.c: --validation-deny. Parsing (defaults, "none", every way
 * a range can be wrong), matching (IPv4, IPv6, IPv4-mapped IPv6), the
 * start-up error naming the setting, and http-01 fetches against a real
 * pebble-challtestsrv that the list stops: an IP identifier in the default
 * link-local range, a name in a configured range, a redirect to a denied
 * address, a name whose every address is denied, and one with an allowed
 * address left.
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"

#include "denylist.h"
#include "http01.h"
#include "resolver.h"
#include "server_internal.h"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	int http_status;
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;

static struct resolver_addr
addr(const char *s)
{
	struct resolver_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	(void)inet_pton(a.family, s, a.addr);
	return a;
}

/* The range s is denied by, or "" when allowed. */
static const char *
match(const struct denylist *d, const char *s)
{
	static char range[DENYLIST_RANGE_STRLEN];
	struct resolver_addr a = addr(s);

	range[0] = '\0';
	if (!denylist_match(d, &a, range, sizeof(range)))
		range[0] = '\0';
	return range;
}

static void
test_parse_and_match(void)
{
	const char *mine[] = { "10.0.0.0/8", "fd00::/8", "192.0.2.7", "2001:db8::/127" };
	const char *none[] = { "none" };
	const char *bad[][1] = { { "10.0.0.1/8" }, { "10.0.0.0/33" }, { "10.0.0.0/" },
	    { "10.0.0/8" }, { "fe80::/129" }, { "fe80::1/10" }, { "example.com" },
	    { "10.0.0.0/+8" }, { "10.0.0.0/08x" }, { "/8" } };
	const char *mixed[] = { "none", "10.0.0.0/8" };
	struct resolver_addr a;
	struct denylist *d;
	char err[256];
	size_t i;

	/* Defaults when not configured. */
	d = denylist_new(NULL, 0, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_INT(denylist_count(d), 3);
	CHECK_EQ_STR(match(d, "169.254.169.254"), "169.254.0.0/16");
	CHECK_EQ_STR(match(d, "fe80::1"), "fe80::/10");
	CHECK_EQ_STR(match(d, "febf:ffff::1"), "fe80::/10");
	CHECK_EQ_STR(match(d, "fd00:ec2::254"), "fd00:ec2::254/128");
	CHECK_EQ_STR(match(d, "fd00:ec2::255"), "");
	CHECK_EQ_STR(match(d, "::ffff:169.254.1.1"), "169.254.0.0/16");
	CHECK_EQ_STR(match(d, "169.255.0.1"), "");
	CHECK_EQ_STR(match(d, "127.0.0.1"), "");
	CHECK_EQ_STR(match(d, "fec0::1"), "");
	denylist_free(d);

	d = denylist_new(none, 1, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_INT(denylist_count(d), 0);
	CHECK_EQ_STR(match(d, "169.254.169.254"), "");
	denylist_free(d);

	d = denylist_new(mine, 4, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_STR(match(d, "10.255.255.255"), "10.0.0.0/8");
	CHECK_EQ_STR(match(d, "11.0.0.0"), "");
	CHECK_EQ_STR(match(d, "192.0.2.7"), "192.0.2.7/32");
	CHECK_EQ_STR(match(d, "192.0.2.8"), "");
	CHECK_EQ_STR(match(d, "fdff::1"), "fd00::/8");
	CHECK_EQ_STR(match(d, "2001:db8::1"), "2001:db8::/127");
	CHECK_EQ_STR(match(d, "2001:db8::2"), "");
	CHECK_EQ_STR(match(d, "::ffff:10.1.2.3"), "10.0.0.0/8");
	denylist_free(d);

	/* No list denies nothing. */
	a = addr("169.254.0.1");
	CHECK_EQ_INT(denylist_match(NULL, &a, NULL, 0), 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		d = denylist_new(bad[i], 1, err, sizeof(err));
		CHECK(d == NULL);
		CHECK_CONTAINS(err, bad[i][0]);
		denylist_free(d);
	}
	d = denylist_new((const char *[]){ "10.0.0.1/8" }, 1, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_EQ_STR(err, "\"10.0.0.1/8\" has host bits set (the range is 10.0.0.0/8)");
	d = denylist_new(mixed, 2, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_CONTAINS(err, "\"none\" cannot be combined");
}

/* hearth serve --validation-deny with a bad value does not start, and says
 * which setting and value. */
static void
test_config_error(void)
{
	char *argv[] = { "--data", "/tmp/x", "--validation-deny", "10.0.0.0/8",
	    "--validation-deny", "fe80::/200" };
	char *ok[] = { "--data", "/tmp/x", "--validation-deny", "none" };
	char path[512], err[1024];
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct config c;
	FILE *f;
	int ret, saved;
	size_t n;

	snprintf(path, sizeof(path), "%s/denylist-stderr-%d", tmp != NULL ? tmp :
	    "/tmp", (int)getpid());
	config_defaults(&c);
	fflush(stderr);
	saved = dup(2);
	if (freopen(path, "w", stderr) == NULL)
		return;
	ret = config_parse(&c, CMD_SERVE, 6, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	n = f != NULL ? fread(err, 1, sizeof(err) - 1, f) : 0;
	err[n] = '\0';
	if (f != NULL)
		fclose(f);
	unlink(path);
	CHECK_EQ_INT(ret, -1);
	CHECK_CONTAINS(err, "validation-deny");
	CHECK_CONTAINS(err, "fe80::/200");
	config_free(&c);

	config_defaults(&c);
	CHECK_EQ_INT(config_parse(&c, CMD_SERVE, 4, ok), 0);
	config_free(&c);
}

static void
done_cb(const struct acme_validation_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->status = r->status;
	o->http_status = r->http_status;
	snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
}

static void
fetch(struct http01_client *c, const char *ident, int is_ip, const char *token,
    struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (http01_fetch_start(c, ident, is_ip, token, done_cb, o) == NULL) {
		o->status = (enum acme_fetch_status)-1;
		return;
	}
	lt_run_until(base, &o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

static struct http01_client *
client(const struct denylist *d)
{
	struct http01_options o;

	memset(&o, 0, sizeof(o));
	o.port = ct.http;
	o.deny = d;
	return http01_client_new(base, res, &o);
}

static void
test_http01(void)
{
	const char *lo[] = { "127.0.0.0/8" };
	const char *one[] = { "127.0.0.2/32", "::1/128" };
	struct denylist *dflt = denylist_new(NULL, 0, NULL, 0);
	struct denylist *dlo = denylist_new(lo, 1, NULL, 0);
	struct denylist *done = denylist_new(one, 2, NULL, 0);
	struct http01_client *c;
	struct outcome o;
	char json[512];

	CHECK(dflt != NULL && dlo != NULL && done != NULL);

	/* The default list: link-local IP identifiers, and nothing else. */
	c = client(dflt);
	fetch(c, "169.254.169.254", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	fetch(c, "fe80::1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address fe80::1 is in denied range fe80::/10");
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"meta.test\",\"addresses\":"
	    "[\"169.254.169.254\"]}"), 200);
	fetch(c, "meta.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);

	/* A redirect to a denied address is refused before connecting. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "tometa\",\"targetURL\":\"http://169.254.169.254:%u/latest/meta-data/\"}",
	    ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "tometa", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "tometaname\",\"targetURL\":\"http://meta.test:%u/x\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "tometaname", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	http01_client_free(c);

	/* A configured range: names and IP identifiers alike. */
	c = client(dlo);
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.1 is in denied range 127.0.0.0/8");
	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.1 is in denied range 127.0.0.0/8");
	http01_client_free(c);

	/* Every address denied; and an allowed one left, which is used. */
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"two.test\",\"addresses\":"
	    "[\"127.0.0.2\",\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"dual.test\",\"addresses\":"
	    "[\"127.0.0.2\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-aaaa", "{\"host\":\"dual.test\","
	    "\"addresses\":[\"::1\"]}"), 200);
	c = client(done);
	fetch(c, "dual.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "every address of dual.test is denied: address "
	    "127.0.0.2 is in denied range 127.0.0.2/32");
	fetch(c, "two.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 200);

	/* After a redirect to a name whose address is denied. */
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"deny2.test\","
	    "\"addresses\":[\"127.0.0.2\"]}"), 200);
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "todeny2\",\"targetURL\":\"http://deny2.test:%u/.well-known/"
	    "acme-challenge/tokOK\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "todeny2", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.2 is in denied range 127.0.0.2/32");
	http01_client_free(c);
	denylist_free(dflt);
	denylist_free(dlo);
	denylist_free(done);
}

int
main(void)
{
	test_parse_and_match();
	test_config_error();
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"ok.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-http01", "{\"token\":\"tokOK\","
	    "\"content\":\"tokOK.thumbprint\"}"), 200);
	if (res != NULL)
		test_http01();
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
