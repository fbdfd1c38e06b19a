/*
 * Archives as either end of a copy, each over another end in a temporary
 * directory (under $TMPDIR, else /var/tmp: images are large):
 *
 *   oci-archive:FILE[:TAG]     a tar of an OCI image layout, as skopeo
 *                              writes it: read by the archive stager into
 *                              a layout there (every blob checked against
 *                              its name), then served by the oci: end;
 *                              written through the oci: end, then tarred.
 *   docker-archive:FILE[:REF]  `docker save`'s format: read by berth_load
 *                              into a temporary store, written into one
 *                              and saved by berth_save.
 *
 * FILE is replaced only once the archive is complete, so a failed copy
 * leaves what was there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/staged.h"
#include "archive/tar_write.h"
#include "berth/archive.h"
#include "copy_end.h"
#include "unpack/remove.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/str.h"
#include "util/xalloc.h"

#define CHUNK ((size_t)256 << 10)
#define UNTAGGED "@untagged" /* a store name berth_save writes no tag for */

typedef struct archive_end {
	copy_end base;
	copy_end *inner;
	const berth_location *loc;
	berth_location layout; /* oci-archive: the oci: end's location */
	char *tmpdir;
	berth_store *store; /* docker-archive: the temporary store */
	char *image;	    /* docker-archive: its name there */
	berth_digest top;   /* a source's image, as the archive gives it */
	bool has_top;
} archive_end;

static int
make_tmpdir(archive_end *e, berth_error **err)
{
	const char *base = getenv("TMPDIR");
	_cleanup_free_ char *tmpl = NULL;

	if (base == NULL || *base == '\0')
		base = "/var/tmp";
	tmpl = xasprintf("%s/berth-copy-XXXXXX", base);
	if (mkdtemp(tmpl) == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create a temporary directory in "
				       "'%s': %s",
				       base, strerror(errno));
	e->tmpdir = steal_ptr(&tmpl);
	return 0;
}

static int
open_archive(int *fd, archive_end *e, berth_error **err)
{
	*fd = open(e->loc->path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return berth_error_set(
			err, errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
			errno, "cannot open archive '%s': %s", e->base.name,
			strerror(errno));
	return 0;
}

/* The archive's blobs committed into a temporary store at the layout
 * directory (its blobs/ are the layout's), its index.json beside them. */
static int
oci_unpack(archive_end *e, const char *dir, berth_error **err)
{
	static const berth_load_opts lo = BERTH_LOAD_OPTS_INIT;
	_cleanup_(berth_store_freep) berth_store *s = NULL;
	_cleanup_free_ char *index_path = xasprintf("%s/index.json", dir);
	_cleanup_free_ char *index = NULL;
	_cleanup_close_ int fd = -1;
	staged_archive a = {0};
	staged_file *f;
	size_t len = 0;
	int r;

	if ((r = open_archive(&fd, e, err)) < 0 ||
	    (r = berth_store_open(&s, dir, 0, err)) < 0)
		return r;
	r = staged_read(&a, s, fd, &lo, err);
	for (size_t i = 0; r == 0 && i < a.n; i++)
		a.files[i].use = strncmp(a.files[i].name, "blobs/", 6) == 0;
	if (r == 0)
		r = staged_commit(&a, err);
	if (r == 0 && (f = staged_find(&a, "index.json")) == NULL) {
		r = berth_error_set(err, BERTH_EPROTO, 0,
				    "'%s' is not an oci-archive: it has no "
				    "index.json",
				    e->base.name);
		berth_error_hint(err, "an archive of 'docker save' is read as "
				      "'docker-archive:FILE'");
	}
	if (r == 0)
		r = staged_slurp(&index, &len, f, BERTH_MANIFEST_MAX, err);
	if (r == 0)
		r = berth_file_replace(index_path, index, len, NULL, err);
	staged_release(&a);
	if (r < 0)
		return berth_error_wrap(err, r, "reading '%s'", e->base.name);
	return 0;
}

/* The image of a docker-archive a source copies: named, or the only one. */
static int
docker_pick(archive_end *e, const berth_load_result *res, berth_error **err)
{
	_cleanup_free_ char *want =
		e->loc->ref ? berth_ref_string(e->loc->ref) : NULL;

	for (size_t i = 0; i < res->n_images; i++) {
		const berth_loaded_image *im = &res->images[i];

		if (want ? im->name && strcmp(im->name, want) == 0
			 : res->n_images == 1) {
			e->top = im->manifest;
			e->has_top = true;
			return 0;
		}
	}
	if (want)
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "no image '%s' in '%s'", want,
				       e->base.name);
	berth_error_set(err, BERTH_ENOTFOUND, 0,
			"'%s' holds %zu images, not one", e->base.name,
			res->n_images);
	berth_error_hint(err, "name the image: 'docker-archive:%s:NAME:TAG'",
			 e->base.name);
	return BERTH_ENOTFOUND;
}

