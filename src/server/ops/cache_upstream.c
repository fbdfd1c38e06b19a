/*
 * The "upstreams" setting: a JSON array of upstream registries, each
 * checked and given its libberth registry client here, and the one rule
 * of which upstream serves which repository.
 */
#include "server/ops/cache.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "berth/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* The keys an entry may have; anything else is a typo to report. */
static const char *const keys[] = {
	"url",	   "mirror",   "prefix",  "username", "password", "token",
	"ca-file", "insecure", "tag-ttl", "timeout",  "retries",
};

static void
upstream_release(srv_upstream *u)
{
	free(u->url);
	free(u->prefix);
	berth_credentials_release(&u->creds);
	berth_registry_free(u->reg);
}

srv_upstreams *
srv_upstreams_ref(srv_upstreams *u)
{
	if (u)
		atomic_fetch_add(&u->refs, 1);
	return u;
}

void
srv_upstreams_put(srv_upstreams *u)
{
	if (u == NULL || atomic_fetch_sub(&u->refs, 1) != 1)
		return;
	for (size_t i = 0; i < u->n; i++)
		upstream_release(&u->v[i]);
	free(u->v);
	free(u);
}

static void
upstreams_putp(srv_upstreams **u)
{
	srv_upstreams_put(*u);
}

static char *
dup_cred(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The registry client's credentials callback: the entry's own. */
static int
creds_of(void *ud, const char *host, berth_credentials *out, berth_error **err)
{
	const srv_upstream *u = ud;

	(void)host;
	(void)err;
	out->username = dup_cred(u->creds.username);
	out->password = dup_cred(u->creds.password);
	out->identity_token = dup_cred(u->creds.identity_token);
	return 0;
}

static int
bad(berth_error **err, size_t i, const char *what)
{
	berth_error_set(err, BERTH_EUSAGE, 0, "upstreams[%zu]: %s", i, what);
	berth_error_hint(err, "see 'Pull-through cache' in docs/server.md");
	return BERTH_EUSAGE;
}

static int
get_str(char **out, json_t *e, const char *key, size_t i, berth_error **err)
{
	json_t *v = json_object_get(e, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		_cleanup_free_ char *m =
			xasprintf("'%s' must be a non-empty string", key);

		return bad(err, i, m);
	}
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
get_long(long *out, json_t *e, const char *key, long min, long max, size_t i,
	 berth_error **err)
{
	json_t *v = json_object_get(e, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		_cleanup_free_ char *m =
			xasprintf("'%s' must be an integer from %ld to %ld",
				  key, min, max);

		return bad(err, i, m);
	}
	*out = (long)json_integer_value(v);
	return 0;
}

static int
get_bool(bool *out, json_t *e, const char *key, size_t i, berth_error **err)
{
	json_t *v = json_object_get(e, key);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		_cleanup_free_ char *m =
			xasprintf("'%s' must be true or false", key);

		return bad(err, i, m);
	}
	*out = json_is_true(v);
	return 0;
}

/* "http(s)://host[:port]" into its host; false for anything else. */
static bool
url_host(const char *url, char **host, bool *https)
{
	const char *h;

	if (strncmp(url, "https://", 8) == 0)
		*https = true, h = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		*https = false, h = url + 7;
	else
		return false;
	if (*h == '\0' || strcspn(h, "/?#@ ") != strlen(h))
		return false;
	*host = xstrdup(h);
	return true;
}

static int
parse_one(srv_upstream *u, json_t *e, size_t i, berth_error **err)
{
	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	_cleanup_free_ char *host = NULL, *ca = NULL, *url = NULL;
	long timeout = SRV_UPSTREAM_TIMEOUT_DEFAULT, retries = 2;
	bool mirror = false, insecure = false, https = false;
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(e))
		return bad(err, i, "each upstream is a JSON object");
	json_object_foreach(e, key, v)
	{
		size_t k;

		for (k = 0; k < BERTH_ARRAY_SIZE(keys); k++)
			if (strcmp(keys[k], key) == 0)
				break;
		if (k == BERTH_ARRAY_SIZE(keys)) {
			_cleanup_free_ char *m =
				xasprintf("unknown key '%s'", key);

			return bad(err, i, m);
		}
	}
	u->tag_ttl = SRV_UPSTREAM_TTL_DEFAULT;
	u->creds = (berth_credentials)BERTH_CREDENTIALS_INIT;
	if ((r = get_str(&url, e, "url", i, err)) < 0 ||
	    (r = get_str(&u->prefix, e, "prefix", i, err)) < 0 ||
	    (r = get_bool(&mirror, e, "mirror", i, err)) < 0 ||
	    (r = get_str(&u->creds.username, e, "username", i, err)) < 0 ||
	    (r = get_str(&u->creds.password, e, "password", i, err)) < 0 ||
	    (r = get_str(&u->creds.identity_token, e, "token", i, err)) < 0 ||
	    (r = get_str(&ca, e, "ca-file", i, err)) < 0 ||
	    (r = get_bool(&insecure, e, "insecure", i, err)) < 0 ||
	    (r = get_long(&u->tag_ttl, e, "tag-ttl", 0, 366L * 86400, i, err)) <
		    0 ||
	    (r = get_long(&timeout, e, "timeout", 1, 3600, i, err)) < 0 ||
	    (r = get_long(&retries, e, "retries", 0, 10, i, err)) < 0)
		return r;
	if (url == NULL)
		return bad(err, i, "'url' is missing");
	while (strlen(url) > 8 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	if (!url_host(url, &host, &https)) {
		_cleanup_free_ char *m = xasprintf(
			"'url' '%.200s' is not http(s)://HOST[:PORT]", url);

		return bad(err, i, m);
	}
	if (mirror == (u->prefix != NULL))
		return bad(err, i,
			   "give either \"mirror\": true or a \"prefix\"");
	if (u->prefix &&
	    (!berth_ref_name_valid(u->prefix) || strchr(u->prefix, '/'))) {
		_cleanup_free_ char *m =
			xasprintf("'prefix' '%.100s' is not one lowercase name "
				  "component (like 'hub')",
				  u->prefix);

		return bad(err, i, m);
	}
	if ((u->creds.username == NULL) != (u->creds.password == NULL))
		return bad(err, i, "'username' and 'password' go together");
	if (u->creds.identity_token && u->creds.username)
		return bad(err, i,
			   "give 'token' or 'username' and "
			   "'password', not both");
	/* OpenSSL opens it by name, at the first request: a file that is
	 * missing or no regular file is told now. */
	if (ca &&
	    (access(ca, R_OK) < 0 || berth_file_check_regular(ca, NULL) < 0)) {
		_cleanup_free_ char *m =
			xasprintf("'ca-file' '%.200s' cannot be read", ca);

		return bad(err, i, m);
	}
	u->docker_hub = berth_ref_is_docker_hub(host);
	if (strcmp(host, BERTH_DOCKER_HUB) == 0 ||
	    strcmp(host, "index.docker.io") == 0) {
		free(host);
		host = xstrdup(BERTH_DOCKER_HUB_API);
	}
	u->url = xasprintf("%s://%s", https ? "https" : "http", host);
	ro.user_agent = "berth-serve/0.1 (pull-through cache)";
	ro.plain_http = https ? 0 : 1;
	ro.tls_verify_off = insecure;
	ro.ca_file = ca;
	ro.connect_timeout_ms = timeout * 1000;
	ro.credentials = creds_of;
	ro.credentials_ud = u;
	ro.max_retries = retries > 0 ? (int)retries : -1;
	/* A client is waiting: a longer Retry-After is passed on to it. */
	ro.retry_after_max = 1;
	if ((r = berth_registry_new(&u->reg, host, &ro, err)) < 0)
		return berth_error_wrap(err, BERTH_EUSAGE, "upstreams[%zu]", i);
	return 0;
}

int
srv_upstreams_parse(srv_upstreams **out, const char *json, berth_error **err)
{
	_cleanup_(upstreams_putp) srv_upstreams *u = xcalloc(1, sizeof(*u));
	json_auto_t *root = NULL;
	json_error_t jerr;
	int r;

	atomic_init(&u->refs, 1);
	*out = NULL;
	if (json == NULL) {
		*out = steal_ptr(&u);
		return 0;
	}
	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(root)) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"'upstreams' must be a JSON array of objects");
		berth_error_hint(err,
				 "see 'Pull-through cache' in docs/server.md");
		return BERTH_EUSAGE;
	}
	u->v = xcalloc(json_array_size(root) + 1, sizeof(*u->v));
	for (size_t i = 0; i < json_array_size(root); i++) {
		srv_upstream *e = &u->v[i];

		u->n = i + 1; /* released on failure, whatever it holds */
		if ((r = parse_one(e, json_array_get(root, i), i, err)) < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			const srv_upstream *o = &u->v[j];

			if ((e->prefix == NULL && o->prefix == NULL) ||
			    (e->prefix && o->prefix &&
			     strcmp(e->prefix, o->prefix) == 0)) {
				_cleanup_free_ char *m = xasprintf(
					"%s is taken by upstreams[%zu] already",
					e->prefix ? "its prefix"
						  : "the mirror's place",
					j);

				return bad(err, i, m);
			}
		}
		if (e->prefix == NULL)
			u->mirror = e;
	}
	*out = steal_ptr(&u);
	return 0;
}

srv_upstream *
srv_upstreams_route(const srv_upstreams *u, const char *repo, char **up_repo)
{
	srv_upstream *up = NULL;
	const char *rest = repo;

	*up_repo = NULL;
	if (u == NULL || u->n == 0)
		return NULL;
	for (size_t i = 0; i < u->n; i++) {
		size_t n = u->v[i].prefix ? strlen(u->v[i].prefix) : 0;

		if (n && strncmp(repo, u->v[i].prefix, n) == 0 &&
		    repo[n] == '/' && repo[n + 1]) {
			up = &u->v[i];
			rest = repo + n + 1;
			break;
		}
	}
	if (up == NULL)
		up = u->mirror;
	if (up == NULL)
		return NULL;
	/* Docker Hub's official images live under library/. */
	if (up->docker_hub && strchr(rest, '/') == NULL)
		*up_repo = xasprintf("library/%s", rest);
	else
		*up_repo = xstrdup(rest);
	return up;
}
