/*
 * Loading the configuration: finding the files, reading daemon.json and
 * berth's file with their keys' meaning, recording every value with where
 * it came from. Matching hosts against it is in config_match.c,
 * credentials in credentials.c, certs.d in certs.c.
 */
#include "berth/config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "berth/log.h"
#include "config/config_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/opts.h"
#include "util/str.h"
#include "util/xalloc.h"

#define BERTH_DAEMON_JSON_DEFAULT "/etc/docker/daemon.json"
#define BERTH_CERTS_D_DEFAULT "/etc/docker/certs.d"
#define BERTH_SYSTEM_CONFIG "/etc/berth/config.json"

void
config_setting_drop(berth_config *c, const char *key)
{
	size_t j = 0;

	for (size_t i = 0; i < c->n_settings; i++) {
		berth_config_setting *s = &c->settings[i];

		if (strcmp(s->key, key) == 0) {
			free(s->key);
			free(s->value);
			free(s->origin);
			continue;
		}
		c->settings[j++] = *s;
	}
	c->n_settings = j;
}

void
config_setting_add(berth_config *c, const char *key, const char *value,
		   const char *origin, bool replace)
{
	berth_config_setting *s;

	/* A later source wins: drop what an earlier one said. */
	if (replace)
		config_setting_drop(c, key);
	c->settings = xreallocarray(c->settings, c->n_settings + 1,
				    sizeof(*c->settings));
	s = &c->settings[c->n_settings++];
	s->key = xstrdup(key);
	s->value = xstrdup(value);
	s->origin = xstrdup(origin);
}

static void
strv_push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* Chooses a path: flag, environment variable, then defaults. */
static char *
pick_path(berth_config *c, const char *key, const char *flag, const char *env,
	  const char *deflt)
{
	const char *e = env ? getenv(env) : NULL;
	_cleanup_free_ char *origin = NULL;
	char *path;

	if (flag && *flag) {
		path = xstrdup(flag);
		origin = xstrdup("flag");
	} else if (e && *e) {
		path = xstrdup(e);
		origin = xasprintf("env %s", env);
	} else {
		path = xstrdup(deflt);
		origin = xstrdup("default");
	}
	config_setting_add(c, key, path, origin, true);
	return path;
}

/*
 * The keys of berth's file, in the order they are applied; those marked
 * `docker` are daemon.json's too. A number's limits are written here once:
 * the check and its error message both come from them, and so do
 * docs/config.md's table (berth _gen config-keys) and the defaults
 * `berth config` shows.
 */
#define KEY(name, type, docker, min, max, deflt, help)                         \
	{                                                                      \
		name, BERTH_CONFIG_KEY_##type, docker, min, max, deflt, help   \
	}
static const berth_config_key config_keys[] = {
	KEY("sync", BOOL, false, 0, 0, "false",
	    "`true`: flush blobs and index.json to disk before publishing "
	    "them"),
	KEY("max-concurrent-downloads", COUNT, true, 1, 64, "3",
	    "blobs pulled at once"),
	KEY("max-concurrent-uploads", COUNT, true, 1, 64, "5",
	    "blobs pushed at once"),
	KEY("insecure-registries", STRINGS, true, 0, 0, NULL,
	    "`host`, `host:port` or a CIDR (`192.168.1.0/24`): HTTPS without "
	    "certificate verification, then plain HTTP"),
	KEY("allow-nondistributable-artifacts", STRINGS, true, 0, 0, NULL,
	    "registries (host[:port] or CIDR) foreign layers are pushed to; "
	    "elsewhere `berth push` leaves them out (\"Skipped foreign "
	    "layer\"), as docker does. `berth pull` from a registry listed "
	    "here fetches an image's foreign layers from their URLs (digest "
	    "checked); from any other it refuses them"),
	KEY("registry-mirrors", STRINGS, true, 0, 0, NULL,
	    "mirrors of Docker Hub (`https://…` or `http://…`, no path), tried "
	    "in order, then Docker Hub"),
	KEY("mirrors", OBJECT, false, 0, 0, NULL,
	    "`{\"REGISTRY\": [\"URL\", …]}`: mirrors of any registry "
	    "(`\"ghcr.io\"`, `\"registry.example.com:5000\"`, "
	    "`\"docker.io\"`)"),
	KEY("registries", OBJECT, false, 0, 0, NULL,
	    "`{\"HOST\": {\"ca-file\": F, \"client-cert\": F, "
	    "\"client-key\": F, \"insecure\": true}}`: one registry's TLS "
	    "files, or TLS without verification"),
	KEY("connect-timeout", SECONDS, false, 0, 3600, "30",
	    "seconds to establish a connection"),
	KEY("read-timeout", SECONDS, false, 0, 3600, "60",
	    "seconds a manifest or blob download may go without receiving "
	    "data, and over which it must average `min-speed`, before it "
	    "fails"),
	KEY("min-speed", COUNT, false, 0, 1L << 30, "1024",
	    "bytes per second a manifest or blob download must average over "
	    "`read-timeout`; a slower one is cut off as too slow (0: only one "
	    "that stalls completely)"),
	KEY("retries", COUNT, false, 0, 10, "3",
	    "how often an idempotent request is retried"),
	KEY("retry-after-max", SECONDS, false, 0, 3600, "10",
	    "longest `Retry-After` (seconds) berth waits for; longer fails at "
	    "once"),
	KEY("partial-max-age", SECONDS, false, 0, 365L * 24 * 3600, "604800",
	    "seconds a partial download is kept for resuming (604800 is a "
	    "week)"),
};
#undef KEY

