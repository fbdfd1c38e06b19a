/*
 * Tar entries to a file tree, as docker's overlay2 result and umoci have
 * it: an entry replaces whatever is at its path unless both are
 * directories (then they merge); whiteouts remove from lower layers only;
 * owners are set before modes (chown clears setuid/setgid) and xattrs
 * after owners (chown clears security.capability); directory times last.
 */
#include "unpack/apply.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/log.h"
#include "unpack/remove.h"
#include "unpack/resolve.h"
#include "util/archive_dl.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/hmap.h"
#include "util/str.h"
#include "util/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."
/* The paths a layer wrote: small at first (most layers are), the table
 * grows with the layer. */
#define LAYER_PATHS_BUCKETS 256

/* Directory metadata set once the last layer is in (berth_apply_finish). */
struct dir_meta {
	char *path;
	struct timespec ts[2];
	mode_t mode; /* rootless: applied at the end, so we can write below */
};

struct berth_apply {
	berth_resolver r;
	berth_apply_opts o;
	const berth_archive_api *A;
	uint64_t entries;
	int64_t bytes;
	berth_hmap *layer_paths; /* paths this layer wrote */
	struct dir_meta *dirs;
	size_t n_dirs, cap_dirs;
	/* the entry being applied, for messages */
	const char *what;
	char shown[160];
};

/* The name as a message shows it (berth_str_quote), at most ~150 bytes. */
static void
show_name(char out[160], const char *name)
{
	_cleanup_free_ char *q = berth_str_quote(name, strlen(name), 150);

	snprintf(out, 160, "%s", q);
}

/* One refusal: "<layer>: entry '<name>': <cause>", and the remedy. */
static int __attribute__((format(printf, 6, 7)))
refuse(berth_apply *a, berth_error **err, int code, int e, const char *hint,
       const char *fmt, ...)
{
	char cause[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	berth_error_set(err, code, e, "%s: entry '%s': %s", a->what, a->shown,
			cause);
	if (hint)
		berth_error_hint(err, "%s", hint);
	return code;
}

static const char hint_hostile[] =
	"the layer is malformed or hostile; berth writes nothing outside the "
	"destination and stops here";

/* A failure of the file system under the root (disk full and the like). */
static int
io_fail(berth_apply *a, berth_error **err, const char *op)
{
	int e = errno;

	if (e == ENOSPC || e == EDQUOT)
		return refuse(a, err, BERTH_EIO, e,
			      "free space on the destination's file system, "
			      "or unpack elsewhere",
			      "%s: no space left on the file system", op);
	return refuse(a, err, BERTH_EIO, e, NULL, "%s: %s", op, strerror(e));
}

/* A berth_resolve_* failure, given the layer and entry. */
static int
resolve_fail(berth_apply *a, berth_error **err, int r)
{
	/* A missing directory here is a link to nowhere in the layer. */
	if (r == BERTH_ENOTFOUND) {
		r = BERTH_EPROTO;
		if (err && *err)
			(*err)->code = r;
	}
	berth_error_wrap(err, r, "%s: entry '%s'", a->what, a->shown);
	if (err && *err && (*err)->hint == NULL && r == BERTH_EPROTO)
		berth_error_hint(err, "%s", hint_hostile);
	return r;
}

int
berth_apply_new(berth_apply **out, int root_fd, const berth_apply_opts *o,
		berth_error **err)
{
	_cleanup_free_ berth_apply *a = xcalloc(1, sizeof(*a));
	int r;

	if ((r = berth_archive_api_get(&a->A, err)) < 0)
		return r;
	if ((r = berth_resolver_init(&a->r, root_fd, o->resolve, err)) < 0)
		return r;
	a->o = *o;
	a->layer_paths = berth_hmap_new(LAYER_PATHS_BUCKETS);
	*out = steal_ptr(&a);
	return 0;
}

void
berth_apply_free(berth_apply *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_dirs; i++)
		free(a->dirs[i].path);
	free(a->dirs);
	berth_hmap_free(a->layer_paths, NULL);
	free(a);
}

