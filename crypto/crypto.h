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
	CRYPTO_ERR_UNAVAILABLE = -15, /* the signer process hung or died; it is
	                                 being restarted: try again shortly */
	CRYPTO_ERR_VALIDITY = -16,   /* validity longer than the profile allows,
	                                backdated, or past the intermediate */
	CRYPTO_ERR_FILE_MODE = -17,  /* a key or passphrase file group or others may access */
	CRYPTO_ERR_PRIVILEGE = -18,  /* the signer could not become its user */
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
#define CRYPTO_POLICY_MAX_RULES 256  /* rules of one name policy */
#define CRYPTO_RSA_MIN_BITS    2048
#define CRYPTO_RSA_MAX_BITS    4096
/* Serials: 16 bytes, the format octet, 48 bits of issuance time, then 72
 * bits from the CSPRNG (crypto/cert.c), so they sort by issuance. */
#define CRYPTO_SERIAL_BYTES    16
#define CRYPTO_SERIAL_FORMAT   0x01
#define CRYPTO_SERIAL_TIME_BYTES 7   /* format octet and 48 bits of time */
#define CRYPTO_THUMBPRINT_LEN  43    /* base64url(SHA-256), no padding */

const char *crypto_strerror(int err);

/* Start-up: seeds the shared RNG. 0 or a CRYPTO_ERR_* code. */
int crypto_init(void);
void crypto_cleanup(void);
/* Releases per-thread caches (wolfSSL's FP_ECC tables, when it has them);
 * every thread other than the main one that used crypto calls it before
 * exiting. */
void crypto_thread_cleanup(void);

/* The wolfSSL in use and its math, e.g. "wolfSSL 5.5.4 (sp-int, SP x86-64
 * asm, intelasm, no FP_ECC)", from wolfSSL's build options, with a note when
 * the library at run time reports another version. A static string; callable
 * from any thread, before crypto_init() too. */
const char *crypto_library_info(void);

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

enum crypto_hash { CRYPTO_SHA256, CRYPTO_SHA384, CRYPTO_SHA512, CRYPTO_SHA1 };
/* HMAC (RFC 2104) for EAB; out must hold 64 bytes; *outlen set. SHA-1
 * (only for OCSP CertIDs) is refused with CRYPTO_ERR_INVALID. */
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
/* A copy of a parsed key, already checked (no JSON, no point check): what a
 * cache hands out. Caller frees; NULL when out of memory. */
struct crypto_jwk *crypto_jwk_dup(const struct crypto_jwk *jwk);

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
	/* NULL: no name constraints. Otherwise its ALLOW_DNS and ALLOW_IP rules
	 * become the intermediate's critical nameConstraints permittedSubtrees
	 * (a DNS suffix covers itself and every name under it); it must hold
	 * no other kind of rule. Borrowed. */
	const struct crypto_policy *permit;
	time_t now;
};

/* Nonzero when ca_dir holds root.crt and intermediate.crt. */
int crypto_ca_exists(const char *ca_dir);

/* The name constraints of ca_dir/intermediate.crt as a policy of allow
 * rules (RFC 5280 §4.2.1.10 permittedSubtrees: DNS suffixes, IP ranges):
 * *out malloc'd (crypto_policy_free), or NULL when the intermediate has no
 * constraints. 0, a file error, CRYPTO_ERR_PARSE or CRYPTO_ERR_UNSUPPORTED
 * (constraints hearth cannot check, such as excludedSubtrees). */
int crypto_ca_constraints(const char *ca_dir, struct crypto_policy **out);

/* Nonzero when name lies inside the constraints c (from
 * crypto_ca_constraints; NULL: none). A name form the constraints have no
 * subtree of is unconstrained (RFC 5280 §4.2.1.10). */
struct crypto_name;
int crypto_ca_name_permitted(const struct crypto_policy *c,
    const struct crypto_name *name);

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

/*
 * Issues a new intermediate under the root of ca_dir and makes it current:
 * the root key (root.key, decrypted with root_passphrase) is loaded for this
 * call only and zeroized; the new key has the type of the current one and
 * the new certificate its subject and name constraints. The current
 * intermediate.crt/.key and root.crt are hard-linked first into
 * ca_dir/retired/<old_id>/ (laid out like ca_dir, so crypto_signer_spawn
 * can open it); then intermediate.key and intermediate.crt are each
 * replaced by rename(2), owned and moded like the files they replace.
 * old_id/new_id receive the issuer ids (crypto_signer_issuer_id) of the
 * retired and the new intermediate. CRYPTO_ERR_EXISTS when the retired
 * directory is already there; CRYPTO_ERR_PASSPHRASE/MISMATCH for a wrong root
 * key or passphrase; CRYPTO_ERR_IO with errno.
 */
