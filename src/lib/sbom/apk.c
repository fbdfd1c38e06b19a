/*
 * apk's installed database, lib/apk/db/installed: a stanza a package of
 * one-letter keys (apk-tools' "installed database" format): P name,
 * V version, A architecture, L licence, o origin (the source package).
 */
#include <stdlib.h>

#include "sbom/catalog.h"
#include "sbom/fields.h"

struct stanza {
	berth_sbom_list *out;
	char *f[5]; /* P V A L o */
};

static const char keys[] = "PVALo";

static void
on_field(void *ud, const char *k, size_t kl, const char *v, size_t vl)
{
	struct stanza *s = ud;

	if (kl != 1)
		return;
	for (int i = 0; keys[i]; i++)
		if (k[0] == keys[i]) {
			free(s->f[i]);
			s->f[i] = berth_fields_dup(v, vl);
		}
}

static void
on_end(void *ud)
{
	struct stanza *s = ud;

	if (s->f[0] && s->f[1]) {
		berth_sbom_package *p =
			berth_sbom_list_add(s->out, BERTH_SBOM_APK);

		p->name = s->f[0];
		p->version = s->f[1];
		p->arch = s->f[2];
		p->license = s->f[3];
		p->source = s->f[4];
	} else
		for (int i = 0; i < 5; i++)
			free(s->f[i]);
	for (int i = 0; i < 5; i++)
		s->f[i] = NULL;
}

void
berth_sbom_parse_apk(berth_sbom_list *out, const char *p, size_t len)
{
	struct stanza s = {out, {NULL}};
	berth_fields_cb cb = {on_field, on_end, &s};

	berth_fields_walk(p, len, false, &cb);
}
