/*
 * test_jws.c: JWK parsing, RFC 7638 thumbprints and JWS verification.
 *
 * Known-answer vectors: RFC 7515 Appendix A.2 (RS256), A.3 (ES256) and A.4
 * (ES512 on P-521); RFC 8037 A.3 (Ed25519 thumbprint) and A.4/A.5 (EdDSA
 * signature); RFC 7638 §3.1 (RSA thumbprint). Every vector also has to fail
 * once a byte of the signature or the signing input changes. Then every
 * input the parsers must refuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto.h"

/* ---- RFC vectors ------------------------------------------------------- */

/* RFC 7515 A.2.1: the RSA key (public members) and the RS256 JWS. */
static const char a2_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9"
    "k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-p"
    "CgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSX"
    "ndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZ"
    "lxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2"
    "ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\",\"e\":\"AQAB\"}";
static const char a2_input[] =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char a2_sig[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 A.3.1: the P-256 key and the ES256 JWS. */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
static const char a3_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}";
static const char a3_canonical[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}";
static const char a3_input[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char a3_sig[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7515 A.4.1: the P-521 key and the ES512 JWS over "Payload". */
#define A4_X "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_" \
	"NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk"
#define A4_Y "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDl" \
	"y79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"
static const char a4_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"" A4_X "\",\"y\":\"" A4_Y "\"}";
static const char a4_input[] = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA";
static const char a4_sig[] =
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZq"
    "wqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8Kp"
    "EHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/* RFC 8037 A.2 (public key), A.3 (its thumbprint), A.4 (the JWS). */
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
static const char ed_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}";
static const char ed_thumbprint[] =
    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char ed_input[] =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ed_sig[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
    "hVsPt9g7sVvpAr_MuM0KAg";

/* RFC 7638 §3.1: the example key, as printed there (with "alg", "kid" and
 * whitespace), and its thumbprint. */
static const char rfc7638_jwk[] =
    "{\n"
    "  \"kty\": \"RSA\",\n"
    "  \"n\": \"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAt"
    "VT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W"
    "-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
    "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-cs"
    "FCur-kEgU8awapJzKnqDKgw\",\n"
    "  \"e\": \"AQAB\",\n"
    "  \"alg\": \"RS256\",\n"
    "  \"kid\": \"2011-04-29\"\n"
    "}";
static const char rfc7638_thumbprint[] =
    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/*
 * ---- fixtures made once with the openssl CLI (3.0) ------------------------
 * PS256 and ES384 have no RFC vectors. Keys came from `openssl genpkey
 * -algorithm RSA -pkeyopt rsa_keygen_bits:2048|1024|4096` and `openssl
 * ecparam -name secp384r1 -genkey`; signatures from `openssl dgst -sha256
 * -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt
 * rsa_mgf1_md:sha256 -sign` (ps256_sig; saltlen 222, the maximum, for
 * ps256_sig_maxsalt; plain PKCS#1 v1.5 for ps256_sig_pkcs1), `openssl dgst
 * -sha384 -sign` (es384_sig, DER converted to R||S of 48 + 48 bytes; with
 * -sha256 for es384_sig_sha256) and `openssl dgst -sha256 -sign` with the
 * 4096-bit key (rs4096_sig). The private keys were not kept.
 */
static const char ps256_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"nVT3BExYNfy8hKhZ9mTIvgWpX2NExs0bbnlbGoFu5RpPtg"
    "PmhnIyKpeYXfkyHJtkDFYZabuWfJ6trDO9TFEqcN3yLYE8zYUOKO29WvhuXNns3R"
    "4UHVgtV2oM9O9GLUcPLyBbMyCzSuQ1javTUJELzQBxt0nsP5wt29NAguQHeQcNt8"
    "j9bTuyzAg9KWWio3uQcRNE6AYhmbNIfBkNpRpH8cSL7maPKSFNxJcb_92t3gkF4e"
    "yXt91B2PmQNl_rjAxkViybpb3Hm_EKtqAozmlqDiNyhGdnq1rFUKPw9wr6E23Hkz"
    "4VjTjQXg10fqmlCl0dV0U_y5SclKpy2wuTW_BLTQ\",\"e\":\"AQAB\"}";
static const char ps256_input[] =
    "eyJhbGciOiJQUzI1NiIsInVybCI6Imh0dHBzOi8vaGVhcnRoLnRlc3QvYWNtZS9u"
    "ZXctYWNjb3VudCJ9.eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6dHJ1ZX0";
static const char ps256_sig[] =
    "hXmPAFMnxsf_ZwrpPrgSJAkArfkbHzQH7ISsOhuJ-POdX5ZHZfmHh1x29yBzWdR8"
    "ZT5QfSURCCm2KCI25N0q4n_YWdgr9RZdjIAlYZ4UIGCjTm3tOBFRdfr6p5quXAfX"
    "S83s6PUYfJPQTgHIQjmEenXehQ1sTT8RXm58AhDypB0tUbaq4VaS7OXbKgqpFyZL"
    "1XfCLdrc0eoofnyNwxEh_UmjNj4FtFEBt2PmIVdt5wIfNGkMmGZF7EIMfL170iaa"
    "AFoGuiNi7-6868egjNN2Aqqzq7zWMO7YjFjKwAAH62gbCf0-uhpMJpWM8FB12kN4"
    "wK_t79_8DDAD5ZtL_Erpow";
static const char ps256_sig_maxsalt[] =
    "QFonhOX_DwTll9MJKuJaUU3X-d4YOAOgH70VqCclZQ3LN2qqQuQ2Vk62lEhxoP5y"
    "vYut-ARBRkkCBRqFK9AVJvIU_DWuH1_RH4PCZClMIyz4HwS0VC-NIwBoN9rPBug-"
    "Z7q3w4mdoXZVC5hQPiiWKMZXjc55ABfdwxsmZGqzHHlNgQ_Rf3KgShm7J1gCAeSq"
    "zbcoWbVe11-qO4oRB9etp96smRlM7T5KuVcfBopT8l9wJQMag1lGBCaT-xa_4lOg"
    "WUKR4goG-VUbrlU6Ilop5E9QNEV_6NogyxUYdb4SrlF9dvmKWpu9DFr1OhIUipD4"
    "Sbbrd5pbXYxT4_jAURuzJA";
static const char ps256_sig_pkcs1[] =
    "I-YKIYBolSR-eAS2mzcssycbF3SR0627aw-QpMYzoUInlEFzWoWBhGpof_1sEJZv"
    "aGo_Ut2n6BYpZx_vFGw297wdRzOM1V9S86kr_36wbPv7A4nSeNDkz8Evscw3BFwr"
    "602kzv7cbpGV55oXWgpRW1Xly_Ykf4lFhTC8d_Q2_z0Ki5FHFOWo6TPoP308xHWG"
    "r2Ljq5NHa-wAF_tDoYG-qbC9WVy_PEI5iWnklXvCYZqUZ1x6miHPUaJtC_WZjSQB"
    "X2iDLmckm4m0XAbwsekOSgCoNE_uF6S9vx24aYDPRj24-HhNrKaKK9X1yF3EGEKG"
    "BZdGiiezyf1uDj_A6JhvHg";
static const char es384_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"0hTjYb9wS495d8izXDSg_pCOaZ-qiO5"
    "MSlCA9MztqZxz71urVBiZP0a2w3_bjdmH\",\"y\":\"iTNpW7eH5kFiG9rG0lH4zVIhDh"
    "JfYA_ZROPiqdBjBgTkGQd2X3IF9D5CMXt229DK\"}";
static const char es384_input[] =
    "eyJhbGciOiJFUzM4NCIsInVybCI6Imh0dHBzOi8vaGVhcnRoLnRlc3QvYWNtZS9u"
    "ZXctb3JkZXIifQ.eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6dHJ1ZX0";
static const char es384_sig[] =
    "nUJKZB5LtavUk7XLEW-aj5Kfq5USR7fuPFIRhk7VY2E85YUdbCNCRLl8nv_QIUJb"
    "RdVqruvqtjeaGVCTCfM0peKmHs6JoZMZmghe8AvnDAKKuIDTQY5WMlem1D84wwYd";
static const char es384_sig_sha256[] =
    "yQEyFJkC7qD4Jqjh-_JlMDEDfq7zCDhs4WxT60EZFoQkkAJdl_S5FAxs46lj3mPT"
    "mbFsa_Hn-1pPkBGc71I4dSmb2rOow8EeQEi6Ls0u5_AVsXtdORfDim3UtXnKrMWo";
static const char rsa1024_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"qBc6lxNJLG_tdBB92dw5B_2XO7H-dV-7LkRtpz0lIlp59z"
    "jnDIOoyHjYGJ63UJJBo2YvUSWzlEprvW3UedFBQ8ZsKj8b-dKSF6uU5BlkJB-jzN"
    "mY30_k2Vja_Sf2r2r4WK-tYf1XYZoxT4TDwvKCtjuqiomBfb8ies6dxDZJuxc\",\""
    "e\":\"AQAB\"}";
static const char rs4096_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"tLnfWcK4wdzFeN_e_sbePqLDvfnRFnTN_cFsUoVOMXRo4E"
    "q2CMLinvIf0ErDsRftvNPSENscKXUlhe8Z5oGSN1lIMSVyMRu1ReuDyTsP7-yDbM"
    "_99DeI0piUAHSHt8H3gwC4lTsrbl1U0o-SdAGD0iUk3m2SXnugTgOULxhOQaGBt6"
    "oKXh4YB2EtAKhJiZQRxNCV99iJLfwwUhRwfM5tkQKgJk-IWQ90aBr1LHakPDzMlv"
    "B2Nb-dhS1xcNFHdCs9F5RPKdC9X7iSwDDXrfzc1HwJNkT2zrG_JuYdadOaDZhqCG"
    "YRJ7ApGb9d8vUEsn99FUbIX5zcCqkA7sCioc0B6W68cL2xPvTMiTz5wIqRr8jTz2"
    "RHS0sXDKmP0UzZ1uUwXNYH8WkCoQ_5dU1P6He1hOUv5XdRMY8ZN2pEtqmAMZHFUU"
    "_nRUCKT89jhMDrfx0LroJQ9Lj6dvK-HmQiaOaHmToZRn9RPheRHGQOdCwNuotdu4"
    "Tt_jttCcGdjehiH_9lTbC8jGOlXoAK4DnTa2ki1YRDTl0kLAVRxrYGFpL_4fPBba"
    "_75sgMla546GL5Rh2OUhU3T03_pBx3ES4Q0J2oKyJbhxI1u8zDx64vOQrN1I0J2r"
    "tg1ms6tKgVy81k4Br9fAN9jO5KFt33DhmukgYmvtVavG12oldmGnTFZtU1jbE\",\""
    "e\":\"AQAB\"}";
static const char rs4096_input[] =
    "eyJhbGciOiJSUzI1NiIsInVybCI6Imh0dHBzOi8vaGVhcnRoLnRlc3QvYWNtZS9u"
    "ZXctYWNjb3VudCJ9.eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6dHJ1ZX0";
static const char rs4096_sig[] =
    "Rd7v8pxPuSq-pTnG4_CwD8SkYCZZC3ejo47qEX-xuqCsGn36-RQicSEy8ciDBGpI"
    "QyOyc0fbGD1xPWojhFETgG-PwFvYtU-lw9sccwhZCc5y9yYVMm5_hHflBrYHNOo3"
    "3snSS_TYwXt-TheO3_4j5HSDXrYMkDB79Kvge8jc29efBB6Drkoxl_C6XIATTJ96"
    "lOjUR0o6rgW47GJY1JztJf7X1VDVxXMw99YohPGmZrlJpStJoeiJKp7zeqnsJms_"
    "v-LkM8vNxixdhDgB0YaTxlsIS7Y39U_7N1e-5XBc_F3_GTLT00T-mUkhk5DWo4-S"
    "SRuLW4PpVRpUe296vu-fT3o2voFE3eR2oBMXqYhr3e1Ark_EIgfNrViLEYxNqbQg"
    "Rjcb6ZGUqhs9Ul1O80luXp2Go-7zk6ewYPI4-jlc8h3Z0xbcEpUWUkfsuHslJioB"
    "Kv4gbyxDQsD1cI5b8a6hFaThC6Qp2aaXzCdeE5Qs7MJPhK0l1q3YvepR_bmf1_ZJ"
    "LpULKemyLuyJs5o1yyZEooYT0GSQ1TKog0Hh0D2RlOo8SHePc8e66GWZVGOkvtVq"
    "SE8lKWrYgzVxURVGmsabwFnjRv_imVg7oyn4x3DRDO_mdiNYJSryDwFF4kAuGo9n"
    "TmVQL4hirk5lxQXNaTUinNPVXin52fV8W9rEyNBf5io";


/* ---- helpers ----------------------------------------------------------- */

static struct crypto_jwk *
parse(const char *json, int *err)
{
	return crypto_jwk_parse(json, strlen(json), err);
}

/* The code crypto_jwk_parse() gives for len bytes of json (0: accepted). */
static int
parse_err_len(const char *json, size_t len)
{
	struct crypto_jwk *k;
	int err = 12345;

	k = crypto_jwk_parse(json, len, &err);
	if ((k == NULL) != (err != CRYPTO_OK))
		err = 54321;	/* the result and *err disagree */
	crypto_jwk_free(k);
	return err;
}

static int
parse_err(const char *json)
{
	return parse_err_len(json, strlen(json));
}

#define CHECK_PARSE(json, want) do { \
	const char *check_j_ = (json); \
	int check_e_ = parse_err(check_j_); \
	CHECK_EQ_INT(check_e_, (want)); \
	if (check_e_ != (want)) \
		fprintf(stderr, "  for %.200s\n", check_j_); \
} while (0)

static int
verify_b64(const struct crypto_jwk *k, enum crypto_jws_alg alg,
    const char *input, const char *sig_b64)
{
	uint8_t sig[600];
	size_t n;

	if (crypto_b64url_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig),
	    &n) != CRYPTO_OK)
		return 99;
	return crypto_jws_verify(k, alg, input, strlen(input), sig, n);
}

