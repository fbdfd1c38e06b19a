/*
 * An OCI image layout directory as either end of a copy: blobs under
 * blobs/<alg>/<hex>, the images in index.json, named by the
 * org.opencontainers.image.ref.name annotation. Blobs arrive in a
 * temporary file beside their place and are renamed into it once
 * verified; index.json is replaced atomically, last.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_end.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/str.h"
#include "util/xalloc.h"

#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define READ_CHUNK ((size_t)256 << 10)

typedef struct oci_end {
	copy_end base;
	const berth_location *loc;
} oci_end;

typedef struct oci_writer {
	copy_writer base;
	int fd;
	char *tmp, *path;
} oci_writer;

static char *
blob_path(oci_end *e, const berth_digest *d)
{
	return xasprintf("%s/blobs/%s/%s", e->loc->path,
			 berth_digest_alg_name(d->alg), berth_digest_hex(d));
}

static int
make_dir(const char *path, berth_error **err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create directory '%s': %s", path,
				       strerror(errno));
	return 0;
}

static int
oci_open(copy_end **out, const berth_location *loc,
	 const berth_registry_opts *ro, berth_store *store, bool dest,
	 berth_error **err)
{
	oci_end *e;

	(void)ro, (void)store;
	if (dest) {
		_cleanup_free_ char *layout =
			xasprintf("%s/oci-layout", loc->path);
		static const char text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		int r = make_dir(loc->path, err);

		if (r == 0 && access(layout, F_OK) != 0)
			r = berth_file_replace(layout, text, strlen(text), NULL,
					       err);
		if (r < 0)
			return r;
	}
	e = xcalloc(1, sizeof(*e));
	e->base.ops = &copy_oci_ops;
	e->base.kind = BERTH_LOCATION_OCI;
	e->base.name = berth_str_quote(loc->path, strlen(loc->path), 512);
	e->loc = loc;
	*out = &e->base;
	return 0;
}

static void
oci_free(copy_end *ce)
{
	free(ce->name);
	free(ce);
}

/* The ref.name annotation of index entry `i`, or NULL. */
static const char *
entry_name(json_t *index, size_t i)
{
	json_t *m = json_array_get(json_object_get(index, "manifests"), i);

	return json_string_value(json_object_get(
		json_object_get(m, "annotations"), ANN_REF_NAME));
}

/* The descriptor of the location's image in index.json. */
static int
find_image(oci_end *e, berth_descriptor *out, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/index.json", e->loc->path);
	_cleanup_free_ char *body = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *idx = NULL;
	json_auto_t *root = NULL;
	size_t len = 0;
	ssize_t found = -1;
	int r;

	r = berth_file_read(&body, &len, path, BERTH_MANIFEST_MAX, err);
	if (r == 0)
		r = berth_manifest_parse(&idx, OCI_INDEX_TYPE, body, len, err);
	if (r < 0 || idx->kind != BERTH_MANIFEST_INDEX) {
		if (r == 0)
			berth_error_set(err, BERTH_EPROTO, 0,
					"'%s' is not an image index", path);
		berth_error_hint(err, "'%s' must be an OCI image layout",
				 e->base.name);
		return r < 0 ? r : BERTH_EPROTO;
	}
	root = json_loadb(body, len, 0, NULL);
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const char *name = entry_name(root, i);

		if (e->loc->tag ? name && strcmp(name, e->loc->tag) == 0
				: idx->n_manifests == 1)
			found = (ssize_t)i;
	}
	if (found < 0) {
		if (e->loc->tag)
			return berth_error_set(err, BERTH_ENOTFOUND, 0,
					       "no image '%s' in '%s'",
					       e->loc->tag, path);
		berth_error_set(err, BERTH_ENOTFOUND, 0,
				"'%s' holds %zu images, not one", path,
				idx->n_manifests);
		berth_error_hint(err, "name the image: 'oci:%s:TAG'",
				 e->base.name);
		return BERTH_ENOTFOUND;
	}
	berth_descriptor_copy(out, &idx->manifests[found]);
	return 0;
}

