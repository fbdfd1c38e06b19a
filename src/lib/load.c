/*
 * berth_load: a docker-archive (docker save, skopeo's docker-archive:) or
 * an OCI image-layout archive (skopeo's oci-archive:) into the store.
 *
 * The archive is read once, to its end, every file staged while it is
 * hashed (docker writes manifest.json last). Then every digest is
 * checked: each layer's diff ID against its config, a config against the
 * name it is given, each OCI blob against its descriptor. Only then are
 * the blobs committed and the names recorded; a failure before that
 * leaves the store as it was.
 *
 * docker-archive layers are uncompressed tar files; they are stored as
 * they are, with the OCI media type of an uncompressed layer, so that
 * their digest is their diff ID and the image ID (the config's digest)
 * is kept (docs/archives.md says why).
 */
#include "berth/archive.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "archive/docker.h"
#include "archive/staged.h"
#include "berth/manifest.h"
#include "berth/platform.h"
#include "berth/pull.h"
#include "berth/ref.h"
#include "unpack/decode.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/opts.h"
#include "util/xalloc.h"

#define CONFIG_MAX ((size_t)16 << 20)
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
/* Indexes inside indexes, at most this deep. */
#define MAX_DEPTH 4

/* What will be recorded once everything is verified. */
typedef struct plan_image {
	char *name; /* or NULL: untagged */
	berth_descriptor desc;
	berth_digest id;
	char *manifest; /* a manifest to store (docker-archive), or NULL */
} plan_image;

typedef struct load_ctx {
	berth_store *s;
	staged_archive a;
	plan_image *v;
	size_t n;
} load_ctx;

static plan_image *
plan_add(load_ctx *c)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	return &c->v[c->n++];
}

static int
missing(berth_error **err, const char *where, const char *name)
{
	berth_error_set(err, BERTH_EPROTO, 0,
			"%s names '%s', which is not in the archive", where,
			name);
	berth_error_hint(err, "the archive is incomplete: copy it again, or "
			      "save the images again");
	return BERTH_EPROTO;
}

static int
mismatch(berth_error **err, const char *what, const char *file,
	 const char *want, const berth_digest *got)
{
	berth_error_set(err, BERTH_EDIGEST, 0,
			"%s '%s' does not match its digest %s: content is %s",
			what, file, want, got->str);
	berth_error_hint(err, "the archive is damaged: copy it again, or save "
			      "the images again");
	return BERTH_EDIGEST;
}

/* The compression of a staged layer, from its first bytes. */
static berth_layer_compression
sniff(int fd)
{
	unsigned char m[4] = {0};
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return BERTH_LAYER_GZIP;
	if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f &&
	    m[3] == 0xfd)
		return BERTH_LAYER_ZSTD;
	return BERTH_LAYER_PLAIN;
}

/* The diff ID of a staged layer compressed with `comp`. */
static int
staged_diff_id(berth_digest *out, const staged_file *f,
	       berth_layer_compression comp, berth_error **err)
{
	_cleanup_close_ int fd = -1;
	berth_layer_decoder *d = NULL;
	const void *buf;
	ssize_t n;
	int r;

	if ((r = staged_open(&fd, f, err)) < 0)
		return r;
	if (comp == BERTH_LAYER_PLAIN)
		comp = sniff(fd);
	r = berth_layer_decoder_new(&d, fd, comp, false, 0, err);
	if (r < 0)
		return r;
	while ((n = berth_layer_decoder_read(d, &buf, err)) > 0)
		;
	if (n < 0)
		r = berth_error_wrap(err, (int)n, "layer '%s'", f->name);
	else
		berth_layer_decoder_digests(d, NULL, out);
	berth_layer_decoder_free(d);
	return r;
}

