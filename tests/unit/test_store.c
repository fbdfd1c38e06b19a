/*
 * The local store: layout creation, blobs, the blob writer, index.json
 * (including entries written by other tools and concurrent updates).
 * Garbage collection, leases, fsck and skopeo: test_store_gc.c.
 */
#include "test.h"
#include "test_store_fixture.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define HELLO_DIGEST                                                           \
	"sha256:"                                                              \
	"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define OTHER_DIGEST                                                           \
	"sha256:"                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"

static berth_store *
open_ok(const char *root, unsigned flags)
{
	berth_store *s = NULL;
	berth_error *err = NULL;
	int r = berth_store_open(&s, root, flags, &err);

	CHECK(r == 0, "open '%s': %s", root, err ? err->msg : "");
	berth_error_free(err);
	return s;
}

static int
open_fails(const char *root, berth_error **err)
{
	berth_store *s = NULL;
	int r = berth_store_open(&s, root, 0, err);

	CHECK(s == NULL || r == 0, "store set on failure");
	berth_store_free(s);
	return r;
}

TEST(store_open)
{
	char *tmp = fx_tmpdir();
	char *root = fx_path(tmp, "a/b/store");
	char *p;
	berth_store *s = open_ok(root, 0);
	json_t *j;

	CHECK_STR(berth_store_root(s), root);
	p = fx_path(root, "oci-layout");
	j = json_load_file(p, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "imageLayoutVersion")),
		  "1.0.0");
	json_decref(j);
	free(p);
	p = fx_path(root, "index.json");
	j = json_load_file(p, 0, NULL);
	CHECK(json_integer_value(json_object_get(j, "schemaVersion")) == 2,
	      "schemaVersion");
	CHECK_STR(json_string_value(json_object_get(j, "mediaType")),
		  BERTH_MT_OCI_INDEX);
	CHECK(json_array_size(json_object_get(j, "manifests")) == 0,
	      "empty manifests");
	json_decref(j);
	free(p);
	p = fx_path(root, "blobs/sha256");
	CHECK(fx_count(p) == 0, "blobs/sha256 exists and is empty");
	free(p);
	p = fx_path(root, "ingest");
	CHECK(fx_count(p) == 0, "ingest exists and is empty");
	free(p);
	berth_store_free(s);

	/* Opening again (and with a trailing slash) changes nothing. */
	p = fx_path(root, "");
	s = open_ok(p, 0);
	CHECK_STR(berth_store_root(s), root);
	berth_store_free(s);
	free(p);

	/* A missing index.json (e.g. a layout from a crash) is recreated. */
	p = fx_path(root, "index.json");
	unlink(p);
	s = open_ok(root, BERTH_STORE_SYNC);
	CHECK(fx_exists(p), "index.json recreated");
	berth_store_free(s);
	free(p);

	free(root);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(store_open_refuses)
{
	char *tmp = fx_tmpdir();
	char *dir = fx_path(tmp, "garbage");
	char *p = fx_path(dir, "notes.txt");
	berth_error *err = NULL;
	int r;

	mkdir(dir, 0755);
	fx_write(p, "hello", 5);
	r = open_fails(dir, &err);
	CHECK(r == BERTH_ECORRUPT, "garbage dir: %d", r);
	CHECK(err && strstr(err->msg, "is not an OCI image layout"), "msg %s",
	      err ? err->msg : "");
	CHECK(err && err->hint && strstr(err->hint, "--root"), "hint");
	CHECK(fx_count(dir) == 1, "nothing added to a refused directory: %d",
	      fx_count(dir));
	free(p);
	p = fx_path(dir, ".lock");
	CHECK(!fx_exists(p), "no lock file left in a refused directory");
	berth_error_freep(&err);
	free(p);

	p = fx_path(dir, "oci-layout");
	fx_write(p, "{\"imageLayoutVersion\":\"2.0.0\"}", 30);
	r = open_fails(dir, &err);
	CHECK(r == BERTH_ECORRUPT, "version 2.0.0: %d", r);
	CHECK(err && strstr(err->msg, "unsupported imageLayoutVersion '2.0.0'"),
	      "msg %s", err ? err->msg : "");
	berth_error_freep(&err);

	fx_write(p, "not json", 8);
	r = open_fails(dir, &err);
	CHECK(r == BERTH_ECORRUPT, "bad oci-layout: %d", r);
	berth_error_freep(&err);
	free(p);

	/* A regular file where the store should be. */
	r = open_fails(p = fx_path(dir, "notes.txt"), &err);
	CHECK(r == BERTH_EIO, "file as root: %d", r);
	berth_error_freep(&err);
	free(p);

	/* A fresh file system's lost+found does not make it "not empty". */
	free(dir);
	dir = fx_path(tmp, "fresh");
	mkdir(dir, 0755);
	p = fx_path(dir, "lost+found");
	mkdir(p, 0700);
	berth_store_free(open_ok(dir, 0));
	free(p);

	free(dir);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(store_blobs)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp, 0);
	berth_error *err = NULL;
	berth_digest d, want, other;
	char *data = NULL, *path;
	size_t len = 0;
	int64_t size = -1;
	int r;

	berth_digest_parse(&want, HELLO_DIGEST, NULL);
	berth_digest_parse(&other, OTHER_DIGEST, NULL);
	CHECK(!berth_store_has_blob(NULL, s, &want), "absent at first");
	r = berth_store_read_blob(&data, &len, s, &want, 100, &err);
	CHECK(r == BERTH_ENOTFOUND, "read absent: %d", r);
	berth_error_freep(&err);

	r = berth_store_put_blob(&d, s, &other, "hello", 5, &err);
	CHECK(r == BERTH_EDIGEST, "put with wrong digest: %d", r);
	CHECK_STR(err ? err->msg : NULL,
		  "digest mismatch for blob '" OTHER_DIGEST
		  "': content is " HELLO_DIGEST);
	berth_error_freep(&err);
	CHECK(!berth_store_has_blob(NULL, s, &want) &&
		      !berth_store_has_blob(NULL, s, &other),
	      "nothing stored after a mismatch");

	r = berth_store_put_blob(&d, s, NULL, "hello", 5, &err);
	CHECK(r == 0, "put: %s", err ? err->msg : "");
	CHECK_STR(d.str, HELLO_DIGEST);
	CHECK(berth_store_has_blob(&size, s, &want) && size == 5,
	      "has, size %lld", (long long)size);
	path = berth_store_blob_path(s, &want);
	CHECK(strstr(path, "/blobs/sha256/2cf24dba") != NULL, "path %s", path);
	r = berth_store_read_blob(&data, &len, s, &want, 100, &err);
	CHECK(r == 0 && len == 5 && strcmp(data, "hello") == 0, "read back");
	free(data);
	data = NULL;
	r = berth_store_read_blob(&data, &len, s, &want, 4, &err);
	CHECK(r == BERTH_ETOOBIG, "over max: %d", r);
	berth_error_freep(&err);
	/* Present already: no error, no change. */
	r = berth_store_put_blob(NULL, s, &want, "hello", 5, &err);
	CHECK(r == 0, "put again");

	/* Content that no longer matches its name is reported. */
	fx_write(path, "hellO", 5);
	r = berth_store_read_blob(&data, &len, s, &want, 100, &err);
	CHECK(r == BERTH_ECORRUPT, "corrupt read: %d", r);
	CHECK(err && err->hint && strstr(err->hint, "berth fsck"), "hint");
	berth_error_freep(&err);
	/* put_blob replaces a damaged copy instead of trusting it. */
	r = berth_store_put_blob(NULL, s, &want, "hello", 5, &err);
	CHECK(r == 0, "put over a damaged copy");
	r = berth_store_read_blob(&data, &len, s, &want, 100, &err);
	CHECK(r == 0 && len == 5 && strcmp(data, "hello") == 0, "repaired");
	free(data);
	free(path);

	path = fx_path(tmp, "ingest");
	CHECK(fx_count(path) == 0, "no staging files left");
	free(path);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

