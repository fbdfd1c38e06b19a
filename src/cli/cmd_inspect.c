/* berth inspect: a local image (docker inspect) or a remote one (skopeo). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

static const char inspect_help[] =
	"Usage: berth inspect [--remote [--platform P]] NAME[:TAG|@DIGEST]\n\n"
	"Show an image's details as JSON.\n\n"
	"Options:\n"
	"  --remote       ask the registry instead of the local store (nothing\n"
	"                 is downloaded but the manifest and the config)\n"
	"  --platform P   with --remote, the platform of a multi-platform image\n"
	"  -h, --help     this help\n";

int
cmd_inspect(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	static const struct option opts[] = {
		{"remote", no_argument, NULL, 'R'},
		{"platform", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *json = NULL, *name = NULL;
	berth_platform platform, *pp = NULL;
	berth_store *store;
	bool remote = false;
	int c, r;

	if (cli_help(argc, argv, inspect_help))
		return 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'R':
			remote = true;
			break;
		case 'p':
			r = berth_platform_parse(&platform, optarg, err);
			if (r < 0)
				return r;
			pp = &platform;
			break;
		default:
			return cli_option_error(err, "inspect", c, argv);
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
