#include "berth/push.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "berth/image.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static void
emit(const berth_push_opts *o, berth_push_event_kind kind,
     const berth_descriptor *d, const char *from)
{
	berth_push_event ev = {kind, d, from};

	if (o->progress)
		o->progress(o->ud, &ev);
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

	if (berth_store_list(s, &imgs, &n, NULL) < 0)
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
		if (berth_store_read_blob(s, &imgs[i].desc.digest,
					  BERTH_MANIFEST_MAX, &body, &len,
					  NULL) < 0 ||
		    berth_manifest_parse(&m, imgs[i].desc.media_type, body, len,
					 NULL) < 0 ||
		    m->kind != BERTH_MANIFEST_IMAGE)
			continue;
		for (size_t j = 0; j < m->n_layers; j++)
			if (strcmp(m->layers[j].digest.str, d->str) == 0)
				found = xstrdup(r->path);
	}
	berth_images_free(imgs, n);
	return found;
}

static int
push_one(berth_registry *reg, berth_store *s, const berth_ref *ref,
	 const berth_descriptor *d, const berth_push_opts *o,
	 berth_error **err)
{
	_cleanup_free_ char *path = NULL, *from = NULL;
	_cleanup_close_ int fd = -1;
	bool exists = false, mounted = false;
	int r;

	r = berth_registry_stat_blob(reg, ref->path, &d->digest, &exists, NULL,
				     err);
	if (r < 0)
		return r;
	if (exists) {
		emit(o, BERTH_PUSH_BLOB_EXISTS, d, NULL);
		return 0;
	}
	from = mount_source(s, ref, &d->digest);
	if (from) {
		r = berth_registry_mount_blob(reg, ref->path, &d->digest, from,
					      &mounted, err);
		if (r < 0)
			return r;
		if (mounted) {
			emit(o, BERTH_PUSH_BLOB_MOUNTED, d, from);
			return 0;
		}
	}
	emit(o, BERTH_PUSH_BLOB_STARTED, d, NULL);
	path = berth_store_blob_path(s, &d->digest);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		berth_error_set(err, BERTH_ENOTFOUND, errno,
				"blob '%s' is missing from the store",
				d->digest.str);
		return berth_error_hint(err, "run 'berth fsck', then pull or "
					     "import the image again");
	}
	r = berth_registry_push_blob(reg, ref->path, &d->digest, d->size, fd,
				     err);
	if (r < 0)
		return r;
	emit(o, BERTH_PUSH_BLOB_PUSHED, d, NULL);
	return 0;
}

int
berth_push(berth_descriptor *out, berth_store *store, const berth_ref *ref,
	   const berth_push_opts *opts, berth_error **err)
{
	static const berth_push_opts defaults;
	const berth_push_opts *o = opts ? opts : &defaults;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *name = berth_ref_string(ref), *body = NULL;
	berth_descriptor desc = {0};
	size_t len = 0;
	int r;

	r = berth_image_load(&desc, &m, NULL, NULL, store, name, err);
	if (r < 0)
		return r;
	r = berth_store_read_blob(store, &desc.digest, BERTH_MANIFEST_MAX, &body,
				  &len, err);
	if (r == 0)
		r = berth_registry_new(&reg, berth_ref_api_host(ref),
				       o->registry, err);
	if (r == 0)
		r = push_one(reg, store, ref, &m->config, o, err);
	for (size_t i = 0; r == 0 && i < m->n_layers; i++)
		r = push_one(reg, store, ref, &m->layers[i], o, err);
	if (r == 0)
		r = berth_registry_put_manifest(reg, ref->path,
						berth_ref_reference(ref),
						desc.media_type, body, len, err);
	if (r < 0) {
		berth_descriptor_release(&desc);
		return r;
	}
	*out = desc;
	return 0;
}
