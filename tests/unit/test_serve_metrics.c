/* berth serve's metrics registry and its Prometheus text format. Each case
 * runs in a process of its own, so each sets up the registry afresh. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/ops/metrics.h"
#include "util/buf.h"

static const char *const routes[] = {"base", "a\"b\\c", "none"};

static char *
scrape(void)
{
	berth_buf b = BERTH_BUF_INIT;

	srv_metrics_render(&b);
	return berth_buf_detach(&b);
}

/* The value of the sample line that starts with `series` ("name{...}"),
 * or -1 when there is none. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

TEST(escaping)
{
	berth_buf b = BERTH_BUF_INIT;

	srv_metrics_escape(&b, "a\\b\"c\nd", true);
	CHECK_STR(berth_buf_cstr(&b), "a\\\\b\\\"c\\nd");
	berth_buf_clear(&b);
	/* HELP text escapes backslash and newline, not quotes. */
	srv_metrics_escape(&b, "say \"x\"\\\n", false);
	CHECK_STR(berth_buf_cstr(&b), "say \"x\"\\\\\\n");
	berth_buf_release(&b);
}

TEST(label_values_escaped_in_output)
{
	char *t;

	srv_metrics_init(routes, 3);
	srv_metric_add(SRV_M_HTTP_RECEIVED, 1, 0, 0, 42);
	t = scrape();
	CHECK(sample(t, "berth_http_request_body_bytes_total{route="
			"\"a\\\"b\\\\c\"}") == 42,
	      "escaped route label in:\n%s", t);
	free(t);
	srv_metrics_release();
}

TEST(counters)
{
	char *t;

	srv_metrics_init(routes, 3);
	srv_metric_add(SRV_M_HTTP_REQUESTS, 0, srv_metric_method("GET"),
		       srv_metric_code(200), 1);
	srv_metric_add(SRV_M_HTTP_REQUESTS, 0, srv_metric_method("GET"),
		       srv_metric_code(200), 1);
	srv_metric_add(SRV_M_HTTP_REQUESTS, 2, srv_metric_method("BREW"),
		       srv_metric_code(418), 1);
	srv_metric_add(SRV_M_HTTP_REQUESTS, 2, srv_metric_method("HEAD"),
		       srv_metric_code(0), 1);
	t = scrape();
	CHECK(strstr(t, "# HELP berth_http_requests_total HTTP requests") !=
		      NULL,
	      "HELP line");
	CHECK(strstr(t, "# TYPE berth_http_requests_total counter\n") != NULL,
	      "TYPE line");
	CHECK(sample(t, "berth_http_requests_total{route=\"base\",method="
			"\"GET\",code=\"200\"}") == 2,
	      "two GETs in:\n%s", t);
	CHECK(sample(t, "berth_http_requests_total{route=\"none\",method="
			"\"other\",code=\"4xx\"}") == 1,
	      "unknown method and status by class");
	CHECK(sample(t, "berth_http_requests_total{route=\"none\",method="
			"\"HEAD\",code=\"none\"}") == 1,
	      "no answer");
	CHECK(sample(t, "berth_http_requests_total{route=\"base\",method="
			"\"PUT\",code=\"200\"}") == -1,
	      "untouched series are left out");
	/* A counter without labels is there from the start. */
	CHECK(sample(t, "berth_upload_sessions_started_total") == 0,
	      "label-less counter at 0");
	free(t);
	srv_metrics_release();
}

TEST(recording_before_init_is_harmless)
{
	srv_metric_inc(SRV_M_UPLOADS_STARTED, 0);
	srv_metric_observe(SRV_M_HTTP_SECONDS, 0, 0, 0, 1000);
	srv_metrics_init(routes, 3);
	{
		char *t = scrape();

		CHECK(sample(t, "berth_upload_sessions_started_total") == 0,
		      "nothing counted before init");
		free(t);
	}
	srv_metrics_release();
}

TEST(histogram)
{
	static const char *const le[] = {
		"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
		"0.05",	  "0.1",   "0.25",   "0.5",   "1",    "2.5",
		"5",	  "10",	   "30",     "60",    "300",  "+Inf"};
	char series[200], *t;
	double prev = 0, v;

	srv_metrics_init(routes, 3);
	srv_metric_observe(SRV_M_HTTP_SECONDS, 0, 1, 0, 300000);  /* 0.3 ms */
	srv_metric_observe(SRV_M_HTTP_SECONDS, 0, 1, 0, 2000000); /* 2 ms */
	srv_metric_observe(SRV_M_HTTP_SECONDS, 0, 1, 0, 2500000000); /* 2.5 s */
	srv_metric_observe(SRV_M_HTTP_SECONDS, 0, 1, 0,
			   1000000000000ULL); /* 1000 s: past the last bound */
	t = scrape();
	CHECK(strstr(t, "# TYPE berth_http_request_duration_seconds "
			"histogram\n") != NULL,
	      "TYPE histogram");
	for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		snprintf(series, sizeof(series),
			 "berth_http_request_duration_seconds_bucket{route="
			 "\"base\",method=\"HEAD\",le=\"%s\"}",
			 le[i]);
		v = sample(t, series);
		CHECK(v >= prev, "bucket %s present and cumulative (%g)", le[i],
		      v);
		prev = v;
	}
