/*
 * test_encode.c: base64url (RFC 4648 §10 vectors, round trips and every
 * input the strict decoder must refuse), SHA-256 and HMAC (RFC 4231).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "crypto.h"

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
static void
hex(const uint8_t *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * len] = '\0';
}

static void
test_len(void)
{
	static const size_t want[] = { 0, 2, 3, 4, 6, 7, 8, 10 };
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_EQ_INT(crypto_b64url_len(i), want[i]);
	CHECK_EQ_INT(crypto_b64url_len(32), 43);
	CHECK_EQ_INT(crypto_b64url_len(SIZE_MAX), SIZE_MAX);
}

/* RFC 4648 §10, without the padding RFC 7515 §2 drops. */
static void
test_rfc4648(void)
{
	static const struct { const char *plain, *enc; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[16];
	uint8_t dec[16];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ_INT(crypto_b64url_encode(v[i].plain, strlen(v[i].plain),
		    enc, sizeof(enc)), strlen(v[i].enc));
		CHECK_EQ_STR(enc, v[i].enc);
		CHECK_EQ_INT(crypto_b64url_decode(v[i].enc, strlen(v[i].enc),
		    dec, sizeof(dec), &n), CRYPTO_OK);
		CHECK_EQ_INT(n, strlen(v[i].plain));
		CHECK(memcmp(dec, v[i].plain, n) == 0);
	}
}

/* The two url-safe characters, and every byte value through a round trip. */
static void
test_round_trip(void)
{
	static const uint8_t fb[] = { 0xfb, 0xff };
	uint8_t in[256], out[256];
	char enc[400];
	size_t len, n;
	int i;

	CHECK_EQ_INT(crypto_b64url_encode(fb, sizeof(fb), enc, sizeof(enc)), 3);
	CHECK_EQ_STR(enc, "-_8");
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)(i * 167 + 13);
	for (len = 0; len <= sizeof(in); len++) {
		int m = crypto_b64url_encode(in, len, enc, sizeof(enc));

		CHECK_EQ_INT(m, crypto_b64url_len(len));
		CHECK(strchr(enc, '=') == NULL);
		CHECK_EQ_INT(crypto_b64url_decode(enc, (size_t)m, out,
		    sizeof(out), &n), CRYPTO_OK);
		CHECK_EQ_INT(n, len);
		CHECK(memcmp(in, out, len) == 0);
	}
}

static void
test_encode_small_buffer(void)
{
	char out[8];

	memset(out, 'x', sizeof(out));
	/* "foobar" needs 8 characters plus the NUL. */
	CHECK_EQ_INT(crypto_b64url_encode("foobar", 6, out, 8),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crypto_b64url_encode("foobar", 6, out, 0),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crypto_b64url_encode("fooba", 5, out, 8), 7);
	CHECK_EQ_STR(out, "Zm9vYmE");
}

static int
decode_str(const char *s, size_t *n)
{
	uint8_t out[64];

	return crypto_b64url_decode(s, strlen(s), out, sizeof(out), n);
}

static void
test_decode_refuses(void)
{
	static const char *bad[] = {
		"Zg==", "Zm8=", "Zg=", "=",		/* padding */
		"Zm9v Yg", " Zm9v", "Zm9v\n", "Zm9v\t", "Zm9\r", /* space */
		"Zm+v", "Zm/v", "+/+/",			/* base64, not url */
		"Zh", "Zm9", "Zm9vYh",			/* trailing bits */
		"Z", "Zm9vY", "Zm9vYmFyZ",		/* length % 4 == 1 */
		"Zm.v", "Zm@v", "Zm[v", "Zm`v", "Zm{v", "Zm:v", "Zm\x7fv",
		"Zm\x80v", "Zm\xffv", "Zm\xc3\xa9v", "Zm%v", "Zm*v",
	};
	static const char nul[] = "Zm\0v";
	uint8_t out[8];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		n = 99;
		ret = decode_str(bad[i], &n);
		CHECK_EQ_INT(ret, CRYPTO_ERR_PARSE);
		CHECK_EQ_INT(n, 0);
		if (ret != CRYPTO_ERR_PARSE)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
	}
	CHECK_EQ_INT(crypto_b64url_decode(nul, 4, out, sizeof(out), &n),
	    CRYPTO_ERR_PARSE);
	/* The zero-trailing-bit forms of the refused ones are fine. */
	CHECK_EQ_INT(decode_str("Zg", &n), CRYPTO_OK);
	CHECK_EQ_INT(decode_str("Zm8", &n), CRYPTO_OK);
	CHECK_EQ_INT(decode_str("", &n), CRYPTO_OK);
	CHECK_EQ_INT(n, 0);
}

