/*
 * rawdns.h: a tiny DNS responder on a loopback UDP socket, driven by the
 * test's event loop, for answers pebble-challtestsrv cannot give: TXT
 * records of several character-strings, CAA records with odd tags, flags
 * and lengths, malformed records. Every query is answered with the same
 * canned answer section, its owner names pointing at the question. Test
 * code only.
 */
#ifndef HEARTH_RAWDNS_H
#define HEARTH_RAWDNS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

struct rawdns {
	int fd;
	struct event *ev;
	char addr[32];                   /* "127.0.0.1:PORT" for --resolver */
	uint8_t answer[1024];            /* answer records, owner 0xc00c */
	size_t answer_len;
	unsigned ancount;
};

/* Appends a record of type with rdata (owner: the question's name). */
static inline void
rawdns_add(struct rawdns *d, unsigned type, const void *rdata, size_t len)
{
	uint8_t *p = d->answer + d->answer_len;

	if (d->answer_len + 12 + len > sizeof(d->answer))
		return;
	p[0] = 0xc0;
	p[1] = 0x0c;
	p[2] = (uint8_t)(type >> 8);
	p[3] = (uint8_t)type;
	p[4] = 0;
	p[5] = 1;                        /* class IN */
	memset(p + 6, 0, 3);
	p[9] = 60;                       /* TTL */
	p[10] = (uint8_t)(len >> 8);
	p[11] = (uint8_t)len;
	memcpy(p + 12, rdata, len);
	d->answer_len += 12 + len;
	d->ancount++;
}

static inline void
rawdns_clear(struct rawdns *d)
{
	d->answer_len = 0;
	d->ancount = 0;
}

static inline void
rawdns_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rawdns *d = arg;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	uint8_t q[512], out[2048];
	ssize_t n;
	size_t qend = 12;

	if ((n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl)) < 17)
		return;
	while (qend < (size_t)n && q[qend] != 0)
		qend += q[qend] + 1u;
	qend += 5;                       /* root label, type, class */
	if (qend > (size_t)n)
		return;
	memcpy(out, q, qend);
	out[2] = 0x81;                   /* response, recursion desired */
	out[3] = 0x80;                   /* recursion available, NOERROR */
	out[6] = (uint8_t)(d->ancount >> 8);
	out[7] = (uint8_t)d->ancount;
	memset(out + 8, 0, 4);
	memcpy(out + qend, d->answer, d->answer_len);
	(void)sendto(fd, out, qend + d->answer_len, 0, (struct sockaddr *)&from, fl);
}

/* Starts the responder on base. 0, or -1. */
static inline int
rawdns_start(struct rawdns *d, struct event_base *base)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(d, 0, sizeof(*d));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((d->fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(d->fd, (struct sockaddr *)&sa, &len) != 0 ||
	    (d->ev = event_new(base, d->fd, EV_READ | EV_PERSIST, rawdns_cb, d)) == NULL ||
	    event_add(d->ev, NULL) != 0)
		return -1;
	snprintf(d->addr, sizeof(d->addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	return 0;
}

static inline void
rawdns_stop(struct rawdns *d)
{
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->fd >= 0)
		close(d->fd);
	d->ev = NULL;
	d->fd = -1;
}

#endif
