/*
 * The single point where access is decided. Every request passes here
 * before its handler runs (http.c), and handlers that touch a second
 * repository (a cross-repository mount) ask again.
 *
 * Today: a client certificate when --tls-client-ca is set, then htpasswd
 * Basic authentication when --htpasswd is set; an authenticated user may
 * do everything. Token authentication and per-repository permissions slot
 * in here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

/*
 * libmicrohttpd requests a client certificate but leaves verifying it,
 * against the --tls-client-ca it was given, to the application.
 */
static bool
client_cert_ok(srv_req *r)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 0;

	ci = MHD_get_connection_info(r->conn,
				     MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return false;
	/* No certificate sent is GNUTLS_E_NO_CERTIFICATE_FOUND: refused too. */
	if (gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session,
					     &status) < 0)
		return false;
	return status == 0;
}

static int
challenge(srv_req *r, const char *msg)
{
	struct MHD_Response *resp;
	_cleanup_free_ char *hdr =
		xasprintf("Basic realm=\"%s\"", r->s->cfg.realm);
	unsigned status;

	resp = srv_error_response(SRV_E_UNAUTHORIZED, NULL, msg, &status);
	srv_resp_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, hdr);
	srv_send(r, status, resp);
	return BERTH_EAUTH;
}

/* Establishes r->user; 0, or answers and returns BERTH_EAUTH/EDENIED. */
static int
authenticate(srv_req *r)
{
	berth_error *err = NULL;
	char *pass = NULL;
	char *user;
	int rc;

	if (r->s->tls_ca_pem && !client_cert_ok(r)) {
		srv_fail(r, SRV_E_DENIED, NULL,
			 "a client certificate signed by the registry's CA is "
			 "required");
		return BERTH_EDENIED;
	}
	if (r->s->htpasswd == NULL || r->user != NULL)
		return 0;
	user = MHD_basic_auth_get_username_password(r->conn, &pass);
	if (user == NULL) {
		if (pass)
			MHD_free(pass);
		return challenge(r, "authentication required");
	}
	rc = berth_htpasswd_check(r->s->htpasswd, user, pass ? pass : "", &err);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (rc < 0) {
		berth_log(BERTH_LOG_INFO, "authentication failed for user '%s'",
			  user);
		MHD_free(user);
		berth_error_free(err);
		return challenge(r, "unknown user or wrong password");
	}
	r->user = xstrdup(user);
	MHD_free(user);
	return 0;
}

int
srv_authorize(srv_req *r, const char *repo, unsigned need)
{
	int rc = authenticate(r);

	if (rc < 0)
		return rc;
	/* Every authenticated user may do everything, for now. */
	(void)repo;
	(void)need;
	return 0;
}

bool
srv_can_read(srv_req *r, const char *repo)
{
	/* Mirrors srv_authorize without answering: authenticated is enough. */
	(void)repo;
	return r->s->htpasswd == NULL || r->user != NULL;
}
