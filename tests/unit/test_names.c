/*
 * The one copy of the name rules (oci/names.c): repository names and tags
 * per the distribution spec, Docker Hub's host names, and the client and
 * the server agreeing on them.
 */
#include "test.h"

#include "berth/ref.h"
#include "oci/names.h"
#include "registry/registry.h"
#include "server/handlers/oci.h"
#include "util/error.h"

#define BERTH_N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const good_names[] = {"a",	 "library/nginx", "a-b/c_d.e/f",
					 "a__b", "a--b",	  "a---b/c",
					 "0",	 "9a/b0",	  "x.y.z"};
static const char *const bad_names[] = {
	"",	"-a",	"a-",	 "_a",	   "a_",   "a.",
	".a",	"a..b", "a___b", "a._b",   "a_-b", "a/-b",
	"b/a-", "/a",	"a/",	 "a//b",   "A",	   "a/B",
	"a b",	"a:b",	"a@b",	 "a/../b", "a%2f", "caf\xc3\xa9"};

static void
test_name_grammar(void)
{
	char longname[300];

	for (size_t i = 0; i < BERTH_N(good_names); i++)
		CHECK(berth_ref_name_valid(good_names[i]), "'%s' refused",
		      good_names[i]);
	for (size_t i = 0; i < BERTH_N(bad_names); i++)
		CHECK(!berth_ref_name_valid(bad_names[i]), "'%s' accepted",
		      bad_names[i]);
	CHECK(!berth_ref_name_valid(NULL), "NULL accepted");
	memset(longname, 'a', 255);
	longname[255] = '\0';
	CHECK(berth_ref_name_valid(longname), "255 characters refused");
	longname[255] = 'a';
	longname[256] = '\0';
	CHECK(!berth_ref_name_valid(longname), "256 characters accepted");
}

static void
test_component_faults(void)
{
	size_t at, len;

	CHECK(berth_name_component_check(&at, &len, "", 0, false) ==
		      BERTH_NAME_EMPTY,
	      "empty");
	CHECK(berth_name_component_check(&at, &len, "-a", 2, false) ==
		      BERTH_NAME_BAD_START,
	      "leading dash");
	CHECK(berth_name_component_check(&at, &len, "ab--", 4, false) ==
			      BERTH_NAME_BAD_END &&
		      at == 2 && len == 2,
	      "trailing dashes at %zu+%zu", at, len);
	CHECK(berth_name_component_check(&at, &len, "a.-b", 4, false) ==
			      BERTH_NAME_BAD_SEPARATOR &&
		      at == 1 && len == 2,
	      "separator at %zu+%zu", at, len);
	CHECK(berth_name_component_check(&at, &len, "ab$c", 4, false) ==
			      BERTH_NAME_BAD_CHAR &&
		      at == 2,
	      "character at %zu", at);
	CHECK(berth_name_component_check(&at, &len, "aB", 2, false) ==
			      BERTH_NAME_BAD_CHAR &&
		      at == 1,
	      "uppercase without folding");
	CHECK(berth_name_component_check(&at, &len, "aB", 2, true) ==
		      BERTH_NAME_OK,
	      "uppercase with folding");
}

static void
test_tag_grammar(void)
{
	static const char *const good[] = {"latest", "v1.2.3", "_x", "A-b_c.D",
					   "0",	     "a..b",   "x--"};
	static const char *const bad[] = {"",	 ".x",		"-x",
					  "a/b", "a b",		"a:b",
					  "a@b", "caf\xc3\xa9", "a+b"};
	char t[200];

	for (size_t i = 0; i < BERTH_N(good); i++)
		CHECK(berth_ref_tag_valid(good[i]), "'%s' refused", good[i]);
	for (size_t i = 0; i < BERTH_N(bad); i++)
		CHECK(!berth_ref_tag_valid(bad[i]), "'%s' accepted", bad[i]);
	CHECK(!berth_ref_tag_valid(NULL), "NULL accepted");
	memset(t, 'x', 128);
	t[128] = '\0';
	CHECK(berth_ref_tag_valid(t), "128 characters refused");
	t[128] = 'x';
	t[129] = '\0';
	CHECK(!berth_ref_tag_valid(t), "129 characters accepted");
	CHECK(berth_ref_tag_valid_len("v1:x", 2), "prefix of a longer string");
}

static void
test_docker_hub(void)
{
	static const char *const hub[] = {"docker.io", "index.docker.io",
					  "registry-1.docker.io", "Docker.IO",
					  "INDEX.docker.io"};
	static const char *const other[] = {"",
					    "docker.com",
					    "hub.docker.com",
					    "docker.io:443",
					    "mirror.docker.io",
					    "localhost:5000"};
	berth_ref *r = NULL;
	berth_error *err = NULL;

	for (size_t i = 0; i < BERTH_N(hub); i++)
		CHECK(berth_ref_is_docker_hub(hub[i]), "'%s' is Docker Hub",
		      hub[i]);
	for (size_t i = 0; i < BERTH_N(other); i++)
		CHECK(!berth_ref_is_docker_hub(other[i]),
		      "'%s' is not Docker Hub", other[i]);
	CHECK(!berth_ref_is_docker_hub(NULL), "NULL is not Docker Hub");

	/* References normalise every alias, in any case, as the config does. */
	CHECK(berth_ref_parse(&r, "Index.Docker.io/nginx", &err) == 0,
	      "parse: %s", err ? err->msg : "");
	if (r) {
		CHECK_STR(r->domain, "docker.io");
		CHECK_STR(r->path, "library/nginx");
	}
	berth_ref_freep(&r);
	berth_error_freep(&err);
}

/* Client requests, client references and the server: the same verdicts. */
static void
test_client_and_server_agree(void)
{
	berth_registry reg = {.host = "h", .name = "h"};
	berth_error *err = NULL;

	for (size_t i = 0; i < BERTH_N(bad_names); i++) {
		CHECK(reg_check_repo(&reg, bad_names[i], NULL) == BERTH_EREF,
		      "client request to '%s' accepted", bad_names[i]);
		CHECK(!berth_oci_name_valid(bad_names[i]),
		      "server accepted '%s'", bad_names[i]);
	}
	for (size_t i = 0; i < BERTH_N(good_names); i++) {
		CHECK(reg_check_repo(&reg, good_names[i], NULL) == 0,
		      "client request to '%s' refused", good_names[i]);
		CHECK(berth_oci_name_valid(good_names[i]),
		      "server refused '%s'", good_names[i]);
	}
	/* Once accepted by the client's requests, though the spec forbids. */
	CHECK(reg_check_repo(&reg, "-a", &err) == BERTH_EREF, "'-a' accepted");
	CHECK(err && strcmp(err->msg, "invalid repository name '-a' for "
				      "registry 'h'") == 0,
	      "message '%s'", err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(reg_check_repo(&reg, "a-", NULL) == BERTH_EREF, "'a-' accepted");
	CHECK(reg_check_reference("a+b", &err) == BERTH_EREF, "tag accepted");
	CHECK(err && strcmp(err->msg, "invalid tag 'a+b'") == 0, "message '%s'",
	      err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(!berth_oci_tag_valid("-x") && berth_oci_tag_valid("_x"),
	      "server tags");
}

int
main(void)
{
	test_name_grammar();
	test_component_faults();
	test_tag_grammar();
	test_docker_hub();
	test_client_and_server_agree();
	return test_done("test_names");
}