/* Writes `data` in pieces of `step` bytes. */
static int
write_steps(berth_blob_writer *w, const char *data, size_t len, size_t step,
	    berth_error **err)
{
	for (size_t off = 0; off < len; off += step) {
		int r = berth_blob_writer_write(
			w, data + off, len - off < step ? len - off : step,
			err);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Each writer case's own store (fsync on) and a 3 MiB blob. */
typedef struct wfx {
	char *tmp, *ingest, *blobs, *big;
	size_t big_len;
	berth_store *s;
	berth_digest want, other;
} wfx;

static void
wfx_open(wfx *fx)
{
	fx->tmp = fx_tmpdir();
	fx->ingest = fx_path(fx->tmp, "ingest");
	fx->blobs = fx_path(fx->tmp, "blobs/sha256");
	fx->s = open_ok(fx->tmp, BERTH_STORE_SYNC);
	fx->big_len = 3 * 1024 * 1024 + 17;
	fx->big = malloc(fx->big_len);
	for (size_t i = 0; i < fx->big_len; i++)
		fx->big[i] = (char)(i * 131 + (i >> 12));
	berth_digest_of(&fx->want, BERTH_DIGEST_SHA256, fx->big, fx->big_len);
	berth_digest_parse(&fx->other, OTHER_DIGEST, NULL);
}

static void
wfx_close(wfx *fx)
{
	free(fx->big);
	free(fx->blobs);
	free(fx->ingest);
	berth_store_free(fx->s);
	fx_rm_rf(fx->tmp);
	free(fx->tmp);
}

/* The good case, in uneven pieces. */
TEST(writer_commits_in_pieces)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest got;
	int r;

	wfx_open(&fx);
	r = berth_store_blob_begin(&w, fx.s, &fx.want, (int64_t)fx.big_len,
				   &err);
	CHECK(r == 0, "begin");
	CHECK(fx_count(fx.ingest) == 1, "one staging file while writing");
	r = write_steps(w, fx.big, fx.big_len, 100003, &err);
	CHECK(r == 0, "write: %s", err ? err->msg : "");
	CHECK(berth_blob_writer_written(w) == (int64_t)fx.big_len, "written");
	CHECK(!berth_store_has_blob(NULL, fx.s, &fx.want),
	      "invisible before commit");
	r = berth_blob_writer_commit(&got, w, &err);
	CHECK(r == 0, "commit: %s", err ? err->msg : "");
	CHECK_STR(got.str, fx.want.str);
	CHECK(berth_store_has_blob(NULL, fx.s, &fx.want),
	      "visible after commit");
	CHECK(fx_count(fx.ingest) == 0, "staging empty after commit");
	berth_blob_writer_free(w);
	berth_error_free(err);
	wfx_close(&fx);
}

/* Wrong digest: exact message, nothing visible, staging empty. */
TEST(writer_digest_mismatch)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest got;
	char msg[512];
	int r;

	wfx_open(&fx);
	r = berth_store_blob_begin(&w, fx.s, &fx.other, (int64_t)fx.big_len,
				   &err);
	CHECK(r == 0, "begin");
	CHECK(write_steps(w, fx.big, fx.big_len, fx.big_len, &err) == 0,
	      "write");
	r = berth_blob_writer_commit(&got, w, &err);
	CHECK(r == BERTH_EDIGEST, "mismatch: %d", r);
	snprintf(msg, sizeof(msg),
		 "digest mismatch for blob '%s': content is %s", OTHER_DIGEST,
		 fx.want.str);
	CHECK_STR(err ? err->msg : NULL, msg);
	berth_error_freep(&err);
	CHECK(!berth_store_has_blob(NULL, fx.s, &fx.other),
	      "mismatch not visible");
	CHECK(fx_count(fx.ingest) == 0, "staging empty after mismatch");
	/* The same writer can start over after a failed commit. */
	r = berth_blob_writer_reset(w, &err);
	CHECK(r == 0, "reset after failure: %s", err ? err->msg : "");
	CHECK(fx_count(fx.ingest) == 1, "new staging file");
	berth_blob_writer_free(w);
	CHECK(fx_count(fx.ingest) == 0, "free removes the staging file");
	berth_error_free(err);
	wfx_close(&fx);
}

