/*
 * index.json: one descriptor per image name. Updates take ROOT/.lock
 * exclusively, re-read the file, change it and replace it by rename, so
 * concurrent berth processes never lose each other's entries; readers take
 * no lock (a rename is atomic). Entries and fields written by other tools
 * (skopeo, umoci, containerd exports) are kept as they are.
 */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"

#define INDEX_MAX ((size_t)256 << 20)

static int
index_corrupt(berth_error **err, const char *path, const char *what)
{
	berth_error_set(err, BERTH_ECORRUPT, 0, "store index '%s' %s", path,
			what);
	berth_error_hint(err,
			 "repair or remove '%s' (berth then starts an "
			 "empty index; blobs are kept until 'berth gc')",
			 path);
	return BERTH_ECORRUPT;
}

int
store_index_load(berth_store *s, json_t **out, berth_error **err)
{
	_cleanup_free_ char *path = store_path(s, STORE_INDEX_FILE);
	_cleanup_free_ char *text = NULL;
	json_auto_t *root = NULL;
	json_t *m;
	json_error_t jerr;
	_cleanup_(berth_error_freep) berth_error *e = NULL;
	size_t len;
	int r = berth_file_read(&text, &len, path, INDEX_MAX, &e);

	if (r == BERTH_ETOOBIG)
		return index_corrupt(err, path, "is too large");
	if (r < 0 && r != BERTH_ENOTFOUND)
		return berth_error_move(err, &e, r);
	if (r == BERTH_ENOTFOUND) {
		root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
				 "mediaType", BERTH_MT_OCI_INDEX, "manifests");
		*out = steal_ptr(&root);
		return 0;
	}
	root = json_loadb(text, len, 0, &jerr);
	if (root == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);
		_cleanup_free_ char *what = xasprintf(
			"is not valid JSON: %s (line %d)", why, jerr.line);

		return index_corrupt(err, path, what);
	}
	if (!json_is_object(root))
		return index_corrupt(err, path, "is not a JSON object");
	m = json_object_get(root, "manifests");
	if (m == NULL)
		json_object_set_new(root, "manifests", json_array());
	else if (!json_is_array(m))
		return index_corrupt(err, path,
				     "has a 'manifests' that is "
				     "not an array");
	*out = steal_ptr(&root);
	return 0;
}

int
store_index_save(berth_store *s, json_t *root, berth_error **err)
{
	_cleanup_free_ char *text = NULL;

	if (json_object_get(root, "schemaVersion") == NULL)
		json_object_set_new(root, "schemaVersion", json_integer(2));
	if (json_object_get(root, "mediaType") == NULL)
		json_object_set_new(root, "mediaType",
				    json_string(BERTH_MT_OCI_INDEX));
	text = json_dumps(root, JSON_COMPACT);
	if (text == NULL)
		abort(); /* jansson fails only when out of memory */
	return store_write_file(s, STORE_INDEX_FILE, STORE_INDEX_TMP_PREFIX,
				text, strlen(text), err);
}

static const char *
annotation(json_t *entry, const char *key)
{
	return json_string_value(
		json_object_get(json_object_get(entry, "annotations"), key));
}

const char *
store_entry_name(json_t *entry)
{
	const char *n = annotation(entry, STORE_ANN_CONTAINERD_NAME);

	return n ? n : annotation(entry, STORE_ANN_REF_NAME);
}

bool
store_entry_matches(json_t *entry, const char *name)
{
	const char *a = annotation(entry, STORE_ANN_CONTAINERD_NAME);
	const char *b = annotation(entry, STORE_ANN_REF_NAME);

	return (a && strcmp(a, name) == 0) || (b && strcmp(b, name) == 0);
}

static int
entry_invalid(berth_error **err, const char *what)
{
	return berth_error_set(err, BERTH_ECORRUPT, 0, "%s", what);
}

