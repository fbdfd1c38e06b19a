/*
 * Pushing: blob existence, cross-repository mounts, monolithic blob
 * uploads (POST for a session, then one PUT ?digest=) and manifests.
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Abandons an upload session; a failure only leaves it to time out. */
static void
cancel_upload(berth_registry *r, berth_http *h, const char *location,
	      const char *scope)
{
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_error *e = NULL;

	req.method = "DELETE";
	req.url = location;
	berth_http_resp_init(&resp);
	if (reg_send(r, h, &req, scope, &resp, &e) < 0 ||
	    (resp.status != 204 && resp.status != 202 && resp.status != 200))
		berth_log(BERTH_LOG_DEBUG,
			  "registry '%s': cancelling an upload "
			  "answered %ld",
			  r->name, resp.status);
	berth_error_free(e);
	berth_http_resp_release(&resp);
}

/* The absolute URL of the response's Location header, or an error. */
static int
location(berth_registry *r, const berth_http_resp *resp, const char *repo,
	 const char *what, char **out, berth_error **err)
{
	const char *loc = resp->hdr[BERTH_H_LOCATION];

	*out = loc ? berth_http_url_resolve(resp->url, loc) : NULL;
	if (*out == NULL)
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"registry '%s' opened an upload for %s in "
			"'%s/%s' without a valid Location header",
			r->name, what, r->name, repo);
	return 0;
}

int
berth_registry_stat_blob(bool *exists, int64_t *size, berth_registry *r,
			 const char *repo, const berth_digest *d,
			 berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL, *subject = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	int rc;

	*exists = false;
	if (size)
		*size = -1;
	if ((rc = reg_check_repo(r, repo, err)) < 0)
		return rc;
	url = reg_url(r, "%s/blobs/%s", repo, d->str);
	scope = reg_scope(repo, "pull");
	req.method = "HEAD";
	req.url = url;
	req.follow = true;
	rc = reg_request(r, &req, scope, &resp, err);
	if (rc == 0) {
		if (resp.status == 200) {
			*exists = true;
			if (size)
				*size = resp.content_length;
		} else if (resp.status != 404) {
			subject = xasprintf("blob '%s'", d->str);
			rc = reg_fail(r, &resp, repo, subject, "pull", err);
		}
	}
	berth_http_resp_release(&resp);
	return rc;
}

int
berth_registry_mount_blob(bool *out, berth_registry *r, const char *repo,
			  const berth_digest *d, const char *from_repo,
			  berth_error **err)
{
	_cleanup_free_ char *url = NULL, *u1 = NULL, *u2 = NULL, *scope = NULL;
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *subject = NULL;
	_cleanup_free_ char *loc = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_http *h;
	int rc;

	*out = false;
	if ((rc = reg_check_repo(r, repo, err)) < 0 ||
	    (rc = reg_check_repo(r, from_repo, err)) < 0)
		return rc;
	url = reg_url(r, "%s/blobs/uploads/", repo);
	u1 = berth_http_url_add_query(url, "mount", d->str);
	u2 = u1 ? berth_http_url_add_query(u1, "from", from_repo) : NULL;
	if (u2 == NULL)
		return berth_error_set(err, BERTH_EREF, 0,
				       "cannot build a mount URL for '%s/%s'",
				       r->name, repo);
	s1 = reg_scope(repo, "pull,push");
	s2 = reg_scope(from_repo, "pull");
	scope = xasprintf("%s %s", s1, s2);
	subject = xasprintf("blob '%s'", d->str);
	req.method = "POST";
	req.url = u2;
	h = reg_handle_get(r);
	berth_http_resp_init(&resp);
	rc = reg_send(r, h, &req, scope, &resp, err);
	if (rc == 0) {
		if (resp.status == 201) {
			*out = true;
		} else if (resp.status == 202) {
			/* Not mounted: a plain upload was opened instead. */
			if (location(r, &resp, repo, subject, &loc, NULL) == 0)
				cancel_upload(r, h, loc, scope);
		} else {
			rc = reg_fail(r, &resp, repo, subject, "push", err);
		}
	}
	berth_http_resp_release(&resp);
	reg_handle_put(r, h);
	return rc;
}

