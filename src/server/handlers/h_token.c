/*
 * The built-in token service (Docker registry token specification):
 *
 *   GET  /token?service=S&scope=repository:NAME:pull,push[&scope=…]
 *        [&offline_token=true]     Basic credentials, a client
 *                                  certificate, or nothing (anonymous)
 *   POST /token   form: grant_type=password (username, password) or
 *                 grant_type=refresh_token (refresh_token); service,
 *                 scope (space-separated), access_type=offline, client_id
 *
 * The answer is a signed JWT granting each requested scope as far as the
 * policy allows the caller (possibly nothing: the registry will then
 * refuse), in {"token", "access_token", "expires_in", "issued_at"}, plus a
 * "refresh_token" for a signed-in user who asked for one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/log.h"
#include "server/handlers/oci.h"
#include "server/http/form.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define FORM_MAX (64 << 10)
#define SCOPES_MAX 32

typedef struct scopes {
	char *v[SCOPES_MAX];
	size_t n;
} scopes;

static void
scopes_release(scopes *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void
scopes_add(scopes *s, const char *v, size_t len)
{
	if (s->n < SCOPES_MAX && len > 0)
		s->v[s->n++] = xstrndup(v, len);
}

/* Adds the space-separated scopes of v. */
static void
scopes_add_words(scopes *s, const char *v)
{
	while (v && *v) {
		size_t n = strcspn(v, " ");

		scopes_add(s, v, n);
		v += n;
		v += strspn(v, " ");
	}
}

static void
grants_free(berth_grant *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].type);
		free(g[i].name);
	}
	free(g);
}

/*
 * What the policy lets user have of the requested scopes; *summary is
 * "repository:a:pull repository:b:pull,push" for the audit log.
 */
static int
grant(srv_req *r, const char *user, const scopes *sc, berth_grant **out,
      size_t *n_out, char **summary)
{
	berth_buf sum = BERTH_BUF_INIT;
	berth_grant *gs = NULL;
	size_t n = 0, i;

	for (i = 0; i < sc->n; i++) {
		berth_grant g;
		unsigned may;

		if (berth_scope_parse(&g, sc->v[i], NULL) < 0)
			continue; /* grants nothing */
		if (strcmp(g.type, "repository") == 0 &&
		    berth_oci_name_valid(g.name))
			may = berth_policy_actions(srv_live_of(r)->policy, user,
						   g.name);
		else if (strcmp(g.type, "registry") == 0)
			may = berth_policy_actions(srv_live_of(r)->policy, user,
						   NULL);
		else
			may = 0;
		g.actions &= may;
		if (g.actions == 0) {
			free(g.type);
			free(g.name);
			continue;
		}
		{
			_cleanup_free_ char *acts = berth_act_string(g.actions);

			berth_buf_printf(
				&sum, NULL, "%s%s:%s:%s", sum.len ? " " : "",
				g.type, g.name,
				strcmp(g.type, "registry") == 0 ? "*" : acts);
		}
		gs = xreallocarray(gs, n + 1, sizeof(*gs));
		gs[n++] = g;
	}
	*out = gs;
	*n_out = n;
	*summary = berth_buf_detach(&sum);
	return 0;
}

