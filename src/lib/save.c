/*
 * berth_save: local images as a docker-archive (docker 20.10's `docker
 * save` layout) or an OCI image-layout archive, streamed to a descriptor.
 * docs/archives.md lists the entries.
 *
 * A docker-archive holds layers uncompressed: each stored layer goes
 * through the layer decoder, and its diff ID is checked against the
 * config's. A tar header needs the size first, so a compressed layer is
 * decoded twice: once to learn its size and verify it, once to write it.
 * Nothing is held in memory beyond a block.
 */
#include "berth/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/docker.h"
#include "archive/tar_write.h"
#include "berth/image.h"
#include "berth/ref.h"
#include "unpack/decode.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

#define CHUNK (256 * 1024)

typedef struct save_ctx {
	berth_store *s;
	const berth_save_opts *o;
	tar_writer *t;
	char **done; /* entry names already written, NULL-ended */
	size_t n_done;
	char **diff_at; /* "diffid\tpath" of each layer.tar written */
	size_t n_diff;
} save_ctx;

static bool
seen(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
remember(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void
forget_all(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
check_interrupt(save_ctx *c, berth_error **err)
{
	if (c->o->interrupt && *c->o->interrupt)
		return berth_error_set(err, BERTH_EINTERRUPTED, 0,
				       "save interrupted");
	return 0;
}

static void
progress(save_ctx *c, berth_archive_event_kind k, const char *id,
	 const char *what, int64_t done, int64_t total)
{
	berth_archive_event ev = {k, id, what, done, total};

	if (c->o->progress)
		c->o->progress(c->o->ud, &ev);
}

/* "2026-01-02T03:04:05.123Z" -> seconds; 0 when absent or unreadable. */
static time_t
created_time(json_t *config)
{
	const char *s = json_string_value(json_object_get(config, "created"));
	struct tm tm = {0};

	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static int
open_blob(int *fd, int64_t *size, save_ctx *c, const berth_digest *d,
	  const char *image, berth_error **err)
{
	_cleanup_free_ char *path = berth_store_blob_path(c->s, d);
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) < 0) {
		int e = errno;

		berth_error_set(err, e == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
				e, "cannot read blob '%s' of '%s': %s", d->str,
				image, strerror(e));
		berth_error_hint(err,
				 "the store lacks part of '%s': run 'berth "
				 "fsck', then pull it again",
				 image);
		return e == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO;
	}
	*size = st.st_size;
	return 0;
}

static int
damaged(berth_error **err, const char *what, const berth_digest *want,
	const berth_digest *got, const char *image)
{
	berth_error_set(err, BERTH_ECORRUPT, 0,
			"%s of '%s' does not match its digest %s: content is "
			"%s",
			what, image, want->str, got->str);
	berth_error_hint(err,
			 "the local store is damaged: run 'berth fsck', then "
			 "pull '%s' again",
			 image);
	return BERTH_ECORRUPT;
}

/*
 * Decodes layer `fd` once; with t, writes its tar bytes as entry `name`
 * of `size` bytes. The diff ID and the size seen go out.
 */
static int
decode_pass(berth_digest *diff_id, int64_t *size, save_ctx *c, int fd,
	    berth_layer_compression comp, const berth_descriptor *layer,
	    bool write, berth_error **err)
{
	berth_layer_decoder *d = NULL;
	const void *buf;
	ssize_t n;
	int r;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read layer '%s': %s",
				       layer->digest.str, strerror(errno));
	r = berth_layer_decoder_new(&d, fd, comp, false, 0, err);
	if (r < 0)
		return r;
	while ((n = berth_layer_decoder_read(d, &buf, err)) > 0) {
		if ((r = check_interrupt(c, err)) < 0)
			goto out;
		if (write) {
			if ((r = tar_writer_data(c->t, buf, (size_t)n, err)) <
			    0)
				goto out;
			progress(c, BERTH_ARCHIVE_PROGRESS, layer->digest.str,
				 "layer", berth_layer_decoder_total_out(d),
				 *size);
		}
	}
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	berth_layer_decoder_digests(d, NULL, diff_id);
	if (!write)
		*size = berth_layer_decoder_total_out(d);
	else if (berth_layer_decoder_total_out(d) != *size)
		r = berth_error_set(err, BERTH_ECORRUPT, 0,
				    "layer '%s' changed while it was saved",
				    layer->digest.str);
out:
	berth_layer_decoder_free(d);
	return r;
}

/* Writes `name` (a layer.tar) with layer `layer`'s uncompressed bytes,
 * checked against `want` (the config's diff ID). */
static int
write_layer(save_ctx *c, const char *name, const berth_descriptor *layer,
	    const berth_digest *want, time_t mtime, const char *image,
	    berth_error **err)
{
	_cleanup_close_ int fd = -1;
	berth_layer_compression comp;
	berth_digest got;
	int64_t size;
	bool foreign;
	int r;

	r = berth_layer_media_type(&comp, &foreign, layer->media_type, err);
	if (r < 0)
		return berth_error_wrap(err, r, "saving '%s'", image);
	r = open_blob(&fd, &size, c, &layer->digest, image, err);
	if (r < 0)
		return r;
	if (comp != BERTH_LAYER_PLAIN) {
		r = decode_pass(&got, &size, c, fd, comp, layer, false, err);
		if (r < 0)
			return r;
		if (strcmp(got.str, want->str) != 0)
			return damaged(err, "layer", want, &got, image);
	}
	r = tar_writer_begin(c->t, name, size, mtime, err);
	if (r == 0)
		r = decode_pass(&got, &size, c, fd, comp, layer, true, err);
	if (r == 0 && strcmp(got.str, want->str) != 0)
		r = damaged(err, "layer", want, &got, image);
	if (r == 0)
		progress(c, BERTH_ARCHIVE_DONE, layer->digest.str, "layer",
			 size, size);
	return r;
}

/* The image's layers as docker lays them out: <v1 id>/{VERSION,json,
 * layer.tar}, a layer already written under another chain a symlink. */
static int
docker_layers(docker_image *di, save_ctx *c, json_t *config,
	      const berth_manifest *m, const char *image, char top[65],
	      berth_error **err)
{
	json_t *diffs =
		json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	time_t mtime = created_time(config);
	berth_digest chain, diff;
	char id[65], parent[65] = "";
	int r;

	if (!json_is_array(diffs) || json_array_size(diffs) != m->n_layers)
		return berth_error_set(err, BERTH_ECORRUPT, 0,
				       "config of '%s' lists %zu diff IDs for "
				       "%zu layers",
				       image,
				       json_is_array(diffs)
					       ? json_array_size(diffs)
					       : (size_t)0,
				       m->n_layers);
	di->layers = xcalloc(m->n_layers + 1, sizeof(char *));
	di->n_layers = m->n_layers;
	for (size_t i = 0; i < m->n_layers; i++) {
		const char *ds = json_string_value(json_array_get(diffs, i));
		_cleanup_free_ char *json = NULL, *dir = NULL, *file = NULL,
				    *key = NULL;

		if (ds == NULL || berth_digest_parse(&diff, ds, err) < 0)
			return berth_error_set(err, BERTH_ECORRUPT, 0,
					       "config of '%s' has an invalid "
					       "diff ID at %zu",
					       image, i + 1);
		docker_chain_id(&chain, i ? &chain : NULL, &diff);
		json = docker_v1_json(id, config, i, m->n_layers, &chain,
				      i ? parent : NULL);
		snprintf(parent, sizeof(parent), "%s", id);
		memcpy(top, id, 65);
		file = xasprintf("%s/layer.tar", id);
		di->layers[i] = xstrdup(file);
		if (seen(c->done, c->n_done, id))
			continue;
		remember(&c->done, &c->n_done, id);
		dir = xasprintf("%s/", id);
		if ((r = tar_writer_dir(c->t, dir, mtime, err)) < 0)
			return r;
		free(dir);
		dir = xasprintf("%s/VERSION", id);
		if ((r = tar_writer_mem(c->t, dir, "1.0", 3, mtime, err)) < 0)
			return r;
		free(dir);
		dir = xasprintf("%s/json", id);
		if ((r = tar_writer_mem(c->t, dir, json, strlen(json), mtime,
					err)) < 0)
			return r;
		/* The same diff ID under another parent: docker links it. */
		key = NULL;
		for (size_t k = 0; k < c->n_diff; k++)
			if (strncmp(c->diff_at[k], diff.str,
				    strlen(diff.str)) == 0 &&
			    c->diff_at[k][strlen(diff.str)] == '\t')
				key = xasprintf("../%s",
						c->diff_at[k] +
							strlen(diff.str) + 1);
		if (key) {
			r = tar_writer_symlink(c->t, file, key, mtime, err);
		} else {
			r = write_layer(c, file, &m->layers[i], &diff, mtime,
					image, err);
			key = xasprintf("%s\t%s", diff.str, file);
			remember(&c->diff_at, &c->n_diff, key);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int
save_docker(save_ctx *c, const char *const *names, size_t n, berth_error **err)
{
	docker_image *v = xcalloc(n + 1, sizeof(*v));
	json_auto_t *repos = json_object();
	_cleanup_free_ char *manifest = NULL, *repos_text = NULL;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
		_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
		_cleanup_free_ char *cfg = NULL, *familiar = NULL;
		berth_descriptor desc = BERTH_DESCRIPTOR_INIT;
		json_auto_t *config = NULL;
		size_t cfg_len = 0;
		char top[65] = "";

		r = berth_image_load(&desc, &m, &cfg, &cfg_len, c->s, names[i],
				     err);
		berth_descriptor_release(&desc);
		if (r < 0)
			break;
		config = json_loadb(cfg, cfg_len, 0, NULL);
		if (!json_is_object(config)) {
			r = berth_error_set(err, BERTH_ECORRUPT, 0,
					    "config of '%s' is not a JSON "
					    "object",
					    names[i]);
			break;
		}
		v[i].config = xasprintf("%s.json",
					berth_digest_hex(&m->config.digest));
		if (!seen(c->done, c->n_done, v[i].config)) {
			remember(&c->done, &c->n_done, v[i].config);
			r = tar_writer_mem(c->t, v[i].config, cfg, cfg_len,
					   created_time(config), err);
			if (r < 0)
				break;
		}
		v[i].repo_tags = xcalloc(2, sizeof(char *));
		if (berth_ref_parse(&ref, names[i], NULL) == 0 && ref->tag &&
		    !ref->digest) {
			familiar = berth_ref_familiar(ref);
			v[i].repo_tags[0] = xstrdup(familiar);
			v[i].n_tags = 1;
		}
		r = docker_layers(&v[i], c, config, m, names[i], top, err);
		if (r == 0 && familiar && m->n_layers > 0)
			docker_repositories_add(repos, familiar, top);
	}
	if (r == 0) {
		manifest = docker_manifest_write(v, n);
		r = tar_writer_mem(c->t, "manifest.json", manifest,
				   strlen(manifest), 0, err);
	}
	if (r == 0 && json_object_size(repos) > 0) {
		repos_text = json_dumps(repos, JSON_COMPACT);
		r = tar_writer_mem(c->t, "repositories", repos_text,
				   strlen(repos_text), 0, err);
	}
	docker_images_free(v, n);
	return r;
}

/* Copies a blob verbatim as blobs/<alg>/<hex>, verifying it. Absent
 * non-distributable layers are left out, as the image layout allows. */
static int
oci_blob(save_ctx *c, const berth_descriptor *d, const char *image,
	 bool foreign, berth_error **err)
{
	_cleanup_free_ char *name = NULL, *dir = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	berth_hasher *h;
	berth_digest got;
	int64_t size, done = 0;
	int r;

	name = xasprintf("blobs/%s/%s", berth_digest_alg_name(d->digest.alg),
			 berth_digest_hex(&d->digest));
	if (seen(c->done, c->n_done, name))
		return 0;
	if (foreign && !berth_store_has_blob(NULL, c->s, &d->digest))
		return 0;
	r = open_blob(&fd, &size, c, &d->digest, image, err);
	if (r < 0)
		return r;
	dir = xasprintf("blobs/%s/", berth_digest_alg_name(d->digest.alg));
	if (!seen(c->done, c->n_done, dir)) {
		remember(&c->done, &c->n_done, dir);
		if ((r = tar_writer_dir(c->t, dir, 0, err)) < 0)
			return r;
	}
	remember(&c->done, &c->n_done, name);
	if ((r = tar_writer_begin(c->t, name, size, 0, err)) < 0)
		return r;
	buf = xmalloc(CHUNK);
	h = berth_hasher_new(d->digest.alg);
	while (done < size) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n <= 0) {
			r = berth_error_set(
				err, BERTH_EIO, n < 0 ? errno : 0,
				"cannot read blob '%s': %s", d->digest.str,
				n < 0 ? strerror(errno) : "it shrank");
			break;
		}
		if ((r = check_interrupt(c, err)) < 0)
			break;
		berth_hasher_update(h, buf, (size_t)n);
		if ((r = tar_writer_data(c->t, buf, (size_t)n, err)) < 0)
			break;
		done += n;
		progress(c, BERTH_ARCHIVE_PROGRESS, d->digest.str, "blob", done,
			 size);
	}
	berth_hasher_final(&got, h);
	berth_hasher_free(h);
	if (r == 0 && strcmp(got.str, d->digest.str) != 0)
		r = damaged(err, "blob", &d->digest, &got, image);
	if (r == 0)
		progress(c, BERTH_ARCHIVE_DONE, d->digest.str, "blob", size,
			 size);
	return r;
}

static json_t *
index_entry(const berth_descriptor *d, const char *name)
{
	json_t *e =
		json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type,
			  "digest", d->digest.str, "size", (json_int_t)d->size);

	if (d->has_platform && d->platform.os[0]) {
		json_t *p = json_pack("{s:s, s:s}", "architecture",
				      d->platform.arch, "os", d->platform.os);

		if (d->platform.variant[0])
			json_object_set_new(p, "variant",
					    json_string(d->platform.variant));
		json_object_set_new(e, "platform", p);
	}
	json_object_set_new(e, "annotations",
			    json_pack("{s:s, s:s}",
				      "org.opencontainers.image.ref.name", name,
				      "io.containerd.image.name", name));
	return e;
}

