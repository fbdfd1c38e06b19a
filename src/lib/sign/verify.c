/*
 * berth verify: every signature of an image, from the sha256-<hex>.sig
 * tag and from the referrers of cosign's artifactType, each checked
 * against the keys and against the digest the image has now. A signature
 * found in both places is listed once.
 */
#include "sign/sign_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/manifest.h"
#include "fetch_small.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

/* A hostile registry must not make berth fetch without bound. */
#define SIGS_MAX 256

typedef struct found {
	berth_verify_result *res;
	berth_registry *reg;
	const char *repo;
	const berth_digest *digest;
	const berth_sign_key *const *keys;
	size_t n_keys;
	char **sigs; /* each entry's signature text, for the duplicates */
} found;

static void
signature_release(berth_signature *s)
{
	free(s->source);
	free(s->location);
	free(s->payload);
	free(s->identity);
	free(s->digest);
	free(s->optional);
	free(s->problem);
}

void
berth_verify_result_release(berth_verify_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_sigs; i++)
		signature_release(&r->sigs[i]);
	free(r->sigs);
	BERTH_VERSIONED_RESET(r);
}

static void
take_problem(berth_signature *s, berth_error **e)
{
	s->problem = xstrdup(*e ? (*e)->msg : "failed");
	berth_error_free(*e);
	*e = NULL;
}

/* Fills s from the payload blob `pd` and its signature. */
static void
check(found *f, berth_signature *s, const berth_descriptor *pd, const char *sig)
{
	berth_sign_payload_info info = {0};
	berth_buf blob;
	berth_error *e = NULL, *parse_err = NULL;
	int r = BERTH_ESIGNATURE;

	if (pd->size < 0 || pd->size > SIGN_PAYLOAD_MAX) {
		s->problem = xasprintf("payload blob of %lld bytes (over "
				       "64 KiB)",
				       (long long)pd->size);
		return;
	}
	if (fetch_small_blob(&blob, f->reg, f->repo, pd, &e) < 0) {
		take_problem(s, &e);
		return;
	}
	if (berth_sign_payload_parse(&info, blob.ptr, blob.len, &parse_err) ==
	    0) {
		s->identity = steal_ptr(&info.docker_reference);
		s->digest = steal_ptr(&info.digest);
		s->optional = steal_ptr(&info.optional);
	}
	if (sig == NULL) {
		s->problem = xstrdup("no " BERTH_COSIGN_SIG_ANNOTATION
				     " annotation");
	} else {
		for (size_t i = 0; r < 0 && i < f->n_keys; i++) {
			berth_error_free(e);
			e = NULL;
			r = berth_verify_bytes(f->keys[i], blob.ptr, blob.len,
					       sig, &e);
		}
		if (r < 0)
			take_problem(s, &e);
		else if (s->digest == NULL)
			take_problem(s, &parse_err);
		else if (strcmp(s->digest, f->digest->str) != 0)
			s->problem = xasprintf("the payload names '%s', the "
					       "image is '%s'",
					       s->digest, f->digest->str);
		else
			s->verified = true;
	}
	berth_error_free(e);
	berth_error_free(parse_err);
	berth_buf_release(&blob);
}

/* One layer of a signature manifest: a signature unless its media type
 * says otherwise (attestations share the scheme). */
static void
add_layer(found *f, const char *source, const char *location, json_t *l)
{
	berth_verify_result *res = f->res;
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	const char *dg = json_string_value(json_object_get(l, "digest"));
	const char *sig = json_string_value(
		json_object_get(json_object_get(l, "annotations"),
				BERTH_COSIGN_SIG_ANNOTATION));
	berth_descriptor pd = BERTH_DESCRIPTOR_INIT;
	berth_signature *s;

	if (mt == NULL || strcmp(mt, BERTH_MT_SIMPLESIGNING) != 0 ||
	    res->n_sigs >= SIGS_MAX)
		return;
	for (size_t i = 0; dg && i < res->n_sigs; i++) {
		berth_signature *d = &res->sigs[i];
		char *t;

		if (strcmp(d->payload, dg) != 0 ||
		    !((sig == NULL && f->sigs[i] == NULL) ||
		      (sig && f->sigs[i] && strcmp(sig, f->sigs[i]) == 0)))
			continue;
		/* The same signature in both places: one entry naming both. */
		if (strcmp(d->source, source) != 0) {
			t = xasprintf("%s+%s", d->source, source);
			free(d->source);
			d->source = t;
			t = xasprintf("%s %s", d->location, location);
			free(d->location);
			d->location = t;
		}
		return;
	}
	res->sigs = xrealloc(res->sigs, (res->n_sigs + 1) * sizeof(*s));
	f->sigs = xrealloc(f->sigs, (res->n_sigs + 1) * sizeof(char *));
	f->sigs[res->n_sigs] = sig ? xstrdup(sig) : NULL;
	s = &res->sigs[res->n_sigs++];
	memset(s, 0, sizeof(*s));
	s->source = xstrdup(source);
	s->location = xstrdup(location);
	s->payload = xstrdup(dg ? dg : "");
	if (dg == NULL || berth_digest_parse(&pd.digest, dg, NULL) < 0 ||
	    !json_is_integer(json_object_get(l, "size"))) {
		s->problem = xstrdup("the layer's digest or size is malformed");
		return;
	}
	pd.size = json_integer_value(json_object_get(l, "size"));
	check(f, s, &pd, sig);
	if (s->verified)
		res->n_verified++;
}