static int
platform_field(char *dst, size_t n, json_t *plat, const char *key,
	       bool required, berth_error **err)
{
	json_t *v = json_object_get(plat, key);

	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= n)
		return berth_error_set(err, BERTH_ECORRUPT, 0,
				       "invalid platform '%s'", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int
store_desc_from_json(berth_descriptor *d, json_t *obj, berth_error **err)
{
	json_t *mt = json_object_get(obj, "mediaType");
	json_t *sz = json_object_get(obj, "size");
	const char *dg;
	json_t *v;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return entry_invalid(err, "entry is not a JSON object");
	if (!json_is_string(mt) || json_string_length(mt) == 0)
		return entry_invalid(err, "invalid or missing 'mediaType'");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return entry_invalid(err, "invalid or missing 'size'");
	dg = json_string_value(json_object_get(obj, "digest"));
	if (!berth_digest_valid(dg))
		return entry_invalid(err, "invalid or missing 'digest'");
	berth_digest_parse(&d->digest, dg, NULL);
	d->media_type = xstrdup(json_string_value(mt));
	d->size = json_integer_value(sz);
	if ((v = json_object_get(obj, "artifactType")) != NULL) {
		if (!json_is_string(v))
			return entry_invalid(err, "invalid 'artifactType'");
		d->artifact_type = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(obj, "urls")) != NULL) {
		size_t i;
		json_t *u;

		if (!json_is_array(v))
			return entry_invalid(err, "invalid 'urls'");
		d->urls = xcalloc(json_array_size(v) + 1, sizeof(char *));
		json_array_foreach(v, i, u)
		{
			if (!json_is_string(u))
				return entry_invalid(err, "invalid 'urls'");
			d->urls[i] = xstrdup(json_string_value(u));
		}
	}
	if ((v = json_object_get(obj, "annotations")) != NULL) {
		if (!json_is_object(v))
			return entry_invalid(err, "invalid 'annotations'");
		d->annotations_json = json_dumps(v, JSON_COMPACT);
		if (d->annotations_json == NULL)
			abort();
	}
	if ((v = json_object_get(obj, "platform")) != NULL) {
		berth_platform *p = &d->platform;

		if (!json_is_object(v) ||
		    platform_field(p->os, sizeof(p->os), v, "os", true, err) <
			    0 ||
		    platform_field(p->arch, sizeof(p->arch), v, "architecture",
				   true, err) < 0 ||
		    platform_field(p->variant, sizeof(p->variant), v, "variant",
				   false, err) < 0)
			return entry_invalid(err, "invalid 'platform'");
		d->has_platform = true;
	}
	return 0;
}

/* The JSON for an entry: the descriptor plus both name annotations (none
 * for an unnamed entry, name NULL). */
static json_t *
entry_to_json(const char *name, const berth_descriptor *d)
{
	json_t *o = json_object(), *ann = NULL;

	json_object_set_new(o, "mediaType", json_string(d->media_type));
	json_object_set_new(o, "digest", json_string(d->digest.str));
	json_object_set_new(o, "size", json_integer(d->size));
	if (d->artifact_type)
		json_object_set_new(o, "artifactType",
				    json_string(d->artifact_type));
	if (d->urls) {
		json_t *u = json_array();

		for (char **p = d->urls; *p; p++)
			json_array_append_new(u, json_string(*p));
		json_object_set_new(o, "urls", u);
	}
	if (d->annotations_json)
		ann = json_loads(d->annotations_json, 0, NULL);
	if (!json_is_object(ann)) {
		json_decref(ann);
		ann = json_object();
	}
	if (name) {
		json_object_set_new(ann, STORE_ANN_REF_NAME, json_string(name));
		json_object_set_new(ann, STORE_ANN_CONTAINERD_NAME,
				    json_string(name));
	}
	if (json_object_size(ann) > 0)
		json_object_set_new(o, "annotations", ann);
	else
		json_decref(ann);
	if (d->has_platform) {
		json_t *p = json_pack("{s:s, s:s}", "architecture",
				      d->platform.arch, "os", d->platform.os);

		if (d->platform.variant[0])
			json_object_set_new(p, "variant",
					    json_string(d->platform.variant));
		json_object_set_new(o, "platform", p);
	}
	return o;
}

static int
bad_entry(berth_error **err, berth_store *s, const char *name)
{
	berth_error_wrap(err, BERTH_ECORRUPT,
			 "store index '%s/%s' has an invalid entry for '%s'",
			 s->root, STORE_INDEX_FILE, name);
	berth_error_hint(err, "repair or remove that entry of '%s/%s'", s->root,
			 STORE_INDEX_FILE);
	return BERTH_ECORRUPT;
}

static int
not_in_store(berth_error **err, berth_store *s, const char *name)
{
	berth_error_set(err, BERTH_ENOTFOUND, 0,
			"image '%s' is not in store '%s'", name, s->root);
	berth_error_hint(err, "run 'berth images' to list the local images");
	return BERTH_ENOTFOUND;
}

int
berth_store_list(berth_image **out, size_t *n, berth_store *s,
		 berth_error **err)
{
	json_auto_t *root = NULL;
	berth_image *v = NULL;
	size_t count = 0, i;
	json_t *e;
	int r;

	r = store_index_load(s, &root, err);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(root, "manifests"), i, e)
	{
		const char *name = store_entry_name(e);

		if (name == NULL)
			continue; /* unnamed entries are not images to list */
		v = xreallocarray(v, count + 1, sizeof(*v));
		memset(&v[count], 0, sizeof(*v));
		v[count].name = xstrdup(name);
		count++;
		r = store_desc_from_json(&v[count - 1].desc, e, err);
		if (r < 0) {
			berth_images_free(v, count);
			return bad_entry(err, s, name);
		}
	}
	*out = v;
	*n = count;
	return 0;
}

