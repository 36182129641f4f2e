/*
 * test_log.c: server/log.c. log_json_escape turns any bytes (quotes,
 * backslashes, control bytes, invalid UTF-8) into the inside of a valid
 * JSON string and never cuts an escape in two when it truncates; JSON log
 * lines parse (cJSON) with their ts, level, msg, request_id and fields;
 * text lines carry the request id in brackets; lines below the level in
 * force are dropped, whichever function writes them.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "server_internal.h"

static void
test_escape(void)
{
	char out[64], json[80];
	cJSON *o;

	log_json_escape("a\"b\\c\n\t\x01\xff\xe2\x80\xa8", out, sizeof(out));
	CHECK_EQ_STR(out, "a\\\"b\\\\c\\n\\t\\u0001\\u00ff\\u00e2\\u0080\\u00a8");
	snprintf(json, sizeof(json), "\"%s\"", out);
	CHECK((o = cJSON_Parse(json)) != NULL && cJSON_IsString(o));
	cJSON_Delete(o);
	/* truncation stops before an escape that would not fit */
	CHECK_EQ_INT(log_json_escape("ab\x01", out, 6), 2);
	CHECK_EQ_STR(out, "ab");
	CHECK_EQ_INT(log_json_escape("\"\"\"", out, 6), 4);
	CHECK_EQ_STR(out, "\\\"\\\"");
	CHECK_EQ_INT(log_json_escape("x", out, 1), 0);
	CHECK_EQ_STR(out, "");
}

/* Runs fn with stderr going to a file; returns what it wrote (free). */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/hearth-test-log.XXXXXX", *buf;
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	long n;

	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

static void
emit(void)
{
	struct log_field f[2] = { { "path", "/x\"y\x01" }, { "status", "200" } };

	log_fields("info", "ab12-0-7", "GET \"/x\" 200", f, 2);
	log_info("plain %d", 5);
}

static void
test_json_lines(void)
{
	char *out, *nl;
	cJSON *o;

	log_set_json(1);
	out = capture(emit);
	log_set_json(0);
	CHECK((nl = strchr(out, '\n')) != NULL);
	if (nl == NULL)
		goto done;
	*nl = '\0';
	CHECK((o = cJSON_Parse(out)) != NULL);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "level")), "info");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "msg")),
	    "GET \"/x\" 200");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "request_id")),
	    "ab12-0-7");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "path")),
	    "/x\"y\x01");
	CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(o, "ts")) != NULL);
	cJSON_Delete(o);
	CHECK((o = cJSON_Parse(nl + 1)) != NULL);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "msg")), "plain 5");
	CHECK(cJSON_GetObjectItem(o, "request_id") == NULL);
	cJSON_Delete(o);
done:
	free(out);
}

static void
test_text_lines(void)
{
	char *out = capture(emit);

	CHECK(strstr(out, " info [ab12-0-7] GET \"/x\" 200 path=") != NULL);
	CHECK(strstr(out, " info plain 5\n") != NULL);
	free(out);
}

static void
emit_levels(void)
{
	log_debug("d-line");
	log_info("i-line");
	log_req("info", "r1", "r-line %d", 1);
	log_fields("info", NULL, "f-line", NULL, 0);
	log_warn("w-line");
	log_error("e-line");
}

static void
test_levels(void)
{
	enum log_level lv;
	char *out;

	CHECK_EQ_INT(log_get_level(), LOG_INFO);
	CHECK(log_level_parse("debug", &lv) == 0 && lv == LOG_DEBUG);
	CHECK(log_level_parse("error", &lv) == 0 && lv == LOG_ERROR);
	CHECK_EQ_INT(log_level_parse("INFO", &lv), -1);
	CHECK_EQ_STR(log_level_name(LOG_WARN), "warn");

	out = capture(emit_levels);     /* info: all but debug */
	CHECK(strstr(out, "d-line") == NULL);
	CHECK(strstr(out, " info i-line\n") != NULL);
	CHECK(strstr(out, " info [r1] r-line 1\n") != NULL);
	CHECK(strstr(out, "f-line") != NULL);
	CHECK(strstr(out, " warn w-line\n") != NULL);
	free(out);

	log_set_level(LOG_WARN);
	out = capture(emit_levels);
	CHECK(strstr(out, "i-line") == NULL && strstr(out, "r-line") == NULL &&
	    strstr(out, "f-line") == NULL && strstr(out, "d-line") == NULL);
	CHECK(strstr(out, " warn w-line\n") != NULL);
	CHECK(strstr(out, " error e-line\n") != NULL);
	free(out);

	log_set_level(LOG_DEBUG);
	out = capture(emit_levels);
	CHECK(strstr(out, " debug d-line\n") != NULL);
	free(out);

	log_set_level(LOG_ERROR);
	log_set_json(1);
	out = capture(emit_levels);
	log_set_json(0);
	CHECK(strstr(out, "w-line") == NULL);
	CHECK(strstr(out, "{\"ts\":") == out && strstr(out, "\"level\":\"error\"") != NULL);
	free(out);
	log_set_level(LOG_INFO);
}

int
main(void)
{
	test_escape();
	test_json_lines();
	test_text_lines();
	test_levels();
	return CHECK_DONE();
}