static int
answer(srv_req *r, const char *user, const scopes *sc, bool offline)
{
	berth_token_req req = {
		.issuer = srv_cfg(r)->token_issuer,
		.audience = srv_cfg(r)->token_service,
		.sub = user ? user : "",
		.now = (int64_t)time(NULL),
		.ttl = srv_cfg(r)->token_ttl,
	};
	_cleanup_free_ char *tok = NULL, *refresh = NULL, *summary = NULL;
	berth_grant *gs = NULL;
	berth_error *err = NULL;
	json_auto_t *body = NULL;
	char issued[32];
	struct tm tm;
	time_t now = (time_t)req.now;
	char *text;
	size_t n = 0;
	int rc;

	char fp[BERTH_HTPASSWD_FP_LEN + 1];

	/* Bound to the password: a removed user's or an old password's
	 * tokens stop working (srv_token_cred_current). */
	if (user && !r->by_cert && srv_live_of(r)->htpasswd &&
	    berth_htpasswd_fingerprint(srv_live_of(r)->htpasswd, user, fp))
		req.cred = fp;
	grant(r, user, sc, &gs, &n, &summary);
	req.grants = gs;
	req.n = n;
	rc = berth_token_issue(&tok, r->s->keys, &req, &err);
	/* Refresh tokens only for htpasswd users, who can be checked again. */
	if (rc == 0 && offline && user && !r->by_cert) {
		req.refresh = true;
		req.ttl = srv_cfg(r)->refresh_ttl;
		rc = berth_token_issue(&refresh, r->s->keys, &req, &err);
	}
	grants_free(gs, n);
	if (rc < 0)
		return srv_fail_err(r, SRV_E_INTERNAL, &err);
	free(r->audit_detail);
	r->audit_detail = xstrdup(summary[0] ? summary : "no access granted");
	gmtime_r(&now, &tm);
	strftime(issued, sizeof(issued), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:s, s:I, s:s}", "token", tok, "access_token",
			 tok, "expires_in", (json_int_t)srv_cfg(r)->token_ttl,
			 "issued_at", issued);
	if (body == NULL)
		abort();
	if (refresh)
		json_object_set_new(body, "refresh_token",
				    json_string(refresh));
	text = json_dumps(body, JSON_COMPACT);
	if (text == NULL)
		abort();
	return srv_send_body(r, MHD_HTTP_OK, "application/json", text,
			     strlen(text));
}

static int
refuse(srv_req *r, const char *why, const char *msg)
{
	struct MHD_Response *resp;
	_cleanup_free_ char *hdr =
		xasprintf("Basic realm=\"%s\"", srv_cfg(r)->realm);
	unsigned status;

	free(r->audit_detail);
	r->audit_detail = xstrdup(why);
	resp = srv_error_response(SRV_E_UNAUTHORIZED, NULL, msg, &status);
	srv_resp_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr);
	return srv_send(r, status, resp);
}

/* Answers 404 unless this server issues tokens, and checks `service`. */
static int
check_service(srv_req *r, const char *service)
{
	if (!r->s->token_builtin)
		return srv_fail(r, SRV_E_NOT_FOUND, NULL,
				"this registry does not issue tokens");
	if (service && strcmp(service, srv_cfg(r)->token_service) != 0)
		return srv_fail(r, SRV_E_UNSUPPORTED, NULL,
				"unknown service '%.100s' (this is '%s')",
				service, srv_cfg(r)->token_service);
	return 0;
}

static enum MHD_Result
collect_scope(void *cls, enum MHD_ValueKind kind, const char *key,
	      const char *value)
{
	if (strcmp(key, "scope") == 0 && value)
		scopes_add_words(cls, value);
	return MHD_YES;
}

int
h_token_get(srv_req *r)
{
	_cleanup_(scopes_release) scopes sc = {0};
	const char *off = srv_query(r, "offline_token");
	berth_error *err = NULL;
	int rc;

	if (check_service(r, srv_query(r, "service")) < 0)
		return BERTH_EUSAGE;
	if ((rc = srv_authenticate_basic(r, &err)) < 0) {
		berth_error_free(err);
		if (rc == SRV_PENDING)
			return rc; /* run again when the check is done */
		if (r->responded || r->pending)
			return BERTH_EDENIED;
		return refuse(r, "wrong credentials",
			      "unknown user or wrong password");
	}
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_scope,
				  &sc);
	return answer(r, r->user, &sc, off && strcmp(off, "true") == 0);
}

/* ---- POST: an OAuth2 form ---- */

typedef struct form {
	berth_buf f[8];
} form;

static const char *const fields[] = {
	"grant_type", "username",    "password", "refresh_token",
	"scope",      "access_type", "service",	 "client_id",
};

static void
form_release(form *f)
{
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(fields); i++) {
		if (f->f[i].ptr)
			explicit_bzero(f->f[i].ptr, f->f[i].len);
		berth_buf_release(&f->f[i]);
	}
}

