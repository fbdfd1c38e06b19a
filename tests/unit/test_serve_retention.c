/*
 * Retention policies against the real SQLite metadata store: each case
 * stores a repository with push and pull times set through the store's
 * interface (the test's way to control time; the server only ever
 * stamps "now"), runs a dry run (nothing may change, and it must plan
 * exactly what the real run then deletes), a real run, and compares the
 * survivors with the table's.
 *
 * Fixtures, one item a line:
 *   R repo                       the repository of the lines below
 *   M name AGE [pulled=AGE] [subject=name] [children=a,b]
 *                                a manifest pushed AGE ago (10d, 3h)
 *   T tag name AGE [pulled=AGE]  a tag pointing at a manifest
 *   S name sig AGE               cosign's tag "sha256-<hex of name>.sig"
 *                                pointing at manifest sig
 * Survivors: "repo:tag" and "repo@name", sorted, space-separated.
 */
#include "test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "berth/digest.h"
#include "server/ops/retention.h"
#include "server/storage/meta.h"
#include "server/storage/storage.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/xalloc.h"

static char root[] = "/tmp/berth-unit-retention.XXXXXX";

#define NOW 2000000000LL

static void
digest_of(char out[80], const char *name)
{
	berth_digest d;

	berth_digest_of(&d, BERTH_DIGEST_SHA256, name, strlen(name));
	snprintf(out, 80, "%.79s", d.str);
}

static int64_t
ago(const char *s)
{
	int64_t v = 0;

	if (berth_duration_parse(s, &v, NULL) < 0) {
		printf("bad age '%s'\n", s);
		abort();
	}
	return NOW - v;
}

/* The value of "key=" among the words, or NULL. */
static const char *
opt(char **w, const char *key)
{
	size_t n = strlen(key);

	for (; *w; w++)
		if (strncmp(*w, key, n) == 0 && (*w)[n] == '=')
			return *w + n + 1;
	return NULL;
}

static void
load_line(berth_meta_tx *tx, char *repo, char *line)
{
	char *w[16] = {0}, *save = NULL, *t;
	char dg[80], sub[80];
	berth_error *err = NULL;
	size_t n = 0;
	int r = 0;

	for (t = strtok_r(line, " ", &save); t && n < 15;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n == 0)
		return;
	if (strcmp(w[0], "R") == 0) {
		snprintf(repo, 256, "%s", w[1]);
		r = tx->ops->repo_add(tx, repo, &err);
	} else if (strcmp(w[0], "M") == 0) {
		const char *subj = opt(w + 3, "subject");
		const char *kids = opt(w + 3, "children");
		berth_meta_manifest mf = {
			.digest = dg,
			.media_type =
				"application/vnd.oci.image.manifest.v1+json",
			.size = 100 + (int64_t)strlen(w[1]),
			.pushed = ago(w[2]),
		};

		digest_of(dg, w[1]);
		if (subj) {
			digest_of(sub, subj);
			mf.subject = sub;
		}
		r = tx->ops->manifest_set(tx, repo, &mf, &err);
		if (r == 0 && opt(w + 3, "pulled")) {
			berth_meta_pull_time p = {repo, NULL, dg,
						  ago(opt(w + 3, "pulled"))};

			r = tx->ops->pulled_set(tx, &p, &err);
		}
		if (r == 0 && kids) {
			_cleanup_free_ char *k = xstrdup(kids);
			char *s2 = NULL;

			for (t = strtok_r(k, ",", &s2); t && r == 0;
			     t = strtok_r(NULL, ",", &s2)) {
				digest_of(sub, t);
				r = tx->ops->manifest_ref_add(tx, repo, dg, sub,
							      &err);
			}
		}
	} else if (strcmp(w[0], "T") == 0 || strcmp(w[0], "S") == 0) {
		char tag[128];

		if (w[0][0] == 'S') {
			digest_of(sub, w[1]);
			snprintf(tag, sizeof(tag), "sha256-%s.sig", sub + 7);
		} else {
			snprintf(tag, sizeof(tag), "%s", w[1]);
		}
		digest_of(dg, w[2]);
		r = tx->ops->tag_set(tx, repo, tag, dg, ago(w[3]), &err);
		if (r == 0 && opt(w + 4, "pulled")) {
			berth_meta_pull_time p = {repo, tag, NULL,
						  ago(opt(w + 4, "pulled"))};

			r = tx->ops->pulled_set(tx, &p, &err);
		}
	}
	if (r < 0) {
		printf("fixture line failed: %s\n", err ? err->msg : "?");
		abort();
	}
}

