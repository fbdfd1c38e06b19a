/*
 * SBOMs kept in a registry beside their image, as OCI 1.1 referrers:
 * `berth sbom --attach` and `berth sbom --from-registry`.
 */
#ifndef BERTH_SBOM_REGISTRY_H
#define BERTH_SBOM_REGISTRY_H

#include "berth/common.h"
#include "berth/ref.h"
#include "berth/registry.h"
#include "berth/sbom.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pushes doc (a document of format f) to ref's repository as a referrer
 * of the image manifest `subject`, which must be there (BERTH_ENOTFOUND
 * with a hint to push it otherwise). *out gets the referrer manifest's
 * digest.
 */
BERTH_EXTERN int berth_sbom_attach(berth_digest *out, const berth_ref *ref,
				   const berth_digest *subject,
				   berth_sbom_format f, const char *doc,
				   size_t len, const berth_registry_opts *o,
				   berth_error **err);

/*
 * The document of format f attached to the image ref names (an index
 * resolved to the host's platform), through the referrers API.
 * BERTH_ENOTFOUND when none is attached. Caller frees *out.
 */
BERTH_EXTERN int berth_sbom_fetch(char **out, size_t *len, const berth_ref *ref,
				  berth_sbom_format f,
				  const berth_registry_opts *o,
				  berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
