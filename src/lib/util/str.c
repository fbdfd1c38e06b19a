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

/*
 * The length of the UTF-8 sequence at s (at most len bytes) that encodes a
 * character safe on a terminal, or 0: invalid UTF-8 (overlong, surrogates,
 * past U+10FFFF, cut short), the C1 controls U+0080-U+009F (which
 * terminals read as 8-bit CSI, OSC...), and the bidirectional overrides
 * and isolates that reorder what follows them (U+202A-U+202E,
 * U+2066-U+2069).
 */
static size_t
safe_utf8_len(const unsigned char *s, size_t len)
{
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

char *
berth_str_quote(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0, k;
	char *q = xmalloc((len > max ? max : len) + 4);

	while (i < len && n < max) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			q[n++] = s[i++];
		} else if (u[i] == '\t' || u[i] == '\n' || u[i] == '\r') {
			q[n++] = ' ';
			i++;
		} else if ((k = safe_utf8_len(u + i, len - i)) > 0) {
			if (k > max - n)
				break;
			memcpy(q + n, s + i, k);
			n += k;
			i += k;
		} else {
			q[n++] = '?';
			i++;
		}
	}
	if (i < len) {
		memcpy(q + n, "...", 3);
		n += 3;
	}
	q[n] = '\0';
	return q;
}

char *
berth_str_escape_log(const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes;
	char *out = xmalloc(len * 4 + 1), *o = out;
	size_t i = 0;

	while (i < len) {
		size_t u = p[i] >= 0x80 ? safe_utf8_len(p + i, len - i) : 1;

		if (p[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
			i++;
		} else if (u == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			/* Byte by byte: UTF-8 for a C1 control is two. */
			o += sprintf(o, "\\x%02x", p[i]);
			i++;
		} else {
			memcpy(o, p + i, u);
			o += u;
			i += u;
		}
	}
	*o = '\0';
	return out;
}

int
berth_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
