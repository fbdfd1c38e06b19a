/*
 * Retention: which tags and manifests a repository keeps, from the
 * "retention" object of the config file (docs/server.md, Retention):
 *
 *   { "delay": "24h", "dryRun": false,
 *     "policies": [
 *       { "repositories": ["finance/payment-service"],
 *         "deleteUntagged": true, "deleteReferrers": false,
 *         "keepTags": [ { "patterns": ["v*"] },
 *                       { "mostRecentlyPushedCount": 5 } ] } ] }
 *
 * The first policy one of whose repository patterns (berth_pattern_match:
 * `*` within a path segment, `**` across) matches applies; a repository
 * no policy matches keeps everything. A tag survives when any keepTags
 * rule keeps it (a rule takes the tags matching its glob patterns, all
 * without patterns, and keeps those among the N most recently pushed or
 * pulled, or pushed or pulled within a duration; a rule with only
 * patterns keeps every tag it takes). Without keepTags (or with an empty
 * list) every tag stays.
 * Nothing pushed within `delay` is deleted. A manifest survives while a
 * surviving tag points at it, a surviving index lists it, or it refers to
 * a surviving subject (signatures, SBOMs); untagged manifests go with
 * deleteUntagged, referrers whose subject is missing with deleteReferrers.
 *
 * Retention deletes metadata (tags, manifests); the bytes are freed by
 * garbage collection.
 */
#ifndef BERTH_SERVER_OPS_RETENTION_H
#define BERTH_SERVER_OPS_RETENTION_H

#include <stdint.h>

#include <jansson.h>

#include "berth/common.h"
#include "server/access/audit.h"
#include "server/ops/events.h"
#include "server/storage/meta.h"

typedef struct srv_keep_rule {
	char **patterns; /* NULL-terminated globs; NULL: every tag */
	long pushed_count, pulled_count;      /* -1: not given */
	int64_t pushed_within, pulled_within; /* seconds, -1: not given */
} srv_keep_rule;

typedef struct srv_retention_policy {
	char **repositories; /* NULL-terminated patterns */
	bool delete_untagged, delete_referrers;
	srv_keep_rule *keep; /* none: every tag stays */
	size_t n_keep;
	char *name; /* "policies[0]" for the audit log and report */
} srv_retention_policy;

typedef struct srv_retention_rules {
	int64_t delay; /* seconds */
	bool dry_run;  /* every run is a dry run */
	srv_retention_policy *policies;
	size_t n;
} srv_retention_rules;

/*
 * Parses the "retention" object (json may be NULL: no policies).
 * BERTH_EUSAGE naming the key for anything malformed or unknown.
 */
int srv_retention_rules_parse(srv_retention_rules **out, const char *json,
			      berth_error **err);
void srv_retention_rules_free(srv_retention_rules *r);

/* The policy applying to repo, or NULL. */
const srv_retention_policy *
srv_retention_policy_for(const srv_retention_rules *r, const char *repo);

/* ---- the plan of one repository (retention_plan.c) ---- */

typedef enum srv_retention_kind {
	SRV_RETAIN_TAG,
	SRV_RETAIN_MANIFEST,
} srv_retention_kind;

typedef struct srv_retention_item {
	srv_retention_kind kind;
	const char *tag;	/* SRV_RETAIN_TAG */
	const char *digest;	/* the tag's target, or the manifest */
	const char *media_type; /* of the manifest, or NULL */
	int64_t size;		/* of the manifest */
	int64_t stamp; /* tag: updated; manifest: pushed (the plan's) */
	const char *reason;
} srv_retention_item;

/*
 * What policy p deletes of repository view v at `now` (delay seconds of
 * grace): tags first, then manifests, parents and referrers before what
 * they name. Items borrow v's strings. *out is an array of *n.
 */
void srv_retention_plan(const srv_retention_policy *p, int64_t delay,
			const berth_meta_repo_view *v, int64_t now,
			srv_retention_item **out, size_t *n);

/* ---- a run (retention.c) ---- */

/*
 * One pass over every repository of meta: plans, and deletes unless
 * dry_run (or the rules' dryRun), each deletion audit-logged (audit may be
 * NULL) with the actor "retention" and its policy, and sent to the event
 * endpoints as a `delete` (events may be NULL). *report (caller frees)
 * is the JSON report: {"dry_run":…,"deleted":[{"repository","tag",
 * "digest","size","policy","reason"}…],"tags":N,"manifests":N,"bytes":N,
 * "skipped":N}.
 */
int srv_retention_run(const srv_retention_rules *rules, berth_meta *meta,
		      berth_audit *audit, srv_events *events, bool dry_run,
		      int64_t now, json_t **report, berth_error **err);

#endif
