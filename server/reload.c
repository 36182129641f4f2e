/*
 * reload.c: SIGHUP reads the configuration again (the --config file, then
 * the command line, which keeps precedence) and applies what may change
 * while the server runs: the name policy, the certificate profiles, the
 * rate limits and caps of acme/, the EAB requirement, the CRL's
 * lifetime and refresh interval, and the log level (set last, after the
 * line saying the reload was applied, so that line is written at the
 * level in force when the signal came). Everything is parsed and checked before
 * anything changes; a refused file leaves the configuration in force, and
 * config_parse has named the file, line, key and reason. Settings that
 * need a restart (listeners, data directory, threads, ...) are named in
 * the log and kept as they are.
 *
 * acme/ swaps its settings without stopping requests (acme_reconfigure);
 * the signer process gets the new policy and profiles through its launcher
 * and is replaced (crypto_signer_reconfigure), so a signature asked for
 * meanwhile answers 503 with Retry-After, as during any signer restart.
 * Runs on the main thread only; connections stay open throughout. After
 * the configuration, SIGHUP takes up an intermediate `hearth ca
 * rotate-intermediate` put in place (rotate.c).
 */
#include "serve.h"

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "acme.h"

/* A setting read only at start: a change is reported, not applied. */
enum fixed_kind { FIXED_STR, FIXED_LONG, FIXED_LIST };

static const struct {
	const char *name;
	size_t off;
	enum fixed_kind kind;
} fixed[] = {
#define F(name, field, kind) { name, offsetof(struct config, field), kind }
	F("listen", listen, FIXED_STR),
	F("data", data_dir, FIXED_STR),
	F("store", store, FIXED_STR),
	F("threads", threads, FIXED_LONG),
	F("store-threads", store_threads, FIXED_LONG),
	F("tls-name", tls_names, FIXED_LIST),
	F("base-url", base_url, FIXED_STR),
	F("pki-listen", pki_listen, FIXED_STR),
	F("pki-url", pki_url, FIXED_STR),
	F("ocsp", ocsp, FIXED_LONG),
	F("resolver", resolver, FIXED_STR),
	F("http01-port", http01_port, FIXED_LONG),
	F("tlsalpn01-port", tlsalpn01_port, FIXED_LONG),
	F("caa-check", caa_check, FIXED_LONG),
	F("caa-identity", caa_identities, FIXED_LIST),
	F("validation-deny", validation_deny, FIXED_LIST),
	F("max-header-bytes", max_header_bytes, FIXED_LONG),
	F("max-body-bytes", max_body_bytes, FIXED_LONG),
	F("idle-timeout", idle_timeout, FIXED_LONG),
	F("limit-conns", limit_conns, FIXED_LONG),
	F("limit-conns-per-source", limit_conns_per_source, FIXED_LONG),
	F("limit-request-time", limit_request_time, FIXED_LONG),
	F("hold-max", hold_max, FIXED_LONG),
	F("retention", retention, FIXED_LONG),
	F("tls-cert-lifetime", tls_cert_lifetime, FIXED_LONG),
	F("intermediate-passphrase-file", intermediate_passphrase_file,
	    FIXED_STR),
#undef F
};

static int
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
list_same(const struct config_list *a, const struct config_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Logs each start-only setting nc changes; returns how many. */
static int
fixed_report(const struct config *old, const struct config *nc)
{
	const char *o, *n;
	size_t i;
	int changed, count = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		o = (const char *)old + fixed[i].off;
		n = (const char *)nc + fixed[i].off;
		if (fixed[i].kind == FIXED_STR)
			changed = !str_same(*(char *const *)o, *(char *const *)n);
		else if (fixed[i].kind == FIXED_LONG)
			changed = *(const long *)o != *(const long *)n;
		else
			changed = !list_same((const struct config_list *)o,
			    (const struct config_list *)n);
		if (changed) {
			log_warn("reload: %s changed; it needs a restart and keeps "
			    "its value until then", fixed[i].name);
			count++;
		}
	}
	return count;
}

