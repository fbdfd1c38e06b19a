/*
 * A retention run (retention.h): every repository read in a snapshot of
 * its own, planned (retention_plan.c), and its deletions done one
 * transaction each, each checking that the plan still holds: a push that
 * moved a tag or pushed a manifest again after the snapshot wins, and the
 * item is skipped (counted in the report). So a run never needs the server
 * stopped, and `berth serve retention` may run beside it.
 */
#include "server/ops/retention.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "server/ops/metrics.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CATALOG_PAGE 1000
#define DELETE_PASSES 32

typedef struct run {
	const srv_retention_rules *rules;
	berth_meta *meta;
	berth_audit *audit;
	srv_events *events;
	bool dry_run;
	int64_t now;
	json_t *deleted;
	json_int_t tags, manifests, bytes, skipped;
} run;

static void
audit_delete(run *rn, const char *repo, const srv_retention_policy *p,
	     const srv_retention_item *it)
{
	_cleanup_free_ char *detail = NULL;
	berth_audit_event ev = {0};

	if (rn->audit == NULL)
		return;
	detail = xasprintf("retention %s: %s", p->name, it->reason);
	ev.action = "delete";
	ev.actor = "retention";
	ev.repository = repo;
	ev.reference = it->kind == SRV_RETAIN_TAG ? it->tag : it->digest;
	ev.digest = it->digest;
	ev.detail = detail;
	berth_audit_write(rn->audit, &ev);
}

/*
 * The deletion as a webhook event, as a DELETE of the tag or the manifest
 * would send it, from the actor "retention": receivers that mirror a
 * registry (replication, caches) hear of it. No request caused it, so the
 * request fields stay out.
 */
static void
event_delete(run *rn, const char *repo, const srv_retention_item *it)
{
	srv_event ev = {0};

	ev.action = SRV_EV_DELETE;
	ev.repository = repo;
	ev.media_type = it->media_type;
	ev.digest = it->digest;
	ev.size = -1;
	ev.tag = it->kind == SRV_RETAIN_TAG ? it->tag : NULL;
	ev.actor = "retention";
	srv_events_emit(rn->events, &ev);
}

static void
report_item(run *rn, const char *repo, const srv_retention_policy *p,
	    const srv_retention_item *it)
{
	json_t *o = json_object();

	json_object_set_new(o, "repository", json_string(repo));
	json_object_set_new(o, "tag",
			    it->kind == SRV_RETAIN_TAG ? json_string(it->tag)
						       : json_null());
	json_object_set_new(o, "digest", json_string(it->digest));
	json_object_set_new(o, "size", json_integer(it->size));
	json_object_set_new(o, "policy", json_string(p->name));
	json_object_set_new(o, "reason", json_string(it->reason));
	json_array_append_new(rn->deleted, o);
	if (!rn->dry_run)
		srv_metric_inc(SRV_M_RETENTION_DELETED,
			       it->kind == SRV_RETAIN_TAG
				       ? SRV_RETENTION_TAG
				       : SRV_RETENTION_MANIFEST);
	if (it->kind == SRV_RETAIN_TAG) {
		rn->tags++;
	} else {
		rn->manifests++;
		rn->bytes += it->size;
	}
}

/* Does one planned deletion: 1 done, 0 changed meanwhile, <0 failed. */
static int
delete_one(run *rn, const char *repo, const srv_retention_item *it,
	   berth_error **err)
{
	if (it->kind == SRV_RETAIN_TAG)
		return berth_meta_tag_delete_if(rn->meta, repo, it->tag,
						it->digest, it->stamp, err);
	return berth_meta_manifest_delete_if(rn->meta, repo, it->digest,
					     it->stamp, err);
}

/*
 * The plan's deletions in its order; a manifest still in use by one
 * planned later (an order the plan could not see) is tried again in the
 * next pass, until a pass changes nothing.
 */