struct crypto_ca_rotate_params {
	const char *root_passphrase;
	size_t root_passphrase_len;
	const char *intermediate_passphrase;  /* NULL: the new key is stored clear */
	size_t intermediate_passphrase_len;
	unsigned intermediate_days;           /* 0: 1825; never past the root */
	time_t now;
};
int crypto_ca_rotate(const char *ca_dir, const struct crypto_ca_rotate_params *p,
    char old_id[65], char new_id[65]);

/* The key identifier of the first certificate in pem (its subjectKeyId,
 * else the SHA-1 of its key): for an intermediate, the bytes its issuer id
 * (crypto_signer_issuer_id) spells in hex. *id_len <= 32. 0,
 * CRYPTO_ERR_INVALID or CRYPTO_ERR_PARSE. */
int crypto_cert_key_id_pem(const char *pem, size_t len, uint8_t id[32],
    size_t *id_len);

/* ---- the signer: holds the intermediate key ----------------------------- */

#define CRYPTO_KU_DIGITAL_SIGNATURE 0x80
#define CRYPTO_KU_KEY_ENCIPHERMENT  0x20   /* granted only to RSA keys */
#define CRYPTO_EKU_SERVER_AUTH      0x01
#define CRYPTO_EKU_CLIENT_AUTH      0x02
#define CRYPTO_PROFILE_NAME_MAX     31
#define CRYPTO_MAX_PROFILES         8

/* What a certificate profile grants; the signer keeps its own copy. A name
 * is 1..CRYPTO_PROFILE_NAME_MAX of [a-z0-9-]; lifetime is positive; the
 * key usage has digitalSignature and nothing but the two bits above; the
 * EKU is nonempty and nothing but the two bits above. */
struct crypto_profile {
	char name[CRYPTO_PROFILE_NAME_MAX + 1];
	long lifetime;          /* seconds: the longest validity it signs */
	unsigned key_usage;     /* CRYPTO_KU_* */
	unsigned eku;           /* CRYPTO_EKU_* */
};
/* The built-in defaults: "classic" (90 days, digitalSignature+keyEncipherment(RSA only),
 * serverAuth+clientAuth) and "shortlived" (6 days+ a little, same usages). Fills out[] and returns
 * the count. */
size_t crypto_profile_defaults(struct crypto_profile out[CRYPTO_MAX_PROFILES]);

struct crypto_policy;

/* What the signer is allowed to sign, fixed when it starts. The signer
 * copies profiles, tls_names and pki_url; policy is borrowed and must
 * outlive the signer (a spawned signer's processes use the copy they
 * inherited when crypto_signer_spawn() forked). */
struct crypto_signer_config {
	const struct crypto_policy *policy;   /* NULL: any well-formed name */
	const struct crypto_profile *profiles; /* NULL: crypto_profile_defaults() */
	size_t n_profiles;
	const struct crypto_name *tls_names;  /* names the server's own TLS certificate may carry */
	size_t n_tls_names;
	long max_backdate;    /* seconds a not_before may precede the signer's clock (0: 300) */
	const char *pki_url;  /* "http://host[:port]" where relying parties fetch CRL/issuer/OCSP;
	                         NULL: leaves carry no CDP/AIA */
	int ocsp;             /* nonzero: leaves carry the OCSP URL pki_url "/ocsp" */
};

struct crypto_signer;

/* Loads intermediate.crt/.key (and root.crt for chain checks) from ca_dir.
 * The key is decrypted with passphrase when it is encrypted. cfg NULL: all
 * defaults. A malformed cfg (a bad profile, pki_url or TLS name) gives
 * CRYPTO_ERR_INVALID. Caller frees. */
struct crypto_signer *crypto_signer_open(const char *ca_dir,
    const char *passphrase, size_t passphrase_len,
    const struct crypto_signer_config *cfg, int *err);
void crypto_signer_free(struct crypto_signer *s);

