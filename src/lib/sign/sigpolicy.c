/*
 * containers-policy.json for pulls. A reference's scope is looked up as
 * containers/image's docker transport does: "host/repo:tag" (or
 * "host/repo@digest"), then "host/repo", each namespace up to "host",
 * then wildcards "*.domain" from the most specific, then the transport's
 * "" entry, then "default".
 */
#include "berth/sigpolicy.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sign.h"
#include "sign/sign_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/xalloc.h"

typedef enum req_kind {
	REQ_ACCEPT,
	REQ_REJECT,
	REQ_SIGSTORE,
	REQ_GPG,
} req_kind;

typedef enum id_kind {
	ID_REPO_DIGEST_OR_EXACT,
	ID_REPOSITORY,
	ID_EXACT,
	ID_EXACT_REFERENCE,
	ID_EXACT_REPOSITORY,
} id_kind;

typedef struct req {
	req_kind kind;
	berth_sign_key **keys;
	size_t n_keys;
	char *key_names; /* for messages */
	id_kind id;
	char *id_value; /* exactReference / exactRepository */
} req;

typedef struct scope {
	char *name; /* "" for the transport default, NULL for "default" */
	req *reqs;
	size_t n;
} scope;

struct berth_sigpolicy {
	char *path; /* NULL: none (only --verify-key) */
	scope def;
	scope *scopes; /* transports.docker */
	size_t n_scopes;
	scope extra; /* berth_sigpolicy_require_key */
};

static void
req_release(req *q)
{
	for (size_t i = 0; i < q->n_keys; i++)
		berth_sign_key_free(q->keys[i]);
	free(q->keys);
	free(q->key_names);
	free(q->id_value);
}

static void
scope_release(scope *s)
{
	for (size_t i = 0; i < s->n; i++)
		req_release(&s->reqs[i]);
	free(s->reqs);
	free(s->name);
}

void
berth_sigpolicy_free(berth_sigpolicy *p)
{
	if (p == NULL)
		return;
	scope_release(&p->def);
	for (size_t i = 0; i < p->n_scopes; i++)
		scope_release(&p->scopes[i]);
	free(p->scopes);
	scope_release(&p->extra);
	free(p->path);
	free(p);
}

berth_sigpolicy *
berth_sigpolicy_new_accept(void)
{
	berth_sigpolicy *p = xcalloc(1, sizeof(*p));

	p->def.reqs = xcalloc(1, sizeof(req));
	p->def.n = 1;
	return p;
}

static int
bad(berth_error **err, const char *path, const char *sc, const char *why)
{
	return berth_error_set(err, BERTH_EUSAGE, 0,
			       "policy '%s', scope '%s': %s", path,
			       sc ? sc : "default", why);
}

static void
add_key(req *q, berth_sign_key *k, const char *name)
{
	char *s;

	q->keys = xrealloc(q->keys, (q->n_keys + 1) * sizeof(*q->keys));
	q->keys[q->n_keys++] = k;
	s = q->key_names ? xasprintf("%s, %s", q->key_names, name)
			 : xstrdup(name);
	free(q->key_names);
	q->key_names = s;
}

static int
key_from_file(req *q, const char *file, berth_error **err)
{
	_cleanup_free_ char *pem = NULL;
	berth_sign_key *k = NULL;
	size_t len = 0;
	int r;

	if ((r = berth_file_read(&pem, &len, file, 64 * 1024, err)) < 0 ||
	    (r = berth_key_load_public(&k, pem, len, file, err)) < 0)
		return r;
	add_key(q, k, file);
	return 0;
}

static int
key_from_data(req *q, const char *b64, berth_error **err)
{
	_cleanup_free_ unsigned char *pem = NULL;
	berth_sign_key *k = NULL;
	size_t len;
	int r;

	if (sign_b64_decode(&pem, &len, b64) < 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "keyData is not base64");
	if ((r = berth_key_load_public(&k, (char *)pem, len, "keyData", err)) <
	    0)
		return r;
	add_key(q, k, "keyData");
	return 0;
}

