/*
 * berth serve's metrics: one registry per process, written to by every
 * request and read by GET /metrics in the Prometheus text format (version
 * 0.0.4).
 *
 * Every metric is one row of SRV_METRICS below: its id, kind, name, help
 * and up to three labels, each with a fixed set of values (no label ever
 * takes a value from the request, so the number of series is bounded).
 * A new metric is one more row, and one call where it happens.
 *
 * Kinds: COUNTER and GAUGE are recorded with srv_metric_add (a gauge goes
 * down with a negative value); HISTOGRAM with srv_metric_observe, in
 * nanoseconds; SAMPLED_GAUGE and SAMPLED_COUNTER are read when scraped
 * from the function srv_metrics_sampler set (process facts, sessions in
 * the database).
 *
 * Recording is lock-free: each thread adds to a shard of its own (relaxed
 * atomics, one cache line apart), and a scrape sums the shards. Before
 * srv_metrics_init, and after srv_metrics_release, recording does nothing.
 */
#ifndef BERTH_SERVER_OPS_METRICS_H
#define BERTH_SERVER_OPS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The label sets; their values are in metrics.c (ROUTE's come from
 * srv_metrics_init). */
typedef enum srv_mlabel {
	SRV_ML_NONE,
	SRV_ML_ROUTE,  /* the route table's names */
	SRV_ML_METHOD, /* GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS, other */
	SRV_ML_CODE,   /* the statuses berth answers, else 2xx..., none */
	SRV_ML_UPLOAD_END,  /* completed, cancelled, expired, failed */
	SRV_ML_LIMIT,	    /* request_rate, pull, upload_sessions */
	SRV_ML_LOGIN,	    /* ok, ok_cached, failed, refused */
	SRV_ML_CONN_CUT,    /* header_timeout, body_rate */
	SRV_ML_ENDPOINT,    /* event endpoints at start, "other" (set_values) */
	SRV_ML_EVENT_DROP,  /* queue_full, write_failed, too_big */
	SRV_ML_CACHE_KIND,  /* manifest, blob */
	SRV_ML_CACHE_FETCH, /* ok, not_found, rate_limited, refused, ... */
	SRV_ML_RUN_RESULT,  /* a gc or retention run: ok, dry_run, failed */
	SRV_ML_GC_KIND,	    /* manifest, blob_link, blob, upload, tmp */
	SRV_ML_RETENTION_KIND, /* tag, manifest */
	SRV_ML_N,
} srv_mlabel;

typedef enum srv_mkind {
	SRV_MK_COUNTER,
	SRV_MK_GAUGE,
	SRV_MK_HISTOGRAM,
	SRV_MK_SAMPLED_GAUGE,
	SRV_MK_SAMPLED_COUNTER,
} srv_mkind;

