/*
 * berth sign: a signature goes where cosign and containers/image look for
 * it. The sha256-<hex>.sig tag holds an OCI manifest whose layers are the
 * payload blobs, each with its signature in an annotation; a new signature
 * is appended to the layers there (a read-modify-write: two signers at the
 * same moment can lose one, as with cosign). Where the registry answers the
 * referrers API, the signature is also pushed as a referrer of the image,
 * the OCI 1.1 way.
 */
#include "sign/sign_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/manifest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

#define MT_EMPTY "application/vnd.oci.empty.v1+json"

char *
sign_sig_tag(const berth_digest *d)
{
	const char *colon = strchr(d->str, ':');

	return xasprintf("%.*s-%s.sig", (int)(colon - d->str), d->str,
			 colon + 1);
}

void
berth_sign_result_release(berth_sign_result *r)
{
	if (r == NULL)
		return;
	free(r->identity);
	free(r->sig_tag);
	BERTH_VERSIONED_RESET(r);
}

/* Makes blob p[0..len) present in repo (a HEAD first: signatures share
 * their config and empty blobs). */
static int
push_mem(berth_digest *out, berth_registry *reg, const char *repo,
	 const void *p, size_t len, berth_error **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	bool have = false;
	int r;

	berth_digest_of(out, BERTH_DIGEST_SHA256, p, len);
	if ((r = berth_registry_stat_blob(&have, NULL, reg, repo, out, err)) <
		    0 ||
	    have)
		return r;
	f = tmpfile();
	if (f == NULL || fwrite(p, 1, len, f) != len || fflush(f) != 0 ||
	    lseek(fileno(f), 0, SEEK_SET) < 0)
		return berth_error_set(err, BERTH_EIO, errno,
				       "cannot write a temporary file: %s",
				       strerror(errno));
	return berth_registry_push_blob(reg, repo, out, (int64_t)len, fileno(f),
					err);
}

static char *
dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s == NULL)
		abort();
	return s;
}

/* The layers of the existing .sig manifest (a new array when there is
 * none). A manifest there that berth cannot read is not overwritten. */
static int
existing_layers(json_t **out, berth_registry *reg, const char *repo,
		const char *tag, berth_error **err)
{
	berth_manifest_body body = BERTH_MANIFEST_BODY_INIT;
	berth_error *e = NULL;
	json_auto_t *j = NULL;
	json_t *layers;
	int r;

	r = berth_registry_get_manifest(&body, reg, repo, tag, &e);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		*out = json_array();
		return 0;
	}
	if (r < 0)
		return berth_error_move(err, &e, r);
	j = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
	berth_manifest_body_release(&body);
	layers = json_object_get(j, "layers");
	if (!json_is_array(layers)) {
		r = berth_error_set(err, BERTH_EPROTO, 0,
				    "'%s:%s' is not a signature manifest "
				    "(no layers); berth leaves it as it is",
				    repo, tag);
		berth_error_hint(err, "delete that tag if it is not needed, "
				      "then sign again");
		return r;
	}
	*out = json_incref(layers);
	return 0;
}

/* The image config cosign's .sig images carry (go-containerregistry's
 * empty image with the layers appended). */
static char *
sig_config(json_t *layers)
{
	json_auto_t *c = NULL;
	json_t *hist = json_array(), *diffs = json_array(), *l;
	size_t i;

	json_array_foreach(layers, i, l)
	{
		json_array_append_new(hist, json_pack("{s:s}", "created",
						      "0001-01-01T00:00:00Z"));
		json_array_append(diffs, json_object_get(l, "digest"));
	}
	c = json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:o},s:{}}", "architecture", "",
		      "created", "0001-01-01T00:00:00Z", "history", hist, "os",
		      "", "rootfs", "type", "layers", "diff_ids", diffs,
		      "config");
	return dump(c);
}

static int
put_json(berth_digest *digest, berth_registry *reg, const char *repo,
	 const char *tag, json_t *m, berth_error **err)
{
	_cleanup_free_ char *body = dump(m);
	berth_digest d;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, body, strlen(body));
	if (digest)
		*digest = d;
	return berth_registry_put_manifest(reg, repo, tag ? tag : d.str,
					   BERTH_MT_OCI_MANIFEST, body,
					   strlen(body), err);
}

