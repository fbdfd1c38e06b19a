/*
 * The authorisation state of a registry client and the token flow. See
 * auth.h for the protocol; the pure parsers are in auth_parse.c.
 */
#include "registry/auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "berth/log.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/opts.h"
#include "util/xalloc.h"

#define TOKEN_CACHE_MAX 16
#define TOKEN_MAX_BODY ((size_t)256 << 10)

enum auth_mode {
	AUTH_UNKNOWN = 0, /* the registry has not challenged us yet */
	AUTH_BASIC,
	AUTH_BEARER,
};

struct token_entry {
	char *key;    /* the scope the caller asked for ("" for none) */
	char *want;   /* the scopes the token was requested with */
	char *header; /* "Bearer …" */
	int64_t fetched_ms;
	int64_t expires_ms;
};

struct berth_auth {
	pthread_mutex_t mu;
	char *host; /* for the credentials lookup */
	char *name; /* for messages */
	bool https;
	berth_credentials_fn cred_fn;
	void *cred_ud;
	bool creds_loaded;
	berth_credentials creds;
	enum auth_mode mode;
	char *realm;
	char *service;
	struct token_entry tokens[TOKEN_CACHE_MAX];
	size_t n_tokens;
	bool offline;	     /* login: ask for a refresh token */
	char *refresh_token; /* the one received */
};

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
berth_credentials_release(berth_credentials *c)
{
	if (c == NULL)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	BERTH_VERSIONED_RESET(c);
}

berth_auth *
berth_auth_new(const char *host, const char *name, bool registry_https,
	       berth_credentials_fn fn, void *ud)
{
	berth_auth *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->mu, NULL);
	a->host = xstrdup(host);
	a->name = xstrdup(name);
	a->https = registry_https;
	a->cred_fn = fn;
	a->cred_ud = ud;
	return a;
}

void
berth_auth_set_offline(berth_auth *a, bool on)
{
	pthread_mutex_lock(&a->mu);
	a->offline = on;
	pthread_mutex_unlock(&a->mu);
}

char *
berth_auth_take_refresh_token(berth_auth *a)
{
	char *t;

	pthread_mutex_lock(&a->mu);
	t = a->refresh_token;
	a->refresh_token = NULL;
	pthread_mutex_unlock(&a->mu);
	return t;
}

void
berth_auth_set_https(berth_auth *a, bool registry_https)
{
	pthread_mutex_lock(&a->mu);
	a->https = registry_https;
	pthread_mutex_unlock(&a->mu);
}

static void
entry_release(struct token_entry *e)
{
	free(e->key);
	free(e->want);
	wipe_free(e->header);
	memset(e, 0, sizeof(*e));
}

static void
tokens_flush(berth_auth *a)
{
	for (size_t i = 0; i < a->n_tokens; i++)
		entry_release(&a->tokens[i]);
	a->n_tokens = 0;
}