static int
parse_identity(req *q, json_t *id, const char *path, const char *sc,
	       berth_error **err)
{
	static const struct {
		const char *name;
		id_kind kind;
		const char *field;
	} ids[] = {
		{"matchRepoDigestOrExact", ID_REPO_DIGEST_OR_EXACT, NULL},
		{"matchRepository", ID_REPOSITORY, NULL},
		{"matchExact", ID_EXACT, NULL},
		{"exactReference", ID_EXACT_REFERENCE, "dockerReference"},
		{"exactRepository", ID_EXACT_REPOSITORY, "dockerRepository"},
	};
	const char *t = json_string_value(json_object_get(id, "type"));

	if (id == NULL) {
		q->id = ID_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	for (size_t i = 0; t && i < BERTH_ARRAY_SIZE(ids); i++) {
		const char *v;

		if (strcmp(t, ids[i].name) != 0)
			continue;
		q->id = ids[i].kind;
		if (ids[i].field == NULL)
			return 0;
		v = json_string_value(json_object_get(id, ids[i].field));
		if (v == NULL)
			return bad(err, path, sc,
				   "signedIdentity needs its reference field");
		q->id_value = xstrdup(v);
		return 0;
	}
	return bad(err, path, sc,
		   "signedIdentity type must be matchRepoDigestOrExact, "
		   "matchRepository, matchExact, exactReference or "
		   "exactRepository (remapIdentity is not supported)");
}

static int
parse_req(req *q, json_t *j, const char *path, const char *sc,
	  berth_error **err)
{
	const char *t = json_string_value(json_object_get(j, "type"));
	const char *kp = json_string_value(json_object_get(j, "keyPath"));
	const char *kd = json_string_value(json_object_get(j, "keyData"));
	json_t *v;
	size_t i;
	int r;

	memset(q, 0, sizeof(*q));
	if (t == NULL)
		return bad(err, path, sc, "a requirement without a type");
	if (strcmp(t, "insecureAcceptAnything") == 0)
		return 0;
	if (strcmp(t, "reject") == 0) {
		q->kind = REQ_REJECT;
		return 0;
	}
	if (strcmp(t, "signedBy") == 0) {
		q->kind = REQ_GPG;
		return 0;
	}
	if (strcmp(t, "sigstoreSigned") != 0) {
		r = bad(err, path, sc, "unknown requirement type");
		berth_error_hint(err, "berth knows insecureAcceptAnything, "
				      "reject, sigstoreSigned and signedBy");
		return r;
	}
	q->kind = REQ_SIGSTORE;
	if (json_object_get(j, "fulcio") || json_object_get(j, "pki"))
		return bad(err, path, sc,
			   "sigstoreSigned with fulcio or pki is not "
			   "supported (keys only)");
	if (kp && (r = key_from_file(q, kp, err)) < 0)
		return berth_error_wrap(err, r, "policy '%s'", path);
	if (kd && (r = key_from_data(q, kd, err)) < 0)
		return berth_error_wrap(err, r, "policy '%s'", path);
	json_array_foreach(json_object_get(j, "keyPaths"), i, v)
	{
		if (!json_is_string(v))
			return bad(err, path, sc,
				   "keyPaths holds a non-string");
		if ((r = key_from_file(q, json_string_value(v), err)) < 0)
			return berth_error_wrap(err, r, "policy '%s'", path);
	}
	json_array_foreach(json_object_get(j, "keyDatas"), i, v)
	{
		if (!json_is_string(v))
			return bad(err, path, sc,
				   "keyDatas holds a non-string");
		if ((r = key_from_data(q, json_string_value(v), err)) < 0)
			return berth_error_wrap(err, r, "policy '%s'", path);
	}
	if (q->n_keys == 0)
		return bad(err, path, sc,
			   "sigstoreSigned needs keyPath, keyPaths, keyData "
			   "or keyDatas");
	return parse_identity(q, json_object_get(j, "signedIdentity"), path, sc,
			      err);
}

static int
parse_scope(scope *s, const char *name, json_t *list, const char *path,
	    berth_error **err)
{
	json_t *j;
	size_t i;
	int r;

	s->name = name ? xstrdup(name) : NULL;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return bad(err, path, name,
			   "requirements must be a non-empty array");
	s->reqs = xcalloc(json_array_size(list), sizeof(req));
	json_array_foreach(list, i, j)
	{
		r = parse_req(&s->reqs[i], j, path, name, err);
		s->n = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

int
berth_sigpolicy_parse(berth_sigpolicy **out, const char *json, size_t len,
		      const char *path, berth_error **err)
{
	berth_sigpolicy *p = xcalloc(1, sizeof(*p));
	json_auto_t *j = NULL;
	json_error_t jerr;
	json_t *docker, *v;
	const char *k;
	int r;

	p->path = xstrdup(path);
	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j)) {
		_cleanup_free_ char *why = berth_json_why(&jerr);

		r = berth_error_set(err, BERTH_EUSAGE, 0,
				    "policy '%s' is not a JSON object%s%s",
				    path, j ? "" : ": ", j ? "" : why);
		goto fail;
	}
	if ((r = parse_scope(&p->def, NULL, json_object_get(j, "default"), path,
			     err)) < 0)
		goto fail;
	docker = json_object_get(json_object_get(j, "transports"), "docker");
	p->scopes = xcalloc(json_object_size(docker) + 1, sizeof(scope));
	json_object_foreach(docker, k, v)
	{
		r = parse_scope(&p->scopes[p->n_scopes++], k, v, path, err);
		if (r < 0)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	berth_sigpolicy_free(p);
	return r;
}

int
berth_sigpolicy_load(berth_sigpolicy **out, const char *path, berth_error **err)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	int r = berth_file_read(&s, &len, path, 1 << 20, err);

	if (r < 0)
		return berth_error_wrap(err, r, "signature policy");
	return berth_sigpolicy_parse(out, s, len, path, err);
}

int
berth_sigpolicy_require_key(berth_sigpolicy *p, const char *pem, size_t len,
			    const char *what, berth_error **err)
{
	berth_sign_key *k = NULL;
	req *q;
	int r;

	if ((r = berth_key_load_public(&k, pem, len, what, err)) < 0)
		return r;
	p->extra.reqs = xrealloc(p->extra.reqs, (p->extra.n + 1) * sizeof(req));
	q = &p->extra.reqs[p->extra.n++];
	memset(q, 0, sizeof(*q));
	q->kind = REQ_SIGSTORE;
	q->id = ID_REPOSITORY;
	add_key(q, k, what);
	if (p->extra.name == NULL)
		p->extra.name = xstrdup("--verify-key");
	return 0;
}

static const scope *
find(const berth_sigpolicy *p, const char *name)
{
	for (size_t i = 0; i < p->n_scopes; i++)
		if (strcmp(p->scopes[i].name, name) == 0)
			return &p->scopes[i];
	return NULL;
}

/* The most specific scope for ref. */
static const scope *
lookup(const berth_sigpolicy *p, const berth_ref *ref)
{
	_cleanup_free_ char *full = NULL, *name = berth_ref_name(ref);
	const scope *s;
	char *slash;
	const char *dot;

	full = ref->digest ? xasprintf("%s@%s", name, ref->digest)
	       : ref->tag  ? xasprintf("%s:%s", name, ref->tag)
			   : xstrdup(name);
	if ((s = find(p, full)))
		return s;
	for (;;) {
		if ((s = find(p, name)))
			return s;
		if ((slash = strrchr(name, '/')) == NULL)
			break;
		*slash = '\0';
	}
	for (dot = strchr(ref->domain, '.'); dot; dot = strchr(dot + 1, '.')) {
		_cleanup_free_ char *w = xasprintf("*%s", dot);

		if ((s = find(p, w)))
			return s;
	}
	if ((s = find(p, "")))
		return s;
	return &p->def;
}

/* Does a verified signature's docker-reference satisfy the identity? */
static bool
identity_ok(const req *q, const berth_ref *ref, const char *claimed)
{
	_cleanup_(berth_ref_freep) berth_ref *c = NULL, *want = NULL;
	bool same_repo;

	if (claimed == NULL || berth_ref_parse_name(&c, claimed, NULL) < 0)
		return false;
	same_repo = strcmp(c->domain, ref->domain) == 0 &&
		    strcmp(c->path, ref->path) == 0;
	switch (q->id) {
	case ID_REPOSITORY:
		return same_repo;
	case ID_REPO_DIGEST_OR_EXACT:
		if (ref->digest && !ref->tag)
			return same_repo;
		/* fall through */
	case ID_EXACT:
		return same_repo && ref->tag && c->tag && !c->digest &&
		       strcmp(c->tag, ref->tag) == 0;
	case ID_EXACT_REFERENCE:
	case ID_EXACT_REPOSITORY:
		if (berth_ref_parse_name(&want, q->id_value, NULL) < 0 ||
		    strcmp(c->domain, want->domain) != 0 ||
		    strcmp(c->path, want->path) != 0)
			return false;
		if (q->id == ID_EXACT_REPOSITORY)
			return true;
		return (want->tag == NULL) == (c->tag == NULL) &&
		       (want->tag == NULL || strcmp(want->tag, c->tag) == 0);
	}
	return false;
}

static const char *
scope_label(const scope *s)
{
	return s->name == NULL ? "default"
	       : *s->name      ? s->name
			       : "docker transport default";
}

static int
check_req(const berth_sigpolicy *p, const scope *s, const req *q,
	  berth_registry *reg, const berth_ref *ref, const berth_digest *d,
	  berth_error **err)
{
	_cleanup_free_ char *name = berth_ref_string(ref);
	const char *file = p->path ? p->path : "(none)";
	berth_verify_result res = BERTH_VERIFY_RESULT_INIT;
	berth_error *e = NULL;
	bool id_failed = false;
	int r;

	if (q->kind == REQ_ACCEPT)
		return 0;
	if (q->kind == REQ_REJECT || q->kind == REQ_GPG) {
		r = berth_error_set(err, BERTH_EDENIED, 0,
				    "'%s' is refused by signature policy '%s' "
				    "(scope '%s': %s)",
				    name, file, scope_label(s),
				    q->kind == REQ_REJECT
					    ? "reject"
					    : "signedBy: GPG signatures, which "
					      "berth cannot check");
		berth_error_hint(err, "change the policy file, or choose "
				      "another with --signature-policy");
		return r;
	}
	r = berth_verify_digest(&res, reg, ref->path, d,
				(const berth_sign_key *const *)q->keys,
				q->n_keys, &e);
	if (r < 0 && r != BERTH_ESIGNATURE) {
		berth_verify_result_release(&res);
		return berth_error_move(err, &e, r);
	}
	for (size_t i = 0; r == 0 && i < res.n_sigs; i++) {
		if (!res.sigs[i].verified)
			continue;
		if (identity_ok(q, ref, res.sigs[i].identity)) {
			berth_verify_result_release(&res);
			berth_error_free(e);
			return 0;
		}
		id_failed = true;
	}
	r = berth_error_set(err, BERTH_ESIGNATURE, 0,
			    "'%s' is refused by signature policy '%s' (scope "
			    "'%s': sigstoreSigned by %s): %s",
			    name, s == &p->extra ? "--verify-key" : file,
			    scope_label(s), q->key_names,
			    id_failed ? "a signature verifies, but names "
					"another identity (signedIdentity)"
			    : e	      ? e->msg
				      : "no signature verifies");
	berth_error_hint(err, "sign the image with 'berth sign' or 'cosign "
			      "sign' and the private half of the key");
	berth_error_free(e);
	berth_verify_result_release(&res);
	return r;
}

static int
check_scope(const berth_sigpolicy *p, const scope *s, berth_registry *reg,
	    const berth_ref *ref, const berth_digest *d, berth_error **err)
{
	int r;

	for (size_t i = 0; i < s->n; i++)
		if ((r = check_req(p, s, &s->reqs[i], reg, ref, d, err)) < 0)
			return r;
	return 0;
}

int
berth_sigpolicy_check(const berth_sigpolicy *p, berth_registry *reg,
		      const berth_ref *ref, const berth_digest *digest,
		      berth_error **err)
{
	int r = check_scope(p, lookup(p, ref), reg, ref, digest, err);

	if (r == 0)
		r = check_scope(p, &p->extra, reg, ref, digest, err);
	return r;
}
