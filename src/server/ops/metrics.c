/*
 * The metrics registry (metrics.h): the rows of SRV_METRICS laid out as
 * cells, one array of them per shard, and the text format they are
 * rendered in.
 *
 * A metric of label sets with n1, n2, n3 values has n1*n2*n3 series, each
 * one cell (a counter or gauge) or NBUCKETS + 2 cells (a histogram: the
 * observations per bucket, not yet cumulative, those past the last bound,
 * and the sum). A gauge's shards sum to its value even when it goes up on
 * one thread and down on another.
 */
#include "server/ops/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/common.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* More shards than HTTP threads is waste; fewer share a cache line now
 * and then, which costs time, never a count. */
#define NSHARD 16
/* Cells between two shards' arrays: no cache line holds cells of both. */
#define SHARD_PAD 16

typedef struct mdef {
	srv_mkind kind;
	const char *name, *help;
	srv_mlabel l[3];
} mdef;

static const mdef defs[SRV_M_N] = {
#define SRV_METRIC_DEF(id, kind, name, help, l1, l2, l3)                       \
	[SRV_M_##id] = {SRV_MK_##kind,                                         \
			name,                                                  \
			help,                                                  \
			{SRV_ML_##l1, SRV_ML_##l2, SRV_ML_##l3}},
	SRV_METRICS(SRV_METRIC_DEF)
#undef SRV_METRIC_DEF
};

typedef struct mlabel {
	const char *name;
	const char *const *v;
	size_t n;
} mlabel;

static const char *const method_v[] = {"GET",	"HEAD",	  "PUT",     "POST",
				       "PATCH", "DELETE", "OPTIONS", "other"};
/* The statuses berth answers; any other by its class. */
static const unsigned codes[] = {200, 201, 202, 204, 206, 307, 400, 401, 403,
				 404, 405, 413, 414, 416, 429, 500, 503, 507};
static const char *const code_v[] = {"200", "201", "202", "204", "206", "307",
				     "400", "401", "403", "404", "405", "413",
				     "414", "416", "429", "500", "503", "507",
				     "1xx", "2xx", "3xx", "4xx", "5xx", "none"};
static const char *const upload_end_v[] = {"completed", "cancelled", "expired",
					   "failed"};
static const char *const limit_v[] = {"request_rate", "pull",
				      "upload_sessions"};
static const char *const login_v[] = {"ok", "ok_cached", "failed", "refused"};
static const char *const cut_v[] = {"header_timeout", "body_rate"};
static const char *const endpoint_v[] = {"other"};
static const char *const evdrop_v[] = {"queue_full", "write_failed", "too_big"};
static const char *const cache_kind_v[] = {"manifest", "blob"};
static const char *const cache_fetch_v[] = {
	"ok",	  "not_found",	 "rate_limited", "refused",
	"failed", "unreachable", "bad_digest"};
static const char *const run_result_v[] = {"ok", "dry_run", "failed"};
static const char *const gc_kind_v[] = {"manifest", "blob_link", "blob",
					"upload", "tmp"};
static const char *const retention_kind_v[] = {"tag", "manifest"};

static const char *const none_v[] = {""};

_Static_assert(BERTH_ARRAY_SIZE(code_v) == BERTH_ARRAY_SIZE(codes) + 6,
	       "a name for every status, each class and none");
/* The indexes metrics.h names, and the names here, go together. */
_Static_assert(BERTH_ARRAY_SIZE(upload_end_v) == SRV_UPLOAD_FAILED + 1 &&
		       BERTH_ARRAY_SIZE(limit_v) == SRV_LIMIT_UPLOADS + 1 &&
		       BERTH_ARRAY_SIZE(login_v) == SRV_LOGIN_REFUSED + 1 &&
		       BERTH_ARRAY_SIZE(cut_v) == SRV_CUT_BODY + 1 &&
		       BERTH_ARRAY_SIZE(evdrop_v) == SRV_EVDROP_TOO_BIG + 1 &&
		       BERTH_ARRAY_SIZE(cache_kind_v) == SRV_CACHE_BLOB + 1 &&
		       BERTH_ARRAY_SIZE(cache_fetch_v) ==
			       SRV_FETCH_BAD_DIGEST + 1 &&
		       BERTH_ARRAY_SIZE(run_result_v) == SRV_RUN_FAILED + 1 &&
		       BERTH_ARRAY_SIZE(gc_kind_v) == SRV_GC_TMP + 1 &&
		       BERTH_ARRAY_SIZE(retention_kind_v) ==
			       SRV_RETENTION_MANIFEST + 1,
	       "a name for every value");

#define SET(name, v)                                                           \
	{                                                                      \
		name, v, BERTH_ARRAY_SIZE(v)                                   \
	}
static mlabel labels[SRV_ML_N] = {
	[SRV_ML_NONE] = SET(NULL, none_v),
	[SRV_ML_ROUTE] = {"route", NULL, 0}, /* srv_metrics_init */
	[SRV_ML_METHOD] = SET("method", method_v),
	[SRV_ML_CODE] = SET("code", code_v),
	[SRV_ML_UPLOAD_END] = SET("outcome", upload_end_v),
	[SRV_ML_LIMIT] = SET("limit", limit_v),
	[SRV_ML_LOGIN] = SET("result", login_v),
	[SRV_ML_CONN_CUT] = SET("reason", cut_v),
	[SRV_ML_ENDPOINT] = SET("endpoint", endpoint_v),
	[SRV_ML_EVENT_DROP] = SET("reason", evdrop_v),
	[SRV_ML_CACHE_KIND] = SET("kind", cache_kind_v),
	[SRV_ML_CACHE_FETCH] = SET("result", cache_fetch_v),
	[SRV_ML_RUN_RESULT] = SET("result", run_result_v),
	[SRV_ML_GC_KIND] = SET("kind", gc_kind_v),
	[SRV_ML_RETENTION_KIND] = SET("kind", retention_kind_v),
};
#undef SET

/* Latency bounds in seconds: sub-millisecond manifest GETs to slow
 * pushes of large layers. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				0.05,	0.1,   0.25,   0.5,   1,    2.5,
				5,	10,    30,     60,    300};
#define NBUCKETS BERTH_ARRAY_SIZE(bounds)
static uint64_t bounds_ns[NBUCKETS];

typedef struct mlayout {
	size_t off;   /* of the metric's first cell */
	size_t n[3];  /* values of each label set */
	size_t cells; /* per series */
} mlayout;

static mlayout lay[SRV_M_N];
static size_t stride; /* cells per shard, padding included */
static _Atomic uint64_t *cells;
static atomic_uint next_shard;
static _Thread_local unsigned my_shard = UINT_MAX;

typedef struct sampler {
	srv_metric_sample_fn fn;
	void *ud;
} sampler;
static sampler samplers[SRV_M_N];

void
srv_metrics_set_values(srv_mlabel l, const char *const *v, size_t n)
{
	assert(cells == NULL && n > 0);
	labels[l].v = v;
	labels[l].n = n;
}

void
srv_metrics_init(const char *const *routes, size_t n)
{
	size_t off = 0;

	assert(cells == NULL && n > 0);
	labels[SRV_ML_ROUTE].v = routes;
	labels[SRV_ML_ROUTE].n = n;
	for (size_t i = 0; i < NBUCKETS; i++)
		bounds_ns[i] = (uint64_t)(bounds[i] * 1e9 + 0.5);
	for (size_t m = 0; m < SRV_M_N; m++) {
		size_t series = 1;

		for (int k = 0; k < 3; k++) {
			lay[m].n[k] = labels[defs[m].l[k]].n;
			series *= lay[m].n[k];
		}
		lay[m].off = off;
		lay[m].cells =
			defs[m].kind == SRV_MK_HISTOGRAM ? NBUCKETS + 2 : 1;
		if (defs[m].kind == SRV_MK_SAMPLED_GAUGE ||
		    defs[m].kind == SRV_MK_SAMPLED_COUNTER)
			series = 0;
		off += series * lay[m].cells;
	}
	stride = off + SHARD_PAD;
	/* calloc: pages a shard never writes are never touched. */
	cells = xcalloc(NSHARD * stride, sizeof(*cells));
}

void
srv_metrics_release(void)
{
	free((void *)cells);
	cells = NULL;
	memset(samplers, 0, sizeof(samplers));
	labels[SRV_ML_ENDPOINT].v = endpoint_v;
	labels[SRV_ML_ENDPOINT].n = BERTH_ARRAY_SIZE(endpoint_v);
}

static size_t
series_of(srv_metric m, unsigned l1, unsigned l2, unsigned l3)
{
	const mlayout *L = &lay[m];

	assert(l1 < L->n[0] && l2 < L->n[1] && l3 < L->n[2]);
	return ((size_t)l1 * L->n[1] + l2) * L->n[2] + l3;
}

/* This thread's shard, or NULL before init. */
static _Atomic uint64_t *
shard(void)
{
	if (cells == NULL)
		return NULL;
	if (my_shard == UINT_MAX)
		my_shard = atomic_fetch_add_explicit(&next_shard, 1,
						     memory_order_relaxed) %
			   NSHARD;
	return cells + (size_t)my_shard * stride;
}

void
srv_metric_add(srv_metric m, unsigned l1, unsigned l2, unsigned l3, int64_t v)
{
	_Atomic uint64_t *s = shard();

	assert(defs[m].kind == SRV_MK_COUNTER || defs[m].kind == SRV_MK_GAUGE);
	if (s == NULL)
		return;
	/* Two's complement: a negative v takes a gauge down. */
	atomic_fetch_add_explicit(&s[lay[m].off + series_of(m, l1, l2, l3)],
				  (uint64_t)v, memory_order_relaxed);
}

void
srv_metric_observe(srv_metric m, unsigned l1, unsigned l2, unsigned l3,
		   uint64_t ns)
{
	_Atomic uint64_t *s = shard();
	size_t b = 0;

	assert(defs[m].kind == SRV_MK_HISTOGRAM);
	if (s == NULL)
		return;
	s += lay[m].off + series_of(m, l1, l2, l3) * lay[m].cells;
	while (b < NBUCKETS && ns > bounds_ns[b])
		b++;
	atomic_fetch_add_explicit(&s[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s[NBUCKETS + 1], ns, memory_order_relaxed);
}

unsigned
srv_metric_method(const char *method)
{
	for (unsigned i = 0; i + 1 < BERTH_ARRAY_SIZE(method_v); i++)
		if (strcmp(method, method_v[i]) == 0)
			return i;
	return BERTH_ARRAY_SIZE(method_v) - 1;
}

unsigned
srv_metric_code(unsigned status)
{
	for (unsigned i = 0; i < BERTH_ARRAY_SIZE(codes); i++)
		if (codes[i] == status)
			return i;
	if (status >= 100 && status < 600)
		return BERTH_ARRAY_SIZE(codes) + status / 100 - 1;
	return BERTH_ARRAY_SIZE(code_v) - 1; /* none: no answer was sent */
}

const char *
srv_metric_label_value(srv_mlabel l, unsigned i)
{
	assert(l != SRV_ML_ROUTE && i < labels[l].n);
	return labels[l].v[i];
}

void
srv_metrics_sampler(srv_metric m, srv_metric_sample_fn fn, void *ud)
{
	assert(defs[m].kind == SRV_MK_SAMPLED_GAUGE ||
	       defs[m].kind == SRV_MK_SAMPLED_COUNTER);
	samplers[m] = (sampler){fn, ud};
}

/* ---- the text format ---- */

void
srv_metrics_escape(berth_buf *b, const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			berth_buf_puts(b, "\\\\", NULL);
		else if (*s == '\n')
			berth_buf_puts(b, "\\n", NULL);
		else if (*s == '"' && quotes)
			berth_buf_puts(b, "\\\"", NULL);
		else
			berth_buf_put(b, s, 1, NULL);
	}
}

/* A sample value: integers as integers, anything else exactly. */
static void
put_value(berth_buf *b, double v)
{
	if (isinf(v))
		berth_buf_puts(b, v > 0 ? "+Inf" : "-Inf", NULL);
	else if (isnan(v))
		berth_buf_puts(b, "NaN", NULL);
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
		 v == (double)(int64_t)v)
		berth_buf_printf(b, NULL, "%.0f", v);
	else
		berth_buf_printf(b, NULL, "%.17g", v);
}

