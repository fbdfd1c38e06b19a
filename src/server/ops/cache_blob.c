/*
 * Blobs of proxied repositories: fetched from the upstream once, however
 * many clients ask at the same time, and streamed to all of them while
 * the bytes arrive.
 *
 * The first request for a blob the repository lacks asks the upstream
 * for its size (HEAD), opens an upload session and starts a fetch thread
 * that appends the upstream's bytes to it. Every request for the same
 * blob meanwhile joins that fetch: its answer reads the session file up
 * to what has arrived, and when it has caught up its connection is
 * suspended until the fetch appends more (MHD resumes it; no thread
 * waits); they are woken once per STREAM_BLOCK that arrives, not for
 * every piece the upstream's connection hands over. The last byte of
 * every answer is held back until the session has been verified against
 * the digest: on a mismatch (or any failure before it) nothing is stored
 * and every answer is cut short, so no client ever receives a complete
 * wrong blob. Making the blob durable (fsync) and linking it happen after
 * the clients have their last byte: their bytes are right whether or not
 * the store keeps them.
 *
 * A Range request for a blob still in flight is streamed the same way
 * (206; its last byte waits for the digest too): dockerd resumes a broken
 * download with one and insists on 206.
 */
#include "server/ops/cache_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "server/ops/metrics.h"
#include "server/http/range.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define STREAM_BLOCK ((size_t)256 << 10)

typedef enum fetch_state {
	FETCH_RUNNING,
	FETCH_COMMITTING, /* every byte is in; verifying and storing */
	FETCH_DONE,	  /* stored and linked */
	FETCH_FAILED,
} fetch_state;

struct cache_fetch {
	cache_fetch *next; /* c->fetches while not ended */
	srv_cache *c;
	srv_storage *st;
	srv_upstreams *ups; /* a reference, keeping `up` alive */
	srv_upstream *up;
	char *repo;    /* the local name */
	char *up_repo; /* the upstream's */
	berth_digest d;
	int64_t size;
	char id[33]; /* the upload session */
	berth_bs_writer *w;

	/* under c->mu: */
	int refs; /* the thread's, and one per answer streaming */
	fetch_state state;
	bool verified; /* every byte is in and matches the digest */
	int64_t received;
	int64_t woken; /* `received` when the waiting were last resumed */
	struct MHD_Connection **waiting; /* suspended until more arrives */
	size_t n_waiting, cap_waiting;
};

typedef struct cache_stream {
	cache_fetch *f;
	berth_bs_reader *rd; /* the session's bytes [off, off + len) */
	struct MHD_Connection *conn;
	int64_t off, len, pos;
} cache_stream;

/* Under c->mu. */
static void
resume_waiting(cache_fetch *f)
{
	for (size_t i = 0; i < f->n_waiting; i++)
		MHD_resume_connection(f->waiting[i]);
	f->n_waiting = 0;
}

/* Under c->mu; frees f with its last reference. */
static void
fetch_unref_locked(cache_fetch *f)
{
	if (--f->refs > 0)
		return;
	berth_bs_writer_close(f->w);
	srv_upstreams_put(f->ups);
	free(f->repo);
	free(f->up_repo);
	free(f->waiting);
	free(f);
}

static void
fetch_unref(cache_fetch *f)
{
	srv_cache *c = f->c;

	pthread_mutex_lock(&c->mu);
	fetch_unref_locked(f);
	pthread_mutex_unlock(&c->mu);
}

/* Under c->mu: the fetch of repo's blob d not yet ended, or NULL. */
static cache_fetch *
fetch_find(srv_cache *c, const char *repo, const berth_digest *d)
{
	for (cache_fetch *f = c->fetches; f; f = f->next)
		if (strcmp(f->d.str, d->str) == 0 && strcmp(f->repo, repo) == 0)
			return f;
	return NULL;
}

static void
fetch_unlink(srv_cache *c, cache_fetch *f)
{
	for (cache_fetch **pp = &c->fetches; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			return;
		}
}

