/*
 * crypto.h: hearth's only door to wolfSSL.
 *
 * Everything that touches keys, certificates, signatures, randomness or TLS
 * goes through this header; no other folder includes a wolfSSL header (the
 * build checks it). All handles are opaque. Functions that return int give 0
 * (CRYPTO_OK) or a negative CRYPTO_ERR_* code; crypto_strerror() names it.
 * Constructors return NULL on failure and store the code in *err when err is
 * not NULL. Free functions accept NULL. This module never logs.
 *
 * Thread safety: crypto_init() once at start-up; afterwards every function is
 * safe to call from several threads on distinct handles. A crypto_signer may be
 * shared between threads (issuance is serialized inside).
 */
#ifndef HEARTH_CRYPTO_H
#define HEARTH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum {
	CRYPTO_OK = 0,
	CRYPTO_ERR_NOMEM = -1,       /* allocation failed */
	CRYPTO_ERR_INVALID = -2,     /* bad argument from the caller */
	CRYPTO_ERR_PARSE = -3,       /* malformed PEM, DER, JSON or base64 */
	CRYPTO_ERR_UNSUPPORTED = -4, /* key type, curve or algorithm not allowed */
	CRYPTO_ERR_KEY_SIZE = -5,    /* key too small or too large */
	CRYPTO_ERR_SIGNATURE = -6,   /* signature does not verify */
	CRYPTO_ERR_PASSPHRASE = -7,  /* wrong passphrase, or key not decryptable */
	CRYPTO_ERR_IO = -8,          /* reading or writing a file failed (errno kept) */
	CRYPTO_ERR_NAME = -9,        /* a name is malformed or not allowed */
	CRYPTO_ERR_TOO_LARGE = -10,  /* input over its named cap */
	CRYPTO_ERR_EXISTS = -11,     /* refusing to overwrite existing CA files */
	CRYPTO_ERR_MISMATCH = -12,   /* certificate and key do not belong together */
	CRYPTO_ERR_NOT_CA = -13,     /* imported root is not a CA certificate */
	CRYPTO_ERR_INTERNAL = -14,   /* wolfSSL reported an unexpected failure */
	CRYPTO_ERR_FILE_MODE = -15,  /* a key or passphrase file group or others may access */
	CRYPTO_ERR_PRIVILEGE = -16,  /* the signer could not become its user */
	/* TLS I/O results (crypto_tls_*); not errors. */
	CRYPTO_TLS_WANT_READ = -100,
	CRYPTO_TLS_WANT_WRITE = -101,
	CRYPTO_TLS_CLOSED = -102,    /* peer sent close_notify or the stream ended */
	/* Client handshake stopped at a peer certificate wolfSSL cannot accept
	 * even unverified (an unknown critical extension, as tls-alpn-01's
	 * acmeIdentifier); the certificate and the ALPN already negotiated
	 * remain available from crypto_tls_peer_cert/alpn_selected. */
	CRYPTO_TLS_CERT_REFUSED = -103,
};

/* Caps on input sizes; every parser below enforces them. */
#define CRYPTO_MAX_PEM_BYTES   (64 * 1024)
#define CRYPTO_MAX_CSR_BYTES   (16 * 1024)
#define CRYPTO_MAX_JWK_BYTES   (8 * 1024)
#define CRYPTO_MAX_NAMES       100   /* subjectAltName entries per CSR */
#define CRYPTO_MAX_NAME_LEN    253   /* RFC 1035 textual DNS name */
#define CRYPTO_RSA_MIN_BITS    2048
#define CRYPTO_RSA_MAX_BITS    4096
#define CRYPTO_SERIAL_BYTES    16    /* 128-bit random serials */
#define CRYPTO_THUMBPRINT_LEN  43    /* base64url(SHA-256), no padding */

const char *crypto_strerror(int err);

/* Start-up: seeds the shared RNG. 0 or a CRYPTO_ERR_* code. */
int crypto_init(void);
void crypto_cleanup(void);
/* Releases per-thread caches (wolfSSL's EC acceleration tables); every
 * thread other than the main one that used crypto calls it before exiting. */
void crypto_thread_cleanup(void);

/* Fills buf with len bytes from the DRBG. 0 or CRYPTO_ERR_INTERNAL. */
int crypto_random(void *buf, size_t len);

