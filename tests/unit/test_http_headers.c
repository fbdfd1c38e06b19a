/*
 * Retry-After and RateLimit values (http/http_headers.c), the one reading
 * used for retries, error messages and the pull quota.
 */
#include "test.h"

#include <limits.h>

#include "http/http.h"

/* Wed, 21 Oct 2015 07:28:00 GMT */
#define DATE_T ((time_t)1445412480)

static void
test_retry_after_delta(void)
{
	CHECK(berth_http_retry_after("60", 0) == 60, "60");
	CHECK(berth_http_retry_after("0", 0) == 0, "0");
	CHECK(berth_http_retry_after(NULL, 0) == -1, "absent");
	CHECK(berth_http_retry_after("", 0) == -1, "empty");
	/* delta-seconds is 1*DIGIT: no sign, no trailing text */
	CHECK(berth_http_retry_after("-5", 0) == -1, "negative");
	CHECK(berth_http_retry_after("+5", 0) == -1, "plus sign");
	CHECK(berth_http_retry_after("5s", 0) == -1, "unit");
	CHECK(berth_http_retry_after("1.5", 0) == -1, "fraction");
	CHECK(berth_http_retry_after("99999999999999999999999", 0) == LONG_MAX,
	      "huge delta is capped");
}

static void
test_retry_after_date(void)
{
	const char *d = "Wed, 21 Oct 2015 07:28:00 GMT";

	CHECK(berth_http_retry_after(d, DATE_T - 30) == 30, "30 s ahead: %ld",
	      berth_http_retry_after(d, DATE_T - 30));
	CHECK(berth_http_retry_after(d, DATE_T) == 0, "now");
	CHECK(berth_http_retry_after(d, DATE_T + 3600) == 0, "past date");
	CHECK(berth_http_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 0) > 0,
	      "RFC 850 date");
	CHECK(berth_http_retry_after("soon", 0) == -1, "not a date");
}

static void
test_ratelimit(void)
{
	long n, w;

	CHECK(berth_http_ratelimit_parse(&n, &w, "100;w=21600") && n == 100 &&
		      w == 21600,
	      "100;w=21600: %ld %ld", n, w);
	CHECK(berth_http_ratelimit_parse(&n, &w, "76") && n == 76 && w == -1,
	      "no window: %ld %ld", n, w);
	CHECK(berth_http_ratelimit_parse(&n, &w, "0;w=60") && n == 0 && w == 60,
	      "none left");
	CHECK(berth_http_ratelimit_parse(&n, &w, "5;w=") && n == 5 && w == -1,
	      "empty window");
	CHECK(!berth_http_ratelimit_parse(&n, &w, NULL) && n == -1 && w == -1,
	      "absent");
	CHECK(!berth_http_ratelimit_parse(&n, &w, "abc") && n == -1 && w == -1,
	      "not a number");
	CHECK(!berth_http_ratelimit_parse(&n, &w, "-1;w=5") && n == -1,
	      "negative");
}

/* The error message and the quota read the headers the same way. */
static void
test_status_message_uses_them(void)
{
	berth_http_resp resp = {.status = 429};
	berth_http_ctx ctx = {.host = "h", .repo = "r"};
	berth_error *err = NULL;

	resp.hdr[BERTH_H_RATELIMIT_LIMIT] = "100;w=21600";
	resp.hdr[BERTH_H_RATELIMIT_REMAINING] = "0;w=21600";
	resp.hdr[BERTH_H_RETRY_AFTER] = "-5";
	berth_http_status_error(&err, &resp, &ctx);
	CHECK(err && strstr(err->msg, ", limit 100 per 21600 s, 0 remaining") &&
		      !strstr(err->msg, "retry after"),
	      "message '%s'", err ? err->msg : "");
	berth_error_free(err);
}

int
main(void)
{
	test_retry_after_delta();
	test_retry_after_date();
	test_ratelimit();
	test_status_message_uses_them();
	return test_done("test_http_headers");
}
