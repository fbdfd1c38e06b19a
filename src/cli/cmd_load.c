/* berth load: docker load's interface on top of berth_load. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/archive.h"
#include "berth/ref.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/cleanup.h"
#include "util/error.h"

enum { OPT_JSON = 0x100 };

static const cli_option load_opts[] = {
	{'i', "input", "FILE", CLI_OPT_SHORT | CLI_OPT_FILE,
	 "read the archive from FILE instead of standard input"},
	{'q', "quiet", NULL, CLI_OPT_SHORT,
	 "print only the 'Loaded image' lines"},
	{OPT_JSON, "json", NULL, 0,
	 "print the result as one JSON object: the format and each image's "
	 "name, ID and manifest digest"},
	{0},
};

const cli_usage cli_load_usage = {
	"[OPTIONS]",
	"Import the images of a tar archive (plain, gzip or zstd) into the "
	"local store: a docker-archive as 'docker save', 'berth save' and "
	"skopeo's docker-archive: write it, or an OCI image layout (berth "
	"save --format oci, skopeo's oci-archive:). Every digest is verified "
	"before anything is recorded.",
	load_opts,
	NULL,
};

/* The line's id: a layer directory's name for "<id>/layer.tar", else
 * the file's own name ("<hex>.tar", the hex of "blobs/sha256/<hex>"). */
static void
on_event(void *ud, const berth_archive_event *ev)
{
	progress *p = ud;
	char id[256];
	const char *slash = strrchr(ev->id, '/');

	if (slash && strcmp(slash, "/layer.tar") == 0)
		snprintf(id, sizeof(id), "%.*s", (int)(slash - ev->id), ev->id);
	else
		snprintf(id, sizeof(id), "%s", slash ? slash + 1 : ev->id);
	/* Layers, configs and blobs are named by a digest; the archive's
	 * small files (manifest.json, index.json, ...) get no line. */
	if (strspn(id, "0123456789abcdef") != 64)
		return;
	id[12] = '\0';
	if (ev->kind == BERTH_ARCHIVE_DONE)
		progress_update(p, id, "Loaded", 0, 0, true);
	else
		progress_update(p, id, "Loading", ev->done, ev->total, false);
}

static void
print_json(const berth_load_result *res)
{
	json_auto_t *o = json_pack(
		"{s:s, s:[]}", "format",
		res->format == BERTH_ARCHIVE_OCI ? "oci" : "docker", "images");
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < res->n_images; i++) {
		const berth_loaded_image *li = &res->images[i];

		json_array_append_new(json_object_get(o, "images"),
				      json_pack("{s:s?, s:s, s:s}", "name",
						li->name, "id", li->id.str,
						"manifest", li->manifest.str));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
}

int
cmd_load(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(progress_freep) progress *prog = NULL;
	_cleanup_close_ int fd = -1;
	berth_load_opts lo = BERTH_LOAD_OPTS_INIT;
	berth_load_result res = BERTH_LOAD_RESULT_INIT;
	const char *input = NULL;
	berth_store *store;
	bool quiet = false, json = false;
	int c, r;

	if (cli_help_usage(argc, argv, "load", &cli_load_usage))
		return 0;
	while ((c = cli_getopt(load_opts, "load", argc, argv, err)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			return c;
		}
	}
	if (optind != argc)
		return cli_usage_error(err, "load",
				       "unexpected argument '%s' (the archive "
				       "is given with -i FILE)",
				       argv[optind]);
	if (input && strcmp(input, "-") != 0) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = berth_error_set(err, BERTH_EIO, errno,
					    "cannot open '%s': %s", input,
					    strerror(errno));
			berth_error_hint(err, "give the path of an archive "
					      "written by 'docker save', "
					      "'berth save' or skopeo");
			return r;
		}
	} else if (isatty(STDIN_FILENO)) {
		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "no archive: standard input is a terminal");
		berth_error_hint(err, "give the archive with -i FILE, or "
				      "redirect standard input from it");
		return r;
	}
	r = cli_store(ctx, &store, err);
	if (r < 0)
		return r;
	prog = progress_new(stdout, quiet || json);
	lo.progress = on_event;
	lo.ud = prog;
	lo.interrupt = ctx->registry.interrupt;
	r = berth_load(&res, store, fd >= 0 ? fd : STDIN_FILENO, &lo, err);
	if (r < 0)
		return input ? berth_error_wrap(err, r, "loading '%s'", input)
			     : r;
	if (json) {
		print_json(&res);
	} else {
		for (size_t i = 0; i < res.n_images; i++) {
			const berth_loaded_image *li = &res.images[i];
			_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
			_cleanup_free_ char *familiar = NULL;

			if (li->name &&
			    berth_ref_parse(&ref, li->name, NULL) == 0)
				familiar = berth_ref_familiar(ref);
			if (li->name)
				printf("Loaded image: %s\n",
				       familiar ? familiar : li->name);
			else
				printf("Loaded image ID: %s\n", li->id.str);
		}
	}
	berth_load_result_release(&res);
	return 0;
}
