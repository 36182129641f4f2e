/*
 * serve.c: `hearth serve`. Opens the CA signer and the store, builds the
 * listener's TLS certificate, and runs one event loop per thread, each with
 * its own evhttp accepting from one shared listening socket, all sharing
 * the acme handle. Started as root, it becomes an unprivileged user once
 * all of that is open and before any thread starts (privsep.c). The main
 * thread's loop handles signals and renews the listener certificate before
 * it expires, and SIGHUP (a reload, reload.c). Builds the name policy acme/
 * applies to identifiers and logs it.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "acme.h"
#include "connlimit.h"
#include "denylist.h"
#include "hold.h"
#include "pool.h"
#include "store.h"
#include "validate.h"

#define LISTEN_BACKLOG 1024
#define RENEW_CHECK_MAX 60       /* seconds between renewal checks, at most */
#define FD_RESERVE 128           /* descriptors kept for the store, signer,
                                    validation and logs */

/* Adds a --tls-name (or default) value: an IP address, else a DNS name
 * through the one DNS-name check. -1 with *why when it is neither. */
static int
name_add(struct server *s, const char *value, const char **why)
{
	struct crypto_name *n;
	unsigned char addr[16];
	size_t i;

	*why = "too many names";
	if (s->n_names >= sizeof(s->names) / sizeof(s->names[0]))
		return -1;
	n = &s->names[s->n_names];
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, value, addr) == 1) {
		n->type = CRYPTO_NAME_IP;
		inet_ntop(AF_INET, addr, n->value, sizeof(n->value));
	} else if (inet_pton(AF_INET6, value, addr) == 1) {
		n->type = CRYPTO_NAME_IP;
		inet_ntop(AF_INET6, addr, n->value, sizeof(n->value));
	} else {
		n->type = CRYPTO_NAME_DNS;
		if (crypto_dns_name_check(value, strlen(value), 0, n->value, why) != 0)
			return -1;
	}
	for (i = 0; i < s->n_names; i++)
		if (s->names[i].type == n->type && strcmp(s->names[i].value, n->value) == 0)
			return 0;
	s->n_names++;
	return 0;
}

/* The intermediate's name constraints, read before the names, the policy
 * and the signer are set up. */
static int
constraints_load(struct server *s)
{
	char ca_dir[4096], line[2048];
	int err;

	if (path_join(ca_dir, sizeof(ca_dir), s->cfg->data_dir, "ca") != 0)
		return -1;
	if ((err = crypto_ca_constraints(ca_dir, &s->constraints)) != 0) {
		log_error("%s/intermediate.crt: reading its name constraints: %s",
		    ca_dir, crypto_strerror(err));
		return -1;
	}
	if (s->constraints != NULL) {
		(void)crypto_policy_describe(s->constraints, line, sizeof(line));
		log_info("the intermediate is name-constrained: %s", line);
	}
	return 0;
}

/* Leaves out the default names the intermediate's name constraints do not
 * cover: the server's certificate would not verify with them. */
static void
names_constrain(struct server *s)
{
	size_t i, kept = 0;

	for (i = 0; i < s->n_names; i++) {
		if (crypto_ca_name_permitted(s->constraints, &s->names[i]))
			s->names[kept++] = s->names[i];
		else
			log_info("tls-name: leaving out the default \"%s\": outside "
			    "the intermediate's name constraints", s->names[i].value);
	}
	s->n_names = kept;
	if (kept == 0)
		log_error("no default tls-name lies inside the intermediate's "
		    "name constraints: give one with --tls-name");
}

static int
names_init(struct server *s)
{
	const struct config *c = s->cfg;
	const char *why;
	char host[256];
	size_t i;

	if (c->tls_names.n > 0) {
		for (i = 0; i < c->tls_names.n; i++)
			if (name_add(s, c->tls_names.v[i], &why) != 0) {
				fprintf(stderr, "hearth: tls-name: \"%s\" is not a DNS name "
				    "or IP address: %s\n", c->tls_names.v[i], why);
				return -1;
			} else if (!crypto_ca_name_permitted(s->constraints,
			    &s->names[s->n_names - 1])) {
				fprintf(stderr, "hearth: tls-name: \"%s\" lies outside the "
				    "intermediate's name constraints\n", c->tls_names.v[i]);
				return -1;
			}
		return 0;
	}
	(void)name_add(s, "localhost", &why);
	(void)name_add(s, "127.0.0.1", &why);
	(void)name_add(s, "::1", &why);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		(void)name_add(s, host, &why);  /* an odd host name is left out */
	}
	names_constrain(s);
	return s->n_names > 0 ? 0 : -1;
}

