/*
 * The layers of an image read in order as tar streams, the catalogued
 * files kept as the merged file system has them: an entry replaces what
 * a lower layer (or earlier in its own) had at its path, a whiteout
 * removes a lower layer's file or directory, an opaque directory hides
 * what lower layers had under it (image-spec "Representing Changes").
 */
#ifndef BERTH_LIB_SBOM_WALK_H
#define BERTH_LIB_SBOM_WALK_H

#include <sys/types.h>

#include "berth/sbom.h"
#include "sbom/catalog.h"

typedef struct berth_sbom_walk berth_sbom_walk;

/* The same shape as berth_layer_decoder_read. */
typedef ssize_t (*berth_sbom_read_fn)(void *ctx, const void **buf,
				      berth_error **err);

int berth_sbom_walk_new(berth_sbom_walk **out, berth_error **err);
void berth_sbom_walk_free(berth_sbom_walk *w);

/* Reads the next layer (`what` names it in messages) through rd. */
int berth_sbom_walk_layer(berth_sbom_walk *w, const berth_digest *layer,
			  berth_sbom_read_fn rd, void *ctx, const char *what,
			  berth_error **err);

/*
 * What is left after the last layer: the packages (each with its path
 * and layer) moved to *pkgs, and the os-release fields into the sbom's
 * os_* (etc/os-release, else usr/lib/os-release).
 */
void berth_sbom_walk_finish(berth_sbom_walk *w, berth_sbom_list *pkgs,
			    berth_sbom *b);

#endif
