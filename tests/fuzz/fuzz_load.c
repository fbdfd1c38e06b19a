/*
 * libFuzzer harness for berth load (berth_load: libarchive, any
 * compression, docker-archive and OCI layouts, manifest.json, index.json,
 * configs, links between entries). Each input is an archive loaded from a
 * file into a fresh store, removed afterwards. Besides the sanitizers, it
 * checks:
 * - an accepted archive records each named image it reports, under that
 *   name with that manifest, and fsck finds nothing wrong with the store;
 * - a refused one fails with one of the codes berth_load documents and a
 *   one-line message, and leaves no image, no blob and no staging file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/archive.h"
#include "berth/store.h"
#include "util/archive_dl.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char input[300], root[300];

static void
setup(void)
{
	const berth_archive_api *a;
	const char *tmp = fuzz_tmp_make("load");

	snprintf(input, sizeof(input), "%s/in.tar", tmp);
	snprintf(root, sizeof(root), "%s/store", tmp);
	if (berth_archive_api_get(&a, NULL) < 0) {
		fprintf(stderr, "fuzz_load: libarchive cannot be loaded\n");
		exit(2);
	}
}

/* Entries of ROOT/<dir> not starting with '.'. */
static size_t
count(const char *dir)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", root, dir);
	return fuzz_entries(path);
}

static bool
documented(berth_code c)
{
	return c == BERTH_EPROTO || c == BERTH_EDIGEST || c == BERTH_EIO ||
	       c == BERTH_EUNSUPPORTED || c == BERTH_ETOOBIG || c == BERTH_EREF;
}

static void
check_accepted(berth_store *s, const berth_load_result *res)
{
	size_t checked = 0, problems = 0;

	for (size_t i = 0; i < res->n_images; i++) {
		berth_descriptor d = {0};

		if (res->images[i].name == NULL)
			continue;
		/* A later image of the same name replaces an earlier one. */
		if (berth_store_resolve(&d, s, res->images[i].name, NULL) < 0)
			abort();
		berth_descriptor_release(&d);
	}
	if (berth_store_fsck(&checked, &problems, s, NULL, NULL, NULL) < 0 ||
	    problems != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_store *s = NULL;
	berth_error *err = NULL;
	berth_load_opts o = BERTH_LOAD_OPTS_INIT;
	berth_load_result res = BERTH_LOAD_RESULT_INIT;
	berth_image *v = NULL;
	size_t n = 0;
	int fd, r;

	if (fuzz_tmp[0] == '\0')
		setup();
	fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	fd = open(input, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || berth_store_open(&s, root, 0, NULL) < 0)
		abort();
	r = berth_load(&res, s, fd, &o, &err);
	close(fd);
	if (r == 0) {
		if (err != NULL || res.n_images == 0)
			abort();
		check_accepted(s, &res);
		berth_load_result_release(&res);
	} else {
		if (err == NULL || err->code != r || !documented(err->code) ||
		    strchr(err->msg, '\n') ||
		    (err->hint && strchr(err->hint, '\n')))
			abort();
		berth_error_free(err);
		if (berth_store_list(&v, &n, s, NULL) < 0 || n != 0)
			abort();
		berth_images_free(v, n);
		if (count("ingest") != 0 || count("blobs/sha256") != 0 ||
		    count("blobs/sha512") != 0)
			abort();
	}
	berth_store_free(s);
	fuzz_rm_tree(root);
	return 0;
}
