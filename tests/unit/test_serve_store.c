/* The registry server's storage: the file system blob store and the SQLite
 * metadata store. */
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/digest.h"
#include "server/storage/blobstore.h"
#include "server/storage/meta.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static char root[] = "/tmp/berth-unit-serve.XXXXXX";

static void
rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		printf("cannot remove %s\n", dir);
	free(cmd);
}

static int
read_fd_all(int fd, char *buf, size_t max)
{
	ssize_t n = read(fd, buf, max);

	return (int)n;
}

TEST(blobstore)
{
	berth_blobstore *bs = NULL;
	berth_bs_writer *w = NULL;
	berth_bs_reader *rd = NULL;
	berth_error *err = NULL;
	berth_digest d, d512, wrong;
	int64_t size = -1;
	char id[33], buf[64];
	int fd = -1;
	struct stat st;
	char *path;

	CHECK(berth_blobstore_fs_new(&bs, root, &err) == 0, "new: %s",
	      err ? err->msg : "");
	berth_digest_of(&d, BERTH_DIGEST_SHA256, "hello world", 11);

	/* put / stat / open / remove */
	CHECK(bs->ops->stat(bs, &d, &size, &err) == BERTH_ENOTFOUND, "absent");
	berth_error_freep(&err);
	berth_digest_of(&wrong, BERTH_DIGEST_SHA256, "other", 5);
	CHECK(bs->ops->put(bs, &wrong, "hello world", 11, &err) ==
		      BERTH_EDIGEST,
	      "put verifies");
	berth_error_freep(&err);
	CHECK(bs->ops->put(bs, &d, "hello world", 11, &err) == 0, "put");
	CHECK(bs->ops->stat(bs, &d, &size, &err) == 0 && size == 11,
	      "stat %lld", (long long)size);
	path = berth_blobstore_fs_path(bs, &d);
	CHECK(strstr(path, "/blobs/sha256/b9/b94d27") != NULL, "path %s", path);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode");
	free(path);
	CHECK(bs->ops->open_range(bs, &rd, &d, 0, -1, &err) == 0, "open");
	CHECK(rd->size == 11 && rd->off == 0 && rd->len == 11 && rd->fd >= 0 &&
		      rd->fd_off == 0 && rd->redirect == NULL,
	      "whole blob, with a file for sendfile");
	fd = rd->fd;
	CHECK(read_fd_all(fd, buf, sizeof(buf)) == 11 &&
		      !memcmp(buf, "hello world", 11),
	      "content");
	berth_bs_reader_closep(&rd);

	/* a range, read through the callback; cut at the end */
	CHECK(bs->ops->open_range(bs, &rd, &d, 6, 100, &err) == 0, "range");
	CHECK(rd->off == 6 && rd->len == 5 && rd->fd_off == 6, "range cut");
	CHECK(rd->ops->reader_read(rd, buf, 3, &err) == 3 &&
		      rd->ops->reader_read(rd, buf + 3, sizeof(buf), &err) ==
			      2 &&
		      rd->ops->reader_read(rd, buf, sizeof(buf), &err) == 0 &&
		      !memcmp(buf, "world", 5),
	      "range content");
	berth_bs_reader_closep(&rd);
	CHECK(bs->ops->open_range(bs, &rd, &wrong, 0, -1, &err) ==
		      BERTH_ENOTFOUND,
	      "open absent");
	berth_error_freep(&err);

	/* an upload in two writes, a wrong digest, then the right one */
	CHECK(berth_upload_id_new(id, &err) == 0 && berth_upload_id_valid(id),
	      "id");
	CHECK(!berth_upload_id_valid("../../etc"), "hostile id");
	CHECK(!berth_upload_id_valid("ABCDEF0123456789"), "uppercase id");
	CHECK(bs->ops->upload_create(bs, id, &err) == 0, "create");
	CHECK(bs->ops->upload_open(bs, id, &w, &err) == 0, "open writer");
	{
		berth_bs_writer *w2 = NULL;

		CHECK(bs->ops->upload_open(bs, id, &w2, &err) == BERTH_EEXIST,
		      "second writer is refused");
		berth_error_freep(&err);
	}
	CHECK(w->ops->writer_write(w, "hello ", 6, &err) == 0, "write 1");
	berth_bs_writer_closep(&w);
	CHECK(bs->ops->upload_size(bs, id, &size, &err) == 0 && size == 6,
	      "size 6");
	CHECK(bs->ops->upload_open(bs, id, &w, &err) == 0, "reopen");
	CHECK(w->ops->writer_offset(w) == 6, "offset 6");
	CHECK(w->ops->writer_write(w, "world", 5, &err) == 0, "write 2");
	berth_bs_writer_closep(&w);
	CHECK(bs->ops->upload_commit(bs, id, &wrong, &size, &err) ==
		      BERTH_EDIGEST,
	      "wrong digest refused");
	berth_error_freep(&err);
	CHECK(bs->ops->upload_size(bs, id, &size, &err) == 0 && size == 11,
	      "session intact after a refused commit");
	/* The running hash was used up: the commit must hash the file again. */
	CHECK(bs->ops->upload_commit(bs, id, &d, &size, &err) == 0 &&
		      size == 11,
	      "commit: %s", err ? err->msg : "");
	CHECK(bs->ops->upload_size(bs, id, &size, &err) == BERTH_ENOTFOUND,
	      "session gone after commit");
	berth_error_freep(&err);

	/* sha512, hashed from the file at commit */
	berth_digest_of(&d512, BERTH_DIGEST_SHA512, "abc", 3);
	CHECK(berth_upload_id_new(id, &err) == 0, "id");
	CHECK(bs->ops->upload_create(bs, id, &err) == 0, "create");
	CHECK(bs->ops->upload_open(bs, id, &w, &err) == 0, "open");
	CHECK(w->ops->writer_write(w, "abc", 3, &err) == 0, "write");
	berth_bs_writer_closep(&w);
	CHECK(bs->ops->upload_commit(bs, id, &d512, &size, &err) == 0,
	      "commit 512");
	CHECK(bs->ops->stat(bs, &d512, &size, &err) == 0 && size == 3,
	      "stat 512");

	/* remove */
	CHECK(berth_upload_id_new(id, &err) == 0, "id");
	CHECK(bs->ops->upload_create(bs, id, &err) == 0, "create");
	CHECK(bs->ops->upload_remove(bs, id, &err) == 0, "upload remove");
	CHECK(bs->ops->upload_remove(bs, id, &err) == BERTH_ENOTFOUND, "twice");
	berth_error_freep(&err);
	CHECK(bs->ops->remove(bs, &d, &err) == 0, "remove");
	CHECK(bs->ops->stat(bs, &d, &size, &err) == BERTH_ENOTFOUND, "removed");
	berth_error_freep(&err);
	berth_blobstore_free(bs);
}