static int
verify_bytes(const struct crypto_jwk *k, enum crypto_jws_alg alg,
    const char *input, size_t len, const uint8_t *sig, size_t n)
{
	return crypto_jws_verify(k, alg, input, len, sig, n);
}

/* The vector verifies, and stops verifying when any part of it changes. */
static void
check_vector(const char *jwk_json, enum crypto_jws_alg alg,
    const char *input, const char *sig_b64)
{
	struct crypto_jwk *k;
	uint8_t sig[600];
	char in2[400];
	size_t n, len = strlen(input);
	int err = 1;

	k = parse(jwk_json, &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	if (k == NULL)
		return;
	CHECK(crypto_jwk_alg_matches(k, alg));
	CHECK_EQ_INT(verify_b64(k, alg, input, sig_b64), CRYPTO_OK);
	CHECK_EQ_INT(crypto_b64url_decode(sig_b64, strlen(sig_b64), sig,
	    sizeof(sig) - 1, &n), CRYPTO_OK);
	/* A flipped bit at the start, middle and end of the signature. */
	sig[0] ^= 0x01;
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	sig[0] ^= 0x01;
	sig[n / 2] ^= 0x80;
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	sig[n / 2] ^= 0x80;
	sig[n - 1] ^= 0x10;
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	sig[n - 1] ^= 0x10;
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n), CRYPTO_OK);
	/* A changed byte of the signing input, and a shorter input. */
	CHECK(len < sizeof(in2));
	memcpy(in2, input, len);
	in2[len / 2] ^= 0x01;
	CHECK_EQ_INT(verify_bytes(k, alg, in2, len, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	CHECK_EQ_INT(verify_bytes(k, alg, input, len - 1, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	/* Truncated, extended, empty and all-zero signatures. */
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n - 1),
	    CRYPTO_ERR_SIGNATURE);
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n / 2),
	    CRYPTO_ERR_SIGNATURE);
	sig[n] = 0;
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n + 1),
	    CRYPTO_ERR_SIGNATURE);
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, 0),
	    CRYPTO_ERR_SIGNATURE);
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, NULL, 0),
	    CRYPTO_ERR_SIGNATURE);
	memset(sig, 0, n);
	CHECK_EQ_INT(verify_bytes(k, alg, input, len, sig, n),
	    CRYPTO_ERR_SIGNATURE);
	/* MACs are never verified here. */
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_HS256, input, sig_b64),
	    CRYPTO_ERR_UNSUPPORTED);
	crypto_jwk_free(k);
}

