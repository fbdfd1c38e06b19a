/*
 * The thin storage API of storage.h: each call is what a request does,
 * pairing the blob store and the metadata store where it needs both.
 */
#include "server/storage/storage.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/metrics.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int
srv_storage_open(srv_storage **out, const char *dir, int conns,
		 berth_error **err)
{
	return srv_storage_open_with(out, dir, NULL, NULL, conns, err);
}

int
srv_storage_open_with(srv_storage **out, const char *dir,
		      const berth_s3_opts *s3, const char *meta, int conns,
		      berth_error **err)
{
	_cleanup_free_ char *db = NULL;
	srv_storage *st = xcalloc(1, sizeof(*st));
	int r;

	/* The metadata's directory: the file system store makes it. */
	if (s3 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		free(st);
		berth_error_set(err, BERTH_EIO, errno,
				"cannot create directory '%s': %s", dir,
				strerror(errno));
		berth_error_hint(err, "make --storage a writable directory");
		return BERTH_EIO;
	}
	if (meta == NULL)
		meta = db = xasprintf("%s/metadata.db", dir);
	if ((r = s3 ? berth_blobstore_s3_new(&st->blobs, s3, err)
		    : berth_blobstore_fs_new(&st->blobs, dir, err)) < 0 ||
	    (r = berth_meta_is_pg(meta)
			 ? berth_meta_pg_open(&st->meta, meta, conns, err)
			 : berth_meta_sqlite_open(&st->meta, meta, conns,
						  err)) < 0) {
		srv_storage_close(st);
		return r;
	}
	st->upload_ttl = 86400;
	st->gc_grace = 3600;
	st->pull_times = srv_pull_times_new();
	*out = st;
	return 0;
}

void
srv_storage_close(srv_storage *st)
{
	berth_error *err = NULL;

	if (st == NULL)
		return;
	if (st->pull_times && st->meta &&
	    srv_storage_flush_pulls(st, &err) < 0) {
		berth_log(BERTH_LOG_WARN, "saving pull times: %s", err->msg);
		berth_error_free(err);
	}
	srv_pull_times_free(st->pull_times);
	berth_meta_free(st->meta);
	berth_blobstore_free(st->blobs);
	free(st);
}

/* ---- blobs ---- */

static int64_t now_s(void);

/* A manifest is a blob too, fetched by digest: its size, or e's code. */
static int
manifest_as_blob(srv_storage *st, const char *repo, const berth_digest *d,
		 int64_t *size, berth_error **e, berth_error **err)
{
	berth_meta_manifest mf = {0};

	if (berth_meta_manifest_get(st->meta, repo, d->str, true, &mf, NULL) ==
	    0) {
		*size = mf.size;
		berth_meta_manifest_release(&mf);
		berth_error_freep(e);
		return 0;
	}
	return berth_error_move(err, e, BERTH_ENOTFOUND);
}

int
srv_storage_blob_stat(srv_storage *st, const char *repo, const berth_digest *d,
		      int64_t *size, berth_error **err)
{
	berth_error *e = NULL;
	int r = berth_meta_blob_get(st->meta, repo, d->str, size, &e);

	if (r != BERTH_ENOTFOUND)
		return r < 0 ? berth_error_move(err, &e, r) : 0;
	return manifest_as_blob(st, repo, d, size, &e, err);
}

/* A HEAD refreshes a link older than grace / TOUCH_FRACTION. */
#define TOUCH_FRACTION 4

int
srv_storage_blob_head(srv_storage *st, const char *repo, const berth_digest *d,
		      int64_t *size, berth_error **err)
{
	int64_t grace = __atomic_load_n(&st->gc_grace, __ATOMIC_RELAXED);
	int64_t seen = 0, now = now_s();
	berth_error *e = NULL;
	int r = berth_meta_blob_info(st->meta, repo, d->str, size, &seen, &e);

	if (r == BERTH_ENOTFOUND)
		return manifest_as_blob(st, repo, d, size, &e, err);
	if (r < 0)
		return berth_error_move(err, &e, r);
	if (now - seen < grace / TOUCH_FRACTION)
		return 0; /* no collection can take it for 3/4 grace */
	/* Serialised with the collector's sweep: the link is there now and
	 * fresh, or gone (and this answers 404). */
	r = berth_meta_blob_touch(st->meta, repo, d->str, now, &e);
	if (r == BERTH_ENOTFOUND)
		return manifest_as_blob(st, repo, d, size, &e, err);
	if (r < 0) {
		/* Storage that cannot be written cannot be collected either:
		 * the snapshot's answer stands. */
		berth_log(BERTH_LOG_DEBUG, "blob HEAD: %s", e->msg);
		berth_error_free(e);
	}
	return 0;
}

