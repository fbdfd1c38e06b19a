/*
 * One OSV advisory (https://ossf.github.io/osv-schema/) into the database:
 * its id, aliases, summary and severity, and each affected[] entry of an
 * ecosystem berth orders, with its ECOSYSTEM and SEMVER ranges and its
 * versions[] list, under the (ecosystem, name) key it is looked up by.
 * Everything kept is copied into the database's arena.
 */
#include <jansson.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "vuln/vuln_int.h"

static const char *
str_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A severity word of database_specific / ecosystem_specific, if any. */
static berth_vuln_severity
word_of(const json_t *o)
{
	const char *w = str_of(o, "severity");
	berth_vuln_severity s = BERTH_VULN_SEV_UNKNOWN;

	if (w && berth_vuln_severity_parse(&s, w, NULL) < 0)
		s = BERTH_VULN_SEV_UNKNOWN;
	return s;
}

static const char *
join_aliases(berth_arena *a, const json_t *arr)
{
	berth_buf b = BERTH_BUF_INIT;
	size_t i;
	json_t *v;
	char *out;

	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			continue;
		if (b.len > 0 && berth_buf_puts(&b, ", ", NULL) < 0)
			break;
		if (berth_buf_puts(&b, json_string_value(v), NULL) < 0)
			break;
		if (b.len > 1024) /* a list that long is not for a table */
			break;
	}
	out = b.len ? berth_arena_strndup(a, b.ptr, b.len) : NULL;
	berth_buf_release(&b);
	return out;
}

static void
severity_of(vuln_advisory *adv, const json_t *doc)
{
	size_t i;
	json_t *s;

	adv->score = -1;
	json_array_foreach(json_object_get(doc, "severity"), i, s)
	{
		const char *type = str_of(s, "type"), *vec = str_of(s, "score");
		double sc;

		if (type && vec && strcmp(type, "CVSS_V3") == 0 &&
		    berth_cvss3_score(&sc, vec, NULL) == 0 && sc > adv->score)
			adv->score = sc;
	}
	if (adv->score >= 0)
		adv->severity = berth_vuln_severity_of_score(adv->score);
	else
		adv->severity =
			word_of(json_object_get(doc, "database_specific"));
}

static const char *const event_keys[] = {
	[VULN_EV_INTRODUCED] = "introduced",
	[VULN_EV_FIXED] = "fixed",
	[VULN_EV_LAST_AFFECTED] = "last_affected",
	[VULN_EV_LIMIT] = "limit",
};

/* The ECOSYSTEM and SEMVER ranges of an affected entry (GIT ones order
 * commits, not versions: left out). */
static void
ranges_of(berth_arena *a, vuln_affected *aff, const json_t *ranges)
{
	size_t i, n = 0;
	json_t *r;

	if (!json_is_array(ranges) || json_array_size(ranges) == 0)
		return;
	aff->ranges = berth_arena_alloc(a, json_array_size(ranges) *
						   sizeof(*aff->ranges));
	json_array_foreach(ranges, i, r)
	{
		const char *type = str_of(r, "type");
		const json_t *evs = json_object_get(r, "events");
		vuln_range *vr = &aff->ranges[n];
		size_t j, k = 0;
		json_t *ev;

		if (!type || !json_is_array(evs) || json_array_size(evs) == 0)
			continue;
		if (strcmp(type, "SEMVER") == 0)
			vr->semver = 1;
		else if (strcmp(type, "ECOSYSTEM") != 0)
			continue;
		vr->events = berth_arena_alloc(a, json_array_size(evs) *
							  sizeof(*vr->events));
		json_array_foreach(evs, j, ev)
		{
			for (unsigned kind = 0; kind < 4; kind++) {
				const char *v = str_of(ev, event_keys[kind]);

				if (v == NULL)
					continue;
				vr->events[k].kind = (uint8_t)kind;
				vr->events[k].version =
					berth_arena_strdup(a, v);
				k++;
				break;
			}
		}
		vr->n_events = (uint32_t)k;
		if (k > 0)
			n++;
	}
	aff->n_ranges = (uint32_t)n;
}

static void
versions_of(berth_arena *a, vuln_affected *aff, const json_t *versions)
{
	size_t i, n = 0;
	json_t *v;

	if (!json_is_array(versions) || json_array_size(versions) == 0)
		return;
	aff->versions = berth_arena_alloc(a, json_array_size(versions) *
						     sizeof(*aff->versions));
	json_array_foreach(versions, i, v)
	{
		if (json_is_string(v))
			aff->versions[n++] =
				berth_arena_strdup(a, json_string_value(v));
	}
	aff->n_versions = (uint32_t)n;
}

static void
index_affected(berth_vuln_db *db, vuln_affected *aff, const char *eco_name,
	       berth_vuln_ecosystem eco, const char *name)
{
	_cleanup_free_ char *key = vuln_key(eco_name, eco, name);
	vuln_affected *head = berth_hmap_get(db->index, key);

	if (head == NULL) {
		berth_hmap_put(db->index, key, aff);
	} else {
		/* the table holds the first; later ones go behind it */
		aff->next = head->next;
		head->next = aff;
	}
}

int
vuln_osv_add(berth_vuln_db *db, const char *json, size_t len,
	     const char *origin, berth_error **err)
{
	json_auto_t *doc = NULL;
	json_error_t jerr;
	const char *id;
	vuln_advisory *adv;
	size_t i;
	json_t *af;

	doc = json_loadb(json, len, 0, &jerr);
	if (doc == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "'%s' is not valid JSON: %s (line %d)",
				       origin, why, jerr.line);
	}
	if (!json_is_object(doc) || (id = str_of(doc, "id")) == NULL ||
	    *id == '\0')
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "'%s' is not an OSV advisory: no \"id\"",
				       origin);
	if (!json_is_array(json_object_get(doc, "affected")) &&
	    json_object_get(doc, "affected") != NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "'%s': \"affected\" is not a list",
				       origin);
	/* a withdrawn advisory no longer applies (the schema's rule) */
	if (str_of(doc, "withdrawn"))
		return 0;
	adv = berth_arena_alloc(&db->arena, sizeof(*adv));
	adv->id = berth_arena_strdup(&db->arena, id);
	adv->aliases =
		join_aliases(&db->arena, json_object_get(doc, "aliases"));
	adv->summary = berth_arena_strdup(&db->arena, str_of(doc, "summary"));
	severity_of(adv, doc);
	db->advisories++;

	json_array_foreach(json_object_get(doc, "affected"), i, af)
	{
		const json_t *pkg = json_object_get(af, "package");
		const char *eco_name = str_of(pkg, "ecosystem"),
			   *name = str_of(pkg, "name"), *release;
		berth_vuln_ecosystem eco;
		vuln_affected *aff;

		if (!eco_name || !name ||
		    berth_vuln_ecosystem_parse(&eco, &release, eco_name, NULL) <
			    0)
			continue;
		aff = berth_arena_alloc(&db->arena, sizeof(*aff));
		aff->adv = adv;
		aff->release = berth_arena_strdup(&db->arena, release);
		ranges_of(&db->arena, aff, json_object_get(af, "ranges"));
		versions_of(&db->arena, aff, json_object_get(af, "versions"));
		if (aff->n_ranges == 0 && aff->n_versions == 0)
			continue; /* nothing it could match */
		aff->severity =
			word_of(json_object_get(af, "ecosystem_specific"));
		if (aff->severity == BERTH_VULN_SEV_UNKNOWN)
			aff->severity = word_of(
				json_object_get(af, "database_specific"));
		index_affected(db, aff, eco_name, eco, name);
	}
	return 0;
}
