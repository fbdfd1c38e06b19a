/*
 * berth manifest create / annotate / inspect / rm: local manifest lists
 * built from images in registries (push is manifest_push.c).
 */
#include "berth/manifest_list.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "berth/ref.h"
#include "fetch_small.h"
#include "mlist/mlist.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

static const berth_mlist_opts default_opts = BERTH_MLIST_OPTS_INIT;

static int
check_opts(const berth_mlist_opts **o, berth_error **err)
{
	if (*o == NULL)
		*o = &default_opts;
	return berth_opts_check((*o)->version, BERTH_MLIST_OPTS_VERSION,
				"berth_mlist_opts", err);
}

/* The list's name, normalised ("host/repo:tag"): a digest is refused,
 * since the index is pushed under the list's tag. */
static int
list_name(char **out, const char *list, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	int r = berth_ref_parse(&ref, list, err);

	if (r < 0)
		return berth_error_wrap(err, r, "manifest list name");
	if (ref->digest) {
		r = berth_error_set(err, BERTH_EREF, 0,
				    "manifest list name '%s' has a digest",
				    list);
		berth_error_hint(err, "name the list with a tag, e.g. "
				      "'registry.example.com/team/app:v1'");
		return r;
	}
	*out = berth_ref_string(ref);
	return 0;
}

/* The descriptor of one image for the list: its manifest's media type,
 * digest and size, and the platform its config gives. */
static int
entry_descriptor(json_t **out, berth_registry *reg, const berth_ref *ref,
		 const char *given, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_buf_ berth_buf cfg_text = BERTH_BUF_INIT;
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	json_auto_t *cfg = NULL;
	json_t *d, *plat;
	int r;

	r = berth_registry_get_manifest(&body, reg, ref->path,
					berth_ref_reference(ref), err);
	if (r == BERTH_ENOTFOUND)
		berth_error_hint(err,
				 "push the image first ('berth push %s' or "
				 "'docker push'), or check its name with "
				 "'berth ls %s'",
				 given, ref->path);
	if (r == 0)
		r = berth_manifest_parse(&m, body.content_type, body.data,
					 body.len, err);
	if (r == 0 && m->kind == BERTH_MANIFEST_INDEX) {
		char first[160] = "";

		if (m->n_manifests)
			snprintf(first, sizeof(first), ", e.g. '%s@%s'",
				 ref->path, m->manifests[0].digest.str);
		r = berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "'%s' is a manifest list (an index of %zu "
				    "manifests), not an image",
				    given, m->n_manifests);
		berth_error_hint(err,
				 "name its per-platform images instead%s; "
				 "'berth manifest inspect %s' lists them",
				 first, given);
	}
	if (r == 0)
		r = fetch_small_blob(&cfg_text, reg, ref->path, &m->config,
				     err);
	if (r == 0) {
		cfg = json_loadb(cfg_text.ptr, cfg_text.len, 0, NULL);
		if (!json_is_object(cfg))
			r = berth_error_set(err, BERTH_EPROTO, 0,
					    "the config of '%s' is not a JSON "
					    "object",
					    given);
	}
	if (r < 0) {
		berth_manifest_body_release(&body);
		return berth_error_wrap(err, r, "image '%s'", given);
	}
	d = json_pack("{s:s, s:s, s:I}", "mediaType",
		      m->media_type ? m->media_type : body.content_type,
		      "digest", body.digest.str, "size", (json_int_t)body.len);
	if ((plat = mlist_platform_of_config(cfg)))
		json_object_set_new(d, "platform", plat);
	berth_manifest_body_release(&body);
	*out = d;
	return 0;
}

/* Refuses an existing list unless amending. */
static int
check_exists(const char *root, const char *name, bool amend, json_t **out,
	     berth_error **err)
{
	berth_error *e = NULL;
	int r = mlist_load(out, root, name, &e);

	if (r == 0 && !amend) {
		r = berth_error_set(err, BERTH_EEXIST, 0,
				    "manifest list '%s' exists already", name);
		berth_error_hint(err,
				 "add to it with 'berth manifest create "
				 "--amend', or remove it first with 'berth "
				 "manifest rm %s'",
				 name);
		return r;
	}
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	return r < 0 ? berth_error_move(err, &e, r) : 0;
}

