/*
 * Concurrent blob downloads.
 *
 * Why threads and not libcurl's multi interface: the sink does real work on
 * every byte (the store's writer hashes it with SHA-256 and writes it out),
 * and hashing a layer costs about as much CPU as receiving it. With one
 * worker thread per transfer, each owning its easy handle and calling its
 * job's sink, hashing runs on every core at once; a single multi loop would
 * hash everything on one core. Workers take the next job from a shared
 * queue, so a small layer never waits behind a large one.
 *
 * Handles come from the registry's pool and go back to it, so their
 * connections stay open for the next call; DNS answers and TLS sessions are
 * shared between them (http.c explains why connections themselves are not).
 */
#include "registry/registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/pool.h"
#include "util/xalloc.h"

#define FETCH_DEFAULT_WORKERS 3
#define FETCH_MAX_WORKERS REG_POOL_MAX
/* A PROGRESS event at most every this many bytes of a job. */
#define FETCH_PROGRESS_STEP ((int64_t)512 << 10)

struct fetch {
	berth_registry *r;
	const char *repo;
	char *scope;
	berth_blob_job *jobs;
	size_t n;
	berth_blob_progress_fn progress;
	void *ud;

	pthread_mutex_t mu; /* first */
	ssize_t first;	   /* the job whose failure cancelled the rest, or -1 */
	atomic_int cancel; /* set with `first`; read by transfers in flight */
	pthread_mutex_t progress_mu;
};

struct job_ctx {
	struct fetch *f;
	berth_blob_job *job;
	berth_http *h;
	int64_t reported;
	int64_t skip; /* bytes the sink already holds, sent again (200) */
	bool checked_length;
	bool sink_failed;
};

static void
emit(struct fetch *f, berth_blob_job *job, berth_blob_event ev)
{
	if (f->progress == NULL)
		return;
	pthread_mutex_lock(&f->progress_mu);
	f->progress(f->ud, job, ev);
	pthread_mutex_unlock(&f->progress_mu);
}

static int
too_large(struct fetch *f, berth_blob_job *job, berth_error **err)
{
	return berth_error_set(err, BERTH_EDIGEST, 0,
			       "blob '%s' from '%s' is larger than its "
			       "descriptor's %lld bytes",
			       job->desc->digest.str, f->r->name,
			       (long long)job->desc->size);
}

static int
too_small(struct fetch *f, berth_blob_job *job, int64_t got, berth_error **err)
{
	return berth_error_set(err, BERTH_EDIGEST, 0,
			       "blob '%s' from '%s' is smaller than its "
			       "descriptor's %lld bytes (the registry sends "
			       "%lld)",
			       job->desc->digest.str, f->r->name,
			       (long long)job->desc->size, (long long)got);
}

static int
cut_off(struct fetch *f, berth_blob_job *job, berth_error **err)
{
	int r = berth_error_set(err, BERTH_ENET, 0,
				"download of blob '%s' from '%s' was cut off "
				"after %lld of %lld bytes",
				job->desc->digest.str, f->r->name,
				(long long)job->received,
				(long long)job->desc->size);

	berth_error_hint(err, "the connection broke; run the command again "
			      "to retry (blobs already complete are kept)");
	return r;
}

