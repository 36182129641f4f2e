/*
 * pki.c: the plain-HTTP listener relying parties fetch revocation data from
 * (`--pki-listen`, no TLS: a CRL or OCSP answer is signed, and a client
 * checking revocation must not need revocation data to connect). Serves
 * the CRL, the intermediate and root certificates, and OCSP (GET and POST,
 * RFC 6960 appendix A.1). Runs on the main thread's event loop: the
 * traffic is light and every answer is small.
 *
 * Each intermediate in use has its CRL and certificate paths: the current
 * one and every retired one not yet expired (retired.c), including one a
 * reload retired (rotate.c); an OCSP request is answered by the signer of
 * the intermediate its CertID names.
 *
 * A CRL is built by acme/ and kept here as bytes: at start, within a
 * second of a revocation (a one-second timer polls the store's revocation
 * counter, which also catches `hearth revoke` run by another process), and
 * at least every --crl-refresh. OCSP answers are signed per request from
 * the store, so they are never older than the last revocation.
 */
#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "acme.h"

#define PKI_FAIL_LOG_EVERY 60   /* seconds between repeated failure logs */
/* The longest GET /ocsp/ path: base64 of the largest request, each byte
 * possibly percent-encoded. */
#define PKI_MAX_OCSP_PATH (3 * (4 * (CRYPTO_OCSP_MAX_REQUEST / 3 + 1)) + 16)

/* One intermediate: the current one, or a retired one (retired.c). */
struct pki_issuer {
	struct crypto_signer *signer;
	int current;
	char id[65];
	char crl_path[96];              /* "/crl/<issuer id>.crl" */
	char inter_path[96];            /* "/ca/<issuer id>.crt" */
	uint8_t *inter_der;
	size_t inter_len;
	struct acme_crl crl;            /* der NULL until the first build */
	time_t fail_logged;
};

struct pki {
	struct server *srv;
	struct evhttp *http;
	struct event *tick;
	struct pki_issuer is[1 + SERVER_RETIRED_MAX];  /* [0]: current */
	size_t n_is;
	uint8_t *root_der;
	size_t root_len;
	char *root_pem;
};