/* X(id, kind, name, help, label1, label2, label3) */
#define SRV_METRICS(X)                                                         \
	X(HTTP_REQUESTS, COUNTER, "berth_http_requests_total",                 \
	  "HTTP requests answered, by route, method and status code", ROUTE,   \
	  METHOD, CODE)                                                        \
	X(HTTP_SECONDS, HISTOGRAM, "berth_http_request_duration_seconds",      \
	  "Time from a request's first line to the end of its answer, by "     \
	  "route and method",                                                  \
	  ROUTE, METHOD, NONE)                                                 \
	X(HTTP_RECEIVED, COUNTER, "berth_http_request_body_bytes_total",       \
	  "Request body bytes received, by route", ROUTE, NONE, NONE)          \
	X(HTTP_SENT, COUNTER, "berth_http_response_body_bytes_total",          \
	  "Response body bytes of completed answers, by route", ROUTE, NONE,   \
	  NONE)                                                                \
	X(CONNS_OPEN, GAUGE, "berth_http_connections_open",                    \
	  "Client connections open now", NONE, NONE, NONE)                     \
	X(CONNS_REFUSED, COUNTER, "berth_http_connections_refused_total",      \
	  "Connections closed at once because a connection cap (per address "  \
	  "or in total) was reached",                                          \
	  NONE, NONE, NONE)                                                    \
	X(CONNS_CUT, COUNTER, "berth_http_connections_cut_total",              \
	  "Connections closed for stalling (slow headers or body)", CONN_CUT,  \
	  NONE, NONE)                                                          \
	X(LIMIT_REFUSALS, COUNTER, "berth_limit_refusals_total",               \
	  "Requests answered 429 by a limit, by limit", LIMIT, NONE, NONE)     \
	X(LOGINS, COUNTER, "berth_logins_total",                               \
	  "Password checks, by result (ok_cached: passed without bcrypt, "     \
	  "refused: too many failed logins)",                                  \
	  LOGIN, NONE, NONE)                                                   \
	X(LOGIN_QUEUE, GAUGE, "berth_login_queue_depth",                       \
	  "Password checks waiting for a password-checking thread", NONE,      \
	  NONE, NONE)                                                          \
	X(UPLOADS_OPEN, SAMPLED_GAUGE, "berth_upload_sessions_open",           \
	  "Upload sessions open now", NONE, NONE, NONE)                        \
	X(UPLOADS_STARTED, COUNTER, "berth_upload_sessions_started_total",     \
	  "Upload sessions started", NONE, NONE, NONE)                         \
	X(UPLOADS_ENDED, COUNTER, "berth_upload_sessions_ended_total",         \
	  "Upload sessions ended, by outcome", UPLOAD_END, NONE, NONE)         \
	X(EVENTS_QUEUED, COUNTER, "berth_events_queued_total",                 \
	  "Events queued for delivery, by endpoint", ENDPOINT, NONE, NONE)     \
	X(EVENTS_DELIVERED, COUNTER, "berth_events_delivered_total",           \
	  "Events a receiver took (answered 2xx), by endpoint", ENDPOINT,      \
	  NONE, NONE)                                                          \
	X(EVENTS_FAILED, COUNTER, "berth_events_failed_attempts_total",        \
	  "Delivery attempts that failed (not 2xx, refused, timed out), by "   \
	  "endpoint",                                                          \
	  ENDPOINT, NONE, NONE)                                                \
	X(EVENTS_DROPPED, COUNTER, "berth_events_dropped_total",               \
	  "Events dropped instead of queued, by endpoint and reason",          \
	  ENDPOINT, EVENT_DROP, NONE)                                          \
	X(EVENTS_DEPTH, GAUGE, "berth_events_queue_depth",                     \
	  "Events queued and not yet delivered, by endpoint", ENDPOINT, NONE,  \
	  NONE)                                                                \
	X(CACHE_HITS, COUNTER, "berth_cache_hits_total",                       \
	  "Pull-through cache requests answered from local storage (tags "     \
	  "within their TTL or re-validated), by kind",                        \
	  CACHE_KIND, NONE, NONE)                                              \
	X(CACHE_MISSES, COUNTER, "berth_cache_misses_total",                   \
	  "Pull-through cache requests that needed the upstream's content, "   \
	  "by kind",                                                           \
	  CACHE_KIND, NONE, NONE)                                              \
	X(CACHE_STALE, COUNTER, "berth_cache_stale_total",                     \
	  "Cached content served with a Warning because the upstream could "   \
	  "not re-validate it, by kind",                                       \
	  CACHE_KIND, NONE, NONE)                                              \
	X(CACHE_FETCHES, COUNTER, "berth_cache_upstream_fetches_total",        \
	  "Requests to upstream registries (manifest GET and HEAD, blob "      \
	  "GET), "                                                             \
	  "by kind and result",                                                \
	  CACHE_KIND, CACHE_FETCH, NONE)                                       \
	X(CACHE_BYTES, COUNTER, "berth_cache_upstream_bytes_total",            \
	  "Bytes received from upstream registries, by kind", CACHE_KIND,      \
	  NONE, NONE)                                                          \
	X(GC_RUNS, COUNTER, "berth_gc_runs_total",                             \
	  "Garbage collection runs, by result", RUN_RESULT, NONE, NONE)        \
	X(GC_DELETED, COUNTER, "berth_gc_deleted_total",                       \
	  "Things garbage collection deleted, by kind", GC_KIND, NONE, NONE)   \
	X(GC_FREED, COUNTER, "berth_gc_freed_bytes_total",                     \
	  "Bytes of storage garbage collection freed", NONE, NONE, NONE)       \
	X(GC_LAST_SECONDS, SAMPLED_GAUGE,                                      \
	  "berth_gc_last_run_duration_seconds",                                \
	  "How long the last garbage collection run took", NONE, NONE, NONE)   \
	X(RETENTION_RUNS, COUNTER, "berth_retention_runs_total",               \
	  "Retention runs of this server (schedule and admin endpoint), by "   \
	  "result",                                                            \
	  RUN_RESULT, NONE, NONE)                                              \
	X(RETENTION_DELETED, COUNTER, "berth_retention_deleted_total",         \
	  "Tags and manifests deleted by retention, by kind", RETENTION_KIND,  \
	  NONE, NONE)                                                          \
	X(PROC_START, SAMPLED_GAUGE, "process_start_time_seconds",             \
	  "Start time of the process since the Unix epoch in seconds", NONE,   \
	  NONE, NONE)                                                          \
	X(PROC_CPU, SAMPLED_COUNTER, "process_cpu_seconds_total",              \
	  "Total user and system CPU time spent in seconds", NONE, NONE, NONE) \
	X(PROC_RSS, SAMPLED_GAUGE, "process_resident_memory_bytes",            \
	  "Resident memory size in bytes", NONE, NONE, NONE)                   \
	X(PROC_VSIZE, SAMPLED_GAUGE, "process_virtual_memory_bytes",           \
	  "Virtual memory size in bytes", NONE, NONE, NONE)                    \
	X(PROC_FDS, SAMPLED_GAUGE, "process_open_fds",                         \
	  "Number of open file descriptors", NONE, NONE, NONE)                 \
	X(PROC_MAX_FDS, SAMPLED_GAUGE, "process_max_fds",                      \
	  "Maximum number of open file descriptors", NONE, NONE, NONE)