/* A JSON config's rootfs.diff_ids; BERTH_EPROTO naming `file` if bad. */
static int
diff_ids(json_t **out, json_t *config, const char *file, berth_error **err)
{
	json_t *d =
		json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t i;
	json_t *s;

	if (!json_is_array(d))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "config '%s' has no rootfs.diff_ids",
				       file);
	json_array_foreach(d, i, s) if (
		!berth_digest_valid(json_string_value(
			s))) return berth_error_set(err, BERTH_EPROTO, 0,
						    "config '%s' has an "
						    "invalid "
						    "diff ID at %zu",
						    file, i + 1);
	*out = d;
	return 0;
}

static int
parse_config(json_t **out, char **text, size_t *len, staged_file *f,
	     berth_error **err)
{
	json_error_t jerr;
	int r = staged_slurp(text, len, f, CONFIG_MAX, err);

	if (r < 0)
		return r;
	*out = json_loadb(*text, *len, 0, &jerr);
	if (!json_is_object(*out)) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "config '%s' is not a JSON object%s%s",
				       f->name, *out ? "" : ": ",
				       *out ? "" : why);
	}
	return 0;
}

/* ---- docker-archive ---- */

static json_t *
desc_json(const char *mt, const berth_digest *d, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", d->str,
			 "size", (json_int_t)size);
}

/* Layer j of a docker-archive image: its descriptor, checked against
 * its diff ID (an uncompressed tar, or gzip/zstd as docker load also
 * takes). */
static int
docker_layer(json_t *layers, load_ctx *c, const char *file, const char *want,
	     berth_error **err)
{
	staged_file *f = staged_find(&c->a, file);
	const char *mt = BERTH_MT_OCI_LAYER;
	berth_digest got;
	int r;

	if (f == NULL)
		return missing(err, "manifest.json", file);
	if (strcmp(f->digest.str, want) != 0) {
		r = staged_diff_id(&got, f, BERTH_LAYER_PLAIN, err);
		if (r < 0)
			return r;
		if (strcmp(got.str, want) != 0)
			return mismatch(err, "layer", file, want, &f->digest);
		{
			_cleanup_close_ int fd = -1;

			if ((r = staged_open(&fd, f, err)) < 0)
				return r;
			mt = sniff(fd) == BERTH_LAYER_GZIP
				     ? BERTH_MT_OCI_LAYER_GZIP
				     : BERTH_MT_OCI_LAYER_ZSTD;
		}
	}
	f->use = true;
	json_array_append_new(layers, desc_json(mt, &f->digest, f->size));
	return 0;
}

static bool
config_name_hex(const char *name, char hex[65])
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	if (strlen(base) != 69 || strcmp(base + 64, ".json") != 0)
		return false;
	for (int i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", base[i]))
			return false;
	memcpy(hex, base, 64);
	hex[64] = '\0';
	return true;
}

