/*
 * `berth serve gc [--dry-run] [--config FILE] [settings...]`: one garbage
 * collection run over the storage of those settings, its report on
 * stdout. Safe beside a running server on the same storage (gc.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "server/ops/gc.h"
#include "server/server.h"
#include "util/error.h"

static const char usage[] =
	"Usage: berth serve gc [--dry-run] [--config FILE] [SETTINGS...]\n"
	"\n"
	"Deletes what nothing references any more from the registry storage\n"
	"(--storage, or the config file's), past the grace period\n"
	"(--gc-grace), and prints a JSON report of what went. Safe while\n"
	"berth serve runs on the same storage.\n"
	"\n"
	"  --dry-run   delete nothing: report what would go and its bytes\n"
	"\n"
	"The settings are berth serve's (see 'berth serve --help'); gc reads\n"
	"storage, gc-grace, upload-ttl and audit-log.\n";

static int
run(const berth_serve_config *cfg, bool dry_run, berth_error **err)
{
	srv_storage *st = NULL;
	berth_audit *audit = NULL;
	srv_gc_opts o = {.grace = cfg->gc_grace, .dry_run = dry_run};
	srv_gc_report rep;
	char *json;
	int r;

	if ((r = srv_storage_open_meta(&st, cfg->storage, cfg->metadata, 2,
				       err)) < 0)
		return r;
	st->upload_ttl = cfg->upload_ttl;
	if (cfg->audit_log && !dry_run &&
	    (r = berth_audit_open(&audit, cfg->audit_log, err)) < 0) {
		srv_storage_close(st);
		return r;
	}
	o.audit = audit;
	r = srv_gc_run(st, &o, &rep, err);
	if (r == 0) {
		json = srv_gc_report_json(&rep);
		printf("%s\n", json);
		free(json);
	}
	srv_gc_report_release(&rep);
	berth_audit_free(audit);
	srv_storage_close(st);
	return r;
}

int
srv_gc_main(int argc, char **argv)
{
	return srv_subcommand_main(argc, argv, usage, run);
}