const berth_config_key *
berth_config_key_at(size_t i)
{
	return i < BERTH_ARRAY_SIZE(config_keys) ? &config_keys[i] : NULL;
}

static const berth_config_key *
config_key_find(const char *key)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(config_keys); i++)
		if (strcmp(config_keys[i].key, key) == 0)
			return &config_keys[i];
	return NULL;
}

char *
config_quote(const char *s)
{
	return berth_str_quote(s, strlen(s), 200);
}

static int
bad_key(berth_error **err, const char *path, const char *key, const char *want)
{
	_cleanup_free_ char *k = config_quote(key);

	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid configuration '%s': '%s' must be %s", path, k,
			want);
	berth_error_hint(err, "fix or remove the key in '%s'", path);
	return BERTH_EUSAGE;
}

static int
load_json(json_t **out, const char *path, const char *env, berth_error **err)
{
	_cleanup_free_ char *text = NULL, *why = NULL;
	json_error_t jerr;
	size_t len;
	int r = berth_file_read(&text, &len, path, BERTH_CONFIG_FILE_MAX, err);

	*out = NULL;
	if (r < 0) {
		berth_error_hint(
			err, "fix the file, or point %s at another one", env);
		return BERTH_EUSAGE;
	}
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(*out))
		return 0;
	why = *out ? xstrdup("not a JSON object") : berth_json_why(&jerr);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid configuration '%s': line %d: %s", path,
			jerr.line, why);
	json_decref(*out);
	*out = NULL;
	berth_error_hint(err, "fix the file, or point %s at another one", env);
	return BERTH_EUSAGE;
}

/* A number within its key's limits; -1 if it is not one. */
static int
get_number(json_t *root, const char *key, const char *path, long *out,
	   berth_config *c)
{
	const berth_config_key *k = config_key_find(key);
	json_t *v = json_object_get(root, key);
	char num[32];

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < k->min ||
	    json_integer_value(v) > k->max)
		return -1;
	*out = (long)json_integer_value(v);
	snprintf(num, sizeof(num), "%ld", *out);
	config_setting_add(c, key, num, path, true);
	return 0;
}

/* bad_key for a number: what it must be, from the key's limits. */
static int
bad_number(berth_error **err, const char *path, const char *key)
{
	const berth_config_key *k = config_key_find(key);
	_cleanup_free_ char *want =
		k->type == BERTH_CONFIG_KEY_SECONDS
			? xasprintf("a number of seconds (%ld to %ld)", k->min,
				    k->max)
			: xasprintf("a number from %ld to %ld", k->min, k->max);

	return bad_key(err, path, key, want);
}

static int
get_count(json_t *root, const char *key, const char *path, unsigned *out,
	  berth_config *c, berth_error **err)
{
	long v = *out;

	if (get_number(root, key, path, &v, c) < 0)
		return bad_number(err, path, key);
	*out = (unsigned)v;
	return 0;
}

static int
get_seconds(json_t *root, const char *key, const char *path, long *out,
	    berth_config *c, berth_error **err)
{
	if (get_number(root, key, path, out, c) < 0)
		return bad_number(err, path, key);
	return 0;
}

/* A list of strings; each is checked by `valid` (NULL: any). */
static int
get_list(json_t *root, const char *key, const char *path, char ***v, size_t *n,
	 berth_config *c,
	 int (*valid)(const char *s, const char *path, berth_error **err),
	 berth_error **err)
{
	json_t *a = json_object_get(root, key), *e;
	size_t i;
	int r;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return bad_key(err, path, key, "a list of strings");
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e))
			return bad_key(err, path, key, "a list of strings");
		if (valid && (r = valid(json_string_value(e), path, err)) < 0)
			return r;
		strv_push(v, n, json_string_value(e));
		config_setting_add(c, key, json_string_value(e), path, false);
	}
	return 0;
}

