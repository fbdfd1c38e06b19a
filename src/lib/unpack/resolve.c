#include "unpack/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* As the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40

static const int dir_flags = O_PATH | O_DIRECTORY | O_CLOEXEC;

const char *
berth_resolve_mode_name(berth_resolve_mode mode)
{
	return mode == BERTH_RESOLVE_WALK ? "walk" : "openat2";
}

static int
openat2_in_root(int root, const char *path)
{
	struct open_how how = {
		.flags = dir_flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	/* EAGAIN: a rename raced a ".." lookup; the kernel asks to retry. */
	for (int i = 0; i < 64; i++) {
		int fd = (int)syscall(SYS_openat2, root, path[0] ? path : ".",
				      &how, sizeof(how));

		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
	return -1;
}

static bool
have_openat2(int root)
{
	int fd = openat2_in_root(root, "");

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENOSYS;
}

int
berth_resolver_init(berth_resolver *r, int root_fd, berth_resolve_mode mode,
		    berth_error **err)
{
	const char *knob = getenv("BERTH_UNPACK_RESOLVE");

	r->root_fd = root_fd;
	if (mode == BERTH_RESOLVE_AUTO && knob && *knob) {
		if (strcmp(knob, "walk") == 0)
			mode = BERTH_RESOLVE_WALK;
		else if (strcmp(knob, "openat2") == 0)
			mode = BERTH_RESOLVE_OPENAT2;
		else {
			berth_error_set(err, BERTH_EUSAGE, 0,
					"BERTH_UNPACK_RESOLVE='%s' is neither "
					"'openat2' nor 'walk'",
					knob);
			berth_error_hint(err, "unset BERTH_UNPACK_RESOLVE");
			return BERTH_EUSAGE;
		}
	}
	if (mode == BERTH_RESOLVE_AUTO)
		mode = have_openat2(root_fd) ? BERTH_RESOLVE_OPENAT2
					     : BERTH_RESOLVE_WALK;
	else if (mode == BERTH_RESOLVE_OPENAT2 && !have_openat2(root_fd)) {
		berth_error_set(
			err, BERTH_EUNSUPPORTED, ENOSYS,
			"this kernel has no openat2 (Linux 5.6 or later)");
		berth_error_hint(err, "set BERTH_UNPACK_RESOLVE=walk");
		return BERTH_EUNSUPPORTED;
	}
	r->mode = mode;
	return 0;
}

int
berth_resolve_clean(char out[PATH_MAX], const char *name, size_t len,
		    berth_error **err)
{
	size_t o = 0;

	if (memchr(name, '\0', len))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "the name holds a NUL byte");
	if (len >= PATH_MAX)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "the name is %zu bytes, over PATH_MAX "
				       "(%d)",
				       len, PATH_MAX);
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && name[j] != '/')
			j++;
		size_t n = j - i;

		if (n == 0 || (n == 1 && name[i] == '.')) {
			/* "" or "." */
		} else if (n == 2 && name[i] == '.' && name[i + 1] == '.') {
			if (o == 0)
				return berth_error_set(
					err, BERTH_EPROTO, 0,
					"'..' climbs above the image root");
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (n > NAME_MAX) {
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "a component is %zu bytes, over "
					       "NAME_MAX (%d)",
					       n, NAME_MAX);
		} else {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, name + i, n);
			o += n;
		}
		i = j + 1;
	}
	out[o] = '\0';
	return 0;
}

static int
resolve_fail(berth_error **err, int e, const char *dir, const char *comp)
{
	switch (e) {
	case ENOENT:
		return berth_error_set(err, BERTH_ENOTFOUND, e,
				       "directory '%s' does not exist", dir);
	case ENOTDIR:
		return berth_error_set(err, BERTH_EPROTO, e,
				       "'%s' in '%s' is not a directory", comp,
				       dir);
	case ELOOP:
		return berth_error_set(err, BERTH_EPROTO, e,
				       "too many symbolic links in '%s'", dir);
	case ENAMETOOLONG:
		return berth_error_set(err, BERTH_EPROTO, e,
				       "'%s' resolves to a path over PATH_MAX",
				       dir);
	default:
		return berth_error_set(err, BERTH_EIO, e,
				       "cannot open directory '%s': %s", dir,
				       strerror(e));
	}
}

/* A missing directory made as docker makes it: 0755, whatever the umask. */
static int
make_dir(int parent, const char *name)
{
	if (mkdirat(parent, name, 0755) < 0)
		return errno == EEXIST ? 0 : -1;
	return fchmodat(parent, name, 0755, 0);
}

