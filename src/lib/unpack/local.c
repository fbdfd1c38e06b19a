#include "unpack/local.h"

#include <stdlib.h>

#include "util/cleanup.h"
#include "util/error.h"

static int
read_manifest(berth_manifest **out, berth_store *s, const berth_descriptor *d,
	      berth_error **err)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int r = berth_store_read_blob(&body, &len, s, &d->digest,
				      BERTH_MANIFEST_MAX, err);

	if (r == 0)
		r = berth_manifest_parse(out, d->media_type, body, len, err);
	return r;
}

int
berth_local_image(berth_manifest **out, berth_digest *image, berth_store *s,
		  const char *name, const berth_platform *platform,
		  berth_error **err)
{
	berth_descriptor d = BERTH_DESCRIPTOR_INIT;
	berth_manifest *idx = NULL, *m = NULL;
	const berth_descriptor *pick;
	berth_platform host;
	int r = berth_store_resolve(&d, s, name, err);

	if (r < 0) {
		if (r == BERTH_ENOTFOUND)
			berth_error_hint(err, "pull it first: berth pull %s",
					 name);
		return r;
	}
	if ((r = read_manifest(&idx, s, &d, err)) < 0)
		goto out;
	if (idx->kind == BERTH_MANIFEST_IMAGE) {
		*out = steal_ptr(&idx);
		*image = d.digest;
		goto out;
	}
	berth_platform_host(&host);
	r = berth_manifest_select(&pick, idx, platform ? platform : &host, err);
	if (r < 0)
		goto out;
	*image = pick->digest;
	r = read_manifest(&m, s, pick, err);
	if (r == BERTH_ENOTFOUND)
		berth_error_hint(err,
				 "the store has the index of '%s' but not this "
				 "platform's image: pull it with --platform",
				 name);
	if (r == 0 && m->kind != BERTH_MANIFEST_IMAGE)
		r = berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "'%s': an index inside an index", name);
	if (r == 0)
		*out = steal_ptr(&m);
out:
	berth_manifest_free(m);
	berth_manifest_free(idx);
	berth_descriptor_release(&d);
	if (r < 0)
		return berth_error_wrap(err, r, "image '%s'", name);
	return 0;
}

int
berth_local_layers(berth_layer_compression *comp, berth_store *s,
		   const berth_manifest *m, const char *name, berth_error **err)
{
	for (size_t i = 0; i < m->n_layers; i++) {
		const berth_descriptor *l = &m->layers[i];
		bool foreign = false;
		int r = berth_layer_media_type(&comp[i], &foreign,
					       l->media_type, err);

		if (r < 0)
			return berth_error_wrap(err, r, "layer %zu of '%s'",
						i + 1, name);
		if (berth_store_has_blob(NULL, s, &l->digest))
			continue;
		berth_error_set(err, BERTH_ENOTFOUND, 0,
				"layer %zu of '%s' (%s) is not in the store%s",
				i + 1, name, l->digest.str,
				foreign ? ": it is non-distributable (foreign)"
					: "");
		berth_error_hint(
			err, foreign ? "allow the registry's "
				       "non-distributable layers "
				       "(allow-nondistributable-artifacts) "
				       "and pull the image again"
				     : "run 'berth fsck', then pull the image "
				       "again");
		return BERTH_ENOTFOUND;
	}
	return 0;
}
