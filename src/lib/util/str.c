#include "util/str.h"

#include <string.h>

#include "util/xalloc.h"

char *
berth_str_media_type(const char *ct)
{
	size_t len;

	if (ct == NULL)
		return NULL;
	ct += strspn(ct, " \t");
	len = strcspn(ct, ";, \t");
	return len ? xstrndup(ct, len) : NULL;
}

size_t
berth_str_line_len(char *buf, size_t size, int n)
{
	if (n < 0 || size < 2)
		return 0;
	if ((size_t)n < size)
		return (size_t)n;
	buf[size - 2] = '\n';
	return size - 1;
}

char *
berth_str_quote(const char *s, size_t len, size_t max)
{
	size_t n = len > max ? max : len, i;
	char *q = xmalloc(n + 4);

	for (i = 0; i < n; i++)
		q[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n < len) {
		memcpy(q + i, "...", 3);
		i += 3;
	}
	q[i] = '\0';
	return q;
}