static void
check_thumbprint(const char *jwk_json, const char *want)
{
	struct crypto_jwk *k;
	char tp[CRYPTO_THUMBPRINT_LEN + 2];

	CHECK((k = parse(jwk_json, NULL)) != NULL);
	memset(tp, 'x', sizeof(tp) - 1);	/* the NUL must come from it */
	tp[sizeof(tp) - 1] = '\0';
	CHECK_EQ_INT(crypto_jwk_thumbprint(k, tp), CRYPTO_OK);
	CHECK_EQ_STR(tp, want);
	crypto_jwk_free(k);
}

static void
ec_json(char *out, size_t outsz, const char *crv, const char *x,
    const char *y)
{
	snprintf(out, outsz, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", crv, x, y);
}

static void
rsa_json(char *out, size_t outsz, const char *n, const char *e)
{
	snprintf(out, outsz, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n,
	    e);
}

/* The string value of member name in a fixture, copied into out. */
static void
member(const char *json, const char *name, char *out, size_t outsz)
{
	char key[16];
	const char *p, *q;

	snprintf(key, sizeof(key), "\"%s\":\"", name);
	out[0] = '\0';
	if ((p = strstr(json, key)) == NULL)
		return;
	p += strlen(key);
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= outsz)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

/* base64url of len bytes at p, into out. */
static void
b64(const uint8_t *p, size_t len, char *out, size_t outsz)
{
	CHECK(crypto_b64url_encode(p, len, out, outsz) >= 0);
}

/* ---- known answers ----------------------------------------------------- */

static void
test_rfc_vectors(void)
{
	check_vector(a2_jwk, CRYPTO_JWS_RS256, a2_input, a2_sig);
	check_vector(a3_jwk, CRYPTO_JWS_ES256, a3_input, a3_sig);
	check_vector(a4_jwk, CRYPTO_JWS_ES512, a4_input, a4_sig);
	check_vector(ed_jwk, CRYPTO_JWS_EDDSA, ed_input, ed_sig);
}

static void
test_openssl_fixtures(void)
{
	struct crypto_jwk *k;

	check_vector(ps256_jwk, CRYPTO_JWS_PS256, ps256_input, ps256_sig);
	check_vector(es384_jwk, CRYPTO_JWS_ES384, es384_input, es384_sig);
	check_vector(rs4096_jwk, CRYPTO_JWS_RS256, rs4096_input, rs4096_sig);

	CHECK((k = parse(ps256_jwk, NULL)) != NULL);
	/* RFC 7518 §3.5: the salt is as long as the hash, nothing else. */
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_PS256, ps256_input,
	    ps256_sig_maxsalt), CRYPTO_ERR_SIGNATURE);
	/* A PKCS#1 v1.5 signature is not a PSS one, and the reverse. */
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_PS256, ps256_input,
	    ps256_sig_pkcs1), CRYPTO_ERR_SIGNATURE);
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_RS256, ps256_input,
	    ps256_sig_pkcs1), CRYPTO_OK);
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_RS256, ps256_input, ps256_sig),
	    CRYPTO_ERR_SIGNATURE);
	crypto_jwk_free(k);

	/* ES384 hashes with SHA-384; a SHA-256 signature must not pass. */
	CHECK((k = parse(es384_jwk, NULL)) != NULL);
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_ES384, es384_input,
	    es384_sig_sha256), CRYPTO_ERR_SIGNATURE);
	crypto_jwk_free(k);
}

