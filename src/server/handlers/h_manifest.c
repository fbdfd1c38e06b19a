/*
 * /v2/<name>/manifests/<tag-or-digest>: GET, HEAD, PUT, DELETE.
 *
 * A manifest's bytes live in the blob store under their digest, exactly as
 * pushed; the metadata store says which repository has it, with which
 * content type, and which tags point at it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/digest.h"
#include "berth/log.h"
#include "berth/manifest.h"
#include "server/handlers/blob_resp.h"
#include "server/handlers/oci.h"
#include "server/ops/cache.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* NAME_UNKNOWN when the repository does not exist, else `code`. */
static int
not_found(srv_req *r, srv_oci code, const char *what)
{
	if (!srv_storage_repo_exists(r->s->store, r->name))
		return srv_fail(r, SRV_E_NAME_UNKNOWN, NULL,
				"repository '%s' is unknown", r->name);
	return srv_fail(r, code, NULL, "%s '%.200s' is not in repository '%s'",
			what, r->ref, r->name);
}

int
h_manifest_get(srv_req *r)
{
	_cleanup_(berth_meta_manifest_releasep) berth_meta_manifest mf = {0};
	berth_error *err = NULL;
	struct MHD_Response *resp;
	bool by_digest = strchr(r->ref, ':') != NULL;
	berth_digest d;
	_cleanup_free_ char *etag = NULL, *warning = NULL;
	bool answered = false;
	int rc;

	/* A proxied repository: local storage made current first. */
	rc = srv_cache_manifest(r, &answered, &warning);
	if (answered)
		return rc;
	if (by_digest) {
		if (berth_digest_parse(&d, r->ref, &err) < 0)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
	} else if (!berth_oci_tag_valid(r->ref)) {
		srv_pull_give_back(r);
		return srv_fail(r, SRV_E_MANIFEST_UNKNOWN, NULL,
				"'%.200s' is neither a valid tag nor a digest",
				r->ref);
	}
	if (srv_storage_manifest_get(r->s->store, &mf, r->name, r->ref,
				     by_digest, &err) < 0) {
		if (err->code != BERTH_ENOTFOUND)
			return srv_fail_err(r, SRV_E_AUTO, &err);
		berth_error_free(err);
		srv_pull_give_back(r);
		return not_found(r, SRV_E_MANIFEST_UNKNOWN, "manifest");
	}
	if ((rc = srv_manifest_sig_check(r, &mf)) != 0)
		return rc;
	if (r->head) {
		resp = srv_resp_head((uint64_t)mf.size);
	} else {
		berth_bs_reader *rd = NULL;
		unsigned status = MHD_HTTP_OK;

		if (berth_digest_parse(&d, mf.digest, &err) < 0 ||
		    srv_storage_blob_open_range(r->s->store, &rd, &d, mf.size,
						0, -1, &err) < 0) {
			if (err->code == BERTH_ECORRUPT) {
				berth_error_free(err);
				return srv_fail(r, SRV_E_INTERNAL, NULL,
						"store damaged");
			}
			return srv_fail_err(r, SRV_E_AUTO, &err);
		}
		/* Manifests are small and answered here, never redirected. */
		resp = srv_resp_reader(rd, false, &status, &r->bytes);
		/* A HEAD is not a pull (as in the audit log). */
		srv_storage_note_pull(r->s->store, r->name,
				      by_digest ? NULL : r->ref, mf.digest,
				      (int64_t)time(NULL));
	}
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mf.media_type);
	srv_resp_header(resp, "Docker-Content-Digest", mf.digest);
	etag = xasprintf("\"%s\"", mf.digest);
	srv_resp_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	/* HEAD too, as distribution reports it. */
	srv_notify(r, SRV_EV_PULL, mf.media_type, mf.digest, mf.size,
		   by_digest ? NULL : r->ref, NULL);
	if (warning)
		srv_resp_header(resp, "Warning", warning);
	return srv_send(r, MHD_HTTP_OK, resp);
}

/* Collects the `tag` query arguments of a PUT by digest. */
typedef struct tag_list {
	const char **v;
	size_t n;
} tag_list;

static enum MHD_Result
collect_tag(void *cls, enum MHD_ValueKind kind, const char *key,
	    const char *value)
{
	tag_list *t = cls;

	if (strcmp(key, "tag") == 0 && value) {
		t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
		t->v[t->n++] = value;
	}
	return MHD_YES;
}

