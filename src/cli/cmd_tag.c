/* berth tag SRC DST and berth rmi NAME: naming local images. */
#include <stdio.h>
#include <string.h>

#include "berth/image.h"
#include "cli/cli.h"
#include "util/cleanup.h"

static const char tag_help[] =
	"Usage: berth tag SOURCE[:TAG] TARGET[:TAG]\n\n"
	"Give the local image SOURCE the additional name TARGET.\n";

static const char rmi_help[] =
	"Usage: berth rmi NAME[:TAG|@DIGEST]...\n\n"
	"Remove images from the local store: the names, then every blob no\n"
	"remaining image needs.\n";

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

	if (cli_help(argc, argv, tag_help))
		return 0;
	if (argc != 3)
		return cli_usage_error(err, "tag", "expected SOURCE and TARGET");
	r = canonical(&src, argv[1], err);
	if (r == 0)
		r = canonical(&dst, argv[2], err);
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

	if (cli_help(argc, argv, rmi_help))
		return 0;
	if (argc < 2)
		return cli_usage_error(err, "rmi", "expected an image reference");
	r = cli_store(ctx, &store, err);
	for (int i = 1; r == 0 && i < argc; i++) {
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