int
srv_storage_blob_open_range(srv_storage *st, berth_bs_reader **out,
			    const berth_digest *d, int64_t size, int64_t off,
			    int64_t len, berth_error **err)
{
	berth_bs_reader *rd = NULL;
	int r = st->blobs->ops->open_range(st->blobs, &rd, d, off, len, err);

	if (r == BERTH_ENOTFOUND)
		berth_log(BERTH_LOG_ERROR,
			  "blob '%s' is in the metadata but not stored",
			  d->str);
	if (r < 0)
		return r;
	if (rd->size != size) {
		berth_log(BERTH_LOG_ERROR,
			  "blob '%s' is %" PRId64
			  " bytes in the store, %" PRId64 " in the metadata",
			  d->str, rd->size, size);
		berth_bs_reader_close(rd);
		return berth_error_set(err, BERTH_ECORRUPT, 0,
				       "blob '%s' is damaged", d->str);
	}
	*out = rd;
	return 0;
}

int
srv_storage_blob_unlink(srv_storage *st, const char *repo,
			const berth_digest *d, berth_error **err)
{
	return berth_meta_blob_unlink(st->meta, repo, d->str, err);
}

int
srv_storage_blob_mount(srv_storage *st, const char *repo, const berth_digest *d,
		       const char *from,
		       bool (*can_read)(const char *repo, void *ud), void *ud,
		       berth_error **err)
{
	_cleanup_free_ char *found = NULL;
	int64_t size;
	int r;

	if (from != NULL)
		return berth_meta_blob_mount(st->meta, repo, d->str, from,
					     &size, err);
	r = berth_meta_blob_find(st->meta, d->str, can_read, ud, &found, &size,
				 err);
	if (r < 0)
		return r;
	/* From the repository found, checked again as the link is made: a
	 * collection in between may have taken it (and then its bytes). */
	return berth_meta_blob_mount(st->meta, repo, d->str, found, &size, err);
}

/* ---- uploads ---- */

/*
 * The one rule of expiry: a session whose last activity (blobstore.h's
 * upload_active, or its start when its file is gone) is before this
 * cutoff is over.
 */
static long
upload_ttl(const srv_storage *st)
{
	return __atomic_load_n(&st->upload_ttl, __ATOMIC_RELAXED);
}

static int64_t
upload_cutoff(const srv_storage *st, int64_t now)
{
	return now - upload_ttl(st);
}

