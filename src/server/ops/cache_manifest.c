/*
 * Manifests of proxied repositories. By digest: local storage once it has
 * them (a digest names its content forever), else the upstream's,
 * verified and stored. By tag: local storage while the tag was validated
 * less than the upstream's tag TTL ago; after it, a HEAD upstream
 * (Docker-Content-Digest): the same digest keeps it, another one fetches
 * the new manifest. An upstream that cannot answer (down, 429, 5xx) leaves
 * the cached manifest served with a Warning; what is not cached fails
 * with the upstream's own status and message.
 */
#include "server/ops/cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "server/handlers/oci.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

unsigned
srv_cache_fetch_result(long status)
{
	if (status == 200)
		return SRV_FETCH_OK;
	if (status == 404)
		return SRV_FETCH_NOT_FOUND;
	if (status == 429)
		return SRV_FETCH_RATE_LIMITED;
	if (status >= 500)
		return SRV_FETCH_FAILED;
	if (status == 0)
		return SRV_FETCH_UNREACHABLE;
	return SRV_FETCH_REFUSED;
}

/* An OCI code for a status the upstream sent without an errors body. */
static const char *
oci_code(srv_req *r, long status)
{
	if (status == 404)
		return r->route->id == SRV_RT_BLOB ? "BLOB_UNKNOWN"
						   : "MANIFEST_UNKNOWN";
	if (status == 403)
		return "DENIED";
	if (status == 429)
		return "TOOMANYREQUESTS";
	return "UNAVAILABLE";
}

static bool
is_oci_errors(const berth_registry_answer *a)
{
	return a->body && a->len > 0 && a->content_type &&
	       strstr(a->content_type, "json") && strstr(a->body, "\"errors\"");
}

int
srv_cache_pass_failure(srv_req *r, const berth_registry_answer *a,
		       const char *upstream, const char *msg)
{
	long status = a ? a->status : 0;
	struct MHD_Response *resp;
	_cleanup_free_ char *text = NULL;
	char *body;
	size_t len;

	if (r->route->id == SRV_RT_MANIFEST)
		srv_pull_give_back(r);
	/* No answer, or one that is no failure (3xx): the gateway failed.
	 * The upstream's 401 is about berth's credentials, not the client's:
	 * a 403 says so without asking the client to log in. */
	if (status < 400 || status > 599)
		status = MHD_HTTP_BAD_GATEWAY;
	else if (status == 401)
		status = MHD_HTTP_FORBIDDEN;
	if (a && a->status == 401)
		msg = "it refused berth's credentials (401 Unauthorized): give "
		      "its entry in 'upstreams' a username and password, or a "
		      "token";
	if (a && a->status >= 400 && a->status != 401 && is_oci_errors(a)) {
		body = xmalloc(a->len + 1);
		memcpy(body, a->body, a->len);
		body[a->len] = '\0';
		len = a->len;
	} else {
		text = xasprintf("upstream '%s': %s", upstream, msg);
		body = berth_oci_error_json(oci_code(r, status), text, NULL,
					    &len);
	}
	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		abort();
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (a && a->retry_after)
		srv_resp_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
				a->retry_after);
	r->bytes = r->head ? 0 : len;
	return srv_send(r, (unsigned)status, resp);
}

/* "429 Too Many Requests" and the like, for messages. */
static char *
status_words(const berth_registry_answer *a)
{
	return xasprintf("answered %ld", a->status);
}

/* Stores a verified upstream manifest as repo's, tagged when by tag. */
static int
store(srv_req *r, const berth_registry_answer *a, bool by_digest,
      berth_error **err)
{
	_cleanup_(berth_oci_manifest_info_releasep)
		berth_oci_manifest_info info = {0};
	berth_meta_manifest mf = {0};
	berth_meta_put put = {0};
	_cleanup_free_ char *missing = NULL;
	const char *tag = r->ref;
	int rc;

	if ((rc = berth_oci_manifest_inspect(&info, a->content_type, a->body,
					     a->len, err)) < 0)
		return berth_error_wrap(err, rc, "cannot cache it");
	berth_oci_manifest_put_fill(&info, a->digest, (int64_t)a->len, &mf,
				    &put);
	put.tags = by_digest ? NULL : &tag;
	put.n_tags = by_digest ? 0 : 1;
	put.unchecked = true;
	return srv_storage_manifest_put(r->s->store, &missing, r->name, &put,
					a->body, a->len, err);
}

