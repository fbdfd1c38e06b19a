/*
 * Package URLs (purl-spec): "pkg:type/namespace/name@version?qualifiers",
 * each component percent-encoded as the spec's "Character encoding"
 * section says (letters, digits, ".-_~" and ':' stay as they are), the
 * qualifiers in key order, empty ones left out; and each ecosystem's own
 * rules (PURL-TYPES) for the types berth catalogues.
 */
#ifndef BERTH_LIB_SBOM_PURL_H
#define BERTH_LIB_SBOM_PURL_H

#include "berth/sbom.h"

/*
 * A purl. `ns` is NULL or '/'-separated segments, each encoded on its own;
 * `version` may be NULL; `quals` is NULL or key, value pairs ending in
 * NULL, the keys in ascending order (a NULL or empty value is left out).
 * Caller frees.
 */
char *berth_purl(const char *type, const char *ns, const char *name,
		 const char *version, const char *const *quals);

/* The purl of a package found in an image whose os-release says os_id and
 * os_version_id (either may be NULL). Caller frees. */
char *berth_sbom_purl(const berth_sbom_package *p, const char *os_id,
		      const char *os_version_id);

#endif
