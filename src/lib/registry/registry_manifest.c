/*
 * Manifests (GET with digest checks, HEAD) and tag lists (paginated).
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "berth/log.h"
#include "berth/ref.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

/* A page of tags, and all pages together, are bounded. */
#define TAGS_PAGE_MAX ((size_t)8 << 20)
#define TAGS_MAX 1000000
#define TAGS_PAGES_MAX 10000

void
berth_manifest_body_release(berth_manifest_body *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b->content_type);
	BERTH_VERSIONED_RESET(b);
}

/*
 * A manifest's 404. Registries (distribution among them) answer
 * MANIFEST_UNKNOWN even when the whole repository is unknown; one look at
 * the tag list tells the two apart, so the message can say which.
 */
static int
manifest_404(berth_registry *r, const char *repo, const char *subject,
	     const berth_http_resp *resp, berth_error **err)
{
	_cleanup_free_ char *code = berth_http_oci_error_code(resp);
	_cleanup_free_ char *url = NULL, *scope = NULL, *code2 = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp probe;
	berth_error *e = NULL;
	int rc;

	if (code == NULL || strcmp(code, "NAME_UNKNOWN") != 0) {
		url = reg_url(r, "%s/tags/list?n=1", repo);
		scope = reg_scope(repo, "pull");
		req.url = url;
		req.max_body = (size_t)64 << 10;
		rc = reg_request(r, &req, scope, &probe, &e);
		if (rc == 0 && probe.status == 404) {
			code2 = berth_http_oci_error_code(&probe);
			if (code2 && strcmp(code2, "NAME_UNKNOWN") == 0)
				rc = reg_fail(r, &probe, repo, subject, "pull",
					      err);
		}
		berth_error_free(e);
		berth_http_resp_release(&probe);
		if (rc < 0)
			return rc;
	}
	return reg_fail(r, resp, repo, subject, "pull", err);
}

/* Checks the body against a digest reference or the registry's header. */
static int
verify_manifest(berth_registry *r, const char *repo, const char *reference,
		const berth_http_resp *resp, berth_manifest_body *out,
		berth_error **err)
{
	const char *hdr = resp->hdr[BERTH_H_DOCKER_CONTENT_DIGEST];
	berth_digest want, got;

	if (berth_digest_valid(reference)) {
		berth_digest_parse(&want, reference, NULL);
		berth_digest_of(&got, want.alg, out->data, out->len);
		if (strcmp(got.str, want.str) != 0)
			return berth_error_set(
				err, BERTH_EDIGEST, 0,
				"manifest '%s' from '%s/%s' does "
				"not match its digest (its content "
				"hashes to '%s')",
				reference, r->name, repo, got.str);
		out->digest = got;
		return 0;
	}
	berth_digest_of(&out->digest, BERTH_DIGEST_SHA256, out->data, out->len);
	if (hdr == NULL || !berth_digest_valid(hdr)) {
		if (hdr)
			berth_log(BERTH_LOG_DEBUG,
				  "registry '%s': ignoring an "
				  "invalid Docker-Content-Digest",
				  r->name);
		return 0;
	}
	berth_digest_parse(&want, hdr, NULL);
	if (want.alg == BERTH_DIGEST_SHA256)
		got = out->digest;
	else
		berth_digest_of(&got, want.alg, out->data, out->len);
	if (strcmp(got.str, want.str) != 0)
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "manifest '%s' from '%s/%s' hashes to "
				       "'%s', but the registry says '%s'",
				       reference, r->name, repo, got.str,
				       want.str);
	return 0;
}