/* The upstream's bytes, in order, on the fetch thread. */
static int
fetch_sink(void *ud, const void *p, size_t len, berth_error **err)
{
	cache_fetch *f = ud;
	int r = srv_storage_upload_append(f->w, p, len, err);

	if (r < 0)
		return r;
	srv_metric_add(SRV_M_CACHE_BYTES, SRV_CACHE_BLOB, 0, 0, (int64_t)len);
	pthread_mutex_lock(&f->c->mu);
	f->received += (int64_t)len;
	if (f->received - f->woken >= (int64_t)STREAM_BLOCK) {
		f->woken = f->received;
		resume_waiting(f);
	}
	pthread_mutex_unlock(&f->c->mu);
	return 0;
}

static void *
fetch_main(void *arg)
{
	cache_fetch *f = arg;
	srv_cache *c = f->c;
	berth_descriptor desc = BERTH_DESCRIPTOR_INIT;
	berth_blob_job job = BERTH_BLOB_JOB_INIT;
	berth_error *err = NULL;
	unsigned result;
	int rc;

	desc.digest = f->d;
	desc.size = f->size;
	job.desc = &desc;
	job.sink = fetch_sink;
	job.sink_ud = f;
	rc = berth_registry_fetch_blobs(f->up->reg, f->up_repo, &job, 1, 1,
					NULL, NULL, &err);
	berth_bs_writer_closep(&f->w);
	pthread_mutex_lock(&c->mu);
	f->state = FETCH_COMMITTING;
	resume_waiting(f); /* the bytes since the last block */
	pthread_mutex_unlock(&c->mu);
	if (rc == 0 &&
	    (rc = srv_storage_fetch_verify(f->st, f->id, &f->d, &err)) == 0) {
		pthread_mutex_lock(&c->mu);
		f->verified = true;
		resume_waiting(f);
		pthread_mutex_unlock(&c->mu);
	}
	if (rc == 0)
		rc = srv_storage_fetch_commit(f->st, f->id, f->repo, &f->d,
					      &err);
	else
		srv_storage_fetch_abort(f->st, f->id);
	result = rc == 0		 ? SRV_FETCH_OK
		 : rc == BERTH_EDIGEST	 ? SRV_FETCH_BAD_DIGEST
		 : rc == BERTH_ENOTFOUND ? SRV_FETCH_NOT_FOUND
		 : rc == BERTH_ETOOMANY	 ? SRV_FETCH_RATE_LIMITED
		 : rc == BERTH_ENET	 ? SRV_FETCH_UNREACHABLE
					 : SRV_FETCH_FAILED;
	srv_metric_add(SRV_M_CACHE_FETCHES, SRV_CACHE_BLOB, result, 0, 1);
	if (rc < 0) {
		berth_log(BERTH_LOG_ERROR,
			  "blob '%s' of '%s' from upstream %s not cached: %s",
			  f->d.str, f->repo, f->up->url, err->msg);
		berth_error_free(err);
	} else {
		berth_log(BERTH_LOG_INFO,
			  "blob '%s' of '%s' cached from upstream %s (%" PRId64
			  " bytes)",
			  f->d.str, f->repo, f->up->url, f->size);
	}
	pthread_mutex_lock(&c->mu);
	f->state = rc == 0 ? FETCH_DONE : FETCH_FAILED;
	resume_waiting(f);
	fetch_unlink(c, f);
	c->running--;
	pthread_cond_broadcast(&c->ended);
	fetch_unref_locked(f);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void
srv_cache_stop(srv_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1; /* the upstream clients' transfers end */
	while (c->running > 0)
		pthread_cond_wait(&c->ended, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	cache_stream *s = cls;
	cache_fetch *f = s->f;
	berth_error *err = NULL;
	int64_t end = s->off + s->len, cur = s->off + s->pos, avail;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&f->c->mu);
	/* Verified bytes are right even when storing them failed. */
	if (f->state == FETCH_FAILED && !f->verified) {
		pthread_mutex_unlock(&f->c->mu);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* The last byte waits for the digest to be checked. */
	avail = f->verified || f->state == FETCH_DONE ? end
		: f->received < end		      ? f->received
						      : end - 1;
	if (cur >= avail) {
		if (f->n_waiting == f->cap_waiting) {
			f->cap_waiting =
				f->cap_waiting ? 2 * f->cap_waiting : 8;
			f->waiting = xreallocarray(f->waiting, f->cap_waiting,
						   sizeof(*f->waiting));
		}
		f->waiting[f->n_waiting++] = s->conn;
		MHD_suspend_connection(s->conn);
		pthread_mutex_unlock(&f->c->mu);
		return 0;
	}
	pthread_mutex_unlock(&f->c->mu);
	if ((int64_t)max > avail - cur)
		max = (size_t)(avail - cur);
	n = s->rd->ops->reader_read(s->rd, buf, max, &err);
	if (n <= 0) {
		berth_log(BERTH_LOG_ERROR, "streaming blob '%s': %s", f->d.str,
			  err ? err->msg : "no bytes");
		berth_error_free(err);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	s->pos += n;
	return n;
}

static void
stream_free(void *cls)
{
	cache_stream *s = cls;

	berth_bs_reader_close(s->rd);
	fetch_unref(s->f);
	free(s);
}

/*
 * Under c->mu, f running: answers r from f's session (its Range too).
 * Drops the lock.
 */
static int
stream_answer(srv_req *r, cache_fetch *f)
{
	srv_cache *c = f->c;
	berth_error *err = NULL;
	struct MHD_Response *resp;
	cache_stream *s;
	uint64_t off = 0, len = (uint64_t)f->size;
	unsigned status = MHD_HTTP_OK;
	char buf[BERTH_DIGEST_MAX + 64];
	int rr = srv_parse_range(&off, &len,
				 srv_header(r, MHD_HTTP_HEADER_RANGE),
				 (uint64_t)f->size);

	if (rr < 0) {
		pthread_mutex_unlock(&c->mu);
		resp = srv_error_response(SRV_E_RANGE_INVALID, NULL,
					  "requested range not satisfiable",
					  &status);
		snprintf(buf, sizeof(buf), "bytes */%" PRId64, f->size);
		srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, buf);
		return srv_send(r, status, resp);
	}
	s = xcalloc(1, sizeof(*s));
	if (srv_storage_fetch_reader(f->st, &s->rd, f->id, (int64_t)off,
				     (int64_t)len, &err) < 0) {
		pthread_mutex_unlock(&c->mu);
		free(s);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	f->refs++;
	pthread_mutex_unlock(&c->mu);
	s->f = f;
	s->conn = r->conn;
	s->off = (int64_t)off;
	s->len = (int64_t)len;
	resp = MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read,
						 s, stream_free);
	if (resp == NULL)
		abort();
	r->bytes = len;
	if (rr > 0) {
		status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(buf, sizeof(buf),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRId64, off,
			 off + len - 1, f->size);
		srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, buf);
	}
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			"application/octet-stream");
	srv_resp_header(resp, "Docker-Content-Digest", f->d.str);
	srv_resp_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	snprintf(buf, sizeof(buf), "\"%s\"", f->d.str);
	srv_resp_header(resp, MHD_HTTP_HEADER_ETAG, buf);
	srv_notify(r, SRV_EV_PULL, "application/octet-stream", f->d.str,
		   f->size, NULL, NULL);
	return srv_send(r, status, resp);
}

