/* berth sync SOURCE DESTINATION: skopeo sync's interface on berth_sync. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sync.h"
#include "cli/cli.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#define SYNC_FILE_MAX ((size_t)4 << 20)

enum {
	OPT_TAG_REGEX = 0x100,
	OPT_SEMVER,
	OPT_KEEP,
	OPT_DRY_RUN,
	OPT_MAX_CONCURRENT,
};

static const cli_option sync_opts[] = {
	{OPT_TAG_REGEX, "tag-regex", "REGEX", 0,
	 "only the tags this POSIX extended regular expression matches"},
	{OPT_SEMVER, "semver", "RANGE", 0,
	 "only tags that are semantic versions within RANGE, comparators "
	 "joined by spaces: '>=1.2 <2'"},
	{OPT_KEEP, "keep", "N", 0,
	 "only the N newest tags of each repository (by semantic version; "
	 "other tags after them, by name)"},
	{OPT_DRY_RUN, "dry-run", NULL, 0,
	 "say what would be copied, copy nothing"},
	{OPT_MAX_CONCURRENT, "max-concurrent", "N", 0,
	 "blobs copied at once (default: max-concurrent-uploads, 5)"},
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print only the summary"},
	{0},
};

const cli_usage cli_sync_usage = {
	"[OPTIONS] SOURCE docker://REGISTRY[/PREFIX]",
	"Mirror the tags of repositories into a registry, as skopeo sync does. "
	"SOURCE is docker://REGISTRY/REPOSITORY (every tag, or :TAG for one; "
	"it lands at PREFIX/<last component of REPOSITORY>) or a YAML or JSON "
	"file in skopeo sync's shape (registry -> images -> tags, "
	"images-by-tag-regex, tls-verify, cert-dir, credentials; each "
	"repository lands at PREFIX/<its last component>, as skopeo sync names "
	"it).\n\n"
	"Each tag is copied with every platform, digests unchanged. A tag the "
	"destination has under the same digest is left alone, so running it "
	"again sends only what changed; the last line counts both.",
	sync_opts,
	"file",
};

static void
on_event(void *ud, const berth_sync_event *ev)
{
	bool quiet = *(bool *)ud;

	if (quiet)
		return;
	switch (ev->kind) {
	case BERTH_SYNC_UNCHANGED:
		printf("Unchanged %s\n", ev->dst);
		break;
	case BERTH_SYNC_WOULD_COPY:
		printf("Would copy %s to %s\n", ev->src, ev->dst);
		break;
	case BERTH_SYNC_COPIED:
		printf("Copied %s to %s (%.1f MiB)\n", ev->src, ev->dst,
		       (double)ev->bytes / (1 << 20));
		break;
	}
	fflush(stdout);
}

static int
load_source(berth_sync_list **out, const char *src, berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (strncmp(src, "docker://", 9) == 0)
		return berth_sync_list_repo(out, src, err);
	r = berth_file_read(&text, &len, src, SYNC_FILE_MAX, err);
	if (r < 0)
		return r;
	return berth_sync_list_parse(out, text, len, src, err);
}

int
cmd_sync(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_sync_list_freep) berth_sync_list *list = NULL;
	berth_sync_opts so = BERTH_SYNC_OPTS_INIT;
	berth_sync_result res = BERTH_SYNC_RESULT_INIT;
	bool quiet = false;
	char *end;
	long n;
	int c, r;

	if (cli_help_usage(argc, argv, "sync", &cli_sync_usage))
		return 0;
	while ((c = cli_getopt(sync_opts, "sync", argc, argv, err)) != -1) {
		switch (c) {
		case OPT_TAG_REGEX:
			so.tag_regex = optarg;
			break;
		case OPT_SEMVER:
			so.semver = optarg;
			break;
		case OPT_KEEP:
		case OPT_MAX_CONCURRENT:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 ||
			    n > (c == OPT_KEEP ? 100000 : 64))
				return cli_usage_error(
					err, "sync",
					"invalid --%s '%s': expected a "
					"number from 1 to %d",
					c == OPT_KEEP ? "keep"
						      : "max-concurrent",
					optarg, c == OPT_KEEP ? 100000 : 64);
			if (c == OPT_KEEP)
				so.keep = (unsigned)n;
			else
				so.max_concurrent = (unsigned)n;
			break;
		case OPT_DRY_RUN:
			so.dry_run = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return c;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(err, "sync",
				       "expected a source and a destination");
	if ((r = load_source(&list, argv[optind], err)) < 0)
		return r;
	so.registry = &ctx->registry;
	so.progress = on_event;
	so.ud = &quiet;
	r = berth_sync(&res, list, argv[optind + 1], &so, err);
	if (r < 0)
		return r;
	if (so.dry_run)
		printf("%zu tags: %zu unchanged, %zu to copy (dry run)\n",
		       res.tags, res.unchanged, res.tags - res.unchanged);
	else
		printf("%zu tags: %zu unchanged, %zu copied, %.1f MiB\n",
		       res.tags, res.unchanged, res.copied,
		       (double)res.bytes / (1 << 20));
	return 0;
}
