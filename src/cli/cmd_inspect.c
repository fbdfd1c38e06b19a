/* berth inspect: a local image (docker inspect) or a remote one (skopeo). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

enum { OPT_REMOTE = 0x100, OPT_PLATFORM };

static const cli_option inspect_opts[] = {
	{OPT_REMOTE, "remote", NULL, 0,
	 "ask the registry instead of the local store (nothing is downloaded "
	 "but the manifest and the config)"},
	{OPT_PLATFORM, "platform", "P", 0,
	 "with --remote, the platform of a multi-platform image"},
	{0},
};

const cli_usage cli_inspect_usage = {
	"[--remote [--platform P]] NAME[:TAG|@DIGEST]",
	"Show an image's details as JSON.",
	inspect_opts,
	NULL,
};

int
cmd_inspect(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *json = NULL, *name = NULL;
	berth_platform platform, *pp = NULL;
	berth_store *store;
	bool remote = false;
	int c, r;

	if (cli_help_usage(argc, argv, "inspect", &cli_inspect_usage))
		return 0;
	while ((c = cli_getopt(inspect_opts, "inspect", argc, argv, err)) !=
	       -1) {
		switch (c) {
		case OPT_REMOTE:
			remote = true;
			break;
		case OPT_PLATFORM:
			r = berth_platform_parse(&platform, optarg, err);
			if (r < 0)
				return r;
			pp = &platform;
			break;
		default:
			return c;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(err, "inspect",
				       "expected exactly one image reference");
	r = berth_ref_parse(&ref, argv[optind], err);
	if (r < 0)
		return r;
	if (remote) {
		r = berth_remote_inspect(&json, ref, pp, &ctx->registry, err);
	} else {
		name = berth_ref_string(ref);
		r = cli_store(ctx, &store, err);
		if (r == 0)
			r = berth_image_inspect(&json, store, name, err);
	}
	if (r < 0)
		return r;
	printf("%s\n", json);
	return 0;
}