/* Overwrites len bytes at p in a way the compiler cannot elide. */
void crypto_zeroize(void *p, size_t len);

/*
 * Reads a secret file (a private key or a passphrase) whole: a regular
 * file of at most max bytes, read with open/read (never through stdio's
 * buffers) into a malloc'd NUL-terminated buffer, *len bytes, that the
 * caller zeroizes and frees. A file whose mode gives group or others any
 * access is refused unread with CRYPTO_ERR_FILE_MODE, as ssh refuses an
 * unprotected private key. *mode, when mode is not NULL, receives the
 * file's permission bits once it is open (for the caller's message).
 * 0, CRYPTO_ERR_FILE_MODE, CRYPTO_ERR_TOO_LARGE, CRYPTO_ERR_NOMEM or
 * CRYPTO_ERR_IO (errno kept). Nothing read is left in memory on failure.
 */
int crypto_secret_read(const char *path, size_t max, char **out, size_t *len,
    unsigned *mode);

/* ---- encodings and digests ---------------------------------------------- */

/* base64url without padding (RFC 7515 §2). Encoded length of n bytes. */
size_t crypto_b64url_len(size_t n);
/* Encodes in[0..inlen) into out (outsz bytes, NUL-terminated). Returns the
 * encoded length (>= 0) or CRYPTO_ERR_TOO_LARGE when out is too small. */
int crypto_b64url_encode(const void *in, size_t inlen, char *out, size_t outsz);
/* Decodes strictly: no padding, no whitespace, only the url-safe alphabet,
 * no non-zero trailing bits. Writes *outlen. 0, CRYPTO_ERR_PARSE or
 * CRYPTO_ERR_TOO_LARGE (out too small). */
int crypto_b64url_decode(const char *in, size_t inlen, uint8_t *out,
    size_t outsz, size_t *outlen);

int crypto_sha256(const void *in, size_t len, uint8_t out[32]);

enum crypto_hash { CRYPTO_SHA256, CRYPTO_SHA384, CRYPTO_SHA512 };
/* HMAC (RFC 2104) for EAB; out must hold 64 bytes; *outlen set. */
int crypto_hmac(enum crypto_hash hash, const void *key, size_t keylen,
    const void *msg, size_t msglen, uint8_t *out, size_t *outlen);

/* ---- JWK and JWS (RFC 7515, 7517, 7518, 8037, 7638) --------------------- */

enum crypto_jws_alg {
	CRYPTO_JWS_RS256, CRYPTO_JWS_PS256, CRYPTO_JWS_ES256,
	CRYPTO_JWS_ES384, CRYPTO_JWS_ES512, CRYPTO_JWS_EDDSA,
	CRYPTO_JWS_HS256, CRYPTO_JWS_HS384, CRYPTO_JWS_HS512,
};
/* Maps an "alg" name to its value. CRYPTO_ERR_UNSUPPORTED for "none" and
 * anything unknown. HS* names are recognised here (for EAB) but
 * crypto_jws_verify() refuses them: MACs go through crypto_hmac(). */
int crypto_jws_alg_parse(const char *name, enum crypto_jws_alg *out);
const char *crypto_jws_alg_name(enum crypto_jws_alg alg);

struct crypto_jwk;

/* Parses a public JWK from JSON text (at most CRYPTO_MAX_JWK_BYTES). Accepts
 * kty RSA (n, e; CRYPTO_RSA_MIN_BITS..CRYPTO_RSA_MAX_BITS), EC (crv P-256,
 * P-384, P-521; x, y of the curve's exact length; point on the curve) and OKP
 * (crv Ed25519; x of 32 bytes). Members of the wrong JSON type, private-key
 * members ("d"), and unknown kty/crv are refused. Caller frees. */
struct crypto_jwk *crypto_jwk_parse(const char *json, size_t len, int *err);
void crypto_jwk_free(struct crypto_jwk *jwk);

/* RFC 7638 thumbprint: base64url(SHA-256(canonical JSON)), written to out
 * (CRYPTO_THUMBPRINT_LEN + 1 bytes, NUL-terminated). */
int crypto_jwk_thumbprint(const struct crypto_jwk *jwk,
    char out[CRYPTO_THUMBPRINT_LEN + 1]);

/* The canonical JSON of the key's required members (the RFC 7638 input);
 * also how keys are stored. Caller frees with free(). NULL on failure. */
