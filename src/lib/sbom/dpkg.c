/*
 * dpkg's database: var/lib/dpkg/status, one deb822 stanza a package, and
 * distroless' var/lib/dpkg/status.d/<name>, the same stanzas one file a
 * package. Only what is installed counts: a stanza whose Status is
 * "deinstall ok config-files" and the like is what dpkg remembers of a
 * removed package.
 */
#include <stdlib.h>
#include <string.h>

#include "sbom/catalog.h"
#include "sbom/fields.h"
#include "util/xalloc.h"

struct stanza {
	berth_sbom_list *out;
	char *name, *version, *arch, *source, *status;
};

static void
set(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = berth_fields_dup(v, n);
}

static void
on_field(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct stanza *s = ud;

	if (berth_fields_is(k, kl, "Package"))
		set(&s->name, v, vl);
	else if (berth_fields_is(k, kl, "Version"))
		set(&s->version, v, vl);
	else if (berth_fields_is(k, kl, "Architecture"))
		set(&s->arch, v, vl);
	else if (berth_fields_is(k, kl, "Source"))
		set(&s->source, v, vl);
	else if (berth_fields_is(k, kl, "Status"))
		set(&s->status, v, vl);
}

/* The last word of "want flag status". */
static bool
installed(const char *status)
{
	const char *w;
	size_t n;

	if (status == NULL)
		return true; /* status.d stanzas may leave it out */
	w = strrchr(status, ' ');
	w = w ? w + 1 : status;
	n = strlen(w);
	return n == 9 && memcmp(w, "installed", 9) == 0;
}

static void
on_end(void *ud)
{
	struct stanza *s = ud;

	if (s->name && s->version && installed(s->status)) {
		berth_sbom_package *p =
			berth_sbom_list_add(s->out, BERTH_SBOM_DEB);
		char *paren;

		p->name = s->name;
		s->name = NULL;
		p->version = s->version;
		s->version = NULL;
		p->arch = s->arch;
		s->arch = NULL;
		/* "Source: openssl (3.0.11-1)" when the versions differ */
		if (s->source && (paren = strchr(s->source, '(')) != NULL) {
			char *close = strchr(paren, ')');
			char *e = paren;

			while (e > s->source && e[-1] == ' ')
				e--;
			if (close && close > paren + 1)
				p->source_version = xstrndup(
					paren + 1, (size_t)(close - paren - 1));
			p->source = e > s->source
					    ? xstrndup(s->source,
						       (size_t)(e - s->source))
					    : NULL;
		} else if (s->source) {
			p->source = s->source;
			s->source = NULL;
		}
	}
	free(s->name);
	free(s->version);
	free(s->arch);
	free(s->source);
	free(s->status);
	s->name = s->version = s->arch = s->source = s->status = NULL;
}

void
berth_sbom_parse_dpkg(berth_sbom_list *out, const char *p, size_t len)
{
	struct stanza s = {out, NULL, NULL, NULL, NULL, NULL};
	berth_fields_cb cb = {on_field, on_end, &s};

	berth_fields_walk(p, len, false, &cb);
}
