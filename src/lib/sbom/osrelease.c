/*
 * os-release(5): KEY=value lines, the value optionally in single or
 * double quotes, with backslash escapes inside double quotes.
 */
#include <stdlib.h>
#include <string.h>

#include "sbom/catalog.h"
#include "util/buf.h"

static char *
unquote(const char *v, size_t n)
{
	berth_buf b = BERTH_BUF_INIT;
	char q = 0;

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		q = v[0];
		v++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (q == '"' && c == '\\' && i + 1 < n)
			c = v[++i];
		if (berth_buf_put(&b, &c, 1, NULL) < 0)
			break;
	}
	if (b.len == 0) {
		berth_buf_release(&b);
		return NULL;
	}
	return berth_buf_detach(&b);
}

void
berth_sbom_parse_os_release(char **id, char **version_id, char **name,
			    const char *p, size_t len)
{
	const char *end = p + len;
	char *pretty = NULL, *plain = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *eq;
		char **dst = NULL;

		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq) {
			size_t kl = (size_t)(eq - p);

			if (kl == 2 && memcmp(p, "ID", 2) == 0)
				dst = id;
			else if (kl == 10 && memcmp(p, "VERSION_ID", 10) == 0)
				dst = version_id;
			else if (kl == 11 && memcmp(p, "PRETTY_NAME", 11) == 0)
				dst = &pretty;
			else if (kl == 4 && memcmp(p, "NAME", 4) == 0)
				dst = &plain;
		}
		if (dst) {
			const char *v = eq + 1, *ve = eol;

			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			free(*dst);
			*dst = unquote(v, (size_t)(ve - v));
		}
		p = nl ? nl + 1 : end;
	}
	if (pretty || plain) {
		free(*name);
		*name = pretty ? pretty : plain;
		free(pretty ? plain : NULL);
	}
}