static berth_meta *
store_new(const char *fixture, char ***names)
{
	static int seq;
	_cleanup_free_ char *db = xasprintf("%s/metadata-%d.db", root, ++seq);
	_cleanup_free_ char *copy = xstrdup(fixture);
	char repo[256] = "", *line, *save = NULL;
	berth_meta *m = NULL;
	berth_meta_tx *tx = NULL;
	berth_error *err = NULL;
	size_t n = 0;

	if (berth_meta_sqlite_open(&m, db, 2, &err) < 0 ||
	    m->ops->tx_begin(m, &tx, BERTH_META_WRITE, &err) < 0) {
		printf("store: %s\n", err->msg);
		abort();
	}
	*names = xcalloc(64, sizeof(char *));
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char first[64] = "";

		if (line[0] == 'M' && sscanf(line, "M %63s", first) == 1 &&
		    n < 63)
			(*names)[n++] = xstrdup(first);
		if (line[0] == 'M' || line[0] == 'R' || line[0] == 'T' ||
		    line[0] == 'S') {
			_cleanup_free_ char *l = xstrdup(line);

			load_line(tx, repo, l);
		}
	}
	if (tx->ops->tx_commit(tx, &err) < 0) {
		printf("commit: %s\n", err->msg);
		abort();
	}
	return m;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The survivors of every repository, named as in the table. */
static char *
survivors(berth_meta *m, char **names)
{
	char **repos = NULL, *v[512];
	size_t n = 0, i, k;
	bool more;
	berth_buf b = BERTH_BUF_INIT;

	if (berth_meta_catalog(m, NULL, -1, &repos, &more, NULL) < 0)
		abort();
	for (char **r = repos; *r; r++) {
		berth_meta_repo_view view;

		if (berth_meta_repo_view_read(m, *r, &view, NULL) < 0)
			abort();
		for (i = 0; i < view.n_tags && n < 500; i++) {
			const char *t = view.tags[i].tag;

			v[n++] = strncmp(t, "sha256-", 7) == 0
					 ? xasprintf("%s:<sig>", *r)
					 : xasprintf("%s:%s", *r, t);
		}
		for (i = 0; i < view.n_manifests && n < 500; i++)
			for (k = 0; names[k]; k++) {
				char dg[80];

				digest_of(dg, names[k]);
				if (strcmp(dg, view.manifests[i].digest) == 0)
					v[n++] = xasprintf("%s@%s", *r,
							   names[k]);
			}
		berth_meta_repo_view_release(&view);
	}
	berth_strv_free(repos);
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		if (i)
			berth_buf_puts(&b, " ", NULL);
		berth_buf_puts(&b, v[i], NULL);
		free(v[i]);
	}
	return berth_buf_detach(&b);
}

