/*
 * Unpacking beside the destination: a staging directory next to DIR
 * (".DIR.berth-stage-<random>"), renamed onto DIR only when every layer
 * verified. A run holds the lock file ".DIR.berth-lock" (flock) from begin
 * to commit or abort, so a staging directory found by the lock's holder
 * belongs to a run that died, and is removed; a live run's never is.
 */
#ifndef BERTH_LIB_UNPACK_STAGE_H
#define BERTH_LIB_UNPACK_STAGE_H

#include "berth/common.h"

typedef struct berth_stage berth_stage;

/*
 * Creates the staging directory for `dir`. An existing non-empty dir is
 * BERTH_EEXIST unless force (then it is replaced on commit); its parent
 * must exist. Another run unpacking into dir is BERTH_EEXIST too.
 */
int berth_stage_begin(berth_stage **out, const char *dir, bool force,
		      berth_error **err);

/* The staging directory, open (O_DIRECTORY); owned by the stage. */
int berth_stage_fd(const berth_stage *s);

/* Its path (for messages). */
const char *berth_stage_path(const berth_stage *s);

/* Moves the staging directory onto dir (replacing it) and frees s. */
int berth_stage_commit(berth_stage *s, berth_error **err);

/* Removes the staging directory and frees s; NULL is a no-op. */
void berth_stage_abort(berth_stage *s);

#endif
