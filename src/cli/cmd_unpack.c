/* berth unpack: a local image into a directory (umoci unpack's job). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/ref.h"
#include "berth/unpack.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"

enum { OPT_PLATFORM = 0x100, OPT_FORCE, OPT_ROOTLESS, OPT_MAX_SIZE, OPT_JSON };

static const cli_option unpack_opts[] = {
	{OPT_PLATFORM, "platform", "OS/ARCH[/VARIANT]", 0,
	 "platform to unpack from a multi-platform image (default: this "
	 "machine's)"},
	{OPT_FORCE, "force", NULL, 0,
	 "replace what DIR holds (by default a non-empty DIR is refused)"},
	{OPT_ROOTLESS, "rootless", NULL, 0,
	 "files owned by the caller instead of the image's owners; device "
	 "nodes skipped with a warning"},
	{OPT_MAX_SIZE, "max-unpacked-size", "SIZE", 0,
	 "stop with an error when the image unpacks to more than SIZE bytes "
	 "(K, M, G, T: units of 1024; default 64G)"},
	{OPT_JSON, "json", NULL, 0,
	 "print the result as one JSON object: image, dir, layers, entries, "
	 "bytes"},
	{0},
};

const cli_usage cli_unpack_usage = {
	"[OPTIONS] NAME[:TAG|@DIGEST] DIR",
	"Unpack a local image's layers, in order, into DIR, as umoci unpack "
	"and docker do: whiteouts, opaque directories, hard and symbolic "
	"links, owners, modes, extended attributes, device nodes and times.\n\n"
	"Each layer's content is checked against the image config's diff "
	"IDs. The layers are unpacked into a staging directory beside DIR, "
	"which replaces DIR only when every layer verified: on any failure DIR "
	"is as it was. A layer is never trusted: nothing is written outside "
	"DIR.",
	unpack_opts,
	NULL,
};

static void
on_event(void *ud, const berth_unpack_event *ev)
{
	progress *p = ud;

	switch (ev->kind) {
	case BERTH_UNPACK_RESOLVED:
		progress_line(p, "Image: %s (%zu layers)", ev->image,
			      ev->n_layers);
		break;
	case BERTH_UNPACK_LAYER_START:
		progress_update(p, ev->desc->digest.str, "Unpacking", 0,
				ev->total, false);
		break;
	case BERTH_UNPACK_LAYER_PROGRESS:
		progress_update(p, ev->desc->digest.str, "Unpacking", ev->done,
				ev->total, false);
		break;
	case BERTH_UNPACK_LAYER_DONE:
		progress_update(p, ev->desc->digest.str, "Unpack complete", 0,
				0, true);
		break;
	}
}

int
cmd_unpack(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_(progress_freep) progress *prog = NULL;
	_cleanup_free_ char *name = NULL;
	berth_unpack_opts uo = BERTH_UNPACK_OPTS_INIT;
	berth_unpack_result res = BERTH_UNPACK_RESULT_INIT;
	berth_platform platform;
	berth_store *store;
	bool json = false;
	int c, r;

	if (cli_help_usage(argc, argv, "unpack", &cli_unpack_usage))
		return 0;
	while ((c = cli_getopt(unpack_opts, "unpack", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			r = berth_platform_parse(&platform, optarg, err);
			if (r < 0)
				return r;
			uo.platform = &platform;
			break;
		case OPT_FORCE:
			uo.force = true;
			break;
		case OPT_ROOTLESS:
			uo.rootless = true;
			break;
		case OPT_MAX_SIZE:
			r = cli_parse_size(&uo.max_size, optarg, "unpack",
					   "max-unpacked-size", err);
			if (r < 0)
				return r;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return c;
		}
	}
	if (optind != argc - 2)
		return cli_usage_error(err, "unpack",
				       "expected an image reference and a "
				       "directory");
	r = berth_ref_parse(&ref, argv[optind], err);
	if (r < 0)
		return r;
	name = berth_ref_string(ref);
	r = cli_store(ctx, &store, err);
	if (r < 0)
		return r;
	prog = progress_new(stdout, json);
	uo.progress = on_event;
	uo.ud = prog;
	r = berth_unpack(&res, store, name, argv[optind + 1], &uo, err);
	if (r < 0)
		return r;
	if (json) {
		_cleanup_free_ char *line =
			berth_unpack_result_json(&res, argv[optind + 1]);

		printf("%s\n", line);
		return 0;
	}
	progress_line(prog, "Unpacked %s into %s: %zu layers, %llu entries",
		      name, argv[optind + 1], res.n_layers,
		      (unsigned long long)res.entries);
	return 0;
}
