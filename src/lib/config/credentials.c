/*
 * Credentials in Docker's config.json: `auths` (base64 "user:password",
 * identitytoken), `credsStore` and `credHelpers`, read and written the way
 * docker does, so docker, skopeo and podman share them with berth.
 */
#include "berth/config.h"
#include "berth/log.h"
#include "berth/ref.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "config/config_int.h"
#include "config/cred_helper.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/opts.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

char *
berth_config_auth_key(const char *host)
{
	return xstrdup(berth_ref_is_docker_hub(host) ? DOCKER_HUB_KEY : host);
}

/* docker's ConvertToHostname: drop the scheme and any path. */
static char *
key_hostname(const char *key)
{
	const char *p = key;

	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	return xstrndup(p, strcspn(p, "/"));
}

static bool
key_matches(const char *key, const char *host)
{
	_cleanup_free_ char *h = key_hostname(key);

	if (berth_ref_is_docker_hub(host))
		return berth_ref_is_docker_hub(h);
	return strcasecmp(h, host) == 0;
}

static char *
config_json_path(const berth_config *c)
{
	return xasprintf("%s/config.json", c->docker_config);
}

/* config.json, or an empty object when it does not exist. */
static int
load_file(const berth_config *c, json_t **out, berth_error **err)
{
	_cleanup_free_ char *path = config_json_path(c);
	_cleanup_free_ char *text = NULL, *why = NULL;
	berth_error *e = NULL;
	json_error_t jerr;
	size_t len;
	int r = berth_file_read(&text, &len, path, BERTH_CONFIG_FILE_MAX, &e);

	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		*out = json_object();
		return 0;
	}
	if (r < 0) {
		berth_error_hint(&e, "fix the file, or point DOCKER_CONFIG at "
				     "another directory");
		return berth_error_move(err, &e, BERTH_EUSAGE);
	}
	*out = json_loadb(text, len, 0, &jerr);
	if (json_is_object(*out))
		return 0;
	json_decref(*out);
	*out = NULL;
	why = berth_json_why(&jerr);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid docker configuration '%s': line %d: %s", path,
			jerr.line, why);
	berth_error_hint(err, "fix the file, or point DOCKER_CONFIG "
			      "at another directory");
	return BERTH_EUSAGE;
}

/* The helper for `host`: credHelpers[host], else credsStore, else NULL. */
static const char *
helper_for(json_t *root, const char *host)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *k;
	json_t *v;

	json_object_foreach(helpers, k, v)
	{
		if (json_is_string(v) && key_matches(k, host))
			return json_string_value(v);
	}
	v = json_object_get(root, "credsStore");
	return json_is_string(v) && json_string_length(v) ? json_string_value(v)
							  : NULL;
}

/* base64 "user:password" into *c. */
static int
decode_auth(const char *b64, const char *path, const char *key,
	    berth_credentials *c, berth_error **err)
{
	size_t len = strlen(b64), pad = 0;
	_cleanup_free_ unsigned char *buf = xmalloc(len / 4 * 3 + 4);
	_cleanup_free_ char *qkey = NULL;
	int n;
	char *colon;

	if (len % 4 == 0 && len >= 1 && b64[len - 1] == '=')
		pad = len >= 2 && b64[len - 2] == '=' ? 2 : 1;
	n = len ? EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len)
		: 0;
	if (n < 0 || (size_t)n < pad)
		goto bad;
	n -= (int)pad;
	buf[n] = '\0';
	colon = memchr(buf, ':', (size_t)n);
	if (colon == NULL || strlen((char *)buf) != (size_t)n)
		goto bad;
	c->username = xstrndup((char *)buf, (size_t)(colon - (char *)buf));
	c->password = xstrdup(colon + 1);
	explicit_bzero(buf, (size_t)n);
	return 0;
bad:
	qkey = config_quote(key);
	berth_error_set(err, BERTH_EUSAGE, 0,
			"invalid docker configuration '%s': the 'auth' of "
			"'%s' is not base64 of user:password",
			path, qkey);
	berth_error_hint(err, "run 'berth login %s' again", qkey);
	return BERTH_EUSAGE;
}

/* Once a process: config.json holds a password others may read. */
static void
warn_if_readable(const char *path)
{
	static atomic_bool warned;
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) &&
	    !atomic_exchange(&warned, true))
		berth_log(BERTH_LOG_WARN,
			  "'%s' holds credentials and other users can read "
			  "it: run 'chmod 600 %s'",
			  path, path);
}

