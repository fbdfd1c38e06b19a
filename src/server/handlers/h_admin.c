/*
 * POST /admin/v1/gc[?dry-run=true]: one garbage collection run, answered
 * with its report (ops/gc.h); who may is authorize.c's business.
 */
#include <string.h>

#include "server/ops/gc.h"
#include "server/ops/gc_sched.h"
#include "server/server.h"

int
h_admin_gc_post(srv_req *r)
{
	const char *dry = srv_query(r, "dry-run");
	srv_gc_report rep;
	berth_error *err = NULL;
	char *json;
	int rc;

	if (dry && strcmp(dry, "true") != 0 && strcmp(dry, "false") != 0)
		return srv_fail(r, SRV_E_BAD_REQUEST, NULL,
				"dry-run must be true or false, not '%.40s'",
				dry);
	/* On the collection thread, at its lower priority; this request
	 * waits for the report. */
	rc = srv_gc_sched_run(r->s->gc, dry && strcmp(dry, "true") == 0, &rep,
			      &err);
	if (rc < 0) {
		srv_gc_report_release(&rep);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	json = srv_gc_report_json(&rep);
	srv_gc_report_release(&rep);
	return srv_send_body(r, MHD_HTTP_OK, "application/json", json,
			     strlen(json));
}
