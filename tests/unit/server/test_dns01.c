/*
 * test_dns01.c: dns-01 lookups and the resolver's TXT records against a real
 * DNS server (pebble-challtestsrv) on loopback: several records, none,
 * CNAMEs followed (in one answer
 * and over several queries), a CNAME loop, too many CNAMEs, SERVFAIL and a
 * server that never answers; and, from a responder in this process, records
 * of several strings and malformed ones.
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"
#include "rawdns.h"

#include "dns01.h"
#include "resolver.h"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	size_t n;
	char txt[ACME_MAX_TXT][RESOLVER_MAX_TXT + 1];
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;

static void
done_cb(const struct acme_validation_result *r, void *arg)
{
	struct outcome *o = arg;
	size_t i;

	o->calls++;
	o->done = 1;
	o->status = r->status;
	snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
	o->n = r->n_txt;
	for (i = 0; i < r->n_txt && i < ACME_MAX_TXT; i++)
		snprintf(o->txt[i], sizeof(o->txt[i]), "%s", r->txt[i]);
}

static void
fetch_on(struct resolver *rs, const char *ident, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (dns01_fetch_start(rs, ident, done_cb, o) == NULL) {
		o->status = (enum acme_fetch_status)-1;
		snprintf(o->detail, sizeof(o->detail), "did not start");
		return;
	}
	CHECK_EQ_INT(o->calls, 0);       /* never from inside the start call */
	lt_run_until(base, &o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

static void
fetch(const char *ident, struct outcome *o)
{
	fetch_on(res, ident, o);
}

/* Nonzero when o holds value among its records. */
static int
has(const struct outcome *o, const char *value)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->txt[i], value) == 0)
			return 1;
	return 0;
}

/* challtestsrv keys TXT records by the fully qualified name, final dot
 * included (unlike its other records). */
static void
txt_set(const char *host, const char *value)
{
	char json[2048];

	snprintf(json, sizeof(json), "{\"host\":\"%s.\",\"value\":\"%s\"}", host,
	    value);
	CHECK_EQ_INT(ct_post(&ct, "/set-txt", json), 200);
}

static void
cname_set(const char *host, const char *target)
{
	char json[600];

	snprintf(json, sizeof(json), "{\"host\":\"%s\",\"target\":\"%s\"}", host,
	    target);
	CHECK_EQ_INT(ct_post(&ct, "/set-cname", json), 200);
}

