/* Plain file-descriptor I/O the library repeats. */
#ifndef BERTH_LIB_UTIL_FILEIO_H
#define BERTH_LIB_UTIL_FILEIO_H

#include <stddef.h>

/*
 * Writes all `len` bytes, going on after short writes and EINTR. Returns 0,
 * or the errno of the failure (EIO when write made no progress); the caller
 * words the error.
 */
int berth_write_full(int fd, const void *p, size_t len);

#endif
