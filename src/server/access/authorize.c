/*
 * The single point where access is decided. Every request passes here
 * before its handler runs (http/dispatch.c), and handlers that touch a second
 * repository (a cross-repository mount) or list repositories ask again.
 *
 * Authentication, once per request: a client certificate signed by
 * --tls-client-ca names the user by its subject CN; otherwise, with
 * --auth htpasswd, Basic credentials; with --auth token, a Bearer token
 * (verified once per token string, then cached). Without either, the
 * caller is anonymous.
 *
 * Authorisation: a token grants what its `access` claim says; any other
 * caller gets what the policy grants. Refusals: anonymous callers get 401
 * with a challenge (Basic, or Bearer with the scope to ask for);
 * authenticated callers get 403 DENIED, except a token holder whom the
 * policy would allow, who gets 401 to fetch a token with that scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "berth/log.h"
#include "server/handlers/oci.h"
#include "server/server.h"
#include "util/cidr.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CLOCK_SKEW_S 30

_Static_assert((int)SRV_NEED_PULL == (int)BERTH_ACT_PULL &&
		       (int)SRV_NEED_PUSH == (int)BERTH_ACT_PUSH &&
		       (int)SRV_NEED_DELETE == (int)BERTH_ACT_DELETE &&
		       (int)SRV_NEED_CATALOG == (int)BERTH_ACT_CATALOG,
	       "route needs are berth_act bits");

/*
 * libmicrohttpd requests a client certificate but leaves verifying it,
 * against the --tls-client-ca it was given, to the application.
 * 1: verified, *cn set; 0: none sent; -1: sent and not trusted.
 */
