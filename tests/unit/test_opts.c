/*
 * Versioned structs of the public API: the _INIT macros give a version the
 * library accepts and the documented defaults; a struct never initialised
 * (version 0) or from newer headers is refused with BERTH_EUSAGE, and a
 * hint naming its macro, before anything is read or written past the
 * version. Options are read that way, results filled that way.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "berth/config.h"
#include "berth/pull.h"
#include "berth/push.h"
#include "berth/registry.h"
#include "registry/registry.h"
#include "test.h"
#include "util/opts.h"

/* Paths where nothing exists: a load gives the defaults. */
#define NOWHERE_PATHS                                                          \
	{                                                                      \
		BERTH_CONFIG_PATHS_VERSION, "/nonexistent/berth.json",         \
			"/nonexistent/daemon.json", "/nonexistent",            \
			"/nonexistent"                                         \
	}

/* `rc` is BERTH_EUSAGE and *err names `what` with `version` and the
 * macro; the error is freed. */
static void
refused(int rc, berth_error **err, const char *what, unsigned version,
	const char *macro)
{
	char want[128];

	snprintf(want, sizeof(want), "%s version %u ", what, version);
	CHECK(rc == BERTH_EUSAGE, "%s version %u: got %d", what, version, rc);
	CHECK(*err && (*err)->code == BERTH_EUSAGE &&
		      strstr((*err)->msg, want) && (*err)->hint &&
		      strstr((*err)->hint, macro),
	      "the error names '%s' and the hint %s: %s / %s", want, macro,
	      *err ? (*err)->msg : "(none)",
	      *err && (*err)->hint ? (*err)->hint : "(none)");
	berth_error_free(*err);
	*err = NULL;
}

TEST(init_defaults)
{
	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	berth_push_opts so = BERTH_PUSH_OPTS_INIT;
	berth_config_paths cp = BERTH_CONFIG_PATHS_INIT;

	CHECK(ro.version == BERTH_REGISTRY_OPTS_VERSION, "registry version");
	CHECK(ro.plain_http == -1, "plain HTTP is automatic by default");
	CHECK(ro.user_agent == NULL && ro.config == NULL, "registry fields");
	CHECK(po.version == BERTH_PULL_OPTS_VERSION && po.registry == NULL,
	      "pull defaults");
	CHECK(so.version == BERTH_PUSH_OPTS_VERSION && so.registry == NULL,
	      "push defaults");
	CHECK(cp.version == BERTH_CONFIG_PATHS_VERSION && cp.config == NULL,
	      "config paths defaults");
}

TEST(result_init)
{
	berth_config c = BERTH_CONFIG_INIT;
	berth_certs bc = BERTH_CERTS_INIT;
	berth_credentials cr = BERTH_CREDENTIALS_INIT;
	berth_pull_result pr = BERTH_PULL_RESULT_INIT;
	berth_ratelimit rl = BERTH_RATELIMIT_INIT;
	berth_manifest_body mb = BERTH_MANIFEST_BODY_INIT;
	berth_blob_job job = BERTH_BLOB_JOB_INIT;
	berth_descriptor d = BERTH_DESCRIPTOR_INIT;

	CHECK(c.version == BERTH_CONFIG_VERSION && c.path == NULL &&
		      c.n_settings == 0,
	      "config");
	CHECK(bc.version == BERTH_CERTS_VERSION && bc.ca_files == NULL,
	      "certs");
	CHECK(cr.version == BERTH_CREDENTIALS_VERSION && cr.username == NULL,
	      "credentials");
	CHECK(pr.version == BERTH_PULL_RESULT_VERSION && pr.name == NULL &&
		      pr.image.media_type == NULL && !pr.downloaded,
	      "pull result");
	CHECK(rl.version == BERTH_RATELIMIT_VERSION && rl.limit == -1 &&
		      rl.window == -1 && rl.remaining == -1 &&
		      rl.remaining_window == -1 && rl.source == NULL,
	      "rate limit: -1 where absent");
	CHECK(mb.version == BERTH_MANIFEST_BODY_VERSION && mb.data == NULL &&
		      mb.digest.str[0] == '\0',
	      "manifest body");
	CHECK(job.version == BERTH_BLOB_JOB_VERSION && job.desc == NULL &&
		      job.err == NULL,
	      "blob job");
	for (size_t i = 0; i < 4; i++)
		CHECK(job.reserved[i] == NULL && d.reserved[i] == NULL &&
			      pr.image.reserved[i] == NULL,
		      "reserved slot %zu is NULL", i);
	CHECK(d.media_type == NULL && d.size == 0 && !d.has_platform &&
		      d.platform.os[0] == '\0',
	      "descriptor");
}

