/*
 * The local store: garbage collection, leases, fsck, and reading the
 * store with real tools (skopeo, umoci) when they are installed.
 */
#include "test.h"
#include "test_store_fixture.h"

#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

typedef struct removed {
	char digests[16][BERTH_DIGEST_MAX];
	int n;
} removed;

static void
on_removed(void *ud, const berth_digest *d, int64_t size)
{
	removed *r = ud;

	(void)size;
	if (r->n < 16)
		strcpy(r->digests[r->n], d->str);
	r->n++;
}

static bool
was_removed(const removed *r, const char *digest)
{
	for (int i = 0; i < r->n && i < 16; i++)
		if (strcmp(r->digests[i], digest) == 0)
			return true;
	return false;
}

static berth_store *
open_ok(const char *root)
{
	berth_store *s = NULL;
	berth_error *err = NULL;

	if (berth_store_open(&s, root, 0, &err) < 0) {
		printf("open %s: %s\n", root, err->msg);
		exit(2);
	}
	return s;
}

/* An old file in ingest/ named like a staging file; returns its path. */
static char *
stale_staging(const char *root, const char *name, time_t age)
{
	char rel[256];
	char *p;
	struct timeval tv[2];

	snprintf(rel, sizeof(rel), "ingest/%s", name);
	p = fx_path(root, rel);
	fx_write(p, "partial", 7);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age;
	tv[1] = tv[0];
	utimes(p, tv);
	return p;
}

/* An OCI index naming `child` and a platform nobody pulled; stored. */
static void
make_index(berth_store *s, const fx_image *child, berth_descriptor *out)
{
	json_t *idx = json_pack(
		"{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s, s:s}},"
		" {s:s, s:s, s:I, s:{s:s, s:s}}]}",
		"schemaVersion", 2, "mediaType", BERTH_MT_OCI_INDEX,
		"manifests", "mediaType", BERTH_MT_OCI_MANIFEST, "digest",
		child->manifest, "size", (json_int_t)child->desc.size,
		"platform", "os", "linux", "architecture", "amd64", "mediaType",
		BERTH_MT_OCI_MANIFEST, "digest",
		"sha256:"
		"11111111111111111111111111111111111111111111111111111111111111"
		"11",
		"size", (json_int_t)500, "platform", "os", "linux",
		"architecture", "arm64");
	char *text = json_dumps(idx, JSON_COMPACT);
	char digest[BERTH_DIGEST_MAX];

	fx_put(s, text, strlen(text), digest);
	memset(out, 0, sizeof(*out));
	out->media_type = strdup(BERTH_MT_OCI_INDEX);
	berth_digest_parse(&out->digest, digest, NULL);
	out->size = (int64_t)strlen(text);
	free(text);
	json_decref(idx);
}

/* Each case's own store in a fresh temporary directory. */
typedef struct gc_fx {
	char *tmp;
	berth_store *s;
	removed rm;
} gc_fx;

static void
gc_fx_open(gc_fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->tmp = fx_tmpdir();
	fx->s = open_ok(fx->tmp);
}

static void
gc_fx_close(gc_fx *fx)
{
	berth_store_free(fx->s);
	fx_rm_rf(fx->tmp);
	free(fx->tmp);
}

/* Runs gc, counting what it removes from zero. */
static int
gc(gc_fx *fx, berth_error **err)
{
	fx->rm.n = 0;
	return berth_store_gc(fx->s, on_removed, &fx->rm, err);
}

