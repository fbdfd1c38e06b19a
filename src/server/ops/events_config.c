/*
 * The `notifications` setting: distribution's `notifications.endpoints[]`
 * as JSON, with its defaults (timeout 1s, threshold 10, backoff 1s), plus
 * what berth adds: `maxbackoff` (the cap of the doubling backoff) and
 * `repositories` (policy patterns an event's repository must match).
 * Durations are distribution's strings ("500ms", "5s", "1m", "2h") or a
 * number of seconds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/access/policy.h"
#include "server/ops/events_int.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/xalloc.h"

#define NAME_MAX_LEN 64
#define DURATION_MAX_MS ((int64_t)24 * 3600 * 1000)

static const char *const actions[] = {SRV_EV_PUSH, SRV_EV_PULL, SRV_EV_MOUNT,
				      SRV_EV_DELETE};

void
ev_endpoint_release(ev_endpoint_cfg *e)
{
	free(e->name);
	free(e->url);
	free(e->url_shown);
	berth_strv_free(e->headers);
	berth_strv_free(e->ignore_media_types);
	berth_strv_free(e->ignore_actions);
	berth_strv_free(e->repositories);
	memset(e, 0, sizeof(*e));
}

void
ev_config_release(ev_config *c)
{
	for (size_t i = 0; i < c->n; i++)
		ev_endpoint_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int
bad(berth_error **err, const char *where, const char *what)
{
	berth_error_set(err, BERTH_EUSAGE, 0, "notifications: %s: %s", where,
			what);
	berth_error_hint(err, "see 'Events' in docs/server.md for the "
			      "endpoint settings");
	return BERTH_EUSAGE;
}

/* "500ms", "1.5s", "2m", "1h" (util/duration.h), or a JSON number of
 * seconds. */
static int
duration_ms(int64_t *out, json_t *v, const char *where, berth_error **err)
{
	int64_t ms = -1;

	if (json_is_number(v)) {
		double x = json_number_value(v) * 1000;

		if (isfinite(x) && x >= 0 && x <= (double)DURATION_MAX_MS)
			ms = (int64_t)(x + 0.5);
	} else if (!json_is_string(v)) {
		return bad(err, where,
			   "a duration is a string such as "
			   "\"500ms\" or a number of seconds");
	} else if (berth_duration_parse_ms(json_string_value(v), &ms, NULL) <
		   0) {
		return bad(err, where,
			   "a duration is a number and a "
			   "unit: ms, s, m or h");
	}
	if (ms < 1 || ms > DURATION_MAX_MS)
		return bad(err, where, "a duration from 1ms to 24h");
	*out = ms;
	return 0;
}

/* An array of strings as a NULL-terminated vector (appended to *out). */
static int
strings(char ***out, json_t *v, const char *where, berth_error **err)
{
	size_t i, n = 0;
	json_t *x;

	if (!json_is_array(v))
		return bad(err, where, "must be an array of strings");
	while (*out && (*out)[n])
		n++;
	*out = xreallocarray(*out, n + json_array_size(v) + 1, sizeof(char *));
	(*out)[n] = NULL;
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || json_string_length(x) == 0)
			return bad(err, where, "must be an array of strings");
		(*out)[n++] = xstrdup(json_string_value(x));
		(*out)[n] = NULL;
	}
	return 0;
}

static bool
header_text_ok(const char *s, bool name)
{
	if (*s == '\0' && name)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    (name && (*s == ':' || *s == ' ')))
			return false;
	return true;
}

/* {"Authorization": ["Bearer x"], "X-A": "b"} as "Name: value" lines. */
static int
headers(ev_endpoint_cfg *e, json_t *v, const char *where, berth_error **err)
{
	size_t n = 0, i;
	const char *k;
	json_t *x, *y;

	if (!json_is_object(v))
		return bad(err, where,
			   "headers must be an object of header "
			   "names to arrays of values");
	json_object_foreach(v, k, x)
	{
		json_auto_t *one = NULL;
		json_t *arr = x;

		if (json_is_string(x)) {
			one = json_pack("[O]", x);
			arr = one;
		}
		if (!json_is_array(arr) || !header_text_ok(k, true))
			return bad(err, where,
				   "headers must be an object of "
				   "header names to arrays of "
				   "values");
		json_array_foreach(arr, i, y)
		{
			if (!json_is_string(y) ||
			    !header_text_ok(json_string_value(y), false))
				return bad(err, where,
					   "a header value must be a string "
					   "without control characters");
			e->headers = xreallocarray(e->headers, n + 2,
						   sizeof(char *));
			e->headers[n++] =
				xasprintf("%s: %s", k, json_string_value(y));
			e->headers[n] = NULL;
		}
	}
	return 0;
}

/* The log never shows a password: "https://u:p@h/x" as "https://h/x". */
static char *
url_without_userinfo(const char *u)
{
	const char *host = strstr(u, "://") + 3;
	const char *at = strchr(host, '@');
	size_t authority = strcspn(host, "/?#");

	if (at == NULL || (size_t)(at - host) >= authority)
		return xstrdup(u);
	return xasprintf("%.*s%s", (int)(host - u), u, at + 1);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == n;
}

static bool
action_ok(const char *a)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(actions); i++)
		if (strcmp(actions[i], a) == 0)
			return true;
	return false;
}

