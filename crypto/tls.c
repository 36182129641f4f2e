/*
 * tls.c: TLS for hearth's listeners, as a narrow read/write API in the manner
 * of libtls. The caller owns the transport and the event loop; wolfSSL moves
 * ciphertext only through the caller's recv/send callbacks and reports
 * CRYPTO_TLS_WANT_READ/WRITE instead of blocking. The listener's private key
 * is generated and loaded here and never leaves crypto/.
 */
#include "crypto_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

struct crypto_tls_server {
	WOLFSSL_CTX *ctx;
	time_t not_after;
	uint8_t *cert;              /* the certificate's DER, for operators */
	size_t cert_len;
	atomic_int refs;
};

struct crypto_tls_client {
	WOLFSSL_CTX *ctx;
	char *alpn;
	atomic_int refs;
};

struct crypto_tls {
	struct crypto_tls_server *srv;
	struct crypto_tls_client *cli;
	WOLFSSL *ssl;
	int is_client;
	uint8_t *peer_der;
	size_t peer_len;
	char alpn[64];
	struct crypto_tls_io io;
	char errbuf[96];
};

static int
tls_recv_cb(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct crypto_tls *t = arg;
	int n;

	(void)ssl;
	if (sz <= 0)
		return 0;
	n = t->io.recv(t->io.arg, (uint8_t *)buf, (size_t)sz);
	if (n > 0)
		return n;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

static int
tls_send_cb(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct crypto_tls *t = arg;
	int n;

	(void)ssl;
	if (sz <= 0)
		return 0;
	n = t->io.send(t->io.arg, (const uint8_t *)buf, (size_t)sz);
	if (n > 0)
		return n;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

/* Builds "leaf PEM + intermediate PEM" for the context's chain. */
static char *
tls_chain_pem(struct crypto_signer *s, const uint8_t *leaf, size_t leaf_len)
{
	char *leaf_pem, *out;
	const char *inter = crypto_signer_chain_pem(s);
	size_t a, b;

	if ((leaf_pem = crypto_cert_der_to_pem(leaf, leaf_len)) == NULL)
		return NULL;
	a = strlen(leaf_pem);
	b = strlen(inter);
	if ((out = malloc(a + b + 1)) != NULL) {
		memcpy(out, leaf_pem, a);
		memcpy(out + a, inter, b + 1);
	}
	free(leaf_pem);
	return out;
}

static int
tls_ctx_load(WOLFSSL_CTX *ctx, struct crypto_signer *s, const uint8_t *cert,
    size_t cert_len, const uint8_t *key, size_t key_len)
{
	char *chain;
	int ret = CRYPTO_ERR_INTERNAL;

	if ((chain = tls_chain_pem(s, cert, cert_len)) == NULL)
		return CRYPTO_ERR_NOMEM;
	if (wolfSSL_CTX_use_certificate_chain_buffer(ctx,
	    (const unsigned char *)chain, (long)strlen(chain)) != WOLFSSL_SUCCESS)
		goto out;
	if (wolfSSL_CTX_use_PrivateKey_buffer(ctx, key, (long)key_len,
	    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		goto out;
	if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
		ret = CRYPTO_ERR_MISMATCH;
		goto out;
	}
	ret = CRYPTO_OK;
out:
	free(chain);
	return ret;
}

/* A context for TLS 1.2 and 1.3 moving bytes through the io callbacks. */
static WOLFSSL_CTX *
tls_ctx_new(WOLFSSL_METHOD *method)
{
	WOLFSSL_CTX *ctx;

	if (method == NULL || (ctx = wolfSSL_CTX_new(method)) == NULL)
		return NULL;
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	wolfSSL_CTX_SetIORecv(ctx, tls_recv_cb);
	wolfSSL_CTX_SetIOSend(ctx, tls_send_cb);
	return ctx;
}

/* A connection on ctx whose ciphertext flows through io. */
static struct crypto_tls *
tls_conn_new(WOLFSSL_CTX *ctx, const struct crypto_tls_io *io)
{
	struct crypto_tls *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->io = *io;
	if ((t->ssl = wolfSSL_new(ctx)) == NULL) {
		free(t);
		return NULL;
	}
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	return t;
}

struct crypto_tls_server *
crypto_tls_server_new(struct crypto_signer *s, const struct crypto_name *names,
    size_t n_names, time_t now, long valid_secs, int *err)
{
	struct crypto_tls_server *srv = NULL;
	uint8_t *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int ret;

	if (s == NULL || names == NULL || n_names == 0 || valid_secs <= 0) {
		ret = CRYPTO_ERR_INVALID;
		goto out;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		ret = CRYPTO_ERR_NOMEM;
		goto out;
	}
	atomic_init(&srv->refs, 1);
	srv->not_after = now + valid_secs;
	ret = crypto_signer_issue_tls(s, names, n_names, now - 60,
	    srv->not_after, &cert, &cert_len, &key, &key_len);
	if (ret != CRYPTO_OK)
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	if ((srv->ctx = tls_ctx_new(wolfSSLv23_server_method())) == NULL)
		goto out;
	ret = tls_ctx_load(srv->ctx, s, cert, cert_len, key, key_len);
	srv->cert = cert;           /* kept; the key is not */
	srv->cert_len = cert_len;
	cert = NULL;
out:
	if (key != NULL)
		crypto_zeroize(key, key_len);
	free(key);
	free(cert);
	if (ret != CRYPTO_OK) {
		crypto_tls_server_free(srv);
		srv = NULL;
	}
	if (err != NULL)
		*err = ret;
	return srv;
}

void
crypto_tls_server_free(struct crypto_tls_server *srv)
{
	if (srv == NULL || atomic_fetch_sub(&srv->refs, 1) != 1)
		return;
	if (srv->ctx != NULL)
		wolfSSL_CTX_free(srv->ctx);
	free(srv->cert);
	free(srv);
}

const uint8_t *
crypto_tls_server_cert(const struct crypto_tls_server *srv, size_t *len)
{
	*len = srv->cert_len;
	return srv->cert;
}

time_t
crypto_tls_server_not_after(const struct crypto_tls_server *srv)
{
	return srv->not_after;
}

struct crypto_tls *
crypto_tls_accept(struct crypto_tls_server *srv, const struct crypto_tls_io *io,
    int *err)
{
	struct crypto_tls *t = tls_conn_new(srv->ctx, io);

	if (t != NULL) {
		t->srv = srv;
		atomic_fetch_add(&srv->refs, 1);
	}
	if (err != NULL)
		*err = t != NULL ? CRYPTO_OK : CRYPTO_ERR_INTERNAL;
	return t;
}

/* Maps a wolfSSL result (ret <= 0) to a crypto_tls code, noting the error. */
static int
tls_result(struct crypto_tls *t, int ret)
{
	int e = wolfSSL_get_error(t->ssl, ret);
	char buf[WOLFSSL_MAX_ERROR_SZ];

	switch (e) {
	case WOLFSSL_ERROR_WANT_READ:
		return CRYPTO_TLS_WANT_READ;
	case WOLFSSL_ERROR_WANT_WRITE:
		return CRYPTO_TLS_WANT_WRITE;
	case WOLFSSL_ERROR_ZERO_RETURN:
		return CRYPTO_TLS_CLOSED;
	}
	if (e == SOCKET_PEER_CLOSED_E || e == SOCKET_ERROR_E)
		return CRYPTO_TLS_CLOSED;
	wolfSSL_ERR_error_string_n((unsigned long)e, buf, sizeof(buf));
	snprintf(t->errbuf, sizeof(t->errbuf), "%s (%d)", buf, e);
	/* wolfSSL refuses a certificate with an unknown critical extension
	 * even when told not to verify (tls-alpn-01's acmeIdentifier, RFC 8737
	 * §3), before any verify callback could overrule it. */
	if (t->is_client && e == ASN_CRIT_EXT_E)
		return CRYPTO_TLS_CERT_REFUSED;
	return CRYPTO_ERR_PARSE;
}

int
crypto_tls_handshake(struct crypto_tls *t)
{
	int ret = t->is_client ? wolfSSL_connect(t->ssl) : wolfSSL_accept(t->ssl);

	return ret == WOLFSSL_SUCCESS ? CRYPTO_OK : tls_result(t, ret);
}

struct crypto_tls_client *
crypto_tls_client_new(const char *alpn, int *err)
{
	struct crypto_tls_client *cli;
	int ret = CRYPTO_ERR_NOMEM;

	if ((cli = calloc(1, sizeof(*cli))) == NULL)
		goto out;
	atomic_init(&cli->refs, 1);
	if (alpn != NULL && (strlen(alpn) > 255 || (cli->alpn = strdup(alpn)) == NULL))
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	if ((cli->ctx = tls_ctx_new(wolfSSLv23_client_method())) == NULL)
		goto out;
	/* Validation judges the peer's certificate itself (RFC 8737 §3). */
	wolfSSL_CTX_set_verify(cli->ctx, WOLFSSL_VERIFY_NONE, NULL);
	ret = CRYPTO_OK;
out:
	if (ret != CRYPTO_OK) {
		crypto_tls_client_free(cli);
		cli = NULL;
	}
	if (err != NULL)
		*err = ret;
	return cli;
}

void
crypto_tls_client_free(struct crypto_tls_client *cli)
{
	if (cli == NULL || atomic_fetch_sub(&cli->refs, 1) != 1)
		return;
	if (cli->ctx != NULL)
		wolfSSL_CTX_free(cli->ctx);
	free(cli->alpn);
	free(cli);
}

struct crypto_tls *
crypto_tls_connect(struct crypto_tls_client *cli, const char *server_name,
    const struct crypto_tls_io *io, int *err)
{
	struct crypto_tls *t = tls_conn_new(cli->ctx, io);
	int ret = CRYPTO_ERR_INTERNAL;

	if (t == NULL)
		goto out;
	t->is_client = 1;
	t->cli = cli;
	atomic_fetch_add(&cli->refs, 1);
	if (server_name != NULL && wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME,
	    server_name, (word16)strlen(server_name)) != WOLFSSL_SUCCESS)
		goto out;
	if (cli->alpn != NULL && wolfSSL_UseALPN(t->ssl, cli->alpn,
	    (word32)strlen(cli->alpn), WOLFSSL_ALPN_FAILED_ON_MISMATCH) != WOLFSSL_SUCCESS)
		goto out;
	ret = CRYPTO_OK;
out:
	if (ret != CRYPTO_OK) {
		crypto_tls_free(t);
		t = NULL;
	}
	if (err != NULL)
		*err = ret;
	return t;
}

const uint8_t *
crypto_tls_peer_cert(const struct crypto_tls *t, size_t *len)
{
	struct crypto_tls *mt = (struct crypto_tls *)t;
	WOLFSSL_X509 *x;
#ifdef SESSION_CERTS
	WOLFSSL_X509_CHAIN *chain;
#endif
	const unsigned char *der;
	int n = 0;

	/* Only after a finished handshake: wolfSSL 5.5 leaks when asked after
	 * one that stopped at the certificate. */
	if (mt->peer_der == NULL && mt->ssl != NULL &&
	    wolfSSL_is_init_finished(mt->ssl) &&
	    (x = wolfSSL_get_peer_certificate(mt->ssl)) != NULL) {
		der = wolfSSL_X509_get_der(x, &n);
		if (der != NULL && n > 0 && (mt->peer_der = malloc((size_t)n)) != NULL) {
			memcpy(mt->peer_der, der, (size_t)n);
			mt->peer_len = (size_t)n;
		}
		wolfSSL_X509_free(x);
	}
#ifdef SESSION_CERTS
	/* After CRYPTO_TLS_CERT_REFUSED: the leaf as it arrived (kept by
	 * SESSION_CERTS). */
	if (mt->peer_der == NULL && mt->ssl != NULL && mt->is_client &&
	    (chain = wolfSSL_get_peer_chain(mt->ssl)) != NULL &&
	    wolfSSL_get_chain_count(chain) > 0 &&
	    (der = wolfSSL_get_chain_cert(chain, 0)) != NULL &&
	    (n = wolfSSL_get_chain_length(chain, 0)) > 0 &&
	    (mt->peer_der = malloc((size_t)n)) != NULL) {
		memcpy(mt->peer_der, der, (size_t)n);
		mt->peer_len = (size_t)n;
	}
#endif
	*len = mt->peer_len;
	return mt->peer_der;
}

const char *
crypto_tls_alpn_selected(const struct crypto_tls *t)
{
	struct crypto_tls *mt = (struct crypto_tls *)t;
	char *proto = NULL;
	word16 n = 0;

	if (mt->alpn[0] == '\0' && mt->ssl != NULL &&
	    wolfSSL_ALPN_GetProtocol(mt->ssl, &proto, &n) == WOLFSSL_SUCCESS &&
	    proto != NULL && n > 0 && n < sizeof(mt->alpn)) {
		memcpy(mt->alpn, proto, n);
		mt->alpn[n] = '\0';
	}
	return mt->alpn[0] != '\0' ? mt->alpn : NULL;
}

int
crypto_tls_read(struct crypto_tls *t, void *buf, size_t len)
{
	int ret;

	if (len > INT32_MAX)
		len = INT32_MAX;
	ret = wolfSSL_read(t->ssl, buf, (int)len);
	return ret > 0 ? ret : tls_result(t, ret);
}

int
crypto_tls_write(struct crypto_tls *t, const void *buf, size_t len)
{
	int ret;

	if (len > INT32_MAX)
		len = INT32_MAX;
	ret = wolfSSL_write(t->ssl, buf, (int)len);
	return ret > 0 ? ret : tls_result(t, ret);
}

void
crypto_tls_close(struct crypto_tls *t)
{
	if (t != NULL && t->ssl != NULL)
		(void)wolfSSL_shutdown(t->ssl);
}

const char *
crypto_tls_error(const struct crypto_tls *t)
{
	return t->errbuf[0] != '\0' ? t->errbuf : "no error recorded";
}

const char *
crypto_tls_version(const struct crypto_tls *t)
{
	if (t->ssl == NULL || !wolfSSL_is_init_finished(t->ssl))
		return NULL;
	return wolfSSL_get_version(t->ssl);
}

void
crypto_tls_free(struct crypto_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL)
		wolfSSL_free(t->ssl);
	free(t->peer_der);
	crypto_tls_server_free(t->srv);
	crypto_tls_client_free(t->cli);
	free(t);
}
