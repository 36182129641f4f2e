/*
 * bench_acme.c: an end-to-end ACME (RFC 8555) load generator for hearth.
 * C workers, each a thread with its own account (an ES256 key) and one
 * keep-alive TLS connection verified against the given root, loop through
 * whole issuances: newOrder for a fresh name, the authorization, the
 * http-01 challenge (answered by a small evhttp server in this process on
 * 127.0.0.1:PORT), polling the authorization until valid, finalize with a
 * P-256 CSR (one key per worker, never the account key), polling the order
 * if it is processing, and the certificate download. It prints issuances
 * per second and the latency of each step. Every failed request is counted
 * by kind and the first few problem documents are printed; the exit status
 * is 1 when any issuance failed. It asserts nothing about time.
 *
 * A test tool, not part of hearth: it links wolfSSL, libevent and cJSON
 * directly and shares no code with server/, acme/, crypto/ or store/.
 * Polling ignores Retry-After (1 ms, doubling to 16 ms) so that the
 * latencies are the server's, not a polite client's.
 *
 * usage: bench_acme [-c CLIENTS] [-n COUNT | -d SECONDS] [-p HTTP01_PORT]
 *                   [-t TAG] [-V] URL ROOT.pem
 *   URL is https://HOST[:PORT] with HOST a name in the server's certificate.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS      256
#define MAX_COUNT        10000000L
#define MAX_SECONDS      3600L
#define CONN_BUF         (64 * 1024)   /* one whole response, or one request */
#define MAX_URL          512
#define MAX_NONCE        128
#define MAX_KINDS        32            /* distinct error kinds counted */
#define SHOW_PROBLEMS    5             /* problem documents printed */
#define POLL_FIRST_MS    1
#define POLL_MAX_MS      16
#define POLL_TIMEOUT_S   30
#define IO_TIMEOUT_S     30

enum step {
	ST_ACCOUNT, ST_NONCE, ST_ORDER, ST_AUTHZ, ST_VALID, ST_FINALIZE,
	ST_DOWNLOAD, ST_ISSUE, N_STEPS
};

static const char *const step_names[N_STEPS] = {
	"newAccount", "newNonce (HEAD)", "newOrder", "authorization GET",
	"challenge -> valid", "finalize", "certificate GET", "whole issuance",
};

struct samples {
	double *v;                   /* milliseconds */
	size_t n, cap;
};

#include "responder.h"

struct tally {
	pthread_mutex_t mu;
	struct {
		char what[160];
		long n;
	} kinds[MAX_KINDS];
	size_t n_kinds;
	long other;                  /* kinds beyond the table */
	long total;
	int shown;
};

struct bench {
	/* start-up configuration, read-only while workers run */
	char origin[300];            /* https://host[:port], no slash */
	char host[256], port[8], authority[300];
	const char *root_file;
	WOLFSSL_CTX *ctx;
	char new_nonce[MAX_URL], new_account[MAX_URL], new_order[MAX_URL];
	unsigned clients;
	long count;                  /* issuances, or 0 when timed */
	long seconds;
	char tag[16];
	int verify_all;
	/* shared while running */
	atomic_long next;            /* number of the next issuance */
	atomic_int setup_failed;
	atomic_long bad_nonce_retries;
	int abort;
	double deadline;
	pthread_barrier_t ready, go;
	struct responder resp;
	struct tally errors;
};

struct conn {
	WOLFSSL *ssl;
	int fd;
	long used;                   /* requests sent on this connection */
	size_t len;                  /* bytes in buf not yet consumed */
	char buf[CONN_BUF];
};

struct http_resp {
	int status;
	char nonce[MAX_NONCE];
	char location[MAX_URL];
	char ctype[64];
	size_t body_len;
	char body[CONN_BUF + 1];
};

struct worker {
	struct bench *b;
	unsigned id;
	pthread_t thread;
	WC_RNG rng;
	int rng_ready;
	ecc_key acct, csr_key;
	int keys_ready;
	char jwk[256];               /* RFC 7638 canonical form */
	char thumb[64];
	char kid[MAX_URL];
	char nonce[MAX_NONCE];
	char errmsg[200];            /* the last transport failure */
	int stale;                   /* the last failure: closed before any byte */
	Cert *req;
	struct conn conn;
	struct http_resp r;
	char sbuf[CONN_BUF];
	struct samples s[N_STEPS];
	long done, failed, polls, validations, connects, verified;
};

