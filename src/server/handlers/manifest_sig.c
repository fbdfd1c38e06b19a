/*
 * require-signatures at a manifest GET or HEAD (access/sigrules.h): the
 * signatures of the manifest answered, looked up in this server's own
 * storage when the request comes (so a signature pushed after the image
 * counts at once): the manifest tagged sha256-<hex>.sig in the same
 * repository, and the referrers of cosign's artifactType. Each is
 * checked by sign/sigcheck.c, the rule `berth verify` applies too.
 *
 * What is checked is the manifest the request names: an image index
 * needs a signature of the index's digest (what `cosign sign` and `berth
 * sign` sign when given its tag), and a platform manifest fetched by
 * digest a signature of its own (cosign sign --recursive makes them):
 * that its index is signed does not count. Signature manifests (every
 * layer cosign's simple-signing payload) are served unsigned, or nothing
 * could read the signatures.
 *
 * A HEAD, which carries no content, is answered to callers who may push
 * to the repository: signing tools (berth sign, cosign sign) learn the
 * digest to sign that way. Other callers get the GET's refusal.
 */
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "berth/manifest.h"
#include "berth/sign.h"
#include "server/access/sigrules.h"
#include "server/server.h"
#include "sign/sigcheck.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* A repository may hold many referrers; a request reads at most these. */
#define SIG_MANIFESTS_MAX 64

typedef struct lookup {
	srv_storage *st;
	const char *repo;
} lookup;

/* Blob (or manifest) d of the repository, whole: at most max bytes. */
static int
read_blob(berth_buf *out, const lookup *lk, const berth_digest *d, size_t max,
	  berth_error **err)
{
	_cleanup_(berth_bs_reader_closep) berth_bs_reader *rd = NULL;
	berth_buf b;
	berth_digest got;
	int64_t size;
	char chunk[16384];
	ssize_t n;
	int r;

	if ((r = srv_storage_blob_stat(lk->st, lk->repo, d, &size, err)) < 0)
		return r;
	if (size < 0 || (uint64_t)size > max)
		return berth_error_set(err, BERTH_ETOOBIG, 0,
				       "'%s' is %lld bytes (over %zu)", d->str,
				       (long long)size, max);
	if ((r = srv_storage_blob_open_range(lk->st, &rd, d, size, 0, -1,
					     err)) < 0)
		return r;
	berth_buf_init(&b, max + 1);
	while ((n = rd->ops->reader_read(rd, chunk, sizeof(chunk), err)) > 0)
		if ((r = berth_buf_put(&b, chunk, (size_t)n, err)) < 0)
			break;
	if (n < 0 || r < 0) {
		berth_buf_release(&b);
		return n < 0 ? (int)n : r;
	}
	berth_digest_of(&got, d->alg, berth_buf_cstr(&b), b.len);
	if (strcmp(got.str, d->str) != 0) {
		berth_buf_release(&b);
		return berth_error_set(err, BERTH_ECORRUPT, 0,
				       "blob '%s' is damaged", d->str);
	}
	*out = b;
	return 0;
}

static int
fetch_payload(berth_buf *out, void *ud, const berth_descriptor *d,
	      berth_error **err)
{
	return read_blob(out, ud, &d->digest, SIGN_PAYLOAD_MAX, err);
}

/* Signature manifest `digest` checked into *t; one that cannot be read
 * (gone meanwhile, damaged) adds nothing. */
static void
add_manifest(const sign_check_ctx *c, sign_tally *t, const char *digest)
{
	berth_buf body = BERTH_BUF_INIT;
	berth_error *e = NULL;
	berth_digest d;

	if (berth_digest_parse(&d, digest, NULL) < 0 ||
	    read_blob(&body, c->ud, &d, BERTH_MANIFEST_MAX, &e) < 0) {
		berth_error_free(e);
		return;
	}
	sign_check_manifest(c, t, berth_buf_cstr(&body), body.len);
	berth_buf_release(&body);
}

/* Every signature of c->digest the repository holds, into *t, until one
 * verifies. */
