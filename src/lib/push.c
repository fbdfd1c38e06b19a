#include "berth/push.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "berth/config.h"
#include "berth/image.h"
#include "unpack/decode.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/pool.h"
#include "util/xalloc.h"

#define UPLOADS_DEFAULT 5 /* dockerd's max-concurrent-uploads */

/* The blobs of one push, shared by its upload workers. */
typedef struct push_job {
	berth_registry *reg;
	berth_store *store;
	const berth_ref *ref;
	const berth_push_opts *opts;
	const berth_descriptor **blobs;
	size_t n;
	int result;	  /* the first failure, or 0 */
	berth_error *err; /* its error */
	pthread_mutex_t mu;
} push_job;

static void
emit(push_job *j, berth_push_event_kind kind, const berth_descriptor *d,
     const char *from)
{
	berth_push_event ev = {kind, d, from};

	if (j->opts->progress == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	j->opts->progress(j->opts->ud, &ev);
	pthread_mutex_unlock(&j->mu);
}

/*
 * Another repository on the same registry that, by the local store,
 * holds `d`: a mount source. Returns NULL when none is known.
 */
static char *
mount_source(berth_store *s, const berth_ref *target, const berth_digest *d)
{
	berth_image *imgs = NULL;
	size_t n = 0;
	char *found = NULL;

	if (berth_store_list(&imgs, &n, s, NULL) < 0)
		return NULL;
	for (size_t i = 0; i < n && found == NULL; i++) {
		_cleanup_(berth_ref_freep) berth_ref *r = NULL;
		_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
		_cleanup_free_ char *body = NULL;
		size_t len;

		if (berth_ref_parse_name(&r, imgs[i].name, NULL) < 0 ||
		    strcmp(r->domain, target->domain) != 0 ||
		    strcmp(r->path, target->path) == 0)
			continue;
		if (berth_store_read_blob(&body, &len, s, &imgs[i].desc.digest,
					  BERTH_MANIFEST_MAX, NULL) < 0 ||
		    berth_manifest_parse(&m, imgs[i].desc.media_type, body, len,
					 NULL) < 0 ||
		    m->kind != BERTH_MANIFEST_IMAGE)
			continue;
		if (strcmp(m->config.digest.str, d->str) == 0)
			found = xstrdup(r->path);
		for (size_t j = 0; j < m->n_layers && found == NULL; j++)
			if (strcmp(m->layers[j].digest.str, d->str) == 0)
				found = xstrdup(r->path);
	}
	berth_images_free(imgs, n);
	return found;
}

static int
push_one(push_job *j, const berth_descriptor *d, berth_error **err)
{
	_cleanup_free_ char *path = NULL, *from = NULL;
	_cleanup_close_ int fd = -1;
	bool exists = false, mounted = false;
	const char *repo = j->ref->path;
	int r;

	r = berth_registry_stat_blob(&exists, NULL, j->reg, repo, &d->digest,
				     err);
	if (r < 0)
		return r;
	if (exists) {
		emit(j, BERTH_PUSH_BLOB_EXISTS, d, NULL);
		return 0;
	}
	from = mount_source(j->store, j->ref, &d->digest);
	if (from) {
		r = berth_registry_mount_blob(&mounted, j->reg, repo,
					      &d->digest, from, err);
		if (r < 0)
			return r;
		if (mounted) {
			emit(j, BERTH_PUSH_BLOB_MOUNTED, d, from);
			return 0;
		}
	}
	emit(j, BERTH_PUSH_BLOB_STARTED, d, NULL);
	path = berth_store_blob_path(j->store, &d->digest);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		berth_error_set(err, BERTH_ENOTFOUND, errno,
				"blob '%s' is missing from the store",
				d->digest.str);
		berth_error_hint(err, "run 'berth fsck', then pull or "
				      "import the image again");
		return BERTH_ENOTFOUND;
	}
	r = berth_registry_push_blob(j->reg, repo, &d->digest, d->size, fd,
				     err);
	if (r < 0)
		return r;
	emit(j, BERTH_PUSH_BLOB_PUSHED, d, NULL);
	return 0;
}

