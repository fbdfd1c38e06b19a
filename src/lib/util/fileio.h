/* Plain file I/O the library and the server repeat, written once. */
#ifndef BERTH_LIB_UTIL_FILEIO_H
#define BERTH_LIB_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "berth/common.h"
#include "util/error.h"

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
	/* a symbolic link at path stays a link: the file it points at (after
	 * every link, even one to a file not yet there) is replaced, with
	 * its temporary file beside it, as docker writes config.json */
	bool through_links;
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
 * The one rule for opening a file berth reads (configuration, keys,
 * certificates, the store's own files): opened without blocking, so that
 * a FIFO in its place cannot hang berth, and refused unless it is a
 * regular file (a symbolic link to one is followed): BERTH_EUSAGE,
 * "'<path>' is a FIFO (named pipe), not a regular file", with a hint.
 * Returns the descriptor (blocking, close-on-exec) and fills *st (when
 * not NULL), or a negative code with *err set: BERTH_ENOTFOUND (sys_errno
 * ENOENT) for a missing file, BERTH_EIO for other failures.
 */
int berth_file_open(const char *path, struct stat *st, berth_error **err);

/* The same check for a file another library opens by its name (curl's
 * client certificate and key, OpenSSL's CA files): 0 for a regular file
 * or one that cannot be looked at (its opener reports that), else
 * berth_file_open's BERTH_EUSAGE. */
int berth_file_check_regular(const char *path, berth_error **err);

/*
 * Reads the whole file at path, at most `max` bytes, into *out (malloc'd,
 * NUL-terminated after *len bytes), opened by berth_file_open's rule.
 * Returns 0, berth_file_open's errors, BERTH_ETOOBIG (sys_errno EFBIG)
 * when the file is longer than max (then *len is its size, or max + 1
 * when that is not known), or BERTH_EIO for a failed read; the message
 * names the file. *out is NULL whenever the result is not 0.
 */
int berth_file_read(char **out, size_t *len, const char *path, size_t max,
		    berth_error **err);

/* The limit of a configuration file read whole (config.json, daemon.json,
 * berth's config, berth serve's config and policy). */
#define BERTH_CONFIG_FILE_MAX ((size_t)16 << 20)

#endif
