/*
 * libFuzzer harness for layer application (unpack/apply.c over
 * libarchive's tar reader, paths through unpack/resolve.c). The input's
 * first byte picks the options (bit 0: --rootless, bit 1: the O_NOFOLLOW
 * walk instead of openat2); the rest is one layer tar, applied into a
 * fresh root inside a canary directory, both removed afterwards. Besides
 * the sanitizers, it checks:
 * - nothing is written outside the root: the canary holds the root and
 *   its sentinel file, unchanged, and nothing else;
 * - a refusal is one line naming the layer, with a known code.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack/apply.h"
#include "unpack/remove.h"
#include "util/error.h"

#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int canary_fd = -1; /* fuzz_tmp: the root and a sentinel */

static void
setup(void)
{
	int fd;

	canary_fd =
		open(fuzz_tmp_make("unpack"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = openat(canary_fd, "sentinel", O_CREAT | O_WRONLY | O_CLOEXEC,
		    0644);
	if (fd < 0 || write(fd, "sentinel", 8) != 8)
		abort();
	close(fd);
}

struct mem {
	const uint8_t *p;
	size_t len, off;
};

/* Odd-sized reads, so entries straddle blocks. */
static ssize_t
rd(void *ctx, const void **buf, berth_error **err)
{
	struct mem *m = ctx;
	size_t n = m->len - m->off < 1021 ? m->len - m->off : 1021;

	*buf = m->p + m->off;
	m->off += n;
	return (ssize_t)n;
}

/* The canary holds "root" and "sentinel" (8 bytes), nothing else. */
static void
check_canary(void)
{
	int fd = openat(canary_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	struct dirent *e;
	struct stat st;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "root") &&
		    strcmp(e->d_name, "sentinel")) {
			fprintf(stderr, "written outside the root: '%s'\n",
				e->d_name);
			abort();
		}
	}
	closedir(d);
	if (fstatat(canary_fd, "sentinel", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size != 8 || st.st_nlink != 1) {
		fprintf(stderr, "the sentinel outside the root changed\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	berth_apply_opts o = {false, 64 << 20, 20000, BERTH_RESOLVE_OPENAT2};
	struct mem m = {data + 1, size ? size - 1 : 0, 0};
	berth_apply *a = NULL;
	berth_error *err = NULL;
	int root, r;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	o.rootless = data[0] & 1;
	o.resolve = data[0] & 2 ? BERTH_RESOLVE_WALK : BERTH_RESOLVE_OPENAT2;
	if (mkdirat(canary_fd, "root", 0755) < 0)
		abort();
	root = openat(canary_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = berth_apply_new(&a, root, &o, &err);
	if (r == 0)
		r = berth_apply_layer(a, rd, &m, "layer 1", &err);
	if (r == 0)
		r = berth_apply_finish(a, &err);
	if (r < 0) {
		if (err == NULL || err->msg == NULL || strchr(err->msg, '\n') ||
		    strncmp(err->msg, "layer 1", 7) != 0 ||
		    (r != BERTH_EPROTO && r != BERTH_EIO &&
		     r != BERTH_ETOOBIG)) {
			fprintf(stderr, "bad refusal %d: %s\n", r,
				err && err->msg ? err->msg : "(none)");
			abort();
		}
	}
	berth_error_free(err);
	berth_apply_free(a);
	close(root);
	check_canary();
	if (berth_remove_tree(canary_fd, "root") < 0)
		abort();
	return 0;
}