/* name{l="v",...,le="x"} for series `idx` of m; `le` may be NULL. */
static void
put_series(berth_buf *b, srv_metric m, const char *suffix, size_t idx,
	   const char *le)
{
	const mlayout *L = &lay[m];
	size_t vi[3];
	bool any = false;

	vi[2] = idx % L->n[2];
	vi[1] = idx / L->n[2] % L->n[1];
	vi[0] = idx / L->n[2] / L->n[1];
	berth_buf_puts(b, defs[m].name, NULL);
	berth_buf_puts(b, suffix, NULL);
	for (int k = 0; k < 3; k++) {
		const mlabel *l = &labels[defs[m].l[k]];

		if (l->name == NULL)
			continue;
		berth_buf_puts(b, any ? "," : "{", NULL);
		berth_buf_printf(b, NULL, "%s=\"", l->name);
		srv_metrics_escape(b, l->v[vi[k]], true);
		berth_buf_puts(b, "\"", NULL);
		any = true;
	}
	if (le) {
		berth_buf_printf(b, NULL, "%sle=\"%s\"", any ? "," : "{", le);
		any = true;
	}
	berth_buf_puts(b, any ? "} " : " ", NULL);
}

static uint64_t
sum_cell(size_t i)
{
	uint64_t v = 0;

	for (size_t k = 0; k < NSHARD; k++)
		v += atomic_load_explicit(&cells[k * stride + i],
					  memory_order_relaxed);
	return v;
}

