/*
 * Options structs of the public API: the _INIT macros give a version the
 * library accepts and the documented defaults; a struct never initialised
 * (version 0) or from newer headers is refused with BERTH_EUSAGE before
 * anything is read past the version.
 */
#include <string.h>

#include "berth/config.h"
#include "berth/pull.h"
#include "berth/push.h"
#include "berth/registry.h"
#include "registry/registry.h"
#include "test.h"

static void
test_init_defaults(void)
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

static void
test_registry_version(void)
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
	CHECK(berth_registry_new(&r, "localhost:5000", &o, &err) ==
			      BERTH_EUSAGE &&
		      r == NULL,
	      "version 0 refused");
	CHECK(err && err->code == BERTH_EUSAGE &&
		      strstr(err->msg, "berth_registry_opts version 0") &&
		      err->hint && strstr(err->hint, "_INIT"),
	      "the error names the struct and the macro: %s",
	      err ? err->msg : "(none)");
	berth_error_free(err);
	err = NULL;
	o.version = BERTH_REGISTRY_OPTS_VERSION + 1;
	CHECK(berth_registry_new(&r, "localhost:5000", &o, &err) ==
		      BERTH_EUSAGE,
	      "a newer version refused");
	berth_error_free(err);
	err = NULL;
	CHECK(berth_config_check(NULL, &o, "localhost:5000", NULL, NULL, NULL) ==
		      BERTH_EUSAGE,
	      "config check refuses it before any step");
}

static void
test_job_versions(void)
{
	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	berth_pull_opts po = {0};
	berth_push_opts so = {0};
	berth_pull_result res = {0};
	berth_descriptor desc = {0};
	berth_error *err = NULL;

	/* The version is checked first: no store or reference is touched. */
	CHECK(berth_pull(&res, NULL, NULL, &po, &err) == BERTH_EUSAGE && err &&
		      strstr(err->msg, "berth_pull_opts"),
	      "pull refuses an uninitialised struct");
	berth_error_free(err);
	err = NULL;
	po = (berth_pull_opts)BERTH_PULL_OPTS_INIT;
	ro.version = 0;
	po.registry = &ro;
	CHECK(berth_pull(&res, NULL, NULL, &po, &err) == BERTH_EUSAGE && err &&
		      strstr(err->msg, "berth_registry_opts"),
	      "pull refuses an uninitialised registry struct");
	berth_error_free(err);
	err = NULL;
	CHECK(berth_push(&desc, NULL, NULL, &so, &err) == BERTH_EUSAGE && err &&
		      strstr(err->msg, "berth_push_opts"),
	      "push refuses an uninitialised struct");
	berth_error_free(err);
}

static void
test_config_paths_version(void)
{
	berth_config_paths p = {0};
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *err = NULL;

	CHECK(berth_config_load_paths(&c, &p, &err) == BERTH_EUSAGE && err &&
		      strstr(err->msg, "berth_config_paths"),
	      "load refuses an uninitialised paths struct");
	berth_error_free(err);
}

int
main(void)
{
	test_init_defaults();
	test_registry_version();
	test_job_versions();
	test_config_paths_version();
	return test_done("test_opts");
}