static void
check_case(const char *rules_json, const char *fixture, const char *want)
{
	srv_retention_rules *rules = NULL;
	berth_error *err = NULL;
	json_t *dry = NULL, *real = NULL;
	char **names = NULL;
	berth_meta *m = store_new(fixture, &names);
	_cleanup_free_ char *before = survivors(m, names);
	_cleanup_free_ char *after_dry = NULL, *after = NULL;
	_cleanup_free_ char *dry_list = NULL, *real_list = NULL;

	CHECK(srv_retention_rules_parse(&rules, rules_json, &err) == 0,
	      "rules: %s", err ? err->msg : "");
	if (rules == NULL)
		return;
	CHECK(srv_retention_run(rules, m, NULL, NULL, true, NOW, &dry, &err) ==
		      0,
	      "dry run: %s", err ? err->msg : "");
	after_dry = survivors(m, names);
	CHECK_STR(after_dry, before);
	CHECK(srv_retention_run(rules, m, NULL, NULL, false, NOW, &real,
				&err) == 0,
	      "run: %s", err ? err->msg : "");
	after = survivors(m, names);
	CHECK_STR(after, want);
	dry_list = json_dumps(json_object_get(dry, "deleted"), JSON_COMPACT);
	real_list = json_dumps(json_object_get(real, "deleted"), JSON_COMPACT);
	CHECK(json_is_true(json_object_get(dry, "dry_run")), "dry run says so");
	CHECK(json_integer_value(json_object_get(real, "skipped")) == 0,
	      "nothing skipped");
	/* Same items; the real run may order them by its passes. */
	CHECK(json_array_size(json_object_get(dry, "deleted")) ==
		      json_array_size(json_object_get(real, "deleted")),
	      "the dry run planned what the run did: %s vs %s", dry_list,
	      real_list);
	json_decref(dry);
	json_decref(real);
	srv_retention_rules_free(rules);
	berth_strv_free(names);
	berth_meta_free(m);
}

/* Five builds and two releases of the docs' example. */
#define BUILDS                                                                 \
	"R finance/payment-service\n"                                          \
	"M b1 9d\nT build-1 b1 9d\n"                                           \
	"M b2 8d\nT build-2 b2 8d\n"                                           \
	"M b3 7d\nT build-3 b3 7d\n"                                           \
	"M b4 6d\nT build-4 b4 6d\n"                                           \
	"M b5 5d\nT build-5 b5 5d\n"                                           \
	"M b6 4d\nT build-6 b6 4d\n"                                           \
	"M b7 3d\nT build-7 b7 3d\n"                                           \
	"M r1 20d\nT v1.0 r1 20d\n"                                            \
	"M r2 15d\nT v2.0 r2 15d\n"

#define SEED_RULES                                                             \
	"{\"policies\": [{\"repositories\": [\"finance/payment-service\"],"    \
	" \"deleteUntagged\": true, \"keepTags\": ["                           \
	" {\"patterns\": [\"v*\"]}, {\"mostRecentlyPushedCount\": 5}]}]}"

TEST(seed_last_five_builds_and_releases)
{
	check_case(SEED_RULES, BUILDS,
		   "finance/payment-service:build-3 finance/payment-service:"
		   "build-4 finance/payment-service:build-5 "
		   "finance/payment-service:build-6 finance/payment-service:"
		   "build-7 finance/payment-service:v1.0 "
		   "finance/payment-service:v2.0 finance/payment-service@b3 "
		   "finance/payment-service@b4 finance/payment-service@b5 "
		   "finance/payment-service@b6 finance/payment-service@b7 "
		   "finance/payment-service@r1 finance/payment-service@r2");
}

TEST(no_policy_matches_nothing_deleted)
{
	check_case("{\"policies\": [{\"repositories\": [\"other/**\"],"
		   " \"deleteUntagged\": true, \"keepTags\": "
		   "[{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\nM u 8d\n",
		   "app:t1 app:t2 app@a app@b app@u");
}

TEST(patterns_keep_matching_tags_only)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"patterns\": [\"v*\", \"stable\"]}]}]}",
		   "R app\nM a 9d\nT v1 a 9d\nM b 9d\nT stable b 9d\n"
		   "M c 9d\nT dev c 9d\nM d 9d\nT nightly-v1 d 9d\n",
		   "app:stable app:v1 app@a app@b");
}

TEST(most_recently_pushed_count)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 2}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\n"
		   "M c 7d\nT t3 c 7d\n",
		   "app:t2 app:t3 app@b app@c");
}