static int
docker_image_plan(load_ctx *c, const docker_image *di, berth_error **err)
{
	staged_file *cf = staged_find(&c->a, di->config);
	_cleanup_free_ char *cfg = NULL, *text = NULL;
	json_auto_t *config = NULL, *m = NULL;
	json_t *diffs = NULL, *layers;
	berth_platform p = {"", "", ""};
	char hex[65];
	size_t len;
	int r;

	if (cf == NULL)
		return missing(err, "manifest.json", di->config);
	if ((r = parse_config(&config, &cfg, &len, cf, err)) < 0)
		return r;
	if (config_name_hex(di->config, hex) &&
	    strcmp(hex, berth_digest_hex(&cf->digest)) != 0) {
		_cleanup_free_ char *want = xasprintf("sha256:%s", hex);

		return mismatch(err, "config", di->config, want, &cf->digest);
	}
	if ((r = diff_ids(&diffs, config, di->config, err)) < 0)
		return r;
	if (json_array_size(diffs) != di->n_layers)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest.json lists %zu layers for "
				       "config '%s', which has %zu diff IDs",
				       di->n_layers, di->config,
				       json_array_size(diffs));
	cf->use = true;
	layers = json_array();
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
		      BERTH_MT_OCI_MANIFEST, "config",
		      desc_json(BERTH_MT_OCI_CONFIG, &cf->digest, cf->size),
		      "layers", layers);
	for (size_t j = 0; j < di->n_layers; j++) {
		r = docker_layer(layers, c, di->layers[j],
				 json_string_value(json_array_get(diffs, j)),
				 err);
		if (r < 0)
			return r;
	}
	text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	snprintf(p.os, sizeof(p.os), "%s",
		 json_string_value(json_object_get(config, "os")) ?: "");
	snprintf(p.arch, sizeof(p.arch), "%s",
		 json_string_value(json_object_get(config, "architecture"))
			 ?: "");
	snprintf(p.variant, sizeof(p.variant), "%s",
		 json_string_value(json_object_get(config, "variant")) ?: "");
	for (size_t t = 0; t < (di->n_tags ? di->n_tags : 1); t++) {
		plan_image *pi;
		_cleanup_(berth_ref_freep) berth_ref *ref = NULL;

		if (di->n_tags &&
		    (r = berth_ref_parse(&ref, di->repo_tags[t], err)) < 0)
			return berth_error_wrap(err, r,
						"manifest.json: RepoTags "
						"'%s'",
						di->repo_tags[t]);
		pi = plan_add(c);
		pi->name = ref ? berth_ref_string(ref) : NULL;
		pi->id = cf->digest;
		pi->manifest = xstrdup(text);
		pi->desc.media_type = xstrdup(BERTH_MT_OCI_MANIFEST);
		berth_digest_of(&pi->desc.digest, BERTH_DIGEST_SHA256, text,
				strlen(text));
		pi->desc.size = (int64_t)strlen(text);
		if (p.os[0] && p.arch[0]) {
			pi->desc.has_platform = true;
			pi->desc.platform = p;
		}
	}
	return 0;
}

static int
docker_plan(load_ctx *c, staged_file *mf, berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	docker_image *v = NULL;
	size_t len, n = 0;
	int r;

	if ((r = staged_slurp(&text, &len, mf, BERTH_MANIFEST_MAX, err)) < 0)
		return r;
	if ((r = docker_manifest_parse(&v, &n, text, len, err)) < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = docker_image_plan(c, &v[i], err);
	docker_images_free(v, n);
	return r;
}

/* ---- OCI image layout ---- */

/* The staged blob a descriptor names, checked against it; *out NULL for
 * an absent non-distributable layer. */
static int
oci_blob(staged_file **out, load_ctx *c, const berth_descriptor *d,
	 bool may_lack, berth_error **err)
{
	_cleanup_free_ char *name =
		xasprintf("blobs/%s/%s", berth_digest_alg_name(d->digest.alg),
			  berth_digest_hex(&d->digest));
	staged_file *f = staged_find(&c->a, name);

	*out = NULL;
	if (f == NULL)
		return may_lack ? 0 : missing(err, "index.json", name);
	if (strcmp(f->digest.str, d->digest.str) != 0)
		return mismatch(err, "blob", name, d->digest.str, &f->digest);
	if (f->size != d->size)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "blob '%s' has %lld bytes, its "
				       "descriptor says %lld",
				       name, (long long)f->size,
				       (long long)d->size);
	f->use = true;
	*out = f;
	return 0;
}

static bool
is_image_config(const char *mt)
{
	return mt && (strcmp(mt, BERTH_MT_OCI_CONFIG) == 0 ||
		      strcmp(mt, BERTH_MT_DOCKER_CONFIG) == 0);
}