/* r or s of zero, or equal to the group order, is no signature. */
static void
test_ecdsa_range(void)
{
	/* The order n of P-256 (SEC 2 §2.4.2). */
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};
	struct crypto_jwk *k;
	uint8_t sig[64];
	size_t n, len = strlen(a3_input);

	CHECK((k = parse(a3_jwk, NULL)) != NULL);
	CHECK_EQ_INT(crypto_b64url_decode(a3_sig, strlen(a3_sig), sig,
	    sizeof(sig), &n), CRYPTO_OK);
	memset(sig + 32, 0, 32);
	CHECK_EQ_INT(verify_bytes(k, CRYPTO_JWS_ES256, a3_input, len, sig, 64),
	    CRYPTO_ERR_SIGNATURE);
	memcpy(sig + 32, order, 32);
	CHECK_EQ_INT(verify_bytes(k, CRYPTO_JWS_ES256, a3_input, len, sig, 64),
	    CRYPTO_ERR_SIGNATURE);
	memcpy(sig, order, 32);
	CHECK_EQ_INT(verify_bytes(k, CRYPTO_JWS_ES256, a3_input, len, sig, 64),
	    CRYPTO_ERR_SIGNATURE);
	crypto_jwk_free(k);
}

static void
test_thumbprints(void)
{
	struct crypto_jwk *k;
	char *json;

	check_thumbprint(rfc7638_jwk, rfc7638_thumbprint);
	check_thumbprint(ed_jwk, ed_thumbprint);

	/* The canonical JSON is the RFC 7638 input, and parses back. */
	CHECK((k = parse(a3_jwk, NULL)) != NULL);
	json = crypto_jwk_to_json(k);
	CHECK_EQ_STR(json, a3_canonical);
	crypto_jwk_free(k);
	if (json != NULL)
		check_vector(json, CRYPTO_JWS_ES256, a3_input, a3_sig);
	free(json);

	CHECK((k = parse(ed_jwk, NULL)) != NULL);
	json = crypto_jwk_to_json(k);
	CHECK_EQ_STR(json,
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" ED_X "\"}");
	crypto_jwk_free(k);
	free(json);

	CHECK((k = parse(rfc7638_jwk, NULL)) != NULL);
	json = crypto_jwk_to_json(k);
	CHECK(json != NULL && strncmp(json, "{\"e\":\"AQAB\",\"kty\":\"RSA\","
	    "\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbW", 66) == 0);
	CHECK(json != NULL && strchr(json, ' ') == NULL &&
	    strstr(json, "kid") == NULL && strstr(json, "alg") == NULL);
	crypto_jwk_free(k);
	if (json != NULL)
		check_thumbprint(json, rfc7638_thumbprint);
	free(json);

	CHECK(crypto_jwk_to_json(NULL) == NULL);
	CHECK_EQ_INT(crypto_jwk_thumbprint(NULL, (char[44]){ 0 }),
	    CRYPTO_ERR_INVALID);
}

