/* berth serve's access policy: see policy.h for the document. */
#include "server/access/policy.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/access/token.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"

#define PATTERN_MAX 512

typedef struct grant {
	char *subject; /* "user:x", "group:x", "anonymous", "authenticated" */
	unsigned actions;
} grant;

typedef struct rule {
	char *pattern;
	grant *grants;
	size_t n;
} rule;

typedef struct group {
	char *name;
	char **members;
	size_t n;
} group;

struct berth_policy {
	rule *rules;
	size_t n_rules;
	group *groups;
	size_t n_groups;
	char **admins; /* subjects */
	size_t n_admins;
	bool users_admin; /* the default policy: every signed-in user is */
	char **catalog;	  /* subjects */
	size_t n_catalog;
	atomic_int extra_refs; /* berth_policy_ref's, beyond the first */
};

berth_policy *
berth_policy_ref(berth_policy *p)
{
	atomic_fetch_add(&p->extra_refs, 1);
	return p;
}

void
berth_policy_free(berth_policy *p)
{
	size_t i, k;

	if (p == NULL || atomic_fetch_sub(&p->extra_refs, 1) > 0)
		return;
	for (i = 0; i < p->n_rules; i++) {
		for (k = 0; k < p->rules[i].n; k++)
			free(p->rules[i].grants[k].subject);
		free(p->rules[i].grants);
		free(p->rules[i].pattern);
	}
	for (i = 0; i < p->n_groups; i++) {
		for (k = 0; k < p->groups[i].n; k++)
			free(p->groups[i].members[k]);
		free(p->groups[i].members);
		free(p->groups[i].name);
	}
	for (i = 0; i < p->n_admins; i++)
		free(p->admins[i]);
	for (i = 0; i < p->n_catalog; i++)
		free(p->catalog[i]);
	free(p->rules);
	free(p->groups);
	free(p->admins);
	free(p->catalog);
	free(p);
}

bool
berth_pattern_match(const char *p, const char *s)
{
	/* Backtracking glob; patterns are short and checked at load. */
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			p += 2;
			for (;;) {
				if (berth_pattern_match(p, s))
					return true;
				if (*s == '\0')
					return false;
				s++;
			}
		}
		if (*p == '*') {
			p++;
			for (;;) {
				if (berth_pattern_match(p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
				s++;
			}
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

/* "alice" -> "user:alice"; the others stay. */
static char *
subject_norm(const char *s)
{
	if (strcmp(s, "anonymous") == 0 || strcmp(s, "authenticated") == 0 ||
	    strncmp(s, "group:", 6) == 0 || strncmp(s, "user:", 5) == 0)
		return xstrdup(s);
	return xasprintf("user:%s", s);
}

static int
string_list(char ***out, size_t *n, json_t *arr, const char *what,
	    const char *key, bool subjects, berth_error **err)
{
	json_t *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "policy '%s': '%s' must be a list of "
				       "names",
				       what, key);
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || s[0] == '\0')
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "policy '%s': '%s' must be a "
					       "list of names",
					       what, key);
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = subjects ? subject_norm(s) : xstrdup(s);
	}
	return 0;
}

static int
parse_rule(berth_policy *p, json_t *jr, const char *what, berth_error **err)
{
	const char *pat = json_string_value(json_object_get(jr, "repository"));
	json_t *jg = json_object_get(jr, "grant"), *acts, *v;
	const char *subj, *key;
	rule *r;
	size_t i;

	json_object_foreach(jr, key, v)
	{
		if (strcmp(key, "repository") != 0 && strcmp(key, "grant") != 0)
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "policy '%s': unknown rule key "
					       "'%s'",
					       what, key);
	}
	if (pat == NULL || pat[0] == '\0' || strlen(pat) > PATTERN_MAX ||
	    !json_is_object(jg))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "policy '%s': a rule needs "
				       "\"repository\" and a \"grant\" object",
				       what);
	p->rules = xreallocarray(p->rules, p->n_rules + 1, sizeof(*p->rules));
	r = &p->rules[p->n_rules++];
	memset(r, 0, sizeof(*r));
	r->pattern = xstrdup(pat);
	json_object_foreach(jg, subj, acts)
	{
		unsigned bits = 0;

		if (!json_is_array(acts))
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "policy '%s': the grant to '%s' "
					       "must be a list of actions",
					       what, subj);
		json_array_foreach(acts, i, v)
		{
			const char *a = json_string_value(v);
			unsigned b = a ? berth_act_parse(a) : 0;

			if (b == 0 || b == BERTH_ACT_CATALOG) {
				berth_error_set(err, BERTH_EUSAGE, 0,
						"policy '%s': unknown action "
						"'%s' for '%s'",
						what, a ? a : "?", pat);
				berth_error_hint(
					err, "actions are pull, push, delete "
					     "and \"*\"; the catalog is the "
					     "top-level \"catalog\" list");
				return BERTH_EUSAGE;
			}
			bits |= b;
		}
		r->grants =
			xreallocarray(r->grants, r->n + 1, sizeof(*r->grants));
		r->grants[r->n].subject = subject_norm(subj);
		r->grants[r->n].actions = bits & ~(unsigned)BERTH_ACT_CATALOG;
		r->n++;
	}
	return 0;
}