static int
oci_image(load_ctx *c, const berth_manifest *m, berth_digest *id,
	  berth_error **err)
{
	_cleanup_free_ char *cfg = NULL;
	json_auto_t *config = NULL;
	json_t *diffs = NULL;
	staged_file *cf, *lf;
	size_t len;
	int r;

	if ((r = oci_blob(&cf, c, &m->config, false, err)) < 0)
		return r;
	*id = m->config.digest;
	if (!is_image_config(m->config.media_type))
		return 0; /* an artifact: its blobs are checked, no more */
	if ((r = parse_config(&config, &cfg, &len, cf, err)) < 0 ||
	    (r = diff_ids(&diffs, config, cf->name, err)) < 0)
		return r;
	if (json_array_size(diffs) != m->n_layers)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has %zu layers, its config "
				       "'%s' %zu diff IDs",
				       m->n_layers, cf->name,
				       json_array_size(diffs));
	for (size_t j = 0; j < m->n_layers; j++) {
		const char *want = json_string_value(json_array_get(diffs, j));
		berth_layer_compression comp;
		berth_digest got;
		bool foreign = false;

		if ((r = berth_layer_media_type(&comp, &foreign,
						m->layers[j].media_type, err)) <
		    0)
			return r;
		if ((r = oci_blob(&lf, c, &m->layers[j], foreign, err)) < 0)
			return r;
		if (lf == NULL)
			continue;
		if (comp == BERTH_LAYER_PLAIN)
			got = lf->digest;
		else if ((r = staged_diff_id(&got, lf, comp, err)) < 0)
			return r;
		if (strcmp(got.str, want) != 0) {
			berth_error_set(err, BERTH_EDIGEST, 0,
					"layer '%s' does not match its diff "
					"ID %s: its content is %s",
					lf->name, want, got.str);
			berth_error_hint(err, "the archive is damaged: copy "
					      "it again, or save the images "
					      "again");
			return BERTH_EDIGEST;
		}
	}
	return 0;
}

/* Checks the manifest or index `d` and everything below it. */
static int
oci_walk(load_ctx *c, const berth_descriptor *d, berth_digest *id, int depth,
	 berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *body = NULL;
	staged_file *f;
	size_t len;
	int r;

	if (depth > MAX_DEPTH)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "indexes nest deeper than %d",
				       MAX_DEPTH);
	if ((r = oci_blob(&f, c, d, false, err)) < 0 ||
	    (r = staged_slurp(&body, &len, f, BERTH_MANIFEST_MAX, err)) < 0)
		return r;
	if ((r = berth_manifest_parse(&m, d->media_type, body, len, err)) < 0)
		return berth_error_wrap(err, r, "'%s'", f->name);
	if (m->kind == BERTH_MANIFEST_IMAGE)
		return oci_image(c, m, id, err);
	for (size_t i = 0; i < m->n_manifests; i++) {
		berth_digest child;

		if ((r = oci_walk(c, &m->manifests[i], &child, depth + 1,
				  err)) < 0)
			return r;
	}
	*id = d->digest;
	return 0;
}

/* The name an index.json entry gives: io.containerd.image.name, else a
 * ref.name that is a whole reference; NULL for a bare tag or none. */
static int
oci_name(char **out, const berth_descriptor *d, berth_error **err)
{
	json_auto_t *ann = d->annotations_json
				   ? json_loads(d->annotations_json, 0, NULL)
				   : NULL;
	const char *name =
		json_string_value(json_object_get(ann, ANN_CONTAINERD_NAME));
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	int r;

	*out = NULL;
	if (name == NULL) {
		name = json_string_value(json_object_get(ann, ANN_REF_NAME));
		/* "latest" or "v1" alone tag nothing we could name. */
		if (name == NULL || strpbrk(name, "/:@") == NULL)
			return 0;
	}
	if ((r = berth_ref_parse(&ref, name, err)) < 0)
		return berth_error_wrap(err, r, "index.json: image name '%s'",
					name);
	*out = berth_ref_string(ref);
	return 0;
}

/*
 * A multi-platform image is recorded as berth pull records it: the
 * manifest for this machine's platform, with the index's digest in
 * io.berth.index.digest (every platform's blobs were checked and are
 * stored; those of the others are left to garbage collection).
 */
