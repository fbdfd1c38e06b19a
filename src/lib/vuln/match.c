/*
 * Matching packages against the loaded advisories, by OSV's rules: a
 * version is affected by a range when the last event at or below it (in
 * the ecosystem's order) is an `introduced` — a `fixed` at or below it, or
 * a `last_affected` below it, ends the affected stretch — and it is below
 * the range's `limit` when there is one; or when versions[] lists it.
 *
 * Found without sorting the events: the greatest introduced <= v, then
 * whether a fixed or last_affected lies between it and v. Each range costs
 * a linear number of comparisons, so an advisory with 10,000 ranges costs
 * 10,000 times one, never more.
 */
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "vuln/vuln_int.h"

/* a vs b; an event version that does not parse counts as absent */
static bool
cmp(int *out, berth_vuln_ecosystem eco, const char *a, const char *b)
{
	return berth_version_compare(out, eco, a, b, NULL) == 0;
}

/* Whether v is in range r; *fixed is the fix ending that stretch. */
static bool
in_range(const vuln_range *r, berth_vuln_ecosystem eco, const char *v,
	 const char **fixed)
{
	const char *intro = NULL;
	bool any_intro = false, has_limit = false, below_limit = false;
	int c;

	*fixed = NULL;
	if (r->semver)
		eco = BERTH_VULN_ECO_SEMVER;
	if (berth_version_validate(eco, v, NULL) < 0)
		return false;
	for (uint32_t i = 0; i < r->n_events; i++) {
		const vuln_event *e = &r->events[i];

		if (e->kind == VULN_EV_LIMIT) {
			has_limit = true;
			if (cmp(&c, eco, v, e->version) && c < 0)
				below_limit = true;
			continue;
		}
		if (e->kind != VULN_EV_INTRODUCED)
			continue;
		if (strcmp(e->version, "0") == 0) {
			if (!any_intro)
				intro = "0";
			any_intro = true;
			continue;
		}
		if (!cmp(&c, eco, e->version, v) || c > 0)
			continue;
		if (!any_intro || strcmp(intro, "0") == 0 ||
		    (cmp(&c, eco, e->version, intro) && c > 0))
			intro = e->version;
		any_intro = true;
	}
	if (!any_intro || (has_limit && !below_limit))
		return false;
	bool zero = strcmp(intro, "0") == 0;

	for (uint32_t i = 0; i < r->n_events; i++) {
		const vuln_event *e = &r->events[i];
		int cv, ci = 1;

		if (e->kind != VULN_EV_FIXED &&
		    e->kind != VULN_EV_LAST_AFFECTED)
			continue;
		if (!cmp(&cv, eco, e->version, v))
			continue;
		if (!zero && !cmp(&ci, eco, e->version, intro))
			continue;
		if (ci < 0)
			continue; /* ends an earlier stretch */
		if (e->kind == VULN_EV_FIXED && cv <= 0)
			return false;
		if (e->kind == VULN_EV_LAST_AFFECTED && cv < 0)
			return false;
		if (e->kind == VULN_EV_FIXED &&
		    (*fixed == NULL ||
		     (cmp(&c, eco, e->version, *fixed) && c < 0)))
			*fixed = e->version;
	}
	return true;
}

static bool
affects(const vuln_affected *aff, berth_vuln_ecosystem eco, const char *v,
	const char **fixed)
{
	bool hit = false;
	int c;

	*fixed = NULL;
	for (uint32_t i = 0; i < aff->n_versions; i++)
		if (strcmp(aff->versions[i], v) == 0 ||
		    (cmp(&c, eco, aff->versions[i], v) && c == 0)) {
			hit = true;
			break;
		}
	for (uint32_t i = 0; i < aff->n_ranges; i++) {
		const char *f;

		if (!in_range(&aff->ranges[i], eco, v, &f))
			continue;
		if (f && (*fixed == NULL || (cmp(&c, eco, f, *fixed) && c < 0)))
			*fixed = f;
		hit = true;
	}
	return hit;
}