/* Uploads blob i; the first failure is kept and stops the rest. */
static void
push_worker(void *ud, void *state, size_t i)
{
	push_job *j = ud;
	berth_error *err = NULL;
	int r = push_one(j, j->blobs[i], &err);

	if (r < 0) {
		pthread_mutex_lock(&j->mu);
		if (j->result == 0) {
			j->result = r;
			j->err = err;
			err = NULL;
		}
		pthread_mutex_unlock(&j->mu);
		berth_error_free(err);
	}
}

static bool
push_failed(void *ud)
{
	push_job *j = ud;
	bool failed;

	pthread_mutex_lock(&j->mu);
	failed = j->result < 0;
	pthread_mutex_unlock(&j->mu);
	return failed;
}

static const berth_pool_ops push_pool = {.run = push_worker,
					 .stopped = push_failed};

/* Foreign by the one list of layer media types; an unknown type is
 * pushed like any other blob. */
static bool
nondistributable(const char *media_type)
{
	berth_layer_compression c;
	bool foreign = false;

	return berth_layer_media_type(&c, &foreign, media_type, NULL) == 0 &&
	       foreign;
}

/* Uploads the config and the layers, `conc` at a time. */
static int
push_blobs(push_job *j, const berth_manifest *m, unsigned conc,
	   berth_error **err)
{
	const berth_config *cfg =
		j->opts->registry ? j->opts->registry->config : NULL;
	bool foreign_ok = berth_config_nondist_allowed(cfg, j->ref->domain);
	j->blobs = xcalloc(m->n_layers + 1, sizeof(*j->blobs));
	j->blobs[j->n++] = &m->config;
	for (size_t i = 0; i < m->n_layers; i++) {
		if (nondistributable(m->layers[i].media_type) && !foreign_ok)
			emit(j, BERTH_PUSH_BLOB_SKIPPED, &m->layers[i], NULL);
		else
			j->blobs[j->n++] = &m->layers[i];
	}
	berth_pool_run(&push_pool, j, j->n, conc);
	if (j->result < 0)
		return berth_error_move(err, &j->err, j->result);
	return j->result;
}

int
berth_push(berth_descriptor *out, berth_store *store, const berth_ref *ref,
	   const berth_push_opts *opts, berth_error **err)
{
	static const berth_push_opts defaults = BERTH_PUSH_OPTS_INIT;
	const berth_push_opts *o = opts ? opts : &defaults;
	const berth_config *cfg = o->registry ? o->registry->config : NULL;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *name = NULL, *body = NULL;
	berth_descriptor desc = {0};
	push_job job = {.store = store, .ref = ref, .opts = o};
	size_t len = 0;
	int r;

	if (berth_opts_check(o->version, BERTH_PUSH_OPTS_VERSION,
			     "berth_push_opts", err) < 0 ||
	    (o->registry &&
	     berth_opts_check(o->registry->version, BERTH_REGISTRY_OPTS_VERSION,
			      "berth_registry_opts", err) < 0))
		return BERTH_EUSAGE;
	name = berth_ref_string(ref);
	r = berth_image_load(&desc, &m, NULL, NULL, store, name, err);
	if (r < 0)
		return r;
	r = berth_store_read_blob(&body, &len, store, &desc.digest,
				  BERTH_MANIFEST_MAX, err);
	if (r == 0)
		r = berth_registry_new(&reg, berth_ref_api_host(ref),
				       o->registry, err);
	if (r == 0) {
		job.reg = reg;
		pthread_mutex_init(&job.mu, NULL);
		r = push_blobs(&job, m,
			       cfg && cfg->max_concurrent_uploads
				       ? cfg->max_concurrent_uploads
				       : UPLOADS_DEFAULT,
			       err);
		pthread_mutex_destroy(&job.mu);
		free(job.blobs);
		berth_error_free(job.err);
	}
	/* The manifest last: a registry validates that its blobs are there. */
	if (r == 0)
		r = berth_registry_put_manifest(
			reg, ref->path, berth_ref_reference(ref),
			desc.media_type, body, len, err);
	if (r < 0) {
		berth_descriptor_release(&desc);
		return r;
	}
	*out = desc;
	return 0;
}