static int
dir_openat2(int *out, const berth_resolver *r, const char *dir, bool create,
	    berth_error **err)
{
	char buf[PATH_MAX];
	_cleanup_close_ int parent = -1;
	int fd = openat2_in_root(r->root_fd, dir);

	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return resolve_fail(err, errno, dir, dir);
		*out = fd;
		return 0;
	}
	/* Some component is missing: open prefix by prefix, making it. */
	snprintf(buf, sizeof(buf), "%s", dir);
	parent = openat2_in_root(r->root_fd, "");
	if (parent < 0)
		return resolve_fail(err, errno, dir, ".");
	for (size_t i = 0, n = strlen(buf); i < n;) {
		size_t j = i;
		struct stat st;

		while (j < n && buf[j] != '/')
			j++;
		buf[j] = '\0';
		fd = openat2_in_root(r->root_fd, buf);
		if (fd < 0 && errno == ENOENT) {
			const char *comp = buf + i;

			if (fstatat(parent, comp, &st, AT_SYMLINK_NOFOLLOW) ==
			    0)
				return resolve_fail(err, ENOENT, dir, comp);
			if (make_dir(parent, comp) < 0)
				return resolve_fail(err, errno, dir, comp);
			fd = openat2_in_root(r->root_fd, buf);
		}
		if (fd < 0)
			return resolve_fail(err, errno, dir, buf + i);
		close(parent);
		parent = fd;
		if (j < n)
			buf[j] = '/';
		i = j + 1;
	}
	*out = steal_fd(&parent);
	return 0;
}

/*
 * The walk: a stack of open directories (the root at the bottom, never
 * popped) and the rest of the path still to resolve. A symbolic link's
 * target replaces the link in the rest; `linked` counts the leading bytes
 * of the rest that came from link targets, where nothing is created.
 */
struct walk {
	int *fds;
	size_t n, cap;
};

static void
walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		close(w->fds[i]);
	free(w->fds);
}

static void
walk_push(struct walk *w, int fd)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->fds = xreallocarray(w->fds, w->cap, sizeof(int));
	}
	w->fds[w->n++] = fd;
}

static int
dir_walk(int *out, const berth_resolver *r, const char *dir, bool create,
	 berth_error **err)
{
	struct walk w = {0};
	_cleanup_free_ char *rest = xstrdup(dir);
	size_t pos = 0, linked = 0;
	unsigned links = 0;
	int fd = openat(r->root_fd, ".", dir_flags);
	int ret = 0;

	if (fd < 0)
		return resolve_fail(err, errno, dir, ".");
	walk_push(&w, fd);
	while (rest[pos]) {
		size_t start = pos, end = pos;
		bool from_link = linked > 0;
		struct stat st;
		char comp[NAME_MAX + 1];

		while (rest[end] && rest[end] != '/')
			end++;
		pos = rest[end] ? end + 1 : end;
		linked = linked > pos - start ? linked - (pos - start) : 0;
		if (end - start > NAME_MAX) {
			ret = resolve_fail(err, ENAMETOOLONG, dir, dir);
			goto out;
		}
		memcpy(comp, rest + start, end - start);
		comp[end - start] = '\0';
		if (comp[0] == '\0' || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (w.n > 1)
				close(w.fds[--w.n]);
			continue;
		}
		int top = w.fds[w.n - 1];

		fd = openat(top, comp, dir_flags | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT && create && !from_link) {
			if (make_dir(top, comp) < 0) {
				ret = resolve_fail(err, errno, dir, comp);
				goto out;
			}
			fd = openat(top, comp, dir_flags | O_NOFOLLOW);
		}
		if (fd >= 0) {
			walk_push(&w, fd);
			continue;
		}
		if (errno != ENOTDIR && errno != ELOOP) {
			ret = resolve_fail(err, errno, dir, comp);
			goto out;
		}
		if (fstatat(top, comp, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(st.st_mode)) {
			ret = resolve_fail(err, ENOTDIR, dir, comp);
			goto out;
		}
		if (++links > MAX_LINKS) {
			ret = resolve_fail(err, ELOOP, dir, comp);
			goto out;
		}
		char target[PATH_MAX];
		ssize_t tl = readlinkat(top, comp, target, sizeof(target));

		if (tl < 0 || tl >= PATH_MAX) {
			ret = resolve_fail(err, tl < 0 ? errno : ENAMETOOLONG,
					   dir, comp);
			goto out;
		}
		/* The target, as if the root were "/", then the rest. */
		if (target[0] == '/')
			while (w.n > 1)
				close(w.fds[--w.n]);
		char *next = xasprintf("%.*s/%s", (int)tl, target, rest + pos);

		linked = (size_t)tl + 1 + linked;
		free(rest);
		rest = next;
		pos = 0;
	}
	*out = w.fds[--w.n];
out:
	walk_release(&w);
	return ret;
}

int
berth_resolve_dir(int *out, const berth_resolver *r, const char *dir,
		  bool create, berth_error **err)
{
	if (r->mode == BERTH_RESOLVE_WALK)
		return dir_walk(out, r, dir, create, err);
	return dir_openat2(out, r, dir, create, err);
}

int
berth_resolve_parent(int *dirfd, const char **leaf, const berth_resolver *r,
		     const char *path, bool create, berth_error **err)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (slash == NULL) {
		*leaf = path;
		dir[0] = '\0';
	} else {
		*leaf = slash + 1;
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	}
	return berth_resolve_dir(dirfd, r, dir, create, err);
}
