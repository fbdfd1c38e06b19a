/* berth serve's access policy (patterns, subjects, admins, catalog) and
 * pull-limit windows. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "server/access/policy.h"
#include "server/access/ratelimit.h"
#include "server/access/token.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

TEST(patterns)
{
	static const struct {
		const char *pat, *name;
		bool want;
	} cases[] = {
		{"finance/*", "finance/app", true},
		{"finance/*", "finance/a/b", false},
		{"finance/*", "finance", false},
		{"finance/*", "financex/app", false},
		{"finance/**", "finance/a/b/c", true},
		{"finance/**", "finance/app", true},
		{"finance/**", "finance", false},
		{"**", "anything/at/all", true},
		{"*", "top", true},
		{"*", "two/segments", false},
		{"*/app", "team/app", true},
		{"*/app", "team/sub/app", false},
		{"**/app", "team/sub/app", true},
		{"team/app-*", "team/app-1", true},
		{"team/app-*", "team/app-1/x", false},
		{"team/app", "team/app", true},
		{"team/app", "team/apps", false},
		{"", "", true},
	};
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(cases); i++)
		CHECK(berth_pattern_match(cases[i].pat, cases[i].name) ==
			      cases[i].want,
		      "'%s' vs '%s'", cases[i].pat, cases[i].name);
}

static berth_policy *
policy(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	berth_policy *p = NULL;
	berth_error *err = NULL;

	CHECK(j && berth_policy_from_json(&p, j, "test", &err) == 0,
	      "policy: %s", err ? err->msg : "bad json");
	berth_error_free(err);
	json_decref(j);
	return p;
}

static int
fails(const char *text, const char *want)
{
	json_t *j = json_loads(text, 0, NULL);
	berth_policy *p = NULL;
	berth_error *err = NULL;
	int ok = j && berth_policy_from_json(&p, j, "test", &err) < 0 && err &&
		 strstr(err->msg, want);

	berth_policy_free(p);
	berth_error_free(err);
	json_decref(j);
	return ok;
}

TEST(policy)
{
	berth_policy *p = policy(
		"{\"groups\": {\"fin\": [\"alice\", \"bob\"], \"aud\": "
		"[\"carol\"], \"ops\": [\"olga\"]},"
		" \"admins\": [\"root\", \"group:ops\"],"
		" \"catalog\": [\"group:fin\"],"
		" \"rules\": ["
		"  {\"repository\": \"finance/**\", \"grant\": {\"group:fin\": "
		"[\"pull\", \"push\"], \"group:aud\": [\"pull\"]}},"
		"  {\"repository\": \"public/*\", \"grant\": {\"anonymous\": "
		"[\"pull\"], \"authenticated\": [\"push\"]}},"
		"  {\"repository\": \"home/dave\", \"grant\": {\"dave\": "
		"[\"*\"]}}]}");
	const unsigned PP = BERTH_ACT_PULL | BERTH_ACT_PUSH;

	CHECK(berth_policy_actions(p, "alice", "finance/app") == PP, "fin");
	CHECK(berth_policy_actions(p, "carol", "finance/a/b") == BERTH_ACT_PULL,
	      "auditors pull");
	CHECK(berth_policy_actions(p, "dave", "finance/app") == 0, "outsider");
	CHECK(berth_policy_actions(p, NULL, "finance/app") == 0, "anonymous");
	CHECK(berth_policy_actions(p, NULL, "public/x") == BERTH_ACT_PULL,
	      "anonymous pull of public");
	CHECK(berth_policy_actions(p, "dave", "public/x") == PP,
	      "authenticated also gets anonymous grants");
	CHECK(berth_policy_actions(p, NULL, "public/x/y") == 0,
	      "one segment only");
	CHECK(berth_policy_actions(p, "dave", "home/dave") ==
		      (PP | BERTH_ACT_DELETE),
	      "a user by name, '*' is pull+push+delete");
	CHECK(berth_policy_actions(p, "alice", "home/dave") == 0, "not alice");
	CHECK(berth_policy_actions(p, "root", "anything") == BERTH_ACT_ALL,
	      "admin");
	CHECK(berth_policy_actions(p, "olga", "x/y") == BERTH_ACT_ALL,
	      "admin by group");
	CHECK(berth_policy_actions(p, "alice", NULL) == BERTH_ACT_CATALOG,
	      "catalog by group");
	CHECK(berth_policy_actions(p, "dave", NULL) == 0, "no catalog");
	CHECK(berth_policy_actions(p, NULL, NULL) == 0, "anonymous catalog");
	CHECK(berth_policy_admin(p, "root"), "admin by name");
	CHECK(berth_policy_admin(p, "olga"), "admin by group");
	CHECK(!berth_policy_admin(p, "alice"), "alice is no admin");
	CHECK(!berth_policy_admin(p, NULL), "anonymous is no admin");
	berth_policy_free(p);

	p = berth_policy_default();
	CHECK(berth_policy_actions(p, "x", "a/b") == (PP | BERTH_ACT_DELETE),
	      "default: users may do everything");
	CHECK(berth_policy_actions(p, "x", NULL) == BERTH_ACT_CATALOG,
	      "default: users list the catalog");
	CHECK(berth_policy_actions(p, NULL, "a/b") == 0,
	      "default: anonymous nothing");
	CHECK(berth_policy_admin(p, "x"), "default: users are admins");
	CHECK(!berth_policy_admin(p, NULL), "default: anonymous is not");
	berth_policy_free(p);

	CHECK(fails("{\"rulez\": []}", "unknown key"), "unknown key");
	CHECK(fails("{\"rules\": [{\"repository\": \"x\", \"grant\": {\"a\": "
		    "[\"fly\"]}}]}",
		    "unknown action"),
	      "unknown action");
	CHECK(fails("{\"rules\": [{\"grant\": {}}]}", "needs"),
	      "rule without repository");
	CHECK(fails("{\"admins\": \"root\"}", "list"), "admins not a list");
	CHECK(fails("[]", "object"), "not an object");
}

