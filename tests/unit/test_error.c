/*
 * The error rule: a failing function returns its own negative code whether
 * or not the caller asked for the error object (err == NULL), and the code
 * in the object, when asked for, is the same one.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/config.h"
#include "server/access/htpasswd.h"
#include "server/access/ratelimit.h"
#include "server/config.h"
#include "util/error.h"

static char tmp[] = "/tmp/berth-test-error.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void
test_helpers(void)
{
	berth_error *e = NULL, *moved = NULL;

	/* Without an error object the code given is the code returned. */
	CHECK(berth_error_wrap(NULL, BERTH_ETLS, "context") == BERTH_ETLS,
	      "wrap(NULL)");
	CHECK(berth_error_wrap(&e, BERTH_EDIGEST, "context") == BERTH_EDIGEST,
	      "wrap(&NULL)");
	CHECK(e == NULL, "wrap makes no error of its own");
	berth_error_hint(NULL, "ignored");
	berth_error_hint(&e, "ignored");
	CHECK(e == NULL, "hint makes no error of its own");

	berth_error_set(&e, BERTH_EAUTH, 0, "inner");
	CHECK(berth_error_wrap(&e, BERTH_EAUTH, "outer %d", 1) == BERTH_EAUTH,
	      "wrap returns the code");
	CHECK_STR(e->msg, "outer 1: inner");
	CHECK(berth_error_move(NULL, &e, BERTH_EAUTH) == BERTH_EAUTH,
	      "move to NULL");
	CHECK(e == NULL, "move to NULL frees");
	berth_error_set(&e, BERTH_ENET, 0, "x");
	CHECK(berth_error_move(&moved, &e, BERTH_ENET) == BERTH_ENET, "move");
	CHECK(e == NULL && moved && moved->code == BERTH_ENET, "moved");
	berth_error_free(moved);
}

/* A configuration file with a wrong value: BERTH_EUSAGE, asked or not. */
static void
test_config_load(void)
{
	berth_config c = BERTH_CONFIG_INIT;
	berth_config_paths p = BERTH_CONFIG_PATHS_INIT;
	berth_error *e = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/berth.json", tmp);
	write_file("berth.json", "{\"insecure-registries\": [\"http://x\"]}");
	p.config = path;
	p.daemon_json = "/nonexistent/daemon.json";
	p.docker_config = tmp;
	p.certs_d = tmp;
	CHECK(berth_config_load_paths(&c, &p, NULL) == BERTH_EUSAGE,
	      "config load, err == NULL");
	berth_config_release(&c);
	CHECK(berth_config_load_paths(&c, &p, &e) == BERTH_EUSAGE,
	      "config load, err given");
	CHECK(e && e->code == BERTH_EUSAGE && e->hint, "the error and hint");
	berth_error_free(e);
	berth_config_release(&c);

	write_file("berth.json", "{\"mirrors\": {\"ghcr.io\": [\"ftp://m\"]}}");
	CHECK(berth_config_load_paths(&c, &p, NULL) == BERTH_EUSAGE,
	      "bad mirror, err == NULL");
	berth_config_release(&c);
}

static void
on_step(void *ud, const char *step, berth_check_verdict v, const char *detail)
{
	if (v == BERTH_CHECK_FAIL)
		(*(int *)ud)++;
}

/* The probe returns the first failure's code and can describe it. */
static void
test_config_check(void)
{
	berth_config c = BERTH_CONFIG_INIT;
	berth_error *e = NULL;
	int steps = 0;

	CHECK(berth_config_check(&c, NULL, "host:99999", on_step, &steps,
				 NULL) == BERTH_EUSAGE,
	      "check, err == NULL");
	CHECK(berth_config_check(&c, NULL, "host:99999", on_step, &steps, &e) ==
		      BERTH_EUSAGE,
	      "check, err given");
	CHECK(e && e->code == BERTH_EUSAGE && strstr(e->msg, "host:99999"),
	      "the first failure: %s", e ? e->msg : "(none)");
	CHECK(steps == 2, "one failed step each time, got %d", steps);
	berth_error_free(e);
}

/* The server's own loaders follow the same rule. */
static void
test_server(void)
{
	berth_serve_config cfg;
	berth_htpasswd *h = NULL;
	berth_limit l;
	char path[512];

	CHECK(berth_limit_parse(&l, "lots", NULL) == BERTH_EUSAGE,
	      "limit, err == NULL");
	CHECK(berth_htpasswd_load(&h, "/nonexistent/htpasswd", NULL) ==
		      BERTH_ENOTFOUND,
	      "htpasswd missing, err == NULL");
	snprintf(path, sizeof(path), "%s/htpasswd", tmp);
	write_file("htpasswd", "alice:{SHA}abc\n");
	CHECK(berth_htpasswd_load(&h, path, NULL) == BERTH_EUNSUPPORTED,
	      "htpasswd not bcrypt, err == NULL");
	berth_serve_config_init(&cfg);
	CHECK(berth_serve_config_set(&cfg, "no-such-setting", "1", NULL) ==
		      BERTH_EUSAGE,
	      "unknown setting, err == NULL");
	snprintf(path, sizeof(path), "%s/serve.json", tmp);
	write_file("serve.json", "{\"no-such-setting\": 7}");
	CHECK(berth_serve_config_load(&cfg, path, NULL) == BERTH_EUSAGE,
	      "config file, err == NULL");
	berth_serve_config_release(&cfg);
}

int
main(void)
{
	char cmd[600];

	if (mkdtemp(tmp) == NULL)
		return 1;
	test_helpers();
	test_config_load();
	test_config_check();
	test_server();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 1;
	return test_done("error");
}
