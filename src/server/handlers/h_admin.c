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
	srv_gc_opts o = {0};
	srv_gc_report rep;
	berth_error *err = NULL;
	char *json;
	int rc;

	if (dry && strcmp(dry, "true") != 0 && strcmp(dry, "false") != 0)
		return srv_fail(r, SRV_E_BAD_REQUEST, NULL,
				"dry-run must be true or false, not '%.40s'",
				dry);
	o.dry_run = dry && strcmp(dry, "true") == 0;
	o.grace = __atomic_load_n(&r->s->store->gc_grace, __ATOMIC_RELAXED);
	o.audit = r->s->audit;
	rc = srv_gc_run(r->s->store, &o, &rep, &err);
	if (rc < 0) {
		srv_gc_report_release(&rep);
		return srv_fail_err(r, SRV_E_AUTO, &err);
	}
	json = srv_gc_report_json(&rep);
	srv_gc_report_release(&rep);
	return srv_send_body(r, MHD_HTTP_OK, "application/json", json,
			     strlen(json));
}
