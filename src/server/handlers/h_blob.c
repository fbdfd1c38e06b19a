/*
 * /v2/<name>/blobs/<digest>: GET (with Range) and HEAD, DELETE.
 *
 * A blob is served only when the repository links it; the bytes go out
 * with sendfile straight from the content-addressed file. HEAD answers
 * from the metadata alone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "berth/log.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/*
 * Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against size.
 * Returns 1 with [*off, *off + *len) for a satisfiable range, 0 to ignore the
 * header (absent, malformed or several ranges: the whole blob is sent), -1
 * for an unsatisfiable one.
 */
static int
parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a, b;
	char *end;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	h += 6;
	if (*h == '-') {
		b = strtoull(h + 1, &end, 10);
		if (end == h + 1 || *end)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*off = size - b;
		*len = b;
		return 1;
	}
	a = strtoull(h, &end, 10);
	if (end == h || *end != '-')
		return 0;
	h = end + 1;
	if (*h == '\0') {
		b = size ? size - 1 : 0;
	} else {
		b = strtoull(h, &end, 10);
		if (*end || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

/* The size of digest in repo: a linked blob, or a manifest by digest. */
static int
linked_size(srv_req *r, const berth_digest *d, int64_t *size, berth_error **err)
{
	berth_meta_manifest mf = {0};
	int rc = berth_meta_blob_get(r->s->meta, r->name, d->str, size, err);

	if (rc == 0)
		return 0;
	if (rc != BERTH_ENOTFOUND)
		return rc;
	if (berth_meta_manifest_get(r->s->meta, r->name, d->str, true, &mf,
				    NULL) == 0) {
		*size = mf.size;
		berth_meta_manifest_release(&mf);
		berth_error_freep(err);
		return 0;
	}
	return BERTH_ENOTFOUND;
}

int
h_blob_get(srv_req *r)
{
	berth_error *err = NULL;
	struct MHD_Response *resp;
	_cleanup_close_ int fd = -1;
	unsigned status = MHD_HTTP_OK;
	uint64_t off = 0, len;
	int64_t size = 0, disk = 0;
	berth_digest d;
	char buf[BERTH_DIGEST_MAX + 8];
	int rr;

	if (berth_digest_parse(&d, r->ref, &err) < 0)
		return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
	if (linked_size(r, &d, &size, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	len = (uint64_t)size;
	rr = parse_range(srv_header(r, MHD_HTTP_HEADER_RANGE), (uint64_t)size,
			 &off, &len);
	if (rr < 0) {
		resp = srv_error_response(SRV_E_RANGE_INVALID, NULL,
					  "requested range not satisfiable",
					  &status);
		snprintf(buf, sizeof(buf), "bytes */%" PRId64, size);
		srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, buf);
		return srv_send(r, status, resp);
	}
	if (r->head) {
		resp = srv_resp_head(len);
	} else {
		if (r->s->blobs->ops->open(r->s->blobs, &d, &fd, &disk, &err) <
		    0) {
			berth_log(BERTH_LOG_ERROR,
				  "blob '%s' is linked in '%s' but not stored",
				  d.str, r->name);
			return srv_fail_err(r, SRV_E_AUTO, &err);
		}
		if (disk != size) {
			berth_log(BERTH_LOG_ERROR,
				  "blob '%s' is %" PRId64
				  " bytes on disk, %" PRId64 " in the metadata",
				  d.str, disk, size);
			return srv_fail(r, SRV_E_INTERNAL, NULL,
					"store damaged");
		}
		resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
		if (resp == NULL)
			abort();
		fd = -1; /* the response owns it now */
		r->bytes = len;
	}
	if (rr > 0) {
		status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(buf, sizeof(buf),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRId64, off,
			 off + len - 1, size);
		srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, buf);
	}
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			"application/octet-stream");
	srv_resp_header(resp, "Docker-Content-Digest", d.str);
	srv_resp_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	snprintf(buf, sizeof(buf), "\"%s\"", d.str);
	srv_resp_header(resp, MHD_HTTP_HEADER_ETAG, buf);
	srv_resp_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
			"max-age=31536000");
	return srv_send(r, status, resp);
}

int
h_blob_delete(srv_req *r)
{
	berth_error *err = NULL;
	berth_digest d;

	if (berth_digest_parse(&d, r->ref, &err) < 0)
		return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
	/* Unlinked only: the bytes may be shared; collecting them is GC's job.
	 */
	if (berth_meta_blob_unlink(r->s->meta, r->name, d.str, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	return srv_send_empty(r, MHD_HTTP_ACCEPTED);
}