static int
oci_pick_platform(load_ctx *c, plan_image *pi, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *index = NULL, *m = NULL;
	_cleanup_free_ char *body = NULL;
	const berth_descriptor *child;
	berth_descriptor chosen = BERTH_DESCRIPTOR_INIT;
	berth_platform host;
	json_auto_t *ann = NULL;
	staged_file *f;
	size_t len;
	int r;

	if (strcmp(pi->desc.media_type, BERTH_MT_OCI_INDEX) != 0 &&
	    strcmp(pi->desc.media_type, BERTH_MT_DOCKER_LIST) != 0)
		return 0;
	berth_platform_host(&host);
	if ((r = oci_blob(&f, c, &pi->desc, false, err)) < 0 ||
	    (r = staged_slurp(&body, &len, f, BERTH_MANIFEST_MAX, err)) < 0 ||
	    (r = berth_manifest_parse(&index, pi->desc.media_type, body, len,
				      err)) < 0 ||
	    (r = berth_manifest_select(&child, index, &host, err)) < 0)
		return berth_error_wrap(err, r, "index '%s'",
					pi->desc.digest.str);
	free(body);
	body = NULL;
	if ((r = oci_blob(&f, c, child, false, err)) < 0 ||
	    (r = staged_slurp(&body, &len, f, BERTH_MANIFEST_MAX, err)) < 0 ||
	    (r = berth_manifest_parse(&m, child->media_type, body, len, err)) <
		    0)
		return r;
	if (m->kind != BERTH_MANIFEST_IMAGE)
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "index entry '%s' is itself an index",
				       child->digest.str);
	berth_descriptor_copy(&chosen, child);
	ann = json_pack("{s:s}", BERTH_ANNOTATION_INDEX_DIGEST,
			pi->desc.digest.str);
	free(chosen.annotations_json);
	chosen.annotations_json = json_dumps(ann, JSON_COMPACT);
	berth_descriptor_release(&pi->desc);
	pi->desc = chosen;
	pi->id = m->config.digest;
	return 0;
}

static int
oci_plan(load_ctx *c, staged_file *idx, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *index = NULL;
	_cleanup_free_ char *text = NULL, *layout = NULL;
	staged_file *lf = staged_find(&c->a, "oci-layout");
	size_t len;
	int r;

	if (lf) {
		json_auto_t *o = NULL;
		const char *v;

		if ((r = staged_slurp(&layout, &len, lf, 4096, err)) < 0)
			return r;
		o = json_loadb(layout, len, 0, NULL);
		v = json_string_value(json_object_get(o, "imageLayoutVersion"));
		if (v == NULL || strcmp(v, "1.0.0") != 0)
			return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
					       "oci-layout has "
					       "imageLayoutVersion '%s', not "
					       "1.0.0",
					       v ? v : "(none)");
	}
	if ((r = staged_slurp(&text, &len, idx, BERTH_MANIFEST_MAX, err)) < 0)
		return r;
	if ((r = berth_manifest_parse(&index, BERTH_MT_OCI_INDEX, text, len,
				      err)) < 0)
		return berth_error_wrap(err, r, "index.json");
	if (index->kind != BERTH_MANIFEST_INDEX)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "index.json is not an image index");
	for (size_t i = 0; i < index->n_manifests; i++) {
		const berth_descriptor *d = &index->manifests[i];
		plan_image *pi;
		berth_digest id;
		char *name;

		if ((r = oci_walk(c, d, &id, 0, err)) < 0 ||
		    (r = oci_name(&name, d, err)) < 0)
			return r;
		pi = plan_add(c);
		pi->name = name;
		pi->id = id;
		berth_descriptor_copy(&pi->desc, d);
		free(pi->desc.annotations_json);
		pi->desc.annotations_json = NULL;
		if ((r = oci_pick_platform(c, pi, err)) < 0)
			return r;
	}
	return 0;
}

/* ---- recording ---- */

