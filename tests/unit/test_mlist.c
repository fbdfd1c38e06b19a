/* Local manifest lists: file names, entries, annotate and the index. */
#include "test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlist/mlist.h"
#include "util/error.h"
#include "util/xalloc.h"

#define AMD                                                                    \
	"sha256:"                                                              \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define ARM                                                                    \
	"sha256:"                                                              \
	"2222222222222222222222222222222222222222222222222222222222222222"

static json_t *
desc(const char *digest, const char *os, const char *arch)
{
	return json_pack("{s:s, s:s, s:i, s:{s:s, s:s}}", "mediaType",
			 "application/vnd.oci.image.manifest.v1+json", "digest",
			 digest, "size", 403, "platform", "architecture", arch,
			 "os", os);
}

static json_t *
two_entries(void)
{
	json_t *l = mlist_new("h:5000/team/app:multi",
			      "application/vnd.oci.image.index.v1+json");

	mlist_put(l, "h:5000/team/app:amd64", desc(AMD, "linux", "amd64"));
	mlist_put(l, "h:5000/team/app-arm:arm64", desc(ARM, "linux", "arm64"));
	return l;
}

TEST(path_escapes_every_separator)
{
	char *a = mlist_path("/r", "h:5000/team/app:v1");
	char *b = mlist_path("/r", "h:5000/team_app:v1");
	char *c = mlist_path("/r", "h:5000/team/app_v1");

	CHECK_STR(a, "/r/manifests/h%3A5000%2Fteam%2Fapp%3Av1.json");
	/* '_' is escaped too, so names differing in '/' vs '_' differ. */
	CHECK(strcmp(b, c) != 0, "'%s' and '%s' must differ", b, c);
	free(a);
	free(b);
	free(c);
}

TEST(put_replaces_same_digest)
{
	json_auto_t *l = two_entries();
	json_t *e;

	mlist_put(l, "h:5000/team/app:amd64-again",
		  desc(AMD, "linux", "amd64"));
	CHECK(json_array_size(json_object_get(l, "entries")) == 2,
	      "two entries, got %zu",
	      json_array_size(json_object_get(l, "entries")));
	e = json_array_get(json_object_get(l, "entries"), 1);
	CHECK_STR(json_string_value(json_object_get(e, "ref")),
		  "h:5000/team/app:amd64-again");
}

TEST(find_by_ref_digest_and_not)
{
	json_auto_t *l = two_entries();
	berth_error *err = NULL;
	json_t *e = NULL;

	CHECK(mlist_find(&e, l, "h:5000/team/app-arm:arm64", NULL) == 0 && e,
	      "found by ref");
	CHECK(mlist_find(&e, l, ARM, NULL) == 0 &&
		      strcmp(json_string_value(json_object_get(e, "ref")),
			     "h:5000/team/app-arm:arm64") == 0,
	      "found by digest");
	CHECK(mlist_find(&e, l, "h:5000/team/app-arm@" ARM, NULL) == 0,
	      "found by name@digest");
	CHECK(mlist_find(&e, l, "h:5000/team/other:v1", &err) ==
		      BERTH_ENOTFOUND,
	      "unknown entry");
	CHECK(err && strstr(err->msg, "has no entry 'h:5000/team/other:v1'"),
	      "message: %s", err ? err->msg : "(none)");
	CHECK(err && err->hint && strstr(err->hint, "'h:5000/team/app:amd64'"),
	      "hint lists the entries: %s", err && err->hint ? err->hint : "");
	berth_error_free(err);
}

TEST(platform_of_config)
{
	json_auto_t *c =
		json_pack("{s:s, s:s, s:s, s:s, s:[s], s:{}}", "architecture",
			  "amd64", "os", "windows", "variant", "", "os.version",
			  "10.0.17763.1", "os.features", "win32k", "config");
	json_auto_t *bare = json_pack("{s:s}", "os", "linux");
	json_auto_t *p = mlist_platform_of_config(c);
	char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);

	CHECK_STR(s, "{\"architecture\":\"amd64\",\"os\":\"windows\","
		     "\"os.features\":[\"win32k\"],\"os.version\":"
		     "\"10.0.17763.1\"}");
	free(s);
	CHECK(mlist_platform_of_config(bare) == NULL,
	      "a config without architecture has no platform");
}