TEST(most_recently_pulled_count)
{
	/* t1 was pulled by tag last, t3's manifest by digest before it;
	 * t2 never: it is not among the recently pulled. */
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPulledCount\": 2}]}]}",
		   "R app\nM a 9d\nT t1 a 9d pulled=1h\nM b 8d\nT t2 b 8d\n"
		   "M c 7d pulled=2d\nT t3 c 7d\nM d 7d pulled=5d\n"
		   "T t4 d 7d\n",
		   "app:t1 app:t3 app@a app@c");
}

TEST(pushed_within)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"pushedWithin\": \"7d\"}]}]}",
		   "R app\nM a 30d\nT old a 30d\nM b 6d\nT new b 6d\n"
		   "M c 8d\nT older c 8d\n",
		   "app:new app@b");
}

TEST(pulled_within)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"pulledWithin\": \"3d\"}]}]}",
		   "R app\nM a 30d\nT hot a 30d pulled=1d\nM b 30d pulled=2d\n"
		   "T warm b 30d\nM c 30d\nT cold c 30d pulled=10d\n"
		   "M d 30d\nT never d 30d\n",
		   "app:hot app:warm app@a app@b");
}

TEST(rule_patterns_scope_its_counts)
{
	/* The 1 most recent of "build-*" and every "v*": a newer "dev"
	 * does not take the build's place. */
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"patterns\": [\"build-*\"],"
		   " \"mostRecentlyPushedCount\": 1}, {\"patterns\": "
		   "[\"v*\"]}]}]}",
		   "R app\nM a 9d\nT build-1 a 9d\nM b 8d\nT build-2 b 8d\n"
		   "M c 2d\nT dev c 2d\nM d 30d\nT v1 d 30d\n",
		   "app:build-2 app:v1 app@b app@d");
}

TEST(untagged_kept_without_delete_untagged)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\nM u 20d\n",
		   "app:t2 app@b app@u");
}

TEST(delete_untagged)
{
	/* Without keepTags every tag stays; only untagged manifests go,
	 * not an index's children. */
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"deleteUntagged\": true}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM u 20d\nM c1 9d\nM c2 9d\n"
		   "M idx 9d children=c1,c2\nT multi idx 9d\n",
		   "app:multi app:t1 app@a app@c1 app@c2 app@idx");
}

TEST(delay_protects_recent_pushes)
{
	check_case("{\"delay\": \"2d\", \"policies\": [{\"repositories\": "
		   "[\"app\"], \"deleteUntagged\": true, \"keepTags\": "
		   "[{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 1d\nT t2 b 1d\n"
		   "M c 1h\nT t3 c 1h\nM u 1h\nM v 3d\n",
		   "app:t2 app:t3 app@b app@c app@u");
}

TEST(default_delay_is_a_day)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"deleteUntagged\": true, \"keepTags\": "
		   "[{\"patterns\": [\"keep\"]}]}]}",
		   "R app\nM a 25h\nT t1 a 25h\nM b 23h\nT t2 b 23h\n",
		   "app:t2 app@b");
}

TEST(referrers_go_with_their_subject)
{
	/* sbom-a refers to a (deleted), sbom-b to b (kept); sig-of-sbom-a
	 * refers to the referrer: it goes too. */
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\n"
		   "M sbom-a 9d subject=a\nM sig2 9d subject=sbom-a\n"
		   "M sbom-b 8d subject=b\n",
		   "app:t2 app@b app@sbom-b");
}

TEST(cosign_tags_go_with_their_subject)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\n"
		   "M siga 9d\nS a siga 9d\nM sigb 8d\nS b sigb 8d\n",
		   "app:<sig> app:t2 app@b app@sigb");
}

TEST(orphaned_referrers_with_delete_referrers)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"deleteReferrers\": true}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM sig 9d subject=gone\n"
		   "M sbom 9d subject=a\n",
		   "app:t1 app@a app@sbom");
}

