/*
 * Garbage collection's rules (server/ops/gc.h) over a real file system and
 * SQLite store: each kind of reference keeps its target, the grace period
 * keeps what is new, a dry run deletes nothing and reports what a real run
 * then deletes; and the duration parser its settings use.
 */
#include "test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "berth/digest.h"
#include "server/ops/gc.h"
#include "server/ops/metrics.h"
#include "server/storage/storage.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/xalloc.h"

static long retry_after; /* of srv_storage_upload_start */

static char root[64];
static srv_storage *st;

static void
setup(void)
{
	berth_error *err = NULL;

	snprintf(root, sizeof(root), "/tmp/berth-unit-gc.XXXXXX");
	if (mkdtemp(root) == NULL)
		abort();
	CHECK(srv_storage_open(&st, root, 2, &err) == 0, "open: %s",
	      err ? err->msg : "");
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	srv_storage_close(st);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", root);
	free(cmd);
}

/* Uploads `content` into repo; d receives its digest. */
static void
blob(const char *repo, const char *content, berth_digest *d)
{
	berth_bs_writer *w = NULL;
	berth_error *err = NULL;
	char id[33];

	berth_digest_of(d, BERTH_DIGEST_SHA256, content, strlen(content));
	CHECK(srv_storage_upload_start(st, id, repo, "127.0.0.1", &retry_after,
				       &err) == 0 &&
		      srv_storage_upload_open(st, &w, id, &err) == 0 &&
		      srv_storage_upload_append(w, content, strlen(content),
						&err) == 0,
	      "upload to %s: %s", repo, err ? err->msg : "");
	berth_bs_writer_close(w);
	CHECK(srv_storage_upload_commit(st, id, repo, d, &err) == 0,
	      "commit: %s", err ? err->msg : "");
	berth_error_free(err);
}

/*
 * Puts a manifest of body `name` into repo referencing the blobs and the
 * child manifests given, with a subject (or NULL) and a tag (or NULL).
 */
static void
manifest(const char *repo, const char *name, berth_digest *d,
	 const char *const *blobs, size_t n_blobs, const char *const *children,
	 size_t n_children, const char *subject, const char *tag)
{
	berth_meta_manifest mf = {0};
	berth_meta_put put = {0};
	berth_error *err = NULL;
	char *missing = NULL;

	berth_digest_of(d, BERTH_DIGEST_SHA256, name, strlen(name));
	mf.digest = d->str;
	mf.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
	mf.size = (int64_t)strlen(name);
	mf.subject = (char *)subject;
	put.manifest = &mf;
	put.blobs = blobs;
	put.n_blobs = n_blobs;
	put.children = children;
	put.n_children = n_children;
	put.tags = tag ? &tag : NULL;
	put.n_tags = tag ? 1 : 0;
	CHECK(srv_storage_manifest_put(st, &missing, repo, &put, name,
				       strlen(name), &err) == 0,
	      "put %s: %s (missing %s)", name, err ? err->msg : "",
	      missing ? missing : "-");
	berth_error_free(err);
	free(missing);
}