#define B(x)                                                                   \
	sample(t, "berth_http_request_duration_seconds_bucket{route=\"base\"," \
		  "method=\"HEAD\",le=\"" x "\"}")
	CHECK(B("0.0005") == 1, "0.3 ms in the first bucket");
	CHECK(B("0.001") == 1, "cumulative");
	CHECK(B("0.0025") == 2, "2 ms");
	CHECK(B("2.5") == 3, "2.5 s is in le=2.5 (upper bound inclusive)");
	CHECK(B("300") == 3, "1000 s past the last bound");
	CHECK(B("+Inf") == 4, "+Inf is every observation");
#undef B
	CHECK(sample(t, "berth_http_request_duration_seconds_count{route="
			"\"base\",method=\"HEAD\"}") == 4,
	      "_count");
	v = sample(t, "berth_http_request_duration_seconds_sum{route="
		      "\"base\",method=\"HEAD\"}");
	CHECK(v > 1002.5023 - 1e-6 && v < 1002.5023 + 1e-6, "_sum %.9f", v);
	CHECK(strstr(t, "route=\"none\",method=\"GET\",le=") == NULL,
	      "untouched histogram series are left out");
	free(t);
	srv_metrics_release();
}

typedef struct adder {
	int n;
	int64_t step;
} adder;

static void *
add_many(void *arg)
{
	adder *a = arg;

	for (int i = 0; i < a->n; i++) {
		srv_metric_add(SRV_M_CONNS_OPEN, 0, 0, 0, a->step);
		srv_metric_inc(SRV_M_UPLOADS_STARTED, 0);
	}
	return NULL;
}

/* Many threads at once: nothing lost, and a gauge's ups and downs on
 * different threads sum up. */
TEST(threads)
{
	pthread_t th[24];
	adder up = {20000, 1}, down = {20000, -1};
	char *t;

	srv_metrics_init(routes, 3);
	for (int i = 0; i < 24; i++)
		pthread_create(&th[i], NULL, add_many, i < 16 ? &up : &down);
	for (int i = 0; i < 24; i++)
		pthread_join(th[i], NULL);
	t = scrape();
	CHECK(sample(t, "berth_upload_sessions_started_total") == 24 * 20000,
	      "every increment counted");
	CHECK(sample(t, "berth_http_connections_open") == 8 * 20000,
	      "gauge: 16 up, 8 down");
	free(t);
	srv_metrics_release();
}

static int
three_and_a_half(void *ud, double *v)
{
	*v = 3.5;
	return 0;
}

static int
unavailable(void *ud, double *v)
{
	return -1;
}

TEST(sampled)
{
	char *t;

	srv_metrics_init(routes, 3);
	srv_metrics_sampler(SRV_M_UPLOADS_OPEN, three_and_a_half, NULL);
	srv_metrics_sampler(SRV_M_PROC_START, unavailable, NULL);
	t = scrape();
	CHECK(sample(t, "berth_upload_sessions_open") == 3.5, "sampled gauge");
	CHECK(strstr(t, "# TYPE berth_upload_sessions_open gauge\n") != NULL,
	      "its type");
	CHECK(strstr(t, "process_start_time_seconds") == NULL,
	      "a sample that cannot be read is left out, HELP and all");
	free(t);
	srv_metrics_release();
}

TEST(process)
{
	char *t;
	double start, now = (double)time(NULL);

	srv_metrics_init(routes, 3);
	srv_metrics_proc_samplers();
	t = scrape();
	start = sample(t, "process_start_time_seconds");
	CHECK(start > now - 86400 * 365 && start <= now + 1,
	      "start time %f near now %f", start, now);
	CHECK(sample(t, "process_resident_memory_bytes") > 1e5, "RSS");
	CHECK(sample(t, "process_virtual_memory_bytes") > 1e5, "VSZ");
	CHECK(sample(t, "process_open_fds") >= 3, "stdin, stdout, stderr");
	CHECK(sample(t, "process_max_fds") >= sample(t, "process_open_fds"),
	      "max fds");
	CHECK(sample(t, "process_cpu_seconds_total") >= 0, "CPU");
	CHECK(strstr(t, "# TYPE process_cpu_seconds_total counter\n") != NULL,
	      "CPU is a counter");
	free(t);
	srv_metrics_release();
}

TEST_MAIN("test_serve_metrics")