static bool
upload_expired(const srv_storage *st, int64_t active, int64_t now)
{
	return active < upload_cutoff(st, now);
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

void
srv_storage_set_uploads(srv_storage *st, long ttl, long per_client,
			long per_repo)
{
	__atomic_store_n(&st->upload_ttl, ttl, __ATOMIC_RELAXED);
	__atomic_store_n(&st->upload_caps.per_client, per_client,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->upload_caps.per_repo, per_repo, __ATOMIC_RELAXED);
}

static berth_meta_upload_caps
upload_caps(const srv_storage *st)
{
	berth_meta_upload_caps c = {
		__atomic_load_n(&st->upload_caps.per_repo, __ATOMIC_RELAXED),
		__atomic_load_n(&st->upload_caps.per_client, __ATOMIC_RELAXED),
	};

	return c;
}

/*
 * Seconds until the first session of repo (client NULL) or of client
 * (repo NULL) expires if idle from now on, when it has `cap` or more
 * open; 0 when it has fewer.
 */
static long
cap_wait(srv_storage *st, const char *repo, const char *client, long cap,
	 int64_t now)
{
	char **ids = NULL;
	int64_t first = INT64_MAX, active;
	size_t n = 0;

	if (cap <= 0 ||
	    berth_meta_uploads_of(st->meta, repo, client, &ids, NULL) < 0)
		return 0;
	for (; ids[n]; n++)
		if (st->blobs->ops->upload_active(st->blobs, ids[n], &active,
						  NULL) == 0 &&
		    active < first)
			first = active;
	berth_strv_free(ids);
	if ((long)n < cap)
		return 0;
	if (first == INT64_MAX)
		return 1; /* files gone: the next purge drops their rows */
	first += upload_ttl(st) - now;
	return first < 1 ? 1 : first > LONG_MAX ? LONG_MAX : (long)first;
}

/* When a refused session can expect a place: the later of the caps hit. */
static long
upload_retry_after(srv_storage *st, const char *repo, const char *client,
		   const berth_meta_upload_caps *caps)
{
	int64_t now = now_s();
	long a = cap_wait(st, repo, NULL, caps->per_repo, now);
	long b = cap_wait(st, NULL, client, caps->per_client, now);

	return a > b ? a : b > 0 ? b : 1;
}

/* Drops a session's file and row; false when a request holds it. */
static bool
upload_drop(srv_storage *st, const char *id)
{
	berth_error *e = NULL;
	int r = st->blobs->ops->upload_remove(st->blobs, id, &e);

	berth_error_free(e);
	if (r == BERTH_EEXIST)
		return false; /* in use right now: active after all */
	berth_meta_upload_remove(st->meta, id, NULL);
	return true;
}

/*
 * Purges once a cap is hit, at most once a second, so that a client
 * hammering at its cap cannot make every request scan the sessions.
 */
static bool
upload_cap_purge(srv_storage *st)
{
	int64_t now = now_s();
	int64_t last = __atomic_load_n(&st->cap_purged, __ATOMIC_RELAXED);

	if (last == now ||
	    !__atomic_compare_exchange_n(&st->cap_purged, &last, now, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return false;
	srv_storage_purge(st, now);
	return true;
}

int
srv_storage_upload_start(srv_storage *st, char id[33], const char *repo,
			 const char *client, long *retry_after,
			 berth_error **err)
{
	berth_meta_upload_caps caps = upload_caps(st);
	berth_error *e = NULL;
	int r;

	/* The file first: a crash before the row leaves an orphan file,
	 * which srv_storage_purge sweeps; never a row without its file. */
	if ((r = berth_upload_id_new(id, err)) < 0 ||
	    (r = st->blobs->ops->upload_create(st->blobs, id, err)) < 0)
		return r;
	r = berth_meta_upload_add(st->meta, id, repo, client, &caps, &e);
	if (r == BERTH_ETOOMANY && upload_cap_purge(st)) {
		/* Expired sessions count until purged: purge, then recount. */
		berth_error_freep(&e);
		r = berth_meta_upload_add(st->meta, id, repo, client, &caps,
					  &e);
	}
	if (r < 0) {
		st->blobs->ops->upload_remove(st->blobs, id, NULL);
		if (r == BERTH_ETOOMANY) {
			srv_metric_inc(SRV_M_LIMIT_REFUSALS, SRV_LIMIT_UPLOADS);
			*retry_after =
				upload_retry_after(st, repo, client, &caps);
		}
		return berth_error_move(err, &e, r);
	}
	srv_metric_inc(SRV_M_UPLOADS_STARTED, 0);
	return 0;
}

int
srv_storage_upload_repo(srv_storage *st, char **repo, const char *id,
			berth_error **err)
{
	_cleanup_free_ char *found = NULL;
	berth_error *e = NULL;
	int64_t active = 0;
	int r;

	if (!berth_upload_id_valid(id))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%.80s' is unknown", id);
	if ((r = berth_meta_upload_get(st->meta, id, &found, NULL, err)) < 0)
		return r;
	r = st->blobs->ops->upload_active(st->blobs, id, &active, &e);
	if (r < 0 && r != BERTH_ENOTFOUND)
		return berth_error_move(err, &e, r);
	berth_error_free(e);
	if (r == BERTH_ENOTFOUND ||
	    (upload_expired(st, active, now_s()) && upload_drop(st, id))) {
		if (berth_meta_upload_remove(st->meta, id, NULL) == 0 ||
		    r != BERTH_ENOTFOUND)
			srv_metric_inc(SRV_M_UPLOADS_ENDED, SRV_UPLOAD_EXPIRED);
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "upload '%s' expired: idle for more "
				       "than %ld s",
				       id, upload_ttl(st));
	}
	*repo = steal_ptr(&found);
	return 0;
}

int
srv_storage_upload_size(srv_storage *st, const char *id, int64_t *size,
			berth_error **err)
{
	return st->blobs->ops->upload_size(st->blobs, id, size, err);
}

int
srv_storage_upload_open(srv_storage *st, berth_bs_writer **out, const char *id,
			berth_error **err)
{
	return st->blobs->ops->upload_open(st->blobs, id, out, err);
}

int
srv_storage_upload_append(berth_bs_writer *w, const void *p, size_t len,
			  berth_error **err)
{
	return w->ops->writer_write(w, p, len, err);
}

int64_t
srv_storage_upload_offset(berth_bs_writer *w)
{
	return w->ops->writer_offset(w);
}

int
srv_storage_upload_abort(berth_bs_writer **w, berth_error **err)
{
	berth_bs_writer *bw = *w;

	*w = NULL;
	return bw ? bw->ops->writer_abort(bw, err) : 0;
}

int
srv_storage_upload_sync(berth_bs_writer *w, berth_error **err)
{
	return w->ops->writer_sync ? w->ops->writer_sync(w, err) : 0;
}

typedef struct finish_ctx {
	srv_storage *st;
	const char *id, *repo;
	const berth_digest *d;
	int64_t size;
} finish_ctx;

/*
 * Links the committed bytes, checking under the writer lock that they are
 * still there: garbage collection removes a blob only under that lock
 * too, after seeing no row use it, so the link and the file stay paired.
 */
static int
finish_tx(berth_meta_tx *tx, void *ud, berth_error **err)
{
	finish_ctx *f = ud;
	berth_error *e = NULL;
	int64_t have;
	int r = f->st->blobs->ops->stat(f->st->blobs, f->d, &have, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		berth_error_set(err, BERTH_ENOTFOUND, 0,
				"blob '%s' was collected as garbage while its "
				"upload finished",
				f->d->str);
		berth_error_hint(err, "upload it again");
		return BERTH_ENOTFOUND;
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	return berth_meta_tx_upload_finish(tx, f->id, f->repo, f->d->str,
					   f->size, err);
}

int
srv_storage_upload_commit(srv_storage *st, const char *id, const char *repo,
			  const berth_digest *want, berth_error **err)
{
	finish_ctx f = {st, id, repo, want, 0};
	int64_t size = 0;
	int r = st->blobs->ops->upload_commit(st->blobs, id, want, &size, err);

	/* A failed upload is over; on a full disk its bytes go at once. */
	if (r == BERTH_EDIGEST || (r < 0 && srv_storage_full(*err))) {
		st->blobs->ops->upload_remove(st->blobs, id, NULL);
		if (berth_meta_upload_remove(st->meta, id, NULL) == 0)
			srv_metric_inc(SRV_M_UPLOADS_ENDED, SRV_UPLOAD_FAILED);
	}
	if (r < 0)
		return r;
	f.size = size;
	r = berth_meta_write(st->meta, finish_tx, &f, err);
	if (r == 0)
		srv_metric_inc(SRV_M_UPLOADS_ENDED, SRV_UPLOAD_COMPLETED);
	return r;
}

int
srv_storage_upload_cancel(srv_storage *st, const char *id, berth_error **err)
{
	berth_error *e = NULL;
	int r = st->blobs->ops->upload_remove(st->blobs, id, &e);

	if (r < 0 && r != BERTH_ENOTFOUND)
		return berth_error_move(err, &e, r);
	berth_error_free(e);
	r = berth_meta_upload_remove(st->meta, id, err);
	if (r == 0)
		srv_metric_inc(SRV_M_UPLOADS_ENDED, SRV_UPLOAD_CANCELLED);
	return r;
}

typedef struct purge_ctx {
	srv_storage *st;
	int64_t now;
	bool dry_run;
	void (*fn)(const char *kind, const char *name, int64_t size, void *ud);
	void *ud;
} purge_ctx;

static void
purge_tell(purge_ctx *p, const char *kind, const char *name, int64_t size)
{
	if (p->fn)
		p->fn(kind, name, size, p->ud);
}

static void
purge_one(const char *id, int64_t active, void *ud)
{
	purge_ctx *p = ud;
	char *repo = NULL;
	int64_t size = 0;
	int r;

	if (!upload_expired(p->st, active, p->now))
		return;
	r = berth_meta_upload_get(p->st->meta, id, &repo, NULL, NULL);
	free(repo);
	p->st->blobs->ops->upload_size(p->st->blobs, id, &size, NULL);
	if (p->dry_run) {
		purge_tell(p, "upload", id, size);
		return;
	}
	if (!upload_drop(p->st, id))
		return;
	purge_tell(p, "upload", id, size);
	if (r == 0)
		srv_metric_inc(SRV_M_UPLOADS_ENDED, SRV_UPLOAD_EXPIRED);
	/* No row: a crash between creating the file and recording it. */
	berth_log(BERTH_LOG_INFO,
		  r == BERTH_ENOTFOUND
			  ? "removed upload file '%s' that no session records"
			  : "dropped abandoned upload '%s'",
		  id);
}

static void
purge_tmp(const char *name, int64_t size, void *ud)
{
	purge_tell(ud, "tmp", name, size);
}

void
srv_storage_purge_report(srv_storage *st, int64_t now, bool dry_run,
			 void (*fn)(const char *kind, const char *name,
				    int64_t size, void *ud),
			 void *ud)
{
	purge_ctx p = {st, now, dry_run, fn, ud};
	berth_error *err = NULL;
	char **ids = NULL;
	int64_t active;
	size_t i;

	st->blobs->ops->uploads_each(st->blobs, purge_one, &p);
	/* Rows whose file is gone: their start is all there is to go by. */
	if (berth_meta_uploads_older(st->meta, upload_cutoff(st, now), &ids,
				     &err) < 0) {
		berth_log(BERTH_LOG_WARN, "purging uploads: %s", err->msg);
		berth_error_free(err);
	} else {
		for (i = 0; ids[i]; i++) {
			if (st->blobs->ops->upload_active(st->blobs, ids[i],
							  &active, NULL) !=
			    BERTH_ENOTFOUND)
				continue;
			if (dry_run) {
				purge_tell(&p, "upload", ids[i], 0);
			} else if (berth_meta_upload_remove(st->meta, ids[i],
							    NULL) == 0) {
				purge_tell(&p, "upload", ids[i], 0);
				srv_metric_inc(SRV_M_UPLOADS_ENDED,
					       SRV_UPLOAD_EXPIRED);
			}
		}
		berth_strv_free(ids);
	}
	/* Temporary files live for milliseconds; an hour is generous even
	 * when sessions expire sooner. */
	st->blobs->ops->tmp_sweep(
		st->blobs,
		now - (upload_ttl(st) > 3600 ? upload_ttl(st) : 3600), dry_run,
		purge_tmp, &p);
}

void
srv_storage_purge(srv_storage *st, int64_t now)
{
	srv_storage_purge_report(st, now, false, NULL, NULL);
}

int
srv_storage_uploads_open(srv_storage *st, int64_t *n, berth_error **err)
{
	char **ids = NULL;
	int64_t k = 0;

	if (berth_meta_uploads_older(st->meta, INT64_MAX, &ids, err) < 0)
		return berth_error_wrap(err, BERTH_EIO, "counting uploads");
	while (ids[k])
		k++;
	berth_strv_free(ids);
	*n = k;
	return 0;
}

/* ---- pull-through fetches ---- */

int
srv_storage_fetch_begin(srv_storage *st, char id[33], berth_bs_writer **w,
			berth_error **err)
{
	int r;

	if ((r = berth_upload_id_new(id, err)) < 0 ||
	    (r = st->blobs->ops->upload_create(st->blobs, id, err)) < 0)
		return r;
	if ((r = st->blobs->ops->upload_open(st->blobs, id, w, err)) < 0)
		st->blobs->ops->upload_remove(st->blobs, id, NULL);
	return r;
}

int
srv_storage_fetch_reader(srv_storage *st, berth_bs_reader **out, const char *id,
			 int64_t off, int64_t len, berth_error **err)
{
	return st->blobs->ops->upload_read(st->blobs, id, off, len, out, err);
}

int
srv_storage_fetch_verify(srv_storage *st, const char *id, const berth_digest *d,
			 berth_error **err)
{
	return st->blobs->ops->upload_verify(st->blobs, id, d, err);
}

int
srv_storage_fetch_commit(srv_storage *st, const char *id, const char *repo,
			 const berth_digest *d, berth_error **err)
{
	int64_t size = 0;
	int r = st->blobs->ops->upload_commit(st->blobs, id, d, &size, err);

	if (r < 0) {
		st->blobs->ops->upload_remove(st->blobs, id, NULL);
		return r;
	}
	return berth_meta_blob_link(st->meta, repo, d->str, size, err);
}

void
srv_storage_fetch_abort(srv_storage *st, const char *id)
{
	st->blobs->ops->upload_remove(st->blobs, id, NULL);
}

int
srv_storage_blob_adopt(srv_storage *st, const char *repo, const berth_digest *d,
		       int64_t size, berth_error **err)
{
	int64_t have = -1;
	int r = st->blobs->ops->stat(st->blobs, d, &have, err);

	if (r < 0)
		return r;
	if (have != size)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "blob '%s' is stored with %" PRId64
				       " bytes, not %" PRId64,
				       d->str, have, size);
	return berth_meta_blob_link(st->meta, repo, d->str, size, err);
}

/* ---- manifests and tags ---- */

int
srv_storage_manifest_get(srv_storage *st, berth_meta_manifest *out,
			 const char *repo, const char *ref, bool by_digest,
			 berth_error **err)
{
	return berth_meta_manifest_get(st->meta, repo, ref, by_digest, out,
				       err);
}

typedef struct mput_ctx {
	srv_storage *st;
	char **missing;
	const char *repo;
	const berth_meta_put *put;
	const berth_digest *d;
	const void *body;
	size_t len;
} mput_ctx;

/* As finish_tx: bytes collected since they were stored go back first. */
static int
mput_tx(berth_meta_tx *tx, void *ud, berth_error **err)
{
	mput_ctx *m = ud;
	berth_blobstore *bs = m->st->blobs;
	berth_error *e = NULL;
	int64_t have;
	int r = bs->ops->stat(bs, m->d, &have, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_freep(&e);
		r = bs->ops->put(bs, m->d, m->body, m->len, &e);
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	return berth_meta_tx_manifest_put(tx, m->repo, m->put, m->missing, err);
}

int
srv_storage_manifest_put(srv_storage *st, char **missing, const char *repo,
			 const berth_meta_put *put, const void *body,
			 size_t len, berth_error **err)
{
	mput_ctx m = {st, missing, repo, put, NULL, body, len};
	berth_digest d;
	int r;

	/* The bytes first (outside the writer lock: they may be large);
	 * metadata never names a manifest not stored. */
	if ((r = berth_digest_parse(&d, put->manifest->digest, err)) < 0 ||
	    (r = st->blobs->ops->put(st->blobs, &d, body, len, err)) < 0)
		return r;
	m.d = &d;
	return berth_meta_write(st->meta, mput_tx, &m, err);
}

int
srv_storage_manifest_delete(srv_storage *st, const char *repo,
			    const berth_digest *d, berth_error **err)
{
	return berth_meta_manifest_delete(st->meta, repo, d->str, err);
}

int
srv_storage_tag_delete(srv_storage *st, const char *repo, const char *tag,
		       berth_error **err)
{
	return berth_meta_tag_delete(st->meta, repo, tag, err);
}

int
srv_storage_tags(srv_storage *st, char ***out, bool *more, const char *repo,
		 const char *last, long n, berth_error **err)
{
	return berth_meta_tags(st->meta, repo, last, n, out, more, err);
}

int
srv_storage_catalog(srv_storage *st, char ***out, bool *more, const char *last,
		    long n, berth_error **err)
{
	return berth_meta_catalog(st->meta, last, n, out, more, err);
}

int
srv_storage_referrers(srv_storage *st, berth_meta_manifest **out, size_t *n,
		      const char *repo, const char *subject,
		      const char *artifact_type, berth_error **err)
{
	return berth_meta_referrers(st->meta, repo, subject, artifact_type, out,
				    n, err);
}

bool
srv_storage_full(const berth_error *e)
{
	return e && (e->sys_errno == ENOSPC || e->sys_errno == EDQUOT);
}

bool
srv_storage_read_only(const berth_error *e)
{
	return e && e->sys_errno == EROFS;
}

bool
srv_storage_repo_exists(srv_storage *st, const char *repo)
{
	bool exists = false;

	berth_meta_repo_exists(st->meta, repo, &exists, NULL);
	return exists;
}
