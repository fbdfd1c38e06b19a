/* berth serve's settings table: every row's limits, defaults and the
 * behaviour of each type of setting. */
#include <limits.h>
#include <unistd.h>

#include "server/config.h"
#include "test.h"
#include "util/error.h"

static void
test_table(void)
{
	for (size_t i = 0; i < berth_serve_n_settings; i++) {
		const berth_serve_setting *s = &berth_serve_settings[i];

		CHECK(s->help && *s->help, "'%s' has help", s->name);
		CHECK(berth_serve_setting_find(s->name) == s,
		      "'%s' appears once", s->name);
		if (s->type == BERTH_SERVE_LONG)
			CHECK(s->min <= s->max, "'%s' limits", s->name);
		if (s->type == BERTH_SERVE_ENUM)
			CHECK(s->choices && *s->choices, "'%s' choices",
			      s->name);
		CHECK((s->arg == NULL) == (s->type == BERTH_SERVE_BOOL),
		      "'%s': a value name unless a boolean flag", s->name);
	}
}

static void
test_types(void)
{
	berth_serve_config c;
	berth_error *err = NULL;

	berth_serve_config_init(&c);
	CHECK(c.upload_ttl == 86400 && c.token_ttl == 300 &&
		      c.refresh_ttl == 30L * 86400,
	      "numeric defaults");
	CHECK_STR(c.log_level, "info");
	CHECK(c.auth == NULL && c.tls_cert == NULL, "no default");
	CHECK(berth_serve_config_set(&c, "token-ttl", "9", &err) ==
		      BERTH_EUSAGE,
	      "below the minimum");
	CHECK(err && strstr(err->msg, "10..86400"), "the limits in '%s'",
	      err ? err->msg : "");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "refresh-token-ttl", "3600", &err) ==
			      0 &&
		      c.refresh_ttl == 3600,
	      "refresh-token-ttl");
	CHECK(berth_serve_config_set(&c, "auth", "basic", &err) == BERTH_EUSAGE,
	      "enum");
	CHECK_STR(err ? err->msg : NULL,
		  "invalid value 'basic' for 'auth' (want none, htpasswd or "
		  "token)");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "auth", "token", &err) == 0, "token");
	CHECK_STR(c.auth, "token");
	CHECK(berth_serve_config_set(&c, "insecure-auth", "true", &err) == 0 &&
		      c.insecure_auth == 1,
	      "bool");
	CHECK(berth_serve_config_set(&c, "insecure-auth", "yes", &err) ==
		      BERTH_EUSAGE,
	      "bool value");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "realm", "", &err) == BERTH_EUSAGE,
	      "empty string");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "config", "x.json", &err) ==
		      BERTH_EUSAGE,
	      "--config is no key");
	berth_error_freep(&err);
	CHECK(berth_serve_config_set(&c, "pull-limit-users", "x", &err) ==
		      BERTH_EUSAGE,
	      "an object only");
	berth_error_freep(&err);
	berth_serve_config_release(&c);
}

static void
test_file_objects(void)
{
	char path[] = "/tmp/berth-unit-serve-config.XXXXXX";
	berth_serve_config c;
	berth_error *err = NULL;
	FILE *f;

	berth_serve_config_init(&c);
	f = fdopen(mkstemp(path), "w");
	fprintf(f, "{\"policy\":{\"a\":1},\"pull-limit-users\":{\"bob\":"
		   "\"unlimited\"},\"insecure-auth\":true}");
	fclose(f);
	CHECK(berth_serve_config_load(&c, path, &err) == 0, "load: %s",
	      err ? err->msg : "");
	CHECK_STR(c.policy_json, "{\"a\":1}");
	CHECK_STR(c.pull_limit_users, "{\"bob\":\"unlimited\"}");
	CHECK(c.policy == NULL && c.insecure_auth == 1, "policy inline");
	f = fopen(path, "w");
	fprintf(f, "{\"realm\":{\"a\":1}}");
	fclose(f);
	CHECK(berth_serve_config_load(&c, path, &err) == BERTH_EUSAGE,
	      "object for a string");
	berth_error_freep(&err);
	unlink(path);
	berth_serve_config_release(&c);
}

int
main(void)
{
	test_table();
	test_types();
	test_file_objects();
	return test_done("test_serve_config");
}
