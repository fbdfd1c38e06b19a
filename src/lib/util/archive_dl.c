#include "util/archive_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "util/error.h"

#define LIBARCHIVE_SONAME "libarchive.so.13"

static berth_archive_api api;
static const char *missing; /* what failed to load, or NULL */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(field, fn) {#fn, offsetof(berth_archive_api, field)}
		SYM(read_new, archive_read_new),
		SYM(read_free, archive_read_free),
		SYM(read_support_filter_all, archive_read_support_filter_all),
		SYM(read_support_format_raw, archive_read_support_format_raw),
		SYM(read_support_format_tar, archive_read_support_format_tar),
		SYM(read_open_filename, archive_read_open_filename),
		SYM(read_next_header, archive_read_next_header),
		SYM(read_data_skip, archive_read_data_skip),
		SYM(read_data_block, archive_read_data_block),
		SYM(errno_, archive_errno),
		SYM(error_string, archive_error_string),
		SYM(set_error, archive_set_error),
		SYM(read_open, archive_read_open),
		SYM(read_support_format_empty,
		    archive_read_support_format_empty),
		SYM(entry_pathname, archive_entry_pathname),
		SYM(entry_hardlink, archive_entry_hardlink),
		SYM(entry_symlink, archive_entry_symlink),
		SYM(entry_filetype, archive_entry_filetype),
		SYM(entry_perm, archive_entry_perm),
		SYM(entry_uid, archive_entry_uid),
		SYM(entry_gid, archive_entry_gid),
		SYM(entry_size, archive_entry_size),
		SYM(entry_mtime, archive_entry_mtime),
		SYM(entry_mtime_nsec, archive_entry_mtime_nsec),
		SYM(entry_mtime_is_set, archive_entry_mtime_is_set),
		SYM(entry_atime, archive_entry_atime),
		SYM(entry_atime_nsec, archive_entry_atime_nsec),
		SYM(entry_atime_is_set, archive_entry_atime_is_set),
		SYM(entry_rdevmajor, archive_entry_rdevmajor),
		SYM(entry_rdevminor, archive_entry_rdevminor),
		SYM(entry_xattr_reset, archive_entry_xattr_reset),
		SYM(entry_xattr_next, archive_entry_xattr_next),
		SYM(read_open_fd, archive_read_open_fd),
		SYM(write_new, archive_write_new),
		SYM(write_free, archive_write_free),
		SYM(write_set_format_pax_restricted,
		    archive_write_set_format_pax_restricted),
		SYM(write_set_bytes_in_last_block,
		    archive_write_set_bytes_in_last_block),
		SYM(write_open_fd, archive_write_open_fd),
		SYM(write_header, archive_write_header),
		SYM(write_data, archive_write_data),
		SYM(write_finish_entry, archive_write_finish_entry),
		SYM(write_close, archive_write_close),
		SYM(entry_new, archive_entry_new),
		SYM(entry_free, archive_entry_free),
		SYM(entry_clear, archive_entry_clear),
		SYM(entry_set_pathname, archive_entry_set_pathname),
		SYM(entry_set_size, archive_entry_set_size),
		SYM(entry_set_filetype, archive_entry_set_filetype),
		SYM(entry_set_perm, archive_entry_set_perm),
		SYM(entry_set_mtime, archive_entry_set_mtime),
		SYM(entry_set_symlink, archive_entry_set_symlink),
		SYM(read_support_format_zip, archive_read_support_format_zip),
#undef SYM
	};
	void *h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		missing = LIBARCHIVE_SONAME;
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);

		if (p == NULL) {
			missing = syms[i].name;
			return;
		}
		*(void **)((char *)&api + syms[i].off) = p;
	}
}

int
berth_archive_api_get(const berth_archive_api **out, berth_error **err)
{
	pthread_once(&once, load);
	if (missing) {
		berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				"cannot load '%s' from libarchive", missing);
		berth_error_hint(err, "install libarchive 3 "
				      "(apt-get install libarchive13)");
		return BERTH_EUNSUPPORTED;
	}
	*out = &api;
	return 0;
}