int
serve_tls_renew(struct server *s, time_t now)
{
	struct crypto_tls_server *srv;
	long valid = s->cfg->tls_cert_lifetime;
	int err;

	srv = crypto_tls_server_new(s->signer, s->names, s->n_names, now, valid, &err);
	if (srv == NULL) {
		log_error("issuing the server's TLS certificate: %s", crypto_strerror(err));
		return -1;
	}
	tls_current_set(&s->tls, srv);
	log_info("server TLS certificate issued, valid until %ld (unix time)",
	    (long)crypto_tls_server_not_after(srv));
	(void)serve_tls_cert_write(s);
	return 0;
}

/* Under the lock: the DER of the current certificate, copied as PEM. */
static char *
tls_cert_pem(const struct server *s)
{
	struct tls_current *cur = (struct tls_current *)&s->tls;
	const uint8_t *der;
	size_t len;
	char *pem;

	pthread_mutex_lock(&cur->lock);
	der = crypto_tls_server_cert(cur->srv, &len);
	pem = der != NULL ? crypto_cert_der_to_pem(der, len) : NULL;
	pthread_mutex_unlock(&cur->lock);
	return pem;
}

int
serve_tls_cert_write(const struct server *s)
{
	char path[4096], tmp[4200];
	char *pem = tls_cert_pem(s);
	FILE *f = NULL;
	int ret = -1;

	if (pem == NULL ||
	    path_join(path, sizeof(path), s->cfg->data_dir, "db/tls.crt") != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		goto out;
	if (fputs(pem, f) == EOF || fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) == 0)
		ret = 0;
out:
	if (f != NULL)
		fclose(f);
	if (ret != 0)
		log_warn("cannot write %s/db/tls.crt (hearth status reads it)",
		    s->cfg->data_dir);
	free(pem);
	return ret;
}

/* Renews once two thirds of the certificate's life have passed. */
static void
renew_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	time_t now = time(NULL), not_after;
	long valid = s->cfg->tls_cert_lifetime;

	pthread_mutex_lock(&s->tls.lock);
	not_after = crypto_tls_server_not_after(s->tls.srv);
	pthread_mutex_unlock(&s->tls.lock);
	if (now >= not_after - valid / 3)
		(void)serve_tls_renew(s, now);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	int i;

	log_info("signal %d: shutting down", (int)sig);
	for (i = 0; i < s->n_workers; i++)
		event_base_loopexit(s->workers[i].base, NULL);
	event_base_loopexit(s->main_base, NULL);
}

/* Splits "ADDR:PORT", "[V6]:PORT" or ":PORT" into host ("" for any). */
int
split_listen(const char *listen, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char *colon = strrchr(listen, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && colon[-1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= hostsz || strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

int
serve_listen_socket(const char *addr)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[16];
	evutil_socket_t fd = -1;
	int one = 1, zero = 0, rc;

	if (split_listen(addr, host, sizeof(host), port, sizeof(port)) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host[0] == '\0' ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res)) != 0) {
		log_error("listen %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && host[0] == '\0') {
		/* No IPv6 on this host: every IPv4 address instead. */
		freeaddrinfo(res);
		res = NULL;
		hints.ai_family = AF_INET;
		if ((rc = getaddrinfo(NULL, port, &hints, &res)) != 0) {
			log_error("listen %s: %s", addr, gai_strerror(rc));
			return -1;
		}
		fd = socket(res->ai_family, SOCK_STREAM, 0);
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6 && host[0] == '\0')
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    evutil_make_socket_nonblocking(fd) != 0)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	log_error("listen %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

/*
 * The connection caps and the request deadline. The cap in all is lowered
 * to what the open-file limit allows (raised to its hard limit first), so
 * the server refuses connections before accept() starts failing.
 */
static int
guard_init(struct server *s)
{
	const struct config *c = s->cfg;
	long total = c->limit_conns, fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		fit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1L << 30 ?
		    1L << 30 : (long)rl.rlim_cur - FD_RESERVE;
		if (fit < 16)
			fit = 16;
		if (total == 0 || total > fit) {
			log_warn("limit-conns: %ld lowered to %ld to fit the open-file "
			    "limit (%ld)", total, fit, fit + FD_RESERVE);
			total = fit;
		}
	}
	s->guard.request_time = c->limit_request_time;
	s->guard.metrics = &s->metrics;
	if ((s->guard.conns = connlimit_new(total, c->limit_conns_per_source)) == NULL)
		return -1;
	log_info("connections: at most %ld in all, %ld per source (0: no cap); "
	    "%lds for a handshake and request", total, c->limit_conns_per_source,
	    c->limit_request_time);
	return 0;
}

static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct server *s = arg;

	return tls_bev_new(base, &s->tls, &s->guard);
}