/*
 * The same signer, run in a child process that alone loads and holds the
 * intermediate key: this process keeps only the certificate and forwards
 * each signature over a socket. The child checks every request itself
 * against cfg (key, names, policy, validity, profile), cannot be ptraced or
 * dump core, and exits with its parent. Call before starting threads. Key
 * loading errors (e.g. a wrong passphrase) are reported here, as by
 * crypto_signer_open(). A signer that does not answer within
 * CRYPTO_SIGNER_TIMEOUT seconds, or dies, is killed and restarted by a
 * small launcher process (which keeps the passphrase; see
 * docs/security.md); meanwhile issuance fails with CRYPTO_ERR_UNAVAILABLE.
 */
#define CRYPTO_SIGNER_TIMEOUT 5
struct crypto_signer *crypto_signer_spawn(const char *ca_dir,
    const char *passphrase, size_t passphrase_len,
    const struct crypto_signer_config *cfg, int *err);

/*
 * Replaces the name policy and the profiles the signer enforces (a
 * configuration reload); the other settings stay. A spawned signer's
 * launcher takes them, checked as it checks everything it is sent, and
 * replaces the signer process: a call meanwhile answers
 * CRYPTO_ERR_UNAVAILABLE, as during any restart. policy is borrowed as by
 * crypto_signer_config (the processes keep their own copy); profiles are
 * copied. 0, CRYPTO_ERR_INVALID (a bad profile), CRYPTO_ERR_NOMEM or
 * CRYPTO_ERR_UNAVAILABLE (the launcher did not answer; nothing changed).
 */
int crypto_signer_reconfigure(struct crypto_signer *s,
    const struct crypto_policy *policy, const struct crypto_profile *profiles,
    size_t n_profiles);

/*
 * After `hearth ca rotate-intermediate`: whether the CA directory cur was
 * spawned from now holds another intermediate, and if so a handle for it.
 * cur's launcher (which keeps the privileges it started with, so it may
 * read the CA directory after the caller dropped its own) reads
 * intermediate.crt; when its key id is cur's, the answer is 0 with *next
 * NULL. Otherwise the launcher forks a launcher for the new intermediate,
 * whose signer process loads the key (with the passphrase and settings
 * cur's launcher holds); *next is returned only once that process has
 * answered with the certificate found (issued by cur's issuer) and a ping.
 * cur is unchanged either way, and keeps serving its own intermediate
 * (a signer restarted later loads it from DIR/ca/retired/<issuer id>/).
 * new_id receives the issuer id of the certificate found ("" when none
 * could be read). 0; the key status (CRYPTO_ERR_PASSPHRASE, _PARSE,
 * _MISMATCH, _FILE_MODE, _IO, ...); CRYPTO_ERR_UNAVAILABLE (no answer
 * within CRYPTO_SIGNER_TIMEOUT); CRYPTO_ERR_UNSUPPORTED for a signer
 * opened in this process. *next belongs to the caller, who keeps cur open
 * as long as *next may be used (*next's launcher is a child of cur's).
 */
int crypto_signer_successor(struct crypto_signer *cur,
    struct crypto_signer **next, char new_id[65]);

/* The issuer id used in URLs: lower-case hex of the intermediate's subject
 * key identifier. 0 or CRYPTO_ERR_INVALID. */
int crypto_signer_issuer_id(const struct crypto_signer *s, char out[65]);
/* The URLs leaves carry (so the server can serve exactly these paths):
 *   CRL:         pki_url "/crl/" issuer_id ".crl"
 *   caIssuers:   pki_url "/ca/" issuer_id ".crt"   (DER)
 *   OCSP:        pki_url "/ocsp" */
/* Whether url is a pki_url the signer accepts: "http://" then a host name
 * (letters, digits, '.', '-') or "[IPv6]", an optional ":port", nothing
 * after, at most 200 bytes. 0 or CRYPTO_ERR_INVALID. */
int crypto_pki_url_check(const char *url);

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

/* Asks the signer to answer an empty operation, as any other call (within
 * CRYPTO_SIGNER_TIMEOUT; a hung signer is replaced). CRYPTO_OK when it
 * answered, else CRYPTO_ERR_UNAVAILABLE (or another CRYPTO_ERR_*). */
int crypto_signer_ping(struct crypto_signer *s);

/* Round trips of every signer operation (signatures, CRLs, OCSP, pings),
 * timed in this process on the monotonic clock from the call to its
 * answer, lock wait included. Bucket i counts calls that took at most
 * CRYPTO_SIGNER_RTT_BOUNDS_US[i] microseconds and more than the bound
 * before it; the last bucket counts the rest. */