int
berth_policy_from_json(berth_policy **out, json_t *root, const char *what,
		       berth_error **err)
{
	berth_policy *p;
	json_t *v, *rules;
	const char *key;
	size_t i;
	int r;

	if (!json_is_object(root))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "policy '%s' is not a JSON object",
				       what);
	p = xcalloc(1, sizeof(*p));
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "groups") != 0 && strcmp(key, "admins") != 0 &&
		    strcmp(key, "catalog") != 0 && strcmp(key, "rules") != 0) {
			berth_policy_free(p);
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "policy '%s': unknown key '%s'",
					       what, key);
		}
	}
	v = json_object_get(root, "groups");
	if (v && !json_is_object(v)) {
		berth_policy_free(p);
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "policy '%s': 'groups' must be an "
				       "object",
				       what);
	}
	if (v) {
		json_t *members;

		json_object_foreach(v, key, members)
		{
			group *g;

			p->groups = xreallocarray(p->groups, p->n_groups + 1,
						  sizeof(*p->groups));
			g = &p->groups[p->n_groups++];
			memset(g, 0, sizeof(*g));
			g->name = xstrdup(key);
			if (members == NULL || !json_is_array(members)) {
				berth_policy_free(p);
				return berth_error_set(err, BERTH_EUSAGE, 0,
						       "policy '%s': group "
						       "'%s' must be a list",
						       what, key);
			}
			if ((r = string_list(&g->members, &g->n, members, what,
					     key, false, err)) < 0) {
				berth_policy_free(p);
				return r;
			}
		}
	}
	rules = json_object_get(root, "rules");
	if (string_list(&p->admins, &p->n_admins,
			json_object_get(root, "admins"), what, "admins", true,
			err) < 0 ||
	    string_list(&p->catalog, &p->n_catalog,
			json_object_get(root, "catalog"), what, "catalog", true,
			err) < 0 ||
	    (rules && !json_is_array(rules) &&
	     berth_error_set(err, BERTH_EUSAGE, 0,
			     "policy '%s': 'rules' must be a list",
			     what) < 0)) {
		berth_policy_free(p);
		return BERTH_EUSAGE;
	}
	json_array_foreach(rules, i, v)
	{
		if (parse_rule(p, v, what, err) < 0) {
			berth_policy_free(p);
			return BERTH_EUSAGE;
		}
	}
	*out = p;
	return 0;
}

int
berth_policy_load(berth_policy **out, const char *path, berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	json_auto_t *root = NULL;
	json_error_t jerr;
	size_t len;

	if (berth_file_read(&text, &len, path, BERTH_CONFIG_FILE_MAX, err) < 0)
		return berth_error_wrap(err, BERTH_EUSAGE, "policy file");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "policy file '%s': %s (line %d)", path,
				       why, jerr.line);
	}
	return berth_policy_from_json(out, root, path, err);
}

berth_policy *
berth_policy_default(void)
{
	berth_policy *p = xcalloc(1, sizeof(*p));

	p->rules = xcalloc(1, sizeof(*p->rules));
	p->n_rules = 1;
	p->rules[0].pattern = xstrdup("**");
	p->rules[0].grants = xcalloc(1, sizeof(grant));
	p->rules[0].grants[0].subject = xstrdup("authenticated");
	p->rules[0].grants[0].actions =
		BERTH_ACT_PULL | BERTH_ACT_PUSH | BERTH_ACT_DELETE;
	p->rules[0].n = 1;
	p->catalog = xcalloc(1, sizeof(char *));
	p->catalog[0] = xstrdup("authenticated");
	p->n_catalog = 1;
	p->users_admin = true;
	return p;
}

static bool
in_group(const berth_policy *p, const char *gname, const char *user)
{
	size_t i, k;

	for (i = 0; i < p->n_groups; i++) {
		if (strcmp(p->groups[i].name, gname) != 0)
			continue;
		for (k = 0; k < p->groups[i].n; k++)
			if (strcmp(p->groups[i].members[k], user) == 0)
				return true;
	}
	return false;
}

/* True when the subject names this caller. */
static bool
is_subject(const berth_policy *p, const char *subj, const char *user)
{
	if (strcmp(subj, "anonymous") == 0)
		return true;
	if (user == NULL)
		return false;
	if (strcmp(subj, "authenticated") == 0)
		return true;
	if (strncmp(subj, "user:", 5) == 0)
		return strcmp(subj + 5, user) == 0;
	if (strncmp(subj, "group:", 6) == 0)
		return in_group(p, subj + 6, user);
	return false;
}

static bool
any_subject(const berth_policy *p, char *const *subjects, size_t n,
	    const char *user)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_subject(p, subjects[i], user))
			return true;
	return false;
}

bool
berth_policy_admin(const berth_policy *p, const char *user)
{
	return user &&
	       (p->users_admin || any_subject(p, p->admins, p->n_admins, user));
}

unsigned
berth_policy_actions(const berth_policy *p, const char *user, const char *repo)
{
	unsigned a = 0;
	size_t i, k;

	if (user && any_subject(p, p->admins, p->n_admins, user))
		return BERTH_ACT_ALL;
	if (repo == NULL)
		return any_subject(p, p->catalog, p->n_catalog, user)
			       ? BERTH_ACT_CATALOG
			       : 0;
	for (i = 0; i < p->n_rules; i++) {
		const rule *r = &p->rules[i];

		if (!berth_pattern_match(r->pattern, repo))
			continue;
		for (k = 0; k < r->n; k++)
			if (is_subject(p, r->grants[k].subject, user))
				a |= r->grants[k].actions;
	}
	return a;
}
