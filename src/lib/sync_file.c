/*
 * The sync file (`skopeo sync --src yaml`'s shape), read with libyaml's
 * document loader: YAML, or JSON, which is YAML too. Every mistake names
 * the line it is on.
 */
#include "berth/sync.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

#define REPOS_MAX 10000

typedef struct file_ctx {
	yaml_document_t *doc;
	const char *what;
	berth_sync_list *l;
} file_ctx;

static int
bad(file_ctx *c, const yaml_node_t *n, const char *fmt, const char *arg,
    berth_error **err)
{
	/* fmt holds one "%s", for arg. */
	const char *at = strstr(fmt, "%s");
	_cleanup_free_ char *msg =
		xasprintf("%.*s%s%s", (int)(at - fmt), fmt, arg, at + 2);

	berth_error_set(err, BERTH_EUSAGE, 0, "sync file '%s', line %lu: %s",
			c->what,
			n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
	berth_error_hint(err, "the file maps a registry to 'images' (REPO: "
			      "[TAGS]), 'images-by-tag-regex', 'tls-verify', "
			      "'cert-dir' and 'credentials'; docs/sync.md");
	return BERTH_EUSAGE;
}

static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

static yaml_node_t *
node(file_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static int
need_map(file_ctx *c, const yaml_node_t *n, const char *what, berth_error **err)
{
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return bad(c, n, "%s must be a mapping", what, err);
	return 0;
}

static berth_sync_repo *
add_repo(file_ctx *c, const char *registry, const char *repo)
{
	berth_sync_repo *r;

	c->l->repos =
		xreallocarray(c->l->repos, c->l->n + 1, sizeof(*c->l->repos));
	r = &c->l->repos[c->l->n++];
	memset(r, 0, sizeof(*r));
	r->registry = xstrdup(registry);
	r->repo = xstrdup(repo);
	/* skopeo sync's naming (without --scoped): the last component. */
	r->dest_name =
		xstrdup(strrchr(repo, '/') ? strrchr(repo, '/') + 1 : repo);
	r->tls_verify = -1;
	return r;
}

static int
check_repo(file_ctx *c, const yaml_node_t *n, const char *registry,
	   const char *repo, berth_error **err)
{
	_cleanup_free_ char *s = xasprintf("%s/%s", registry, repo);
	berth_ref *ref = NULL;
	int r = strpbrk(repo, ":@") ? -1 : berth_ref_parse(&ref, s, NULL);

	berth_ref_free(ref);
	if (c->l->n >= REPOS_MAX)
		return bad(c, n, "more than %s repositories", "10000", err);
	if (r < 0) {
		_cleanup_free_ char *q = berth_str_quote(s, strlen(s), 200);

		return bad(c, n, "'%s' is not a repository name", q, err);
	}
	return 0;
}

static int
tags_of(file_ctx *c, berth_sync_repo *r, const yaml_node_t *list,
	berth_error **err)
{
	if (list->type == YAML_SCALAR_NODE && scalar(list)[0] == '\0')
		return 0; /* "REPO:" with nothing: every tag */
	if (list->type != YAML_SEQUENCE_NODE)
		return bad(c, list, "the tags of '%s' must be a list", r->repo,
			   err);
	for (yaml_node_item_t *i = list->data.sequence.items.start;
	     i < list->data.sequence.items.top; i++) {
		yaml_node_t *t = node(c, *i);
		const char *tag = scalar(t);

		if (tag == NULL || !berth_ref_tag_valid(tag)) {
			_cleanup_free_ char *q =
				tag ? berth_str_quote(tag, strlen(tag), 200)
				    : xstrdup("(not text)");

			return bad(c, t, "invalid tag '%s'", q, err);
		}
		r->tags =
			xreallocarray(r->tags, r->n_tags + 2, sizeof(*r->tags));
		r->tags[r->n_tags++] = xstrdup(tag);
		r->tags[r->n_tags] = NULL;
	}
	return 0;
}

static int
check_regex(file_ctx *c, const yaml_node_t *n, const char *re,
	    berth_error **err)
{
	regex_t rx;
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		char buf[128];

		regerror(rc, &rx, buf, sizeof(buf));
		return bad(c, n, "invalid regular expression: %s", buf, err);
	}
	regfree(&rx);
	return 0;
}

/* images: or images-by-tag-regex: of one registry. */
static int
images(file_ctx *c, const char *registry, const yaml_node_t *map, bool regex,
       size_t *first, berth_error **err)
{
	int r = need_map(c, map, regex ? "'images-by-tag-regex'" : "'images'",
			 err);

	for (yaml_node_pair_t *p = r ? NULL : map->data.mapping.pairs.start;
	     r == 0 && p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *repo = scalar(k);
		berth_sync_repo *sr;

		if (repo == NULL)
			return bad(c, k, "a repository must be %s", "a name",
				   err);
		if ((r = check_repo(c, k, registry, repo, err)) < 0)
			return r;
		if (regex && scalar(v) == NULL)
			return bad(c, v, "the regex of '%s' must be text", repo,
				   err);
		if (regex && (r = check_regex(c, v, scalar(v), err)) < 0)
			return r;
		sr = add_repo(c, registry, repo);
		if (regex)
			sr->tag_regex = xstrdup(scalar(v));
		else
			r = tags_of(c, sr, v, err);
	}
	(void)first;
	return r;
}

static int
boolean(file_ctx *c, const yaml_node_t *n, int *out, berth_error **err)
{
	const char *s = scalar(n);

	if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
		*out = 1;
	else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
		*out = 0;
	else
		return bad(c, n, "'tls-verify' must be %s", "true or false",
			   err);
	return 0;
}

static int
credentials(file_ctx *c, const yaml_node_t *map, char **user, char **pass,
	    berth_error **err)
{
	int r = need_map(c, map, "'credentials'", err);

	for (yaml_node_pair_t *p = r ? NULL : map->data.mapping.pairs.start;
	     r == 0 && p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));
		const char *v = scalar(node(c, p->value));

		if (k == NULL || v == NULL ||
		    (strcmp(k, "username") != 0 && strcmp(k, "password") != 0))
			return bad(c, node(c, p->key), "'credentials' takes %s",
				   "'username' and 'password'", err);
		free(strcmp(k, "username") == 0 ? *user : *pass);
		*(strcmp(k, "username") == 0 ? user : pass) = xstrdup(v);
	}
	return r;
}