static int
oci_get_manifest(copy_end *ce, const berth_digest *digest,
		 berth_manifest_body *out, berth_error **err)
{
	oci_end *e = (oci_end *)ce;
	_cleanup_free_ char *path = NULL;
	berth_descriptor top = BERTH_DESCRIPTOR_INIT;
	berth_digest got;
	int r = 0;

	if (digest == NULL && (r = find_image(e, &top, err)) < 0)
		return r;
	if (digest == NULL)
		digest = &top.digest;
	path = blob_path(e, digest);
	r = berth_file_read(&out->data, &out->len, path, BERTH_MANIFEST_MAX,
			    err);
	if (r == 0) {
		berth_digest_of(&got, digest->alg, out->data, out->len);
		if (strcmp(got.str, digest->str) != 0)
			r = berth_error_set(err, BERTH_EDIGEST, 0,
					    "manifest '%s' in '%s' does not "
					    "match its digest (it hashes to "
					    "'%s')",
					    digest->str, e->base.name, got.str);
	}
	if (r == 0) {
		json_auto_t *j = json_loadb(out->data, out->len, 0, NULL);
		const char *mt =
			json_string_value(json_object_get(j, "mediaType"));

		out->digest = *digest;
		out->content_type = xstrdup(mt		     ? mt
					    : top.media_type ? top.media_type
							     : "");
	} else {
		berth_manifest_body_release(out);
	}
	berth_descriptor_release(&top);
	return r;
}

int
copy_file_blob(const char *path, const berth_descriptor *d, const char *where,
	       berth_sink_fn sink, void *ud, berth_error **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	int64_t got = 0;
	int r;

	fd = berth_file_open(path, NULL, err);
	if (fd < 0)
		return fd;
	buf = xmalloc(READ_CHUNK);
	for (;;) {
		size_t want = READ_CHUNK;
		ssize_t n;

		if (got == d->size)
			want = 1; /* there must be nothing more */
		else if ((int64_t)want > d->size - got)
			want = (size_t)(d->size - got);
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot read '%s': %s", path,
					       strerror(errno));
		if (n == 0 && got < d->size)
			return berth_error_set(err, BERTH_EDIGEST, 0,
					       "blob '%s' in '%s' is smaller "
					       "than its descriptor's %lld "
					       "bytes",
					       d->digest.str, where,
					       (long long)d->size);
		if (n == 0)
			return 0;
		if (got == d->size)
			return berth_error_set(err, BERTH_EDIGEST, 0,
					       "blob '%s' in '%s' is larger "
					       "than its descriptor's %lld "
					       "bytes",
					       d->digest.str, where,
					       (long long)d->size);
		got += n;
		if ((r = sink(ud, buf, (size_t)n, err)) < 0)
			return r;
	}
}

static int
oci_fetch_blob(copy_end *ce, const berth_descriptor *d, berth_sink_fn sink,
	       void *ud, berth_error **err)
{
	oci_end *e = (oci_end *)ce;
	_cleanup_free_ char *path = blob_path(e, &d->digest);

	return copy_file_blob(path, d, e->base.name, sink, ud, err);
}

static int
oci_has_blob(bool *exists, copy_end *ce, const berth_descriptor *d,
	     berth_error **err)
{
	_cleanup_free_ char *path = blob_path((oci_end *)ce, &d->digest);
	struct stat st;

	(void)err;
	*exists = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		  st.st_size == d->size;
	return 0;
}

static int
oci_mount_blob(bool *mounted, const char **from, copy_end *ce, copy_end *src,
	       const berth_descriptor *d, berth_error **err)
{
	(void)from, (void)ce, (void)src, (void)d, (void)err;
	*mounted = false;
	return 0;
}

static int
oci_write(copy_writer *cw, const void *p, size_t len, berth_error **err)
{
	oci_writer *w = (oci_writer *)cw;
	int e = berth_write_full(w->fd, p, len);

	if (e != 0)
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot write '%s': %s", w->tmp,
				       strerror(e));
	return 0;
}

