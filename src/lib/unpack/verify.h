/*
 * What berth unpack and berth pull --unpack check of every image alike: the
 * config's rootfs.diff_ids, and each layer's tar against its entry.
 */
#ifndef BERTH_LIB_UNPACK_VERIFY_H
#define BERTH_LIB_UNPACK_VERIFY_H

#include "berth/common.h"
#include "berth/digest.h"
#include "berth/manifest.h"
#include "berth/store.h"

/*
 * The config's rootfs.diff_ids, one for each layer of m, read from the
 * store: *out holds m->n_layers digests (caller frees). `name` names the
 * image in messages.
 */
int berth_unpack_diff_ids(berth_digest **out, berth_store *s,
			  const berth_manifest *m, const char *name,
			  berth_error **err);

/* A layer's tar digest against its diff ID: BERTH_EDIGEST naming the
 * layer (`what`, e.g. "layer 3 (sha256:ab12…)") otherwise. */
int berth_unpack_diff_id_check(const berth_digest *got,
			       const berth_digest *want, const char *what,
			       berth_error **err);

#endif
