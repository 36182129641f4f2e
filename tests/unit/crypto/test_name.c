/*
 * test_name.c: the one DNS-name check (crypto_dns_name_check): RFC 1035
 * syntax and lengths, lower-casing, wildcards only where allowed, IDNA2008
 * A-labels (RFC 5890-5892) through libidn2, numeric last labels.
 */
#include "check.h"

#include "crypto.h"

/* 0 when accepted; the normalised name in out. */
static int
name(const char *in, int wildcard, char out[CRYPTO_MAX_NAME_LEN + 1])
{
	return crypto_dns_name_check(in, strlen(in), wildcard, out, NULL);
}

static void
test_syntax(void)
{
	char out[CRYPTO_MAX_NAME_LEN + 1];
	const char *why = NULL;

	CHECK_EQ_INT(name("Grafana.Corp.Internal", 0, out), 0);
	CHECK_EQ_STR(out, "grafana.corp.internal");
	CHECK_EQ_INT(name("localhost", 0, out), 0);
	CHECK_EQ_INT(name("a-b.c0", 0, out), 0);
	CHECK_EQ_INT(name("0a.corp.internal", 0, out), 0);

	CHECK_EQ_INT(name("", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("bad_name.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(name("-lead.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("trail-.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("a..b", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name(".a.b", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("caf\xc3\xa9.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("ab--cd.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("host.123", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("10.0.0.1", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("a b.corp", 0, out), CRYPTO_ERR_NAME);

	CHECK_EQ_INT(crypto_dns_name_check("trailing.dot.", 13, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "trailing dot");
	/* an embedded NUL is not silently cut */
	CHECK_EQ_INT(crypto_dns_name_check("a.corp\0.evil", 12, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "NUL byte in name");
	/* only len bytes are read */
	CHECK_EQ_INT(crypto_dns_name_check("a.corp.internalXYZ", 15, 0, out, NULL), 0);
	CHECK_EQ_STR(out, "a.corp.internal");
}

static void
test_lengths(void)
{
	char out[CRYPTO_MAX_NAME_LEN + 1], label[80], big[400];
	const char *why = NULL;

	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(big, sizeof(big), "%s.corp", label);
	CHECK_EQ_INT(crypto_dns_name_check(big, strlen(big), 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "label longer than 63 characters");
	label[63] = '\0';
	snprintf(big, sizeof(big), "%s.corp", label);
	CHECK_EQ_INT(name(big, 0, out), 0);
	/* 4 * 63 + 3 dots = 255 > 253 */
	snprintf(big, sizeof(big), "%s.%s.%s.%s", label, label, label, label);
	CHECK_EQ_INT(crypto_dns_name_check(big, strlen(big), 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "name longer than 253 characters");
	/* exactly 253: 3 * 63 + 61 + 3 dots */
	label[61] = '\0';
	snprintf(big, sizeof(big), "%s%s.%s%s.%s%s.%s", label, "aa", label, "aa",
	    label, "aa", label);
	CHECK_EQ_INT((int)strlen(big), 253);
	CHECK_EQ_INT(name(big, 0, out), 0);
	CHECK_EQ_INT((int)strlen(out), 253);
}

static void
test_wildcards(void)
{
	char out[CRYPTO_MAX_NAME_LEN + 1];
	const char *why = NULL;

	CHECK_EQ_INT(name("*.ns.corp.internal", 1, out), 0);
	CHECK_EQ_STR(out, "*.ns.corp.internal");
	CHECK_EQ_INT(crypto_dns_name_check("*.ns.corp.internal", 18, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "a wildcard is not allowed here");
	CHECK_EQ_INT(name("*.corp", 1, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("*.*.corp.internal", 1, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("a.*.corp.internal", 1, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("*a.corp.internal", 1, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("*", 1, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("*.", 1, out), CRYPTO_ERR_NAME);
}

static void
test_idna(void)
{
	char out[CRYPTO_MAX_NAME_LEN + 1];
	const char *why = NULL;

	CHECK_EQ_INT(name("xn--bcher-kva.corp.internal", 0, out), 0);    /* bücher */
	CHECK_EQ_INT(name("XN--BCHER-KVA.corp.internal", 0, out), 0);
	CHECK_EQ_STR(out, "xn--bcher-kva.corp.internal");
	CHECK_EQ_INT(name("xn--mnchen-3ya.corp", 0, out), 0);            /* münchen */
	CHECK_EQ_INT(name("xn--fiqs8s.corp", 0, out), 0);                /* 中国 */
	CHECK_EQ_INT(name("*.xn--caf-dma.corp.internal", 1, out), 0);   /* café */

	/* U+1F4A9: a symbol IDNA2008 does not permit */
	CHECK_EQ_INT(crypto_dns_name_check("xn--ls8h.corp.internal", 22, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "an xn-- label decodes to a code point IDNA2008 does not permit");
	CHECK_EQ_INT(name("xn--ls8h", 0, out), CRYPTO_ERR_NAME);
	/* "cafe" + combining acute: not NFC */
	CHECK_EQ_INT(crypto_dns_name_check("xn--cafe-yvc.corp", 17, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "an xn-- label decodes to a string not in Unicode NFC");
	CHECK_EQ_INT(name("xn--.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("xn--abc.corp", 0, out), CRYPTO_ERR_NAME);      /* ASCII only */
	CHECK_EQ_INT(name("xn--zzzzzzzzzzzzzzz.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(name("xn--ascii-.corp", 0, out), CRYPTO_ERR_NAME);
	CHECK_EQ_INT(crypto_dns_name_check("ab--c.corp", 10, 0, out, &why),
	    CRYPTO_ERR_NAME);
	CHECK_EQ_STR(why, "hyphens in the third and fourth positions are reserved");
}

int
main(void)
{
	test_syntax();
	test_lengths();
	test_wildcards();
	test_idna();
	return CHECK_DONE();
}
