/* Plain file I/O the library and the server repeat, written once. */
#ifndef BERTH_LIB_UTIL_FILEIO_H
#define BERTH_LIB_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berth/common.h"

/*
 * Writes all `len` bytes, going on after short writes and EINTR. Returns 0,
 * or the errno of the failure (EIO when write made no progress); the caller
 * words the error.
 */
int berth_write_full(int fd, const void *p, size_t len);

typedef struct berth_file_replace_opts {
	mode_t mode; /* of the new file, whatever the umask; 0 means 0644 */
	/* fsync the file before the rename and its directory after, so the
	 * new content survives a crash; off, readers still never see a part */
	bool sync;
	/* where the temporary file goes, on the same file system as path;
	 * NULL: path's own directory */
	const char *tmp_dir;
	/* its name up to "<pid>-XXXXXX", for sweeps that find leftovers by
	 * prefix; NULL: ".<name of path>.tmp-" */
	const char *tmp_prefix;
} berth_file_replace_opts;

/*
 * Replaces `path` by `len` bytes atomically: a temporary file is written
 * (and with opts->sync flushed), then renamed over path (and with sync
 * the directory flushed). Readers see the old content or the new, never a
 * mix; on failure the temporary file is removed and path is untouched.
 * opts may be NULL (0644, no sync). Errors are BERTH_EIO, "cannot <step>
 * '<file>': <reason>" with sys_errno set, for the caller to add a hint.
 */
int berth_file_replace(const char *path, const void *data, size_t len,
		       const berth_file_replace_opts *opts, berth_error **err);

/* Opens and fsyncs a directory, so a rename in it is durable: 0 or errno. */
int berth_fsync_dir(const char *dir);

/*
 * Reads the whole file at path, at most `max` bytes, into *out (malloc'd,
 * NUL-terminated after *len bytes). Returns 0, ENOENT and other errnos of
 * open and read, or EFBIG when the file is longer than max (then *len is
 * its size, or max + 1 when that is not known); the caller words the
 * error. *out is NULL whenever the result is not 0.
 */
int berth_file_read(char **out, size_t *len, const char *path, size_t max);

#endif