/* The PUT of a monolithic upload, the body read from fd. */
static int
put_blob(berth_registry *r, berth_http *h, const char *repo,
	 const berth_digest *d, int64_t size, int fd, const char *loc,
	 const char *scope, const char *subject, berth_error **err)
{
	_cleanup_free_ char *put_url = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	off_t off = lseek(fd, 0, SEEK_CUR);
	int rc;

	put_url = berth_http_url_add_query(loc, "digest", d->str);
	if (put_url == NULL)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' gave an invalid upload "
				       "URL for %s",
				       r->name, subject);
	req.method = "PUT";
	req.url = put_url;
	req.content_type = "application/octet-stream";
	req.upload_fd = fd;
	req.upload_size = size;
	/* pread from a known offset lets the body be sent again after a 401. */
	req.upload_offset = off >= 0 ? (int64_t)off : -1;
	berth_http_resp_init(&resp);
	rc = reg_send(r, h, &req, scope, &resp, err);
	if (rc < 0)
		berth_error_wrap(err, rc, "pushing %s to '%s/%s'", subject,
				 r->name, repo);
	else if (resp.status != 201)
		rc = reg_fail(r, &resp, repo, subject, "push", err);
	else if (off >= 0)
		lseek(fd, off + size, SEEK_SET);
	berth_http_resp_release(&resp);
	return rc;
}

int
berth_registry_push_blob(berth_registry *r, const char *repo,
			 const berth_digest *d, int64_t size, int fd,
			 berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL, *subject = NULL;
	_cleanup_free_ char *loc = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_http *h;
	int rc;

	if ((rc = reg_check_repo(r, repo, err)) < 0)
		return rc;
	if (size < 0)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "invalid size %lld for blob '%s'",
				       (long long)size, d->str);
	url = reg_url(r, "%s/blobs/uploads/", repo);
	scope = reg_scope(repo, "pull,push");
	subject = xasprintf("blob '%s'", d->str);
	req.method = "POST";
	req.url = url;
	h = reg_handle_get(r);
	berth_http_resp_init(&resp);
	rc = reg_send(r, h, &req, scope, &resp, err);
	if (rc == 0 && resp.status != 202)
		rc = reg_fail(r, &resp, repo, subject, "push", err);
	if (rc == 0)
		rc = location(r, &resp, repo, subject, &loc, err);
	berth_http_resp_release(&resp);
	if (rc == 0) {
		rc = put_blob(r, h, repo, d, size, fd, loc, scope, subject,
			      err);
		if (rc < 0 && rc != BERTH_EINTERRUPTED)
			cancel_upload(r, h, loc, scope);
	}
	reg_handle_put(r, h);
	return rc;
}

int
berth_registry_put_manifest(berth_registry *r, const char *repo,
			    const char *reference, const char *media_type,
			    const void *body, size_t len, berth_error **err)
{
	_cleanup_free_ char *url = NULL, *scope = NULL, *subject = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	int rc;

	if ((rc = reg_check_repo(r, repo, err)) < 0 ||
	    (rc = reg_check_reference(reference, err)) < 0)
		return rc;
	url = reg_url(r, "%s/manifests/%s", repo, reference);
	scope = reg_scope(repo, "pull,push");
	subject = xasprintf("manifest '%s'", reference);
	req.method = "PUT";
	req.url = url;
	req.content_type = media_type;
	req.body = body;
	req.body_len = len;
	rc = reg_request(r, &req, scope, &resp, err);
	if (rc == 0 && resp.status != 201 && resp.status != 200)
		rc = reg_fail(r, &resp, repo, subject, "push", err);
	berth_http_resp_release(&resp);
	return rc;
}
