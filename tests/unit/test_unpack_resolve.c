/*
 * unpack/resolve.c: entry names cleaned and directories resolved inside
 * the root, by openat2 and by the O_NOFOLLOW walk, with hostile paths.
 * Each root sits in a canary directory that must stay as it was.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack/resolve.h"
#include "test_tree.h"
#include "util/error.h"
#include "util/xalloc.h"

static const berth_resolve_mode modes[] = {BERTH_RESOLVE_OPENAT2,
					   BERTH_RESOLVE_WALK};

static char canary[64], root[96];
static int root_fd = -1;

static void
setup(void)
{
	tt_canary_make(canary, root, &root_fd, "resolve");
}

static void
teardown(void)
{
	close(root_fd);
	tt_rm_tree(canary);
}

static bool
same_file(int fd, const char *rel)
{
	struct stat a, b;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return fstat(fd, &a) == 0 && lstat(p, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void
clean_ok(const char *in, const char *want)
{
	char out[PATH_MAX];
	berth_error *err = NULL;

	CHECK(berth_resolve_clean(out, in, strlen(in), &err) == 0, "%s", in);
	CHECK_STR(out, want);
	berth_error_free(err);
}

static void
clean_bad(const char *in, size_t len, const char *msg)
{
	char out[PATH_MAX];
	berth_error *err = NULL;

	CHECK(berth_resolve_clean(out, in, len, &err) == BERTH_EPROTO, "%.40s",
	      in);
	CHECK(err && strstr(err->msg, msg), "%s", err ? err->msg : "-");
	berth_error_free(err);
}

TEST(clean_names)
{
	char *long_name = xmalloc(PATH_MAX + 2), comp[NAME_MAX + 3];

	clean_ok("a/b", "a/b");
	clean_ok("./a//b/", "a/b");
	clean_ok("/etc/passwd", "etc/passwd");
	clean_ok("a/../b", "b");
	clean_ok("./", "");
	clean_ok("a/b/../../c", "c");
	clean_bad("../x", 4, "climbs above");
	clean_bad("a/../../x", 9, "climbs above");
	clean_bad("/../x", 5, "climbs above");
	clean_bad("a\0/../../x", 10, "NUL");
	memset(long_name, 'a', PATH_MAX + 1);
	for (size_t i = 100; i < PATH_MAX; i += 100)
		long_name[i] = '/';
	clean_bad(long_name, PATH_MAX + 1, "over PATH_MAX");
	memset(comp, 'c', NAME_MAX + 1);
	clean_bad(comp, NAME_MAX + 1, "over NAME_MAX");
	free(long_name);
}

static void
resolve_ok(berth_resolve_mode m, const char *dir, bool create, const char *at)
{
	berth_resolver r;
	berth_error *err = NULL;
	int fd = -1;

	CHECK(berth_resolver_init(&r, root_fd, m, &err) == 0, "init");
	CHECK(berth_resolve_dir(&fd, &r, dir, create, &err) == 0, "%s %s: %s",
	      berth_resolve_mode_name(m), dir, err ? err->msg : "");
	CHECK(fd >= 0 && same_file(fd, at), "%s: '%s' is not '%s'",
	      berth_resolve_mode_name(m), dir, at);
	if (fd >= 0)
		close(fd);
	berth_error_free(err);
}

static void
resolve_bad(berth_resolve_mode m, const char *dir, int code, const char *msg)
{
	berth_resolver r;
	berth_error *err = NULL;
	int fd = -1;

	CHECK(berth_resolver_init(&r, root_fd, m, &err) == 0, "init");
	CHECK(berth_resolve_dir(&fd, &r, dir, true, &err) == code, "%s %s",
	      berth_resolve_mode_name(m), dir);
	CHECK(fd == -1, "no fd");
	CHECK(err && strstr(err->msg, msg), "%s", err ? err->msg : "-");
	berth_error_free(err);
}

TEST(plain_and_created)
{
	for (size_t i = 0; i < 2; i++) {
		resolve_ok(modes[i], "", false, ".");
		resolve_ok(modes[i], "a/b/c", true, "a/b/c");
		resolve_ok(modes[i], "a/b", false, "a/b");
	}
	CHECK(tt_entries(canary) == 1, "canary changed");
}

TEST(symlink_to_root_stays_inside)
{
	for (size_t i = 0; i < 2; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/abs%zu", root, i);
		CHECK(symlink("/", p) == 0, "symlink");
		snprintf(p, sizeof(p), "abs%zu/etc/deep", i);
		resolve_ok(modes[i], p, true, "etc/deep");
	}
	CHECK(tt_entries(canary) == 1, "canary changed");
}

TEST(symlink_dotdot_stays_inside)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/up", root);
	CHECK(symlink("../../../..", p) == 0, "symlink");
	snprintf(p, sizeof(p), "%s/d", root);
	CHECK(mkdir(p, 0755) == 0, "mkdir");
	snprintf(p, sizeof(p), "%s/d/up2", root);
	CHECK(symlink("../../../made", p) == 0, "symlink");
	for (size_t i = 0; i < 2; i++) {
		resolve_ok(modes[i], "up", false, ".");
		resolve_ok(modes[i], "up/made", true, "made");
		resolve_ok(modes[i], "d/up2/y", true, "made/y");
	}
	CHECK(tt_entries(canary) == 1, "canary changed");
}

TEST(swapped_dir_for_symlink)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		/* d is a directory for one entry, then a link to / */
		resolve_ok(modes[i], "d/sub", true, "d/sub");
		snprintf(p, sizeof(p), "rm -rf %s/d && ln -s / %s/d", root,
			 root);
		CHECK(system(p) == 0, "swap");
		resolve_ok(modes[i], "d/tmp", true, "tmp");
		snprintf(p, sizeof(p), "rm -rf %s/d %s/tmp", root, root);
		CHECK(system(p) == 0, "clean");
	}
	CHECK(tt_entries(canary) == 1, "canary changed");
}