TEST(gc_removes_only_orphans)
{
	gc_fx fx;
	berth_error *err = NULL;
	char *readme, *stale;
	char orphan[BERTH_DIGEST_MAX];
	fx_image a, b;
	berth_descriptor multi;
	int r;

	gc_fx_open(&fx);
	readme = fx_path(fx.tmp, "blobs/sha256/README");
	fx_image_make(&a, fx.s, "a", 2, 1);
	fx_image_make(&b, fx.s, "b", 2, 1);
	CHECK_STR(a.layers[0], b.layers[0]); /* shared */
	make_index(fx.s, &b, &multi);
	fx_put(fx.s, "orphan", 6, orphan);
	fx_write(readme, "not a blob", 10);
	stale = stale_staging(fx.tmp, "blob-sha256-new-1-00000000", 7200);
	fx_set(fx.s, "docker.io/library/a:1", &a.desc);
	fx_set(fx.s, "docker.io/library/multi:1", &multi);

	r = gc(&fx, &err);
	CHECK(r == 0, "gc: %s", err ? err->msg : "");
	CHECK(fx.rm.n == 1 && was_removed(&fx.rm, orphan),
	      "only the orphan: %d", fx.rm.n);
	CHECK(!fx_blob_exists(fx.s, orphan), "orphan gone");
	CHECK(fx_blob_exists(fx.s, a.manifest) &&
		      fx_blob_exists(fx.s, a.config) &&
		      fx_blob_exists(fx.s, a.layers[0]) &&
		      fx_blob_exists(fx.s, a.layers[1]),
	      "image a kept");
	CHECK(fx_blob_exists(fx.s, multi.digest.str) &&
		      fx_blob_exists(fx.s, b.manifest) &&
		      fx_blob_exists(fx.s, b.config) &&
		      fx_blob_exists(fx.s, b.layers[1]),
	      "index and its platform manifest kept");
	CHECK(fx_exists(readme), "unknown files left alone");
	CHECK(!fx_exists(stale), "abandoned staging file removed");

	fx_image_release(&a);
	fx_image_release(&b);
	berth_descriptor_release(&multi);
	free(stale);
	free(readme);
	gc_fx_close(&fx);
}

/* After rmi, what only that image used goes; shared layers stay. */
TEST(gc_after_rmi_keeps_shared_layers)
{
	gc_fx fx;
	berth_error *err = NULL;
	fx_image a, b;
	berth_descriptor multi;
	int r;

	gc_fx_open(&fx);
	fx_image_make(&a, fx.s, "a", 2, 1);
	fx_image_make(&b, fx.s, "b", 2, 1);
	make_index(fx.s, &b, &multi);
	fx_set(fx.s, "docker.io/library/a:1", &a.desc);
	fx_set(fx.s, "docker.io/library/multi:1", &multi);

	CHECK(berth_store_remove_image(fx.s, "docker.io/library/a:1", &err) ==
		      0,
	      "rmi");
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 3, "three removed: %d", fx.rm.n);
	CHECK(was_removed(&fx.rm, a.manifest) &&
		      was_removed(&fx.rm, a.config) &&
		      was_removed(&fx.rm, a.layers[1]),
	      "a's own blobs");
	CHECK(fx_blob_exists(fx.s, a.layers[0]), "shared layer kept");

	fx_image_release(&a);
	fx_image_release(&b);
	berth_descriptor_release(&multi);
	gc_fx_close(&fx);
}

/* An entry gc cannot read stops it before it deletes anything. */
TEST(gc_refuses_unreadable_index_entry)
{
	gc_fx fx;
	berth_error *err = NULL;
	fx_image b;
	berth_descriptor multi;
	char *index, *text, *bad, *at;
	int r;

	gc_fx_open(&fx);
	fx_image_make(&b, fx.s, "b", 2, 1);
	make_index(fx.s, &b, &multi);
	fx_set(fx.s, "docker.io/library/multi:1", &multi);

	index = fx_path(fx.tmp, "index.json");
	text = fx_read(index, NULL);
	bad = malloc(strlen(text) + 64);
	at = strstr(text, "\"manifests\":[");
	CHECK(at != NULL, "index layout");
	if (at) {
		at += strlen("\"manifests\":[");
		sprintf(bad, "%.*s{\"digest\":\"md5:x\"},%s", (int)(at - text),
			text, at);
		fx_write(index, bad, strlen(bad));
	}
	CHECK(berth_store_remove_image(fx.s, "docker.io/library/multi:1",
				       &err) == 0,
	      "rmi multi");
	r = gc(&fx, &err);
	CHECK(r == BERTH_ECORRUPT && fx.rm.n == 0, "refused: %d, %d", r,
	      fx.rm.n);
	CHECK(err && strstr(err->msg, "refusing to collect garbage"), "msg %s",
	      err ? err->msg : "");
	berth_error_freep(&err);

	free(text);
	free(bad);
	free(index);
	fx_image_release(&b);
	berth_descriptor_release(&multi);
	gc_fx_close(&fx);
}

