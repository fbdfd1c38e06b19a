/*
 * S3 multipart uploads: the parts of an upload session, and server-side
 * copies of objects beyond what one CopyObject may move (5 GiB).
 */
#include "server/storage/s3_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define S3_COPY_MAX ((int64_t)5 << 30)
#define S3_COPY_PART ((int64_t)1 << 30)

int
s3_mpu_create(s3_client *c, const char *key, char **upload_id,
	      berth_error **err)
{
	s3_req q = {.method = "POST", .key = key, .query = "uploads="};
	s3_resp resp;
	int r = s3_do(c, &q, &resp, err);

	if (r == 0) {
		*upload_id =
			s3_xml_find(resp.body.ptr, resp.body.len, "UploadId");
		if (*upload_id == NULL || !**upload_id) {
			free(*upload_id);
			r = berth_error_set(err, BERTH_EPROTO, 0,
					    "S3 started a multipart upload of "
					    "'%s' without an UploadId",
					    key);
		}
	}
	s3_resp_release(&resp);
	return r;
}

/* A 200 answer can still carry an <Error> (CompleteMultipartUpload,
 * CopyObject): S3 sends the status before it knows the outcome. */
static int
late_error(const s3_resp *resp, const char *what, const char *key,
	   berth_error **err)
{
	_cleanup_free_ char *code = NULL;

	if (resp->body.ptr == NULL || strstr(resp->body.ptr, "<Error") == NULL)
		return 0;
	code = s3_xml_find(resp->body.ptr, resp->body.len, "Code");
	return berth_error_set(err, BERTH_ESERVER, 0,
			       "S3 %s of '%s' failed: %s", what, key,
			       code ? code : "unknown error");
}

int
s3_mpu_complete(s3_client *c, const char *key, const char *upload_id,
		char *const *etags, size_t n, berth_error **err)
{
	_cleanup_free_ char *eid = s3_uri_encode(upload_id, false);
	_cleanup_free_ char *query = xasprintf("uploadId=%s", eid);
	berth_buf body = BERTH_BUF_INIT;
	s3_req q = {.method = "POST", .key = key, .query = query};
	s3_resp resp;
	size_t i;
	int r;

	berth_buf_puts(&body, "<CompleteMultipartUpload>", NULL);
	for (i = 0; i < n; i++)
		berth_buf_printf(&body, NULL,
				 "<Part><PartNumber>%zu</PartNumber>"
				 "<ETag>%s</ETag></Part>",
				 i + 1, etags[i]);
	berth_buf_puts(&body, "</CompleteMultipartUpload>", NULL);
	q.body = body.ptr;
	q.body_len = body.len;
	r = s3_do(c, &q, &resp, err);
	if (r == 0)
		r = late_error(&resp, "completing the multipart upload", key,
			       err);
	s3_resp_release(&resp);
	berth_buf_release(&body);
	return r;
}

/* 405 and 501: a service without this part of the API. */
static bool
unsupported(long status)
{
	return status == 405 || status == 501;
}

int
s3_mpu_abort(s3_client *c, const char *key, const char *upload_id,
	     berth_error **err)
{
	_cleanup_free_ char *eid = s3_uri_encode(upload_id, false);
	_cleanup_free_ char *query = xasprintf("uploadId=%s", eid);
	s3_req q = {.method = "DELETE", .key = key, .query = query};
	s3_resp resp;
	berth_error *e = NULL;
	int r = s3_do(c, &q, &resp, &e);

	long status = resp.status;

	s3_resp_release(&resp);
	if (r == BERTH_ENOTFOUND) {
		berth_error_free(e);
		return 0;
	}
	if (unsupported(status)) {
		/* Some small S3 servers (s3rver) cannot abort: the parts are
		 * unreachable all the same, never in a blob. */
		berth_log(BERTH_LOG_WARN,
			  "S3 cannot abort the multipart upload of '%s' (%ld); "
			  "its parts stay until the service drops them",
			  key, status);
		berth_error_free(e);
		return 0;
	}
	return r < 0 ? berth_error_move(err, &e, r) : 0;
}

typedef struct mpu_page {
	void (*fn)(const char *key, const char *upload_id, int64_t initiated,
		   void *ud);
	void *ud;
} mpu_page;

static void
mpu_one(const s3_xml_node *n, void *ud)
{
	mpu_page *p = ud;
	_cleanup_free_ char *key = s3_xml_child(n, "Key");
	_cleanup_free_ char *id = s3_xml_child(n, "UploadId");
	_cleanup_free_ char *init = s3_xml_child(n, "Initiated");

	if (key && id)
		p->fn(key, id, s3_iso8601(init), p->ud);
}

