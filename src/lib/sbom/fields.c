#include "sbom/fields.h"

#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

void
berth_fields_walk(const char *p, size_t len, bool one,
		  const berth_fields_cb *cb)
{
	const char *end = p + len;
	bool open = false; /* a stanza has fields not yet ended */

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *colon, *v, *ve;
		const char *l = p;

		p = nl ? nl + 1 : end;
		ve = eol;
		while (ve > l && blank(ve[-1]))
			ve--;
		if (ve == l) {
			if (open) {
				cb->end(cb->ud);
				open = false;
				if (one)
					return;
			}
			continue;
		}
		if (blank(l[0]))
			continue; /* a continuation line */
		colon = memchr(l, ':', (size_t)(ve - l));
		if (colon == NULL || colon == l)
			continue;
		for (v = colon + 1; v < ve && blank(*v); v++)
			;
		cb->field(cb->ud, l, (size_t)(colon - l), v, (size_t)(ve - v));
		open = true;
	}
	if (open)
		cb->end(cb->ud);
}

char *
berth_fields_dup(const char *val, size_t vlen)
{
	return vlen ? xstrndup(val, vlen) : NULL;
}

bool
berth_fields_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && strncasecmp(key, name, klen) == 0;
}
