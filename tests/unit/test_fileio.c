/*
 * util/fileio.c: atomic replacement (store index, config.json, the
 * server's signing key and blobs) and capped whole-file reads.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/berth-fileio-test-XXXXXX";

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return xstrdup(tmpl);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
rm_rf(char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *
slurp(const char *path)
{
	char *out = NULL;
	size_t len;

	return berth_file_read(&out, &len, path, 1 << 20) == 0 ? out : NULL;
}

static void
test_replace_writes_and_replaces(void)
{
	char *dir = tmpdir();
	char *path = xasprintf("%s/f.json", dir);
	berth_file_replace_opts o = {.mode = 0600, .sync = true};
	berth_error *err = NULL;
	struct stat st;
	char *got;

	CHECK(berth_file_replace(path, "one", 3, &o, &err) == 0, "create: %s",
	      err ? err->msg : "");
	got = slurp(path);
	CHECK_STR(got, "one");
	free(got);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o",
	      (unsigned)(st.st_mode & 0777));
	CHECK(berth_file_replace(path, "second", 6, NULL, &err) == 0,
	      "replace: %s", err ? err->msg : "");
	got = slurp(path);
	CHECK_STR(got, "second");
	free(got);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	      "default mode %o", (unsigned)(st.st_mode & 0777));
	CHECK(count_entries(dir) == 1, "temporary files left: %d",
	      count_entries(dir));
	free(path);
	rm_rf(dir);
}

static void
test_replace_tmp_dir_and_prefix(void)
{
	char *dir = tmpdir();
	char *tmp = xasprintf("%s/tmp", dir);
	char *path = xasprintf("%s/blob", dir);
	berth_file_replace_opts o = {.tmp_dir = tmp, .tmp_prefix = "put."};
	berth_error *err = NULL;
	char *got;

	mkdir(tmp, 0755);
	CHECK(berth_file_replace(path, "x", 1, &o, &err) == 0, "put: %s",
	      err ? err->msg : "");
	got = slurp(path);
	CHECK_STR(got, "x");
	free(got);
	CHECK(count_entries(tmp) == 0, "left in tmp: %d", count_entries(tmp));
	CHECK(count_entries(dir) == 2, "entries: %d", count_entries(dir));

	/* A missing temporary directory fails before path is touched. */
	o.tmp_dir = "/nonexistent-berth-dir";
	CHECK(berth_file_replace(path, "y", 1, &o, &err) == BERTH_EIO,
	      "missing tmp dir");
	CHECK(err &&
		      strncmp(err->msg,
			      "cannot create '/nonexistent-berth-dir/"
			      "put.",
			      strlen("cannot create '/nonexistent-berth-dir/"
				     "put.")) == 0 &&
		      err->sys_errno == ENOENT,
	      "message '%s'", err ? err->msg : "");
	berth_error_freep(&err);
	got = slurp(path);
	CHECK_STR(got, "x");
	free(got);
	free(tmp);
	free(path);
	rm_rf(dir);
}

static void
test_replace_failed_rename_leaves_nothing(void)
{
	char *dir = tmpdir();
	char *path = xasprintf("%s/d", dir);
	char *inner = xasprintf("%s/d/keep", dir);
	berth_error *err = NULL;

	/* rename cannot replace a non-empty directory */
	mkdir(path, 0755);
	close(open(inner, O_WRONLY | O_CREAT, 0644));
	CHECK(berth_file_replace(path, "z", 1, NULL, &err) == BERTH_EIO,
	      "replaced a directory");
	CHECK(err && strncmp(err->msg, "cannot replace '", 16) == 0,
	      "message '%s'", err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(count_entries(dir) == 1, "temporary file left: %d",
	      count_entries(dir));
	CHECK(access(inner, F_OK) == 0, "the directory was touched");
	free(inner);
	free(path);
	rm_rf(dir);
}

static void
test_read_capped(void)
{
	char *dir = tmpdir();
	char *path = xasprintf("%s/f", dir);
	char *out = NULL;
	size_t len = 0;

	berth_file_replace(path, "hello", 5, NULL, NULL);
	CHECK(berth_file_read(&out, &len, path, 5) == 0 && len == 5 && out &&
		      strcmp(out, "hello") == 0,
	      "exactly max");
	free(out);
	CHECK(berth_file_read(&out, &len, path, 4) == EFBIG && len == 5 &&
		      out == NULL,
	      "over max: len %zu", len);
	berth_file_replace(path, "", 0, NULL, NULL);
	CHECK(berth_file_read(&out, &len, path, 0) == 0 && len == 0 && out &&
		      out[0] == '\0',
	      "empty file");
	free(out);
	CHECK(berth_file_read(&out, &len, "/nonexistent-berth-file", 10) ==
			      ENOENT &&
		      out == NULL,
	      "missing file");
	CHECK(berth_file_read(&out, &len, dir, 10) == EISDIR, "directory");
	free(path);
	rm_rf(dir);
}

/* Files whose size stat does not know (/proc) are capped while read. */
static void
test_read_unknown_size(void)
{
	char *out = NULL;
	size_t len = 0;

	CHECK(berth_file_read(&out, &len, "/proc/self/maps", 8) == EFBIG &&
		      len == 9 && out == NULL,
	      "capped while reading: len %zu", len);
	CHECK(berth_file_read(&out, &len, "/proc/self/maps", 1 << 20) == 0 &&
		      len > 8 && out && strlen(out) == len,
	      "whole: len %zu", len);
	free(out);
}

int
main(void)
{
	test_replace_writes_and_replaces();
	test_replace_tmp_dir_and_prefix();
	test_replace_failed_rename_leaves_nothing();
	test_read_capped();
	test_read_unknown_size();
	return test_done("test_fileio");
}