TEST(limits)
{
	berth_limit l;
	berth_pulls *p = NULL;
	berth_error *err = NULL;
	long rem = 0, retry = 0;
	int64_t t = 1000000000000;
	int i;

	CHECK(berth_limit_parse(&l, "100/6h", NULL) == 0 && l.count == 100 &&
		      l.window == 21600,
	      "100/6h");
	CHECK(berth_limit_parse(&l, "5/30", NULL) == 0 && l.window == 30,
	      "seconds");
	CHECK(berth_limit_parse(&l, "unlimited", NULL) == 0 && l.count < 0,
	      "unlimited");
	CHECK(berth_limit_parse(&l, "100/6x", NULL) < 0, "bad unit");
	CHECK(berth_limit_parse(&l, "100", NULL) < 0, "no window");
	CHECK(berth_limit_parse(&l, "-1/1h", NULL) < 0, "negative");

	CHECK(berth_pulls_new(&p, NULL, &err) == 0, "pulls");
	berth_limit_parse(&l, "3/60", NULL);
	for (i = 0; i < 3; i++)
		CHECK(berth_pulls_take(p, "user:a", &l, t + i * 1000, false,
				       &rem, &retry) &&
			      rem == 2 - i,
		      "pull %d, remaining %ld", i, rem);
	CHECK(!berth_pulls_take(p, "user:a", &l, t + 3000, false, &rem,
				&retry) &&
		      rem == 0 && retry >= 56 && retry <= 58,
	      "over the limit, retry %ld", retry);
	CHECK(berth_pulls_take(p, "user:a", &l, t + 3000, true, &rem, &retry) ==
		      false,
	      "peek says over too");
	CHECK(berth_pulls_take(p, "user:b", &l, t + 3000, false, &rem,
			       &retry) &&
		      rem == 2,
	      "another key is not affected");
	CHECK(!berth_pulls_take(p, "user:a", &l, t + 59000, false, &rem,
				&retry),
	      "still inside the window");
	CHECK(berth_pulls_take(p, "user:a", &l, t + 60500, false, &rem,
			       &retry) &&
		      rem == 0,
	      "the first pull slid out: one more, remaining %ld", rem);
	CHECK(berth_pulls_take(p, "user:a", &l, t + 125000, false, &rem,
			       &retry) &&
		      rem == 2,
	      "all slid out: remaining %ld", rem);
	CHECK(berth_pulls_flush(p, t + 125000, &err) == 0, "flush");
	berth_pulls_free(p);

	{
		berth_rate *r = berth_rate_new(2);

		CHECK(berth_rate_take(r, "a", t) && berth_rate_take(r, "a", t),
		      "burst of 2");
		CHECK(!berth_rate_take(r, "a", t), "third refused");
		CHECK(berth_rate_take(r, "b", t), "other address");
		CHECK(berth_rate_take(r, "a", t + 600), "refilled");
		berth_rate_free(r);
	}
	berth_error_free(err);
}

TEST_MAIN("test_serve_policy")