/* Whether two policies hold the same rules in the same order. */
static int
policy_same(const struct crypto_policy *a, const struct crypto_policy *b)
{
	enum crypto_policy_rule ka, kb;
	const char *ta, *tb;
	size_t i, n = crypto_policy_count(a);

	if (n != crypto_policy_count(b))
		return 0;
	for (i = 0; i < n; i++)
		if (crypto_policy_rule(a, i, &ka, &ta) != 0 ||
		    crypto_policy_rule(b, i, &kb, &tb) != 0 || ka != kb ||
		    strcmp(ta, tb) != 0)
			return 0;
	return 1;
}

/* Applies policy and profiles to acme/ and the signer, and the rest of
 * what may change to acme/. 0 or -1 (nothing changed). */
static int
reload_apply(struct server *s, const struct config *nc,
    struct crypto_policy *policy, const struct crypto_profile *prof,
    size_t n_prof)
{
	struct acme_config ac;
	int signer, err;

	signer = !policy_same(policy, s->policy) || n_prof != s->n_profiles ||
	    memcmp(prof, s->profiles, n_prof * sizeof(*prof)) != 0;
	server_acme_config(s, nc, policy, prof, n_prof, &ac);
	if ((err = acme_reconfigure(s->acme, &ac)) != 0) {
		log_error("reload: refused, the configuration in force stays: %s",
		    err == ACME_ERR_BUSY ? "requests begun before the last reload "
		    "still run; send SIGHUP again" : "cannot apply it");
		return -1;
	}
	if (signer && (err = crypto_signer_reconfigure(s->signer, policy, prof,
	    n_prof)) != 0)
		/* acme/ already refuses what the new policy refuses; the signer
		 * keeps its old settings and checks them too. */
		log_error("reload: the signer process keeps its policy and "
		    "profiles (%s); restart hearth to give it the new ones",
		    crypto_strerror(err));
	else if (signer)
		log_info("reload: signer process restarted with the new policy "
		    "and profiles");
	return 0;
}

int
server_reload(struct server *s)
{
	struct crypto_profile prof[CRYPTO_MAX_PROFILES];
	struct crypto_policy *policy = NULL;
	struct config *nc;
	enum log_level level;
	size_t n_prof;
	int ret = -1;

	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return -1;
	config_defaults(nc);
	log_info("reload: reading %s", s->cfg->config_file != NULL ?
	    s->cfg->config_file : "the command line (no --config file)");
	if (config_parse(nc, CMD_SERVE, s->cfg->argc, s->cfg->argv) != 0 ||
	    (policy = config_policy(nc, s->constraints)) == NULL) {
		log_error("reload: refused (the reason is above); the "
		    "configuration in force stays");
		goto out;
	}
	n_prof = config_profiles(nc, prof);
	(void)fixed_report(s->cfg, nc);
	if (reload_apply(s, nc, policy, prof, n_prof) != 0)
		goto out;
	crypto_policy_free(s->policy);
	s->policy = policy;
	policy = NULL;
	memcpy(s->profiles, prof, n_prof * sizeof(*prof));
	s->n_profiles = n_prof;
	s->crl_lifetime = nc->crl_lifetime;
	s->crl_refresh = nc->crl_refresh;
	server_policy_announce(s->policy);
	if (log_level_parse(nc->log_level, &level) != 0)
		level = log_get_level();  /* checked by config_parse */
	log_info("reload: applied: name policy, %zu profile%s, rate limits, "
	    "eab-required %s, crl-lifetime %lds, crl-refresh %lds, log-level %s",
	    n_prof, n_prof == 1 ? "" : "s", nc->eab_required ? "on" : "off",
	    nc->crl_lifetime, nc->crl_refresh, log_level_name(level));
	log_set_level(level);
	ret = 0;
out:
	crypto_policy_free(policy);
	config_free(nc);
	free(nc);
	return ret;
}

/* A reload, then a rotated intermediate, if any (rotate.c): the new
 * signer inherits the policy and profiles the reload gave the launcher. */
static void
sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)server_reload(arg);
	(void)rotate_check(arg);
}

int
server_reload_start(struct server *s)
{
	s->sighup = evsignal_new(s->main_base, SIGHUP, sighup_cb, s);
	if (s->sighup == NULL || evsignal_add(s->sighup, NULL) != 0)
		return -1;
	return 0;
}

void
server_reload_stop(struct server *s)
{
	if (s->sighup != NULL)
		event_free(s->sighup);
	s->sighup = NULL;
}
