/*
 * test_policy.c: the name policy (crypto_policy_*): the internal defaults,
 * deny over allow, label-wise suffixes, wildcards, IPv4 and IPv6 ranges,
 * malformed rules, the wording of refusals, and the one-line description.
 */
#include "check.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto.h"

static char why[512];

/* 0 when allowed; the explanation in why. */
static int
check(const struct crypto_policy *p, enum crypto_name_type type, const char *v)
{
	struct crypto_name n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	snprintf(n.value, sizeof(n.value), "%s", v);
	return crypto_policy_check(p, &n, why, sizeof(why));
}

#define DNS(p, v) check(p, CRYPTO_NAME_DNS, v)
#define IP(p, v) check(p, CRYPTO_NAME_IP, v)

static struct crypto_policy *
defaults(void)
{
	struct crypto_policy *p = crypto_policy_new();

	CHECK(p != NULL);
	CHECK_EQ_INT(crypto_policy_add_defaults(p), 0);
	return p;
}

static void
test_defaults(void)
{
	struct crypto_policy *p = defaults();

	CHECK_EQ_INT(DNS(p, "a.corp.internal"), 0);
	CHECK_EQ_INT(DNS(p, "printer.home.arpa"), 0);
	CHECK_EQ_INT(DNS(p, "nas.local"), 0);
	CHECK_EQ_INT(DNS(p, "ok.test"), 0);
	CHECK_EQ_INT(DNS(p, "router.lan"), 0);
	CHECK_EQ_INT(DNS(p, "*.wild.corp.internal"), 0);
	CHECK_EQ_INT(DNS(p, "github.com"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"github.com\" is not under an allowed DNS suffix (allowed: "
	    "internal, home.arpa, local, test, localhost, lan, corp, home, intranet, "
	    "private, localdomain; add one with --allow-dns)");
	CHECK_EQ_INT(DNS(p, "internal.example.com"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(DNS(p, "arpa"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(DNS(p, "*.example.com"), CRYPTO_ERR_NAME);

	CHECK_EQ_INT(IP(p, "10.1.2.3"), 0);
	CHECK_EQ_INT(IP(p, "172.16.0.1"), 0);
	CHECK_EQ_INT(IP(p, "172.31.255.255"), 0);
	CHECK_EQ_INT(IP(p, "172.32.0.1"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "192.168.1.1"), 0);
	CHECK_EQ_INT(IP(p, "127.0.0.1"), 0);
	CHECK_EQ_INT(IP(p, "::1"), 0);
	CHECK_EQ_INT(IP(p, "fd12:3456::1"), 0);
	CHECK_EQ_INT(IP(p, "fc00::1"), 0);
	CHECK_EQ_INT(IP(p, "fe80::1"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "::2"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "169.254.1.1"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "8.8.8.8"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"8.8.8.8\" is not in an allowed IP range (allowed: "
	    "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, fc00::/7, "
	    "::1/128; add one with --allow-ip)");
	CHECK_EQ_INT(IP(p, "2001:db8::1"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "not-an-address"), CRYPTO_ERR_NAME);
	crypto_policy_free(p);
}

static void
test_operator_rules(void)
{
	struct crypto_policy *p = crypto_policy_new();

	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "Corp.Example.com"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, "db.corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, ".x.corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add_defaults(p), 0);

	/* an allow rule replaces the DNS defaults; the IP ones stay */
	CHECK_EQ_INT(DNS(p, "a.test"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "10.0.0.1"), 0);
	CHECK_EQ_INT(DNS(p, "corp.example.com"), 0);
	CHECK_EQ_INT(DNS(p, "www.corp.example.com"), 0);
	CHECK_EQ_INT(DNS(p, "example.com"), CRYPTO_ERR_NAME);
	/* label-wise: a suffix match must start at a label */
	CHECK_EQ_INT(DNS(p, "evilcorp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"evilcorp.internal\" is not under an allowed DNS suffix "
	    "(allowed: corp.example.com, corp.internal; add one with --allow-dns)");
	CHECK_EQ_INT(DNS(p, "a.evilcorp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(DNS(p, "notcorp.example.com"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(DNS(p, "a.corp.internal"), 0);

	/* deny wins over allow */
	CHECK_EQ_INT(DNS(p, "db.corp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"db.corp.internal\" is under the denied DNS suffix "
	    "\"db.corp.internal\"");
	CHECK_EQ_INT(DNS(p, "a.db.corp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"a.db.corp.internal\" is under the denied DNS suffix "
	    "\"db.corp.internal\"");
	CHECK_EQ_INT(DNS(p, "xdb.corp.internal"), 0);
	CHECK_EQ_INT(DNS(p, "x.corp.internal"), CRYPTO_ERR_NAME);

	/* wildcards: allowed when the base is; denied when covering a denied name */
	CHECK_EQ_INT(DNS(p, "*.app.corp.internal"), 0);
	CHECK_EQ_INT(DNS(p, "*.corp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"*.corp.internal\" covers the denied DNS suffix "
	    "\"db.corp.internal\"");
	CHECK_EQ_INT(DNS(p, "*.db.corp.internal"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"*.db.corp.internal\" is under the denied DNS suffix "
	    "\"db.corp.internal\"");
	CHECK_EQ_INT(DNS(p, "*.corp.example.com"), 0);
	CHECK_EQ_INT(DNS(p, "*.example.com"), CRYPTO_ERR_NAME);
	crypto_policy_free(p);
}

static void
test_ip_ranges(void)
{
	struct crypto_policy *p = crypto_policy_new();

	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "198.51.100.0/24"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "2001:DB8::/33"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "203.0.113.7"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_IP, "198.51.100.128/25"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_IP, "2001:db8:0:1::/64"), 0);
	CHECK_EQ_INT(crypto_policy_add_defaults(p), 0);

	CHECK_EQ_INT(IP(p, "10.0.0.1"), CRYPTO_ERR_NAME);   /* defaults replaced */
	CHECK_EQ_INT(IP(p, "198.51.100.1"), 0);
	CHECK_EQ_INT(IP(p, "198.51.100.127"), 0);
	CHECK_EQ_INT(IP(p, "198.51.100.128"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"198.51.100.128\" is in the denied IP range "
	    "\"198.51.100.128/25\"");
	CHECK_EQ_INT(IP(p, "198.51.101.1"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "203.0.113.7"), 0);
	CHECK_EQ_INT(IP(p, "203.0.113.8"), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(IP(p, "2001:db8::1"), 0);
	CHECK_EQ_INT(IP(p, "2001:db8:7fff::1"), 0);
	CHECK_EQ_INT(IP(p, "2001:db8:8000::1"), CRYPTO_ERR_NAME);   /* past /33 */
	CHECK_EQ_INT(IP(p, "2001:db8:0:1::5"), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "\"2001:db8:0:1::5\" is in the denied IP range "
	    "\"2001:db8:0:1::/64\"");
	/* a v4 rule never matches a v6 address and back */
	CHECK_EQ_INT(IP(p, "::c633:6401"), CRYPTO_ERR_NAME);
	/* DNS defaults still in place */
	CHECK_EQ_INT(DNS(p, "a.corp.internal"), 0);
	crypto_policy_free(p);
}

static void
test_malformed(void)
{
	struct crypto_policy *p = crypto_policy_new();
	size_t i;
	char v[64];
	static const char *const bad_ip[] = {
		"", "10.0.0.0/", "10.0.0.0/33", "10.1.0.0/8", "10.0.0.0/8/8", "10.0.0",
		"::/129", "fd00::1/8", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/0008",
		"host.corp", "/8",
	};
	static const char *const bad_dns[] = {
		"", ".", "*.corp.internal", "a..b", "bad_name", "xn--ls8h", "trailing.",
		"10.0.0.1",
	};

	for (i = 0; i < sizeof(bad_ip) / sizeof(*bad_ip); i++) {
		CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, bad_ip[i]),
		    CRYPTO_ERR_INVALID);
		CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_IP, bad_ip[i]),
		    CRYPTO_ERR_INVALID);
	}
	for (i = 0; i < sizeof(bad_dns) / sizeof(*bad_dns); i++)
		CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, bad_dns[i]),
		    CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "0.0.0.0/0"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, "::/0"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, (enum crypto_policy_rule)7, "a.b"),
	    CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_policy_add(NULL, CRYPTO_POLICY_ALLOW_DNS, "a.b"),
	    CRYPTO_ERR_INVALID);
	/* nothing malformed was added: an empty DNS side allows no name */
	CHECK_EQ_INT(DNS(p, "a.corp.internal"), CRYPTO_ERR_NAME);
	CHECK(strstr(why, "(allowed: none;") != NULL);
	CHECK_EQ_INT(IP(p, "8.8.8.8"), 0);
	crypto_policy_free(p);

	/* the cap on rules; a repeated rule takes no room */
	p = crypto_policy_new();
	for (i = 0; i < CRYPTO_POLICY_MAX_RULES; i++) {
		snprintf(v, sizeof(v), "n%zu.corp.internal", i);
		CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, v), 0);
	}
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "n0.corp.internal"), 0);
	CHECK_EQ_INT(crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "more.internal"),
	    CRYPTO_ERR_TOO_LARGE);
	/* a long list is cut in the explanation, which still names the way out */
	CHECK_EQ_INT(DNS(p, "github.com"), CRYPTO_ERR_NAME);
	CHECK(strstr(why, "...; add one with --allow-dns)") != NULL);
	CHECK(strlen(why) < sizeof(why));
	crypto_policy_free(p);
	crypto_policy_free(NULL);
}