TEST(writer_truncated)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	char msg[512];
	int r;

	wfx_open(&fx);
	r = berth_store_blob_begin(&w, fx.s, &fx.want, (int64_t)fx.big_len,
				   &err);
	CHECK(write_steps(w, fx.big, 1000, 1000, &err) == 0, "write");
	r = berth_blob_writer_commit(NULL, w, &err);
	CHECK(r == BERTH_EDIGEST, "truncated: %d", r);
	snprintf(msg, sizeof(msg),
		 "blob '%s' is truncated: got 1000 of %zu bytes", fx.want.str,
		 fx.big_len);
	CHECK_STR(err ? err->msg : NULL, msg);
	berth_error_freep(&err);
	berth_blob_writer_free(w);
	CHECK(fx_count(fx.blobs) == 0 && fx_count(fx.ingest) == 0,
	      "nothing after truncation");
	wfx_close(&fx);
}

/* Too long: the write that passes expect_size fails. */
TEST(writer_too_long)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	int r;

	wfx_open(&fx);
	r = berth_store_blob_begin(&w, fx.s, &fx.want, 10, &err);
	CHECK(berth_blob_writer_write(w, fx.big, 8, &err) == 0, "8 of 10");
	r = berth_blob_writer_write(w, fx.big, 3, &err);
	CHECK(r == BERTH_EDIGEST, "too long: %d", r);
	CHECK(err && strstr(err->msg, "larger than expected"), "msg %s",
	      err ? err->msg : "");
	berth_error_freep(&err);
	/* Reset, then the right content (size 10 this time). */
	CHECK(berth_blob_writer_reset(w, &err) == 0, "reset");
	CHECK(berth_blob_writer_written(w) == 0, "written 0 after reset");
	berth_blob_writer_free(w);
	CHECK(fx_count(fx.blobs) == 0 && fx_count(fx.ingest) == 0,
	      "nothing left");
	berth_error_free(err);
	wfx_close(&fx);
}

