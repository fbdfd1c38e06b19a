/*
 * Name grammar, JSON answers and manifest facts for the registry server.
 * Bodies are built with jansson; manifests are validated by
 * berth_manifest_parse, the same parser the client uses.
 */
#include "server/handlers/oci.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "berth/manifest.h"
#include "berth/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

/* The client's rules: a name berth can push, berth serve accepts. */
bool
berth_oci_name_valid(const char *name)
{
	return berth_ref_name_valid(name);
}

bool
berth_oci_tag_valid(const char *tag)
{
	return berth_ref_tag_valid(tag);
}

static char *
dump(json_t *root, size_t *len)
{
	char *s = json_dumps(root, JSON_COMPACT);

	if (s == NULL)
		abort(); /* out of memory: as xmalloc does */
	*len = strlen(s);
	return s;
}

char *
berth_oci_error_json(const char *code, const char *message, const char *detail,
		     size_t *len)
{
	json_auto_t *root = json_object();
	json_t *e = json_object();
	json_t *errors = json_array();

	json_object_set_new(e, "code", json_string(code));
	json_object_set_new(e, "message",
			    message ? json_string(message) : json_string(""));
	if (detail)
		json_object_set_new(e, "detail", json_string(detail));
	json_array_append_new(errors, e);
	json_object_set_new(root, "errors", errors);
	return dump(root, len);
}

static json_t *
str_array(char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

char *
berth_oci_tags_json(const char *name, char *const *tags, size_t *len)
{
	json_auto_t *root = json_object();

	json_object_set_new(root, "name", json_string(name));
	json_object_set_new(root, "tags", str_array(tags));
	return dump(root, len);
}

char *
berth_oci_catalog_json(char *const *repos, size_t *len)
{
	json_auto_t *root = json_object();

	json_object_set_new(root, "repositories", str_array(repos));
	return dump(root, len);
}

char *
berth_oci_referrers_json(const berth_meta_manifest *v, size_t n, size_t *len)
{
	json_auto_t *root = json_object();
	json_t *list = json_array();
	size_t i;

	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(BERTH_MT_OCI_INDEX));
	for (i = 0; i < n; i++) {
		json_t *d = json_object();

		json_object_set_new(d, "mediaType",
				    json_string(v[i].media_type));
		json_object_set_new(d, "digest", json_string(v[i].digest));
		json_object_set_new(d, "size", json_integer(v[i].size));
		if (v[i].artifact_type)
			json_object_set_new(d, "artifactType",
					    json_string(v[i].artifact_type));
		if (v[i].annotations) {
			json_t *a = json_loads(v[i].annotations, 0, NULL);

			if (json_is_object(a))
				json_object_set_new(d, "annotations", a);
			else
				json_decref(a);
		}
		json_array_append_new(list, d);
	}
	json_object_set_new(root, "manifests", list);
	return dump(root, len);
}

/* Appends a descriptor's digest and size to a list of references. */
static void
ref_push(char ***v, int64_t **sizes, size_t *n, const berth_descriptor *d)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	*sizes = xreallocarray(*sizes, *n + 1, sizeof(**sizes));
	(*sizes)[*n] = d->size;
	(*v)[(*n)++] = xstrdup(d->digest.str);
	(*v)[*n] = NULL;
}

int
berth_oci_manifest_inspect(berth_oci_manifest_info *out,
			   const char *content_type, const char *body,
			   size_t len, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *ct = berth_str_media_type(content_type);
	berth_oci_manifest_info info = {0};
	json_auto_t *root = NULL;
	json_t *ann;
	size_t i;
	int r;

	if ((r = berth_manifest_parse(&m, ct, body, len, err)) < 0)
		return r;
	/* The type exactly as pushed, when it names what the body is. */
	info.media_type = xstrdup(
		ct && !strcasecmp(ct, m->media_type) ? ct : m->media_type);
	if (m->artifact_type && m->artifact_type[0])
		info.artifact_type = xstrdup(m->artifact_type);
	else if (m->kind == BERTH_MANIFEST_IMAGE && m->config.media_type)
		info.artifact_type = xstrdup(m->config.media_type);
	if (m->has_subject)
		info.subject = xstrdup(m->subject.digest.str);
	if (m->kind == BERTH_MANIFEST_IMAGE) {
		ref_push(&info.blobs, &info.blob_sizes, &info.n_blobs,
			 &m->config);
		for (i = 0; i < m->n_layers; i++)
			if (m->layers[i].urls == NULL)
				ref_push(&info.blobs, &info.blob_sizes,
					 &info.n_blobs, &m->layers[i]);
	} else {
		for (i = 0; i < m->n_manifests; i++)
			ref_push(&info.children, &info.child_sizes,
				 &info.n_children, &m->manifests[i]);
	}
	root = json_loadb(body, len, 0, NULL);
	ann = json_object_get(root, "annotations");
	if (json_is_object(ann) && json_object_size(ann) > 0)
		info.annotations =
			json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
	*out = info;
	return 0;
}

void
berth_oci_manifest_info_release(berth_oci_manifest_info *info)
{
	if (info == NULL)
		return;
	free(info->media_type);
	free(info->artifact_type);
	free(info->subject);
	free(info->annotations);
	berth_strv_free(info->blobs);
	berth_strv_free(info->children);
	free(info->blob_sizes);
	free(info->child_sizes);
	memset(info, 0, sizeof(*info));
}

void
berth_oci_manifest_put_fill(const berth_oci_manifest_info *info,
			    const char *digest, int64_t size,
			    berth_meta_manifest *mf, berth_meta_put *put)
{
	mf->digest = (char *)digest;
	mf->media_type = info->media_type;
	mf->size = size;
	mf->artifact_type = info->artifact_type;
	mf->subject = info->subject;
	mf->annotations = info->annotations;
	put->manifest = mf;
	put->blobs = (const char *const *)info->blobs;
	put->blob_sizes = info->blob_sizes;
	put->n_blobs = info->n_blobs;
	put->children = (const char *const *)info->children;
	put->child_sizes = info->child_sizes;
	put->n_children = info->n_children;
}
