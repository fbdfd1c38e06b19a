/*
 * The server's thin storage API (storage/storage.h) over the file system
 * and SQLite pair, and the answer built from a blob-store reader
 * (handlers/blob_resp.h) for a store without files.
 */
#include "test.h"

#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "berth/digest.h"
#include "server/handlers/blob_resp.h"
#include "server/storage/storage.h"
#include "util/error.h"
#include "util/xalloc.h"

static long retry_after; /* of srv_storage_upload_start */

static char root[] = "/tmp/berth-unit-storage.XXXXXX";

static bool
only_a(const char *repo, void *ud)
{
	return strcmp(repo, "a") == 0;
}

/* Pushes `content` into repo through an upload session. */
static int
push(srv_storage *st, const char *repo, const char *content,
     const berth_digest *want, berth_error **err)
{
	berth_bs_writer *w = NULL;
	char id[33];
	int r;

	if ((r = srv_storage_upload_start(st, id, repo, "127.0.0.1",
					  &retry_after, err)) < 0 ||
	    (r = srv_storage_upload_open(st, &w, id, err)) < 0)
		return r;
	r = srv_storage_upload_append(w, content, strlen(content), err);
	berth_bs_writer_close(w);
	if (r < 0)
		return r;
	return srv_storage_upload_commit(st, id, repo, want, err);
}

/* Sets the last activity of session id to `ago` seconds back. */
static void
make_idle(const char *id, long ago)
{
	char *path = xasprintf("%s/uploads/%s", root, id);
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= ago;
	tv[1] = tv[0];
	CHECK(utimes(path, tv) == 0, "set the mtime of %s", path);
	free(path);
}

/* Sessions expire by their last activity, never by their start. */
static void
test_upload_expiry(srv_storage *st)
{
	berth_bs_writer *w = NULL;
	berth_error *err = NULL;
	char busy[33], idle[33], *repo = NULL;

	st->upload_ttl = 100;
	CHECK(srv_storage_upload_start(st, busy, "x", "10.0.0.1", &retry_after,
				       &err) == 0 &&
		      srv_storage_upload_start(st, idle, "x", "10.0.0.1",
					       &retry_after, &err) == 0,
	      "start two sessions");
	/* Both started long ago (as far as their files tell); one is then
	 * written to, the other left alone. */
	make_idle(busy, 500);
	make_idle(idle, 500);
	CHECK(srv_storage_upload_open(st, &w, busy, &err) == 0 &&
		      srv_storage_upload_append(w, "abc", 3, &err) == 0,
	      "write to the busy one");
	berth_bs_writer_closep(&w);
	srv_storage_purge(st, (int64_t)time(NULL));
	CHECK(srv_storage_upload_repo(st, &repo, busy, &err) == 0,
	      "a session active just now survives, however old");
	free(repo);
	repo = NULL;
	CHECK(srv_storage_upload_repo(st, &repo, idle, &err) == BERTH_ENOTFOUND,
	      "an idle session is dropped");
	berth_error_freep(&err);
	/* A lookup applies the same rule, between purges. */
	make_idle(busy, 101);
	CHECK(srv_storage_upload_repo(st, &repo, busy, &err) ==
			      BERTH_ENOTFOUND &&
		      strstr(err->msg, "expired") != NULL,
	      "a lookup of an expired session finds nothing: %s",
	      err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_open(st, &w, busy, &err) == BERTH_ENOTFOUND,
	      "and its bytes are gone");
	berth_error_freep(&err);
	st->upload_ttl = 86400;
}