static int
push_sig_tag(berth_sign_result *res, berth_registry *reg, const char *repo,
	     json_t *layer, berth_error **err)
{
	json_auto_t *layers = NULL, *m = NULL;
	_cleanup_free_ char *config = NULL;
	berth_digest cd;
	int r;

	if ((r = existing_layers(&layers, reg, repo, res->sig_tag, err)) < 0)
		return r;
	json_array_append(layers, layer);
	config = sig_config(layers);
	if ((r = push_mem(&cd, reg, repo, config, strlen(config), err)) < 0)
		return r;
	m = json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:O}", "schemaVersion", 2,
		      "mediaType", BERTH_MT_OCI_MANIFEST, "config", "mediaType",
		      BERTH_MT_OCI_CONFIG, "size", (json_int_t)strlen(config),
		      "digest", cd.str, "layers", layers);
	res->n_signatures = json_array_size(layers);
	return put_json(NULL, reg, repo, res->sig_tag, m, err);
}

/* Does the registry answer GET /v2/REPO/referrers/DIGEST? */
static int
has_referrers(bool *out, berth_registry *reg, const char *repo,
	      const berth_digest *d, berth_error **err)
{
	_cleanup_(berth_registry_answer_releasep) berth_registry_answer a =
		BERTH_REGISTRY_ANSWER_INIT;
	int r;

	r = berth_registry_answer_get(&a, reg, repo, "referrers", d->str, false,
				      err);
	*out = r == 0 && a.status == 200 && a.content_type &&
	       strcmp(a.content_type, BERTH_MT_OCI_INDEX) == 0;
	return r;
}

static int
push_referrer(berth_sign_result *res, berth_registry *reg, const char *repo,
	      const berth_descriptor *img, json_t *layer, berth_error **err)
{
	json_auto_t *m = NULL;
	berth_digest ed;
	int r;

	if ((r = push_mem(&ed, reg, repo, "{}", 2, err)) < 0)
		return r;
	m = json_pack("{s:i,s:s,s:s,s:{s:s,s:i,s:s},s:[O],s:{s:s,s:I,s:s}}",
		      "schemaVersion", 2, "mediaType", BERTH_MT_OCI_MANIFEST,
		      "artifactType", BERTH_COSIGN_SIG_ARTIFACT, "config",
		      "mediaType", MT_EMPTY, "size", 2, "digest", ed.str,
		      "layers", layer, "subject", "mediaType",
		      img->media_type ? img->media_type : BERTH_MT_OCI_MANIFEST,
		      "size", (json_int_t)img->size, "digest", img->digest.str);
	return put_json(&res->referrer, reg, repo, NULL, m, err);
}

int
berth_sign_image(berth_sign_result *out, const berth_ref *ref,
		 const berth_sign_key *key, const berth_sign_opts *opts,
		 berth_error **err)
{
	static const berth_sign_opts defaults = BERTH_SIGN_OPTS_INIT;
	_cleanup_(berth_registry_freep) berth_registry *reg = NULL;
	_cleanup_free_ char *payload = NULL, *sig = NULL;
	berth_sign_result res = BERTH_SIGN_RESULT_INIT;
	berth_descriptor img = BERTH_DESCRIPTOR_INIT;
	json_auto_t *layer = NULL;
	berth_digest pd;
	int r;

	if (opts == NULL)
		opts = &defaults;
	if (berth_opts_check(opts->version, BERTH_SIGN_OPTS_VERSION,
			     "berth_sign_opts", err) < 0 ||
	    berth_opts_check(out->version, BERTH_SIGN_RESULT_VERSION,
			     "berth_sign_result", err) < 0)
		return BERTH_EUSAGE;
	r = berth_registry_new(&reg, berth_ref_api_host(ref), opts->registry,
			       err);
	if (r == 0)
		r = berth_registry_head_manifest(&img, reg, ref->path,
						 berth_ref_reference(ref), err);
	if (r < 0)
		return r;
	res.digest = img.digest;
	res.identity = berth_sign_identity(ref);
	res.sig_tag = sign_sig_tag(&img.digest);
	payload = berth_sign_payload(res.identity, img.digest.str);
	r = berth_sign_bytes(&sig, key, payload, strlen(payload), err);
	if (r == 0)
		r = push_mem(&pd, reg, ref->path, payload, strlen(payload),
			     err);
	if (r == 0) {
		layer = json_pack("{s:s,s:I,s:s,s:{s:s}}", "mediaType",
				  BERTH_MT_SIMPLESIGNING, "size",
				  (json_int_t)strlen(payload), "digest", pd.str,
				  "annotations", BERTH_COSIGN_SIG_ANNOTATION,
				  sig);
		r = push_sig_tag(&res, reg, ref->path, layer, err);
	}
	if (r == 0 && !opts->no_referrer)
		r = has_referrers(&res.referrers_api, reg, ref->path,
				  &img.digest, err);
	if (r == 0 && res.referrers_api)
		r = push_referrer(&res, reg, ref->path, &img, layer, err);
	berth_descriptor_release(&img);
	if (r < 0) {
		berth_sign_result_release(&res);
		return r;
	}
	*out = res;
	return 0;
}
