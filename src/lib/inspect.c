/* Image descriptions in the JSON shapes users know: `docker inspect` for
 * local images, `skopeo inspect` for remote ones. */
#include "berth/image.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/pull.h"
#include "fetch_small.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/xalloc.h"

static json_t *
string_or_null(json_t *v)
{
	return json_is_string(v) ? json_incref(v) : json_null();
}

/* The image config as parsed JSON; BERTH_EPROTO if it is not an object. */
static int
parse_config(json_t **out, const char *data, size_t len, berth_error **err)
{
	json_error_t jerr;
	json_t *c = json_loadb(data, len, 0, &jerr);

	if (!json_is_object(c)) {
		_cleanup_free_ char *why =
			c ? xstrdup("not an object") : berth_json_why(&jerr);

		json_decref(c);
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "image config is not a JSON object: %s",
				       why);
	}
	*out = c;
	return 0;
}

/* "host/repo" of a full name, cutting ":tag" and "@digest". */
static char *
repo_of(const char *name)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;

	if (berth_ref_parse_name(&ref, name, NULL) < 0)
		return xstrdup(name);
	return berth_ref_name(ref);
}

static const char *
index_digest(const berth_descriptor *d)
{
	json_auto_t *a = NULL;
	static __thread char buf[BERTH_DIGEST_MAX];
	const char *v;

	if (d->annotations_json == NULL)
		return NULL;
	a = json_loads(d->annotations_json, 0, NULL);
	v = json_string_value(
		json_object_get(a, BERTH_ANNOTATION_INDEX_DIGEST));
	if (v == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", v);
	return buf;
}

/* RepoTags and RepoDigests: every name in the store for this manifest. */
static int
add_names(json_t *o, berth_store *s, const berth_descriptor *desc,
	  berth_error **err)
{
	berth_image *imgs = NULL;
	size_t n = 0;
	json_t *tags = json_array(), *digests = json_array();
	int r;

	json_object_set_new(o, "RepoTags", tags);
	json_object_set_new(o, "RepoDigests", digests);
	r = berth_store_list(&imgs, &n, s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *repo = NULL, *rd = NULL;
		const char *top;

		if (strcmp(imgs[i].desc.digest.str, desc->digest.str) != 0)
			continue;
		if (strchr(imgs[i].name, '@') == NULL)
			json_array_append_new(tags, json_string(imgs[i].name));
		repo = repo_of(imgs[i].name);
		top = index_digest(&imgs[i].desc);
		rd = xasprintf("%s@%s", repo, top ? top : desc->digest.str);
		bool seen = false;
		size_t k;
		json_t *v;
		json_array_foreach(digests, k,
				   v) if (strcmp(json_string_value(v), rd) == 0)
			seen = true;
		if (!seen)
			json_array_append_new(digests, json_string(rd));
	}
	berth_images_free(imgs, n);
	return 0;
}

int
berth_image_inspect(char **out, berth_store *s, const char *name,
		    berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *cfg_text = NULL;
	berth_descriptor desc = {0};
	json_auto_t *cfg = NULL, *arr = NULL;
	json_t *o, *rootfs;
	size_t cfg_len = 0;
	int64_t size = 0;
	int r;

	r = berth_image_load(&desc, &m, &cfg_text, &cfg_len, s, name, err);
	if (r < 0)
		return r;
	r = parse_config(&cfg, cfg_text, cfg_len, err);
	if (r < 0)
		goto out;
	o = json_object();
	arr = json_array();
	json_array_append_new(arr, o);
	json_object_set_new(o, "Id", json_string(m->config.digest.str));
	r = add_names(o, s, &desc, err);
	if (r < 0)
		goto out;
	json_object_set_new(o, "Created",
			    string_or_null(json_object_get(cfg, "created")));
	json_object_set_new(
		o, "Author",
		json_string(json_string_value(json_object_get(cfg, "author"))
				    ? json_string_value(
					      json_object_get(cfg, "author"))
				    : ""));
	json_object_set_new(
		o, "Architecture",
		string_or_null(json_object_get(cfg, "architecture")));
	if (json_is_string(json_object_get(cfg, "variant")))
		json_object_set(o, "Variant", json_object_get(cfg, "variant"));
	json_object_set_new(o, "Os",
			    string_or_null(json_object_get(cfg, "os")));
	json_object_set(o, "Config",
			json_object_get(cfg, "config")
				? json_object_get(cfg, "config")
				: json_null());
	for (size_t i = 0; i < m->n_layers; i++)
		size += m->layers[i].size;
	json_object_set_new(o, "Size", json_integer(size));
	rootfs = json_object();
	json_object_set_new(rootfs, "Type", json_string("layers"));
	json_object_set(
		rootfs, "Layers",
		json_is_array(json_object_get(json_object_get(cfg, "rootfs"),
					      "diff_ids"))
			? json_object_get(json_object_get(cfg, "rootfs"),
					  "diff_ids")
			: json_array());
	json_object_set_new(o, "RootFS", rootfs);
	json_object_set_new(o, "ManifestDigest", json_string(desc.digest.str));
	json_object_set_new(o, "ManifestMediaType",
			    json_string(desc.media_type));
	/* \u escapes: an image's strings may hold C1 controls, bidirectional
	 * overrides and the like, which must not reach a terminal raw. */
	*out = json_dumps(arr, JSON_INDENT(4) | JSON_ENSURE_ASCII);
out:
	berth_descriptor_release(&desc);
	return r;
}

static json_t *
layers_data(const berth_manifest *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_layers; i++) {
		const berth_descriptor *l = &m->layers[i];
		json_t *o = json_object();

		json_object_set_new(o, "MIMEType", json_string(l->media_type));
		json_object_set_new(o, "Digest", json_string(l->digest.str));
		json_object_set_new(o, "Size", json_integer(l->size));
		json_object_set_new(
			o, "Annotations",
			l->annotations_json
				? json_loads(l->annotations_json, 0, NULL)
				: json_null());
		json_array_append_new(a, o);
	}
	return a;
}

