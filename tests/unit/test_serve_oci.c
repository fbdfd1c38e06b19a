/* Name grammar, JSON bodies, manifest facts and routing of berth serve. */
#include "test.h"

#include <crypt.h>
#include <stdlib.h>
#include <unistd.h>

#include "server/config.h"
#include "server/access/htpasswd.h"
#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

TEST(names)
{
	static const char *const good[] = {
		"a",	"library/nginx", "a0/b-c/d.e_f",
		"a__b", "a---b",	 "x/y/z/w"};
	static const char *const bad[] = {
		"",	"A",	 "/a", "a/", "a//b", "a/../b", "..",   "a..b",
		"a._b", "a___b", "-a", "a-", "a/.b", "a b",    "a%2fb"};
	char longname[300];
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(good); i++)
		CHECK(berth_oci_name_valid(good[i]), "'%s' is valid", good[i]);
	for (i = 0; i < BERTH_ARRAY_SIZE(bad); i++)
		CHECK(!berth_oci_name_valid(bad[i]), "'%s' is invalid", bad[i]);
	memset(longname, 'a', 256);
	longname[256] = '\0';
	CHECK(!berth_oci_name_valid(longname), "256 characters");
	longname[255] = '\0';
	CHECK(berth_oci_name_valid(longname), "255 characters");

	CHECK(berth_oci_tag_valid("v1.2.3-rc_1"), "tag");
	CHECK(berth_oci_tag_valid("_x"), "underscore first");
	CHECK(!berth_oci_tag_valid(".x"), "dot first");
	CHECK(!berth_oci_tag_valid("-x"), "dash first");
	CHECK(!berth_oci_tag_valid("a/b"), "slash");
	CHECK(!berth_oci_tag_valid("sha256:abc"), "colon");
	memset(longname, 'a', 129);
	longname[129] = '\0';
	CHECK(!berth_oci_tag_valid(longname), "129 characters");
	longname[128] = '\0';
	CHECK(berth_oci_tag_valid(longname), "128 characters");
}

TEST(json)
{
	char *tags[] = {"a", "b", NULL};
	size_t len;
	char *s;

	s = berth_oci_error_json("BLOB_UNKNOWN", "blob 'x' \"quoted\"", NULL,
				 &len);
	CHECK_STR(s, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":"
		     "\"blob 'x' \\\"quoted\\\"\"}]}");
	CHECK(len == strlen(s), "len");
	free(s);
	s = berth_oci_tags_json("r/x", tags, &len);
	CHECK_STR(s, "{\"name\":\"r/x\",\"tags\":[\"a\",\"b\"]}");
	free(s);
	s = berth_oci_catalog_json(tags + 2, &len);
	CHECK_STR(s, "{\"repositories\":[]}");
	free(s);
}

#define CFG                                                                    \
	"sha256:"                                                              \
	"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define LAY                                                                    \
	"sha256:"                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SUB                                                                    \
	"sha256:"                                                              \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

TEST(inspect)
{
	const char *img =
		"{\"schemaVersion\":2,\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/"
		"vnd.example.config\",\"digest\":\"" CFG "\",\"size\":2},"
		"\"layers\":[{\"mediaType\":\"application/"
		"vnd.oci.image.layer.v1.tar\",\"digest\":\"" LAY
		"\",\"size\":1},"
		"{\"mediaType\":\"application/"
		"vnd.oci.image.layer.v1.tar\",\"digest\":\"" SUB
		"\",\"size\":1,\"urls\":[\"https://example.com/x\"]}],"
		"\"subject\":{\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\",\"digest\":\"" SUB
		"\",\"size\":3},"
		"\"annotations\":{\"b\":\"2\",\"a\":\"1\"}}";
	const char *idx = "{\"schemaVersion\":2,\"mediaType\":\"application/"
			  "vnd.oci.image.index.v1+json\","
			  "\"manifests\":[{\"mediaType\":\"application/"
			  "vnd.oci.image.manifest.v1+json\",\"digest\":\"" LAY
			  "\",\"size\":1}]}";
	berth_oci_manifest_info info = {0};
	berth_error *err = NULL;

	CHECK(berth_oci_manifest_inspect(
		      &info,
		      "application/vnd.oci.image.manifest.v1+json; charset=x",
		      img, strlen(img), &err) == 0,
	      "inspect: %s", err ? err->msg : "");
	CHECK_STR(info.media_type,
		  "application/vnd.oci.image.manifest.v1+json");
	CHECK_STR(info.artifact_type, "application/vnd.example.config");
	CHECK_STR(info.subject, SUB);
	CHECK_STR(info.annotations, "{\"a\":\"1\",\"b\":\"2\"}");
	CHECK(info.n_blobs == 2 && info.n_children == 0,
	      "foreign layer not listed: %zu", info.n_blobs);
	CHECK_STR(info.blobs[0], CFG);
	CHECK_STR(info.blobs[1], LAY);
	berth_oci_manifest_info_release(&info);

	CHECK(berth_oci_manifest_inspect(&info, NULL, idx, strlen(idx), &err) ==
		      0,
	      "index");
	CHECK(info.n_children == 1 && info.n_blobs == 0, "children");
	CHECK(info.artifact_type == NULL,
	      "an index has no implied artifactType");
	berth_oci_manifest_info_release(&info);

	CHECK(berth_oci_manifest_inspect(&info, NULL, "{", 1, &err) ==
		      BERTH_EPROTO,
	      "bad JSON");
	berth_error_freep(&err);
	CHECK(berth_oci_manifest_inspect(
		      &info, "application/vnd.oci.image.index.v1+json", img,
		      strlen(img), &err) < 0,
	      "content type contradicting mediaType");
	berth_error_freep(&err);
}

