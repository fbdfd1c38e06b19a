/*
 * libFuzzer harness for the layer decoder (unpack/decode.c). The first
 * input byte picks the compression (0 tar, 1 gzip, 2 zstd, by its value
 * modulo 3), the rest is the layer, read from a memfd as from a blob file.
 * Besides the sanitizers it checks that an error is one line with a code,
 * and that a decoded layer's length is what total_out reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unpack/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A bomb stops here instead of filling the fuzzer's memory. */
#define FUZZ_MAX_OUT ((int64_t)16 << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const berth_layer_compression cs[] = {
		BERTH_LAYER_PLAIN, BERTH_LAYER_GZIP, BERTH_LAYER_ZSTD};
	berth_layer_decoder *d = NULL;
	berth_error *err = NULL;
	berth_digest digest = {0}, diff_id = {0};
	int64_t sum = 0;
	ssize_t n;
	int fd;

	if (size < 1)
		return 0;
	fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (berth_layer_decoder_new(&d, fd, cs[data[0] % 3], true, FUZZ_MAX_OUT,
				    &err) < 0)
		abort();
	for (;;) {
		const void *p;

		n = berth_layer_decoder_read(d, &p, &err);
		if (n <= 0)
			break;
		sum += n;
	}
	if (n < 0) {
		if (err == NULL || err->code != n || err->msg == NULL ||
		    strchr(err->msg, '\n') != NULL || err->msg[0] == '\0')
			abort(); /* one line, with the code returned */
	} else {
		berth_layer_decoder_digests(d, &digest, &diff_id);
		if (sum != berth_layer_decoder_total_out(d) ||
		    strncmp(diff_id.str, "sha256:", 7) != 0 ||
		    strncmp(digest.str, "sha256:", 7) != 0)
			abort();
		if (data[0] % 3 == 0 && sum != (int64_t)size - 1)
			abort(); /* tar passes through unchanged */
	}
	berth_error_free(err);
	berth_layer_decoder_free(d);
	close(fd);
	return 0;
}
