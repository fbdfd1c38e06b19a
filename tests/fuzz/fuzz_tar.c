/*
 * libFuzzer harness for tar import (berth_image_import: libarchive, any
 * compression, through the dlopen'ed API). Each input is written to a
 * file and imported into one store kept open across inputs (a fresh store
 * per input cost more than the import). Besides the sanitizers, it checks:
 * - an accepted input is recorded under its name, with the descriptor
 *   returned, and fsck finds nothing wrong with the store; removing the
 *   name and collecting garbage then leaves no blob behind;
 * - a refused one fails with BERTH_EPROTO or BERTH_EIO and a one-line
 *   message, records no image and leaves no staging file in ingest/;
 *   garbage collection then leaves no blob behind.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/image.h"
#include "berth/store.h"
#include "util/archive_dl.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.test/tar:latest"

static char input[300], root[300];
static berth_store *store;

static void
close_store(void)
{
	berth_store_free(store);
}

static void
setup(void)
{
	const berth_archive_api *a;
	const char *tmp = fuzz_tmp_make("tar");

	snprintf(input, sizeof(input), "%s/in.tar", tmp);
	snprintf(root, sizeof(root), "%s/store", tmp);
	if (berth_archive_api_get(&a, NULL) < 0) {
		fprintf(stderr, "fuzz_tar: libarchive cannot be loaded\n");
		exit(2);
	}
	if (berth_store_open(&store, root, 0, NULL) < 0)
		abort();
	atexit(close_store); /* runs before the directory goes */
}

/* Files in ROOT/SUB/ but dot files (the lease's lock file). */
static size_t
files_in(const char *sub)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	return fuzz_entries(path);
}

static void
check_store(const berth_descriptor *got)
{
	berth_descriptor d = {0};
	size_t checked = 0, problems = 0;

	if (got) {
		if (berth_store_resolve(&d, store, NAME, NULL) < 0 ||
		    strcmp(d.digest.str, got->digest.str) != 0)
			abort();
		if (berth_store_fsck(&checked, &problems, store, NULL, NULL,
				     NULL) < 0 ||
		    problems != 0 || checked < 3)
			abort();
		berth_descriptor_release(&d);
		if (berth_store_remove_image(store, NAME, NULL) < 0)
			abort();
	} else if (berth_store_resolve(&d, store, NAME, NULL) == 0) {
		abort();
	}
	/* a refused import may leave blobs nothing references; gc takes them */
	if (berth_store_gc(store, NULL, NULL, NULL) < 0 ||
	    files_in("blobs/sha256") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	berth_error *err = NULL;
	berth_descriptor out = {0};
	int fd;

	if (fuzz_tmp[0] == '\0')
		setup();
	fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (berth_image_import(&out, store, input, NAME, NULL, &err) == 0) {
		check_store(&out);
		berth_descriptor_release(&out);
	} else {
		if (err == NULL ||
		    (err->code != BERTH_EPROTO && err->code != BERTH_EIO) ||
		    strchr(err->msg, '\n'))
			abort();
		berth_error_free(err);
		if (files_in("ingest") != 0)
			abort();
		check_store(NULL);
	}
	return 0;
}