#define DA                                                                     \
	"sha256:"                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB                                                                     \
	"sha256:"                                                              \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DM                                                                     \
	"sha256:"                                                              \
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DR                                                                     \
	"sha256:"                                                              \
	"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static bool
only_b(const char *repo, void *ud)
{
	return strcmp(repo, "b") == 0;
}

/*
 * The store the meta case runs on: SQLite in the fixture's directory, or
 * the (empty) PostgreSQL database of $BERTH_TEST_META_URL, which
 * tests/integration/t_serve_pg.sh sets.
 */
static int
meta_open(berth_meta **m, const char *db, int conns, berth_error **err)
{
	const char *url = getenv("BERTH_TEST_META_URL");

	if (url && *url)
		return berth_meta_pg_open(m, url, conns, err);
	return berth_meta_sqlite_open(m, db, conns, err);
}

TEST(meta)
{
	char *db = xasprintf("%s/meta.db", root);
	berth_meta *m = NULL;
	berth_error *err = NULL;
	berth_meta_manifest mf = {0}, *refs = NULL;
	char **v = NULL, *missing = NULL, *repo = NULL;
	const char *blobs[] = {DA, DB};
	const char *tags[] = {"v1", "latest"};
	berth_meta_put put = {0};
	bool more = true, exists = true;
	int64_t size = 0;
	size_t n = 0;

	CHECK(meta_open(&m, db, 3, &err) == 0, "open: %s", err ? err->msg : "");

	/* blob links are per repository */
	CHECK(berth_meta_blob_link(m, "a", DA, 10, &err) == 0, "link");
	CHECK(berth_meta_blob_link(m, "a", DA, 10, &err) == 0, "link twice");
	CHECK(berth_meta_blob_get(m, "a", DA, &size, &err) == 0 && size == 10,
	      "get");
	CHECK(berth_meta_blob_get(m, "b", DA, &size, &err) == BERTH_ENOTFOUND,
	      "not in b");
	berth_error_freep(&err);
	CHECK(berth_meta_blob_mount(m, "b", DA, "c", &size, &err) ==
		      BERTH_ENOTFOUND,
	      "mount from a repository without it");
	berth_error_freep(&err);
	CHECK(berth_meta_blob_mount(m, "b", DA, "a", &size, &err) == 0 &&
		      size == 10,
	      "mount");
	CHECK(berth_meta_blob_find(m, DA, only_b, NULL, &repo, &size, &err) ==
			      0 &&
		      !strcmp(repo, "b"),
	      "find a readable one");
	free(repo);

	/* a manifest with a missing blob changes nothing */
	mf.digest = DM;
	mf.media_type = "application/vnd.oci.image.manifest.v1+json";
	mf.size = 100;
	put.manifest = &mf;
	put.blobs = blobs;
	put.n_blobs = 2;
	put.tags = tags;
	put.n_tags = 2;
	CHECK(berth_meta_manifest_put(m, "a", &put, &missing, &err) ==
		      BERTH_ENOTFOUND,
	      "missing blob");
	CHECK_STR(missing, DB);
	free(missing);
	missing = NULL;
	berth_error_freep(&err);
	CHECK(berth_meta_manifest_get(m, "a", "v1", false, &mf, &err) ==
		      BERTH_ENOTFOUND,
	      "no tag after a refused put");
	berth_error_freep(&err);
	mf.digest = DM;
	mf.media_type = "application/vnd.oci.image.manifest.v1+json";

	CHECK(berth_meta_blob_link(m, "a", DB, 20, &err) == 0, "link b");
	{
		/* a descriptor whose size is not the blob's changes nothing */
		const int64_t lying[] = {10, 1000000000};

		put.blob_sizes = lying;
		CHECK(berth_meta_manifest_put(m, "a", &put, &missing, &err) ==
				      BERTH_EPROTO &&
			      strstr(err->msg, DB) != NULL,
		      "a lying size is refused, naming the blob");
		berth_error_freep(&err);
		CHECK(berth_meta_manifest_get(m, "a", "v1", false, NULL,
					      &err) == BERTH_ENOTFOUND,
		      "no tag after a lying size");
		berth_error_freep(&err);
	}
	{
		const int64_t sizes[] = {10, 20};

		put.blob_sizes = sizes;
		CHECK(berth_meta_manifest_put(m, "a", &put, &missing, &err) ==
			      0,
		      "put");
		put.blob_sizes = NULL;
	}
	{
		berth_meta_manifest got = {0};

		CHECK(berth_meta_manifest_get(m, "a", "latest", false, &got,
					      &err) == 0,
		      "get by tag");
		CHECK_STR(got.digest, DM);
		CHECK_STR(got.media_type,
			  "application/vnd.oci.image.manifest.v1+json");
		CHECK(got.size == 100, "size");
		berth_meta_manifest_release(&got);
		CHECK(berth_meta_manifest_get(m, "a", DM, true, &got, &err) ==
			      0,
		      "get by digest");
		berth_meta_manifest_release(&got);
	}

	/* referrers */
	{
		berth_meta_manifest r = {0};
		berth_meta_put rp = {0};

		r.digest = DR;
		r.media_type = "application/vnd.oci.image.manifest.v1+json";
		r.size = 50;
		r.artifact_type = "application/vnd.example.sbom";
		r.subject = DM;
		r.annotations = "{\"k\":\"v\"}";
		rp.manifest = &r;
		CHECK(berth_meta_manifest_put(m, "a", &rp, &missing, &err) == 0,
		      "put referrer");
	}
	CHECK(berth_meta_referrers(m, "a", DM, NULL, &refs, &n, &err) == 0 &&
		      n == 1,
	      "referrers %zu", n);
	if (n == 1) {
		CHECK_STR(refs[0].digest, DR);
		CHECK_STR(refs[0].annotations, "{\"k\":\"v\"}");
		berth_meta_manifest_release(&refs[0]);
	}
	free(refs);
	CHECK(berth_meta_referrers(m, "a", DM, "application/other", &refs, &n,
				   &err) == 0 &&
		      n == 0,
	      "filtered out");
	free(refs);

	/* tags, paging */
	CHECK(berth_meta_tags(m, "a", NULL, -1, &v, &more, &err) == 0 && !more,
	      "tags");
	CHECK(v[0] && v[1] && !v[2] && !strcmp(v[0], "latest") &&
		      !strcmp(v[1], "v1"),
	      "sorted tags");
	berth_strv_free(v);
	CHECK(berth_meta_tags(m, "a", NULL, 1, &v, &more, &err) == 0 && more &&
		      v[0] && !v[1],
	      "first page");
	berth_strv_free(v);
	CHECK(berth_meta_tags(m, "a", "latest", 1, &v, &more, &err) == 0 &&
		      !more && v[0] && !strcmp(v[0], "v1"),
	      "second page");
	berth_strv_free(v);
	CHECK(berth_meta_tags(m, "nope", NULL, -1, &v, &more, &err) ==
		      BERTH_ENOTFOUND,
	      "unknown repository");
	berth_error_freep(&err);
	CHECK(berth_meta_catalog(m, NULL, -1, &v, &more, &err) == 0 && v[0] &&
		      v[1] && !v[2] && !strcmp(v[0], "a") && !strcmp(v[1], "b"),
	      "catalog");
	berth_strv_free(v);

	/* deletes */
	CHECK(berth_meta_tag_delete(m, "a", "v1", &err) == 0, "tag delete");
	CHECK(berth_meta_tag_delete(m, "a", "v1", &err) == BERTH_ENOTFOUND,
	      "twice");
	berth_error_freep(&err);
	CHECK(berth_meta_manifest_delete(m, "a", DM, &err) == 0,
	      "manifest delete");
	CHECK(berth_meta_manifest_get(m, "a", "latest", false, &mf, &err) ==
		      BERTH_ENOTFOUND,
	      "tags of a deleted manifest go with it");
	berth_error_freep(&err);
	CHECK(berth_meta_blob_unlink(m, "a", DA, &err) == 0, "unlink");
	CHECK(berth_meta_blob_unlink(m, "a", DA, &err) == BERTH_ENOTFOUND,
	      "twice");
	berth_error_freep(&err);
	CHECK(berth_meta_repo_exists(m, "a", &exists, &err) == 0 && exists,
	      "exists");

	/* uploads */
	CHECK(berth_meta_upload_add(m, "0123456789abcdef", "a", "127.0.0.1",
				    NULL, &err) == 0,
	      "add");
	CHECK(berth_meta_upload_get(m, "0123456789abcdef", &repo, NULL, &err) ==
			      0 &&
		      !strcmp(repo, "a"),
	      "get");
	free(repo);
	CHECK(berth_meta_uploads_older(m, (int64_t)time(NULL) + 10, &v, &err) ==
			      0 &&
		      v[0] && !v[1],
	      "older");
	berth_strv_free(v);
	CHECK(berth_meta_upload_finish(m, "0123456789abcdef", "a", DA, 10,
				       &err) == 0,
	      "finish");
	CHECK(berth_meta_upload_get(m, "0123456789abcdef", &repo, NULL, &err) ==
		      BERTH_ENOTFOUND,
	      "finished upload is gone");
	berth_error_freep(&err);
	CHECK(berth_meta_blob_get(m, "a", DA, &size, &err) == 0,
	      "and its blob linked");
	berth_meta_free(m);

	/* everything is still there after reopening */
	CHECK(meta_open(&m, db, 1, &err) == 0, "reopen");
	CHECK(berth_meta_blob_get(m, "b", DA, &size, &err) == 0,
	      "durable link");
	berth_meta_free(m);
	free(db);
}

static void
fixture_setup(void)
{
	if (mkdtemp(root) == NULL)
		exit(1);
}

static void
fixture_teardown(void)
{
	rm_rf(root);
}

TEST_MAIN_FIXTURE("test_serve_store", fixture_setup, fixture_teardown)
