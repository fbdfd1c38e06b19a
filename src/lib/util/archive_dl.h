/*
 * libarchive, loaded on first use. Only import (and later unpack) needs it,
 * and with libxml2 and ICU behind it, linking it would add about 5 ms and
 * 3 MiB to every berth command, pulls included.
 */
#ifndef BERTH_LIB_UTIL_ARCHIVE_DL_H
#define BERTH_LIB_UTIL_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "berth/common.h"

/* The functions berth uses, typed from libarchive's own prototypes. */
typedef struct berth_archive_api {
	__typeof__(archive_read_new) *read_new;
	__typeof__(archive_read_free) *read_free;
	__typeof__(archive_read_support_filter_all) *read_support_filter_all;
	__typeof__(archive_read_support_format_raw) *read_support_format_raw;
	__typeof__(archive_read_support_format_tar) *read_support_format_tar;
	__typeof__(archive_read_open_filename) *read_open_filename;
	__typeof__(archive_read_next_header) *read_next_header;
	__typeof__(archive_read_data_skip) *read_data_skip;
	__typeof__(archive_read_data_block) *read_data_block;
	__typeof__(archive_errno) *errno_;
	__typeof__(archive_error_string) *error_string;
	__typeof__(archive_set_error) *set_error;
	/* reading layers through callbacks (unpack/apply.c) */
	__typeof__(archive_read_open) *read_open;
	__typeof__(archive_read_support_format_empty)
		*read_support_format_empty;
	__typeof__(archive_entry_pathname) *entry_pathname;
	__typeof__(archive_entry_hardlink) *entry_hardlink;
	__typeof__(archive_entry_symlink) *entry_symlink;
	__typeof__(archive_entry_filetype) *entry_filetype;
	__typeof__(archive_entry_perm) *entry_perm;
	__typeof__(archive_entry_uid) *entry_uid;
	__typeof__(archive_entry_gid) *entry_gid;
	__typeof__(archive_entry_size) *entry_size;
	__typeof__(archive_entry_mtime) *entry_mtime;
	__typeof__(archive_entry_mtime_nsec) *entry_mtime_nsec;
	__typeof__(archive_entry_mtime_is_set) *entry_mtime_is_set;
	__typeof__(archive_entry_atime) *entry_atime;
	__typeof__(archive_entry_atime_nsec) *entry_atime_nsec;
	__typeof__(archive_entry_atime_is_set) *entry_atime_is_set;
	__typeof__(archive_entry_rdevmajor) *entry_rdevmajor;
	__typeof__(archive_entry_rdevminor) *entry_rdevminor;
	__typeof__(archive_entry_xattr_reset) *entry_xattr_reset;
	__typeof__(archive_entry_xattr_next) *entry_xattr_next;
	/* berth load: an archive read from a descriptor, entry by entry */
	__typeof__(archive_read_open_fd) *read_open_fd;
	/* berth save: archives written */
	__typeof__(archive_write_new) *write_new;
	__typeof__(archive_write_free) *write_free;
	__typeof__(archive_write_set_format_pax_restricted)
		*write_set_format_pax_restricted;
	__typeof__(archive_write_set_bytes_in_last_block)
		*write_set_bytes_in_last_block;
	__typeof__(archive_write_open_fd) *write_open_fd;
	__typeof__(archive_write_header) *write_header;
	__typeof__(archive_write_data) *write_data;
	__typeof__(archive_write_finish_entry) *write_finish_entry;
	__typeof__(archive_write_close) *write_close;
	__typeof__(archive_entry_new) *entry_new;
	__typeof__(archive_entry_free) *entry_free;
	__typeof__(archive_entry_clear) *entry_clear;
	__typeof__(archive_entry_set_pathname) *entry_set_pathname;
	__typeof__(archive_entry_set_size) *entry_set_size;
	__typeof__(archive_entry_set_filetype) *entry_set_filetype;
	__typeof__(archive_entry_set_perm) *entry_set_perm;
	__typeof__(archive_entry_set_mtime) *entry_set_mtime;
	__typeof__(archive_entry_set_symlink) *entry_set_symlink;
	/* berth scan: OSV's all.zip databases */
	__typeof__(archive_read_support_format_zip) *read_support_format_zip;
} berth_archive_api;

/*
 * The loaded API (thread-safe, loaded once). BERTH_EUNSUPPORTED when
 * libarchive is missing or lacks a function.
 */
int berth_archive_api_get(const berth_archive_api **out, berth_error **err);

#endif