void
server_wake_validators(struct server *s, const struct worker *except)
{
	int i;

	for (i = 0; i < s->n_workers; i++)
		if (&s->workers[i] != except)
			hold_loop_wake(s->workers[i].hold);
}

/* A loop's validator is full after a job finished: the others take what
 * is queued. */
static void
validator_full(void *arg)
{
	struct worker *w = arg;

	server_wake_validators(w->srv, w);
}

/* Each worker accepts from its own descriptor of the one listening socket
 * (evhttp closes what it is given). One socket, not SO_REUSEPORT, so a
 * second server on the same address fails to start instead of sharing it. */
static int
worker_init(struct server *s, struct worker *w, evutil_socket_t lfd)
{
	const struct config *c = s->cfg;
	evutil_socket_t fd;

	w->srv = s;
	w->index = (int)(w - s->workers);
	if ((w->base = event_base_new()) == NULL ||
	    (w->http = evhttp_new(w->base)) == NULL)
		return -1;
	evhttp_set_bevcb(w->http, bev_cb, s);
	evhttp_set_gencb(w->http, http_handle, w);
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)c->max_header_bytes);
	/* acme/ answers bodies over the cap with a problem document; evhttp
	 * only stops what is far beyond it, before buffering it all. */
	evhttp_set_max_body_size(w->http, (ev_ssize_t)c->max_body_bytes * 16);
	evhttp_set_timeout(w->http, (int)c->idle_timeout);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD);
	evhttp_set_default_content_type(w->http, "application/json");
	if ((fd = dup(lfd)) < 0)
		return -1;
	if (evhttp_accept_socket(w->http, fd) != 0) {
		close(fd);
		return -1;
	}
	if ((w->validator = validator_new(w->base, s->acme, c, s->deny,
	    &s->metrics)) == NULL ||
	    (w->hold = hold_loop_new(s->holds, w->base, w->validator)) == NULL ||
	    (w->pool = pool_loop_new(s->pool, w->base)) == NULL)
		return -1;
	validator_link(w->validator, s->holds, w->pool, validator_full, w);
	/* Validations left processing by an earlier run start once the loop
	 * does. */
	validator_kick(w->validator);
	return 0;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char name[16];

	/* "hearth-loop0", ...: what top -H and perf show */
	snprintf(name, sizeof(name), "hearth-loop%d", w->index);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	event_base_dispatch(w->base);
	crypto_thread_cleanup();
	return NULL;
}

static int
thread_count(const struct config *c)
{
	long n = c->threads;

	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
		if (n > 16)
			n = 16;
	}
	return (int)n;
}

/* The pool's threads: as configured, else 16 per event loop on LMDB and 4
 * on PostgreSQL, where more concurrent writers mostly meet more
 * serialization conflicts (tests/bench/replicas.sh: 173 issuances/s with
 * 4 per loop, 104 with 16). */
static unsigned
store_thread_count(const struct config *c)
{
	long per = c->store != NULL && store_is_pg(c->store) ? 4 : 16;
	long n = c->store_threads > 0 ? c->store_threads : per * thread_count(c);

	return (unsigned)(n > POOL_MAX_THREADS ? POOL_MAX_THREADS : n);
}

