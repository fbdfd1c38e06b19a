/*
 * Which repositories serve only signed images: the "require-signatures"
 * list of the config file (docs/server.md, "Signed images only"):
 *
 *   [ { "repositories": "prod/<two stars>", "keys": ["/etc/berth/release.pub"]
 * }, { "repositories": ["base/<star>", "tools"], "keys": ["a.pub", "b.pub"] } ]
 *
 * "repositories" is one pattern or a list (berth_pattern_match: `*`
 * within a path segment, `**` across); "keys" the PEM public keys (cosign
 * generate-key-pair's cosign.pub, berth key generate's) loaded at start
 * and on SIGHUP. The first rule one of whose patterns matches applies: a
 * manifest of such a repository is served (GET, HEAD) only when a
 * signature by one of its keys verifies (handlers/manifest_sig.c).
 * (The stars are spelled out as C comments cannot hold them after a
 * slash; docs/server.md has the example verbatim.)
 */
#ifndef BERTH_SERVER_ACCESS_SIGRULES_H
#define BERTH_SERVER_ACCESS_SIGRULES_H

#include <stddef.h>

#include "berth/common.h"
#include "berth/sign.h"

typedef struct srv_sigrule {
	char **repositories; /* NULL-terminated patterns */
	berth_sign_key **keys;
	size_t n_keys;
	char *key_names; /* "a.pub, b.pub", for messages */
	char *name;	 /* "require-signatures[0]" */
} srv_sigrule;

/* Immutable once parsed, shared by reference between the requests. */
typedef struct srv_sigrules srv_sigrules;

/*
 * Parses the "require-signatures" list (json NULL: no rules, *out NULL)
 * and loads every key file. BERTH_EUSAGE naming the rule and the file
 * for anything malformed or a key that does not load.
 */
int srv_sigrules_parse(srv_sigrules **out, const char *json, berth_error **err);

/* Another reference to r (NULL stays NULL). */
srv_sigrules *srv_sigrules_ref(srv_sigrules *r);

/* Drops a reference; the last frees. NULL is a no-op. */
void srv_sigrules_put(srv_sigrules *r);

/* The rule applying to repo and the pattern that matched it, or NULL.
 * r may be NULL. */
const srv_sigrule *srv_sigrules_for(const srv_sigrules *r, const char *repo,
				    const char **pattern);

#endif