TEST(orphaned_referrers_kept_without)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"deleteUntagged\": true}]}",
		   "R app\nM a 9d\nT t1 a 9d\nM sig 9d subject=gone\n",
		   "app:t1 app@a app@sig");
}

TEST(first_matching_policy_applies)
{
	/* team/app matches both; the first keeps 1, the second would keep
	 * everything. */
	check_case("{\"policies\": [{\"repositories\": [\"team/*\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 1}]},"
		   " {\"repositories\": [\"**\"], \"keepTags\": "
		   "[{\"patterns\": [\"*\"]}]}]}",
		   "R team/app\nM a 9d\nT t1 a 9d\nM b 8d\nT t2 b 8d\n"
		   "R other\nM c 9d\nT t1 c 9d\nM d 8d\nT t2 d 8d\n",
		   "other:t1 other:t2 other@c other@d team/app:t2 "
		   "team/app@b");
}

TEST(star_is_one_segment_double_star_any)
{
	check_case("{\"policies\": [{\"repositories\": [\"ci/*\"],"
		   " \"keepTags\": [{\"patterns\": [\"none\"]}]}]}",
		   "R ci/app\nM a 9d\nT t1 a 9d\n"
		   "R ci/deep/app\nM b 9d\nT t1 b 9d\n",
		   "ci/deep/app:t1 ci/deep/app@b");
	check_case("{\"policies\": [{\"repositories\": [\"ci/**\"],"
		   " \"keepTags\": [{\"patterns\": [\"none\"]}]}]}",
		   "R ci/app\nM a 9d\nT t1 a 9d\n"
		   "R ci/deep/app\nM b 9d\nT t1 b 9d\nR cx\nM c 9d\n"
		   "T t1 c 9d\n",
		   "cx:t1 cx@c");
}

TEST(manifest_with_another_kept_tag_stays)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"patterns\": [\"latest\"]}]}]}",
		   "R app\nM a 9d\nT build-1 a 9d\nT latest a 9d\n",
		   "app:latest app@a");
}

TEST(index_children_go_with_the_index)
{
	check_case("{\"policies\": [{\"repositories\": [\"app\"],"
		   " \"keepTags\": [{\"mostRecentlyPushedCount\": 1}]}]}",
		   "R app\nM c1 9d\nM c2 9d\nM idx 9d children=c1,c2\n"
		   "T old idx 9d\nM c3 8d\nM idx2 8d children=c3,c2\n"
		   "T new idx2 8d\n",
		   "app:new app@c2 app@c3 app@idx2");
}

TEST(rules_refused)
{
	static const char *const bad[] = {
		"{\"policies\": [{\"keepTags\": []}]}",
		"{\"policies\": [{\"repositories\": []}]}",
		"{\"policies\": [{\"repositories\": [\"a\"], \"keepTags\": "
		"[{\"mostRecentlyPushedCount\": -1}]}]}",
		"{\"policies\": [{\"repositories\": [\"a\"], \"keepTags\": "
		"[{\"pushedWithin\": \"7 days\"}]}]}",
		"{\"policies\": [{\"repositories\": [\"a\"], \"keep\": 1}]}",
		"{\"delay\": 5}",
		"{\"policy\": []}",
		"[]",
	};
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		srv_retention_rules *r = NULL;
		berth_error *err = NULL;

		CHECK(srv_retention_rules_parse(&r, bad[i], &err) ==
				      BERTH_EUSAGE &&
			      r == NULL && err && err->msg,
		      "refused: %s", bad[i]);
		berth_error_free(err);
	}
	{
		srv_retention_rules *r = NULL;
		berth_error *err = NULL;

		CHECK(srv_retention_rules_parse(
			      &r,
			      "{\"policies\": [{\"repositories\": [\"a\"], "
			      "\"keepTags\": [{\"pulledWithin\": \"7 "
			      "days\"}]}]}",
			      &err) == BERTH_EUSAGE,
		      "refused");
		CHECK_STR(err ? err->msg : NULL,
			  "retention: policies[0].keepTags[0].pulledWithin: "
			  "invalid duration '7 days'");
		CHECK(err && err->hint && strstr(err->hint, "30d"),
		      "the hint shows how to write one");
		berth_error_freep(&err);
		CHECK(srv_retention_rules_parse(&r, "[]", &err) ==
				      BERTH_EUSAGE &&
			      strcmp(err->msg,
				     "\"retention\" must be an object") == 0,
		      "%s", err->msg);
		berth_error_free(err);
	}
}

