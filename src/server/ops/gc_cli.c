/*
 * `berth serve gc [--dry-run] [--config FILE] [settings...]`: one garbage
 * collection run over the storage of those settings, its report on
 * stdout. Safe beside a running server on the same storage (gc.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/ops/gc.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

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
run(berth_serve_config *cfg, bool dry_run, berth_error **err)
{
	_cleanup_free_ char *db = xasprintf("%s/metadata.db", cfg->storage);
	srv_storage *st = NULL;
	berth_audit *audit = NULL;
	srv_gc_opts o = {.grace = cfg->gc_grace, .dry_run = dry_run};
	srv_gc_report rep;
	char *json;
	int r;

	/* Opening would create an empty registry: not what was meant. */
	if (access(db, F_OK) != 0) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"no registry storage at '%s'", cfg->storage);
		berth_error_hint(err,
				 "give the server's --storage or --config");
		return BERTH_EUSAGE;
	}
	if ((r = srv_storage_open(&st, cfg->storage, 2, err)) < 0)
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
	_cleanup_free_ char **av = xcalloc((size_t)argc + 1, sizeof(*av));
	berth_serve_config cfg;
	berth_error *err = NULL;
	bool dry_run = false;
	int n = 0, help = 0, r;

	berth_log_set_handler(srv_log_stderr, NULL);
	for (int i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
			continue;
		}
		av[n++] = argv[i];
	}
	berth_serve_config_init(&cfg);
	r = srv_parse_args(&cfg, n, av, &help, &err);
	if (r == 0 && help) {
		fputs(usage, stdout);
	} else if (r == 0) {
		r = run(&cfg, dry_run, &err);
	}
	berth_serve_config_release(&cfg);
	return r < 0 ? srv_exit_status(err) : 0;
}