/* Reset discards a bad start; no expectations: digest at commit. */
TEST(writer_reset_without_expectations)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest got;
	int r;

	wfx_open(&fx);
	r = berth_store_blob_begin(&w, fx.s, NULL, -1, &err);
	CHECK(r == 0, "begin without expectations");
	CHECK(berth_blob_writer_write(w, "garbage", 7, &err) == 0, "write");
	CHECK(berth_blob_writer_reset(w, &err) == 0, "reset");
	CHECK(berth_blob_writer_write(w, "hel", 3, &err) == 0 &&
		      berth_blob_writer_write(w, "lo", 2, &err) == 0,
	      "write");
	r = berth_blob_writer_commit(&got, w, &err);
	CHECK(r == 0, "commit");
	CHECK_STR(got.str, HELLO_DIGEST);
	berth_blob_writer_free(w);
	berth_error_free(err);
	wfx_close(&fx);
}

/* A blob that exists already: commit succeeds, staging dropped. */
TEST(writer_blob_exists_already)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest want;
	int r;

	wfx_open(&fx);
	berth_digest_parse(&want, HELLO_DIGEST, NULL);
	CHECK(berth_store_put_blob(NULL, fx.s, &want, "hello", 5, &err) == 0,
	      "put: %s", err ? err->msg : "");
	r = berth_store_blob_begin(&w, fx.s, &want, 5, &err);
	CHECK(r == 0, "begin");
	CHECK(berth_blob_writer_write(w, "hello", 5, &err) == 0, "write");
	CHECK(berth_blob_writer_commit(NULL, w, &err) == 0, "commit again");
	berth_blob_writer_free(w);
	CHECK(fx_count(fx.ingest) == 0, "staging empty");
	CHECK(fx_count(fx.blobs) == 1, "one blob");
	berth_error_free(err);
	wfx_close(&fx);
}

TEST(writer_empty_blob)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest want;
	int r;

	wfx_open(&fx);
	berth_digest_of(&want, BERTH_DIGEST_SHA256, "", 0);
	r = berth_store_blob_begin(&w, fx.s, &want, 0, &err);
	CHECK(r == 0, "begin");
	CHECK(berth_blob_writer_commit(NULL, w, &err) == 0, "empty commit");
	berth_blob_writer_free(w);
	CHECK(berth_store_has_blob(NULL, fx.s, &want), "empty blob stored");
	berth_error_free(err);
	wfx_close(&fx);
}

/* sha512 goes to blobs/sha512, created on demand. */
TEST(writer_sha512)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest want, got;
	char *p;
	int r;

	wfx_open(&fx);
	berth_digest_of(&want, BERTH_DIGEST_SHA512, "hello", 5);
	r = berth_store_blob_begin(&w, fx.s, &want, 5, &err);
	CHECK(r == 0, "begin");
	CHECK(berth_blob_writer_write(w, "hello", 5, &err) == 0, "write");
	CHECK(berth_blob_writer_commit(&got, w, &err) == 0, "sha512 commit: %s",
	      err ? err->msg : "");
	CHECK_STR(got.str, want.str);
	berth_blob_writer_free(w);
	CHECK(berth_store_has_blob(NULL, fx.s, &want), "sha512 stored");
	p = berth_store_blob_path(fx.s, &want);
	CHECK(strstr(p, "/blobs/sha512/") != NULL, "path %s", p);
	free(p);
	berth_error_free(err);
	wfx_close(&fx);
}

/* Freed without commit: nothing visible. */
TEST(writer_abandoned)
{
	wfx fx;
	berth_blob_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest want;
	int r;

	wfx_open(&fx);
	berth_digest_of(&want, BERTH_DIGEST_SHA256, "abandon", 7);
	r = berth_store_blob_begin(&w, fx.s, &want, 7, &err);
	CHECK(r == 0, "begin");
	CHECK(berth_blob_writer_write(w, "abandon", 7, &err) == 0, "write");
	berth_blob_writer_free(w);
	CHECK(!berth_store_has_blob(NULL, fx.s, &want),
	      "abandoned not visible");
	CHECK(fx_count(fx.ingest) == 0, "staging empty");
	berth_error_free(err);
	wfx_close(&fx);
}