/* A zero-padded RSA modulus is the same key with the same thumbprint; one
 * padded beyond reason is refused. */
static void
test_rsa_padded_modulus(void)
{
	static uint8_t n[2100];
	static char nb64[2900], json[3000];
	char tp1[CRYPTO_THUMBPRINT_LEN + 1], tp2[CRYPTO_THUMBPRINT_LEN + 1];
	struct crypto_jwk *k1, *k2;
	size_t len;

	member(a2_jwk, "n", nb64, sizeof(nb64));
	CHECK_EQ_INT(crypto_b64url_decode(nb64, strlen(nb64), n + 1, 512,
	    &len), CRYPTO_OK);
	CHECK_EQ_INT(len, 256);
	n[0] = 0;
	b64(n, len + 1, nb64, sizeof(nb64));
	rsa_json(json, sizeof(json), nb64, "AQAB");
	check_vector(json, CRYPTO_JWS_RS256, a2_input, a2_sig);
	CHECK((k1 = parse(a2_jwk, NULL)) != NULL);
	CHECK((k2 = parse(json, NULL)) != NULL);
	CHECK_EQ_INT(crypto_jwk_thumbprint(k1, tp1), CRYPTO_OK);
	CHECK_EQ_INT(crypto_jwk_thumbprint(k2, tp2), CRYPTO_OK);
	CHECK_EQ_STR(tp1, tp2);
	crypto_jwk_free(k1);
	crypto_jwk_free(k2);

	memmove(n + sizeof(n) - len, n + 1, len);
	memset(n, 0, sizeof(n) - len);
	b64(n, sizeof(n), nb64, sizeof(nb64));
	rsa_json(json, sizeof(json), nb64, "AQAB");
	CHECK_PARSE(json, CRYPTO_ERR_KEY_SIZE);
}

/* ---- refusals ---------------------------------------------------------- */

