/*
 * policy.c: the name policy, which names and addresses hearth issues
 * certificates for. Rules are DNS suffixes (matched label-wise: "corp.
 * internal" covers itself and "a.corp.internal", never "evilcorp.internal")
 * and IP ranges in CIDR form, each allowed or denied; deny rules win, and a
 * name no allow rule covers is refused. With no allow rule of a kind, the
 * defaults are internal names only: special-use and never-delegated DNS
 * suffixes, and private, ULA and loopback ranges.
 *
 * A policy is one flat allocation without pointers, built at start-up and
 * read-only afterwards: threads share it without locks, and a process forked
 * after it was built (the signer) has its own identical copy.
 */
#include "pki_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* RFC 6761, 6762, 8375 and the ICANN-reserved "internal", then names
 * never delegated in the public DNS and common on private networks. */
static const char *const default_dns[] = {
	"internal", "home.arpa", "local", "test", "localhost",
	"lan", "corp", "home", "intranet", "private", "localdomain",
};

/* RFC 1918, loopback, RFC 4193 unique local, IPv6 loopback. */
static const char *const default_ip[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
	"fc00::/7", "::1/128",
};

struct policy_rule {
	enum crypto_policy_rule kind;
	char text[CRYPTO_MAX_NAME_LEN + 1]; /* suffix, or "addr/prefix" */
	int family;                         /* AF_INET or AF_INET6 for IPs */
	uint8_t addr[16];
	unsigned prefix;
};

struct crypto_policy {
	size_t n;
	struct policy_rule rules[CRYPTO_POLICY_MAX_RULES];
};

struct crypto_policy *
crypto_policy_new(void)
{
	return calloc(1, sizeof(struct crypto_policy));
}

void
crypto_policy_free(struct crypto_policy *p)
{
	free(p);
}

struct crypto_policy *
crypto_policy_dup(const struct crypto_policy *p)
{
	struct crypto_policy *c;

	if (p == NULL || (c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memcpy(c, p, sizeof(*c));
	return c;
}

size_t
crypto_policy_count(const struct crypto_policy *p)
{
	return p == NULL ? 0 : p->n;
}

int
crypto_policy_rule(const struct crypto_policy *p, size_t i,
    enum crypto_policy_rule *kind, const char **text)
{
	if (p == NULL || i >= p->n)
		return CRYPTO_ERR_INVALID;
	*kind = p->rules[i].kind;
	*text = p->rules[i].text;
	return CRYPTO_OK;
}

static int
is_ip_rule(enum crypto_policy_rule k)
{
	return k == CRYPTO_POLICY_ALLOW_IP || k == CRYPTO_POLICY_DENY_IP;
}

/* A DNS suffix: a DNS name without wildcard; a leading dot is accepted. */
static int
dns_rule_parse(const char *value, struct policy_rule *r)
{
	if (value[0] == '.')
		value++;
	if (crypto_dns_name_check(value, strlen(value), 0, r->text, NULL) != 0)
		return CRYPTO_ERR_INVALID;
	return CRYPTO_OK;
}

/* "ADDR/PREFIX" or a bare address; host bits must be zero. */
static int
ip_rule_parse(const char *value, struct policy_rule *r)
{
	char addr[INET6_ADDRSTRLEN], *end;
	const char *slash = strchr(value, '/');
	size_t alen = slash != NULL ? (size_t)(slash - value) : strlen(value);
	unsigned long prefix, max, i;

	if (alen == 0 || alen >= sizeof(addr))
		return CRYPTO_ERR_INVALID;
	memcpy(addr, value, alen);
	addr[alen] = '\0';
	r->family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(r->family, addr, r->addr) != 1)
		return CRYPTO_ERR_INVALID;
	max = r->family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return CRYPTO_ERR_INVALID;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > max)
			return CRYPTO_ERR_INVALID;
	}
	for (i = prefix; i < max; i++)
		if (r->addr[i / 8] & (0x80 >> (i % 8)))
			return CRYPTO_ERR_INVALID;   /* host bits set */
	r->prefix = (unsigned)prefix;
	inet_ntop(r->family, r->addr, addr, sizeof(addr));
	snprintf(r->text, sizeof(r->text), "%s/%u", addr, r->prefix);
	return CRYPTO_OK;
}

int
crypto_policy_add(struct crypto_policy *p, enum crypto_policy_rule rule,
    const char *value)
{
	struct policy_rule r;
	size_t i;
	int ret;

	if (p == NULL || value == NULL || rule < CRYPTO_POLICY_ALLOW_DNS ||
	    rule > CRYPTO_POLICY_DENY_IP)
		return CRYPTO_ERR_INVALID;
	memset(&r, 0, sizeof(r));
	r.kind = rule;
	ret = is_ip_rule(rule) ? ip_rule_parse(value, &r) : dns_rule_parse(value, &r);
	if (ret != 0)
		return ret;
	for (i = 0; i < p->n; i++)
		if (p->rules[i].kind == r.kind && strcmp(p->rules[i].text, r.text) == 0)
			return CRYPTO_OK;
	if (p->n >= CRYPTO_POLICY_MAX_RULES)
		return CRYPTO_ERR_TOO_LARGE;
	p->rules[p->n++] = r;
	return CRYPTO_OK;
}

