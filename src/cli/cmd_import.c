/* berth import TARBALL REF: a root file system as a one-layer image. */
#include <getopt.h>
#include <stdio.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

static const char import_help[] =
	"Usage: berth import [--platform P] TARBALL NAME[:TAG]\n\n"
	"Make a one-layer image from a tar archive of a root file system (plain,\n"
	"gzip or zstd) and store it locally as NAME; prints the manifest digest.\n\n"
	"Options:\n"
	"  --platform P   the image's platform (default: this machine's)\n"
	"  -h, --help     this help\n";

int
cmd_import(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	static const struct option opts[] = {
		{"platform", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *name = NULL;
	berth_platform platform, *pp = NULL;
	berth_descriptor desc = {0};
	berth_store *store;
	int c, r;

	if (cli_help(argc, argv, import_help))
		return 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c != 'p')
			return cli_option_error(err, "import", c, argv);
		r = berth_platform_parse(&platform, optarg, err);
		if (r < 0)
			return r;
		pp = &platform;
	}
	if (optind != argc - 2)
		return cli_usage_error(err, "import", "expected TARBALL and NAME");
	r = berth_ref_parse(&ref, argv[optind + 1], err);
	if (r < 0)
		return r;
	if (ref->digest)
		return cli_usage_error(err, "import",
				       "NAME '%s' must not have a digest",
				       argv[optind + 1]);
	name = berth_ref_string(ref);
	r = cli_store(ctx, &store, err);
	if (r == 0)
		r = berth_image_import(&desc, store, argv[optind], name, pp, err);
	if (r < 0)
		return r;
	printf("%s\n", desc.digest.str);
	berth_descriptor_release(&desc);
	return 0;
}
