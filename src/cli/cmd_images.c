/* berth images: the local store's images, one line each. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "berth/ref.h"
#include "cli/cli.h"
#include "util/cleanup.h"

static const cli_option images_opts[] = {
	{'q', "quiet", NULL, CLI_OPT_SHORT, "print only full image references"},
	{0},
};

const cli_usage cli_images_usage = {
	"[-q] [REPOSITORY[:TAG]]",
	"List the images in the local store: all of them, or those of "
	"REPOSITORY (with TAG, that tag only).",
	images_opts,
	NULL,
};

/* REPOSITORY and TAG columns of a full name; TAG is "<none>" for digests. */
static void
split_name(const char *name, char **repo, const char **tag)
{
	_cleanup_(berth_ref_freep) berth_ref *r = NULL;

	*tag = "<none>";
	if (berth_ref_parse_name(&r, name, NULL) < 0) {
		*repo = strdup(name);
		return;
	}
	*repo = berth_ref_name(r);
	if (r->tag) {
		const char *colon = strrchr(name, ':');

		*tag = colon && strchr(colon, '/') == NULL ? colon + 1
							   : "<none>";
		if (strchr(*tag, '@'))
			*tag = r->tag;
	}
}

/* Whether the image `name` is of the filter's repository (and tag). */
static bool
matches(const berth_ref *filter, const char *name)
{
	_cleanup_(berth_ref_freep) berth_ref *r = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;

	if (berth_ref_parse_name(&r, name, NULL) < 0)
		return false;
	a = berth_ref_name(r);
	b = berth_ref_name(filter);
	if (strcmp(a, b) != 0)
		return false;
	return filter->tag == NULL ||
	       (r->tag != NULL && strcmp(r->tag, filter->tag) == 0);
}

int
cmd_images(cli_ctx *ctx, int argc, char **argv, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *filter = NULL;
	berth_store *store;
	berth_image *imgs = NULL;
	size_t n = 0;
	bool quiet = false;
	int c, r;

	if (cli_help_usage(argc, argv, "images", &cli_images_usage))
		return 0;
	while ((c = cli_getopt(images_opts, "images", argc, argv, err)) != -1) {
		if (c != 'q')
			return c;
		quiet = true;
	}
	if (argc - optind > 1)
		return cli_usage_error(err, "images",
				       "unexpected argument '%s'",
				       argv[optind + 1]);
	if (optind < argc &&
	    (r = berth_ref_parse_name(&filter, argv[optind], err)) < 0)
		return r;
	r = cli_store(ctx, &store, err);
	if (r == 0)
		r = berth_store_list(&imgs, &n, store, err);
	if (r < 0)
		return r;
	if (!quiet)
		printf("%-40s  %-16s  %-71s  %s\n", "REPOSITORY", "TAG",
		       "DIGEST", "SIZE");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *repo = NULL;
		const char *tag;
		char size[16];
		berth_manifest *m = NULL;
		int64_t total = 0;
		_cleanup_free_ char *body = NULL;
		size_t len;

		if (filter && !matches(filter, imgs[i].name))
			continue;
		if (quiet) {
			printf("%s\n", imgs[i].name);
			continue;
		}
		split_name(imgs[i].name, &repo, &tag);
		/* Size as docker shows it: the image's content in the store. */
		if (berth_store_read_blob(&body, &len, store,
					  &imgs[i].desc.digest,
					  BERTH_MANIFEST_MAX, NULL) == 0 &&
		    berth_manifest_parse(&m, imgs[i].desc.media_type, body, len,
					 NULL) == 0) {
			total = m->config.size;
			for (size_t j = 0; j < m->n_layers; j++)
				total += m->layers[j].size;
			berth_manifest_free(m);
		}
		cli_human_size(size, sizeof(size), total);
		printf("%-40s  %-16s  %-71s  %s\n", repo, tag,
		       imgs[i].desc.digest.str, size);
	}
	berth_images_free(imgs, n);
	return 0;
}
