/*
 * Shared by the store tests: temporary directories, small files, and
 * images built in a store (config, real tar.gz layers, OCI manifest).
 */
#ifndef BERTH_TEST_STORE_FIXTURE_H
#define BERTH_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "berth/manifest.h"
#include "berth/store.h"
#include "util/error.h"

static inline char *
fx_tmpdir(void)
{
	char tmpl[] = "/tmp/berth-store-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return strdup(d);
}

static inline int
fx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void
fx_rm_rf(const char *path)
{
	nftw(path, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *
fx_path(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static inline void
fx_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Whole file, NUL-terminated, or NULL if absent. */
static inline char *
fx_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static inline bool
fx_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Entries of a directory, not counting "." "..", ".gc" and ".lock". */
static inline int
fx_count(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, ".gc") && strcmp(e->d_name, ".lock"))
			n++;
	closedir(d);
	return n;
}

static inline bool
fx_blob_exists(berth_store *s, const char *digest)
{
	berth_digest d;

	if (berth_digest_parse(&d, digest, NULL) < 0)
		return false;
	return berth_store_has_blob(NULL, s, &d);
}

/* A one-file tar (gzip-compressed when gz) in *out; caller frees. */
static inline size_t
fx_tar(char **out, const char *file, const char *content, bool gz)
{
	size_t cap = 65536 + strlen(content) * 2, used = 0;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	if (gz) {
		archive_write_add_filter_gzip(a);
		/* No time in the gzip header: the same layer, the same digest,
		 * even when two images are made a second apart. */
		archive_write_set_options(a, "gzip:!timestamp");
	}
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
		exit(2);
	archive_entry_set_pathname(e, file);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, content, strlen(content)) < 0)
		exit(2);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	*out = buf;
	return used;
}

typedef struct fx_image {
	berth_descriptor desc; /* the manifest */
	char manifest[BERTH_DIGEST_MAX];
	char config[BERTH_DIGEST_MAX];
	char layers[4][BERTH_DIGEST_MAX];
	int n_layers;
} fx_image;

static inline void
fx_put(berth_store *s, const void *p, size_t len, char *digest_out)
{
	berth_error *err = NULL;
	berth_digest d;

	if (berth_store_put_blob(&d, s, NULL, p, len, &err) < 0) {
		printf("put_blob: %s\n", err->msg);
		exit(2);
	}
	strcpy(digest_out, d.str);
}

/*
 * An image whose layers hold files named after `seed` (layer i of images
 * with the same seed and i < shared is identical). Manifest, config and
 * layers go into the store; img->desc describes the manifest.
 */
static inline void
fx_image_make(fx_image *img, berth_store *s, const char *seed, int n_layers,
	      int shared)
{
	json_t *cfg, *diff_ids, *layers, *man;
	char *text, *tar, *gz, name[128], content[256];
	size_t tar_len, gz_len;
	berth_digest diff;

	memset(img, 0, sizeof(*img));
	img->n_layers = n_layers;
	diff_ids = json_array();
	layers = json_array();
	for (int i = 0; i < n_layers; i++) {
		snprintf(name, sizeof(name), "file-%d", i);
		snprintf(content, sizeof(content), "layer %d of %s\n", i,
			 i < shared ? "shared" : seed);
		tar_len = fx_tar(&tar, name, content, false);
		gz_len = fx_tar(&gz, name, content, true);
		berth_digest_of(&diff, BERTH_DIGEST_SHA256, tar, tar_len);
		fx_put(s, gz, gz_len, img->layers[i]);
		json_array_append_new(diff_ids, json_string(diff.str));
		json_array_append_new(layers,
				      json_pack("{s:s, s:s, s:I}", "mediaType",
						BERTH_MT_OCI_LAYER_GZIP,
						"digest", img->layers[i],
						"size", (json_int_t)gz_len));
		free(tar);
		free(gz);
	}
	cfg = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:o}}", "created",
			"2024-01-01T00:00:00Z", "architecture", "amd64", "os",
			"linux", "config", "Cmd", "/bin/sh", "rootfs", "type",
			"layers", "diff_ids", diff_ids);
	text = json_dumps(cfg, JSON_COMPACT);
	fx_put(s, text, strlen(text), img->config);
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o, s:{s:s}}",
			"schemaVersion", 2, "mediaType", BERTH_MT_OCI_MANIFEST,
			"config", "mediaType", BERTH_MT_OCI_CONFIG, "digest",
			img->config, "size", (json_int_t)strlen(text), "layers",
			layers, "annotations", "seed", seed);
	free(text);
	text = json_dumps(man, JSON_COMPACT);
	fx_put(s, text, strlen(text), img->manifest);
	img->desc.media_type = strdup(BERTH_MT_OCI_MANIFEST);
	berth_digest_parse(&img->desc.digest, img->manifest, NULL);
	img->desc.size = (int64_t)strlen(text);
	img->desc.has_platform = true;
	strcpy(img->desc.platform.os, "linux");
	strcpy(img->desc.platform.arch, "amd64");
	free(text);
	json_decref(cfg);
	json_decref(man);
}

static inline void
fx_image_release(fx_image *img)
{
	berth_descriptor_release(&img->desc);
}

/* Sets an image; exits on failure (for use in forked children too). */
static inline void
fx_set(berth_store *s, const char *name, const berth_descriptor *d)
{
	berth_error *err = NULL;

	if (berth_store_set_image(s, name, d, &err) < 0) {
		printf("set_image %s: %s\n", name, err->msg);
		exit(2);
	}
}

#endif
