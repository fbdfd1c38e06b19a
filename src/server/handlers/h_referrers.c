/*
 * GET /v2/<name>/referrers/<digest>[?artifactType=]: the manifests of the
 * repository whose subject is <digest>, as an OCI image index. Never 404:
 * no referrers is an empty index.
 */
#include <stdlib.h>

#include "berth/digest.h"
#include "berth/manifest.h"
#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/error.h"

int
h_referrers_get(srv_req *r)
{
	const char *filter = srv_query(r, "artifactType");
	berth_meta_manifest *v = NULL;
	berth_error *err = NULL;
	struct MHD_Response *resp;
	berth_digest d;
	size_t n = 0, i, len;
	char *body;

	if (berth_digest_parse(&d, r->ref, &err) < 0)
		return srv_fail_err(r, SRV_E_DIGEST_INVALID, &err);
	if (filter && filter[0] == '\0')
		filter = NULL;
	if (srv_storage_referrers(r->s->store, &v, &n, r->name, d.str, filter,
				  &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err);
	body = berth_oci_referrers_json(v, n, &len);
	for (i = 0; i < n; i++)
		berth_meta_manifest_release(&v[i]);
	free(v);
	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		abort();
	srv_resp_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, BERTH_MT_OCI_INDEX);
	if (filter)
		srv_resp_header(resp, "OCI-Filters-Applied", "artifactType");
	r->bytes = r->head ? 0 : len;
	return srv_send(r, MHD_HTTP_OK, resp);
}