/* Open sessions are capped per repository and per client. */
static void
test_upload_caps(srv_storage *st)
{
	berth_error *err = NULL;
	char id[5][33];

	srv_storage_set_uploads(st, 86400, 3, 2);
	CHECK(srv_storage_upload_start(st, id[0], "caps", "10.0.0.2",
				       &retry_after, &err) == 0 &&
		      srv_storage_upload_start(st, id[1], "caps", "10.0.0.3",
					       &retry_after, &err) == 0,
	      "two sessions in one repository");
	/* The first was last active 1000 s ago: it expires first. */
	make_idle(id[0], 1000);
	retry_after = 0;
	CHECK(srv_storage_upload_start(st, id[2], "caps", "10.0.0.4",
				       &retry_after, &err) == BERTH_ETOOMANY &&
		      strstr(err->msg, "'caps'") != NULL,
	      "a third is refused, naming the repository: %s",
	      err ? err->msg : "");
	CHECK(retry_after > 80000 && retry_after <= 85400,
	      "Retry-After is when the idlest session expires (86400 - 1000 "
	      "s from now): %ld",
	      retry_after);
	berth_error_freep(&err);
	CHECK(srv_storage_upload_start(st, id[2], "caps2", "10.0.0.2",
				       &retry_after, &err) == 0 &&
		      srv_storage_upload_start(st, id[3], "caps3", "10.0.0.2",
					       &retry_after, &err) == 0,
	      "the client opens more in other repositories");
	CHECK(srv_storage_upload_start(st, id[4], "caps4", "10.0.0.2",
				       &retry_after, &err) == BERTH_ETOOMANY &&
		      strstr(err->msg, "10.0.0.2") != NULL,
	      "a fourth of one client is refused, naming it: %s",
	      err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_cancel(st, id[0], &err) == 0 &&
		      srv_storage_upload_start(st, id[4], "caps", "10.0.0.5",
					       &retry_after, &err) == 0,
	      "a cancelled session frees its place");
	/* Expired sessions do not count. */
	make_idle(id[1], 90000);
	make_idle(id[4], 90000);
	st->cap_purged = 0; /* not purged this second already */
	CHECK(srv_storage_upload_start(st, id[0], "caps", "10.0.0.6",
				       &retry_after, &err) == 0,
	      "expired sessions give their places back: %s",
	      err ? err->msg : "");
	berth_error_freep(&err);
	st->upload_caps.per_repo = 0;
	st->upload_caps.per_client = 0;
}