/*
 * Under c->mu: joins the fetch of r's blob when one runs (answering r;
 * 1), waits out one that is committing; 0 when there is none to join.
 */
static int
join(srv_req *r, srv_cache *c, const berth_digest *d, bool *done, int *rc)
{
	cache_fetch *f;

	*done = false;
	while ((f = fetch_find(c, r->name, d)) != NULL &&
	       f->state == FETCH_COMMITTING)
		pthread_cond_wait(&c->ended, &c->mu);
	if (f == NULL)
		return 0;
	if (f->state == FETCH_DONE) {
		*done = true;
		return 0;
	}
	if (f->state != FETCH_RUNNING)
		return 0;
	*rc = stream_answer(r, f);
	return 1;
}

/* Answers a HEAD from what the upstream said. */
static int
head_answer(srv_req *r, const berth_digest *d, int64_t size)
{
	struct MHD_Response *resp = srv_resp_head((uint64_t)size);

	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			"application/octet-stream");
	srv_resp_header(resp, "Docker-Content-Digest", d->str);
	srv_notify(r, SRV_EV_PULL, "application/octet-stream", d->str, size,
		   NULL, NULL);
	return srv_send(r, MHD_HTTP_OK, resp);
}

static int
via_upstream(srv_req *r, srv_upstreams *ups, srv_upstream *up,
	     const char *up_repo, const berth_digest *d, bool *answered)
{
	_cleanup_(berth_registry_answer_releasep) berth_registry_answer a =
		BERTH_REGISTRY_ANSWER_INIT;
	srv_cache *c = r->s->cache;
	berth_error *err = NULL;
	cache_fetch *f;
	bool done;
	int rc = 0;
	int64_t size;
	pthread_t th;
	pthread_attr_t attr;

	if (srv_storage_blob_stat(r->s->store, r->name, d, &size, NULL) == 0) {
		srv_metric_inc(SRV_M_CACHE_HITS, SRV_CACHE_BLOB);
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	if (join(r, c, d, &done, &rc)) {
		*answered = true;
		srv_metric_inc(SRV_M_CACHE_HITS, SRV_CACHE_BLOB);
		return rc;
	}
	pthread_mutex_unlock(&c->mu);
	if (done)
		return 0;
	srv_metric_inc(SRV_M_CACHE_MISSES, SRV_CACHE_BLOB);
	*answered = true;
	rc = berth_registry_answer_get(&a, up->reg, up_repo, "blobs", d->str,
				       true, &err);
	if (rc < 0 || a.status != 200 || a.size < 0) {
		_cleanup_free_ char *why =
			rc < 0		  ? xstrdup(err->msg)
			: a.status != 200 ? xasprintf("answered %ld", a.status)
					  : xstrdup("no Content-Length for the "
						    "blob");

		srv_metric_add(SRV_M_CACHE_FETCHES, SRV_CACHE_BLOB,
			       srv_cache_fetch_result(rc < 0 ? 0 : a.status), 0,
			       1);
		berth_error_free(err);
		if (a.status == 200)
			a.status = 0;
		return srv_cache_pass_failure(r, rc < 0 ? NULL : &a, up->url,
					      why);
	}
	/* Another repository's copy is as good (a digest is its content). */
	if (srv_storage_blob_adopt(r->s->store, r->name, d, a.size, NULL) ==
	    0) {
		*answered = false;
		return 0;
	}
	if (r->head)
		return head_answer(r, d, a.size);

	f = xcalloc(1, sizeof(*f));
	f->c = c;
	f->st = r->s->store;
	f->d = *d;
	f->size = a.size;
	if (srv_storage_fetch_begin(f->st, f->id, &f->w, &err) < 0) {
		free(f);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	pthread_mutex_lock(&c->mu);
	/* Someone else may have started it while we asked upstream. */
	if (fetch_find(c, r->name, d) != NULL) {
		pthread_mutex_unlock(&c->mu);
		berth_bs_writer_close(f->w);
		srv_storage_fetch_abort(f->st, f->id);
		free(f);
		pthread_mutex_lock(&c->mu);
		if (join(r, c, d, &done, &rc))
			return rc; /* answered, unlocked */
		pthread_mutex_unlock(&c->mu);
		if (done) {
			*answered = false;
			return 0;
		}
		return srv_fail(r, SRV_E_BLOB_UNKNOWN, NULL,
				"fetching blob '%s' from upstream %s failed",
				d->str, up->url);
	}
	f->ups = srv_upstreams_ref(ups);
	f->up = up;
	f->repo = xstrdup(r->name);
	f->up_repo = xstrdup(up_repo);
	f->refs = 1; /* the thread's */
	f->state = FETCH_RUNNING;
	f->next = c->fetches;
	c->fetches = f;
	c->running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, fetch_main, f) != 0) {
		fetch_unlink(c, f);
		c->running--;
		berth_bs_writer_closep(&f->w);
		srv_storage_fetch_abort(f->st, f->id);
		fetch_unref_locked(f);
		pthread_mutex_unlock(&c->mu);
		pthread_attr_destroy(&attr);
		return srv_fail(r, SRV_E_INTERNAL, NULL,
				"cannot start a fetch thread");
	}
	pthread_attr_destroy(&attr);
	return stream_answer(r, f);
}

int
srv_cache_blob(srv_req *r, const berth_digest *d, bool *answered)
{
	srv_upstreams *ups = srv_cache_upstreams(r->s->cache);
	_cleanup_free_ char *up_repo = NULL;
	srv_upstream *up = srv_upstreams_route(ups, r->name, &up_repo);
	int rc = 0;

	*answered = false;
	if (up)
		rc = via_upstream(r, ups, up, up_repo, d, answered);
	srv_upstreams_put(ups);
	return rc;
}
