/*
 * The image manifest of a local image, as berth unpack and berth sbom
 * read it: the name resolved in the store, an index narrowed to one
 * platform's image.
 */
#ifndef BERTH_LIB_UNPACK_LOCAL_H
#define BERTH_LIB_UNPACK_LOCAL_H

#include "berth/common.h"
#include "berth/manifest.h"
#include "berth/platform.h"
#include "berth/store.h"
#include "unpack/decode.h"

/*
 * The image manifest for `name` (*out, caller frees) and its digest; an
 * index is resolved to `platform` (NULL: the host's). BERTH_ENOTFOUND with
 * a hint to pull when the store lacks the image or that platform's.
 */
int berth_local_image(berth_manifest **out, berth_digest *image, berth_store *s,
		      const char *name, const berth_platform *platform,
		      berth_error **err);

/*
 * Every layer of m readable: its media type known (comp[i], m->n_layers
 * of them, gets its compression) and its blob in the store;
 * BERTH_ENOTFOUND naming the layer and the remedy otherwise.
 */
int berth_local_layers(berth_layer_compression *comp, berth_store *s,
		       const berth_manifest *m, const char *name,
		       berth_error **err);

#endif
