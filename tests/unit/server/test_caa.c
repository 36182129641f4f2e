/*
 * test_caa.c: finding the relevant CAA record set (RFC 8659 §3) against a
 * real DNS server (pebble-challtestsrv) on loopback: records at the name,
 * records found by climbing to a parent, an empty set up to the TLD, a
 * SERVFAIL on the way up; and, from a responder in this process, flags, a
 * long tag and an over-long value.
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"
#include "rawdns.h"

#include "caa.h"
#include "resolver.h"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	size_t n;
	struct acme_caa_record recs[ACME_MAX_CAA];
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;

static void
done_cb(enum acme_fetch_status st, const char *detail,
    const struct acme_caa_record *recs, size_t n, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->status = st;
	snprintf(o->detail, sizeof(o->detail), "%s", detail != NULL ? detail : "");
	o->n = n;
	if (n > 0)
		memcpy(o->recs, recs, n * sizeof(*recs));
}

static void
lookup_on(struct resolver *rs, const char *name, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (caa_lookup_start(rs, name, done_cb, o) == NULL) {
		o->status = (enum acme_fetch_status)-1;
		snprintf(o->detail, sizeof(o->detail), "did not start");
		return;
	}
	CHECK_EQ_INT(o->calls, 0);
	lt_run_until(base, &o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

static void
lookup(const char *name, struct outcome *o)
{
	lookup_on(res, name, o);
}

static void
caa_add(const char *host, const char *tag, const char *value)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"host\":\"%s\",\"policies\":[{\"tag\":"
	    "\"%s\",\"value\":\"%s\"}]}", host, tag, value);
	CHECK_EQ_INT(ct_post(&ct, "/add-caa", json), 200);
}

static void
test_at_name_and_parent(void)
{
	struct outcome o;

	caa_add("corp.test", "issue", "ca.corp.test; validationmethods=dns-01");
	caa_add("corp.test", "iodef", "mailto:pki@corp.test");

	/* At the name itself. */
	lookup("corp.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 2);
	CHECK_EQ_STR(o.recs[0].tag, "issue");
	CHECK_EQ_STR(o.recs[0].value, "ca.corp.test; validationmethods=dns-01");
	CHECK_EQ_INT(o.recs[0].flags, 0);
	CHECK_EQ_STR(o.recs[1].tag, "iodef");

	/* Two labels down: found by climbing. */
	lookup("db1.ns.corp.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 2);
	CHECK_EQ_STR(o.recs[0].value, "ca.corp.test; validationmethods=dns-01");

	/* A set closer to the name wins over the parent's. */
	caa_add("ns.corp.test", "issue", "other-ca.test");
	lookup("db1.ns.corp.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.recs[0].value, "other-ca.test");

	/* A final dot changes nothing. */
	lookup("db1.ns.corp.test.", &o);
	CHECK_EQ_INT(o.n, 1);
}

static void
test_empty(void)
{
	struct outcome o;

	lookup("host.free.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 0);
	CHECK_EQ_STR(o.detail, "");

	/* A single label is its own top-level domain. */
	lookup("localhost", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 0);
}

/* The TLD carries records: the climb goes that far. */
static void
test_tld(void)
{
	struct outcome o;

	caa_add("tldtest", "issue", ";");
	lookup("a.b.c.tldtest", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.recs[0].value, ";");
}

static void
test_servfail(void)
{
	struct outcome o;

	CHECK_EQ_INT(ct_post(&ct, "/set-servfail", "{\"host\":\"broken.test\"}"),
	    200);
	lookup("www.broken.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "CAA query for broken.test: SERVFAIL");
	CHECK_EQ_INT(o.n, 0);

	/* At the name itself. */
	lookup("broken.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "CAA query for broken.test: SERVFAIL");
}

/* A CNAME at the name: the alias's records count. */
static void
test_cname(void)
{
	struct outcome o;

	caa_add("target.other.test", "issue", "aliased-ca.test");
	CHECK_EQ_INT(ct_post(&ct, "/set-cname", "{\"host\":\"alias.corp2.test\","
	    "\"target\":\"target.other.test\"}"), 200);
	lookup("alias.corp2.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.recs[0].value, "aliased-ca.test");
}

static void
test_raw(void)
{
	static const uint8_t crit[] = { 128, 5, 'i', 's', 's', 'u', 'e', 'c', 'a' };
	static const uint8_t longtag[] = { 0, 20, 'a', 'b', 'c', 'd', 'e', 'f',
	    'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'v' };
	static const uint8_t notag[] = { 0, 0 };
	struct resolver_options ro;
	struct resolver *rs;
	struct rawdns d;
	struct outcome o;
	uint8_t big[2 + 5 + 300];
	char err[128];

	CHECK(rawdns_start(&d, base) == 0);
	memset(&ro, 0, sizeof(ro));
	ro.servers = d.addr;
	rs = resolver_new(base, &ro, err, sizeof(err));
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	rawdns_add(&d, 257, crit, sizeof(crit));
	rawdns_add(&d, 257, longtag, sizeof(longtag));
	/* An issue value over 255 bytes: kept as "" so that nothing that
	 * restricts it is lost (an issue property naming no CA). */
	big[0] = 0;
	big[1] = 5;
	memcpy(big + 2, "issue", 5);
	memset(big + 7, 'x', 300);
	rawdns_add(&d, 257, big, sizeof(big));
	lookup_on(rs, "raw.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 3);
	CHECK_EQ_INT(o.recs[0].flags, 128);
	CHECK_EQ_STR(o.recs[0].tag, "issue");
	CHECK_EQ_STR(o.recs[0].value, "ca");
	CHECK_EQ_STR(o.recs[1].tag, "abcdefghijklmno");
	CHECK_EQ_STR(o.recs[1].value, "v");
	CHECK_EQ_STR(o.recs[2].tag, "issue");
	CHECK_EQ_STR(o.recs[2].value, "");

	rawdns_clear(&d);
	rawdns_add(&d, 257, notag, sizeof(notag));
	lookup_on(rs, "raw.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "CAA query for raw.test: malformed CAA record");
	resolver_free(rs);
	rawdns_stop(&d);
}

int
main(void)
{
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	if (res != NULL) {
		test_at_name_and_parent();
		test_empty();
		test_tld();
		test_servfail();
		test_cname();
		test_raw();
		CHECK(caa_lookup_start(res, "", done_cb, NULL) == NULL);
	}
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