static int
save_oci(save_ctx *c, const char *const *names, size_t n, berth_error **err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	json_auto_t *index =
		json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
			  BERTH_MT_OCI_INDEX, "manifests");
	_cleanup_free_ char *text = NULL;
	int r;

	r = tar_writer_mem(c->t, "oci-layout", layout, strlen(layout), 0, err);
	if (r == 0)
		r = tar_writer_dir(c->t, "blobs/", 0, err);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
		berth_descriptor desc = BERTH_DESCRIPTOR_INIT;

		r = berth_image_load(&desc, &m, NULL, NULL, c->s, names[i],
				     err);
		if (r == 0)
			r = oci_blob(c, &desc, names[i], false, err);
		if (r == 0)
			r = oci_blob(c, &m->config, names[i], false, err);
		for (size_t k = 0; k < (m ? m->n_layers : 0) && r == 0; k++) {
			berth_layer_compression comp;
			bool foreign = false;

			berth_layer_media_type(&comp, &foreign,
					       m->layers[k].media_type, NULL);
			r = oci_blob(c, &m->layers[k], names[i], foreign, err);
		}
		if (r == 0)
			json_array_append_new(
				json_object_get(index, "manifests"),
				index_entry(&desc, names[i]));
		berth_descriptor_release(&desc);
	}
	if (r < 0)
		return r;
	text = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return tar_writer_mem(c->t, "index.json", text, strlen(text), 0, err);
}

