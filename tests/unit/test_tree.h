/*
 * Shared by the unpack tests: a temporary directory made and removed
 * whole, and the number of entries a directory holds (to see that
 * nothing was written beside or outside a root).
 */
#ifndef BERTH_TEST_TREE_H
#define BERTH_TEST_TREE_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int
tt_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* Removes DIR and everything under it, never following a link. */
static inline void
tt_rm_tree(const char *dir)
{
	nftw(dir, tt_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Makes /tmp/berth-TAG-XXXXXX into BUF; exits 2 when it cannot. */
static inline void
tt_mkdtemp(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/berth-%s-XXXXXX", tag);
	if (mkdtemp(buf) == NULL)
		exit(2);
}

/*
 * A canary directory holding one directory, the root a test writes into:
 * CANARY is /tmp/berth-TAG-XXXXXX, ROOT its "root", *ROOT_FD that opened
 * O_PATH. Anything else that appears in the canary was written outside
 * the root.
 */
static inline void
tt_canary_make(char canary[64], char root[96], int *root_fd, const char *tag)
{
	tt_mkdtemp(canary, 64, tag);
	snprintf(root, 96, "%s/root", canary);
	if (mkdir(root, 0755) < 0)
		exit(2);
	*root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*root_fd < 0)
		exit(2);
}

/* Entries in DIR but "." and ".."; -1 when it cannot be read. */
static inline int
tt_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#endif
