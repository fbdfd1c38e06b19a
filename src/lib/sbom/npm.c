/*
 * An installed npm package's package.json: its name, version and licence
 * ("license": an SPDX expression, or the old {"type": ...} object, or the
 * older "licenses" array).
 */
#include <jansson.h>
#include <string.h>

#include "sbom/catalog.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const char *
license_of(json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	return json_string_value(json_object_get(v, "type"));
}

static char *
license(json_t *root)
{
	const char *one = license_of(json_object_get(root, "license"));
	json_t *list = json_object_get(root, "licenses"), *v;
	berth_buf b = BERTH_BUF_INIT;
	size_t i;

	if (one && *one)
		return xstrdup(one);
	json_array_foreach(list, i, v)
	{
		const char *s = license_of(v);

		if (s && *s &&
		    (berth_buf_puts(&b, b.len ? " OR " : "", NULL) < 0 ||
		     berth_buf_puts(&b, s, NULL) < 0))
			break;
	}
	if (b.len == 0) {
		berth_buf_release(&b);
		return NULL;
	}
	return berth_buf_detach(&b);
}

void
berth_sbom_parse_npm(berth_sbom_list *out, const char *p, size_t len)
{
	json_t *root = json_loadb(p, len, 0, NULL);
	const char *name = json_string_value(json_object_get(root, "name"));
	const char *ver = json_string_value(json_object_get(root, "version"));

	if (name && *name && ver && *ver) {
		berth_sbom_package *pk =
			berth_sbom_list_add(out, BERTH_SBOM_NPM);

		pk->name = xstrdup(name);
		pk->version = xstrdup(ver);
		pk->license = license(root);
	}
	json_decref(root);
}
