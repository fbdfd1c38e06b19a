/* Versions by ecosystem: the one place that knows which comparator an
 * OSV ecosystem name means. */
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

static const struct {
	const char *name;
	berth_vuln_ecosystem eco;
} ecosystems[] = {
	{"Debian", BERTH_VULN_ECO_DEBIAN}, {"Ubuntu", BERTH_VULN_ECO_DEBIAN},
	{"Alpine", BERTH_VULN_ECO_ALPINE}, {"PyPI", BERTH_VULN_ECO_PYPI},
	{"npm", BERTH_VULN_ECO_NPM},
};

int
berth_vuln_ecosystem_parse(berth_vuln_ecosystem *out, const char **release,
			   const char *name, berth_error **err)
{
	const char *colon = strchr(name, ':');
	size_t n = colon ? (size_t)(colon - name) : strlen(name);

	for (size_t i = 0; i < sizeof(ecosystems) / sizeof(ecosystems[0]); i++)
		if (strlen(ecosystems[i].name) == n &&
		    strncmp(ecosystems[i].name, name, n) == 0) {
			*out = ecosystems[i].eco;
			if (release)
				*release = colon ? colon + 1 : "";
			return 0;
		}
	return berth_error_set(
		err, BERTH_EUNSUPPORTED, 0,
		"ecosystem '%s' is not one berth orders "
		"versions of (Debian, Ubuntu, Alpine, PyPI, npm)",
		name);
}

typedef int (*cmp_fn)(int *, const char *, const char *, berth_error **);

static cmp_fn
comparator(berth_vuln_ecosystem eco)
{
	switch (eco) {
	case BERTH_VULN_ECO_DEBIAN:
		return vuln_cmp_deb;
	case BERTH_VULN_ECO_ALPINE:
		return vuln_cmp_apk;
	case BERTH_VULN_ECO_PYPI:
		return vuln_cmp_pep440;
	case BERTH_VULN_ECO_NPM:
	case BERTH_VULN_ECO_SEMVER:
		return vuln_cmp_semver;
	default:
		return NULL;
	}
}

int
berth_version_compare(int *out, berth_vuln_ecosystem eco, const char *a,
		      const char *b, berth_error **err)
{
	cmp_fn fn = comparator(eco);
	int c = 0, r;

	if (fn == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no version order for ecosystem %d",
				       (int)eco);
	if ((r = fn(&c, a, b, err)) < 0)
		return r;
	*out = c < 0 ? -1 : c > 0;
	return 0;
}

int
berth_version_validate(berth_vuln_ecosystem eco, const char *v,
		       berth_error **err)
{
	cmp_fn fn = comparator(eco);
	int c;

	if (fn == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "no version order for ecosystem %d",
				       (int)eco);
	return fn(&c, v, NULL, err);
}

char *
vuln_key(const char *ecosystem, berth_vuln_ecosystem eco, const char *name)
{
	size_t e = strcspn(ecosystem, ":"), n = strlen(name);
	char *k = xmalloc(e + n + 2), *o = k;

	/* Debian's and Ubuntu's advisories share an order, not names */
	memcpy(o, ecosystem, e);
	o += e;
	*o++ = '/';
	if (eco == BERTH_VULN_ECO_PYPI) {
		/* PEP 503: lower case, runs of -_. are one '-' */
		for (size_t i = 0; i < n; i++) {
			char c = name[i];

			if (c == '-' || c == '_' || c == '.') {
				if (o[-1] != '-')
					*o++ = '-';
				continue;
			}
			*o++ = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
	} else {
		memcpy(o, name, n);
		o += n;
	}
	*o = '\0';
	return k;
}
