/*
 * berth pull --unpack: the layers applied into a directory while they
 * download (pull.c drives it).
 *
 * One applier thread takes the layers in order. A layer being downloaded
 * from its first byte is copied by its download's sink into a feed
 * the applier reads (decode, apply, diff ID); every other layer (in the
 * store already, resumed from a partial file, listed twice) is read from
 * its blob once it is stored. Either side's failure stops the other: a
 * failed apply makes every sink fail, a failed download ends the applier.
 */
#ifndef BERTH_LIB_PULL_UNPACK_H
#define BERTH_LIB_PULL_UNPACK_H

#include "berth/digest.h"
#include "berth/manifest.h"
#include "berth/store.h"
#include "berth/unpack.h"

typedef struct pull_unpack pull_unpack;

/*
 * Checks the image (its config, which must be in the store, and the layers'
 * media types), begins the staging directory beside dir and starts the
 * applier. m and store must outlive the pull_unpack; `name` names the
 * image in messages. o->progress, when set, gets each layer's
 * LAYER_START, LAYER_PROGRESS and LAYER_DONE on the applier's thread.
 */
int pull_unpack_start(pull_unpack **out, berth_store *store,
		      const berth_manifest *m, const char *name,
		      const char *dir, const berth_unpack_opts *o,
		      berth_error **err);

typedef struct pu_layer pull_tee;

/* Where a download of blob d from its first byte copies its bytes
 * (pull_unpack_send), or NULL when no layer reads it that way. */
pull_tee *pull_unpack_tee(pull_unpack *u, const berth_digest *d);

/* Copies a download's bytes to the applier, in chunks; fails once the
 * applier has. Only the download's own sink calls these for t. */
int pull_unpack_send(pull_unpack *u, pull_tee *t, const void *p, size_t len,
		     berth_error **err);

/* Sends what pull_unpack_send holds: before the blob is stored. */
int pull_unpack_flush(pull_unpack *u, pull_tee *t, berth_error **err);

/* Fails once the applier has: a download's sink stops then. */
int pull_unpack_check(pull_unpack *u, berth_error **err);

/* Blob d is verified and stored: the layers that are d may be read. */
void pull_unpack_stored(pull_unpack *u, const berth_digest *d);

/* A download failed: the applier stops (any thread, never blocks). */
void pull_unpack_abort(pull_unpack *u);

/* Waits for the applier to be done with every layer: 0, or its failure
 * (then pull_unpack_finish reports nothing more). */
int pull_unpack_wait(pull_unpack *u, berth_error **err);

/*
 * Waits for the applier; with pull_rc 0 and every layer applied, renames
 * the staging directory onto dir (and fills in *res, when not NULL: all
 * but its image), else removes it. Returns the failure to report: the
 * applier's when it failed first, else pull_rc with *err as it is. Frees
 * u.
 */
int pull_unpack_finish(pull_unpack *u, int pull_rc, berth_unpack_result *res,
		       berth_error **err);

#endif
