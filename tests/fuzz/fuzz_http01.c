/*
 * fuzz_http01.c: the HTTP/1.1 responses http-01 validation reads
 * (server/http01.c): the status line, the framing headers, Content-Length,
 * chunked and read-to-the-end bodies, and the Location of a redirect.
 *
 * The first input byte sets how many bytes arrive at a time (1 to 256), so
 * the reader's states are entered at every split a network could make; the
 * rest is what the peer sent. A redirect's Location goes through
 * http01_redirect_parse as the fetch would follow it. Results are checked
 * against the reader's promises (body within its cap, a status on success).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http01.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
follow(const char *location)
{
	struct http01_options o;
	struct http01_url url;
	char why[256];

	memset(&o, 0, sizeof(o));
	o.port = 5002;
	o.http_port = 80;
	o.https_port = 443;
	memset(&url, 0, sizeof(url));
	strcpy(url.host, "svc.fuzz.internal");
	url.port = 5002;
	strcpy(url.target, "/.well-known/acme-challenge/fuzz-token");
	why[0] = '\0';
	if (http01_redirect_parse(&o, location, &url, why, sizeof(why)) != 0) {
		if (why[0] == '\0')
			abort();
		return;
	}
	if (url.target[0] != '/' || url.host[0] == '\0' ||
	    (url.port != 80 && url.port != 443 && url.port != 5002))
		abort();
}

/* Feeds the response step bytes at a time; the reader's last answer. */
static int
feed(struct http01_response *r, struct evbuffer *in, const uint8_t *p,
    size_t n, size_t step)
{
	size_t off, k;
	int rc = HTTP01_RESP_MORE;

	for (off = 0; off < n && rc == HTTP01_RESP_MORE; off += k) {
		k = n - off < step ? n - off : step;
		if (evbuffer_add(in, p + off, k) != 0)
			abort();
		rc = http01_response_read(r, in);
	}
	return rc == HTTP01_RESP_MORE ? http01_response_eof(r) : rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http01_response r;
	struct evbuffer *in;
	int rc;

	if (size == 0 || (in = evbuffer_new()) == NULL)
		return 0;
	http01_response_init(&r);
	rc = feed(&r, in, data + 1, size - 1, (size_t)data[0] + 1);
	if (r.body_len > ACME_MAX_HTTP01_BODY ||
	    r.header_bytes > HTTP01_MAX_HEADER_BYTES ||
	    (rc > 0 && r.status < 100) || rc > HTTP01_RESP_REDIRECT ||
	    rc < HTTP01_ERR_EMPTY || memchr(r.location, '\0',
	    sizeof(r.location)) == NULL)
		abort();
	if (rc == HTTP01_RESP_REDIRECT)
		follow(r.location);
	evbuffer_free(in);
	return 0;
}
