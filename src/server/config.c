#include "server/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

void
berth_serve_config_init(berth_serve_config *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = xstrdup("127.0.0.1:5000");
	c->storage = xstrdup("./registry");
	c->realm = xstrdup("berth");
	c->log_level = xstrdup("info");
	c->access_log = xstrdup("-");
	c->upload_ttl = 24 * 3600;
	c->token_service = xstrdup("berth");
	c->token_issuer = xstrdup("berth");
	c->token_ttl = 300;
	c->refresh_ttl = 30L * 86400;
}

void
berth_serve_config_release(berth_serve_config *c)
{
	free(c->addr);
	free(c->storage);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->htpasswd);
	free(c->realm);
	free(c->log_level);
	free(c->access_log);
	free(c->auth);
	free(c->policy);
	free(c->policy_json);
	free(c->pull_limit);
	free(c->pull_limit_users);
	free(c->audit_log);
	free(c->token_realm);
	free(c->token_service);
	free(c->token_issuer);
	free(c->token_key);
	free(c->token_issuer_keys);
	memset(c, 0, sizeof(*c));
}

static int
set_long(long *dst, const char *key, const char *value, long min, long max,
	 berth_error **err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid value '%s' for '%s' (want "
				       "%ld..%ld)",
				       value, key, min, max);
	*dst = v;
	return 0;
}

int
berth_serve_config_set(berth_serve_config *c, const char *key,
		       const char *value, berth_error **err)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{"addr", offsetof(berth_serve_config, addr)},
		{"storage", offsetof(berth_serve_config, storage)},
		{"tls-cert", offsetof(berth_serve_config, tls_cert)},
		{"tls-key", offsetof(berth_serve_config, tls_key)},
		{"tls-client-ca", offsetof(berth_serve_config, tls_client_ca)},
		{"htpasswd", offsetof(berth_serve_config, htpasswd)},
		{"realm", offsetof(berth_serve_config, realm)},
		{"log-level", offsetof(berth_serve_config, log_level)},
		{"access-log", offsetof(berth_serve_config, access_log)},
		{"auth", offsetof(berth_serve_config, auth)},
		{"policy", offsetof(berth_serve_config, policy)},
		{"pull-limit", offsetof(berth_serve_config, pull_limit)},
		{"audit-log", offsetof(berth_serve_config, audit_log)},
		{"token-realm", offsetof(berth_serve_config, token_realm)},
		{"token-service", offsetof(berth_serve_config, token_service)},
		{"token-issuer", offsetof(berth_serve_config, token_issuer)},
		{"token-key", offsetof(berth_serve_config, token_key)},
		{"token-issuer-keys",
		 offsetof(berth_serve_config, token_issuer_keys)},
	};
	size_t i;

	if (strcmp(key, "threads") == 0)
		return set_long(&c->threads, key, value, 0, 1024, err);
	if (strcmp(key, "upload-ttl") == 0)
		return set_long(&c->upload_ttl, key, value, 60, LONG_MAX, err);
	if (strcmp(key, "rate-limit") == 0)
		return set_long(&c->rate_limit, key, value, 0, 1000000, err);
	if (strcmp(key, "token-ttl") == 0)
		return set_long(&c->token_ttl, key, value, 10, 86400, err);
	if (strcmp(key, "refresh-token-ttl") == 0)
		return set_long(&c->refresh_ttl, key, value, 60, 366L * 86400,
				err);
	if (strcmp(key, "insecure-auth") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			c->insecure_auth = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			c->insecure_auth = 0;
		else
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "invalid value '%s' for '%s' "
					       "(want true or false)",
					       value, key);
		return 0;
	}
	if (strcmp(key, "auth") == 0 && strcmp(value, "none") != 0 &&
	    strcmp(value, "htpasswd") != 0 && strcmp(value, "token") != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid value '%s' for 'auth' (want "
				       "none, htpasswd or token)",
				       value);
	for (i = 0; i < BERTH_ARRAY_SIZE(strs); i++) {
		if (strcmp(key, strs[i].key) == 0) {
			char **dst = (char **)((char *)c + strs[i].off);

			if (value[0] == '\0')
				return berth_error_set(err, BERTH_EUSAGE, 0,
						       "empty value for '%s'",
						       key);
			free(*dst);
			*dst = xstrdup(value);
			return 0;
		}
	}
	berth_error_set(err, BERTH_EUSAGE, 0, "unknown setting '%s'", key);
	berth_error_hint(err, "see 'berth serve --help' for the settings");
	return BERTH_EUSAGE;
}

int
berth_serve_config_load(berth_serve_config *c, const char *path,
			berth_error **err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;
	const char *key;
	json_t *v;
	int r;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "config file '%s': %s (line %d)", path,
				       jerr.text, jerr.line);
	if (!json_is_object(root))
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "config file '%s' is not a JSON object",
				       path);
	json_object_foreach(root, key, v)
	{
		_cleanup_free_ char *s = NULL;

		if (json_is_object(v) &&
		    (strcmp(key, "policy") == 0 ||
		     strcmp(key, "pull-limit-users") == 0)) {
			char **dst = strcmp(key, "policy") == 0
					     ? &c->policy_json
					     : &c->pull_limit_users;

			free(*dst);
			*dst = json_dumps(v, JSON_COMPACT);
			continue;
		}
		if (json_is_boolean(v))
			s = xstrdup(json_is_true(v) ? "true" : "false");
		else if (json_is_string(v))
			s = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			s = xasprintf("%" JSON_INTEGER_FORMAT,
				      json_integer_value(v));
		else
			return berth_error_set(
				err, BERTH_EUSAGE, 0,
				"config file '%s': '%s' must be "
				"a string, a number or a boolean",
				path, key);
		if ((r = berth_serve_config_set(c, key, s, err)) < 0)
			return berth_error_wrap(err, r, "config file '%s'",
						path);
	}
	return 0;
}
