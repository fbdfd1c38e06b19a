/*
 * berth_image_import: a root file system tarball becomes a one-layer OCI
 * image, as `docker import` does. The input is checked to be a tar archive
 * first (libarchive, any compression), then streamed once more: its
 * uncompressed bytes are hashed for the diff ID and gzip-compressed into
 * the store, where the blob writer hashes the compressed layer.
 */
#include "berth/image.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "util/archive_dl.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CHUNK (256 * 1024)

/* libarchive, loaded by berth_image_import before anything below runs. */
static const berth_archive_api *A;

static int
archive_fail(struct archive *a, const char *path, berth_error **err)
{
	int e = A->errno_(a);

	return berth_error_set(
		err, e == EIO ? BERTH_EIO : BERTH_EPROTO, e > 0 ? e : 0,
		"'%s' is not a readable tar archive: %s", path,
		A->error_string(a) ? A->error_string(a) : "unknown error");
}

/* Opens `path` for reading through any compression filter; NULL on
 * failure with *err set (the failure is always BERTH_EIO). */
static struct archive *
open_archive(const char *path, bool raw, berth_error **err)
{
	struct archive *a = A->read_new();

	A->read_support_filter_all(a);
	if (raw)
		A->read_support_format_raw(a);
	else
		A->read_support_format_tar(a);
	if (A->read_open_filename(a, path, CHUNK) != ARCHIVE_OK) {
		int e = A->errno_(a);

		berth_error_set(err, BERTH_EIO, e > 0 ? e : 0,
				"cannot read '%s': %s", path,
				e > 0 ? strerror(e) : A->error_string(a));
		A->read_free(a);
		return NULL;
	}
	return a;
}

/* Walks every entry so that a truncated or non-tar input fails early. */
static int
check_tar(const char *path, berth_error **err)
{
	struct archive *a = open_archive(path, false, err);
	struct archive_entry *e;
	int r, n = 0;

	if (a == NULL)
		return BERTH_EIO;
	while ((r = A->read_next_header(a, &e)) == ARCHIVE_OK) {
		n++;
		if (A->read_data_skip(a) != ARCHIVE_OK)
			break;
	}
	if (r != ARCHIVE_EOF || n == 0) {
		if (r == ARCHIVE_EOF)
			A->set_error(a, 0, "it holds no files");
		r = archive_fail(a, path, err);
		A->read_free(a);
		return r;
	}
	A->read_free(a);
	return 0;
}

static int
deflate_out(z_stream *z, int flush, berth_blob_writer *w, unsigned char *out,
	    berth_error **err)
{
	int r;

	do {
		z->next_out = out;
		z->avail_out = CHUNK;
		deflate(z, flush);
		if ((r = berth_blob_writer_write(w, out, CHUNK - z->avail_out,
						 err)) < 0)
			return r;
	} while (z->avail_out == 0);
	return 0;
}

/* Streams the decompressed tar into a gzip layer; diff ID and digest out. */
static int
write_layer(berth_descriptor *layer, berth_digest *diff_id, berth_store *s,
	    const char *path, berth_error **err)
{
	struct archive *a = open_archive(path, true, err);
	struct archive_entry *e;
	berth_blob_writer *w = NULL;
	berth_hasher *h = berth_hasher_new(BERTH_DIGEST_SHA256);
	unsigned char *out = xmalloc(CHUNK);
	z_stream z = {0};
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (a == NULL) {
		berth_hasher_free(h);
		free(out);
		return BERTH_EIO;
	}
	/* windowBits 15+16: a gzip wrapper, as layer media types require. */
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	r = berth_store_blob_begin(&w, s, NULL, -1, err);
	if (r < 0)
		goto out;
	if (A->read_next_header(a, &e) != ARCHIVE_OK) {
		r = archive_fail(a, path, err);
		goto out;
	}
	for (;;) {
		int ar = A->read_data_block(a, &buf, &len, &off);

		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK) {
			r = archive_fail(a, path, err);
			goto out;
		}
		berth_hasher_update(h, buf, len);
		z.next_in = (unsigned char *)buf;
		z.avail_in = (uInt)len;
		r = deflate_out(&z, Z_NO_FLUSH, w, out, err);
		if (r < 0)
			goto out;
	}
	r = deflate_out(&z, Z_FINISH, w, out, err);
	if (r < 0)
		goto out;
	layer->size = berth_blob_writer_written(w);
	r = berth_blob_writer_commit(&layer->digest, w, err);
	if (r < 0)
		goto out;
	berth_hasher_final(diff_id, h);
	layer->media_type = xstrdup(BERTH_MT_OCI_LAYER_GZIP);
out:
	deflateEnd(&z);
	berth_blob_writer_free(w);
	berth_hasher_free(h);
	A->read_free(a);
	free(out);
	return r;
}

static char *
now_rfc3339(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static json_t *
descriptor_json(const char *media_type, const berth_digest *d, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest",
			 d->str, "size", (json_int_t)size);
}

/* Stores a JSON document as a blob; its descriptor fields go out. */
static int
put_json(berth_digest *d, int64_t *size, berth_store *s, json_t *doc,
	 berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);

	*size = (int64_t)strlen(text);
	return berth_store_put_blob(d, s, NULL, text, strlen(text), err);
}

int
berth_image_import(berth_descriptor *out, berth_store *s, const char *tarball,
		   const char *name, const berth_platform *platform,
		   berth_error **err)
{
	_cleanup_free_ char *created = now_rfc3339();
	berth_descriptor layer = {0}, image = {0};
	berth_platform p;
	berth_digest diff_id, cfg_digest;
	int64_t cfg_size;
	json_auto_t *cfg = NULL, *manifest = NULL;
	int r;

	r = berth_archive_api_get(&A, err);
	if (r < 0)
		return r;
	r = check_tar(tarball, err);
	if (r < 0)
		return r;
	if (platform)
		p = *platform;
	else
		berth_platform_host(&p);
	r = berth_store_lease(s, err);
	if (r < 0)
		return r;
	r = write_layer(&layer, &diff_id, s, tarball, err);
	if (r < 0)
		goto out;

	cfg = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}",
			"created", created, "architecture", p.arch, "os", p.os,
			"config", "rootfs", "type", "layers", "diff_ids",
			diff_id.str, "history", "created", created,
			"created_by", "berth import");
	if (p.variant[0])
		json_object_set_new(cfg, "variant", json_string(p.variant));
	r = put_json(&cfg_digest, &cfg_size, s, cfg, err);
	if (r < 0)
		goto out;
	manifest = json_pack(
		"{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
		BERTH_MT_OCI_MANIFEST, "config",
		descriptor_json(BERTH_MT_OCI_CONFIG, &cfg_digest, cfg_size),
		"layers",
		descriptor_json(layer.media_type, &layer.digest, layer.size));
	r = put_json(&image.digest, &image.size, s, manifest, err);
	if (r < 0)
		goto out;
	image.media_type = xstrdup(BERTH_MT_OCI_MANIFEST);
	image.has_platform = true;
	image.platform = p;
	r = berth_store_set_image(s, name, &image, err);
	if (r < 0)
		goto out;
	*out = image;
	memset(&image, 0, sizeof(image));
out:
	berth_store_unlease(s);
	berth_descriptor_release(&layer);
	berth_descriptor_release(&image);
	return r;
}
