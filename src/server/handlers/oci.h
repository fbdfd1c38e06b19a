/*
 * What the registry server needs from the OCI distribution and image specs
 * that is not HTTP: name and tag grammar, the JSON bodies it answers with,
 * and the facts it keeps about a pushed manifest.
 */
#ifndef BERTH_SERVER_HANDLERS_OCI_H
#define BERTH_SERVER_HANDLERS_OCI_H

#include <stddef.h>

#include "berth/common.h"
#include "server/storage/meta.h"

/*
 * Repository names and tags by the client's rules (berth_ref_name_valid,
 * berth_ref_tag_valid), so what berth accepts, berth serve accepts.
 */
bool berth_oci_name_valid(const char *name);
bool berth_oci_tag_valid(const char *tag);

/*
 * {"errors":[{"code":code,"message":message,"detail":detail}]}; detail is
 * omitted when NULL. Returns a malloc'd body and its length.
 */
char *berth_oci_error_json(const char *code, const char *message,
			   const char *detail, size_t *len);

/* {"name":name,"tags":[...]} */
char *berth_oci_tags_json(const char *name, char *const *tags, size_t *len);

/* {"repositories":[...]} */
char *berth_oci_catalog_json(char *const *repos, size_t *len);

/* The referrers answer: an OCI image index of descriptors. */
char *berth_oci_referrers_json(const berth_meta_manifest *v, size_t n,
			       size_t *len);

/* The facts a registry keeps about a pushed manifest. */
typedef struct berth_oci_manifest_info {
	char *media_type; /* the Content-Type as pushed, or the mediaType field
			   */
	char *artifact_type; /* artifactType, else config.mediaType (images), or
				NULL */
	char *subject;	     /* subject digest, or NULL */
	char *annotations;   /* top-level annotations as JSON, or NULL */
	char **blobs;	     /* config and layers (NULL-terminated) */
	int64_t *blob_sizes; /* the sizes their descriptors give */
	size_t n_blobs;
	char **children;      /* index entries (NULL-terminated) */
	int64_t *child_sizes; /* the sizes their descriptors give */
	size_t n_children;
} berth_oci_manifest_info;

/*
 * Validates a manifest body the way a registry must before storing it
 * (JSON, a known media type, well-formed descriptors, BERTH_MANIFEST_MAX)
 * and collects what it references. Blobs with external URLs (foreign
 * layers) are not listed: the registry does not hold them.
 * Errors: BERTH_EPROTO, BERTH_EUNSUPPORTED, BERTH_ETOOBIG.
 */
int berth_oci_manifest_inspect(berth_oci_manifest_info *out,
			       const char *content_type, const char *body,
			       size_t len, berth_error **err);

void berth_oci_manifest_info_release(berth_oci_manifest_info *info);

/*
 * What a manifest PUT stores, from info (borrowed: it must outlive *mf and
 * *put): the manifest's row (digest, size) and its references. The caller
 * adds the tags and the flags.
 */
void berth_oci_manifest_put_fill(const berth_oci_manifest_info *info,
				 const char *digest, int64_t size,
				 berth_meta_manifest *mf, berth_meta_put *put);

/* For _cleanup_(). */
static inline void
berth_oci_manifest_info_releasep(berth_oci_manifest_info *info)
{
	berth_oci_manifest_info_release(info);
}

#endif
