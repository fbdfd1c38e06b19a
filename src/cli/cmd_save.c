/* berth save: docker save's interface on top of berth_save. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/archive.h"
#include "berth/ref.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

enum { OPT_FORMAT = 0x100 };

static const cli_option save_opts[] = {
	{'o', "output", "FILE", CLI_OPT_SHORT | CLI_OPT_FILE,
	 "write to FILE (replaced only once the archive is complete), or to "
	 "standard output with '-' (the default; never a terminal)"},
	{OPT_FORMAT, "format", "FORMAT", 0,
	 "'docker' (docker save's layout, layers uncompressed; the default) "
	 "or 'oci' (an OCI image layout, blobs as stored)"},
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print no progress"},
	{0},
};

const cli_usage cli_save_usage = {
	"[OPTIONS] IMAGE [IMAGE...]",
	"Write local images to a tar archive that 'docker load', 'berth load' "
	"and skopeo (docker-archive: or oci-archive:) read. Layers shared by "
	"several images are written once. Progress goes to standard error.",
	save_opts,
	NULL,
};

static void
on_event(void *ud, const berth_archive_event *ev)
{
	progress *p = ud;

	if (ev->kind == BERTH_ARCHIVE_DONE)
		progress_update(p, ev->id, "Saved", 0, 0, true);
	else
		progress_update(p, ev->id, "Saving", ev->done, ev->total,
				false);
}

int
cmd_save(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(progress_freep) progress *prog = NULL;
	berth_save_opts so = BERTH_SAVE_OPTS_INIT;
	const char *output = "-";
	char **names = NULL;
	size_t n = 0;
	berth_store *store;
	bool quiet = false;
	int c, r;

	if (cli_help_usage(argc, argv, "save", &cli_save_usage))
		return 0;
	while ((c = cli_getopt(save_opts, "save", argc, argv, err)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "docker") == 0)
				so.format = BERTH_ARCHIVE_DOCKER;
			else if (strcmp(optarg, "oci") == 0)
				so.format = BERTH_ARCHIVE_OCI;
			else
				return cli_usage_error(
					err, "save",
					"invalid --format '%s': expected "
					"'docker' or 'oci'",
					optarg);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return c;
		}
	}
	if (optind >= argc)
		return cli_usage_error(err, "save",
				       "expected at least one image");
	if (strcmp(output, "-") == 0 && isatty(STDOUT_FILENO)) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "refusing to write the archive to a "
				    "terminal");
		berth_error_hint(err, "use -o FILE, or redirect standard "
				      "output to a file or a pipe");
		return r;
	}
	names = xcalloc((size_t)(argc - optind) + 1, sizeof(*names));
	for (int i = optind; i < argc; i++) {
		_cleanup_(berth_ref_freep) berth_ref *ref = NULL;

		r = berth_ref_parse(&ref, argv[i], err);
		if (r < 0) {
			berth_strv_free(names);
			return r;
		}
		names[n++] = berth_ref_string(ref);
	}
	r = cli_store(ctx, &store, err);
	if (r == 0) {
		prog = progress_new(stderr, quiet);
		so.progress = on_event;
		so.ud = prog;
		so.interrupt = ctx->registry.interrupt;
		r = strcmp(output, "-") == 0
			    ? berth_save(store, (const char *const *)names, n,
					 STDOUT_FILENO, &so, err)
			    : berth_save_file(store, (const char *const *)names,
					      n, output, &so, err);
	}
	berth_strv_free(names);
	return r;
}