/* CAA identities: as configured, else the server's DNS names. */
static void
caa_identities_init(struct server *s)
{
	const struct config *c = s->cfg;
	size_t i;

	if (c->caa_identities.n > 0) {
		for (i = 0; i < c->caa_identities.n; i++)
			s->caa_ids[s->n_caa_ids++] = c->caa_identities.v[i];
		return;
	}
	for (i = 0; i < s->n_names; i++)
		if (s->names[i].type == CRYPTO_NAME_DNS)
			s->caa_ids[s->n_caa_ids++] = s->names[i].value;
}

/* What the signer process may sign: the name policy, the listener's
 * names, the base URL leaves point relying parties to, and the profiles
 * acme/ offers (config_profiles). */
static void
signer_config(const struct server *s, struct crypto_signer_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->policy = s->policy;
	sc->tls_names = s->names;
	sc->n_tls_names = s->n_names;
	sc->pki_url = s->pki_url[0] != '\0' ? s->pki_url : NULL;
	sc->ocsp = s->cfg->ocsp != 0 && sc->pki_url != NULL;  /* no URL, no OCSP URL */
	sc->profiles = s->profiles;
	sc->n_profiles = s->n_profiles;
}

static void
rate_fill(struct acme_rate *r, const struct config_rate *c)
{
	r->count = (unsigned)c->count;
	r->period = c->period;
}

static void
limits_fill(struct acme_limits *l, const struct config *c)
{
	rate_fill(&l->accounts, &c->limit_accounts);
	rate_fill(&l->orders, &c->limit_orders);
	rate_fill(&l->failures, &c->limit_failures);
	rate_fill(&l->nonces, &c->limit_nonces);
	l->pending_authzs = (unsigned)c->limit_pending_authzs;
	l->queue_share = (unsigned)c->limit_queue_share;
}

/* Records a listening socket of hearth's (listen, its configured address)
 * in the deny list: validation never connects to it. 0 or -1 logged. */
static int
deny_listener(struct server *s, evutil_socket_t fd, const char *listen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    denylist_add_listener(s->deny, (struct sockaddr *)&ss, len) != 0) {
		log_error("listen %s: cannot record the listening address: %s",
		    listen, strerror(errno));
		return -1;
	}
	return 0;
}

/* What validation never connects to: --validation-deny, and the ACME
 * listening socket lfd (the PKI listener is added by pki_start). 0 or -1
 * logged. */
static int
deny_init(struct server *s, evutil_socket_t lfd)
{
	const struct config *c = s->cfg;
	char err[256];

	if ((s->deny = denylist_new((const char *const *)c->validation_deny.v,
	    c->validation_deny.n, err, sizeof(err))) == NULL) {
		log_error("validation-deny: %s", err);
		return -1;
	}
	return deny_listener(s, lfd, c->listen);
}

void
server_acme_config(struct server *s, const struct config *c,
    const struct crypto_policy *policy, const struct crypto_profile *profiles,
    size_t n_profiles, struct acme_config *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->caa_check = c->caa_check != 0;
	ac->caa_identities = s->caa_ids;
	ac->n_caa_identities = s->n_caa_ids;
	ac->ca_name = c->ca_name;
	ac->retention = c->retention;
	ac->profiles = profiles;
	ac->n_profiles = n_profiles;
	ac->max_body = (size_t)c->max_body_bytes;
	ac->random = crypto_random;
	ac->eab_required = c->eab_required != 0;
	ac->policy = policy;
	ac->hold_answers = c->hold_max > 0;
	limits_fill(&ac->limits, c);
}

/* This replica's name in validation leases, the same after a restart:
 * "host:data directory". */
static void
replica_name(const struct config *c, char *out, size_t outsz)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outsz, "%s:%s", host, c->data_dir);
}

