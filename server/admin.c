/*
 * admin.c: the operator's plain-HTTP listener (`--admin-listen`, loopback
 * by default): /metrics (Prometheus text format, see metrics.c), /healthz
 * (the process answers) and /readyz (the store answers, the signer
 * answers, the intermediate and root have not expired). Runs on the main
 * thread's event loop, like the PKI listener; a scrape reads atomic
 * counters and a few cheap sources, never a scan of the store.
 *
 * /readyz asks the signer for an empty operation, so a hung signer holds
 * it up to CRYPTO_SIGNER_TIMEOUT seconds (and is then replaced, as for any
 * call): probes should allow that long.
 */
#include "serve.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "acme.h"
#include "store.h"

struct admin {
	struct server *srv;
	struct evhttp *http;
};

static void
admin_reply(struct evhttp_request *req, int status, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, status, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static int
admin_text(struct evhttp_request *req, int status, const char *text)
{
	admin_reply(req, status, status == 200 ? "OK" : status == 503 ?
	    "Service Unavailable" : status == 404 ? "Not Found" :
	    status == 405 ? "Method Not Allowed" : "Error",
	    "text/plain; charset=utf-8", text, strlen(text));
	return status;
}

/* Everything a scrape reads besides the counters. */
static void
admin_sources(struct admin *a, struct metrics_sources *src)
{
	struct server *s = a->srv;

	memset(src, 0, sizeof(*src));
	src->now = time(NULL);
	src->started = s->started;
	acme_stats(s->acme, &src->acme);
	src->revocations_ok = acme_revocation_count(s->store,
	    &src->revocations) == 0;
	crypto_signer_stats(s->signer, &src->signer);
	src->store_ok = store_usage(s->store, &src->store) == 0;
	if (s->pki != NULL)
		pki_crl_info(s->pki, &src->crl_this_update, &src->crl_number);
	src->intermediate_not_after = crypto_signer_not_after(s->signer);
	pthread_mutex_lock(&s->tls.lock);
	src->tls_not_after = crypto_tls_server_not_after(s->tls.srv);
	pthread_mutex_unlock(&s->tls.lock);
}

static int
admin_metrics(struct admin *a, struct evhttp_request *req)
{
	struct metrics_sources src;
	struct metrics_buf b = { 0 };

	admin_sources(a, &src);
	if (metrics_render(&a->srv->metrics, &src, &b) != 0) {
		free(b.p);
		return admin_text(req, 500, "cannot render the metrics\n");
	}
	admin_reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    b.p, b.len);
	free(b.p);
	return 200;
}

/* Ready: the store reads, the signer answers, the CA is within its life.
 * The body names every check that failed. */
static int
admin_readyz(struct admin *a, struct evhttp_request *req)
{
	struct server *s = a->srv;
	struct store_usage u;
	struct store_txn *txn;
	time_t now = time(NULL);
	char body[512];
	size_t n = 0;

	body[0] = '\0';
	if (store_usage(s->store, &u) != 0 || store_read_begin(s->store, &txn) != 0)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "store: cannot read\n");
	else
		store_read_end(txn);
	if (crypto_signer_ping(s->signer) != CRYPTO_OK)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "signer: no answer\n");
	if (now >= crypto_signer_not_after(s->signer))
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "intermediate: expired\n");
	if (s->root_not_after != 0 && now >= s->root_not_after)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "root: expired\n");
	if (n == 0)
		return admin_text(req, 200, "ready\n");
	log_warn("readyz: not ready: %.*s", (int)strcspn(body, "\n"), body);
	return admin_text(req, 503, body);
}

static void
admin_handle(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	atomic_fetch_add_explicit(&a->srv->metrics.admin_requests, 1,
	    memory_order_relaxed);
	if (path == NULL)
		path = "/";
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0 &&
	    strcmp(path, "/readyz") != 0) {
		(void)admin_text(req, 404, "not found: /metrics, /healthz, /readyz\n");
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "GET, HEAD");
		(void)admin_text(req, 405, "method not allowed\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		(void)admin_metrics(a, req);
	else if (strcmp(path, "/healthz") == 0)
		(void)admin_text(req, 200, "ok\n");
	else
		(void)admin_readyz(a, req);
}

struct admin *
admin_new(struct server *s, int fd)
{
	const struct config *c = s->cfg;
	struct admin *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail;
	a->srv = s;
	if ((a->http = evhttp_new(s->main_base)) == NULL)
		goto fail;
	evhttp_set_gencb(a->http, admin_handle, a);
	evhttp_set_max_headers_size(a->http, (ev_ssize_t)c->max_header_bytes);
	evhttp_set_max_body_size(a->http, 0);
	evhttp_set_timeout(a->http, (int)c->idle_timeout);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	if (evhttp_accept_socket(a->http, fd) != 0)
		goto fail;
	return a;
fail:
	if (fd >= 0)
		close(fd);
	admin_free(a);
	return NULL;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
}
