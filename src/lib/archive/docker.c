#include "archive/docker.h"

#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"
#include "util/xalloc.h"

/* A JSON array of strings as a NULL-ended vector; NULL when not one. */
static char **
strings_of(json_t *a, size_t *n)
{
	char **v;
	size_t i;
	json_t *s;

	if (!json_is_array(a))
		return NULL;
	v = xcalloc(json_array_size(a) + 1, sizeof(*v));
	json_array_foreach(a, i, s)
	{
		if (!json_is_string(s)) {
			berth_strv_free(v);
			return NULL;
		}
		v[i] = xstrdup(json_string_value(s));
	}
	*n = json_array_size(a);
	return v;
}

int
docker_manifest_parse(docker_image **out, size_t *n, const char *text,
		      size_t len, berth_error **err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;
	docker_image *v;
	json_t *e;
	size_t i;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest.json is not valid JSON: %s "
				       "(line %d)",
				       why, jerr.line);
	}
	if (!json_is_array(root))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "manifest.json is not an array of "
				       "images");
	v = xcalloc(json_array_size(root) + 1, sizeof(*v));
	json_array_foreach(root, i, e)
	{
		json_t *cfg = json_object_get(e, "Config");
		json_t *tags = json_object_get(e, "RepoTags");
		const char *bad = NULL;

		if (!json_is_string(cfg) || !*json_string_value(cfg))
			bad = "no Config file name";
		else if ((v[i].layers = strings_of(json_object_get(e, "Layers"),
						   &v[i].n_layers)) == NULL)
			bad = "no Layers array of file names";
		else if (tags && !json_is_null(tags) &&
			 (v[i].repo_tags = strings_of(tags, &v[i].n_tags)) ==
				 NULL)
			bad = "RepoTags that is not an array of names";
		if (bad) {
			docker_images_free(v, i + 1);
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "manifest.json: image %zu has "
					       "%s",
					       i + 1, bad);
		}
		v[i].config = xstrdup(json_string_value(cfg));
		if (v[i].repo_tags == NULL)
			v[i].repo_tags = xcalloc(1, sizeof(char *));
	}
	*out = v;
	*n = json_array_size(root);
	return 0;
}

static json_t *
array_of(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

char *
docker_manifest_write(const docker_image *v, size_t n)
{
	json_auto_t *root = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "Config", json_string(v[i].config));
		json_object_set_new(
			e, "RepoTags",
			v[i].n_tags ? array_of(v[i].repo_tags, v[i].n_tags)
				    : json_null());
		json_object_set_new(e, "Layers",
				    array_of(v[i].layers, v[i].n_layers));
		json_array_append_new(root, e);
	}
	return json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

void
docker_images_free(docker_image *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].config);
		berth_strv_free(v[i].repo_tags);
		berth_strv_free(v[i].layers);
	}
	free(v);
}

void
docker_repositories_add(json_t *repos, const char *tagged, const char *v1_id)
{
	/* The tag follows the last ':' after the last '/' (a port is not). */
	const char *slash = strrchr(tagged, '/');
	const char *colon = strrchr(slash ? slash : tagged, ':');
	_cleanup_free_ char *repo = NULL;
	json_t *tags;

	if (colon == NULL)
		return;
	repo = xstrndup(tagged, (size_t)(colon - tagged));
	tags = json_object_get(repos, repo);
	if (tags == NULL) {
		tags = json_object();
		json_object_set_new(repos, repo, tags);
	}
	json_object_set_new(tags, colon + 1, json_string(v1_id));
}

