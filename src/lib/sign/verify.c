/*
 * berth verify: every signature of an image, from the sha256-<hex>.sig
 * tag and from the referrers of cosign's artifactType, each checked
 * against the keys and against the digest the image has now. A signature
 * found in both places is listed once.
 */
#include "sign/sign_int.h"
#include "sign/sigcheck.h"

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

void
berth_verify_result_release(berth_verify_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_sigs; i++)
		sign_signature_release(&r->sigs[i]);
	free(r->sigs);
	BERTH_VERSIONED_RESET(r);
}

static int
fetch_payload(berth_buf *out, void *ud, const berth_descriptor *d,
	      berth_error **err)
{
	found *f = ud;

	return fetch_small_blob(out, f->reg, f->repo, d, err);
}

/* One layer of a signature manifest: a signature unless its media type
 * says otherwise (attestations share the scheme). */
static void
add_layer(found *f, const char *source, const char *location, json_t *l)
{
	berth_verify_result *res = f->res;
	sign_check_ctx c = {f->digest, f->keys, f->n_keys, fetch_payload, f};
	berth_signature *s;
	sign_layer sl;
	const char *dg, *sig;

	if (!sign_layer_read(&sl, l) || res->n_sigs >= SIGS_MAX)
		return;
	dg = sl.digest;
	sig = sl.sig;
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
	sign_check_layer(&c, s, &sl);
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
