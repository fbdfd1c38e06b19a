/*
 * OCI image manifests and indexes, Docker schema 2 manifests and manifest
 * lists (image-spec manifest.md, image-index.md, descriptor.md).
 *
 * Everything a registry sends is untrusted: every descriptor is checked
 * (mediaType, digest, size >= 0) before anyone follows it. Descriptors are
 * named in messages by their 1-based position ("layer 2" is layers[1]).
 */
#include "berth/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xalloc.h"

#define ATTESTATION_KEY "vnd.docker.reference.type"
#define LIST_MAX 16 /* platforms named in the "no manifest for" message */

/* Quotes an untrusted string for a one-line message. */
static char *
quote(const char *s)
{
	return berth_str_quote(s, strlen(s), 120);
}

void
berth_descriptor_release(berth_descriptor *d)
{
	if (d == NULL)
		return;
	free(d->media_type);
	free(d->artifact_type);
	free(d->annotations_json);
	if (d->urls) {
		for (char **u = d->urls; *u; u++)
			free(*u);
		free(d->urls);
	}
	memset(d, 0, sizeof(*d));
}

void
berth_descriptor_copy(berth_descriptor *dst, const berth_descriptor *src)
{
	*dst = *src;
	/* Nothing lives there yet: a copy never shares what a caller left. */
	memset(dst->reserved, 0, sizeof(dst->reserved));
	dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
	dst->artifact_type =
		src->artifact_type ? xstrdup(src->artifact_type) : NULL;
	dst->annotations_json =
		src->annotations_json ? xstrdup(src->annotations_json) : NULL;
	dst->urls = NULL;
	if (src->urls) {
		size_t n = 0;

		while (src->urls[n])
			n++;
		dst->urls = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			dst->urls[i] = xstrdup(src->urls[i]);
	}
}

