/* berth tag SRC DST and berth rmi NAME: naming local images. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

const cli_usage cli_tag_usage = {
	"SOURCE[:TAG] TARGET[:TAG]",
	"Give the local image SOURCE the additional name TARGET.",
	NULL,
	NULL,
};

const cli_usage cli_rmi_usage = {
	"NAME[:TAG|@DIGEST]...",
	"Remove images from the local store: the names, then every blob no "
	"remaining image needs.",
	NULL,
	NULL,
};

/* Parses a reference into its canonical string (the store's name). */
static int
canonical(char **out, const char *s, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	int r = berth_ref_parse(&ref, s, err);

	if (r < 0)
		return r;
	*out = berth_ref_string(ref);
	return 0;
}

int
cmd_tag(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_free_ char *src = NULL, *dst = NULL;
	berth_store *store;
	int r;

	if (cli_help_usage(argc, argv, "tag", &cli_tag_usage))
		return 0;
	if ((r = cli_getopt_none("tag", argc, argv, err)) < 0)
		return r;
	if (argc - optind != 2)
		return cli_usage_error(err, "tag",
				       "expected SOURCE and TARGET");
	r = canonical(&src, argv[optind], err);
	if (r == 0)
		r = canonical(&dst, argv[optind + 1], err);
	if (r == 0)
		r = cli_store(ctx, &store, err);
	if (r == 0)
		r = berth_image_tag(store, src, dst, err);
	return r;
}

static void
print_deleted(void *ud, const berth_digest *d, int64_t size)
{
	printf("Deleted: %s\n", d->str);
}

int
cmd_rmi(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	berth_store *store;
	int r;

	if (cli_help_usage(argc, argv, "rmi", &cli_rmi_usage))
		return 0;
	if ((r = cli_getopt_none("rmi", argc, argv, err)) < 0)
		return r;
	if (argc - optind < 1)
		return cli_usage_error(err, "rmi",
				       "expected an image reference");
	r = cli_store(ctx, &store, err);
	for (int i = optind; r == 0 && i < argc; i++) {
		_cleanup_free_ char *name = NULL;

		r = canonical(&name, argv[i], err);
		if (r == 0)
			r = berth_store_remove_image(store, name, err);
		if (r == 0)
			printf("Untagged: %s\n", name);
	}
	if (r == 0)
		r = berth_store_gc(store, print_deleted, NULL, err);
	return r;
}
