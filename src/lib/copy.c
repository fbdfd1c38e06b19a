/*
 * berth_copy: an image from one location to another (copy_end.h has the
 * two ends). Per image, its blobs concurrently, each skipped when the
 * destination has it, mounted when it lives in another repository of the
 * same registry, else streamed through the digest check below; then its
 * manifest. Per index, its children first, then the index itself.
 */
#include "berth/copy.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berth/config.h"
#include "copy_end.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/pool.h"
#include "util/str.h"
#include "util/xalloc.h"

#define UPLOADS_DEFAULT 5 /* as push: dockerd's max-concurrent-uploads */
#define PROGRESS_STEP ((int64_t)512 << 10)
#define INDEX_DEPTH_MAX 4

typedef struct copy_job {
	copy_end *src, *dst;
	const berth_copy_opts *o;
	unsigned conc;
	berth_copy_result res;
	/* one image's blobs, shared by the workers: */
	const berth_descriptor **blobs;
	size_t n;
	int result; /* the first failure, or 0 */
	berth_error *err;
	pthread_mutex_t mu;
} copy_job;

/* One blob in flight from the source's sink to the destination. */
typedef struct blob_flow {
	copy_job *j;
	const berth_descriptor *d;
	berth_hasher *h;
	copy_writer *w;
	int64_t done, reported;
	bool writer_failed;
} blob_flow;

static void
emit(copy_job *j, berth_copy_event_kind kind, const berth_descriptor *d,
     const char *from, int64_t done)
{
	berth_copy_event ev = {kind, d, from, done, d->size};

	pthread_mutex_lock(&j->mu);
	switch (kind) {
	case BERTH_COPY_BLOB_EXISTS:
		j->res.existed++;
		break;
	case BERTH_COPY_BLOB_MOUNTED:
		j->res.mounted++;
		break;
	case BERTH_COPY_BLOB_COPIED:
		j->res.copied++;
		break;
	default:
		break;
	}
	if (j->o->progress)
		j->o->progress(j->o->ud, &ev);
	pthread_mutex_unlock(&j->mu);
}

static int
digest_mismatch(blob_flow *f, berth_error **err)
{
	berth_digest got;

	berth_hasher_final(&got, f->h);
	if (strcmp(got.str, f->d->digest.str) == 0)
		return 0;
	return berth_error_set(err, BERTH_EDIGEST, 0,
			       "blob '%s' from '%s' does not match its digest "
			       "(it hashes to '%s'); not stored at '%s'",
			       f->d->digest.str, f->j->src->name, got.str,
			       f->j->dst->name);
}

/*
 * The source's bytes, hashed and handed on. The chunk that completes the
 * blob goes on only once the digest matches: a destination never gets a
 * whole blob that is not the one named.
 */
static int
flow_sink(void *ud, const void *p, size_t len, berth_error **err)
{
	blob_flow *f = ud;
	int r;

	berth_hasher_update(f->h, p, len);
	f->done += (int64_t)len;
	if (f->done == f->d->size && (r = digest_mismatch(f, err)) < 0)
		return r;
	r = f->w->ops->write(f->w, p, len, err);
	if (r < 0) {
		f->writer_failed = true;
		return r;
	}
	if (f->done - f->reported >= PROGRESS_STEP || f->done == f->d->size) {
		f->reported = f->done;
		emit(f->j, BERTH_COPY_BLOB_PROGRESS, f->d, NULL, f->done);
	}
	return 0;
}

static int
stream_blob(copy_job *j, const berth_descriptor *d, berth_error **err)
{
	blob_flow f = {.j = j, .d = d};
	berth_error *ferr = NULL;
	int r, rf;

	r = j->dst->ops->blob_begin(&f.w, j->dst, d, err);
	if (r < 0)
		return r;
	f.h = berth_hasher_new(d->digest.alg);
	r = j->src->ops->fetch_blob(j->src, d, flow_sink, &f, err);
	if (r == 0 && d->size == 0)
		r = digest_mismatch(&f, err);
	if (r == 0 && f.done != d->size)
		r = berth_error_set(err, BERTH_EDIGEST, 0,
				    "blob '%s' from '%s' ended after %lld of "
				    "%lld bytes",
				    d->digest.str, j->src->name,
				    (long long)f.done, (long long)d->size);
	rf = f.w->ops->finish(f.w, r == 0, &ferr);
	berth_hasher_free(f.h);
	/* The destination's refusal explains a writer that stopped. */
	if (rf < 0 && (r == 0 || f.writer_failed)) {
		berth_error_move(err, &ferr, rf);
		return rf;
	}
	berth_error_free(ferr);
	return r;
}

