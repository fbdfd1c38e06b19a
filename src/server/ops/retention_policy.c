/*
 * The retention rules of the config file (retention.h): parsed and
 * checked whole, so that a reload either takes all of them or none.
 */
#include "server/ops/retention.h"

#include <stdlib.h>
#include <string.h>

#include "server/access/policy.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PATTERN_MAX 512
#define DEFAULT_DELAY_S (24 * 3600)

static void
keep_release(srv_keep_rule *k)
{
	berth_strv_free(k->patterns);
}

void
srv_retention_rules_free(srv_retention_rules *r)
{
	size_t i, k;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		srv_retention_policy *p = &r->policies[i];

		berth_strv_free(p->repositories);
		for (k = 0; k < p->n_keep; k++)
			keep_release(&p->keep[k]);
		free(p->keep);
		free(p->name);
	}
	free(r->policies);
	free(r);
}

static int
bad(berth_error **err, const char *where, const char *what)
{
	if (where[0] == '\0')
		berth_error_set(err, BERTH_EUSAGE, 0, "\"retention\" %s", what);
	else
		berth_error_set(err, BERTH_EUSAGE, 0, "retention: %s %s", where,
				what);
	berth_error_hint(err, "see the Retention section of docs/server.md "
			      "for the keys and their types");
	return BERTH_EUSAGE;
}

/* A non-empty list of non-empty strings into a NULL-terminated vector. */
static int
strings(char ***out, json_t *v, const char *where, berth_error **err)
{
	char **s;
	json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad(err, where, "must be a non-empty list of strings");
	s = xcalloc(json_array_size(v) + 1, sizeof(*s));
	json_array_foreach(v, i, e)
	{
		const char *t = json_string_value(e);

		if (t == NULL || t[0] == '\0' || strlen(t) > PATTERN_MAX) {
			berth_strv_free(s);
			return bad(err, where,
				   "must be a non-empty list of strings");
		}
		s[i] = xstrdup(t);
	}
	*out = s;
	return 0;
}

static int
count(long *out, json_t *v, const char *where, berth_error **err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000000)
		return bad(err, where,
			   "must be a whole number from 0 to 1000000");
	*out = (long)json_integer_value(v);
	return 0;
}

static int
duration(int64_t *out, json_t *v, const char *where, berth_error **err)
{
	int r;

	if (!json_is_string(v))
		return bad(err, where, "must be a duration such as \"30d\"");
	if ((r = berth_duration_parse(json_string_value(v), out, err)) < 0)
		return berth_error_wrap(err, r, "retention: %s", where);
	return 0;
}

static bool
flag(json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

static int
parse_keep(srv_keep_rule *k, json_t *j, const char *where, berth_error **err)
{
	_cleanup_free_ char *at = NULL;
	const char *key;
	json_t *v;
	int r = 0;

	k->pushed_count = k->pulled_count = -1;
	k->pushed_within = k->pulled_within = -1;
	if (!json_is_object(j))
		return bad(err, where, "must be an object");
	json_object_foreach(j, key, v)
	{
		free(at);
		at = xasprintf("%s.%s", where, key);
		if (strcmp(key, "patterns") == 0)
			r = strings(&k->patterns, v, at, err);
		else if (strcmp(key, "mostRecentlyPushedCount") == 0)
			r = count(&k->pushed_count, v, at, err);
		else if (strcmp(key, "mostRecentlyPulledCount") == 0)
			r = count(&k->pulled_count, v, at, err);
		else if (strcmp(key, "pushedWithin") == 0)
			r = duration(&k->pushed_within, v, at, err);
		else if (strcmp(key, "pulledWithin") == 0)
			r = duration(&k->pulled_within, v, at, err);
		else
			r = bad(err, at, "is not a key of a keepTags rule");
		if (r < 0)
			return r;
	}
	return 0;
}

static int
parse_policy(srv_retention_policy *p, json_t *j, size_t idx, berth_error **err)
{
	_cleanup_free_ char *at = NULL;
	const char *key;
	json_t *v, *e;
	size_t i;
	int r = 0;

	p->name = xasprintf("policies[%zu]", idx);
	if (!json_is_object(j))
		return bad(err, p->name, "must be an object");
	json_object_foreach(j, key, v)
	{
		free(at);
		at = xasprintf("%s.%s", p->name, key);
		if (strcmp(key, "repositories") == 0) {
			r = strings(&p->repositories, v, at, err);
		} else if (strcmp(key, "deleteUntagged") == 0) {
			if (!flag(v, &p->delete_untagged))
				r = bad(err, at, "must be true or false");
		} else if (strcmp(key, "deleteReferrers") == 0) {
			if (!flag(v, &p->delete_referrers))
				r = bad(err, at, "must be true or false");
		} else if (strcmp(key, "keepTags") == 0) {
			if (!json_is_array(v))
				return bad(err, at, "must be a list of rules");
			p->keep = xcalloc(json_array_size(v) + 1,
					  sizeof(*p->keep));
			json_array_foreach(v, i, e)
			{
				_cleanup_free_ char *ka =
					xasprintf("%s[%zu]", at, i);

				p->n_keep = i + 1;
				if ((r = parse_keep(&p->keep[i], e, ka, err)) <
				    0)
					return r;
			}
		} else {
			r = bad(err, at, "is not a key of a policy");
		}
		if (r < 0)
			return r;
	}
	if (p->repositories == NULL)
		return bad(err, p->name,
			   "needs \"repositories\": the patterns of the "
			   "repositories it applies to");
	return 0;
}

int
srv_retention_rules_parse(srv_retention_rules **out, const char *json,
			  berth_error **err)
{
	srv_retention_rules *rr = xcalloc(1, sizeof(*rr));
	json_auto_t *root = NULL;
	const char *key;
	json_t *v, *e;
	size_t i;
	int r = 0;

	rr->delay = DEFAULT_DELAY_S;
	root = json ? json_loads(json, 0, NULL) : json_object();
	if (!json_is_object(root)) {
		srv_retention_rules_free(rr);
		return bad(err, "", "must be an object");
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "delay") == 0) {
			r = duration(&rr->delay, v, "delay", err);
		} else if (strcmp(key, "dryRun") == 0) {
			if (!flag(v, &rr->dry_run))
				r = bad(err, "dryRun", "must be true or false");
		} else if (strcmp(key, "policies") == 0) {
			if (!json_is_array(v)) {
				r = bad(err, "policies",
					"must be a list of policies");
				break;
			}
			rr->policies = xcalloc(json_array_size(v) + 1,
					       sizeof(*rr->policies));
			json_array_foreach(v, i, e)
			{
				rr->n = i + 1;
				if ((r = parse_policy(&rr->policies[i], e, i,
						      err)) < 0)
					break;
			}
		} else {
			_cleanup_free_ char *k = xasprintf("'%s'", key);

			r = bad(err, k, "is not a key of \"retention\"");
		}
		if (r < 0)
			break;
	}
	if (r < 0) {
		srv_retention_rules_free(rr);
		return r;
	}
	*out = rr;
	return 0;
}

const srv_retention_policy *
srv_retention_policy_for(const srv_retention_rules *r, const char *repo)
{
	size_t i;

	for (i = 0; r && i < r->n; i++)
		for (char **p = r->policies[i].repositories; p && *p; p++)
			if (berth_pattern_match(*p, repo))
				return &r->policies[i];
	return NULL;
}
