/*
 * berth serve's access-control settings turned into the running pieces:
 * the authentication mode, the policy, the token keys, pull limits, the
 * request-rate guard, failed-login counters and the audit log; and the
 * refusal to take passwords or tokens over plain HTTP from the network.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "berth/log.h"
#include "server/server.h"
#include "util/cidr.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static bool
loopback(const char *addr)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(addr, ':');
	unsigned char a[16];

	if (colon == NULL)
		return false;
	host = xstrndup(addr, (size_t)(colon - addr));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	return false; /* "" is every interface */
}

static int
parse_mode(srv *s, berth_error **err)
{
	const char *m = s->cfg.auth;

	if (m == NULL)
		s->auth = s->cfg.htpasswd ? SRV_AUTH_HTPASSWD : SRV_AUTH_NONE;
	else if (strcmp(m, "none") == 0)
		s->auth = SRV_AUTH_NONE;
	else if (strcmp(m, "htpasswd") == 0)
		s->auth = SRV_AUTH_HTPASSWD;
	else
		s->auth = SRV_AUTH_TOKEN;
	if (s->auth == SRV_AUTH_HTPASSWD && s->cfg.htpasswd == NULL) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"--auth htpasswd needs --htpasswd");
		berth_error_hint(err, "create one with 'htpasswd -B -c "
				      "FILE USER'");
		return BERTH_EUSAGE;
	}
	if (s->auth == SRV_AUTH_NONE && s->cfg.htpasswd && m)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "--htpasswd is unused with --auth none");
	return 0;
}

/* The policy of the settings c: a file, an object, or the default. */
static int
load_policy(berth_policy **out, bool *given, const berth_serve_config *c,
	    berth_error **err)
{
	json_auto_t *j = NULL;
	int r;

	*given = c->policy || c->policy_json;
	if (c->policy && c->policy_json)
		return berth_error_set(err, BERTH_EUSAGE, 0,
				       "a policy file and a policy object "
				       "in the config: give one");
	if (c->policy) {
		if ((r = berth_policy_load(out, c->policy, err)) < 0)
			return r;
	} else if (c->policy_json) {
		j = json_loads(c->policy_json, 0, NULL);
		if ((r = berth_policy_from_json(out, j, "config", err)) < 0)
			return r;
	} else {
		*out = berth_policy_default();
	}
	return 0;
}

/*
 * The users (from s->cfg's htpasswd file, whose path stays), the policy
 * and the settings c, as a new snapshot.
 */
static int
build_live(srv_live **out, srv *s, const berth_serve_config *c, bool *given,
	   berth_error **err)
{
	srv_tuning *t;
	berth_htpasswd *h = NULL;
	berth_policy *p = NULL;
	struct stat st = {0};
	int r;

	if (s->cfg.htpasswd) {
		if (stat(s->cfg.htpasswd, &st) < 0)
			memset(&st, 0, sizeof(st));
		if ((r = berth_htpasswd_load(&h, s->cfg.htpasswd, err)) < 0)
			return r;
	}
	if ((r = load_policy(&p, given, c, err)) < 0) {
		berth_htpasswd_free(h);
		return r;
	}
	s->htpasswd_st = st;
	t = srv_tuning_new(c);
	*out = srv_live_new(h, p, *given, t);
	srv_tuning_put(t);
	return 0;
}

int
srv_access_reload(srv *s, const berth_serve_config *c, srv_live **out,
		  berth_error **err)
{
	bool given = false;
	int r;

	if ((r = build_live(out, s, c, &given, err)) < 0)
		return r;
	/* A policy alone can be what turns access control on. */
	if (given != s->policy_given && s->auth == SRV_AUTH_NONE &&
	    s->tls_ca_pem == NULL) {
		srv_live_put(*out);
		*out = NULL;
		/* The users it read were not applied: the watcher will. */
		memset(&s->htpasswd_st, 0, sizeof(s->htpasswd_st));
		berth_error_set(err, BERTH_EUSAGE, 0,
				"%s a policy turns access control %s, which "
				"takes a restart",
				given ? "adding" : "removing",
				given ? "on" : "off");
		berth_error_hint(err, "restart berth serve to apply it");
		return BERTH_EUSAGE;
	}
	return 0;
}