static int
copy_blob(copy_job *j, const berth_descriptor *d, berth_error **err)
{
	const char *from = NULL;
	bool exists = false, mounted = false;
	int r;

	r = j->dst->ops->has_blob(&exists, j->dst, d, err);
	if (r < 0)
		return r;
	if (exists) {
		emit(j, BERTH_COPY_BLOB_EXISTS, d, NULL, 0);
		return 0;
	}
	r = j->dst->ops->mount_blob(&mounted, &from, j->dst, j->src, d, err);
	if (r < 0)
		return r;
	if (mounted) {
		emit(j, BERTH_COPY_BLOB_MOUNTED, d, from, 0);
		return 0;
	}
	emit(j, BERTH_COPY_BLOB_STARTED, d, NULL, 0);
	r = stream_blob(j, d, err);
	if (r < 0)
		return r;
	emit(j, BERTH_COPY_BLOB_COPIED, d, NULL, d->size);
	return 0;
}

static void
blob_worker(void *ud, void *state, size_t i)
{
	copy_job *j = ud;
	berth_error *err = NULL;
	int r;

	(void)state;
	r = copy_blob(j, j->blobs[i], &err);
	/* A refusal of the upload as such (401, 403, 429) names no blob. */
	if (r < 0 && err && !strstr(err->msg, j->blobs[i]->digest.str))
		berth_error_wrap(&err, r, "blob '%s'", j->blobs[i]->digest.str);
	if (r < 0) {
		pthread_mutex_lock(&j->mu);
		if (j->result == 0) {
			j->result = r;
			j->err = steal_ptr(&err);
		}
		pthread_mutex_unlock(&j->mu);
		berth_error_free(err);
	}
}

static bool
blob_stopped(void *ud)
{
	copy_job *j = ud;
	bool stop;

	pthread_mutex_lock(&j->mu);
	stop = j->result < 0;
	pthread_mutex_unlock(&j->mu);
	return stop;
}

static const berth_pool_ops blob_pool = {.run = blob_worker,
					 .stopped = blob_stopped};

static void
add_blob(copy_job *j, const berth_descriptor *d)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->blobs[i]->digest.str, d->digest.str) == 0)
			return;
	j->blobs[j->n++] = d;
}

/* The config and layers of image `m`, `conc` at a time. */
static int
copy_blobs(copy_job *j, const berth_manifest *m, berth_error **err)
{
	int r;

	j->blobs = xcalloc(m->n_layers + 1, sizeof(*j->blobs));
	j->n = 0;
	add_blob(j, &m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		add_blob(j, &m->layers[i]);
	berth_pool_run(&blob_pool, j, j->n, j->conc);
	free(j->blobs);
	j->blobs = NULL;
	r = j->result;
	j->result = 0;
	if (r < 0)
		return berth_error_move(err, &j->err, r);
	return 0;
}

static int copy_manifest(copy_job *j, const berth_manifest_body *body, bool top,
			 int depth, berth_error **err);

static int
copy_child(copy_job *j, const berth_descriptor *d, int depth, berth_error **err)
{
	berth_manifest_body child = BERTH_MANIFEST_BODY_INIT;
	int r = j->src->ops->get_manifest(j->src, &d->digest, &child, err);

	if (r == 0)
		r = copy_manifest(j, &child, false, depth + 1, err);
	berth_manifest_body_release(&child);
	return r;
}

static int
put_manifest(copy_job *j, const berth_manifest_body *body, bool top,
	     berth_error **err)
{
	berth_descriptor d = BERTH_DESCRIPTOR_INIT;
	int r = j->dst->ops->put_manifest(j->dst, body, top, err);

	if (r < 0)
		return r;
	d.media_type = body->content_type;
	d.digest = body->digest;
	d.size = (int64_t)body->len;
	emit(j, BERTH_COPY_MANIFEST, &d, NULL, 0);
	if (top)
		j->res.digest = body->digest;
	return 0;
}

/* An image: its blobs, then itself. An index: every child, then itself. */
static int
copy_manifest(copy_job *j, const berth_manifest_body *body, bool top, int depth,
	      berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	int r;

	/* An index cannot hold its own digest, but a chain of them can go
	 * on (or loop through a registry that lies): cut it short. */
	if (depth > INDEX_DEPTH_MAX)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "index '%s' from '%s' is nested more "
				       "than %d indexes deep",
				       body->digest.str, j->src->name,
				       INDEX_DEPTH_MAX);
	r = berth_manifest_parse(&m, body->content_type, body->data, body->len,
				 err);
	if (r < 0)
		return berth_error_wrap(err, r, "manifest '%s'",
					body->digest.str);
	if (m->kind == BERTH_MANIFEST_IMAGE)
		r = copy_blobs(j, m, err);
	for (size_t i = 0; r == 0 && i < m->n_manifests; i++)
		r = copy_child(j, &m->manifests[i], depth, err);
	if (r < 0)
		return r;
	return put_manifest(j, body, top, err);
}

