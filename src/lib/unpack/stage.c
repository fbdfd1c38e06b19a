#include "unpack/stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack/remove.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define STAGE_INFIX ".berth-stage-"
#define LOCK_SUFFIX ".berth-lock"

struct berth_stage {
	char *dir;	 /* as given */
	char *base;	 /* its last component */
	char *stage;	 /* the staging directory's path */
	char *lock_name; /* in parent */
	int parent;	 /* O_PATH */
	int lock;
	int fd;
};

static void
stage_free(berth_stage *s)
{
	free(s->dir);
	free(s->base);
	free(s->stage);
	free(s->lock_name);
	if (s->fd >= 0)
		close(s->fd);
	if (s->parent >= 0)
		close(s->parent);
	free(s);
}

/* The lock file, held; retried when a run that was done unlinked it. */
static int
take_lock(berth_stage *s, berth_error **err)
{
	for (;;) {
		struct stat a, b;
		int fd =
			openat(s->parent, s->lock_name,
			       O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return berth_error_set(err, BERTH_EIO, errno,
					       "cannot create the lock file "
					       "beside '%s': %s",
					       s->dir, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;

			close(fd);
			if (e == EWOULDBLOCK) {
				berth_error_set(err, BERTH_EEXIST, e,
						"another berth is unpacking "
						"into '%s'",
						s->dir);
				berth_error_hint(err, "wait for it to finish, "
						      "or unpack elsewhere");
				return BERTH_EEXIST;
			}
			return berth_error_set(err, BERTH_EIO, e,
					       "cannot lock '%s': %s",
					       s->lock_name, strerror(e));
		}
		if (fstat(fd, &a) == 0 &&
		    fstatat(s->parent, s->lock_name, &b, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			s->lock = fd;
			return 0;
		}
		close(fd);
	}
}

/* Under the lock, every staging directory for dir is a dead run's. */
static void
remove_stale(berth_stage *s)
{
	int fd = openat(s->parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	_cleanup_free_ char *prefix = xasprintf(".%s" STAGE_INFIX, s->base);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			berth_remove_tree(s->parent, e->d_name);
	closedir(d);
}

static bool
is_empty_dir(int parent, const char *name)
{
	int fd = openat(parent, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	bool empty = true;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static void
unlock(berth_stage *s)
{
	if (s->lock < 0)
		return;
	unlinkat(s->parent, s->lock_name, 0);
	close(s->lock);
	s->lock = -1;
}

int
berth_stage_begin(berth_stage **out, const char *dir, bool force,
		  berth_error **err)
{
	berth_stage *s = xcalloc(1, sizeof(*s));
	_cleanup_free_ char *path = xstrdup(dir), *parent = NULL;
	char *slash, tmpl[PATH_MAX];
	struct stat st;
	int r;

	s->parent = s->lock = s->fd = -1;
	s->dir = xstrdup(dir);
	for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
		path[n - 1] = '\0';
	slash = strrchr(path, '/');
	parent = slash ? xstrndup(path, slash == path ? 1 : slash - path)
		       : xstrdup(".");
	s->base = xstrdup(slash ? slash + 1 : path);
	if (!s->base[0] || strcmp(s->base, ".") == 0 ||
	    strcmp(s->base, "..") == 0 || strcmp(s->base, "/") == 0) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "cannot unpack into '%s': name a directory "
				    "by its own name",
				    dir);
		berth_error_hint(err, "e.g. 'berth unpack IMAGE ./rootfs'");
		goto fail;
	}
	s->parent = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->parent < 0) {
		r = berth_error_set(
			err, errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
			errno,
			"cannot open '%s', the directory "
			"'%s' goes in: %s",
			parent, dir, strerror(errno));
		berth_error_hint(err, "create it first (mkdir -p '%s')",
				 parent);
		goto fail;
	}
	if (fstatat(s->parent, s->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			r = berth_error_set(
				err, BERTH_EEXIST, 0,
				"'%s' exists and is not a directory", dir);
			berth_error_hint(err, "remove it, or unpack elsewhere");
			goto fail;
		}
		if (!force && !is_empty_dir(s->parent, s->base)) {
			r = berth_error_set(err, BERTH_EEXIST, 0,
					    "'%s' is not empty", dir);
			berth_error_hint(
				err, "use --force to replace what it holds, "
				     "or unpack into an empty directory");
			goto fail;
		}
	}
	s->lock_name = xasprintf(".%s" LOCK_SUFFIX, s->base);
	if ((r = take_lock(s, err)) < 0)
		goto fail;
	remove_stale(s);
	snprintf(tmpl, sizeof(tmpl), "%s/.%s" STAGE_INFIX "XXXXXX", parent,
		 s->base);
	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0755) < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot create a staging directory beside "
				    "'%s': %s",
				    dir, strerror(errno));
		goto fail;
	}
	s->stage = xstrdup(tmpl);
	s->fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0) {
		r = berth_error_set(err, BERTH_EIO, errno,
				    "cannot open '%s': %s", tmpl,
				    strerror(errno));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	berth_stage_abort(s);
	return r;
}

int
berth_stage_fd(const berth_stage *s)
{
	return s->fd;
}

const char *
berth_stage_path(const berth_stage *s)
{
	return s->stage;
}

int
berth_stage_commit(berth_stage *s, berth_error **err)
{
	const char *name = strrchr(s->stage, '/') + 1;
	int r = 0;

	/* Onto a missing or empty DIR in one rename; onto a full one by
	 * exchanging the two, so DIR is never missing, then removing. */
	if (renameat(s->parent, name, s->parent, s->base) < 0) {
		if ((errno != ENOTEMPTY && errno != EEXIST) ||
		    renameat2(s->parent, name, s->parent, s->base,
			      RENAME_EXCHANGE) < 0) {
			r = berth_error_set(err, BERTH_EIO, errno,
					    "cannot move '%s' into place as "
					    "'%s': %s",
					    s->stage, s->dir, strerror(errno));
			berth_stage_abort(s);
			return r;
		}
	}
	berth_remove_tree(s->parent, name);
	fsync(s->fd);
	unlock(s);
	stage_free(s);
	return 0;
}

void
berth_stage_abort(berth_stage *s)
{
	if (s == NULL)
		return;
	if (s->stage)
		berth_remove_tree(s->parent, strrchr(s->stage, '/') + 1);
	unlock(s);
	stage_free(s);
}