static int
record(load_ctx *c, berth_load_result *out, berth_error **err)
{
	int r = staged_commit(&c->a, err);

	for (size_t i = 0; i < c->n && r == 0; i++) {
		plan_image *pi = &c->v[i];

		if (pi->manifest)
			r = berth_store_put_blob(NULL, c->s, &pi->desc.digest,
						 pi->manifest,
						 strlen(pi->manifest), err);
		if (r == 0 && pi->name)
			r = berth_store_set_image(c->s, pi->name, &pi->desc,
						  err);
		else if (r == 0)
			/* Untagged: an entry without a name keeps it from
			 * garbage collection. */
			r = berth_store_keep_image(c->s, &pi->desc, err);
	}
	if (r < 0)
		return r;
	out->images = xcalloc(c->n + 1, sizeof(*out->images));
	for (size_t i = 0; i < c->n; i++) {
		berth_loaded_image *li = &out->images[out->n_images];
		bool dup = false;

		/* An untagged image is reported once, however often it is
		 * listed. */
		for (size_t k = 0; k < out->n_images && !c->v[i].name; k++)
			dup |= !out->images[k].name &&
			       strcmp(out->images[k].id.str, c->v[i].id.str) ==
				       0;
		if (dup)
			continue;
		li->name = c->v[i].name ? xstrdup(c->v[i].name) : NULL;
		li->id = c->v[i].id;
		li->manifest = c->v[i].desc.digest;
		out->n_images++;
	}
	return 0;
}

int
berth_load(berth_load_result *out, berth_store *s, int fd,
	   const berth_load_opts *o, berth_error **err)
{
	load_ctx c = {.s = s};
	staged_file *mf, *idx;
	int r;

	if (berth_opts_check(o->version, BERTH_LOAD_OPTS_VERSION,
			     "berth_load_opts", err) < 0 ||
	    berth_opts_check(out->version, BERTH_LOAD_RESULT_VERSION,
			     "berth_load_result", err) < 0)
		return BERTH_EUSAGE;
	if ((r = berth_store_lease(s, err)) < 0)
		return r;
	r = staged_read(&c.a, s, fd, o, err);
	if (r < 0)
		goto out;
	idx = staged_find(&c.a, "index.json");
	mf = staged_find(&c.a, "manifest.json");
	if (idx) {
		out->format = BERTH_ARCHIVE_OCI;
		r = oci_plan(&c, idx, err);
	} else if (mf) {
		out->format = BERTH_ARCHIVE_DOCKER;
		r = docker_plan(&c, mf, err);
	} else if (staged_find(&c.a, "repositories")) {
		r = berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "the archive has 'repositories' but no "
				    "manifest.json: the format of docker "
				    "before 1.10 is not supported");
		berth_error_hint(err, "save the image again with docker 1.10 "
				      "or later");
		goto out;
	} else {
		r = BERTH_EPROTO;
	}
	if (r == 0 && c.n == 0)
		r = BERTH_EPROTO;
	if (r == BERTH_EPROTO && (err == NULL || *err == NULL)) {
		berth_error_set(err, BERTH_EPROTO, 0,
				"the archive holds no images: it has neither a "
				"manifest.json (docker save) nor an index.json "
				"(OCI layout) listing any");
		berth_error_hint(err, "load an archive written by 'berth "
				      "save', 'docker save' or 'skopeo copy' "
				      "(docker-archive: or oci-archive:)");
	}
	if (r == 0)
		r = record(&c, out, err);
out:
	for (size_t i = 0; i < c.n; i++) {
		free(c.v[i].name);
		free(c.v[i].manifest);
		berth_descriptor_release(&c.v[i].desc);
	}
	free(c.v);
	staged_release(&c.a);
	berth_store_unlease(s);
	return r;
}

void
berth_load_result_release(berth_load_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_images; i++)
		free(r->images[i].name);
	free(r->images);
	BERTH_VERSIONED_RESET(r);
}