static int64_t
version_of(const char *db)
{
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open(db, &s) == SQLITE_OK &&
	    sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return v;
}

TEST(schema_upgrades_to_version_4)
{
	_cleanup_free_ char *db = xasprintf("%s/old.db", root);
	berth_meta *m = NULL;
	berth_error *err = NULL;
	berth_meta_repo_view v;
	sqlite3 *s = NULL;
	char dg[80];

	/* A store as version 3 left it: no pull times. */
	CHECK(berth_meta_sqlite_open(&m, db, 1, &err) == 0, "open");
	berth_meta_free(m);
	m = NULL;
	CHECK(version_of(db) == 4, "a new store is at version 4");
	CHECK(sqlite3_open(db, &s) == SQLITE_OK &&
		      sqlite3_exec(s,
				   "ALTER TABLE tags DROP COLUMN pulled;"
				   "ALTER TABLE manifests DROP COLUMN pulled;"
				   "INSERT INTO repos VALUES('app', 1);"
				   "PRAGMA user_version = 3;",
				   NULL, NULL, NULL) == SQLITE_OK,
	      "downgrade: %s", sqlite3_errmsg(s));
	sqlite3_close(s);
	CHECK(version_of(db) == 3, "at version 3");
	CHECK(berth_meta_sqlite_open(&m, db, 1, &err) == 0, "upgrade: %s",
	      err ? err->msg : "");
	CHECK(version_of(db) == 4, "upgraded to version 4");
	berth_meta_free(m);
	m = NULL;

	/* ...and the upgraded store records pull times. */
	digest_of(dg, "a");
	CHECK(berth_meta_sqlite_open(&m, db, 1, &err) == 0, "reopen");
	{
		berth_meta_tx *tx = NULL;
		berth_meta_manifest mf = {.digest = dg,
					  .media_type = "x",
					  .size = 1,
					  .pushed = 5};
		berth_meta_pull_time p = {"app", NULL, dg, 42};

		CHECK(m->ops->tx_begin(m, &tx, BERTH_META_WRITE, &err) == 0 &&
			      m->ops->manifest_set(tx, "app", &mf, &err) == 0 &&
			      m->ops->tx_commit(tx, &err) == 0,
		      "manifest");
		CHECK(berth_meta_pulls_record(m, &p, 1, &err) == 0, "pull");
	}
	CHECK(berth_meta_repo_view_read(m, "app", &v, &err) == 0 &&
		      v.n_manifests == 1 && v.manifests[0].pulled == 42,
	      "pull time stored");
	berth_meta_repo_view_release(&v);
	berth_meta_free(m);
	m = NULL;

	/* A store as version 2 left it: nor when links were seen; both
	 * steps run in turn. */
	CHECK(sqlite3_open(db, &s) == SQLITE_OK &&
		      sqlite3_exec(s,
				   "ALTER TABLE tags DROP COLUMN pulled;"
				   "ALTER TABLE manifests DROP COLUMN pulled;"
				   "DROP INDEX manifests_digest;"
				   "DROP INDEX manifest_refs_child;"
				   "ALTER TABLE blob_links DROP COLUMN seen;"
				   "PRAGMA user_version = 2;",
				   NULL, NULL, NULL) == SQLITE_OK,
	      "downgrade to 2: %s", sqlite3_errmsg(s));
	sqlite3_close(s);
	CHECK(berth_meta_sqlite_open(&m, db, 1, &err) == 0, "upgrade: %s",
	      err ? err->msg : "");
	CHECK(version_of(db) == 4, "upgraded from 2 to version 4");
	CHECK(berth_meta_repo_view_read(m, "app", &v, &err) == 0 &&
		      v.n_manifests == 1 && v.manifests[0].pulled == 0,
	      "the manifest kept, its pull time unknown");
	berth_meta_repo_view_release(&v);
	berth_meta_free(m);
}

