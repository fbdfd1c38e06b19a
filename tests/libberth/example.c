/*
 * A C program using libberth: opens (or creates) a local store, pulls an
 * image into it and lists the images it holds. Build it against an
 * installed libberth with
 *
 *	cc example.c $(pkg-config --cflags --libs berth) -o example
 *
 * Usage: example STORE REFERENCE
 */
#include <stdio.h>

#include <berth/pull.h>
#include <berth/store.h>

/* The library never prints: the program reports the error and its hint. */
static int
report(berth_error *err)
{
	fprintf(stderr, "example: %s (%s)\n", err->msg,
		berth_code_name(err->code));
	if (err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	berth_error_free(err);
	return 1;
}

static void
on_event(void *ud, const berth_pull_event *ev)
{
	unsigned *layers = ud;

	if (ev->kind == BERTH_PULL_LAYER_DONE)
		(*layers)++;
}

int
main(int argc, char **argv)
{
	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	berth_pull_result res = BERTH_PULL_RESULT_INIT;
	berth_store *store = NULL;
	berth_ref *ref = NULL;
	berth_image *images = NULL;
	berth_error *err = NULL;
	unsigned layers = 0;
	size_t n = 0, i;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: example STORE REFERENCE\n");
		return 2;
	}
	if (berth_store_open(&store, argv[1], 0, &err) < 0)
		return report(err);
	if (berth_ref_parse(&ref, argv[2], &err) < 0) {
		rc = report(err);
		goto out;
	}
	/* Loopback registries are spoken to in plain HTTP by default. */
	po.registry = &ro;
	po.progress = on_event;
	po.ud = &layers;
	if (berth_pull(&res, store, ref, &po, &err) < 0) {
		rc = report(err);
		goto out;
	}
	printf("pulled %s %s (%u layers downloaded)\n", res.name,
	       res.digest.str, layers);
	berth_pull_result_release(&res);

	if (berth_store_list(&images, &n, store, &err) < 0) {
		rc = report(err);
		goto out;
	}
	for (i = 0; i < n; i++)
		printf("image %s %s\n", images[i].name,
		       images[i].desc.digest.str);
	berth_images_free(images, n);
	rc = 0;
out:
	berth_ref_free(ref);
	berth_store_free(store);
	return rc;
}
