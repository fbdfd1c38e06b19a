/*
 * Software bills of materials: the packages installed in a local image,
 * read from its layers as streams (nothing is unpacked to disk), as the
 * image's merged file system has them: a file a later layer deletes
 * (whiteout, opaque directory) or replaces is not reported from the lower
 * layer. Catalogued: dpkg (var/lib/dpkg/status and distroless'
 * status.d/), apk (lib/apk/db/installed), Python (*.dist-info/METADATA,
 * *.egg-info), npm (node_modules/.../package.json), Go binaries (their
 * embedded build information), and the OS from etc/os-release.
 *
 * The result is written as SPDX 2.3 or CycloneDX 1.5 JSON.
 */
#ifndef BERTH_SBOM_H
#define BERTH_SBOM_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/platform.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds on what is read of one catalogued file. */
#define BERTH_SBOM_DB_MAX ((int64_t)64 << 20)  /* dpkg status, apk db */
#define BERTH_SBOM_META_MAX ((int64_t)4 << 20) /* METADATA, package.json */

typedef enum berth_sbom_type {
	BERTH_SBOM_DEB = 0,
	BERTH_SBOM_APK = 1,
	BERTH_SBOM_PYPI = 2,
	BERTH_SBOM_NPM = 3,
	BERTH_SBOM_GO = 4,
} berth_sbom_type;

typedef struct berth_sbom_package {
	berth_sbom_type type;
	char *name;	      /* as the ecosystem spells it */
	char *version;	      /* or NULL (a Go main module built from a tree) */
	char *source;	      /* dpkg Source: / apk origin, or NULL */
	char *source_version; /* dpkg "Source: name (version)", or NULL */
	char *license;	      /* as declared, or NULL */
	char *arch;	      /* dpkg Architecture: / apk A:, or NULL */
	char *purl;	      /* package URL (purl-spec) */
	char *path;	      /* the file it was read from, in the image */
	berth_digest layer;   /* the layer that file came from */
	size_t layer_index;   /* counting from 0 */
} berth_sbom_package;

typedef struct berth_sbom {
	berth_digest image; /* the image manifest read */
	char *name;	    /* the reference asked for */
	char *created;	    /* the config's creation time, or NULL */
	char *os_id, *os_version_id, *os_name; /* os-release, or NULL */
	berth_sbom_package *pkgs; /* sorted: type, name, version, path */
	size_t n_pkgs;
} berth_sbom;

typedef enum berth_sbom_format {
	BERTH_SBOM_SPDX = 0,	  /* SPDX 2.3 JSON */
	BERTH_SBOM_CYCLONEDX = 1, /* CycloneDX 1.5 JSON */
} berth_sbom_format;

/*
 * The packages of the local image `name` (an index resolved to
 * `platform`; NULL: the host's). Errors: BERTH_ENOTFOUND (no such image,
 * a layer missing), BERTH_EPROTO (a layer that is not a valid tar
 * stream), BERTH_ETOOBIG (a package database over BERTH_SBOM_DB_MAX).
 * Caller frees *out with berth_sbom_free.
 */
BERTH_EXTERN int berth_sbom_build(berth_sbom **out, berth_store *s,
				  const char *name,
				  const berth_platform *platform,
				  berth_error **err);

BERTH_EXTERN void berth_sbom_free(berth_sbom *b);

/* "spdx" or "cyclonedx" to a format; BERTH_EUSAGE otherwise. */
BERTH_EXTERN int berth_sbom_format_parse(berth_sbom_format *out, const char *s,
					 berth_error **err);

/* The media type of a format: application/spdx+json,
 * application/vnd.cyclonedx+json. */
BERTH_EXTERN const char *berth_sbom_media_type(berth_sbom_format f);

/*
 * The document as indented JSON with a final newline. The same image
 * gives the same bytes: the time stamps are the image's creation time,
 * the identifiers derive from its digest. Caller frees.
 */
BERTH_EXTERN char *berth_sbom_json(const berth_sbom *b, berth_sbom_format f);

#ifdef __cplusplus
}
#endif
#endif
