/*
 * A registry's answer passed on as it came: for a pull-through cache,
 * which serves the upstream's status, message and Retry-After to its own
 * clients rather than a berth error. The requests go through the same
 * loop as every other (reg_send: authorisation, retries, scheme).
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

void
berth_registry_answer_release(berth_registry_answer *a)
{
	if (a == NULL)
		return;
	free(a->content_type);
	free(a->digest);
	free(a->retry_after);
	free(a->body);
	BERTH_VERSIONED_RESET(a);
	a->size = -1;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A 200 manifest must hash to the digest asked for or announced. */
static int
check_manifest(berth_registry *r, const char *repo, const char *reference,
	       berth_registry_answer *a, berth_error **err)
{
	const char *want = strchr(reference, ':') ? reference : a->digest;
	berth_digest w, got;

	if (want == NULL || berth_digest_parse(&w, want, NULL) < 0) {
		berth_digest_of(&got, BERTH_DIGEST_SHA256, a->body, a->len);
		free(a->digest);
		a->digest = xstrdup(got.str);
		return 0;
	}
	berth_digest_of(&got, w.alg, a->body, a->len);
	if (strcmp(got.str, w.str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "manifest '%s' from '%s/%s' hashes to "
				       "'%s', not '%s'",
				       reference, r->name, repo, got.str,
				       w.str);
	free(a->digest);
	a->digest = xstrdup(got.str);
	return 0;
}

int
berth_registry_answer_get(berth_registry_answer *out, berth_registry *r,
			  const char *repo, const char *kind,
			  const char *reference, bool head, berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_registry_answer a = BERTH_REGISTRY_ANSWER_INIT;
	bool manifest = strcmp(kind, "manifests") == 0;
	bool referrers = strcmp(kind, "referrers") == 0;
	berth_http_resp resp;
	int rc;

	if (berth_opts_check(out->version, BERTH_REGISTRY_ANSWER_VERSION,
			     "berth_registry_answer", err) < 0)
		return BERTH_EUSAGE;
	if (!manifest && !referrers && strcmp(kind, "blobs") != 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "unknown kind '%s' (manifests, blobs, "
				       "referrers)",
				       kind);
	if (!manifest && !referrers && !head)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "blobs are fetched with "
				       "berth_registry_fetch_blobs");
	if ((rc = reg_check_repo(r, repo, err)) < 0 ||
	    (rc = reg_check_reference(reference, err)) < 0)
		return rc;
	url = reg_url(r, "%s/%s/%s", repo, kind, reference);
	scope = reg_scope(repo, "pull");
	req.method = head ? "HEAD" : "GET";
	req.url = url;
	req.accept = manifest	 ? BERTH_MANIFEST_ACCEPT
		     : referrers ? BERTH_MT_OCI_INDEX
				 : NULL;
	req.follow = true;
	req.max_body = BERTH_MANIFEST_MAX;
	rc = reg_request(r, &req, scope, &resp, err);
	if (rc == BERTH_ETOOBIG)
		rc = berth_error_set(err, BERTH_ETOOBIG, 0,
				     "%s '%s' in '%s/%s' is larger than 4 MiB",
				     manifest ? "manifest" : "answer for",
				     reference, r->name, repo);
	if (rc < 0) {
		berth_http_resp_release(&resp);
		return rc;
	}
	reg_log_quota(r, &resp);
	a.status = resp.status;
	a.content_type = reg_media_type(resp.hdr[BERTH_H_CONTENT_TYPE]);
	a.digest = dup_or_null(resp.hdr[BERTH_H_DOCKER_CONTENT_DIGEST]);
	a.retry_after = dup_or_null(resp.hdr[BERTH_H_RETRY_AFTER]);
	a.size = resp.content_length;
	a.len = resp.body.len;
	a.body = berth_buf_detach(&resp.body);
	berth_http_resp_release(&resp);
	if (manifest && !head && a.status == 200 &&
	    (rc = check_manifest(r, repo, reference, &a, err)) < 0) {
		berth_registry_answer_release(&a);
		return rc;
	}
	if (manifest && !head && a.status == 200)
		a.size = (int64_t)a.len;
	*out = a;
	return 0;
}
