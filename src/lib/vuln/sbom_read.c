/*
 * The packages of an SBOM, by their purls: CycloneDX JSON (components[],
 * nested components too) or SPDX JSON (packages[].externalRefs of type
 * purl). Components without a purl, or with one of a type berth does not
 * scan, are counted in `skipped`.
 */
#include <jansson.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

/* An SBOM of a large image is a few MiB. */
#define SBOM_MAX ((size_t)256 << 20)
#define NEST_MAX 64

static void
add_purl(berth_vuln_packages *out, size_t *cap, const char *purl)
{
	berth_vuln_package p;

	if (purl == NULL || berth_vuln_purl_parse(&p, purl, NULL) < 0) {
		out->skipped++;
		return;
	}
	if (out->n == *cap)
		out->items = xreallocarray(out->items, *cap = *cap * 2 + 64,
					   sizeof(*out->items));
	out->items[out->n++] = p;
}

static void
cyclonedx(berth_vuln_packages *out, size_t *cap, const json_t *components,
	  int depth)
{
	size_t i;
	json_t *c;

	if (depth > NEST_MAX)
		return;
	json_array_foreach(components, i, c)
	{
		const json_t *purl = json_object_get(c, "purl");

		add_purl(out, cap, json_string_value(purl));
		cyclonedx(out, cap, json_object_get(c, "components"),
			  depth + 1);
	}
}

static void
spdx(berth_vuln_packages *out, size_t *cap, const json_t *packages)
{
	size_t i, j;
	json_t *p, *ref;

	json_array_foreach(packages, i, p)
	{
		const char *purl = NULL;

		json_array_foreach(json_object_get(p, "externalRefs"), j, ref)
		{
			const char *type = json_string_value(
				json_object_get(ref, "referenceType"));

			if (type && strcmp(type, "purl") == 0) {
				purl = json_string_value(json_object_get(
					ref, "referenceLocator"));
				break;
			}
		}
		add_purl(out, cap, purl);
	}
}

void
berth_vuln_packages_release(berth_vuln_packages *p)
{
	unsigned v;

	if (p == NULL)
		return;
	v = p->version;
	for (size_t i = 0; i < p->n; i++)
		berth_vuln_package_release(&p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
	p->version = v;
}

int
berth_vuln_sbom_parse(berth_vuln_packages *out, const char *text, size_t len,
		      const char *path, berth_error **err)
{
	json_auto_t *doc = NULL;
	json_error_t jerr;
	size_t cap = 0;
	const char *fmt;

	if (out->version != BERTH_VULN_PACKAGES_VERSION) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"berth_vuln_packages of unknown version %u",
				out->version);
		berth_error_hint(err, "initialise it with "
				      "BERTH_VULN_PACKAGES_INIT");
		return BERTH_EUSAGE;
	}
	doc = json_loadb(text, len, 0, &jerr);
	if (doc == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "SBOM '%s' is not valid JSON: %s (line "
				       "%d)",
				       path, why, jerr.line);
	}
	fmt = json_string_value(json_object_get(doc, "bomFormat"));
	out->n = out->skipped = 0;
	out->items = NULL;
	if (fmt && strcmp(fmt, "CycloneDX") == 0) {
		out->format = "CycloneDX";
		cyclonedx(out, &cap, json_object_get(doc, "components"), 0);
	} else if (json_string_value(json_object_get(doc, "spdxVersion"))) {
		out->format = "SPDX";
		spdx(out, &cap, json_object_get(doc, "packages"));
	} else {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"'%s' is neither a CycloneDX nor an SPDX JSON "
				"SBOM (no \"bomFormat\": \"CycloneDX\" nor "
				"\"spdxVersion\")",
				path);
		berth_error_hint(err, "make one with 'berth sbom', syft or "
				      "cdxgen, in JSON");
		return BERTH_EUSAGE;
	}
	return 0;
}

int
berth_vuln_sbom_read(berth_vuln_packages *out, const char *path,
		     berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if ((r = berth_file_read(&text, &len, path, SBOM_MAX, err)) < 0)
		return berth_error_wrap(err, r, "reading the SBOM");
	return berth_vuln_sbom_parse(out, text, len, path, err);
}