static bool
labelled(srv_metric m)
{
	return defs[m].l[0] != SRV_ML_NONE;
}

static void
render_histogram(berth_buf *b, srv_metric m, size_t series)
{
	size_t base = lay[m].off + series * lay[m].cells;
	uint64_t n[NBUCKETS + 1], count = 0, sum_ns;
	char le[32];

	for (size_t i = 0; i <= NBUCKETS; i++)
		count += n[i] = sum_cell(base + i);
	if (count == 0 && labelled(m))
		return; /* a series nothing has touched */
	sum_ns = sum_cell(base + NBUCKETS + 1);
	count = 0;
	for (size_t i = 0; i < NBUCKETS; i++) {
		count += n[i];
		snprintf(le, sizeof(le), "%g", bounds[i]);
		put_series(b, m, "_bucket", series, le);
		berth_buf_printf(b, NULL, "%" PRIu64 "\n", count);
	}
	count += n[NBUCKETS];
	put_series(b, m, "_bucket", series, "+Inf");
	berth_buf_printf(b, NULL, "%" PRIu64 "\n", count);
	put_series(b, m, "_sum", series, NULL);
	put_value(b, (double)sum_ns / 1e9);
	berth_buf_puts(b, "\n", NULL);
	put_series(b, m, "_count", series, NULL);
	berth_buf_printf(b, NULL, "%" PRIu64 "\n", count);
}

