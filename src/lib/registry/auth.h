/*
 * Authenticating to a registry: the WWW-Authenticate challenge grammar of
 * RFC 7235, Basic credentials, and the bearer-token flow of Docker's token
 * specification (distribution docs/spec/auth/token.md): on a Bearer
 * challenge, GET realm?service=…&scope=… (with Basic credentials when the
 * user has some), read `token` or `access_token` and `expires_in`, and send
 * `Authorization: Bearer …`; tokens are cached per scope until they expire.
 * An identity token (docker's OAuth2 refresh token) is exchanged with a
 * POST instead.
 */
#ifndef BERTH_LIB_REGISTRY_AUTH_H
#define BERTH_LIB_REGISTRY_AUTH_H

#include "berth/registry.h"
#include "http/http.h"

/* Hostile input bounds: larger headers or lists are refused. */
#define BERTH_AUTH_MAX_HEADER 16384
#define BERTH_AUTH_MAX_CHALLENGES 16
#define BERTH_AUTH_MAX_PARAMS 32

typedef struct berth_auth_param {
	char *name;  /* as sent; compare case-insensitively */
	char *value; /* unquoted and unescaped */
} berth_auth_param;

typedef struct berth_auth_challenge {
	char *scheme;  /* as sent ("Bearer"); compare case-insensitively */
	char *token68; /* "Basic dXNlcg==" style credentials, or NULL */
	berth_auth_param *params;
	size_t n_params;
} berth_auth_challenge;

typedef struct berth_auth_challenges {
	berth_auth_challenge *v;
	size_t n;
} berth_auth_challenges;

/*
 * Parses one WWW-Authenticate value (several header lines may be joined
 * with ", " first) into its challenges:
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * with empty list elements allowed. Refuses (BERTH_EPROTO, nothing kept)
 * malformed input, control characters, a parameter given twice in one
 * challenge, and input over the BERTH_AUTH_MAX_* bounds.
 */
int berth_auth_parse_challenges(berth_auth_challenges *out, const char *s,
				size_t len, berth_error **err);
void berth_auth_challenges_release(berth_auth_challenges *c);

/* The first challenge of `scheme` (case-insensitive), or NULL. */
const berth_auth_challenge *
berth_auth_challenges_find(const berth_auth_challenges *c, const char *scheme);

/* A parameter's value (name case-insensitive), or NULL. */
const char *berth_auth_challenge_param(const berth_auth_challenge *c,
				       const char *name);

/* A token endpoint's answer. */
typedef struct berth_auth_token {
	char *token;	     /* `token`, else `access_token` */
	long expires_in;     /* seconds; 60 when absent */
	char *refresh_token; /* or NULL */
} berth_auth_token;

/* Parses a token response body (BERTH_EPROTO when it carries no token). */
int berth_auth_token_parse(berth_auth_token *out, const char *body, size_t len,
			   berth_error **err);
void berth_auth_token_release(berth_auth_token *t);

/*
 * Union of two space-separated scope lists ("repository:a/b:pull,push
 * repository:c:pull"), actions of one resource merged, in first-seen
 * order. Either may be NULL or empty. Caller frees.
 */
char *berth_auth_scope_merge(const char *a, const char *b);

/* "Basic base64(user:password)"; caller frees (and should wipe). */
char *berth_auth_basic(const char *user, const char *password);

/*
 * The authorisation state of one registry client: what the registry asked
 * for, the user's credentials (asked for once, when first needed), and the
 * token cache. Thread-safe: workers refreshing an expired token at once
 * fetch it once.
 */
typedef struct berth_auth berth_auth;

/*
 * `host` is passed to the credentials callback, `name` used in messages
 * ("docker.io" for registry-1.docker.io).
 */
berth_auth *berth_auth_new(const char *host, const char *name,
			   bool registry_https, berth_credentials_fn fn,
			   void *ud);
void berth_auth_free(berth_auth *a);

/*
 * Login mode: token requests ask for an offline (refresh) token
 * (offline_token=true, as docker login does); the one received is kept.
 */
void berth_auth_set_offline(berth_auth *a, bool on);

/* The refresh token a token server sent in login mode, or NULL; caller
 * frees. */
char *berth_auth_take_refresh_token(berth_auth *a);

/* The registry moved from plain HTTP to HTTPS (see registry.c). */
void berth_auth_set_https(berth_auth *a, bool registry_https);

/*
 * The Authorization header value for a request needing `scope` (a
 * space-separated scope list, or NULL for /v2/), fetching a token with `h`
 * when the registry is known to want one; *out is NULL while the registry
 * has not asked for anything. Caller frees *out.
 */
int berth_auth_header(berth_auth *a, berth_http *h, const char *scope,
		      char **out, berth_error **err);

/*
 * Learns from a 401 response to a request needing `scope` that was sent
 * with `sent` (the Authorization value used, or NULL): drops a rejected
 * token and obtains what the challenge asks for. Returns 0 when the request
 * should be sent again, 1 when nothing more can be tried (the caller
 * reports the 401), or a negative error (the token server refused, the
 * challenge is invalid, the credentials lookup failed).
 */
int berth_auth_challenged(berth_auth *a, berth_http *h,
			  const berth_http_resp *resp, const char *scope,
			  const char *sent, berth_error **err);

/* True when `host` ("name", "name:port", "[v6]:port") is loopback. */
bool berth_host_is_loopback(const char *host);

#endif