/* ---- small helpers ------------------------------------------------------------ */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* base64url without padding (RFC 7515 §2); the caller frees the result. */
static char *
b64url(const void *data, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *p = data;
	char *out = malloc(len / 3 * 4 + 5), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = abc[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = abc[p[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = abc[p[i] >> 2];
		*o++ = abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = abc[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

/* Copies a string that must fit; -1 when src is NULL or too long. */
static int
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL || (n = strlen(src)) >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Checked whole-string number parsing in [min, max]. */
static int
parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
samples_add(struct samples *s, double ms)
{
	double *v;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;

		if ((v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ms;
	return 0;
}

static void
sample(struct worker *w, enum step st, double t0, double t1)
{
	if (samples_add(&w->s[st], (t1 - t0) * 1000.0) != 0) {
		fprintf(stderr, "bench_acme: out of memory\n");
		abort();
	}
}

/* ---- errors ----------------------------------------------------------------- */

/* Counts one failure of kind `what`; prints the first few with the body. */
static void
tally_note(struct tally *t, unsigned worker, const char *what, const char *body)
{
	size_t i;

	pthread_mutex_lock(&t->mu);
	t->total++;
	for (i = 0; i < t->n_kinds; i++)
		if (strcmp(t->kinds[i].what, what) == 0)
			break;
	if (i < t->n_kinds) {
		t->kinds[i].n++;
	} else if (t->n_kinds < MAX_KINDS) {
		snprintf(t->kinds[i].what, sizeof(t->kinds[i].what), "%s", what);
		t->kinds[i].n = 1;
		t->n_kinds++;
	} else {
		t->other++;
	}
	if (t->shown < SHOW_PROBLEMS) {
		t->shown++;
		fprintf(stderr, "bench_acme: worker %u: %s\n", worker, what);
		if (body != NULL && *body != '\0')
			fprintf(stderr, "  %.800s\n", body);
	}
	pthread_mutex_unlock(&t->mu);
}

/* A failed step: a transport failure (w->errmsg) or an unexpected answer. */
static void
fail_step(struct worker *w, const char *step)
{
	char what[160];
	const char *type = NULL;
	cJSON *p = NULL;

	if (w->errmsg[0] != '\0') {
		snprintf(what, sizeof(what), "%.30s: %.120s", step, w->errmsg);
		tally_note(&w->b->errors, w->id, what, NULL);
		return;
	}
	if (strstr(w->r.ctype, "problem+json") != NULL &&
	    (p = cJSON_Parse(w->r.body)) != NULL)
		type = json_str(p, "type");
	snprintf(what, sizeof(what), "%s: HTTP %d %s", step, w->r.status,
	    type != NULL ? type : "");
	tally_note(&w->b->errors, w->id, what, w->r.body);
	cJSON_Delete(p);
}

/* A step whose HTTP exchange worked but whose result is wrong. */
static void
fail_result(struct worker *w, const char *step, const char *why)
{
	char what[160];

	snprintf(what, sizeof(what), "%s: %s", step, why);
	tally_note(&w->b->errors, w->id, what, w->r.body);
}

/* ---- TLS connection and HTTP/1.1 ---------------------------------------------- */

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		wolfSSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->len = 0;
	c->used = 0;
}

static void
tls_error(struct worker *w, const char *what, int rc)
{
	char buf[WOLFSSL_MAX_ERROR_SZ];
	int err = wolfSSL_get_error(w->conn.ssl, rc);

	wolfSSL_ERR_error_string_n((unsigned long)err, buf, sizeof(buf));
	snprintf(w->errmsg, sizeof(w->errmsg), "%s: %s (%d)", what, buf, err);
}

static int
tcp_connect(struct worker *w)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd = -1, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(w->b->host, w->b->port, &hints, &res)) != 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "resolve %.100s: %s", w->b->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "connect %.100s:%s: %s",
		    w->b->host, w->b->port, strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A new TLS connection to the server, its certificate checked against the
 * root and the URL's host name; 0 or -1 with w->errmsg. */
static int
conn_open(struct worker *w)
{
	struct conn *c = &w->conn;
	struct in6_addr a6;
	int rc;

	conn_close(c);
	if ((c->fd = tcp_connect(w)) < 0)
		return -1;
	if ((c->ssl = wolfSSL_new(w->b->ctx)) == NULL ||
	    wolfSSL_set_fd(c->ssl, c->fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_check_domain_name(c->ssl, w->b->host) != WOLFSSL_SUCCESS) {
		snprintf(w->errmsg, sizeof(w->errmsg), "TLS set-up failed");
		conn_close(c);
		return -1;
	}
	if (inet_pton(AF_INET6, w->b->host, &a6) != 1 &&
	    strspn(w->b->host, "0123456789.") != strlen(w->b->host))
		wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, w->b->host,
		    (unsigned short)strlen(w->b->host));
	if ((rc = wolfSSL_connect(c->ssl)) != WOLFSSL_SUCCESS) {
		tls_error(w, "TLS handshake", rc);
		conn_close(c);
		return -1;
	}
	w->connects++;
	return 0;
}

static int
conn_send(struct worker *w, const char *data, size_t len)
{
	size_t off = 0;
	int n;

	while (off < len) {
		n = wolfSSL_write(w->conn.ssl, data + off, (int)(len - off));
		if (n <= 0) {
			tls_error(w, "write", n);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Reads more bytes into the connection buffer; 0, or -1 with w->errmsg. */
static int
conn_fill(struct worker *w)
{
	struct conn *c = &w->conn;
	int n;

	if (c->len == sizeof(c->buf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response over %d bytes", CONN_BUF);
		return -1;
	}
	n = wolfSSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
	if (n <= 0) {
		if (wolfSSL_get_error(c->ssl, n) == WOLFSSL_ERROR_ZERO_RETURN || n == 0)
			snprintf(w->errmsg, sizeof(w->errmsg), "connection closed");
		else
			tls_error(w, "read", n);
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

static size_t
find_crlfcrlf(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return i;
	return SIZE_MAX;
}

/* Copies a header value (trimmed) when it fits. */
static void
header_value(char *dst, size_t cap, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len < cap) {
		memcpy(dst, v, len);
		dst[len] = '\0';
	}
}

/* Whether a Connection header value holds the token "close". */
static int
says_close(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i + 5 <= len; i++)
		if (strncasecmp(v + i, "close", 5) == 0)
			return 1;
	return 0;
}

/* Status line and the headers this client uses; -1 when malformed. */
static int
parse_head(struct worker *w, const char *p, size_t len, long *clen, int *close_after)
{
	struct http_resp *r = &w->r;
	const char *line = p, *end = p + len, *eol, *colon;
	char num[24];
	size_t nlen;

	if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]))
		goto bad;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->nonce[0] = r->location[0] = r->ctype[0] = '\0';
	*clen = -1;
	*close_after = 0;
	while ((eol = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		line = eol + 1;
		if ((colon = memchr(line, ':', (size_t)(end - line))) == NULL ||
		    (eol = memchr(line, '\r', (size_t)(end - line))) == NULL || colon > eol)
			continue;
		nlen = (size_t)(colon - line);
#define IS(h) (nlen == sizeof(h) - 1 && strncasecmp(line, h, nlen) == 0)
		if (IS("Replay-Nonce"))
			header_value(r->nonce, sizeof(r->nonce), colon + 1, (size_t)(eol - colon - 1));
		else if (IS("Location"))
			header_value(r->location, sizeof(r->location), colon + 1, (size_t)(eol - colon - 1));
		else if (IS("Content-Type"))
			header_value(r->ctype, sizeof(r->ctype), colon + 1, (size_t)(eol - colon - 1));
		else if (IS("Connection"))
			*close_after = says_close(colon + 1, (size_t)(eol - colon - 1));
		else if (IS("Content-Length")) {
			num[0] = '\0';
			header_value(num, sizeof(num), colon + 1, (size_t)(eol - colon - 1));
			if (parse_num(num, 0, CONN_BUF, clen) != 0)
				goto bad;
		} else if (IS("Transfer-Encoding")) {
			snprintf(w->errmsg, sizeof(w->errmsg), "chunked response not supported");
			return -1;
		}
#undef IS
	}
	return 0;
bad:
	snprintf(w->errmsg, sizeof(w->errmsg), "malformed response head");
	return -1;
}

/* Reads one response into w->r (the body NUL-terminated); a HEAD response
 * has no body. 0, or -1 with w->errmsg and w->stale set when the
 * connection was closed before any byte of it arrived. */
static int
read_response(struct worker *w, int head)
{
	struct conn *c = &w->conn;
	size_t hlen, total;
	long clen;
	int close_after;

	w->stale = c->len == 0;
	while ((hlen = find_crlfcrlf(c->buf, c->len)) == SIZE_MAX) {
		if (conn_fill(w) != 0)
			return -1;
		w->stale = 0;
	}
	hlen += 4;
	if (parse_head(w, c->buf, hlen, &clen, &close_after) != 0)
		return -1;
	if (head || w->r.status == 204 || w->r.status == 304)
		clen = 0;
	else if (clen < 0) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response without Content-Length");
		return -1;
	}
	if ((total = hlen + (size_t)clen) > sizeof(c->buf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "response over %d bytes", CONN_BUF);
		return -1;
	}
	while (c->len < total)
		if (conn_fill(w) != 0)
			return -1;
	memcpy(w->r.body, c->buf + hlen, (size_t)clen);
	w->r.body[clen] = '\0';
	w->r.body_len = (size_t)clen;
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	if (close_after)
		conn_close(c);
	return 0;
}

/* One request on the worker's keep-alive connection, opened when needed.
 * A connection the server closed while idle (no byte of the response) is
 * reopened and the request sent once more. 0 with w->r filled, or -1 with
 * w->errmsg. */
static int
http_do(struct worker *w, const char *method, const char *path,
    const char *body)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	int n, attempt, reused;

	n = snprintf(w->sbuf, sizeof(w->sbuf),
	    "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hearth-bench_acme\r\n"
	    "%s%s%sContent-Length: %zu\r\n\r\n", method, path, w->b->authority,
	    body != NULL ? "Content-Type: " : "",
	    body != NULL ? "application/jose+json" : "",
	    body != NULL ? "\r\n" : "", blen);
	if (n < 0 || (size_t)n + blen >= sizeof(w->sbuf)) {
		snprintf(w->errmsg, sizeof(w->errmsg), "request too large");
		return -1;
	}
	if (blen > 0)
		memcpy(w->sbuf + n, body, blen);
	for (attempt = 0; attempt < 2; attempt++) {
		w->errmsg[0] = '\0';
		w->stale = 0;
		if (w->conn.ssl == NULL && conn_open(w) != 0)
			return -1;
		reused = w->conn.used++ > 0;
		if (conn_send(w, w->sbuf, (size_t)n + blen) == 0 &&
		    read_response(w, strcmp(method, "HEAD") == 0) == 0)
			return 0;
		conn_close(&w->conn);
		if (!reused || !w->stale)
			break;
	}
	return -1;
}

/* The path of an ACME URL, which must be on the server under test. */
static const char *
url_path(const struct bench *b, const char *url)
{
	size_t n = strlen(b->origin);

	if (url == NULL || strncmp(url, b->origin, n) != 0 || url[n] != '/')
		return NULL;
	return url + n;
}

/* ---- keys, JWS and CSR ------------------------------------------------------ */

/* ES256 (RFC 7518 §3.4): r || s, 32 bytes each. */
static int
es256_sign(struct worker *w, const char *data, size_t len, uint8_t out[64])
{
	uint8_t hash[WC_SHA256_DIGEST_SIZE], der[80], r[32], s[32];
	word32 der_len = sizeof(der), r_len = sizeof(r), s_len = sizeof(s);

	if (wc_Sha256Hash((const byte *)data, (word32)len, hash) != 0 ||
	    wc_ecc_sign_hash(hash, sizeof(hash), der, &der_len, &w->rng, &w->acct) != 0 ||
	    wc_ecc_sig_to_rs(der, der_len, r, &r_len, s, &s_len) != 0)
		return -1;
	memset(out, 0, 64);
	memcpy(out + 32 - r_len, r, r_len);
	memcpy(out + 64 - s_len, s, s_len);
	return 0;
}

/* The worker's RNG, account key (with its JWK and RFC 7638 thumbprint) and
 * CSR key; 0 or -1. */
static int
make_keys(struct worker *w)
{
	uint8_t x[32], y[32], hash[WC_SHA256_DIGEST_SIZE];
	word32 xl = sizeof(x), yl = sizeof(y);
	char *xs = NULL, *ys = NULL, *th = NULL;
	int ret = -1;

	if (wc_InitRng(&w->rng) != 0)
		return -1;
	w->rng_ready = 1;
	if (wc_ecc_init(&w->acct) != 0 || wc_ecc_init(&w->csr_key) != 0)
		return -1;
	w->keys_ready = 1;
	if (wc_ecc_make_key_ex(&w->rng, 32, &w->acct, ECC_SECP256R1) != 0 ||
	    wc_ecc_make_key_ex(&w->rng, 32, &w->csr_key, ECC_SECP256R1) != 0 ||
	    wc_ecc_export_public_raw(&w->acct, x, &xl, y, &yl) != 0 ||
	    xl != 32 || yl != 32 ||
	    (xs = b64url(x, xl)) == NULL || (ys = b64url(y, yl)) == NULL)
		goto out;
	snprintf(w->jwk, sizeof(w->jwk),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", xs, ys);
	if (wc_Sha256Hash((const byte *)w->jwk, (word32)strlen(w->jwk), hash) != 0 ||
	    (th = b64url(hash, sizeof(hash))) == NULL ||
	    copy_str(w->thumb, sizeof(w->thumb), th) != 0)
		goto out;
	ret = 0;
out:
	free(xs);
	free(ys);
	free(th);
	return ret;
}

/* The flattened JWS (RFC 8555 §6.2) of payload (NULL: POST-as-GET), by kid
 * once the account exists, by jwk before. The caller frees the result. */
static char *
jws_body(struct worker *w, const char *url, const char *payload)
{
	cJSON *prot = cJSON_CreateObject(), *jws = cJSON_CreateObject();
	char *pj = NULL, *p64 = NULL, *pl64 = NULL, *in = NULL, *s64 = NULL, *out = NULL;
	uint8_t sig[64];
	size_t n;

	if (prot == NULL || jws == NULL)
		goto out;
	cJSON_AddStringToObject(prot, "alg", "ES256");
	if (w->kid[0] != '\0')
		cJSON_AddStringToObject(prot, "kid", w->kid);
	else
		cJSON_AddItemToObject(prot, "jwk", cJSON_Parse(w->jwk));
	cJSON_AddStringToObject(prot, "nonce", w->nonce);
	cJSON_AddStringToObject(prot, "url", url);
	if ((pj = cJSON_PrintUnformatted(prot)) == NULL ||
	    (p64 = b64url(pj, strlen(pj))) == NULL ||
	    (pl64 = b64url(payload != NULL ? payload : "",
	        payload != NULL ? strlen(payload) : 0)) == NULL)
		goto out;
	n = strlen(p64) + 1 + strlen(pl64) + 1;
	if ((in = malloc(n)) == NULL)
		goto out;
	snprintf(in, n, "%s.%s", p64, pl64);
	if (es256_sign(w, in, n - 1, sig) != 0 || (s64 = b64url(sig, sizeof(sig))) == NULL)
		goto out;
	cJSON_AddStringToObject(jws, "protected", p64);
	cJSON_AddStringToObject(jws, "payload", pl64);
	cJSON_AddStringToObject(jws, "signature", s64);
	out = cJSON_PrintUnformatted(jws);
out:
	cJSON_Delete(prot);
	cJSON_Delete(jws);
	free(pj);
	free(p64);
	free(pl64);
	free(in);
	free(s64);
	return out;
}

/* A DER PKCS#10 request for name (subject CN and one subjectAltName
 * dNSName) signed by the worker's CSR key, base64url; the caller frees. */
static char *
csr_b64(struct worker *w, const char *name)
{
	Cert *c = w->req;
	uint8_t der[1024];
	size_t nl = strlen(name);
	int n;

	if (nl >= CTC_NAME_SIZE || nl > 100 || wc_InitCert(c) != 0)
		return NULL;
	c->version = 0;
	c->sigType = CTC_SHA256wECDSA;
	memcpy(c->subject.commonName, name, nl + 1);
	/* GeneralNames ::= SEQUENCE { dNSName [2] IA5String } */
	c->altNames[0] = 0x30;
	c->altNames[1] = (byte)(nl + 2);
	c->altNames[2] = 0x82;
	c->altNames[3] = (byte)nl;
	memcpy(c->altNames + 4, name, nl);
	c->altNamesSz = (int)nl + 4;
	if (wc_MakeCertReq_ex(c, der, sizeof(der), ECC_TYPE, &w->csr_key) < 0 ||
	    (n = wc_SignCert_ex(c->bodySz, c->sigType, der, sizeof(der), ECC_TYPE,
	        &w->csr_key, &w->rng)) < 0)
		return NULL;
	return b64url(der, (size_t)n);
}

/* ---- ACME requests ---------------------------------------------------------- */

/* A fresh nonce from newNonce (RFC 8555 §7.2); 0 or -1 after counting. */
static int
new_nonce(struct worker *w)
{
	double t0 = now_s();

	if (http_do(w, "HEAD", url_path(w->b, w->b->new_nonce), NULL) != 0 ||
	    w->r.status != 200 || w->r.nonce[0] == '\0') {
		fail_step(w, "newNonce");
		return -1;
	}
	sample(w, ST_NONCE, t0, now_s());
	memcpy(w->nonce, w->r.nonce, sizeof(w->nonce));
	return 0;
}

static int
is_bad_nonce(const struct worker *w)
{
	return w->r.status == 400 &&
	    strstr(w->r.body, "urn:ietf:params:acme:error:badNonce") != NULL;
}

/* A signed POST to url answered with status `expect`; the response is in
 * w->r. A badNonce answer is retried once with its fresh nonce (RFC 8555
 * §6.5) and counted. 0, or -1 after counting the failure under step. */
static int
acme_post(struct worker *w, const char *step, const char *url,
    const char *payload, int expect)
{
	const char *path = url_path(w->b, url);
	char *body = NULL;
	int attempt, ret = -1;

	w->errmsg[0] = '\0';
	if (path == NULL) {
		snprintf(w->errmsg, sizeof(w->errmsg), "URL not on the server: %.100s",
		    url != NULL ? url : "(none)");
		goto out;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (w->nonce[0] == '\0' && new_nonce(w) != 0) {
			free(body);
			return -1;
		}
		free(body);
		if ((body = jws_body(w, url, payload)) == NULL) {
			snprintf(w->errmsg, sizeof(w->errmsg), "building the JWS failed");
			goto out;
		}
		w->nonce[0] = '\0';
		if (http_do(w, "POST", path, body) != 0)
			goto out;
		memcpy(w->nonce, w->r.nonce, sizeof(w->nonce));
		if (attempt > 0 || !is_bad_nonce(w))
			break;
		atomic_fetch_add(&w->b->bad_nonce_retries, 1);
	}
	if (w->r.status == expect)
		ret = 0;
out:
	if (ret != 0)
		fail_step(w, step);
	free(body);
	return ret;
}

/* POST-as-GET url, parsed; NULL after counting the failure. */
static cJSON *
acme_get_json(struct worker *w, const char *step, const char *url)
{
	cJSON *j;

	if (acme_post(w, step, url, NULL, 200) != 0)
		return NULL;
	if ((j = cJSON_Parse(w->r.body)) == NULL)
		fail_result(w, step, "response is not JSON");
	return j;
}

/* POST-as-GET url until its status is no longer one of `waiting` (a
 * space-separated list); the final object, or NULL after counting. */
static cJSON *
poll_status(struct worker *w, const char *step, const char *url,
    const char *waiting)
{
	double deadline = now_s() + POLL_TIMEOUT_S;
	long wait = POLL_FIRST_MS;
	const char *st;
	cJSON *j;

	for (;;) {
		w->polls++;
		if ((j = acme_get_json(w, step, url)) == NULL)
			return NULL;
		if ((st = json_str(j, "status")) == NULL) {
			fail_result(w, step, "no status");
			cJSON_Delete(j);
			return NULL;
		}
		if (strstr(waiting, st) == NULL)
			return j;
		cJSON_Delete(j);
		if (now_s() > deadline) {
			fail_result(w, step, "still waiting after the poll timeout");
			return NULL;
		}
		sleep_ms(wait);
		wait = wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
	}
}

/* newAccount (RFC 8555 §7.3) with the worker's key; sets w->kid. */
static int
new_account(struct worker *w)
{
	double t0 = now_s();

	if (acme_post(w, "newAccount", w->b->new_account,
	        "{\"termsOfServiceAgreed\":true}", 201) != 0)
		return -1;
	if (copy_str(w->kid, sizeof(w->kid), w->r.location) != 0 || w->kid[0] == '\0') {
		fail_result(w, "newAccount", "no Location");
		return -1;
	}
	sample(w, ST_ACCOUNT, t0, now_s());
	return 0;
}

/* ---- one issuance ------------------------------------------------------------- */

struct order {
	char name[80];
	char url[MAX_URL], authz[MAX_URL], finalize[MAX_URL], challenge[MAX_URL];
	char cert[MAX_URL], token[MAX_TOKEN];
};

/* newOrder (RFC 8555 §7.4) for one DNS name. */
static int
step_new_order(struct worker *w, struct order *o)
{
	char payload[200];
	const cJSON *az;
	cJSON *j;
	int ret = -1;

	snprintf(payload, sizeof(payload),
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", o->name);
	if (acme_post(w, "newOrder", w->b->new_order, payload, 201) != 0)
		return -1;
	if ((j = cJSON_Parse(w->r.body)) == NULL) {
		fail_result(w, "newOrder", "response is not JSON");
		return -1;
	}
	az = cJSON_GetObjectItemCaseSensitive(j, "authorizations");
	if (copy_str(o->url, sizeof(o->url), w->r.location) != 0 ||
	    copy_str(o->finalize, sizeof(o->finalize), json_str(j, "finalize")) != 0 ||
	    !cJSON_IsArray(az) || cJSON_GetArraySize(az) != 1 ||
	    copy_str(o->authz, sizeof(o->authz),
	        cJSON_GetStringValue(cJSON_GetArrayItem(az, 0))) != 0)
		fail_result(w, "newOrder", "no Location, finalize or single authorization");
	else
		ret = 0;
	cJSON_Delete(j);
	return ret;
}

/* The authorization's http-01 challenge (RFC 8555 §8.3). */
static int
step_authz(struct worker *w, struct order *o)
{
	const cJSON *ch;
	cJSON *j;
	int ret = -1;

	if ((j = acme_get_json(w, "authorization", o->authz)) == NULL)
		return -1;
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(j, "challenges")) {
		const char *type = json_str(ch, "type");

		if (type == NULL || strcmp(type, "http-01") != 0)
			continue;
		if (copy_str(o->token, sizeof(o->token), json_str(ch, "token")) == 0 &&
		    copy_str(o->challenge, sizeof(o->challenge), json_str(ch, "url")) == 0)
			ret = 0;
		break;
	}
	if (ret != 0)
		fail_result(w, "authorization", "no usable http-01 challenge");
	cJSON_Delete(j);
	return ret;
}

/* "invalid (error type)" from a decided authorization's http-01 challenge. */
static const char *
invalid_reason(const cJSON *az, const char *status, char *buf, size_t cap)
{
	const cJSON *ch;
	const char *type = NULL;

	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(az, "challenges"))
		if (json_str(ch, "type") != NULL && strcmp(json_str(ch, "type"), "http-01") == 0)
			type = json_str(cJSON_GetObjectItemCaseSensitive(ch, "error"), "type");
	snprintf(buf, cap, "%.20s (%.100s)", status, type != NULL ? type : "no error");
	return buf;
}

/* Puts the key authorization in place, answers the challenge and polls the
 * authorization until hearth decided; 0 when valid. */
static int
step_validate(struct worker *w, struct order *o)
{
	char keyauth[MAX_TOKEN + 64], why[128];
	const char *st;
	cJSON *j;
	int ret = -1;

	snprintf(keyauth, sizeof(keyauth), "%s.%s", o->token, w->thumb);
	responder_set(&w->b->resp, w->id, o->token, keyauth);
	w->validations++;
	if (acme_post(w, "challenge", o->challenge, "{}", 200) != 0)
		goto out;
	if ((j = poll_status(w, "authorization poll", o->authz, "pending")) == NULL)
		goto out;
	st = json_str(j, "status");
	if (strcmp(st, "valid") == 0)
		ret = 0;
	else
		fail_result(w, "authorization poll", invalid_reason(j, st, why, sizeof(why)));
	cJSON_Delete(j);
out:
	responder_clear(&w->b->resp, w->id);
	return ret;
}

/* finalize (RFC 8555 §7.4) with a new CSR, then the order polled while it
 * is processing; sets o->cert. */
static int
step_finalize(struct worker *w, struct order *o)
{
	char *csr = csr_b64(w, o->name), *payload = NULL;
	cJSON *j = NULL;
	size_t n;
	int ret = -1;

	if (csr == NULL) {
		fail_result(w, "finalize", "making the CSR failed");
		return -1;
	}
	n = strlen(csr) + 16;
	if ((payload = malloc(n)) == NULL)
		goto out;
	snprintf(payload, n, "{\"csr\":\"%s\"}", csr);
	if (acme_post(w, "finalize", o->finalize, payload, 200) != 0)
		goto out;
	if ((j = cJSON_Parse(w->r.body)) == NULL) {
		fail_result(w, "finalize", "response is not JSON");
		goto out;
	}
	if (json_str(j, "status") != NULL && strcmp(json_str(j, "status"), "processing") == 0) {
		cJSON_Delete(j);
		if ((j = poll_status(w, "order poll", o->url, "processing")) == NULL)
			goto out;
	}
	if (json_str(j, "status") == NULL || strcmp(json_str(j, "status"), "valid") != 0 ||
	    copy_str(o->cert, sizeof(o->cert), json_str(j, "certificate")) != 0)
		fail_result(w, "finalize", "order not valid with a certificate URL");
	else
		ret = 0;
out:
	cJSON_Delete(j);
	free(payload);
	free(csr);
	return ret;
}

/* The n-th PEM certificate of text (from 0): start and length, or NULL. */
static const char *
pem_cert(const char *text, int n, size_t *len)
{
	static const char end_marker[] = "-----END CERTIFICATE-----";
	const char *p = text, *e;

	for (;;) {
		if ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) == NULL ||
		    (e = strstr(p, end_marker)) == NULL)
			return NULL;
		e += sizeof(end_marker) - 1;
		if (n-- == 0) {
			*len = (size_t)(e - p);
			return p;
		}
		p = e;
	}
}

/* The chain verifies (leaf, then the intermediate under the root) and the
 * leaf names exactly the ordered name; NULL, or why not. */
static const char *
chain_problem(struct worker *w, const char *name)
{
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
	WOLFSSL_X509 *x = NULL;
	const char *leaf, *inter, *why = NULL;
	char *alt;
	size_t ll, il;
	int found = 0, others = 0;

	if ((leaf = pem_cert(w->r.body, 0, &ll)) == NULL ||
	    (inter = pem_cert(w->r.body, 1, &il)) == NULL)
		why = "not a PEM chain of two certificates";
	else if (cm == NULL ||
	    wolfSSL_CertManagerLoadCA(cm, w->b->root_file, NULL) != WOLFSSL_SUCCESS)
		why = "cannot load the root";
	else if (wolfSSL_CertManagerLoadCABuffer(cm, (const unsigned char *)inter,
	        (long)il, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		why = "intermediate does not verify under the root";
	else if (wolfSSL_CertManagerVerifyBuffer(cm, (const unsigned char *)leaf,
	        (long)ll, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		why = "leaf does not verify under the intermediate";
	else if ((x = wolfSSL_X509_load_certificate_buffer((const unsigned char *)leaf,
	        (int)ll, WOLFSSL_FILETYPE_PEM)) == NULL)
		why = "leaf does not parse";
	if (x != NULL) {
		while ((alt = wolfSSL_X509_get_next_altname(x)) != NULL) {
			if (strcmp(alt, name) == 0)
				found = 1;
			else
				others = 1;
		}
		if (!found || others)
			why = "leaf does not name exactly the ordered name";
	}
	wolfSSL_X509_free(x);
	if (cm != NULL)
		wolfSSL_CertManagerFree(cm);
	return why;
}

/* The certificate (RFC 8555 §7.4.2), checked on each worker's first
 * download, or on every one with -V. */
static int
step_download(struct worker *w, struct order *o)
{
	const char *why;

	if (acme_post(w, "certificate", o->cert, NULL, 200) != 0)
		return -1;
	if (strstr(w->r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
		fail_result(w, "certificate", "not PEM");
		return -1;
	}
	if (w->verified == 0 || w->b->verify_all) {
		if ((why = chain_problem(w, o->name)) != NULL) {
			fail_result(w, "certificate", why);
			return -1;
		}
		w->verified++;
	}
	return 0;
}

/* One whole issuance for name number idx; each step's latency recorded. */
static int
issue_one(struct worker *w, long idx)
{
	struct order o;
	double t0 = now_s(), t1, t2;

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "b%s-%06ld.bench.internal", w->b->tag, idx);
	if (step_new_order(w, &o) != 0)
		return -1;
	sample(w, ST_ORDER, t0, t1 = now_s());
	if (step_authz(w, &o) != 0)
		return -1;
	sample(w, ST_AUTHZ, t1, t2 = now_s());
	if (step_validate(w, &o) != 0)
		return -1;
	sample(w, ST_VALID, t2, t1 = now_s());
	if (step_finalize(w, &o) != 0)
		return -1;
	sample(w, ST_FINALIZE, t1, t2 = now_s());
	if (step_download(w, &o) != 0)
		return -1;
	sample(w, ST_DOWNLOAD, t2, t1 = now_s());
	sample(w, ST_ISSUE, t0, t1);
	return 0;
}

/* ---- workers ---------------------------------------------------------------- */

/* The number of the next issuance to run, or -1 when the run is over. */
static long
next_issue(struct bench *b)
{
	long i;

	if (b->count == 0)
		return now_s() < b->deadline ? atomic_fetch_add(&b->next, 1) : -1;
	i = atomic_fetch_add(&b->next, 1);
	return i < b->count ? i : -1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	long idx;

	if ((w->req = malloc(sizeof(*w->req))) == NULL || make_keys(w) != 0) {
		tally_note(&b->errors, w->id, "set-up: key generation failed", NULL);
		atomic_store(&b->setup_failed, 1);
	} else if (new_account(w) != 0) {
		atomic_store(&b->setup_failed, 1);
	}
	pthread_barrier_wait(&b->ready);
	pthread_barrier_wait(&b->go);
	while (!b->abort && (idx = next_issue(b)) >= 0) {
		if (issue_one(w, idx) == 0)
			w->done++;
		else
			w->failed++;
	}
	conn_close(&w->conn);
	if (w->keys_ready) {
		wc_ecc_free(&w->acct);
		wc_ecc_free(&w->csr_key);
	}
	if (w->rng_ready)
		wc_FreeRng(&w->rng);
	free(w->req);
#ifdef FP_ECC
	wc_ecc_fp_free();            /* this thread's fixed-point tables */
#endif
	return NULL;
}

/* ---- start-up and report ------------------------------------------------------- */

/* https://HOST[:PORT] into origin, host, port and authority. */
static int
parse_url(struct bench *b, const char *url)
{
	const char *h, *end, *colon;
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncmp(url, "https://", 8) != 0 || n <= 8 || n >= sizeof(b->origin))
		return -1;
	memcpy(b->origin, url, n);
	b->origin[n] = '\0';
	h = b->origin + 8;
	if (strchr(h, '/') != NULL || strchr(h, '@') != NULL)
		return -1;
	snprintf(b->authority, sizeof(b->authority), "%s", h);
	end = h[0] == '[' ? strchr(h, ']') : h;
	if (end == NULL)
		return -1;
	colon = strchr(end, ':');
	if (h[0] == '[')
		snprintf(b->host, sizeof(b->host), "%.*s", (int)(end - h - 1), h + 1);
	else
		snprintf(b->host, sizeof(b->host), "%.*s",
		    (int)(colon != NULL ? (size_t)(colon - h) : strlen(h)), h);
	snprintf(b->port, sizeof(b->port), "%s", colon != NULL ? colon + 1 : "443");
	return b->host[0] != '\0' && strspn(b->port, "0123456789") == strlen(b->port) &&
	    b->port[0] != '\0' ? 0 : -1;
}

/* GET /directory on worker 0's connection; the URLs this client uses. */
static int
read_directory(struct bench *b, struct worker *w)
{
	cJSON *d;
	int ret = -1;

	if (http_do(w, "GET", "/directory", NULL) != 0 || w->r.status != 200) {
		fprintf(stderr, "bench_acme: GET %s/directory: %s (HTTP %d)\n", b->origin,
		    w->errmsg[0] != '\0' ? w->errmsg : "failed", w->r.status);
		return -1;
	}
	if ((d = cJSON_Parse(w->r.body)) != NULL &&
	    copy_str(b->new_nonce, sizeof(b->new_nonce), json_str(d, "newNonce")) == 0 &&
	    copy_str(b->new_account, sizeof(b->new_account), json_str(d, "newAccount")) == 0 &&
	    copy_str(b->new_order, sizeof(b->new_order), json_str(d, "newOrder")) == 0 &&
	    url_path(b, b->new_nonce) != NULL && url_path(b, b->new_account) != NULL &&
	    url_path(b, b->new_order) != NULL)
		ret = 0;
	else
		fprintf(stderr, "bench_acme: unusable directory: %.400s\n", w->r.body);
	cJSON_Delete(d);
	return ret;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return v[k > 0 ? k - 1 : 0];
}

static void
report_step(struct worker *ws, unsigned n_workers, enum step st)
{
	struct samples all = { NULL, 0, 0 };
	double sum = 0;
	unsigned i;
	size_t k;

	for (i = 0; i < n_workers; i++)
		for (k = 0; k < ws[i].s[st].n; k++)
			if (samples_add(&all, ws[i].s[st].v[k]) != 0)
				abort();
	if (all.n == 0) {
		printf("  %-20s %7d\n", step_names[st], 0);
		return;
	}
	qsort(all.v, all.n, sizeof(*all.v), cmp_double);
	for (k = 0; k < all.n; k++)
		sum += all.v[k];
	printf("  %-20s %7zu %9.2f %9.2f %9.2f %9.2f\n", step_names[st], all.n,
	    sum / (double)all.n, pct(all.v, all.n, 0.5), pct(all.v, all.n, 0.99),
	    all.v[all.n - 1]);
	free(all.v);
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
report(struct bench *b, struct worker *ws, double wall, double cpu)
{
	long done = 0, failed = 0, polls = 0, validations = 0, connects = 0;
	unsigned i;
	size_t k;

	for (i = 0; i < b->clients; i++) {
		done += ws[i].done;
		failed += ws[i].failed;
		polls += ws[i].polls;
		validations += ws[i].validations;
		connects += ws[i].connects;
	}
	printf("clients %u: %ld issuances in %.2f s = %.1f issuances/s; %ld failed\n",
	    b->clients, done, wall, wall > 0 ? (double)done / wall : 0.0, failed);
	printf("  %-20s %7s %9s %9s %9s %9s\n", "latency (ms)", "n", "mean", "p50",
	    "p99", "max");
	for (i = 0; i < N_STEPS; i++)
		report_step(ws, b->clients, (enum step)i);
	printf("  authorization polls per validation %.1f; TLS connections opened %ld; "
	    "http-01 answered %ld, unknown token %ld; badNonce retries %ld\n",
	    validations > 0 ? (double)polls / (double)validations : 0.0, connects,
	    b->resp.served, b->resp.missed, atomic_load(&b->bad_nonce_retries));
	printf("  client CPU (this process) %.2f s during the run = %.2f ms per issuance\n",
	    cpu, done > 0 ? cpu * 1000.0 / (double)done : 0.0);
	if (b->errors.total > 0) {
		printf("  errors: %ld\n", b->errors.total);
		for (k = 0; k < b->errors.n_kinds; k++)
			printf("    %6ld  %s\n", b->errors.kinds[k].n, b->errors.kinds[k].what);
		if (b->errors.other > 0)
			printf("    %6ld  (other kinds)\n", b->errors.other);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_acme [-c CLIENTS] [-n COUNT | -d SECONDS] "
	    "[-p HTTP01_PORT] [-t TAG] [-V] URL ROOT.pem\n");
	exit(2);
}

/* Options into b; the HTTP-01 port into *port. Exits on a bad one. */
static void
parse_args(struct bench *b, int argc, char **argv, long *port)
{
	long v;
	int ch;

	b->clients = 1;
	b->count = 100;
	*port = 5002;
	snprintf(b->tag, sizeof(b->tag), "%ld", (long)getpid());
	while ((ch = getopt(argc, argv, "c:n:d:p:t:V")) != -1) {
		switch (ch) {
		case 'c':
			if (parse_num(optarg, 1, MAX_CLIENTS, &v) != 0)
				usage();
			b->clients = (unsigned)v;
			break;
		case 'n':
			if (parse_num(optarg, 1, MAX_COUNT, &b->count) != 0)
				usage();
			b->seconds = 0;
			break;
		case 'd':
			if (parse_num(optarg, 1, MAX_SECONDS, &b->seconds) != 0)
				usage();
			b->count = 0;
			break;
		case 'p':
			if (parse_num(optarg, 1, 65535, port) != 0)
				usage();
			break;
		case 't':
			if (strlen(optarg) == 0 || strlen(optarg) > 12 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(optarg))
				usage();
			snprintf(b->tag, sizeof(b->tag), "%s", optarg);
			break;
		case 'V':
			b->verify_all = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || parse_url(b, argv[optind]) != 0)
		usage();
	b->root_file = argv[optind + 1];
}

/* Starts the workers, waits for their accounts, runs and joins them;
 * the wall time of the issuing phase in *wall and this process's CPU
 * time over it in *cpu. 0, or -1 when set-up failed. */
static int
run(struct bench *b, struct worker *ws, double *wall, double *cpu)
{
	double t0, c0;
	unsigned i;

	pthread_barrier_init(&b->ready, NULL, b->clients + 1);
	pthread_barrier_init(&b->go, NULL, b->clients + 1);
	for (i = 0; i < b->clients; i++)
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "bench_acme: cannot start thread\n");
			exit(1);
		}
	pthread_barrier_wait(&b->ready);
	b->abort = atomic_load(&b->setup_failed);
	t0 = now_s();
	c0 = cpu_seconds();
	b->deadline = t0 + (double)b->seconds;
	pthread_barrier_wait(&b->go);
	for (i = 0; i < b->clients; i++)
		pthread_join(ws[i].thread, NULL);
	*wall = now_s() - t0;
	*cpu = cpu_seconds() - c0;
	pthread_barrier_destroy(&b->ready);
	pthread_barrier_destroy(&b->go);
	return b->abort ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct worker *ws;
	double wall = 0, cpu = 0;
	long port;
	unsigned i;
	int ret;

	parse_args(&b, argc, argv, &port);
	pthread_mutex_init(&b.errors.mu, NULL);
	if (wolfSSL_Init() != WOLFSSL_SUCCESS ||
	    (b.ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL ||
	    wolfSSL_CTX_load_verify_locations(b.ctx, b.root_file, NULL) != WOLFSSL_SUCCESS) {
		fprintf(stderr, "bench_acme: cannot load the root %s\n", b.root_file);
		return 1;
	}
	wolfSSL_CTX_set_verify(b.ctx, WOLFSSL_VERIFY_PEER, NULL);
	if ((ws = calloc(b.clients, sizeof(*ws))) == NULL)
		return 1;
	for (i = 0; i < b.clients; i++) {
		ws[i].b = &b;
		ws[i].id = i;
		ws[i].conn.fd = -1;
	}
	if (read_directory(&b, &ws[0]) != 0 ||
	    responder_start(&b.resp, b.clients, (unsigned)port) != 0)
		return 1;
	ret = run(&b, ws, &wall, &cpu);
	responder_stop(&b.resp);
	if (ret != 0)
		fprintf(stderr, "bench_acme: account set-up failed; no issuances run\n");
	report(&b, ws, wall, cpu);
	ret = ret != 0 || b.errors.total > 0;
	for (i = 0; i < b.clients; i++)
		for (int s = 0; s < N_STEPS; s++)
			free(ws[i].s[s].v);
	free(ws);
	wolfSSL_CTX_free(b.ctx);
	wolfSSL_Cleanup();
	return ret;
}