static int
load_keys(srv *s, berth_error **err)
{
	_cleanup_free_ char *dir = NULL;

	s->keys = berth_jwt_keys_new();
	if (s->cfg.token_issuer_keys) {
		if (s->cfg.token_realm == NULL)
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "--token-issuer-keys needs "
					       "--token-realm (the external "
					       "token service's URL)");
		return berth_jwt_keys_add_pem(s->keys, s->cfg.token_issuer_keys,
					      false, err);
	}
	s->token_builtin = true;
	if (s->cfg.token_key)
		return berth_jwt_keys_add_pem(s->keys, s->cfg.token_key, true,
					      err);
	dir = xasprintf("%s/token-keys", s->cfg.storage);
	return berth_jwt_keys_load_dir(s->keys, dir, err);
}

/* "anonymous=100/6h,user=200/6h" */
static int
parse_pull_limits(srv *s, berth_error **err)
{
	_cleanup_free_ char *spec = NULL;
	char *tok, *save = NULL;
	int r;

	s->limit_anon.count = s->limit_user.count = -1;
	s->limit_anon.window = s->limit_user.window = 1;
	if (s->cfg.pull_limit == NULL)
		return 0;
	spec = xstrdup(s->cfg.pull_limit);
	for (tok = strtok_r(spec, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		berth_limit *dst;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		if (strcmp(tok, "anonymous") == 0)
			dst = &s->limit_anon;
		else if (strcmp(tok, "user") == 0 ||
			 strcmp(tok, "authenticated") == 0)
			dst = &s->limit_user;
		else
			goto bad;
		if ((r = berth_limit_parse(dst, eq + 1, err)) < 0)
			return berth_error_wrap(err, r, "--pull-limit");
	}
	return 0;
bad:
	berth_error_set(err, BERTH_EUSAGE, 0, "invalid --pull-limit '%s'",
			s->cfg.pull_limit);
	berth_error_hint(err, "write CLASS=COUNT/WINDOW,… with the "
			      "classes anonymous and user, e.g. "
			      "anonymous=100/6h,user=200/6h");
	return BERTH_EUSAGE;
}

static int
parse_user_limits(srv *s, berth_error **err)
{
	json_auto_t *j = NULL;
	const char *user;
	json_t *v;
	int r;

	if (s->cfg.pull_limit_users == NULL)
		return 0;
	j = json_loads(s->cfg.pull_limit_users, 0, NULL);
	json_object_foreach(j, user, v)
	{
		srv_user_limit *u;

		if (!json_is_string(v))
			return berth_error_set(err, BERTH_EUSAGE, 0,
					       "pull-limit-users: the limit of "
					       "'%s' must be a string",
					       user);
		s->user_limits =
			xreallocarray(s->user_limits, s->n_user_limits + 1,
				      sizeof(*s->user_limits));
		u = &s->user_limits[s->n_user_limits++];
		u->user = xstrdup(user);
		if ((r = berth_limit_parse(&u->limit, json_string_value(v),
					   err)) < 0)
			return berth_error_wrap(err, r, "pull-limit-users '%s'",
						user);
	}
	return 0;
}

int
srv_access_limits(srv *s, const berth_serve_config *c, bool apply,
		  berth_error **err)
{
	berth_limit u, a;
	int r;

	if ((r = berth_limit_parse(&u, c->login_limit, err)) < 0)
		return berth_error_wrap(err, r, "--login-limit");
	if ((r = berth_limit_parse(&a, c->login_limit_address, err)) < 0)
		return berth_error_wrap(err, r, "--login-limit-address");
	if (!apply)
		return 0;
	if (s->fails_user == NULL) {
		s->fails_user = berth_fails_new(&u);
		s->fails_addr = berth_fails_new(&a);
	} else {
		berth_fails_set_limit(s->fails_user, &u);
		berth_fails_set_limit(s->fails_addr, &a);
	}
	berth_rate_set(s->rate, c->rate_limit);
	return 0;
}

/* --metrics-allow: addresses and CIDR ranges, comma-separated. */
static int
parse_metrics_allow(srv *s, berth_error **err)
{
	const char *p = s->cfg.metrics_allow;
	size_t n = 0;

	if (p == NULL)
		return 0;
	s->metrics_allow = xcalloc(strlen(p) / 2 + 2, sizeof(char *));
	while (*p) {
		size_t len = strcspn(p, ",");
		_cleanup_free_ char *e = xstrndup(p, len);
		unsigned char a[16];
		int family, bits;

		if (!(strchr(e, '/')
			      ? berth_cidr_parse(e, &family, a, &bits)
			      : inet_pton(AF_INET, e, a) == 1 ||
					inet_pton(AF_INET6, e, a) == 1)) {
			berth_error_set(err, BERTH_EUSAGE, 0,
					"invalid address '%s' in "
					"--metrics-allow",
					e);
			berth_error_hint(err, "give IP addresses or CIDR "
					      "ranges, comma-separated: "
					      "127.0.0.1,10.0.0.0/8");
			return BERTH_EUSAGE;
		}
		s->metrics_allow[n++] = steal_ptr(&e);
		p += len;
		p += *p == ',';
	}
	return 0;
}

int
srv_setup_access(srv *s, berth_error **err)
{
	int r;

	pthread_mutex_init(&s->live_mu, NULL);
	if ((r = parse_mode(s, err)) < 0 ||
	    (r = build_live(&s->live, s, &s->cfg, &s->policy_given, err)) < 0)
		return r;
	s->access_control =
		s->auth != SRV_AUTH_NONE || s->tls_ca_pem || s->policy_given;
	if (s->access_control && s->tls_cert_pem == NULL &&
	    !loopback(s->cfg.addr) && !s->cfg.insecure_auth) {
		berth_error_set(err, BERTH_EUSAGE, 0,
				"refusing access control over plain HTTP on "
				"'%s': credentials and tokens would cross "
				"the network in clear",
				s->cfg.addr);
		berth_error_hint(err, "serve TLS (--tls-cert, --tls-key), "
				      "listen on 127.0.0.1 behind a TLS "
				      "proxy, or set --insecure-auth");
		return BERTH_EUSAGE;
	}
	if (s->auth == SRV_AUTH_TOKEN && (r = load_keys(s, err)) < 0)
		return r;
	if ((r = parse_pull_limits(s, err)) < 0 ||
	    (r = parse_user_limits(s, err)) < 0)
		return r;
	if ((s->limit_anon.count >= 0 || s->limit_user.count >= 0 ||
	     s->n_user_limits) &&
	    (r = berth_pulls_new(&s->pulls, s->store->meta, err)) < 0)
		return r;
	/* Always there: a reload may turn the rate guard on. */
	s->rate = berth_rate_new(s->cfg.rate_limit);
	if ((r = srv_access_limits(s, &s->cfg, true, err)) < 0 ||
	    (r = parse_metrics_allow(s, err)) < 0)
		return r;
	if (s->auth != SRV_AUTH_NONE && s->cfg.htpasswd)
		s->pwpool = srv_pwpool_new((size_t)s->cfg.login_threads);
	if (s->cfg.audit_log &&
	    (r = berth_audit_open(&s->audit, s->cfg.audit_log, err)) < 0)
		return r;
	return 0;
}

void
srv_flush_counters(srv *s)
{
	berth_error *err = NULL;
	struct timespec ts;

	if (s->pulls == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (berth_pulls_flush(s->pulls,
			      (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
			      &err) < 0) {
		berth_log(BERTH_LOG_WARN, "saving pull counters: %s", err->msg);
		berth_error_free(err);
	}
}

void
srv_teardown_access(srv *s)
{
	size_t i;

	srv_flush_counters(s);
	berth_pulls_free(s->pulls);
	berth_rate_free(s->rate);
	srv_pwpool_free(s->pwpool);
	berth_fails_free(s->fails_user);
	berth_fails_free(s->fails_addr);
	berth_audit_free(s->audit);
	berth_jwt_keys_free(s->keys);
	srv_live_put(s->live);
	s->live = NULL;
	for (i = 0; i < s->n_user_limits; i++)
		free(s->user_limits[i].user);
	free(s->user_limits);
	berth_strv_free(s->metrics_allow);
	s->metrics_allow = NULL;
}
