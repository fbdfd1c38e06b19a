/*
 * Who may do what on which repository: berth serve's access policy, a JSON
 * document (a --policy file, or the "policy" object of the config file):
 *
 *   { "groups":  { "team-finance": ["alice", "bob"], "auditors": ["carol"] },
 *     "admins":  ["root", "group:ops"],
 *     "catalog": ["authenticated"],
 *     "rules": [
 *       { "repository": "finance/<two stars>",
 *         "grant": { "group:team-finance": ["pull", "push"],
 *                    "group:auditors": ["pull"] } },
 *       { "repository": "public/<star>", "grant": { "anonymous": ["pull"] } } ]
 * }
 *
 * Subjects are a user name (or "user:NAME"), "group:NAME", "anonymous"
 * (every caller, signed in or not) and "authenticated" (every signed-in
 * user). Actions are pull, push and delete ("*" for all three). Rules add
 * up: a caller may do what any matching rule grants. Admins may do
 * everything, everywhere; "catalog" lists who may call /v2/_catalog (which
 * shows only the repositories the caller may pull).
 *
 * Repository patterns: `*` is any run of characters within one path
 * segment, `**` any run across segments: "team/" followed by two stars is
 * every repository under team/, "**" alone is all of them. (The example
 * above spells the stars out only because C comments cannot hold them
 * after a slash; docs/server.md has it verbatim.)
 */
#ifndef BERTH_SERVER_ACCESS_POLICY_H
#define BERTH_SERVER_ACCESS_POLICY_H

#include <jansson.h>

#include "berth/common.h"

typedef struct berth_policy berth_policy;

/* Loads a policy file; BERTH_EUSAGE for anything malformed or unknown. */
int berth_policy_load(berth_policy **out, const char *path, berth_error **err);

/* The same from a JSON value; `what` names it in messages. */
int berth_policy_from_json(berth_policy **out, json_t *root, const char *what,
			   berth_error **err);

/*
 * The policy without a policy file: every authenticated user may do
 * everything (is an admin), anonymous callers nothing.
 */
berth_policy *berth_policy_default(void);

/* One more owner of p, which berth_policy_free then releases. */
berth_policy *berth_policy_ref(berth_policy *p);
/* Drops one owner; the last frees. */
void berth_policy_free(berth_policy *p);

/*
 * The actions (enum berth_act bits) `user` (NULL: anonymous) may do on
 * `repo`; with repo NULL, BERTH_ACT_CATALOG when they may list the catalog.
 */
unsigned berth_policy_actions(const berth_policy *p, const char *user,
			      const char *repo);

/* True when `user` (NULL: anonymous) is one of the policy's admins; with
 * the default policy, every signed-in user is. */
bool berth_policy_admin(const berth_policy *p, const char *user);

/* True when `pattern` matches the repository `name` (see above). */
bool berth_pattern_match(const char *pattern, const char *name);

#endif