static int
execute(run *rn, const char *repo, const srv_retention_policy *p,
	srv_retention_item *items, size_t n, berth_error **err)
{
	_cleanup_free_ bool *done = xcalloc(n + 1, sizeof(bool));
	size_t i, left = n;
	int pass, r;

	for (pass = 0; pass < DELETE_PASSES && left > 0; pass++) {
		size_t before = left;

		for (i = 0; i < n; i++) {
			if (done[i])
				continue;
			if ((r = delete_one(rn, repo, &items[i], err)) < 0)
				return r;
			if (r == 0)
				continue;
			done[i] = true;
			left--;
			report_item(rn, repo, p, &items[i]);
			audit_delete(rn, repo, p, &items[i]);
			event_delete(rn, repo, &items[i]);
		}
		if (left == before)
			break;
	}
	for (i = 0; i < n; i++)
		if (!done[i])
			berth_log(BERTH_LOG_INFO,
				  "retention: kept %s '%s' of '%s': it "
				  "changed or is in use since the plan",
				  items[i].kind == SRV_RETAIN_TAG ? "tag"
								  : "manifest",
				  items[i].kind == SRV_RETAIN_TAG
					  ? items[i].tag
					  : items[i].digest,
				  repo);
	rn->skipped += (json_int_t)left;
	return 0;
}

static int
one_repo(run *rn, const char *repo, berth_error **err)
{
	const srv_retention_policy *p =
		srv_retention_policy_for(rn->rules, repo);
	berth_meta_repo_view v;
	srv_retention_item *items = NULL;
	size_t n = 0, i;
	int r;

	if (p == NULL)
		return 0;
	if ((r = berth_meta_repo_view_read(rn->meta, repo, &v, err)) < 0)
		return berth_error_wrap(err, r, "retention of '%s'", repo);
	srv_retention_plan(p, rn->rules->delay, &v, rn->now, &items, &n);
	if (rn->dry_run) {
		for (i = 0; i < n; i++)
			report_item(rn, repo, p, &items[i]);
		r = 0;
	} else {
		r = execute(rn, repo, p, items, n, err);
	}
	free(items);
	berth_meta_repo_view_release(&v);
	return r;
}

int
srv_retention_run(const srv_retention_rules *rules, berth_meta *meta,
		  berth_audit *audit, srv_events *events, bool dry_run,
		  int64_t now, json_t **report, berth_error **err)
{
	run rn = {
		.rules = rules,
		.meta = meta,
		.audit = audit,
		.events = events,
		.dry_run = dry_run || (rules && rules->dry_run),
		.now = now,
		.deleted = json_array(),
	};
	_cleanup_free_ char *last = xstrdup("");
	bool more = true;
	json_t *o;
	int r = 0;

	while (more && r == 0 && rules && rules->n > 0) {
		char **names = NULL;

		if ((r = berth_meta_catalog(meta, last, CATALOG_PAGE, &names,
					    &more, err)) < 0)
			break;
		for (char **nm = names; *nm && r == 0; nm++) {
			r = one_repo(&rn, *nm, err);
			free(last);
			last = xstrdup(*nm);
		}
		berth_strv_free(names);
	}
	srv_metric_inc(SRV_M_RETENTION_RUNS, r < 0	  ? SRV_RUN_FAILED
					     : rn.dry_run ? SRV_RUN_DRY_RUN
							  : SRV_RUN_OK);
	if (r < 0) {
		json_decref(rn.deleted);
		return r;
	}
	o = json_object();
	json_object_set_new(o, "dry_run", json_boolean(rn.dry_run));
	json_object_set_new(o, "policies",
			    json_integer(rules ? (json_int_t)rules->n : 0));
	json_object_set_new(o, "deleted", rn.deleted);
	json_object_set_new(o, "tags", json_integer(rn.tags));
	json_object_set_new(o, "manifests", json_integer(rn.manifests));
	json_object_set_new(o, "bytes", json_integer(rn.bytes));
	json_object_set_new(o, "skipped", json_integer(rn.skipped));
	*report = o;
	return 0;
}
