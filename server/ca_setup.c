/*
 * ca_setup.c: `hearth init` and the first start of `hearth serve`: turns the
 * configuration into a crypto_ca_params, reads passphrase files, and reports
 * where the CA is and which root to distribute. The keys themselves are made
 * and written by crypto/; this file only moves passphrases, and zeroizes them.
 */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
path_join(char *out, size_t outsz, const char *dir, const char *sub)
{
	int n = snprintf(out, outsz, "%s/%s", dir, sub);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static void
passphrase_free(char *p, size_t len)
{
	if (p != NULL) {
		crypto_zeroize(p, len);
		free(p);
	}
}

static int
ca_params(const struct config *c, struct crypto_ca_params *p)
{
	memset(p, 0, sizeof(*p));
	p->key_type = CRYPTO_KEY_EC_P256;
	if (c->key_type != NULL &&
	    crypto_key_type_parse(c->key_type, &p->key_type) != 0)
		return -1;  /* checked in config_check already */
	p->ca_name = c->ca_name != NULL ? c->ca_name : "hearth";
	p->root_days = (unsigned)c->root_days;
	p->intermediate_days = (unsigned)c->intermediate_days;
	p->now = time(NULL);
	return 0;
}

static int
make_data_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "hearth: %s: cannot create data directory: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
report_created(const char *ca_dir, int generated_pass)
{
	log_info("CA created in %s", ca_dir);
	log_info("distribute %s/root.crt to your clients' trust stores", ca_dir);
	if (generated_pass)
		log_warn("the root key passphrase was generated into %s/root.pass: "
		    "move root.key and root.pass offline (they are needed only to "
		    "issue a new intermediate)", ca_dir);
}

/* Creates or imports the CA under DIR/ca. */
static int
ca_create(const struct config *c, const char *ca_dir)
{
	struct crypto_ca_params p;
	struct crypto_policy *permit;
	char *rootpw = NULL, *interpw = NULL, *importpw = NULL;
	size_t rootlen = 0, interlen = 0, importlen = 0;
	int gen = 0, ret = -1, rc;

	if ((permit = config_permit(c, &rc)) == NULL && rc != 0)
		return -1;
	if (ca_params(c, &p) != 0)
		goto out;
	p.permit = permit;
	if (c->passphrase_file != NULL &&
	    (rootpw = config_read_passphrase(c->passphrase_file, &rootlen)) == NULL)
		goto out;
	if (c->intermediate_passphrase_file != NULL &&
	    (interpw = config_read_passphrase(c->intermediate_passphrase_file,
	    &interlen)) == NULL)
		goto out;
	if (c->import_root_passphrase_file != NULL &&
	    (importpw = config_read_passphrase(c->import_root_passphrase_file,
	    &importlen)) == NULL)
		goto out;
	p.root_passphrase = rootpw;
	p.root_passphrase_len = rootlen;
	p.intermediate_passphrase = interpw;
	p.intermediate_passphrase_len = interlen;
	if (c->import_root_cert != NULL) {
		/* The imported key's own passphrase: the import file, else the
		 * root passphrase (the usual case: one passphrase for both). */
		rc = crypto_ca_import(ca_dir, c->import_root_cert,
		    c->import_root_key, importpw != NULL ? importpw : rootpw,
		    importpw != NULL ? importlen : rootlen, &p, &gen);
		if (rc != CRYPTO_OK) {
			fprintf(stderr, "hearth: importing root %s with key %s: %s%s%s\n",
			    c->import_root_cert, c->import_root_key, crypto_strerror(rc),
			    rc == CRYPTO_ERR_IO ? ": " : "",
			    rc == CRYPTO_ERR_IO ? strerror(errno) : "");
			goto out;
		}
	} else if ((rc = crypto_ca_create(ca_dir, &p, &gen)) != CRYPTO_OK) {
		fprintf(stderr, "hearth: creating CA in %s: %s%s%s\n", ca_dir,
		    crypto_strerror(rc), rc == CRYPTO_ERR_IO ? ": " : "",
		    rc == CRYPTO_ERR_IO ? strerror(errno) : "");
		goto out;
	}
	report_created(ca_dir, gen);
	ret = 0;
out:
	passphrase_free(rootpw, rootlen);
	passphrase_free(interpw, interlen);
	passphrase_free(importpw, importlen);
	crypto_policy_free(permit);
	return ret;
}

/* DIR/ca into ca_dir, creating DIR; 1 when a CA is there, 0 when not,
 * -1 after printing why. */
static int
ca_dir_prepare(const struct config *c, char *ca_dir, size_t sz)
{
	if (path_join(ca_dir, sz, c->data_dir, "ca") != 0) {
		fprintf(stderr, "hearth: %s: path too long\n", c->data_dir);
		return -1;
	}
	if (make_data_dir(c->data_dir) != 0)
		return -1;
	return crypto_ca_exists(ca_dir) ? 1 : 0;
}

/* What `hearth serve` will issue for by default, and how to change it. */
static void
policy_hint(const struct config *c, const char *ca_dir)
{
	struct crypto_policy *p, *nc = NULL;
	char line[2048];

	if (crypto_ca_constraints(ca_dir, &nc) != 0)
		return;
	p = config_policy(c, nc);
	if (p != NULL) {
		(void)crypto_policy_describe(p, line, sizeof(line));
		log_info("hearth serve issues only for %s by default: %s",
		    nc != NULL ? "names inside the intermediate's name constraints" :
		    "internal names", line);
	}
	crypto_policy_free(nc);
	if (p == NULL)
		return;
	log_info("%s", config_policy_hint);
	crypto_policy_free(p);
}

int
cmd_init(const struct config *c)
{
	char ca_dir[4096];
	int ret = ca_dir_prepare(c, ca_dir, sizeof(ca_dir));

	if (ret < 0)
		return -1;
	if (ret == 1) {
		fprintf(stderr, "hearth: %s already holds a CA; refusing to replace it\n",
		    ca_dir);
		return -1;
	}
	if (ca_create(c, ca_dir) != 0)
		return -1;
	policy_hint(c, ca_dir);
	return 0;
}

int
ca_ensure(const struct config *c)
{
	char ca_dir[4096];
	int ret = ca_dir_prepare(c, ca_dir, sizeof(ca_dir));

	if (ret == 1 && (c->permit_dns.n > 0 || c->permit_ip.n > 0))
		log_warn("--permit-dns and --permit-ip apply when a CA is created; "
		    "%s already holds one, so they are ignored", ca_dir);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	log_info("no CA in %s: creating one", ca_dir);
	return ca_create(c, ca_dir);
}
