/*
 * Applying layer tar streams to a file tree, in order, as the OCI
 * image-spec's layer section and docker's overlay2 define the result:
 * whiteouts, opaque directories, hard links (also to files of earlier
 * layers), owners, modes, xattrs, device nodes, times. A layer is hostile
 * input: every path is resolved inside the root (unpack/resolve.h), so
 * nothing is ever written outside it.
 */
#ifndef BERTH_LIB_UNPACK_APPLY_H
#define BERTH_LIB_UNPACK_APPLY_H

#include <sys/types.h>

#include "berth/common.h"

/* Same shape as berth_layer_decoder_read, so a decoder plugs in directly:
 * >0 the length of the next block at *buf, 0 at the end, <0 a berth_code. */
typedef ssize_t (*berth_apply_read_fn)(void *ctx, const void **buf,
				       berth_error **err);

typedef enum berth_resolve_mode {
	BERTH_RESOLVE_AUTO,    /* openat2, or the walk where it is missing */
	BERTH_RESOLVE_OPENAT2, /* openat2(RESOLVE_IN_ROOT) only */
	BERTH_RESOLVE_WALK,    /* the component-by-component O_NOFOLLOW walk */
} berth_resolve_mode;

typedef struct berth_apply_opts {
	bool rootless;	      /* owners become the caller; no device nodes */
	int64_t max_size;     /* bytes of file data over all layers; 0: none */
	uint64_t max_entries; /* tar entries over all layers; 0: none */
	berth_resolve_mode resolve;
} berth_apply_opts;

typedef struct berth_apply berth_apply;

/* An applier writing into root_fd (borrowed; must stay open until free). */
int berth_apply_new(berth_apply **out, int root_fd, const berth_apply_opts *o,
		    berth_error **err);

/*
 * Applies one layer's tar (ustar, pax or gnu) read through rd, in order;
 * `what` names the layer in messages (e.g. "layer 3 (sha256:ab12…)").
 * A refusal is one error naming the layer and the entry.
 */
int berth_apply_layer(berth_apply *a, berth_apply_read_fn rd, void *ctx,
		      const char *what, berth_error **err);

/* After the last layer: directory times and other deferred work. */
int berth_apply_finish(berth_apply *a, berth_error **err);

/* Entries and file bytes applied so far. */
uint64_t berth_apply_entries(const berth_apply *a);
int64_t berth_apply_bytes(const berth_apply *a);

void berth_apply_free(berth_apply *a);

#endif