uint64_t
berth_apply_entries(const berth_apply *a)
{
	return a->entries;
}

int64_t
berth_apply_bytes(const berth_apply *a)
{
	return a->bytes;
}

static bool
in_layer(const berth_apply *a, const char *path)
{
	return berth_hmap_get(a->layer_paths, path) != NULL;
}

static void
mark(berth_apply *a, const char *path)
{
	if (!in_layer(a, path))
		berth_hmap_put(a->layer_paths, path, (void *)1);
}

static void
entry_times(const berth_apply *a, struct archive_entry *e,
	    struct timespec ts[2])
{
	const berth_archive_api *A = a->A;

	ts[1].tv_sec = A->entry_mtime(e);
	ts[1].tv_nsec = A->entry_mtime_nsec(e);
	if (!A->entry_mtime_is_set(e))
		ts[1].tv_nsec = UTIME_OMIT;
	ts[0] = ts[1];
	if (A->entry_atime_is_set(e)) {
		ts[0].tv_sec = A->entry_atime(e);
		ts[0].tv_nsec = A->entry_atime_nsec(e);
	}
}

/*
 * Sets one xattr on fd, or (fd < 0) on dirfd's entry leaf itself, not
 * what it points to: there is no fd to set it through for symbolic links,
 * device nodes and FIFOs (opening a FIFO blocks, a device has side
 * effects), and no *xattrat call. /proc/self/fd/DIRFD is the directory
 * already resolved inside the root, and leaf one component, not followed.
 */
static int
set_xattr(int fd, int dirfd, const char *leaf, const char *name,
	  const void *val, size_t size)
{
	char path[PATH_MAX];

	if (fd >= 0)
		return fsetxattr(fd, name, val, size, 0);
	if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, leaf) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (lsetxattr(path, name, val, size, 0) == 0)
		return 0;
	if (errno == ENOENT && access("/proc/self/fd", F_OK) < 0)
		errno = ENOTSUP; /* no /proc: as a file system without xattrs */
	return -1;
}

/*
 * xattrs from pax SCHILY.xattr / LIBARCHIVE.xattr records, on fd or (fd <
 * 0) on dirfd's leaf. What the file system or our privileges refuse
 * (ENOTSUP, EPERM: user.* on a symbolic link) is a warning, as docker has
 * it; anything else stops.
 */
static int
set_xattrs(berth_apply *a, int fd, int dirfd, const char *leaf,
	   struct archive_entry *e, berth_error **err)
{
	const berth_archive_api *A = a->A;
	const char *name;
	const void *val;
	size_t size;

	A->entry_xattr_reset(e);
	while (A->entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (set_xattr(fd, dirfd, leaf, name, val, size) == 0)
			continue;
		if (errno == ENOTSUP || errno == EPERM || errno == EACCES) {
			berth_log(BERTH_LOG_WARN,
				  "%s: entry '%s': extended attribute '%s' "
				  "not set: %s",
				  a->what, a->shown, name, strerror(errno));
			continue;
		}
		if (errno == ENOSPC || errno == EDQUOT)
			return io_fail(a, err, "setting extended attributes");
		return refuse(a, err, BERTH_EPROTO, errno, hint_hostile,
			      "extended attribute '%s' cannot be set: %s", name,
			      strerror(errno));
	}
	return 0;
}

/* Owner, xattrs, then mode: the order the kernel's side effects ask. */
static int
set_meta_fd(berth_apply *a, int fd, struct archive_entry *e, mode_t perm,
	    berth_error **err)
{
	int r;

	if (!a->o.rootless && fchown(fd, (uid_t)a->A->entry_uid(e),
				     (gid_t)a->A->entry_gid(e)) < 0)
		return io_fail(a, err, "setting the owner");
	if ((r = set_xattrs(a, fd, -1, NULL, e, err)) < 0)
		return r;
	if (fchmod(fd, perm) < 0)
		return io_fail(a, err, "setting the mode");
	return 0;
}