/* An image chosen from an index names it: the index stays. */
TEST(gc_keeps_index_named_by_annotation)
{
	gc_fx fx;
	berth_error *err = NULL;
	char *readme, *blobs;
	fx_image b;
	berth_descriptor multi, plat;
	char ann[256];
	int r;

	gc_fx_open(&fx);
	readme = fx_path(fx.tmp, "blobs/sha256/README");
	blobs = fx_path(fx.tmp, "blobs/sha256");
	fx_image_make(&b, fx.s, "b", 2, 1);
	make_index(fx.s, &b, &multi);
	fx_write(readme, "not a blob", 10);
	fx_set(fx.s, "docker.io/library/multi:1", &multi);

	berth_descriptor_copy(&plat, &b.desc);
	snprintf(ann, sizeof(ann), "{\"io.berth.index.digest\":\"%s\"}",
		 multi.digest.str);
	plat.annotations_json = strdup(ann);
	fx_set(fx.s, "docker.io/library/plat:1", &plat);
	berth_descriptor_release(&plat);

	CHECK(berth_store_remove_image(fx.s, "docker.io/library/multi:1",
				       &err) == 0,
	      "rmi multi");
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 0, "index kept by its annotation: %d",
	      fx.rm.n);
	CHECK(fx_blob_exists(fx.s, multi.digest.str), "index kept");
	CHECK(berth_store_remove_image(fx.s, "docker.io/library/plat:1",
				       &err) == 0,
	      "rmi plat");
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 5, "the rest: %d", fx.rm.n);
	CHECK(fx_count(blobs) == 1, "only README left: %d", fx_count(blobs));

	fx_image_release(&b);
	berth_descriptor_release(&multi);
	free(readme);
	free(blobs);
	gc_fx_close(&fx);
}

/* A damaged manifest stops gc: what it names is unknown. */
TEST(gc_refuses_damaged_manifest)
{
	gc_fx fx;
	berth_error *err = NULL;
	fx_image c;
	berth_digest md;
	char *mp, *data;
	size_t len;
	int r;

	gc_fx_open(&fx);
	fx_image_make(&c, fx.s, "c", 1, 0);
	fx_set(fx.s, "docker.io/library/c:1", &c.desc);
	berth_digest_parse(&md, c.manifest, NULL);
	mp = berth_store_blob_path(fx.s, &md);
	data = fx_read(mp, &len);
	data[len - 2] ^= 1;
	fx_write(mp, data, len);
	r = gc(&fx, &err);
	CHECK(r == BERTH_ECORRUPT && fx.rm.n == 0,
	      "damaged manifest: %d, %d removed", r, fx.rm.n);
	CHECK(err && strstr(err->msg, "refusing to collect garbage") &&
		      err->hint && strstr(err->hint, "berth fsck"),
	      "msg %s", err ? err->msg : "");
	berth_error_freep(&err);
	data[len - 2] ^= 1;
	fx_write(mp, data, len);
	free(data);
	free(mp);
	CHECK(berth_store_remove_image(fx.s, "docker.io/library/c:1", &err) ==
		      0,
	      "rmi c");
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 3, "c collected: %d", fx.rm.n);

	fx_image_release(&c);
	gc_fx_close(&fx);
}

/* A manifest berth cannot parse still keeps what it names. */
TEST(gc_keeps_blobs_of_unparsed_manifest)
{
	gc_fx fx;
	berth_error *err = NULL;
	char kept[BERTH_DIGEST_MAX], man[BERTH_DIGEST_MAX], text[512];
	berth_descriptor odd = {0};
	int r;

	gc_fx_open(&fx);
	fx_put(fx.s, "payload", 7, kept);
	snprintf(text, sizeof(text),
		 "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		 "\"blobs\":[{\"mediaType\":\"x/y\",\"digest\":"
		 "\"%s\",\"size\":7}]}",
		 BERTH_MT_OCI_MANIFEST, kept);
	fx_put(fx.s, text, strlen(text), man);
	odd.media_type = BERTH_MT_OCI_MANIFEST;
	berth_digest_parse(&odd.digest, man, NULL);
	odd.size = (int64_t)strlen(text);
	fx_set(fx.s, "docker.io/library/odd:1", &odd);
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 0 && fx_blob_exists(fx.s, kept),
	      "odd manifest's blob kept: %d", fx.rm.n);
	CHECK(berth_store_remove_image(fx.s, "docker.io/library/odd:1", &err) ==
		      0,
	      "rmi odd");
	r = gc(&fx, &err);
	CHECK(r == 0 && fx.rm.n == 2, "odd collected: %d", fx.rm.n);
	gc_fx_close(&fx);
}