int
s3_mpu_each(s3_client *c, const char *prefix,
	    void (*fn)(const char *key, const char *upload_id,
		       int64_t initiated, void *ud),
	    void *ud, berth_error **err)
{
	_cleanup_free_ char *eprefix = s3_uri_encode(prefix, false);
	_cleanup_free_ char *key_marker = NULL, *id_marker = NULL;
	mpu_page p = {fn, ud};
	int r = 0;

	do {
		_cleanup_free_ char *ek = NULL, *ei = NULL, *query = NULL;
		_cleanup_free_ char *trunc = NULL;
		s3_req q = {.method = "GET"};
		berth_error *e = NULL;
		s3_resp resp;

		ek = key_marker ? s3_uri_encode(key_marker, false) : NULL;
		ei = id_marker ? s3_uri_encode(id_marker, false) : NULL;
		query = xasprintf("%s%s%sprefix=%s%s%s%suploads=",
				  ek ? "key-marker=" : "", ek ? ek : "",
				  ek ? "&" : "", eprefix,
				  ei ? "&upload-id-marker=" : "", ei ? ei : "",
				  "&");
		q.query = query;
		if ((r = s3_do(c, &q, &resp, &e)) == 0)
			r = s3_xml_each(resp.body.ptr, resp.body.len, "Upload",
					mpu_one, &p, err);
		else if (unsupported(resp.status))
			r = 0; /* none to list, as far as we can know */
		else
			berth_error_move(err, &e, r);
		berth_error_free(e);
		trunc = r == 0 ? s3_xml_find(resp.body.ptr, resp.body.len,
					     "IsTruncated")
			       : NULL;
		free(key_marker);
		free(id_marker);
		key_marker = id_marker = NULL;
		if (trunc && strcmp(trunc, "true") == 0) {
			key_marker = s3_xml_find(resp.body.ptr, resp.body.len,
						 "NextKeyMarker");
			id_marker = s3_xml_find(resp.body.ptr, resp.body.len,
						"NextUploadIdMarker");
		}
		s3_resp_release(&resp);
	} while (r == 0 && key_marker != NULL);
	return r;
}

static char *
copy_source(s3_client *c, const char *from)
{
	_cleanup_free_ char *e = s3_uri_encode(from, true);

	return xasprintf("x-amz-copy-source: /%s/%s", s3_client_bucket(c), e);
}

/* UploadPartCopy's ETag, in <CopyPartResult>. */
static int
copy_part(s3_client *c, const char *from, const char *to, const char *uid,
	  size_t n, int64_t off, int64_t len, char **etag, berth_error **err)
{
	_cleanup_free_ char *src = copy_source(c, from);
	_cleanup_free_ char *eid = s3_uri_encode(uid, false);
	_cleanup_free_ char *query =
		xasprintf("partNumber=%zu&uploadId=%s", n, eid);
	_cleanup_free_ char *range =
		xasprintf("x-amz-copy-source-range: bytes=%" PRId64 "-%" PRId64,
			  off, off + len - 1);
	s3_req q = {.method = "PUT", .key = to, .query = query};
	s3_resp resp;
	int r;

	q.headers[0] = src;
	q.headers[1] = range;
	r = s3_do(c, &q, &resp, err);
	if (r == 0 && (r = late_error(&resp, "copying", from, err)) == 0) {
		*etag = s3_xml_find(resp.body.ptr, resp.body.len, "ETag");
		if (*etag == NULL)
			r = berth_error_set(err, BERTH_EPROTO, 0,
					    "S3 copied a part of '%s' without "
					    "an ETag",
					    from);
	}
	s3_resp_release(&resp);
	return r;
}

int
s3_copy(s3_client *c, const char *from, const char *to, int64_t size,
	berth_error **err)
{
	_cleanup_free_ char *uid = NULL;
	char **etags = NULL;
	size_t n = 0, i;
	int64_t off;
	int r;

	if (size <= S3_COPY_MAX) {
		_cleanup_free_ char *src = copy_source(c, from);
		s3_req q = {.method = "PUT", .key = to};
		s3_resp resp;

		q.headers[0] = src;
		r = s3_do(c, &q, &resp, err);
		if (r == 0)
			r = late_error(&resp, "copying", from, err);
		s3_resp_release(&resp);
		return r;
	}
	if ((r = s3_mpu_create(c, to, &uid, err)) < 0)
		return r;
	for (off = 0; r == 0 && off < size; off += S3_COPY_PART) {
		int64_t len =
			size - off < S3_COPY_PART ? size - off : S3_COPY_PART;

		etags = xreallocarray(etags, n + 1, sizeof(*etags));
		etags[n] = NULL;
		r = copy_part(c, from, to, uid, n + 1, off, len, &etags[n],
			      err);
		n++;
	}
	if (r == 0)
		r = s3_mpu_complete(c, to, uid, etags, n, err);
	if (r < 0)
		s3_mpu_abort(c, to, uid, NULL);
	for (i = 0; i < n; i++)
		free(etags[i]);
	free(etags);
	return r;
}
