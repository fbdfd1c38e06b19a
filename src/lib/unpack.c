/*
 * berth_unpack: an image in the local store -> a directory.
 *
 * Everything that can be checked before writing is: the manifest (an
 * index resolved to the platform), the config's rootfs.diff_ids, every
 * layer's media type and presence. Then each layer is read from its blob,
 * decoded (unpack/decode.h) and applied (unpack/apply.h) in one pass
 * into a staging directory (unpack/stage.h), its diff ID compared when
 * its last byte is in; the staging directory replaces DIR only after the
 * last layer.
 */
#include "berth/unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unpack/apply.h"
#include "unpack/decode.h"
#include "unpack/local.h"
#include "unpack/stage.h"
#include "unpack/verify.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

typedef struct unpack_ctx {
	const berth_unpack_opts *o;
	berth_store *store;
	berth_manifest *m; /* the image manifest */
	berth_digest image;
	berth_digest *diff_ids;
	berth_layer_compression *comp;
} unpack_ctx;

static void
ctx_release(unpack_ctx *c)
{
	berth_manifest_free(c->m);
	free(c->diff_ids);
	free(c->comp);
}

static void
emit(const unpack_ctx *c, berth_unpack_event_kind kind, size_t i, int64_t done,
     const char *diff_id)
{
	berth_unpack_event ev = {
		kind,
		c->image.str,
		i,
		c->m->n_layers,
		kind == BERTH_UNPACK_RESOLVED ? NULL : &c->m->layers[i],
		done,
		kind == BERTH_UNPACK_RESOLVED ? 0 : c->m->layers[i].size,
		diff_id,
	};

	if (c->o->progress)
		c->o->progress(c->o->ud, &ev);
}

/* The image manifest for name, through an index when it names one. */
static int
load_manifest(unpack_ctx *c, const char *name, berth_error **err)
{
	return berth_local_image(&c->m, &c->image, c->store, name,
				 c->o->platform, err);
}

/* rootfs.diff_ids, one a layer, and room for each layer's compression. */
static int
load_config(unpack_ctx *c, const char *name, berth_error **err)
{
	c->comp =
		xcalloc(c->m->n_layers ? c->m->n_layers : 1, sizeof(*c->comp));
	return berth_unpack_diff_ids(&c->diff_ids, c->store, c->m, name, err);
}

/* Every layer readable here, before anything is written. */
static int
check_layers(unpack_ctx *c, const char *name, berth_error **err)
{
	return berth_local_layers(c->comp, c->store, c->m, name, err);
}

struct layer_reader {
	const unpack_ctx *c;
	berth_layer_decoder *d;
	size_t i;
	int fd;
};

/* The decoder, and progress in compressed bytes of the blob read. */
static ssize_t
layer_read(void *ud, const void **buf, berth_error **err)
{
	struct layer_reader *lr = ud;
	ssize_t n = berth_layer_decoder_read(lr->d, buf, err);
	off_t pos = lseek(lr->fd, 0, SEEK_CUR);

	if (n > 0 && pos >= 0)
		emit(lr->c, BERTH_UNPACK_LAYER_PROGRESS, lr->i, pos, NULL);
	return n;
}

static int
unpack_layer(unpack_ctx *c, berth_apply *a, size_t i, int64_t max_out,
	     berth_error **err)
{
	const berth_descriptor *l = &c->m->layers[i];
	_cleanup_free_ char *path = berth_store_blob_path(c->store, &l->digest);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct layer_reader lr = {c, NULL, i, fd};
	berth_digest diff_id;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "layer %zu (%.19s)", i + 1, l->digest.str);
	if (fd < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "%s: cannot open '%s': %s", what, path,
				       strerror(errno));
	emit(c, BERTH_UNPACK_LAYER_START, i, 0, NULL);
	r = berth_layer_decoder_new(&lr.d, fd, c->comp[i], false, max_out, err);
	if (r < 0)
		return berth_error_wrap(err, r, "%s", what);
	r = berth_apply_layer(a, layer_read, &lr, what, err);
	/* The decoder's refusals (a truncated or corrupt stream) say no more.
	 */
	if (r == BERTH_EPROTO && err && *err && (*err)->hint == NULL)
		berth_error_hint(err,
				 "the layer's blob is damaged or was built "
				 "wrong: pull the image again, or rebuild "
				 "it");
	if (r == 0) {
		berth_layer_decoder_digests(lr.d, NULL, &diff_id);
		r = berth_unpack_diff_id_check(&diff_id, &c->diff_ids[i], what,
					       err);
	}
	berth_layer_decoder_free(lr.d);
	if (r == 0)
		emit(c, BERTH_UNPACK_LAYER_DONE, i, l->size, diff_id.str);
	return r;
}

int
berth_unpack(berth_unpack_result *out, berth_store *s, const char *name,
	     const char *dir, const berth_unpack_opts *o, berth_error **err)
{
	unpack_ctx c = {o, s, NULL, {BERTH_DIGEST_SHA256, ""}, NULL, NULL};
	berth_apply_opts ao = {o->rootless, o->max_size, o->max_entries,
			       BERTH_RESOLVE_AUTO};
	berth_stage *st = NULL;
	berth_apply *a = NULL;
	int r;

	if ((r = berth_opts_check(o->version, BERTH_UNPACK_OPTS_VERSION,
				  "berth_unpack_opts", err)) < 0 ||
	    (r = berth_opts_check(out->version, BERTH_UNPACK_RESULT_VERSION,
				  "berth_unpack_result", err)) < 0)
		return r;
	if (ao.max_size == 0)
		ao.max_size = BERTH_UNPACK_MAX_SIZE_DEFAULT;
	else if (ao.max_size < 0)
		ao.max_size = 0;
	if (ao.max_entries == 0)
		ao.max_entries = BERTH_UNPACK_MAX_ENTRIES_DEFAULT;
	if ((r = load_manifest(&c, name, err)) < 0 ||
	    (r = load_config(&c, name, err)) < 0 ||
	    (r = check_layers(&c, name, err)) < 0)
		goto out;
	if ((r = berth_stage_begin(&st, dir, o->force, err)) < 0)
		goto out;
	emit(&c, BERTH_UNPACK_RESOLVED, 0, 0, NULL);
	if ((r = berth_apply_new(&a, berth_stage_fd(st), &ao, err)) < 0)
		goto out;
	for (size_t i = 0; i < c.m->n_layers && r == 0; i++)
		r = unpack_layer(&c, a, i, ao.max_size, err);
	if (r == 0)
		r = berth_apply_finish(a, err);
	if (r == 0) {
		r = berth_stage_commit(st, err);
		st = NULL;
	}
	if (r == 0) {
		out->image = c.image;
		out->n_layers = c.m->n_layers;
		out->entries = berth_apply_entries(a);
		out->bytes = berth_apply_bytes(a);
	}
out:
	berth_apply_free(a);
	berth_stage_abort(st);
	ctx_release(&c);
	return r;
}

char *
berth_unpack_result_json(const berth_unpack_result *r, const char *dir)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:I, s:I, s:I}", "image", r->image.str, "dir", dir,
		"layers", (json_int_t)r->n_layers, "entries",
		(json_int_t)r->entries, "bytes", (json_int_t)r->bytes);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}