int
berth_config_get_credentials(berth_credentials *out, char **from,
			     const berth_config *c, const char *host,
			     berth_error **err)
{
	json_auto_t *root = NULL;
	_cleanup_free_ char *path = config_json_path(c);
	_cleanup_free_ char *server = berth_config_auth_key(host);
	const char *helper, *k;
	json_t *v;
	int r;

	if (berth_opts_check(out->version, BERTH_CREDENTIALS_VERSION,
			     "berth_credentials", err) < 0)
		return BERTH_EUSAGE;
	BERTH_VERSIONED_RESET(out);
	if (from)
		*from = NULL;
	if ((r = load_file(c, &root, err)) < 0)
		return r;
	if ((helper = helper_for(root, host)) != NULL) {
		r = cred_helper_get(helper, server, out, err);
		if (r == 0 && from && (out->username || out->identity_token))
			*from = xasprintf("docker-credential-%s", helper);
		return r;
	}
	json_object_foreach(json_object_get(root, "auths"), k, v)
	{
		const char *auth, *tok;

		if (!json_is_object(v) || !key_matches(k, host))
			continue;
		auth = json_string_value(json_object_get(v, "auth"));
		tok = json_string_value(json_object_get(v, "identitytoken"));
		if (auth && *auth &&
		    (r = decode_auth(auth, path, k, out, err)) < 0)
			return r;
		if (tok && *tok) {
			out->identity_token = xstrdup(tok);
			free(out->password);
			out->password = NULL;
		}
		if (out->username || out->identity_token) {
			warn_if_readable(path);
			if (from)
				*from = xstrdup(path);
			return 0;
		}
	}
	return 0;
}

int
berth_config_credentials_fn(void *ud, const char *host, berth_credentials *out,
			    berth_error **err)
{
	return berth_config_get_credentials(out, NULL, ud, host, err);
}

/* Writes config.json atomically, mode 0600, as docker does. */
static int
save_file(const berth_config *c, json_t *root, berth_error **err)
{
	_cleanup_free_ char *path = config_json_path(c);
	_cleanup_free_ char *text = NULL, *line = NULL;
	berth_file_replace_opts o = {
		.mode = 0600,
		.sync = true,
		.tmp_prefix = ".config.json.tmp-",
		.through_links = true,
	};
	int rc;

	if (mkdir(c->docker_config, 0700) < 0 && errno != EEXIST)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot create directory '%s': %s",
				       c->docker_config, strerror(errno));
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	line = xasprintf("%s\n", text);
	explicit_bzero(text, strlen(text));
	rc = berth_file_replace(path, line, strlen(line), &o, err);
	explicit_bzero(line, strlen(line));
	return rc;
}

/* Base64 of "user:password"; caller frees. */
static char *
encode_auth(const char *user, const char *pass)
{
	_cleanup_free_ char *plain =
		xasprintf("%s:%s", user ? user : "", pass ? pass : "");
	size_t n = strlen(plain);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (unsigned char *)plain, (int)n);
	explicit_bzero(plain, n);
	return out;
}

/* Removes every auths entry naming `host`; true if there was one. */
static bool
drop_entries(json_t *auths, const char *host)
{
	const char *k;
	json_t *v;
	void *tmp;
	bool found = false;

	json_object_foreach_safe(auths, tmp, k, v)
	{
		if (key_matches(k, host)) {
			found = found || json_object_size(v) > 0;
			json_object_del(auths, k);
		}
	}
	return found;
}

int
berth_config_store_credentials(bool *plaintext, char **where,
			       const berth_config *c, const char *host,
			       const berth_credentials *cred, berth_error **err)
{
	json_auto_t *root = NULL;
	_cleanup_free_ char *key = berth_config_auth_key(host);
	const char *helper;
	json_t *auths, *entry;
	int r;

	if (berth_opts_check(cred->version, BERTH_CREDENTIALS_VERSION,
			     "berth_credentials", err) < 0)
		return BERTH_EUSAGE;
	if ((r = load_file(c, &root, err)) < 0)
		return r;
	auths = json_object_get(root, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(root, "auths", auths);
	}
	drop_entries(auths, host);
	entry = json_object();
	json_object_set_new(auths, key, entry);
	helper = helper_for(root, host);
	if (plaintext)
		*plaintext = helper == NULL;
	if (helper) {
		/* The secret goes to the helper; the file keeps an empty
		 * entry, as docker writes it. */
		if ((r = cred_helper_store(helper, key, cred, err)) < 0)
			return r;
		if (where)
			*where = xasprintf("docker-credential-%s", helper);
	} else {
		bool token = cred->identity_token && *cred->identity_token;
		_cleanup_free_ char *b64 = encode_auth(
			cred->username, token ? "" : cred->password);

		json_object_set_new(entry, "auth", json_string(b64));
		if (token)
			json_object_set_new(entry, "identitytoken",
					    json_string(cred->identity_token));
		explicit_bzero(b64, strlen(b64));
		if (where)
			*where = config_json_path(c);
	}
	return save_file(c, root, err);
}

int
berth_config_erase_credentials(bool *out, const berth_config *c,
			       const char *host, berth_error **err)
{
	json_auto_t *root = NULL;
	_cleanup_free_ char *key = berth_config_auth_key(host);
	_cleanup_free_ char *path = config_json_path(c);
	const char *helper;
	bool in_helper = false, in_file;
	json_t *auths;
	int r;

	*out = false;
	if ((r = load_file(c, &root, err)) < 0)
		return r;
	if ((helper = helper_for(root, host)) != NULL &&
	    (r = cred_helper_erase(helper, key, &in_helper, err)) < 0)
		return r;
	auths = json_object_get(root, "auths");
	in_file = json_is_object(auths) && drop_entries(auths, host);
	*out = in_helper || in_file;
	if (!in_file && access(path, F_OK) != 0)
		return 0;
	return save_file(c, root, err);
}