/* The Warning of a cached answer the upstream could not re-validate. */
static char *
stale_warning(const srv_upstream *up, const char *why)
{
	_cleanup_free_ char *q = berth_str_quote(why, strlen(why), 160);

	/* RFC 7234 5.5.1; the text is a quoted-string: no '"' or '\'. */
	for (char *p = q; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
	return xasprintf("110 - \"stale: upstream %s could not re-validate "
			 "it: %s\"",
			 up->url, q);
}

static int
via_upstream(srv_req *r, srv_upstream *up, const char *up_repo, bool *answered,
	     char **warning)
{
	_cleanup_(berth_meta_manifest_releasep) berth_meta_manifest mf = {0};
	_cleanup_(berth_registry_answer_releasep) berth_registry_answer a =
		BERTH_REGISTRY_ANSWER_INIT;
	_cleanup_free_ char *why = NULL;
	srv_cache *c = r->s->cache;
	bool by_digest = strchr(r->ref, ':') != NULL;
	berth_error *err = NULL;
	bool local;
	int rc;

	if (by_digest ? !berth_digest_valid(r->ref)
		      : !berth_oci_tag_valid(r->ref))
		return 0; /* the handler refuses it */
	local = srv_storage_manifest_get(r->s->store, &mf, r->name, r->ref,
					 by_digest, NULL) == 0;
	if (local && by_digest) {
		srv_metric_inc(SRV_M_CACHE_HITS, SRV_CACHE_MANIFEST);
		return 0;
	}
	if (local) {
		int64_t when =
			srv_cache_validated(c, r->name, r->ref, mf.digest);

		if (when && (int64_t)time(NULL) - when < up->tag_ttl) {
			srv_metric_inc(SRV_M_CACHE_HITS, SRV_CACHE_MANIFEST);
			return 0;
		}
		rc = berth_registry_answer_get(&a, up->reg, up_repo,
					       "manifests", r->ref, true, &err);
		srv_metric_add(SRV_M_CACHE_FETCHES, SRV_CACHE_MANIFEST,
			       srv_cache_fetch_result(rc < 0 ? 0 : a.status), 0,
			       1);
		if (rc == 0 && a.status == 200 && a.digest &&
		    strcmp(a.digest, mf.digest) == 0) {
			srv_cache_note_valid(c, r->name, r->ref, mf.digest);
			srv_metric_inc(SRV_M_CACHE_HITS, SRV_CACHE_MANIFEST);
			return 0;
		}
		if (rc < 0 || (a.status != 200 && a.status != 404)) {
			why = rc < 0 ? xstrdup(err->msg) : status_words(&a);
			berth_error_free(err);
			berth_log(BERTH_LOG_WARN,
				  "serving cached '%s:%s': upstream %s could "
				  "not re-validate it: %s",
				  r->name, r->ref, up->url, why);
			srv_metric_inc(SRV_M_CACHE_STALE, SRV_CACHE_MANIFEST);
			*warning = stale_warning(up, why);
			return 0;
		}
		if (a.status == 404) {
			*answered = true;
			return srv_cache_pass_failure(
				r, &a, up->url, "the tag is gone upstream");
		}
		berth_registry_answer_release(&a);
	}
	srv_metric_inc(SRV_M_CACHE_MISSES, SRV_CACHE_MANIFEST);
	rc = berth_registry_answer_get(&a, up->reg, up_repo, "manifests",
				       r->ref, false, &err);
	srv_metric_add(SRV_M_CACHE_FETCHES, SRV_CACHE_MANIFEST,
		       rc == BERTH_EDIGEST
			       ? SRV_FETCH_BAD_DIGEST
			       : srv_cache_fetch_result(rc < 0 ? 0 : a.status),
		       0, 1);
	if (rc == 0)
		srv_metric_add(SRV_M_CACHE_BYTES, SRV_CACHE_MANIFEST, 0, 0,
			       (int64_t)a.len);
	if (rc < 0 || a.status != 200) {
		why = rc < 0 ? xstrdup(err->msg) : status_words(&a);
		berth_error_free(err);
		if (local) { /* the tag moved, and the new one is not here */
			srv_metric_inc(SRV_M_CACHE_STALE, SRV_CACHE_MANIFEST);
			*warning = stale_warning(up, why);
			return 0;
		}
		berth_log(BERTH_LOG_INFO,
			  "manifest '%s:%s' from upstream %s: %s", r->name,
			  r->ref, up->url, why);
		*answered = true;
		return srv_cache_pass_failure(r, rc < 0 ? NULL : &a, up->url,
					      why);
	}
	if (store(r, &a, by_digest, &err) < 0) {
		_cleanup_free_ char *msg = xstrdup(err->msg);

		berth_log(BERTH_LOG_WARN,
			  "manifest '%s:%s' from upstream %s: %s", r->name,
			  r->ref, up->url, msg);
		*answered = true;
		if (srv_storage_full(err) || srv_storage_read_only(err))
			return srv_fail_err(r, SRV_E_AUTO, &err);
		berth_error_free(err);
		a.status = 0;
		return srv_cache_pass_failure(r, &a, up->url, msg);
	}
	if (!by_digest)
		srv_cache_note_valid(c, r->name, r->ref, a.digest);
	return 0;
}

int
srv_cache_manifest(srv_req *r, bool *answered, char **warning)
{
	srv_upstreams *ups = srv_cache_upstreams(r->s->cache);
	_cleanup_free_ char *up_repo = NULL;
	srv_upstream *up = srv_upstreams_route(ups, r->name, &up_repo);
	int rc = 0;

	*answered = false;
	*warning = NULL;
	if (up)
		rc = via_upstream(r, up, up_repo, answered, warning);
	srv_upstreams_put(ups);
	return rc;
}

int
srv_cache_refuse_write(srv_req *r)
{
	srv_upstreams *ups = srv_cache_upstreams(r->s->cache);
	_cleanup_free_ char *up_repo = NULL;
	srv_upstream *up = srv_upstreams_route(ups, r->name, &up_repo);
	int rc = 0;

	if (up) {
		srv_fail(r, SRV_E_DENIED, NULL,
			 "repository '%s' is a read-only pull-through cache "
			 "of %s: push to the upstream instead",
			 r->name, up->url);
		rc = BERTH_EDENIED;
	}
	srv_upstreams_put(ups);
	return rc;
}