/*
 * A new index of the entries `keep` (by digest) of `body`, every other
 * field as it was. Its digest is that of the new bytes.
 */
static int
index_subset(berth_manifest_body *out, const berth_manifest_body *body,
	     const berth_descriptor **keep, size_t n, berth_error **err)
{
	json_auto_t *root = json_loadb(body->data, body->len, 0, NULL);
	json_t *list = json_object_get(root, "manifests");
	size_t i = 0;

	if (!json_is_array(list))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "index '%s' has no manifests",
				       body->digest.str);
	while (i < json_array_size(list)) {
		const char *dig = json_string_value(
			json_object_get(json_array_get(list, i), "digest"));
		bool kept = false;

		for (size_t k = 0; dig && k < n && !kept; k++)
			kept = strcmp(keep[k]->digest.str, dig) == 0;
		if (kept)
			i++;
		else
			json_array_remove(list, i);
	}
	out->data = json_dumps(root, JSON_COMPACT);
	out->len = strlen(out->data);
	out->content_type = xstrdup(body->content_type);
	berth_digest_of(&out->digest, body->digest.alg, out->data, out->len);
	return 0;
}

/* --platform, several times (or with --all): a new index of those. */
static int
copy_subset(copy_job *j, const berth_manifest_body *body,
	    const berth_manifest *idx, berth_error **err)
{
	_cleanup_free_ const berth_descriptor **keep =
		xcalloc(j->o->n_platforms, sizeof(*keep));
	berth_manifest_body sub = BERTH_MANIFEST_BODY_INIT;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < j->o->n_platforms; i++) {
		const berth_descriptor *d;
		bool dup = false;

		r = berth_manifest_select(&d, idx, &j->o->platforms[i], err);
		for (size_t k = 0; r == 0 && k < n; k++)
			dup = dup || keep[k] == d;
		if (r == 0 && !dup)
			keep[n++] = d;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = copy_child(j, keep[i], 0, err);
	if (r < 0)
		return r;
	if (n == idx->n_manifests)
		return put_manifest(j, body, true, err);
	r = index_subset(&sub, body, keep, n, err);
	if (r == 0)
		r = put_manifest(j, &sub, true, err);
	j->res.digest_changed = r == 0;
	berth_manifest_body_release(&sub);
	return r;
}

/* What of the source's top manifest is copied, by the options. */
static int
copy_top(copy_job *j, const berth_manifest_body *body, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	const berth_descriptor *d = NULL;
	berth_platform host;
	int r;

	r = berth_manifest_parse(&m, body->content_type, body->data, body->len,
				 err);
	if (r < 0)
		return berth_error_wrap(err, r, "manifest '%s'",
					body->digest.str);
	if (m->kind == BERTH_MANIFEST_IMAGE ||
	    (j->o->all && j->o->n_platforms == 0))
		return copy_manifest(j, body, true, 0, err);
	if (j->o->n_platforms > 1 || (j->o->all && j->o->n_platforms == 1))
		return copy_subset(j, body, m, err);
	if (j->o->n_platforms == 0)
		berth_platform_host(&host);
	r = berth_manifest_select(
		&d, m, j->o->n_platforms ? &j->o->platforms[0] : &host, err);
	if (r == 0) {
		berth_manifest_body child = BERTH_MANIFEST_BODY_INIT;

		r = j->src->ops->get_manifest(j->src, &d->digest, &child, err);
		if (r == 0)
			r = copy_manifest(j, &child, true, 1, err);
		berth_manifest_body_release(&child);
	}
	return r;
}

