/*
 * The collector's bookkeeping (gc_int.h): what a run deleted, into its
 * report, the audit log (actor "gc") and the metrics; the report as JSON.
 */
#include "server/ops/gc_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/ops/metrics.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* Why each kind goes, for the audit log. */
static const char *const why[] = {
	[SRV_GC_MANIFEST] = "gc: no tag, index or subject keeps it",
	[SRV_GC_BLOB_LINK] = "gc: no manifest of the repository references it",
	[SRV_GC_BLOB] = "gc: no manifest or link uses its bytes",
	[SRV_GC_UPLOAD] = "gc: upload session expired (upload-ttl)",
	[SRV_GC_TMP] = "gc: temporary file left behind",
};

void
gc_run_init(gc_run *run, srv_storage *st, const srv_gc_opts *o,
	    srv_gc_report *out, int64_t now)
{
	memset(run, 0, sizeof(*run));
	run->st = st;
	run->dry_run = o->dry_run;
	run->now = now;
	run->cutoff = now - o->grace;
	run->audit = o->audit;
	run->out = out;
	run->removed = berth_hmap_new(4096);
}

static void
item_release(srv_gc_item *it)
{
	free(it->repository);
	free(it->name);
}

void
gc_run_release(gc_run *run)
{
	for (size_t i = 0; i < run->n_pending; i++)
		item_release(&run->pending[i]);
	free(run->pending);
	berth_hmap_free(run->removed, NULL);
}

void
gc_removed(gc_run *run, unsigned kind, const char *repo, const char *name,
	   int64_t size)
{
	run->pending = xreallocarray(run->pending, run->n_pending + 1,
				     sizeof(*run->pending));
	run->pending[run->n_pending++] = (srv_gc_item){
		kind, repo ? xstrdup(repo) : NULL, xstrdup(name), size};
}

static char *
removed_key(unsigned kind, const char *repo, const char *digest)
{
	return xasprintf("%u\t%s\t%s", kind, repo ? repo : "",
			 digest ? digest : "");
}

bool
gc_was_removed(gc_run *run, unsigned kind, const char *repo, const char *digest)
{
	char *key = removed_key(kind, repo, digest);
	bool found = berth_hmap_get(run->removed, key) != NULL;

	free(key);
	return found;
}

static void
audit(gc_run *run, const srv_gc_item *it)
{
	berth_audit_event ev = {
		.action = "delete",
		.actor = "gc",
		.repository = it->repository,
		.digest = it->kind <= SRV_GC_BLOB ? it->name : NULL,
		.reference = it->kind > SRV_GC_BLOB ? it->name : NULL,
		.detail = why[it->kind],
	};

	if (run->audit && !run->dry_run)
		berth_audit_write(run->audit, &ev);
}

void
gc_settle(gc_run *run, bool happened)
{
	srv_gc_report *out = run->out;

	for (size_t i = 0; i < run->n_pending; i++) {
		srv_gc_item *it = &run->pending[i];

		if (!happened) {
			item_release(it);
			continue;
		}
		if (it->kind == SRV_GC_MANIFEST ||
		    it->kind == SRV_GC_BLOB_LINK) {
			char *key =
				removed_key(it->kind, it->repository, it->name);

			if (berth_hmap_get(run->removed, key) == NULL)
				berth_hmap_put(run->removed, key, run);
			free(key);
		} else {
			out->freed += it->size;
		}
		audit(run, it);
		out->count[it->kind]++;
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 64;
			out->items = xreallocarray(out->items, out->cap,
						   sizeof(*out->items));
		}
		out->items[out->n++] = *it;
	}
	run->n_pending = 0;
}

void
srv_gc_report_release(srv_gc_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		item_release(&r->items[i]);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

char *
srv_gc_report_json(const srv_gc_report *r)
{
	json_t *o = json_object(), *del = json_array(), *counts = json_object();
	char *text;

	for (size_t i = 0; i < r->n; i++) {
		const srv_gc_item *it = &r->items[i];
		json_t *e = json_object();

		json_object_set_new(e, "kind",
				    json_string(srv_metric_label_value(
					    SRV_ML_GC_KIND, it->kind)));
		if (it->repository)
			json_object_set_new(e, "repository",
					    json_string(it->repository));
		json_object_set_new(e,
				    it->kind <= SRV_GC_BLOB ? "digest" : "name",
				    json_string(it->name));
		json_object_set_new(e, "size", json_integer(it->size));
		json_array_append_new(del, e);
	}
	for (unsigned k = 0; k < BERTH_ARRAY_SIZE(r->count); k++)
		json_object_set_new(counts,
				    srv_metric_label_value(SRV_ML_GC_KIND, k),
				    json_integer(r->count[k]));
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	json_object_set_new(o, "deleted", del);
	json_object_set_new(o, "bytes", json_integer(r->freed));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "seconds", json_real(r->seconds));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

/* The last run's wall time in microseconds, or -1 before the first. */
static _Atomic int64_t last_us = -1;

static int
last_seconds(void *ud, double *v)
{
	int64_t us = atomic_load(&last_us);

	(void)ud;
	if (us < 0)
		return -1;
	*v = (double)us / 1e6;
	return 0;
}

void
srv_gc_metrics(void)
{
	srv_metrics_sampler(SRV_M_GC_LAST_SECONDS, last_seconds, NULL);
}

void
gc_account(const srv_gc_report *r, int result)
{
	srv_metric_inc(SRV_M_GC_RUNS, result < 0   ? SRV_RUN_FAILED
				      : r->dry_run ? SRV_RUN_DRY_RUN
						   : SRV_RUN_OK);
	atomic_store(&last_us, (int64_t)(r->seconds * 1e6));
	if (r->dry_run)
		return;
	for (unsigned k = 0; k < BERTH_ARRAY_SIZE(r->count); k++)
		if (r->count[k])
			srv_metric_add(SRV_M_GC_DELETED, k, 0, 0, r->count[k]);
	if (r->freed)
		srv_metric_add(SRV_M_GC_FREED, 0, 0, 0, r->freed);
}