void
berth_manifest_free(berth_manifest *m)
{
	if (m == NULL)
		return;
	free(m->media_type);
	free(m->artifact_type);
	berth_descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		berth_descriptor_release(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		berth_descriptor_release(&m->manifests[i]);
	free(m->manifests);
	if (m->has_subject)
		berth_descriptor_release(&m->subject);
	free(m);
}

/* An optional string member: NULL when absent, an error when not a string. */
static int
opt_string(char **out, json_t *obj, const char *key, const char *what,
	   berth_error **err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has an invalid '%s' (not a string)",
				       what, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
platform_field(char *dst, size_t n, json_t *plat, const char *key,
	       bool required, const char *what, berth_error **err)
{
	json_t *v = json_object_get(plat, key);

	if (v == NULL && !required)
		return 0;
	if (v == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s platform has no '%s'", what, key);
	if (!json_is_string(v) || json_string_length(v) >= n)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s platform has an invalid '%s'", what,
				       key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
parse_platform(berth_descriptor *d, json_t *plat, const char *what,
	       berth_error **err)
{
	berth_platform *p = &d->platform;

	if (!json_is_object(plat))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has an invalid 'platform' (not an "
				       "object)",
				       what);
	if (platform_field(p->os, sizeof(p->os), plat, "os", true, what, err) <
		    0 ||
	    platform_field(p->arch, sizeof(p->arch), plat, "architecture", true,
			   what, err) < 0 ||
	    platform_field(p->variant, sizeof(p->variant), plat, "variant",
			   false, what, err) < 0)
		return BERTH_EPROTO;
	berth_platform_normalize(p);
	d->has_platform = true;
	return 0;
}

static int
parse_urls(berth_descriptor *d, json_t *urls, const char *what,
	   berth_error **err)
{
	size_t i;
	json_t *u;

	if (!json_is_array(urls))
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"%s has an invalid 'urls' (not an array)", what);
	d->urls = xcalloc(json_array_size(urls) + 1, sizeof(char *));
	json_array_foreach(urls, i, u)
	{
		if (!json_is_string(u))
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "%s has an invalid 'urls' entry "
					       "(not a string)",
					       what);
		d->urls[i] = xstrdup(json_string_value(u));
	}
	return 0;
}

/* On failure the descriptor may be partly filled: the caller releases it. */
static int
parse_descriptor(berth_descriptor *d, json_t *obj, const char *what,
		 bool index_entry, berth_error **err)
{
	json_t *mt, *dg, *sz, *v;

	if (!json_is_object(obj))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s is not a JSON object", what);
	mt = json_object_get(obj, "mediaType");
	dg = json_object_get(obj, "digest");
	sz = json_object_get(obj, "size");
	if (mt == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has no 'mediaType'", what);
	if (!json_is_string(mt) || json_string_length(mt) == 0)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has an invalid 'mediaType'", what);
	if (dg == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has no 'digest'", what);
	if (!json_is_string(dg))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has an invalid 'digest' (not a "
				       "string)",
				       what);
	if (sz == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0, "%s has no 'size'",
				       what);
	if (!json_is_integer(sz))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "%s has an invalid 'size' (not an "
				       "integer)",
				       what);
	if (json_integer_value(sz) < 0)
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"%s has a negative 'size' (%" JSON_INTEGER_FORMAT ")",
			what, json_integer_value(sz));
	d->media_type = xstrdup(json_string_value(mt));
	d->size = json_integer_value(sz);
	if (berth_digest_parse(&d->digest, json_string_value(dg), err) < 0) {
		berth_error_wrap(err, BERTH_EPROTO, "%s", what);
		return BERTH_EPROTO;
	}
	if (opt_string(&d->artifact_type, obj, "artifactType", what, err) < 0)
		return BERTH_EPROTO;
	if ((v = json_object_get(obj, "urls")) != NULL &&
	    parse_urls(d, v, what, err) < 0)
		return BERTH_EPROTO;
	if ((v = json_object_get(obj, "annotations")) != NULL) {
		if (!json_is_object(v))
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"%s has an invalid 'annotations' "
				"(not an object)",
				what);
		d->annotations_json = json_dumps(v, JSON_COMPACT);
		if (d->annotations_json == NULL)
			abort(); /* jansson fails only when out of memory */
	}
	if (index_entry && (v = json_object_get(obj, "platform")) != NULL &&
	    parse_platform(d, v, what, err) < 0)
		return BERTH_EPROTO;
	return 0;
}

static int
parse_list(berth_descriptor **out, size_t *n_out, json_t *root, const char *key,
	   const char *noun, bool index_entries, berth_error **err)
{
	json_t *arr = json_object_get(root, key), *e;
	size_t i;

	if (arr == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has no '%s'", key);
	if (!json_is_array(arr))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has an invalid '%s' (not an "
				       "array)",
				       key);
	*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
	json_array_foreach(arr, i, e)
	{
		char what[48];

		snprintf(what, sizeof(what), "%s %zu", noun, i + 1);
		*n_out = i + 1; /* so the caller releases a partial entry */
		if (parse_descriptor(&(*out)[i], e, what, index_entries, err) <
		    0)
			return BERTH_EPROTO;
	}
	return 0;
}

static bool
is_schema1(const char *mt)
{
	return mt && (!strcasecmp(mt, BERTH_MT_DOCKER_V1) ||
		      !strcasecmp(mt, BERTH_MT_DOCKER_V1_SIGNED));
}

/* The kind for a manifest media type, or -1. */
static int
kind_of(const char *mt)
{
	if (!strcasecmp(mt, BERTH_MT_OCI_INDEX) ||
	    !strcasecmp(mt, BERTH_MT_DOCKER_LIST))
		return BERTH_MANIFEST_INDEX;
	if (!strcasecmp(mt, BERTH_MT_OCI_MANIFEST) ||
	    !strcasecmp(mt, BERTH_MT_DOCKER_V2))
		return BERTH_MANIFEST_IMAGE;
	return -1;
}

/* Decides the media type: the body's, else the content type's, else from
 * the fields present (OCI allows omitting mediaType). */
static int
decide_media_type(char **out, json_t *root, const char *ct, berth_error **err)
{
	_cleanup_free_ char *body_mt = NULL;
	bool has_idx, has_img;

	if (opt_string(&body_mt, root, "mediaType", "manifest", err) < 0)
		return BERTH_EPROTO;
	if (body_mt && ct && kind_of(ct) >= 0 && strcasecmp(ct, body_mt)) {
		_cleanup_free_ char *q1 = quote(body_mt), *q2 = quote(ct);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest declares media type '%s' but "
				       "was served as '%s'",
				       q1, q2);
	}
	if (body_mt) {
		*out = steal_ptr(&body_mt);
		return 0;
	}
	if (ct && kind_of(ct) >= 0) {
		*out = xstrdup(ct);
		return 0;
	}
	has_idx = json_object_get(root, "manifests") != NULL;
	has_img = json_object_get(root, "config") != NULL ||
		  json_object_get(root, "layers") != NULL;
	if (has_idx && has_img)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has no 'mediaType' and both "
				       "'manifests' and 'config'/'layers'");
	if (!has_idx && !has_img)
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"manifest has no 'mediaType' and neither "
			"'manifests' nor 'config'/'layers'");
	*out = xstrdup(has_idx ? BERTH_MT_OCI_INDEX : BERTH_MT_OCI_MANIFEST);
	return 0;
}