static int
server_open(struct server *s)
{
	const struct config *c = s->cfg;
	struct crypto_signer_config sc;
	struct acme_config ac;
	char path[4096], errbuf[512], name[4096 + 300];
	char *pw = NULL;
	size_t pwlen = 0;
	int err;

	if (path_join(path, sizeof(path), c->data_dir, "ca") != 0)
		return -1;
	s->n_profiles = config_profiles(c, s->profiles);
	if (c->intermediate_passphrase_file != NULL &&
	    (pw = config_read_passphrase(c->intermediate_passphrase_file, &pwlen)) == NULL)
		return -1;
	signer_config(s, &sc);
	s->signer = crypto_signer_spawn(path, pw, pwlen, &sc, &err);
	if (s->signer != NULL && retired_open(s, &sc, pw, pwlen) != 0)
		log_error("%s/retired: cannot read it: %s; the retired "
		    "intermediates get no CRL or OCSP answers", path,
		    strerror(errno));
	if (pw != NULL) {
		crypto_zeroize(pw, pwlen);
		free(pw);
	}
	if (s->signer == NULL) {
		log_error("%s: cannot load the intermediate: %s%s%s", path,
		    crypto_strerror(err), err == CRYPTO_ERR_IO ? ": " : "",
		    err == CRYPTO_ERR_IO ? strerror(errno) : "");
		return -1;
	}
	log_info("intermediate key loaded by a separate signer process");
	/* DIR/db holds the server's TLS certificate whichever the store. */
	if (path_join(path, sizeof(path), c->data_dir, "db") != 0 ||
	    (mkdir(path, 0700) != 0 && errno != EEXIST)) {
		log_error("%s/db: %s", c->data_dir, strerror(errno));
		return -1;
	}
	if (server_store_location(c->data_dir, c->store, path, sizeof(path)) != 0)
		return -1;
	if ((s->store = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL) {
		log_error("%s", errbuf);
		return -1;
	}
	/* Each loop (the workers and the main one) holds at most a read and
	 * a write at once; the pool's threads share one connection per two
	 * (a thread waits for one, up to 5 s), so replicas with the default
	 * settings stay within PostgreSQL's default max_connections. */
	store_set_max_connections(s->store, 2 * ((unsigned)thread_count(c) +
	    1) + 8 + store_thread_count(c) / 2);
	caa_identities_init(s);
	server_acme_config(s, c, s->policy, s->profiles, s->n_profiles, &ac);
	replica_name(c, name, sizeof(name));
	ac.replica_name = name;
	if (acme_revoked_index(s->store) != 0) {
		log_error("%s: cannot index earlier revocations", path);
		return -1;
	}
	if ((s->acme = acme_new(&ac, s->store, s->signer, &err)) == NULL) {
		log_error("cannot start the ACME service");
		return -1;
	}
	if ((s->holds = holds_new(s->acme, &s->metrics, c->hold_max)) == NULL) {
		log_error("cannot set up held answers");
		return -1;
	}
	return 0;
}

static void
server_close(struct server *s)
{
	int i;

	/* what the pool runs uses the loops' validators and the acme handle */
	pool_stop(s->pool);
	for (i = 0; s->workers != NULL && i < s->n_workers; i++) {
		/* answers go before the connections they belong to */
		pool_loop_free(s->workers[i].pool);
		hold_loop_free(s->workers[i].hold);
		validator_free(s->workers[i].validator);
		if (s->workers[i].http != NULL)
			evhttp_free(s->workers[i].http);
		if (s->workers[i].base != NULL)
			event_base_free(s->workers[i].base);
	}
	free(s->workers);
	pool_free(s->pool);
	holds_free(s->holds);
	/* validations started and not ended: the next start resumes them */
	if (acme_settle_all(s->acme, time(NULL)) != 0)
		log_warn("stop: validations under way could not be saved; "
		    "their challenges read pending after the restart");
	admin_free(s->admin);
	pki_free(s->pki);
	denylist_free(s->deny);
	acme_free(s->acme);
	store_close(s->store);
	crypto_signer_free(s->signer);
	retired_close(s);
	crypto_policy_free(s->policy);
	crypto_policy_free(s->constraints);
	tls_current_fini(&s->tls);
	connlimit_free(s->guard.conns);
	if (s->main_base != NULL)
		event_base_free(s->main_base);
}

/* The name policy in one line, and how to widen it. */
void
server_policy_announce(const struct crypto_policy *p)
{
	char line[2048];

	(void)crypto_policy_describe(p, line, sizeof(line));
	log_info("issuing only for names the policy allows: %s", line);
	log_info("%s", config_policy_hint);
}

static void
announce(const struct server *s)
{
	const struct config *c = s->cfg;

	log_info("hearth listening on %s with %d event loop%s and %u store "
	    "thread%s", c->listen, s->n_workers, s->n_workers == 1 ? "" : "s",
	    store_thread_count(c), store_thread_count(c) == 1 ? "" : "s");
	log_info("crypto: %s", crypto_library_info());
	log_info("CA in %s/ca; distribute %s/ca/root.crt to clients' trust stores",
	    c->data_dir, c->data_dir);
	if (c->base_url != NULL)
		log_info("ACME directory: %s/directory", c->base_url);
	else
		log_info("ACME directory: https://%s/directory", s->default_host);
	if (c->eab_required)
		log_info("new accounts need an external account binding; create "
		    "keys with: hearth eab add --data %s", c->data_dir);
	server_policy_announce(s->policy);
	if (s->pki != NULL)
		log_info("CRL, OCSP and CA certificates over plain HTTP on %s; "
		    "leaves point relying parties to %s", c->pki_listen, s->pki_url);
	else if (s->pki_url[0] != '\0')
		log_info("no PKI listener (--pki-listen off): leaves still name %s",
		    s->pki_url);
	else
		log_info("no PKI listener (--pki-listen off) and no --pki-url: "
		    "leaves carry no CRL or OCSP URLs");
}

/* The plain-HTTP listener for relying parties, unless it is off. */
static int
pki_start(struct server *s)
{
	int fd;

	if (strcmp(s->cfg->pki_listen, "off") == 0)
		return 0;
	if ((fd = serve_listen_socket(s->cfg->pki_listen)) < 0)
		return -1;
	if (deny_listener(s, fd, s->cfg->pki_listen) != 0) {
		close(fd);
		return -1;
	}
	if ((s->pki = pki_new(s, fd)) == NULL) {
		log_error("cannot serve revocation data on %s", s->cfg->pki_listen);
		return -1;
	}
	return 0;
}

static int
admin_start(struct server *s)
{
	int fd;

	if (strcmp(s->cfg->admin_listen, "off") == 0)
		return 0;
	if ((fd = serve_listen_socket(s->cfg->admin_listen)) < 0)
		return -1;
	if (deny_listener(s, fd, s->cfg->admin_listen) != 0) {
		close(fd);
		return -1;
	}
	if ((s->admin = admin_new(s, fd)) == NULL) {
		log_error("cannot serve metrics and health on %s",
		    s->cfg->admin_listen);
		return -1;
	}
	log_info("metrics and health on http://%s (/metrics, /healthz, /readyz)",
	    s->cfg->admin_listen);
	return 0;
}

/* The root's notAfter, for /readyz; 0 when it cannot be read. */
static time_t
root_not_after(const struct config *c)
{
	struct crypto_cert_info info;
	char path[4096], *pem = NULL;
	uint8_t *der = NULL;
	size_t n = 0, len = 0;
	time_t t = 0;
	FILE *f;

	if (path_join(path, sizeof(path), c->data_dir, "ca/root.crt") != 0 ||
	    (f = fopen(path, "r")) == NULL)
		return 0;
	if ((pem = calloc(1, CRYPTO_MAX_PEM_BYTES + 1)) != NULL)
		n = fread(pem, 1, CRYPTO_MAX_PEM_BYTES, f);
	fclose(f);
	if (pem != NULL && crypto_cert_pem_to_der(pem, n, &der, &len) == 0 &&
	    crypto_cert_info(der, len, &info) == 0)
		t = info.not_after;
	free(der);
	free(pem);
	return t;
}

/* A random per-process prefix keeps request ids apart across restarts. */
static void
id_prefix_init(struct server *s)
{
	uint8_t r[4] = { 0 };

	(void)crypto_random(r, sizeof(r));
	snprintf(s->id_prefix, sizeof(s->id_prefix), "%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3]);
}

static int
run(struct server *s)
{
	struct event *sigint, *sigterm, *renew;
	/* Check often enough to renew in the last third of a short life. */
	struct timeval tv = { s->cfg->tls_cert_lifetime / 10 < RENEW_CHECK_MAX ?
	    s->cfg->tls_cert_lifetime / 10 : RENEW_CHECK_MAX, 0 };
	int i, ret = 0;

	sigint = evsignal_new(s->main_base, SIGINT, signal_cb, s);
	sigterm = evsignal_new(s->main_base, SIGTERM, signal_cb, s);
	renew = event_new(s->main_base, -1, EV_PERSIST, renew_cb, s);
	if (sigint == NULL || sigterm == NULL || renew == NULL ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0 ||
	    event_add(renew, &tv) != 0 || server_cleanup_start(s) != 0 ||
	    server_reload_start(s) != 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < s->n_workers; i++) {
		if (pthread_create(&s->workers[i].thread, NULL, worker_run,
		    &s->workers[i]) != 0) {
			log_error("cannot start thread: %s", strerror(errno));
			signal_cb(SIGTERM, 0, s);
			ret = -1;
			break;
		}
		s->workers[i].started = 1;
	}
	if (ret == 0)
		event_base_dispatch(s->main_base);
	for (i = 0; i < s->n_workers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].thread, NULL);
out:
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (renew != NULL)
		event_free(renew);
	server_cleanup_stop(s);
	server_reload_stop(s);
	return ret;
}

/* The URL leaves name for the CRL, the issuer and OCSP: --pki-url, else
 * derived from --pki-listen; none when the listener is off and no URL is
 * given (then leaves carry no revocation pointers). */
static int
pki_url_init(struct server *s)
{
	s->pki_url[0] = '\0';
	if (s->cfg->pki_url != NULL) {
		snprintf(s->pki_url, sizeof(s->pki_url), "%s", s->cfg->pki_url);
		return 0;
	}
	if (strcmp(s->cfg->pki_listen, "off") == 0)
		return 0;
	if (pki_default_url(s, s->pki_url, sizeof(s->pki_url)) != 0) {
		log_error("pki-listen: cannot derive a URL from \"%s\"",
		    s->cfg->pki_listen);
		return -1;
	}
	return 0;
}

static void
default_host_init(struct server *s)
{
	char host[256], port[16];
	const char *name = s->n_names > 0 ? s->names[0].value : "localhost";

	if (split_listen(s->cfg->listen, host, sizeof(host), port, sizeof(port)) != 0)
		strcpy(port, "8443");
	if (strchr(name, ':') != NULL)
		snprintf(s->default_host, sizeof(s->default_host), "[%s]:%s", name, port);
	else
		snprintf(s->default_host, sizeof(s->default_host), "%s:%s", name, port);
}

int
cmd_serve(const struct config *c)
{
	struct server s;
	struct privsep ps;
	enum log_level level;
	evutil_socket_t lfd = -1;
	int i, ret = 1;

	memset(&s, 0, sizeof(s));
	s.cfg = c;
	s.crl_lifetime = c->crl_lifetime;
	s.crl_refresh = c->crl_refresh;
	s.started = time(NULL);
	log_set_json(c->log_format != NULL && strcmp(c->log_format, "json") == 0);
	if (c->log_level != NULL && log_level_parse(c->log_level, &level) == 0)
		log_set_level(level);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0 || tls_current_init(&s.tls) != 0)
		return 1;
	/* The policy and the URLs leaves carry exist before the signer process
	 * is forked. */
	if (ca_ensure(c) != 0 || constraints_load(&s) != 0 ||
	    names_init(&s) != 0 || pki_url_init(&s) != 0 ||
	    (s.policy = config_policy(c, s.constraints)) == NULL ||
	    privsep_prepare(c, &ps) != 0 || server_open(&s) != 0)
		goto out;
	default_host_init(&s);
	id_prefix_init(&s);
	s.root_not_after = root_not_after(c);
	if (serve_tls_renew(&s, time(NULL)) != 0)
		goto out;
	if ((s.main_base = event_base_new()) == NULL)
		goto out;
	s.n_workers = thread_count(c);
	if ((s.workers = calloc((size_t)s.n_workers, sizeof(*s.workers))) == NULL)
		goto out;
	if ((s.pool = pool_new(store_thread_count(c))) == NULL)
		goto out;
	if (guard_init(&s) != 0 || (lfd = serve_listen_socket(c->listen)) < 0 ||
	    deny_init(&s, lfd) != 0)
		goto out;
	for (i = 0; i < s.n_workers; i++)
		if (worker_init(&s, &s.workers[i], lfd) != 0) {
			log_error("cannot listen on %s", c->listen);
			goto out;
		}
	if (pki_start(&s) != 0 || admin_start(&s) != 0)
		goto out;
	/* Listener bound, store open, signer forked, no thread yet. */
	if (privsep_drop(c, &ps) != 0)
		goto out;
	announce(&s);
	ret = run(&s) == 0 ? 0 : 1;
out:
	if (lfd >= 0)
		close(lfd);
	server_close(&s);
	return ret;
}
