/*
 * pki_test.h: helpers shared by the CA, CSR and leaf tests: a unique
 * temporary directory under HEARTH_TEST_TMP, running the openssl command
 * line, and small file utilities. Test code only.
 */
#ifndef HEARTH_PKI_TEST_H
#define HEARTH_PKI_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CMD_MAX 4096

static char pt_dir[1024];

/* Makes a fresh directory for this test binary; exits when it cannot. */
static inline const char *
pt_tmpdir(const char *tag)
{
	const char *base = getenv("HEARTH_TEST_TMP");

	snprintf(pt_dir, sizeof(pt_dir), "%s/%s.XXXXXX",
	    base != NULL ? base : "/tmp", tag);
	if (mkdtemp(pt_dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return pt_dir;
}

/* Formats a path under the test directory into a rotating static buffer. */
static inline const char *
pt_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline const char *
pt_path(const char *fmt, ...)
{
	static char bufs[16][2048];
	static int next;
	char *b = bufs[next++ % 16], rel[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, 2048, "%s/%s", pt_dir, rel);
	return b;
}

/* Runs a shell command (output discarded); returns its exit status. */
static inline int
pt_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline int
pt_run(const char *fmt, ...)
{
	char cmd[CMD_MAX];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 16, fmt, ap);
	va_end(ap);
	strcat(cmd, " >/dev/null 2>&1");
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs a shell command and returns its standard output (caller frees). */
static inline char *
pt_output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline char *
pt_output(const char *fmt, ...)
{
	char cmd[CMD_MAX], *out;
	size_t len = 0, cap = 65536, n;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((out = malloc(cap)) == NULL || (p = popen(cmd, "r")) == NULL) {
		free(out);
		return NULL;
	}
	while ((n = fread(out + len, 1, cap - 1 - len, p)) > 0)
		len += n;
	out[len] = '\0';
	pclose(p);
	return out;
}

/* Nonzero when the command's output contains needle. */
static inline int
pt_output_has(const char *cmd, const char *needle)
{
	char *out = pt_output("%s", cmd);
	int found = out != NULL && strstr(out, needle) != NULL;

	if (!found)
		fprintf(stderr, "missing \"%s\" in output of: %s\n", needle, cmd);
	free(out);
	return found;
}

static inline char *
pt_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static inline int
pt_spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Permission bits of path, or -1. */
static inline int
pt_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static inline int
pt_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

#endif