int
berth_mlist_create(berth_store *s, const char *list, const char *const *refs,
		   size_t n, const berth_mlist_opts *opts, berth_error **err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int lock = -1;
	const char *root = berth_store_root(s);
	json_auto_t *l = NULL, *got = json_array();
	json_t *e;
	size_t i;
	int r;

	if ((r = check_opts(&opts, err)) < 0 ||
	    (r = list_name(&name, list, err)) < 0 ||
	    (r = check_exists(root, name, opts->amend, &l, err)) < 0)
		return r;
	/* The registries first, without the lock; then the list is read
	 * again, changed and written under it. */
	for (i = 0; i < n; i++) {
		_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
		_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
		_cleanup_free_ char *full = NULL;
		json_t *d = NULL;

		r = berth_ref_parse(&ref, refs[i], err);
		if (r == 0)
			r = berth_registry_new(&reg, berth_ref_api_host(ref),
					       opts->registry, err);
		if (r == 0)
			r = entry_descriptor(&d, reg, ref, refs[i], err);
		if (r < 0)
			return r;
		full = berth_ref_string(ref);
		json_array_append_new(got, json_pack("{s:s, s:o}", "ref", full,
						     "descriptor", d));
	}
	if ((lock = mlist_lock(root, err)) < 0)
		return lock;
	json_decref(l);
	l = NULL;
	if ((r = check_exists(root, name, opts->amend, &l, err)) < 0)
		return r;
	if (l == NULL)
		l = mlist_new(name, opts->format == BERTH_MLIST_DOCKER
					    ? BERTH_MT_DOCKER_LIST
					    : BERTH_MT_OCI_INDEX);
	else if (opts->format != BERTH_MLIST_KEEP)
		json_object_set_new(
			l, "mediaType",
			json_string(opts->format == BERTH_MLIST_DOCKER
					    ? BERTH_MT_DOCKER_LIST
					    : BERTH_MT_OCI_INDEX));
	json_array_foreach(got, i, e)
		mlist_put(l, json_string_value(json_object_get(e, "ref")),
			  json_incref(json_object_get(e, "descriptor")));
	return mlist_save(root, l, err);
}

/* An annotated platform must still read as os/arch[/variant], the rule
 * --platform follows; nothing is saved otherwise. */
static int
check_platform(const json_t *d, const char *ref, berth_error **err)
{
	const json_t *p = json_object_get(d, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch =
		json_string_value(json_object_get(p, "architecture"));
	const char *v = json_string_value(json_object_get(p, "variant"));
	_cleanup_free_ char *text = NULL;
	berth_platform parsed;
	int r;

	if (os == NULL || arch == NULL) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "entry '%s' would have no %s", ref,
				    os ? "architecture" : "os");
		berth_error_hint(err, "give both --os and --arch, e.g. --os "
				      "linux --arch arm64");
		return r;
	}
	text = xasprintf("%s/%s%s%s", os, arch, v ? "/" : "", v ? v : "");
	if ((r = berth_platform_parse(&parsed, text, err)) < 0)
		return berth_error_wrap(err, r, "entry '%s'", ref);
	return 0;
}

int
berth_mlist_annotate(berth_store *s, const char *list, const char *ref,
		     const berth_mlist_platform *p, berth_error **err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int lock = -1;
	json_auto_t *l = NULL;
	json_t *e = NULL;
	int r;

	if ((r = list_name(&name, list, err)) < 0 ||
	    (r = lock = mlist_lock(berth_store_root(s), err)) < 0 ||
	    (r = mlist_load(&l, berth_store_root(s), name, err)) < 0 ||
	    (r = mlist_find(&e, l, ref, err)) < 0)
		return r;
	mlist_annotate(json_object_get(e, "descriptor"), p);
	if ((r = check_platform(json_object_get(e, "descriptor"), ref, err)) <
	    0)
		return r;
	return mlist_save(berth_store_root(s), l, err);
}