static bool
stored(const berth_digest *d)
{
	char *path = berth_blobstore_fs_path(st->blobs, d);
	bool yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

static bool
linked(const char *repo, const berth_digest *d)
{
	int64_t size;

	return srv_storage_blob_stat(st, repo, d, &size, NULL) == 0;
}

static bool
has_manifest(const char *repo, const berth_digest *d)
{
	berth_meta_manifest mf = {0};
	bool yes = srv_storage_manifest_get(st, &mf, repo, d->str, true,
					    NULL) == 0;

	berth_meta_manifest_release(&mf);
	return yes;
}

/* A run with grace seconds (negative: everything counts as old). */
static void
gc(srv_gc_report *rep, int64_t grace, bool dry)
{
	srv_gc_opts o = {.grace = grace, .dry_run = dry};
	berth_error *err = NULL;

	CHECK(srv_gc_run(st, &o, rep, &err) == 0, "gc: %s",
	      err ? err->msg : "");
	berth_error_free(err);
}

/* How many items of kind the report has for name (in repo, or any). */
static int
reported(const srv_gc_report *rep, unsigned kind, const char *repo,
	 const char *name)
{
	int n = 0;

	for (size_t i = 0; i < rep->n; i++)
		if (rep->items[i].kind == kind &&
		    strcmp(rep->items[i].name, name) == 0 &&
		    (repo == NULL ||
		     (rep->items[i].repository &&
		      strcmp(rep->items[i].repository, repo) == 0)))
			n++;
	return n;
}

/* A tag keeps its manifest and what it references; the untagged go. */
TEST(tag_keeps_its_manifest_and_blobs)
{
	berth_digest cfg, shared, own, m1, m2;
	srv_gc_report rep;

	blob("app", "config", &cfg);
	blob("app", "shared layer", &shared);
	blob("app", "own layer", &own);
	manifest("app", "m1", &m1, (const char *[]){cfg.str, shared.str}, 2,
		 NULL, 0, NULL, "v1");
	manifest("app", "m2", &m2, (const char *[]){shared.str, own.str}, 2,
		 NULL, 0, NULL, NULL);
	gc(&rep, -10, false);
	CHECK(has_manifest("app", &m1) && stored(&m1), "tagged manifest kept");
	CHECK(linked("app", &cfg) && stored(&cfg) && linked("app", &shared) &&
		      stored(&shared),
	      "its blobs kept");
	CHECK(!has_manifest("app", &m2) && !stored(&m2), "untagged one gone");
	CHECK(!linked("app", &own) && !stored(&own), "its own layer gone");
	CHECK(reported(&rep, SRV_GC_MANIFEST, "app", m2.str) == 1 &&
		      reported(&rep, SRV_GC_BLOB_LINK, "app", own.str) == 1 &&
		      reported(&rep, SRV_GC_BLOB, NULL, own.str) == 1 &&
		      reported(&rep, SRV_GC_BLOB, NULL, m2.str) == 1,
	      "reported: %zu items", rep.n);
	CHECK(rep.n == 4 && rep.freed == (int64_t)(strlen("own layer") + 2),
	      "nothing else: %zu items, %lld bytes", rep.n,
	      (long long)rep.freed);
	srv_gc_report_release(&rep);
}

/* A living index keeps its children, untagged as they are. */
TEST(index_keeps_its_children)
{
	berth_digest l1, l2, a, b, idx, orphan_idx, c, l3;
	srv_gc_report rep;

	blob("multi", "layer amd64", &l1);
	blob("multi", "layer arm64", &l2);
	blob("multi", "layer old", &l3);
	manifest("multi", "amd64", &a, (const char *[]){l1.str}, 1, NULL, 0,
		 NULL, NULL);
	manifest("multi", "arm64", &b, (const char *[]){l2.str}, 1, NULL, 0,
		 NULL, NULL);
	manifest("multi", "old", &c, (const char *[]){l3.str}, 1, NULL, 0, NULL,
		 NULL);
	manifest("multi", "index", &idx, NULL, 0,
		 (const char *[]){a.str, b.str}, 2, NULL, "latest");
	/* An index nothing keeps keeps nothing either. */
	manifest("multi", "old index", &orphan_idx, NULL, 0,
		 (const char *[]){c.str}, 1, NULL, NULL);
	gc(&rep, -10, false);
	CHECK(has_manifest("multi", &idx) && has_manifest("multi", &a) &&
		      has_manifest("multi", &b),
	      "index and children kept");
	CHECK(linked("multi", &l1) && linked("multi", &l2) && stored(&l1) &&
		      stored(&l2),
	      "the children's layers kept");
	CHECK(!has_manifest("multi", &orphan_idx) &&
		      !has_manifest("multi", &c) && !linked("multi", &l3) &&
		      !stored(&l3),
	      "the unreferenced index, its child and layer gone");
	srv_gc_report_release(&rep);
}

/* A living subject keeps its referrers; a referrer whose subject is gone
 * (or never came) goes. */
TEST(subject_keeps_its_referrers)
{
	berth_digest img, sig, sig_blob, dead, dead_sig, lost_sig, l;
	srv_gc_report rep;

	blob("signed", "layer", &l);
	blob("signed", "signature", &sig_blob);
	manifest("signed", "image", &img, (const char *[]){l.str}, 1, NULL, 0,
		 NULL, "v1");
	manifest("signed", "sig", &sig, (const char *[]){sig_blob.str}, 1, NULL,
		 0, img.str, NULL);
	manifest("signed", "untagged image", &dead, (const char *[]){l.str}, 1,
		 NULL, 0, NULL, NULL);
	manifest("signed", "sig of untagged", &dead_sig, NULL, 0, NULL, 0,
		 dead.str, NULL);
	manifest("signed", "sig of nothing", &lost_sig, NULL, 0, NULL, 0,
		 "sha256:"
		 "0000000000000000000000000000000000000000000000000000000000000"
		 "000",
		 NULL);
	gc(&rep, -10, false);
	CHECK(has_manifest("signed", &img) && has_manifest("signed", &sig) &&
		      linked("signed", &sig_blob) && stored(&sig_blob),
	      "the subject, its referrer and the referrer's blob kept");
	CHECK(!has_manifest("signed", &dead) &&
		      !has_manifest("signed", &dead_sig),
	      "an untagged subject goes with its referrer");
	CHECK(!has_manifest("signed", &lost_sig),
	      "a referrer of a subject that is not there goes");
	CHECK(linked("signed", &l) && stored(&l),
	      "a layer the living image shares stays");
	srv_gc_report_release(&rep);
}

/* Within the grace period nothing goes, referenced or not. */
TEST(grace_keeps_new_content)
{
	berth_digest loose, l, m;
	srv_gc_report rep;

	blob("new", "uploaded, not yet referenced", &loose);
	blob("new", "layer", &l);
	manifest("new", "pushed by digest", &m, (const char *[]){l.str}, 1,
		 NULL, 0, NULL, NULL);
	gc(&rep, 3600, false);
	CHECK(rep.n == 0, "nothing deleted: %zu", rep.n);
	CHECK(linked("new", &loose) && stored(&loose) &&
		      has_manifest("new", &m) && linked("new", &l),
	      "all there");
	srv_gc_report_release(&rep);
}

/*
 * A run that finds nothing takes no writer lock: it looks in a snapshot,
 * so a push holding the lock is not waited for, and none waits for it.
 */
TEST(nothing_to_collect_takes_no_writer_lock)
{
	_cleanup_free_ char *db = xasprintf("%s/metadata.db", root);
	berth_digest l, m;
	srv_gc_report rep;
	sqlite3 *w = NULL;

	blob("calm", "a layer in use", &l);
	manifest("calm", "tagged", &m, (const char *[]){l.str}, 1, NULL, 0,
		 NULL, "v1");
	CHECK(sqlite3_open(db, &w) == SQLITE_OK &&
		      sqlite3_exec(w, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
			      SQLITE_OK,
	      "another writer holds the lock");
	gc(&rep, -1, false);
	CHECK(rep.n == 0, "nothing deleted: %zu", rep.n);
	sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(w);
	srv_gc_report_release(&rep);
}

/* A link another repository needs goes from this one; the bytes stay. */
TEST(bytes_stay_while_any_repository_links_them)
{
	berth_digest l, m;
	srv_gc_report rep;

	blob("a", "common layer", &l);
	blob("b", "common layer", &l);
	manifest("a", "uses it", &m, (const char *[]){l.str}, 1, NULL, 0, NULL,
		 "v1");
	gc(&rep, -10, false);
	CHECK(linked("a", &l) && !linked("b", &l) && stored(&l),
	      "link of a kept, of b gone, bytes kept");
	CHECK(reported(&rep, SRV_GC_BLOB, NULL, l.str) == 0,
	      "the bytes not reported");
	srv_gc_report_release(&rep);
}

/* A dry run deletes nothing and lists exactly what the real run then
 * deletes, bytes included. */
TEST(dry_run_deletes_nothing_and_matches_the_real_run)
{
	berth_digest l, own, m1, m2, loose;
	srv_gc_report dry, real;
	char id[33];
	berth_error *err = NULL;

	blob("r", "layer", &l);
	blob("r", "own", &own);
	blob("r", "loose", &loose);
	manifest("r", "kept", &m1, (const char *[]){l.str}, 1, NULL, 0, NULL,
		 "v1");
	manifest("r", "dropped", &m2, (const char *[]){own.str}, 1, NULL, 0,
		 NULL, NULL);
	st->upload_ttl = 1;
	CHECK(srv_storage_upload_start(st, id, "r", "127.0.0.1", &retry_after,
				       &err) == 0,
	      "an abandoned upload");
	{
		char *path = xasprintf("%s/uploads/%s", root, id);
		struct timeval tv[2];

		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= 100;
		tv[1] = tv[0];
		CHECK(utimes(path, tv) == 0, "age the upload");
		free(path);
	}
	gc(&dry, -10, true);
	CHECK(dry.dry_run && dry.n > 0, "the dry run lists %zu", dry.n);
	CHECK(has_manifest("r", &m2) && linked("r", &own) && stored(&own) &&
		      linked("r", &loose) && stored(&loose) && stored(&m2),
	      "and deletes nothing");
	CHECK(reported(&dry, SRV_GC_UPLOAD, NULL, id) == 1,
	      "the abandoned upload is listed");
	gc(&real, -10, false);
	CHECK(real.n == dry.n && real.freed == dry.freed,
	      "the real run: %zu items, %lld bytes; the dry run said %zu, %lld",
	      real.n, (long long)real.freed, dry.n, (long long)dry.freed);
	for (size_t i = 0; i < dry.n; i++)
		CHECK(reported(&real, dry.items[i].kind,
			       dry.items[i].repository, dry.items[i].name) == 1,
		      "%s of the dry run deleted", dry.items[i].name);
	CHECK(!has_manifest("r", &m2) && !stored(&own) && !stored(&loose) &&
		      stored(&l) && has_manifest("r", &m1),
	      "the real run deleted them");
	srv_gc_report_release(&dry);
	srv_gc_report_release(&real);
}

/* Bytes collected can be pushed again, and then stay. */
TEST(collected_bytes_can_come_back)
{
	berth_digest l, m;
	srv_gc_report rep;

	blob("again", "layer", &l);
	gc(&rep, -10, false);
	srv_gc_report_release(&rep);
	CHECK(!stored(&l) && !linked("again", &l), "collected");
	blob("again", "layer", &l);
	manifest("again", "image", &m, (const char *[]){l.str}, 1, NULL, 0,
		 NULL, "v1");
	gc(&rep, -10, false);
	CHECK(stored(&l) && linked("again", &l) && has_manifest("again", &m),
	      "pushed again and kept");
	srv_gc_report_release(&rep);
}

/* A HEAD marks the link seen, so the grace period counts from it. */
TEST(head_refreshes_a_link)
{
	berth_digest l;
	int64_t size = 0, seen = 0;
	berth_error *err = NULL;

	blob("h", "layer", &l);
	st->gc_grace = 0; /* every HEAD writes */
	CHECK(srv_storage_blob_head(st, "h", &l, &size, &err) == 0 &&
		      size == (int64_t)strlen("layer"),
	      "HEAD: %s", err ? err->msg : "");
	CHECK(berth_meta_blob_info(st->meta, "h", l.str, &size, &seen, NULL) ==
			      0 &&
		      seen >= (int64_t)time(NULL) - 5,
	      "seen %lld", (long long)seen);
	CHECK(srv_storage_blob_unlink(st, "h", &l, NULL) == 0 &&
		      srv_storage_blob_head(st, "h", &l, &size, &err) ==
			      BERTH_ENOTFOUND,
	      "a HEAD of a link that is gone is 404");
	berth_error_free(err);
}

TEST(report_json)
{
	srv_gc_report rep = {0};
	char *json;

	rep.dry_run = true;
	rep.items = xcalloc(1, sizeof(*rep.items));
	rep.items[0] = (srv_gc_item){SRV_GC_MANIFEST, xstrdup("r"),
				     xstrdup("sha256:ab"), 12};
	rep.n = rep.cap = 1;
	rep.freed = 12;
	json = srv_gc_report_json(&rep);
	CHECK(strstr(json, "\"dry_run\":true") &&
		      strstr(json, "\"deleted\":[{\"kind\":\"manifest\","
				   "\"repository\":\"r\",\"digest\":"
				   "\"sha256:ab\",\"size\":12}]") &&
		      strstr(json, "\"bytes\":12"),
	      "%s", json);
	free(json);
	srv_gc_report_release(&rep);
}

TEST_MAIN_FIXTURE("test_serve_gc", setup, teardown)