/* gc while this store holds a lease would wait for itself. */
TEST(gc_refused_under_own_lease)
{
	gc_fx fx;
	berth_error *err = NULL;
	int r;

	gc_fx_open(&fx);
	CHECK(berth_store_lease(fx.s, &err) == 0, "lease");
	r = berth_store_gc(fx.s, NULL, NULL, &err);
	CHECK(r < 0, "gc under own lease refused");
	berth_error_freep(&err);
	berth_store_unlease(fx.s);
	gc_fx_close(&fx);
}

/*
 * A child writes an image's blobs under a lease, tells the parent, waits
 * a second, then names the image. gc in the parent must wait for it: had
 * it run at once, it would have deleted the blobs nobody named yet. That
 * it waited shows in the order of things, not in a time: when gc returns,
 * the child has named the image (it does so before it lets the lease go).
 */
TEST(gc_waits_for_lease)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp);
	berth_error *err = NULL;
	char digest[BERTH_DIGEST_MAX] = "";
	removed rm = {0};
	int fds[2], status = 0;
	berth_descriptor named = {0};
	pid_t pid;
	ssize_t n;
	int r;

	if (pipe(fds) < 0)
		exit(2);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		berth_store *cs = open_ok(tmp);
		fx_image img;

		close(fds[0]);
		if (berth_store_lease(cs, NULL) < 0)
			_exit(3);
		fx_image_make(&img, cs, "leased", 2, 0);
		if (write(fds[1], img.manifest, strlen(img.manifest) + 1) < 0)
			_exit(4);
		sleep(1);
		fx_set(cs, "docker.io/library/leased:1", &img.desc);
		berth_store_unlease(cs);
		fx_image_release(&img);
		berth_store_free(cs);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], digest, sizeof(digest));
	close(fds[0]);
	CHECK(n > 0 && fx_blob_exists(s, digest), "child wrote its manifest");
	r = berth_store_gc(s, on_removed, &rm, &err);
	CHECK(r == 0, "gc: %s", err ? err->msg : "");
	CHECK(berth_store_resolve(&named, s, "docker.io/library/leased:1",
				  NULL) == 0,
	      "gc waited for the lease: the image was named before it ran");
	berth_descriptor_release(&named);
	CHECK(rm.n == 0, "nothing removed: %d", rm.n);
	CHECK(fx_blob_exists(s, digest), "leased image kept");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d",
	      status);

	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

typedef struct problems {
	char lines[32][512];
	int n;
} problems;

static void
on_problem(void *ud, const char *line)
{
	problems *p = ud;

	if (p->n < 32)
		snprintf(p->lines[p->n], sizeof(p->lines[0]), "%s", line);
	p->n++;
}

static bool
has_problem(const problems *p, const char *line)
{
	for (int i = 0; i < p->n && i < 32; i++)
		if (strcmp(p->lines[i], line) == 0)
			return true;
	return false;
}

static void
dump_problems(const problems *p)
{
	for (int i = 0; i < p->n && i < 32; i++)
		printf("# fsck: %s\n", p->lines[i]);
}

