/*
 * bench/layer_decode FILE [gzip|zstd|tar] [--sink]: decodes one layer
 * blob with berth's layer decoder, as `berth unpack` and `berth pull
 * --unpack` do, and prints the throughput (bench/decode.sh compares it with
 * igzip and zlib's gzip). With --sink the tar bytes go to /dev/null
 * through write(), as a consumer that writes files would.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/digest.h"
#include "unpack/decode.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	berth_layer_compression c = BERTH_LAYER_GZIP;
	berth_layer_decoder *d = NULL;
	berth_error *err = NULL;
	berth_digest digest, diff_id;
	int sink = -1, fd;
	ssize_t n;
	double t0, t;
	off_t in_size;

	if (argc < 2) {
		fprintf(stderr, "usage: layer_decode FILE [gzip|zstd|tar] "
				"[--sink]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "zstd") == 0)
			c = BERTH_LAYER_ZSTD;
		else if (strcmp(argv[i], "tar") == 0)
			c = BERTH_LAYER_PLAIN;
		else if (strcmp(argv[i], "--sink") == 0)
			sink = open("/dev/null", O_WRONLY);
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0) {
		perror(argv[1]);
		return 1;
	}
	in_size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	t0 = now();
	if (berth_layer_decoder_new(&d, fd, c, true, 0, &err) < 0)
		goto fail;
	for (;;) {
		const void *p;

		if ((n = berth_layer_decoder_read(d, &p, &err)) < 0)
			goto fail;
		if (n == 0)
			break;
		if (sink >= 0 && write(sink, p, (size_t)n) != n)
			perror("write");
	}
	t = now() - t0;
	berth_layer_decoder_digests(d, &digest, &diff_id);
	printf("berth decoder: %.1f MB in, %.1f MB out in %.3f s: %.0f MB/s "
	       "out (both digests)\n",
	       (double)in_size / 1e6,
	       (double)berth_layer_decoder_total_out(d) / 1e6, t,
	       (double)berth_layer_decoder_total_out(d) / 1e6 / t);
	printf("digest %s\ndiff_id %s\n", digest.str, diff_id.str);
	berth_layer_decoder_free(d);
	return 0;
fail:
	fprintf(stderr, "layer_decode: %s\n", err ? err->msg : "failed");
	berth_layer_decoder_free(d);
	return 1;
}
