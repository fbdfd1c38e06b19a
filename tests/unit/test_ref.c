#include "test.h"

#include "berth/ref.h"
#include "util/error.h"
#include "util/xalloc.h"

#define H64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define D256 "sha256:" H64
#define D512                                                                   \
	"sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55"  \
	"d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
#define T128                                                                   \
	"t234567890123456789012345678901234567890123456789012345678901234"     \
	"5678901234567890123456789012345678901234567890123456789012345678"

/*
 * Each case: the input, and either the canonical berth_ref_string (want)
 * or NULL and a substring of the error message (BERTH_EREF).
 */
static const struct {
	const char *in;
	const char *want;
	const char *msg;
} cases[] = {
	/* Docker Hub normalisation */
	{"nginx", "docker.io/library/nginx:latest", NULL},
	{"nginx:1.25", "docker.io/library/nginx:1.25", NULL},
	{"user/app", "docker.io/user/app:latest", NULL},
	{"user/app:v1", "docker.io/user/app:v1", NULL},
	{"library/nginx", "docker.io/library/nginx:latest", NULL},
	{"docker.io/nginx", "docker.io/library/nginx:latest", NULL},
	{"docker.io/library/nginx:latest", "docker.io/library/nginx:latest",
	 NULL},
	{"docker.io/user/app", "docker.io/user/app:latest", NULL},
	{"index.docker.io/nginx", "docker.io/library/nginx:latest", NULL},
	{"index.docker.io/user/app:v2", "docker.io/user/app:v2", NULL},
	{"registry-1.docker.io/library/busybox",
	 "docker.io/library/busybox:latest", NULL},
	{"registry-1.docker.io/x", "docker.io/library/x:latest", NULL},
	{"a/b/c/d/e", "docker.io/a/b/c/d/e:latest", NULL},
	{"0", "docker.io/library/0:latest", NULL},
	/* other registries */
	{"registry.example.com/dev/myapp:v1.2",
	 "registry.example.com/dev/myapp:v1.2", NULL},
	{"registry.example.com/myapp", "registry.example.com/myapp:latest",
	 NULL},
	{"localhost:5000/a/b", "localhost:5000/a/b:latest", NULL},
	{"localhost/a", "localhost/a:latest", NULL},
	{"localhost:5000/a:tag", "localhost:5000/a:tag", NULL},
	{"localhost", "docker.io/library/localhost:latest", NULL},
	{"localhost:5000", "docker.io/library/localhost:5000", NULL},
	{"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", NULL},
	{"127.0.0.1/app", "127.0.0.1/app:latest", NULL},
	{"[::1]:5000/a", "[::1]:5000/a:latest", NULL},
	{"[2001:db8::1]/repo:tag", "[2001:db8::1]/repo:tag", NULL},
	{"[2001:DB8::1]:443/x", "[2001:DB8::1]:443/x:latest", NULL},
	{"Foo/bar", "Foo/bar:latest", NULL},
	{"Registry.Example.COM/app", "Registry.Example.COM/app:latest", NULL},
	{"a.b/c", "a.b/c:latest", NULL},
	{"xn--bcher-kva.example/app", "xn--bcher-kva.example/app:latest", NULL},
	{"a-b.c-d.com:1/x", "a-b.c-d.com:1/x:latest", NULL},
	{"host:5000/team/app", "host:5000/team/app:latest", NULL},
	/* path components */
	{"foo_bar", "docker.io/library/foo_bar:latest", NULL},
	{"foo__bar", "docker.io/library/foo__bar:latest", NULL},
	{"foo.bar", "docker.io/library/foo.bar:latest", NULL},
	{"foo-bar", "docker.io/library/foo-bar:latest", NULL},
	{"foo---bar", "docker.io/library/foo---bar:latest", NULL},
	{"user/a1.b2_c3__d4-e5", "docker.io/user/a1.b2_c3__d4-e5:latest", NULL},
	{"a1.b2_c3/x", NULL, "domain 'a1.b2_c3'"},
	/* tags */
	{"my-registry.com:443/ns/img:TAG_1.0-rc",
	 "my-registry.com:443/ns/img:TAG_1.0-rc", NULL},
	{"nginx:" T128, "docker.io/library/nginx:" T128, NULL},
	{"nginx:_x", "docker.io/library/nginx:_x", NULL},
	{"nginx:1", "docker.io/library/nginx:1", NULL},
	{"nginx:a..--__b", "docker.io/library/nginx:a..--__b", NULL},
	/* digests */
	{"nginx@" D256, "docker.io/library/nginx@" D256, NULL},
	{"nginx:1.25@" D256, "docker.io/library/nginx:1.25@" D256, NULL},
	{"host:5000/team/app@" D256, "host:5000/team/app@" D256, NULL},
	{"localhost:5000/a:v1@" D256, "localhost:5000/a:v1@" D256, NULL},
	{"nginx@" D512, "docker.io/library/nginx@" D512, NULL},

	/* invalid: empty parts */
	{"", NULL, "reference is empty"},
	{":tag", NULL, "repository name is empty"},
	{"@" D256, NULL, "repository name is empty"},
	{"docker.io/", NULL, "repository name is empty"},
	{"a//b", NULL, "repository name 'a//b' has an empty path component"},
	{"/a", NULL, "repository name '/a' has an empty path component"},
	{"a/", NULL, "repository name 'a/' has an empty path component"},
	{"localhost:5000/a/", NULL,
	 "repository name 'a/' has an empty path component"},
	/* invalid: uppercase repositories */
	{"Foo/Bar", NULL, "repository name 'Foo/Bar' must be lowercase"},
	{"NGINX", NULL, "repository name 'NGINX' must be lowercase"},
	{"nGinx:latest", NULL, "repository name 'nGinx' must be lowercase"},
	{"user/App", NULL, "repository name 'user/App' must be lowercase"},
	{"registry.example.com/Dev/app", NULL,
	 "repository name 'Dev/app' must be lowercase"},
	{"localhost/A", NULL, "repository name 'A' must be lowercase"},
	/* invalid: separators and characters */
	{"-a", NULL,
	 "path component '-a' must start with a lowercase letter or digit"},
	{"_a", NULL, "path component '_a' must start"},
	{"a-", NULL,
	 "path component 'a-' must end with a lowercase letter or digit"},
	{"a.", NULL, "path component 'a.' must end"},
	{"user/a_", NULL, "path component 'a_' must end"},
	{"a..b", NULL, "path component 'a..b' has an invalid separator '..'"},
	{"a___b", NULL, "has an invalid separator '___'"},
	{"a.-b", NULL, "has an invalid separator '.-'"},
	{"a_-b", NULL, "has an invalid separator '_-'"},
	{"a b", NULL, "path component 'a b' has an invalid character ' '"},
	{"a$b", NULL, "has an invalid character '$'"},
	{"a/b c/d", NULL, "path component 'b c' has an invalid character ' '"},
	{"caf\xc3\xa9", NULL, "has an invalid character 0xc3"},
	{"a\nb", NULL, "has an invalid character 0x0a"},
	{"nginx:1.0:2", NULL,
	 "path component 'nginx:1.0' has an invalid character ':'"},
	/* invalid: tags */
	{"a:b c", NULL,
	 "invalid reference 'a:b c': tag 'b c' may contain only letters, "
	 "digits"},
	{"nginx:", NULL, "tag is empty"},
	{"nginx:.x", NULL, "tag '.x' may contain only"},
	{"nginx:-x", NULL, "must not start with '.' or '-'"},
	{"nginx:v1+2", NULL, "tag 'v1+2'"},
	{"nginx:" T128 "9", NULL, "is longer than 128 characters"},
	/* invalid: digests */
	{"nginx@sha256:abc", NULL,
	 "invalid digest 'sha256:abc': expected 64 lowercase hex"},
	{"nginx@", NULL, "invalid digest ''"},
	{"nginx@md5:d41d8cd98f00b204e9800998ecf8427e", NULL,
	 "algorithm 'md5' is not supported"},
	{"nginx@sha256:"
	 "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
	 NULL, "expected 64 lowercase hex"},
	{"nginx@" H64, NULL, "invalid digest"},
	{"nginx:tag@" D256 "@x", NULL, "invalid digest"},
	{H64, NULL,
	 "a 64-character hexadecimal string is not a repository name"},
	/* invalid: domains */
	{"nginx:a/b", NULL, "domain 'nginx:a' is not a valid host name"},
	{"localhost:abc/a", NULL, "domain 'localhost:abc'"},
	{"exa_mple.com/a", NULL, "domain 'exa_mple.com'"},
	{"-example.com/a", NULL, "domain '-example.com'"},
	{"example-.com/a", NULL, "domain 'example-.com'"},
	{"example.com:/a", NULL, "domain 'example.com:'"},
	{"example..com/a", NULL, "domain 'example..com'"},
	{":5000/a", NULL, "domain ':5000'"},
	{"[::1/a", NULL, "domain '[::1'"},
	{"[]:5000/a", NULL, "domain '[]:5000'"},
	{"[fe80::1%eth0]/a", NULL, "domain '[fe80::1%eth0]'"},
	{"[::1]x/a", NULL, "domain '[::1]x'"},
	{"[::g]/a", NULL, "domain '[::g]'"},
};

