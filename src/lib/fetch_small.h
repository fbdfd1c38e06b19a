/* A small blob fetched into memory, for the jobs that read configs. */
#ifndef BERTH_LIB_FETCH_SMALL_H
#define BERTH_LIB_FETCH_SMALL_H

#include "berth/registry.h"
#include "util/buf.h"

/* Downloads blob `d` of `repo` into *out (at most 16 MiB) and checks its
 * digest (BERTH_EDIGEST otherwise); *out is the caller's on success. */
int fetch_small_blob(berth_buf *out, berth_registry *reg, const char *repo,
		     const berth_descriptor *d, berth_error **err);

#endif