int
berth_registry_get_manifest(berth_manifest_body *out, berth_registry *r,
			    const char *repo, const char *reference,
			    berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL, *subject = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_manifest_body b = BERTH_MANIFEST_BODY_INIT;
	berth_http_resp resp;
	int rc;

	if (berth_opts_check(out->version, BERTH_MANIFEST_BODY_VERSION,
			     "berth_manifest_body", err) < 0)
		return BERTH_EUSAGE;
	BERTH_VERSIONED_RESET(out);
	if ((rc = reg_check_repo(r, repo, err)) < 0 ||
	    (rc = reg_check_reference(reference, err)) < 0)
		return rc;
	url = reg_url(r, "%s/manifests/%s", repo, reference);
	scope = reg_scope(repo, "pull");
	subject = xasprintf("manifest '%s'", reference);
	req.url = url;
	req.accept = BERTH_MANIFEST_ACCEPT;
	req.follow = true;
	req.max_body = BERTH_MANIFEST_MAX;

	rc = reg_request(r, &req, scope, &resp, err);
	if (rc == 0)
		reg_log_quota(r, &resp);
	if (rc == BERTH_ETOOBIG) {
		rc = berth_error_set(err, BERTH_ETOOBIG, 0,
				     "manifest '%s' in '%s/%s' is larger than "
				     "4 MiB",
				     reference, r->name, repo);
		berth_error_hint(err, "berth refuses manifests over 4 MiB, as "
				      "registries do");
	} else if (rc == 0 && resp.status == 404) {
		rc = manifest_404(r, repo, subject, &resp, err);
	} else if (rc == 0 && resp.status != 200) {
		rc = reg_fail(r, &resp, repo, subject, "pull", err);
	}
	if (rc < 0) {
		berth_http_resp_release(&resp);
		return rc;
	}
	b.len = resp.body.len;
	b.data = berth_buf_detach(&resp.body);
	b.content_type = reg_media_type(resp.hdr[BERTH_H_CONTENT_TYPE]);
	rc = verify_manifest(r, repo, reference, &resp, &b, err);
	berth_http_resp_release(&resp);
	if (rc < 0) {
		berth_manifest_body_release(&b);
		return rc;
	}
	berth_log(BERTH_LOG_INFO, "manifest '%s' of '%s' from '%s'", reference,
		  repo, r->host);
	*out = b;
	return 0;
}

int
reg_manifest_head(berth_registry *r, const char *repo, const char *reference,
		  berth_http_resp *resp, berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	int rc;

	berth_http_resp_init(resp);
	if ((rc = reg_check_repo(r, repo, err)) < 0 ||
	    (rc = reg_check_reference(reference, err)) < 0)
		return rc;
	url = reg_url(r, "%s/manifests/%s", repo, reference);
	scope = reg_scope(repo, "pull");
	req.method = "HEAD";
	req.url = url;
	req.accept = BERTH_MANIFEST_ACCEPT;
	req.follow = true;
	return reg_request(r, &req, scope, resp, err);
}

int
berth_registry_head_manifest(berth_descriptor *out, berth_registry *r,
			     const char *repo, const char *reference,
			     berth_error **err)
{
	_cleanup_free_ char *subject = xasprintf("manifest '%s'", reference);
	berth_http_resp resp;
	const char *hdr;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = reg_manifest_head(r, repo, reference, &resp, err);
	if (rc == 0 && resp.status == 404)
		rc = manifest_404(r, repo, subject, &resp, err);
	else if (rc == 0 && resp.status != 200)
		rc = reg_fail(r, &resp, repo, subject, "pull", err);
	if (rc < 0)
		goto out;
	hdr = resp.hdr[BERTH_H_DOCKER_CONTENT_DIGEST];
	if (hdr && berth_digest_valid(hdr)) {
		berth_digest_parse(&out->digest, hdr, NULL);
		if (berth_digest_valid(reference) &&
		    strcmp(out->digest.str, reference) != 0) {
			rc = berth_error_set(
				err, BERTH_EDIGEST, 0,
				"registry '%s' says manifest '%s' in "
				"'%s/%s' has digest '%s'",
				r->name, reference, r->name, repo,
				out->digest.str);
			goto out;
		}
	} else if (berth_digest_valid(reference)) {
		berth_digest_parse(&out->digest, reference, NULL);
	} else {
		rc = berth_error_set(err, BERTH_EPROTO, 0,
				     "registry '%s' did not give the digest of "
				     "manifest '%s' in '%s/%s' (no valid "
				     "Docker-Content-Digest header)",
				     r->name, reference, r->name, repo);
		goto out;
	}
	if (resp.content_length < 0) {
		rc = berth_error_set(err, BERTH_EPROTO, 0,
				     "registry '%s' did not give the size of "
				     "manifest '%s' in '%s/%s'",
				     r->name, reference, r->name, repo);
		goto out;
	}
	out->size = resp.content_length;
	out->media_type = reg_media_type(resp.hdr[BERTH_H_CONTENT_TYPE]);
out:
	berth_http_resp_release(&resp);
	return rc;
}