TEST(annotate_sets_and_clears)
{
	json_auto_t *d = desc(ARM, "linux", "arm64");
	const char *feats[] = {"a", "b", NULL}, *none[] = {NULL};
	berth_mlist_platform p = {.variant = "v8", .os_features = feats};
	char *s;

	mlist_annotate(d, &p);
	s = json_dumps(json_object_get(d, "platform"),
		       JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s, "{\"architecture\":\"arm64\",\"os\":\"linux\","
		     "\"os.features\":[\"a\",\"b\"],\"variant\":\"v8\"}");
	free(s);
	p = (berth_mlist_platform){
		.variant = "", .os_features = none, .arch = "arm"};
	mlist_annotate(d, &p);
	s = json_dumps(json_object_get(d, "platform"),
		       JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s, "{\"architecture\":\"arm\",\"os\":\"linux\"}");
	free(s);
}

TEST(index_body)
{
	json_auto_t *l = two_entries();
	json_auto_t *idx = NULL;
	char *body = NULL;
	size_t len = 0;

	CHECK(mlist_index(&body, &len, l, true, NULL) == 0, "index built");
	idx = json_loadb(body, len, 0, NULL);
	CHECK(json_integer_value(json_object_get(idx, "schemaVersion")) == 2,
	      "schemaVersion 2");
	CHECK_STR(json_string_value(json_object_get(idx, "mediaType")),
		  "application/vnd.oci.image.index.v1+json");
	CHECK(json_array_size(json_object_get(idx, "manifests")) == 2,
	      "two manifests");
	CHECK_STR(json_string_value(json_object_get(
			  json_array_get(json_object_get(idx, "manifests"), 1),
			  "digest")),
		  ARM);
	free(body);
}

TEST(index_refuses_duplicate_platform)
{
	json_auto_t *l = two_entries();
	berth_mlist_platform p = {.arch = "amd64"};
	berth_error *err = NULL;
	char *body = NULL;
	size_t len = 0;

	mlist_annotate(json_object_get(
			       json_array_get(json_object_get(l, "entries"), 1),
			       "descriptor"),
		       &p);
	CHECK(mlist_index(&body, &len, l, true, &err) == BERTH_EUSAGE,
	      "duplicate refused");
	CHECK(err && strstr(err->msg, "two entries for platform 'linux/amd64'"),
	      "message: %s", err ? err->msg : "(none)");
	berth_error_free(err);
	/* inspect shows the list as it is */
	CHECK(mlist_index(&body, &len, l, false, NULL) == 0, "unchecked");
	free(body);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

TEST(save_load_roundtrip)
{
	char tmpl[] = "/tmp/berth-mlist-test-XXXXXX";
	json_auto_t *l = two_entries(), *back = NULL;
	berth_error *err = NULL;
	char *path, *bad;
	FILE *f;

	CHECK(mkdtemp(tmpl) != NULL, "mkdtemp");
	CHECK(mlist_load(&back, tmpl, "h:5000/team/app:multi", &err) ==
		      BERTH_ENOTFOUND,
	      "no list yet");
	CHECK(err && err->hint && strstr(err->hint, "berth manifest create"),
	      "hint names create");
	berth_error_freep(&err);
	CHECK(mlist_save(tmpl, l, NULL) == 0, "saved");
	CHECK(mlist_load(&back, tmpl, "h:5000/team/app:multi", NULL) == 0,
	      "loaded");
	CHECK(json_equal(l, back), "the same list back");
	path = mlist_path(tmpl, "h:5000/team/app:bad");
	f = fopen(path, "w");
	fputs("{\"name\": 1}", f);
	fclose(f);
	json_decref(back);
	back = NULL;
	CHECK(mlist_load(&back, tmpl, "h:5000/team/app:bad", &err) ==
		      BERTH_ECORRUPT,
	      "a damaged file");
	bad = err ? err->hint : NULL;
	CHECK(bad && strstr(bad, "berth manifest rm"), "hint: %s",
	      bad ? bad : "");
	berth_error_free(err);
	free(path);
	nftw(tmpl, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TEST_MAIN("test_mlist")