static int
has_rule(const struct crypto_policy *p, enum crypto_policy_rule kind)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->rules[i].kind == kind)
			return 1;
	return 0;
}

int
crypto_policy_add_defaults(struct crypto_policy *p)
{
	size_t i;
	int ret = CRYPTO_OK, dns, ip;

	if (p == NULL)
		return CRYPTO_ERR_INVALID;
	dns = !has_rule(p, CRYPTO_POLICY_ALLOW_DNS);
	ip = !has_rule(p, CRYPTO_POLICY_ALLOW_IP);
	for (i = 0; dns && ret == 0 && i < sizeof(default_dns) / sizeof(*default_dns); i++)
		ret = crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, default_dns[i]);
	for (i = 0; ip && ret == 0 && i < sizeof(default_ip) / sizeof(*default_ip); i++)
		ret = crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, default_ip[i]);
	return ret;
}

/* ---- decisions ------------------------------------------------------------ */

/* Nonzero when name is suffix or lies under it, label-wise. */
static int
dns_under(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n == s)
		return strcmp(name, suffix) == 0;
	return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

/* Nonzero when the denied suffix d touches name: name is under d, or name
 * is the wildcard "*.B" and d is one label below B (the wildcard covers d). */
static int
dns_denied(const char *name, const char *d)
{
	const char *dot;

	if (strncmp(name, "*.", 2) == 0) {
		if (dns_under(name + 2, d))
			return 1;
		dot = strchr(d, '.');
		return dot != NULL && strcmp(dot + 1, name + 2) == 0;
	}
	return dns_under(name, d);
}

/* A wildcard is allowed when its base name is: everything it covers lies
 * under the same suffix. */
static int
dns_allowed(const char *name, const char *a)
{
	return dns_under(strncmp(name, "*.", 2) == 0 ? name + 2 : name, a);
}

static int
ip_in(int family, const uint8_t *addr, const struct policy_rule *r)
{
	unsigned full = r->prefix / 8, rest = r->prefix % 8;

	if (family != r->family || memcmp(addr, r->addr, full) != 0)
		return 0;
	return rest == 0 ||
	    ((addr[full] ^ r->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Appends to out (NUL-terminated, outsz bytes) as far as it fits. */
static void
append(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *out, size_t outsz, const char *fmt, ...)
{
	size_t used = strnlen(out, outsz);
	va_list ap;

	if (used + 1 >= outsz)
		return;
	va_start(ap, fmt);
	vsnprintf(out + used, outsz - used, fmt, ap);
	va_end(ap);
}

/* "a, b, c" for the rules of kind, or "none"; "..." instead of what would
 * take out past room bytes. Nonzero when something was left out. */
static int
list_rules(const struct crypto_policy *p, enum crypto_policy_rule kind,
    char *out, size_t outsz, size_t room)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++) {
		if (p->rules[i].kind != kind)
			continue;
		if (strlen(out) + strlen(p->rules[i].text) + 8 > room) {
			append(out, outsz, "%s...", k > 0 ? ", " : "");
			return 1;
		}
		append(out, outsz, "%s%s", k++ > 0 ? ", " : "", p->rules[i].text);
	}
	if (k == 0)
		append(out, outsz, "none");
	return 0;
}

static int
refuse_unlisted(const struct crypto_policy *p, const struct crypto_name *name,
    char *why, size_t whysz)
{
	int dns = name->type == CRYPTO_NAME_DNS;

	if (why == NULL || whysz == 0)
		return CRYPTO_ERR_NAME;
	snprintf(why, whysz, "\"%s\" is not %s (allowed: ", name->value,
	    dns ? "under an allowed DNS suffix" : "in an allowed IP range");
	list_rules(p, dns ? CRYPTO_POLICY_ALLOW_DNS : CRYPTO_POLICY_ALLOW_IP,
	    why, whysz, whysz > 48 ? whysz - 48 : 0);
	append(why, whysz, "; add one with %s)", dns ? "--allow-dns" : "--allow-ip");
	return CRYPTO_ERR_NAME;
}

static int
refuse_denied(const struct crypto_name *name, const struct policy_rule *r,
    char *why, size_t whysz)
{
	const char *how = "is under";

	if (why == NULL || whysz == 0)
		return CRYPTO_ERR_NAME;
	if (name->type == CRYPTO_NAME_IP)
		how = "is in";
	else if (strncmp(name->value, "*.", 2) == 0 && !dns_under(name->value + 2, r->text))
		how = "covers";
	snprintf(why, whysz, "\"%s\" %s the denied %s \"%s\"", name->value, how,
	    name->type == CRYPTO_NAME_IP ? "IP range" : "DNS suffix", r->text);
	return CRYPTO_ERR_NAME;
}

/* The rule of kind that matches, or NULL. */
static const struct policy_rule *
match(const struct crypto_policy *p, enum crypto_policy_rule kind,
    const struct crypto_name *name, int family, const uint8_t *addr)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < p->n; i++) {
		r = &p->rules[i];
		if (r->kind != kind)
			continue;
		if (is_ip_rule(kind) ? ip_in(family, addr, r) :
		    kind == CRYPTO_POLICY_DENY_DNS ? dns_denied(name->value, r->text) :
		    dns_allowed(name->value, r->text))
			return r;
	}
	return NULL;
}