static int
ignore(ev_endpoint_cfg *e, json_t *v, const char *where, berth_error **err)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return bad(err, where,
			   "ignore must be an object with "
			   "mediatypes and actions");
	json_object_foreach(v, k, x)
	{
		int r;

		if (strcmp(k, "mediatypes") == 0)
			r = strings(&e->ignore_media_types, x, where, err);
		else if (strcmp(k, "actions") == 0)
			r = strings(&e->ignore_actions, x, where, err);
		else
			return bad(err, where,
				   "ignore takes mediatypes and actions");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; e->ignore_actions && e->ignore_actions[i]; i++)
		if (!action_ok(e->ignore_actions[i]))
			return bad(err, where,
				   "ignored actions are push, pull, "
				   "mount and delete");
	return 0;
}

/* One endpoint object; *enabled false for "disabled": true. */
static int
endpoint(ev_endpoint_cfg *e, bool *enabled, json_t *o, size_t idx,
	 berth_error **err)
{
	char where[96];
	const char *k;
	json_t *v;
	int r = 0;

	snprintf(where, sizeof(where), "endpoint %zu", idx + 1);
	if (!json_is_object(o))
		return bad(err, where, "each endpoint is an object");
	e->timeout_ms = 1000;
	e->threshold = 10;
	e->backoff_ms = 1000;
	e->max_backoff_ms = 300 * 1000;
	*enabled = true;
	json_object_foreach(o, k, v)
	{
		if (strcmp(k, "name") == 0) {
			if (!json_is_string(v) ||
			    !name_ok(json_string_value(v)))
				return bad(err, where,
					   "name must be 1 to 64 letters, "
					   "digits, '.', '_' or '-'");
			e->name = xstrdup(json_string_value(v));
			snprintf(where, sizeof(where), "endpoint '%s'",
				 e->name);
		} else if (strcmp(k, "url") == 0) {
			const char *u = json_string_value(v);

			if (u == NULL || (strncmp(u, "http://", 7) != 0 &&
					  strncmp(u, "https://", 8) != 0))
				return bad(err, where,
					   "url must be an http:// or "
					   "https:// URL");
			e->url = xstrdup(u);
			e->url_shown = url_without_userinfo(u);
		} else if (strcmp(k, "headers") == 0) {
			r = headers(e, v, where, err);
		} else if (strcmp(k, "timeout") == 0) {
			r = duration_ms(&e->timeout_ms, v, where, err);
		} else if (strcmp(k, "backoff") == 0) {
			r = duration_ms(&e->backoff_ms, v, where, err);
		} else if (strcmp(k, "maxbackoff") == 0) {
			r = duration_ms(&e->max_backoff_ms, v, where, err);
		} else if (strcmp(k, "threshold") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 1000)
				return bad(err, where,
					   "threshold must be 0 to 1000");
			/* 0 is distribution's "default". */
			if (json_integer_value(v) > 0)
				e->threshold = (long)json_integer_value(v);
		} else if (strcmp(k, "ignoredmediatypes") == 0) {
			r = strings(&e->ignore_media_types, v, where, err);
		} else if (strcmp(k, "ignore") == 0) {
			r = ignore(e, v, where, err);
		} else if (strcmp(k, "repositories") == 0) {
			r = strings(&e->repositories, v, where, err);
		} else if (strcmp(k, "disabled") == 0) {
			if (!json_is_boolean(v))
				return bad(err, where,
					   "disabled must be true or false");
			*enabled = !json_is_true(v);
		} else {
			char what[160];

			snprintf(what, sizeof(what), "unknown key '%.64s'", k);
			return bad(err, where, what);
		}
		if (r < 0)
			return r;
	}
	if (e->name == NULL || e->url == NULL)
		return bad(err, where, "an endpoint needs a name and a url");
	if (e->max_backoff_ms < e->backoff_ms)
		e->max_backoff_ms = e->backoff_ms;
	return 0;
}

int
ev_config_parse(ev_config *out, const char *text, berth_error **err)
{
	json_auto_t *root = NULL;
	ev_config c = {0};
	json_t *eps;
	const char *k;
	json_t *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return 0;
	root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root))
		return bad(err, "setting", "must be an object with endpoints");
	json_object_foreach(root, k, v) if (strcmp(k, "endpoints") != 0)
	{
		char what[160];

		snprintf(what, sizeof(what),
			 "unknown key '%.64s' (it takes endpoints)", k);
		return bad(err, "setting", what);
	}
	eps = json_object_get(root, "endpoints");
	if (eps == NULL)
		return 0;
	if (!json_is_array(eps))
		return bad(err, "endpoints", "must be an array of objects");
	c.v = xcalloc(json_array_size(eps) + 1, sizeof(*c.v));
	json_array_foreach(eps, i, v)
	{
		ev_endpoint_cfg e = {0};
		bool enabled;

		if (endpoint(&e, &enabled, v, i, err) < 0) {
			ev_endpoint_release(&e);
			ev_config_release(&c);
			return BERTH_EUSAGE;
		}
		for (size_t j = 0; j < c.n; j++)
			if (strcmp(c.v[j].name, e.name) == 0) {
				char what[128];

				snprintf(what, sizeof(what),
					 "two endpoints are named '%s'",
					 e.name);
				ev_endpoint_release(&e);
				ev_config_release(&c);
				return bad(err, "endpoints", what);
			}
		if (enabled)
			c.v[c.n++] = e;
		else
			ev_endpoint_release(&e);
	}
	*out = c;
	return 0;
}

static bool
in(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool
ev_endpoint_wants(const ev_endpoint_cfg *e, const srv_event *ev)
{
	bool repo_ok = e->repositories == NULL;

	if (in(e->ignore_actions, ev->action))
		return false;
	if (ev->media_type && in(e->ignore_media_types, ev->media_type))
		return false;
	for (size_t i = 0; !repo_ok && e->repositories[i]; i++)
		repo_ok =
			ev->repository &&
			berth_pattern_match(e->repositories[i], ev->repository);
	return repo_ok;
}
