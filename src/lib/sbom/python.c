/*
 * Python's core metadata (packaging.python.org "Core metadata
 * specifications"), as *.dist-info/METADATA and *.egg-info/PKG-INFO
 * (or an *.egg-info file) hold it: RFC 822 headers, then the long
 * description. The licence is License-Expression (metadata 2.4) or else
 * the License field's first line.
 */
#include <stdlib.h>

#include "sbom/catalog.h"
#include "sbom/fields.h"

/* A License field longer than this is the licence's text, not its name. */
#define LICENSE_NAME_MAX 128

struct meta {
	char *name, *version, *license, *expr;
};

static void
set(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = berth_fields_dup(v, n);
}

static void
on_field(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct meta *m = ud;

	if (berth_fields_is(k, kl, "Name"))
		set(&m->name, v, vl);
	else if (berth_fields_is(k, kl, "Version"))
		set(&m->version, v, vl);
	else if (berth_fields_is(k, kl, "License-Expression"))
		set(&m->expr, v, vl);
	else if (berth_fields_is(k, kl, "License") && vl <= LICENSE_NAME_MAX &&
		 !(vl == 7 && v[0] == 'U' && berth_fields_is(v, vl, "UNKNOWN")))
		set(&m->license, v, vl);
}

static void
on_end(void *ud)
{
	(void)ud;
}

void
berth_sbom_parse_python(berth_sbom_list *out, const char *p, size_t len)
{
	struct meta m = {NULL, NULL, NULL, NULL};
	berth_fields_cb cb = {on_field, on_end, &m};

	berth_fields_walk(p, len, true, &cb);
	if (m.name && m.version) {
		berth_sbom_package *pk =
			berth_sbom_list_add(out, BERTH_SBOM_PYPI);

		pk->name = m.name;
		pk->version = m.version;
		pk->license = m.expr ? m.expr : m.license;
		free(m.expr ? m.license : NULL);
		return;
	}
	free(m.name);
	free(m.version);
	free(m.license);
	free(m.expr);
}
