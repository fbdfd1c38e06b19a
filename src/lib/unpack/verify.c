#include "unpack/verify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A config is small; this bounds a hostile one. */
#define CONFIG_MAX ((size_t)16 << 20)

int
berth_unpack_diff_ids(berth_digest **out, berth_store *s,
		      const berth_manifest *m, const char *name,
		      berth_error **err)
{
	_cleanup_free_ char *body = NULL;
	_cleanup_free_ berth_digest *ids_out = NULL;
	size_t len = 0, n = m->n_layers;
	json_t *root, *ids;
	int r = berth_store_read_blob(&body, &len, s, &m->config.digest,
				      CONFIG_MAX, err);

	if (r < 0)
		return berth_error_wrap(err, r, "config of '%s'", name);
	root = json_loadb(body, len, 0, NULL);
	ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != n) {
		r = berth_error_set(
			err, BERTH_EPROTO, 0,
			"the config of '%s' lists %zu diff IDs for "
			"%zu layers",
			name, json_is_array(ids) ? json_array_size(ids) : 0, n);
		berth_error_hint(err, "the image is malformed; rebuild it");
		json_decref(root);
		return r;
	}
	ids_out = xcalloc(n ? n : 1, sizeof(*ids_out));
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *str = json_string_value(json_array_get(ids, i));

		r = berth_digest_parse(&ids_out[i], str ? str : "", err);
		if (r < 0)
			r = berth_error_wrap(err, r,
					     "the config of '%s', diff ID %zu",
					     name, i + 1);
	}
	json_decref(root);
	if (r == 0)
		*out = steal_ptr(&ids_out);
	return r;
}

int
berth_unpack_diff_id_check(const berth_digest *got, const berth_digest *want,
			   const char *what, berth_error **err)
{
	if (strcmp(got->str, want->str) == 0)
		return 0;
	berth_error_set(err, BERTH_EDIGEST, 0,
			"%s: its content is %s, but the config's "
			"rootfs.diff_ids says %s",
			what, got->str, want->str);
	berth_error_hint(err, "the image is damaged or was built wrong; run "
			      "'berth fsck' and pull it again");
	return BERTH_EDIGEST;
}
