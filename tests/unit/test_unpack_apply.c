/*
 * unpack/apply.c: layer tars built here with libarchive applied into a
 * root inside a canary directory, in both resolve modes: the layer
 * semantics (whiteouts, opaque directories, links, owners, modes, xattrs,
 * nodes, times, sparse files) and hostile entries.
 */
#include "test.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unpack/apply.h"
#include "test_tree.h"
#include "util/error.h"
#include "util/xalloc.h"

static char canary[64], root[96];
static int root_fd = -1;

static void
setup(void)
{
	tt_canary_make(canary, root, &root_fd, "apply");
}

static void
teardown(void)
{
	close(root_fd);
	tt_rm_tree(canary);
}

static void
reset_root(void)
{
	char cmd[PATH_MAX];

	close(root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", root, root);
	if (system(cmd) != 0)
		exit(2);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* ---- layers built in memory ---- */

typedef struct layer {
	struct archive *w;
	char *buf;
	size_t cap, used;
} layer;

static void
layer_begin(layer *l)
{
	l->cap = 64 << 20;
	l->buf = xmalloc(l->cap);
	l->w = archive_write_new();
	archive_write_set_format_pax_restricted(l->w);
	archive_write_open_memory(l->w, l->buf, l->cap, &l->used);
}

static struct archive_entry *
ent(const char *name, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, 1600000000, 0);
	return e;
}

static void
add(layer *l, struct archive_entry *e, const char *data)
{
	if (data)
		archive_entry_set_size(e, (la_int64_t)strlen(data));
	if (archive_write_header(l->w, e) != ARCHIVE_OK) {
		printf("write_header: %s\n", archive_error_string(l->w));
		exit(2);
	}
	if (data)
		archive_write_data(l->w, data, strlen(data));
	archive_entry_free(e);
}

static void
add_file(layer *l, const char *name, const char *data)
{
	add(l, ent(name, AE_IFREG, 0644), data);
}

static void
add_dir(layer *l, const char *name)
{
	add(l, ent(name, AE_IFDIR, 0755), NULL);
}

static void
add_link(layer *l, const char *name, const char *target)
{
	struct archive_entry *e = ent(name, AE_IFLNK, 0777);

	archive_entry_set_symlink(e, target);
	add(l, e, NULL);
}

static void
add_hard(layer *l, const char *name, const char *target)
{
	struct archive_entry *e = ent(name, AE_IFREG, 0644);

	archive_entry_set_hardlink(e, target);
	add(l, e, NULL);
}

static void
layer_end(layer *l)
{
	archive_write_close(l->w);
	archive_write_free(l->w);
}

struct reader {
	const char *p;
	size_t len, off;
};

/* Small odd blocks, so entries straddle reads. */
static ssize_t
rd(void *ctx, const void **buf, berth_error **err)
{
	struct reader *r = ctx;
	size_t n = r->len - r->off < 7001 ? r->len - r->off : 7001;

	*buf = r->p + r->off;
	r->off += n;
	return (ssize_t)n;
}

static berth_apply_opts opts = {false, 0, 0, BERTH_RESOLVE_OPENAT2};

/* Applies each layer in turn; returns the first failure's code. */
static int
apply(layer *ls, size_t n, berth_error **err)
{
	berth_apply *a = NULL;
	int r = berth_apply_new(&a, root_fd, &opts, err);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct reader rr = {ls[i].buf, ls[i].used, 0};
		char what[32];

		snprintf(what, sizeof(what), "layer %zu", i + 1);
		r = berth_apply_layer(a, rd, &rr, what, err);
	}
	if (r == 0)
		r = berth_apply_finish(a, err);
	berth_apply_free(a);
	for (size_t i = 0; i < n; i++)
		free(ls[i].buf);
	return r;
}

