/*
 * The scratch directory of a harness: $TMPDIR/berth-fuzz-NAME-XXXXXX
 * (TMPDIR defaults to /dev/shm in run.sh), removed with everything in it
 * when the process exits.
 */
#ifndef BERTH_FUZZ_TMP_H
#define BERTH_FUZZ_TMP_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char fuzz_tmp[256];

static int
fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Removes PATH and everything below it, never following links. */
static void
fuzz_rm_tree(const char *path)
{
	nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fuzz_tmp_remove(void)
{
	if (fuzz_tmp[0])
		fuzz_rm_tree(fuzz_tmp);
}

/* Creates fuzz_tmp for harness NAME and returns it; aborts on failure. */
static const char *
fuzz_tmp_make(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/berth-fuzz-%s-XXXXXX",
		 t ? t : "/tmp", name);
	if (mkdtemp(fuzz_tmp) == NULL)
		abort();
	atexit(fuzz_tmp_remove);
	return fuzz_tmp;
}

/* Entries of DIR whose names do not start with '.' (0 when it is gone). */
static size_t
fuzz_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#endif