#define CRYPTO_SIGNER_RTT_BUCKETS 10
#define CRYPTO_SIGNER_RTT_BOUNDS_US { 250, 1000, 2500, 10000, 25000, 100000, \
	250000, 1000000, 5000000 }
struct crypto_signer_stats {
	uint64_t calls;             /* answered or not */
	uint64_t failures;          /* calls that ended in an error */
	uint64_t sum_us;            /* total microseconds of all calls */
	uint64_t buckets[CRYPTO_SIGNER_RTT_BUCKETS];
};
void crypto_signer_stats(const struct crypto_signer *s,
    struct crypto_signer_stats *out);

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
	const char *profile; /* NULL: the first profile */
};

struct crypto_leaf {
	uint8_t *der;                         /* leaf certificate, DER */
	size_t der_len;
	char serial[2 * CRYPTO_SERIAL_BYTES + 1]; /* lower-case hex */
	time_t not_before, not_after;
};

/* Issues a leaf for csr: every CSR name must be in p->allowed (else
 * CRYPTO_ERR_NAME); subjectAltName carries exactly the CSR's names, subject
 * is CN=<CSR CN when it is one of the names, else the first DNS name>.
 * The signer checks the request again (key, names, policy, validity within
 * the profile; CRYPTO_ERR_PARSE/UNSUPPORTED/KEY_SIZE, CRYPTO_ERR_NAME,
 * CRYPTO_ERR_VALIDITY) and takes KeyUsage and EKU from the profile
 * (keyEncipherment only for RSA keys); an unknown profile is
 * CRYPTO_ERR_INVALID. A 16-byte serial that begins with the issuance time
 * and ends with 72 random bits; BasicConstraints CA:FALSE; AKI
 * and SKI; CRL Distribution Points and Authority Information Access when
 * the signer has a pki_url. CRYPTO_ERR_UNAVAILABLE while the signer process
 * is being restarted. out->der is freed with crypto_leaf_clear(). */
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

/* The ARI certificate identifier (RFC 9773 §4.1) of a DER certificate:
 * base64url(AuthorityKeyIdentifier keyIdentifier) "." base64url(serial
 * number DER contents, with any leading 0x00), no padding, written to out
 * (CRYPTO_ARI_ID_MAX bytes suffice). 0, CRYPTO_ERR_PARSE (no AKI key
 * identifier, or malformed) or CRYPTO_ERR_TOO_LARGE. */
#define CRYPTO_ARI_ID_MAX 128
int crypto_cert_ari_id(const uint8_t *der, size_t len, char *out, size_t outsz);

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
/* The first PEM "CERTIFICATE" of pem (at most CRYPTO_MAX_PEM_BYTES) as DER;
 * *der is malloc'd, the caller frees. 0, CRYPTO_ERR_PARSE or
 * CRYPTO_ERR_TOO_LARGE. */
int crypto_cert_pem_to_der(const char *pem, size_t len, uint8_t **der,
    size_t *derlen);

/* ---- names and name policy (name.c, policy.c) ---- */

/* The one DNS-name check: lower-cases into out; RFC 1035 syntax (LDH labels,
 * 1..63 bytes, total <= 253; a trailing dot is refused, not stripped), a
 * leading "*." label only when allow_wildcard (and then over at least two
 * labels), every "xn--" label a valid IDNA2008 A-label (RFC 5891 §5.4,
 * libidn2) whose U-label has only permitted code points; "??--" labels
 * other than "xn--" and an all-numeric last label refused. 0 or
 * CRYPTO_ERR_NAME with a short static reason in *why (may be NULL); out is
 * "" on failure. */
int crypto_dns_name_check(const char *in, size_t len, int allow_wildcard,
    char out[CRYPTO_MAX_NAME_LEN + 1], const char **why);

enum crypto_policy_rule { CRYPTO_POLICY_ALLOW_DNS, CRYPTO_POLICY_DENY_DNS,
    CRYPTO_POLICY_ALLOW_IP, CRYPTO_POLICY_DENY_IP };
/* Which names and addresses certificates may carry. Built once, then
 * read-only: shared by threads without locks, and valid in a process
 * forked after it was built. */
struct crypto_policy;
/* An empty policy (it allows nothing); caller frees. NULL on allocation
 * failure. */