int
docker_repositories_parse(char ***names, char ***ids, const char *text,
			  size_t len, berth_error **err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;
	const char *repo, *tag;
	json_t *tags, *id;
	char **nv = NULL, **iv = NULL;
	size_t n = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		return berth_error_set(err, BERTH_EPROTO, 0,
				       "repositories is not a JSON object%s%s",
				       root ? "" : ": ", root ? "" : why);
	}
	nv = xcalloc(1, sizeof(*nv));
	iv = xcalloc(1, sizeof(*iv));
	json_object_foreach(root, repo, tags)
	{
		if (!json_is_object(tags))
			goto bad;
		json_object_foreach(tags, tag, id)
		{
			if (!json_is_string(id))
				goto bad;
			nv = xreallocarray(nv, n + 2, sizeof(*nv));
			iv = xreallocarray(iv, n + 2, sizeof(*iv));
			nv[n] = xasprintf("%s:%s", repo, tag);
			iv[n] = xstrdup(json_string_value(id));
			nv[++n] = NULL;
			iv[n] = NULL;
		}
	}
	*names = nv;
	*ids = iv;
	return 0;
bad:
	berth_strv_free(nv);
	berth_strv_free(iv);
	return berth_error_set(err, BERTH_EPROTO, 0,
			       "repositories: '%s' is not an object of tags "
			       "and layer IDs",
			       repo);
}

void
docker_chain_id(berth_digest *out, const berth_digest *parent,
		const berth_digest *diff_id)
{
	_cleanup_free_ char *s = NULL;

	if (parent == NULL) {
		*out = *diff_id;
		return;
	}
	s = xasprintf("%s %s", parent->str, diff_id->str);
	berth_digest_of(out, BERTH_DIGEST_SHA256, s, strlen(s));
}

/* docker's container.Config with nothing set, as Go writes it. */
static json_t *
empty_container_config(void)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, "
			 "s:n, s:s, s:n, s:s, s:n, s:n, s:n}",
			 "Hostname", "", "Domainname", "", "User", "",
			 "AttachStdin", 0, "AttachStdout", 0, "AttachStderr", 0,
			 "Tty", 0, "OpenStdin", 0, "StdinOnce", 0, "Env", "Cmd",
			 "Image", "", "Volumes", "WorkingDir", "", "Entrypoint",
			 "OnBuild", "Labels");
}

char *
docker_v1_json(char id_hex[65], json_t *config, size_t i, size_t n,
	       const berth_digest *chain_id, const char *parent)
{
	/* docker's image.V1Image, in its field order. */
	static const char *const top_fields[] = {
		"comment",	  "created", "container", "container_config",
		"docker_version", "author",  "config",	  "architecture",
		"variant",	  "os",
	};
	json_auto_t *v1 = json_object(), *for_id = NULL;
	_cleanup_free_ char *canon = NULL;
	berth_digest id;

	if (i + 1 == n) {
		for (size_t k = 0; k < BERTH_ARRAY_SIZE(top_fields); k++) {
			json_t *f = json_object_get(config, top_fields[k]);

			if (f)
				json_object_set(v1, top_fields[k], f);
			else if (strcmp(top_fields[k], "container_config") == 0)
				json_object_set_new(v1, top_fields[k],
						    empty_container_config());
		}
	} else {
		json_object_set_new(v1, "created",
				    json_string("1970-01-01T00:00:00Z"));
		json_object_set_new(v1, "container_config",
				    empty_container_config());
	}
	for_id = json_deep_copy(v1);
	json_object_set_new(for_id, "layer_id", json_string(chain_id->str));
	if (parent) {
		_cleanup_free_ char *p = xasprintf("sha256:%s", parent);

		json_object_set_new(for_id, "parent", json_string(p));
	}
	canon = json_dumps(for_id, JSON_COMPACT | JSON_SORT_KEYS);
	berth_digest_of(&id, BERTH_DIGEST_SHA256, canon, strlen(canon));
	snprintf(id_hex, 65, "%s", berth_digest_hex(&id));

	/* The file: id and parent first, as Go's struct order puts them. */
	{
		json_auto_t *out = json_object();
		const char *k;
		json_t *val;

		json_object_set_new(out, "id", json_string(id_hex));
		if (parent)
			json_object_set_new(out, "parent", json_string(parent));
		json_object_foreach(v1, k, val) json_object_set(out, k, val);
		if (i + 1 < n && json_object_get(config, "os"))
			json_object_set(out, "os",
					json_object_get(config, "os"));
		return json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
}
