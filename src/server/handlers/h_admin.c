/*
 * The admin endpoints (who may call them is authorize.c's business):
 * POST /admin/v1/retention[?dry-run=true] runs the retention policies
 * now and answers the run's report.
 */
#include <string.h>

#include <jansson.h>

#include "server/server.h"
#include "util/error.h"

int
h_admin_retention_post(srv_req *r)
{
	const char *dry = srv_query(r, "dry-run");
	berth_error *err = NULL;
	json_t *rep = NULL;
	char *body;

	if (dry && strcmp(dry, "true") != 0 && strcmp(dry, "false") != 0)
		return srv_fail(r, SRV_E_BAD_REQUEST, NULL,
				"dry-run must be true or false, not '%.40s'",
				dry);
	if (srv_retention_now(r->s, dry && strcmp(dry, "true") == 0, &rep,
			      &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err);
	body = json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(rep);
	return srv_send_body(r, MHD_HTTP_OK, "application/json", body,
			     strlen(body));
}