TEST(hint_names_macro)
{
	berth_error *err = NULL;

	CHECK(berth_opts_check(1, 1, "berth_pull_opts", &err) == 0 &&
		      err == NULL,
	      "a known version passes");
	refused(berth_opts_check(2, 1, "berth_pull_opts", &err), &err,
		"berth_pull_opts", 2, "BERTH_PULL_OPTS_INIT");
	refused(berth_opts_check(0, 1, "berth_manifest_body", &err), &err,
		"berth_manifest_body", 0, "BERTH_MANIFEST_BODY_INIT");
	CHECK(berth_opts_check(0, 1, "berth_certs", NULL) == BERTH_EUSAGE,
	      "the code without an error");
}

TEST(registry_version)
{
	berth_registry_opts o = BERTH_REGISTRY_OPTS_INIT;
	berth_registry *r = NULL;
	berth_error *err = NULL;

	CHECK(berth_registry_new(&r, "localhost:5000", &o, &err) == 0,
	      "INIT accepted");
	CHECK_STR(r ? r->base : NULL, "http://localhost:5000");
	berth_registry_free(r);
	r = NULL;
	o.version = 0;
	refused(berth_registry_new(&r, "localhost:5000", &o, &err), &err,
		"berth_registry_opts", 0, "BERTH_REGISTRY_OPTS_INIT");
	CHECK(r == NULL, "no client");
	o.version = BERTH_REGISTRY_OPTS_VERSION + 1;
	refused(berth_registry_new(&r, "localhost:5000", &o, &err), &err,
		"berth_registry_opts", BERTH_REGISTRY_OPTS_VERSION + 1,
		"BERTH_REGISTRY_OPTS_INIT");
	CHECK(berth_config_check(NULL, &o, "localhost:5000", NULL, NULL,
				 NULL) == BERTH_EUSAGE,
	      "config check refuses it before any step");
}

TEST(job_versions)
{
	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	berth_pull_opts po = {0};
	berth_push_opts so = {0};
	berth_pull_result res = BERTH_PULL_RESULT_INIT;
	berth_descriptor desc = BERTH_DESCRIPTOR_INIT;
	berth_error *err = NULL;

	/* The version is checked first: no store or reference is touched. */
	refused(berth_pull(&res, NULL, NULL, &po, &err), &err,
		"berth_pull_opts", 0, "BERTH_PULL_OPTS_INIT");
	po = (berth_pull_opts)BERTH_PULL_OPTS_INIT;
	ro.version = 0;
	po.registry = &ro;
	refused(berth_pull(&res, NULL, NULL, &po, &err), &err,
		"berth_registry_opts", 0, "BERTH_REGISTRY_OPTS_INIT");
	refused(berth_push(&desc, NULL, NULL, &so, &err), &err,
		"berth_push_opts", 0, "BERTH_PUSH_OPTS_INIT");
}

TEST(pull_result_version)
{
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	berth_pull_result res = {0};
	berth_error *err = NULL;

	refused(berth_pull(&res, NULL, NULL, &po, &err), &err,
		"berth_pull_result", 0, "BERTH_PULL_RESULT_INIT");
	res.version = BERTH_PULL_RESULT_VERSION + 1;
	refused(berth_pull(&res, NULL, NULL, NULL, &err), &err,
		"berth_pull_result", BERTH_PULL_RESULT_VERSION + 1,
		"BERTH_PULL_RESULT_INIT");
	CHECK(res.version == BERTH_PULL_RESULT_VERSION + 1 && res.name == NULL,
	      "a refused result is left as it was");
}

TEST(config_paths_version)
{
	berth_config_paths p = {0};
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;

	refused(berth_config_load_paths(&c, &p, &err), &err,
		"berth_config_paths", 0, "BERTH_CONFIG_PATHS_INIT");
}

TEST(config_version)
{
	berth_config_paths p = NOWHERE_PATHS;
	berth_config c = {0};
	berth_error *err = NULL;

	refused(berth_config_load_paths(&c, &p, &err), &err, "berth_config", 0,
		"BERTH_CONFIG_INIT");
	refused(berth_config_load(&c, &err), &err, "berth_config", 0,
		"BERTH_CONFIG_INIT");
	CHECK(c.settings == NULL && c.daemon_json == NULL, "nothing filled in");
	c.version = BERTH_CONFIG_VERSION + 1;
	refused(berth_config_load_paths(&c, &p, &err), &err, "berth_config",
		BERTH_CONFIG_VERSION + 1, "BERTH_CONFIG_INIT");
}

/*
 * A program built against version 1 has a berth_config without
 * min_speed: loading and releasing it stay inside its size (ASan sees an
 * overflow of this exactly sized allocation).
 */
TEST(config_version_1)
{
	berth_config_paths p = NOWHERE_PATHS;
	berth_config *c = calloc(1, offsetof(berth_config, min_speed));
	berth_error *err = NULL;

	c->version = 1;
	CHECK(berth_config_load_paths(c, &p, &err) == 0, "load: %s",
	      err ? err->msg : "");
	CHECK(c->version == 1 && c->n_settings > 0, "filled, version kept");
	berth_config_release(c);
	CHECK(c->version == 1 && c->settings == NULL, "released");
	free(c);
}