static int
registry_entry(file_ctx *c, const yaml_node_t *key, const yaml_node_t *map,
	       berth_error **err)
{
	const char *registry = scalar(key);
	size_t first = c->l->n;
	_cleanup_free_ char *cert_dir = NULL, *user = NULL, *pass = NULL;
	int tls = -1, r;

	if (registry == NULL || registry[0] == '\0' || strchr(registry, '/'))
		return bad(c, key, "a registry must be %s", "a host[:port]",
			   err);
	if ((r = need_map(c, map, "a registry's entry", err)) < 0)
		return r;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     r == 0 && p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *name = scalar(k);

		if (name && strcmp(name, "images") == 0)
			r = images(c, registry, v, false, &first, err);
		else if (name && strcmp(name, "images-by-tag-regex") == 0)
			r = images(c, registry, v, true, &first, err);
		else if (name && strcmp(name, "tls-verify") == 0)
			r = boolean(c, v, &tls, err);
		else if (name && strcmp(name, "cert-dir") == 0 && scalar(v)) {
			free(cert_dir);
			cert_dir = xstrdup(scalar(v));
		} else if (name && strcmp(name, "credentials") == 0)
			r = credentials(c, v, &user, &pass, err);
		else {
			_cleanup_free_ char *q =
				name ? berth_str_quote(name, strlen(name), 100)
				     : xstrdup("(not text)");

			r = bad(c, k, "unknown key '%s'", q, err);
		}
	}
	for (size_t i = first; r == 0 && i < c->l->n; i++) {
		berth_sync_repo *sr = &c->l->repos[i];

		sr->tls_verify = tls;
		sr->cert_dir = cert_dir ? xstrdup(cert_dir) : NULL;
		sr->username = user ? xstrdup(user) : NULL;
		sr->password = pass ? xstrdup(pass) : NULL;
	}
	return r;
}