static int
schema1_error(berth_error **err)
{
	berth_error_set(err, BERTH_EUNSUPPORTED, 0,
			"manifest is Docker schema 1, which berth does not "
			"support");
	berth_error_hint(err, "re-push the image with a current docker or "
			      "skopeo, which write schema 2 or OCI");
	return BERTH_EUNSUPPORTED;
}

static int
check_schema(json_t *root, const char *ct, berth_error **err)
{
	json_t *sv = json_object_get(root, "schemaVersion");
	json_t *mt = json_object_get(root, "mediaType");

	if ((json_is_integer(sv) && json_integer_value(sv) == 1) ||
	    is_schema1(ct) ||
	    (json_is_string(mt) && is_schema1(json_string_value(mt))))
		return schema1_error(err);
	if (sv == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has no 'schemaVersion'");
	if (!json_is_integer(sv))
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"manifest has an invalid 'schemaVersion' "
			"(not an integer)");
	if (json_integer_value(sv) != 2)
		return berth_error_set(
			err, BERTH_EUNSUPPORTED, 0,
			"manifest schemaVersion %" JSON_INTEGER_FORMAT
			" is not supported",
			json_integer_value(sv));
	return 0;
}

static int
manifest_from_json(berth_manifest *m, json_t *root, const char *ct,
		   berth_error **err)
{
	json_t *v;
	int kind, r;

	if ((r = check_schema(root, ct, err)) < 0 ||
	    (r = decide_media_type(&m->media_type, root, ct, err)) < 0)
		return r;
	kind = kind_of(m->media_type);
	if (kind < 0) {
		_cleanup_free_ char *q = quote(m->media_type);

		berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				"manifest media type '%s' is not supported", q);
		berth_error_hint(err, "berth reads OCI images and indexes "
				      "and Docker schema 2 manifests and "
				      "manifest lists");
		return BERTH_EUNSUPPORTED;
	}
	m->kind = (berth_manifest_kind)kind;
	if (opt_string(&m->artifact_type, root, "artifactType", "manifest",
		       err) < 0)
		return BERTH_EPROTO;
	if ((v = json_object_get(root, "subject")) != NULL) {
		m->has_subject = true;
		if (parse_descriptor(&m->subject, v, "subject", false, err) < 0)
			return BERTH_EPROTO;
	}
	if (m->kind == BERTH_MANIFEST_INDEX)
		return parse_list(&m->manifests, &m->n_manifests, root,
				  "manifests", "manifest", true, err);
	if ((v = json_object_get(root, "config")) == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest has no 'config'");
	if (parse_descriptor(&m->config, v, "config", false, err) < 0)
		return BERTH_EPROTO;
	return parse_list(&m->layers, &m->n_layers, root, "layers", "layer",
			  false, err);
}

