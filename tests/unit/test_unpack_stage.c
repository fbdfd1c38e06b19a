/*
 * unpack/stage.c: the staging directory beside DIR, renamed into place,
 * refusals of a non-empty DIR, stale staging of a dead run removed and a
 * live run's left alone.
 */
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack/stage.h"
#include "test_tree.h"
#include "util/error.h"

static char top[64], dir[96];

static void
setup(void)
{
	tt_mkdtemp(top, sizeof(top), "stage");
	snprintf(dir, sizeof(dir), "%s/rootfs", top);
}

static void
teardown(void)
{
	tt_rm_tree(top);
}

static void
touch_in(int dfd, const char *name)
{
	close(openat(dfd, name, O_CREAT | O_WRONLY, 0644));
}

TEST(commit_into_missing_then_refused_then_forced)
{
	berth_stage *s = NULL;
	berth_error *err = NULL;
	char p[PATH_MAX];

	CHECK(berth_stage_begin(&s, dir, false, &err) == 0, "begin");
	touch_in(berth_stage_fd(s), "one");
	CHECK(tt_entries(top) == 2, "staging and lock beside DIR");
	CHECK(berth_stage_commit(s, &err) == 0, "commit");
	snprintf(p, sizeof(p), "%s/one", dir);
	CHECK(access(p, F_OK) == 0, "in place");
	CHECK(tt_entries(top) == 1, "nothing left beside DIR");
	CHECK(berth_stage_begin(&s, dir, false, &err) == BERTH_EEXIST,
	      "non-empty refused");
	CHECK(err && strstr(err->msg, "is not empty") && err->hint &&
		      strstr(err->hint, "--force"),
	      "%s", err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(tt_entries(top) == 1, "refusal leaves nothing");
	CHECK(berth_stage_begin(&s, dir, true, &err) == 0, "forced");
	touch_in(berth_stage_fd(s), "two");
	CHECK(berth_stage_commit(s, &err) == 0, "commit");
	CHECK(access(p, F_OK) < 0, "old content gone");
	snprintf(p, sizeof(p), "%s/two", dir);
	CHECK(access(p, F_OK) == 0, "new content");
	CHECK(tt_entries(top) == 1, "nothing left beside DIR");
}

TEST(abort_leaves_dir_as_it_was)
{
	berth_stage *s = NULL;
	berth_error *err = NULL;

	CHECK(mkdir(dir, 0700) == 0, "empty DIR");
	CHECK(berth_stage_begin(&s, dir, false, &err) == 0, "begin");
	touch_in(berth_stage_fd(s), "x");
	berth_stage_abort(s);
	CHECK(tt_entries(dir) == 0 && tt_entries(top) == 1, "as it was");
}

TEST(stale_removed_live_kept)
{
	berth_stage *s = NULL;
	berth_error *err = NULL;
	char stale[256], lock[PATH_MAX];
	int fd;

	/* a dead run: its staging dir, its lock file unlocked */
	snprintf(stale, sizeof(stale), "%s/.rootfs.berth-stage-dead00", top);
	CHECK(mkdir(stale, 0755) == 0, "stale");
	snprintf(lock, sizeof(lock), "%s/sub", stale);
	CHECK(mkdir(lock, 0755) == 0, "stale content");
	snprintf(lock, sizeof(lock), "%s/.rootfs.berth-lock", top);
	close(open(lock, O_CREAT | O_WRONLY, 0600));
	CHECK(berth_stage_begin(&s, dir, false, &err) == 0, "begin");
	CHECK(access(stale, F_OK) < 0, "stale staging removed");
	/* a second run while this one lives */
	berth_stage *s2 = NULL;

	CHECK(berth_stage_begin(&s2, dir, false, &err) == BERTH_EEXIST,
	      "second run refused");
	CHECK(err && strstr(err->msg, "another berth"), "%s",
	      err ? err->msg : "");
	CHECK(access(berth_stage_path(s), F_OK) == 0, "live staging kept");
	berth_stage_abort(s);
	berth_error_freep(&err);
	/* a lock held by someone else: the staging is theirs */
	fd = open(lock, O_CREAT | O_RDWR, 0600);
	CHECK(flock(fd, LOCK_EX) == 0, "flock");
	CHECK(mkdir(stale, 0755) == 0, "live");
	CHECK(berth_stage_begin(&s, dir, false, &err) == BERTH_EEXIST,
	      "refused");
	CHECK(access(stale, F_OK) == 0, "live run's staging kept");
	close(fd);
	berth_error_free(err);
}

TEST(file_in_the_way)
{
	berth_stage *s = NULL;
	berth_error *err = NULL;

	close(open(dir, O_CREAT | O_WRONLY, 0644));
	CHECK(berth_stage_begin(&s, dir, true, &err) == BERTH_EEXIST,
	      "a file is not replaced");
	CHECK(err && strstr(err->msg, "not a directory"), "%s",
	      err ? err->msg : "");
	berth_error_free(err);
}

TEST_MAIN_FIXTURE("test_unpack_stage", setup, teardown)
