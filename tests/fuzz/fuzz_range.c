/*
 * libFuzzer harness for the byte-range headers of berth serve
 * (srv_parse_range, srv_parse_content_range). The first 8 bytes of an
 * input are the blob's size (little-endian; the top bits are dropped so
 * that small sizes come up often), the rest is the header. Besides the
 * sanitizers, it checks:
 * - a satisfiable Range lies inside the blob and is never empty;
 * - an ignored or unsatisfiable one leaves the outputs untouched;
 * - an unsatisfiable one only happens for a "bytes=" header;
 * - an accepted Content-Range has 0 <= start <= end, and a malformed one
 *   leaves the outputs untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t blob = 0, off = 7, len = 7;
	int64_t start = -7, end = -7;
	char *h;
	int r;

	if (size < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		blob = blob << 8 | data[i];
	if (data[7] & 0x80)
		blob &= 0xffff; /* half the inputs: a small blob */
	h = malloc(size - 8 + 1);
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';

	r = srv_parse_range(&off, &len, h, blob);
	if (r == 1) {
		if (len == 0 || off >= blob || len > blob - off)
			abort();
	} else if (r == 0 || r == -1) {
		if (off != 7 || len != 7)
			abort();
		if (r == -1 && strncmp(h, "bytes=", 6) != 0)
			abort();
	} else {
		abort();
	}

	if (srv_parse_content_range(&start, &end, h)) {
		if (start < 0 || end < start)
			abort();
	} else if (start != -7 || end != -7) {
		abort();
	}
	free(h);
	return 0;
}
