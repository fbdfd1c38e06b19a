#include "util/str.h"

#include <stdbool.h>
#include <stdio.h>
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

/* The length of the UTF-8 sequence at p[0..n), 0 if there is none. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

char *
berth_str_escape_log(const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes;
	char *out = xmalloc(len * 4 + 1), *o = out;
	size_t i = 0;

	while (i < len) {
		size_t u = p[i] >= 0x80 ? utf8_len(p + i, len - i) : 1;
		bool c1 = u == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f;

		if (p[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			i++;
		} else if (u == 0 || c1 || p[i] < 0x20 || p[i] == 0x7f) {
			/* A C1 control is escaped byte by byte, like the rest.
			 */
			size_t k, n = c1 ? 2 : 1;

			for (k = 0; k < n; k++, i++)
				o += sprintf(o, "\\x%02x", p[i]);
		} else {
			memcpy(o, p + i, u);
			o += u;
			i += u;
		}
	}
	*o = '\0';
	return out;
}
