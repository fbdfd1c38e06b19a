#include "sbom/purl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

static void
encode(berth_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char t[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (isalnum(c) || strchr(".-_~:", c) != NULL)
			berth_buf_put(b, &s[i], 1, NULL);
		else
			berth_buf_put(b, t, 3, NULL);
	}
}

char *
berth_purl(const char *type, const char *ns, const char *name,
	   const char *version, const char *const *quals)
{
	berth_buf b;
	char sep = '?';

	/* A purl is as long as its parts, which the catalogers bound. */
	berth_buf_init(&b, (size_t)1 << 30);
	berth_buf_printf(&b, NULL, "pkg:%s/", type);
	while (ns && *ns) {
		const char *slash = strchr(ns, '/');
		size_t n = slash ? (size_t)(slash - ns) : strlen(ns);

		if (n > 0) {
			encode(&b, ns, n);
			berth_buf_puts(&b, "/", NULL);
		}
		ns = slash ? slash + 1 : NULL;
	}
	encode(&b, name, strlen(name));
	if (version && *version) {
		berth_buf_puts(&b, "@", NULL);
		encode(&b, version, strlen(version));
	}
	for (; quals && quals[0]; quals += 2) {
		if (quals[1] == NULL || quals[1][0] == '\0')
			continue;
		berth_buf_put(&b, &sep, 1, NULL);
		berth_buf_puts(&b, quals[0], NULL);
		berth_buf_puts(&b, "=", NULL);
		encode(&b, quals[1], strlen(quals[1]));
		sep = '&';
	}
	return berth_buf_detach(&b);
}

static char *
lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *c = l; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return l;
}

char *
berth_sbom_purl(const berth_sbom_package *p, const char *os_id,
		const char *os_version_id)
{
	char *out, *tmp = NULL, *tmp2 = NULL;
	const char *slash;

	switch (p->type) {
	case BERTH_SBOM_DEB: {
		const char *ns = os_id ? os_id : "debian";
		const char *q[] = {"arch", p->arch, "distro", NULL, NULL};

		if (os_version_id)
			q[3] = tmp = xasprintf("%s-%s", ns, os_version_id);
		tmp2 = lower(ns);
		out = berth_purl("deb", tmp2, p->name, p->version, q);
		break;
	}
	case BERTH_SBOM_APK: {
		const char *q[] = {"arch", p->arch, "distro", os_version_id,
				   NULL};

		tmp2 = lower(os_id ? os_id : "alpine");
		out = berth_purl("apk", tmp2, p->name, p->version, q);
		break;
	}
	case BERTH_SBOM_PYPI:
		/* PURL-TYPES pypi: lowercased, '_' replaced with '-'. */
		tmp = lower(p->name);
		for (char *c = tmp; *c; c++)
			if (*c == '_')
				*c = '-';
		out = berth_purl("pypi", NULL, tmp, p->version, NULL);
		break;
	case BERTH_SBOM_NPM:
		/* "@scope/name": the scope is the namespace. */
		slash = p->name[0] == '@' ? strchr(p->name, '/') : NULL;
		if (slash) {
			tmp = xstrndup(p->name, (size_t)(slash - p->name));
			out = berth_purl("npm", tmp, slash + 1, p->version,
					 NULL);
		} else
			out = berth_purl("npm", NULL, p->name, p->version,
					 NULL);
		break;
	case BERTH_SBOM_GO:
	default:
		/* The module path: its last element is the name. */
		slash = strrchr(p->name, '/');
		if (slash) {
			tmp = xstrndup(p->name, (size_t)(slash - p->name));
			out = berth_purl("golang", tmp, slash + 1, p->version,
					 NULL);
		} else
			out = berth_purl("golang", NULL, p->name, p->version,
					 NULL);
		break;
	}
	free(tmp);
	free(tmp2);
	return out;
}