static int
tally(const sign_check_ctx *c, sign_tally *t, berth_error **err)
{
	const lookup *lk = c->ud;
	_cleanup_free_ char *tag = sign_sig_tag(c->digest);
	berth_meta_manifest mf = {0}, *v = NULL;
	berth_error *e = NULL;
	size_t n = 0;
	int r;

	r = srv_storage_manifest_get(lk->st, &mf, lk->repo, tag, false, &e);
	if (r < 0 && r != BERTH_ENOTFOUND)
		return berth_error_move(err, &e, r);
	berth_error_free(e);
	if (r == 0)
		add_manifest(c, t, mf.digest);
	berth_meta_manifest_release(&mf);
	if (t->n_verified > 0)
		return 0;
	if ((r = srv_storage_referrers(lk->st, &v, &n, lk->repo, c->digest->str,
				       BERTH_COSIGN_SIG_ARTIFACT, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (t->n_verified == 0 && i < SIG_MANIFESTS_MAX)
			add_manifest(c, t, v[i].digest);
		berth_meta_manifest_release(&v[i]);
	}
	free(v);
	return 0;
}

/* The 403: which rule, why (the message), and what to do (the detail). */
static int
refuse(srv_req *r, const srv_sigrule *q, const char *pattern,
       const berth_digest *d, const sign_tally *t)
{
	const char *host = srv_header(r, "Host");
	bool by_digest = strchr(r->ref, ':') != NULL;
	_cleanup_free_ char *found = NULL, *tag = sign_sig_tag(d);
	berth_error *e = NULL;

	if (t->n_sigs == 0)
		found = xstrdup("none is stored");
	else
		found = xasprintf("%zu checked: %s", t->n_sigs,
				  t->problem ? t->problem : "failed");
	berth_error_set(&e, BERTH_EDENIED, 0,
			"%s ('%s'): no signature of '%s' by its keys verifies "
			"(%s)",
			q->name, pattern, d->str, found);
	berth_error_hint(&e,
			 "sign it with 'berth sign %s/%s%s%s --key KEY' or "
			 "cosign sign --key KEY, KEY the private half of one "
			 "of %s; signatures count under tag '%s' or as "
			 "referrers, and an image pushed again under its tag "
			 "has a new digest to sign",
			 host ? host : "REGISTRY", r->name,
			 by_digest ? "@" : ":", r->ref, q->key_names, tag);
	r->denied = true;
	r->denied_need = SRV_NEED_PULL;
	free(r->audit_detail);
	r->audit_detail =
		xasprintf("%s: no signature by its keys verifies", q->name);
	srv_pull_give_back(r);
	return srv_fail_err(r, SRV_E_DENIED, &e);
}

int
srv_manifest_sig_check(srv_req *r, const berth_meta_manifest *mf)
{
	srv_sigrules *rules = srv_sigrules_current(r->s);
	const char *pattern = NULL;
	const srv_sigrule *q = srv_sigrules_for(rules, r->name, &pattern);
	lookup lk = {r->s->store, r->name};
	sign_check_ctx c = {NULL, NULL, 0, fetch_payload, &lk};
	berth_buf body = BERTH_BUF_INIT;
	sign_tally t = {0};
	berth_error *err = NULL;
	berth_digest d;
	int rc = 0;

	if (q == NULL || (r->head && srv_can_push(r, r->name)))
		goto out;
	if (berth_digest_parse(&d, mf->digest, &err) < 0 ||
	    read_blob(&body, &lk, &d, BERTH_MANIFEST_MAX, &err) < 0) {
		rc = srv_fail_err(r, SRV_E_AUTO, &err);
		goto out;
	}
	if (sign_manifest_is_signature(berth_buf_cstr(&body), body.len))
		goto out;
	c.digest = &d;
	c.keys = (const berth_sign_key *const *)q->keys;
	c.n_keys = q->n_keys;
	if (tally(&c, &t, &err) < 0)
		rc = srv_fail_err(r, SRV_E_AUTO, &err);
	else if (t.n_verified == 0)
		rc = refuse(r, q, pattern, &d, &t);
out:
	berth_buf_release(&body);
	sign_tally_release(&t);
	srv_sigrules_put(rules);
	return rc;
}