int
crypto_policy_check(const struct crypto_policy *p,
    const struct crypto_name *name, char *why, size_t whysz)
{
	const struct policy_rule *r;
	uint8_t addr[16] = { 0 };
	int family = 0, dns;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (p == NULL || name == NULL ||
	    strnlen(name->value, sizeof(name->value)) == sizeof(name->value))
		return CRYPTO_ERR_INVALID;
	dns = name->type == CRYPTO_NAME_DNS;
	if (!dns) {
		family = strchr(name->value, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(family, name->value, addr) != 1) {
			if (why != NULL && whysz > 0)
				snprintf(why, whysz, "\"%s\" is not an IP address", name->value);
			return CRYPTO_ERR_NAME;
		}
	}
	r = match(p, dns ? CRYPTO_POLICY_DENY_DNS : CRYPTO_POLICY_DENY_IP, name,
	    family, addr);
	if (r != NULL)
		return refuse_denied(name, r, why, whysz);
	if (match(p, dns ? CRYPTO_POLICY_ALLOW_DNS : CRYPTO_POLICY_ALLOW_IP, name,
	    family, addr) == NULL)
		return refuse_unlisted(p, name, why, whysz);
	return CRYPTO_OK;
}

int
crypto_policy_describe(const struct crypto_policy *p, char *out, size_t outsz)
{
	int cut = 0;

	if (p == NULL || out == NULL || outsz == 0)
		return CRYPTO_ERR_INVALID;
	out[0] = '\0';
	append(out, outsz, "DNS: ");
	cut |= list_rules(p, CRYPTO_POLICY_ALLOW_DNS, out, outsz, outsz);
	if (has_rule(p, CRYPTO_POLICY_DENY_DNS)) {
		append(out, outsz, " (denied: ");
		cut |= list_rules(p, CRYPTO_POLICY_DENY_DNS, out, outsz, outsz);
		append(out, outsz, ")");
	}
	append(out, outsz, "; IP: ");
	cut |= list_rules(p, CRYPTO_POLICY_ALLOW_IP, out, outsz, outsz);
	if (has_rule(p, CRYPTO_POLICY_DENY_IP)) {
		append(out, outsz, " (denied: ");
		cut |= list_rules(p, CRYPTO_POLICY_DENY_IP, out, outsz, outsz);
		append(out, outsz, ")");
	}
	return cut || strlen(out) + 1 >= outsz ? CRYPTO_ERR_TOO_LARGE : CRYPTO_OK;
}

/* ---- for name constraints (constraint.c) ---------------------------------- */

const char *
pki_policy_rule(const struct crypto_policy *p, size_t i,
    enum crypto_policy_rule *kind)
{
	if (p == NULL || i >= p->n)
		return NULL;
	*kind = p->rules[i].kind;
	return p->rules[i].text;
}

int
pki_policy_has(const struct crypto_policy *p, enum crypto_policy_rule kind)
{
	return p != NULL && has_rule(p, kind);
}

int
crypto_policy_add_constraints(struct crypto_policy *p,
    const struct crypto_policy *c)
{
	int dns, ip, ret = CRYPTO_OK;
	size_t i;

	if (p == NULL)
		return CRYPTO_ERR_INVALID;
	if (c == NULL)
		return CRYPTO_OK;
	dns = !has_rule(p, CRYPTO_POLICY_ALLOW_DNS);
	ip = !has_rule(p, CRYPTO_POLICY_ALLOW_IP);
	for (i = 0; ret == 0 && i < c->n; i++)
		if ((dns && c->rules[i].kind == CRYPTO_POLICY_ALLOW_DNS) ||
		    (ip && c->rules[i].kind == CRYPTO_POLICY_ALLOW_IP))
			ret = crypto_policy_add(p, c->rules[i].kind, c->rules[i].text);
	return ret;
}
