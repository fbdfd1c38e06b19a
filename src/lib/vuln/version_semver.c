/*
 * npm version order: semver 2.0.0 as the npm `semver` package reads it
 * (strict, not "loose"): an optional leading 'v', MAJOR.MINOR.PATCH
 * without leading zeros and at most 2^53-1 each, -PRERELEASE and +BUILD
 * identifiers. A release sorts after its pre-releases; pre-release
 * identifiers compare numerically when both are numbers (as JavaScript
 * numbers: doubles), numbers before words, words by their bytes; the build
 * is ignored.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "vuln/vuln_int.h"

#define MAX_SAFE_INTEGER 9007199254740991ULL

typedef struct semver {
	uint64_t major, minor, patch;
	const char *pre; /* after '-', up to pre_len; NULL: a release */
	size_t pre_len;
} semver;

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

static bool
js_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int
bad(berth_error **err, const char *orig, const char *why)
{
	return berth_error_set(err, BERTH_EUSAGE, 0,
			       "invalid semver version '%s': %s", orig, why);
}

/* 0|[1-9][0-9]*, at most MAX_SAFE_INTEGER */
static int
number(uint64_t *out, const char **s, const char *orig, berth_error **err)
{
	const char *p = *s;
	uint64_t v = 0;

	if (!is_digit(*p))
		return bad(err, orig, "expected MAJOR.MINOR.PATCH");
	if (*p == '0' && is_digit(p[1]))
		return bad(err, orig, "a number has a leading zero");
	for (; is_digit(*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > MAX_SAFE_INTEGER)
			return bad(err, orig, "a number is over 2^53-1");
	}
	*out = v;
	*s = p;
	return 0;
}

/* Dot-separated identifiers up to end of string or '+'; pre-release ones
 * that are all digits must not have a leading zero. */
static int
identifiers(const char **s, bool pre, const char *orig, berth_error **err)
{
	const char *p = *s;

	for (;;) {
		const char *start = p;
		bool digits = true;

		while (is_ident(*p)) {
			if (!is_digit(*p))
				digits = false;
			p++;
		}
		if (p == start)
			return bad(err, orig, "an empty identifier");
		if (pre && digits && *start == '0' && p - start > 1)
			return bad(err, orig,
				   "a numeric pre-release identifier has a "
				   "leading zero");
		if (*p != '.')
			break;
		p++;
	}
	*s = p;
	return 0;
}

static int
parse(semver *v, const char *orig, berth_error **err)
{
	const char *s = orig, *e;
	size_t len = strlen(orig);
	int r;

	if (len > VULN_VERSION_MAX)
		return bad(err, orig, "longer than 256 bytes");
	while (js_space(*s))
		s++;
	e = orig + len;
	while (e > s && js_space(e[-1]))
		e--;
	if (*s == 'v')
		s++;
	if ((r = number(&v->major, &s, orig, err)) < 0)
		return r;
	if (*s++ != '.')
		return bad(err, orig, "expected MAJOR.MINOR.PATCH");
	if ((r = number(&v->minor, &s, orig, err)) < 0)
		return r;
	if (*s++ != '.')
		return bad(err, orig, "expected MAJOR.MINOR.PATCH");
	if ((r = number(&v->patch, &s, orig, err)) < 0)
		return r;
	v->pre = NULL;
	v->pre_len = 0;
	if (*s == '-') {
		v->pre = ++s;
		if ((r = identifiers(&s, true, orig, err)) < 0)
			return r;
		v->pre_len = (size_t)(s - v->pre);
	}
	if (*s == '+') {
		s++;
		if ((r = identifiers(&s, false, orig, err)) < 0)
			return r;
	}
	if (s != e)
		return bad(err, orig, "unexpected text after the version");
	return 0;
}

static bool
all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return n > 0;
}

/* One identifier against another, as semver's compareIdentifiers. */
static int
ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	bool na = all_digits(a, an), nb = all_digits(b, bn);

	if (na && nb) {
		char x[VULN_VERSION_MAX + 1], y[VULN_VERSION_MAX + 1];
		double dx, dy;

		memcpy(x, a, an);
		x[an] = '\0';
		memcpy(y, b, bn);
		y[bn] = '\0';
		dx = strtod(x, NULL);
		dy = strtod(y, NULL);
		return dx < dy ? -1 : dx > dy;
	}
	if (na != nb)
		return na ? -1 : 1;
	size_t n = an < bn ? an : bn;
	int r = memcmp(a, b, n);

	if (r != 0)
		return r < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

static int
u64_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int
compare(const semver *a, const semver *b)
{
	const char *pa, *pb, *ea, *eb;
	int r;

	if ((r = u64_cmp(a->major, b->major)) ||
	    (r = u64_cmp(a->minor, b->minor)) ||
	    (r = u64_cmp(a->patch, b->patch)))
		return r;
	if (!a->pre || !b->pre)
		return a->pre ? -1 : b->pre ? 1 : 0;
	pa = a->pre, ea = pa + a->pre_len;
	pb = b->pre, eb = pb + b->pre_len;
	for (;;) {
		const char *da, *db;

		if (pa >= ea || pb >= eb)
			return pa >= ea && pb >= eb ? 0 : pa >= ea ? -1 : 1;
		da = memchr(pa, '.', (size_t)(ea - pa));
		db = memchr(pb, '.', (size_t)(eb - pb));
		if (!da)
			da = ea;
		if (!db)
			db = eb;
		if ((r = ident_cmp(pa, (size_t)(da - pa), pb,
				   (size_t)(db - pb))))
			return r;
		pa = da + 1;
		pb = db + 1;
	}
}

int
vuln_cmp_semver(int *out, const char *a, const char *b, berth_error **err)
{
	semver va, vb;
	int r = 0;

	if (a)
		r = parse(&va, a, err);
	if (r == 0 && b)
		r = parse(&vb, b, err);
	if (r == 0)
		*out = a && b ? compare(&va, &vb) : 0;
	return r;
}