TEST(refusals)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/loop", root);
	CHECK(symlink("loop", p) == 0, "symlink");
	snprintf(p, sizeof(p), "%s/dangling", root);
	CHECK(symlink("/nowhere/deeper", p) == 0, "symlink");
	snprintf(p, sizeof(p), "%s/file", root);
	CHECK(close(open(p, O_CREAT | O_WRONLY, 0644)) == 0, "file");
	for (size_t i = 0; i < 2; i++) {
		resolve_bad(modes[i], "loop/x", BERTH_EPROTO, "symbolic links");
		resolve_bad(modes[i], "dangling", BERTH_ENOTFOUND,
			    "does not exist");
		resolve_bad(modes[i], "file/x", BERTH_EPROTO,
			    "not a directory");
	}
	snprintf(p, sizeof(p), "%s/nowhere", root);
	CHECK(access(p, F_OK) < 0, "nothing made through a dangling link");
	CHECK(tt_entries(canary) == 1, "canary changed");
}

TEST(parent_and_leaf)
{
	berth_resolver r;
	berth_error *err = NULL;
	const char *leaf = NULL;
	int fd = -1;

	for (size_t i = 0; i < 2; i++) {
		CHECK(berth_resolver_init(&r, root_fd, modes[i], &err) == 0,
		      "init");
		CHECK(berth_resolve_parent(&fd, &leaf, &r, "p/q/leaf", true,
					   &err) == 0,
		      "parent");
		CHECK_STR(leaf, "leaf");
		CHECK(same_file(fd, "p/q"), "p/q");
		close(fd);
		CHECK(berth_resolve_parent(&fd, &leaf, &r, "top", false,
					   &err) == 0,
		      "parent of top");
		CHECK_STR(leaf, "top");
		CHECK(same_file(fd, "."), "root");
		close(fd);
	}
}

TEST(mode_knob)
{
	berth_resolver r;
	berth_error *err = NULL;

	setenv("BERTH_UNPACK_RESOLVE", "walk", 1);
	CHECK(berth_resolver_init(&r, root_fd, BERTH_RESOLVE_AUTO, &err) == 0,
	      "init");
	CHECK(r.mode == BERTH_RESOLVE_WALK, "walk asked");
	setenv("BERTH_UNPACK_RESOLVE", "bogus", 1);
	CHECK(berth_resolver_init(&r, root_fd, BERTH_RESOLVE_AUTO, &err) ==
		      BERTH_EUSAGE,
	      "bogus refused");
	CHECK(err && strstr(err->msg, "bogus"), "names it");
	berth_error_free(err);
	unsetenv("BERTH_UNPACK_RESOLVE");
	err = NULL;
	CHECK(berth_resolver_init(&r, root_fd, BERTH_RESOLVE_AUTO, &err) == 0,
	      "init");
	CHECK(r.mode == BERTH_RESOLVE_OPENAT2, "openat2 on this kernel");
}

TEST_MAIN_FIXTURE("test_unpack_resolve", setup, teardown)