TEST(pull_times_are_written_in_batches)
{
	srv_storage *st = NULL;
	berth_error *err = NULL;
	berth_meta_repo_view v;
	berth_meta_tx *tx = NULL;
	char dg[80];
	int i;

	digest_of(dg, "a");
	CHECK(srv_storage_open(&st, root, 2, &err) == 0, "open: %s",
	      err ? err->msg : "");
	{
		berth_meta_manifest mf = {.digest = dg,
					  .media_type = "x",
					  .size = 1,
					  .pushed = 5};

		CHECK(st->meta->ops->tx_begin(st->meta, &tx, BERTH_META_WRITE,
					      &err) == 0 &&
			      tx->ops->repo_add(tx, "app", &err) == 0 &&
			      tx->ops->manifest_set(tx, "app", &mf, &err) ==
				      0 &&
			      tx->ops->tag_set(tx, "app", "v1", dg, 5, &err) ==
				      0 &&
			      tx->ops->tx_commit(tx, &err) == 0,
		      "fixture");
	}
	srv_storage_note_pull(st, "app", "v1", dg, 100);
	srv_storage_note_pull(st, "app", NULL, dg, 300);
	srv_storage_note_pull(st, "app", "v1", dg, 200);
	CHECK(berth_meta_repo_view_read(st->meta, "app", &v, &err) == 0 &&
		      v.manifests[0].pulled == 0 && v.tags[0].pulled == 0,
	      "a pull alone writes nothing");
	berth_meta_repo_view_release(&v);
	CHECK(srv_storage_flush_pulls(st, &err) == 0, "flush");
	CHECK(berth_meta_repo_view_read(st->meta, "app", &v, &err) == 0 &&
		      v.manifests[0].pulled == 300 && v.tags[0].pulled == 200,
	      "the latest pull of each is written: %lld %lld",
	      (long long)v.manifests[0].pulled, (long long)v.tags[0].pulled);
	berth_meta_repo_view_release(&v);
	/* Bounded: far more distinct tags than the table holds. */
	for (i = 0; i < 20000; i++) {
		char tag[32];

		snprintf(tag, sizeof(tag), "t%d", i);
		srv_storage_note_pull(st, "app", tag, NULL, 400);
	}
	/* The table is full: this pull goes unrecorded (see below). */
	srv_storage_note_pull(st, "app", NULL, dg, 500);
	CHECK(srv_storage_flush_pulls(st, &err) == 0, "flush of a full table");
	/* An older pull never moves a time back; close saves the rest. */
	srv_storage_note_pull(st, "app", "v1", dg, 150);
	srv_storage_note_pull(st, "app", "v1", NULL, 600);
	srv_storage_close(st);
	CHECK(srv_storage_open(&st, root, 2, &err) == 0, "reopen");
	CHECK(berth_meta_repo_view_read(st->meta, "app", &v, &err) == 0 &&
		      v.tags[0].pulled == 600 && v.manifests[0].pulled == 300,
	      "close saved the pulls, the one past the bound was dropped: "
	      "%lld %lld",
	      (long long)v.tags[0].pulled, (long long)v.manifests[0].pulled);
	berth_meta_repo_view_release(&v);
	srv_storage_close(st);
}

static void
fixture_setup(void)
{
	if (mkdtemp(root) == NULL)
		exit(1);
}

static void
fixture_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", root);

	if (system(cmd) != 0)
		printf("cannot remove %s\n", root);
	free(cmd);
}

TEST_MAIN_FIXTURE("test_serve_retention", fixture_setup, fixture_teardown)
