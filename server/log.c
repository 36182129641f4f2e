/*
 * log.c: one place that writes log lines, to stderr (a service manager
 * captures it), as text (timestamp, level, [request id], message, fields)
 * or, with --log-format json, as one JSON object per line: {"ts", "level",
 * "msg", "request_id" when the line is about a request, then the fields}.
 * Client-supplied text is escaped with log_escape() before it reaches a
 * message; in JSON every string is escaped again by log_json_escape(), so
 * any byte sequence gives valid JSON (bytes outside ASCII as \u00XX).
 *
 * Lines below the level set with --log-level (debug, info, warn, error;
 * default info) are dropped. The levels mean: error, something failed and
 * an operator should look; warn, something was refused or kept back that
 * the operator asked for (a setting that needs a restart); info, start-up,
 * reloads, one line per HTTP request (the access log, ACME and PKI), one
 * per validation, CRLs built; debug, per-connection detail (TLS handshakes
 * that fail). The level may change while loops log (SIGHUP), so it is an
 * atomic read by every line.
 */
#include "server_internal.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define LOG_MAX_LINE 8192

static int log_json;   /* set once at start-up, before any thread */
static atomic_int log_min = LOG_INFO;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

int
log_level_parse(const char *name, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ?
	    level_names[level] : "info";
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_min, (int)level);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&log_min);
}

int
log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&log_min);
}

void
log_set_json(int json)
{
	log_json = json;
}

int
server_log_json(void)
{
	return log_json;
}

size_t
log_json_escape(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outsz == 0)
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		const char *e = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" :
		    ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ? "\\t" : NULL;
		size_t need = e != NULL ? 2 : (ch < 0x20 || ch >= 0x7f) ? 6 : 1;

		if (o + need >= outsz)
			break;
		if (e != NULL) {
			memcpy(out + o, e, 2);
		} else if (need == 6) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[ch >> 4];
			out[o + 5] = hex[ch & 15];
		} else {
			out[o] = (char)ch;
		}
		o += need;
	}
	out[o] = '\0';
	return o;
}

/* Appends text to line at *len (capacity LOG_MAX_LINE), truncating. */
static void
cat(char *line, size_t *len, const char *text)
{
	size_t n = strlen(text);

	if (*len + n >= LOG_MAX_LINE)
		n = LOG_MAX_LINE - 1 - *len;
	memcpy(line + *len, text, n);
	*len += n;
	line[*len] = '\0';
}

/* Appends "key":"value" (JSON) with value escaped. */
static void
cat_json(char *line, size_t *len, const char *key, const char *value)
{
	char esc[LOG_MAX_LINE];

	cat(line, len, ",\"");
	cat(line, len, key);
	cat(line, len, "\":\"");
	log_json_escape(value, esc, sizeof(esc));
	cat(line, len, esc);
	cat(line, len, "\"");
}

static void
format_line(char *line, const char *ts, const char *level, const char *rid,
    const char *msg, const struct log_field *f, size_t n)
{
	size_t len = 0, i;

	line[0] = '\0';
	if (log_json) {
		cat(line, &len, "{\"ts\":\"");
		cat(line, &len, ts);
		cat(line, &len, "\",\"level\":\"");
		cat(line, &len, level);
		cat(line, &len, "\"");
		cat_json(line, &len, "msg", msg);
		if (rid != NULL && rid[0] != '\0')
			cat_json(line, &len, "request_id", rid);
		for (i = 0; i < n; i++)
			cat_json(line, &len, f[i].key, f[i].value);
		cat(line, &len, "}");
		return;
	}
	cat(line, &len, ts);
	cat(line, &len, " ");
	cat(line, &len, level);
	if (rid != NULL && rid[0] != '\0') {
		cat(line, &len, " [");
		cat(line, &len, rid);
		cat(line, &len, "]");
	}
	cat(line, &len, " ");
	cat(line, &len, msg);
	for (i = 0; i < n; i++) {
		cat(line, &len, " ");
		cat(line, &len, f[i].key);
		cat(line, &len, "=");
		cat(line, &len, f[i].value);
	}
}

void
log_fields(const char *level, const char *rid, const char *msg,
    const struct log_field *f, size_t n)
{
	static _Thread_local char line[LOG_MAX_LINE];
	char ts[64], day[32];
	struct timeval tv;
	struct tm tm;
	enum log_level lv;

	if (log_level_parse(level, &lv) != 0)
		lv = LOG_ERROR;         /* an unknown name is never dropped */
	if (!log_enabled(lv))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%03ldZ", day, (long)tv.tv_usec / 1000);
	format_line(line, ts, level, rid, msg, f, n);
	/* One write per line keeps lines whole when threads log at once. */
	fprintf(stderr, "%s\n", line);
}

void
log_req(const char *level, const char *rid, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	enum log_level lv;

	if (log_level_parse(level, &lv) == 0 && !log_enabled(lv))
		return;                 /* not formatted when dropped */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fields(level, rid, msg, NULL, 0);
}

static void
log_line(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_line(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fields(level_names[level], NULL, msg, NULL, 0);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_ERROR, fmt, ap);
	va_end(ap);
}

void
log_escape(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outsz < 8) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (o + 8 >= outsz) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}
