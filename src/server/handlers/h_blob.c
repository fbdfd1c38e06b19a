/*
 * /v2/<name>/blobs/<digest>: GET (with Range) and HEAD, DELETE.
 *
 * A blob is served only when the repository links it; the bytes go out
 * with sendfile straight from the content-addressed file when the store
 * has files (storage.h), else through its reader, or the client is
 * redirected to where the store offers them. HEAD answers from the
 * metadata alone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "berth/log.h"
#include "server/handlers/blob_resp.h"
#include "server/http/range.h"
#include "server/ops/cache.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

int
h_blob_get(srv_req *r)
{
	berth_error *err = NULL;
	struct MHD_Response *resp;
	berth_bs_reader *rd = NULL;
	unsigned status = MHD_HTTP_OK;
	uint64_t off = 0, len;
	int64_t size = 0;
	berth_digest d;
	char buf[BERTH_DIGEST_MAX + 8];
	bool answered = false;
	int rr;

	if (berth_digest_parse(&d, r->ref, &err) < 0)
		return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
	/* A proxied repository's blob: fetched, or streamed while it is. */
	rr = srv_cache_blob(r, &d, &answered);
	if (answered)
		return rr;
	if ((r->head ? srv_storage_blob_head : srv_storage_blob_stat)(
		    r->s->store, r->name, &d, &size, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	len = (uint64_t)size;
	rr = srv_parse_range(&off, &len, srv_header(r, MHD_HTTP_HEADER_RANGE),
			     (uint64_t)size);
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
		if (srv_storage_blob_open_range(r->s->store, &rd, &d, size,
						(int64_t)off, (int64_t)len,
						&err) < 0) {
			if (err->code == BERTH_ECORRUPT) {
				berth_error_free(err);
				return srv_fail(r, SRV_E_INTERNAL, NULL,
						"store damaged");
			}
			return srv_fail_err(r, SRV_E_AUTO, &err);
		}
		resp = srv_resp_reader(rd, true, &status, &r->bytes);
	}
	/* HEAD too: distribution serves both with one handler, and reports
	 * both as pulls. */
	srv_notify(r, SRV_EV_PULL, "application/octet-stream", d.str, size,
		   NULL, NULL);
	if (status == MHD_HTTP_TEMPORARY_REDIRECT)
		return srv_send(r, status, resp);
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
	if (srv_storage_blob_unlink(r->s->store, r->name, &d, &err) < 0)
		return srv_fail_err(r,
				    err->code == BERTH_ENOTFOUND
					    ? SRV_E_BLOB_UNKNOWN
					    : SRV_E_AUTO,
				    &err);
	srv_notify(r, SRV_EV_DELETE, NULL, d.str, -1, NULL, NULL);
	return srv_send_empty(r, MHD_HTTP_ACCEPTED);
}
