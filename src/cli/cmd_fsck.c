/* berth fsck: re-verify the store after a crash or power loss. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "util/error.h"

const cli_usage cli_fsck_usage = {
	"",
	"Re-hash every blob of the local store, remove those whose content "
	"does not match their digest and leftover partial downloads, and "
	"check that every image has all its blobs. Exits 0 when nothing was "
	"wrong, 16 when problems were found (each is printed).",
	NULL,
	NULL,
};

static void
print_problem(void *ud, const char *problem)
{
	printf("%s\n", problem);
}

int
cmd_fsck(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	berth_store *store;
	size_t checked = 0, problems = 0;
	int r;

	if (cli_help_usage(argc, argv, "fsck", &cli_fsck_usage))
		return 0;
	if ((r = cli_getopt_none("fsck", argc, argv, err)) < 0)
		return r;
	if (optind != argc)
		return cli_usage_error(err, "fsck", "unexpected argument '%s'",
				       argv[optind]);
	r = cli_store(ctx, &store, err);
	if (r == 0)
		r = berth_store_fsck(&checked, &problems, store, print_problem,
				     NULL, err);
	if (r < 0)
		return r;
	printf("checked %zu blobs: %zu problems\n", checked, problems);
	if (problems) {
		berth_error_set(err, BERTH_ECORRUPT, 0,
				"the store at '%s' had %zu problems",
				berth_store_root(store), problems);
		berth_error_hint(err, "pull the images listed above again");
		return BERTH_ECORRUPT;
	}
	return 0;
}
