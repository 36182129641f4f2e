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

enum opt_kind {
	OPT_STRING, OPT_LIST, OPT_LONG, OPT_PORT, OPT_ADDR_PORT,
	OPT_DURATION,                /* "90s", "15m", "168h", "30d": seconds */
	OPT_FLAG,                    /* bare flag; in a file 1/0, true/false */
};

struct option {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	unsigned commands;           /* CMD_* mask */
	long min, max;               /* OPT_LONG bounds */
	const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define BOTH (CMD_INIT | CMD_SERVE)
#define ALL (CMD_INIT | CMD_SERVE | CMD_EAB)

static const struct option options[] = {
	{ "data", OPT_STRING, OFF(data_dir), ALL, 0, 0,
	  "data directory (CA under DIR/ca, database under DIR/db)" },
	{ "listen", OPT_ADDR_PORT, OFF(listen), CMD_SERVE, 0, 0,
	  "HTTPS listen address, ADDR:PORT or :PORT (default :8443)" },
	{ "tls-name", OPT_LIST, OFF(tls_names), CMD_SERVE, 0, 0,
	  "a name the server is reached under, repeatable (default: localhost, "
	  "127.0.0.1, ::1 and the host name)" },
	{ "base-url", OPT_STRING, OFF(base_url), CMD_SERVE, 0, 0,
	  "fixed https://HOST[:PORT] for ACME URLs (default: from the Host header)" },
	{ "http01-port", OPT_PORT, OFF(http01_port), CMD_SERVE, 1, 65535,
	  "port http-01 validation connects to (default 80)" },
	{ "tlsalpn01-port", OPT_PORT, OFF(tlsalpn01_port), CMD_SERVE, 1, 65535,
	  "port tls-alpn-01 validation connects to (default 443)" },
	{ "resolver", OPT_ADDR_PORT, OFF(resolver), CMD_SERVE, 0, 0,
	  "DNS server IP:PORT for validation (default: the system's)" },
	{ "threads", OPT_LONG, OFF(threads), CMD_SERVE, 0, 64,
	  "event loops (default 0: one per core)" },
	{ "caa-check", OPT_LONG, OFF(caa_check), CMD_SERVE, 0, 1,
	  "check CAA records (RFC 8659) before issuing: 1 (default) or 0" },
	{ "caa-identity", OPT_LIST, OFF(caa_identities), CMD_SERVE, 0, 0,
	  "issuer domain name CAA records must name, repeatable (default: the "
	  "DNS names among --tls-name)" },
	{ "validation-deny", OPT_LIST, OFF(validation_deny), CMD_SERVE, 0, 0,
	  "address range (CIDR) validation never connects to, repeatable "
	  "(default: 169.254.0.0/16, fe80::/10, fd00:ec2::254/128; \"none\" "
	  "clears it)" },
	{ "cert-days", OPT_LONG, OFF(cert_days), CMD_SERVE, 1, 825,
	  "validity of issued certificates in days (default 90)" },
	{ "retention", OPT_DURATION, OFF(retention), CMD_SERVE, 3600,
	  3650L * 86400, "how long expired orders, authorizations and "
	  "certificates are kept before the background cleanup removes them "
	  "(default 7d; s, m, h, d suffixes)" },
	{ "tls-cert-lifetime", OPT_DURATION, OFF(tls_cert_lifetime), CMD_SERVE,
	  30, 366L * 86400, "validity of the server's own TLS certificate, "
	  "renewed when a third is left (default 168h; s, m, h, d suffixes)" },
	{ "max-header-bytes", OPT_LONG, OFF(max_header_bytes), CMD_SERVE, 1024,
	  1048576, "cap on request header bytes (default 16384)" },
	{ "max-body-bytes", OPT_LONG, OFF(max_body_bytes), CMD_SERVE, 1024,
	  1048576, "cap on request body bytes, answered with a problem document "
	  "(default 65536)" },
	{ "idle-timeout", OPT_LONG, OFF(idle_timeout), CMD_SERVE, 1, 3600,
	  "seconds an idle connection is kept (default 30)" },
	{ "eab-required", OPT_FLAG, OFF(eab_required), CMD_SERVE, 0, 1,
	  "newAccount must carry an external account binding made with a key "
	  "from `hearth eab add` (RFC 8555 §7.3.4); in a file: eab-required = 1" },
	{ "user", OPT_STRING, OFF(user), CMD_SERVE, 0, 0,
	  "when started as root: the user the serving process becomes after "
	  "binding its listener (default \"" PRIVSEP_DEFAULT_USER "\")" },
	{ "signer-user", OPT_STRING, OFF(signer_user), CMD_SERVE, 0, 0,
	  "when started as root: the user the signer process becomes after "
	  "loading the intermediate key (default \"" PRIVSEP_DEFAULT_SIGNER_USER
	  "\")" },
	{ "label", OPT_STRING, OFF(eab_label), CMD_EAB, 0, 0,
	  "eab add: a note on whom the key is for (shown by eab list)" },
	{ "expires", OPT_DURATION, OFF(eab_expires), CMD_EAB, 1, 3650L * 86400,
	  "eab add: the key can bind an account only this long (e.g. 30d, 12h; "
	  "default: no limit)" },
	{ "allow-dns", OPT_LIST, OFF(eab_allow_dns), CMD_EAB, 0, 0,
	  "eab add: DNS suffix the account's names must fall under, repeatable "
	  "(default: any name; a restricted key allows no IP identifiers)" },
	{ "key-type", OPT_STRING, OFF(key_type), BOTH, 0, 0,
	  "CA key type: ec-p256 (default), ec-p384 or rsa-4096" },
	{ "ca-name", OPT_STRING, OFF(ca_name), BOTH, 0, 0,
	  "name in the CA certificates' subjects (default \"hearth\")" },
	{ "root-days", OPT_LONG, OFF(root_days), BOTH, 1, 36500,
	  "root validity in days (default 3650)" },
	{ "intermediate-days", OPT_LONG, OFF(intermediate_days), BOTH, 1, 36500,
	  "intermediate validity in days (default 1825)" },
	{ "passphrase-file", OPT_STRING, OFF(passphrase_file), BOTH, 0, 0,
	  "file holding the root key passphrase (default: generate DIR/ca/root.pass)" },
	{ "intermediate-passphrase-file", OPT_STRING,
	  OFF(intermediate_passphrase_file), BOTH, 0, 0,
	  "file holding a passphrase to encrypt the intermediate key with" },
	{ "import-root-passphrase-file", OPT_STRING,
	  OFF(import_root_passphrase_file), CMD_INIT, 0, 0,
	  "passphrase of the imported root key, when it differs from --passphrase-file" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->http01_port = 80;
	c->tlsalpn01_port = 443;
	c->cert_days = 90;
	c->retention = 7L * 86400;
	c->tls_cert_lifetime = 168 * 3600;
	c->max_header_bytes = 16384;
	c->max_body_bytes = 65536;
	c->idle_timeout = 30;
	c->caa_check = 1;
	c->root_days = 3650;
	c->intermediate_days = 1825;
}

static const struct option *
option_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
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
	case OPT_LIST:
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
	case OPT_PORT:
	case OPT_LONG:
		return parse_long(value, o->min, o->max, lp, why);
	case OPT_DURATION:
		return parse_duration(value, o->min, o->max, lp, why);
	case OPT_FLAG:
		return parse_flag_value(value, lp, why);
	}
	*why = "unknown option kind";
	return -1;
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
	if ((o = option_find(key, strlen(key))) == NULL) {
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
	if ((o = option_find(name, namelen)) == NULL || !(o->commands & cmd)) {
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
	if (c->root_days < c->intermediate_days) {
		fprintf(stderr, "hearth: intermediate-days (%ld) exceeds root-days (%ld)\n",
		    c->intermediate_days, c->root_days);
		return -1;
	}
	if (c->listen == NULL && (c->listen = strdup(":8443")) == NULL)
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
		if (options[i].kind == OPT_STRING || options[i].kind == OPT_ADDR_PORT)
			free(*(char **)((char *)c + options[i].offset));
		if (options[i].kind == OPT_LIST) {
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
		fprintf(f, "  --%s%s%s\n        %s\n", options[i].name,
		    options[i].kind == OPT_FLAG ? "" : " ",
		    options[i].kind == OPT_STRING || options[i].kind == OPT_LIST ? "VALUE" :
		    options[i].kind == OPT_ADDR_PORT ? "ADDR:PORT" :
		    options[i].kind == OPT_DURATION ? "DURATION" :
		    options[i].kind == OPT_FLAG ? "" : "N",
		    options[i].help);
	}
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
