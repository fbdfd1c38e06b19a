#include "sbom/catalog.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

berth_sbom_package *
berth_sbom_list_add(berth_sbom_list *l, berth_sbom_type t)
{
	berth_sbom_package *p;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->type = t;
	return p;
}

void
berth_sbom_list_move(berth_sbom_list *to, berth_sbom_list *from)
{
	for (size_t i = 0; i < from->n; i++)
		*berth_sbom_list_add(to, from->v[i].type) = from->v[i];
	free(from->v);
	memset(from, 0, sizeof(*from));
}

void
berth_sbom_package_release(berth_sbom_package *p)
{
	free(p->name);
	free(p->version);
	free(p->source);
	free(p->source_version);
	free(p->license);
	free(p->arch);
	free(p->purl);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

void
berth_sbom_list_release(berth_sbom_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		berth_sbom_package_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