TEST(table)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);

	CHECK(n >= 70, "table has %zu cases", n);
	for (size_t i = 0; i < n; i++) {
		berth_ref *r = NULL;
		berth_error *err = NULL;
		int rc = berth_ref_parse(&r, cases[i].in, &err);

		if (cases[i].want) {
			char *s = rc == 0 ? berth_ref_string(r) : NULL;

			CHECK(rc == 0, "'%s': %s", cases[i].in,
			      err ? err->msg : "");
			CHECK_STR(s, cases[i].want);
			free(s);
		} else {
			char prefix[300];

			snprintf(prefix, sizeof(prefix), "invalid reference '");
			CHECK(rc == BERTH_EREF, "'%s': rc %d", cases[i].in, rc);
			CHECK(r == NULL, "'%s': no ref on failure",
			      cases[i].in);
			CHECK(err && err->code == BERTH_EREF, "'%s': code",
			      cases[i].in);
			CHECK(err &&
				      strncmp(err->msg, prefix,
					      strlen(prefix)) == 0 &&
				      strstr(err->msg, cases[i].msg),
			      "'%s': message '%s', want '%s'", cases[i].in,
			      err ? err->msg : "(none)", cases[i].msg);
			CHECK(err && !strchr(err->msg, '\n'),
			      "'%s': one-line message", cases[i].in);
		}
		berth_ref_free(r);
		berth_error_free(err);
	}
}

