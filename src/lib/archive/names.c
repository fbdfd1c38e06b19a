#include "archive/names.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Appends `name`'s components to out (of length *len), resolving ".."
 * when `dotdot` allows it; false when the name is unsafe. */
static bool
append(char *out, size_t *len, const char *name, bool dotdot)
{
	const char *p = name;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "" (a doubled slash) and "." add nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (!dotdot || *len == 0)
				return false;
			slash = strrchr(out, '/');
			*len = slash ? (size_t)(slash - out) : 0;
			out[*len] = '\0';
		} else {
			if (*len)
				out[(*len)++] = '/';
			memcpy(out + *len, p, n);
			*len += n;
			out[*len] = '\0';
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

char *
archive_name_clean(const char *name)
{
	size_t len = 0;
	char *out;

	if (name == NULL || *name == '/' || strlen(name) >= PATH_MAX ||
	    has_control(name))
		return NULL;
	out = xmalloc(strlen(name) + 1);
	out[0] = '\0';
	if (!append(out, &len, name, false) || len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *
archive_link_resolve(const char *from, const char *target)
{
	const char *slash = strrchr(from, '/');
	size_t dir = slash ? (size_t)(slash - from) : 0, len = dir;
	char *out;

	if (target == NULL || *target == '/' || *target == '\0' ||
	    strlen(target) >= PATH_MAX || has_control(target))
		return NULL;
	out = xmalloc(dir + strlen(target) + 2);
	memcpy(out, from, dir);
	out[dir] = '\0';
	if (!append(out, &len, target, true) || len == 0) {
		free(out);
		return NULL;
	}
	return out;
}