int
berth_mlist_inspect(char **out, berth_store *s, const char *list,
		    const char *entry, bool verbose, berth_error **err)
{
	_cleanup_free_ char *name = NULL;
	json_auto_t *l = NULL;
	size_t len;
	int r;

	if ((r = list_name(&name, list, err)) < 0 ||
	    (r = mlist_load(&l, berth_store_root(s), name, err)) < 0)
		return r;
	if (entry) {
		json_auto_t *o = NULL;
		json_t *e = NULL;

		if ((r = mlist_find(&e, l, entry, err)) < 0)
			return r;
		o = json_pack("{s:O, s:O}", "Ref", json_object_get(e, "ref"),
			      "Descriptor", json_object_get(e, "descriptor"));
		*out = json_dumps(o, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
		return 0;
	}
	if (!verbose)
		return mlist_index(out, &len, l, false, err);
	{
		json_auto_t *a = json_array();
		json_t *e;
		size_t i;

		json_array_foreach(json_object_get(l, "entries"), i, e)
			json_array_append_new(
				a, json_pack("{s:O, s:O}", "Ref",
					     json_object_get(e, "ref"),
					     "Descriptor",
					     json_object_get(e, "descriptor")));
		*out = json_dumps(a, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	}
	return 0;
}

/* {"Ref", "Descriptor", "Manifest"} of one manifest body. */
static json_t *
verbose_entry(const char *ref, const berth_manifest_body *b,
	      const berth_descriptor *in_index)
{
	json_t *d =
		json_pack("{s:s, s:s, s:I}", "mediaType", b->content_type,
			  "digest", b->digest.str, "size", (json_int_t)b->len);

	if (in_index && in_index->has_platform) {
		json_t *p = json_pack("{s:s, s:s}", "architecture",
				      in_index->platform.arch, "os",
				      in_index->platform.os);

		if (*in_index->platform.variant)
			json_object_set_new(
				p, "variant",
				json_string(in_index->platform.variant));
		json_object_set_new(d, "platform", p);
	}
	return json_pack("{s:s, s:o, s:o}", "Ref", ref, "Descriptor", d,
			 "Manifest", json_loadb(b->data, b->len, 0, NULL));
}

int
berth_mlist_inspect_remote(char **out, const char *refstr, bool verbose,
			   const berth_registry_opts *opts, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	_cleanup_free_ char *name = NULL;
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	json_auto_t *o = NULL;
	int r;

	r = berth_ref_parse(&ref, refstr, err);
	if (r == 0)
		r = berth_registry_new(&reg, berth_ref_api_host(ref), opts,
				       err);
	if (r == 0)
		r = berth_registry_get_manifest(&body, reg, ref->path,
						berth_ref_reference(ref), err);
	if (r == 0)
		r = berth_manifest_parse(&m, body.content_type, body.data,
					 body.len, err);
	if (r < 0) {
		berth_manifest_body_release(&body);
		return r;
	}
	name = berth_ref_name(ref);
	if (!verbose) {
		o = json_loadb(body.data, body.len, 0, NULL);
	} else if (m->kind == BERTH_MANIFEST_IMAGE) {
		_cleanup_free_ char *full = berth_ref_string(ref);

		o = verbose_entry(full, &body, NULL);
	} else {
		o = json_array();
		for (size_t i = 0; r == 0 && i < m->n_manifests; i++) {
			berth_manifest_body cb = BERTH_MANIFEST_BODY_INIT;
			const berth_descriptor *d = &m->manifests[i];
			_cleanup_free_ char *cref =
				xasprintf("%s@%s", name, d->digest.str);

			r = berth_registry_get_manifest(&cb, reg, ref->path,
							d->digest.str, err);
			if (r == 0)
				json_array_append_new(
					o, verbose_entry(cref, &cb, d));
			berth_manifest_body_release(&cb);
		}
	}
	berth_manifest_body_release(&body);
	if (r < 0)
		return r;
	*out = json_dumps(o, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	return 0;
}

int
berth_mlist_remove(berth_store *s, const char *list, berth_error **err)
{
	_cleanup_free_ char *name = NULL, *path = NULL;
	_cleanup_close_ int lock = -1;
	json_auto_t *l = NULL;
	int r;

	if ((r = list_name(&name, list, err)) < 0 ||
	    (r = lock = mlist_lock(berth_store_root(s), err)) < 0 ||
	    (r = mlist_load(&l, berth_store_root(s), name, err)) < 0)
		return r;
	path = mlist_path(berth_store_root(s), name);
	if (unlink(path) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot remove '%s': %s", path,
				       strerror(errno));
	return 0;
}