static int
valid_insecure(const char *s, const char *path, berth_error **err)
{
	_cleanup_free_ char *v = NULL;

	if (strstr(s, "://") == NULL && *s && config_entry_valid(s))
		return 0;
	v = config_quote(s);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid configuration '%s': insecure registry '%s' "
			"must be HOST, HOST:PORT or a CIDR",
			path, v);
	berth_error_hint(err, "write it without a scheme, e.g. "
			      "\"registry.local:5000\" or "
			      "\"10.0.0.0/8\"");
	return BERTH_EUSAGE;
}

static int
valid_mirror(const char *s, const char *path, berth_error **err)
{
	_cleanup_free_ char *v = NULL;

	if (config_mirror_url_valid(s))
		return 0;
	v = config_quote(s);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid configuration '%s': mirror '%s' must be an "
			"http:// or https:// URL without a path",
			path, v);
	berth_error_hint(err, "write it as e.g. "
			      "\"https://mirror.example.com\"");
	return BERTH_EUSAGE;
}

static void
mirrors_drop(berth_config *c, const char *registry)
{
	size_t j = 0;

	for (size_t i = 0; i < c->n_mirrors; i++) {
		if (strcasecmp(c->mirrors[i].registry, registry) == 0) {
			free(c->mirrors[i].registry);
			free(c->mirrors[i].url);
			continue;
		}
		c->mirrors[j++] = c->mirrors[i];
	}
	c->n_mirrors = j;
}

static void
mirror_add(berth_config *c, const char *registry, const char *url,
	   const char *origin)
{
	berth_config_mirror *m;
	_cleanup_free_ char *key = xasprintf("mirrors.%s", registry);
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	c->mirrors = xreallocarray(c->mirrors, c->n_mirrors + 1,
				   sizeof(*c->mirrors));
	m = &c->mirrors[c->n_mirrors++];
	m->registry = xstrdup(registry);
	m->url = xstrndup(url, n);
	config_setting_add(c, key, m->url, origin, false);
}

/* A list of mirror URLs for `registry`, replacing earlier ones. */
static int
mirror_list(berth_config *c, json_t *a, const char *registry, const char *key,
	    const char *path, berth_error **err)
{
	_cleanup_free_ char *skey = xasprintf("mirrors.%s", registry);
	json_t *e;
	size_t i;
	int r;

	if (!json_is_array(a))
		return bad_key(err, path, key, "a list of URLs");
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e))
			return bad_key(err, path, key, "a list of URLs");
		if ((r = valid_mirror(json_string_value(e), path, err)) < 0)
			return r;
	}
	mirrors_drop(c, registry);
	config_setting_drop(c, skey);
	json_array_foreach(a, i, e)
		mirror_add(c, registry, json_string_value(e), path);
	return 0;
}

/* The keys daemon.json and berth's file share. */
static int
load_docker_keys(berth_config *c, json_t *root, const char *path,
		 berth_error **err)
{
	json_t *v;
	int r;

	if (get_count(root, "max-concurrent-downloads", path,
		      &c->max_concurrent_downloads, c, err) < 0 ||
	    get_count(root, "max-concurrent-uploads", path,
		      &c->max_concurrent_uploads, c, err) < 0)
		return BERTH_EUSAGE;
	r = get_list(root, "insecure-registries", path, &c->insecure,
		     &c->n_insecure, c, valid_insecure, err);
	if (r == 0)
		r = get_list(root, "allow-nondistributable-artifacts", path,
			     &c->nondist, &c->n_nondist, c, valid_insecure,
			     err);
	if (r == 0 && (v = json_object_get(root, "registry-mirrors")))
		r = mirror_list(c, v, "docker.io", "registry-mirrors", path,
				err);
	return r;
}

