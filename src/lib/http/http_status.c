/*
 * HTTP statuses a registry answers with, turned into berth errors: one
 * message naming the registry and repository, the registry's own words
 * from an OCI `errors` body when they help, and a hint.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/str.h"
#include "util/xalloc.h"

const char *
berth_http_reason(long status)
{
	static const struct {
		long code;
		const char *text;
	} reasons[] = {
		{200, "OK"},
		{201, "Created"},
		{202, "Accepted"},
		{204, "No Content"},
		{206, "Partial Content"},
		{301, "Moved Permanently"},
		{302, "Found"},
		{303, "See Other"},
		{304, "Not Modified"},
		{307, "Temporary Redirect"},
		{308, "Permanent Redirect"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{406, "Not Acceptable"},
		{408, "Request Timeout"},
		{409, "Conflict"},
		{410, "Gone"},
		{411, "Length Required"},
		{412, "Precondition Failed"},
		{413, "Content Too Large"},
		{414, "URI Too Long"},
		{415, "Unsupported Media Type"},
		{416, "Range Not Satisfiable"},
		{429, "Too Many Requests"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
		{505, "HTTP Version Not Supported"},
		{507, "Insufficient Storage"},
	};

	for (size_t i = 0; i < BERTH_ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "";
}

/* "404 Not Found", or "599" for a status without a known reason. */
static char *
status_text(long status)
{
	const char *r = berth_http_reason(status);

	return *r ? xasprintf("%ld %s", status, r) : xasprintf("%ld", status);
}

/* A registry's message made printable, one line, bounded. */
static char *
clean_text(const char *s, size_t max)
{
	char *out = berth_str_quote(s, strlen(s), max);
	size_t n = strlen(out);

	/* "...": cut short; else drop the trailing blanks and full stop. */
	if (n < 3 || strcmp(out + n - 3, "...") != 0)
		while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.'))
			out[--n] = '\0';
	return out;
}

/* The first entry of an OCI errors body: its code, message and, when
 * detail is not NULL, a detail that is a string (distribution's detail
 * may be any JSON; berth serve's says what to do). */
static void
oci_error(const berth_http_resp *resp, char **code, char **message,
	  char **detail)
{
	json_auto_t *root = NULL;
	json_t *errs, *e, *v;

	*code = *message = NULL;
	if (detail)
		*detail = NULL;
	if (resp->body.len == 0)
		return;
	root = json_loadb(resp->body.ptr, resp->body.len, 0, NULL);
	if (root == NULL)
		return;
	errs = json_object_get(root, "errors");
	e = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
	if (!json_is_object(e))
		return;
	v = json_object_get(e, "code");
	if (json_is_string(v) && json_string_length(v) > 0)
		*code = clean_text(json_string_value(v), 64);
	v = json_object_get(e, "message");
	if (json_is_string(v) && json_string_length(v) > 0)
		*message = clean_text(json_string_value(v), 200);
	v = json_object_get(e, "detail");
	if (detail && json_is_string(v) && json_string_length(v) > 0)
		*detail = clean_text(json_string_value(v), 600);
}

char *
berth_http_oci_error_code(const berth_http_resp *resp)
{
	char *code, *message;

	oci_error(resp, &code, &message, NULL);
	free(message);
	return code;
}

/*
 * What the registry said, for the end of a message: ": CODE: message",
 * ": message", or a short text/plain body; "" when nothing useful.
 */
static char *
registry_says(const berth_http_resp *resp, const char *code,
	      const char *message)
{
	const char *ct = resp->hdr[BERTH_H_CONTENT_TYPE];

	if (code && message)
		return xasprintf(": %s: %s", code, message);
	if (message)
		return xasprintf(": %s", message);
	if (code)
		return xasprintf(": %s", code);
	if (resp->body.len > 0 && resp->body.len <= 200 && ct &&
	    strncmp(ct, "text/plain", 10) == 0) {
		_cleanup_free_ char *t = clean_text(resp->body.ptr, 200);

		if (*t)
			return xasprintf(": %s", t);
	}
	return xstrdup("");
}