struct crypto_policy *crypto_policy_new(void);
void crypto_policy_free(struct crypto_policy *p);
/* A copy of p (one allocation, like the original). NULL when out of
 * memory. Caller frees with crypto_policy_free. */
struct crypto_policy *crypto_policy_dup(const struct crypto_policy *p);
/* How many rules p has, and rule i (< that count) as crypto_policy_add
 * takes it: its kind and its text (suffix or "addr/prefix"), valid while p
 * lives. 0, or CRYPTO_ERR_INVALID when i is out of range. */
size_t crypto_policy_count(const struct crypto_policy *p);
int crypto_policy_rule(const struct crypto_policy *p, size_t i,
    enum crypto_policy_rule *kind, const char **text);
/* Adds a rule: a DNS suffix ("corp.example.com" matches itself and names
 * under it, label-wise; a leading "." is ignored) or an IP range in CIDR
 * ("10.0.0.0/8", "fd00::/8"; a bare address is a /32 or /128; host bits
 * must be zero). A rule already present is not added twice.
 * 0, CRYPTO_ERR_INVALID (malformed value) or CRYPTO_ERR_TOO_LARGE (more than
 * CRYPTO_POLICY_MAX_RULES). */
int crypto_policy_add(struct crypto_policy *p, enum crypto_policy_rule rule,
    const char *value);
/* When p has no ALLOW_DNS rule, adds the default internal DNS suffixes
 * (internal, home.arpa, local, test, localhost, lan, corp, home, intranet,
 * private, localdomain); when it has no ALLOW_IP rule, the default ranges
 * (10/8, 172.16/12, 192.168/16, 127/8, fc00::/7, ::1). An operator's allow
 * rule of a kind thus replaces that kind's defaults. Called once after the
 * operator's rules. 0 or a CRYPTO_ERR_* code. */
int crypto_policy_add_defaults(struct crypto_policy *p);
/* For each kind (DNS, IP) that p has no allow rule of yet, copies c's
 * allow rules of that kind into p (c NULL: nothing): the intermediate's
 * name constraints as the default policy. Call before
 * crypto_policy_add_defaults(). 0 or a CRYPTO_ERR_* code. */
int crypto_policy_add_constraints(struct crypto_policy *p,
    const struct crypto_policy *c);
/* Decides one already-checked name (a DNS value may start with "*."): deny
 * rules win over allow rules (a wildcard is denied also when it covers a
 * denied suffix one label below its base); a name no allow rule covers is
 * refused (a wildcard is allowed when its base name is). 0 when allowed;
 * CRYPTO_ERR_NAME when refused, with why (whysz bytes) naming the rule, e.g.
 * `"github.com" is not under an allowed DNS suffix (allowed: internal,
 * home.arpa, ...; add one with --allow-dns)` or `"db.corp.internal" is under
 * the denied DNS suffix "db.corp.internal"`; CRYPTO_ERR_INVALID for NULLs. */
int crypto_policy_check(const struct crypto_policy *p,
    const struct crypto_name *name, char *why, size_t whysz);
/* One line describing the policy for logs ("DNS: internal, home.arpa, ...;
 * IP: 10.0.0.0/8, ..."), denied rules in parentheses. 0, or
 * CRYPTO_ERR_TOO_LARGE when out was too small (it then ends in "..."). */
int crypto_policy_describe(const struct crypto_policy *p, char *out,
    size_t outsz);
/* ---- revocation: CRL (RFC 5280 §5) and OCSP (RFC 6960) ------------------ */

#define CRYPTO_MAX_SERIAL 20          /* bytes, RFC 5280 §4.1.2.2 */
#define CRYPTO_CRL_MAX_ENTRIES 1000000
struct crypto_revoked {
	uint8_t serial[CRYPTO_MAX_SERIAL]; /* big-endian, no leading zero bytes */
	size_t serial_len;
	time_t revoked_at;
	int reason;                        /* CRLReason 0..10 except 7; 0 is written as no reasonCode */
};
/* Serial text (hex, any case, optional colons, as openssl prints it) to bytes without leading
 * zeros, and back to lower-case hex. 0 or CRYPTO_ERR_PARSE. */