/* Counts, bounds and forwards bytes to the job's sink (worker thread). */
static int
job_sink(void *ud, const void *p, size_t len, berth_error **err)
{
	struct job_ctx *c = ud;
	berth_blob_job *job = c->job;
	int64_t size = job->desc->size;
	int r;

	if (!c->checked_length) {
		int64_t cl = berth_http_content_length(c->h);
		int64_t want = size;

		c->checked_length = true;
		/* A Range request answered 206 sends the rest; a server that
		 * ignores Range (200) sends all, and the held part is skipped.
		 */
		if (job->offset > 0 && berth_http_status(c->h) == 206)
			want = size - job->offset;
		else
			c->skip = job->offset;
		c->sink_failed =
			true; /* our own verdicts below are final too */
		if (cl > want)
			return too_large(c->f, job, err);
		if (cl >= 0 && cl < want)
			return too_small(c->f, job, cl + (size - want), err);
		c->sink_failed = false;
	}
	if (c->skip > 0) {
		size_t drop = (int64_t)len < c->skip ? len : (size_t)c->skip;

		c->skip -= (int64_t)drop;
		p = (const char *)p + drop;
		len -= drop;
		if (len == 0)
			return 0;
	}
	if ((int64_t)len > size - job->received) {
		c->sink_failed = true;
		return too_large(c->f, job, err);
	}
	r = job->sink(job->sink_ud, p, len, err);
	if (r < 0) {
		c->sink_failed = true;
		if (err && *err == NULL)
			berth_error_set(err, r, 0, "writing blob '%s' failed",
					job->desc->digest.str);
		return r;
	}
	job->received += (int64_t)len;
	if (job->received - c->reported >= FETCH_PROGRESS_STEP) {
		c->reported = job->received;
		emit(c->f, job, BERTH_BLOB_PROGRESS);
	}
	return 0;
}

static int
fetch_one(struct fetch *f, berth_http *h, berth_blob_job *job)
{
	struct job_ctx c = {.f = f, .job = job, .h = h};
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	_cleanup_free_ char *url = NULL, *subject = NULL, *range = NULL;
	berth_http_resp resp;
	int rc;

	url = reg_url(f->r, "%s/blobs/%s", f->repo, job->desc->digest.str);
	req.url = url;
	req.follow = true;
	if (job->offset > 0) {
		range = xasprintf("bytes=%lld-", (long long)job->offset);
		req.range = range;
		berth_log(BERTH_LOG_INFO,
			  "blob '%s': continuing from '%s' at byte %lld of "
			  "%lld",
			  job->desc->digest.str, f->r->host,
			  (long long)job->offset, (long long)job->desc->size);
	}
	req.sink = job_sink;
	req.sink_ud = &c;
	req.cancel = &f->cancel;
	berth_http_resp_init(&resp);
	rc = reg_send(f->r, h, &req, f->scope, &resp, &job->err);
	if (rc < 0) {
		/* A sink's verdict stands; a broken 200 is a cut-off download.
		 */
		if (!c.sink_failed && rc == BERTH_ENET &&
		    resp.curl_code != CURLE_OPERATION_TIMEDOUT &&
		    (resp.status == 200 || resp.status == 206))
			rc = cut_off(f, job, &job->err);
	} else if (resp.status != 200 &&
		   !(resp.status == 206 && job->offset > 0)) {
		subject = xasprintf("blob '%s'", job->desc->digest.str);
		rc = reg_fail(f->r, &resp, f->repo, subject, "pull", &job->err);
	} else if (job->received != job->desc->size) {
		if (resp.content_length >= 0 &&
		    resp.content_length != job->desc->size)
			rc = resp.content_length > job->desc->size
				     ? too_large(f, job, &job->err)
				     : too_small(f, job, resp.content_length,
						 &job->err);
		else
			rc = cut_off(f, job, &job->err);
	}
	berth_http_resp_release(&resp);
	return rc;
}

static void
run_job(struct fetch *f, berth_http *h, size_t i)
{
	berth_blob_job *job = &f->jobs[i];
	bool first = false;
	int rc;

	emit(f, job, BERTH_BLOB_STARTED);
	rc = fetch_one(f, h, job);
	if (rc == 0) {
		berth_log(BERTH_LOG_INFO, "blob '%s' from '%s' (%lld bytes)",
			  job->desc->digest.str, f->r->host,
			  (long long)(job->desc->size - job->offset));
		job->result = 0;
		emit(f, job, BERTH_BLOB_DONE);
		return;
	}
	pthread_mutex_lock(&f->mu);
	if (f->first < 0 &&
	    !(rc == BERTH_EINTERRUPTED && atomic_load(&f->cancel))) {
		f->first = (ssize_t)i;
		atomic_store(&f->cancel, 1);
		first = true;
	}
	pthread_mutex_unlock(&f->mu);
	if (!first && rc == BERTH_EINTERRUPTED)
		berth_error_set(&job->err, BERTH_EINTERRUPTED, 0,
				"download of blob '%s' from '%s' was cancelled",
				job->desc->digest.str, f->r->name);
	if (job->err == NULL)
		berth_error_set(&job->err, rc, 0,
				"download of blob '%s' from "
				"'%s' failed",
				job->desc->digest.str, f->r->name);
	job->result = rc;
	emit(f, job, BERTH_BLOB_FAILED);
}