TEST(fields)
{
	berth_ref *r = NULL, *d;
	berth_error *err = NULL;

	CHECK(berth_ref_parse(&r, "nginx@" D256, &err) == 0, "digest only");
	CHECK_STR(r->domain, "docker.io");
	CHECK_STR(r->path, "library/nginx");
	CHECK(r->tag == NULL, "tag is NULL when only a digest was given");
	CHECK_STR(r->digest, D256);
	CHECK_STR(berth_ref_reference(r), D256);
	berth_ref_free(r);

	CHECK(berth_ref_parse(&r, "localhost:5000/a/b:v1@" D256, &err) == 0,
	      "tag and digest");
	CHECK_STR(r->domain, "localhost:5000");
	CHECK_STR(r->path, "a/b");
	CHECK_STR(r->tag, "v1");
	CHECK_STR(berth_ref_reference(r), D256);
	CHECK_STR(berth_ref_api_host(r), "localhost:5000");
	d = berth_ref_dup(r);
	berth_ref_free(r);
	CHECK_STR(d->domain, "localhost:5000");
	CHECK_STR(d->path, "a/b");
	CHECK_STR(d->tag, "v1");
	CHECK_STR(d->digest, D256);
	{
		char *name = berth_ref_name(d);

		CHECK_STR(name, "localhost:5000/a/b");
		free(name);
	}
	berth_ref_free(d);

	CHECK(berth_ref_parse(&r, "nginx", &err) == 0, "nginx");
	CHECK_STR(berth_ref_reference(r), "latest");
	CHECK_STR(berth_ref_api_host(r), "registry-1.docker.io");
	CHECK(r->digest == NULL, "no digest");
	berth_ref_free(r);

	CHECK(berth_ref_parse_name(&r, "nginx", &err) == 0, "parse_name");
	CHECK(r->tag == NULL, "parse_name does not default the tag");
	CHECK(berth_ref_reference(r) == NULL, "nothing to ask for");
	{
		char *s = berth_ref_string(r);

		CHECK_STR(s, "docker.io/library/nginx");
		free(s);
	}
	berth_ref_free(r);
	CHECK(berth_ref_parse_name(&r, "registry.example.com/a:v2", &err) == 0,
	      "parse_name with tag");
	CHECK_STR(r->tag, "v2");
	berth_ref_free(r);
	CHECK(berth_ref_parse_name(&r, "A", &err) == BERTH_EREF,
	      "parse_name validates");
	berth_error_freep(&err);

	CHECK(berth_ref_parse(&r, NULL, &err) == BERTH_EREF, "NULL input");
	berth_error_freep(&err);
	CHECK(berth_ref_parse(&r, "A", NULL) == BERTH_EREF, "NULL err");
	CHECK(berth_ref_parse(&r, H64, NULL) == BERTH_EREF, "NULL err, hint");
	CHECK(berth_ref_parse(&r, "a@sha256:x", NULL) == BERTH_EREF,
	      "NULL err, digest");
	berth_ref_free(NULL);
	CHECK(err == NULL, "no stray error");
}