static void
test_not_json(void)
{
	char buf[300];
	size_t len = strlen(a3_jwk);

	CHECK_PARSE("", CRYPTO_ERR_PARSE);
	CHECK_PARSE("hello", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{", CRYPTO_ERR_PARSE);
	CHECK_PARSE("[]", CRYPTO_ERR_PARSE);
	CHECK_PARSE("[{\"kty\":\"OKP\"}]", CRYPTO_ERR_PARSE);
	CHECK_PARSE("\"kty\"", CRYPTO_ERR_PARSE);
	CHECK_PARSE("42", CRYPTO_ERR_PARSE);
	CHECK_PARSE("null", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",}", CRYPTO_ERR_PARSE);
	/* Every proper prefix of a good key is refused. */
	for (size_t i = 0; i < len; i++)
		CHECK_EQ_INT(parse_err_len(a3_jwk, i), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(parse_err_len(a3_jwk, len), CRYPTO_OK);
	/* Anything after the object but whitespace. */
	snprintf(buf, sizeof(buf), "%s x", a3_jwk);
	CHECK_PARSE(buf, CRYPTO_ERR_PARSE);
	snprintf(buf, sizeof(buf), "%s{}", a3_jwk);
	CHECK_PARSE(buf, CRYPTO_ERR_PARSE);
	snprintf(buf, sizeof(buf), " \n%s \r\n\t", a3_jwk);
	CHECK_PARSE(buf, CRYPTO_OK);
	/* A NUL inside the stated length, or escaped inside a value. */
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\\u0000AAAA\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\\u0000\",\"x\":\""
	    ED_X "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"\\u0031"
	    "1qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", CRYPTO_OK);
	memcpy(buf, a3_jwk, len + 1);
	CHECK_EQ_INT(parse_err_len(buf, len + 1), CRYPTO_ERR_PARSE);
	CHECK_EQ_INT(crypto_jwk_parse(NULL, 0, NULL) == NULL, 1);
	crypto_jwk_free(NULL);
}

static void
test_wrong_types(void)
{
	CHECK_PARSE("{\"kty\":\"RSA\",\"n\":12345,\"e\":\"AQAB\"}",
	    CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":true}",
	    CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":[\"P-256\"],\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":1,\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":null,\"y\":\""
	    A3_Y "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":{}}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":[\"" ED_X
	    "\"]}", CRYPTO_ERR_PARSE);
	/* Values that are strings but not base64url. */
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "=\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
	    "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    CRYPTO_ERR_PARSE);
}

static void
test_missing_members(void)
{
	CHECK_PARSE("{}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y
	    "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y
	    "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"" A3_Y
	    "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"x\":\"" ED_X "\"}", CRYPTO_ERR_PARSE);
	/* Names are case-sensitive (RFC 7517 §4). */
	CHECK_PARSE("{\"KTY\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\"}", CRYPTO_ERR_PARSE);
}

static void
test_unknown_kty_crv(void)
{
	CHECK_PARSE("{\"kty\":\"oct\",\"alg\":\"HS256\"}",
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"EC \",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"\",\"crv\":\"P-256\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\",\"y\":\"" ED_X "\"}", CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" ED_X "\"}",
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\"}",
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}", CRYPTO_ERR_UNSUPPORTED);
}

/* Private members are refused whatever else the object holds. */
static void
test_private_members(void)
{
	CHECK_PARSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\",\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9"
	    "-E9LI\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6"
	    "hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"x\":\"" ED_X "\"}",
	    CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"d\":null,\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""
	    ED_X "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\",\"p\":\"AQAB\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"oct\",\"k\":\"AQAB\"}", CRYPTO_ERR_PARSE);
	/* Other members are ignored, "alg" and "kid" included. */
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\",\"kid\":\"[[[[{{{{\\\"\",\"use\":\"sig\",\"key_ops\":[\"verify\"],"
	    "\"ext\":{\"a\":[1]}}", CRYPTO_OK);
}

static void
test_duplicates_and_depth(void)
{
	static char deep[4000];

	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\",\"x\":\"" ED_X "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"" ED_X "\"}", CRYPTO_ERR_PARSE);
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
	    "\",\"a\":[[[1]]]}", CRYPTO_ERR_PARSE);
	memset(deep, '[', sizeof(deep) - 1);
	CHECK_PARSE(deep, CRYPTO_ERR_PARSE);
	memset(deep, '{', sizeof(deep) - 1);
	CHECK_PARSE(deep, CRYPTO_ERR_PARSE);
}