static void
pki_reply(struct evhttp_request *req, int status, const char *reason,
    const char *type, const void *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", type);
	if (b != NULL && body != NULL &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, status, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* A plain-text error, for anything that is not an OCSP answer. */
static int
pki_error(struct evhttp_request *req, int status, const char *reason,
    const char *text)
{
	pki_reply(req, status, reason, "text/plain; charset=utf-8", text,
	    strlen(text));
	return status;
}

static int
pki_method_not_allowed(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	return pki_error(req, 405, "Method Not Allowed", "method not allowed\n");
}

/* Builds a new CRL of one issuer; the old one stays served when this
 * fails. */
static void
pki_crl_rebuild(struct pki *p, struct pki_issuer *is, time_t now)
{
	struct acme_crl crl;
	int ret;

	ret = acme_crl_build(p->srv->store, is->signer, is->current, now,
	    p->srv->crl_lifetime, &crl);
	if (ret != 0) {
		if (now - is->fail_logged >= PKI_FAIL_LOG_EVERY) {
			log_error("building the CRL of %s failed; retrying every "
			    "second (the last CRL, if any, is still served)",
			    is->id);
			is->fail_logged = now;
		}
		return;
	}
	log_info("CRL %llu of %s built: %zu revoked certificates, next update "
	    "%ld (unix time)", (unsigned long long)crl.number, is->id,
	    crl.entries, (long)crl.next_update);
	acme_crl_clear(&is->crl);
	is->crl = crl;
	is->fail_logged = 0;
}

/* Every second: a revocation since the last CRL, or the refresh is due. */
static void
pki_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pki *p = arg;
	struct pki_issuer *is;
	time_t now = time(NULL);
	uint64_t count;
	size_t i;
	int known;

	(void)fd;
	(void)what;
	known = acme_revocation_count(p->srv->store, &count) == 0;
	for (i = 0; i < p->n_is; i++) {
		is = &p->is[i];
		if (!known || is->crl.der == NULL ||
		    count != is->crl.revocations ||
		    now >= is->crl.this_update + p->srv->crl_refresh ||
		    now < is->crl.this_update)
			pki_crl_rebuild(p, is, now);
	}
}

/* The signer whose intermediate the OCSP request names as issuer; the
 * current one when none does (it answers "unauthorized"). */
static struct crypto_signer *
pki_ocsp_signer(struct pki *p, const uint8_t *der, size_t len)
{
	struct crypto_ocsp_request r;
	size_t i;

	if (der != NULL && crypto_ocsp_request_parse(der, len, &r) == CRYPTO_OK)
		for (i = 0; i < p->n_is; i++)
			if (crypto_signer_ocsp_issuer_matches(p->is[i].signer, &r))
				return p->is[i].signer;
	return p->is[0].signer;
}

/* OCSP request bytes to a signed answer (an OCSP error status included). */
static int
pki_ocsp(struct pki *p, struct evhttp_request *req, const uint8_t *der,
    size_t len, const char **outcome)
{
	struct acme_ocsp o;

	if (acme_ocsp_answer(p->srv->store, pki_ocsp_signer(p, der, len), der,
	    len, time(NULL), &o) != 0) {
		*outcome = "no memory";
		return pki_error(req, 500, "Internal Server Error", "out of memory\n");
	}
	*outcome = o.outcome;
	pki_reply(req, 200, "OK", "application/ocsp-response", o.der, o.len);
	acme_ocsp_clear(&o);
	return 200;
}

/* GET /ocsp/<url-encoded base64 of the DER request> (RFC 6960 A.1). */
static int
pki_ocsp_get(struct pki *p, struct evhttp_request *req, const char *enc,
    const char **outcome)
{
	uint8_t der[CRYPTO_OCSP_MAX_REQUEST];
	size_t n, i, derlen = 0;
	char *b64;
	int status;

	if (strlen(enc) > PKI_MAX_OCSP_PATH)
		return pki_error(req, 414, "URI Too Long", "OCSP request too long\n");
	if ((b64 = evhttp_uridecode(enc, 0, &n)) == NULL)
		return pki_error(req, 500, "Internal Server Error", "out of memory\n");
	/* base64 to base64url without padding, for the strict decoder */
	for (i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	while (n > 0 && b64[n - 1] == '=')
		n--;
	if (crypto_b64url_decode(b64, n, der, sizeof(der), &derlen) != CRYPTO_OK)
		derlen = 0;	/* answered as malformedRequest */
	status = pki_ocsp(p, req, der, derlen, outcome);
	free(b64);
	return status;
}

static int
pki_ocsp_post(struct pki *p, struct evhttp_request *req, const char **outcome)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	if (len > CRYPTO_OCSP_MAX_REQUEST)
		return pki_error(req, 413, "Payload Too Large",
		    "OCSP request larger than 4096 bytes\n");
	return pki_ocsp(p, req, len > 0 ? evbuffer_pullup(in, -1) : NULL, len,
	    outcome);
}

static int
pki_crl(struct pki_issuer *is, struct evhttp_request *req)
{
	if (is->crl.der == NULL)
		return pki_error(req, 503, "Service Unavailable",
		    "the CRL is not built yet\n");
	pki_reply(req, 200, "OK", "application/pkix-crl", is->crl.der,
	    is->crl.len);
	return 200;
}

/* The issuer whose CRL (*crl 1) or certificate (*crl 0) path is path. */
static struct pki_issuer *
pki_issuer_path(struct pki *p, const char *path, int *crl)
{
	size_t i;

	for (i = 0; i < p->n_is; i++) {
		*crl = strcmp(path, p->is[i].crl_path) == 0;
		if (*crl || strcmp(path, p->is[i].inter_path) == 0)
			return &p->is[i];
	}
	return NULL;
}

/* Routes one request; returns the status sent. */
static int
pki_route(struct pki *p, struct evhttp_request *req, const char *path,
    const char **outcome)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	int get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD, crl = 0;
	struct pki_issuer *is;

	if (!p->srv->cfg->ocsp && strncmp(path, "/ocsp", 5) == 0)
		return pki_error(req, 404, "Not Found", "OCSP is off (--ocsp 0)\n");
	if (strcmp(path, "/ocsp") == 0 || strcmp(path, "/ocsp/") == 0)
		return m == EVHTTP_REQ_POST ? pki_ocsp_post(p, req, outcome) :
		    pki_method_not_allowed(req, "POST");
	if (strncmp(path, "/ocsp/", 6) == 0)
		return get ? pki_ocsp_get(p, req, path + 6, outcome) :
		    pki_method_not_allowed(req, "GET, HEAD");
	is = pki_issuer_path(p, path, &crl);
	if (is == NULL && strcmp(path, "/ca/root.crt") != 0 &&
	    strcmp(path, "/ca/root.pem") != 0)
		return pki_error(req, 404, "Not Found", "not found\n");
	if (!get)
		return pki_method_not_allowed(req, "GET, HEAD");
	if (is != NULL && crl)
		return pki_crl(is, req);
	if (strcmp(path, "/ca/root.pem") == 0)
		pki_reply(req, 200, "OK", "application/x-pem-file", p->root_pem,
		    strlen(p->root_pem));
	else if (strcmp(path, "/ca/root.crt") == 0)
		pki_reply(req, 200, "OK", "application/pkix-cert", p->root_der,
		    p->root_len);
	else
		pki_reply(req, 200, "OK", "application/pkix-cert", is->inter_der,
		    is->inter_len);
	return 200;
}