/* The layers of signature manifest `reference`; a missing one is none. */
static int
add_manifest(found *f, const char *source, const char *reference,
	     berth_error **err)
{
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	berth_error *e = NULL;
	json_auto_t *j = NULL;
	json_t *l;
	size_t i;
	int r;

	r = berth_registry_get_manifest(&body, f->reg, f->repo, reference, &e);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	j = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
	berth_manifest_body_release(&body);
	json_array_foreach(json_object_get(j, "layers"), i, l)
		add_layer(f, source, reference, l);
	return 0;
}

static int
add_referrers(found *f, berth_error **err)
{
	_cleanup_(berth_registry_answer_releasep) berth_registry_answer a =
		BERTH_REGISTRY_ANSWER_INIT;
	json_auto_t *idx = NULL;
	json_t *m;
	size_t i;
	int r;

	r = berth_registry_answer_get(&a, f->reg, f->repo, "referrers",
				      f->digest->str, false, err);
	if (r < 0)
		return r;
	if (a.status != 200 || a.body == NULL)
		return 0;
	idx = json_loadb(a.body, a.len, 0, NULL);
	if (!json_is_object(idx))
		return 0;
	f->res->referrers_api = true;
	json_array_foreach(json_object_get(idx, "manifests"), i, m)
	{
		const char *at =
			json_string_value(json_object_get(m, "artifactType"));
		const char *dg =
			json_string_value(json_object_get(m, "digest"));

		if (at == NULL || dg == NULL || !berth_digest_valid(dg) ||
		    strcmp(at, BERTH_COSIGN_SIG_ARTIFACT) != 0)
			continue;
		if (f->res->n_sigs >= SIGS_MAX)
			break;
		if ((r = add_manifest(f, "referrer", dg, err)) < 0)
			return r;
	}
	return 0;
}

int
berth_verify_digest(berth_verify_result *out, berth_registry *reg,
		    const char *repo, const berth_digest *digest,
		    const berth_sign_key *const *keys, size_t n_keys,
		    berth_error **err)
{
	berth_verify_result res = BERTH_VERIFY_RESULT_INIT;
	found f = {&res, reg, repo, digest, keys, n_keys, NULL};
	_cleanup_free_ char *tag = sign_sig_tag(digest);
	int r;

	if (berth_opts_check(out->version, BERTH_VERIFY_RESULT_VERSION,
			     "berth_verify_result", err) < 0)
		return BERTH_EUSAGE;
	res.digest = *digest;
	r = add_manifest(&f, "tag", tag, err);
	if (r == 0)
		r = add_referrers(&f, err);
	for (size_t i = 0; i < res.n_sigs; i++)
		free(f.sigs[i]);
	free(f.sigs);
	if (r < 0) {
		berth_verify_result_release(&res);
		return r;
	}
	*out = res;
	if (res.n_verified > 0)
		return 0;
	if (res.n_sigs == 0)
		return berth_error_set(err, BERTH_ESIGNATURE, 0,
				       "no signature of '%s' found (neither "
				       "tag '%s' nor a referrer)",
				       digest->str, tag);
	return berth_error_set(err, BERTH_ESIGNATURE, 0,
			       "none of the %zu signatures of '%s' verifies: "
			       "%s",
			       res.n_sigs, digest->str, res.sigs[0].problem);
}

int
berth_verify_image(berth_verify_result *out, const berth_ref *ref,
		   const berth_sign_key *key, const berth_sign_opts *opts,
		   berth_error **err)
{
	static const berth_sign_opts defaults = BERTH_SIGN_OPTS_INIT;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_free_ char *name = berth_ref_string(ref);
	berth_descriptor img = BERTH_DESCRIPTOR_INIT;
	int r;

	if (opts == NULL)
		opts = &defaults;
	if (berth_opts_check(opts->version, BERTH_SIGN_OPTS_VERSION,
			     "berth_sign_opts", err) < 0)
		return BERTH_EUSAGE;
	r = berth_registry_new(&reg, berth_ref_api_host(ref), opts->registry,
			       err);
	if (r == 0)
		r = berth_registry_head_manifest(&img, reg, ref->path,
						 berth_ref_reference(ref), err);
	if (r < 0)
		return r;
	r = berth_verify_digest(out, reg, ref->path, &img.digest, &key, 1, err);
	berth_descriptor_release(&img);
	if (r == BERTH_ESIGNATURE) {
		berth_error_wrap(err, r, "verifying '%s'", name);
		berth_error_hint(err,
				 out->n_sigs == 0
					 ? "sign it with 'berth sign %s --key "
					   "KEY'; an image pushed again under "
					   "its tag has a new digest and needs "
					   "a new signature"
					 : "an image pushed again under its "
					   "tag after signing has a new "
					   "digest; a signature made with "
					   "another key needs that key's "
					   "public half",
				 name);
	}
	return r;
}
