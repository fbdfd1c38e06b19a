/*
 * Retention in the server: the rules from the settings (at start and on
 * SIGHUP), runs on a schedule and on demand (POST /admin/v1/retention),
 * one at a time, and `berth serve retention` from the shell.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "berth/log.h"
#include "server/ops/retention.h"
#include "server/server.h"
#include "server/storage_config.h"
#include "util/clock.h"
#include "util/error.h"

int
srv_retention_load(const berth_serve_config *c, srv_retention_rules **rules,
		   int64_t *every, berth_error **err)
{
	*every = c->retention_interval;
	return srv_retention_rules_parse(rules, c->retention, err);
}

void
srv_retention_apply(srv *s, srv_retention_rules *rules, int64_t every)
{
	srv_retention_rules *old;

	pthread_mutex_lock(&s->retention_mu);
	old = s->retention;
	s->retention = rules;
	s->retention_every = every;
	s->retention_next = every ? berth_monotonic_ms() + every * 1000 : 0;
	pthread_mutex_unlock(&s->retention_mu);
	srv_retention_rules_free(old);
}

static void
log_report(const json_t *rep)
{
	berth_log(BERTH_LOG_INFO,
		  "retention%s: %s %" JSON_INTEGER_FORMAT
		  " tags and %" JSON_INTEGER_FORMAT
		  " manifests (%" JSON_INTEGER_FORMAT
		  " bytes of manifests; garbage collection frees their "
		  "blobs), %" JSON_INTEGER_FORMAT " skipped",
		  json_is_true(json_object_get(rep, "dry_run")) ? " (dry run)"
								: "",
		  json_is_true(json_object_get(rep, "dry_run")) ? "would delete"
								: "deleted",
		  json_integer_value(json_object_get(rep, "tags")),
		  json_integer_value(json_object_get(rep, "manifests")),
		  json_integer_value(json_object_get(rep, "bytes")),
		  json_integer_value(json_object_get(rep, "skipped")));
}

int
srv_retention_now(srv *s, bool dry_run, json_t **report, berth_error **err)
{
	berth_error *e = NULL;
	int r;

	/* The run decides on pulls up to now. */
	if (srv_storage_flush_pulls(s->store, &e) < 0) {
		berth_log(BERTH_LOG_WARN, "saving pull times: %s", e->msg);
		berth_error_free(e);
	}
	pthread_mutex_lock(&s->retention_mu);
	r = srv_retention_run(s->retention, s->store->meta, s->audit, s->events,
			      dry_run, (int64_t)time(NULL), report, err);
	pthread_mutex_unlock(&s->retention_mu);
	if (r == 0)
		log_report(*report);
	return r;
}

void
srv_retention_tick(srv *s)
{
	berth_error *err = NULL;
	json_t *rep = NULL;
	bool due;

	pthread_mutex_lock(&s->retention_mu);
	due = s->retention_every > 0 &&
	      berth_monotonic_ms() >= s->retention_next;
	if (due)
		s->retention_next =
			berth_monotonic_ms() + s->retention_every * 1000;
	pthread_mutex_unlock(&s->retention_mu);
	if (!due || !berth_meta_job_mine(s->store->meta, "retention"))
		return;
	if (srv_retention_now(s, false, &rep, &err) < 0) {
		berth_log(BERTH_LOG_ERROR,
			  "retention run failed (the next one is in %" PRId64
			  " s): %s",
			  s->retention_every, err->msg);
		berth_error_free(err);
		return;
	}
	json_decref(rep);
}

void
srv_retention_teardown(srv *s)
{
	srv_retention_rules_free(s->retention);
	s->retention = NULL;
}

static const char usage[] =
	"Usage: berth serve retention [--dry-run] [--config FILE] "
	"[SETTINGS...]\n"
	"\n"
	"Applies the retention policies (the config file's \"retention\")\n"
	"once to the registry storage (--storage, or the config file's) and\n"
	"prints a JSON report of the tags and manifests deleted. Safe while\n"
	"berth serve runs on the same storage; garbage collection frees the\n"
	"blobs afterwards.\n"
	"\n"
	"  --dry-run   delete nothing: report what would go\n"
	"\n"
	"The settings are berth serve's (see 'berth serve --help').\n";

static int
run(const berth_serve_config *cfg, bool dry_run, berth_error **err)
{
	srv_retention_rules *rules = NULL;
	srv_storage *st = NULL;
	berth_audit *audit = NULL;
	json_t *rep = NULL;
	int64_t every;
	char *text;
	int r;

	if ((r = srv_retention_load(cfg, &rules, &every, err)) < 0)
		return r;
	if ((r = srv_storage_open_cfg(&st, cfg, 2, err)) < 0 ||
	    (cfg->audit_log &&
	     (r = berth_audit_open(&audit, cfg->audit_log, err)) < 0) ||
	    (r = srv_retention_run(rules, st->meta, audit, NULL, dry_run,
				   (int64_t)time(NULL), &rep, err)) < 0) {
		berth_audit_free(audit);
		srv_storage_close(st);
		srv_retention_rules_free(rules);
		return r;
	}
	log_report(rep);
	text = json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text);
	free(text);
	json_decref(rep);
	berth_audit_free(audit);
	srv_storage_close(st);
	srv_retention_rules_free(rules);
	return 0;
}

int
srv_retention_main(int argc, char **argv)
{
	return srv_subcommand_main(argc, argv, usage, run);
}
