/*
 * Package URLs (https://github.com/package-url/purl-spec) to the package
 * an advisory names: pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH,
 * each part percent-decoded. The distribution qualifier gives the OSV
 * release: distro=debian-12 (or bookworm) is "Debian:12",
 * distro=alpine-3.18.4 is "Alpine:v3.18".
 */
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

static const struct {
	const char *codename, *release;
} debian_codenames[] = {
	{"jessie", "8"},    {"stretch", "9"},	{"buster", "10"},
	{"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"},
	{"forky", "14"},
};

/* Percent-decoded copy of s[0..n); NULL on a bad escape. */
static char *
decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(out);
			return NULL;
		}
		int hi = berth_hex_digit(s[i + 1]),
		    lo = berth_hex_digit(s[i + 2]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* The value of qualifier `key` in "a=1&b=2", decoded; NULL if absent. */
static char *
qualifier(const char *q, const char *key)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&'),
			   *end = amp ? amp : q + strlen(q);

		if ((size_t)(end - q) > kl && strncasecmp(q, key, kl) == 0 &&
		    q[kl] == '=')
			return decode(q + kl + 1, (size_t)(end - q - kl - 1));
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* "debian-12.4", "12", "bookworm" -> "12" */
static char *
debian_release(const char *distro)
{
	const char *d = distro;
	size_t n;

	if (strncasecmp(d, "debian-", 7) == 0 ||
	    strncasecmp(d, "ubuntu-", 7) == 0)
		d += 7;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(debian_codenames); i++)
		if (strcasecmp(d, debian_codenames[i].codename) == 0)
			return xstrdup(debian_codenames[i].release);
	/* Debian's releases are major numbers; Ubuntu's keep YY.MM */
	if (strncasecmp(distro, "ubuntu", 6) == 0)
		return xstrdup(d);
	n = strcspn(d, ".");
	return xstrndup(d, n);
}

/* "alpine-3.18.4", "3.18" -> "v3.18" */
static char *
alpine_release(const char *distro)
{
	const char *d = distro;
	const char *dot;
	size_t n;

	if (strncasecmp(d, "alpine-", 7) == 0)
		d += 7;
	if (*d == 'v')
		d++;
	dot = strchr(d, '.');
	n = dot ? (size_t)(dot - d) + 1 + strcspn(dot + 1, ".") : strlen(d);
	return xasprintf("v%.*s", (int)n, d);
}

void
berth_vuln_package_release(berth_vuln_package *p)
{
	if (p == NULL)
		return;
	free((char *)p->ecosystem);
	free((char *)p->name);
	free((char *)p->version);
	free((char *)p->source);
	free((char *)p->purl);
	memset(p, 0, sizeof(*p));
}

static int
bad(berth_error **err, const char *purl, const char *why)
{
	return berth_error_set(err, BERTH_EUSAGE, 0,
			       "invalid purl '%.200s': %s", purl, why);
}

int
berth_vuln_purl_parse(berth_vuln_package *out, const char *purl,
		      berth_error **err)
{
	_cleanup_free_ char *rest = NULL, *type = NULL, *ns = NULL,
			    *name = NULL, *version = NULL, *distro = NULL,
			    *upstream = NULL;
	const char *q = NULL, *slash, *at, *s = purl;
	char *hash, *qm;
	berth_vuln_package p = {0};

	if (strncasecmp(s, "pkg:", 4) != 0)
		return bad(err, purl, "it does not start with 'pkg:'");
	s += 4;
	while (*s == '/')
		s++;
	rest = xstrdup(s);
	if ((hash = strchr(rest, '#')) != NULL)
		*hash = '\0';
	if ((qm = strchr(rest, '?')) != NULL) {
		*qm = '\0';
		q = qm + 1;
	}
	slash = strchr(rest, '/');
	if (slash == NULL || slash == rest)
		return bad(err, purl, "no type");
	type = xstrndup(rest, (size_t)(slash - rest));
	for (char *c = type; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	s = slash + 1;
	at = strrchr(s, '@');
	if (at == NULL || at[1] == '\0')
		return bad(err, purl, "no version");
	if (!(version = decode(at + 1, strlen(at + 1))))
		return bad(err, purl, "a bad %-escape in the version");
	slash = memrchr(s, '/', (size_t)(at - s));
	if (slash) {
		ns = decode(s, (size_t)(slash - s));
		name = decode(slash + 1, (size_t)(at - slash - 1));
	} else {
		name = decode(s, (size_t)(at - s));
	}
	if (!name || *name == '\0' || (slash && !ns))
		return bad(err, purl, "no name, or a bad %-escape in it");
	distro = qualifier(q, "distro");

	if (strcmp(type, "deb") == 0) {
		const char *eco = ns && strcasecmp(ns, "ubuntu") == 0
					  ? "Ubuntu"
					  : "Debian";
		_cleanup_free_ char *rel =
			distro ? debian_release(distro) : NULL;

		p.ecosystem = rel && *rel ? xasprintf("%s:%s", eco, rel)
					  : xstrdup(eco);
		if ((upstream = qualifier(q, "upstream")) != NULL) {
			/* "openssl" or "openssl@3.0.11-1" */
			upstream[strcspn(upstream, "@ ")] = '\0';
			if (*upstream)
				p.source = xstrdup(upstream);
		}
	} else if (strcmp(type, "apk") == 0) {
		_cleanup_free_ char *rel =
			distro ? alpine_release(distro) : NULL;

		p.ecosystem =
			rel ? xasprintf("Alpine:%s", rel) : xstrdup("Alpine");
	} else if (strcmp(type, "pypi") == 0) {
		p.ecosystem = xstrdup("PyPI");
	} else if (strcmp(type, "npm") == 0) {
		p.ecosystem = xstrdup("npm");
		if (ns) {
			char *full = xasprintf("%s/%s", ns, name);

			free(name);
			name = full;
		}
	} else {
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "purl type '%s' is not one berth scans "
				       "(deb, apk, pypi, npm)",
				       type);
	}
	p.name = steal_ptr(&name);
	p.version = steal_ptr(&version);
	p.purl = xstrdup(purl);
	*out = p;
	return 0;
}