static int
docker_read(archive_end *e, berth_error **err)
{
	static const berth_load_opts lo = BERTH_LOAD_OPTS_INIT;
	berth_load_result res = BERTH_LOAD_RESULT_INIT;
	_cleanup_close_ int fd = -1;
	int r;

	if ((r = open_archive(&fd, e, err)) < 0)
		return r;
	r = berth_load(&res, e->store, fd, &lo, err);
	if (r < 0)
		return berth_error_wrap(err, r, "reading '%s'", e->base.name);
	r = docker_pick(e, &res, err);
	berth_load_result_release(&res);
	return r;
}

static int
archive_open(copy_end **out, const berth_location *loc,
	     const berth_registry_opts *ro, berth_store *store, bool dest,
	     berth_error **err)
{
	archive_end *e = xcalloc(1, sizeof(*e));
	_cleanup_free_ char *dir = NULL;
	int r;

	(void)store;
	e->base.ops = &copy_archive_ops;
	e->base.kind = loc->kind;
	e->base.name = berth_str_quote(loc->path, strlen(loc->path), 512);
	e->loc = loc;
	r = make_tmpdir(e, err);
	if (r == 0)
		dir = xasprintf("%s/layout", e->tmpdir);
	if (r == 0 && loc->kind == BERTH_LOCATION_OCI_ARCHIVE) {
		if (!dest)
			r = oci_unpack(e, dir, err);
		e->layout.kind = BERTH_LOCATION_OCI;
		e->layout.path = steal_ptr(&dir);
		e->layout.tag = loc->tag;
		if (r == 0)
			r = copy_oci_ops.open(&e->inner, &e->layout, ro, NULL,
					      dest, err);
	} else if (r == 0) {
		e->image = loc->ref ? berth_ref_string(loc->ref)
				    : xstrdup(UNTAGGED);
		r = berth_store_open(&e->store, dir, 0, err);
		if (r == 0 && !dest)
			r = docker_read(e, err);
		if (r == 0)
			r = copy_store_end_new(&e->inner, e->store, e->image,
					       dest, err);
	}
	if (r < 0) {
		copy_archive_ops.free(&e->base);
		return r;
	}
	/* Messages name the archive, not the temporary directory. */
	free(e->inner->name);
	e->inner->name = xstrdup(e->base.name);
	*out = &e->base;
	return 0;
}

static void
archive_free(copy_end *ce)
{
	archive_end *e = (archive_end *)ce;

	if (e->inner)
		e->inner->ops->free(e->inner);
	berth_store_free(e->store);
	if (e->tmpdir)
		berth_remove_tree(AT_FDCWD, e->tmpdir);
	free(e->tmpdir);
	free(e->layout.path);
	free(e->image);
	free(e->base.name);
	free(e);
}

static int
archive_get_manifest(copy_end *ce, const berth_digest *digest,
		     berth_manifest_body *out, berth_error **err)
{
	archive_end *e = (archive_end *)ce;

	if (digest == NULL && e->has_top)
		digest = &e->top;
	return e->inner->ops->get_manifest(e->inner, digest, out, err);
}

static int
archive_fetch_blob(copy_end *ce, const berth_descriptor *d, berth_sink_fn sink,
		   void *ud, berth_error **err)
{
	archive_end *e = (archive_end *)ce;

	return e->inner->ops->fetch_blob(e->inner, d, sink, ud, err);
}

static int
archive_has_blob(bool *exists, copy_end *ce, const berth_descriptor *d,
		 berth_error **err)
{
	archive_end *e = (archive_end *)ce;

	return e->inner->ops->has_blob(exists, e->inner, d, err);
}

static int
archive_mount_blob(bool *mounted, const char **from, copy_end *ce,
		   copy_end *src, const berth_descriptor *d, berth_error **err)
{
	(void)from, (void)ce, (void)src, (void)d, (void)err;
	*mounted = false;
	return 0;
}

static int
archive_blob_begin(copy_writer **out, copy_end *ce, const berth_descriptor *d,
		   berth_error **err)
{
	archive_end *e = (archive_end *)ce;

	return e->inner->ops->blob_begin(out, e->inner, d, err);
}