static const char *
form_get(form *f, const char *key)
{
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i], key) == 0)
			return f->f[i].len ? berth_buf_cstr(&f->f[i]) : NULL;
	return NULL;
}

static int
form_field(void *cls, const char *key, const char *value, size_t vlen)
{
	form *f = cls;
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i], key) == 0 && vlen > 0)
			berth_buf_put(&f->f[i], value, vlen, NULL);
	return 0;
}

static int
parse_form(srv_req *r, form *f)
{
	size_t i;

	for (i = 0; i < BERTH_ARRAY_SIZE(fields); i++)
		berth_buf_init(&f->f[i], FORM_MAX);
	if (r->body.len > FORM_MAX)
		return srv_fail(r, SRV_E_UNSUPPORTED, NULL,
				"token request too large");
	if (!srv_form_content_type_ok(
		    srv_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return srv_fail(r, SRV_E_UNSUPPORTED, NULL,
				"the token request must be "
				"application/x-www-form-urlencoded");
	srv_form_parse(r->body.len ? berth_buf_cstr(&r->body) : "", r->body.len,
		       form_field, f);
	return 0;
}

/* The user a refresh token was issued to, if it is still good. */
static int
refresh_user(srv_req *r, const char *tok, char **user)
{
	berth_jwt_check chk = {
		.algs = BERTH_JWT_ES256 | BERTH_JWT_RS256,
		.issuer = srv_cfg(r)->token_issuer,
		.audience = srv_cfg(r)->token_service,
		.now = (int64_t)time(NULL),
		.skew = 30,
	};
	json_auto_t *claims = NULL;
	_cleanup_(berth_token_info_release) berth_token_info t = {0};
	berth_error *err = NULL;

	if (berth_jwt_verify(&claims, r->s->keys, tok, &chk, &err) < 0 ||
	    berth_token_info_from_claims(&t, claims, &err) < 0) {
		berth_log(BERTH_LOG_INFO, "refresh token refused: %s",
			  err->msg);
		berth_error_free(err);
		return BERTH_EAUTH;
	}
	/* Without a fingerprint nothing binds it to a password: refused. */
	if (!t.refresh || t.sub[0] == '\0' || t.cred == NULL ||
	    !srv_token_cred_current(r, &t)) {
		berth_log(BERTH_LOG_INFO,
			  "refresh token refused: its user was removed or "
			  "changed password");
		return BERTH_EAUTH;
	}
	*user = xstrdup(t.sub);
	return 0;
}

int
h_token_post(srv_req *r)
{
	_cleanup_(form_release) form f = {0};
	_cleanup_(scopes_release) scopes sc = {0};
	const char *gt, *at;

	if (check_service(r, NULL) < 0 || parse_form(r, &f) < 0)
		return BERTH_EUSAGE;
	if (check_service(r, form_get(&f, "service")) < 0)
		return BERTH_EUSAGE;
	gt = form_get(&f, "grant_type");
	at = form_get(&f, "access_type");
	scopes_add_words(&sc, form_get(&f, "scope"));
	if (gt && strcmp(gt, "password") == 0) {
		const char *u = form_get(&f, "username");
		const char *p = form_get(&f, "password");

		int rc = u ? srv_password_check(r, u, p ? p : "") : BERTH_EAUTH;

		if (rc == SRV_PENDING || rc == BERTH_ETOOMANY)
			return rc; /* suspended, or answered 429 */
		if (rc < 0)
			return refuse(r, "wrong credentials",
				      "unknown user or wrong password");
		free(r->user);
		r->user = xstrdup(u);
	} else if (gt && strcmp(gt, "refresh_token") == 0) {
		const char *rt = form_get(&f, "refresh_token");
		char *user = NULL;

		if (rt == NULL || refresh_user(r, rt, &user) < 0)
			return refuse(r, "invalid refresh token",
				      "the refresh token is not valid");
		free(r->user);
		r->user = user;
	} else {
		return srv_fail(r, SRV_E_UNSUPPORTED, NULL,
				"unsupported grant_type '%.40s'", gt ? gt : "");
	}
	return answer(r, r->user, &sc, at && strcmp(at, "offline") == 0);
}