int crypto_serial_parse(const char *hex, uint8_t out[CRYPTO_MAX_SERIAL], size_t *len);
void crypto_serial_hex(const uint8_t *serial, size_t len, char out[2 * CRYPTO_MAX_SERIAL + 1]);
struct crypto_crl_params {
	uint64_t number;                   /* cRLNumber, caller keeps it growing */
	time_t this_update, next_update;
	const struct crypto_revoked *entries;
	size_t n_entries;
};
/* A full CRL of the signer's intermediate (v2, AKI, cRLNumber), signed in the signer process.
 * *der malloc'd, the caller frees. CRYPTO_ERR_TOO_LARGE over CRYPTO_CRL_MAX_ENTRIES.
 * The signer refuses (CRYPTO_ERR_INVALID) a serial of 0 or over CRYPTO_MAX_SERIAL bytes or
 * with a leading zero byte, a reason outside 0..10, 7 or 8 (removeFromCRL belongs to delta
 * CRLs, §5.3.1), a revocation after this_update, and this_update not before next_update or
 * next_update more than CRYPTO_REVOCATION_MAX_PERIOD after it. */
int crypto_signer_crl(struct crypto_signer *s, const struct crypto_crl_params *p,
    uint8_t **der, size_t *len);
/* The longest this_update..next_update span the signer signs (CRLs and OCSP). */
#define CRYPTO_REVOCATION_MAX_PERIOD (366L * 86400)

#define CRYPTO_OCSP_MAX_REQUEST 4096    /* bytes of a DER OCSPRequest */
#define CRYPTO_OCSP_MAX_NONCE   128
struct crypto_ocsp_request {
	int hash;                          /* CRYPTO_SHA1, CRYPTO_SHA256, CRYPTO_SHA384, CRYPTO_SHA512 */
	uint8_t issuer_name_hash[64], issuer_key_hash[64];
	size_t hash_len;
	uint8_t serial[CRYPTO_MAX_SERIAL];
	size_t serial_len;
	uint8_t nonce[CRYPTO_OCSP_MAX_NONCE]; /* the id-pkix-ocsp-nonce extension value */
	size_t nonce_len;
	int has_nonce;
};
/* Parses a DER OCSPRequest with exactly one Request (RFC 6960 §4.1.1; signed requests are
 * accepted but their signature is ignored). 0, CRYPTO_ERR_PARSE (malformed -> malformedRequest),
 * CRYPTO_ERR_UNSUPPORTED (several requests, unknown hash algorithm), CRYPTO_ERR_TOO_LARGE.
 * The nonce is the extnValue's contents as sent (1..CRYPTO_OCSP_MAX_NONCE bytes, else
 * CRYPTO_ERR_PARSE); a serial that is not positive or over CRYPTO_MAX_SERIAL bytes is
 * CRYPTO_ERR_PARSE. */
int crypto_ocsp_request_parse(const uint8_t *der, size_t len, struct crypto_ocsp_request *out);
/* Nonzero when the request's CertID names this signer's intermediate as the issuer. */
int crypto_signer_ocsp_issuer_matches(const struct crypto_signer *s,
    const struct crypto_ocsp_request *r);
enum crypto_ocsp_status { CRYPTO_OCSP_GOOD, CRYPTO_OCSP_REVOKED, CRYPTO_OCSP_UNKNOWN };
struct crypto_ocsp_answer {
	enum crypto_ocsp_status status;
	time_t revoked_at;                 /* REVOKED */
	int reason;                        /* REVOKED; 0: no revocationReason */
	time_t this_update, next_update;
	time_t produced_at;
};
/* A successful OCSPResponse (BasicOCSPResponse, responderID byKey, the CertID echoed, the nonce
 * echoed when the request had one, the intermediate as signer with no certs needed), signed in
 * the signer process. *der malloc'd. The signer refuses a CertID that does not name its
 * intermediate (CRYPTO_ERR_MISMATCH), malformed CertID fields, a bad status or reason, or times
 * out of order (CRYPTO_ERR_INVALID; the same rules as crypto_signer_crl). */
int crypto_signer_ocsp(struct crypto_signer *s, const struct crypto_ocsp_request *r,
    const struct crypto_ocsp_answer *a, uint8_t **der, size_t *len);
/* An unsigned OCSPResponse with only a responseStatus: 1 malformedRequest, 2 internalError,
 * 3 tryLater, 5 sigRequired, 6 unauthorized (else CRYPTO_ERR_INVALID). *der malloc'd. */
int crypto_ocsp_error(int response_status, uint8_t **der, size_t *len);

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
/* The server certificate's DER (not its key), owned by srv; *len its size. */
const uint8_t *crypto_tls_server_cert(const struct crypto_tls_server *srv,
    size_t *len);

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