static int
load_host(berth_config *c, const char *host, json_t *o, const char *path,
	  berth_error **err)
{
	static const char *const keys[] = {"ca-file", "client-cert",
					   "client-key"};
	berth_config_host *h;
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return bad_key(err, path, "registries", "an object of objects");
	json_object_foreach(o, k, v)
	{
		bool known = strcmp(k, "insecure") == 0;

		for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
			if (strcmp(k, keys[i]) == 0) {
				known = true;
				if (!json_is_string(v))
					return bad_key(err, path, k,
						       "a file name");
			}
		if (!known) {
			_cleanup_free_ char *qh = config_quote(host);
			_cleanup_free_ char *qk = config_quote(k);

			berth_log(BERTH_LOG_WARN,
				  "'%s': unknown key 'registries.%s.%s' "
				  "ignored",
				  path, qh, qk);
		}
	}
	if ((v = json_object_get(o, "insecure")) && !json_is_boolean(v))
		return bad_key(err, path, "insecure", "true or false");
	c->hosts = xreallocarray(c->hosts, c->n_hosts + 1, sizeof(*c->hosts));
	h = &c->hosts[c->n_hosts++];
	memset(h, 0, sizeof(*h));
	h->host = xstrdup(host);
	h->insecure = json_is_true(json_object_get(o, "insecure"));
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		const char *s = json_string_value(json_object_get(o, keys[i]));
		_cleanup_free_ char *skey = NULL;

		if (s == NULL)
			continue;
		skey = xasprintf("registries.%s.%s", host, keys[i]);
		config_setting_add(c, skey, s, path, true);
		if (i == 0)
			h->ca_file = xstrdup(s);
		else if (i == 1)
			h->client_cert = xstrdup(s);
		else
			h->client_key = xstrdup(s);
	}
	if (h->insecure) {
		_cleanup_free_ char *skey =
			xasprintf("registries.%s.insecure", host);

		config_setting_add(c, skey, "true", path, true);
	}
	return 0;
}

static int
load_daemon_json(berth_config *c, berth_error **err)
{
	json_auto_t *root = NULL;

	if (access(c->daemon_json, F_OK) != 0)
		return 0;
	if (load_json(&root, c->daemon_json, "BERTH_DAEMON_JSON", err) < 0)
		return BERTH_EUSAGE;
	return load_docker_keys(c, root, c->daemon_json, err);
}

static int
load_berth_file(berth_config *c, const char *path, berth_error **err)
{
	json_auto_t *root = NULL;
	long v_long;
	const char *k;
	json_t *v;
	int r;

	if (load_json(&root, path, "BERTH_CONFIG", err) < 0)
		return BERTH_EUSAGE;
	json_object_foreach(root, k, v)
	{
		if (config_key_find(k) == NULL) {
			_cleanup_free_ char *qk = config_quote(k);

			berth_log(BERTH_LOG_WARN,
				  "'%s': unknown key '%s' ignored", path, qk);
		}
	}
	v = json_object_get(root, "sync");
	if (v && !json_is_boolean(v))
		return bad_key(err, path, "sync", "true or false");
	if (v) {
		c->sync = json_is_true(v);
		config_setting_add(c, "sync", c->sync ? "true" : "false", path,
				   true);
	}
	if ((r = load_docker_keys(c, root, path, err)) < 0)
		return r;
	v = json_object_get(root, "mirrors");
	if (v && !json_is_object(v))
		return bad_key(err, path, "mirrors",
			       "an object of registry names and URL lists");
	if (v) {
		json_t *list;

		json_object_foreach(v, k, list)
		{
			r = mirror_list(c, list, k, "mirrors", path, err);
			if (r < 0)
				return r;
		}
	}
	v = json_object_get(root, "registries");
	if (v && !json_is_object(v))
		return bad_key(err, path, "registries", "an object");
	if (v) {
		json_t *o;

		json_object_foreach(v, k, o)
		{
			if ((r = load_host(c, k, o, path, err)) < 0)
				return r;
		}
	}
	v_long = 0;
	if (get_seconds(root, "connect-timeout", path, &v_long, c, err) < 0 ||
	    get_seconds(root, "read-timeout", path, &c->read_timeout, c, err) <
		    0)
		return BERTH_EUSAGE;
	if (v_long > 0)
		c->connect_timeout_ms = v_long * 1000;
	v_long = -1;
	if (get_number(root, "min-speed", path, &v_long, c) < 0)
		return bad_number(err, path, "min-speed");
	if (v_long >= 0)
		c->min_speed = v_long > 0 ? v_long : -1;
	v_long = c->retries;
	if (get_seconds(root, "retries", path, &v_long, c, err) < 0)
		return BERTH_EUSAGE;
	c->retries = (int)v_long;
	if (get_seconds(root, "retry-after-max", path, &c->retry_after_max, c,
			err) < 0 ||
	    get_seconds(root, "partial-max-age", path, &c->partial_max_age, c,
			err) < 0)
		return BERTH_EUSAGE;
	return 0;
}

