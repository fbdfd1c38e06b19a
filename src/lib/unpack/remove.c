#include "unpack/remove.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/*
 * One directory at a time: empties cur of everything but directories and
 * reports the first subdirectory in sub ("" when none is left).
 */
static int
empty_level(int cur, char sub[NAME_MAX + 1])
{
	int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	int ret = 0;

	sub[0] = '\0';
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(cur, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			ret = -1;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(sub, NAME_MAX + 1, "%s", e->d_name);
			break;
		}
		if (unlinkat(cur, e->d_name, 0) < 0 && errno != ENOENT) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	return ret;
}

int
berth_remove_tree(int dirfd, const char *name)
{
	struct stat st;
	char **names = NULL, sub[NAME_MAX + 1];
	size_t depth = 0, cap = 0;
	int cur = -1, ret = -1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	cur = openat(dirfd, name,
		     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cur < 0)
		return -1;
	for (;;) {
		if (empty_level(cur, sub) < 0)
			goto out;
		if (sub[0]) {
			int fd = openat(cur, sub,
					O_PATH | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);

			if (fd < 0)
				goto out;
			close(cur);
			cur = fd;
			if (depth == cap) {
				cap = cap ? 2 * cap : 16;
				names = xreallocarray(names, cap,
						      sizeof(*names));
			}
			names[depth++] = xstrdup(sub);
			continue;
		}
		/* cur is empty: up one level, and remove it there. */
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (up < 0)
			goto out;
		close(cur);
		cur = up;
		if (depth == 0)
			break;
		depth--;
		if (unlinkat(cur, names[depth], AT_REMOVEDIR) < 0)
			goto out;
		free(names[depth]);
	}
	ret = unlinkat(dirfd, name, AT_REMOVEDIR);
out:;
	int saved = errno;

	for (size_t i = 0; i < depth; i++)
		free(names[i]);
	free(names);
	if (cur >= 0)
		close(cur);
	errno = saved;
	return ret;
}
