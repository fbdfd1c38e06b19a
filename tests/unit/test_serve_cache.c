/* The pull-through cache's "upstreams" setting and its routing rule. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/ops/cache.h"
#include "test.h"
#include "util/error.h"

/* Parses json; the error message (caller frees) or NULL on success. */
static char *
parse_err(const char *json)
{
	srv_upstreams *u = NULL;
	berth_error *err = NULL;
	char *msg = NULL;

	if (srv_upstreams_parse(&u, json, &err) < 0) {
		msg = strdup(err->msg);
		CHECK(err->code == BERTH_EUSAGE, "'%s': a usage error", json);
		CHECK(err->hint && strstr(err->hint, "docs/server.md"),
		      "'%s': the hint names the docs", json);
		berth_error_free(err);
		CHECK(u == NULL, "nothing on failure");
	}
	srv_upstreams_put(u);
	return msg;
}

#define CHECK_BAD(json, part)                                                  \
	do {                                                                   \
		char *m_ = parse_err(json);                                    \
		CHECK(m_ &&strstr(m_, part), "%s: '%s' in '%s'", json, part,   \
		      m_ ? m_ : "(accepted)");                                 \
		free(m_);                                                      \
	} while (0)

TEST(upstreams_bad_entries)
{
	CHECK_BAD("{}", "must be a JSON array");
	CHECK_BAD("[1]", "upstreams[0]: each upstream is a JSON object");
	CHECK_BAD("[{\"mirror\":true}]", "upstreams[0]: 'url' is missing");
	CHECK_BAD("[{\"url\":\"ftp://x\",\"mirror\":true}]",
		  "is not http(s)://HOST[:PORT]");
	CHECK_BAD("[{\"url\":\"https://x/v2/\",\"mirror\":true}]",
		  "is not http(s)://HOST[:PORT]");
	CHECK_BAD("[{\"url\":\"https://x\"}]",
		  "give either \"mirror\": true or a \"prefix\"");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,\"prefix\":\"a\"}]",
		  "give either");
	CHECK_BAD("[{\"url\":\"https://x\",\"prefix\":\"Hub\"}]",
		  "'prefix' 'Hub' is not one lowercase name component");
	CHECK_BAD("[{\"url\":\"https://x\",\"prefix\":\"a/b\"}]",
		  "is not one lowercase name component");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,\"tag-ttl\":-1}]",
		  "'tag-ttl' must be an integer from 0 to");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,\"ttl\":5}]",
		  "upstreams[0]: unknown key 'ttl'");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,\"insecure\":1}]",
		  "'insecure' must be true or false");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,"
		  "\"username\":\"u\"}]",
		  "'username' and 'password' go together");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,\"username\":\"u\","
		  "\"password\":\"p\",\"token\":\"t\"}]",
		  "not both");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true},"
		  "{\"url\":\"https://y\",\"mirror\":true}]",
		  "upstreams[1]: the mirror's place is taken by upstreams[0]");
	CHECK_BAD("[{\"url\":\"https://x\",\"prefix\":\"hub\"},"
		  "{\"url\":\"https://y\",\"prefix\":\"hub\"}]",
		  "upstreams[1]: its prefix is taken by upstreams[0]");
	CHECK_BAD("[{\"url\":\"https://x\",\"mirror\":true,"
		  "\"ca-file\":\"/nonexistent/ca.pem\"}]",
		  "upstreams[0]");
}

static void
check_route(const srv_upstreams *u, const char *repo, const char *want_url,
	    const char *want_repo)
{
	char *up_repo = NULL;
	srv_upstream *up = srv_upstreams_route(u, repo, &up_repo);

	if (want_url == NULL) {
		CHECK(up == NULL && up_repo == NULL, "'%s' is local", repo);
	} else {
		CHECK(up && strcmp(up->url, want_url) == 0,
		      "'%s' goes to %s (got %s)", repo, want_url,
		      up ? up->url : "none");
		CHECK(up_repo && strcmp(up_repo, want_repo) == 0,
		      "'%s' is '%s' there (got '%s')", repo, want_repo,
		      up_repo ? up_repo : "");
	}
	free(up_repo);
}

TEST(upstreams_route)
{
	srv_upstreams *u = NULL;
	berth_error *err = NULL;

	CHECK(srv_upstreams_parse(&u, NULL, &err) == 0 && u && u->n == 0,
	      "no upstreams");
	check_route(u, "library/nginx", NULL, NULL);
	srv_upstreams_put(u);

	CHECK(srv_upstreams_parse(
		      &u,
		      "[{\"url\":\"https://docker.io/\",\"prefix\":\"hub\","
		      "\"tag-ttl\":60},"
		      "{\"url\":\"https://quay.io\",\"prefix\":\"quay\","
		      "\"username\":\"u\",\"password\":\"p\"}]",
		      &err) == 0,
	      "two proxy projects: %s", err ? err->msg : "");
	CHECK(u && u->n == 2 && u->mirror == NULL, "no mirror");
	CHECK(u && u->v[0].tag_ttl == 60 &&
		      u->v[1].tag_ttl == SRV_UPSTREAM_TTL_DEFAULT,
	      "tag TTLs");
	check_route(u, "hub/library/nginx", "https://registry-1.docker.io",
		    "library/nginx");
	/* Docker Hub's one-word names are official images. */
	check_route(u, "hub/nginx", "https://registry-1.docker.io",
		    "library/nginx");
	check_route(u, "quay/coreos/etcd", "https://quay.io", "coreos/etcd");
	check_route(u, "quay/etcd", "https://quay.io", "etcd");
	check_route(u, "hub", NULL, NULL);
	check_route(u, "hubx/nginx", NULL, NULL);
	check_route(u, "team/app", NULL, NULL);
	srv_upstreams_put(u);

	CHECK(srv_upstreams_parse(&u,
				  "[{\"url\":\"http://127.0.0.1:5000\","
				  "\"mirror\":true},"
				  "{\"url\":\"https://ghcr.io\",\"prefix\":"
				  "\"ghcr\"}]",
				  &err) == 0,
	      "a mirror and a prefix: %s", err ? err->msg : "");
	CHECK(u && u->mirror == &u->v[0], "the mirror");
	check_route(u, "library/nginx", "http://127.0.0.1:5000",
		    "library/nginx");
	check_route(u, "nginx", "http://127.0.0.1:5000", "nginx");
	check_route(u, "ghcr/owner/tool", "https://ghcr.io", "owner/tool");
	srv_upstreams_put(u);
	berth_error_free(err);
}

TEST(upstreams_config_file)
{
	char path[] = "/tmp/berth-cache-cfg-XXXXXX";
	int fd = mkstemp(path);
	berth_serve_config c;
	berth_error *err = NULL;
	FILE *f = fdopen(fd, "w");

	fputs("{\"upstreams\":[{\"url\":\"https://registry-1.docker.io\","
	      "\"mirror\":true}]}",
	      f);
	fclose(f);
	berth_serve_config_init(&c);
	CHECK(berth_serve_config_load(&c, path, &err) == 0,
	      "an array for upstreams: %s", err ? err->msg : "");
	CHECK(c.upstreams && strstr(c.upstreams, "\"mirror\":true"),
	      "kept as JSON");
	CHECK(berth_serve_config_set(&c, "upstreams", "x", &err) ==
		      BERTH_EUSAGE,
	      "not a flag");
	berth_error_freep(&err);
	berth_serve_config_release(&c);
	unlink(path);
}

TEST_MAIN("test_serve_cache")