/*
 * A write that the file system refuses (here: over RLIMIT_FSIZE, in a
 * child) is BERTH_EIO naming the store, and leaves nothing behind.
 */
TEST(store_write_error)
{
	char *tmp = fx_tmpdir();
	char *ingest = fx_path(tmp, "ingest");
	char *blobs = fx_path(tmp, "blobs/sha256");
	int status = 0;
	pid_t pid;

	berth_store_free(open_ok(tmp, 0));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {1 << 20, 1 << 20};
		berth_store *s = NULL;
		berth_blob_writer *w = NULL;
		berth_error *err = NULL;
		static char buf[1 << 20];
		int fails = 0, r;

		signal(SIGXFSZ, SIG_IGN);
		if (berth_store_open(&s, tmp, 0, NULL) < 0 ||
		    berth_store_blob_begin(&w, s, NULL, -1, NULL) < 0)
			_exit(100);
		setrlimit(RLIMIT_FSIZE, &rl);
		r = berth_blob_writer_write(w, buf, sizeof(buf), &err);
		if (r == 0)
			r = berth_blob_writer_write(w, buf, sizeof(buf), &err);
		if (r != BERTH_EIO)
			fails |= 1;
		if (!err || !strstr(err->msg, "cannot write '") ||
		    !strstr(err->msg, tmp))
			fails |= 2;
		berth_error_freep(&err);
		if (berth_blob_writer_commit(NULL, w, &err) >= 0)
			fails |= 4;
		berth_error_freep(&err);
		berth_blob_writer_free(w);
		berth_store_free(s);
		_exit(fails);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "write error child: status %d", status);
	CHECK(fx_count(ingest) == 0 && fx_count(blobs) == 0,
	      "nothing left after a write error");
	free(ingest);
	free(blobs);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(images_empty_list)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp, 0);
	berth_error *err = NULL;
	berth_image *v = NULL;
	size_t n = 99;
	int r;

	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == 0 && n == 0, "empty list");
	berth_images_free(v, n);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

/* A store naming nginx (a, with an annotation), app (b), alpine (a). */
typedef struct ifx {
	char *tmp;
	berth_store *s;
	fx_image a, b;
} ifx;

static void
ifx_open(ifx *fx)
{
	fx->tmp = fx_tmpdir();
	fx->s = open_ok(fx->tmp, 0);
	fx_image_make(&fx->a, fx->s, "a", 2, 0);
	fx_image_make(&fx->b, fx->s, "b", 1, 0);
	free(fx->a.desc.annotations_json);
	fx->a.desc.annotations_json = strdup("{\"org.example.kept\":\"yes\"}");
	fx_set(fx->s, "docker.io/library/nginx:latest", &fx->a.desc);
	fx_set(fx->s, "localhost:5000/team/app:v1", &fx->b.desc);
	fx_set(fx->s, "docker.io/library/alpine:3", &fx->a.desc);
}

static void
ifx_close(ifx *fx)
{
	fx_image_release(&fx->a);
	fx_image_release(&fx->b);
	berth_store_free(fx->s);
	fx_rm_rf(fx->tmp);
	free(fx->tmp);
}

TEST(images_listed_in_order)
{
	ifx fx;
	berth_error *err = NULL;
	berth_image *v = NULL;
	size_t n = 99;
	int r;

	ifx_open(&fx);
	r = berth_store_list(&v, &n, fx.s, &err);
	CHECK(r == 0 && n == 3, "three images: %zu", n);
	if (r == 0 && n == 3) {
		CHECK_STR(v[0].name, "docker.io/library/nginx:latest");
		CHECK_STR(v[1].name, "localhost:5000/team/app:v1");
		CHECK_STR(v[2].name, "docker.io/library/alpine:3");
		CHECK_STR(v[1].desc.digest.str, fx.b.manifest);
		CHECK(v[1].desc.size == fx.b.desc.size, "size");
		CHECK_STR(v[1].desc.media_type, BERTH_MT_OCI_MANIFEST);
	}
	berth_images_free(v, n);
	ifx_close(&fx);
}

