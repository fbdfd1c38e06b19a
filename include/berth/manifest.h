/*
 * OCI and Docker manifests and indexes, parsed with jansson.
 * Schema 1 manifests are recognised and refused (BERTH_EUNSUPPORTED).
 */
#ifndef BERTH_MANIFEST_H
#define BERTH_MANIFEST_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define BERTH_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BERTH_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define BERTH_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define BERTH_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define BERTH_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define BERTH_MT_DOCKER_LIST                                                   \
	"application/vnd.docker.distribution.manifest.list.v2+json"
#define BERTH_MT_DOCKER_V2                                                     \
	"application/vnd.docker.distribution.manifest.v2+json"
#define BERTH_MT_DOCKER_V1                                                     \
	"application/vnd.docker.distribution.manifest.v1+json"
#define BERTH_MT_DOCKER_V1_SIGNED                                              \
	"application/vnd.docker.distribution.manifest.v1+prettyjws"
#define BERTH_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define BERTH_MT_DOCKER_LAYER                                                  \
	"application/vnd.docker.image.rootfs.diff.tar.gzip"
#define BERTH_MT_DOCKER_FOREIGN                                                \
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* The Accept header a client sends for manifests (all four kinds we read). */
#define BERTH_MANIFEST_ACCEPT                                                  \
	BERTH_MT_OCI_INDEX ", " BERTH_MT_OCI_MANIFEST                          \
			   ", " BERTH_MT_DOCKER_LIST ", " BERTH_MT_DOCKER_V2

/* Manifests larger than this are refused, by client and server alike. */
#define BERTH_MANIFEST_MAX ((size_t)4 << 20)

typedef enum berth_manifest_kind {
	BERTH_MANIFEST_IMAGE = 0, /* OCI image manifest or Docker schema 2 */
	BERTH_MANIFEST_INDEX = 1, /* OCI index or Docker manifest list */
} berth_manifest_kind;

/*
 * An OCI content descriptor. The OCI one has grown before (urls,
 * annotations, artifactType, data) and will again, but descriptors are
 * embedded in other structs and travel in arrays, so their size is fixed
 * for the SONAME: later fields take the reserved slots. A descriptor a
 * program builds starts from BERTH_DESCRIPTOR_INIT (or zeroed memory) so
 * that they are NULL; one the library fills has them NULL too.
 */
typedef struct berth_descriptor {
	char *media_type;
	berth_digest digest;
	int64_t size;
	bool has_platform;
	berth_platform platform; /* index entries only */
	char *artifact_type;	 /* or NULL */
	char **urls;		 /* NULL-terminated, or NULL */
	char *annotations_json;	 /* the "annotations" object as JSON, or NULL */
	void *reserved[4];	 /* NULL */
} berth_descriptor;

#define BERTH_DESCRIPTOR_INIT                                                  \
	{                                                                      \
		NULL, {BERTH_DIGEST_SHA256, ""}, 0, false, {"", "", ""}, NULL, \
			NULL, NULL,                                            \
		{                                                              \
			NULL, NULL, NULL, NULL                                 \
		}                                                              \
	}

typedef struct berth_manifest {
	berth_manifest_kind kind;
	char *media_type;    /* as declared (mediaType field or content type) */
	char *artifact_type; /* or NULL */
	berth_descriptor config; /* images only */
	berth_descriptor *layers;
	size_t n_layers;
	berth_descriptor *manifests; /* indexes only */
	size_t n_manifests;
	bool has_subject;
	berth_descriptor subject;
} berth_manifest;

/*
 * Parses a manifest body. `content_type` is the HTTP Content-Type (or
 * NULL); the body's own mediaType wins when present, and the two must not
 * contradict. Validates digests, sizes (>= 0) and required fields.
 * Errors: BERTH_EPROTO (invalid), BERTH_EUNSUPPORTED (schema 1 or an
 * unknown media type), BERTH_ETOOBIG (over BERTH_MANIFEST_MAX).
 */
BERTH_EXTERN int berth_manifest_parse(berth_manifest **out,
				      const char *content_type,
				      const char *body, size_t len,
				      berth_error **err);

BERTH_EXTERN void berth_manifest_free(berth_manifest *m);

static inline void
berth_manifest_freep(berth_manifest **m)
{
	berth_manifest_free(*m);
	*m = NULL;
}

/*
 * Picks the entry of an index matching `want` (the best one: exact variant
 * over a compatible one). BERTH_EPLATFORM when none matches; the message
 * lists the platforms the index has. *out points into `index`.
 */
BERTH_EXTERN int berth_manifest_select(const berth_descriptor **out,
				       const berth_manifest *index,
				       const berth_platform *want,
				       berth_error **err);

/* Copies / releases a descriptor (deep). */
BERTH_EXTERN void berth_descriptor_copy(berth_descriptor *dst,
					const berth_descriptor *src);
BERTH_EXTERN void berth_descriptor_release(berth_descriptor *d);

#ifdef __cplusplus
}
#endif
#endif
