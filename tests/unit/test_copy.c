#include "test.h"

#include "berth/copy.h"
#include "util/error.h"
#include "util/xalloc.h"

/*
 * Each case: the input and either its canonical berth_location_string
 * with the parts (want, path, tag), or NULL and the code and a substring
 * of the error message.
 */
static const struct {
	const char *in;
	const char *want;
	const char *path, *tag;
	int code;
	const char *msg;
} cases[] = {
	{"docker://nginx", "docker://docker.io/library/nginx:latest", NULL,
	 NULL, 0, NULL},
	{"docker://localhost:5000/a/b:v1", "docker://localhost:5000/a/b:v1",
	 NULL, NULL, 0, NULL},
	{"docker://127.0.0.1:5000/a@sha256:"
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	 "docker://127.0.0.1:5000/a@sha256:"
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	 NULL, NULL, 0, NULL},
	{"docker:nginx", NULL, NULL, NULL, BERTH_EUSAGE, "docker://NAME"},
	{"docker://a/UPPER:x", NULL, NULL, NULL, BERTH_EREF, "location"},
	{"docker://", NULL, NULL, NULL, BERTH_EREF, "location"},
	{"oci:/tmp/layout", "oci:/tmp/layout", "/tmp/layout", NULL, 0, NULL},
	{"oci:/tmp/layout:v1", "oci:/tmp/layout:v1", "/tmp/layout", "v1", 0,
	 NULL},
	{"oci:dir:with:colons:latest", "oci:dir:with:colons:latest",
	 "dir:with:colons", "latest", 0, NULL},
	{"oci:layout:", "oci:layout", "layout", NULL, 0, NULL},
	{"oci:/i:/:", "oci:/i:/:", "/i:/", NULL, 0, NULL},
	{"oci:layout:bad/tag", NULL, NULL, NULL, BERTH_EUSAGE, "invalid tag"},
	{"oci:", NULL, NULL, NULL, BERTH_EUSAGE, "oci:DIR[:TAG]"},
	{"oci::v1", NULL, NULL, NULL, BERTH_EUSAGE, "oci:DIR[:TAG]"},
	/* a bare reference is an image of the local store */
	{"nginx:latest", "docker.io/library/nginx:latest", NULL, NULL, 0, NULL},
	{"localhost:5000/a:v1", "localhost:5000/a:v1", NULL, NULL, 0, NULL},
	{"/tmp/x", NULL, NULL, NULL, BERTH_EUSAGE, "unknown location"},
	{"dir:/tmp/x", NULL, NULL, NULL, BERTH_EUSAGE, "unknown location"},
	{"containers-storage:nginx", NULL, NULL, NULL, BERTH_EUSAGE,
	 "unknown location"},
	{"oci-archive:x.tar", "oci-archive:x.tar", "x.tar", NULL, 0, NULL},
	{"oci-archive:/a:b/x.tar:v2", "oci-archive:/a:b/x.tar:v2", "/a:b/x.tar",
	 "v2", 0, NULL},
	{"oci-archive:", NULL, NULL, NULL, BERTH_EUSAGE,
	 "oci-archive:FILE[:TAG]"},
	{"docker-archive:x.tar", "docker-archive:x.tar", "x.tar", NULL, 0,
	 NULL},
	{"docker-archive:x.tar:host:5000/a:v1",
	 "docker-archive:x.tar:host:5000/a:v1", "x.tar", NULL, 0, NULL},
	{"docker-archive:x.tar:app",
	 "docker-archive:x.tar:docker.io/library/"
	 "app:latest",
	 "x.tar", NULL, 0, NULL},
	{"docker-archive:x.tar:a@sha256:"
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	 NULL, NULL, NULL, BERTH_EUSAGE, "by tag"},
	{"docker-archive:", NULL, NULL, NULL, BERTH_EUSAGE,
	 "docker-archive:FILE"},
	{"", NULL, NULL, NULL, BERTH_EUSAGE, "unknown location"},
	/* what is typed is shown on one line */
	{"docker\n://x", NULL, NULL, NULL, BERTH_EUSAGE, "'docker ://x'"},
	{"oci:a\nb:bad/tag", NULL, NULL, NULL, BERTH_EUSAGE,
	 "'oci:a b:bad/tag'"},
};

TEST(location_parse)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		berth_location *l = NULL;
		berth_error *err = NULL;
		int r = berth_location_parse(&l, cases[i].in, &err);

		if (cases[i].want) {
			char *s;

			CHECK(r == 0, "'%s': %s", cases[i].in,
			      err ? err->msg : "");
			if (r < 0)
				continue;
			s = berth_location_string(l);
			CHECK_STR(s, cases[i].want);
			free(s);
			if (l->kind == BERTH_LOCATION_OCI ||
			    l->kind == BERTH_LOCATION_OCI_ARCHIVE) {
				CHECK_STR(l->path, cases[i].path);
				CHECK_STR(l->tag, cases[i].tag);
			} else if (l->kind == BERTH_LOCATION_DOCKER_ARCHIVE) {
				CHECK_STR(l->path, cases[i].path);
			} else {
				CHECK(l->ref != NULL, "'%s': a reference",
				      cases[i].in);
			}
		} else {
			CHECK(r == cases[i].code, "'%s': %d, want %d",
			      cases[i].in, r, cases[i].code);
			CHECK(l == NULL, "'%s': no location", cases[i].in);
			CHECK(err && err->msg && strstr(err->msg, cases[i].msg),
			      "'%s': msg '%s' lacks '%s'", cases[i].in,
			      err ? err->msg : "", cases[i].msg);
		}
		berth_location_free(l);
		berth_error_free(err);
	}
}

TEST(location_free_null)
{
	berth_location_free(NULL);
}

TEST(copy_opts_version)
{
	berth_copy_opts o = BERTH_COPY_OPTS_INIT;
	berth_copy_result res = BERTH_COPY_RESULT_INIT;
	berth_location *src = NULL, *dst = NULL;
	berth_error *err = NULL;

	CHECK(berth_location_parse(&src, "oci:/nonexistent-a", NULL) == 0,
	      "src");
	CHECK(berth_location_parse(&dst, "oci:/nonexistent-b", NULL) == 0,
	      "dst");
	o.version = 99;
	CHECK(berth_copy(&res, src, dst, &o, &err) == BERTH_EUSAGE,
	      "unknown opts version refused");
	CHECK(err && strstr(err->msg, "berth_copy_opts"), "msg '%s'",
	      err ? err->msg : "");
	berth_error_freep(&err);
	o.version = BERTH_COPY_OPTS_VERSION;
	res.version = 0;
	CHECK(berth_copy(&res, src, dst, &o, &err) == BERTH_EUSAGE,
	      "uninitialised result refused");
	berth_error_freep(&err);
	berth_location_free(src);
	berth_location_free(dst);
}

TEST_MAIN("test_copy")