/* The layout file `rel` (under dir) as the archive entry of that name. */
static int
tar_file(tar_writer *t, const char *dir, const char *rel, berth_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int64_t done = 0;
	int r;

	fd = berth_file_open(path, &st, err);
	if (fd < 0)
		return fd;
	if ((r = tar_writer_begin(t, rel, st.st_size, 0, err)) < 0)
		return r;
	buf = xmalloc(CHUNK);
	while (done < st.st_size) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_set(
				err, BERTH_EIO, n < 0 ? errno : 0,
				"cannot read '%s': %s", path,
				n < 0 ? strerror(errno) : "it shrank");
		if ((r = tar_writer_data(t, buf, (size_t)n, err)) < 0)
			return r;
		done += n;
	}
	return 0;
}

/* blobs/<alg>/<hex> of the layout, skipping staging files ('.' first). */
static int
tar_blobs(tar_writer *t, const char *dir, berth_error **err)
{
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", dir);
	DIR *algs = opendir(blobs);
	struct dirent *a;
	int r = tar_writer_dir(t, "blobs/", 0, err);

	while (r == 0 && algs && (a = readdir(algs)) != NULL) {
		_cleanup_free_ char *sub = NULL, *name = NULL;
		DIR *files;
		struct dirent *f;

		if (a->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", blobs, a->d_name);
		name = xasprintf("blobs/%s/", a->d_name);
		if ((r = tar_writer_dir(t, name, 0, err)) < 0 ||
		    (files = opendir(sub)) == NULL)
			break;
		while (r == 0 && (f = readdir(files)) != NULL) {
			_cleanup_free_ char *rel = NULL;

			if (f->d_name[0] == '.')
				continue;
			rel = xasprintf("blobs/%s/%s", a->d_name, f->d_name);
			r = tar_file(t, dir, rel, err);
		}
		closedir(files);
	}
	if (algs)
		closedir(algs);
	return r;
}

/* The layout in the temporary directory as a tar, replacing FILE. */
static int
oci_write(archive_end *e, berth_error **err)
{
	const char *dir = e->layout.path;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-XXXXXX", e->loc->path);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	tar_writer *t = NULL;
	int r;

	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", tmp,
				       strerror(errno));
	fchmod(fd, 0644);
	r = tar_writer_new(&t, fd, err);
	if (r == 0)
		r = tar_file(t, dir, "oci-layout", err);
	if (r == 0)
		r = tar_blobs(t, dir, err);
	if (r == 0)
		r = tar_file(t, dir, "index.json", err);
	if (r == 0)
		r = tar_writer_close(t, err);
	tar_writer_free(t);
	if (r == 0 && fsync(fd) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot write '%s': %s", tmp,
				    strerror(errno));
	if (r == 0 && rename(tmp, e->loc->path) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot rename '%s' to '%s': %s", tmp,
				    e->loc->path, strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}

static bool
is_index(const char *content_type)
{
	return content_type &&
	       (strcmp(content_type, BERTH_MT_OCI_INDEX) == 0 ||
		strcmp(content_type, BERTH_MT_DOCKER_LIST) == 0);
}

static int
archive_put_manifest(copy_end *ce, const berth_manifest_body *body, bool top,
		     berth_error **err)
{
	archive_end *e = (archive_end *)ce;
	berth_save_opts so = BERTH_SAVE_OPTS_INIT;
	const char *name = e->image;
	int r;

	if (top && e->base.kind == BERTH_LOCATION_DOCKER_ARCHIVE &&
	    is_index(body->content_type)) {
		berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				"a docker-archive holds single-platform "
				"images, not the multi-platform index '%s'",
				body->digest.str);
		berth_error_hint(err, "copy one platform: without --all, or "
				      "with one --platform; oci-archive: keeps "
				      "the index");
		return BERTH_EUNSUPPORTED;
	}
	r = e->inner->ops->put_manifest(e->inner, body, top, err);
	if (r < 0 || !top)
		return r;
	if (e->base.kind == BERTH_LOCATION_OCI_ARCHIVE)
		return oci_write(e, err);
	so.format = BERTH_ARCHIVE_DOCKER;
	return berth_save_file(e->store, &name, 1, e->loc->path, &so, err);
}

const copy_end_ops copy_archive_ops = {
	.open = archive_open,
	.free = archive_free,
	.get_manifest = archive_get_manifest,
	.fetch_blob = archive_fetch_blob,
	.has_blob = archive_has_blob,
	.mount_blob = archive_mount_blob,
	.blob_begin = archive_blob_begin,
	.put_manifest = archive_put_manifest,
};