static int
oci_finish(copy_writer *cw, bool complete, berth_error **err)
{
	oci_writer *w = (oci_writer *)cw;
	int r = 0;

	if (close(w->fd) < 0 && complete)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot write '%s': %s", w->tmp,
				    strerror(errno));
	if (r == 0 && complete && rename(w->tmp, w->path) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot rename '%s' to '%s': %s", w->tmp,
				    w->path, strerror(errno));
	if (r < 0 || !complete)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	free(w);
	return r;
}

static const copy_writer_ops oci_writer_ops = {oci_write, oci_finish};

static int
oci_blob_begin(copy_writer **out, copy_end *ce, const berth_descriptor *d,
	       berth_error **err)
{
	oci_end *e = (oci_end *)ce;
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", e->loc->path);
	_cleanup_free_ char *dir =
		xasprintf("%s/%s", blobs, berth_digest_alg_name(d->digest.alg));
	oci_writer *w;
	int r;

	if ((r = make_dir(blobs, err)) < 0 || (r = make_dir(dir, err)) < 0)
		return r;
	w = xcalloc(1, sizeof(*w));
	w->base.ops = &oci_writer_ops;
	w->path = blob_path(e, &d->digest);
	w->tmp = xasprintf("%s/.%s.tmp-XXXXXX", dir,
			   berth_digest_hex(&d->digest));
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot create '%s': %s", w->tmp,
				    strerror(errno));
		free(w->tmp);
		free(w->path);
		free(w);
		return r;
	}
	fchmod(w->fd, 0644);
	*out = &w->base;
	return 0;
}

/* index.json with the image under the location's tag (replacing any
 * image of that name), or added unnamed. */
static int
update_index(oci_end *e, const berth_manifest_body *body, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/index.json", e->loc->path);
	_cleanup_free_ char *old = NULL, *text = NULL;
	json_auto_t *root = NULL;
	json_t *list, *entry;
	size_t len = 0, i = 0;

	if (berth_file_read(&old, &len, path, BERTH_MANIFEST_MAX, NULL) == 0)
		root = json_loadb(old, len, 0, NULL);
	if (!json_is_object(root) ||
	    !json_is_array(json_object_get(root, "manifests"))) {
		json_decref(root);
		root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
				 "mediaType", OCI_INDEX_TYPE, "manifests");
	}
	list = json_object_get(root, "manifests");
	while (i < json_array_size(list)) {
		const char *name = entry_name(root, i);
		const char *dig = json_string_value(
			json_object_get(json_array_get(list, i), "digest"));

		if ((e->loc->tag && name && strcmp(name, e->loc->tag) == 0) ||
		    (!e->loc->tag && !name && dig &&
		     strcmp(dig, body->digest.str) == 0))
			json_array_remove(list, i);
		else
			i++;
	}
	entry = json_pack("{s:s, s:s, s:I}", "mediaType", body->content_type,
			  "digest", body->digest.str, "size",
			  (json_int_t)body->len);
	if (e->loc->tag)
		json_object_set_new(
			entry, "annotations",
			json_pack("{s:s}", ANN_REF_NAME, e->loc->tag));
	json_array_append_new(list, entry);
	text = json_dumps(root, JSON_COMPACT);
	return berth_file_replace(path, text, strlen(text), NULL, err);
}

static int
oci_put_manifest(copy_end *ce, const berth_manifest_body *body, bool top,
		 berth_error **err)
{
	oci_end *e = (oci_end *)ce;
	_cleanup_free_ char *dir =
		xasprintf("%s/blobs/%s", e->loc->path,
			  berth_digest_alg_name(body->digest.alg));
	_cleanup_free_ char *path = blob_path(e, &body->digest);
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", e->loc->path);
	int r;

	if ((r = make_dir(blobs, err)) < 0 || (r = make_dir(dir, err)) < 0)
		return r;
	r = berth_file_replace(path, body->data, body->len, NULL, err);
	if (r == 0 && top)
		r = update_index(e, body, err);
	return r;
}

const copy_end_ops copy_oci_ops = {
	.open = oci_open,
	.free = oci_free,
	.get_manifest = oci_get_manifest,
	.fetch_blob = oci_fetch_blob,
	.has_blob = oci_has_blob,
	.mount_blob = oci_mount_blob,
	.blob_begin = oci_blob_begin,
	.put_manifest = oci_put_manifest,
};
