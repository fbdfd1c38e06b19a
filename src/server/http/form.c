/*
 * The urlencoded form walker: one pass, one scratch buffer as long as the
 * body, no allocation per field.
 */
#include "server/http/form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"
#include "util/xalloc.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

bool
srv_form_content_type_ok(const char *content_type)
{
	/* A prefix, so that "; charset=utf-8" and the like pass. */
	return content_type &&
	       strncasecmp(content_type, FORM_TYPE, strlen(FORM_TYPE)) == 0;
}

/* Decodes s[0..n) into out (room for n + 1); returns the decoded length. */
static size_t
decode(char *out, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
			   (hi = berth_hex_digit(s[i + 1])) >= 0 &&
			   (lo = berth_hex_digit(s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return o;
}

static bool
is_separator(char c)
{
	return c == '&' || c == '\r' || c == '\n';
}

int
srv_form_parse(const char *body, size_t len, srv_form_field_fn fn, void *cls)
{
	char *scratch = xmalloc(len + 2);
	size_t i = 0;
	int r = 0;

	while (i < len && r == 0) {
		size_t start = i, eq, klen, vlen;
		char *key = scratch, *value;

		while (i < len && !is_separator(body[i]))
			i++;
		if (i == start) {
			i++; /* an empty field */
			continue;
		}
		eq = start;
		while (eq < i && body[eq] != '=')
			eq++;
		klen = decode(key, body + start, eq - start);
		value = key + klen + 1;
		vlen = eq < i ? decode(value, body + eq + 1, i - eq - 1)
			      : decode(value, "", 0);
		r = fn(cls, key, value, vlen);
		i++;
	}
	explicit_bzero(scratch, len + 2);
	free(scratch);
	return r;
}
