/* Naming, loading and removing local images. */
#include "berth/image.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"

/* Configs are small JSON documents; a larger one is not an image config. */
#define CONFIG_MAX ((size_t)16 << 20)

int
berth_image_load(berth_descriptor *desc, berth_manifest **m, char **config_out,
		 size_t *config_len, berth_store *s, const char *name,
		 berth_error **err)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int r;

	r = berth_store_resolve(desc, s, name, err);
	if (r < 0)
		return r;
	r = berth_store_read_blob(&body, &len, s, &desc->digest,
				  BERTH_MANIFEST_MAX, err);
	if (r == 0)
		r = berth_manifest_parse(m, desc->media_type, body, len, err);
	if (r == 0 && (*m)->kind != BERTH_MANIFEST_IMAGE) {
		berth_manifest_freep(m);
		r = berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "'%s' is an index, not an image", name);
	}
	if (r == 0 && config_out)
		r = berth_store_read_blob(config_out, config_len, s,
					  &(*m)->config.digest, CONFIG_MAX,
					  err);
	if (r < 0) {
		berth_manifest_freep(m);
		berth_descriptor_release(desc);
		if (r == BERTH_ENOTFOUND && err && *err && (*err)->code == r &&
		    strstr((*err)->msg, "blob"))
			berth_error_hint(err,
					 "the store lacks part of '%s': "
					 "run 'berth fsck', then pull it again",
					 name);
		return r;
	}
	return 0;
}

int
berth_image_tag(berth_store *s, const char *src, const char *dst,
		berth_error **err)
{
	berth_descriptor d = {0};
	int r;

	r = berth_store_resolve(&d, s, src, err);
	if (r == 0)
		r = berth_store_set_image(s, dst, &d, err);
	berth_descriptor_release(&d);
	return r;
}