/* A released result keeps its version and can be filled again. */
TEST(config_reload)
{
	berth_config_paths p = NOWHERE_PATHS;
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;

	CHECK(berth_config_load_paths(&c, &p, &err) == 0, "load: %s",
	      err ? err->msg : "");
	CHECK(c.version == BERTH_CONFIG_VERSION && c.n_settings > 0 &&
		      c.retries == BERTH_CONFIG_RETRIES_DEFAULT,
	      "filled with the defaults");
	berth_config_release(&c);
	CHECK(c.version == BERTH_CONFIG_VERSION && c.settings == NULL &&
		      c.n_settings == 0,
	      "release empties it and keeps the version");
	CHECK(berth_config_load_paths(&c, &p, &err) == 0, "load again: %s",
	      err ? err->msg : "");
	berth_config_release(&c);
}

TEST(certs_version)
{
	berth_certs bc = {0};
	berth_error *err = NULL;

	refused(berth_certs_lookup(&bc, "/nonexistent", "reg:5000", &err), &err,
		"berth_certs", 0, "BERTH_CERTS_INIT");
	CHECK(bc.ca_files == NULL, "nothing filled in");
	bc = (berth_certs)BERTH_CERTS_INIT;
	CHECK(berth_certs_lookup(&bc, "/nonexistent", "reg:5000", &err) == 0 &&
		      bc.ca_files && bc.n_ca_files == 0,
	      "INIT accepted");
	berth_certs_release(&bc);
	CHECK(bc.version == BERTH_CERTS_VERSION && bc.ca_files == NULL,
	      "release keeps the version");
	CHECK(berth_certs_lookup(&bc, "/nonexistent", "reg:5000", &err) == 0,
	      "and it can be filled again");
	berth_certs_release(&bc);
}

TEST(credentials_version)
{
	berth_config c = BERTH_CONFIG_INIT;
	berth_credentials out = {0}, in = {0};
	berth_error *err = NULL;

	c.docker_config = (char *)"/nonexistent";
	refused(berth_config_get_credentials(&out, NULL, &c, "docker.io", &err),
		&err, "berth_credentials", 0, "BERTH_CREDENTIALS_INIT");
	refused(berth_config_credentials_fn(&c, "docker.io", &out, &err), &err,
		"berth_credentials", 0, "BERTH_CREDENTIALS_INIT");
	/* Credentials handed in are read only with a known version. */
	in.username = (char *)"alice";
	in.password = (char *)"secret";
	refused(berth_config_store_credentials(NULL, NULL, &c, "docker.io", &in,
					       &err),
		&err, "berth_credentials", 0, "BERTH_CREDENTIALS_INIT");
	out = (berth_credentials)BERTH_CREDENTIALS_INIT;
	CHECK(berth_config_get_credentials(&out, NULL, &c, "docker.io", &err) ==
			      0 &&
		      out.username == NULL,
	      "INIT accepted: none stored");
	berth_credentials_release(&out);
	CHECK(out.version == BERTH_CREDENTIALS_VERSION,
	      "release keeps the version");
}

/* The registry's results and jobs are checked before any request. */
TEST(registry_results_version)
{
	berth_registry *r = NULL;
	berth_manifest_body body = {0};
	berth_ratelimit rl = {0};
	berth_descriptor d = BERTH_DESCRIPTOR_INIT;
	berth_blob_job jobs[2] = {BERTH_BLOB_JOB_INIT, BERTH_BLOB_JOB_INIT};
	berth_error *err = NULL;

	/* Port 9 (discard): a request that got out would fail with ENET. */
	CHECK(berth_registry_new(&r, "127.0.0.1:9", NULL, &err) == 0, "client");
	refused(berth_registry_get_manifest(&body, r, "lib/x", "latest", &err),
		&err, "berth_manifest_body", 0, "BERTH_MANIFEST_BODY_INIT");
	CHECK(body.data == NULL && body.content_type == NULL,
	      "nothing filled in");
	refused(berth_registry_ratelimit(&rl, r, "lib/x", "latest", &err), &err,
		"berth_ratelimit", 0, "BERTH_RATELIMIT_INIT");
	CHECK(rl.limit == 0 && rl.source == NULL, "nothing filled in");
	berth_digest_of(&d.digest, BERTH_DIGEST_SHA256, "x", 1);
	d.size = 1;
	jobs[0].desc = jobs[1].desc = &d;
	jobs[1].version = BERTH_BLOB_JOB_VERSION + 1;
	jobs[0].result = 7;
	refused(berth_registry_fetch_blobs(r, "lib/x", jobs, 2, 1, NULL, NULL,
					   &err),
		&err, "berth_blob_job", BERTH_BLOB_JOB_VERSION + 1,
		"BERTH_BLOB_JOB_INIT");
	CHECK(jobs[0].result == 7 && jobs[0].err == NULL,
	      "no job started or reset");
	berth_registry_free(r);
}

TEST_MAIN("test_opts")