TEST(images_resolve_keeps_platform_and_annotations)
{
	ifx fx;
	berth_error *err = NULL;
	berth_descriptor d = {0};
	json_t *ann;
	int r;

	ifx_open(&fx);
	r = berth_store_resolve(&d, fx.s, "docker.io/library/nginx:latest",
				&err);
	CHECK(r == 0, "resolve");
	CHECK_STR(d.digest.str, fx.a.manifest);
	CHECK(d.has_platform && strcmp(d.platform.os, "linux") == 0 &&
		      strcmp(d.platform.arch, "amd64") == 0,
	      "platform kept");
	ann = json_loads(d.annotations_json ? d.annotations_json : "", 0, NULL);
	CHECK_STR(json_string_value(json_object_get(
			  ann, "org.opencontainers.image.ref.name")),
		  "docker.io/library/nginx:latest");
	CHECK_STR(json_string_value(
			  json_object_get(ann, "io.containerd.image.name")),
		  "docker.io/library/nginx:latest");
	CHECK_STR(json_string_value(json_object_get(ann, "org.example.kept")),
		  "yes");
	json_decref(ann);
	berth_descriptor_release(&d);
	ifx_close(&fx);
}

/* Recording what is recorded already does not rewrite index.json. */
TEST(images_unchanged_entry_not_rewritten)
{
	ifx fx;
	char *idx = NULL;
	struct stat st1, st2;

	ifx_open(&fx);
	if (asprintf(&idx, "%s/index.json", fx.tmp) < 0)
		abort();
	stat(idx, &st1);
	fx_set(fx.s, "docker.io/library/nginx:latest", &fx.a.desc);
	stat(idx, &st2);
	CHECK(st1.st_ino == st2.st_ino,
	      "unchanged entry: index.json not replaced");
	fx_set(fx.s, "docker.io/library/nginx:latest", &fx.b.desc);
	stat(idx, &st2);
	CHECK(st1.st_ino != st2.st_ino, "changed entry: index.json replaced");
	free(idx);
	ifx_close(&fx);
}

/* Replacing keeps the position and leaves one entry. */
TEST(images_replace_keeps_position)
{
	ifx fx;
	berth_error *err = NULL;
	berth_image *v = NULL;
	size_t n = 99;
	int r;

	ifx_open(&fx);
	fx_set(fx.s, "docker.io/library/nginx:latest", &fx.b.desc);
	r = berth_store_list(&v, &n, fx.s, &err);
	CHECK(r == 0 && n == 3, "still three: %zu", n);
	if (r == 0 && n == 3) {
		CHECK_STR(v[0].name, "docker.io/library/nginx:latest");
		CHECK_STR(v[0].desc.digest.str, fx.b.manifest);
	}
	berth_images_free(v, n);
	ifx_close(&fx);
}

TEST(images_resolve_unknown)
{
	ifx fx;
	berth_error *err = NULL;
	berth_descriptor d = {0};
	int r;

	ifx_open(&fx);
	r = berth_store_resolve(&d, fx.s, "docker.io/library/redis:latest",
				&err);
	CHECK(r == BERTH_ENOTFOUND, "resolve unknown: %d", r);
	CHECK(err && strstr(err->msg, "image 'docker.io/library/redis:latest' "
				      "is not in store"),
	      "msg %s", err ? err->msg : "");
	berth_error_freep(&err);
	ifx_close(&fx);
}

TEST(images_remove)
{
	ifx fx;
	berth_error *err = NULL;
	berth_image *v = NULL;
	size_t n = 99;
	int r;

	ifx_open(&fx);
	r = berth_store_remove_image(fx.s, "docker.io/library/alpine:3", &err);
	CHECK(r == 0, "remove");
	r = berth_store_remove_image(fx.s, "docker.io/library/alpine:3", &err);
	CHECK(r == BERTH_ENOTFOUND, "remove again: %d", r);
	berth_error_freep(&err);
	r = berth_store_list(&v, &n, fx.s, &err);
	CHECK(r == 0 && n == 2, "two left: %zu", n);
	berth_images_free(v, n);
	ifx_close(&fx);
}

/* The manifest must be stored before it is named. */
TEST(images_set_needs_the_manifest)
{
	ifx fx;
	berth_error *err = NULL;
	berth_descriptor missing = {0};
	int r;

	ifx_open(&fx);
	missing.media_type = BERTH_MT_OCI_MANIFEST;
	berth_digest_parse(&missing.digest, OTHER_DIGEST, NULL);
	missing.size = 10;
	r = berth_store_set_image(fx.s, "docker.io/x/y:z", &missing, &err);
	CHECK(r == BERTH_ENOTFOUND, "set with missing manifest: %d", r);
	berth_error_freep(&err);
	missing = fx.a.desc;
	missing.size += 1;
	r = berth_store_set_image(fx.s, "docker.io/x/y:z", &missing, &err);
	CHECK(r == BERTH_EDIGEST, "set with wrong size: %d", r);
	berth_error_freep(&err);
	ifx_close(&fx);
}