static void
test_oversize(void)
{
	static char buf[CRYPTO_MAX_JWK_BYTES + 2];
	size_t len = strlen(a3_jwk);

	memset(buf, ' ', sizeof(buf) - 1);
	memcpy(buf, a3_jwk, len);
	CHECK_EQ_INT(parse_err_len(buf, CRYPTO_MAX_JWK_BYTES), CRYPTO_OK);
	CHECK_EQ_INT(parse_err_len(buf, CRYPTO_MAX_JWK_BYTES + 1),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(parse_err_len("{}", (size_t)-1), CRYPTO_ERR_TOO_LARGE);
}

static void
test_ec_lengths_and_points(void)
{
	uint8_t x[70], y[70];
	char xb[100], yb[100], json[400];
	size_t xl, yl;

	CHECK_EQ_INT(crypto_b64url_decode(A3_X, strlen(A3_X), x + 1, 69, &xl),
	    CRYPTO_OK);
	CHECK_EQ_INT(crypto_b64url_decode(A3_Y, strlen(A3_Y), y, 70, &yl),
	    CRYPTO_OK);
	/* x one byte short, and zero-padded to 33 bytes. */
	b64(x + 2, xl - 1, xb, sizeof(xb));
	ec_json(json, sizeof(json), "P-256", xb, A3_Y);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	x[0] = 0;
	b64(x, xl + 1, xb, sizeof(xb));
	ec_json(json, sizeof(json), "P-256", xb, A3_Y);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	/* A P-256 point labelled P-384. */
	ec_json(json, sizeof(json), "P-384", A3_X, A3_Y);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	/* y changed in its last bit: off the curve. */
	y[yl - 1] ^= 1;
	b64(y, yl, yb, sizeof(yb));
	ec_json(json, sizeof(json), "P-256", A3_X, yb);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	/* x = y = 0, and coordinates of all ones (not below p). */
	memset(y, 0, 32);
	b64(y, 32, yb, sizeof(yb));
	ec_json(json, sizeof(json), "P-256", yb, yb);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	memset(y, 0xff, 32);
	b64(y, 32, yb, sizeof(yb));
	ec_json(json, sizeof(json), "P-256", yb, yb);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	/* P-521 coordinates are 66 bytes even when they start with zero. */
	CHECK_EQ_INT(crypto_b64url_decode(A4_Y, strlen(A4_Y), y, 70, &yl),
	    CRYPTO_OK);
	CHECK_EQ_INT(yl, 66);
	CHECK_EQ_INT(y[0], 0);
	b64(y + 1, 65, yb, sizeof(yb));
	ec_json(json, sizeof(json), "P-521", A4_X, yb);
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	ec_json(json, sizeof(json), "P-521", A4_X, A4_Y);
	CHECK_PARSE(json, CRYPTO_OK);
}

static void
test_okp(void)
{
	struct crypto_jwk *k;

	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
	    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUQ\"}",
	    CRYPTO_ERR_PARSE);	/* 31 bytes */
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
	    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoA\"}",
	    CRYPTO_ERR_PARSE);	/* 33 bytes */
	CHECK_PARSE("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"\"}",
	    CRYPTO_ERR_PARSE);
	/* y = 2 has no x on edwards25519 (RFC 8032 §5.1.3 step 3): such a
	 * key parses (RFC 8037 asks only for 32 bytes) but verifies nothing. */
	CHECK((k = parse("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
	    "\"AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", NULL)) != NULL);
	CHECK_EQ_INT(verify_b64(k, CRYPTO_JWS_EDDSA, ed_input, ed_sig),
	    CRYPTO_ERR_SIGNATURE);
	crypto_jwk_free(k);
}

static void
test_rsa_sizes_and_exponents(void)
{
	static uint8_t n[520];
	static char nb[800], json[1000];
	char a2n[400];
	size_t len;

	CHECK_PARSE(rsa1024_jwk, CRYPTO_ERR_KEY_SIZE);
	CHECK_PARSE("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}",
	    CRYPTO_ERR_KEY_SIZE);
	CHECK_PARSE("{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":\"AQAB\"}",
	    CRYPTO_ERR_KEY_SIZE);
	/* 2047 bits, 4097 bits; then 4096 bits exactly is fine. */
	memset(n, 0xff, sizeof(n));
	n[0] = 0x7f;
	b64(n, 256, nb, sizeof(nb));
	rsa_json(json, sizeof(json), nb, "AQAB");
	CHECK_PARSE(json, CRYPTO_ERR_KEY_SIZE);
	n[0] = 0x01;
	b64(n, 513, nb, sizeof(nb));
	rsa_json(json, sizeof(json), nb, "AQAB");
	CHECK_PARSE(json, CRYPTO_ERR_KEY_SIZE);
	CHECK_PARSE(rs4096_jwk, CRYPTO_OK);
	/* An even modulus is no RSA modulus. */
	member(a2_jwk, "n", a2n, sizeof(a2n));
	CHECK_EQ_INT(crypto_b64url_decode(a2n, strlen(a2n), n, sizeof(n),
	    &len), CRYPTO_OK);
	n[len - 1] ^= 1;
	b64(n, len, nb, sizeof(nb));
	rsa_json(json, sizeof(json), nb, "AQAB");
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
	/* Exponents: even, 1, empty, over 32 bits; 3 and padded 65537 pass. */
	rsa_json(json, sizeof(json), a2n, "AQAA");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "Ag");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "AQ");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "AQAAAAE");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "AQAAAAAAAAAAAAAAAAAAAAAB");
	CHECK_PARSE(json, CRYPTO_ERR_UNSUPPORTED);
	rsa_json(json, sizeof(json), a2n, "Aw");
	CHECK_PARSE(json, CRYPTO_OK);
	rsa_json(json, sizeof(json), a2n, "AAEAAQ");
	CHECK_PARSE(json, CRYPTO_OK);
	rsa_json(json, sizeof(json), a2n, "AQAB=");
	CHECK_PARSE(json, CRYPTO_ERR_PARSE);
}

/* ---- algorithms -------------------------------------------------------- */