static void
test_uploads(srv_storage *st)
{
	berth_bs_writer *w = NULL;
	berth_error *err = NULL;
	berth_digest d, wrong;
	char id[33], *repo = NULL;
	int64_t size = -1;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, "layer", 5);
	berth_digest_of(&wrong, BERTH_DIGEST_SHA256, "other", 5);

	CHECK(srv_storage_upload_start(st, id, "a", "127.0.0.1", &retry_after,
				       &err) == 0,
	      "start");
	CHECK(srv_storage_upload_repo(st, &repo, id, &err) == 0, "repo");
	CHECK_STR(repo, "a");
	free(repo);
	repo = NULL;
	CHECK(srv_storage_upload_open(st, &w, id, &err) == 0, "open");
	CHECK(srv_storage_upload_append(w, "layer", 5, &err) == 0 &&
		      srv_storage_upload_offset(w) == 5,
	      "append");
	berth_bs_writer_closep(&w);
	CHECK(srv_storage_upload_size(st, id, &size, &err) == 0 && size == 5,
	      "size");
	/* A mismatch ends the session, bytes and row. */
	CHECK(srv_storage_upload_commit(st, id, "a", &wrong, &err) ==
		      BERTH_EDIGEST,
	      "mismatch");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_repo(st, &repo, id, &err) == BERTH_ENOTFOUND,
	      "failed session forgotten");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_size(st, id, &size, &err) == BERTH_ENOTFOUND,
	      "failed session's bytes gone");
	berth_error_freep(&err);
	CHECK(srv_storage_blob_stat(st, "a", &wrong, &size, &err) ==
		      BERTH_ENOTFOUND,
	      "nothing linked");
	berth_error_freep(&err);

	CHECK(push(st, "a", "layer", &d, &err) == 0, "push: %s",
	      err ? err->msg : "");
	CHECK(srv_storage_blob_stat(st, "a", &d, &size, &err) == 0 && size == 5,
	      "linked");
	CHECK(srv_storage_blob_stat(st, "b", &d, &size, &err) ==
		      BERTH_ENOTFOUND,
	      "not in b");
	berth_error_freep(&err);

	/* mounts: from a named repository, or any readable one */
	CHECK(srv_storage_blob_mount(st, "b", &d, "c", NULL, NULL, &err) ==
		      BERTH_ENOTFOUND,
	      "mount from a repository without it");
	berth_error_freep(&err);
	CHECK(srv_storage_blob_mount(st, "b", &d, "a", NULL, NULL, &err) == 0,
	      "mount from a");
	CHECK(srv_storage_blob_mount(st, "c", &d, NULL, only_a, NULL, &err) ==
			      0 &&
		      srv_storage_blob_stat(st, "c", &d, &size, &err) == 0,
	      "automatic mount");
	CHECK(srv_storage_blob_unlink(st, "c", &d, &err) == 0 &&
		      srv_storage_blob_stat(st, "c", &d, &size, &err) ==
			      BERTH_ENOTFOUND,
	      "unlink");
	berth_error_freep(&err);

	/* cancel, and the purge of idle sessions */
	CHECK(srv_storage_upload_start(st, id, "a", "127.0.0.1", &retry_after,
				       &err) == 0 &&
		      srv_storage_upload_cancel(st, id, &err) == 0,
	      "cancel");
	CHECK(srv_storage_upload_cancel(st, id, &err) == BERTH_ENOTFOUND,
	      "cancel twice");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_start(st, id, "a", "127.0.0.1", &retry_after,
				       &err) == 0,
	      "start 3");
	st->upload_ttl = 3600;
	srv_storage_purge(st, (int64_t)time(NULL));
	CHECK(srv_storage_upload_size(st, id, &size, &err) == 0,
	      "a fresh session survives the purge");
	srv_storage_purge(st, (int64_t)time(NULL) + 3610);
	CHECK(srv_storage_upload_repo(st, &repo, id, &err) == BERTH_ENOTFOUND,
	      "an idle session is purged");
	berth_error_freep(&err);
	CHECK(srv_storage_upload_size(st, id, &size, &err) == BERTH_ENOTFOUND,
	      "with its bytes");
	berth_error_freep(&err);
}

static void
test_manifests(srv_storage *st)
{
	static const char body[] = "{\"schemaVersion\":2}";
	berth_meta_manifest mf = {0}, want = {0};
	berth_meta_put put = {0};
	berth_bs_reader *rd = NULL;
	berth_error *err = NULL;
	const char *tag = "v1";
	char *missing = NULL, *path, **v = NULL;
	berth_digest d;
	int64_t size = -1;
	bool more = true;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, body, strlen(body));
	want.digest = d.str;
	want.media_type = "application/vnd.oci.image.manifest.v1+json";
	want.size = (int64_t)strlen(body);
	put.manifest = &want;
	put.tags = &tag;
	put.n_tags = 1;
	CHECK(srv_storage_manifest_put(st, &missing, "m", &put, body,
				       strlen(body), &err) == 0,
	      "put: %s", err ? err->msg : "");
	CHECK(srv_storage_manifest_get(st, &mf, "m", "v1", false, &err) == 0 &&
		      mf.size == want.size,
	      "get by tag");
	CHECK_STR(mf.digest, d.str);
	berth_meta_manifest_release(&mf);
	CHECK(srv_storage_blob_stat(st, "m", &d, &size, &err) == 0 &&
		      size == want.size,
	      "a manifest is a blob by digest");
	CHECK(srv_storage_tags(st, &v, &more, "m", NULL, -1, &err) == 0 &&
		      !more && v[0] && strcmp(v[0], "v1") == 0 && !v[1],
	      "tags");
	berth_strv_free(v);
	CHECK(srv_storage_repo_exists(st, "m") &&
		      !srv_storage_repo_exists(st, "x"),
	      "exists");

	CHECK(srv_storage_blob_open_range(st, &rd, &d, want.size, 0, -1,
					  &err) == 0 &&
		      rd->len == want.size && rd->fd >= 0,
	      "open");
	berth_bs_reader_closep(&rd);
	/* A file that disagrees with the metadata is a damaged store. */
	path = berth_blobstore_fs_path(st->blobs, &d);
	CHECK(truncate(path, 3) == 0, "truncate");
	free(path);
	CHECK(srv_storage_blob_open_range(st, &rd, &d, want.size, 0, -1,
					  &err) == BERTH_ECORRUPT &&
		      rd == NULL,
	      "size mismatch");
	berth_error_freep(&err);

	CHECK(srv_storage_tag_delete(st, "m", "v1", &err) == 0, "untag");
	CHECK(srv_storage_manifest_delete(st, "m", &d, &err) == 0, "delete");
	CHECK(srv_storage_manifest_get(st, &mf, "m", d.str, true, &err) ==
		      BERTH_ENOTFOUND,
	      "deleted");
	berth_error_freep(&err);
}