/* berth's file: flag, environment, then the first default that exists. */
static char *
berth_file_path(berth_config *c, const char *flag)
{
	const char *env = getenv("BERTH_CONFIG");
	const char *home = getenv("HOME");
	_cleanup_free_ char *user = NULL;

	if ((flag && *flag) || (env && *env))
		return pick_path(c, "config-file", flag, "BERTH_CONFIG", "");
	if (home && *home) {
		user = xasprintf("%s/.config/berth/config.json", home);
		if (access(user, F_OK) == 0)
			return pick_path(c, "config-file", NULL, NULL, user);
	}
	return pick_path(c, "config-file", NULL, NULL, BERTH_SYSTEM_CONFIG);
}

/* The defaults `berth config` lists; the others are the transport's. */
static const char *const shown_defaults[] = {
	"max-concurrent-downloads", "max-concurrent-uploads", "retries",
	"retry-after-max", "partial-max-age"};

int
berth_config_load_paths(berth_config *out, const berth_config_paths *paths,
			berth_error **err)
{
	static const berth_config_paths none = BERTH_CONFIG_PATHS_INIT;
	const berth_config_paths *p = paths ? paths : &none;
	const char *home = getenv("HOME");
	_cleanup_free_ char *docker_default = NULL, *berth_path = NULL;
	_cleanup_(berth_config_release) berth_config c = BERTH_CONFIG_INIT;
	int r;

	if (berth_opts_check(out->version, BERTH_CONFIG_VERSION, "berth_config",
			     err) < 0 ||
	    berth_opts_check(p->version, BERTH_CONFIG_PATHS_VERSION,
			     "berth_config_paths", err) < 0)
		return BERTH_EUSAGE;
	c.retries = BERTH_CONFIG_RETRIES_DEFAULT;
	c.retry_after_max = BERTH_CONFIG_RETRY_AFTER_MAX_DEFAULT;
	c.partial_max_age = BERTH_CONFIG_PARTIAL_MAX_AGE_DEFAULT;
	docker_default =
		xasprintf("%s/.docker", home && *home ? home : "/root");
	berth_path = berth_file_path(&c, p->config);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(shown_defaults); i++)
		config_setting_add(&c, shown_defaults[i],
				   config_key_find(shown_defaults[i])->deflt,
				   "default", true);
	c.daemon_json =
		pick_path(&c, "daemon-json", p->daemon_json,
			  "BERTH_DAEMON_JSON", BERTH_DAEMON_JSON_DEFAULT);
	c.docker_config = pick_path(&c, "docker-config", p->docker_config,
				    "DOCKER_CONFIG", docker_default);
	c.certs_d = pick_path(&c, "certs-d", p->certs_d, "BERTH_CERTS_D",
			      BERTH_CERTS_D_DEFAULT);
	if ((r = load_daemon_json(&c, err)) < 0)
		return r;
	if (access(berth_path, F_OK) == 0) {
		if ((r = load_berth_file(&c, berth_path, err)) < 0)
			return r;
		c.path = steal_ptr(&berth_path);
	}
	/* A caller built against version 1 has no room for min_speed. */
	c.version = out->version;
	memcpy(out, &c,
	       out->version >= 2 ? sizeof(c)
				 : offsetof(berth_config, min_speed));
	memset(&c, 0, sizeof(c));
	return 0;
}

int
berth_config_load(berth_config *out, berth_error **err)
{
	return berth_config_load_paths(out, NULL, err);
}

void
berth_config_release(berth_config *c)
{
	free(c->path);
	free(c->daemon_json);
	free(c->docker_config);
	free(c->certs_d);
	for (size_t i = 0; i < c->n_mirrors; i++) {
		free(c->mirrors[i].registry);
		free(c->mirrors[i].url);
	}
	free(c->mirrors);
	berth_strv_free(c->insecure);
	berth_strv_free(c->nondist);
	for (size_t i = 0; i < c->n_hosts; i++) {
		free(c->hosts[i].host);
		free(c->hosts[i].ca_file);
		free(c->hosts[i].client_cert);
		free(c->hosts[i].client_key);
	}
	free(c->hosts);
	for (size_t i = 0; i < c->n_settings; i++) {
		free(c->settings[i].key);
		free(c->settings[i].value);
		free(c->settings[i].origin);
	}
	free(c->settings);
	/* Version 1 of the struct ends before min_speed. */
	{
		unsigned v = c->version;

		memset(c, 0,
		       v >= 2 ? sizeof(*c) : offsetof(berth_config, min_speed));
		c->version = v;
	}
}