int
berth_manifest_parse(berth_manifest **out, const char *content_type,
		     const char *body, size_t len, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *ct = berth_str_media_type(content_type);
	json_auto_t *root = NULL;
	json_error_t jerr;
	int r;

	if (len > BERTH_MANIFEST_MAX)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "manifest is %zu bytes, over the limit "
				       "of %zu",
				       len, BERTH_MANIFEST_MAX);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		_cleanup_free_ char *q = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest is not valid JSON: %s (line "
				       "%d)",
				       q, jerr.line);
	}
	if (!json_is_object(root))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest is not a JSON object");
	m = xcalloc(1, sizeof(*m));
	r = manifest_from_json(m, root, ct, err);
	if (r < 0)
		return r;
	*out = steal_ptr(&m);
	return 0;
}

/* buildx stores provenance and SBOMs as index entries for "unknown/unknown". */
static bool
is_attestation(const berth_descriptor *d)
{
	json_auto_t *a = NULL;
	json_t *v;

	if (!strcmp(d->platform.os, "unknown") &&
	    !strcmp(d->platform.arch, "unknown"))
		return true;
	if (d->annotations_json == NULL)
		return false;
	a = json_loads(d->annotations_json, 0, NULL);
	v = json_object_get(a, ATTESTATION_KEY);
	return json_is_string(v) &&
	       !strcmp(json_string_value(v), "attestation-manifest");
}

static bool
platform_eq(const berth_platform *a, const berth_platform *b)
{
	return !strcmp(a->os, b->os) && !strcmp(a->arch, b->arch) &&
	       !strcmp(a->variant, b->variant);
}

/*
 * A platform as text for a message: the registry's strings may hold any
 * byte, and a message is one line that reaches a terminal. Caller frees.
 */
static char *
platform_text(const berth_platform *p)
{
	char buf[96];

	berth_platform_format(buf, sizeof(buf), p);
	return berth_str_quote(buf, strlen(buf), sizeof(buf));
}

/* "linux/amd64, linux/arm64/v8" for the "no manifest for" message. */

static char *
list_platforms(const berth_manifest *index)
{
	_cleanup_buf_ berth_buf b = BERTH_BUF_INIT;
	_cleanup_free_ char *seen = xcalloc(index->n_manifests + 1, 1);
	size_t shown = 0;

	for (size_t i = 0; i < index->n_manifests; i++) {
		const berth_descriptor *d = &index->manifests[i];
		_cleanup_free_ char *name = NULL;
		bool dup = false;

		if (!d->has_platform || is_attestation(d))
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			dup = seen[j] &&
			      platform_eq(&index->manifests[j].platform,
					  &d->platform);
		if (dup)
			continue;
		seen[i] = 1;
		if (shown++ == LIST_MAX) {
			berth_buf_puts(&b, ", ...", NULL);
			break;
		}
		name = platform_text(&d->platform);
		berth_buf_printf(&b, NULL, "%s%s", b.len ? ", " : "", name);
	}
	return berth_buf_detach(&b);
}

int
berth_manifest_select(const berth_descriptor **out, const berth_manifest *index,
		      const berth_platform *want, berth_error **err)
{
	const berth_descriptor *best = NULL;
	_cleanup_free_ char *list = NULL, *name = NULL;
	berth_platform w = *want;
	int best_rank = -1;

	if (index->kind != BERTH_MANIFEST_INDEX)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "manifest is not an index");
	berth_platform_normalize(&w);
	for (size_t i = 0; i < index->n_manifests; i++) {
		const berth_descriptor *d = &index->manifests[i];
		int rank;

		if (!d->has_platform || is_attestation(d))
			continue;
		rank = berth_platform_rank(&w, &d->platform);
		if (rank > best_rank) {
			best = d;
			best_rank = rank;
		}
	}
	if (best) {
		*out = best;
		return 0;
	}
	name = platform_text(&w);
	list = list_platforms(index);
	if (*list)
		berth_error_set(
			err, BERTH_EPLATFORM, 0,
			"no manifest for platform '%s'; the image has %s", name,
			list);
	else
		berth_error_set(
			err, BERTH_EPLATFORM, 0,
			"no manifest for platform '%s'; the index lists "
			"no platforms",
			name);
	berth_error_hint(err, "choose one with --platform");
	return BERTH_EPLATFORM;
}
