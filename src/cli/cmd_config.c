/*
 * berth config: the effective registry configuration, each value with the
 * file (or flag, or environment variable) it came from; --check HOST
 * probes a registry step by step.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

enum { OPT_CHECK = 0x100, OPT_JSON };

static const cli_option config_opts[] = {
	{OPT_CHECK, "check", "HOST", 0,
	 "probe a registry: DNS, TCP, TLS (issuer, trust), the /v2/ "
	 "challenge, stored credentials, mirrors"},
	{OPT_JSON, "json", NULL, 0, "print JSON"},
	{0},
};

const cli_usage cli_config_usage = {
	"[--json] [--check HOST]",
	"Show the effective registry configuration: each value and where it "
	"came from (daemon.json, berth's config file, a flag, the environment "
	"or the default). Credentials are never shown.",
	config_opts,
	NULL,
};

static void
on_step(void *ud, const char *step, berth_check_verdict v, const char *detail)
{
	static const char *const words[] = {"ok", "warn", "FAIL", "skip"};
	json_t *steps = ud;

	if (steps) {
		json_array_append_new(steps,
				      json_pack("{s:s, s:s, s:s}", "step", step,
						"verdict", words[v], "detail",
						detail));
		return;
	}
	printf("%-5s %-12s %s\n", words[v], step, detail);
	fflush(stdout);
}

static int
check(cli_ctx *ctx, const char *arg, bool json, berth_error **err)
{
	_cleanup_free_ char *api = NULL, *name = NULL;
	json_auto_t *steps = json ? json_array() : NULL;
	int r;

	r = cli_registry_host(arg, &api, &name, err);
	if (r < 0)
		return r;
	if (!json)
		printf("checking registry '%s'\n", name);
	/* Each failed step is already printed: the summary below suffices. */
	r = berth_config_check(&ctx->config, &ctx->registry, api, on_step,
			       steps, NULL);
	if (json) {
		json_auto_t *o = json_pack("{s:s, s:O, s:b}", "registry", name,
					   "steps", steps, "ok", r == 0);
		_cleanup_free_ char *s = json_dumps(o, JSON_INDENT(2));

		printf("%s\n", s);
	} else {
		printf("verdict: %s\n", r == 0 ? "ok" : "problems found");
	}
	if (r < 0)
		return berth_error_set(err, r, 0,
				       "registry '%s' failed the check", name);
	return 0;
}

int
cmd_config(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	const char *host = NULL;
	bool json = false;
	int c, r;

	if (cli_help_usage(argc, argv, "config", &cli_config_usage))
		return 0;
	while ((c = cli_getopt(config_opts, "config", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_CHECK:
			host = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return c;
		}
	}
	if (optind != argc)
		return cli_usage_error(err, "config",
				       "unexpected argument '%s'",
				       argv[optind]);
	if ((r = cli_config(ctx, err)) < 0)
		return r;
	if (host)
		return check(ctx, host, json, err);
	if (json) {
		json_auto_t *a = json_array();
		_cleanup_free_ char *s = NULL;

		for (size_t i = 0; i < ctx->config.n_settings; i++) {
			const berth_config_setting *st =
				&ctx->config.settings[i];

			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s}", "key", st->key,
					     "value", st->value, "origin",
					     st->origin));
		}
		s = json_dumps(a, JSON_INDENT(2));
		printf("%s\n", s);
		return 0;
	}
	for (size_t i = 0; i < ctx->config.n_settings; i++) {
		const berth_config_setting *st = &ctx->config.settings[i];

		printf("%-34s %-40s (%s)\n", st->key, st->value, st->origin);
	}
	return 0;
}