TEST(fsck_clean_store)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp);
	berth_error *err = NULL;
	problems pr = {0};
	size_t checked = 0, count = 0;
	fx_image a;
	int r;

	fx_image_make(&a, s, "a", 2, 0);
	fx_set(s, "docker.io/library/a:1", &a.desc);

	r = berth_store_fsck(&checked, &count, s, on_problem, &pr, &err);
	CHECK(r == 0 && count == 0 && pr.n == 0, "clean store: %zu problems",
	      count);
	CHECK(checked == 4, "four blobs checked: %zu", checked);
	dump_problems(&pr);

	fx_image_release(&a);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST(fsck_repairs_and_reports)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp);
	berth_error *err = NULL;
	berth_blob_writer *w = NULL;
	problems pr = {0};
	size_t checked = 0, count = 0;
	char line[512], *p, *stale, *live, *tmpfile;
	berth_digest d;
	fx_image a;
	int r;

	fx_image_make(&a, s, "a", 2, 0);
	fx_set(s, "docker.io/library/a:1", &a.desc);

	/* Flip a byte of a layer (same size), delete the config. */
	berth_digest_parse(&d, a.layers[1], NULL);
	p = berth_store_blob_path(s, &d);
	{
		size_t len;
		char *data = fx_read(p, &len);

		data[len / 2] ^= 0x20;
		fx_write(p, data, len);
		free(data);
	}
	CHECK(fx_exists(p), "corrupt blob in place");
	berth_digest_parse(&d, a.config, NULL);
	free(p);
	p = berth_store_blob_path(s, &d);
	unlink(p);
	free(p);

	stale = stale_staging(tmp, "blob-sha256-abc-42-0123456789abcdef", 7200);
	tmpfile = fx_path(tmp, "index.json.tmp-42-0123456789abcdef");
	fx_write(tmpfile, "{}", 2);
	/* A live writer's staging file is old but locked: it stays. */
	CHECK(berth_store_blob_begin(&w, s, NULL, -1, &err) == 0, "begin");
	CHECK(berth_blob_writer_write(w, "x", 1, &err) == 0, "write");
	{
		char *ingest = fx_path(tmp, "ingest");
		DIR *dir = opendir(ingest);
		struct dirent *e;
		struct timeval tv[2] = {{0, 0}, {0, 0}};

		live = NULL;
		while ((e = readdir(dir)) != NULL)
			if (strstr(e->d_name, "-new-"))
				live = fx_path(ingest, e->d_name);
		closedir(dir);
		free(ingest);
		CHECK(live != NULL, "writer's staging file found");
		tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 7200;
		if (live)
			utimes(live, tv);
	}

	r = berth_store_fsck(&checked, &count, s, on_problem, &pr, &err);
	CHECK(r == 0, "fsck: %s", err ? err->msg : "");
	CHECK(checked == 3, "three blobs checked: %zu", checked);
	snprintf(line, sizeof(line), "removed corrupt blob '%s' (content is ",
		 a.layers[1]);
	CHECK(pr.n > 0 && strncmp(pr.lines[0], line, strlen(line)) == 0,
	      "first problem: %s", pr.n ? pr.lines[0] : "");
	CHECK(has_problem(&pr, "removed stale staging file "
			       "'ingest/blob-sha256-abc-42-0123456789abcdef'"),
	      "stale staging reported");
	CHECK(has_problem(&pr, "removed stale temporary file "
			       "'index.json.tmp-42-0123456789abcdef'"),
	      "stale temporary reported");
	snprintf(line, sizeof(line),
		 "image 'docker.io/library/a:1' is missing blob '%s'; pull it "
		 "again",
		 a.config);
	CHECK(has_problem(&pr, line), "missing config reported");
	snprintf(line, sizeof(line),
		 "image 'docker.io/library/a:1' is missing blob '%s'; pull it "
		 "again",
		 a.layers[1]);
	CHECK(has_problem(&pr, line), "removed layer reported missing");
	CHECK(count == 5 && pr.n == 5, "five problems: %zu", count);
	if (pr.n != 5)
		dump_problems(&pr);
	CHECK(!fx_blob_exists(s, a.layers[1]), "corrupt blob removed");
	CHECK(!fx_exists(stale) && !fx_exists(tmpfile), "leftovers removed");
	CHECK(live && fx_exists(live), "live staging file kept");
	CHECK(berth_blob_writer_commit(NULL, w, &err) == 0,
	      "writer unaffected: %s", err ? err->msg : "");
	berth_blob_writer_free(w);

	free(live);
	free(stale);
	free(tmpfile);
	fx_image_release(&a);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

/* A broken index.json is a problem, not a failure of fsck. */
TEST(fsck_broken_index)
{
	char *tmp = fx_tmpdir();
	berth_store *s = open_ok(tmp);
	berth_error *err = NULL;
	problems pr = {0};
	size_t checked = 0, count = 0;
	char *index;
	fx_image a;
	int r;

	fx_image_make(&a, s, "a", 2, 0);
	fx_set(s, "docker.io/library/a:1", &a.desc);
	index = fx_path(tmp, "index.json");
	fx_write(index, "[", 1);
	r = berth_store_fsck(&checked, &count, s, on_problem, &pr, &err);
	CHECK(r == 0 && count == 1, "broken index: %d, %zu", r, count);
	CHECK(pr.n == 1 && strstr(pr.lines[0], "is not valid JSON"), "%s",
	      pr.n ? pr.lines[0] : "");

	free(index);
	fx_image_release(&a);
	berth_store_free(s);
	fx_rm_rf(tmp);
	free(tmp);
}

/* Runs a shell command; its stdout into *out (caller frees). */
static int run(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
	char cmd[2048], buf[4096];
	size_t n = 0, got;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	*out = calloc(1, 1);
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		*out = realloc(*out, n + got + 1);
		memcpy(*out + n, buf, got);
		n += got;
		(*out)[n] = '\0';
	}
	return pclose(f);
}

