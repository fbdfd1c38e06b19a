#include "archive/tar_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/archive_dl.h"
#include "util/error.h"
#include "util/xalloc.h"

struct tar_writer {
	const berth_archive_api *A;
	struct archive *a;
	struct archive_entry *e;
	bool open; /* archive_write_open_fd succeeded */
};

static int
fail(tar_writer *t, berth_error **err)
{
	int e = t->A->errno_(t->a);
	const char *msg = t->A->error_string(t->a);

	berth_error_set(err, BERTH_EIO, e > 0 ? e : 0,
			"cannot write the archive: %s",
			e > 0 ? strerror(e)
			: msg ? msg
			      : "unknown error");
	if (e == ENOSPC || e == EDQUOT)
		berth_error_hint(err, "free space where the archive goes, or "
				      "write it elsewhere with -o");
	return BERTH_EIO;
}

int
tar_writer_new(tar_writer **out, int fd, berth_error **err)
{
	tar_writer *t = xcalloc(1, sizeof(*t));
	int r = berth_archive_api_get(&t->A, err);

	if (r < 0) {
		free(t);
		return r;
	}
	t->a = t->A->write_new();
	t->e = t->A->entry_new();
	t->A->write_set_format_pax_restricted(t->a);
	/* No padding to a 10 KiB block after the trailer: a pipe's reader
	 * sees the archive end where it ends. */
	t->A->write_set_bytes_in_last_block(t->a, 1);
	if (t->A->write_open_fd(t->a, fd) != ARCHIVE_OK) {
		r = fail(t, err);
		tar_writer_free(t);
		return r;
	}
	t->open = true;
	*out = t;
	return 0;
}

static int
header(tar_writer *t, const char *name, unsigned type, int mode, int64_t size,
       const char *link, time_t mtime, berth_error **err)
{
	const berth_archive_api *A = t->A;

	A->entry_clear(t->e);
	A->entry_set_pathname(t->e, name);
	A->entry_set_filetype(t->e, type);
	A->entry_set_perm(t->e, (mode_t)mode);
	A->entry_set_size(t->e, size);
	A->entry_set_mtime(t->e, mtime, 0);
	if (link)
		A->entry_set_symlink(t->e, link);
	if (A->write_header(t->a, t->e) != ARCHIVE_OK)
		return fail(t, err);
	return 0;
}

int
tar_writer_dir(tar_writer *t, const char *name, time_t mtime, berth_error **err)
{
	return header(t, name, AE_IFDIR, 0755, 0, NULL, mtime, err);
}

int
tar_writer_symlink(tar_writer *t, const char *name, const char *target,
		   time_t mtime, berth_error **err)
{
	return header(t, name, AE_IFLNK, 0777, 0, target, mtime, err);
}

int
tar_writer_begin(tar_writer *t, const char *name, int64_t size, time_t mtime,
		 berth_error **err)
{
	return header(t, name, AE_IFREG, 0644, size, NULL, mtime, err);
}

int
tar_writer_data(tar_writer *t, const void *p, size_t len, berth_error **err)
{
	while (len > 0) {
		la_ssize_t n = t->A->write_data(t->a, p, len);

		if (n <= 0)
			return fail(t, err);
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

int
tar_writer_mem(tar_writer *t, const char *name, const void *p, size_t len,
	       time_t mtime, berth_error **err)
{
	int r = tar_writer_begin(t, name, (int64_t)len, mtime, err);

	return r < 0 ? r : tar_writer_data(t, p, len, err);
}

int
tar_writer_close(tar_writer *t, berth_error **err)
{
	t->open = false;
	if (t->A->write_close(t->a) != ARCHIVE_OK)
		return fail(t, err);
	return 0;
}

void
tar_writer_free(tar_writer *t)
{
	if (t == NULL)
		return;
	if (t->a)
		t->A->write_free(t->a);
	if (t->e)
		t->A->entry_free(t->e);
	free(t);
}
