/*
 * Registry access tokens (the Docker registry token specification): the
 * `access` claim as grants, issuing tokens, parsing `scope` strings, and a
 * bounded cache of verified tokens so a busy client pays the signature
 * check once per token, not once per request.
 */
#ifndef BERTH_SERVER_ACCESS_TOKEN_H
#define BERTH_SERVER_ACCESS_TOKEN_H

#include <stdint.h>

#include <jansson.h>

#include "berth/common.h"
#include "server/access/jwt.h"

/* Actions, as bits. The token spec spells them pull, push, delete, "*". */
enum berth_act {
	BERTH_ACT_PULL = 1 << 0,
	BERTH_ACT_PUSH = 1 << 1,
	BERTH_ACT_DELETE = 1 << 2,
	BERTH_ACT_CATALOG = 1 << 3,
	BERTH_ACT_ALL = 0xf,
};

/* "pull", "push", "delete", "catalog", "*": the bits, 0 for unknown. */
unsigned berth_act_parse(const char *s);

/* One grant: type "repository" (name a repository) or "registry"
 * (name "catalog"), with its actions. */
typedef struct berth_grant {
	char *type;
	char *name;
	unsigned actions;
} berth_grant;

/* What a verified token says. */
typedef struct berth_token_info {
	char *sub; /* "" for an anonymous token */
	int64_t exp;
	bool refresh; /* a refresh token, good only at the token endpoint */
	char *cred;   /* the htpasswd entry's fingerprint, or NULL */
	berth_grant *grants;
	size_t n;
} berth_token_info;

void berth_token_info_release(berth_token_info *t);
void berth_token_info_copy(berth_token_info *dst, const berth_token_info *src);

/*
 * Reads sub, exp, the refresh marker, the credential fingerprint and
 * `access` from verified claims.
 */
int berth_token_info_from_claims(berth_token_info *out, json_t *claims,
				 berth_error **err);

/* The actions a token grants on (type, name). */
unsigned berth_token_allows(const berth_token_info *t, const char *type,
			    const char *name);

/*
 * Parses a scope "repository:NAME:pull,push" or "registry:catalog:*" into
 * g (unknown actions dropped). BERTH_EUSAGE when malformed.
 */
int berth_scope_parse(berth_grant *g, const char *scope, berth_error **err);

/* The token spec's spelling of actions: "pull,push". Caller frees. */
char *berth_act_string(unsigned actions);

/* What to put in an issued token. */
typedef struct berth_token_req {
	const char *issuer;
	const char *audience;
	const char *sub; /* "" for anonymous */
	const berth_grant *grants;
	size_t n;
	int64_t now;
	int64_t ttl;
	bool refresh;	  /* a refresh token (no access, long-lived) */
	const char *cred; /* "berth_cred": the user's htpasswd fingerprint */
} berth_token_req;

/* Signs a token; *out caller frees. */
int berth_token_issue(char **out, const berth_jwt_keys *ks,
		      const berth_token_req *req, berth_error **err);

/* ---- the cache of verified tokens ---- */

typedef struct berth_token_cache berth_token_cache;

/* A cache of at most `slots` tokens (rounded up to a power of two). */
berth_token_cache *berth_token_cache_new(size_t slots);
void berth_token_cache_free(berth_token_cache *c);

/*
 * When `token` was verified before and has not expired at `now`, copies
 * its info into *out (caller releases) and returns true.
 */
bool berth_token_cache_get(berth_token_cache *c, const char *token, int64_t now,
			   berth_token_info *out);

/* Remembers a verified token (replacing whatever shared its slot). */
void berth_token_cache_put(berth_token_cache *c, const char *token,
			   const berth_token_info *info);

#endif
