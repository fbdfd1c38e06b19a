/*
 * The SBOM as SPDX 2.3 JSON (spdx-spec, "SPDX 2.3 JSON schema") or
 * CycloneDX 1.5 JSON (bom-1.5.schema.json). Both are deterministic: the
 * time stamps are the image's creation time and the identifiers derive
 * from the image digest, so the same image gives the same bytes.
 *
 * In CycloneDX each package is a "library" component: `name` as its
 * ecosystem spells it ("@scope/pkg", a Go module path), `version` as
 * installed, `purl`, and berth's properties (layer, path, source package);
 * the OS is an "operating-system" component.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sbom.h"
#include "util/cleanup.h"
#include "util/str.h"
#include "util/xalloc.h"

static const char *const type_names[] = {"deb", "apk", "pypi", "npm", "golang"};

/* RFC 3339 "YYYY-MM-DDThh:mm:ssZ" of the image's time, or the epoch. */
static void
timestamp(char out[21], const char *created)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; created && i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)created[i])
				    : created[i] != shape[i])
			break;
	if (created && i == sizeof(shape) - 1)
		snprintf(out, 21, "%.19sZ", created);
	else
		snprintf(out, 21, "1970-01-01T00:00:00Z");
}

/* A name-based UUID (RFC 4122 version 5 layout) from the image digest
 * and the format, so that each document has its own. */
static void
uuid_of(char out[37], const berth_sbom *b, const char *what)
{
	_cleanup_free_ char *seed = xasprintf("%s %s", what, b->image.str);
	berth_digest d;
	char h[33];

	berth_digest_of(&d, BERTH_DIGEST_SHA256, seed, strlen(seed));
	memcpy(h, berth_digest_hex(&d), 32);
	h[32] = '\0';
	h[12] = '5';
	h[16] = "89ab"[berth_hex_digit(h[16]) & 3];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
		 h + 20);
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

/* Whether s reads as an SPDX license expression: identifiers joined by
 * AND, OR and WITH, in balanced parentheses. */
static bool
spdx_expression(const char *s)
{
	bool want_id = true;
	int depth = 0;

	for (const char *p = s; *p;) {
		const char *t = p;
		size_t n;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '(' || *p == ')') {
			if (*p == '(' ? !want_id : want_id || --depth < 0)
				return false;
			depth += *p == '(';
			p++;
			continue;
		}
		while (*p && (isalnum((unsigned char)*p) || *p == '.' ||
			      *p == '-' || *p == '+' || *p == ':'))
			p++;
		n = (size_t)(p - t);
		if (n == 0)
			return false;
		if ((n == 3 && memcmp(t, "AND", 3) == 0) ||
		    (n == 2 && memcmp(t, "OR", 2) == 0) ||
		    (n == 4 && memcmp(t, "WITH", 4) == 0)) {
			if (want_id)
				return false;
			want_id = true;
		} else {
			if (!want_id)
				return false;
			want_id = false;
		}
	}
	return !want_id && depth == 0;
}

static char *
where(const berth_sbom_package *p)
{
	return xasprintf("'%s' in layer %s", p->path ? p->path : "",
			 p->layer.str);
}

static json_t *
spdx_package(const berth_sbom_package *p, size_t i)
{
	json_t *o = json_object(), *refs = json_array();
	_cleanup_free_ char *id =
		xasprintf("SPDXRef-Package-%s-%zu", type_names[p->type], i + 1);
	_cleanup_free_ char *from = where(p);

	set_str(o, "SPDXID", id);
	set_str(o, "name", p->name);
	set_str(o, "versionInfo", p->version);
	set_str(o, "downloadLocation", "NOASSERTION");
	json_object_set_new(o, "filesAnalyzed", json_false());
	set_str(o, "licenseConcluded", "NOASSERTION");
	if (p->license && spdx_expression(p->license))
		set_str(o, "licenseDeclared", p->license);
	else {
		set_str(o, "licenseDeclared", "NOASSERTION");
		if (p->license) {
			_cleanup_free_ char *c =
				xasprintf("declared as '%s'", p->license);

			set_str(o, "licenseComments", c);
		}
	}
	set_str(o, "copyrightText", "NOASSERTION");
	set_str(o, "sourceInfo", from);
	if (p->source) {
		_cleanup_free_ char *c =
			xasprintf("source package: %s%s%s%s", p->source,
				  p->source_version ? " (" : "",
				  p->source_version ? p->source_version : "",
				  p->source_version ? ")" : "");

		set_str(o, "comment", c);
	}
	json_array_append_new(refs,
			      json_pack("{s:s, s:s, s:s}", "referenceCategory",
					"PACKAGE-MANAGER", "referenceType",
					"purl", "referenceLocator", p->purl));
	json_object_set_new(o, "externalRefs", refs);
	return o;
}

static json_t *
spdx_root_package(const char *id, const char *name, const char *version,
		  const char *purpose)
{
	json_t *o = json_object();

	set_str(o, "SPDXID", id);
	set_str(o, "name", name);
	set_str(o, "versionInfo", version);
	set_str(o, "downloadLocation", "NOASSERTION");
	json_object_set_new(o, "filesAnalyzed", json_false());
	set_str(o, "licenseConcluded", "NOASSERTION");
	set_str(o, "licenseDeclared", "NOASSERTION");
	set_str(o, "copyrightText", "NOASSERTION");
	set_str(o, "primaryPackagePurpose", purpose);
	return o;
}

static json_t *
relationship(const char *a, const char *type, const char *b)
{
	return json_pack("{s:s, s:s, s:s}", "spdxElementId", a,
			 "relationshipType", type, "relatedSpdxElement", b);
}

