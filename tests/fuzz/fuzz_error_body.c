/*
 * libFuzzer harness for the reading of a registry's error answers
 * (berth_http_status_error, berth_http_oci_error_code): the OCI `errors`
 * body, a text/plain body and the rate-limit headers of a 429. The first
 * input byte picks the status, the second the Content-Type; for a 429
 * the next three lines are RateLimit-Limit, RateLimit-Remaining and
 * Retry-After; the rest is the body. Besides the sanitizers, it checks:
 * - every status that reaches the mapper gives an error (< 0) with a
 *   message of one line, free of control bytes (C0, DEL, C1 raw or in
 *   UTF-8, bidirectional overrides), however hostile the body;
 * - the OCI error code is one clean line of bounded length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {400, 401, 403, 404, 405, 409, 413, 416,
				429, 500, 502, 503, 301, 307, 200, 418};

static const char *const content_types[] = {
	NULL, "application/json", "text/plain", "text/plain; charset=utf-8",
	"text/html"};

/* One line a terminal shows as text: no C0, DEL or C1 control (raw or
 * UTF-8), no bidirectional override, nothing but valid UTF-8. */
static void
clean_line(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n = *s < 0x80		      ? 1
			   : *s >= 0xc2 && *s <= 0xdf ? 2
			   : *s >= 0xe0 && *s <= 0xef ? 3
			   : *s >= 0xf0 && *s <= 0xf4 ? 4
						      : 0;

		if (n == 0 || *s < 0x20 || *s == 0x7f)
			abort();
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				abort();
		if ((s[0] == 0xc2 && s[1] <= 0x9f) ||
		    (s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xaa &&
		     s[2] <= 0xae) ||
		    (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 &&
		     s[2] <= 0xa9))
			abort();
		s += n;
	}
}

/* The next line of data[*i..size), or NULL at the end; caller frees. */
static char *
next_line(const uint8_t *data, size_t size, size_t *i)
{
	size_t start = *i;
	const uint8_t *nl;

	if (start >= size)
		return NULL;
	nl = memchr(data + start, '\n', size - start);
	*i = nl ? (size_t)(nl - data) + 1 : size;
	return xstrndup((const char *)data + start,
			(nl ? (size_t)(nl - data) : size) - start);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_http_resp resp;
	berth_http_ctx ctx = {"registry.test:5000", NULL, NULL, "pull", NULL};
	berth_error *err = NULL;
	size_t i = 2;
	char *code;

	if (size < 2)
		return 0;
	berth_http_resp_init(&resp);
	resp.status =
		statuses[data[0] % (sizeof(statuses) / sizeof(*statuses))];
	if (data[0] & 0x10) {
		ctx.repo = "library/x";
		ctx.subject =
			data[0] & 0x20 ? "manifest 'v1'" : "blob 'sha256:1'";
	}
	if (data[0] & 0x40)
		ctx.action = "push";
	if (content_types[data[1] % 5])
		resp.hdr[BERTH_H_CONTENT_TYPE] =
			xstrdup(content_types[data[1] % 5]);
	if (data[1] & 0x80)
		resp.hdr[BERTH_H_LOCATION] = xstrdup("http://elsewhere.test/");
	if (resp.status == 429) {
		resp.hdr[BERTH_H_RATELIMIT_LIMIT] = next_line(data, size, &i);
		resp.hdr[BERTH_H_RATELIMIT_REMAINING] =
			next_line(data, size, &i);
		resp.hdr[BERTH_H_RETRY_AFTER] = next_line(data, size, &i);
	}
	if (i < size && berth_buf_put(&resp.body, data + i, size - i, NULL) < 0)
		abort();
	if (berth_http_status_error(&err, &resp, &ctx) >= 0 || err == NULL ||
	    err->msg == NULL)
		abort();
	clean_line(err->msg);
	if (err->hint)
		clean_line(err->hint);
	berth_error_free(err);
	code = berth_http_oci_error_code(&resp);
	if (code) {
		clean_line(code);
		if (strlen(code) > 64 + 3)
			abort();
		free(code);
	}
	berth_http_resp_release(&resp);
	return 0;
}