int
h_manifest_put(srv_req *r)
{
	_cleanup_(berth_oci_manifest_info_releasep)
		berth_oci_manifest_info info = {0};
	berth_meta_manifest mf = {0};
	_cleanup_free_ char *missing = NULL, *location = NULL;
	_cleanup_free_ const char **tag_v = NULL;
	berth_error *err = NULL;
	struct MHD_Response *resp;
	bool by_digest = strchr(r->ref, ':') != NULL;
	tag_list extra = {0};
	berth_meta_put put = {0};
	berth_digest want, got;
	const char *body = berth_buf_cstr(&r->body);
	size_t len = r->body.len, i, n_tags = 0;

	if (by_digest) {
		if (berth_digest_parse(&want, r->ref, &err) < 0)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
		berth_digest_of(&got, want.alg, body, len);
		if (strcmp(got.str, want.str) != 0)
			return srv_fail(r, SRV_E_DIGEST_INVALID, NULL,
					"manifest content is '%s', not '%s'",
					got.str, want.str);
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
					  collect_tag, &extra);
	} else {
		if (!berth_oci_tag_valid(r->ref))
			return srv_fail(r, SRV_E_MANIFEST_INVALID, NULL,
					"invalid tag '%.200s'", r->ref);
		berth_digest_of(&got, BERTH_DIGEST_SHA256, body, len);
	}
	tag_v = extra.v;
	for (i = 0; i < extra.n; i++)
		if (!berth_oci_tag_valid(extra.v[i]))
			return srv_fail(r, SRV_E_MANIFEST_INVALID, NULL,
					"invalid tag '%.200s'", extra.v[i]);
	if (berth_oci_manifest_inspect(&info, srv_header(r, "Content-Type"),
				       body, len, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ETOOBIG
					    ? SRV_E_MANIFEST_TOO_BIG
					    : SRV_E_MANIFEST_INVALID,
				    &err);

	berth_oci_manifest_put_fill(&info, got.str, (int64_t)len, &mf, &put);
	if (by_digest) {
		put.tags = tag_v;
		n_tags = extra.n;
	} else {
		put.tags = (const char *const *)&r->ref;
		n_tags = 1;
	}
	put.n_tags = n_tags;
	if (srv_storage_manifest_put(r->s->store, &missing, r->name, &put, body,
				     len, &err) < 0) {
		if (err->code == BERTH_ENOTFOUND && missing) {
			srv_fail(r, SRV_E_MANIFEST_BLOB_UNKNOWN, NULL,
				 "manifest references '%s', which is not in "
				 "repository '%s'",
				 missing, r->name);
			berth_error_free(err);
			return BERTH_ENOTFOUND;
		}
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	resp = MHD_create_response_from_buffer(0, (void *)"",
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		abort();
	location = xasprintf("/v2/%s/manifests/%s", r->name, got.str);
	srv_resp_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	srv_resp_header(resp, "Docker-Content-Digest", got.str);
	if (info.subject)
		srv_resp_header(resp, "OCI-Subject", info.subject);
	for (i = 0; by_digest && i < extra.n; i++)
		srv_resp_header(resp, "OCI-Tag", extra.v[i]);
	/* One event per tag (distribution has at most one), or one untagged. */
	for (i = 0; i < (n_tags ? n_tags : 1); i++)
		srv_notify(r, SRV_EV_PUSH, info.media_type, got.str,
			   (int64_t)len, n_tags ? put.tags[i] : NULL, NULL);
	return srv_send(r, MHD_HTTP_CREATED, resp);
}

int
h_manifest_delete(srv_req *r)
{
	berth_error *err = NULL;
	bool by_digest = strchr(r->ref, ':') != NULL;
	berth_digest d;
	int rc;

	if (by_digest) {
		if (berth_digest_parse(&d, r->ref, &err) < 0)
			return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
		rc = srv_storage_manifest_delete(r->s->store, r->name, &d,
						 &err);
	} else {
		if (!berth_oci_tag_valid(r->ref))
			return srv_fail(r, SRV_E_MANIFEST_UNKNOWN, NULL,
					"invalid tag '%.200s'", r->ref);
		rc = srv_storage_tag_delete(r->s->store, r->name, r->ref, &err);
	}
	if (rc < 0) {
		if (err->code != BERTH_ENOTFOUND)
			return srv_fail_err(r, SRV_E_AUTO, &err);
		berth_error_free(err);
		return not_found(r, SRV_E_MANIFEST_UNKNOWN,
				 by_digest ? "manifest" : "tag");
	}
	/* As distribution: a manifest by its digest, a tag by its name. */
	srv_notify(r, SRV_EV_DELETE, NULL, by_digest ? d.str : NULL, -1,
		   by_digest ? NULL : r->ref, NULL);
	return srv_send_empty(r, MHD_HTTP_ACCEPTED);
}