static json_t *
spdx(const berth_sbom *b)
{
	json_t *doc = json_object(), *pkgs = json_array(), *rels = json_array();
	char ts[21], uuid[37];
	_cleanup_free_ char *ns = NULL;

	timestamp(ts, b->created);
	uuid_of(uuid, b, "spdx");
	ns = xasprintf("https://berth.invalid/spdx/%s/%s", b->image.str, uuid);
	set_str(doc, "spdxVersion", "SPDX-2.3");
	set_str(doc, "dataLicense", "CC0-1.0");
	set_str(doc, "SPDXID", "SPDXRef-DOCUMENT");
	set_str(doc, "name", b->name);
	set_str(doc, "documentNamespace", ns);
	json_object_set_new(doc, "creationInfo",
			    json_pack("{s:s, s:[s]}", "created", ts, "creators",
				      "Tool: berth"));
	json_array_append_new(pkgs,
			      spdx_root_package("SPDXRef-Image", b->name,
						b->image.str, "CONTAINER"));
	json_array_append_new(rels, relationship("SPDXRef-DOCUMENT",
						 "DESCRIBES", "SPDXRef-Image"));
	if (b->os_id) {
		json_array_append_new(
			pkgs, spdx_root_package("SPDXRef-OperatingSystem",
						b->os_id, b->os_version_id,
						"OPERATING-SYSTEM"));
		json_array_append_new(rels,
				      relationship("SPDXRef-Image", "CONTAINS",
						   "SPDXRef-OperatingSystem"));
	}
	for (size_t i = 0; i < b->n_pkgs; i++) {
		json_t *p = spdx_package(&b->pkgs[i], i);

		json_array_append_new(
			rels, relationship("SPDXRef-Image", "CONTAINS",
					   json_string_value(json_object_get(
						   p, "SPDXID"))));
		json_array_append_new(pkgs, p);
	}
	json_object_set_new(doc, "packages", pkgs);
	json_object_set_new(doc, "relationships", rels);
	return doc;
}

static void
property(json_t *props, const char *name, const char *value)
{
	if (value && *value)
		json_array_append_new(props, json_pack("{s:s, s:s}", "name",
						       name, "value", value));
}

static json_t *
cdx_component(const berth_sbom *b, size_t i)
{
	const berth_sbom_package *p = &b->pkgs[i];
	json_t *o = json_object(), *props = json_array();
	_cleanup_free_ char *ref = NULL;
	bool dup = false;

	/* bom-refs are unique: the purl, unless another package (the same
	 * one at another path) has it too. */
	for (size_t j = 0; j < b->n_pkgs && !dup; j++)
		dup = j != i && strcmp(b->pkgs[j].purl, p->purl) == 0;
	ref = dup ? xasprintf("%s|%s", p->purl, p->path ? p->path : "")
		  : xstrdup(p->purl);
	set_str(o, "bom-ref", ref);
	set_str(o, "type", "library");
	set_str(o, "name", p->name);
	set_str(o, "version", p->version);
	if (p->license)
		json_object_set_new(o, "licenses",
				    json_pack("[{s:{s:s}}]", "license", "name",
					      p->license));
	set_str(o, "purl", p->purl);
	property(props, "berth:package:type", type_names[p->type]);
	property(props, "berth:layer", p->layer.str);
	property(props, "berth:path", p->path);
	property(props, "berth:source", p->source);
	property(props, "berth:source_version", p->source_version);
	property(props, "berth:arch", p->arch);
	json_object_set_new(o, "properties", props);
	return o;
}

static json_t *
cyclonedx(const berth_sbom *b)
{
	json_t *doc = json_object(), *meta = json_object(),
	       *comps = json_array();
	char ts[21], uuid[37];
	_cleanup_free_ char *serial = NULL;

	timestamp(ts, b->created);
	uuid_of(uuid, b, "cyclonedx");
	serial = xasprintf("urn:uuid:%s", uuid);
	set_str(doc, "$schema",
		"http://cyclonedx.org/schema/bom-1.5.schema.json");
	set_str(doc, "bomFormat", "CycloneDX");
	set_str(doc, "specVersion", "1.5");
	set_str(doc, "serialNumber", serial);
	json_object_set_new(doc, "version", json_integer(1));
	set_str(meta, "timestamp", ts);
	json_object_set_new(meta, "tools",
			    json_pack("{s:[{s:s, s:s}]}", "components", "type",
				      "application", "name", "berth"));
	json_object_set_new(meta, "component",
			    json_pack("{s:s, s:s, s:s, s:s}", "bom-ref",
				      b->image.str, "type", "container", "name",
				      b->name, "version", b->image.str));
	json_object_set_new(doc, "metadata", meta);
	if (b->os_id) {
		json_t *os = json_object();

		set_str(os, "bom-ref", "os");
		set_str(os, "type", "operating-system");
		set_str(os, "name", b->os_id);
		set_str(os, "version", b->os_version_id);
		set_str(os, "description", b->os_name);
		json_array_append_new(comps, os);
	}
	for (size_t i = 0; i < b->n_pkgs; i++)
		json_array_append_new(comps, cdx_component(b, i));
	json_object_set_new(doc, "components", comps);
	return doc;
}

char *
berth_sbom_json(const berth_sbom *b, berth_sbom_format f)
{
	json_t *doc = f == BERTH_SBOM_CYCLONEDX ? cyclonedx(b) : spdx(b);
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *out = xasprintf("%s\n", s);

	free(s);
	json_decref(doc);
	return out;
}
