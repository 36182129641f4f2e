/*
 * challtest.h: a real pebble-challtestsrv on loopback for the resolver,
 * http-01, dns-01, tls-alpn-01, CAA and deny-list tests. Starts it on free ports, waits until it accepts, and
 * configures it through its management API with a small blocking HTTP
 * client. Test code only.
 */
#ifndef HEARTH_CHALLTEST_H
#define HEARTH_CHALLTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHALLTEST_BIN "/usr/bin/pebble-challtestsrv"

struct challtest {
	pid_t pid;
	unsigned dns, http, https, tlsalpn, mgmt;   /* ports on 127.0.0.1 */
	char dns_addr[32];                 /* "127.0.0.1:PORT" for --resolver */
};

/* A port on 127.0.0.1 free for TCP (and UDP when udp), or 0. */
static inline unsigned
ct_free_port(int udp)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, fd2, tries;
	unsigned port = 0;

	for (tries = 0; tries < 20 && port == 0; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return 0;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
			port = ntohs(sa.sin_port);
		if (port != 0 && udp) {
			fd2 = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd2 < 0 || bind(fd2, (struct sockaddr *)&sa, sizeof(sa)) != 0)
				port = 0;
			if (fd2 >= 0)
				close(fd2);
		}
		close(fd);
	}
	return port;
}

static inline int
ct_connect(unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* POSTs json to path on the management port: the HTTP status, or -1. The
 * response body goes to body (bodysz bytes) when body is not NULL. */
static inline int
ct_post_body(const struct challtest *ct, const char *path, const char *json,
    char *body, size_t bodysz)
{
	char req[4096], resp[8192], *start;
	ssize_t n, got = 0;
	int fd, status = -1, len;

	len = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", path, ct->mgmt, strlen(json), json);
	if (len < 0 || (size_t)len >= sizeof(req) || (fd = ct_connect(ct->mgmt)) < 0)
		return -1;
	if (write(fd, req, (size_t)len) == len) {
		while (got < (ssize_t)sizeof(resp) - 1 &&
		    (n = read(fd, resp + got, sizeof(resp) - 1 - (size_t)got)) > 0)
			got += n;
		resp[got] = '\0';
		if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
			status = -1;
		if (body != NULL && bodysz > 0) {
			start = strstr(resp, "\r\n\r\n");
			snprintf(body, bodysz, "%s", start != NULL ? start + 4 : "");
		}
	}
	close(fd);
	return status;
}

static inline int
ct_post(const struct challtest *ct, const char *path, const char *json)
{
	return ct_post_body(ct, path, json, NULL, 0);
}

static inline void
ct_stop(struct challtest *ct)
{
	if (ct->pid > 0) {
		kill(ct->pid, SIGTERM);
		waitpid(ct->pid, NULL, 0);
		ct->pid = 0;
	}
}

/* Starts challtestsrv with no default A/AAAA answers. 0, or -1 with a
 * message on stderr. */
static inline int
ct_start(struct challtest *ct)
{
	char mgmt[32], http[32], https[32], tlsalpn[32];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int i, fd, devnull;

	memset(ct, 0, sizeof(*ct));
	if (access(CHALLTEST_BIN, X_OK) != 0) {
		fprintf(stderr, "%s is missing (Debian package pebble)\n", CHALLTEST_BIN);
		return -1;
	}
	ct->dns = ct_free_port(1);
	ct->http = ct_free_port(0);
	ct->https = ct_free_port(0);
	ct->tlsalpn = ct_free_port(0);
	ct->mgmt = ct_free_port(0);
	if (ct->dns == 0 || ct->http == 0 || ct->https == 0 || ct->tlsalpn == 0 ||
	    ct->mgmt == 0)
		return -1;
	snprintf(ct->dns_addr, sizeof(ct->dns_addr), "127.0.0.1:%u", ct->dns);
	snprintf(mgmt, sizeof(mgmt), "127.0.0.1:%u", ct->mgmt);
	snprintf(http, sizeof(http), "127.0.0.1:%u", ct->http);
	snprintf(https, sizeof(https), "127.0.0.1:%u", ct->https);
	snprintf(tlsalpn, sizeof(tlsalpn), "127.0.0.1:%u", ct->tlsalpn);
	if ((ct->pid = fork()) < 0)
		return -1;
	if (ct->pid == 0) {
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execl(CHALLTEST_BIN, CHALLTEST_BIN, "-management", mgmt, "-dns01",
		    ct->dns_addr, "-http01", http, "-https01", https, "-tlsalpn01",
		    tlsalpn, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {         /* up to 10 s */
		if ((fd = ct_connect(ct->mgmt)) >= 0) {
			close(fd);
			if ((fd = ct_connect(ct->http)) >= 0) {
				close(fd);
				if ((fd = ct_connect(ct->tlsalpn)) >= 0) {
					close(fd);
					break;
				}
			}
		}
		if (waitpid(ct->pid, NULL, WNOHANG) == ct->pid) {
			ct->pid = 0;
			fprintf(stderr, "pebble-challtestsrv exited at start\n");
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	if (i == 200 || ct_post(ct, "/set-default-ipv4", "{\"ip\":\"\"}") != 200 ||
	    ct_post(ct, "/set-default-ipv6", "{\"ip\":\"\"}") != 200) {
		fprintf(stderr, "pebble-challtestsrv did not come up\n");
		ct_stop(ct);
		return -1;
	}
	return 0;
}

#endif
