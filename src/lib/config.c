#include "berth/config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* The first candidate file that exists; caller frees. */
static char *
config_path(void)
{
	const char *env = getenv("BERTH_CONFIG");
	const char *home = getenv("HOME");
	_cleanup_free_ char *user = NULL;

	if (env && *env)
		return xstrdup(env);
	if (home && *home) {
		user = xasprintf("%s/.config/berth/config.json", home);
		if (access(user, F_OK) == 0)
			return steal_ptr(&user);
	}
	if (access("/etc/berth/config.json", F_OK) == 0)
		return xstrdup("/etc/berth/config.json");
	return NULL;
}

static int
bad_key(berth_error **err, const char *path, const char *key, const char *want)
{
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid configuration '%s': '%s' must be %s", path, key,
			want);
	return berth_error_hint(err, "fix or remove the key in '%s'", path);
}

int
berth_config_load(berth_config *out, berth_error **err)
{
	_cleanup_free_ char *path = config_path();
	json_auto_t *root = NULL;
	json_error_t jerr;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (path == NULL || access(path, F_OK) != 0)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"invalid configuration '%s': line %d: %s", path,
				jerr.line, root ? "not a JSON object" : jerr.text);
		return berth_error_hint(err, "fix the file, or point BERTH_CONFIG "
					     "at another one");
	}
	v = json_object_get(root, "sync");
	if (v && !json_is_boolean(v))
		return bad_key(err, path, "sync", "true or false");
	out->sync = json_is_true(v);
	v = json_object_get(root, "max-concurrent-downloads");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > 64))
		return bad_key(err, path, "max-concurrent-downloads",
			       "a number from 1 to 64");
	out->max_concurrent_downloads = v ? (unsigned)json_integer_value(v) : 0;
	out->path = steal_ptr(&path);
	return 0;
}

void
berth_config_release(berth_config *c)
{
	free(c->path);
	c->path = NULL;
}