int
berth_save(berth_store *s, const char *const *names, size_t n, int fd,
	   const berth_save_opts *o, berth_error **err)
{
	save_ctx c = {.s = s, .o = o};
	int r;

	if (berth_opts_check(o->version, BERTH_SAVE_OPTS_VERSION,
			     "berth_save_opts", err) < 0)
		return BERTH_EUSAGE;
	if (n == 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no image to save");
	r = tar_writer_new(&c.t, fd, err);
	if (r < 0)
		return r;
	r = o->format == BERTH_ARCHIVE_OCI ? save_oci(&c, names, n, err)
					   : save_docker(&c, names, n, err);
	if (r == 0)
		r = tar_writer_close(c.t, err);
	tar_writer_free(c.t);
	forget_all(c.done, c.n_done);
	forget_all(c.diff_at, c.n_diff);
	return r;
}

int
berth_save_file(berth_store *s, const char *const *names, size_t n,
		const char *path, const berth_save_opts *o, berth_error **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	int r;

	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create '%s': %s", tmp,
				       strerror(errno));
	/* mkostemp's 0600 is for the temporary name; the archive is an
	 * ordinary file, as docker save -o writes it. */
	fchmod(fd, 0644);
	r = berth_save(s, names, n, fd, o, err);
	if (r == 0 && fsync(fd) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot write '%s': %s", tmp,
				    strerror(errno));
	if (r == 0 && rename(tmp, path) < 0)
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot rename '%s' to '%s': %s", tmp, path,
				    strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}