/* ", limit 100 per 21600 s, 0 remaining, retry after 60 s" or "". */
static char *
rate_limit_text(const berth_http_resp *resp)
{
	const char *lim = resp->hdr[BERTH_H_RATELIMIT_LIMIT];
	const char *rem = resp->hdr[BERTH_H_RATELIMIT_REMAINING];
	const char *ra = resp->hdr[BERTH_H_RETRY_AFTER];
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	long n, w, s;

	if (lim) {
		if (berth_http_ratelimit_parse(&n, &w, lim) && w >= 0)
			a = xasprintf(", limit %ld per %ld s", n, w);
		else {
			_cleanup_free_ char *t = clean_text(lim, 40);

			a = xasprintf(", limit %s", t);
		}
	}
	if (rem && berth_http_ratelimit_parse(&n, &w, rem))
		b = xasprintf(", %ld remaining", n);
	if ((s = berth_http_retry_after(ra, time(NULL))) >= 0)
		c = xasprintf(", retry after %ld s", s);
	return xasprintf("%s%s%s", a ? a : "", b ? b : "", c ? c : "");
}

static bool
is_code(const char *code, const char *want)
{
	return code && strcmp(code, want) == 0;
}

int
berth_http_status_error(berth_error **err, const berth_http_resp *resp,
			const berth_http_ctx *ctx)
{
	_cleanup_free_ char *code = NULL, *message = NULL, *says = NULL;
	_cleanup_free_ char *detail = NULL;
	_cleanup_free_ char *where = NULL, *st = status_text(resp->status);
	_cleanup_free_ char *rl = NULL;
	const char *host = ctx->host;
	const char *action = ctx->action ? ctx->action : "pull";
	const char *subject = ctx->subject;
	long s = resp->status;
	int r;

	oci_error(resp, &code, &message, &detail);
	says = registry_says(resp, code, message);
	where = ctx->repo ? xasprintf("%s/%s", host, ctx->repo) : xstrdup(host);

	if (s == 401) {
		if (ctx->repo)
			r = berth_error_set(
				err, BERTH_EAUTH, 0,
				"not logged in, or your account lacks "
				"%s permission on '%s'",
				action, where);
		else
			r = berth_error_set(err, BERTH_EAUTH, 0,
					    "not logged in to registry '%s'",
					    host);
		berth_error_hint(err,
				 "run 'berth login %s', or ask the "
				 "registry's administrator for access",
				 host);
		return r;
	}
	if (s == 403 && strstr(says, "client certificate")) {
		/* A registry that checks client certificates in HTTP. */
		r = berth_error_set(err, BERTH_EDENIED, 0,
				    "registry '%s' requires a client "
				    "certificate%s",
				    host, says);
		berth_error_hint(err,
				 "put a client certificate and its key in "
				 "%s/%s/client.cert and client.key",
				 ctx->certs_d ? ctx->certs_d
					      : BERTH_HTTP_CERTS_D_DEFAULT,
				 host);
		return r;
	}
	if (s == 403 && detail) {
		/* A registry that says what to do knows why, too (berth
		 * serve's require-signatures). */
		r = berth_error_set(err, BERTH_EDENIED, 0,
				    "access denied: registry '%s' refuses to "
				    "%s '%s'%s",
				    host, action, where, says);
		berth_error_hint(err, "%s", detail);
		return r;
	}
	if (s == 403) {
		r = berth_error_set(err, BERTH_EDENIED, 0,
				    "access denied: your account lacks %s "
				    "permission on '%s'%s",
				    action, where, says);
		berth_error_hint(err,
				 "ask the registry's administrator for %s "
				 "access, or run 'berth login %s' with another "
				 "account",
				 action, host);
		return r;
	}
	if (s == 404) {
		if (is_code(code, "NAME_UNKNOWN") && ctx->repo) {
			r = berth_error_set(err, BERTH_ENOTFOUND, 0,
					    "repository '%s' not found", where);
			berth_error_hint(err,
					 "check the repository's name; if it "
					 "is private, run 'berth login %s'",
					 host);
			return r;
		}
		if (subject) {
			r = berth_error_set(err, BERTH_ENOTFOUND, 0,
					    "%s not found in '%s'", subject,
					    where);
			if (strncmp(subject, "manifest", 8) == 0)
				berth_error_hint(err,
						 "'berth ls %s' lists the "
						 "repository's tags",
						 where);
			return r;
		}
		return berth_error_set(err, BERTH_ENOTFOUND, 0,
				       "'%s' not found on registry '%s'%s",
				       where, host, says);
	}
	if (s == 429) {
		rl = rate_limit_text(resp);
		r = berth_error_set(err, BERTH_ETOOMANY, 0,
				    "registry '%s' is rate-limiting requests "
				    "(429 Too Many Requests%s)",
				    host, rl);
		berth_error_hint(err,
				 "wait and try again; logging in "
				 "('berth login %s') may raise the limit, or "
				 "configure a registry mirror",
				 host);
		return r;
	}
	if (s == 507) {
		/* Insufficient Storage: retrying soon is no remedy. */
		r = berth_error_set(err, BERTH_ESERVER, 0,
				    "registry '%s' cannot store more data "
				    "(507 Insufficient Storage)%s",
				    host, says);
		berth_error_hint(err,
				 "the registry's disk is full (or read-only); "
				 "ask its administrator to free space, then "
				 "push again");
		return r;
	}
	if (s >= 500 && s < 600) {
		r = berth_error_set(err, BERTH_ESERVER, 0,
				    "registry '%s' failed with %s%s", host, st,
				    says);
		berth_error_hint(
			err, "this is a problem of the registry; try "
			     "again later, and tell its administrator if it "
			     "persists");
		return r;
	}
	if (s >= 300 && s < 400) {
		if (resp->hdr[BERTH_H_LOCATION] == NULL)
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"registry '%s' answered %s without "
				"a Location header",
				host, st);
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' answered %s where no "
				       "redirect was expected",
				       host, st);
	}
	if (s == 400 && resp->body.ptr &&
	    strstr(resp->body.ptr, "HTTP request to an HTTPS server")) {
		r = berth_error_set(err, BERTH_ETLS, 0,
				    "registry '%s' speaks HTTPS, but was "
				    "addressed in plain HTTP",
				    host);
		berth_error_hint(err, "do not force plain HTTP for '%s'", host);
		return r;
	}
	if (is_code(code, "DIGEST_INVALID") || is_code(code, "SIZE_INVALID"))
		return berth_error_set(err, BERTH_EDIGEST, 0,
				       "registry '%s' rejected %s for '%s'%s",
				       host, subject ? subject : "the content",
				       where, says);
	if (s == 405 || is_code(code, "UNSUPPORTED"))
		return berth_error_set(err, BERTH_EUNSUPPORTED, 0,
				       "registry '%s' does not support this "
				       "request for %s in '%s' (%s%s)",
				       host, subject ? subject : "the content",
				       where, st, says);
	if (s == 413)
		return berth_error_set(
			err, BERTH_ETOOBIG, 0,
			"registry '%s' refused %s for '%s' as too "
			"large (%s%s)",
			host, subject ? subject : "the content", where, st,
			says);
	if (s >= 400)
		return berth_error_set(
			err, BERTH_EPROTO, 0,
			"registry '%s' refused the request for %s "
			"in '%s' with %s%s",
			host, subject ? subject : "the content", where, st,
			says);
	if (s == 0)
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' sent no HTTP response",
				       host);
	return berth_error_set(
		err, BERTH_EPROTO, 0,
		"registry '%s' answered %s to the request for %s "
		"in '%s', which berth did not expect",
		host, st, subject ? subject : "the content", where);
}
