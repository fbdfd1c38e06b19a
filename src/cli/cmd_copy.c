/* berth copy SRC DST: skopeo copy's interface on berth_copy. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/copy.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define PLATFORMS_MAX 64

enum { OPT_PLATFORM = 0x100, OPT_ALL, OPT_MAX_CONCURRENT };

static const cli_option copy_opts[] = {
	{OPT_ALL, "all", NULL, 0,
	 "copy the whole multi-platform image: the index and every image of "
	 "it, digests unchanged"},
	{OPT_PLATFORM, "platform", "OS/ARCH[/VARIANT]", 0,
	 "the image of a multi-platform image to copy (default: this "
	 "machine's); given more than once, or with --all, a new index of just "
	 "those platforms is written (its digest differs from the source's)"},
	{OPT_MAX_CONCURRENT, "max-concurrent", "N", 0,
	 "blobs copied at once (default: max-concurrent-uploads, 5)"},
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print only the digest written"},
	{0},
};

const cli_usage cli_copy_usage = {
	"[OPTIONS] SOURCE DESTINATION",
	"Copy an image between registries, OCI image layouts, archives and "
	"the local store. SOURCE and DESTINATION are "
	"docker://NAME[:TAG|@DIGEST] (a registry), oci:DIR[:TAG] (an OCI "
	"image layout), oci-archive:FILE[:TAG] (a tar of one), "
	"docker-archive:FILE[:NAME:TAG] (docker save's format: one platform, "
	"layers uncompressed, so digests change) or NAME[:TAG] (an image in "
	"berth's local store).\n\n"
	"Each blob streams from source to destination through a bounded "
	"buffer, its digest verified on the way; blobs the destination has are "
	"skipped (an interrupted copy resumes), blobs in another repository of "
	"the same registry are mounted. Manifests are written only once their "
	"blobs are there, so a failed copy tags nothing.",
	copy_opts,
	NULL,
};

static void
on_event(void *ud, const berth_copy_event *ev)
{
	progress *p = ud;
	const char *id = ev->desc->digest.str;

	switch (ev->kind) {
	case BERTH_COPY_BLOB_EXISTS:
		progress_update(p, id, "Already exists", 0, 0, true);
		break;
	case BERTH_COPY_BLOB_MOUNTED:
		progress_update(p, id, "Mounted", 0, 0, true);
		break;
	case BERTH_COPY_BLOB_STARTED:
		progress_update(p, id, "Copying", 0, ev->total, false);
		break;
	case BERTH_COPY_BLOB_PROGRESS:
		progress_update(p, id, "Copying", ev->done, ev->total, false);
		break;
	case BERTH_COPY_BLOB_COPIED:
		progress_update(p, id, "Copied", 0, 0, true);
		break;
	case BERTH_COPY_MANIFEST:
		progress_line(p, "Wrote manifest %s", id);
		break;
	}
}

int
cmd_copy(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_location_freep) berth_location *src = NULL;
	_cleanup_(berth_location_freep) berth_location *dst = NULL;
	_cleanup_(progress_freep) progress *prog = NULL;
	_cleanup_free_ berth_platform *platforms = NULL;
	berth_copy_opts co = BERTH_COPY_OPTS_INIT;
	berth_copy_result res = BERTH_COPY_RESULT_INIT;
	bool quiet = false;
	char *end;
	long n;
	int c, r;

	if (cli_help_usage(argc, argv, "copy", &cli_copy_usage))
		return 0;
	platforms = xcalloc(PLATFORMS_MAX, sizeof(*platforms));
	while ((c = cli_getopt(copy_opts, "copy", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_ALL:
			co.all = true;
			break;
		case OPT_PLATFORM:
			if (co.n_platforms == PLATFORMS_MAX)
				return cli_usage_error(
					err, "copy",
					"more than %d --platform options",
					PLATFORMS_MAX);
			r = berth_platform_parse(&platforms[co.n_platforms],
						 optarg, err);
			if (r < 0)
				return r;
			co.n_platforms++;
			break;
		case OPT_MAX_CONCURRENT:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 64)
				return cli_usage_error(
					err, "copy",
					"invalid --max-concurrent '%s': "
					"expected a number from 1 to 64",
					optarg);
			co.max_concurrent = (unsigned)n;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "copy",
				       "expected a source and a destination");
	if ((r = berth_location_parse(&src, argv[optind], err)) < 0 ||
	    (r = berth_location_parse(&dst, argv[optind + 1], err)) < 0)
		return r;
	co.platforms = platforms;
	co.registry = &ctx->registry;
	if ((src->kind == BERTH_LOCATION_STORE ||
	     dst->kind == BERTH_LOCATION_STORE) &&
	    (r = cli_store(ctx, &co.store, err)) < 0)
		return r;
	prog = progress_new(stdout, quiet);
	co.progress = on_event;
	co.ud = prog;
	r = berth_copy(&res, src, dst, &co, err);
	if (r < 0)
		return r;
	if (res.digest_changed)
		progress_line(prog,
			      "Note: a new index of the platforms asked for "
			      "was written; its digest differs from the "
			      "source's");
	progress_line(prog, "Copied %zu blobs, %zu already there, %zu mounted",
		      res.copied, res.existed, res.mounted);
	printf("%s\n", res.digest.str);
	return 0;
}