static void
test_describe(void)
{
	struct crypto_policy *p = defaults();
	char line[1024], small[40];

	CHECK_EQ_INT(crypto_policy_describe(p, line, sizeof(line)), 0);
	CHECK_EQ_STR(line, "DNS: internal, home.arpa, local, test, localhost, lan, "
	    "corp, home, intranet, private, localdomain; IP: 10.0.0.0/8, "
	    "172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, fc00::/7, ::1/128");
	CHECK_EQ_INT(crypto_policy_describe(p, small, sizeof(small)),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK(strlen(small) < sizeof(small));
	crypto_policy_free(p);

	p = crypto_policy_new();
	crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, "corp.example.com");
	crypto_policy_add(p, CRYPTO_POLICY_DENY_DNS, "x.corp.example.com");
	crypto_policy_add(p, CRYPTO_POLICY_DENY_IP, "10.9.0.0/16");
	crypto_policy_add_defaults(p);
	CHECK_EQ_INT(crypto_policy_describe(p, line, sizeof(line)), 0);
	CHECK_EQ_STR(line, "DNS: corp.example.com (denied: x.corp.example.com); IP: "
	    "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8, fc00::/7, "
	    "::1/128 (denied: 10.9.0.0/16)");
	crypto_policy_free(p);
}

/* Built once, read in a forked child with no locks or set-up. */
static void
test_after_fork(void)
{
	struct crypto_policy *p = defaults();
	int status = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(DNS(p, "a.corp.internal") == 0 && DNS(p, "github.com") != 0 ? 0 : 1);
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	crypto_policy_free(p);
}

int
main(void)
{
	test_defaults();
	test_operator_rules();
	test_ip_ranges();
	test_malformed();
	test_describe();
	test_after_fork();
	return CHECK_DONE();
}