static void
pki_handle(struct evhttp_request *req, void *arg)
{
	struct pki *p = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *outcome = NULL;
	char esc[128];
	int status;

	if (path == NULL || *path == '\0')
		path = "/";
	atomic_fetch_add_explicit(&p->srv->metrics.pki_requests, 1,
	    memory_order_relaxed);
	status = pki_route(p, req, path, &outcome);
	log_escape(path, esc, sizeof(esc));
	log_info("pki %s \"%s\" %d%s%s", http_method_name(
	    (int)evhttp_request_get_command(req)), esc, status,
	    outcome != NULL ? " ocsp " : "", outcome != NULL ? outcome : "");
}

void
pki_crl_info(const struct pki *p, time_t *this_update, uint64_t *number)
{
	const struct acme_crl *c = &p->is[0].crl;   /* the current issuer's */

	*this_update = c->der != NULL ? c->this_update : 0;
	*number = c->der != NULL ? c->number : 0;
}

int
pki_default_url(const struct server *s, char *out, size_t outsz)
{
	const struct config *c = s->cfg;
	char host[256], port[16], name[256];
	const char *h;
	int n;

	if (split_listen(c->pki_listen, host, sizeof(host), port, sizeof(port)) != 0)
		return -1;
	if (host[0] != '\0' && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
		h = host;
	else if (c->tls_names.n > 0 && s->n_names > 0)
		h = s->names[0].value;
	else if (gethostname(name, sizeof(name)) == 0 && name[0] != '\0') {
		name[sizeof(name) - 1] = '\0';
		h = name;
	} else
		h = "localhost";
	n = snprintf(out, outsz, "http://%s%s%s%s%s", strchr(h, ':') != NULL ? "[" : "",
	    h, strchr(h, ':') != NULL ? "]" : "", strcmp(port, "80") == 0 ? "" : ":",
	    strcmp(port, "80") == 0 ? "" : port);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Reads DIR/ca/root.crt (the root relying parties trust). */
static int
pki_load_root(struct pki *p)
{
	char path[4096];
	size_t n;
	FILE *f;

	if (path_join(path, sizeof(path), p->srv->cfg->data_dir, "ca/root.crt") != 0 ||
	    (f = fopen(path, "r")) == NULL ||
	    (p->root_pem = calloc(1, CRYPTO_MAX_PEM_BYTES + 1)) == NULL) {
		log_error("pki: cannot read %s/ca/root.crt", p->srv->cfg->data_dir);
		return -1;
	}
	n = fread(p->root_pem, 1, CRYPTO_MAX_PEM_BYTES, f);
	fclose(f);
	if (crypto_cert_pem_to_der(p->root_pem, n, &p->root_der, &p->root_len) != 0) {
		log_error("pki: %s: not a PEM certificate", path);
		return -1;
	}
	return 0;
}

static int
pki_issuer_load(struct pki_issuer *is, struct crypto_signer *s, int current)
{
	const char *pem = crypto_signer_chain_pem(s);
	char id[sizeof(is->id)];

	is->signer = s;
	is->current = current;
	if (crypto_signer_issuer_id(s, is->id) != 0 ||
	    crypto_cert_pem_to_der(pem, strlen(pem), &is->inter_der,
	    &is->inter_len) != 0) {
		log_error("pki: cannot read the intermediate certificate");
		return -1;
	}
	/* from a copy: gcc's -Wrestrict at -O3 cannot tell the fields apart */
	memcpy(id, is->id, sizeof(id));
	snprintf(is->crl_path, sizeof(is->crl_path), "/crl/%s.crl", id);
	snprintf(is->inter_path, sizeof(is->inter_path), "/ca/%s.crt", id);
	return 0;
}

static int
pki_load(struct pki *p)
{
	size_t i;

	if (pki_issuer_load(&p->is[0], p->srv->signer, 1) != 0)
		return -1;
	for (p->n_is = 1, i = 0; i < p->srv->n_retired; i++, p->n_is++)
		if (pki_issuer_load(&p->is[p->n_is], p->srv->retired[i], 0) != 0)
			return -1;
	return pki_load_root(p);
}

int
pki_issuer_rotate(struct pki *p)
{
	struct pki_issuer next;
	time_t now = time(NULL);

	if (p->n_is == sizeof(p->is) / sizeof(p->is[0]))
		return -1;
	memset(&next, 0, sizeof(next));
	if (pki_issuer_load(&next, p->srv->signer, 1) != 0) {
		free(next.inter_der);
		return -1;
	}
	p->is[p->n_is] = p->is[0];          /* its CRL stays served meanwhile */
	p->is[p->n_is].current = 0;
	p->is[0] = next;
	pki_crl_rebuild(p, &p->is[0], now);
	pki_crl_rebuild(p, &p->is[p->n_is], now);
	p->n_is++;
	return 0;
}

struct pki *
pki_new(struct server *s, int fd)
{
	const struct config *c = s->cfg;
	struct timeval second = { 1, 0 };
	struct pki *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail;
	p->srv = s;
	if (pki_load(p) != 0 || (p->http = evhttp_new(s->main_base)) == NULL ||
	    (p->tick = event_new(s->main_base, -1, EV_PERSIST, pki_tick, p)) == NULL)
		goto fail;
	evhttp_set_gencb(p->http, pki_handle, p);
	evhttp_set_max_headers_size(p->http, (ev_ssize_t)c->max_header_bytes);
	evhttp_set_max_body_size(p->http, CRYPTO_OCSP_MAX_REQUEST);
	evhttp_set_timeout(p->http, (int)c->idle_timeout);
	evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	if (evhttp_accept_socket(p->http, fd) != 0)
		goto fail;
	fd = -1;	/* evhttp owns it */
	pki_tick(-1, 0, p);
	if (event_add(p->tick, &second) != 0)
		goto fail;
	return p;
fail:
	if (fd >= 0)
		close(fd);
	pki_free(p);
	return NULL;
}

void
pki_free(struct pki *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->http != NULL)
		evhttp_free(p->http);
	for (i = 0; i < sizeof(p->is) / sizeof(p->is[0]); i++) {
		acme_crl_clear(&p->is[i].crl);
		free(p->is[i].inter_der);
	}
	free(p->root_der);
	free(p->root_pem);
	free(p);
}
