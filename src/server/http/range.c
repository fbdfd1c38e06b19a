/*
 * Range and Content-Range, moved out of the blob and upload handlers so
 * that they can be tested and fuzzed on their own.
 */
#include "server/http/range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
srv_parse_range(uint64_t *off, uint64_t *len, const char *h, uint64_t size)
{
	unsigned long long a, b;
	char *end;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	h += 6;
	if (*h == '-') {
		b = strtoull(h + 1, &end, 10);
		if (end == h + 1 || *end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	a = strtoull(h, &end, 10);
	if (end == h || *end != '-')
		return 0;
	h = end + 1;
	if (*h == '\0') {
		b = size ? size - 1 : 0;
	} else {
		b = strtoull(h, &end, 10);
		if (*end || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

bool
srv_parse_content_range(int64_t *start, int64_t *end, const char *h)
{
	long long a, b;
	int n = 0;

	if (strncmp(h, "bytes=", 6) == 0 || strncmp(h, "bytes ", 6) == 0)
		h += 6;
	if (sscanf(h, "%lld-%lld%n", &a, &b, &n) != 2 || a < 0 || b < a)
		return false;
	if (h[n] != '\0' && h[n] != '/')
		return false;
	*start = a;
	*end = b;
	return true;
}
