/*
 * Local image operations besides pull and push: import a root file system
 * tarball, describe an image (docker inspect / skopeo inspect shapes),
 * name and remove images.
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include "berth/common.h"
#include "berth/platform.h"
#include "berth/ref.h"
#include "berth/registry.h"
#include "berth/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Makes a one-layer image from a tar file (plain, gzip or zstd; validated
 * as tar): the layer is stored gzip-compressed, the config records the
 * layer's diff ID, `platform` (NULL: the host's) and the creation time.
 * Records it as `name`; the manifest's descriptor goes to *out.
 */
BERTH_EXTERN int berth_image_import(berth_descriptor *out, berth_store *s,
				    const char *tarball, const char *name,
				    const berth_platform *platform,
				    berth_error **err);

/*
 * A local image as JSON in the shape of `docker inspect` (an array of one
 * object: Id, RepoTags, RepoDigests, Created, Architecture, Os, Config,
 * RootFS, Size, ...). Caller frees *out.
 */
BERTH_EXTERN int berth_image_inspect(char **out, berth_store *s,
				     const char *name, berth_error **err);

/*
 * A remote image as JSON in the shape of `skopeo inspect` (Name, Digest,
 * RepoTags, Created, Architecture, Os, Layers, LayersData, Env), without
 * writing anything locally. Caller frees *out.
 */
BERTH_EXTERN int berth_remote_inspect(char **out, const berth_ref *ref,
				      const berth_platform *platform,
				      const berth_registry_opts *opts,
				      berth_error **err);

/* Gives the image `src` the additional name `dst`. */
BERTH_EXTERN int berth_image_tag(berth_store *s, const char *src,
				 const char *dst, berth_error **err);

/*
 * Loads an image's manifest (and, when config_out is not NULL, its config
 * JSON text) from the store. *m is freed by the caller.
 */
BERTH_EXTERN int berth_image_load(berth_descriptor *desc, berth_manifest **m,
				  char **config_out, size_t *config_len,
				  berth_store *s, const char *name,
				  berth_error **err);

#ifdef __cplusplus
}
#endif
#endif
