/* berth ls REPO: a repository's tags on its registry, as `crane ls`. */
#include <getopt.h>
#include <stdio.h>

#include "berth/ref.h"
#include "berth/registry.h"
#include "cli/cli.h"
#include "util/cleanup.h"

const cli_usage cli_ls_usage = {
	"REPOSITORY",
	"List the tags of REPOSITORY (e.g. registry.example.com/team/app) on "
	"its registry, one per line.",
	NULL,
	NULL,
};

int
cmd_ls(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	char **tags = NULL;
	size_t n = 0;
	int r;

	if (cli_help_usage(argc, argv, "ls", &cli_ls_usage))
		return 0;
	if ((r = cli_getopt_none("ls", argc, argv, err)) < 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_error(err, "ls", "expected one repository");
	r = berth_ref_parse_name(&ref, argv[optind], err);
	if (r == 0)
		r = berth_registry_new(&reg, berth_ref_api_host(ref),
				       &ctx->registry, err);
	if (r == 0)
		r = berth_registry_list_tags(&tags, &n, reg, ref->path, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		printf("%s\n", tags[i]);
	berth_strv_free(tags);
	return 0;
}