/* Appends the tags of one tags/list page. */
static int
tags_page(berth_registry *r, const char *repo, const berth_http_resp *resp,
	  char ***tags, size_t *n, berth_error **err)
{
	json_auto_t *root = NULL;
	json_t *arr, *v;
	size_t i;

	root = json_loadb(berth_buf_cstr(&resp->body), resp->body.len, 0, NULL);
	if (!json_is_object(root))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' sent an invalid tag list "
				       "for '%s/%s'",
				       r->name, r->name, repo);
	arr = json_object_get(root, "tags");
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' sent an invalid tag list "
				       "for '%s/%s'",
				       r->name, r->name, repo);
	json_array_foreach(arr, i, v)
	{
		const char *t = json_string_value(v);

		if (t == NULL || !berth_ref_tag_valid(t)) {
			berth_log(BERTH_LOG_DEBUG,
				  "registry '%s': skipping an "
				  "invalid tag in '%s'",
				  r->name, repo);
			continue;
		}
		if (*n >= TAGS_MAX)
			return berth_error_set(err, BERTH_ETOOBIG, 0,
					       "'%s/%s' has more than %d tags",
					       r->name, repo, TAGS_MAX);
		*tags = xreallocarray(*tags, *n + 2, sizeof(**tags));
		(*tags)[(*n)++] = xstrdup(t);
		(*tags)[*n] = NULL;
	}
	return 0;
}

int
berth_registry_list_tags(char ***tags, size_t *n, berth_registry *r,
			 const char *repo, berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL;
	char **v = NULL;
	size_t count = 0;
	berth_http_resp resp;
	berth_http *h;
	int rc, pages = 0;

	*tags = NULL;
	*n = 0;
	if ((rc = reg_check_repo(r, repo, err)) < 0)
		return rc;
	url = reg_url(r, "%s/tags/list?n=1000", repo);
	scope = reg_scope(repo, "pull");
	h = reg_handle_get(r);
	berth_http_resp_init(&resp);
	while (url) {
		berth_http_req req = BERTH_HTTP_REQ_INIT;
		char *next;

		req.url = url;
		req.follow = true;
		req.max_body = TAGS_PAGE_MAX;
		req.accept = "application/json";
		rc = reg_send(r, h, &req, scope, &resp, err);
		if (rc == BERTH_ETOOBIG)
			rc = berth_error_set(
				err, BERTH_ETOOBIG, 0,
				"a page of the tag list of '%s/%s' "
				"is larger than 8 MiB",
				r->name, repo);
		else if (rc == 0 && resp.status == 404) {
			rc = berth_error_set(err, BERTH_ENOTFOUND, 0,
					     "repository '%s/%s' not found",
					     r->name, repo);
			berth_error_hint(err,
					 "check the repository's name; if "
					 "it is private, run 'berth login %s'",
					 r->name);
		} else if (rc == 0 && resp.status != 200)
			rc = reg_fail(r, &resp, repo, "the tag list", "pull",
				      err);
		if (rc == 0)
			rc = tags_page(r, repo, &resp, &v, &count, err);
		if (rc < 0)
			break;
		next = reg_link_next(resp.hdr[BERTH_H_LINK], resp.url);
		if (next &&
		    (strcmp(next, url) == 0 || ++pages > TAGS_PAGES_MAX)) {
			free(next);
			rc = berth_error_set(err, BERTH_EPROTO, 0,
					     "registry '%s' paginates the tag "
					     "list of '%s/%s' without end",
					     r->name, r->name, repo);
			break;
		}
		free(url);
		url = next;
	}
	berth_http_resp_release(&resp);
	reg_handle_put(r, h);
	if (rc < 0) {
		berth_strv_free(v);
		return rc;
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	*tags = v;
	*n = count;
	return 0;
}