char *crypto_jwk_to_json(const struct crypto_jwk *jwk);

/* Nonzero when alg is one the key can verify (RS256/PS256 for RSA, ES256 for
 * P-256, ES384 for P-384, ES512 for P-521, EdDSA for Ed25519). */
int crypto_jwk_alg_matches(const struct crypto_jwk *jwk, enum crypto_jws_alg alg);

/* Verifies a JWS signature over signing_input ("protected.payload" ASCII)
 * with the key. EC signatures are the fixed-width R||S of RFC 7518 §3.4.
 * 0 when valid; CRYPTO_ERR_SIGNATURE when not; CRYPTO_ERR_UNSUPPORTED when
 * the alg does not fit the key. */
int crypto_jws_verify(const struct crypto_jwk *jwk, enum crypto_jws_alg alg,
    const void *signing_input, size_t inlen, const uint8_t *sig, size_t siglen);

/* ---- CA on disk --------------------------------------------------------- */

enum crypto_key_type {
	CRYPTO_KEY_EC_P256, CRYPTO_KEY_EC_P384, CRYPTO_KEY_RSA_4096,
};
/* "ec-p256" | "ec-p384" | "rsa-4096". 0 or CRYPTO_ERR_UNSUPPORTED. */
int crypto_key_type_parse(const char *s, enum crypto_key_type *out);

/*
 * Files under a CA directory (DIR/ca):
 *   root.crt           the root certificate operators distribute (0644)
 *   root.key           root key, PKCS#8 encrypted with AES-256-CBC (0600)
 *   root.pass          generated root passphrase, only when none was given (0600)
 *   intermediate.crt   the issuing certificate (0644)
 *   intermediate.key   issuing key, PKCS#8, encrypted when a passphrase is given (0600)
 */
struct crypto_ca_params {
	enum crypto_key_type key_type;   /* for newly generated keys */
	const char *ca_name;             /* subject CN base, e.g. "hearth" */
	unsigned root_days;              /* default 3650 */
	unsigned intermediate_days;      /* default 1825 */
	const char *root_passphrase;     /* NULL: generate one into root.pass */
	size_t root_passphrase_len;
	const char *intermediate_passphrase; /* NULL: intermediate.key unencrypted */
	size_t intermediate_passphrase_len;
	time_t now;
};

/* Nonzero when ca_dir holds root.crt and intermediate.crt. */
int crypto_ca_exists(const char *ca_dir);

/* Creates ca_dir (0700) and a new root and intermediate in it. Refuses
 * (CRYPTO_ERR_EXISTS) when CA files are already there. On failure nothing is
 * left behind. *generated_pass is set nonzero when root.pass was written. */
int crypto_ca_create(const char *ca_dir, const struct crypto_ca_params *p,
    int *generated_pass);

/* Imports an existing root (PEM certificate and PEM private key, the key
 * possibly encrypted, e.g. by `openssl genrsa -aes256`) and issues a new
 * intermediate under it. The root key is written to root.key encrypted with
 * p->root_passphrase (the import passphrase when given, else a generated one).
 * key_passphrase decrypts key_path (NULL when it is not encrypted). */
int crypto_ca_import(const char *ca_dir, const char *cert_path,
    const char *key_path, const char *key_passphrase, size_t key_passphrase_len,
    const struct crypto_ca_params *p, int *generated_pass);

/* ---- the signer: holds the intermediate key ----------------------------- */

struct crypto_signer;

/* Loads intermediate.crt/.key (and root.crt for chain checks) from ca_dir.
 * The key is decrypted with passphrase when it is encrypted. Caller frees. */
struct crypto_signer *crypto_signer_open(const char *ca_dir,
    const char *passphrase, size_t passphrase_len, int *err);
void crypto_signer_free(struct crypto_signer *s);

/*
 * The same signer, run in a child process that alone loads and holds the
 * intermediate key: this process keeps only the certificate and forwards
 * each signature over a socket. The child never parses network input (it
 * gets already-checked names and public keys), cannot be ptraced or dump
 * core, and exits with its parent. Call before starting threads. Key
 * loading errors (e.g. a wrong passphrase) are reported here, as by
 * crypto_signer_open(). If the child dies, issuance fails with
 * CRYPTO_ERR_INTERNAL.
 */
struct crypto_signer *crypto_signer_spawn(const char *ca_dir,
    const char *passphrase, size_t passphrase_len, int *err);