TEST(routes)
{
	const srv_route *rt = NULL;
	char *name = NULL, *ref = NULL;

	CHECK(srv_route_find("GET", "/v2/", &rt, &name, &ref) == SRV_MATCH_OK &&
		      rt->handler == h_base_get,
	      "/v2/");
	CHECK(srv_route_find("GET", "/v2", &rt, &name, &ref) == SRV_MATCH_OK,
	      "/v2");
	CHECK(srv_route_find("GET", "/v2/a/b/manifests/latest", &rt, &name,
			     &ref) == SRV_MATCH_OK &&
		      rt->handler == h_manifest_get,
	      "manifest");
	CHECK_STR(name, "a/b");
	CHECK_STR(ref, "latest");
	free(name);
	free(ref);
	CHECK(srv_route_find("HEAD", "/v2/x/blobs/sha256:1", &rt, &name,
			     &ref) == SRV_MATCH_OK &&
		      rt->handler == h_blob_get,
	      "HEAD is GET");
	free(name);
	free(ref);
	CHECK(srv_route_find("POST", "/v2/x/blobs/uploads/", &rt, &name,
			     &ref) == SRV_MATCH_OK &&
		      rt->handler == h_upload_post && ref == NULL,
	      "upload post");
	CHECK_STR(name, "x");
	free(name);
	CHECK(srv_route_find("POST", "/v2/x/blobs/uploads", &rt, &name, &ref) ==
			      SRV_MATCH_OK &&
		      rt->handler == h_upload_post,
	      "upload post without slash");
	free(name);
	CHECK(srv_route_find("PATCH", "/v2/blobs/blobs/uploads/abc", &rt, &name,
			     &ref) == SRV_MATCH_OK &&
		      rt->handler == h_upload_patch,
	      "a repository called blobs");
	CHECK_STR(name, "blobs");
	CHECK_STR(ref, "abc");
	free(name);
	free(ref);
	CHECK(srv_route_find("GET", "/v2/x/blobs/uploads/manifests/t", &rt,
			     &name, &ref) == SRV_MATCH_OK &&
		      rt->handler == h_manifest_get,
	      "a repository called x/blobs/uploads");
	CHECK_STR(name, "x/blobs/uploads");
	free(name);
	free(ref);
	CHECK(srv_route_find("PUT", "/v2/x/tags/list", &rt, &name, &ref) ==
		      SRV_MATCH_METHOD,
	      "method");
	CHECK(srv_route_find("GET", "/v2/x/manifests/", &rt, &name, &ref) ==
		      SRV_MATCH_NONE,
	      "empty reference");
	CHECK(srv_route_find("GET", "/other", &rt, &name, &ref) ==
		      SRV_MATCH_NONE,
	      "other");
}

/* What runs around a handler comes from its route, not its address. */
TEST(route_needs)
{
	const srv_route *rt = NULL;
	char *name = NULL, *ref = NULL;
	static const struct {
		const char *method, *path;
		bool pull_limit;
		const char *audit;
	} want[] = {
		{"GET", "/v2/a/manifests/v1", true, "pull"},
		{"PUT", "/v2/a/manifests/v1", false, "push"},
		{"DELETE", "/v2/a/manifests/v1", false, "delete"},
		{"DELETE", "/v2/a/blobs/sha256:1", false, "delete"},
		{"DELETE", "/v2/a/blobs/uploads/u", false, NULL},
		{"GET", "/v2/a/blobs/sha256:1", false, NULL},
		{"GET", "/v2/a/tags/list", false, NULL},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(want); i++) {
		srv_match m = srv_route_find(want[i].method, want[i].path, &rt,
					     &name, &ref);

		CHECK(m == SRV_MATCH_OK, "%s %s", want[i].method, want[i].path);
		if (m != SRV_MATCH_OK)
			continue;
		CHECK(!!(rt->needs & SRV_NEED_PULL_LIMIT) == want[i].pull_limit,
		      "%s %s: pull limit", want[i].method, want[i].path);
		CHECK(want[i].audit
			      ? rt->audit && !strcmp(rt->audit, want[i].audit)
			      : rt->audit == NULL,
		      "%s %s: audit action", want[i].method, want[i].path);
		free(name);
		free(ref);
	}
}