int
berth_remote_inspect(char **out, const berth_ref *ref,
		     const berth_platform *platform,
		     const berth_registry_opts *opts, berth_error **err)
{
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_buf_ berth_buf cfg_text = BERTH_BUF_INIT;
	_cleanup_free_ char *name = NULL;
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	berth_platform host;
	berth_digest top;
	json_auto_t *o = NULL, *cfg = NULL;
	json_t *tags, *layers, *ccfg;
	char **tagv = NULL;
	size_t ntags = 0;
	int r;

	r = berth_registry_new(&reg, berth_ref_api_host(ref), opts, err);
	if (r < 0)
		return r;
	r = berth_registry_get_manifest(&body, reg, ref->path,
					berth_ref_reference(ref), err);
	if (r < 0)
		return r;
	top = body.digest;
	r = berth_manifest_parse(&m, body.content_type, body.data, body.len,
				 err);
	if (r == 0 && m->kind == BERTH_MANIFEST_INDEX) {
		const berth_descriptor *d = NULL;
		berth_digest child;

		if (platform == NULL)
			berth_platform_host(&host);
		r = berth_manifest_select(&d, m, platform ? platform : &host,
					  err);
		if (r == 0) {
			child = d->digest;
			berth_manifest_body_release(&body);
			berth_manifest_freep(&m);
			r = berth_registry_get_manifest(&body, reg, ref->path,
							child.str, err);
		}
		if (r == 0)
			r = berth_manifest_parse(&m, body.content_type,
						 body.data, body.len, err);
	}
	berth_manifest_body_release(&body);
	if (r == 0)
		r = fetch_small_blob(&cfg_text, reg, ref->path, &m->config,
				     err);
	if (r == 0)
		r = parse_config(&cfg, cfg_text.ptr, cfg_text.len, err);
	if (r == 0)
		r = berth_registry_list_tags(&tagv, &ntags, reg, ref->path,
					     err);
	if (r < 0)
		return r;

	o = json_object();
	name = berth_ref_name(ref);
	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "Digest", json_string(top.str));
	tags = json_array();
	for (size_t i = 0; i < ntags; i++)
		json_array_append_new(tags, json_string(tagv[i]));
	berth_strv_free(tagv);
	json_object_set_new(o, "RepoTags", tags);
	json_object_set_new(o, "Created",
			    string_or_null(json_object_get(cfg, "created")));
	ccfg = json_object_get(cfg, "config");
	json_object_set_new(
		o, "Labels",
		json_is_object(json_object_get(ccfg, "Labels"))
			? json_incref(json_object_get(ccfg, "Labels"))
			: json_null());
	json_object_set_new(
		o, "Architecture",
		string_or_null(json_object_get(cfg, "architecture")));
	if (json_is_string(json_object_get(cfg, "variant")))
		json_object_set(o, "Variant", json_object_get(cfg, "variant"));
	json_object_set_new(o, "Os",
			    string_or_null(json_object_get(cfg, "os")));
	layers = json_array();
	for (size_t i = 0; i < m->n_layers; i++)
		json_array_append_new(layers,
				      json_string(m->layers[i].digest.str));
	json_object_set_new(o, "Layers", layers);
	json_object_set_new(o, "LayersData", layers_data(m));
	json_object_set_new(o, "Env",
			    json_is_array(json_object_get(ccfg, "Env"))
				    ? json_incref(json_object_get(ccfg, "Env"))
				    : json_null());
	/* \u escapes, as for the local inspect above. */
	*out = json_dumps(o, JSON_INDENT(4) | JSON_ENSURE_ASCII);
	return 0;
}
