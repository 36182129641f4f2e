/*
 * config.c: the command line and the configuration file, from one table.
 *
 * Every setting is a long flag (`--listen ADDR:PORT` or `--listen=ADDR:PORT`)
 * and the same key in a file given with --config (`listen = ADDR:PORT`, one
 * per line, `#` comments). Unknown keys and bad values are refused with the
 * flag, or the file, line and key, and the reason. Flags override the file.
 */
#include "server_internal.h"
#include "denylist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"

enum opt_kind {
	OPT_STRING, OPT_LIST, OPT_LONG, OPT_PORT, OPT_ADDR_PORT,
	OPT_DURATION,                /* "90s", "15m", "168h", "30d": seconds */
	OPT_FLAG,                    /* bare flag; in a file 1/0, true/false */
	OPT_POLICY,                  /* a list of name policy rules; min is the
	                              * enum crypto_policy_rule */
	OPT_PROFILE,                 /* repeatable NAME:LIFETIME[:USAGES] */
	OPT_RATE,                    /* "N/DURATION", or 0 for off */
	OPT_ENUM,                    /* one word of enum_words */
};

struct option {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	unsigned commands;           /* CMD_* mask */
	long min, max;               /* OPT_LONG, OPT_PORT, OPT_DURATION bounds
	                              * (seconds); OPT_RATE: max count */
	const char *def;             /* the default as a value of this option,
	                              * applied by config_defaults; NULL: none,
	                              * or one the help describes */
	const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define BOTH (CMD_INIT | CMD_SERVE)
#define ALL (CMD_INIT | CMD_SERVE | CMD_EAB)

/* The words an OPT_ENUM option takes, '|'-separated. */
static const struct {
	size_t offset;
	const char *words;
} enum_words[] = {
	{ offsetof(struct config, log_format), "text|json" },
	{ offsetof(struct config, log_level), "debug|info|warn|error" },
	{ offsetof(struct config, key_type), "ec-p256|ec-p384|rsa-4096" },
};

static const struct option options[] = {
	{ "data", OPT_STRING, OFF(data_dir), ALL, 0, 0, NULL,
	  "data directory (CA under DIR/ca, database under DIR/db); required" },
	{ "store", OPT_STRING, OFF(store), CMD_SERVE | CMD_EAB, 0, 0, NULL,
	  "where the records are: a directory (LMDB) or a postgresql:// URI "
	  "(libpq; the database must exist, hearth creates its tables) "
	  "(default DIR/db); the CA and the server's TLS certificate stay "
	  "under DIR" },
	{ "listen", OPT_ADDR_PORT, OFF(listen), CMD_SERVE, 0, 0, ":8443",
	  "HTTPS listen address, ADDR:PORT or :PORT" },
	{ "tls-name", OPT_LIST, OFF(tls_names), CMD_SERVE, 0, 0, NULL,
	  "a name the server is reached under, repeatable (default: localhost, "
	  "127.0.0.1, ::1 and the host name)" },
	{ "base-url", OPT_STRING, OFF(base_url), CMD_SERVE, 0, 0, NULL,
	  "fixed https://HOST[:PORT] for ACME URLs (default: from the Host header)" },
	{ "pki-url", OPT_STRING, OFF(pki_url), CMD_SERVE, 0, 0, NULL,
	  "http://HOST[:PORT] relying parties fetch the CRL, issuer certificate "
	  "and OCSP from; issued certificates carry it (default: from "
	  "--pki-listen and the first --tls-name or the host name; none when "
	  "the listener is off)" },
	{ "http01-port", OPT_PORT, OFF(http01_port), CMD_SERVE, 1, 65535, "80",
	  "port http-01 validation connects to" },
	{ "tlsalpn01-port", OPT_PORT, OFF(tlsalpn01_port), CMD_SERVE, 1, 65535,
	  "443", "port tls-alpn-01 validation connects to" },
	{ "resolver", OPT_ADDR_PORT, OFF(resolver), CMD_SERVE, 0, 0, NULL,
	  "DNS server IP:PORT for validation (default: the system's)" },
	{ "threads", OPT_LONG, OFF(threads), CMD_SERVE, 0, 64, "0",
	  "event loops (0: one per core)" },
	{ "store-threads", OPT_LONG, OFF(store_threads), CMD_SERVE, 0, 256, "0",
	  "threads that run the requests which wait on a store write or the "
	  "signer, so the event loops never wait; their number bounds how many "
	  "writes one durable commit carries (0: 16 per event loop, 4 with a "
	  "PostgreSQL store)" },
	{ "caa-check", OPT_LONG, OFF(caa_check), CMD_SERVE, 0, 1, "1",
	  "check CAA records (RFC 8659) before issuing: 1 or 0" },
	{ "caa-identity", OPT_LIST, OFF(caa_identities), CMD_SERVE, 0, 0, NULL,
	  "issuer domain name CAA records must name, repeatable (default: the "
	  "DNS names among --tls-name)" },
	{ "validation-deny", OPT_LIST, OFF(validation_deny), CMD_SERVE, 0, 0,
	  NULL, "address range (CIDR) validation never connects to, repeatable "
	  "(default: 169.254.0.0/16, fe80::/10, fd00:ec2::254/128; \"none\" "
	  "clears it)" },
	{ "allow-dns", OPT_POLICY, OFF(allow_dns), CMD_SERVE,
	  CRYPTO_POLICY_ALLOW_DNS, 0, NULL, "DNS suffix certificates may be "
	  "issued under, repeatable (default: internal names only: internal, "
	  "home.arpa, local, test, lan, corp, home, ...; giving one replaces the "
	  "default list)" },
	{ "deny-dns", OPT_POLICY, OFF(deny_dns), CMD_SERVE,
	  CRYPTO_POLICY_DENY_DNS, 0, NULL, "DNS suffix never issued for, even "
	  "under an allowed one, repeatable" },
	{ "allow-ip", OPT_POLICY, OFF(allow_ip), CMD_SERVE,
	  CRYPTO_POLICY_ALLOW_IP, 0, NULL, "IP range (CIDR) certificates may be "
	  "issued for, repeatable (default: 10.0.0.0/8, 172.16.0.0/12, "
	  "192.168.0.0/16, 127.0.0.0/8, fc00::/7, ::1; giving one replaces the "
	  "default list)" },
	{ "deny-ip", OPT_POLICY, OFF(deny_ip), CMD_SERVE,
	  CRYPTO_POLICY_DENY_IP, 0, NULL, "IP range (CIDR) never issued for, "
	  "repeatable" },
	{ "profile", OPT_PROFILE, OFF(profiles), CMD_SERVE, 0, 0, NULL,
	  "certificate profile NAME:LIFETIME[:USAGES], repeatable, the first "
	  "the default; USAGES from serverAuth, clientAuth, digitalSignature, "
	  "keyEncipherment, comma-separated (default: classic:90d and "
	  "shortlived:150h, both serverAuth,clientAuth)" },
	{ "cert-days", OPT_LONG, OFF(cert_days), CMD_SERVE, 1, 825, NULL,
	  "deprecated: lifetime in days of the default profile's certificates; "
	  "use --profile" },
	{ "retention", OPT_DURATION, OFF(retention), CMD_SERVE, 3600,
	  3650L * 86400, "7d", "how long expired orders, authorizations and "
	  "certificates are kept before the background cleanup removes them" },
	{ "tls-cert-lifetime", OPT_DURATION, OFF(tls_cert_lifetime), CMD_SERVE,
	  30, 366L * 86400, "168h", "validity of the server's own TLS "
	  "certificate, renewed when a third is left" },
	{ "pki-listen", OPT_STRING, OFF(pki_listen), CMD_SERVE, 0, 0, ":8080",
	  "plain-HTTP listener for the CRL, OCSP and the CA certificates, "
	  "ADDR:PORT, :PORT or \"off\"" },
	{ "admin-listen", OPT_STRING, OFF(admin_listen), CMD_SERVE, 0, 0,
	  "127.0.0.1:9180", "plain-HTTP listener for /metrics, /healthz and "
	  "/readyz, ADDR:PORT or \"off\" (keep it off public networks)" },
	{ "log-format", OPT_ENUM, OFF(log_format), CMD_SERVE, 0, 0, "text",
	  "log lines as text, or as json (one object per line)" },
	{ "log-level", OPT_ENUM, OFF(log_level), CMD_SERVE, 0, 0, "info",
	  "lowest level logged: debug (also failed TLS handshakes), info "
	  "(also start-up, reloads, one line per request and per validation), "
	  "warn or error; changed by a reload" },
	{ "ocsp", OPT_LONG, OFF(ocsp), CMD_SERVE, 0, 1, "1",
	  "answer OCSP on the PKI listener and name the responder in issued "
	  "certificates: 1 or 0" },
	{ "crl-lifetime", OPT_DURATION, OFF(crl_lifetime), CMD_SERVE, 3600,
	  366L * 86400, "7d", "a CRL's nextUpdate minus thisUpdate" },
	{ "crl-refresh", OPT_DURATION, OFF(crl_refresh), CMD_SERVE, 60,
	  366L * 86400, "6h", "a new CRL at least this often, besides one "
	  "within a second of every revocation; less than crl-lifetime" },
	{ "max-header-bytes", OPT_LONG, OFF(max_header_bytes), CMD_SERVE, 1024,
	  1048576, "16384", "cap on request header bytes" },
	{ "max-body-bytes", OPT_LONG, OFF(max_body_bytes), CMD_SERVE, 1024,
	  1048576, "65536", "cap on request body bytes, answered with a "
	  "problem document" },
	{ "idle-timeout", OPT_LONG, OFF(idle_timeout), CMD_SERVE, 1, 3600, "30",
	  "seconds an idle connection is kept" },
	{ "eab-required", OPT_FLAG, OFF(eab_required), CMD_SERVE, 0, 1, "0",
	  "newAccount must carry an external account binding made with a key "
	  "from `hearth eab add` (RFC 8555 §7.3.4); in a file: eab-required = 1" },
	{ "limit-accounts", OPT_RATE, OFF(limit_accounts), CMD_SERVE, 0, 1000000,
	  "100/1h", "new accounts per source address, N/DURATION or 0 for no "
	  "limit" },
	{ "limit-orders", OPT_RATE, OFF(limit_orders), CMD_SERVE, 0, 1000000,
	  "1000/1h", "new orders per account" },
	{ "limit-failures", OPT_RATE, OFF(limit_failures), CMD_SERVE, 0, 1000000,
	  "10/1h", "failed validations per account and name; more refuse new "
	  "orders for the name" },
	{ "limit-nonces", OPT_RATE, OFF(limit_nonces), CMD_SERVE, 0, 1000000,
	  "3000/1m", "nonces per source address" },
	{ "limit-pending-authzs", OPT_LONG, OFF(limit_pending_authzs), CMD_SERVE,
	  0, 1000000, "1000", "pending authorizations per account, 0 for no "
	  "limit" },
	{ "limit-queue-share", OPT_LONG, OFF(limit_queue_share), CMD_SERVE, 0,
	  4096, "256", "validations one account may have queued or running, 0 "
	  "for no limit (the queue holds 4096)" },
	{ "limit-conns", OPT_LONG, OFF(limit_conns), CMD_SERVE, 0, 1000000,
	  "4096", "open client connections in all, 0 for no limit (lowered to "
	  "fit the open-file limit)" },
	{ "limit-conns-per-source", OPT_LONG, OFF(limit_conns_per_source),
	  CMD_SERVE, 0, 1000000, "128", "open client connections per source "
	  "address, 0 for no limit" },
	{ "limit-request-time", OPT_DURATION, OFF(limit_request_time), CMD_SERVE,
	  1, 3600, "10s", "time a client has for the TLS handshake and a whole "
	  "request, from accept or from a request's first byte" },
	{ "hold-max", OPT_LONG, OFF(hold_max), CMD_SERVE, 0, 30000, "1000",
	  "milliseconds an answer about a challenge, authorization or order "
	  "being validated may wait for the validation to end before it is "
	  "sent as it stands, with Retry-After; 0 answers at once (less than "
	  "limit-request-time)" },
	{ "user", OPT_STRING, OFF(user), CMD_SERVE, 0, 0, NULL,
	  "when started as root: the user the serving process becomes after "
	  "binding its listener (default \"" PRIVSEP_DEFAULT_USER "\")" },
	{ "signer-user", OPT_STRING, OFF(signer_user), CMD_SERVE, 0, 0, NULL,
	  "when started as root: the user the signer process becomes after "
	  "loading the intermediate key (default \"" PRIVSEP_DEFAULT_SIGNER_USER
	  "\")" },
	{ "label", OPT_STRING, OFF(eab_label), CMD_EAB, 0, 0, NULL,
	  "eab add: a note on whom the key is for (shown by eab list)" },
	{ "expires", OPT_DURATION, OFF(eab_expires), CMD_EAB, 1, 3650L * 86400,
	  NULL, "eab add: the key can bind an account only this long (e.g. 30d, "
	  "12h; default: no limit)" },
	{ "allow-dns", OPT_LIST, OFF(eab_allow_dns), CMD_EAB, 0, 0, NULL,
	  "eab add: DNS suffix the account's names must fall under, repeatable "
	  "(default: any name; a restricted key allows no IP identifiers)" },
	{ "key-type", OPT_ENUM, OFF(key_type), BOTH, 0, 0, "ec-p256",
	  "CA key type, when the CA is created" },
	{ "ca-name", OPT_STRING, OFF(ca_name), BOTH, 0, 0, "hearth",
	  "name in the CA certificates' subjects" },
	{ "root-days", OPT_LONG, OFF(root_days), BOTH, 1, 36500, "3650",
	  "root validity in days" },
	{ "intermediate-days", OPT_LONG, OFF(intermediate_days), BOTH, 1, 36500,
	  "1825", "intermediate validity in days" },
	{ "passphrase-file", OPT_STRING, OFF(passphrase_file), BOTH, 0, 0, NULL,
	  "file holding the root key passphrase (default: generate "
	  "DIR/ca/root.pass)" },
	{ "intermediate-passphrase-file", OPT_STRING,
	  OFF(intermediate_passphrase_file), BOTH, 0, 0, NULL,
	  "file holding a passphrase to encrypt the intermediate key with "
	  "(default: none)" },
	{ "permit-dns", OPT_POLICY, OFF(permit_dns), BOTH,
	  CRYPTO_POLICY_ALLOW_DNS, 0, NULL, "when the CA is created: a DNS "
	  "suffix the intermediate is constrained to (critical RFC 5280 name "
	  "constraints; the suffix itself and every name under it), repeatable; "
	  "the name policy then defaults to the constraints (default: no "
	  "constraint)" },
	{ "permit-ip", OPT_POLICY, OFF(permit_ip), BOTH,
	  CRYPTO_POLICY_ALLOW_IP, 0, NULL, "when the CA is created: an IP range "
	  "(CIDR) the intermediate is constrained to, repeatable (default: no "
	  "constraint)" },
	{ "import-root-passphrase-file", OPT_STRING,
	  OFF(import_root_passphrase_file), CMD_INIT, 0, 0, NULL,
	  "passphrase of the imported root key, when it differs from "
	  "--passphrase-file" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* The option of that name for command cmd (two commands may use one name,
 * as serve's and eab add's --allow-dns), else one of that name for another
 * command, else NULL. */
static const struct option *
option_find(const char *name, size_t len, unsigned cmd)
{
	const struct option *other = NULL;
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		if (strlen(options[i].name) != len ||
		    strncmp(options[i].name, name, len) != 0)
			continue;
		if (options[i].commands & cmd)
			return &options[i];
		if (other == NULL)
			other = &options[i];
	}
	return other;
}

/* Checked integer parsing: the whole string, in [min, max]. */
static int
parse_long(const char *s, long min, long max, long *out, const char **why)
{
	char *end;
	long v;

	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	v = strtol(s, &end, 10);
	if (*end != '\0') {
		*why = "not a number";
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

/* A number of seconds with a unit suffix: s, m, h or d. */
static int
parse_duration(const char *s, long min, long max, long *out, const char **why)
{
	static const struct { char unit; long mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char num[32];
	size_t n = strlen(s), i;
	long v;

	if (n < 2 || n >= sizeof(num)) {
		*why = "expected a number with a unit (s, m, h or d)";
		return -1;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[n - 1] != units[i].unit)
			continue;
		if (parse_long(num, 1, max / units[i].mult, &v, why) != 0)
			return -1;
		if (v * units[i].mult < min) {
			*why = "out of range";
			return -1;
		}
		*out = v * units[i].mult;
		return 0;
	}
	*why = "expected a number with a unit (s, m, h or d)";
	return -1;
}

/* A switch: 1/0, true/false, yes/no. */
static int
parse_flag_value(const char *s, long *out, const char **why)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "no") == 0)
		*out = 0;
	else {
		*why = "expected 1 or 0 (true/false, yes/no)";
		return -1;
	}
	return 0;
}

/* "N/DURATION" (100/1h), or "0" for no limit. */
static int
parse_rate(const char *s, long max, struct config_rate *out, const char **why)
{
	const char *slash = strchr(s, '/');
	char num[32];
	size_t n;

	if (strcmp(s, "0") == 0) {
		out->count = 0;
		out->period = 0;
		return 0;
	}
	if (slash == NULL || (n = (size_t)(slash - s)) == 0 || n >= sizeof(num)) {
		*why = "expected N/DURATION (e.g. 100/1h) or 0";
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_long(num, 1, max, &out->count, why) != 0)
		return -1;
	return parse_duration(slash + 1, 1, 30L * 86400, &out->period, why);
}

/* ADDR:PORT, [V6]:PORT or :PORT with a port in 1..65535. */
static int
check_addr_port(const char *s, const char **why)
{
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL) {
		*why = "expected ADDR:PORT";
		return -1;
	}
	if (s[0] == '[' && (colon == s || colon[-1] != ']')) {
		*why = "expected [IPv6]:PORT";
		return -1;
	}
	if (parse_long(colon + 1, 1, 65535, &port, why) != 0) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	return 0;
}

