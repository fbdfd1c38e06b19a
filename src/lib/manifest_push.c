/*
 * berth manifest push: a local list goes to its registry as one index.
 * The registry must hold every child manifest in the target repository
 * before it takes the index, so entries from other repositories of the
 * same registry are brought over first: their blobs by cross-repository
 * mount (copied through a temporary file when the registry does not
 * mount), then the manifest by digest, its bytes unchanged.
 */
#include "berth/manifest_list.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "berth/ref.h"
#include "mlist/mlist.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

static int
file_write(void *ud, const void *p, size_t len, berth_error **err)
{
	if (fwrite(p, 1, len, ud) != len)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write a temporary file: %s",
				       strerror(errno));
	return 0;
}

/* Downloads blob d from `from` and uploads it to `to`. */
static int
copy_blob(berth_registry *reg, const char *to, const char *from,
	  const berth_descriptor *d, berth_error **err)
{
	_cleanup_fclose_ FILE *f = tmpfile();
	berth_blob_job job = BERTH_BLOB_JOB_INIT;
	int r;

	if (f == NULL)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create a temporary file: %s",
				       strerror(errno));
	job.desc = d;
	job.sink = file_write;
	job.sink_ud = f;
	r = berth_registry_fetch_blobs(reg, from, &job, 1, 1, NULL, NULL, err);
	berth_error_free(job.err);
	if (r < 0)
		return r;
	if (fflush(f) != 0 || lseek(fileno(f), 0, SEEK_SET) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot read a temporary file back: %s",
				       strerror(errno));
	return berth_registry_push_blob(reg, to, &d->digest, d->size, fileno(f),
					err);
}

/* Makes blob d present in `to`: there already, mounted, or copied. */
static int
bring_blob(berth_registry *reg, const char *to, const char *from,
	   const berth_descriptor *d, berth_error **err)
{
	bool have = false;
	int r;

	if (d->urls) /* foreign: the registry need not hold it */
		return 0;
	r = berth_registry_stat_blob(&have, NULL, reg, to, &d->digest, err);
	if (r == 0 && !have)
		r = berth_registry_mount_blob(&have, reg, to, &d->digest, from,
					      err);
	if (r == 0 && !have)
		r = copy_blob(reg, to, from, d, err);
	return r;
}

/* Makes the entry's manifest present in repository `to` by digest. */
static int
bring_manifest(berth_registry *reg, const berth_ref *target,
	       const berth_ref *src, const char *digest, berth_error **err)
{
	_cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	berth_descriptor have = BERTH_DESCRIPTOR_INIT;
	berth_error *e = NULL;
	int r;

	r = berth_registry_head_manifest(&have, reg, target->path, digest, &e);
	berth_descriptor_release(&have);
	if (r == 0)
		return 0;
	if (r != BERTH_ENOTFOUND)
		return berth_error_move(err, &e, r);
	berth_error_free(e);
	r = berth_registry_get_manifest(&body, reg, src->path, digest, err);
	if (r == 0)
		r = berth_manifest_parse(&m, body.content_type, body.data,
					 body.len, err);
	if (r == 0 && m->kind == BERTH_MANIFEST_IMAGE)
		r = bring_blob(reg, target->path, src->path, &m->config, err);
	for (size_t i = 0;
	     r == 0 && m->kind == BERTH_MANIFEST_IMAGE && i < m->n_layers; i++)
		r = bring_blob(reg, target->path, src->path, &m->layers[i],
			       err);
	if (r == 0)
		r = berth_registry_put_manifest(reg, target->path, digest,
						body.content_type, body.data,
						body.len, err);
	berth_manifest_body_release(&body);
	return r;
}

int
berth_mlist_push(berth_digest *out, berth_store *s, const char *list,
		 const berth_mlist_opts *opts, berth_error **err)
{
	static const berth_mlist_opts defaults = BERTH_MLIST_OPTS_INIT;
	_cleanup_(berth_ref_freep) berth_ref *target = NULL;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_free_ char *name = NULL, *body = NULL;
	const char *root = berth_store_root(s);
	json_auto_t *l = NULL;
	json_t *e;
	size_t i, len = 0;
	int r;

	if (opts == NULL)
		opts = &defaults;
	if (berth_opts_check(opts->version, BERTH_MLIST_OPTS_VERSION,
			     "berth_mlist_opts", err) < 0)
		return BERTH_EUSAGE;
	if ((r = berth_ref_parse(&target, list, err)) < 0)
		return berth_error_wrap(err, r, "manifest list name");
	name = berth_ref_string(target);
	if ((r = mlist_load(&l, root, name, err)) < 0 ||
	    (r = mlist_index(&body, &len, l, true, err)) < 0)
		return r;
	json_array_foreach(json_object_get(l, "entries"), i, e)
	{
		_cleanup_(berth_ref_freep) berth_ref *src = NULL;
		const char *eref = json_string_value(json_object_get(e, "ref"));

		if ((r = berth_ref_parse(&src, eref, err)) < 0)
			return r;
		if (strcmp(src->domain, target->domain) == 0)
			continue;
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "entry '%s' of manifest list '%s' is in "
				    "registry '%s', the list goes to '%s'",
				    eref, name, src->domain, target->domain);
		berth_error_hint(err,
				 "copy the image to %s first (e.g. 'skopeo "
				 "copy' or 'berth pull' and 'berth push'), "
				 "then add it with 'berth manifest create "
				 "--amend'",
				 target->domain);
		return r;
	}
	r = berth_registry_new(&reg, berth_ref_api_host(target), opts->registry,
			       err);
	json_array_foreach(json_object_get(l, "entries"), i, e)
	{
		_cleanup_(berth_ref_freep) berth_ref *src = NULL;
		const char *eref = json_string_value(json_object_get(e, "ref"));
		const char *digest = json_string_value(json_object_get(
			json_object_get(e, "descriptor"), "digest"));

		if (r < 0)
			break;
		r = berth_ref_parse(&src, eref, err);
		if (r == 0 && strcmp(src->path, target->path) != 0)
			r = bring_manifest(reg, target, src, digest, err);
		if (r < 0)
			r = berth_error_wrap(err, r, "copying '%s@%s' to '%s'",
					     eref, digest, target->path);
	}
	if (r == 0)
		r = berth_registry_put_manifest(
			reg, target->path, target->tag,
			json_string_value(json_object_get(l, "mediaType")),
			body, len, err);
	if (r < 0)
		return berth_error_wrap(err, r, "pushing manifest list '%s'",
					name);
	berth_digest_of(out, BERTH_DIGEST_SHA256, body, len);
	if (opts->purge)
		return berth_mlist_remove(s, name, err);
	return 0;
}
