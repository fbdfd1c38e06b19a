/*
 * berth's local store as either end of a copy, the image named by a full
 * reference. Blobs go in through the store's own writers (staged, checked
 * against the digest and size, renamed into place), the image's name is
 * recorded last, and the whole copy into the store runs under a content
 * lease so a concurrent garbage collection keeps what is not yet named.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "copy_end.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

typedef struct store_end {
	copy_end base;
	berth_store *s;
	char *image; /* the full name in index.json */
	bool leased;
} store_end;

typedef struct store_writer {
	copy_writer base;
	berth_blob_writer *w;
} store_writer;

int
copy_store_end_new(copy_end **out, berth_store *store, const char *name,
		   bool dest, berth_error **err)
{
	store_end *e;

	e = xcalloc(1, sizeof(*e));
	e->base.ops = &copy_store_ops;
	e->base.kind = BERTH_LOCATION_STORE;
	e->base.name = berth_str_quote(name, strlen(name), 512);
	e->s = store;
	e->image = xstrdup(name);
	if (dest) {
		int r = berth_store_lease(store, err);

		if (r < 0) {
			copy_store_ops.free(&e->base);
			return r;
		}
		e->leased = true;
	}
	*out = &e->base;
	return 0;
}

static int
store_open(copy_end **out, const berth_location *loc,
	   const berth_registry_opts *ro, berth_store *store, bool dest,
	   berth_error **err)
{
	_cleanup_free_ char *name = berth_ref_string(loc->ref);

	(void)ro;
	if (store == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no local store to copy '%s' %s", name,
				       dest ? "into" : "from");
	return copy_store_end_new(out, store, name, dest, err);
}

static void
store_free(copy_end *ce)
{
	store_end *e = (store_end *)ce;

	if (e->leased)
		berth_store_unlease(e->s);
	free(e->image);
	free(e->base.name);
	free(e);
}

static int
store_get_manifest(copy_end *ce, const berth_digest *digest,
		   berth_manifest_body *out, berth_error **err)
{
	store_end *e = (store_end *)ce;
	berth_descriptor top = BERTH_DESCRIPTOR_INIT;
	int r = 0;

	if (digest == NULL) {
		r = berth_store_resolve(&top, e->s, e->image, err);
		if (r == BERTH_ENOTFOUND)
			berth_error_hint(
				err,
				"'berth images' lists the local images; "
				"an image of a registry is written "
				"'docker://%s'",
				e->base.name);
		if (r < 0)
			return r;
		digest = &top.digest;
	}
	/* The store verified the blob when it was written. */
	r = berth_store_read_blob(&out->data, &out->len, e->s, digest,
				  BERTH_MANIFEST_MAX, err);
	if (r == 0) {
		json_auto_t *j = json_loadb(out->data, out->len, 0, NULL);
		const char *mt =
			json_string_value(json_object_get(j, "mediaType"));

		out->digest = *digest;
		out->content_type = xstrdup(mt		     ? mt
					    : top.media_type ? top.media_type
							     : "");
	}
	berth_descriptor_release(&top);
	return r;
}

static int
store_fetch_blob(copy_end *ce, const berth_descriptor *d, berth_sink_fn sink,
		 void *ud, berth_error **err)
{
	store_end *e = (store_end *)ce;
	_cleanup_free_ char *path = berth_store_blob_path(e->s, &d->digest);

	return copy_file_blob(path, d, e->base.name, sink, ud, err);
}

static int
store_has_blob(bool *exists, copy_end *ce, const berth_descriptor *d,
	       berth_error **err)
{
	store_end *e = (store_end *)ce;
	int64_t size = -1;

	(void)err;
	*exists = berth_store_has_blob(&size, e->s, &d->digest) &&
		  size == d->size;
	return 0;
}

static int
store_mount_blob(bool *mounted, const char **from, copy_end *ce, copy_end *src,
		 const berth_descriptor *d, berth_error **err)
{
	(void)from, (void)ce, (void)src, (void)d, (void)err;
	*mounted = false;
	return 0;
}

static int
store_write(copy_writer *cw, const void *p, size_t len, berth_error **err)
{
	return berth_blob_writer_write(((store_writer *)cw)->w, p, len, err);
}

static int
store_finish(copy_writer *cw, bool complete, berth_error **err)
{
	store_writer *w = (store_writer *)cw;
	int r = 0;

	if (complete)
		r = berth_blob_writer_commit(NULL, w->w, err);
	berth_blob_writer_free(w->w);
	free(w);
	return r;
}

static const copy_writer_ops store_writer_ops = {store_write, store_finish};

static int
store_blob_begin(copy_writer **out, copy_end *ce, const berth_descriptor *d,
		 berth_error **err)
{
	store_end *e = (store_end *)ce;
	store_writer *w = xcalloc(1, sizeof(*w));
	int r;

	w->base.ops = &store_writer_ops;
	r = berth_store_blob_begin(&w->w, e->s, &d->digest, d->size, err);
	if (r < 0) {
		free(w);
		return r;
	}
	*out = &w->base;
	return 0;
}

static int
store_put_manifest(copy_end *ce, const berth_manifest_body *body, bool top,
		   berth_error **err)
{
	store_end *e = (store_end *)ce;
	berth_descriptor d = BERTH_DESCRIPTOR_INIT;
	int r;

	r = berth_store_put_blob(NULL, e->s, &body->digest, body->data,
				 body->len, err);
	if (r < 0 || !top)
		return r;
	d.media_type = body->content_type;
	d.digest = body->digest;
	d.size = (int64_t)body->len;
	return berth_store_set_image(e->s, e->image, &d, err);
}

const copy_end_ops copy_store_ops = {
	.open = store_open,
	.free = store_free,
	.get_manifest = store_get_manifest,
	.fetch_blob = store_fetch_blob,
	.has_blob = store_has_blob,
	.mount_blob = store_mount_blob,
	.blob_begin = store_blob_begin,
	.put_manifest = store_put_manifest,
};
