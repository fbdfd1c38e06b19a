/*
 * Semantic versions as image tags write them ("v1.2.3", "1.2", "2.0.0-rc.1"),
 * for berth sync's --semver range and --keep order. Missing minor or
 * patch numbers are 0; build metadata (+...) is ignored, as semver.org
 * says.
 */
#include "berth/sync.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define NUM_MAX 999999999L

static int
number(long *out, const char **p)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -1;
	errno = 0;
	*out = strtol(*p, &end, 10);
	if (errno || *out > NUM_MAX)
		return -1;
	*p = end;
	return 0;
}

int
berth_semver_parse(berth_semver *out, const char *tag)
{
	const char *p = tag;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (*p == 'v' || *p == 'V')
		p++;
	if (number(&out->major, &p) < 0)
		return -1;
	if (*p == '.' && (p++, number(&out->minor, &p) < 0))
		return -1;
	if (*p == '.' && (p++, number(&out->patch, &p) < 0))
		return -1;
	if (*p == '-') {
		p++;
		n = strcspn(p, "+");
		if (n == 0 || n >= sizeof(out->pre))
			return -1;
		memcpy(out->pre, p, n);
		p += n;
	}
	if (*p == '+')
		p += strlen(p);
	return *p == '\0' ? 0 : -1;
}

/* Pre-releases per semver.org: dot-separated identifiers, numbers
 * numerically and below words. */
static int
pre_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		bool na = strspn(a, "0123456789") == la;
		bool nb = strspn(b, "0123456789") == lb;
		int c;

		if (na && nb)
			c = la != lb ? (la < lb ? -1 : 1) : strncmp(a, b, la);
		else if (na != nb)
			c = na ? -1 : 1;
		else {
			c = strncmp(a, b, la < lb ? la : lb);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return *a ? 1 : *b ? -1 : 0;
}

int
berth_semver_cmp(const berth_semver *a, const berth_semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	/* A release is above its pre-releases. */
	if (!a->pre[0] || !b->pre[0])
		return !a->pre[0] && !b->pre[0] ? 0 : a->pre[0] ? -1 : 1;
	return pre_cmp(a->pre, b->pre);
}

int
berth_semver_match(bool *out, const berth_semver *v, const char *range,
		   berth_error **err)
{
	_cleanup_free_ char *copy = xstrdup(range);
	char *save = NULL;
	size_t n = 0;

	*out = true;
	for (char *w = strtok_r(copy, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save), n++) {
		size_t op = strspn(w, "<>=!");
		berth_semver bound;
		int c;

		if (op > 2 || berth_semver_parse(&bound, w + op) < 0 ||
		    (op == 2 && w[1] != '=') || (op == 1 && w[0] == '!'))
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid version range '%s': "
					       "'%s' is not OP VERSION (OP one "
					       "of < <= > >= = !=)",
					       range, w);
		c = berth_semver_cmp(v, &bound);
		if (op == 0 || strncmp(w, "=", op) == 0 ||
		    strncmp(w, "==", op) == 0)
			*out = *out && c == 0;
		else if (strncmp(w, "!=", 2) == 0)
			*out = *out && c != 0;
		else if (strncmp(w, ">=", 2) == 0)
			*out = *out && c >= 0;
		else if (strncmp(w, "<=", 2) == 0)
			*out = *out && c <= 0;
		else if (w[0] == '>')
			*out = *out && c > 0;
		else
			*out = *out && c < 0;
	}
	if (n == 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "the version range is empty");
	return 0;
}
