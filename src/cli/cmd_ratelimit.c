/*
 * berth ratelimit [REF]: the pull quota a registry announces, read with a
 * HEAD request (which Docker Hub does not count as a pull).
 */
#include <getopt.h>
#include <stdio.h>

#include "berth/ref.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/error.h"

const cli_usage cli_ratelimit_usage = {
	"[REF]",
	"Show the pull quota of REF's registry (default: Docker Hub's "
	"ratelimitpreview/test), with a HEAD request that does not count as "
	"a pull.",
	NULL,
	NULL,
};

static void
print_pair(const char *what, long n, long w)
{
	if (n < 0)
		printf("%s: unknown\n", what);
	else if (w > 0)
		printf("%s: %ld per %ld s\n", what, n, w);
	else
		printf("%s: %ld\n", what, n);
}

int
cmd_ratelimit(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	berth_ratelimit rl = BERTH_RATELIMIT_INIT;
	int r;

	if (cli_help_usage(argc, argv, "ratelimit", &cli_ratelimit_usage))
		return 0;
	if ((r = cli_getopt_none("ratelimit", argc, argv, err)) < 0)
		return r;
	if (argc - optind > 1)
		return cli_usage_error(err, "ratelimit",
				       "expected at most one image reference");
	r = berth_ref_parse_name(&ref,
				 optind < argc ? argv[optind]
					       : "ratelimitpreview/test:latest",
				 err);
	if (r < 0)
		return r;
	r = berth_registry_new(&reg, berth_ref_api_host(ref), &ctx->registry,
			       err);
	if (r == 0)
		r = berth_registry_ratelimit(&rl, reg, ref->path,
					     ref->tag || ref->digest
						     ? berth_ref_reference(ref)
						     : "latest",
					     err);
	if (r < 0)
		return r;
	printf("registry: %s\n", berth_registry_name(reg));
	if (rl.limit < 0 && rl.remaining < 0) {
		printf("no rate limit announced\n");
	} else {
		print_pair("limit", rl.limit, rl.window);
		print_pair("remaining", rl.remaining, rl.remaining_window);
		if (rl.source)
			printf("source: %s\n", rl.source);
	}
	if (rl.status == 429)
		printf("status: rate limited now (429 Too Many Requests)\n");
	berth_ratelimit_release(&rl);
	return 0;
}
