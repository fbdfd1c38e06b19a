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

	return berth_file_read(&out, &len, path, 1 << 20, NULL) == 0 ? out
								     : NULL;
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
	berth_error *err = NULL;

	berth_file_replace(path, "hello", 5, NULL, NULL);
	CHECK(berth_file_read(&out, &len, path, 5, NULL) == 0 && len == 5 &&
		      out && strcmp(out, "hello") == 0,
	      "exactly max");
	free(out);
	CHECK(berth_file_read(&out, &len, path, 4, &err) == BERTH_ETOOBIG &&
		      len == 5 && out == NULL && err &&
		      err->sys_errno == EFBIG && strstr(err->msg, path),
	      "over max: len %zu", len);
	berth_error_freep(&err);
	berth_file_replace(path, "", 0, NULL, NULL);
	CHECK(berth_file_read(&out, &len, path, 0, NULL) == 0 && len == 0 &&
		      out && out[0] == '\0',
	      "empty file");
	free(out);
	CHECK(berth_file_read(&out, &len, "/nonexistent-berth-file", 10,
			      &err) == BERTH_ENOTFOUND &&
		      out == NULL && err->sys_errno == ENOENT,
	      "missing file");
	berth_error_freep(&err);
	CHECK(berth_file_read(&out, &len, dir, 10, &err) == BERTH_EUSAGE &&
		      err && strstr(err->msg, "is a directory, not a regular"),
	      "directory: %s", err ? err->msg : "no error");
	berth_error_freep(&err);
	free(path);
	rm_rf(dir);
}

/* A FIFO, a device, a socket: refused by name without blocking (opening a
 * FIFO for reading waits for a writer); a link to a file is followed. */
static void
test_read_not_regular(void)
{
	char *dir = tmpdir();
	char *fifo = xasprintf("%s/fifo", dir), *file = xasprintf("%s/f", dir);
	char *link = xasprintf("%s/link", dir);
	char *out = NULL;
	size_t len = 0;
	berth_error *err = NULL;

	CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
	CHECK(berth_file_read(&out, &len, fifo, 10, &err) == BERTH_EUSAGE &&
		      out == NULL && err &&
		      strstr(err->msg, "is a FIFO (named pipe), not a "
				       "regular file") &&
		      strstr(err->msg, fifo) && err->hint,
	      "FIFO: %s", err ? err->msg : "no error");
	berth_error_freep(&err);
	CHECK(berth_file_open(fifo, NULL, &err) == BERTH_EUSAGE,
	      "berth_file_open refuses the FIFO");
	berth_error_freep(&err);
	CHECK(berth_file_check_regular(fifo, &err) == BERTH_EUSAGE && err &&
		      strstr(err->msg, "FIFO"),
	      "berth_file_check_regular refuses the FIFO");
	berth_error_freep(&err);
	CHECK(berth_file_read(&out, &len, "/dev/null", 10, &err) ==
			      BERTH_EUSAGE &&
		      strstr(err->msg, "is a character device"),
	      "device: %s", err ? err->msg : "no error");
	berth_error_freep(&err);
	berth_file_replace(file, "x", 1, NULL, NULL);
	CHECK(symlink(file, link) == 0, "symlink");
	CHECK(berth_file_read(&out, &len, link, 10, NULL) == 0 && len == 1,
	      "a symbolic link to a file is read");
	free(out);
	CHECK(berth_file_check_regular(link, NULL) == 0 &&
		      berth_file_check_regular(file, NULL) == 0 &&
		      berth_file_check_regular("/nonexistent-berth", NULL) == 0,
	      "files, links to files and missing paths pass the check");
	free(fifo);
	free(file);
	free(link);
	rm_rf(dir);
}

/* through_links: the link stays, its target (even one not there yet)
 * is replaced; without it the link itself is replaced by a file. */
static void
test_replace_through_links(void)
{
	char *dir = tmpdir();
	char *sub = xasprintf("%s/sub", dir), *target = xasprintf("%s/t", sub);
	char *link = xasprintf("%s/l", dir), *chain = xasprintf("%s/c", dir);
	berth_file_replace_opts o = {.through_links = true};
	struct stat st;
	char *got;

	mkdir(sub, 0700);
	berth_file_replace(target, "old", 3, NULL, NULL);
	CHECK(symlink("sub/t", link) == 0 && symlink("l", chain) == 0,
	      "symlinks");
	CHECK(berth_file_replace(chain, "new", 3, &o, NULL) == 0,
	      "replace through two links");
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode) &&
		      lstat(chain, &st) == 0 && S_ISLNK(st.st_mode),
	      "the links stay links");
	got = slurp(target);
	CHECK(got && strcmp(got, "new") == 0, "the target has the new bytes");
	free(got);
	CHECK(count_entries(dir) == 3 && count_entries(sub) == 1,
	      "no temporary file left");
	unlink(target);
	CHECK(berth_file_replace(link, "fresh", 5, &o, NULL) == 0,
	      "a link to nothing yet");
	got = slurp(target);
	CHECK(got && strcmp(got, "fresh") == 0 && lstat(link, &st) == 0 &&
		      S_ISLNK(st.st_mode),
	      "creates the target, keeps the link");
	free(got);
	CHECK(berth_file_replace(link, "plain", 5, NULL, NULL) == 0 &&
		      lstat(link, &st) == 0 && S_ISREG(st.st_mode),
	      "without through_links the link is replaced");
	free(sub);
	free(target);
	free(link);
	free(chain);
	rm_rf(dir);
}

/* Files whose size stat does not know (/proc) are capped while read. */
static void
test_read_unknown_size(void)
{
	char *out = NULL;
	size_t len = 0;

	CHECK(berth_file_read(&out, &len, "/proc/self/maps", 8, NULL) ==
			      BERTH_ETOOBIG &&
		      len == 9 && out == NULL,
	      "capped while reading: len %zu", len);
	CHECK(berth_file_read(&out, &len, "/proc/self/maps", 1 << 20, NULL) ==
			      0 &&
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
	test_replace_through_links();
	test_read_capped();
	test_read_not_regular();
	test_read_unknown_size();
	return test_done("test_fileio");
}