typedef enum srv_metric {
#define SRV_METRIC_ID(id, kind, name, help, l1, l2, l3) SRV_M_##id,
	SRV_METRICS(SRV_METRIC_ID)
#undef SRV_METRIC_ID
		SRV_M_N,
} srv_metric;

/* Values of the fixed label sets, by index (see srv_mlabel). */
enum {
	SRV_UPLOAD_COMPLETED,
	SRV_UPLOAD_CANCELLED,
	SRV_UPLOAD_EXPIRED,
	SRV_UPLOAD_FAILED
};
enum { SRV_LIMIT_RATE, SRV_LIMIT_PULL, SRV_LIMIT_UPLOADS };
enum { SRV_LOGIN_OK, SRV_LOGIN_OK_CACHED, SRV_LOGIN_FAILED, SRV_LOGIN_REFUSED };
enum { SRV_CUT_HEADER, SRV_CUT_BODY };
enum { SRV_EVDROP_FULL, SRV_EVDROP_WRITE, SRV_EVDROP_TOO_BIG };
enum { SRV_CACHE_MANIFEST, SRV_CACHE_BLOB };
enum {
	SRV_FETCH_OK,
	SRV_FETCH_NOT_FOUND,
	SRV_FETCH_RATE_LIMITED, /* 429 */
	SRV_FETCH_REFUSED,	/* other 4xx */
	SRV_FETCH_FAILED,	/* 5xx */
	SRV_FETCH_UNREACHABLE,	/* no answer */
	SRV_FETCH_BAD_DIGEST,	/* content that does not match its digest */
};
enum { SRV_RUN_OK, SRV_RUN_DRY_RUN, SRV_RUN_FAILED };
enum {
	SRV_GC_MANIFEST,
	SRV_GC_BLOB_LINK,
	SRV_GC_BLOB,
	SRV_GC_UPLOAD,
	SRV_GC_TMP
};
enum { SRV_RETENTION_TAG, SRV_RETENTION_MANIFEST };

/*
 * Sets up the registry; `routes` (n of them, the last the name for
 * requests no route matched) are the ROUTE label's values and must live
 * until srv_metrics_release. Once per process.
 */
void srv_metrics_init(const char *const *routes, size_t n);

/*
 * The values of a label set filled in at start (ENDPOINT: the event
 * endpoints of the configuration); before srv_metrics_init, and v must
 * live until srv_metrics_release. Without it the set is {"other"}.
 */
void srv_metrics_set_values(srv_mlabel l, const char *const *v, size_t n);
void srv_metrics_release(void);

/* Adds v to a counter or gauge; labels are indexes into their sets. */
void srv_metric_add(srv_metric m, unsigned l1, unsigned l2, unsigned l3,
		    int64_t v);

static inline void
srv_metric_inc(srv_metric m, unsigned l1)
{
	srv_metric_add(m, l1, 0, 0, 1);
}

/* Counts one observation of a histogram, in nanoseconds. */
void srv_metric_observe(srv_metric m, unsigned l1, unsigned l2, unsigned l3,
			uint64_t ns);

/* The value of index i of a fixed label set (not ROUTE's). */
const char *srv_metric_label_value(srv_mlabel l, unsigned i);

/* The index of a method / a status in the METHOD / CODE sets. */
unsigned srv_metric_method(const char *method);
unsigned srv_metric_code(unsigned status);

/*
 * Where a SAMPLED metric is read from when scraped: fn(ud, &value)
 * returns 0, or -1 to leave the metric out of this scrape.
 */
typedef int (*srv_metric_sample_fn)(void *ud, double *value);
void srv_metrics_sampler(srv_metric m, srv_metric_sample_fn fn, void *ud);

/* The process facts (metrics_proc.c) for the PROC_* metrics. */
void srv_metrics_proc_samplers(void);

/* Appends the whole registry in the text format 0.0.4 to b. */
void srv_metrics_render(berth_buf *b);

/* The text format's escaping (label values; HELP escapes no quotes). */
void srv_metrics_escape(berth_buf *b, const char *s, bool quotes);

#define SRV_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