void
berth_auth_free(berth_auth *a)
{
	if (a == NULL)
		return;
	tokens_flush(a);
	berth_credentials_release(&a->creds);
	wipe_free(a->refresh_token);
	free(a->realm);
	free(a->service);
	free(a->host);
	free(a->name);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/*
 * Asks for the user's credentials once; anonymous when there is no source.
 * Called locked; the lock is released while a credential helper runs, so
 * a slow helper stalls no other transfer (two threads may both ask: the
 * first answer is kept).
 */
static int
load_creds(berth_auth *a, berth_error **err)
{
	berth_credentials c = BERTH_CREDENTIALS_INIT;
	int r;

	if (a->creds_loaded)
		return 0;
	if (a->cred_fn) {
		pthread_mutex_unlock(&a->mu);
		r = a->cred_fn(a->cred_ud, a->host, &c, err);
		pthread_mutex_lock(&a->mu);
		if (r < 0) {
			berth_credentials_release(&c);
			return r;
		}
		if (a->creds_loaded) {
			berth_credentials_release(&c);
			return 0;
		}
		a->creds = c;
	}
	a->creds_loaded = true;
	return 0;
}

static bool
have_password(const berth_auth *a)
{
	return a->creds.username && *a->creds.username && a->creds.password;
}

static struct token_entry *
token_find(berth_auth *a, const char *key)
{
	for (size_t i = 0; i < a->n_tokens; i++)
		if (strcmp(a->tokens[i].key, key) == 0)
			return &a->tokens[i];
	return NULL;
}

/* True when the scopes `want` include every action of `scope`. */
static bool
scope_covers(const char *want, const char *scope)
{
	_cleanup_free_ char *both = berth_auth_scope_merge(want, scope);
	_cleanup_free_ char *alone = berth_auth_scope_merge(want, NULL);

	return strcmp(both, alone) == 0;
}

/*
 * A live token whose scopes cover `key`: a push's "pull,push" token also
 * serves the HEAD requests that need only "pull".
 */
static struct token_entry *
token_covering(berth_auth *a, const char *key)
{
	int64_t now = berth_monotonic_ms();

	for (size_t i = 0; i < a->n_tokens; i++)
		if (a->tokens[i].expires_ms > now && *key &&
		    scope_covers(a->tokens[i].want, key))
			return &a->tokens[i];
	return NULL;
}

static void
token_drop(berth_auth *a, struct token_entry *e)
{
	size_t i = (size_t)(e - a->tokens);

	entry_release(e);
	memmove(&a->tokens[i], &a->tokens[i + 1],
		(a->n_tokens - i - 1) * sizeof(*e));
	a->n_tokens--;
	memset(&a->tokens[a->n_tokens], 0, sizeof(*e));
}

static void
token_store(berth_auth *a, const char *key, const char *want,
	    const berth_auth_token *t)
{
	struct token_entry *e = token_find(a, key);
	int64_t now = berth_monotonic_ms(),
		life = (int64_t)t->expires_in * 1000;

	if (e)
		token_drop(a, e);
	if (a->n_tokens == TOKEN_CACHE_MAX) {
		/* Evict the one expiring first. */
		size_t oldest = 0;

		for (size_t i = 1; i < a->n_tokens; i++)
			if (a->tokens[i].expires_ms <
			    a->tokens[oldest].expires_ms)
				oldest = i;
		token_drop(a, &a->tokens[oldest]);
	}
	e = &a->tokens[a->n_tokens++];
	e->key = xstrdup(key);
	e->want = xstrdup(want);
	e->header = xasprintf("Bearer %s", t->token);
	e->fetched_ms = now;
	/* Renew a little early, so a token never expires in flight. */
	e->expires_ms = now + (life > 20000 ? life - 10000 : life * 3 / 4);
}

/* The host:port a URL points at, for messages. */
static char *
url_peer(const char *url)
{
	char *hp = berth_http_url_hostport(url);

	return hp ? hp : xstrdup(url);
}

static int
token_status_error(berth_auth *a, const berth_http_resp *resp,
		   const char *realm_hp, bool with_creds, berth_error **err)
{
	_cleanup_free_ char *code = berth_http_oci_error_code(resp);
	const char *reason = berth_http_reason(resp->status);
	int r;

	if (resp->status == 401 || resp->status == 403) {
		if (with_creds) {
			r = berth_error_set(
				err, BERTH_EAUTH, 0,
				"the token server '%s' rejected your "
				"credentials for registry '%s'",
				realm_hp, a->name);
			berth_error_hint(err, "run 'berth login %s' again",
					 a->name);
			return r;
		}
		r = berth_error_set(err, BERTH_EAUTH, 0,
				    "not logged in to registry '%s' (its token "
				    "server '%s' refuses anonymous access)",
				    a->name, realm_hp);
		berth_error_hint(err, "run 'berth login %s'", a->name);
		return r;
	}
	if (resp->status == 429) {
		r = berth_error_set(err, BERTH_ETOOMANY, 0,
				    "the token server '%s' of registry '%s' is "
				    "rate-limiting requests (429 Too Many "
				    "Requests)",
				    realm_hp, a->name);
		berth_error_hint(err, "wait and try again");
		return r;
	}
	if (resp->status >= 500 && resp->status < 600) {
		r = berth_error_set(err, BERTH_ESERVER, 0,
				    "the token server '%s' of registry '%s' "
				    "failed with %ld %s",
				    realm_hp, a->name, resp->status, reason);
		berth_error_hint(err, "try again later");
		return r;
	}
	return berth_error_set(
		err, BERTH_EPROTO, 0,
		"the token server '%s' of registry '%s' answered "
		"%ld %s%s%s",
		realm_hp, a->name, resp->status, reason, code ? ": " : "",
		code ? code : "");
}

/*
 * Asks the token server for a token covering `want` (space-separated
 * scopes, possibly empty) and caches it under `key`. Called locked; the
 * lock is released during the request, so one slow token server stalls
 * no other transfer to the registry. Two threads wanting the same scope
 * may both fetch it; the later token replaces the earlier.
 */
static int
fetch_token(berth_auth *a, berth_http *h, const char *key, const char *want,
	    berth_error **err)
{
	_cleanup_free_ char *url = xstrdup(a->realm), *realm_hp = NULL;
	_cleanup_free_ char *realm = xstrdup(a->realm);
	_cleanup_free_ char *basic = NULL, *form = NULL, *scopes = NULL;
	berth_http_req req = BERTH_HTTP_REQ_INIT;
	berth_http_resp resp;
	berth_auth_token tok;
	bool realm_plain = strncmp(a->realm, "http://", 7) == 0;
	bool refresh = a->creds.identity_token && *a->creds.identity_token;
	bool with_creds = refresh || have_password(a);
	bool offline = a->offline;
	int r;

	realm_hp = url_peer(a->realm);
	if (with_creds && realm_plain && a->https &&
	    !berth_host_is_loopback(realm_hp)) {
		r = berth_error_set(err, BERTH_EAUTH, 0,
				    "registry '%s' wants your credentials sent "
				    "to '%s' over plain HTTP; berth refuses",
				    a->name, realm_hp);
		berth_error_hint(err, "the registry's token realm must be an "
				      "https URL; tell its administrator");
		return r;
	}
	if (refresh) {
		/* docker's identity token: the OAuth2 refresh-token grant. */
		char *e;
		berth_buf f = BERTH_BUF_INIT;

		berth_buf_puts(&f, "grant_type=refresh_token&client_id=berth",
			       NULL);
		e = curl_easy_escape(NULL, a->creds.identity_token, 0);
		berth_buf_printf(&f, NULL, "&refresh_token=%s", e);
		curl_free(e);
		if (a->service) {
			e = curl_easy_escape(NULL, a->service, 0);
			berth_buf_printf(&f, NULL, "&service=%s", e);
			curl_free(e);
		}
		if (want && *want) {
			e = curl_easy_escape(NULL, want, 0);
			berth_buf_printf(&f, NULL, "&scope=%s", e);
			curl_free(e);
		}
		form = berth_buf_detach(&f);
		req.method = "POST";
		req.body = form;
		req.body_len = strlen(form);
		req.content_type = "application/x-www-form-urlencoded";
	} else {
		if (a->service) {
			char *u = berth_http_url_add_query(url, "service",
							   a->service);

			free(url);
			url = u;
		}
		scopes = xstrdup(want ? want : "");
		for (char *save = NULL, *s = strtok_r(scopes, " ", &save);
		     s && url; s = strtok_r(NULL, " ", &save)) {
			char *u = berth_http_url_add_query(url, "scope", s);

			free(url);
			url = u;
		}
		if (url == NULL)
			return berth_error_set(err, BERTH_EPROTO, 0,
					       "registry '%s' names an invalid "
					       "token realm",
					       a->name);
		if (have_password(a))
			basic = berth_auth_basic(a->creds.username,
						 a->creds.password);
		if (a->offline && basic && url) {
			char *u = berth_http_url_add_query(url, "offline_token",
							   "true");

			free(url);
			url = u ? berth_http_url_add_query(u, "client_id",
							   "berth")
				: NULL;
			free(u);
			if (url == NULL)
				return berth_error_set(
					err, BERTH_EPROTO, 0,
					"registry '%s' names an invalid "
					"token realm",
					a->name);
		}
		req.authorization = basic;
	}
	req.url = url;
	req.peer = "token server";
	req.accept = "application/json";
	req.follow = !refresh;
	req.max_body = TOKEN_MAX_BODY;

	berth_http_resp_init(&resp);
	/* Everything the request needs is copied: the state may change. */
	pthread_mutex_unlock(&a->mu);
	r = berth_http_do(h, &req, &resp, err);
	pthread_mutex_lock(&a->mu);
	if (form)
		explicit_bzero(form, strlen(form));
	if (basic)
		explicit_bzero(basic, strlen(basic));
	if (r < 0) {
		berth_http_resp_release(&resp);
		if (r == BERTH_ETOOBIG)
			return berth_error_set(
				err, BERTH_EPROTO, 0,
				"the token server '%s' of registry "
				"'%s' sent an oversized answer",
				realm_hp, a->name);
		return r;
	}
	if (resp.status != 200) {
		r = token_status_error(a, &resp, realm_hp, with_creds, err);
		berth_http_resp_release(&resp);
		return r;
	}
	r = berth_auth_token_parse(&tok, berth_buf_cstr(&resp.body),
				   resp.body.len, err);
	berth_http_resp_release(&resp);
	if (r < 0)
		return berth_error_wrap(err, r, "registry '%s'", a->name);
	berth_log(BERTH_LOG_DEBUG, "token for '%s' scope '%s': %ld s", a->name,
		  want ? want : "", tok.expires_in);
	if (offline && tok.refresh_token && *tok.refresh_token) {
		wipe_free(a->refresh_token);
		a->refresh_token = xstrdup(tok.refresh_token);
	}
	/* A token of a realm the registry has since left is not kept. */
	if (a->realm && strcmp(a->realm, realm) == 0)
		token_store(a, key, want ? want : "", &tok);
	berth_auth_token_release(&tok);
	return 0;
}

int
berth_auth_header(berth_auth *a, berth_http *h, const char *scope, char **out,
		  berth_error **err)
{
	const char *key = scope ? scope : "";
	struct token_entry *e;
	int r = 0;

	*out = NULL;
	pthread_mutex_lock(&a->mu);
	switch (a->mode) {
	case AUTH_UNKNOWN:
		break;
	case AUTH_BASIC:
		if (have_password(a))
			*out = berth_auth_basic(a->creds.username,
						a->creds.password);
		break;
	case AUTH_BEARER:
		e = token_find(a, key);
		if (e && e->expires_ms <= berth_monotonic_ms()) {
			token_drop(a, e);
			e = NULL;
		}
		if (e == NULL)
			e = token_covering(a, key);
		if (e == NULL) {
			/* We know the realm: ask before the registry does. */
			r = fetch_token(a, h, key, key, err);
			e = r < 0 ? NULL : token_find(a, key);
		}
		if (e)
			*out = xstrdup(e->header);
		break;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

static bool
is_http_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int
on_bearer(berth_auth *a, berth_http *h, const berth_auth_challenge *c,
	  const char *scope, const char *sent, berth_error **err)
{
	const char *realm = berth_auth_challenge_param(c, "realm");
	const char *service = berth_auth_challenge_param(c, "service");
	const char *cscope = berth_auth_challenge_param(c, "scope");
	const char *key = scope ? scope : "";
	_cleanup_free_ char *want = NULL;
	struct token_entry *e;
	int r;

	if (realm == NULL || !is_http_url(realm))
		return berth_error_set(err, BERTH_EPROTO, 0,
				       "registry '%s' asks for a bearer token "
				       "without a valid realm URL",
				       a->name);
	if (a->realm == NULL || strcmp(a->realm, realm) != 0 ||
	    (a->service == NULL) != (service == NULL) ||
	    (service && strcmp(a->service, service) != 0)) {
		tokens_flush(a);
		free(a->realm);
		free(a->service);
		a->realm = xstrdup(realm);
		a->service = service ? xstrdup(service) : NULL;
	}
	a->mode = AUTH_BEARER;
	/* The challenge names the scope the request needs; ask for it too. */
	want = berth_auth_scope_merge(scope, cscope);
	e = token_find(a, key);
	if (e) {
		bool same = strcmp(e->want, want) == 0;

		if (sent && strcmp(sent, e->header) == 0) {
			/*
			 * A token just fetched for exactly these scopes was
			 * refused: this account lacks the permission, and a
			 * new token would be refused too.
			 */
			if (same &&
			    berth_monotonic_ms() - e->fetched_ms < 30000)
				return 1;
			token_drop(a, e);
		} else if (same && e->expires_ms > berth_monotonic_ms()) {
			/* Another thread fetched a token meanwhile. */
			return 0;
		}
	}
	if ((r = load_creds(a, err)) < 0)
		return r;
	r = fetch_token(a, h, key, want, err);
	return r < 0 ? r : 0;
}

int
berth_auth_challenged(berth_auth *a, berth_http *h, const berth_http_resp *resp,
		      const char *scope, const char *sent, berth_error **err)
{
	const char *hdr = resp->hdr[BERTH_H_WWW_AUTHENTICATE];
	berth_auth_challenges cs = {NULL, 0};
	const berth_auth_challenge *c;
	int r;

	if (hdr == NULL)
		return 1;
	if ((r = berth_auth_parse_challenges(&cs, hdr, strlen(hdr), err)) < 0)
		return berth_error_wrap(err, r, "registry '%s'", a->name);
	pthread_mutex_lock(&a->mu);
	if ((c = berth_auth_challenges_find(&cs, "Bearer")) != NULL) {
		r = on_bearer(a, h, c, scope, sent, err);
	} else if (berth_auth_challenges_find(&cs, "Basic") != NULL) {
		a->mode = AUTH_BASIC;
		r = load_creds(a, err);
		if (r == 0) {
			/* Without credentials, or with rejected ones, stop. */
			if (!have_password(a) ||
			    (sent && strncasecmp(sent, "Basic ", 6) == 0))
				r = 1;
		}
	} else {
		_cleanup_free_ char *scheme = NULL;

		scheme = xstrndup(cs.v[0].scheme, 40);
		r = berth_error_set(
			err, BERTH_EAUTH, 0,
			"registry '%s' asks for '%s' authentication, "
			"which berth does not support",
			a->name, scheme);
		berth_error_hint(err, "berth supports Basic and Bearer "
				      "(token) authentication");
	}
	pthread_mutex_unlock(&a->mu);
	berth_auth_challenges_release(&cs);
	return r;
}
