/*
 * The one place where failures become HTTP answers: a status and an OCI
 * distribution-spec `errors[]` body. Handlers name the OCI code when the
 * spec asks for a specific one; otherwise the berth_code decides.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/log.h"
#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const struct {
	const char *code;
	unsigned status;
	const char *text; /* the spec's description, the default message */
} oci[] = {
	[SRV_E_BLOB_UNKNOWN] = {"BLOB_UNKNOWN", 404,
				"blob unknown to registry"},
	[SRV_E_BLOB_UPLOAD_INVALID] = {"BLOB_UPLOAD_INVALID", 400,
				       "blob upload invalid"},
	[SRV_E_BLOB_UPLOAD_UNKNOWN] = {"BLOB_UPLOAD_UNKNOWN", 404,
				       "blob upload unknown to registry"},
	[SRV_E_DIGEST_INVALID] = {"DIGEST_INVALID", 400,
				  "provided digest did not match uploaded "
				  "content"},
	[SRV_E_MANIFEST_BLOB_UNKNOWN] = {"MANIFEST_BLOB_UNKNOWN", 400,
					 "manifest references a manifest or "
					 "blob unknown to registry"},
	[SRV_E_MANIFEST_INVALID] = {"MANIFEST_INVALID", 400,
				    "manifest invalid"},
	[SRV_E_MANIFEST_UNKNOWN] = {"MANIFEST_UNKNOWN", 404,
				    "manifest unknown to registry"},
	[SRV_E_NAME_INVALID] = {"NAME_INVALID", 400, "invalid repository name"},
	[SRV_E_NAME_UNKNOWN] = {"NAME_UNKNOWN", 404,
				"repository name not known to registry"},
	[SRV_E_SIZE_INVALID] = {"SIZE_INVALID", 400,
				"provided length did not match content "
				"length"},
	[SRV_E_UNAUTHORIZED] = {"UNAUTHORIZED", 401, "authentication required"},
	[SRV_E_DENIED] = {"DENIED", 403,
			  "requested access to the resource is denied"},
	[SRV_E_UNSUPPORTED] = {"UNSUPPORTED", 400,
			       "the operation is unsupported"},
	[SRV_E_TOOMANYREQUESTS] = {"TOOMANYREQUESTS", 429, "too many requests"},
	[SRV_E_RANGE_INVALID] = {"BLOB_UPLOAD_INVALID", 416,
				 "requested range not satisfiable"},
	[SRV_E_MANIFEST_TOO_BIG] = {"SIZE_INVALID", 413, "manifest too large"},
	[SRV_E_NOT_FOUND] = {"NOT_FOUND", 404, "no such endpoint"},
	[SRV_E_METHOD] = {"UNSUPPORTED", 405,
			  "method not allowed on this endpoint"},
	[SRV_E_BAD_REQUEST] = {"UNSUPPORTED", 400, "malformed request"},
	[SRV_E_URI_TOO_LONG] = {"UNSUPPORTED", 414, "request URI too long"},
	[SRV_E_INTERNAL] = {"UNKNOWN", 500, "internal server error"},
	/* 507 Insufficient Storage: the cause is the client's business (it
	 * is not a glitch to retry), the paths in the message are not. */
	[SRV_E_STORAGE_FULL] = {"UNKNOWN", 507,
				"the registry's storage is full: no space "
				"left to store this"},
	[SRV_E_STORAGE_READ_ONLY] = {"UNKNOWN", 507,
				     "the registry's storage is read-only: "
				     "it serves pulls only"},
	[SRV_E_META_UNAVAILABLE] = {"UNAVAILABLE", 503,
				    "the registry's metadata database "
				    "(PostgreSQL) is unreachable: retry in a "
				    "few seconds"},
};

static const char *const storage_detail =
	"ask the registry's administrator to free space on (or remount "
	"writable) its storage volume; retrying will not help until then";

static srv_oci
from_code(berth_code code)
{
	switch (code) {
	case BERTH_EUSAGE:
	case BERTH_EREF:
		return SRV_E_NAME_INVALID;
	case BERTH_ENOTFOUND:
		return SRV_E_NAME_UNKNOWN;
	case BERTH_EAUTH:
		return SRV_E_UNAUTHORIZED;
	case BERTH_EDENIED:
		return SRV_E_DENIED;
	case BERTH_ETOOMANY:
		return SRV_E_TOOMANYREQUESTS;
	case BERTH_EPROTO:
	case BERTH_EPLATFORM:
		return SRV_E_MANIFEST_INVALID;
	case BERTH_EDIGEST:
		return SRV_E_DIGEST_INVALID;
	case BERTH_EUNSUPPORTED:
		return SRV_E_UNSUPPORTED;
	case BERTH_ETOOBIG:
		return SRV_E_MANIFEST_TOO_BIG;
	case BERTH_EEXIST:
		return SRV_E_BLOB_UPLOAD_INVALID;
	default:
		return SRV_E_INTERNAL;
	}
}

struct MHD_Response *
srv_error_response(srv_oci code, const berth_error *e, const char *msg,
		   unsigned *status)
{
	struct MHD_Response *resp;
	const char *detail = NULL;
	char *body;
	size_t len;

	/* Whatever the request was, this is the answer: the rows that would
	 * decide it cannot be read. */
	if (berth_meta_unreachable(e))
		code = SRV_E_META_UNAVAILABLE;
	else if (code == SRV_E_AUTO && srv_storage_full(e))
		code = SRV_E_STORAGE_FULL;
	else if (code == SRV_E_AUTO && srv_storage_read_only(e))
		code = SRV_E_STORAGE_READ_ONLY;
	else if (code == SRV_E_AUTO)
		code = e ? from_code(e->code) : SRV_E_INTERNAL;
	if (msg == NULL)
		msg = e ? e->msg : oci[code].text;
	if (e && e->hint)
		detail = e->hint;
	/* Internal failures are logged in full and answered in general. */
	if (oci[code].status >= 500) {
		berth_log(BERTH_LOG_ERROR, "%s", msg);
		msg = oci[code].text;
		detail = oci[code].status == 507 ? storage_detail : NULL;
	}
	body = berth_oci_error_json(oci[code].code, msg, detail, &len);
	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		abort();
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			"application/json; charset=utf-8");
	if (code == SRV_E_META_UNAVAILABLE)
		srv_resp_header(resp, "Retry-After", "5");
	*status = oci[code].status;
	return resp;
}

int
srv_fail(srv_req *r, srv_oci code, const berth_error *e, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	struct MHD_Response *resp;
	unsigned status;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		msg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	resp = srv_error_response(code, e, msg, &status);
	srv_send(r, status, resp);
	return e ? (int)e->code : BERTH_EGENERIC;
}

int
srv_fail_err(srv_req *r, srv_oci code, berth_error **e)
{
	int rc = srv_fail(r, code, *e, NULL);

	berth_error_freep(e);
	return rc;
}