static int
client_cert(srv_req *r, char **cn)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *certs;
	gnutls_session_t sess;
	gnutls_x509_crt_t crt = NULL;
	unsigned status = 0, n = 0;
	char buf[256];
	size_t size = sizeof(buf);
	int rc = -1;

	ci = MHD_get_connection_info(r->conn,
				     MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return 0;
	sess = (gnutls_session_t)ci->tls_session;
	certs = gnutls_certificate_get_peers(sess, &n);
	if (certs == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(sess, &status) < 0 || status)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, buf, &size) >= 0 &&
	    size > 0) {
		size_t i;

		rc = 1;
		/* A user name: printable ASCII without separators. */
		for (i = 0; i < size && buf[i]; i++)
			if (buf[i] <= ' ' || buf[i] > '~' || buf[i] == ':' ||
			    buf[i] == '"')
				rc = -1;
		if (rc == 1)
			*cn = xstrndup(buf, size);
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* The token service's URL: configured, or this server's /token. */
static char *
token_realm(srv_req *r)
{
	const char *host = srv_header(r, MHD_HTTP_HEADER_HOST);
	const char *p;

	if (srv_cfg(r)->token_realm)
		return xstrdup(srv_cfg(r)->token_realm);
	/* The Host the client used, if it is a plain host[:port]. */
	for (p = host; p && *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-:[]", *p)))
			break;
	if (host == NULL || *host == '\0' || *p || strlen(host) > 255)
		host = r->s->cfg.addr;
	return xasprintf("%s://%s/token", r->s->tls_cert_pem ? "https" : "http",
			 host);
}

/* The scope a client must ask for to do `need` on repo. */
static char *
scope_for(const char *repo, unsigned need)
{
	const char *acts;

	if (need & SRV_NEED_CATALOG)
		return xstrdup("registry:catalog:*");
	if (repo == NULL || (need & SRV_NEED_ACTIONS) == 0)
		return NULL;
	if (need & SRV_NEED_PUSH)
		acts = "pull,push";
	else if (need & SRV_NEED_DELETE)
		acts = "delete";
	else
		acts = "pull";
	return xasprintf("repository:%s:%s", repo, acts);
}

static int
challenge(srv_req *r, const char *repo, unsigned need, const char *error,
	  const char *msg)
{
	struct MHD_Response *resp;
	_cleanup_free_ char *hdr = NULL, *realm = NULL, *scope = NULL;
	unsigned status;

	if (r->s->auth == SRV_AUTH_TOKEN) {
		realm = token_realm(r);
		scope = scope_for(repo, need);
		hdr = xasprintf("Bearer realm=\"%s\",service=\"%s\"%s%s%s%s%s",
				realm, srv_cfg(r)->token_service,
				scope ? ",scope=\"" : "", scope ? scope : "",
				scope ? "\"" : "", error ? ",error=\"" : "",
				error ? error : "");
		if (error) {
			char *h2 = xasprintf("%s\"", hdr);

			free(hdr);
			hdr = h2;
		}
	} else {
		hdr = xasprintf("Basic realm=\"%s\"", srv_cfg(r)->realm);
	}
	resp = srv_error_response(SRV_E_UNAUTHORIZED, NULL, msg, &status);
	srv_resp_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr);
	srv_send(r, status, resp);
	return BERTH_EAUTH;
}

static void
note_denied(srv_req *r, unsigned need, const char *why)
{
	r->denied = true;
	r->denied_need = need;
	free(r->audit_detail);
	r->audit_detail = xstrdup(why);
}

/*
 * Basic credentials against the htpasswd file: 0, 1 none, BERTH_EAUTH
 * wrong, BERTH_ETOOMANY (answered), SRV_PENDING (suspended: run again).
 */
static int
basic(srv_req *r, berth_error **err)
{
	char *pass = NULL, *user;
	int rc;

	user = MHD_basic_auth_get_username_password(r->conn, &pass);
	if (user == NULL) {
		if (pass)
			MHD_free(pass);
		return 1;
	}
	rc = srv_password_check(r, user, pass ? pass : "");
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (rc == SRV_PENDING || rc == BERTH_ETOOMANY) {
		MHD_free(user);
		return rc;
	}
	if (rc < 0) {
		berth_error_set(err, BERTH_EAUTH, 0,
				"unknown user or wrong password");
		berth_log(BERTH_LOG_INFO, "authentication failed for user '%s'",
			  user);
		MHD_free(user);
		return rc;
	}
	r->user = xstrdup(user);
	MHD_free(user);
	return 0;
}

static int
cert_auth(srv_req *r)
{
	char *cn = NULL;
	int rc;

	if (r->s->tls_ca_pem == NULL)
		return 0;
	rc = client_cert(r, &cn);
	if (rc < 0 || (rc == 0 && !srv_live_of(r)->htpasswd &&
		       r->s->auth != SRV_AUTH_TOKEN)) {
		note_denied(r, 0, "client certificate missing or untrusted");
		srv_fail(r, SRV_E_DENIED, NULL,
			 "a client certificate signed by the registry's CA is "
			 "required");
		return BERTH_EDENIED;
	}
	if (rc == 1) {
		r->user = cn;
		r->by_cert = true;
	}
	return 0;
}

int
srv_authenticate_basic(srv_req *r, berth_error **err)
{
	int rc;

	if (!r->authn_done) {
		r->authn_done = true;
		if (cert_auth(r) < 0)
			return BERTH_EDENIED;
	}
	if (r->user)
		return 0;
	rc = basic(r, err);
	return rc > 0 ? 0 : rc;
}

bool
srv_token_cred_current(srv_req *r, const berth_token_info *t)
{
	char fp[BERTH_HTPASSWD_FP_LEN + 1];
	berth_htpasswd *h = srv_live_of(r)->htpasswd;

	if (t->cred == NULL)
		return true; /* a token of an outside issuer, or a certificate
			      */
	return h && t->sub && berth_htpasswd_fingerprint(h, t->sub, fp) &&
	       strcmp(fp, t->cred) == 0;
}

static int
bearer(srv_req *r, const char *tok)
{
	berth_jwt_check chk = {
		.algs = BERTH_JWT_ES256 | BERTH_JWT_RS256,
		.issuer = srv_cfg(r)->token_issuer,
		.audience = srv_cfg(r)->token_service,
		.now = (int64_t)time(NULL),
		.skew = CLOCK_SKEW_S,
	};
	json_auto_t *claims = NULL;
	berth_error *err = NULL;
	int rc;

	if (!berth_token_cache_get(srv_live_of(r)->tuning->tokens, tok, chk.now,
				   &r->tok)) {
		rc = berth_jwt_verify(&claims, r->s->keys, tok, &chk, &err);
		if (rc == 0)
			rc = berth_token_info_from_claims(&r->tok, claims,
							  &err);
		if (rc == 0 && r->tok.refresh) {
			berth_token_info_release(&r->tok);
			rc = berth_error_set(&err, BERTH_EAUTH, 0,
					     "a refresh token is only good at "
					     "the token endpoint");
		}
		if (rc < 0) {
			berth_log(BERTH_LOG_INFO, "token refused: %s",
				  err->msg);
			note_denied(r, 0, err->msg);
			challenge(r, NULL, 0, "invalid_token", err->msg);
			berth_error_free(err);
			return BERTH_EAUTH;
		}
		berth_token_cache_put(srv_live_of(r)->tuning->tokens, tok,
				      &r->tok);
	}
	if (!srv_token_cred_current(r, &r->tok)) {
		const char *why = "the token's user was removed or changed "
				  "password";

		berth_log(BERTH_LOG_INFO, "token refused: %s", why);
		berth_token_info_release(&r->tok);
		note_denied(r, 0, why);
		challenge(r, NULL, 0, "invalid_token", why);
		return BERTH_EAUTH;
	}
	r->has_token = true;
	if (r->tok.sub[0])
		r->user = xstrdup(r->tok.sub);
	return 0;
}

/* Establishes the caller; 0, or answers and returns BERTH_EAUTH/EDENIED. */
static int
authenticate(srv_req *r)
{
	berth_error *err = NULL;
	const char *h;
	int rc;

	if (r->authn_done)
		return 0;
	r->authn_done = true;
	if (cert_auth(r) < 0)
		return BERTH_EDENIED;
	if (r->user)
		return 0;
	if (r->s->auth == SRV_AUTH_HTPASSWD) {
		rc = basic(r, &err);
		if (rc == SRV_PENDING)
			r->authn_done = false; /* again when resumed */
		if (rc == SRV_PENDING || rc == BERTH_ETOOMANY)
			return rc;
		if (rc < 0) {
			note_denied(r, 0, "wrong credentials");
			berth_error_free(err);
			return challenge(r, NULL, 0, NULL,
					 "unknown user or wrong password");
		}
	} else if (r->s->auth == SRV_AUTH_TOKEN) {
		h = srv_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
		if (h && strncasecmp(h, "Bearer ", 7) == 0) {
			h += 7;
			while (*h == ' ')
				h++;
			return bearer(r, h);
		}
	}
	return 0;
}

/* The actions the caller may do on repo (NULL: the catalog). */
static unsigned
allowed(srv_req *r, const char *repo)
{
	if (r->has_token)
		return berth_token_allows(&r->tok,
					  repo ? "repository" : "registry",
					  repo ? repo : "catalog");
	return berth_policy_actions(srv_live_of(r)->policy, r->user, repo);
}

/* ip is one of the addresses or ranges of list (NULL-terminated). */
static bool
addr_listed(char *const *list, const char *ip)
{
	for (; list && *list; list++)
		if (strchr(*list, '/') ? berth_cidr_contains(*list, ip)
				       : strcmp(*list, ip) == 0)
			return true;
	return false;
}

/*
 * GET /metrics: the addresses of --metrics-allow without credentials,
 * else the policy's admins. Without access control every caller may,
 * unless --metrics-allow names who.
 */
static int
metrics_access(srv_req *r)
{
	int rc;

	if (addr_listed(r->s->metrics_allow, r->ip))
		return 0;
	if (!r->s->access_control && r->s->metrics_allow == NULL)
		return 0;
	if (!r->s->access_control) {
		note_denied(r, SRV_NEED_METRICS, "address not allowed");
		srv_fail(r, SRV_E_DENIED, NULL,
			 "%s may not read the metrics: add the address to "
			 "--metrics-allow",
			 r->ip);
		return BERTH_EDENIED;
	}
	if ((rc = authenticate(r)) < 0)
		return rc;
	if (r->user == NULL) {
		note_denied(r, SRV_NEED_METRICS, "authentication required");
		return challenge(r, NULL, 0, NULL, "authentication required");
	}
	if (berth_policy_admin(srv_live_of(r)->policy, r->user))
		return 0;
	note_denied(r, SRV_NEED_METRICS, "not an admin");
	srv_fail(r, SRV_E_DENIED, NULL,
		 "'%s' may not read the metrics: only the policy's admins "
		 "may, and the addresses of --metrics-allow",
		 r->user);
	return BERTH_EDENIED;
}

/*
 * The /admin/ endpoints: the policy's admins (every signed-in user under
 * the default policy); anyone when the server has no access control.
 */
static int
admin_access(srv_req *r)
{
	int rc;

	if (!r->s->access_control)
		return 0;
	if ((rc = authenticate(r)) < 0)
		return rc;
	if (r->user == NULL) {
		note_denied(r, SRV_NEED_ADMIN, "authentication required");
		return challenge(r, NULL, 0, NULL, "authentication required");
	}
	if (berth_policy_admin(srv_live_of(r)->policy, r->user))
		return 0;
	note_denied(r, SRV_NEED_ADMIN, "not an admin");
	srv_fail(r, SRV_E_DENIED, NULL,
		 "'%s' may not use the admin endpoints: only the policy's "
		 "admins may",
		 r->user);
	return BERTH_EDENIED;
}

int
srv_authorize(srv_req *r, const char *repo, unsigned need)
{
	unsigned want = need & SRV_NEED_ACTIONS;
	_cleanup_free_ char *why = NULL;
	int rc;

	/* The token endpoint authenticates its own way (h_token.c). */
	if (need & SRV_NEED_TOKEN)
		return 0;
	if (need & SRV_NEED_METRICS)
		return metrics_access(r);
	if (need & SRV_NEED_ADMIN)
		return admin_access(r);
	rc = authenticate(r);
	if (rc < 0)
		return rc;
	if (!r->s->access_control)
		return 0;
	if (want == 0) {
		/* /v2/ and unknown paths: who you are, not what you may do. */
		if (r->user || r->has_token)
			return 0;
		note_denied(r, need, "authentication required");
		return challenge(r, NULL, 0, NULL, "authentication required");
	}
	if ((allowed(r, repo) & want) == want)
		return 0;
	why = berth_act_string(want);
	if (r->user == NULL) {
		note_denied(r, need, "authentication required");
		return challenge(r, repo, need, NULL,
				 "authentication required");
	}
	if (r->has_token &&
	    (!srv_live_of(r)->policy_given && !r->s->token_builtin
		     ? true
		     : (berth_policy_actions(srv_live_of(r)->policy, r->user,
					     repo) &
			want) == want)) {
		/* The policy allows it: the token lacks the scope. */
		note_denied(r, need, "the token lacks the scope");
		return challenge(r, repo, need, "insufficient_scope",
				 "the token does not grant this access");
	}
	note_denied(r, need, "not permitted");
	srv_fail(r, SRV_E_DENIED, NULL, "'%s' may not %s %s%s%s", r->user, why,
		 repo ? "repository '" : "the catalog", repo ? repo : "",
		 repo ? "'" : "");
	return BERTH_EDENIED;
}

bool
srv_can_read(srv_req *r, const char *repo)
{
	if (!r->s->access_control)
		return true;
	return (allowed(r, repo) & BERTH_ACT_PULL) != 0;
}

bool
srv_can_push(srv_req *r, const char *repo)
{
	if (!r->s->access_control)
		return true;
	return (allowed(r, repo) & BERTH_ACT_PUSH) != 0;
}

bool
srv_can_list(srv_req *r, const char *repo)
{
	if (!r->s->access_control)
		return true;
	/* A catalog token names no repositories: ask the policy. */
	if (r->has_token && !srv_live_of(r)->policy_given &&
	    !r->s->token_builtin)
		return true;
	return (berth_policy_actions(srv_live_of(r)->policy, r->user, repo) &
		BERTH_ACT_PULL) != 0;
}