void
berth_images_free(berth_image *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		berth_descriptor_release(&v[i].desc);
	}
	free(v);
}

int
berth_store_resolve(berth_descriptor *out, berth_store *s, const char *name,
		    berth_error **err)
{
	json_auto_t *root = NULL;
	berth_descriptor d;
	size_t i;
	json_t *e;
	int r;

	r = store_index_load(s, &root, err);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(root, "manifests"), i, e)
	{
		if (!store_entry_matches(e, name))
			continue;
		r = store_desc_from_json(&d, e, err);
		if (r < 0) {
			berth_descriptor_release(&d);
			return bad_entry(err, s, name);
		}
		*out = d;
		return 0;
	}
	return not_in_store(err, s, name);
}

/*
 * Under the index lock: replaces the entries named `name` by `entry` (at
 * the position of the first), or appends it; entry NULL removes them.
 * *found says whether any existed.
 */
static int
index_update(berth_store *s, const char *name, json_t *entry, bool *found,
	     berth_error **err)
{
	_cleanup_close_ int lock = -1;
	json_auto_t *root = NULL;
	json_t *m;
	bool placed = false, changed = false;
	int r;

	r = store_lock(s, STORE_LOCK_FILE, LOCK_EX, &lock, err);
	if (r < 0)
		return r;
	r = store_index_load(s, &root, err);
	if (r < 0)
		return r;
	m = json_object_get(root, "manifests");
	*found = false;
	for (size_t i = 0; i < json_array_size(m);) {
		if (!store_entry_matches(json_array_get(m, i), name)) {
			i++;
			continue;
		}
		*found = true;
		if (entry != NULL && !placed) {
			if (!json_equal(json_array_get(m, i), entry)) {
				json_array_set(m, i, entry);
				changed = true;
			}
			placed = true;
			i++;
		} else {
			json_array_remove(m, i);
			changed = true;
		}
	}
	if (entry != NULL && !placed) {
		json_array_append(m, entry);
		changed = true;
	}
	/* An unchanged index is not rewritten: replacing a file by rename
	 * makes ext4 write it back at once, the dearest step of a re-pull. */
	if (!changed)
		return 0;
	return store_index_save(s, root, err);
}

/* The manifest's size as stored, checked against desc; for messages,
 * `name` says what was to be recorded. */
static int
check_manifest(berth_store *s, const char *name, const berth_descriptor *desc,
	       berth_error **err)
{
	int64_t size = -1;

	if (!berth_store_has_blob(&size, s, &desc->digest))
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "cannot record image '%s': its manifest "
				       "'%s' is not in store '%s'",
				       name, desc->digest.str, s->root);
	if (size != desc->size)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "cannot record image '%s': manifest "
				       "'%s' is %lld bytes, not %lld",
				       name, desc->digest.str, (long long)size,
				       (long long)desc->size);
	return 0;
}

int
berth_store_set_image(berth_store *s, const char *name,
		      const berth_descriptor *desc, berth_error **err)
{
	json_auto_t *entry = NULL;
	bool found;
	int r;

	assert(name != NULL && *name != '\0');
	assert(desc != NULL && desc->media_type != NULL);
	if ((r = check_manifest(s, name, desc, err)) < 0)
		return r;
	entry = entry_to_json(name, desc);
	return index_update(s, name, entry, &found, err);
}

int
berth_store_keep_image(berth_store *s, const berth_descriptor *desc,
		       berth_error **err)
{
	_cleanup_close_ int lock = -1;
	json_auto_t *root = NULL;
	json_t *m, *e;
	size_t i;
	int r;

	assert(desc != NULL && desc->media_type != NULL);
	if ((r = check_manifest(s, desc->digest.str, desc, err)) < 0)
		return r;
	if ((r = store_lock(s, STORE_LOCK_FILE, LOCK_EX, &lock, err)) < 0 ||
	    (r = store_index_load(s, &root, err)) < 0)
		return r;
	m = json_object_get(root, "manifests");
	json_array_foreach(m, i, e)
	{
		const char *d = json_string_value(json_object_get(e, "digest"));

		if (d && strcmp(d, desc->digest.str) == 0)
			return 0; /* held already, named or not */
	}
	json_array_append_new(m, entry_to_json(NULL, desc));
	return store_index_save(s, root, err);
}

int
berth_store_remove_image(berth_store *s, const char *name, berth_error **err)
{
	bool found = false;
	int r;

	r = index_update(s, name, NULL, &found, err);
	if (r < 0)
		return r;
	if (!found)
		return not_in_store(err, s, name);
	return 0;
}