static void
render_one(berth_buf *b, srv_metric m)
{
	const mdef *d = &defs[m];
	const mlayout *L = &lay[m];
	size_t series = L->n[0] * L->n[1] * L->n[2];
	const char *type;
	double v;

	switch (d->kind) {
	case SRV_MK_COUNTER:
	case SRV_MK_SAMPLED_COUNTER:
		type = "counter";
		break;
	case SRV_MK_HISTOGRAM:
		type = "histogram";
		break;
	default:
		type = "gauge";
	}
	if ((d->kind == SRV_MK_SAMPLED_GAUGE ||
	     d->kind == SRV_MK_SAMPLED_COUNTER) &&
	    (samplers[m].fn == NULL || samplers[m].fn(samplers[m].ud, &v) < 0))
		return; /* nothing to say this time */
	berth_buf_printf(b, NULL, "# HELP %s ", d->name);
	srv_metrics_escape(b, d->help, false);
	berth_buf_printf(b, NULL, "\n# TYPE %s %s\n", d->name, type);
	switch (d->kind) {
	case SRV_MK_SAMPLED_GAUGE:
	case SRV_MK_SAMPLED_COUNTER:
		put_series(b, m, "", 0, NULL);
		put_value(b, v);
		berth_buf_puts(b, "\n", NULL);
		return;
	case SRV_MK_HISTOGRAM:
		for (size_t i = 0; i < series; i++)
			render_histogram(b, m, i);
		return;
	case SRV_MK_COUNTER:
	case SRV_MK_GAUGE:
		for (size_t i = 0; i < series; i++) {
			uint64_t c = sum_cell(L->off + i);

			if (c == 0 && labelled(m))
				continue;
			put_series(b, m, "", i, NULL);
			if (d->kind == SRV_MK_GAUGE)
				berth_buf_printf(b, NULL, "%" PRId64 "\n",
						 (int64_t)c);
			else
				berth_buf_printf(b, NULL, "%" PRIu64 "\n", c);
		}
		return;
	}
}

void
srv_metrics_render(berth_buf *b)
{
	if (cells == NULL)
		return;
	for (size_t m = 0; m < SRV_M_N; m++)
		render_one(b, (srv_metric)m);
}