TEST(familiar)
{
	static const struct {
		const char *in, *want;
	} f[] = {
		{"nginx", "nginx:latest"},
		{"docker.io/library/nginx:1", "nginx:1"},
		{"index.docker.io/library/nginx:1", "nginx:1"},
		{"user/app", "user/app:latest"},
		{"docker.io/library/a/b", "library/a/b:latest"},
		{"localhost:5000/a", "localhost:5000/a:latest"},
		{"localhost/library/a", "localhost/library/a:latest"},
		{"nginx@" D256, "nginx@" D256},
		{"nginx:1@" D256, "nginx:1@" D256},
		{"registry.example.com/dev/myapp:v1.2",
		 "registry.example.com/dev/myapp:v1.2"},
		/* dropping docker.io here would make the first part a domain */
		{"docker.io/example.com/app",
		 "docker.io/example.com/app:latest"},
		{"docker.io/localhost/app", "docker.io/localhost/app:latest"},
		{"docker.io/a.b", "a.b:latest"},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		berth_ref *r = NULL;
		berth_error *err = NULL;
		char *s = NULL;

		CHECK(berth_ref_parse(&r, f[i].in, &err) == 0, "'%s'", f[i].in);
		if (r)
			s = berth_ref_familiar(r);
		CHECK_STR(s, f[i].want);
		free(s);
		berth_ref_free(r);
		berth_error_free(err);
	}
}

/* The 255-character limit applies to the path, as in distribution. */
TEST(lengths)
{
	char in[600];
	berth_ref *r = NULL;
	berth_error *err = NULL;

	/* "library/" + 247 = 255: accepted */
	memset(in, 'a', 247);
	in[247] = '\0';
	CHECK(berth_ref_parse(&r, in, &err) == 0, "255-character path");
	CHECK(r && strlen(r->path) == 255, "path length");
	berth_ref_free(r);
	r = NULL;

	memset(in, 'a', 248);
	in[248] = '\0';
	CHECK(berth_ref_parse(&r, in, &err) == BERTH_EREF, "256 characters");
	CHECK(err && strstr(err->msg, "is longer than 255 characters"),
	      "msg '%s'", err ? err->msg : "");
	CHECK(err && strlen(err->msg) < 500, "long input is shortened");
	berth_error_freep(&err);

	/* a long domain does not count */
	snprintf(in, sizeof(in), "%0100d.example.com/%0255d", 0, 0);
	CHECK(berth_ref_parse(&r, in, &err) == 0, "long domain: %s",
	      err ? err->msg : "");
	berth_ref_free(r);
	berth_error_freep(&err);
}

TEST_MAIN("test_ref")
