/*
 * The require-signatures rules of the config file (sigrules.h): parsed
 * and their keys loaded whole, so that a reload takes all of them or none.
 */
#include "server/access/sigrules.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/access/policy.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define PATTERN_MAX 512
#define KEYS_MAX 64
#define KEY_FILE_MAX ((size_t)64 << 10)

struct srv_sigrules {
	atomic_int refs;
	srv_sigrule *v;
	size_t n;
};

static void
rule_release(srv_sigrule *q)
{
	berth_strv_free(q->repositories);
	for (size_t i = 0; i < q->n_keys; i++)
		berth_sign_key_free(q->keys[i]);
	free(q->keys);
	free(q->key_names);
	free(q->name);
}

srv_sigrules *
srv_sigrules_ref(srv_sigrules *r)
{
	if (r)
		atomic_fetch_add(&r->refs, 1);
	return r;
}

void
srv_sigrules_put(srv_sigrules *r)
{
	if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_release(&r->v[i]);
	free(r->v);
	free(r);
}

static int
bad(berth_error **err, const char *where, const char *what)
{
	berth_error_set(err, BERTH_EUSAGE, 0, "require-signatures%s %s", where,
			what);
	berth_error_hint(err, "see \"Signed images only\" in docs/server.md: "
			      "a list of {\"repositories\": PATTERN or "
			      "[PATTERN...], \"keys\": [PUBLIC KEY FILE...]}");
	return BERTH_EUSAGE;
}

static bool
pattern_ok(json_t *v)
{
	const char *s = json_string_value(v);

	return s && s[0] && strlen(s) <= PATTERN_MAX;
}

static int
parse_repositories(srv_sigrule *q, json_t *v, const char *where,
		   berth_error **err)
{
	json_t *e;
	size_t i;

	if (pattern_ok(v)) {
		q->repositories = xcalloc(2, sizeof(char *));
		q->repositories[0] = xstrdup(json_string_value(v));
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad(err, where,
			   "\"repositories\" must be a pattern or a non-empty "
			   "list of patterns");
	q->repositories = xcalloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, e)
	{
		if (!pattern_ok(e))
			return bad(err, where,
				   "\"repositories\" must be a pattern or a "
				   "non-empty list of patterns");
		q->repositories[i] = xstrdup(json_string_value(e));
	}
	return 0;
}

static int
load_key(berth_sign_key **out, const char *file, const char *where,
	 berth_error **err)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int r;

	if ((r = berth_file_read(&pem, &len, file, KEY_FILE_MAX, err)) < 0 ||
	    (r = berth_key_load_public(out, pem, len, file, err)) < 0)
		return berth_error_wrap(err, BERTH_EUSAGE,
					"require-signatures%s: key file '%s'",
					where, file);
	return 0;
}

static int
parse_keys(srv_sigrule *q, json_t *v, const char *where, berth_error **err)
{
	berth_buf names = BERTH_BUF_INIT;
	json_t *e;
	size_t i;
	int r;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > KEYS_MAX)
		return bad(err, where,
			   "\"keys\" must be a list of 1 to 64 public key "
			   "files");
	q->keys = xcalloc(json_array_size(v), sizeof(*q->keys));
	json_array_foreach(v, i, e)
	{
		const char *file = json_string_value(e);

		if (file == NULL || file[0] == '\0') {
			berth_buf_release(&names);
			return bad(err, where,
				   "\"keys\" must be a list of public key "
				   "files");
		}
		if ((r = load_key(&q->keys[i], file, where, err)) < 0) {
			berth_buf_release(&names);
			return r;
		}
		q->n_keys++;
		berth_buf_printf(&names, NULL, "%s%s", i ? ", " : "", file);
	}
	q->key_names = berth_buf_detach(&names);
	return 0;
}

static int
parse_rule(srv_sigrule *q, json_t *j, size_t idx, berth_error **err)
{
	_cleanup_free_ char *where = xasprintf("[%zu]", idx);
	const char *key;
	json_t *v;
	int r;

	q->name = xasprintf("require-signatures[%zu]", idx);
	if (!json_is_object(j))
		return bad(err, where, "must be an object");
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "repositories") != 0 &&
		    strcmp(key, "keys") != 0) {
			_cleanup_free_ char *what =
				xasprintf("has an unknown key '%s'", key);

			return bad(err, where, what);
		}
	}
	if ((r = parse_repositories(q, json_object_get(j, "repositories"),
				    where, err)) < 0)
		return r;
	return parse_keys(q, json_object_get(j, "keys"), where, err);
}

int
srv_sigrules_parse(srv_sigrules **out, const char *json, berth_error **err)
{
	json_auto_t *root = NULL;
	srv_sigrules *rules;
	json_t *j;
	size_t i;
	int r;

	*out = NULL;
	if (json == NULL)
		return 0;
	root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(root))
		return bad(err, "", "must be a list of rules");
	rules = xcalloc(1, sizeof(*rules));
	atomic_init(&rules->refs, 1);
	rules->v = xcalloc(json_array_size(root) + 1, sizeof(*rules->v));
	json_array_foreach(root, i, j)
	{
		r = parse_rule(&rules->v[i], j, i, err);
		rules->n++;
		if (r < 0) {
			srv_sigrules_put(rules);
			return r;
		}
	}
	*out = rules;
	return 0;
}

const srv_sigrule *
srv_sigrules_for(const srv_sigrules *r, const char *repo, const char **pattern)
{
	for (size_t i = 0; r && i < r->n; i++)
		for (char **p = r->v[i].repositories; *p; p++)
			if (berth_pattern_match(*p, repo)) {
				if (pattern)
					*pattern = *p;
				return &r->v[i];
			}
	return NULL;
}

srv_sigrules *
srv_sigrules_current(srv *s)
{
	srv_sigrules *r;

	pthread_mutex_lock(&s->sigrules_mu);
	r = srv_sigrules_ref(s->sigrules);
	pthread_mutex_unlock(&s->sigrules_mu);
	return r;
}

void
srv_sigrules_apply(srv *s, srv_sigrules *rules)
{
	srv_sigrules *old;

	pthread_mutex_lock(&s->sigrules_mu);
	old = s->sigrules;
	s->sigrules = rules;
	pthread_mutex_unlock(&s->sigrules_mu);
	srv_sigrules_put(old);
}
