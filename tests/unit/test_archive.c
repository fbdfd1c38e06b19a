/*
 * The docker-archive's own files (archive/docker.c: manifest.json,
 * repositories, chain and v1 IDs) and the rules for archive entry names
 * (archive/names.c): pure logic, no I/O.
 */
#include "test.h"

#include "archive/docker.h"
#include "archive/names.h"
#include "berth/digest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

TEST(manifest_roundtrip)
{
	/* docker 20.10's manifest.json, two images, one untagged. */
	static const char text[] =
		"[{\"Config\":\"aa.json\",\"RepoTags\":[\"busybox:latest\","
		"\"host:5000/a/b:v1\"],\"Layers\":[\"1/layer.tar\",\"2/layer."
		"tar\"]},{\"Config\":\"bb.json\",\"RepoTags\":null,\"Layers\":"
		"[\"3/layer.tar\"]}]";
	docker_image *v = NULL;
	size_t n = 0;
	_cleanup_free_ char *out = NULL;

	CHECK(docker_manifest_parse(&v, &n, text, strlen(text), NULL) == 0,
	      "parse");
	CHECK(n == 2, "%zu images", n);
	CHECK_STR(v[0].config, "aa.json");
	CHECK(v[0].n_tags == 2 && v[0].n_layers == 2, "counts");
	CHECK_STR(v[0].repo_tags[1], "host:5000/a/b:v1");
	CHECK_STR(v[0].layers[1], "2/layer.tar");
	CHECK(v[1].n_tags == 0 && v[1].repo_tags[0] == NULL, "untagged");
	out = docker_manifest_write(v, n);
	CHECK_STR(out, text);
	docker_images_free(v, n);
}

TEST(manifest_refusals)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"{", "manifest.json is not valid JSON"},
		{"{}", "manifest.json is not an array of images"},
		{"[{\"Layers\":[]}]", "manifest.json: image 1 has no Config"},
		{"[{\"Config\":\"a\"}]", "image 1 has no Layers array"},
		{"[{\"Config\":\"a\",\"Layers\":[1]}]", "no Layers array"},
		{"[{\"Config\":\"a\",\"Layers\":[],\"RepoTags\":\"x\"}]",
		 "RepoTags that is not an array"},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		berth_error *e = NULL;
		docker_image *v = NULL;
		size_t n = 0;
		int r = docker_manifest_parse(&v, &n, cases[i].text,
					      strlen(cases[i].text), &e);

		CHECK(r == BERTH_EPROTO && e && strstr(e->msg, cases[i].msg),
		      "'%s': %d '%s'", cases[i].text, r, e ? e->msg : "");
		berth_error_free(e);
	}
	{
		docker_image *v = NULL;
		size_t n = 9;

		CHECK(docker_manifest_parse(&v, &n, "[]", 2, NULL) == 0 &&
			      n == 0,
		      "an empty array is no images");
		docker_images_free(v, n);
	}
}

TEST(repositories)
{
	json_auto_t *r = json_object();
	_cleanup_free_ char *text = NULL;
	char **names = NULL, **ids = NULL;

	docker_repositories_add(r, "busybox:latest", "aaa");
	docker_repositories_add(r, "busybox:1.36", "bbb");
	docker_repositories_add(r, "host:5000/team/app:v1", "ccc");
	docker_repositories_add(r, "host:5000/untagged", "ddd");
	text = json_dumps(r, JSON_COMPACT);
	CHECK_STR(text, "{\"busybox\":{\"latest\":\"aaa\",\"1.36\":\"bbb\"},"
			"\"host:5000/team/app\":{\"v1\":\"ccc\"}}");
	CHECK(docker_repositories_parse(&names, &ids, text, strlen(text),
					NULL) == 0,
	      "parse");
	CHECK(names && names[2] && names[3] == NULL, "three names");
	if (names && names[2]) {
		CHECK_STR(names[1], "busybox:1.36");
		CHECK_STR(names[2], "host:5000/team/app:v1");
		CHECK_STR(ids[2], "ccc");
	}
	berth_strv_free(names);
	berth_strv_free(ids);
	CHECK(docker_repositories_parse(&names, &ids, "{\"a\":[]}", 8, NULL) ==
		      BERTH_EPROTO,
	      "not an object of tags");
	CHECK(docker_repositories_parse(&names, &ids, "[]", 2, NULL) ==
		      BERTH_EPROTO,
	      "not an object");
}