static int
parse_doc(file_ctx *c, berth_error **err)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	int r;

	if (root == NULL)
		return bad(c, NULL, "the file is %s", "empty", err);
	if ((r = need_map(c, root, "the file", err)) < 0)
		return r;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     r == 0 && p < root->data.mapping.pairs.top; p++)
		r = registry_entry(c, node(c, p->key), node(c, p->value), err);
	if (r == 0 && c->l->n == 0)
		return bad(c, root, "%s", "no repository to sync", err);
	return r;
}

int
berth_sync_list_parse(berth_sync_list **out, const char *text, size_t len,
		      const char *what, berth_error **err)
{
	_cleanup_(berth_sync_list_freep) berth_sync_list *l = NULL;
	_cleanup_free_ char *q = berth_str_quote(what, strlen(what), 200);
	yaml_parser_t parser;
	yaml_document_t doc;
	file_ctx c = {.doc = &doc, .what = q};
	int r;

	if (!yaml_parser_initialize(&parser))
		return berth_error_set(err, BERTH_EGENERIC, 0,
				       "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = berth_error_set(
			err, BERTH_EUSAGE, 0, "sync file '%s', line %lu: %s %s",
			q, (unsigned long)parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "invalid YAML",
			parser.context ? parser.context : "");
		berth_error_hint(err, "the file is YAML or JSON: check the "
				      "indentation and quoting at that line");
		yaml_parser_delete(&parser);
		return r;
	}
	l = xcalloc(1, sizeof(*l));
	c.l = l;
	r = parse_doc(&c, err);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r < 0)
		return r;
	*out = steal_ptr(&l);
	return 0;
}

int
berth_sync_list_repo(berth_sync_list **out, const char *s, berth_error **err)
{
	_cleanup_(berth_ref_freep) berth_ref *ref = NULL;
	_cleanup_free_ char *q = berth_str_quote(s, strlen(s), 200);
	berth_sync_list *l;
	berth_sync_repo *r;
	const char *slash;
	int rc;

	if (strncmp(s, "docker://", 9) != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid sync source '%s': expected "
				       "'docker://REGISTRY/REPOSITORY' or a "
				       "YAML or JSON file",
				       q);
	if ((rc = berth_ref_parse(&ref, s + 9, err)) < 0)
		return berth_error_wrap(err, rc, "sync source '%s'", q);
	l = xcalloc(1, sizeof(*l));
	l->repos = xcalloc(1, sizeof(*l->repos));
	l->n = 1;
	r = &l->repos[0];
	r->registry = xstrdup(ref->domain);
	r->repo = xstrdup(ref->path);
	slash = strrchr(ref->path, '/');
	r->dest_name = xstrdup(slash ? slash + 1 : ref->path);
	r->tls_verify = -1;
	/* A tag typed explicitly is that tag alone (berth_ref_parse adds
	 * "latest" otherwise). */
	if (ref->tag && strchr(s + 9, ':') &&
	    strrchr(s + 9, ':') > strrchr(s + 9, '/')) {
		r->tags = xcalloc(2, sizeof(*r->tags));
		r->tags[0] = xstrdup(ref->tag);
		r->n_tags = 1;
	}
	*out = l;
	return 0;
}

void
berth_sync_list_free(berth_sync_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		berth_sync_repo *r = &l->repos[i];

		free(r->registry);
		free(r->repo);
		for (size_t k = 0; k < r->n_tags; k++)
			free(r->tags[k]);
		free(r->tags);
		free(r->tag_regex);
		free(r->cert_dir);
		free(r->username);
		free(r->password);
		free(r->dest_name);
	}
	free(l->repos);
	free(l);
}