static bool
have_tool(const char *name)
{
	char *out = NULL;
	int r = run(&out, "command -v %s >/dev/null 2>&1", name);

	free(out);
	return r == 0;
}

/* skopeo finds images by their full name and can add its own. */
TEST(tools_read_store)
{
	char *tmp, *root, *other, *out = NULL;
	berth_store *s;
	berth_image *v = NULL;
	berth_descriptor d = {0};
	berth_error *err = NULL;
	fx_image a, b;
	json_t *j;
	size_t n = 0;
	int r;

	if (!have_tool("skopeo")) {
		printf("# skopeo not installed: store interoperability not "
		       "tested\n");
		return;
	}
	tmp = fx_tmpdir();
	root = fx_path(tmp, "store");
	other = fx_path(tmp, "skopeo-layout");
	s = open_ok(root);
	fx_image_make(&a, s, "a", 2, 0);
	fx_image_make(&b, s, "b", 1, 0);
	fx_set(s, "docker.io/library/nginx:latest", &a.desc);
	fx_set(s, "localhost:5000/team/app:v1", &b.desc);

	r = run(&out, "skopeo inspect oci:%s:docker.io/library/nginx:latest",
		root);
	CHECK(r == 0, "skopeo inspect: %d", r);
	j = json_loads(out, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "Digest")), a.manifest);
	CHECK_STR(json_string_value(json_object_get(j, "Architecture")),
		  "amd64");
	CHECK(json_array_size(json_object_get(j, "Layers")) == 2, "layers");
	CHECK_STR(json_string_value(
			  json_array_get(json_object_get(j, "Layers"), 1)),
		  a.layers[1]);
	json_decref(j);
	free(out);

	r = run(&out, "skopeo inspect oci:%s:localhost:5000/team/app:v1", root);
	CHECK(r == 0, "skopeo inspect second image: %d", r);
	j = json_loads(out, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "Digest")), b.manifest);
	json_decref(j);
	free(out);

	/* skopeo adds an entry of its own; ours and its survive each other. */
	r = run(&out,
		"skopeo copy -q --insecure-policy "
		"oci:%s:docker.io/library/nginx:latest oci:%s:copied 2>&1",
		root, root);
	CHECK(r == 0, "skopeo copy into the store: %d %s", r, out);
	free(out);
	fx_set(s, "docker.io/library/after:1", &b.desc);
	r = berth_store_list(&v, &n, s, &err);
	CHECK(r == 0 && n == 4, "four images: %zu", n);
	CHECK(berth_store_resolve(&d, s, "copied", &err) == 0,
	      "skopeo's entry");
	CHECK_STR(d.digest.str, a.manifest);
	berth_descriptor_release(&d);
	berth_images_free(v, n);
	r = run(&out, "skopeo inspect oci:%s:copied", root);
	CHECK(r == 0, "skopeo reads its entry after our update: %d", r);
	free(out);

	/* A layout skopeo created is a store berth opens. */
	r = run(&out,
		"skopeo copy -q --insecure-policy "
		"oci:%s:localhost:5000/team/app:v1 oci:%s:v1 2>&1",
		root, other);
	CHECK(r == 0, "skopeo copy to a new layout: %d %s", r, out);
	free(out);
	berth_store_free(s);
	s = open_ok(other);
	CHECK(berth_store_resolve(&d, s, "v1", &err) == 0, "resolve v1");
	CHECK_STR(d.digest.str, b.manifest);
	berth_descriptor_release(&d);
	berth_store_free(s);

	if (have_tool("umoci")) {
		s = open_ok(root);
		r = run(&out, "umoci stat --json --image %s:copied 2>&1", root);
		CHECK(r == 0, "umoci stat: %d %s", r, out);
		free(out);
		r = run(&out, "umoci list --layout %s 2>&1", root);
		CHECK(r == 0 && strstr(out, "copied"), "umoci list: %d %s", r,
		      out);
		free(out);
		berth_store_free(s);
	} else {
		printf("# umoci not installed: not tested\n");
	}

	fx_image_release(&a);
	fx_image_release(&b);
	berth_error_free(err);
	free(root);
	free(other);
	fx_rm_rf(tmp);
	free(tmp);
}

TEST_MAIN("test_store_gc")