/* The pool's callbacks: one HTTP handle per worker, stop on a failure. */
static void *
worker_enter(void *ud)
{
	return reg_handle_get(((struct fetch *)ud)->r);
}

static void
worker_leave(void *ud, void *h)
{
	reg_handle_put(((struct fetch *)ud)->r, h);
}

static void
worker_run(void *ud, void *h, size_t i)
{
	run_job(ud, h, i);
}

static bool
worker_stopped(void *ud)
{
	return atomic_load(&((struct fetch *)ud)->cancel) != 0;
}

static const berth_pool_ops fetch_pool = {
	.run = worker_run,
	.stopped = worker_stopped,
	.enter = worker_enter,
	.leave = worker_leave,
};

static berth_error *
error_copy(const berth_error *e)
{
	berth_error *c = xcalloc(1, sizeof(*c));

	c->code = e->code;
	c->sys_errno = e->sys_errno;
	c->msg = xstrdup(e->msg ? e->msg : "");
	c->hint = e->hint ? xstrdup(e->hint) : NULL;
	return c;
}

int
berth_registry_fetch_blobs(berth_registry *r, const char *repo,
			   berth_blob_job *jobs, size_t n,
			   unsigned max_concurrent,
			   berth_blob_progress_fn progress, void *ud,
			   berth_error **err)
{
	struct fetch f = {
		.r = r,
		.repo = repo,
		.jobs = jobs,
		.n = n,
		.progress = progress,
		.ud = ud,
		.first = -1,
	};
	size_t workers =
		max_concurrent ? max_concurrent : FETCH_DEFAULT_WORKERS;
	size_t started;
	int rc;

	if ((rc = reg_check_repo(r, repo, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (berth_opts_check(jobs[i].version, BERTH_BLOB_JOB_VERSION,
				     "berth_blob_job", err) < 0)
			return BERTH_EUSAGE;
	for (size_t i = 0; i < n; i++) {
		jobs[i].received = jobs[i].offset;
		jobs[i].result = 0;
		berth_error_free(jobs[i].err);
		jobs[i].err = NULL;
	}
	if (n == 0)
		return 0;
	if (workers > FETCH_MAX_WORKERS)
		workers = FETCH_MAX_WORKERS;
	if (workers > n)
		workers = n;
	f.scope = reg_scope(repo, "pull");
	atomic_init(&f.cancel, 0);
	pthread_mutex_init(&f.mu, NULL);
	pthread_mutex_init(&f.progress_mu, NULL);

	started = berth_pool_run(&fetch_pool, &f, n, workers);

	/* Jobs never started were cancelled by the first failure. */
	for (size_t i = started; i < n; i++) {
		jobs[i].result = BERTH_EINTERRUPTED;
		berth_error_set(&jobs[i].err, BERTH_EINTERRUPTED, 0,
				"download of blob '%s' from '%s' was cancelled",
				jobs[i].desc->digest.str, r->name);
	}
	rc = 0;
	if (f.first >= 0) {
		berth_blob_job *job = &jobs[f.first];

		rc = job->result;
		if (err) {
			berth_error_free(*err);
			*err = error_copy(job->err);
		}
	}
	pthread_mutex_destroy(&f.mu);
	pthread_mutex_destroy(&f.progress_mu);
	free(f.scope);
	return rc;
}