static int
write_data(berth_apply *a, struct archive *ar, int fd, int64_t size,
	   berth_error **err)
{
	const berth_archive_api *A = a->A;
	int64_t end = 0; /* past the last byte written */

	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = A->read_data_block(ar, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return BERTH_EPROTO; /* the caller reports it */
		if (a->o.max_size && a->bytes + (int64_t)len > a->o.max_size)
			return refuse(a, err, BERTH_ETOOBIG, 0,
				      "raise --max-unpacked-size if the image "
				      "is trusted",
				      "the image unpacks to more than %lld "
				      "bytes (the --max-unpacked-size limit)",
				      (long long)a->o.max_size);
		for (size_t done = 0; done < len;) {
			ssize_t n = pwrite(fd, (const char *)buf + done,
					   len - done, off + (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return io_fail(a, err, "writing");
			done += (size_t)n;
		}
		a->bytes += (int64_t)len;
		if (len > 0)
			end = (int64_t)off + (int64_t)len;
	}
	/* Sparse files end in a hole libarchive does not deliver; a file
	 * written to its end needs no call. */
	if (end != size && ftruncate(fd, size) < 0)
		return io_fail(a, err, "setting the size");
	return 0;
}

static int
make_file(berth_apply *a, struct archive *ar, struct archive_entry *e,
	  int dirfd, const char *leaf, berth_error **err)
{
	_cleanup_close_ int fd = openat(
		dirfd, leaf,
		O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct timespec ts[2];
	int r;

	if (fd < 0)
		return io_fail(a, err, "creating the file");
	if ((r = write_data(a, ar, fd, a->A->entry_size(e), err)) < 0)
		return r;
	if ((r = set_meta_fd(a, fd, e, a->A->entry_perm(e), err)) < 0)
		return r;
	entry_times(a, e, ts);
	if (futimens(fd, ts) < 0)
		return io_fail(a, err, "setting the times");
	return 0;
}

static int
make_dir(berth_apply *a, struct archive_entry *e, int dirfd, const char *leaf,
	 const char *path, bool exists, berth_error **err)
{
	_cleanup_close_ int fd = -1;
	mode_t perm = a->A->entry_perm(e);
	struct dir_meta *m;
	int r;

	if (!exists && mkdirat(dirfd, leaf, 0700) < 0)
		return io_fail(a, err, "creating the directory");
	fd = openat(dirfd, leaf,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return io_fail(a, err, "opening the directory");
	/* Rootless, a directory stays writable to us until the end. */
	if ((r = set_meta_fd(a, fd, e, a->o.rootless ? 0700 : perm, err)) < 0)
		return r;
	if (a->n_dirs == a->cap_dirs) {
		a->cap_dirs = a->cap_dirs ? 2 * a->cap_dirs : 64;
		a->dirs = xreallocarray(a->dirs, a->cap_dirs, sizeof(*a->dirs));
	}
	m = &a->dirs[a->n_dirs++];
	m->path = xstrdup(path);
	m->mode = perm;
	entry_times(a, e, m->ts);
	return 0;
}

/*
 * Symbolic links, device nodes and FIFOs: no fd to set things through.
 * Owner, xattrs, then mode, as set_meta_fd.
 */
static int
set_meta_at(berth_apply *a, struct archive_entry *e, int dirfd,
	    const char *leaf, bool is_link, berth_error **err)
{
	struct timespec ts[2];
	int r;

	if (!a->o.rootless &&
	    fchownat(dirfd, leaf, (uid_t)a->A->entry_uid(e),
		     (gid_t)a->A->entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return io_fail(a, err, "setting the owner");
	if ((r = set_xattrs(a, -1, dirfd, leaf, e, err)) < 0)
		return r;
	if (!is_link && fchmodat(dirfd, leaf, a->A->entry_perm(e), 0) < 0)
		return io_fail(a, err, "setting the mode");
	entry_times(a, e, ts);
	if (utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return io_fail(a, err, "setting the times");
	return 0;
}

static int
make_hardlink(berth_apply *a, struct archive_entry *e, int dirfd,
	      const char *leaf, const char *path, berth_error **err)
{
	const char *raw = a->A->entry_hardlink(e);
	char target[PATH_MAX];
	_cleanup_close_ int tdir = -1;
	const char *tleaf;
	struct stat st;
	int r;

	if ((r = berth_resolve_clean(target, raw, strlen(raw), err)) < 0)
		return resolve_fail(
			a, err, berth_error_wrap(err, r, "hard link target"));
	if (target[0] == '\0' || strcmp(target, path) == 0)
		return refuse(a, err, BERTH_EPROTO, 0, hint_hostile,
			      "a hard link to '%s' links to itself or the root",
			      raw);
	r = berth_resolve_parent(&tdir, &tleaf, &a->r, target, false, err);
	if (r == 0 && fstatat(tdir, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = BERTH_ENOTFOUND;
	if (r == BERTH_ENOTFOUND)
		return refuse(a, err, BERTH_EPROTO, 0, hint_hostile,
			      "hard link target '%s' does not exist", target);
	if (r < 0)
		return resolve_fail(a, err, r);
	if (S_ISDIR(st.st_mode))
		return refuse(a, err, BERTH_EPROTO, 0, hint_hostile,
			      "hard link target '%s' is a directory", target);
	if (linkat(tdir, tleaf, dirfd, leaf, 0) < 0)
		return io_fail(a, err, "creating the hard link");
	return 0;
}

static int
make_node(berth_apply *a, struct archive_entry *e, int dirfd, const char *leaf,
	  mode_t type, berth_error **err)
{
	dev_t dev = 0;

	if (type != S_IFIFO) {
		if (a->o.rootless) {
			berth_log(BERTH_LOG_WARN,
				  "%s: entry '%s': device node skipped "
				  "(--rootless cannot create it)",
				  a->what, a->shown);
			return 1;
		}
		dev = makedev(a->A->entry_rdevmajor(e),
			      a->A->entry_rdevminor(e));
	}
	if (mknodat(dirfd, leaf, type | 0600, dev) < 0)
		return io_fail(a, err,
			       type == S_IFIFO ? "creating the FIFO"
					       : "creating the device");
	return set_meta_at(a, e, dirfd, leaf, false, err);
}

/* Removes what lower layers left in dir but this layer did not write. */
static int
opaque(berth_apply *a, int dfd, char *path, size_t plen, berth_error **err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return io_fail(a, err, "reading the opaque directory");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				names = xreallocarray(names, cap,
						      sizeof(*names));
			}
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		size_t l =
			plen ? (size_t)snprintf(path + plen, PATH_MAX - plen,
						"/%s", names[i])
			     : (size_t)snprintf(path, PATH_MAX, "%s", names[i]);
		struct stat st;

		if (r < 0 || plen + l >= PATH_MAX)
			continue;
		if (!in_layer(a, path)) {
			if (berth_remove_tree(dfd, names[i]) < 0)
				r = io_fail(a, err,
					    "removing below an opaque "
					    "directory");
		} else if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) ==
				   0 &&
			   S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, names[i],
					 O_PATH | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);

			if (sub < 0)
				r = io_fail(a, err, "opening a directory");
			else {
				r = opaque(a, sub, path, plen + l, err);
				close(sub);
			}
		}
		path[plen] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int
whiteout(berth_apply *a, const char *path, const char *base, berth_error **err)
{
	char victim[PATH_MAX];
	_cleanup_close_ int dfd = -1;
	size_t dlen = (size_t)(base - path);
	int r;

	/* path's directory ("" is the root), then what is hidden in it */
	snprintf(victim, sizeof(victim), "%.*s", dlen ? (int)dlen - 1 : 0,
		 path);
	if (strcmp(base, WH_OPAQUE) == 0) {
		r = berth_resolve_dir(&dfd, &a->r, victim, false, err);
		if (r == BERTH_ENOTFOUND)
			return 0;
		if (r < 0)
			return resolve_fail(a, err, r);
		return opaque(a, dfd, victim, strlen(victim), err);
	}
	if (strncmp(base, WH_META, strlen(WH_META)) == 0)
		return 0; /* aufs bookkeeping (.wh..wh.plnk), as docker skips */
	const char *name = base + strlen(WH_PREFIX);

	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return refuse(a, err, BERTH_EPROTO, 0, hint_hostile,
			      "a whiteout must name a file, not '%s'", name);
	r = berth_resolve_dir(&dfd, &a->r, victim, false, err);
	if (r == BERTH_ENOTFOUND)
		return 0;
	if (r < 0)
		return resolve_fail(a, err, r);
	snprintf(victim + strlen(victim), sizeof(victim) - strlen(victim),
		 "%s%s", victim[0] ? "/" : "", name);
	/* Only lower layers' files are hidden (image-spec). */
	if (in_layer(a, victim))
		return 0;
	if (berth_remove_tree(dfd, name) < 0)
		return io_fail(a, err, "removing the whited-out file");
	return 0;
}

static int
apply_entry(berth_apply *a, struct archive *ar, struct archive_entry *e,
	    berth_error **err)
{
	const berth_archive_api *A = a->A;
	const char *raw = A->entry_pathname(e), *base, *leaf;
	char path[PATH_MAX];
	_cleanup_close_ int dirfd = -1;
	mode_t type = A->entry_filetype(e);
	bool hard = A->entry_hardlink(e) != NULL, exists = false;
	struct stat st;
	int r;

	show_name(a->shown, raw ? raw : "");
	if (raw == NULL)
		return refuse(a, err, BERTH_EPROTO, 0, hint_hostile,
			      "the entry has no name");
	if (a->o.max_entries && ++a->entries > a->o.max_entries)
		return refuse(a, err, BERTH_ETOOBIG, 0,
			      "the image is not one berth unpacks; check where "
			      "it comes from",
			      "the image has more than %llu entries",
			      (unsigned long long)a->o.max_entries);
	if (!a->o.max_entries)
		a->entries++;
	if ((r = berth_resolve_clean(path, raw, strlen(raw), err)) < 0)
		return resolve_fail(a, err, r);
	if (path[0] == '\0')
		return 0; /* the root itself, which docker leaves as it is */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return whiteout(a, path, base, err);
	if ((r = berth_resolve_parent(&dirfd, &leaf, &a->r, path, true, err)) <
	    0)
		return resolve_fail(a, err, r);
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		exists = true;
		if (!(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hard)) {
			if (berth_remove_tree(dirfd, leaf) < 0)
				return io_fail(a, err,
					       "replacing what was "
					       "there");
			exists = false;
		}
	}
	if (hard)
		r = make_hardlink(a, e, dirfd, leaf, path, err);
	else if (type == AE_IFREG)
		r = make_file(a, ar, e, dirfd, leaf, err);
	else if (type == AE_IFDIR)
		r = make_dir(a, e, dirfd, leaf, path, exists, err);
	else if (type == AE_IFLNK) {
		const char *target = A->entry_symlink(e);

		if (symlinkat(target ? target : "", dirfd, leaf) < 0)
			return io_fail(a, err, "creating the symbolic link");
		r = set_meta_at(a, e, dirfd, leaf, true, err);
	} else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
		r = make_node(a, e, dirfd, leaf,
			      type == AE_IFCHR	 ? S_IFCHR
			      : type == AE_IFBLK ? S_IFBLK
						 : S_IFIFO,
			      err);
	else {
		berth_log(BERTH_LOG_WARN,
			  "%s: entry '%s': skipped: a socket or unknown type "
			  "(0%o) has no place in an image",
			  a->what, a->shown, (unsigned)type);
		return 0;
	}
	if (r < 0)
		return r;
	if (r == 0)
		mark(a, path);
	return 0;
}

/* libarchive's read callback over the caller's reader. */
struct source {
	const berth_archive_api *A;
	berth_apply_read_fn rd;
	void *ctx;
	berth_error *err;
	int code;
};

static la_ssize_t
source_read(struct archive *ar, void *ud, const void **buf)
{
	struct source *s = ud;
	ssize_t n = s->rd(s->ctx, buf, &s->err);

	if (n < 0) {
		s->code = (int)n;
		s->A->set_error(ar, EIO, "reading the layer failed");
		return -1;
	}
	return n;
}

static int
archive_fail(berth_apply *a, struct archive *ar, struct source *s,
	     bool in_entry, berth_error **err)
{
	if (s->code < 0) {
		int code = s->code;

		berth_error_move(err, &s->err, code);
		return berth_error_wrap(err, code, "%s", a->what);
	}
	if (in_entry)
		return refuse(a, err, BERTH_EPROTO, a->A->errno_(ar),
			      hint_hostile, "not a valid tar entry: %s",
			      a->A->error_string(ar));
	berth_error_set(err, BERTH_EPROTO, a->A->errno_(ar),
			"%s: not a valid tar archive: %s", a->what,
			a->A->error_string(ar) ? a->A->error_string(ar)
					       : "unreadable");
	berth_error_hint(err, "%s", hint_hostile);
	return BERTH_EPROTO;
}

int
berth_apply_layer(berth_apply *a, berth_apply_read_fn rd, void *ctx,
		  const char *what, berth_error **err)
{
	const berth_archive_api *A = a->A;
	struct source s = {A, rd, ctx, NULL, 0};
	struct archive *ar = A->read_new();
	struct archive_entry *e;
	int r = 0;

	a->what = what;
	berth_hmap_free(a->layer_paths, NULL);
	a->layer_paths = berth_hmap_new(LAYER_PATHS_BUCKETS);
	A->read_support_format_tar(ar);
	A->read_support_format_empty(ar);
	if (A->read_open(ar, &s, NULL, source_read, NULL) != ARCHIVE_OK) {
		r = archive_fail(a, ar, &s, false, err);
		goto out;
	}
	for (;;) {
		int h = A->read_next_header(ar, &e);

		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			r = archive_fail(a, ar, &s, false, err);
			goto out;
		}
		r = apply_entry(a, ar, e, err);
		if (r == BERTH_EPROTO && (err == NULL || *err == NULL))
			r = archive_fail(a, ar, &s, true, err);
		if (r < 0)
			goto out;
	}
	/* The diff ID covers every byte, padding after the trailer too. */
	for (;;) {
		const void *buf;
		ssize_t n = rd(ctx, &buf, err);

		if (n == 0)
			break;
		if (n < 0) {
			r = berth_error_wrap(err, (int)n, "%s", what);
			goto out;
		}
	}
out:
	A->read_free(ar);
	berth_error_free(s.err);
	return r;
}

int
berth_apply_finish(berth_apply *a, berth_error **err)
{
	for (size_t i = 0; i < a->n_dirs; i++) {
		struct dir_meta *m = &a->dirs[i];
		_cleanup_close_ int dfd = -1;
		berth_error *why = NULL;
		const char *leaf;
		struct stat st;
		int r = berth_resolve_parent(&dfd, &leaf, &a->r, m->path, false,
					     &why);

		show_name(a->shown, m->path);
		a->what = "finishing";
		/* A parent gone, or replaced by a file: the directory is gone.
		 */
		if (r == BERTH_ENOTFOUND ||
		    (r < 0 && why->sys_errno == ENOTDIR)) {
			berth_error_free(why);
			continue;
		}
		if (r < 0)
			return resolve_fail(a, err,
					    berth_error_move(err, &why, r));
		/* Gone or replaced by a later layer: nothing to set. */
		if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (a->o.rootless && fchmodat(dfd, leaf, m->mode, 0) < 0)
			return io_fail(a, err, "setting the mode");
		if (utimensat(dfd, leaf, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
			return io_fail(a, err, "setting the times");
	}
	return 0;
}
