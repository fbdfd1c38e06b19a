/*
 * Paths of tar entries resolved inside the unpack root, never outside it.
 *
 * Names are first cleaned lexically (berth_resolve_clean): a leading "/"
 * and "." components are dropped, ".." removes the component before it,
 * and a ".." that would climb above the root is refused, as docker
 * refuses it. Directories are then opened with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), which follows symbolic links as if the root were
 * "/". Where openat2 is missing (ENOSYS, Linux before 5.6) or the walk is
 * asked for, a component-by-component O_NOFOLLOW walk does the same: it
 * reads each symbolic link and resolves its target itself, an absolute
 * target from the root and ".." never above it, so both modes give the
 * same tree (refusing links instead would make the walk unpack images
 * that openat2 unpacks differently, or not at all).
 *
 * The last component of an entry is never followed: the applier creates,
 * replaces or removes it with *at() calls in the directory resolved here.
 */
#ifndef BERTH_LIB_UNPACK_RESOLVE_H
#define BERTH_LIB_UNPACK_RESOLVE_H

#include <limits.h>

#include "berth/common.h"
#include "unpack/apply.h"

typedef struct berth_resolver {
	int root_fd;		 /* borrowed */
	berth_resolve_mode mode; /* OPENAT2 or WALK once initialised */
} berth_resolver;

/*
 * AUTO reads the diagnostic knob BERTH_UNPACK_RESOLVE ("openat2" or
 * "walk"; docs/unpack.md) and otherwise uses openat2 where the kernel has
 * it. OPENAT2 where the kernel lacks it is BERTH_EUNSUPPORTED.
 */
int berth_resolver_init(berth_resolver *r, int root_fd, berth_resolve_mode mode,
			berth_error **err);

/* "openat2" or "walk". */
const char *berth_resolve_mode_name(berth_resolve_mode mode);

/*
 * Cleans the entry name (name, len) into out, relative and without "." or
 * ".." components or trailing "/"; "" is the root itself. BERTH_EPROTO
 * when the name holds a NUL byte, is PATH_MAX bytes or longer, has a
 * component over NAME_MAX, or climbs above the root.
 */
int berth_resolve_clean(char out[PATH_MAX], const char *name, size_t len,
			berth_error **err);

/*
 * Opens (O_PATH | O_DIRECTORY) the directory `dir`, a cleaned path, inside
 * the root. With create, missing directories are made (mode 0755); a
 * symbolic link to a missing directory is still refused. Caller closes
 * *out. BERTH_ENOTFOUND when a component is missing and !create.
 */
int berth_resolve_dir(int *out, const berth_resolver *r, const char *dir,
		      bool create, berth_error **err);

/*
 * Splits a cleaned, non-empty path into the directory that holds it
 * (opened as berth_resolve_dir does) and its last component, which points
 * into path.
 */
int berth_resolve_parent(int *dirfd, const char **leaf, const berth_resolver *r,
			 const char *path, bool create, berth_error **err);

#endif