TEST(htpasswd)
{
	char path[] = "/tmp/berth-unit-htpasswd.XXXXXX";
	struct crypt_data cd;
	berth_htpasswd *h = NULL;
	berth_error *err = NULL;
	unsigned long runs;
	const char *hash;
	char setting[64];
	FILE *f;
	int fd;

	memset(&cd, 0, sizeof(cd));
	CHECK(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)) !=
		      NULL,
	      "salt");
	hash = crypt_r("pw", setting, &cd);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "# users\n\nalice:%s\n", hash);
	fclose(f);
	CHECK(berth_htpasswd_load(&h, path, &err) == 0, "load: %s",
	      err ? err->msg : "");
	runs = berth_htpasswd_bcrypt_runs(h);
	CHECK(!berth_htpasswd_check_cached(h, "alice", "pw"), "not yet good");
	CHECK(berth_htpasswd_check(h, "alice", "pw", &err) == 0,
	      "good password");
	CHECK(berth_htpasswd_bcrypt_runs(h) == runs + 1, "one bcrypt");
	CHECK(berth_htpasswd_check_cached(h, "alice", "pw"), "remembered");
	CHECK(berth_htpasswd_check(h, "alice", "pw", &err) == 0,
	      "again (cached)");
	CHECK(berth_htpasswd_bcrypt_runs(h) == runs + 1, "no bcrypt again");
	CHECK(berth_htpasswd_check(h, "alice", "px", &err) == BERTH_EAUTH,
	      "wrong");
	berth_error_freep(&err);
	CHECK(berth_htpasswd_bcrypt_runs(h) == runs + 2,
	      "a wrong password costs one bcrypt");
	CHECK(!berth_htpasswd_check_cached(h, "alice", "px"), "never good");
	CHECK(berth_htpasswd_check(h, "bob", "pw", &err) == BERTH_EAUTH,
	      "unknown");
	berth_error_freep(&err);
	CHECK(berth_htpasswd_bcrypt_runs(h) == runs + 3,
	      "an unknown user costs one bcrypt too (no user-name oracle)");
	{
		char fp1[BERTH_HTPASSWD_FP_LEN + 1], fp2[sizeof(fp1)];
		berth_htpasswd *h2 = NULL;
		const char *hash2 = crypt_r("pw2", setting, &cd);

		CHECK(berth_htpasswd_fingerprint(h, "alice", fp1) &&
			      strlen(fp1) == BERTH_HTPASSWD_FP_LEN,
		      "a user's fingerprint");
		CHECK(!berth_htpasswd_fingerprint(h, "bob", fp2),
		      "no fingerprint for an unknown user");
		f = fopen(path, "w");
		fprintf(f, "alice:%s\n", hash2);
		fclose(f);
		CHECK(berth_htpasswd_load(&h2, path, &err) == 0, "reload");
		CHECK(berth_htpasswd_fingerprint(h2, "alice", fp2) &&
			      strcmp(fp1, fp2) != 0,
		      "a new password changes the fingerprint");
		CHECK(berth_htpasswd_ref(h2) == h2, "ref");
		berth_htpasswd_free(h2);
		CHECK(berth_htpasswd_check(h2, "alice", "pw2", &err) == 0,
		      "alive while a reference is left");
		berth_htpasswd_free(h2);
	}
	berth_htpasswd_free(h);
	f = fopen(path, "w");
	fprintf(f, "alice:$apr1$abc$def\n");
	fclose(f);
	CHECK(berth_htpasswd_load(&h, path, &err) == BERTH_EUNSUPPORTED,
	      "md5 refused");
	berth_error_freep(&err);
	unlink(path);
}

TEST(config)
{
	char path[] = "/tmp/berth-unit-config.XXXXXX";
	berth_serve_config c;
	berth_error *err = NULL;
	FILE *f;

	berth_serve_config_init(&c);
	CHECK_STR(c.addr, "127.0.0.1:5000");
	f = fdopen(mkstemp(path), "w");
	fprintf(f, "{\"addr\":\":6000\",\"threads\":5,\"tls-cert\":\"c.pem\"}");
	fclose(f);
	CHECK(berth_serve_config_load(&c, path, &err) == 0, "load");
	CHECK_STR(c.addr, ":6000");
	CHECK_STR(c.tls_cert, "c.pem");
	CHECK(c.threads == 5, "threads");
	CHECK(berth_serve_config_set(&c, "threads", "x", &err) == BERTH_EUSAGE,
	      "bad");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "nope", "x", &err) == BERTH_EUSAGE,
	      "unknown");
	berth_error_freep(&err);
	f = fopen(path, "w");
	fprintf(f, "{\"addr\":[1]}");
	fclose(f);
	CHECK(berth_serve_config_load(&c, path, &err) == BERTH_EUSAGE,
	      "array value");
	berth_error_freep(&err);
	unlink(path);
	berth_serve_config_release(&c);
}

TEST_MAIN("test_serve_oci")