TEST(chain_and_v1_ids)
{
	berth_digest a, b, chain, want;
	char id0[65], id1[65], again[65];
	json_auto_t *cfg =
		json_pack("{s:s, s:s, s:s, s:{s:[s]}}", "created",
			  "2024-01-01T00:00:00Z", "architecture", "amd64", "os",
			  "linux", "config", "Cmd", "/bin/sh");
	_cleanup_free_ char *j0 = NULL, *j1 = NULL, *j1b = NULL;
	_cleanup_free_ char *s = NULL;
	json_auto_t *o0 = NULL, *o1 = NULL;

	berth_digest_of(&a, BERTH_DIGEST_SHA256, "a", 1);
	berth_digest_of(&b, BERTH_DIGEST_SHA256, "b", 1);
	docker_chain_id(&chain, NULL, &a);
	CHECK_STR(chain.str, a.str);
	/* image-spec: ChainID(L1|L2) = Digest(ChainID(L1) + " " + DiffID(L2))
	 */
	s = xasprintf("%s %s", a.str, b.str);
	berth_digest_of(&want, BERTH_DIGEST_SHA256, s, strlen(s));
	docker_chain_id(&chain, &a, &b);
	CHECK_STR(chain.str, want.str);

	j0 = docker_v1_json(id0, cfg, 0, 2, &a, NULL);
	j1 = docker_v1_json(id1, cfg, 1, 2, &chain, id0);
	j1b = docker_v1_json(again, cfg, 1, 2, &chain, id0);
	CHECK_STR(again, id1);
	CHECK(strcmp(id0, id1) != 0, "layers have their own IDs");
	o0 = json_loads(j0, 0, NULL);
	o1 = json_loads(j1, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o0, "id")), id0);
	CHECK_STR(json_string_value(json_object_get(o0, "created")),
		  "1970-01-01T00:00:00Z");
	CHECK(json_object_get(o0, "parent") == NULL, "base has no parent");
	CHECK(json_object_get(o0, "config") == NULL, "lower layers no config");
	CHECK_STR(json_string_value(json_object_get(o0, "os")), "linux");
	CHECK_STR(json_string_value(json_object_get(o1, "parent")), id0);
	CHECK_STR(json_string_value(json_object_get(o1, "created")),
		  "2024-01-01T00:00:00Z");
	CHECK(json_is_object(json_object_get(o1, "config")) &&
		      json_is_object(json_object_get(o1, "container_config")),
	      "top layer carries the config");
	CHECK(json_object_get(o1, "rootfs") == NULL, "no rootfs in v1 JSON");
}

TEST(entry_names)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"manifest.json", "manifest.json"},
		{"./manifest.json", "manifest.json"},
		{"a//b/", "a/b"},
		{"./blobs/sha256/ab", "blobs/sha256/ab"},
		{"../evil", NULL},
		{"a/../../evil", NULL},
		{"a/../b", NULL},
		{"/etc/passwd", NULL},
		{"", NULL},
		{".", NULL},
		{"./", NULL},
		{"a\nb", NULL},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = archive_name_clean(cases[i].in);

		CHECK_STR(got, cases[i].out);
	}
}

TEST(link_targets)
{
	static const struct {
		const char *from, *target, *out;
	} cases[] = {
		/* skopeo's docker-archive: */
		{"abc/layer.tar", "../def.tar", "def.tar"},
		/* docker's, a layer shared under another parent */
		{"abc/layer.tar", "../xyz/layer.tar", "xyz/layer.tar"},
		{"top", "other", "other"},
		{"a/b/c", "../../d", "d"},
		{"abc/layer.tar", "../../etc/passwd", NULL},
		{"top", "..", NULL},
		{"abc/layer.tar", "/etc/passwd", NULL},
		{"abc/layer.tar", "", NULL},
		{"abc/layer.tar", "..", NULL},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got =
			archive_link_resolve(cases[i].from, cases[i].target);

		CHECK_STR(got, cases[i].out);
	}
}

TEST_MAIN("test_archive")