/*
 * Start-up configuration for crypto_signer_spawn(), from a process running
 * as root: the signer process loads the key as root, then becomes uid/gid
 * (supplementary groups dropped, real, effective and saved ids all set,
 * checked that root cannot be regained) before it answers anything; a
 * failure there is reported by the spawn as CRYPTO_ERR_PRIVILEGE. Without
 * this call the signer keeps the spawner's user. 0, or CRYPTO_ERR_INVALID
 * for uid or gid 0.
 */
int crypto_signer_set_user(uid_t uid, gid_t gid);

/* The intermediate certificate as PEM (NUL-terminated), owned by the signer. */
const char *crypto_signer_chain_pem(const struct crypto_signer *s);
/* The intermediate's notAfter. */
time_t crypto_signer_not_after(const struct crypto_signer *s);

/* ---- CSRs and leaf certificates ----------------------------------------- */

enum crypto_name_type { CRYPTO_NAME_DNS, CRYPTO_NAME_IP };
struct crypto_name {
	enum crypto_name_type type;
	char value[CRYPTO_MAX_NAME_LEN + 1]; /* DNS lower-cased; IP in inet_ntop form */
};

struct crypto_csr;

/* Parses a DER PKCS#10 request (at most CRYPTO_MAX_CSR_BYTES), verifies its
 * self-signature, and checks the key: RSA 2048..4096, ECDSA P-256/P-384 or
 * Ed25519; others give CRYPTO_ERR_UNSUPPORTED / CRYPTO_ERR_KEY_SIZE. */
struct crypto_csr *crypto_csr_parse_der(const uint8_t *der, size_t len, int *err);
/* The same for a PEM "CERTIFICATE REQUEST". */
struct crypto_csr *crypto_csr_parse_pem(const char *pem, size_t len, int *err);
void crypto_csr_free(struct crypto_csr *csr);

/* The names the CSR asks for: subjectAltName dNSName and iPAddress entries,
 * then the subject CN when it is not among them. Owned by the csr. */
size_t crypto_csr_names(const struct crypto_csr *csr, const struct crypto_name **names);
/* Subject CN or NULL. Owned by the csr. */
const char *crypto_csr_common_name(const struct crypto_csr *csr);
/* RFC 7638 thumbprint of the CSR's public key (to refuse the account key). */
int crypto_csr_key_thumbprint(const struct crypto_csr *csr,
    char out[CRYPTO_THUMBPRINT_LEN + 1]);

struct crypto_leaf_params {
	const struct crypto_name *allowed; /* names the certificate may carry */
	size_t n_allowed;
	time_t not_before, not_after;
};

struct crypto_leaf {
	uint8_t *der;                         /* leaf certificate, DER */
	size_t der_len;
	char serial[2 * CRYPTO_SERIAL_BYTES + 1]; /* lower-case hex */
	time_t not_before, not_after;
};

/* Issues a leaf for csr: every CSR name must be in p->allowed (else
 * CRYPTO_ERR_NAME); subjectAltName carries exactly the CSR's names, subject
 * is CN=<CSR CN, or first DNS name>. 128-bit random serial; KeyUsage
 * digitalSignature (+keyEncipherment for RSA); EKU serverAuth, clientAuth;
 * BasicConstraints CA:FALSE; AKI and SKI. out->der is freed with
 * crypto_leaf_clear(). */
int crypto_signer_issue(struct crypto_signer *s, const struct crypto_csr *csr,
    const struct crypto_leaf_params *p, struct crypto_leaf *out);
void crypto_leaf_clear(struct crypto_leaf *leaf);

/* What revocation needs to know of a certificate a client presents. */
struct crypto_cert_info {
	char serial[2 * 20 + 1];                 /* lower-case hex, no leading 00 */
	char key_thumbprint[CRYPTO_THUMBPRINT_LEN + 1]; /* RFC 7638 of its key */
	time_t not_before, not_after;
};
/* Parses a DER certificate (at most CRYPTO_MAX_PEM_BYTES). 0, or
 * CRYPTO_ERR_PARSE / CRYPTO_ERR_TOO_LARGE / CRYPTO_ERR_UNSUPPORTED (key). */
int crypto_cert_info(const uint8_t *der, size_t len, struct crypto_cert_info *out);