/* A reader of a store without files: bytes from memory, maybe a URL. */
typedef struct mem_reader {
	berth_bs_reader base;
	int *closed;
} mem_reader;

static ssize_t
mem_read(berth_bs_reader *r, void *buf, size_t n, berth_error **err)
{
	return 0;
}

static void
mem_close(berth_bs_reader *r)
{
	(*((mem_reader *)r)->closed)++;
	free(r->redirect);
	free(r);
}

static const struct berth_blobstore_ops mem_ops = {
	.reader_read = mem_read,
	.reader_close = mem_close,
};

static berth_bs_reader *
mem_reader_new(int *closed, const char *url)
{
	mem_reader *r = xcalloc(1, sizeof(*r));

	r->base.ops = &mem_ops;
	r->base.size = r->base.len = 42;
	r->base.fd = -1;
	r->base.redirect = url ? xstrdup(url) : NULL;
	r->closed = closed;
	return &r->base;
}

static void
test_reader_response(void)
{
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	uint64_t bytes = 1;
	int closed = 0;

	resp = srv_resp_reader(mem_reader_new(&closed, "https://s3/x?sig"),
			       true, &status, &bytes);
	CHECK(resp && status == MHD_HTTP_TEMPORARY_REDIRECT && bytes == 0 &&
		      closed == 1,
	      "redirect: status %u, bytes %llu, closed %d", status,
	      (unsigned long long)bytes, closed);
	CHECK_STR(MHD_get_response_header(resp, MHD_HTTP_HEADER_LOCATION),
		  "https://s3/x?sig");
	MHD_destroy_response(resp);

	/* Not allowed to redirect, or no URL: the bytes, by callback; the
	 * reader lives as long as the response. */
	status = MHD_HTTP_OK;
	resp = srv_resp_reader(mem_reader_new(&closed, "https://s3/x?sig"),
			       false, &status, &bytes);
	CHECK(resp && status == MHD_HTTP_OK && bytes == 42 && closed == 1,
	      "no redirect: status %u, bytes %llu", status,
	      (unsigned long long)bytes);
	MHD_destroy_response(resp);
	CHECK(closed == 2, "reader closed with its response");
}

int
main(void)
{
	srv_storage *st = NULL;
	berth_error *err = NULL;
	char *cmd;

	if (mkdtemp(root) == NULL)
		return 1;
	CHECK(srv_storage_open(&st, root, 2, &err) == 0, "open: %s",
	      err ? err->msg : "");
	if (st) {
		test_uploads(st);
		test_upload_expiry(st);
		test_upload_caps(st);
		test_manifests(st);
		srv_storage_close(st);
	}
	test_reader_response();
	cmd = xasprintf("rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", root);
	free(cmd);
	return test_done("test_serve_storage");
}