/* The release of an advisory applies to a package's when they are the
 * same, or either is not given; "22.04" also takes Ubuntu's
 * "22.04:LTS". */
static bool
same_release(const char *adv, const char *pkg)
{
	size_t n = strlen(pkg);

	if (*adv == '\0' || *pkg == '\0')
		return true;
	return strncmp(adv, pkg, n) == 0 && (adv[n] == '\0' || adv[n] == ':');
}

typedef struct results {
	berth_vuln_finding *v;
	size_t n, cap, first; /* first: of the current package */
} results;

static void
add(results *res, size_t pkg, const vuln_affected *aff, const char *fixed,
    berth_vuln_ecosystem eco)
{
	const vuln_advisory *adv = aff->adv;
	berth_vuln_finding *f;
	int c;

	for (size_t i = res->first; i < res->n; i++)
		if (strcmp(res->v[i].id, adv->id) == 0) {
			/* one line per advisory: the earliest fix wins */
			f = &res->v[i];
			if (fixed && (f->fixed == NULL ||
				      (cmp(&c, eco, fixed, f->fixed) && c < 0)))
				f->fixed = fixed;
			return;
		}
	if (res->n == res->cap)
		res->v = xreallocarray(res->v, res->cap = res->cap * 2 + 16,
				       sizeof(*res->v));
	f = &res->v[res->n++];
	memset(f, 0, sizeof(*f));
	f->package = pkg;
	f->id = adv->id;
	f->aliases = adv->aliases;
	f->summary = adv->summary;
	f->fixed = fixed;
	f->severity = adv->severity != BERTH_VULN_SEV_UNKNOWN ? adv->severity
							      : aff->severity;
	f->score = adv->score;
}

static void
match_name(results *res, const berth_vuln_db *db, size_t pkg,
	   const char *eco_name, berth_vuln_ecosystem eco, const char *release,
	   const char *name, const char *version)
{
	_cleanup_free_ char *key = vuln_key(eco_name, eco, name);
	const char *fixed;

	for (const vuln_affected *a = berth_hmap_get(db->index, key); a;
	     a = a->next)
		if (same_release(a->release, release) &&
		    affects(a, eco, version, &fixed))
			add(res, pkg, a, fixed, eco);
}

static int
by_package_then_id(const void *x, const void *y)
{
	const berth_vuln_finding *a = x, *b = y;

	if (a->package != b->package)
		return a->package < b->package ? -1 : 1;
	return strcmp(a->id, b->id);
}

int
berth_vuln_match(berth_vuln_finding **out, size_t *n_out,
		 const berth_vuln_db *db, const berth_vuln_package *pkgs,
		 size_t n, berth_error **err)
{
	results res = {0};

	for (size_t i = 0; i < n; i++) {
		const berth_vuln_package *p = &pkgs[i];
		berth_vuln_ecosystem eco;
		const char *release;
		berth_error *e = NULL;

		if (!p->ecosystem || !p->name || !p->version ||
		    berth_vuln_ecosystem_parse(&eco, &release, p->ecosystem,
					       NULL) < 0)
			continue;
		if (berth_version_validate(eco, p->version, &e) < 0) {
			berth_log(BERTH_LOG_WARN, "not matching '%s': %s",
				  p->name, e ? e->msg : "bad version");
			berth_error_free(e);
			continue;
		}
		res.first = res.n;
		match_name(&res, db, i, p->ecosystem, eco, release, p->name,
			   p->version);
		if (p->source && strcmp(p->source, p->name) != 0)
			match_name(&res, db, i, p->ecosystem, eco, release,
				   p->source, p->version);
	}
	if (res.n > 1)
		qsort(res.v, res.n, sizeof(*res.v), by_package_then_id);
	*out = res.v;
	*n_out = res.n;
	(void)err;
	return 0;
}