static void
test_found_among_several(void)
{
	struct outcome o;

	txt_set("_acme-challenge.multi.test", "first-value");
	txt_set("_acme-challenge.multi.test", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
	txt_set("_acme-challenge.multi.test", "third value with spaces");
	fetch("multi.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 3);
	CHECK(has(&o, "first-value"));
	CHECK(has(&o, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
	CHECK(has(&o, "third value with spaces"));
}

/* NXDOMAIN and NODATA are answers: acme/ reports the missing record. */
static void
test_missing(void)
{
	struct outcome o;

	fetch("nothing.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 0);
	CHECK_EQ_STR(o.detail, "");

	/* TXT at the name itself, not at _acme-challenge: still none. */
	txt_set("plain.test", "not-here");
	fetch("plain.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 0);
}

/* What challtestsrv cannot serve, from a responder in this process: a
 * record of several character-strings is one value (RFC 7208 §3.3); NUL
 * bytes cannot sneak a match in; a record whose lengths overrun its data
 * is a DNS failure, not a silent skip. */
static void
test_raw_records(void)
{
	static const uint8_t split[] = { 3, 'a', 'b', 'c', 0, 4, 'd', 'e', 'f', 'g' };
	static const uint8_t nul[] = { 5, 'x', 'y', 0, 'z', 'w' };
	static const uint8_t bad[] = { 9, 'a', 'b' };
	struct resolver_options ro;
	struct resolver *rs;
	struct rawdns d;
	struct outcome o;
	uint8_t big[1 + 255 + 1 + 150];
	char want[600];
	char err[128];

	CHECK(rawdns_start(&d, base) == 0);
	memset(&ro, 0, sizeof(ro));
	ro.servers = d.addr;
	rs = resolver_new(base, &ro, err, sizeof(err));
	CHECK(rs != NULL);
	if (rs == NULL)
		return;
	rawdns_add(&d, 16, split, sizeof(split));
	rawdns_add(&d, 16, nul, sizeof(nul));
	fetch_on(rs, "raw.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 2);
	CHECK_EQ_STR(o.txt[0], "abcdefg");   /* the empty string adds nothing */
	CHECK_EQ_STR(o.txt[1], "xy?zw");

	/* Strings of 255 and 150 bytes: one value of 405 (the answer stays
	 * within a UDP message of 512 bytes). */
	rawdns_clear(&d);
	big[0] = 255;
	memset(big + 1, 'p', 255);
	big[256] = 150;
	memset(big + 257, 'q', 150);
	rawdns_add(&d, 16, big, sizeof(big));
	fetch_on(rs, "raw.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	memset(want, 'p', 255);
	memset(want + 255, 'q', 150);
	want[405] = '\0';
	CHECK_EQ_STR(o.txt[0], want);

	rawdns_clear(&d);
	rawdns_add(&d, 16, bad, sizeof(bad));
	fetch_on(rs, "raw.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "TXT lookup of _acme-challenge.raw.test failed: "
	    "malformed TXT record");
	resolver_free(rs);
	rawdns_stop(&d);
}

static void
test_cname(void)
{
	struct outcome o;

	/* Delegated: the server puts the CNAME and the target's TXT in one
	 * answer. */
	txt_set("db1.acme.test", "delegated-value");
	cname_set("_acme-challenge.db1.test", "db1.acme.test");
	fetch("db1.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.txt[0], "delegated-value");

	/* Two hops: challtestsrv follows one, so the first answer holds only
	 * the alias and the resolver asks again. */
	txt_set("hop2.test", "two-hops");
	cname_set("hop1.test", "hop2.test");
	cname_set("_acme-challenge.chain.test", "hop1.test");
	fetch("chain.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.txt[0], "two-hops");

	/* An alias to nothing is no record, not an error. */
	cname_set("_acme-challenge.dangling.test", "gone.test");
	fetch("dangling.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 0);
}

static void
test_cname_loop_and_depth(void)
{
	struct outcome o;
	char host[64], target[64];
	int i;

	cname_set("_acme-challenge.loop.test", "loop-a.test");
	cname_set("loop-a.test", "loop-b.test");
	cname_set("loop-b.test", "loop-a.test");
	fetch("loop.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_CONTAINS(o.detail, "_acme-challenge.loop.test");
	CHECK_CONTAINS(o.detail, "CNAME loop at loop-a.test");

	/* Pointing back at the name asked for is a loop too. */
	cname_set("_acme-challenge.self.test", "_acme-challenge.self.test");
	fetch("self.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_CONTAINS(o.detail, "CNAME loop at _acme-challenge.self.test");

	/* 12 aliases in a row. */
	cname_set("_acme-challenge.deep.test", "d0.test");
	for (i = 0; i < 12; i++) {
		snprintf(host, sizeof(host), "d%d.test", i);
		snprintf(target, sizeof(target), "d%d.test", i + 1);
		cname_set(host, target);
	}
	txt_set("d12.test", "too-deep");
	fetch("deep.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_CONTAINS(o.detail, "too many CNAMEs");

	/* Exactly RESOLVER_MAX_CNAMES (10) is allowed: start at d3 (one alias
	 * from _acme-challenge, then d3 .. d12 is nine more). */
	cname_set("_acme-challenge.ten.test", "d3.test");
	fetch("ten.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(o.txt[0], "too-deep");
}

static void
test_servfail(void)
{
	struct outcome o;

	CHECK_EQ_INT(ct_post(&ct, "/set-servfail",
	    "{\"host\":\"_acme-challenge.broken.test\"}"), 200);
	fetch("broken.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "TXT lookup of _acme-challenge.broken.test "
	    "failed: SERVFAIL");

	/* SERVFAIL at a CNAME target names the target. */
	cname_set("_acme-challenge.via.test", "mid.test");
	cname_set("mid.test", "sf-target.test");
	CHECK_EQ_INT(ct_post(&ct, "/set-servfail", "{\"host\":\"mid.test\"}"), 200);
	fetch("via.test", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_CONTAINS(o.detail, "SERVFAIL at CNAME target mid.test");
}

/* A DNS server that never answers: a timeout, in time. */
static void
test_timeout(void)
{
	struct resolver_options ro;
	struct resolver *dead;
	struct outcome o;
	struct sockaddr_in sa;
	struct timespec t0;
	char servers[64], err[128];
	unsigned port = ct_free_port(1);
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	memset(&ro, 0, sizeof(ro));
	ro.servers = servers;
	ro.timeout_ms = 200;
	ro.tries = 1;
	dead = resolver_new(base, &ro, err, sizeof(err));
	CHECK(dead != NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fetch_on(dead, "slow.test", &o);
	CHECK(lt_ms_since(&t0) < 3000);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "TXT lookup of _acme-challenge.slow.test failed: "
	    "timeout");
	resolver_free(dead);
	close(fd);
}

/* Cancelled lookups stay silent; many at once all finish. */
static void
test_cancel_and_many(void)
{
	struct outcome o[30], gone;
	struct dns01_fetch *f;
	struct timespec t0;
	int i, all;

	memset(&gone, 0, sizeof(gone));
	f = dns01_fetch_start(res, "multi.test", done_cb, &gone);
	CHECK(f != NULL);
	dns01_fetch_cancel(f);
	for (i = 0; i < 30; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		CHECK(dns01_fetch_start(res, i % 2 ? "multi.test" : "db1.test",
		    done_cb, &o[i]) != NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (all = 0; !all && lt_ms_since(&t0) < 5000;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		for (all = 1, i = 0; i < 30; i++)
			all &= o[i].done;
	}
	CHECK(all);
	for (i = 0; i < 30; i++) {
		CHECK_EQ_INT(o[i].status, ACME_FETCH_OK);
		CHECK_EQ_INT(o[i].n, i % 2 ? 3 : 1);
	}
	CHECK_EQ_INT(gone.calls, 0);

	/* A name too long for _acme-challenge. does not start. */
	{
		char name[250];

		memset(name, 'a', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		CHECK(dns01_fetch_start(res, name, done_cb, &gone) == NULL);
	}
}

int
main(void)
{
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	if (res != NULL) {
		test_found_among_several();
		test_missing();
		test_raw_records();
		test_cname();
		test_cname_loop_and_depth();
		test_servfail();
		test_timeout();
		test_cancel_and_many();
	}
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