static void
test_decode_small_buffer(void)
{
	uint8_t out[6];
	size_t n;

	CHECK_EQ_INT(crypto_b64url_decode("Zm9vYmFy", 8, out, 5, &n),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crypto_b64url_decode("Zm9vYmE", 7, out, 4, &n),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(crypto_b64url_decode("Zm9vYmFy", 8, out, 6, &n),
	    CRYPTO_OK);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(crypto_b64url_decode("", 0, NULL, 0, &n), CRYPTO_OK);
}

static void
test_sha256(void)
{
	uint8_t d[32];
	char h[65];

	CHECK_EQ_INT(crypto_sha256("abc", 3, d), CRYPTO_OK);
	hex(d, sizeof(d), h);
	CHECK_EQ_STR(h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_EQ_INT(crypto_sha256("", 0, d), CRYPTO_OK);
	hex(d, sizeof(d), h);
	CHECK_EQ_STR(h,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

struct hmac_case {
	const uint8_t *key;
	size_t keylen;
	const char *msg;
	size_t msglen;
	const char *sha256, *sha384, *sha512;
};

static void
check_hmac(const struct hmac_case *c)
{
	uint8_t mac[64];
	char h[129];
	size_t n = 0;

	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA256, c->key, c->keylen, c->msg,
	    c->msglen, mac, &n), CRYPTO_OK);
	CHECK_EQ_INT(n, 32);
	hex(mac, n, h);
	CHECK_EQ_STR(h, c->sha256);
	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA384, c->key, c->keylen, c->msg,
	    c->msglen, mac, &n), CRYPTO_OK);
	CHECK_EQ_INT(n, 48);
	hex(mac, n, h);
	CHECK_EQ_STR(h, c->sha384);
	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA512, c->key, c->keylen, c->msg,
	    c->msglen, mac, &n), CRYPTO_OK);
	CHECK_EQ_INT(n, 64);
	hex(mac, n, h);
	CHECK_EQ_STR(h, c->sha512);
}

/* RFC 4231 §4.2, §4.3, §4.4 and §4.7 (test cases 1, 2, 3 and 6). */
static void
test_hmac_rfc4231(void)
{
	uint8_t k1[20], k3[20], k6[131], m3[50];
	static const char m6[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";
	struct hmac_case c;

	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	memset(m3, 0xdd, sizeof(m3));
	memset(k6, 0xaa, sizeof(k6));

	c = (struct hmac_case){ k1, sizeof(k1), "Hi There", 8,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6",
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" };
	check_hmac(&c);

	c = (struct hmac_case){ (const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	    "8e2240ca5e69e2c78b3239ecfab21649",
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" };
	check_hmac(&c);

	c = (struct hmac_case){ k3, sizeof(k3), (const char *)m3, sizeof(m3),
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	    "2a5ab39dc13814b94e3ab6e101a34f27",
	    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" };
	check_hmac(&c);

	c = (struct hmac_case){ k6, sizeof(k6), m6, sizeof(m6) - 1,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	    "0c2ef6ab4030fe8296248df163f44952",
	    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" };
	check_hmac(&c);
}

static void
test_hmac_args(void)
{
	uint8_t mac[64];
	size_t n;

	CHECK_EQ_INT(crypto_hmac((enum crypto_hash)42, "k", 1, "m", 1, mac,
	    &n), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA256, NULL, 4, "m", 1, mac, &n),
	    CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA256, "k", 1, "m", 1, NULL, &n),
	    CRYPTO_ERR_INVALID);
	/* An empty message is a message. */
	CHECK_EQ_INT(crypto_hmac(CRYPTO_SHA256, "k", 1, NULL, 0, mac, &n),
	    CRYPTO_OK);
	CHECK_EQ_INT(n, 32);
}

int
main(void)
{
	if (crypto_init() != CRYPTO_OK) {
		fprintf(stderr, "crypto_init failed\n");
		return 1;
	}
	test_len();
	test_rfc4648();
	test_round_trip();
	test_encode_small_buffer();
	test_decode_refuses();
	test_decode_small_buffer();
	test_sha256();
	test_hmac_rfc4231();
	test_hmac_args();
	crypto_cleanup();
	return CHECK_DONE();
}
