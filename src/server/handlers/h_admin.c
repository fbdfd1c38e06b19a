/*
 * The admin endpoints (who may call them is authorize.c's business), each
 * answered with its run's report:
 * POST /admin/v1/gc[?dry-run=true]: one garbage collection run (ops/gc.h);
 * POST /admin/v1/retention[?dry-run=true]: the retention policies, now.
 */
#include <string.h>

#include <jansson.h>

#include "server/ops/gc.h"
#include "server/ops/gc_sched.h"
#include "server/server.h"
#include "util/error.h"

/* The dry-run query argument: 0 or 1, or -1 with the answer sent. */
static int
dry_run_arg(srv_req *r, int *rc)
{
	const char *dry = srv_query(r, "dry-run");

	if (dry && strcmp(dry, "true") != 0 && strcmp(dry, "false") != 0) {
		*rc = srv_fail(r, SRV_E_BAD_REQUEST, NULL,
			       "dry-run must be true or false, not '%.40s'",
			       dry);
		return -1;
	}
	return dry && strcmp(dry, "true") == 0;
}

int
h_admin_gc_post(srv_req *r)
{
	srv_gc_report rep;
	berth_error *err = NULL;
	char *json;
	int dry, rc;

	if ((dry = dry_run_arg(r, &rc)) < 0)
		return rc;
	/* On the collection thread, at its lower priority; this request
	 * waits for the report. */
	rc = srv_gc_sched_run(r->s->gc, dry, &rep, &err);
	if (rc < 0) {
		srv_gc_report_release(&rep);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	json = srv_gc_report_json(&rep);
	srv_gc_report_release(&rep);
	return srv_send_body(r, MHD_HTTP_OK, "application/json", json,
			     strlen(json));
}

int
h_admin_retention_post(srv_req *r)
{
	berth_error *err = NULL;
	json_t *rep = NULL;
	char *body;
	int dry, rc;

	if ((dry = dry_run_arg(r, &rc)) < 0)
		return rc;
	if (srv_retention_now(r->s, dry, &rep, &err) < 0)
		return srv_fail_err(r, SRV_E_AUTO, &err);
	body = json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(rep);
	return srv_send_body(r, MHD_HTTP_OK, "application/json", body,
			     strlen(body));
}