/* Entries and fields that other tools wrote survive our updates. */
/* A store with one image's blobs and nothing named yet. */
static berth_store *
foreign_open(char **tmp, char **index, fx_image *a)
{
	berth_store *s;

	*tmp = fx_tmpdir();
	*index = fx_path(*tmp, "index.json");
	s = open_ok(*tmp, 0);
	fx_image_make(a, s, "a", 1, 0);
	return s;
}

static void
foreign_close(berth_store *s, char *tmp, char *index, fx_image *a)
{
	fx_image_release(a);
	free(index);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(store_foreign_entries)
{
	char *tmp, *index;
	berth_error *err = NULL;
	berth_image *v = NULL;
	berth_descriptor d = {0};
	fx_image a;
	berth_store *s = foreign_open(&tmp, &index, &a);
	size_t n = 0;
	char *text;
	json_t *j, *m;
	int r;

	text = NULL;
	{
		json_t *root = json_pack(
			"{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s}, s:s},"
			" {s:s, s:s, s:I, s:{s:s, s:s}},"
			" {s:s, s:s, s:I}]}",
			"schemaVersion", 2, "x-tool", "umoci-like", "manifests",
			"mediaType", BERTH_MT_OCI_MANIFEST, "digest",
			a.manifest, "size", (json_int_t)a.desc.size,
			"annotations", "org.opencontainers.image.ref.name",
			"latest", "x-extra", "kept", "mediaType",
			BERTH_MT_OCI_MANIFEST, "digest", a.manifest, "size",
			(json_int_t)a.desc.size, "annotations",
			"org.opencontainers.image.ref.name", "v1",
			"io.containerd.image.name",
			"docker.io/library/busybox:v1", "mediaType",
			BERTH_MT_OCI_MANIFEST, "digest", a.manifest, "size",
			(json_int_t)a.desc.size);

		text = json_dumps(root, JSON_INDENT(2));
		json_decref(root);
	}
	fx_write(index, text, strlen(text));
	free(text);

	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == 0 && n == 2, "two named entries: %zu", n);
	if (r == 0 && n == 2) {
		CHECK_STR(v[0].name, "latest");
		/* containerd's full name wins over its tag-only ref.name */
		CHECK_STR(v[1].name, "docker.io/library/busybox:v1");
	}
	berth_images_free(v, n);
	r = berth_store_resolve(&d, s, "docker.io/library/busybox:v1", &err);
	CHECK(r == 0, "resolve containerd name");
	berth_descriptor_release(&d);

	fx_set(s, "docker.io/library/nginx:latest", &a.desc);
	r = berth_store_remove_image(s, "docker.io/library/busybox:v1", &err);
	CHECK(r == 0, "remove containerd entry");

	j = json_load_file(index, 0, NULL);
	CHECK(j != NULL, "index.json valid");
	CHECK_STR(json_string_value(json_object_get(j, "x-tool")),
		  "umoci-like");
	m = json_object_get(j, "manifests");
	CHECK(json_array_size(m) == 3, "entries: %zu", json_array_size(m));
	CHECK_STR(json_string_value(
			  json_object_get(json_array_get(m, 0), "x-extra")),
		  "kept");
	CHECK(json_object_get(json_array_get(m, 1), "annotations") == NULL,
	      "unnamed entry untouched");
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(json_array_get(m, 2), "annotations"),
			  "org.opencontainers.image.ref.name")),
		  "docker.io/library/nginx:latest");
	json_decref(j);
	foreign_close(s, tmp, index, &a);
}

/* A named entry that is not a valid descriptor is reported. */
TEST(store_foreign_invalid_entry)
{
	char *tmp, *index;
	berth_error *err = NULL;
	berth_image *v = NULL;
	berth_descriptor d = {0};
	fx_image a;
	berth_store *s = foreign_open(&tmp, &index, &a);
	size_t n = 0;
	char *text;
	int r;

	text = strdup("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		      "\"x\",\"size\":1,\"annotations\":{\"org."
		      "opencontainers.image.ref.name\":\"bad\"}}]}");
	fx_write(index, text, strlen(text));
	free(text);
	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == BERTH_ECORRUPT, "invalid entry: %d", r);
	CHECK(err && strstr(err->msg, "invalid entry for 'bad'") &&
		      strstr(err->msg, "'digest'") && err->hint,
	      "msg %s", err ? err->msg : "");
	berth_error_freep(&err);
	r = berth_store_resolve(&d, s, "bad", NULL);
	CHECK(r == BERTH_ECORRUPT, "resolve invalid entry: %d", r);
	foreign_close(s, tmp, index, &a);
}

