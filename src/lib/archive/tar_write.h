/*
 * Writing an archive to a file descriptor through libarchive (pax
 * restricted: plain ustar headers unless a name needs more), entry by
 * entry, a file's data streamed in pieces after its header. Entries are
 * owned by root (0/0), directories 0755 and files 0644, as docker writes
 * them.
 */
#ifndef BERTH_LIB_ARCHIVE_TAR_WRITE_H
#define BERTH_LIB_ARCHIVE_TAR_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "berth/common.h"

typedef struct tar_writer tar_writer;

int tar_writer_new(tar_writer **out, int fd, berth_error **err);
int tar_writer_dir(tar_writer *t, const char *name, time_t mtime,
		   berth_error **err);
int tar_writer_symlink(tar_writer *t, const char *name, const char *target,
		       time_t mtime, berth_error **err);
/* A whole file held in memory. */
int tar_writer_mem(tar_writer *t, const char *name, const void *p, size_t len,
		   time_t mtime, berth_error **err);
/* A file of exactly `size` bytes, given by tar_writer_data calls. */
int tar_writer_begin(tar_writer *t, const char *name, int64_t size,
		     time_t mtime, berth_error **err);
int tar_writer_data(tar_writer *t, const void *p, size_t len,
		    berth_error **err);
/* Ends the archive (the trailer); the descriptor stays open. */
int tar_writer_close(tar_writer *t, berth_error **err);
void tar_writer_free(tar_writer *t);

#endif
