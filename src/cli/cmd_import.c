/* berth import TARBALL REF: a root file system as a one-layer image. */
#include <getopt.h>
#include <stdio.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

enum { OPT_PLATFORM = 0x100 };

static const cli_option import_opts[] = {
	{OPT_PLATFORM, "platform", "P", 0,
	 "the image's platform (default: this machine's)"},
	{0},
};

const cli_usage cli_import_usage = {
	"[--platform P] TARBALL NAME[:TAG]",
	"Make a one-layer image from a tar archive of a root file system "
	"(plain, gzip or zstd) and store it locally as NAME; prints the "
	"manifest digest.",
	import_opts,
	"file",
};

int
cmd_import(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *name = NULL;
	berth_platform platform, *pp = NULL;
	berth_descriptor desc = {0};
	berth_store *store;
	int c, r;

	if (cli_help_usage(argc, argv, "import", &cli_import_usage))
		return 0;
	while ((c = cli_getopt(import_opts, "import", argc, argv, err)) != -1) {
		if (c != OPT_PLATFORM)
			return c;
		r = berth_platform_parse(&platform, optarg, err);
		if (r < 0)
			return r;
		pp = &platform;
	}
	if (optind != argc - 2)
		return cli_usage_error(err, "import",
				       "expected TARBALL and NAME");
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
		r = berth_image_import(&desc, store, argv[optind], name, pp,
				       err);
	if (r < 0)
		return r;
	printf("%s\n", desc.digest.str);
	berth_descriptor_release(&desc);
	return 0;
}