/*
 * Checks a tls-alpn-01 certificate (RFC 8737 §3): self-issued (issuer equal
 * to subject), a subjectAltName of exactly the one identifier (dNSName, or
 * iPAddress for an IP identifier, RFC 8738 §6), and the critical
 * acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding an OCTET STRING
 * equal to digest. 0, or CRYPTO_ERR_MISMATCH / CRYPTO_ERR_PARSE with the
 * reason written to why.
 */
int crypto_acme_tls_cert_check(const uint8_t *der, size_t len,
    const struct crypto_name *name, const uint8_t digest[32], char *why,
    size_t whysz);

/* DER certificate to PEM. Caller frees. NULL on failure. */
char *crypto_cert_der_to_pem(const uint8_t *der, size_t len);

/* ---- TLS (a narrow read/write API in the manner of libtls) --------------- */

/*
 * The caller owns the transport. crypto_tls moves ciphertext through two
 * callbacks: recv copies up to len bytes into buf and returns the count,
 * 0 when nothing is available yet, or -1 at end of stream; send takes up to
 * len bytes and returns the count taken (or -1 on error).
 */
struct crypto_tls_io {
	int (*recv)(void *arg, uint8_t *buf, size_t len);
	int (*send)(void *arg, const uint8_t *buf, size_t len);
	void *arg;
};

struct crypto_tls_server;
struct crypto_tls;

/* A server context whose certificate the signer issues now for names (a new
 * P-256 key that never leaves crypto/), valid from now to now+valid_secs,
 * chained to the intermediate. TLS 1.2 and 1.3 only. Refcounted: connections
 * keep it alive after crypto_tls_server_free(). */
struct crypto_tls_server *crypto_tls_server_new(struct crypto_signer *s,
    const struct crypto_name *names, size_t n_names, time_t now,
    long valid_secs, int *err);
void crypto_tls_server_free(struct crypto_tls_server *srv);
time_t crypto_tls_server_not_after(const struct crypto_tls_server *srv);

/*
 * A client context for validation connections (tls-alpn-01, https redirects
 * of http-01): TLS 1.2/1.3, and NO certificate verification; what the peer
 * presented is judged by the caller from crypto_tls_peer_cert(). alpn, when
 * not NULL, is the only protocol offered (e.g. "acme-tls/1"). Caller frees.
 */
struct crypto_tls_client;
struct crypto_tls_client *crypto_tls_client_new(const char *alpn, int *err);
void crypto_tls_client_free(struct crypto_tls_client *cli);
/* A client connection sending SNI server_name (NULL: none, e.g. for IPs). */
struct crypto_tls *crypto_tls_connect(struct crypto_tls_client *cli,
    const char *server_name, const struct crypto_tls_io *io, int *err);
/* The peer's leaf certificate (DER) after the handshake (or after
 * CRYPTO_TLS_CERT_REFUSED), owned by t; NULL when none. */
const uint8_t *crypto_tls_peer_cert(const struct crypto_tls *t, size_t *len);
/* The ALPN protocol the peer selected, or NULL. Owned by t. */
const char *crypto_tls_alpn_selected(const struct crypto_tls *t);

/* A server-side connection on io. Caller frees. */
struct crypto_tls *crypto_tls_accept(struct crypto_tls_server *srv,
    const struct crypto_tls_io *io, int *err);
/* Drives the handshake (server or client side): 0 when done,
 * CRYPTO_TLS_WANT_READ/WRITE, CRYPTO_TLS_CERT_REFUSED (client), or an
 * error. */
int crypto_tls_handshake(struct crypto_tls *t);
/* Plaintext I/O: byte count, CRYPTO_TLS_WANT_READ/WRITE, CRYPTO_TLS_CLOSED or
 * a CRYPTO_ERR_* code. Handshakes implicitly. */
int crypto_tls_read(struct crypto_tls *t, void *buf, size_t len);
int crypto_tls_write(struct crypto_tls *t, const void *buf, size_t len);
/* Sends close_notify (best effort). */
void crypto_tls_close(struct crypto_tls *t);
/* A description of the last failure, for logs (never for clients). */
const char *crypto_tls_error(const struct crypto_tls *t);
/* Negotiated protocol ("TLSv1.3") or NULL before the handshake. */
const char *crypto_tls_version(const struct crypto_tls *t);
void crypto_tls_free(struct crypto_tls *t);

#endif