/* One usage word into the profile's KU or EKU bits. */
static int
profile_usage(const char *w, size_t len, struct crypto_profile *p)
{
	static const struct { const char *name; unsigned ku, eku; } usages[] = {
		{ "serverAuth", 0, CRYPTO_EKU_SERVER_AUTH },
		{ "clientAuth", 0, CRYPTO_EKU_CLIENT_AUTH },
		{ "digitalSignature", CRYPTO_KU_DIGITAL_SIGNATURE, 0 },
		{ "keyEncipherment", CRYPTO_KU_KEY_ENCIPHERMENT, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		if (strlen(usages[i].name) == len &&
		    strncmp(usages[i].name, w, len) == 0) {
			p->key_usage |= usages[i].ku;
			p->eku |= usages[i].eku;
			return 0;
		}
	}
	return -1;
}

/* USAGES: comma-separated words. digitalSignature is always granted;
 * keyEncipherment (only ever put in RSA leaves) when named, or when no key
 * usage is named. */
static int
profile_usages(const char *s, struct crypto_profile *p, const char **why)
{
	const char *w = s, *comma;
	size_t len;

	for (;;) {
		comma = strchr(w, ',');
		len = comma != NULL ? (size_t)(comma - w) : strlen(w);
		if (profile_usage(w, len, p) != 0) {
			*why = "usages are serverAuth, clientAuth, digitalSignature "
			    "and keyEncipherment, comma-separated";
			return -1;
		}
		if (comma == NULL)
			break;
		w = comma + 1;
	}
	if (p->eku == 0) {
		*why = "a profile needs serverAuth or clientAuth";
		return -1;
	}
	/* TLS keys always sign; keyEncipherment only when asked or by default */
	if (p->key_usage == 0)
		p->key_usage = CRYPTO_KU_KEY_ENCIPHERMENT;
	p->key_usage |= CRYPTO_KU_DIGITAL_SIGNATURE;
	return 0;
}

int
config_profile_parse(const char *s, struct crypto_profile *p, const char **why)
{
	const char *c1 = strchr(s, ':'), *c2;
	char life[32];
	size_t n;

	memset(p, 0, sizeof(*p));
	n = c1 != NULL ? (size_t)(c1 - s) : 0;
	if (c1 == NULL || n == 0 || n > CRYPTO_PROFILE_NAME_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") < n) {
		*why = "expected NAME:LIFETIME[:USAGES], NAME of 1 to 31 lower-case "
		    "letters, digits and '-'";
		return -1;
	}
	memcpy(p->name, s, n);
	c2 = strchr(c1 + 1, ':');
	n = c2 != NULL ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (n >= sizeof(life)) {
		*why = "lifetime too long";
		return -1;
	}
	memcpy(life, c1 + 1, n);
	life[n] = '\0';
	if (parse_duration(life, 3600, 825L * 86400, &p->lifetime, why) != 0) {
		*why = "lifetime must be from 1h to 825d (s, m, h or d suffix)";
		return -1;
	}
	if (c2 != NULL)
		return profile_usages(c2 + 1, p, why);
	p->key_usage = CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT;
	p->eku = CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH;
	return 0;
}

/* A name policy rule's value, checked by the policy's own parser. */
static int
check_policy_value(enum crypto_policy_rule rule, const char *value,
    const char **why)
{
	struct crypto_policy *p = crypto_policy_new();
	const char *dns = value[0] == '.' ? value + 1 : value;
	char name[CRYPTO_MAX_NAME_LEN + 1];
	int ret;

	if (p == NULL) {
		*why = "out of memory";
		return -1;
	}
	ret = crypto_policy_add(p, rule, value);
	crypto_policy_free(p);
	if (ret == 0)
		return 0;
	if (rule == CRYPTO_POLICY_ALLOW_IP || rule == CRYPTO_POLICY_DENY_IP)
		*why = "expected an IP range ADDR/PREFIX (host bits zero) or an address";
	else if (crypto_dns_name_check(dns, strlen(dns), 0, name, why) == 0)
		*why = "not a DNS suffix";
	return -1;
}

static int
list_add(struct config_list *list, const char *value, const char **why)
{
	if (list->n >= CONFIG_MAX_LIST) {
		*why = "too many values";
		return -1;
	}
	if ((list->v[list->n] = strdup(value)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	list->n++;
	return 0;
}

/* A --profile value, checked now so errors name the flag or line. */
static int
profile_add(struct config_list *list, const char *value, const char **why)
{
	struct crypto_profile p, q;
	size_t i;

	if (config_profile_parse(value, &p, why) != 0)
		return -1;
	if (list->n >= CRYPTO_MAX_PROFILES) {
		*why = "too many profiles (at most 8)";
		return -1;
	}
	for (i = 0; i < list->n; i++) {
		if (config_profile_parse(list->v[i], &q, why) == 0 &&
		    strcmp(p.name, q.name) == 0) {
			*why = "a profile of this name is already configured";
			return -1;
		}
	}
	return list_add(list, value, why);
}

size_t
config_profiles(const struct config *c, struct crypto_profile out[CRYPTO_MAX_PROFILES])
{
	const char *why;
	size_t i, n = 0;

	if (c->profiles.n == 0)
		n = crypto_profile_defaults(out);
	for (i = 0; i < c->profiles.n && n < CRYPTO_MAX_PROFILES; i++)
		if (config_profile_parse(c->profiles.v[i], &out[n], &why) == 0)
			n++;
	if (c->cert_days != 0 && n > 0)
		out[0].lifetime = c->cert_days * 86400;
	return n;
}

/* The '|'-separated words an OPT_ENUM option takes. */
static const char *
option_words(const struct option *o)
{
	size_t i;

	for (i = 0; i < sizeof(enum_words) / sizeof(enum_words[0]); i++)
		if (enum_words[i].offset == o->offset)
			return enum_words[i].words;
	return "";
}

/* value is one of the option's words; else *why lists them. */
static int
check_enum(const struct option *o, const char *value, const char **why)
{
	static char msg[128];        /* start-up and reload: main thread only */
	const char *w = option_words(o), *bar;
	size_t len, n = strlen(value), m;

	m = (size_t)snprintf(msg, sizeof(msg), "expected one of");
	for (;;) {
		bar = strchr(w, '|');
		len = bar != NULL ? (size_t)(bar - w) : strlen(w);
		if (len == n && strncmp(w, value, n) == 0)
			return 0;
		if (m < sizeof(msg))
			m += (size_t)snprintf(msg + m, sizeof(msg) - m, "%s %.*s",
			    m > 15 ? "," : "", (int)len, w);
		if (bar == NULL)
			break;
		w = bar + 1;
	}
	*why = msg;
	return -1;
}

static int
option_set(struct config *c, const struct option *o, const char *value,
    const char **why)
{
	char **sp = (char **)((char *)c + o->offset);
	long *lp = (long *)((char *)c + o->offset);
	struct config_list *list = (struct config_list *)((char *)c + o->offset);

	if (*value == '\0') {
		*why = "empty value";
		return -1;
	}
	switch (o->kind) {
	case OPT_ADDR_PORT:
		if (check_addr_port(value, why) != 0)
			return -1;
		/* FALLTHROUGH */
	case OPT_STRING:
		free(*sp);
		if ((*sp = strdup(value)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		return 0;
	case OPT_POLICY:
		if (check_policy_value((enum crypto_policy_rule)o->min, value, why) != 0)
			return -1;
		/* FALLTHROUGH */
	case OPT_LIST:
		return list_add(list, value, why);
	case OPT_PORT:
	case OPT_LONG:
		return parse_long(value, o->min, o->max, lp, why);
	case OPT_DURATION:
		return parse_duration(value, o->min, o->max, lp, why);
	case OPT_FLAG:
		return parse_flag_value(value, lp, why);
	case OPT_PROFILE:
		return profile_add(list, value, why);
	case OPT_RATE:
		return parse_rate(value, o->max, (struct config_rate *)(void *)lp, why);
	case OPT_ENUM:
		if (check_enum(o, value, why) != 0)
			return -1;
		free(*sp);
		if ((*sp = strdup(value)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		return 0;
	}
	*why = "unknown option kind";
	return -1;
}

/* Every option's default from the table, parsed as a value of the option,
 * so the table is the one place a default is written. */
void
config_defaults(struct config *c)
{
	const char *why;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < N_OPTIONS; i++)
		if (options[i].def != NULL &&
		    option_set(c, &options[i], options[i].def, &why) != 0)
			fprintf(stderr, "hearth: the default of --%s: %s\n",
			    options[i].name, why);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One "key = value" line of a configuration file. */
static int
config_file_line(struct config *c, enum config_command cmd, const char *path,
    int lineno, char *line)
{
	const struct option *o;
	char *eq, *key, *value;
	const char *why;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		fprintf(stderr, "hearth: %s:%d: expected \"key = value\"\n", path, lineno);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if ((o = option_find(key, strlen(key), cmd)) == NULL) {
		fprintf(stderr, "hearth: %s:%d: unknown key \"%s\"\n", path, lineno, key);
		return -1;
	}
	if (!(o->commands & cmd))
		return 0;  /* a shared file may hold other commands' keys */
	if (option_set(c, o, value, &why) != 0) {
		fprintf(stderr, "hearth: %s:%d: key \"%s\": bad value \"%s\": %s\n",
		    path, lineno, key, value, why);
		return -1;
	}
	return 0;
}

static int
config_file_read(struct config *c, enum config_command cmd, const char *path)
{
	char line[CONFIG_MAX_LINE];
	FILE *f;
	int lineno = 0, ret = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "hearth: %s: cannot open configuration: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "hearth: %s:%d: line longer than %d bytes\n",
			    path, lineno, CONFIG_MAX_LINE - 1);
			ret = -1;
			break;
		}
		ret = config_file_line(c, cmd, path, lineno, line);
	}
	if (ret == 0 && ferror(f)) {
		fprintf(stderr, "hearth: %s: read error\n", path);
		ret = -1;
	}
	fclose(f);
	return ret;
}

/* Finds --config in argv first, so the file is read before the flags. */
static const char *
find_config_flag(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

/* --import-root CERT KEY takes two values; handled apart from the table. */
static int
parse_import_root(struct config *c, int argc, char **argv, int *i)
{
	if (*i + 2 >= argc) {
		fprintf(stderr, "hearth: --import-root needs CERT.pem KEY.pem\n");
		return -1;
	}
	free(c->import_root_cert);
	free(c->import_root_key);
	c->import_root_cert = strdup(argv[*i + 1]);
	c->import_root_key = strdup(argv[*i + 2]);
	*i += 2;
	return c->import_root_cert != NULL && c->import_root_key != NULL ? 0 : -1;
}

static int
parse_flag(struct config *c, enum config_command cmd, int argc, char **argv,
    int *i)
{
	const char *arg = argv[*i], *name, *value, *eq, *why;
	const struct option *o;
	size_t namelen;

	if (strncmp(arg, "--", 2) != 0) {
		fprintf(stderr, "hearth: unexpected argument \"%s\"\n", arg);
		return -1;
	}
	name = arg + 2;
	eq = strchr(name, '=');
	namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
	if (cmd == CMD_INIT && namelen == 11 && strncmp(name, "import-root", 11) == 0)
		return parse_import_root(c, argc, argv, i);
	if (namelen == 6 && strncmp(name, "config", 6) == 0) {
		if (eq == NULL)
			(*i)++;
		return 0;
	}
	if ((o = option_find(name, namelen, cmd)) == NULL || !(o->commands & cmd)) {
		fprintf(stderr, "hearth: unknown option \"--%.*s\" for %s\n",
		    (int)namelen, name, cmd == CMD_INIT ? "init" :
		    cmd == CMD_SERVE ? "serve" : "eab");
		return -1;
	}
	if (eq != NULL) {
		value = eq + 1;
	} else if (o->kind == OPT_FLAG) {
		value = "1";
	} else if (*i + 1 < argc) {
		value = argv[++(*i)];
	} else {
		fprintf(stderr, "hearth: --%s needs a value\n", o->name);
		return -1;
	}
	if (option_set(c, o, value, &why) != 0) {
		fprintf(stderr, "hearth: --%s: bad value \"%s\": %s\n", o->name,
		    value, why);
		return -1;
	}
	return 0;
}

/* The PKI listener's address, and a refresh well inside the lifetime. */
static int
config_check_pki(struct config *c)
{
	const char *why;

	if (c->listen == NULL || c->pki_listen == NULL ||
	    c->admin_listen == NULL || c->log_level == NULL) {
		fprintf(stderr, "hearth: out of memory\n");
		return -1;
	}
	if (strcmp(c->pki_listen, "off") != 0 &&
	    check_addr_port(c->pki_listen, &why) != 0) {
		fprintf(stderr, "hearth: pki-listen: \"%s\": %s, or \"off\"\n",
		    c->pki_listen, why);
		return -1;
	}
	if (strcmp(c->admin_listen, "off") != 0 &&
	    check_addr_port(c->admin_listen, &why) != 0) {
		fprintf(stderr, "hearth: admin-listen: \"%s\": %s, or \"off\"\n",
		    c->admin_listen, why);
		return -1;
	}
	if (c->crl_refresh >= c->crl_lifetime) {
		fprintf(stderr, "hearth: crl-refresh (%lds) must be less than "
		    "crl-lifetime (%lds), or relying parties hold expired CRLs\n",
		    c->crl_refresh, c->crl_lifetime);
		return -1;
	}
	if (c->hold_max >= c->limit_request_time * 1000) {
		fprintf(stderr, "hearth: hold-max (%ldms) must be less than "
		    "limit-request-time (%lds): a held answer counts against the "
		    "time a request has\n", c->hold_max, c->limit_request_time);
		return -1;
	}
	return 0;
}

static int
config_check(struct config *c)
{
	enum crypto_key_type kt;
	struct denylist *deny;
	char why[256];

	if (c->data_dir == NULL) {
		fprintf(stderr, "hearth: --data DIR is required\n");
		return -1;
	}
	if (c->key_type != NULL && crypto_key_type_parse(c->key_type, &kt) != 0) {
		fprintf(stderr, "hearth: key-type: \"%s\" is not one of ec-p256, "
		    "ec-p384, rsa-4096\n", c->key_type);
		return -1;
	}
	if (c->base_url != NULL && strncmp(c->base_url, "https://", 8) != 0) {
		fprintf(stderr, "hearth: base-url: \"%s\" must start with https://\n",
		    c->base_url);
		return -1;
	}
	if (c->pki_url != NULL && crypto_pki_url_check(c->pki_url) != 0) {
		fprintf(stderr, "hearth: pki-url: \"%s\" must be http://HOST[:PORT] "
		    "with no path or trailing slash\n", c->pki_url);
		return -1;
	}
	if (c->root_days < c->intermediate_days) {
		fprintf(stderr, "hearth: intermediate-days (%ld) exceeds root-days (%ld)\n",
		    c->intermediate_days, c->root_days);
		return -1;
	}
	if (config_check_pki(c) != 0)
		return -1;
	if ((deny = denylist_new((const char *const *)c->validation_deny.v,
	    c->validation_deny.n, why, sizeof(why))) == NULL) {
		fprintf(stderr, "hearth: validation-deny: %s\n", why);
		return -1;
	}
	denylist_free(deny);
	return 0;
}

int
config_parse(struct config *c, enum config_command cmd, int argc, char **argv)
{
	const char *file = find_config_flag(argc, argv);
	int i;

	c->argc = argc;
	c->argv = argv;
	if (file != NULL) {
		if ((c->config_file = strdup(file)) == NULL)
			return -1;
		if (config_file_read(c, cmd, file) != 0)
			return -1;
	}
	for (i = 0; i < argc; i++)
		if (parse_flag(c, cmd, argc, argv, &i) != 0)
			return -1;
	return config_check(c);
}

void
config_free(struct config *c)
{
	struct config_list *list;
	size_t i, j;

	for (i = 0; i < N_OPTIONS; i++) {
		if (options[i].kind == OPT_STRING || options[i].kind == OPT_ADDR_PORT ||
		    options[i].kind == OPT_ENUM)
			free(*(char **)((char *)c + options[i].offset));
		if (options[i].kind == OPT_LIST || options[i].kind == OPT_PROFILE ||
		    options[i].kind == OPT_POLICY) {
			list = (struct config_list *)((char *)c + options[i].offset);
			for (j = 0; j < list->n; j++)
				free(list->v[j]);
		}
	}
	free(c->config_file);
	free(c->import_root_cert);
	free(c->import_root_key);
	memset(c, 0, sizeof(*c));
}

/* The placeholder of an option's value in usage and the reference. */
static const char *
option_metavar(const struct option *o)
{
	switch (o->kind) {
	case OPT_STRING:
	case OPT_LIST:
		return "VALUE";
	case OPT_PROFILE:
		return "NAME:LIFETIME[:USAGES]";
	case OPT_POLICY:
		return o->min == CRYPTO_POLICY_ALLOW_DNS ||
		    o->min == CRYPTO_POLICY_DENY_DNS ? "SUFFIX" : "CIDR";
	case OPT_ADDR_PORT:
		return "ADDR:PORT";
	case OPT_DURATION:
		return "DURATION";
	case OPT_RATE:
		return "N/DURATION";
	case OPT_ENUM:
		return option_words(o);
	case OPT_FLAG:
		return "";
	case OPT_LONG:
	case OPT_PORT:
		break;
	}
	return "N";
}

void
config_usage(FILE *f, enum config_command cmd)
{
	size_t i;

	fprintf(f, "  --config FILE\n        read settings (key = value lines) from FILE\n");
	if (cmd == CMD_INIT)
		fprintf(f, "  --import-root CERT.pem KEY.pem\n"
		    "        use an existing root instead of generating one\n");
	for (i = 0; i < N_OPTIONS; i++) {
		if (!(options[i].commands & cmd))
			continue;
		fprintf(f, "  --%s%s%s\n        %s", options[i].name,
		    options[i].kind == OPT_FLAG ? "" : " ",
		    option_metavar(&options[i]), options[i].help);
		if (options[i].def != NULL)
			fprintf(f, " (default %s)", options[i].def);
		fprintf(f, "\n");
	}
}

/* The kind of an option in words, for the reference. */
static const char *
option_kind_name(const struct option *o)
{
	static const char *const names[] = {
		[OPT_STRING] = "string", [OPT_LIST] = "list (repeatable)",
		[OPT_LONG] = "number", [OPT_PORT] = "port",
		[OPT_ADDR_PORT] = "address:port", [OPT_DURATION] = "duration",
		[OPT_FLAG] = "switch", [OPT_POLICY] = "list (repeatable)",
		[OPT_PROFILE] = "profile (repeatable)", [OPT_RATE] = "rate",
		[OPT_ENUM] = "one of",
	};

	return names[o->kind];
}

int
config_option_info(size_t i, struct config_option_info *out)
{
	const struct option *o;

	if (i >= N_OPTIONS)
		return -1;
	o = &options[i];
	memset(out, 0, sizeof(*out));
	out->name = o->name;
	out->metavar = option_metavar(o);
	out->kind = option_kind_name(o);
	out->def = o->def;
	out->help = o->help;
	out->commands = o->commands;
	if (o->kind == OPT_LONG || o->kind == OPT_PORT || o->kind == OPT_DURATION) {
		out->bounded = 1;
		out->min = o->min;
		out->max = o->max;
		out->seconds = o->kind == OPT_DURATION;
	} else if (o->kind == OPT_RATE) {
		out->bounded = 1;
		out->min = 0;
		out->max = o->max;
	}
	return 0;
}

char *
config_read_passphrase(const char *path, size_t *len)
{
	char *buf = NULL, *out = NULL;
	size_t n = 0, total = 0;
	unsigned mode = 0;
	int rc;

	rc = crypto_secret_read(path, CONFIG_MAX_PASSPHRASE, &buf, &total, &mode);
	if (rc == CRYPTO_ERR_FILE_MODE) {
		fprintf(stderr, "hearth: %s: passphrase file has mode %04o, which "
		    "lets group or others read it; refusing it (chmod 600 %s)\n",
		    path, mode, path);
		return NULL;
	}
	if (rc != CRYPTO_OK) {
		fprintf(stderr, "hearth: %s: cannot read passphrase: %s\n", path,
		    rc == CRYPTO_ERR_IO ? strerror(errno) :
		    rc == CRYPTO_ERR_TOO_LARGE ? "larger than "
		    CONFIG_MAX_PASSPHRASE_STR " bytes" : crypto_strerror(rc));
		return NULL;
	}
	n = strcspn(buf, "\r\n");    /* the first line; NUL-terminated */
	if (n == 0)
		fprintf(stderr, "hearth: %s: passphrase file is empty\n", path);
	else if ((out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		*len = n;
	}
	crypto_zeroize(buf, total);
	free(buf);
	return out;
}

const char config_policy_hint[] =
    "to issue for other names, add --allow-dns SUFFIX (e.g. corp.example.com) "
    "or --allow-ip CIDR (allow-dns = SUFFIX in a --config file); an allow rule "
    "replaces its kind's defaults, so repeat the ones still wanted";

struct crypto_policy *
config_permit(const struct config *c, int *err)
{
	struct crypto_policy *p;
	size_t i;
	int ret = 0;

	*err = 0;
	if (c->permit_dns.n == 0 && c->permit_ip.n == 0)
		return NULL;
	if ((p = crypto_policy_new()) == NULL)
		ret = CRYPTO_ERR_NOMEM;
	for (i = 0; ret == 0 && i < c->permit_dns.n; i++)
		ret = crypto_policy_add(p, CRYPTO_POLICY_ALLOW_DNS, c->permit_dns.v[i]);
	for (i = 0; ret == 0 && i < c->permit_ip.n; i++)
		ret = crypto_policy_add(p, CRYPTO_POLICY_ALLOW_IP, c->permit_ip.v[i]);
	if (ret != 0) {
		log_error("building the name constraints: %s", crypto_strerror(ret));
		crypto_policy_free(p);
		*err = -1;
		return NULL;
	}
	return p;
}

struct crypto_policy *
config_policy(const struct config *c, const struct crypto_policy *constraints)
{
	static const struct { size_t off; enum crypto_policy_rule rule; } lists[] = {
		{ OFF(allow_dns), CRYPTO_POLICY_ALLOW_DNS },
		{ OFF(deny_dns), CRYPTO_POLICY_DENY_DNS },
		{ OFF(allow_ip), CRYPTO_POLICY_ALLOW_IP },
		{ OFF(deny_ip), CRYPTO_POLICY_DENY_IP },
	};
	const struct config_list *l;
	struct crypto_policy *p = crypto_policy_new();
	size_t i, j;
	int ret = p != NULL ? 0 : CRYPTO_ERR_NOMEM;

	for (i = 0; ret == 0 && i < sizeof(lists) / sizeof(lists[0]); i++) {
		l = (const struct config_list *)(const void *)((const char *)c +
		    lists[i].off);
		for (j = 0; ret == 0 && j < l->n; j++)
			ret = crypto_policy_add(p, lists[i].rule, l->v[j]);
	}
	/* The intermediate's constraints, then the built-in defaults, stand in
	 * for a kind the operator gave no allow rule of. */
	if (ret == 0)
		ret = crypto_policy_add_constraints(p, constraints);
	if (ret == 0)
		ret = crypto_policy_add_defaults(p);
	if (ret != 0) {
		log_error("building the name policy: %s", crypto_strerror(ret));
		crypto_policy_free(p);
		return NULL;
	}
	return p;
}
