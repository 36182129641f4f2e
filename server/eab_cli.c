/*
 * eab_cli.c: `hearth eab add|list|revoke`, the operator's side of external
 * account binding keys (RFC 8555 §7.3.4). Opens the store under DIR/db
 * (safe while `hearth serve` runs on it: LMDB serialises writers across
 * processes) and hands the work to acme/, which owns the key records.
 * Output of `eab add` is a stable interface: the lines "kid: ..." and
 * "hmac: ...", nothing else on stdout.
 */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "store.h"

#define EAB_MAX_ARGS 128

void
eab_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth eab add --data DIR [--label L] [--expires DURATION]\n"
	    "                      [--allow-dns SUFFIX]...\n"
	    "       hearth eab list --data DIR\n"
	    "       hearth eab revoke --data DIR KID\n");
}

/* Opens DIR/db; NULL after printing why. */
static struct store *
eab_store(const struct config *c)
{
	char path[4096], errbuf[512];
	struct store *st;
	int err;

	if (server_store_location(c->data_dir, c->store, path, sizeof(path)) != 0)
		return NULL;
	if ((st = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL)
		fprintf(stderr, "hearth: %s\n", errbuf);
	return st;
}

static int
eab_add(struct store *st, const struct config *c, time_t now)
{
	struct acme_eab_params p;
	char kid[ACME_EAB_KID_LEN + 1], hmac[ACME_EAB_HMAC_B64_LEN + 1];
	char why[512];

	memset(&p, 0, sizeof(p));
	p.label = c->eab_label;
	p.expires = c->eab_expires != 0 ? now + c->eab_expires : 0;
	p.allow_dns = (const char *const *)c->eab_allow_dns.v;
	p.n_allow_dns = c->eab_allow_dns.n;
	if (acme_eab_key_add(st, &p, now, crypto_random, kid, hmac, why,
	    sizeof(why)) != 0) {
		fprintf(stderr, "hearth: eab add: %s\n", why);
		return 1;
	}
	printf("kid: %s\nhmac: %s\n", kid, hmac);
	crypto_zeroize(hmac, sizeof(hmac));
	return fflush(stdout) == 0 ? 0 : 1;
}

static void
print_time(time_t t, const char *none)
{
	char buf[32];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		printf("%s", none);
	else
		printf("%s", buf);
}

/* One tab-separated line per key, never the MAC key. */
static int
eab_list_one(const struct acme_eab_info *k, void *arg)
{
	size_t i;

	(void)arg;
	printf("%s\t%s\t", k->kid, k->label[0] != '\0' ? k->label : "-");
	print_time(k->created, "-");
	printf("\t");
	print_time(k->expires, "never");
	printf("\t%s\t", k->account != NULL ? k->account : "unbound");
	print_time(k->revoked, "no");
	printf("\t");
	for (i = 0; i < k->n_allow_dns; i++)
		printf("%s%s", i > 0 ? "," : "", k->allow_dns[i]);
	printf("%s\n", k->n_allow_dns == 0 ? "any" : "");
	return 0;
}

static int
eab_list(struct store *st)
{
	printf("kid\tlabel\tcreated\texpires\taccount\trevoked\tallow-dns\n");
	if (acme_eab_key_list(st, eab_list_one, NULL) != 0) {
		fprintf(stderr, "hearth: eab list: cannot read the keys\n");
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
eab_revoke(struct store *st, const char *kid, time_t now)
{
	int was = 0, ret;

	ret = acme_eab_key_revoke(st, kid, now, &was);
	if (ret == ACME_ERR_NOTFOUND) {
		fprintf(stderr, "hearth: eab revoke: no key \"%s\"\n", kid);
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "hearth: eab revoke: cannot revoke \"%s\"\n", kid);
		return 1;
	}
	fprintf(stderr, was ? "hearth: key %s was already revoked\n" :
	    "hearth: key %s revoked; an account it bound keeps working\n", kid);
	return 0;
}

/*
 * Splits argv into flags (every eab option takes a value: "--x V" or
 * "--x=V") and at most one positional argument, the KID of revoke.
 */
static int
eab_split(int argc, char **argv, char **flags, int *nflags, char **pos)
{
	int i;

	*nflags = 0;
	*pos = NULL;
	if (argc > EAB_MAX_ARGS) {
		fprintf(stderr, "hearth: eab: too many arguments\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			flags[(*nflags)++] = argv[i];
			if (strchr(argv[i], '=') == NULL && i + 1 < argc)
				flags[(*nflags)++] = argv[++i];
		} else if (*pos == NULL) {
			*pos = argv[i];
		} else {
			fprintf(stderr, "hearth: eab: unexpected argument \"%s\"\n",
			    argv[i]);
			return -1;
		}
	}
	return 0;
}

/* Checks the words fit the subcommand; 0 or -1 after printing why. */
static int
eab_check_args(const char *sub, const struct config *c, const char *pos)
{
	int add = strcmp(sub, "add") == 0, revoke = strcmp(sub, "revoke") == 0;

	if (!add && !revoke && strcmp(sub, "list") != 0) {
		fprintf(stderr, "hearth: eab: unknown subcommand \"%s\"\n", sub);
		return -1;
	}
	if (revoke != (pos != NULL)) {
		fprintf(stderr, revoke ? "hearth: eab revoke: which KID?\n" :
		    "hearth: eab %s: unexpected argument \"%s\"\n", sub, pos);
		return -1;
	}
	if (!add && (c->eab_label != NULL || c->eab_expires != 0 ||
	    c->eab_allow_dns.n > 0)) {
		fprintf(stderr, "hearth: eab %s: --label, --expires and "
		    "--allow-dns belong to eab add\n", sub);
		return -1;
	}
	return 0;
}

int
cmd_eab(int argc, char **argv)
{
	char *flags[EAB_MAX_ARGS], *pos;
	struct config c;
	struct store *st = NULL;
	time_t now = time(NULL);
	int nflags, ret = 2, crypto = 0;

	config_defaults(&c);
	if (argc < 1) {
		eab_usage(stderr);
		goto out;
	}
	if (eab_split(argc - 1, argv + 1, flags, &nflags, &pos) != 0 ||
	    config_parse(&c, CMD_EAB, nflags, flags) != 0 ||
	    eab_check_args(argv[0], &c, pos) != 0)
		goto out;
	ret = 1;
	if (crypto_init() != CRYPTO_OK) {
		fprintf(stderr, "hearth: cannot initialise the crypto library\n");
		goto out;
	}
	crypto = 1;
	if ((st = eab_store(&c)) == NULL)
		goto out;
	if (strcmp(argv[0], "add") == 0)
		ret = eab_add(st, &c, now);
	else if (strcmp(argv[0], "list") == 0)
		ret = eab_list(st);
	else
		ret = eab_revoke(st, pos, now);
out:
	store_close(st);
	if (crypto)
		crypto_cleanup();
	config_free(&c);
	return ret;
}