static bool
exists(const char *rel)
{
	struct stat st;

	return fstatat(root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static struct stat
st_of(const char *rel)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	fstatat(root_fd, rel, &st, AT_SYMLINK_NOFOLLOW);
	return st;
}

static char *
content(const char *rel)
{
	static char buf[256];
	int fd = openat(root_fd, rel, O_RDONLY | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static const berth_resolve_mode modes[] = {BERTH_RESOLVE_OPENAT2,
					   BERTH_RESOLVE_WALK};

TEST(entry_kinds)
{
	for (size_t m = 0; m < 2; m++) {
		layer l;
		berth_error *err = NULL;
		struct archive_entry *e;
		char buf[64];

		opts.resolve = modes[m];
		reset_root();
		layer_begin(&l);
		add_dir(&l, "etc");
		e = ent("bin/su", AE_IFREG, 04755);
		archive_entry_set_uid(e, 1000);
		archive_entry_set_gid(e, 2000);
		archive_entry_xattr_add_entry(e, "security.capability",
					      "\x01\x00\x00\x02\x00\x20\x00\x00"
					      "\x00\x00\x00\x00\x00\x00\x00\x00"
					      "\x00\x00\x00\x00",
					      20);
		archive_entry_xattr_add_entry(e, "user.note", "hi", 2);
		add(&l, e, "#!/bin/sh\n");
		e = ent("tmp", AE_IFDIR, 01777);
		add(&l, e, NULL);
		e = ent("srv", AE_IFDIR, 02750);
		archive_entry_set_gid(e, 50);
		add(&l, e, NULL);
		add_link(&l, "bin/sh", "/bin/su");
		add_hard(&l, "bin/su2", "bin/su");
		e = ent("dev/null", AE_IFCHR, 0666);
		archive_entry_set_rdevmajor(e, 1);
		archive_entry_set_rdevminor(e, 3);
		add(&l, e, NULL);
		add(&l, ent("run/fifo", AE_IFIFO, 0600), NULL);
		layer_end(&l);
		CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
		struct stat st = st_of("bin/su");

		CHECK((st.st_mode & 07777) == 04755, "setuid kept: %o",
		      st.st_mode & 07777);
		CHECK(st.st_uid == 1000 && st.st_gid == 2000, "owner");
		CHECK(st.st_nlink == 2, "hard link");
		CHECK(st.st_mtime == 1600000000, "mtime");
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/bin/su", root);
		CHECK(lgetxattr(p, "security.capability", buf, sizeof(buf)) ==
			      20,
		      "capability");
		CHECK(lgetxattr(p, "user.note", buf, sizeof(buf)) == 2,
		      "user xattr");
		CHECK_STR(content("bin/su"), "#!/bin/sh\n");
		CHECK((st_of("tmp").st_mode & 07777) == 01777, "sticky");
		CHECK((st_of("srv").st_mode & 07777) == 02750 &&
			      st_of("srv").st_gid == 50,
		      "setgid dir");
		CHECK(S_ISLNK(st_of("bin/sh").st_mode), "symlink");
		CHECK(readlinkat(root_fd, "bin/sh", buf, sizeof(buf)) == 7,
		      "target");
		st = st_of("dev/null");
		CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
			      minor(st.st_rdev) == 3,
		      "device");
		CHECK(S_ISFIFO(st_of("run/fifo").st_mode), "fifo");
		CHECK((st_of("bin").st_mode & 07777) == 0755,
		      "implicit parent 0755");
		CHECK(st_of("etc").st_mtime == 1600000000, "dir mtime");
		berth_error_free(err);
	}
}

/* trusted.* may be set on any kind of file (as root); user.* only on
 * regular files and directories, so on a link it is a warning. */
TEST(xattrs_on_links_and_nodes)
{
	for (size_t m = 0; m < 2; m++) {
		layer l;
		berth_error *err = NULL;
		struct archive_entry *e;
		char p[PATH_MAX], buf[16];
		const char *names[] = {"bin/sh", "dev/null", "run/fifo"};
		const char *want[] = {"link", "node", "fifo"};

		opts.resolve = modes[m];
		reset_root();
		layer_begin(&l);
		e = ent("bin/sh", AE_IFLNK, 0777);
		archive_entry_set_symlink(e, "/no/such/target");
		archive_entry_xattr_add_entry(e, "trusted.label", "link", 4);
		archive_entry_xattr_add_entry(e, "user.note", "hi", 2);
		add(&l, e, NULL);
		e = ent("dev/null", AE_IFCHR, 0666);
		archive_entry_set_rdevmajor(e, 1);
		archive_entry_set_rdevminor(e, 3);
		archive_entry_xattr_add_entry(e, "trusted.label", "node", 4);
		add(&l, e, NULL);
		e = ent("run/fifo", AE_IFIFO, 0600);
		archive_entry_xattr_add_entry(e, "trusted.label", "fifo", 4);
		add(&l, e, NULL);
		layer_end(&l);
		CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
		for (size_t i = 0; i < 3; i++) {
			ssize_t n;

			snprintf(p, sizeof(p), "%s/%s", root, names[i]);
			n = lgetxattr(p, "trusted.label", buf, sizeof(buf));
			CHECK(n == 4 && memcmp(buf, want[i], 4) == 0,
			      "%s: its xattr is on it (%zd)", names[i], n);
		}
		snprintf(p, sizeof(p), "%s/bin/sh", root);
		CHECK(lgetxattr(p, "user.note", buf, sizeof(buf)) < 0,
		      "user.* refused on a link (a warning, not a failure)");
		CHECK(S_ISCHR(st_of("dev/null").st_mode) &&
			      (st_of("dev/null").st_mode & 07777) == 0666,
		      "the device's mode after its xattrs");
		berth_error_free(err);
	}
}

TEST(whiteouts_and_opaque)
{
	for (size_t m = 0; m < 2; m++) {
		layer l[2];
		berth_error *err = NULL;

		opts.resolve = modes[m];
		reset_root();
		layer_begin(&l[0]);
		add_file(&l[0], "a/f1", "1");
		add_file(&l[0], "a/f2", "2");
		add_file(&l[0], "b/deep/x", "x");
		add_file(&l[0], "d/old", "o");
		add_file(&l[0], "d/sub/old", "o");
		layer_end(&l[0]);
		layer_begin(&l[1]);
		add_file(&l[1], "a/.wh.f1", "");
		add_file(&l[1], ".wh.b", "");
		add_file(&l[1], "d/new", "n");
		add_dir(&l[1], "d/sub");
		add_file(&l[1], "d/sub/new", "n");
		add_file(&l[1], "d/.wh..wh..opq", "");
		/* the same layer's file is not hidden by its whiteout */
		add_file(&l[1], "c", "c");
		add_file(&l[1], ".wh.c", "");
		add_file(&l[1], ".wh.missing", "");
		layer_end(&l[1]);
		CHECK(apply(l, 2, &err) == 0, "%s", err ? err->msg : "");
		CHECK(!exists("a/f1") && exists("a/f2"), "whiteout");
		CHECK(!exists("b"), "directory whiteout");
		CHECK(!exists("d/old") && !exists("d/sub/old"), "opaque");
		CHECK(exists("d/new") && exists("d/sub/new"), "opaque keeps");
		CHECK(exists("c"), "same-layer whiteout ignored");
		CHECK(!exists("a/.wh.f1") && !exists("d/.wh..wh..opq"),
		      "no whiteout files");
		berth_error_free(err);
	}
}

TEST(replacements_and_earlier_hard_links)
{
	for (size_t m = 0; m < 2; m++) {
		layer l[3];
		berth_error *err = NULL;
		char buf[16];

		opts.resolve = modes[m];
		reset_root();
		layer_begin(&l[0]);
		add_file(&l[0], "x/inner", "i");
		add_file(&l[0], "y", "file");
		add_file(&l[0], "base", "base");
		add_dir(&l[0], "d");
		add_dir(&l[0], "d/sub");
		layer_end(&l[0]);
		layer_begin(&l[1]);
		add_file(&l[1], "x", "now a file");
		add_dir(&l[1], "y");
		add_file(&l[1], "y/inner", "now a dir");
		add_hard(&l[1], "linked", "base");
		add_file(&l[1], "d", "a directory with a directory in it");
		layer_end(&l[1]);
		layer_begin(&l[2]);
		add_dir(&l[2], "x");
		add_link(&l[2], "y", "x");
		layer_end(&l[2]);
		CHECK(apply(l, 3, &err) == 0, "%s", err ? err->msg : "");
		CHECK(S_ISDIR(st_of("x").st_mode) && !exists("x/inner"),
		      "file replaced by directory");
		CHECK(S_ISLNK(st_of("y").st_mode), "dir replaced by symlink");
		CHECK(S_ISREG(st_of("d").st_mode),
		      "dir with a subdirectory replaced by a file");
		CHECK(readlinkat(root_fd, "y", buf, sizeof(buf)) == 1,
		      "target");
		CHECK(st_of("linked").st_ino == st_of("base").st_ino,
		      "hard link to an earlier layer");
		berth_error_free(err);
	}
}

static void
hostile(void (*build)(layer *l), const char *msg)
{
	for (size_t m = 0; m < 2; m++) {
		layer l;
		berth_error *err = NULL;
		int r;

		opts.resolve = modes[m];
		reset_root();
		layer_begin(&l);
		build(&l);
		layer_end(&l);
		r = apply(&l, 1, &err);
		if (msg) {
			CHECK(r < 0, "refused");
			CHECK(err && strstr(err->msg, msg) &&
				      strstr(err->msg, "layer 1: entry '") &&
				      !strchr(err->msg, '\n') && err->hint,
			      "message: %s", err ? err->msg : "-");
		} else {
			CHECK(r == 0, "neutralised: %s", err ? err->msg : "");
		}
		CHECK(tt_entries(canary) == 1, "nothing outside the root");
		berth_error_free(err);
	}
}

static void
b_dotdot(layer *l)
{
	add_file(l, "../escaped", "x");
}

static void
b_abs(layer *l)
{
	add_file(l, "/abs", "x");
}

static void
b_link_root(layer *l)
{
	add_link(l, "rootlink", "/");
	add_file(l, "rootlink/escaped", "x");
	add_link(l, "up", "../../..");
	add_file(l, "up/escaped2", "x");
}

static void
b_hard_out(layer *l)
{
	add_hard(l, "h", "../../etc/passwd");
}

static void
b_hard_via_link(layer *l)
{
	add_link(l, "etcl", "/etc");
	add_hard(l, "h", "etcl/passwd");
}

static void
b_swap(layer *l)
{
	add_dir(l, "d");
	add_file(l, "d/a", "a");
	add_link(l, "d", "..");
	add_file(l, "d/escaped", "x");
}

static void
b_wh_up(layer *l)
{
	add_file(l, "../.wh.x", "");
}

static void
b_wh_dotdot(layer *l)
{
	add_file(l, "a/.wh...", "");
}

static void
b_long(layer *l)
{
	char *n = xmalloc(PATH_MAX + 100);

	memset(n, 'a', PATH_MAX + 99);
	for (size_t i = 200; i < PATH_MAX + 99; i += 200)
		n[i] = '/';
	n[PATH_MAX + 99] = '\0';
	add_file(l, n, "x");
	free(n);
}

static void
b_selflink(layer *l)
{
	add_hard(l, "self", "self");
}

TEST(hostile_entries)
{
	hostile(b_dotdot, "climbs above");
	hostile(b_abs, NULL);
	CHECK(exists("abs"), "absolute name inside the root");
	hostile(b_link_root, NULL);
	CHECK(exists("escaped") && exists("escaped2"), "through links, inside");
	hostile(b_hard_out, "climbs above");
	hostile(b_hard_via_link, "does not exist");
	hostile(b_swap, NULL);
	CHECK(exists("escaped") && !exists("d/a"), "swap stays inside");
	hostile(b_wh_up, "climbs above");
	hostile(b_wh_dotdot, "whiteout must name");
	hostile(b_long, "over PATH_MAX");
	hostile(b_selflink, "itself");
}

TEST(bounds)
{
	layer l;
	berth_error *err = NULL;

	opts.max_size = 10;
	layer_begin(&l);
	add_file(&l, "a", "12345");
	add_file(&l, "b", "123456");
	layer_end(&l);
	CHECK(apply(&l, 1, &err) == BERTH_ETOOBIG, "size");
	CHECK(err && strstr(err->msg, "entry 'b'") &&
		      strstr(err->msg, "--max-unpacked-size"),
	      "%s", err ? err->msg : "");
	berth_error_freep(&err);
	opts.max_size = 0;
	opts.max_entries = 2;
	reset_root();
	layer_begin(&l);
	add_file(&l, "a", "1");
	add_file(&l, "b", "2");
	add_file(&l, "c", "3");
	layer_end(&l);
	CHECK(apply(&l, 1, &err) == BERTH_ETOOBIG, "entries");
	CHECK(err && strstr(err->msg, "more than 2 entries"), "%s",
	      err ? err->msg : "");
	berth_error_free(err);
	opts.max_entries = 0;
}

TEST(sparse_and_large)
{
	layer l;
	berth_error *err = NULL;
	struct archive_entry *e = ent("sparse", AE_IFREG, 0644);
	const int64_t size = (int64_t)8 << 30;

	layer_begin(&l);
	archive_entry_set_size(e, size);
	archive_entry_sparse_add_entry(e, 0, 4096);
	archive_entry_sparse_add_entry(e, size - 4096, 4096);
	archive_write_header(l.w, e);
	{
		char blk[4096];

		memset(blk, 'z', sizeof(blk));
		archive_write_data(l.w, blk, sizeof(blk));
		archive_write_data(l.w, blk, sizeof(blk));
	}
	archive_entry_free(e);
	layer_end(&l);
	CHECK(l.used < (1 << 20), "the layer stays small: %zu", l.used);
	CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
	struct stat st = st_of("sparse");

	CHECK(st.st_size == size, "size %lld", (long long)st.st_size);
	CHECK(st.st_blocks * 512 < (1 << 20), "holes kept: %lld blocks",
	      (long long)st.st_blocks);
	berth_error_free(err);
}

TEST(rootless)
{
	layer l;
	berth_error *err = NULL;
	struct archive_entry *e;

	opts.rootless = true;
	layer_begin(&l);
	e = ent("ro", AE_IFDIR, 0500);
	archive_entry_set_uid(e, 4242);
	add(&l, e, NULL);
	add_file(&l, "ro/inside", "x");
	e = ent("dev/sda", AE_IFBLK, 0660);
	add(&l, e, NULL);
	layer_end(&l);
	CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
	CHECK(st_of("ro").st_uid == getuid(), "owner is the caller");
	CHECK((st_of("ro").st_mode & 07777) == 0500, "mode set at the end");
	CHECK(exists("ro/inside"), "written below a read-only directory");
	CHECK(!exists("dev/sda"), "device skipped");
	berth_error_free(err);
	opts.rootless = false;
}

TEST(not_tar)
{
	layer l = {0};
	berth_error *err = NULL;

	l.buf = xstrdup("this is not a tar archive at all, not even close......"
			"................................................");
	l.used = strlen(l.buf);
	CHECK(apply(&l, 1, &err) == BERTH_EPROTO, "refused");
	CHECK(err && strstr(err->msg, "layer 1: not a valid tar archive"), "%s",
	      err ? err->msg : "");
	berth_error_free(err);
}

TEST(empty_layer)
{
	layer l = {0};
	berth_error *err = NULL;

	l.buf = xcalloc(1, 1024);
	l.used = 1024;
	CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
	l.buf = xcalloc(1, 1);
	l.used = 0;
	CHECK(apply(&l, 1, &err) == 0, "%s", err ? err->msg : "");
	berth_error_free(err);
}

TEST_MAIN_FIXTURE("test_unpack_apply", setup, teardown)