static void
test_alg_names(void)
{
	static const char *good[] = {
		"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA",
		"HS256", "HS384", "HS512",
	};
	static const char *bad[] = {
		"none", "None", "RS1", "", "rs256", "ES256 ", " ES256", "HS1",
		"PS384", "PS512", "RS384", "RS512", "ES256K", "Ed25519", "EDDSA",
		"RSA-OAEP", "A128KW", "dir",
	};
	enum crypto_jws_alg alg;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ_INT(crypto_jws_alg_parse(good[i], &alg), CRYPTO_OK);
		CHECK_EQ_STR(crypto_jws_alg_name(alg), good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(crypto_jws_alg_parse(bad[i], &alg),
		    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(crypto_jws_alg_parse(NULL, &alg), CRYPTO_ERR_INVALID);
	CHECK(crypto_jws_alg_name((enum crypto_jws_alg)77) == NULL);

	/* HS256 parses (for EAB) but never verifies a JWK signature. */
	CHECK_EQ_INT(crypto_jws_alg_parse("HS256", &alg), CRYPTO_OK);
	CHECK_EQ_INT(alg, CRYPTO_JWS_HS256);
}

static void
test_alg_key_mismatch(void)
{
	struct crypto_jwk *rsa, *p256, *p384, *p521, *ed;

	CHECK((rsa = parse(a2_jwk, NULL)) != NULL);
	CHECK((p256 = parse(a3_jwk, NULL)) != NULL);
	CHECK((p384 = parse(es384_jwk, NULL)) != NULL);
	CHECK((p521 = parse(a4_jwk, NULL)) != NULL);
	CHECK((ed = parse(ed_jwk, NULL)) != NULL);

	CHECK(crypto_jwk_alg_matches(rsa, CRYPTO_JWS_RS256));
	CHECK(crypto_jwk_alg_matches(rsa, CRYPTO_JWS_PS256));
	CHECK(!crypto_jwk_alg_matches(rsa, CRYPTO_JWS_ES256));
	CHECK(!crypto_jwk_alg_matches(rsa, CRYPTO_JWS_HS256));
	CHECK(crypto_jwk_alg_matches(p256, CRYPTO_JWS_ES256));
	CHECK(!crypto_jwk_alg_matches(p256, CRYPTO_JWS_ES384));
	CHECK(!crypto_jwk_alg_matches(p256, CRYPTO_JWS_ES512));
	CHECK(crypto_jwk_alg_matches(p384, CRYPTO_JWS_ES384));
	CHECK(!crypto_jwk_alg_matches(p384, CRYPTO_JWS_ES256));
	CHECK(crypto_jwk_alg_matches(p521, CRYPTO_JWS_ES512));
	CHECK(!crypto_jwk_alg_matches(p521, CRYPTO_JWS_ES256));
	CHECK(crypto_jwk_alg_matches(ed, CRYPTO_JWS_EDDSA));
	CHECK(!crypto_jwk_alg_matches(ed, CRYPTO_JWS_ES256));
	CHECK(!crypto_jwk_alg_matches(NULL, CRYPTO_JWS_RS256));

	CHECK_EQ_INT(verify_b64(rsa, CRYPTO_JWS_ES256, a3_input, a3_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(rsa, CRYPTO_JWS_EDDSA, ed_input, ed_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(p256, CRYPTO_JWS_RS256, a2_input, a2_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(p256, CRYPTO_JWS_ES384, a3_input, a3_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(p256, CRYPTO_JWS_ES512, a3_input, a3_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(p521, CRYPTO_JWS_ES256, a4_input, a4_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(p384, CRYPTO_JWS_ES512, es384_input,
	    es384_sig), CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(ed, CRYPTO_JWS_ES256, ed_input, ed_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(ed, CRYPTO_JWS_HS512, ed_input, ed_sig),
	    CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(verify_b64(rsa, (enum crypto_jws_alg)77, a2_input,
	    a2_sig), CRYPTO_ERR_UNSUPPORTED);
	CHECK_EQ_INT(crypto_jws_verify(NULL, CRYPTO_JWS_RS256, "x", 1,
	    (const uint8_t *)"x", 1), CRYPTO_ERR_INVALID);
	/* The right key but another's signature. */
	CHECK_EQ_INT(verify_b64(p256, CRYPTO_JWS_ES256, a2_input, a3_sig),
	    CRYPTO_ERR_SIGNATURE);

	crypto_jwk_free(rsa);
	crypto_jwk_free(p256);
	crypto_jwk_free(p384);
	crypto_jwk_free(p521);
	crypto_jwk_free(ed);
}

int
main(void)
{
	if (crypto_init() != CRYPTO_OK) {
		fprintf(stderr, "crypto_init failed\n");
		return 1;
	}
	test_rfc_vectors();
	test_openssl_fixtures();
	test_ecdsa_range();
	test_thumbprints();
	test_rsa_padded_modulus();
	test_not_json();
	test_wrong_types();
	test_missing_members();
	test_unknown_kty_crv();
	test_private_members();
	test_duplicates_and_depth();
	test_oversize();
	test_ec_lengths_and_points();
	test_okp();
	test_rsa_sizes_and_exponents();
	test_alg_names();
	test_alg_key_mismatch();
	crypto_cleanup();
	return CHECK_DONE();
}