/* A broken index.json is reported, not overwritten. */
TEST(store_foreign_broken_index)
{
	char *tmp, *index;
	berth_error *err = NULL;
	berth_image *v = NULL;
	fx_image a;
	berth_store *s = foreign_open(&tmp, &index, &a);
	size_t n = 0;
	char *text;
	int r;

	fx_write(index, "{\"manifests\": [", 15);
	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == BERTH_ECORRUPT, "broken index: %d", r);
	CHECK(err && strstr(err->msg, "is not valid JSON"), "msg %s",
	      err ? err->msg : "");
	berth_error_freep(&err);
	r = berth_store_set_image(s, "docker.io/a/b:c", &a.desc, &err);
	CHECK(r == BERTH_ECORRUPT, "set on broken index: %d", r);
	berth_error_freep(&err);
	text = fx_read(index, NULL);
	CHECK_STR(text, "{\"manifests\": [");
	free(text);
	foreign_close(s, tmp, index, &a);
}

/* Two processes adding 50 images each at once: all 100 survive. */
TEST(store_concurrent_set)
{
	char *tmp = fx_tmpdir();
	char *index = fx_path(tmp, "index.json");
	berth_store *s = open_ok(tmp, 0);
	berth_error *err = NULL;
	berth_image *v = NULL;
	pid_t pids[2];
	size_t n = 0;
	fx_image a;
	json_t *j;
	int r, status, seen[2][50] = {{0}};

	fx_image_make(&a, s, "a", 1, 0);
	fflush(stdout);
	for (int c = 0; c < 2; c++) {
		pids[c] = fork();
		if (pids[c] == 0) {
			berth_store *cs = NULL;

			if (berth_store_open(&cs, tmp, 0, NULL) < 0)
				_exit(3);
			for (int i = 0; i < 50; i++) {
				char name[64];

				snprintf(name, sizeof(name),
					 "localhost:5000/p%d/img:%d", c, i);
				fx_set(cs, name, &a.desc);
			}
			berth_store_free(cs);
			_exit(0);
		}
	}
	for (int c = 0; c < 2; c++) {
		waitpid(pids[c], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child %d status %d", c, status);
	}
	j = json_load_file(index, JSON_REJECT_DUPLICATES, NULL);
	CHECK(j != NULL, "index.json valid after concurrent updates");
	json_decref(j);
	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == 0 && n == 100, "100 images: %zu", n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int c, k;

		if (sscanf(v[i].name, "localhost:5000/p%d/img:%d", &c, &k) ==
			    2 &&
		    c >= 0 && c < 2 && k >= 0 && k < 50)
			seen[c][k]++;
	}
	for (int c = 0; c < 2; c++)
		for (int k = 0; k < 50; k++)
			CHECK(seen[c][k] == 1, "p%d/img:%d seen %d times", c, k,
			      seen[c][k]);
	berth_images_free(v, n);
	CHECK(fx_count(tmp) == 4, "no temporaries left in root: %d",
	      fx_count(tmp)); /* oci-layout index.json blobs ingest */

	fx_image_release(&a);
	free(index);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

/* Eight processes creating the same store at the same instant all succeed. */
TEST(store_concurrent_open)
{
	char *tmp = fx_tmpdir();
	int failed_rounds = 0;

	for (int round = 0; round < 20; round++) {
		char rel[32];
		char *root;
		pid_t pids[8];
		int go[2], status, bad = 0;

		snprintf(rel, sizeof(rel), "s%d", round);
		root = fx_path(tmp, rel);
		if (pipe(go) < 0)
			exit(2);
		fflush(stdout);
		for (int c = 0; c < 8; c++) {
			pids[c] = fork();
			if (pids[c] == 0) {
				berth_store *cs = NULL;
				char b;

				close(go[1]);
				if (read(go[0], &b, 1) < 0) /* EOF: go */
					_exit(4);
				_exit(berth_store_open(&cs, root, 0, NULL) == 0
					      ? 0
					      : 3);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int c = 0; c < 8; c++) {
			waitpid(pids[c], &status, 0);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				bad++;
		}
		if (bad)
			failed_rounds++;
		free(root);
	}
	CHECK(failed_rounds == 0, "rounds with a failed open: %d of 20",
	      failed_rounds);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(store_default_root)
{
	char *r;

	if (geteuid() == 0) {
		r = berth_store_default_root();
		CHECK_STR(r, "/var/lib/berth");
		free(r);
		return;
	}
	setenv("XDG_DATA_HOME", "/x/data", 1);
	r = berth_store_default_root();
	CHECK_STR(r, "/x/data/berth");
	free(r);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	r = berth_store_default_root();
	CHECK_STR(r, "/home/u/.local/share/berth");
	free(r);
}

TEST_MAIN("test_store")