/* For messages: what the user typed may hold any byte. */
static char *
quoted_location(const berth_location *l)
{
	_cleanup_free_ char *s = berth_location_string(l);

	return berth_str_quote(s, strlen(s), 512);
}

static const copy_end_ops *
end_ops(const berth_location *l)
{
	switch (l->kind) {
	case BERTH_LOCATION_OCI:
		return &copy_oci_ops;
	case BERTH_LOCATION_OCI_ARCHIVE:
	case BERTH_LOCATION_DOCKER_ARCHIVE:
		return &copy_archive_ops;
	case BERTH_LOCATION_STORE:
		return &copy_store_ops;
	case BERTH_LOCATION_REGISTRY:
		break;
	}
	return &copy_registry_ops;
}

int
berth_copy(berth_copy_result *out, const berth_location *src,
	   const berth_location *dst, const berth_copy_opts *opts,
	   berth_error **err)
{
	static const berth_copy_opts defaults = BERTH_COPY_OPTS_INIT;
	const berth_copy_opts *o = opts ? opts : &defaults;
	const berth_config *cfg = o->registry ? o->registry->config : NULL;
	berth_manifest_body top = BERTH_MANIFEST_BODY_INIT;
	copy_job j = {.o = o, .res = BERTH_COPY_RESULT_INIT};
	_cleanup_free_ char *s_name = NULL, *d_name = NULL;
	const berth_registry_opts *s_reg = o->registry, *d_reg = o->registry;
	berth_store *store = NULL;
	int r;

	if (berth_opts_check(o->version, BERTH_COPY_OPTS_VERSION,
			     "berth_copy_opts", err) < 0 ||
	    berth_opts_check(out->version, BERTH_COPY_RESULT_VERSION,
			     "berth_copy_result", err) < 0 ||
	    (o->registry &&
	     berth_opts_check(o->registry->version, BERTH_REGISTRY_OPTS_VERSION,
			      "berth_registry_opts", err) < 0))
		return BERTH_EUSAGE;
	if (o->version >= 2) {
		store = o->store;
		s_reg = o->src_registry ? o->src_registry : s_reg;
		d_reg = o->dst_registry ? o->dst_registry : d_reg;
	}
	if ((s_reg &&
	     berth_opts_check(s_reg->version, BERTH_REGISTRY_OPTS_VERSION,
			      "berth_registry_opts", err) < 0) ||
	    (d_reg &&
	     berth_opts_check(d_reg->version, BERTH_REGISTRY_OPTS_VERSION,
			      "berth_registry_opts", err) < 0))
		return BERTH_EUSAGE;
	j.conc = o->max_concurrent ? o->max_concurrent
		 : cfg && cfg->max_concurrent_uploads
			 ? cfg->max_concurrent_uploads
			 : UPLOADS_DEFAULT;
	s_name = quoted_location(src);
	d_name = quoted_location(dst);
	pthread_mutex_init(&j.mu, NULL);
	r = end_ops(src)->open(&j.src, src, s_reg, store, false, err);
	if (r == 0)
		r = end_ops(dst)->open(&j.dst, dst, d_reg, store, true, err);
	if (r == 0)
		r = j.src->ops->get_manifest(j.src, NULL, &top, err);
	if (r == 0)
		r = copy_top(&j, &top, err);
	berth_manifest_body_release(&top);
	if (j.src)
		j.src->ops->free(j.src);
	if (j.dst)
		j.dst->ops->free(j.dst);
	berth_error_free(j.err);
	pthread_mutex_destroy(&j.mu);
	if (r < 0)
		return berth_error_wrap(err, r, "copying '%s' to '%s'", s_name,
					d_name);
	*out = j.res;
	return 0;
}
