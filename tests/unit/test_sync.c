#include "test.h"

#include "berth/sync.h"
#include "util/error.h"

static berth_sync_list *
parse(const char *text, berth_error **err)
{
	berth_sync_list *l = NULL;

	berth_sync_list_parse(&l, text, strlen(text), "t.yaml", err);
	return l;
}

TEST(file_yaml)
{
	berth_error *err = NULL;
	berth_sync_list *l = parse("reg.example.com:\n"
				   "  images:\n"
				   "    team/app: [v1, v2]\n"
				   "    tools: []\n"
				   "  images-by-tag-regex:\n"
				   "    team/x: ^v1\\.\n"
				   "  tls-verify: false\n"
				   "  cert-dir: /certs\n"
				   "  credentials: {username: u, password: p}\n"
				   "localhost:5000:\n"
				   "  images: {a/b: }\n",
				   &err);

	CHECK(l != NULL, "%s", err ? err->msg : "");
	if (l == NULL)
		return;
	CHECK(l->n == 4, "%zu repositories", l->n);
	CHECK_STR(l->repos[0].registry, "reg.example.com");
	CHECK_STR(l->repos[0].repo, "team/app");
	CHECK_STR(l->repos[0].dest_name, "app");
	CHECK(l->repos[0].n_tags == 2, "tags");
	CHECK_STR(l->repos[0].tags[1], "v2");
	CHECK(l->repos[1].n_tags == 0 && !l->repos[1].tag_regex, "every tag");
	CHECK_STR(l->repos[2].tag_regex, "^v1\\.");
	CHECK(l->repos[2].tls_verify == 0, "tls-verify");
	CHECK_STR(l->repos[2].cert_dir, "/certs");
	CHECK_STR(l->repos[2].username, "u");
	CHECK_STR(l->repos[2].password, "p");
	CHECK_STR(l->repos[3].registry, "localhost:5000");
	CHECK(l->repos[3].tls_verify == -1 && !l->repos[3].username,
	      "settings stay per registry");
	berth_sync_list_free(l);
}

TEST(file_json)
{
	berth_error *err = NULL;
	berth_sync_list *l = parse(
		"{\"localhost:5000\": {\"images\": {\"a/b\": [\"latest\"]}}}",
		&err);

	CHECK(l != NULL && l->n == 1, "%s", err ? err->msg : "");
	if (l)
		CHECK_STR(l->repos[0].tags[0], "latest");
	berth_sync_list_free(l);
}

TEST(file_errors)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"r.io:\n  images:\n    a: [v1\n", "line "},
		{"r.io:\n  imagez: {}\n", "line 2: unknown key 'imagez'"},
		{"r.io:\n  images:\n    a: [\"bad tag\"]\n", "invalid tag"},
		{"r.io:\n  images:\n    A/B: []\n", "not a repository"},
		{"r.io:\n  images:\n    a:b: []\n", "not a repository"},
		{"r.io:\n  images-by-tag-regex:\n    a: \"([\"\n",
		 "regular expression"},
		{"r.io:\n  tls-verify: maybe\n  images: {a: []}\n",
		 "true or false"},
		{"r.io:\n  credentials: {user: x}\n  images: {a: []}\n",
		 "'credentials' takes"},
		{"r.io/x:\n  images: {a: []}\n", "host[:port]"},
		{"- a\n- b\n", "must be a mapping"},
		{"", "empty"},
		{"r.io:\n  tls-verify: true\n", "no repository"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		berth_error *err = NULL;
		berth_sync_list *l = parse(bad[i].text, &err);

		CHECK(l == NULL, "'%s' accepted", bad[i].text);
		CHECK(err && err->code == BERTH_EUSAGE && err->msg &&
			      strstr(err->msg, bad[i].msg) &&
			      strstr(err->msg, "t.yaml") &&
			      !strchr(err->msg, '\n'),
		      "'%s': msg '%s' lacks '%s'", bad[i].text,
		      err ? err->msg : "", bad[i].msg);
		berth_sync_list_free(l);
		berth_error_free(err);
	}
}

TEST(list_repo)
{
	berth_sync_list *l = NULL;
	berth_error *err = NULL;

	CHECK(berth_sync_list_repo(&l, "docker://localhost:5000/a/b", &err) ==
		      0,
	      "parse");
	if (l) {
		CHECK_STR(l->repos[0].dest_name, "b");
		CHECK(l->repos[0].n_tags == 0, "every tag");
	}
	berth_sync_list_free(l);
	l = NULL;
	CHECK(berth_sync_list_repo(&l, "docker://localhost:5000/a/b:v1",
				   &err) == 0,
	      "parse with a tag");
	if (l)
		CHECK(l->repos[0].n_tags == 1 &&
			      strcmp(l->repos[0].tags[0], "v1") == 0,
		      "the one tag");
	berth_sync_list_free(l);
	l = NULL;
	CHECK(berth_sync_list_repo(&l, "localhost:5000/a", &err) ==
		      BERTH_EUSAGE,
	      "no docker://");
	berth_error_free(err);
}

TEST(semver_order)
{
	static const char *const up[] = {"0.9",		  "v1.0.0-alpha",
					 "1.0.0-alpha.1", "1.0.0-alpha.beta",
					 "1.0.0-beta.2",  "1.0.0-beta.11",
					 "1.0.0-rc.1",	  "1.0.0",
					 "v1.2",	  "1.10.0+build.5"};

	for (size_t i = 0; i + 1 < sizeof(up) / sizeof(*up); i++) {
		berth_semver a, b;

		CHECK(berth_semver_parse(&a, up[i]) == 0 &&
			      berth_semver_parse(&b, up[i + 1]) == 0,
		      "'%s' and '%s' parse", up[i], up[i + 1]);
		CHECK(berth_semver_cmp(&a, &b) < 0 &&
			      berth_semver_cmp(&b, &a) > 0,
		      "'%s' < '%s'", up[i], up[i + 1]);
	}
	for (const char *const *p =
		     (const char *const[]){"latest", "v", "1.", "1.2.3.4",
					   "1.2-", "x1", NULL};
	     *p; p++) {
		berth_semver v;

		CHECK(berth_semver_parse(&v, *p) < 0, "'%s' is no version", *p);
	}
}

TEST(semver_range)
{
	static const struct {
		const char *v, *range;
		bool in;
	} cases[] = {
		{"1.2.0", ">=1.2 <2", true},  {"1.9.9", ">=1.2 <2", true},
		{"2.0.0", ">=1.2 <2", false}, {"1.1.9", ">=1.2 <2", false},
		{"1.4.0", "=1.4", true},      {"1.4.0", "1.4.0", true},
		{"1.4.1", "!=1.4.1", false},  {"3.0.0", ">2", true},
		{"2.0.0", "<=2.0.0", true},   {"2.0.0-rc.1", "<2", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		berth_semver v;
		berth_error *err = NULL;
		bool in = !cases[i].in;

		berth_semver_parse(&v, cases[i].v);
		CHECK(berth_semver_match(&in, &v, cases[i].range, &err) == 0,
		      "'%s'", cases[i].range);
		CHECK(in == cases[i].in, "'%s' in '%s'", cases[i].v,
		      cases[i].range);
		berth_error_free(err);
	}
	for (const char *const *p =
		     (const char *const[]){"", "about 2", "=>1", "<<1", NULL};
	     *p; p++) {
		berth_semver v = {0};
		berth_error *err = NULL;
		bool in;

		CHECK(berth_semver_match(&in, &v, *p, &err) == BERTH_EUSAGE,
		      "'%s' refused", *p);
		berth_error_free(err);
	}
}

TEST_MAIN("test_sync")
