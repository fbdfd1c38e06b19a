/*
 * Whole-file writes and reads: the short-write loop, atomic replacement by
 * rename, and capped reads of files that must not grow without bound.
 */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int
berth_write_full(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int
berth_fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	/* Some file systems cannot sync a directory; nothing to do there. */
	if (fsync(fd) < 0 && errno != EINVAL)
		return errno;
	return 0;
}

static int
io_error(berth_error **err, int e, const char *what, const char *file)
{
	return berth_error_set(err, BERTH_EIO, e, "cannot %s '%s': %s", what,
			       file, strerror(e));
}

/* What `path` names after following its symbolic links (caller frees);
 * the last one may point at nothing yet. */
static int
follow_links(char **out, const char *path, berth_error **err)
{
	_cleanup_free_ char *cur = xstrdup(path);

	for (int hops = 0; hops < 40; hops++) {
		char target[4096];
		ssize_t n = readlink(cur, target, sizeof(target) - 1);

		if (n < 0 && (errno == EINVAL || errno == ENOENT)) {
			*out = steal_ptr(&cur); /* not a link, or nothing */
			return 0;
		}
		if (n < 0)
			return io_error(err, errno, "read the link", cur);
		target[n] = '\0';
		if (target[0] == '/') {
			free(cur);
			cur = xstrdup(target);
		} else {
			_cleanup_free_ char *copy = xstrdup(cur);
			char *next = xasprintf("%s/%s", dirname(copy), target);

			free(cur);
			cur = next;
		}
	}
	return io_error(err, ELOOP, "follow the links of", path);
}

int
berth_file_replace(const char *path, const void *data, size_t len,
		   const berth_file_replace_opts *opts, berth_error **err)
{
	static const berth_file_replace_opts defaults = {0};
	const berth_file_replace_opts *o = opts ? opts : &defaults;
	_cleanup_free_ char *real = NULL;
	_cleanup_free_ char *copy1 = NULL, *copy2 = NULL;
	_cleanup_free_ char *tmp = NULL, *prefix = NULL;
	_cleanup_close_ int fd = -1;
	const char *dir;
	int e;

	if (o->through_links) {
		if ((e = follow_links(&real, path, err)) < 0)
			return e;
		path = real;
	}
	copy1 = xstrdup(path);
	copy2 = xstrdup(path);
	dir = dirname(copy1);

	prefix = o->tmp_prefix ? xstrdup(o->tmp_prefix)
			       : xasprintf(".%s.tmp-", basename(copy2));
	tmp = xasprintf("%s/%s%d-XXXXXX", o->tmp_dir ? o->tmp_dir : dir, prefix,
			(int)getpid());
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return io_error(err, errno, "create", tmp);
	if (fchmod(fd, o->mode ? o->mode : 0644) < 0) {
		e = errno;
		goto fail;
	}
	if ((e = berth_write_full(fd, data, len)) != 0) {
		unlink(tmp);
		return io_error(err, e, "write", tmp);
	}
	if (o->sync && fsync(fd) < 0) {
		e = errno;
		unlink(tmp);
		return io_error(err, e, "flush", tmp);
	}
	if (close(steal_fd(&fd)) < 0) {
		e = errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		return io_error(err, e, "replace", path);
	}
	if (o->sync && (e = berth_fsync_dir(dir)) != 0)
		return io_error(err, e, "flush directory", dir);
	return 0;
fail:
	unlink(tmp);
	return io_error(err, e, "write", tmp);
}

/* What a file that is not a regular one is, for the message. */
static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a file";
}

static int
not_regular(berth_error **err, const char *path, mode_t mode)
{
	berth_error_set(err, BERTH_EUSAGE, S_ISDIR(mode) ? EISDIR : 0,
			"'%s' is %s, not a regular file", path,
			file_kind(mode));
	berth_error_hint(err,
			 "put a regular file at '%s' (a symbolic link "
			 "to one will do), or remove it",
			 path);
	return BERTH_EUSAGE;
}

static int
open_error(berth_error **err, int e, const char *path)
{
	return berth_error_set(err, e == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
			       e, "cannot read '%s': %s", path, strerror(e));
}

int
berth_file_check_regular(const char *path, berth_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0; /* the opener tells, in its own words */
	return S_ISREG(st.st_mode) ? 0 : not_regular(err, path, st.st_mode);
}

int
berth_file_open(const char *path, struct stat *st, berth_error **err)
{
	_cleanup_close_ int fd = -1;
	struct stat local;

	if (st == NULL)
		st = &local;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return open_error(err, errno, path);
	if (fstat(fd, st) < 0)
		return open_error(err, errno, path);
	if (!S_ISREG(st->st_mode))
		return not_regular(err, path, st->st_mode);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return open_error(err, errno, path);
	return steal_fd(&fd);
}

int
berth_file_read(char **out, size_t *len, const char *path, size_t max,
		berth_error **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	size_t cap, off = 0;
	struct stat st;

	*out = NULL;
	*len = 0;
	fd = berth_file_open(path, &st, err);
	if (fd < 0)
		return fd;
	/* Refuse a file known to be too long before reading any of it; a
	 * file whose size stat does not know (/proc) is capped while read. */
	if ((uint64_t)st.st_size > (uint64_t)max) {
		*len = (size_t)st.st_size;
		goto too_big;
	}
	cap = st.st_size > 0 ? (size_t)st.st_size : 4096;
	if (cap > max)
		cap = max;
	data = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (off == cap) {
			if (off > max) {
				*len = off; /* it grew */
				goto too_big;
			}
			/* Room for one byte past max tells a file of max
			 * bytes from a longer one. */
			cap = cap > 0 && cap < max / 2 ? cap * 2 : max + 1;
			data = xrealloc(data, cap + 1);
		}
		n = read(fd, data + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return open_error(err, errno, path);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	data[off] = '\0';
	*out = steal_ptr(&data);
	*len = off;
	return 0;
too_big:
	return berth_error_set(err, BERTH_ETOOBIG, EFBIG,
			       "'%s' is over the limit of %zu bytes", path,
			       max);
}
